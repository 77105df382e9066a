import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, signTestToken, TEST_JWT_SECRET } from './support/harness';
import { baseEnv, killGroup, MAIN, productionEnv, ROOT, spawnNode, started, type Exit, type Proc } from './support/processes';

/** A server with default settings charges every operation against its cost budget and says so. */
const CHARGED = { requested: expect.any(Number), remaining: expect.any(Number), restoreRate: expect.any(Number), maximumAvailable: expect.any(Number) };

/**
 * The built server and token CLI as real processes (dist/ is built before jest runs: `npm test`
 * builds through schema:check). Each process gets a hard timeout and is killed in afterAll.
 */
const TOKEN_CLI = path.join(ROOT, 'dist/src/auth/token-cli.js');

jest.setTimeout(120_000);

/** Only what a process needs from the outside: never the runner's DATABASE_URL or JWT settings. */
/** Runs the token CLI to completion. */
async function tokenCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ exit: Exit; stdout: string; stderr: string }> {
  const proc = spawnNode(TOKEN_CLI, args, env);
  const exit = await proc.exited;
  return { exit, stdout: proc.stdout, stderr: proc.stderr };
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function graphql(url: string, query: string, token: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] } };
}

afterAll(() => {
  for (const proc of started) if (proc.alive) killGroup(proc.child);
});

/** The built server on a fresh database of this run (cloned from the migrated template). */
async function startWithDatabaseUrl(): Promise<{ proc: Proc; url: string }> {
  const ownerUrl = await createTestDatabase('startup_');
  const proc = spawnNode(
    MAIN,
    [],
    productionEnv(ownerUrl),
  );
  return { proc, url: await proc.listening(30_000) };
}

describe('start-up with DATABASE_URL', () => {
  let proc: Proc | undefined;
  let url: string;

  beforeAll(async () => {
    ({ proc, url } = await startWithDatabaseUrl());
  });
  afterAll(async () => {
    if (proc?.alive) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('logs the URL it listens on and reports ready', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const ready = await fetch(new URL('/readyz', url));
    expect(ready.status).toBe(200);
  });

  it('answers a GraphQL query with a token signed with JWT_SECRET', async () => {
    const res = await graphql(url, '{ viewer { subject role } }', signTestToken({ sub: 'startup-test', role: 'PROVIDER_OPERATOR' }));
    expect(res.body).toEqual({ data: { viewer: { subject: 'startup-test', role: 'PROVIDER_OPERATOR' } }, extensions: { cost: CHARGED } });
  });

  it('refuses a token signed with another secret', async () => {
    const res = await graphql(url, '{ viewer { role } }', signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'another-secret-that-is-also-long-enough-0123'));
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('shutdown', () => {
  it('on SIGTERM answers the request in flight, logs "shutdown complete" and exits 0', async () => {
    const { proc, url } = await startWithDatabaseUrl();
    // A request whose headers have arrived but whose body is still being sent when SIGTERM lands.
    const body = JSON.stringify({ query: '{ viewer { role } }' });
    const target = new URL(url);
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        authorization: `Bearer ${signTestToken({ role: 'PROVIDER_ADMIN' })}`,
      },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 10));
    // Nothing observable marks "headers parsed" on the server; a short pause lets them arrive. What is
    // asserted is that the request is answered, not how fast.
    await new Promise((r) => setTimeout(r, 200));
    proc.child.kill('SIGTERM');
    await proc.waitFor('the draining log line', () => (proc.logLines().some((l) => l.msg?.includes('shutting down')) ? true : undefined), 10_000);
    req.end(body.slice(10));

    const answered = await response;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text)).toEqual({ data: { viewer: { role: 'PROVIDER_ADMIN' } }, extensions: { cost: CHARGED } });
    const exit = await proc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(proc.logLines().map((l) => l.msg)).toContain('shutdown complete');
    expect(await isListening(Number(target.port))).toBe(false);
  });
});

describe('start-up with an embedded PostgreSQL (no DATABASE_URL)', () => {
  const dirs: string[] = [];

  /** A fresh data folder the OS user "postgres" can traverse (embedded PostgreSQL runs as it under root). */
  function freshDataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-startup-'));
    fs.chmodSync(dir, 0o755);
    dirs.push(dir);
    return dir;
  }

  async function startEmbedded(): Promise<{ proc: Proc; url: string; env: NodeJS.ProcessEnv; pgPort: number; dataDir: string }> {
    const dataDir = freshDataDir();
    const pgPort = await freePort();
    const env = baseEnv({ NODE_ENV: 'development', DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(pgPort) });
    const proc = spawnNode(MAIN, [], { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    const url = await proc.listening(30_000);
    return { proc, url, env, pgPort, dataDir };
  }

  afterAll(async () => {
    for (const proc of started) if (proc.alive) killGroup(proc.child);
    // A killed server may leave its PostgreSQL running: stop it by the pid it recorded.
    for (const dir of dirs) {
      try {
        const pid = Number.parseInt(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0], 10);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      } catch {
        // not running
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('while running', () => {
    let server: Awaited<ReturnType<typeof startEmbedded>>;
    beforeAll(async () => {
      server = await startEmbedded();
    });
    afterAll(async () => {
      if (server?.proc.alive) {
        server.proc.child.kill('SIGTERM');
        await server.proc.exited;
      }
    });

    it('serves /graphql, reports ready and prints how to mint a token', async () => {
      expect(server.proc.logLines().find((l) => l.msg?.includes('listening on'))?.database).toBe('embedded');
      // Written right after the "listening on" line, so it may arrive a moment later.
      await server.proc.waitFor('the token hint', () => (server.proc.stdout.includes('npm run token -- --role PROVIDER_ADMIN') ? true : undefined), 10_000);
      expect((await fetch(new URL('/readyz', server.url))).status).toBe(200);
      const unauthenticated = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      });
      expect(((await unauthenticated.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('accepts a provider token minted by the token CLI with the same DATA_DIR', async () => {
      const cli = await tokenCli(['--role', 'PROVIDER_ADMIN'], server.env);
      expect(cli.exit.code).toBe(0);
      const token = cli.stdout.trim();
      expect(token.split('.')).toHaveLength(3);

      const res = await graphql(server.url, '{ viewer { role tenant { id } } }', token);
      expect(res.body).toEqual({ data: { viewer: { role: 'PROVIDER_ADMIN', tenant: null } }, extensions: { cost: CHARGED } });
    });

    it('mints a tenant token for a slug created through the API, and the server keeps serving', async () => {
      const provider = (await tokenCli(['--role', 'PROVIDER_ADMIN'], server.env)).stdout.trim();
      const created = await graphql(server.url, 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }', provider, {
        input: { name: 'Embedded Acme', slug: 'embedded-acme' },
      });
      expect(created.body.errors).toBeUndefined();

      const cli = await tokenCli(['--role', 'TENANT_ADMIN', '--tenant', 'embedded-acme'], server.env);
      expect(cli.exit.code).toBe(0);
      const res = await graphql(server.url, '{ viewer { role tenant { id slug } } }', cli.stdout.trim());
      expect(res.body).toEqual({
        data: { viewer: { role: 'TENANT_ADMIN', tenant: { id: created.body.data!.createTenant.id, slug: 'embedded-acme' } } },
        extensions: { cost: CHARGED },
      });
      // The CLI reused the server's PostgreSQL and must not have stopped it.
      expect(await isListening(server.pgPort)).toBe(true);
      expect((await fetch(new URL('/readyz', server.url))).status).toBe(200);
    });

    it('refuses to mint a token for a slug that does not exist', async () => {
      const cli = await tokenCli(['--role', 'TENANT_OPERATOR', '--tenant', 'no-such-tenant'], server.env);
      expect(cli.exit.code).not.toBe(0);
      expect(cli.stderr).toContain('no-such-tenant');
      expect(cli.stdout.trim()).toBe('');
    });
  });

  it('exits 0 on SIGTERM and stops the embedded PostgreSQL it started', async () => {
    const { proc, pgPort, dataDir, url } = await startEmbedded();
    expect(await isListening(pgPort)).toBe(true);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.logLines().map((l) => l.msg)).toContain('shutdown complete');
    expect(await isListening(pgPort)).toBe(false);
    expect(await isListening(Number(new URL(url).port))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  });
});

describe('start-up configuration errors', () => {
  const run = async (env: Record<string, string>): Promise<{ exit: Exit; stderr: string; stdout: string }> => {
    const proc = spawnNode(MAIN, [], baseEnv({ PORT: '0', HOST: '127.0.0.1', ...env }));
    const exit = await proc.exited;
    return { exit, stderr: proc.stderr, stdout: proc.stdout };
  };

  it('refuses to start in production without JWT settings, naming JWT_SECRET', async () => {
    const { exit, stderr, stdout } = await run({ NODE_ENV: 'production', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(stderr).toContain('JWT_SECRET');
    expect(stdout).not.toContain('listening on');
  });

  it('refuses a JWT_SECRET shorter than 32 bytes, naming JWT_SECRET', async () => {
    const { exit, stderr } = await run({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      JWT_SECRET: 'x'.repeat(31),
    });
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(stderr).toMatch(/JWT_SECRET.*32 bytes/);
  });

  it('refuses an invalid PORT, naming PORT', async () => {
    const { exit, stderr } = await run({ NODE_ENV: 'development', PORT: 'eighty', JWT_SECRET: TEST_JWT_SECRET });
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(stderr).toContain('PORT');
  });
});
