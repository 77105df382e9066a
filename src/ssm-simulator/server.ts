/**
 * A stand-in for the vendor's license server (cloud SSM or SSM On-Prem), over real HTTP, for tests,
 * demos and the offline round trip. It speaks the API `SsmClient` (src/ssm/client.ts) uses:
 *
 *   POST /oauth/token                                                 client credentials -> bearer token
 *   GET  /api/v1/smart-accounts/:accountId                             SA and its virtual accounts
 *   GET  /api/v1/smart-accounts/:accountId/virtual-accounts/:vaId/licenses
 *   POST /api/v1/smart-accounts/:accountId/usage                       JSON usage -> JSON acknowledgement
 *   GET  /api/v1/smart-accounts/:accountId/license-summary             offline export: signed summary .tar.gz
 *   POST /api/v1/usage-files[?virtualAccountId=...]                    offline import: usage .tar.gz -> signed ACK .tar.gz
 *
 * and, unauthenticated, for tests and demos (bind to loopback!):
 *
 *   GET/PUT /__admin/state        accounts, VAs and lines (PUT body: {accounts: [...]})
 *   POST/DELETE /__admin/fault    {kind: 'http500'|'timeout'|'slow', count?, delayMs?}: applies to /oauth and /api
 *   GET /__admin/usage            every acknowledged usage report
 *   GET /__admin/signing-key      {keyId, algorithm, publicKeyPem}: the key the product must trust
 *
 * Errors are JSON `{error: CODE, message}`. Usage reports are de-duplicated (same reportId through the
 * API, same file digest through upload: the same acknowledgement comes back), as a real server would.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { z } from 'zod';
import type { Logger } from '../logger';
import { FileFormatError } from '../ssm/files/archive';
import { buildAck, buildLicenseSummary, type DeviceAck, parseUsageReport, type UsageMeasurement, UsageMeasurementSchema } from '../ssm/files/formats';
import { keyId as keyIdOf, keyPairFromSeed, publicKeyPem as publicKeyPemOf } from '../ssm/files/signing';
import {
  type Fault,
  parseAccounts,
  type ReceivedUsage,
  type RequestRecord,
  seedAccounts,
  seedCredentials,
  type SeedOptions,
  type SimSmartAccount,
  type SimulatorState,
  type SimVirtualAccount,
} from './state';
import { makeServerPki } from './tls';

export interface SimulatorOptions extends SeedOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. The admin endpoints have no authentication: keep it on loopback. */
  host?: string;
  /** Determines accounts, lines, the signing key and the default credentials. */
  seed: string;
  /** Default derived from the seed (seedCredentials). */
  clientId?: string;
  clientSecret?: string;
  /**
   * Serve HTTPS. Without certPem/keyPem a private CA is made at start and signs a certificate for
   * `names` (default: localhost, 127.0.0.1, ::1 and the host); the handle's `caPem` is that CA.
   */
  tls?: { certPem?: string; keyPem?: string; names?: string[] };
  /** Lifetime of issued tokens; default 3600. */
  tokenTtlSeconds?: number;
  /** First license summary serial is this + 1. Default: Unix time in seconds at start, so a restarted
   *  simulator still issues serials above those of files the product already accepted. */
  serialBase?: number;
  logger?: Logger;
}

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:41234 or https://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  /** With `tls` and a generated certificate: the private CA that signed it (PEM), for clients to trust. */
  caPem?: string;
  clientId: string;
  clientSecret: string;
  /** The simulator's signing key, SPKI PEM: what the product must trust for its files. */
  publicKeyPem: string;
  keyId: string;
  /** Live state: tests may read it and change accounts in place. */
  state: SimulatorState;
  /** Sets (or, with null, clears) the fault applied to /oauth and /api requests. */
  setFault(fault: Fault | null): void;
  /** Replaces accounts, VAs and lines (same validation as PUT /__admin/state). */
  setAccounts(accounts: SimSmartAccount[]): void;
  /** Forgets every issued token, as a restarted server would: clients must fetch a new one. */
  revokeTokens(): void;
  close(): Promise<void>;
}

const MAX_JSON_BODY = 64 * 1024 * 1024;
const MAX_FILE_BODY = 64 * 1024 * 1024;
const MAX_REQUEST_LOG = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const faultSchema = z.strictObject({
  kind: z.enum(['http500', 'timeout', 'slow']),
  count: z.int().min(1).optional(),
  delayMs: z.int().min(0).max(600_000).optional(),
});

const usageSubmissionSchema = z.strictObject({
  reportId: z.uuid(),
  virtualAccountId: z.string().min(1).max(128),
  measurements: z.array(UsageMeasurementSchema).max(1_000_000),
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': data.length, 'cache-control': 'no-store' });
  res.end(data);
}

function sendFile(res: ServerResponse, data: Buffer, filename: string): void {
  res.writeHead(200, {
    'content-type': 'application/gzip',
    'content-length': data.length,
    'content-disposition': `attachment; filename="${filename}"`,
    'cache-control': 'no-store',
  });
  res.end(data);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) throw new HttpError(413, 'TOO_LARGE', `request body over ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, 'TOO_LARGE', `request body over ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_JSON_BODY);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'request body is not valid JSON');
  }
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  return `${path ? `${path}: ` : ''}${issue.message}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
  const log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'ssm-simulator' });
  const defaults = seedCredentials(options.seed);
  const clientId = options.clientId ?? defaults.clientId;
  const clientSecret = options.clientSecret ?? defaults.clientSecret;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const keys = keyPairFromSeed(`ssm-simulator-signing-key:${options.seed}`);
  const publicKeyPem = publicKeyPemOf(keys.publicKey);
  const keyId = keyIdOf(publicKeyPem);
  const serialBase = options.serialBase ?? Math.floor(Date.now() / 1000);

  const state: SimulatorState = {
    accounts: seedAccounts(options.seed, options),
    summarySerials: {},
    usage: [],
    requests: [],
    fault: null,
  };
  const tokens = new Map<string, number>();
  /** ACK files already issued, by usage report file digest. */
  const acksByDigest = new Map<string, Buffer>();
  const heldResponses = new Set<ServerResponse>();

  function setFault(fault: Fault | null): void {
    state.fault = fault === null ? null : { ...fault, remaining: fault.count ?? null };
    log.info({ fault }, fault ? 'fault set' : 'fault cleared');
  }

  function setAccounts(accounts: SimSmartAccount[]): void {
    const parsed = parseAccounts(accounts);
    if (!parsed.ok) throw new Error(parsed.message);
    state.accounts = parsed.accounts;
  }

  function record(entry: RequestRecord): void {
    state.requests.push(entry);
    if (state.requests.length > MAX_REQUEST_LOG) state.requests.splice(0, state.requests.length - MAX_REQUEST_LOG);
  }

  /** Consumes one use of the current fault, if any. */
  function takeFault(): Fault | null {
    const fault = state.fault;
    if (!fault) return null;
    if (fault.remaining !== null) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) state.fault = null;
    }
    return fault;
  }

  function findAccount(accountId: string): SimSmartAccount {
    const sa = state.accounts.find((a) => a.accountId === accountId);
    if (!sa) throw new HttpError(404, 'NOT_FOUND', `smart account ${accountId} not found`);
    return sa;
  }

  function findVa(sa: SimSmartAccount, vaId: string): SimVirtualAccount {
    const va = sa.virtualAccounts.find((v) => v.id === vaId);
    if (!va) throw new HttpError(404, 'NOT_FOUND', `virtual account ${vaId} not found in smart account ${sa.accountId}`);
    return va;
  }

  function requireToken(req: IncomingMessage): void {
    const m = /^Bearer ([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    const expiresAt = m ? tokens.get(m[1]) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      throw new HttpError(401, 'UNAUTHORIZED', 'a valid bearer token is required');
    }
  }

  async function issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
    let id = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, i));
      secret = decodeURIComponent(decoded.slice(i + 1));
    }
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type', message: 'grant_type must be client_credentials' });
      return;
    }
    if (!safeEqual(id, clientId) || !safeEqual(secret, clientSecret)) {
      sendJson(res, 401, { error: 'invalid_client', message: 'unknown client or wrong secret' });
      return;
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + tokenTtlSeconds * 1000);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: tokenTtlSeconds });
  }

  function acknowledge(via: ReceivedUsage['via'], sa: SimSmartAccount, va: SimVirtualAccount, reportId: string, measurements: UsageMeasurement[], digest: string | null): ReceivedUsage {
    const received: ReceivedUsage = {
      via,
      accountId: sa.accountId,
      virtualAccountId: va.id,
      reportId,
      ackId: randomUUID(),
      acknowledgedAt: new Date().toISOString(),
      digest,
      measurements,
    };
    state.usage.push(received);
    log.info({ via, accountId: sa.accountId, virtualAccountId: va.id, reportId, measurements: measurements.length }, 'usage acknowledged');
    return received;
  }

  async function receiveUsage(req: IncomingMessage, res: ServerResponse, accountId: string): Promise<void> {
    const sa = findAccount(accountId);
    const parsed = usageSubmissionSchema.safeParse(await readJson(req));
    if (!parsed.success) throw new HttpError(400, 'INVALID_USAGE', zodMessage(parsed.error));
    const { reportId, virtualAccountId, measurements } = parsed.data;
    const va = findVa(sa, virtualAccountId);
    const previous = state.usage.find((u) => u.reportId === reportId);
    if (previous) {
      if (previous.accountId !== sa.accountId || previous.virtualAccountId !== va.id) {
        throw new HttpError(409, 'REPORT_CONFLICT', `report ${reportId} was already received for another virtual account`);
      }
      sendJson(res, 200, { ackId: previous.ackId, reportId, acknowledgedAt: previous.acknowledgedAt });
      return;
    }
    const received = acknowledge('api', sa, va, reportId, measurements, null);
    sendJson(res, 200, { ackId: received.ackId, reportId, acknowledgedAt: received.acknowledgedAt });
  }

  async function exportSummary(res: ServerResponse, accountId: string): Promise<void> {
    const sa = findAccount(accountId);
    const serial = Math.max(state.summarySerials[sa.accountId] ?? serialBase, serialBase) + 1;
    state.summarySerials[sa.accountId] = serial;
    const file = await buildLicenseSummary(
      {
        smartAccount: { accountId: sa.accountId, domain: sa.domain, name: sa.name },
        serial,
        virtualAccounts: sa.virtualAccounts,
      },
      keys.privateKey,
    );
    log.info({ accountId, serial, bytes: file.length }, 'license summary exported');
    sendFile(res, file, `license-summary-${sa.accountId}-${serial}.tar.gz`);
  }

  async function importUsageFile(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const body = await readBody(req, MAX_FILE_BODY);
    let report;
    try {
      report = await parseUsageReport(body);
    } catch (err) {
      if (err instanceof FileFormatError) throw new HttpError(400, err.code, err.message);
      throw err;
    }
    const issued = acksByDigest.get(report.digest);
    if (issued) {
      sendFile(res, issued, `ack-${report.manifest.reportId}.tar.gz`);
      return;
    }
    if (state.usage.some((u) => u.reportId === report.manifest.reportId)) {
      throw new HttpError(409, 'REPORT_CONFLICT', `report ${report.manifest.reportId} was already imported with different content`);
    }
    const chosenVa = query.get('virtualAccountId');
    let sa: SimSmartAccount;
    let va: SimVirtualAccount;
    if (report.manifest.smartAccount && report.manifest.virtualAccount) {
      sa = findAccount(report.manifest.smartAccount.accountId);
      va = findVa(sa, report.manifest.virtualAccount.id);
      if (chosenVa !== null && chosenVa !== va.id) {
        throw new HttpError(400, 'VIRTUAL_ACCOUNT_MISMATCH', `the report names virtual account ${va.id}, not ${chosenVa}`);
      }
    } else {
      // Like the vendor's server: a report made before any smart account was known is imported into
      // the virtual account the operator picks.
      if (chosenVa === null || chosenVa === '') {
        throw new HttpError(400, 'VIRTUAL_ACCOUNT_REQUIRED', 'this usage report names no smart account; choose the virtual account to import it into (?virtualAccountId=)');
      }
      const owner = state.accounts.find((a) => a.virtualAccounts.some((v) => v.id === chosenVa));
      if (!owner) throw new HttpError(404, 'NOT_FOUND', `virtual account ${chosenVa} not found`);
      sa = owner;
      va = findVa(owner, chosenVa);
    }
    const received = acknowledge('file', sa, va, report.manifest.reportId, report.measurements, report.digest);
    const devices = new Map<string, DeviceAck>();
    for (const m of report.measurements) {
      const device = devices.get(m.deviceUuid) ?? { deviceUuid: m.deviceUuid, hostname: m.hostname, measurements: 0, status: 'ACCEPTED' as const };
      device.measurements += 1;
      devices.set(m.deviceUuid, device);
    }
    const ack = await buildAck(
      {
        ackId: received.ackId,
        reportId: report.manifest.reportId,
        reportDigest: report.digest,
        acknowledgedAt: received.acknowledgedAt,
        smartAccount: { accountId: sa.accountId, name: sa.name },
        virtualAccount: { id: va.id, name: va.name },
        measurements: report.measurements.length,
        devices: [...devices.values()],
      },
      keys.privateKey,
    );
    acksByDigest.set(report.digest, ack);
    sendFile(res, ack, `ack-${report.manifest.reportId}.tar.gz`);
  }

  async function admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/__admin/state' && method === 'GET') return sendJson(res, 200, { accounts: state.accounts, summarySerials: state.summarySerials });
    if (path === '/__admin/state' && method === 'PUT') {
      const body = await readJson(req);
      const parsed = parseAccounts((body as { accounts?: unknown } | null)?.accounts);
      if (!parsed.ok) throw new HttpError(400, 'INVALID_STATE', parsed.message);
      state.accounts = parsed.accounts;
      return sendJson(res, 200, { accounts: state.accounts, summarySerials: state.summarySerials });
    }
    if (path === '/__admin/fault' && method === 'POST') {
      const parsed = faultSchema.safeParse(await readJson(req));
      if (!parsed.success) throw new HttpError(400, 'INVALID_FAULT', zodMessage(parsed.error));
      setFault(parsed.data);
      return sendJson(res, 200, { fault: state.fault });
    }
    if (path === '/__admin/fault' && method === 'DELETE') {
      setFault(null);
      return sendJson(res, 200, { fault: null });
    }
    if (path === '/__admin/usage' && method === 'GET') return sendJson(res, 200, { reports: state.usage });
    if (path === '/__admin/signing-key' && method === 'GET') return sendJson(res, 200, { keyId, algorithm: 'Ed25519', publicKeyPem });
    throw new HttpError(404, 'NOT_FOUND', `no admin endpoint ${method} ${path}`);
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/oauth/token' && method === 'POST') return issueToken(req, res);
    if (!path.startsWith('/api/')) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${method} ${path}`);
    requireToken(req);
    if (path === '/api/v1/usage-files' && method === 'POST') return importUsageFile(req, res, query);
    let segments: string[];
    try {
      segments = path.split('/').slice(1).map((s) => decodeURIComponent(s));
    } catch {
      throw new HttpError(400, 'BAD_PATH', 'the path is not validly percent-encoded');
    }
    // ['api', 'v1', 'smart-accounts', accountId, ...rest]
    if (segments.length < 4 || segments[0] !== 'api' || segments[1] !== 'v1' || segments[2] !== 'smart-accounts') {
      throw new HttpError(404, 'NOT_FOUND', `no endpoint ${method} ${path}`);
    }
    const [accountId, ...rest] = segments.slice(3);
    if (rest.length === 0 && method === 'GET') {
      const sa = findAccount(accountId);
      return sendJson(res, 200, {
        accountId: sa.accountId,
        domain: sa.domain,
        name: sa.name,
        virtualAccounts: sa.virtualAccounts.map((v) => ({ id: v.id, name: v.name })),
      });
    }
    if (rest.length === 3 && rest[0] === 'virtual-accounts' && rest[2] === 'licenses' && method === 'GET') {
      const va = findVa(findAccount(accountId), rest[1]);
      return sendJson(res, 200, { virtualAccountId: va.id, licenses: va.licenses });
    }
    if (rest.length === 1 && rest[0] === 'usage' && method === 'POST') return receiveUsage(req, res, accountId);
    if (rest.length === 1 && rest[0] === 'license-summary' && method === 'GET') return exportSummary(res, accountId);
    throw new HttpError(404, 'NOT_FOUND', `no endpoint ${method} ${path}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path.startsWith('/__admin/')) {
      await admin(req, res, path);
      return;
    }
    const fault = takeFault();
    if (fault?.kind === 'http500') {
      req.resume();
      record({ method, path, status: 500, fault: fault.kind });
      sendJson(res, 500, { error: 'INTERNAL', message: 'simulated server error' });
      return;
    }
    if (fault?.kind === 'timeout') {
      // Never answer; the connection is dropped when the client gives up or the simulator closes.
      req.resume();
      record({ method, path, status: 0, fault: fault.kind });
      heldResponses.add(res);
      res.on('close', () => heldResponses.delete(res));
      return;
    }
    if (fault?.kind === 'slow') {
      // Cut short by close(): a closing simulator leaves no timer behind (the connection is gone anyway).
      const waited = await sleep(fault.delayMs ?? 1000, true, { signal: closing.signal }).catch(() => false);
      if (!waited) return;
    }
    res.on('finish', () => record({ method, path, status: res.statusCode, ...(fault ? { fault: fault.kind } : {}) }));
    await api(req, res, path, url.searchParams);
  }

  const tls = await tlsOptions(options);
  /** Aborted by close(): ends the waits of the 'slow' fault. */
  const closing = new AbortController();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { error: err.code, message: err.message });
        return;
      }
      log.error({ err, method: req.method, url: req.url }, 'simulator request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'internal error' });
      else res.destroy();
    });
  };
  const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem }, onRequest) : http.createServer(onRequest);
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
  log.info({ url, keyId }, 'ssm simulator listening');

  return {
    url,
    port: address.port,
    caPem: tls?.caPem,
    clientId,
    clientSecret,
    publicKeyPem,
    keyId,
    state,
    setFault,
    setAccounts,
    revokeTokens: () => tokens.clear(),
    close: async () => {
      closing.abort();
      for (const res of heldResponses) res.destroy();
      heldResponses.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The certificate and key to serve HTTPS with: the given ones, or made at start under a new private CA. */
async function tlsOptions(options: SimulatorOptions): Promise<{ certPem: string; keyPem: string; caPem?: string } | undefined> {
  if (!options.tls) return undefined;
  const { certPem, keyPem, names } = options.tls;
  if (certPem !== undefined || keyPem !== undefined) {
    if (certPem === undefined || keyPem === undefined) throw new Error('simulator tls: give both certPem and keyPem, or neither');
    return { certPem, keyPem };
  }
  const host = options.host ?? '127.0.0.1';
  const wildcard = host === '0.0.0.0' || host === '::';
  const defaults = ['localhost', '127.0.0.1', '::1', ...(wildcard ? [] : [host])];
  return makeServerPki([...new Set(names ?? defaults)]);
}
