import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config';
import { createTenant, deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';

const run = promisify(execFile);
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

/** promtool comes with Debian's `prometheus` package; .ci/run installs it (see README, Metrics). */
async function promtool(args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run('promtool', args);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('promtool is not installed: apt-get install -y --no-install-recommends prometheus (Debian), or run .ci/run which does');
    }
    throw err;
  }
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { METRICS_TOKEN, METRICS_PORT: '0', COST_LIMITS: 'on' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('refuses GET /metrics on the main port without the token (401) and serves it with the token (200)', async () => {
    const none = await fetch(`${server.origin}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('serves /metrics alone on the METRICS_PORT listener, bound to 127.0.0.1', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(server.metricsUrl as string);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('slm_graphql_operation_duration_seconds');
    expect((await fetch(new URL('/graphql', server.metricsUrl)).catch(() => undefined))?.status).toBe(404);
  });

  it('passes promtool check metrics', async () => {
    await server.graphql('query Viewer { viewer { role } }', {}, server.token('PROVIDER_ADMIN'));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'slm-metrics-'));
    try {
      const file = path.join(dir, 'metrics.txt');
      await writeFile(file, await scrape());
      // promtool reads the exposition from stdin; a lint problem is printed and exits non-zero.
      const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < "${file}"`]).catch(async (err: { stdout?: string; stderr?: string; code?: number }) => {
        await promtool(['--version']); // says how to install it when that is what is wrong
        throw new Error(`promtool check metrics failed (${err.code}): ${err.stdout ?? ''}${err.stderr ?? ''}`);
      });
      expect(`${stdout}${stderr}`.trim()).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('counts an operation by name and type, and an error by its code', async () => {
    const before = await scrape();
    const token = server.token('PROVIDER_ADMIN');
    await server.graphql('query MetricsProbe { viewer { role } }', {}, token);
    const failed = await server.graphql('query MetricsMissing { tenant(id: "not-an-id") { id } }', {}, token);
    expect(failed.body.errors?.length).toBe(1);
    const code = failed.body.errors?.[0]?.extensions?.code ?? 'none';
    await server.graphql('{ viewer { role } }', {}, token);
    const after = await scrape();
    const count = (text: string, labels: Record<string, string>): number => sample(text, 'slm_graphql_operation_duration_seconds_count', labels) ?? 0;
    expect(count(after, { operation: 'MetricsProbe', type: 'query', transport: 'http' })).toBe(count(before, { operation: 'MetricsProbe', type: 'query', transport: 'http' }) + 1);
    expect(count(after, { operation: 'anonymous', type: 'query' })).toBeGreaterThan(count(before, { operation: 'anonymous', type: 'query' }));
    expect(sample(after, 'slm_graphql_errors_total', { code })).toBe((sample(before, 'slm_graphql_errors_total', { code }) ?? 0) + 1);
    const invalid = await server.graphql('query Broken { nope }', {}, token);
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(sample(await scrape(), 'slm_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED', transport: 'http' })).toBeGreaterThanOrEqual(1);
  });

  it('collapses operation names past the cap into "other"', async () => {
    const token = server.token('PROVIDER_ADMIN');
    for (let i = 0; i < 110; i += 1) await server.graphql(`query Flood${i} { viewer { role } }`, {}, token);
    const text = await scrape();
    const names = new Set([...text.matchAll(/slm_graphql_operation_duration_seconds_count\{[^}]*operation="([^"]+)"/g)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(100 + 3);
    expect(names.has('other')).toBe(true);
  });

  it('exports pool, websocket, heavy-lane, alert, sync-run and process metrics, and no tenant id or slug after tenant activity', async () => {
    const tenant = await createTenant(server, 'metrics-acme-tenant', 'Metrics Acme Corporation');
    await registerDevices(server, server.token('TENANT_ADMIN', tenant.uuid), [deviceInput(1), deviceInput(2)]);
    await server.sql(`insert into sync_run (tenant_id, mode, trigger, status, requested_by, finished_at) values ($1, 'ONLINE', 'MANUAL', 'FAILED', 'test', now())`, [tenant.uuid]);
    await server.sql(
      `insert into alert (tenant_id, kind, severity, subject_type, subject_id, message, raised_at, updated_at)
       values ($1, 'SYNC_FAILED', 'CRITICAL', 'tenant', '', 'sync failed', now(), now())`,
      [tenant.uuid],
    );
    await server.graphql('query TenantDevices { devices(first: 5) { totalCount } }', {}, server.token('TENANT_ADMIN', tenant.uuid));
    const text = await scrape();
    for (const name of [
      'slm_db_pool_connections_in_use',
      'slm_db_pool_waiting',
      'slm_websocket_connections',
      'slm_alert_subscriptions',
      'slm_heavy_lane_running',
      'slm_heavy_lane_waiting',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(sample(text, name)).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, 'slm_alerts_active', { kind: 'SYNC_FAILED' })).toBe(1);
    expect(sample(text, 'slm_sync_runs_total', { mode: 'ONLINE', status: 'FAILED' })).toBe(1);
    for (const secret of [tenant.uuid, tenant.id, tenant.slug, 'Metrics Acme']) expect(text).not.toContain(secret);
  });
});

describe('metrics configuration', () => {
  const base = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: '5'.repeat(64), DATABASE_URL: 'postgres://u@h/db' };

  it('answers /metrics with 404 in production without METRICS_TOKEN or METRICS_PORT', () => {
    expect(loadConfig(base).metrics.mainPort).toBe('off');
    expect(loadConfig({ ...base, METRICS_PORT: '9464' }).metrics).toEqual({ mainPort: 'off', port: 9464, token: undefined });
    expect(loadConfig({ ...base, METRICS_TOKEN }).metrics.mainPort).toBe('token');
    expect(loadConfig({ NODE_ENV: 'development' }).metrics.mainPort).toBe('open');
  });

  it('refuses a short METRICS_TOKEN and a METRICS_PORT equal to PORT, naming the variable', () => {
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ ...base, PORT: '4000', METRICS_PORT: '4000' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ ...base, METRICS_PORT: 'abc' })).toThrow(/METRICS_PORT/);
  });

  it('answers /metrics with 404 on a production server without either', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      expect((await fetch(`${server.origin}/metrics`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
