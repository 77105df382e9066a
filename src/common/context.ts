import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../auth/viewer';
import type { Config } from '../config';
import type { RequestScope } from '../db/scope';
import type { Logger } from '../logger';
import type { AlertBus } from '../events/alert-bus';
import type { TenantStatusWatch } from '../events/tenant-status';
import type { Clock } from './clock';
import type { SecretBox } from './secrets';

/** Process-wide services a request may need besides the database. */
export interface AppRuntime {
  readonly config: Config;
  readonly secrets: SecretBox;
  readonly clock: Clock;
  readonly alerts: AlertBus;
  /** Which tenants are suspended, kept current across instances (events/tenant-status.ts). */
  readonly tenantStatus: TenantStatusWatch;
  readonly log: Logger;
}

/**
 * What every resolver and service receives first: who is asking and a request-scoped
 * EntityManager fork. Services open transactions on `em` through `db/scope.ts` only.
 */
export interface RequestContext {
  readonly viewer: Viewer;
  readonly em: EntityManager;
  readonly requestId: string;
  readonly log: Logger;
  readonly app: AppRuntime;
  /** HTTP requests: the shared transaction used once the operation is known to be a query. */
  scope?: RequestScope;
  /** Subscriptions over WebSocket: closes the connection (a subscriber that fell behind). */
  readonly connection?: { close(code: number, reason: string): void };
  /** Per-request memo (DataLoaders and the like), keyed by the owning module. */
  readonly memo: Map<symbol, unknown>;
}

export function memoize<T>(ctx: RequestContext, key: symbol, create: () => T): T {
  let value = ctx.memo.get(key) as T | undefined;
  if (value === undefined) {
    value = create();
    ctx.memo.set(key, value);
  }
  return value;
}
