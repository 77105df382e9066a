import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { makeServerPki } from './ssm-simulator/tls';

const MiB = 1024 * 1024;
const base = { NODE_ENV: 'test' as const, JWT_SECRET: 'config-spec-secret-that-is-long-enough-0123456789' };

describe('request body settings', () => {
  it('defaults to 4 MiB JSON bodies, uploads of 10 MiB + 4 MiB + 16 KiB, and 128 MiB / 32 MiB in flight', () => {
    const config = loadConfig(base);
    expect(config.maxBodyBytes).toBe(4 * MiB);
    expect(config.maxUploadBodyBytes).toBe(10 * MiB + 4 * MiB + 16 * 1024);
    expect(config.inflightBodyBytes).toEqual({ instance: 128 * MiB, perSubject: 32 * MiB });
  });

  it('refuses a per-subject budget that cannot hold one upload, naming the variable', () => {
    const tooSmall = String(10 * MiB + 4 * MiB);
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: tooSmall })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: tooSmall })).toThrow(/MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT .* must hold one upload/);
    // With smaller JSON bodies, a smaller budget holds one upload.
    expect(loadConfig({ ...base, MAX_BODY_BYTES: String(MiB), MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: tooSmall }).inflightBodyBytes.perSubject).toBe(14 * MiB);
  });

  it('refuses an instance budget below the per-subject one', () => {
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES: String(16 * MiB) })).toThrow(
      /MAX_INFLIGHT_BODY_BYTES \(16777216\) must be at least MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT \(33554432\)/,
    );
  });

  it.each(['-1', 'lots', '1.5'])('refuses MAX_INFLIGHT_BODY_BYTES=%s as invalid', (value) => {
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES: value })).toThrow(/MAX_INFLIGHT_BODY_BYTES/);
  });
});

describe('SSM_CA_CERT', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'config-spec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every certificate of a PEM bundle at start; unset trusts node\'s roots only', async () => {
    const [one, two] = await Promise.all([makeServerPki(['a.example']), makeServerPki(['b.example'])]);
    const bundle = file('bundle.pem', `# private CAs\n${one.caPem}\n${two.caPem}`);
    expect(loadConfig({ ...base, SSM_CA_CERT: bundle }).ssmCaCert).toEqual({ path: bundle, certificates: [one.caPem.trim(), two.caPem.trim()] });
    expect(loadConfig(base).ssmCaCert).toBeUndefined();
  });

  it('refuses a file it cannot read, naming the variable and the path', () => {
    const missing = path.join(dir, 'missing.pem');
    expect(() => loadConfig({ ...base, SSM_CA_CERT: missing })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, SSM_CA_CERT: missing })).toThrow(`SSM_CA_CERT: cannot read ${missing} (ENOENT)`);
  });

  it('refuses a file without a PEM certificate, or with a broken one, naming the variable', async () => {
    const { keyPem } = await makeServerPki(['a.example']);
    expect(() => loadConfig({ ...base, SSM_CA_CERT: file('key.pem', keyPem) })).toThrow(/^SSM_CA_CERT: .*key\.pem holds no PEM certificate/);
    const broken = file('broken.pem', '-----BEGIN CERTIFICATE-----\nTUlJQm9ndXM=\n-----END CERTIFICATE-----\n');
    expect(() => loadConfig({ ...base, SSM_CA_CERT: broken })).toThrow(/^SSM_CA_CERT: .*broken\.pem certificate 1 of 1 is not a valid X\.509 certificate/);
  });
});

describe('identity provider settings', () => {
  const { JWT_SECRET: _secret, ...noKey } = base;
  const jwks = { ...noKey, JWT_JWKS_URL: 'https://idp.example/jwks' };

  it('takes JWT_JWKS_URL alone, with a 10-minute cache and a 10-second least refetch interval', () => {
    expect(loadConfig(jwks).jwt.key).toEqual({ kind: 'jwks', source: { jwksUrl: 'https://idp.example/jwks' }, cacheMs: 600_000, refetchMinMs: 10_000 });
  });

  it.each([
    [{ ...jwks, JWT_SECRET: base.JWT_SECRET }, /not JWT_SECRET and JWT_JWKS_URL/],
    [{ ...jwks, JWT_OIDC_DISCOVERY: 'true', JWT_ISSUER: 'https://idp.example' }, /not JWT_JWKS_URL and JWT_OIDC_DISCOVERY/],
    [{ ...base, JWT_PUBLIC_KEY: 'x' }, /not JWT_SECRET and JWT_PUBLIC_KEY/],
  ])('refuses more than one key source (%#)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('needs JWT_ISSUER, an http(s) URL, for discovery', () => {
    expect(() => loadConfig({ ...noKey, JWT_OIDC_DISCOVERY: 'true' })).toThrow(/JWT_OIDC_DISCOVERY=true needs JWT_ISSUER/);
    expect(() => loadConfig({ ...noKey, JWT_OIDC_DISCOVERY: 'true', JWT_ISSUER: 'idp' })).toThrow(/needs JWT_ISSUER to be an http\(s\) URL/);
    expect(loadConfig({ ...noKey, JWT_OIDC_DISCOVERY: 'true', JWT_ISSUER: 'https://idp.example/realms/x' }).jwt.key).toMatchObject({
      source: { discoveryIssuer: 'https://idp.example/realms/x' },
    });
  });

  it('accepts a JWKS source as the key production requires', () => {
    const prod = { NODE_ENV: 'production' as const, DATABASE_URL: 'postgres://db/x', SECRETS_KEY: '5'.repeat(64) };
    expect(() => loadConfig(prod)).toThrow(/requires JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL or JWT_OIDC_DISCOVERY=true/);
    expect(loadConfig({ ...prod, JWT_JWKS_URL: 'https://idp.example/jwks' }).jwt.key?.kind).toBe('jwks');
  });

  it('parses JWT_ROLE_MAP, group names with "=" or "/" included', () => {
    const map = loadConfig({ ...jwks, JWT_ROLE_MAP: ' /lm/admins = PROVIDER_ADMIN, a=b=TENANT_OPERATOR ,' }).jwt.claims.roleMap;
    expect([...(map ?? [])]).toEqual([
      ['/lm/admins', 'PROVIDER_ADMIN'],
      ['a=b', 'TENANT_OPERATOR'],
    ]);
  });

  it.each([
    ['admins', /entry "admins" must look like group=ROLE/],
    ['=PROVIDER_ADMIN', /must look like group=ROLE/],
    ['admins=ROOT', /maps "admins" to "ROOT", which is not one of PROVIDER_ADMIN, PROVIDER_OPERATOR/],
    ['a=TENANT_ADMIN,a=PROVIDER_ADMIN', /maps "a" twice/],
    [',', /maps no group/],
  ])('refuses JWT_ROLE_MAP=%s', (value, message) => {
    expect(() => loadConfig({ ...jwks, JWT_ROLE_MAP: value })).toThrow(message);
  });

  it('reads the tenant claim by reference only when JWT_TENANT_CLAIM is set', () => {
    expect(loadConfig(jwks).jwt.claims).toEqual({ roleClaim: 'role', tenantClaim: 'tenantId', tenantByReference: false, roleMap: undefined });
    expect(loadConfig({ ...jwks, JWT_TENANT_CLAIM: 'org' }).jwt.claims).toMatchObject({ tenantClaim: 'org', tenantByReference: true });
  });
});

describe('GRAPHIQL', () => {
  const production = { ...base, NODE_ENV: 'production' as const, DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', SECRETS_KEY: '11'.repeat(32) };

  it('is on outside production, with introspection', () => {
    expect(loadConfig(base)).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ ...base, NODE_ENV: 'development' })).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ ...base, GRAPHIQL: 'false' })).toMatchObject({ graphiql: false, introspection: true });
  });

  it('is off in production, and so is introspection, unless GRAPHIQL=true turns both on', () => {
    expect(loadConfig(production)).toMatchObject({ graphiql: false, introspection: false });
    expect(loadConfig({ ...production, GRAPHIQL: 'false' })).toMatchObject({ graphiql: false, introspection: false });
    expect(loadConfig({ ...production, GRAPHIQL: 'true' })).toMatchObject({ graphiql: true, introspection: true });
  });

  it.each(['yes', '1', 'TRUE'])('refuses GRAPHIQL=%s, naming the variable', (value) => {
    expect(() => loadConfig({ ...base, GRAPHIQL: value })).toThrow(/GRAPHIQL/);
  });
});

describe('HEAP_GROWING_PERCENT', () => {
  it('defaults to 80, takes 0 (V8 decides) and refuses what is not a whole percent, naming the variable', () => {
    expect(loadConfig(base).heapGrowingPercent).toBe(80);
    expect(loadConfig({ ...base, HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(loadConfig({ ...base, HEAP_GROWING_PERCENT: '150' }).heapGrowingPercent).toBe(150);
    for (const bad of ['-5', 'half', '12.5', '5000']) expect(() => loadConfig({ ...base, HEAP_GROWING_PERCENT: bad })).toThrow(/HEAP_GROWING_PERCENT/);
  });
});
