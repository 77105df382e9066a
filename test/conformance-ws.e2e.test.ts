import { randomBytes } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { addDevices, ASSIGN, createTrialTenant, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { deviceInput, REGISTER_DEVICES } from './support/fixtures';
import { signTestToken, startTestServer, type TestServer } from './support/harness';

/**
 * GraphQL over WebSocket conformance (the graphql-transport-ws protocol of graphql-ws), with a raw
 * WebSocket: the close code and reason the server answers each protocol violation with.
 */

const PROTOCOL = 'graphql-transport-ws';
/** subscriptions-transport-ws, the legacy protocol that is not served. */
const LEGACY_PROTOCOL = 'graphql-ws';
/** graphql-ws's default connectionInitWaitTimeout (the server does not change it). */
const INIT_WAIT_MS = 3_000;
const WAIT_MS = 10_000;

const CLOSE = {
  badRequest: { code: 4400, reason: 'Invalid message received' },
  unauthorized: { code: 4401, reason: 'Unauthorized' },
  forbidden: { code: 4403, reason: 'Forbidden' },
  subprotocolNotAcceptable: { code: 4406, reason: 'Subprotocol not acceptable' },
  initTimeout: { code: 4408, reason: 'Connection initialisation timeout' },
  tooManyInits: { code: 4429, reason: 'Too many initialisation requests' },
} as const;

const LICENSE_ALERTS = 'subscription { licenseAlerts { id kind active tenant { id } } }';
const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';

interface Closed {
  code: number;
  reason: string;
  at: number;
}

interface ServerMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A raw WebSocket that records what the server sends, when it opened and how it closed. */
class RawSocket {
  readonly messages: ServerMessage[] = [];
  readonly opened: Promise<number>;
  readonly closed: Promise<Closed>;
  readonly socket: WebSocket;
  private waiters: (() => void)[] = [];

  /** `protocols` null: offer no subprotocol at all. */
  constructor(url: string, protocols: string | string[] | null) {
    this.socket = protocols === null ? new WebSocket(url) : new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve(Date.now()));
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString(), at: Date.now() });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    this.socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get types(): string[] {
    return this.messages.map((m) => (m.id === undefined ? m.type : `${m.type}:${m.id}`));
  }

  send(message: string | Record<string, unknown>): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves with the first message matching; rejects if the socket closes or `timeoutMs` passes first. */
  async next(what: string, match: (m: ServerMessage) => boolean, timeoutMs = WAIT_MS): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) {
        const closed = await this.closed;
        throw new Error(`socket closed (${closed.code} ${closed.reason}) before ${what}; got ${this.types.join(', ')}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${this.types.join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** How the socket closed, or an error if it is still open after `timeoutMs`. */
  async closedWithin(timeoutMs = WAIT_MS): Promise<Closed> {
    const outcome = await Promise.race([this.closed, sleep(timeoutMs).then(() => 'open' as const)]);
    if (outcome === 'open') throw new Error(`socket still open after ${timeoutMs} ms; got ${this.types.join(', ')}`);
    return outcome;
  }

  terminate(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
  }
}

interface RawUpgrade {
  status: number;
  /** The Sec-WebSocket-Protocol the server selected in its 101 answer, if any. */
  selectedProtocol: string | undefined;
  /** The close frame the server sent first. */
  close: { code: number; reason: string };
}

/**
 * The opening handshake by hand, offering `protocol`, then the first frame the server sends. Used
 * where a WebSocket library would abort the handshake itself (a requested subprotocol that the
 * server does not select) and so never see what the server does next.
 */
function rawUpgrade(url: string, protocol: string): Promise<RawUpgrade> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no close frame within ${WAIT_MS} ms`)), WAIT_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    const req = http.request(url.replace(/^ws/, 'http'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': protocol,
      },
    });
    req.once('error', fail);
    req.once('response', (res) => {
      res.resume();
      fail(new Error(`the server answered the upgrade with HTTP ${res.statusCode}`));
    });
    req.once('upgrade', (res, socket, head) => {
      let buffer = head;
      const parse = (): void => {
        if (buffer.length < 2) return;
        const opcode = buffer[0] & 0x0f;
        const length = buffer[1] & 0x7f;
        if (buffer.length < 2 + length) return;
        socket.destroy();
        clearTimeout(timer);
        if (opcode !== 0x8) {
          reject(new Error(`first frame has opcode ${opcode}, not a close frame (8)`));
          return;
        }
        const selected = res.headers['sec-websocket-protocol'];
        resolve({
          status: res.statusCode ?? 0,
          selectedProtocol: Array.isArray(selected) ? selected.join(',') : selected,
          close: { code: buffer.readUInt16BE(2), reason: buffer.subarray(4, 2 + length).toString('utf8') },
        });
      };
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        parse();
      });
      socket.once('error', fail);
      socket.once('end', () => fail(new Error('connection ended without a close frame')));
      parse();
    });
    req.end();
  });
}

describe('graphql-transport-ws close codes', () => {
  let server: TestServer;
  let wsUrl: string;
  let tenant: AccountTenant;
  let deviceId: string;
  const sockets: RawSocket[] = [];

  function open(protocols: string | string[] | null = PROTOCOL): RawSocket {
    const socket = new RawSocket(wsUrl, protocols);
    sockets.push(socket);
    return socket;
  }

  /** A socket whose connection_init with the tenant admin's token was acknowledged. */
  async function acknowledged(): Promise<RawSocket> {
    const socket = open();
    await socket.opened;
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${tenant.admin}` } });
    await socket.next('connection_ack', (m) => m.type === 'connection_ack');
    return socket;
  }

  async function deviceCount(uuid: string): Promise<number> {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from device where uuid = $1', [uuid]);
    return row.n;
  }

  beforeAll(async () => {
    server = await startTestServer();
    wsUrl = server.url.replace(/^http/, 'ws');
    // A tenant without a smart account: assigning a level/tier leaves a pending assignment, which
    // raises UNRECONCILED_ASSIGNMENTS (and releasing resolves it): an alert event on demand.
    tenant = await createTrialTenant(server, 'ws-conformance');
    [deviceId] = await addDevices(server, tenant, 1, {}, 7001);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.terminate();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('acknowledges a connection_init with a valid token and answers a ping with a pong (the baseline the violations below depart from)', async () => {
    const socket = await acknowledged();
    expect(socket.socket.protocol).toBe(PROTOCOL);
    socket.send({ type: 'ping' });
    await socket.next('pong', (m) => m.type === 'pong');
    socket.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { role } }' } });
    await socket.next('complete of q', (m) => m.type === 'complete' && m.id === 'q');
    expect(socket.messages.filter((m) => m.id === 'q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { viewer: { role: 'TENANT_ADMIN' } } } },
      { id: 'q', type: 'complete' },
    ]);
  });

  describe('4400 Bad Request: an invalid message', () => {
    it.each<[string, 'before connection_init' | 'after connection_ack', string]>([
      ['a frame that is not JSON', 'before connection_init', '{"type": "connection_init"'],
      ['a frame that is not JSON', 'after connection_ack', 'hello'],
      ['a JSON array', 'after connection_ack', '[]'],
      ['a message without a type', 'after connection_ack', '{"id":"1","payload":{"query":"{ viewer { role } }"}}'],
      ['an unknown message type', 'before connection_init', '{"type":"start","id":"1","payload":{"query":"{ viewer { role } }"}}'],
      ['an unknown message type', 'after connection_ack', '{"type":"subscribe_all"}'],
      ['a subscribe without an id', 'after connection_ack', '{"type":"subscribe","payload":{"query":"{ viewer { role } }"}}'],
      ['a subscribe with an empty id', 'after connection_ack', '{"type":"subscribe","id":"","payload":{"query":"{ viewer { role } }"}}'],
      ['a subscribe whose payload has no query', 'after connection_ack', '{"type":"subscribe","id":"1","payload":{"variables":{}}}'],
      ['a subscribe whose variables are a string', 'after connection_ack', '{"type":"subscribe","id":"1","payload":{"query":"{ viewer { role } }","variables":"{}"}}'],
      ['a connection_init whose payload is a string', 'before connection_init', '{"type":"connection_init","payload":"Bearer x"}'],
    ])('closes with 4400 on %s sent %s, and answers it with nothing', async (_what, when, frame) => {
      const socket = when === 'after connection_ack' ? await acknowledged() : open();
      await socket.opened;
      const before = socket.types;
      socket.send(frame);
      const closed = await socket.closedWithin();
      expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.badRequest);
      expect(socket.types).toEqual(before);
    });
  });

  it.each(['connection_ack', 'next', 'error'])(
    'closes with 4400 when a client sends %s, a message only servers send (graphql-ws alone would answer 4500)',
    async (type) => {
      const socket = await acknowledged();
      socket.send(JSON.stringify({ type, id: '1', payload: type === 'connection_ack' ? undefined : { data: null } }));
      const closed = await socket.closedWithin();
      expect(closed.code).toBe(4400);
      expect(closed.reason).toMatch(/^Invalid message received/);
    },
  );

  it('closes with 4401 on a subscribe before connection_init, and runs nothing of it', async () => {
    const device = deviceInput(7401);
    const socket = open();
    await socket.opened;
    socket.send({ id: '1', type: 'subscribe', payload: { query: REGISTER_DEVICES, variables: { input: { devices: [device] } } } });
    const closed = await socket.closedWithin();
    expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.unauthorized);
    expect(socket.messages).toEqual([]);
    expect(await deviceCount(device.uuid)).toBe(0);
  });

  describe('4403 Forbidden: connection_init refused', () => {
    it.each<[string, () => Record<string, unknown> | undefined]>([
      ['a garbage bearer token', () => ({ authorization: 'Bearer not-a-jwt' })],
      ['a token signed with another secret', () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'x'.repeat(64))}` })],
      ['an expired token', () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 })}` })],
      ['no authorization in the payload', () => ({})],
      ['no payload at all', () => undefined],
    ])('closes with 4403 and never acknowledges a connection_init with %s', async (_what, payload) => {
      const socket = open();
      await socket.opened;
      const params = payload();
      socket.send({ type: 'connection_init', ...(params === undefined ? {} : { payload: params }) });
      const closed = await socket.closedWithin();
      expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.forbidden);
      expect(socket.messages).toEqual([]);
    });
  });

  describe('4406 Subprotocol Not Acceptable', () => {
    it('accepts the upgrade of a client that offers no subprotocol, selects none, and closes it with 4406 before any message', async () => {
      const socket = open(null);
      await socket.opened;
      expect(socket.socket.protocol).toBe('');
      const closed = await socket.closedWithin();
      expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.subprotocolNotAcceptable);
      expect(socket.messages).toEqual([]);
    });

    it.each([
      [`the legacy subscriptions-transport-ws subprotocol '${LEGACY_PROTOCOL}'`, LEGACY_PROTOCOL],
      ["an unrelated subprotocol 'mqtt'", 'mqtt'],
    ])('does not select %s in the handshake and closes that socket with 4406', async (_what, protocol) => {
      const upgrade = await rawUpgrade(wsUrl, protocol);
      expect(upgrade).toEqual({ status: 101, selectedProtocol: undefined, close: CLOSE.subprotocolNotAcceptable });

      // A conforming WebSocket client, which requires the server to select one of the subprotocols
      // it offered, fails the handshake on its side.
      const client = open(protocol);
      await expect(client.opened).rejects.toThrow('Server sent no subprotocol');
    });

    it(`selects '${PROTOCOL}' when a client offers it after the legacy one, and serves that socket`, async () => {
      const socket = open([LEGACY_PROTOCOL, PROTOCOL]);
      await socket.opened;
      expect(socket.socket.protocol).toBe(PROTOCOL);
      socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${tenant.admin}` } });
      await socket.next('connection_ack', (m) => m.type === 'connection_ack');
    });
  });

  it(`closes with 4408 a socket that sends no connection_init within the ${INIT_WAIT_MS} ms init wait, and keeps open one that did`, async () => {
    const silent = open();
    const initialised = await acknowledged();
    const openedAt = await silent.opened;
    const closed = await silent.closedWithin(5_000);
    expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.initTimeout);
    expect(silent.messages).toEqual([]);
    // Not before the wait is over (allowing for the handshake's round trip).
    expect(closed.at - openedAt).toBeGreaterThanOrEqual(INIT_WAIT_MS - 500);

    await sleep(300);
    expect(initialised.socket.readyState).toBe(WebSocket.OPEN);
    initialised.send({ type: 'ping' });
    await initialised.next('pong', (m) => m.type === 'pong');
  });

  it('closes with 4409 on a second subscribe with the id of a subscription that is still delivering events, and reuses an id once its operation completed', async () => {
    const socket = await acknowledged();

    // An id is free again once its operation completed.
    const completesOfQ = (): number => socket.messages.filter((m) => m.type === 'complete' && m.id === 'q').length;
    for (let round = 1; round <= 2; round++) {
      socket.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { role } }' } });
      await socket.next(`complete ${round} of q`, () => completesOfQ() === round);
    }
    expect(socket.messages.filter((m) => m.id === 'q').map((m) => m.type)).toEqual(['next', 'complete', 'next', 'complete']);

    socket.send({ id: 'alerts', type: 'subscribe', payload: { query: LICENSE_ALERTS } });
    // No message tells that a subscription is live: raise (assign) and clear (release) the tenant's
    // pending-assignment alert until the subscription has delivered an event.
    const delivered = (): boolean => socket.messages.some((m) => m.type === 'next' && m.id === 'alerts');
    const deadline = Date.now() + WAIT_MS;
    for (let attempt = 0; !delivered() && Date.now() < deadline; attempt++) {
      if (attempt % 2 === 0) await gqlData(server, ASSIGN, { input: { deviceIds: [deviceId], level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
      else await gqlData(server, RELEASE, { input: { deviceIds: [deviceId] } }, tenant.admin);
      await socket.next('an alert event', (m) => m.type === 'next' && m.id === 'alerts', 500).catch(() => undefined);
    }
    const event = await socket.next('an alert event', (m) => m.type === 'next' && m.id === 'alerts', 0);
    // The assignment raises UNRECONCILED_ASSIGNMENTS and, the device being unlicensed, OUT_OF_COMPLIANCE.
    expect(event.payload).toMatchObject({
      data: { licenseAlerts: { kind: expect.stringMatching(/^(UNRECONCILED_ASSIGNMENTS|OUT_OF_COMPLIANCE)$/), tenant: { id: tenant.id } } },
    });

    socket.send({ id: 'alerts', type: 'subscribe', payload: { query: LICENSE_ALERTS } });
    const closed = await socket.closedWithin();
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 4409, reason: 'Subscriber for alerts already exists' });
    // The first subscription was live until the close: never completed nor failed.
    expect(socket.messages.filter((m) => m.id === 'alerts' && m.type !== 'next')).toEqual([]);
  });

  describe('4429 Too Many Initialisation Requests', () => {
    it('closes with 4429 on a second connection_init after the first was acknowledged', async () => {
      const socket = await acknowledged();
      socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${tenant.admin}` } });
      const closed = await socket.closedWithin();
      expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.tooManyInits);
      expect(socket.types).toEqual(['connection_ack']);
    });

    it('closes with 4429 on a second connection_init sent right behind the first, before any acknowledgement arrives', async () => {
      const socket = open();
      await socket.opened;
      const init = { type: 'connection_init', payload: { authorization: `Bearer ${tenant.admin}` } };
      socket.send(init);
      socket.send(init);
      const closed = await socket.closedWithin();
      expect({ code: closed.code, reason: closed.reason }).toEqual(CLOSE.tooManyInits);
      // The first init may be acknowledged before the close; nothing else is sent.
      expect(socket.types.filter((t) => t !== 'connection_ack')).toEqual([]);
    });
  });
});
