import { createTenant, deviceInput, registerDevices, type DeviceInputFixture, type TenantFixture } from './fixtures';
import type { GraphQLResponse, RoleName, TestServer } from './harness';

/** Small helpers for the assignment suite: tenants with accounts and license lines, devices, GraphQL calls. */

export type Level = 'E' | 'A' | 'P';
export type TierName = 'T0' | 'T1' | 'T2' | 'T3';
export type Billing = 'PREPAID' | 'POSTPAID';

export const LEVEL: Record<Level, 'ESSENTIALS' | 'ADVANTAGE' | 'PREMIER'> = { E: 'ESSENTIALS', A: 'ADVANTAGE', P: 'PREMIER' };
export const HSEC_TAG = 'regid.2019-03.com.cisco.HSECK9';

export function dnaTag(level: Level, tier: TierName): string {
  return `regid.2020-10.com.cisco.DSTACK_${tier}_${level}`;
}

export type GqlError = NonNullable<GraphQLResponse['body']['errors']>[number];

/** Data of a call expected to succeed; fails with the errors otherwise. */
export async function gqlData<T>(server: TestServer, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await server.graphql<T>(query, variables, token);
  if (res.body.errors?.length || !res.body.data) {
    throw new Error(`expected success, got ${JSON.stringify(res.body.errors)}`);
  }
  return res.body.data;
}

/** The single error of a call expected to fail. */
export async function gqlError(server: TestServer, query: string, variables: Record<string, unknown>, token: string): Promise<GqlError> {
  const res = await server.graphql(query, variables, token);
  if (!res.body.errors || res.body.errors.length !== 1) {
    throw new Error(`expected exactly one error, got data ${JSON.stringify(res.body.data)} errors ${JSON.stringify(res.body.errors)}`);
  }
  return res.body.errors[0];
}

/** The database uuid inside a global id (base64url of "<Type>:<uuid>"). */
export function dbId(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

export function globalId(type: 'Device' | 'License' | 'VirtualAccount' | 'LicenseAssignment', uuid: string): string {
  return Buffer.from(`${type}:${uuid}`, 'utf8').toString('base64url');
}

/** A calendar date `days` from today (UTC), as YYYY-MM-DD. Callers stay days away from any boundary. */
export function day(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export interface AccountTenant extends TenantFixture {
  admin: string;
  operator: string;
  /** Virtual account global ids by external id. */
  va: Record<string, string>;
}

const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) {
  configureSmartAccount(input: $input) { id virtualAccounts { id externalId } }
}`;
const MANAGE = `mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id managed } }`;

/** A tenant without a smart account (a trial): assignments stay pending until reconciled. */
export async function createTrialTenant(server: TestServer, slug: string): Promise<AccountTenant> {
  const tenant = await createTenant(server, slug);
  return {
    ...tenant,
    admin: server.token('TENANT_ADMIN', tenant.uuid),
    operator: server.token('TENANT_OPERATOR', tenant.uuid),
    va: {},
  };
}

/** Gives a tenant its smart account and virtual accounts, and manages the ones marked so. */
export async function configureAccounts(
  server: TestServer,
  tenant: AccountTenant,
  virtualAccounts: { externalId: string; name: string; managed: boolean }[],
): Promise<AccountTenant> {
  const data = await gqlData<{ configureSmartAccount: { virtualAccounts: { id: string; externalId: string }[] } }>(
    server,
    CONFIGURE,
    {
      input: {
        domain: `${tenant.slug}.example`,
        name: `SA ${tenant.slug}`,
        accountId: `SA-${tenant.slug}`,
        virtualAccounts: virtualAccounts.map(({ externalId, name }) => ({ externalId, name })),
      },
    },
    tenant.admin,
  );
  const va: Record<string, string> = {};
  for (const v of data.configureSmartAccount.virtualAccounts) va[v.externalId] = v.id;
  await gqlData(
    server,
    MANAGE,
    { input: { virtualAccountIds: virtualAccounts.filter((v) => v.managed).map((v) => va[v.externalId]) } },
    tenant.admin,
  );
  tenant.va = va;
  return tenant;
}

/** A tenant with a smart account and one managed virtual account "MAIN" (plus any others given). */
export async function createAccountTenant(
  server: TestServer,
  slug: string,
  more: { externalId: string; name: string; managed: boolean }[] = [],
): Promise<AccountTenant> {
  const tenant = await createTrialTenant(server, slug);
  return configureAccounts(server, tenant, [{ externalId: 'MAIN', name: 'Main', managed: true }, ...more]);
}

export interface LineSpec {
  tag: string;
  billingType: Billing;
  quantity: number;
  /** External id of the virtual account; default MAIN. */
  va?: string;
  startInDays?: number;
  endInDays?: number;
  subscriptionId?: string;
}

const ADD_LICENSES = 'mutation($input: AddLicensesInput!) { addLicenses(input: $input) { id } }';
let subscriptionCounter = 0;

/** Adds license lines as the provider admin; returns their global ids in order. */
export async function addLines(server: TestServer, tenant: AccountTenant, lines: LineSpec[]): Promise<string[]> {
  const data = await gqlData<{ addLicenses: { id: string }[] }>(
    server,
    ADD_LICENSES,
    {
      input: {
        tenantId: tenant.id,
        licenses: lines.map((l) => ({
          virtualAccountId: tenant.va[l.va ?? 'MAIN'],
          entitlementTag: l.tag,
          billingType: l.billingType,
          billingModel: l.billingType === 'PREPAID' ? 'A_LA_CARTE' : 'MSLA_U',
          subscriptionId: l.subscriptionId ?? `SUB-${++subscriptionCounter}`,
          licenseType: 'TERM',
          quantity: l.quantity,
          startDate: day(l.startInDays ?? -30),
          endDate: day(l.endInDays ?? 365),
        })),
      },
    },
    server.token('PROVIDER_ADMIN'),
  );
  return data.addLicenses.map((l) => l.id);
}

/** Registers devices numbered from..from+count-1 (IOS XE 17.9.3a, HSEC-compatible unless overridden). */
export async function addDevices(
  server: TestServer,
  tenant: AccountTenant,
  count: number,
  overrides: Partial<DeviceInputFixture> = {},
  from = 1,
): Promise<string[]> {
  const inputs = Array.from({ length: count }, (_, i) => deviceInput(from + i, { hsecCompatible: true, ...overrides }));
  const devices = await registerDevices(server, tenant.admin, inputs);
  return devices.map((d) => d.id);
}

/**
 * Retires the devices in these slots and registers their uuids again at once: each slot is then a new
 * device holding nothing (`deviceIds` is updated in place).
 */
export async function retireAndRegisterAgain(server: TestServer, tenant: AccountTenant, deviceIds: string[], slots: number[]): Promise<void> {
  await gqlData(
    server,
    'mutation($input: DecommissionDevicesInput!) { decommissionDevices(input: $input) { decommissioned } }',
    { input: { deviceIds: slots.map((d) => deviceIds[d]) } },
    tenant.admin,
  );
  const again = await registerDevices(server, tenant.admin, slots.map((d) => deviceInput(d + 1, { hsecCompatible: true })));
  slots.forEach((d, i) => {
    deviceIds[d] = again[i].id;
  });
}

export const ASSIGN = `mutation($input: AssignLicensesInput!) {
  assignLicenses(input: $input) {
    assigned replaced unchanged pending replayed
    assignments {
      id status category requestedBillingType assignedBy releasedAt
      device { id } entitlement { tag } license { id billingType }
    }
  }
}`;

export interface AssignmentView {
  id: string;
  status: 'ACTIVE' | 'PENDING_RECONCILIATION';
  category: 'DNA' | 'HSEC';
  requestedBillingType: Billing | null;
  assignedBy: string;
  releasedAt: string | null;
  device: { id: string };
  entitlement: { tag: string };
  license: { id: string; billingType: Billing } | null;
}

export interface AssignPayload {
  assigned: number;
  replaced: number;
  unchanged: number;
  pending: number;
  replayed: boolean;
  assignments: AssignmentView[];
}

export type AssignInput = {
  deviceIds: string[];
  level?: 'ESSENTIALS' | 'ADVANTAGE' | 'PREMIER';
  tier?: TierName;
  entitlementTag?: string;
  hsec?: boolean;
  billingType?: Billing;
  virtualAccountId?: string;
  subscriptionId?: string;
  idempotencyKey?: string;
  tenantId?: string;
};

export async function assign(server: TestServer, token: string, input: AssignInput): Promise<AssignPayload> {
  return (await gqlData<{ assignLicenses: AssignPayload }>(server, ASSIGN, { input }, token)).assignLicenses;
}

export function assignError(server: TestServer, token: string, input: AssignInput): Promise<GqlError> {
  return gqlError(server, ASSIGN, { input }, token);
}

/** Current (unreleased) assignments of a tenant as stored, for assertions. */
export async function currentAssignments(
  server: TestServer,
  tenant: TenantFixture,
): Promise<{ id: string; device_id: string; category: string; status: string; license_id: string | null; tag: string }[]> {
  return server.sql(
    `select a.id, a.device_id, a.category, a.status, a.license_id, e.tag
       from assignment a join entitlement e on e.id = a.entitlement_id
      where a.tenant_id = $1 and a.released_at is null order by a.assigned_at, a.id`,
    [tenant.uuid],
  );
}

export async function countRows(server: TestServer, table: 'assignment' | 'audit_event' | 'idempotency_key', tenant: TenantFixture): Promise<number> {
  const [row] = await server.sql<{ n: number }>(`select count(*)::int as n from ${table} where tenant_id = $1`, [tenant.uuid]);
  return row.n;
}

export function tokenFor(server: TestServer, role: RoleName, tenant: TenantFixture, subject?: string): string {
  return server.token(role, tenant.uuid, subject ? { sub: subject } : undefined);
}
