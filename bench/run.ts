import 'reflect-metadata';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, JWT_SECRET, ROOT, scratchDatabase, serverEnv, startChild, writeResults, type ChildServer } from './harness';
import { SCENARIOS, type BenchContext, type Row, type ScenarioName, type Sizes } from './scenarios';
import { seed } from './seed';

/**
 * `npm run bench [-- --quick] [--scenario NAME ...] [--duration SECONDS] [--tenants N] [--devices N] [--profile] [--keep-database] [--server-env NAME=VALUE ...]`
 * (--profile: the server runs with --cpu-prof and writes bench/profiles/*.cpuprofile at the end;
 * --keep-database: the seeded database stays, its URL printed, for EXPLAIN afterwards)
 *
 * Seeds a scratch database (DATABASE_URL's server, else the embedded PostgreSQL), starts the real
 * server as its own process with production settings (JWT and RLS on) and the baseline server
 * (bench/baseline-server.ts), runs the scenarios with autocannon and prints one row each, then
 * writes bench/results/<date>[-quick].json. Not part of `npm test`.
 */
const FULL = { tenants: 1000, devices: 100_000, duration: 20, sizes: { bulkDevices: 10_000, usageDevices: 100_000, subscribers: 1000, events: 30, syncLines: 5000 } };
const QUICK = { tenants: 50, devices: 5000, duration: 3, sizes: { bulkDevices: 2000, usageDevices: 5000, subscribers: 100, events: 5, syncLines: 500 } };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      duration: { type: 'string' },
      tenants: { type: 'string' },
      devices: { type: 'string' },
      profile: { type: 'boolean', default: false },
      // Leaves the seeded database in place (its URL is printed), to EXPLAIN statements against it afterwards.
      'keep-database': { type: 'boolean', default: false },
      'server-env': { type: 'string', multiple: true },
    },
  });
  const preset = values.quick ? QUICK : FULL;
  // `--server-env NAME=VALUE` (repeatable): the server runs with other settings, e.g. cost budgets.
  const extraEnv = Object.fromEntries((values['server-env'] ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const names = (values.scenario ?? Object.keys(SCENARIOS)).flatMap((s) => s.split(',')) as ScenarioName[];
  for (const n of names) {
    if (!(n in SCENARIOS)) throw new Error(`unknown scenario ${n}; one of: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  const tenants = Number(values.tenants ?? preset.tenants);
  const devices = Number(values.devices ?? preset.devices);
  const durationSec = Number(values.duration ?? preset.duration);
  const sizes: Sizes = preset.sizes;

  const started = Date.now();
  const db = await scratchDatabase();
  const children: ChildServer[] = [];
  let current: ChildServer | undefined;
  try {
    // Each scenario gets a fresh server process, so its peak RSS is its own (Node keeps the heap it grew).
    const startServerChild = async (moreEnv: Record<string, string> = {}): Promise<ChildServer> =>
      startChild('server', path.join(ROOT, 'dist', 'src', 'main.js'), { ...serverEnv(db.url), ...extraEnv, ...moreEnv }, await freePort(), values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench', 'profiles')}`] : []);
    let server = await startServerChild();
    current = server;
    console.log(`server ready (pid ${server.pid}, ${Math.round(server.rssMb())} MB); seeding ${tenants} tenants, ${devices} devices`);
    const seeded = await seed(db.url, { tenants, devices });
    console.log(`seeded in ${seeded.ms} ms: ${seeded.devices} devices, ${seeded.licenses} license lines, ${seeded.assignments} assignments`);
    const baseline = await startChild('baseline', path.join(ROOT, 'dist', 'bench', 'baseline-server.js'), { DATABASE_URL: db.url, JWT_SECRET }, await freePort());
    children.push(baseline);

    const ctx: BenchContext = {
      server,
      baseline,
      ownerUrl: db.url,
      tenants: seeded.tenants,
      sizes,
      durationSec,
      async restartServer(moreEnv) {
        await server.stop();
        server = await startServerChild(moreEnv);
        current = server;
        ctx.server = server;
      },
    };
    const rows: Row[] = [];
    for (const [i, name] of names.entries()) {
      if (i > 0) await ctx.restartServer();
      const t0 = Date.now();
      process.stdout.write(`${name} ... `);
      const result = await SCENARIOS[name](ctx);
      rows.push(...result);
      console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    console.table(rows.map(({ rounds: _rounds, ...r }) => r));
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      database: process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL',
      note: 'server, baseline, PostgreSQL and the load generator share the machine',
    };
    const file = writeResults(`${new Date().toISOString().slice(0, 10)}${values.quick ? '-quick' : ''}`, {
      date: new Date().toISOString(),
      quick: values.quick,
      serverEnv: extraEnv,
      data: { tenants, devices, licenseLines: seeded.licenses, assignments: seeded.assignments, seedMs: seeded.ms },
      durationSec,
      connections: 50,
      sizes,
      machine,
      rows,
      totalSec: Math.round((Date.now() - started) / 1000),
    });
    console.log(`results: ${path.relative(ROOT, file)} (${Math.round((Date.now() - started) / 1000)} s)`);
  } finally {
    await current?.stop();
    for (const c of children.reverse()) await c.stop();
    if (values['keep-database']) console.log(`database kept: ${db.url}`);
    else await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
