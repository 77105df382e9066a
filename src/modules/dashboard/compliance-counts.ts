import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { ComplianceReason } from '../assignments/assignment.enums';

/**
 * Devices per tenant by compliance, from the counters the database keeps (migration
 * 20261205000000): `tenant_device_class` counts a tenant's devices in service by the lines they hold
 * and the flags that do not depend on time; here each class is joined with its lines' end dates
 * (LICENSE_EXPIRED, decided today) and with their quantity against their use (OVER_ALLOCATED, a
 * prepaid line holding more devices than purchased). A few rows per tenant, whatever its number of
 * devices. `tenantFilter` restricts it to one tenant (`?` bound to its id), else every tenant the
 * viewer may see (row-level security applies to every table read).
 */
export function tenantComplianceSql(tenantFilter: boolean): string {
  return `
    with c as (
      select c.tenant_id, c.devices, c.dna_status, c.pending, c.not_applicable,
             coalesce(dl.end_date < app_now()::date, false) or coalesce(hl.end_date < app_now()::date, false) as expired,
             coalesce(dl.billing_type = 'PREPAID' and du.in_use > dl.quantity, false)
               or coalesce(hl.billing_type = 'PREPAID' and hu.in_use > hl.quantity, false) as over_allocated
        from tenant_device_class c
        left join license dl on dl.tenant_id = c.tenant_id and dl.id = c.dna_license_id
        left join license_line_use du on du.tenant_id = c.tenant_id and du.license_id = c.dna_license_id
        left join license hl on hl.tenant_id = c.tenant_id and hl.id = c.hsec_license_id
        left join license_line_use hu on hu.tenant_id = c.tenant_id and hu.license_id = c.hsec_license_id
       where ${tenantFilter ? 'c.tenant_id = ? and ' : ''}c.devices <> 0
    )
    select tenant_id,
           sum(devices)::int as total,
           coalesce(sum(devices) filter (where dna_status is not null and not (pending or not_applicable or expired or over_allocated)), 0)::int as compliant,
           coalesce(sum(devices) filter (where dna_status = 'ACTIVE'), 0)::int as licensed,
           coalesce(sum(devices) filter (where dna_status = 'PENDING_RECONCILIATION'), 0)::int as dna_pending,
           coalesce(sum(devices) filter (where dna_status is null), 0)::int as "UNASSIGNED",
           coalesce(sum(devices) filter (where pending), 0)::int as "PENDING_RECONCILIATION",
           coalesce(sum(devices) filter (where expired), 0)::int as "LICENSE_EXPIRED",
           coalesce(sum(devices) filter (where not_applicable), 0)::int as "NOT_APPLICABLE",
           coalesce(sum(devices) filter (where over_allocated), 0)::int as "OVER_ALLOCATED"
      from c group by tenant_id`;
}

export type TenantComplianceRow = {
  tenant_id: string;
  /** Devices in service. */
  total: number;
  compliant: number;
  /** Devices holding an active DNA license. */
  licensed: number;
  /** Devices whose DNA license is pending reconciliation. */
  dna_pending: number;
} & Record<ComplianceReason, number>;

/** The reasons in the order the API lists them, with their device counts, leaving out those at zero. */
export function reasonCounts(row: Record<ComplianceReason, number>): { reason: ComplianceReason; devices: number }[] {
  return Object.values(ComplianceReason)
    .filter((reason) => row[reason] > 0)
    .map((reason) => ({ reason, devices: row[reason] }));
}

/** One tenant's compliance counts (all zero for a tenant without devices), inside the caller's transaction. */
export async function tenantComplianceCounts(em: EntityManager, tenantId: string): Promise<TenantComplianceRow> {
  const [row] = await sql<TenantComplianceRow>(em, tenantComplianceSql(true), [tenantId]);
  if (row) return row;
  const zero = Object.fromEntries(Object.values(ComplianceReason).map((r) => [r, 0])) as Record<ComplianceReason, number>;
  return { tenant_id: tenantId, total: 0, compliant: 0, licensed: 0, dna_pending: 0, ...zero };
}
