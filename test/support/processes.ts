import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './harness';

/** Real server processes for tests that need them (start-up, shutdown, several instances). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const MAIN = path.join(ROOT, 'dist/src/main.js');
/** A spawned process is killed after this long whatever happens. */
export const HARD_TIMEOUT_MS = 90_000;

export function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, ...extra };
}

/**
 * The environment of a production server process on `databaseUrl` with the test JWT settings, on a free
 * port of 127.0.0.1, logging JSON at info (what tests read); `extra` adds or overrides.
 */
export function productionEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return baseEnv({
    NODE_ENV: 'production',
    SECRETS_KEY: 'c'.repeat(64),
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    ...extra,
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned process whose output is kept, with helpers to wait on it. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly hardTimer: NodeJS.Timeout;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        clearTimeout(this.hardTimer);
        this.notify();
        resolve(this.exit);
      });
    });
    this.hardTimer = setTimeout(() => killGroup(child), HARD_TIMEOUT_MS);
    this.hardTimer.unref();
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** pino's JSON log lines on stdout. */
  logLines(): { msg?: string; [key: string]: unknown }[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { msg?: string }];
        } catch {
          return [];
        }
      });
  }

  /** Resolves with the first value `probe` returns; rejects when the process exits first or time runs out. */
  waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (!this.alive) {
          done();
          reject(new Error(`process exited (${JSON.stringify(this.exit)}) before ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The URL from the "listening on" log line. */
  listening(timeoutMs: number): Promise<string> {
    return this.waitFor(
      'the "listening on" log line',
      () => this.logLines().find((l) => l.msg?.includes('listening on') && typeof l.url === 'string')?.url as string | undefined,
      timeoutMs,
    );
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Every process spawned by this test file (jest gives each file its own module instance). */
export const started = new Set<Proc>();

/** Detached, so the process and anything it starts (an embedded PostgreSQL) share a group we can kill. */
export function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv, stdin: 'ignore' | 'pipe' = 'ignore'): Proc {
  const proc = new Proc(spawn(process.execPath, [script, ...args], { cwd: ROOT, env, detached: true, stdio: [stdin, 'pipe', 'pipe'] }));
  started.add(proc);
  return proc;
}

export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}


/** Polls `probe` until it returns a value, or fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
