import { toGlobalId } from '../src/common/global-id';
import { createTenant, deviceInput, registerDevices, type TenantFixture } from './support/fixtures';
import { startTestServer, type GraphQLResponse, type RoleName, type TestServer } from './support/harness';
import {
  ADD_LICENSES,
  HSEC_TAG,
  addLicenses,
  configureAccount,
  dnaTag,
  licenseLine,
  type AccountFixture,
  type Level,
  type LicenseLineInput,
  type TierName,
} from './support/license-fixtures';

const ENTITLEMENT_FIELDS = `id tag displayName category level tier throughputMbps managed obsolete assignable
  deviceKinds deviceModes minReleaseIosXe minReleaseVedge requiresHsecCompatible`;
const ENTITLEMENTS = `query($includeUnmanaged: Boolean!) { entitlements(includeUnmanaged: $includeUnmanaged) { ${ENTITLEMENT_FIELDS} } }`;
const LICENSE_FIELDS = `id tenant { id } virtualAccount { id externalId managed } entitlement { id tag displayName }
  billingType billingModel subscriptionId licenseType quantity inUse available startDate endDate expired source`;
const ADD_FULL = `mutation($input: AddLicensesInput!) { addLicenses(input: $input) { ${LICENSE_FIELDS} } }`;
const LICENSES = `query($tenantId: ID, $virtualAccountId: ID, $billingType: BillingType, $entitlementTag: String, $first: Int, $after: String) {
  licenses(tenantId: $tenantId, virtualAccountId: $virtualAccountId, billingType: $billingType, entitlementTag: $entitlementTag,
           first: $first, after: $after) {
    totalCount
    edges { cursor node { ${LICENSE_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const NODE = `query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on License { subscriptionId quantity inUse available virtualAccount { id externalId } entitlement { id tag } tenant { id } }
    ... on Entitlement { tag displayName category level tier throughputMbps }
  }
}`;
const ASSIGN = `mutation($input: AssignLicensesInput!) {
  assignLicenses(input: $input) { assigned replaced unchanged pending assignments { id status license { id } } }
}`;
const RELEASE = 'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released unchanged } }';

interface EntitlementNode {
  id: string;
  tag: string;
  displayName: string;
  category: 'DNA' | 'HSEC' | 'OTHER';
  level: Level | null;
  tier: TierName | null;
  throughputMbps: number | null;
  managed: boolean;
  obsolete: boolean;
  assignable: boolean;
  deviceKinds: string[];
  deviceModes: string[];
  minReleaseIosXe: string | null;
  minReleaseVedge: string | null;
  requiresHsecCompatible: boolean;
}
interface LicenseNode {
  id: string;
  tenant: { id: string };
  virtualAccount: { id: string; externalId: string; managed: boolean };
  entitlement: { id: string; tag: string; displayName: string };
  billingType: 'PREPAID' | 'POSTPAID';
  billingModel: string;
  subscriptionId: string;
  licenseType: 'TERM' | 'DEMO';
  quantity: number;
  inUse: number;
  available: number | null;
  startDate: string;
  endDate: string;
  expired: boolean;
  source: string;
}
interface LicensePage {
  licenses: {
    totalCount: number;
    edges: { cursor: string; node: LicenseNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface InvalidLicense {
  index: number;
  field: string;
  reason: string;
}

const LEVELS: [Level, string][] = [
  ['ESSENTIALS', 'Essentials'],
  ['ADVANTAGE', 'Advantage'],
  ['PREMIER', 'Premier'],
];
const TIER_MBPS: [TierName, number][] = [
  ['T0', 15],
  ['T1', 100],
  ['T2', 1000],
  ['T3', 10000],
];

describe('licenses', () => {
  let server: TestServer;
  let slugCounter = 0;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A fresh tenant per test, so no test depends on another's license lines. */
  const newTenant = (label: string): Promise<TenantFixture> => createTenant(server, `lic-${label}-${++slugCounter}`);
  const licenseCount = async (tenant: TenantFixture): Promise<number> => {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from license where tenant_id = $1', [tenant.uuid]);
    return row.n;
  };
  const listLicenses = (token: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<LicensePage>> =>
    server.graphql<LicensePage>(LICENSES, { first: 100, ...variables }, token);
  /** One line of the tenant, read through the API as the tenant sees it. */
  const lineOf = async (tenant: TenantFixture, id: string): Promise<LicenseNode> => {
    const res = await listLicenses(server.token('TENANT_OPERATOR', tenant.uuid));
    const line = res.body.data?.licenses.edges.find((e) => e.node.id === id)?.node;
    if (!line) throw new Error(`license ${id} not listed: ${JSON.stringify(res.body.errors)}`);
    return line;
  };

  describe('entitlement catalog', () => {
    const fetchCatalog = async (includeUnmanaged: boolean, token: string): Promise<EntitlementNode[]> => {
      const res = await server.graphql<{ entitlements: EntitlementNode[] }>(ENTITLEMENTS, { includeUnmanaged }, token);
      expect(res.body.errors).toBeUndefined();
      return res.body.data!.entitlements;
    };

    it('lists the twelve DNA entitlements with tag, display name, level, tier and throughput, and HSEC, by default', async () => {
      const tenant = await newTenant('catalog');
      const catalog = await fetchCatalog(false, server.token('TENANT_OPERATOR', tenant.uuid));

      const expectedDna = LEVELS.flatMap(([level, name]) =>
        TIER_MBPS.map(([tier, mbps]) => ({
          tag: `regid.2020-10.com.cisco.DSTACK_${tier}_${name[0]}`,
          displayName: `Routing DNA ${name}: Tier ${tier.slice(1)}`,
          category: 'DNA',
          level,
          tier,
          throughputMbps: mbps,
          managed: true,
          obsolete: false,
          assignable: true,
          deviceKinds: ['IOS_XE_SDWAN', 'VEDGE'],
          deviceModes: ['CONTROLLER', 'AUTONOMOUS'],
          minReleaseIosXe: '17.3.2',
          minReleaseVedge: '20.6.1',
          requiresHsecCompatible: false,
        })),
      );
      expect(catalog).toHaveLength(13);
      const dna = catalog.filter((e) => e.category === 'DNA');
      expect(dna.map(({ id: _id, ...rest }) => rest)).toEqual(expect.arrayContaining(expectedDna));
      expect(dna).toHaveLength(12);
      expect(catalog.find((e) => e.tag === 'regid.2020-10.com.cisco.DSTACK_T1_A')?.displayName).toBe('Routing DNA Advantage: Tier 1');

      const hsec = catalog.filter((e) => e.category === 'HSEC');
      expect(hsec).toHaveLength(1);
      expect(hsec[0]).toMatchObject({
        tag: HSEC_TAG,
        level: null,
        tier: null,
        throughputMbps: null,
        managed: true,
        obsolete: false,
        assignable: true,
        deviceKinds: ['IOS_XE_SDWAN'],
        minReleaseVedge: null,
        requiresHsecCompatible: true,
      });
      expect(new Set(catalog.map((e) => e.id)).size).toBe(13);
    });

    it('adds the unmanaged entitlements and the obsolete SDWAN-DNA-E and SDWAN-DNA-A with includeUnmanaged, none of them assignable', async () => {
      const token = server.token('PROVIDER_OPERATOR');
      const managed = await fetchCatalog(false, token);
      const all = await fetchCatalog(true, token);

      expect(all.filter((e) => e.managed && !e.obsolete).map((e) => e.tag)).toEqual(managed.map((e) => e.tag));
      const extra = all.filter((e) => !managed.some((m) => m.tag === e.tag));
      expect(extra.length).toBeGreaterThanOrEqual(3);
      expect(extra.every((e) => e.assignable === false && e.managed === false && e.category === 'OTHER')).toBe(true);
      expect(extra.map((e) => e.displayName)).toEqual(expect.arrayContaining(['IP Base']));
      const obsolete = extra.filter((e) => e.obsolete);
      expect(obsolete.map((e) => ({ tag: e.tag, displayName: e.displayName })).sort((a, b) => a.tag.localeCompare(b.tag))).toEqual([
        { tag: 'SDWAN-DNA-A', displayName: 'DNA Advantage for SDWAN' },
        { tag: 'SDWAN-DNA-E', displayName: 'DNA Essentials for SDWAN' },
      ]);
      expect(extra.filter((e) => !e.obsolete).length).toBeGreaterThan(0);
    });
  });

  describe('addLicenses', () => {
    it('lets a provider admin add license lines and returns them in input order, with nothing in use yet', async () => {
      const tenant = await newTenant('add');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['east', 'west'], managed: ['east'] });
      const res = await server.graphql<{ addLicenses: LicenseNode[] }>(
        ADD_FULL,
        {
          input: {
            tenantId: tenant.id,
            licenses: [
              licenseLine(account.vaIds.west, {
                entitlementTag: dnaTag('PREMIER', 'T2'),
                billingType: 'POSTPAID',
                billingModel: 'MSLA_U',
                subscriptionId: 'SUB-POST',
                quantity: 0,
                startDate: '2026-01-01',
                endDate: '2028-12-31',
              }),
              licenseLine(account.vaIds.east, { subscriptionId: 'SUB-PRE', quantity: 5, licenseType: 'DEMO' }),
            ],
          },
        },
        server.token('PROVIDER_ADMIN', undefined, { sub: 'noc@provider.example' }),
      );

      expect(res.body.errors).toBeUndefined();
      const [post, pre] = res.body.data!.addLicenses;
      expect(post).toMatchObject({
        tenant: { id: tenant.id },
        virtualAccount: { id: account.vaIds.west, externalId: 'west', managed: false },
        entitlement: { tag: 'regid.2020-10.com.cisco.DSTACK_T2_P', displayName: 'Routing DNA Premier: Tier 2' },
        billingType: 'POSTPAID',
        billingModel: 'MSLA_U',
        subscriptionId: 'SUB-POST',
        licenseType: 'TERM',
        quantity: 0,
        inUse: 0,
        available: null,
        startDate: '2026-01-01',
        endDate: '2028-12-31',
        source: 'MANUAL',
      });
      expect(pre).toMatchObject({
        virtualAccount: { id: account.vaIds.east, externalId: 'east', managed: true },
        entitlement: { tag: 'regid.2020-10.com.cisco.DSTACK_T1_A', displayName: 'Routing DNA Advantage: Tier 1' },
        billingType: 'PREPAID',
        billingModel: 'A_LA_CARTE',
        licenseType: 'DEMO',
        quantity: 5,
        inUse: 0,
        available: 5,
        expired: false,
      });
      expect(
        await server.sql('select subscription_id, billing_type, quantity, source from license where tenant_id = $1 order by subscription_id', [
          tenant.uuid,
        ]),
      ).toEqual([
        { subscription_id: 'SUB-POST', billing_type: 'POSTPAID', quantity: 0, source: 'MANUAL' },
        { subscription_id: 'SUB-PRE', billing_type: 'PREPAID', quantity: 5, source: 'MANUAL' },
      ]);

      const audit = await server.graphql<{ auditEvents: { edges: { node: Record<string, unknown> }[] } }>(
        'query { auditEvents(first: 1) { edges { node { actorSubject actorRole action targetType targetIds } } } }',
        {},
        server.token('TENANT_OPERATOR', tenant.uuid),
      );
      expect(audit.body.data!.auditEvents.edges[0].node).toEqual({
        actorSubject: 'noc@provider.example',
        actorRole: 'PROVIDER_ADMIN',
        action: 'licenses.added',
        targetType: 'License',
        targetIds: [post.id, pre.id],
      });
    });

    it.each<[RoleName]>([['PROVIDER_OPERATOR'], ['TENANT_ADMIN'], ['TENANT_OPERATOR']])(
      'answers FORBIDDEN when %s adds license lines, and adds nothing',
      async (role) => {
        const tenant = await newTenant('add-forbidden');
        const account = await configureAccount(server, tenant);
        const token = role.startsWith('TENANT') ? server.token(role, tenant.uuid) : server.token(role);
        const res = await server.graphql(ADD_LICENSES, { input: { tenantId: tenant.id, licenses: [licenseLine(account.vaIds.default)] } }, token);
        expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
        expect(await licenseCount(tenant)).toBe(0);
      },
    );

    it('refuses a provider admin that does not name the tenant with BAD_USER_INPUT', async () => {
      const tenant = await newTenant('add-no-tenant');
      const account = await configureAccount(server, tenant);
      const res = await server.graphql(ADD_LICENSES, { input: { licenses: [licenseLine(account.vaIds.default)] } }, server.token('PROVIDER_ADMIN'));
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain('tenantId');
      expect(await licenseCount(tenant)).toBe(0);
    });

    describe('validation', () => {
      let tenant: TenantFixture;
      let other: TenantFixture;
      let account: AccountFixture;
      let otherAccount: AccountFixture;
      beforeAll(async () => {
        tenant = await newTenant('invalid');
        other = await newTenant('invalid-other');
        account = await configureAccount(server, tenant, { virtualAccounts: ['va-1'], managed: ['va-1'] });
        otherAccount = await configureAccount(server, other, { virtualAccounts: ['va-x'], managed: ['va-x'] });
      });

      const add = (lines: LicenseLineInput[]) =>
        server.graphql<{ addLicenses: LicenseNode[] }>(ADD_LICENSES, { input: { tenantId: tenant.id, licenses: lines } }, server.token('PROVIDER_ADMIN'));

      it.each<[string, () => Partial<LicenseLineInput>, string]>([
        ['a prepaid line with the postpaid billing model MSLA_U', () => ({ billingType: 'PREPAID', billingModel: 'MSLA_U' }), 'billingModel'],
        ['a postpaid line with the prepaid billing model A_LA_CARTE', () => ({ billingType: 'POSTPAID', billingModel: 'A_LA_CARTE' }), 'billingModel'],
        ['an end date before the start date', () => ({ startDate: '2026-03-10', endDate: '2026-03-09' }), 'endDate'],
        ['a prepaid quantity of 0', () => ({ billingType: 'PREPAID', quantity: 0 }), 'quantity'],
        ['an entitlement tag that is not in the catalog', () => ({ entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T9_X' }), 'entitlementTag'],
        ["another tenant's virtual account", () => ({ virtualAccountId: otherAccount.vaIds['va-x'] }), 'virtualAccountId'],
      ])('refuses %s with BAD_USER_INPUT naming the row, and adds nothing', async (_label, overrides, field) => {
        const res = await add([
          licenseLine(account.vaIds['va-1'], { subscriptionId: 'SUB-GOOD' }),
          licenseLine(account.vaIds['va-1'], { subscriptionId: 'SUB-BAD', ...overrides() }),
        ]);

        expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(res.body.errors?.[0].message).toContain(`licenses[1].${field}`);
        expect(res.body.errors?.[0].message).not.toContain('licenses[0]');
        expect(res.body.errors?.[0].extensions?.invalidLicenses).toEqual([{ index: 1, field, reason: expect.any(String) }]);
        expect(res.body.data?.addLicenses).toBeUndefined();
        expect(await licenseCount(tenant)).toBe(0);
        expect(await licenseCount(other)).toBe(0);
      });

      it('names every row whose virtual account or entitlement cannot be found in one answer', async () => {
        const res = await add([
          licenseLine(account.vaIds['va-1'], { entitlementTag: 'no-such-tag' }),
          licenseLine(account.vaIds['va-1']),
          licenseLine(otherAccount.vaIds['va-x']),
        ]);
        expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
        const problems = res.body.errors?.[0].extensions?.invalidLicenses as InvalidLicense[];
        expect(problems.map((p) => [p.index, p.field])).toEqual([
          [0, 'entitlementTag'],
          [2, 'virtualAccountId'],
        ]);
        expect(res.body.errors?.[0].message).toContain('no-such-tag');
        expect(await licenseCount(tenant)).toBe(0);
      });
    });
  });

  describe('licenses connection', () => {
    it('orders lines by end date, then id, and pages through them without gaps or repeats', async () => {
      const tenant = await newTenant('order');
      const account = await configureAccount(server, tenant);
      const va = account.vaIds.default;
      await addLicenses(server, tenant, [
        licenseLine(va, { subscriptionId: 'SUB-A', endDate: '2031-01-01' }),
        licenseLine(va, { subscriptionId: 'SUB-B', endDate: '2029-06-30' }),
        licenseLine(va, { subscriptionId: 'SUB-C', endDate: '2031-01-01' }),
        licenseLine(va, { subscriptionId: 'SUB-D', endDate: '2028-01-15' }),
        licenseLine(va, { subscriptionId: 'SUB-E', endDate: '2030-12-31' }),
        licenseLine(va, { subscriptionId: 'SUB-F', endDate: '2031-01-01' }),
      ]);
      const expected = await server.sql<{ id: string }>('select id from license where tenant_id = $1 order by end_date, id', [tenant.uuid]);

      const token = server.token('TENANT_OPERATOR', tenant.uuid);
      const seen: LicenseNode[] = [];
      let after: string | null = null;
      for (;;) {
        const res: GraphQLResponse<LicensePage> = await server.graphql<LicensePage>(LICENSES, { first: 4, after }, token);
        expect(res.body.errors).toBeUndefined();
        const conn: LicensePage['licenses'] = res.body.data!.licenses;
        expect(conn.totalCount).toBe(6);
        seen.push(...conn.edges.map((e) => e.node));
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(seen.map((l) => l.id)).toEqual(expected.map((r) => toGlobalId('License', r.id)));
      expect(seen.map((l) => l.endDate)).toEqual(['2028-01-15', '2029-06-30', '2030-12-31', '2031-01-01', '2031-01-01', '2031-01-01']);
    });

    it('filters by virtual account, billing type and entitlement tag, alone and combined', async () => {
      const tenant = await newTenant('filters');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['east', 'west'], managed: ['east', 'west'] });
      const { east, west } = account.vaIds;
      await addLicenses(server, tenant, [
        licenseLine(east, { subscriptionId: 'EAST-PRE-A1' }),
        licenseLine(east, { subscriptionId: 'EAST-POST-E0', entitlementTag: dnaTag('ESSENTIALS', 'T0'), billingType: 'POSTPAID', billingModel: 'MSLA_U' }),
        licenseLine(west, { subscriptionId: 'WEST-POST-A1', billingType: 'POSTPAID', billingModel: 'MSLA_C' }),
        licenseLine(west, { subscriptionId: 'WEST-PRE-HSEC', entitlementTag: HSEC_TAG, billingModel: 'ENTERPRISE_AGREEMENT' }),
      ]);
      const token = server.token('TENANT_OPERATOR', tenant.uuid);
      const subscriptions = async (variables: Record<string, unknown>): Promise<{ totalCount: number; subs: string[] }> => {
        const res = await listLicenses(token, variables);
        expect(res.body.errors).toBeUndefined();
        return {
          totalCount: res.body.data!.licenses.totalCount,
          subs: res.body.data!.licenses.edges.map((e) => e.node.subscriptionId).sort(),
        };
      };

      expect(await subscriptions({})).toEqual({ totalCount: 4, subs: ['EAST-POST-E0', 'EAST-PRE-A1', 'WEST-POST-A1', 'WEST-PRE-HSEC'] });
      expect(await subscriptions({ virtualAccountId: east })).toEqual({ totalCount: 2, subs: ['EAST-POST-E0', 'EAST-PRE-A1'] });
      expect(await subscriptions({ billingType: 'POSTPAID' })).toEqual({ totalCount: 2, subs: ['EAST-POST-E0', 'WEST-POST-A1'] });
      expect(await subscriptions({ entitlementTag: dnaTag('ADVANTAGE', 'T1') })).toEqual({ totalCount: 2, subs: ['EAST-PRE-A1', 'WEST-POST-A1'] });
      expect(await subscriptions({ virtualAccountId: east, billingType: 'POSTPAID' })).toEqual({ totalCount: 1, subs: ['EAST-POST-E0'] });
      expect(await subscriptions({ virtualAccountId: west, billingType: 'PREPAID', entitlementTag: HSEC_TAG })).toEqual({
        totalCount: 1,
        subs: ['WEST-PRE-HSEC'],
      });
      expect(await subscriptions({ entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T9_X' })).toEqual({ totalCount: 0, subs: [] });
    });

    it("shows tenant users only their tenant's lines, and providers every tenant's without tenantId", async () => {
      const a = await newTenant('scope-a');
      const b = await newTenant('scope-b');
      const accountA = await configureAccount(server, a);
      const accountB = await configureAccount(server, b);
      const [lineA] = await addLicenses(server, a, [licenseLine(accountA.vaIds.default, { subscriptionId: 'SUB-A' })]);
      const [lineB] = await addLicenses(server, b, [licenseLine(accountB.vaIds.default, { subscriptionId: 'SUB-B' })]);

      const seenByA = await listLicenses(server.token('TENANT_ADMIN', a.uuid));
      expect(seenByA.body.data!.licenses.edges.map((e) => e.node.id)).toEqual([lineA.id]);
      expect(seenByA.body.data!.licenses.totalCount).toBe(1);
      const probe = await listLicenses(server.token('TENANT_ADMIN', a.uuid), { tenantId: b.id });
      expect(probe.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');

      const provider = server.token('PROVIDER_OPERATOR');
      const [{ n }] = await server.sql<{ n: number }>('select count(*)::int as n from license');
      const all = await listLicenses(provider);
      expect(all.body.data!.licenses.totalCount).toBe(n);
      const onlyB = await listLicenses(provider, { tenantId: b.id });
      expect(onlyB.body.data!.licenses.edges.map((e) => e.node.id)).toEqual([lineB.id]);
    });

    it('marks a line whose end date has passed as expired, and a running one as not expired', async () => {
      const tenant = await newTenant('expired');
      const account = await configureAccount(server, tenant);
      const [ended, running] = await addLicenses(server, tenant, [
        licenseLine(account.vaIds.default, { subscriptionId: 'SUB-ENDED', startDate: '2020-01-01', endDate: '2021-12-31' }),
        licenseLine(account.vaIds.default, { subscriptionId: 'SUB-RUNNING', startDate: '2020-01-01', endDate: '2099-12-31' }),
      ]);
      expect((await lineOf(tenant, ended.id)).expired).toBe(true);
      expect((await lineOf(tenant, running.id)).expired).toBe(false);
    });
  });

  describe('inUse and available', () => {
    const assign = async (tenant: TenantFixture, input: Record<string, unknown>): Promise<{ assigned: number; replaced: number }> => {
      const res = await server.graphql<{ assignLicenses: { assigned: number; replaced: number } }>(
        ASSIGN,
        { input },
        server.token('TENANT_ADMIN', tenant.uuid),
      );
      if (!res.body.data?.assignLicenses) throw new Error(`assignLicenses failed: ${JSON.stringify(res.body.errors)}`);
      return res.body.data.assignLicenses;
    };
    const release = async (tenant: TenantFixture, deviceIds: string[]): Promise<number> => {
      const res = await server.graphql<{ releaseLicenses: { released: number } }>(
        RELEASE,
        { input: { deviceIds } },
        server.token('TENANT_ADMIN', tenant.uuid),
      );
      if (!res.body.data?.releaseLicenses) throw new Error(`releaseLicenses failed: ${JSON.stringify(res.body.errors)}`);
      return res.body.data.releaseLicenses.released;
    };
    const usage = async (tenant: TenantFixture, id: string): Promise<{ inUse: number; available: number | null }> => {
      const { inUse, available } = await lineOf(tenant, id);
      return { inUse, available };
    };

    it('counts exactly the devices holding a prepaid line as they are assigned, released and moved to another line', async () => {
      const tenant = await newTenant('usage');
      const admin = server.token('TENANT_ADMIN', tenant.uuid);
      const devices = await registerDevices(server, admin, [1, 2, 3].map((n) => deviceInput(n, { softwareVersion: '17.9.3a' })));
      const [d1, d2] = devices.map((d) => d.id);
      const account = await configureAccount(server, tenant, { managed: ['default'] });
      const [advantage, essentials] = await addLicenses(server, tenant, [
        licenseLine(account.vaIds.default, { subscriptionId: 'SUB-A1', quantity: 3 }),
        licenseLine(account.vaIds.default, { subscriptionId: 'SUB-E0', quantity: 5, entitlementTag: dnaTag('ESSENTIALS', 'T0') }),
      ]);
      expect(await usage(tenant, advantage.id)).toEqual({ inUse: 0, available: 3 });

      expect(await assign(tenant, { deviceIds: [d1, d2], level: 'ADVANTAGE', tier: 'T1' })).toMatchObject({ assigned: 2 });
      expect(await usage(tenant, advantage.id)).toEqual({ inUse: 2, available: 1 });

      expect(await release(tenant, [d1])).toBe(1);
      expect(await usage(tenant, advantage.id)).toEqual({ inUse: 1, available: 2 });

      // A different DNA license replaces the one d2 held: the old line frees a seat, the new one takes it.
      expect(await assign(tenant, { deviceIds: [d2], level: 'ESSENTIALS', tier: 'T0' })).toMatchObject({ assigned: 1, replaced: 1 });
      expect(await usage(tenant, advantage.id)).toEqual({ inUse: 0, available: 3 });
      expect(await usage(tenant, essentials.id)).toEqual({ inUse: 1, available: 4 });

      const node = await server.graphql<{ node: { inUse: number; available: number | null } | null }>(NODE, { id: essentials.id }, admin);
      expect(node.body.data!.node).toMatchObject({ inUse: 1, available: 4 });
    });

    it('shows no available count for a postpaid line and counts every device using it, beyond the committed quantity', async () => {
      const tenant = await newTenant('postpaid');
      const admin = server.token('TENANT_ADMIN', tenant.uuid);
      const devices = await registerDevices(server, admin, [1, 2, 3].map((n) => deviceInput(n)));
      const account = await configureAccount(server, tenant, { managed: ['default'] });
      const [line] = await addLicenses(server, tenant, [
        licenseLine(account.vaIds.default, { subscriptionId: 'SUB-MSLA', billingType: 'POSTPAID', billingModel: 'MSLA_C', quantity: 1 }),
      ]);
      expect(await usage(tenant, line.id)).toEqual({ inUse: 0, available: null });

      await assign(tenant, { deviceIds: devices.map((d) => d.id), level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' });
      expect(await usage(tenant, line.id)).toEqual({ inUse: 3, available: null });

      await release(tenant, [devices[0].id]);
      expect(await usage(tenant, line.id)).toEqual({ inUse: 2, available: null });
    });
  });

  describe('node(id)', () => {
    it('resolves a License with its virtual account and entitlement for its tenant, and null for another tenant', async () => {
      const tenant = await newTenant('node');
      const stranger = await newTenant('node-stranger');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-node'] });
      const [line] = await addLicenses(server, tenant, [
        licenseLine(account.vaIds['va-node'], { subscriptionId: 'SUB-NODE', entitlementTag: dnaTag('PREMIER', 'T3'), quantity: 7 }),
      ]);

      const res = await server.graphql<{ node: Record<string, unknown> | null }>(NODE, { id: line.id }, server.token('TENANT_OPERATOR', tenant.uuid));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.node).toMatchObject({
        __typename: 'License',
        id: line.id,
        subscriptionId: 'SUB-NODE',
        quantity: 7,
        inUse: 0,
        available: 7,
        virtualAccount: { id: account.vaIds['va-node'], externalId: 'va-node' },
        entitlement: { tag: 'regid.2020-10.com.cisco.DSTACK_T3_P' },
        tenant: { id: tenant.id },
      });

      const hidden = await server.graphql<{ node: Record<string, unknown> | null }>(NODE, { id: line.id }, server.token('TENANT_ADMIN', stranger.uuid));
      expect(hidden.body.errors).toBeUndefined();
      expect(hidden.body.data!.node).toBeNull();
    });

    it('resolves an Entitlement of the catalog for any viewer, the same one a license line refers to', async () => {
      const tenant = await newTenant('node-entitlement');
      const catalog = await server.graphql<{ entitlements: EntitlementNode[] }>(ENTITLEMENTS, { includeUnmanaged: false }, server.token('PROVIDER_OPERATOR'));
      const premierT3 = catalog.body.data!.entitlements.find((e) => e.tag === dnaTag('PREMIER', 'T3'))!;
      const account = await configureAccount(server, tenant);
      await addLicenses(server, tenant, [licenseLine(account.vaIds.default, { entitlementTag: premierT3.tag })]);

      const res = await server.graphql<{ node: Record<string, unknown> | null }>(NODE, { id: premierT3.id }, server.token('TENANT_OPERATOR', tenant.uuid));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.node).toEqual({
        __typename: 'Entitlement',
        id: premierT3.id,
        tag: 'regid.2020-10.com.cisco.DSTACK_T3_P',
        displayName: 'Routing DNA Premier: Tier 3',
        category: 'DNA',
        level: 'PREMIER',
        tier: 'T3',
        throughputMbps: 10000,
      });
      const lines = await listLicenses(server.token('TENANT_OPERATOR', tenant.uuid));
      expect(lines.body.data!.licenses.edges[0].node.entitlement.id).toBe(premierT3.id);
    });
  });
});
