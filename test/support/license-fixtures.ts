/**
 * Fixtures for the license domain: a tenant's smart account with virtual accounts, and license lines.
 * Every helper goes through the public GraphQL API as a provider admin (the role allowed to do all
 * of it), and throws with the server's errors when the call fails, so a broken fixture never
 * passes for a behaviour under test.
 *
 *   const tenant = await createTenant(server, 'acme');
 *   const account = await configureAccount(server, tenant, { virtualAccounts: ['east', 'west'], managed: ['east'] });
 *   const [line] = await addLicenses(server, tenant, [licenseLine(account.vaIds.east, { quantity: 3 })]);
 */
import type { TenantFixture } from './fixtures';
import type { TestServer } from './harness';

export type Level = 'ESSENTIALS' | 'ADVANTAGE' | 'PREMIER';
export type TierName = 'T0' | 'T1' | 'T2' | 'T3';
export type BillingTypeName = 'PREPAID' | 'POSTPAID';
export type BillingModelName = 'A_LA_CARTE' | 'ENTERPRISE_AGREEMENT' | 'MSLA_U' | 'MSLA_C';

export const HSEC_TAG = 'regid.2019-03.com.cisco.HSECK9';

/** The catalog tag of a DNA routing license, e.g. dnaTag('ADVANTAGE', 'T1') = regid.2020-10.com.cisco.DSTACK_T1_A. */
export function dnaTag(level: Level, tier: TierName): string {
  return `regid.2020-10.com.cisco.DSTACK_${tier}_${level[0]}`;
}

export interface AccountOptions {
  /** Smart account id at the license server; default `SA-<tenant slug>`. */
  accountId?: string;
  /** Default `<tenant slug>.example`. */
  domain?: string;
  /** Default `Smart account <tenant slug>`. */
  name?: string;
  /** External ids of the virtual accounts to record; each is named `VA <externalId>`. Default `['default']`. */
  virtualAccounts?: string[];
  /** External ids (among `virtualAccounts`) to manage here; default none (new ones start unmanaged). */
  managed?: string[];
}

export interface AccountFixture {
  /** Global id of the smart account. */
  id: string;
  accountId: string;
  /** Global id of each virtual account, by external id. */
  vaIds: Record<string, string>;
}

const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) {
  configureSmartAccount(input: $input) { id accountId virtualAccounts { id externalId } }
}`;
const SET_MANAGED = `mutation($input: SetManagedVirtualAccountsInput!) {
  setManagedVirtualAccounts(input: $input) { id externalId managed }
}`;

/** Records (or re-records) the tenant's smart account and its virtual accounts, then sets which are managed. */
export async function configureAccount(server: TestServer, tenant: TenantFixture, options: AccountOptions = {}): Promise<AccountFixture> {
  const token = server.token('PROVIDER_ADMIN');
  const externalIds = options.virtualAccounts ?? ['default'];
  const res = await server.graphql<{ configureSmartAccount: { id: string; accountId: string; virtualAccounts: { id: string; externalId: string }[] } }>(
    CONFIGURE,
    {
      input: {
        tenantId: tenant.id,
        accountId: options.accountId ?? `SA-${tenant.slug}`,
        domain: options.domain ?? `${tenant.slug}.example`,
        name: options.name ?? `Smart account ${tenant.slug}`,
        virtualAccounts: externalIds.map((externalId) => ({ externalId, name: `VA ${externalId}` })),
      },
    },
    token,
  );
  const account = res.body.data?.configureSmartAccount;
  if (!account) throw new Error(`configureSmartAccount failed: ${JSON.stringify(res.body.errors)}`);
  const vaIds = Object.fromEntries(account.virtualAccounts.map((va) => [va.externalId, va.id]));
  if (options.managed) {
    const missing = options.managed.filter((externalId) => !vaIds[externalId]);
    if (missing.length) throw new Error(`configureAccount: managed ${missing.join(', ')} not among the virtual accounts`);
    const managed = await server.graphql(
      SET_MANAGED,
      { input: { tenantId: tenant.id, virtualAccountIds: options.managed.map((externalId) => vaIds[externalId]) } },
      token,
    );
    if (!managed.body.data?.setManagedVirtualAccounts) {
      throw new Error(`setManagedVirtualAccounts failed: ${JSON.stringify(managed.body.errors)}`);
    }
  }
  return { id: account.id, accountId: account.accountId, vaIds };
}

export interface LicenseLineInput {
  virtualAccountId: string;
  entitlementTag: string;
  billingType: BillingTypeName;
  billingModel: BillingModelName;
  subscriptionId: string;
  licenseType?: 'TERM' | 'DEMO';
  quantity: number;
  /** YYYY-MM-DD */
  startDate: string;
  /** YYYY-MM-DD */
  endDate: string;
}

/**
 * A license line for `addLicenses`: by default 10 prepaid a-la-carte Routing DNA Advantage: Tier 1
 * licenses whose term runs from 2020-01-01 to 2099-12-31 (started, far from ending).
 */
export function licenseLine(virtualAccountId: string, overrides: Partial<LicenseLineInput> = {}): LicenseLineInput {
  return {
    virtualAccountId,
    entitlementTag: dnaTag('ADVANTAGE', 'T1'),
    billingType: 'PREPAID',
    billingModel: 'A_LA_CARTE',
    subscriptionId: 'SUB-0001',
    quantity: 10,
    startDate: '2020-01-01',
    endDate: '2099-12-31',
    ...overrides,
  };
}

export interface LicenseFixture {
  /** Global id of the license line. */
  id: string;
  subscriptionId: string;
  quantity: number;
  endDate: string;
}

export const ADD_LICENSES = `mutation($input: AddLicensesInput!) {
  addLicenses(input: $input) { id subscriptionId quantity endDate }
}`;

/** Adds license lines to the tenant (as a provider admin); returns them in input order. */
export async function addLicenses(server: TestServer, tenant: TenantFixture, lines: LicenseLineInput[]): Promise<LicenseFixture[]> {
  const res = await server.graphql<{ addLicenses: LicenseFixture[] }>(
    ADD_LICENSES,
    { input: { tenantId: tenant.id, licenses: lines } },
    server.token('PROVIDER_ADMIN'),
  );
  if (!res.body.data?.addLicenses) throw new Error(`addLicenses failed: ${JSON.stringify(res.body.errors)}`);
  return res.body.data.addLicenses;
}
