import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { toGlobalId } from '../src/common/global-id';
import { createTenant, type TenantFixture } from './support/fixtures';
import { startTestServer, type GraphQLResponse, type RoleName, type TestServer } from './support/harness';
import { addLicenses, configureAccount, licenseLine } from './support/license-fixtures';

const SMART_ACCOUNT_FIELDS = `id domain name accountId createdAt updatedAt tenant { id slug }
  virtualAccounts { id externalId name managed smartAccount { id } }`;
const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) { configureSmartAccount(input: $input) { ${SMART_ACCOUNT_FIELDS} } }`;
const SET_MANAGED = `mutation($input: SetManagedVirtualAccountsInput!) {
  setManagedVirtualAccounts(input: $input) { id externalId name managed smartAccount { id } }
}`;
const SMART_ACCOUNTS = `query($tenantId: ID) { smartAccounts(tenantId: $tenantId) { ${SMART_ACCOUNT_FIELDS} } }`;
const NODE = `query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on SmartAccount { domain name accountId tenant { id } virtualAccounts { id externalId } }
    ... on VirtualAccount { externalId name managed smartAccount { id accountId } }
  }
}`;
const AUDIT = `query($tenantId: ID, $first: Int, $after: String) {
  auditEvents(tenantId: $tenantId, first: $first, after: $after) {
    totalCount
    edges { cursor node { id actorSubject actorRole action targetType targetIds details createdAt tenant { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface VirtualAccountNode {
  id: string;
  externalId: string;
  name: string;
  managed: boolean;
  smartAccount: { id: string };
}
interface SmartAccountNode {
  id: string;
  domain: string;
  name: string;
  accountId: string;
  createdAt: string;
  updatedAt: string;
  tenant: { id: string; slug: string };
  virtualAccounts: VirtualAccountNode[];
}
interface AuditEventNode {
  id: string;
  actorSubject: string;
  actorRole: RoleName;
  action: string;
  targetType: string;
  targetIds: string[];
  details: Record<string, unknown>;
  createdAt: string;
  tenant: { id: string };
}
interface AuditPage {
  auditEvents: {
    totalCount: number;
    edges: { cursor: string; node: AuditEventNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface AccountInput {
  tenantId?: string;
  domain: string;
  name: string;
  accountId: string;
  virtualAccounts?: { externalId: string; name: string }[];
}

describe('smart and virtual accounts', () => {
  let server: TestServer;
  let slugCounter = 0;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  // A smart account belongs to one tenant only (its account id is unique across tenants); the
  // tests below reuse one account id, so each test starts without any smart account.
  afterEach(async () => {
    await server.sql('delete from assignment; delete from license; delete from virtual_account; delete from smart_account');
  });

  /** A fresh tenant per test, so no test depends on another's accounts. */
  const newTenant = (label: string): Promise<TenantFixture> => createTenant(server, `acc-${label}-${++slugCounter}`);
  const adminOf = (tenant: TenantFixture, sub = 'tenant-admin'): string => server.token('TENANT_ADMIN', tenant.uuid, { sub });
  const accountInput = (overrides: Partial<AccountInput> = {}): AccountInput => ({
    domain: 'acme.example',
    name: 'Acme Corp',
    accountId: 'SA-1001',
    virtualAccounts: [
      { externalId: 'va-sales', name: 'Sales' },
      { externalId: 'va-ops', name: 'Operations' },
    ],
    ...overrides,
  });
  const configure = (input: AccountInput, token: string): Promise<GraphQLResponse<{ configureSmartAccount: SmartAccountNode }>> =>
    server.graphql<{ configureSmartAccount: SmartAccountNode }>(CONFIGURE, { input }, token);
  const setManaged = (
    virtualAccountIds: string[],
    token: string,
    tenantId?: string,
  ): Promise<GraphQLResponse<{ setManagedVirtualAccounts: VirtualAccountNode[] }>> =>
    server.graphql<{ setManagedVirtualAccounts: VirtualAccountNode[] }>(SET_MANAGED, { input: { tenantId, virtualAccountIds } }, token);

  const accountRows = (tenant: TenantFixture) =>
    server.sql('select domain, name, external_id from smart_account where tenant_id = $1', [tenant.uuid]);
  const vaRows = (tenant: TenantFixture) =>
    server.sql('select external_id, name, managed from virtual_account where tenant_id = $1 order by external_id', [tenant.uuid]);
  const auditCount = async (tenant: TenantFixture): Promise<number> => {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from audit_event where tenant_id = $1', [tenant.uuid]);
    return row.n;
  };
  const licenseCount = async (tenant: TenantFixture): Promise<number> => {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from license where tenant_id = $1', [tenant.uuid]);
    return row.n;
  };
  /**
   * Arranges an interleaving without timing assumptions: resolves once a backend of this database
   * waits on a lock (the request under test is blocked by the arranged transaction), or once the
   * request has finished without ever blocking.
   */
  const untilBlockedOrDone = async (request: Promise<unknown>): Promise<void> => {
    let settled = false;
    const done = (): void => {
      settled = true;
    };
    request.then(done, done);
    for (let i = 0; i < 500 && !settled; i++) {
      const [{ waiting }] = await server.sql<{ waiting: number }>(
        "select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      );
      if (waiting > 0) return;
      await sleep(10);
    }
  };
  const byExternalId = (vas: VirtualAccountNode[]): Record<string, VirtualAccountNode> =>
    Object.fromEntries(vas.map((va) => [va.externalId, va]));

  describe('configureSmartAccount', () => {
    it('lets a tenant admin record its own smart account, whose new virtual accounts start unmanaged', async () => {
      const tenant = await newTenant('own');
      const res = await configure(accountInput(), adminOf(tenant));

      expect(res.body.errors).toBeUndefined();
      const account = res.body.data!.configureSmartAccount;
      expect(account).toMatchObject({
        domain: 'acme.example',
        name: 'Acme Corp',
        accountId: 'SA-1001',
        tenant: { id: tenant.id, slug: tenant.slug },
      });
      expect(account.id).not.toMatch(/[0-9a-f]{8}-/);
      expect(account.virtualAccounts.map((va) => ({ externalId: va.externalId, name: va.name, managed: va.managed }))).toEqual([
        { externalId: 'va-ops', name: 'Operations', managed: false },
        { externalId: 'va-sales', name: 'Sales', managed: false },
      ]);
      expect(account.virtualAccounts.every((va) => va.smartAccount.id === account.id)).toBe(true);
      expect(await accountRows(tenant)).toEqual([{ domain: 'acme.example', name: 'Acme Corp', external_id: 'SA-1001' }]);
      expect(await vaRows(tenant)).toEqual([
        { external_id: 'va-ops', name: 'Operations', managed: false },
        { external_id: 'va-sales', name: 'Sales', managed: false },
      ]);
    });

    it('lets a provider admin configure the smart account of the tenant it names', async () => {
      const tenant = await newTenant('provider');
      const res = await configure(accountInput({ tenantId: tenant.id }), server.token('PROVIDER_ADMIN'));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.configureSmartAccount.tenant).toEqual({ id: tenant.id, slug: tenant.slug });
      expect(await accountRows(tenant)).toEqual([{ domain: 'acme.example', name: 'Acme Corp', external_id: 'SA-1001' }]);
    });

    it("refuses another tenant's smart account id with CONFLICT and writes nothing", async () => {
      const owner = await newTenant('owner');
      const other = await newTenant('claimer');
      expect((await configure(accountInput(), adminOf(owner))).body.errors).toBeUndefined();
      const res = await configure(accountInput({ domain: 'other.example' }), adminOf(other));
      expect(res.body.errors?.[0].extensions?.code).toBe('CONFLICT');
      expect(res.body.errors?.[0].message).toContain('SA-1001');
      expect(await accountRows(other)).toEqual([]);
      expect(await accountRows(owner)).toEqual([{ domain: 'acme.example', name: 'Acme Corp', external_id: 'SA-1001' }]);
    });

    it('refuses a provider admin that does not name the tenant with BAD_USER_INPUT and writes nothing', async () => {
      const before = await server.sql<{ n: number }>('select count(*)::int as n from smart_account');
      const res = await configure(accountInput({ accountId: 'SA-NO-TENANT' }), server.token('PROVIDER_ADMIN'));
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain('tenantId');
      expect(await server.sql('select count(*)::int as n from smart_account')).toEqual(before);
      expect(await server.sql('select count(*)::int as n from smart_account where external_id = $1', ['SA-NO-TENANT'])).toEqual([{ n: 0 }]);
    });

    it("answers NOT_FOUND when a tenant admin names another tenant, and writes nothing there", async () => {
      const mine = await newTenant('mine');
      const other = await newTenant('other');
      const res = await configure(accountInput({ tenantId: other.id }), adminOf(mine));
      expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(await accountRows(other)).toEqual([]);
      expect(await accountRows(mine)).toEqual([]);
    });

    it('re-configuring updates name and domain, renames and adds virtual accounts by externalId, and keeps the others', async () => {
      const tenant = await newTenant('reconfigure');
      const first = (await configure(accountInput(), adminOf(tenant))).body.data!.configureSmartAccount;
      const before = byExternalId(first.virtualAccounts);
      await setManaged([before['va-sales'].id], adminOf(tenant));

      const res = await configure(
        accountInput({
          domain: 'acme-group.example',
          name: 'Acme Group',
          virtualAccounts: [
            { externalId: 'va-sales', name: 'Sales EMEA' },
            { externalId: 'va-lab', name: 'Lab' },
          ],
        }),
        adminOf(tenant),
      );

      expect(res.body.errors).toBeUndefined();
      const account = res.body.data!.configureSmartAccount;
      expect(account).toMatchObject({ id: first.id, domain: 'acme-group.example', name: 'Acme Group', accountId: 'SA-1001' });
      const after = byExternalId(account.virtualAccounts);
      expect(Object.keys(after).sort()).toEqual(['va-lab', 'va-ops', 'va-sales']);
      // Renamed in place: same id, and still managed.
      expect(after['va-sales']).toMatchObject({ id: before['va-sales'].id, name: 'Sales EMEA', managed: true });
      expect(after['va-ops']).toMatchObject({ id: before['va-ops'].id, name: 'Operations', managed: false });
      expect(after['va-lab']).toMatchObject({ name: 'Lab', managed: false });
      expect(await accountRows(tenant)).toEqual([{ domain: 'acme-group.example', name: 'Acme Group', external_id: 'SA-1001' }]);
      expect(await vaRows(tenant)).toEqual([
        { external_id: 'va-lab', name: 'Lab', managed: false },
        { external_id: 'va-ops', name: 'Operations', managed: false },
        { external_id: 'va-sales', name: 'Sales EMEA', managed: true },
      ]);
    });

    it.each<[string, Partial<AccountInput>, string]>([
      ['a domain that is not a domain name', { domain: 'not a domain' }, 'domain'],
      ['a domain without a dot', { domain: 'localhost' }, 'domain'],
      ['an account id with a space', { accountId: 'SA 1001' }, 'accountId'],
      ['an empty account id', { accountId: '' }, 'accountId'],
      ['a blank name', { name: '   ' }, 'name'],
      [
        'a virtual account externalId listed twice',
        { virtualAccounts: [{ externalId: 'va-dup', name: 'One' }, { externalId: 'va-dup', name: 'Two' }] },
        'va-dup',
      ],
      ['a blank virtual account name', { virtualAccounts: [{ externalId: 'va-1', name: ' ' }] }, 'virtualAccounts[0].name'],
    ])('refuses %s with BAD_USER_INPUT naming it, and writes nothing', async (_label, overrides, named) => {
      const tenant = await newTenant('invalid');
      const res = await configure(accountInput(overrides), adminOf(tenant));
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain(named);
      expect(await accountRows(tenant)).toEqual([]);
      expect(await vaRows(tenant)).toEqual([]);
      expect(await auditCount(tenant)).toBe(0);
    });

    it('leaves an existing smart account exactly as it was when a re-configuration is invalid', async () => {
      const tenant = await newTenant('invalid-again');
      await configure(accountInput(), adminOf(tenant));
      const events = await auditCount(tenant);
      const res = await configure(
        accountInput({ name: 'Renamed', virtualAccounts: [{ externalId: 'va-new', name: 'New' }, { externalId: 'va-new', name: 'Again' }] }),
        adminOf(tenant),
      );
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(await accountRows(tenant)).toEqual([{ domain: 'acme.example', name: 'Acme Corp', external_id: 'SA-1001' }]);
      expect((await vaRows(tenant)).map((r) => r.external_id)).toEqual(['va-ops', 'va-sales']);
      expect(await auditCount(tenant)).toBe(events);
    });

    it('refuses to change the accountId with CONFLICT while license lines exist, and changes nothing', async () => {
      const tenant = await newTenant('conflict');
      const account = await configureAccount(server, tenant, { accountId: 'SA-OLD', virtualAccounts: ['va-1'], managed: ['va-1'] });
      await addLicenses(server, tenant, [licenseLine(account.vaIds['va-1'])]);
      const events = await auditCount(tenant);

      const res = await configure(
        accountInput({ accountId: 'SA-NEW', virtualAccounts: [{ externalId: 'va-2', name: 'Two' }] }),
        adminOf(tenant),
      );

      expect(res.body.errors?.[0].extensions?.code).toBe('CONFLICT');
      expect(res.body.errors?.[0].message).toContain('SA-OLD');
      expect(res.body.errors?.[0].message).toContain('SA-NEW');
      expect(await server.sql('select external_id from smart_account where tenant_id = $1', [tenant.uuid])).toEqual([
        { external_id: 'SA-OLD' },
      ]);
      expect(await vaRows(tenant)).toEqual([{ external_id: 'va-1', name: 'VA va-1', managed: true }]);
      expect(await server.sql('select count(*)::int as n from license where tenant_id = $1', [tenant.uuid])).toEqual([{ n: 1 }]);
      expect(await auditCount(tenant)).toBe(events);
    });

    it('replaces the accountId when no license lines exist, dropping the old virtual accounts', async () => {
      const tenant = await newTenant('replace');
      const old = await configureAccount(server, tenant, { accountId: 'SA-OLD', virtualAccounts: ['old-1', 'old-2'], managed: ['old-1'] });

      const res = await configure(
        accountInput({ accountId: 'SA-NEW', virtualAccounts: [{ externalId: 'new-1', name: 'New one' }] }),
        adminOf(tenant),
      );

      expect(res.body.errors).toBeUndefined();
      const account = res.body.data!.configureSmartAccount;
      expect(account.accountId).toBe('SA-NEW');
      expect(account.virtualAccounts.map((va) => ({ externalId: va.externalId, managed: va.managed }))).toEqual([
        { externalId: 'new-1', managed: false },
      ]);
      expect(await vaRows(tenant)).toEqual([{ external_id: 'new-1', name: 'New one', managed: false }]);
      const gone = await server.graphql<{ node: { id: string } | null }>(NODE, { id: old.vaIds['old-1'] }, adminOf(tenant));
      expect(gone.body.data?.node).toBeNull();
    });

    it('never deletes a license line committed while the accountId is being changed: answers CONFLICT instead', async () => {
      const tenant = await newTenant('race');
      const account = await configureAccount(server, tenant, { accountId: 'SA-OLD', virtualAccounts: ['va-1'], managed: ['va-1'] });
      const [va] = await server.sql<{ id: string }>('select id from virtual_account where tenant_id = $1', [tenant.uuid]);
      expect(account.vaIds['va-1']).toBe(toGlobalId('VirtualAccount', va.id));
      // A concurrent writer (as addLicenses does) has inserted a line into va-1 and not committed yet.
      const writer = new pg.Client({ connectionString: server.ownerUrl });
      await writer.connect();
      try {
        await writer.query('begin');
        await writer.query(
          `insert into license (tenant_id, virtual_account_id, entitlement_id, billing_type, billing_model, subscription_id,
                                license_type, quantity, start_date, end_date, source)
           select $1, $2, id, 'PREPAID', 'A_LA_CARTE', 'SUB-RACE', 'TERM', 10, '2020-01-01', '2099-12-31', 'MANUAL'
             from entitlement where tag = 'regid.2020-10.com.cisco.DSTACK_T1_A'`,
          [tenant.uuid, va.id],
        );
        const changing = configure(accountInput({ accountId: 'SA-NEW', virtualAccounts: [] }), adminOf(tenant));
        await untilBlockedOrDone(changing);
        await writer.query('commit');
        const res = await changing;

        expect(await licenseCount(tenant)).toBe(1);
        expect(res.body.errors?.[0].extensions?.code).toBe('CONFLICT');
        expect(await server.sql('select external_id from smart_account where tenant_id = $1', [tenant.uuid])).toEqual([
          { external_id: 'SA-OLD' },
        ]);
      } finally {
        await writer.end();
      }
    });

    it('keeps only the final account\'s virtual accounts when first configurations under different accountIds race', async () => {
      const tenants = await Promise.all(Array.from({ length: 20 }, () => newTenant('race-first')));
      await Promise.all(
        tenants.flatMap((tenant) =>
          ['one', 'two'].map((n) =>
            configure(
              accountInput({ accountId: `SA-${n}-${tenant.slug}`, virtualAccounts: [{ externalId: `va-${n}`, name: `VA ${n}` }] }),
              adminOf(tenant),
            ),
          ),
        ),
      );
      for (const tenant of tenants) {
        const [account] = await server.sql<{ external_id: string }>('select external_id from smart_account where tenant_id = $1', [tenant.uuid]);
        const winner = account.external_id.replace('SA-', '').replace(`-${tenant.slug}`, '');
        expect({ tenant: tenant.slug, vas: (await vaRows(tenant)).map((r) => r.external_id) }).toEqual({ tenant: tenant.slug, vas: [`va-${winner}`] });
      }
    });

    it.each<[RoleName]>([['TENANT_OPERATOR'], ['PROVIDER_OPERATOR']])('answers FORBIDDEN to %s and writes nothing', async (role) => {
      const tenant = await newTenant('forbidden');
      const token = role === 'TENANT_OPERATOR' ? server.token(role, tenant.uuid) : server.token(role);
      const res = await configure(accountInput({ tenantId: tenant.id }), token);
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await accountRows(tenant)).toEqual([]);
      expect(await auditCount(tenant)).toBe(0);
    });
  });

  describe('setManagedVirtualAccounts', () => {
    it('manages exactly the listed virtual accounts and unmanages every other one', async () => {
      const tenant = await newTenant('managed');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-a', 'va-b', 'va-c'] });
      const { 'va-a': a, 'va-b': b, 'va-c': c } = account.vaIds;

      const first = await setManaged([a, b], adminOf(tenant));
      expect(first.body.errors).toBeUndefined();
      expect(
        Object.fromEntries(first.body.data!.setManagedVirtualAccounts.map((va) => [va.externalId, va.managed])),
      ).toEqual({ 'va-a': true, 'va-b': true, 'va-c': false });
      expect(first.body.data!.setManagedVirtualAccounts.every((va) => va.smartAccount.id === account.id)).toBe(true);

      const second = await setManaged([c], adminOf(tenant));
      expect(second.body.errors).toBeUndefined();
      expect(
        Object.fromEntries(second.body.data!.setManagedVirtualAccounts.map((va) => [va.externalId, va.managed])),
      ).toEqual({ 'va-a': false, 'va-b': false, 'va-c': true });
      expect((await vaRows(tenant)).map((r) => [r.external_id, r.managed])).toEqual([
        ['va-a', false],
        ['va-b', false],
        ['va-c', true],
      ]);
    });

    it('unmanages every virtual account when given an empty list', async () => {
      const tenant = await newTenant('none');
      await configureAccount(server, tenant, { virtualAccounts: ['va-a', 'va-b'], managed: ['va-a', 'va-b'] });
      const res = await setManaged([], adminOf(tenant));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.setManagedVirtualAccounts.map((va) => va.managed)).toEqual([false, false]);
      expect((await vaRows(tenant)).map((r) => r.managed)).toEqual([false, false]);
    });

    it('lets a provider admin choose for the tenant it names, and refuses one that names none with BAD_USER_INPUT', async () => {
      const tenant = await newTenant('provider-managed');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-a', 'va-b'] });

      const missing = await setManaged([account.vaIds['va-a']], server.token('PROVIDER_ADMIN'));
      expect(missing.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect((await vaRows(tenant)).map((r) => r.managed)).toEqual([false, false]);

      const named = await setManaged([account.vaIds['va-b']], server.token('PROVIDER_ADMIN'), tenant.id);
      expect(named.body.errors).toBeUndefined();
      expect((await vaRows(tenant)).map((r) => [r.external_id, r.managed])).toEqual([
        ['va-a', false],
        ['va-b', true],
      ]);
    });

    it("answers NOT_FOUND naming another tenant's virtual account, and changes nothing in either tenant", async () => {
      const mine = await newTenant('va-mine');
      const other = await newTenant('va-other');
      const own = await configureAccount(server, mine, { virtualAccounts: ['va-1', 'va-2'], managed: ['va-1'] });
      const theirs = await configureAccount(server, other, { virtualAccounts: ['va-x'] });
      const events = await auditCount(mine);

      const res = await setManaged([own.vaIds['va-2'], theirs.vaIds['va-x']], adminOf(mine));

      expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(res.body.errors?.[0].message).toContain(theirs.vaIds['va-x']);
      expect(res.body.errors?.[0].message).not.toContain(own.vaIds['va-2']);
      expect((await vaRows(mine)).map((r) => [r.external_id, r.managed])).toEqual([
        ['va-1', true],
        ['va-2', false],
      ]);
      expect((await vaRows(other)).map((r) => r.managed)).toEqual([false]);
      expect(await auditCount(mine)).toBe(events);
    });

    it('answers NOT_FOUND naming an unknown virtual account id, and changes nothing', async () => {
      const tenant = await newTenant('va-unknown');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-1', 'va-2'], managed: ['va-1'] });
      const unknown = toGlobalId('VirtualAccount', randomUUID());

      const res = await setManaged([account.vaIds['va-2'], unknown], adminOf(tenant));

      expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(res.body.errors?.[0].message).toContain(unknown);
      expect((await vaRows(tenant)).map((r) => [r.external_id, r.managed])).toEqual([
        ['va-1', true],
        ['va-2', false],
      ]);
    });

    it.each<[RoleName]>([['TENANT_OPERATOR'], ['PROVIDER_OPERATOR']])('answers FORBIDDEN to %s and changes nothing', async (role) => {
      const tenant = await newTenant('managed-forbidden');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-1'] });
      const token = role === 'TENANT_OPERATOR' ? server.token(role, tenant.uuid) : server.token(role);
      const res = await setManaged([account.vaIds['va-1']], token, tenant.id);
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await vaRows(tenant)).map((r) => r.managed)).toEqual([false]);
    });
  });

  describe('smartAccounts', () => {
    it("shows a tenant user only its own tenant's smart account, with its virtual accounts", async () => {
      const mine = await newTenant('list-mine');
      const other = await newTenant('list-other');
      const own = await configureAccount(server, mine, { virtualAccounts: ['va-2', 'va-1'], managed: ['va-2'] });
      await configureAccount(server, other, { virtualAccounts: ['va-x'] });

      const res = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, {}, server.token('TENANT_OPERATOR', mine.uuid));

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.smartAccounts).toHaveLength(1);
      const [account] = res.body.data!.smartAccounts;
      expect(account).toMatchObject({ id: own.id, accountId: `SA-${mine.slug}`, tenant: { id: mine.id } });
      expect(account.virtualAccounts.map((va) => [va.id, va.externalId, va.managed])).toEqual([
        [own.vaIds['va-1'], 'va-1', false],
        [own.vaIds['va-2'], 'va-2', true],
      ]);
    });

    it('answers an empty list to a tenant that has no smart account yet', async () => {
      const tenant = await newTenant('list-empty');
      const res = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, {}, server.token('TENANT_ADMIN', tenant.uuid));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.smartAccounts).toEqual([]);
    });

    it("answers NOT_FOUND when a tenant user names another tenant", async () => {
      const mine = await newTenant('list-probe');
      const other = await newTenant('list-probed');
      await configureAccount(server, other);
      const res = await server.graphql(SMART_ACCOUNTS, { tenantId: other.id }, server.token('TENANT_OPERATOR', mine.uuid));
      expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(res.body.data?.smartAccounts).toBeUndefined();
    });

    it("shows providers every tenant's smart account without tenantId, and one tenant's with it", async () => {
      const a = await newTenant('list-a');
      const b = await newTenant('list-b');
      const accountA = await configureAccount(server, a, { virtualAccounts: ['va-a'] });
      const accountB = await configureAccount(server, b, { virtualAccounts: ['va-b1', 'va-b2'] });
      const token = server.token('PROVIDER_OPERATOR');

      const all = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, {}, token);
      expect(all.body.errors).toBeUndefined();
      const [{ n }] = await server.sql<{ n: number }>('select count(*)::int as n from smart_account');
      expect(all.body.data!.smartAccounts).toHaveLength(n);
      const listed = new Map(all.body.data!.smartAccounts.map((sa) => [sa.id, sa]));
      expect(listed.get(accountA.id)?.tenant.id).toBe(a.id);
      expect(listed.get(accountB.id)?.virtualAccounts.map((va) => va.externalId)).toEqual(['va-b1', 'va-b2']);

      const one = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, { tenantId: b.id }, token);
      expect(one.body.data!.smartAccounts.map((sa) => sa.id)).toEqual([accountB.id]);
    });
  });

  describe('node(id)', () => {
    it('resolves a SmartAccount and a VirtualAccount for their tenant, and null for another tenant', async () => {
      const mine = await newTenant('node-mine');
      const other = await newTenant('node-other');
      const account = await configureAccount(server, mine, { accountId: 'SA-NODE', virtualAccounts: ['va-1'], managed: ['va-1'] });
      const vaId = account.vaIds['va-1'];
      const token = server.token('TENANT_OPERATOR', mine.uuid);

      const sa = await server.graphql<{ node: Record<string, unknown> | null }>(NODE, { id: account.id }, token);
      expect(sa.body.errors).toBeUndefined();
      expect(sa.body.data!.node).toEqual({
        __typename: 'SmartAccount',
        id: account.id,
        domain: `${mine.slug}.example`,
        name: `Smart account ${mine.slug}`,
        accountId: 'SA-NODE',
        tenant: { id: mine.id },
        virtualAccounts: [{ id: vaId, externalId: 'va-1' }],
      });

      const va = await server.graphql<{ node: Record<string, unknown> | null }>(NODE, { id: vaId }, token);
      expect(va.body.errors).toBeUndefined();
      expect(va.body.data!.node).toEqual({
        __typename: 'VirtualAccount',
        id: vaId,
        externalId: 'va-1',
        name: 'VA va-1',
        managed: true,
        smartAccount: { id: account.id, accountId: 'SA-NODE' },
      });

      const stranger = server.token('TENANT_ADMIN', other.uuid);
      for (const id of [account.id, vaId]) {
        const res = await server.graphql<{ node: Record<string, unknown> | null }>(NODE, { id }, stranger);
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.node).toBeNull();
      }
    });
  });

  describe('audit', () => {
    const auditPage = (token: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<AuditPage>> =>
      server.graphql<AuditPage>(AUDIT, { first: 100, ...variables }, token);

    it('records who configured the smart account, with the action and the smart account as target', async () => {
      const tenant = await newTenant('audit-configure');
      const res = await configure(accountInput(), adminOf(tenant, 'alice@acme.example'));
      const accountId = res.body.data!.configureSmartAccount.id;

      const page = await auditPage(server.token('TENANT_OPERATOR', tenant.uuid));
      expect(page.body.errors).toBeUndefined();
      expect(page.body.data!.auditEvents.totalCount).toBe(1);
      expect(page.body.data!.auditEvents.edges[0].node).toMatchObject({
        actorSubject: 'alice@acme.example',
        actorRole: 'TENANT_ADMIN',
        action: 'accounts.smart_account_configured',
        targetType: 'SmartAccount',
        targetIds: [accountId],
        tenant: { id: tenant.id },
      });
    });

    it('records who chose the managed virtual accounts, naming them as targets', async () => {
      const tenant = await newTenant('audit-managed');
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-1', 'va-2', 'va-3'] });
      const chosen = [account.vaIds['va-1'], account.vaIds['va-3']];
      await setManaged(chosen, adminOf(tenant, 'bob@acme.example'));

      const page = await auditPage(server.token('TENANT_OPERATOR', tenant.uuid));
      const newest = page.body.data!.auditEvents.edges[0].node;
      expect(newest).toMatchObject({
        actorSubject: 'bob@acme.example',
        actorRole: 'TENANT_ADMIN',
        action: 'accounts.managed_virtual_accounts_set',
        targetType: 'VirtualAccount',
        tenant: { id: tenant.id },
      });
      expect([...newest.targetIds].sort()).toEqual([...chosen].sort());
      expect(page.body.data!.auditEvents.totalCount).toBe(2);
    });

    it("records a provider admin's change under the tenant it changed, with the provider as actor", async () => {
      const tenant = await newTenant('audit-provider');
      await configure(accountInput({ tenantId: tenant.id }), server.token('PROVIDER_ADMIN', undefined, { sub: 'noc@provider.example' }));
      const page = await auditPage(server.token('TENANT_OPERATOR', tenant.uuid));
      expect(page.body.data!.auditEvents.edges.map((e) => e.node)).toMatchObject([
        { actorSubject: 'noc@provider.example', actorRole: 'PROVIDER_ADMIN', action: 'accounts.smart_account_configured', tenant: { id: tenant.id } },
      ]);
    });

    it("shows tenant users only their tenant's audit events, and providers every tenant's", async () => {
      const a = await newTenant('audit-a');
      const b = await newTenant('audit-b');
      const accountA = await configureAccount(server, a, { virtualAccounts: ['va-a'], managed: ['va-a'] });
      const accountB = await configureAccount(server, b, { virtualAccounts: ['va-b'], managed: ['va-b'] });

      const seenByA = await auditPage(server.token('TENANT_OPERATOR', a.uuid));
      expect(seenByA.body.errors).toBeUndefined();
      const nodesA = seenByA.body.data!.auditEvents.edges.map((e) => e.node);
      expect(nodesA).toHaveLength(2);
      expect(seenByA.body.data!.auditEvents.totalCount).toBe(2);
      expect(nodesA.every((n) => n.tenant.id === a.id)).toBe(true);
      expect(nodesA.flatMap((n) => n.targetIds)).toEqual(expect.arrayContaining([accountA.id, accountA.vaIds['va-a']]));
      expect(nodesA.flatMap((n) => n.targetIds)).not.toContain(accountB.id);

      const probe = await auditPage(server.token('TENANT_OPERATOR', a.uuid), { tenantId: b.id });
      expect(probe.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');

      const provider = server.token('PROVIDER_OPERATOR');
      const onlyB = await auditPage(provider, { tenantId: b.id });
      expect(onlyB.body.data!.auditEvents.totalCount).toBe(2);
      expect(onlyB.body.data!.auditEvents.edges.every((e) => e.node.tenant.id === b.id)).toBe(true);
      const [{ n }] = await server.sql<{ n: number }>('select count(*)::int as n from audit_event');
      const all = await auditPage(provider);
      expect(all.body.data!.auditEvents.totalCount).toBe(n);
    });

    it('pages through audit events newest first, without repeats or gaps', async () => {
      const tenant = await newTenant('audit-pages');
      const admin = adminOf(tenant);
      const account = await configureAccount(server, tenant, { virtualAccounts: ['va-1', 'va-2'] });
      for (let i = 0; i < 3; i++) {
        await configure(accountInput({ accountId: `SA-${tenant.slug}`, name: `Rename ${i}`, virtualAccounts: [] }), admin);
        await setManaged([account.vaIds[i % 2 === 0 ? 'va-1' : 'va-2']], admin);
      }
      const expected = await server.sql<{ id: string }>(
        'select id from audit_event where tenant_id = $1 order by created_at desc, id desc',
        [tenant.uuid],
      );
      expect(expected).toHaveLength(7);

      const token = server.token('TENANT_OPERATOR', tenant.uuid);
      const seen: AuditEventNode[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const res: GraphQLResponse<AuditPage> = await server.graphql<AuditPage>(AUDIT, { first: 3, after }, token);
        expect(res.body.errors).toBeUndefined();
        const conn: AuditPage['auditEvents'] = res.body.data!.auditEvents;
        expect(conn.totalCount).toBe(7);
        seen.push(...conn.edges.map((e) => e.node));
        pages++;
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(pages).toBe(3);
      expect(seen.map((e) => e.id)).toEqual(expected.map((r) => toGlobalId('AuditEvent', r.id)));
      const times = seen.map((e) => Date.parse(e.createdAt));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      // The oldest event is the fixture's first change: the smart account being configured.
      expect(seen.at(-1)!.action).toBe('accounts.smart_account_configured');
    });
  });
});
