import { gqlData, gqlError, type GqlError } from './assignment-fixtures';
import type { TestServer } from './harness';

/** Helpers for the usage-history suites: licenseUsage and the CSV route through the real server. */

export const LICENSE_USAGE = `query($tenantId: ID, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {
  licenseUsage(tenantId: $tenantId, from: $from, to: $to, granularity: $granularity) {
    tenant { id slug } periodStart periodEnd entitlement { tag } billingType billingModel deviceDays peakDevices averageDevices
  }
}`;

export type Granularity = 'DAY' | 'MONTH';

export interface UsageArgs {
  tenantId?: string;
  from: string;
  to: string;
  granularity: Granularity;
}

export interface UsageRowView {
  tenant: { id: string; slug: string };
  periodStart: string;
  periodEnd: string;
  entitlement: { tag: string };
  billingType: 'PREPAID' | 'POSTPAID' | null;
  billingModel: 'A_LA_CARTE' | 'ENTERPRISE_AGREEMENT' | 'MSLA_U' | 'MSLA_C' | null;
  deviceDays: number;
  peakDevices: number;
  averageDevices: number;
}

export async function licenseUsage(server: TestServer, token: string, args: UsageArgs): Promise<UsageRowView[]> {
  return (await gqlData<{ licenseUsage: UsageRowView[] }>(server, LICENSE_USAGE, { ...args }, token)).licenseUsage;
}

export function licenseUsageError(server: TestServer, token: string, args: UsageArgs): Promise<GqlError> {
  return gqlError(server, LICENSE_USAGE, { ...args }, token);
}

/** GET /files/license-usage.csv with the given query parameters (and token, when given). */
export async function usageCsv(server: TestServer, params: Record<string, string>, token?: string): Promise<Response> {
  const query = new URLSearchParams(params).toString();
  return fetch(`${server.origin}/files/license-usage.csv?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** The stored history of a tenant's assignments, oldest first (the owner connection bypasses RLS). */
export async function intervalsOf(
  server: TestServer,
  tenantUuid: string,
): Promise<{ assignment_id: string; device_id: string; tag: string; license_id: string | null; billing_type: string | null; billing_model: string | null; valid_from: Date; valid_to: Date | null }[]> {
  return server.sql(
    `select i.assignment_id, i.device_id, e.tag, i.license_id, i.billing_type, i.billing_model, i.valid_from, i.valid_to
       from license_usage_interval i join entitlement e on e.id = i.entitlement_id
      where i.tenant_id = $1 order by i.valid_from, i.valid_to nulls last, i.id`,
    [tenantUuid],
  );
}

export const DAY_MS = 86_400_000;
