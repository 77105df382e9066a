import { createTenant } from './support/fixtures';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/harness';

const CREATE = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id name slug createdAt } }';
interface TenantPage {
  tenants: {
    totalCount: number;
    edges: { cursor: string; node: { id: string; slug: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const LIST = 'query($first: Int, $after: String) { tenants(first: $first, after: $after) { totalCount edges { cursor node { id slug } } pageInfo { hasNextPage endCursor } } }';

describe('tenants', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lets a provider admin create a tenant and returns it with an opaque global id', async () => {
    const res = await server.graphql<{ createTenant: { id: string; name: string; slug: string; createdAt: string } }>(
      CREATE,
      { input: { name: '  Acme Corp ', slug: 'acme' } },
      server.token('PROVIDER_ADMIN'),
    );
    expect(res.body.errors).toBeUndefined();
    const tenant = res.body.data!.createTenant;
    expect(tenant).toMatchObject({ name: 'Acme Corp', slug: 'acme' });
    expect(tenant.id).not.toMatch(/[0-9a-f]{8}-/);
    expect(Date.parse(tenant.createdAt)).not.toBeNaN();
    const rows = await server.sql('select name from tenant where slug = $1', ['acme']);
    expect(rows).toEqual([{ name: 'Acme Corp' }]);
  });

  it('refuses a duplicate slug with CONFLICT and creates nothing', async () => {
    await createTenant(server, 'dup-slug');
    const res = await server.graphql(CREATE, { input: { name: 'Other', slug: 'dup-slug' } }, server.token('PROVIDER_ADMIN'));
    expect(res.body.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(res.body.errors?.[0].message).toContain('dup-slug');
    expect(await server.sql('select count(*)::int as n from tenant where slug = $1', ['dup-slug'])).toEqual([{ n: 1 }]);
  });

  it.each([['Upper'], ['-lead'], ['trail-'], ['with space'], [''], ['a'.repeat(64)], ['ünï']])(
    'refuses the invalid slug %j with BAD_USER_INPUT',
    async (slug) => {
      const res = await server.graphql(CREATE, { input: { name: 'X', slug } }, server.token('PROVIDER_ADMIN'));
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(await server.sql('select count(*)::int as n from tenant where slug = $1', [slug])).toEqual([{ n: 0 }]);
    },
  );

  it('refuses a NUL character in the name with BAD_USER_INPUT, naming where it was, and creates nothing', async () => {
    const res = await server.graphql(CREATE, { input: { name: 'a\u0000b', slug: 'nul-name' } }, server.token('PROVIDER_ADMIN'));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0].message).toContain('variables.input.name');
    expect(await server.sql('select count(*)::int as n from tenant where slug = $1', ['nul-name'])).toEqual([{ n: 0 }]);
  });

  it('refuses an empty or overlong name with BAD_USER_INPUT', async () => {
    for (const name of ['   ', 'n'.repeat(201)]) {
      const res = await server.graphql(CREATE, { input: { name, slug: 'named' } }, server.token('PROVIDER_ADMIN'));
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it.each([['PROVIDER_OPERATOR'], ['TENANT_ADMIN'], ['TENANT_OPERATOR']] as const)(
    'answers FORBIDDEN when %s tries to create a tenant',
    async (role) => {
      const own = await createTenant(server, `own-${role.toLowerCase().replace('_', '-')}`);
      const token = role.startsWith('TENANT') ? server.token(role, own.uuid) : server.token(role);
      const res = await server.graphql(CREATE, { input: { name: 'Nope', slug: `nope-${own.slug}` } }, token);
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await server.sql('select count(*)::int as n from tenant where slug = $1', [`nope-${own.slug}`])).toEqual([{ n: 0 }]);
    },
  );

  it('pages through all tenants by slug for providers without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) await createTenant(server, `page-${i}`);
    const all = await server.sql<{ slug: string }>('select slug from tenant order by slug');
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: GraphQLResponse<TenantPage> = await server.graphql<TenantPage>(LIST, { first: 3, after }, server.token('PROVIDER_OPERATOR'));
      const conn: TenantPage['tenants'] = res.body.data!.tenants;
      expect(conn.totalCount).toBe(all.length);
      seen.push(...conn.edges.map((e) => e.node.slug));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.map((r) => r.slug));
  });

  it('shows a tenant user only its own tenant', async () => {
    const mine = await createTenant(server, 'mine-only');
    const res = await server.graphql<TenantPage>(LIST, { first: 100 }, server.token('TENANT_OPERATOR', mine.uuid));
    expect(res.body.data!.tenants.totalCount).toBe(1);
    expect(res.body.data!.tenants.edges.map((e) => e.node.slug)).toEqual(['mine-only']);
  });

  it('refuses first above 100 and a forged cursor with BAD_USER_INPUT', async () => {
    const token = server.token('PROVIDER_ADMIN');
    const tooMany = await server.graphql(LIST, { first: 101 }, token);
    expect(tooMany.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const forged = await server.graphql(LIST, { first: 1, after: 'not-a-cursor' }, token);
    expect(forged.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
