import { Migration } from '@mikro-orm/migrations';

/** The compliance view of migration 20261128100000, with a row filter. */
function complianceView(where: string): string {
  return `
      create or replace view device_compliance with (security_invoker = true) as
      with over_allocated as materialized (
        select a.tenant_id, a.license_id as id from assignment a
          join license l on l.tenant_id = a.tenant_id and l.id = a.license_id
         where a.released_at is null and l.billing_type = 'PREPAID'
         group by a.tenant_id, a.license_id, l.quantity
        having count(*) > l.quantity
      )
      select d.tenant_id, d.id as device_id,
             array_remove(array[
               case when bool_or(l.end_date < app_now()::date) then 'LICENSE_EXPIRED' end,
               case when bool_or(cardinality(entitlement_problems(e, d.kind, d.mode, d.software_version, d.hsec_compatible)) > 0)
                    then 'NOT_APPLICABLE' end,
               case when bool_or(o.id is not null) then 'OVER_ALLOCATED' end,
               case when bool_or(a.status = 'PENDING_RECONCILIATION') then 'PENDING_RECONCILIATION' end,
               case when not coalesce(bool_or(a.category = 'DNA'), false) then 'UNASSIGNED' end
             ], null)::text[] as reasons
        from device d
        left join assignment a on a.tenant_id = d.tenant_id and a.device_id = d.id and a.released_at is null
        left join entitlement e on e.id = a.entitlement_id
        left join license l on l.tenant_id = a.tenant_id and l.id = a.license_id
        left join over_allocated o on o.tenant_id = l.tenant_id and o.id = l.id
       ${where}
       group by d.tenant_id, d.id;
  `;
}

/**
 * Devices reach the end of their life (issue 12).
 *
 * - A decommissioned device keeps its row and history (`decommissioned_at`, `decommissioned_by`)
 *   but no longer holds its uuid: the (tenant, uuid) key covers only devices in service, so
 *   registering the uuid again creates a new device.
 * - `device_compliance` (and with it the dashboard, `tenant_compliance` and alert evaluation) leaves
 *   decommissioned devices out.
 * - Indexes for the device filters a license console uses (each checked with EXPLAIN ANALYZE on a
 *   tenant of 100,000 devices, see README "Finding devices"): site, software version, the current
 *   assignments of an entitlement, pending assignments.
 */
export class Migration20261204100000DeviceLifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table device add column decommissioned_at timestamptz, add column decommissioned_by text;
      alter table device add constraint device_decommissioned_by check ((decommissioned_at is null) = (decommissioned_by is null));
      alter table device drop constraint device_tenant_uuid_key;
      create unique index device_tenant_uuid_key on device (tenant_id, uuid) where decommissioned_at is null;
      create index device_tenant_decommissioned_idx on device (tenant_id, decommissioned_at desc, id) where decommissioned_at is not null;
      create index device_tenant_site_idx on device (tenant_id, site_id);
      create index device_tenant_software_idx on device (tenant_id, software_version);
      create index assignment_entitlement_current_idx on assignment (tenant_id, entitlement_id, device_id) where released_at is null;
      create index assignment_pending_idx on assignment (tenant_id, device_id)
        where released_at is null and status = 'PENDING_RECONCILIATION';
    `);
    this.addSql(complianceView('where d.decommissioned_at is null'));
  }

  override async down(): Promise<void> {
    this.addSql(complianceView(''));
    this.addSql(`
      drop index if exists assignment_pending_idx, assignment_entitlement_current_idx, device_tenant_software_idx,
        device_tenant_site_idx, device_tenant_decommissioned_idx;
      delete from device where decommissioned_at is not null;
      drop index if exists device_tenant_uuid_key;
      alter table device add constraint device_tenant_uuid_key unique (tenant_id, uuid);
      alter table device drop constraint device_decommissioned_by, drop column decommissioned_by, drop column decommissioned_at;
    `);
  }
}
