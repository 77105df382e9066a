import pg from 'pg';
import { startPgListener, type PgListener } from '../src/events/pg-listener';
import { createLogger } from '../src/logger';
import { createTestDatabase } from './support/harness';

/**
 * The LISTEN connection (src/events/pg-listener.ts) reconnects a second after it is lost. Nothing of
 * that may outlive close(): neither the reconnection that is due (its timer is unref'd, so it shows in
 * no handle dump until it fires) nor one whose connection is being opened. Either used to open a
 * connection after close() had returned, which then stayed open: a jest worker that had closed every
 * server still held a socket (first "opening", then connected) and could not exit.
 */

const APP_NAME = 'slm-alert-listener';
const CHANNEL = 'slm_test_listener';
const log = createLogger('silent');

describe('pg listener: reconnection and close()', () => {
  let url: string;
  let owner: pg.Pool;
  const listeners: PgListener[] = [];

  const listenerBackends = async (): Promise<number[]> =>
    (
      await owner.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and application_name = $1', [
        APP_NAME,
      ])
    ).rows.map((r) => r.pid);

  /** Ends the listener's connection from the server side, as a failover or an administrator would. */
  const terminateListenerConnection = async (): Promise<void> => {
    const [pid] = await listenerBackends();
    expect(pid).toBeDefined();
    await owner.query('select pg_terminate_backend($1)', [pid]);
    await until('the listener connection to be gone', async () => (await listenerBackends()).length === 0);
  };

  const start = async (): Promise<PgListener> => {
    const listener = await startPgListener({ url, log, channels: [CHANNEL] });
    listeners.push(listener);
    return listener;
  };

  beforeAll(async () => {
    url = await createTestDatabase('listener_');
    owner = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    await owner?.end();
  });

  it('reconnects after its connection is terminated, tells onReconnected, and delivers notifications again', async () => {
    const listener = await start();
    const payloads: string[] = [];
    listener.on(CHANNEL, (p) => payloads.push(p));
    let reconnections = 0;
    listener.onReconnected(() => reconnections++);

    await terminateListenerConnection();
    await until('the reconnection', async () => reconnections === 1);
    expect(await listenerBackends()).toHaveLength(1);
    await owner.query('select pg_notify($1, $2)', [CHANNEL, 'after-reconnect']);
    await until('the notification', async () => payloads.length === 1);
    expect(payloads).toEqual(['after-reconnect']);
  });

  it('close() during the second before a reconnection cancels it: no connection is opened afterwards', async () => {
    const listener = await start();
    const connect = jest.spyOn(pg.Client.prototype, 'connect');
    await terminateListenerConnection();
    // The loss is noticed at once; the reconnection is due a second later.
    await new Promise((r) => setTimeout(r, 100));
    await listener.close();

    await new Promise((r) => setTimeout(r, 1500));
    expect(connect).not.toHaveBeenCalled();
    expect(await listenerBackends()).toEqual([]);
  });

  it('close() while a reconnection is opening its connection waits for it and ends it', async () => {
    const listener = await start();
    const original = pg.Client.prototype.connect;
    let closing: Promise<void> | undefined;
    jest.spyOn(pg.Client.prototype, 'connect').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      // The reconnection's socket is about to open: the server is shut down right now.
      closing ??= listener.close();
      return (original as unknown as (...a: unknown[]) => unknown).apply(this, args);
    } as never);

    await terminateListenerConnection();
    await until('the reconnection attempt', async () => closing !== undefined);
    await closing;
    // Once close() has returned, no listener connection exists, nor appears later.
    await until('the server to see no listener connection', async () => (await listenerBackends()).length === 0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await listenerBackends()).toEqual([]);
  });

  it('does not keep retrying in the background when its first connection fails', async () => {
    const connect = jest.spyOn(pg.Client.prototype, 'connect');
    // Nothing listens on port 1: the connection is refused.
    await expect(startPgListener({ url: 'postgres://nobody@127.0.0.1:1/none', log, channels: [CHANNEL] })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 1500));
    expect(connect).toHaveBeenCalledTimes(1);
  });
});

async function until(what: string, condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
