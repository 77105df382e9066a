import type { RequestContext } from '../../common/context';
import { groupBy } from '../../common/group-by';
import { inScope } from '../../db/scope';
import { sql } from '../../db/sql';
import { activeAlertCounts, summarizeAlerts, type AlertCountRow } from '../alerts/alert.service';
import { loadEntitlement } from '../entitlements/entitlement.service';
import type { Entitlement } from '../entitlements/entitlement.types';
import { BillingType } from '../licenses/license.enums';
import { TenantStatus } from '../tenants/tenant.enums';
import { resolveTenantScope } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import { REASONS, reasonCounts, tenantComplianceSql, type TenantComplianceRow } from './compliance-counts';
import { LicenseDashboard, type EntitlementUsage } from './dashboard.types';

interface UsageRow { tenant_id: string; entitlement_id: string; billing_type: BillingType; lines: number; purchased: number; in_use: number; available: number }

/** One tenant with its figures: its row, its device and compliance counts and its lines' expiry. */
type TenantRow = {
  id: string;
  name: string;
  slug: string;
  created_at: Date;
  status: TenantStatus;
  suspended_at: Date | null;
  within30: number;
  within90: number;
  expired_lines: number;
} & Omit<TenantComplianceRow, 'tenant_id'>;

/**
 * The dashboard from the counters the database keeps (migration 20261205000000): per license line
 * its use (`license_line_use`), per tenant its devices by compliance class (`tenant_device_class`,
 * see compliance-counts.ts). Two statements whatever the number of tenants and devices, each
 * reading a few rows per tenant: the usage per entitlement and billing type, and one row per tenant
 * with its own row, device, compliance and expiry figures. Provider totals are the sums of the
 * tenants' figures; what depends on today (a line's end) is decided in the statements.
 */
export async function licenseDashboard(
  ctx: RequestContext,
  tenantIdArg?: string | null,
  opts: { tenantEntitlements: boolean } = { tenantEntitlements: true },
): Promise<LicenseDashboard> {
  const tenantId = await resolveTenantScope(ctx, tenantIdArg);
  const params = tenantId ? [tenantId] : [];
  // Per tenant only when asked for (or for one tenant): otherwise the provider's totals need a few rows, not five per tenant.
  const perTenantUsage = !!tenantId || opts.tenantEntitlements;
  const { usage, tenants } = await inScope(ctx, async (em) => ({
    usage: await sql<UsageRow>(
      em,
      `select ${perTenantUsage ? 'l.tenant_id' : 'null::uuid as tenant_id'}, l.entitlement_id, l.billing_type, count(*)::int as lines, sum(l.quantity)::int as purchased,
              coalesce(sum(u.in_use), 0)::int as in_use, sum(greatest(l.quantity - coalesce(u.in_use, 0), 0))::int as available
         from license l
         left join license_line_use u on u.tenant_id = l.tenant_id and u.license_id = l.id
        where ${tenantId ? 'l.tenant_id = ? and ' : ''}l.end_date >= (select app_now()::date) and l.removed_at is null
        group by 1, 2, 3`,
      params,
    ),
    tenants: await sql<TenantRow>(
      em,
      `with dc as (${tenantComplianceSql(!!tenantId)}),
       ex as (
         select l.tenant_id,
                count(*) filter (where l.end_date >= (select app_now()::date) and l.end_date < (select app_now()::date) + 30)::int as within30,
                count(*) filter (where l.end_date >= (select app_now()::date) and l.end_date < (select app_now()::date) + 90)::int as within90,
                count(*) filter (where l.end_date < (select app_now()::date))::int as expired_lines
           from license l where ${tenantId ? 'l.tenant_id = ? and ' : ''}l.removed_at is null group by 1)
       select t.id, t.name, t.slug, t.created_at, t.status, t.suspended_at,
              coalesce(ex.within30, 0) as within30, coalesce(ex.within90, 0) as within90, coalesce(ex.expired_lines, 0) as expired_lines,
              coalesce(dc.total, 0) as total, coalesce(dc.compliant, 0) as compliant, coalesce(dc.licensed, 0) as licensed,
              coalesce(dc.dna_pending, 0) as dna_pending,
              ${REASONS.map((r) => `coalesce(dc."${r}", 0) as "${r}"`).join(', ')}
         from tenant t
         left join dc on dc.tenant_id = t.id
         left join ex on ex.tenant_id = t.id
        ${tenantId ? 'where t.id = ?' : ''}
        order by t.slug`,
      tenantId ? [tenantId, tenantId, tenantId, tenantId] : [],
    ),
  }));
  const alerts = await activeAlertCounts(ctx, tenantId);
  const entitlementIds = [...new Set(usage.map((u) => u.entitlement_id))];
  const loaded = await Promise.all(entitlementIds.map((id) => loadEntitlement(ctx, id)));
  const entitlements = new Map(entitlementIds.map((id, i) => [id, loaded[i] as Entitlement]));

  const usageByTenant = groupBy(usage, (u) => u.tenant_id);
  const noUsage: UsageRow[] = [];
  const noAlerts: AlertCountRow[] = [];
  const alertsByTenant = groupBy(alerts, (a) => a.tenant_id);
  const perTenant = tenants.map((t) => {
    const dashboard = dashboardOf(t, usageByTenant.get(t.id) ?? noUsage, alertsByTenant.get(t.id) ?? noAlerts, entitlements);
    dashboard.tenant = Tenant.from({ id: t.id, name: t.name, slug: t.slug, createdAt: t.created_at, status: t.status, suspendedAt: t.suspended_at });
    dashboard.forTenant = t.id;
    return dashboard;
  });
  if (tenantId) return perTenant[0];
  // Provider-wide alerts (no tenant) count in the overall view only.
  const overall = dashboardOf(sumFigures(tenants), usage, alerts, entitlements);
  overall.tenants = perTenant;
  return overall;
}

type Figures = Omit<TenantRow, 'id' | 'name' | 'slug' | 'created_at' | 'status' | 'suspended_at'>;
const FIGURES = ['within30', 'within90', 'expired_lines', 'total', 'compliant', 'licensed', 'dna_pending', ...REASONS] as const;

/** Every tenant's figures added up (the provider-wide view). */
function sumFigures(tenants: readonly TenantRow[]): Figures {
  const sum = Object.fromEntries(FIGURES.map((f) => [f, 0])) as Figures;
  for (const t of tenants) for (const f of FIGURES) sum[f] += t[f];
  return sum;
}

/** One tenant's dashboard, or every tenant's summed; built for thousands of tenants, so without intermediate copies. */
function dashboardOf(f: Figures, usage: readonly UsageRow[], alerts: readonly AlertCountRow[], entitlements: Map<string, Entitlement>): LicenseDashboard {
  const dashboard = new LicenseDashboard();
  dashboard.tenant = null;
  dashboard.forTenant = null;
  dashboard.tenants = null;
  dashboard.entitlements = usage.length > 0 ? usageOf(usage, entitlements) : [];
  dashboard.devices = { total: f.total, licensed: f.licensed, unlicensed: f.total - f.licensed, pendingReconciliation: f.dna_pending };
  dashboard.compliance = { compliant: f.compliant, outOfCompliance: f.total - f.compliant, reasons: reasonCounts(f) };
  dashboard.expiring = { within30Days: f.within30, within90Days: f.within90, expired: f.expired_lines };
  dashboard.alerts = alerts.length > 0 ? summarizeAlerts(alerts) : { active: 0, critical: 0, warning: 0, unacknowledged: 0, byKind: [] };
  return dashboard;
}

/** Usage rows merged per entitlement and billing type, ordered by tag then billing type. */
function usageOf(rows: readonly UsageRow[], entitlements: Map<string, Entitlement>): EntitlementUsage[] {
  const merged = new Map<string, UsageRow>();
  for (const r of rows) {
    const key = `${r.entitlement_id}:${r.billing_type}`;
    const m = merged.get(key);
    if (m) {
      m.lines += r.lines;
      m.purchased += r.purchased;
      m.in_use += r.in_use;
      m.available += r.available;
    } else {
      merged.set(key, { ...r });
    }
  }
  return [...merged.values()]
    .map((r) => ({
      entitlement: entitlements.get(r.entitlement_id) as Entitlement,
      entitlementId: r.entitlement_id,
      billingType: r.billing_type,
      lines: r.lines,
      purchased: r.purchased,
      inUse: r.in_use,
      available: r.billing_type === BillingType.PREPAID ? r.available : null,
    }))
    .sort((a, b) => a.entitlement.tag.localeCompare(b.entitlement.tag) || a.billingType.localeCompare(b.billingType));
}
