import type { ComplexityEstimatorArgs } from 'graphql-query-complexity';

/**
 * What an operation costs against its tenant's budget (see server/cost-guard.ts), in points. Queries
 * cost what the estimator computes for MAX_QUERY_COST (every field 1, a connection its page size
 * times a node). Mutations declare theirs with these helpers, from the rows they will touch, calibrated
 * on measured server time: a tenant page (851 points) takes ~3.5 ms, assigning licenses to 1,250
 * devices ~500 ms, so a device touched by a bulk mutation costs 100 points.
 */
export const COST = {
  /** Any mutation, on top of what it touches and what it selects. */
  mutation: 10,
  /** Each device assigned, released or decommissioned. */
  deviceChange: 100,
  /** Each device registered (an upsert; no license work). */
  deviceRegistration: 50,
  /** Each license line written by hand. */
  licenseLine: 50,
  /** Each byte of an uploaded file: a 10 MB file costs 100,000. */
  perUploadedByte: 0.01,
  /** Work whose size is not in its arguments: a sync against the license server (thousands of lines). */
  licenseSync: 20_000,
  /** A usage report covers every device of the tenant (100,000 devices: ~2 s). */
  usageReport: 50_000,
  /** Reconciling every pending assignment of a tenant. */
  reconcile: 5_000,
  /**
   * Devices a bulk call named by a filter is charged for: the cost is taken before the filter is
   * matched, so it is an estimate (a tenth of the 10,000-device limit), not the count.
   */
  filterDevices: 1_000,
  /** Deleting a tenant: every row it owns (100,000 devices' worth: a few seconds). */
  tenantDeletion: 50_000,
  /** licenseUsage (and its CSV): reading a range of usage history, whatever its length. */
  usageQuery: 5_000,
  /** Each period (day or month) licenseUsage reports. */
  usagePeriod: 200,
} as const;

type Complexity = (options: ComplexityEstimatorArgs) => number;

/** `base` plus `each` points per element of the list at `path` in the field's arguments. */
export function perItem(path: readonly string[], each: number, base: number = COST.mutation): Complexity {
  return ({ args, childComplexity }) => {
    let value: unknown = args;
    for (const key of path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const n = Array.isArray(value) ? value.length : 0;
    return base + Math.ceil(n * each) + childComplexity;
  };
}

/**
 * A bulk device operation: `each` points per device in `input.deviceIds`, or per COST.filterDevices
 * when `input.filter` names them.
 */
export function perDevice(each: number): Complexity {
  const byIds = perItem(['input', 'deviceIds'], each);
  return (options) => {
    const input = options.args.input as { filter?: unknown } | undefined;
    return input?.filter ? COST.mutation + COST.filterDevices * each + options.childComplexity : byIds(options);
  };
}

/** A fixed cost for work whose size its arguments do not tell. */
export function fixed(points: number): Complexity {
  return ({ childComplexity }) => COST.mutation + points + childComplexity;
}

/**
 * licenseUsage: the history read grows with the range, the rows with its periods (at most 366 days
 * or 120 months; usage.service.ts refuses more). Arguments that do not parse cost the base.
 */
export function usageCost(): Complexity {
  return ({ args, childComplexity }) => {
    const from = args.from instanceof Date ? args.from.getTime() : NaN;
    const to = args.to instanceof Date ? args.to.getTime() : NaN;
    const days = Number.isFinite(from) && Number.isFinite(to) && to > from ? Math.ceil((to - from) / 86_400_000) : 0;
    const periods = args.granularity === 'MONTH' ? Math.ceil(days / 28) : days;
    return COST.usageQuery + Math.min(periods, 366) * COST.usagePeriod + childComplexity;
  };
}

/** An upload: what its file weighs, whether it came as a multipart file part or base64 in the JSON. */
export function perUploadedByte(): Complexity {
  return ({ args, childComplexity }) => {
    const input = args.input as { file?: { content?: { length: number } } | null; contentBase64?: string | null } | undefined;
    const bytes = input?.file?.content?.length ?? Math.floor(((input?.contentBase64?.length ?? 0) * 3) / 4);
    return COST.mutation + Math.ceil(bytes * COST.perUploadedByte) + childComplexity;
  };
}
