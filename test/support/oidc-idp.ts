import path from 'node:path';
import readline from 'node:readline';
import { baseEnv, spawnNode, type Proc } from './processes';

const SCRIPT = path.join(__dirname, 'oidc-provider-process.mjs');

export interface IdpTokenRequest {
  /** Claims the provider adds to the access token (what an IdP administrator would configure). */
  claims?: Record<string, unknown>;
  kid?: string;
  alg?: 'RS256' | 'PS256' | 'ES256';
  /** Audience of the token; default the provider's resource (the API's JWT_AUDIENCE). */
  audience?: string;
}

/** A real OpenID provider (oidc-provider) in a child process; see oidc-provider-process.mjs. */
export interface TestIdp {
  issuer: string;
  jwksUrl: string;
  /** The resource indicator, which is the audience of its access tokens. */
  resource: string;
  /** An access token from the real token endpoint (client_credentials grant). */
  token(request?: IdpTokenRequest): Promise<string>;
  /** A token signed with one of its keys, carrying exactly `payload`. */
  sign(kid: string, alg: string, payload: Record<string, unknown>): Promise<string>;
  /** Publishes exactly these keys from now on (the same kid is the same key pair). */
  publish(kids: string[]): Promise<void>;
  down(): Promise<void>;
  up(): Promise<void>;
  /** JWKS documents served so far. */
  jwksRequests(): Promise<number>;
  /**
   * Registers the console at `origin` as a public client (code + PKCE) and turns the login page on;
   * returns its client id. Its access tokens live `accessTokenTTL` seconds (default 600).
   */
  consoleClient(origin: string, options?: { accessTokenTTL?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIdp(): Promise<TestIdp> {
  // Driven through its stdin; it exits when stdin ends.
  const proc: Proc = spawnNode(SCRIPT, [], baseEnv({}), 'pipe');
  const stdin = proc.child.stdin as NodeJS.WritableStream;
  const lines = readline.createInterface({ input: proc.child.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else early.push(line);
  });
  const nextLine = (): Promise<string> => {
    const line = early.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      proc.exited.then((exit) => reject(new Error(`oidc-provider-process.mjs exited ${JSON.stringify(exit)}: ${proc.stderr}`)), reject);
    });
  };
  const hello = JSON.parse(await nextLine()) as { issuer: string; resource: string; client_id: string; client_secret: string };

  // One command at a time: each answer is the next line.
  let queue: Promise<unknown> = Promise.resolve();
  const send = <T>(command: Record<string, unknown>): Promise<T> => {
    const run = queue.then(async () => {
      stdin.write(`${JSON.stringify(command)}\n`);
      const answer = JSON.parse(await nextLine()) as T & { error?: string };
      if (answer.error) throw new Error(answer.error);
      return answer;
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    issuer: hello.issuer,
    jwksUrl: `${hello.issuer}/jwks`,
    resource: hello.resource,
    async token(request = {}) {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: hello.client_id,
        client_secret: hello.client_secret,
        resource: hello.resource,
        scope: 'api',
        ...(request.claims ? { test_claims: JSON.stringify(request.claims) } : {}),
        ...(request.kid ? { test_kid: request.kid } : {}),
        ...(request.alg ? { test_alg: request.alg } : {}),
        ...(request.audience ? { test_aud: request.audience } : {}),
      });
      const res = await fetch(`${hello.issuer}/token`, { method: 'POST', body: form });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async sign(kid, alg, payload) {
      return (await send<{ token: string }>({ cmd: 'sign', kid, alg, payload })).token;
    },
    async publish(kids) {
      await send({ cmd: 'keys', kids });
    },
    async down() {
      await send({ cmd: 'down' });
    },
    async up() {
      await send({ cmd: 'up' });
    },
    async jwksRequests() {
      return (await send<{ jwksRequests: number }>({ cmd: 'stats' })).jwksRequests;
    },
    async consoleClient(origin, options = {}) {
      return (await send<{ clientId: string }>({ cmd: 'console-client', origin, ...options })).clientId;
    },
    async close() {
      stdin.end();
      await proc.exited;
    },
  };
}
