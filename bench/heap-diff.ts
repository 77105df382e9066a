import { parseArgs } from 'node:util';
import { className, edgeLabel, groups, hasId, isObjectGroup, readHeapSnapshot, shortestRetainers, sortedIds, type Group, type HeapSnapshot } from './heap-snapshot';

/**
 * `npm run heap-diff -- BEFORE.heapsnapshot AFTER.heapsnapshot [--top 20] [--class NAME] [--samples 5]`
 *
 * Compares two heap snapshots of one process (e.g. those of `npm run soak -- --heap-snapshots`):
 * the groups (constructor names, as in DevTools' summary) whose self size and count grew most, then,
 * for the top growing constructor (or --class), shortest retaining paths to the GC roots of a few
 * instances that are new in AFTER (object ids are stable across snapshots of one process), and the
 * retainer chains most new instances share. The snapshots are read one after the other, streamed.
 */

const MAX_PATH_STEPS = 40;
const SIGNATURE_STEPS = 4;
const SIGNATURE_INSTANCES = 5000;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '20' },
      class: { type: 'string' },
      samples: { type: 'string', default: '5' },
    },
  });
  if (positionals.length !== 2) throw new Error('usage: heap-diff BEFORE.heapsnapshot AFTER.heapsnapshot [--top N] [--class NAME] [--samples N]');
  const top = Number(values.top);
  const [beforeFile, afterFile] = positionals;

  // Only the groups and ids of BEFORE are kept: its arrays are garbage before AFTER is read.
  const { beforeGroups, beforeIds } = ((): { beforeGroups: Map<string, Group>; beforeIds: Float64Array } => {
    const before = timed(`read ${beforeFile}`, () => readHeapSnapshot(beforeFile));
    return { beforeGroups: groups(before), beforeIds: sortedIds(before) };
  })();
  const beforeTotal = totalOf(beforeGroups);
  const after = timed(`read ${afterFile}`, () => readHeapSnapshot(afterFile));
  const afterGroups = groups(after);
  const afterTotal = totalOf(afterGroups);
  console.log(
    `heap: ${mb(beforeTotal.selfSize)} MB in ${beforeTotal.count} objects -> ${mb(afterTotal.selfSize)} MB in ${afterTotal.count} objects ` +
      `(${signed(mb(afterTotal.selfSize - beforeTotal.selfSize))} MB, ${signed(afterTotal.count - beforeTotal.count)} objects)`,
  );

  const rows = [...new Set([...beforeGroups.keys(), ...afterGroups.keys()])].map((name) => {
    const b = beforeGroups.get(name) ?? { count: 0, selfSize: 0 };
    const a = afterGroups.get(name) ?? { count: 0, selfSize: 0 };
    return { name, count: a.count, countDelta: a.count - b.count, selfSize: a.selfSize, sizeDelta: a.selfSize - b.selfSize };
  });
  const table = (sorted: typeof rows): void =>
    console.table(
      sorted.slice(0, top).map((r) => ({
        constructor: r.name.length > 60 ? `${r.name.slice(0, 57)}...` : r.name,
        'count +': r.countDelta,
        count: r.count,
        'self size + (KB)': Math.round(r.sizeDelta / 1024),
        'self size (KB)': Math.round(r.selfSize / 1024),
      })),
    );
  console.log(`\ngrew most in self size (top ${top}):`);
  table(rows.filter((r) => r.sizeDelta > 0).sort((x, y) => y.sizeDelta - x.sizeDelta));
  console.log(`\ngrew most in count (top ${top}):`);
  table(rows.filter((r) => r.countDelta > 0).sort((x, y) => y.countDelta - x.countDelta));

  const target = values.class ?? [...rows].sort((x, y) => y.sizeDelta - x.sizeDelta).find((r) => isObjectGroup(r.name) && r.countDelta > 0)?.name;
  if (!target) {
    console.log('\nno constructor grew: nothing to trace');
    return;
  }
  const fresh: number[] = [];
  let instances = 0;
  for (let i = 0; i < after.nodeCount; i++) {
    if (className(after, i) !== target) continue;
    instances++;
    if (!hasId(beforeIds, after.nodes[i * after.nodeFieldCount + after.nf.id])) fresh.push(i);
  }
  console.log(`\nretainers of ${target}: ${fresh.length} of its ${instances} instances are new since BEFORE`);
  if (fresh.length === 0) return;
  const { parentNode, parentEdge } = timed('shortest paths from the GC roots', () => shortestRetainers(after));
  const pathOf = (node: number): { edge: number; from: number }[] => {
    const steps: { edge: number; from: number }[] = [];
    for (let n = node; n !== 0 && parentNode[n] !== -1 && steps.length < 10_000; n = parentNode[n]) steps.push({ edge: parentEdge[n], from: parentNode[n] });
    return steps;
  };

  const wanted = Math.min(Number(values.samples), fresh.length);
  for (let k = 0; k < wanted; k++) {
    const node = fresh[Math.floor((k * fresh.length) / wanted)];
    const steps = pathOf(node);
    console.log(`\nsample ${k + 1}: ${label(after, node)} (${after.nodes[node * after.nodeFieldCount + after.nf.selfSize]} B)`);
    if (parentNode[node] === -1) {
      console.log('  reachable only through weak edges (or not at all): garbage at the next GC');
      continue;
    }
    const shown = steps.length > MAX_PATH_STEPS ? [...steps.slice(0, MAX_PATH_STEPS - 5), null, ...steps.slice(-5)] : steps;
    for (const s of shown) console.log(s ? `  <- ${edgeLabel(after, s.edge)} in ${label(after, s.from)}` : `  ... ${steps.length - MAX_PATH_STEPS} more ...`);
  }

  // Which nearest retainers the new instances share, e.g. "<- .listeners in Foo <- [3] in (object elements) ...".
  const signatures = new Map<string, number>();
  const step = Math.max(1, Math.floor(fresh.length / SIGNATURE_INSTANCES));
  let traced = 0;
  for (let k = 0; k < fresh.length; k += step, traced++) {
    const sig = pathOf(fresh[k])
      .slice(0, SIGNATURE_STEPS)
      .map((s) => `<- ${edgeLabel(after, s.edge).replace(/\d+/g, 'n')} in ${className(after, s.from)}`)
      .join(' ');
    signatures.set(sig || '(unreachable)', (signatures.get(sig || '(unreachable)') ?? 0) + 1);
  }
  console.log(`\nnearest ${SIGNATURE_STEPS} retainers shared by new ${target} instances (${traced} traced):`);
  for (const [sig, n] of [...signatures].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log(`  ${String(n).padStart(6)}  ${sig}`);
}

function label(s: HeapSnapshot, node: number): string {
  const base = node * s.nodeFieldCount;
  if (s.nodeTypes[s.nodes[base + s.nf.type]] === 'synthetic') return s.strings[s.nodes[base + s.nf.name]] || '(root)';
  return `${className(s, node)} @${s.nodes[base + s.nf.id]}`;
}

function totalOf(g: Map<string, Group>): Group {
  let count = 0;
  let selfSize = 0;
  for (const v of g.values()) {
    count += v.count;
    selfSize += v.selfSize;
  }
  return { count, selfSize };
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = performance.now();
  const result = fn();
  console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x}`;

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
