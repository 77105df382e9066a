import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Negotiator from 'negotiator';
import type { Logger } from '../logger';
import { graphiqlAssetsDir } from './graphiql-assets';
import { GRAPHQL_PATH } from './http';

export const GRAPHIQL_PATH = '/graphiql';
const ASSETS_PREFIX = `${GRAPHIQL_PATH}/assets/`;
const ASSET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Content-Security-Policy of the page. Scripts, workers and styles sheets come only from this server
 * and no script may be evaluated from strings ('unsafe-eval' is absent). Relaxed, and why:
 * - style-src 'unsafe-inline': Monaco (GraphiQL's editor) writes <style> elements at run time for
 *   its themes and decorations, and Radix UI (its dialogs and menus) sets style attributes; a nonce
 *   would not help because these libraries create the elements without one.
 * - font-src/img-src data:: the graphiql stylesheet carries its fonts and icons as data: URLs.
 * - connect-src names the WebSocket URL of this host (ws: and wss:, for TLS ended at a proxy) besides
 *   'self', for graphql-ws subscriptions.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const safeHost = host && /^[A-Za-z0-9.\-[\]:]{1,300}$/.test(host) ? host : undefined;
  const ws = safeHost ? ` ws://${safeHost} wss://${safeHost}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>SD-WAN License Manager · GraphiQL</title>
    <link rel="stylesheet" href="${ASSETS_PREFIX}graphiql.css">
    <script src="${ASSETS_PREFIX}graphiql.js" defer></script>
  </head>
  <body>
    <div id="graphiql"></div>
  </body>
</html>
`;

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  etag: string;
  type: string;
}

/**
 * GET /graphiql, GET /graphiql/assets/<file> and a browser's GET /graphql (Accept prefers text/html,
 * no `query` parameter) serve the bundled GraphiQL page. Returns true when it answered the request.
 * Files are only those the build wrote into dist/graphiql, looked up by name, never a path from input.
 */
export function graphiqlRoute(log: Logger, dir = graphiqlAssetsDir()): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  const cache = new Map<string, Asset>();
  let names: Set<string> | undefined;
  let warned = false;

  const asset = (name: string): Asset | undefined => {
    const hit = cache.get(name);
    if (hit) return hit;
    if (!names?.has(name)) {
      try {
        names = new Set(fs.readdirSync(dir));
      } catch {
        names = undefined;
        return undefined;
      }
      if (!names.has(name)) return undefined;
    }
    const body = fs.readFileSync(path.join(dir, name));
    const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
    const found: Asset = {
      body,
      gzip: type.startsWith('font/') ? undefined : gzipSync(body),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      type,
    };
    cache.set(name, found);
    return found;
  };

  const sendPage = (req: IncomingMessage, res: ServerResponse): void => {
    if (!asset('graphiql.js')) {
      if (!warned) log.warn({ dir }, 'GraphiQL is on but not built: run `npm run build`');
      warned = true;
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('GraphiQL is not built on this server: run `npm run build`.\n');
      return;
    }
    res.statusCode = 200;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', contentSecurityPolicy(req.headers.host));
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('cache-control', 'no-store');
    // The same URL answers JSON to API clients: caches must keep the two apart.
    res.setHeader('vary', 'Accept');
    res.end(req.method === 'HEAD' ? undefined : PAGE);
  };

  return (req, res, urlPath) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (urlPath === GRAPHIQL_PATH || urlPath === `${GRAPHIQL_PATH}/`) {
      sendPage(req, res);
      return true;
    }
    if (urlPath === GRAPHQL_PATH && wantsPage(req)) {
      sendPage(req, res);
      return true;
    }
    if (!urlPath.startsWith(ASSETS_PREFIX)) return false;
    const name = urlPath.slice(ASSETS_PREFIX.length);
    const found = ASSET_NAME_RE.test(name) && !name.startsWith('.') ? asset(name) : undefined;
    if (!found) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('not found\n');
      return true;
    }
    res.setHeader('content-type', found.type);
    res.setHeader('etag', found.etag);
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('vary', 'Accept-Encoding');
    if (req.headers['if-none-match'] === found.etag) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    const gzip = found.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? found.gzip! : found.body;
    if (gzip) res.setHeader('content-encoding', 'gzip');
    res.setHeader('content-length', String(body.length));
    res.statusCode = 200;
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** A browser navigating to /graphql: HTML preferred over JSON, and no operation in the query string. */
function wantsPage(req: IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  const search = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  if (search.has('query') || search.has('extensions')) return false;
  const accept = req.headers.accept;
  if (!accept) return false;
  const preferred = new Negotiator({ headers: { accept } }).mediaType([
    'application/graphql-response+json',
    'application/json',
    'text/html',
  ]);
  return preferred === 'text/html';
}
