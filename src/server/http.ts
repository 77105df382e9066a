import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import bodyParser from 'body-parser';
import cors from 'cors';
import pinoHttp from 'pino-http';
import type { RequestContext } from '../common/context';
import { findNul } from '../common/nul';
import { usageReportFile } from '../modules/sync/offline.service';
import type { Logger } from '../logger';

export const GRAPHQL_PATH = '/graphql';
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export interface HttpDeps {
  apollo: ApolloServer<RequestContext>;
  log: Logger;
  maxBodyBytes: number;
  isReady: () => Promise<boolean>;
  contextFor: (req: IncomingMessage & { id?: unknown; log?: Logger }) => Promise<RequestContext>;
  /** `--expose-gc` only (src/server/debug-hooks.ts): answers its own routes and returns true. */
  debugRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
}

/**
 * The HTTP layer: plain node:http (Apollo's own standalone path, measured faster than express5 here)
 * serving /graphql, /healthz and /readyz. Body parsing and CORS use the same libraries Apollo's
 * standalone server uses; errors before GraphQL execution are answered in GraphQL's error shape.
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
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'debug'),
    serializers: { req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }) },
  });
  const corsHandler = cors();
  const jsonBody = bodyParser.json({ limit: deps.maxBodyBytes, strict: true });

  return http.createServer((req, res) => {
    logRequests(req, res);
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (deps.debugRoutes?.(req, res, path)) return;
    if (path === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
      deps.isReady().then(
        (ready) => sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' }),
        () => sendJson(res, 503, { status: 'not ready' }),
      );
      return;
    }
    const download = /^\/files\/usage-reports\/([A-Za-z0-9_-]{1,200})$/.exec(path);
    if (download && (req.method === 'GET' || req.method === 'HEAD')) {
      serveUsageReport(deps, req, res, download[1]).catch((e: unknown) => {
        (req as { log?: Logger }).log?.error({ err: e }, 'file download failed');
        if (!res.headersSent) sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
      });
      return;
    }
    if (path !== GRAPHQL_PATH) {
      sendJson(res, 404, { error: `no route for ${req.method} ${path}; GraphQL is served at ${GRAPHQL_PATH}` });
      return;
    }
    corsHandler(req, res, () => {
      jsonBody(req, res, (err?: { status?: number; type?: string }) => {
        if (err) {
          sendGraphQLError(res, err.status ?? 400, bodyErrorMessage(err, deps.maxBodyBytes));
          return;
        }
        const nulAt = findNul((req as { body?: unknown }).body, 'request');
        if (nulAt) {
          sendGraphQLError(res, 400, `${nulAt} contains a NUL character (U+0000), which is not allowed`, 'BAD_USER_INPUT');
          return;
        }
        handleGraphQL(deps, req, res).catch((e: unknown) => {
          (req as { log?: Logger }).log?.error({ err: e }, 'graphql request failed');
          if (!res.headersSent) sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
          else res.end();
        });
      });
    });
  });
}

async function handleGraphQL(deps: HttpDeps, req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const queryIndex = (req.url ?? '').indexOf('?');
  const response = await deps.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: queryIndex >= 0 ? (req.url ?? '').slice(queryIndex) : '',
      body: req.body,
    },
    context: () => deps.contextFor(req),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** GET /files/usage-reports/:id: the same bearer token and tenant rules as the API; never a path from input. */
async function serveUsageReport(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  let ctx: RequestContext;
  try {
    ctx = await deps.contextFor(req);
  } catch (err) {
    const e = err as { message?: string; extensions?: { code?: string } };
    sendGraphQLError(res, 401, e.message ?? 'unauthenticated', e.extensions?.code ?? 'UNAUTHENTICATED');
    return;
  }
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
      return `request body is larger than ${limit} bytes`;
    case 'entity.parse.failed':
      return 'request body is not valid JSON';
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return 'request body must be UTF-8 JSON';
    default:
      return 'request body could not be read';
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

function sendGraphQLError(res: ServerResponse, status: number, message: string, code = 'BAD_REQUEST'): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
