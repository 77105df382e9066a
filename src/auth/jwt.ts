import { createPublicKey, createSecretKey } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import pino from 'pino';
import type { ClaimMapping, JwtKeyConfig } from '../config';
import { unauthenticated } from '../common/errors';
import type { Logger } from '../logger';
import { claimAt, roleFromClaim } from './claims';
import { JWKS_ALGORITHMS, JwksKeySource, type VerificationKey } from './jwks';
import { isProviderRole, type Role } from './roles';
import { createViewer, type Viewer } from './viewer';

/** Tokens larger than this are refused before any parsing (headers are capped anyway; this is explicit). */
export const MAX_TOKEN_BYTES = 8 * 1024;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenVerifierOptions {
  key: JwtKeyConfig;
  issuer?: string;
  audience?: string;
  claimsNamespace?: string;
  /** Where role and tenant are read (JWT_ROLE_CLAIM, JWT_TENANT_CLAIM, JWT_ROLE_MAP). Default: `role`, `tenantId`. */
  claims?: ClaimMapping;
  /**
   * With a configured tenant claim (`claims.tenantByReference`): the tenant's uuid for a uuid, global
   * id or slug, or null when no tenant has it.
   */
  resolveTenant?: (reference: string) => Promise<string | null>;
  /** Seconds of clock skew tolerated for exp/nbf. */
  clockToleranceSec?: number;
  /** Logs key-set fetch failures (JWKS mode). */
  log?: Logger;
}

const DEFAULT_CLAIMS: ClaimMapping = { roleClaim: 'role', tenantClaim: 'tenantId', tenantByReference: false };

/** Verifies bearer tokens (DESIGN.md "JWT contract") and turns them into an immutable Viewer. */
export class TokenVerifier {
  /** The one key of JWT_SECRET / JWT_PUBLIC_KEY mode. */
  private readonly staticKey?: VerificationKey;
  /** The identity provider's keys in JWKS mode. */
  private readonly keySource?: JwksKeySource;
  private readonly claims: ClaimMapping;

  constructor(private readonly options: TokenVerifierOptions) {
    const { key } = options;
    this.claims = options.claims ?? DEFAULT_CLAIMS;
    if (this.claims.tenantByReference && !options.resolveTenant) {
      throw new Error('a configured tenant claim needs resolveTenant to look tenants up');
    }
    if (key.kind === 'jwks') {
      this.keySource = new JwksKeySource(key, options.log ?? pino({ level: 'silent' }));
    } else {
      // A KeyObject made once: given a string, jsonwebtoken re-creates the key on every verify (and
      // for a secret first tries, and fails, to read it as a public key), a measurable cost per request.
      this.staticKey = {
        key: key.kind === 'secret' ? createSecretKey(Buffer.from(key.secret, 'utf8')) : createPublicKey(key.publicKey),
        algorithms: key.algorithms,
      };
    }
  }

  /** JWKS mode: fetch the identity provider's keys now (retried in the background until they come). */
  start(): void {
    this.keySource?.start();
  }

  close(): void {
    this.keySource?.close();
  }

  /** Parses an `Authorization` header value. Rejects with UNAUTHENTICATED and a reason. */
  async viewerFromAuthorization(header: string | undefined): Promise<Viewer> {
    if (!header) throw unauthenticated('missing Authorization header: send "Authorization: Bearer <token>"');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Viewer> {
    if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) {
      throw unauthenticated(`token is larger than ${MAX_TOKEN_BYTES} bytes`);
    }
    const { key, algorithms } = this.staticKey ?? (await this.keyFromSet(token));
    let payload: JwtPayload;
    try {
      const decoded = jwt.verify(token, key, {
        // The allow-list is what defeats `alg: none` and HS256-with-the-public-key confusion.
        algorithms,
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
    const { roleClaim, tenantClaim, roleMap } = this.claims;
    const roleValue = claimAt(claims, roleClaim);
    const role = roleFromClaim(roleValue, roleMap);
    if (!role) {
      const named = roleClaim === 'role' ? 'role claim' : `role claim ${roleClaim}`;
      throw unauthenticated(`token ${named} ${JSON.stringify(roleValue ?? null).slice(0, 200)} is not a known role${roleMap ? ' nor a group in JWT_ROLE_MAP' : ''}`);
    }
    const tenantValue = claimAt(claims, tenantClaim);
    if (isProviderRole(role)) {
      // Defined behaviour: a provider token naming a tenant is ambiguous (provider-wide or scoped?),
      // so it is refused rather than silently widened or narrowed.
      if (tenantValue !== undefined && tenantValue !== null) {
        throw unauthenticated(`token with role ${role} must not carry a ${tenantClaim} claim`);
      }
      return createViewer(payload.sub, role, null, payload.exp);
    }
    return createViewer(payload.sub, role, await this.tenantOf(role, tenantValue), payload.exp);
  }

  /** JWKS mode: the key the token's header names, after refusing algorithms no key set may use. */
  private async keyFromSet(token: string): Promise<VerificationKey> {
    const header = jwt.decode(token, { complete: true })?.header;
    if (!header) throw unauthenticated('token is malformed');
    // Checked before the key lookup, so a token that could never verify causes no fetch.
    if (!JWKS_ALGORITHMS.includes(header.alg as Algorithm)) {
      throw unauthenticated(header.alg === 'none' ? 'token is unsigned' : 'token algorithm is not accepted');
    }
    return (this.keySource as JwksKeySource).keyFor(typeof header.kid === 'string' ? header.kid : undefined);
  }

  private async tenantOf(role: Role, value: unknown): Promise<string> {
    const { tenantClaim, tenantByReference } = this.claims;
    if (!tenantByReference) {
      if (typeof value !== 'string' || !UUID_RE.test(value)) {
        throw unauthenticated(`token with role ${role} needs a ${tenantClaim} claim holding a uuid`);
      }
      return value.toLowerCase();
    }
    if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
      throw unauthenticated(`token with role ${role} needs a ${tenantClaim} claim holding the tenant's uuid, id or slug`);
    }
    const tenantId = await (this.options.resolveTenant as NonNullable<TokenVerifierOptions['resolveTenant']>)(value);
    if (!tenantId) throw unauthenticated(`token ${tenantClaim} claim ${JSON.stringify(value)} names no tenant (not a tenant's uuid, id or slug)`);
    return tenantId;
  }

  private claimsOf(payload: JwtPayload): Record<string, unknown> {
    const ns = this.options.claimsNamespace;
    if (!ns) return payload;
    const scoped: unknown = payload[ns];
    if (scoped === null || typeof scoped !== 'object') {
      throw unauthenticated(`token has no claims under the namespace ${JSON.stringify(ns)}`);
    }
    return scoped as Record<string, unknown>;
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
  if (o.key.kind === 'jwks') throw new Error('with JWT_JWKS_URL or JWT_OIDC_DISCOVERY tokens come from the identity provider');
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
