import fs from 'node:fs';
import path from 'node:path';
import { CONSOLE_OUT_DIR } from '../scripts/build-console';
import { startTestServer, type TestServer } from './support/harness';

/**
 * The server side of the console (src/server/console.ts): its page and files with their cache headers
 * and CSP, the runtime configuration it signs in with, and the development-only token endpoint, which
 * exists only in development with the generated secret. The console itself is built by the jest global
 * setup (scripts/build-console.ts).
 */

const HTML = { accept: 'text/html,application/xhtml+xml' };

async function devToken(server: TestServer, body: unknown): Promise<Response> {
  return fetch(`${server.origin}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('the console on the API server', () => {
  describe('in development without JWT settings (the generated secret)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { JWT_SECRET: '' } });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('says the console signs in with development tokens', async () => {
      const res = await fetch(`${server.origin}/console/config.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ signIn: 'dev' });
    });

    it('issues a token for a role and tenant that the API accepts, as that role', async () => {
      const provider = (await (await devToken(server, { role: 'PROVIDER_ADMIN' })).json()) as { token: string };
      const created = await server.graphql<{ createTenant: { uuid: string } }>(
        'mutation { createTenant(input: { name: "Dev", slug: "dev-console" }) { uuid } }',
        {},
        provider.token,
      );
      expect(created.body.errors).toBeUndefined();
      const uuid = created.body.data!.createTenant.uuid;
      const res = await devToken(server, { role: 'TENANT_OPERATOR', tenantId: uuid });
      expect(res.status).toBe(200);
      const { token } = (await res.json()) as { token: string };
      const viewer = await server.graphql<{ viewer: { role: string; subject: string; tenant: { slug: string } } }>('{ viewer { role subject tenant { slug } } }', {}, token);
      expect(viewer.body.data?.viewer).toEqual({ role: 'TENANT_OPERATOR', subject: 'dev-tenant-operator', tenant: { slug: 'dev-console' } });
    });

    it('refuses an unknown role, a tenant role without a tenant uuid and a provider role with one, with BAD_USER_INPUT', async () => {
      for (const body of [{ role: 'ROOT' }, { role: 'TENANT_ADMIN' }, { role: 'TENANT_ADMIN', tenantId: 'acme' }, { role: 'PROVIDER_ADMIN', tenantId: '7b0c0d7e-4a44-4a70-9a51-0c8e1f7d2a11' }]) {
        const res = await devToken(server, body);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('BAD_USER_INPUT');
      }
      const notJson = await fetch(`${server.origin}/dev/token`, { method: 'POST', body: '{role' });
      expect(notJson.status).toBe(400);
    });
  });

  describe('with JWT settings (as every test server and production have)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('answers POST /dev/token with 404 and tells the console that sign-in is not configured', async () => {
      const res = await devToken(server, { role: 'PROVIDER_ADMIN' });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/eyJ/);
      const config = (await (await fetch(`${server.origin}/console/config.json`)).json()) as { signIn: string; reason: string };
      expect(config.signIn).toBe('none');
      expect(config.reason).toMatch(/CONSOLE_OIDC_CLIENT_ID/);
    });

    it('serves the page at / and at any console path a browser asks for, never cached, with a CSP that allows only this server', async () => {
      for (const p of ['/', '/devices', '/tenants/anything?x=1']) {
        const res = await fetch(`${server.origin}${p}`, { headers: HTML });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('cache-control')).toBe('no-cache');
        const csp = res.headers.get('content-security-policy') ?? '';
        expect(csp).toMatch(/default-src 'self'/);
        expect(csp).toMatch(/script-src 'self';/);
        expect(csp).not.toMatch(/unsafe-eval|https?:\/\/(?!127\.0\.0\.1)/);
        expect(csp).toContain(`ws://${new URL(server.origin).host}`);
        expect(await res.text()).toMatch(/<div id="root"><\/div>/);
      }
    });

    it('serves the hashed files for a year as immutable, gzipped when asked, and 404 for anything else', async () => {
      const html = fs.readFileSync(path.join(CONSOLE_OUT_DIR, 'index.html'), 'utf8');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const res = await fetch(`${server.origin}${script}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('content-encoding')).toBe('gzip');
      const etag = res.headers.get('etag') ?? '';
      expect((await fetch(`${server.origin}${script}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      for (const bad of ['/assets/nope.js', '/assets/..%2Findex.html', '/assets/.build-stamp']) {
        expect((await fetch(`${server.origin}${bad}`)).status).toBe(404);
      }
    });

    it('leaves the API, the file routes and non-browser requests to their own answers', async () => {
      expect((await fetch(`${server.origin}/graphql`, { headers: { accept: 'application/json' } })).headers.get('content-type')).not.toMatch(/text\/html/);
      expect((await fetch(`${server.origin}/files/devices.csv`, { headers: HTML })).status).toBe(401);
      expect((await fetch(`${server.origin}/healthz`, { headers: HTML })).headers.get('content-type')).toMatch(/json/);
      expect((await fetch(`${server.origin}/devices`)).status).toBe(404);
      expect((await fetch(`${server.origin}/dev/token`, { headers: HTML })).status).toBe(404);
    });
  });

  it('answers POST /dev/token with 404 in production', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      expect((await devToken(server, { role: 'PROVIDER_ADMIN' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('gives the console the identity provider and client to sign in with, and lets the page reach that provider', async () => {
    const server = await startTestServer({ env: { CONSOLE_OIDC_CLIENT_ID: 'license-console', JWT_ISSUER: 'https://idp.example/realms/sdwan' } });
    try {
      const config = await (await fetch(`${server.origin}/console/config.json`)).json();
      expect(config).toEqual({ signIn: 'oidc', issuer: 'https://idp.example/realms/sdwan', clientId: 'license-console', scope: 'openid profile', audience: 'sdwan-license-manager' });
      const csp = (await fetch(`${server.origin}/`, { headers: HTML })).headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/connect-src 'self' ws:\/\/\S+ wss:\/\/\S+ https:\/\/idp\.example;/);
      expect(csp).toMatch(/frame-src 'self' https:\/\/idp\.example;/);
      expect((await devToken(server, { role: 'PROVIDER_ADMIN' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
