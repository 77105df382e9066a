/**
 * The license-server client against the simulator, both real HTTP servers on loopback, in-process.
 * No database involved.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SsmClient, SsmError, type SsmClientOptions } from '../src/ssm/client';
import { FileFormatError } from '../src/ssm/files/archive';
import {
  buildUsageReport,
  parseAck,
  parseLicenseSummary,
  sha256Hex,
  type UsageMeasurement,
  type UsageReportManifestInput,
} from '../src/ssm/files/formats';
import { keyPairFromSeed, publicKeyPem } from '../src/ssm/files/signing';
import { type SimulatorHandle, startSimulator } from '../src/ssm-simulator/server';
import { seedAccounts } from '../src/ssm-simulator/state';

let sim: SimulatorHandle;
const clients: SsmClient[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 'demo' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
});

afterEach(() => {
  sim.setFault(null);
});

function client(overrides: Partial<SsmClientOptions> = {}): SsmClient {
  const c = new SsmClient({ baseUrl: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, backoffMs: 10, timeoutMs: 5_000, ...overrides });
  clients.push(c);
  return c;
}

async function ssmError(promise: Promise<unknown>): Promise<SsmError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SsmError) return err;
    throw new Error(`expected an SsmError, got ${String(err)}`);
  }
  throw new Error('expected an SsmError, but the call succeeded');
}

/** Requests the simulator recorded from now on. */
function requestsSince(): () => { method: string; path: string; status: number; fault?: string }[] {
  const start = sim.state.requests.length;
  return () => sim.state.requests.slice(start);
}

function measurement(device: number, overrides: Partial<UsageMeasurement> = {}): UsageMeasurement {
  return {
    deviceUuid: `C8K-${String(device).padStart(6, '0')}`,
    hostname: `edge-${device}`,
    entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T1_A',
    subscriptionId: 'Sub123456',
    billingType: 'PREPAID',
    count: 1,
    start: '2026-11-01T00:00:00.000Z',
    end: '2026-11-28T00:00:00.000Z',
    ...overrides,
  };
}

function usageManifest(overrides: Partial<UsageReportManifestInput> = {}): UsageReportManifestInput {
  return {
    reportId: randomUUID(),
    generatedAt: new Date().toISOString(),
    smartAccount: { accountId: 'SA-DEMO', name: 'Demo Corp' },
    virtualAccount: { id: 'VA-DEMO-CAMPUS', name: 'Campus' },
    period: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-28T00:00:00.000Z' },
    ...overrides,
  };
}

describe('seeded state', () => {
  it('is the same for the same seed and differs between seeds', () => {
    expect(seedAccounts('demo')).toEqual(seedAccounts('demo'));
    expect(seedAccounts('other')).not.toEqual(seedAccounts('demo'));
  });

  it('gives the demo seed a demo.example smart account with three VAs of DNA and HSEC lines, prepaid and postpaid', () => {
    const [sa, second] = seedAccounts('demo');
    expect({ accountId: sa.accountId, domain: sa.domain }).toEqual({ accountId: 'SA-DEMO', domain: 'demo.example' });
    expect(sa.virtualAccounts.map((v) => v.id)).toEqual(['VA-DEMO-CAMPUS', 'VA-DEMO-BRANCH', 'VA-DEMO-LAB']);
    const lines = sa.virtualAccounts.flatMap((v) => v.licenses);
    expect(new Set(lines.map((l) => l.billingType))).toEqual(new Set(['PREPAID', 'POSTPAID']));
    expect(lines.some((l) => l.entitlementTag.includes('DSTACK_'))).toBe(true);
    expect(lines.some((l) => l.entitlementTag.endsWith('HSECK9'))).toBe(true);
    expect(second.accountId).toBe('SA-DEMO-2');
  });
});

describe('SsmClient against the simulator (online / on-prem API)', () => {
  it('gets a token once and reuses it for the next calls', async () => {
    const c = client();
    const seen = requestsSince();
    const sa = await c.getSmartAccount('SA-DEMO');
    await c.getSmartAccount('SA-DEMO');
    expect(sa).toEqual({
      accountId: 'SA-DEMO',
      domain: 'demo.example',
      name: 'Demo Corp',
      virtualAccounts: [
        { id: 'VA-DEMO-CAMPUS', name: 'Campus' },
        { id: 'VA-DEMO-BRANCH', name: 'Branch' },
        { id: 'VA-DEMO-LAB', name: 'Lab' },
      ],
    });
    expect(seen().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /oauth/token 200',
      'GET /api/v1/smart-accounts/SA-DEMO 200',
      'GET /api/v1/smart-accounts/SA-DEMO 200',
    ]);
  });

  it('lists the license lines of a virtual account', async () => {
    const lines = await client().listLicenses('SA-DEMO', 'VA-DEMO-CAMPUS');
    expect(lines).toEqual(sim.state.accounts[0].virtualAccounts[0].licenses);
    expect(lines.length).toBeGreaterThan(0);
  });

  it('answers NOT_FOUND for an unknown smart account or virtual account, without retrying', async () => {
    const c = client();
    await c.getSmartAccount('SA-DEMO');
    const seen = requestsSince();
    expect((await ssmError(c.getSmartAccount('SA-NOPE'))).code).toBe('NOT_FOUND');
    const err = await ssmError(c.listLicenses('SA-DEMO', 'VA-DEMO-2-CAMPUS'));
    expect({ code: err.code, status: err.status }).toEqual({ code: 'NOT_FOUND', status: 404 });
    expect(err.message).toContain('/api/v1/smart-accounts/SA-DEMO/virtual-accounts/VA-DEMO-2-CAMPUS/licenses');
    expect(seen()).toHaveLength(2);
  });

  it('sends usage and gets an acknowledgement; sending the same report again returns the same one', async () => {
    const c = client();
    const reportId = randomUUID();
    const report = { reportId, virtualAccountId: 'VA-DEMO-BRANCH', measurements: [measurement(1), measurement(2, { billingType: 'POSTPAID', subscriptionId: null })] };
    const receipt = await c.sendUsage('SA-DEMO', report);
    expect(receipt).toEqual({ ackId: expect.any(String), reportId, acknowledgedAt: expect.any(String) });
    const recorded = sim.state.usage.filter((u) => u.reportId === reportId);
    expect(recorded).toEqual([expect.objectContaining({ via: 'api', accountId: 'SA-DEMO', virtualAccountId: 'VA-DEMO-BRANCH', measurements: report.measurements })]);
    expect(await c.sendUsage('SA-DEMO', report)).toEqual(receipt);
    expect(sim.state.usage.filter((u) => u.reportId === reportId)).toHaveLength(1);
  });

  it('refuses usage for a virtual account of another smart account (NOT_FOUND)', async () => {
    const err = await ssmError(client().sendUsage('SA-DEMO', { reportId: randomUUID(), virtualAccountId: 'VA-DEMO-2-LAB', measurements: [] }));
    expect(err.code).toBe('NOT_FOUND');
  });

  it('fails with UNAUTHORIZED on wrong credentials, without retries and without the secret in the message', async () => {
    const secret = 'wrong-secret-4f1c9e';
    const seen = requestsSince();
    const err = await ssmError(client({ clientSecret: secret }).getSmartAccount('SA-DEMO'));
    expect({ code: err.code, status: err.status }).toEqual({ code: 'UNAUTHORIZED', status: 401 });
    expect(err.message).toContain('/oauth/token');
    expect(err.message).not.toContain(secret);
    expect(seen().map((r) => `${r.path} ${r.status}`)).toEqual(['/oauth/token 401']);
  });

  it('requires a bearer token on the API', async () => {
    const res = await fetch(`${sim.url}/api/v1/smart-accounts/SA-DEMO`);
    expect(res.status).toBe(401);
    const forged = await fetch(`${sim.url}/api/v1/smart-accounts/SA-DEMO`, { headers: { authorization: 'Bearer forged' } });
    expect(forged.status).toBe(401);
  });

  it('fetches a new token when the server no longer knows the cached one', async () => {
    const c = client();
    await c.getSmartAccount('SA-DEMO');
    sim.revokeTokens();
    const seen = requestsSince();
    await c.getSmartAccount('SA-DEMO');
    expect(seen().map((r) => `${r.path} ${r.status}`)).toEqual(['/api/v1/smart-accounts/SA-DEMO 401', '/oauth/token 200', '/api/v1/smart-accounts/SA-DEMO 200']);
  });

  it('retries through HTTP 500s and succeeds once the server recovers', async () => {
    const c = client({ retries: 3 });
    await c.getSmartAccount('SA-DEMO');
    sim.setFault({ kind: 'http500', count: 2 });
    const seen = requestsSince();
    const lines = await c.listLicenses('SA-DEMO', 'VA-DEMO-CAMPUS');
    expect(lines.length).toBeGreaterThan(0);
    expect(seen().map((r) => r.status)).toEqual([500, 500, 200]);
    expect(sim.state.fault).toBeNull();
  });

  it('gives up with UNAVAILABLE after its retries when the server keeps failing', async () => {
    const c = client({ retries: 2 });
    await c.getSmartAccount('SA-DEMO');
    sim.setFault({ kind: 'http500' });
    const seen = requestsSince();
    const err = await ssmError(c.getSmartAccount('SA-DEMO'));
    expect({ code: err.code, status: err.status }).toEqual({ code: 'UNAVAILABLE', status: 500 });
    expect(err.message).toContain('after 3 attempts');
    expect(seen().map((r) => r.status)).toEqual([500, 500, 500]);
  });

  it('gives up with TIMEOUT after its retries when the server does not answer', async () => {
    const c = client({ retries: 2, timeoutMs: 300 });
    await c.getSmartAccount('SA-DEMO');
    sim.setFault({ kind: 'timeout' });
    const seen = requestsSince();
    const err = await ssmError(c.getSmartAccount('SA-DEMO'));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('GET /api/v1/smart-accounts/SA-DEMO');
    expect(seen().map((r) => r.fault)).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('waits for a slow server within its timeout', async () => {
    const c = client({ timeoutMs: 5_000, retries: 0 });
    sim.setFault({ kind: 'slow', delayMs: 200, count: 1 });
    expect((await c.getSmartAccount('SA-DEMO')).accountId).toBe('SA-DEMO');
  });

  it('fails with UNAVAILABLE when nothing listens, naming the path', async () => {
    const closed = await startSimulator({ port: 0, seed: 'gone' });
    const url = closed.url;
    await closed.close();
    const err = await ssmError(client({ baseUrl: url, retries: 1 }).getSmartAccount('SA-GONE'));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toContain('/oauth/token');
  });

  it('serves 5,000 seeded lines and the client reads them all', async () => {
    const big = await startSimulator({ port: 0, seed: 'big', lines: 5000, accounts: 1 });
    try {
      const c = client({ baseUrl: big.url, clientId: big.clientId, clientSecret: big.clientSecret });
      const sa = await c.getSmartAccount('SA-BIG');
      const lines = (await Promise.all(sa.virtualAccounts.map((va) => c.listLicenses('SA-BIG', va.id)))).flat();
      expect(lines).toHaveLength(5000);
      expect(new Set(lines.map((l) => l.lineId)).size).toBe(5000);
    } finally {
      await big.close();
    }
  });
});

describe('admin endpoints', () => {
  it('replace the state with PUT /__admin/state, validated', async () => {
    const original = (await (await fetch(`${sim.url}/__admin/state`)).json()) as { accounts: unknown[] };
    const accounts = seedAccounts('demo');
    accounts[0].virtualAccounts[0].licenses = accounts[0].virtualAccounts[0].licenses.slice(1);
    try {
      const put = await fetch(`${sim.url}/__admin/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accounts }) });
      expect(put.status).toBe(200);
      expect(await client().listLicenses('SA-DEMO', 'VA-DEMO-CAMPUS')).toEqual(accounts[0].virtualAccounts[0].licenses);
      const bad = structuredClone(accounts);
      (bad[0].virtualAccounts[0].licenses[0] as { billingType: string }).billingType = 'FREE';
      const refused = await fetch(`${sim.url}/__admin/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accounts: bad }) });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe('INVALID_STATE');
    } finally {
      await fetch(`${sim.url}/__admin/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(original) });
    }
  });

  it('set and clear faults over HTTP, and list received usage', async () => {
    const set = await fetch(`${sim.url}/__admin/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'http500', count: 1 }) });
    expect(set.status).toBe(200);
    expect((await fetch(`${sim.url}/oauth/token`, { method: 'POST' })).status).toBe(500);
    expect(sim.state.fault).toBeNull();
    await fetch(`${sim.url}/__admin/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'http500' }) });
    expect((await fetch(`${sim.url}/__admin/fault`, { method: 'DELETE' })).status).toBe(200);
    expect(sim.state.fault).toBeNull();
    const bad = await fetch(`${sim.url}/__admin/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'explode' }) });
    expect(bad.status).toBe(400);
    const usage = (await (await fetch(`${sim.url}/__admin/usage`)).json()) as { reports: unknown[] };
    expect(usage.reports).toHaveLength(sim.state.usage.length);
  });
});

/** A forward proxy as an operator's network would have: CONNECT tunnels and absolute-URI requests, with Basic auth. */
async function startProxy(credentials: string): Promise<{ url: (user?: string) => string; seen: { method: string; target: string; auth: string | undefined }[]; close: () => Promise<void> }> {
  const seen: { method: string; target: string; auth: string | undefined }[] = [];
  const expected = `Basic ${Buffer.from(credentials).toString('base64')}`;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const auth = req.headers['proxy-authorization'];
    seen.push({ method: req.method ?? '', target: req.url ?? '', auth });
    if (auth !== expected) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers, host: target.host };
    delete headers['proxy-authorization'];
    const upstream = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    seen.push({ method: 'CONNECT', target: req.url ?? '', auth });
    if (auth !== expected) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (user = credentials) => `http://${user}@127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('proxy', () => {
  it('sends every request, token included, through the configured proxy with its credentials', async () => {
    const proxy = await startProxy('ops:s3cret');
    try {
      const seen = requestsSince();
      const c = client({ proxyUrl: proxy.url() });
      expect((await c.getSmartAccount('SA-DEMO')).domain).toBe('demo.example');
      await c.listLicenses('SA-DEMO', 'VA-DEMO-LAB');
      const simHost = new URL(sim.url).host;
      expect(proxy.seen.length).toBeGreaterThan(0);
      for (const s of proxy.seen) {
        expect(s.auth).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
        expect(s.target === simHost || s.target.startsWith(`${sim.url}/`)).toBe(true);
      }
      // The simulator saw exactly the requests that went through the proxy.
      expect(seen().map((r) => r.path)).toEqual(['/oauth/token', '/api/v1/smart-accounts/SA-DEMO', '/api/v1/smart-accounts/SA-DEMO/virtual-accounts/VA-DEMO-LAB/licenses']);
    } finally {
      await proxy.close();
    }
  });

  it('does not touch the proxy when none is configured', async () => {
    const proxy = await startProxy('ops:s3cret');
    try {
      await client().getSmartAccount('SA-DEMO');
      expect(proxy.seen).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it('fails with UNAVAILABLE when the proxy refuses the credentials, without leaking them', async () => {
    const proxy = await startProxy('ops:s3cret');
    try {
      const err = await ssmError(client({ proxyUrl: proxy.url('ops:wrong-pass-91'), retries: 0 }).getSmartAccount('SA-DEMO'));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toContain('407');
      expect(err.message).not.toContain('wrong-pass-91');
      expect(proxy.seen.length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});

describe('offline files through the simulator', () => {
  it('exports a signed license summary that verifies with the simulator key, with a new serial each time', async () => {
    const c = client();
    const first = await parseLicenseSummary(await c.downloadLicenseSummary('SA-DEMO'), [sim.publicKeyPem]);
    const second = await parseLicenseSummary(await c.downloadLicenseSummary('SA-DEMO'), [sim.publicKeyPem]);
    expect(first.keyId).toBe(sim.keyId);
    expect(first.manifest.smartAccount).toEqual({ accountId: 'SA-DEMO', domain: 'demo.example', name: 'Demo Corp' });
    expect(first.virtualAccounts).toEqual(sim.state.accounts[0].virtualAccounts);
    expect(second.manifest.serial).toBe(first.manifest.serial + 1);
  });

  it('exports a summary that another key does not verify', async () => {
    const file = await client().downloadLicenseSummary('SA-DEMO');
    const other = publicKeyPem(keyPairFromSeed('someone-else').publicKey);
    await expect(parseLicenseSummary(file, [other])).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  it('imports a usage report file and returns a signed ACK naming the report and its digest', async () => {
    const c = client();
    const manifest = usageManifest();
    const measurements = [measurement(1), measurement(1, { entitlementTag: 'regid.2019-03.com.cisco.HSECK9' }), measurement(2)];
    const report = await buildUsageReport(manifest, measurements);
    const ackFile = await c.uploadUsageFile(report);
    const { ack, devices } = await parseAck(ackFile, [sim.publicKeyPem]);
    expect(ack).toEqual(
      expect.objectContaining({
        reportId: manifest.reportId,
        reportDigest: sha256Hex(report),
        smartAccount: { accountId: 'SA-DEMO', name: 'Demo Corp' },
        virtualAccount: { id: 'VA-DEMO-CAMPUS', name: 'Campus' },
        measurements: 3,
      }),
    );
    expect(devices).toEqual([
      { deviceUuid: 'C8K-000001', hostname: 'edge-1', measurements: 2, status: 'ACCEPTED' },
      { deviceUuid: 'C8K-000002', hostname: 'edge-2', measurements: 1, status: 'ACCEPTED' },
    ]);
    expect(sim.state.usage.find((u) => u.reportId === manifest.reportId)).toEqual(expect.objectContaining({ via: 'file', digest: sha256Hex(report), measurements }));
    // Uploading the same file again returns the same ACK rather than counting the usage twice.
    expect((await c.uploadUsageFile(report)).equals(ackFile)).toBe(true);
    expect(sim.state.usage.filter((u) => u.reportId === manifest.reportId)).toHaveLength(1);
  });

  it('asks which virtual account to import a trial report into, and names it in the ACK', async () => {
    const c = client();
    const report = await buildUsageReport(usageManifest({ smartAccount: null, virtualAccount: null }), [measurement(7)]);
    const refused = await ssmError(c.uploadUsageFile(report));
    expect({ code: refused.code, status: refused.status }).toEqual({ code: 'BAD_RESPONSE', status: 400 });
    expect(refused.message).toContain('VIRTUAL_ACCOUNT_REQUIRED');
    const { ack } = await parseAck(await c.uploadUsageFile(report, 'VA-DEMO-2-BRANCH'), [sim.publicKeyPem]);
    expect({ sa: ack.smartAccount, va: ack.virtualAccount }).toEqual({ sa: { accountId: 'SA-DEMO-2', name: 'Demo Corp 2' }, va: { id: 'VA-DEMO-2-BRANCH', name: 'Branch' } });
  });

  it('refuses a hostile usage file with the parser code, and a VA that contradicts the report', async () => {
    const c = client();
    const mismatch = await ssmError(c.uploadUsageFile(await buildUsageReport(usageManifest(), [measurement(1)]), 'VA-DEMO-LAB'));
    expect(mismatch.message).toContain('VIRTUAL_ACCOUNT_MISMATCH');
    const garbage = await ssmError(c.uploadUsageFile(Buffer.from('PK\u0003\u0004 not a tar.gz')));
    expect({ code: garbage.code, status: garbage.status }).toEqual({ code: 'BAD_RESPONSE', status: 400 });
    expect(garbage.message).toContain('NOT_GZIP');
  });

  it('ACK files from the simulator are refused when its key is not trusted', async () => {
    const report = await buildUsageReport(usageManifest(), [measurement(3)]);
    const ackFile = await client().uploadUsageFile(report);
    const err = await parseAck(ackFile, [publicKeyPem(keyPairFromSeed('not-the-simulator').publicKey)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as FileFormatError).code).toBe('BAD_SIGNATURE');
  });
});
