import fs from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (`node dist/bench/profile-summary.js FILE [N]`): self time by
 * function and by package, so a profile of the server under load reads in one screen.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 40);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function packageOf(url: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/')) return `app:${url.split('/dist/')[1].split('/').slice(0, 3).join('/')}`;
  if (url.startsWith('node:')) return url;
  return url ? 'other' : '(native/gc/idle)';
}

const fnTimes = new Map<string, number>();
const pkgTimes = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id) as Node;
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.split('/node_modules/').pop()?.split('/dist/').pop()}:${lineNumber + 1}`;
  fnTimes.set(key, (fnTimes.get(key) ?? 0) + us);
  const pkg = functionName === '(idle)' ? '(idle)' : functionName === '(garbage collector)' ? '(gc)' : packageOf(url);
  pkgTimes.set(pkg, (pkgTimes.get(pkg) ?? 0) + us);
}
const pct = (us: number): string => `${((100 * us) / total).toFixed(1)}%`;
console.log(`total ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nby package (self time)');
for (const [k, v] of [...pkgTimes].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(v).padStart(7)}  ${k}`);
console.log('\nby function (self time)');
for (const [k, v] of [...fnTimes].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v).padStart(7)}  ${k}`);

// Inclusive time of named functions (anywhere on the stack), when asked: FILE N name1,name2,...
const names = process.argv[4]?.split(',') ?? [];
if (names.length > 0) {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>(names.map((n) => [n, 0]));
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const fn = (byId.get(cur) as Node).callFrame.functionName;
      if (inclusive.has(fn) && !seen.has(fn)) {
        seen.add(fn);
        inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
      }
    }
  }
  const busy = total - (pkgTimes.get('(idle)') ?? 0);
  console.log(`\ninclusive (share of non-idle time, ${(busy / 1e6).toFixed(1)} s)`);
  for (const [k, v] of inclusive) console.log(`${((100 * v) / busy).toFixed(1).padStart(6)}%  ${k}`);
}
