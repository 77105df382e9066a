import { Migration } from '@mikro-orm/migrations';

/**
 * Bulk assignment speed (measured with bench/bulk-assign.ts, 10,000 devices).
 *
 * `release_parts` runs for every device in each evaluation of `device_compliance` (every alert
 * evaluation) and in applicability checks. It was declared STRICT: PostgreSQL inlines a SQL
 * function into the calling query only when it can prove the body strict too, and
 * `string_to_array` is not, so every call went through the SQL-function executor (about 5
 * microseconds a device). Now it is inlined, and trims the trailing letters with rtrim instead of
 * a regular expression (`[a-z]` ranges are code points: the same characters). The result is the
 * same for every input, NULL included.
 */
export class Migration20261128410000AssignSpeed extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create or replace function release_parts(release text) returns int[]
        language sql immutable called on null input parallel safe
        as $$ select string_to_array(rtrim(release, 'abcdefghijklmnopqrstuvwxyz'), '.')::int[] $$;
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
