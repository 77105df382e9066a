import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createTenant, deviceInput, REGISTER_DEVICES, type TenantFixture } from './support/fixtures';
import {
  signTestToken,
  startTestServer,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_JWT_SECRET,
  type GraphQLResponse,
  type RoleName,
  type TestServer,
} from './support/harness';

const VIEWER = '{ viewer { subject role tenant { slug } } }';

interface ViewerData {
  viewer: { subject: string; role: RoleName; tenant: { slug: string } | null };
}

const base64url = (value: object | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** The registered claims every well-formed test token carries (iss, aud, exp), for hand-crafted tokens. */
function registeredClaims(): Record<string, unknown> {
  const iat = nowSec();
  return { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat, exp: iat + 3600 };
}

/** POSTs a GraphQL request with exactly the headers given (the harness always sends "Bearer"). */
async function post<T = Record<string, unknown>>(
  server: TestServer,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse<T>['body'] };
}

describe('authentication and roles (HS256 server)', () => {
  let server: TestServer;
  let tenant: TenantFixture;
  let probe = 0;

  /**
   * Sends a registerDevices that PROVIDER_ADMIN and TENANT_ADMIN (of `tenant`) would both be
   * allowed to run, so a refused token proves it wrote nothing; returns the device uuid it tried.
   */
  async function attemptWrite(headers: Record<string, string>): Promise<{ res: GraphQLResponse; deviceUuid: string }> {
    probe += 1;
    const device = deviceInput(900_000 + probe);
    const res = await post(server, REGISTER_DEVICES, { input: { tenantId: tenant.id, devices: [device] } }, headers);
    return { res, deviceUuid: device.uuid };
  }

  async function deviceCount(uuid: string): Promise<number> {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from device where uuid = $1', [uuid]);
    return row.n;
  }

  beforeAll(async () => {
    server = await startTestServer();
    tenant = await createTenant(server, 'auth-tenant');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lets a valid PROVIDER_ADMIN or TENANT_ADMIN token write through the probe used below (control)', async () => {
    for (const token of [server.token('PROVIDER_ADMIN'), server.token('TENANT_ADMIN', tenant.uuid)]) {
      const { res, deviceUuid } = await attemptWrite({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(await deviceCount(deviceUuid)).toBe(1);
    }
  });

  const wrongTokens: [string, () => Record<string, string>, RegExp][] = [
    ['no Authorization header', () => ({}), /missing Authorization header/],
    ['a non-Bearer Authorization header', () => ({ authorization: 'Basic YWRtaW46YWRtaW4=' }), /must be "Bearer <token>"/],
    ['a garbage token', () => ({ authorization: 'Bearer not.a-jwt.at-all' }), /malformed/],
    [
      'an expired token',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 })}` }),
      /expired/,
    ],
    [
      'a token signed with another secret',
      () => ({
        authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'some-other-secret-that-is-also-32-bytes-long!!')}`,
      }),
      /signature is invalid/,
    ],
    [
      'an HS512 token signed with the right secret (only HS256 is accepted)',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { algorithm: 'HS512' })}` }),
      /algorithm is not accepted/,
    ],
    [
      'an unsigned token (alg: none)',
      () => ({
        authorization: `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
          sub: 'mallory',
          role: 'PROVIDER_ADMIN',
          ...registeredClaims(),
        })}.`,
      }),
      /unsigned|algorithm/,
    ],
    [
      'a token from another issuer',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { issuer: 'https://evil.test/' })}` }),
      /issuer/,
    ],
    [
      'a token without iss',
      () => ({
        authorization: `Bearer ${jwt.sign({ sub: 'no-iss', role: 'PROVIDER_ADMIN' }, TEST_JWT_SECRET, {
          algorithm: 'HS256',
          audience: TEST_AUDIENCE,
          expiresIn: 600,
        })}`,
      }),
      /issuer/,
    ],
    [
      'a token for another audience',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { audience: 'some-other-api' })}` }),
      /audience/,
    ],
    [
      'a token whose nbf is in the future',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' }, { notBefore: 600 })}` }),
      /not valid yet/,
    ],
    [
      'a token without exp',
      () => ({
        authorization: `Bearer ${jwt.sign({ sub: 'no-exp', role: 'PROVIDER_ADMIN' }, TEST_JWT_SECRET, {
          algorithm: 'HS256',
          issuer: TEST_ISSUER,
          audience: TEST_AUDIENCE,
        })}`,
      }),
      /no exp/,
    ],
    [
      'a token without a role',
      () => ({ authorization: `Bearer ${signTestToken({ sub: 'roleless' })}` }),
      /role claim null is not a known role/,
    ],
    [
      'a token with an unknown role',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'SUPERUSER' })}` }),
      /"SUPERUSER" is not a known role/,
    ],
    [
      'a tenant-role token without tenantId',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'TENANT_ADMIN' })}` }),
      /TENANT_ADMIN needs a tenantId/,
    ],
    [
      'a tenant-role token whose tenantId is not a uuid',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'TENANT_ADMIN', tenantId: 'auth-tenant' })}` }),
      /TENANT_ADMIN needs a tenantId claim holding a uuid/,
    ],
    [
      'a provider-role token that carries a tenantId',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN', tenantId: tenant.uuid })}` }),
      /PROVIDER_ADMIN must not carry a tenantId/,
    ],
    [
      'an oversized token (more than 8 KB)',
      () => ({ authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN', padding: 'x'.repeat(9000) })}` }),
      /larger than 8192 bytes/,
    ],
    [
      'a token with an empty sub',
      () => ({ authorization: `Bearer ${signTestToken({ sub: '', role: 'PROVIDER_ADMIN' })}` }),
      /sub claim must be a non-empty string/,
    ],
  ];

  it.each(wrongTokens)('refuses %s with 401 UNAUTHENTICATED, says why, and writes nothing', async (_what, headers, why) => {
    const { res, deviceUuid } = await attemptWrite(headers());
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0].message).toMatch(why);
    expect(await deviceCount(deviceUuid)).toBe(0);
  });

  it('refuses a wrong token even for a read-only query', async () => {
    const res = await server.graphql(VIEWER, {}, signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 }));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each(['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const)(
    'tells a %s token its subject and role, with no tenant',
    async (role) => {
      const res = await server.graphql<ViewerData>(VIEWER, {}, signTestToken({ sub: `user-${role}`, role }));
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.viewer).toEqual({ subject: `user-${role}`, role, tenant: null });
    },
  );

  it.each(['TENANT_ADMIN', 'TENANT_OPERATOR'] as const)('tells a %s token its subject, role and tenant', async (role) => {
    const res = await server.graphql<ViewerData>(VIEWER, {}, signTestToken({ sub: `user-${role}`, role, tenantId: tenant.uuid }));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: `user-${role}`, role, tenant: { slug: 'auth-tenant' } });
  });

  it('accepts a tenant token whose tenantId is written in upper case', async () => {
    const res = await server.graphql<ViewerData>(VIEWER, {}, server.token('TENANT_OPERATOR', tenant.uuid.toUpperCase()));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer.tenant).toEqual({ slug: 'auth-tenant' });
  });

  it('answers viewer.tenant null, not an error, for a tenant token whose tenant does not exist', async () => {
    const res = await server.graphql<ViewerData>(VIEWER, {}, server.token('TENANT_ADMIN', randomUUID()));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: 'test-user', role: 'TENANT_ADMIN', tenant: null });
  });

  it('answers FORBIDDEN when TENANT_OPERATOR registers devices, and writes no device', async () => {
    const device = deviceInput(1);
    const res = await server.graphql(
      REGISTER_DEVICES,
      { input: { devices: [device] } },
      server.token('TENANT_OPERATOR', tenant.uuid),
    );
    expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(res.body.errors?.[0].message).toMatch(/TENANT_OPERATOR.*registerDevices/);
    expect(await deviceCount(device.uuid)).toBe(0);
  });

  it('answers FORBIDDEN when PROVIDER_OPERATOR registers devices, and writes no device', async () => {
    const device = deviceInput(2);
    const res = await server.graphql(
      REGISTER_DEVICES,
      { input: { tenantId: tenant.id, devices: [device] } },
      server.token('PROVIDER_OPERATOR'),
    );
    expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(res.body.errors?.[0].message).toMatch(/PROVIDER_OPERATOR.*registerDevices/);
    expect(await deviceCount(device.uuid)).toBe(0);
  });

  it('answers FORBIDDEN when TENANT_ADMIN creates a tenant, and creates none', async () => {
    const res = await server.graphql(
      'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
      { input: { name: 'Sneaky', slug: 'sneaky' } },
      server.token('TENANT_ADMIN', tenant.uuid),
    );
    expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await server.sql('select count(*)::int as n from tenant where slug = $1', ['sneaky'])).toEqual([{ n: 0 }]);
  });
});

describe('authentication with an RS256 public key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey, JWT_PRIVATE_KEY: '' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('accepts a valid RS256 token', async () => {
    const token = signTestToken({ sub: 'rsa-user', role: 'PROVIDER_OPERATOR' }, { algorithm: 'RS256' }, privateKey);
    const res = await server.graphql<ViewerData>(VIEWER, {}, token);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: 'rsa-user', role: 'PROVIDER_OPERATOR', tenant: null });
  });

  it('refuses an HS256 token whose HMAC key is the public key PEM (key confusion)', async () => {
    const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({
      sub: 'mallory',
      role: 'PROVIDER_ADMIN',
      ...registeredClaims(),
    })}`;
    const signature = createHmac('sha256', publicKey).update(signingInput).digest('base64url');
    const res = await server.graphql(VIEWER, {}, `${signingInput}.${signature}`);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0].message).toMatch(/algorithm is not accepted/);
  });

  it('refuses an HS256 token signed with the shared test secret', async () => {
    const res = await server.graphql(VIEWER, {}, signTestToken({ role: 'PROVIDER_ADMIN' }));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an RS256 token signed with another RSA key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const token = jwt.sign({ sub: 'mallory', role: 'PROVIDER_ADMIN' }, other, {
      algorithm: 'RS256',
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      expiresIn: 600,
    });
    const res = await server.graphql(VIEWER, {}, token);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].message).toMatch(/signature is invalid/);
  });
});

describe('authentication with an ES256 public key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey, JWT_PRIVATE_KEY: '' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('accepts a valid ES256 token', async () => {
    const tenantId = randomUUID();
    const token = signTestToken({ sub: 'ec-user', role: 'TENANT_OPERATOR', tenantId }, { algorithm: 'ES256' }, privateKey);
    const res = await server.graphql<ViewerData>(VIEWER, {}, token);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toMatchObject({ subject: 'ec-user', role: 'TENANT_OPERATOR' });
  });

  it('refuses an RS256 token: only the ES256 family is accepted', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const token = jwt.sign({ sub: 'mallory', role: 'PROVIDER_ADMIN' }, rsa, {
      algorithm: 'RS256',
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      expiresIn: 600,
    });
    const res = await server.graphql(VIEWER, {}, token);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].message).toMatch(/algorithm is not accepted/);
  });
});

describe('authentication with namespaced claims (JWT_CLAIMS_NAMESPACE)', () => {
  const NS = 'https://slm.example/claims';
  let server: TestServer;
  let tenant: TenantFixture;
  beforeAll(async () => {
    server = await startTestServer({ env: { JWT_CLAIMS_NAMESPACE: NS } });
    const res = await server.graphql<{ createTenant: { id: string } }>(
      'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
      { input: { name: 'Namespaced', slug: 'ns-tenant' } },
      signTestToken({ [NS]: { role: 'PROVIDER_ADMIN' } }),
    );
    expect(res.body.errors).toBeUndefined();
    const [row] = await server.sql<{ id: string }>('select id from tenant where slug = $1', ['ns-tenant']);
    tenant = { id: res.body.data!.createTenant.id, uuid: row.id, slug: 'ns-tenant' };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reads role and tenantId from the namespace object', async () => {
    const token = signTestToken({ sub: 'auth0|42', [NS]: { role: 'TENANT_ADMIN', tenantId: tenant.uuid } });
    const res = await server.graphql<ViewerData>(VIEWER, {}, token);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer).toEqual({ subject: 'auth0|42', role: 'TENANT_ADMIN', tenant: { slug: 'ns-tenant' } });
  });

  it('refuses a token whose role and tenantId sit only at the top level', async () => {
    const token = signTestToken({ sub: 'auth0|43', role: 'TENANT_ADMIN', tenantId: tenant.uuid });
    const res = await server.graphql(VIEWER, {}, token);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0].message).toContain(NS);
  });

  it('ignores a top-level role that contradicts the namespaced one', async () => {
    const token = signTestToken({ role: 'PROVIDER_ADMIN', [NS]: { role: 'TENANT_OPERATOR', tenantId: tenant.uuid } });
    const res = await server.graphql<ViewerData>(VIEWER, {}, token);
    expect(res.body.data?.viewer.role).toBe('TENANT_OPERATOR');
  });
});
