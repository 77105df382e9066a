import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { badInput, InvariantError, notFound } from '../../common/errors';
import { virtualAccountsNotFound } from '../accounts/account.errors';
import { groupLoader, loadById, loadGroup } from '../../common/loaders';
import { parseIdArg, toGlobalId } from '../../common/global-id';
import { preload } from '../../common/preload';
import { columnsFor } from '../../common/projection';
import { withIdempotency } from '../../common/idempotency';
import { inScope, scopedRead } from '../../db/scope';
import { bulkSql, pgArray, sql } from '../../db/sql';
import { evaluateAlerts } from '../alerts/alert.service';
import { recordAudit } from '../audit/audit.service';
import { DeviceKind } from '../devices/device.enums';
import { findEntitlement, type EntitlementSelector } from '../entitlements/entitlement.service';
import type { EntitlementRow } from '../entitlements/entitlement.types';
import { BillingType } from '../licenses/license.enums';
import { LICENSE_COLUMNS, primeLicenses } from '../licenses/license.service';
import { License, type LicenseRow } from '../licenses/license.types';
import { requireTenantScope } from '../tenants/tenant.service';
import { AssignmentCategory, AssignmentStatus, ComplianceReason, ComplianceStatus } from './assignment.enums';
import { devicesDecommissioned, devicesNotFound, insufficientLicenses, notApplicable, type InapplicableDevice } from './assignment.errors';
import {
  ASSIGNMENT_COLUMN_MAP,
  ASSIGNMENT_COLUMNS,
  LicenseAssignment,
  type AssignLicensesInput,
  type AssignmentRow,
  type ReconcileAssignmentsInput,
  type ReleaseLicensesInput,
} from './assignment.types';

import { deviceIdsMatching, oneTarget } from '../devices/device.filter';
import type { DeviceFilter } from '../devices/device.types';
import { MAX_DEVICES_PER_CALL } from '../devices/device.validation';

interface AssignResult {
  rows: AssignmentRow[];
  assigned: number;
  replaced: number;
  unchanged: number;
  pending: number;
}

export interface AssignOutcome extends Omit<AssignResult, 'rows'> {
  /** Empty when the caller did not ask for them (see AssignOptions). */
  assignments: LicenseAssignment[];
  replayed: boolean;
}

export interface AssignOptions {
  /**
   * Build `assignments` (the caller selected them). Without it the call reads and returns no
   * assignment rows at all, only the counts. A call with an idempotency key always builds them,
   * because its stored result answers every retry, whatever the retry selects.
   */
  withAssignments: boolean;
}

interface Pool {
  id: string;
  billing_type: BillingType;
  quantity: number;
  end_date: string;
  in_use: number;
}

/**
 * The devices a bulk input names: its ids (checked here, before any work) or, for a filter, a
 * function that finds them inside the transaction (so a retry with an idempotency key replays the
 * first call's devices rather than matching again).
 */
export function deviceTargets(input: { deviceIds?: readonly string[] | null; filter?: DeviceFilter | null }): (em: EntityManager, tenantId: string) => Promise<string[]> {
  oneTarget(input);
  if (input.filter) {
    const filter = input.filter;
    return (em, tenantId) => deviceIdsMatching(em, tenantId, filter);
  }
  const ids = parseDeviceIds(input.deviceIds ?? []);
  return async () => ids;
}

function parseDeviceIds(ids: readonly string[]): string[] {
  if (ids.length === 0) throw badInput('deviceIds must not be empty', { argumentName: 'deviceIds' });
  if (ids.length > MAX_DEVICES_PER_CALL) {
    throw badInput(`at most ${MAX_DEVICES_PER_CALL} devices per call, got ${ids.length}`, { argumentName: 'deviceIds' });
  }
  const parsed = ids.map((id, i) => parseIdArg(id, 'Device', `deviceIds[${i}]`));
  const seen = new Map<string, number>();
  parsed.forEach((id, i) => {
    const first = seen.get(id);
    if (first !== undefined) throw badInput(`deviceIds[${i}] repeats deviceIds[${first}]`, { argumentName: 'deviceIds' });
    seen.set(id, i);
  });
  return parsed;
}

function selectorOf(input: AssignLicensesInput): EntitlementSelector {
  const ways = [input.level != null || input.tier != null, input.entitlementTag != null, input.hsec === true].filter(Boolean).length;
  if (ways !== 1) {
    throw badInput('name the license exactly one way: level and tier, entitlementTag, or hsec: true', { argumentName: 'input' });
  }
  if (input.entitlementTag != null) return { tag: input.entitlementTag };
  if (input.hsec) return { hsec: true };
  if (input.level == null || input.tier == null) {
    throw badInput('level and tier go together: give both', { argumentName: input.level == null ? 'level' : 'tier' });
  }
  return { level: input.level, tier: input.tier };
}

const PROBLEM_TEXT: Record<string, (e: EntitlementRow, d: { kind: string; mode: string; software_version: string }) => string> = {
  DEVICE_KIND: (e, d) => `${e.display_name} does not apply to ${d.kind === DeviceKind.VEDGE ? 'vEdge' : 'IOS XE SD-WAN'} devices`,
  DEVICE_MODE: (e, d) => `${e.display_name} does not apply in ${d.mode.toLowerCase()} mode`,
  SOFTWARE_RELEASE: (e, d) =>
    `needs release ${(d.kind === DeviceKind.VEDGE ? e.min_release_vedge : e.min_release_ios_xe)?.join('.')} or later, the device runs ${d.software_version}`,
  HSEC_INCOMPATIBLE: () => 'the device is not HSEC-compatible',
};

/**
 * Assigns one license to many devices, all or nothing, in a constant number of statements:
 * lock the devices, check applicability in SQL (entitlement_problems), lock the candidate license
 * lines, count their use, distribute, release replaced assignments and insert the new ones.
 */
export async function assignLicenses(
  ctx: RequestContext,
  input: AssignLicensesInput,
  options: AssignOptions = { withAssignments: true },
): Promise<AssignOutcome> {
  const targets = deviceTargets(input);
  const selector = selectorOf(input);
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const virtualAccountId = input.virtualAccountId ? parseIdArg(input.virtualAccountId, 'VirtualAccount', 'virtualAccountId') : null;
  const entitlement = await findEntitlement(ctx, selector);
  if (!entitlement) {
    throw badInput(`no entitlement matches ${'tag' in selector ? JSON.stringify(selector.tag) : JSON.stringify(selector)}`, {
      argumentName: 'entitlementTag',
    });
  }
  if (entitlement.obsolete) throw badInput(`${entitlement.display_name} (${entitlement.tag}) is obsolete and never assignable`);
  if (!entitlement.managed || entitlement.category === 'OTHER') {
    throw badInput(`${entitlement.display_name} (${entitlement.tag}) is not managed by this product and cannot be assigned`);
  }
  const category = entitlement.category as unknown as AssignmentCategory;
  const { ...request } = input;
  delete request.idempotencyKey;
  const withRows = options.withAssignments || input.idempotencyKey != null;

  const { result, replayed } = await inScope(ctx, (em) =>
    withIdempotency(em, { tenantId, operation: 'assignLicenses', key: input.idempotencyKey, request }, async () => {
      const deviceIds = await targets(em, tenantId);
      // A filter that matches no device assigns nothing; that is not an error.
      if (deviceIds.length === 0) return { rows: [], assigned: 0, replaced: 0, unchanged: 0, pending: 0 };
      return assignInTransaction(ctx, em, { tenantId, deviceIds, entitlement, category, input, virtualAccountId, withRows });
    }),
  );
  return {
    assignments: result.rows.map(LicenseAssignment.from),
    assigned: result.assigned,
    replaced: result.replaced,
    unchanged: result.unchanged,
    pending: result.pending,
    replayed,
  };
}

async function assignInTransaction(
  ctx: RequestContext,
  em: EntityManager,
  o: {
    tenantId: string;
    deviceIds: string[];
    entitlement: EntitlementRow;
    category: AssignmentCategory;
    input: AssignLicensesInput;
    virtualAccountId: string | null;
    withRows: boolean;
  },
): Promise<AssignResult> {
  const { tenantId, deviceIds, entitlement, category, input, withRows } = o;
  // One id list, sent once per statement as a bind parameter (db/sql.ts bulkSql).
  const ids = pgArray(deviceIds);
  // Lock order, everywhere: devices (by id), then license lines (by id). Concurrent calls touching
  // the same devices serialize here; the statements after it see what the earlier call committed.
  // Only a count comes back, plus the inapplicable devices (applicability is computed once per
  // distinct kind, mode, release and HSEC capability) and, when some are missing, the ids found.
  const {
    rows: [lock],
  } = await bulkSql<{ found: number; found_ids: string[] | null; decommissioned_ids: string[] | null; inapplicable: InapplicableRow[] }>(
    em,
    `with locked as materialized (
       select d.id, d.uuid, d.hostname, d.kind, d.mode, d.software_version, d.hsec_compatible, d.decommissioned_at
         from device d where d.tenant_id = ? and d.id = any(?::uuid[])
        order by d.id for update
     ), inapplicable as materialized (
       -- materialized: inlined, the planner would check each device again
       select k.kind, k.mode, k.software_version, k.hsec_compatible, p.problems
         from (select distinct kind, mode, software_version, hsec_compatible from locked) k cross join entitlement e
        cross join lateral (select entitlement_problems(e, k.kind, k.mode, k.software_version, k.hsec_compatible) as problems) p
        where e.id = ? and cardinality(p.problems) > 0
     )
     select (select count(*)::int from locked) as found,
            (select array_agg(l.id order by l.id) from locked l where l.decommissioned_at is not null) as decommissioned_ids,
            case when (select count(*) from locked) < ?::int then (select array_agg(l.id) from locked l) end as found_ids,
            case when exists (select 1 from inapplicable) then
              (select json_agg(json_build_object('id', l.id, 'uuid', l.uuid, 'hostname', l.hostname, 'kind', l.kind,
                                                 'mode', l.mode, 'software_version', l.software_version, 'problems', i.problems)
                               order by l.id)
                 from locked l
                 join inapplicable i on (i.kind, i.mode, i.software_version, i.hsec_compatible) = (l.kind, l.mode, l.software_version, l.hsec_compatible))
            else '[]' end as inapplicable`,
    [tenantId, ids, entitlement.id, deviceIds.length],
  );
  if (lock.found !== deviceIds.length) {
    const found = new Set(lock.found_ids ?? []);
    // Another tenant's device is reported exactly like one that does not exist.
    throw devicesNotFound(deviceIds.filter((id) => !found.has(id)).map((id) => toGlobalId('Device', id)));
  }
  if (lock.decommissioned_ids) throw devicesDecommissioned(lock.decommissioned_ids.map((id) => toGlobalId('Device', id)));
  const inapplicable: InapplicableDevice[] = lock.inapplicable.map((d) => ({
    deviceId: toGlobalId('Device', d.id),
    uuid: d.uuid,
    hostname: d.hostname,
    reasons: d.problems,
    message: d.problems.map((p) => PROBLEM_TEXT[p]?.(entitlement, d) ?? p).join('; '),
  }));
  if (inapplicable.length > 0) throw notApplicable(entitlement.display_name, inapplicable);
  if (o.virtualAccountId) {
    const [va] = await sql<{ id: string }>(em, 'select id from virtual_account where tenant_id = ? and id = ?', [tenantId, o.virtualAccountId]);
    // Another tenant's virtual account is answered exactly like one that does not exist.
    if (!va) throw virtualAccountsNotFound([input.virtualAccountId ?? o.virtualAccountId]);
  }

  const { rows: current } = await bulkSql<CurrentRow>(
    em,
    `select ${withRows ? ASSIGNMENT_COLUMNS : 'a.id, a.device_id'},
            ((a.status = 'ACTIVE' and a.entitlement_id = ? and l.end_date >= app_now()::date
              and (?::text is null or l.billing_type = ?) and (?::uuid is null or l.virtual_account_id = ?)
              and (?::text is null or l.subscription_id = ?))
             -- a trial tenant asking again for the default entitlement a device already waits for
             or (a.status = 'PENDING_RECONCILIATION' and a.entitlement_id = ? and a.billing_type is not distinct from ?::text
                 and not exists (select 1 from smart_account s where s.tenant_id = a.tenant_id))) as matches
       from assignment a left join license l on l.tenant_id = a.tenant_id and l.id = a.license_id
      where a.tenant_id = ? and a.device_id = any(?::uuid[]) and a.category = ? and a.released_at is null`,
    [
      entitlement.id,
      input.billingType ?? null, input.billingType ?? null,
      o.virtualAccountId, o.virtualAccountId,
      input.subscriptionId ?? null, input.subscriptionId ?? null,
      entitlement.id, input.billingType ?? null,
      tenantId, ids, category,
    ],
  );
  const currentByDevice = new Map(current.map((a) => [a.device_id, a]));
  const unchanged = deviceIds.filter((id) => currentByDevice.get(id)?.matches);
  const toAssign = deviceIds.filter((id) => !currentByDevice.get(id)?.matches);
  const toRelease = toAssign.map((id) => currentByDevice.get(id)).filter((a): a is CurrentRow => !!a);

  if (toRelease.length > 0) {
    await bulkSql(em, `update assignment set released_at = app_now(), released_by = ? where tenant_id = ? and id = any(?::uuid[])`, [
      ctx.viewer.subject,
      tenantId,
      pgArray(toRelease.map((a) => a.id)),
    ]);
  }

  // The new rows: toAssign in input order, each bound to the license of its run (or, on trial,
  // to none and pending reconciliation).
  let status = AssignmentStatus.ACTIVE;
  let runs: Run[] = [];
  if (toAssign.length > 0) {
    const [{ has_account: hasAccount }] = await sql<{ has_account: boolean }>(
      em,
      'select exists (select 1 from smart_account where tenant_id = ?) as has_account',
      [tenantId],
    );
    if (!hasAccount) {
      // Trial: no smart account yet. Devices get the default entitlement, bound to licenses later
      // by reconcileAssignments.
      if (o.virtualAccountId || input.subscriptionId) {
        throw badInput('the tenant has no smart account yet: virtualAccountId and subscriptionId cannot match anything');
      }
      status = AssignmentStatus.PENDING_RECONCILIATION;
    } else {
      const pools = await lockPools(em, tenantId, [entitlement.id], {
        billingType: input.billingType ?? null,
        virtualAccountId: o.virtualAccountId,
        subscriptionId: input.subscriptionId ?? null,
      });
      const plan = distribute(pools, toAssign.length);
      if (plan.shortfall > 0) {
        if (pools.length === 0) await explainNoPool(em, tenantId, entitlement, o.virtualAccountId, input);
        const scope = input.billingType ? ` (${input.billingType})` : '';
        throw insufficientLicenses(entitlement.display_name, toAssign.length, toAssign.length - plan.shortfall, scope);
      }
      runs = plan.runs;
    }
  }

  // Run i covers the devices numbered first[i]..last[i] (1-based, in toAssign order).
  const first: number[] = [];
  const last: number[] = [];
  for (const r of runs) {
    first.push((last.at(-1) ?? 0) + 1);
    last.push((last.at(-1) ?? 0) + r.count);
  }
  const inserted = toAssign.length
    ? await bulkSql<AssignmentRow>(
        em,
        `insert into assignment as a (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_by)
         select ?, d.id, ?, ?, r.license_id, ?, ?, ?
           from unnest(?::uuid[]) with ordinality as d(id, n)
           left join unnest(?::uuid[], ?::int[], ?::int[]) as r(license_id, first_n, last_n) on d.n between r.first_n and r.last_n
         ${withRows ? `returning ${ASSIGNMENT_COLUMNS}` : ''}`,
        [
          tenantId, entitlement.id, category, input.billingType ?? null, status, ctx.viewer.subject,
          toAssign.length === deviceIds.length ? ids : pgArray(toAssign),
          pgArray(runs.map((r) => r.licenseId)), `{${first.join(',')}}`, `{${last.join(',')}}`,
        ],
      )
    : { rows: [], rowCount: 0 };
  const pending = status === AssignmentStatus.PENDING_RECONCILIATION ? inserted.rowCount : 0;
  if (inserted.rowCount > 0) {
    await recordAudit(ctx, em, {
      tenantId,
      action: 'licenses.assigned',
      targetType: 'Device',
      targetIds: toAssign,
      details: {
        entitlement: entitlement.tag,
        billingType: input.billingType ?? null,
        replaced: toRelease.length,
        pending,
        licenses: Object.fromEntries(runs.map((r) => [r.licenseId, r.count])),
      },
    });
  }
  await evaluateAlerts(ctx, em, tenantId);
  let rows: AssignmentRow[] = [];
  if (withRows) {
    const byDevice = new Map<string, AssignmentRow>([
      ...current.filter((a) => a.matches).map((a) => [a.device_id, stripMatches(a as AssignmentRow & { matches: boolean })] as const),
      ...inserted.rows.map((a) => [a.device_id, a] as const),
    ]);
    rows = deviceIds.map((id) => byDevice.get(id) as AssignmentRow);
  }
  return {
    rows,
    assigned: inserted.rowCount,
    replaced: toRelease.length,
    unchanged: unchanged.length,
    pending,
  };
}

/** A device's current assignment in the requested category: the full row when the caller wants rows. */
type CurrentRow = Pick<AssignmentRow, 'id' | 'device_id'> & Partial<AssignmentRow> & { matches: boolean };

/** A locked device the entitlement does not apply to, with the reason codes. */
interface InapplicableRow {
  id: string;
  uuid: string;
  hostname: string;
  kind: string;
  mode: string;
  software_version: string;
  problems: string[];
}

/** `count` consecutive devices (in input order) bound to one license line. */
interface Run {
  licenseId: string;
  count: number;
}

function stripMatches(a: AssignmentRow & { matches?: boolean }): AssignmentRow {
  const { matches: _matches, ...row } = a;
  return row;
}

/**
 * Locks the usable license lines (managed virtual account, term running) and then counts their
 * current use. Two statements on purpose: under READ COMMITTED a count taken in the locking
 * statement would use the snapshot from before the wait and miss what the lock holder committed.
 */
async function lockPools(
  em: EntityManager,
  tenantId: string,
  entitlementIds: string[],
  f: { billingType: BillingType | null; virtualAccountId: string | null; subscriptionId: string | null },
): Promise<(Pool & { entitlement_id: string })[]> {
  const locked = await sql<{ id: string }>(
    em,
    `select l.id from license l
       join virtual_account v on v.tenant_id = l.tenant_id and v.id = l.virtual_account_id
      where l.tenant_id = ? and l.entitlement_id = any(?::uuid[]) and v.managed and l.removed_at is null
        and l.start_date <= app_now()::date and l.end_date >= app_now()::date
        and (?::text is null or l.billing_type = ?) and (?::uuid is null or l.virtual_account_id = ?)
        and (?::text is null or l.subscription_id = ?)
      order by l.id for update of l`,
    [tenantId, pgArray(entitlementIds), f.billingType, f.billingType, f.virtualAccountId, f.virtualAccountId, f.subscriptionId, f.subscriptionId],
  );
  if (locked.length === 0) return [];
  return sql<Pool & { entitlement_id: string }>(
    em,
    `select l.id, l.entitlement_id, l.billing_type, l.quantity, l.end_date::text as end_date,
            (select count(*)::int from assignment a
              where a.tenant_id = l.tenant_id and a.license_id = l.id and a.released_at is null) as in_use
       from license l where l.tenant_id = ? and l.id = any(?::uuid[])
      order by (l.billing_type = 'POSTPAID'), l.end_date, l.id`,
    [tenantId, pgArray(locked.map((l) => l.id))],
  );
}

/**
 * Deterministic distribution: earliest-ending prepaid lines first, up to what each has left; then
 * postpaid lines (not capped; the earliest-ending one takes the rest). Devices are taken in input
 * order, so the result is a list of runs.
 */
function distribute(pools: Pool[], count: number): { runs: Run[]; shortfall: number } {
  const runs: Run[] = [];
  let left = count;
  for (const pool of pools) {
    if (left === 0) break;
    const room = pool.billing_type === BillingType.PREPAID ? Math.max(pool.quantity - pool.in_use, 0) : left;
    const take = Math.min(room, left);
    if (take > 0) runs.push({ licenseId: pool.id, count: take });
    left -= take;
  }
  return { runs, shortfall: left };
}

/** When no line is usable at all, say why (unmanaged virtual account, expired, not started) rather than "0 available". */
async function explainNoPool(
  em: EntityManager,
  tenantId: string,
  entitlement: EntitlementRow,
  virtualAccountId: string | null,
  input: AssignLicensesInput,
): Promise<void> {
  const lines = await sql<{ managed: boolean; va_name: string; expired: boolean; not_started: boolean }>(
    em,
    `select v.managed, v.name as va_name, l.end_date < app_now()::date as expired, l.start_date > app_now()::date as not_started
       from license l join virtual_account v on v.tenant_id = l.tenant_id and v.id = l.virtual_account_id
      where l.tenant_id = ? and l.entitlement_id = ? and l.removed_at is null
        and (?::text is null or l.billing_type = ?) and (?::uuid is null or l.virtual_account_id = ?)
        and (?::text is null or l.subscription_id = ?)`,
    [tenantId, entitlement.id, input.billingType ?? null, input.billingType ?? null, virtualAccountId, virtualAccountId,
     input.subscriptionId ?? null, input.subscriptionId ?? null],
  );
  if (lines.length === 0) {
    if (input.subscriptionId) throw notFound(`no ${entitlement.display_name} license line with subscription ${JSON.stringify(input.subscriptionId)}`);
    return;
  }
  if (lines.every((l) => !l.managed)) {
    const names = [...new Set(lines.map((l) => l.va_name))].join(', ');
    throw badInput(`the ${entitlement.display_name} licenses are in virtual account(s) not managed here (${names}); manage them first`);
  }
  if (lines.every((l) => l.expired || !l.managed)) {
    throw badInput(`every ${entitlement.display_name} license in a managed virtual account has expired`);
  }
  if (lines.every((l) => l.expired || l.not_started || !l.managed)) {
    throw badInput(`no ${entitlement.display_name} license in a managed virtual account has started its term yet`);
  }
}

export interface ReleaseOutcome {
  releasedAssignments: LicenseAssignment[];
  released: number;
  unchanged: number;
  replayed: boolean;
}

/** Releases what the devices hold (one category or all), all or nothing; releasing nothing is not an error. */
export async function releaseLicenses(ctx: RequestContext, input: ReleaseLicensesInput): Promise<ReleaseOutcome> {
  const targets = deviceTargets(input);
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const { ...request } = input;
  delete request.idempotencyKey;
  const { result, replayed } = await inScope(ctx, (em) =>
    withIdempotency(em, { tenantId, operation: 'releaseLicenses', key: input.idempotencyKey, request }, async () => {
      const deviceIds = await targets(em, tenantId);
      await lockDevices(em, tenantId, deviceIds);
      const released = await releaseInTransaction(ctx, em, tenantId, deviceIds, input.category ?? null);
      await evaluateAlerts(ctx, em, tenantId);
      const touched = new Set(released.map((r) => r.device_id));
      return { rows: released, unchanged: deviceIds.filter((id) => !touched.has(id)).length };
    }),
  );
  return {
    releasedAssignments: result.rows.map(LicenseAssignment.from),
    released: result.rows.length,
    unchanged: result.unchanged,
    replayed,
  };
}

/** Locks the devices (by id, the lock order everywhere); throws NOT_FOUND naming those the tenant does not have. */
export async function lockDevices(em: EntityManager, tenantId: string, deviceIds: string[]): Promise<{ id: string; decommissioned: boolean }[]> {
  const devices = await sql<{ id: string; decommissioned: boolean }>(
    em,
    'select id, decommissioned_at is not null as decommissioned from device where tenant_id = ? and id = any(?::uuid[]) order by id for update',
    [tenantId, pgArray(deviceIds)],
  );
  if (devices.length !== deviceIds.length) {
    const found = new Set(devices.map((d) => d.id));
    throw devicesNotFound(deviceIds.filter((id) => !found.has(id)).map((id) => toGlobalId('Device', id)));
  }
  return devices;
}

/**
 * Releases what the (locked) devices hold, of one category or all, and audits it, inside the
 * caller's transaction; alerts are the caller's to evaluate once its whole change is written.
 */
export async function releaseInTransaction(
  ctx: RequestContext,
  em: EntityManager,
  tenantId: string,
  deviceIds: string[],
  category: AssignmentCategory | null,
): Promise<AssignmentRow[]> {
  if (deviceIds.length === 0) return [];
  const released = await sql<AssignmentRow>(
    em,
    `update assignment a set released_at = app_now(), released_by = ?
      where a.tenant_id = ? and a.device_id = any(?::uuid[]) and a.released_at is null and (?::text is null or a.category = ?)
      returning ${ASSIGNMENT_COLUMNS}`,
    [ctx.viewer.subject, tenantId, pgArray(deviceIds), category, category],
  );
  if (released.length > 0) {
    await recordAudit(ctx, em, {
      tenantId,
      action: 'licenses.released',
      targetType: 'Device',
      targetIds: [...new Set(released.map((r) => r.device_id))],
      details: { category: category ?? 'ALL', assignments: released.length },
    });
  }
  return released;
}

export interface ReconcileOutcome {
  reconciledAssignments: LicenseAssignment[];
  reconciled: number;
  stillPending: number;
}

/**
 * Binds pending (default-entitlement) assignments to license lines: oldest assignment first, each
 * to the earliest-ending prepaid line with room, else the earliest-ending postpaid line (a
 * requested billing type restricts the choice). What finds no line stays pending and is counted.
 */
export async function reconcileAssignments(ctx: RequestContext, input: ReconcileAssignmentsInput): Promise<ReconcileOutcome> {
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  return inScope(ctx, async (em) => {
    const outcome = await reconcileInTransaction(ctx, em, tenantId);
    await evaluateAlerts(ctx, em, tenantId);
    return outcome;
  });
}

/**
 * What removed license lines held (a line that vanished from the license server or a summary file,
 * or a hand-recorded line removed with removeLicenses) is never silently dropped: those current
 * assignments lose their line and wait, PENDING_RECONCILIATION, for reconcileInTransaction to bind
 * them to another. The caller marks the lines removed first, so reconciliation cannot pick them
 * again. Returns how many assignments became pending.
 */
export async function unbindFromRemovedLines(em: EntityManager, tenantId: string, licenseIds: readonly string[]): Promise<number> {
  if (licenseIds.length === 0) return 0;
  const moved = await sql<{ id: string }>(
    em,
    `update assignment set license_id = null, status = 'PENDING_RECONCILIATION'
      where tenant_id = ? and license_id = any(?::uuid[]) and released_at is null returning id`,
    [tenantId, pgArray(licenseIds)],
  );
  return moved.length;
}

export async function reconcileInTransaction(ctx: RequestContext, em: EntityManager, tenantId: string): Promise<ReconcileOutcome> {
  const pending = await sql<AssignmentRow>(
    em,
    `select ${ASSIGNMENT_COLUMNS} from assignment a
      where a.tenant_id = ? and a.status = 'PENDING_RECONCILIATION' and a.released_at is null
      order by a.assigned_at, a.id for update`,
    [tenantId],
  );
  if (pending.length === 0) return { reconciledAssignments: [], reconciled: 0, stillPending: 0 };
  const pools = await lockPools(em, tenantId, [...new Set(pending.map((p) => p.entitlement_id))], {
    billingType: null,
    virtualAccountId: null,
    subscriptionId: null,
  });
  const room = new Map(pools.map((p) => [p.id, p.billing_type === BillingType.PREPAID ? Math.max(p.quantity - p.in_use, 0) : Infinity]));
  const bindings: { id: string; license_id: string }[] = [];
  for (const a of pending) {
    const pool = pools.find(
      (p) => p.entitlement_id === a.entitlement_id && (a.billing_type === null || p.billing_type === a.billing_type) && (room.get(p.id) ?? 0) > 0,
    );
    if (!pool) continue;
    room.set(pool.id, (room.get(pool.id) ?? 0) - 1);
    bindings.push({ id: a.id, license_id: pool.id });
  }
  const updated = bindings.length
    ? await sql<AssignmentRow>(
        em,
        `update assignment a set license_id = r.license_id, status = 'ACTIVE'
           from jsonb_to_recordset(?::jsonb) as r(id uuid, license_id uuid)
          where a.tenant_id = ? and a.id = r.id
          returning ${ASSIGNMENT_COLUMNS}`,
        [JSON.stringify(bindings), tenantId],
      )
    : [];
  await recordAudit(ctx, em, {
    tenantId,
    action: 'licenses.reconciled',
    targetType: 'LicenseAssignment',
    targetIds: updated.map((u) => u.id),
    details: { reconciled: updated.length, stillPending: pending.length - updated.length },
  });
  return {
    reconciledAssignments: updated.map(LicenseAssignment.from),
    reconciled: updated.length,
    stillPending: pending.length - updated.length,
  };
}

const CURRENT_LOADER = Symbol('current-assignments-by-device');
const HISTORY_LOADER = Symbol('assignment-history-by-device');
const COMPLIANCE_LOADER = Symbol('compliance-by-device');
const BY_ID_LOADER = Symbol('assignment-by-id');

function scoped(ctx: RequestContext): [string, unknown[]] {
  return ctx.viewer.tenantId ? [' and a.tenant_id = ?', [ctx.viewer.tenantId]] : ['', []];
}

/** A current assignment with the license line it holds (null when pending), as read for a device. */
export type HeldRow = AssignmentRow & { license: LicenseRow | null };

/** What a query selects of current assignments and of the license lines they hold (undefined: every field). */
export interface HeldSelection {
  assignment?: ReadonlySet<string>;
  license?: ReadonlySet<string>;
}

/**
 * The current assignments of the devices `deviceIds` selects (a statement yielding device ids, or
 * `any(?::uuid[])`), each with its license line (`a` and `l`); each line is read once however many
 * assignments hold it. `select` projects both to the fields a query asks for; `complete` says whether
 * the rows have every column (only those may be handed to the request's loaders). `?` placeholders:
 * those of `deviceIds`, then `currentAssignmentsParams(ctx)`.
 */
export function currentAssignmentsSql(ctx: RequestContext, deviceIds: string, select: HeldSelection = {}): { sql: string; complete: boolean } {
  const [scope] = scoped(ctx);
  const licenseScope = ctx.viewer.tenantId ? ' and l.tenant_id = ?' : '';
  const a = columnsFor(ASSIGNMENT_COLUMN_MAP, select.assignment);
  const l = columnsFor(LICENSE_COLUMNS, select.license);
  return {
    sql: `a as (
             select ${a.sql} from assignment a
              where a.device_id ${deviceIds} and a.released_at is null${scope}),
           l as materialized (select ${l.sql} from license l where l.id in (select a.license_id from a)${licenseScope})`,
    complete: a.complete && l.complete,
  };
}

export function currentAssignmentsParams(ctx: RequestContext): unknown[] {
  const [, params] = scoped(ctx);
  return [...params, ...params];
}

/**
 * Current assignments as read by `currentAssignmentsSql`, each with its license line preloaded
 * (common/preload.ts). `lines` keeps one License per line across calls: the devices of a page hold a
 * handful of lines between them.
 */
export function heldAssignments(rows: readonly HeldRow[], lines: Map<string, License> = new Map()): LicenseAssignment[] {
  return rows.map((r) => {
    let line: License | null = null;
    if (r.license) {
      line = lines.get(r.license.id) ?? License.from(r.license);
      lines.set(r.license.id, line);
    }
    return preload(LicenseAssignment.from(r), 'license', line);
  });
}

function currentAssignmentsLoader(ctx: RequestContext) {
  return groupLoader<LicenseAssignment, LicenseAssignment>(
    ctx,
    CURRENT_LOADER,
    async (ids) => {
      const rows = await scopedRead<HeldRow>(
        ctx,
        `with ${currentAssignmentsSql(ctx, '= any(?::uuid[])').sql}
         select a.*, (select row_to_json(l) from l where l.id = a.license_id) as license
           from a order by a.category, a.id`,
        [pgArray(ids), ...currentAssignmentsParams(ctx)],
      );
      const lines = new Map<string, License>();
      const held = heldAssignments(rows, lines);
      primeLicenses(ctx, lines.values());
      return held;
    },
    (a) => a.deviceId,
    (a) => a,
  );
}

/**
 * What a device holds now (DNA first, then HSEC); batched per request. The same statement reads the
 * license lines those assignments hold (each line read once); the assignments carry them, and the
 * license loader gets them too.
 */
export function loadCurrentAssignments(ctx: RequestContext, deviceId: string): Promise<LicenseAssignment[]> {
  return currentAssignmentsLoader(ctx).load(deviceId);
}

/**
 * Hands what another statement of this request read with every column (the devices page reads the
 * current assignments with it) to the loaders, so that asking for them again runs no statement.
 */
export function primeCurrentAssignments(ctx: RequestContext, deviceId: string, assignments: LicenseAssignment[]): void {
  currentAssignmentsLoader(ctx).prime(deviceId, assignments);
}

/** Every assignment a device has had, newest first; batched per request. */
export function loadAssignmentHistory(ctx: RequestContext, deviceId: string): Promise<LicenseAssignment[]> {
  const [scope, params] = scoped(ctx);
  return loadGroup(
    ctx,
    HISTORY_LOADER,
    deviceId,
    (ids) =>
      inScope(ctx, (em) =>
        sql<AssignmentRow>(
          em,
          `select ${ASSIGNMENT_COLUMNS} from assignment a where a.device_id = any(?::uuid[])${scope}
            order by a.assigned_at desc, a.id desc`,
          [pgArray(ids), ...params],
        ),
      ),
    (r) => r.device_id,
    LicenseAssignment.from,
  );
}

export interface Compliance {
  status: ComplianceStatus;
  reasons: ComplianceReason[];
}

/** Compliance from the device_compliance view, batched per request. A device always has a row. */
export async function loadCompliance(ctx: RequestContext, deviceId: string): Promise<Compliance> {
  const scope = ctx.viewer.tenantId ? ' and c.tenant_id = ?' : '';
  const reasons = await loadById(
    ctx,
    COMPLIANCE_LOADER,
    deviceId,
    (ids) =>
      inScope(ctx, (em) =>
        sql<{ device_id: string; reasons: ComplianceReason[] }>(
          em,
          `select c.device_id, c.reasons from device_compliance c where c.device_id = any(?::uuid[])${scope}`,
          [pgArray(ids), ...(ctx.viewer.tenantId ? [ctx.viewer.tenantId] : [])],
        ),
      ),
    (r) => r.device_id,
    (r) => r.reasons,
  );
  if (!reasons) throw new InvariantError(`device ${deviceId} is visible but has no compliance row`);
  return { status: reasons.length ? ComplianceStatus.OUT_OF_COMPLIANCE : ComplianceStatus.COMPLIANT, reasons };
}

export function loadAssignment(ctx: RequestContext, id: string): Promise<LicenseAssignment | null> {
  const [scope, params] = scoped(ctx);
  return loadById(
    ctx,
    BY_ID_LOADER,
    id,
    (ids) =>
      inScope(ctx, (em) =>
        sql<AssignmentRow>(em, `select ${ASSIGNMENT_COLUMNS} from assignment a where a.id = any(?::uuid[])${scope}`, [pgArray(ids), ...params]),
      ),
    (r) => r.id,
    LicenseAssignment.from,
  );
}

export async function findAssignment(ctx: RequestContext, idArg: string): Promise<LicenseAssignment | null> {
  return loadAssignment(ctx, parseIdArg(idArg, 'LicenseAssignment', 'id'));
}
