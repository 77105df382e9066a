import { Migration } from '@mikro-orm/migrations';

/**
 * The license domain: the entitlement catalog (global, read-only for the app), smart and virtual
 * accounts, license pools, assignments, idempotency records and audit events (tenant-owned, behind
 * forced RLS like every tenant table).
 *
 * Applicability of an entitlement to a device is data (entitlement columns) evaluated by one SQL
 * function, `entitlement_problems`, used both when assigning and when computing compliance.
 */
export class Migration20261128100000Licenses extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- "17.9.3a" -> {17,9,3}: releases compare as integer arrays (letters are rebuild suffixes).
      -- The current time as the product sees it: a transaction may pin it (app.now) so time-based
      -- rules can be tested and replayed; otherwise the transaction's now().
      create function app_now() returns timestamptz
        language sql stable parallel safe
        as $$ select coalesce(nullif(current_setting('app.now', true), '')::timestamptz, now()) $$;

      create function release_parts(release text) returns int[]
        language sql immutable strict parallel safe
        as $$ select string_to_array(regexp_replace(release, '[a-z]+$', ''), '.')::int[] $$;

      create table entitlement (
        id uuid not null default gen_random_uuid() primary key,
        tag text not null,
        display_name text not null,
        category text not null check (category in ('DNA', 'HSEC', 'OTHER')),
        level text check (level in ('ESSENTIALS', 'ADVANTAGE', 'PREMIER')),
        tier text check (tier in ('T0', 'T1', 'T2', 'T3')),
        throughput_mbps int,
        managed boolean not null,
        obsolete boolean not null default false,
        device_kinds text[] not null default '{}',
        device_modes text[] not null default '{}',
        min_release_ios_xe int[],
        min_release_vedge int[],
        requires_hsec_compatible boolean not null default false,
        sort_order int not null,
        constraint entitlement_tag_key unique (tag),
        constraint entitlement_dna_shape check (category <> 'DNA' or (level is not null and tier is not null))
      );

      insert into entitlement (tag, display_name, category, level, tier, throughput_mbps, managed, device_kinds,
                               device_modes, min_release_ios_xe, min_release_vedge, sort_order)
      select format('regid.2020-10.com.cisco.DSTACK_T%s_%s', t.n, l.code),
             format('Routing DNA %s: Tier %s', l.name, t.n),
             'DNA', l.level, 'T' || t.n, t.mbps, true,
             '{IOS_XE_SDWAN,VEDGE}', '{CONTROLLER,AUTONOMOUS}', '{17,3,2}', '{20,6,1}',
             l.ord * 10 + t.n
        from (values ('E', 'Essentials', 'ESSENTIALS', 1), ('A', 'Advantage', 'ADVANTAGE', 2), ('P', 'Premier', 'PREMIER', 3))
               as l(code, name, level, ord)
       cross join (values (0, 15), (1, 100), (2, 1000), (3, 10000)) as t(n, mbps);

      insert into entitlement (tag, display_name, category, managed, device_kinds, device_modes,
                               min_release_ios_xe, requires_hsec_compatible, sort_order)
      values ('regid.2019-03.com.cisco.HSECK9', 'High Security (HSECK9)', 'HSEC', true,
              '{IOS_XE_SDWAN}', '{CONTROLLER,AUTONOMOUS}', '{17,3,2}', true, 100);

      insert into entitlement (tag, display_name, category, managed, obsolete, sort_order)
      values ('regid.2018-06.com.cisco.network-stack-essentials', 'Network Stack Essentials', 'OTHER', false, false, 200),
             ('regid.2018-06.com.cisco.network-stack-advantage', 'Network Stack Advantage', 'OTHER', false, false, 201),
             ('regid.2017-03.com.cisco.ipbase', 'IP Base', 'OTHER', false, false, 210),
             ('regid.2017-03.com.cisco.appx', 'App', 'OTHER', false, false, 211),
             ('regid.2017-03.com.cisco.securityk9', 'Sec', 'OTHER', false, false, 212),
             ('regid.2017-03.com.cisco.perf', 'Perf', 'OTHER', false, false, 213),
             ('regid.2017-03.com.cisco.boost', 'Boost', 'OTHER', false, false, 214),
             ('SDWAN-DNA-E', 'DNA Essentials for SDWAN', 'OTHER', false, true, 300),
             ('SDWAN-DNA-A', 'DNA Advantage for SDWAN', 'OTHER', false, true, 301);

      -- Reason codes why an entitlement does not apply to a device; empty when it does.
      create function entitlement_problems(
        e entitlement, kind text, mode text, software_version text, hsec_compatible boolean
      ) returns text[]
        language sql stable parallel safe
        as $$
          select array_remove(array[
            case when e.obsolete then 'OBSOLETE' end,
            case when not e.managed and not e.obsolete then 'UNMANAGED_ENTITLEMENT' end,
            case when e.managed and not (kind = any (e.device_kinds)) then 'DEVICE_KIND' end,
            case when e.managed and not (mode = any (e.device_modes)) then 'DEVICE_MODE' end,
            case when e.managed and kind = any (e.device_kinds) and release_parts(software_version) <
                   coalesce(case kind when 'VEDGE' then e.min_release_vedge else e.min_release_ios_xe end, '{0}')
                 then 'SOFTWARE_RELEASE' end,
            case when e.requires_hsec_compatible and not hsec_compatible then 'HSEC_INCOMPATIBLE' end
          ], null)
        $$;

      create table smart_account (
        tenant_id uuid not null references tenant (id) on delete cascade,
        id uuid not null default gen_random_uuid(),
        domain text not null,
        name text not null,
        external_id text not null,
        created_at timestamptz not null default app_now(),
        updated_at timestamptz not null default app_now(),
        constraint smart_account_pkey primary key (tenant_id, id),
        constraint smart_account_tenant_key unique (tenant_id)
      );
      create unique index smart_account_id_key on smart_account (id);

      create table virtual_account (
        tenant_id uuid not null,
        id uuid not null default gen_random_uuid(),
        smart_account_id uuid not null,
        external_id text not null,
        name text not null,
        managed boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint virtual_account_pkey primary key (tenant_id, id),
        constraint virtual_account_external_key unique (tenant_id, smart_account_id, external_id),
        constraint virtual_account_smart_account_fkey foreign key (tenant_id, smart_account_id)
          references smart_account (tenant_id, id) on delete cascade
      );
      create unique index virtual_account_id_key on virtual_account (id);

      create table license (
        tenant_id uuid not null,
        id uuid not null default gen_random_uuid(),
        virtual_account_id uuid not null,
        entitlement_id uuid not null references entitlement (id),
        billing_type text not null check (billing_type in ('PREPAID', 'POSTPAID')),
        billing_model text not null check (billing_model in ('A_LA_CARTE', 'ENTERPRISE_AGREEMENT', 'MSLA_U', 'MSLA_C')),
        subscription_id text not null,
        license_type text not null check (license_type in ('TERM', 'DEMO')),
        quantity int not null check (quantity >= 0),
        start_date date not null,
        end_date date not null,
        source text not null check (source in ('MANUAL', 'SYNC', 'FILE')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint license_pkey primary key (tenant_id, id),
        constraint license_term check (end_date >= start_date),
        constraint license_billing check (
          (billing_type = 'PREPAID' and billing_model in ('A_LA_CARTE', 'ENTERPRISE_AGREEMENT')) or
          (billing_type = 'POSTPAID' and billing_model in ('MSLA_U', 'MSLA_C'))),
        -- restrict: purchased lines are never deleted as a side effect of removing a virtual account
        constraint license_virtual_account_fkey foreign key (tenant_id, virtual_account_id)
          references virtual_account (tenant_id, id) on delete restrict
      );
      create unique index license_id_key on license (id);
      create index license_tenant_entitlement_idx on license (tenant_id, entitlement_id, end_date);

      create table assignment (
        tenant_id uuid not null,
        id uuid not null default gen_random_uuid(),
        device_id uuid not null,
        entitlement_id uuid not null references entitlement (id),
        category text not null check (category in ('DNA', 'HSEC')),
        license_id uuid,
        -- What was asked for; kept so a pending assignment can be reconciled the same way.
        billing_type text check (billing_type in ('PREPAID', 'POSTPAID')),
        status text not null check (status in ('ACTIVE', 'PENDING_RECONCILIATION')),
        assigned_at timestamptz not null default app_now(),
        assigned_by text not null,
        released_at timestamptz,
        released_by text,
        constraint assignment_pkey primary key (tenant_id, id),
        constraint assignment_bound check ((status = 'ACTIVE') = (license_id is not null)),
        constraint assignment_device_fkey foreign key (tenant_id, device_id)
          references device (tenant_id, id) on delete cascade,
        constraint assignment_license_fkey foreign key (tenant_id, license_id)
          references license (tenant_id, id)
      );
      create unique index assignment_id_key on assignment (id);
      -- At most one DNA and one HSEC license held by a device at any time.
      create unique index assignment_one_per_category on assignment (tenant_id, device_id, category)
        where released_at is null;
      create index assignment_license_current_idx on assignment (tenant_id, license_id) where released_at is null;

      create table idempotency_key (
        tenant_id uuid not null references tenant (id) on delete cascade,
        operation text not null,
        key text not null,
        request_hash text not null,
        response jsonb,
        created_at timestamptz not null default now(),
        constraint idempotency_key_pkey primary key (tenant_id, operation, key)
      );

      -- tenant_id is null for provider-wide changes (sync settings): those rows are visible to
      -- providers only (the policy's tenant comparison is never true for null).
      create table audit_event (
        tenant_id uuid references tenant (id) on delete cascade,
        id uuid not null default gen_random_uuid(),
        actor_subject text not null,
        actor_role text not null,
        action text not null,
        target_type text not null,
        target_ids uuid[] not null default '{}',
        details jsonb not null default '{}',
        -- millisecond precision, so a timestamp in a cursor round-trips through JavaScript exactly
        created_at timestamptz not null default date_trunc('milliseconds', clock_timestamp()),
        constraint audit_event_pkey primary key (id)
      );
      create index audit_event_tenant_time_idx on audit_event (tenant_id, created_at desc, id desc);
      create index audit_event_time_idx on audit_event (created_at desc, id desc);
    `);

    for (const table of ['smart_account', 'virtual_account', 'license', 'assignment', 'idempotency_key', 'audit_event']) {
      this.addSql(`
        alter table ${table} enable row level security;
        alter table ${table} force row level security;
        create policy ${table}_tenant_isolation on ${table}
          using (app_is_provider() or tenant_id = app_tenant_id())
          with check (app_is_provider() or tenant_id = app_tenant_id());
      `);
    }
    this.addSql(`
      -- Compliance of every device, computed where the data is. security_invoker: the view reads
      -- with the caller's rights, so row-level security of the underlying tables applies.
      -- Set-based (one pass of joins and a group per device, reasons in alphabetical order) so the
      -- plan stays linear even before statistics know about rows written in the same transaction.
      create view device_compliance with (security_invoker = true) as
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
       group by d.tenant_id, d.id;
    `);
    // Audit history is append-only for the application.
    this.addSql(`
      create policy audit_event_no_update on audit_event as restrictive for update using (false);
      create policy audit_event_no_delete on audit_event as restrictive for delete using (false);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop view if exists device_compliance;
      drop table if exists audit_event, idempotency_key, assignment, license, virtual_account, smart_account;
      drop function if exists entitlement_problems(entitlement, text, text, text, boolean);
      drop table if exists entitlement;
      drop function if exists release_parts(text);
      drop function if exists app_now();
    `);
  }
}
