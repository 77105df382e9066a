import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import bodyParser from 'body-parser';
import cors from 'cors';
import Negotiator from 'negotiator';
import { GraphQLError } from 'graphql';
import pinoHttp from 'pino-http';
import type { Viewer } from '../auth/viewer';
import type { RequestContext } from '../common/context';
import { findNul } from '../common/nul';
import type { CsvFile } from '../modules/devices/device.export';
import { usageReportFile } from '../modules/sync/offline.service';
import { csvLine, USAGE_CSV_HEADER, usageCsvLine } from '../modules/usage/usage-csv';
import { UsageGranularity } from '../modules/usage/usage.enums';
import { streamLicenseUsage } from '../modules/usage/usage.service';
import { AppError, badInput } from '../common/errors';
import { GraphQLDateTime } from 'graphql-scalars';
import type { Logger } from '../logger';
import type { BodyBudget } from './body-budget';
import type { Drain } from './drain';
import { METRICS_PATH } from './metrics';
import { BodyError, readMultipartOperations } from './multipart';

export const GRAPHQL_PATH = '/graphql';
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** Seconds a client is asked to wait when the body budget is spent: an upload in flight takes about that long. */
const BUSY_RETRY_AFTER_SEC = 2;

type Req = IncomingMessage & { id?: unknown; log?: Logger; body?: unknown };

export interface HttpDeps {
  apollo: ApolloServer<RequestContext>;
  log: Logger;
  limits: {
    /** GraphQL JSON bodies. */
    maxBodyBytes: number;
    /** Multipart uploads: one file, the GraphQL JSON and the framing. */
    maxUploadBodyBytes: number;
    maxFileBytes: number;
  };
  bodyBudget: BodyBudget;
  isReady: () => Promise<boolean>;
  /** Refuses new work while the server shuts down (server/drain.ts). */
  drain: Drain;
  /**
   * The viewer of a request, from its headers alone: verifies the bearer token and the rate limits.
   * Throws a coded GraphQLError (UNAUTHENTICATED 401, RATE_LIMITED 429 with Retry-After).
   */
  authenticate: (req: IncomingMessage) => Promise<Viewer>;
  /** The request context for a viewer `authenticate` returned (the token is not verified again). */
  contextFor: (req: Req, viewer: Viewer) => RequestContext;
  /** `--expose-gc` only (src/server/debug-hooks.ts): answers its own routes and returns true. */
  debugRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** GET /metrics on this port (server/metrics.ts); absent: 404 like any unknown route. */
  metricsRoute?: (req: IncomingMessage, res: ServerResponse) => void;
  /** GET /files/<name>.csv: a file made for the viewer from the query parameters, streamed. */
  csvFiles?: Record<string, (ctx: RequestContext, query: URLSearchParams) => Promise<CsvFile>>;
  /** GraphiQL (server/graphiql.ts) when GRAPHIQL is on: answers its own routes and returns true. */
  graphiql?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** The console (server/console.ts): its page, files, runtime config and dev sign-in; returns true when it answered. */
  console?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
}

/**
 * The HTTP layer: plain node:http (Apollo's own standalone path, measured faster than express5 here)
 * serving /graphql, /healthz, /readyz and, when configured, /metrics and /graphiql. CORS uses the library Apollo's standalone server uses;
 * errors before GraphQL execution are answered in GraphQL's error shape.
 *
 * A /graphql request is admitted from its headers before a byte of its body is read: token and rate
 * limits first, then room for its body in the in-flight byte budget. Only then is the body read:
 * JSON up to MAX_BODY_BYTES, or a multipart upload carrying one file of at most MAX_FILE_BYTES.
 */
export function createHttpServer(deps: HttpDeps): http.Server {
  const logRequests = pinoHttp({
    logger: deps.log,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => {
      if (res.statusCode === 503 && !err) return 'warn'; // load shed on purpose (SERVER_BUSY, not ready), not a failure
      return err || res.statusCode >= 500 ? 'error' : 'debug';
    },
    serializers: { req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }) },
  });
  const corsHandler = cors();
  const jsonBody = bodyParser.json({ limit: deps.limits.maxBodyBytes, strict: true });

  return http.createServer((req: Req, res) => {
    logRequests(req, res);
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (deps.debugRoutes?.(req, res, path)) return;
    if (path === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
      if (deps.drain.active) {
        sendJson(res, 503, { status: 'shutting down' });
        return;
      }
      deps.isReady().then(
        (ready) => sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' }),
        () => sendJson(res, 503, { status: 'not ready' }),
      );
      return;
    }
    // The GraphiQL page and its files (a browser's GET /graphql included); API calls go on below.
    if (deps.graphiql?.(req, res, path)) return;
    // The console's page (a browser's GET outside the API's paths) and files.
    if (deps.console?.(req, res, path)) return;
    // Work-carrying routes are admitted, or refused with 503 while the server shuts down.
    if ((path === GRAPHQL_PATH || path.startsWith('/files/')) && !deps.drain.admit(req, res)) return;
    const download = /^\/files\/usage-reports\/([A-Za-z0-9_-]{1,200})$/.exec(path);
    if (download && (req.method === 'GET' || req.method === 'HEAD')) {
      serveUsageReport(deps, req, res, download[1]).catch((e: unknown) => {
        req.log?.error({ err: e }, 'file download failed');
        if (!res.headersSent) sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
      });
      return;
    }
    const csv = /^\/files\/([a-z-]{1,60})\.csv$/.exec(path);
    const makeCsv = csv && Object.hasOwn(deps.csvFiles ?? {}, csv[1]) ? deps.csvFiles?.[csv[1]] : undefined;
    if (makeCsv && req.method === 'GET') {
      serveCsv(deps, req, res, url, makeCsv).catch((e: unknown) => {
        req.log?.error({ err: e }, 'csv download failed');
        if (!res.headersSent) sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
        else res.destroy();
      });
      return;
    }
    if (path === LICENSE_USAGE_CSV_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      serveLicenseUsageCsv(deps, req, res, url).catch((e: unknown) => {
        req.log?.error({ err: e }, 'license usage CSV failed');
        if (!res.headersSent) sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
        else res.destroy();
      });
      return;
    }
    if (path === METRICS_PATH && deps.metricsRoute) {
      deps.metricsRoute(req, res);
      return;
    }
    if (path !== GRAPHQL_PATH) {
      sendJson(res, 404, { error: `no route for ${req.method} ${path}; GraphQL is served at ${GRAPHQL_PATH}` });
      return;
    }
    // CORS answers a preflight (OPTIONS) itself, without a token; every other method goes on.
    corsHandler(req, res, () => {
      serveGraphQL(deps, jsonBody, req, res).catch((e: unknown) => {
        req.log?.error({ err: e }, 'graphql request failed');
        if (!res.headersSent) sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
        else res.end();
      });
    });
  });
}

type JsonBodyParser = ReturnType<typeof bodyParser.json>;

async function serveGraphQL(deps: HttpDeps, jsonBody: JsonBodyParser, req: Req, res: ServerResponse): Promise<void> {
  // 1. From the headers alone. Whatever is refused here never has its body buffered: node:http reads
  //    and drops the rest of an unread body after the answer (or closes a connection not kept alive).
  const viewer = await authenticated(deps, req, res);
  if (!viewer) return;
  const body = describeBody(req, deps.limits);
  if (body.declared !== undefined && body.declared > body.limit) {
    sendBodyError(res, tooLarge(body.multipart, body.declared, body.limit, deps.limits.maxFileBytes));
    return;
  }
  if (body.present) {
    const admission = deps.bodyBudget.reserve(viewer.subject, body.declared ?? body.limit);
    if (!admission.admitted) {
      sendBusy(res, admission.refusedBy);
      return;
    }
    // 'close' follows the end of the response and any end of the connection (client abort included).
    res.once('close', admission.release);
  }

  // 2. The body, within its limits.
  let parsed: unknown;
  try {
    parsed = body.multipart
      ? await readMultipartOperations(req, {
          maxFieldBytes: deps.limits.maxBodyBytes,
          maxFileBytes: deps.limits.maxFileBytes,
          maxBodyBytes: deps.limits.maxUploadBodyBytes,
        })
      : await readJsonBody(jsonBody, req, res, deps.limits.maxBodyBytes);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    if (!res.destroyed) sendBodyError(res, err);
    return;
  }
  const nulAt = findNul(parsed, 'request');
  if (nulAt) {
    sendGraphQLError(res, 400, `${nulAt} contains a NUL character (U+0000), which is not allowed`, 'BAD_USER_INPUT');
    return;
  }
  await executeGraphQL(deps, req, res, viewer, parsed, body.multipart);
}

interface BodyShape {
  present: boolean;
  multipart: boolean;
  /** Content-Length, when given. */
  declared?: number;
  /** The route's maximum for this kind of body. */
  limit: number;
}

function describeBody(req: IncomingMessage, limits: HttpDeps['limits']): BodyShape {
  const multipart = req.method === 'POST' && /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
  const length = req.headers['content-length'];
  const declared = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
  // node:http frames a request body by Content-Length or Transfer-Encoding; with neither there is none.
  const present = declared !== undefined ? declared > 0 : req.headers['transfer-encoding'] !== undefined;
  return { present, multipart, declared, limit: multipart ? limits.maxUploadBodyBytes : limits.maxBodyBytes };
}

function tooLarge(multipart: boolean, declared: number, limit: number, maxFileBytes: number): BodyError {
  if (multipart) {
    return new BodyError(
      413,
      `the upload is ${declared} bytes; it may carry one file of at most 10 MB (${maxFileBytes} bytes), at most ${limit} bytes in all`,
      'BAD_USER_INPUT',
      { fileError: 'TOO_LARGE', argumentName: 'file' },
    );
  }
  return new BodyError(413, jsonTooLargeMessage(limit, declared));
}

function jsonTooLargeMessage(limit: number, declared?: number): string {
  const size = declared === undefined ? `larger than ${limit} bytes` : `${declared} bytes, more than ${limit} (MAX_BODY_BYTES)`;
  return `request body is ${size}; send a file as a multipart upload (UploadFileInput.file) rather than in contentBase64`;
}

function readJsonBody(parse: JsonBodyParser, req: Req, res: ServerResponse, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    parse(req, res, (err?: { status?: number; type?: string }) => {
      if (err) reject(new BodyError(err.status ?? 400, bodyErrorMessage(err, limit)));
      else resolve(req.body);
    });
  });
}

async function executeGraphQL(deps: HttpDeps, req: Req, res: ServerResponse, viewer: Viewer, body: unknown, multipart: boolean): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  // The multipart form was parsed here into the JSON operation Apollo expects, so Apollo is told it
  // is JSON. That bypasses Apollo's CSRF prevention, which refuses "simple" requests such as a form
  // another site could make a browser submit; it is safe because this request was admitted only with
  // a verified bearer token in its Authorization header, which a cross-site form cannot send (and a
  // script on another origin can set only after a CORS preflight, and only if it holds the token).
  if (multipart) headers.set('content-type', 'application/json');
  const queryIndex = (req.url ?? '').indexOf('?');
  const response = await deps.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: queryIndex >= 0 ? (req.url ?? '').slice(queryIndex) : '',
      body,
    },
    context: async () => deps.contextFor(req, viewer),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    // Encoded once, with its length: one write of headers and body, no chunked framing.
    const encoded = Buffer.from(response.body.string, 'utf8');
    res.setHeader('content-length', encoded.length);
    res.end(encoded);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** GET /files/usage-reports/:id: the same bearer token and tenant rules as the API; never a path from input. */
async function serveUsageReport(deps: HttpDeps, req: Req, res: ServerResponse, id: string): Promise<void> {
  const viewer = await authenticated(deps, req, res);
  if (!viewer) return;
  const ctx = deps.contextFor(req, viewer);
  const found = await usageReportFile(ctx, id);
  if (!found) {
    sendGraphQLError(res, 404, `usage report ${id} not found`, 'NOT_FOUND');
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', 'application/gzip');
  res.setHeader('content-length', String(found.size));
  res.setHeader('content-disposition', `attachment; filename="usage-report-${found.id}.tar.gz"`);
  res.setHeader('x-content-type-options', 'nosniff');
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // Chunk by chunk, each read when the client has taken the previous one. Headers are sent by then, so
  // a failure half-way can only cut the response short (the client sees fewer bytes than content-length).
  try {
    for await (const chunk of found.chunks()) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
    } else {
      // Nothing sent yet: the caller answers 500, which must not carry the file's headers.
      for (const name of ['content-type', 'content-length', 'content-disposition']) res.removeHeader(name);
    }
    throw err;
  }
}

const CODE_STATUS: Record<string, number> = { BAD_USER_INPUT: 400, FORBIDDEN: 403, NOT_FOUND: 404 };

/**
 * A CSV file for the viewer. Whatever is wrong with the query (a coded error from the maker) is
 * answered before the first byte; the rows then stream as the client reads them. A failure half-way
 * ends the connection without the final chunk, so the client sees a cut-off download, never a short
 * file that looks complete.
 */
async function serveCsv(
  deps: HttpDeps,
  req: Req,
  res: ServerResponse,
  url: string,
  make: (ctx: RequestContext, query: URLSearchParams) => Promise<CsvFile>,
): Promise<void> {
  const viewer = await authenticated(deps, req, res);
  if (!viewer) return;
  const ctx = deps.contextFor(req, viewer);
  let file: CsvFile;
  try {
    file = await make(ctx, new URL(url, 'http://localhost').searchParams);
  } catch (err) {
    const code = err instanceof GraphQLError ? err.extensions.code : undefined;
    if (typeof code !== 'string' || !CODE_STATUS[code]) throw err;
    const { code: _code, ...extensions } = (err as GraphQLError).extensions;
    sendGraphQLError(res, CODE_STATUS[code], (err as GraphQLError).message, code, extensions);
    return;
  }
  const lines = file.lines[Symbol.asyncIterator]();
  // The first line (the header) comes before the status, so a failing first read is still a 500.
  const first = await lines.next();
  res.statusCode = 200;
  res.setHeader('content-type', 'text/csv; charset=utf-8; header=present');
  res.setHeader('content-disposition', `attachment; filename="${file.filename}"`);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('cache-control', 'no-store');
  let buffer = first.done ? '' : first.value;
  try {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      buffer += next.value;
      if (buffer.length < 64 * 1024) continue;
      if (res.destroyed) return;
      if (!res.write(buffer)) await drained(res);
      buffer = '';
    }
    res.end(buffer);
  } catch (err) {
    res.destroy();
    throw err;
  } finally {
    await lines.return?.();
  }
}

export const LICENSE_USAGE_CSV_PATH = '/files/license-usage.csv';

/** A query parameter that must be a date-time, read as the GraphQL DateTime scalar reads it. */
function dateParam(params: URLSearchParams, name: 'from' | 'to'): Date {
  const value = params.get(name);
  if (value === null || value === '') throw badInput(`${name} is required: a date-time such as 2026-11-01T00:00:00Z`, { argumentName: name });
  try {
    return GraphQLDateTime.parseValue(value) as Date;
  } catch {
    throw badInput(`${name} ${JSON.stringify(value)} is not a date-time such as 2026-11-01T00:00:00Z`, { argumentName: name });
  }
}

/**
 * GET /files/license-usage.csv?tenantId=&from=&to=&granularity=: licenseUsage as CSV (RFC 4180, a
 * header row, CRLF), with the same arguments, bearer token and tenant rules as the query. Streamed:
 * rows are read through a cursor and written as the client takes them. Refusals (bad arguments,
 * another tenant's id) are answered before any CSV, in GraphQL's error shape.
 */
async function serveLicenseUsageCsv(deps: HttpDeps, req: Req, res: ServerResponse, url: string): Promise<void> {
  const viewer = await authenticated(deps, req, res);
  if (!viewer) return;
  const params = new URLSearchParams(url.slice(url.indexOf('?') + 1 || url.length));
  const ctx = deps.contextFor(req, viewer);
  try {
    const granularity = params.get('granularity');
    if (granularity !== UsageGranularity.DAY && granularity !== UsageGranularity.MONTH) {
      throw badInput(`granularity must be DAY or MONTH, got ${JSON.stringify(granularity)}`, { argumentName: 'granularity' });
    }
    const args = { tenantId: params.get('tenantId') || null, from: dateParam(params, 'from'), to: dateParam(params, 'to'), granularity };
    await streamLicenseUsage(ctx, args, {
      onStart: () => {
        res.statusCode = 200;
        res.setHeader('content-type', 'text/csv; charset=utf-8; header=present');
        res.setHeader('content-disposition', `attachment; filename="license-usage-${granularity.toLowerCase()}.csv"`);
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('cache-control', 'no-store');
        if (req.method !== 'HEAD') res.write(csvLine(USAGE_CSV_HEADER));
      },
      onBatch: async (rows) => {
        if (req.method === 'HEAD' || res.destroyed) return false;
        if (!res.write(rows.map(usageCsvLine).join(''))) await drained(res);
        return !res.destroyed;
      },
    });
    res.end();
  } catch (err) {
    if (err instanceof AppError && !res.headersSent) {
      const code = String(err.extensions.code);
      const { code: _code, http: _http, ...extensions } = err.extensions;
      sendGraphQLError(res, code === 'NOT_FOUND' ? 404 : code === 'FORBIDDEN' ? 403 : 400, err.message, code, extensions);
      return;
    }
    throw err;
  }
}

/** Resolves when `res` can take more, or when the client went away (then `res.destroyed` is set). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

function bodyErrorMessage(err: { status?: number; type?: string }, limit: number): string {
  switch (err.type) {
    case 'entity.too.large':
      return jsonTooLargeMessage(limit);
    case 'entity.parse.failed':
      return 'request body is not valid JSON';
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return 'request body must be UTF-8 JSON';
    default:
      return 'request body could not be read';
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = JSON_TYPE): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.end(JSON.stringify(body));
}

/**
 * An error in GraphQL's shape, with the media type Apollo would choose for its own error answers:
 * application/graphql-response+json when the client prefers it (Apollo Client does, and reads the
 * errors of a 4xx answer only in that type), else application/json.
 */
function sendGraphQLError(res: ServerResponse, status: number, message: string, code = 'BAD_REQUEST', extensions: Record<string, unknown> = {}): void {
  const accept = res.req.headers.accept;
  const preferred = accept ? new Negotiator({ headers: { accept } }).mediaType([JSON_TYPE, GRAPHQL_RESPONSE_TYPE]) : undefined;
  sendJson(res, status, { errors: [{ message, extensions: { code, ...extensions } }] }, preferred === GRAPHQL_RESPONSE_TYPE ? GRAPHQL_RESPONSE_TYPE : JSON_TYPE);
}

function sendBodyError(res: ServerResponse, err: BodyError): void {
  sendGraphQLError(res, err.status, err.message, err.code, err.extensions);
}

/** The request's viewer, or undefined when `authenticate` refused it and the refusal was sent. */
async function authenticated(deps: HttpDeps, req: Req, res: ServerResponse): Promise<Viewer | undefined> {
  try {
    return await deps.authenticate(req);
  } catch (err) {
    sendRefusal(res, err);
    return undefined;
  }
}

/** A refusal from `authenticate`: its status and headers (Retry-After) as the error carries them. */
function sendRefusal(res: ServerResponse, err: unknown): void {
  if (!(err instanceof GraphQLError) || typeof err.extensions.code !== 'string') throw err;
  const http = err.extensions.http as { status?: number; headers?: Map<string, string> } | undefined;
  for (const [name, value] of http?.headers ?? []) res.setHeader(name, value);
  const { http: _http, ...extensions } = err.extensions;
  sendGraphQLError(res, http?.status ?? 401, err.message, err.extensions.code, extensions);
}

/** The in-flight body budget is spent: the instance's (503) or this subject's share (429, like a rate limit). */
function sendBusy(res: ServerResponse, refusedBy: 'instance' | 'subject'): void {
  res.setHeader('retry-after', String(BUSY_RETRY_AFTER_SEC));
  const extensions = { retryAfterSeconds: BUSY_RETRY_AFTER_SEC };
  if (refusedBy === 'instance') {
    sendGraphQLError(res, 503, `the server is receiving as many request bytes as it may hold; retry after ${BUSY_RETRY_AFTER_SEC} s`, 'SERVER_BUSY', extensions);
  } else {
    sendGraphQLError(
      res,
      429,
      `too many request bytes in flight for this token subject (uploads in progress); retry after ${BUSY_RETRY_AFTER_SEC} s`,
      'RATE_LIMITED',
      extensions,
    );
  }
}
