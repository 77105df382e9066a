import pg from 'pg';
import type { Logger } from '../logger';

export type NotificationHandler = (payload: string) => void;

/**
 * One dedicated PostgreSQL connection per instance that LISTENs on a fixed set of channels (alerts,
 * tenant status) and hands each committed notification's payload to the handlers of its channel.
 * A lost connection is re-established after a second; notifications committed meanwhile are not
 * replayed, so `onConnected` tells consumers when to catch up from the database.
 */
export interface PgListener {
  /** Every payload committed on `channel` (one of the channels given at start) from now on. */
  on(channel: string, handler: NotificationHandler): void;
  /** Called after each reconnection, once LISTEN is in place again (not for the first connection). */
  onReconnected(callback: () => void): void;
  /** Ends the connection; a reconnection that is due is cancelled, one under way is waited for and ended. */
  close(): Promise<void>;
}

export async function startPgListener(opts: { url: string; log: Logger; channels: readonly string[] }): Promise<PgListener> {
  const log = opts.log.child({ component: 'pg-listener' });
  const handlers = new Map<string, NotificationHandler[]>(opts.channels.map((c) => [c, []]));
  const reconnected: (() => void)[] = [];
  let client: pg.Client | null = null;
  let closed = false;
  /** The wait before the next reconnection attempt, while one is due. */
  let reconnectTimer: NodeJS.Timeout | undefined;
  /** The reconnection attempt under way, if any: close() waits for it (it ends what it opened). */
  let reconnecting: Promise<void> | undefined;

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer) return;
    // Unref'd: a pending reconnection alone does not keep a process alive. close() clears it.
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (closed) return;
      reconnecting = connect(false)
        .catch((err: unknown) => log.error({ err }, 'listener reconnect failed'))
        .finally(() => {
          reconnecting = undefined;
        });
    }, 1000).unref();
  };

  const connect = async (first: boolean): Promise<void> => {
    // The name it had when it carried alerts only: monitoring and tests recognise the connection by it.
    const c = new pg.Client({ connectionString: opts.url, application_name: 'slm-alert-listener' });
    c.on('notification', (msg) => {
      if (!msg.payload) return;
      for (const handler of handlers.get(msg.channel) ?? []) {
        try {
          handler(msg.payload);
        } catch (err) {
          log.error({ err, channel: msg.channel }, 'a notification handler failed; it keeps listening');
        }
      }
    });
    c.on('error', (err) => log.error({ err }, 'listener connection failed'));
    c.on('end', () => {
      if (closed) return;
      log.warn('listener connection ended; reconnecting');
      scheduleReconnect();
    });
    try {
      await c.connect();
      for (const channel of opts.channels) await c.query(`listen ${c.escapeIdentifier(channel)}`);
    } catch (err) {
      // Ending it also schedules the next attempt (its 'end' event), unless the listener is closed.
      await c.end().catch(() => undefined);
      throw err;
    }
    if (closed) {
      // Closed while this connection was being opened: it is not kept.
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    if (!first) for (const callback of reconnected) callback();
  };
  try {
    await connect(true);
  } catch (err) {
    // No listener is returned, so nobody could close one: nothing may retry in the background.
    closed = true;
    clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    throw err;
  }

  return {
    on(channel, handler) {
      const list = handlers.get(channel);
      if (!list) throw new Error(`the listener does not LISTEN on ${channel}; add it to the channels given at start`);
      list.push(handler);
    },
    onReconnected(callback) {
      reconnected.push(callback);
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      // A reconnection under way sees `closed` once its connection is open and ends it itself.
      await reconnecting;
      await client?.end().catch(() => undefined);
    },
  };
}
