import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  addDevices,
  addLines,
  assign,
  assignError,
  configureAccounts,
  countRows,
  createAccountTenant,
  createTrialTenant,
  currentAssignments,
  dbId,
  day,
  dnaTag,
  gqlData,
  gqlError,
  globalId,
  HSEC_TAG,
  tokenFor,
  type AccountTenant,
  type AssignPayload,
  type Billing,
} from './support/assignment-fixtures';
import { deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * Assigning and releasing licenses, end to end through the real server and PostgreSQL: applicability,
 * the prepaid hard cap (also under 100 concurrent calls), idempotent retries, trial reconciliation,
 * device compliance, the license dashboard and the statement count of device pages.
 */

const RELEASE = `mutation($input: ReleaseLicensesInput!) {
  releaseLicenses(input: $input) {
    released unchanged replayed
    releasedAssignments { id category device { id } entitlement { tag } releasedAt releasedBy }
  }
}`;
const RECONCILE = `mutation($input: ReconcileAssignmentsInput) {
  reconcileAssignments(input: $input) {
    reconciled stillPending
    reconciledAssignments { id status device { id } license { id } }
  }
}`;
const DEVICES = `query($first: Int) {
  devices(first: $first) {
    edges { node { id complianceStatus complianceReasons assignments { id category status entitlement { tag } license { id } } } }
  }
}`;
const LICENSES = `query { licenses(first: 100) { edges { node { id quantity inUse available billingType } } } }`;
/** assignLicenses asking for the counts only: the server builds no assignment objects for it. */
const ASSIGN_COUNTS = `mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned replaced unchanged pending replayed } }`;
const ASSIGN_BY_FRAGMENT = `mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { ...Outcome } }
  fragment Outcome on AssignLicensesPayload { unchanged ... on AssignLicensesPayload { assignments { device { id } license { id } } } }`;
type Counts = Omit<AssignPayload, 'assignments'>;
const AUDIT = `query { auditEvents(first: 100) { edges { node { action targetType targetIds actorSubject details } } } }`;

interface ReleasePayload {
  released: number;
  unchanged: number;
  replayed: boolean;
  releasedAssignments: { id: string; category: string; device: { id: string }; entitlement: { tag: string }; releasedAt: string | null; releasedBy: string | null }[];
}
interface ReconcilePayload {
  reconciled: number;
  stillPending: number;
  reconciledAssignments: { id: string; status: string; device: { id: string }; license: { id: string } | null }[];
}
interface DeviceLicensing {
  id: string;
  complianceStatus: 'COMPLIANT' | 'OUT_OF_COMPLIANCE';
  complianceReasons: string[];
  assignments: { id: string; category: string; status: string; entitlement: { tag: string }; license: { id: string } | null }[];
}
interface LicenseNode {
  id: string;
  quantity: number;
  inUse: number;
  available: number | null;
  billingType: Billing;
}
interface AuditNode {
  action: string;
  targetType: string;
  targetIds: string[];
  actorSubject: string;
  details: Record<string, unknown>;
}

describe('license assignment', () => {
  let server: TestServer;
  let seq = 0;
  const slug = (label: string): string => `asg-${label}-${++seq}`;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const release = async (token: string, input: Record<string, unknown>): Promise<ReleasePayload> =>
    (await gqlData<{ releaseLicenses: ReleasePayload }>(server, RELEASE, { input }, token)).releaseLicenses;
  const reconcile = async (token: string): Promise<ReconcilePayload> =>
    (await gqlData<{ reconcileAssignments: ReconcilePayload }>(server, RECONCILE, { input: {} }, token)).reconcileAssignments;
  const devicesOf = async (tenant: AccountTenant): Promise<Map<string, DeviceLicensing>> => {
    const data = await gqlData<{ devices: { edges: { node: DeviceLicensing }[] } }>(server, DEVICES, { first: 100 }, tenant.operator);
    return new Map(data.devices.edges.map((e) => [e.node.id, e.node]));
  };
  const licensesOf = async (tenant: AccountTenant): Promise<Map<string, LicenseNode>> => {
    const data = await gqlData<{ licenses: { edges: { node: LicenseNode }[] } }>(server, LICENSES, {}, tenant.operator);
    return new Map(data.licenses.edges.map((e) => [e.node.id, e.node]));
  };
  const auditOf = async (tenant: AccountTenant, action?: string): Promise<AuditNode[]> => {
    const data = await gqlData<{ auditEvents: { edges: { node: AuditNode }[] } }>(server, AUDIT, {}, tenant.operator);
    return data.auditEvents.edges.map((e) => e.node).filter((n) => action === undefined || n.action === action);
  };
  const assignCounts = async (token: string, input: Record<string, unknown>): Promise<Counts> =>
    (await gqlData<{ assignLicenses: Counts }>(server, ASSIGN_COUNTS, { input }, token)).assignLicenses;
  /** Current DNA/HSEC rows per device, straight from the table. */
  const heldPerDevice = async (tenant: AccountTenant): Promise<Map<string, { dna: number; hsec: number }>> => {
    const rows = await server.sql<{ device_id: string; dna: number; hsec: number }>(
      `select device_id, count(*) filter (where category = 'DNA')::int as dna, count(*) filter (where category = 'HSEC')::int as hsec
         from assignment where tenant_id = $1 and released_at is null group by device_id`,
      [tenant.uuid],
    );
    return new Map(rows.map((r) => [r.device_id, { dna: r.dna, hsec: r.hsec }]));
  };

  describe('assigning', () => {
    it('assigns a DNA level and tier and returns each device’s assignment in input order', async () => {
      const tenant = await createAccountTenant(server, slug('level'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const devices = await addDevices(server, tenant, 3);
      const input = [devices[2], devices[0], devices[1]];

      const res = await assign(server, tenant.operator, { deviceIds: input, level: 'ADVANTAGE', tier: 'T1' });

      expect(res).toMatchObject({ assigned: 3, replaced: 0, unchanged: 0, pending: 0, replayed: false });
      expect(res.assignments.map((a) => a.device.id)).toEqual(input);
      for (const a of res.assignments) {
        expect(a).toMatchObject({
          status: 'ACTIVE',
          category: 'DNA',
          entitlement: { tag: dnaTag('A', 'T1') },
          license: { id: line, billingType: 'PREPAID' },
          releasedAt: null,
        });
      }
      const rows = await currentAssignments(server, tenant);
      expect(rows.map((r) => r.device_id).sort()).toEqual(devices.map(dbId).sort());
      expect(new Set(rows.map((r) => r.license_id))).toEqual(new Set([dbId(line)]));
      expect((await licensesOf(tenant)).get(line)).toMatchObject({ quantity: 5, inUse: 3, available: 2 });
    });

    it('assigns by entitlement tag exactly as by level and tier', async () => {
      const tenant = await createAccountTenant(server, slug('tag'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('P', 'T2'), billingType: 'POSTPAID', quantity: 0 }]);
      const devices = await addDevices(server, tenant, 2);

      const res = await assign(server, tenant.operator, { deviceIds: devices, entitlementTag: dnaTag('P', 'T2') });

      expect(res).toMatchObject({ assigned: 2, replaced: 0, unchanged: 0, pending: 0 });
      expect(res.assignments.map((a) => [a.device.id, a.entitlement.tag, a.license?.id])).toEqual(
        devices.map((d) => [d, dnaTag('P', 'T2'), line]),
      );
    });

    it('assigns HSEC next to the DNA license a device holds, without replacing it', async () => {
      const tenant = await createAccountTenant(server, slug('hsec'));
      const [dnaLine, hsecLine] = await addLines(server, tenant, [
        { tag: dnaTag('E', 'T0'), billingType: 'PREPAID', quantity: 2 },
        { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 2 },
      ]);
      const [device] = await addDevices(server, tenant, 1, { hsecCompatible: true });
      const dna = await assign(server, tenant.operator, { deviceIds: [device], level: 'ESSENTIALS', tier: 'T0' });

      const hsec = await assign(server, tenant.operator, { deviceIds: [device], hsec: true });

      expect(hsec).toMatchObject({ assigned: 1, replaced: 0, unchanged: 0, pending: 0 });
      expect(hsec.assignments[0]).toMatchObject({ category: 'HSEC', entitlement: { tag: HSEC_TAG }, license: { id: hsecLine } });
      const held = (await devicesOf(tenant)).get(device);
      expect(held?.assignments.map((a) => [a.category, a.id, a.license?.id])).toEqual([
        ['DNA', dna.assignments[0].id, dnaLine],
        ['HSEC', hsec.assignments[0].id, hsecLine],
      ]);
      expect(held?.complianceStatus).toBe('COMPLIANT');
      expect((await heldPerDevice(tenant)).get(dbId(device))).toEqual({ dna: 1, hsec: 1 });
    });

    it('leaves devices that already hold the requested license unchanged and only assigns the others', async () => {
      const tenant = await createAccountTenant(server, slug('same'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 3 }]);
      const [d1, d2, d3] = await addDevices(server, tenant, 3);
      const first = await assign(server, tenant.operator, { deviceIds: [d1, d2], level: 'ADVANTAGE', tier: 'T1' });
      const auditBefore = (await auditOf(tenant, 'licenses.assigned')).length;

      const again = await assign(server, tenant.operator, { deviceIds: [d2, d1], level: 'ADVANTAGE', tier: 'T1' });
      expect(again).toMatchObject({ assigned: 0, replaced: 0, unchanged: 2, pending: 0, replayed: false });
      expect(again.assignments.map((a) => a.id)).toEqual([first.assignments[1].id, first.assignments[0].id]);
      expect(await countRows(server, 'assignment', tenant)).toBe(2);
      expect(await auditOf(tenant, 'licenses.assigned')).toHaveLength(auditBefore);

      const mixed = await assign(server, tenant.operator, { deviceIds: [d1, d3], level: 'ADVANTAGE', tier: 'T1' });
      expect(mixed).toMatchObject({ assigned: 1, replaced: 0, unchanged: 1 });
      expect(mixed.assignments[0].id).toBe(first.assignments[0].id);
      expect(mixed.assignments[1].device.id).toBe(d3);
    });

    it('replaces a different DNA license in the same call, releasing the old one, and keeps HSEC', async () => {
      const tenant = await createAccountTenant(server, slug('replace'));
      const [advLine, essLine] = await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 1 },
        { tag: dnaTag('E', 'T1'), billingType: 'PREPAID', quantity: 2 },
        { tag: HSEC_TAG, billingType: 'POSTPAID', quantity: 0 },
      ]);
      const [d1, d2] = await addDevices(server, tenant, 2, { hsecCompatible: true });
      const old = await assign(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1' });
      const hsec = await assign(server, tenant.operator, { deviceIds: [d1], hsec: true });

      const res = await assign(server, tenant.operator, { deviceIds: [d1, d2], level: 'ESSENTIALS', tier: 'T1' });

      expect(res).toMatchObject({ assigned: 2, replaced: 1, unchanged: 0, pending: 0 });
      expect(res.assignments.map((a) => [a.device.id, a.entitlement.tag, a.license?.id])).toEqual([
        [d1, dnaTag('E', 'T1'), essLine],
        [d2, dnaTag('E', 'T1'), essLine],
      ]);
      const [oldRow] = await server.sql<{ released_at: Date | null; released_by: string | null }>(
        'select released_at, released_by from assignment where id = $1',
        [dbId(old.assignments[0].id)],
      );
      expect(oldRow.released_at).toBeInstanceOf(Date);
      expect(oldRow.released_by).toBe('test-user');
      const held = await heldPerDevice(tenant);
      expect(held.get(dbId(d1))).toEqual({ dna: 1, hsec: 1 });
      expect(held.get(dbId(d2))).toEqual({ dna: 1, hsec: 0 });
      const current = await currentAssignments(server, tenant);
      expect(current.filter((r) => r.category === 'HSEC').map((r) => r.id)).toEqual([dbId(hsec.assignments[0].id)]);
      const lines = await licensesOf(tenant);
      expect(lines.get(advLine)).toMatchObject({ inUse: 0, available: 1 });
      expect(lines.get(essLine)).toMatchObject({ inUse: 2, available: 0 });
    });

    it('counts, releases, binds and audits exactly the same when the caller selects only the counts', async () => {
      const tenant = await createAccountTenant(server, slug('counts-only'));
      const [advLine, essLine, essLater] = await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 1 },
        { tag: dnaTag('E', 'T1'), billingType: 'PREPAID', quantity: 2, endInDays: 200 },
        { tag: dnaTag('E', 'T1'), billingType: 'PREPAID', quantity: 2, endInDays: 400 },
      ]);
      const [d1, d2, d3] = await addDevices(server, tenant, 3);
      await assign(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1' });

      const res = await assignCounts(tenant.operator, { deviceIds: [d3, d1, d2], level: 'ESSENTIALS', tier: 'T1' });

      expect(res).toEqual({ assigned: 3, replaced: 1, unchanged: 0, pending: 0, replayed: false });
      // Input order over the earliest-ending line first: d3 and d1 on it, d2 on the later one.
      const current = await currentAssignments(server, tenant);
      expect(new Map(current.map((r) => [r.device_id, r.license_id]))).toEqual(
        new Map([[dbId(d3), dbId(essLine)], [dbId(d1), dbId(essLine)], [dbId(d2), dbId(essLater)]]),
      );
      const lines = await licensesOf(tenant);
      expect(lines.get(advLine)).toMatchObject({ inUse: 0 });
      const [audited] = await auditOf(tenant, 'licenses.assigned');
      expect(audited).toMatchObject({ targetIds: [d3, d1, d2], details: { replaced: 1, pending: 0, licenses: { [dbId(essLine)]: 2, [dbId(essLater)]: 1 } } });

      expect(await assignCounts(tenant.operator, { deviceIds: [d1, d2, d3], level: 'ESSENTIALS', tier: 'T1' })).toEqual({
        assigned: 0, replaced: 0, unchanged: 3, pending: 0, replayed: false,
      });
      // Selected through fragments, the assignments are there, in input order.
      const viaFragment = await gqlData<{ assignLicenses: { unchanged: number; assignments: { device: { id: string }; license: { id: string } }[] } }>(
        server, ASSIGN_BY_FRAGMENT, { input: { deviceIds: [d2, d3], level: 'ESSENTIALS', tier: 'T1' } }, tenant.operator,
      );
      expect(viaFragment.assignLicenses.assignments.map((a) => [a.device.id, a.license.id])).toEqual([[d2, essLater], [d3, essLine]]);
    });

    it('counts pending default entitlements of a trial tenant when the caller selects only the counts', async () => {
      const tenant = await createTrialTenant(server, slug('counts-trial'));
      const devices = await addDevices(server, tenant, 2);

      expect(await assignCounts(tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' })).toEqual({
        assigned: 2, replaced: 0, unchanged: 0, pending: 2, replayed: false,
      });
      const current = await currentAssignments(server, tenant);
      expect(current.map((r) => [r.status, r.license_id])).toEqual([['PENDING_RECONCILIATION', null], ['PENDING_RECONCILIATION', null]]);
    });

    it('lets a provider operator assign for a tenant named by tenantId', async () => {
      const tenant = await createAccountTenant(server, slug('provider'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T0'), billingType: 'PREPAID', quantity: 1 }]);
      const [device] = await addDevices(server, tenant, 1);

      const res = await assign(server, server.token('PROVIDER_OPERATOR', undefined, { sub: 'noc-1' }), {
        tenantId: tenant.id,
        deviceIds: [device],
        level: 'ADVANTAGE',
        tier: 'T0',
      });

      expect(res.assignments).toEqual([expect.objectContaining({ assignedBy: 'noc-1', license: { id: line, billingType: 'PREPAID' } })]);
      expect(await auditOf(tenant, 'licenses.assigned')).toEqual([expect.objectContaining({ actorSubject: 'noc-1' })]);
    });

    it('moves a device off an expired line onto a running one when its license is assigned again', async () => {
      const tenant = await createAccountTenant(server, slug('renew'));
      const [ended, running] = await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 1, endInDays: 100 },
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 1, endInDays: 300 },
      ]);
      const [device] = await addDevices(server, tenant, 1);
      const first = await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
      expect(first.assignments[0].license?.id).toBe(ended);
      await server.sql('update license set end_date = current_date - 5 where id = $1', [dbId(ended)]);

      const res = await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

      expect(res).toMatchObject({ assigned: 1, replaced: 1, unchanged: 0 });
      expect(res.assignments[0].license?.id).toBe(running);
      expect((await devicesOf(tenant)).get(device)).toMatchObject({ complianceStatus: 'COMPLIANT', complianceReasons: [] });
    });

    it('takes the earliest-ending prepaid line first, then the next one, then postpaid', async () => {
      const tenant = await createAccountTenant(server, slug('order'));
      const [late, early, postpaid] = await addLines(server, tenant, [
        { tag: dnaTag('A', 'T2'), billingType: 'PREPAID', quantity: 1, endInDays: 300 },
        { tag: dnaTag('A', 'T2'), billingType: 'PREPAID', quantity: 2, endInDays: 100 },
        { tag: dnaTag('A', 'T2'), billingType: 'POSTPAID', quantity: 0, endInDays: 50 },
      ]);
      const devices = await addDevices(server, tenant, 5);

      const res = await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T2' });

      expect(res.assignments.map((a) => a.license?.id)).toEqual([early, early, late, postpaid, postpaid]);
    });
  });

  describe('refusing, all or nothing', () => {
    const expectNothingWritten = async (tenant: AccountTenant): Promise<void> => {
      expect(await countRows(server, 'assignment', tenant)).toBe(0);
      expect(await auditOf(tenant, 'licenses.assigned')).toEqual([]);
    };

    it('refuses HSEC for a vEdge device, naming it and why, and assigns nothing to the valid devices', async () => {
      const tenant = await createAccountTenant(server, slug('vedge-hsec'));
      await addLines(server, tenant, [{ tag: HSEC_TAG, billingType: 'PREPAID', quantity: 10 }]);
      const valid = await addDevices(server, tenant, 2, { hsecCompatible: true });
      const [vedge] = await addDevices(
        server,
        tenant,
        1,
        { uuid: 'VEDGE-0001', hostname: 'vedge-1.example', kind: 'VEDGE', model: 'vEdge-2000', softwareVersion: '20.9.1', hsecCompatible: false },
        3,
      );

      const err = await assignError(server, tenant.operator, { deviceIds: [valid[0], vedge, valid[1]], hsec: true });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toContain('VEDGE-0001 (vedge-1.example)');
      expect(err.message).toMatch(/does not apply to vEdge devices/);
      expect(err.extensions?.inapplicableDevices).toEqual([
        expect.objectContaining({ deviceId: vedge, uuid: 'VEDGE-0001', hostname: 'vedge-1.example', reasons: expect.arrayContaining(['DEVICE_KIND']) }),
      ]);
      await expectNothingWritten(tenant);
    });

    it('refuses DNA for devices below the minimum release, naming each device and the release it needs', async () => {
      const tenant = await createAccountTenant(server, slug('release'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10 }]);
      const [valid] = await addDevices(server, tenant, 1);
      const [oldXe] = await addDevices(server, tenant, 1, { uuid: 'OLD-XE', hostname: 'old-xe.example', softwareVersion: '17.2.1' }, 2);
      const [oldVedge] = await addDevices(
        server,
        tenant,
        1,
        { uuid: 'OLD-VEDGE', hostname: 'old-vedge.example', kind: 'VEDGE', model: 'vEdge-1000', softwareVersion: '20.6.0', hsecCompatible: false },
        3,
      );

      const err = await assignError(server, tenant.operator, { deviceIds: [valid, oldXe, oldVedge], level: 'ADVANTAGE', tier: 'T1' });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toContain('OLD-XE (old-xe.example): needs release 17.3.2 or later, the device runs 17.2.1');
      expect(err.message).toContain('OLD-VEDGE (old-vedge.example): needs release 20.6.1 or later, the device runs 20.6.0');
      const named = err.extensions?.inapplicableDevices as { deviceId: string; reasons: string[] }[];
      expect(named.map((d) => [d.deviceId, d.reasons]).sort()).toEqual(
        [
          [oldXe, ['SOFTWARE_RELEASE']],
          [oldVedge, ['SOFTWARE_RELEASE']],
        ].sort(),
      );
      await expectNothingWritten(tenant);
    });

    it('refuses HSEC for an IOS XE device that is not HSEC-compatible', async () => {
      const tenant = await createAccountTenant(server, slug('hsec-incompatible'));
      await addLines(server, tenant, [{ tag: HSEC_TAG, billingType: 'PREPAID', quantity: 10 }]);
      const [valid] = await addDevices(server, tenant, 1, { hsecCompatible: true });
      const [plain] = await addDevices(server, tenant, 1, { uuid: 'NO-HSEC', hostname: 'no-hsec.example', hsecCompatible: false }, 2);

      const err = await assignError(server, tenant.operator, { deviceIds: [valid, plain], hsec: true });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toContain('NO-HSEC (no-hsec.example): the device is not HSEC-compatible');
      expect(err.extensions?.inapplicableDevices).toEqual([expect.objectContaining({ deviceId: plain, reasons: ['HSEC_INCOMPATIBLE'] })]);
      await expectNothingWritten(tenant);
    });

    it('refuses a device listed twice, and a license named more than one way', async () => {
      const tenant = await createAccountTenant(server, slug('malformed'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10 }]);
      const [d1, d2] = await addDevices(server, tenant, 2);

      const twice = await assignError(server, tenant.operator, { deviceIds: [d1, d2, d1], level: 'ADVANTAGE', tier: 'T1' });
      const twoWays = await assignError(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1', hsec: true });

      expect(twice.extensions?.code).toBe('BAD_USER_INPUT');
      expect(twice.message).toBe('deviceIds[2] repeats deviceIds[0]');
      expect(twoWays.extensions?.code).toBe('BAD_USER_INPUT');
      expect(twoWays.message).toMatch(/exactly one way/);
      await expectNothingWritten(tenant);
    });

    it('answers NOT_FOUND for an unknown device id, naming it, and writes nothing', async () => {
      const tenant = await createAccountTenant(server, slug('unknown'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10 }]);
      const [valid] = await addDevices(server, tenant, 1);
      const ghost = globalId('Device', randomUUID());

      const err = await assignError(server, tenant.operator, { deviceIds: [valid, ghost], level: 'ADVANTAGE', tier: 'T1' });

      expect(err.extensions?.code).toBe('NOT_FOUND');
      expect(err.message).toContain(ghost);
      expect(err.message).not.toContain(valid);
      await expectNothingWritten(tenant);
    });

    it('answers NOT_FOUND for another tenant’s device exactly as for a missing one, and writes nothing in either tenant', async () => {
      const tenant = await createAccountTenant(server, slug('mine'));
      const other = await createAccountTenant(server, slug('theirs'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10 }]);
      await addLines(server, other, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10 }]);
      const [mine] = await addDevices(server, tenant, 1);
      const [theirs] = await addDevices(server, other, 1);

      const err = await assignError(server, tenant.admin, { deviceIds: [mine, theirs], level: 'ADVANTAGE', tier: 'T1' });

      expect(err.extensions?.code).toBe('NOT_FOUND');
      expect(err.message).toBe(`device(s) not found: ${theirs}`);
      expect(err.extensions?.deviceIds).toEqual([theirs]);
      await expectNothingWritten(tenant);
      expect(await countRows(server, 'assignment', other)).toBe(0);
    });

    it('refuses the obsolete SDWAN-DNA-E entitlement as never assignable', async () => {
      const tenant = await createAccountTenant(server, slug('obsolete'));
      const [device] = await addDevices(server, tenant, 1);

      const err = await assignError(server, tenant.operator, { deviceIds: [device], entitlementTag: 'SDWAN-DNA-E' });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/SDWAN-DNA-E.*obsolete/);
      await expectNothingWritten(tenant);
    });

    it('refuses the obsolete SDWAN-DNA-A entitlement as never assignable, even with a recorded SDWAN-DNA-A line', async () => {
      const tenant = await createAccountTenant(server, slug('obsolete-a'));
      const [line] = await addLines(server, tenant, [{ tag: 'SDWAN-DNA-A', billingType: 'PREPAID', quantity: 10 }]);
      const [device] = await addDevices(server, tenant, 1);

      const err = await assignError(server, tenant.operator, { deviceIds: [device], entitlementTag: 'SDWAN-DNA-A' });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toBe('DNA Advantage for SDWAN (SDWAN-DNA-A) is obsolete and never assignable');
      await expectNothingWritten(tenant);
      expect((await licensesOf(tenant)).get(line)).toMatchObject({ quantity: 10, inUse: 0, available: 10 });
      expect((await devicesOf(tenant)).get(device)).toMatchObject({ complianceReasons: ['UNASSIGNED'], assignments: [] });
    });

    it('caps an Enterprise Agreement prepaid line at its quantity like an a-la-carte one (INSUFFICIENT_LICENSES), writing nothing', async () => {
      const tenant = await createAccountTenant(server, slug('ea-cap'));
      const [ea] = (
        await gqlData<{ addLicenses: { id: string; billingModel: string }[] }>(
          server,
          'mutation($input: AddLicensesInput!) { addLicenses(input: $input) { id billingModel } }',
          {
            input: {
              tenantId: tenant.id,
              licenses: [{ virtualAccountId: tenant.va.MAIN, entitlementTag: dnaTag('P', 'T2'), billingType: 'PREPAID', billingModel: 'ENTERPRISE_AGREEMENT',
                           subscriptionId: 'EA-2026', quantity: 2, startDate: day(-30), endDate: day(365) }],
            },
          },
          server.token('PROVIDER_ADMIN'),
        )
      ).addLicenses;
      expect(ea.billingModel).toBe('ENTERPRISE_AGREEMENT');
      const [d1, d2, d3] = await addDevices(server, tenant, 3);

      const over = await assignError(server, tenant.operator, { deviceIds: [d1, d2, d3], level: 'PREMIER', tier: 'T2' });
      expect(over.extensions).toMatchObject({ code: 'INSUFFICIENT_LICENSES', requested: 3, available: 2 });
      expect(over.message).toBe('3 device(s) need Routing DNA Premier: Tier 2 but only 2 are available');
      await expectNothingWritten(tenant);

      const fits = await assign(server, tenant.operator, { deviceIds: [d1, d2], level: 'PREMIER', tier: 'T2', billingType: 'PREPAID' });
      expect(fits.assignments.map((a) => a.license?.id)).toEqual([ea.id, ea.id]);
      const last = await assignError(server, tenant.operator, { deviceIds: [d3], level: 'PREMIER', tier: 'T2' });
      expect(last.extensions).toMatchObject({ code: 'INSUFFICIENT_LICENSES', requested: 1, available: 0 });
      expect((await licensesOf(tenant)).get(ea.id)).toMatchObject({ quantity: 2, inUse: 2, available: 0 });
    });

    it('refuses an entitlement this product does not manage', async () => {
      const tenant = await createAccountTenant(server, slug('unmanaged-tag'));
      const [device] = await addDevices(server, tenant, 1);

      const err = await assignError(server, tenant.operator, { deviceIds: [device], entitlementTag: 'regid.2017-03.com.cisco.ipbase' });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/ipbase.*not managed by this product/);
      await expectNothingWritten(tenant);
    });

    it('refuses when the only matching lines are in a virtual account not managed here, and says which', async () => {
      const tenant = await createAccountTenant(server, slug('unmanaged-va'), [{ externalId: 'LAB', name: 'Lab pool', managed: false }]);
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10, va: 'LAB' }]);
      const [device] = await addDevices(server, tenant, 1);

      const err = await assignError(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/not managed here \(Lab pool\)/);
      await expectNothingWritten(tenant);
    });

    it('refuses when every matching line has expired, and says so', async () => {
      const tenant = await createAccountTenant(server, slug('expired'));
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10, startInDays: -400, endInDays: -10 },
        { tag: dnaTag('A', 'T1'), billingType: 'POSTPAID', quantity: 0, startInDays: -400, endInDays: -3 },
      ]);
      const [device] = await addDevices(server, tenant, 1);

      const err = await assignError(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/has expired/);
      await expectNothingWritten(tenant);
    });

    it('refuses more devices than a prepaid line has left with INSUFFICIENT_LICENSES and writes nothing', async () => {
      const tenant = await createAccountTenant(server, slug('insufficient'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 3 }]);
      const [d1, d2, d3, d4] = await addDevices(server, tenant, 4);
      await assign(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1' });

      const err = await assignError(server, tenant.operator, { deviceIds: [d2, d3, d4], level: 'ADVANTAGE', tier: 'T1' });

      expect(err.extensions).toMatchObject({ code: 'INSUFFICIENT_LICENSES', requested: 3, available: 2 });
      expect(err.message).toBe('3 device(s) need Routing DNA Advantage: Tier 1 but only 2 are available');
      expect((await currentAssignments(server, tenant)).map((r) => r.device_id)).toEqual([dbId(d1)]);
      expect((await licensesOf(tenant)).get(line)).toMatchObject({ inUse: 1, available: 2 });
    });

    it('does not cap postpaid use at the purchased quantity and counts every use', async () => {
      const tenant = await createAccountTenant(server, slug('postpaid'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('E', 'T2'), billingType: 'POSTPAID', quantity: 2 }]);
      const devices = await addDevices(server, tenant, 5);

      const res = await assign(server, tenant.operator, { deviceIds: devices, level: 'ESSENTIALS', tier: 'T2', billingType: 'POSTPAID' });

      expect(res).toMatchObject({ assigned: 5, pending: 0 });
      expect(res.assignments.every((a) => a.license?.id === line && a.requestedBillingType === 'POSTPAID')).toBe(true);
      expect((await licensesOf(tenant)).get(line)).toMatchObject({ quantity: 2, inUse: 5, available: null });
    });
  });

  describe('the prepaid hard cap under concurrency', () => {
    it('gives exactly 10 successes and 90 INSUFFICIENT_LICENSES when 100 devices race for a pool of 10', async () => {
      const tenant = await createAccountTenant(server, slug('race'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10 }]);
      const devices = await addDevices(server, tenant, 100);

      const results = await Promise.all(
        devices.map((id) =>
          server.graphql<{ assignLicenses: AssignPayload }>(
            'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }',
            { input: { deviceIds: [id], level: 'ADVANTAGE', tier: 'T1' } },
            tenant.operator,
          ),
        ),
      );

      const successes = results.filter((r) => r.body.data?.assignLicenses.assigned === 1);
      const refusals = results.filter((r) => r.body.errors?.[0]?.extensions?.code === 'INSUFFICIENT_LICENSES');
      expect(successes).toHaveLength(10);
      expect(refusals).toHaveLength(90);
      const [row] = await server.sql<{ n: number; devices: number }>(
        `select count(*)::int as n, count(distinct device_id)::int as devices from assignment
          where tenant_id = $1 and license_id = $2 and released_at is null`,
        [tenant.uuid, dbId(line)],
      );
      expect(row).toEqual({ n: 10, devices: 10 });
      expect(await countRows(server, 'assignment', tenant)).toBe(10);
    });
  });

  describe('idempotent retries', () => {
    it('returns the first result with replayed: true and changes nothing when retried with the same key', async () => {
      const tenant = await createAccountTenant(server, slug('idem'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [d1, d2] = await addDevices(server, tenant, 2);
      const input = { deviceIds: [d1, d2], level: 'ADVANTAGE' as const, tier: 'T1' as const, idempotencyKey: 'assign-42' };
      const first = await assign(server, tenant.operator, input);
      // Release one device in between: a replay must not assign it again.
      await release(tenant.operator, { deviceIds: [d1] });
      const rowsBefore = await countRows(server, 'assignment', tenant);
      const auditBefore = await countRows(server, 'audit_event', tenant);

      const retry = await assign(server, tenant.operator, input);

      expect(first.replayed).toBe(false);
      expect(retry.replayed).toBe(true);
      expect(retry).toMatchObject({ assigned: 2, replaced: 0, unchanged: 0, pending: 0 });
      expect(retry.assignments.map((a) => a.id)).toEqual(first.assignments.map((a) => a.id));
      expect(await countRows(server, 'assignment', tenant)).toBe(rowsBefore);
      expect(await countRows(server, 'audit_event', tenant)).toBe(auditBefore);
      expect((await currentAssignments(server, tenant)).map((r) => r.device_id)).toEqual([dbId(d2)]);
    });

    it('replays the assignments to a retry that selects them when the first keyed call asked only for counts', async () => {
      const tenant = await createAccountTenant(server, slug('idem-counts'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [d1, d2] = await addDevices(server, tenant, 2);
      const input = { deviceIds: [d2, d1], level: 'ADVANTAGE' as const, tier: 'T1' as const, idempotencyKey: 'counts-first' };
      expect(await assignCounts(tenant.operator, input)).toMatchObject({ assigned: 2, replayed: false });

      const retry = await assign(server, tenant.operator, input);

      expect(retry).toMatchObject({ assigned: 2, replaced: 0, unchanged: 0, pending: 0, replayed: true });
      expect(retry.assignments.map((a) => [a.device.id, a.license?.id, a.status])).toEqual([[d2, line, 'ACTIVE'], [d1, line, 'ACTIVE']]);
      expect(new Set(retry.assignments.map((a) => dbId(a.id)))).toEqual(new Set((await currentAssignments(server, tenant)).map((r) => r.id)));
    });

    it('answers CONFLICT when a key is reused for a different request, and writes nothing', async () => {
      const tenant = await createAccountTenant(server, slug('idem-conflict'));
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
        { tag: dnaTag('A', 'T2'), billingType: 'PREPAID', quantity: 5 },
      ]);
      const [d1, d2] = await addDevices(server, tenant, 2);
      await assign(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: 'k-1' });
      const rowsBefore = await currentAssignments(server, tenant);

      const otherTier = await assignError(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T2', idempotencyKey: 'k-1' });
      const otherDevice = await assignError(server, tenant.operator, { deviceIds: [d2], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: 'k-1' });

      for (const err of [otherTier, otherDevice]) {
        expect(err.extensions?.code).toBe('CONFLICT');
        expect(err.message).toContain('"k-1"');
      }
      expect(await currentAssignments(server, tenant)).toEqual(rowsBefore);
    });

    it('does not use up the key of a call that failed, so the corrected retry takes effect', async () => {
      const tenant = await createAccountTenant(server, slug('idem-failed'));
      const devices = await addDevices(server, tenant, 2);
      const input = { deviceIds: devices, level: 'ADVANTAGE' as const, tier: 'T1' as const, idempotencyKey: 'after-purchase' };
      expect((await assignError(server, tenant.operator, input)).extensions?.code).toBe('INSUFFICIENT_LICENSES');
      expect(await countRows(server, 'idempotency_key', tenant)).toBe(0);
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 2 }]);

      const retry = await assign(server, tenant.operator, input);

      expect(retry).toMatchObject({ assigned: 2, replayed: false });
      expect(await countRows(server, 'assignment', tenant)).toBe(2);
    });

    it('keeps keys per tenant: the same key in another tenant is its own request', async () => {
      const a = await createAccountTenant(server, slug('idem-a'));
      const b = await createAccountTenant(server, slug('idem-b'));
      for (const t of [a, b]) await addLines(server, t, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 2 }]);
      const [da] = await addDevices(server, a, 1);
      const [db] = await addDevices(server, b, 1);
      await assign(server, a.operator, { deviceIds: [da], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: 'shared' });

      const other = await assign(server, b.operator, { deviceIds: [db], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: 'shared' });

      expect(other).toMatchObject({ assigned: 1, replayed: false });
      expect(other.assignments[0].device.id).toBe(db);
      expect(await countRows(server, 'assignment', b)).toBe(1);
    });

    it('takes effect once when the same keyed call arrives several times at once', async () => {
      const tenant = await createAccountTenant(server, slug('idem-race'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const devices = await addDevices(server, tenant, 3);
      const input = { deviceIds: devices, level: 'ADVANTAGE' as const, tier: 'T1' as const, idempotencyKey: 'burst' };

      const results = await Promise.all(Array.from({ length: 6 }, () => assign(server, tenant.operator, input)));

      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(results.filter((r) => r.replayed)).toHaveLength(5);
      const ids = results[0].assignments.map((a) => a.id);
      for (const r of results) {
        expect(r).toMatchObject({ assigned: 3, unchanged: 0 });
        expect(r.assignments.map((a) => a.id)).toEqual(ids);
      }
      expect(await countRows(server, 'assignment', tenant)).toBe(3);
      expect(await auditOf(tenant, 'licenses.assigned')).toHaveLength(1);
    });

    it('replays a keyed release without releasing again', async () => {
      const tenant = await createAccountTenant(server, slug('idem-release'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [device] = await addDevices(server, tenant, 1);
      await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
      const first = await release(tenant.operator, { deviceIds: [device], idempotencyKey: 'rel-1' });
      const second = await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

      const retry = await release(tenant.operator, { deviceIds: [device], idempotencyKey: 'rel-1' });

      expect(retry).toMatchObject({ replayed: true, released: 1, unchanged: 0 });
      expect(retry.releasedAssignments.map((a) => a.id)).toEqual(first.releasedAssignments.map((a) => a.id));
      expect((await currentAssignments(server, tenant)).map((r) => r.id)).toEqual([dbId(second.assignments[0].id)]);
    });
  });

  describe('releasing', () => {
    it('releases one category and leaves the other, recording when and by whom', async () => {
      const tenant = await createAccountTenant(server, slug('release-cat'));
      const [dnaLine, hsecLine] = await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
        { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 5 },
      ]);
      const [d1, d2] = await addDevices(server, tenant, 2, { hsecCompatible: true });
      await assign(server, tenant.operator, { deviceIds: [d1, d2], level: 'ADVANTAGE', tier: 'T1' });
      const hsec = await assign(server, tenant.operator, { deviceIds: [d1, d2], hsec: true });
      const operator = tokenFor(server, 'TENANT_OPERATOR', tenant, 'ops-alice');

      const res = await release(operator, { deviceIds: [d1, d2], category: 'HSEC' });

      expect(res).toMatchObject({ released: 2, unchanged: 0, replayed: false });
      expect(res.releasedAssignments.map((a) => a.id).sort()).toEqual(hsec.assignments.map((a) => a.id).sort());
      for (const a of res.releasedAssignments) {
        expect(a.category).toBe('HSEC');
        expect(a.releasedBy).toBe('ops-alice');
        expect(Date.parse(a.releasedAt ?? '')).not.toBeNaN();
      }
      const held = await heldPerDevice(tenant);
      expect(held.get(dbId(d1))).toEqual({ dna: 1, hsec: 0 });
      expect(held.get(dbId(d2))).toEqual({ dna: 1, hsec: 0 });
      const lines = await licensesOf(tenant);
      expect(lines.get(hsecLine)).toMatchObject({ inUse: 0, available: 5 });
      expect(lines.get(dnaLine)).toMatchObject({ inUse: 2, available: 3 });
    });

    it('releases everything a device holds when no category is given, and counts devices that held nothing', async () => {
      const tenant = await createAccountTenant(server, slug('release-all'));
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
        { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 5 },
      ]);
      const [d1, d2] = await addDevices(server, tenant, 2, { hsecCompatible: true });
      await assign(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.operator, { deviceIds: [d1], hsec: true });

      const res = await release(tenant.operator, { deviceIds: [d1, d2] });

      expect(res).toMatchObject({ released: 2, unchanged: 1 });
      expect(res.releasedAssignments.map((a) => a.category).sort()).toEqual(['DNA', 'HSEC']);
      expect(res.releasedAssignments.every((a) => a.device.id === d1 && a.releasedBy === 'test-user')).toBe(true);
      expect(await currentAssignments(server, tenant)).toEqual([]);
    });

    it('treats releasing what devices do not hold as a no-op, not an error', async () => {
      const tenant = await createAccountTenant(server, slug('release-none'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [d1, d2] = await addDevices(server, tenant, 2);
      await assign(server, tenant.operator, { deviceIds: [d1], level: 'ADVANTAGE', tier: 'T1' });
      const auditBefore = await countRows(server, 'audit_event', tenant);

      const res = await release(tenant.operator, { deviceIds: [d1, d2], category: 'HSEC' });

      expect(res).toEqual({ released: 0, unchanged: 2, replayed: false, releasedAssignments: [] });
      expect(await countRows(server, 'audit_event', tenant)).toBe(auditBefore);
      expect((await heldPerDevice(tenant)).get(dbId(d1))).toEqual({ dna: 1, hsec: 0 });
    });

    it('releases nothing when one device id is unknown', async () => {
      const tenant = await createAccountTenant(server, slug('release-unknown'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [device] = await addDevices(server, tenant, 1);
      await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
      const ghost = globalId('Device', randomUUID());

      const err = await gqlError(server, RELEASE, { input: { deviceIds: [device, ghost] } }, tenant.operator);

      expect(err.extensions?.code).toBe('NOT_FOUND');
      expect(err.message).toContain(ghost);
      expect(await currentAssignments(server, tenant)).toHaveLength(1);
    });

    it('writes an audit event naming actor, devices and license for each assignment and release', async () => {
      const tenant = await createAccountTenant(server, slug('audit'));
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [d1, d2] = await addDevices(server, tenant, 2);
      const alice = tokenFor(server, 'TENANT_OPERATOR', tenant, 'alice');
      const bob = tokenFor(server, 'TENANT_ADMIN', tenant, 'bob');
      await assign(server, alice, { deviceIds: [d1, d2], level: 'ADVANTAGE', tier: 'T1' });
      await release(bob, { deviceIds: [d2] });

      const [released] = await auditOf(tenant, 'licenses.released');
      const [assigned] = await auditOf(tenant, 'licenses.assigned');

      expect(assigned).toMatchObject({ actorSubject: 'alice', targetType: 'Device', details: { entitlement: dnaTag('A', 'T1'), replaced: 0 } });
      expect([...assigned.targetIds].sort()).toEqual([d1, d2].sort());
      expect(released).toMatchObject({ actorSubject: 'bob', targetType: 'Device', targetIds: [d2], details: { category: 'ALL', assignments: 1 } });
    });
  });

  describe('trial tenants and reconciliation', () => {
    it('gives devices of a tenant without a smart account pending default entitlements, reported as PENDING_RECONCILIATION', async () => {
      const tenant = await createTrialTenant(server, slug('trial'));
      const devices = await addDevices(server, tenant, 2);

      const res = await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });

      expect(res).toMatchObject({ assigned: 2, replaced: 0, unchanged: 0, pending: 2 });
      for (const a of res.assignments) expect(a).toMatchObject({ status: 'PENDING_RECONCILIATION', license: null, entitlement: { tag: dnaTag('A', 'T1') } });
      const listed = await devicesOf(tenant);
      for (const id of devices) {
        expect(listed.get(id)).toMatchObject({ complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['PENDING_RECONCILIATION'] });
      }
    });

    it('leaves a pending device unchanged when the same default entitlement is assigned again', async () => {
      const tenant = await createTrialTenant(server, slug('trial-again'));
      const [device] = await addDevices(server, tenant, 1);
      const first = await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

      const again = await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

      expect(again).toMatchObject({ assigned: 0, replaced: 0, unchanged: 1, pending: 0 });
      expect(again.assignments[0].id).toBe(first.assignments[0].id);
      expect(await countRows(server, 'assignment', tenant)).toBe(1);
    });

    it('binds pending assignments oldest first to the earliest-ending prepaid line, then postpaid, and reports the rest', async () => {
      const tenant = await createTrialTenant(server, slug('reconcile'));
      const devices = await addDevices(server, tenant, 5);
      // One call per device, so assignment times are strictly ordered d1 < d2 < ... < d5.
      for (const id of [devices[2], devices[0], devices[4], devices[1], devices[3]]) {
        await assign(server, tenant.operator, { deviceIds: [id], level: 'ADVANTAGE', tier: 'T1' });
      }
      const order = [devices[2], devices[0], devices[4], devices[1], devices[3]];
      await configureAccounts(server, tenant, [{ externalId: 'MAIN', name: 'Main', managed: true }]);
      const [late, early] = await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 1, endInDays: 300 },
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 2, endInDays: 100 },
        { tag: dnaTag('E', 'T1'), billingType: 'POSTPAID', quantity: 0, endInDays: 50 },
      ]);

      const res = await reconcile(tenant.admin);

      expect(res).toMatchObject({ reconciled: 3, stillPending: 2 });
      expect(res.reconciledAssignments.map((a) => [a.device.id, a.license?.id, a.status])).toEqual([
        [order[0], early, 'ACTIVE'],
        [order[1], early, 'ACTIVE'],
        [order[2], late, 'ACTIVE'],
      ]);
      const listed = await devicesOf(tenant);
      expect(listed.get(order[0])).toMatchObject({ complianceStatus: 'COMPLIANT', complianceReasons: [] });
      expect(listed.get(order[3])?.complianceReasons).toEqual(['PENDING_RECONCILIATION']);
      expect(listed.get(order[4])?.complianceReasons).toEqual(['PENDING_RECONCILIATION']);
      expect(await auditOf(tenant, 'licenses.reconciled')).toEqual([
        expect.objectContaining({ details: { reconciled: 3, stillPending: 2 }, targetType: 'LicenseAssignment' }),
      ]);

      const [postpaid] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'POSTPAID', quantity: 0, endInDays: 400 }]);
      const rest = await reconcile(tenant.admin);

      expect(rest).toMatchObject({ reconciled: 2, stillPending: 0 });
      expect(rest.reconciledAssignments.map((a) => [a.device.id, a.license?.id])).toEqual([
        [order[3], postpaid],
        [order[4], postpaid],
      ]);
      expect((await currentAssignments(server, tenant)).every((r) => r.status === 'ACTIVE')).toBe(true);
      expect(await reconcile(tenant.admin)).toMatchObject({ reconciled: 0, stillPending: 0 });
    });

    it('forbids a tenant operator to reconcile', async () => {
      const tenant = await createTrialTenant(server, slug('reconcile-forbidden'));
      const [device] = await addDevices(server, tenant, 1);
      await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
      await configureAccounts(server, tenant, [{ externalId: 'MAIN', name: 'Main', managed: true }]);
      await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 1 }]);

      const err = await gqlError(server, RECONCILE, { input: {} }, tenant.operator);

      expect(err.extensions?.code).toBe('FORBIDDEN');
      expect((await currentAssignments(server, tenant)).map((r) => r.status)).toEqual(['PENDING_RECONCILIATION']);
    });
  });

  describe('device compliance', () => {
    it('reports UNASSIGNED for a device without DNA and COMPLIANT for one holding a current, applicable license', async () => {
      const tenant = await createAccountTenant(server, slug('compliance'));
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
        { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 5 },
      ]);
      const [licensed, bare, hsecOnly] = await addDevices(server, tenant, 3, { hsecCompatible: true });
      await assign(server, tenant.operator, { deviceIds: [licensed], level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.operator, { deviceIds: [hsecOnly], hsec: true });

      const listed = await devicesOf(tenant);

      expect(listed.get(licensed)).toMatchObject({ complianceStatus: 'COMPLIANT', complianceReasons: [] });
      expect(listed.get(bare)).toMatchObject({ complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['UNASSIGNED'] });
      expect(listed.get(hsecOnly)).toMatchObject({ complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['UNASSIGNED'] });
    });

    it('reports LICENSE_EXPIRED once the term of the held line has ended', async () => {
      const tenant = await createAccountTenant(server, slug('compliance-expired'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 }]);
      const [device] = await addDevices(server, tenant, 1);
      await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
      expect((await devicesOf(tenant)).get(device)?.complianceStatus).toBe('COMPLIANT');

      await server.sql('update license set end_date = current_date - 5 where id = $1', [dbId(line)]);

      expect((await devicesOf(tenant)).get(device)).toMatchObject({ complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['LICENSE_EXPIRED'] });
    });

    it('reports NOT_APPLICABLE when a device is re-registered with a release or HSEC capability its licenses do not fit', async () => {
      const tenant = await createAccountTenant(server, slug('compliance-na'));
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 5 },
        { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 5 },
      ]);
      const [downgraded, lostHsec] = await addDevices(server, tenant, 2, { hsecCompatible: true });
      await assign(server, tenant.operator, { deviceIds: [downgraded, lostHsec], level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.operator, { deviceIds: [lostHsec], hsec: true });

      await registerDevices(server, tenant.admin, [
        deviceInput(1, { softwareVersion: '17.2.1', hsecCompatible: true }),
        deviceInput(2, { hsecCompatible: false }),
      ]);

      const listed = await devicesOf(tenant);
      expect(listed.get(downgraded)).toMatchObject({ complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['NOT_APPLICABLE'] });
      expect(listed.get(lostHsec)).toMatchObject({ complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['NOT_APPLICABLE'] });
    });
  });

  describe('dashboard device counts', () => {
    it('counts a device whose only pending license is HSEC once, as unlicensed and not as DNA-pending', async () => {
      const tenant = await createTrialTenant(server, slug('dash-hsec-pending'));
      const [both, hsecOnly] = await addDevices(server, tenant, 2, { hsecCompatible: true });
      await assign(server, tenant.operator, { deviceIds: [both], level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.operator, { deviceIds: [both, hsecOnly], hsec: true });

      const data = await gqlData<{ licenseDashboard: { devices: Record<string, number> } }>(
        server,
        'query { licenseDashboard { devices { total licensed unlicensed pendingReconciliation } } }',
        {},
        tenant.operator,
      );

      expect(data.licenseDashboard.devices).toEqual({ total: 2, licensed: 0, unlicensed: 2, pendingReconciliation: 1 });
    });
  });

  describe('set-based work', () => {
    /** Counts the SQL statements the app's own connection runs while `fn` runs. */
    const countStatements = async (fn: () => Promise<void>): Promise<number> => {
      const knex = server.db.orm.em.getConnection().getKnex();
      let n = 0;
      const onQuery = (): void => {
        n++;
      };
      knex.on('query', onQuery);
      try {
        await fn();
      } finally {
        knex.removeListener('query', onQuery);
      }
      return n;
    };

    it('reads a page of devices with assignments, lines, virtual accounts and compliance in the same small number of statements for 10 and 100 devices', async () => {
      const tenant = await createAccountTenant(server, slug('n-plus-one'), [{ externalId: 'SECOND', name: 'Second', managed: true }]);
      await addLines(server, tenant, [
        { tag: dnaTag('A', 'T1'), billingType: 'POSTPAID', quantity: 0, va: 'MAIN' },
        { tag: HSEC_TAG, billingType: 'POSTPAID', quantity: 0, va: 'SECOND' },
      ]);
      const devices = await addDevices(server, tenant, 100, { hsecCompatible: true });
      await assign(server, tenant.admin, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });
      await assign(server, tenant.admin, { deviceIds: devices.filter((_, i) => i % 2 === 0), hsec: true });
      const query = `query($first: Int) {
        devices(first: $first) { edges { node { id complianceStatus
          assignments { license { virtualAccount { name } entitlement { tag } } } } } }
      }`;
      type Page = { devices: { edges: { node: { complianceStatus: string; assignments: { license: { virtualAccount: { name: string } } }[] } }[] } };
      const page = async (first: number): Promise<Page> => gqlData<Page>(server, query, { first }, tenant.operator);
      let small: Page | undefined;
      let large: Page | undefined;

      const forTen = await countStatements(async () => {
        small = await page(10);
      });
      const forHundred = await countStatements(async () => {
        large = await page(100);
      });

      expect(small?.devices.edges).toHaveLength(10);
      expect(large?.devices.edges).toHaveLength(100);
      expect(large?.devices.edges.every((e) => e.node.complianceStatus === 'COMPLIANT' && e.node.assignments.length >= 1)).toBe(true);
      expect(new Set(large?.devices.edges.flatMap((e) => e.node.assignments.map((a) => a.license.virtualAccount.name)))).toEqual(
        new Set(['Main', 'Second']),
      );
      expect(forHundred).toBe(forTen);
      expect(forHundred).toBeLessThanOrEqual(30);
      report(`statements for a devices page: 10 devices ${forTen}, 100 devices ${forHundred}`);
    });

    it("reads every tenant's reporting clock on the provider dashboard in one statement, however many tenants", async () => {
      for (let i = 0; i < 3; i++) await createAccountTenant(server, slug(`clock-${i}`));
      const [{ n: tenants }] = await server.sql<{ n: number }>('select count(*)::int as n from tenant');
      const query = (withClock: boolean): string =>
        `query { licenseDashboard { tenants { tenant { id } devices { total } ${withClock ? 'reportingClock { syncDueAt lastSyncAt }' : ''} } } }`;
      type Dashboard = { licenseDashboard: { tenants: { reportingClock?: { syncDueAt: string | null } | null }[] } };
      let clocks: Dashboard | undefined;
      const without = await countStatements(async () => {
        await gqlData<Dashboard>(server, query(false), {}, server.token('PROVIDER_OPERATOR'));
      });
      const withClock = await countStatements(async () => {
        clocks = await gqlData<Dashboard>(server, query(true), {}, server.token('PROVIDER_OPERATOR'));
      });

      expect(tenants).toBeGreaterThanOrEqual(3);
      expect(clocks?.licenseDashboard.tenants).toHaveLength(tenants);
      expect(clocks?.licenseDashboard.tenants.every((t) => t.reportingClock !== null && t.reportingClock !== undefined)).toBe(true);
      expect(withClock - without).toBe(1);
    });

    it('assigns 10,000 devices in one call without per-device statements', async () => {
      const tenant = await createAccountTenant(server, slug('ten-thousand'));
      const [line] = await addLines(server, tenant, [{ tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 10_000 }]);
      const inputs = Array.from({ length: 10_000 }, (_, i) => deviceInput(i + 1, { hsecCompatible: false }));
      const devices = (await registerDevices(server, tenant.admin, inputs)).map((d) => d.id);
      type Result = { assignLicenses: { assigned: number; replaced: number; pending: number; assignments: { status: string }[] } };
      let result: Result | undefined;
      let elapsed = 0;

      const statements = await countStatements(async () => {
        const started = performance.now();
        result = await gqlData<Result>(
          server,
          'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned replaced pending assignments { status } } }',
          { input: { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' } },
          tenant.admin,
        );
        elapsed = performance.now() - started;
      });

      expect(result?.assignLicenses).toMatchObject({ assigned: 10_000, replaced: 0, pending: 0 });
      expect(result?.assignLicenses.assignments.filter((a) => a.status === 'ACTIVE')).toHaveLength(10_000);
      const [row] = await server.sql<{ n: number }>(
        'select count(*)::int as n from assignment where tenant_id = $1 and license_id = $2 and released_at is null',
        [tenant.uuid, dbId(line)],
      );
      expect(row.n).toBe(10_000);
      expect(statements).toBeLessThanOrEqual(30);
      report(`assignLicenses of 10,000 devices: ${Math.round(elapsed)} ms, ${statements} statements`);
    }, 180_000);
  });
});

/** Figures for the closing note, printed only when asked (SLM_TEST_REPORT=1); tests stay silent otherwise. */
function report(line: string): void {
  if (process.env.SLM_TEST_REPORT === '1') process.stdout.write(`[assignment.e2e] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------
// licenseDashboard, on a database of its own so provider-wide totals cover exactly this fixture.

type TenantKey = 'acme' | 'globex' | 'initech';

interface ModelLine {
  key: string;
  tenant: TenantKey;
  tag: string;
  billingType: Billing;
  quantity: number;
  /** End of term relative to today, after the fixture is built (negative: ended). */
  endInDays: number;
}
interface ModelHolding {
  category: 'DNA' | 'HSEC';
  tag: string;
  /** The line the device is bound to; null while pending reconciliation. */
  line: string | null;
}
interface ModelDevice {
  tenant: TenantKey;
  n: number;
  holdings: ModelHolding[];
  /** Re-registered with a release its license does not support. */
  downgraded?: boolean;
}

interface DashboardView {
  tenant: { id: string } | null;
  entitlements: { entitlement: { tag: string }; billingType: Billing; lines: number; purchased: number; inUse: number; available: number | null }[];
  devices: { total: number; licensed: number; unlicensed: number; pendingReconciliation: number };
  compliance: { compliant: number; outOfCompliance: number; reasons: { reason: string; devices: number }[] };
  expiring: { within30Days: number; within90Days: number; expired: number };
}
type Figures = Omit<DashboardView, 'tenant'>;

const DASHBOARD_FIELDS = `
  tenant { id }
  entitlements { entitlement { tag } billingType lines purchased inUse available }
  devices { total licensed unlicensed pendingReconciliation }
  compliance { compliant outOfCompliance reasons { reason devices } }
  expiring { within30Days within90Days expired }`;
const DASHBOARD = `query($tenantId: ID) { licenseDashboard(tenantId: $tenantId) { ${DASHBOARD_FIELDS} tenants { ${DASHBOARD_FIELDS} } } }`;

/** What the dashboard must say, computed from the model alone. */
function expectedFigures(lines: ModelLine[], devices: ModelDevice[]): Figures {
  const lineByKey = new Map(lines.map((l) => [l.key, l]));
  const running = lines.filter((l) => l.endInDays >= 0);
  const holdings = devices.flatMap((d) => d.holdings);
  const groups = new Map<string, Figures['entitlements'][number]>();
  for (const l of running) {
    const key = `${l.tag}|${l.billingType}`;
    const g = groups.get(key) ?? { entitlement: { tag: l.tag }, billingType: l.billingType, lines: 0, purchased: 0, inUse: 0, available: null };
    g.lines += 1;
    g.purchased += l.quantity;
    g.inUse += holdings.filter((h) => h.line === l.key).length;
    groups.set(key, g);
  }
  const entitlements = [...groups.values()]
    .map((g) => ({ ...g, available: g.billingType === 'PREPAID' ? g.purchased - g.inUse : null }))
    .sort((a, b) => `${a.entitlement.tag}|${a.billingType}`.localeCompare(`${b.entitlement.tag}|${b.billingType}`));

  const reasonsOf = (d: ModelDevice): string[] => {
    const reasons = new Set<string>();
    if (!d.holdings.some((h) => h.category === 'DNA')) reasons.add('UNASSIGNED');
    if (d.holdings.some((h) => h.line === null)) reasons.add('PENDING_RECONCILIATION');
    if (d.holdings.some((h) => h.line !== null && (lineByKey.get(h.line)?.endInDays ?? 0) < 0)) reasons.add('LICENSE_EXPIRED');
    if (d.downgraded) reasons.add('NOT_APPLICABLE');
    return [...reasons];
  };
  const licensed = devices.filter((d) => d.holdings.some((h) => h.category === 'DNA' && h.line !== null)).length;
  const reasonCounts = new Map<string, number>();
  for (const d of devices) for (const r of reasonsOf(d)) reasonCounts.set(r, (reasonCounts.get(r) ?? 0) + 1);
  const compliant = devices.filter((d) => reasonsOf(d).length === 0).length;
  return {
    entitlements,
    devices: {
      total: devices.length,
      licensed,
      unlicensed: devices.length - licensed,
      pendingReconciliation: devices.filter((d) => d.holdings.some((h) => h.category === 'DNA' && h.line === null)).length,
    },
    compliance: {
      compliant,
      outOfCompliance: devices.length - compliant,
      reasons: [...reasonCounts].map(([reason, n]) => ({ reason, devices: n })).sort((a, b) => a.reason.localeCompare(b.reason)),
    },
    expiring: {
      within30Days: lines.filter((l) => l.endInDays >= 0 && l.endInDays < 30).length,
      within90Days: lines.filter((l) => l.endInDays >= 0 && l.endInDays < 90).length,
      expired: lines.filter((l) => l.endInDays < 0).length,
    },
  };
}

/** The API's figures in the model's order (entitlements by tag and billing type, reasons by name). */
function figuresOf(view: DashboardView): Figures {
  return {
    entitlements: [...view.entitlements].sort((a, b) =>
      `${a.entitlement.tag}|${a.billingType}`.localeCompare(`${b.entitlement.tag}|${b.billingType}`),
    ),
    devices: view.devices,
    compliance: { ...view.compliance, reasons: [...view.compliance.reasons].sort((a, b) => a.reason.localeCompare(b.reason)) },
    expiring: view.expiring,
  };
}

describe('applicability by device mode (DEVICE_MODE)', () => {
  let server: TestServer;
  const premierT3 = dnaTag('P', 'T3');

  beforeAll(async () => {
    server = await startTestServer();
    // Arranged in this suite's own database: the seeded catalog lets every entitlement apply in both
    // modes, so a controller-only entitlement is modelled the way the catalog states one.
    await server.sql(`update entitlement set device_modes = '{CONTROLLER}' where tag = $1`, [premierT3]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('shows the mode limit in the catalog, refuses an autonomous device naming DEVICE_MODE, and assigns the controller-mode one', async () => {
    const catalog = await gqlData<{ entitlements: { tag: string; deviceModes: string[] }[] }>(server, '{ entitlements { tag deviceModes } }', {}, server.token('PROVIDER_OPERATOR'));
    expect(catalog.entitlements.find((e) => e.tag === premierT3)?.deviceModes).toEqual(['CONTROLLER']);
    const tenant = await createAccountTenant(server, 'mode-limited');
    await addLines(server, tenant, [{ tag: premierT3, billingType: 'PREPAID', quantity: 5 }]);
    const [controller] = await addDevices(server, tenant, 1, { mode: 'CONTROLLER' }, 1);
    const [autonomous] = await addDevices(server, tenant, 1, { mode: 'AUTONOMOUS' }, 2);

    const err = await assignError(server, tenant.operator, { deviceIds: [controller, autonomous], entitlementTag: premierT3 });
    expect(err.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err.extensions?.inapplicableDevices).toEqual([
      { deviceId: autonomous, uuid: 'C8K-000002', hostname: 'edge-000002.example', reasons: ['DEVICE_MODE'],
        message: 'Routing DNA Premier: Tier 3 does not apply in autonomous mode' },
    ]);
    expect(err.message).toBe('Routing DNA Premier: Tier 3 cannot be assigned to 1 device(s): C8K-000002 (edge-000002.example): Routing DNA Premier: Tier 3 does not apply in autonomous mode');
    expect(await countRows(server, 'assignment', tenant)).toBe(0);

    const ok = await assign(server, tenant.operator, { deviceIds: [controller], entitlementTag: premierT3 });
    expect(ok).toMatchObject({ assigned: 1, pending: 0 });
  });

  it('reports NOT_APPLICABLE once a device holding a controller-only license is re-registered in autonomous mode', async () => {
    const tenant = await createAccountTenant(server, 'mode-switched');
    await addLines(server, tenant, [{ tag: premierT3, billingType: 'PREPAID', quantity: 5 }]);
    const [device] = await addDevices(server, tenant, 1, { mode: 'CONTROLLER' });
    await assign(server, tenant.operator, { deviceIds: [device], entitlementTag: premierT3 });
    const compliance = `query { devices(first: 10) { edges { node { id mode complianceStatus complianceReasons } } } }`;
    const before = await gqlData<{ devices: { edges: { node: unknown }[] } }>(server, compliance, {}, tenant.operator);
    expect(before.devices.edges.map((e) => e.node)).toEqual([{ id: device, mode: 'CONTROLLER', complianceStatus: 'COMPLIANT', complianceReasons: [] }]);

    await registerDevices(server, tenant.admin, [deviceInput(1, { mode: 'AUTONOMOUS', hsecCompatible: true })]);

    const after = await gqlData<{ devices: { edges: { node: unknown }[] } }>(server, compliance, {}, tenant.operator);
    expect(after.devices.edges.map((e) => e.node)).toEqual([
      { id: device, mode: 'AUTONOMOUS', complianceStatus: 'OUT_OF_COMPLIANCE', complianceReasons: ['NOT_APPLICABLE'] },
    ]);
  });
});

describe('licenseDashboard', () => {
  let server: TestServer;
  const tenants = {} as Record<TenantKey, AccountTenant>;

  // The fixture, as a model. Holdings name the line the product must bind each device to (prepaid
  // lines earliest-ending first), which the dashboard aggregates by entitlement and billing type.
  const A1 = dnaTag('A', 'T1');
  const lines: ModelLine[] = [
    { key: 'acme-a1-soon', tenant: 'acme', tag: A1, billingType: 'PREPAID', quantity: 10, endInDays: 10 },
    { key: 'acme-a1-later', tenant: 'acme', tag: A1, billingType: 'PREPAID', quantity: 5, endInDays: 60 },
    { key: 'acme-a1-msla', tenant: 'acme', tag: A1, billingType: 'POSTPAID', quantity: 3, endInDays: 400 },
    { key: 'acme-hsec', tenant: 'acme', tag: HSEC_TAG, billingType: 'PREPAID', quantity: 4, endInDays: 200 },
    { key: 'acme-e0-ended', tenant: 'acme', tag: dnaTag('E', 'T0'), billingType: 'PREPAID', quantity: 2, endInDays: -5 },
    { key: 'initech-e2-msla', tenant: 'initech', tag: dnaTag('E', 'T2'), billingType: 'POSTPAID', quantity: 100, endInDays: 45 },
    { key: 'initech-p3', tenant: 'initech', tag: dnaTag('P', 'T3'), billingType: 'PREPAID', quantity: 20, endInDays: 20 },
  ];
  const dna = (tag: string, line: string | null): ModelHolding => ({ category: 'DNA', tag, line });
  const hsec = (line: string | null): ModelHolding => ({ category: 'HSEC', tag: HSEC_TAG, line });
  const devices: ModelDevice[] = [
    ...Array.from({ length: 10 }, (_, i) => ({ tenant: 'acme' as const, n: i + 1, holdings: [dna(A1, 'acme-a1-soon')] })),
    ...[11, 12].map((n) => ({ tenant: 'acme' as const, n, holdings: [dna(A1, 'acme-a1-later')] })),
    ...[13, 14].map((n) => ({ tenant: 'acme' as const, n, holdings: [dna(A1, 'acme-a1-msla')] })),
    { tenant: 'acme', n: 15, holdings: [dna(dnaTag('E', 'T0'), 'acme-e0-ended')] },
    { tenant: 'acme', n: 16, holdings: [] },
    { tenant: 'acme', n: 17, holdings: [] },
    { tenant: 'acme', n: 18, holdings: [dna(A1, 'acme-a1-msla')], downgraded: true },
    { tenant: 'globex', n: 1, holdings: [dna(A1, null), hsec(null)] },
    { tenant: 'globex', n: 2, holdings: [dna(dnaTag('E', 'T0'), null)] },
    { tenant: 'globex', n: 3, holdings: [] },
    { tenant: 'initech', n: 1, holdings: [dna(dnaTag('P', 'T3'), 'initech-p3')] },
    { tenant: 'initech', n: 2, holdings: [] },
  ];
  for (const n of [1, 2, 3]) devices[n - 1].holdings.push(hsec('acme-hsec'));

  beforeAll(async () => {
    server = await startTestServer();
    tenants.acme = await createAccountTenant(server, 'dash-acme');
    tenants.globex = await createTrialTenant(server, 'dash-globex');
    tenants.initech = await createAccountTenant(server, 'dash-initech');
    const lineIds = new Map<string, string>();
    for (const key of ['acme', 'initech'] as const) {
      const mine = lines.filter((l) => l.tenant === key);
      // Ended lines are added running and ended after their assignment, as time would do.
      const ids = await addLines(server, tenants[key], mine.map((l) => ({ ...l, endInDays: l.endInDays < 0 ? 200 : l.endInDays })));
      mine.forEach((l, i) => lineIds.set(l.key, ids[i]));
    }
    const ids = new Map<string, string>();
    for (const key of ['acme', 'globex', 'initech'] as const) {
      const count = devices.filter((d) => d.tenant === key).length;
      (await addDevices(server, tenants[key], count, { hsecCompatible: true })).forEach((id, i) => ids.set(`${key}:${i + 1}`, id));
    }
    const idsOf = (tenant: TenantKey, ns: number[]): string[] => ns.map((n) => ids.get(`${tenant}:${n}`) as string);
    const { acme, globex, initech } = tenants;
    await assign(server, acme.admin, { deviceIds: idsOf('acme', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), level: 'ADVANTAGE', tier: 'T1', billingType: 'PREPAID' });
    await assign(server, acme.admin, { deviceIds: idsOf('acme', [13, 14, 18]), level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
    await assign(server, acme.admin, { deviceIds: idsOf('acme', [1, 2, 3]), hsec: true });
    await assign(server, acme.admin, { deviceIds: idsOf('acme', [15]), level: 'ESSENTIALS', tier: 'T0' });
    await server.sql('update license set end_date = current_date - 5 where id = $1', [dbId(lineIds.get('acme-e0-ended') as string)]);
    await registerDevices(server, acme.admin, [deviceInput(18, { softwareVersion: '17.2.1', hsecCompatible: true })]);
    await assign(server, globex.admin, { deviceIds: idsOf('globex', [1]), level: 'ADVANTAGE', tier: 'T1' });
    await assign(server, globex.admin, { deviceIds: idsOf('globex', [1]), hsec: true });
    await assign(server, globex.admin, { deviceIds: idsOf('globex', [2]), level: 'ESSENTIALS', tier: 'T0' });
    await assign(server, initech.admin, { deviceIds: idsOf('initech', [1]), level: 'PREMIER', tier: 'T3' });
    // The model's bindings are what the product actually did (guards the model, not the dashboard).
    const bound = await server.sql<{ line: string | null }>('select license_id::text as line from assignment where released_at is null');
    const expectedBound = devices.flatMap((d) => d.holdings.map((h) => (h.line ? dbId(lineIds.get(h.line) as string) : null)));
    expect(bound.map((b) => b.line ?? '').sort()).toEqual(expectedBound.map((b) => b ?? '').sort());
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  const dashboard = async (token: string, tenantId?: string): Promise<DashboardView & { tenants: DashboardView[] | null }> =>
    (await gqlData<{ licenseDashboard: DashboardView & { tenants: DashboardView[] | null } }>(server, DASHBOARD, { tenantId }, token)).licenseDashboard;

  it('shows one tenant its purchased, used and available licenses, device counts, compliance and expiring lines', async () => {
    const acme = tenants.acme;
    const expected = expectedFigures(
      lines.filter((l) => l.tenant === 'acme'),
      devices.filter((d) => d.tenant === 'acme'),
    );

    const own = await dashboard(acme.operator);
    const asProvider = await dashboard(server.token('PROVIDER_OPERATOR'), acme.id);

    expect(figuresOf(own)).toEqual(expected);
    expect(own.tenant).toEqual({ id: acme.id });
    expect(own.tenants).toBeNull();
    expect(figuresOf(asProvider)).toEqual(expected);
    // Spot-check of the model itself, so a wrong model cannot agree with a wrong product.
    expect(expected.entitlements).toEqual([
      { entitlement: { tag: HSEC_TAG }, billingType: 'PREPAID', lines: 1, purchased: 4, inUse: 3, available: 1 },
      { entitlement: { tag: A1 }, billingType: 'POSTPAID', lines: 1, purchased: 3, inUse: 3, available: null },
      { entitlement: { tag: A1 }, billingType: 'PREPAID', lines: 2, purchased: 15, inUse: 12, available: 3 },
    ]);
    expect(expected.devices).toEqual({ total: 18, licensed: 16, unlicensed: 2, pendingReconciliation: 0 });
    expect(expected.compliance.compliant).toBe(14);
    expect(expected.expiring).toEqual({ within30Days: 1, within90Days: 2, expired: 1 });
  });

  it('shows a trial tenant its pending devices and no licenses', async () => {
    const expected = expectedFigures([], devices.filter((d) => d.tenant === 'globex'));

    const view = await dashboard(tenants.globex.operator);

    expect(figuresOf(view)).toEqual(expected);
    expect(expected.devices).toEqual({ total: 3, licensed: 0, unlicensed: 3, pendingReconciliation: 2 });
  });

  it('gives a provider without tenantId the totals over every tenant and a per-tenant breakdown', async () => {
    const view = await dashboard(server.token('PROVIDER_ADMIN'));

    expect(view.tenant).toBeNull();
    expect(figuresOf(view)).toEqual(expectedFigures(lines, devices));
    expect(view.tenants?.map((t) => t.tenant?.id)).toEqual([tenants.acme.id, tenants.globex.id, tenants.initech.id]);
    for (const key of ['acme', 'globex', 'initech'] as const) {
      const entry = view.tenants?.find((t) => t.tenant?.id === tenants[key].id);
      expect(entry && figuresOf(entry)).toEqual(
        expectedFigures(
          lines.filter((l) => l.tenant === key),
          devices.filter((d) => d.tenant === key),
        ),
      );
    }
  });
});
