import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../src/auth/roles';
import { createViewer } from '../src/auth/viewer';
import type { RequestContext } from '../src/common/context';
import { inScope } from '../src/db/scope';
import { sql } from '../src/db/sql';
import { createLogger } from '../src/logger';
import { evaluateAlerts } from '../src/modules/alerts/alert.service';
import { addDevices, assign, createTrialTenant, dbId, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { signTestToken, startTestServer, type TestServer } from './support/harness';

/**
 * The licenseAlerts subscription over graphql-ws (graphql-transport-ws), end to end: real server,
 * real PostgreSQL, alerts raised by the product's own transactions and delivered through the
 * pg_notify alert bus on commit.
 */

/** graphql-ws "Forbidden": the close code for a refused or expired token. */
const FORBIDDEN_CLOSE = 4403;
const WAIT_MS = 10_000;

const ALERT_FIELDS = `id kind severity subjectType subjectId message details raisedAt updatedAt
  acknowledgedAt acknowledgedBy resolvedAt active tenant { id slug }`;
const LICENSE_ALERTS = `subscription($tenantId: ID) { licenseAlerts(tenantId: $tenantId) { ${ALERT_FIELDS} } }`;
const ALERTS = `query($tenantId: ID) { alerts(tenantId: $tenantId, first: 100) { edges { node { ${ALERT_FIELDS} } } } }`;
const ACKNOWLEDGE = `mutation($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`;
const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';

interface AlertView {
  id: string;
  kind: string;
  severity: string;
  subjectType: string;
  subjectId: string;
  message: string;
  details: Record<string, unknown>;
  raisedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  active: boolean;
  tenant: { id: string; slug: string } | null;
}

interface ResultError {
  message: string;
  extensions?: Record<string, unknown>;
}

function closeCodeOf(event: unknown): number | undefined {
  if (typeof event === 'object' && event !== null && 'code' in event && typeof event.code === 'number') return event.code;
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Polls `check` until it returns a value, or fails with `what` after `timeoutMs`. */
async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** One graphql-ws client with one licenseAlerts subscription, recording everything it gets. */
class AlertSubscriber {
  readonly events: AlertView[] = [];
  readonly errors: ResultError[] = [];
  /** Set when the subscription ends: 'complete', or the error the client reported (a close event, errors). */
  ended: { how: 'complete' } | { how: 'error'; error: unknown } | undefined;
  closeCode: number | undefined;
  closedAt: number | undefined;
  readonly client: Client;

  constructor(url: string, connectionParams: Record<string, unknown> | undefined, tenantId?: string) {
    this.client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          this.closeCode ??= closeCodeOf(event);
          this.closedAt ??= Date.now();
        },
      },
    });
    this.client.subscribe<{ licenseAlerts: AlertView }>(
      { query: LICENSE_ALERTS, variables: tenantId ? { tenantId } : {} },
      {
        next: (result) => {
          if (result.data?.licenseAlerts) this.events.push(result.data.licenseAlerts);
          if (result.errors) this.errors.push(...(result.errors as ResultError[]));
        },
        error: (error) => {
          this.ended ??= { how: 'error', error };
        },
        complete: () => {
          this.ended ??= { how: 'complete' };
        },
      },
    );
  }

  /** The first event from index `from` on that matches. */
  next(what: string, match: (e: AlertView) => boolean, from = 0): Promise<AlertView> {
    return eventually(what, () => this.events.slice(from).find(match));
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }
}

/** A trial tenant (no smart account, so level/tier assignments stay pending) prepared for alert events. */
interface AlertTenant extends AccountTenant {
  /** A resolved UNRECONCILED_ASSIGNMENTS alert: acknowledging it announces an event that changes nothing else. */
  probeAlertId: string;
  /** The tenant's open OUT_OF_COMPLIANCE alert. */
  complianceAlertId: string;
  /** A registered device holding nothing (registering does not evaluate alerts). */
  deviceId: string;
}

describe('licenseAlerts subscription over graphql-ws', () => {
  let server: TestServer;
  let wsUrl: string;
  let tenantA: AlertTenant;
  let tenantB: AlertTenant;
  const subscribers: AlertSubscriber[] = [];

  function subscriber(token: string | null, tenantId?: string): AlertSubscriber {
    const s = new AlertSubscriber(wsUrl, token === null ? undefined : { authorization: `Bearer ${token}` }, tenantId);
    subscribers.push(s);
    return s;
  }

  function acknowledge(id: string, token: string): Promise<AlertView> {
    return gqlData<{ acknowledgeAlert: AlertView }>(server, ACKNOWLEDGE, { id }, token).then((d) => d.acknowledgeAlert);
  }

  async function storedAlerts(token: string, tenantId?: string): Promise<Map<string, AlertView>> {
    const data = await gqlData<{ alerts: { edges: { node: AlertView }[] } }>(server, ALERTS, tenantId ? { tenantId } : {}, token);
    return new Map(data.alerts.edges.map((e) => [e.node.id, e.node]));
  }

  /**
   * The server starts listening for a subscription asynchronously, with nothing sent to the client:
   * acknowledge the tenant's probe alert until the subscriber has seen the event.
   */
  async function ready(s: AlertSubscriber, tenant: AlertTenant): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const from = s.events.length;
      await acknowledge(tenant.probeAlertId, tenant.admin);
      try {
        await eventually('the probe event', () => s.events.slice(from).find((e) => e.id === tenant.probeAlertId), 750);
        return;
      } catch {
        if (s.ended) throw new Error(`subscription ended before it was listening: ${JSON.stringify(s.ended)} ${JSON.stringify(s.errors)}`);
      }
    }
    throw new Error(`subscriber never received a probe event of ${tenant.slug}`);
  }

  async function prepareTenant(slug: string, firstDevice: number): Promise<AlertTenant> {
    const tenant = await createTrialTenant(server, slug);
    tenant.admin = server.token('TENANT_ADMIN', tenant.uuid, { sub: `admin@${slug}` });
    const [probeDevice] = await addDevices(server, tenant, 1, {}, firstDevice);
    await assign(server, tenant.operator, { deviceIds: [probeDevice], level: 'ADVANTAGE', tier: 'T1' });
    await gqlData(server, RELEASE, { input: { deviceIds: [probeDevice] } }, tenant.operator);
    const alerts = [...(await storedAlerts(tenant.operator)).values()];
    const probe = alerts.find((a) => a.kind === 'UNRECONCILED_ASSIGNMENTS' && !a.active);
    const compliance = alerts.find((a) => a.kind === 'OUT_OF_COMPLIANCE' && a.active);
    if (!probe || !compliance) throw new Error(`unexpected alerts after arranging ${slug}: ${JSON.stringify(alerts)}`);
    const [deviceId] = await addDevices(server, tenant, 1, {}, firstDevice + 1);
    return { ...tenant, probeAlertId: probe.id, complianceAlertId: compliance.id, deviceId };
  }

  beforeAll(async () => {
    server = await startTestServer();
    wsUrl = server.url.replace(/^http/, 'ws');
    tenantA = await prepareTenant('subs-a', 100);
    tenantB = await prepareTenant('subs-b', 200);
  });
  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await server?.close();
  });

  it("streams a tenant's own alerts raised, acknowledged and resolved, each as stored, and never another tenant's", async () => {
    const subA = subscriber(tenantA.operator);
    const subB = subscriber(tenantB.operator);
    await ready(subA, tenantA);
    await ready(subB, tenantB);

    // Raised: a pending level/tier assignment in a tenant without a smart account.
    let from = subA.events.length;
    await assign(server, tenantA.operator, { deviceIds: [tenantA.deviceId], level: 'ADVANTAGE', tier: 'T1' });
    const raised = await subA.next('UNRECONCILED_ASSIGNMENTS raised in A', (e) => e.kind === 'UNRECONCILED_ASSIGNMENTS' && e.id !== tenantA.probeAlertId, from);
    const complianceChanged = await subA.next('OUT_OF_COMPLIANCE updated in A', (e) => e.id === tenantA.complianceAlertId, from);
    expect(raised).toMatchObject({
      kind: 'UNRECONCILED_ASSIGNMENTS',
      active: true,
      resolvedAt: null,
      acknowledgedAt: null,
      tenant: { id: tenantA.id, slug: tenantA.slug },
      details: { pending: 1 },
    });
    expect(complianceChanged).toMatchObject({ kind: 'OUT_OF_COMPLIANCE', active: true, resolvedAt: null, tenant: { id: tenantA.id } });
    expect(complianceChanged.message).toMatch(/^2 device\(s\) out of compliance/);
    let stored = await storedAlerts(tenantA.operator);
    expect(raised).toEqual(stored.get(raised.id));
    expect(complianceChanged).toEqual(stored.get(tenantA.complianceAlertId));

    // B's events in between: raised, acknowledged, resolved.
    const fromB = subB.events.length;
    await assign(server, tenantB.operator, { deviceIds: [tenantB.deviceId], level: 'ADVANTAGE', tier: 'T1' });
    const raisedB = await subB.next('UNRECONCILED_ASSIGNMENTS raised in B', (e) => e.kind === 'UNRECONCILED_ASSIGNMENTS' && e.active, fromB);
    await acknowledge(raisedB.id, tenantB.admin);
    await subB.next('B acknowledged', (e) => e.id === raisedB.id && e.acknowledgedAt !== null, fromB);

    // Acknowledged.
    from = subA.events.length;
    const acknowledgedAnswer = await acknowledge(raised.id, tenantA.admin);
    const acknowledged = await subA.next('the acknowledgement in A', (e) => e.id === raised.id, from);
    expect(acknowledged).toMatchObject({
      kind: 'UNRECONCILED_ASSIGNMENTS',
      active: true,
      resolvedAt: null,
      acknowledgedBy: `admin@${tenantA.slug}`,
      tenant: { id: tenantA.id },
    });
    expect(acknowledged.acknowledgedAt).not.toBeNull();
    expect(acknowledged).toEqual(acknowledgedAnswer);
    expect(acknowledged).toEqual((await storedAlerts(tenantA.operator)).get(raised.id));

    await gqlData(server, RELEASE, { input: { deviceIds: [tenantB.deviceId] } }, tenantB.operator);
    await subB.next('B resolved', (e) => e.id === raisedB.id && !e.active, fromB);

    // Resolved: releasing the pending assignment clears the condition.
    from = subA.events.length;
    await gqlData(server, RELEASE, { input: { deviceIds: [tenantA.deviceId] } }, tenantA.operator);
    const resolved = await subA.next('the resolution in A', (e) => e.id === raised.id, from);
    expect(resolved).toMatchObject({ kind: 'UNRECONCILED_ASSIGNMENTS', active: false, tenant: { id: tenantA.id } });
    expect(resolved.resolvedAt).not.toBeNull();
    expect(new Date(resolved.resolvedAt as string).getTime()).toBeGreaterThanOrEqual(new Date(resolved.raisedAt).getTime());
    stored = await storedAlerts(tenantA.operator);
    expect(resolved).toEqual(stored.get(raised.id));
    const [row] = await server.sql<{ resolved: boolean }>('select resolved_at is not null as resolved from alert where id = $1', [dbId(raised.id)]);
    expect(row).toEqual({ resolved: true });

    // More B, then a marker for A committed after it: had a B event reached A, it would be in by now.
    const fromB2 = subB.events.length;
    await acknowledge(tenantB.complianceAlertId, tenantB.admin);
    await subB.next("B's last event", (e) => e.id === tenantB.complianceAlertId, fromB2);
    from = subA.events.length;
    await acknowledge(tenantA.probeAlertId, tenantA.admin);
    await subA.next("A's marker", (e) => e.id === tenantA.probeAlertId, from);

    const bIds = new Set(subB.events.map((e) => e.id));
    expect(bIds).toContain(raisedB.id);
    expect(subA.events.length).toBeGreaterThan(0);
    expect(subA.events.filter((e) => e.tenant?.id !== tenantA.id || bIds.has(e.id))).toEqual([]);
    expect(subB.events.filter((e) => e.tenant?.id !== tenantB.id)).toEqual([]);
    expect(subA.errors).toEqual([]);
    expect(subA.ended).toBeUndefined();
  });

  it("refuses a tenant subscriber asking for another tenant's alerts with NOT_FOUND, as for a nonexistent tenant, and sends it no events", async () => {
    const watcher = subscriber(server.token('PROVIDER_OPERATOR'));
    await ready(watcher, tenantB);
    const foreign = subscriber(tenantA.operator, tenantB.id);
    const missingId = Buffer.from(`Tenant:${randomUUID()}`, 'utf8').toString('base64url');
    const missing = subscriber(tenantA.operator, missingId);
    await eventually('the foreign subscription to end', () => foreign.ended);
    await eventually('the nonexistent-tenant subscription to end', () => missing.ended);

    expect(foreign.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(missing.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(foreign.errors[0].message.replace(tenantB.id, '<id>')).toBe(missing.errors[0].message.replace(missingId, '<id>'));
    expect(foreign.errors[0].message).not.toContain(tenantB.slug);

    // B's events happen, and reach a provider that listens, but not the refused subscriber.
    const from = watcher.events.length;
    await acknowledge(tenantB.complianceAlertId, tenantB.admin);
    await acknowledge(tenantB.probeAlertId, tenantB.admin);
    await watcher.next("B's marker", (e) => e.id === tenantB.probeAlertId, from);
    expect(foreign.events).toEqual([]);
  });

  it("lets a tenant subscriber name its own tenant and receive that tenant's alerts", async () => {
    const own = subscriber(tenantA.operator, tenantA.id);
    await ready(own, tenantA);
    const from = own.events.length;
    await acknowledge(tenantA.complianceAlertId, tenantA.admin);
    const event = await own.next("A's compliance alert", (e) => e.id === tenantA.complianceAlertId, from);
    expect(event).toEqual((await storedAlerts(tenantA.operator)).get(tenantA.complianceAlertId));
  });

  it("fans out every tenant's alerts to a provider subscriber without tenantId", async () => {
    const provider = subscriber(server.token('PROVIDER_OPERATOR'));
    await ready(provider, tenantA);
    const from = provider.events.length;
    await acknowledge(tenantB.complianceAlertId, tenantB.admin);
    await acknowledge(tenantA.complianceAlertId, tenantA.admin);
    const b = await provider.next("B's alert", (e) => e.id === tenantB.complianceAlertId, from);
    const a = await provider.next("A's alert", (e) => e.id === tenantA.complianceAlertId, from);
    expect(b).toMatchObject({ kind: 'OUT_OF_COMPLIANCE', active: true, tenant: { id: tenantB.id, slug: tenantB.slug } });
    expect(a).toMatchObject({ kind: 'OUT_OF_COMPLIANCE', active: true, tenant: { id: tenantA.id, slug: tenantA.slug } });
    const stored = await storedAlerts(server.token('PROVIDER_OPERATOR'));
    expect(a).toEqual(stored.get(a.id));
    expect(b).toEqual(stored.get(b.id));
  });

  it("sends a provider subscriber with tenantId only that tenant's alerts", async () => {
    const provider = subscriber(server.token('PROVIDER_ADMIN'), tenantA.id);
    await ready(provider, tenantA);
    // A provider-wide subscriber proves B's events were announced and delivered.
    const everything = subscriber(server.token('PROVIDER_OPERATOR'));
    await ready(everything, tenantB);
    const from = everything.events.length;
    await acknowledge(tenantB.complianceAlertId, tenantB.admin);
    await acknowledge(tenantB.probeAlertId, tenantB.admin);
    await everything.next("B's alert", (e) => e.id === tenantB.complianceAlertId, from);
    const fromA = provider.events.length;
    await acknowledge(tenantA.complianceAlertId, tenantA.admin);
    await provider.next("A's marker", (e) => e.id === tenantA.complianceAlertId, fromA);
    await everything.next("A's marker, seen provider-wide", (e) => e.id === tenantA.complianceAlertId, from);

    expect(everything.events.slice(from).some((e) => e.tenant?.id === tenantB.id)).toBe(true);
    expect(provider.events.filter((e) => e.tenant?.id !== tenantA.id)).toEqual([]);
  });

  it.each<[string, () => Record<string, unknown> | undefined]>([
    ['no connectionParams', () => undefined],
    ['connectionParams without authorization', () => ({})],
    ['a garbage token', () => ({ authorization: 'Bearer garbage' })],
    ['an expired token', () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 })}` })],
    [
      'a token signed with another secret',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'another-secret-that-is-at-least-32-bytes-long')}` }),
    ],
  ])('closes a subscription with 4403 and sends it no events for %s', async (_what, params) => {
    const s = new AlertSubscriber(wsUrl, params());
    subscribers.push(s);
    const ended = await eventually('the refused subscription to end', () => s.ended);
    expect(ended.how).toBe('error');
    expect(ended.how === 'error' ? closeCodeOf(ended.error) : undefined).toBe(FORBIDDEN_CLOSE);
    expect(s.closeCode).toBe(FORBIDDEN_CLOSE);
    expect(s.events).toEqual([]);
  });

  it('keeps a subscription live while its token is valid and closes the socket with 4403 once the token expires', async () => {
    const token = signTestToken({ role: 'TENANT_OPERATOR', tenantId: tenantA.uuid }, { expiresIn: 3 });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number };
    const s = subscriber(token);
    await ready(s, tenantA);
    expect(Date.now()).toBeLessThan(exp * 1000);
    expect(s.ended).toBeUndefined();

    const ended = await eventually('the socket to close after the token expired', () => s.ended, 8_000);
    expect(ended.how).toBe('error');
    expect(ended.how === 'error' ? closeCodeOf(ended.error) : undefined).toBe(FORBIDDEN_CLOSE);
    expect(s.closeCode).toBe(FORBIDDEN_CLOSE);
    // Not early: only once exp has passed (allow timer jitter).
    expect(s.closedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
  });

  it('announces nothing for a transaction that raised an alert and rolled back, and its alert row does not exist', async () => {
    const tenantC = await createTrialTenant(server, 'subs-rollback');
    await addDevices(server, tenantC, 1, {}, 300); // unassigned: evaluating raises OUT_OF_COMPLIANCE
    expect(await server.sql('select id from alert where tenant_id = $1', [tenantC.uuid])).toEqual([]);
    const provider = subscriber(server.token('PROVIDER_OPERATOR'));
    await ready(provider, tenantA);
    const from = provider.events.length;

    const systemContext = (): RequestContext => ({
      viewer: createViewer('system:subscriptions-test', Role.PROVIDER_OPERATOR, null, Math.floor(Date.now() / 1000) + 3600),
      em: server.db.orm.em.fork(),
      requestId: randomUUID(),
      log: createLogger('silent'),
      app: server.runtime,
      memo: new Map(),
    });
    const ctx = systemContext();
    let raisedInRollback: { id: string; kind: string }[] = [];
    await expect(
      inScope(ctx, async (em) => {
        await evaluateAlerts(ctx, em, tenantC.uuid);
        raisedInRollback = await sql<{ id: string; kind: string }>(em, 'select id, kind from alert where tenant_id = ?', [tenantC.uuid]);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    // The transaction did raise an alert (and announced it) before rolling back.
    expect(raisedInRollback.map((r) => r.kind)).toEqual(['OUT_OF_COMPLIANCE']);
    expect(await server.sql('select id from alert where tenant_id = $1', [tenantC.uuid])).toEqual([]);

    // A committed marker through the same path arrives: the subscriber was listening all along.
    const committedCtx = systemContext();
    await inScope(committedCtx, (em) => evaluateAlerts(committedCtx, em, tenantC.uuid));
    const committed = await provider.next("C's committed alert", (e) => e.tenant?.id === tenantC.id, from);
    expect(committed).toMatchObject({ kind: 'OUT_OF_COMPLIANCE', active: true });
    const [stored] = await server.sql<{ id: string }>('select id from alert where tenant_id = $1', [tenantC.uuid]);
    expect(dbId(committed.id)).toBe(stored.id);
    expect(stored.id).not.toBe(raisedInRollback[0].id);

    const rolledBack = new Set(raisedInRollback.map((r) => r.id));
    expect(provider.events.filter((e) => rolledBack.has(dbId(e.id)))).toEqual([]);
    expect(provider.events.slice(from).filter((e) => e.tenant?.id === tenantC.id).map((e) => e.id)).toEqual([committed.id]);
  });
});
