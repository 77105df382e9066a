import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { ComplianceReason } from '../assignments/assignment.enums';

/**
 * Devices per tenant by compliance, from the counters the database keeps (migration
 * 20261205000000). `tenant_device_summary` holds, per tenant, the figures that do not depend on
 * time or on other devices, including `base_compliant`: the devices that are compliant unless a line
 * they hold has ended (LICENSE_EXPIRED, decided today) or holds more devices than purchased
 * (OVER_ALLOCATED, a prepaid line's quantity against its use). Those lines are found first, usually
 * few; only the device classes (`tenant_device_class`) holding one are read, to move their devices
 * from compliant to those reasons. One row per tenant plus the classes of the problem lines, whatever
 * the number of devices. `tenantFilter`: one tenant (`?` bound to its id), else every tenant the
 * viewer may see (row-level security applies to every table read).
 */
export function tenantComplianceSql(tenantFilter: boolean): string {
  const only = (col: string): string => (tenantFilter ? `${col} = ? and ` : '');
  return `
    with bad as materialized (
      select l.tenant_id, l.id, l.end_date < (select app_now()::date) as expired,
             l.billing_type = 'PREPAID' and coalesce(u.in_use, 0) > l.quantity as over_allocated
        from license l
        left join license_line_use u on u.tenant_id = l.tenant_id and u.license_id = l.id
       where ${only('l.tenant_id')}(l.end_date < (select app_now()::date) or (l.billing_type = 'PREPAID' and coalesce(u.in_use, 0) > l.quantity))
    ), hit as (
      select c.tenant_id, c.devices, c.dna_status is not null and not c.pending and not c.not_applicable as base_compliant,
             bool_or(b.expired) as expired, bool_or(b.over_allocated) as over_allocated
        from bad b
        join tenant_device_class c on c.tenant_id = b.tenant_id and b.id in (c.dna_license_id, c.hsec_license_id)
       where c.devices <> 0
       group by c.tenant_id, c.dna_license_id, c.hsec_license_id, c.dna_status, c.pending, c.not_applicable, c.devices
    ), adj as (
      select tenant_id,
             coalesce(sum(devices) filter (where base_compliant), 0) as lost,
             coalesce(sum(devices) filter (where expired), 0) as expired,
             coalesce(sum(devices) filter (where over_allocated), 0) as over_allocated
        from hit group by tenant_id
    )
    select s.tenant_id, s.total, s.base_compliant - coalesce(a.lost, 0)::int as compliant, s.licensed, s.dna_pending,
           s.unassigned as "UNASSIGNED", s.pending as "PENDING_RECONCILIATION", coalesce(a.expired, 0)::int as "LICENSE_EXPIRED",
           s.not_applicable as "NOT_APPLICABLE", coalesce(a.over_allocated, 0)::int as "OVER_ALLOCATED"
      from tenant_device_summary s
      left join adj a on a.tenant_id = s.tenant_id
     where ${only('s.tenant_id')}true`;
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

/** Every compliance reason, in the order the API lists them. */
export const REASONS = Object.values(ComplianceReason);

/** The reasons in the order the API lists them, with their device counts, leaving out those at zero. */
export function reasonCounts(row: Record<ComplianceReason, number>): { reason: ComplianceReason; devices: number }[] {
  const counts: { reason: ComplianceReason; devices: number }[] = [];
  for (const reason of REASONS) if (row[reason] > 0) counts.push({ reason, devices: row[reason] });
  return counts;
}

/** One tenant's compliance counts (all zero for a tenant without devices), inside the caller's transaction. */
export async function tenantComplianceCounts(em: EntityManager, tenantId: string): Promise<TenantComplianceRow> {
  const [row] = await sql<TenantComplianceRow>(em, tenantComplianceSql(true), [tenantId, tenantId]);
  if (row) return row;
  const zero = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<ComplianceReason, number>;
  return { tenant_id: tenantId, total: 0, compliant: 0, licensed: 0, dna_pending: 0, ...zero };
}
