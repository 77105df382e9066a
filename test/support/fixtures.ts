import type { TestServer } from './harness';

export interface TenantFixture {
  /** Global id, as the API returns it. */
  id: string;
  /** Database uuid, as a JWT carries it. */
  uuid: string;
  slug: string;
}

export async function createTenant(server: TestServer, slug: string, name = `Tenant ${slug}`): Promise<TenantFixture> {
  const res = await server.graphql<{ createTenant: { id: string; slug: string } }>(
    'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }',
    { input: { name, slug } },
    server.token('PROVIDER_ADMIN'),
  );
  if (!res.body.data?.createTenant) throw new Error(`createTenant failed: ${JSON.stringify(res.body.errors)}`);
  const [row] = await server.sql<{ id: string }>('select id from tenant where slug = $1', [slug]);
  return { id: res.body.data.createTenant.id, uuid: row.id, slug };
}

export interface DeviceInputFixture {
  uuid: string;
  hostname: string;
  model: string;
  kind: 'IOS_XE_SDWAN' | 'VEDGE';
  mode: 'CONTROLLER' | 'AUTONOMOUS';
  softwareVersion: string;
  systemIp?: string | null;
  siteId?: string | null;
  hsecCompatible?: boolean;
}

export function deviceInput(n: number, overrides: Partial<DeviceInputFixture> = {}): DeviceInputFixture {
  return {
    uuid: `C8K-${String(n).padStart(6, '0')}`,
    hostname: `edge-${String(n).padStart(6, '0')}.example`,
    model: 'C8000V',
    kind: 'IOS_XE_SDWAN',
    mode: 'CONTROLLER',
    softwareVersion: '17.9.3a',
    systemIp: `10.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`,
    siteId: String(100 + n),
    hsecCompatible: n % 2 === 0,
    ...overrides,
  };
}

export const REGISTER_DEVICES = `mutation($input: RegisterDevicesInput!) {
  registerDevices(input: $input) { created updated devices { id uuid hostname tenant { id slug } } }
}`;

export async function registerDevices(
  server: TestServer,
  token: string,
  devices: DeviceInputFixture[],
  tenantId?: string,
): Promise<{ id: string; uuid: string; hostname: string }[]> {
  const res = await server.graphql<{ registerDevices: { devices: { id: string; uuid: string; hostname: string }[] } }>(
    REGISTER_DEVICES,
    { input: { tenantId, devices } },
    token,
  );
  if (!res.body.data?.registerDevices) throw new Error(`registerDevices failed: ${JSON.stringify(res.body.errors)}`);
  return res.body.data.registerDevices.devices;
}
