import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startScheduler, type Scheduler } from '../src/jobs/scheduler';
import { createLogger } from '../src/logger';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import {
  addDevices,
  assign,
  configureAccounts,
  createTrialTenant,
  dbId,
  dnaTag,
  gqlData,
  gqlError,
  HSEC_TAG,
  type AccountTenant,
} from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';
import {
  addSimAccount,
  editSimAccount,
  runtimeFor,
  SCHEDULER_SECRETS_KEY,
  SET_MODE,
  SETTINGS,
  setSyncMode,
  simAccount,
  simLine,
  startForwardProxy,
  SYNC,
  SYNC_RUN_FIELDS,
  synchronize,
  useLicenseServer,
  type SettingsView,
  type SyncRunView,
} from './support/sync-fixtures';

/**
 * Synchronisation with the license server, end to end: the real server and PostgreSQL talk over real
 * HTTP to the SSM simulator started in-process (and, for the proxy, through a real forward proxy).
 * Settings and their secrets, online and on-prem round trips, failures that change nothing, lines
 * that vanish at the server, joining a running sync, the run list, and the pg-boss schedule running
 * once across two scheduler instances.
 */

const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) {
  configureSmartAccount(input: $input) { id accountId domain name virtualAccounts { id externalId name managed } }
}`;
const MANAGE = `mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id managed } }`;
const LICENSES = `query($first: Int) {
  licenses(first: $first) {
    totalCount
    edges { node { id subscriptionId source quantity entitlement { tag } virtualAccount { id externalId } } }
  }
}`;
const DEVICES = `query {
  devices(first: 100) {
    edges { node { id uuid complianceStatus complianceReasons assignments { id status license { id subscriptionId } } } }
  }
}`;
const USAGE_REPORTS = `query { usageReports(first: 20) { totalCount edges { node { id via status measurements ackId acknowledgedAt } } } }`;
const SYNC_RUNS = `query($first: Int, $after: String, $tenantId: ID) {
  syncRuns(first: $first, after: $after, tenantId: $tenantId) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { ${SYNC_RUN_FIELDS} } }
  }
}`;
const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on SyncRun { status trigger linesAdded tenant { id } } } }`;
const AUDIT = `query { auditEvents(first: 100) { edges { node { action actorSubject tenant { id } details } } } }`;
const CATALOG = 'query { entitlements(includeUnmanaged: true) { tag managed assignable } }';

/** Entitlement tags the catalog does not know start so: a sync records them as unmanaged entitlements. */
const UNKNOWN_TAG_PREFIX = 'regid.2099-01.com.example.NOT_IN_THE_CATALOG';
/** Never fires on its own during the test (midnight on 1 January): ticks are called by hand. */
const NEVER_CRON = '0 0 1 1 *';

interface AccountView {
  id: string;
  accountId: string;
  domain: string;
  name: string;
  virtualAccounts: { id: string; externalId: string; name: string; managed: boolean }[];
}
interface LicenseView {
  id: string;
  subscriptionId: string;
  source: 'MANUAL' | 'SYNC' | 'FILE';
  quantity: number;
  entitlement: { tag: string };
  virtualAccount: { id: string; externalId: string };
}
interface DeviceView {
  id: string;
  uuid: string;
  complianceStatus: 'COMPLIANT' | 'OUT_OF_COMPLIANCE';
  complianceReasons: string[];
  assignments: { id: string; status: 'ACTIVE' | 'PENDING_RECONCILIATION'; license: { id: string; subscriptionId: string } | null }[];
}
interface UsageReportView {
  id: string;
  via: 'ONLINE' | 'OFFLINE';
  status: 'GENERATED' | 'ACKNOWLEDGED';
  measurements: number;
  ackId: string | null;
  acknowledgedAt: string | null;
}
interface SyncRunsView {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: SyncRunView }[];
}
interface AuditView {
  action: string;
  actorSubject: string;
  tenant: { id: string } | null;
  details: Record<string, unknown>;
}

/** What a sync may write for a tenant, straight from the tables (the owner connection bypasses RLS). */
async function licenseData(server: TestServer, tenant: AccountTenant): Promise<Record<string, unknown[]>> {
  const q = (text: string): Promise<Record<string, unknown>[]> => server.sql(text, [tenant.uuid]);
  return {
    licenses: await q(`select id, virtual_account_id, external_line_id, entitlement_id, billing_type, billing_model, subscription_id,
                              license_type, quantity, start_date::text, end_date::text, source, removed_at, updated_at
                         from license where tenant_id = $1 order by id`),
    assignments: await q(`select id, device_id, entitlement_id, license_id, status, released_at
                            from assignment where tenant_id = $1 order by id`),
    virtualAccounts: await q('select id, external_id, name, managed, updated_at from virtual_account where tenant_id = $1 order by id'),
    smartAccount: await q('select id, last_synced_at from smart_account where tenant_id = $1'),
    usageReports: await q('select id from usage_report where tenant_id = $1 order by id'),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 20_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('license server sync', () => {
  let server: TestServer;
  let sim: SimulatorHandle;
  let seq = 0;
  const slug = (label: string): string => `sync-${label}-${++seq}`;

  beforeAll(async () => {
    [server, sim] = await Promise.all([startTestServer(), startSimulator({ port: 0, seed: 'demo' })]);
  });
  afterAll(async () => {
    await sim?.close();
    await server?.close();
  });

  /** The tenant admin takes the smart account from the configured license server. */
  const configureFromServer = async (tenant: AccountTenant, accountId: string): Promise<AccountView> => {
    const data = await gqlData<{ configureSmartAccount: AccountView }>(
      server,
      CONFIGURE,
      { input: { accountId, fetchFromServer: true } },
      tenant.admin,
    );
    tenant.va = Object.fromEntries(data.configureSmartAccount.virtualAccounts.map((v) => [v.externalId, v.id]));
    return data.configureSmartAccount;
  };
  const manage = async (tenant: AccountTenant, externalIds: string[]): Promise<void> => {
    await gqlData(server, MANAGE, { input: { virtualAccountIds: externalIds.map((id) => tenant.va[id]) } }, tenant.admin);
  };
  const licensesOf = async (tenant: AccountTenant): Promise<LicenseView[]> =>
    (await gqlData<{ licenses: { edges: { node: LicenseView }[] } }>(server, LICENSES, { first: 100 }, tenant.operator)).licenses.edges.map((e) => e.node);
  const devicesOf = async (tenant: AccountTenant): Promise<Map<string, DeviceView>> => {
    const data = await gqlData<{ devices: { edges: { node: DeviceView }[] } }>(server, DEVICES, {}, tenant.operator);
    return new Map(data.devices.edges.map((e) => [e.node.id, e.node]));
  };
  const catalog = async (): Promise<{ tag: string; managed: boolean; assignable: boolean }[]> =>
    (await gqlData<{ entitlements: { tag: string; managed: boolean; assignable: boolean }[] }>(server, CATALOG, {}, server.token('PROVIDER_ADMIN')))
      .entitlements;
  const runRows = (tenant: AccountTenant): Promise<{ id: string; status: string }[]> =>
    server.sql('select id, status from sync_run where tenant_id = $1 order by started_at', [tenant.uuid]);

  /**
   * A tenant whose smart account (one virtual account, managed here) exists at `licenseServer`,
   * configured from it and synced once.
   */
  const syncedTenant = async (
    licenseServer: SimulatorHandle,
    label: string,
    lines: (vaId: string) => ReturnType<typeof simLine>[],
  ): Promise<{ tenant: AccountTenant; accountId: string; vaId: string; first: SyncRunView }> => {
    const tenant = await createTrialTenant(server, slug(label));
    const accountId = `SA-${tenant.slug.toUpperCase()}`;
    const vaId = `VA-${tenant.slug.toUpperCase()}`;
    addSimAccount(licenseServer, simAccount(accountId, [{ id: vaId, lines: lines(vaId) }]));
    await configureFromServer(tenant, accountId);
    await manage(tenant, [vaId]);
    const first = await synchronize(server, tenant.admin);
    if (first.status !== 'SUCCEEDED') throw new Error(`arranging ${label}: first sync ${first.status}: ${first.errorMessage}`);
    return { tenant, accountId, vaId, first };
  };

  describe('settings', () => {
    const settingsAs = async (token: string): Promise<SettingsView> =>
      (await gqlData<{ licenseSyncSettings: SettingsView }>(server, SETTINGS, {}, token)).licenseSyncSettings;

    it('stores ONLINE server and credentials for a provider admin and never returns the secret, in answers, audit or at rest', async () => {
      const proxyPassword = 'proxy-pass-7f3c9a1e5b';
      const tenant = await createTrialTenant(server, slug('secret'));

      const res = await server.graphql<{ setLicenseSyncMode: SettingsView }>(
        SET_MODE,
        {
          input: {
            mode: 'ONLINE',
            serverUrl: sim.url,
            clientId: sim.clientId,
            clientSecret: sim.clientSecret,
            proxyUrl: 'http://127.0.0.1:3128',
            proxyUsername: 'squid',
            proxyPassword,
          },
        },
        server.token('PROVIDER_ADMIN'),
      );

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.setLicenseSyncMode).toMatchObject({
        mode: 'ONLINE',
        serverUrl: sim.url,
        clientId: sim.clientId,
        hasCredentials: true,
        proxyUrl: 'http://127.0.0.1:3128',
        hasProxyCredentials: true,
      });
      const answers = [
        JSON.stringify(res.body),
        JSON.stringify(await settingsAs(server.token('PROVIDER_ADMIN'))),
        JSON.stringify(await settingsAs(server.token('PROVIDER_OPERATOR'))),
        JSON.stringify(await settingsAs(tenant.admin)),
        JSON.stringify(await gqlData(server, AUDIT, {}, server.token('PROVIDER_ADMIN'))),
      ];
      for (const text of answers) {
        expect(text).not.toContain(sim.clientSecret);
        expect(text).not.toContain(proxyPassword);
      }
      const [stored] = await server.sql<{ client_secret_enc: string; proxy_password_enc: string }>(
        'select client_secret_enc, proxy_password_enc from license_sync_settings',
      );
      expect(stored.client_secret_enc).toMatch(/^v1:/);
      expect(stored.client_secret_enc).not.toContain(sim.clientSecret);
      expect(stored.proxy_password_enc).toMatch(/^v1:/);
      expect(stored.proxy_password_enc).not.toContain(proxyPassword);
      const [audit] = await server.sql<{ n: number }>(
        "select count(*)::int as n from audit_event where details::text like '%' || $1 || '%' or details::text like '%' || $2 || '%'",
        [sim.clientSecret, proxyPassword],
      );
      expect(audit.n).toBe(0);
    });

    it('refuses ONLINE and ON_PREM without credentials on an instance that has none stored, and stays OFFLINE', async () => {
      const fresh = await startTestServer();
      try {
        const admin = fresh.token('PROVIDER_ADMIN');
        const online = await gqlError(fresh, SET_MODE, { input: { mode: 'ONLINE', serverUrl: sim.url } }, admin);
        const onPrem = await gqlError(fresh, SET_MODE, { input: { mode: 'ON_PREM', serverUrl: sim.url, clientId: sim.clientId } }, admin);

        expect(online.extensions?.code).toBe('BAD_USER_INPUT');
        expect(online.message).toMatch(/ONLINE needs serverUrl, clientId and clientSecret/);
        expect(onPrem.extensions?.code).toBe('BAD_USER_INPUT');
        expect(onPrem.message).toMatch(/ON_PREM needs serverUrl, clientId and clientSecret/);
        const settings = (await gqlData<{ licenseSyncSettings: SettingsView }>(fresh, SETTINGS, {}, admin)).licenseSyncSettings;
        expect(settings).toMatchObject({ mode: 'OFFLINE', serverUrl: null, clientId: null, hasCredentials: false });
      } finally {
        await fresh.close();
      }
    });

    it('refuses a server or proxy URL that is not http(s) or carries user:pass, without echoing the password, and changes nothing', async () => {
      await useLicenseServer(server, sim);
      const before = await settingsAs(server.token('PROVIDER_ADMIN'));
      const admin = server.token('PROVIDER_ADMIN');
      const attempts = [
        { mode: 'ONLINE', serverUrl: 'not a url' },
        { mode: 'ONLINE', serverUrl: 'ftp://ssm.example' },
        { mode: 'ONLINE', serverUrl: 'https://admin:hunter2-secret@ssm.example' },
        { mode: 'ON_PREM', serverUrl: 'http://ops:hunter2-secret@10.0.0.5:8443' },
        { mode: 'ONLINE', proxyUrl: 'http://squid:hunter2-secret@127.0.0.1:3128' },
        { mode: 'ONLINE', proxyUrl: 'socks5://127.0.0.1:1080' },
      ];

      for (const input of attempts) {
        const err = await gqlError(server, SET_MODE, { input }, admin);
        expect(err.extensions?.code).toBe('BAD_USER_INPUT');
        expect(err.message).not.toContain('hunter2');
      }
      expect(await settingsAs(admin)).toEqual(before);
    });

    it('refuses a trusted signing key that is not an Ed25519 public key in PEM form, and trusts the simulator’s key', async () => {
      await useLicenseServer(server, sim);
      const admin = server.token('PROVIDER_ADMIN');
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const garbage = '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n';

      for (const bad of [[garbage], [sim.publicKeyPem, rsa], ['hello']]) {
        const err = await gqlError(server, SET_MODE, { input: { mode: 'ONLINE', trustedSigningKeys: bad } }, admin);
        expect(err.extensions?.code).toBe('BAD_USER_INPUT');
        expect(err.message).toMatch(/trustedSigningKeys\[\d\] is not an Ed25519 public key/);
      }
      const accepted = await setSyncMode(server, { mode: 'ONLINE', trustedSigningKeys: [sim.publicKeyPem] });
      expect(accepted.trustedSigningKeys).toEqual([{ keyId: sim.keyId, publicKey: sim.publicKeyPem.trim() }]);
    });

    it('refuses setLicenseSyncMode to tenant admins, tenant operators and provider operators, changing nothing', async () => {
      await useLicenseServer(server, sim);
      const tenant = await createTrialTenant(server, slug('roles'));
      const before = await settingsAs(server.token('PROVIDER_ADMIN'));
      const [auditBefore] = await server.sql<{ n: number }>("select count(*)::int as n from audit_event where action = 'sync.settings_changed'");

      for (const token of [tenant.admin, tenant.operator, server.token('PROVIDER_OPERATOR')]) {
        const err = await gqlError(server, SET_MODE, { input: { mode: 'OFFLINE' } }, token);
        expect(err.extensions?.code).toBe('FORBIDDEN');
      }
      expect(await settingsAs(server.token('PROVIDER_ADMIN'))).toEqual(before);
      const [auditAfter] = await server.sql<{ n: number }>("select count(*)::int as n from audit_event where action = 'sync.settings_changed'");
      expect(auditAfter.n).toBe(auditBefore.n);
    });

    it('records a settings change as a provider-wide audit event that providers see and tenants do not', async () => {
      const tenant = await createTrialTenant(server, slug('audit'));
      await useLicenseServer(server, sim, 'ONLINE', { syncIntervalMinutes: 777 });

      const providerEvents = (await gqlData<{ auditEvents: { edges: { node: AuditView }[] } }>(server, AUDIT, {}, server.token('PROVIDER_OPERATOR')))
        .auditEvents.edges.map((e) => e.node);
      const tenantEvents = (await gqlData<{ auditEvents: { edges: { node: AuditView }[] } }>(server, AUDIT, {}, tenant.admin))
        .auditEvents.edges.map((e) => e.node);

      const change = providerEvents.find((e) => e.action === 'sync.settings_changed' && e.details.syncIntervalMinutes === 777);
      expect(change).toMatchObject({ tenant: null, actorSubject: 'test-user', details: { mode: 'ONLINE', serverUrl: sim.url, credentialsChanged: true } });
      expect(tenantEvents.filter((e) => e.action === 'sync.settings_changed')).toEqual([]);
      const [row] = await server.sql<{ n: number }>(
        "select count(*)::int as n from audit_event where action = 'sync.settings_changed' and tenant_id is null and (details->>'syncIntervalMinutes')::int = 777",
      );
      expect(row.n).toBeGreaterThanOrEqual(1);
    });
  });

  describe('round trips with the license server', () => {
    /**
     * Configure the account from the server, manage one virtual account, sync (lines in), assign
     * three devices, sync again (usage out), and check both sides.
     */
    const roundTrip = async (licenseServer: SimulatorHandle, mode: 'ONLINE' | 'ON_PREM', accountId: string, vaId: string): Promise<void> => {
      await useLicenseServer(server, licenseServer, mode);
      // One line of an entitlement the catalog does not know: it becomes an unmanaged line.
      const unknownTag = `${UNKNOWN_TAG_PREFIX}_${mode}`;
      expect((await catalog()).map((e) => e.tag)).not.toContain(unknownTag);
      editSimAccount(licenseServer, accountId, (sa) => {
        const va = sa.virtualAccounts.find((v) => v.id === vaId);
        va?.licenses.push(simLine(`${vaId}-UNKNOWN`, unknownTag, 10));
      });
      const remote = licenseServer.state.accounts.find((a) => a.accountId === accountId);
      const remoteVa = remote?.virtualAccounts.find((v) => v.id === vaId);
      if (!remote || !remoteVa) throw new Error(`the simulator has no ${accountId}/${vaId}`);
      const pulled = remoteVa.licenses;
      const tenant = await createTrialTenant(server, slug(mode === 'ONLINE' ? 'online' : 'on-prem'));

      const account = await configureFromServer(tenant, accountId);
      expect(account).toMatchObject({ accountId, domain: remote.domain, name: remote.name });
      expect(account.virtualAccounts.map((v) => [v.externalId, v.name, v.managed]).sort()).toEqual(
        remote.virtualAccounts.map((v) => [v.id, v.name, false]).sort(),
      );
      await manage(tenant, [vaId]);

      const requestsBefore = licenseServer.state.requests.length;
      const first = await synchronize(server, tenant.admin);

      expect(first).toMatchObject({
        status: 'SUCCEEDED',
        mode,
        trigger: 'MANUAL',
        tenant: { id: tenant.id },
        linesAdded: pulled.length,
        linesChanged: 0,
        linesRemoved: 0,
        usageReported: 0,
        errorMessage: null,
      });
      const lines = await licensesOf(tenant);
      expect(lines.map((l) => [l.subscriptionId, l.entitlement.tag, l.quantity]).sort()).toEqual(
        pulled.map((l) => [l.subscriptionId, l.entitlementTag, l.quantity]).sort(),
      );
      expect(lines.every((l) => l.source === 'SYNC' && l.virtualAccount.externalId === vaId)).toBe(true);
      expect((await catalog()).find((e) => e.tag === unknownTag)).toEqual({ tag: unknownTag, managed: false, assignable: false });
      // Unmanaged virtual accounts: not asked for, nothing stored.
      const licensePaths = licenseServer.state.requests.slice(requestsBefore).map((r) => r.path).filter((p) => p.endsWith('/licenses'));
      expect(licensePaths).toEqual([`/api/v1/smart-accounts/${accountId}/virtual-accounts/${vaId}/licenses`]);
      const [stored] = await server.sql<{ n: number; elsewhere: number }>(
        `select count(*)::int as n, count(*) filter (where v.external_id <> $2)::int as elsewhere
           from license l join virtual_account v on v.id = l.virtual_account_id where l.tenant_id = $1`,
        [tenant.uuid, vaId],
      );
      expect(stored).toEqual({ n: pulled.length, elsewhere: 0 });

      // A running DNA line of the pool with room for three devices.
      const today = new Date().toISOString().slice(0, 10);
      const dnaLine = pulled.find(
        (l) =>
          l.entitlementTag.startsWith('regid.2020-10.com.cisco.DSTACK_') &&
          l.startDate <= today &&
          l.endDate >= today &&
          (l.billingType === 'POSTPAID' || l.quantity >= 3),
      );
      if (!dnaLine) throw new Error(`${vaId} has no running DNA line with room for three devices`);
      const devices = await addDevices(server, tenant, 3, {}, 501);
      await assign(server, tenant.operator, { deviceIds: devices, entitlementTag: dnaLine.entitlementTag });
      const deviceUuids = [...(await devicesOf(tenant)).values()].map((d) => d.uuid).sort();
      const usageBefore = licenseServer.state.usage.length;

      const second = await synchronize(server, tenant.admin);

      expect(second).toMatchObject({ status: 'SUCCEEDED', mode, linesAdded: 0, linesChanged: 0, linesRemoved: 0, usageReported: 3 });
      const received = licenseServer.state.usage.slice(usageBefore);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ via: 'api', accountId, virtualAccountId: vaId });
      expect(received[0].measurements.map((m) => m.deviceUuid).sort()).toEqual(deviceUuids);
      for (const m of received[0].measurements) {
        expect(m).toMatchObject({ entitlementTag: dnaLine.entitlementTag, subscriptionId: dnaLine.subscriptionId, billingType: dnaLine.billingType, count: 1 });
      }
      const reports = (await gqlData<{ usageReports: { edges: { node: UsageReportView }[] } }>(server, USAGE_REPORTS, {}, tenant.operator))
        .usageReports.edges.map((e) => e.node);
      expect(reports).toEqual([
        expect.objectContaining({ via: 'ONLINE', status: 'ACKNOWLEDGED', measurements: 3, ackId: received[0].ackId }),
      ]);
    };

    it('pulls every line of the managed virtual account from the cloud server, unknown entitlements as unmanaged lines, and reports usage of assigned devices', async () => {
      await roundTrip(sim, 'ONLINE', 'SA-DEMO', 'VA-DEMO-CAMPUS');
    });

    it('does the same round trip with an on-prem server in ON_PREM mode, talking only to that server', async () => {
      const onPrem = await startSimulator({ port: 0, seed: 'onprem' });
      try {
        const cloudRequests = sim.state.requests.length;
        await roundTrip(onPrem, 'ON_PREM', 'SA-ONPREM', 'VA-ONPREM-BRANCH');
        expect(sim.state.requests.length).toBe(cloudRequests);
      } finally {
        await onPrem.close();
      }
    });
  });

  describe('through an HTTP proxy', () => {
    it('sends every license-server request of a sync through the configured proxy, with its credentials', async () => {
      const proxy = await startForwardProxy({ username: 'squid', password: 'proxy-s3cret' });
      try {
        await useLicenseServer(server, sim);
        const { tenant } = await syncedTenant(sim, 'proxy', (va) => [simLine(`${va}-L1`, dnaTag('A', 'T1'), 5)]);
        const [device] = await addDevices(server, tenant, 1, {}, 601);
        await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
        await useLicenseServer(server, sim, 'ONLINE', { proxyUrl: proxy.url, proxyUsername: 'squid', proxyPassword: 'proxy-s3cret' });
        const requestsBefore = sim.state.requests.length;

        const run = await synchronize(server, tenant.admin);

        expect(run).toMatchObject({ status: 'SUCCEEDED', usageReported: 1 });
        const atServer = sim.state.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`);
        expect(atServer).toEqual(expect.arrayContaining(['POST /oauth/token', expect.stringMatching(/^POST \/api\/v1\/smart-accounts\/.+\/usage$/)]));
        expect(proxy.requests).toEqual(atServer);
        expect(proxy.tunnels.length + proxy.forwarded.length).toBeGreaterThan(0);
        expect([...proxy.tunnels, ...proxy.forwarded.map((u) => new URL(u).host)].every((host) => host === new URL(sim.url).host)).toBe(true);
        const basic = `Basic ${Buffer.from('squid:proxy-s3cret').toString('base64')}`;
        expect(proxy.authorizations.length).toBeGreaterThan(0);
        expect(proxy.authorizations.every((a) => a === basic)).toBe(true);
        expect(proxy.refused).toBe(0);
      } finally {
        await proxy.close();
      }
    });

    it('fails the sync, naming the proxy, when the proxy refuses the credentials', async () => {
      const proxy = await startForwardProxy({ username: 'squid', password: 'right-password' });
      try {
        await useLicenseServer(server, sim);
        const { tenant } = await syncedTenant(sim, 'proxy-auth', (va) => [simLine(`${va}-L1`, dnaTag('E', 'T0'), 5)]);
        await useLicenseServer(server, sim, 'ONLINE', { proxyUrl: proxy.url, proxyUsername: 'squid', proxyPassword: 'wrong-password' });
        const requestsBefore = sim.state.requests.length;

        const run = await synchronize(server, tenant.admin);

        expect(run.status).toBe('FAILED');
        expect(run.errorMessage).toContain(`the proxy ${new URL(proxy.url).host} refused the credentials (407)`);
        expect(run.errorMessage).not.toContain('wrong-password');
        expect(proxy.refused).toBeGreaterThan(0);
        expect(sim.state.requests.length).toBe(requestsBefore);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('failures change no license data', () => {
    /**
     * A synced tenant with two devices on line L1, then the server drops L1 and changes L2: a
     * successful sync would remove a line, change one and make two assignments pending.
     */
    const changedAtServer = async (licenseServer: SimulatorHandle, label: string): Promise<{ tenant: AccountTenant }> => {
      const { tenant, accountId, vaId } = await syncedTenant(licenseServer, label, (va) => [
        simLine(`${va}-L1`, dnaTag('A', 'T1'), 5),
        simLine(`${va}-L2`, HSEC_TAG, 5),
      ]);
      const devices = await addDevices(server, tenant, 2, {}, 701);
      await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T1' });
      editSimAccount(licenseServer, accountId, (sa) => {
        const va = sa.virtualAccounts[0];
        va.licenses = va.licenses.filter((l) => l.lineId !== `${vaId}-L1`);
        va.licenses[0].quantity = 9;
      });
      return { tenant };
    };
    const recovered = { status: 'SUCCEEDED', linesAdded: 0, linesChanged: 1, linesRemoved: 1, assignmentsPending: 2 };

    it('records a FAILED run naming HTTP 500 when the server keeps failing, and applies the changes once it answers again', async () => {
      await useLicenseServer(server, sim);
      const { tenant } = await changedAtServer(sim, 'http500');
      const before = await licenseData(server, tenant);
      sim.setFault({ kind: 'http500' });
      let run: SyncRunView;
      try {
        run = await synchronize(server, tenant.admin);
      } finally {
        sim.setFault(null);
      }

      expect(run).toMatchObject({ status: 'FAILED', finishedAt: expect.any(String) });
      expect(run.errorMessage).toMatch(/license server unavailable: .*HTTP 500/);
      expect(run.errorMessage).not.toContain(sim.clientSecret);
      expect(await licenseData(server, tenant)).toEqual(before);
      expect(await runRows(tenant)).toEqual([
        expect.objectContaining({ status: 'SUCCEEDED' }),
        { id: dbId(run.id), status: 'FAILED' },
      ]);
      expect(await synchronize(server, tenant.admin)).toMatchObject(recovered);
    });

    it('records a FAILED run naming the timeout when the server never answers, and changes nothing', async () => {
      await useLicenseServer(server, sim);
      const { tenant } = await changedAtServer(sim, 'timeout');
      const before = await licenseData(server, tenant);
      sim.setFault({ kind: 'timeout' });
      let run: SyncRunView;
      try {
        run = await synchronize(server, tenant.admin);
      } finally {
        sim.setFault(null);
      }

      expect(run.status).toBe('FAILED');
      expect(run.errorMessage).toMatch(/license server timeout: .*no answer within 1000 ms/);
      expect(await licenseData(server, tenant)).toEqual(before);
      expect(await synchronize(server, tenant.admin)).toMatchObject(recovered);
    });

    it('records a FAILED run naming the refused connection when the server is down, and changes nothing', async () => {
      const down = await startSimulator({ port: 0, seed: 'down' });
      let closed = false;
      try {
        await useLicenseServer(server, down);
        const { tenant } = await changedAtServer(down, 'down');
        const before = await licenseData(server, tenant);
        await down.close();
        closed = true;

        const run = await synchronize(server, tenant.admin);

        expect(run.status).toBe('FAILED');
        expect(run.errorMessage).toMatch(/license server unavailable: .*ECONNREFUSED/);
        expect(await licenseData(server, tenant)).toEqual(before);
      } finally {
        if (!closed) await down.close();
      }
    });

    it('records a FAILED run naming the refused client, never the secret, when the credentials are wrong, and changes nothing', async () => {
      await useLicenseServer(server, sim);
      const { tenant } = await changedAtServer(sim, 'bad-secret');
      const before = await licenseData(server, tenant);
      await useLicenseServer(server, sim, 'ONLINE', { clientSecret: 'not-the-secret-5e1d0c' });

      const run = await synchronize(server, tenant.admin);

      expect(run.status).toBe('FAILED');
      expect(run.errorMessage).toMatch(new RegExp(`license server unauthorized: .*refused client "${sim.clientId}"`));
      expect(run.errorMessage).not.toContain('not-the-secret-5e1d0c');
      expect(await licenseData(server, tenant)).toEqual(before);
    });

    it('retries a transient HTTP 500 and succeeds', async () => {
      await useLicenseServer(server, sim);
      const { tenant } = await changedAtServer(sim, 'transient');
      const requestsBefore = sim.state.requests.length;
      sim.setFault({ kind: 'http500', count: 1 });
      let run: SyncRunView;
      try {
        run = await synchronize(server, tenant.admin);
      } finally {
        sim.setFault(null);
      }

      expect(run).toMatchObject({ ...recovered, errorMessage: null });
      const [failed, retried] = sim.state.requests.slice(requestsBefore);
      expect(failed).toMatchObject({ status: 500, fault: 'http500' });
      expect(retried).toMatchObject({ method: failed.method, path: failed.path, status: 200 });
      expect(await runRows(tenant)).toHaveLength(2);
    });
  });

  describe('license lines removed at the server', () => {
    it('keeps the assignments of a vanished line as PENDING_RECONCILIATION, visible in compliance, never dropped', async () => {
      await useLicenseServer(server, sim);
      const { tenant, accountId, vaId } = await syncedTenant(sim, 'vanish', (va) => [
        simLine(`${va}-L1`, dnaTag('A', 'T2'), 2),
        simLine(`${va}-L2`, HSEC_TAG, 4),
      ]);
      const devices = await addDevices(server, tenant, 2, {}, 801);
      const held = await assign(server, tenant.operator, { deviceIds: devices, level: 'ADVANTAGE', tier: 'T2' });
      const gone = held.assignments[0].license?.id;
      expect(held.assignments.every((a) => a.license?.id === gone)).toBe(true);
      editSimAccount(sim, accountId, (sa) => {
        sa.virtualAccounts[0].licenses = sa.virtualAccounts[0].licenses.filter((l) => l.lineId !== `${vaId}-L1`);
      });

      const run = await synchronize(server, tenant.admin);

      expect(run).toMatchObject({ status: 'SUCCEEDED', linesRemoved: 1, assignmentsPending: 2, assignmentsReconciled: 0 });
      const rows = await server.sql<{ id: string; status: string; license_id: string | null; released_at: Date | null }>(
        'select id, status, license_id, released_at from assignment where tenant_id = $1 order by id',
        [tenant.uuid],
      );
      expect(rows.map((r) => r.id).sort()).toEqual(held.assignments.map((a) => dbId(a.id)).sort());
      expect(rows.every((r) => r.status === 'PENDING_RECONCILIATION' && r.license_id === null && r.released_at === null)).toBe(true);
      const seen = await devicesOf(tenant);
      for (const id of devices) {
        expect(seen.get(id)).toMatchObject({
          complianceStatus: 'OUT_OF_COMPLIANCE',
          complianceReasons: expect.arrayContaining(['PENDING_RECONCILIATION']),
          assignments: [expect.objectContaining({ status: 'PENDING_RECONCILIATION', license: null })],
        });
      }
      expect((await licensesOf(tenant)).map((l) => l.id)).not.toContain(gone);
      const [kept] = await server.sql<{ removed_at: Date | null }>('select removed_at from license where id = $1', [dbId(gone ?? '')]);
      expect(kept.removed_at).toBeInstanceOf(Date);
    });

    it('reconciles the assignments of a vanished line onto another line of the entitlement that has room', async () => {
      await useLicenseServer(server, sim);
      const { tenant, accountId, vaId } = await syncedTenant(sim, 'rebind', (va) => [
        simLine(`${va}-L1`, dnaTag('P', 'T1'), 2, { endDate: '2028-06-30' }),
        simLine(`${va}-L2`, dnaTag('P', 'T1'), 5, { endDate: '2030-06-30' }),
      ]);
      const devices = await addDevices(server, tenant, 2, {}, 851);
      const held = await assign(server, tenant.operator, { deviceIds: devices, level: 'PREMIER', tier: 'T1' });
      const lines = await licensesOf(tenant);
      const early = lines.find((l) => l.subscriptionId === `Sub-${vaId}-L1`);
      const late = lines.find((l) => l.subscriptionId === `Sub-${vaId}-L2`);
      expect(held.assignments.map((a) => a.license?.id)).toEqual([early?.id, early?.id]);
      editSimAccount(sim, accountId, (sa) => {
        sa.virtualAccounts[0].licenses = sa.virtualAccounts[0].licenses.filter((l) => l.lineId !== `${vaId}-L1`);
      });

      const run = await synchronize(server, tenant.admin);

      expect(run).toMatchObject({ status: 'SUCCEEDED', linesRemoved: 1, assignmentsPending: 2, assignmentsReconciled: 2 });
      const seen = await devicesOf(tenant);
      for (const id of devices) {
        expect(seen.get(id)).toMatchObject({
          complianceStatus: 'COMPLIANT',
          complianceReasons: [],
          assignments: [expect.objectContaining({ status: 'ACTIVE', license: { id: late?.id, subscriptionId: `Sub-${vaId}-L2` } })],
        });
      }
      expect(seen.get(devices[0])?.assignments[0].id).toBe(held.assignments[0].id);
    });

    /** A synced tenant whose account has two managed virtual accounts, KEPT (HSEC) and GONE (DNA Essentials T3). */
    const twoVirtualAccounts = async (label: string): Promise<{ tenant: AccountTenant; accountId: string; keptVa: string; goneVa: string }> => {
      const tenant = await createTrialTenant(server, slug(label));
      const accountId = `SA-${tenant.slug.toUpperCase()}`;
      const [keptVa, goneVa] = [`VA-${tenant.slug.toUpperCase()}-KEPT`, `VA-${tenant.slug.toUpperCase()}-GONE`];
      addSimAccount(
        sim,
        simAccount(accountId, [
          { id: keptVa, lines: [simLine(`${keptVa}-L1`, HSEC_TAG, 5)] },
          { id: goneVa, lines: [simLine(`${goneVa}-L1`, dnaTag('E', 'T3'), 5)] },
        ]),
      );
      await configureFromServer(tenant, accountId);
      await manage(tenant, [keptVa, goneVa]);
      expect(await synchronize(server, tenant.admin)).toMatchObject({ status: 'SUCCEEDED', linesAdded: 2 });
      return { tenant, accountId, keptVa, goneVa };
    };
    const dropVirtualAccount = (accountId: string, vaId: string): void =>
      editSimAccount(sim, accountId, (sa) => {
        sa.virtualAccounts = sa.virtualAccounts.filter((v) => v.id !== vaId);
      });

    it('removes the lines of a managed virtual account that vanished from the server', async () => {
      await useLicenseServer(server, sim);
      const { tenant, accountId, keptVa, goneVa } = await twoVirtualAccounts('va-gone');
      dropVirtualAccount(accountId, goneVa);

      const run = await synchronize(server, tenant.admin);

      expect(run).toMatchObject({ status: 'SUCCEEDED', errorMessage: null, linesRemoved: 1 });
      expect((await licensesOf(tenant)).map((l) => l.virtualAccount.externalId)).toEqual([keptVa]);
    });

    it('keeps syncing when a managed virtual account whose lines devices hold vanished from the server, and makes those assignments pending', async () => {
      await useLicenseServer(server, sim);
      const { tenant, accountId, goneVa } = await twoVirtualAccounts('va-gone-held');
      const devices = await addDevices(server, tenant, 2, {}, 901);
      await assign(server, tenant.operator, { deviceIds: devices, level: 'ESSENTIALS', tier: 'T3' });
      dropVirtualAccount(accountId, goneVa);

      const run = await synchronize(server, tenant.admin);

      expect(run).toMatchObject({ status: 'SUCCEEDED', errorMessage: null, linesRemoved: 1, assignmentsPending: 2 });
      const rows = await server.sql<{ status: string }>('select status from assignment where tenant_id = $1 and released_at is null', [tenant.uuid]);
      expect(rows).toEqual([{ status: 'PENDING_RECONCILIATION' }, { status: 'PENDING_RECONCILIATION' }]);
    });
  });

  describe('refusals', () => {
    it('refuses an on-demand sync in OFFLINE mode, telling to upload a license summary file, and records no run', async () => {
      const tenant = await configureAccounts(server, await createTrialTenant(server, slug('offline')), [
        { externalId: 'MAIN', name: 'Main', managed: true },
      ]);
      await setSyncMode(server, { mode: 'OFFLINE' });

      const err = await gqlError(server, SYNC, {}, tenant.admin);

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/OFFLINE mode: upload a license summary file/);
      expect(await runRows(tenant)).toEqual([]);
    });

    it('refuses an on-demand sync for a tenant without a smart account, and records no run', async () => {
      await useLicenseServer(server, sim);
      const tenant = await createTrialTenant(server, slug('no-account'));

      const err = await gqlError(server, SYNC, {}, tenant.admin);

      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/no smart account/);
      expect(await runRows(tenant)).toEqual([]);
    });
  });

  describe('one sync at a time per tenant', () => {
    it('returns the running sync to an on-demand sync requested while it runs, and records one run', async () => {
      await useLicenseServer(server, sim);
      const { tenant } = await syncedTenant(sim, 'join', (va) => [simLine(`${va}-L1`, dnaTag('E', 'T1'), 5)]);
      const runsBefore = await runRows(tenant);
      sim.setFault({ kind: 'slow', delayMs: 300 });
      try {
        const first = synchronize(server, tenant.admin);
        const running = await until('the first sync to be running', async () => {
          const [row] = await server.sql<{ id: string }>("select id from sync_run where tenant_id = $1 and status = 'RUNNING'", [tenant.uuid]);
          return row;
        });

        const second = await synchronize(server, server.token('PROVIDER_OPERATOR'), tenant.id);

        expect(second).toMatchObject({ status: 'RUNNING', finishedAt: null });
        expect(dbId(second.id)).toBe(running.id);
        const done = await first;
        expect(done).toMatchObject({ id: second.id, status: 'SUCCEEDED' });
        expect(await runRows(tenant)).toEqual([...runsBefore, { id: running.id, status: 'SUCCEEDED' }]);
      } finally {
        sim.setFault(null);
      }
    });
  });

  describe('sync runs', () => {
    it('lists a tenant’s runs newest first with forward pagination, resolves them by node(id), and hides them from other tenants', async () => {
      await useLicenseServer(server, sim);
      const a = await syncedTenant(sim, 'runs-a', (va) => [simLine(`${va}-L1`, dnaTag('A', 'T3'), 5)]);
      sim.setFault({ kind: 'http500' });
      let failed: SyncRunView;
      try {
        failed = await synchronize(server, a.tenant.admin);
      } finally {
        sim.setFault(null);
      }
      const b = await syncedTenant(sim, 'runs-b', (va) => [simLine(`${va}-L1`, dnaTag('A', 'T3'), 5)]);
      const runsAs = async (token: string, variables: Record<string, unknown>): Promise<SyncRunsView> =>
        (await gqlData<{ syncRuns: SyncRunsView }>(server, SYNC_RUNS, variables, token)).syncRuns;
      const nodeAs = async (token: string, id: string): Promise<Record<string, unknown> | null> =>
        (await gqlData<{ node: Record<string, unknown> | null }>(server, NODE, { id }, token)).node;

      const all = await runsAs(a.tenant.operator, { first: 10 });
      expect(all.totalCount).toBe(2);
      expect(all.edges.map((e) => [e.node.id, e.node.status])).toEqual([
        [failed.id, 'FAILED'],
        [a.first.id, 'SUCCEEDED'],
      ]);
      const page1 = await runsAs(a.tenant.operator, { first: 1 });
      const page2 = await runsAs(a.tenant.operator, { first: 1, after: page1.pageInfo.endCursor });
      expect([page1.pageInfo.hasNextPage, page2.pageInfo.hasNextPage]).toEqual([true, false]);
      expect([...page1.edges, ...page2.edges].map((e) => e.node.id)).toEqual([failed.id, a.first.id]);

      expect(await nodeAs(a.tenant.operator, a.first.id)).toEqual({
        __typename: 'SyncRun',
        id: a.first.id,
        status: 'SUCCEEDED',
        trigger: 'MANUAL',
        linesAdded: 1,
        tenant: { id: a.tenant.id },
      });
      expect(await nodeAs(b.tenant.operator, a.first.id)).toBeNull();
      expect(await nodeAs(server.token('PROVIDER_OPERATOR'), a.first.id)).toMatchObject({ id: a.first.id });
      expect((await runsAs(b.tenant.operator, { first: 10 })).edges.map((e) => e.node.id)).toEqual([b.first.id]);
      const foreign = await gqlError(server, SYNC_RUNS, { first: 10, tenantId: a.tenant.id }, b.tenant.operator);
      expect(foreign.extensions?.code).toBe('NOT_FOUND');
      expect((await runsAs(server.token('PROVIDER_OPERATOR'), { first: 10, tenantId: a.tenant.id })).totalCount).toBe(2);
      const bSettings = (await gqlData<{ licenseSyncSettings: SettingsView }>(server, SETTINGS, {}, b.tenant.operator)).licenseSyncSettings;
      expect(bSettings.lastSync).toEqual({ id: b.first.id, status: 'SUCCEEDED' });
    });
  });

  describe('volume', () => {
    it('syncs a virtual account of 5,000 license lines in one run', async () => {
      await useLicenseServer(server, sim);
      const tags = [...(['E', 'A', 'P'] as const).flatMap((l) => (['T0', 'T1', 'T2', 'T3'] as const).map((t) => dnaTag(l, t))), HSEC_TAG];
      const managedTags = new Set((await catalog()).filter((e) => e.assignable).map((e) => e.tag));
      expect(tags.every((t) => managedTags.has(t))).toBe(true);
      const tenant = await createTrialTenant(server, slug('bulk'));
      const accountId = 'SA-BULK';
      addSimAccount(
        sim,
        simAccount(accountId, [
          { id: 'VA-BULK', lines: Array.from({ length: 5000 }, (_, i) => simLine(`VA-BULK-L${i + 1}`, tags[i % tags.length], 10 + (i % 90))) },
        ]),
      );
      await configureFromServer(tenant, accountId);
      await manage(tenant, ['VA-BULK']);

      const started = performance.now();
      const run = await synchronize(server, tenant.admin);
      const elapsedMs = performance.now() - started;

      expect(run).toMatchObject({ status: 'SUCCEEDED', linesAdded: 5000, linesRemoved: 0, errorMessage: null });
      const [row] = await server.sql<{ n: number }>("select count(*)::int as n from license where tenant_id = $1 and source = 'SYNC'", [tenant.uuid]);
      expect(row.n).toBe(5000);
      if (process.env.SLM_TEST_REPORT === '1') process.stdout.write(`sync of 5,000 license lines: ${elapsedMs.toFixed(0)} ms\n`);
    });
  });
});

describe('scheduled license sync', () => {
  const env = { SECRETS_KEY: SCHEDULER_SECRETS_KEY };
  let server: TestServer;
  let sim: SimulatorHandle;
  const schedulers: Scheduler[] = [];
  const tenants: AccountTenant[] = [];

  beforeAll(async () => {
    [server, sim] = await Promise.all([startTestServer({ env }), startSimulator({ port: 0, seed: 'sched', accounts: 3 })]);
    await useLicenseServer(server, sim);
    for (const [i, accountId] of ['SA-SCHED', 'SA-SCHED-2', 'SA-SCHED-3'].entries()) {
      const tenant = await createTrialTenant(server, `sched-${i + 1}`);
      const account = await gqlData<{ configureSmartAccount: AccountView }>(server, CONFIGURE, { input: { accountId, fetchFromServer: true } }, tenant.admin);
      const campus = account.configureSmartAccount.virtualAccounts.find((v) => v.externalId.endsWith('-CAMPUS'));
      await gqlData(server, MANAGE, { input: { virtualAccountIds: [campus?.id] } }, tenant.admin);
      tenants.push(tenant);
    }
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    await sim?.close();
    await server?.close();
  });

  it('syncs every tenant with a smart account exactly once when two scheduler instances tick at the same time', async () => {
    const runtime = runtimeFor(server, env);
    const log = createLogger('silent');
    for (let i = 0; i < 2; i++) schedulers.push(await startScheduler({ db: server.db, runtime, log, cron: NEVER_CRON }));

    const enqueued = await Promise.all(schedulers.map((s) => s.tick()));

    expect(Math.max(...enqueued)).toBe(3);
    const runs = await until('one finished scheduled run per tenant, and no sync job left', async () => {
      const rows = await server.sql<{ tenant_id: string; status: string; trigger: string; requested_by: string }>(
        'select tenant_id, status, trigger, requested_by from sync_run order by tenant_id',
      );
      const [jobs] = await server.sql<{ n: number }>(
        "select count(*)::int as n from pgboss.job where name = 'license-sync' and state in ('created', 'retry', 'active')",
      );
      return rows.length >= 3 && rows.every((r) => r.status !== 'RUNNING') && jobs.n === 0 ? rows : undefined;
    });
    expect(runs).toEqual(
      tenants
        .map((t) => ({ tenant_id: t.uuid, status: 'SUCCEEDED', trigger: 'SCHEDULED', requested_by: 'system:scheduler' }))
        .sort((x, y) => x.tenant_id.localeCompare(y.tenant_id)),
    );
    for (const accountId of ['SA-SCHED', 'SA-SCHED-2', 'SA-SCHED-3']) {
      expect(sim.state.requests.filter((r) => r.path === `/api/v1/smart-accounts/${accountId}`)).toHaveLength(2); // configure + one sync
    }

    expect(await Promise.all(schedulers.map((s) => s.tick()))).toEqual([0, 0]);
  });

  it('does not let a sync left RUNNING by an instance that died block the scheduled syncs of its tenant', async () => {
    if (schedulers.length === 0) schedulers.push(await startScheduler({ db: server.db, runtime: runtimeFor(server, env), log: createLogger('silent'), cron: NEVER_CRON }));
    const [scheduler] = schedulers;
    const tenant = tenants[0];
    const [{ since }] = await server.sql<{ since: Date }>('select clock_timestamp() as since');
    // Due again, and a run RUNNING as another instance left it: started, heartbeat stamped, then nothing.
    await server.sql('update smart_account set last_synced_at = null where tenant_id = $1', [tenant.uuid]);
    const [left] = await server.sql<{ id: string }>(
      `insert into sync_run (tenant_id, mode, trigger, status, requested_by, started_at, heartbeat_at)
       values ($1, 'ONLINE', 'SCHEDULED', 'RUNNING', 'system:scheduler', clock_timestamp(), clock_timestamp()) returning id`,
      [tenant.uuid],
    );
    // While its heartbeat is fresh the run is alive: the tenant is not due.
    expect(await scheduler.tick()).toBe(0);

    // Its instance died: no heartbeat for longer than SYNC_ABANDONED_AFTER_MS (60 s by default).
    await server.sql("update sync_run set heartbeat_at = clock_timestamp() - interval '5 minutes', started_at = clock_timestamp() - interval '5 minutes' where id = $1", [left.id]);
    expect(await scheduler.tick()).toBe(1);
    const runs = await until('the abandoned run failed and a scheduled run succeeded', async () => {
      const rows = await server.sql<{ id: string; status: string; trigger: string; error_message: string | null }>(
        'select id, status, trigger, error_message from sync_run where tenant_id = $1 and (id = $2 or started_at >= $3) order by started_at',
        [tenant.uuid, left.id, since],
      );
      return rows.length === 2 && rows.every((r) => r.status !== 'RUNNING') ? rows : undefined;
    });
    expect(runs[0]).toMatchObject({ id: left.id, status: 'FAILED' });
    expect(runs[0].error_message).toMatch(/^abandoned: the instance running it stopped \(no heartbeat since \d{4}-\d\d-\d\dT/);
    expect(runs[1]).toMatchObject({ status: 'SUCCEEDED', trigger: 'SCHEDULED' });
  });
});
