import WebSocket from 'ws';
import { startScheduler, type Scheduler } from '../src/jobs/scheduler';
import { createLogger } from '../src/logger';
import {
  addDevices,
  addLines,
  assign,
  createAccountTenant,
  dnaTag,
  gqlData,
  gqlError,
  HSEC_TAG,
  type AccountTenant,
} from './support/assignment-fixtures';
import { createTenant, deviceInput, REGISTER_DEVICES } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/processes';
import { runtimeFor, SCHEDULER_SECRETS_KEY } from './support/sync-fixtures';
import { NEVER_CRON } from './support/alert-fixtures';

const TENANT_FIELDS = 'id name slug status suspendedAt';
const UPDATE = `mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { ${TENANT_FIELDS} } }`;
const SUSPEND = `mutation($input: TenantIdInput!) { suspendTenant(input: $input) { ${TENANT_FIELDS} } }`;
const RESUME = `mutation($input: TenantIdInput!) { resumeTenant(input: $input) { ${TENANT_FIELDS} } }`;
const DELETE = `mutation($input: DeleteTenantInput!) {
  deleteTenant(input: $input) { id uuid slug name removedTotal unreportedDevices auditEventId removed { table rows } }
}`;
const DEVICES = 'query($tenantId: ID) { devices(tenantId: $tenantId, first: 100) { totalCount } }';
const AUDIT = `query($tenantId: ID) {
  auditEvents(tenantId: $tenantId, first: 100) { edges { node { id action actorSubject targetType details } } }
}`;
const CONFIGURE = 'mutation($input: ConfigureSmartAccountInput!) { configureSmartAccount(input: $input) { id } }';

interface TenantView {
  id: string;
  name: string;
  slug: string;
  status: 'ACTIVE' | 'SUSPENDED';
  suspendedAt: string | null;
}

interface DeletePayload {
  id: string;
  uuid: string;
  slug: string;
  name: string;
  removedTotal: number;
  unreportedDevices: number;
  auditEventId: string;
  removed: { table: string; rows: number }[];
}

interface AuditView {
  id: string;
  action: string;
  actorSubject: string;
  targetType: string;
  details: Record<string, unknown>;
}

const provider = (server: TestServer, sub = 'provider-admin'): string => server.token('PROVIDER_ADMIN', undefined, { sub });

async function suspend(server: TestServer, tenant: { id: string }): Promise<TenantView> {
  return (await gqlData<{ suspendTenant: TenantView }>(server, SUSPEND, { input: { id: tenant.id } }, provider(server))).suspendTenant;
}

async function resume(server: TestServer, tenant: { id: string }): Promise<TenantView> {
  return (await gqlData<{ resumeTenant: TenantView }>(server, RESUME, { input: { id: tenant.id } }, provider(server))).resumeTenant;
}

async function auditOf(server: TestServer, tenantId?: string): Promise<AuditView[]> {
  const data = await gqlData<{ auditEvents: { edges: { node: AuditView }[] } }>(server, AUDIT, { tenantId }, provider(server));
  return data.auditEvents.edges.map((e) => e.node);
}

/** Every table of the public schema with a tenant_id column, read from the catalog (what "tenant-owned" means). */
async function tenantOwnedTables(server: TestServer): Promise<string[]> {
  const rows = await server.sql<{ table_name: string }>(
    `select c.table_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
      where c.table_schema = 'public' and c.column_name = 'tenant_id' order by 1`,
  );
  return rows.map((r) => r.table_name);
}

async function rowsPerTable(server: TestServer, tables: string[], tenantUuid: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [{ n }] = await server.sql<{ n: number }>(`select count(*)::int as n from "${table}" where tenant_id = $1`, [tenantUuid]);
    counts[table] = n;
  }
  return counts;
}

// ---- a raw graphql-transport-ws socket ----------------------------------------------------------

interface Closed {
  code: number;
  reason: string;
}

class Socket {
  readonly closed: Promise<Closed>;
  readonly messages: { type: string; id?: string; payload?: unknown }[] = [];
  private readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url, 'graphql-transport-ws');
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as { type: string }));
    this.ws.on('error', () => undefined);
  }

  static async connect(server: TestServer, token: string): Promise<Socket> {
    const socket = new Socket(server.url.replace(/^http/, 'ws'));
    await new Promise<void>((resolve, reject) => {
      socket.ws.once('open', () => resolve());
      socket.ws.once('error', reject);
    });
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    return socket;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  async acked(): Promise<boolean> {
    return until('connection_ack or close', async () => {
      if (this.messages.some((m) => m.type === 'connection_ack')) return true;
      if (this.ws.readyState === WebSocket.CLOSED) return false;
      return undefined;
    }, 5000, 10);
  }

  subscribe(id: string): void {
    this.send({ id, type: 'subscribe', payload: { query: 'subscription { licenseAlerts { id kind } }' } });
  }

  terminate(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

// ---- the suites ---------------------------------------------------------------------------------

describe('tenant lifecycle: rename, suspend, resume', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.terminate();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lets a provider admin rename a tenant, keeps the slug, and audits the change', async () => {
    const tenant = await createTenant(server, 'renamed', 'Old Name');
    const { updateTenant } = await gqlData<{ updateTenant: TenantView }>(server, UPDATE, { input: { id: tenant.id, name: '  New Name ' } }, provider(server));
    expect(updateTenant).toMatchObject({ id: tenant.id, name: 'New Name', slug: 'renamed', status: 'ACTIVE', suspendedAt: null });
    expect(await server.sql('select name, slug from tenant where id = $1', [tenant.uuid])).toEqual([{ name: 'New Name', slug: 'renamed' }]);
    const [event] = await auditOf(server, tenant.id);
    expect(event).toMatchObject({ action: 'tenants.renamed', actorSubject: 'provider-admin', targetType: 'Tenant', details: { from: 'Old Name', to: 'New Name' } });
  });

  it('refuses an empty or overlong name with BAD_USER_INPUT and changes nothing', async () => {
    const tenant = await createTenant(server, 'badname', 'Kept');
    for (const name of ['  ', 'n'.repeat(201)]) {
      const err = await gqlError(server, UPDATE, { input: { id: tenant.id, name } }, provider(server));
      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.extensions?.field).toBe('name');
    }
    expect(await server.sql('select name from tenant where id = $1', [tenant.uuid])).toEqual([{ name: 'Kept' }]);
  });

  it.each([
    ['updateTenant', UPDATE, { name: 'X' }],
    ['suspendTenant', SUSPEND, {}],
    ['resumeTenant', RESUME, {}],
    ['deleteTenant', DELETE, { confirmSlug: 'x' }],
  ])('answers %s for an unknown tenant with NOT_FOUND and for a malformed id with BAD_USER_INPUT', async (_name, mutation, extra) => {
    const missing = Buffer.from('Tenant:00000000-0000-4000-8000-000000000001').toString('base64url');
    const notFound = await gqlError(server, mutation, { input: { id: missing, ...extra } }, provider(server));
    expect(notFound.extensions?.code).toBe('NOT_FOUND');
    expect(notFound.message).toContain(missing);
    const device = Buffer.from('Device:00000000-0000-4000-8000-000000000001').toString('base64url');
    for (const id of ['not-an-id', device]) {
      const bad = await gqlError(server, mutation, { input: { id, ...extra } }, provider(server));
      expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'id' });
    }
  });

  it.each([['PROVIDER_OPERATOR'], ['TENANT_ADMIN'], ['TENANT_OPERATOR']] as const)(
    'answers FORBIDDEN when %s calls updateTenant, suspendTenant, resumeTenant or deleteTenant, and changes nothing',
    async (role) => {
      const tenant = await createTenant(server, `forbid-${role.toLowerCase().replace('_', '-')}`, 'Unchanged');
      const token = role.startsWith('TENANT') ? server.token(role, tenant.uuid) : server.token(role);
      const calls: [string, Record<string, unknown>][] = [
        [UPDATE, { id: tenant.id, name: 'Changed' }],
        [SUSPEND, { id: tenant.id }],
        [RESUME, { id: tenant.id }],
        [DELETE, { id: tenant.id, confirmSlug: tenant.slug, force: true }],
      ];
      for (const [mutation, input] of calls) {
        const err = await gqlError(server, mutation, { input }, token);
        expect(err.extensions?.code).toBe('FORBIDDEN');
      }
      expect(await server.sql('select name, status from tenant where id = $1', [tenant.uuid])).toEqual([{ name: 'Unchanged', status: 'ACTIVE' }]);
    },
  );

  it("refuses a suspended tenant's users over HTTP with 403 TENANT_SUSPENDED, leaves other tenants alone, and lets a provider still manage it", async () => {
    const tenant = await createTenant(server, 'suspended-http');
    const other = await createTenant(server, 'still-active');
    await addDevicesAs(server, tenant, 2);
    const before = Date.now();

    const suspended = await suspend(server, tenant);
    expect(suspended.status).toBe('SUSPENDED');
    expect(Date.parse(suspended.suspendedAt as string)).toBeGreaterThanOrEqual(before - 1000);

    for (const role of ['TENANT_ADMIN', 'TENANT_OPERATOR'] as const) {
      const res = await server.graphql(DEVICES, {}, server.token(role, tenant.uuid));
      expect(res.status).toBe(403);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors?.[0].extensions?.code).toBe('TENANT_SUSPENDED');
      expect(res.body.errors?.[0].message).toMatch(/suspended.*until the provider resumes it/);
    }
    // Another tenant is not affected.
    const otherRes = await server.graphql<{ devices: { totalCount: number } }>(DEVICES, {}, server.token('TENANT_OPERATOR', other.uuid));
    expect(otherRes.status).toBe(200);
    expect(otherRes.body.data?.devices.totalCount).toBe(0);

    // Providers see it with its status, read its data and change it.
    const seen = await gqlData<{ tenant: TenantView }>(server, `query($id: ID!) { tenant(id: $id) { ${TENANT_FIELDS} } }`, { id: tenant.id }, server.token('PROVIDER_OPERATOR'));
    expect(seen.tenant).toMatchObject({ status: 'SUSPENDED', suspendedAt: suspended.suspendedAt });
    const devices = await gqlData<{ devices: { totalCount: number } }>(server, DEVICES, { tenantId: tenant.id }, server.token('PROVIDER_OPERATOR'));
    expect(devices.devices.totalCount).toBe(2);
    await gqlData(server, REGISTER_DEVICES, { input: { tenantId: tenant.id, devices: [deviceInput(3)] } }, provider(server));
    await gqlData(server, UPDATE, { input: { id: tenant.id, name: 'Renamed while suspended' } }, provider(server));

    // Suspending again changes nothing.
    expect((await suspend(server, tenant)).suspendedAt).toBe(suspended.suspendedAt);

    const resumed = await resume(server, tenant);
    expect(resumed).toMatchObject({ status: 'ACTIVE', suspendedAt: null });
    const back = await server.graphql<{ devices: { totalCount: number } }>(DEVICES, {}, server.token('TENANT_OPERATOR', tenant.uuid));
    expect(back.status).toBe(200);
    expect(back.body.data?.devices.totalCount).toBe(3);

    const actions = (await auditOf(server, tenant.id)).map((e) => e.action);
    expect(actions.filter((a) => a === 'tenants.suspended' || a === 'tenants.resumed')).toEqual(['tenants.resumed', 'tenants.suspended']);
  });

  it('refuses the tenant in the database from the commit on, even before this instance has heard of the suspension', async () => {
    const tenant = await createTenant(server, 'suspended-in-db');
    // Suspended behind the application's back: no notification reaches the instance's list.
    await server.sql("update tenant set status = 'SUSPENDED', suspended_at = now() where id = $1", [tenant.uuid]);
    expect(server.runtime.tenantStatus.isSuspended(tenant.uuid)).toBe(false);
    const res = await server.graphql(DEVICES, {}, server.token('TENANT_OPERATOR', tenant.uuid));
    expect(res.body.errors?.[0].extensions?.code).toBe('TENANT_SUSPENDED');
    expect(res.body.data?.devices ?? null).toBeNull();
    const write = await server.graphql(REGISTER_DEVICES, { input: { devices: [deviceInput(1)] } }, server.token('TENANT_ADMIN', tenant.uuid));
    expect(write.body.errors?.[0].extensions?.code).toBe('TENANT_SUSPENDED');
    expect(await server.sql('select count(*)::int as n from device where tenant_id = $1', [tenant.uuid])).toEqual([{ n: 0 }]);
  });

  it('refuses a suspended tenant at WebSocket connect, closes its open subscriptions at once, and lets it back in after resume', async () => {
    const tenant = await createTenant(server, 'suspended-ws');
    const other = await createTenant(server, 'other-ws');
    const open = await Socket.connect(server, server.token('TENANT_OPERATOR', tenant.uuid));
    const bystander = await Socket.connect(server, server.token('TENANT_OPERATOR', other.uuid));
    sockets.push(open, bystander);
    expect(await open.acked()).toBe(true);
    expect(await bystander.acked()).toBe(true);
    open.subscribe('alerts');
    bystander.subscribe('alerts');
    await until('both subscriptions registered', async () => (server.stats().alerts.subscribers === 2 ? true : undefined), 5000, 10);

    const t0 = Date.now();
    await suspend(server, tenant);
    const closed = await open.closed;
    expect(closed).toEqual({ code: 4403, reason: 'TENANT_SUSPENDED: the tenant is suspended by the service provider' });
    expect(Date.now() - t0).toBeLessThan(2000);
    // The other tenant's subscription stays open.
    await until('the suspended subscriber is gone', async () => (server.stats().alerts.subscribers === 1 ? true : undefined), 5000, 10);

    const refused = await Socket.connect(server, server.token('TENANT_ADMIN', tenant.uuid));
    sockets.push(refused);
    expect(await refused.acked()).toBe(false);
    expect(await refused.closed).toEqual({ code: 4403, reason: 'TENANT_SUSPENDED: the tenant is suspended by the service provider' });

    await resume(server, tenant);
    const again = await Socket.connect(server, server.token('TENANT_OPERATOR', tenant.uuid));
    sockets.push(again);
    expect(await again.acked()).toBe(true);
    again.subscribe('alerts-2');
    await until('the resumed subscription registered', async () => (server.stats().alerts.subscribers === 2 ? true : undefined), 5000, 10);
  });
});

async function addDevicesAs(server: TestServer, tenant: { id: string }, count: number): Promise<void> {
  const devices = Array.from({ length: count }, (_, i) => deviceInput(i + 1));
  await gqlData(server, REGISTER_DEVICES, { input: { tenantId: tenant.id, devices } }, provider(server));
}

describe('scheduled syncs of a suspended tenant', () => {
  const env = { SECRETS_KEY: SCHEDULER_SECRETS_KEY };
  let server: TestServer;
  let scheduler: Scheduler | undefined;
  beforeAll(async () => {
    server = await startTestServer({ env });
  });
  afterAll(async () => {
    await scheduler?.stop();
    await server?.close();
  });

  it('pauses while the tenant is suspended and resumes with it', async () => {
    // ONLINE against a port nothing listens on: only which tenants the tick enqueues matters here.
    await gqlData(
      server,
      'mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { mode } }',
      { input: { mode: 'ONLINE', serverUrl: 'http://127.0.0.1:9', clientId: 'id', clientSecret: 'secret' } },
      provider(server),
    );
    const active = await createAccountTenant(server, 'sched-active');
    const paused = await createAccountTenant(server, 'sched-paused');
    await suspend(server, paused);
    scheduler = await startScheduler({ db: server.db, runtime: runtimeFor(server, env), log: createLogger('silent'), cron: NEVER_CRON });

    expect(await scheduler.tick()).toBe(1);
    const jobs = await server.sql<{ tenant_id: string }>("select data->>'tenantId' as tenant_id from pgboss.job where name = 'license-sync'");
    expect(jobs.map((j) => j.tenant_id)).toEqual([active.uuid]);
    await until('the active tenant\'s scheduled run finished', async () => {
      const runs = await server.sql<{ tenant_id: string; status: string }>('select tenant_id, status from sync_run');
      return runs.length === 1 && runs[0].status !== 'RUNNING' ? runs : undefined;
    }, 20_000);
    expect(await server.sql('select count(*)::int as n from sync_run where tenant_id = $1', [paused.uuid])).toEqual([{ n: 0 }]);

    // A sync job queued before the suspension (arranged as pg-boss stores one) is skipped when it runs.
    const [queued] = await server.sql<{ id: string }>(
      "insert into pgboss.job (name, data, singleton_key) values ('license-sync', jsonb_build_object('tenantId', $1::text), $1::text) returning id",
      [paused.uuid],
    );
    const state = await until('the queued job of the suspended tenant has run', async () => {
      const [job] = await server.sql<{ state: string }>('select state from pgboss.job where id = $1', [queued.id]);
      return job?.state === 'completed' || job?.state === 'failed' ? job.state : undefined;
    }, 20_000);
    expect(state).toBe('completed');
    expect(await server.sql('select count(*)::int as n from sync_run where tenant_id = $1', [paused.uuid])).toEqual([{ n: 0 }]);

    await resume(server, paused);
    await server.sql('update smart_account set last_synced_at = now() where tenant_id = $1', [active.uuid]);
    expect(await scheduler.tick()).toBe(1);
    const [latest] = await server.sql<{ tenant_id: string }>(
      "select data->>'tenantId' as tenant_id from pgboss.job where name = 'license-sync' order by created_on desc limit 1",
    );
    expect(latest.tenant_id).toBe(paused.uuid);
  });
});

describe('deleteTenant', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A tenant with rows in as many tenant-owned tables as the API can fill. */
  async function populatedTenant(slug: string): Promise<{ tenant: AccountTenant; devices: string[] }> {
    const tenant = await createAccountTenant(server, slug, [{ externalId: 'SPARE', name: 'Spare', managed: false }]);
    await addLines(server, tenant, [
      { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
      { tag: dnaTag('E', 'T0'), billingType: 'POSTPAID', quantity: 0 },
      { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 5 },
    ]);
    const devices = await addDevices(server, tenant, 4);
    await assign(server, tenant.admin, { deviceIds: devices.slice(0, 3), level: 'ADVANTAGE', tier: 'T1', billingType: 'PREPAID', idempotencyKey: `${slug}-1` });
    await assign(server, tenant.admin, { deviceIds: devices.slice(0, 2), hsec: true, idempotencyKey: `${slug}-2` });
    // A replacement leaves a released assignment in the history.
    await assign(server, tenant.admin, { deviceIds: [devices[0]], level: 'ESSENTIALS', tier: 'T0', billingType: 'POSTPAID' });
    // An offline usage report, stored in chunks.
    await gqlData(server, 'mutation($input: GenerateUsageReportInput!) { generateUsageReport(input: $input) { id } }', { input: {} }, tenant.admin);
    // A sync run (as an earlier sync would have left it), arranged directly.
    await server.sql(
      `insert into sync_run (tenant_id, mode, trigger, status, requested_by, finished_at) values ($1, 'ONLINE', 'MANUAL', 'SUCCEEDED', 'x', now())`,
      [tenant.uuid],
    );
    return { tenant, devices };
  }

  /** Marks every usage report of the tenant acknowledged up to now, as the license server's ACK would. */
  async function acknowledgeEverything(tenant: AccountTenant): Promise<void> {
    await server.sql(
      `update usage_report set status = 'ACKNOWLEDGED', ack_id = 'ACK-' || id, acknowledged_at = now(), period_end = now() + interval '1 second'
        where tenant_id = $1`,
      [tenant.uuid],
    );
  }

  it('refuses an ACTIVE tenant with CONFLICT and a wrong confirmSlug with BAD_USER_INPUT, and deletes nothing', async () => {
    const tenant = await createTenant(server, 'not-suspended');
    const active = await gqlError(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug, force: true } }, provider(server));
    expect(active.extensions).toMatchObject({ code: 'CONFLICT', reason: 'TENANT_NOT_SUSPENDED' });
    expect(active.message).toContain('suspend it');
    await suspend(server, tenant);
    const wrong = await gqlError(server, DELETE, { input: { id: tenant.id, confirmSlug: 'not-suspended-x', force: true } }, provider(server));
    expect(wrong.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'confirmSlug' });
    expect(wrong.message).toContain('"not-suspended"');
    expect(await server.sql('select count(*)::int as n from tenant where id = $1', [tenant.uuid])).toEqual([{ n: 1 }]);
  });

  it('refuses while usage is unreported unless force is given', async () => {
    const { tenant } = await populatedTenant('unreported');
    await suspend(server, tenant);
    const err = await gqlError(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug } }, provider(server));
    // Three devices hold or held licenses, and no report of them was ever acknowledged.
    expect(err.extensions).toMatchObject({ code: 'CONFLICT', reason: 'UNREPORTED_USAGE', unreportedDevices: 3, reportedUntil: null });
    expect(err.message).toContain('force: true');
    expect(await server.sql('select count(*)::int as n from device where tenant_id = $1', [tenant.uuid])).toEqual([{ n: 4 }]);

    // Once every change is covered by an acknowledged report, it may go without force ...
    await acknowledgeEverything(tenant);
    // ... but not after a later change: that usage is unreported again.
    await server.sql(
      `update assignment set released_at = now() + interval '2 seconds', released_by = 'x'
        where id = (select id from assignment where tenant_id = $1 and released_at is null limit 1)`,
      [tenant.uuid],
    );
    const again = await gqlError(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug } }, provider(server));
    expect(again.extensions).toMatchObject({ code: 'CONFLICT', reason: 'UNREPORTED_USAGE', unreportedDevices: 1 });
    expect(again.extensions?.reportedUntil).toEqual(expect.any(String));

    const forced = await gqlData<{ deleteTenant: DeletePayload }>(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug, force: true } }, provider(server));
    expect(forced.deleteTenant.unreportedDevices).toBe(1);
    expect(await server.sql('select count(*)::int as n from tenant where id = $1', [tenant.uuid])).toEqual([{ n: 0 }]);
  });

  it('removes every row of the tenant from every tenant-owned table in the catalog, touches no other tenant, and records it in a surviving audit event', async () => {
    const tables = await tenantOwnedTables(server);
    const { tenant } = await populatedTenant('doomed');
    const { tenant: neighbour } = await populatedTenant('neighbour');
    await suspend(server, tenant);
    await suspend(server, neighbour);
    await acknowledgeEverything(tenant);

    const before = await rowsPerTable(server, tables, tenant.uuid);
    const populated = Object.entries(before).filter(([, n]) => n > 0).map(([t]) => t);
    // What the API could fill: every tenant-owned table of today's schema.
    expect(populated).toEqual(
      expect.arrayContaining(['alert', 'assignment', 'audit_event', 'device', 'idempotency_key', 'license', 'smart_account',
        'sync_run', 'usage_report', 'usage_report_chunk', 'virtual_account']),
    );
    const neighbourBefore = await rowsPerTable(server, tables, neighbour.uuid);

    const { deleteTenant } = await gqlData<{ deleteTenant: DeletePayload }>(
      server, DELETE, { input: { id: tenant.id, confirmSlug: 'doomed' } }, provider(server, 'admin-who-deleted'),
    );

    expect(await rowsPerTable(server, tables, tenant.uuid)).toEqual(Object.fromEntries(tables.map((t) => [t, 0])));
    expect(await server.sql('select count(*)::int as n from tenant where id = $1', [tenant.uuid])).toEqual([{ n: 0 }]);
    expect(await rowsPerTable(server, tables, neighbour.uuid)).toEqual(neighbourBefore);

    const expectedRemoved = Object.entries(before).filter(([, n]) => n > 0).map(([table, rows]) => ({ table, rows }));
    expect(deleteTenant).toMatchObject({ id: tenant.id, uuid: tenant.uuid, slug: 'doomed', name: 'Tenant doomed', unreportedDevices: 0 });
    expect(deleteTenant.removed).toEqual(expectedRemoved);
    expect(deleteTenant.removedTotal).toBe(expectedRemoved.reduce((n, r) => n + r.rows, 0) + 1);

    // The provider-level audit event outlives the tenant: who, which tenant, what was removed.
    const event = (await auditOf(server)).find((e) => e.id === deleteTenant.auditEventId);
    expect(event).toMatchObject({
      action: 'tenants.deleted',
      actorSubject: 'admin-who-deleted',
      targetType: 'Tenant',
      details: { tenantId: tenant.id, uuid: tenant.uuid, slug: 'doomed', name: 'Tenant doomed', forced: false, removedTotal: deleteTenant.removedTotal },
    });
    expect(event?.details.removed).toEqual(Object.fromEntries(expectedRemoved.map((r) => [r.table, r.rows])));
    // Tenant users never see provider-level events.
    await resume(server, neighbour);
    const own = await gqlData<{ auditEvents: { edges: { node: AuditView }[] } }>(server, AUDIT, {}, server.token('TENANT_ADMIN', neighbour.uuid));
    expect(own.auditEvents.edges.length).toBeGreaterThan(0);
    expect(own.auditEvents.edges.map((e) => e.node.action)).not.toContain('tenants.deleted');
  });

  it("frees the deleted tenant's smart account for another tenant", async () => {
    const { tenant } = await populatedTenant('sa-owner');
    const successor = await createTenant(server, 'sa-successor');
    const successorAdmin = server.token('TENANT_ADMIN', successor.uuid);
    const input = { domain: 'successor.example', name: 'Successor', accountId: `SA-${tenant.slug}`, virtualAccounts: [{ externalId: 'MAIN', name: 'Main' }] };
    const taken = await gqlError(server, CONFIGURE, { input }, successorAdmin);
    expect(taken.extensions?.code).toBe('CONFLICT');

    await suspend(server, tenant);
    await gqlData(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug, force: true } }, provider(server));

    await gqlData(server, CONFIGURE, { input }, successorAdmin);
    expect(await server.sql('select tenant_id from smart_account where external_id = $1', [`SA-${tenant.slug}`])).toEqual([{ tenant_id: successor.uuid }]);
  });

  it('also empties a tenant-owned table added after this code was written (the table list comes from the catalog)', async () => {
    await server.sql(`
      create table later_tenant_data (tenant_id uuid not null, id int not null, primary key (tenant_id, id));
      alter table later_tenant_data enable row level security;
      alter table later_tenant_data force row level security;
      create policy later_tenant_data_tenant_isolation on later_tenant_data
        using ((select app_is_provider()) or tenant_id = (select app_tenant_id()))
        with check ((select app_is_provider()) or tenant_id = (select app_tenant_id()));
      grant select, insert, update, delete on later_tenant_data to slm_app;`);
    try {
      const tenant = await createTenant(server, 'later-table');
      const keep = await createTenant(server, 'later-table-keep');
      await server.sql('insert into later_tenant_data values ($1, 1), ($1, 2), ($2, 1)', [tenant.uuid, keep.uuid]);
      await suspend(server, tenant);
      const { deleteTenant } = await gqlData<{ deleteTenant: DeletePayload }>(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug } }, provider(server));
      expect(deleteTenant.removed).toEqual(expect.arrayContaining([{ table: 'later_tenant_data', rows: 2 }]));
      expect(await server.sql('select tenant_id from later_tenant_data')).toEqual([{ tenant_id: keep.uuid }]);
    } finally {
      await server.sql('drop table later_tenant_data');
    }
  });

  it("leaves the deleted tenant's users nothing to see, and no instance keeps it in its suspended list", async () => {
    const tenant = await createTenant(server, 'gone');
    await addDevicesAs(server, tenant, 1);
    await suspend(server, tenant);
    await gqlData(server, DELETE, { input: { id: tenant.id, confirmSlug: tenant.slug, force: true } }, provider(server));
    expect(server.runtime.tenantStatus.isSuspended(tenant.uuid)).toBe(false);
    const res = await server.graphql<{ devices: { totalCount: number } }>(DEVICES, {}, server.token('TENANT_OPERATOR', tenant.uuid));
    expect(res.status).toBe(200);
    expect(res.body.data?.devices.totalCount).toBe(0);
    const tenantQuery = await server.graphql<{ tenant: TenantView | null }>(`query($id: ID!) { tenant(id: $id) { id } }`, { id: tenant.id }, provider(server));
    expect(tenantQuery.body.data?.tenant).toBeNull();
  });
});
