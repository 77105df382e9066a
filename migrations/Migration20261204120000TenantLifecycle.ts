import { Migration } from '@mikro-orm/migrations';

/**
 * Tenant lifecycle: a tenant is ACTIVE or SUSPENDED (issue 12).
 *
 * `app_begin_scope` replaces the three `set_config` calls every request transaction began with, in
 * the same single statement (no extra round trip), and refuses a tenant viewer's transaction while
 * its tenant is suspended (SQLSTATE SLM01, mapped to TENANT_SUSPENDED by db/scope.ts). This is the
 * wall that holds on every instance the moment the suspension commits, whatever an instance's
 * in-memory list of suspended tenants (fed by NOTIFY) has seen yet. Its cost is one primary-key
 * lookup in `tenant` per transaction (measured in the README). Provider viewers (no tenant) are never
 * refused: providers keep managing a suspended tenant. The settings are written first, so the
 * lookup runs under the viewer's own row-level security (a tenant sees its own row).
 */
export class Migration20261204120000TenantLifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table tenant
        add column status text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED')),
        add column suspended_at timestamptz,
        add column suspended_by text,
        add constraint tenant_suspended_shape check ((status = 'SUSPENDED') = (suspended_at is not null));

      create function app_begin_scope(p_tenant text, p_role text, p_now text) returns void
        language plpgsql volatile
        as $$
      begin
        perform set_config('app.tenant_id', p_tenant, true), set_config('app.role', p_role, true), set_config('app.now', p_now, true);
        if p_tenant <> '' and exists (select 1 from tenant where id = p_tenant::uuid and status = 'SUSPENDED') then
          raise exception 'tenant % is suspended', p_tenant using errcode = 'SLM01';
        end if;
      end $$;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop function if exists app_begin_scope(text, text, text);
      alter table tenant drop constraint if exists tenant_suspended_shape,
        drop column if exists suspended_by, drop column if exists suspended_at, drop column if exists status;
    `);
  }
}
