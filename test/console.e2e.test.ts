import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { writeTarGz } from '../src/ssm/files/archive';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import { deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { entriesOf, exportSummary, importUsageFile } from './support/offline-fixtures';
import { checkPage, launchChromium, newPerson, tabTo } from './support/console-browser';

/**
 * The console (console/) in Debian's Chromium against the real server, real PostgreSQL and the
 * license-server simulator, signed in as each kind of person through the development sign-in (the
 * server runs without JWT settings, with its generated secret). What a person does and sees, found by
 * role and label; every page checked with axe-core and screenshotted at 1280 and 390 px.
 */

type RoleName = 'PROVIDER_ADMIN' | 'PROVIDER_OPERATOR' | 'TENANT_ADMIN' | 'TENANT_OPERATOR';
const ROLE_LABEL: Record<RoleName, string> = {
  PROVIDER_ADMIN: 'Provider administrator',
  PROVIDER_OPERATOR: 'Provider operator',
  TENANT_ADMIN: 'Tenant administrator',
  TENANT_OPERATOR: 'Tenant operator',
};
const DEVICES = 52;

let server: TestServer;
let sim: SimulatorHandle;
let browser: Browser;
const violations: Record<string, string[]> = {};

/** A token from the development endpoint, as the console's sign-in page gets it. */
async function devToken(role: RoleName, tenantUuid?: string): Promise<string> {
  const res = await fetch(`${server.origin}/dev/token`, { method: 'POST', body: JSON.stringify({ role, tenantId: tenantUuid }) });
  if (res.status !== 200) throw new Error(`/dev/token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function api<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await server.graphql<T>(query, variables, token);
  if (res.body.errors || !res.body.data) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(res.body.errors)}`);
  return res.body.data;
}

async function createTenantByApi(slug: string, name: string): Promise<{ id: string; uuid: string }> {
  const data = await api<{ createTenant: { id: string; uuid: string } }>(
    'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id uuid } }',
    { input: { name, slug } },
    await devToken('PROVIDER_ADMIN'),
  );
  return data.createTenant;
}

async function trustSimulator(): Promise<void> {
  await api('mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { mode } }', { input: { mode: 'OFFLINE', trustedSigningKeys: [sim.publicKeyPem] } }, await devToken('PROVIDER_ADMIN'));
}

/** The development sign-in page: pick a role (and a tenant), then Sign in. */
async function signIn(page: Page, role: RoleName, tenantName?: string): Promise<void> {
  await page.goto(`${server.origin}/`);
  await page.getByRole('radio', { name: ROLE_LABEL[role] }).check();
  if (tenantName) {
    await page.getByRole('combobox', { name: 'Tenant', exact: true }).click();
    await page.getByRole('option', { name: new RegExp(`^${tenantName} \\(`) }).click();
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function go(page: Page, link: string, heading: string | RegExp): Promise<void> {
  await page.getByRole('navigation', { name: /Provider|Tenant/ }).getByRole('link', { name: link, exact: true }).first().click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function pick(page: Page, label: string, option: string): Promise<void> {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** Gives a drop zone its file the way a person does without a mouse drag: its button opens the file picker. */
async function dropFile(page: Page, zone: string, name: string, buffer: Buffer): Promise<void> {
  const button = page.getByRole('button', { name: `Choose the ${zone.toLowerCase()}`, exact: true });
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button.click()]);
  await chooser.setFiles({ name, mimeType: 'application/gzip', buffer });
}

async function check(page: Page, name: string): Promise<void> {
  violations[name] = await checkPage(page, name);
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 'demo', accounts: 2 });
  // Development sign-in: no JWT settings (the harness's JWT_SECRET removed), so the generated secret.
  server = await startTestServer({ env: { JWT_SECRET: '' } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await sim?.close();
});

describe('the console in a browser', () => {
  it('a provider admin creates a tenant and sets offline mode with the license server’s signing key', async () => {
    const { context, page, problems } = await newPerson(browser);
    await page.goto(`${server.origin}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await check(page, 'sign-in');
    await signIn(page, 'PROVIDER_ADMIN');
    await page.getByRole('heading', { level: 1, name: 'Overview of all tenants' }).waitFor();
    await go(page, 'Tenants', 'Tenants');
    await page.getByLabel('Tenant name').fill('Northwind Networks');
    await page.getByLabel('Slug').fill('northwind');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('cell', { name: 'northwind', exact: true }).waitFor();
    await check(page, 'provider-tenants');

    await go(page, 'License server', 'License server');
    await pick(page, 'Sync mode', 'Offline (files carried by hand)');
    await page.getByLabel('Trusted signing keys').fill(sim.publicKeyPem);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('License server settings saved (Offline)').waitFor();
    await check(page, 'provider-license-server');

    const settings = await api<{ licenseSyncSettings: { mode: string; trustedSigningKeys: { publicKey: string }[] } }>(
      '{ licenseSyncSettings { mode trustedSigningKeys { publicKey } } }',
      {},
      await devToken('PROVIDER_OPERATOR'),
    );
    expect(settings.licenseSyncSettings.mode).toBe('OFFLINE');
    expect(settings.licenseSyncSettings.trustedSigningKeys.map((k) => k.publicKey.trim())).toEqual([sim.publicKeyPem.trim()]);

    await go(page, 'Overview', 'Overview of all tenants');
    await page.getByRole('link', { name: 'Northwind Networks' }).waitFor();
    await check(page, 'provider-overview');

    await go(page, 'Alerts', 'Alerts');
    await check(page, 'provider-alerts');

    // A tenant created, suspended and deleted with its slug typed again (only a suspended one can be).
    await go(page, 'Tenants', 'Tenants');
    await page.getByLabel('Tenant name').fill('Disposable Co');
    await page.getByLabel('Slug').fill('disposable');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('cell', { name: 'disposable', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Suspend Disposable Co' }).click();
    await page.getByRole('button', { name: 'Delete Disposable Co' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Disposable Co' });
    await confirm.waitFor();
    await check(page, 'provider-delete-dialog');
    const deleteButton = confirm.getByRole('button', { name: 'Delete tenant' });
    await confirm.getByLabel('Slug of the tenant to delete').fill('disposabl');
    await expect(deleteButton.isDisabled()).resolves.toBe(true);
    await confirm.getByLabel('Slug of the tenant to delete').fill('disposable');
    await deleteButton.click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'disposable', exact: true }).waitFor({ state: 'detached' });
    const gone = await api<{ tenants: { edges: { node: { slug: string } }[] } }>('{ tenants(first: 100) { edges { node { slug } } } }', {}, await devToken('PROVIDER_OPERATOR'));
    expect(gone.tenants.edges.map((e) => e.node.slug)).not.toContain('disposable');
    expect(gone.tenants.edges.map((e) => e.node.slug)).toContain('northwind');

    // The navigation of a phone-sized screen, opened.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Open navigation' }).click();
    await page.getByRole('button', { name: 'Close navigation' }).waitFor();
    await check(page, 'provider-navigation-open');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a tenant admin takes the summary in, licenses every unlicensed router, sees a live alert, and carries usage out and the acknowledgement back', async () => {
    await trustSimulator();
    const tenant = await createTenantByApi('acme', 'Acme Corp');
    const admin = await devToken('TENANT_ADMIN', tenant.uuid);
    const devices = await registerDevices(server, admin, Array.from({ length: DEVICES }, (_, i) => deviceInput(i + 1)));

    const { context, page, problems } = await newPerson(browser);
    await signIn(page, 'TENANT_ADMIN', 'Acme Corp');
    await page.getByRole('heading', { level: 1, name: 'Dashboard · Acme Corp' }).waitFor();

    // 1. The license summary file exported by the license server.
    const summary = await exportSummary(sim, 'SA-DEMO');
    await go(page, 'Offline files', 'Offline files');
    await dropFile(page, 'License summary file', 'license-summary.tar.gz', summary);
    await page.getByRole('status').filter({ hasText: 'License summary accepted' }).waitFor();
    await check(page, 'tenant-offline-summary');
    // The same file again is a replay; one changed byte breaks the signature: both said in words.
    await dropFile(page, 'License summary file', 'license-summary.tar.gz', summary);
    await page.getByRole('alert').filter({ hasText: 'Replay refused' }).waitFor();
    const entries = await entriesOf(summary);
    const tampered = await writeTarGz(entries.map((e) => (e.name === 'licenses.json' ? { name: e.name, data: Buffer.from(e.data.toString('utf8').replace('"quantity": ', '"quantity": 1')) } : e)));
    await dropFile(page, 'License summary file', 'license-summary.tar.gz', tampered);
    await page.getByRole('alert').filter({ hasText: 'Signature refused' }).waitFor();

    // 2. Manage the Branch virtual account (its postpaid lines are not capped).
    await go(page, 'Smart account', 'Smart account and virtual accounts');
    await page.getByRole('checkbox', { name: /^Branch/ }).check();
    await page.getByRole('button', { name: 'Save managed virtual accounts' }).click();
    await page.getByText('Managed virtual accounts saved').waitFor();
    await check(page, 'tenant-accounts');

    // 3. Every unlicensed router: more than a page, so "all matching the filter".
    await go(page, 'Devices', 'Devices');
    await pick(page, 'Licensed', 'Unlicensed');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await page.getByText(`${DEVICES} devices match`).waitFor();
    await page.getByRole('checkbox', { name: 'Select every device on this page' }).check();
    await page.getByRole('button', { name: `Select all ${DEVICES} devices matching the filter` }).click();
    await expect(page.getByTestId('selection-summary').innerText()).resolves.toBe(`${DEVICES} selected (all matching the filter)`);
    await check(page, 'tenant-devices');
    await page.getByRole('button', { name: 'Assign license' }).click();
    const dialog = page.getByRole('dialog', { name: `Assign a license to ${DEVICES} devices` });
    await pick(page, 'Tier', 'Tier 2 (1 Gbps)');
    await pick(page, 'Billing type', 'Postpaid only');
    await check(page, 'tenant-assign-dialog');
    // A double click assigns once: the second submit carries the same idempotency key.
    await dialog.getByRole('button', { name: 'Assign', exact: true }).dblclick();
    await dialog.getByRole('status').filter({ hasText: `${DEVICES} assigned` }).waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByText('No device matches the filter.').waitFor();
    await page.getByText('0 devices match').waitFor();
    const held = await server.sql<{ n: number }>('select count(*)::int as n from assignment where tenant_id = $1 and released_at is null', [tenant.uuid]);
    expect(held[0].n).toBe(DEVICES);

    await go(page, 'Dashboard', 'Dashboard · Acme Corp');
    await page.getByTestId('stat-licensed').filter({ hasText: new RegExp(`^${DEVICES}$`) }).waitFor();
    await page.getByTestId('stat-unlicensed').filter({ hasText: /^0$/ }).waitFor();
    await page.getByRole('figure', { name: 'Postpaid licenses in use and available' }).waitFor();
    await check(page, 'tenant-dashboard');

    // 4. Another session releases one router's license: the alert arrives live, as a toast and in the list.
    await go(page, 'Alerts', 'Alerts');
    await api('mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }', { input: { deviceIds: [devices[0].id] } }, admin);
    await page.getByRole('alert').filter({ hasText: 'Alert: Out of compliance' }).waitFor({ timeout: 20_000 });
    await page.getByRole('row').filter({ hasText: '1 device(s) out of compliance' }).waitFor();
    await check(page, 'tenant-alerts');
    await page.getByRole('button', { name: /^Acknowledge Out of compliance/ }).click();
    await page.getByRole('row').filter({ hasText: 'Acknowledged by dev-tenant-admin' }).first().waitFor();

    // 5. The usage report out, through the license server, and its acknowledgement back.
    await go(page, 'Offline files', 'Offline files');
    await page.getByRole('button', { name: 'Next: usage report' }).click();
    await page.getByRole('button', { name: 'Generate usage report' }).click();
    await page.getByRole('status').filter({ hasText: 'Usage report generated' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download usage report' }).click()]);
    const report = fs.readFileSync((await download.path()) as string);
    const imported = await importUsageFile(sim, report);
    expect(imported.status).toBe(200);
    await page.getByRole('button', { name: 'Next: acknowledgement' }).click();
    await dropFile(page, 'Acknowledgement file', 'ack.tar.gz', imported.body);
    await page.getByRole('status').filter({ hasText: 'Acknowledgement accepted' }).waitFor();
    await page.getByRole('cell', { name: /^Acknowledged / }).first().waitFor();
    await check(page, 'tenant-offline-ack');

    for (const [link, heading, name] of [
      ['License lines', 'License lines', 'tenant-licenses'],
      ['Usage', 'Usage per month', 'tenant-usage'],
      ['Audit log', 'Audit log', 'tenant-audit'],
      ['License server', 'License server', 'tenant-license-server'],
    ] as const) {
      await go(page, link, heading);
      await check(page, name);
    }
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('a second tenant sees none of another tenant’s devices, licenses, alerts or files', async () => {
    await trustSimulator();
    const other = await createTenantByApi('globex', 'Globex');
    const acme = await createTenantByApi('acme-2', 'Acme Two');
    const acmeAdmin = await devToken('TENANT_ADMIN', acme.uuid);
    await registerDevices(server, acmeAdmin, [deviceInput(9001), deviceInput(9002)]);
    await api('mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }', { input: { filter: {}, level: 'ADVANTAGE', tier: 'T1' } }, acmeAdmin);

    const { context, page, problems } = await newPerson(browser);
    await signIn(page, 'TENANT_ADMIN', 'Globex');
    await page.getByRole('heading', { level: 1, name: 'Dashboard · Globex' }).waitFor();
    await page.getByTestId('stat-devices').filter({ hasText: /^0$/ }).waitFor();
    await go(page, 'Devices', 'Devices');
    await page.getByText('0 devices match').waitFor();
    await expect(page.getByText('edge-009001.example').count()).resolves.toBe(0);
    await go(page, 'Alerts', 'Alerts');
    await page.getByText('No active alerts.').waitFor();
    await go(page, 'Audit log', 'Audit log');
    await page.getByText('0 events').waitFor();
    await go(page, 'Smart account', 'Smart account and virtual accounts');
    await page.getByText('No smart account yet.', { exact: false }).waitFor();
    // Another tenant's id in the address bar is answered as a nonexistent one would be.
    await page.goto(`${server.origin}/devices?tenant=${encodeURIComponent(acme.id)}`);
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    await page.getByText('0 devices match').waitFor();
    expect(problems).toEqual([]);
    await context.close();
    void other;
  });

  it('a tenant operator sees no admin-only action, and the API refuses them anyway', async () => {
    const tenant = await createTenantByApi('initech', 'Initech');
    const admin = await devToken('TENANT_ADMIN', tenant.uuid);
    const [device] = await registerDevices(server, admin, [deviceInput(7001)]);

    const { context, page, problems } = await newPerson(browser);
    await signIn(page, 'TENANT_OPERATOR', 'Initech');
    await go(page, 'Devices', 'Devices');
    await page.getByRole('checkbox', { name: 'Select edge-007001.example' }).check();
    await page.getByRole('button', { name: 'Assign license' }).waitFor();
    await expect(page.getByRole('button', { name: 'Decommission' }).count()).resolves.toBe(0);
    await go(page, 'Offline files', 'Offline files');
    await expect(page.getByRole('button', { name: 'Choose the license summary file' }).count()).resolves.toBe(0);
    await go(page, 'License server', 'License server');
    await expect(page.getByRole('button', { name: 'Save settings' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Synchronise now' }).count()).resolves.toBe(0);
    await check(page, 'operator-license-server');
    expect(problems).toEqual([]);
    await context.close();

    const operator = await devToken('TENANT_OPERATOR', tenant.uuid);
    for (const [query, variables] of [
      ['mutation($input: DecommissionDevicesInput!) { decommissionDevices(input: $input) { decommissioned } }', { input: { deviceIds: [device.id] } }],
      ['mutation($input: UploadFileInput!) { uploadLicenseSummary(input: $input) { serial } }', { input: { contentBase64: 'AAAA' } }],
      ['mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { mode } }', { input: { mode: 'ONLINE' } }],
      ['mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }', { input: { name: 'x', slug: 'x-op' } }],
    ] as const) {
      const res = await server.graphql(query, variables, operator);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('is usable by keyboard alone: skip link, navigation, selection and the assign dialog', async () => {
    const tenant = await createTenantByApi('umbrella', 'Umbrella');
    await registerDevices(server, await devToken('TENANT_ADMIN', tenant.uuid), [deviceInput(8001), deviceInput(8002)]);
    const { context, page } = await newPerson(browser);
    await signIn(page, 'TENANT_ADMIN', 'Umbrella');
    await page.getByRole('heading', { level: 1, name: 'Dashboard · Umbrella' }).waitFor();
    await page.keyboard.press('Tab');
    await expect(page.evaluate('document.activeElement.textContent')).resolves.toBe('Skip to content');
    await tabTo(page, 'Devices');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    await page.getByText('2 devices match').waitFor();
    await tabTo(page, 'Select every device on this page');
    await page.keyboard.press('Space');
    await page.getByTestId('selection-summary').filter({ hasText: /^2 selected$/ }).waitFor();
    await tabTo(page, 'Assign license');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Assign a license to 2 devices' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await context.close();
  });

  it('passes axe-core on every page checked, with no serious or critical violation', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(19);
    expect(Object.fromEntries(Object.entries(violations).filter(([, v]) => v.length > 0))).toEqual({});
  });
});
