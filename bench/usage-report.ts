import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { adminQuery, freePort } from './harness';
import { mintToken } from '../src/auth/jwt';
import { Role } from '../src/auth/roles';
import { writeResult } from './support';

/**
 * The offline usage report of one big tenant, measured on the server as it runs in production: its own
 * process (`NODE_ENV=production node dist/src/main.js`), so its resident memory is the server's alone.
 *
 *   npm run bench:usage [-- --devices 100000 --runs 3 --label before --hostname-length 120]
 *
 * Each run: a scratch database on DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * the server started on it as a child (it migrates), one tenant with N devices, a license line and N
 * ACTIVE assignments seeded set-based as the owner; then `generateUsageReport` over HTTP and the download
 * of its file, each timed while the child's VmRSS is sampled every 25 ms (and its VmHWM, reset before
 * each phase through /proc/<pid>/clear_refs where the kernel allows it). The scratch database is dropped.
 *
 * Hostnames are `edge-<n>.bench.example` (the file compresses to about 1 byte a device), or with
 * `--hostname-length L` L random hex characters, which gzip cannot shrink below L/2 bytes a device:
 * a file of megabytes, to exercise storing and downloading in chunks.
 */

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const KEY = { kind: 'secret' as const, algorithms: ['HS256'] as ['HS256'], secret: SECRET, generated: false };
const SECRETS_KEY = '0123456789abcdef'.repeat(4);
const SAMPLE_MS = 25;
const DNA_A_T1 = 'regid.2020-10.com.cisco.DSTACK_T1_A';

export interface PhaseFigures {
  wallMs: number;
  /** VmRSS when the phase started (memory kept from before is part of every later reading). */
  startRssMb: number;
  /** Highest VmRSS seen by the 25 ms sampler. */
  peakRssMb: number;
  /** VmHWM after a reset at the phase start (null when clear_refs is not writable). */
  hwmRssMb: number | null;
}

export interface UsageReportBenchFigures {
  devices: number;
  idleRssMb: number;
  generate: PhaseFigures & { measurements: number };
  fileBytes: number;
  download: PhaseFigures & { bytes: number; digestMatches: boolean };
}

export async function runUsageReportBench(opts: { databaseUrl: string; devices: number; hostnameLength?: number }): Promise<UsageReportBenchFigures> {
  const scratch = `slm_bench_usage_${Date.now()}_${process.pid}`;
  await adminQuery(opts.databaseUrl, `create database ${scratch}`);
  const url = new URL(opts.databaseUrl);
  url.pathname = `/${scratch}`;
  const scratchUrl = url.toString();
  let child: ChildProcess | undefined;
  let serverOutput = (): string => '';
  try {
    const port = await freePort();
    const started = await startServer(scratchUrl, port);
    child = started.child;
    serverOutput = started.output;
    const origin = `http://127.0.0.1:${port}`;
    const tenantId = await seedUsageTenant(scratchUrl, opts.devices, opts.hostnameLength);
    const token = mintToken({ key: KEY, subject: 'bench-provider-admin', role: Role.PROVIDER_ADMIN, expiresInSec: 3600 });
    const pid = child.pid as number;

    // Let start-up garbage settle before the idle reading.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleRssMb = rssMb(pid, 'VmRSS') ?? 0;

    const gen = await measure(pid, async () => {
      const res = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation($i: GenerateUsageReportInput!) { generateUsageReport(input: $i) { id measurements fileSize fileDigest downloadUrl } }',
          variables: { i: { tenantId } },
        }),
      });
      const body = (await res.json()) as {
        data?: { generateUsageReport: { id: string; measurements: number; fileSize: number; fileDigest: string; downloadUrl: string } };
        errors?: unknown;
      };
      if (!body.data) throw new Error(`generateUsageReport failed: ${JSON.stringify(body.errors)}`);
      return body.data.generateUsageReport;
    });
    const report = gen.result;
    if (report.measurements !== opts.devices) throw new Error(`the report holds ${report.measurements} measurements, expected ${opts.devices}`);

    const dl = await measure(pid, async () => {
      const res = await fetch(`${origin}${report.downloadUrl}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200 || !res.body) throw new Error(`download answered ${res.status}: ${await res.text()}`);
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return { bytes, digest: hash.digest('hex'), contentLength: Number(res.headers.get('content-length')) };
    });
    if (dl.result.bytes !== report.fileSize || dl.result.contentLength !== report.fileSize) {
      throw new Error(`downloaded ${dl.result.bytes} bytes (content-length ${dl.result.contentLength}), fileSize is ${report.fileSize}`);
    }
    return {
      devices: opts.devices,
      idleRssMb,
      generate: { ...gen.figures, measurements: report.measurements },
      fileBytes: report.fileSize,
      download: { ...dl.figures, bytes: dl.result.bytes, digestMatches: dl.result.digest === report.fileDigest },
    };
  } catch (err) {
    const output = serverOutput();
    if (output && err instanceof Error) err.message += `\nserver output (last 4000 characters):\n${output}`;
    throw err;
  } finally {
    if (child) await stopServer(child);
    await adminQuery(opts.databaseUrl, `drop database if exists ${scratch} with (force)`);
  }
}

/** Runs `fn` while sampling the child's resident memory. */
async function measure<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; figures: PhaseFigures }> {
  const hwmReset = resetHwm(pid);
  const startRssMb = rssMb(pid, 'VmRSS') ?? 0;
  let peak = startRssMb;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid, 'VmRSS') ?? 0);
  }, SAMPLE_MS);
  const t0 = performance.now();
  try {
    const result = await fn();
    const wallMs = Math.round(performance.now() - t0);
    peak = Math.max(peak, rssMb(pid, 'VmRSS') ?? 0);
    const hwm = hwmReset ? rssMb(pid, 'VmHWM') : null;
    return { result, figures: { wallMs, startRssMb, peakRssMb: peak, hwmRssMb: hwm } };
  } finally {
    clearInterval(timer);
  }
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

/** Writing 5 to clear_refs resets the peak RSS (VmHWM) of a process we own (Linux 4.0+). */
function resetHwm(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function startServer(databaseUrl: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const main = path.join(__dirname, '..', 'src', 'main.js');
  // e.g. USAGE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
  const nodeArgs = (process.env.USAGE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, main], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      JWT_SECRET: SECRET,
      SECRETS_KEY,
      SCHEDULER_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept short: enough to say why the server failed, never a growing buffer.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`the server exited with ${exited} during start-up:\n${output}`);
    if (Date.now() > deadline) {
      await stopServer(child);
      throw new Error(`the server did not become ready within 60 s:\n${output}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return { child, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** One tenant, its smart account with a managed virtual account, one prepaid line and N licensed devices. */
export async function seedUsageTenant(databaseUrl: string, devices: number, hostnameLength?: number): Promise<string> {
  const owner = new pg.Client({ connectionString: databaseUrl });
  await owner.connect();
  try {
    await owner.query('begin');
    const { rows: [tenant] } = await owner.query<{ id: string }>(
      "insert into tenant (name, slug) values ('Usage bench', $1) returning id",
      [`usage-bench-${Date.now()}`],
    );
    const { rows: [sa] } = await owner.query<{ id: string }>(
      "insert into smart_account (tenant_id, domain, name, external_id) values ($1, 'bench.example', 'Bench', 'SA-BENCH') returning id",
      [tenant.id],
    );
    const { rows: [va] } = await owner.query<{ id: string }>(
      "insert into virtual_account (tenant_id, smart_account_id, external_id, name, managed) values ($1, $2, 'VA-1', 'Main', true) returning id",
      [tenant.id, sa.id],
    );
    await owner.query(
      `insert into license (tenant_id, virtual_account_id, entitlement_id, billing_type, billing_model, subscription_id,
                            license_type, quantity, start_date, end_date, source)
       select $1, $2, e.id, 'PREPAID', 'A_LA_CARTE', 'SUB-BENCH', 'TERM', $3, '2020-01-01', '2099-12-31', 'MANUAL'
         from entitlement e where e.tag = $4`,
      [tenant.id, va.id, devices, DNA_A_T1],
    );
    await owner.query(
      `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version)
       select $1, 'C8K-BENCH-' || lpad(n::text, 7, '0'),
              case when $3::int is null then 'edge-' || n || '.bench.example'
                   else left((select string_agg(md5(n::text || ':' || k::text || random()::text), '') from generate_series(1, ($3::int + 31) / 32) k), $3::int) end,
              'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a'
         from generate_series(1, $2::int) as n`,
      [tenant.id, devices, hostnameLength ?? null],
    );
    await owner.query(
      `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_at, assigned_by)
       select d.tenant_id, d.id, l.entitlement_id, 'DNA', l.id, 'PREPAID', 'ACTIVE', now() - interval '1 day', 'bench'
         from device d join license l on l.tenant_id = d.tenant_id where d.tenant_id = $1`,
      [tenant.id],
    );
    await owner.query('commit');
    await owner.query('analyze tenant, device, license, assignment, smart_account, virtual_account');
    return tenant.id;
  } catch (err) {
    await owner.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await owner.end();
  }
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const devices = Number(argValue('--devices') ?? 100_000);
  const hostnameLength = argValue('--hostname-length') === undefined ? undefined : Number(argValue('--hostname-length'));
  const runs = Number(argValue('--runs') ?? 3);
  const label = argValue('--label');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const all: UsageReportBenchFigures[] = [];
  for (let i = 0; i < runs; i++) {
    const figures = await runUsageReportBench({ databaseUrl, devices, hostnameLength });
    all.push(figures);
    process.stdout.write(`run ${i + 1}/${runs}: ${JSON.stringify(figures)}\n`);
  }
  const summary = {
    devices,
    hostnameLength: hostnameLength ?? null,
    runs,
    idleRssMb: median(all.map((f) => f.idleRssMb)),
    generateMs: median(all.map((f) => f.generate.wallMs)),
    generatePeakRssMb: median(all.map((f) => Math.max(f.generate.peakRssMb, f.generate.hwmRssMb ?? 0))),
    fileBytes: median(all.map((f) => f.fileBytes)),
    downloadMs: median(all.map((f) => f.download.wallMs)),
    downloadStartRssMb: median(all.map((f) => f.download.startRssMb)),
    downloadPeakRssMb: median(all.map((f) => Math.max(f.download.peakRssMb, f.download.hwmRssMb ?? 0))),
    digestMatches: all.every((f) => f.download.digestMatches),
  };
  console.table([summary]);
  writeResult(label ? `usage-report-${label}` : 'usage-report', { summary, runs: all });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
