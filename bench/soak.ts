import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Role } from '../src/auth/roles';
import type { HeapReport } from '../src/server/debug-hooks';
import { freePort, ROOT, scratchDatabase, serverEnv, sleep, startChild, token, writeResults, type ChildServer } from './harness';
import { TENANT_PAGE_QUERY } from './scenarios';
import { seed, type SeededTenant } from './seed';
import { bump, describeEnd, evaluate, newStats, printReport, progressLine, type Sample, type ServerExit, type Stats } from './soak-report';
import { AlertSubscriber, type SubscriptionEnd } from './soak-ws';

/**
 * `npm run soak [-- --minutes N] [--warmup SECONDS] [--tenants N] [--devices N] [--heap-snapshots]`
 *
 * Runs the real server (production settings, plus `--expose-gc` for `GET /__debug/heap`) on a seeded
 * scratch database and keeps it under mixed load for a warm-up (60 s) plus an N-minute window (10):
 *  - alert burst: 20 provider `licenseAlerts` subscriptions reading at full speed; 1 provider
 *    subscription that reads one socket chunk every 5 s (reconnecting 5 s after it is closed);
 *    20 tenant admins each looping releaseLicenses / assignLicenses (postpaid) over 5 devices, each
 *    change updating their OUT_OF_COMPLIANCE alert; the tenant page on 20 HTTP connections;
 *  - churn: every 150 ms a connection subscribes and leaves a second later (every third without a
 *    close frame); every tenth asks for another tenant's alerts (refused: expected), every tenth
 *    carries a token that expires 2 s later (closed with 4403: expected);
 *  - every 30 s `GET /__debug/heap`: heap used after a full GC, RSS, alert subscribers, WebSocket clients.
 * Checks and their exact definitions: bench/soak-report.ts `evaluate`. Exits 1 when one fails;
 * writes bench/results/soak-<date>.json.
 *
 * --heap-snapshots: the server also runs with --heapsnapshot-signal=SIGUSR2 (files in a temporary
 * directory) and is signalled after warm-up and after the load; `npm run heap-diff -- A B` compares
 * them. Writing a snapshot stops the server for seconds; requests wait meanwhile.
 */

const FAST_SUBSCRIBERS = 20;
const TENANT_ADMINS = 20;
const DEVICES_PER_ADMIN = 5;
const PAGE_CONNECTIONS = 20;
const CHURN_EVERY_MS = 150;
const CHURN_LIFETIME_MS = 1000;
const EXPIRING_TOKEN_SEC = 2;
const SLOW_RECONNECT_MS = 5000;

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Shared by every load loop: whether to go on, and a promise that settles when the load stops. */
interface Load {
  running: boolean;
  stopped: Promise<void>;
  stop(): void;
  /** sleep(ms), cut short when the load stops. */
  pause(ms: number): Promise<void>;
}

function newLoad(): Load {
  let resolve: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (resolve = r));
  const load: Load = {
    running: true,
    stopped,
    stop() {
      load.running = false;
      resolve();
    },
    pause: (ms) => Promise.race([sleep(ms), stopped]),
  };
  return load;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '60' },
      tenants: { type: 'string', default: '200' },
      devices: { type: 'string', default: '20000' },
      'sample-every': { type: 'string', default: '30' },
      'slow-read-ms': { type: 'string', default: '5000' },
      'heap-snapshots': { type: 'boolean', default: false },
    },
  });
  const windowSec = Math.round(Number(values.minutes) * 60);
  const warmupSec = Number(values.warmup);
  const sampleSec = Number(values['sample-every']);
  const slowReadMs = Number(values['slow-read-ms']);
  const tenants = Number(values.tenants);
  if (!(windowSec > 0 && warmupSec >= 0 && sampleSec > 0 && slowReadMs > 0 && tenants > TENANT_ADMINS)) {
    throw new Error(`--minutes and --sample-every and --slow-read-ms must be > 0, --warmup >= 0, --tenants > ${TENANT_ADMINS}`);
  }
  const loadSec = warmupSec + windowSec;
  const snapshotDir = values['heap-snapshots'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'slm-soak-heap-')) : undefined;

  const db = await scratchDatabase();
  let server: ChildServer | undefined;
  let stopping = false;
  try {
    server = await startChild(
      'server',
      path.join(ROOT, 'dist', 'src', 'main.js'),
      serverEnv(db.url),
      await freePort(),
      ['--expose-gc', ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : [])],
    );
    const srv = server;
    const base = srv.url.replace(/\/graphql$/, '');
    const wsUrl = srv.url.replace(/^http/, 'ws');
    const providerAdmin = token(Role.PROVIDER_ADMIN, undefined, 'soak-provider');

    console.log(`server ready (pid ${srv.pid}); seeding ${tenants} tenants, ${values.devices} devices`);
    const seeded = await seed(db.url, { tenants, devices: Number(values.devices) });
    console.log(`seeded in ${seeded.ms} ms: ${seeded.devices} devices, ${seeded.assignments} assignments`);
    // Tenant 1 is the large one; the admins take the next 20 that have 5 devices.
    const adminTenants = seeded.tenants.filter((t) => t.n > 1 && t.devices >= DEVICES_PER_ADMIN).slice(0, TENANT_ADMINS);
    if (adminTenants.length < TENANT_ADMINS) throw new Error(`need ${TENANT_ADMINS} tenants with ${DEVICES_PER_ADMIN} devices: raise --devices`);
    const admins = await Promise.all(adminTenants.map((t) => tenantAdmin(srv.url, t)));

    const samples: Sample[] = [];
    const sample = async (phase: Sample['phase'], t: number): Promise<Sample> => {
      const s = toSample(await heapReport(base, providerAdmin), phase, t);
      samples.push(s);
      return s;
    };
    const before = await sample('before load', 0);
    console.log(`before load: heap ${before.heapUsedMb} MB after GC, RSS ${before.rssMb} MB, ws clients ${before.wsClients}, alert subscribers ${before.alertSubscribers ?? 'n/a (AlertBus has no stats())'}`);
    console.log(`load: ${warmupSec} s warm-up + ${windowSec} s window, a line every ${sampleSec} s`);

    const stats = newStats();
    const load = newLoad();
    const startedAt = Date.now();
    const since = (): number => Math.round((Date.now() - startedAt) / 1000);
    let exit: ServerExit | undefined;
    void srv.exited.then((e) => {
      if (stopping) return;
      exit = { ...e, atSec: since() };
      console.log(`!! server exited with code ${e.code}${e.signal ? ` (signal ${e.signal})` : ''} at ${exit.atSec} s of load`);
      load.stop();
    });

    const open = new Set<AlertSubscriber>();
    const subscribe = (bearer: string, variables: { tenantId?: string } = {}, onEvent?: () => void): AlertSubscriber => {
      const sub = new AlertSubscriber(wsUrl, bearer, variables, onEvent);
      open.add(sub);
      stats.subscriptions.opened++;
      void sub.ended.then(() => {
        open.delete(sub);
        stats.subscriptions.ended++;
      });
      return sub;
    };

    const loops: Promise<unknown>[] = [];
    // 1. Alert burst.
    stats.alerts.perFastSubscriber = new Array<number>(FAST_SUBSCRIBERS).fill(0);
    for (let i = 0; i < FAST_SUBSCRIBERS; i++) {
      loops.push(
        (async () => {
          while (load.running) {
            const end = await subscribe(providerAdmin, {}, () => {
              stats.alerts.fastEvents++;
              stats.alerts.perFastSubscriber[i]++;
            }).ended;
            if (!load.running) break;
            bump(stats.alerts.fastUnexpectedEnds, describeEnd(end));
            await load.pause(1000);
          }
        })(),
      );
    }
    loops.push(
      (async () => {
        while (load.running) {
          const sub = subscribe(providerAdmin);
          sub.readSlowly(slowReadMs);
          const end = await sub.ended;
          stats.slow.push({ events: end.events, seconds: Math.round(end.ms / 1000), endedBy: end.endedBy, closeCode: end.closeCode, closeReason: end.closeReason });
          await load.pause(SLOW_RECONNECT_MS);
        }
      })(),
    );
    for (const a of admins) loops.push(licenseChanges(srv.url, a, load, stats.mutations));
    loops.push(tenantPage(srv.url, seeded.tenants, loadSec + 60, load, stats.tenantPage));
    // 2. Churn.
    const tenantTokens = admins.map((a) => token(Role.TENANT_OPERATOR, a.tenantId, `soak-churn-${a.tenantId}`));
    loops.push(
      (async () => {
        for (let n = 0; load.running; n++) {
          loops.push(churnOne(n, { admins, tenantTokens, providerAdmin, subscribe, load, into: stats.churn }));
          await load.pause(CHURN_EVERY_MS);
        }
      })(),
    );

    // 3. Samples, until the window ends or the server exits.
    let reference: Sample | undefined;
    const snapshots: { label: string; file: string }[] = [];
    for (let t = Math.min(sampleSec, loadSec); ; t = Math.min(t + sampleSec, loadSec)) {
      await load.pause(startedAt + t * 1000 - Date.now());
      if (exit) break;
      const s = await sample(t < warmupSec ? 'warm-up' : 'window', t).catch((err: unknown) => {
        console.log(`!! heap probe failed at ${t} s: ${String(err)}`);
        return undefined;
      });
      if (s && !reference && t >= warmupSec) {
        reference = s;
        console.log(`reference for the window: heap ${s.heapUsedMb} MB after GC, RSS ${s.rssMb} MB at ${t} s`);
        if (snapshotDir) snapshots.push({ label: 'after warm-up', file: await heapSnapshot(srv.pid, snapshotDir, base) });
      }
      if (s) console.log(progressLine(s, reference, stats));
      if (t >= loadSec || exit) break;
    }

    // Stop: every loop ends and every subscription is closed from the client side.
    load.stop();
    for (const sub of open) sub.end();
    await Promise.race([Promise.allSettled(loops), sleep(20_000)]);
    for (const sub of open) sub.endAbruptly();

    let after: Sample | undefined;
    if (!exit) {
      // Sockets close and subscriptions unwind asynchronously: up to 30 s to get back to the counts before load.
      const settleBy = Date.now() + 30_000;
      for (;;) {
        after = await heapReport(base, providerAdmin).then(
          (r) => toSample(r, 'after load', since()),
          (err: unknown) => void console.log(`!! heap probe failed after the load: ${String(err)}`),
        );
        const settled = after && after.wsClients <= before.wsClients && (after.alertSubscribers ?? 0) <= (before.alertSubscribers ?? 0);
        if (!after || settled || Date.now() > settleBy) break;
        await sleep(1000);
      }
    }
    if (after) {
      samples.push(after);
      console.log(progressLine(after, reference, stats));
      if (snapshotDir) snapshots.push({ label: 'after load', file: await heapSnapshot(srv.pid, snapshotDir, base) });
    }

    const outcome = { exit, stderrTail: srv.stderrTail(), samples, before, reference, after, loadSec, stats, heapSnapshots: Boolean(snapshotDir) };
    const checks = evaluate(outcome);
    printReport(outcome, checks, snapshots);
    const pass = checks.every((c) => c.pass !== false);
    const file = writeResults(`soak-${new Date().toISOString().slice(0, 10)}`, {
      date: new Date().toISOString(),
      pass,
      options: { windowSec, warmupSec, sampleSec, slowReadMs, tenants, devices: seeded.devices },
      load: { fastSubscribers: FAST_SUBSCRIBERS, tenantAdmins: TENANT_ADMINS, devicesPerAdmin: DEVICES_PER_ADMIN, pageConnections: PAGE_CONNECTIONS, churnEveryMs: CHURN_EVERY_MS },
      machine: { cpus: os.cpus().length, node: process.version, database: process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL' },
      serverExit: exit ?? null,
      checks,
      stats,
      samples,
      snapshots,
    });
    console.log(`results: ${path.relative(ROOT, file)}`);
    process.exitCode = pass ? 0 : 1;
  } finally {
    stopping = true;
    await server?.stop();
    await db.drop();
  }
}

async function heapReport(base: string, bearer: string): Promise<HeapReport> {
  const res = await fetch(`${base}/__debug/heap`, { headers: { authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`GET /__debug/heap answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as HeapReport;
}

function toSample(r: HeapReport, phase: Sample['phase'], t: number): Sample {
  return {
    t,
    phase,
    heapUsedMb: mb(r.heapUsedBytes),
    heapTotalMb: mb(r.heapTotalBytes),
    rssMb: mb(r.rssBytes),
    externalMb: mb(r.externalBytes),
    alertSubscribers: r.alertSubscribers ?? null,
    wsClients: r.wsClients,
  };
}

/**
 * Signals the server to write a heap snapshot and waits for it. The snapshot is written on the
 * server's main thread, so once the file exists and the server answers again, the file is complete.
 */
async function heapSnapshot(pid: number, dir: string, base: string): Promise<string> {
  const known = new Set(fs.readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 300_000;
  for (;;) {
    await sleep(500);
    const fresh = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (fresh && (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(120_000) }).then((r) => r.ok, () => false))) {
      const file = path.join(dir, fresh);
      console.log(`heap snapshot written: ${file} (${mb(fs.statSync(file).size)} MB)`);
      return file;
    }
    if (Date.now() > deadline) throw new Error(`no heap snapshot in ${dir} within 300 s of SIGUSR2`);
  }
}

interface TenantAdmin {
  tenantId: string;
  token: string;
  deviceIds: string[];
}

async function tenantAdmin(url: string, t: SeededTenant): Promise<TenantAdmin> {
  const bearer = token(Role.TENANT_ADMIN, t.id, `soak-admin-${t.n}`);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query: `{ devices(first: ${DEVICES_PER_ADMIN}) { edges { node { id } } } }` }),
  });
  const body = (await res.json()) as { data?: { devices: { edges: { node: { id: string } }[] } }; errors?: unknown };
  if (!body.data) throw new Error(`devices of tenant ${t.n}: ${JSON.stringify(body.errors)}`);
  return { tenantId: t.id, token: bearer, deviceIds: body.data.devices.edges.map((e) => e.node.id) };
}

const RELEASE = 'mutation($i: ReleaseLicensesInput!) { releaseLicenses(input: $i) { __typename } }';
const ASSIGN = 'mutation($i: AssignLicensesInput!) { assignLicenses(input: $i) { __typename } }';

/** A tenant admin releasing and re-assigning (postpaid) the licenses of its 5 devices, back to back. */
async function licenseChanges(url: string, admin: TenantAdmin, load: Load, into: Stats['mutations']): Promise<void> {
  const steps = [
    ['releaseLicenses', RELEASE, { deviceIds: admin.deviceIds }],
    ['assignLicenses', ASSIGN, { deviceIds: admin.deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' }],
  ] as const;
  for (let i = 0; load.running; i++) {
    const [op, query, input] = steps[i % 2];
    const outcome = await graphql(url, admin.token, query, { i: input });
    if (!load.running) break; // an answer to the stop (or to the server's exit) is not the server's
    into.requests++;
    if (outcome === 'ok') into.ok++;
    else bump(into.errors, `${op}: ${outcome}`);
  }
}

/** One GraphQL POST: 'ok', or what went wrong (the first error's code, the HTTP status, the transport error). */
async function graphql(url: string, bearer: string, query: string, variables: Record<string, unknown>): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json().catch(() => ({}))) as { errors?: { extensions?: { code?: string } }[] };
    if (body.errors?.length) return body.errors[0].extensions?.code ?? `HTTP ${res.status}`;
    return res.ok ? 'ok' : `HTTP ${res.status}`;
  } catch (err) {
    return transportError(err);
  }
}

function transportError(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string }; message?: string };
  return e.cause?.code ?? e.code ?? (e.name === 'TimeoutError' ? 'TIMEOUT' : (e.message ?? String(err)));
}

/** The tenant page (bench's tenant-page query) on 20 connections, a random tenant per request, until the load stops. */
async function tenantPage(url: string, tenants: readonly SeededTenant[], maxSec: number, load: Load, into: Stats['tenantPage']): Promise<void> {
  const tokens = tenants.map((t) => token(Role.TENANT_OPERATOR, t.id, `soak-page-${t.n}`));
  await new Promise<void>((resolve) => {
    const instance = autocannon(
      {
        url,
        connections: PAGE_CONNECTIONS,
        duration: maxSec,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            body: JSON.stringify({ query: TENANT_PAGE_QUERY }),
            setupRequest: (req) => ({
              ...req,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}` },
            }),
            onResponse: (status, body) => {
              if (status === 200 && body.startsWith('{"errors"')) into.graphqlErrors++;
            },
          },
        ],
      },
      () => resolve(),
    );
    // Counted while the load runs: after the server's exit autocannon sees only refused connections.
    instance.on('response', (_client, status) => {
      if (!load.running) return;
      into.requests++;
      bump(into.byStatus, status);
    });
    instance.on('reqError', (err: unknown) => {
      if (load.running) bump(into.transportErrors, transportError(err));
    });
    void load.stopped.then(() => instance.stop());
  });
}

interface ChurnDeps {
  admins: readonly TenantAdmin[];
  tenantTokens: readonly string[];
  providerAdmin: string;
  subscribe: (bearer: string, variables?: { tenantId?: string }) => AlertSubscriber;
  load: Load;
  into: Stats['churn'];
}

type ChurnOutcome = 'endedAsPlanned' | 'endedAbruptly' | 'refusedAsExpected' | 'expiredAsExpected';

/**
 * The n-th churn connection. Every tenth (n % 10 == 9) is a tenant asking for another tenant's
 * alerts, and leaves once answered; every tenth (n % 10 == 4) has a token that expires 2 s later and
 * waits for the server to close it; the rest subscribe with a provider (even n) or tenant (odd n)
 * token and leave after a second, every third without a close frame.
 */
async function churnOne(n: number, d: ChurnDeps): Promise<void> {
  d.into.started++;
  const k = n % d.admins.length;
  const kind = n % 10 === 9 ? 'cross-tenant' : n % 10 === 4 ? 'expiring token' : 'churn';
  let sub: AlertSubscriber;
  let lifetimeMs = CHURN_LIFETIME_MS;
  let leave = (s: AlertSubscriber): void => s.end();
  let expected: (end: SubscriptionEnd) => ChurnOutcome | undefined;
  if (kind === 'cross-tenant') {
    sub = d.subscribe(d.tenantTokens[k], { tenantId: d.admins[(k + 1) % d.admins.length].tenantId });
    lifetimeMs = 10_000;
    void sub.answered.then(() => sub.end());
    expected = (end) => (end.refused === 'NOT_FOUND' && end.endedBy === 'client' ? 'refusedAsExpected' : undefined);
  } else if (kind === 'expiring token') {
    const bearer =
      n % 20 === 4
        ? token(Role.PROVIDER_ADMIN, undefined, `soak-expiring-${n}`, EXPIRING_TOKEN_SEC)
        : token(Role.TENANT_OPERATOR, d.admins[k].tenantId, `soak-expiring-${n}`, EXPIRING_TOKEN_SEC);
    sub = d.subscribe(bearer);
    lifetimeMs = (EXPIRING_TOKEN_SEC + 8) * 1000; // the client leaves only if the server did not close it at expiry
    expected = (end) => (end.endedBy === 'server' && end.closeCode === 4403 && !end.refused ? 'expiredAsExpected' : undefined);
  } else {
    sub = d.subscribe(n % 2 === 0 ? d.providerAdmin : d.tenantTokens[k]);
    if (n % 3 === 0) leave = (s) => s.endAbruptly();
    // (the stop may close cleanly a connection that was to be dropped: counted by what happened)
    expected = (end) => (end.refused || end.endedBy === 'server' ? undefined : end.endedBy === 'client-abrupt' ? 'endedAbruptly' : 'endedAsPlanned');
  }
  const timer = setTimeout(() => leave(sub), lifetimeMs);
  const end = await sub.ended;
  clearTimeout(timer);
  const as = expected(end);
  if (as) d.into[as]++;
  else if (!d.load.running && end.endedBy === 'client') d.into.cutShort++;
  else bump(d.into.unexpected, `${kind}: ${describeEnd(end)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
