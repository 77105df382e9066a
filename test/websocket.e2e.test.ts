import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { createTenant, deviceInput, REGISTER_DEVICES, type TenantFixture } from './support/fixtures';
import { signTestToken, startTestServer, type TestServer } from './support/harness';

/** graphql-ws "Forbidden": the close code for a refused or expired token. */
const FORBIDDEN_CLOSE = 4403;
const PROTOCOL = 'graphql-transport-ws';

interface Closed {
  code: number;
  reason: string;
  at: number;
}

interface ServerMessage {
  type: string;
  id?: string;
  payload?: FormattedExecutionResult | readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** A raw graphql-transport-ws socket that records what the server sends and when it closes. */
class RawSocket {
  readonly messages: ServerMessage[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<Closed>;
  private readonly socket: WebSocket;
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    this.socket = new WebSocket(url, PROTOCOL);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() }));
    });
    this.socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Resolves with the first message matching, or rejects if the socket closes first. */
  async next(match: (m: ServerMessage) => boolean): Promise<ServerMessage> {
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const woke = new Promise<'message'>((resolve) => this.waiters.push(() => resolve('message')));
      const outcome = await Promise.race([woke, this.closed]);
      if (outcome !== 'message') throw new Error(`socket closed (${outcome.code} ${outcome.reason}) before the expected message`);
    }
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
  }
}

describe('GraphQL over WebSocket (graphql-transport-ws)', () => {
  let server: TestServer;
  let tenant: TenantFixture;
  let wsUrl: string;
  const clients: Client[] = [];
  const sockets: RawSocket[] = [];

  function clientWith(connectionParams: Record<string, unknown> | undefined, onClosed?: (event: unknown) => void): Client {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      ...(onClosed ? { on: { closed: onClosed } } : {}),
    });
    clients.push(client);
    return client;
  }

  /** Runs one operation and resolves with its single result; rejects with the close event if the socket dies. */
  function run<T = Record<string, unknown>>(
    client: Client,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<FormattedExecutionResult<T, unknown>> {
    return new Promise((resolve, reject) => {
      let result: FormattedExecutionResult<T, unknown> | undefined;
      client.subscribe<T>(
        { query, variables },
        {
          next: (value) => {
            result = value;
          },
          error: reject,
          complete: () => (result ? resolve(result) : reject(new Error('completed without a result'))),
        },
      );
    });
  }

  async function rawSocket(connectionParams?: Record<string, unknown>): Promise<RawSocket> {
    const socket = new RawSocket(wsUrl);
    sockets.push(socket);
    await socket.opened;
    socket.send({ type: 'connection_init', ...(connectionParams ? { payload: connectionParams } : {}) });
    return socket;
  }

  async function deviceCount(uuid: string): Promise<number> {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from device where uuid = $1', [uuid]);
    return row.n;
  }

  beforeAll(async () => {
    server = await startTestServer();
    wsUrl = server.url.replace(/^http/, 'ws');
    tenant = await createTenant(server, 'ws-tenant');
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a viewer query with the role and tenant of the token in connectionParams.authorization', async () => {
    const client = clientWith({ authorization: `Bearer ${server.token('TENANT_ADMIN', tenant.uuid)}` });
    const result = await run<{ viewer: { role: string; tenant: { slug: string } | null } }>(
      client,
      '{ viewer { role tenant { slug } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.viewer).toEqual({ role: 'TENANT_ADMIN', tenant: { slug: 'ws-tenant' } });
  });

  it('accepts the token in connectionParams without the "Bearer " prefix', async () => {
    const client = clientWith({ authorization: server.token('PROVIDER_OPERATOR') });
    const result = await run<{ viewer: { role: string } }>(client, '{ viewer { role } }');
    expect(result.data?.viewer.role).toBe('PROVIDER_OPERATOR');
  });

  it.each<[string, () => Record<string, unknown> | undefined]>([
    ['no connectionParams', () => undefined],
    ['connectionParams without authorization', () => ({ token: 'x' })],
    ['a non-string authorization', () => ({ authorization: { role: 'PROVIDER_ADMIN' } })],
    ['a garbage token', () => ({ authorization: 'Bearer garbage' })],
    ['an expired token', () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 })}` })],
    [
      'a token signed with another secret',
      () => ({
        authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'another-secret-that-is-at-least-32-bytes-long')}`,
      }),
    ],
    ['a tenant-role token without tenantId', () => ({ authorization: `Bearer ${signTestToken({ role: 'TENANT_ADMIN' })}` })],
  ])('closes the socket with 4403 and never acknowledges it for %s', async (_what, params) => {
    const socket = await rawSocket(params());
    const closed = await socket.closed;
    expect(closed.code).toBe(FORBIDDEN_CLOSE);
    expect(socket.messages.map((m) => m.type)).not.toContain('connection_ack');
  });

  it('reports the 4403 close to a graphql-ws client that connects with an expired token', async () => {
    const closes: unknown[] = [];
    const client = clientWith(
      { authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 })}` },
      (event) => closes.push(event),
    );
    await expect(run(client, '{ viewer { role } }')).rejects.toMatchObject({ code: FORBIDDEN_CLOSE });
    expect(closes).toEqual([expect.objectContaining({ code: FORBIDDEN_CLOSE })]);
  });

  it('closes an accepted socket with 4403 once its token expires', async () => {
    const token = signTestToken({ role: 'PROVIDER_OPERATOR' }, { expiresIn: 2 });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number };
    const socket = await rawSocket({ authorization: `Bearer ${token}` });
    await socket.next((m) => m.type === 'connection_ack');
    // While the token is valid, the socket works.
    socket.send({ id: '1', type: 'subscribe', payload: { query: '{ viewer { role } }' } });
    const answer = await socket.next((m) => m.type === 'next' && m.id === '1');
    expect(answer.payload).toEqual({ data: { viewer: { role: 'PROVIDER_OPERATOR' } } });

    const closed = await Promise.race([
      socket.closed,
      new Promise<'still open after 5 s'>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5_000).unref()),
    ]);
    if (closed === 'still open after 5 s') throw new Error(`socket still open 5 s after a token that expired at ${exp}`);
    expect(closed.code).toBe(FORBIDDEN_CLOSE);
    // Not closed early: only once the token's exp has passed (the timer fires at exp; allow timer jitter).
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000 - 50);
  });

  it('runs nothing sent right behind a refused connection_init', async () => {
    const device = deviceInput(4241);
    const expired = signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 });
    const socket = await rawSocket({ authorization: `Bearer ${expired}` });
    socket.send({
      id: '1',
      type: 'subscribe',
      payload: { query: REGISTER_DEVICES, variables: { input: { tenantId: tenant.id, devices: [device] } } },
    });
    // graphql-ws may see the subscribe before it finishes refusing the init: then it closes with
    // 4401 (subscribe before acknowledgement) instead of 4403. Either way the socket is refused.
    expect([4401, FORBIDDEN_CLOSE]).toContain((await socket.closed).code);
    expect(socket.messages.map((m) => m.type)).toEqual([]);
    expect(await deviceCount(device.uuid)).toBe(0);
  });

  it('answers FORBIDDEN when TENANT_OPERATOR registers devices over the socket, and writes no device', async () => {
    const device = deviceInput(4242);
    const client = clientWith({ authorization: `Bearer ${server.token('TENANT_OPERATOR', tenant.uuid)}` });
    const result = await run(client, REGISTER_DEVICES, { input: { devices: [device] } });
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(result.errors?.[0].message).toMatch(/TENANT_OPERATOR.*registerDevices/);
    expect(await deviceCount(device.uuid)).toBe(0);
  });

  it.each<[string, string, Record<string, unknown> | undefined, { code: string; message: string }]>([
    ['a misspelt field', '{ viewr { role } }', undefined, { code: 'GRAPHQL_VALIDATION_FAILED', message: 'Cannot query field "viewr" on type "Query".' }],
    [
      'a missing required variable',
      REGISTER_DEVICES,
      undefined,
      { code: 'BAD_USER_INPUT', message: 'Variable "$input" of required type "RegisterDevicesInput!" was not provided.' },
    ],
    [
      'a variable of the wrong type',
      'query($first: Int) { tenants(first: $first) { totalCount } }',
      { first: 'ten' },
      { code: 'BAD_USER_INPUT', message: 'Variable "$first" got invalid value "ten"; Int cannot represent non-integer value: "ten"' },
    ],
  ])('answers %s over the socket with the same code and message as over HTTP, not a masked internal error', async (_what, query, variables, expected) => {
    const token = server.token('PROVIDER_ADMIN');
    const http = await server.graphql(query, variables, token);
    const httpError = http.body.errors?.[0];
    expect({ code: httpError?.extensions?.code, message: httpError?.message }).toEqual(expected);

    const client = clientWith({ authorization: `Bearer ${token}` });
    const wsErrors = await run(client, query, variables).then(
      (result) => result.errors,
      (err: unknown) => (Array.isArray(err) ? (err as FormattedExecutionResult['errors']) : undefined),
    );
    expect({ code: wsErrors?.[0]?.extensions?.code, message: wsErrors?.[0]?.message }).toEqual(expected);
  });

  it('lets TENANT_ADMIN register devices over the socket in its own tenant', async () => {
    const device = deviceInput(4243);
    const client = clientWith({ authorization: `Bearer ${server.token('TENANT_ADMIN', tenant.uuid)}` });
    const result = await run<{ registerDevices: { created: number } }>(client, REGISTER_DEVICES, { input: { devices: [device] } });
    expect(result.errors).toBeUndefined();
    expect(result.data?.registerDevices.created).toBe(1);
    expect(await server.sql('select t.slug from device d join tenant t on t.id = d.tenant_id where d.uuid = $1', [device.uuid])).toEqual([
      { slug: 'ws-tenant' },
    ]);
  });
});

describe('GraphQL over WebSocket in production', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses introspection over the socket, as it does over HTTP', async () => {
    const query = '{ __schema { queryType { name } } }';
    const token = server.token('TENANT_OPERATOR', '8d2f1c2e-7f0a-4f7e-9d2b-0b6c2a5e9a11');
    const http = await server.graphql(query, {}, token);
    expect(http.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    try {
      const outcome = await new Promise<unknown>((resolve) => {
        let last: unknown;
        client.subscribe(
          { query },
          { next: (value) => (last = value), error: (err) => resolve({ refused: err }), complete: () => resolve(last) },
        );
      });
      expect(outcome).not.toHaveProperty('data.__schema');
      expect(outcome).toMatchObject({ refused: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    } finally {
      await client.dispose();
    }
  });
});
