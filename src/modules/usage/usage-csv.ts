import { toGlobalId } from '../../common/global-id';
import type { UsageRow } from './usage.types';

/** Header row of GET /files/license-usage.csv; one line per licenseUsage row, in the same order. */
export const USAGE_CSV_HEADER = [
  'tenant_id',
  'tenant_slug',
  'period_start',
  'period_end',
  'entitlement_tag',
  'entitlement_name',
  'billing_type',
  'billing_model',
  'device_days',
  'peak_devices',
  'average_devices',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a double quote, CR or LF, with double
 * quotes doubled; otherwise as is. Null is the empty field.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A record and its CRLF line break (RFC 4180). */
export function csvLine(fields: readonly (string | number | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** The CSV line of a usage row: ids as the API's global ids, instants in UTC ISO 8601, figures unrounded. */
export function usageCsvLine(row: UsageRow): string {
  return csvLine([
    toGlobalId('Tenant', row.tenant_id),
    row.tenant_slug,
    iso(row.period_start),
    iso(row.period_end),
    row.entitlement_tag,
    row.entitlement_name,
    row.billing_type,
    row.billing_model,
    row.device_days,
    row.peak_devices,
    row.average_devices,
  ]);
}
