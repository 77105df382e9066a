import { createTenant, deviceInput, registerDevices, REGISTER_DEVICES } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';
import {
  addDevices,
  addLines,
  assign,
  createAccountTenant,
  createTrialTenant,
  dbId,
  dnaTag,
  gqlData,
  gqlError,
  HSEC_TAG,
  type AccountTenant,
} from './support/assignment-fixtures';

const DECOMMISSION = `mutation($input: DecommissionDevicesInput!) {
  decommissionDevices(input: $input) {
    decommissioned alreadyDecommissioned releasedAssignments replayed
    devices { id uuid state decommissionedAt decommissionedBy complianceStatus complianceReasons assignments { id } }
  }
}`;
const RELEASE = `mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released unchanged replayed } }`;
const ASSIGN_COUNTS = `mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned replaced unchanged pending } }`;
const LIST = `query($tenantId: ID, $filter: DeviceFilter, $after: String) {
  devices(tenantId: $tenantId, filter: $filter, first: 100, after: $after) {
    totalCount
    edges { node { id uuid hostname state complianceStatus complianceReasons } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const DEVICE = `query($id: ID!) {
  node(id: $id) {
    ... on Device {
      id uuid state decommissionedAt decommissionedBy complianceStatus complianceReasons
      assignments { id }
      licenseHistory { id category releasedAt releasedBy entitlement { tag } }
    }
  }
}`;
const DASHBOARD = `query($tenantId: ID) {
  licenseDashboard(tenantId: $tenantId) {
    devices { total licensed unlicensed pendingReconciliation }
    compliance { compliant outOfCompliance }
  }
}`;
const ACTIVE_ALERTS = `query($tenantId: ID) { alerts(tenantId: $tenantId, active: true) { edges { node { kind details } } } }`;

interface Decommissioned {
  decommissioned: number;
  alreadyDecommissioned: number;
  releasedAssignments: number;
  replayed: boolean;
  devices: {
    id: string;
    uuid: string;
    state: string;
    decommissionedAt: string | null;
    decommissionedBy: string | null;
    complianceStatus: string;
    complianceReasons: string[];
    assignments: { id: string }[];
  }[];
}

interface ListedDevice {
  id: string;
  uuid: string;
  hostname: string;
  state: string;
  complianceStatus: string;
  complianceReasons: string[];
}

describe('device lifecycle', () => {
  let server: TestServer;
  let slug = 0;
  const nextSlug = (prefix: string): string => `${prefix}-${++slug}`;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => server.runtime.clock.reset());

  async function decommission(token: string, input: Record<string, unknown>): Promise<Decommissioned> {
    return (await gqlData<{ decommissionDevices: Decommissioned }>(server, DECOMMISSION, { input }, token)).decommissionDevices;
  }

  /** Every device a filter lists, through all pages. */
  async function list(token: string, filter: Record<string, unknown>, tenantId?: string): Promise<ListedDevice[]> {
    const out: ListedDevice[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { devices: { edges: { node: ListedDevice }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gqlData(
        server,
        LIST,
        { filter, after, tenantId },
        token,
      );
      out.push(...page.devices.edges.map((e) => e.node));
      if (!page.devices.pageInfo.hasNextPage) return out;
      after = page.devices.pageInfo.endCursor;
    }
  }

  async function licensedTenant(prefix: string): Promise<AccountTenant> {
    const tenant = await createAccountTenant(server, nextSlug(prefix));
    await addLines(server, tenant, [
      { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 20 },
      { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 20 },
    ]);
    return tenant;
  }

  describe('decommissionDevices', () => {
    it('releases every license, marks the devices DECOMMISSIONED, audits it and leaves their history readable', async () => {
      const tenant = await licensedTenant('retire');
      const devices = await addDevices(server, tenant, 4);
      await assign(server, tenant.admin, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.admin, { deviceIds: devices.slice(0, 2), hsec: true });

      const before = Date.now();
      const result = await decommission(tenant.admin, { deviceIds: [devices[1], devices[0]] });
      expect(result).toMatchObject({ decommissioned: 2, alreadyDecommissioned: 0, releasedAssignments: 4, replayed: false });
      expect(result.devices.map((d) => d.id)).toEqual([devices[1], devices[0]]);
      for (const d of result.devices) {
        expect(d).toMatchObject({
          state: 'DECOMMISSIONED',
          decommissionedBy: 'test-user',
          complianceStatus: 'COMPLIANT',
          complianceReasons: [],
          assignments: [],
        });
        expect(Date.parse(d.decommissionedAt ?? '')).toBeGreaterThanOrEqual(before - 5_000);
      }

      // Their history stays readable: the licenses they held, released by the same actor.
      const node = await gqlData<{ node: { licenseHistory: { category: string; releasedAt: string | null; releasedBy: string; entitlement: { tag: string } }[] } }>(
        server,
        DEVICE,
        { id: devices[0] },
        tenant.admin,
      );
      expect(node.node.licenseHistory.map((h) => [h.category, h.entitlement.tag, h.releasedBy]).sort()).toEqual([
        ['DNA', dnaTag('A', 'T1'), 'test-user'],
        ['HSEC', HSEC_TAG, 'test-user'],
      ]);
      expect(node.node.licenseHistory.every((h) => h.releasedAt !== null)).toBe(true);

      const audit = await server.sql<{ action: string; target_ids: string[]; details: Record<string, unknown> }>(
        `select action, target_ids, details from audit_event where tenant_id = $1 and action in ('devices.decommissioned', 'licenses.released') order by created_at`,
        [tenant.uuid],
      );
      expect(audit.map((a) => a.action)).toEqual(['licenses.released', 'devices.decommissioned']);
      expect([...audit[1].target_ids].sort()).toEqual([dbId(devices[0]), dbId(devices[1])].sort());
      expect(audit[1].details).toMatchObject({ releasedAssignments: 4, alreadyDecommissioned: 0 });

      // The seats are free again: the two left plus two more fit in the DNA pool of 20 with room to spare.
      const [{ in_use: inUse }] = await server.sql<{ in_use: number }>(
        `select count(*)::int as in_use from assignment where tenant_id = $1 and released_at is null and category = 'DNA'`,
        [tenant.uuid],
      );
      expect(inUse).toBe(2);
    });

    it('leaves decommissioned devices out of the device list, the dashboard, compliance and alerts', async () => {
      const tenant = await createTrialTenant(server, nextSlug('counts'));
      const devices = await addDevices(server, tenant, 5);
      await assign(server, tenant.admin, { deviceIds: devices.slice(0, 3), level: 'ADVANTAGE', tier: 'T1' });
      const dashboard = async (): Promise<unknown> => (await gqlData<{ licenseDashboard: unknown }>(server, DASHBOARD, {}, tenant.admin)).licenseDashboard;
      expect(await dashboard()).toEqual({
        devices: { total: 5, licensed: 0, unlicensed: 5, pendingReconciliation: 3 },
        compliance: { compliant: 0, outOfCompliance: 5 },
      });
      const pendingAlert = async (): Promise<unknown> =>
        (await gqlData<{ alerts: { edges: { node: { kind: string; details: { pending?: number } } }[] } }>(server, ACTIVE_ALERTS, {}, tenant.admin)).alerts.edges
          .map((e) => e.node)
          .find((n) => n.kind === 'UNRECONCILED_ASSIGNMENTS')?.details.pending;
      expect(await pendingAlert()).toBe(3);

      await decommission(tenant.admin, { deviceIds: devices.slice(0, 3) });
      expect(await dashboard()).toEqual({
        devices: { total: 2, licensed: 0, unlicensed: 2, pendingReconciliation: 0 },
        compliance: { compliant: 0, outOfCompliance: 2 },
      });
      // The pending assignments went with the devices, and so did the alert about them.
      expect(await pendingAlert()).toBeUndefined();

      expect((await list(tenant.admin, {})).map((d) => d.id).sort()).toEqual(devices.slice(3).sort());
      const retired = await list(tenant.admin, { decommissioned: true });
      expect(retired.map((d) => d.id).sort()).toEqual(devices.slice(0, 3).sort());
      expect(retired.every((d) => d.state === 'DECOMMISSIONED' && d.complianceStatus === 'COMPLIANT')).toBe(true);
    });

    it('brings a uuid registered again back as a new device, while the retired one keeps its history', async () => {
      const tenant = await createTrialTenant(server, nextSlug('again'));
      const [old] = await addDevices(server, tenant, 1, {}, 77);
      await decommission(tenant.admin, { deviceIds: [old] });

      const again = await gqlData<{ registerDevices: { created: number; updated: number; devices: { id: string; uuid: string }[] } }>(
        server,
        REGISTER_DEVICES,
        { input: { devices: [deviceInput(77, { hostname: 'edge-reborn.example' })] } },
        tenant.admin,
      );
      expect(again.registerDevices).toMatchObject({ created: 1, updated: 0 });
      const [fresh] = again.registerDevices.devices;
      expect(fresh.id).not.toBe(old);
      expect(fresh.uuid).toBe(deviceInput(77).uuid);
      // Registering it once more updates the new device, not the retired one.
      const third = await registerDevices(server, tenant.admin, [deviceInput(77, { hostname: 'edge-reborn-2.example' })]);
      expect(third[0].id).toBe(fresh.id);

      const oldNode = await gqlData<{ node: { state: string; uuid: string } }>(server, DEVICE, { id: old }, tenant.admin);
      expect(oldNode.node).toMatchObject({ state: 'DECOMMISSIONED', uuid: deviceInput(77).uuid });
      const freshNode = await gqlData<{ node: { state: string; complianceReasons: string[] } }>(server, DEVICE, { id: fresh.id }, tenant.admin);
      expect(freshNode.node).toMatchObject({ state: 'ACTIVE', complianceReasons: ['UNASSIGNED'] });
    });

    it('refuses to assign to a decommissioned device, naming it, and changes nothing', async () => {
      const tenant = await licensedTenant('no-assign');
      const devices = await addDevices(server, tenant, 3);
      await decommission(tenant.admin, { deviceIds: [devices[2]] });
      const err = await gqlError(server, ASSIGN_COUNTS, { input: { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', decommissionedDeviceIds: [devices[2]] });
      expect(err.message).toContain('decommissioned');
      const [{ n }] = await server.sql<{ n: number }>('select count(*)::int as n from assignment where tenant_id = $1', [tenant.uuid]);
      expect(n).toBe(0);
    });

    it('is all or nothing, idempotent with a key, and leaves an already decommissioned device as it was', async () => {
      const tenant = await licensedTenant('atomic');
      const devices = await addDevices(server, tenant, 3);
      await assign(server, tenant.admin, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });
      const unknown = Buffer.from('Device:00000000-0000-4000-8000-000000000000').toString('base64url');

      const missing = await gqlError(server, DECOMMISSION, { input: { deviceIds: [devices[0], unknown] } }, tenant.admin);
      expect(missing.extensions).toMatchObject({ code: 'NOT_FOUND', deviceIds: [unknown] });
      const after = await server.sql<{ n: number }>(
        `select count(*)::int as n from device where tenant_id = $1 and decommissioned_at is not null`,
        [tenant.uuid],
      );
      expect(after[0].n).toBe(0);

      const first = await decommission(tenant.admin, { deviceIds: [devices[0]], idempotencyKey: 'retire-0' });
      const retry = await decommission(tenant.admin, { deviceIds: [devices[0]], idempotencyKey: 'retire-0' });
      expect(first.replayed).toBe(false);
      expect(retry).toEqual({ ...first, replayed: true });
      const other = await gqlError(server, DECOMMISSION, { input: { deviceIds: [devices[1]], idempotencyKey: 'retire-0' } }, tenant.admin);
      expect(other.extensions?.code).toBe('CONFLICT');

      const mixed = await decommission(tenant.admin, { deviceIds: [devices[0], devices[1]] });
      expect(mixed).toMatchObject({ decommissioned: 1, alreadyDecommissioned: 1, releasedAssignments: 1 });
      expect(mixed.devices[0].decommissionedAt).toBe(first.devices[0].decommissionedAt);
    });

    it('refuses bad input with a code and changes nothing', async () => {
      const tenant = await createTrialTenant(server, nextSlug('bad'));
      const devices = await addDevices(server, tenant, 2);
      const both = await gqlError(server, DECOMMISSION, { input: { deviceIds: devices, filter: { model: 'C8000V' } } }, tenant.admin);
      expect(both.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'filter' });
      const neither = await gqlError(server, DECOMMISSION, { input: {} }, tenant.admin);
      expect(neither.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'deviceIds' });
      const empty = await gqlError(server, DECOMMISSION, { input: { deviceIds: [] } }, tenant.admin);
      expect(empty.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'deviceIds' });
      const notAnId = await gqlError(server, DECOMMISSION, { input: { deviceIds: ['nope'] } }, tenant.admin);
      expect(notAnId.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'deviceIds[0]' });
      const operator = await gqlError(server, DECOMMISSION, { input: { deviceIds: devices } }, tenant.operator);
      expect(operator.extensions?.code).toBe('FORBIDDEN');
      const [{ n }] = await server.sql<{ n: number }>('select count(*)::int as n from device where tenant_id = $1 and decommissioned_at is not null', [tenant.uuid]);
      expect(n).toBe(0);
    });

    it("cannot touch another tenant's devices; a provider names the tenant", async () => {
      const a = await createTrialTenant(server, nextSlug('cross-a'));
      const b = await createTrialTenant(server, nextSlug('cross-b'));
      const [aDevice] = await addDevices(server, a, 1);
      await addDevices(server, b, 2, {}, 500);

      const foreign = await gqlError(server, DECOMMISSION, { input: { deviceIds: [aDevice] } }, b.admin);
      expect(foreign.extensions).toMatchObject({ code: 'NOT_FOUND', deviceIds: [aDevice] });
      const wrongTenant = await gqlError(server, DECOMMISSION, { input: { tenantId: a.id, deviceIds: [aDevice] } }, b.admin);
      expect(wrongTenant.extensions?.code).toBe('NOT_FOUND');
      // B's filter matching every device decommissions only B's.
      const byFilter = await decommission(b.admin, { filter: {} });
      expect(byFilter.decommissioned).toBe(2);
      const aState = await gqlData<{ node: { state: string } }>(server, DEVICE, { id: aDevice }, a.admin);
      expect(aState.node.state).toBe('ACTIVE');
      // B cannot read A's retired devices either.
      expect(await list(b.admin, { decommissioned: true })).toHaveLength(2);

      const provider = server.token('PROVIDER_ADMIN');
      const noTenant = await gqlError(server, DECOMMISSION, { input: { deviceIds: [aDevice] } }, provider);
      expect(noTenant.extensions?.code).toBe('BAD_USER_INPUT');
      const viaProvider = await decommission(provider, { tenantId: a.id, deviceIds: [aDevice] });
      expect(viaProvider.devices[0]).toMatchObject({ id: aDevice, state: 'DECOMMISSIONED', decommissionedBy: 'test-user' });
    });
  });

  describe('bulk operations by filter', () => {
    it('assigns DNA Advantage T1 to every unlicensed C8000V at one site, and releases by filter', async () => {
      const tenant = await licensedTenant('by-filter');
      const site = '4242';
      const atSite = await addDevices(server, tenant, 4, { siteId: site }, 1);
      const elsewhere = await addDevices(server, tenant, 2, {}, 100);
      const otherModel = await addDevices(server, tenant, 1, { siteId: site, model: 'C8300' }, 200);
      // One device at the site already holds a license: it is not "unlicensed", so it is left alone.
      await assign(server, tenant.admin, { deviceIds: [atSite[0]], level: 'ADVANTAGE', tier: 'T1' });

      const filter = { model: 'C8000V', siteId: site, licensed: false };
      const res = await gqlData<{ assignLicenses: { assigned: number; replaced: number; unchanged: number } }>(
        server,
        ASSIGN_COUNTS,
        { input: { filter, level: 'ADVANTAGE', tier: 'T1' } },
        tenant.admin,
      );
      expect(res.assignLicenses).toEqual({ assigned: 3, replaced: 0, unchanged: 0, pending: 0 });
      const holders = await server.sql<{ device_id: string }>(
        `select device_id from assignment where tenant_id = $1 and released_at is null order by device_id`,
        [tenant.uuid],
      );
      expect(holders.map((h) => h.device_id)).toEqual(atSite.map(dbId).sort());
      expect(elsewhere.concat(otherModel).some((d) => holders.some((h) => h.device_id === dbId(d)))).toBe(false);
      const audit = await server.sql<{ n: number }>(
        `select cardinality(target_ids) as n from audit_event where tenant_id = $1 and action = 'licenses.assigned' order by created_at desc limit 1`,
        [tenant.uuid],
      );
      expect(audit).toEqual([{ n: 3 }]);

      // Nothing left matches: assigning again is a no-op, not an error.
      const again = await gqlData<{ assignLicenses: { assigned: number } }>(server, ASSIGN_COUNTS, { input: { filter, level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
      expect(again.assignLicenses.assigned).toBe(0);

      const released = await gqlData<{ releaseLicenses: { released: number; unchanged: number } }>(
        server,
        RELEASE,
        { input: { filter: { siteId: site } } },
        tenant.admin,
      );
      expect(released.releaseLicenses).toMatchObject({ released: 4, unchanged: 1 });
    });

    it('refuses a filter that matches more than 10,000 devices, and a filter of decommissioned devices', async () => {
      const tenant = await createTrialTenant(server, nextSlug('too-many'));
      // Arranged in SQL (registerDevices takes 10,000 per call): 10,001 devices.
      await server.sql(
        `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version)
         select $1, 'BULK-' || g, 'bulk-' || lpad(g::text, 6, '0') || '.example', 'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a'
           from generate_series(1, 10001) g`,
        [tenant.uuid],
      );
      for (const query of [ASSIGN_COUNTS, RELEASE, DECOMMISSION]) {
        const input = query === ASSIGN_COUNTS ? { filter: { model: 'C8000V' }, level: 'ADVANTAGE', tier: 'T1' } : { filter: { model: 'C8000V' } };
        const err = await gqlError(server, query, { input }, tenant.admin);
        expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'filter', maxDevices: 10_000 });
        expect(err.message).toContain('more than 10,000 devices');
      }
      const [{ n }] = await server.sql<{ n: number }>(
        `select (select count(*) from assignment where tenant_id = $1) + (select count(*) from device where tenant_id = $1 and decommissioned_at is not null) as n`,
        [tenant.uuid],
      );
      expect(Number(n)).toBe(0);

      const retired = await gqlError(server, ASSIGN_COUNTS, { input: { filter: { decommissioned: true }, level: 'ADVANTAGE', tier: 'T1' } }, tenant.admin);
      expect(retired.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'filter.decommissioned' });
    });
  });

  describe('device filters', () => {
    it('filters on compliance status and each reason exactly as the devices report them', async () => {
      const tenant = await licensedTenant('reasons');
      const [tight] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T2'), billingType: 'PREPAID', quantity: 2, endInDays: 10 }]);
      const devices = await addDevices(server, tenant, 8);
      // 0-1: compliant (DNA A T1). 2-3: A T2 from a line that will expire and be over-allocated.
      // 4: not applicable after a downgrade. 5: unassigned. 6-7: HSEC only (unassigned DNA).
      await assign(server, tenant.admin, { deviceIds: devices.slice(0, 2), level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.admin, { deviceIds: devices.slice(2, 4), level: 'ADVANTAGE', tier: 'T2', subscriptionId: undefined });
      await assign(server, tenant.admin, { deviceIds: [devices[4]], level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.admin, { deviceIds: devices.slice(6, 8), hsec: true });
      await registerDevices(server, tenant.admin, [deviceInput(5, { hsecCompatible: true, softwareVersion: '16.12.1' })]);
      await server.sql('update license set quantity = 1 where tenant_id = $1 and id = $2', [tenant.uuid, dbId(tight)]);
      server.runtime.clock.advance(12 * 86_400_000);

      const all = await list(tenant.admin, {});
      const reasonsOf = new Map(all.map((d) => [d.id, d.complianceReasons]));
      expect(reasonsOf.get(devices[0])).toEqual([]);
      expect(reasonsOf.get(devices[2])).toEqual(['LICENSE_EXPIRED', 'OVER_ALLOCATED']);
      expect(reasonsOf.get(devices[4])).toEqual(['NOT_APPLICABLE']);
      expect(reasonsOf.get(devices[5])).toEqual(['UNASSIGNED']);

      const ids = (ds: ListedDevice[]): string[] => ds.map((d) => d.id).sort();
      for (const reason of ['UNASSIGNED', 'PENDING_RECONCILIATION', 'LICENSE_EXPIRED', 'NOT_APPLICABLE', 'OVER_ALLOCATED']) {
        const expected = all.filter((d) => d.complianceReasons.includes(reason));
        expect({ reason, ids: ids(await list(tenant.admin, { complianceReason: reason })) }).toEqual({ reason, ids: ids(expected) });
      }
      expect(ids(await list(tenant.admin, { complianceStatus: 'OUT_OF_COMPLIANCE' }))).toEqual(ids(all.filter((d) => d.complianceReasons.length > 0)));
      expect(ids(await list(tenant.admin, { complianceStatus: 'COMPLIANT' }))).toEqual([devices[0], devices[1]].sort());

      // A trial tenant's pending assignments.
      const trial = await createTrialTenant(server, nextSlug('pending'));
      const trialDevices = await addDevices(server, trial, 3);
      await assign(server, trial.admin, { deviceIds: trialDevices.slice(0, 2), level: 'ADVANTAGE', tier: 'T1' });
      expect(ids(await list(trial.admin, { complianceReason: 'PENDING_RECONCILIATION' }))).toEqual(trialDevices.slice(0, 2).sort());
      expect(ids(await list(trial.admin, { licensed: false }))).toEqual([...trialDevices].sort());
    });

    it('filters on license, billing type, virtual account, site, release and HSEC capability', async () => {
      const tenant = await createAccountTenant(server, nextSlug('attrs'), [{ externalId: 'EAST', name: 'East', managed: true }]);
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
        { tag: dnaTag('E', 'T1'), billingType: 'POSTPAID', quantity: 100, va: 'EAST' },
      ]);
      const devices = await addDevices(server, tenant, 6, {}, 300);
      await registerDevices(server, tenant.admin, [deviceInput(305, { softwareVersion: '17.12.1', siteId: '9', hsecCompatible: false })]);
      await assign(server, tenant.admin, { deviceIds: devices.slice(0, 2), level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.admin, { deviceIds: devices.slice(2, 4), level: 'ESSENTIALS', tier: 'T1' });
      const ids = async (filter: Record<string, unknown>): Promise<string[]> => (await list(tenant.admin, filter)).map((d) => d.id).sort();

      expect(await ids({ licensed: true })).toEqual(devices.slice(0, 4).sort());
      expect(await ids({ licensed: false })).toEqual(devices.slice(4).sort());
      expect(await ids({ entitlementTag: dnaTag('E', 'T1') })).toEqual(devices.slice(2, 4).sort());
      expect(await ids({ entitlementTag: 'regid.unknown' })).toEqual([]);
      expect(await ids({ billingType: 'PREPAID' })).toEqual(devices.slice(0, 2).sort());
      expect(await ids({ billingType: 'POSTPAID' })).toEqual(devices.slice(2, 4).sort());
      expect(await ids({ virtualAccountId: tenant.va.EAST })).toEqual(devices.slice(2, 4).sort());
      expect(await ids({ siteId: '9' })).toEqual([devices[5]]);
      expect(await ids({ softwareVersion: '17.12.1' })).toEqual([devices[5]]);
      expect(await ids({ hsecCompatible: false })).toEqual([devices[5]]);
      expect(await ids({ hsecCompatible: true, licensed: false })).toEqual([devices[4]]);

      const bad = await gqlError(server, LIST, { filter: { virtualAccountId: 'nope' } }, tenant.admin);
      expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'filter.virtualAccountId' });
      const long = await gqlError(server, LIST, { filter: { siteId: 'x'.repeat(101) } }, tenant.admin);
      expect(long.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'filter.siteId' });
    });
  });

  describe('GET /files/devices.csv', () => {
    const csvUrl = (query: Record<string, string> = {}): string => `${server.origin}/files/devices.csv?${new URLSearchParams(query)}`;
    const get = (url: string, token?: string): Promise<Response> => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    /** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
    function parseCsv(text: string): string[][] {
      const records: string[][] = [];
      let field = '';
      let record: string[] = [];
      let quoted = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
          if (c === '"' && text[i + 1] === '"') {
            field += '"';
            i++;
          } else if (c === '"') quoted = false;
          else field += c;
        } else if (c === '"') quoted = true;
        else if (c === ',') {
          record.push(field);
          field = '';
        } else if (c === '\r' && text[i + 1] === '\n') {
          record.push(field);
          records.push(record);
          record = [];
          field = '';
          i++;
        } else field += c;
      }
      expect(field).toBe('');
      expect(record).toEqual([]);
      return records;
    }

    it('streams the filtered devices with compliance and held licenses, tenant-scoped by the token', async () => {
      const tenant = await licensedTenant('csv');
      const other = await createTrialTenant(server, nextSlug('csv-other'));
      await addDevices(server, other, 3, {}, 900);
      // 4,500 devices arranged in SQL (three pages of 2,000), plus three through the API.
      await server.sql(
        `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version, site_id)
         select $1, 'CSV-' || g, 'csv-' || lpad(g::text, 6, '0') || '.example', 'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a', '7'
           from generate_series(1, 4500) g`,
        [tenant.uuid],
      );
      const devices = await addDevices(server, tenant, 3, { siteId: '8' }, 10);
      await assign(server, tenant.admin, { deviceIds: devices.slice(0, 2), level: 'ADVANTAGE', tier: 'T1' });

      const res = await get(csvUrl(), tenant.admin);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="devices.csv"');
      expect(res.headers.get('content-length')).toBeNull();
      const rows = parseCsv(await res.text());
      const [header, ...body] = rows;
      expect(header.slice(0, 4)).toEqual(['tenant', 'id', 'uuid', 'hostname']);
      expect(body).toHaveLength(4503);
      expect(new Set(body.map((r) => r[0]))).toEqual(new Set([tenant.slug]));
      const hostnames = body.map((r) => r[3]);
      expect(hostnames).toEqual([...hostnames].sort());
      const col = (name: string): number => header.indexOf(name);
      const licensed = body.find((r) => r[col('id')] === devices[0]) as string[];
      expect(licensed[col('compliance_status')]).toBe('COMPLIANT');
      expect(licensed[col('dna_entitlement')]).toBe(dnaTag('A', 'T1'));
      expect(licensed[col('dna_status')]).toBe('ACTIVE');
      expect(licensed[col('dna_billing_type')]).toBe('PREPAID');
      const bare = body.find((r) => r[col('id')] === devices[2]) as string[];
      expect([bare[col('compliance_status')], bare[col('compliance_reasons')], bare[col('dna_entitlement')]]).toEqual(['OUT_OF_COMPLIANCE', 'UNASSIGNED', '']);

      // The same filters as the device list.
      const filtered = parseCsv(await (await get(csvUrl({ siteId: '8', licensed: 'true' }), tenant.admin)).text());
      expect(filtered.slice(1).map((r) => r[col('id')]).sort()).toEqual(devices.slice(0, 2).sort());

      // A provider sees every tenant without tenantId, one with it.
      const provider = server.token('PROVIDER_ADMIN');
      const scoped = parseCsv(await (await get(csvUrl({ tenantId: other.id }), provider)).text());
      expect(scoped.slice(1).map((r) => r[0])).toEqual([other.slug, other.slug, other.slug]);
    });

    it('refuses a bad query with a coded 400, a missing token with 401 and another tenant with 404', async () => {
      const tenant = await createTrialTenant(server, nextSlug('csv-bad'));
      const other = await createTenant(server, nextSlug('csv-else'));
      const badEnum = await get(csvUrl({ complianceStatus: 'MAYBE' }), tenant.admin);
      expect(badEnum.status).toBe(400);
      expect(((await badEnum.json()) as { errors: { extensions: { code: string; argumentName: string } }[] }).errors[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argumentName: 'complianceStatus',
      });
      const unknown = await get(csvUrl({ colour: 'red' }), tenant.admin);
      expect(unknown.status).toBe(400);
      const noToken = await get(csvUrl());
      expect(noToken.status).toBe(401);
      expect(((await noToken.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const foreign = await get(csvUrl({ tenantId: other.id }), tenant.admin);
      expect(foreign.status).toBe(404);
      expect(((await foreign.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('NOT_FOUND');
    });
  });
});
