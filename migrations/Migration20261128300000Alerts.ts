import { Migration } from '@mikro-orm/migrations';

/**
 * Alerts and the reporting clock. An alert is open while its condition holds (one open alert per
 * tenant, kind and subject), resolves itself when the condition clears, and can be acknowledged.
 * Provider-wide alerts have no tenant: visible to providers only.
 */
export class Migration20261128300000Alerts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table license_sync_settings
        add column sync_required_days int not null default 90 check (sync_required_days between 1 and 3650),
        add column sync_due_soon_days int not null default 7 check (sync_due_soon_days between 0 and 365),
        add column prepaid_report_months int not null default 3 check (prepaid_report_months between 1 and 36),
        add column postpaid_report_months int not null default 1 check (postpaid_report_months between 1 and 36),
        add column license_expiring_days int not null default 30 check (license_expiring_days between 1 and 365),
        add column unacknowledged_report_days int not null default 7 check (unacknowledged_report_days between 1 and 365);

      create table alert (
        id uuid not null default gen_random_uuid() primary key,
        tenant_id uuid references tenant (id) on delete cascade,
        kind text not null check (kind in ('SYNC_DUE_SOON', 'SYNC_OVERDUE', 'SYNC_FAILED', 'REPORT_DUE',
          'REPORT_UNACKNOWLEDGED', 'OUT_OF_COMPLIANCE', 'LICENSE_EXPIRING', 'UNRECONCILED_ASSIGNMENTS')),
        severity text not null check (severity in ('INFO', 'WARNING', 'CRITICAL')),
        -- What the alert is about within its kind: a billing type, a license line, a report, or '' for the tenant.
        subject_type text not null,
        subject_id text not null,
        message text not null,
        details jsonb not null default '{}',
        raised_at timestamptz not null,
        updated_at timestamptz not null,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at timestamptz
      );
      -- Deduplication: one open alert per tenant, kind and subject.
      create unique index alert_open_key on alert (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), kind, subject_type, subject_id)
        where resolved_at is null;
      create index alert_tenant_time_idx on alert (tenant_id, raised_at desc, id desc);
      create index alert_time_idx on alert (raised_at desc, id desc);

      alter table alert enable row level security;
      alter table alert force row level security;
      create policy alert_tenant_isolation on alert
        using (app_is_provider() or tenant_id = app_tenant_id())
        with check (app_is_provider() or tenant_id = app_tenant_id());
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists alert;
      alter table license_sync_settings drop column if exists sync_required_days, drop column if exists sync_due_soon_days,
        drop column if exists prepaid_report_months, drop column if exists postpaid_report_months,
        drop column if exists license_expiring_days, drop column if exists unacknowledged_report_days;
    `);
  }
}
