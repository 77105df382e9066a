import Bottleneck from 'bottleneck';

export interface HeavyLaneLimits {
  /** Heavy operations of one tenant (or provider subject) running at once. */
  perKey: number;
  /** Heavy operations of one key waiting beyond those; more are refused (429). */
  queuePerKey: number;
  /** Heavy operations running at once on this instance, all keys together. */
  total: number;
}

export class LaneFullError extends Error {
  override name = 'LaneFullError';
  constructor(readonly key: string, readonly queued: number) {
    super(`${queued} heavy operations of ${key} are already waiting`);
  }
}

/**
 * Where heavy operations (bulk mutations, large uploads, costly queries) wait their turn, so that one
 * tenant's bulk work holds at most `perKey` database connections and a bounded share of the CPU, and
 * cheap requests, which never enter the lane, are never queued behind it.
 *
 * Bottleneck does the bookkeeping: a limiter per key (at most `perKey` running, at most `queuePerKey`
 * waiting) chained to one instance-wide limiter (`total`). With `perKey` 1 every key has at most one
 * operation waiting for the instance-wide limiter, whose FIFO then serves keys in turn (round robin).
 */
export class HeavyLane {
  private readonly total: Bottleneck;
  private readonly perKey: Bottleneck.Group;

  constructor(private readonly limits: HeavyLaneLimits) {
    this.total = new Bottleneck({ maxConcurrent: limits.total });
    this.perKey = new Bottleneck.Group({ maxConcurrent: limits.perKey, timeout: 60_000 });
    this.perKey.on('created', (limiter) => limiter.chain(this.total));
  }

  /**
   * Waits for a slot of `key`; resolves with the function that frees it (call it exactly once, when the
   * operation has finished). Refuses at once with LaneFullError when the key's queue is full.
   */
  async enter(key: string): Promise<() => void> {
    if (this.isFull(key)) throw new LaneFullError(key, this.waiting(key));
    const limiter = this.perKey.key(key);
    return new Promise((resolveEntered, rejectEntered) => {
      limiter
        .schedule(
          () =>
            new Promise<void>((release) => {
              let released = false;
              resolveEntered(() => {
                if (released) return;
                released = true;
                release();
              });
            }),
        )
        .catch(rejectEntered);
    });
  }

  /** Operations of `key` waiting behind its own limit. */
  waiting(key: string): number {
    // A job waiting for (or running on) the instance-wide limiter is RUNNING/EXECUTING for its key's
    // limiter; RECEIVED and QUEUED are the ones waiting behind the key's own limit.
    const counts = this.perKey.key(key).counts();
    return counts.RECEIVED + counts.QUEUED;
  }

  /** True when `key` has every slot taken and its queue full: one more would be refused. */
  isFull(key: string): boolean {
    const counts = this.perKey.key(key).counts();
    return counts.RUNNING + counts.EXECUTING >= this.limits.perKey && counts.RECEIVED + counts.QUEUED >= this.limits.queuePerKey;
  }

  /** Operations running and waiting, all keys together. */
  stats(): { running: number; waiting: number } {
    const c = this.total.counts();
    let waiting = c.RECEIVED + c.QUEUED;
    for (const limiter of this.perKey.limiters()) {
      const k = limiter.limiter.counts();
      waiting += k.RECEIVED + k.QUEUED;
    }
    return { running: c.RUNNING + c.EXECUTING, waiting };
  }

  async close(): Promise<void> {
    await Promise.all([this.total.disconnect(), ...this.perKey.limiters().map((l) => l.limiter.disconnect())]);
  }
}
