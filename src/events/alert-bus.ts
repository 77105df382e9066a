import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger';
import type { PgListener } from './pg-listener';

/** What travels between instances: ids only; receivers load the row through their viewer's rules. */
export interface AlertEvent {
  id: string;
  tenantId: string | null;
}

export type AlertListener = (event: AlertEvent) => void;

/**
 * The alert pub/sub, kept small so another transport can replace it. The PostgreSQL implementation
 * announces with pg_notify inside the writing transaction (delivered on commit, never for a rolled
 * back change) and every instance LISTENs on one dedicated connection (events/pg-listener.ts, shared
 * with the tenant status). A Redis implementation would keep `announce` transactional by writing an
 * outbox row in the same transaction and publishing it after commit; `listen` stays as it is.
 *
 * Listeners are called synchronously for every committed event and must not block or throw (one
 * that throws is logged and kept); buffering and loading are the listener's business (see
 * modules/alerts/alert-delivery.ts), so the notification path itself never holds more than one event.
 */
export interface AlertBus {
  /** Queue an announcement in the caller's transaction. */
  announce(em: EntityManager, event: AlertEvent): Promise<void>;
  /** Every event committed by any instance, from now on; returns the function that stops listening. */
  listen(listener: AlertListener): () => void;
  /** Listeners currently registered (zero once every subscriber has gone). */
  listenerCount(): number;
  close(): Promise<void>;
}

export const ALERT_CHANNEL = 'slm_alerts';

/**
 * The PostgreSQL alert bus on the instance's shared LISTEN connection (events/pg-listener.ts), which
 * LISTENs on ALERT_CHANNEL.
 */
export function pgAlertBus(opts: { listener: PgListener; log: Logger }): AlertBus {
  const listeners = new Set<AlertListener>();
  const log = opts.log.child({ component: 'alert-bus' });

  opts.listener.on(ALERT_CHANNEL, (payload) => {
    if (listeners.size === 0) return;
    let event: AlertEvent;
    try {
      event = parseEvent(payload);
    } catch (err) {
      log.warn({ err }, 'ignored a malformed alert notification');
      return;
    }
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err, alertId: event.id }, 'an alert listener failed; it keeps listening');
      }
    }
  });
  // A lost listener connection is re-established; events committed meanwhile are not replayed
  // (subscribers can list alerts to catch up).

  return {
    async announce(em, event) {
      await em.execute('select pg_notify(?, ?)', [ALERT_CHANNEL, JSON.stringify(event)]);
    },
    listen(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    listenerCount: () => listeners.size,
    async close() {
      listeners.clear();
    },
  };
}

function parseEvent(payload: string): AlertEvent {
  const raw = JSON.parse(payload) as { id?: unknown; tenantId?: unknown };
  if (typeof raw.id !== 'string' || (raw.tenantId !== null && typeof raw.tenantId !== 'string')) {
    throw new Error(`alert notification without id or tenantId: ${payload.slice(0, 200)}`);
  }
  return { id: raw.id, tenantId: raw.tenantId };
}
