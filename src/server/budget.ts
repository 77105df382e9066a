import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Cost budgets as leaky buckets (Shopify's Admin API model), computed with GCRA: a bucket holds at
 * most `capacity` points and `restoreRate` points drain back per second; an operation is admitted
 * when its cost fits into what is left, else refused with the time until it would fit. The only
 * state per key is the "theoretical arrival time" (when the bucket would be full again), so a key
 * that has been idle long enough needs no state at all.
 */
export interface BucketLimits {
  /** Points available when the bucket is full (the largest single operation it admits). */
  capacity: number;
  /** Points restored per second. */
  restoreRate: number;
}

export interface BudgetDecision {
  allowed: boolean;
  /** Points the operation asked for. */
  requested: number;
  /** Points left after this decision (after taking them when allowed). */
  remaining: number;
  /** When refused: milliseconds until `requested` points are available again. */
  retryAfterMs: number;
}

export interface BudgetStore {
  take(key: string, cost: number, limits: BucketLimits): Promise<BudgetDecision>;
  close?(): Promise<void>;
}

/** One GCRA step: the decision and the new theoretical arrival time (ms since the epoch). */
export function gcra(tatMs: number | undefined, nowMs: number, cost: number, limits: BucketLimits): { decision: BudgetDecision; tatMs: number } {
  const perPointMs = 1000 / limits.restoreRate;
  const depthMs = limits.capacity * perPointMs;
  const start = Math.max(tatMs ?? nowMs, nowMs);
  const next = start + cost * perPointMs;
  if (next - nowMs <= depthMs) {
    return { decision: { allowed: true, requested: cost, remaining: Math.floor((depthMs - (next - nowMs)) / perPointMs), retryAfterMs: 0 }, tatMs: next };
  }
  return {
    decision: {
      allowed: false,
      requested: cost,
      remaining: Math.max(0, Math.floor((depthMs - (start - nowMs)) / perPointMs)),
      retryAfterMs: Math.ceil(next - nowMs - depthMs),
    },
    tatMs: start,
  };
}

/**
 * Buckets in this process: exact for one instance. With several instances each keeps its own, so a
 * tenant may use up to N times its budget across N instances (see the README; PostgreSQL store).
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly tats = new Map<string, number>();
  private lastPrune: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastPrune = now();
  }

  async take(key: string, cost: number, limits: BucketLimits): Promise<BudgetDecision> {
    const nowMs = this.now();
    const { decision, tatMs } = gcra(this.tats.get(key), nowMs, cost, limits);
    this.tats.set(key, tatMs);
    if (nowMs - this.lastPrune > 60_000) this.prune(nowMs);
    return decision;
  }

  /** Keys whose bucket is full again carry no information: dropped, so the map holds active keys only. */
  private prune(nowMs: number): void {
    this.lastPrune = nowMs;
    for (const [key, tat] of this.tats) if (tat <= nowMs) this.tats.delete(key);
  }

  get size(): number {
    return this.tats.size;
  }
}

/**
 * Buckets shared by every instance on one database: one statement per decision (a row lock per key
 * serializes concurrent takes), through the `take_cost_budget` function of the migration.
 */
export class PostgresBudgetStore implements BudgetStore {
  constructor(private readonly em: () => EntityManager) {}

  async take(key: string, cost: number, limits: BucketLimits): Promise<BudgetDecision> {
    const rows = await this.em().execute<{ allowed: boolean; remaining: number; retry_after_ms: number }[]>(
      'select allowed, remaining, retry_after_ms from take_cost_budget(?, ?, ?, ?)',
      [key, cost, limits.restoreRate, limits.capacity],
    );
    const [row] = rows;
    return { allowed: row.allowed, requested: cost, remaining: Math.max(0, Math.floor(Number(row.remaining))), retryAfterMs: Math.ceil(Number(row.retry_after_ms)) };
  }
}
