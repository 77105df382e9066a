import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import type { TenantEntity } from './tenant.entity';

@ObjectType({ implements: Node, description: 'A customer organisation; sees only its own world.' })
export class Tenant implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'Unique, lowercase letters, digits and hyphens.' })
  slug!: string;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  /** The database id. Also what the identity provider puts into the token's tenant claim. */
  @Field(() => String, {
    description:
      "The tenant's uuid: the value an identity provider puts into the token's tenant claim (the tenantId claim, " +
      'or the claim JWT_TENANT_CLAIM names, which also accepts the id or the slug).',
  })
  uuid!: string;

  static from(row: Pick<TenantEntity, 'id' | 'name' | 'slug' | 'createdAt'>): Tenant {
    const t = new Tenant();
    t.id = toGlobalId('Tenant', row.id);
    t.uuid = row.id;
    t.name = row.name;
    t.slug = row.slug;
    t.createdAt = row.createdAt;
    return t;
  }
}

export const TenantConnection = ConnectionType('Tenant', Tenant);
export type TenantConnection = InstanceType<typeof TenantConnection>;

@InputType()
export class CreateTenantInput {
  @Field(() => String, { description: '1 to 200 characters.' })
  name!: string;

  @Field(() => String, { description: 'Lowercase letters, digits and hyphens; 1 to 63 characters; unique.' })
  slug!: string;
}
