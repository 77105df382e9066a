import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import type { TenantEntity } from './tenant.entity';
import { TenantStatus } from './tenant.enums';

// simpleResolvers: see Device (a provider's dashboard answers 5,000 of these per request).
@ObjectType({ implements: Node, description: 'A customer organisation; sees only its own world.', simpleResolvers: true })
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

  @Field(() => TenantStatus)
  status!: TenantStatus;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'When a provider suspended the tenant; null while ACTIVE.' })
  suspendedAt!: Date | null;

  static from(row: Pick<TenantEntity, 'id' | 'name' | 'slug' | 'createdAt' | 'status' | 'suspendedAt'>): Tenant {
    const t = new Tenant();
    t.id = toGlobalId('Tenant', row.id);
    t.uuid = row.id;
    t.name = row.name;
    t.slug = row.slug;
    t.createdAt = row.createdAt;
    t.status = row.status;
    t.suspendedAt = row.suspendedAt;
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

@InputType()
export class UpdateTenantInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: '1 to 200 characters (trimmed). The slug never changes.' })
  name!: string;
}

@InputType()
export class TenantIdInput {
  @Field(() => ID)
  id!: string;
}

@InputType()
export class DeleteTenantInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The tenant's slug, typed again: a guard against deleting the wrong tenant." })
  confirmSlug!: string;

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Delete even though usage since the last acknowledged usage report was never reported (it is then lost).',
  })
  force!: boolean;
}

@ObjectType({ description: 'Rows of one table removed with a tenant.' })
export class RemovedRows {
  @Field(() => String)
  table!: string;

  @Field(() => Int)
  rows!: number;
}

@ObjectType()
export class DeleteTenantPayload {
  @Field(() => ID, { description: 'The id the tenant had.' })
  id!: string;

  @Field(() => String)
  uuid!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [RemovedRows], { description: 'Every tenant-owned table that held rows of the tenant, with how many were removed.' })
  removed!: RemovedRows[];

  @Field(() => Int, { description: 'All rows removed, the tenant row included.' })
  removedTotal!: number;

  @Field(() => Int, { description: 'Devices whose usage since the last acknowledged report was never reported (force only).' })
  unreportedDevices!: number;

  @Field(() => ID, { description: 'The provider-level audit event that records the deletion (it outlives the tenant).' })
  auditEventId!: string;
}
