import type { RequestContext } from '../../common/context';
import { inScope } from '../../db/scope';
import { sql } from '../../db/sql';
import { activeAlertCounts, summarizeAlerts } from '../alerts/alert.service';
import { ComplianceReason } from '../assignments/assignment.enums';
import { loadEntitlement } from '../entitlements/entitlement.service';
import { BillingType } from '../licenses/license.enums';
import { loadTenant, resolveTenantScope } from '../tenants/tenant.service';
import { LicenseDashboard, type EntitlementUsage } from './dashboard.types';

interface UsageRow { tenant_id: string; entitlement_id: string; billing_type: BillingType; lines: number; purchased: number; in_use: number; available: number }
interface DeviceRow { tenant_id: string; total: number; compliant: number; licensed: number; pending: number }
interface ReasonRow { tenant_id: string; reason: ComplianceReason; devices: number }
interface ExpiryRow { tenant_id: string; within30: number; within90: number; expired: number }

/**
 * The dashboard in five grouped statements (usage, devices, reasons, expiry, alerts), whatever the
 * number of tenants; per-tenant figures and provider totals are summed from the same rows.
 */
export async function licenseDashboard(ctx: RequestContext, tenantIdArg?: string | null): Promise<LicenseDashboard> {
  const tenantId = await resolveTenantScope(ctx, tenantIdArg);
  const where = (col: string): string => (tenantId ? `where ${col} = ?` : '');
  const params = tenantId ? [tenantId] : [];
  const data = await inScope(ctx, async (em) => ({
    usage: await sql<UsageRow>(
      em,
      `select l.tenant_id, l.entitlement_id, l.billing_type, count(*)::int as lines, sum(l.quantity)::int as purchased,
              sum(u.in_use)::int as in_use, sum(greatest(l.quantity - u.in_use, 0))::int as available
         from license l
        cross join lateral (select count(*)::int as in_use from assignment a
                             where a.tenant_id = l.tenant_id and a.license_id = l.id and a.released_at is null) u
        ${where('l.tenant_id')} ${tenantId ? 'and' : 'where'} l.end_date >= app_now()::date and l.removed_at is null
        group by 1, 2, 3`,
      params,
    ),
    // One pass over the compliance view feeds both the device totals and the reason counts.
    ...(
      await sql<{ devices: DeviceRow[] | null; reasons: ReasonRow[] | null }>(
        em,
        `with c as materialized (
           select c.tenant_id, c.device_id, c.reasons from device_compliance c ${where('c.tenant_id')}),
         totals as (
           select c.tenant_id, count(*)::int as total,
                  count(*) filter (where cardinality(c.reasons) = 0)::int as compliant,
                  count(*) filter (where dna.status = 'ACTIVE')::int as licensed,
                  count(*) filter (where dna.status = 'PENDING_RECONCILIATION')::int as pending
             from c
             left join assignment dna on dna.tenant_id = c.tenant_id and dna.device_id = c.device_id
                   and dna.category = 'DNA' and dna.released_at is null
            group by 1),
         reasons as (
           select c.tenant_id, r.reason, count(*)::int as devices from c cross join lateral unnest(c.reasons) as r(reason) group by 1, 2)
         select (select json_agg(totals) from totals) as devices, (select json_agg(reasons) from reasons) as reasons`,
        params,
      )
    ).map((r) => ({ devices: r.devices ?? [], reasons: r.reasons ?? [] }))[0],
    expiry: await sql<ExpiryRow>(
      em,
      `select l.tenant_id,
              count(*) filter (where l.end_date >= app_now()::date and l.end_date < app_now()::date + 30)::int as within30,
              count(*) filter (where l.end_date >= app_now()::date and l.end_date < app_now()::date + 90)::int as within90,
              count(*) filter (where l.end_date < app_now()::date)::int as expired
         from license l ${where('l.tenant_id')} ${tenantId ? 'and' : 'where'} l.removed_at is null group by 1`,
      params,
    ),
  }));

  const alerts = await activeAlertCounts(ctx, tenantId);

  // Rows grouped by tenant once, so the per-tenant breakdown of a thousand tenants is linear.
  const grouped = new Map<unknown[], Map<string | null, unknown[]>>();
  const mineOf = <T extends { tenant_id: string | null }>(rows: T[], only: string | null): T[] => {
    if (!only) return rows;
    let byTenant = grouped.get(rows);
    if (!byTenant) {
      byTenant = new Map();
      for (const r of rows) {
        const list = byTenant.get(r.tenant_id);
        if (list) list.push(r);
        else byTenant.set(r.tenant_id, [r]);
      }
      grouped.set(rows, byTenant);
    }
    return (byTenant.get(only) ?? []) as T[];
  };
  const build = async (only: string | null): Promise<LicenseDashboard> => {
    const mine = <T extends { tenant_id: string }>(rows: T[]): T[] => mineOf(rows, only);
    const dashboard = new LicenseDashboard();
    dashboard.tenant = only ? await loadTenant(ctx, only) : null;
    dashboard.entitlements = await usageOf(ctx, mine(data.usage));
    const devices = mine(data.devices);
    const sum = (f: (r: DeviceRow) => number): number => devices.reduce((n, r) => n + f(r), 0);
    const total = sum((r) => r.total);
    const licensed = sum((r) => r.licensed);
    dashboard.devices = { total, licensed, unlicensed: total - licensed, pendingReconciliation: sum((r) => r.pending) };
    const reasonCounts = new Map<ComplianceReason, number>();
    for (const r of mine(data.reasons)) reasonCounts.set(r.reason, (reasonCounts.get(r.reason) ?? 0) + r.devices);
    dashboard.compliance = {
      compliant: sum((r) => r.compliant),
      outOfCompliance: total - sum((r) => r.compliant),
      reasons: Object.values(ComplianceReason)
        .filter((reason) => reasonCounts.has(reason))
        .map((reason) => ({ reason, devices: reasonCounts.get(reason) as number })),
    };
    const expiry = mine(data.expiry);
    dashboard.expiring = {
      within30Days: expiry.reduce((n, r) => n + r.within30, 0),
      within90Days: expiry.reduce((n, r) => n + r.within90, 0),
      expired: expiry.reduce((n, r) => n + r.expired, 0),
    };
    // Provider-wide alerts (no tenant) count in the overall view only.
    dashboard.alerts = summarizeAlerts(mineOf(alerts, only));
    dashboard.forTenant = only;
    dashboard.tenants = null;
    return dashboard;
  };

  if (tenantId) return build(tenantId);
  const overall = await build(null);
  const tenantIds = await inScope(ctx, (em) => sql<{ id: string }>(em, 'select id from tenant order by slug'));
  overall.tenants = await Promise.all(tenantIds.map((t) => build(t.id)));
  return overall;
}

async function usageOf(ctx: RequestContext, rows: UsageRow[]): Promise<EntitlementUsage[]> {
  const merged = new Map<string, UsageRow>();
  for (const r of rows) {
    const key = `${r.entitlement_id}:${r.billing_type}`;
    const m = merged.get(key);
    merged.set(
      key,
      m ? { ...m, lines: m.lines + r.lines, purchased: m.purchased + r.purchased, in_use: m.in_use + r.in_use, available: m.available + r.available } : { ...r },
    );
  }
  const usage = await Promise.all(
    [...merged.values()].map(async (r) => ({
      entitlement: (await loadEntitlement(ctx, r.entitlement_id))!,
      entitlementId: r.entitlement_id,
      billingType: r.billing_type,
      lines: r.lines,
      purchased: r.purchased,
      inUse: r.in_use,
      available: r.billing_type === BillingType.PREPAID ? r.available : null,
    })),
  );
  return usage.sort(
    (a, b) => a.entitlement.tag.localeCompare(b.entitlement.tag) || a.billingType.localeCompare(b.billingType),
  );
}
