import type { Browser, Page, Request } from 'playwright-core';
import { deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { startTestIdp, type TestIdp } from './support/oidc-idp';
import { launchChromium, newPerson, seriousViolations } from './support/console-browser';

/**
 * The console's production sign-in in Debian's Chromium: OpenID Connect, authorization code flow with
 * PKCE, against a real OpenID provider (oidc-provider, test/support/oidc-provider-process.mjs) that the
 * API trusts through discovery. A person signs in on the provider's own login page, works with the API
 * with the token the provider issued, is renewed without seeing the provider again, and signs out of both.
 */

const CLIENT_ID = 'license-console';
// Short-lived access tokens: oidc-client-ts renews 60 s before expiry, so about 15 s after sign-in.
const ACCESS_TOKEN_TTL_SEC = 75;

let idp: TestIdp;
let server: TestServer;
let browser: Browser;

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The bearer tokens the page sent to the API, in order. */
function bearerTokens(page: Page): string[] {
  const tokens: string[] = [];
  page.on('request', (request: Request) => {
    const auth = request.headers().authorization;
    if (request.url().startsWith(`${server.origin}/graphql`) && auth?.startsWith('Bearer ')) tokens.push(auth.slice('Bearer '.length));
  });
  return tokens;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The provider's development login page, then its consent page. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(idp.issuer));
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

beforeAll(async () => {
  idp = await startTestIdp();
  server = await startTestServer({
    env: { JWT_SECRET: '', JWT_ISSUER: idp.issuer, JWT_OIDC_DISCOVERY: 'true', JWT_AUDIENCE: idp.resource, CONSOLE_OIDC_CLIENT_ID: CLIENT_ID },
  });
  expect(await idp.consoleClient(server.origin, { accessTokenTTL: ACCESS_TOKEN_TTL_SEC })).toBe(CLIENT_ID);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

describe('signing in to the console with the identity provider', () => {
  it('a tenant admin signs in on the provider’s page, works with its token, is renewed silently, and signs out', async () => {
    const provider = await idp.token({ claims: { role: 'PROVIDER_ADMIN' } });
    const created = await server.graphql<{ createTenant: { uuid: string } }>(
      'mutation($input: CreateTenantInput!) { createTenant(input: $input) { uuid } }',
      { input: { name: 'Contoso', slug: 'contoso' } },
      provider,
    );
    const tenantUuid = created.body.data!.createTenant.uuid;
    await registerDevices(server, await idp.token({ claims: { role: 'TENANT_ADMIN', tenantId: tenantUuid } }), [deviceInput(5001), deviceInput(5002)]);
    // Development sign-in is off in this configuration.
    expect((await fetch(`${server.origin}/dev/token`, { method: 'POST', body: '{"role":"PROVIDER_ADMIN"}' })).status).toBe(404);

    const { context, page, problems } = await newPerson(browser);
    const tokens = bearerTokens(page);
    const tokenRequests: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().startsWith(`${idp.issuer}/token`)) tokenRequests.push(new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '');
    });

    // A link to the devices page, opened signed out: the provider's sign-in, then back to that page.
    await page.goto(`${server.origin}/devices`);
    await page.getByText("Sign in with your organisation's account.").waitFor();
    await expect(seriousViolations(page)).resolves.toEqual([]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signInAtProvider(page, `TENANT_ADMIN@${tenantUuid}`);
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/devices');
    await page.getByText('2 devices match').waitFor();
    await page.getByText('edge-005001.example').waitFor();
    expect(tokenRequests).toEqual(['authorization_code']);

    // The API was called with the provider's access token for it, kept in memory only.
    const first = tokens[tokens.length - 1];
    expect(claimsOf(first)).toMatchObject({ iss: idp.issuer, aud: idp.resource, role: 'TENANT_ADMIN', tenantId: tenantUuid });
    const stored = (await page.evaluate('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])')) as string;
    expect(stored).not.toContain(first);

    // Silent renew before the token expires: a new token, from the provider session, without its pages.
    await until(() => tokenRequests.length > 1, (ACCESS_TOKEN_TTL_SEC - 30) * 1000);
    expect(tokenRequests).toEqual(['authorization_code', 'authorization_code']);
    expect(new URL(page.url()).origin).toBe(server.origin);
    await page.getByRole('navigation', { name: /Tenant/ }).getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
    await page.getByText('No active alerts.').waitFor();
    const renewed = tokens[tokens.length - 1];
    expect(renewed).not.toBe(first);
    expect(claimsOf(renewed)).toMatchObject({ iss: idp.issuer, role: 'TENANT_ADMIN', tenantId: tenantUuid });
    expect(claimsOf(renewed).exp as number).toBeGreaterThan(claimsOf(first).exp as number);

    // Sign out ends the provider's session too: the next sign-in asks for a login again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).origin).toBe(server.origin);
    await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await page.getByPlaceholder('Enter any login').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
