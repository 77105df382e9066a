import PgBoss from 'pg-boss';
import type { AppRuntime, RequestContext } from '../common/context';
import { systemContext as providerScope } from '../common/system-context';
import { withAdvisoryLock } from '../db/advisory-lock';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import { allTenantIds, evaluateTenant } from '../modules/alerts/alert.service';
import { SyncTrigger } from '../modules/sync/sync.enums';
import { dueTenants, synchronizeLicenses } from '../modules/sync/sync.service';
import { tenantIsActive } from '../modules/tenants/tenant.service';

export const TICK_QUEUE = 'license-sync-tick';
export const SYNC_QUEUE = 'license-sync';
export const ALERTS_QUEUE = 'alerts-evaluate';
const QUEUES: PgBoss.Queue[] = [
  { name: TICK_QUEUE, policy: 'singleton' },
  { name: SYNC_QUEUE, policy: 'stately', retryLimit: 0 },
  { name: ALERTS_QUEUE, policy: 'singleton' },
];
/** Any fixed 64-bit number, other than the migrations' (db/migrate.ts). */
const QUEUE_SETUP_LOCK_KEY = 7_240_113_002;
const ALERTS_CRON = '0 * * * *';
const SYSTEM_SUBJECT = 'system:scheduler';

export interface Scheduler {
  /** Runs one tick now (what the cron schedule does): enqueue a sync for every due tenant. */
  tick(): Promise<number>;
  /** Runs the hourly alert evaluation now, for every tenant; returns how many were evaluated. */
  evaluateAlerts(): Promise<number>;
  /** Jobs waiting in each queue (created or retrying, not yet picked up), by queue name. */
  queueSizes(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * Scheduled sync on pg-boss. The cron tick is sent once per slot across all instances (pg-boss
 * keeps the schedule in PostgreSQL), and per-tenant sync jobs are singletons by tenant ("stately"
 * queue, singletonKey = tenant), so one sync per tenant runs at a time whichever instance picks it
 * up. synchronizeLicenses itself also joins a run already in progress.
 */
export async function startScheduler(opts: {
  db: Database;
  runtime: AppRuntime;
  log: Logger;
  cron: string;
}): Promise<Scheduler> {
  const { db, runtime } = opts;
  const log = opts.log.child({ component: 'scheduler' });
  // pg-boss creates and migrates its own schema: it connects as the owner, like migrations do.
  const boss = new PgBoss({ connectionString: db.ownerUrl, schema: 'pgboss', max: 4, application_name: 'slm-scheduler' });
  boss.on('error', (err) => log.error({ err }, 'pg-boss error'));
  await boss.start();
  // pg-boss's create_queue deadlocks when two processes create the same queue at once (two workers of
  // WEB_CONCURRENCY starting together did: one exited at start-up): one process at a time, and only
  // the queues that are missing.
  await withAdvisoryLock(db.ownerUrl, QUEUE_SETUP_LOCK_KEY, async () => {
    for (const queue of QUEUES) if (!(await boss.getQueue(queue.name))) await boss.createQueue(queue.name, queue);
  });

  const systemContext = (): RequestContext => providerScope({ subject: SYSTEM_SUBJECT, root: db.orm.em, runtime, log });

  const evaluateAll = async (): Promise<number> => {
    const ctx = systemContext();
    const tenants = await allTenantIds(ctx);
    for (const tenantId of tenants) await evaluateTenant(systemContext(), tenantId);
    return tenants.length;
  };

  const tick = async (): Promise<number> => {
    const tenants = await dueTenants(systemContext());
    for (const tenantId of tenants) {
      await boss.send(SYNC_QUEUE, { tenantId }, { singletonKey: tenantId });
    }
    if (tenants.length) log.info({ tenants: tenants.length }, 'scheduled license syncs');
    return tenants.length;
  };

  await boss.work(TICK_QUEUE, async () => {
    await tick();
  });
  await boss.work<{ tenantId: string }>(SYNC_QUEUE, async (jobs) => {
    for (const job of jobs) {
      // Queued before its tenant was suspended (or deleted): skipped, not failed.
      if (!(await tenantIsActive(systemContext(), job.data.tenantId))) {
        log.info({ tenantId: job.data.tenantId }, 'scheduled license sync skipped: the tenant is suspended or gone');
        continue;
      }
      const run = await synchronizeLicenses(systemContext(), job.data.tenantId, SyncTrigger.SCHEDULED);
      log.info({ tenantId: job.data.tenantId, status: run.status }, 'scheduled license sync finished');
    }
  });
  // Hourly, once across instances: time-based conditions (overdue sync, reports due, expiring lines)
  // change without any write that would re-evaluate them.
  await boss.work(ALERTS_QUEUE, async () => {
    await evaluateAll();
  });
  await boss.schedule(TICK_QUEUE, opts.cron);
  await boss.schedule(ALERTS_QUEUE, ALERTS_CRON);
  log.info({ cron: opts.cron }, 'scheduler started');

  return {
    tick,
    evaluateAlerts: evaluateAll,
    async queueSizes() {
      const sizes: Record<string, number> = {};
      for (const { name } of QUEUES) sizes[name] = await boss.getQueueSize(name);
      return sizes;
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}
