import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import { Role } from '../../auth/roles';
import { Tenant } from '../tenants/tenant.types';

export interface AuditEventRow {
  id: string;
  tenant_id: string | null;
  actor_subject: string;
  actor_role: Role;
  action: string;
  target_type: string;
  target_ids: string[];
  details: Record<string, unknown>;
  /** ISO 8601 with milliseconds (the column's precision), so it can sit in a cursor as is. */
  created_at: string;
}

@ObjectType({ implements: Node, description: 'Who changed what, when. Append-only.' })
export class AuditEvent implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant, { nullable: true, description: 'Null for provider-wide changes such as sync settings.' })
  tenant!: Tenant | null;

  @Field(() => String)
  actorSubject!: string;

  @Field(() => Role)
  actorRole!: Role;

  @Field(() => String, { description: 'e.g. licenses.assigned, licenses.released, accounts.configured' })
  action!: string;

  @Field(() => String, { description: 'Node type of the targets, e.g. Device.' })
  targetType!: string;

  @Field(() => [ID], { description: 'Global ids of the targets.' })
  targetIds!: string[];

  @Field(() => GraphQLJSONObject)
  details!: Record<string, unknown>;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  tenantId!: string | null;

  static from(row: AuditEventRow): AuditEvent {
    const e = new AuditEvent();
    e.id = toGlobalId('AuditEvent', row.id);
    e.tenantId = row.tenant_id;
    e.actorSubject = row.actor_subject;
    e.actorRole = row.actor_role;
    e.action = row.action;
    e.targetType = row.target_type;
    e.targetIds = row.target_ids.map((id) => toGlobalId(row.target_type as never, id));
    e.details = row.details;
    e.createdAt = new Date(row.created_at);
    return e;
  }
}

export const AuditEventConnection = ConnectionType('AuditEvent', AuditEvent);
export type AuditEventConnection = InstanceType<typeof AuditEventConnection>;
