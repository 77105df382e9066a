import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import type { AppRuntime } from '../../src/common/context';
import { loadConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger, type Logger } from '../../src/logger';
import { startServer, type RunningServer, type ServerStats } from '../../src/server/app';
import { testEnvironment, withDatabase } from './environment';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_ISSUER = 'https://issuer.test/';
export const TEST_AUDIENCE = 'sdwan-license-manager';

export type RoleName = 'PROVIDER_ADMIN' | 'PROVIDER_OPERATOR' | 'TENANT_ADMIN' | 'TENANT_OPERATOR';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: T | null;
    errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> & { code?: string } }[];
  };
}

export interface TestServer {
  url: string;
  origin: string;
  db: Database;
  /** The server's runtime: `runtime.clock.advance(ms)` moves the product's time. */
  runtime: AppRuntime;
  /** Per-connection state the server holds (WebSocket clients, alert subscribers, bus listeners). */
  stats(): ServerStats;
  /** Request body bytes the server holds reserved in flight now. */
  bodyBytesInFlight(): number;
  /** Owner (superuser) URL of this test file's own database. */
  ownerUrl: string;
  /** The METRICS_PORT listener's URL, when the env asked for one. */
  metricsUrl?: string;
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GraphQLResponse<T>>;
  /** A valid token for the role (tenant roles take the tenant's uuid). */
  token(role: RoleName, tenantUuid?: string, claims?: Record<string, unknown>): string;
  /** Runs SQL as the owner (bypasses RLS): for arranging and asserting, never for the behaviour under test. */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/**
 * Starts the real server (real HTTP, real PostgreSQL, RLS as the app role) on a database of this
 * test file's own, cloned from the migrated template built in globalSetup.
 */
export async function startTestServer(
  options: { env?: Record<string, string>; sameDatabaseAs?: TestServer; log?: Logger } = {},
): Promise<TestServer> {
  const ownerUrl = options.sameDatabaseAs?.ownerUrl ?? (await createTestDatabase());
  const dbName = new URL(ownerUrl).pathname.slice(1);
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: ownerUrl,
    DATA_DIR: path.join(os.tmpdir(), `slm-test-data-${dbName}`),
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    SCHEDULER_ENABLED: 'false',
    RATE_LIMIT_SUBJECT_PER_MINUTE: '0',
    RATE_LIMIT_TENANT_PER_MINUTE: '0',
    // Fair-share budgets are tested on their own (test/fair-share.e2e.test.ts); other suites run bulk
    // work back to back, which a tenant's budget would rightly slow down.
    COST_LIMITS: 'off',
    SECRETS_KEY: '5'.repeat(64),
    SSM_TIMEOUT_MS: '1000',
    SSM_RETRIES: '1',
    // GRAPHQL_EXECUTOR=graphql-js npm test runs every suite on graphql-js's executor instead of graphql-jit.
    ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
    ...options.env,
  });
  const log = options.log ?? createLogger(config.logLevel);
  const db = await openDatabase(config, log);
  let server: RunningServer;
  try {
    server = await startServer({ config, log, db });
  } catch (err) {
    await db.close();
    throw err;
  }
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  const origin = new URL(server.url).origin;

  return {
    url: `${origin}/graphql`,
    origin,
    db,
    runtime: server.runtime,
    stats: () => server.stats(),
    bodyBytesInFlight: () => server.bodyBudget.reservedBytes,
    ownerUrl,
    metricsUrl: server.metricsUrl,
    async graphql(query, variables, token) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${origin}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse['body'] } as never;
    },
    token(role, tenantUuid, claims) {
      return signTestToken({ role, ...(tenantUuid ? { tenantId: tenantUuid } : {}), ...claims });
    },
    async sql(text, params) {
      return (await owner.query(text, params)).rows as never;
    },
    async close() {
      await server.close();
      await db.close();
      await owner.end();
    },
  };
}

/** A database of this test file's own, cloned from the migrated template built in globalSetup. */
export async function createTestDatabase(infix = ''): Promise<string> {
  const { adminUrl, templateDb, dbPrefix } = testEnvironment();
  const dbName = `${dbPrefix}${infix}${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(dbName)} template ${admin.escapeIdentifier(templateDb)}`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, dbName);
}

/** Signs with the test secret, issuer and audience; `claims` and `options` override anything. */
export function signTestToken(claims: Record<string, unknown>, options: jwt.SignOptions = {}, secret = TEST_JWT_SECRET): string {
  return jwt.sign({ sub: 'test-user', ...claims }, secret, {
    algorithm: 'HS256',
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    expiresIn: 3600,
    ...options,
  });
}
