import { Field, ObjectType } from 'type-graphql';
import { Role } from '../../auth/roles';
import { Tenant } from '../tenants/tenant.types';

@ObjectType('Viewer', { description: 'The caller, as the verified token describes it.' })
export class ViewerInfo {
  @Field(() => String)
  subject!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => Tenant, { nullable: true, description: 'The tenant of a tenant role; null for provider roles.' })
  tenant!: Tenant | null;
}
