import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Viewer } from '../auth/viewer';

/**
 * Requests per minute per token subject and per tenant (HTTP 429 with Retry-After). Counted per
 * instance: with N instances behind a balancer the effective limit is up to N times higher
 * (rate-limiter-flexible has PostgreSQL and Redis stores for a shared count).
 */
export class RateLimits {
  private readonly perSubject?: RateLimiterMemory;
  private readonly perTenant?: RateLimiterMemory;

  constructor(limits: { perSubjectPerMinute: number; perTenantPerMinute: number }) {
    if (limits.perSubjectPerMinute > 0) this.perSubject = new RateLimiterMemory({ points: limits.perSubjectPerMinute, duration: 60 });
    if (limits.perTenantPerMinute > 0) this.perTenant = new RateLimiterMemory({ points: limits.perTenantPerMinute, duration: 60 });
  }

  async check(viewer: Viewer): Promise<void> {
    try {
      await this.perSubject?.consume(`subject:${viewer.subject}`);
      if (viewer.tenantId) await this.perTenant?.consume(`tenant:${viewer.tenantId}`);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new GraphQLError(`too many requests; retry after ${retryAfter} s`, {
        extensions: {
          code: 'RATE_LIMITED',
          retryAfterSeconds: retryAfter,
          http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) },
        },
      });
    }
  }
}
