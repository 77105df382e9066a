import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { ensureEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded';
import { knownMigrationNames, MIGRATIONS_TABLE, runMigrations } from './migrate';
import { createOrm } from './orm';
import { provisionAppRole } from './provision';

export interface Database {
  orm: MikroORM;
  ownerUrl: string;
  appUrl: string;
  embedded?: EmbeddedPostgresHandle;
  /** Database reachable as the app role and every known migration applied. */
  isReady(): Promise<boolean>;
  /** The application connection pool now (metrics). */
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export interface PoolStats {
  inUse: number;
  idle: number;
  /** Acquisitions waiting for a connection. */
  waiting: number;
}

/** The part of knex's pool (tarn) that tells how it is used. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/**
 * Opens the database the way start-up and tests need it: pick the server (DATABASE_URL or the
 * embedded one), migrate as the owner, make sure the application role exists with its grants,
 * then connect the ORM as that role and check it cannot bypass row-level security.
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let ownerUrl = config.databaseUrl;
  if (!ownerUrl) {
    embedded = await ensureEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, log });
    ownerUrl = embedded.url;
  }
  try {
    await runMigrations(ownerUrl, log);
    const appUrl = await provisionAppRole({ ownerUrl, appUrl: config.databaseAppUrl, log });
    const orm = await createOrm({ url: appUrl, poolMax: config.databasePoolMax, log, statementTimeoutMs: config.statementTimeoutMs });
    await assertAppRoleIsConfined(orm);
    const expected = knownMigrationNames();
    return {
      orm,
      ownerUrl,
      appUrl,
      embedded,
      async isReady() {
        try {
          const rows = await orm.em.fork().execute<{ name: string }[]>(`select name from ${MIGRATIONS_TABLE}`);
          const applied = new Set(rows.map((r) => r.name));
          return expected.every((name) => applied.has(name));
        } catch {
          return false;
        }
      },
      poolStats() {
        const pool = (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
        return pool ? { inUse: pool.numUsed(), idle: pool.numFree(), waiting: pool.numPendingAcquires() } : { inUse: 0, idle: 0, waiting: 0 };
      },
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}

async function assertAppRoleIsConfined(orm: MikroORM): Promise<void> {
  const [role] = await orm.em.fork().execute<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean; owned: string }[]>(
    `select r.rolname, r.rolsuper, r.rolbypassrls,
            (select count(*) from pg_class c where c.relowner = r.oid and c.relnamespace = 'public'::regnamespace)::text as owned
       from pg_roles r where r.rolname = current_user`,
  );
  if (role.rolsuper || role.rolbypassrls || role.owned !== '0') {
    throw new Error(
      `the application database role "${role.rolname}" must not be a superuser, have BYPASSRLS or own tables; row-level security would not apply (check DATABASE_APP_URL)`,
    );
  }
}
