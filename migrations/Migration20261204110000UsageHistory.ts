import { Migration } from '@mikro-orm/migrations';

/**
 * Usage history: every assignment's life as intervals `[valid_from, valid_to)` of (tenant, device,
 * entitlement, license line, billing type, billing model). What a provider invoices postpaid (MSLA)
 * use from, through `licenseUsage` (src/modules/usage).
 *
 * Written by triggers on `assignment` (and on `license`, for a line whose billing changes), in the
 * same transaction as the change, so no code path (assign, replace, release, sync moving assignments
 * to PENDING_RECONCILIATION, reconciliation, decommission, a device or tenant deleted) can forget it.
 * Statement-level with transition tables: one set-based insert/update per statement, whatever the
 * number of rows (assignLicenses writes up to 10,000 at once).
 *
 * What opens and closes an interval (the instant is app_now(), the transaction's pinned clock):
 * - an assignment inserted opens one from its assigned_at (closed at once if inserted released);
 * - an open assignment released (released_at set), deleted, or changed in what it is billed as
 *   (license line, status, entitlement) closes its interval; if it is still held, a new one opens
 *   at the same instant with the new line;
 * - a license line whose billing type or model changes closes the open intervals on it and opens
 *   new ones with the new billing at the same instant (the past keeps what it was billed as).
 * Assignments PENDING_RECONCILIATION (no line) have intervals too, with license, billing type and
 * billing model null: the device did hold the entitlement, but nothing can bill it. They are reported
 * in rows of their own, never folded into a billing model.
 *
 * Immutable: a closed interval never changes; an open one only gets its valid_to set, once (RLS
 * restrictive policies, and a trigger that refuses any other column change). Intervals are not
 * deleted by the application; they go with their tenant (foreign key cascade).
 */
export class Migration20261204110000UsageHistory extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table license_usage_interval (
        tenant_id uuid not null references tenant (id) on delete cascade,
        id bigint generated always as identity,
        assignment_id uuid not null,
        -- no foreign key: the history outlives a deleted device
        device_id uuid not null,
        entitlement_id uuid not null references entitlement (id),
        license_id uuid,
        billing_type text check (billing_type in ('PREPAID', 'POSTPAID')),
        billing_model text check (billing_model in ('A_LA_CARTE', 'ENTERPRISE_AGREEMENT', 'MSLA_U', 'MSLA_C')),
        valid_from timestamptz not null,
        valid_to timestamptz,
        constraint license_usage_interval_pkey primary key (tenant_id, id),
        constraint license_usage_interval_order check (valid_to >= valid_from),
        constraint license_usage_interval_line check ((license_id is null) = (billing_type is null and billing_model is null))
      );
      -- The one open interval of an assignment: what the triggers close.
      create unique index license_usage_interval_open_key on license_usage_interval (tenant_id, assignment_id) where valid_to is null;
      -- licenseUsage: the intervals of a tenant that end after the range starts (open ones at +infinity).
      create index license_usage_interval_tenant_end_idx
        on license_usage_interval (tenant_id, (coalesce(valid_to, 'infinity'::timestamptz)), valid_from);

      alter table license_usage_interval enable row level security;
      alter table license_usage_interval force row level security;
      create policy license_usage_interval_tenant_isolation on license_usage_interval
        using ((select app_is_provider()) or tenant_id = (select app_tenant_id()))
        with check ((select app_is_provider()) or tenant_id = (select app_tenant_id()));
      -- Append-only history: an update may only close an open interval; nothing is deleted.
      create policy license_usage_interval_close_only on license_usage_interval as restrictive for update
        using (valid_to is null) with check (valid_to is not null);
      create policy license_usage_interval_no_delete on license_usage_interval as restrictive for delete using (false);

      create function license_usage_interval_immutable() returns trigger
        language plpgsql as $$
        begin
          raise exception 'license usage interval % is history: only an open interval''s valid_to may be set, once', old.id
            using errcode = 'integrity_constraint_violation';
        end $$;
      -- The WHEN clause is evaluated without calling the function: closing intervals costs nothing extra.
      create trigger license_usage_interval_immutable
        before update on license_usage_interval for each row
        when (old.valid_to is not null
              or (old.tenant_id, old.id, old.assignment_id, old.device_id, old.entitlement_id, old.license_id,
                  old.billing_type, old.billing_model, old.valid_from)
                 is distinct from
                 (new.tenant_id, new.id, new.assignment_id, new.device_id, new.entitlement_id, new.license_id,
                  new.billing_type, new.billing_model, new.valid_from))
        execute function license_usage_interval_immutable();

      create function license_usage_on_assignment_insert() returns trigger
        language plpgsql as $$
        begin
          insert into license_usage_interval
                 (tenant_id, assignment_id, device_id, entitlement_id, license_id, billing_type, billing_model, valid_from, valid_to)
          select n.tenant_id, n.id, n.device_id, n.entitlement_id, n.license_id, l.billing_type, l.billing_model,
                 n.assigned_at,
                 -- greatest() skips nulls: an open assignment must stay open
                 case when n.released_at is not null then greatest(n.released_at, n.assigned_at) end
            from new_rows n
            left join license l on l.tenant_id = n.tenant_id and l.id = n.license_id;
          return null;
        end $$;

      create function license_usage_on_assignment_update() returns trigger
        language plpgsql as $$
        declare
          moment timestamptz := app_now();
        begin
          -- Rows whose interval ends here: held before, and now released or held as something else.
          with changed as (
            select n.tenant_id, n.id, n.released_at
              from old_rows o join new_rows n on n.tenant_id = o.tenant_id and n.id = o.id
             where o.released_at is null
               and (n.released_at is not null
                    or (n.license_id, n.status, n.entitlement_id, n.device_id)
                       is distinct from (o.license_id, o.status, o.entitlement_id, o.device_id))
          )
          update license_usage_interval i
             set valid_to = greatest(i.valid_from, coalesce(c.released_at, moment))
            from changed c
           where i.tenant_id = c.tenant_id and i.assignment_id = c.id and i.valid_to is null;
          -- Rows whose new interval begins here: held now, and not held before or held as something else.
          insert into license_usage_interval
                 (tenant_id, assignment_id, device_id, entitlement_id, license_id, billing_type, billing_model, valid_from)
          select n.tenant_id, n.id, n.device_id, n.entitlement_id, n.license_id, l.billing_type, l.billing_model, moment
            from old_rows o join new_rows n on n.tenant_id = o.tenant_id and n.id = o.id
            left join license l on l.tenant_id = n.tenant_id and l.id = n.license_id
           where n.released_at is null
             and (o.released_at is not null
                  or (n.license_id, n.status, n.entitlement_id, n.device_id)
                     is distinct from (o.license_id, o.status, o.entitlement_id, o.device_id));
          return null;
        end $$;

      create function license_usage_on_assignment_delete() returns trigger
        language plpgsql as $$
        declare
          moment timestamptz := app_now();
        begin
          update license_usage_interval i
             set valid_to = greatest(i.valid_from, moment)
            from old_rows o
           where i.tenant_id = o.tenant_id and i.assignment_id = o.id and i.valid_to is null;
          return null;
        end $$;

      create function license_usage_on_license_update() returns trigger
        language plpgsql as $$
        declare
          moment timestamptz := app_now();
        begin
          if not exists (
            select 1 from old_rows o join new_rows n on n.tenant_id = o.tenant_id and n.id = o.id
             where (n.billing_type, n.billing_model) is distinct from (o.billing_type, o.billing_model)
          ) then
            return null;
          end if;
          with rebilled as (
            select n.tenant_id, n.id, n.billing_type, n.billing_model
              from old_rows o join new_rows n on n.tenant_id = o.tenant_id and n.id = o.id
             where (n.billing_type, n.billing_model) is distinct from (o.billing_type, o.billing_model)
          ), closed as (
            update license_usage_interval i
               set valid_to = greatest(i.valid_from, moment)
              from rebilled r
             where i.tenant_id = r.tenant_id and i.license_id = r.id and i.valid_to is null
            returning i.tenant_id, i.assignment_id, i.device_id, i.entitlement_id, i.license_id
          )
          insert into license_usage_interval
                 (tenant_id, assignment_id, device_id, entitlement_id, license_id, billing_type, billing_model, valid_from)
          select c.tenant_id, c.assignment_id, c.device_id, c.entitlement_id, c.license_id, r.billing_type, r.billing_model, moment
            from closed c join rebilled r on r.tenant_id = c.tenant_id and r.id = c.license_id;
          return null;
        end $$;

      create trigger assignment_usage_insert after insert on assignment
        referencing new table as new_rows for each statement execute function license_usage_on_assignment_insert();
      create trigger assignment_usage_update after update on assignment
        referencing old table as old_rows new table as new_rows for each statement execute function license_usage_on_assignment_update();
      create trigger assignment_usage_delete after delete on assignment
        referencing old table as old_rows for each statement execute function license_usage_on_assignment_delete();
      create trigger license_usage_rebill after update on license
        referencing old table as old_rows new table as new_rows for each statement execute function license_usage_on_license_update();

      -- History from before this migration: every assignment as it stands (a released one as one
      -- closed interval on the line it ended on; the moves before today were not recorded).
      insert into license_usage_interval
             (tenant_id, assignment_id, device_id, entitlement_id, license_id, billing_type, billing_model, valid_from, valid_to)
      select a.tenant_id, a.id, a.device_id, a.entitlement_id, a.license_id, l.billing_type, l.billing_model,
             a.assigned_at, case when a.released_at is not null then greatest(a.released_at, a.assigned_at) end
        from assignment a left join license l on l.tenant_id = a.tenant_id and l.id = a.license_id;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop trigger if exists license_usage_rebill on license;
      drop trigger if exists assignment_usage_delete on assignment;
      drop trigger if exists assignment_usage_update on assignment;
      drop trigger if exists assignment_usage_insert on assignment;
      drop table if exists license_usage_interval;
      drop function if exists license_usage_on_license_update();
      drop function if exists license_usage_on_assignment_delete();
      drop function if exists license_usage_on_assignment_update();
      drop function if exists license_usage_on_assignment_insert();
      drop function if exists license_usage_interval_immutable();
    `);
  }
}
