import { CoalescingQueue, type QueueOverflow } from './coalescing-queue';

function queue(maxPending = 3): { q: CoalescingQueue<string>; ends: (QueueOverflow | undefined)[] } {
  const ends: (QueueOverflow | undefined)[] = [];
  return { q: new CoalescingQueue<string>(maxPending, (overflow) => ends.push(overflow)), ends };
}

async function drain(q: CoalescingQueue<string>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await q.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('CoalescingQueue', () => {
  it('keeps only the newest pending value of a key, in the position of its first arrival', async () => {
    const { q } = queue();
    q.push('a', 'a1');
    q.push('b', 'b1');
    q.push('a', 'a2');
    q.push('a', 'a3');
    expect(q.size).toBe(2);
    expect(await drain(q, 2)).toEqual(['a3', 'b1']);
  });

  it('hands a value straight to a reader that is waiting', async () => {
    const { q } = queue();
    const waiting = q.next();
    q.push('a', 'a1');
    expect(await waiting).toEqual({ value: 'a1', done: false });
    expect(q.size).toBe(0);
  });

  it('ends with "full" instead of buffering a key beyond the bound, and reports it once', async () => {
    const { q, ends } = queue(2);
    q.push('a', 'a1');
    q.push('b', 'b1');
    q.push('b', 'b2'); // an update of a pending key never overflows
    expect(ends).toEqual([]);
    q.push('c', 'c1');
    expect(ends).toEqual(['full']);
    expect(q.done).toBe(true);
    expect(q.size).toBe(0);
    q.push('d', 'd1');
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(ends).toEqual(['full']);
  });

  it('return() ends at once, also while a next() is waiting (no queued return as with async generators)', async () => {
    const { q, ends } = queue();
    const waiting = q.next();
    await expect(q.return()).resolves.toEqual({ value: undefined, done: true });
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(ends).toEqual([undefined]);
  });

  it('is stalled only when values wait for a reader that has not read for the given time', async () => {
    const { q } = queue();
    const now = Date.now();
    expect(q.stalledFor(1000, now + 5000)).toBe(false); // nothing waits
    q.push('a', 'a1');
    expect(q.stalledFor(1000, now + 500)).toBe(false);
    expect(q.stalledFor(1000, now + 5000)).toBe(true);
    await q.next();
    const waiting = q.next(); // a reader waiting is never stalled
    expect(q.stalledFor(1000, Date.now() + 5000)).toBe(false);
    q.end('stalled');
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(q.stalledFor(1000, Date.now() + 5000)).toBe(false);
  });

  it('refuses a second concurrent next() rather than losing a value', async () => {
    const { q } = queue();
    const first = q.next();
    await expect(q.next()).rejects.toThrow(/while another next\(\) is waiting/);
    q.push('a', 'a1');
    await expect(first).resolves.toEqual({ value: 'a1', done: false });
  });
});
