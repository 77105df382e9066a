import pg from 'pg';
import { Role } from '../src/auth/roles';
import { toGlobalId } from '../src/common/global-id';
import { load, sleep, token, withPeakRss, type LoadResult } from './harness';
import type { BenchContext, Row } from './scenarios';

const TENANT_PAGE =
  'query TenantPage { devices(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { node { id hostname model softwareVersion assignments { id status license { id subscriptionId available } } } } } }';
const ASSIGN = 'mutation($i: AssignLicensesInput!) { assignLicenses(input: $i) { assigned } }';
const RELEASE = 'mutation($i: ReleaseLicensesInput!) { releaseLicenses(input: $i) { released } }';
const VICTIMS = 50;
const VICTIM_CONNECTIONS = 5;
const BUSY_LOOPS = 4;
const CALL_DEVICES = 1250;

interface BusyResult {
  calls: number;
  refused: number;
  /** 429s of the cost budget (the rest are the heavy lane's). */
  budgetRefused: number;
  devicesChanged: number;
  errors: string[];
}

/**
 * One loop of the busy tenant: release then assign (postpaid) over its slice of devices, as fast as
 * the server lets it: a 429 is waited out for its Retry-After, as a well-behaved client would.
 */
async function busyLoop(url: string, bearer: string, deviceIds: string[], until: () => number, out: BusyResult): Promise<void> {
  let assign = false;
  while (Date.now() < until()) {
    const body = assign
      ? { query: ASSIGN, variables: { i: { deviceIds, level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' } } }
      : { query: RELEASE, variables: { i: { deviceIds } } };
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify(body) });
    const json = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    if (res.status === 429) {
      out.refused += 1;
      // Refused by the budget (not by the heavy lane's queue): the bucket's burst is spent.
      if (json.errors?.some((e) => /points and \d+ are left/.test(e.message))) out.budgetRefused += 1;
      const wait = Number(res.headers.get('retry-after') ?? '1') * 1000;
      await sleep(Math.min(wait, Math.max(0, until() - Date.now())));
      continue;
    }
    if (json.errors) {
      out.errors.push(`${res.status} ${json.errors[0].extensions?.code}: ${json.errors[0].message}`);
      await sleep(200);
      continue;
    }
    out.calls += 1;
    out.devicesChanged += deviceIds.length;
    assign = !assign;
  }
}

/**
 * noisy-neighbour: 50 small tenants read their tenant page over 5 connections, alone and then while
 * the largest tenant runs 4 loops of releaseLicenses + assignLicenses over its devices (1,250 per call)
 * at full speed. Cost budgets and the heavy lane are on (the server's defaults). Target: the victims'
 * req/s within 20% and p99 within 1.5x of "alone", and the busy tenant still progresses. The victims are
 * measured once the busy tenant has spent its bucket's burst and runs at the pace its budget sustains.
 */
export async function noisyNeighbour(b: BenchContext): Promise<Row[]> {
  const [big, ...small] = [...b.tenants].sort((x, y) => y.devices - x.devices);
  const victims = small.slice(0, VICTIMS);
  const victimTokens = victims.map((t) => token(Role.TENANT_ADMIN, t.id));
  const busyToken = token(Role.TENANT_ADMIN, big.id, 'bench-busy-tenant');
  const owner = new pg.Client({ connectionString: b.ownerUrl });
  await owner.connect();
  let deviceIds: string[];
  try {
    const rows = await owner.query<{ id: string }>('select id from device where tenant_id = $1 order by id', [big.id]);
    deviceIds = rows.rows.map((r) => toGlobalId('Device', r.id));
  } finally {
    await owner.end();
  }
  const slices = Array.from({ length: BUSY_LOOPS }, (_, i) => deviceIds.slice(i * CALL_DEVICES, (i + 1) * CALL_DEVICES)).filter((s) => s.length > 0);
  const body = JSON.stringify({ query: TENANT_PAGE, variables: {} });
  const seconds = b.durationSec;

  // Warm-up (JIT, plan caches, pool), then the victims alone.
  await load(b.server.url, body, victimTokens, Math.min(3, seconds), VICTIM_CONNECTIONS);
  const alone = await withPeakRss(b.server.pid, () => load(b.server.url, body, victimTokens, seconds, VICTIM_CONNECTIONS));

  const busy: BusyResult = { calls: 0, refused: 0, budgetRefused: 0, devicesChanged: 0, errors: [] };
  // The busy tenant first spends its bucket (a burst the budget allows on purpose: up to its capacity at
  // once, one heavy operation at a time); the victims are measured once it runs at the pace its budget
  // sustains, i.e. from the first 429 of its budget on, for as long as the victims' "alone" run.
  const started = Date.now();
  let until = started + 120_000;
  const loops = slices.map((ids) => busyLoop(b.server.url, busyToken, ids, () => until, busy));
  while (busy.budgetRefused === 0 && Date.now() - started < 90_000) await sleep(100);
  const burstMs = Date.now() - started;
  const burst = { calls: busy.calls, devicesChanged: busy.devicesChanged };
  const measuredFrom = Date.now();
  const beside = await withPeakRss(b.server.pid, () => load(b.server.url, body, victimTokens, seconds, VICTIM_CONNECTIONS));
  const measuredSec = (Date.now() - measuredFrom) / 1000;
  until = Date.now();
  await Promise.all(loops);
  const steady = { calls: busy.calls - burst.calls, devicesChanged: busy.devicesChanged - burst.devicesChanged };

  const reqRatio = beside.result.reqPerSec / alone.result.reqPerSec;
  const p99Ratio = beside.result.p99Ms / Math.max(1, alone.result.p99Ms);
  const row = (target: string, r: LoadResult, peak: number, extra: Partial<Row> = {}): Row => ({
    scenario: 'noisy-neighbour',
    target,
    reqPerSec: r.reqPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    peakRssMb: peak,
    ...extra,
  });
  const pass = reqRatio >= 0.8 && p99Ratio <= 1.5 && steady.calls > 0;
  console.log(
    `\nnoisy-neighbour: victims beside the busy tenant at ${(reqRatio * 100).toFixed(0)}% of alone (target >= 80%), ` +
      `p99 ${p99Ratio.toFixed(2)}x (target <= 1.5x); busy tenant: burst of ${burst.calls} calls in ${(burstMs / 1000).toFixed(1)} s, ` +
      `then ${steady.calls} calls (${(steady.devicesChanged / measuredSec).toFixed(0)} device changes/s) while measured, ${busy.refused} answered 429 -> ${pass ? 'PASS' : 'FAIL'}`,
  );
  if (busy.errors.length > 0) console.log(`busy tenant errors: ${[...new Set(busy.errors)].slice(0, 5).join(' | ')}`);
  return [
    row(`victims alone (${victims.length} tenants, ${VICTIM_CONNECTIONS} connections)`, alone.result, alone.peakRssMb),
    row('victims beside the busy tenant', beside.result, beside.peakRssMb, {
      baseline: `${alone.result.reqPerSec} req/s, p99 ${alone.result.p99Ms} ms`,
      ratio: Number(reqRatio.toFixed(2)),
      note: `p99 ${p99Ratio.toFixed(2)}x; ${pass ? 'PASS' : 'FAIL'}`,
    }),
    {
      scenario: 'noisy-neighbour',
      target: `busy tenant: ${slices.length} loops of release+assign, ${CALL_DEVICES} devices per call`,
      reqPerSec: Number((steady.calls / measuredSec).toFixed(2)),
      peakRssMb: beside.peakRssMb,
      note:
        `burst: ${burst.calls} calls in ${(burstMs / 1000).toFixed(1)} s; measured: ${steady.calls} calls, ` +
        `${Math.round(steady.devicesChanged / measuredSec)} device changes/s; ${busy.refused} x 429${busy.errors.length ? `, ${busy.errors.length} errors` : ''}`,
    },
  ];
}
