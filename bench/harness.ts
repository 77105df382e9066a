import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { mintToken } from '../src/auth/jwt';
import type { Role } from '../src/auth/roles';
import { ensureEmbeddedPostgres } from '../src/db/embedded';
import { createLogger } from '../src/logger';

/** Shared parts of `npm run bench`: scratch database, child processes, RSS sampling, load, results. */

export const ROOT = path.join(__dirname, '..', '..');
export const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const KEY = { kind: 'secret' as const, algorithms: ['HS256'] as ['HS256'], secret: JWT_SECRET, generated: false };

export function token(role: Role, tenantId?: string, subject = `bench-${role.toLowerCase()}`, expiresInSec = 6 * 3600): string {
  return mintToken({ key: KEY, subject, role, tenantId, expiresInSec });
}

export interface ScratchDatabase {
  /** Owner (superuser) URL of the scratch database. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database for one run: on DATABASE_URL's server when set, else on the embedded PostgreSQL
 * (started under .data/ like `npm start` does, and stopped at the end if this run started it).
 */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!serverUrl) {
    const handle = await ensureEmbeddedPostgres({ dataDir: path.join(ROOT, '.data'), port: 54329, log: createLogger('warn') });
    serverUrl = handle.url;
    if (handle.startedHere) stopEmbedded = () => handle.stop();
  }
  const name = `slm_bench_${Date.now()}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
      await stopEmbedded?.();
    },
  };
}

/** One statement on its own connection (create/drop database). */
export async function adminQuery(url: string, text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment of the server under test: production settings (JWT and RLS on), warnings only,
 * no scheduler (it would sync every tenant against the simulator mid-run) and no rate limits (they
 * would refuse a load generator that is, by design, one client on many connections).
 */
export function serverEnv(databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    SECRETS_KEY: 'ab'.repeat(32),
    LOG_LEVEL: 'warn',
    SCHEDULER_ENABLED: 'false',
    RATE_LIMIT_SUBJECT_PER_MINUTE: '0',
    RATE_LIMIT_TENANT_PER_MINUTE: '0',
  };
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  rssMb(): number;
  /** Settles when the process exits, however it ends. */
  exited: Promise<ChildExit>;
  /** The last few KB the process wrote to stderr (it is also passed through): the reason of a crash. */
  stderrTail(): string;
  stop(): Promise<void>;
}

/** Starts `node <script>` with env and waits until GET <base>/readyz (or /healthz) answers 200. */
export async function startChild(name: string, script: string, env: Record<string, string>, port: number, nodeArgs: string[] = []): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
  });
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} during start-up`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready within 60 s`);
    }
    await sleep(100);
  }
  return {
    name,
    url: `${base}/graphql`,
    pid: child.pid as number,
    rssMb: () => rssMb(child.pid as number),
    exited,
    stderrTail: () => stderrTail,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A process's RSS in MB, with its children's (the workers of WEB_CONCURRENCY > 1). */
function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024 + childrenOf(pid).reduce((sum, child) => sum + rssMb(child), 0);
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Samples a process's RSS every 25 ms while `fn` runs; returns fn's result and the peak in MB. */
export function withPeakRss<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  return withPeak(() => rssMb(pid), fn);
}

/** Calls `sample` (a figure in MB, such as a process's RSS) every 25 ms while `fn` runs; returns fn's result and the peak. */
export async function withPeak<T>(sample: () => number, fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = sample();
  const timer = setInterval(() => {
    peak = Math.max(peak, sample());
  }, 25);
  try {
    const result = await fn();
    peak = Math.max(peak, sample());
    return { result, peakRssMb: Math.round(peak) };
  } finally {
    clearInterval(timer);
  }
}

/** CPU time (user + system) a process and its children have used so far, in ms, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10 + childrenOf(pid).reduce((sum, child) => sum + cpuMs(child), 0);
}

/** `fn`'s result and the CPU time `pid` used while it ran. */
export async function withCpu<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = cpuMs(pid);
  const result = await fn();
  return { result, cpuMs: cpuMs(pid) - before };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One GraphQL POST; throws on transport or GraphQL errors (the benchmark sets up, it does not test). */
export async function gql<T>(url: string, bearer: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (body.errors || !res.ok) throw new Error(`${res.status} ${JSON.stringify(body.errors ?? body)}`);
  return body.data as T;
}

export interface LoadResult {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/** autocannon against url with a POST body and a token picked at random per request. */
export async function load(url: string, body: string, tokens: readonly string[], seconds: number, connections = 50, timeoutSec = 10): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: timeoutSec,
    requests: [
      {
        method: 'POST',
        body,
        setupRequest: (req) => ({
          ...req,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}`,
          },
        }),
      },
    ],
  });
  return {
    requests: result.requests.total,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1));
}

export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Writes bench/results/<name>.json (name usually carries the date). */
export function writeResults(name: string, result: Record<string, unknown>): string {
  const file = path.join(ROOT, 'bench', 'results', `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
