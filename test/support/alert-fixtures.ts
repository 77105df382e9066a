/**
 * Fixtures for the alerts suite: the product's clock, the hourly alert evaluation run on demand,
 * offline license-server files signed with a key of the suite's own (so a tenant can "sync" by
 * uploading a license summary and "report" by an acknowledged usage report), and the alert and
 * reporting-clock queries of the public API.
 *
 *   const files = new OfflineLicenseServer('alerts-suite');
 *   await trustKeys(server, [files.publicKeyPem]);
 *   const account = await files.sync(server, tenant, [files.line('L1', 'PREPAID', 5)]);
 *   const { acknowledgedAt } = await files.reportAndAcknowledge(server, tenant);
 */
import { randomUUID } from 'node:crypto';
import { startScheduler, type Scheduler } from '../../src/jobs/scheduler';
import { createLogger } from '../../src/logger';
import { buildAck, buildLicenseSummary, parseUsageReport, type DeviceAck, type LicenseLine } from '../../src/ssm/files/formats';
import { keyPairFromSeed, publicKeyPem, type Ed25519KeyPair } from '../../src/ssm/files/signing';
import { gqlData, type AccountTenant } from './assignment-fixtures';
import type { TestServer } from './harness';
import { base64, download, GENERATE_REPORT, SET_MANAGED, UPLOAD_ACK, UPLOAD_SUMMARY, type SummaryUploadView, type UsageReportView } from './offline-fixtures';

export const DAY_MS = 86_400_000;
/** Never fires on its own during a test (midnight on 1 January): evaluations are run by hand. */
export const NEVER_CRON = '0 0 1 1 *';
export const DNA_A_T1 = 'regid.2020-10.com.cisco.DSTACK_T1_A';

export type AlertKindName =
  | 'SYNC_DUE_SOON'
  | 'SYNC_OVERDUE'
  | 'SYNC_FAILED'
  | 'REPORT_DUE'
  | 'REPORT_UNACKNOWLEDGED'
  | 'OUT_OF_COMPLIANCE'
  | 'LICENSE_EXPIRING'
  | 'UNRECONCILED_ASSIGNMENTS';

export const ALERT_FIELDS = `id kind severity subjectType subjectId message details raisedAt updatedAt
  acknowledgedAt acknowledgedBy resolvedAt active tenant { id }`;

export interface AlertView {
  id: string;
  kind: AlertKindName;
  severity: 'INFO' | 'WARNING' | 'CRITICAL';
  subjectType: string;
  subjectId: string;
  message: string;
  details: Record<string, unknown>;
  raisedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  active: boolean;
  tenant: { id: string } | null;
}

export const ALERTS = `query($tenantId: ID, $active: Boolean, $first: Int, $after: String) {
  alerts(tenantId: $tenantId, active: $active, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${ALERT_FIELDS} } }
  }
}`;
export const ACKNOWLEDGE = `mutation($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`;

const CLOCK_FIELDS = 'lastSyncAt syncDueAt lastPrepaidReportAt prepaidReportDueAt lastPostpaidReportAt postpaidReportDueAt';
export const DASHBOARD = `query($tenantId: ID) {
  licenseDashboard(tenantId: $tenantId) {
    tenant { id }
    alerts { active critical warning unacknowledged byKind { kind count } }
    reportingClock { ${CLOCK_FIELDS} }
  }
}`;
export const SYNC_SETTINGS = `query { licenseSyncSettings { syncRequiredDays prepaidReportMonths postpaidReportMonths reportingClock { ${CLOCK_FIELDS} } } }`;

export interface ReportingClockView {
  lastSyncAt: string | null;
  syncDueAt: string | null;
  lastPrepaidReportAt: string | null;
  prepaidReportDueAt: string | null;
  lastPostpaidReportAt: string | null;
  postpaidReportDueAt: string | null;
}
export interface AlertSummaryView {
  active: number;
  critical: number;
  warning: number;
  unacknowledged: number;
  byKind: { kind: AlertKindName; count: number }[];
}
export interface DashboardView {
  tenant: { id: string } | null;
  alerts: AlertSummaryView;
  reportingClock: ReportingClockView | null;
}
export interface SyncSettingsView {
  syncRequiredDays: number;
  prepaidReportMonths: number;
  postpaidReportMonths: number;
  reportingClock: ReportingClockView | null;
}

interface AlertPage {
  alerts: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: AlertView }[] };
}

/** Every alert the token may see (all pages), optionally of one tenant and active or not. */
export async function listAlerts(
  server: TestServer,
  token: string,
  filter: { tenantId?: string; active?: boolean } = {},
): Promise<AlertView[]> {
  const out: AlertView[] = [];
  let after: string | null = null;
  for (;;) {
    const page: AlertPage = await gqlData<AlertPage>(server, ALERTS, { ...filter, first: 100, after }, token);
    out.push(...page.alerts.edges.map((e) => e.node));
    if (!page.alerts.pageInfo.hasNextPage) return out;
    after = page.alerts.pageInfo.endCursor;
  }
}

/**
 * "KIND subject" of each alert, sorted: the subject is `tenant` for the tenant itself, else the
 * billing type or the global id of the license or usage report it is about.
 */
export function keysOf(alerts: AlertView[], tenant: { id: string }): string[] {
  return alerts.map((a) => `${a.kind} ${a.subjectType === 'Tenant' && a.subjectId === tenant.id ? 'tenant' : a.subjectId}`).sort();
}

/** The active alerts of a tenant as its own admin sees them, as sorted "KIND subject" keys. */
export async function activeKeys(server: TestServer, tenant: AccountTenant): Promise<string[]> {
  return keysOf(await listAlerts(server, tenant.admin, { active: true }), tenant);
}

/** The one alert of a kind (and subject) among the tenant's alerts; throws if there is not exactly one. */
export function theAlert(alerts: AlertView[], kind: AlertKindName, subjectId?: string): AlertView {
  const found = alerts.filter((a) => a.kind === kind && (subjectId === undefined || a.subjectId === subjectId));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${subjectId ?? ''} alert, found ${found.length}`);
  return found[0];
}

export async function dashboardOf(server: TestServer, token: string, tenantId?: string): Promise<DashboardView> {
  return (await gqlData<{ licenseDashboard: DashboardView }>(server, DASHBOARD, { tenantId }, token)).licenseDashboard;
}

export async function syncSettingsOf(server: TestServer, token: string): Promise<SyncSettingsView> {
  return (await gqlData<{ licenseSyncSettings: SyncSettingsView }>(server, SYNC_SETTINGS, {}, token)).licenseSyncSettings;
}

/** The hourly evaluation of every tenant, on the test server's database and clock, run by hand. */
export function startAlertScheduler(server: TestServer): Promise<Scheduler> {
  return startScheduler({ db: server.db, runtime: server.runtime, log: createLogger('silent'), cron: NEVER_CRON });
}

/** Moves the product's clock forward by whole days. */
export function advanceDays(server: TestServer, days: number): void {
  server.runtime.clock.advance(days * DAY_MS);
}

/** Calendar months added in UTC, the way a due date "every N months" is meant (31 Jan + 1 month = 3 Mar). */
export function plusMonths(at: Date, months: number): Date {
  const d = new Date(at.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

export function plusDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

export interface SyncedAccount {
  accountId: string;
  /** External id of the one virtual account, and its global id here. */
  vaExternalId: string;
  vaId: string;
  upload: SummaryUploadView;
}

/**
 * The license server of the offline round trip, played by the test: license summaries and ACKs
 * signed with a key of its own, dated by the product's clock (the time of the world the test runs in).
 */
export class OfflineLicenseServer {
  readonly keys: Ed25519KeyPair;
  readonly publicKeyPem: string;
  private readonly serials = new Map<string, number>();

  constructor(seed: string) {
    this.keys = keyPairFromSeed(seed);
    this.publicKeyPem = publicKeyPem(this.keys.publicKey);
  }

  /** A term license line, far from ending: prepaid a-la-carte or postpaid MSLA usage. */
  line(lineId: string, billingType: 'PREPAID' | 'POSTPAID', quantity: number, overrides: Partial<LicenseLine> = {}): LicenseLine {
    return {
      lineId,
      entitlementTag: DNA_A_T1,
      billingType,
      billingModel: billingType === 'PREPAID' ? 'A_LA_CARTE' : 'MSLA_U',
      subscriptionId: `Sub-${lineId}`,
      licenseType: 'TERM',
      quantity,
      inUse: 0,
      startDate: '2025-01-01',
      endDate: '2099-12-31',
      ...overrides,
    };
  }

  /**
   * A sync, offline: the tenant's license summary (smart account SA-<slug>, one virtual account
   * VA-<slug> holding `lines`) uploaded by a provider admin, then that virtual account managed here.
   */
  async sync(server: TestServer, tenant: AccountTenant, lines: LicenseLine[]): Promise<SyncedAccount> {
    const accountId = `SA-${tenant.slug.toUpperCase()}`;
    const vaExternalId = `VA-${tenant.slug.toUpperCase()}`;
    const serial = (this.serials.get(accountId) ?? 0) + 1;
    this.serials.set(accountId, serial);
    const file = await buildLicenseSummary(
      {
        smartAccount: { accountId, domain: `${tenant.slug}.example`, name: `Account ${tenant.slug}` },
        serial,
        generatedAt: server.runtime.clock.now().toISOString(),
        virtualAccounts: [{ id: vaExternalId, name: `Pool ${tenant.slug}`, licenses: lines }],
      },
      this.keys.privateKey,
    );
    const upload = (
      await gqlData<{ uploadLicenseSummary: SummaryUploadView }>(
        server,
        UPLOAD_SUMMARY,
        { input: { tenantId: tenant.id, fileName: 'summary.tar.gz', contentBase64: base64(file) } },
        server.token('PROVIDER_ADMIN'),
      )
    ).uploadLicenseSummary;
    if (upload.syncRun.status !== 'SUCCEEDED') throw new Error(`summary upload: sync run ${upload.syncRun.status}`);
    const va = upload.smartAccount.virtualAccounts.find((v) => v.externalId === vaExternalId);
    if (!va) throw new Error(`summary upload: no virtual account ${vaExternalId}`);
    if (!va.managed) await gqlData(server, SET_MANAGED, { input: { tenantId: tenant.id, virtualAccountIds: [va.id] } }, server.token('PROVIDER_ADMIN'));
    tenant.va[vaExternalId] = va.id;
    return { accountId, vaExternalId, vaId: va.id, upload };
  }

  /** Offline step 3: the tenant admin generates the usage report file and downloads it. */
  async report(server: TestServer, tenant: AccountTenant): Promise<{ report: UsageReportView; file: Buffer }> {
    const report = (await gqlData<{ generateUsageReport: UsageReportView }>(server, GENERATE_REPORT, { input: {} }, tenant.admin)).generateUsageReport;
    if (!report.downloadUrl) throw new Error(`usage report ${report.id} has no downloadUrl`);
    const res = await download(server, report.downloadUrl, tenant.admin);
    if (res.status !== 200) throw new Error(`download of ${report.downloadUrl}: HTTP ${res.status}`);
    return { report, file: res.body };
  }

  /**
   * Offline step 4: the license server imports the report file and signs an ACK for every device
   * in it, dated now on the product's clock; the tenant admin uploads it.
   */
  async acknowledge(server: TestServer, tenant: AccountTenant, file: Buffer): Promise<{ report: UsageReportView; acknowledgedAt: Date }> {
    const parsed = await parseUsageReport(file);
    const perDevice = new Map<string, DeviceAck>();
    for (const m of parsed.measurements) {
      const d = perDevice.get(m.deviceUuid) ?? { deviceUuid: m.deviceUuid, hostname: m.hostname, measurements: 0, status: 'ACCEPTED' as const };
      d.measurements += 1;
      perDevice.set(m.deviceUuid, d);
    }
    const acknowledgedAt = server.runtime.clock.now();
    const ack = await buildAck(
      {
        ackId: randomUUID(),
        reportId: parsed.manifest.reportId,
        reportDigest: parsed.digest,
        acknowledgedAt: acknowledgedAt.toISOString(),
        smartAccount: parsed.manifest.smartAccount ?? { accountId: `SA-${tenant.slug.toUpperCase()}`, name: `Account ${tenant.slug}` },
        virtualAccount: parsed.manifest.virtualAccount ?? { id: `VA-${tenant.slug.toUpperCase()}`, name: `Pool ${tenant.slug}` },
        measurements: parsed.measurements.length,
        devices: [...perDevice.values()],
      },
      this.keys.privateKey,
    );
    const report = (
      await gqlData<{ uploadAcknowledgement: UsageReportView }>(
        server,
        UPLOAD_ACK,
        { input: { fileName: 'ack.tar.gz', contentBase64: base64(ack) } },
        tenant.admin,
      )
    ).uploadAcknowledgement;
    if (report.status !== 'ACKNOWLEDGED') throw new Error(`ACK upload: report ${report.status}`);
    return { report, acknowledgedAt };
  }

  /** The whole report + ACK round trip; returns when the license server acknowledged it. */
  async reportAndAcknowledge(server: TestServer, tenant: AccountTenant): Promise<{ report: UsageReportView; acknowledgedAt: Date }> {
    const { file } = await this.report(server, tenant);
    return this.acknowledge(server, tenant, file);
  }
}
