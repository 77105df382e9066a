import fc from 'fast-check';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import type { LicenseLine } from '../src/ssm/files/formats';
import { addDevices, addLines, createAccountTenant, createTrialTenant, dnaTag, gqlData, HSEC_TAG, retireAndRegisterAgain, type AccountTenant } from './support/assignment-fixtures';
import { deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { base64, exportSummary, trustKeys, UPLOAD_SUMMARY } from './support/offline-fixtures';
import { addSimAccount, adoptServerAccount, editSimAccount, simAccount, simLine, synchronize, useLicenseServer } from './support/sync-fixtures';

/**
 * Property: after any sequence of writes (assign, replace, release, re-register with another
 * release or HSEC capability, decommission, register, sync from the license server, an offline
 * summary upload, license lines added / corrected / removed by hand, another tenant deleted, days
 * passing), the counters the database keeps for the dashboard (license_line_use,
 * tenant_device_class) equal a full recomputation from the base tables, and licenseDashboard
 * answers (the tenant's view, and its entry in the provider's view) equal what the device list
 * (compliance from the device_compliance view) and the license list say.
 */

const DEVICES = 5;
const DAY_MS = 86_400_000;
const START = Date.parse('2027-01-10T12:00:00Z');
const PRODUCTS = {
  A1: { tag: dnaTag('A', 'T1'), select: { level: 'ADVANTAGE', tier: 'T1' } },
  E0: { tag: dnaTag('E', 'T0'), select: { level: 'ESSENTIALS', tier: 'T0' } },
  HSEC: { tag: HSEC_TAG, select: { hsec: true } },
} as const;
type Product = keyof typeof PRODUCTS;
type Billing = 'PREPAID' | 'POSTPAID';
const END_DATES = ['2027-01-25', '2027-03-01', '2027-06-30', '2030-12-31'];

interface Real {
  server: TestServer;
  sim: SimulatorHandle;
  tenant: AccountTenant;
  accountId: string;
  deviceIds: string[];
  /** Hand-recorded lines (global ids) still present. */
  manual: string[];
  nextLine: number;
}

const DASHBOARD_FIELDS = `devices { total licensed unlicensed pendingReconciliation }
  compliance { compliant outOfCompliance reasons { reason devices } }
  expiring { within30Days within90Days expired }
  entitlements { entitlement { tag } billingType lines purchased inUse available }`;

/** Calls a mutation; refusals (no licenses left, not applicable...) are outcomes like any other here. */
async function attempt(server: TestServer, query: string, variables: Record<string, unknown>, token: string): Promise<void> {
  const res = await server.graphql(query, variables, token);
  const unexpected = (res.body.errors ?? []).filter((e) => !['INSUFFICIENT_LICENSES', 'BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND'].includes(String(e.extensions?.code)));
  if (unexpected.length > 0) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(unexpected)}`);
}

class Advance implements fc.AsyncCommand<object, Real> {
  constructor(readonly days: number) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    real.server.runtime.clock.advance(this.days * DAY_MS);
  }
  toString = (): string => `advance(${this.days}d)`;
}

class Assign implements fc.AsyncCommand<object, Real> {
  constructor(readonly devices: number[], readonly product: Product, readonly billing: Billing | null) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    await attempt(
      real.server,
      'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }',
      { input: { deviceIds: this.devices.map((d) => real.deviceIds[d]), ...PRODUCTS[this.product].select, ...(this.billing ? { billingType: this.billing } : {}) } },
      real.tenant.operator,
    );
  }
  toString = (): string => `assign(${this.devices}, ${this.product}, ${this.billing ?? 'ANY'})`;
}

class Release implements fc.AsyncCommand<object, Real> {
  constructor(readonly devices: number[], readonly category: 'DNA' | 'HSEC' | null) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    await attempt(
      real.server,
      'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }',
      { input: { deviceIds: this.devices.map((d) => real.deviceIds[d]), category: this.category } },
      real.tenant.operator,
    );
  }
  toString = (): string => `release(${this.devices}, ${this.category ?? 'ALL'})`;
}

/** Registers the devices again with a release and HSEC capability: what they hold may stop fitting (or fit again). */
class Reregister implements fc.AsyncCommand<object, Real> {
  constructor(readonly devices: number[], readonly release: string, readonly hsec: boolean) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    await registerDevices(real.server, real.tenant.admin, this.devices.map((d) => deviceInput(d + 1, { softwareVersion: this.release, hsecCompatible: this.hsec })));
  }
  toString = (): string => `reregister(${this.devices}, ${this.release}, hsec ${this.hsec})`;
}

/** Retires the devices and registers their uuids again: the slots are new devices holding nothing. */
class Decommission implements fc.AsyncCommand<object, Real> {
  constructor(readonly devices: number[]) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    await retireAndRegisterAgain(real.server, real.tenant, real.deviceIds, this.devices);
  }
  toString = (): string => `decommission(${this.devices})`;
}

type LineEdit = { kind: 'quantity'; line: number; quantity: number } | { kind: 'end'; line: number; end: string } | { kind: 'remove'; line: number } | { kind: 'add'; product: Product; billing: Billing; quantity: number; end: string };

function applyEdit(real: Real, lines: LicenseLine[], edit: LineEdit): void {
  if (edit.kind === 'add') {
    lines.push(simLine(`L${real.accountId}-${++real.nextLine}`, PRODUCTS[edit.product].tag, edit.quantity, { billingType: edit.billing, startDate: '2026-01-01', endDate: edit.end }));
    return;
  }
  if (lines.length === 0) return;
  const i = edit.line % lines.length;
  if (edit.kind === 'quantity') lines[i].quantity = edit.quantity;
  else if (edit.kind === 'end') lines[i].endDate = edit.end;
  else lines.splice(i, 1);
}

/** The license server's lines change; then a sync (ONLINE) or an offline summary upload brings them here. */
class ServerChange implements fc.AsyncCommand<object, Real> {
  constructor(readonly edit: LineEdit, readonly via: 'SYNC' | 'UPLOAD') {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    editSimAccount(real.sim, real.accountId, (account) => applyEdit(real, account.virtualAccounts[0].licenses, this.edit));
    if (this.via === 'SYNC') {
      const run = await synchronize(real.server, real.tenant.admin);
      if (run.status !== 'SUCCEEDED') throw new Error(`sync ${run.status}`);
      return;
    }
    await trustKeys(real.server, [real.sim.publicKeyPem]);
    try {
      await gqlData(real.server, UPLOAD_SUMMARY, { input: { contentBase64: base64(await exportSummary(real.sim, real.accountId)) } }, real.tenant.admin);
    } finally {
      await useLicenseServer(real.server, real.sim);
    }
  }
  toString = (): string => `server(${JSON.stringify(this.edit)}, ${this.via})`;
}

/** A provider admin records, corrects or removes a hand-recorded line. */
class ManualLine implements fc.AsyncCommand<object, Real> {
  constructor(readonly edit: LineEdit) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    const provider = real.server.token('PROVIDER_ADMIN');
    const { edit } = this;
    if (edit.kind === 'add') {
      // a hand-recorded prepaid line has at least one license
      const [id] = await addLines(real.server, real.tenant, [
        { tag: PRODUCTS[edit.product].tag, billingType: edit.billing, quantity: edit.billing === 'PREPAID' ? Math.max(edit.quantity, 1) : edit.quantity, va: `VA-${real.accountId}`, startInDays: -400, endInDays: Math.round((Date.parse(edit.end) - START) / DAY_MS) },
      ]);
      real.manual.push(id);
      return;
    }
    if (real.manual.length === 0) return;
    const id = real.manual[edit.line % real.manual.length];
    if (edit.kind === 'remove') {
      await gqlData(real.server, 'mutation($input: RemoveLicensesInput!) { removeLicenses(input: $input) { removed } }', { input: { ids: [id] } }, provider);
      real.manual = real.manual.filter((m) => m !== id);
      return;
    }
    const change = edit.kind === 'quantity' ? { quantity: edit.quantity } : { endDate: edit.end };
    await attempt(real.server, 'mutation($input: UpdateLicenseInput!) { updateLicense(input: $input) { changed } }', { input: { id, ...change } }, provider);
  }
  toString = (): string => `manual(${JSON.stringify(this.edit)})`;
}

let doomed = 0;

/** Another tenant, with devices holding licenses, is suspended and deleted: its counters go, nobody else's change. */
class DeleteOtherTenant implements fc.AsyncCommand<object, Real> {
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    const { server } = real;
    const other = await createAccountTenant(server, `dash-doomed-${++doomed}`);
    await addLines(server, other, [{ tag: PRODUCTS.A1.tag, billingType: 'PREPAID', quantity: 1 }]);
    const ids = await addDevices(server, other, 3);
    await attempt(server, 'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }', { input: { deviceIds: ids.slice(0, 1), ...PRODUCTS.A1.select } }, other.admin);
    await attempt(server, 'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }', { input: { deviceIds: ids.slice(1), ...PRODUCTS.A1.select, billingType: 'POSTPAID' } }, other.admin);
    const counted = await server.sql<{ n: number }>('select count(*)::int as n from tenant_device_class where tenant_id = $1', [other.uuid]);
    expect(counted[0].n).toBeGreaterThan(0);
    const provider = server.token('PROVIDER_ADMIN');
    await gqlData(server, 'mutation($input: TenantIdInput!) { suspendTenant(input: $input) { id } }', { input: { id: other.id } }, provider);
    await gqlData(server, 'mutation($input: DeleteTenantInput!) { deleteTenant(input: $input) { uuid } }', { input: { id: other.id, confirmSlug: other.slug, force: true } }, provider);
    for (const table of ['license_line_use', 'tenant_device_class', 'tenant_device_summary']) {
      expect(await server.sql(`select count(*)::int as n from ${table} where tenant_id = $1`, [other.uuid])).toEqual([{ n: 0 }]);
    }
  }
  toString = (): string => 'deleteOtherTenant()';
}

const devicesArb = fc.uniqueArray(fc.integer({ min: 0, max: DEVICES - 1 }), { minLength: 1, maxLength: DEVICES });
const productArb = fc.constantFrom<Product>('A1', 'E0', 'HSEC');
const billingArb = fc.constantFrom<Billing>('PREPAID', 'POSTPAID');
const endArb = fc.constantFrom(...END_DATES);
const editArb: fc.Arbitrary<LineEdit> = fc.oneof(
  fc.record({ kind: fc.constant('quantity' as const), line: fc.nat(9), quantity: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('end' as const), line: fc.nat(9), end: endArb }),
  fc.record({ kind: fc.constant('remove' as const), line: fc.nat(9) }),
  fc.record({ kind: fc.constant('add' as const), product: productArb, billing: billingArb, quantity: fc.integer({ min: 0, max: 4 }), end: endArb }),
);
const OPERATIONS: fc.Arbitrary<fc.AsyncCommand<object, Real>>[] = [
  fc.integer({ min: 1, max: 120 }).map((d) => new Advance(d)),
  fc.tuple(devicesArb, productArb, fc.option(billingArb, { nil: null })).map(([d, p, b]) => new Assign(d, p, b)),
  fc.tuple(devicesArb, productArb, fc.option(billingArb, { nil: null })).map(([d, p, b]) => new Assign(d, p, b)),
  fc.tuple(devicesArb, fc.constantFrom<'DNA' | 'HSEC' | null>('DNA', 'HSEC', null)).map(([d, c]) => new Release(d, c)),
  fc.tuple(devicesArb, fc.constantFrom('17.9.3a', '17.3.1', '16.12.4'), fc.boolean()).map(([d, r, h]) => new Reregister(d, r, h)),
  devicesArb.map((d) => new Decommission(d)),
  fc.tuple(editArb, fc.constantFrom<'SYNC' | 'UPLOAD'>('SYNC', 'UPLOAD')).map(([e, via]) => new ServerChange(e, via)),
  editArb.map((e) => new ManualLine(e)),
  fc.constant(new DeleteOtherTenant()),
];

interface DashboardView {
  devices: { total: number; licensed: number; unlicensed: number; pendingReconciliation: number };
  compliance: { compliant: number; outOfCompliance: number; reasons: { reason: string; devices: number }[] };
  expiring: { within30Days: number; within90Days: number; expired: number };
  entitlements: { entitlement: { tag: string }; billingType: string; lines: number; purchased: number; inUse: number; available: number | null }[];
}

const REASONS = ['UNASSIGNED', 'PENDING_RECONCILIATION', 'LICENSE_EXPIRED', 'NOT_APPLICABLE', 'OVER_ALLOCATED'];

/** The dashboard as the device list (per-device compliance) and the license list (per-line use) say it is. */
async function expectedDashboard(real: Real): Promise<DashboardView> {
  const { server, tenant } = real;
  const { devices } = await gqlData<{ devices: { edges: { node: { complianceReasons: string[]; assignments: { category: string; status: string }[] } }[] } }>(
    server,
    'query { devices(first: 100) { edges { node { complianceReasons assignments { category status } } } } }',
    {},
    tenant.operator,
  );
  const { licenses } = await gqlData<{ licenses: { edges: { node: { entitlement: { tag: string }; billingType: Billing; quantity: number; inUse: number; endDate: string } }[] } }>(
    server,
    'query { licenses(first: 100) { edges { node { entitlement { tag } billingType quantity inUse endDate } } } }',
    {},
    tenant.operator,
  );
  const nodes = devices.edges.map((e) => e.node);
  const dna = (n: (typeof nodes)[number]): string | undefined => n.assignments.find((a) => a.category === 'DNA')?.status;
  const licensed = nodes.filter((n) => dna(n) === 'ACTIVE').length;
  const compliant = nodes.filter((n) => n.complianceReasons.length === 0).length;
  const today = new Date(real.server.runtime.clock.now()).toISOString().slice(0, 10);
  const inDays = (days: number): string => new Date(Date.parse(`${today}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
  const lines = licenses.edges.map((e) => e.node);
  const current = lines.filter((l) => l.endDate >= today);
  const groups = new Map<string, DashboardView['entitlements'][number]>();
  for (const l of current) {
    const key = `${l.entitlement.tag}|${l.billingType}`;
    const g = groups.get(key) ?? { entitlement: { tag: l.entitlement.tag }, billingType: l.billingType, lines: 0, purchased: 0, inUse: 0, available: l.billingType === 'PREPAID' ? 0 : null };
    g.lines += 1;
    g.purchased += l.quantity;
    g.inUse += l.inUse;
    if (g.available !== null) g.available += Math.max(l.quantity - l.inUse, 0);
    groups.set(key, g);
  }
  return {
    devices: { total: nodes.length, licensed, unlicensed: nodes.length - licensed, pendingReconciliation: nodes.filter((n) => dna(n) === 'PENDING_RECONCILIATION').length },
    compliance: {
      compliant,
      outOfCompliance: nodes.length - compliant,
      reasons: REASONS.map((reason) => ({ reason, devices: nodes.filter((n) => n.complianceReasons.includes(reason)).length })).filter((r) => r.devices > 0),
    },
    expiring: {
      within30Days: current.filter((l) => l.endDate < inDays(30)).length,
      within90Days: current.filter((l) => l.endDate < inDays(90)).length,
      expired: lines.length - current.length,
    },
    entitlements: [...groups.values()].sort((a, b) => a.entitlement.tag.localeCompare(b.entitlement.tag) || a.billingType.localeCompare(b.billingType)),
  };
}

/** Every counter row equals the recomputation (zero rows are equal to absent ones). */
async function expectCountersExact(server: TestServer): Promise<void> {
  const lines = (from: string): Promise<unknown[]> =>
    server.sql(`select tenant_id, license_id, in_use from ${from} where in_use <> 0 order by tenant_id, license_id`);
  expect(await lines('license_line_use')).toEqual(await lines('license_line_use_recomputed'));
  const classes = (from: string): Promise<unknown[]> =>
    server.sql(
      `select tenant_id, dna_license_id, hsec_license_id, dna_status, pending, not_applicable, devices from ${from}
        where devices <> 0 order by tenant_id, dna_license_id nulls first, hsec_license_id nulls first, dna_status nulls first, pending, not_applicable`,
    );
  expect(await classes('tenant_device_class')).toEqual(await classes('tenant_device_class_recomputed'));
  const summaries = (from: string): Promise<unknown[]> => server.sql(`select * from ${from} where total <> 0 order by tenant_id`);
  expect(await summaries('tenant_device_summary')).toEqual(await summaries('tenant_device_summary_recomputed'));
}

describe('dashboard counters against a full recomputation (property)', () => {
  let server: TestServer;
  let sim: SimulatorHandle;
  let runs = 0;

  beforeAll(async () => {
    [server, sim] = await Promise.all([startTestServer(), startSimulator({ port: 0, seed: 'demo' })]);
    await useLicenseServer(server, sim);
  });
  afterAll(async () => {
    server?.runtime.clock.reset();
    await sim?.close();
    await server?.close();
  });

  it('keeps the counters exact for statements that write many tenants at once (a bulk load by the owner), with one lock per tenant or one for all', async () => {
    for (const tenants of [3, 20]) {
      const slugs = Array.from({ length: tenants }, (_, i) => `dash-bulk-${tenants}-${i}`);
      await server.sql(`insert into tenant (name, slug) select s, s from unnest($1::text[]) as s`, [slugs]);
      await server.sql(
        `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version, hsec_compatible)
         select t.id, 'BULK-' || g, 'bulk-' || g || '.example', 'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', case when g % 3 = 0 then '16.1.1' else '17.9.3a' end, g % 2 = 0
           from tenant t cross join generate_series(1, 4) as g where t.slug = any ($1::text[])`,
        [slugs],
      );
      // Trial assignments (pending, no line) for most devices of every tenant, in one statement, then some released.
      await server.sql(
        `insert into assignment (tenant_id, device_id, entitlement_id, category, billing_type, status, assigned_by)
         select d.tenant_id, d.id, e.id, 'DNA', 'POSTPAID', 'PENDING_RECONCILIATION', 'bulk'
           from device d join tenant t on t.id = d.tenant_id cross join entitlement e
          where t.slug = any ($1::text[]) and d.uuid <> 'BULK-4' and e.tag = $2`,
        [slugs, PRODUCTS.A1.tag],
      );
      await server.sql(
        `update assignment a set released_at = now(), released_by = 'bulk' from device d join tenant t on t.id = d.tenant_id
          where a.tenant_id = d.tenant_id and a.device_id = d.id and t.slug = any ($1::text[]) and d.uuid = 'BULK-1'`,
        [slugs],
      );
      await server.sql(`update device d set software_version = '17.9.3a' from tenant t where t.id = d.tenant_id and t.slug = any ($1::text[]) and d.uuid = 'BULK-3'`, [slugs]);
      const summary = await server.sql<{ tenants: number; devices: number; pending: number }>(
        `select count(*)::int as tenants, sum(s.total)::int as devices, sum(s.pending)::int as pending
           from tenant_device_summary s join tenant t on t.id = s.tenant_id where t.slug = any ($1::text[])`,
        [slugs],
      );
      expect(summary).toEqual([{ tenants, devices: 4 * tenants, pending: 2 * tenants }]);
      await expectCountersExact(server);
    }
  });

  it('keeps the counters equal to a recomputation, and the dashboards equal to the device and license lists, after random sequences of every write', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(OPERATIONS, { maxCommands: 12 }), fc.boolean(), async (commands, trial) => {
        server.runtime.clock.set(new Date(START));
        const accountId = `SA-DASH-${++runs}`;
        addSimAccount(
          sim,
          simAccount(accountId, [
            {
              id: `VA-${accountId}`,
              lines: [
                simLine(`L${accountId}-1`, PRODUCTS.A1.tag, 2, { startDate: '2026-01-01', endDate: '2027-03-01' }),
                simLine(`L${accountId}-2`, PRODUCTS.A1.tag, 0, { billingType: 'POSTPAID', startDate: '2026-01-01' }),
                simLine(`L${accountId}-3`, PRODUCTS.HSEC.tag, 1, { startDate: '2026-01-01', endDate: '2027-01-25' }),
              ],
            },
          ]),
        );
        const tenant = await createTrialTenant(server, `dash-prop-${runs}`);
        const deviceIds = await addDevices(server, tenant, DEVICES);
        const real: Real = { server, sim, tenant, accountId, deviceIds, manual: [], nextLine: 3 };
        if (trial) {
          // Assignments made before any smart account wait (PENDING_RECONCILIATION) until the account and its lines arrive.
          await attempt(server, 'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }', { input: { deviceIds: deviceIds.slice(0, 3), ...PRODUCTS.A1.select } }, tenant.operator);
        }
        await adoptServerAccount(server, tenant, accountId, [`VA-${accountId}`]);
        await synchronize(server, tenant.admin);
        // Two devices hold the prepaid line of quantity 2 from the start: a lower quantity later over-allocates it.
        await attempt(server, 'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }', { input: { deviceIds: deviceIds.slice(3, 5), ...PRODUCTS.A1.select, billingType: 'PREPAID' } }, tenant.operator);
        await fc.asyncModelRun(() => ({ model: {}, real }), commands);

        await expectCountersExact(server);
        const want = await expectedDashboard(real);
        const own = await gqlData<{ licenseDashboard: DashboardView }>(server, `query { licenseDashboard { ${DASHBOARD_FIELDS} } }`, {}, tenant.operator);
        expect(own.licenseDashboard).toEqual(want);
        const all = await gqlData<{ licenseDashboard: DashboardView & { tenants: (DashboardView & { tenant: { id: string } })[] } }>(
          server,
          `query { licenseDashboard { ${DASHBOARD_FIELDS} tenants { tenant { id } ${DASHBOARD_FIELDS} } } }`,
          {},
          server.token('PROVIDER_OPERATOR'),
        );
        const { tenant: entryTenant, ...entry } = all.licenseDashboard.tenants.find((t) => t.tenant.id === tenant.id) ?? { tenant: null };
        expect(entryTenant).toEqual({ id: tenant.id });
        expect(entry).toEqual(want);
        const sum = (f: (t: DashboardView) => number): number => all.licenseDashboard.tenants.reduce((n, t) => n + f(t), 0);
        expect(all.licenseDashboard.devices.total).toBe(sum((t) => t.devices.total));
        expect(all.licenseDashboard.compliance.compliant).toBe(sum((t) => t.compliance.compliant));
      }),
      { numRuns: 30 },
    );
  }, 600_000);
});
