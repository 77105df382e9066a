import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Viewer } from '../auth/viewer';
import { isProvider } from '../auth/viewer';
import type { BucketLimits, BudgetDecision, BudgetStore } from './budget';
import { HeavyLane, LaneFullError, type HeavyLaneLimits } from './heavy-lane';

export interface CostGuardLimits {
  /** Budget of each tenant, shared by all its users. */
  tenant: BucketLimits;
  /** Budget of each provider subject (a portal, an automation account, a person). */
  provider: BucketLimits;
  /** Operations costing at least this many points are heavy: they run in the HeavyLane. */
  heavyCost: number;
  lane: HeavyLaneLimits;
}

/** What every answer carries in `extensions.cost`, so a client can pace itself (as Shopify's do). */
export interface CostReport {
  requested: number;
  remaining: number;
  restoreRate: number;
  maximumAvailable: number;
}

/** An admitted operation: its report, and `release()` to call once when it has finished. */
export interface Admission {
  cost: CostReport;
  release(): void;
}

/**
 * Fair share between tenants: every operation is charged its cost against a leaky bucket of its
 * tenant (tenant roles) or subject (provider roles) before it runs, and heavy operations wait for a
 * slot of their key in the HeavyLane, so one tenant's bulk work cannot take the database pool and the
 * CPU from the others. Cheap operations never wait.
 */
export class CostGuard {
  private readonly lane: HeavyLane;

  constructor(
    private readonly store: BudgetStore,
    private readonly limits: CostGuardLimits,
  ) {
    this.lane = new HeavyLane(limits.lane);
  }

  /** Charges `cost` and, for a heavy operation, waits for its turn. Throws RATE_LIMITED (HTTP 429) when refused. */
  async admit(viewer: Viewer, cost: number): Promise<Admission> {
    const key = keyOf(viewer);
    const bucket = this.bucketOf(viewer);
    const heavy = cost >= this.limits.heavyCost;
    // The queue is checked first so that a refusal for a full queue costs nothing.
    if (heavy && this.lane.isFull(key)) {
      const left = reportOf(await this.store.take(key, 0, bucket), bucket);
      throw laneFull(key, this.lane.waiting(key), { ...left, requested: cost });
    }
    const decision = await this.store.take(key, cost, bucket);
    const report = reportOf(decision, bucket);
    if (!decision.allowed) throw overBudget(decision, bucket, report);
    if (!heavy) return { cost: report, release: () => undefined };
    try {
      return { cost: report, release: await this.lane.enter(key) };
    } catch (err) {
      // Filled up between the check and now: give the points back, as for the check above.
      if (err instanceof LaneFullError) {
        await this.store.take(key, -cost, bucket);
        throw laneFull(key, err.queued, report);
      }
      throw err;
    }
  }

  /** What is left, without charging (answers that ran nothing, such as a request that did not parse). */
  async peek(viewer: Viewer): Promise<CostReport> {
    const bucket = this.bucketOf(viewer);
    return reportOf(await this.store.take(keyOf(viewer), 0, bucket), bucket);
  }

  stats(): { running: number; waiting: number } {
    return this.lane.stats();
  }

  async close(): Promise<void> {
    await this.lane.close();
    await this.store.close?.();
  }

  private bucketOf(viewer: Viewer): BucketLimits {
    return isProvider(viewer) ? this.limits.provider : this.limits.tenant;
  }
}

function keyOf(viewer: Viewer): string {
  return isProvider(viewer) ? `subject:${viewer.subject}` : `tenant:${viewer.tenantId}`;
}

function reportOf(decision: BudgetDecision, bucket: BucketLimits): CostReport {
  return { requested: decision.requested, remaining: decision.remaining, restoreRate: bucket.restoreRate, maximumAvailable: bucket.capacity };
}

function rateLimited(message: string, retryAfterSeconds: number, extra: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      ...extra,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    },
  });
}

function overBudget(decision: BudgetDecision, bucket: BucketLimits, cost: CostReport): GraphQLError {
  if (decision.requested > bucket.capacity) {
    // It would never fit: waiting does not help, a smaller operation does.
    return new GraphQLError(
      `this operation costs ${decision.requested} points, more than the budget holds (${bucket.capacity}); split it into smaller ones`,
      { extensions: { code: 'QUERY_TOO_COMPLEX', cost, http: { status: 400 } } },
    );
  }
  const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  return rateLimited(
    `this operation costs ${decision.requested} points and ${decision.remaining} are left (${bucket.restoreRate} restored per second); retry after ${retryAfter} s`,
    retryAfter,
    { cost },
  );
}

function laneFull(key: string, waiting: number, cost: CostReport): GraphQLError {
  const who = key.startsWith('tenant:') ? 'this tenant' : 'this subject';
  const what = waiting === 0 ? `a heavy operation of ${who} is already running` : `heavy operations of ${who} are already running and ${waiting} waiting`;
  return rateLimited(`${what}; retry when one has finished`, 1, { queued: waiting, cost });
}
