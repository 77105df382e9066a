import 'reflect-metadata';
import cluster from 'node:cluster';
import v8 from 'node:v8';
import { runPrimary } from './cluster';
import { ConfigError, loadConfig } from './config';
import { openDatabase, type Database } from './db/database';
import { createLogger } from './logger';
import { startServer, type RunningServer } from './server/app';

async function main(): Promise<void> {
  const startedAt = Date.now();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  // Before start-up allocates: V8 reads it at each full collection (README: configuration, Performance).
  if (config.heapGrowingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const root = createLogger(config.logLevel, { pretty: config.env === 'development' && process.stdout.isTTY === true });
  // WEB_CONCURRENCY > 1: this process is the primary of a cluster and each worker runs what follows.
  if (config.webConcurrency > 1 && cluster.isPrimary) return runPrimary(config, root);
  // A worker's lines say which worker wrote them.
  const log = cluster.worker ? root.child({ worker: cluster.worker.id }) : root;
  const resources: { db?: Database; server?: RunningServer } = {};

  // Signal handlers come first: a SIGTERM that arrives while the database is still starting waits
  // for start-up to finish, then takes everything down in order instead of killing it half-made.
  const startup = (async () => {
    resources.db = await openDatabase(config, log);
    resources.server = await startServer({ config, log, db: resources.db });
  })();
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 10_000);
    force.unref();
    startup
      .catch(() => undefined)
      .then(() => resources.server?.close())
      .then(() => resources.db?.close())
      .then(() => {
        log.info('shutdown complete');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A worker whose primary is gone (killed, crashed) must not live on unsupervised.
  if (cluster.isWorker) process.on('disconnect', () => shutdown('primary gone'));

  try {
    await startup;
  } catch (err) {
    await resources.db?.close().catch(() => undefined);
    throw err;
  }
  const { server, db } = resources as Required<typeof resources>;
  log.info(
    { url: server.url, startupMs: Date.now() - startedAt, database: db.embedded ? 'embedded' : 'DATABASE_URL' },
    `SD-WAN License Manager listening on ${server.url}`,
  );
  if (config.ssmCaCert) {
    log.info({ ssmCaCert: config.ssmCaCert.path, certificates: config.ssmCaCert.certificates.length }, 'license-server HTTPS trusts the system roots and SSM_CA_CERT');
  }
  if (!config.isProduction && !config.jwt.key && (cluster.isPrimary || cluster.worker?.id === 1)) {
    process.stdout.write(
      `\n  GraphQL: ${server.url}\n  Get a token:  npm run token -- --role PROVIDER_ADMIN\n` +
        `  Then:         curl -s ${server.url} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"query":"{ viewer { subject role } }"}'\n\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
