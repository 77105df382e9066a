import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { deviceInput, REGISTER_DEVICES } from './support/fixtures';
import { createTestDatabase, signTestToken } from './support/harness';
import { killGroup, MAIN, productionEnv, spawnNode, started, until, type Proc } from './support/processes';

/**
 * WEB_CONCURRENCY=2 (src/cluster.ts): a real `node dist/src/main.js` primary with two workers on one
 * port. Every request below goes on a connection of its own, so node:cluster's round robin spreads
 * them over both workers.
 */
jest.setTimeout(60_000);

const METRICS_TOKEN = 'cluster-metrics-token-0123456789';
const provider = signTestToken({ sub: 'cluster-provider', role: 'PROVIDER_ADMIN' });

/** One POST on a fresh connection (no keep-alive), so each request is accepted anew. */
function post<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<{ status: number; body: { data?: T; errors?: unknown[] } }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query, variables });
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { data?: T; errors?: unknown[] } }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.end(body);
  });
}

async function data<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await post<T>(url, query, variables, token);
  if (res.status !== 200 || res.body.errors || !res.body.data) throw new Error(`expected success, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

/** The value of `name{labels...}` in Prometheus text, summed over the lines that carry every given label. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('WEB_CONCURRENCY=2: one port, two workers', () => {
  let primary: Proc;
  let url: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase('cluster_');
    primary = spawnNode(MAIN, [], productionEnv(databaseUrl, { WEB_CONCURRENCY: '2', METRICS_TOKEN, SHUTDOWN_GRACE_MS: '1000' }));
    url = await primary.listening(30_000);
    await until('two workers listening', async () => (primary.logLines().filter((l) => l.msg?.includes('listening on')).length >= 2 ? true : undefined), 30_000);
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    for (const proc of started) if (proc.alive) killGroup(proc.child);
    await Promise.all([...started].map((p) => p.exited));
  });

  it('runs two worker processes that both answer on the one port, and /metrics adds up all of them', async () => {
    const pid = primary.child.pid as number;
    const listening = primary.logLines().filter((l) => l.msg?.includes('listening on'));
    expect(new Set(listening.map((l) => l.worker)).size).toBe(2);
    expect(new Set(listening.map((l) => l.url))).toEqual(new Set([url]));
    expect(childPids(pid)).toHaveLength(2);

    const answers = await Promise.all(
      Array.from({ length: 40 }, () => data<{ viewer: { subject: string } }>(url, 'query ClusterProbe { viewer { subject } }', {}, provider)),
    );
    expect(answers.every((a) => a.viewer.subject === 'cluster-provider')).toBe(true);

    // Each scrape lands on some worker; whichever it is, it reports the whole instance's 40 operations.
    for (let i = 0; i < 4; i++) {
      const res = await fetch(url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}`, connection: 'close' } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(sample(text, 'slm_graphql_operation_duration_seconds_count', { operation: 'ClusterProbe' })).toBe(40);
    }
  });

  it('delivers an alert to a subscriber on one worker raised by mutations that reach the other', async () => {
    const created = await data<{ createTenant: { id: string } }>(
      url,
      'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
      { input: { name: 'Cluster tenant', slug: 'cluster-tenant' } },
      provider,
    );
    const uuid = Buffer.from(created.createTenant.id, 'base64url').toString('utf8').split(':')[1];
    const admin = signTestToken({ sub: 'cluster-admin', role: 'TENANT_ADMIN', tenantId: uuid });
    const registered = await data<{ registerDevices: { devices: { id: string }[] } }>(url, REGISTER_DEVICES, { input: { devices: [deviceInput(1)] } }, admin);
    const device = registered.registerDevices.devices[0].id;

    const events: { kind: string; active: boolean }[] = [];
    const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin}` }, retryAttempts: 0 });
    clients.push(client);
    client.subscribe<{ licenseAlerts: { kind: string; active: boolean } }>(
      { query: 'subscription { licenseAlerts { kind active } }' },
      { next: (r) => r.data && events.push(r.data.licenseAlerts), error: () => undefined, complete: () => undefined },
    );
    const raised = (): boolean => events.some((e) => e.kind === 'UNRECONCILED_ASSIGNMENTS' && e.active);
    // Each mutation on a connection of its own: over the attempts both workers raise and clear the alert.
    for (let attempt = 0; attempt < 8 && !raised(); attempt++) {
      if (attempt % 2 === 0) {
        await data(url, 'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { pending } }', { input: { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' } }, admin);
      } else {
        await data(url, 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }', { input: { deviceIds: [device] } }, admin);
      }
      const deadline = Date.now() + 2_000;
      while (!raised() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
    expect(raised()).toBe(true);
  });

  it('replaces a worker that dies, and serves throughout', async () => {
    const pid = primary.child.pid as number;
    const [victim, survivor] = childPids(pid);
    process.kill(victim, 'SIGKILL');
    // Once the primary has seen the death, every connection goes to a live worker.
    await until('the primary noticing', async () => (primary.logLines().some((l) => l.msg === 'worker exited; starting a new one') ? true : undefined), 10_000);
    const answers = await Promise.all(Array.from({ length: 6 }, () => data<{ viewer: { subject: string } }>(url, '{ viewer { subject } }', {}, provider)));
    expect(answers.map((a) => a.viewer.subject)).toEqual(Array(6).fill('cluster-provider'));
    const replaced = await until(
      'a replacement worker',
      async () => {
        const now = childPids(pid);
        return now.length === 2 && !now.includes(victim) && now.includes(survivor) ? now : undefined;
      },
      20_000,
    );
    expect(replaced).toHaveLength(2);
    expect(primary.logLines().some((l) => l.msg === 'worker exited; starting a new one' && l.signal === 'SIGKILL')).toBe(true);
  });

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const pid = primary.child.pid as number;
    const workers = childPids(pid);
    expect(workers).toHaveLength(2);
    primary.child.kill('SIGTERM');
    expect(await primary.exited).toEqual({ code: 0, signal: null });
    for (const w of workers) expect(() => process.kill(w, 0)).toThrow();
  });
});
