import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ALL_ROLES, isRole, type Role } from './auth/roles';
import { MAX_FILE_BYTES } from './common/upload';
import { pemCertificates } from './ssm/tls-trust';

/**
 * Every environment variable the server reads, parsed and validated in one place.
 * A wrong value stops start-up with a message naming the variable.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Part headers and boundaries of a multipart upload, beyond its file and its GraphQL JSON. */
const MULTIPART_FRAMING_BYTES = 16 * 1024;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_APP_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  JWT_SECRET: optionalString,
  JWT_PUBLIC_KEY: optionalString,
  JWT_PRIVATE_KEY: optionalString,
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  JWT_CLAIMS_NAMESPACE: optionalString,
  // Identity providers (auth/jwks.ts, auth/claims.ts; README "Identity provider").
  JWT_JWKS_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  JWT_OIDC_DISCOVERY: z.enum(['true', 'false']).default('false'),
  // How long a fetched key set is trusted before it is fetched again (a key removed from the set
  // stops working this long after its removal at the latest).
  JWT_JWKS_CACHE_MS: z.coerce.number().int().min(100).default(10 * 60 * 1000),
  // Least time between two fetches caused by unknown kids, or after a failed fetch.
  JWT_JWKS_REFETCH_MIN_MS: z.coerce.number().int().min(0).default(10_000),
  JWT_ROLE_CLAIM: optionalString,
  JWT_TENANT_CLAIM: optionalString,
  JWT_ROLE_MAP: optionalString,
  // GraphQL JSON (and each WebSocket message). 4 MiB holds the largest bulk call the API promises
  // (registerDevices of 10,000 devices: ~2 MB); files travel as multipart uploads, which may carry
  // MAX_FILE_BYTES more, and only they need a larger body.
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
  // Request body bytes reserved at once (declared Content-Length, or the route's maximum when
  // chunked). 128 MiB admits about a dozen 10 MB uploads at a time; measured (npm run bench:bodies):
  // 40 concurrent 10 MB uploads peak at ~300 MB RSS, ~500 MB with 256 MiB, ~650-850 MB unbounded.
  // 32 MiB per subject: two uploads at once plus JSON traffic.
  MAX_INFLIGHT_BODY_BYTES: z.coerce.number().int().min(1024).default(128 * 1024 * 1024),
  MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: z.coerce.number().int().min(1024).default(32 * 1024 * 1024),
  SECRETS_KEY: optionalString,
  SSM_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  SSM_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  // Path of a PEM file or bundle trusted for license-server HTTPS besides node's roots (a private CA).
  SSM_CA_CERT: optionalString,
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  MAX_QUERY_ALIASES: z.coerce.number().int().min(1).max(1000).default(30),
  MAX_QUERY_COST: z.coerce.number().int().min(10).default(50_000),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(100).default(10_000),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  RATE_LIMIT_SUBJECT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  RATE_LIMIT_TENANT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  SCHEDULER_ENABLED: z.enum(['true', 'false']).default('true'),
  // The bundled GraphiQL page (server/graphiql.ts): on outside production; in production only with true.
  GRAPHIQL: z.enum(['true', 'false']).optional(),
  GRAPHQL_EXECUTOR: z.enum(['jit', 'graphql-js']).default('jit'),
  SYNC_TICK_CRON: z.string().default('*/5 * * * *'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  // How far V8 lets the old generation grow past what the last full collection kept before collecting
  // again (V8's --heap-growing-percent); 0 leaves it to V8's heuristics (README, Performance: measured).
  HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(80),
  // A licenseAlerts subscriber with more distinct alerts waiting than this, or that has not read for
  // ALERT_SUBSCRIBER_STALL_MS while alerts wait, is closed with 1013 (resubscribe and re-read).
  ALERT_SUBSCRIBER_MAX_PENDING: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  ALERT_SUBSCRIBER_STALL_MS: z.coerce.number().int().min(100).default(60_000),
  // Fair share (server/cost-guard.ts): cost budgets per tenant and per provider subject, and the lane
  // heavy operations wait in. Points: see common/cost.ts (a tenant page ~850, a device changed 100).
  // A RUNNING sync stamps a heartbeat this often; one without a heartbeat for SYNC_ABANDONED_AFTER_MS was
  // left by a process that died and no longer blocks the tenant's syncs.
  SYNC_HEARTBEAT_MS: z.coerce.number().int().min(100).default(10_000),
  SYNC_ABANDONED_AFTER_MS: z.coerce.number().int().min(500).default(60_000),
  COST_LIMITS: z.enum(['on', 'off']).default('on'),
  COST_BUDGET_STORE: z.enum(['memory', 'postgres']).default('memory'),
  COST_TENANT_CAPACITY: z.coerce.number().int().min(1).default(1_100_000),
  COST_TENANT_RESTORE_RATE: z.coerce.number().int().min(1).default(20_000),
  COST_PROVIDER_CAPACITY: z.coerce.number().int().min(1).default(2_000_000),
  COST_PROVIDER_RESTORE_RATE: z.coerce.number().int().min(1).default(100_000),
  COST_HEAVY_THRESHOLD: z.coerce.number().int().min(1).default(10_000),
  HEAVY_PER_KEY: z.coerce.number().int().min(1).max(100).default(1),
  HEAVY_QUEUE_PER_KEY: z.coerce.number().int().min(0).max(10_000).default(4),
  HEAVY_TOTAL: z.coerce.number().int().min(1).max(1000).default(2),
  // GET /metrics (server/metrics.ts): a bearer token on the main port, and/or a listener of its own on
  // 127.0.0.1. With neither, production answers /metrics with 404; development and test serve it open.
  METRICS_TOKEN: optionalString,
  METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(65535).optional()),
  // The console's sign-in (server/console.ts): the OpenID client registered at JWT_ISSUER for the console
  // (public client, authorization code + PKCE, redirect URI <origin>/auth/callback), and the scopes it asks.
  CONSOLE_OIDC_CLIENT_ID: optionalString,
  CONSOLE_OIDC_SCOPE: z.string().default('openid profile'),
});

export type Env = z.infer<typeof envSchema>;

export type JwtKeyConfig =
  | { kind: 'secret'; algorithms: ['HS256']; secret: string; generated: boolean }
  | { kind: 'public-key'; algorithms: ['RS256'] | ['ES256']; publicKey: string; privateKey?: string }
  /** Keys from a JSON Web Key Set (JWT_JWKS_URL), or from the issuer's discovery document. */
  | { kind: 'jwks'; source: { jwksUrl: string } | { discoveryIssuer: string }; cacheMs: number; refetchMinMs: number };

/** Where the role and tenant are read from a token, and how IdP group names become roles. */
export interface ClaimMapping {
  /** Path of the role claim (auth/claims.ts says how a path is split). Default `role`. */
  roleClaim: string;
  /** Path of the tenant claim. Default `tenantId` (a uuid); a configured path also takes a global id or slug. */
  tenantClaim: string;
  /** Set by JWT_TENANT_CLAIM: the claim may hold a uuid, a global id or a slug, looked up in the database. */
  tenantByReference: boolean;
  /** JWT_ROLE_MAP: IdP value -> role. Unset: role claim values must be role names. */
  roleMap?: ReadonlyMap<string, Role>;
}

export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  /**
   * GraphiQL at GET /graphiql and on a browser's GET /graphql (GRAPHIQL; default: on outside production).
   * In production with GRAPHIQL=true, introspection is on too (callers are always token holders).
   */
  graphiql: boolean;
  /** Introspection over HTTP and WebSocket: outside production, or in production with GRAPHIQL=true. */
  introspection: boolean;
  /** How HTTP query operations execute (GRAPHQL_EXECUTOR): compiled by graphql-jit (default) or by graphql-js. */
  executor: 'jit' | 'graphql-js';
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  /** Owner connection: migrations, role provisioning. Unset: embedded PostgreSQL. */
  databaseUrl?: string;
  /** Application connection (non-owner, no BYPASSRLS). Unset: derived from databaseUrl. */
  databaseAppUrl?: string;
  databasePoolMax: number;
  dataDir: string;
  embeddedPostgresPort: number;
  /** Unset when JWT settings are absent in development: a secret is generated under dataDir. */
  jwt: {
    key?: JwtKeyConfig;
    issuer?: string;
    audience?: string;
    claimsNamespace?: string;
    claims: ClaimMapping;
  };
  /** Largest JSON body (and WebSocket message). */
  maxBodyBytes: number;
  /** Largest multipart upload body: one file of MAX_FILE_BYTES, the GraphQL JSON and the multipart framing. */
  maxUploadBodyBytes: number;
  /** Request body bytes in flight at once, on this instance and per token subject. */
  inflightBodyBytes: { instance: number; perSubject: number };
  shutdownGraceMs: number;
  /** Worker processes sharing the port (WEB_CONCURRENCY, node:cluster); 1 runs the server in this process. */
  webConcurrency: number;
  /** V8's --heap-growing-percent for this process (and its workers); 0: V8's own heuristics. */
  heapGrowingPercent: number;
  /** 32-byte key for secrets at rest (base64 or hex). Unset in development: generated under dataDir. */
  secretsKey?: Buffer;
  schedulerEnabled: boolean;
  queryLimits: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number };
  /** 0 = no limit. */
  statementTimeoutMs: number;
  /** Requests per minute per token subject and per tenant; 0 turns a limit off. */
  rateLimits: { perSubjectPerMinute: number; perTenantPerMinute: number };
  ssmTimeoutMs: number;
  ssmRetries: number;
  /** SSM_CA_CERT: certificates trusted for license-server HTTPS besides node's roots, read at start. */
  ssmCaCert?: { path: string; certificates: string[] };
  syncTickCron: string;
  /** Liveness of RUNNING syncs (modules/sync/sync.service.ts). */
  syncRuns: { heartbeatMs: number; abandonedAfterMs: number };
  /** Fair share between tenants (server/cost-guard.ts); undefined when COST_LIMITS=off. */
  costLimits?: {
    store: 'memory' | 'postgres';
    tenant: { capacity: number; restoreRate: number };
    provider: { capacity: number; restoreRate: number };
    heavyCost: number;
    lane: { perKey: number; queuePerKey: number; total: number };
  };
  /** Bounds of one licenseAlerts subscriber's queue (see modules/alerts/alert-delivery.ts). */
  alertSubscribers: { maxPending: number; stallMs: number };
  metrics: MetricsConfig;
  console: ConsoleConfig;
}

/**
 * How the console (GET /, server/console.ts) signs people in: with the identity provider that issues the
 * API's tokens (`oidc`), with tokens from POST /dev/token in development with the generated secret
 * (`dev`), or not at all (`none`: keys are configured but no console client is).
 */
export type ConsoleConfig =
  | { signIn: 'oidc'; issuer: string; clientId: string; scope: string; audience?: string }
  | { signIn: 'dev' }
  | { signIn: 'none' };

/** Where GET /metrics is served (server/metrics.ts). */
export interface MetricsConfig {
  /**
   * The main port: `token` (METRICS_TOKEN as a bearer token), `open` (development and test without
   * METRICS_TOKEN or METRICS_PORT) or `off` (404: production without a token, or METRICS_PORT alone).
   */
  mainPort: 'token' | 'open' | 'off';
  token?: string;
  /** A listener of its own on 127.0.0.1 serving /metrics only, without a token (0: any free port). */
  port?: number;
}

/** A guessable metrics token would let anyone read the instance's load: at least this long. */
const METRICS_TOKEN_MIN_LENGTH = 16;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';

  const keySettings = [
    env.JWT_SECRET && 'JWT_SECRET',
    env.JWT_PUBLIC_KEY && 'JWT_PUBLIC_KEY',
    env.JWT_JWKS_URL && 'JWT_JWKS_URL',
    env.JWT_OIDC_DISCOVERY === 'true' && 'JWT_OIDC_DISCOVERY',
  ].filter(Boolean);
  if (keySettings.length > 1) {
    throw new ConfigError(
      `set exactly one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL and JWT_OIDC_DISCOVERY=true, not ${keySettings.join(' and ')}`,
    );
  }
  let key: JwtKeyConfig | undefined;
  const jwks = { cacheMs: env.JWT_JWKS_CACHE_MS, refetchMinMs: env.JWT_JWKS_REFETCH_MIN_MS };
  if (env.JWT_JWKS_URL) {
    key = { kind: 'jwks', source: { jwksUrl: env.JWT_JWKS_URL }, ...jwks };
  } else if (env.JWT_OIDC_DISCOVERY === 'true') {
    if (!env.JWT_ISSUER) throw new ConfigError('JWT_OIDC_DISCOVERY=true needs JWT_ISSUER (the identity provider\'s issuer URL)');
    if (!/^https?:\/\//.test(env.JWT_ISSUER)) throw new ConfigError('JWT_OIDC_DISCOVERY=true needs JWT_ISSUER to be an http(s) URL');
    key = { kind: 'jwks', source: { discoveryIssuer: env.JWT_ISSUER }, ...jwks };
  } else if (env.JWT_SECRET) {
    if (Buffer.byteLength(env.JWT_SECRET, 'utf8') < 32) {
      throw new ConfigError('JWT_SECRET must be at least 32 bytes long');
    }
    key = { kind: 'secret', algorithms: ['HS256'], secret: env.JWT_SECRET, generated: false };
  } else if (env.JWT_PUBLIC_KEY) {
    key = publicKeyConfig(env.JWT_PUBLIC_KEY, env.JWT_PRIVATE_KEY);
  } else if (isProduction) {
    throw new ConfigError('NODE_ENV=production requires JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL or JWT_OIDC_DISCOVERY=true');
  }
  let secretsKey: Buffer | undefined;
  if (env.SECRETS_KEY) {
    secretsKey = /^[0-9a-f]{64}$/i.test(env.SECRETS_KEY) ? Buffer.from(env.SECRETS_KEY, 'hex') : Buffer.from(env.SECRETS_KEY, 'base64');
    if (secretsKey.length !== 32) throw new ConfigError('SECRETS_KEY must be 32 bytes, as 64 hex digits or base64');
  } else if (isProduction) {
    throw new ConfigError('NODE_ENV=production requires SECRETS_KEY (32 bytes, hex or base64) to encrypt license-server credentials');
  }
  const maxUploadBodyBytes = MAX_FILE_BYTES + env.MAX_BODY_BYTES + MULTIPART_FRAMING_BYTES;
  // A budget smaller than one request would refuse that request for ever, with a misleading "retry".
  if (env.MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT < maxUploadBodyBytes) {
    throw new ConfigError(
      `MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT (${env.MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT}) must hold one upload of ${maxUploadBodyBytes} bytes ` +
        '(a 10 MB file plus MAX_BODY_BYTES plus multipart framing)',
    );
  }
  if (env.MAX_INFLIGHT_BODY_BYTES < env.MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT) {
    throw new ConfigError(
      `MAX_INFLIGHT_BODY_BYTES (${env.MAX_INFLIGHT_BODY_BYTES}) must be at least MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT (${env.MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT})`,
    );
  }
  if (env.SYNC_ABANDONED_AFTER_MS < 3 * env.SYNC_HEARTBEAT_MS) {
    throw new ConfigError(
      `SYNC_ABANDONED_AFTER_MS (${env.SYNC_ABANDONED_AFTER_MS}) must be at least 3 x SYNC_HEARTBEAT_MS (${env.SYNC_HEARTBEAT_MS}): a live sync would be taken for abandoned`,
    );
  }
  if (isProduction && !env.DATABASE_URL) {
    throw new ConfigError('NODE_ENV=production requires DATABASE_URL (the embedded database is for development)');
  }

  const metrics = metricsConfig(env, isProduction);
  let consoleConfig: ConsoleConfig = { signIn: 'none' };
  if (env.CONSOLE_OIDC_CLIENT_ID) {
    if (!env.JWT_ISSUER || !/^https?:\/\//.test(env.JWT_ISSUER)) {
      throw new ConfigError('CONSOLE_OIDC_CLIENT_ID needs JWT_ISSUER to be the identity provider\'s issuer URL (http or https)');
    }
    consoleConfig = { signIn: 'oidc', issuer: env.JWT_ISSUER, clientId: env.CONSOLE_OIDC_CLIENT_ID, scope: env.CONSOLE_OIDC_SCOPE, audience: env.JWT_AUDIENCE };
  } else if (!key && !isProduction) {
    consoleConfig = { signIn: 'dev' };
  }

  return {
    env: env.NODE_ENV,
    isProduction,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    databaseAppUrl: env.DATABASE_APP_URL,
    databasePoolMax: env.DATABASE_POOL_MAX,
    dataDir: path.resolve(env.DATA_DIR),
    embeddedPostgresPort: env.EMBEDDED_POSTGRES_PORT,
    jwt: {
      key,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      claimsNamespace: env.JWT_CLAIMS_NAMESPACE,
      claims: {
        roleClaim: env.JWT_ROLE_CLAIM ?? 'role',
        tenantClaim: env.JWT_TENANT_CLAIM ?? 'tenantId',
        tenantByReference: env.JWT_TENANT_CLAIM !== undefined,
        roleMap: env.JWT_ROLE_MAP === undefined ? undefined : parseRoleMap(env.JWT_ROLE_MAP),
      },
    },
    maxBodyBytes: env.MAX_BODY_BYTES,
    maxUploadBodyBytes,
    inflightBodyBytes: { instance: env.MAX_INFLIGHT_BODY_BYTES, perSubject: env.MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    webConcurrency: env.WEB_CONCURRENCY,
    heapGrowingPercent: env.HEAP_GROWING_PERCENT,
    secretsKey,
    schedulerEnabled: env.SCHEDULER_ENABLED === 'true',
    graphiql: env.GRAPHIQL === undefined ? !isProduction : env.GRAPHIQL === 'true',
    introspection: !isProduction || env.GRAPHIQL === 'true',
    executor: env.GRAPHQL_EXECUTOR,
    queryLimits: {
      maxDepth: env.MAX_QUERY_DEPTH,
      maxAliases: env.MAX_QUERY_ALIASES,
      maxCost: env.MAX_QUERY_COST,
      maxTokens: env.MAX_QUERY_TOKENS,
    },
    statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
    rateLimits: { perSubjectPerMinute: env.RATE_LIMIT_SUBJECT_PER_MINUTE, perTenantPerMinute: env.RATE_LIMIT_TENANT_PER_MINUTE },
    ssmTimeoutMs: env.SSM_TIMEOUT_MS,
    ssmRetries: env.SSM_RETRIES,
    ssmCaCert: env.SSM_CA_CERT === undefined ? undefined : caBundle(env.SSM_CA_CERT),
    syncTickCron: env.SYNC_TICK_CRON,
    alertSubscribers: { maxPending: env.ALERT_SUBSCRIBER_MAX_PENDING, stallMs: env.ALERT_SUBSCRIBER_STALL_MS },
    syncRuns: { heartbeatMs: env.SYNC_HEARTBEAT_MS, abandonedAfterMs: env.SYNC_ABANDONED_AFTER_MS },
    metrics,
    console: consoleConfig,
    costLimits:
      env.COST_LIMITS === 'off'
        ? undefined
        : {
            store: env.COST_BUDGET_STORE,
            tenant: { capacity: env.COST_TENANT_CAPACITY, restoreRate: env.COST_TENANT_RESTORE_RATE },
            provider: { capacity: env.COST_PROVIDER_CAPACITY, restoreRate: env.COST_PROVIDER_RESTORE_RATE },
            heavyCost: env.COST_HEAVY_THRESHOLD,
            lane: { perKey: env.HEAVY_PER_KEY, queuePerKey: env.HEAVY_QUEUE_PER_KEY, total: env.HEAVY_TOTAL },
          },
  };
}

/** SSM_CA_CERT's certificates; a file that cannot be read or holds no valid certificate stops start-up. */
function caBundle(file: string): { path: string; certificates: string[] } {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (err) {
    throw new ConfigError(`SSM_CA_CERT: cannot read ${resolved} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return { path: resolved, certificates: pemCertificates(text) };
  } catch (err) {
    throw new ConfigError(`SSM_CA_CERT: ${resolved} ${(err as Error).message}`);
  }
}

function metricsConfig(env: Env, isProduction: boolean): MetricsConfig {
  const token = env.METRICS_TOKEN;
  if (token !== undefined && token.length < METRICS_TOKEN_MIN_LENGTH) {
    throw new ConfigError(`METRICS_TOKEN must be at least ${METRICS_TOKEN_MIN_LENGTH} characters long`);
  }
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
    throw new ConfigError(`METRICS_PORT (${env.METRICS_PORT}) must differ from PORT: it is a listener of its own on 127.0.0.1`);
  }
  const mainPort = token ? 'token' : env.METRICS_PORT !== undefined || isProduction ? 'off' : 'open';
  return { mainPort, token, port: env.METRICS_PORT };
}

/**
 * JWT_ROLE_MAP: `group=ROLE` pairs separated by commas, e.g. `admins=PROVIDER_ADMIN,ops=PROVIDER_OPERATOR`.
 * A group name may itself contain `=` (the last one separates); whitespace around names is ignored.
 */
export function parseRoleMap(value: string): ReadonlyMap<string, Role> {
  const map = new Map<string, Role>();
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const sep = entry.lastIndexOf('=');
    const group = entry.slice(0, Math.max(sep, 0)).trim();
    const role = entry.slice(sep + 1).trim();
    if (sep <= 0 || group === '') throw new ConfigError(`JWT_ROLE_MAP entry ${JSON.stringify(entry.trim())} must look like group=ROLE`);
    if (!isRole(role)) {
      throw new ConfigError(`JWT_ROLE_MAP maps ${JSON.stringify(group)} to ${JSON.stringify(role)}, which is not one of ${ALL_ROLES.join(', ')}`);
    }
    if (map.has(group) && map.get(group) !== role) throw new ConfigError(`JWT_ROLE_MAP maps ${JSON.stringify(group)} twice, to different roles`);
    map.set(group, role);
  }
  if (map.size === 0) throw new ConfigError('JWT_ROLE_MAP is set but maps no group (format: group=ROLE,other=ROLE)');
  return map;
}

function publicKeyConfig(pem: string, privatePem: string | undefined): JwtKeyConfig {
  // Keys often arrive through env files with literal "\n" sequences.
  const publicKey = pem.replace(/\\n/g, '\n');
  const privateKey = privatePem?.replace(/\\n/g, '\n');
  let keyObject;
  try {
    keyObject = createPublicKey(publicKey);
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY is not a PEM public key');
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    return { kind: 'public-key', algorithms: ['RS256'], publicKey, privateKey };
  }
  if (keyObject.asymmetricKeyType === 'ec' && keyObject.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { kind: 'public-key', algorithms: ['ES256'], publicKey, privateKey };
  }
  throw new ConfigError('JWT_PUBLIC_KEY must be an RSA key (RS256) or a P-256 EC key (ES256)');
}
