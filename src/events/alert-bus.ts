import type { EntityManager } from '@mikro-orm/postgresql';
import { createPubSub } from '@graphql-yoga/subscription';
import { setMaxListeners } from 'node:events';
import pg from 'pg';
import type { Logger } from '../logger';

/** What travels between instances: ids only; receivers load the row through their viewer's rules. */
export interface AlertEvent {
  id: string;
  tenantId: string | null;
}

/**
 * The alert pub/sub, kept small so another transport can replace it. The PostgreSQL implementation
 * announces with pg_notify inside the writing transaction (delivered on commit, never for a rolled
 * back change) and every instance LISTENs on one dedicated connection. A Redis implementation would
 * keep `announce` transactional by writing an outbox row in the same transaction and publishing it
 * after commit; `events()` stays as it is.
 */
export interface AlertBus {
  /** Queue an announcement in the caller's transaction. */
  announce(em: EntityManager, event: AlertEvent): Promise<void>;
  /** Every event committed by any instance, from now on. */
  events(): AsyncIterable<AlertEvent>;
  close(): Promise<void>;
}

export const ALERT_CHANNEL = 'slm_alerts';

export async function startPgAlertBus(opts: { url: string; log: Logger }): Promise<AlertBus> {
  // Every open subscription listens on this target: no listener limit (Node warns past 10 by default).
  const target = new EventTarget();
  setMaxListeners(0, target);
  const pubsub = createPubSub<{ alert: [AlertEvent] }>({ eventTarget: target as never });
  const log = opts.log.child({ component: 'alert-bus' });
  let client: pg.Client | null = null;
  let closed = false;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.url, application_name: 'slm-alert-listener' });
    c.on('notification', (msg) => {
      if (msg.channel !== ALERT_CHANNEL || !msg.payload) return;
      try {
        const event = JSON.parse(msg.payload) as AlertEvent;
        pubsub.publish('alert', event);
      } catch (err) {
        log.warn({ err }, 'ignored a malformed alert notification');
      }
    });
    // A lost listener connection is re-established; events committed meanwhile are not replayed
    // (subscribers can list alerts to catch up).
    c.on('error', (err) => log.error({ err }, 'alert listener connection failed'));
    c.on('end', () => {
      if (closed) return;
      log.warn('alert listener connection ended; reconnecting');
      setTimeout(() => connect().catch((err: unknown) => log.error({ err }, 'alert listener reconnect failed')), 1000).unref();
    });
    await c.connect();
    await c.query(`listen ${ALERT_CHANNEL}`);
    client = c;
  };
  await connect();

  return {
    async announce(em, event) {
      await em.execute('select pg_notify(?, ?)', [ALERT_CHANNEL, JSON.stringify(event)]);
    },
    events() {
      return pubsub.subscribe('alert');
    },
    async close() {
      closed = true;
      await client?.end().catch(() => undefined);
    },
  };
}
