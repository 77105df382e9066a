import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Role } from '../src/auth/roles';
import { keyPairFromSeed, publicKeyPem } from '../src/ssm/files/signing';
import { freePort, gql, JWT_SECRET, ROOT, scratchDatabase, sleep, startChild, token, withPeak, writeResults } from './harness';

/**
 * `npm run bench:bodies`: what request bodies cost the server (issue 15, section 3).
 *
 *  (a) 150 concurrent unauthenticated POSTs of a 15 MB JSON body to /graphql: refused from their
 *      headers, bodies discarded as they stream. Target: server peak RSS < 300 MB.
 *  (b) 40 concurrent authenticated 10 MB multipart uploads (random bytes: the license summary
 *      checks refuse them as NOT_GZIP after reading them whole), each from its own token subject,
 *      so the instance-wide in-flight bound is what admits or refuses them (503 SERVER_BUSY).
 *      Target: server peak RSS < 600 MB.
 *  (c) the same 40 uploads, each retrying after Retry-After until the server takes it: all are
 *      processed, within the same memory.
 *
 * Starts the real server (production settings, default body limits) as a child process on a scratch
 * database, as `npm run bench` does. `probeBodies` is exported for the soak tool.
 */

const MB = 1_000_000;
const UPLOAD_SUMMARY = 'mutation($input: UploadFileInput!) { uploadLicenseSummary(input: $input) { serial } }';
const SET_SYNC_MODE = 'mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { mode } }';
const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }';

export interface BodyProbeOptions {
  unauthenticated: { requests: number; bytes: number; targetPeakRssMb: number };
  uploads: { requests: number; bytes: number; targetPeakRssMb: number };
  /** Per request, including retries in (c). */
  timeoutMs: number;
}

export const DEFAULT_BODY_PROBE: BodyProbeOptions = {
  unauthenticated: { requests: 150, bytes: 15 * MB, targetPeakRssMb: 300 },
  // 10 MB as the license summary parser counts it (10,000,000 bytes): the bytes reach its checks.
  uploads: { requests: 40, bytes: 10 * MB, targetPeakRssMb: 600 },
  timeoutMs: 120_000,
};

export interface PhaseResult {
  name: string;
  requests: number;
  /** "401 UNAUTHENTICATED", "200 BAD_USER_INPUT/NOT_GZIP", "503 SERVER_BUSY", "error ECONNRESET"... -> count. */
  outcomes: Record<string, number>;
  /** Attempts in all (more than requests when busy answers were retried). */
  attempts: number;
  seconds: number;
  peakRssMb: number;
  targetPeakRssMb: number;
  pass: boolean;
}

export interface BodyProbeResult {
  idleRssMb: number;
  phases: PhaseResult[];
  pass: boolean;
}

interface Answer {
  status: number;
  code: string;
  retryAfterSec?: number;
}

/**
 * Runs (a), (b) and (c) against `url` (…/graphql). `tokens`: bearer tokens allowed to upload a
 * license summary (TENANT_ADMIN of an existing tenant whose provider trusts some signing key, so
 * the file checks run); one per upload gives each upload its own subject, fewer are reused round
 * robin (then the per-subject bound refuses some with 429). `sampleRss` gives the server's RSS in MB.
 */
export async function probeBodies(
  url: string,
  tokens: readonly string[],
  sampleRss: () => number,
  options: BodyProbeOptions = DEFAULT_BODY_PROBE,
): Promise<BodyProbeResult> {
  const idleRssMb = Math.round(sampleRss());
  const phases = [
    await probeUnauthenticated(url, sampleRss, options),
    await probeUploads(url, tokens, sampleRss, options, false),
    await probeUploads(url, tokens, sampleRss, options, true),
  ];
  return { idleRssMb, phases, pass: phases.every((p) => p.pass) };
}

/** (a) Unauthenticated POSTs of a large JSON body, all at once, each sent in full. */
export async function probeUnauthenticated(url: string, sampleRss: () => number, options: BodyProbeOptions = DEFAULT_BODY_PROBE): Promise<PhaseResult> {
  const { requests, bytes, targetPeakRssMb } = options.unauthenticated;
  const head = Buffer.from('{"query":"{ viewer { role } }","variables":{"padding":"');
  const tail = Buffer.from('"}}');
  const body = [head, Buffer.alloc(bytes - head.length - tail.length, 0x78), tail];
  const t0 = Date.now();
  const { result, peakRssMb } = await withPeak(sampleRss, () =>
    Promise.all(Array.from({ length: requests }, () => send(url, { 'content-type': 'application/json' }, body, options.timeoutMs))),
  );
  return phase(`(a) ${requests} x ${bytes / MB} MB unauthenticated POST /graphql`, requests, result, Date.now() - t0, peakRssMb, targetPeakRssMb);
}

/** (b) and, with `retryBusy`, (c): multipart uploads of random bytes, all at once. */
export async function probeUploads(
  url: string,
  tokens: readonly string[],
  sampleRss: () => number,
  options: BodyProbeOptions = DEFAULT_BODY_PROBE,
  retryBusy = false,
): Promise<PhaseResult> {
  if (tokens.length === 0) throw new Error('probeUploads needs at least one token');
  const { requests, bytes, targetPeakRssMb } = options.uploads;
  const boundary = 'body-probe-boundary';
  const operations = JSON.stringify({ query: UPLOAD_SUMMARY, variables: { input: { file: null } } });
  const file = randomBytes(bytes); // shared by every request: the client holds one copy
  const body = [
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
        `--${boundary}\r\ncontent-disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
        `--${boundary}\r\ncontent-disposition: form-data; name="0"; filename="random.tar.gz"\r\ncontent-type: application/gzip\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ];
  let attempts = 0;
  const upload = async (i: number): Promise<Answer> => {
    const headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${tokens[i % tokens.length]}` };
    for (;;) {
      attempts++;
      const answer = await send(url, headers, body, options.timeoutMs);
      if (!retryBusy || answer.retryAfterSec === undefined) return answer;
      await sleep(answer.retryAfterSec * 1000 * (0.5 + Math.random())); // spread the retries
    }
  };
  const t0 = Date.now();
  const { result, peakRssMb } = await withPeak(sampleRss, () => Promise.all(Array.from({ length: requests }, (_, i) => upload(i))));
  const name = `(${retryBusy ? 'c' : 'b'}) ${requests} x ${bytes / MB} MB multipart uploads, ${Math.min(tokens.length, requests)} subjects${retryBusy ? ', retrying after Retry-After' : ''}`;
  return { ...phase(name, requests, result, Date.now() - t0, peakRssMb, targetPeakRssMb), attempts };
}

function phase(name: string, requests: number, answers: Answer[], ms: number, peakRssMb: number, targetPeakRssMb: number): PhaseResult {
  const outcomes: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status ? `${a.status} ${a.code}` : `error ${a.code}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  return { name, requests, outcomes, attempts: requests, seconds: Number((ms / 1000).toFixed(1)), peakRssMb, targetPeakRssMb, pass: peakRssMb < targetPeakRssMb };
}

/**
 * One POST with a declared Content-Length on a connection of its own, kept alive (so the server
 * does not simply close it after an early answer), the body written in full whatever the server
 * answers early; the connection is dropped once both the answer and the body are done.
 */
function send(url: string, headers: Record<string, string>, body: Buffer[], timeoutMs: number): Promise<Answer> {
  const length = body.reduce((n, b) => n + b.length, 0);
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(length), connection: 'keep-alive' },
      agent: false,
      timeout: timeoutMs,
    });
    let answer: Answer | undefined;
    let written = false;
    const settle = (): void => {
      if (!answer || !written) return;
      req.destroy();
      resolve(answer);
    };
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code = '';
        try {
          const error = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: { extensions?: { code?: string; fileError?: string } }[] }).errors?.[0];
          code = error ? [error.extensions?.code, error.extensions?.fileError].filter(Boolean).join('/') : 'ok';
        } catch {
          code = 'non-JSON answer';
        }
        const retryAfter = Number(res.headers['retry-after']);
        answer ??= { status: res.statusCode ?? 0, code, retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined };
        settle();
      });
    });
    req.on('finish', () => {
      written = true;
      settle();
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      answer ??= { status: 0, code: err.code ?? err.message };
      written = true;
      settle();
    });
    for (const chunk of body) req.write(chunk);
    req.end();
  });
}

export function formatPhase(p: PhaseResult): string {
  const outcomes = Object.entries(p.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} x ${k}`)
    .join(', ');
  const attempts = p.attempts !== p.requests ? ` (${p.attempts} attempts)` : '';
  return `${p.pass ? 'PASS' : 'FAIL'} ${p.name}: ${outcomes}${attempts} in ${p.seconds} s; server peak RSS ${p.peakRssMb} MB (target < ${p.targetPeakRssMb} MB)`;
}

async function main(): Promise<void> {
  // `-- --server-env NAME=VALUE ...`: run the server with other settings (e.g. MAX_INFLIGHT_BODY_BYTES).
  const { values } = parseArgs({ options: { 'server-env': { type: 'string', multiple: true } } });
  const serverEnv = Object.fromEntries((values['server-env'] ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const db = await scratchDatabase();
  let server: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    server = await startChild('server', path.join(ROOT, 'dist', 'src', 'main.js'), {
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      JWT_SECRET,
      SECRETS_KEY: 'ab'.repeat(32),
      LOG_LEVEL: 'error',
      SCHEDULER_ENABLED: 'false',
      RATE_LIMIT_SUBJECT_PER_MINUTE: '0',
      RATE_LIMIT_TENANT_PER_MINUTE: '0',
      // The 40 uploads belong to one tenant: its cost budget (100,000 points per 10 MB file) would pace
      // the retries of (c) over minutes. This probe measures body handling; COST_LIMITS=on shows both.
      COST_LIMITS: 'off',
      ...serverEnv,
    }, await freePort());
    // A tenant whose provider trusts a signing key, so uploaded bytes reach the file checks.
    const provider = token(Role.PROVIDER_ADMIN);
    await gql(server.url, provider, SET_SYNC_MODE, { input: { mode: 'OFFLINE', trustedSigningKeys: [publicKeyPem(keyPairFromSeed('body-probe').publicKey)] } });
    const created = await gql<{ createTenant: { id: string } }>(server.url, provider, CREATE_TENANT, { input: { name: 'Body probe', slug: 'body-probe' } });
    const tenantId = Buffer.from(created.createTenant.id, 'base64url').toString('utf8').split(':')[1];
    const tokens = Array.from({ length: DEFAULT_BODY_PROBE.uploads.requests }, (_, i) => token(Role.TENANT_ADMIN, tenantId, `body-probe-uploader-${i}`));

    const running = server;
    console.log(`bodies probe: server pid ${running.pid}, idle RSS ${Math.round(running.rssMb())} MB`);
    if (Object.keys(serverEnv).length > 0) console.log(`server settings: ${JSON.stringify(serverEnv)}`);
    const result = await probeBodies(running.url, tokens, () => running.rssMb());
    for (const p of result.phases) console.log(formatPhase(p));
    const file = writeResults(`bodies-${new Date().toISOString().slice(0, 10)}`, { date: new Date().toISOString(), serverEnv, ...result });
    console.log(`${result.pass ? 'PASS' : 'FAIL'} bodies probe; results: ${path.relative(ROOT, file)}`);
    if (!result.pass) process.exitCode = 1;
  } finally {
    await server?.stop();
    await db.drop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
