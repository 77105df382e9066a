import { Migration } from '@mikro-orm/migrations';

/**
 * The usage-history trigger on license updates (Migration20261204110000UsageHistory) found rebilled
 * lines by joining the statement's old and new transition tables. Transition tables have no
 * statistics, so PostgreSQL could not plan the join well: the upsert of a sync that re-applies 5,000
 * unchanged lines took about 2 s (the whole second sync 2.0–2.9 s in the bench). The lines whose billing
 * changed are now found by grouping both sides by line (one hashed pass), with the same result: that
 * sync takes about 0.36 s.
 */
/** The function's opening, the same before and after. */
const FUNCTION = `      create or replace function license_usage_on_license_update() returns trigger
        language plpgsql as $$
        declare
          moment timestamptz := app_now();
        begin`;

/** Given the CTE \`rebilled\` (open above): close those lines' open intervals and open them again as billed now. */
const REBILL = `          ), closed as (
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
        end $$;`;

export class Migration20261205100000LicenseRebillSpeed extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
${FUNCTION}
          with sides as (
            select o.tenant_id, o.id, o.billing_type, o.billing_model, false as is_new from old_rows o
            union all
            select n.tenant_id, n.id, n.billing_type, n.billing_model, true from new_rows n
          ), rebilled as (
            select s.tenant_id, s.id,
                   (array_agg(s.billing_type) filter (where s.is_new))[1] as billing_type,
                   (array_agg(s.billing_model) filter (where s.is_new))[1] as billing_model
              from sides s
             group by s.tenant_id, s.id
            having count(distinct (s.billing_type, s.billing_model)) > 1
${REBILL}
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
${FUNCTION}
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
${REBILL}
    `);
  }
}
