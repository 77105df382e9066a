import type { RequestContext } from '../../common/context';
import { toGlobalId } from '../../common/global-id';
import { inScope } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { resolveTenantScope } from '../tenants/tenant.service';
import { deviceFilterFromQuery, deviceFilterSql } from './device.filter';

/** A file streamed to the client: rows are produced as it reads them. */
export interface CsvFile {
  filename: string;
  lines: AsyncIterable<string>;
}

/** Rows read per statement: a page in hostname order, then the compliance of that page. */
const PAGE = 2_000;

const HEADER = [
  'tenant',
  'id',
  'uuid',
  'hostname',
  'system_ip',
  'model',
  'kind',
  'mode',
  'software_version',
  'site_id',
  'hsec_compatible',
  'state',
  'decommissioned_at',
  'compliance_status',
  'compliance_reasons',
  'dna_entitlement',
  'dna_status',
  'dna_billing_type',
  'dna_billing_model',
  'dna_subscription_id',
  'dna_end_date',
  'hsec_entitlement',
  'hsec_status',
];

interface ExportRow {
  id: string;
  tenant_id: string;
  tenant_slug: string;
  uuid: string;
  hostname: string;
  system_ip: string | null;
  model: string;
  kind: string;
  mode: string;
  software_version: string;
  site_id: string | null;
  hsec_compatible: boolean;
  decommissioned_at: Date | null;
  dna_tag: string | null;
  dna_status: string | null;
  dna_billing_type: string | null;
  dna_billing_model: string | null;
  dna_subscription_id: string | null;
  dna_end_date: string | null;
  hsec_tag: string | null;
  hsec_status: string | null;
}

/**
 * GET /files/devices.csv: the devices a DeviceFilter matches (query parameters named as its fields,
 * plus tenantId for providers), with compliance and the licenses they hold, in hostname order. The
 * query is checked before anything is sent (a bad one is a 400 with a coded error). Streamed: at most
 * one page of PAGE devices is in memory at a time, each page read when the client has taken the last
 * one, so each page is current as of its own read.
 */
export async function devicesCsv(ctx: RequestContext, query: URLSearchParams): Promise<CsvFile> {
  const filter = deviceFilterFromQuery(query);
  const tenantId = await resolveTenantScope(ctx, query.get('tenantId'));
  const f = deviceFilterSql(tenantId, filter);
  return {
    filename: 'devices.csv',
    lines: (async function* lines() {
      yield csvLine(HEADER);
      let after: [string, string] | null = null;
      for (;;) {
        const keyset: [string, string] | null = after;
        const page: { rows: ExportRow[]; reasons: Map<string, string[]> } = await inScope(ctx, async (em) => {
          const rows = await sql<ExportRow>(
            em,
            `select d.id, d.tenant_id, t.slug as tenant_slug, d.uuid, d.hostname, d.system_ip, d.model, d.kind, d.mode,
                    d.software_version, d.site_id, d.hsec_compatible, d.decommissioned_at,
                    dna.tag as dna_tag, dna.status as dna_status, dna.billing_type as dna_billing_type,
                    dna.billing_model as dna_billing_model, dna.subscription_id as dna_subscription_id, dna.end_date as dna_end_date,
                    hsec.tag as hsec_tag, hsec.status as hsec_status
               from (select * from device d where ${f.where}${keyset ? ' and (d.hostname, d.id) > (?, ?::uuid)' : ''}
                      order by d.hostname, d.id limit ?) d
               join tenant t on t.id = d.tenant_id
               left join lateral (${held('DNA')}) dna on true
               left join lateral (${held('HSEC')}) hsec on true
              order by d.hostname, d.id`,
            [...f.params, ...(keyset ?? []), PAGE],
          );
          const inService = rows.filter((r) => r.decommissioned_at === null).map((r) => r.id);
          const compliance = inService.length
            ? await sql<{ device_id: string; reasons: string[] }>(em, 'select c.device_id, c.reasons from device_compliance c where c.device_id = any(?::uuid[])', [
                pgArray(inService),
              ])
            : [];
          return { rows, reasons: new Map(compliance.map((c) => [c.device_id, c.reasons])) };
        });
        for (const r of page.rows) {
          const reasons = page.reasons.get(r.id) ?? [];
          yield csvLine([
            r.tenant_slug,
            toGlobalId('Device', r.id),
            r.uuid,
            r.hostname,
            r.system_ip,
            r.model,
            r.kind,
            r.mode,
            r.software_version,
            r.site_id,
            r.hsec_compatible,
            r.decommissioned_at ? 'DECOMMISSIONED' : 'ACTIVE',
            r.decommissioned_at ? r.decommissioned_at.toISOString() : null,
            reasons.length ? 'OUT_OF_COMPLIANCE' : 'COMPLIANT',
            reasons.join(';'),
            r.dna_tag,
            r.dna_status,
            r.dna_billing_type,
            r.dna_billing_model,
            r.dna_subscription_id,
            r.dna_end_date,
            r.hsec_tag,
            r.hsec_status,
          ]);
        }
        if (page.rows.length < PAGE) return;
        const last: ExportRow = page.rows[page.rows.length - 1];
        after = [last.hostname, last.id];
      }
    })(),
  };
}

/** The license of one category device d holds now, with its line's terms (none while pending). */
function held(category: 'DNA' | 'HSEC'): string {
  return `select e.tag, a.status, coalesce(l.billing_type, a.billing_type) as billing_type, l.billing_model,
                 l.subscription_id, l.end_date::text as end_date
            from assignment a join entitlement e on e.id = a.entitlement_id
            left join license l on l.tenant_id = a.tenant_id and l.id = a.license_id
           where a.tenant_id = d.tenant_id and a.device_id = d.id and a.released_at is null and a.category = '${category}'`;
}

/** One CSV record (RFC 4180): fields quoted when they hold a comma, quote or line break; CRLF ended. */
export function csvLine(fields: readonly (string | number | boolean | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const s = String(value);
  // A leading =, +, - or @ would be taken for a formula by spreadsheets (CSV injection): quoted with a tab-free apostrophe.
  const safe = /^[=+\-@]/.test(s) && typeof value === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
}
