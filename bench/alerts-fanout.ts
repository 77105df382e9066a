import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/jwt';
import { Role } from '../src/auth/roles';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server/app';

/**
 * Commit-to-delivery delay of alert events with many open subscriptions on one instance
 * (`npm run bench:alerts [-- --subscribers 1000 --events 30]`). Each event is an alert update
 * announced with pg_notify in a transaction; the clock starts when COMMIT is sent and stops when
 * a subscriber's graphql-ws client receives the event (after the server loaded the row through
 * that subscriber's tenant rules).
 */
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const subscribers = arg('subscribers', 1000);
  const events = arg('events', 30);
  const log = createLogger('warn');
  const base = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JWT_SECRET: SECRET, RATE_LIMIT_SUBJECT_PER_MINUTE: '0', RATE_LIMIT_TENANT_PER_MINUTE: '0', SCHEDULER_ENABLED: 'false' });
  let config = base;
  if (base.databaseUrl) {
    const admin = new pg.Client({ connectionString: base.databaseUrl });
    await admin.connect();
    const scratch = `slm_bench_${Date.now()}`;
    await admin.query(`create database ${scratch}`);
    await admin.end();
    const url = new URL(base.databaseUrl);
    url.pathname = `/${scratch}`;
    config = { ...base, databaseUrl: url.toString() };
  }
  const db = await openDatabase(config, log);
  const server = await startServer({ config, log, db });
  const key = { kind: 'secret' as const, algorithms: ['HS256'] as ['HS256'], secret: SECRET, generated: false };
  const provider = mintToken({ key, subject: 'bench', role: Role.PROVIDER_ADMIN, expiresInSec: 3600 });
  const gql = async <T>(query: string, variables: Record<string, unknown>, token = provider): Promise<T> => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  };

  // A trial tenant with one pending assignment has an open UNRECONCILED_ASSIGNMENTS alert.
  const { createTenant } = await gql<{ createTenant: { id: string } }>('mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }', {
    i: { name: 'Fanout', slug: `fanout-${Date.now()}` },
  });
  const { registerDevices } = await gql<{ registerDevices: { devices: { id: string }[] } }>(
    'mutation($i: RegisterDevicesInput!) { registerDevices(input: $i) { devices { id } } }',
    { i: { tenantId: createTenant.id, devices: [{ uuid: 'FAN-1', hostname: 'fan-1', model: 'C8000V', kind: 'IOS_XE_SDWAN', mode: 'CONTROLLER', softwareVersion: '17.9.3a' }] } },
  );
  await gql('mutation($i: AssignLicensesInput!) { assignLicenses(input: $i) { pending } }', {
    i: { tenantId: createTenant.id, deviceIds: [registerDevices.devices[0].id], level: 'ADVANTAGE', tier: 'T1' },
  });
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  await owner.connect();
  const [alert] = (await owner.query<{ id: string; tenant_id: string }>("select id, tenant_id from alert where kind = 'UNRECONCILED_ASSIGNMENTS'")).rows;
  const tenantToken = mintToken({ key, subject: 'bench-tenant', role: Role.TENANT_OPERATOR, tenantId: alert.tenant_id, expiresInSec: 3600 });

  const wsUrl = server.url.replace('http://localhost', 'ws://127.0.0.1');
  const received: number[][] = Array.from({ length: events }, () => []);
  let current = -1;
  let t0 = 0;
  const clients: Client[] = [];
  await Promise.all(
    Array.from({ length: subscribers }, async () => {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tenantToken}` }, lazy: false });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.subscribe({ query: 'subscription { licenseAlerts { id updatedAt } }' }, {
          next: () => {
            if (current >= 0) received[current].push(performance.now() - t0);
          },
          error: reject,
          complete: () => undefined,
        });
        client.on('connected', () => resolve());
      });
    }),
  );
  await new Promise((r) => setTimeout(r, 500)); // every subscribe message processed

  const rss: number[] = [];
  for (let e = 0; e < events; e++) {
    current = e;
    await owner.query('begin');
    await owner.query('update alert set updated_at = now() where id = $1', [alert.id]);
    await owner.query("select pg_notify('slm_alerts', $1)", [JSON.stringify({ id: alert.id, tenantId: alert.tenant_id })]);
    t0 = performance.now();
    await owner.query('commit');
    const deadline = Date.now() + 10_000;
    while (received[e].length < subscribers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    rss.push(process.memoryUsage().rss);
  }
  const all = received.flat().sort((a, b) => a - b);
  const pct = (p: number): number => Number(all[Math.min(all.length - 1, Math.floor((p / 100) * all.length))].toFixed(1));
  const result = {
    subscribers,
    events,
    deliveries: all.length,
    expected: subscribers * events,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: Number(all[all.length - 1].toFixed(1)),
    peakRssMb: Math.round(Math.max(...rss) / 1024 / 1024),
  };
  console.table([result]);
  const file = path.join(__dirname, '..', '..', 'bench', 'results', `alerts-fanout-${new Date().toISOString().slice(0, 10)}.json`);
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), note: 'same process serves the subscribers; delay from COMMIT sent to event received', ...result }, null, 2));

  for (const c of clients) await c.dispose();
  await owner.end();
  await server.close();
  await db.close();
  if (base.databaseUrl && config.databaseUrl) {
    const admin = new pg.Client({ connectionString: base.databaseUrl });
    await admin.connect();
    await admin.query(`drop database ${new URL(config.databaseUrl).pathname.slice(1)} with (force)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
