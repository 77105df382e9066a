import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { RequestContext } from '../../common/context';
import { AppError, badInput, conflict, notFound } from '../../common/errors';
import { parseIdArg } from '../../common/global-id';
import type { Connection, CursorSpec } from '../../common/relay';
import { MAX_FILE_BYTES } from '../../common/upload';
import { newestFirstPage } from '../../db/pages';
import { inScope } from '../../db/scope';
import { sql } from '../../db/sql';
import { FileFormatError } from '../../ssm/files/archive';
import { parseAck, parseLicenseSummary, writeUsageReport } from '../../ssm/files/formats';
import { SmartAccount, type SmartAccountRow } from '../accounts/account.types';
import { evaluateAlerts } from '../alerts/alert.service';
import { recordAudit } from '../audit/audit.service';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import { loadSettings } from './sync-settings.service';
import { applyLicenseLines, nextPeriodStart, usageMeasurementBatches } from './sync.service';
import { findStoredUsageReportFile, type StoredUsageReportFile, UsageReportChunkWriter } from './usage-report-file';
import { SYNC_RUN_COLUMNS, SyncRun, USAGE_REPORT_COLUMNS, UsageReport, type GenerateUsageReportInput, type LicenseSummaryUpload, type SyncRunRow, type UploadFileInput, type UsageReportRow } from './sync.types';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const REPORT_CURSOR: CursorSpec = { list: 'usageReports', shape: ['timestamp', 'uuid'] };

/**
 * The uploaded file's bytes, from exactly one of `file` (multipart) and `contentBase64` (JSON);
 * refused before any parsing when it is empty, too large or not base64.
 */
function decodeUpload(input: UploadFileInput): Buffer {
  const hasFile = input.file != null;
  if (hasFile === (input.contentBase64 != null)) {
    throw badInput(
      `give exactly one of file (a multipart upload) and contentBase64 (a small file, base64-encoded); ${hasFile ? 'both were' : 'neither was'} given`,
      { argumentNames: ['file', 'contentBase64'] },
    );
  }
  const argumentName = hasFile ? 'file' : 'contentBase64';
  const refuse = (message: string, fileError: string): never => {
    throw badInput(message, { argumentName, fileError });
  };
  let buf: Buffer;
  if (input.file) {
    // The HTTP layer stopped reading at MAX_FILE_BYTES already; checked again here as the service's own rule.
    buf = input.file.content;
  } else {
    const text = (input.contentBase64 ?? '').replace(/\s+/g, '');
    // 4 base64 characters carry 3 bytes: refuse oversized files without decoding them.
    if (Math.floor((text.length * 3) / 4) > MAX_FILE_BYTES + 2) refuse('the file is larger than 10 MB', 'TOO_LARGE');
    if (!BASE64_RE.test(text)) refuse('contentBase64 is not base64', 'NOT_BASE64');
    buf = Buffer.from(text, 'base64');
  }
  if (buf.length === 0) refuse('the file is empty', 'EMPTY');
  if (buf.length > MAX_FILE_BYTES) refuse('the file is larger than 10 MB', 'TOO_LARGE');
  return buf;
}

function fileError(kind: string, err: unknown): never {
  if (err instanceof FileFormatError) {
    throw badInput(`the ${kind} was refused: ${err.message}`, { fileError: err.code });
  }
  throw err;
}

function trustedKeys(settings: { trusted_keys: { publicKey: string }[] }): string[] {
  const keys = settings.trusted_keys.map((k) => k.publicKey);
  if (keys.length === 0) throw badInput('no trusted signing key is configured: a provider admin adds one with setLicenseSyncMode');
  return keys;
}

/**
 * Offline step 1: the license summary file exported from the license server. Verified against the
 * trusted keys, checked against replay (its serial must be newer than the last accepted one) and
 * against the tenant's smart account, then applied atomically: smart account, virtual accounts,
 * every license line, and reconciliation of pending assignments.
 */
export async function uploadLicenseSummary(ctx: RequestContext, input: UploadFileInput): Promise<LicenseSummaryUpload> {
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const file = decodeUpload(input);
  const settings = await loadSettings(ctx);
  const summary = await parseLicenseSummary(file, trustedKeys(settings)).catch((err: unknown) => fileError('license summary file', err));
  const { smartAccount: sa, serial } = summary.manifest;
  try {
    return await inScope(ctx, async (em) => {
      await sql(em, "select pg_advisory_xact_lock(hashtext('smart_account:' || ?))", [tenantId]);
      const [existing] = await sql<{ id: string; external_id: string; last_summary_serial: number | null }>(
        em,
        'select id, external_id, last_summary_serial from smart_account where tenant_id = ? for update',
        [tenantId],
      );
      if (existing && existing.external_id !== sa.accountId) {
        throw badInput(`the file is for smart account ${sa.accountId}; this tenant's smart account is ${existing.external_id}`);
      }
      if (existing?.last_summary_serial != null && serial <= existing.last_summary_serial) {
        throw badInput(
          `the file (serial ${serial}) is not newer than the last accepted summary (serial ${existing.last_summary_serial}): an old file cannot be uploaded again`,
          { fileError: 'REPLAYED' },
        );
      }
      const [account] = await sql<SmartAccountRow>(
        em,
        `insert into smart_account (tenant_id, domain, name, external_id, last_summary_serial, last_summary_generated_at)
         values (?, ?, ?, ?, ?, ?)
         on conflict (tenant_id) do update set domain = excluded.domain, name = excluded.name,
           last_summary_serial = excluded.last_summary_serial, last_summary_generated_at = excluded.last_summary_generated_at,
           updated_at = app_now()
         returning id, tenant_id, domain, name, external_id, to_json(created_at) #>> '{}' as created_at,
                   to_json(updated_at) #>> '{}' as updated_at`,
        [tenantId, sa.domain.toLowerCase(), sa.name, sa.accountId, serial, summary.manifest.generatedAt],
      );
      const counts = await applyLicenseLines(ctx, em, tenantId, account.id, summary.virtualAccounts, 'FILE', true);
      const [run] = await sql<SyncRunRow>(
        em,
        `insert into sync_run as r (tenant_id, mode, trigger, status, finished_at, requested_by, lines_added, lines_changed,
                                    lines_removed, assignments_pending, assignments_reconciled)
         values (?, 'OFFLINE', 'FILE', 'SUCCEEDED', app_now(), ?, ?, ?, ?, ?, ?) returning ${SYNC_RUN_COLUMNS}`,
        [tenantId, ctx.viewer.subject, counts.linesAdded, counts.linesChanged, counts.linesRemoved, counts.assignmentsPending, counts.assignmentsReconciled],
      );
      await recordAudit(ctx, em, {
        tenantId,
        action: 'files.license_summary_uploaded',
        targetType: 'SmartAccount',
        targetIds: [account.id],
        details: { fileName: input.fileName ?? input.file?.fileName ?? null, digest: summary.digest, serial, keyId: summary.keyId, ...counts },
      });
      await evaluateAlerts(ctx, em, tenantId);
      return {
        smartAccount: SmartAccount.from(account),
        serial,
        generatedAt: new Date(summary.manifest.generatedAt),
        syncRun: SyncRun.from(run),
      };
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) {
      // Another tenant holds this smart account (global unique external id).
      throw conflict(`smart account ${sa.accountId} is managed by another tenant`);
    }
    throw err;
  }
}

/**
 * Offline step 3: the usage report file for one virtual account (or, before any smart account, a
 * trial report naming none: the license server asks where to import it). Stored for download.
 */
export async function generateUsageReport(ctx: RequestContext, input: GenerateUsageReportInput): Promise<UsageReport> {
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const wantedVa = input.virtualAccountId ? parseIdArg(input.virtualAccountId, 'VirtualAccount', 'virtualAccountId') : null;
  const row = await inScope(ctx, async (em) => {
    const [account] = await sql<{ id: string; external_id: string; name: string }>(
      em,
      'select id, external_id, name from smart_account where tenant_id = ?',
      [tenantId],
    );
    let va: { id: string; external_id: string; name: string } | null = null;
    if (account) {
      const candidates = await sql<{ id: string; external_id: string; name: string }>(
        em,
        `select id, external_id, name from virtual_account where tenant_id = ? and smart_account_id = ?
            and (?::uuid is null and managed or id = ?::uuid) order by name, id`,
        [tenantId, account.id, wantedVa, wantedVa],
      );
      if (wantedVa && candidates.length === 0) throw notFound(`virtual account ${input.virtualAccountId} not found`);
      if (candidates.length !== 1) {
        throw badInput(
          candidates.length === 0
            ? 'no virtual account is managed: manage one or name it in virtualAccountId'
            : `several virtual accounts are managed (${candidates.map((c) => c.name).join(', ')}): name one in virtualAccountId`,
          { argumentName: 'virtualAccountId' },
        );
      }
      va = candidates[0];
    } else if (wantedVa) {
      throw notFound(`virtual account ${input.virtualAccountId} not found`);
    }
    const periodStart = await nextPeriodStart(em, tenantId);
    const periodEnd = ctx.app.clock.now().toISOString();
    const id = randomUUID();
    // The row first: its chunks reference it. Counts, digest and size follow once the file is written.
    await sql(
      em,
      `insert into usage_report (tenant_id, id, via, smart_account_id, virtual_account_id, period_start, period_end,
                                 generated_by, measurements, status)
       values (?, ?, 'OFFLINE', ?, ?, ?, ?, ?, 0, 'GENERATED')`,
      [tenantId, id, account?.id ?? null, va?.id ?? null, periodStart, periodEnd, ctx.viewer.subject],
    );
    // Measurements stream from a cursor into the archive, and the compressed file into chunk rows, all
    // in this transaction: at no point is the whole set of rows, or the whole file, in memory.
    const chunks = new UsageReportChunkWriter(em, tenantId, id);
    const file = await writeUsageReport(
      {
        reportId: id,
        generatedAt: periodEnd,
        smartAccount: account ? { accountId: account.external_id, name: account.name } : null,
        virtualAccount: va ? { id: va.external_id, name: va.name } : null,
        period: { start: new Date(periodStart).toISOString(), end: periodEnd },
      },
      usageMeasurementBatches(em, tenantId, { start: periodStart, end: periodEnd }, va?.id ?? null),
      (bytes) => chunks.write(bytes),
    );
    const chunkCount = await chunks.finish();
    const [stored] = await sql<UsageReportRow>(
      em,
      `update usage_report u set measurements = ?, file_digest = ?, file_size = ?, file_chunks = ?
        where u.tenant_id = ? and u.id = ? returning ${USAGE_REPORT_COLUMNS}`,
      [file.measurements, file.digest, file.size, chunkCount, tenantId, id],
    );
    await recordAudit(ctx, em, {
      tenantId,
      action: 'files.usage_report_generated',
      targetType: 'UsageReport',
      targetIds: [id],
      details: { measurements: file.measurements, virtualAccount: va?.external_id ?? null, trial: !account },
    });
    // No alert is re-evaluated here: no condition depends on a report that is neither acknowledged
    // (REPORT_DUE, SYNC_*: the ACK upload re-evaluates) nor days old (REPORT_UNACKNOWLEDGED: the
    // hourly evaluation raises it). Evaluating anyway recomputed the compliance of every device,
    // seconds at 100,000 devices, to change nothing.
    return stored;
  });
  return UsageReport.from(row);
}

/**
 * Offline step 4: the acknowledgement returned by the license server. It must be signed by a
 * trusted key and name a report of this tenant by id and digest; it is accepted once. For a trial
 * report, the smart account and virtual account the ACK names are recorded as the tenant's.
 */
export async function uploadAcknowledgement(ctx: RequestContext, input: UploadFileInput): Promise<UsageReport> {
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const file = decodeUpload(input);
  const settings = await loadSettings(ctx);
  const parsed = await parseAck(file, trustedKeys(settings)).catch((err: unknown) => fileError('acknowledgement file', err));
  const { ack } = parsed;
  const row = await inScope(ctx, async (em) => {
    const [report] = await sql<UsageReportRow>(
      em,
      `select ${USAGE_REPORT_COLUMNS} from usage_report u where u.tenant_id = ? and u.id = ? for update`,
      [tenantId, ack.reportId],
    );
    // Another tenant's report is answered exactly like a report that does not exist.
    if (!report) throw notFound(`the acknowledgement is for usage report ${ack.reportId}, which this tenant does not have`);
    if (report.status === 'ACKNOWLEDGED') {
      throw conflict(`usage report ${ack.reportId} was already acknowledged (ACK ${report.ack_id})`);
    }
    if (report.file_digest !== ack.reportDigest) {
      throw badInput('the acknowledgement does not match the usage report: the report file it acknowledges has other content', {
        fileError: 'DIGEST_MISMATCH',
      });
    }
    if (!report.smart_account_id) await adoptAccountFromAck(em, tenantId, ack.smartAccount, ack.virtualAccount);
    const [updated] = await sql<UsageReportRow>(
      em,
      `update usage_report u set status = 'ACKNOWLEDGED', ack_id = ?, acknowledged_at = ?, ack_smart_account = ?, ack_virtual_account = ?
        where u.tenant_id = ? and u.id = ? returning ${USAGE_REPORT_COLUMNS}`,
      [ack.ackId, ack.acknowledgedAt, `${ack.smartAccount.name} (${ack.smartAccount.accountId})`,
       `${ack.virtualAccount.name} (${ack.virtualAccount.id})`, tenantId, ack.reportId],
    );
    await recordAudit(ctx, em, {
      tenantId,
      action: 'files.acknowledgement_uploaded',
      targetType: 'UsageReport',
      targetIds: [ack.reportId],
      details: { ackId: ack.ackId, fileName: input.fileName ?? input.file?.fileName ?? null, digest: parsed.digest, keyId: parsed.keyId },
    });
    await evaluateAlerts(ctx, em, tenantId);
    return updated;
  }).catch((err: unknown) => {
    if (err instanceof UniqueConstraintViolationException) {
      throw conflict(`the acknowledgement names smart account ${ack.smartAccount.accountId}, which is managed by another tenant`);
    }
    throw err;
  });
  return UsageReport.from(row);
}

/** A trial tenant learns its smart account from the first ACK: recorded unless it has one by now. */
async function adoptAccountFromAck(
  em: Parameters<typeof sql>[0],
  tenantId: string,
  sa: { accountId: string; name: string },
  va: { id: string; name: string },
): Promise<void> {
  const [existing] = await sql<{ id: string }>(em, 'select id from smart_account where tenant_id = ?', [tenantId]);
  if (existing) return;
  // The ACK names no domain: a reserved .invalid name marks it unknown until a summary file brings it.
  const domain = `${sa.accountId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'account'}.invalid`;
  const [account] = await sql<{ id: string }>(
    em,
    'insert into smart_account (tenant_id, domain, name, external_id) values (?, ?, ?, ?) returning id',
    [tenantId, domain, sa.name, sa.accountId],
  );
  await sql(
    em,
    'insert into virtual_account (tenant_id, smart_account_id, external_id, name, managed) values (?, ?, ?, ?, true)',
    [tenantId, account.id, va.id, va.name],
  );
}

export async function listUsageReports(
  ctx: RequestContext,
  args: { tenantId?: string | null; first?: number | null; after?: string | null },
): Promise<Connection<UsageReport>> {
  return newestFirstPage(ctx, {
    from: 'usage_report u',
    columns: USAGE_REPORT_COLUMNS,
    timeColumn: 'u.generated_at',
    idColumn: 'u.id',
    tenantColumn: 'u.tenant_id',
    tenantId: await resolveTenantScope(ctx, args.tenantId),
    cursor: REPORT_CURSOR,
    first: args.first,
    after: args.after,
    timeOf: (r: UsageReportRow) => r.generated_at,
    toNode: UsageReport.from,
  });
}

export async function findUsageReport(ctx: RequestContext, idArg: string): Promise<UsageReport | null> {
  const id = parseIdArg(idArg, 'UsageReport', 'id');
  const tenantId = ctx.viewer.tenantId;
  const rows = await inScope(ctx, (em) =>
    sql<UsageReportRow>(em, `select ${USAGE_REPORT_COLUMNS} from usage_report u where u.id = ?${tenantId ? ' and u.tenant_id = ?' : ''}`, [
      id,
      ...(tenantId ? [tenantId] : []),
    ]),
  );
  return rows[0] ? UsageReport.from(rows[0]) : null;
}

/**
 * The stored file of an offline report, for GET /files/usage-reports/:id (same tenant rules): its size
 * and its bytes as chunks read one at a time. Null for an id that is malformed, unknown, another
 * tenant's, or a report without a file.
 */
export async function usageReportFile(ctx: RequestContext, idArg: string): Promise<StoredUsageReportFile | null> {
  let id: string;
  try {
    id = parseIdArg(idArg, 'UsageReport', 'id');
  } catch (err) {
    if (err instanceof AppError) return null;
    throw err;
  }
  return findStoredUsageReportFile(ctx, id, ctx.viewer.tenantId);
}
