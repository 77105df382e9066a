import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import { Tenant } from '../tenants/tenant.types';
import { AlertKind, AlertSeverity } from './alert.enums';

export interface AlertRow {
  id: string;
  tenant_id: string | null;
  kind: AlertKind;
  severity: AlertSeverity;
  subject_type: string;
  subject_id: string;
  message: string;
  details: Record<string, unknown>;
  raised_at: string;
  updated_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
}

export const ALERT_COLUMNS = `al.id, al.tenant_id, al.kind, al.severity, al.subject_type, al.subject_id, al.message, al.details,
  to_json(al.raised_at) #>> '{}' as raised_at, to_json(al.updated_at) #>> '{}' as updated_at,
  to_json(al.acknowledged_at) #>> '{}' as acknowledged_at, al.acknowledged_by, to_json(al.resolved_at) #>> '{}' as resolved_at`;

@ObjectType({ implements: Node, description: 'A condition that needs attention; open until it clears.' })
export class Alert implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant, { nullable: true, description: 'Null for provider-wide alerts.' })
  tenant!: Tenant | null;

  @Field(() => AlertKind)
  kind!: AlertKind;

  @Field(() => AlertSeverity)
  severity!: AlertSeverity;

  @Field(() => String, { description: 'What it is about within its kind: Tenant, BillingType, License, UsageReport, SyncRun.' })
  subjectType!: string;

  @Field(() => String, { description: 'The subject: a global id, a billing type, or the tenant id.' })
  subjectId!: string;

  @Field(() => String)
  message!: string;

  @Field(() => GraphQLJSONObject)
  details!: Record<string, unknown>;

  @Field(() => GraphQLDateTime)
  raisedAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;

  @Field(() => GraphQLDateTime, { nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true })
  acknowledgedBy!: string | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the condition cleared; null while active.' })
  resolvedAt!: Date | null;

  @Field(() => Boolean)
  active!: boolean;

  tenantId!: string | null;
  dbId!: string;

  static from(row: AlertRow): Alert {
    const a = new Alert();
    a.id = toGlobalId('Alert', row.id);
    a.dbId = row.id;
    a.tenantId = row.tenant_id;
    a.kind = row.kind;
    a.severity = row.severity;
    a.subjectType = row.subject_type;
    a.subjectId = row.subject_id;
    a.message = row.message;
    a.details = row.details;
    a.raisedAt = new Date(row.raised_at);
    a.updatedAt = new Date(row.updated_at);
    a.acknowledgedAt = row.acknowledged_at ? new Date(row.acknowledged_at) : null;
    a.acknowledgedBy = row.acknowledged_by;
    a.resolvedAt = row.resolved_at ? new Date(row.resolved_at) : null;
    a.active = row.resolved_at === null;
    return a;
  }
}

export const AlertConnection = ConnectionType('Alert', Alert);
export type AlertConnection = InstanceType<typeof AlertConnection>;

// simpleResolvers: see Device (a provider's dashboard answers 5,000 of these per request).
@ObjectType({ simpleResolvers: true })
export class AlertKindCount {
  @Field(() => AlertKind)
  kind!: AlertKind;

  @Field(() => Int)
  count!: number;
}

// simpleResolvers: see Device (a provider's dashboard answers 5,000 of these per request).
@ObjectType({ description: 'Active alerts.', simpleResolvers: true })
export class AlertSummary {
  @Field(() => Int)
  active!: number;

  @Field(() => Int)
  critical!: number;

  @Field(() => Int)
  warning!: number;

  @Field(() => Int)
  unacknowledged!: number;

  @Field(() => [AlertKindCount])
  byKind!: AlertKindCount[];
}

@ObjectType({ description: 'When the tenant last synced and reported, and when it must next.' })
export class ReportingClock {
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Last successful sync or acknowledged report.' })
  lastSyncAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  syncDueAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  lastPrepaidReportAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Null when no prepaid license is in use.' })
  prepaidReportDueAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  lastPostpaidReportAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Null when no postpaid license is in use.' })
  postpaidReportDueAt!: Date | null;
}
