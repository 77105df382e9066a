import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { byIdLoader } from '../../common/loaders';
import type { ColumnMap } from '../../common/projection';
import { badInput, InvariantError, notFound } from '../../common/errors';
import { withIdempotency } from '../../common/idempotency';
import { reconcileInTransaction, unbindFromRemovedLines } from '../assignments/assignment.service';
import { parseIdArg } from '../../common/global-id';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { inScope, scopedRead } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { evaluateAlerts } from '../alerts/alert.service';
import { recordAudit } from '../audit/audit.service';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import { BILLING_MODELS, BillingModel, BillingType, LicenseSource } from './license.enums';
import { invalidLicenses, licenseInUse, licensesNotFound, licenseNotEditable, licenseRemoved, type InvalidLicense } from './license.errors';
import {
  License,
  type AddLicensesInput,
  type LicenseRow,
  type RemoveLicensesInput,
  type RemoveLicensesPayload,
  type UpdateLicenseInput,
  type UpdateLicensePayload,
} from './license.types';

const CURSOR: CursorSpec = { list: 'licenses', shape: ['date', 'uuid'] };

export const MAX_LICENSES_PER_CALL = 1000;
const SUBSCRIPTION_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const LOADER = Symbol('license-loader');

/**
 * The columns of a license line, by the License fields a query selects (common/projection.ts).
 * inUse is the line's counter (`license_line_use`, migration 20261205000000DashboardCounters): written
 * by the assignment table's statement triggers in the same transaction as every change, so it is exact
 * after each statement, and reading it is one row where counting was one index entry per holder.
 */
export const LICENSE_COLUMNS: ColumnMap = (() => {
  const inUse = 'coalesce((select u.in_use from license_line_use u where u.tenant_id = l.tenant_id and u.license_id = l.id), 0) as in_use';
  const startDate = 'l.start_date::text as start_date';
  const endDate = 'l.end_date::text as end_date';
  const expired = 'l.end_date < app_now()::date as expired';
  const removedAt = "to_json(l.removed_at) #>> '{}' as removed_at";
  return {
    key: ['l.id', 'l.tenant_id'],
    fields: {
      id: [],
      tenant: [],
      virtualAccount: ['l.virtual_account_id'],
      entitlement: ['l.entitlement_id'],
      billingType: ['l.billing_type'],
      billingModel: ['l.billing_model'],
      subscriptionId: ['l.subscription_id'],
      licenseType: ['l.license_type'],
      quantity: ['l.quantity'],
      inUse: [inUse],
      available: ['l.billing_type', 'l.quantity', inUse],
      startDate: [startDate],
      endDate: [endDate],
      expired: [expired],
      source: ['l.source'],
      overAllocated: ['l.billing_type', 'l.quantity', inUse],
      removedAt: [removedAt],
    },
    all: [
      'l.id', 'l.tenant_id', 'l.virtual_account_id', 'l.entitlement_id', 'l.billing_type', 'l.billing_model',
      'l.subscription_id', 'l.license_type', 'l.quantity', startDate, endDate, 'l.source', inUse, expired, removedAt,
    ],
  };
})();

/** Every license read goes through this select (every column; `LICENSE_COLUMNS` projects it). */
export const LICENSE_SELECT = `select ${LICENSE_COLUMNS.all.join(', ')} from license l`;

interface LineFields {
  billingType: BillingType;
  billingModel: BillingModel;
  subscriptionId: string;
  quantity: number;
  startDate: string;
  endDate: string;
}

/** What is wrong with a line's own fields (addLicenses and updateLicense check the same rules). */
function lineProblems(l: LineFields): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  const add = (field: string, reason: string): void => {
    problems.push({ field, reason });
  };
  if (!BILLING_MODELS[l.billingType].includes(l.billingModel)) {
    add('billingModel', `${l.billingModel} is not a ${l.billingType} model (use ${BILLING_MODELS[l.billingType].join(' or ')})`);
  }
  if (!SUBSCRIPTION_RE.test(l.subscriptionId)) add('subscriptionId', 'must be 1 to 64 of A-Z a-z 0-9 . _ : / -');
  if (!Number.isInteger(l.quantity) || l.quantity < 0 || l.quantity > 1_000_000) add('quantity', 'must be 0 to 1,000,000');
  else if (l.billingType === BillingType.PREPAID && l.quantity < 1) add('quantity', 'must be at least 1 for a prepaid license');
  if (l.endDate < l.startDate) add('endDate', `${l.endDate} is before startDate ${l.startDate}`);
  return problems;
}

/**
 * Records license lines directly (provider admins: manual entry and trials until a license server
 * or a summary file provides them). All or nothing.
 */
export async function addLicenses(ctx: RequestContext, input: AddLicensesInput): Promise<License[]> {
  if (input.licenses.length === 0) throw badInput('licenses must not be empty', { argumentName: 'licenses' });
  if (input.licenses.length > MAX_LICENSES_PER_CALL) {
    throw badInput(`addLicenses takes at most ${MAX_LICENSES_PER_CALL} lines, got ${input.licenses.length}`, { argumentName: 'licenses' });
  }
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const problems: InvalidLicense[] = [];
  const lines = input.licenses.map((l, index) => {
    const add = (field: string, reason: string): void => {
      problems.push({ index, field, reason });
    };
    let virtualAccountId = '';
    try {
      virtualAccountId = parseIdArg(l.virtualAccountId, 'VirtualAccount', 'virtualAccountId');
    } catch {
      add('virtualAccountId', 'is not a virtual account id');
    }
    for (const p of lineProblems(l)) add(p.field, p.reason);
    return {
      virtual_account_id: virtualAccountId,
      entitlement_tag: l.entitlementTag,
      billing_type: l.billingType,
      billing_model: l.billingModel,
      subscription_id: l.subscriptionId,
      license_type: l.licenseType,
      quantity: l.quantity,
      start_date: l.startDate,
      end_date: l.endDate,
    };
  });
  const rows = await inScope(ctx, async (em) => {
    // References are checked in one statement: unknown tags and other tenants' virtual accounts.
    const refs = await sql<{ i: number; va: boolean; ent: boolean }>(
      em,
      `select r.i::int as i,
              exists (select 1 from virtual_account v where v.tenant_id = ? and v.id = r.virtual_account_id::uuid) as va,
              exists (select 1 from entitlement e where e.tag = r.entitlement_tag) as ent
         from jsonb_to_recordset(?::jsonb) as r(i int, virtual_account_id text, entitlement_tag text)`,
      [
        tenantId,
        JSON.stringify(
          lines.map((l, i) => ({ i, virtual_account_id: l.virtual_account_id || null, entitlement_tag: l.entitlement_tag })),
        ),
      ],
    );
    for (const r of refs) {
      // An unparsable id was reported above; another tenant's virtual account reads as not found.
      if (!r.va && lines[r.i].virtual_account_id) problems.push({ index: r.i, field: 'virtualAccountId', reason: 'not found' });
      if (!r.ent) problems.push({ index: r.i, field: 'entitlementTag', reason: `${JSON.stringify(lines[r.i].entitlement_tag)} is not in the catalog` });
    }
    if (problems.length) throw invalidLicenses(problems.sort((a, b) => a.index - b.index));
    const inserted = await insertLines(em, tenantId, lines);
    const ids = inserted.map((r) => r.id);
    await recordAudit(ctx, em, { tenantId, action: 'licenses.added', targetType: 'License', targetIds: ids, details: { count: ids.length } });
    await evaluateAlerts(ctx, em, tenantId);
    const added = await sql<LicenseRow>(em, `${LICENSE_SELECT} where l.tenant_id = ? and l.id = any(?::uuid[])`, [tenantId, pgArray(ids)]);
    const byId = new Map(added.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) as LicenseRow); // input order
  });
  return rows.map(License.from);
}

type LineRecord = Record<string, string | number>;

async function insertLines(em: EntityManager, tenantId: string, lines: LineRecord[]): Promise<{ id: string }[]> {
  try {
    return await sql<{ id: string }>(
      em,
      `insert into license (tenant_id, virtual_account_id, entitlement_id, billing_type, billing_model, subscription_id,
                            license_type, quantity, start_date, end_date, source)
       select ?, r.virtual_account_id::uuid, e.id, r.billing_type, r.billing_model, r.subscription_id, r.license_type,
              r.quantity, r.start_date::date, r.end_date::date, 'MANUAL'
         from jsonb_to_recordset(?::jsonb) as r(i int, virtual_account_id text, entitlement_tag text,
              billing_type text, billing_model text, subscription_id text, license_type text, quantity int,
              start_date text, end_date text)
         join entitlement e on e.tag = r.entitlement_tag
        order by r.i
       returning id`,
      [tenantId, JSON.stringify(lines.map((l, i) => ({ i, ...l })))],
    );
  } catch (err) {
    // The virtual account was removed (smart account replaced) between the check and the insert.
    if (err instanceof ForeignKeyConstraintViolationException) throw notFound('a virtual account of these lines no longer exists');
    throw err;
  }
}

export interface LicenseListArgs {
  tenantId?: string | null;
  virtualAccountId?: string | null;
  billingType?: BillingType | null;
  entitlementTag?: string | null;
  first?: number | null;
  after?: string | null;
}

/** License lines ordered by end date (soonest first), then id. */
export async function listLicenses(ctx: RequestContext, args: LicenseListArgs): Promise<Connection<License>> {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, CURSOR);
  const tenantId = await resolveTenantScope(ctx, args.tenantId);
  const where: string[] = ['l.removed_at is null'];
  const params: unknown[] = [];
  if (tenantId) {
    where.push('l.tenant_id = ?');
    params.push(tenantId);
  }
  if (args.virtualAccountId) {
    where.push('l.virtual_account_id = ?');
    params.push(parseIdArg(args.virtualAccountId, 'VirtualAccount', 'virtualAccountId'));
  }
  if (args.billingType) {
    where.push('l.billing_type = ?');
    params.push(args.billingType);
  }
  if (args.entitlementTag) {
    where.push('l.entitlement_id = (select id from entitlement where tag = ?)');
    params.push(args.entitlementTag);
  }
  const filter = where.length ? `where ${where.join(' and ')}` : '';
  const pageWhere = after ? `${filter ? `${filter} and` : 'where'} (l.end_date, l.id) > (?::date, ?::uuid)` : filter;
  return inScope(ctx, async (em) => {
    const rows = await sql<LicenseRow>(em, `${LICENSE_SELECT} ${pageWhere} order by l.end_date, l.id limit ?`, [
      ...params,
      ...(after ? [after[0], after[1]] : []),
      limit + 1,
    ]);
    const [{ n }] = await sql<{ n: number }>(em, `select count(*)::int as n from license l ${filter}`, params);
    return toConnection(rows, limit, n, CURSOR, (r) => [r.end_date, r.id], License.from);
  });
}

function licenseLoader(ctx: RequestContext) {
  const scoped = ctx.viewer.tenantId;
  return byIdLoader(
    ctx,
    LOADER,
    (ids) =>
      scopedRead<LicenseRow>(ctx, `${LICENSE_SELECT} where l.id = any(?::uuid[])${scoped ? ' and l.tenant_id = ?' : ''}`, [
        pgArray(ids),
        ...(scoped ? [scoped] : []),
      ]),
    (r) => r.id,
    License.from,
  );
}

export function loadLicense(ctx: RequestContext, id: string): Promise<License | null> {
  return licenseLoader(ctx).load(id);
}

/** Hands license rows read by another statement of this request to the license loader. */
export function primeLicenses(ctx: RequestContext, licenses: Iterable<License>): void {
  const loader = licenseLoader(ctx);
  for (const license of licenses) loader.prime(license.dbId, license);
}

export async function findLicense(ctx: RequestContext, idArg: string): Promise<License | null> {
  return loadLicense(ctx, parseIdArg(idArg, 'License', 'id'));
}

export const MAX_REMOVALS_PER_CALL = 1000;

interface LockedLine {
  id: string;
  tenant_id: string;
  source: LicenseSource;
  removed_at: string | null;
}

/** Fields whose change would alter what the devices holding the line have: only while nobody holds it. */
const FIELDS_FREE_ONLY = ['entitlementTag', 'billingType', 'virtualAccountId'] as const;

/**
 * Corrects a hand-recorded (MANUAL) line. Quantity, term, subscription, license type and the billing
 * model within its billing type change at any time; a quantity lowered under the line's use is
 * accepted and makes the line OVER_ALLOCATED (nothing is released: the devices keep what they hold
 * until someone releases or the quantity is raised again). Entitlement, billing type and virtual
 * account change only while no device holds the line. Lines from the license server or a summary
 * file are refused (LICENSE_NOT_EDITABLE). Pending assignments are reconciled afterwards, since a
 * raised quantity or a longer term may make room. Setting the same values again changes nothing and
 * writes no audit event, so a retry is harmless without an idempotency key.
 */
export async function updateLicense(ctx: RequestContext, input: UpdateLicenseInput): Promise<UpdateLicensePayload> {
  const id = parseIdArg(input.id, 'License', 'id');
  const virtualAccountId =
    input.virtualAccountId != null ? parseIdArg(input.virtualAccountId, 'VirtualAccount', 'virtualAccountId') : null;
  const outcome = await inScope(ctx, async (em) => {
    const line = await lockLine(em, ctx, id, input.id);
    if (line.source !== LicenseSource.MANUAL) throw licenseNotEditable([{ id: input.id, source: line.source }], 'updateLicense');
    if (line.removed_at) throw licenseRemoved(input.id);
    const [current] = await sql<LicenseRow & { entitlement_tag: string }>(
      em,
      `${LICENSE_SELECT.replace('from license l', ', e.tag as entitlement_tag from license l join entitlement e on e.id = l.entitlement_id')}
        where l.tenant_id = ? and l.id = ?`,
      [line.tenant_id, id],
    );
    const next = {
      quantity: input.quantity ?? current.quantity,
      startDate: input.startDate ?? current.start_date,
      endDate: input.endDate ?? current.end_date,
      subscriptionId: input.subscriptionId ?? current.subscription_id,
      licenseType: input.licenseType ?? current.license_type,
      billingType: input.billingType ?? current.billing_type,
      billingModel: input.billingModel ?? current.billing_model,
      entitlementTag: input.entitlementTag ?? current.entitlement_tag,
      virtualAccountId: virtualAccountId ?? current.virtual_account_id,
    };
    const before: typeof next = {
      quantity: current.quantity,
      startDate: current.start_date,
      endDate: current.end_date,
      subscriptionId: current.subscription_id,
      licenseType: current.license_type,
      billingType: current.billing_type,
      billingModel: current.billing_model,
      entitlementTag: current.entitlement_tag,
      virtualAccountId: current.virtual_account_id,
    };
    const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => next[k] !== before[k]);
    const problems = lineProblems(next);
    const [refs] = await sql<{ va: boolean; entitlement_id: string | null }>(
      em,
      `select exists (select 1 from virtual_account v where v.tenant_id = ? and v.id = ?) as va,
              (select id from entitlement where tag = ?) as entitlement_id`,
      [line.tenant_id, next.virtualAccountId, next.entitlementTag],
    );
    // Another tenant's virtual account reads as one that does not exist.
    if (!refs.va) problems.push({ field: 'virtualAccountId', reason: 'not found' });
    if (!refs.entitlement_id) problems.push({ field: 'entitlementTag', reason: `${JSON.stringify(next.entitlementTag)} is not in the catalog` });
    if (problems.length) {
      throw badInput(
        `invalid correction of license ${input.id}, nothing was changed: ${problems.map((p) => `${p.field} ${p.reason}`).join('; ')}`,
        { invalidFields: problems },
      );
    }
    const restricted = FIELDS_FREE_ONLY.filter((f) => changed.includes(f));
    if (restricted.length && current.in_use > 0) throw licenseInUse(input.id, current.in_use, restricted);
    if (changed.length === 0) return { row: current, changed, reconciled: 0 };

    await sql(
      em,
      `update license set quantity = ?, start_date = ?::date, end_date = ?::date, subscription_id = ?, license_type = ?,
              billing_type = ?, billing_model = ?, entitlement_id = ?, virtual_account_id = ?, updated_at = app_now()
        where tenant_id = ? and id = ?`,
      [next.quantity, next.startDate, next.endDate, next.subscriptionId, next.licenseType, next.billingType, next.billingModel,
       refs.entitlement_id, next.virtualAccountId, line.tenant_id, id],
    );
    await recordAudit(ctx, em, {
      tenantId: line.tenant_id,
      action: 'license.updated',
      targetType: 'License',
      targetIds: [id],
      details: { changed: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: next[k] }])), inUse: current.in_use },
    });
    const reconciled = await reconcileInTransaction(ctx, em, line.tenant_id);
    await evaluateAlerts(ctx, em, line.tenant_id);
    const [row] = await sql<LicenseRow>(em, `${LICENSE_SELECT} where l.tenant_id = ? and l.id = ?`, [line.tenant_id, id]);
    return { row, changed, reconciled: reconciled.reconciled };
  });
  return { license: License.from(outcome.row), changed: outcome.changed, assignmentsReconciled: outcome.reconciled };
}

/** Locks one line (any tenant the viewer may see); NOT_FOUND when it does not exist or is not visible. */
async function lockLine(em: EntityManager, ctx: RequestContext, id: string, idArg: string): Promise<LockedLine> {
  const scoped = ctx.viewer.tenantId;
  const [line] = await sql<LockedLine>(
    em,
    `select id, tenant_id, source, removed_at from license where id = ?${scoped ? ' and tenant_id = ?' : ''} for update`,
    [id, ...(scoped ? [scoped] : [])],
  );
  if (!line) throw notFound(`license ${idArg} not found`);
  return line;
}

interface RemoveResult {
  rows: LicenseRow[];
  removed: number;
  alreadyRemoved: number;
  assignmentsPending: number;
  assignmentsReconciled: number;
}

/**
 * Removes hand-recorded (MANUAL) lines of one tenant, all or nothing: they are kept for history
 * (released assignments still name them) and never offered again, exactly like lines that vanished
 * in a sync; what they held becomes PENDING_RECONCILIATION and is reconciled the same way
 * (assignments.unbindFromRemovedLines, then reconcileInTransaction). A line removed already counts
 * as alreadyRemoved, so removing twice is harmless; an idempotencyKey replays the first answer.
 */
export async function removeLicenses(ctx: RequestContext, input: RemoveLicensesInput): Promise<RemoveLicensesPayload> {
  if (input.ids.length === 0) throw badInput('ids must not be empty', { argumentName: 'ids' });
  if (input.ids.length > MAX_REMOVALS_PER_CALL) {
    throw badInput(`removeLicenses takes at most ${MAX_REMOVALS_PER_CALL} lines, got ${input.ids.length}`, { argumentName: 'ids' });
  }
  const ids = input.ids.map((v, i) => parseIdArg(v, 'License', `ids[${i}]`));
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const first = seen.get(id);
    if (first !== undefined) throw badInput(`ids[${i}] repeats ids[${first}]`, { argumentName: 'ids' });
    seen.set(id, i);
  });
  const globalId = new Map(ids.map((id, i) => [id, input.ids[i]]));
  const { result, replayed } = await inScope(ctx, async (em) => {
    const scoped = ctx.viewer.tenantId;
    // Lock order as everywhere: license lines by id.
    const lines = await sql<LockedLine>(
      em,
      `select id, tenant_id, source, removed_at from license where id = any(?::uuid[])${scoped ? ' and tenant_id = ?' : ''}
        order by id for update`,
      [pgArray(ids), ...(scoped ? [scoped] : [])],
    );
    if (lines.length !== ids.length) {
      const found = new Set(lines.map((l) => l.id));
      const missing = ids.filter((id) => !found.has(id)).map((id) => globalId.get(id) as string);
      throw licensesNotFound(missing);
    }
    const tenants = [...new Set(lines.map((l) => l.tenant_id))];
    if (tenants.length > 1) throw badInput(`removeLicenses takes the lines of one tenant per call; these belong to ${tenants.length}`, { argumentName: 'ids' });
    const tenantId = tenants[0];
    const foreign = lines.filter((l) => l.source !== LicenseSource.MANUAL);
    if (foreign.length) throw licenseNotEditable(foreign.map((l) => ({ id: globalId.get(l.id) as string, source: l.source })), 'removeLicenses');
    return withIdempotency(em, { tenantId, operation: 'removeLicenses', key: input.idempotencyKey, request: { ids } }, async (): Promise<RemoveResult> => {
      const removed = await sql<{ id: string }>(
        em,
        `update license set removed_at = app_now(), updated_at = app_now()
          where tenant_id = ? and id = any(?::uuid[]) and removed_at is null returning id`,
        [tenantId, pgArray(ids)],
      );
      const removedIds = removed.map((r) => r.id);
      const assignmentsPending = await unbindFromRemovedLines(em, tenantId, removedIds);
      const reconciled = assignmentsPending > 0 ? await reconcileInTransaction(ctx, em, tenantId) : { reconciled: 0 };
      if (removedIds.length > 0) {
        await recordAudit(ctx, em, {
          tenantId,
          action: 'licenses.removed',
          targetType: 'License',
          targetIds: removedIds,
          details: { removed: removedIds.length, assignmentsPending, assignmentsReconciled: reconciled.reconciled },
        });
        await evaluateAlerts(ctx, em, tenantId);
      }
      const rows = await sql<LicenseRow>(em, `${LICENSE_SELECT} where l.tenant_id = ? and l.id = any(?::uuid[])`, [tenantId, pgArray(ids)]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return {
        rows: ids.map((id) => {
          const row = byId.get(id);
          if (!row) throw new InvariantError(`license ${id} locked but not read back`);
          return row;
        }),
        removed: removedIds.length,
        alreadyRemoved: ids.length - removedIds.length,
        assignmentsPending,
        assignmentsReconciled: reconciled.reconciled,
      };
    });
  });
  return {
    licenses: result.rows.map(License.from),
    removed: result.removed,
    alreadyRemoved: result.alreadyRemoved,
    assignmentsPending: result.assignmentsPending,
    assignmentsReconciled: result.assignmentsReconciled,
    replayed,
  };
}
