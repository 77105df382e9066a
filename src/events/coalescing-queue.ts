/** Why a queue ended early: it held more than its bound, or its reader stopped reading. */
export type QueueOverflow = 'full' | 'stalled';

/**
 * The buffer between a producer that must never wait (the alert bus) and one reader (a subscriber's
 * GraphQL stream). Values are state, not a log: a value pushed under a key that is still pending
 * replaces the pending one in place, so a reader that falls behind receives the newest state of
 * every key once, never a backlog of stale ones. The number of distinct pending keys is bounded:
 * the push that would exceed it ends the queue and reports 'full' instead of buffering or throwing.
 *
 * `return()` ends the queue at once, also while a `next()` is waiting (an async generator would
 * queue the return behind the pending `next()` and keep everything it references alive until the
 * next value arrives, which for a quiet subscription is never).
 */
export class CoalescingQueue<T> implements AsyncIterableIterator<T> {
  private pending = new Map<string, T>();
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;
  /** When the reader last took a value or started waiting; a stall is measured from here. */
  private lastReadAt = Date.now();

  constructor(
    private readonly maxPending: number,
    /** Called once when the queue ends, however it ends (reader's return, overflow, close). */
    private readonly onEnd: (overflow?: QueueOverflow) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get done(): boolean {
    return this.ended;
  }

  /** Hands `value` to a waiting reader or keeps it under `key` (replacing an older pending value). */
  push(key: string, value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const wake = this.waiting;
      this.waiting = undefined;
      this.lastReadAt = Date.now();
      wake({ value, done: false });
      return;
    }
    if (!this.pending.has(key) && this.pending.size >= this.maxPending) {
      this.end('full');
      return;
    }
    this.pending.set(key, value);
  }

  /** True when values have waited longer than `ms` for a reader that is not reading. */
  stalledFor(ms: number, now = Date.now()): boolean {
    return !this.ended && this.waiting === undefined && this.pending.size > 0 && now - this.lastReadAt > ms;
  }

  /** Ends the queue from the producer's side (overflow, stall, shutdown); pending values are dropped. */
  end(overflow?: QueueOverflow): void {
    if (this.ended) return;
    this.ended = true;
    this.pending.clear();
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.({ value: undefined, done: true });
    this.onEnd(overflow);
  }

  next(): Promise<IteratorResult<T>> {
    this.lastReadAt = Date.now();
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    const first = this.pending.entries().next();
    if (!first.done) {
      const [key, value] = first.value;
      this.pending.delete(key);
      return Promise.resolve({ value, done: false });
    }
    if (this.waiting) return Promise.reject(new Error('CoalescingQueue: next() called while another next() is waiting'));
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
