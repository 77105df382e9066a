import { createTenant, deviceInput, registerDevices, REGISTER_DEVICES, type DeviceInputFixture, type TenantFixture } from './support/fixtures';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/harness';

const REGISTER_FULL = `mutation($input: RegisterDevicesInput!) {
  registerDevices(input: $input) {
    created updated
    devices { id uuid hostname systemIp model kind mode softwareVersion siteId hsecCompatible tenant { id slug } }
  }
}`;
const LIST = `query($tenantId: ID, $filter: DeviceFilter, $first: Int, $after: String) {
  devices(tenantId: $tenantId, filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id uuid hostname } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;
const NODE = `query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Device { uuid hostname systemIp model kind mode softwareVersion siteId hsecCompatible tenant { id slug } }
  }
}`;

interface RegisteredDevice {
  id: string;
  uuid: string;
  hostname: string;
  systemIp: string | null;
  model: string;
  kind: string;
  mode: string;
  softwareVersion: string;
  siteId: string | null;
  hsecCompatible: boolean;
  tenant: { id: string; slug: string };
}
interface RegisterResult {
  registerDevices: { created: number; updated: number; devices: RegisteredDevice[] };
}
interface DevicePage {
  devices: {
    totalCount: number;
    edges: { cursor: string; node: { id: string; uuid: string; hostname: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  };
}
interface InvalidDevice {
  index: number;
  uuid: string | null;
  field: string;
  reason: string;
}

describe('devices', () => {
  let server: TestServer;
  let slugCounter = 0;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A fresh tenant per test, so no test depends on another's devices. */
  const newTenant = (label: string): Promise<TenantFixture> => createTenant(server, `dev-${label}-${++slugCounter}`);
  const deviceCount = async (tenant: TenantFixture): Promise<number> => {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from device where tenant_id = $1', [tenant.uuid]);
    return row.n;
  };
  const register = (tenant: TenantFixture, devices: DeviceInputFixture[], token = server.token('TENANT_ADMIN', tenant.uuid)) =>
    server.graphql<RegisterResult>(REGISTER_FULL, { input: { devices } }, token);
  const list = (tenant: TenantFixture, variables: Record<string, unknown>): Promise<GraphQLResponse<DevicePage>> =>
    server.graphql<DevicePage>(LIST, variables, server.token('TENANT_OPERATOR', tenant.uuid));

  describe('registerDevices', () => {
    it('creates devices and returns them in input order with their tenant and counts', async () => {
      const tenant = await newTenant('create');
      const input = [deviceInput(3), deviceInput(1, { systemIp: null, siteId: null }), deviceInput(2)];
      const res = await register(tenant, input);

      expect(res.body.errors).toBeUndefined();
      const payload = res.body.data!.registerDevices;
      expect(payload).toMatchObject({ created: 3, updated: 0 });
      expect(payload.devices.map((d) => d.uuid)).toEqual(['C8K-000003', 'C8K-000001', 'C8K-000002']);
      expect(payload.devices[1]).toMatchObject({
        hostname: 'edge-000001.example',
        systemIp: null,
        siteId: null,
        model: 'C8000V',
        kind: 'IOS_XE_SDWAN',
        mode: 'CONTROLLER',
        softwareVersion: '17.9.3a',
        hsecCompatible: false,
        tenant: { id: tenant.id, slug: tenant.slug },
      });
      expect(payload.devices[0]).toMatchObject({ systemIp: '10.0.0.3', siteId: '103' });
      expect(new Set(payload.devices.map((d) => d.id)).size).toBe(3);
      const rows = await server.sql('select uuid, hostname, system_ip, software_version from device where tenant_id = $1 order by uuid', [
        tenant.uuid,
      ]);
      expect(rows).toEqual([
        { uuid: 'C8K-000001', hostname: 'edge-000001.example', system_ip: null, software_version: '17.9.3a' },
        { uuid: 'C8K-000002', hostname: 'edge-000002.example', system_ip: '10.0.0.2', software_version: '17.9.3a' },
        { uuid: 'C8K-000003', hostname: 'edge-000003.example', system_ip: '10.0.0.3', software_version: '17.9.3a' },
      ]);
    });

    it('updates devices re-registered with the same uuids and keeps their ids', async () => {
      const tenant = await newTenant('update');
      const first = await register(tenant, [deviceInput(1), deviceInput(2)]);
      const ids = first.body.data!.registerDevices.devices.map((d) => d.id);

      const again = await register(tenant, [
        deviceInput(2, { hostname: 'renamed-2.example', softwareVersion: '17.12.1', systemIp: '192.168.0.2' }),
        deviceInput(1, { hostname: 'renamed-1.example', mode: 'AUTONOMOUS', siteId: null }),
      ]);

      expect(again.body.errors).toBeUndefined();
      const payload = again.body.data!.registerDevices;
      expect(payload).toMatchObject({ created: 0, updated: 2 });
      expect(payload.devices.map((d) => d.id)).toEqual([ids[1], ids[0]]);
      expect(payload.devices[0]).toMatchObject({ hostname: 'renamed-2.example', softwareVersion: '17.12.1', systemIp: '192.168.0.2' });
      expect(payload.devices[1]).toMatchObject({ hostname: 'renamed-1.example', mode: 'AUTONOMOUS', siteId: null });
      expect(await server.sql('select uuid, hostname, mode, site_id from device where tenant_id = $1 order by uuid', [tenant.uuid])).toEqual([
        { uuid: 'C8K-000001', hostname: 'renamed-1.example', mode: 'AUTONOMOUS', site_id: null },
        { uuid: 'C8K-000002', hostname: 'renamed-2.example', mode: 'CONTROLLER', site_id: '102' },
      ]);
    });

    it('counts new and existing uuids separately in one call', async () => {
      const tenant = await newTenant('mixed');
      await register(tenant, [deviceInput(1)]);
      const res = await register(tenant, [deviceInput(1), deviceInput(2), deviceInput(3)]);
      expect(res.body.data?.registerDevices).toMatchObject({ created: 2, updated: 1 });
      expect(await deviceCount(tenant)).toBe(3);
    });

    it('upserts by uuid within the tenant only: the same uuid in another tenant is another device', async () => {
      const a = await newTenant('same-uuid-a');
      const b = await newTenant('same-uuid-b');
      await register(a, [deviceInput(1)]);
      const res = await register(b, [deviceInput(1, { hostname: 'tenant-b.example' })]);
      expect(res.body.data?.registerDevices).toMatchObject({ created: 1, updated: 0 });
      expect(await server.sql('select hostname from device where tenant_id = $1', [a.uuid])).toEqual([{ hostname: 'edge-000001.example' }]);
    });

    it('lets a provider admin register devices for the tenant it names', async () => {
      const tenant = await newTenant('provider');
      const res = await server.graphql<RegisterResult>(
        REGISTER_FULL,
        { input: { tenantId: tenant.id, devices: [deviceInput(1)] } },
        server.token('PROVIDER_ADMIN'),
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.registerDevices.devices[0].tenant).toEqual({ id: tenant.id, slug: tenant.slug });
      expect(await deviceCount(tenant)).toBe(1);
    });

    it('refuses a provider admin that does not name the tenant with BAD_USER_INPUT and writes nothing', async () => {
      const marker = deviceInput(1, { uuid: 'PROVIDER-NO-TENANT-1' });
      const res = await server.graphql(REGISTER_DEVICES, { input: { devices: [marker] } }, server.token('PROVIDER_ADMIN'));
      expect(res.status).toBeLessThan(500);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain('tenantId');
      expect(await server.sql('select count(*)::int as n from device where uuid = $1', [marker.uuid])).toEqual([{ n: 0 }]);
    });

    it("answers NOT_FOUND when a tenant admin names another tenant, and writes nothing there", async () => {
      const mine = await newTenant('mine');
      const other = await newTenant('other');
      const res = await server.graphql(
        REGISTER_DEVICES,
        { input: { tenantId: other.id, devices: [deviceInput(1)] } },
        server.token('TENANT_ADMIN', mine.uuid),
      );
      expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(await deviceCount(other)).toBe(0);
      expect(await deviceCount(mine)).toBe(0);
    });

    it('answers FORBIDDEN to a tenant operator and writes nothing', async () => {
      const tenant = await newTenant('operator');
      const res = await register(tenant, [deviceInput(1)], server.token('TENANT_OPERATOR', tenant.uuid));
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await deviceCount(tenant)).toBe(0);
    });

    it('registers 10,000 devices in a single request', async () => {
      const tenant = await newTenant('bulk');
      const input = Array.from({ length: 10_000 }, (_, i) => deviceInput(i));
      const res = await server.graphql<{ registerDevices: { created: number; updated: number; devices: { uuid: string }[] } }>(
        'mutation($input: RegisterDevicesInput!) { registerDevices(input: $input) { created updated devices { uuid } } }',
        { input: { devices: input } },
        server.token('TENANT_ADMIN', tenant.uuid),
      );
      expect(res.body.errors).toBeUndefined();
      const payload = res.body.data!.registerDevices;
      expect(payload).toMatchObject({ created: 10_000, updated: 0 });
      expect(payload.devices.map((d) => d.uuid)).toEqual(input.map((d) => d.uuid));
      expect(await deviceCount(tenant)).toBe(10_000);
    }, 30_000);
  });

  describe('registerDevices validation: the whole call is refused and nothing is written', () => {
    type Case = [label: string, devices: () => DeviceInputFixture[], expected: { index: number; field: string }];
    const withBadRow = (bad: Partial<DeviceInputFixture>): (() => DeviceInputFixture[]) => () => [
      deviceInput(0),
      deviceInput(1, bad),
      deviceInput(2),
    ];
    const cases: Case[] = [
      ['a host name with an underscore', withBadRow({ hostname: 'bad_host.example' }), { index: 1, field: 'hostname' }],
      ['a host name label ending in a hyphen', withBadRow({ hostname: 'edge-.example' }), { index: 1, field: 'hostname' }],
      ['a software version that is not a release', withBadRow({ softwareVersion: 'latest' }), { index: 1, field: 'softwareVersion' }],
      ['a system IP outside IPv4', withBadRow({ systemIp: '10.0.0.256' }), { index: 1, field: 'systemIp' }],
      ['a site id of zero', withBadRow({ siteId: '0' }), { index: 1, field: 'siteId' }],
      ['a site id above 4294967295', withBadRow({ siteId: '4294967296' }), { index: 1, field: 'siteId' }],
      ['an empty uuid', withBadRow({ uuid: '' }), { index: 1, field: 'uuid' }],
      [
        'a vEdge in AUTONOMOUS mode',
        withBadRow({ kind: 'VEDGE', model: 'vEdge 2000', mode: 'AUTONOMOUS', softwareVersion: '20.9.1', hsecCompatible: false }),
        { index: 1, field: 'mode' },
      ],
      [
        'a vEdge marked HSEC compatible',
        withBadRow({ kind: 'VEDGE', model: 'vEdge 2000', softwareVersion: '20.9.1', hsecCompatible: true }),
        { index: 1, field: 'hsecCompatible' },
      ],
      [
        'a uuid repeated within the call',
        () => [deviceInput(0), deviceInput(1), deviceInput(2, { uuid: deviceInput(0).uuid })],
        { index: 2, field: 'uuid' },
      ],
    ];

    it.each(cases)('refuses %s with BAD_USER_INPUT naming the row and field', async (label, devices, expected) => {
      const tenant = await newTenant('invalid');
      const res = await register(tenant, devices());

      expect(res.status).toBeLessThan(500);
      const error = res.body.errors?.[0];
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error?.message).toContain(`devices[${expected.index}]`);
      expect(error?.message).toContain(expected.field);
      expect(error?.extensions?.invalidDevices).toEqual([expect.objectContaining(expected)]);
      expect(res.body.data?.registerDevices ?? null).toBeNull();
      expect(await deviceCount(tenant)).toBe(0);
    });

    it('names the earlier row a duplicate uuid repeats', async () => {
      const tenant = await newTenant('dup');
      const res = await register(tenant, [deviceInput(0), deviceInput(1), deviceInput(2, { uuid: deviceInput(0).uuid })]);
      const [problem] = res.body.errors?.[0].extensions?.invalidDevices as InvalidDevice[];
      expect(problem).toMatchObject({ index: 2, uuid: deviceInput(0).uuid, field: 'uuid' });
      expect(problem.reason).toContain('devices[0]');
    });

    it('lists every offending row, with each of its problems, in one answer', async () => {
      const tenant = await newTenant('many-bad');
      const devices = Array.from({ length: 10 }, (_, i) => deviceInput(i));
      devices[3] = deviceInput(3, { hostname: 'no spaces allowed', systemIp: 'not-an-ip' });
      devices[7] = deviceInput(7, { softwareVersion: 'v17' });
      const res = await register(tenant, devices);

      const error = res.body.errors?.[0];
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      const problems = (error?.extensions?.invalidDevices as InvalidDevice[]).map((p) => [p.index, p.field]);
      expect(problems).toEqual([
        [3, 'hostname'],
        [3, 'systemIp'],
        [7, 'softwareVersion'],
      ]);
      expect(error?.message).toContain('devices[3]');
      expect(error?.message).toContain('devices[7]');
      expect(await deviceCount(tenant)).toBe(0);
    });

    it('leaves already registered devices untouched when a later call is refused', async () => {
      const tenant = await newTenant('untouched');
      await register(tenant, [deviceInput(0)]);
      const res = await register(tenant, [deviceInput(0, { hostname: 'changed.example' }), deviceInput(1, { siteId: 'abc' })]);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(await server.sql('select uuid, hostname from device where tenant_id = $1', [tenant.uuid])).toEqual([
        { uuid: 'C8K-000000', hostname: 'edge-000000.example' },
      ]);
    });

    it('refuses an empty device list with BAD_USER_INPUT', async () => {
      const tenant = await newTenant('empty');
      const res = await register(tenant, []);
      expect(res.status).toBeLessThan(500);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toMatch(/devices must not be empty/);
      expect(await deviceCount(tenant)).toBe(0);
    });

    it('refuses 10,001 devices with BAD_USER_INPUT naming the 10,000 limit and writes none of them', async () => {
      const tenant = await newTenant('over-limit');
      const res = await register(
        tenant,
        Array.from({ length: 10_001 }, (_, i) => deviceInput(i)),
      );
      expect(res.status).toBeLessThan(500);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toMatch(/at most 10,?000 devices/);
      expect(res.body.errors?.[0].message).toMatch(/10,?001/);
      expect(await deviceCount(tenant)).toBe(0);
    }, 30_000);

    it('refuses an unknown kind written in the query with a GraphQL error code, not a server error', async () => {
      const tenant = await newTenant('enum-literal');
      const res = await server.graphql(
        `mutation { registerDevices(input: { devices: [{ uuid: "X-1", hostname: "x.example", model: "C8000V", kind: ROUTER,
           mode: CONTROLLER, softwareVersion: "17.9.3a" }] }) { created } }`,
        {},
        server.token('TENANT_ADMIN', tenant.uuid),
      );
      // A literal in the document is checked when the document is validated, before anything runs.
      expect(res.status).toBe(400);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.body.errors?.[0].message).toBe('Value "ROUTER" does not exist in "DeviceKind" enum.');
      expect(await deviceCount(tenant)).toBe(0);
    });

    it('refuses an unknown kind passed in variables with BAD_USER_INPUT, not a server error', async () => {
      const tenant = await newTenant('enum-variable');
      const res = await register(tenant, [deviceInput(1, { kind: 'ROUTER' as never })]);
      // A variable is checked when it is coerced to its type: the input was bad, the document fine.
      expect(res.status).toBe(400);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toMatch(/^Variable "\$input" got invalid value "ROUTER" at "input\.devices\[0\]\.kind"; Value "ROUTER" does not exist in "DeviceKind" enum\.$/);
      expect(await deviceCount(tenant)).toBe(0);
    });
  });

  describe('devices connection', () => {
    async function pageThrough(tenant: TenantFixture, first: number, filter?: Record<string, unknown>) {
      const pages: DevicePage['devices'][] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 1000; guard++) {
        const res = await list(tenant, { first, after, filter });
        expect(res.body.errors).toBeUndefined();
        const page: DevicePage['devices'] = res.body.data!.devices;
        pages.push(page);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      return pages;
    }

    describe('with 250 devices, several sharing a host name', () => {
      let tenant: TenantFixture;
      let expected: string[];

      beforeAll(async () => {
        tenant = await newTenant('pages');
        // 120 host names for 250 devices: page boundaries fall between devices with the same
        // host name, where only the id orders them.
        const devices = Array.from({ length: 250 }, (_, i) =>
          deviceInput(i, { hostname: `site-${String((i * 37) % 120).padStart(3, '0')}.example` }),
        );
        await registerDevices(server, server.token('TENANT_ADMIN', tenant.uuid), devices);
        expected = (await server.sql<{ uuid: string }>('select uuid from device where tenant_id = $1 order by hostname, id', [tenant.uuid])).map(
          (r) => r.uuid,
        );
        expect(expected).toHaveLength(250);
      });

      it.each([[100], [7]])('returns every device exactly once in host name, id order with first: %i', async (first) => {
        const pages = await pageThrough(tenant, first);

        const seen = pages.flatMap((p) => p.edges.map((e) => e.node.uuid));
        expect(seen).toEqual(expected);
        expect(pages).toHaveLength(Math.ceil(250 / first));
        for (const page of pages) expect(page.totalCount).toBe(250);
        for (const page of pages.slice(0, -1)) {
          expect(page.edges).toHaveLength(first);
          expect(page.pageInfo.hasNextPage).toBe(true);
          expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
        }
        expect(pages.at(-1)!.pageInfo.hasNextPage).toBe(false);
        expect(pages.every((p) => p.pageInfo.hasPreviousPage === false)).toBe(true);
      });

      it('orders host names as the database does, ties broken by id', async () => {
        const rows = await server.sql<{ uuid: string; hostname: string; id: string }>(
          'select uuid, hostname, id::text from device where tenant_id = $1 order by hostname, id limit 3',
          [tenant.uuid],
        );
        const res = await list(tenant, { first: 3 });
        expect(res.body.data!.devices.edges.map((e) => e.node.uuid)).toEqual(rows.map((r) => r.uuid));
        expect(rows[0].hostname).toBe(rows[1].hostname);
        expect(rows[0].id < rows[1].id).toBe(true);
      });

      it('returns the default page of 20 when first is omitted', async () => {
        const res = await list(tenant, {});
        expect(res.body.data!.devices.edges.map((e) => e.node.uuid)).toEqual(expected.slice(0, 20));
        expect(res.body.data!.devices.pageInfo.hasNextPage).toBe(true);
      });
    });

    it('keeps cursors stable when devices are added while a client pages', async () => {
      const tenant = await newTenant('stable');
      const token = server.token('TENANT_ADMIN', tenant.uuid);
      const original = Array.from({ length: 30 }, (_, i) => deviceInput(i, { hostname: `m-${String(i).padStart(3, '0')}.example` }));
      await registerDevices(server, token, original);

      const firstPage = (await list(tenant, { first: 10 })).body.data!.devices;
      expect(firstPage.edges.map((e) => e.node.hostname).at(-1)).toBe('m-009.example');
      // One device sorts before the cursor (the client has already passed its place), one after it.
      await registerDevices(server, token, [
        deviceInput(900, { hostname: 'a-before.example' }),
        deviceInput(901, { hostname: 'm-0155.example' }),
      ]);

      const seen = firstPage.edges.map((e) => e.node.uuid);
      let after = firstPage.pageInfo.endCursor;
      for (;;) {
        const page = (await list(tenant, { first: 10, after })).body.data!.devices;
        expect(page.totalCount).toBe(32);
        seen.push(...page.edges.map((e) => e.node.uuid));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).not.toContain(deviceInput(900).uuid);
      expect(seen).toContain(deviceInput(901).uuid);
      expect(seen.filter((u) => u !== deviceInput(901).uuid)).toEqual(original.map((d) => d.uuid));
    });

    it('is empty, with no cursors, for a tenant without devices', async () => {
      const tenant = await newTenant('none');
      const res = await list(tenant, { first: 10 });
      expect(res.body.data!.devices).toEqual({
        totalCount: 0,
        edges: [],
        pageInfo: { hasNextPage: false, hasPreviousPage: false, endCursor: null },
      });
    });

    it.each([[0], [101], [-1]])('refuses first: %i with BAD_USER_INPUT', async (first) => {
      const tenant = await newTenant('first');
      const res = await list(tenant, { first });
      expect(res.status).toBeLessThan(500);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain('first');
    });

    it('refuses a cursor it did not issue with BAD_USER_INPUT', async () => {
      const tenant = await newTenant('cursor');
      const res = await list(tenant, { first: 5, after: 'bm90LWEtY3Vyc29y' });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });

    it.each([
      ['a non-uuid id', ['edge-000001.example', 'not-a-uuid']],
      ['numbers', [1, 2]],
      ['a NUL character in the host name', ['edge\u0000', '00000000-0000-4000-8000-000000000000']],
    ])('refuses a forged cursor holding %s with BAD_USER_INPUT, not an internal error', async (_label, key) => {
      const tenant = await newTenant('forged');
      const after = Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
      const res = await list(tenant, { first: 5, after });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain('after');
    });

    it.each([['search'], ['model']])('refuses a NUL character in filter.%s with BAD_USER_INPUT, not an internal error', async (key) => {
      const tenant = await newTenant('nul');
      const res = await list(tenant, { first: 5, filter: { [key]: 'edge\u0000' } });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain(key);
    });

    describe('filters', () => {
      let tenant: TenantFixture;
      beforeAll(async () => {
        tenant = await newTenant('filters');
        await registerDevices(server, server.token('TENANT_ADMIN', tenant.uuid), [
          deviceInput(1, { hostname: 'Branch-North.example', model: 'C8000V' }),
          deviceInput(2, { hostname: 'branch-south.example', model: 'ISR4331', mode: 'AUTONOMOUS' }),
          deviceInput(3, { hostname: 'core-1.example', model: 'vEdge 2000', kind: 'VEDGE', softwareVersion: '20.9.1', hsecCompatible: false }),
          deviceInput(4, { hostname: 'dc-edge.example', model: 'C8300' }),
          deviceInput(5, { hostname: 'dc-edge2.example', model: 'C8000V', mode: 'AUTONOMOUS' }),
        ]);
      });

      const hostnames = async (filter: Record<string, unknown>): Promise<{ names: string[]; totalCount: number }> => {
        const res = await list(tenant, { first: 100, filter });
        expect(res.body.errors).toBeUndefined();
        const conn = res.body.data!.devices;
        return { names: conn.edges.map((e) => e.node.hostname).sort(), totalCount: conn.totalCount };
      };

      it('filters by kind', async () => {
        expect(await hostnames({ kind: 'VEDGE' })).toEqual({ names: ['core-1.example'], totalCount: 1 });
        expect((await hostnames({ kind: 'IOS_XE_SDWAN' })).totalCount).toBe(4);
      });

      it('filters by mode', async () => {
        expect(await hostnames({ mode: 'AUTONOMOUS' })).toEqual({ names: ['branch-south.example', 'dc-edge2.example'], totalCount: 2 });
      });

      it('filters by exact model', async () => {
        expect(await hostnames({ model: 'C8000V' })).toEqual({ names: ['Branch-North.example', 'dc-edge2.example'], totalCount: 2 });
        expect(await hostnames({ model: 'C8000' })).toEqual({ names: [], totalCount: 0 });
      });

      it('searches host names by case-insensitive substring', async () => {
        expect(await hostnames({ search: 'BRANCH' })).toEqual({ names: ['Branch-North.example', 'branch-south.example'], totalCount: 2 });
        expect(await hostnames({ search: 'h-n' })).toEqual({ names: ['Branch-North.example'], totalCount: 1 });
      });

      it.each([['%'], ['_'], ['branch%'], ['dc_edge'], ['\\']])('treats %j in a search as a literal character, not a wildcard', async (search) => {
        expect(await hostnames({ search })).toEqual({ names: [], totalCount: 0 });
      });

      it('combines filters', async () => {
        expect(await hostnames({ model: 'C8000V', mode: 'AUTONOMOUS', search: 'dc' })).toEqual({ names: ['dc-edge2.example'], totalCount: 1 });
        expect(await hostnames({ kind: 'VEDGE', search: 'branch' })).toEqual({ names: [], totalCount: 0 });
      });

      it('pages through a filtered list with totalCount counting the filtered devices', async () => {
        const pages = await pageThrough(tenant, 1, { search: 'dc' });
        expect(pages.map((p) => p.edges.map((e) => e.node.hostname))).toEqual([['dc-edge.example'], ['dc-edge2.example']]);
        expect(pages.map((p) => p.totalCount)).toEqual([2, 2]);
      });
    });

    it('shows a provider every tenant without tenantId, and one tenant with it', async () => {
      const a = await newTenant('prov-a');
      const b = await newTenant('prov-b');
      await registerDevices(server, server.token('TENANT_ADMIN', a.uuid), [deviceInput(1, { hostname: 'zz-provider-view-a.example' })]);
      await registerDevices(server, server.token('TENANT_ADMIN', b.uuid), [deviceInput(1, { hostname: 'zz-provider-view-b.example' })]);
      const token = server.token('PROVIDER_OPERATOR');

      const all = await server.graphql<DevicePage>(LIST, { first: 100, filter: { search: 'zz-provider-view' } }, token);
      expect(all.body.data!.devices.edges.map((e) => e.node.hostname)).toEqual(['zz-provider-view-a.example', 'zz-provider-view-b.example']);
      const one = await server.graphql<DevicePage>(LIST, { tenantId: b.id, first: 100, filter: { search: 'zz-provider-view' } }, token);
      expect(one.body.data!.devices.edges.map((e) => e.node.hostname)).toEqual(['zz-provider-view-b.example']);
    });
  });

  describe('node(id)', () => {
    it('returns a device with its fields by global id', async () => {
      const tenant = await newTenant('node');
      const input = deviceInput(42, { hostname: 'node-lookup.example', siteId: '4294967295', hsecCompatible: true });
      const [registered] = await registerDevices(server, server.token('TENANT_ADMIN', tenant.uuid), [input]);

      const res = await server.graphql<{ node: Record<string, unknown> }>(NODE, { id: registered.id }, server.token('TENANT_OPERATOR', tenant.uuid));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.node).toEqual({
        __typename: 'Device',
        id: registered.id,
        uuid: input.uuid,
        hostname: 'node-lookup.example',
        systemIp: input.systemIp,
        model: 'C8000V',
        kind: 'IOS_XE_SDWAN',
        mode: 'CONTROLLER',
        softwareVersion: '17.9.3a',
        siteId: '4294967295',
        hsecCompatible: true,
        tenant: { id: tenant.id, slug: tenant.slug },
      });
    });

    it("answers null for another tenant's device, as for an id that does not exist", async () => {
      const owner = await newTenant('node-owner');
      const stranger = await newTenant('node-stranger');
      const [registered] = await registerDevices(server, server.token('TENANT_ADMIN', owner.uuid), [deviceInput(1)]);

      const res = await server.graphql<{ node: unknown }>(NODE, { id: registered.id }, server.token('TENANT_OPERATOR', stranger.uuid));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.node).toBeNull();
    });
  });
});
