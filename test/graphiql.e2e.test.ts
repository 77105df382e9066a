import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildGraphiQL } from '../scripts/build-graphiql';
import { createTenant, deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * The bundled GraphiQL page (src/server/graphiql.ts, web/graphiql) in Debian's headless Chromium,
 * driven by playwright-core: a query and a licenseAlerts subscription with a real token, every
 * request the browser makes staying on 127.0.0.1, and no Content-Security-Policy violation.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ASSIGN = `mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned pending } }`;
const RELEASE = `mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }`;

/** Text of the response pane (Monaco renders spaces as U+00A0). */
async function responseText(page: Page): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
}

/** Replaces the query editor's text and runs it. insertText types no keys, so no brackets auto-close. */
async function runOperation(page: Page, text: string): Promise<void> {
  const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // GraphiQL takes the editor's text into its state after a debounce (and stores it then): run only
  // once it has, or a busy machine runs the previous operation again.
  await until('GraphiQL to take the new operation', async () => (await page.evaluate("localStorage.getItem('graphiql:query')")) === text);
  await page.locator('.graphiql-execute-button').click();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GraphiQL in a browser', () => {
  let server: TestServer;
  let context: BrowserContext;
  let userDataDir: string;
  const requests: string[] = [];
  const consoleMessages: string[] = [];

  beforeAll(async () => {
    // The page is what `npm run build` bundles; built here when the sources changed since.
    await buildGraphiQL();
    server = await startTestServer();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    context.on('request', (req) => requests.push(req.url()));
    // Dedicated workers' requests (Monaco's language services) are reported by the worker.
    context.on('page', (p) => p.on('worker', (w) => requests.push(w.url())));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await server?.close();
  });

  it('runs a query and a subscription with the token from its field, all from 127.0.0.1, without a CSP violation', async () => {
    const tenant = await createTenant(server, 'graphiql');
    const admin = server.token('TENANT_ADMIN', tenant.uuid, { sub: 'graphiql-tenant-admin' });
    const [device] = await registerDevices(server, admin, [deviceInput(1)]);

    const page = await context.newPage();
    page.on('console', (m) => consoleMessages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleMessages.push(`pageerror: ${e.message}`));
    const frames: string[] = [];
    page.on('websocket', (ws) => {
      requests.push(ws.url());
      ws.on('framereceived', (f) => frames.push(String(f.payload)));
    });
    // In the page (this file is type-checked without the DOM library, hence source text).
    await page.addInitScript({
      content: `window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
    });

    // A browser's GET /graphql is answered with the page, as GET /graphiql is.
    const response = await page.goto(`${server.origin}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self';/);
    expect(response?.headers()['content-security-policy']).not.toMatch(/unsafe-eval/);
    await page.locator('.graphiql-query-editor .monaco-editor').first().waitFor({ timeout: 30_000 });

    // The token field: kept in sessionStorage, sent on HTTP and in graphql-ws connectionParams.
    await page.fill('#slm-token-input', admin);
    await page.press('#slm-token-input', 'Enter');
    await expect(page.getByTestId('token-state').innerText()).resolves.toBe('token set');
    expect(await page.evaluate("sessionStorage.getItem('sdwan-license-manager.graphiql.token')")).toBe(admin);

    await runOperation(page, 'query Me { viewer { subject role tenant { slug } } }');
    await until('the query result in the response pane', async () => (await responseText(page)).includes('graphiql-tenant-admin'));
    const result = await responseText(page);
    expect(result).toContain('"role": "TENANT_ADMIN"');
    expect(result).toContain('"slug": "graphiql"');

    await runOperation(page, 'subscription Alerts { licenseAlerts { kind active } }');
    // The subscription is live once the server counts its subscriber; then an assignment in this tenant
    // without a smart account raises UNRECONCILED_ASSIGNMENTS (a release clears it, to raise it again).
    await until('the licenseAlerts subscriber on the server', async () => server.stats().alerts.subscribers === 1, 60_000);
    // Assigning raises other alerts too (the pane shows the latest event): the frames must carry that one.
    const received = () => frames.some((f) => f.includes('"licenseAlerts"') && f.includes('UNRECONCILED_ASSIGNMENTS'));
    for (let attempt = 0; attempt < 6 && !received(); attempt++) {
      const assign = attempt % 2 === 0;
      const input = assign ? { deviceIds: [device.id], level: 'ADVANTAGE', tier: 'T1' } : { deviceIds: [device.id] };
      const res = await server.graphql(assign ? ASSIGN : RELEASE, { input }, admin);
      expect(res.body.errors).toBeUndefined();
      const deadline = Date.now() + 10_000;
      while (!received() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    expect(received()).toBe(true);
    await until('an alert event in the response pane', async () => /"licenseAlerts": \{\s*"kind": "[A-Z_]+",\s*"active": (true|false)/.test(await responseText(page)));

    // The subscription went over graphql-ws to this server.
    const origin = new URL(server.origin);
    expect(requests).toContain(`ws://${origin.host}/graphql`);
    expect(requests.some((u) => u.endsWith('/graphiql/assets/graphql.worker.js'))).toBe(true);
    const elsewhere = requests.filter((u) => {
      const url = new URL(u);
      return url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1';
    });
    expect(elsewhere).toEqual([]);
    expect(requests.length).toBeGreaterThan(3);

    const violations = await page.evaluate('window.cspViolations');
    expect(violations).toEqual([]);
    expect(consoleMessages.filter((m) => /Content Security Policy|pageerror/i.test(m))).toEqual([]);
    await page.close();
  }, 180_000);
});

describe('GraphiQL in production', () => {
  const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it('is off without GRAPHIQL: /graphiql is 404 and a browser GET /graphql gets the API answer (401 without a token)', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      expect((await fetch(`${server.origin}/graphiql`)).status).toBe(404);
      expect((await fetch(`${server.origin}/graphiql/assets/graphiql.js`)).status).toBe(404);
      const browser = await fetch(`${server.origin}/graphql`, { headers: { accept: browserAccept } });
      expect(browser.status).toBe(401);
      expect(browser.headers.get('content-type')).not.toMatch(/text\/html/);
      // Introspection stays off, even for a token holder.
      const res = await server.graphql('{ __schema { queryType { name } } }', {}, server.token('PROVIDER_ADMIN'));
      expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await server.close();
    }
  });

  it('is served with GRAPHIQL=true, with introspection for token holders (its docs need it)', async () => {
    await buildGraphiQL();
    const server = await startTestServer({ env: { NODE_ENV: 'production', GRAPHIQL: 'true' } });
    try {
      const page = await fetch(`${server.origin}/graphiql`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await page.text()).toContain('/graphiql/assets/graphiql.js');
      const script = await fetch(`${server.origin}/graphiql/assets/graphiql.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect((await fetch(`${server.origin}/graphql`, { headers: { accept: browserAccept } })).status).toBe(200);
      // Non-browser GETs of /graphql are API calls as before.
      const api = await fetch(`${server.origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
      expect(api.status).toBe(401);
      // Only names the build wrote are served.
      expect((await fetch(`${server.origin}/graphiql/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
      expect((await fetch(`${server.origin}/graphiql/assets/.build-stamp`)).status).toBe(404);

      const introspection = await server.graphql<{ __schema: { queryType: { name: string } } }>(
        '{ __schema { queryType { name } } }',
        {},
        server.token('TENANT_OPERATOR', '00000000-0000-4000-8000-000000000001'),
      );
      expect(introspection.body.data?.__schema.queryType.name).toBe('Query');
      expect((await server.graphql('{ __schema { queryType { name } } }', {}, null)).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
