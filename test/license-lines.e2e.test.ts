import {
  addDevices,
  addLines,
  assign,
  assignError,
  createAccountTenant,
  createTrialTenant,
  currentAssignments,
  dbId,
  day,
  gqlData,
  gqlError,
  type AccountTenant,
} from './support/assignment-fixtures';
import { DNA_A_T1, listAlerts, OfflineLicenseServer, theAlert } from './support/alert-fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { trustKeys } from './support/offline-fixtures';

/**
 * Hand-recorded license lines corrected (updateLicense) and removed (removeLicenses), end to end:
 * real server, real PostgreSQL, real tokens. Lines that came from a license summary file (FILE) or
 * the license server (SYNC) are refused with LICENSE_NOT_EDITABLE.
 */

const LINE_FIELDS = 'id quantity inUse available overAllocated startDate endDate subscriptionId licenseType billingType billingModel source removedAt entitlement { tag } virtualAccount { id }';
const UPDATE = `mutation($input: UpdateLicenseInput!) { updateLicense(input: $input) { changed assignmentsReconciled license { ${LINE_FIELDS} } } }`;
const REMOVE = `mutation($input: RemoveLicensesInput!) {
  removeLicenses(input: $input) { removed alreadyRemoved assignmentsPending assignmentsReconciled replayed licenses { ${LINE_FIELDS} } }
}`;
const LICENSES = `query($tenantId: ID) { licenses(tenantId: $tenantId, first: 100) { totalCount edges { node { id } } } }`;
const NODE = `query($id: ID!) { node(id: $id) { ... on License { ${LINE_FIELDS} } } }`;
const DEVICES = `query { devices(first: 100) { edges { node { id complianceStatus complianceReasons assignments { status license { id } } } } } }`;
const DASHBOARD = `query($tenantId: ID) { licenseDashboard(tenantId: $tenantId) { compliance { compliant outOfCompliance reasons { reason devices } } } }`;

interface LineView {
  id: string;
  quantity: number;
  inUse: number;
  available: number | null;
  overAllocated: boolean;
  startDate: string;
  endDate: string;
  subscriptionId: string;
  licenseType: string;
  billingType: string;
  billingModel: string;
  source: string;
  removedAt: string | null;
  entitlement: { tag: string };
  virtualAccount: { id: string };
}
interface UpdatePayload {
  changed: string[];
  assignmentsReconciled: number;
  license: LineView;
}
interface RemovePayload {
  removed: number;
  alreadyRemoved: number;
  assignmentsPending: number;
  assignmentsReconciled: number;
  replayed: boolean;
  licenses: LineView[];
}
interface DeviceView {
  id: string;
  complianceStatus: string;
  complianceReasons: string[];
  assignments: { status: string; license: { id: string } | null }[];
}

describe('hand-recorded license lines: updateLicense and removeLicenses', () => {
  const files = new OfflineLicenseServer('license-lines-suite');
  let server: TestServer;
  let admin: string;
  let seq = 0;
  const slug = (label: string): string => `ll-${label}-${++seq}`;

  beforeAll(async () => {
    server = await startTestServer();
    await trustKeys(server, [files.publicKeyPem]);
    admin = server.token('PROVIDER_ADMIN', undefined, { sub: 'noc-admin' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const update = async (input: Record<string, unknown>, token = admin): Promise<UpdatePayload> =>
    (await gqlData<{ updateLicense: UpdatePayload }>(server, UPDATE, { input }, token)).updateLicense;
  const remove = async (input: Record<string, unknown>, token = admin): Promise<RemovePayload> =>
    (await gqlData<{ removeLicenses: RemovePayload }>(server, REMOVE, { input }, token)).removeLicenses;
  const lineRow = async (id: string): Promise<Record<string, unknown>> => {
    const [row] = await server.sql(
      `select quantity, start_date::text, end_date::text, subscription_id, license_type, billing_type, billing_model,
              entitlement_id, virtual_account_id, source, removed_at, updated_at from license where id = $1`,
      [dbId(id)],
    );
    return row;
  };
  const auditOf = (tenant: AccountTenant, action: string): Promise<{ actor_subject: string; target_ids: string[]; details: Record<string, unknown> }[]> =>
    server.sql(`select actor_subject, target_ids, details from audit_event where tenant_id = $1 and action = $2 order by created_at, id`, [
      tenant.uuid,
      action,
    ]);
  const devicesOf = async (tenant: AccountTenant): Promise<Map<string, DeviceView>> => {
    const data = await gqlData<{ devices: { edges: { node: DeviceView }[] } }>(server, DEVICES, {}, tenant.operator);
    return new Map(data.devices.edges.map((e) => [e.node.id, e.node]));
  };

  /** A tenant with one managed virtual account, a 5-seat prepaid line and `held` devices holding it. */
  async function tenantWithLine(label: string, held: number, more: { externalId: string; name: string; managed: boolean }[] = []) {
    const tenant = await createAccountTenant(server, slug(label), more);
    const [line] = await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'PREPAID', quantity: 5, subscriptionId: 'SUB-TYPO' }]);
    const devices = held ? await addDevices(server, tenant, held) : [];
    if (held) await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });
    return { tenant, line, devices };
  }

  describe('updateLicense', () => {
    it('corrects quantity, term and subscription of a MANUAL line, audits what changed from what, and a retry with the same values changes nothing', async () => {
      const { tenant, line } = await tenantWithLine('correct', 2);
      const input = { id: line, quantity: 8, endDate: day(700), subscriptionId: 'SUB-0042', billingModel: 'ENTERPRISE_AGREEMENT' };
      const first = await update(input);
      expect(first.changed).toEqual(['quantity', 'endDate', 'subscriptionId', 'billingModel']);
      expect(first.license).toMatchObject({
        id: line, quantity: 8, inUse: 2, available: 6, overAllocated: false, endDate: day(700), subscriptionId: 'SUB-0042',
        billingType: 'PREPAID', billingModel: 'ENTERPRISE_AGREEMENT', source: 'MANUAL', removedAt: null,
      });
      const [event] = await auditOf(tenant, 'license.updated');
      expect(event).toEqual({
        actor_subject: 'noc-admin',
        target_ids: [dbId(line)],
        details: {
          inUse: 2,
          changed: {
            quantity: { from: 5, to: 8 },
            endDate: { from: day(365), to: day(700) },
            subscriptionId: { from: 'SUB-TYPO', to: 'SUB-0042' },
            billingModel: { from: 'A_LA_CARTE', to: 'ENTERPRISE_AGREEMENT' },
          },
        },
      });
      const stored = await lineRow(line);
      const retry = await update(input);
      expect(retry.changed).toEqual([]);
      expect(retry.license).toEqual(first.license);
      expect(await lineRow(line)).toEqual(stored);
      expect(await auditOf(tenant, 'license.updated')).toHaveLength(1);
    });

    it('makes the line OVER_ALLOCATED when its quantity is lowered under its use: devices, dashboard and the compliance alert name the reason; raising it clears them', async () => {
      const { tenant, line, devices } = await tenantWithLine('over', 3);
      const lowered = await update({ id: line, quantity: 2 });
      expect(lowered.license).toMatchObject({ quantity: 2, inUse: 3, available: 0, overAllocated: true });
      // Nothing is released: every device keeps its license, and each is out of compliance for it.
      const seen = await devicesOf(tenant);
      for (const id of devices) {
        expect(seen.get(id)).toMatchObject({
          complianceStatus: 'OUT_OF_COMPLIANCE',
          complianceReasons: ['OVER_ALLOCATED'],
          assignments: [{ status: 'ACTIVE', license: { id: line } }],
        });
      }
      const dashboard = await gqlData<{ licenseDashboard: { compliance: unknown } }>(server, DASHBOARD, { tenantId: tenant.id }, admin);
      expect(dashboard.licenseDashboard.compliance).toEqual({ compliant: 0, outOfCompliance: 3, reasons: [{ reason: 'OVER_ALLOCATED', devices: 3 }] });
      const alert = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'OUT_OF_COMPLIANCE');
      expect(alert.details).toEqual({ devices: 3, reasons: { OVER_ALLOCATED: 3 } });
      expect(alert.message).toBe('3 device(s) out of compliance: 3 OVER_ALLOCATED');
      // The line has no room: another device is refused.
      const [extra] = await addDevices(server, tenant, 1, {}, 50);
      expect(await assignError(server, tenant.operator, { deviceIds: [extra], level: 'ADVANTAGE', tier: 'T1' })).toMatchObject({
        extensions: { code: 'INSUFFICIENT_LICENSES', requested: 1, available: 0 },
      });

      const raised = await update({ id: line, quantity: 3 });
      expect(raised.license).toMatchObject({ quantity: 3, inUse: 3, available: 0, overAllocated: false });
      const after = await devicesOf(tenant);
      for (const id of devices) expect(after.get(id)).toMatchObject({ complianceStatus: 'COMPLIANT', complianceReasons: [] });
      const open = await listAlerts(server, tenant.admin, { active: true });
      // Only the unassigned extra device is left out of compliance.
      expect(theAlert(open, 'OUT_OF_COMPLIANCE').details).toEqual({ devices: 1, reasons: { UNASSIGNED: 1 } });
    });

    it('changes entitlement, billing type and virtual account only while no device holds the line (CONFLICT LICENSE_IN_USE), and then does', async () => {
      const { tenant, line, devices } = await tenantWithLine('in-use', 1, [{ externalId: 'LAB', name: 'Lab', managed: true }]);
      const before = await lineRow(line);
      for (const [input, fields] of [
        [{ entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T2_A' }, ['entitlementTag']],
        [{ billingType: 'POSTPAID', billingModel: 'MSLA_U' }, ['billingType']],
        [{ virtualAccountId: tenant.va.LAB, quantity: 9 }, ['virtualAccountId']],
      ] as const) {
        const error = await gqlError(server, UPDATE, { input: { id: line, ...input } }, admin);
        expect(error.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LICENSE_IN_USE', fields, inUse: 1 });
        expect(error.message).toMatch(/held by 1 device/);
      }
      expect(await lineRow(line)).toEqual(before);

      await gqlData(server, 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }', { input: { deviceIds: devices } }, tenant.operator);
      const moved = await update({ id: line, entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T2_A', billingType: 'POSTPAID', billingModel: 'MSLA_C', virtualAccountId: tenant.va.LAB });
      expect(moved.changed).toEqual(['billingType', 'billingModel', 'entitlementTag', 'virtualAccountId']);
      expect(moved.license).toMatchObject({
        billingType: 'POSTPAID', billingModel: 'MSLA_C', available: null, entitlement: { tag: 'regid.2020-10.com.cisco.DSTACK_T2_A' }, virtualAccount: { id: tenant.va.LAB },
      });
    });

    it('binds pending assignments when a raised quantity makes room (the reconciliation of a sync)', async () => {
      const { tenant, line, devices } = await tenantWithLine('room', 2);
      const [other] = await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'PREPAID', quantity: 1 }]);
      // Removing the first line leaves two pending assignments; the one-seat line takes one.
      const removed = await remove({ ids: [line] });
      expect(removed).toMatchObject({ removed: 1, assignmentsPending: 2, assignmentsReconciled: 1 });
      const raised = await update({ id: other, quantity: 2 });
      expect(raised.assignmentsReconciled).toBe(1);
      expect(raised.license).toMatchObject({ quantity: 2, inUse: 2 });
      const held = await currentAssignments(server, tenant);
      expect(held.map((a) => [a.device_id, a.status, a.license_id]).sort()).toEqual(
        devices.map((d) => [dbId(d), 'ACTIVE', dbId(other)]).sort(),
      );
    });

    it.each<[string, Record<string, unknown>, RegExp, string]>([
      ['a billing model of the other billing type', { billingModel: 'MSLA_U' }, /billingModel MSLA_U is not a PREPAID model/, 'billingModel'],
      ['an end before the start', { endDate: '2019-12-31' }, /endDate 2019-12-31 is before startDate/, 'endDate'],
      ['a prepaid quantity of 0', { quantity: 0 }, /quantity must be at least 1 for a prepaid license/, 'quantity'],
      ['a negative quantity', { quantity: -3 }, /quantity must be 0 to 1,000,000/, 'quantity'],
      ['a subscription with spaces', { subscriptionId: 'SUB 1' }, /subscriptionId must be 1 to 64/, 'subscriptionId'],
      ['a tag the catalog does not know', { entitlementTag: 'regid.nope' }, /entitlementTag "regid.nope" is not in the catalog/, 'entitlementTag'],
      ['a billing type without its model', { billingType: 'POSTPAID' }, /billingModel A_LA_CARTE is not a POSTPAID model/, 'billingModel'],
    ])('refuses %s with BAD_USER_INPUT naming the field, and changes nothing', async (_what, patch, message, field) => {
      const { line } = await tenantWithLine('bad', 0);
      const before = await lineRow(line);
      const error = await gqlError(server, UPDATE, { input: { id: line, ...patch } }, admin);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(message);
      expect((error.extensions?.invalidFields as { field: string }[]).map((p) => p.field)).toEqual([field]);
      expect(await lineRow(line)).toEqual(before);
    });

    it('refuses an id that is not a license id (BAD_USER_INPUT) and an unknown license (NOT_FOUND)', async () => {
      const notALicense = await gqlError(server, UPDATE, { input: { id: 'not-an-id', quantity: 3 } }, admin);
      expect(notALicense.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'id' });
      const ghost = Buffer.from('License:00000000-0000-4000-8000-000000000001').toString('base64url');
      const missing = await gqlError(server, UPDATE, { input: { id: ghost, quantity: 3 } }, admin);
      expect(missing.extensions?.code).toBe('NOT_FOUND');
      expect(missing.message).toBe(`license ${ghost} not found`);
    });
  });

  describe('removeLicenses', () => {
    it('removes a MANUAL line: what it held becomes pending and is reconciled like a vanished line; the line stays readable, is listed no more and is never offered again', async () => {
      const { tenant, line, devices } = await tenantWithLine('remove', 3);
      const [spare] = await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'PREPAID', quantity: 2, endInDays: 400 }]);
      const out = await remove({ ids: [line] });
      expect(out).toMatchObject({ removed: 1, alreadyRemoved: 0, assignmentsPending: 3, assignmentsReconciled: 2, replayed: false });
      expect(out.licenses).toHaveLength(1);
      expect(out.licenses[0]).toMatchObject({ id: line, inUse: 0, source: 'MANUAL' });
      expect(out.licenses[0].removedAt).not.toBeNull();

      // As reconcileAssignments does (oldest first; these three were assigned in one call): two are
      // bound to the spare line, the third waits.
      const seen = await devicesOf(tenant);
      const held = devices.map((d) => seen.get(d) as DeviceView);
      expect(held.map((d) => d.assignments[0]).sort((x, y) => x.status.localeCompare(y.status))).toEqual([
        { status: 'ACTIVE', license: { id: spare } },
        { status: 'ACTIVE', license: { id: spare } },
        { status: 'PENDING_RECONCILIATION', license: null },
      ]);
      expect(held.map((d) => d.complianceReasons).sort()).toEqual([[], [], ['PENDING_RECONCILIATION']]);
      const listed = await gqlData<{ licenses: { edges: { node: { id: string } }[] } }>(server, LICENSES, { tenantId: tenant.id }, admin);
      expect(listed.licenses.edges.map((e) => e.node.id)).toEqual([spare]);
      const node = await gqlData<{ node: LineView }>(server, NODE, { id: line }, tenant.operator);
      expect(node.node).toMatchObject({ id: line, removedAt: out.licenses[0].removedAt });
      expect(theAlert(await listAlerts(server, tenant.admin, { active: true }), 'UNRECONCILED_ASSIGNMENTS').details).toEqual({ pending: 1 });

      const [removedEvent] = await auditOf(tenant, 'licenses.removed');
      expect(removedEvent).toEqual({
        actor_subject: 'noc-admin',
        target_ids: [dbId(line)],
        details: { removed: 1, assignmentsPending: 3, assignmentsReconciled: 2 },
      });
      expect((await auditOf(tenant, 'licenses.reconciled')).at(-1)?.details).toEqual({ reconciled: 2, stillPending: 1 });

      // A removed line is never offered again, even with room, and cannot be corrected.
      await remove({ ids: [spare] });
      const [fresh] = await addDevices(server, tenant, 1, {}, 60);
      expect((await assignError(server, tenant.operator, { deviceIds: [fresh], level: 'ADVANTAGE', tier: 'T1' })).extensions?.code).toBe('INSUFFICIENT_LICENSES');
      const corrected = await gqlError(server, UPDATE, { input: { id: line, quantity: 50 } }, admin);
      expect(corrected.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LICENSE_REMOVED' });
    });

    it('is harmless to repeat: a line removed already counts as alreadyRemoved; an idempotencyKey replays the first answer and refuses other ids', async () => {
      const { tenant, line } = await tenantWithLine('again', 1);
      const [second] = await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'POSTPAID', quantity: 0 }]);
      const first = await remove({ ids: [line, second], idempotencyKey: 'rm-1' });
      expect(first).toMatchObject({ removed: 2, alreadyRemoved: 0, assignmentsPending: 1, assignmentsReconciled: 0, replayed: false });
      const events = (await auditOf(tenant, 'licenses.removed')).length;
      const replay = await remove({ ids: [line, second], idempotencyKey: 'rm-1' });
      expect(replay).toEqual({ ...first, replayed: true });
      const plain = await remove({ ids: [second, line] });
      expect(plain).toMatchObject({ removed: 0, alreadyRemoved: 2, assignmentsPending: 0, replayed: false });
      expect(plain.licenses.map((l) => l.id)).toEqual([second, line]);
      expect(await auditOf(tenant, 'licenses.removed')).toHaveLength(events);
      const reused = await gqlError(server, REMOVE, { input: { ids: [line], idempotencyKey: 'rm-1' } }, admin);
      expect(reused.extensions).toMatchObject({ code: 'CONFLICT', argumentName: 'idempotencyKey' });
    });

    it.each<[string, (ids: string[], other: string) => Record<string, unknown>, string, RegExp]>([
      ['no ids', () => ({ ids: [] }), 'BAD_USER_INPUT', /ids must not be empty/],
      ['more than 1,000 ids', (ids) => ({ ids: Array.from({ length: 1001 }, () => ids[0]) }), 'BAD_USER_INPUT', /at most 1000 lines, got 1001/],
      ['the same id twice', (ids) => ({ ids: [ids[0], ids[1], ids[0]] }), 'BAD_USER_INPUT', /ids\[2\] repeats ids\[0\]/],
      ['an id that is not a license id', (ids) => ({ ids: [ids[0], 'nope'] }), 'BAD_USER_INPUT', /ids\[1\] "nope" is not a valid License id/],
      ['a license that does not exist', (ids) => ({ ids: [ids[0], Buffer.from('License:00000000-0000-4000-8000-0000000000ff').toString('base64url')] }), 'NOT_FOUND', /license\(s\) not found/],
      ['lines of two tenants', (ids, other) => ({ ids: [ids[0], other] }), 'BAD_USER_INPUT', /lines of one tenant per call/],
      ['a bad idempotency key', (ids) => ({ ids: [ids[0]], idempotencyKey: 'has space' }), 'BAD_USER_INPUT', /idempotencyKey must be/],
    ])('refuses %s and removes nothing', async (_what, inputOf, code, message) => {
      const { tenant, line } = await tenantWithLine('bad-rm', 1);
      const [second] = await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'PREPAID', quantity: 1 }]);
      const { line: otherTenantLine } = await tenantWithLine('bad-rm-other', 0);
      const error = await gqlError(server, REMOVE, { input: inputOf([line, second], otherTenantLine) }, admin);
      expect(error.extensions?.code).toBe(code);
      expect(error.message).toMatch(message);
      const [{ n }] = await server.sql<{ n: number }>('select count(*)::int as n from license where removed_at is not null and id = any($1::uuid[])', [
        [line, second, otherTenantLine].map(dbId),
      ]);
      expect(n).toBe(0);
      expect((await currentAssignments(server, tenant)).map((a) => a.status)).toEqual(['ACTIVE']);
    });
  });

  describe('lines from a summary file or the license server', () => {
    it('refuses to correct or remove them with LICENSE_NOT_EDITABLE naming where they came from, all or nothing, and changes nothing', async () => {
      const tenant = await createTrialTenant(server, slug('file'));
      const synced = await files.sync(server, tenant, [files.line(`${tenant.slug}-L1`, 'PREPAID', 5), files.line(`${tenant.slug}-L2`, 'PREPAID', 5)]);
      const [fromFile, fromServer] = (await server.sql<{ id: string }>('select id from license where tenant_id = $1 order by external_line_id', [tenant.uuid])).map(
        (r) => Buffer.from(`License:${r.id}`).toString('base64url'),
      );
      // Arranged: a line as an online sync stores it (the sync path itself is tested in sync.e2e).
      await server.sql(`update license set source = 'SYNC' where id = $1`, [dbId(fromServer)]);
      const [manual] = await addLines(server, tenant, [{ tag: DNA_A_T1, billingType: 'PREPAID', quantity: 2, va: synced.vaExternalId }]);
      const before = await server.sql('select id, quantity, source, removed_at from license where tenant_id = $1 order by id', [tenant.uuid]);

      const fileError = await gqlError(server, UPDATE, { input: { id: fromFile, quantity: 50 } }, admin);
      expect(fileError.extensions).toEqual({ code: 'LICENSE_NOT_EDITABLE', licenses: [{ id: fromFile, source: 'FILE' }] });
      expect(fileError.message).toMatch(/came from a license summary file \(FILE\): correct it at the license server/);
      const serverError = await gqlError(server, UPDATE, { input: { id: fromServer, endDate: '2030-01-01' } }, admin);
      expect(serverError.extensions).toEqual({ code: 'LICENSE_NOT_EDITABLE', licenses: [{ id: fromServer, source: 'SYNC' }] });
      const removeError = await gqlError(server, REMOVE, { input: { ids: [manual, fromFile, fromServer] } }, admin);
      expect(removeError.extensions).toMatchObject({ code: 'LICENSE_NOT_EDITABLE' });
      expect((removeError.extensions?.licenses as { id: string }[]).map((l) => l.id).sort()).toEqual([fromFile, fromServer].sort());
      expect(await server.sql('select id, quantity, source, removed_at from license where tenant_id = $1 order by id', [tenant.uuid])).toEqual(before);
      expect(await auditOf(tenant, 'licenses.removed')).toEqual([]);
    });
  });

  describe('roles and tenants', () => {
    it('lets only a provider admin correct or remove lines, of any tenant; tenant roles and provider operators get FORBIDDEN and change nothing', async () => {
      const a = await tenantWithLine('role-a', 1);
      const b = await tenantWithLine('role-b', 1);
      const before = await lineRow(a.line);
      for (const token of [
        a.tenant.admin,
        a.tenant.operator,
        b.tenant.admin,
        server.token('PROVIDER_OPERATOR'),
      ]) {
        for (const [query, input] of [
          [UPDATE, { id: a.line, quantity: 1 }],
          [REMOVE, { ids: [a.line] }],
        ] as const) {
          const error = await gqlError(server, query, { input }, token);
          expect(error.extensions?.code).toBe('FORBIDDEN');
        }
      }
      expect(await lineRow(a.line)).toEqual(before);
      expect((await currentAssignments(server, a.tenant)).map((x) => x.status)).toEqual(['ACTIVE']);
      // The provider admin works on either tenant's lines; each change lands in its own tenant only.
      expect((await update({ id: b.line, quantity: 7 })).license.quantity).toBe(7);
      expect((await remove({ ids: [a.line] })).removed).toBe(1);
      expect(await lineRow(b.line)).toMatchObject({ quantity: 7, removed_at: null });
      expect((await currentAssignments(server, b.tenant)).map((x) => x.status)).toEqual(['ACTIVE']);
      expect((await currentAssignments(server, a.tenant)).map((x) => x.status)).toEqual(['PENDING_RECONCILIATION']);
      expect(await auditOf(b.tenant, 'licenses.removed')).toEqual([]);
      expect(await auditOf(a.tenant, 'license.updated')).toEqual([]);
    });
  });
});

describe('the cost of correcting and removing lines', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { COST_LIMITS: 'on', COST_HEAVY_THRESHOLD: '1000000' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const requested = (body: unknown): number => (body as { extensions: { cost: { requested: number } } }).extensions.cost.requested;

  it('charges removeLicenses 50 points a line on top of the reconciliation it runs, and updateLicense a fixed 5,060', async () => {
    const tenant = await createAccountTenant(server, 'cost-lines');
    const lines = await addLines(server, tenant, [1, 2, 3].map(() => ({ tag: DNA_A_T1, billingType: 'PREPAID' as const, quantity: 2 })));
    const admin = server.token('PROVIDER_ADMIN');
    const updated = await server.graphql('mutation($input: UpdateLicenseInput!) { updateLicense(input: $input) { changed } }', { input: { id: lines[0], quantity: 3 } }, admin);
    expect(updated.body.errors).toBeUndefined();
    // 10 for any mutation + 50 + 5,000, and a one-field selection.
    expect(requested(updated.body)).toBe(10 + 50 + 5000 + 1);
    const removed = await server.graphql('mutation($input: RemoveLicensesInput!) { removeLicenses(input: $input) { removed } }', { input: { ids: lines } }, admin);
    expect(removed.body.errors).toBeUndefined();
    expect(requested(removed.body)).toBe(10 + 5000 + 3 * 50 + 1);
  });
});
