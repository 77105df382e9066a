import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { InvariantError, notFound } from '../../common/errors';
import { loadById } from '../../common/loaders';
import { parseIdArg, toGlobalId } from '../../common/global-id';
import { requireProviderWide } from '../../common/system-context';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { inScope } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { reasonCounts, tenantComplianceCounts } from '../dashboard/compliance-counts';
import { resolveTenantScope } from '../tenants/tenant.service';
import { AlertKind, AlertSeverity } from './alert.enums';
import { Alert, ALERT_COLUMNS, ReportingClock, type AlertRow, type AlertSummary } from './alert.types';

const CURSOR: CursorSpec = { list: 'alerts', shape: ['timestamp', 'uuid'] };
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

interface Facts {
  tenant_id: string;
  has_account: boolean;
  account_since: string | null;
  last_sync: string | null;
  last_run_status: string | null;
  last_run_id: string | null;
  last_run_error: string | null;
  last_report: string | null;
  prepaid_since: string | null;
  postpaid_since: string | null;
  now: string;
  sync_required_days: number;
  sync_due_soon_days: number;
  prepaid_report_months: number;
  postpaid_report_months: number;
  license_expiring_days: number;
  unacknowledged_report_days: number;
  pending: number;
}

interface Wanted {
  kind: AlertKind;
  severity: AlertSeverity;
  subject_type: string;
  subject_id: string;
  message: string;
  details: Record<string, unknown>;
}

async function factsOf(em: EntityManager, tenantId: string): Promise<Facts> {
  return (await factsOfTenants(em, [tenantId]))[0];
}

/** The reporting facts of several tenants in one statement (one row per tenant, in no set order). */
async function factsOfTenants(em: EntityManager, tenantIds: readonly string[]): Promise<Facts[]> {
  return sql<Facts>(
    em,
    `select t.tenant_id,
            exists (select 1 from smart_account where tenant_id = t.tenant_id) as has_account,
            to_json((select created_at from smart_account where tenant_id = t.tenant_id)) #>> '{}' as account_since,
            to_json(greatest((select max(finished_at) from sync_run where tenant_id = t.tenant_id and status = 'SUCCEEDED'),
                             (select max(acknowledged_at) from usage_report where tenant_id = t.tenant_id and status = 'ACKNOWLEDGED'))) #>> '{}' as last_sync,
            r.status as last_run_status, r.id as last_run_id, r.error_message as last_run_error,
            to_json((select max(acknowledged_at) from usage_report where tenant_id = t.tenant_id and status = 'ACKNOWLEDGED')) #>> '{}' as last_report,
            to_json(u.prepaid_since) #>> '{}' as prepaid_since,
            to_json(u.postpaid_since) #>> '{}' as postpaid_since,
            to_json(app_now()) #>> '{}' as now,
            s.sync_required_days, s.sync_due_soon_days, s.prepaid_report_months, s.postpaid_report_months,
            s.license_expiring_days, s.unacknowledged_report_days,
            u.pending
       from unnest(?::uuid[]) as t(tenant_id)
       cross join license_sync_settings s
       left join lateral (select id, status, error_message from sync_run where tenant_id = t.tenant_id order by started_at desc, id desc limit 1) r on true
       -- Current assignments in one pass, grouped by line before the join: a billing type is
       -- the line's, else the one asked for (pending), and is the same for a whole group.
       cross join lateral (
         select min(g.since) filter (where coalesce(l.billing_type, g.billing_type, 'PREPAID') = 'PREPAID') as prepaid_since,
                min(g.since) filter (where coalesce(l.billing_type, g.billing_type) = 'POSTPAID') as postpaid_since,
                coalesce(sum(g.pending), 0)::int as pending
           from (select a.license_id, a.billing_type, min(a.assigned_at) as since,
                        count(*) filter (where a.status = 'PENDING_RECONCILIATION') as pending
                   from assignment a where a.tenant_id = t.tenant_id and a.released_at is null
                  group by a.license_id, a.billing_type) g
           left join license l on l.tenant_id = t.tenant_id and l.id = g.license_id) u`,
    [pgArray(tenantIds)],
  );
}

const DAY = 86_400_000;
const addMonths = (iso: string, months: number): Date => {
  const d = new Date(iso);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
};

/** When the tenant last synced and reported, and when it must next (null where nothing is due). */
export function clockOf(f: Facts): ReportingClock {
  const c = new ReportingClock();
  const syncBase = f.last_sync ?? f.account_since;
  c.lastSyncAt = f.last_sync ? new Date(f.last_sync) : null;
  c.syncDueAt = f.has_account && syncBase ? new Date(new Date(syncBase).getTime() + f.sync_required_days * DAY) : null;
  c.lastPrepaidReportAt = f.prepaid_since && f.last_report ? new Date(f.last_report) : null;
  c.lastPostpaidReportAt = f.postpaid_since && f.last_report ? new Date(f.last_report) : null;
  const reportBase = (since: string | null): string | null => (since ? (f.last_report && f.last_report > since ? f.last_report : since) : null);
  const pre = reportBase(f.prepaid_since);
  const post = reportBase(f.postpaid_since);
  c.prepaidReportDueAt = pre ? addMonths(pre, f.prepaid_report_months) : null;
  c.postpaidReportDueAt = post ? addMonths(post, f.postpaid_report_months) : null;
  return c;
}

const CLOCK_LOADER = Symbol('reporting-clock-by-tenant');

/** A tenant's reporting clock; batched per request (a provider's per-tenant dashboards cost one statement). */
export async function reportingClock(ctx: RequestContext, tenantId: string): Promise<ReportingClock> {
  const clock = await loadById(
    ctx,
    CLOCK_LOADER,
    tenantId,
    (ids) => inScope(ctx, (em) => factsOfTenants(em, ids)),
    (f) => f.tenant_id,
    clockOf,
  );
  if (!clock) throw new InvariantError(`no reporting facts for tenant ${tenantId}`);
  return clock;
}

/**
 * Re-evaluates every alert condition of one tenant inside the caller's transaction: raises what
 * newly holds, updates what changed, resolves what cleared, and announces each change on the alert
 * bus (delivered on commit). Deduplicated by the open-alert key (tenant, kind, subject).
 */
export async function evaluateAlerts(ctx: RequestContext, em: EntityManager, tenantId: string): Promise<void> {
  const f = await factsOf(em, tenantId);
  const now = new Date(f.now);
  const wanted: Wanted[] = [];
  const tenantSubject = { subject_type: 'Tenant', subject_id: toGlobalId('Tenant', tenantId) };
  const clock = clockOf(f);

  if (clock.syncDueAt) {
    const days = Math.floor((now.getTime() - new Date(f.last_sync ?? (f.account_since as string)).getTime()) / DAY);
    if (now >= clock.syncDueAt) {
      wanted.push({ kind: AlertKind.SYNC_OVERDUE, severity: AlertSeverity.CRITICAL, ...tenantSubject,
        message: `no synchronisation with the license server for ${days} days (required every ${f.sync_required_days})`,
        details: { lastSyncAt: f.last_sync, dueAt: clock.syncDueAt.toISOString() } });
    } else if (now.getTime() >= clock.syncDueAt.getTime() - f.sync_due_soon_days * DAY) {
      wanted.push({ kind: AlertKind.SYNC_DUE_SOON, severity: AlertSeverity.WARNING, ...tenantSubject,
        message: `synchronisation with the license server is due by ${clock.syncDueAt.toISOString().slice(0, 10)}`,
        details: { lastSyncAt: f.last_sync, dueAt: clock.syncDueAt.toISOString() } });
    }
  }
  if (f.last_run_status === 'FAILED') {
    wanted.push({ kind: AlertKind.SYNC_FAILED, severity: AlertSeverity.CRITICAL, ...tenantSubject,
      message: `the last license sync failed: ${f.last_run_error ?? 'unknown error'}`,
      details: { syncRunId: toGlobalId('SyncRun', f.last_run_id as string), error: f.last_run_error } });
  }
  for (const [type, due] of [['PREPAID', clock.prepaidReportDueAt], ['POSTPAID', clock.postpaidReportDueAt]] as const) {
    if (due && now >= due) {
      wanted.push({ kind: AlertKind.REPORT_DUE, severity: AlertSeverity.WARNING, subject_type: 'BillingType', subject_id: type,
        message: `${type.toLowerCase()} usage must be reported every ${type === 'PREPAID' ? f.prepaid_report_months : f.postpaid_report_months} month(s); a report was due on ${due.toISOString().slice(0, 10)}`,
        details: { billingType: type, dueAt: due.toISOString(), lastReportAt: f.last_report } });
    }
  }
  const unacked = await sql<{ id: string; generated_at: string }>(
    em,
    `select id, to_json(generated_at) #>> '{}' as generated_at from usage_report
      where tenant_id = ? and status = 'GENERATED' and generated_at <= app_now() - make_interval(days => ?)`,
    [tenantId, f.unacknowledged_report_days],
  );
  for (const r of unacked) {
    wanted.push({ kind: AlertKind.REPORT_UNACKNOWLEDGED, severity: AlertSeverity.WARNING, subject_type: 'UsageReport',
      subject_id: toGlobalId('UsageReport', r.id),
      message: `usage report generated ${r.generated_at.slice(0, 10)} has not been acknowledged; upload the license server's acknowledgement`,
      details: { usageReportId: toGlobalId('UsageReport', r.id), generatedAt: r.generated_at } });
  }
  // From the counters the database keeps (a few rows, whatever the number of devices).
  const compliance = await tenantComplianceCounts(em, tenantId);
  const outOfCompliance = compliance.total - compliance.compliant;
  if (outOfCompliance > 0) {
    // Keys in the order PostgreSQL's jsonb keeps them (shorter first), as these details always had.
    const reasons = Object.fromEntries(
      reasonCounts(compliance)
        .sort((a, b) => a.reason.length - b.reason.length || (a.reason < b.reason ? -1 : 1))
        .map((r) => [r.reason, r.devices]),
    );
    wanted.push({ kind: AlertKind.OUT_OF_COMPLIANCE, severity: AlertSeverity.WARNING, ...tenantSubject,
      message: `${outOfCompliance} device(s) out of compliance: ${Object.entries(reasons).map(([r, n]) => `${n} ${r}`).join(', ')}`,
      details: { devices: outOfCompliance, reasons } });
  }
  const expiring = await sql<{ id: string; end_date: string; display_name: string; subscription_id: string }>(
    em,
    `select l.id, l.end_date::text as end_date, e.display_name, l.subscription_id from license l join entitlement e on e.id = l.entitlement_id
      where l.tenant_id = ? and l.removed_at is null and l.end_date >= app_now()::date
        and l.end_date < app_now()::date + ?::int order by l.end_date, l.id`,
    [tenantId, f.license_expiring_days],
  );
  for (const l of expiring) {
    wanted.push({ kind: AlertKind.LICENSE_EXPIRING, severity: AlertSeverity.WARNING, subject_type: 'License',
      subject_id: toGlobalId('License', l.id),
      message: `${l.display_name} (subscription ${l.subscription_id}) ends on ${l.end_date}`,
      details: { licenseId: toGlobalId('License', l.id), endDate: l.end_date } });
  }
  if (f.pending > 0) {
    wanted.push({ kind: AlertKind.UNRECONCILED_ASSIGNMENTS, severity: f.has_account ? AlertSeverity.WARNING : AlertSeverity.INFO, ...tenantSubject,
      message: `${f.pending} assignment(s) wait for a license line (pending reconciliation)`,
      details: { pending: f.pending } });
  }

  const changed = await sql<{ id: string }>(
    em,
    `insert into alert as al (tenant_id, kind, severity, subject_type, subject_id, message, details, raised_at, updated_at)
     select ?, w.kind, w.severity, w.subject_type, w.subject_id, w.message, w.details, app_now(), app_now()
       from jsonb_to_recordset(?::jsonb) as w(kind text, severity text, subject_type text, subject_id text, message text, details jsonb)
     on conflict (coalesce(tenant_id, '${NO_TENANT}'::uuid), kind, subject_type, subject_id) where resolved_at is null
     do update set severity = excluded.severity, message = excluded.message, details = excluded.details, updated_at = app_now()
       where al.severity is distinct from excluded.severity or al.message is distinct from excluded.message
          or al.details is distinct from excluded.details
     returning al.id`,
    [tenantId, JSON.stringify(wanted)],
  );
  const keep = wanted.map((w) => `${w.kind}|${w.subject_type}|${w.subject_id}`);
  const resolved = await sql<{ id: string }>(
    em,
    `update alert al set resolved_at = app_now(), updated_at = app_now()
      where al.tenant_id = ? and al.resolved_at is null
        and not (al.kind || '|' || al.subject_type || '|' || al.subject_id = any(?::text[]))
      returning al.id`,
    [tenantId, `{${keep.map((k) => `"${k.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`],
  );
  for (const { id } of [...changed, ...resolved]) await ctx.app.alerts.announce(em, { id, tenantId });
}

/** Evaluates one tenant in its own transaction (the hourly job, and after out-of-band changes). */
export async function evaluateTenant(ctx: RequestContext, tenantId: string): Promise<void> {
  await inScope(ctx, (em) => evaluateAlerts(ctx, em, tenantId));
}

export async function listAlerts(
  ctx: RequestContext,
  args: { tenantId?: string | null; active?: boolean | null; first?: number | null; after?: string | null },
): Promise<Connection<Alert>> {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, CURSOR);
  const tenantId = await resolveTenantScope(ctx, args.tenantId);
  const where: string[] = [];
  const params: unknown[] = [];
  if (tenantId) {
    where.push('al.tenant_id = ?');
    params.push(tenantId);
  }
  if (args.active === true) where.push('al.resolved_at is null');
  if (args.active === false) where.push('al.resolved_at is not null');
  const filter = where.length ? where.join(' and ') : 'true';
  const countParams = [...params];
  const page = after ? ' and (al.raised_at, al.id) < (?::timestamptz, ?::uuid)' : '';
  return inScope(ctx, async (em) => {
    const rows = await sql<AlertRow>(
      em,
      `select ${ALERT_COLUMNS} from alert al where ${filter}${page} order by al.raised_at desc, al.id desc limit ?`,
      [...params, ...(after ? [after[0], after[1]] : []), limit + 1],
    );
    const [{ n }] = await sql<{ n: number }>(em, `select count(*)::int as n from alert al where ${filter}`, countParams);
    return toConnection(rows, limit, n, CURSOR, (r) => [r.raised_at, r.id], Alert.from);
  });
}

/** An alert visible to the viewer (the same rules as every read), or null. */
export async function findAlert(ctx: RequestContext, idArg: string): Promise<Alert | null> {
  const id = parseIdArg(idArg, 'Alert', 'id');
  const tenantId = ctx.viewer.tenantId;
  const rows = await inScope(ctx, (em) =>
    sql<AlertRow>(em, `select ${ALERT_COLUMNS} from alert al where al.id = ?${tenantId ? ' and al.tenant_id = ?' : ''}`, [
      id,
      ...(tenantId ? [tenantId] : []),
    ]),
  );
  return rows[0] ? Alert.from(rows[0]) : null;
}

/**
 * The alerts among `ids` (raw uuids) that the viewer may see, in one statement: the batch load of
 * subscription delivery, run once per batch of notifications and visibility class.
 */
export async function loadAlerts(ctx: RequestContext, ids: readonly string[]): Promise<Alert[]> {
  if (ids.length === 0) return [];
  const tenantId = ctx.viewer.tenantId;
  const rows = await inScope(ctx, (em) =>
    sql<AlertRow>(em, `select ${ALERT_COLUMNS} from alert al where al.id = any(?::uuid[])${tenantId ? ' and al.tenant_id = ?' : ''}`, [
      pgArray(ids),
      ...(tenantId ? [tenantId] : []),
    ]),
  );
  return rows.map(Alert.from);
}

/** Marks an alert seen. It stays active until its condition clears; acknowledging twice keeps the first. */
export async function acknowledgeAlert(ctx: RequestContext, idArg: string): Promise<Alert> {
  const id = parseIdArg(idArg, 'Alert', 'id');
  const tenantId = ctx.viewer.tenantId;
  const row = await inScope(ctx, async (em) => {
    const [updated] = await sql<AlertRow>(
      em,
      `update alert al set acknowledged_at = coalesce(al.acknowledged_at, app_now()),
              acknowledged_by = coalesce(al.acknowledged_by, ?), updated_at = app_now()
        where al.id = ?${tenantId ? ' and al.tenant_id = ?' : ''} returning ${ALERT_COLUMNS}`,
      [ctx.viewer.subject, id, ...(tenantId ? [tenantId] : [])],
    );
    if (!updated) throw notFound(`alert ${idArg} not found`);
    await ctx.app.alerts.announce(em, { id: updated.id, tenantId: updated.tenant_id });
    return updated;
  });
  return Alert.from(row);
}

export interface AlertCountRow {
  tenant_id: string | null;
  kind: AlertKind;
  severity: AlertSeverity;
  acknowledged: boolean;
  n: number;
}

/** Active alert counts grouped by tenant, in one statement (one tenant, or every tenant for providers). */
export async function activeAlertCounts(ctx: RequestContext, tenantId: string | null): Promise<AlertCountRow[]> {
  return inScope(ctx, (em) =>
    sql<AlertCountRow>(
      em,
      `select tenant_id, kind, severity, acknowledged_at is not null as acknowledged, count(*)::int as n from alert
        where resolved_at is null ${tenantId ? 'and tenant_id = ?' : ''} group by 1, 2, 3, 4`,
      tenantId ? [tenantId] : [],
    ),
  );
}

export function summarizeAlerts(rows: readonly AlertCountRow[]): AlertSummary {
  const byKind = new Map<AlertKind, number>();
  for (const r of rows) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.n);
  const sum = (f: (r: AlertCountRow) => boolean): number => rows.filter(f).reduce((n, r) => n + r.n, 0);
  return {
    active: sum(() => true),
    critical: sum((r) => r.severity === AlertSeverity.CRITICAL),
    warning: sum((r) => r.severity === AlertSeverity.WARNING),
    unacknowledged: sum((r) => !r.acknowledged),
    byKind: Object.values(AlertKind).filter((k) => byKind.has(k)).map((kind) => ({ kind, count: byKind.get(kind) as number })),
  };
}

/** Every tenant id (for the hourly evaluation). */
export async function allTenantIds(ctx: RequestContext): Promise<string[]> {
  return inScope(ctx, async (em) => (await sql<{ id: string }>(em, 'select id from tenant order by id')).map((r) => r.id));
}

/** Unresolved alerts of every tenant by kind (metrics): provider scope only, counts and no ids. */
export async function activeAlertsByKind(ctx: RequestContext): Promise<{ kind: AlertKind; n: number }[]> {
  requireProviderWide(ctx, 'alert counts');
  return inScope(ctx, (em) => sql<{ kind: AlertKind; n: number }>(em, 'select kind, count(*)::int as n from alert where resolved_at is null group by 1'));
}
