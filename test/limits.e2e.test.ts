import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { addDevices, addLines, countRows, createAccountTenant, currentAssignments, dbId, dnaTag } from './support/assignment-fixtures';
import { createTenant } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';

describe('query limits over HTTP and WebSocket', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_QUERY_DEPTH: '6', MAX_QUERY_ALIASES: '5', MAX_QUERY_COST: '600', MAX_QUERY_TOKENS: '400' } });
    token = server.token('PROVIDER_ADMIN');
  });
  afterAll(async () => {
    await server?.close();
  });

  const overWs = async (query: string): Promise<{ code?: string; message: string }[]> => {
    const client = createClient({ url: server.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    try {
      return await new Promise((resolve) => {
        client.subscribe({ query }, {
          next: (r) => resolve((r.errors ?? []).map((e) => ({ code: e.extensions?.code as string | undefined, message: e.message }))),
          error: (e) => resolve((Array.isArray(e) ? e : [e]).map((x: { message?: string; extensions?: { code?: string } }) => ({ code: x.extensions?.code, message: x.message ?? String(x) }))),
          complete: () => resolve([]),
        });
      });
    } finally {
      await client.dispose();
    }
  };

  const DEEP = '{ devices { edges { node { tenant { id } assignments { license { virtualAccount { smartAccount { tenant { id } } } } } } } } }';
  const SHALLOW = '{ devices { edges { node { id } } } }';

  it('refuses a query deeper than MAX_QUERY_DEPTH, also through fragments, and serves a shallow one', async () => {
    const res = await server.graphql(DEEP, {}, token);
    expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors?.[0].message).toMatch(/depth/i);
    const viaFragment = await server.graphql(
      'query { devices { ...D } } fragment D on DeviceConnection { edges { node { assignments { license { virtualAccount { smartAccount { tenant { id } } } } } } } }',
      {},
      token,
    );
    expect(viaFragment.body.errors?.[0].message).toMatch(/depth/i);
    expect((await server.graphql(SHALLOW, {}, token)).body.errors).toBeUndefined();
  });

  it('refuses more aliases than MAX_QUERY_ALIASES', async () => {
    const aliased = `{ ${Array.from({ length: 8 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`;
    const res = await server.graphql(aliased, {}, token);
    expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors?.[0].message).toMatch(/alias/i);
  });

  it('weighs list fields by first and refuses a query over MAX_QUERY_COST with QUERY_TOO_COMPLEX, naming the cost', async () => {
    const big = '{ devices(first: 100) { edges { node { id hostname model uuid kind mode softwareVersion } } } }';
    const res = await server.graphql(big, {}, token);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(res.body.errors?.[0].message).toMatch(/cost \d+ exceeds the limit of 600/);
    const small = '{ devices(first: 5) { edges { node { id hostname } } } }';
    expect((await server.graphql(small, {}, token)).body.errors).toBeUndefined();
    const viaVariable = await server.graphql('query($n: Int) { devices(first: $n) { edges { node { id hostname model uuid kind mode softwareVersion } } } }', { n: 100 }, token);
    expect(viaVariable.body.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('refuses a document with more tokens than MAX_QUERY_TOKENS before validating it', async () => {
    const long = `{ viewer { ${Array.from({ length: 500 }, () => 'role').join(' ')} } }`;
    const res = await server.graphql(long, {}, token);
    expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(res.body.errors?.[0].message).toMatch(/token/i);
  });

  it('applies the same depth, alias and cost limits over the WebSocket', async () => {
    expect((await overWs(DEEP))[0]?.message).toMatch(/depth/i);
    expect((await overWs(`{ ${Array.from({ length: 8 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`))[0]?.message).toMatch(/alias/i);
    const cost = await overWs('{ devices(first: 100) { edges { node { id hostname model uuid kind mode softwareVersion } } } }');
    expect(cost[0]?.code).toBe('QUERY_TOO_COMPLEX');
  });
});

describe('the PostgreSQL statement timeout (STATEMENT_TIMEOUT_MS)', () => {
  let server: TestServer;
  let holder: pg.Client;
  beforeAll(async () => {
    server = await startTestServer({ env: { STATEMENT_TIMEOUT_MS: '1000' } });
    // Another session (the owner's) holds locks for as long as a test wants: the server's own
    // statements then really run past the timeout, waiting on them.
    holder = new pg.Client({ connectionString: server.ownerUrl });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await server?.close();
  });

  /** Resolves once one of the application's statements waits on a lock (it is running, and slow). */
  const someoneWaits = async (): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const rows = await server.sql("select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database() and pid <> $1", [
        (holder as unknown as { processID: number }).processID,
      ]);
      if (rows.length > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no statement of the server ever waited on the held lock');
  };

  it('cancels a mutation statement that runs past it: STATEMENT_TIMEOUT (503), nothing written, the idempotency key not used up, and the retry works', async () => {
    const tenant = await createAccountTenant(server, 'timeout-assign');
    const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
    const [device] = await addDevices(server, tenant, 1);
    const input = { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: 'slow-1' };
    const mutation = 'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned replayed } }';

    await holder.query('begin');
    try {
      // assignLicenses locks its devices first: this row lock makes that statement wait.
      await holder.query('select id from device where id = $1 for update', [dbId(device)]);
      const pending = server.graphql(mutation, { input }, tenant.operator);
      await someoneWaits();
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors).toEqual([
        {
          message:
            'a database statement of this request ran longer than the server allows and was cancelled; its transaction was rolled back. Retry later, or ask for less at once',
          locations: [{ line: 1, column: 42 }],
          path: ['assignLicenses'],
          extensions: { code: 'STATEMENT_TIMEOUT' },
        },
      ]);
    } finally {
      await holder.query('rollback');
    }
    expect(await countRows(server, 'assignment', tenant)).toBe(0);
    expect(await countRows(server, 'idempotency_key', tenant)).toBe(0);
    expect(await server.sql("select 1 from audit_event where tenant_id = $1 and action = 'licenses.assigned'", [tenant.uuid])).toEqual([]);

    const retry = await server.graphql<{ assignLicenses: { assigned: number; replayed: boolean } }>(mutation, { input }, tenant.operator);
    expect(retry.body).toEqual({ data: { assignLicenses: { assigned: 1, replayed: false } } });
    expect((await currentAssignments(server, tenant)).map((a) => [a.device_id, a.license_id])).toEqual([[dbId(device), dbId(line)]]);
  });

  it('cancels a query statement that runs past it, over HTTP and WebSocket alike, and serves the next request', async () => {
    const tenant = await createAccountTenant(server, 'timeout-read');
    await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
    const query = '{ licenses(first: 5) { totalCount } }';
    await holder.query('begin');
    try {
      // Even a plain read waits behind an exclusive table lock.
      await holder.query('lock table license in access exclusive mode');
      const overHttp = server.graphql(query, {}, tenant.operator);
      await someoneWaits();
      const http = await overHttp;
      expect(http.status).toBe(503);
      expect(http.body.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['STATEMENT_TIMEOUT', ['licenses']]]);

      const client = createClient({ url: server.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tenant.operator}` }, retryAttempts: 0 });
      try {
        const ws = await new Promise<{ code?: unknown; path?: unknown }[]>((resolve, reject) => {
          client.subscribe({ query }, {
            next: (r) => resolve((r.errors ?? []).map((e) => ({ code: e.extensions?.code, path: e.path }))),
            error: reject,
            complete: () => resolve([]),
          });
        });
        expect(ws).toEqual([{ code: 'STATEMENT_TIMEOUT', path: ['licenses'] }]);
      } finally {
        await client.dispose();
      }
    } finally {
      await holder.query('rollback');
    }
    expect((await server.graphql(query, {}, tenant.operator)).body).toEqual({ data: { licenses: { totalCount: 1 } } });
  });
});

describe('rate limiting', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_SUBJECT_PER_MINUTE: '3', RATE_LIMIT_TENANT_PER_MINUTE: '5' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers 429 with Retry-After and RATE_LIMITED once a token subject exceeds its budget, and serves other subjects', async () => {
    const token = server.token('PROVIDER_OPERATOR', undefined, { sub: 'busy-operator' });
    for (let i = 0; i < 3; i++) expect((await server.graphql('{ viewer { role } }', {}, token)).status).toBe(200);
    const limited = await server.graphql('{ viewer { role } }', {}, token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(limited.body.errors?.[0].extensions).not.toHaveProperty('http');
    expect((await server.graphql('{ viewer { role } }', {}, server.token('PROVIDER_OPERATOR', undefined, { sub: 'calm-operator' }))).status).toBe(200);
  });

  it('counts operations sent over the WebSocket against the same budget, refusing them with RATE_LIMITED', async () => {
    const token = server.token('PROVIDER_OPERATOR', undefined, { sub: 'socket-operator' });
    const client = createClient({ url: server.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const run = (): Promise<string | undefined> =>
      new Promise((resolve) => {
        client.subscribe({ query: '{ viewer { role } }' }, {
          next: (r) => resolve(r.errors?.[0]?.extensions?.code as string | undefined),
          error: (e) => resolve((Array.isArray(e) ? e[0] : e)?.extensions?.code as string | undefined),
          complete: () => resolve(undefined),
        });
      });
    try {
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 4; i++) codes.push(await run());
      expect(codes).toEqual([undefined, undefined, undefined, 'RATE_LIMITED']);
    } finally {
      await client.dispose();
    }
  });

  it('limits a tenant across its users, and leaves other tenants alone', async () => {
    const busy = await createTenant(server, 'busy-tenant');
    const calm = await createTenant(server, 'calm-tenant');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await server.graphql('{ viewer { role } }', {}, server.token('TENANT_OPERATOR', busy.uuid, { sub: `user-${i % 3}` }))).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect((await server.graphql('{ viewer { role } }', {}, server.token('TENANT_OPERATOR', calm.uuid))).status).toBe(200);
  });
});

describe('requests the server refuses whole', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a batched request (a JSON array of operations) with 400 and a code', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('PROVIDER_ADMIN')}` },
      body: JSON.stringify([{ query: '{ viewer { role } }' }, { query: '{ viewer { subject } }' }]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
  });
});

describe('masked internal errors', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a failing statement with a masked INTERNAL_SERVER_ERROR: no SQL, no driver message, no stack', async () => {
    // Break the schema under the running server: its queries then fail inside PostgreSQL.
    await server.sql('alter table device rename column hostname to hostname_renamed');
    try {
      const res = await server.graphql('{ devices(first: 10) { totalCount edges { node { id hostname } } } }', {}, server.token('PROVIDER_ADMIN'));
      const text = JSON.stringify(res.body);
      expect(res.body.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(text).not.toMatch(/select|hostname_renamed|column "|does not exist|stack|\.ts:|node_modules/i);
    } finally {
      await server.sql('alter table device rename column hostname_renamed to hostname');
    }
    expect((await server.graphql('{ devices(first: 1) { totalCount } }', {}, server.token('PROVIDER_ADMIN'))).body.errors).toBeUndefined();
  });
});
