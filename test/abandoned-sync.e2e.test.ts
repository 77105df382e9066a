import pg from 'pg';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import { createTestDatabase, signTestToken } from './support/harness';
import { killGroup, MAIN, productionEnv, spawnNode, started, until, type Proc } from './support/processes';

/**
 * Regression for "a sync left RUNNING by a killed instance blocks that tenant's scheduled syncs"
 * (issue 11, section 4): instance A is killed with SIGKILL in the middle of a sync; the scheduler of
 * the instance that carries on syncs the tenant as soon as A's heartbeat is stale, and the run A left
 * is marked FAILED as abandoned. Real processes (dist/ is built before jest runs), one database.
 */

jest.setTimeout(90_000);

const HEARTBEAT_MS = 300;
const ABANDONED_AFTER_MS = 1500;

const SET_MODE = 'mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { mode } }';
const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }';
const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) {
  configureSmartAccount(input: $input) { id virtualAccounts { id externalId } }
}`;
const MANAGE = 'mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id managed } }';
const SYNC = 'mutation { synchronizeLicenses { id status } }';

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!res.ok || body.errors || !body.data) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

describe('a sync whose instance is killed mid-way', () => {
  let ownerUrl: string;
  let owner: pg.Pool;
  let sim: SimulatorHandle;
  const provider = signTestToken({ sub: 'abandoned-provider', role: 'PROVIDER_ADMIN' });

  function serverEnv(scheduler: boolean): NodeJS.ProcessEnv {
    return productionEnv(ownerUrl, {
      SCHEDULER_ENABLED: String(scheduler),
      SYNC_TICK_CRON: '* * * * *',
      SYNC_HEARTBEAT_MS: String(HEARTBEAT_MS),
      SYNC_ABANDONED_AFTER_MS: String(ABANDONED_AFTER_MS),
      SSM_TIMEOUT_MS: '60000',
      SHUTDOWN_GRACE_MS: '1000',
    });
  }

  const sql = async <R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> => (await owner.query<R>(text, params)).rows;

  beforeAll(async () => {
    ownerUrl = await createTestDatabase('abandoned_');
    owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });
    sim = await startSimulator({ port: 0, seed: 'killsync', accounts: 1 });
  });

  afterAll(async () => {
    for (const proc of started) if (proc.alive) killGroup(proc.child);
    await Promise.all([...started].map((p) => p.exited));
    await sim?.close();
    await owner?.end();
  });

  it("is taken over by the other instance's scheduler once its heartbeat stops, and the run it left is marked abandoned", async () => {
    // Instance A serves requests only; it runs the sync that is killed.
    const a: Proc = spawnNode(MAIN, [], serverEnv(false));
    const urlA = await a.listening(30_000);
    await gql(urlA, SET_MODE, { input: { mode: 'ONLINE', serverUrl: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, proxyUrl: '' } }, provider);
    const created = await gql<{ createTenant: { id: string } }>(urlA, CREATE_TENANT, { input: { name: 'Killed sync', slug: 'killed-sync' } }, provider);
    const tenantUuid = Buffer.from(created.createTenant.id, 'base64url').toString('utf8').split(':')[1];
    const admin = signTestToken({ sub: 'killed-sync-admin', role: 'TENANT_ADMIN', tenantId: tenantUuid });
    const account = await gql<{ configureSmartAccount: { virtualAccounts: { id: string; externalId: string }[] } }>(
      urlA, CONFIGURE, { input: { accountId: 'SA-KILLSYNC', fetchFromServer: true } }, admin,
    );
    const campus = account.configureSmartAccount.virtualAccounts.find((v) => v.externalId.endsWith('-CAMPUS'));
    await gql(urlA, MANAGE, { input: { virtualAccountIds: [campus?.id] } }, admin);

    // The license server hangs; A starts a sync and is killed while it waits.
    sim.setFault({ kind: 'slow', delayMs: 60_000 });
    void fetch(urlA, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: SYNC }),
    }).catch(() => undefined);
    const [running] = await until(
      'A to be running the sync',
      async () => {
        const rows = await sql<{ id: string; heartbeat_at: Date }>("select id, heartbeat_at from sync_run where tenant_id = $1 and status = 'RUNNING'", [tenantUuid]);
        return rows.length ? rows : undefined;
      },
      10_000,
    );
    // Alive: its heartbeat moves on.
    await until(
      'a heartbeat of the running sync',
      async () => {
        const [row] = await sql<{ heartbeat_at: Date }>('select heartbeat_at from sync_run where id = $1', [running.id]);
        return row.heartbeat_at.getTime() > running.heartbeat_at.getTime() ? row : undefined;
      },
      5_000,
    );
    killGroup(a.child);
    expect((await a.exited).signal).toBe('SIGKILL');
    sim.setFault(null);
    const [left] = await sql<{ status: string }>('select status from sync_run where id = $1', [running.id]);
    expect(left.status).toBe('RUNNING');

    // Instance B carries on; its scheduler ticks at start-up (a fresh pg-boss schedule is due at once)
    // and every minute. It must not wait for an on-demand sync to clear what A left.
    await until(
      "A's heartbeat to be older than SYNC_ABANDONED_AFTER_MS",
      async () => {
        const [row] = await sql<{ stale: boolean }>('select heartbeat_at < clock_timestamp() - make_interval(secs => $2::float8 / 1000) as stale from sync_run where id = $1', [
          running.id,
          ABANDONED_AFTER_MS,
        ]);
        return row.stale ? true : undefined;
      },
      10_000,
    );
    const b = spawnNode(MAIN, [], serverEnv(true));
    await b.listening(30_000);
    const runs = await until(
      "B's scheduled sync of the tenant",
      async () => {
        const rows = await sql<{ id: string; status: string; trigger: string; error_message: string | null }>(
          'select id, status, trigger, error_message from sync_run where tenant_id = $1 order by started_at',
          [tenantUuid],
        );
        return rows.length === 2 && rows.every((r) => r.status !== 'RUNNING') ? rows : undefined;
      },
      75_000,
    );
    expect(runs[0]).toMatchObject({ id: running.id, status: 'FAILED' });
    expect(runs[0].error_message).toMatch(/^abandoned: the instance running it stopped/);
    expect(runs[1]).toMatchObject({ status: 'SUCCEEDED', trigger: 'SCHEDULED' });
    const [account2] = await sql<{ synced: boolean }>('select last_synced_at is not null as synced from smart_account where tenant_id = $1', [tenantUuid]);
    expect(account2.synced).toBe(true);
  });
});
