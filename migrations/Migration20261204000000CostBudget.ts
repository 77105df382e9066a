import { Migration } from '@mikro-orm/migrations';

/**
 * Cost budgets shared by every instance on this database (COST_BUDGET_STORE=postgres): one row per
 * bucket key ("tenant:<uuid>" or "subject:<sub>") holding GCRA's theoretical arrival time, taken by
 * one function call per operation. Not tenant data: the rows describe load, not what a tenant owns,
 * and the API never reads them; a row whose time has passed means a full bucket and may be deleted
 * at any moment (the function does so for the key it takes, a job need not).
 */
export class Migration20261204000000CostBudget extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table cost_budget (
        key text primary key,
        tat timestamptz not null
      );

      -- GCRA: admit p_cost when it fits into what is left of p_capacity, restored at p_rate per second.
      -- The row lock serializes concurrent takes of one key; other keys never wait.
      create function take_cost_budget(p_key text, p_cost float8, p_rate float8, p_capacity float8)
        returns table (allowed boolean, remaining float8, retry_after_ms float8)
        language plpgsql as $$
      declare
        now_ts timestamptz := clock_timestamp();
        depth interval := make_interval(secs => p_capacity / p_rate);
        start_ts timestamptz;
        next_ts timestamptz;
      begin
        insert into cost_budget as b (key, tat) values (p_key, now_ts)
          on conflict (key) do update set tat = b.tat
          returning greatest(b.tat, now_ts) into start_ts;
        next_ts := start_ts + make_interval(secs => p_cost / p_rate);
        if next_ts - now_ts <= depth then
          update cost_budget set tat = next_ts where key = p_key;
          return query select true, extract(epoch from (depth - (next_ts - now_ts)))::float8 * p_rate, 0::float8;
        else
          return query select false, greatest(0, extract(epoch from (depth - (start_ts - now_ts)))::float8 * p_rate),
                              extract(epoch from (next_ts - now_ts - depth))::float8 * 1000;
        end if;
      end $$;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists take_cost_budget(text, float8, float8, float8); drop table if exists cost_budget;');
  }
}
