import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { addDevices, ASSIGN, createTrialTenant, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { signTestToken, startTestServer, type TestServer } from './support/harness';

/**
 * Regression for "ended subscriptions leak memory when requests run beside them": a few hundred
 * licenseAlerts subscriptions open and end (gracefully, abruptly without a close frame, completed by
 * the client on a connection that stays, refused, and ended by an expiring token) while queries and
 * alert-raising mutations run; afterwards the server holds no per-subscription state.
 */

const LICENSE_ALERTS = 'subscription($tenantId: ID) { licenseAlerts(tenantId: $tenantId) { id kind active } }';
const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';
const PAGE = '{ devices(first: 20) { totalCount edges { node { id hostname assignments { id status } } } } }';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

type Outcome = 'graceful' | 'abrupt' | 'completed' | 'refused' | 'expired';

/** A raw graphql-transport-ws connection with one subscription; resolves how it ended. */
function rawSubscription(url: string, token: string, variables: Record<string, unknown>, end: 'abrupt' | 'completed' | 'wait'): Promise<number | 'error'> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    let result: number | 'error' | undefined;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string; payload?: { errors?: unknown[] } };
      if (msg.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: LICENSE_ALERTS, variables } }));
        if (end === 'abrupt') {
          // No close frame: the TCP connection is simply gone.
          setTimeout(() => socket.terminate(), 50 + Math.random() * 200);
        } else if (end === 'completed') {
          setTimeout(() => {
            socket.send(JSON.stringify({ id: '1', type: 'complete' }));
            setTimeout(() => socket.close(1000), 100);
          }, 50 + Math.random() * 200);
        }
      }
      // A refused subscription: an `error` message, or a single `next` carrying errors (then `complete`).
      if (msg.type === 'error' || (msg.type === 'next' && msg.payload?.errors)) {
        result = 'error';
        socket.close(1000);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', (code) => resolve(result ?? code));
  });
}

async function oneSubscription(server: TestServer, kind: Outcome, tenants: AccountTenant[]): Promise<void> {
  const url = server.url.replace(/^http/, 'ws');
  const [a, b] = tenants;
  switch (kind) {
    case 'graceful': {
      const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${server.token('PROVIDER_OPERATOR')}` }, retryAttempts: 0 });
      const unsubscribe = client.subscribe({ query: LICENSE_ALERTS }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      await sleep(50 + Math.random() * 200);
      unsubscribe();
      await client.dispose();
      return;
    }
    case 'abrupt':
      await rawSubscription(url, a.admin, {}, 'abrupt');
      return;
    case 'completed':
      await rawSubscription(url, server.token('PROVIDER_ADMIN'), { tenantId: b.id }, 'completed');
      return;
    case 'refused':
      // A tenant admin asking for another tenant's alerts: refused like a tenant that does not exist.
      expect(await rawSubscription(url, a.admin, { tenantId: b.id }, 'wait')).toBe('error');
      return;
    case 'expired': {
      const expiring = signTestToken({ role: 'TENANT_ADMIN', tenantId: b.uuid }, { expiresIn: 2 });
      expect(await rawSubscription(url, expiring, {}, 'wait')).toBe(4403);
      return;
    }
  }
}

describe('subscriptions that open and end while queries run', () => {
  let server: TestServer;
  let tenants: AccountTenant[];
  const devices = new Map<string, string[]>();

  beforeAll(async () => {
    server = await startTestServer();
    tenants = [await createTrialTenant(server, 'churn-a'), await createTrialTenant(server, 'churn-b')];
    for (const t of tenants) devices.set(t.uuid, await addDevices(server, t, 5));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('leaves no per-subscription state behind after 300 subscriptions ended in every way', async () => {
    const before = server.stats();
    expect(before).toEqual({
      webSocketClients: 0,
      alerts: { subscribers: 0, pendingEvents: 0, queuedAlerts: 0, listening: false },
      alertBusListeners: 0,
    });

    let stop = false;
    let queries = 0;
    const readers = tenants.map(async (t) => {
      while (!stop) {
        await gqlData(server, PAGE, {}, t.operator);
        queries += 1;
      }
    });
    // Alerts keep flowing meanwhile: each tenant's pending-assignment alert is raised and resolved.
    const writers = tenants.map(async (t) => {
      const deviceIds = devices.get(t.uuid) as string[];
      while (!stop) {
        await gqlData(server, ASSIGN, { input: { deviceIds, level: 'ADVANTAGE', tier: 'T1' } }, t.admin);
        await gqlData(server, RELEASE, { input: { deviceIds } }, t.admin);
      }
    });

    const kinds: Outcome[] = ['graceful', 'abrupt', 'completed', 'graceful', 'abrupt', 'refused'];
    let peakSubscribers = 0;
    const sampler = setInterval(() => {
      peakSubscribers = Math.max(peakSubscribers, server.stats().alerts.subscribers);
    }, 20);
    try {
      // 30 waves of 10 at once (300 in all), plus tokens that expire mid-subscription.
      const expiring = Array.from({ length: 5 }, () => oneSubscription(server, 'expired', tenants));
      for (let wave = 0; wave < 30; wave++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => oneSubscription(server, kinds[(wave + i) % kinds.length], tenants)));
      }
      await Promise.all(expiring);
    } finally {
      clearInterval(sampler);
      stop = true;
      await Promise.all([...readers, ...writers]);
    }
    expect(queries).toBeGreaterThan(0);
    // They really were open at the same time...
    expect(peakSubscribers).toBeGreaterThanOrEqual(5);
    // ...and nothing of them is left: no socket, subscriber, queued alert or bus listener.
    await eventually('the server to release every connection and subscriber', () => {
      const s = server.stats();
      return s.webSocketClients === 0 && s.alerts.subscribers === 0 && s.alertBusListeners === 0;
    });
    expect(server.stats()).toEqual(before);
  });
});
