import type { AppRuntime } from '../common/context';
import { Clock } from '../common/clock';
import { secretBoxFor } from '../common/secrets';
import { systemContext } from '../common/system-context';
import type { Config } from '../config';
import type { Database } from '../db/database';
import { ALERT_CHANNEL, pgAlertBus } from '../events/alert-bus';
import { startPgListener } from '../events/pg-listener';
import { startTenantStatusWatch, TENANT_STATUS_CHANNEL, type TenantStatusWatch } from '../events/tenant-status';
import type { Logger } from '../logger';
import { suspendedTenantIds } from '../modules/tenants/tenant.service';

export interface OwnedRuntime extends AppRuntime {
  close(): Promise<void>;
}

/** The process-wide services requests use besides the database: secrets, clock, alert bus, tenant status. */
export async function createRuntime(opts: { config: Config; db: Database; log: Logger }): Promise<OwnedRuntime> {
  const listener = await startPgListener({ url: opts.db.appUrl, log: opts.log, channels: [ALERT_CHANNEL, TENANT_STATUS_CHANNEL] });
  const alerts = pgAlertBus({ listener, log: opts.log });
  const runtime: OwnedRuntime = {
    config: opts.config,
    secrets: secretBoxFor(opts.config),
    clock: new Clock(),
    alerts,
    // Set just below: loading the suspended tenants needs a context built on this runtime.
    tenantStatus: undefined as unknown as TenantStatusWatch,
    log: opts.log,
    async close() {
      await alerts.close();
      await listener.close();
    },
  };
  try {
    (runtime as { tenantStatus: TenantStatusWatch }).tenantStatus = await startTenantStatusWatch({
      listener,
      log: opts.log,
      loadSuspended: () => suspendedTenantIds(systemContext({ subject: 'system:tenant-status', root: opts.db.orm.em, runtime, log: opts.log })),
    });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  return runtime;
}
