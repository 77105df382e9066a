import { Migration } from '@mikro-orm/migrations';

/**
 * A RUNNING sync proves it is alive: the instance running it stamps `heartbeat_at` every few seconds
 * (SYNC_HEARTBEAT_MS). A run whose heartbeat is older than SYNC_ABANDONED_AFTER_MS was left by a process
 * that died: it no longer blocks the tenant's scheduled syncs and is marked FAILED by the next one. Before
 * this, such a run blocked scheduled syncs until an on-demand sync found it older than 30 minutes.
 * Runs from before this migration fall back to their start time.
 */
export class Migration20261204010000SyncHeartbeat extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table sync_run add column heartbeat_at timestamptz;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table sync_run drop column if exists heartbeat_at;');
  }
}
