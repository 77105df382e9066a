import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger';
import type { PgListener } from './pg-listener';

export const TENANT_STATUS_CHANNEL = 'slm_tenant_status';

/** What travels between instances when a tenant is suspended, resumed or deleted. */
export interface TenantStatusEvent {
  tenantId: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'DELETED';
}

/**
 * Which tenants are barred (suspended) right now, on this instance, without a database round trip:
 * the list is loaded at start and after every reconnection of the LISTEN connection, and kept current
 * by notifications sent inside the transaction that suspends, resumes or deletes a tenant (delivered
 * on commit, to every instance). It serves the early refusals (an HTTP request from its headers, a
 * WebSocket at connect and subscribe) and closes open subscriptions of a tenant the moment its
 * suspension arrives. It is not the only wall: every transaction of a tenant viewer is also refused
 * by the database while its tenant is suspended (db/scope.ts), which holds even in the milliseconds
 * before a notification arrives or while the LISTEN connection is down.
 */
export interface TenantStatusWatch {
  isSuspended(tenantId: string): boolean;
  /** Queue an announcement in the caller's transaction (sent on commit). */
  announce(em: EntityManager, event: TenantStatusEvent): Promise<void>;
  /** Called with every tenant that becomes suspended or is deleted; returns the function that stops it. */
  onBarred(listener: (tenantId: string) => void): () => void;
  /** Suspended tenants known now (tests, metrics). */
  suspendedCount(): number;
}

export async function startTenantStatusWatch(opts: {
  listener: PgListener;
  log: Logger;
  /** Every suspended tenant's id, read from the database (provider scope). */
  loadSuspended: () => Promise<string[]>;
}): Promise<TenantStatusWatch> {
  const log = opts.log.child({ component: 'tenant-status' });
  let suspended = new Set<string>();
  const barredListeners = new Set<(tenantId: string) => void>();

  const barred = (tenantId: string): void => {
    for (const listener of barredListeners) {
      try {
        listener(tenantId);
      } catch (err) {
        log.error({ err, tenantId }, 'a tenant-status listener failed');
      }
    }
  };

  opts.listener.on(TENANT_STATUS_CHANNEL, (payload) => {
    let event: TenantStatusEvent;
    try {
      event = parseEvent(payload);
    } catch (err) {
      log.warn({ err }, 'ignored a malformed tenant status notification');
      return;
    }
    if (event.status === 'SUSPENDED') suspended.add(event.tenantId);
    else suspended.delete(event.tenantId);
    if (event.status !== 'ACTIVE') barred(event.tenantId);
  });

  const reload = async (): Promise<void> => {
    const now = new Set(await opts.loadSuspended());
    const newly = [...now].filter((id) => !suspended.has(id));
    suspended = now;
    for (const id of newly) barred(id);
  };
  // Notifications sent while the connection was down are lost: read the truth again.
  opts.listener.onReconnected(() => {
    reload().catch((err: unknown) => log.error({ err }, 'reloading suspended tenants failed'));
  });
  // LISTEN is in place before this first read, so no change can fall between the two.
  await reload();

  return {
    isSuspended: (tenantId) => suspended.has(tenantId),
    async announce(em, event) {
      await em.execute('select pg_notify(?, ?)', [TENANT_STATUS_CHANNEL, JSON.stringify(event)]);
    },
    onBarred(listener) {
      barredListeners.add(listener);
      return () => {
        barredListeners.delete(listener);
      };
    },
    suspendedCount: () => suspended.size,
  };
}

function parseEvent(payload: string): TenantStatusEvent {
  const raw = JSON.parse(payload) as { tenantId?: unknown; status?: unknown };
  if (typeof raw.tenantId !== 'string' || !['ACTIVE', 'SUSPENDED', 'DELETED'].includes(raw.status as string)) {
    throw new Error(`tenant status notification without tenantId or status: ${payload.slice(0, 200)}`);
  }
  return { tenantId: raw.tenantId, status: raw.status as TenantStatusEvent['status'] };
}
