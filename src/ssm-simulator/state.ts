/**
 * What the simulated license server knows: smart accounts, their virtual accounts and license lines,
 * generated deterministically from a seed (same seed, same accounts and lines), plus what it has
 * received since it started.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type BillingModel,
  type BillingType,
  type LicenseLine,
  LicenseLineSchema,
  type LicenseType,
  type SmartAccountInfo,
  SmartAccountInfoSchema,
  type UsageMeasurement,
  type VirtualAccountRef,
} from '../ssm/files/formats';

export interface SimVirtualAccount extends VirtualAccountRef {
  licenses: LicenseLine[];
}

export interface SimSmartAccount extends SmartAccountInfo {
  virtualAccounts: SimVirtualAccount[];
}

/** A usage report the simulator acknowledged, through the API (online) or a file upload (offline). */
export interface ReceivedUsage {
  via: 'api' | 'file';
  accountId: string;
  virtualAccountId: string;
  reportId: string;
  ackId: string;
  acknowledgedAt: string;
  /** sha256 hex of the uploaded file (file imports only). */
  digest: string | null;
  measurements: UsageMeasurement[];
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  /** The fault applied to this request, if any. */
  fault?: FaultKind;
}

export type FaultKind = 'http500' | 'timeout' | 'slow';

export interface Fault {
  /** http500: answer 500. timeout: never answer. slow: answer normally after delayMs. */
  kind: FaultKind;
  /** Number of requests to affect, then the fault clears itself. Default: until cleared. */
  count?: number;
  /** For `slow`; default 1000. */
  delayMs?: number;
}

/** The simulator's live state; tests may read it and change `accounts` in place. */
export interface SimulatorState {
  accounts: SimSmartAccount[];
  /** Last license summary serial issued, per smart account id. */
  summarySerials: Record<string, number>;
  /** Every acknowledged usage report, oldest first. */
  usage: ReceivedUsage[];
  /** The latest requests (at most 10,000) to /oauth and /api, with their status, oldest first. */
  requests: RequestRecord[];
  fault: (Fault & { remaining: number | null }) | null;
}

export const SEED_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

const virtualAccountSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/),
  name: z.string().min(1).max(256),
  licenses: z.array(LicenseLineSchema),
});
const smartAccountSchema = z.strictObject({
  accountId: z.string(),
  domain: z.string(),
  name: z.string(),
  virtualAccounts: z.array(virtualAccountSchema),
});

/** Validates accounts given through `PUT /__admin/state` (same field rules as the files); ids must be unique. */
export function parseAccounts(value: unknown): { ok: true; accounts: SimSmartAccount[] } | { ok: false; message: string } {
  const parsed = z.array(smartAccountSchema).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: `accounts.${issue.path.map(String).join('.')}: ${issue.message}` };
  }
  const accountIds = new Set<string>();
  const vaIds = new Set<string>();
  const lineIds = new Set<string>();
  for (const sa of parsed.data) {
    const info = SmartAccountInfoSchema.safeParse({ accountId: sa.accountId, domain: sa.domain, name: sa.name });
    if (!info.success) return { ok: false, message: `account ${sa.accountId}: ${info.error.issues[0].path.join('.')}: ${info.error.issues[0].message}` };
    if (accountIds.has(sa.accountId)) return { ok: false, message: `account ${sa.accountId} appears twice` };
    accountIds.add(sa.accountId);
    for (const va of sa.virtualAccounts) {
      if (vaIds.has(va.id)) return { ok: false, message: `virtual account ${va.id} appears twice` };
      vaIds.add(va.id);
      for (const line of va.licenses) {
        if (lineIds.has(line.lineId)) return { ok: false, message: `license line ${line.lineId} appears twice` };
        lineIds.add(line.lineId);
      }
    }
  }
  return { ok: true, accounts: parsed.data };
}

/** Small deterministic PRNG (mulberry32) seeded from sha256 of the text. */
function rngFrom(text: string): () => number {
  let a = createHash('sha256').update(text).digest().readUInt32BE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const HSEC_TAG = 'regid.2019-03.com.cisco.HSECK9';
export function dnaTag(level: 'E' | 'A' | 'P', tier: 0 | 1 | 2 | 3): string {
  return `regid.2020-10.com.cisco.DSTACK_T${tier}_${level}`;
}
const NETWORK_STACK_TAG = 'regid.2018-06.com.cisco.network-stack-advantage';
const OBSOLETE_DNA_TAG = 'SDWAN-DNA-E';

interface LineTemplate {
  va: 0 | 1 | 2;
  tag: string;
  billingType: BillingType;
  billingModel: BillingModel;
  licenseType?: LicenseType;
  /** [min, max] purchased quantity. */
  quantity: [number, number];
  years: number;
}

/** The handful of lines of a default (seed-only) smart account, spread over its three VAs. */
const DEFAULT_LINES: LineTemplate[] = [
  { va: 0, tag: dnaTag('A', 1), billingType: 'PREPAID', billingModel: 'A_LA_CARTE', quantity: [20, 40], years: 3 },
  { va: 0, tag: dnaTag('E', 0), billingType: 'PREPAID', billingModel: 'ENTERPRISE_AGREEMENT', quantity: [40, 80], years: 5 },
  { va: 0, tag: HSEC_TAG, billingType: 'PREPAID', billingModel: 'A_LA_CARTE', quantity: [5, 15], years: 3 },
  { va: 0, tag: NETWORK_STACK_TAG, billingType: 'PREPAID', billingModel: 'A_LA_CARTE', quantity: [5, 10], years: 3 },
  { va: 1, tag: dnaTag('A', 2), billingType: 'POSTPAID', billingModel: 'MSLA_C', quantity: [10, 30], years: 3 },
  { va: 1, tag: dnaTag('P', 3), billingType: 'POSTPAID', billingModel: 'MSLA_U', quantity: [0, 0], years: 3 },
  { va: 1, tag: HSEC_TAG, billingType: 'POSTPAID', billingModel: 'MSLA_U', quantity: [0, 0], years: 3 },
  { va: 1, tag: OBSOLETE_DNA_TAG, billingType: 'PREPAID', billingModel: 'A_LA_CARTE', quantity: [2, 4], years: 5 },
  { va: 2, tag: dnaTag('E', 1), billingType: 'PREPAID', billingModel: 'A_LA_CARTE', licenseType: 'DEMO', quantity: [3, 5], years: 1 },
];

const VA_NAMES = ['Campus', 'Branch', 'Lab'] as const;

/** The tags generated lines draw from: every DNA level and tier, HSEC. */
const GENERATED_TAGS = [...(['E', 'A', 'P'] as const).flatMap((l) => ([0, 1, 2, 3] as const).map((t) => dnaTag(l, t))), HSEC_TAG];
const GENERATED_BILLING: [BillingType, BillingModel][] = [
  ['PREPAID', 'A_LA_CARTE'],
  ['PREPAID', 'ENTERPRISE_AGREEMENT'],
  ['POSTPAID', 'MSLA_U'],
  ['POSTPAID', 'MSLA_C'],
];

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface SeedOptions {
  /** Smart accounts to create; default 2. */
  accounts?: number;
  /** When set, each smart account gets exactly this many generated lines (spread over its VAs) instead of the default handful. */
  lines?: number;
}

/**
 * Accounts for a seed. For `demo`: SA `SA-DEMO` (demo.example, "Demo Corp") with VAs `VA-DEMO-CAMPUS`,
 * `VA-DEMO-BRANCH`, `VA-DEMO-LAB`, and a second SA `SA-DEMO-2` (demo-2.example) with `VA-DEMO-2-*`.
 * Line ids are `<vaId>-L<n>`. Quantities, subscription ids and dates are drawn from the seed.
 */
export function seedAccounts(seed: string, options: SeedOptions = {}): SimSmartAccount[] {
  if (!SEED_PATTERN.test(seed)) throw new Error(`seed ${JSON.stringify(seed)} must be 1 to 32 of a-z 0-9 - (starting with a letter or digit)`);
  const count = options.accounts ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new Error('accounts must be an integer from 1 to 100');
  if (options.lines !== undefined && (!Number.isInteger(options.lines) || options.lines < 0 || options.lines > 1_000_000)) {
    throw new Error('lines must be an integer from 0 to 1000000');
  }
  const rng = rngFrom(`ssm-simulator:${seed}`);
  const int = (min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
  const label = seed.toUpperCase();
  const title = seed.charAt(0).toUpperCase() + seed.slice(1);
  const accounts: SimSmartAccount[] = [];
  for (let a = 0; a < count; a++) {
    const suffix = a === 0 ? '' : `-${a + 1}`;
    const accountId = `SA-${label}${suffix}`;
    const virtualAccounts: SimVirtualAccount[] = VA_NAMES.map((name) => ({ id: `VA-${label}${suffix}-${name.toUpperCase()}`, name, licenses: [] }));
    const makeLine = (vaIndex: number, t: Omit<LineTemplate, 'va'>): void => {
      const va = virtualAccounts[vaIndex];
      const start = new Date(Date.UTC(2025, int(0, 11), int(1, 28)));
      const end = new Date(start);
      if (t.licenseType === 'DEMO') end.setUTCDate(end.getUTCDate() + 90);
      else end.setUTCFullYear(end.getUTCFullYear() + t.years);
      const quantity = int(t.quantity[0], t.quantity[1]);
      va.licenses.push({
        lineId: `${va.id}-L${va.licenses.length + 1}`,
        entitlementTag: t.tag,
        billingType: t.billingType,
        billingModel: t.billingModel,
        subscriptionId: `Sub${int(100000, 999999)}`,
        licenseType: t.licenseType ?? 'TERM',
        quantity,
        inUse: t.billingType === 'PREPAID' ? int(0, quantity) : int(0, 20),
        startDate: isoDay(start),
        endDate: isoDay(end),
      });
    };
    if (options.lines === undefined) {
      for (const t of DEFAULT_LINES) makeLine(t.va, t);
    } else {
      for (let i = 0; i < options.lines; i++) {
        const [billingType, billingModel] = GENERATED_BILLING[int(0, GENERATED_BILLING.length - 1)];
        const prepaid = billingType === 'PREPAID';
        makeLine(i % virtualAccounts.length, {
          tag: GENERATED_TAGS[int(0, GENERATED_TAGS.length - 1)],
          billingType,
          billingModel,
          quantity: billingModel === 'MSLA_U' ? [0, 0] : prepaid ? [1, 500] : [10, 200],
          years: int(1, 5),
        });
      }
    }
    accounts.push({ accountId, domain: `${seed}${suffix}.example`, name: `${title} Corp${a === 0 ? '' : ` ${a + 1}`}`, virtualAccounts });
  }
  return accounts;
}

/** Default OAuth client id and secret of a seed's simulator (printed by the CLI, exposed on the handle). */
export function seedCredentials(seed: string): { clientId: string; clientSecret: string } {
  return {
    clientId: `slm-${seed}`,
    clientSecret: createHash('sha256').update(`ssm-simulator-client-secret:${seed}`).digest('hex').slice(0, 32),
  };
}
