import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { deviceInput, REGISTER_DEVICES } from './support/fixtures';
import { createTestDatabase, signTestToken } from './support/harness';
import { killGroup, MAIN, productionEnv, spawnNode, started, until, type Exit, type Proc } from './support/processes';

/**
 * Several instances on one database ("Several instances" in DESIGN.md, issue 5 point 6): real
 * `node dist/src/main.js` processes (dist/ is built before jest runs), all on one database cloned
 * from the migrated template, killed in afterAll whatever happens.
 */
const TICK_QUEUE = 'license-sync-tick';
const ALERTS_QUEUE = 'alerts-evaluate';
/** Every minute: each timekeeper check finds the tick due, so only the cross-instance guard keeps it single. */
const TICK_CRON = '* * * * *';

jest.setTimeout(60_000);

// ---- HTTP and SQL helpers -----------------------------------------------------------------------

interface GqlError {
  message: string;
  extensions?: { code?: string };
}

interface GqlBody<T> {
  data?: T | null;
  errors?: GqlError[];
}

async function post<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<{ status: number; body: GqlBody<T> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: (await res.json()) as GqlBody<T> };
}

/** Data of a call expected to succeed. */
async function gqlData<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await post<T>(url, query, variables, token);
  if (res.status !== 200 || res.body.errors?.length || !res.body.data) {
    throw new Error(`expected success from ${url}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.data;
}

/** The database uuid inside a global id (base64url of "<Type>:<uuid>"). */
function dbId(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }';
const ASSIGN = `mutation($input: AssignLicensesInput!) {
  assignLicenses(input: $input) { assigned pending replayed assignments { id status device { id } } }
}`;
const RELEASE = `mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }`;
const ACTIVE_ALERTS = `query($tenantId: ID) {
  alerts(tenantId: $tenantId, active: true) { totalCount edges { node { id kind details } } }
}`;

interface AssignPayload {
  assignLicenses: { assigned: number; pending: number; replayed: boolean; assignments: { id: string; status: string; device: { id: string } }[] };
}

interface AlertEvent {
  id: string;
  kind: string;
  active: boolean;
  tenant: { id: string } | null;
}

// ---- the cluster --------------------------------------------------------------------------------

describe('two instances on one database', () => {
  let ownerUrl: string;
  let owner: pg.Pool;
  let instanceA: Proc;
  let instanceB: Proc;
  let urlA: string;
  let urlB: string;
  const provider = signTestToken({ sub: 'failover-provider', role: 'PROVIDER_ADMIN' });
  const clients: Client[] = [];

  function serverEnv(): NodeJS.ProcessEnv {
    return productionEnv(ownerUrl, {
      SCHEDULER_ENABLED: 'true',
      SYNC_TICK_CRON: TICK_CRON,
      SHUTDOWN_GRACE_MS: '2000',
    });
  }

  async function sql<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> {
    return (await owner.query<R>(text, params)).rows;
  }

  /** A tenant without a smart account (its assignments stay pending), created through `url`. */
  async function trialTenant(url: string, slug: string): Promise<{ id: string; uuid: string; admin: string }> {
    const created = await gqlData<{ createTenant: { id: string } }>(url, CREATE_TENANT, { input: { name: `Tenant ${slug}`, slug } }, provider);
    const uuid = dbId(created.createTenant.id);
    return { id: created.createTenant.id, uuid, admin: signTestToken({ sub: `${slug}-admin`, role: 'TENANT_ADMIN', tenantId: uuid }) };
  }

  async function registerDevices(url: string, token: string, from: number, count: number): Promise<string[]> {
    const devices = Array.from({ length: count }, (_, i) => deviceInput(from + i));
    const data = await gqlData<{ registerDevices: { devices: { id: string }[] } }>(url, REGISTER_DEVICES, { input: { devices } }, token);
    return data.registerDevices.devices.map((d) => d.id);
  }

  beforeAll(async () => {
    ownerUrl = await createTestDatabase('failover_');
    owner = new pg.Pool({ connectionString: ownerUrl, max: 3 });

    // An earlier instance leaves the pg-boss schema and the schedules behind (as after a rolling
    // restart). Its timekeeper marked the cron as checked just now; forgetting that mark lets the
    // next instances' start-up checks find the tick due at once instead of in 30 s.
    const earlier = spawnNode(MAIN, [], serverEnv());
    await earlier.listening(30_000);
    earlier.child.kill('SIGTERM');
    expect(await earlier.exited).toEqual({ code: 0, signal: null });
    // (Guarded, so that a missing schema fails the scheduling test below rather than every test here.)
    await sql(`do $$ begin if to_regclass('pgboss.version') is not null then update pgboss.version set cron_on = null; end if; end $$`);

    // Both start together, like `docker compose up --scale api=2`.
    instanceA = spawnNode(MAIN, [], serverEnv());
    instanceB = spawnNode(MAIN, [], serverEnv());
    [urlA, urlB] = await Promise.all([instanceA.listening(30_000), instanceB.listening(30_000)]);
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    for (const proc of started) if (proc.alive) killGroup(proc.child);
    await Promise.all([...started].map((p) => p.exited));
    await owner?.end();
  });

  it('runs both schedulers on one pg-boss schema, stores each schedule once and sends the cron tick once', async () => {
    for (const proc of [instanceA, instanceB]) {
      expect(proc.logLines().filter((l) => l.msg === 'scheduler started')).toHaveLength(1);
      expect(proc.logLines().filter((l) => l.msg === 'pg-boss error')).toEqual([]);
    }
    expect(urlA).not.toBe(urlB);

    const schedules = await sql<{ name: string; cron: string }>('select name, cron from pgboss.schedule order by name');
    expect(schedules).toEqual([
      { name: ALERTS_QUEUE, cron: '0 * * * *' },
      { name: TICK_QUEUE, cron: TICK_CRON },
    ]);
    const queues = await sql<{ name: string; n: number }>(
      `select name, count(*)::int as n from pgboss.queue where name = any($1) group by name order by name`,
      [[ALERTS_QUEUE, TICK_QUEUE, 'license-sync']],
    );
    expect(queues).toEqual([
      { name: ALERTS_QUEUE, n: 1 },
      { name: 'license-sync', n: 1 },
      { name: TICK_QUEUE, n: 1 },
    ]);

    // Both timekeepers checked the schedule at start-up and found the every-minute tick due; the
    // tick is sent and worked once. A second send is possible only 30 s after the first check.
    await until(
      'a completed license-sync-tick job',
      async () => (await sql<{ id: string }>(`select id from pgboss.job where name = $1 and state = 'completed'`, [TICK_QUEUE]))[0],
      20_000,
    );
    const ticks = await sql<{ state: string }>('select state from pgboss.job where name = $1', [TICK_QUEUE]);
    expect(ticks).toEqual([{ state: 'completed' }]);
    const sends = await sql<{ n: number }>(`select count(*)::int as n from pgboss.job where name = '__pgboss__send-it' and singleton_key = $1`, [
      TICK_QUEUE,
    ]);
    expect(sends).toEqual([{ n: 1 }]);
  });

  it('delivers to a subscriber on instance A an alert raised by a mutation sent to instance B', async () => {
    const tenant = await trialTenant(urlB, 'relay');
    const [device] = await registerDevices(urlB, tenant.admin, 1, 1);

    const events: AlertEvent[] = [];
    const failures: unknown[] = [];
    const client = createClient({
      url: urlA.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tenant.admin}` },
      retryAttempts: 0,
    });
    clients.push(client);
    client.subscribe<{ licenseAlerts: AlertEvent }>(
      { query: 'subscription($tenantId: ID) { licenseAlerts(tenantId: $tenantId) { id kind active tenant { id } } }', variables: { tenantId: tenant.id } },
      {
        next: (result) => {
          if (result.data) events.push(result.data.licenseAlerts);
          else failures.push(result.errors);
        },
        error: (err) => failures.push(err),
        complete: () => undefined,
      },
    );

    // The protocol has no "subscription is live" message: raise (assign) and clear (release) the
    // pending-assignment alert through B until A's subscriber has seen it raised.
    const raised = (): AlertEvent | undefined => events.find((e) => e.kind === 'UNRECONCILED_ASSIGNMENTS' && e.active);
    for (let attempt = 0; attempt < 8 && !raised() && failures.length === 0; attempt++) {
      if (attempt % 2 === 0) {
        const res = await gqlData<AssignPayload>(urlB, ASSIGN, { input: { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
        expect(res.assignLicenses).toMatchObject({ assigned: 1, pending: 1 });
      } else {
        await gqlData(urlB, RELEASE, { input: { deviceIds: [device] } }, tenant.admin);
      }
      const deadline = Date.now() + 2_000;
      while (!raised() && failures.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }

    expect(failures).toEqual([]);
    const event = raised();
    expect(event).toBeDefined();
    expect(event?.tenant).toEqual({ id: tenant.id });
    const stored = await sql<{ tenant_id: string; kind: string }>('select tenant_id, kind from alert where id = $1', [dbId(event?.id ?? '')]);
    expect(stored).toEqual([{ tenant_id: tenant.uuid, kind: 'UNRECONCILED_ASSIGNMENTS' }]);
  });

  it('lets exactly 10 of 30 concurrent assignments through both instances win a 10-seat prepaid pool', async () => {
    const tenant = await trialTenant(urlA, 'race');
    const account = await gqlData<{ configureSmartAccount: { virtualAccounts: { id: string }[] } }>(
      urlA,
      `mutation($input: ConfigureSmartAccountInput!) { configureSmartAccount(input: $input) { virtualAccounts { id } } }`,
      { input: { tenantId: tenant.id, accountId: 'SA-race', domain: 'race.example', name: 'Race', virtualAccounts: [{ externalId: 'va', name: 'VA' }] } },
      provider,
    );
    const [va] = account.configureSmartAccount.virtualAccounts;
    await gqlData(
      urlB,
      `mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id } }`,
      { input: { tenantId: tenant.id, virtualAccountIds: [va.id] } },
      provider,
    );
    await gqlData(
      urlA,
      `mutation($input: AddLicensesInput!) { addLicenses(input: $input) { id } }`,
      {
        input: {
          tenantId: tenant.id,
          licenses: [
            {
              virtualAccountId: va.id,
              entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T1_A',
              billingType: 'PREPAID',
              billingModel: 'A_LA_CARTE',
              subscriptionId: 'SUB-RACE',
              quantity: 10,
              startDate: '2020-01-01',
              endDate: '2099-12-31',
            },
          ],
        },
      },
      provider,
    );
    const devices = await registerDevices(urlA, tenant.admin, 5000, 30);

    // Thirty single-device requests at once, alternating between the instances.
    const results = await Promise.all(
      devices.map((deviceId, i) =>
        post<AssignPayload>(i % 2 === 0 ? urlA : urlB, ASSIGN, { input: { deviceIds: [deviceId], level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin),
      ),
    );
    const won = results.filter((r) => r.status === 200 && !r.body.errors && r.body.data?.assignLicenses.assigned === 1);
    const refused = results.filter((r) => r.body.errors?.[0]?.extensions?.code === 'INSUFFICIENT_LICENSES');
    expect(won).toHaveLength(10);
    expect(refused).toHaveLength(20);
    expect(won.every((r) => r.body.data?.assignLicenses.pending === 0)).toBe(true);

    const [{ n }] = await sql<{ n: number }>(
      `select count(*)::int as n from assignment where tenant_id = $1 and released_at is null and status = 'ACTIVE'`,
      [tenant.uuid],
    );
    expect(n).toBe(10);
  });

  it('keeps every acknowledged assignment and keeps serving on B when A is SIGKILLed mid-stream; requests to A then fail at the network level, and each unanswered one resent to B with its idempotency key takes effect exactly once', async () => {
    const TOTAL = 200;
    const CONCURRENCY = 8;
    const KILL_AFTER = 90;
    const tenant = await trialTenant(urlB, 'failover');
    // One device per request (plus one for after the kill), so each acknowledged write is checked exactly.
    const devices = await registerDevices(urlB, tenant.admin, 1000, TOTAL + 1);

    type Outcome =
      | { kind: 'ok'; assignmentId: string; status: string; deviceId: string; replayed: boolean; assigned: number }
      | { kind: 'answer'; status: number; body: string }
      | { kind: 'network'; code: string }
      | { kind: 'timeout' };
    interface Sent {
      index: number;
      target: 'A' | 'B';
      /** Sent after instance A was seen exiting. */
      afterExit: boolean;
      /** Answered before the kill signal was sent. */
      beforeKill: boolean;
      outcome: Outcome;
    }
    const sent: Sent[] = [];
    let answered = 0;
    let killSignalled = false;
    let exitSeen = false;
    let kill: Promise<Exit> | undefined;

    const send = async (index: number): Promise<void> => {
      const target = index % 2 === 0 ? 'A' : 'B';
      const afterExit = exitSeen;
      let outcome: Outcome;
      try {
        const res = await post<AssignPayload>(
          target === 'A' ? urlA : urlB,
          ASSIGN,
          { input: { deviceIds: [devices[index]], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: `failover-${index}` } },
          tenant.admin,
        );
        const payload = res.body.data?.assignLicenses;
        const [assignment] = payload?.assignments ?? [];
        outcome =
          res.status === 200 && !res.body.errors && payload && assignment
            ? { kind: 'ok', assignmentId: assignment.id, status: assignment.status, deviceId: assignment.device.id, replayed: payload.replayed, assigned: payload.assigned }
            : { kind: 'answer', status: res.status, body: JSON.stringify(res.body) };
      } catch (err) {
        const name = (err as Error).name;
        outcome =
          name === 'TimeoutError' || name === 'AbortError'
            ? { kind: 'timeout' }
            : { kind: 'network', code: String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message) };
      }
      sent.push({ index, target, afterExit, beforeKill: !killSignalled, outcome });
      answered++;
      if (answered === KILL_AFTER && !kill) {
        killSignalled = true;
        killGroup(instanceA.child);
        kill = instanceA.exited.then((exit) => {
          exitSeen = true;
          return exit;
        });
      }
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await send(next++);
      }),
    );
    expect(await kill).toEqual({ code: null, signal: 'SIGKILL' });
    expect(sent).toHaveLength(TOTAL);

    const toA = sent.filter((s) => s.target === 'A');
    const toB = sent.filter((s) => s.target === 'B');
    // Nothing answered wrongly: A answers correctly or not at all; B answers every request, during the kill too.
    expect(sent.filter((s) => s.outcome.kind === 'answer' || s.outcome.kind === 'timeout')).toEqual([]);
    expect(toB.filter((s) => s.outcome.kind !== 'ok')).toEqual([]);
    expect(toA.filter((s) => s.beforeKill && s.outcome.kind !== 'ok')).toEqual([]);
    // Requests to A after it died get no HTTP answer at all.
    const afterExitToA = toA.filter((s) => s.afterExit);
    expect(afterExitToA.length).toBeGreaterThan(20);
    expect(afterExitToA.filter((s) => s.outcome.kind !== 'network')).toEqual([]);
    expect(toA.filter((s) => s.outcome.kind === 'ok').length).toBeGreaterThan(20);

    // Every acknowledged write is in the database, exactly as reported.
    const acknowledged = sent.flatMap((s) => (s.outcome.kind === 'ok' ? [{ ...s.outcome, index: s.index }] : []));
    for (const ack of acknowledged) {
      expect({ index: ack.index, deviceId: ack.deviceId, status: ack.status, replayed: ack.replayed, assigned: ack.assigned }).toEqual({
        index: ack.index,
        deviceId: devices[ack.index],
        status: 'PENDING_RECONCILIATION',
        replayed: false,
        assigned: 1,
      });
    }
    const rows = await sql<{ id: string; device_id: string; status: string; released_at: Date | null }>(
      'select id, device_id, status, released_at from assignment where tenant_id = $1',
      [tenant.uuid],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const missing = acknowledged.filter((a) => {
      const row = byId.get(dbId(a.assignmentId));
      return !row || row.device_id !== dbId(a.deviceId) || row.status !== 'PENDING_RECONCILIATION' || row.released_at !== null;
    });
    expect(missing).toEqual([]);
    // Nothing else was written: one assignment per device at most, and none for requests that never reached a server.
    const perDevice = new Map<string, number>();
    for (const r of rows) perDevice.set(r.device_id, (perDevice.get(r.device_id) ?? 0) + 1);
    expect([...perDevice.values()].filter((n) => n > 1)).toEqual([]);
    expect(afterExitToA.filter((s) => perDevice.has(dbId(devices[s.index])))).toEqual([]);
    const inDoubt = sent.filter((s) => s.outcome.kind !== 'ok' && !s.afterExit).length;
    expect(rows.length).toBeGreaterThanOrEqual(acknowledged.length);
    expect(rows.length).toBeLessThanOrEqual(acknowledged.length + inDoubt);

    // In-doubt writes: every request that got no answer is sent again, to the survivor, with the same
    // idempotency key. Those that A committed before it died are replayed (the same assignment);
    // the others take effect now. Either way each took effect exactly once.
    const committedBefore = new Map(rows.map((r) => [r.device_id, r.id]));
    const unanswered = sent.filter((s) => s.outcome.kind !== 'ok');
    expect(unanswered.length).toBeGreaterThan(20);
    const resent = await Promise.all(
      unanswered.map(async (s) => {
        const res = await post<AssignPayload>(
          urlB,
          ASSIGN,
          { input: { deviceIds: [devices[s.index]], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: `failover-${s.index}` } },
          tenant.admin,
        );
        return { index: s.index, status: res.status, errors: res.body.errors, payload: res.body.data?.assignLicenses };
      }),
    );
    expect(resent.filter((r) => r.status !== 200 || r.errors || !r.payload)).toEqual([]);
    const wrong = resent.filter((r) => {
      const device = dbId(devices[r.index]);
      const [assignment] = r.payload?.assignments ?? [];
      const earlier = committedBefore.get(device);
      return (
        dbId(assignment?.device.id ?? '') !== device ||
        r.payload?.replayed !== (earlier !== undefined) ||
        (earlier !== undefined && dbId(assignment.id) !== earlier)
      );
    });
    expect(wrong).toEqual([]);
    const after = await sql<{ device_id: string; n: number }>(
      'select device_id, count(*)::int as n from assignment where tenant_id = $1 group by device_id',
      [tenant.uuid],
    );
    expect(after).toHaveLength(TOTAL);
    expect(after.filter((r) => r.n !== 1)).toEqual([]);

    // B keeps serving the same data: a mutation and a query after the kill.
    const last = await gqlData<AssignPayload>(urlB, ASSIGN, { input: { deviceIds: [devices[TOTAL]], level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
    expect(last.assignLicenses).toMatchObject({ assigned: 1, pending: 1, replayed: false });
    const alerts = await gqlData<{ alerts: { edges: { node: { kind: string; details: { pending?: number } } }[] } }>(
      urlB,
      ACTIVE_ALERTS,
      { tenantId: tenant.id },
      tenant.admin,
    );
    const [{ n: pendingInDb }] = await sql<{ n: number }>(
      `select count(*)::int as n from assignment where tenant_id = $1 and status = 'PENDING_RECONCILIATION' and released_at is null`,
      [tenant.uuid],
    );
    expect(pendingInDb).toBe(TOTAL + 1);
    const unreconciled = alerts.alerts.edges.map((e) => e.node).find((n) => n.kind === 'UNRECONCILED_ASSIGNMENTS');
    expect(unreconciled?.details.pending).toBe(pendingInDb);
    expect(instanceB.alive).toBe(true);
  });
});
