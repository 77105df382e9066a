import 'reflect-metadata';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { Role } from '../src/auth/roles';
import { startBenchServer, writeResult } from './support';

/**
 * Commit-to-delivery delay of alert events with many open subscriptions on one instance
 * (`npm run bench:alerts [-- --subscribers 1000 --events 30]`). Each event is an alert update
 * announced with pg_notify in a transaction; the clock starts when COMMIT is sent and stops when
 * a subscriber's graphql-ws client receives the event (after the server loaded the row through
 * that subscriber's tenant rules).
 */
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const subscribers = arg('subscribers', 1000);
  const events = arg('events', 30);
  const bench = await startBenchServer({ SCHEDULER_ENABLED: 'false' });
  const { db, server } = bench;
  const provider = bench.token(Role.PROVIDER_ADMIN);
  const gql = <T>(query: string, variables: Record<string, unknown>): Promise<T> => bench.gql<T>(query, variables, provider);

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
  const tenantToken = bench.token(Role.TENANT_OPERATOR, alert.tenant_id);

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
  writeResult('alerts-fanout', { note: 'same process serves the subscribers; delay from COMMIT sent to event received', ...result });

  for (const c of clients) await c.dispose();
  await owner.end();
  await bench.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
