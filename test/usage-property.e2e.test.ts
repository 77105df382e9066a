import fc from 'fast-check';
import { addDevices, addLines, assign, createAccountTenant, dnaTag, gqlData, HSEC_TAG, retireAndRegisterAgain, type AccountTenant } from './support/assignment-fixtures';
import { deviceInput, registerDevices } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { DAY_MS, licenseUsage, type Granularity, type UsageRowView } from './support/usage-fixtures';

/**
 * Property: for random sequences of assign / replace / release / re-register / decommission on a stopped clock that
 * moves between operations, licenseUsage (DAY and MONTH, over a random part of the history) equals
 * what an independent model of the same operations computes. To add an operation, add a command class
 * and its arbitrary to OPERATIONS: `run` applies it to the model and to the real server.
 */

const DEVICES = 4;
const PRODUCTS = {
  A1: { tag: dnaTag('A', 'T1'), category: 'DNA', select: { level: 'ADVANTAGE', tier: 'T1' } },
  E0: { tag: dnaTag('E', 'T0'), category: 'DNA', select: { level: 'ESSENTIALS', tier: 'T0' } },
  HSEC: { tag: HSEC_TAG, category: 'HSEC', select: { hsec: true } },
} as const;
type Product = keyof typeof PRODUCTS;
type Billing = 'PREPAID' | 'POSTPAID';
const MODEL_OF: Record<Billing, string> = { PREPAID: 'A_LA_CARTE', POSTPAID: 'MSLA_U' };

interface Interval {
  tag: string;
  billing: Billing;
  from: number;
  to: number | null;
}
interface Model {
  now: number;
  /** What each device holds per category, since when. */
  holding: Map<string, Interval>;
  closed: Interval[];
}
interface Real {
  server: TestServer;
  tenant: AccountTenant;
  deviceIds: string[];
}

function close(model: Model, key: string): void {
  const held = model.holding.get(key);
  if (!held) return;
  model.closed.push({ ...held, to: model.now });
  model.holding.delete(key);
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    model.now += this.ms;
    real.server.runtime.clock.advance(this.ms);
  }
  toString = (): string => `advance(${this.ms})`;
}

/** Assigns (or replaces with) a product and billing type; the same product and billing again is unchanged. */
class Assign implements fc.AsyncCommand<Model, Real> {
  constructor(readonly devices: number[], readonly product: Product, readonly billing: Billing) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    const { tag, category, select } = PRODUCTS[this.product];
    for (const d of this.devices) {
      const key = `${d}:${category}`;
      const held = model.holding.get(key);
      if (held && held.tag === tag && held.billing === this.billing) continue;
      close(model, key);
      model.holding.set(key, { tag, billing: this.billing, from: model.now, to: null });
    }
    await assign(real.server, real.tenant.operator, { deviceIds: this.devices.map((d) => real.deviceIds[d]), ...select, billingType: this.billing });
  }
  toString = (): string => `assign(${this.devices}, ${this.product}, ${this.billing})`;
}

class Release implements fc.AsyncCommand<Model, Real> {
  constructor(readonly devices: number[], readonly category: 'DNA' | 'HSEC' | null) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    for (const d of this.devices) for (const c of this.category ? [this.category] : ['DNA', 'HSEC']) close(model, `${d}:${c}`);
    await gqlData(
      real.server,
      'mutation($input: ReleaseLicensesInput!) { releaseLicenses(input: $input) { released } }',
      { input: { deviceIds: this.devices.map((d) => real.deviceIds[d]), category: this.category } },
      real.tenant.operator,
    );
  }
  toString = (): string => `release(${this.devices}, ${this.category ?? 'ALL'})`;
}

/** Registering a known uuid again (new hostname) changes what the device is, not what it holds. */
class Reregister implements fc.AsyncCommand<Model, Real> {
  constructor(readonly devices: number[]) {}
  check = (): boolean => true;
  async run(_model: Model, real: Real): Promise<void> {
    await registerDevices(
      real.server,
      real.tenant.admin,
      this.devices.map((d) => deviceInput(d + 1, { hsecCompatible: true, hostname: `re-${d}-${Date.now()}.example` })),
    );
  }
  toString = (): string => `reregister(${this.devices})`;
}

/**
 * Retires routers (every license they hold ends now) and registers their uuids again at once: the
 * same slot is then a new device, holding nothing.
 */
class Decommission implements fc.AsyncCommand<Model, Real> {
  constructor(readonly devices: number[]) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    for (const d of this.devices) for (const c of ['DNA', 'HSEC']) close(model, `${d}:${c}`);
    await retireAndRegisterAgain(real.server, real.tenant, real.deviceIds, this.devices);
  }
  toString = (): string => `decommission(${this.devices})`;
}

const devicesArb = fc.uniqueArray(fc.integer({ min: 0, max: DEVICES - 1 }), { minLength: 1, maxLength: DEVICES });
const OPERATIONS: fc.Arbitrary<fc.AsyncCommand<Model, Real>>[] = [
  fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 * 3_600_000 }), fc.integer({ min: 1, max: 20 * DAY_MS })).map((ms) => new Advance(ms)),
  fc.tuple(devicesArb, fc.constantFrom<Product>('A1', 'E0', 'HSEC'), fc.constantFrom<Billing>('PREPAID', 'POSTPAID')).map(([d, p, b]) => new Assign(d, p, b)),
  fc.tuple(devicesArb, fc.constantFrom<'DNA' | 'HSEC' | null>('DNA', 'HSEC', null)).map(([d, c]) => new Release(d, c)),
  devicesArb.map((d) => new Reregister(d)),
  devicesArb.map((d) => new Decommission(d)),
];

/** UTC period starts of [from, to): day or month buckets. */
function periodsOf(from: number, to: number, granularity: Granularity): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  const first = new Date(from);
  let bucket = granularity === 'DAY' ? Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate()) : Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
  while (bucket < to) {
    const b = new Date(bucket);
    const next = granularity === 'DAY' ? bucket + DAY_MS : Date.UTC(b.getUTCFullYear(), b.getUTCMonth() + 1, 1);
    out.push({ start: Math.max(bucket, from), end: Math.min(next, to) });
    bucket = next;
  }
  return out;
}

interface Expected {
  key: string;
  deviceDays: number;
  peak: number;
  average: number;
}

/** The figures as README defines them, computed directly from the model's intervals. */
function expectedUsage(intervals: Interval[], now: number, from: number, to: number, granularity: Granularity): Expected[] {
  const out: Expected[] = [];
  for (const p of periodsOf(from, Math.min(to, now), granularity)) {
    const groups = new Map<string, Interval[]>();
    for (const i of intervals) {
      const key = `${new Date(p.start).toISOString()}|${i.tag}|${i.billing}|${MODEL_OF[i.billing]}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    }
    for (const [key, group] of groups) {
      const overlap = (i: Interval): number => Math.max(0, Math.min(i.to ?? Infinity, p.end) - Math.max(i.from, p.start));
      const deviceDays = group.reduce((sum, i) => sum + overlap(i), 0) / DAY_MS;
      if (deviceDays === 0) continue;
      // Held at instant t: from <= t < to. The most devices are held at some interval start (or the period start).
      const instants = [p.start, ...group.map((i) => i.from).filter((t) => t >= p.start && t < p.end)];
      const peak = Math.max(...instants.map((t) => group.filter((i) => i.from <= t && t < (i.to ?? Infinity)).length));
      out.push({ key, deviceDays, peak, average: deviceDays / ((p.end - p.start) / DAY_MS) });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

function actual(rows: UsageRowView[]): Expected[] {
  return rows
    .map((r) => ({ key: `${r.periodStart}|${r.entitlement.tag}|${r.billingType}|${r.billingModel}`, deviceDays: r.deviceDays, peak: r.peakDevices, average: r.averageDevices }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function expectClose(got: Expected[], want: Expected[]): void {
  expect(got.map((g) => [g.key, g.peak])).toEqual(want.map((w) => [w.key, w.peak]));
  got.forEach((g, i) => {
    expect(Math.abs(g.deviceDays - want[i].deviceDays)).toBeLessThan(1e-9 * Math.max(1, want[i].deviceDays));
    expect(Math.abs(g.average - want[i].average)).toBeLessThan(1e-9 * Math.max(1, want[i].average));
  });
}

describe('licenseUsage against a model of the operations (property)', () => {
  let server: TestServer;
  let runs = 0;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    server.runtime.clock.reset();
    await server?.close();
  });

  it('equals the independent calculation for random assign / replace / release / re-register / decommission sequences, by DAY and by MONTH', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(OPERATIONS, { maxCommands: 12 }),
        fc.integer({ min: Date.parse('2027-01-01T00:00:00Z'), max: Date.parse('2028-06-01T00:00:00Z') }),
        fc.tuple(fc.double({ min: -0.2, max: 1.2, noNaN: true }), fc.double({ min: -0.2, max: 1.2, noNaN: true })),
        fc.tuple(fc.double({ min: -0.2, max: 1.2, noNaN: true }), fc.double({ min: -0.2, max: 1.2, noNaN: true })),
        async (commands, start, dayRange, monthRange) => {
          server.runtime.clock.set(new Date(start));
          const tenant = await createAccountTenant(server, `prop-${++runs}`);
          await addLines(
            server,
            tenant,
            (Object.values(PRODUCTS) as { tag: string }[]).flatMap(({ tag }) =>
              (['PREPAID', 'POSTPAID'] as const).map((billingType) => ({ tag, billingType, quantity: 100, startInDays: -3650, endInDays: 3650 })),
            ),
          );
          const deviceIds = await addDevices(server, tenant, DEVICES);
          const model: Model = { now: start, holding: new Map(), closed: [] };
          await fc.asyncModelRun(() => ({ model, real: { server, tenant, deviceIds } }), commands);
          const intervals = [...model.closed, ...model.holding.values()];
          const span = Math.max(model.now - start, DAY_MS);
          for (const [granularity, fractions] of [['DAY', dayRange], ['MONTH', monthRange]] as const) {
            const [a, b] = [...fractions].sort((x, y) => x - y);
            const from = Math.round(start + a * span);
            const to = Math.max(Math.round(start + b * span), from + 1);
            const rows = await licenseUsage(server, tenant.operator, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), granularity });
            expectClose(actual(rows), expectedUsage(intervals, model.now, from, to, granularity));
          }
        },
      ),
      { numRuns: 50 },
    );
  }, 120_000);
});
