import WebSocket from 'ws';
import { deviceInput, REGISTER_DEVICES } from './support/fixtures';
import { createTestDatabase, signTestToken } from './support/harness';
import { killGroup, MAIN, productionEnv, spawnNode, started, until, type Proc } from './support/processes';

/**
 * Suspension across instances ("Several instances" in DESIGN.md): two real server processes
 * (`node dist/src/main.js`, built before jest runs) on one database. A tenant suspended through
 * instance A is refused by instance B at once, and B closes the tenant's open subscription.
 */
jest.setTimeout(60_000);

interface GqlBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<{ status: number; body: GqlBody<T> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: (await res.json()) as GqlBody<T> };
}

async function gqlData<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await post<T>(url, query, variables, token);
  if (res.status !== 200 || res.body.errors?.length || !res.body.data) throw new Error(`expected success from ${url}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

const DEVICES = '{ devices(first: 10) { totalCount } }';
const SUSPEND = 'mutation($id: ID!) { suspendTenant(input: { id: $id }) { status } }';
const RESUME = 'mutation($id: ID!) { resumeTenant(input: { id: $id }) { status } }';

describe('suspending a tenant with two instances on one database', () => {
  let instanceA: Proc;
  let instanceB: Proc;
  let urlA: string;
  let urlB: string;
  const provider = signTestToken({ sub: 'instances-provider', role: 'PROVIDER_ADMIN' });
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    const ownerUrl = await createTestDatabase('suspend_');
    const env = productionEnv(ownerUrl, { SCHEDULER_ENABLED: 'false' });
    instanceA = spawnNode(MAIN, [], env);
    instanceB = spawnNode(MAIN, [], env);
    [urlA, urlB] = await Promise.all([instanceA.listening(30_000), instanceB.listening(30_000)]);
  });

  afterAll(async () => {
    for (const s of sockets) s.terminate();
    for (const proc of started) if (proc.alive) killGroup(proc.child);
    await Promise.all([...started].map((p) => p.exited));
  });

  it("refuses the tenant's requests on instance B as soon as instance A has suspended it, and closes its subscription on B", async () => {
    const { createTenant } = await gqlData<{ createTenant: { id: string; uuid: string } }>(
      urlA, 'mutation { createTenant(input: { name: "Two instances", slug: "two-instances" }) { id uuid } }', {}, provider,
    );
    const admin = signTestToken({ sub: 'two-admin', role: 'TENANT_ADMIN', tenantId: createTenant.uuid });
    await gqlData(urlB, REGISTER_DEVICES, { input: { devices: [deviceInput(1)] } }, admin);

    // An open subscription of the tenant on instance B.
    const socket = new WebSocket(urlB.replace(/^http/, 'ws'), 'graphql-transport-ws');
    sockets.push(socket);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    const acked = new Promise<void>((resolve) => socket.on('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve() : undefined)));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } }));
    await acked;
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { licenseAlerts { id } } ' } }));

    // Several rounds: each request to B is sent the moment A has answered, without waiting for anything.
    for (let round = 0; round < 5; round++) {
      await gqlData(urlA, SUSPEND, { id: createTenant.id }, provider);
      const [read, write] = await Promise.all([
        post<{ devices: { totalCount: number } }>(urlB, DEVICES, {}, admin),
        post(urlB, REGISTER_DEVICES, { input: { devices: [deviceInput(100 + round)] } }, admin),
      ]);
      for (const res of [read, write]) {
        expect(res.body.errors?.[0].extensions?.code).toBe('TENANT_SUSPENDED');
        expect(res.body.data ?? null).toBeNull();
      }
      if (round === 0) {
        expect(await closed).toEqual({ code: 4403, reason: 'TENANT_SUSPENDED: the tenant is suspended by the service provider' });
      }
      // The provider still reads the tenant's data through B.
      const seen = await gqlData<{ devices: { totalCount: number } }>(urlB, 'query($t: ID) { devices(tenantId: $t, first: 1) { totalCount } }', { t: createTenant.id }, provider);
      expect(seen.devices.totalCount).toBe(1);

      await gqlData(urlA, RESUME, { id: createTenant.id }, provider);
      // Resumption reaches B with its notification (milliseconds).
      const back = await until('B serves the resumed tenant', async () => {
        const res = await post<{ devices: { totalCount: number } }>(urlB, DEVICES, {}, admin);
        return res.status === 200 && res.body.data ? res.body.data : undefined;
      }, 5000, 5);
      expect(back.devices.totalCount).toBe(1);
    }
    expect(instanceB.logLines().filter((l) => l.msg === 'closing the WebSocket connections of a suspended tenant')).toHaveLength(1);
  });
});
