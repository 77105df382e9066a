import type { ChildExit } from './harness';
import type { SubscriptionEnd } from './soak-ws';

/** What the soak counts and measures, and how it decides and prints pass or fail. */

export const HEAP_TOLERANCE = 0.05;
export const RSS_GROWTH_LIMIT_MB = 20;

export type Counts = Record<string, number>;

export const bump = (counts: Counts, key: string | number, by = 1): void => {
  counts[key] = (counts[key] ?? 0) + by;
};

const sum = (counts: Counts): number => Object.values(counts).reduce((a, b) => a + b, 0);

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  phase: 'before load' | 'warm-up' | 'window' | 'after load';
  heapUsedMb: number;
  heapTotalMb: number;
  rssMb: number;
  externalMb: number;
  /** null: the server's AlertBus has no stats(). */
  alertSubscribers: number | null;
  wsClients: number;
}

export interface SlowSession {
  events: number;
  seconds: number;
  endedBy: SubscriptionEnd['endedBy'];
  closeCode: number;
  closeReason: string;
}

export function newStats() {
  return {
    tenantPage: { requests: 0, byStatus: {} as Counts, graphqlErrors: 0, transportErrors: {} as Counts },
    mutations: { requests: 0, ok: 0, errors: {} as Counts },
    /** Each license change updates one alert, so a provider subscriber that keeps up gets about one event per change. */
    alerts: { fastEvents: 0, perFastSubscriber: [] as number[], fastUnexpectedEnds: {} as Counts },
    slow: [] as SlowSession[],
    subscriptions: { opened: 0, ended: 0 },
    churn: {
      started: 0,
      endedAsPlanned: 0,
      endedAbruptly: 0,
      refusedAsExpected: 0,
      expiredAsExpected: 0,
      /** Still open when the load stopped, ended by the stop. */
      cutShort: 0,
      unexpected: {} as Counts,
    },
  };
}
export type Stats = ReturnType<typeof newStats>;

export function describeEnd(end: SubscriptionEnd): string {
  if (end.error) return end.error;
  if (end.refused) return `refused ${end.refused}`;
  return `closed ${end.closeCode}${end.closeReason ? ` "${end.closeReason}"` : ''} by ${end.endedBy}`;
}

export type ServerExit = ChildExit & { atSec: number };

export interface Check {
  name: string;
  /** null: not applicable on this server. */
  pass: boolean | null;
  detail: string;
}

export interface Outcome {
  exit?: ServerExit;
  stderrTail: string;
  samples: Sample[];
  before: Sample;
  reference?: Sample;
  after?: Sample;
  loadSec: number;
  stats: Stats;
  /** Writing a heap snapshot grows the server's RSS by about the snapshot's size: RSS is then not judged. */
  heapSnapshots: boolean;
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

/** The failure a crashed Node process printed: its first line naming an error. */
export function crashReason(stderrTail: string): string | undefined {
  return stderrTail.split('\n').find((l) => /\b\w*Error\b/.test(l) && !/^\s+at /.test(l))?.trim();
}

/** Least-squares slope of heap used over the samples, in MB per minute. */
function trendMbPerMin(samples: readonly Sample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const mh = samples.reduce((a, s) => a + s.heapUsedMb, 0) / n;
  const cov = samples.reduce((a, s) => a + (s.t - mt) * (s.heapUsedMb - mh), 0);
  const vt = samples.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  return vt ? (cov / vt) * 60 : 0;
}

/**
 * The pass/fail lines. Heap: the window's reference is the first sample taken at or after the end
 * of the warm-up; its final sample is the one taken when the load stops (warm-up + window). The heap
 * passes when final heapUsed after GC is within ±5% of the reference's; RSS passes when it grew by
 * less than 20 MB between the same two samples.
 */
export function evaluate(o: Outcome): Check[] {
  const checks: Check[] = [];
  const reason = crashReason(o.stderrTail);
  checks.push({
    name: 'server never exits',
    pass: !o.exit,
    detail: o.exit
      ? `server exited with code ${o.exit.code}${o.exit.signal ? ` (signal ${o.exit.signal})` : ''} at ${o.exit.atSec} s of load${reason ? `: ${reason}` : ''}`
      : 'alive to the end',
  });
  const final = o.samples.filter((s) => s.phase === 'window' || s.phase === 'warm-up').at(-1);
  const complete = !o.exit && o.reference && final && final.t >= o.loadSec && final !== o.reference;
  if (!complete || !o.reference || !final) {
    const why = o.exit ? 'not measured: the server exited before the window ended' : 'not measured: the window has fewer than two samples';
    checks.push({ name: `heap after GC within ±${HEAP_TOLERANCE * 100}%`, pass: false, detail: why });
    checks.push({ name: `RSS growth < ${RSS_GROWTH_LIMIT_MB} MB`, pass: false, detail: why });
  } else {
    const ref = o.reference;
    const window = o.samples.filter((s) => s.t >= ref.t && s.phase !== 'after load');
    const dev = (final.heapUsedMb - ref.heapUsedMb) / ref.heapUsedMb;
    const lo = Math.min(...window.map((s) => s.heapUsedMb));
    const hi = Math.max(...window.map((s) => s.heapUsedMb));
    checks.push({
      name: `heap after GC within ±${HEAP_TOLERANCE * 100}%`,
      pass: Math.abs(dev) <= HEAP_TOLERANCE,
      detail: `${ref.heapUsedMb} MB at ${ref.t} s (first sample after warm-up) -> ${final.heapUsedMb} MB at ${final.t} s: ${pct(dev)}; window range ${lo}..${hi} MB, trend ${signed(trendMbPerMin(window))} MB/min`,
    });
    const growth = final.rssMb - ref.rssMb;
    checks.push({
      name: `RSS growth < ${RSS_GROWTH_LIMIT_MB} MB`,
      pass: o.heapSnapshots ? null : growth < RSS_GROWTH_LIMIT_MB,
      detail:
        `${ref.rssMb} MB at ${ref.t} s -> ${final.rssMb} MB at ${final.t} s: ${signed(growth)} MB` +
        (o.heapSnapshots ? ' (not judged: a heap snapshot was written in between)' : ''),
    });
  }
  if (!o.after) {
    checks.push({ name: 'alert subscribers back to baseline', pass: false, detail: o.exit ? 'not measured: the server exited' : 'not measured: no sample after the load' });
    checks.push({ name: 'WebSocket clients back to baseline', pass: false, detail: o.exit ? 'not measured: the server exited' : 'not measured: no sample after the load' });
  } else {
    const { before, after } = o;
    checks.push(
      before.alertSubscribers === null || after.alertSubscribers === null
        ? { name: 'alert subscribers back to baseline', pass: null, detail: 'n/a: the AlertBus has no stats()' }
        : {
            name: 'alert subscribers back to baseline',
            pass: after.alertSubscribers <= before.alertSubscribers,
            detail: `${before.alertSubscribers} before load, ${after.alertSubscribers} after it`,
          },
    );
    checks.push({
      name: 'WebSocket clients back to baseline',
      pass: after.wsClients <= before.wsClients,
      detail: `${before.wsClients} before load, ${after.wsClients} after it`,
    });
  }
  const { mutations, alerts } = o.stats;
  checks.push({
    name: 'the alert burst ran',
    pass: mutations.ok > 0 && alerts.fastEvents > 0,
    detail: `${mutations.ok} license changes succeeded, ${alerts.fastEvents} alert events delivered`,
  });
  return checks;
}

export function progressLine(s: Sample, reference: Sample | undefined, st: Stats): string {
  const vsRef = reference && s !== reference ? ` (${pct((s.heapUsedMb - reference.heapUsedMb) / reference.heapUsedMb)} vs ${reference.t} s)` : '';
  const perFast = Math.round(st.alerts.fastEvents / Math.max(st.alerts.perFastSubscriber.length, 1));
  const slow = st.slow.length ? `${st.slow.length} ended (last: ${st.slow.at(-1)?.events} events, ${st.slow.at(-1)?.closeCode})` : 'open';
  return (
    `[${String(s.t).padStart(5)} s ${s.phase.padEnd(10)}] heap ${s.heapUsedMb} MB${vsRef}, RSS ${s.rssMb} MB, ` +
    `alert subs ${s.alertSubscribers ?? 'n/a'}, ws ${s.wsClients} | page ${st.tenantPage.requests} (${sum(st.tenantPage.transportErrors) + st.tenantPage.graphqlErrors} err) | ` +
    `changes ${st.mutations.ok} ok (${sum(st.mutations.errors)} err) | alert events per fast subscriber ${perFast} (behind by ~${Math.max(0, st.mutations.ok - perFast)}) | ` +
    `churn ${st.churn.started} (${sum(st.churn.unexpected)} unexpected) | slow subscriber: ${slow}`
  );
}

export function printReport(o: Outcome, checks: readonly Check[], snapshots: readonly { label: string; file: string }[]): void {
  const { stats: st, loadSec } = o;
  const ran = o.exit ? o.exit.atSec : loadSec;
  const json = (c: Counts): string => (Object.keys(c).length ? JSON.stringify(c) : 'none');
  console.log('\n== soak report ==');
  console.log(`load ran ${ran} s${o.exit ? ` of ${loadSec} s (stopped by the server's exit)` : ''}`);
  console.log(
    `tenant page: ${st.tenantPage.requests} responses (${Math.round(st.tenantPage.requests / Math.max(ran, 1))}/s), by status ${json(st.tenantPage.byStatus)}, ` +
      `GraphQL errors ${st.tenantPage.graphqlErrors}, transport errors ${json(st.tenantPage.transportErrors)}`,
  );
  console.log(`license changes (release/assign): ${st.mutations.requests} requests, ${st.mutations.ok} ok, errors ${json(st.mutations.errors)}`);
  const per = st.alerts.perFastSubscriber;
  console.log(
    `alert events delivered to the ${per.length} fast subscribers: ${st.alerts.fastEvents} (${Math.round(st.alerts.fastEvents / Math.max(ran, 1))}/s); ` +
      `per subscriber ${Math.min(...per)}..${Math.max(...per)} for ${st.mutations.ok} license changes committed (about one event each); unexpected ends ${json(st.alerts.fastUnexpectedEnds)}`,
  );
  console.log(`slow subscriber: ${st.slow.length ? '' : 'still open at the end, never closed by the server'}`);
  for (const [i, s] of st.slow.entries()) {
    console.log(`  session ${i + 1}: ${s.events} events in ${s.seconds} s, closed ${s.closeCode}${s.closeReason ? ` "${s.closeReason}"` : ''} by ${s.endedBy}`);
  }
  console.log(`subscriptions: ${st.subscriptions.opened} opened, ${st.subscriptions.ended} ended`);
  if (o.after) {
    // Not a check: memory still held once every connection is closed, next to the load's own growth.
    console.log(`retained after the load: heap ${o.after.heapUsedMb} MB after GC vs ${o.before.heapUsedMb} MB before it (${signed(o.after.heapUsedMb - o.before.heapUsedMb)} MB, after ${st.subscriptions.ended} subscriptions ended; a start-up heap has no compiled code, caches or pools yet, so the window's trend is the leak measure)`);
  }
  const c = st.churn;
  console.log(
    `churn: ${c.started} connections; ${c.endedAsPlanned} closed normally, ${c.endedAbruptly} dropped without close frame, ` +
      `${c.refusedAsExpected} cross-tenant subscribes refused (expected), ${c.expiredAsExpected} closed 4403 at token expiry (expected), ` +
      `${c.cutShort} cut short by the stop; unexpected ${json(c.unexpected)}`,
  );
  console.log('heap series (after a full GC, MB):');
  console.table(o.samples.map((s) => ({ t: s.t, phase: s.phase, heapUsed: s.heapUsedMb, heapTotal: s.heapTotalMb, rss: s.rssMb, external: s.externalMb, alertSubs: s.alertSubscribers ?? 'n/a', ws: s.wsClients })));
  if (o.exit) {
    const tail = o.stderrTail.trim().split('\n').slice(-8);
    console.log(`server stderr, last lines:\n  ${tail.join('\n  ')}`);
  }
  for (const s of snapshots) console.log(`heap snapshot ${s.label}: ${s.file}`);
  if (snapshots.length === 2) console.log(`compare: npm run heap-diff -- ${snapshots[0].file} ${snapshots[1].file}`);
  console.log('checks:');
  for (const ch of checks) console.log(`  ${ch.pass === null ? 'SKIP' : ch.pass ? 'PASS' : 'FAIL'}  ${ch.name}: ${ch.detail}`);
  console.log(`RESULT: ${checks.every((ch) => ch.pass !== false) ? 'PASS' : 'FAIL'}`);
}
