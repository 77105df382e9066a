/**
 * HTTP client for a license server: the vendor's cloud SSM (online mode) or an SSM On-Prem server
 * (on-prem mode); the same API either way, and the simulator in src/ssm-simulator/ speaks it too.
 *
 * - OAuth2 client credentials (`POST /oauth/token`); the token is cached until shortly before it expires,
 *   and fetched again once if the server rejects it (server restarted, token revoked).
 * - Every attempt has a timeout (`timeoutMs`, covering the response body too). Network errors,
 *   timeouts, 5xx and 429 are retried `retries` times with exponential backoff (`backoffMs`, x2 each
 *   time, with jitter); other 4xx are final at once: retrying cannot fix them.
 * - With `proxyUrl` (http://[user:pass@]host:port) all traffic, token requests included, goes through
 *   that HTTP proxy (CONNECT tunnel, also for http:// servers). A proxy that refuses the credentials
 *   (407) fails at once, naming the proxy.
 * - HTTPS is verified against node's roots plus `extraCa` (SSM_CA_CERT), directly and inside the proxy's
 *   tunnel; there is no way to turn verification off. A certificate that does not verify fails at once
 *   with a message naming the server's host and the reason.
 * - Failures are `SsmError`s whose message names the method and URL path, never the client secret,
 *   the token or proxy credentials.
 *
 * Sending usage is safe to retry: the server de-duplicates by `reportId`.
 *
 *   const client = new SsmClient({ baseUrl, clientId, clientSecret, proxyUrl });
 *   const sa = await client.getSmartAccount('SA-DEMO');
 *   const lines = await client.listLicenses('SA-DEMO', sa.virtualAccounts[0].id);
 *   await client.close();
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, fetch, ProxyAgent } from 'undici';
import { z } from 'zod';
import type { Logger } from '../logger';
import { certificateProblem, trustedRoots } from './tls-trust';
import {
  type LicenseLine,
  LicenseLineSchema,
  type SmartAccountInfo,
  SmartAccountInfoSchema,
  type UsageMeasurement,
  type VirtualAccountRef,
  VirtualAccountRefSchema,
} from './files/formats';

export type SsmErrorCode =
  /** The credentials were refused (token endpoint 400/401), or the server answered 401/403. */
  | 'UNAUTHORIZED'
  /** 404: unknown smart account or virtual account. */
  | 'NOT_FOUND'
  /** Network error, 5xx or 429 after every retry; or the proxy refused its credentials or the tunnel. */
  | 'UNAVAILABLE'
  /** The server's certificate does not verify (untrusted chain, expired, or not for this host). */
  | 'UNTRUSTED_CERTIFICATE'
  /** No complete answer within timeoutMs, on every attempt. */
  | 'TIMEOUT'
  /** An answer this client cannot use: another 4xx, malformed JSON, fields that fail validation. */
  | 'BAD_RESPONSE';

export class SsmError extends Error {
  override name = 'SsmError';
  constructor(
    readonly code: SsmErrorCode,
    message: string,
    /** HTTP status of the last answer, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface SsmClientOptions {
  /** e.g. https://ssm.example.com or http://127.0.0.1:8443; may carry a path prefix. No credentials in it. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** http://[user:pass@]proxy:port; all license-server traffic goes through it when set. */
  proxyUrl?: string;
  /** PEM certificates trusted for HTTPS besides node's roots (SSM_CA_CERT), directly and through the proxy. */
  extraCa?: readonly string[];
  /** Per attempt, response body included. Default 10000. */
  timeoutMs?: number;
  /** Retries after the first attempt on transient failures. Default 3. */
  retries?: number;
  /** First backoff delay; doubles on every retry. Default 200. */
  backoffMs?: number;
  /** Largest response body accepted. Default 64 MiB. */
  maxResponseBytes?: number;
  logger?: Logger;
}

export interface SsmSmartAccount extends SmartAccountInfo {
  virtualAccounts: VirtualAccountRef[];
}

export interface UsageSubmission {
  /** UUID chosen by the product; sending the same report again returns the same acknowledgement. */
  reportId: string;
  virtualAccountId: string;
  measurements: UsageMeasurement[];
}

export interface UsageReceipt {
  ackId: string;
  reportId: string;
  acknowledgedAt: string;
}

const tokenSchema = z.object({
  access_token: z.string().min(1).max(4096),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().int().positive().optional(),
});

const smartAccountSchema = z.object({
  accountId: z.string(),
  domain: z.string(),
  name: z.string(),
  virtualAccounts: z.array(VirtualAccountRefSchema).max(10_000),
});

const licensesSchema = z.object({ licenses: z.array(LicenseLineSchema) });

const receiptSchema = z.object({
  ackId: z.string().min(1).max(128),
  reportId: z.string().min(1).max(128),
  acknowledgedAt: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'must be a timestamp'),
});

/** Refresh the token this long before the server says it expires. */
const TOKEN_EXPIRY_MARGIN_MS = 30_000;
const DEFAULT_TOKEN_TTL_S = 300;

interface CachedToken {
  value: string;
  expiresAt: number;
}

interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path below baseUrl, starting with `/`; already URI-encoded. */
  path: string;
  query?: Record<string, string>;
  body?: { contentType: string; data: string | Buffer };
  accept: string;
  /** Adds the bearer token (every /api call). */
  auth: boolean;
}

interface RawResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

/** An attempt that failed; `retryable` decides whether another one is made. */
class AttemptError extends Error {
  constructor(
    readonly code: SsmErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** The most specific message of a fetch failure (undici wraps the socket error in `cause`), duck-typed across realms. */
function causeMessage(err: unknown): string {
  const describe = (e: unknown): string | undefined => {
    if (typeof e !== 'object' || e === null) return undefined;
    const { message, code } = e as { message?: unknown; code?: unknown };
    if (typeof message !== 'string') return undefined;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  };
  // The root cause is the informative one ("fetch failed" -> "Request was cancelled." -> "Proxy response (407)...").
  let deepest: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    const cause = typeof deepest === 'object' && deepest !== null ? (deepest as { cause?: unknown }).cause : undefined;
    if (describe(cause) === undefined) break;
    deepest = cause;
  }
  return describe(deepest) ?? String(err);
}

export class SsmClient {
  private readonly baseUrl: URL;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxResponseBytes: number;
  private readonly dispatcher: Dispatcher;
  private readonly logger?: Logger;
  /** The proxy, for error messages: `host:port` and whether credentials were given (never the credentials). */
  private readonly proxy?: { host: string; withCredentials: boolean };
  private readonly extraCaConfigured: boolean;
  private token: CachedToken | null = null;
  private tokenRequest: Promise<string> | null = null;

  constructor(options: SsmClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new Error(`SsmClient: baseUrl ${JSON.stringify(redactUrl(options.baseUrl))} is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('SsmClient: baseUrl must be http(s)');
    if (base.username || base.password) throw new Error('SsmClient: baseUrl must not contain credentials; use clientId/clientSecret');
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.baseUrl = base;
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.logger = options.logger;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new Error('SsmClient: timeoutMs must be positive');
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new Error('SsmClient: retries must be a non-negative integer');
    if (!Number.isFinite(this.backoffMs) || this.backoffMs < 0) throw new Error('SsmClient: backoffMs must not be negative');
    this.extraCaConfigured = (options.extraCa?.length ?? 0) > 0;
    // Giving `ca` replaces node's roots; without extra certificates the defaults stay untouched.
    const tlsTrust = this.extraCaConfigured ? { ca: trustedRoots(options.extraCa ?? []) } : {};
    if (options.proxyUrl !== undefined && options.proxyUrl !== '') {
      let proxy: URL;
      try {
        proxy = new URL(options.proxyUrl);
      } catch {
        throw new Error(`SsmClient: proxyUrl ${JSON.stringify(redactUrl(options.proxyUrl))} is not a URL`);
      }
      if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw new Error('SsmClient: proxyUrl must be http(s)');
      this.proxy = { host: proxy.host, withCredentials: proxy.username !== '' };
      // Credentials in the URL become a Proxy-Authorization: Basic header (undici does that from the URI).
      // requestTls: the license server's TLS inside the CONNECT tunnel; proxyTls: an https:// proxy's own.
      this.dispatcher = new ProxyAgent({
        uri: proxy.toString(),
        connect: { timeout: this.timeoutMs },
        requestTls: { timeout: this.timeoutMs, ...tlsTrust },
        proxyTls: { timeout: this.timeoutMs, ...tlsTrust },
      });
    } else {
      this.dispatcher = new Agent({ connect: { timeout: this.timeoutMs, ...tlsTrust } });
    }
  }

  /** The smart account and its virtual accounts. NOT_FOUND for an unknown account id. */
  async getSmartAccount(accountId: string): Promise<SsmSmartAccount> {
    const path = `/api/v1/smart-accounts/${encodeURIComponent(accountId)}`;
    const json = await this.requestJson({ method: 'GET', path, accept: 'application/json', auth: true });
    const sa = this.check(smartAccountSchema, json, 'GET', path);
    const info = this.check(SmartAccountInfoSchema, { accountId: sa.accountId, domain: sa.domain, name: sa.name }, 'GET', path);
    if (info.accountId !== accountId) throw new SsmError('BAD_RESPONSE', `GET ${path}: answered for account ${info.accountId}`);
    return { ...info, virtualAccounts: sa.virtualAccounts };
  }

  /** Every license line of a virtual account. NOT_FOUND for an unknown account or VA. */
  async listLicenses(accountId: string, virtualAccountId: string): Promise<LicenseLine[]> {
    const path = `/api/v1/smart-accounts/${encodeURIComponent(accountId)}/virtual-accounts/${encodeURIComponent(virtualAccountId)}/licenses`;
    const json = await this.requestJson({ method: 'GET', path, accept: 'application/json', auth: true });
    const { licenses } = this.check(licensesSchema, json, 'GET', path);
    const ids = new Set<string>();
    for (const line of licenses) {
      if (ids.has(line.lineId)) throw new SsmError('BAD_RESPONSE', `GET ${path}: license line ${line.lineId} appears twice`);
      ids.add(line.lineId);
    }
    return licenses;
  }

  /** Sends usage measurements; returns the server's acknowledgement. Safe to repeat with the same reportId. */
  async sendUsage(accountId: string, report: UsageSubmission): Promise<UsageReceipt> {
    const path = `/api/v1/smart-accounts/${encodeURIComponent(accountId)}/usage`;
    const json = await this.requestJson({
      method: 'POST',
      path,
      accept: 'application/json',
      auth: true,
      body: { contentType: 'application/json', data: JSON.stringify(report) },
    });
    const receipt = this.check(receiptSchema, json, 'POST', path);
    if (receipt.reportId !== report.reportId) {
      throw new SsmError('BAD_RESPONSE', `POST ${path}: acknowledged report ${receipt.reportId}, not ${report.reportId}`);
    }
    return receipt;
  }

  /**
   * Offline export: the signed license summary file of a smart account, as bytes (verify it with
   * parseLicenseSummary before use). For tooling and tests: the product receives these files by upload.
   */
  async downloadLicenseSummary(accountId: string): Promise<Buffer> {
    const path = `/api/v1/smart-accounts/${encodeURIComponent(accountId)}/license-summary`;
    return (await this.request({ method: 'GET', path, accept: 'application/gzip', auth: true })).body;
  }

  /**
   * Offline import: uploads a usage report file and returns the signed ACK file. A report without a
   * smart account (trial) needs `virtualAccountId`, the VA to import it into. For tooling and tests.
   */
  async uploadUsageFile(file: Buffer, virtualAccountId?: string): Promise<Buffer> {
    const path = '/api/v1/usage-files';
    const res = await this.request({
      method: 'POST',
      path,
      query: virtualAccountId === undefined ? undefined : { virtualAccountId },
      accept: 'application/gzip',
      auth: true,
      body: { contentType: 'application/gzip', data: file },
    });
    return res.body;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private check<T>(schema: z.ZodType<T>, value: unknown, method: string, path: string): T {
    const result = schema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue.path.map(String).join('.');
      throw new SsmError('BAD_RESPONSE', `${method} ${path}: unexpected answer (${where ? `${where}: ` : ''}${issue.message})`);
    }
    return result.data;
  }

  private async requestJson(spec: RequestSpec): Promise<unknown> {
    const res = await this.request(spec);
    if (!/^application\/json\b/i.test(res.contentType)) {
      throw new SsmError('BAD_RESPONSE', `${spec.method} ${spec.path}: expected JSON, got ${res.contentType || 'no content type'}`, res.status);
    }
    try {
      return JSON.parse(res.body.toString('utf8')) as unknown;
    } catch {
      throw new SsmError('BAD_RESPONSE', `${spec.method} ${spec.path}: answer is not valid JSON`, res.status);
    }
  }

  /** One logical request: token, attempts with backoff, one token refresh on 401. */
  private async request(spec: RequestSpec): Promise<RawResponse> {
    let refreshedToken = false;
    for (;;) {
      // Token failures (refused credentials included) are final here: they are not retried below.
      const token = spec.auth ? await this.getToken() : undefined;
      try {
        return await this.withRetries(spec, token);
      } catch (err) {
        // A cached token the server no longer knows: fetch a new one, once.
        if (err instanceof SsmError && err.status === 401 && token !== undefined && !refreshedToken) {
          refreshedToken = true;
          this.token = null;
          continue;
        }
        throw err;
      }
    }
  }

  private async getToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    // Concurrent callers share one token request.
    this.tokenRequest ??= this.fetchToken().finally(() => {
      this.tokenRequest = null;
    });
    return this.tokenRequest;
  }

  private async fetchToken(): Promise<string> {
    const path = '/oauth/token';
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret });
    let res: RawResponse;
    try {
      res = await this.withRetries({
        method: 'POST',
        path,
        accept: 'application/json',
        auth: false,
        body: { contentType: 'application/x-www-form-urlencoded', data: form.toString() },
      });
    } catch (err) {
      // RFC 6749: invalid_client is 401, but many servers answer 400 (invalid_client / unauthorized_client).
      if (err instanceof SsmError && (err.status === 400 || err.status === 401 || err.status === 403)) {
        throw new SsmError('UNAUTHORIZED', `POST ${path}: the license server refused client ${JSON.stringify(this.clientId)} (HTTP ${err.status})`, err.status);
      }
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8')) as unknown;
    } catch {
      throw new SsmError('BAD_RESPONSE', `POST ${path}: answer is not valid JSON`, res.status);
    }
    const token = this.check(tokenSchema, json, 'POST', path);
    const ttlMs = (token.expires_in ?? DEFAULT_TOKEN_TTL_S) * 1000;
    this.token = { value: token.access_token, expiresAt: Date.now() + Math.max(ttlMs - TOKEN_EXPIRY_MARGIN_MS, ttlMs / 2) };
    return token.access_token;
  }

  private async withRetries(spec: RequestSpec, token?: string): Promise<RawResponse> {
    let last: AttemptError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        const base = this.backoffMs * 2 ** (attempt - 1);
        const delayMs = Math.round(base / 2 + (Math.random() * base) / 2);
        this.logger?.warn({ method: spec.method, path: spec.path, attempt, delayMs, code: last?.code, status: last?.status }, 'license server request failed; retrying');
        await sleep(delayMs);
      }
      try {
        return await this.attempt(spec, token);
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err;
        last = err;
        if (!err.retryable) break;
      }
    }
    const final = last as AttemptError;
    const tries = this.retries + 1;
    const suffix = final.retryable && tries > 1 ? ` (after ${tries} attempts)` : '';
    throw new SsmError(final.code, `${final.message}${suffix}`, final.status);
  }

  private async attempt(spec: RequestSpec, token?: string): Promise<RawResponse> {
    const url = new URL(spec.path.replace(/^\//, ''), this.baseUrl);
    for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.set(k, v);
    const what = `${spec.method} ${spec.path}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const headers: Record<string, string> = { accept: spec.accept };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (spec.body) headers['content-type'] = spec.body.contentType;
    try {
      const res = await fetch(url, {
        method: spec.method,
        headers,
        body: spec.body?.data,
        dispatcher: this.dispatcher,
        signal: controller.signal,
        redirect: 'error',
      });
      const body = await this.readBody(res.body, what);
      const contentType = res.headers.get('content-type') ?? '';
      if (res.status >= 200 && res.status < 300) return { status: res.status, contentType, body };
      const detail = errorDetail(body, contentType);
      const message = `${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
      if (res.status === 401 || res.status === 403) throw new AttemptError('UNAUTHORIZED', message, false, res.status);
      if (res.status === 404) throw new AttemptError('NOT_FOUND', message, false, res.status);
      if (res.status >= 500 || res.status === 429) throw new AttemptError('UNAVAILABLE', message, true, res.status);
      throw new AttemptError('BAD_RESPONSE', message, false, res.status);
    } catch (err) {
      if (err instanceof AttemptError || err instanceof SsmError) throw err;
      if (controller.signal.aborted) throw new AttemptError('TIMEOUT', `${what}: no answer within ${this.timeoutMs} ms`, true);
      throw this.connectionFailure(what, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request that got no HTTP answer from the license server: a certificate, the proxy, or the network. */
  private connectionFailure(what: string, err: unknown): AttemptError {
    const via = this.proxy === undefined ? '' : ` (through proxy ${this.proxy.host})`;
    const certificate = certificateProblem(err);
    if (certificate) {
      const trust = this.extraCaConfigured ? 'the system roots and SSM_CA_CERT' : 'the system roots (SSM_CA_CERT is not set)';
      const problem =
        certificate.kind === 'untrusted'
          ? `presented a certificate that does not verify against ${trust}`
          : `presented a certificate that is not valid for ${this.baseUrl.hostname}`;
      // Retrying cannot make a certificate trusted.
      return new AttemptError('UNTRUSTED_CERTIFICATE', `${what}: the license server ${this.serverHost()} ${problem}: ${certificate.reason}${via}`, false);
    }
    const message = causeMessage(err);
    const proxyStatus = this.proxy === undefined ? undefined : /Proxy response \((\d{3})\)|\((407)\)/.exec(message);
    if (this.proxy !== undefined && proxyStatus) {
      const status = Number(proxyStatus[1] ?? proxyStatus[2]);
      // 407 is the standard answer; some proxies (tinyproxy 1.11) answer a CONNECT without valid credentials with 401.
      if (status === 407 || status === 401) {
        const refusal = this.proxy.withCredentials
          ? `refused the credentials (${status})`
          : `asks for credentials (${status}): set proxyUsername and proxyPassword`;
        return new AttemptError('UNAVAILABLE', `${what}: the proxy ${this.proxy.host} ${refusal}`, false);
      }
      // No `status` on these errors: it is the proxy's, not the license server's (a 403 is not a refused client).
      return new AttemptError('UNAVAILABLE', `${what}: the proxy ${this.proxy.host} refused the tunnel to ${this.serverHost()} (HTTP ${status})`, status >= 500);
    }
    return new AttemptError('UNAVAILABLE', `${what}: ${message}${via}`, true);
  }

  /** `host:port` of the license server, the port spelled out even when it is the default. */
  private serverHost(): string {
    return `${this.baseUrl.hostname}:${this.baseUrl.port || (this.baseUrl.protocol === 'https:' ? '443' : '80')}`;
  }

  private async readBody(stream: AsyncIterable<Uint8Array> | null, what: string): Promise<Buffer> {
    if (stream === null) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += chunk.byteLength;
      if (size > this.maxResponseBytes) {
        throw new AttemptError('BAD_RESPONSE', `${what}: answer is larger than ${this.maxResponseBytes} bytes`, false);
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return Buffer.concat(chunks, size);
  }
}

/** The server's own error text ({error, message} JSON), cut short; never echoes request data. */
function errorDetail(body: Buffer, contentType: string): string {
  if (!/^application\/json\b/i.test(contentType) || body.length > 16_384) return '';
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return '';
    const { error, message } = parsed as { error?: unknown; message?: unknown };
    const parts = [typeof error === 'string' ? error : '', typeof message === 'string' ? message : ''].filter(Boolean);
    return parts.join(': ').slice(0, 300);
  } catch {
    return '';
  }
}
