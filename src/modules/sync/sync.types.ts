import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { GraphQLUpload, type UploadedFile } from '../../common/upload';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import { ReportingClock } from '../alerts/alert.types';
import { SmartAccount } from '../accounts/account.types';
import { Tenant } from '../tenants/tenant.types';
import { SyncMode, SyncRunStatus, SyncTrigger, UsageReportStatus, UsageReportVia } from './sync.enums';

export interface SyncRunRow {
  id: string;
  tenant_id: string;
  mode: SyncMode;
  trigger: SyncTrigger;
  status: SyncRunStatus;
  started_at: string;
  finished_at: string | null;
  requested_by: string;
  lines_added: number;
  lines_changed: number;
  lines_removed: number;
  assignments_pending: number;
  assignments_reconciled: number;
  usage_reported: number;
  error_message: string | null;
}

export const SYNC_RUN_COLUMNS = `r.id, r.tenant_id, r.mode, r.trigger, r.status, to_json(r.started_at) #>> '{}' as started_at,
  to_json(r.finished_at) #>> '{}' as finished_at, r.requested_by, r.lines_added, r.lines_changed, r.lines_removed,
  r.assignments_pending, r.assignments_reconciled, r.usage_reported, r.error_message`;

@ObjectType({ implements: Node, description: 'One synchronisation with the license server (or one accepted summary file).' })
export class SyncRun implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => SyncMode)
  mode!: SyncMode;

  @Field(() => SyncTrigger)
  trigger!: SyncTrigger;

  @Field(() => SyncRunStatus)
  status!: SyncRunStatus;

  @Field(() => GraphQLDateTime)
  startedAt!: Date;

  @Field(() => GraphQLDateTime, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => String)
  requestedBy!: string;

  @Field(() => Int)
  linesAdded!: number;

  @Field(() => Int)
  linesChanged!: number;

  @Field(() => Int)
  linesRemoved!: number;

  @Field(() => Int, { description: 'Assignments of vanished lines, now pending reconciliation.' })
  assignmentsPending!: number;

  @Field(() => Int)
  assignmentsReconciled!: number;

  @Field(() => Int, { description: 'Usage measurements reported and acknowledged.' })
  usageReported!: number;

  @Field(() => String, { nullable: true })
  errorMessage!: string | null;

  tenantId!: string;

  static from(row: SyncRunRow): SyncRun {
    const r = new SyncRun();
    r.id = toGlobalId('SyncRun', row.id);
    r.tenantId = row.tenant_id;
    r.mode = row.mode;
    r.trigger = row.trigger;
    r.status = row.status;
    r.startedAt = new Date(row.started_at);
    r.finishedAt = row.finished_at ? new Date(row.finished_at) : null;
    r.requestedBy = row.requested_by;
    r.linesAdded = row.lines_added;
    r.linesChanged = row.lines_changed;
    r.linesRemoved = row.lines_removed;
    r.assignmentsPending = row.assignments_pending;
    r.assignmentsReconciled = row.assignments_reconciled;
    r.usageReported = row.usage_reported;
    r.errorMessage = row.error_message;
    return r;
  }
}

export const SyncRunConnection = ConnectionType('SyncRun', SyncRun);
export type SyncRunConnection = InstanceType<typeof SyncRunConnection>;

@ObjectType()
export class TrustedSigningKey {
  @Field(() => String)
  keyId!: string;

  @Field(() => String, { description: 'Ed25519 public key, PEM.' })
  publicKey!: string;
}

@ObjectType({ description: 'How this instance talks to the license server. Secrets are never returned.' })
export class LicenseSyncSettings {
  @Field(() => SyncMode)
  mode!: SyncMode;

  @Field(() => String, { nullable: true, description: 'Providers only; null for tenant users.' })
  serverUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'Providers only; null for tenant users.' })
  clientId!: string | null;

  @Field(() => Boolean, { description: 'A client secret is stored (encrypted).' })
  hasCredentials!: boolean;

  @Field(() => String, { nullable: true, description: 'Proxy for all license-server traffic, without credentials. Providers only.' })
  proxyUrl!: string | null;

  @Field(() => Boolean)
  hasProxyCredentials!: boolean;

  @Field(() => Int)
  syncIntervalMinutes!: number;

  @Field(() => [TrustedSigningKey], { description: 'Keys whose signatures on offline files are trusted.' })
  trustedSigningKeys!: TrustedSigningKey[];

  @Field(() => SyncRun, { nullable: true, description: 'The latest run (the viewer\'s tenant, or any tenant for providers).' })
  lastSync!: SyncRun | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the scheduler next syncs the viewer\'s tenant (online and on-prem).' })
  nextSyncAt!: Date | null;

  @Field(() => ReportingClock, { nullable: true, description: 'The viewer\'s tenant: last sync and reports, next due dates.' })
  reportingClock!: ReportingClock | null;

  @Field(() => Int)
  syncRequiredDays!: number;

  @Field(() => Int)
  prepaidReportMonths!: number;

  @Field(() => Int)
  postpaidReportMonths!: number;
}

@InputType()
export class SetLicenseSyncModeInput {
  @Field(() => SyncMode)
  mode!: SyncMode;

  @Field(() => String, { nullable: true, description: 'License server URL (ONLINE: cloud; ON_PREM: the on-prem server).' })
  serverUrl?: string | null;

  @Field(() => String, { nullable: true })
  clientId?: string | null;

  @Field(() => String, { nullable: true, description: 'Write-only. Omit to keep the stored one.' })
  clientSecret?: string | null;

  @Field(() => String, { nullable: true, description: 'http(s)://host:port; empty string removes the proxy.' })
  proxyUrl?: string | null;

  @Field(() => String, { nullable: true })
  proxyUsername?: string | null;

  @Field(() => String, { nullable: true, description: 'Write-only.' })
  proxyPassword?: string | null;

  @Field(() => Int, { nullable: true, description: 'Minutes between scheduled syncs (default 1440 = 24 h).' })
  syncIntervalMinutes?: number | null;

  @Field(() => [String], { nullable: true, description: 'Ed25519 public keys (PEM) trusted for offline files; replaces the list.' })
  trustedSigningKeys?: string[] | null;

  @Field(() => Int, { nullable: true, description: 'Days between required syncs (default 90).' })
  syncRequiredDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'SYNC_DUE_SOON this many days before (default 7).' })
  syncDueSoonDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'Prepaid usage reporting period in months (default 3).' })
  prepaidReportMonths?: number | null;

  @Field(() => Int, { nullable: true, description: 'Postpaid usage reporting period in months (default 1).' })
  postpaidReportMonths?: number | null;

  @Field(() => Int, { nullable: true, description: 'LICENSE_EXPIRING this many days before the end (default 30).' })
  licenseExpiringDays?: number | null;
}

@InputType()
export class SynchronizeLicensesInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;
}

@InputType()
export class UploadFileInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => String, { nullable: true, description: 'For the audit trail only; never used as a path.' })
  fileName?: string | null;

  @Field(() => GraphQLUpload, {
    nullable: true,
    description: 'The file as the file part of a multipart request (GraphQL multipart request spec); at most 10 MB. Give this or contentBase64.',
  })
  file?: UploadedFile | null;

  @Field(() => String, {
    nullable: true,
    description: 'The file, base64-encoded, inside the JSON request (limited to MAX_BODY_BYTES, 4 MiB by default): for small files. Give this or file.',
  })
  contentBase64?: string | null;
}

@ObjectType()
export class LicenseSummaryUpload {
  @Field(() => SmartAccount)
  smartAccount!: SmartAccount;

  @Field(() => Int)
  serial!: number;

  @Field(() => GraphQLDateTime)
  generatedAt!: Date;

  @Field(() => SyncRun)
  syncRun!: SyncRun;
}

export interface UsageReportRow {
  id: string;
  tenant_id: string;
  via: UsageReportVia;
  smart_account_id: string | null;
  virtual_account_id: string | null;
  period_start: string;
  period_end: string;
  generated_at: string;
  generated_by: string;
  measurements: number;
  file_digest: string | null;
  file_size: number | null;
  status: UsageReportStatus;
  ack_id: string | null;
  acknowledged_at: string | null;
  ack_smart_account: string | null;
  ack_virtual_account: string | null;
}

export const USAGE_REPORT_COLUMNS = `u.id, u.tenant_id, u.via, u.smart_account_id, u.virtual_account_id,
  to_json(u.period_start) #>> '{}' as period_start, to_json(u.period_end) #>> '{}' as period_end,
  to_json(u.generated_at) #>> '{}' as generated_at, u.generated_by, u.measurements, u.file_digest, u.file_size,
  u.status, u.ack_id, to_json(u.acknowledged_at) #>> '{}' as acknowledged_at, u.ack_smart_account, u.ack_virtual_account`;

@ObjectType({ implements: Node, description: 'Usage reported (online) or a usage report file (offline) and its acknowledgement.' })
export class UsageReport implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => UsageReportVia)
  via!: UsageReportVia;

  @Field(() => UsageReportStatus)
  status!: UsageReportStatus;

  @Field(() => GraphQLDateTime)
  periodStart!: Date;

  @Field(() => GraphQLDateTime)
  periodEnd!: Date;

  @Field(() => GraphQLDateTime)
  generatedAt!: Date;

  @Field(() => String)
  generatedBy!: string;

  @Field(() => Int)
  measurements!: number;

  @Field(() => String, { nullable: true, description: 'sha256 of the file (offline reports).' })
  fileDigest!: string | null;

  @Field(() => Int, { nullable: true })
  fileSize!: number | null;

  @Field(() => String, { nullable: true, description: 'GET with the same bearer token (offline reports).' })
  downloadUrl!: string | null;

  @Field(() => String, { nullable: true })
  ackId!: string | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Smart account named by the acknowledgement.' })
  acknowledgedSmartAccount!: string | null;

  @Field(() => String, { nullable: true, description: 'Virtual account named by the acknowledgement.' })
  acknowledgedVirtualAccount!: string | null;

  tenantId!: string;

  static from(row: UsageReportRow): UsageReport {
    const u = new UsageReport();
    u.id = toGlobalId('UsageReport', row.id);
    u.tenantId = row.tenant_id;
    u.via = row.via;
    u.status = row.status;
    u.periodStart = new Date(row.period_start);
    u.periodEnd = new Date(row.period_end);
    u.generatedAt = new Date(row.generated_at);
    u.generatedBy = row.generated_by;
    u.measurements = row.measurements;
    u.fileDigest = row.file_digest;
    u.fileSize = row.file_size;
    u.downloadUrl = row.file_size !== null ? `/files/usage-reports/${u.id}` : null;
    u.ackId = row.ack_id;
    u.acknowledgedAt = row.acknowledged_at ? new Date(row.acknowledged_at) : null;
    u.acknowledgedSmartAccount = row.ack_smart_account;
    u.acknowledgedVirtualAccount = row.ack_virtual_account;
    return u;
  }
}

export const UsageReportConnection = ConnectionType('UsageReport', UsageReport);
export type UsageReportConnection = InstanceType<typeof UsageReportConnection>;

@InputType()
export class GenerateUsageReportInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Report against this virtual account; needed when several are managed.' })
  virtualAccountId?: string | null;
}
