import pg from 'pg';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { deviceInput, REGISTER_DEVICES } from './support/fixtures';
import { createTestDatabase, signTestToken } from './support/harness';
import { killGroup, MAIN, productionEnv, spawnNode, started } from './support/processes';

/**
 * A restart under load loses nothing (issue 11, section 4): SIGTERM while 50 kept-alive connections
 * read and write. Requests already accepted complete with their real answer, later ones are refused
 * with 503 and `Connection: close` (never a 5xx of another kind), open subscriptions are closed with a
 * code clients reconnect on, the pool closes only after the last request, and every mutation answered
 * 200 is committed. A real server process on a database of its own.
 */

jest.setTimeout(90_000);

const CONNECTIONS = 50;
const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }';
const PAGE = '{ devices(first: 20) { totalCount edges { node { id hostname } } } }';

interface Outcome {
  status: number | 'refused' | 'reset';
  kind: 'query' | 'mutation';
  uuid?: string;
  connectionClose: boolean;
  ok: boolean;
}

describe('SIGTERM under load', () => {
  let ownerUrl: string;
  let owner: pg.Pool;

  beforeAll(async () => {
    ownerUrl = await createTestDatabase('shutdown_');
    owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  });

  afterAll(async () => {
    for (const proc of started) if (proc.alive) killGroup(proc.child);
    await Promise.all([...started].map((p) => p.exited));
    await owner?.end();
  });

  it('answers what it accepted, refuses the rest with 503, closes subscriptions with 1012 and commits every mutation it answered', async () => {
    const proc = spawnNode(
      MAIN,
      [],
      productionEnv(ownerUrl, {
        SCHEDULER_ENABLED: 'false',
        RATE_LIMIT_SUBJECT_PER_MINUTE: '0',
        RATE_LIMIT_TENANT_PER_MINUTE: '0',
        COST_LIMITS: 'off',
        SHUTDOWN_GRACE_MS: '10000',
      }),
    );
    const url = await proc.listening(30_000);
    const origin = new URL(url).origin;
    const provider = signTestToken({ sub: 'shutdown-provider', role: 'PROVIDER_ADMIN' });
    const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 30_000 });
    const post = (query: string, variables: Record<string, unknown>, token: string) =>
      undiciFetch(url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
    const created = (await (await post(CREATE_TENANT, { input: { name: 'Shutdown', slug: 'shutdown' } }, provider)).json()) as { data: { createTenant: { id: string } } };
    const tenantUuid = Buffer.from(created.data.createTenant.id, 'base64url').toString('utf8').split(':')[1];
    const admin = signTestToken({ sub: 'shutdown-admin', role: 'TENANT_ADMIN', tenantId: tenantUuid });

    // An open subscription, to see how it is closed.
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } })));
      socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type !== 'connection_ack') return;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { licenseAlerts { id } }' } }));
        resolve();
      });
    });

    const outcomes: Outcome[] = [];
    let n = 0;
    let stop = false;
    const loop = async (): Promise<void> => {
      while (!stop) {
        const mutation = n % 2 === 0;
        const uuid = mutation ? `SHUTDOWN-${String(n).padStart(6, '0')}` : undefined;
        n += 1;
        const outcome: Outcome = { status: 'refused', kind: mutation ? 'mutation' : 'query', uuid, connectionClose: false, ok: false };
        try {
          const res = mutation
            ? await post(REGISTER_DEVICES, { input: { devices: [{ ...deviceInput(n), uuid }] } }, admin)
            : await post(PAGE, {}, admin);
          outcome.status = res.status;
          outcome.connectionClose = res.headers.get('connection') === 'close';
          const body = (await res.json()) as { data?: unknown; errors?: unknown };
          outcome.ok = res.status === 200 && !body.errors && body.data != null;
          // Told to go elsewhere (as a balancer would once /readyz says 503): this client is done here.
          if (res.status === 503) {
            outcomes.push(outcome);
            return;
          }
        } catch (err) {
          // A connection the server no longer accepts (refused, or reset while queued for accept): the
          // request never reached it. Anything else is a request cut off after it was sent.
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          const notAccepted = cause?.code === 'ECONNREFUSED' || /^connect /.test(cause?.message ?? '');
          outcome.status = notAccepted ? 'refused' : 'reset';
          if (notAccepted) stop = true;
        }
        outcomes.push(outcome);
      }
    };
    const loops = Array.from({ length: CONNECTIONS }, () => loop());
    // Load for a moment, then the signal, with requests in flight on every connection.
    while (outcomes.length < 300) await new Promise((r) => setTimeout(r, 20));
    const beforeSignal = outcomes.length;
    proc.child.kill('SIGTERM');
    // The balancer is told at once: /readyz answers 503 while the requests in flight complete.
    let readiness = 0;
    for (let i = 0; i < 50 && readiness !== 503; i++) {
      readiness = await fetch(`${origin}/readyz`).then((r) => r.status, () => 0);
      if (readiness !== 503) await new Promise((r) => setTimeout(r, 10));
    }
    expect(readiness).toBe(503);
    const exit = await proc.exited;
    stop = true;
    await Promise.all(loops);
    await agent.close();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(beforeSignal).toBeGreaterThan(0);
    const statuses = new Map<Outcome['status'], number>();
    for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    // Never a 5xx other than the 503 of a request that arrived while draining.
    expect(outcomes.filter((o) => typeof o.status === 'number' && o.status >= 500 && o.status !== 503)).toEqual([]);
    // A 503 tells the client to go elsewhere: it closes the connection.
    expect(outcomes.filter((o) => o.status === 503 && !o.connectionClose)).toEqual([]);
    // Requests already accepted completed: nothing was cut off mid-answer.
    expect(statuses.get('reset') ?? 0).toBe(0);
    // No internal error was logged while draining.
    const errors = proc.logLines().filter((l) => typeof l.level === 'number' && (l.level as number) >= 50);
    expect(errors.map((l) => l.msg)).toEqual([]);
    expect(proc.logLines().map((l) => l.msg)).toContain('shutdown complete');
    // Every mutation answered 200 is committed.
    const answered = outcomes.filter((o) => o.kind === 'mutation' && o.ok).map((o) => o.uuid as string);
    expect(answered.length).toBeGreaterThan(0);
    const stored = await owner.query<{ uuid: string }>('select uuid from device where tenant_id = $1 and uuid = any($2)', [tenantUuid, answered]);
    expect(stored.rows.map((r) => r.uuid).sort()).toEqual([...answered].sort());
    // The subscription was closed with "Service Restart": graphql-ws clients reconnect on it.
    expect(await closed).toBe(1012);
  });
});
