import { Migration } from '@mikro-orm/migrations';

/**
 * Bulk assignment speed (measured with bench/bulk-assign.ts, 10,000 devices).
 *
 * `release_parts` was declared STRICT. PostgreSQL inlines a SQL function into the calling query
 * only when it can prove the body strict too, and `string_to_array` is not, so every call went
 * through the SQL-function executor: about 5 microseconds per device in every applicability check
 * and in each evaluation of `device_compliance`. Without STRICT it is inlined; the result is the
 * same for every input, NULL included (each step of the body returns NULL for NULL).
 */
export class Migration20261128410000AssignSpeed extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create or replace function release_parts(release text) returns int[]
        language sql immutable called on null input parallel safe
        as $$ select string_to_array(regexp_replace(release, '[a-z]+$', ''), '.')::int[] $$;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      create or replace function release_parts(release text) returns int[]
        language sql immutable strict parallel safe
        as $$ select string_to_array(regexp_replace(release, '[a-z]+$', ''), '.')::int[] $$;
    `);
  }
}
