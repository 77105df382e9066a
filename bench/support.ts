import fs from 'node:fs';
import path from 'node:path';
import { adminQuery } from './harness';
import { mintToken } from '../src/auth/jwt';
import type { Role } from '../src/auth/roles';
import { loadConfig, type Config } from '../src/config';
import { openDatabase, type Database } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startServer, type RunningServer } from '../src/server/app';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const KEY = { kind: 'secret' as const, algorithms: ['HS256'] as ['HS256'], secret: SECRET, generated: false };

export interface BenchServer {
  config: Config;
  db: Database;
  server: RunningServer;
  token(role: Role, tenantId?: string): string;
  /** A GraphQL request that throws on errors (benchmarks set up data, they do not test it). */
  gql<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T>;
  close(): Promise<void>;
}

/**
 * The real server for a benchmark: production-like settings, no rate limits, and its own scratch
 * database on DATABASE_URL (dropped at close), or the embedded PostgreSQL when it is unset.
 */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const log = createLogger('warn');
  const base = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    JWT_SECRET: SECRET,
    RATE_LIMIT_SUBJECT_PER_MINUTE: '0',
    RATE_LIMIT_TENANT_PER_MINUTE: '0',
    ...env,
  });
  let config = base;
  let scratch: string | undefined;
  if (base.databaseUrl) {
    scratch = `slm_bench_${Date.now()}`;
    await adminQuery(base.databaseUrl, `create database ${scratch}`);
    const url = new URL(base.databaseUrl);
    url.pathname = `/${scratch}`;
    config = { ...base, databaseUrl: url.toString() };
  }
  const db = await openDatabase(config, log);
  const server = await startServer({ config, log, db });
  return {
    config,
    db,
    server,
    token: (role, tenantId) => mintToken({ key: KEY, subject: `bench-${role.toLowerCase()}`, role, tenantId, expiresInSec: 3600 }),
    async gql<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data as T;
    },
    async close() {
      await server.close();
      await db.close();
      if (base.databaseUrl && scratch) await adminQuery(base.databaseUrl, `drop database ${scratch} with (force)`);
    },
  };
}

/** Writes bench/results/<name>-<date>.json. */
export function writeResult(name: string, result: Record<string, unknown>): void {
  const file = path.join(__dirname, '..', '..', 'bench', 'results', `${name}-${new Date().toISOString().slice(0, 10)}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2));
}
