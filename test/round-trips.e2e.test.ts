import pg from 'pg';
import { addDevices, addLines, assign, createAccountTenant, dnaTag, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * Round trips to PostgreSQL of a read request (src/db/scope.ts, scopedRead): every message the
 * server's pg clients send and wait for is counted where it leaves, at pg's Client#query, so BEGIN,
 * the settings, a statement, a batch and COMMIT each count once, however they are issued.
 */
const TENANT_PAGE = `query TenantPage { devices(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id hostname model softwareVersion assignments { id status license { id subscriptionId available } } } } } }`;

type Page = {
  devices: {
    totalCount: number;
    edges: { node: { hostname: string; assignments: { status: string; license: { subscriptionId: string; available: number | null } | null }[] } }[];
  };
};

describe('round trips of a read request', () => {
  let server: TestServer;
  let tenant: AccountTenant;
  let other: AccountTenant;
  const sent: string[] = [];
  let counting = false;
  const original = pg.Client.prototype.query;

  beforeAll(async () => {
    // Installed before the server starts, so every client it makes (and the gate of db/scope.ts) goes through it.
    pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
      if (counting) {
        const first = args[0] as string | { text?: string; name?: string };
        sent.push(typeof first === 'string' ? first : (first.text ?? first.name ?? '?'));
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof pg.Client.prototype.query;
    server = await startTestServer();
    tenant = await createAccountTenant(server, 'round-trips');
    other = await createAccountTenant(server, 'round-trips-other');
    for (const t of [tenant, other]) {
      await addLines(server, t, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 100 }]);
      const devices = await addDevices(server, t, 60);
      await assign(server, t.admin, { deviceIds: devices.slice(0, 40), level: 'ADVANTAGE', tier: 'T1' });
    }
  });
  afterAll(async () => {
    await server.close();
    pg.Client.prototype.query = original;
  });

  async function countedPage(token: string): Promise<{ page: Page; statements: string[] }> {
    sent.length = 0;
    counting = true;
    try {
      const page = await gqlData<Page>(server, TENANT_PAGE, {}, token);
      return { page, statements: [...sent] };
    } finally {
      counting = false;
    }
  }

  it('answers the tenant page (devices, their assignments, lines and available counts) in one round trip', async () => {
    // The first request on a connection also prepares the statements; repeat until every pooled connection has.
    for (let i = 0; i < 12; i++) await countedPage(tenant.operator);
    const { page, statements } = await countedPage(tenant.operator);

    expect(page.devices.totalCount).toBe(60);
    expect(page.devices.edges).toHaveLength(50);
    const licensed = page.devices.edges.filter((e) => e.node.assignments.some((a) => a.status === 'ACTIVE'));
    expect(licensed).toHaveLength(40);
    expect(licensed.every((e) => e.node.assignments[0].license?.available === 60)).toBe(true);
    expect(statements.some((s) => /^\s*begin/i.test(s) || /^\s*commit/i.test(s))).toBe(false);
    expect(statements).toHaveLength(1);
  });

  it('reads the assignments of a page without them in a second statement when the page is asked for without assignments first', async () => {
    // Devices alone: one statement; their assignments through node(id) afterwards: a batch of its own.
    sent.length = 0;
    counting = true;
    let page: { devices: { edges: { node: { id: string; hostname: string } }[] } };
    try {
      page = await gqlData(server, '{ devices(first: 5) { edges { node { id hostname } } } }', {}, tenant.operator);
    } finally {
      counting = false;
    }
    expect(page.devices.edges).toHaveLength(5);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toMatch(/from assignment/);
  });

  it('sees only the asking tenant in both statements', async () => {
    const mine = await countedPage(tenant.operator);
    const theirs = await countedPage(other.operator);
    const subscriptions = (p: Page): Set<string> =>
      new Set(p.devices.edges.flatMap((e) => e.node.assignments.map((a) => a.license?.subscriptionId ?? '')));
    expect(mine.page.devices.totalCount).toBe(60);
    expect(theirs.page.devices.totalCount).toBe(60);
    const overlap = [...subscriptions(mine.page)].filter((s) => subscriptions(theirs.page).has(s));
    expect(overlap).toEqual([]);
  });

  it('leaves no tenant setting on the pooled connection a read ran on', async () => {
    const knex = server.db.orm.em.getKnex();
    // Many reads of the tenant, so that every pooled connection has served one.
    await Promise.all(Array.from({ length: 20 }, () => countedPage(tenant.operator)));
    const held: pg.Client[] = [];
    const max = (knex.client.pool as { max: number }).max;
    try {
      for (let i = 0; i < max; i++) held.push((await knex.client.acquireConnection()) as pg.Client);
      const settings = await Promise.all(
        held.map(
          async (c) =>
            (await (original as (this: pg.Client, text: string) => Promise<pg.QueryResult>).call(
              c,
              "select current_setting('app.tenant_id', true) as t, current_setting('app.role', true) as r",
            )) as pg.QueryResult,
        ),
      );
      const leftovers = settings.map((r) => r.rows[0] as { t: string | null; r: string | null }).filter((row) => row.t || row.r);
      expect(held.length).toBe(max);
      expect(leftovers).toEqual([]);
    } finally {
      for (const c of held) await knex.client.releaseConnection(c);
    }
  });
});
