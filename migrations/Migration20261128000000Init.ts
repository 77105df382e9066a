import { Migration } from '@mikro-orm/migrations';

/**
 * Tenants and devices, and the row-level-security machinery every tenant-owned table uses.
 *
 * Policies read the request's scope from transaction-local settings written at the start of each
 * request transaction (src/db/scope.ts). `nullif(..., '')` because a pooled connection that once
 * ran `set_config(..., true)` reports '' rather than NULL afterwards.
 */
export class Migration20261128000000Init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function app_tenant_id() returns uuid
        language sql stable parallel safe
        as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

      create function app_is_provider() returns boolean
        language sql stable parallel safe
        as $$ select coalesce(current_setting('app.role', true), '') in ('PROVIDER_ADMIN', 'PROVIDER_OPERATOR') $$;

      create table tenant (
        id uuid not null default gen_random_uuid() primary key,
        name text not null check (length(name) between 1 and 200),
        slug text not null check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint tenant_slug_key unique (slug)
      );

      alter table tenant enable row level security;
      alter table tenant force row level security;
      -- A tenant sees its own row and nothing else; only providers create or change tenants.
      create policy tenant_select on tenant for select using (app_is_provider() or id = app_tenant_id());
      create policy tenant_insert on tenant for insert with check (app_is_provider());
      create policy tenant_update on tenant for update using (app_is_provider()) with check (app_is_provider());
      create policy tenant_delete on tenant for delete using (app_is_provider());

      create table device (
        tenant_id uuid not null references tenant (id) on delete cascade,
        id uuid not null default gen_random_uuid(),
        uuid text not null,
        hostname text not null,
        system_ip text,
        model text not null,
        kind text not null check (kind in ('IOS_XE_SDWAN', 'VEDGE')),
        mode text not null check (mode in ('CONTROLLER', 'AUTONOMOUS')),
        software_version text not null,
        site_id text,
        hsec_compatible boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        -- tenant-leading keys so the table can later be distributed by tenant_id
        constraint device_pkey primary key (tenant_id, id),
        constraint device_tenant_uuid_key unique (tenant_id, uuid)
      );
      create unique index device_id_key on device (id);
      create index device_tenant_hostname_idx on device (tenant_id, hostname, id);
      create index device_hostname_idx on device (hostname, id);

      alter table device enable row level security;
      alter table device force row level security;
      create policy device_tenant_isolation on device
        using (app_is_provider() or tenant_id = app_tenant_id())
        with check (app_is_provider() or tenant_id = app_tenant_id());
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists device;
      drop table if exists tenant;
      drop function if exists app_is_provider();
      drop function if exists app_tenant_id();
    `);
  }
}
