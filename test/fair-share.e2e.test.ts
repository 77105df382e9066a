import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { addDevices, ASSIGN, createTrialTenant, type AccountTenant } from './support/assignment-fixtures';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/harness';

/**
 * Fair share between tenants (issue 16): every operation is charged its cost against its tenant's
 * (or provider subject's) leaky bucket before it runs, every answer says what it cost and what is
 * left, and heavy operations of one tenant run a few at a time in a bounded queue.
 */

const PAGE = '{ devices(first: 10) { totalCount edges { node { id hostname } } } }';
const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';

interface Cost {
  requested: number;
  remaining: number;
  restoreRate: number;
  maximumAvailable: number;
}

function costOf(res: GraphQLResponse): Cost {
  const cost = (res.body as { extensions?: { cost?: Cost } }).extensions?.cost;
  if (!cost) throw new Error(`no extensions.cost in ${JSON.stringify(res.body)}`);
  return cost;
}

function codeOf(res: GraphQLResponse): string | undefined {
  return res.body.errors?.[0]?.extensions?.code;
}

describe('cost budgets per tenant', () => {
  let server: TestServer;
  let a: AccountTenant;
  let b: AccountTenant;
  let aDevices: string[];

  beforeAll(async () => {
    // A small tenant budget: 20,000 points, 1,000 restored per second.
    server = await startTestServer({
      env: { COST_LIMITS: 'on', COST_TENANT_CAPACITY: '20000', COST_TENANT_RESTORE_RATE: '1000', COST_HEAVY_THRESHOLD: '1000000' },
    });
    a = await createTrialTenant(server, 'budget-a');
    b = await createTrialTenant(server, 'budget-b');
    aDevices = await addDevices(server, a, 30);
    await addDevices(server, b, 3);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('answers every operation with what it cost, what is left and how fast it comes back', async () => {
    const res = await server.graphql(PAGE, {}, b.operator);
    expect(res.status).toBe(200);
    const cost = costOf(res);
    // devices(first: 10): 1 + 10 x (node 1 + id 1 + hostname 1), totalCount 1, edges 1: the estimate MAX_QUERY_COST uses.
    expect(cost.requested).toBeGreaterThan(10);
    expect(cost).toMatchObject({ restoreRate: 1000, maximumAvailable: 20000 });
    expect(cost.remaining).toBeLessThanOrEqual(20000 - cost.requested);
    // An answer that ran nothing (a validation error) is charged nothing and still tells what is left.
    const invalid = await server.graphql('{ devices(first: 10) { noSuchField } }', {}, b.operator);
    expect(invalid.status).toBe(400);
    expect(costOf(invalid).requested).toBe(0);
  });

  it('charges a bulk mutation by the devices it touches', async () => {
    const res = await server.graphql(RELEASE, { input: { deviceIds: aDevices.slice(0, 20) } }, a.admin);
    expect(res.body.errors).toBeUndefined();
    // 10 for the mutation, 100 per device, and its small selection.
    expect(costOf(res).requested).toBeGreaterThanOrEqual(10 + 20 * 100);
    expect(costOf(res).requested).toBeLessThan(10 + 20 * 100 + 10);
  });

  it('refuses a tenant over its budget with 429, Retry-After and the figures, while another tenant is served, and changes nothing', async () => {
    const before = await server.sql<{ n: number }>('select count(*)::int as n from assignment where tenant_id = $1', [a.uuid]);
    // 30 devices x 100 points is more than what is left after the previous test's spending and this one.
    let refused: GraphQLResponse | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await server.graphql(ASSIGN, { input: { deviceIds: aDevices, level: 'ADVANTAGE', tier: 'T1' } }, a.admin);
      if (res.status === 429) refused = res;
      else expect(res.body.errors).toBeUndefined();
    }
    if (!refused) throw new Error('tenant a was never refused');
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const ext = refused.body.errors?.[0]?.extensions as { retryAfterSeconds: number; cost: Cost };
    expect(ext.retryAfterSeconds).toBe(retryAfter);
    expect(ext.cost.requested).toBeGreaterThan(ext.cost.remaining);
    expect(ext.cost.restoreRate).toBe(1000);
    // The answer's own extensions.cost tells the same: what was asked, what is left.
    expect(costOf(refused)).toEqual(ext.cost);
    expect(refused.body.data ?? null).toBeNull();
    // What the refused call would have written is not there: the count is that of the last success.
    const after = await server.sql<{ n: number }>('select count(*)::int as n from assignment where tenant_id = $1 and released_at is null', [a.uuid]);
    expect(after[0].n).toBeLessThanOrEqual(Math.max(before[0].n, aDevices.length));

    // Tenant b has a bucket of its own and is served at once.
    const other = await server.graphql(PAGE, {}, b.admin);
    expect(other.status).toBe(200);
    expect(other.body.errors).toBeUndefined();
    expect(costOf(other).remaining).toBeGreaterThan(10_000);

    // Tenant a's small reads are refused too while its bucket is empty, then served once it refilled.
    const waitMs = retryAfter * 1000;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    const later = await server.graphql(PAGE, {}, a.operator);
    expect(later.status).toBe(200);
  });

  it('refuses an operation that costs more than the whole budget as too complex, not as a retry', async () => {
    const many = Array.from({ length: 250 }, (_, i) => aDevices[i % aDevices.length]);
    const res = await server.graphql(RELEASE, { input: { deviceIds: many } }, a.admin);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('QUERY_TOO_COMPLEX');
    expect(res.body.errors?.[0]?.message).toMatch(/costs \d+ points, more than the budget holds \(20000\)/);
  });
});

describe('heavy operations of one tenant', () => {
  let server: TestServer;
  let a: AccountTenant;
  let b: AccountTenant;
  let owner: pg.Client;

  beforeAll(async () => {
    // Every bulk mutation of 5 devices is heavy here; one runs per tenant and none may wait.
    server = await startTestServer({ env: { COST_LIMITS: 'on', COST_HEAVY_THRESHOLD: '100', HEAVY_PER_KEY: '1', HEAVY_QUEUE_PER_KEY: '0', HEAVY_TOTAL: '4' } });
    a = await createTrialTenant(server, 'heavy-a');
    b = await createTrialTenant(server, 'heavy-b');
    owner = new pg.Client({ connectionString: server.ownerUrl });
    await owner.connect();
  });

  afterAll(async () => {
    await owner?.end();
    await server?.close();
  });

  it("runs one heavy operation per tenant at a time, refuses the next with 429, and never holds up another tenant's work", async () => {
    const aDevices = await addDevices(server, a, 5);
    const bDevices = await addDevices(server, b, 5);
    // Hold tenant a's devices locked so its first bulk mutation stays running.
    await owner.query('begin');
    await owner.query('select id from device where tenant_id = $1 for update', [a.uuid]);
    let first: Promise<GraphQLResponse> | undefined;
    try {
      first = server.graphql(ASSIGN, { input: { deviceIds: aDevices, level: 'ADVANTAGE', tier: 'T1' } }, a.admin);
      // Wait until it is waiting on the lock, i.e. it holds tenant a's slot.
      for (let i = 0; i < 200; i++) {
        const waiting = await owner.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
        );
        if (waiting.rows[0].n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const second = await server.graphql(RELEASE, { input: { deviceIds: aDevices } }, a.admin);
      expect(second.status).toBe(429);
      expect(codeOf(second)).toBe('RATE_LIMITED');
      expect(second.body.errors?.[0]?.message).toMatch(/a heavy operation of this tenant is already running/);
      expect(second.headers.get('retry-after')).toBe('1');
      // Tenant b's heavy work and tenant a's cheap reads go on meanwhile.
      const other = await server.graphql(ASSIGN, { input: { deviceIds: bDevices, level: 'ADVANTAGE', tier: 'T1' } }, b.admin);
      expect(other.body.errors).toBeUndefined();
      const read = await server.graphql(PAGE, {}, a.operator);
      expect(read.body.errors).toBeUndefined();
    } finally {
      await owner.query('rollback');
    }
    const done = await first;
    expect(done?.body.errors).toBeUndefined();
    // The slot is free again.
    const again = await server.graphql(RELEASE, { input: { deviceIds: aDevices } }, a.admin);
    expect(again.body.errors).toBeUndefined();
  });
});

describe('budgets shared by instances (COST_BUDGET_STORE=postgres)', () => {
  let first: TestServer;
  let second: TestServer;
  let tenant: AccountTenant;

  beforeAll(async () => {
    const env = { COST_LIMITS: 'on', COST_BUDGET_STORE: 'postgres', COST_TENANT_CAPACITY: '8000', COST_TENANT_RESTORE_RATE: '10' };
    first = await startTestServer({ env });
    second = await startTestServer({ env, sameDatabaseAs: first });
    tenant = await createTrialTenant(first, 'shared-budget');
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('charges what one instance admitted against what the other admits', async () => {
    const devices = await addDevices(first, tenant, 40);
    // Registering cost 2,010; spend most of the rest on the first instance (4,010 and the selection)...
    const spent = await first.graphql(RELEASE, { input: { deviceIds: devices } }, tenant.admin);
    expect(spent.body.errors).toBeUndefined();
    const left = costOf(spent).remaining;
    expect(left).toBeLessThan(2000);
    // ...and the second instance sees what is left, not a full bucket of its own.
    const seen = await second.graphql(PAGE, {}, tenant.operator);
    expect(seen.status).toBe(200);
    expect(costOf(seen).remaining).toBeLessThanOrEqual(left);
    const refused = await second.graphql(RELEASE, { input: { deviceIds: devices } }, tenant.admin);
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    const rows = await first.sql<{ key: string }>('select key from cost_budget');
    expect(rows.map((r) => r.key)).toContain(`tenant:${tenant.uuid}`);
  });
});

describe('cost budgets over WebSocket', () => {
  let server: TestServer;
  let tenant: AccountTenant;

  beforeAll(async () => {
    server = await startTestServer({ env: { COST_LIMITS: 'on', COST_TENANT_CAPACITY: '3000', COST_TENANT_RESTORE_RATE: '1' } });
    tenant = await createTrialTenant(server, 'ws-budget');
  });

  afterAll(async () => {
    await server?.close();
  });

  it('charges operations over graphql-ws like over HTTP: the result carries the cost, and over budget the error is RATE_LIMITED', async () => {
    const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tenant.admin}` }, retryAttempts: 0 });
    const run = (query: string, variables: Record<string, unknown> = {}): Promise<{ errors?: readonly { message: string; extensions?: Record<string, unknown> }[]; extensions?: { cost?: Cost } }> =>
      new Promise((resolve, reject) => {
        let result: unknown;
        client.subscribe(
          { query, variables },
          {
            next: (r) => (result = r),
            // An operation refused before it runs arrives as a graphql-ws `error` message: its errors.
            error: (err) => (Array.isArray(err) ? resolve({ errors: err }) : reject(err)),
            complete: () => resolve(result as never),
          },
        );
      });
    try {
      const first = await run(PAGE);
      expect(first.errors).toBeUndefined();
      expect(first.extensions?.cost).toMatchObject({ restoreRate: 1, maximumAvailable: 3000 });
      const devices = Array.from({ length: 20 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      // The cost (2,012) is charged before the operation runs: these unknown devices are NOT_FOUND...
      const charged = await run(RELEASE, { input: { deviceIds: devices } });
      expect(charged.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      // ...and the same again no longer fits into what is left.
      const refused = await run(RELEASE, { input: { deviceIds: devices } });
      expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(refused.errors?.[0]?.message).toMatch(/costs \d+ points and \d+ are left/);
    } finally {
      await client.dispose();
    }
  });
});
