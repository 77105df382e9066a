import type { AppRuntime } from '../common/context';
import { Clock } from '../common/clock';
import { secretBoxFor } from '../common/secrets';
import type { Config } from '../config';
import type { Database } from '../db/database';
import { startPgAlertBus } from '../events/alert-bus';
import type { Logger } from '../logger';

export interface OwnedRuntime extends AppRuntime {
  close(): Promise<void>;
}

/** The process-wide services requests use besides the database: secrets, clock, alert bus. */
export async function createRuntime(opts: { config: Config; db: Database; log: Logger }): Promise<OwnedRuntime> {
  const alerts = await startPgAlertBus({ url: opts.db.appUrl, log: opts.log });
  return {
    config: opts.config,
    secrets: secretBoxFor(opts.config),
    clock: new Clock(),
    alerts,
    log: opts.log,
    close: () => alerts.close(),
  };
}
