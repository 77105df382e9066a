import { Migration } from '@mikro-orm/migrations';

/**
 * Compliance of one tenant's devices for tenant-wide aggregates (alert evaluation), planned without
 * nested loops. Inside a transaction that has just written thousands of devices or assignments the
 * planner has no statistics for them (it estimates one row per tenant) and chose nested loops that
 * rescanned the tenant's assignments once per device: one such statement took 7.4 s for 2,000
 * new devices, and the benchmark's assignment of them hit the 30 s statement timeout. A
 * whole-tenant aggregate is best done with hash or merge joins at any size, so the function fixes that choice for its own statement only (SET on the function, not the session).
 * It reads the view with the caller's rights: row-level security applies as usual.
 */
export class Migration20261128420000TenantCompliance extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function tenant_compliance(p_tenant uuid) returns table (tenant_id uuid, device_id uuid, reasons text[])
      language sql stable
      set enable_nestloop = off
      as $$ select c.tenant_id, c.device_id, c.reasons from device_compliance c where c.tenant_id = p_tenant $$;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists tenant_compliance(uuid);');
  }
}
