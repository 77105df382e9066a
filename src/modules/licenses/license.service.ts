import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { byIdLoader } from '../../common/loaders';
import { badInput, notFound } from '../../common/errors';
import { parseIdArg } from '../../common/global-id';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { inScope } from '../../db/scope';
import { pgArray, prepared, sql } from '../../db/sql';
import { evaluateAlerts } from '../alerts/alert.service';
import { recordAudit } from '../audit/audit.service';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import { BILLING_MODELS, BillingType } from './license.enums';
import { invalidLicenses, type InvalidLicense } from './license.errors';
import { License, type AddLicensesInput, type LicenseRow } from './license.types';

const CURSOR: CursorSpec = { list: 'licenses', shape: ['date', 'uuid'] };

export const MAX_LICENSES_PER_CALL = 1000;
const SUBSCRIPTION_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const LOADER = Symbol('license-loader');

/** Every license read goes through this select: inUse is derived from current assignments, never stored. */
export const LICENSE_SELECT = `
  select l.id, l.tenant_id, l.virtual_account_id, l.entitlement_id, l.billing_type, l.billing_model,
         l.subscription_id, l.license_type, l.quantity, l.start_date::text as start_date,
         l.end_date::text as end_date, l.source,
         (select count(*)::int from assignment a
           where a.tenant_id = l.tenant_id and a.license_id = l.id and a.released_at is null) as in_use,
         l.end_date < app_now()::date as expired
    from license l`;

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
    if (!BILLING_MODELS[l.billingType].includes(l.billingModel)) {
      add('billingModel', `${l.billingModel} is not a ${l.billingType} model (use ${BILLING_MODELS[l.billingType].join(' or ')})`);
    }
    if (!SUBSCRIPTION_RE.test(l.subscriptionId)) add('subscriptionId', 'must be 1 to 64 of A-Z a-z 0-9 . _ : / -');
    if (!Number.isInteger(l.quantity) || l.quantity < 0 || l.quantity > 1_000_000) add('quantity', 'must be 0 to 1,000,000');
    if (l.billingType === BillingType.PREPAID && l.quantity < 1) add('quantity', 'must be at least 1 for a prepaid license');
    if (l.endDate < l.startDate) add('endDate', `${l.endDate} is before startDate ${l.startDate}`);
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
      inScope(ctx, (em) =>
        prepared<LicenseRow>(em, `${LICENSE_SELECT} where l.id = any(?::uuid[])${scoped ? ' and l.tenant_id = ?' : ''}`, [
          pgArray(ids),
          ...(scoped ? [scoped] : []),
        ]),
      ),
    (r) => r.id,
    License.from,
  );
}

export function loadLicense(ctx: RequestContext, id: string): Promise<License | null> {
  return licenseLoader(ctx).load(id);
}

/** Hands license rows read by another statement of this request to the license loader. */
export function primeLicenses(ctx: RequestContext, rows: readonly LicenseRow[]): void {
  const loader = licenseLoader(ctx);
  for (const row of rows) loader.prime(row.id, License.from(row));
}

export async function findLicense(ctx: RequestContext, idArg: string): Promise<License | null> {
  return loadLicense(ctx, parseIdArg(idArg, 'License', 'id'));
}
