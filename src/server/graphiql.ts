import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';
import type { Logger } from '../logger';
import { graphiqlAssetsDir } from './graphiql-assets';
import { GRAPHQL_PATH } from './http';
import { sendStaticFile, StaticDir, type StaticFile } from './static-files';

export const GRAPHIQL_PATH = '/graphiql';
const ASSETS_PREFIX = `${GRAPHIQL_PATH}/assets/`;

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

/**
 * GET /graphiql, GET /graphiql/assets/<file> and a browser's GET /graphql (Accept prefers text/html,
 * no `query` parameter) serve the bundled GraphiQL page. Returns true when it answered the request.
 * Files are only those the build wrote into dist/graphiql, looked up by name, never a path from input.
 */
export function graphiqlRoute(log: Logger, dir = graphiqlAssetsDir()): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  const files = new StaticDir(dir);
  const asset = (name: string): StaticFile | undefined => files.get(name);
  let warned = false;

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
    const found = asset(name);
    if (!found) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('not found\n');
      return true;
    }
    sendStaticFile(req, res, found, 'no-cache');
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
