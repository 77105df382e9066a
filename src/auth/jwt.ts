import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import type { JwtKeyConfig } from '../config';
import { unauthenticated } from '../common/errors';
import { isProviderRole, isRole, type Role } from './roles';
import { createViewer, type Viewer } from './viewer';

/** Tokens larger than this are refused before any parsing (headers are capped anyway; this is explicit). */
export const MAX_TOKEN_BYTES = 8 * 1024;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenVerifierOptions {
  key: JwtKeyConfig;
  issuer?: string;
  audience?: string;
  claimsNamespace?: string;
  /** Seconds of clock skew tolerated for exp/nbf. */
  clockToleranceSec?: number;
}

/** Verifies bearer tokens (DESIGN.md "JWT contract") and turns them into an immutable Viewer. */
export class TokenVerifier {
  private readonly verifyKey: KeyObject;

  constructor(private readonly options: TokenVerifierOptions) {
    // A KeyObject made once: given a string, jsonwebtoken re-creates the key on every verify (and
    // for a secret first tries, and fails, to read it as a public key), a measurable cost per request.
    this.verifyKey =
      options.key.kind === 'secret' ? createSecretKey(Buffer.from(options.key.secret, 'utf8')) : createPublicKey(options.key.publicKey);
  }

  /** Parses an `Authorization` header value. Throws UNAUTHENTICATED with a reason. */
  viewerFromAuthorization(header: string | undefined): Viewer {
    if (!header) throw unauthenticated('missing Authorization header: send "Authorization: Bearer <token>"');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    return this.verify(match[1]);
  }

  verify(token: string): Viewer {
    if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) {
      throw unauthenticated(`token is larger than ${MAX_TOKEN_BYTES} bytes`);
    }
    let payload: JwtPayload;
    try {
      const decoded = jwt.verify(token, this.verifyKey, {
        // The allow-list is what defeats `alg: none` and HS256-with-the-public-key confusion.
        algorithms: this.options.key.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSec ?? 5,
      });
      if (typeof decoded === 'string') throw unauthenticated('token payload must be a JSON object');
      payload = decoded;
    } catch (err) {
      throw unauthenticated(describeJwtError(err));
    }
    if (typeof payload.exp !== 'number') throw unauthenticated('token has no exp claim');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
      throw unauthenticated('token sub claim must be a non-empty string of at most 256 characters');
    }
    const claims = this.claimsOf(payload);
    const role = claims.role;
    if (!isRole(role)) throw unauthenticated(`token role claim ${JSON.stringify(role ?? null)} is not a known role`);
    const tenantId = claims.tenantId;
    if (isProviderRole(role)) {
      // Defined behaviour: a provider token naming a tenant is ambiguous (provider-wide or scoped?),
      // so it is refused rather than silently widened or narrowed.
      if (tenantId !== undefined && tenantId !== null) {
        throw unauthenticated(`token with role ${role} must not carry a tenantId claim`);
      }
      return createViewer(payload.sub, role, null, payload.exp);
    }
    if (typeof tenantId !== 'string' || !UUID_RE.test(tenantId)) {
      throw unauthenticated(`token with role ${role} needs a tenantId claim holding a uuid`);
    }
    return createViewer(payload.sub, role as Role, tenantId.toLowerCase(), payload.exp);
  }

  private claimsOf(payload: JwtPayload): { role?: unknown; tenantId?: unknown } {
    const ns = this.options.claimsNamespace;
    if (!ns) return payload as { role?: unknown; tenantId?: unknown };
    const scoped: unknown = payload[ns];
    if (scoped === null || typeof scoped !== 'object') {
      throw unauthenticated(`token has no claims under the namespace ${JSON.stringify(ns)}`);
    }
    return scoped as { role?: unknown; tenantId?: unknown };
  }
}

function describeJwtError(err: unknown): string {
  if (err instanceof jwt.TokenExpiredError) return 'token expired';
  if (err instanceof jwt.NotBeforeError) return 'token is not valid yet (nbf)';
  if (err instanceof jwt.JsonWebTokenError) {
    const m = err.message;
    if (m.startsWith('jwt audience invalid')) return 'token audience is not accepted';
    if (m.startsWith('jwt issuer invalid')) return 'token issuer is not accepted';
    if (m === 'invalid algorithm') return 'token algorithm is not accepted';
    if (m === 'invalid signature') return 'token signature is invalid';
    if (m === 'jwt signature is required') return 'token is unsigned';
    return 'token is malformed';
  }
  if (err instanceof Error && 'extensions' in err) return err.message;
  return 'token could not be verified';
}

export interface MintOptions {
  key: JwtKeyConfig;
  subject: string;
  role: Role;
  tenantId?: string;
  expiresInSec: number;
  issuer?: string;
  audience?: string;
  claimsNamespace?: string;
}

/** Signs a token with the configured key (development and tests; production tokens come from an IdP). */
export function mintToken(o: MintOptions): string {
  const claims: Record<string, unknown> = { role: o.role, ...(o.tenantId ? { tenantId: o.tenantId } : {}) };
  const payload = o.claimsNamespace ? { [o.claimsNamespace]: claims } : claims;
  let signingKey: string;
  if (o.key.kind === 'secret') signingKey = o.key.secret;
  else if (o.key.privateKey) signingKey = o.key.privateKey;
  else throw new Error('minting with JWT_PUBLIC_KEY needs the matching private key in JWT_PRIVATE_KEY');
  return jwt.sign(payload, signingKey, {
    algorithm: o.key.algorithms[0],
    subject: o.subject,
    expiresIn: o.expiresInSec,
    ...(o.issuer ? { issuer: o.issuer } : {}),
    ...(o.audience ? { audience: o.audience } : {}),
  });
}
