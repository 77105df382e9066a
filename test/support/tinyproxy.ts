/**
 * A real forward proxy for tests: Debian's tinyproxy, run in the foreground with a generated config
 * (BasicAuth, the CONNECT ports allowed), on a free loopback port. `.ci/run` installs tinyproxy; on a
 * machine without it the suite fails saying so (it is never skipped).
 *
 *   const proxy = await startTinyproxy({ connectPorts: [sim.port], credentials: { username: 'squid', password: 's3cret' } });
 *   proxy.url;            // http://127.0.0.1:PORT (no credentials in it)
 *   proxy.tunnels();      // ['127.0.0.1:41234', ...] every CONNECT it accepted, from its log
 *   await proxy.close();
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Proc } from './processes';

export interface Tinyproxy {
  url: string;
  port: number;
  /** `host:port` of every CONNECT request tinyproxy logged. */
  tunnels(): string[];
  /** What tinyproxy wrote (it logs to the terminal in the foreground). */
  output(): string;
  close(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Ports CONNECT may reach (tinyproxy refuses every other with 403). */
  connectPorts: number[];
  /** BasicAuth: without them, tinyproxy asks for none. */
  credentials?: { username: string; password: string };
}

const INSTALL_HINT =
  'tinyproxy is not installed, and the proxy tests run a real one. Install it (Debian/Ubuntu: ' +
  '`apt-get install --no-install-recommends tinyproxy`; .ci/run does this when the binary is missing) and run the tests again.';

/** tinyproxy's path: on PATH (Debian: /usr/bin), or in an sbin folder; throws saying how to install it. */
export function tinyproxyBinary(searchPath = process.env.PATH ?? ''): string {
  const dirs = [...searchPath.split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'tinyproxy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(INSTALL_HINT);
}

/** A port free right now (tinyproxy cannot take port 0 and tell which one it got). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function config(port: number, options: TinyproxyOptions): string {
  if (options.credentials && /\s/.test(options.credentials.username + options.credentials.password)) {
    throw new Error('startTinyproxy: credentials must not contain white space (tinyproxy config syntax)');
  }
  return [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Allow 127.0.0.1',
    'Timeout 30',
    'MaxClients 50',
    // Connect level: the CONNECT requests are logged, which tunnels() reads.
    'LogLevel Connect',
    'DisableViaHeader Yes',
    ...(options.credentials ? [`BasicAuth ${options.credentials.username} ${options.credentials.password}`] : []),
    ...options.connectPorts.map((p) => `ConnectPort ${p}`),
    '',
  ].join('\n');
}

/** Starts tinyproxy; resolves once it accepts connections. */
export async function startTinyproxy(options: TinyproxyOptions): Promise<Tinyproxy> {
  const binary = tinyproxyBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tinyproxy-'));
  const file = path.join(dir, 'tinyproxy.conf');
  let lastFailure = '';
  // Another process may take the free port between the probe and tinyproxy's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeFileSync(file, config(port, options));
    const proc = new Proc(spawn(binary, ['-d', '-c', file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = Date.now() + 10_000;
    while (proc.alive && Date.now() < deadline && !(await accepts(port))) await new Promise((resolve) => setTimeout(resolve, 50));
    if (proc.alive && (await accepts(port))) {
      const output = (): string => proc.stdout + proc.stderr;
      return {
        url: `http://127.0.0.1:${port}`,
        port,
        output,
        tunnels: () => [...output().matchAll(/CONNECT (\S+) HTTP\/1\.[01]/g)].map((m) => m[1]),
        close: async () => {
          if (proc.alive) proc.child.kill('SIGTERM');
          await proc.exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (proc.alive) proc.child.kill('SIGKILL');
    await proc.exited;
    lastFailure = (proc.stdout + proc.stderr).trim().split('\n').slice(-5).join('\n');
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`tinyproxy did not start:\n${lastFailure}`);
}
