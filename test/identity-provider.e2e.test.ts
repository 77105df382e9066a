import { createPublicKey, createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { toGlobalId } from '../src/common/global-id';
import { startTestIdp, type TestIdp } from './support/oidc-idp';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/harness';

/**
 * The API against a real OpenID provider (oidc-provider in a child process): keys from its JWKS,
 * found through discovery or configured directly, rotated while the API runs, claims as identity
 * providers send them. Tokens come from the provider's real token endpoint.
 */

const VIEWER = '{ viewer { subject role tenant { slug uuid } } }';
type ViewerData = { viewer: { subject: string; role: string; tenant: { slug: string; uuid: string } | null } };

const KEYCLOAK_STYLE = {
  JWT_ROLE_CLAIM: 'realm_access.roles',
  JWT_TENANT_CLAIM: 'tenant',
  JWT_ROLE_MAP: 'lm-admins=PROVIDER_ADMIN,lm-operators=PROVIDER_OPERATOR,customer-admins=TENANT_ADMIN,customer-operators=TENANT_OPERATOR',
};

/** Environment of an API server that trusts `idp` (no JWT_SECRET). */
function idpEnv(idp: TestIdp, extra: Record<string, string> = {}): Record<string, string> {
  return { JWT_SECRET: '', JWT_ISSUER: idp.issuer, JWT_AUDIENCE: idp.resource, ...extra };
}

async function viewerWith(server: TestServer, token: string): Promise<GraphQLResponse<ViewerData>> {
  return server.graphql<ViewerData>(VIEWER, {}, token);
}

function expectRefused(res: GraphQLResponse, why: RegExp): void {
  expect(res.status).toBe(401);
  expect(res.body.data ?? null).toBeNull();
  expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.body.errors?.[0].message).toMatch(why);
}

/** A tenant arranged directly in the database (the servers here accept IdP tokens only). */
async function insertTenant(server: TestServer, slug: string): Promise<{ uuid: string; slug: string }> {
  const [row] = await server.sql<{ id: string }>("insert into tenant (id, name, slug) values (gen_random_uuid(), $1, $2) returning id", [
    `Tenant ${slug}`,
    slug,
  ]);
  return { uuid: row.id, slug };
}

/** Log lines the server writes, kept for assertions. */
function capturedLog(): { log: pino.Logger; lines: () => { level: number; msg: string }[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'warn' }, sink), lines: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

/**
 * For the enclosing describe: a fresh OpenID provider and an API server trusting it (`env` adds the
 * key source and claim settings to JWT_ISSUER / JWT_AUDIENCE, which name the provider).
 */
function apiTrustingIdp(
  env: (idp: TestIdp) => Record<string, string>,
  options: { log?: pino.Logger; beforeServer?: (idp: TestIdp) => Promise<void> } = {},
): { idp: TestIdp; server: TestServer } {
  const api = {} as { idp: TestIdp; server: TestServer };
  beforeAll(async () => {
    api.idp = await startTestIdp();
    await options.beforeServer?.(api.idp);
    api.server = await startTestServer({ env: idpEnv(api.idp, env(api.idp)), log: options.log });
  });
  afterAll(async () => {
    await api.server?.close();
    await api.idp?.close();
  });
  return api;
}

describe('OpenID discovery and IdP claims (Keycloak-style: realm_access.roles, tenant in a custom claim)', () => {
  const api = apiTrustingIdp(() => ({ JWT_OIDC_DISCOVERY: 'true', JWT_JWKS_REFETCH_MIN_MS: '0', ...KEYCLOAK_STYLE }));
  let tenant: { uuid: string; slug: string };
  beforeAll(async () => {
    tenant = await insertTenant(api.server, 'acme-idp');
  });

  it('accepts a provider token from the IdP, with its keys found through discovery', async () => {
    const token = await api.idp.token({ claims: { realm_access: { roles: ['offline_access', 'lm-admins'] } } });
    const res = await viewerWith(api.server, token);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: 'license-manager-tests', role: 'PROVIDER_ADMIN', tenant: null });
  });

  it('takes the first value of a role list that JWT_ROLE_MAP maps, in the token order', async () => {
    const operatorFirst = await api.idp.token({
      claims: { realm_access: { roles: ['default-roles-acme', 'customer-operators', 'customer-admins'] }, tenant: tenant.uuid },
    });
    expect((await viewerWith(api.server, operatorFirst)).body.data?.viewer.role).toBe('TENANT_OPERATOR');
    const adminFirst = await api.idp.token({ claims: { realm_access: { roles: ['customer-admins', 'customer-operators'] }, tenant: tenant.uuid } });
    expect((await viewerWith(api.server, adminFirst)).body.data?.viewer.role).toBe('TENANT_ADMIN');
  });

  it('refuses a role list in which nothing maps, and a role name that JWT_ROLE_MAP does not list', async () => {
    const unmapped = await api.idp.token({ claims: { realm_access: { roles: ['offline_access', 'uma_authorization'] } } });
    expectRefused(await viewerWith(api.server, unmapped), /realm_access\.roles .*offline_access.* is not a known role nor a group in JWT_ROLE_MAP/);
    const bareRoleName = await api.idp.token({ claims: { realm_access: { roles: ['PROVIDER_ADMIN'] } } });
    expectRefused(await viewerWith(api.server, bareRoleName), /not a known role nor a group in JWT_ROLE_MAP/);
  });

  it.each([
    ['uuid', () => tenant.uuid],
    ['upper-case uuid', () => tenant.uuid.toUpperCase()],
    ['GraphQL id', () => toGlobalId('Tenant', tenant.uuid)],
    ['slug', () => tenant.slug],
  ])('accepts the tenant claim holding the tenant %s', async (_what, value) => {
    const token = await api.idp.token({ claims: { realm_access: { roles: ['customer-admins'] }, tenant: value() } });
    const res = await viewerWith(api.server, token);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer.tenant).toEqual({ slug: tenant.slug, uuid: tenant.uuid });
  });

  it('refuses a tenant claim that names no tenant, and a tenant role without the claim', async () => {
    const unknownSlug = await api.idp.token({ claims: { realm_access: { roles: ['customer-admins'] }, tenant: 'no-such-tenant' } });
    expectRefused(await viewerWith(api.server, unknownSlug), /tenant claim "no-such-tenant" names no tenant/);
    const otherTypeId = await api.idp.token({ claims: { realm_access: { roles: ['customer-admins'] }, tenant: toGlobalId('Device', tenant.uuid) } });
    expectRefused(await viewerWith(api.server, otherTypeId), /names no tenant/);
    const missing = await api.idp.token({ claims: { realm_access: { roles: ['customer-admins'] } } });
    expectRefused(await viewerWith(api.server, missing), /TENANT_ADMIN needs a tenant claim/);
  });

  it('refuses a provider token that carries a tenant claim (ambiguous scope)', async () => {
    const token = await api.idp.token({ claims: { realm_access: { roles: ['lm-operators'] }, tenant: tenant.slug } });
    expectRefused(await viewerWith(api.server, token), /PROVIDER_OPERATOR must not carry a tenant claim/);
  });

  it('shows a provider the value to put into the IdP tenant claim as Tenant.uuid', async () => {
    const token = await api.idp.token({ claims: { realm_access: { roles: ['lm-operators'] } } });
    const res = await api.server.graphql<{ tenants: { edges: { node: { slug: string; uuid: string } }[] } }>(
      '{ tenants(first: 100) { edges { node { slug uuid } } } }',
      {},
      token,
    );
    expect(res.body.data?.tenants.edges.map((e) => e.node)).toContainEqual({ slug: tenant.slug, uuid: tenant.uuid });
  });

  it('accepts ES256 and PS256 tokens from keys the IdP adds to its set', async () => {
    await api.idp.publish(['rsa-1', 'ec-1']);
    const claims = { realm_access: { roles: ['lm-operators'] } };
    for (const token of [await api.idp.token({ claims, kid: 'ec-1', alg: 'ES256' }), await api.idp.token({ claims, kid: 'rsa-1', alg: 'PS256' })]) {
      const res = await viewerWith(api.server, token);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.viewer.role).toBe('PROVIDER_OPERATOR');
    }
  });

  it('accepts an IdP token over WebSocket (connection_init) and closes the socket with 4403 for a refused one', async () => {
    const good = await api.idp.token({ claims: { realm_access: { roles: ['customer-operators'] }, tenant: tenant.slug } });
    const bad = await api.idp.token({ claims: { realm_access: { roles: ['customer-operators'] }, tenant: 'no-such-tenant' } });
    const answers: string[] = [];
    for (const token of [good, bad]) {
      const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      answers.push(
        await new Promise<string>((resolve, reject) => {
          socket.once('error', reject);
          socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
          socket.once('message', (data) => resolve(String(JSON.parse(String(data)).type)));
          socket.once('close', (code) => resolve(`closed ${code}`));
        }),
      );
      socket.close();
    }
    expect(answers).toEqual(['connection_ack', 'closed 4403']);
  });

  describe('attacks on JWKS mode', () => {
    const nowSec = (): number => Math.floor(Date.now() / 1000);
    const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = (): Record<string, unknown> => ({
      sub: 'mallory',
      iss: api.idp.issuer,
      aud: api.idp.resource,
      iat: nowSec(),
      exp: nowSec() + 600,
      realm_access: { roles: ['lm-admins'] },
    });

    it('accepts a token the test signs with the IdP key (control for the attacks below)', async () => {
      const res = await viewerWith(api.server, await api.idp.sign('rsa-1', 'RS256', claims()));
      expect(res.body.data?.viewer).toEqual({ subject: 'mallory', role: 'PROVIDER_ADMIN', tenant: null });
    });

    it('refuses an unsigned token (alg: none) naming a known kid', async () => {
      const token = `${b64({ alg: 'none', typ: 'JWT', kid: 'rsa-1' })}.${b64(claims())}.`;
      expectRefused(await viewerWith(api.server, token), /unsigned/);
    });

    it('refuses an HS256 token signed with the IdP public key as the secret', async () => {
      const jwks = (await (await fetch(api.idp.jwksUrl)).json()) as { keys: { kid: string }[] };
      const pem = createPublicKey({ key: jwks.keys.find((k) => k.kid === 'rsa-1') as never, format: 'jwk' })
        .export({ format: 'pem', type: 'spki' })
        .toString();
      const unsigned = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })}.${b64(claims())}`;
      const token = `${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`;
      expectRefused(await viewerWith(api.server, token), /algorithm is not accepted/);
    });

    it('refuses an expired token signed with the IdP key', async () => {
      const token = await api.idp.sign('rsa-1', 'RS256', { ...claims(), iat: nowSec() - 3600, exp: nowSec() - 60 });
      expectRefused(await viewerWith(api.server, token), /expired/);
    });

    it('refuses a token signed with the IdP key for another issuer or another audience', async () => {
      expectRefused(await viewerWith(api.server, await api.idp.sign('rsa-1', 'RS256', { ...claims(), iss: 'https://evil.example/' })), /issuer/);
      expectRefused(await viewerWith(api.server, await api.idp.token({ claims: { realm_access: { roles: ['lm-admins'] } }, audience: 'another-api' })), /audience/);
    });

    it('refuses a token whose kid the key set does not have, and an ES256 token presented with an RSA kid', async () => {
      expectRefused(await viewerWith(api.server, await api.idp.sign('rsa-unpublished', 'RS256', claims())), /kid\) "rsa-unpublished" is not in the identity provider's key set/);
      // Signed by ec-1 but claiming rsa-1's kid: the RSA key cannot verify it.
      const forged = (await api.idp.sign('ec-1', 'ES256', claims())).split('.');
      forged[0] = b64({ alg: 'ES256', typ: 'JWT', kid: 'rsa-1' });
      expectRefused(await viewerWith(api.server, forged.join('.')), /algorithm is not accepted|signature is invalid/);
    });
  });
});

describe('Auth0-style namespaced claims (names with dots and slashes) over JWT_JWKS_URL', () => {
  const api = apiTrustingIdp((idp) => ({
    JWT_JWKS_URL: idp.jwksUrl,
    JWT_ROLE_CLAIM: 'https://example.com/claims.role',
    JWT_TENANT_CLAIM: 'https://example.com/claims.tenant',
    JWT_ROLE_MAP: 'tenant-admin=TENANT_ADMIN,provider-admin=PROVIDER_ADMIN',
  }));
  let tenant: { uuid: string; slug: string };
  beforeAll(async () => {
    tenant = await insertTenant(api.server, 'globex');
  });

  it('reads top-level claims whose names contain dots', async () => {
    const token = await api.idp.token({
      claims: { 'https://example.com/claims.role': ['tenant-admin'], 'https://example.com/claims.tenant': tenant.slug },
    });
    const res = await viewerWith(api.server, token);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: 'license-manager-tests', role: 'TENANT_ADMIN', tenant: { slug: 'globex', uuid: tenant.uuid } });
  });

  it('also reads them nested under a namespace object', async () => {
    const token = await api.idp.token({ claims: { 'https://example.com/claims': { role: 'provider-admin' } } });
    expect((await viewerWith(api.server, token)).body.data?.viewer.role).toBe('PROVIDER_ADMIN');
  });
});

describe('key rotation without a restart', () => {
  const claims = { role: 'PROVIDER_OPERATOR' };
  const CACHE_MS = 2500;
  const api = apiTrustingIdp((idp) => ({ JWT_JWKS_URL: idp.jwksUrl, JWT_JWKS_CACHE_MS: String(CACHE_MS), JWT_JWKS_REFETCH_MIN_MS: '0' }));

  it('accepts a token signed by a key added to the set later, fetching the set once for many requests', async () => {
    const before = await api.idp.token({ claims, kid: 'rsa-1' });
    expect((await viewerWith(api.server, before)).body.data?.viewer.role).toBe('PROVIDER_OPERATOR');
    await api.idp.publish(['rsa-2', 'rsa-1']);
    const added = await api.idp.token({ claims, kid: 'rsa-2' });
    const fetchesBefore = await api.idp.jwksRequests();
    const answers = await Promise.all(Array.from({ length: 8 }, () => viewerWith(api.server, added)));
    for (const res of answers) expect(res.body.data?.viewer.role).toBe('PROVIDER_OPERATOR');
    // Eight requests naming the unknown kid at once: one fetch in flight, the others wait for it.
    expect((await api.idp.jwksRequests()) - fetchesBefore).toBe(1);
  });

  it('refuses a token signed by a key removed from the set once the cache lifetime has passed', async () => {
    await api.idp.publish(['rsa-3', 'rsa-1']);
    const removedLater = await api.idp.token({ claims, kid: 'rsa-3' });
    expect((await viewerWith(api.server, removedLater)).body.data?.viewer.role).toBe('PROVIDER_OPERATOR');
    await api.idp.publish(['rsa-1']);
    await new Promise((resolve) => setTimeout(resolve, CACHE_MS + 300));
    expectRefused(await viewerWith(api.server, removedLater), /kid\) "rsa-3" is not in the identity provider's key set/);
    expect((await viewerWith(api.server, await api.idp.token({ claims, kid: 'rsa-1' }))).body.data?.viewer.role).toBe('PROVIDER_OPERATOR');
  });
});

describe('cached keys: long cache lifetime, rate-limited refetch, IdP outage', () => {
  const claims = { role: 'PROVIDER_ADMIN' };
  const logged = capturedLog();
  // The cache outlives the test; refetches for unknown kids at most every 10 minutes.
  const api = apiTrustingIdp((idp) => ({ JWT_JWKS_URL: idp.jwksUrl, JWT_JWKS_REFETCH_MIN_MS: '600000' }), { log: logged.log });

  it('keeps accepting a removed key while the set is cached, and forged kids cause no fetch', async () => {
    const old = await api.idp.token({ claims, kid: 'rsa-1' });
    expect((await viewerWith(api.server, old)).body.data?.viewer.role).toBe('PROVIDER_ADMIN');
    await api.idp.publish(['rsa-9']);
    const fetchesBefore = await api.idp.jwksRequests();
    expect((await viewerWith(api.server, old)).body.data?.viewer.role).toBe('PROVIDER_ADMIN');
    for (let i = 0; i < 5; i += 1) {
      expectRefused(await viewerWith(api.server, await api.idp.token({ claims, kid: 'rsa-9' })), /"rsa-9" is not in the identity provider's key set/);
    }
    expect(await api.idp.jwksRequests()).toBe(fetchesBefore);
    await api.idp.publish(['rsa-1']);
  });

  it('keeps the cached keys working while the JWKS endpoint is down, and logs the failure once', async () => {
    const outage = await startTestServer({
      env: idpEnv(api.idp, { JWT_JWKS_URL: api.idp.jwksUrl, JWT_JWKS_CACHE_MS: '300', JWT_JWKS_REFETCH_MIN_MS: '600000' }),
      sameDatabaseAs: api.server,
      log: logged.log,
    });
    try {
      const token = await api.idp.token({ claims, kid: 'rsa-1' });
      expect((await viewerWith(outage, token)).body.data?.viewer.role).toBe('PROVIDER_ADMIN');
      await api.idp.down();
      await new Promise((resolve) => setTimeout(resolve, 500)); // past the 300 ms cache lifetime
      for (let i = 0; i < 6; i += 1) {
        const res = await viewerWith(outage, token);
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data?.viewer.role).toBe('PROVIDER_ADMIN');
      }
      const failures = logged.lines().filter((l) => l.msg.includes('key set could not be fetched'));
      expect(failures).toHaveLength(1);
      expect(failures[0].msg).toMatch(/keys fetched before stay in use/);
    } finally {
      await api.idp.up();
      await outage.close();
    }
  });
});

describe('discovery when the IdP is not reachable at start', () => {
  const api = apiTrustingIdp(() => ({ JWT_OIDC_DISCOVERY: 'true', JWT_JWKS_REFETCH_MIN_MS: '0' }), { beforeServer: (idp) => idp.down() });

  it('starts, refuses tokens until the keys are found, then accepts them without a restart', async () => {
    // Signed with the key the IdP will publish (its token endpoint is down too).
    const nowSec = Math.floor(Date.now() / 1000);
    const token = await api.idp.sign('rsa-1', 'RS256', { sub: 'early-bird', role: 'PROVIDER_ADMIN', iss: api.idp.issuer, aud: api.idp.resource, iat: nowSec, exp: nowSec + 600 });
    expectRefused(await viewerWith(api.server, token), /identity provider keys not available yet/);
    await api.idp.up();
    // A background retry that began while the IdP was down may still be answering; the next try fetches.
    let res = await viewerWith(api.server, token);
    for (let i = 0; i < 50 && res.status === 401; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await viewerWith(api.server, token);
    }
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: 'early-bird', role: 'PROVIDER_ADMIN', tenant: null });
  });
});
