import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { writeTarGz, type ArchiveEntry } from '../src/ssm/files/archive';
import { buildAck, buildLicenseSummary, parseAck, parseUsageReport, type LicenseLine } from '../src/ssm/files/formats';
import { keyPairFromSeed, type Ed25519KeyPair } from '../src/ssm/files/signing';
import { startSimulator, type SimulatorHandle } from '../src/ssm-simulator/server';
import type { SimSmartAccount } from '../src/ssm-simulator/state';
import { assign, createTrialTenant, dbId, gqlData, gqlError, type AccountTenant, type GqlError } from './support/assignment-fixtures';
import { deviceInput, registerDevices } from './support/fixtures';
import type { TestServer } from './support/harness';
import { multipartBytes, postMultipart, uploadFile, uploadParts } from './support/upload-fixtures';
import { addLicenses, configureAccount, licenseLine } from './support/license-fixtures';
import {
  base64,
  download,
  entriesOf,
  errorCodeOf,
  exportSummary,
  GENERATE_REPORT,
  gzipZeros,
  importUsageFile,
  rawTarGz,
  SET_MANAGED,
  sha256,
  simulatorKey,
  SMART_ACCOUNTS,
  snapshot,
  startOfflineServer,
  tarHeader,
  trustKeys,
  UPLOAD_ACK,
  UPLOAD_SUMMARY,
  USAGE_REPORTS,
  usageReportGlobalId,
  type SmartAccountView,
  type SummaryUploadView,
  type UsageReportView,
} from './support/offline-fixtures';

/**
 * Offline mode end to end: license summary files exported by the license-server simulator, uploaded
 * through the real GraphQL API into real PostgreSQL; usage report files generated, downloaded over
 * HTTP, imported into the simulator; its acknowledgements uploaded back. Every uploaded file is
 * hostile until proven otherwise: each refusal is checked to leave the license tables untouched.
 *
 * A smart account belongs to one tenant per database, so the suites that need SA-DEMO each run on a
 * server (and database) of their own, all trusting the one simulator's key.
 */

const DNA_A_T1 = 'regid.2020-10.com.cisco.DSTACK_T1_A';
const MB = 1024 * 1024;

let sim: SimulatorHandle;
let seq = 0;
const slug = (label: string): string => `off-${label}-${++seq}`;

beforeAll(async () => {
  // SA-DEMO, SA-DEMO-2 .. SA-DEMO-4, each with VAs CAMPUS, BRANCH and LAB.
  sim = await startSimulator({ port: 0, seed: 'demo', accounts: 4 });
});
afterAll(async () => {
  await sim?.close();
});

function simAccount(accountId: string): SimSmartAccount {
  const sa = sim.state.accounts.find((a) => a.accountId === accountId);
  if (!sa) throw new Error(`the simulator has no smart account ${accountId}`);
  return sa;
}

async function uploadSummary(server: TestServer, token: string, file: Buffer, tenantId?: string): Promise<SummaryUploadView> {
  const input = { tenantId, fileName: 'license-summary.tar.gz', contentBase64: base64(file) };
  return (await gqlData<{ uploadLicenseSummary: SummaryUploadView }>(server, UPLOAD_SUMMARY, { input }, token)).uploadLicenseSummary;
}

async function generateReport(server: TestServer, token: string, input: Record<string, unknown> = {}): Promise<UsageReportView> {
  return (await gqlData<{ generateUsageReport: UsageReportView }>(server, GENERATE_REPORT, { input }, token)).generateUsageReport;
}

async function uploadAck(server: TestServer, token: string, file: Buffer, tenantId?: string): Promise<UsageReportView> {
  const input = { tenantId, fileName: 'ack.tar.gz', contentBase64: base64(file) };
  return (await gqlData<{ uploadAcknowledgement: UsageReportView }>(server, UPLOAD_ACK, { input }, token)).uploadAcknowledgement;
}

/** A multipart upload (GraphQL multipart request spec) of `file` as `input.file`; throws unless it succeeds. */
async function uploadAsFile<T>(server: TestServer, mutation: string, token: string, file: Buffer, fileName: string): Promise<T> {
  const res = await postMultipart<T>(server.url, multipartBytes(uploadParts(mutation, { input: { file: null } }, 'input.file', file, fileName)), token);
  if (res.status !== 200 || res.body.errors || !res.body.data) throw new Error(`expected success, got ${res.status} ${JSON.stringify(res.body.errors)}`);
  return res.body.data;
}

async function smartAccountsOf(server: TestServer, token: string, tenantId?: string): Promise<SmartAccountView[]> {
  return (await gqlData<{ smartAccounts: SmartAccountView[] }>(server, SMART_ACCOUNTS, { tenantId }, token)).smartAccounts;
}

async function reportFile(server: TestServer, report: UsageReportView, token: string): Promise<Buffer> {
  if (!report.downloadUrl) throw new Error(`usage report ${report.id} has no downloadUrl`);
  const res = await download(server, report.downloadUrl, token);
  if (res.status !== 200) throw new Error(`download of ${report.downloadUrl}: HTTP ${res.status}`);
  return res.body;
}

interface Expected {
  code: 'BAD_USER_INPUT' | 'CONFLICT' | 'NOT_FOUND' | 'FORBIDDEN';
  fileError?: string;
  message: RegExp;
}

/** Calls an upload expected to be refused; checks the error and that no license table changed. */
async function expectRefused(
  server: TestServer,
  mutation: string,
  input: Record<string, unknown>,
  token: string,
  expected: Expected,
): Promise<GqlError> {
  const before = await snapshot(server);
  const err = await gqlError(server, mutation, { input }, token);
  expect(err.extensions?.code).toBe(expected.code);
  if (expected.fileError !== undefined) expect(err.extensions?.fileError).toBe(expected.fileError);
  expect(err.message).toMatch(expected.message);
  expect(await snapshot(server)).toEqual(before);
  return err;
}

/** What the tenant holds as license lines, in the shape of the simulator's lines. */
async function storedLines(server: TestServer, tenant: AccountTenant): Promise<Record<string, unknown>[]> {
  return server.sql(
    `select l.external_line_id as "lineId", v.external_id as va, e.tag as "entitlementTag", l.billing_type as "billingType",
            l.billing_model as "billingModel", l.subscription_id as "subscriptionId", l.license_type as "licenseType",
            l.quantity, to_char(l.start_date, 'YYYY-MM-DD') as "startDate", to_char(l.end_date, 'YYYY-MM-DD') as "endDate", l.source
       from license l
       join virtual_account v on v.tenant_id = l.tenant_id and v.id = l.virtual_account_id
       join entitlement e on e.id = l.entitlement_id
      where l.tenant_id = $1 and l.removed_at is null order by l.external_line_id`,
    [tenant.uuid],
  );
}

function expectedLines(accountId: string): Record<string, unknown>[] {
  return simAccount(accountId)
    .virtualAccounts.flatMap((va) =>
      va.licenses.map((l) => ({
        lineId: l.lineId,
        va: va.id,
        entitlementTag: l.entitlementTag,
        billingType: l.billingType,
        billingModel: l.billingModel,
        subscriptionId: l.subscriptionId,
        licenseType: l.licenseType,
        quantity: l.quantity,
        startDate: l.startDate,
        endDate: l.endDate,
        source: 'FILE',
      })),
    )
    .sort((a, b) => (a.lineId < b.lineId ? -1 : 1));
}

/** A signed ACK for a report (by global id and file digest), as the license server would issue it. */
async function signedAck(reportGlobalId: string, reportDigest: string, key: Ed25519KeyPair = simulatorKey(sim)): Promise<Buffer> {
  return buildAck(
    {
      ackId: randomUUID(),
      reportId: dbId(reportGlobalId),
      reportDigest,
      acknowledgedAt: new Date().toISOString(),
      smartAccount: { accountId: 'SA-ELSEWHERE', name: 'Elsewhere' },
      virtualAccount: { id: 'main', name: 'VA main' },
      measurements: 0,
      devices: [],
    },
    key.privateKey,
  );
}

/** The archive with one entry's bytes replaced and every other entry (signature.json included) as it was. */
function withEntry(entries: ArchiveEntry[], name: string, edit: (data: Buffer) => Buffer): ArchiveEntry[] {
  if (!entries.some((e) => e.name === name)) throw new Error(`no entry ${name}`);
  return entries.map((e) => (e.name === name ? { name, data: edit(e.data) } : e));
}

/** Changes one digit of the first `"<field>": <digit>` in a JSON entry (still valid JSON, other value). */
function changeOneDigit(field: string): (data: Buffer) => Buffer {
  return (data) => {
    const copy = Buffer.from(data);
    const at = copy.indexOf(`"${field}": `);
    if (at < 0) throw new Error(`no "${field}" in the entry`);
    const digitAt = at + field.length + 4;
    if (copy[digitAt] < 0x30 || copy[digitAt] > 0x39) throw new Error(`"${field}" is not followed by a digit`);
    copy[digitAt] = copy[digitAt] === 0x39 ? 0x38 : copy[digitAt] + 1;
    return copy;
  };
}

describe('offline round trip, report downloads, acknowledgements and roles', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startOfflineServer(sim);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A tenant with smart account SA-<slug> and one managed VA "main", and a usage report of it. */
  async function tenantWithReport(label: string): Promise<{ tenant: AccountTenant; report: UsageReportView }> {
    const tenant = await createTrialTenant(server, slug(label));
    await configureAccount(server, tenant, { virtualAccounts: ['main'], managed: ['main'] });
    return { tenant, report: await generateReport(server, tenant.admin) };
  }

  it('takes SA-DEMO in from its summary file and carries assigned usage out to an acknowledged report', async () => {
    const tenant = await createTrialTenant(server, slug('round-trip'));

    // 1. The license summary exported by the license server.
    const summary = await exportSummary(sim, 'SA-DEMO');
    const uploaded = await uploadSummary(server, tenant.admin, summary);
    expect(uploaded.serial).toBe(sim.state.summarySerials['SA-DEMO']);
    expect(uploaded.smartAccount).toMatchObject({ accountId: 'SA-DEMO', domain: 'demo.example', name: 'Demo Corp' });
    expect(uploaded.smartAccount.virtualAccounts.map((v) => [v.externalId, v.name, v.managed]).sort()).toEqual([
      ['VA-DEMO-BRANCH', 'Branch', false],
      ['VA-DEMO-CAMPUS', 'Campus', false],
      ['VA-DEMO-LAB', 'Lab', false],
    ]);
    const lines = expectedLines('SA-DEMO');
    expect(uploaded.syncRun).toMatchObject({ mode: 'OFFLINE', trigger: 'FILE', status: 'SUCCEEDED', linesAdded: lines.length, linesRemoved: 0 });
    expect(await storedLines(server, tenant)).toEqual(lines);
    expect(await smartAccountsOf(server, tenant.operator)).toEqual([uploaded.smartAccount]);

    // 2. Manage one VA, register devices, assign a license from it.
    const campus = uploaded.smartAccount.virtualAccounts.find((v) => v.externalId === 'VA-DEMO-CAMPUS');
    if (!campus) throw new Error('no VA-DEMO-CAMPUS');
    await gqlData(server, SET_MANAGED, { input: { virtualAccountIds: [campus.id] } }, tenant.admin);
    const devices = await registerDevices(server, tenant.admin, [1, 2, 3].map((n) => deviceInput(n)));
    const assigned = await assign(server, tenant.operator, { deviceIds: devices.map((d) => d.id), level: 'ADVANTAGE', tier: 'T1' });
    expect(assigned).toMatchObject({ assigned: 3, pending: 0 });
    const campusLine = simAccount('SA-DEMO').virtualAccounts[0].licenses.find((l) => l.entitlementTag === DNA_A_T1);
    if (!campusLine) throw new Error('no Advantage T1 line in VA-DEMO-CAMPUS');

    // 3. The usage report file, stored and downloadable.
    const report = await generateReport(server, tenant.admin);
    expect(report).toMatchObject({ via: 'OFFLINE', status: 'GENERATED', measurements: 3, ackId: null, downloadUrl: `/files/usage-reports/${report.id}` });
    expect(report.fileDigest).toMatch(/^[0-9a-f]{64}$/);
    const res = await download(server, report.downloadUrl ?? '', tenant.admin);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/gzip');
    expect(sha256(res.body)).toBe(report.fileDigest);
    expect(res.body.length).toBe(report.fileSize);
    const parsed = await parseUsageReport(res.body);
    expect(parsed.manifest).toMatchObject({
      reportId: dbId(report.id),
      smartAccount: { accountId: 'SA-DEMO', name: 'Demo Corp' },
      virtualAccount: { id: 'VA-DEMO-CAMPUS', name: 'Campus' },
    });
    expect(parsed.measurements.map((m) => [m.deviceUuid, m.entitlementTag, m.subscriptionId, m.billingType, m.count])).toEqual(
      devices.map((d) => [d.uuid, DNA_A_T1, campusLine.subscriptionId, 'PREPAID', 1]),
    );

    // 4. Imported into the license server, which returns a signed ACK.
    const imported = await importUsageFile(sim, res.body);
    expect(imported.status).toBe(200);
    const ack = await parseAck(imported.body, [sim.publicKeyPem]);
    expect(ack.ack).toMatchObject({ reportId: dbId(report.id), reportDigest: report.fileDigest, measurements: 3 });
    expect(sim.state.usage.find((u) => u.reportId === dbId(report.id))).toMatchObject({ accountId: 'SA-DEMO', virtualAccountId: 'VA-DEMO-CAMPUS' });

    // 5. The ACK closes the report.
    const acknowledged = await uploadAck(server, tenant.admin, imported.body);
    expect(acknowledged).toMatchObject({
      id: report.id,
      status: 'ACKNOWLEDGED',
      ackId: ack.ack.ackId,
      acknowledgedSmartAccount: 'Demo Corp (SA-DEMO)',
      acknowledgedVirtualAccount: 'Campus (VA-DEMO-CAMPUS)',
      fileDigest: report.fileDigest,
    });
    expect(acknowledged.acknowledgedAt).not.toBeNull();
    const listed = await gqlData<{ usageReports: { totalCount: number; edges: { node: UsageReportView }[] } }>(server, USAGE_REPORTS, {}, tenant.operator);
    expect(listed.usageReports.totalCount).toBe(1);
    expect(listed.usageReports.edges.map((e) => e.node)).toEqual([acknowledged]);
  });

  it('takes a summary and an acknowledgement in as multipart uploads (input.file), just as with contentBase64', async () => {
    const tenant = await createTrialTenant(server, slug('multipart'));
    const summary = await exportSummary(sim, 'SA-DEMO-4');
    const uploaded = await uploadAsFile<{ uploadLicenseSummary: SummaryUploadView }>(server, UPLOAD_SUMMARY, tenant.admin, summary, 'sa-demo-4.tar.gz');
    expect(uploaded.uploadLicenseSummary).toMatchObject({ serial: sim.state.summarySerials['SA-DEMO-4'], smartAccount: { accountId: 'SA-DEMO-4' } });
    expect(uploaded.uploadLicenseSummary.syncRun).toMatchObject({ trigger: 'FILE', status: 'SUCCEEDED', linesAdded: expectedLines('SA-DEMO-4').length });
    expect(await storedLines(server, tenant)).toEqual(expectedLines('SA-DEMO-4'));
    const [audit] = await server.sql<{ details: { fileName: string } }>(
      "select details from audit_event where tenant_id = $1 and action = 'files.license_summary_uploaded'",
      [tenant.uuid],
    );
    expect(audit.details.fileName).toBe('sa-demo-4.tar.gz');

    const withAdvantage = simAccount('SA-DEMO-4').virtualAccounts.find((v) => v.licenses.some((l) => l.entitlementTag === DNA_A_T1 && l.billingType === 'PREPAID'));
    const va = uploaded.uploadLicenseSummary.smartAccount.virtualAccounts.find((v) => v.externalId === withAdvantage?.id);
    if (!va) throw new Error('SA-DEMO-4 has no virtual account with a prepaid Advantage T1 line');
    await gqlData(server, SET_MANAGED, { input: { virtualAccountIds: [va.id] } }, tenant.admin);
    const devices = await registerDevices(server, tenant.admin, [deviceInput(1)]);
    await assign(server, tenant.operator, { deviceIds: devices.map((d) => d.id), level: 'ADVANTAGE', tier: 'T1' });
    const report = await generateReport(server, tenant.admin);
    const imported = await importUsageFile(sim, await reportFile(server, report, tenant.admin));
    expect(imported.status).toBe(200);

    const acknowledged = await uploadAsFile<{ uploadAcknowledgement: UsageReportView }>(server, UPLOAD_ACK, tenant.admin, imported.body, 'ack.tar.gz');
    expect(acknowledged.uploadAcknowledgement).toMatchObject({ id: report.id, status: 'ACKNOWLEDGED', fileDigest: report.fileDigest });
  });

  describe('downloading a usage report file', () => {
    it('serves the file to the tenant’s users and to providers, byte for byte', async () => {
      const { tenant, report } = await tenantWithReport('dl-ok');
      const tokens = [tenant.admin, tenant.operator, server.token('PROVIDER_ADMIN'), server.token('PROVIDER_OPERATOR')];
      for (const token of tokens) {
        const res = await download(server, report.downloadUrl ?? '', token);
        expect(res.status).toBe(200);
        expect(res.contentType).toBe('application/gzip');
        expect(sha256(res.body)).toBe(report.fileDigest);
      }
    });

    it('answers 404 to another tenant’s token exactly as for an unknown report id', async () => {
      const { report } = await tenantWithReport('dl-owner');
      const other = await createTrialTenant(server, slug('dl-other'));
      const unknownId = usageReportGlobalId(randomUUID());

      const foreign = await download(server, report.downloadUrl ?? '', other.admin);
      const unknown = await download(server, `/files/usage-reports/${unknownId}`, other.admin);

      expect([foreign.status, errorCodeOf(foreign)]).toEqual([404, 'NOT_FOUND']);
      expect([unknown.status, errorCodeOf(unknown)]).toEqual([404, 'NOT_FOUND']);
      expect(foreign.body.toString().replace(report.id, '<id>')).toBe(unknown.body.toString().replace(unknownId, '<id>'));
      expect(foreign.body.includes(Buffer.from(report.fileDigest ?? '-'))).toBe(false);
    });

    it('answers 401 without a token or with a forged one', async () => {
      const { report } = await tenantWithReport('dl-anon');
      const anonymous = await download(server, report.downloadUrl ?? '');
      const forged = await download(server, report.downloadUrl ?? '', `${server.token('PROVIDER_ADMIN')}x`);
      expect([anonymous.status, errorCodeOf(anonymous)]).toEqual([401, 'UNAUTHENTICATED']);
      expect([forged.status, errorCodeOf(forged)]).toEqual([401, 'UNAUTHENTICATED']);
    });

    it('answers 404 for garbage ids, ids of another type and traversal attempts', async () => {
      const { tenant } = await tenantWithReport('dl-garbage');
      const paths = [
        '/files/usage-reports/not-a-report-id',
        `/files/usage-reports/${tenant.id}`,
        `/files/usage-reports/${usageReportGlobalId('not-a-uuid')}`,
        '/files/usage-reports/..%2F..%2Fetc%2Fpasswd',
        '/files/usage-reports/../../etc/passwd',
      ];
      for (const path of paths) {
        const res = await download(server, path, server.token('PROVIDER_ADMIN'));
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.contentType).toMatch(/^application\/json/);
      }
    });
  });

  describe('acknowledgement refusals', () => {
    it('answers NOT_FOUND for an ACK of another tenant’s report exactly as for an unknown report id, changing nothing', async () => {
      const mine = await tenantWithReport('ack-mine');
      const theirs = await tenantWithReport('ack-theirs');
      const theirAck = await signedAck(theirs.report.id, theirs.report.fileDigest ?? '');
      const unknownId = usageReportGlobalId(randomUUID());
      const unknownAck = await signedAck(unknownId, theirs.report.fileDigest ?? '');

      const foreign = await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(theirAck) }, mine.tenant.admin, {
        code: 'NOT_FOUND',
        message: /which this tenant does not have/,
      });
      const unknown = await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(unknownAck) }, mine.tenant.admin, {
        code: 'NOT_FOUND',
        message: /which this tenant does not have/,
      });
      expect(foreign.message.replace(dbId(theirs.report.id), '<id>')).toBe(unknown.message.replace(dbId(unknownId), '<id>'));
      expect(foreign.extensions).toEqual(unknown.extensions);

      // The ACK itself was good: its own tenant may upload it.
      expect(await uploadAck(server, theirs.tenant.admin, theirAck)).toMatchObject({ id: theirs.report.id, status: 'ACKNOWLEDGED' });
    });

    it('refuses a second upload of the same ACK, or another ACK for an acknowledged report, with CONFLICT', async () => {
      const { tenant, report } = await tenantWithReport('ack-dup');
      const ack = await signedAck(report.id, report.fileDigest ?? '');
      const first = await uploadAck(server, tenant.admin, ack);
      expect(first.status).toBe('ACKNOWLEDGED');

      await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(ack) }, tenant.admin, { code: 'CONFLICT', message: /already acknowledged/ });
      const another = await signedAck(report.id, report.fileDigest ?? '');
      await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(another) }, tenant.admin, { code: 'CONFLICT', message: /already acknowledged/ });
      const [row] = await server.sql<{ ack_id: string }>('select ack_id from usage_report where id = $1', [dbId(report.id)]);
      expect(row.ack_id).toBe(first.ackId);
    });

    it('refuses a signed ACK whose report digest is not the stored report’s (DIGEST_MISMATCH)', async () => {
      const { tenant, report } = await tenantWithReport('ack-digest');
      const ack = await signedAck(report.id, sha256(Buffer.from('another usage report file')));
      await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(ack) }, tenant.admin, {
        code: 'BAD_USER_INPUT',
        fileError: 'DIGEST_MISMATCH',
        message: /does not match the usage report/,
      });
    });

    it.each([
      ['an unsigned ACK (no signature.json)', 'unsigned', 'UNSIGNED', /not signed/],
      ['a tampered ACK (one digit of ack.json changed, old signature kept)', 'tampered', 'BAD_SIGNATURE', /signature does not match the content/],
      ['an ACK signed by an untrusted key', 'untrusted', 'BAD_SIGNATURE', /not a trusted key/],
    ] as const)('refuses %s with BAD_USER_INPUT and leaves the report unacknowledged', async (_title, variant, fileError, message) => {
      const { tenant, report } = await tenantWithReport('ack-bad');
      const entries = await entriesOf(await signedAck(report.id, report.fileDigest ?? ''));
      const file =
        variant === 'unsigned'
          ? await writeTarGz(entries.filter((e) => e.name !== 'signature.json'))
          : variant === 'tampered'
            ? await writeTarGz(withEntry(entries, 'ack.json', changeOneDigit('measurements')))
            : await signedAck(report.id, report.fileDigest ?? '', keyPairFromSeed('an-impostor'));
      await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(file) }, tenant.admin, { code: 'BAD_USER_INPUT', fileError, message });
      const [row] = await server.sql<{ status: string; ack_id: string | null }>('select status, ack_id from usage_report where id = $1', [dbId(report.id)]);
      expect(row).toEqual({ status: 'GENERATED', ack_id: null });

      // The untouched file is accepted: the alteration was the reason.
      expect(await uploadAck(server, tenant.admin, await writeTarGz(entries))).toMatchObject({ status: 'ACKNOWLEDGED' });
    });
  });

  describe('roles', () => {
    it('refuses uploadLicenseSummary and uploadAcknowledgement to a TENANT_OPERATOR with FORBIDDEN, changing nothing', async () => {
      const { tenant, report } = await tenantWithReport('operator');
      const summary = await exportSummary(sim, 'SA-DEMO-3');
      const ack = await signedAck(report.id, report.fileDigest ?? '');

      await expectRefused(server, UPLOAD_SUMMARY, { contentBase64: base64(summary) }, tenant.operator, { code: 'FORBIDDEN', message: /./ });
      await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(ack) }, tenant.operator, { code: 'FORBIDDEN', message: /./ });
    });

    it('refuses a tenant admin naming another tenant by tenantId with NOT_FOUND', async () => {
      const { tenant } = await tenantWithReport('admin-a');
      const other = await createTrialTenant(server, slug('admin-b'));
      const summary = await exportSummary(sim, 'SA-DEMO-3');
      await expectRefused(server, UPLOAD_SUMMARY, { tenantId: other.id, contentBase64: base64(summary) }, tenant.admin, {
        code: 'NOT_FOUND',
        message: /tenant .* not found/,
      });
    });

    it('lets a provider admin upload a summary, generate a report and upload its ACK for a tenant named by tenantId', async () => {
      const tenant = await createTrialTenant(server, slug('provider'));
      const provider = server.token('PROVIDER_ADMIN', undefined, { sub: 'noc-admin' });
      const summary = await exportSummary(sim, 'SA-DEMO-2');

      await expectRefused(server, UPLOAD_SUMMARY, { contentBase64: base64(summary) }, provider, { code: 'BAD_USER_INPUT', message: /tenantId is required/ });
      const uploaded = await uploadSummary(server, provider, summary, tenant.id);
      expect(uploaded.smartAccount.accountId).toBe('SA-DEMO-2');
      expect((await smartAccountsOf(server, tenant.operator)).map((sa) => sa.accountId)).toEqual(['SA-DEMO-2']);
      const branch = uploaded.smartAccount.virtualAccounts.find((v) => v.externalId === 'VA-DEMO-2-BRANCH');
      await gqlData(server, SET_MANAGED, { input: { tenantId: tenant.id, virtualAccountIds: [branch?.id] } }, provider);

      const report = await generateReport(server, provider, { tenantId: tenant.id });
      expect(report).toMatchObject({ status: 'GENERATED', generatedBy: 'noc-admin', tenant: { id: tenant.id } });
      const imported = await importUsageFile(sim, await reportFile(server, report, provider));
      expect(imported.status).toBe(200);
      const acknowledged = await uploadAck(server, provider, imported.body, tenant.id);
      expect(acknowledged).toMatchObject({ id: report.id, status: 'ACKNOWLEDGED', acknowledgedVirtualAccount: 'Branch (VA-DEMO-2-BRANCH)' });
      const seen = await gqlData<{ usageReports: { edges: { node: UsageReportView }[] } }>(server, USAGE_REPORTS, {}, tenant.operator);
      expect(seen.usageReports.edges.map((e) => [e.node.id, e.node.status])).toEqual([[report.id, 'ACKNOWLEDGED']]);
    });
  });

  it('keeps a summary line whose entitlement tag is not in the catalog as an unmanaged line, shown and never assignable, like a sync does', async () => {
    // DOMAIN.md: everything in the smart account that is not managed here is shown as unmanaged and
    // cannot be assigned. The file is accepted whole: dropping the line would lose a purchase unseen,
    // refusing the file would block the lines the product does manage.
    const tenant = await createTrialTenant(server, slug('uncatalogued'));
    const unknownTag = 'regid.2017-03.com.cisco.advantagek9';
    const line = (lineId: string, entitlementTag: string): LicenseLine => ({
      lineId,
      entitlementTag,
      billingType: 'PREPAID',
      billingModel: 'A_LA_CARTE',
      subscriptionId: 'Sub424242',
      licenseType: 'TERM',
      quantity: 5,
      inUse: 0,
      startDate: '2025-01-01',
      endDate: '2028-01-01',
    });
    const file = await buildLicenseSummary(
      {
        smartAccount: { accountId: `SA-${tenant.slug}`, domain: `${tenant.slug}.example`, name: 'Uncatalogued Corp' },
        serial: 1,
        virtualAccounts: [{ id: 'VA-MAIN', name: 'Main', licenses: [line('L-KNOWN', DNA_A_T1), line('L-UNKNOWN', unknownTag)] }],
      },
      simulatorKey(sim).privateKey,
    );

    const upload = await uploadSummary(server, tenant.admin, file);

    expect(upload.syncRun).toMatchObject({ status: 'SUCCEEDED', linesAdded: 2, linesChanged: 0, linesRemoved: 0 });
    const stored = await server.sql<{ line: string; source: string }>(
      'select external_line_id as line, source from license where tenant_id = $1 order by 1',
      [tenant.uuid],
    );
    expect(stored).toEqual([
      { line: 'L-KNOWN', source: 'FILE' },
      { line: 'L-UNKNOWN', source: 'FILE' },
    ]);
    const catalog = await gqlData<{ entitlements: { tag: string; displayName: string; category: string; managed: boolean; assignable: boolean }[] }>(
      server,
      'query { entitlements(includeUnmanaged: true) { tag displayName category managed assignable } }',
      {},
      tenant.operator,
    );
    expect(catalog.entitlements.find((e) => e.tag === unknownTag)).toEqual({
      tag: unknownTag, displayName: unknownTag, category: 'OTHER', managed: false, assignable: false,
    });
    const listed = await gqlData<{ licenses: { edges: { node: { entitlement: { tag: string; managed: boolean }; quantity: number } }[] } }>(
      server,
      'query { licenses(first: 10, entitlementTag: "regid.2017-03.com.cisco.advantagek9") { edges { node { quantity entitlement { tag managed } } } } }',
      {},
      tenant.operator,
    );
    expect(listed.licenses.edges.map((e) => e.node)).toEqual([{ quantity: 5, entitlement: { tag: unknownTag, managed: false } }]);
    const [device] = (
      await registerDevices(server, tenant.admin, [deviceInput(1)])
    ).map((d) => d.id);
    const refused = await gqlError(
      server,
      'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned } }',
      { input: { deviceIds: [device], entitlementTag: unknownTag } },
      tenant.admin,
    );
    expect(refused.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.message).toBe(`${unknownTag} (${unknownTag}) is not managed by this product and cannot be assigned`);
  });

  it('generates the usage report of 10,000 devices holding a postpaid license (timed, no assertion on time)', async () => {
    const tenant = await createTrialTenant(server, slug('ten-thousand'));
    const account = await configureAccount(server, tenant, { virtualAccounts: ['main'], managed: ['main'] });
    await addLicenses(server, tenant, [
      licenseLine(account.vaIds.main, { billingType: 'POSTPAID', billingModel: 'MSLA_U', quantity: 0, subscriptionId: 'SUB-MSLA' }),
    ]);
    const registered = await gqlData<{ registerDevices: { devices: { id: string }[] } }>(
      server,
      'mutation($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id } } }',
      { input: { devices: Array.from({ length: 10_000 }, (_, i) => deviceInput(i + 1)) } },
      tenant.admin,
    );
    const assigned = await gqlData<{ assignLicenses: { assigned: number; pending: number } }>(
      server,
      'mutation($input: AssignLicensesInput!) { assignLicenses(input: $input) { assigned pending } }',
      { input: { deviceIds: registered.registerDevices.devices.map((d) => d.id), level: 'ADVANTAGE', tier: 'T1', billingType: 'POSTPAID' } },
      tenant.operator,
    );
    expect(assigned.assignLicenses).toEqual({ assigned: 10_000, pending: 0 });

    const started = performance.now();
    const report = await generateReport(server, tenant.admin);
    const elapsedMs = performance.now() - started;

    expect(report.measurements).toBe(10_000);
    const parsed = await parseUsageReport(await reportFile(server, report, tenant.admin));
    expect(parsed.measurements).toHaveLength(10_000);
    expect(new Set(parsed.measurements.map((m) => m.deviceUuid)).size).toBe(10_000);
    expect(parsed.measurements.every((m) => m.billingType === 'POSTPAID' && m.subscriptionId === 'SUB-MSLA')).toBe(true);
    if (process.env.SLM_TEST_REPORT === '1') {
      process.stdout.write(`generateUsageReport for 10,000 devices: ${elapsedMs.toFixed(0)} ms (file ${report.fileSize} bytes)\n`);
    }
  });
});

describe('license summary refusals', () => {
  let server: TestServer;
  /** Holds SA-DEMO, manages VA-DEMO-CAMPUS and has two devices licensed from it. */
  let holder: AccountTenant;

  beforeAll(async () => {
    server = await startOfflineServer(sim);
    holder = await createTrialTenant(server, slug('holder'));
    const uploaded = await uploadSummary(server, holder.admin, await exportSummary(sim, 'SA-DEMO'));
    const campus = uploaded.smartAccount.virtualAccounts.find((v) => v.externalId === 'VA-DEMO-CAMPUS');
    await gqlData(server, SET_MANAGED, { input: { virtualAccountIds: [campus?.id] } }, holder.admin);
    const devices = await registerDevices(server, holder.admin, [deviceInput(1), deviceInput(2)]);
    await assign(server, holder.operator, { deviceIds: devices.map((d) => d.id), level: 'ADVANTAGE', tier: 'T1' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const refuseSummary = (file: Buffer | string, expected: Expected, token: string = holder.admin): Promise<GqlError> =>
    expectRefused(server, UPLOAD_SUMMARY, { fileName: 'summary.tar.gz', contentBase64: typeof file === 'string' ? file : base64(file) }, token, expected);

  /** A fresh SA-DEMO export (newest serial) as entries, for altering. */
  const freshEntries = async (): Promise<ArchiveEntry[]> => entriesOf(await exportSummary(sim, 'SA-DEMO'));

  it('gives the SA-DEMO holder every line of its summary and two active assignments, which the refusals must keep', async () => {
    const [row] = await server.sql<{ n: number }>(
      "select count(*)::int as n from assignment where tenant_id = $1 and status = 'ACTIVE' and released_at is null",
      [holder.uuid],
    );
    expect(row.n).toBe(2);
    expect(await storedLines(server, holder)).toEqual(expectedLines('SA-DEMO'));
  });

  it('refuses the same summary file uploaded twice as a replay (REPLAYED)', async () => {
    const tenant = await createTrialTenant(server, slug('replay-same'));
    const file = await exportSummary(sim, 'SA-DEMO-3');
    const first = await uploadSummary(server, tenant.admin, file);

    const err = await refuseSummary(file, { code: 'BAD_USER_INPUT', fileError: 'REPLAYED', message: /not newer than the last accepted summary/ }, tenant.admin);
    expect(err.message).toContain(`serial ${first.serial}`);
  });

  it('refuses an older export uploaded after a newer one as a replay (REPLAYED)', async () => {
    const tenant = await createTrialTenant(server, slug('replay-old'));
    const older = await exportSummary(sim, 'SA-DEMO-4');
    const newer = await exportSummary(sim, 'SA-DEMO-4');
    const accepted = await uploadSummary(server, tenant.admin, newer);

    const err = await refuseSummary(older, { code: 'BAD_USER_INPUT', fileError: 'REPLAYED', message: /an old file cannot be uploaded again/ }, tenant.admin);
    expect(err.message).toContain(`serial ${accepted.serial - 1}`);
  });

  it('refuses a summary whose licenses.json changed by one byte, re-packed with the original signature (BAD_SIGNATURE)', async () => {
    const entries = await freshEntries();
    const tampered = await writeTarGz(withEntry(entries, 'licenses.json', changeOneDigit('quantity')));
    await refuseSummary(tampered, { code: 'BAD_USER_INPUT', fileError: 'BAD_SIGNATURE', message: /signature does not match the content/ });

    // The same entries unaltered are a valid file: the one byte was the reason.
    const untouched = await uploadSummary(server, holder.admin, await writeTarGz(entries));
    expect(untouched.syncRun).toMatchObject({ status: 'SUCCEEDED', linesAdded: 0, linesChanged: 0, linesRemoved: 0 });
  });

  it('refuses a summary without signature.json (UNSIGNED)', async () => {
    const unsigned = await writeTarGz((await freshEntries()).filter((e) => e.name !== 'signature.json'));
    await refuseSummary(unsigned, { code: 'BAD_USER_INPUT', fileError: 'UNSIGNED', message: /is not signed/ });
  });

  it('refuses a summary signed by a key the provider does not trust (BAD_SIGNATURE)', async () => {
    const sa = simAccount('SA-DEMO');
    const forged = await buildLicenseSummary(
      {
        smartAccount: { accountId: sa.accountId, domain: sa.domain, name: sa.name },
        serial: (sim.state.summarySerials['SA-DEMO'] ?? 0) + 1_000,
        virtualAccounts: sa.virtualAccounts.map((va) => ({ ...va, licenses: va.licenses.map((l) => ({ ...l, quantity: 100_000 })) })),
      },
      keyPairFromSeed('an-impostor').privateKey,
    );
    await refuseSummary(forged, { code: 'BAD_USER_INPUT', fileError: 'BAD_SIGNATURE', message: /not a trusted key/ });
  });

  it('refuses every summary while no signing key is trusted, and accepts it again once the key is trusted', async () => {
    const file = await exportSummary(sim, 'SA-DEMO');
    await trustKeys(server, []);
    try {
      await refuseSummary(file, { code: 'BAD_USER_INPUT', message: /no trusted signing key is configured/ });
    } finally {
      await trustKeys(server, [sim.publicKeyPem]);
    }
    expect((await uploadSummary(server, holder.admin, file)).smartAccount.accountId).toBe('SA-DEMO');
  });

  it('refuses a summary for SA-DEMO-2 from a tenant whose smart account is SA-DEMO', async () => {
    await refuseSummary(await exportSummary(sim, 'SA-DEMO-2'), {
      code: 'BAD_USER_INPUT',
      message: /the file is for smart account SA-DEMO-2; this tenant's smart account is SA-DEMO$/,
    });
  });

  it('refuses with CONFLICT a second tenant uploading the summary of SA-DEMO, which another tenant holds', async () => {
    const intruder = await createTrialTenant(server, slug('intruder'));
    await refuseSummary(await exportSummary(sim, 'SA-DEMO'), { code: 'CONFLICT', message: /smart account SA-DEMO is managed by another tenant/ }, intruder.admin);
    expect(await smartAccountsOf(server, intruder.operator)).toEqual([]);
  });

  it.each([
    ['random bytes', (): Buffer => randomBytes(4096), 'NOT_GZIP', /not gzip-compressed/],
    ['a truncated gzip stream', (summary: Buffer): Buffer => summary.subarray(0, Math.floor(summary.length / 2)), 'NOT_GZIP', /corrupt or truncated/],
    ['a JSON file instead of a .tar.gz', (): Buffer => Buffer.from(JSON.stringify({ format: 'slm-license-summary', licenses: [] })), 'NOT_GZIP', /not gzip-compressed/],
    ['gzip-compressed text that is not a tar archive', (): Buffer => zlib.gzipSync(Buffer.from('x'.repeat(2000))), 'NOT_TAR', /not a valid tar archive/],
  ])('refuses malformed content: %s', async (_kind, make, fileError, message) => {
    const file = make(await exportSummary(sim, 'SA-DEMO'));
    await refuseSummary(file, { code: 'BAD_USER_INPUT', fileError, message });
  });

  it.each([
    ['a "../../etc/passwd" entry', { name: '../../etc/passwd', data: Buffer.from('root:x:0:0\n') }, 'UNSAFE_ENTRY_NAME', /"\.\.\/\.\.\/etc\/passwd" contains a "\.\." segment/],
    ['an absolute "/abs" entry', { name: '/abs', data: Buffer.from('x') }, 'UNSAFE_ENTRY_NAME', /"\/abs" is an absolute path/],
    ['a symlink entry', { name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }, 'UNSUPPORTED_ENTRY_TYPE', /"link" is a symlink/],
    ['a second licenses.json entry', { name: 'licenses.json', data: Buffer.from('{"virtualAccounts":[]}') }, 'DUPLICATE_ENTRY', /"licenses.json" appears more than once/],
  ])('refuses an otherwise valid summary with %s', async (_kind, hostile, fileError, message) => {
    const file = await rawTarGz([...(await freshEntries()), hostile]);
    await refuseSummary(file, { code: 'BAD_USER_INPUT', fileError, message });
  });

  it('refuses an entry declaring 1 GiB before reading any of it (TOO_LARGE)', async () => {
    const file = zlib.gzipSync(Buffer.concat([tarHeader('licenses.json', 1024 * MB), Buffer.alloc(1024)]));
    await refuseSummary(file, { code: 'BAD_USER_INPUT', fileError: 'TOO_LARGE', message: /"licenses.json" is 1073741824 bytes/ });
  });

  it('refuses a decompression bomb (128 MB of zeros in a small gzip) at the unpacked-size cap', async () => {
    const bomb = await gzipZeros(128 * MB, tarHeader('licenses.json', 128 * MB));
    expect(bomb.length).toBeLessThan(1 * MB);
    await refuseSummary(bomb, { code: 'BAD_USER_INPUT', fileError: 'DECOMPRESSION_LIMIT', message: /unpacks to more than/ });
  });

  it('refuses 50 MB of gzipped zeros, which hold no archive entry at all', async () => {
    const zeros = await gzipZeros(50 * MB);
    await refuseSummary(zeros, { code: 'BAD_USER_INPUT', fileError: 'UNSIGNED', message: /license summary file was refused/ });
  });

  it('refuses a file over 10 MB while it streams (multipart), before parsing it, and changes nothing', async () => {
    const before = await snapshot(server);
    const res = await uploadFile(server.url, holder.admin, UPLOAD_SUMMARY, { input: { file: null } }, 'input.file', randomBytes(10 * MB + 1));
    expect(res.status).toBe(413);
    expect(res.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/larger than 10 MB/),
      extensions: { code: 'BAD_USER_INPUT', fileError: 'TOO_LARGE', argumentName: 'file' },
    });
    expect(await snapshot(server)).toEqual(before);
  });

  it.each([
    ['characters outside the base64 alphabet', '@@@ not base64 @@@', /not base64/],
    ['an empty file', '', /the file is empty/],
  ])('refuses contentBase64 with %s', async (_kind, content, message) => {
    await refuseSummary(content, { code: 'BAD_USER_INPUT', message });
  });
});

describe('trial usage reports', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startOfflineServer(sim);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A tenant without smart account whose devices hold default entitlements (pending), and its report file. */
  async function trialReport(label: string, devices: number): Promise<{ tenant: AccountTenant; report: UsageReportView; file: Buffer }> {
    const tenant = await createTrialTenant(server, slug(label));
    const registered = await registerDevices(server, tenant.admin, Array.from({ length: devices }, (_, i) => deviceInput(i + 1)));
    const pending = await assign(server, tenant.operator, { deviceIds: registered.map((d) => d.id), level: 'ADVANTAGE', tier: 'T1' });
    expect(pending).toMatchObject({ assigned: devices, pending: devices });
    const report = await generateReport(server, tenant.admin);
    return { tenant, report, file: await reportFile(server, report, tenant.admin) };
  }

  it('reports pending default entitlements without SA/VA, is imported only into a chosen VA, and adopts that SA/VA from the ACK', async () => {
    const { tenant, report, file } = await trialReport('trial', 2);
    expect(report).toMatchObject({ status: 'GENERATED', measurements: 2 });
    const parsed = await parseUsageReport(file);
    expect(parsed.manifest).toMatchObject({ reportId: dbId(report.id), smartAccount: null, virtualAccount: null });
    expect(parsed.measurements.map((m) => [m.entitlementTag, m.subscriptionId])).toEqual([
      [DNA_A_T1, null],
      [DNA_A_T1, null],
    ]);

    const refused = await importUsageFile(sim, file);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ error: 'VIRTUAL_ACCOUNT_REQUIRED' });
    const imported = await importUsageFile(sim, file, 'VA-DEMO-CAMPUS');
    expect(imported.status).toBe(200);
    expect((await parseAck(imported.body, [sim.publicKeyPem])).ack).toMatchObject({
      smartAccount: { accountId: 'SA-DEMO', name: 'Demo Corp' },
      virtualAccount: { id: 'VA-DEMO-CAMPUS', name: 'Campus' },
    });

    const acknowledged = await uploadAck(server, tenant.admin, imported.body);
    expect(acknowledged).toMatchObject({
      status: 'ACKNOWLEDGED',
      acknowledgedSmartAccount: 'Demo Corp (SA-DEMO)',
      acknowledgedVirtualAccount: 'Campus (VA-DEMO-CAMPUS)',
    });
    const [account] = await smartAccountsOf(server, tenant.operator);
    expect(account).toMatchObject({ accountId: 'SA-DEMO', name: 'Demo Corp' });
    expect(account.virtualAccounts.map((v) => [v.externalId, v.name, v.managed])).toEqual([['VA-DEMO-CAMPUS', 'Campus', true]]);

    // The summary file of the adopted account then binds the pending assignments to real lines.
    const uploaded = await uploadSummary(server, tenant.admin, await exportSummary(sim, 'SA-DEMO'));
    expect(uploaded.smartAccount.domain).toBe('demo.example');
    expect(uploaded.syncRun.assignmentsReconciled).toBe(2);
  });

  it('refuses with CONFLICT a trial ACK naming a smart account another tenant holds, changing nothing', async () => {
    const holder = await createTrialTenant(server, slug('trial-holder'));
    await uploadSummary(server, holder.admin, await exportSummary(sim, 'SA-DEMO-2'));
    const { tenant, file } = await trialReport('trial-late', 1);
    const imported = await importUsageFile(sim, file, 'VA-DEMO-2-CAMPUS');
    expect(imported.status).toBe(200);

    await expectRefused(server, UPLOAD_ACK, { contentBase64: base64(imported.body) }, tenant.admin, {
      code: 'CONFLICT',
      message: /SA-DEMO-2/,
    });
    expect(await smartAccountsOf(server, tenant.operator)).toEqual([]);
  });
});
