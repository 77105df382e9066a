// A real OpenID provider (oidc-provider, ESM-only) in a child process, for test/identity-provider.e2e.test.ts.
// Jest runs the tests as CommonJS and cannot import ESM in test files, hence a process of its own.
//
// It prints one JSON line `{ "issuer": "http://127.0.0.1:<port>" }` when listening, then reads commands,
// one JSON object per stdin line, and answers each with one JSON line on stdout:
//   { "cmd": "keys", "kids": ["rsa-1", "ec-1"] }   publish exactly these keys (same kid = same key pair;
//                                                  a kid starting "ec-" is a P-256 key, else RSA 2048)
//   { "cmd": "down" } / { "cmd": "up" }           every HTTP request answered 503 / served again
//   { "cmd": "stats" }                             { "jwksRequests": n } served so far
//   { "cmd": "console-client", "origin": "http://127.0.0.1:<port>", "accessTokenTTL": 600 }   registers
//                                                  the console as a public client (authorization code +
//                                                  PKCE, redirect URIs under origin) whose access tokens
//                                                  live accessTokenTTL seconds (default 600); people sign
//                                                  in on the provider's development login page with a
//                                                  login naming their claims: `PROVIDER_ADMIN` or
//                                                  `TENANT_ADMIN@<tenant uuid>`
//   { "cmd": "sign", "kid": "rsa-1", "alg": "RS256", "payload": {...} }   { "token": "..." } signed with
//                                                  that key as given (for tokens the provider would never
//                                                  issue: expired, another issuer; a key's holder can)
//
// Tokens come from the real token endpoint: a client_credentials grant for the resource
// RESOURCE gives a JWT access token (resourceIndicators). Test-only parameters choose what an
// administrator would configure in a real IdP: `test_claims` (JSON object merged into the token),
// `test_kid` (the key that signs) and `test_alg` (RS256, PS256 or ES256).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import readline from 'node:readline';
import { importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

export const RESOURCE = 'urn:sdwan-license-manager';
const CLIENT = { client_id: 'license-manager-tests', client_secret: 'a-client-secret-for-tests-only' };

/** A test-only request parameter of the token request (its form body). */
const param = (ctx, name) => ctx.oidc.params?.[name] ?? ctx.oidc.body?.[name];

export const CONSOLE_CLIENT_ID = 'license-console';
let consoleOrigin;
let consoleTokenTTL = 600;

/** The claims of an interactive login (the console's tests): `ROLE` or `ROLE@tenantUuid`. */
function loginClaims(accountId) {
  const [role, tenantId] = String(accountId).split('@');
  return { role, ...(tenantId ? { tenantId } : {}) };
}

const keyPairs = new Map();
function jwkFor(kid) {
  if (!keyPairs.has(kid)) {
    const pair = kid.startsWith('ec-')
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyPairs.set(kid, { ...pair.privateKey.export({ format: 'jwk' }), kid, use: 'sig' });
  }
  return keyPairs.get(kid);
}

const server = http.createServer();
let handler = () => {};
let down = false;
let jwksRequests = 0;
server.on('request', (req, res) => {
  if (down) {
    res.statusCode = 503;
    res.end('identity provider down (test)');
    return;
  }
  if (req.url?.startsWith('/jwks')) jwksRequests += 1;
  handler(req, res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

let publishedKids = [];
function publish(kids) {
  publishedKids = kids;
  const provider = new Provider(issuer, {
    clients: [
      { ...CLIENT, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_post' },
      ...(consoleOrigin
        ? [
            {
              client_id: CONSOLE_CLIENT_ID,
              token_endpoint_auth_method: 'none',
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              redirect_uris: [`${consoleOrigin}/auth/callback`, `${consoleOrigin}/auth/silent`],
              post_logout_redirect_uris: [`${consoleOrigin}/`],
            },
          ]
        : []),
    ],
    clientBasedCORS: () => true,
    jwks: { keys: kids.map(jwkFor) },
    cookies: { keys: ['cookie-key-for-tests-only'] },
    extraParams: ['test_claims', 'test_kid', 'test_alg', 'test_aud'],
    features: {
      // The development login page (any login name) only once the console client exists.
      devInteractions: { enabled: Boolean(consoleOrigin) },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        defaultResource: () => RESOURCE,
        getResourceServerInfo: (ctx, resource) => {
          if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
          const kid = param(ctx, 'test_kid');
          const alg = param(ctx, 'test_alg');
          return {
            scope: 'api',
            audience: param(ctx, 'test_aud') || RESOURCE,
            accessTokenTTL: ctx.oidc.client?.clientId === CONSOLE_CLIENT_ID ? consoleTokenTTL : 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: alg || 'RS256', ...(kid ? { kid } : {}) } },
          };
        },
      },
    },
    extraTokenClaims: (ctx, token) => {
      if (param(ctx, 'test_claims')) return JSON.parse(param(ctx, 'test_claims'));
      return token.accountId ? loginClaims(token.accountId) : undefined;
    },
    ttl: { ClientCredentials: 600 },
    enabledJWA: { clientAuthSigningAlgValues: ['RS256'], requestObjectSigningAlgValues: ['RS256'] },
  });
  provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.stack}\n`));
  handler = provider.callback();
}

publish(['rsa-1']);
process.stdout.write(`${JSON.stringify({ issuer, resource: RESOURCE, ...CLIENT })}\n`);

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const command = JSON.parse(line);
  let answer = { ok: true };
  if (command.cmd === 'sign') {
    const key = await importJWK(jwkFor(command.kid), command.alg);
    answer = { token: await new SignJWT(command.payload).setProtectedHeader({ alg: command.alg, kid: command.kid, typ: 'JWT' }).sign(key) };
  } else if (command.cmd === 'keys') publish(command.kids);
  else if (command.cmd === 'down') down = true;
  else if (command.cmd === 'up') down = false;
  else if (command.cmd === 'stats') answer = { jwksRequests };
  else if (command.cmd === 'console-client') {
    consoleOrigin = command.origin;
    consoleTokenTTL = command.accessTokenTTL ?? 600;
    publish(publishedKids);
    answer = { clientId: CONSOLE_CLIENT_ID };
  }
  else answer = { error: `unknown command ${line}` };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
lines.on('close', () => server.close(() => process.exit(0)));
