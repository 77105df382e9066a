import { Migration } from '@mikro-orm/migrations';

/**
 * License-server sync: the instance-wide sync settings (provider-owned, secrets encrypted by the
 * application), sync runs, offline license summary uploads and usage reports (tenant-owned).
 */
export class Migration20261128200000Sync extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table license_sync_settings (
        id boolean not null default true primary key check (id),
        mode text not null default 'OFFLINE' check (mode in ('ONLINE', 'ON_PREM', 'OFFLINE')),
        server_url text,
        client_id text,
        client_secret_enc text,
        proxy_url text,
        proxy_username text,
        proxy_password_enc text,
        sync_interval_minutes int not null default 1440 check (sync_interval_minutes between 5 and 525600),
        trusted_keys jsonb not null default '[]',
        updated_at timestamptz not null default now(),
        updated_by text
      );
      insert into license_sync_settings default values;
      alter table license_sync_settings enable row level security;
      alter table license_sync_settings force row level security;
      -- Everyone may read (the service never returns secrets); only providers change it.
      create policy license_sync_settings_read on license_sync_settings for select using (true);
      create policy license_sync_settings_write on license_sync_settings for update
        using (app_is_provider()) with check (app_is_provider());

      -- The catalog is reference data, but a smart account may hold entitlements it does not list:
      -- those are added as unmanaged lines (shown, never assignable). The app may insert only such
      -- rows; RLS is enabled (not forced: migrations, as owner, still seed managed ones).
      alter table entitlement enable row level security;
      create policy entitlement_read on entitlement for select using (true);
      create policy entitlement_add_unmanaged on entitlement for insert
        with check (category = 'OTHER' and not managed and not obsolete and device_kinds = '{}' and device_modes = '{}'
                    and min_release_ios_xe is null and min_release_vedge is null and not requires_hsec_compatible);

      alter table smart_account add column last_summary_serial int;
      alter table smart_account add column last_summary_generated_at timestamptz;
      alter table smart_account add column last_synced_at timestamptz;

      -- A smart account belongs to one organisation, so to one tenant: a signed file of another
      -- tenant's account cannot be claimed by uploading it.
      create unique index smart_account_external_key on smart_account (external_id);

      alter table license add column external_line_id text;
      -- Lines that vanished from the license server are kept (released assignments still point at
      -- them for usage history) but never offered again.
      alter table license add column removed_at timestamptz;
      create unique index license_external_line_key on license (tenant_id, virtual_account_id, external_line_id)
        where external_line_id is not null;

      create table sync_run (
        tenant_id uuid not null references tenant (id) on delete cascade,
        id uuid not null default gen_random_uuid(),
        mode text not null check (mode in ('ONLINE', 'ON_PREM', 'OFFLINE')),
        trigger text not null check (trigger in ('MANUAL', 'SCHEDULED', 'FILE')),
        status text not null check (status in ('RUNNING', 'SUCCEEDED', 'FAILED')),
        started_at timestamptz not null default date_trunc('milliseconds', app_now()),
        finished_at timestamptz,
        requested_by text not null,
        lines_added int not null default 0,
        lines_changed int not null default 0,
        lines_removed int not null default 0,
        assignments_pending int not null default 0,
        assignments_reconciled int not null default 0,
        usage_reported int not null default 0,
        error_message text,
        constraint sync_run_pkey primary key (tenant_id, id)
      );
      create unique index sync_run_id_key on sync_run (id);
      -- At most one run in progress per tenant: an on-demand sync during a running one joins it.
      create unique index sync_run_one_running on sync_run (tenant_id) where status = 'RUNNING';
      create index sync_run_tenant_time_idx on sync_run (tenant_id, started_at desc, id desc);

      create table usage_report (
        tenant_id uuid not null references tenant (id) on delete cascade,
        id uuid not null,
        via text not null check (via in ('ONLINE', 'OFFLINE')),
        smart_account_id uuid,
        virtual_account_id uuid,
        period_start timestamptz not null,
        period_end timestamptz not null,
        generated_at timestamptz not null default date_trunc('milliseconds', app_now()),
        generated_by text not null,
        measurements int not null,
        file bytea,
        file_digest text,
        file_size int,
        status text not null check (status in ('GENERATED', 'ACKNOWLEDGED')),
        ack_id text,
        acknowledged_at timestamptz,
        ack_smart_account text,
        ack_virtual_account text,
        constraint usage_report_pkey primary key (tenant_id, id)
      );
      create unique index usage_report_id_key on usage_report (id);
      create unique index usage_report_ack_key on usage_report (tenant_id, ack_id) where ack_id is not null;
      create index usage_report_tenant_time_idx on usage_report (tenant_id, generated_at desc, id desc);
    `);
    for (const table of ['sync_run', 'usage_report']) {
      this.addSql(`
        alter table ${table} enable row level security;
        alter table ${table} force row level security;
        create policy ${table}_tenant_isolation on ${table}
          using (app_is_provider() or tenant_id = app_tenant_id())
          with check (app_is_provider() or tenant_id = app_tenant_id());
      `);
    }
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists usage_report, sync_run, license_sync_settings;
      drop policy if exists entitlement_add_unmanaged on entitlement;
      drop policy if exists entitlement_read on entitlement;
      alter table entitlement disable row level security;
      drop index if exists license_external_line_key;
      drop index if exists smart_account_external_key;
      alter table license drop column if exists external_line_id, drop column if exists removed_at;
      alter table smart_account drop column if exists last_summary_serial,
        drop column if exists last_summary_generated_at, drop column if exists last_synced_at;
    `);
  }
}
