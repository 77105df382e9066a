import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger';
import { DeviceEntity } from '../modules/devices/device.entity';
import { TenantEntity } from '../modules/tenants/tenant.entity';

export const entities = [TenantEntity, DeviceEntity];

/** The application's ORM, connected as the non-owner application role. */
export async function createOrm(opts: { url: string; poolMax: number; log: Logger; statementTimeoutMs?: number }): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: opts.url,
    entities,
    discovery: { requireEntitiesArray: true },
    // Tenant scope lives in transactions opened by db/scope.ts; the global context is never used.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: opts.poolMax },
    // Every statement of a request is bounded; a runaway query fails instead of holding a connection.
    driverOptions: opts.statementTimeoutMs ? { connection: { statement_timeout: opts.statementTimeoutMs } } : {},
    debug: false,
    logger: (message) => opts.log.debug({ orm: message }, 'orm'),
  });
}
