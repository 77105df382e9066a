import type { IncomingMessage, ServerResponse } from 'node:http';
import { mintToken } from '../auth/jwt';
import { isProviderRole, isRole } from '../auth/roles';
import type { ConsoleConfig, JwtKeyConfig } from '../config';
import type { Logger } from '../logger';
import { consoleAssetsDir } from './graphiql-assets';
import { sendStaticFile, StaticDir } from './static-files';

export const CONSOLE_CONFIG_PATH = '/console/config.json';
export const DEV_TOKEN_PATH = '/dev/token';
const ASSETS_PREFIX = '/assets/';
/** Paths of the API and the server's other pages: never answered with the console's page. */
const RESERVED = /^\/(graphql|graphiql|files|healthz|readyz|metrics|__debug|dev|console)(\/|$)/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEV_TOKEN_TTL_SEC = 8 * 3600;
const DEV_TOKEN_BODY_BYTES = 1024;

/** What the console reads at start: how to sign in. Public: it holds no secret. */
export type ConsoleRuntimeConfig =
  | { signIn: 'oidc'; issuer: string; clientId: string; scope: string; audience?: string }
  | { signIn: 'dev' }
  | { signIn: 'none'; reason: string };

/**
 * Content-Security-Policy of the console's page. Everything comes from this server; relaxed only where
 * named:
 * - style-src 'unsafe-inline': Mantine writes its theme's CSS variables into a <style> element at run time
 *   and its components set style attributes (positions of popovers, chart sizes); they take no nonce.
 * - img-src/font-src data:: small icons inlined by the build.
 * - connect-src: this host's WebSocket URL (graphql-ws) and, with OIDC sign-in, the identity provider
 *   (discovery, token endpoint); frame-src: the identity provider, for silent renew in a hidden iframe,
 *   which lands on this server's /auth/silent page (hence frame-ancestors 'self').
 */
export function consoleContentSecurityPolicy(host: string | undefined, issuerOrigin?: string): string {
  const safeHost = host && /^[A-Za-z0-9.\-[\]:]{1,300}$/.test(host) ? host : undefined;
  const ws = safeHost ? ` ws://${safeHost} wss://${safeHost}` : '';
  const idp = issuerOrigin ? ` ${issuerOrigin}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data: blob:",
    `connect-src 'self'${ws}${idp}`,
    `frame-src 'self'${idp}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action 'self'${idp}`,
    "frame-ancestors 'self'",
  ].join('; ');
}

export interface ConsoleRouteOptions {
  log: Logger;
  config: ConsoleConfig;
  /** The key tokens are verified with: POST /dev/token signs with it when sign-in is `dev`. */
  jwtKey: JwtKeyConfig;
  jwt: { issuer?: string; audience?: string; claimsNamespace?: string };
  dir?: string;
}

/**
 * The console (console/, built into console/dist): GET /console/config.json, its hashed files under
 * /assets/ (cached for a year: a new build has new names), and its page for every other GET of a
 * browser (Accept: text/html) outside the API's paths, so /devices?filter=... reloads into the app.
 * In development with the generated secret, POST /dev/token; in every other configuration that path
 * is not answered here (the server's 404).
 */
export function consoleRoute(opts: ConsoleRouteOptions): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  const files = new StaticDir(opts.dir ?? consoleAssetsDir());
  const assets = new StaticDir(`${files.dir}/assets`);
  const devTokens = opts.config.signIn === 'dev' && opts.jwtKey.kind === 'secret' && opts.jwtKey.generated;
  const runtimeConfig: ConsoleRuntimeConfig =
    opts.config.signIn === 'none'
      ? { signIn: 'none', reason: 'The server has no console sign-in configured: set CONSOLE_OIDC_CLIENT_ID (see README "Console").' }
      : opts.config.signIn === 'dev' && !devTokens
        ? { signIn: 'none', reason: 'Development sign-in needs the generated secret.' }
        : opts.config;
  const issuerOrigin = opts.config.signIn === 'oidc' ? new URL(opts.config.issuer).origin : undefined;
  let warned = false;

  return (req, res, path) => {
    if (path === DEV_TOKEN_PATH && req.method === 'POST' && devTokens) {
      issueDevToken(opts, req, res);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === CONSOLE_CONFIG_PATH) {
      res.statusCode = 200;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(runtimeConfig));
      return true;
    }
    if (path.startsWith(ASSETS_PREFIX)) {
      const found = assets.get(path.slice(ASSETS_PREFIX.length));
      if (!found) {
        res.statusCode = 404;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end('not found\n');
        return true;
      }
      sendStaticFile(req, res, found, 'public, max-age=31536000, immutable');
      return true;
    }
    if (RESERVED.test(path) || !/\btext\/html\b/.test(req.headers.accept ?? '')) return false;
    const page = files.get('index.html');
    if (!page) {
      if (!warned) opts.log.warn({ dir: files.dir }, 'the console is not built: run `npm run build`');
      warned = true;
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('The console is not built on this server: run `npm run build`.\n');
      return true;
    }
    res.setHeader('content-security-policy', consoleContentSecurityPolicy(req.headers.host, issuerOrigin));
    res.setHeader('referrer-policy', 'no-referrer');
    sendStaticFile(req, res, page, 'no-cache');
    return true;
  };
}

/**
 * POST /dev/token {"role": "...", "tenantId": "<uuid>"}: a token signed with the generated development
 * secret, as `npm run token` mints. Only in development without JWT settings, where anyone who can reach
 * the server could read that secret from .data/ anyway.
 */
function issueDevToken(opts: ConsoleRouteOptions, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= DEV_TOKEN_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    const refuse = (message: string): void => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] }));
    };
    if (size > DEV_TOKEN_BODY_BYTES) return refuse(`the body is larger than ${DEV_TOKEN_BODY_BYTES} bytes`);
    let body: { role?: unknown; tenantId?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return refuse('the body must be JSON: {"role": "TENANT_ADMIN", "tenantId": "<uuid>"}');
    }
    const role = body?.role;
    if (!isRole(role)) return refuse('role must be one of PROVIDER_ADMIN, PROVIDER_OPERATOR, TENANT_ADMIN, TENANT_OPERATOR');
    const tenantId = body.tenantId ?? undefined;
    if (isProviderRole(role) && tenantId !== undefined) return refuse(`role ${role} is provider-wide and takes no tenantId`);
    if (!isProviderRole(role) && (typeof tenantId !== 'string' || !UUID_RE.test(tenantId))) {
      return refuse(`role ${role} needs tenantId, the tenant's uuid`);
    }
    const token = mintToken({
      key: opts.jwtKey,
      subject: `dev-${role.toLowerCase().replace(/_/g, '-')}`,
      role,
      tenantId: typeof tenantId === 'string' ? tenantId.toLowerCase() : undefined,
      expiresInSec: DEV_TOKEN_TTL_SEC,
      issuer: opts.jwt.issuer,
      audience: opts.jwt.audience,
      claimsNamespace: opts.jwt.claimsNamespace,
    });
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify({ token, expiresIn: DEV_TOKEN_TTL_SEC }));
  });
}
