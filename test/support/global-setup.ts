import 'reflect-metadata';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureEmbeddedPostgres } from '../../src/db/embedded';
import { runMigrations } from '../../src/db/migrate';
import { provisionAppRole } from '../../src/db/provision';
import { createLogger } from '../../src/logger';
import { randomBytes } from 'node:crypto';
import { buildConsole } from '../../scripts/build-console';
import { ENV_VAR, STALE_AFTER_SEC, TEST_DB_ROOT, type TestEnvironment, withDatabase } from './environment';

/**
 * Once per `npm test`: pick the PostgreSQL server (DATABASE_URL, or an embedded one started here),
 * build a migrated template database, and leave its coordinates for the test files, each of which
 * clones the template into a database of its own.
 */
export default async function globalSetup(): Promise<void> {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
  let adminUrl = process.env.DATABASE_URL;
  let embeddedDataDir: string | undefined;
  if (!adminUrl) {
    embeddedDataDir = path.join(os.tmpdir(), 'slm-test-pg');
    const port = Number(process.env.TEST_EMBEDDED_POSTGRES_PORT ?? 54339);
    const embedded = await ensureEmbeddedPostgres({ dataDir: embeddedDataDir, port, log });
    (globalThis as { __embedded?: typeof embedded }).__embedded = embedded;
    adminUrl = embedded.url;
  }

  // Runs may overlap (several terminals, CI): each names its databases by start time and a random tag,
  // and only leftovers of runs that started long ago are removed.
  const startedSec = Math.floor(Date.now() / 1000);
  const dbPrefix = `${TEST_DB_ROOT}${startedSec}_${randomBytes(3).toString('hex')}_`;
  const templateDb = `${dbPrefix}template`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `${TEST_DB_ROOT}%`,
    ]);
    for (const { datname } of rows) {
      const started = Number(/^slm_test_(\d+)_/.exec(datname)?.[1] ?? 0);
      if (startedSec - started > STALE_AFTER_SEC) {
        await admin.query(`drop database if exists ${admin.escapeIdentifier(datname)} with (force)`);
      }
    }
    await admin.query(`create database ${admin.escapeIdentifier(templateDb)}`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(adminUrl, templateDb);
  await runMigrations(templateUrl, log);
  await provisionAppRole({ ownerUrl: templateUrl, log });

  // The console's browser tests load what `npm run build` builds; built here only when its sources
  // changed since (the same cached build as `npm start`).
  await buildConsole({ log: (m) => log.info(m) });

  const env: TestEnvironment = { adminUrl, templateDb, dbPrefix, embeddedDataDir };
  process.env[ENV_VAR] = JSON.stringify(env);
  // Migrations above made MikroORM's metadata store in this (jest's main) process. With --runInBand jest
  // hands globals to every test file by reference, and the second file using the ORM would fail on
  // this process's Map: the files build their own.
  delete (globalThis as Record<string, unknown>)['mikro-orm-metadata'];
}
