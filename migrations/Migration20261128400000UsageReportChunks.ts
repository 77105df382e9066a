import { Migration } from '@mikro-orm/migrations';

/**
 * Offline usage report files stored in chunks, so neither writing nor downloading one needs the whole
 * file in one buffer (a 100,000-device report was built, stored and read as a single bytea).
 *
 * A report written from now on keeps `file` null and its bytes in `usage_report_chunk` rows
 * (seq 0..file_chunks-1, in order); reports stored before keep their `file` and download as they did.
 * Chunks hold gzip data, which does not compress: `storage external` keeps them out of line without
 * PostgreSQL trying to compress them again.
 */
export class Migration20261128400000UsageReportChunks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table usage_report
        add column file_chunks int check (file_chunks >= 0),
        add constraint usage_report_one_file_store check (file is null or file_chunks is null);

      create table usage_report_chunk (
        tenant_id uuid not null,
        report_id uuid not null,
        seq int not null check (seq >= 0),
        data bytea not null,
        constraint usage_report_chunk_pkey primary key (tenant_id, report_id, seq),
        constraint usage_report_chunk_report_fkey foreign key (tenant_id, report_id)
          references usage_report (tenant_id, id) on delete cascade
      );
      alter table usage_report_chunk alter column data set storage external;

      alter table usage_report_chunk enable row level security;
      alter table usage_report_chunk force row level security;
      create policy usage_report_chunk_tenant_isolation on usage_report_chunk
        using (app_is_provider() or tenant_id = app_tenant_id())
        with check (app_is_provider() or tenant_id = app_tenant_id());
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists usage_report_chunk;
      alter table usage_report drop constraint if exists usage_report_one_file_store, drop column if exists file_chunks;
    `);
  }
}
