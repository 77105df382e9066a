import { randomUUID } from 'node:crypto';
import type { Scheduler } from '../src/jobs/scheduler';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import {
  addDevices,
  addLines,
  assign,
  configureAccounts,
  createTrialTenant,
  day,
  gqlData,
  gqlError,
  type AccountTenant,
} from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { addLicenses, configureAccount, licenseLine } from './support/license-fixtures';
import { trustKeys } from './support/offline-fixtures';
import { addSimAccount, simAccount, simLine, synchronize, useLicenseServer, type SyncRunView } from './support/sync-fixtures';
import {
  ACKNOWLEDGE,
  activeKeys,
  advanceDays,
  dashboardOf,
  DAY_MS,
  DNA_A_T1,
  keysOf,
  listAlerts,
  OfflineLicenseServer,
  plusDays,
  plusMonths,
  startAlertScheduler,
  syncSettingsOf,
  theAlert,
  type AlertView,
  type ReportingClockView,
} from './support/alert-fixtures';

/**
 * Alerts and the reporting clock, end to end: the real server and PostgreSQL, tenants that "sync"
 * offline (signed license summaries) and report usage (report file + signed ACK), the product's
 * clock moved over the 90-day, monthly and quarterly boundaries, and the hourly evaluation run by
 * hand through a real pg-boss scheduler on the test server's database and clock.
 *
 * Every expectation on alerts is the EXACT set of a tenant's active alerts, as sorted
 * "KIND subject" keys (subject `tenant` for the tenant itself).
 */

const alertGlobalId = (uuid: string): string => Buffer.from(`Alert:${uuid}`, 'utf8').toString('base64url');
const iso = (value: string | Date | null): string | null => (value === null ? null : new Date(value).toISOString());
const isoClock = (c: ReportingClockView | null): Record<string, string | null> | null =>
  c && Object.fromEntries(Object.entries(c).map(([k, v]) => [k, iso(v as string | null)]));

describe('alerts and the reporting clock of offline tenants', () => {
  const files = new OfflineLicenseServer('alerts-suite-license-server');
  let server: TestServer;
  let scheduler: Scheduler;
  let seq = 0;
  const slug = (label: string): string => `al-${label}-${++seq}`;

  beforeAll(async () => {
    server = await startTestServer();
    await trustKeys(server, [files.publicKeyPem]);
    scheduler = await startAlertScheduler(server);
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server?.close();
  });
  // Each test starts at the real time and moves the clock itself; its tenants are its own.
  beforeEach(() => server.runtime.clock.reset());

  /** The hourly evaluation, now: every tenant, on the product's clock. */
  const evaluate = async (): Promise<void> => {
    await scheduler.evaluateAlerts();
  };

  interface Reported {
    tenant: AccountTenant;
    /** When the license server acknowledged the tenant's usage report (its last sync and report). */
    reportedAt: Date;
  }

  /** A tenant synced at t0, two devices holding `billing` licenses, and their usage acknowledged. */
  async function syncedAndReported(label: string, billing: 'PREPAID' | 'POSTPAID'): Promise<Reported> {
    const tenant = await createTrialTenant(server, slug(label));
    await files.sync(server, tenant, [files.line(`${tenant.slug}-L1`, billing, 5)]);
    const devices = await addDevices(server, tenant, 2);
    const assigned = await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1', billingType: billing });
    if (assigned.assigned !== 2 || assigned.pending !== 0) throw new Error(`arranging ${label}: ${JSON.stringify(assigned)}`);
    const { acknowledgedAt } = await files.reportAndAcknowledge(server, tenant);
    return { tenant, reportedAt: acknowledgedAt };
  }

  async function prepaidAndPostpaid(label: string): Promise<{ prepaid: Reported; postpaid: Reported }> {
    return { prepaid: await syncedAndReported(`${label}-pre`, 'PREPAID'), postpaid: await syncedAndReported(`${label}-post`, 'POSTPAID') };
  }

  describe('the reporting clock', () => {
    it('raises REPORT_DUE POSTPAID after a month, SYNC_DUE_SOON at 84 days, SYNC_OVERDUE at 91 days (resolving SYNC_DUE_SOON) and REPORT_DUE PREPAID after a quarter', async () => {
      const { prepaid, postpaid } = await prepaidAndPostpaid('clock');
      const [P, Q] = [prepaid.tenant, postpaid.tenant];
      await evaluate();
      expect(await activeKeys(server, P)).toEqual([]);
      expect(await activeKeys(server, Q)).toEqual([]);

      // +32 days: past one month (at most 31 days), well before a quarter and the 83-day warning.
      advanceDays(server, 32);
      await evaluate();
      expect(await activeKeys(server, P)).toEqual([]);
      expect(await activeKeys(server, Q)).toEqual(['REPORT_DUE POSTPAID']);
      const postpaidDue = theAlert(await listAlerts(server, Q.admin, { active: true }), 'REPORT_DUE', 'POSTPAID');
      expect(postpaidDue).toMatchObject({ severity: 'WARNING', subjectType: 'BillingType', acknowledgedAt: null, resolvedAt: null, active: true });
      expect(postpaidDue.details).toMatchObject({ billingType: 'POSTPAID', dueAt: plusMonths(postpaid.reportedAt, 1).toISOString() });

      // +84 days: within 7 days of the 90-day sync deadline.
      advanceDays(server, 52);
      await evaluate();
      expect(await activeKeys(server, P)).toEqual(['SYNC_DUE_SOON tenant']);
      expect(await activeKeys(server, Q)).toEqual(['REPORT_DUE POSTPAID', 'SYNC_DUE_SOON tenant']);
      const pAlerts84 = await listAlerts(server, P.admin, { active: true });
      const dueSoon = theAlert(pAlerts84, 'SYNC_DUE_SOON');
      expect(dueSoon).toMatchObject({ severity: 'WARNING', subjectType: 'Tenant', subjectId: P.id, tenant: { id: P.id } });
      expect(dueSoon.details).toMatchObject({ dueAt: plusDays(prepaid.reportedAt, 90).toISOString() });
      // Still the alert raised at +32 days, not a second one.
      expect(theAlert(await listAlerts(server, Q.admin, { active: true }), 'REPORT_DUE', 'POSTPAID').id).toBe(postpaidDue.id);

      // +91 days: the sync is overdue. Three calendar months are 89 to 92 days, so whether the
      // prepaid quarter has also passed depends on today's date.
      advanceDays(server, 7);
      await evaluate();
      const quarterPassed = server.runtime.clock.now() >= plusMonths(prepaid.reportedAt, 3);
      expect(await activeKeys(server, P)).toEqual(['SYNC_OVERDUE tenant', ...(quarterPassed ? ['REPORT_DUE PREPAID'] : [])].sort());
      expect(await activeKeys(server, Q)).toEqual(['REPORT_DUE POSTPAID', 'SYNC_OVERDUE tenant']);
      const overdue = theAlert(await listAlerts(server, P.admin, { active: true }), 'SYNC_OVERDUE');
      expect(overdue).toMatchObject({ severity: 'CRITICAL', subjectType: 'Tenant', subjectId: P.id });
      expect(overdue.message).toMatch(/for 91 days \(required every 90\)/);
      const resolvedDueSoon = (await listAlerts(server, P.admin, { active: false })).find((a) => a.id === dueSoon.id);
      expect(resolvedDueSoon).toMatchObject({ kind: 'SYNC_DUE_SOON', active: false });
      const resolvedAt = new Date(resolvedDueSoon?.resolvedAt ?? 0);
      expect(resolvedAt >= plusDays(prepaid.reportedAt, 91) && resolvedAt <= server.runtime.clock.now()).toBe(true);

      // +93 days: past any quarter.
      advanceDays(server, 2);
      await evaluate();
      expect(await activeKeys(server, P)).toEqual(['REPORT_DUE PREPAID', 'SYNC_OVERDUE tenant']);
      expect(await activeKeys(server, Q)).toEqual(['REPORT_DUE POSTPAID', 'SYNC_OVERDUE tenant']);
      const prepaidDue = theAlert(await listAlerts(server, P.admin, { active: true }), 'REPORT_DUE', 'PREPAID');
      expect(prepaidDue).toMatchObject({ severity: 'WARNING', subjectType: 'BillingType' });
      expect(prepaidDue.details).toMatchObject({ billingType: 'PREPAID', dueAt: plusMonths(prepaid.reportedAt, 3).toISOString() });
    });

    it('resolves SYNC_OVERDUE and REPORT_DUE once a new usage report is acknowledged (the offline round trip counts as a sync)', async () => {
      const { prepaid, postpaid } = await prepaidAndPostpaid('reack');
      advanceDays(server, 93);
      await evaluate();
      const open = new Map<AccountTenant, AlertView[]>();
      for (const r of [prepaid, postpaid]) open.set(r.tenant, await listAlerts(server, r.tenant.admin, { active: true }));
      expect(keysOf(open.get(prepaid.tenant) ?? [], prepaid.tenant)).toEqual(['REPORT_DUE PREPAID', 'SYNC_OVERDUE tenant']);
      expect(keysOf(open.get(postpaid.tenant) ?? [], postpaid.tenant)).toEqual(['REPORT_DUE POSTPAID', 'SYNC_OVERDUE tenant']);

      for (const r of [prepaid, postpaid]) {
        // No hourly run: the ACK upload re-evaluates the tenant in its own transaction.
        await files.reportAndAcknowledge(server, r.tenant);
        expect(await activeKeys(server, r.tenant)).toEqual([]);
        const resolved = new Map((await listAlerts(server, r.tenant.admin, { active: false })).map((a) => [a.id, a]));
        for (const was of open.get(r.tenant) ?? []) {
          const now = resolved.get(was.id);
          expect([was.kind, was.subjectId, now?.active]).toEqual([was.kind, was.subjectId, false]);
          expect(new Date(now?.resolvedAt ?? 0) >= plusDays(r.reportedAt, 93)).toBe(true);
        }
      }
    });

    it('resolves SYNC_OVERDUE with the next successful license summary upload, leaving the prepaid report due', async () => {
      const { tenant, reportedAt } = await syncedAndReported('resync', 'PREPAID');
      advanceDays(server, 93);
      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual(['REPORT_DUE PREPAID', 'SYNC_OVERDUE tenant']);

      const resync = await files.sync(server, tenant, [files.line(`${tenant.slug}-L1`, 'PREPAID', 5)]);
      expect(resync.upload.syncRun.status).toBe('SUCCEEDED');

      // A sync happened on day 93: the next one is due 90 days later, not already overdue.
      expect(await activeKeys(server, tenant)).toEqual(['REPORT_DUE PREPAID']);
      const clock = (await dashboardOf(server, tenant.admin)).reportingClock;
      expect(new Date(clock?.lastSyncAt ?? 0) >= plusDays(reportedAt, 93)).toBe(true);
    });

    it('shows the due dates of the reporting clock on the dashboard and in licenseSyncSettings, and counts active alerts by severity, kind and acknowledgement', async () => {
      const { prepaid, postpaid } = await prepaidAndPostpaid('dash');
      const [P, Q] = [prepaid.tenant, postpaid.tenant];
      const pAt = prepaid.reportedAt;
      const qAt = postpaid.reportedAt;
      const expectedP = {
        lastSyncAt: pAt.toISOString(),
        syncDueAt: plusDays(pAt, 90).toISOString(),
        lastPrepaidReportAt: pAt.toISOString(),
        prepaidReportDueAt: plusMonths(pAt, 3).toISOString(),
        lastPostpaidReportAt: null,
        postpaidReportDueAt: null,
      };
      const expectedQ = {
        lastSyncAt: qAt.toISOString(),
        syncDueAt: plusDays(qAt, 90).toISOString(),
        lastPrepaidReportAt: null,
        prepaidReportDueAt: null,
        lastPostpaidReportAt: qAt.toISOString(),
        postpaidReportDueAt: plusMonths(qAt, 1).toISOString(),
      };
      const provider = server.token('PROVIDER_OPERATOR');
      const none = { active: 0, critical: 0, warning: 0, unacknowledged: 0, byKind: [] };

      const pDash = await dashboardOf(server, P.admin);
      expect(isoClock(pDash.reportingClock)).toEqual(expectedP);
      expect(pDash.alerts).toEqual(none);
      expect(isoClock((await dashboardOf(server, Q.operator)).reportingClock)).toEqual(expectedQ);
      expect(isoClock((await dashboardOf(server, provider, Q.id)).reportingClock)).toEqual(expectedQ);
      const settings = await syncSettingsOf(server, P.operator);
      expect(settings).toMatchObject({ syncRequiredDays: 90, prepaidReportMonths: 3, postpaidReportMonths: 1 });
      expect(isoClock(settings.reportingClock)).toEqual(expectedP);
      expect(isoClock((await syncSettingsOf(server, Q.admin)).reportingClock)).toEqual(expectedQ);

      advanceDays(server, 93);
      await evaluate();
      const twoOpen = {
        active: 2,
        critical: 1,
        warning: 1,
        unacknowledged: 2,
        byKind: [
          { kind: 'SYNC_OVERDUE', count: 1 },
          { kind: 'REPORT_DUE', count: 1 },
        ],
      };
      const pAfter = await dashboardOf(server, P.admin);
      expect(pAfter.alerts).toEqual(twoOpen);
      // Due dates are facts of the last sync and report: moving the clock does not move them.
      expect(isoClock(pAfter.reportingClock)).toEqual(expectedP);
      expect((await dashboardOf(server, provider, Q.id)).alerts).toEqual(twoOpen);

      const reportDue = theAlert(await listAlerts(server, P.admin, { active: true }), 'REPORT_DUE', 'PREPAID');
      await gqlData(server, ACKNOWLEDGE, { id: reportDue.id }, P.operator);
      expect((await dashboardOf(server, P.admin)).alerts).toEqual({ ...twoOpen, unacknowledged: 1 });
      expect((await dashboardOf(server, provider, P.id)).alerts).toEqual({ ...twoOpen, unacknowledged: 1 });
    });

    it('does not count a usage report generated after the clock moved as unacknowledged before 7 days have passed on that clock', async () => {
      const tenant = await createTrialTenant(server, slug('late-report'));
      await files.sync(server, tenant, [files.line(`${tenant.slug}-L1`, 'PREPAID', 5)]);
      advanceDays(server, 30);
      const { report } = await files.report(server, tenant);

      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual([]);
      advanceDays(server, 8);
      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual([`REPORT_UNACKNOWLEDGED ${report.id}`]);
    });
  });

  describe('conditions', () => {
    it('raises REPORT_UNACKNOWLEDGED for a usage report not acknowledged 7 days after it was generated, and resolves it with the ACK', async () => {
      const tenant = await createTrialTenant(server, slug('unacked'));
      await files.sync(server, tenant, [files.line(`${tenant.slug}-L1`, 'PREPAID', 5)]);
      const { report, file } = await files.report(server, tenant);
      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual([]);

      advanceDays(server, 6);
      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual([]);

      advanceDays(server, 2);
      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual([`REPORT_UNACKNOWLEDGED ${report.id}`]);
      const alert = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'REPORT_UNACKNOWLEDGED');
      expect(alert).toMatchObject({ severity: 'WARNING', subjectType: 'UsageReport', subjectId: report.id });
      expect(alert.details).toMatchObject({ usageReportId: report.id });

      await files.acknowledge(server, tenant, file);
      expect(await activeKeys(server, tenant)).toEqual([]);
      expect((await listAlerts(server, tenant.admin, { active: false })).map((a) => [a.id, a.active, a.resolvedAt !== null])).toEqual([
        [alert.id, false, true],
      ]);
    });

    it('raises LICENSE_EXPIRING for a line ending within 30 days but not for one ending in 40 days, until the clock is 15 days later', async () => {
      const tenant = await createTrialTenant(server, slug('expiring'));
      const account = await configureAccount(server, tenant, { virtualAccounts: ['main'], managed: ['main'] });
      const [soon, later] = await addLicenses(server, tenant, [
        licenseLine(account.vaIds.main, { subscriptionId: 'SUB-SOON', endDate: day(20) }),
        licenseLine(account.vaIds.main, { subscriptionId: 'SUB-LATER', endDate: day(40) }),
      ]);

      // Raised by addLicenses itself, in its transaction: no hourly run yet.
      expect(await activeKeys(server, tenant)).toEqual([`LICENSE_EXPIRING ${soon.id}`]);
      const first = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'LICENSE_EXPIRING', soon.id);
      expect(first).toMatchObject({ severity: 'WARNING', subjectType: 'License', details: { licenseId: soon.id, endDate: day(20) } });
      expect(first.message).toContain('SUB-SOON');
      expect(first.message).toContain(day(20));

      advanceDays(server, 15);
      await evaluate();
      expect(await activeKeys(server, tenant)).toEqual([`LICENSE_EXPIRING ${later.id}`, `LICENSE_EXPIRING ${soon.id}`].sort());
      const alerts = await listAlerts(server, tenant.admin, { active: true });
      expect(theAlert(alerts, 'LICENSE_EXPIRING', soon.id).id).toBe(first.id);
      expect(theAlert(alerts, 'LICENSE_EXPIRING', later.id).details).toMatchObject({ licenseId: later.id, endDate: day(40) });
    });

    it('raises OUT_OF_COMPLIANCE with counts by reason and UNRECONCILED_ASSIGNMENTS for pending assignments, updates the counts in place and resolves both as devices get licenses', async () => {
      const tenant = await createTrialTenant(server, slug('compliance'));
      const devices = await addDevices(server, tenant, 3);
      // A trial tenant has no license lines: its assignments wait for reconciliation.
      expect(await assign(server, tenant.operator, { deviceIds: devices.slice(0, 2), level: 'ADVANTAGE', tier: 'T1' })).toMatchObject({ pending: 2 });

      expect(await activeKeys(server, tenant)).toEqual(['OUT_OF_COMPLIANCE tenant', 'UNRECONCILED_ASSIGNMENTS tenant']);
      const before = await listAlerts(server, tenant.admin, { active: true });
      const compliance = theAlert(before, 'OUT_OF_COMPLIANCE');
      expect(compliance).toMatchObject({ severity: 'WARNING', details: { devices: 3, reasons: { PENDING_RECONCILIATION: 2, UNASSIGNED: 1 } } });
      expect(compliance.message).toMatch(/^3 device\(s\) out of compliance/);
      expect(theAlert(before, 'UNRECONCILED_ASSIGNMENTS').details).toEqual({ pending: 2 });

      await configureAccounts(server, tenant, [{ externalId: 'MAIN', name: 'Main', managed: true }]);
      await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'PREPAID', quantity: 5 }]);
      const reconciled = await gqlData<{ reconcileAssignments: { stillPending: number } }>(
        server,
        'mutation { reconcileAssignments(input: {}) { stillPending } }',
        {},
        tenant.admin,
      );
      expect(reconciled.reconcileAssignments.stillPending).toBe(0);

      expect(await activeKeys(server, tenant)).toEqual(['OUT_OF_COMPLIANCE tenant']);
      const updated = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'OUT_OF_COMPLIANCE');
      expect(updated).toMatchObject({ id: compliance.id, raisedAt: compliance.raisedAt, details: { devices: 1, reasons: { UNASSIGNED: 1 } } });

      await assign(server, tenant.operator, { deviceIds: [devices[2]], level: 'ADVANTAGE', tier: 'T1' });
      expect(await activeKeys(server, tenant)).toEqual([]);
      expect(keysOf(await listAlerts(server, tenant.admin, { active: false }), tenant)).toEqual([
        'OUT_OF_COMPLIANCE tenant',
        'UNRECONCILED_ASSIGNMENTS tenant',
      ]);
    });
  });

  describe('deduplication', () => {
    it('keeps one open alert per kind and subject through repeated and concurrent evaluations, and raises a new one when a resolved condition returns', async () => {
      const tenant = await createTrialTenant(server, slug('dedup'));
      const devices = await addDevices(server, tenant, 2);
      await assign(server, tenant.operator, { deviceIds: [devices[0]], level: 'ADVANTAGE', tier: 'T1' });
      const rows = (): Promise<{ id: string; kind: string; subject_id: string; raised_at: Date; resolved_at: Date | null }[]> =>
        server.sql('select id, kind, subject_id, raised_at, resolved_at from alert where tenant_id = $1 order by kind, raised_at', [tenant.uuid]);
      const openPerKey = (): Promise<{ kind: string; subject_id: string; n: number }[]> =>
        server.sql(
          `select kind, subject_id, count(*)::int as n from alert where tenant_id = $1 and resolved_at is null
            group by 1, 2 order by 1, 2`,
          [tenant.uuid],
        );
      const first = await rows();
      expect(first.map((r) => [r.kind, r.resolved_at])).toEqual([
        ['OUT_OF_COMPLIANCE', null],
        ['UNRECONCILED_ASSIGNMENTS', null],
      ]);

      await Promise.all([evaluate(), evaluate(), evaluate()]);
      await evaluate();
      // The same assignment again re-evaluates in its own transaction and changes nothing.
      await assign(server, tenant.operator, { deviceIds: [devices[0]], level: 'ADVANTAGE', tier: 'T1' });
      expect(await rows()).toEqual(first);
      expect(await openPerKey()).toEqual([
        { kind: 'OUT_OF_COMPLIANCE', subject_id: tenant.id, n: 1 },
        { kind: 'UNRECONCILED_ASSIGNMENTS', subject_id: tenant.id, n: 1 },
      ]);

      // The pending assignment released: UNRECONCILED resolves; assigned again: a new alert, the old one stays resolved.
      await gqlData(server, 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }', { input: { deviceIds: [devices[0]] } }, tenant.operator);
      await assign(server, tenant.operator, { deviceIds: [devices[0]], level: 'ADVANTAGE', tier: 'T1' });
      await evaluate();
      const unreconciled = (await rows()).filter((r) => r.kind === 'UNRECONCILED_ASSIGNMENTS');
      expect(unreconciled.map((r) => r.resolved_at !== null)).toEqual([true, false]);
      expect(unreconciled[0].id).toBe(first[1].id);
      expect(await openPerKey()).toEqual([
        { kind: 'OUT_OF_COMPLIANCE', subject_id: tenant.id, n: 1 },
        { kind: 'UNRECONCILED_ASSIGNMENTS', subject_id: tenant.id, n: 1 },
      ]);
    });
  });

  describe('acknowledging and who sees what', () => {
    /** A trial tenant with one pending assignment: OUT_OF_COMPLIANCE and UNRECONCILED_ASSIGNMENTS open. */
    async function tenantWithAlerts(label: string): Promise<{ tenant: AccountTenant; alerts: AlertView[] }> {
      const tenant = await createTrialTenant(server, slug(label));
      const devices = await addDevices(server, tenant, 1);
      await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });
      const alerts = await listAlerts(server, tenant.admin, { active: true });
      if (alerts.length !== 2) throw new Error(`arranging ${label}: ${alerts.length} alerts`);
      return { tenant, alerts };
    }

    it('acknowledges an alert with the time and the user, keeps it active through evaluations, and keeps the first acknowledgement', async () => {
      const { tenant, alerts } = await tenantWithAlerts('ack');
      const target = theAlert(alerts, 'UNRECONCILED_ASSIGNMENTS');
      advanceDays(server, 1);
      const alice = server.token('TENANT_OPERATOR', tenant.uuid, { sub: 'alice@ack' });

      const acked = (await gqlData<{ acknowledgeAlert: AlertView }>(server, ACKNOWLEDGE, { id: target.id }, alice)).acknowledgeAlert;
      expect(acked).toMatchObject({ id: target.id, acknowledgedBy: 'alice@ack', active: true, resolvedAt: null });
      // Acknowledged on the product's clock, a day after it was raised.
      expect(new Date(acked.acknowledgedAt ?? 0) >= plusDays(new Date(target.raisedAt), 1)).toBe(true);

      await evaluate();
      const bob = server.token('TENANT_ADMIN', tenant.uuid, { sub: 'bob@ack' });
      const again = (await gqlData<{ acknowledgeAlert: AlertView }>(server, ACKNOWLEDGE, { id: target.id }, bob)).acknowledgeAlert;
      expect(again).toMatchObject({ acknowledgedBy: 'alice@ack', acknowledgedAt: acked.acknowledgedAt, active: true });
      expect(theAlert(await listAlerts(server, tenant.admin, { active: true }), 'UNRECONCILED_ASSIGNMENTS')).toMatchObject({
        acknowledgedBy: 'alice@ack',
        acknowledgedAt: acked.acknowledgedAt,
      });
      expect((await dashboardOf(server, tenant.admin)).alerts).toMatchObject({ active: 2, unacknowledged: 1 });
    });

    it('answers NOT_FOUND for acknowledging another tenant’s alert exactly as for an unknown alert id, and leaves it unacknowledged', async () => {
      const mine = await tenantWithAlerts('ack-mine');
      const theirs = await tenantWithAlerts('ack-theirs');
      const foreignId = theirs.alerts[0].id;
      const unknownId = alertGlobalId(randomUUID());

      const foreign = await gqlError(server, ACKNOWLEDGE, { id: foreignId }, mine.tenant.admin);
      const unknown = await gqlError(server, ACKNOWLEDGE, { id: unknownId }, mine.tenant.admin);
      expect(foreign.extensions?.code).toBe('NOT_FOUND');
      expect(foreign.message.replace(foreignId, '<id>')).toBe(unknown.message.replace(unknownId, '<id>'));
      expect(foreign.extensions).toEqual(unknown.extensions);
      const rows = await server.sql<{ acknowledged_at: Date | null }>('select acknowledged_at from alert where tenant_id = $1', [theirs.tenant.uuid]);
      expect(rows.map((r) => r.acknowledged_at)).toEqual([null, null]);
    });

    it('shows tenant users only their own tenant’s alerts and providers every tenant’s', async () => {
      const a = await tenantWithAlerts('see-a');
      const b = await tenantWithAlerts('see-b');
      const idsOf = (alerts: AlertView[]): string[] => alerts.map((x) => x.id).sort();

      for (const [me, other] of [
        [a, b],
        [b, a],
      ] as const) {
        const seen = await listAlerts(server, me.tenant.operator);
        expect(idsOf(seen)).toEqual(idsOf(me.alerts));
        expect(seen.every((x) => x.tenant?.id === me.tenant.id)).toBe(true);
        expect((await gqlError(server, 'query($t: ID) { alerts(tenantId: $t) { totalCount } }', { t: other.tenant.id }, me.tenant.admin)).extensions?.code).toBe(
          'NOT_FOUND',
        );
        const node = await gqlData<{ node: { id: string } | null }>(server, 'query($id: ID!) { node(id: $id) { id } }', { id: other.alerts[0].id }, me.tenant.admin);
        expect(node.node).toBeNull();
      }

      const provider = server.token('PROVIDER_OPERATOR');
      const everything = await server.sql<{ id: string }>('select id from alert');
      expect(idsOf(await listAlerts(server, provider))).toEqual(everything.map((r) => alertGlobalId(r.id)).sort());
      expect(idsOf(await listAlerts(server, provider, { tenantId: a.tenant.id }))).toEqual(idsOf(a.alerts));
      expect(idsOf(await listAlerts(server, server.token('PROVIDER_ADMIN'), { tenantId: b.tenant.id, active: true }))).toEqual(idsOf(b.alerts));
    });
  });
});

describe('SYNC_FAILED with an online license server', () => {
  let server: TestServer;
  let sim: SimulatorHandle;

  beforeAll(async () => {
    [server, sim] = await Promise.all([startTestServer(), startSimulator({ port: 0, seed: 'alerts' })]);
    await useLicenseServer(server, sim);
  });
  afterAll(async () => {
    await sim?.close();
    await server?.close();
  });

  const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) {
    configureSmartAccount(input: $input) { id virtualAccounts { id externalId } }
  }`;

  it('raises SYNC_FAILED with the failed run’s error, keeps one alert through repeated failures, and resolves it with the next successful sync', async () => {
    const tenant = await createTrialTenant(server, 'al-online');
    addSimAccount(sim, simAccount('SA-AL-ONLINE', [{ id: 'VA-AL-ONLINE', lines: [simLine('VA-AL-ONLINE-L1', DNA_A_T1, 5)] }]));
    const account = await gqlData<{ configureSmartAccount: { virtualAccounts: { id: string; externalId: string }[] } }>(
      server,
      CONFIGURE,
      { input: { accountId: 'SA-AL-ONLINE', fetchFromServer: true } },
      tenant.admin,
    );
    await gqlData(
      server,
      'mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id } }',
      { input: { virtualAccountIds: account.configureSmartAccount.virtualAccounts.map((v) => v.id) } },
      tenant.admin,
    );
    expect((await synchronize(server, tenant.admin)).status).toBe('SUCCEEDED');
    expect(await activeKeys(server, tenant)).toEqual([]);

    const failOnce = async (): Promise<SyncRunView> => {
      sim.setFault({ kind: 'http500' });
      try {
        return await synchronize(server, tenant.admin);
      } finally {
        sim.setFault(null);
      }
    };
    const failed = await failOnce();
    expect(failed.status).toBe('FAILED');
    expect(failed.errorMessage).toMatch(/HTTP 500/);
    expect(await activeKeys(server, tenant)).toEqual(['SYNC_FAILED tenant']);
    const alert = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'SYNC_FAILED');
    expect(alert).toMatchObject({ severity: 'CRITICAL', subjectType: 'Tenant', subjectId: tenant.id });
    expect(alert.message).toContain(failed.errorMessage ?? '<no error message>');
    expect(alert.details).toEqual({ syncRunId: failed.id, error: failed.errorMessage });

    const failedAgain = await failOnce();
    expect(await activeKeys(server, tenant)).toEqual(['SYNC_FAILED tenant']);
    expect(theAlert(await listAlerts(server, tenant.admin, { active: true }), 'SYNC_FAILED')).toMatchObject({
      id: alert.id,
      details: { syncRunId: failedAgain.id, error: failedAgain.errorMessage },
    });

    expect((await synchronize(server, tenant.admin)).status).toBe('SUCCEEDED');
    expect(await activeKeys(server, tenant)).toEqual([]);
    const resolved = await listAlerts(server, tenant.admin, { active: false });
    expect(resolved.map((a) => [a.id, a.kind, a.active, a.resolvedAt !== null])).toEqual([[alert.id, 'SYNC_FAILED', false, true]]);
  });
});

describe('configurable alert periods', () => {
  const files = new OfflineLicenseServer('alerts-period-license-server');
  let server: TestServer;
  let scheduler: Scheduler;

  beforeAll(async () => {
    server = await startTestServer();
    // Instance-wide settings: this server (and database) is this block's own.
    const settings = await gqlData<{ setLicenseSyncMode: { syncRequiredDays: number } }>(
      server,
      'mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { syncRequiredDays } }',
      { input: { mode: 'OFFLINE', trustedSigningKeys: [files.publicKeyPem], syncRequiredDays: 30 } },
      server.token('PROVIDER_ADMIN'),
    );
    expect(settings.setLicenseSyncMode).toEqual({ syncRequiredDays: 30 });
    scheduler = await startAlertScheduler(server);
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server?.close();
  });

  it('with syncRequiredDays: 30, warns from day 24 and raises SYNC_OVERDUE on day 31 (30 full days after the sync), not before', async () => {
    const tenant = await createTrialTenant(server, 'period-30');
    // Day 1: the tenant syncs (a license summary upload).
    await files.sync(server, tenant, [files.line(`${tenant.slug}-L1`, 'PREPAID', 5)]);
    const syncedAt = new Date((await dashboardOf(server, tenant.admin)).reportingClock?.lastSyncAt ?? 0);
    expect((await dashboardOf(server, tenant.admin)).reportingClock?.syncDueAt).toBe(plusDays(syncedAt, 30).toISOString());
    const at = async (ms: number): Promise<string[]> => {
      server.runtime.clock.reset();
      server.runtime.clock.advance(syncedAt.getTime() + ms - server.runtime.clock.now().getTime());
      await scheduler.evaluateAlerts();
      return activeKeys(server, tenant);
    };
    const HOUR = 3_600_000;

    expect(await at(23 * DAY_MS - HOUR)).toEqual([]);
    expect(await at(23 * DAY_MS)).toEqual(['SYNC_DUE_SOON tenant']);
    // Day 30, its last hour: still only the warning.
    expect(await at(30 * DAY_MS - HOUR)).toEqual(['SYNC_DUE_SOON tenant']);
    // Day 31 begins: overdue.
    expect(await at(30 * DAY_MS)).toEqual(['SYNC_OVERDUE tenant']);
    const overdue = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'SYNC_OVERDUE');
    expect(overdue).toMatchObject({ severity: 'CRITICAL', details: { dueAt: plusDays(syncedAt, 30).toISOString() } });
    expect(overdue.message).toBe('no synchronisation with the license server for 30 days (required every 30)');
  });
});
