import { Migration } from '@mikro-orm/migrations';

/**
 * Counters the license dashboard reads instead of aggregating every device (issue 13): the provider
 * view reads a few rows per tenant, whatever the number of devices.
 *
 * Three tenant-owned tables, written only by triggers on `device` and `assignment`, in the same
 * transaction and statement as the change, so no write path (assign, replace, release, reconcile,
 * sync or a summary file moving assignments to PENDING_RECONCILIATION, decommission, registration,
 * a device or tenant deleted) can forget them:
 *
 * - `license_line_use`: per license line, how many current assignments hold it (`inUse`).
 * - `device_license_state`: per device in service, what decides its compliance apart from time and
 *   from other devices: the lines its current DNA and HSEC assignments hold, the status of its DNA
 *   assignment (none, ACTIVE, PENDING_RECONCILIATION), whether any current assignment is pending, and
 *   whether any no longer fits the device (NOT_APPLICABLE).
 * - `tenant_device_class`: how many devices of a tenant share each such state (a handful of rows
 *   per tenant: one per combination of lines held and flags).
 * - `tenant_device_summary`: the classes of a tenant summed, one row per tenant: what the provider
 *   view reads, with the classes of the few lines that have ended or hold more than purchased.
 *
 * What depends on time or on other devices is not stored: at read time a class row is joined with
 * its lines' end dates (LICENSE_EXPIRED) and with their quantity against `license_line_use`
 * (OVER_ALLOCATED). So the counters stay exact as days pass and as quantities change.
 *
 * How a statement updates them (statement-level triggers with transition tables, like the usage
 * intervals of migration 20261204110000): the line counters by `in_use = in_use + delta`; the
 * devices the statement touched are recomputed from the tables as they now stand and compared with
 * their stored state; the differences are added to the class counters (`devices = devices + delta`).
 * Recomputing instead of reconstructing the previous state makes it independent of the order in
 * which cascades and triggers fire.
 *
 * Concurrency: counters are only ever incremented in place (a concurrent transaction's increment is
 * never lost: the row lock makes the second wait and add to the first's committed value). A device's
 * stored state is locked before it is recomputed, so two transactions changing the same device's
 * assignments serialize, and the second reads what the first committed. Locks are taken in one
 * order in every trigger: line counters by (tenant, line), then device states by (tenant, device),
 * then class counters by their key, so concurrent bulk writes do not deadlock on them.
 *
 * Skipped: rows of a tenant that no longer exists (a tenant row deleted directly cascades to its
 * devices, and its counters go with it), and of the tenant named by the transaction-local setting
 * `app.counters_skip_tenant`, which deleteTenant sets while it deletes every row of that tenant
 * (maintaining counters that are deleted a moment later is wasted work, and would change how many
 * counter rows it reports as removed).
 */
/** Advisory lock keys (two-int form, its own key space): all tenants' counters, one tenant's counters. */
const LOCK_ALL = 1_330_001;
const LOCK_TENANT = 1_330_002;

export class Migration20261205000000DashboardCounters extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table license_line_use (
        tenant_id uuid not null references tenant (id) on delete cascade,
        license_id uuid not null,
        in_use int not null default 0,
        constraint license_line_use_pkey primary key (tenant_id, license_id)
      );

      create table tenant_device_class (
        tenant_id uuid not null references tenant (id) on delete cascade,
        dna_license_id uuid,
        hsec_license_id uuid,
        dna_status text check (dna_status in ('ACTIVE', 'PENDING_RECONCILIATION')),
        pending boolean not null,
        not_applicable boolean not null,
        devices int not null,
        constraint tenant_device_class_key unique nulls not distinct
          (tenant_id, dna_license_id, hsec_license_id, dna_status, pending, not_applicable)
      );

      -- The classes of a tenant summed: one row per tenant for the provider view. base_compliant:
      -- devices compliant unless a line they hold has ended or holds more devices than purchased.
      create table tenant_device_summary (
        tenant_id uuid not null references tenant (id) on delete cascade,
        total int not null,
        licensed int not null,
        dna_pending int not null,
        unassigned int not null,
        pending int not null,
        not_applicable int not null,
        base_compliant int not null,
        constraint tenant_device_summary_pkey primary key (tenant_id)
      );
    `);
    for (const table of ['license_line_use', 'tenant_device_class', 'tenant_device_summary']) {
      this.addSql(`
        alter table ${table} enable row level security;
        alter table ${table} force row level security;
        create policy ${table}_tenant_isolation on ${table}
          using ((select app_is_provider()) or tenant_id = (select app_tenant_id()))
          with check ((select app_is_provider()) or tenant_id = (select app_tenant_id()));
      `);
    }
    this.addSql(`
      -- The tenants among p_tenants whose counters are kept now (see the comment of this migration),
      -- locked for the rest of the transaction: one transaction at a time maintains a tenant's
      -- counters, so reading a device's state and writing the difference cannot interleave with
      -- another transaction's. Advisory locks, not row locks: a tenant viewer may not lock its tenant
      -- row (RLS), and no tuple is written. A statement touching many tenants (the migration's own
      -- backfill, a bulk load by the owner) takes the one lock over all tenants instead, which every
      -- per-tenant locker holds shared. Keys are taken in key order, so lockers never wait in a cycle.
      create function counters_lock_tenants(p_tenants uuid[]) returns uuid[]
        language plpgsql volatile
        as $$
        declare
          ids uuid[];
        begin
          select coalesce(array_agg(t.id), '{}') into ids
            from (select distinct x from unnest(p_tenants) as x) as u
            join tenant t on t.id = u.x
           where t.id is distinct from nullif(current_setting('app.counters_skip_tenant', true), '')::uuid;
          if cardinality(ids) > 16 then
            perform pg_advisory_xact_lock(${LOCK_ALL}, 0);
          elsif cardinality(ids) > 0 then
            perform pg_advisory_xact_lock_shared(${LOCK_ALL}, 0);
            perform pg_advisory_xact_lock(${LOCK_TENANT}, k) from (select distinct hashtext(id::text) as k from unnest(ids) as id) as keys order by k;
          end if;
          return ids;
        end $$;

      -- Moves some devices of one tenant from the class they were in before the current statement
      -- to the class they are in now. Before: the devices' attributes as given (p_old_devices, from a
      -- device trigger) or as they are; holding what they hold now except the statement's new rows
      -- (p_new_ids), plus what its changed or deleted rows held (p_old). With p_after false the
      -- devices leave (a device about to be deleted). Runs under the tenant's counter lock, so "what
      -- they hold now" apart from this statement's rows is exactly what the counters already count.
      --
      -- Each table is read by its tenant-leading key with the device list as an array, and joined by
      -- hashing. EXECUTE plans it for these very values (the list is a constant to the planner: its
      -- length is known and "= any" is a hash lookup): rows written earlier in the same transaction
      -- have no statistics, and a generic plan expected a few rows and chose nested loops over an
      -- index that does not lead with the device (measured: 29 s for 10,000 freshly registered
      -- devices). Applicability is decided once per distinct entitlement and device attributes.
      create function device_class_shift(
        p_tenant uuid, p_devices uuid[], p_new_ids uuid[], p_old assignment[], p_old_devices device[], p_after boolean
      ) returns void
        language plpgsql volatile
        -- jit off: with nested loops off, the small cross join below is costed as disabled, which
        -- would make PostgreSQL compile the statement (1.4 s of JIT for 70 ms of work)
        set enable_nestloop = off
        set jit = off
        as $fn$
        begin
          execute $q$
          with now_d as materialized (
            select d.id, d.kind, d.mode, d.software_version, d.hsec_compatible, d.decommissioned_at is null as in_service
              from device d where d.tenant_id = $1 and d.id = any ($2)
          ), now_a as materialized (
            select a.id, a.device_id, a.category, a.license_id, a.status, a.entitlement_id
              from assignment a where a.tenant_id = $1 and a.device_id = any ($2) and a.released_at is null
          ), dev (side, id, kind, mode, software_version, hsec_compatible, in_service) as materialized (
            select 1, d.id, d.kind, d.mode, d.software_version, d.hsec_compatible, d.in_service from now_d d where $6
            union all
            select -1, d.id, d.kind, d.mode, d.software_version, d.hsec_compatible, d.in_service from now_d d where $5 is null
            union all
            select -1, o.id, o.kind, o.mode, o.software_version, o.hsec_compatible, o.decommissioned_at is null from unnest($5) o
          ), held (side, device_id, category, license_id, status, entitlement_id) as materialized (
            select 1, a.device_id, a.category, a.license_id, a.status, a.entitlement_id from now_a a where $6
            union all
            select -1, a.device_id, a.category, a.license_id, a.status, a.entitlement_id from now_a a where a.id <> all ($3)
            union all
            select -1, o.device_id, o.category, o.license_id, o.status, o.entitlement_id from unnest($4) o where o.released_at is null
          ), fit as materialized (
            select e.id as entitlement_id, v.kind, v.mode, v.software_version, v.hsec_compatible,
                   cardinality(entitlement_problems(e, v.kind, v.mode, v.software_version, v.hsec_compatible)) > 0 as bad
              from entitlement e
             cross join (select distinct d.kind, d.mode, d.software_version, d.hsec_compatible from dev d) as v
             where e.id in (select h.entitlement_id from held h)
          ), cls as (
            -- a device holds at most one current DNA and one HSEC assignment, before as after
            select d.side, dna.license_id as dna, hsec.license_id as hsec, dna.status as dna_status,
                   coalesce(dna.status = 'PENDING_RECONCILIATION', false) or coalesce(hsec.status = 'PENDING_RECONCILIATION', false) as pending,
                   coalesce(fd.bad, false) or coalesce(fh.bad, false) as na
              from dev d
              left join held dna on dna.side = d.side and dna.device_id = d.id and dna.category = 'DNA'
              left join held hsec on hsec.side = d.side and hsec.device_id = d.id and hsec.category = 'HSEC'
              left join fit fd on fd.entitlement_id = dna.entitlement_id and fd.kind = d.kind and fd.mode = d.mode
                              and fd.software_version = d.software_version and fd.hsec_compatible = d.hsec_compatible
              left join fit fh on fh.entitlement_id = hsec.entitlement_id and fh.kind = d.kind and fh.mode = d.mode
                              and fh.software_version = d.software_version and fh.hsec_compatible = d.hsec_compatible
             where d.in_service
          ), delta as (
            select dna, hsec, dna_status, pending, na, sum(side)::int as n
              from cls group by 1, 2, 3, 4, 5 having sum(side) <> 0
          )
          , classes as (
            insert into tenant_device_class as c (tenant_id, dna_license_id, hsec_license_id, dna_status, pending, not_applicable, devices)
            select $1, dna, hsec, dna_status, pending, na, n from delta
             order by dna nulls first, hsec nulls first, dna_status nulls first, pending, na
            on conflict (tenant_id, dna_license_id, hsec_license_id, dna_status, pending, not_applicable)
            do update set devices = c.devices + excluded.devices
          )
          insert into tenant_device_summary as s (tenant_id, total, licensed, dna_pending, unassigned, pending, not_applicable, base_compliant)
          select $1, sum(n), coalesce(sum(n) filter (where dna_status = 'ACTIVE'), 0), coalesce(sum(n) filter (where dna_status = 'PENDING_RECONCILIATION'), 0),
                 coalesce(sum(n) filter (where dna_status is null), 0), coalesce(sum(n) filter (where pending), 0), coalesce(sum(n) filter (where na), 0),
                 coalesce(sum(n) filter (where dna_status is not null and not pending and not na), 0)
            from delta having count(*) > 0
          on conflict (tenant_id) do update set
            total = s.total + excluded.total, licensed = s.licensed + excluded.licensed, dna_pending = s.dna_pending + excluded.dna_pending,
            unassigned = s.unassigned + excluded.unassigned, pending = s.pending + excluded.pending,
            not_applicable = s.not_applicable + excluded.not_applicable, base_compliant = s.base_compliant + excluded.base_compliant
          $q$ using p_tenant, p_devices, coalesce(p_new_ids, '{}'), coalesce(p_old, '{}'), p_old_devices, p_after;
        end $fn$;

      -- What every trigger below calls, once per statement: adds deltas to the line counters, and
      -- moves the touched devices between classes (device_class_shift), one tenant at a time in
      -- tenant order. p_old: the statement's changed or deleted assignment rows as they were;
      -- p_new_*: its inserted or changed rows (not held before it); p_old_devices: changed device
      -- rows as they were; p_after false: the devices are about to be deleted.
      create function dashboard_counters_apply(
        p_line_tenants uuid[], p_lines uuid[], p_deltas int[],
        p_device_tenants uuid[], p_devices uuid[],
        p_new_tenants uuid[], p_new_ids uuid[], p_old assignment[], p_old_devices device[], p_after boolean
      ) returns void
        language plpgsql volatile
        as $$
        declare
          ids uuid[] := counters_lock_tenants(coalesce(p_line_tenants, '{}') || coalesce(p_device_tenants, '{}'));
          g record;
        begin
          if cardinality(ids) = 0 then
            return;
          end if;
          if p_lines is not null then
            insert into license_line_use as u (tenant_id, license_id, in_use)
            select x.t, x.l, sum(x.d)::int
              from unnest(p_line_tenants, p_lines, p_deltas) as x(t, l, d)
             where x.t = any (ids)
             group by x.t, x.l
            having sum(x.d) <> 0
             order by x.t, x.l
            on conflict (tenant_id, license_id) do update set in_use = u.in_use + excluded.in_use;
          end if;
          if p_devices is null then
            return;
          end if;
          if cardinality(ids) = 1 and p_device_tenants[1] = ids[1] and ids[1] = all (p_device_tenants) then
            -- the usual statement: one tenant's rows
            perform device_class_shift(ids[1], p_devices, p_new_ids, p_old, p_old_devices, p_after);
            return;
          end if;
          for g in
            select t.t, t.devices, n.ids as new_ids, o.rows as old_rows, od.rows as old_devices
              from (select x.t, array_agg(distinct x.d) as devices from unnest(p_device_tenants, p_devices) as x(t, d)
                     where x.t = any (ids) group by x.t) as t
              left join (select x.t, array_agg(x.i) as ids from unnest(p_new_tenants, p_new_ids) as x(t, i) group by x.t) as n on n.t = t.t
              left join (select o.tenant_id as t, array_agg(o) as rows from unnest(p_old) as o group by o.tenant_id) as o on o.t = t.t
              left join (select o.tenant_id as t, array_agg(o) as rows from unnest(p_old_devices) as o group by o.tenant_id) as od on od.t = t.t
             order by t.t
          loop
            -- an empty p_old_devices (devices inserted: none existed before) must stay empty, not become null
            perform device_class_shift(g.t, g.devices, g.new_ids, g.old_rows,
                                       coalesce(g.old_devices, case when p_old_devices is not null then '{}'::device[] end), p_after);
          end loop;
        end $$;

      -- Rows inserted (+1, not held before) or deleted (-1, held before if current): both triggers
      -- name their transition table rows.
      create function dashboard_on_assignment_rows() returns trigger
        language plpgsql as $$
        declare
          sign int := case tg_op when 'INSERT' then 1 else -1 end;
        begin
          perform dashboard_counters_apply(
            array_agg(r.tenant_id) filter (where r.license_id is not null), array_agg(r.license_id) filter (where r.license_id is not null),
            array_agg(sign) filter (where r.license_id is not null),
            array_agg(r.tenant_id), array_agg(r.device_id),
            array_agg(r.tenant_id) filter (where sign = 1), array_agg(r.id) filter (where sign = 1),
            array_agg(row(r.*)::assignment) filter (where sign = -1), null::device[], true)
             from rows r where r.released_at is null having count(*) > 0;
          return null;
        end $$;

      create function dashboard_on_assignment_update() returns trigger
        language plpgsql as $$
        begin
          -- Only rows that are or were current and changed in anything the counters read.
          perform dashboard_counters_apply(
            array_agg(c.tenant_id) filter (where c.line is not null), array_agg(c.line) filter (where c.line is not null),
            array_agg(c.d) filter (where c.line is not null),
            array_agg(c.tenant_id), array_agg(c.device_id),
            array_agg(c.tenant_id) filter (where c.d = 1), array_agg(c.id) filter (where c.d = 1),
            array_agg(c.old) filter (where c.d = -1 and (c.old).released_at is null), null::device[], true)
             from old_rows o join new_rows n on n.tenant_id = o.tenant_id and n.id = o.id
            cross join lateral (values (o.tenant_id, o.id, o.device_id, case when o.released_at is null then o.license_id end, -1, row(o.*)::assignment),
                                       (n.tenant_id, n.id, n.device_id, case when n.released_at is null then n.license_id end, 1, null::assignment))
                               as c(tenant_id, id, device_id, line, d, old)
            where (o.released_at is null or n.released_at is null)
              and (o.device_id, o.category, o.entitlement_id, o.license_id, o.status, o.released_at is null)
                  is distinct from (n.device_id, n.category, n.entitlement_id, n.license_id, n.status, n.released_at is null)
           having count(*) > 0;
          return null;
        end $$;

      create function dashboard_on_device_insert() returns trigger
        language plpgsql as $$
        begin
          perform dashboard_counters_apply(null, null, null, array_agg(n.tenant_id), array_agg(n.id), null, null, null::assignment[], '{}'::device[], true)
             from new_rows n having count(*) > 0;
          return null;
        end $$;

      create function dashboard_on_device_update() returns trigger
        language plpgsql as $$
        begin
          -- Only what compliance reads: applicability (kind, mode, release, HSEC) and being in service.
          perform dashboard_counters_apply(null, null, null, array_agg(o.tenant_id), array_agg(o.id), null, null, null::assignment[], array_agg(row(o.*)::device), true)
             from old_rows o join new_rows n on n.tenant_id = o.tenant_id and n.id = o.id
            where (o.kind, o.mode, o.software_version, o.hsec_compatible, o.decommissioned_at is null)
                  is distinct from (n.kind, n.mode, n.software_version, n.hsec_compatible, n.decommissioned_at is null)
           having count(*) > 0;
          return null;
        end $$;

      -- Row-level and BEFORE: the device leaves its class while its assignments still exist (their
      -- cascade comes after, and finds the device gone). Devices are deleted only with their tenant,
      -- whose counters are skipped then (the WHEN clause costs nothing per row).
      create function dashboard_on_device_delete() returns trigger
        language plpgsql as $$
        begin
          perform dashboard_counters_apply(null, null, null, array[old.tenant_id], array[old.id], null, null, null::assignment[], null::device[], false);
          return old;
        end $$;

      create trigger assignment_dashboard_insert after insert on assignment
        referencing new table as rows for each statement execute function dashboard_on_assignment_rows();
      create trigger assignment_dashboard_update after update on assignment
        referencing old table as old_rows new table as new_rows for each statement execute function dashboard_on_assignment_update();
      create trigger assignment_dashboard_delete after delete on assignment
        referencing old table as rows for each statement execute function dashboard_on_assignment_rows();
      create trigger device_dashboard_insert after insert on device
        referencing new table as new_rows for each statement execute function dashboard_on_device_insert();
      create trigger device_dashboard_update after update on device
        referencing old table as old_rows new table as new_rows for each statement execute function dashboard_on_device_update();
      create trigger device_dashboard_delete before delete on device for each row
        when (old.tenant_id::text is distinct from nullif(current_setting('app.counters_skip_tenant', true), ''))
        execute function dashboard_on_device_delete();

      -- The counters recomputed from scratch, read with the caller's rights: what the tables must
      -- equal at every commit (the property test compares them), and how they are filled here.
      create view license_line_use_recomputed with (security_invoker = true) as
      select a.tenant_id, a.license_id, count(*)::int as in_use
        from assignment a where a.released_at is null and a.license_id is not null
       group by a.tenant_id, a.license_id;

      create view tenant_device_class_recomputed with (security_invoker = true) as
      select x.tenant_id, x.dna_license_id, x.hsec_license_id, x.dna_status, x.pending, x.not_applicable, count(*)::int as devices
        from (select d.tenant_id, dna.license_id as dna_license_id, hsec.license_id as hsec_license_id, dna.status as dna_status,
                     coalesce(dna.status = 'PENDING_RECONCILIATION', false) or coalesce(hsec.status = 'PENDING_RECONCILIATION', false) as pending,
                     coalesce(cardinality(entitlement_problems(de, d.kind, d.mode, d.software_version, d.hsec_compatible)) > 0, false)
                       or coalesce(cardinality(entitlement_problems(he, d.kind, d.mode, d.software_version, d.hsec_compatible)) > 0, false)
                       as not_applicable
                from device d
                left join assignment dna on dna.tenant_id = d.tenant_id and dna.device_id = d.id and dna.category = 'DNA' and dna.released_at is null
                left join entitlement de on de.id = dna.entitlement_id
                left join assignment hsec on hsec.tenant_id = d.tenant_id and hsec.device_id = d.id and hsec.category = 'HSEC' and hsec.released_at is null
                left join entitlement he on he.id = hsec.entitlement_id
               where d.decommissioned_at is null) as x
       group by 1, 2, 3, 4, 5, 6;

      create view tenant_device_summary_recomputed with (security_invoker = true) as
      select c.tenant_id, sum(c.devices)::int as total,
             coalesce(sum(c.devices) filter (where c.dna_status = 'ACTIVE'), 0)::int as licensed,
             coalesce(sum(c.devices) filter (where c.dna_status = 'PENDING_RECONCILIATION'), 0)::int as dna_pending,
             coalesce(sum(c.devices) filter (where c.dna_status is null), 0)::int as unassigned,
             coalesce(sum(c.devices) filter (where c.pending), 0)::int as pending,
             coalesce(sum(c.devices) filter (where c.not_applicable), 0)::int as not_applicable,
             coalesce(sum(c.devices) filter (where c.dna_status is not null and not c.pending and not c.not_applicable), 0)::int as base_compliant
        from tenant_device_class_recomputed c group by c.tenant_id;

      -- What already exists.
      insert into license_line_use select * from license_line_use_recomputed;
      insert into tenant_device_class select * from tenant_device_class_recomputed;
      insert into tenant_device_summary select * from tenant_device_summary_recomputed;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop trigger if exists device_dashboard_delete on device;
      drop trigger if exists device_dashboard_update on device;
      drop trigger if exists device_dashboard_insert on device;
      drop trigger if exists assignment_dashboard_delete on assignment;
      drop trigger if exists assignment_dashboard_update on assignment;
      drop trigger if exists assignment_dashboard_insert on assignment;
      drop function if exists dashboard_on_device_delete();
      drop function if exists dashboard_on_device_update();
      drop function if exists dashboard_on_device_insert();
      drop function if exists dashboard_on_assignment_update();
      drop function if exists dashboard_on_assignment_rows();
      drop function if exists dashboard_counters_apply(uuid[], uuid[], int[], uuid[], uuid[], uuid[], uuid[], assignment[], device[], boolean);
      drop function if exists device_class_shift(uuid, uuid[], uuid[], assignment[], device[], boolean);
      drop function if exists counters_lock_tenants(uuid[]);
      drop view if exists tenant_device_summary_recomputed, tenant_device_class_recomputed, license_line_use_recomputed;
      drop table if exists tenant_device_summary, tenant_device_class, license_line_use;
    `);
  }
}
