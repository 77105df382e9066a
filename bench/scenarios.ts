import { isDeepStrictEqual } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { Role } from '../src/auth/roles';
import { fromGlobalId } from '../src/common/global-id';
import { startSimulator } from '../src/ssm-simulator/server';
import { gql, load, median, percentile, sleep, token, withCpu, withPeakRss, type ChildServer, type LoadResult } from './harness';
import { noisyNeighbour } from './noisy-neighbour';
import { seedLicensedTenant, type SeededTenant } from './seed';

/** What every scenario gets: the real server, the baseline, the owner connection URL and the seed. */
export interface BenchContext {
  server: ChildServer;
  /** Replaces `server` with a fresh process (same database), with more environment if given. */
  restartServer(moreEnv?: Record<string, string>): Promise<void>;
  baseline: ChildServer;
  ownerUrl: string;
  tenants: SeededTenant[];
  sizes: Sizes;
  durationSec: number;
}

export interface Sizes {
  bulkDevices: number;
  usageDevices: number;
  subscribers: number;
  events: number;
  syncLines: number;
}

/** One printed row per scenario (and per variant inside one). */
export interface Row {
  scenario: string;
  target: string;
  reqPerSec?: number;
  timeMs?: number;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMb: number;
  baseline?: string;
  ratio?: number;
  note?: string;
  /** The single measurements a median row was made from (results file only). */
  rounds?: unknown[];
}

export const TENANT_PAGE_QUERY =
  'query TenantPage { devices(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { node { id hostname model softwareVersion assignments { id status license { id subscriptionId available } } } } } }';

const DASHBOARD_QUERY = `query ProviderDashboard { licenseDashboard {
  devices { total licensed unlicensed pendingReconciliation }
  compliance { compliant outOfCompliance reasons { reason devices } }
  expiring { within30Days within90Days expired }
  alerts { active critical warning unacknowledged byKind { kind count } }
  entitlements { entitlement { tag } billingType lines purchased inUse available }
  tenants { tenant { id name } devices { total licensed unlicensed } compliance { compliant outOfCompliance }
            expiring { within30Days expired } alerts { active } } } }`;

/** Where two JSON values first differ, as a path and both values (for a failed comparison's message). */
function firstDifference(a: unknown, b: unknown, at = '$'): string {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const [x, y] = [(a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]];
      if (!isDeepStrictEqual(x, y)) return firstDifference(x, y, `${at}.${k}`);
    }
  }
  return `${at}: server ${JSON.stringify(a)}, baseline ${JSON.stringify(b)}`;
}

async function post(url: string, bearer: string, body: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body });
  return res.text();
}

/** Loaded rounds of the tenant page, each side in turn. */
const TENANT_PAGE_ROUNDS = 3;

/** One loaded measurement of one side. */
interface LoadSample {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
}

function loadSample(r: { result: LoadResult; peakRssMb: number }): LoadSample {
  return { reqPerSec: r.result.reqPerSec, p50Ms: r.result.p50Ms, p99Ms: r.result.p99Ms, peakRssMb: r.peakRssMb };
}

/** Throws unless every request of a tenant-page load got a 2xx answer. */
function answeredCleanly(who: string, r: LoadResult): void {
  if (r.errors || r.non2xx) throw new Error(`tenant-page: ${who} had ${r.errors} errors and ${r.non2xx} non-2xx answers`);
}

/** The median of each figure across rounds (each on its own), and the highest peak RSS. */
function medianSample(samples: readonly LoadSample[]): LoadSample {
  return {
    reqPerSec: Math.round(median(samples.map((s) => s.reqPerSec))),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    peakRssMb: Math.max(...samples.map((s) => s.peakRssMb)),
  };
}

/**
 * tenant-page: `devices(first: 50)` with assignments, license and available count, a random
 * tenant's token per request, 50 connections; the same page from the baseline server in the same
 * run. Both answers are compared for a sample of tenants first: they must be the same JSON.
 */
export async function tenantPage(b: BenchContext): Promise<Row[]> {
  const tokens = b.tenants.map((t) => token(Role.TENANT_OPERATOR, t.id, `bench-tenant-${t.n}`));
  const body = JSON.stringify({ query: TENANT_PAGE_QUERY });
  const sample = [0, 1, Math.floor(tokens.length / 2), tokens.length - 1].filter((i, k, all) => i < tokens.length && all.indexOf(i) === k);
  for (const i of sample) {
    const [ours, raw] = await Promise.all([post(b.server.url, tokens[i], body), post(b.baseline.url, tokens[i], body)]);
    const parsed = JSON.parse(ours) as { errors?: unknown; data?: { devices: { edges: unknown[] } } };
    if (parsed.errors || !parsed.data?.devices.edges.length) throw new Error(`tenant-page: server answered ${ours.slice(0, 300)}`);
    // The data must be the same; the server also answers `extensions.cost` (its default cost budget stays on).
    const baselineData = (JSON.parse(raw) as { data?: unknown }).data;
    if (!isDeepStrictEqual(parsed.data, baselineData)) {
      throw new Error(`tenant-page: baseline and server differ for tenant ${b.tenants[i].n} at ${firstDifference(parsed.data, baselineData)}`);
    }
  }
  const warm = Math.min(3, b.durationSec);
  await load(b.baseline.url, body, tokens, warm);
  await load(b.server.url, body, tokens, warm);
  // Alternating rounds, baseline then server, and the median of each figure: the machine is shared with
  // PostgreSQL and the load generator, and one 20-second sample of either side moves by 10-30% from
  // one minute to the next. Every round's figures are kept in the results file.
  const rounds: { baseline: LoadSample; server: LoadSample }[] = [];
  for (let i = 0; i < TENANT_PAGE_ROUNDS; i++) {
    const baseline = await withPeakRss(b.baseline.pid, () => load(b.baseline.url, body, tokens, b.durationSec));
    const server = await withPeakRss(b.server.pid, () => load(b.server.url, body, tokens, b.durationSec));
    answeredCleanly('baseline', baseline.result);
    answeredCleanly('server', server.result);
    rounds.push({ baseline: loadSample(baseline), server: loadSample(server) });
  }
  const raw = medianSample(rounds.map((r) => r.baseline));
  const ours = medianSample(rounds.map((r) => r.server));
  const p99Ratios = rounds.map((r) => r.server.p99Ms / r.baseline.p99Ms);
  // Serially: one connection, so the time per request is the cost of one request with nothing queued.
  const serialSec = Math.max(2, Math.round(b.durationSec / 4));
  // CPU time of the server process per request is measured too: it holds still on a busy machine.
  const { result: rawSerial, cpuMs: rawCpu } = await withCpu(b.baseline.pid, () => load(b.baseline.url, body, tokens, serialSec, 1));
  const { result: oursSerial, cpuMs: oursCpu } = await withCpu(b.server.pid, () => load(b.server.url, body, tokens, serialSec, 1));
  const perRequest = (r: { requests: number }): number => Number(((serialSec * 1000) / r.requests).toFixed(2));
  const cpuPerRequest = (cpu: number, r: { requests: number }): string => `${(cpu / r.requests).toFixed(2)} ms CPU per request`;
  answeredCleanly('baseline serially', rawSerial);
  answeredCleanly('server serially', oursSerial);
  return [
    {
      scenario: 'tenant-page',
      target: `baseline: node:http + pg, one SQL (median of ${rounds.length} rounds)`,
      reqPerSec: raw.reqPerSec,
      p50Ms: raw.p50Ms,
      p99Ms: raw.p99Ms,
      peakRssMb: raw.peakRssMb,
    },
    {
      scenario: 'tenant-page',
      target: `server: GraphQL + JWT + RLS (median of ${rounds.length} rounds)`,
      reqPerSec: ours.reqPerSec,
      p50Ms: ours.p50Ms,
      p99Ms: ours.p99Ms,
      peakRssMb: ours.peakRssMb,
      baseline: `${raw.reqPerSec} req/s`,
      ratio: Number((ours.reqPerSec / raw.reqPerSec).toFixed(2)),
      note:
        `target ratio >= 0.5, p99 <= 2x the baseline's (${(ours.p99Ms / raw.p99Ms).toFixed(1)}x; ` +
        `rounds ${p99Ratios.map((x) => `${x.toFixed(1)}x`).join(' ')}; peak RSS the highest of the rounds)`,
      rounds,
    },
    {
      scenario: 'tenant-page',
      target: 'baseline serially (1 connection)',
      timeMs: perRequest(rawSerial),
      p50Ms: rawSerial.p50Ms,
      p99Ms: rawSerial.p99Ms,
      peakRssMb: raw.peakRssMb,
      note: cpuPerRequest(rawCpu, rawSerial),
    },
    {
      scenario: 'tenant-page',
      target: 'server serially (1 connection)',
      timeMs: perRequest(oursSerial),
      p50Ms: oursSerial.p50Ms,
      p99Ms: oursSerial.p99Ms,
      peakRssMb: ours.peakRssMb,
      baseline: `${perRequest(rawSerial)} ms`,
      ratio: Number((perRequest(oursSerial) / perRequest(rawSerial)).toFixed(2)),
      note: `time per request; target <= 2.5x the baseline; ${cpuPerRequest(oursCpu, oursSerial)}`,
    },
  ];
}

/**
 * tenant-page-workers: the tenant page at 50 connections from the server as one process, then from the
 * same server with WEB_CONCURRENCY=2 (a node:cluster primary and two workers on one port).
 */
export async function tenantPageWorkers(b: BenchContext): Promise<Row[]> {
  const tokens = b.tenants.map((t) => token(Role.TENANT_OPERATOR, t.id, `bench-tenant-${t.n}`));
  const body = JSON.stringify({ query: TENANT_PAGE_QUERY });
  const measure = async (): Promise<{ result: Awaited<ReturnType<typeof load>>; peakRssMb: number }> => {
    await load(b.server.url, body, tokens, Math.min(3, b.durationSec));
    const run = await withPeakRss(b.server.pid, () => load(b.server.url, body, tokens, b.durationSec));
    if (run.result.errors || run.result.non2xx) throw new Error(`tenant-page-workers: ${run.result.errors} errors, ${run.result.non2xx} non-2xx`);
    return run;
  };
  const one = await measure();
  await b.restartServer({ WEB_CONCURRENCY: '2' });
  const two = await measure();
  const row = (target: string, r: typeof one): Row => ({
    scenario: 'tenant-page-workers',
    target,
    reqPerSec: r.result.reqPerSec,
    p50Ms: r.result.p50Ms,
    p99Ms: r.result.p99Ms,
    peakRssMb: r.peakRssMb,
  });
  return [
    row('server, one process', one),
    { ...row('server, WEB_CONCURRENCY=2 (RSS: primary + workers)', two), baseline: `${one.result.reqPerSec} req/s`, ratio: Number((two.result.reqPerSec / one.result.reqPerSec).toFixed(2)) },
  ];
}

/** provider-dashboard: licenseDashboard without tenantId (every tenant), provider token. */
export async function providerDashboard(b: BenchContext): Promise<Row[]> {
  const tokens = [token(Role.PROVIDER_OPERATOR)];
  const body = JSON.stringify({ query: DASHBOARD_QUERY });
  const first = JSON.parse(await post(b.server.url, tokens[0], body)) as { errors?: unknown; data?: { licenseDashboard: { tenants: unknown[] } } };
  if (first.errors || first.data?.licenseDashboard.tenants.length !== b.tenants.length) {
    throw new Error(`provider-dashboard: unexpected answer ${JSON.stringify(first).slice(0, 300)}`);
  }
  const single: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await post(b.server.url, tokens[0], body);
    single.push(performance.now() - t0);
  }
  const connections = 4;
  const r = await withPeakRss(b.server.pid, () => load(b.server.url, body, tokens, b.durationSec, connections, 120));
  if (r.result.errors || r.result.non2xx) throw new Error(`provider-dashboard: ${r.result.errors} errors, ${r.result.non2xx} non-2xx`);
  // The largest seeded tenant's own dashboard (tenant 1: 5% of the devices), the same query without the per-tenant list.
  const largest = b.tenants[0];
  const tenantToken = token(Role.TENANT_OPERATOR, largest.id, `bench-tenant-${largest.n}`);
  const tenantBody = JSON.stringify({ query: DASHBOARD_QUERY.replace(/\n {2}tenants \{[^]*\} \} \}$/, ' } }') });
  const own = JSON.parse(await post(b.server.url, tenantToken, tenantBody)) as { errors?: unknown; data?: { licenseDashboard: { devices: { total: number } } } };
  if (own.errors || own.data?.licenseDashboard.devices.total !== largest.devices) {
    throw new Error(`provider-dashboard: tenant dashboard answered ${JSON.stringify(own).slice(0, 300)}`);
  }
  const tenantMs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await post(b.server.url, tenantToken, tenantBody);
    tenantMs.push(performance.now() - t0);
  }
  return [
    {
      scenario: 'provider-dashboard',
      target: `server, ${b.tenants.length} tenants`,
      reqPerSec: Number((r.result.requests / b.durationSec).toFixed(2)),
      timeMs: Math.round(median(single)),
      p50Ms: r.result.p50Ms,
      p99Ms: r.result.p99Ms,
      peakRssMb: r.peakRssMb,
      note: `time: one request alone (median of 3); load: ${connections} connections; target <= 100 ms at 1,000 tenants, <= 300 ms at 5,000`,
    },
    {
      scenario: 'provider-dashboard',
      target: `tenant dashboard, ${largest.devices} devices`,
      timeMs: Math.round(median(tenantMs)),
      peakRssMb: r.peakRssMb,
      note: `the largest tenant's own licenseDashboard, one request alone (median of 7); target <= 20 ms at 5,000 devices`,
    },
  ];
}

/** Creates a tenant with a smart account, one managed VA and n devices; returns ids. */
async function benchTenant(b: BenchContext, slug: string, n: number): Promise<{ tenantId: string; deviceIds: string[]; va: string }> {
  const provider = token(Role.PROVIDER_ADMIN);
  const { createTenant } = await gql<{ createTenant: { id: string } }>(b.server.url, provider, 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }', {
    i: { name: slug, slug },
  });
  const tenantId = createTenant.id;
  const deviceIds: string[] = [];
  for (let from = 0; from < n; from += 10_000) {
    const devices = Array.from({ length: Math.min(10_000, n - from) }, (_, k) => ({
      uuid: `${slug}-${from + k}`, hostname: `${slug}-${String(from + k).padStart(6, '0')}`, model: 'C8000V', kind: 'IOS_XE_SDWAN', mode: 'CONTROLLER', softwareVersion: '17.9.3a',
    }));
    const { registerDevices } = await gql<{ registerDevices: { devices: { id: string }[] } }>(
      b.server.url, provider, 'mutation($i: RegisterDevicesInput!) { registerDevices(input: $i) { devices { id } } }', { i: { tenantId, devices } },
    );
    deviceIds.push(...registerDevices.devices.map((d) => d.id));
  }
  const { configureSmartAccount } = await gql<{ configureSmartAccount: { virtualAccounts: { id: string }[] } }>(
    b.server.url, provider, 'mutation($i: ConfigureSmartAccountInput!) { configureSmartAccount(input: $i) { virtualAccounts { id } } }',
    { i: { tenantId, domain: `${slug}.example`, name: slug, accountId: `SA-${slug.toUpperCase()}`, virtualAccounts: [{ externalId: `VA-${slug.toUpperCase()}`, name: 'Main' }] } },
  );
  const va = configureSmartAccount.virtualAccounts[0].id;
  await gql(b.server.url, provider, 'mutation($i: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $i) { id } }', { i: { tenantId, virtualAccountIds: [va] } });
  await gql(b.server.url, provider, 'mutation($i: AddLicensesInput!) { addLicenses(input: $i) { id } }', {
    i: { tenantId, licenses: [{ virtualAccountId: va, entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T1_A', billingType: 'PREPAID', billingModel: 'A_LA_CARTE', subscriptionId: `SUB-${slug}`, quantity: n, startDate: '2020-01-01', endDate: '2099-12-31' }] },
  });
  return { tenantId, deviceIds, va };
}

/** The database uuid behind a global id (a bare uuid is returned as is). */
function uuidOf(globalId: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(globalId)) return globalId;
  const parsed = fromGlobalId(globalId);
  if (!parsed) throw new Error(`not a global id: ${globalId}`);
  return parsed.id;
}

async function dropTenant(ownerUrl: string, tenantGlobalId: string): Promise<void> {
  const tenantId = uuidOf(tenantGlobalId);
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    // license lines are never deleted by cascade (restrict), so they go first, with what holds them
    await owner.query('begin');
    await owner.query('delete from assignment where tenant_id = $1', [tenantId]);
    await owner.query('delete from license where tenant_id = $1', [tenantId]);
    await owner.query('delete from tenant where id = $1', [tenantId]);
    await owner.query('commit');
  } finally {
    await owner.end();
  }
}

/**
 * bulk-assign: assignLicenses for N devices in one mutation through HTTP, JWT and RLS, against the
 * same rows written by one set-based INSERT as the owner, 3 rounds each; medians and their ratio.
 */
export async function bulkAssign(b: BenchContext): Promise<Row[]> {
  // One client sends 10,000-device operations back to back: the cost budget (a fair share between
  // many clients) would make it wait, which is not what this measures.
  await b.restartServer({ COST_LIMITS: 'off' });
  const n = b.sizes.bulkDevices;
  const { tenantId, deviceIds } = await benchTenant(b, `bulk-${Date.now()}`, n);
  const provider = token(Role.PROVIDER_ADMIN);
  const owner = new pg.Client({ connectionString: b.ownerUrl });
  await owner.connect();
  const tenant = uuidOf(tenantId);
  const apiMs: number[] = [];
  const rawMs: number[] = [];
  let peak = 0;
  try {
    for (let round = 0; round < 3; round++) {
      await owner.query('delete from assignment where tenant_id = $1', [tenant]);
      const r = await withPeakRss(b.server.pid, async () => {
        const t0 = performance.now();
        const { assignLicenses } = await gql<{ assignLicenses: { assigned: number } }>(
          b.server.url, provider, 'mutation($i: AssignLicensesInput!) { assignLicenses(input: $i) { assigned } }',
          { i: { tenantId, deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'PREPAID' } },
        );
        if (assignLicenses.assigned !== n) throw new Error(`bulk-assign: assigned ${assignLicenses.assigned} of ${n}`);
        return performance.now() - t0;
      });
      apiMs.push(r.result);
      peak = Math.max(peak, r.peakRssMb);

      await owner.query('delete from assignment where tenant_id = $1', [tenant]);
      const t0 = performance.now();
      const raw = await owner.query(
        `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_by)
         select d.tenant_id, d.id, l.entitlement_id, 'DNA', l.id, 'PREPAID', 'ACTIVE', 'bench'
           from device d join license l on l.tenant_id = d.tenant_id where d.tenant_id = $1`,
        [tenant],
      );
      rawMs.push(performance.now() - t0);
      if (raw.rowCount !== n) throw new Error(`bulk-assign: raw insert wrote ${raw.rowCount}`);
    }
  } finally {
    await owner.end();
  }
  await dropTenant(b.ownerUrl, tenantId);
  const api = median(apiMs);
  const raw = median(rawMs);
  return [
    { scenario: 'bulk-assign', target: 'baseline: one set-based INSERT', timeMs: Math.round(raw), peakRssMb: 0, note: `${n} devices; runs ${rawMs.map(Math.round).join('/')} ms` },
    {
      scenario: 'bulk-assign',
      target: 'server: assignLicenses mutation',
      timeMs: Math.round(api),
      peakRssMb: peak,
      baseline: `${Math.round(raw)} ms`,
      ratio: Number((api / raw).toFixed(2)),
      note: `target ratio <= 2; runs ${apiMs.map(Math.round).join('/')} ms`,
    },
  ];
}

const GENERATE_REPORT = 'mutation($i: GenerateUsageReportInput!) { generateUsageReport(input: $i) { id measurements fileSize } }';

async function timedReport(b: BenchContext, tenantId: string): Promise<{ ms: number; peakRssMb: number; measurements: number; fileSize: number; downloadMs: number; downloadPeakMb: number }> {
  const provider = token(Role.PROVIDER_ADMIN);
  const gen = await withPeakRss(b.server.pid, async () => {
    const t0 = performance.now();
    const { generateUsageReport } = await gql<{ generateUsageReport: { id: string; measurements: number; fileSize: number } }>(
      b.server.url, provider, GENERATE_REPORT, { i: { tenantId } },
    );
    return { ms: performance.now() - t0, report: generateUsageReport };
  });
  const dl = await withPeakRss(b.server.pid, async () => {
    const t0 = performance.now();
    const res = await fetch(b.server.url.replace('/graphql', `/files/usage-reports/${gen.result.report.id}`), { headers: { authorization: `Bearer ${provider}` } });
    const bytes = (await res.arrayBuffer()).byteLength;
    if (!res.ok || bytes !== gen.result.report.fileSize) throw new Error(`usage-report: download answered ${res.status} with ${bytes} bytes`);
    return performance.now() - t0;
  });
  return {
    ms: gen.result.ms,
    peakRssMb: gen.peakRssMb,
    measurements: gen.result.report.measurements,
    fileSize: gen.result.report.fileSize,
    downloadMs: dl.result,
    downloadPeakMb: dl.peakRssMb,
  };
}

/** usage-report: the offline usage report of the largest seeded tenant, and of a tenant with N assigned devices. */
export async function usageReport(b: BenchContext): Promise<Row[]> {
  const largest = [...b.tenants].sort((x, y) => y.devices - x.devices)[0];
  const rows: Row[] = [];
  const small = await timedReport(b, largest.id);
  rows.push({
    scenario: 'usage-report',
    target: `largest tenant (${largest.devices} devices)`,
    timeMs: Math.round(small.ms),
    peakRssMb: small.peakRssMb,
    note: `${small.measurements} measurements, ${(small.fileSize / 1024).toFixed(0)} KB; download ${Math.round(small.downloadMs)} ms`,
  });

  const n = b.sizes.usageDevices;
  const tenantId = await seedLicensedTenant(b.ownerUrl, `usage-${Date.now()}`, n);
  // A fresh server process for this measurement: the first report above grew its heap.
  await b.restartServer();
  const startRss = Math.round(b.server.rssMb());
  const big = await timedReport(b, tenantId);
  if (big.measurements !== n) throw new Error(`usage-report: ${big.measurements} measurements for ${n} devices`);
  rows.push({
    scenario: 'usage-report',
    target: `${n} devices`,
    timeMs: Math.round(big.ms),
    peakRssMb: big.peakRssMb,
    note: `target < 3000 ms, < 200 MB; RSS ${startRss} MB before; ${(big.fileSize / 1024 / 1024).toFixed(1)} MB file; download ${Math.round(big.downloadMs)} ms, peak ${big.downloadPeakMb} MB`,
  });
  await dropTenant(b.ownerUrl, tenantId);
  return rows;
}

/**
 * alerts-fanout: N graphql-ws subscriptions of one tenant on the server; each event is an alert
 * update announced with pg_notify in a transaction; delay from COMMIT sent to each delivery.
 */
export async function alertsFanout(b: BenchContext): Promise<Row[]> {
  const { subscribers, events } = b.sizes;
  const provider = token(Role.PROVIDER_ADMIN);
  // A trial tenant (no smart account) with one pending assignment has an open UNRECONCILED_ASSIGNMENTS alert.
  const { createTenant } = await gql<{ createTenant: { id: string } }>(b.server.url, provider, 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }', {
    i: { name: 'Fanout', slug: `fanout-${Date.now()}` },
  });
  const tenantId = createTenant.id;
  const { registerDevices } = await gql<{ registerDevices: { devices: { id: string }[] } }>(
    b.server.url, provider, 'mutation($i: RegisterDevicesInput!) { registerDevices(input: $i) { devices { id } } }',
    { i: { tenantId, devices: [{ uuid: 'FAN-1', hostname: 'fan-1', model: 'C8000V', kind: 'IOS_XE_SDWAN', mode: 'CONTROLLER', softwareVersion: '17.9.3a' }] } },
  );
  await gql(b.server.url, provider, 'mutation($i: AssignLicensesInput!) { assignLicenses(input: $i) { pending } }', {
    i: { tenantId, deviceIds: [registerDevices.devices[0].id], level: 'ADVANTAGE', tier: 'T1' },
  });
  const owner = new pg.Client({ connectionString: b.ownerUrl });
  await owner.connect();
  const [alert] = (await owner.query<{ id: string }>("select id from alert where tenant_id = $1 and kind = 'UNRECONCILED_ASSIGNMENTS'", [uuidOf(tenantId)])).rows;
  if (!alert) throw new Error('alerts-fanout: the trial tenant has no open alert');
  const tenantToken = token(Role.TENANT_OPERATOR, uuidOf(tenantId));

  const received: number[][] = Array.from({ length: events }, () => []);
  let current = -1;
  let t0 = 0;
  const clients: Client[] = [];
  const wsUrl = b.server.url.replace('http://', 'ws://');
  try {
    await Promise.all(
      Array.from({ length: subscribers }, async () => {
        const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tenantToken}` }, lazy: false, retryAttempts: 0 });
        clients.push(client);
        await new Promise<void>((resolve, reject) => {
          client.subscribe({ query: 'subscription { licenseAlerts { id updatedAt } }' }, {
            next: () => {
              if (current >= 0) received[current].push(performance.now() - t0);
            },
            error: reject,
            complete: () => undefined,
          });
          client.on('connected', () => resolve());
        });
      }),
    );
    await sleep(500); // every subscribe message processed
    const r = await withPeakRss(b.server.pid, async () => {
      for (let e = 0; e < events; e++) {
        current = e;
        await owner.query('begin');
        await owner.query('update alert set updated_at = now() where id = $1', [alert.id]);
        await owner.query("select pg_notify('slm_alerts', $1)", [JSON.stringify({ id: alert.id, tenantId: uuidOf(tenantId) })]);
        t0 = performance.now();
        await owner.query('commit');
        const deadline = Date.now() + 10_000;
        while (received[e].length < subscribers && Date.now() < deadline) await sleep(5);
      }
    });
    const all = received.flat().sort((x, y) => x - y);
    if (all.length !== subscribers * events) throw new Error(`alerts-fanout: ${all.length} of ${subscribers * events} deliveries`);
    return [
      {
        scenario: 'alerts-fanout',
        target: `${subscribers} subscriptions, ${events} events`,
        p50Ms: percentile(all, 50),
        p99Ms: percentile(all, 99),
        peakRssMb: r.peakRssMb,
        note: `commit-to-delivery; ${all.length} deliveries`,
      },
    ];
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await owner.end();
    await dropTenant(b.ownerUrl, tenantId);
  }
}

/** sync: an online sync that brings N new license lines from the simulator, then one with nothing new. */
export async function sync(b: BenchContext): Promise<Row[]> {
  const sim = await startSimulator({ port: 0, seed: 'benchsync', accounts: 1, lines: b.sizes.syncLines });
  const provider = token(Role.PROVIDER_ADMIN);
  try {
    await gql(b.server.url, provider, 'mutation($i: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $i) { mode } }', {
      i: { mode: 'ONLINE', serverUrl: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, proxyUrl: '' },
    });
    const { createTenant } = await gql<{ createTenant: { id: string } }>(b.server.url, provider, 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }', {
      i: { name: 'Sync bench', slug: `sync-${Date.now()}` },
    });
    const tenantId = createTenant.id;
    const { configureSmartAccount } = await gql<{ configureSmartAccount: { virtualAccounts: { id: string }[] } }>(
      b.server.url, provider, 'mutation($i: ConfigureSmartAccountInput!) { configureSmartAccount(input: $i) { virtualAccounts { id } } }',
      { i: { tenantId, accountId: 'SA-BENCHSYNC', fetchFromServer: true } },
    );
    await gql(b.server.url, provider, 'mutation($i: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $i) { id } }', {
      i: { tenantId, virtualAccountIds: configureSmartAccount.virtualAccounts.map((v) => v.id) },
    });
    const SYNC = 'mutation($i: SynchronizeLicensesInput) { synchronizeLicenses(input: $i) { status linesAdded linesChanged linesRemoved errorMessage } }';
    const run = async (): Promise<{ ms: number; peak: number; added: number }> => {
      const r = await withPeakRss(b.server.pid, async () => {
        const t0 = performance.now();
        const { synchronizeLicenses: s } = await gql<{ synchronizeLicenses: { status: string; linesAdded: number; errorMessage: string | null } }>(
          b.server.url, provider, SYNC, { i: { tenantId } },
        );
        if (s.status !== 'SUCCEEDED') throw new Error(`sync: ${s.status} ${s.errorMessage}`);
        return { ms: performance.now() - t0, added: s.linesAdded };
      });
      return { ms: r.result.ms, peak: r.peakRssMb, added: r.result.added };
    };
    const first = await run();
    if (first.added !== b.sizes.syncLines) throw new Error(`sync: added ${first.added} of ${b.sizes.syncLines} lines`);
    const again = await run();
    await dropTenant(b.ownerUrl, tenantId);
    return [
      { scenario: 'sync', target: `${b.sizes.syncLines} new lines`, timeMs: Math.round(first.ms), peakRssMb: first.peak, note: 'fetch, usage report, apply; simulator in the bench process' },
      { scenario: 'sync', target: 'same lines again (no change)', timeMs: Math.round(again.ms), peakRssMb: again.peak },
    ];
  } finally {
    await sim.close();
  }
}

/**
 * tenant-delete: `deleteTenant` (force) of a suspended tenant of N devices (the usage-report size:
 * 100,000 in a full run), each with a current and a released DNA assignment and an audit event per
 * device, in a database that holds the seeded tenants too. Times the mutation as the client sees it.
 */
export async function tenantDelete(b: BenchContext): Promise<Row[]> {
  const n = b.sizes.usageDevices;
  const slug = `delete-${Date.now()}`;
  const tenantId = await seedLicensedTenant(b.ownerUrl, slug, n);
  const owner = new pg.Client({ connectionString: b.ownerUrl });
  await owner.connect();
  try {
    // History: a released assignment and an audit event per device.
    await owner.query(
      `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_by, assigned_at, released_at, released_by)
       select tenant_id, device_id, entitlement_id, category, license_id, billing_type, 'ACTIVE', 'bench-seed', assigned_at - interval '30 days', assigned_at, 'bench-seed'
         from assignment where tenant_id = $1`,
      [tenantId],
    );
    await owner.query(
      `insert into audit_event (tenant_id, actor_subject, actor_role, action, target_type, target_ids)
       select tenant_id, 'bench-seed', 'TENANT_ADMIN', 'licenses.assigned', 'Device', array[id] from device where tenant_id = $1`,
      [tenantId],
    );
    await owner.query('analyze assignment, audit_event');
  } finally {
    await owner.end();
  }
  const provider = token(Role.PROVIDER_ADMIN);
  const id = Buffer.from(`Tenant:${tenantId}`, 'utf8').toString('base64url');
  await gql(b.server.url, provider, 'mutation($id: ID!) { suspendTenant(input: { id: $id }) { status } }', { id });
  const timed = await withPeakRss(b.server.pid, async () => {
    const t0 = performance.now();
    const { deleteTenant } = await gql<{ deleteTenant: { removedTotal: number } }>(
      b.server.url, provider,
      'mutation($i: DeleteTenantInput!) { deleteTenant(input: $i) { removedTotal } }',
      { i: { id, confirmSlug: slug, force: true } },
    );
    return { ms: performance.now() - t0, removed: deleteTenant.removedTotal };
  });
  return [{
    scenario: 'tenant-delete',
    target: `${n} devices`,
    timeMs: Math.round(timed.result.ms),
    peakRssMb: timed.peakRssMb,
    note: `${timed.result.removed} rows removed in one transaction (devices, current and released assignments, audit events, accounts, line)`,
  }];
}

const LICENSE_USAGE_QUERY = `query($tenantId: ID, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {
  licenseUsage(tenantId: $tenantId, from: $from, to: $to, granularity: $granularity) {
    tenant { id } periodStart periodEnd entitlement { tag } billingType billingModel deviceDays peakDevices averageDevices } }`;

/**
 * usage-history: 12 months of usage history for every seeded device, written set-based as the owner
 * (four consecutive intervals a device, about 91 days each, on the tenant's license lines in turn,
 * the last one still open), then a month of licenseUsage at DAY granularity for the largest tenant
 * and for the provider (every tenant): time and the server's peak RSS, median of 3.
 */
export async function usageHistory(b: BenchContext): Promise<Row[]> {
  const owner = new pg.Client({ connectionString: b.ownerUrl });
  await owner.connect();
  let written = 0;
  const t0 = performance.now();
  try {
    const res = await owner.query(`
      insert into license_usage_interval
             (tenant_id, assignment_id, device_id, entitlement_id, license_id, billing_type, billing_model, valid_from, valid_to)
      select d.tenant_id, gen_random_uuid(), d.id, l.entitlement_id, l.id, l.billing_type, l.billing_model,
             s.from_at, case when k < 3 then s.from_at + interval '91 days' end
        from device d
       cross join generate_series(0, 3) as k
       cross join lateral (select now() - interval '365 days' + k * interval '91 days'
                                  + (abs(hashtext(d.id::text)) % 86400) * interval '1 second' as from_at) s
       cross join lateral (select l.* from license l where l.tenant_id = d.tenant_id
                            order by l.id offset (abs(hashtext(d.id::text)) + k) % greatest(1, (select count(*) from license c where c.tenant_id = d.tenant_id)) limit 1) l`);
    written = res.rowCount ?? 0;
    await owner.query('analyze license_usage_interval');
  } finally {
    await owner.end();
  }
  const seedMs = performance.now() - t0;
  const now = new Date();
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const largest = [...b.tenants].sort((x, y) => y.devices - x.devices)[0];
  const provider = token(Role.PROVIDER_ADMIN);
  const rows: Row[] = [];
  for (const [target, tenantId, granularity] of [
    [`one tenant (${largest.devices} devices)`, largest.id, 'DAY'],
    ['provider: every tenant', undefined, 'MONTH'],
  ] as const) {
    const ms: number[] = [];
    let peak = 0;
    let count = 0;
    for (let round = 0; round < 3; round++) {
      const r = await withPeakRss(b.server.pid, async () => {
        const started = performance.now();
        const { licenseUsage } = await gql<{ licenseUsage: unknown[] }>(b.server.url, provider, LICENSE_USAGE_QUERY, {
          tenantId, from: from.toISOString(), to: to.toISOString(), granularity,
        });
        count = licenseUsage.length;
        return performance.now() - started;
      });
      ms.push(r.result);
      peak = Math.max(peak, r.peakRssMb);
    }
    rows.push({
      scenario: 'usage-history',
      target: `licenseUsage ${from.toISOString().slice(0, 7)} by ${granularity}, ${target}`,
      timeMs: Math.round(median(ms)),
      peakRssMb: peak,
      note: `${count} rows; ${written} intervals seeded in ${Math.round(seedMs)} ms; runs ${ms.map(Math.round).join('/')} ms`,
    });
  }
  // The provider's month by DAY as CSV (every tenant; over the GraphQL row limit): streamed.
  const ms: number[] = [];
  let peak = 0;
  let lines = 0;
  for (let round = 0; round < 3; round++) {
    const r = await withPeakRss(b.server.pid, async () => {
      const started = performance.now();
      const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), granularity: 'DAY' });
      const res = await fetch(`${new URL(b.server.url).origin}/files/license-usage.csv?${query}`, { headers: { authorization: `Bearer ${provider}` } });
      if (res.status !== 200) throw new Error(`usage-history: CSV answered ${res.status} ${await res.text()}`);
      lines = (await res.text()).split('\r\n').length - 2;
      return performance.now() - started;
    });
    ms.push(r.result);
    peak = Math.max(peak, r.peakRssMb);
  }
  rows.push({
    scenario: 'usage-history',
    target: `GET /files/license-usage.csv ${from.toISOString().slice(0, 7)} by DAY, provider: every tenant`,
    timeMs: Math.round(median(ms)),
    peakRssMb: peak,
    note: `${lines} rows streamed; runs ${ms.map(Math.round).join('/')} ms`,
  });
  return rows;
}

export const SCENARIOS = {
  'tenant-page': tenantPage,
  'tenant-page-workers': tenantPageWorkers,
  'provider-dashboard': providerDashboard,
  'bulk-assign': bulkAssign,
  'usage-report': usageReport,
  'usage-history': usageHistory,
  'alerts-fanout': alertsFanout,
  sync,
  'noisy-neighbour': noisyNeighbour,
  'tenant-delete': tenantDelete,
} as const;

export type ScenarioName = keyof typeof SCENARIOS;
