import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenVerifier } from '../src/auth/jwt';
import { DEBUG_HEAP_PATH, debugRoutes, type DebugHookDeps } from '../src/server/debug-hooks';
import type { ServerStats } from '../src/server/app';
import { signTestToken, startTestServer, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET, type TestServer } from './support/harness';

const providerAdmin = signTestToken({ role: 'PROVIDER_ADMIN' });

describe('GET /__debug/heap on the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('does not exist without --expose-gc: 404 like any unknown route, even for a provider admin', async () => {
    expect(typeof global.gc).toBe('undefined'); // jest runs without --expose-gc
    const res = await fetch(`${server.origin}${DEBUG_HEAP_PATH}`, { headers: { authorization: `Bearer ${providerAdmin}` } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('heapUsedBytes');
  });
});

describe('debug routes with a gc function (the module alone, on a bare node:http server)', () => {
  const verifier = new TokenVerifier({
    key: { kind: 'secret', algorithms: ['HS256'], secret: TEST_JWT_SECRET, generated: false },
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
  });
  const memory: NodeJS.MemoryUsage = { rss: 5000, heapTotal: 4000, heapUsed: 3000, external: 200, arrayBuffers: 100 };
  let gcCalls = 0;
  let origin: string;
  let srv: http.Server;
  const serverStats: ServerStats = {
    webSocketClients: 2,
    alerts: { subscribers: 7, pendingEvents: 0, queuedAlerts: 3, listening: true },
    alertBusListeners: 1,
  };

  beforeAll(async () => {
    const deps: DebugHookDeps = {
      verifier,
      stats: () => serverStats,
      gc: () => {
        gcCalls++;
      },
      memoryUsage: () => memory,
    };
    const routes = debugRoutes(deps);
    if (!routes) throw new Error('debugRoutes returned no routes although a gc function was given');
    srv = http.createServer((req, res) => {
      if (!routes(req, res, (req.url ?? '/').split('?', 1)[0])) {
        res.statusCode = 404;
        res.end('not a debug route');
      }
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => srv.close(resolve));
  });
  beforeEach(() => {
    gcCalls = 0;
  });

  const heap = (token?: string, method = 'GET'): Promise<Response> =>
    fetch(`${origin}${DEBUG_HEAP_PATH}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('offers no routes when there is no gc function', () => {
    expect(debugRoutes({ verifier, stats: () => serverStats })).toBeUndefined();
  });

  it('runs gc once and answers the memory figures after it, with open WebSocket clients and alert subscribers', async () => {
    const res = await heap(providerAdmin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      heapUsedBytes: 3000, heapTotalBytes: 4000, rssBytes: 5000, externalBytes: 200, arrayBuffersBytes: 100,
      alertSubscribers: 7, queuedAlerts: 3, alertBusListeners: 1, wsClients: 2,
    });
    expect(gcCalls).toBe(1);
  });

  it('refuses a request without a valid token with 401 UNAUTHENTICATED, before any gc', async () => {
    for (const token of [undefined, signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'another-secret-another-secret-another-secret-0')]) {
      const res = await heap(token);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    expect(gcCalls).toBe(0);
  });

  it('refuses every role but PROVIDER_ADMIN with 403 FORBIDDEN, before any gc', async () => {
    const tenant = '6f1c1a52-3f0e-4a43-9a55-0a4f4c1f2e01';
    for (const token of [signTestToken({ role: 'PROVIDER_OPERATOR' }), signTestToken({ role: 'TENANT_ADMIN', tenantId: tenant })]) {
      const res = await heap(token);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('FORBIDDEN');
    }
    expect(gcCalls).toBe(0);
  });

  it('leaves other methods and paths to the server', async () => {
    expect((await heap(providerAdmin, 'POST')).status).toBe(404);
    expect((await fetch(`${origin}/__debug/other`, { headers: { authorization: `Bearer ${providerAdmin}` } })).status).toBe(404);
    expect(gcCalls).toBe(0);
  });
});
