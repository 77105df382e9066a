import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '../../migrations';
import type { Logger } from '../logger';
import { withAdvisoryLock } from './advisory-lock';

export const MIGRATIONS_TABLE = 'mikro_orm_migrations';
/** Any fixed 64-bit number; every instance takes the same lock so migrations run one at a time. */
const MIGRATION_LOCK_KEY = 7_240_113_001;

/** Applies pending migrations as the owner. Safe to run from several instances at once. */
export async function runMigrations(ownerUrl: string, log: Logger): Promise<string[]> {
  return withAdvisoryLock(ownerUrl, MIGRATION_LOCK_KEY, async () => {
    const orm = await MikroORM.init({
      clientUrl: ownerUrl,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      extensions: [Migrator],
      migrations: {
        tableName: MIGRATIONS_TABLE,
        migrationsList,
        transactional: true,
        allOrNothing: true,
        snapshot: false,
        silent: true,
      },
      pool: { min: 0, max: 1 },
      debug: false,
      logger: (message) => log.debug({ orm: message }, 'migrations'),
    });
    try {
      const applied = await orm.getMigrator().up();
      const names = applied.map((m) => m.name);
      if (names.length > 0) log.info({ migrations: names }, 'applied migrations');
      return names;
    } finally {
      await orm.close(true);
    }
  });
}

export const knownMigrationNames = (): string[] => migrationsList.map((m) => m.name);
