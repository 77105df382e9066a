import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../common/errors';
import { sql } from '../../db/sql';
import { MAX_DEVICES_PER_CALL } from './device.validation';
import { parseIdArg } from '../../common/global-id';
import { ComplianceReason, ComplianceStatus } from '../assignments/assignment.enums';
import type { DeviceFilter } from './device.types';

/**
 * DeviceFilter as a SQL condition on `device d` (with `?` parameters, in order). Shared by the device
 * list, the CSV export and every bulk operation that takes a filter instead of ids, so "the devices
 * this filter matches" means one thing everywhere.
 *
 * The compliance conditions restate, one reason each, what the `device_compliance` view computes for
 * a device, each as one set of the tenant's current assignments rather than the view's per-device
 * aggregate (a test checks that both agree, reason by reason). Plans checked with EXPLAIN ANALYZE
 * on a tenant of 100,000 devices: see README "Finding devices".
 */
export interface FilterSql {
  where: string;
  params: unknown[];
}

const MAX_TEXT = 100;

/**
 * `d.id in (the devices of the tenant's current assignments that match `where`)`: uncorrelated, so
 * PostgreSQL computes the set once per statement (a hashed sub-plan) instead of probing assignments
 * device by device; a device list page with a total count reads each set once.
 */
function heldBy(tenantId: string | null, where: string, params: unknown[] = [], joins = ''): FilterSql {
  return {
    where: `d.id in (select a.device_id from assignment a ${joins}
                      where ${tenantId ? 'a.tenant_id = ?::uuid and ' : ''}a.released_at is null and ${where})`,
    params: [...(tenantId ? [tenantId] : []), ...params],
  };
}

function not(part: FilterSql): FilterSql {
  return { where: `not ${part.where}`, params: part.params };
}

function reasonSql(reason: ComplianceReason, tenantId: string | null): FilterSql {
  switch (reason) {
    case ComplianceReason.UNASSIGNED:
      return not(heldBy(tenantId, "a.category = 'DNA'"));
    case ComplianceReason.PENDING_RECONCILIATION:
      return heldBy(tenantId, "a.status = 'PENDING_RECONCILIATION'");
    case ComplianceReason.LICENSE_EXPIRED:
      return heldBy(tenantId, 'l.end_date < app_now()::date', [], 'join license l on l.tenant_id = a.tenant_id and l.id = a.license_id');
    case ComplianceReason.NOT_APPLICABLE:
      // Applicability is computed once per distinct (entitlement, kind, mode, release, HSEC), not per device.
      return heldBy(
        tenantId,
        `(a.entitlement_id, x.kind, x.mode, x.software_version, x.hsec_compatible) in (
           select e.id, k.kind, k.mode, k.software_version, k.hsec_compatible
             from (select distinct y.kind, y.mode, y.software_version, y.hsec_compatible from device y${tenantId ? ' where y.tenant_id = ?::uuid' : ''}) k
            cross join entitlement e
            where cardinality(entitlement_problems(e, k.kind, k.mode, k.software_version, k.hsec_compatible)) > 0)`,
        tenantId ? [tenantId] : [],
        'join device x on x.tenant_id = a.tenant_id and x.id = a.device_id',
      );
    case ComplianceReason.OVER_ALLOCATED:
      return heldBy(
        tenantId,
        `(a.tenant_id, a.license_id) in (
           select x.tenant_id, x.license_id from assignment x
             join license l on l.tenant_id = x.tenant_id and l.id = x.license_id
            where ${tenantId ? 'x.tenant_id = ?::uuid and ' : ''}x.released_at is null and l.billing_type = 'PREPAID'
            group by x.tenant_id, x.license_id, l.quantity having count(*) > l.quantity)`,
        tenantId ? [tenantId] : [],
      );
  }
}

function outOfCompliance(tenantId: string | null): FilterSql {
  const parts = Object.values(ComplianceReason).map((r) => reasonSql(r, tenantId));
  return { where: `(${parts.map((p) => p.where).join(' or ')})`, params: parts.flatMap((p) => p.params) };
}

/**
 * The condition for `filter` within `tenantId` (null: every tenant the viewer may see; row-level
 * security still applies). Decommissioned devices are left out unless `filter.decommissioned` is true.
 */
export function deviceFilterSql(tenantId: string | null, filter: DeviceFilter | null | undefined): FilterSql {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (part: FilterSql | string, ...values: unknown[]): void => {
    if (typeof part === 'string') {
      conditions.push(part);
      params.push(...values);
    } else {
      conditions.push(part.where);
      params.push(...part.params);
    }
  };
  for (const key of ['model', 'search', 'entitlementTag', 'siteId', 'softwareVersion'] as const) {
    const value = filter?.[key];
    if (value != null && value.length > MAX_TEXT) {
      throw badInput(`filter.${key} must be at most ${MAX_TEXT} characters`, { argumentName: `filter.${key}` });
    }
  }
  if (tenantId) add('d.tenant_id = ?', tenantId);
  add(filter?.decommissioned ? 'd.decommissioned_at is not null' : 'd.decommissioned_at is null');
  if (filter?.kind) add('d.kind = ?', filter.kind);
  if (filter?.mode) add('d.mode = ?', filter.mode);
  if (filter?.model) add('d.model = ?', filter.model);
  if (filter?.search) add("d.hostname ilike ? escape '\\'", `%${escapeLike(filter.search)}%`);
  if (filter?.siteId != null) add('d.site_id = ?', filter.siteId);
  if (filter?.softwareVersion != null) add('d.software_version = ?', filter.softwareVersion);
  if (filter?.hsecCompatible != null) add('d.hsec_compatible = ?', filter.hsecCompatible);
  if (filter?.licensed != null) {
    // As the dashboard counts them: licensed holds an ACTIVE DNA license; unlicensed is unassigned or pending.
    const licensed = heldBy(tenantId, "a.category = 'DNA' and a.status = 'ACTIVE'");
    add(filter.licensed ? licensed : not(licensed));
  }
  if (filter?.entitlementTag != null) {
    add(heldBy(tenantId, 'a.entitlement_id = (select e.id from entitlement e where e.tag = ?)', [filter.entitlementTag]));
  }
  if (filter?.billingType) {
    add(heldBy(tenantId, 'coalesce(l.billing_type, a.billing_type) = ?', [filter.billingType], 'left join license l on l.tenant_id = a.tenant_id and l.id = a.license_id'));
  }
  if (filter?.virtualAccountId != null) {
    const va = parseIdArg(filter.virtualAccountId, 'VirtualAccount', 'filter.virtualAccountId');
    add(heldBy(tenantId, 'l.virtual_account_id = ?::uuid', [va], 'join license l on l.tenant_id = a.tenant_id and l.id = a.license_id'));
  }
  if (filter?.complianceReason) add(reasonSql(filter.complianceReason, tenantId));
  if (filter?.complianceStatus === ComplianceStatus.OUT_OF_COMPLIANCE) add(outOfCompliance(tenantId));
  if (filter?.complianceStatus === ComplianceStatus.COMPLIANT) {
    const out = outOfCompliance(tenantId);
    add({ where: `not ${out.where}`, params: out.params });
  }
  return { where: conditions.join(' and '), params };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Device filters as query parameters (GET /files/devices.csv): names as in DeviceFilter. */
export function deviceFilterFromQuery(query: URLSearchParams): DeviceFilter {
  const filter: Record<string, unknown> = {};
  const enums: Record<string, readonly string[]> = {
    kind: ['IOS_XE_SDWAN', 'VEDGE'],
    mode: ['CONTROLLER', 'AUTONOMOUS'],
    complianceStatus: Object.values(ComplianceStatus),
    complianceReason: Object.values(ComplianceReason),
    billingType: ['PREPAID', 'POSTPAID'],
  };
  const booleans = ['licensed', 'hsecCompatible', 'decommissioned'];
  const texts = ['model', 'search', 'entitlementTag', 'virtualAccountId', 'siteId', 'softwareVersion'];
  for (const [key, value] of query) {
    if (key === 'tenantId') continue;
    if (enums[key]) {
      if (!enums[key].includes(value)) throw badInput(`${key} must be one of ${enums[key].join(', ')}`, { argumentName: key });
      filter[key] = value;
    } else if (booleans.includes(key)) {
      if (value !== 'true' && value !== 'false') throw badInput(`${key} must be true or false`, { argumentName: key });
      filter[key] = value === 'true';
    } else if (texts.includes(key)) {
      filter[key] = value;
    } else {
      throw badInput(`unknown parameter ${JSON.stringify(key)}; the filters are those of DeviceFilter`, { argumentName: key });
    }
  }
  return filter as DeviceFilter;
}

/**
 * The ids of the devices in service that `filter` matches in the tenant, ordered by hostname (the
 * order of the device list), inside the caller's transaction. More than MAX_DEVICES_PER_CALL is
 * refused, naming the limit, before anything is changed.
 */
export async function deviceIdsMatching(em: EntityManager, tenantId: string, filter: DeviceFilter): Promise<string[]> {
  if (filter.decommissioned) {
    throw badInput('filter.decommissioned: true names devices that are out of service; nothing can be done to them', {
      argumentName: 'filter.decommissioned',
    });
  }
  const f = deviceFilterSql(tenantId, filter);
  const rows = await sql<{ id: string }>(em, `select d.id from device d where ${f.where} order by d.hostname, d.id limit ?`, [
    ...f.params,
    MAX_DEVICES_PER_CALL + 1,
  ]);
  if (rows.length > MAX_DEVICES_PER_CALL) {
    throw badInput(`the filter matches more than ${MAX_DEVICES_PER_CALL.toLocaleString('en-US')} devices, the most one call changes; narrow it`, {
      argumentName: 'filter',
      maxDevices: MAX_DEVICES_PER_CALL,
    });
  }
  return rows.map((r) => r.id);
}

/** Exactly one of ids and filter, as bulk inputs take them. */
export function oneTarget(input: { deviceIds?: readonly string[] | null; filter?: DeviceFilter | null }): void {
  if ((input.deviceIds == null) === (input.filter == null)) {
    throw badInput('name the devices one way: deviceIds or filter', { argumentName: input.deviceIds == null ? 'deviceIds' : 'filter' });
  }
}
