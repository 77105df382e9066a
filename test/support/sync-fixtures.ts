/**
 * Fixtures for the license-server sync suite: the sync settings and sync calls through the public
 * GraphQL API, smart accounts added to a running SSM simulator, a real HTTP forward proxy, and the
 * runtime a scheduler outside the server needs.
 *
 *   const sim = await startSimulator({ port: 0, seed: 'demo' });
 *   await useLicenseServer(server, sim, 'ONLINE');
 *   addSimAccount(sim, simAccount('SA-X', [{ id: 'VA-X', lines: [simLine('VA-X-L1', dnaTag('A', 'T1'), 5)] }]));
 */
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config';
import type { AppRuntime } from '../../src/common/context';
import { secretBoxFor } from '../../src/common/secrets';
import type { LicenseLine } from '../../src/ssm/files/formats';
import type { SimulatorHandle } from '../../src/ssm-simulator/server';
import type { SimSmartAccount } from '../../src/ssm-simulator/state';
import { type AccountTenant, gqlData } from './assignment-fixtures';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET, type TestServer } from './harness';

export type SyncModeName = 'ONLINE' | 'ON_PREM' | 'OFFLINE';

export const SYNC_RUN_FIELDS = `id status mode trigger requestedBy startedAt finishedAt linesAdded linesChanged linesRemoved
  assignmentsPending assignmentsReconciled usageReported errorMessage tenant { id }`;

export interface SyncRunView {
  id: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  mode: SyncModeName;
  trigger: 'MANUAL' | 'SCHEDULED' | 'FILE';
  requestedBy: string;
  startedAt: string;
  finishedAt: string | null;
  linesAdded: number;
  linesChanged: number;
  linesRemoved: number;
  assignmentsPending: number;
  assignmentsReconciled: number;
  usageReported: number;
  errorMessage: string | null;
  tenant: { id: string };
}

export const SETTINGS_FIELDS = `mode serverUrl clientId hasCredentials proxyUrl hasProxyCredentials syncIntervalMinutes
  trustedSigningKeys { keyId publicKey } lastSync { id status } nextSyncAt`;

export interface SettingsView {
  mode: SyncModeName;
  serverUrl: string | null;
  clientId: string | null;
  hasCredentials: boolean;
  proxyUrl: string | null;
  hasProxyCredentials: boolean;
  syncIntervalMinutes: number;
  trustedSigningKeys: { keyId: string; publicKey: string }[];
  lastSync: { id: string; status: string } | null;
  nextSyncAt: string | null;
}

export const SET_MODE = `mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { ${SETTINGS_FIELDS} } }`;
export const SETTINGS = `query { licenseSyncSettings { ${SETTINGS_FIELDS} } }`;
export const SYNC = `mutation($input: SynchronizeLicensesInput) { synchronizeLicenses(input: $input) { ${SYNC_RUN_FIELDS} } }`;

export interface SetModeInput {
  mode: SyncModeName;
  serverUrl?: string;
  clientId?: string;
  clientSecret?: string;
  proxyUrl?: string;
  proxyUsername?: string;
  proxyPassword?: string;
  syncIntervalMinutes?: number;
  trustedSigningKeys?: string[];
}

/** Sets the instance's sync settings as a provider admin; throws with the server's errors on refusal. */
export async function setSyncMode(server: TestServer, input: SetModeInput): Promise<SettingsView> {
  return (await gqlData<{ setLicenseSyncMode: SettingsView }>(server, SET_MODE, { input }, server.token('PROVIDER_ADMIN'))).setLicenseSyncMode;
}

/**
 * Points the instance at a simulator (ONLINE or ON_PREM) with its credentials and no proxy. The
 * settings are instance-wide, so every test that syncs calls this first.
 */
export function useLicenseServer(
  server: TestServer,
  sim: Pick<SimulatorHandle, 'url' | 'clientId' | 'clientSecret'>,
  mode: 'ONLINE' | 'ON_PREM' = 'ONLINE',
  extra: Partial<SetModeInput> = {},
): Promise<SettingsView> {
  return setSyncMode(server, { mode, serverUrl: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, proxyUrl: '', ...extra });
}

/** synchronizeLicenses as the given token; throws with the errors if the call itself is refused. */
export async function synchronize(server: TestServer, token: string, tenantId?: string): Promise<SyncRunView> {
  const variables = tenantId === undefined ? {} : { input: { tenantId } };
  return (await gqlData<{ synchronizeLicenses: SyncRunView }>(server, SYNC, variables, token)).synchronizeLicenses;
}

export interface LineOptions {
  billingType?: 'PREPAID' | 'POSTPAID';
  startDate?: string;
  endDate?: string;
  subscriptionId?: string;
}

/** A license line as the license server describes it: prepaid a-la-carte, 2025-01-01 to 2030-12-31 by default. */
export function simLine(lineId: string, entitlementTag: string, quantity: number, options: LineOptions = {}): LicenseLine {
  const billingType = options.billingType ?? 'PREPAID';
  return {
    lineId,
    entitlementTag,
    billingType,
    billingModel: billingType === 'PREPAID' ? 'A_LA_CARTE' : 'MSLA_U',
    subscriptionId: options.subscriptionId ?? `Sub-${lineId}`,
    licenseType: 'TERM',
    quantity,
    inUse: 0,
    startDate: options.startDate ?? '2025-01-01',
    endDate: options.endDate ?? '2030-12-31',
  };
}

/** A smart account for the simulator; domain `<accountId lower-cased>.example`. */
export function simAccount(accountId: string, virtualAccounts: { id: string; name?: string; lines: LicenseLine[] }[]): SimSmartAccount {
  return {
    accountId,
    domain: `${accountId.toLowerCase()}.example`,
    name: `Account ${accountId}`,
    virtualAccounts: virtualAccounts.map((v) => ({ id: v.id, name: v.name ?? `Pool ${v.id}`, licenses: v.lines })),
  };
}

/** Adds (or replaces, by account id) a smart account in the simulator's state, keeping the others. */
export function addSimAccount(sim: SimulatorHandle, account: SimSmartAccount): void {
  sim.setAccounts([...sim.state.accounts.filter((a) => a.accountId !== account.accountId), account]);
}

/** Changes one account of the simulator's state through a copy, validated like PUT /__admin/state. */
export function editSimAccount(sim: SimulatorHandle, accountId: string, edit: (account: SimSmartAccount) => void): void {
  const accounts = structuredClone(sim.state.accounts);
  const account = accounts.find((a) => a.accountId === accountId);
  if (!account) throw new Error(`editSimAccount: the simulator has no account ${accountId}`);
  edit(account);
  sim.setAccounts(accounts);
}

export interface ForwardProxy {
  url: string;
  /** `host:port` of every CONNECT tunnel opened through the proxy. */
  tunnels: string[];
  /** Absolute URIs of the plain (non-tunnelled) requests forwarded. */
  forwarded: string[];
  /** `METHOD /path` of every HTTP request seen inside tunnels or forwarded, in order. */
  requests: string[];
  /** Proxy-Authorization header of every CONNECT or forwarded request (undefined when absent). */
  authorizations: (string | undefined)[];
  /** Requests refused with 407 for missing or wrong credentials. */
  refused: number;
  close(): Promise<void>;
}

const REQUEST_LINE = /(GET|POST|PUT|DELETE|HEAD|PATCH) (\/\S*) HTTP\/1\.[01]\r\n/g;

/**
 * A real HTTP forward proxy on loopback: CONNECT tunnels and absolute-URI requests, both counted.
 * With credentials, anything without the matching Proxy-Authorization: Basic header gets 407.
 */
export async function startForwardProxy(credentials?: { username: string; password: string }): Promise<ForwardProxy> {
  const expected = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  const sockets = new Set<net.Socket>();
  const proxy: Omit<ForwardProxy, 'url' | 'close'> = { tunnels: [], forwarded: [], requests: [], authorizations: [], refused: 0 };
  const authorized = (req: IncomingMessage): boolean => {
    proxy.authorizations.push(req.headers['proxy-authorization']);
    if (expected === undefined || req.headers['proxy-authorization'] === expected) return true;
    proxy.refused += 1;
    return false;
  };

  const server = http.createServer((req, res) => {
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test-proxy"', 'content-length': '0' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    proxy.forwarded.push(target.toString());
    proxy.requests.push(`${req.method} ${target.pathname}`);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.headersSent ? res.destroy() : res.writeHead(502, { 'content-length': '0' }).end());
    req.pipe(upstream);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (!authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test-proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    proxy.tunnels.push(`${host}:${port}`);
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      client.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) proxy.requests.push(`${m[1]} ${m[2].split('?')[0]}`);
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A secrets key the scheduler suite gives both the server and the schedulers it starts. */
export const SCHEDULER_SECRETS_KEY = 'a7'.repeat(32);

/**
 * The runtime (config and secret box) of a test server started with `env`, built the way
 * src/server/app.ts builds it, for a scheduler started next to that server.
 */
export function runtimeFor(server: TestServer, env: Record<string, string>): AppRuntime {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: server.ownerUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    SCHEDULER_ENABLED: 'false',
    SSM_TIMEOUT_MS: '1000',
    SSM_RETRIES: '1',
    ...env,
  });
  return { ...server.runtime, config, secrets: secretBoxFor(config) };
}

const CONFIGURE_FROM_SERVER = `mutation($input: ConfigureSmartAccountInput!) {
  configureSmartAccount(input: $input) { id virtualAccounts { id externalId } }
}`;
const MANAGE_VAS = 'mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id } }';

/**
 * The tenant admin takes the smart account from the configured license server and manages the named
 * virtual accounts (by external id); `tenant.va` is filled in.
 */
export async function adoptServerAccount(server: TestServer, tenant: AccountTenant, accountId: string, managed: string[]): Promise<void> {
  const data = await gqlData<{ configureSmartAccount: { virtualAccounts: { id: string; externalId: string }[] } }>(
    server,
    CONFIGURE_FROM_SERVER,
    { input: { accountId, fetchFromServer: true } },
    tenant.admin,
  );
  tenant.va = Object.fromEntries(data.configureSmartAccount.virtualAccounts.map((v) => [v.externalId, v.id]));
  await gqlData(server, MANAGE_VAS, { input: { virtualAccountIds: managed.map((id) => tenant.va[id]) } }, tenant.admin);
}
