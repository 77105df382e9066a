import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SsmClient, SsmError } from '../src/ssm/client';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import { makeServerPki } from '../src/ssm-simulator/tls';
import { listAlerts, theAlert } from './support/alert-fixtures';
import { addDevices, assign, createTrialTenant, dnaTag, type AccountTenant } from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';
import {
  addSimAccount,
  adoptServerAccount,
  simAccount,
  simLine,
  synchronize,
  useLicenseServer,
  type SetModeInput,
  type SyncRunView,
} from './support/sync-fixtures';
import { startTinyproxy, type Tinyproxy } from './support/tinyproxy';

/**
 * The license server over real TLS, and through a real forward proxy: an SSM On-Prem server (the
 * simulator with --tls) whose certificate a private CA signed, trusted through SSM_CA_CERT; a second
 * server whose CA nobody trusts; Debian's tinyproxy with Basic credentials in front of both (HTTPS
 * inside CONNECT tunnels). A machine without tinyproxy fails this suite, saying to install it.
 */

const PROXY_USER = 'ssmproxy';
const PROXY_PASSWORD = 'proxy-pw-5d2e8c';
const VERIFY_FAILURE = 'presented a certificate that does not verify against the system roots and SSM_CA_CERT';

describe('the license server over HTTPS with a private CA', () => {
  let server: TestServer;
  /** HTTPS, signed by the CA in SSM_CA_CERT. */
  let onPrem: SimulatorHandle;
  /** HTTPS, signed by a CA the product does not trust. */
  let stranger: SimulatorHandle;
  let proxy: Tinyproxy;
  let dir: string;
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ssm-tls-'));
    [onPrem, stranger] = await Promise.all([
      startSimulator({ port: 0, seed: 'tls-onprem', tls: {} }),
      startSimulator({ port: 0, seed: 'tls-stranger', tls: {} }),
    ]);
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, onPrem.caPem ?? '');
    // First: without tinyproxy the suite fails here, saying to install it, before a server is started.
    proxy = await startTinyproxy({ connectPorts: [onPrem.port, stranger.port], credentials: { username: PROXY_USER, password: PROXY_PASSWORD } });
    server = await startTestServer({ env: { SSM_CA_CERT: caFile } });
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([onPrem?.close(), stranger?.close()]);
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const throughProxy = (password = PROXY_PASSWORD): Partial<SetModeInput> => ({
    proxyUrl: proxy.url,
    proxyUsername: PROXY_USER,
    proxyPassword: password,
  });

  /**
   * A tenant whose smart account (one managed virtual account) is on both servers, configured from
   * `onPrem` (optionally through the proxy) and synced once.
   */
  const syncedTenant = async (label: string, extra: Partial<SetModeInput> = {}): Promise<{ tenant: AccountTenant; first: SyncRunView }> => {
    const tenant = await createTrialTenant(server, `tls-${label}-${++seq}`);
    const accountId = `SA-${tenant.slug.toUpperCase()}`;
    const vaId = `VA-${tenant.slug.toUpperCase()}`;
    const account = simAccount(accountId, [{ id: vaId, lines: [simLine(`${vaId}-L1`, dnaTag('A', 'T1'), 5)] }]);
    addSimAccount(onPrem, account);
    addSimAccount(stranger, account);
    await useLicenseServer(server, onPrem, 'ON_PREM', extra);
    await adoptServerAccount(server, tenant, accountId, [vaId]);
    return { tenant, first: await synchronize(server, tenant.admin) };
  };

  /** The run failed with the error, and the tenant's SYNC_FAILED alert says the same. */
  const expectFailedWith = async (tenant: AccountTenant, run: SyncRunView, expected: string): Promise<void> => {
    expect(run.status).toBe('FAILED');
    expect(run.errorMessage).toContain(expected);
    const alert = theAlert(await listAlerts(server, tenant.admin, { active: true }), 'SYNC_FAILED');
    expect(alert.message).toContain(expected);
    expect(alert.details).toMatchObject({ syncRunId: run.id, error: run.errorMessage });
  };

  it('syncs with an ON_PREM server over HTTPS whose certificate a private CA in SSM_CA_CERT signed: lines in, usage out', async () => {
    expect(onPrem.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { tenant, first } = await syncedTenant('direct');
    expect(first).toMatchObject({ status: 'SUCCEEDED', mode: 'ON_PREM', linesAdded: 1, errorMessage: null });

    const [device] = await addDevices(server, tenant, 1, {}, 701);
    await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
    const usageBefore = onPrem.state.usage.length;
    const second = await synchronize(server, tenant.admin);

    expect(second).toMatchObject({ status: 'SUCCEEDED', usageReported: 1 });
    expect(onPrem.state.usage.slice(usageBefore)).toHaveLength(1);
  });

  it('fails the sync naming the host when its certificate does not verify against the system roots and SSM_CA_CERT, on the run and its SYNC_FAILED alert, without retrying', async () => {
    const { tenant, first } = await syncedTenant('untrusted');
    expect(first.status).toBe('SUCCEEDED');
    await useLicenseServer(server, stranger, 'ON_PREM');
    const requestsBefore = stranger.state.requests.length;

    const run = await synchronize(server, tenant.admin);

    await expectFailedWith(tenant, run, `the license server 127.0.0.1:${stranger.port} ${VERIFY_FAILURE}: `);
    // The leaf's issuer is unknown and not sent: OpenSSL's words for that.
    expect(run.errorMessage).toMatch(/unable to verify the first certificate|self-signed certificate|unable to get local issuer certificate/);
    expect(run.errorMessage).not.toMatch(/after \d+ attempts/);
    expect(stranger.state.requests.length).toBe(requestsBefore);
  });

  describe('through tinyproxy', () => {
    it('tunnels HTTPS to the server through CONNECT with the proxy credentials, and syncs', async () => {
      const tunnelsBefore = proxy.tunnels().length;
      const { tenant, first } = await syncedTenant('proxied', throughProxy());
      expect(first).toMatchObject({ status: 'SUCCEEDED', linesAdded: 1 });

      const [device] = await addDevices(server, tenant, 1, {}, 702);
      await assign(server, tenant.operator, { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
      const second = await synchronize(server, tenant.admin);

      expect(second).toMatchObject({ status: 'SUCCEEDED', usageReported: 1 });
      const tunnels = proxy.tunnels().slice(tunnelsBefore);
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([`127.0.0.1:${onPrem.port}`]));
    });

    it('fails the sync, naming the proxy, when the proxy refuses the credentials, and never shows the password', async () => {
      const { tenant } = await syncedTenant('proxy-refused', throughProxy());
      await useLicenseServer(server, onPrem, 'ON_PREM', throughProxy('not-the-password'));
      const requestsBefore = onPrem.state.requests.length;

      const run = await synchronize(server, tenant.admin);

      // tinyproxy 1.11 answers a CONNECT with wrong credentials 401 (407 for plain requests): both mean refused.
      await expectFailedWith(tenant, run, `the proxy 127.0.0.1:${proxy.port} refused the credentials (401)`);
      expect(run.errorMessage).not.toContain('not-the-password');
      expect(run.errorMessage).not.toMatch(/after \d+ attempts/);
      expect(onPrem.state.requests.length).toBe(requestsBefore);
    });

    it('fails the sync naming the host when the certificate does not verify, also inside the tunnel', async () => {
      const { tenant } = await syncedTenant('proxy-untrusted', throughProxy());
      await useLicenseServer(server, stranger, 'ON_PREM', throughProxy());
      const tunnelsBefore = proxy.tunnels().length;

      const run = await synchronize(server, tenant.admin);

      await expectFailedWith(tenant, run, `the license server 127.0.0.1:${stranger.port} ${VERIFY_FAILURE}: `);
      expect(run.errorMessage).toContain(`(through proxy 127.0.0.1:${proxy.port})`);
      expect(proxy.tunnels().slice(tunnelsBefore)).toContain(`127.0.0.1:${stranger.port}`);
    });
  });
});

describe('the client and the simulator over HTTPS', () => {
  const smartAccount = async (sim: SimulatorHandle, extraCa: string[], host = '127.0.0.1'): Promise<unknown> => {
    const client = new SsmClient({ baseUrl: sim.url.replace('127.0.0.1', host), clientId: sim.clientId, clientSecret: sim.clientSecret, extraCa, retries: 0 });
    try {
      return await client.getSmartAccount('SA-DEMO');
    } finally {
      await client.close();
    }
  };

  it('serves a certificate it is given (--cert/--key), and the client trusts it through its CA by any name the certificate holds', async () => {
    const pki = await makeServerPki(['localhost', '127.0.0.1']);
    const sim = await startSimulator({ port: 0, seed: 'demo', tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    try {
      expect(sim.caPem).toBeUndefined();
      await expect(smartAccount(sim, [pki.caPem])).resolves.toMatchObject({ accountId: 'SA-DEMO' });
      await expect(smartAccount(sim, [pki.caPem], 'localhost')).resolves.toMatchObject({ accountId: 'SA-DEMO' });
    } finally {
      await sim.close();
    }
  });

  it('names the host and the names the certificate holds when a trusted certificate is for another host', async () => {
    const sim = await startSimulator({ port: 0, seed: 'demo', tls: { names: ['ssm.example'] } });
    try {
      const failure = smartAccount(sim, [sim.caPem ?? '']);
      await expect(failure).rejects.toBeInstanceOf(SsmError);
      await expect(failure).rejects.toMatchObject({
        code: 'UNTRUSTED_CERTIFICATE',
        message: `POST /oauth/token: the license server 127.0.0.1:${sim.port} presented a certificate that is not valid for 127.0.0.1: it is for DNS:ssm.example`,
      });
    } finally {
      await sim.close();
    }
  });
});
