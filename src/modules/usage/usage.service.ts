import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { badInput } from '../../common/errors';
import { inScope } from '../../db/scope';
import { sql } from '../../db/sql';
import { resolveTenantScope } from '../tenants/tenant.service';
import { UsageGranularity } from './usage.enums';
import type { UsageRow } from './usage.types';

const DAY_MS = 86_400_000;

/** Most periods one call may ask for: a leap year of days, ten years of months. */
export const MAX_USAGE_PERIODS: Record<UsageGranularity, number> = {
  [UsageGranularity.DAY]: 366,
  [UsageGranularity.MONTH]: 120,
};

export interface LicenseUsageArgs {
  tenantId?: string | null;
  from: Date;
  to: Date;
  granularity: UsageGranularity;
}

function monthIndex(t: Date): number {
  return t.getUTCFullYear() * 12 + t.getUTCMonth();
}

/** How many UTC days or months [from, to) touches (the first and last may be partial). */
export function usagePeriodCount(from: Date, to: Date, granularity: UsageGranularity): number {
  if (!(to.getTime() > from.getTime())) return 0;
  if (granularity === UsageGranularity.DAY) {
    return Math.ceil(to.getTime() / DAY_MS) - Math.floor(from.getTime() / DAY_MS);
  }
  return monthIndex(new Date(to.getTime() - 1)) - monthIndex(from) + 1;
}

function validate(args: LicenseUsageArgs): void {
  for (const name of ['from', 'to'] as const) {
    const value = args[name];
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw badInput(`${name} must be a date-time such as 2026-11-01T00:00:00Z`, { argumentName: name });
    }
  }
  if (!Object.values(UsageGranularity).includes(args.granularity)) {
    throw badInput(`granularity must be one of ${Object.values(UsageGranularity).join(', ')}`, { argumentName: 'granularity' });
  }
  if (args.to.getTime() <= args.from.getTime()) {
    throw badInput(`to (${args.to.toISOString()}) must be later than from (${args.from.toISOString()})`, { argumentName: 'to' });
  }
  const periods = usagePeriodCount(args.from, args.to, args.granularity);
  const max = MAX_USAGE_PERIODS[args.granularity];
  if (periods > max) {
    const unit = args.granularity === UsageGranularity.DAY ? 'days' : 'months';
    throw badInput(`from ${args.from.toISOString()} to ${args.to.toISOString()} spans ${periods} ${unit}; at most ${max} ${unit} per call at ${args.granularity} granularity`, {
      argumentName: 'to',
      maxPeriods: max,
    });
  }
}

/**
 * Usage per period, tenant, entitlement, billing type and model, computed from the usage history
 * (license_usage_interval) in one statement. Parameters are bound once, in `bounds`.
 *
 * Each interval is clipped to the range [r0, r1) (r1 = least(to, now): the future holds no use) and
 * becomes two events (+1 at its start, -1 at its end); every period start is a 0 event for every
 * group, so no step crosses a period boundary. Summing the events in time order gives the number of
 * devices held during each step [ts, next ts); a step's period is the UTC day or month its start lies
 * in. Then per period: device-days = sum(devices x step length in days), peak = max(devices),
 * average = device-days / period length in days. Linear in the intervals of the range, plus groups
 * times periods; never intervals times periods.
 */
const USAGE_SQL = `
  with bounds as (
    select ?::timestamptz as r0, least(?::timestamptz, app_now()) as r1, ?::text as unit, ?::uuid as tenant
  ), periods as (
    select greatest(b.s at time zone 'UTC', r0) as p_start
      from bounds,
           generate_series(date_trunc(unit, r0 at time zone 'UTC'), r1 at time zone 'UTC', ('1 ' || unit)::interval) as b(s)
     where b.s at time zone 'UTC' < r1
  ), clipped as materialized (
    select i.tenant_id, i.entitlement_id, i.billing_type, i.billing_model,
           greatest(i.valid_from, b.r0) as s, least(coalesce(i.valid_to, 'infinity'::timestamptz), b.r1) as e
      from bounds b
      join license_usage_interval i
        on (b.tenant is null or i.tenant_id = b.tenant)
       and coalesce(i.valid_to, 'infinity'::timestamptz) > b.r0 and i.valid_from < b.r1
  ), events as (
    select tenant_id, entitlement_id, billing_type, billing_model, s as ts, 1 as delta from clipped where s < e
    union all
    select tenant_id, entitlement_id, billing_type, billing_model, e, -1 from clipped where s < e
    union all
    select g.tenant_id, g.entitlement_id, g.billing_type, g.billing_model, p.p_start, 0
      from (select distinct tenant_id, entitlement_id, billing_type, billing_model from clipped where s < e) g
     cross join periods p
  ), steps as (
    select tenant_id, entitlement_id, billing_type, billing_model, ts, sum(delta) as delta
      from events group by tenant_id, entitlement_id, billing_type, billing_model, ts
  ), segments as (
    select tenant_id, entitlement_id, billing_type, billing_model, ts,
           sum(delta) over w as devices, lead(ts) over w as until
      from steps
    window w as (partition by tenant_id, entitlement_id, billing_type, billing_model order by ts)
  ), usage as (
    select s.tenant_id, s.entitlement_id, s.billing_type, s.billing_model,
           greatest(date_trunc(b.unit, s.ts at time zone 'UTC') at time zone 'UTC', b.r0) as period_start,
           least((date_trunc(b.unit, s.ts at time zone 'UTC') + ('1 ' || b.unit)::interval) at time zone 'UTC', b.r1) as period_end,
           sum(s.devices * extract(epoch from s.until - s.ts)) / 86400 as device_days,
           max(s.devices)::int as peak_devices
      from segments s cross join bounds b
     where s.until is not null and s.devices > 0
     group by 1, 2, 3, 4, 5, 6
  )
  select u.tenant_id, t.slug as tenant_slug, u.period_start, u.period_end,
         u.entitlement_id, e.tag as entitlement_tag, e.display_name as entitlement_name,
         u.billing_type, u.billing_model,
         u.device_days::float8 as device_days, u.peak_devices,
         (u.device_days / (extract(epoch from u.period_end - u.period_start) / 86400))::float8 as average_devices
    from usage u
    join tenant t on t.id = u.tenant_id
    join entitlement e on e.id = u.entitlement_id
   order by t.slug, u.tenant_id, u.period_start, e.sort_order, e.tag,
            array_position(array['PREPAID', 'POSTPAID'], u.billing_type) nulls last,
            array_position(array['A_LA_CARTE', 'ENTERPRISE_AGREEMENT', 'MSLA_U', 'MSLA_C'], u.billing_model) nulls last`;

function usageParams(tenantId: string | null, args: LicenseUsageArgs): unknown[] {
  return [args.from.toISOString(), args.to.toISOString(), args.granularity === UsageGranularity.DAY ? 'day' : 'month', tenantId];
}

/** Validates the arguments and resolves the tenant scope (null: every tenant, providers only). */
async function prepare(ctx: RequestContext, args: LicenseUsageArgs): Promise<string | null> {
  validate(args);
  // Tenant roles: their own tenant; another tenant's id is NOT_FOUND, as everywhere in the API.
  return resolveTenantScope(ctx, args.tenantId);
}

/**
 * Most rows the GraphQL query answers. Every tenant by DAY is tenants x days x groups rows (1,000
 * tenants, a month: 150,000 rows took 18 s and 2.8 GB as GraphQL objects); the CSV streams any number.
 */
export const MAX_USAGE_ROWS = 10_000;

/** Every row at once (the GraphQL query), at most MAX_USAGE_ROWS. */
export async function licenseUsage(ctx: RequestContext, args: LicenseUsageArgs): Promise<UsageRow[]> {
  const tenantId = await prepare(ctx, args);
  const rows = await inScope(ctx, async (em) => {
    await raiseWorkMem(em);
    return sql<UsageRow>(em, `${USAGE_SQL} limit ${MAX_USAGE_ROWS + 1}`, usageParams(tenantId, args));
  });
  if (rows.length > MAX_USAGE_ROWS) {
    throw badInput(
      `the answer has more than ${MAX_USAGE_ROWS} rows; ask for MONTH granularity, one tenant (tenantId) or a shorter range, or download GET /files/license-usage.csv (streamed, no limit)`,
      { argumentName: args.tenantId ? 'to' : 'tenantId', maxRows: MAX_USAGE_ROWS },
    );
  }
  return rows;
}

async function raiseWorkMem(em: EntityManager): Promise<void> {
  // Transaction-local, like the RLS settings: the event sort of a 100,000-device range fits in memory.
  await sql(em, "select set_config('work_mem', '64MB', true), set_config('cursor_tuple_fraction', '1', true)");
}

const USAGE_CURSOR = 'license_usage_rows';

/**
 * The same rows, validated and scoped before anything is sent, then read through a server-side
 * cursor in batches and handed to `onBatch` one at a time (it may wait, e.g. for the client to take
 * the previous one), so the answer never sits in memory whole. `onStart` runs once the arguments are
 * accepted, before the first batch (the CSV route sends its headers there).
 */
export async function streamLicenseUsage(
  ctx: RequestContext,
  args: LicenseUsageArgs,
  handlers: { onStart: () => void; onBatch: (rows: UsageRow[]) => Promise<boolean | void> },
  batchSize = 1000,
): Promise<void> {
  const tenantId = await prepare(ctx, args);
  await inScope(ctx, async (em) => {
    await raiseWorkMem(em);
    await sql(em, `declare ${USAGE_CURSOR} no scroll cursor for ${USAGE_SQL}`, usageParams(tenantId, args));
    handlers.onStart();
    for (;;) {
      const rows = await sql<UsageRow>(em, `fetch ${batchSize} from ${USAGE_CURSOR}`);
      if (rows.length > 0 && (await handlers.onBatch(rows)) === false) break;
      if (rows.length < batchSize) break;
    }
    await sql(em, `close ${USAGE_CURSOR}`);
  });
}
