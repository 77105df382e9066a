import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config';
import { openDatabase } from './db/database';
import type { Logger } from './logger';
import { aggregateWorkerMetrics } from './server/cluster-metrics';

/** A worker that dies this soon after it was started counts as failing to start. */
const EARLY_EXIT_MS = 10_000;
/** Consecutive early deaths after which the primary gives up instead of restarting forever. */
const MAX_EARLY_EXITS = 5;

/**
 * The primary of WEB_CONCURRENCY > 1: it does the once-per-instance work (starts the embedded
 * PostgreSQL when there is no DATABASE_URL, runs migrations, provisions the application role), then
 * forks `config.webConcurrency` workers that each run the whole server on the same port (node:cluster
 * hands each accepted connection to one worker). Workers share nothing but PostgreSQL, as separate
 * instances do: subscriptions and alerts already fan out through NOTIFY, scheduled jobs through pg-boss.
 *
 * A worker that dies is replaced (one that keeps dying at start-up makes the primary give up and exit
 * 1). SIGTERM or SIGINT is passed to every worker, which drains as a single server does; the primary
 * exits once they have, after stopping the embedded database.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  const db = await openDatabase(config, log);
  // The pool is the workers' business; an embedded database keeps running until the primary stops.
  await db.orm.close(true);
  const env = { DATABASE_URL: db.ownerUrl, DATABASE_APP_URL: db.appUrl };

  let stopping = false;
  let earlyExits = 0;
  const startedAt = new Map<Worker, number>();
  const fork = (): void => {
    const worker = cluster.fork(env);
    startedAt.set(worker, Date.now());
  };
  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  aggregateWorkerMetrics(live);

  let listening = 0;
  cluster.on('listening', (worker, address) => {
    listening += 1;
    log.debug({ worker: worker.id, pid: worker.process.pid, port: address.port }, 'worker listening');
    if (listening === config.webConcurrency) log.info({ workers: config.webConcurrency, port: address.port }, 'all workers listening');
  });

  let allStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (allStopped = resolve));
  /** Stops every worker (SIGTERM: each drains as a single server does), then `stopped` settles. */
  const stopWorkers = (): void => {
    stopping = true;
    const force = setTimeout(() => {
      log.error('workers took too long to stop; killing them');
      for (const w of live()) w.process.kill('SIGKILL');
    }, config.shutdownGraceMs + 10_000);
    force.unref();
    for (const w of live()) w.process.kill('SIGTERM');
    if (live().length === 0) allStopped();
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) {
      if (live().length === 0) allStopped();
      return;
    }
    earlyExits = lived < EARLY_EXIT_MS ? earlyExits + 1 : 0;
    if (earlyExits >= MAX_EARLY_EXITS) {
      log.error({ worker: worker.id, code, signal, earlyExits }, 'workers keep exiting at start-up; giving up');
      process.exitCode = 1;
      stopWorkers();
      return;
    }
    log.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker exited; starting a new one');
    fork();
  });

  const shutdown = (signal: string): void => {
    if (stopping) return;
    log.info({ signal, workers: live().length }, 'shutting down: stopping workers');
    stopWorkers();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  for (let i = 0; i < config.webConcurrency; i++) fork();
  await stopped;
  await db.embedded?.stop();
  log.info('shutdown complete');
  process.exit(process.exitCode ?? 0);
}
