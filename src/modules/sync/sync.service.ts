import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { badInput } from '../../common/errors';
import { requireProviderWide } from '../../common/system-context';
import { parseIdArg } from '../../common/global-id';
import type { Connection, CursorSpec } from '../../common/relay';
import { newestFirstPage } from '../../db/pages';
import { inScope } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { SsmError, type SsmClient } from '../../ssm/client';
import type { UsageMeasurement, VirtualAccountLicenses } from '../../ssm/files/formats';
import { reconcileInTransaction, unbindFromRemovedLines } from '../assignments/assignment.service';
import { evaluateAlerts } from '../alerts/alert.service';
import { recordAudit } from '../audit/audit.service';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import { clientFor, loadSettings, readSettings } from './sync-settings.service';
import { SyncMode, SyncRunStatus, SyncTrigger } from './sync.enums';
import { SYNC_RUN_COLUMNS, SyncRun, type SyncRunRow } from './sync.types';

/**
 * A RUNNING run is alive while its heartbeat is fresh (stamped every SYNC_HEARTBEAT_MS by the instance
 * running it); older than SYNC_ABANDONED_AFTER_MS, the process running it died: it no longer blocks.
 * Real time (clock_timestamp), not the product clock: this is about processes, not license terms.
 */
const STALE_RUN = `coalesce(r.heartbeat_at, r.started_at) < clock_timestamp() - make_interval(secs => ?::float8 / 1000)`;
const RUN_CURSOR: CursorSpec = { list: 'syncRuns', shape: ['timestamp', 'uuid'] };

export interface ApplyCounts {
  linesAdded: number;
  linesChanged: number;
  linesRemoved: number;
  assignmentsPending: number;
  assignmentsReconciled: number;
}

/**
 * Makes the tenant's license lines match what the license server says, in the caller's
 * transaction: virtual accounts upserted by external id (new ones unmanaged), lines upserted by
 * (virtual account, line id), lines of the covered virtual accounts that vanished are removed
 * (kept for history, never offered again) and the assignments they held become pending; then
 * pending assignments are reconciled. Entitlements the catalog does not know become unmanaged lines.
 */
export async function applyLicenseLines(
  ctx: RequestContext,
  em: EntityManager,
  tenantId: string,
  smartAccountId: string,
  virtualAccounts: VirtualAccountLicenses[],
  source: 'SYNC' | 'FILE',
  coverAllVirtualAccounts: boolean,
): Promise<ApplyCounts> {
  const vas = await sql<{ id: string; external_id: string }>(
    em,
    `insert into virtual_account (tenant_id, smart_account_id, external_id, name)
     select ?, ?, r.id, r.name from jsonb_to_recordset(?::jsonb) as r(id text, name text)
     on conflict (tenant_id, smart_account_id, external_id) do update set name = excluded.name, updated_at = app_now()
     returning id, external_id`,
    [tenantId, smartAccountId, JSON.stringify(virtualAccounts.map((v) => ({ id: v.id, name: v.name })))],
  );
  const vaId = new Map(vas.map((v) => [v.external_id, v.id]));
  const lines = virtualAccounts.flatMap((v) =>
    v.licenses.map((l) => ({
      virtual_account_id: vaId.get(v.id),
      line_id: l.lineId,
      tag: l.entitlementTag,
      billing_type: l.billingType,
      billing_model: l.billingModel,
      subscription_id: l.subscriptionId,
      license_type: l.licenseType,
      quantity: l.quantity,
      start_date: l.startDate,
      end_date: l.endDate,
    })),
  );
  // Entitlements the catalog does not know are recorded as unmanaged, so their lines are kept and shown.
  await sql(
    em,
    `insert into entitlement (tag, display_name, category, managed, obsolete, sort_order)
     select distinct r.tag, r.tag, 'OTHER', false, false, 1000 from jsonb_to_recordset(?::jsonb) as r(tag text)
     on conflict (tag) do nothing`,
    [JSON.stringify(lines.map((l) => ({ tag: l.tag })))],
  );
  const upserted = await sql<{ inserted: boolean; changed: boolean }>(
    em,
    `with incoming as (
       select r.*, e.id as entitlement_id
         from jsonb_to_recordset(?::jsonb) as r(virtual_account_id uuid, line_id text, tag text, billing_type text,
              billing_model text, subscription_id text, license_type text, quantity int, start_date date, end_date date)
         join entitlement e on e.tag = r.tag
     ), before as (
       select l.id, l.virtual_account_id, l.external_line_id, l.entitlement_id, l.billing_type, l.billing_model,
              l.subscription_id, l.license_type, l.quantity, l.start_date, l.end_date, l.removed_at
         from license l where l.tenant_id = ? and l.external_line_id is not null
     )
     insert into license as l (tenant_id, virtual_account_id, entitlement_id, billing_type, billing_model, subscription_id,
                               license_type, quantity, start_date, end_date, source, external_line_id)
     select ?, i.virtual_account_id, i.entitlement_id, i.billing_type, i.billing_model, i.subscription_id,
            i.license_type, i.quantity, i.start_date, i.end_date, ?, i.line_id from incoming i
     on conflict (tenant_id, virtual_account_id, external_line_id) where external_line_id is not null do update set
       entitlement_id = excluded.entitlement_id, billing_type = excluded.billing_type, billing_model = excluded.billing_model,
       subscription_id = excluded.subscription_id, license_type = excluded.license_type, quantity = excluded.quantity,
       start_date = excluded.start_date, end_date = excluded.end_date, removed_at = null, source = excluded.source,
       updated_at = app_now()
     returning (xmax = 0) as inserted,
       not exists (select 1 from before b where b.id = l.id and b.removed_at is null
                      and (b.entitlement_id, b.billing_type, b.billing_model, b.subscription_id, b.license_type, b.quantity,
                           b.start_date, b.end_date)
                        = (l.entitlement_id, l.billing_type, l.billing_model, l.subscription_id, l.license_type, l.quantity,
                           l.start_date, l.end_date)) as changed`,
    [JSON.stringify(lines), tenantId, tenantId, source],
  );
  const covered = coverAllVirtualAccounts ? null : vas.map((v) => v.id);
  const keep = lines.map((l) => `${l.virtual_account_id}:${l.line_id}`);
  const removed = await sql<{ id: string }>(
    em,
    `update license l set removed_at = app_now(), updated_at = app_now()
      where l.tenant_id = ? and l.external_line_id is not null and l.removed_at is null
        and (?::uuid[] is null or l.virtual_account_id = any(?::uuid[]))
        and not (l.virtual_account_id::text || ':' || l.external_line_id = any(?::text[]))
      returning l.id`,
    [tenantId, covered ? pgArray(covered) : null, covered ? pgArray(covered) : null, pgArray(keep)],
  );
  const assignmentsPending = await unbindFromRemovedLines(em, tenantId, removed.map((r) => r.id));
  const reconciled = await reconcileInTransaction(ctx, em, tenantId);
  return {
    linesAdded: upserted.filter((u) => u.inserted).length,
    linesChanged: upserted.filter((u) => !u.inserted && u.changed).length,
    linesRemoved: removed.length,
    assignmentsPending,
    assignmentsReconciled: reconciled.reconciled,
  };
}

interface MeasurementRow extends UsageMeasurement {
  virtual_account_id: string | null;
}

/**
 * The assignments a usage period reports, one row per device and license: every assignment held at
 * some point in (start, end], of one virtual account or (null) all. Parameters: tenant, end, start,
 * virtual account twice. Both `usageMeasurements` and `usageMeasurementBatches` read it, so online
 * and offline reports count the same things in the same order.
 */
const USAGE_FROM = `from assignment a
       join device d on d.tenant_id = a.tenant_id and d.id = a.device_id
       join entitlement e on e.id = a.entitlement_id
       left join license l on l.tenant_id = a.tenant_id and l.id = a.license_id
      where a.tenant_id = ? and a.assigned_at <= ?::timestamptz
        and (a.released_at is null or a.released_at > ?::timestamptz)
        and (?::uuid is null or l.virtual_account_id = ?::uuid)
      order by d.uuid, e.tag`;

function usageFromParams(tenantId: string, period: { start: string; end: string }, virtualAccountId: string | null): unknown[] {
  return [tenantId, period.end, period.start, virtualAccountId, virtualAccountId];
}

/**
 * Usage of the period: every assignment held at some point in (start, end], one measurement per
 * device and license. Pending assignments (no line) carry no subscription.
 */
export async function usageMeasurements(
  em: EntityManager,
  tenantId: string,
  period: { start: string; end: string },
  virtualAccountId: string | null,
): Promise<MeasurementRow[]> {
  return sql<MeasurementRow>(
    em,
    `select d.uuid as "deviceUuid", d.hostname, e.tag as "entitlementTag", l.subscription_id as "subscriptionId",
            coalesce(l.billing_type, a.billing_type, 'PREPAID') as "billingType", 1 as count,
            to_json(greatest(a.assigned_at, ?::timestamptz)) #>> '{}' as start,
            to_json(least(coalesce(a.released_at, ?::timestamptz), ?::timestamptz)) #>> '{}' as "end",
            l.virtual_account_id
       ${USAGE_FROM}`,
    [period.start, period.end, period.end, ...usageFromParams(tenantId, period, virtualAccountId)],
  );
}

/** ISO 8601 in UTC with milliseconds, as `Date.prototype.toISOString` writes it (both truncate microseconds). */
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const MEASUREMENT_CURSOR = 'usage_measurements';

/**
 * The measurements of `usageMeasurements` (without the virtual account), read through a server-side
 * cursor in batches of `batchSize`, so a 100,000-device tenant never has all its rows in memory. Must
 * run inside the caller's scoped transaction (db/scope.ts): the cursor lives until its end, and RLS
 * reads the transaction's settings. Timestamps come already in `toISOString` form.
 */
export async function* usageMeasurementBatches(
  em: EntityManager,
  tenantId: string,
  period: { start: string; end: string },
  virtualAccountId: string | null,
  batchSize = 2000,
): AsyncGenerator<UsageMeasurement[]> {
  // Every row is read, so plan for the whole result as the plain query does: for a cursor PostgreSQL
  // otherwise favours the first rows (cursor_tuple_fraction 0.1) and picked a nested loop over devices
  // in uuid order that took minutes at 100,000 assignments. The sort by device then fits in memory
  // (about 17 MB at 100,000 rows; 15% faster than the external merge of the default 4 MB).
  // Transaction-local, like the RLS settings.
  await sql(em, "select set_config('cursor_tuple_fraction', '1', true), set_config('work_mem', '64MB', true)");
  // Most measurements run from the period's start to its end: the cursor sends null for those bounds
  // (formatted once here, by the same to_char) instead of formatting them again for every row.
  const [bounds] = await sql<{ start: string; end: string }>(
    em,
    `select to_char(?::timestamptz at time zone 'UTC', ${ISO_UTC}) as start, to_char(?::timestamptz at time zone 'UTC', ${ISO_UTC}) as "end"`,
    [period.start, period.end],
  );
  await sql(
    em,
    `declare ${MEASUREMENT_CURSOR} no scroll cursor for
     select d.uuid as "deviceUuid", d.hostname, e.tag as "entitlementTag", l.subscription_id as "subscriptionId",
            coalesce(l.billing_type, a.billing_type, 'PREPAID') as "billingType", 1 as count,
            -- greatest(assigned_at, start) and least(coalesce(released_at, end), end), null when the bound
            case when a.assigned_at > ?::timestamptz then to_char(a.assigned_at at time zone 'UTC', ${ISO_UTC}) end as start,
            case when a.released_at < ?::timestamptz then to_char(a.released_at at time zone 'UTC', ${ISO_UTC}) end as "end"
       ${USAGE_FROM}`,
    [period.start, period.end, ...usageFromParams(tenantId, period, virtualAccountId)],
  );
  const fetchBatch = async (): Promise<UsageMeasurement[]> => {
    const rows = await sql<Omit<UsageMeasurement, 'start' | 'end'> & { start: string | null; end: string | null }>(
      em,
      `fetch ${batchSize} from ${MEASUREMENT_CURSOR}`,
    );
    for (const row of rows) {
      row.start ??= bounds.start;
      row.end ??= bounds.end;
    }
    return rows as UsageMeasurement[];
  };
  let failed = false;
  // The next batch is asked for before this one is handed over, so PostgreSQL reads and sends it
  // while the caller works on this one.
  let next: Promise<UsageMeasurement[]> | null = fetchBatch();
  try {
    while (next) {
      let rows: UsageMeasurement[];
      try {
        rows = await next;
      } catch (err) {
        next = null;
        failed = true;
        throw err;
      }
      next = rows.length === batchSize ? fetchBatch() : null;
      if (rows.length > 0) yield rows;
    }
  } finally {
    // Also when the consumer stops early (a refused measurement). After a database error the
    // transaction is aborted and its rollback closes the cursor; closing here would hide that error.
    if (next) {
      await next.catch(() => {
        failed = true;
      });
    }
    if (!failed) await sql(em, `close ${MEASUREMENT_CURSOR}`);
  }
}

/** Start of the next usage period: the end of the last reported one, else the tenant's first assignment. */
export async function nextPeriodStart(em: EntityManager, tenantId: string): Promise<string> {
  const [row] = await sql<{ start: string }>(
    em,
    `select to_json(coalesce(
        (select max(period_end) from usage_report where tenant_id = ?),
        (select min(assigned_at) from assignment where tenant_id = ?),
        app_now())) #>> '{}' as start`,
    [tenantId, tenantId],
  );
  return row.start;
}

/**
 * Claims the tenant's single RUNNING slot in its own committed transaction, so a concurrent
 * on-demand or scheduled sync sees it and joins instead of starting a second one.
 */
async function startRun(ctx: RequestContext, tenantId: string, mode: SyncMode, trigger: SyncTrigger): Promise<{ run: SyncRunRow; joined: boolean }> {
  return inScope(ctx, async (em) => {
    await sql(
      em,
      `update sync_run r set status = 'FAILED', finished_at = app_now(),
              error_message = 'abandoned: the instance running it stopped (no heartbeat since ' || to_char(coalesce(r.heartbeat_at, r.started_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
        where r.tenant_id = ? and r.status = 'RUNNING' and ${STALE_RUN}`,
      [tenantId, ctx.app.config.syncRuns.abandonedAfterMs],
    );
    const inserted = await sql<SyncRunRow>(
      em,
      `insert into sync_run as r (tenant_id, mode, trigger, status, requested_by, heartbeat_at) values (?, ?, ?, 'RUNNING', ?, clock_timestamp())
       on conflict (tenant_id) where status = 'RUNNING' do nothing returning ${SYNC_RUN_COLUMNS}`,
      [tenantId, mode, trigger, ctx.viewer.subject],
    );
    if (inserted.length) return { run: inserted[0], joined: false };
    const [running] = await sql<SyncRunRow>(em, `select ${SYNC_RUN_COLUMNS} from sync_run r where tenant_id = ? and status = 'RUNNING'`, [tenantId]);
    return { run: running, joined: true };
  });
}

async function failRun(ctx: RequestContext, runId: string, tenantId: string, message: string): Promise<SyncRunRow> {
  const [row] = await inScope(ctx, async (em) => {
    const rows = await sql<SyncRunRow>(
      em,
      `update sync_run r set status = 'FAILED', finished_at = app_now(), error_message = ?
        where tenant_id = ? and id = ? returning ${SYNC_RUN_COLUMNS}`,
      [message.slice(0, 1000), tenantId, runId],
    );
    await evaluateAlerts(ctx, em, tenantId); // SYNC_FAILED
    return rows;
  });
  ctx.log.warn({ tenantId, runId, error: message }, 'license sync failed');
  return row;
}

/**
 * Online / on-prem sync of one tenant: fetch the smart account and the lines of its managed
 * virtual accounts, report usage since the last report (one acknowledged report per virtual
 * account), then apply everything in one transaction. A failure before the apply changes no
 * license data; the run is recorded FAILED with the error (the SYNC_FAILED condition).
 */
export async function synchronizeLicenses(
  ctx: RequestContext,
  tenantIdArg: string | null | undefined,
  trigger: SyncTrigger = SyncTrigger.MANUAL,
): Promise<SyncRun> {
  const tenantId = await requireTenantScope(ctx, tenantIdArg);
  const settings = await loadSettings(ctx);
  if (settings.mode === SyncMode.OFFLINE) {
    throw badInput('the instance is in OFFLINE mode: upload a license summary file instead (uploadLicenseSummary)');
  }
  const [account] = await inScope(ctx, (em) =>
    sql<{ id: string; external_id: string }>(em, 'select id, external_id from smart_account where tenant_id = ?', [tenantId]),
  );
  if (!account) throw badInput('the tenant has no smart account yet: configure it first (configureSmartAccount)');
  const { run, joined } = await startRun(ctx, tenantId, settings.mode, trigger);
  if (joined) return SyncRun.from(run);

  let client: SsmClient | undefined;
  const heartbeat = startHeartbeat(ctx, tenantId, run.id);
  try {
    client = clientFor(ctx, settings);
    const remote = await client.getSmartAccount(account.external_id);
    const managed = await inScope(ctx, (em) =>
      sql<{ id: string; external_id: string; name: string }>(
        em,
        'select id, external_id, name from virtual_account where tenant_id = ? and smart_account_id = ? and managed',
        [tenantId, account.id],
      ),
    );
    const remoteVas = new Set(remote.virtualAccounts.map((v) => v.id));
    const listed = managed.filter((v) => remoteVas.has(v.external_id));
    const fetched: VirtualAccountLicenses[] = [];
    for (const va of listed) {
      const licenses = await client.listLicenses(account.external_id, va.external_id);
      fetched.push({ id: va.external_id, name: remote.virtualAccounts.find((r) => r.id === va.external_id)?.name ?? va.name, licenses });
    }
    // A managed virtual account the server no longer lists has no lines any more: they are removed
    // and what they held becomes pending, like any vanished line.
    for (const va of managed.filter((v) => !remoteVas.has(v.external_id))) fetched.push({ id: va.external_id, name: va.name, licenses: [] });

    // Usage first: if the server does not acknowledge it, nothing is applied.
    const periodEnd = ctx.app.clock.now().toISOString();
    const periodStart = await inScope(ctx, (em) => nextPeriodStart(em, tenantId));
    const measurements = await inScope(ctx, (em) => usageMeasurements(em, tenantId, { start: periodStart, end: periodEnd }, null));
    const receipts: { reportId: string; vaId: string; ackId: string; acknowledgedAt: string; count: number }[] = [];
    for (const va of listed) {
      const mine = measurements.filter((m) => m.virtual_account_id === va.id);
      if (mine.length === 0) continue;
      const reportId = randomUUID();
      const receipt = await client.sendUsage(account.external_id, {
        reportId,
        virtualAccountId: va.external_id,
        measurements: mine.map(({ virtual_account_id: _va, ...m }) => m),
      });
      receipts.push({ reportId, vaId: va.id, ackId: receipt.ackId, acknowledgedAt: receipt.acknowledgedAt, count: mine.length });
    }
    // Acknowledged usage is recorded at once (own transaction): if applying the lines fails below,
    // the next sync must not report this period a second time.
    if (receipts.length > 0) {
      await inScope(ctx, async (em) => {
        for (const r of receipts) {
          await sql(
            em,
            `insert into usage_report (tenant_id, id, via, smart_account_id, virtual_account_id, period_start, period_end,
                                       generated_by, measurements, status, ack_id, acknowledged_at)
             values (?, ?, 'ONLINE', ?, ?, ?, ?, ?, ?, 'ACKNOWLEDGED', ?, ?)`,
            [tenantId, r.reportId, account.id, r.vaId, periodStart, periodEnd, ctx.viewer.subject, r.count, r.ackId, r.acknowledgedAt],
          );
        }
      });
    }

    const finished = await inScope(ctx, async (em) => {
      // Every remote virtual account is recorded (new ones unmanaged); only managed ones' lines are synced.
      await sql(
        em,
        `insert into virtual_account (tenant_id, smart_account_id, external_id, name)
         select ?, ?, r.id, r.name from jsonb_to_recordset(?::jsonb) as r(id text, name text)
         on conflict (tenant_id, smart_account_id, external_id) do update set name = excluded.name, updated_at = app_now()`,
        [tenantId, account.id, JSON.stringify(remote.virtualAccounts)],
      );
      const counts = await applyLicenseLines(ctx, em, tenantId, account.id, fetched, 'SYNC', false);
      await sql(em, 'update smart_account set last_synced_at = app_now() where tenant_id = ? and id = ?', [tenantId, account.id]);
      const [row] = await sql<SyncRunRow>(
        em,
        `update sync_run r set status = 'SUCCEEDED', finished_at = app_now(), lines_added = ?, lines_changed = ?, lines_removed = ?,
                assignments_pending = ?, assignments_reconciled = ?, usage_reported = ?
          where tenant_id = ? and id = ? returning ${SYNC_RUN_COLUMNS}`,
        [counts.linesAdded, counts.linesChanged, counts.linesRemoved, counts.assignmentsPending, counts.assignmentsReconciled,
         receipts.reduce((n, r) => n + r.count, 0), tenantId, run.id],
      );
      await recordAudit(ctx, em, {
        tenantId,
        action: 'sync.licenses_synchronized',
        targetType: 'SyncRun',
        targetIds: [run.id],
        details: { mode: settings.mode, trigger, ...counts, usageReports: receipts.length },
      });
      await evaluateAlerts(ctx, em, tenantId);
      return row;
    });
    return SyncRun.from(finished);
  } catch (err) {
    const message =
      err instanceof SsmError
        ? `license server ${err.code.toLowerCase()}: ${err.message}`
        : err instanceof Error && 'extensions' in err
          ? err.message
          : 'internal error while applying the license server data';
    if (!(err instanceof SsmError) && !(err instanceof Error && 'extensions' in err)) ctx.log.error({ err }, 'license sync failed');
    return SyncRun.from(await failRun(ctx, run.id, tenantId, message));
  } finally {
    heartbeat.stop();
    await client?.close();
  }
}

/** Stamps the run's heartbeat every SYNC_HEARTBEAT_MS while it runs (a failed stamp is logged, the next one tries again). */
function startHeartbeat(ctx: RequestContext, tenantId: string, runId: string): { stop(): void } {
  const timer = setInterval(() => {
    inScope(ctx, (em) =>
      sql(em, "update sync_run set heartbeat_at = clock_timestamp() where tenant_id = ? and id = ? and status = 'RUNNING'", [tenantId, runId]),
    ).catch((err: unknown) => ctx.log.warn({ err, runId }, 'sync heartbeat failed'));
  }, ctx.app.config.syncRuns.heartbeatMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export async function listSyncRuns(
  ctx: RequestContext,
  args: { tenantId?: string | null; first?: number | null; after?: string | null },
): Promise<Connection<SyncRun>> {
  return newestFirstPage(ctx, {
    from: 'sync_run r',
    columns: SYNC_RUN_COLUMNS,
    timeColumn: 'r.started_at',
    idColumn: 'r.id',
    tenantColumn: 'r.tenant_id',
    tenantId: await resolveTenantScope(ctx, args.tenantId),
    cursor: RUN_CURSOR,
    first: args.first,
    after: args.after,
    timeOf: (r: SyncRunRow) => r.started_at,
    toNode: SyncRun.from,
  });
}

/** The latest run of the viewer's scope, and when the scheduler next syncs that tenant. */
export async function lastRunAndNext(ctx: RequestContext): Promise<{ last: SyncRun | null; next: Date | null }> {
  const tenantId = ctx.viewer.tenantId;
  return inScope(ctx, async (em) => {
    const settings = await readSettings(em);
    const [last] = await sql<SyncRunRow>(
      em,
      `select ${SYNC_RUN_COLUMNS} from sync_run r ${tenantId ? 'where r.tenant_id = ?' : ''} order by r.started_at desc, r.id desc limit 1`,
      tenantId ? [tenantId] : [],
    );
    let next: Date | null = null;
    if (tenantId && settings.mode !== SyncMode.OFFLINE) {
      const [row] = await sql<{ next: string | null }>(
        em,
        `select to_json(coalesce(last_synced_at, app_now()) + make_interval(mins => ?)) #>> '{}' as next
           from smart_account where tenant_id = ?`,
        [settings.sync_interval_minutes, tenantId],
      );
      next = row?.next ? new Date(row.next) : null;
    }
    return { last: last ? SyncRun.from(last) : null, next };
  });
}

export async function findSyncRun(ctx: RequestContext, idArg: string): Promise<SyncRun | null> {
  const id = parseIdArg(idArg, 'SyncRun', 'id');
  const tenantId = ctx.viewer.tenantId;
  const rows = await inScope(ctx, (em) =>
    sql<SyncRunRow>(em, `select ${SYNC_RUN_COLUMNS} from sync_run r where r.id = ?${tenantId ? ' and r.tenant_id = ?' : ''}`, [
      id,
      ...(tenantId ? [tenantId] : []),
    ]),
  );
  return rows[0] ? SyncRun.from(rows[0]) : null;
}

/** Tenants whose scheduled sync is due (smart account known, interval elapsed, no live run: an abandoned one does not count). */
export async function dueTenants(ctx: RequestContext): Promise<string[]> {
  return inScope(ctx, async (em) => {
    const settings = await readSettings(em);
    if (settings.mode === SyncMode.OFFLINE) return [];
    const rows = await sql<{ tenant_id: string }>(
      em,
      `select s.tenant_id from smart_account s
         -- a suspended tenant's scheduled syncs pause until it is resumed
         join tenant t on t.id = s.tenant_id and t.status = 'ACTIVE'
        where (s.last_synced_at is null or s.last_synced_at <= app_now() - make_interval(mins => ?))
          and not exists (select 1 from sync_run r where r.tenant_id = s.tenant_id and r.status = 'RUNNING' and not ${STALE_RUN})
        order by s.tenant_id`,
      [settings.sync_interval_minutes, ctx.app.config.syncRuns.abandonedAfterMs],
    );
    return rows.map((r) => r.tenant_id);
  });
}


export interface SyncRunCount {
  mode: SyncMode;
  status: SyncRunStatus;
  n: number;
}

/** Sync runs of every tenant by mode and status (metrics): provider scope only, counts and no ids. */
export async function syncRunCounts(ctx: RequestContext): Promise<SyncRunCount[]> {
  requireProviderWide(ctx, 'sync run counts');
  return inScope(ctx, (em) => sql<SyncRunCount>(em, 'select mode, status, count(*)::int as n from sync_run group by 1, 2'));
}
