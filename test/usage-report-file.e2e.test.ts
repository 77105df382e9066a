import { randomUUID } from 'node:crypto';
import { buildUsageReport, parseUsageReport } from '../src/ssm/files/formats';
import { usageMeasurementBatches, usageMeasurements } from '../src/modules/sync/sync.service';
import { CHUNK_BYTES } from '../src/modules/sync/usage-report-file';
import { createTrialTenant, dbId, gqlData, type AccountTenant } from './support/assignment-fixtures';
import { startTestServer, type TestServer } from './support/harness';
import { addLicenses, configureAccount, licenseLine } from './support/license-fixtures';
import { download, errorCodeOf, GENERATE_REPORT, sha256, usageReportGlobalId, type UsageReportView } from './support/offline-fixtures';

/**
 * Where an offline usage report file is kept and how it comes back: written in chunks as it is
 * generated (usage_report_chunk), streamed chunk by chunk on GET /files/usage-reports/:id with the
 * file's size as content-length, and reports stored whole before chunks still download as they were.
 */

let server: TestServer;
let seq = 0;
const slug = (label: string): string => `urf-${label}-${++seq}`;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function generateReport(token: string): Promise<UsageReportView> {
  return (await gqlData<{ generateUsageReport: UsageReportView }>(server, GENERATE_REPORT, { input: {} }, token)).generateUsageReport;
}

/**
 * A tenant with a managed virtual account, a postpaid line and `devices` devices holding it, arranged
 * as the owner. Hostnames of `hostnameLength` random hex characters make the report file about
 * devices * hostnameLength / 2 bytes: gzip cannot shrink them below 4 bits a character.
 */
async function tenantWithDevices(label: string, devices: number, hostnameLength: number): Promise<AccountTenant> {
  const tenant = await createTrialTenant(server, slug(label));
  const account = await configureAccount(server, tenant, { virtualAccounts: ['main'], managed: ['main'] });
  const [line] = await addLicenses(server, tenant, [
    licenseLine(account.vaIds.main, { billingType: 'POSTPAID', billingModel: 'MSLA_U', quantity: 0, subscriptionId: 'SUB-URF' }),
  ]);
  await server.sql(
    `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version)
     select $1, 'URF-' || lpad(n::text, 6, '0'),
            left((select string_agg(md5(n::text || ':' || k::text || random()::text), '') from generate_series(1, 8) k), $3),
            'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a'
       from generate_series(1, $2::int) n`,
    [tenant.uuid, devices, hostnameLength],
  );
  await server.sql(
    `insert into assignment (tenant_id, device_id, entitlement_id, category, license_id, billing_type, status, assigned_at, assigned_by)
     select d.tenant_id, d.id, l.entitlement_id, 'DNA', l.id, 'POSTPAID', 'ACTIVE', now() - interval '1 day', 'test'
       from device d join license l on l.tenant_id = d.tenant_id and l.id = $2 where d.tenant_id = $1`,
    [tenant.uuid, dbId(line.id)],
  );
  return tenant;
}

async function chunksOf(reportId: string): Promise<{ seq: number; bytes: number }[]> {
  return server.sql<{ seq: number; bytes: number }>(
    'select seq, length(data) as bytes from usage_report_chunk where report_id = $1 order by seq',
    [dbId(reportId)],
  );
}

describe('usage report file storage and download', () => {
  it('stores a file larger than one chunk in chunks only, and downloads it whole: the bytes the digest and size name', async () => {
    const tenant = await tenantWithDevices('big', 6000, 250);
    const report = await generateReport(tenant.admin);
    expect(report.fileSize).toBeGreaterThan(CHUNK_BYTES);

    const chunks = await chunksOf(report.id);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(chunks.reduce((n, c) => n + c.bytes, 0)).toBe(report.fileSize);
    const [row] = await server.sql<{ file: Buffer | null; file_chunks: number }>('select file, file_chunks from usage_report where id = $1', [dbId(report.id)]);
    expect(row).toEqual({ file: null, file_chunks: chunks.length });

    const res = await fetch(`${server.origin}${report.downloadUrl}`, { headers: { authorization: `Bearer ${tenant.admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(report.fileSize));
    expect(res.headers.get('content-type')).toBe('application/gzip');
    const file = Buffer.from(await res.arrayBuffer());
    expect(file.length).toBe(report.fileSize);
    expect(sha256(file)).toBe(report.fileDigest);
    const parsed = await parseUsageReport(file);
    expect(parsed.measurements).toHaveLength(6000);
    expect(parsed.manifest.reportId).toBe(dbId(report.id));
  }, 120_000);

  it('reads through its cursor the measurements usageMeasurements reads, in the same order, in toISOString form', async () => {
    const tenant = await tenantWithDevices('same', 60, 20);
    // Periods with microseconds; assignments starting inside the period or exactly at its start,
    // released inside it, before, after or exactly at its end; pending ones (no line, billing type
    // asked for or not) on another category.
    const [p] = await server.sql<{ start: string; end: string; va: string }>(
      `select to_json(now() - interval '2 days 0.123456 seconds') #>> '{}' as start, to_json(now() - interval '0.654321 seconds') #>> '{}' as "end",
              (select virtual_account_id::text from license where tenant_id = $1) as va`,
      [tenant.uuid],
    );
    const period = { start: p.start, end: p.end };
    await server.sql(
      `with d as (select a.id, row_number() over (order by dv.uuid) as n from assignment a join device dv on dv.id = a.device_id where a.tenant_id = $1)
       update assignment a set
         assigned_at = case when d.n <= 10 then $2::timestamptz + interval '1 hour 0.000999 seconds'
                            when d.n between 37 and 38 then $2::timestamptz else a.assigned_at - interval '2 days' end,
         released_at = case when d.n between 11 and 20 then $3::timestamptz - interval '1 hour 0.0004 seconds'
                            when d.n between 21 and 25 then $2::timestamptz - interval '1 hour'
                            when d.n between 26 and 30 then $3::timestamptz + interval '1 hour'
                            when d.n between 39 and 40 then $3::timestamptz end
         from d where a.id = d.id`,
      [tenant.uuid, period.start, period.end],
    );
    await server.sql(
      `insert into assignment (tenant_id, device_id, entitlement_id, category, billing_type, status, assigned_at, assigned_by)
       select dv.tenant_id, dv.id, (select id from entitlement where tag = 'regid.2019-03.com.cisco.HSECK9'), 'HSEC',
              case when n % 2 = 0 then 'POSTPAID' end, 'PENDING_RECONCILIATION', $2::timestamptz + interval '5 minutes', 'test'
         from (select dv.*, row_number() over (order by uuid) as n from device dv where tenant_id = $1) dv where n between 31 and 36`,
      [tenant.uuid, period.start],
    );

    const em = server.db.orm.em.fork();
    await em.transactional(async (tx) => {
      await tx.execute("select set_config('app.tenant_id', ?, true), set_config('app.role', 'TENANT_ADMIN', true)", [tenant.uuid]);
      for (const va of [null, p.va]) {
        const plain = (await usageMeasurements(tx, tenant.uuid, period, va)).map(({ virtual_account_id: _va, ...m }) => ({
          ...m,
          start: new Date(m.start).toISOString(),
          end: new Date(m.end).toISOString(),
        }));
        expect(plain.length).toBe(va ? 55 : 61);
        for (const batchSize of [7, 11, 1000]) {
          const streamed = [];
          for await (const batch of usageMeasurementBatches(tx, tenant.uuid, period, va, batchSize)) {
            expect(batch.length).toBeLessThanOrEqual(batchSize);
            streamed.push(...batch);
          }
          expect(streamed).toEqual(plain);
        }
      }
    });
  });

  it('answers HEAD with the headers of the file and no body', async () => {
    const tenant = await tenantWithDevices('head', 3, 20);
    const report = await generateReport(tenant.admin);
    const res = await fetch(`${server.origin}${report.downloadUrl}`, { method: 'HEAD', headers: { authorization: `Bearer ${tenant.admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(report.fileSize));
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="usage-report-${dbId(report.id)}.tar.gz"`);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('still downloads a report stored whole in usage_report.file before chunks existed, to its tenant only', async () => {
    const tenant = await tenantWithDevices('legacy', 1, 20);
    const other = await createTrialTenant(server, slug('legacy-other'));
    const id = randomUUID();
    const file = await buildUsageReport(
      { reportId: id, generatedAt: '2026-11-28T10:00:00.000Z', smartAccount: null, virtualAccount: null, period: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-28T10:00:00.000Z' } },
      [],
    );
    await server.sql(
      `insert into usage_report (tenant_id, id, via, period_start, period_end, generated_by, measurements, file, file_digest, file_size, status)
       values ($1, $2, 'OFFLINE', '2026-11-01', '2026-11-28', 'before-chunks', 0, $3, $4, $5, 'GENERATED')`,
      [tenant.uuid, id, file, sha256(file), file.length],
    );
    const path = `/files/usage-reports/${usageReportGlobalId(id)}`;

    const res = await download(server, path, tenant.admin);
    expect({ status: res.status, same: res.body.equals(file) }).toEqual({ status: 200, same: true });
    const foreign = await download(server, path, other.admin);
    expect({ status: foreign.status, code: errorCodeOf(foreign) }).toEqual({ status: 404, code: 'NOT_FOUND' });
    const provider = await download(server, path, server.token('PROVIDER_OPERATOR'));
    expect(provider.body.equals(file)).toBe(true);
  });

  it('refuses a row holding both a whole file and chunks (one store per report)', async () => {
    const tenant = await tenantWithDevices('both', 1, 20);
    const report = await generateReport(tenant.admin);
    await expect(server.sql("update usage_report set file = '\\x00' where id = $1", [dbId(report.id)])).rejects.toThrow(/usage_report_one_file_store/);
  });

  it('answers 500 without the file headers when the first chunk is gone, and cuts the body short when a later one is', async () => {
    const tenant = await tenantWithDevices('broken', 6000, 250);
    const report = await generateReport(tenant.admin);
    expect((await chunksOf(report.id)).length).toBeGreaterThan(1);

    await server.sql('delete from usage_report_chunk where report_id = $1 and seq = 1', [dbId(report.id)]);
    const cut = await fetch(`${server.origin}${report.downloadUrl}`, { headers: { authorization: `Bearer ${tenant.admin}` } });
    expect(cut.status).toBe(200);
    // Fewer bytes than content-length: the client sees a broken download, never a silently short file.
    await expect(cut.arrayBuffer()).rejects.toThrow();

    await server.sql('delete from usage_report_chunk where report_id = $1 and seq = 0', [dbId(report.id)]);
    const gone = await download(server, report.downloadUrl ?? '', tenant.admin);
    expect({ status: gone.status, type: gone.contentType, code: errorCodeOf(gone) }).toEqual({
      status: 500,
      type: 'application/json; charset=utf-8',
      code: 'INTERNAL_SERVER_ERROR',
    });
  }, 120_000);
});
