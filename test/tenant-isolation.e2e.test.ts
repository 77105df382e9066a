import { randomUUID } from 'node:crypto';
import { getSchema } from '../src/server/schema';
import { createTenant, deviceInput, registerDevices, REGISTER_DEVICES, type TenantFixture } from './support/fixtures';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/harness';

/**
 * The tenant wall, seen from outside: for every root operation of the schema, a user of tenant A
 * can neither read nor change tenant B's data, and another tenant's id is answered exactly as an id
 * that does not exist. Each operation also gets a positive control (B on its own data, or a provider)
 * so a "nothing visible" answer cannot pass because the operation is simply broken.
 *
 * `crossTenantSuites` is keyed by `<RootType>.<field>`; the last test walks the schema and fails when
 * an operation has no entry here, so a new operation cannot ship without its cross-tenant tests.
 */

const TENANT_ROLES = ['TENANT_ADMIN', 'TENANT_OPERATOR'] as const;
type TenantRole = (typeof TENANT_ROLES)[number];

const VIEWER = '{ viewer { subject role tenant { id slug name } } }';
const TENANTS = `query($first: Int, $after: String) {
  tenants(first: $first, after: $after) { totalCount edges { cursor node { id slug name } } pageInfo { hasNextPage endCursor } }
}`;
const TENANT = 'query($id: ID!) { tenant(id: $id) { id slug name } }';
const TENANT_PAIR = 'query($a: ID!, $b: ID!) { a: tenant(id: $a) { id slug } b: tenant(id: $b) { id slug } }';
const NODE = `query($id: ID!) {
  node(id: $id) { __typename id ... on Tenant { slug name } ... on Device { uuid hostname tenant { id slug } } }
}`;
const DEVICES = `query($tenantId: ID, $filter: DeviceFilter, $first: Int, $after: String) {
  devices(tenantId: $tenantId, filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id uuid hostname model kind mode tenant { id slug } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }';

interface TenantNode {
  id: string;
  slug: string;
  name?: string;
}
interface DeviceNode {
  id: string;
  uuid: string;
  hostname: string;
  model: string;
  kind: string;
  mode: string;
  tenant: TenantNode;
}
interface DevicesData {
  devices: {
    totalCount: number;
    edges: { cursor: string; node: DeviceNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface NodeData {
  node: ({ __typename: string; id: string } & Partial<TenantNode> & Partial<DeviceNode>) | null;
}
interface RegisterData {
  registerDevices: { created: number; updated: number; devices: { id: string; uuid: string; hostname: string; tenant: TenantNode }[] };
}

/** A well-formed global id for something that does not exist (ids are otherwise taken from responses). */
function missingGlobalId(type: 'Tenant' | 'Device'): string {
  return Buffer.from(`${type}:${randomUUID()}`, 'utf8').toString('base64url');
}

/** Errors with the probed id blanked out: what is left must not depend on whose id it was. */
function errorShape(res: GraphQLResponse<unknown>, probedId: string) {
  return (res.body.errors ?? []).map((e) => ({
    code: e.extensions?.code,
    message: e.message.split(probedId).join('<id>'),
    path: e.path,
  }));
}

describe('tenant isolation', () => {
  let server: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  /** B's device ids as the API returned them to B's admin. */
  let bDeviceIds: string[];

  const tokenA = (role: TenantRole) => server.token(role, a.uuid, { sub: `alice-${role}` });
  const tokenB = (role: TenantRole) => server.token(role, b.uuid, { sub: `bob-${role}` });

  async function deviceRows(tenantUuid: string) {
    return server.sql<Record<string, unknown>>(
      `select id, uuid, hostname, system_ip, model, kind, mode, software_version, site_id, hsec_compatible, created_at, updated_at
         from device where tenant_id = $1 order by uuid`,
      [tenantUuid],
    );
  }
  async function hostnamesOf(tenantUuid: string): Promise<string[]> {
    const rows = await server.sql<{ hostname: string }>('select hostname from device where tenant_id = $1 order by hostname, id', [tenantUuid]);
    return rows.map((r) => r.hostname);
  }
  async function deviceCount(): Promise<number> {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from device');
    return row.n;
  }

  beforeAll(async () => {
    server = await startTestServer();
    a = await createTenant(server, 'iso-alpha', 'Alpha Networks');
    b = await createTenant(server, 'iso-bravo', 'Bravo Secret Corp');
    await registerDevices(server, server.token('TENANT_ADMIN', a.uuid), [
      deviceInput(1, { uuid: 'ALPHA-0001', hostname: 'alpha-edge-1.example' }),
      deviceInput(2, { uuid: 'ALPHA-0002', hostname: 'alpha-edge-2.example' }),
      deviceInput(3, { uuid: 'ALPHA-0003', hostname: 'alpha-edge-3.example' }),
    ]);
    // B's devices each have something A's lack: a model, a kind, a mode, a hostname word.
    const bDevices = await registerDevices(server, server.token('TENANT_ADMIN', b.uuid), [
      deviceInput(11, { uuid: 'BRAVO-0001', hostname: 'bravo-core-1.example', model: 'C8500-12X' }),
      deviceInput(12, { uuid: 'BRAVO-0002', hostname: 'bravo-vedge-2.example', model: 'vEdge-2000', kind: 'VEDGE', hsecCompatible: false }),
      deviceInput(13, { uuid: 'BRAVO-0003', hostname: 'bravo-auto-3.example', mode: 'AUTONOMOUS' }),
      deviceInput(14, { uuid: 'BRAVO-SHARED', hostname: 'bravo-shared.example' }),
    ]);
    bDeviceIds = bDevices.map((d) => d.id);
  });
  afterAll(async () => {
    await server?.close();
  });

  const crossTenantSuites: Record<string, () => void> = {
    'Query.viewer': () => {
      it.each(TENANT_ROLES)("shows a %s of A only A's tenant, and B's user only B's", async (role) => {
        const mine = await server.graphql<{ viewer: { role: string; tenant: TenantNode | null } }>(VIEWER, {}, tokenA(role));
        expect(mine.body.errors).toBeUndefined();
        expect(mine.body.data!.viewer).toMatchObject({ role, tenant: { id: a.id, slug: a.slug, name: 'Alpha Networks' } });
        const theirs = await server.graphql<{ viewer: { role: string; tenant: TenantNode | null } }>(VIEWER, {}, tokenB(role));
        expect(theirs.body.data!.viewer).toMatchObject({ role, tenant: { id: b.id, slug: b.slug } });
      });
    },

    'Query.tenants': () => {
      it.each(TENANT_ROLES)('lists only A for a %s of A, and only B for B', async (role) => {
        const mine = await server.graphql<{ tenants: { totalCount: number; edges: { node: TenantNode }[] } }>(TENANTS, { first: 100 }, tokenA(role));
        expect(mine.body.errors).toBeUndefined();
        expect(mine.body.data!.tenants.totalCount).toBe(1);
        expect(mine.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([a.id]);
        const theirs = await server.graphql<{ tenants: { totalCount: number; edges: { node: TenantNode }[] } }>(TENANTS, { first: 100 }, tokenB(role));
        expect(theirs.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([b.id]);
      });

      it("does not reveal B to A when A pages with a cursor positioned just before B's slug", async () => {
        const provider = await server.graphql<{ tenants: { edges: { cursor: string; node: TenantNode }[] } }>(
          TENANTS,
          { first: 100 },
          server.token('PROVIDER_OPERATOR'),
        );
        const edges = provider.body.data!.tenants.edges;
        const bIndex = edges.findIndex((e) => e.node.id === b.id);
        expect(bIndex).toBeGreaterThan(0);
        const cursorBeforeB = edges[bIndex - 1].cursor;
        // Control: the cursor does lead a provider to B.
        const providerNext = await server.graphql<{ tenants: { edges: { node: TenantNode }[] } }>(
          TENANTS,
          { first: 1, after: cursorBeforeB },
          server.token('PROVIDER_OPERATOR'),
        );
        expect(providerNext.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([b.id]);
        for (const role of TENANT_ROLES) {
          const res = await server.graphql<{ tenants: { totalCount: number; edges: { node: TenantNode }[] } }>(
            TENANTS,
            { first: 100, after: cursorBeforeB },
            tokenA(role),
          );
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data!.tenants.edges.map((e) => e.node.id)).not.toContain(b.id);
          expect(res.body.data!.tenants.totalCount).toBe(1);
        }
      });
    },

    'Query.tenant': () => {
      it.each(TENANT_ROLES)("answers a %s of A null for B's id, exactly as for a nonexistent id", async (role) => {
        const missing = missingGlobalId('Tenant');
        const forB = await server.graphql(TENANT, { id: b.id }, tokenA(role));
        const forMissing = await server.graphql(TENANT, { id: missing }, tokenA(role));
        expect(forB.body).toEqual({ data: { tenant: null } });
        expect(forMissing.body).toEqual({ data: { tenant: null } });
        // The bare uuid form is accepted as an id too; it must not be a way around the wall.
        expect((await server.graphql(TENANT, { id: b.uuid }, tokenA(role))).body).toEqual({ data: { tenant: null } });
        const own = await server.graphql<{ tenant: TenantNode | null }>(TENANT, { id: a.id }, tokenA(role));
        expect(own.body.data!.tenant).toMatchObject({ id: a.id, slug: a.slug });
      });

      it.each(TENANT_ROLES)('lets a %s of B read B by id', async (role) => {
        const res = await server.graphql<{ tenant: TenantNode | null }>(TENANT, { id: b.id }, tokenB(role));
        expect(res.body.data!.tenant).toEqual({ id: b.id, slug: b.slug, name: 'Bravo Secret Corp' });
      });

      it('answers A and B in one batched request per tenant: A gets its own tenant and null for B', async () => {
        const res = await server.graphql<{ a: TenantNode | null; b: TenantNode | null }>(
          TENANT_PAIR,
          { a: a.id, b: b.id },
          tokenA('TENANT_OPERATOR'),
        );
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data).toEqual({ a: { id: a.id, slug: a.slug }, b: null });
        const provider = await server.graphql<{ a: TenantNode | null; b: TenantNode | null }>(
          TENANT_PAIR,
          { a: a.id, b: b.id },
          server.token('PROVIDER_OPERATOR'),
        );
        expect(provider.body.data).toEqual({ a: { id: a.id, slug: a.slug }, b: { id: b.id, slug: b.slug } });
      });
    },

    'Query.node': () => {
      it.each(TENANT_ROLES)("answers a %s of A null for B's tenant and B's devices, exactly as for nonexistent ids", async (role) => {
        const token = tokenA(role);
        const missingTenant = await server.graphql(NODE, { id: missingGlobalId('Tenant') }, token);
        const missingDevice = await server.graphql(NODE, { id: missingGlobalId('Device') }, token);
        expect(missingTenant.body).toEqual({ data: { node: null } });
        expect(missingDevice.body).toEqual({ data: { node: null } });
        expect((await server.graphql(NODE, { id: b.id }, token)).body).toEqual(missingTenant.body);
        for (const id of bDeviceIds) {
          expect((await server.graphql(NODE, { id }, token)).body).toEqual(missingDevice.body);
        }
      });

      it.each(TENANT_ROLES)("lets a %s of B fetch B's tenant and devices by id", async (role) => {
        const tenant = await server.graphql<NodeData>(NODE, { id: b.id }, tokenB(role));
        expect(tenant.body.data!.node).toMatchObject({ __typename: 'Tenant', id: b.id, slug: b.slug });
        for (const id of bDeviceIds) {
          const device = await server.graphql<NodeData>(NODE, { id }, tokenB(role));
          expect(device.body.errors).toBeUndefined();
          expect(device.body.data!.node).toMatchObject({ __typename: 'Device', id, tenant: { id: b.id } });
        }
      });

      it("lets a provider fetch B's devices by the same ids that A cannot see", async () => {
        const res = await server.graphql<NodeData>(NODE, { id: bDeviceIds[0] }, server.token('PROVIDER_OPERATOR'));
        expect(res.body.data!.node).toMatchObject({ __typename: 'Device', uuid: 'BRAVO-0001', tenant: { id: b.id } });
      });
    },

    'Query.devices': () => {
      it.each(TENANT_ROLES)(
        'answers a %s of A NOT_FOUND for devices(tenantId: B), worded exactly as for a nonexistent tenant',
        async (role) => {
          const token = tokenA(role);
          const missing = missingGlobalId('Tenant');
          const forMissing = await server.graphql(DEVICES, { tenantId: missing }, token);
          const forB = await server.graphql(DEVICES, { tenantId: b.id }, token);
          expect(forB.body.data ?? null).toBeNull();
          expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(errorShape(forB, b.id)).toEqual(errorShape(forMissing, missing));
          expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
          // Same for the bare-uuid spelling of the id.
          const missingUuid = randomUUID();
          const forBUuid = await server.graphql(DEVICES, { tenantId: b.uuid }, token);
          const forMissingUuid = await server.graphql(DEVICES, { tenantId: missingUuid }, token);
          expect(forBUuid.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(errorShape(forBUuid, b.uuid)).toEqual(errorShape(forMissingUuid, missingUuid));
        },
      );

      it.each(TENANT_ROLES)('lists only its own devices for a %s of A and of B, with or without its own tenantId', async (role) => {
        for (const [t, token] of [
          [a, tokenA(role)],
          [b, tokenB(role)],
        ] as const) {
          const expected = await hostnamesOf(t.uuid);
          for (const tenantId of [undefined, t.id]) {
            const res = await server.graphql<DevicesData>(DEVICES, { tenantId, first: 100 }, token);
            expect(res.body.errors).toBeUndefined();
            const conn = res.body.data!.devices;
            expect(conn.totalCount).toBe(expected.length);
            expect(conn.edges.map((e) => e.node.hostname)).toEqual(expected);
            expect(new Set(conn.edges.map((e) => e.node.tenant.id))).toEqual(new Set([t.id]));
          }
        }
      });

      it.each([
        ['search on a hostname word only B uses', { search: 'bravo' }],
        ['search on one of B hostnames, in other case', { search: 'BRAVO-CORE-1' }],
        ['a model only B has', { model: 'C8500-12X' }],
        ['a kind only B has', { kind: 'VEDGE' }],
        ['a mode only B has', { mode: 'AUTONOMOUS' }],
      ])("gives A an empty list for a filter matching only B's devices: %s", async (_label, filter) => {
        // Control: B finds its devices with the same filter.
        const forB = await server.graphql<DevicesData>(DEVICES, { filter, first: 100 }, tokenB('TENANT_OPERATOR'));
        expect(forB.body.data!.devices.totalCount).toBeGreaterThan(0);
        for (const role of TENANT_ROLES) {
          const res = await server.graphql<DevicesData>(DEVICES, { filter, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data!.devices).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
        }
      });

      it("never shows B's devices to A when A pages with a cursor taken from B's list", async () => {
        const bPage = await server.graphql<DevicesData>(DEVICES, { first: 1 }, tokenB('TENANT_OPERATOR'));
        const cursor = bPage.body.data!.devices.pageInfo.endCursor;
        expect(cursor).toEqual(expect.any(String));
        const res = await server.graphql<DevicesData>(DEVICES, { first: 100, after: cursor }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.devices.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
        expect(res.body.data!.devices.totalCount).toBe((await hostnamesOf(a.uuid)).length);
      });

      it('answers BAD_USER_INPUT, not an internal error, for a forged devices cursor', async () => {
        // Cursors are opaque, but nothing stops a client from crafting one; a crafted cursor must be
        // refused as input like any other, never reach SQL as a value of the wrong type.
        const forged = Buffer.from(JSON.stringify(['bravo-core-1.example', 'not-a-uuid']), 'utf8').toString('base64url');
        const res = await server.graphql(DEVICES, { first: 10, after: forged }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(res.body.errors?.[0].message).toContain('after');
      });

      it('shows providers both tenants without tenantId, and exactly one tenant with it', async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const token = server.token(role);
          const all = await server.graphql<DevicesData>(DEVICES, { first: 100 }, token);
          expect(all.body.errors).toBeUndefined();
          expect(all.body.data!.devices.totalCount).toBe(await deviceCount());
          expect(new Set(all.body.data!.devices.edges.map((e) => e.node.tenant.id))).toEqual(new Set([a.id, b.id]));
          for (const t of [a, b]) {
            const one = await server.graphql<DevicesData>(DEVICES, { tenantId: t.id, first: 100 }, token);
            expect(one.body.errors).toBeUndefined();
            expect(one.body.data!.devices.edges.map((e) => e.node.hostname)).toEqual(await hostnamesOf(t.uuid));
            expect(new Set(one.body.data!.devices.edges.map((e) => e.node.tenant.id))).toEqual(new Set([t.id]));
          }
          const missing = await server.graphql(DEVICES, { tenantId: missingGlobalId('Tenant') }, token);
          expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
        }
      });
    },

    'Mutation.registerDevices': () => {
      it.each(TENANT_ROLES)(
        "refuses a %s of A registering into B exactly as into a nonexistent tenant, and leaves B's rows unchanged",
        async (role) => {
          const before = await deviceRows(b.uuid);
          const totalBefore = await deviceCount();
          // One row would update B's existing device, one would create a new one.
          const devices = [
            deviceInput(21, { uuid: 'BRAVO-0001', hostname: 'hijacked.example' }),
            deviceInput(22, { uuid: 'PLANTED-0001', hostname: 'planted.example' }),
          ];
          const missing = missingGlobalId('Tenant');
          const forB = await server.graphql(REGISTER_DEVICES, { input: { tenantId: b.id, devices } }, tokenA(role));
          const forMissing = await server.graphql(REGISTER_DEVICES, { input: { tenantId: missing, devices } }, tokenA(role));
          expect(forB.body.data ?? null).toBeNull();
          expect(forB.body.errors?.[0].extensions?.code).toBe(role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN');
          expect(errorShape(forB, b.id)).toEqual(errorShape(forMissing, missing));
          expect(await deviceRows(b.uuid)).toEqual(before);
          expect(await deviceCount()).toBe(totalBefore);
          expect(await server.sql('select 1 from device where hostname in ($1, $2)', ['hijacked.example', 'planted.example'])).toEqual([]);
        },
      );

      it("creates A's own device when A registers a uuid that B already uses, and leaves B's device untouched", async () => {
        const before = await deviceRows(b.uuid);
        const res = await server.graphql<RegisterData>(
          REGISTER_DEVICES,
          { input: { devices: [deviceInput(31, { uuid: 'BRAVO-SHARED', hostname: 'alpha-shared.example' })] } },
          tokenA('TENANT_ADMIN'),
        );
        expect(res.body.errors).toBeUndefined();
        const payload = res.body.data!.registerDevices;
        expect(payload).toMatchObject({ created: 1, updated: 0 });
        expect(payload.devices[0]).toMatchObject({ uuid: 'BRAVO-SHARED', hostname: 'alpha-shared.example', tenant: { id: a.id } });
        expect(bDeviceIds).not.toContain(payload.devices[0].id);
        expect(await deviceRows(b.uuid)).toEqual(before);
        const rows = await server.sql<{ tenant_id: string; hostname: string }>(
          'select tenant_id, hostname from device where uuid = $1 order by hostname',
          ['BRAVO-SHARED'],
        );
        expect(rows).toEqual([
          { tenant_id: a.uuid, hostname: 'alpha-shared.example' },
          { tenant_id: b.uuid, hostname: 'bravo-shared.example' },
        ]);
        // Each tenant sees its own device under that uuid, and only that one.
        for (const [token, hostname] of [
          [tokenA('TENANT_OPERATOR'), 'alpha-shared.example'],
          [tokenB('TENANT_OPERATOR'), 'bravo-shared.example'],
        ] as const) {
          const list = await server.graphql<DevicesData>(DEVICES, { filter: { search: 'shared' } }, token);
          expect(list.body.data!.devices.edges.map((e) => e.node.hostname)).toEqual([hostname]);
        }
      });

      it('refuses, without an internal error and without writing, a tenant token naming a tenant that does not exist', async () => {
        // e.g. a token still valid for a tenant that was deleted: it belongs to no tenant, so it may
        // write nowhere, and the refusal is a client error the frontend can act on.
        const totalBefore = await deviceCount();
        const ghost = server.token('TENANT_ADMIN', randomUUID());
        const res = await server.graphql(
          REGISTER_DEVICES,
          { input: { devices: [deviceInput(51, { uuid: 'GHOST-0001', hostname: 'ghost.example' })] } },
          ghost,
        );
        expect(res.body.data ?? null).toBeNull();
        expect(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED']).toContain(res.body.errors?.[0].extensions?.code);
        expect(await deviceCount()).toBe(totalBefore);
        // Reads by such a token see nothing at all.
        const read = await server.graphql<{ viewer: { tenant: TenantNode | null }; devices: { totalCount: number } }>(
          '{ viewer { tenant { id } } devices { totalCount } }',
          {},
          ghost,
        );
        expect(read.body.data).toEqual({ viewer: { tenant: null }, devices: { totalCount: 0 } });
      });

      it("lets B's admin register and then update B's own devices", async () => {
        const token = tokenB('TENANT_ADMIN');
        const first = await server.graphql<RegisterData>(
          REGISTER_DEVICES,
          { input: { tenantId: b.id, devices: [deviceInput(41, { uuid: 'BRAVO-SELF-1', hostname: 'bravo-self-1.example' })] } },
          token,
        );
        expect(first.body.errors).toBeUndefined();
        expect(first.body.data!.registerDevices).toMatchObject({ created: 1, updated: 0 });
        const second = await server.graphql<RegisterData>(
          REGISTER_DEVICES,
          { input: { devices: [deviceInput(41, { uuid: 'BRAVO-SELF-1', hostname: 'bravo-self-renamed.example' })] } },
          token,
        );
        expect(second.body.data!.registerDevices).toMatchObject({ created: 0, updated: 1 });
        expect(second.body.data!.registerDevices.devices[0].tenant.id).toBe(b.id);
        expect(await server.sql('select tenant_id, hostname from device where uuid = $1', ['BRAVO-SELF-1'])).toEqual([
          { tenant_id: b.uuid, hostname: 'bravo-self-renamed.example' },
        ]);
      });
    },

    'Mutation.createTenant': () => {
      it.each(TENANT_ROLES)(
        "answers a %s of A FORBIDDEN whether or not the slug is B's, so tenant slugs cannot be probed",
        async (role) => {
          const taken = await server.graphql(CREATE_TENANT, { input: { name: 'Probe', slug: b.slug } }, tokenA(role));
          const free = await server.graphql(CREATE_TENANT, { input: { name: 'Probe', slug: 'probe-free-slug' } }, tokenA(role));
          expect(taken.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
          expect(errorShape(taken, b.slug)).toEqual(errorShape(free, 'probe-free-slug'));
          expect(await server.sql('select slug, name from tenant where slug in ($1, $2) order by slug', [b.slug, 'probe-free-slug'])).toEqual([
            { slug: b.slug, name: 'Bravo Secret Corp' },
          ]);
        },
      );

      it('does not make a tenant created by a provider visible to A', async () => {
        const created = await server.graphql<{ createTenant: TenantNode }>(
          CREATE_TENANT,
          { input: { name: 'Charlie', slug: 'iso-charlie' } },
          server.token('PROVIDER_ADMIN'),
        );
        expect(created.body.errors).toBeUndefined();
        const c = created.body.data!.createTenant;
        expect((await server.graphql(TENANT, { id: c.id }, tokenA('TENANT_ADMIN'))).body).toEqual({ data: { tenant: null } });
        const list = await server.graphql<{ tenants: { edges: { node: TenantNode }[] } }>(TENANTS, { first: 100 }, tokenA('TENANT_ADMIN'));
        expect(list.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([a.id]);
      });
    },
  };

  for (const [operation, suite] of Object.entries(crossTenantSuites)) describe(operation, suite);

  describe('spellings of B\'s ids', () => {
    const variants = (): [string, string][] => [
      ['global id', b.id],
      ['bare uuid', b.uuid],
      ['upper-case bare uuid', b.uuid.toUpperCase()],
      ['bare uuid with spaces', ` ${b.uuid} `],
      ['global id of the upper-case uuid', Buffer.from(`Tenant:${b.uuid.toUpperCase()}`).toString('base64url')],
      ['padded standard base64 global id', Buffer.from(`Tenant:${b.uuid}`).toString('base64')],
      ['lower-case type name', Buffer.from(`tenant:${b.uuid}`).toString('base64url')],
      ['Device type over the tenant uuid', Buffer.from(`Device:${b.uuid}`).toString('base64url')],
    ];

    it.each(TENANT_ROLES)("gives a %s of A nothing of B's under any spelling of B's tenant id", async (role) => {
      const token = tokenA(role);
      for (const [label, id] of variants()) {
        for (const [query, vars] of [
          [TENANT, { id }],
          [NODE, { id }],
          [DEVICES, { tenantId: id, first: 100 }],
        ] as const) {
          const res = await server.graphql(query, vars, token);
          expect({ label, leaksB: /bravo/i.test(JSON.stringify(res.body)) }).toEqual({ label, leaksB: false });
          expect(res.body.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('INTERNAL_SERVER_ERROR');
        }
      }
      // Control: the same spellings that a provider may use do lead to B.
      const provider = await server.graphql<{ tenant: TenantNode | null }>(TENANT, { id: b.uuid.toUpperCase() }, server.token('PROVIDER_OPERATOR'));
      expect(provider.body.data!.tenant?.slug).toBe(b.slug);
    });
  });

  it('has a cross-tenant suite for every Query, Mutation and Subscription field of the schema', () => {
    const schema = getSchema();
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    const operations = roots.flatMap((type) => (type ? Object.keys(type.getFields()).map((f) => `${type.name}.${f}`) : []));
    expect(operations.length).toBeGreaterThan(0);
    const uncovered = operations.filter((op) => !(op in crossTenantSuites));
    expect({ uncovered }).toEqual({ uncovered: [] });
    // And no stale entries: every covered operation still exists.
    const stale = Object.keys(crossTenantSuites).filter((op) => !operations.includes(op));
    expect({ stale }).toEqual({ stale: [] });
  });
});
