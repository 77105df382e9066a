import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Algorithm } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import type { JwtKeyConfig } from '../config';
import { unauthenticated } from '../common/errors';
import type { Logger } from '../logger';

type JwksKeyConfig = Extract<JwtKeyConfig, { kind: 'jwks' }>;

/** The asymmetric algorithms accepted from a key set; never HS* (a public key is no secret). */
export const JWKS_ALGORITHMS: readonly Algorithm[] = ['RS256', 'PS256', 'ES256'];
const FETCH_TIMEOUT_MS = 5_000;

export interface VerificationKey {
  key: KeyObject;
  /** What this key may verify: its JWK `alg` if given, else what its type allows. */
  algorithms: Algorithm[];
}

/**
 * Verification keys from an identity provider's JSON Web Key Set, chosen by the token's `kid`.
 *
 * jwks-rsa fetches the set and turns JWKs into public keys; the policy is here, because it is the
 * product's promise (README "Identity provider"):
 * - the whole set is cached for `cacheMs` and then fetched again, so a key removed from the set stops
 *   working at most `cacheMs` after its removal, and a key added is picked up without a restart;
 * - a token naming an unknown kid causes a fetch at once, but at most one per `refetchMinMs`
 *   (a stream of forged kids cannot make us hammer the IdP), and never two at a time;
 * - when a fetch fails, the keys already held keep working (a short IdP outage does not lock
 *   everyone out) and the failure is logged once per attempt, attempts being at most one per
 *   `refetchMinMs`, not once per request;
 * - with discovery, the JWKS URL comes from `<issuer>/.well-known/openid-configuration`; until it and
 *   the keys have been fetched once, tokens are refused with "identity provider keys not available yet"
 *   and a background retry runs every `refetchMinMs` (at least 1 s).
 */
export class JwksKeySource {
  private keys = new Map<string, VerificationKey>();
  private loaded = false;
  private fetchedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<void>;
  private client?: JwksClient;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly config: JwksKeyConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** First fetch at start-up; on failure it is retried in the background until it succeeds. */
  start(): void {
    const attempt = (): void => {
      void this.refresh().then(() => {
        if (!this.loaded && !this.closed) this.retryTimer = setTimeout(attempt, Math.max(this.config.refetchMinMs, 1000)).unref();
      });
    };
    attempt();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  /** The key a token's header names. Throws UNAUTHENTICATED with the reason. */
  async keyFor(kid: string | undefined): Promise<VerificationKey> {
    const age = this.now() - this.fetchedAt;
    if (!this.loaded || age >= this.config.cacheMs) {
      await this.refresh();
    } else if (kid !== undefined && !this.keys.has(kid) && this.now() - this.lastAttemptAt >= this.config.refetchMinMs) {
      await this.refresh();
    }
    if (!this.loaded) throw unauthenticated('identity provider keys not available yet');
    if (kid === undefined) {
      // A set of one key needs no kid; with more, guessing would let any of them sign for another.
      if (this.keys.size === 1) return [...this.keys.values()][0];
      throw unauthenticated('token has no kid (key id) and the identity provider publishes several keys');
    }
    const key = this.keys.get(kid);
    if (!key) throw unauthenticated(`token key id (kid) ${JSON.stringify(kid).slice(0, 80)} is not in the identity provider's key set`);
    return key;
  }

  /** One fetch at a time; after a failure, no new attempt for refetchMinMs. */
  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.lastFailureAt < this.config.refetchMinMs) return Promise.resolve();
    this.lastAttemptAt = this.now();
    this.inFlight = this.fetchKeys()
      .then((keys) => {
        this.keys = keys;
        this.loaded = true;
        this.fetchedAt = this.now();
        this.lastFailureAt = Number.NEGATIVE_INFINITY;
      })
      .catch((err: unknown) => {
        this.lastFailureAt = this.now();
        this.log.warn(
          { err: { message: err instanceof Error ? err.message : String(err) }, keysHeld: this.keys.size, source: this.config.source },
          this.loaded
            ? 'identity provider key set could not be fetched; the keys fetched before stay in use'
            : 'identity provider key set could not be fetched; tokens are refused until it is',
        );
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<Map<string, VerificationKey>> {
    this.client ??= new JwksClient({ jwksUri: await this.jwksUri(), cache: false, rateLimit: false, timeout: FETCH_TIMEOUT_MS });
    const keys = new Map<string, VerificationKey>();
    for (const signingKey of await this.client.getSigningKeys()) {
      if (!signingKey.kid) continue; // a key without kid could never be chosen among several
      const key = createPublicKey(signingKey.getPublicKey());
      const algorithms = algorithmsFor(key, signingKey.alg);
      if (algorithms.length > 0) keys.set(signingKey.kid, { key, algorithms });
    }
    if (keys.size === 0) throw new Error(`the key set has no RS256, PS256 or ES256 key with a kid`);
    return keys;
  }

  private async jwksUri(): Promise<string> {
    const { source } = this.config;
    if ('jwksUrl' in source) return source.jwksUrl;
    const url = `${source.discoveryIssuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was asked for.
    if (doc.issuer !== source.discoveryIssuer) {
      throw new Error(`${url} names issuer ${JSON.stringify(doc.issuer)}, not JWT_ISSUER ${JSON.stringify(source.discoveryIssuer)}`);
    }
    if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) throw new Error(`${url} has no jwks_uri`);
    return doc.jwks_uri;
  }
}

function algorithmsFor(key: KeyObject, jwkAlg: string | undefined): Algorithm[] {
  const byType: Algorithm[] =
    key.asymmetricKeyType === 'rsa'
      ? ['RS256', 'PS256']
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
        ? ['ES256']
        : [];
  return jwkAlg === undefined ? byType : byType.filter((a) => a === jwkAlg);
}
