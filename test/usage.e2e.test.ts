import pg from 'pg';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import {
  addDevices,
  addLines,
  assign,
  configureAccounts,
  createAccountTenant,
  createTrialTenant,
  dbId,
  dnaTag,
  gqlData,
  HSEC_TAG,
  type AccountTenant,
} from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { addSimAccount, editSimAccount, simAccount, simLine, synchronize, useLicenseServer } from './support/sync-fixtures';
import { DAY_MS, intervalsOf, licenseUsage, licenseUsageError, usageCsv, type UsageRowView } from './support/usage-fixtures';

/**
 * Usage history and billing: every assignment's life kept as intervals (written by triggers in the
 * same transaction as the change), and licenseUsage / GET /files/license-usage.csv computed from them.
 * The clock is stopped at exact instants (runtime.clock.set), so every figure is known exactly.
 */

const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }';
const RECONCILE = 'mutation { reconcileAssignments { reconciled stillPending } }';
const T1_A = dnaTag('A', 'T1');
const T0 = Date.parse('2027-01-10T00:00:00Z');
const at = (days: number): Date => new Date(T0 + days * DAY_MS);
const iso = (days: number): string => at(days).toISOString();
/** Wide terms: any instant the tests stop the clock at lies within them. */
const WIDE = { startInDays: -3650, endInDays: 3650 };

describe('usage history and billing', () => {
  let server: TestServer;
  let seq = 0;
  const slug = (label: string): string => `usage-${label}-${++seq}`;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    server.runtime.clock.reset();
    await server?.close();
  });
  beforeEach(() => server.runtime.clock.set(at(0)));

  /** A tenant with one prepaid and one postpaid line of Routing DNA Advantage: Tier 1, and `devices` devices. */
  const billedTenant = async (label: string, devices = 2): Promise<{ tenant: AccountTenant; deviceIds: string[]; lines: string[] }> => {
    const tenant = await createAccountTenant(server, slug(label));
    const lines = await addLines(server, tenant, [
      { tag: T1_A, billingType: 'PREPAID', quantity: 100, ...WIDE },
      { tag: T1_A, billingType: 'POSTPAID', quantity: 0, ...WIDE },
      { tag: HSEC_TAG, billingType: 'POSTPAID', quantity: 0, ...WIDE },
    ]);
    const deviceIds = await addDevices(server, tenant, devices);
    return { tenant, deviceIds, lines };
  };

  /** Assign at 0, replace device 1 by postpaid at day 1, release device 2 at day 1.5; now: day 2.25. */
  const history = async (label: string): Promise<{ tenant: AccountTenant; deviceIds: string[]; lines: string[] }> => {
    server.runtime.clock.set(at(0));
    const arranged = await billedTenant(label);
    const { tenant, deviceIds } = arranged;
    await assign(server, tenant.operator, { deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'PREPAID' });
    server.runtime.clock.set(at(1));
    await assign(server, tenant.operator, { deviceIds: [deviceIds[0]], level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
    server.runtime.clock.set(at(1.5));
    await gqlData(server, RELEASE, { input: { deviceIds: [deviceIds[1]] } }, tenant.operator);
    server.runtime.clock.set(at(2.25));
    return arranged;
  };

  const figures = (rows: UsageRowView[]): unknown[] =>
    rows.map((r) => ({
      period: [r.periodStart, r.periodEnd],
      billing: `${r.billingType}/${r.billingModel}`,
      deviceDays: Number(r.deviceDays.toFixed(9)),
      peak: r.peakDevices,
      average: Number(r.averageDevices.toFixed(9)),
    }));

  describe('the history', () => {
    it('opens an interval on assign, closes it on release, and on replace closes it and opens the new line at the same instant', async () => {
      const { tenant, deviceIds, lines } = await history('intervals');

      const intervals = await intervalsOf(server, tenant.uuid);
      const [d1, d2] = deviceIds.map(dbId);
      expect(intervals.map((i) => ({ ...i, assignment_id: undefined }))).toEqual([
        { assignment_id: undefined, device_id: d1, tag: T1_A, license_id: dbId(lines[0]), billing_type: 'PREPAID', billing_model: 'A_LA_CARTE', valid_from: at(0), valid_to: at(1) },
        { assignment_id: undefined, device_id: d2, tag: T1_A, license_id: dbId(lines[0]), billing_type: 'PREPAID', billing_model: 'A_LA_CARTE', valid_from: at(0), valid_to: at(1.5) },
        { assignment_id: undefined, device_id: d1, tag: T1_A, license_id: dbId(lines[1]), billing_type: 'POSTPAID', billing_model: 'MSLA_U', valid_from: at(1), valid_to: null },
      ]);
    });

    it('writes nothing when an assignment is asked for again unchanged, and nothing when a release finds nothing held', async () => {
      const { tenant, deviceIds } = await billedTenant('unchanged');
      await assign(server, tenant.operator, { deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      server.runtime.clock.set(at(1));
      const again = await assign(server, tenant.operator, { deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      await gqlData(server, RELEASE, { input: { deviceIds, category: 'HSEC' } }, tenant.operator);

      expect(again).toMatchObject({ assigned: 0, unchanged: 2 });
      const intervals = await intervalsOf(server, tenant.uuid);
      expect(intervals).toHaveLength(2);
      expect(intervals.every((i) => i.valid_from.getTime() === T0 && i.valid_to === null)).toBe(true);
    });

    it('keeps a trial assignment PENDING_RECONCILIATION as an interval with no line, and its reconciliation opens one on the line', async () => {
      const tenant = await createTrialTenant(server, slug('trial'));
      const [device] = await addDevices(server, tenant, 1);
      await assign(server, tenant.admin, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      server.runtime.clock.set(at(1));
      await configureAccounts(server, tenant, [{ externalId: 'MAIN', name: 'Main', managed: true }]);
      const [line] = await addLines(server, tenant, [{ tag: T1_A, billingType: 'POSTPAID', quantity: 0, ...WIDE }]);
      const reconciled = await gqlData<{ reconcileAssignments: { reconciled: number } }>(server, RECONCILE, {}, tenant.admin);
      server.runtime.clock.set(at(3));

      expect(reconciled.reconcileAssignments.reconciled).toBe(1);
      expect((await intervalsOf(server, tenant.uuid)).map((i) => [i.license_id, i.billing_model, i.valid_from, i.valid_to])).toEqual([
        [null, null, at(0), at(1)],
        [dbId(line), 'MSLA_U', at(1), null],
      ]);
      const rows = await licenseUsage(server, tenant.operator, { from: iso(0), to: iso(3), granularity: 'MONTH' });
      expect(figures(rows)).toEqual([
        { period: [iso(0), iso(3)], billing: 'POSTPAID/MSLA_U', deviceDays: 2, peak: 1, average: Number((2 / 3).toFixed(9)) },
        { period: [iso(0), iso(3)], billing: 'null/null', deviceDays: 1, peak: 1, average: Number((1 / 3).toFixed(9)) },
      ]);
    });

    describe('through a sync with the license server', () => {
      let sim: SimulatorHandle;
      beforeAll(async () => {
        sim = await startSimulator({ port: 0, seed: 'demo' });
      });
      afterAll(async () => {
        await sim?.close();
      });

      it('moves an assignment whose line vanished to PENDING_RECONCILIATION and onto the other line, and splits an interval when a line changes billing model', async () => {
        await useLicenseServer(server, sim);
        const tenant = await createTrialTenant(server, slug('sync'));
        const accountId = `SA-${tenant.slug.toUpperCase()}`;
        const vaId = `VA-${tenant.slug.toUpperCase()}`;
        addSimAccount(sim, simAccount(accountId, [{ id: vaId, lines: [
          simLine(`${vaId}-L1`, T1_A, 0, { billingType: 'POSTPAID', endDate: '2028-06-30' }),
          simLine(`${vaId}-L2`, T1_A, 0, { billingType: 'POSTPAID', endDate: '2030-06-30' }),
        ] }]));
        const configured = await gqlData<{ configureSmartAccount: { virtualAccounts: { id: string; externalId: string }[] } }>(
          server,
          'mutation($input: ConfigureSmartAccountInput!) { configureSmartAccount(input: $input) { virtualAccounts { id externalId } } }',
          { input: { accountId, fetchFromServer: true } },
          tenant.admin,
        );
        await gqlData(
          server,
          'mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id } }',
          { input: { virtualAccountIds: configured.configureSmartAccount.virtualAccounts.map((v) => v.id) } },
          tenant.admin,
        );
        expect(await synchronize(server, tenant.admin)).toMatchObject({ status: 'SUCCEEDED' });
        const [device] = await addDevices(server, tenant, 1);
        await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });

        server.runtime.clock.set(at(1));
        editSimAccount(sim, accountId, (sa) => {
          sa.virtualAccounts[0].licenses = sa.virtualAccounts[0].licenses.filter((l) => l.lineId !== `${vaId}-L1`);
        });
        expect(await synchronize(server, tenant.admin)).toMatchObject({ status: 'SUCCEEDED', assignmentsPending: 1, assignmentsReconciled: 1 });
        server.runtime.clock.set(at(2));
        editSimAccount(sim, accountId, (sa) => {
          sa.virtualAccounts[0].licenses[0].billingModel = 'MSLA_C';
        });
        expect(await synchronize(server, tenant.admin)).toMatchObject({ status: 'SUCCEEDED', linesChanged: 1 });
        server.runtime.clock.set(at(4));

        const lines = await server.sql<{ id: string; external_line_id: string }>('select id, external_line_id from license where tenant_id = $1', [tenant.uuid]);
        const lineOf = (external: string): string | undefined => lines.find((l) => l.external_line_id === external)?.id;
        const intervals = await intervalsOf(server, tenant.uuid);
        expect(new Set(intervals.map((i) => i.assignment_id)).size).toBe(1);
        expect(intervals.map((i) => [i.license_id, i.billing_model, i.valid_from, i.valid_to])).toEqual([
          [lineOf(`${vaId}-L1`), 'MSLA_U', at(0), at(1)],
          // pending for no time at all: the same sync bound it again
          [null, null, at(1), at(1)],
          [lineOf(`${vaId}-L2`), 'MSLA_U', at(1), at(2)],
          [lineOf(`${vaId}-L2`), 'MSLA_C', at(2), null],
        ]);
        const rows = await licenseUsage(server, tenant.operator, { from: iso(0), to: iso(4), granularity: 'MONTH' });
        expect(figures(rows)).toEqual([
          { period: [iso(0), iso(4)], billing: 'POSTPAID/MSLA_U', deviceDays: 2, peak: 1, average: 0.5 },
          { period: [iso(0), iso(4)], billing: 'POSTPAID/MSLA_C', deviceDays: 2, peak: 1, average: 0.5 },
        ]);
      });
    });

    it('refuses to change a closed interval or any column but an open one\'s end, and to delete history, even to the application role', async () => {
      const { tenant } = await history('immutable');
      const [closed] = (await intervalsOf(server, tenant.uuid)).filter((i) => i.valid_to !== null);
      const app = new pg.Client({ connectionString: server.db.appUrl });
      await app.connect();
      const asProvider = async (text: string, params: unknown[]): Promise<{ rowCount: number | null } | { code: string }> => {
        await app.query('begin');
        try {
          await app.query("select set_config('app.role', 'PROVIDER_ADMIN', true), set_config('app.tenant_id', '', true)");
          const r = await app.query(text, params);
          await app.query('commit');
          return { rowCount: r.rowCount };
        } catch (err) {
          await app.query('rollback');
          return { code: (err as { code: string }).code };
        }
      };
      try {
        expect(await asProvider('update license_usage_interval set valid_to = now() where assignment_id = $1 and valid_to is not null', [closed.assignment_id]))
          .toEqual({ rowCount: 0 });
        expect(await asProvider('update license_usage_interval set valid_from = valid_from - interval \'1 day\', valid_to = now() where tenant_id = $1 and valid_to is null', [tenant.uuid]))
          .toEqual({ code: '23000' });
        expect(await asProvider('delete from license_usage_interval where tenant_id = $1', [tenant.uuid])).toEqual({ rowCount: 0 });
      } finally {
        await app.end();
      }
      // Not even the owner may rewrite a closed interval.
      await expect(server.sql('update license_usage_interval set valid_to = valid_to + interval \'1 day\' where assignment_id = $1 and valid_to is not null', [closed.assignment_id]))
        .rejects.toMatchObject({ code: '23000' });
      expect(await intervalsOf(server, tenant.uuid)).toHaveLength(3);
    });
  });

  describe('licenseUsage', () => {
    it('reports device-days, peak and average per UTC day, splitting intervals at midnight, up to now', async () => {
      const { tenant } = await history('daily');

      const rows = await licenseUsage(server, tenant.operator, { from: iso(0), to: iso(5), granularity: 'DAY' });

      expect(rows.every((r) => r.tenant.id === tenant.id && r.entitlement.tag === T1_A)).toBe(true);
      expect(figures(rows)).toEqual([
        { period: [iso(0), iso(1)], billing: 'PREPAID/A_LA_CARTE', deviceDays: 2, peak: 2, average: 2 },
        { period: [iso(1), iso(2)], billing: 'PREPAID/A_LA_CARTE', deviceDays: 0.5, peak: 1, average: 0.5 },
        { period: [iso(1), iso(2)], billing: 'POSTPAID/MSLA_U', deviceDays: 1, peak: 1, average: 1 },
        // the day still running ends now (day 2.25): a quarter of a day, one device all of it
        { period: [iso(2), iso(2.25)], billing: 'POSTPAID/MSLA_U', deviceDays: 0.25, peak: 1, average: 1 },
      ]);
    });

    it('reports per UTC month, the first and last periods cut to the range', async () => {
      const { tenant } = await history('monthly');

      const rows = await licenseUsage(server, tenant.admin, { from: iso(0.5), to: iso(2), granularity: 'MONTH' });

      expect(figures(rows)).toEqual([
        { period: [iso(0.5), iso(2)], billing: 'PREPAID/A_LA_CARTE', deviceDays: 1.5, peak: 2, average: 1 },
        { period: [iso(0.5), iso(2)], billing: 'POSTPAID/MSLA_U', deviceDays: 1, peak: 1, average: Number((1 / 1.5).toFixed(9)) },
      ]);
    });

    it('splits a month boundary: each month gets the part of the interval inside it', async () => {
      const { tenant, deviceIds } = await billedTenant('boundary', 1);
      server.runtime.clock.set(new Date('2027-01-31T18:00:00Z'));
      await assign(server, tenant.operator, { deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      server.runtime.clock.set(new Date('2027-02-01T06:00:00Z'));
      await gqlData(server, RELEASE, { input: { deviceIds } }, tenant.operator);
      server.runtime.clock.set(new Date('2027-03-01T00:00:00Z'));

      const rows = await licenseUsage(server, tenant.operator, { from: '2027-01-01T00:00:00Z', to: '2027-03-01T00:00:00Z', granularity: 'MONTH' });

      expect(figures(rows)).toEqual([
        { period: ['2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'], billing: 'POSTPAID/MSLA_U', deviceDays: 0.25, peak: 1, average: Number((0.25 / 31).toFixed(9)) },
        { period: ['2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z'], billing: 'POSTPAID/MSLA_U', deviceDays: 0.25, peak: 1, average: Number((0.25 / 28).toFixed(9)) },
      ]);
    });

    it('counts as the peak the devices held at the same instant, not the devices that held it at some time in the period', async () => {
      const { tenant, deviceIds } = await billedTenant('peak', 3);
      await assign(server, tenant.operator, { deviceIds: [deviceIds[0]], level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      server.runtime.clock.set(at(0.25));
      await gqlData(server, RELEASE, { input: { deviceIds: [deviceIds[0]] } }, tenant.operator);
      // released and assigned at the same instant: still one device at a time
      await assign(server, tenant.operator, { deviceIds: [deviceIds[1]], level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      server.runtime.clock.set(at(0.5));
      await assign(server, tenant.operator, { deviceIds: [deviceIds[2]], level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      server.runtime.clock.set(at(1));

      const rows = await licenseUsage(server, tenant.operator, { from: iso(0), to: iso(1), granularity: 'DAY' });

      expect(figures(rows)).toEqual([{ period: [iso(0), iso(1)], billing: 'POSTPAID/MSLA_U', deviceDays: 0.25 + 0.75 + 0.5, peak: 2, average: 1.5 }]);
    });

    it('shows a tenant only its own usage; another tenant\'s id is NOT_FOUND; providers see one tenant or every tenant, each row naming it', async () => {
      const a = await history('iso-a');
      const b = await history('iso-b');
      const range = { from: iso(0), to: iso(3), granularity: 'MONTH' as const };
      const provider = server.token('PROVIDER_OPERATOR');

      const own = await licenseUsage(server, a.tenant.operator, range);
      const ownById = await licenseUsage(server, a.tenant.admin, { ...range, tenantId: a.tenant.id });
      const foreign = await licenseUsageError(server, a.tenant.admin, { ...range, tenantId: b.tenant.id });
      const oneTenant = await licenseUsage(server, provider, { ...range, tenantId: b.tenant.id });
      const everyTenant = await licenseUsage(server, provider, range);

      expect(own.length).toBe(2);
      expect(own.every((r) => r.tenant.id === a.tenant.id)).toBe(true);
      expect(ownById).toEqual(own);
      expect(foreign.extensions?.code).toBe('NOT_FOUND');
      expect(foreign.message).not.toContain(b.tenant.slug);
      expect(oneTenant.map((r) => r.tenant.id)).toEqual([b.tenant.id, b.tenant.id]);
      const mine = (t: AccountTenant): unknown[] => figures(everyTenant.filter((r) => r.tenant.id === t.id));
      expect(mine(a.tenant)).toEqual(figures(own));
      expect(mine(b.tenant)).toEqual(figures(oneTenant));
      expect(everyTenant.some((r) => r.tenant.slug === a.tenant.slug) && everyTenant.some((r) => r.tenant.slug === b.tenant.slug)).toBe(true);
    });

    it.each([
      ['to before from', { from: iso(1), to: iso(0), granularity: 'DAY' }, 'to'],
      ['an empty range', { from: iso(1), to: iso(1), granularity: 'MONTH' }, 'to'],
      ['367 days at DAY granularity', { from: '2027-01-01T00:00:00Z', to: '2028-01-03T00:00:00Z', granularity: 'DAY' }, 'to'],
      ['121 months at MONTH granularity', { from: '2020-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z', granularity: 'MONTH' }, 'to'],
    ] as const)('refuses %s with BAD_USER_INPUT naming the argument', async (_label, args, argumentName) => {
      const tenant = await createTrialTenant(server, slug('bad'));
      const err = await licenseUsageError(server, tenant.operator, args);
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName });
    });

    it('accepts exactly 366 days at DAY granularity and 120 months at MONTH granularity', async () => {
      const { tenant } = await billedTenant('limits', 1);
      const days = await licenseUsage(server, tenant.operator, { from: '2026-01-01T00:00:00Z', to: '2027-01-02T00:00:00Z', granularity: 'DAY' });
      const months = await licenseUsage(server, tenant.operator, { from: '2017-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', granularity: 'MONTH' });
      expect([days, months]).toEqual([[], []]);
    });

    it('refuses a tenantId that is not a tenant id with BAD_USER_INPUT, and a request without a token with UNAUTHENTICATED', async () => {
      const notAnId = await licenseUsageError(server, server.token('PROVIDER_ADMIN'), { tenantId: 'nope', from: iso(0), to: iso(1), granularity: 'DAY' });
      expect(notAnId.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'tenantId' });
      const res = await server.graphql('query { licenseUsage(from: "2027-01-01T00:00:00Z", to: "2027-01-02T00:00:00Z", granularity: DAY) { deviceDays } }', {}, null);
      expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('GET /files/license-usage.csv', () => {
    it('streams the same rows as licenseUsage as RFC 4180 CSV with a header row', async () => {
      const { tenant } = await history('csv');
      const args = { from: iso(0), to: iso(5), granularity: 'DAY' as const };
      const rows = await licenseUsage(server, tenant.operator, args);

      const res = await usageCsv(server, args, tenant.operator);

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
      const text = await res.text();
      expect(text.endsWith('\r\n')).toBe(true);
      const [header, ...lines] = text.slice(0, -2).split('\r\n');
      expect(header).toBe('tenant_id,tenant_slug,period_start,period_end,entitlement_tag,entitlement_name,billing_type,billing_model,device_days,peak_devices,average_devices');
      expect(lines.map((l) => l.split(','))).toEqual(
        rows.map((r) => [
          tenant.id, tenant.slug, r.periodStart, r.periodEnd, T1_A, 'Routing DNA Advantage: Tier 1',
          r.billingType ?? '', r.billingModel ?? '', String(r.deviceDays), String(r.peakDevices), String(r.averageDevices),
        ]),
      );
    });

    it('answers another tenant\'s id with 404 NOT_FOUND and no CSV, and every tenant to a provider', async () => {
      const a = await history('csv-a');
      const b = await history('csv-b');
      const args = { from: iso(0), to: iso(3), granularity: 'MONTH' };

      const foreign = await usageCsv(server, { ...args, tenantId: b.tenant.id }, a.tenant.admin);
      const provider = await usageCsv(server, args, server.token('PROVIDER_ADMIN'));

      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
      const slugs = (await provider.text()).split('\r\n').slice(1, -1).map((l) => l.split(',')[1]);
      expect(slugs).toEqual(expect.arrayContaining([a.tenant.slug, b.tenant.slug]));
    });

    it.each([
      ['no granularity', { from: iso(0), to: iso(1) }, 'granularity'],
      ['granularity WEEK', { from: iso(0), to: iso(1), granularity: 'WEEK' }, 'granularity'],
      ['no from', { to: iso(1), granularity: 'DAY' }, 'from'],
      ['a from that is no date-time', { from: 'yesterday', to: iso(1), granularity: 'DAY' }, 'from'],
      ['to before from', { from: iso(1), to: iso(0), granularity: 'DAY' }, 'to'],
      ['400 days at DAY granularity', { from: iso(0), to: iso(400), granularity: 'DAY' }, 'to'],
    ])('refuses %s with 400 BAD_USER_INPUT naming the argument', async (_label, params, argumentName) => {
      const tenant = await createTrialTenant(server, slug('csv-bad'));
      const res = await usageCsv(server, params as Record<string, string>, tenant.operator);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', argumentName } }] });
    });

    it('refuses a request without a valid token with 401 UNAUTHENTICATED', async () => {
      const res = await usageCsv(server, { from: iso(0), to: iso(1), granularity: 'DAY' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    });
  });
});
