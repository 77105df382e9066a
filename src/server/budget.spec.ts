import fc from 'fast-check';
import { gcra, MemoryBudgetStore } from './budget';

const limits = { capacity: 1000, restoreRate: 100 };

describe('cost budgets (GCRA leaky bucket)', () => {
  it('admits up to the capacity at once, then refuses with the time until the cost fits again', () => {
    const now = 1_000_000;
    const first = gcra(undefined, now, 800, limits);
    expect(first.decision).toEqual({ allowed: true, requested: 800, remaining: 200, retryAfterMs: 0 });
    const second = gcra(first.tatMs, now, 300, limits);
    // 100 points missing at 100 points per second: one second.
    expect(second.decision).toEqual({ allowed: false, requested: 300, remaining: 200, retryAfterMs: 1000 });
    expect(second.tatMs).toBe(first.tatMs);
    const later = gcra(second.tatMs, now + 1000, 300, limits);
    expect(later.decision).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('never admits more than capacity plus what was restored, whatever the sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 1200 })), { maxLength: 60 }), (steps) => {
        let tat: number | undefined;
        let now = 0;
        let admitted = 0;
        for (const [waitMs, cost] of steps) {
          now += waitMs;
          const { decision, tatMs } = gcra(tat, now, cost, limits);
          tat = tatMs;
          if (decision.allowed) admitted += cost;
          expect(decision.remaining).toBeGreaterThanOrEqual(0);
          expect(decision.remaining).toBeLessThanOrEqual(limits.capacity);
          expect(admitted).toBeLessThanOrEqual(limits.capacity + (now * limits.restoreRate) / 1000 + 1e-6);
        }
      }),
    );
  });

  it('refuses a cost larger than the capacity even from a full bucket', () => {
    expect(gcra(undefined, 0, 1001, limits).decision.allowed).toBe(false);
  });

  it('keeps separate buckets per key in memory and forgets keys whose bucket is full again', async () => {
    let now = 0;
    const store = new MemoryBudgetStore(() => now);
    expect((await store.take('tenant:a', 1000, limits)).allowed).toBe(true);
    expect((await store.take('tenant:a', 1, limits)).allowed).toBe(false);
    expect((await store.take('tenant:b', 1000, limits)).allowed).toBe(true);
    expect(store.size).toBe(2);
    now = 120_000;
    await store.take('tenant:c', 1, limits);
    expect(store.size).toBe(1);
  });
});
