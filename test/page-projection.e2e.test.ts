import { getNamedType, isCompositeType, isObjectType, type GraphQLField } from 'graphql';
import { ASSIGNMENT_COLUMN_MAP } from '../src/modules/assignments/assignment.types';
import { DEVICE_COLUMNS } from '../src/modules/devices/device.service';
import { LICENSE_COLUMNS } from '../src/modules/licenses/license.service';
import { getSchema } from '../src/server/schema';
import {
  addDevices,
  addLines,
  assign,
  createAccountTenant,
  createTrialTenant,
  dnaTag,
  globalId,
  gqlData,
  HSEC_TAG,
  type AccountTenant,
} from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * A page of devices reads only the columns of the fields the query asks for (common/projection.ts)
 * and hands the devices their assignments and lines (common/preload.ts). Whatever is asked for, each
 * field's value must be the one the page answers when every field is asked for: one query per field of
 * Device, LicenseAssignment and License, compared with the full page, for tenants whose devices hold
 * active, pending, HSEC, postpaid and over-allocated lines, and for retired devices.
 */
type Obj = Record<string, unknown>;
type PageNode = Obj & { id: string; assignments?: (Obj & { id: string; license?: (Obj & { id: string }) | null })[] };
type Page = { devices: { edges: { node: PageNode }[] } };

const schema = getSchema();
const fieldsOf = (type: string): GraphQLField<unknown, unknown>[] => {
  const t = schema.getType(type);
  if (!isObjectType(t)) throw new Error(`${type} is not an object type`);
  return Object.values(t.getFields());
};
/** A field as a query selects it: an object's id (or its typename when it has none). */
function selection(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  if (!isCompositeType(named)) return field.name;
  return `${field.name} { ${isObjectType(named) && named.getFields().id ? 'id' : '__typename'} }`;
}
const all = (type: string, except: string[] = []): string =>
  fieldsOf(type)
    .filter((f) => !except.includes(f.name))
    .map(selection)
    .join(' ');

const pageQuery = (node: string): string =>
  `query($tenantId: ID, $filter: DeviceFilter) { devices(first: 50, tenantId: $tenantId, filter: $filter) { edges { node { ${node} } } } }`;
const FULL = pageQuery(
  `${all('Device', ['assignments'])} assignments { ${all('LicenseAssignment', ['license'])} license { ${all('License')} } }`,
);

describe('a page of devices reads the columns of the fields asked for', () => {
  let server: TestServer;
  let tenant: AccountTenant;
  let trial: AccountTenant;

  beforeAll(async () => {
    server = await startTestServer();
    tenant = await createAccountTenant(server, 'projection');
    trial = await createTrialTenant(server, 'projection-trial');
    const [, , manual] = await addLines(server, tenant, [
      { tag: dnaTag('A', 'T1'), billingType: 'PREPAID', quantity: 30 },
      { tag: dnaTag('E', 'T1'), billingType: 'POSTPAID', quantity: 0 },
      { tag: dnaTag('P', 'T1'), billingType: 'PREPAID', quantity: 6, endInDays: 10 },
      { tag: HSEC_TAG, billingType: 'PREPAID', quantity: 10 },
    ]);
    const devices = await addDevices(server, tenant, 24);
    await assign(server, tenant.admin, { deviceIds: devices.slice(0, 8), level: 'ADVANTAGE', tier: 'T1' });
    await assign(server, tenant.admin, { deviceIds: devices.slice(8, 14), level: 'ESSENTIALS', tier: 'T1', billingType: 'POSTPAID' });
    await assign(server, tenant.admin, { deviceIds: devices.slice(14, 20), level: 'PREMIER', tier: 'T1' });
    await assign(server, tenant.admin, { deviceIds: devices.slice(0, 4), hsec: true });
    // The premier line ends up over-allocated (6 holders, quantity 3).
    await gqlData(server, 'mutation($input: UpdateLicenseInput!) { updateLicense(input: $input) { changed } }', { input: { id: manual, quantity: 3 } }, server.token('PROVIDER_ADMIN'));
    await gqlData(
      server,
      'mutation($input: DecommissionDevicesInput!) { decommissionDevices(input: $input) { decommissioned } }',
      { input: { deviceIds: devices.slice(20, 23) } },
      tenant.admin,
    );
    const pending = await addDevices(server, trial, 5);
    await assign(server, trial.admin, { deviceIds: pending.slice(0, 3), level: 'ADVANTAGE', tier: 'T1' });
  });
  afterAll(() => server.close());

  const viewers = (): [string, string, Obj][] => [
    ['tenant operator', tenant.operator, {}],
    ['tenant operator, retired devices', tenant.operator, { filter: { decommissioned: true } }],
    ['provider, one tenant', server.token('PROVIDER_OPERATOR'), { tenantId: tenant.id }],
    ['trial tenant (pending assignments)', trial.operator, {}],
  ];

  it('answers every field of Device, LicenseAssignment and License asked for alone as the full page does', async () => {
    for (const [who, token, variables] of viewers()) {
      const full = await gqlData<Page>(server, FULL, variables, token);
      const nodes = full.devices.edges.map((e) => e.node);
      expect(nodes.length).toBeGreaterThan(0);
      const byId = new Map(nodes.map((n) => [n.id, n]));

      for (const field of fieldsOf('Device')) {
        const node = field.name === 'assignments' ? 'id assignments { id }' : `id ${selection(field)}`;
        const page = await gqlData<Page>(server, pageQuery(node), variables, token);
        expect(page.devices.edges.map((e) => e.node.id)).toEqual(nodes.map((n) => n.id));
        for (const { node: got } of page.devices.edges) {
          const want = byId.get(got.id) as PageNode;
          const value = field.name === 'assignments' ? want.assignments?.map((a) => ({ id: a.id })) : want[field.name];
          expect({ who, field: field.name, value: got[field.name] }).toEqual({ who, field: field.name, value });
        }
      }
      for (const field of fieldsOf('LicenseAssignment')) {
        const inner = field.name === 'license' ? 'license { id }' : selection(field);
        const page = await gqlData<Page>(server, pageQuery(`id assignments { id ${inner} }`), variables, token);
        for (const { node: got } of page.devices.edges) {
          const want = byId.get(got.id) as PageNode;
          const value = want.assignments?.map((a) => ({
            id: a.id,
            [field.name]: field.name === 'license' ? (a.license ? { id: a.license.id } : null) : a[field.name],
          }));
          expect({ who, field: field.name, value: got.assignments }).toEqual({ who, field: field.name, value });
        }
      }
      for (const field of fieldsOf('License')) {
        const page = await gqlData<Page>(server, pageQuery(`id assignments { id license { id ${selection(field)} } }`), variables, token);
        for (const { node: got } of page.devices.edges) {
          const want = byId.get(got.id) as PageNode;
          const value = want.assignments?.map((a) => ({ id: a.id, license: a.license ? { id: a.license.id, [field.name]: a.license[field.name] } : null }));
          expect({ who, field: field.name, value: got.assignments }).toEqual({ who, field: field.name, value });
        }
      }
    }
  });

  it('has the values a reader expects in the full page (the comparison above is not of empty pages)', async () => {
    const full = await gqlData<Page>(server, FULL, {}, tenant.operator);
    const held = full.devices.edges.flatMap((e) => e.node.assignments ?? []);
    const lines = held.flatMap((a) => (a.license ? [a.license] : []));
    expect(held.filter((a) => a.category === 'HSEC')).toHaveLength(4);
    expect(lines.some((l) => l.available === null)).toBe(true); // postpaid
    expect(lines.some((l) => l.overAllocated === true && l.inUse === 6 && l.available === 0)).toBe(true);
    expect(lines.some((l) => l.overAllocated === false && typeof l.available === 'number' && (l.available as number) > 0)).toBe(true);
    expect(full.devices.edges.some((e) => typeof e.node.systemIp === 'string' && typeof e.node.createdAt === 'string')).toBe(true);
    const retired = await gqlData<Page>(server, FULL, { filter: { decommissioned: true } }, tenant.operator);
    expect(retired.devices.edges.map((e) => e.node.state)).toEqual(['DECOMMISSIONED', 'DECOMMISSIONED', 'DECOMMISSIONED']);
    expect(retired.devices.edges.every((e) => typeof e.node.decommissionedAt === 'string' && e.node.decommissionedBy)).toBe(true);
    const pending = await gqlData<Page>(server, FULL, {}, trial.operator);
    expect(pending.devices.edges.flatMap((e) => e.node.assignments ?? []).filter((a) => a.status === 'PENDING_RECONCILIATION' && a.license === null)).toHaveLength(3);
  });

  it('does not hand the rest of the request what a projected page read: node(id) in the same document gets every field', async () => {
    const full = await gqlData<Page>(server, FULL, {}, tenant.operator);
    const device = full.devices.edges[0].node;
    const assignmentFields = `${all('LicenseAssignment', ['license'])} license { ${all('License')} }`;
    const both = await gqlData<Page & { node: { assignments: Obj[] } }>(
      server,
      `query($id: ID!) { devices(first: 50) { edges { node { id assignments { id license { id } } } } }
         node(id: $id) { ... on Device { assignments { ${assignmentFields} } } } }`,
      { id: device.id },
      tenant.operator,
    );
    expect(both.node.assignments).toEqual(device.assignments);
    expect(both.node.assignments.length).toBeGreaterThan(0);
  });

  it('reads only the asking tenant, projected or not, and refuses another tenant by id', async () => {
    const PROJECTED = pageQuery('id assignments { id license { id } }');
    const idsOf = (p: Page): { devices: string[]; lines: string[] } => ({
      devices: p.devices.edges.map((e) => e.node.id),
      lines: [...new Set(p.devices.edges.flatMap((e) => (e.node.assignments ?? []).flatMap((a) => (a.license ? [a.license.id] : []))))],
    });
    for (const [who, token] of [
      [tenant, tenant.operator],
      [trial, trial.operator],
    ] as const) {
      const stored = await server.sql<{ id: string }>('select id from device where tenant_id = $1 and decommissioned_at is null', [who.uuid]);
      const lines = await server.sql<{ id: string }>('select id from license where tenant_id = $1', [who.uuid]);
      for (const query of [PROJECTED, FULL]) {
        const seen = idsOf(await gqlData<Page>(server, query, {}, token));
        expect(seen.devices.sort()).toEqual(stored.map((d) => globalId('Device', d.id)).sort());
        for (const line of seen.lines) expect(lines.map((l) => globalId('License', l.id))).toContain(line);
      }
    }
    const refused = await server.graphql(PROJECTED, { tenantId: tenant.id }, trial.operator);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(refused.body.data?.devices ?? null).toBeNull();
  });

  it('names every field of the three types in its column map, so none of them reads every column by default', () => {
    for (const [type, map] of [
      ['Device', DEVICE_COLUMNS],
      ['LicenseAssignment', ASSIGNMENT_COLUMN_MAP],
      ['License', LICENSE_COLUMNS],
    ] as const) {
      expect({ type, missing: fieldsOf(type).map((f) => f.name).filter((n) => !Object.hasOwn(map.fields, n)) }).toEqual({ type, missing: [] });
      for (const columns of Object.values(map.fields)) for (const c of columns) expect(map.all).toContain(c);
    }
  });
});
