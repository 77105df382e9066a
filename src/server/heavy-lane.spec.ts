import { HeavyLane, LaneFullError } from './heavy-lane';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('HeavyLane', () => {
  let lane: HeavyLane;
  afterEach(async () => {
    await lane.close();
  });

  it('runs one operation per key at a time, queues a bounded number and refuses the rest', async () => {
    lane = new HeavyLane({ perKey: 1, queuePerKey: 2, total: 4 });
    const started: string[] = [];
    const first = await lane.enter('tenant:a');
    const waiting = [lane.enter('tenant:a').then((r) => (started.push('a2'), r)), lane.enter('tenant:a').then((r) => (started.push('a3'), r))];
    await tick();
    expect(started).toEqual([]);
    await expect(lane.enter('tenant:a')).rejects.toBeInstanceOf(LaneFullError);
    // Another key is not held up by a's queue.
    const other = await lane.enter('tenant:b');
    other();
    first();
    const second = await waiting[0];
    expect(started).toEqual(['a2']);
    second();
    (await waiting[1])();
    expect(started).toEqual(['a2', 'a3']);
  });

  it('serves keys in turn when the instance-wide limit is reached', async () => {
    lane = new HeavyLane({ perKey: 1, queuePerKey: 10, total: 1 });
    const order: string[] = [];
    const a1 = await lane.enter('a');
    const next = ['a', 'a', 'b', 'c'].map((key, i) =>
      lane.enter(key).then((release) => {
        order.push(`${key}${i}`);
        release();
      }),
    );
    // Bottleneck moves jobs between its states asynchronously: wait until all four are waiting.
    for (let i = 0; i < 250 && lane.stats().waiting < 4; i++) await tick();
    expect(lane.stats()).toEqual({ running: 1, waiting: 4 });
    a1();
    await Promise.all(next);
    // b and c entered after a's second and third, yet run before a's third: one per key in turn.
    expect(order.indexOf('b2')).toBeLessThan(order.indexOf('a1'));
    expect(order.indexOf('c3')).toBeLessThan(order.indexOf('a1'));
    expect(order).toHaveLength(4);
    expect(lane.stats()).toEqual({ running: 0, waiting: 0 });
  });

  it('frees a slot once however often the release is called', async () => {
    lane = new HeavyLane({ perKey: 1, queuePerKey: 5, total: 1 });
    const release = await lane.enter('a');
    release();
    release();
    const again = await lane.enter('a');
    const blocked = lane.enter('b');
    let entered = false;
    void blocked.then(() => (entered = true));
    await tick();
    expect(entered).toBe(false);
    again();
    (await blocked)();
  });
});
