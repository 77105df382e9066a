import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CLOSE_TRY_AGAIN_LATER, existingAlertDelivery } from '../src/modules/alerts/alert-delivery';
import { addDevices, ASSIGN, createTrialTenant, dbId, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * Regression for "a burst of alerts crashes the process" (RepeaterOverflowError escaping the alert
 * bus's notification listener): thousands of alert changes in seconds, committed by the product's
 * own mutations and by bulk updates that notify exactly as the product does, while fast subscribers
 * read at full speed and one subscriber does not read at all.
 */

const ALERT_FIELDS = 'id message details updatedAt active tenant { id }';
const LICENSE_ALERTS = `subscription($tenantId: ID) { licenseAlerts(tenantId: $tenantId) { ${ALERT_FIELDS} } }`;
const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';
const WAIT_MS = 30_000;
/** Large enough that a subscriber which stops reading fills the loopback socket buffers quickly. */
const PADDING = 'x'.repeat(4096);

interface Seen {
  id: string;
  message: string;
  details: { round?: number };
  updatedAt: string;
  active: boolean;
  tenant: { id: string } | null;
}

interface FinalState {
  id: string;
  tenantId: string;
  message: string;
  active: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A graphql-ws client reading at full speed, keeping the last state it saw of every alert. */
class FastSubscriber {
  readonly last = new Map<string, Seen>();
  received = 0;
  readonly failures: unknown[] = [];
  private readonly client: Client;

  constructor(url: string, token: string, tenantId?: string) {
    this.client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    this.client.subscribe<{ licenseAlerts: Seen }>(
      { query: LICENSE_ALERTS, variables: tenantId ? { tenantId } : {} },
      {
        next: (result) => {
          if (result.errors) this.failures.push(result.errors);
          const alert = result.data?.licenseAlerts;
          if (!alert) return;
          this.received += 1;
          this.last.set(dbId(alert.id), alert);
        },
        error: (err) => this.failures.push(err),
        complete: () => undefined,
      },
    );
  }

  /** True when the last state seen of each expected alert is its final state. */
  sawFinal(expected: FinalState[]): boolean {
    return expected.every((f) => {
      const seen = this.last.get(f.id);
      return seen !== undefined && seen.message === f.message && seen.active === f.active;
    });
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}

/** A raw graphql-transport-ws client whose socket can stop reading (TCP backpressure reaches the server). */
class PausableSubscriber {
  readonly last = new Map<string, Seen>();
  received = 0;
  closeCode: number | undefined;
  private readonly socket: WebSocket;
  private readonly ready: Promise<void>;

  constructor(url: string, token: string) {
    this.socket = new WebSocket(url, 'graphql-transport-ws');
    this.ready = new Promise((resolve, reject) => {
      this.socket.on('error', reject);
      this.socket.on('open', () => this.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      this.socket.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type: string; payload?: { data?: { licenseAlerts?: Seen } } };
        if (msg.type === 'connection_ack') {
          this.socket.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: LICENSE_ALERTS } }));
          resolve();
        }
        const alert = msg.payload?.data?.licenseAlerts;
        if (msg.type === 'next' && alert) {
          this.received += 1;
          this.last.set(dbId(alert.id), alert);
        }
      });
    });
    this.socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  opened(): Promise<void> {
    return this.ready;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  sawFinal(expected: FinalState[]): boolean {
    return expected.every((f) => this.last.get(f.id)?.message === f.message && this.last.get(f.id)?.active === f.active);
  }

  close(): void {
    this.socket.terminate();
  }
}

/** Inserts `perTenant` open alerts for each tenant (arranging as the owner); returns their ids. */
async function seedAlerts(server: TestServer, tenants: AccountTenant[], perTenant: number): Promise<string[]> {
  const rows = await server.sql<{ id: string }>(
    `insert into alert (tenant_id, kind, severity, subject_type, subject_id, message, raised_at, updated_at)
     select t.id, 'LICENSE_EXPIRING', 'WARNING', 'License', 'burst-' || n, 'seeded', now(), now()
       from unnest($1::uuid[]) t(id) cross join generate_series(1, $2::int) n
     returning id`,
    [tenants.map((t) => t.uuid), perTenant],
  );
  return rows.map((r) => r.id);
}

/**
 * `rounds` changes of every alert, 25 alerts per transaction, each change announced with pg_notify in
 * the changing transaction, the same payload as the product's alert bus (delivered on commit).
 */
async function burst(server: TestServer, ids: string[], rounds: number): Promise<number> {
  let changes = 0;
  for (let round = 1; round <= rounds; round++) {
    for (let i = 0; i < ids.length; i += 25) {
      const chunk = ids.slice(i, i + 25);
      await server.sql(
        `with changed as (
           update alert set message = $2, details = jsonb_build_object('round', $3::int, 'pad', $4::text), updated_at = now()
            where id = any($1::uuid[]) returning id, tenant_id)
         select pg_notify('slm_alerts', json_build_object('id', id, 'tenantId', tenant_id)::text) from changed`,
        [chunk, `round ${round}`, round, PADDING],
      );
      changes += chunk.length;
    }
  }
  return changes;
}

/** A tenant admin flipping its pending-assignment alert: assign then release over its devices, `times` times. */
async function flipLoop(server: TestServer, tenant: AccountTenant, deviceIds: string[], times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await gqlData(server, ASSIGN, { input: { deviceIds, level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
    await gqlData(server, RELEASE, { input: { deviceIds } }, tenant.admin);
  }
}

async function finalStates(server: TestServer): Promise<FinalState[]> {
  const rows = await server.sql<{ id: string; tenant_id: string; message: string; resolved: boolean }>(
    'select id, tenant_id, message, resolved_at is not null as resolved from alert',
  );
  return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, message: r.message, active: !r.resolved }));
}

function deliveryStats(server: TestServer): ReturnType<NonNullable<ReturnType<typeof existingAlertDelivery>>['stats']> {
  const delivery = existingAlertDelivery(server.runtime);
  if (!delivery) throw new Error('no subscription was ever opened on this server');
  return delivery.stats();
}

/**
 * A forced full GC, for heap figures comparable before and after (jest does not expose gc). The flag
 * is switched off again at once: contexts made later (the next test files of this jest worker) would
 * otherwise have a global gc, which the server treats as the soak mode (/__debug/heap).
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  gc();
}

// A few seconds on an idle machine; generous for a CI machine that runs other suites beside it.
jest.setTimeout(180_000);

describe('a burst of alert changes', () => {
  let server: TestServer;
  let wsUrl: string;
  let tenants: AccountTenant[];
  const devices = new Map<string, string[]>();

  beforeAll(async () => {
    server = await startTestServer();
    wsUrl = server.url.replace(/^http/, 'ws');
    tenants = [];
    for (const slug of ['burst-a', 'burst-b', 'burst-c']) {
      const tenant = await createTrialTenant(server, slug);
      tenants.push(tenant);
      devices.set(tenant.uuid, await addDevices(server, tenant, 5));
    }
  });

  afterAll(async () => {
    await server?.close();
  });

  it('keeps the process alive, gives fast subscribers the final state of every alert and coalesces a subscriber that stops reading', async () => {
    const [a, b, c] = tenants;
    const ids = await seedAlerts(server, tenants, 40);
    const provider = server.token('PROVIDER_OPERATOR');
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;

    const fast = [
      new FastSubscriber(wsUrl, provider),
      new FastSubscriber(wsUrl, provider),
      new FastSubscriber(wsUrl, server.token('PROVIDER_ADMIN')),
      new FastSubscriber(wsUrl, provider, Buffer.from(`Tenant:${a.uuid}`).toString('base64url')),
      new FastSubscriber(wsUrl, b.admin),
    ];
    const slow = new PausableSubscriber(wsUrl, provider);
    await slow.opened();
    await eventually('every subscription to be registered', () => deliveryStats(server).subscribers === fast.length + 1);
    slow.pause();
    // A listener that throws on every event must not disturb delivery (it is logged and kept).
    const unlistenFaulty = server.runtime.alerts.listen(() => {
      throw new Error('a faulty listener');
    });

    const [changes] = await Promise.all([
      burst(server, ids, 25),
      flipLoop(server, a, devices.get(a.uuid) as string[], 8),
      flipLoop(server, b, devices.get(b.uuid) as string[], 8),
      flipLoop(server, c, devices.get(c.uuid) as string[], 8),
    ]);
    unlistenFaulty();
    expect(changes).toBe(3000);

    const final = await finalStates(server);
    const of = (tenant: AccountTenant): FinalState[] => final.filter((f) => f.tenantId === tenant.uuid);
    // Each tenant's pending-assignment alert was raised and resolved by the loops, on top of the seeded ones.
    for (const t of tenants) expect(of(t).length).toBeGreaterThan(40);
    await eventually('fast subscribers to see the final state of every alert they may see', () =>
      fast.slice(0, 3).every((s) => s.sawFinal(final)) && fast[3].sawFinal(of(a)) && fast[4].sawFinal(of(b)),
    );
    for (const s of fast) expect(s.failures).toEqual([]);
    // Scoped and tenant subscribers saw nothing of other tenants.
    expect([...fast[3].last.values()].every((e) => e.tenant?.id === Buffer.from(`Tenant:${a.uuid}`).toString('base64url'))).toBe(true);
    expect([...fast[4].last.keys()].sort()).toEqual(of(b).map((f) => f.id).sort());
    // The stopped reader was never closed (it is within the bounds) and is coalesced: once it reads
    // again it gets the newest state of each alert, not the backlog of every change.
    expect(slow.closeCode).toBeUndefined();
    slow.resume();
    await eventually('the slow subscriber to catch up with the final states', () => slow.sawFinal(final));
    expect(slow.received).toBeLessThan(fast[0].received);
    expect(slow.received).toBeLessThan(changes);

    await Promise.all(fast.map((s) => s.close()));
    slow.close();
    await eventually('the server to drop every subscriber', () => deliveryStats(server).subscribers === 0);
    expect(deliveryStats(server)).toEqual({ subscribers: 0, pendingEvents: 0, queuedAlerts: 0, listening: false });
    expect(server.runtime.alerts.listenerCount()).toBe(0);
    fast.length = 0;
    collectGarbage();
    // What the burst left behind (server and these clients share this process) is collectable.
    expect((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toBeLessThan(16);
  });

  it('closes a subscriber that stops reading for longer than the stall limit with 1013, and it can subscribe again', async () => {
    const stalling = await startTestServer({ env: { ALERT_SUBSCRIBER_STALL_MS: '1000' } });
    try {
      const tenant = await createTrialTenant(stalling, 'stall-a');
      const ids = await seedAlerts(stalling, [tenant], 60);
      const url = stalling.url.replace(/^http/, 'ws');
      const provider = stalling.token('PROVIDER_OPERATOR');
      const fast = new FastSubscriber(url, provider);
      const slow = new PausableSubscriber(url, provider);
      await slow.opened();
      await eventually('both subscriptions to be registered', () => deliveryStats(stalling).subscribers === 2);
      slow.pause();
      await burst(stalling, ids, 20);
      await eventually('the server to close the stalled subscriber', () => deliveryStats(stalling).subscribers === 1);
      slow.resume();
      await eventually('the client to see the close frame', () => slow.closeCode !== undefined);
      expect(slow.closeCode).toBe(CLOSE_TRY_AGAIN_LATER);
      // The fast subscriber on the same instance was not affected and has every final state.
      const final = await finalStates(stalling);
      await eventually('the fast subscriber to see every final state', () => fast.sawFinal(final));
      expect(fast.failures).toEqual([]);
      // Resubscribing works and receives later changes.
      const again = new FastSubscriber(url, provider);
      await eventually('the new subscription to be registered', () => deliveryStats(stalling).subscribers === 2);
      await burst(stalling, ids.slice(0, 5), 1);
      const after = await finalStates(stalling);
      await eventually('the resubscribed client to get the next change', () => again.sawFinal(after.filter((f) => ids.slice(0, 5).includes(f.id))));
      await Promise.all([fast.close(), again.close()]);
      await eventually('the server to drop every subscriber', () => deliveryStats(stalling).subscribers === 0);
    } finally {
      await stalling.close();
    }
  });
});
