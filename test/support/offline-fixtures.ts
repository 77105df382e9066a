/**
 * Helpers for the offline-mode suite: a test server that trusts the simulator's signing key, the
 * simulator's offline endpoints over real HTTP, hostile archives, and snapshots of the license tables.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { readTarGz, type ArchiveEntry, type ArchiveLimits } from '../../src/ssm/files/archive';
import { keyPairFromSeed, publicKeyPem, type Ed25519KeyPair } from '../../src/ssm/files/signing';
import type { SimulatorHandle } from '../../src/ssm-simulator/server';
import { gqlData } from './assignment-fixtures';
import { startTestServer, type TestServer } from './harness';

export const SET_SYNC_MODE = `mutation($input: SetLicenseSyncModeInput!) {
  setLicenseSyncMode(input: $input) { mode trustedSigningKeys { keyId } }
}`;
export const UPLOAD_SUMMARY = `mutation($input: UploadFileInput!) {
  uploadLicenseSummary(input: $input) {
    serial generatedAt
    smartAccount { id accountId domain name virtualAccounts { id externalId name managed } }
    syncRun { id mode trigger status linesAdded linesChanged linesRemoved assignmentsPending assignmentsReconciled }
  }
}`;
const USAGE_REPORT_FIELDS = `id via status measurements fileDigest fileSize downloadUrl ackId acknowledgedAt
  acknowledgedSmartAccount acknowledgedVirtualAccount generatedBy tenant { id }`;
export const GENERATE_REPORT = `mutation($input: GenerateUsageReportInput!) { generateUsageReport(input: $input) { ${USAGE_REPORT_FIELDS} } }`;
export const UPLOAD_ACK = `mutation($input: UploadFileInput!) { uploadAcknowledgement(input: $input) { ${USAGE_REPORT_FIELDS} } }`;
export const USAGE_REPORTS = `query($tenantId: ID) {
  usageReports(tenantId: $tenantId, first: 50) { totalCount edges { node { ${USAGE_REPORT_FIELDS} } } }
}`;
export const SMART_ACCOUNTS = `query($tenantId: ID) {
  smartAccounts(tenantId: $tenantId) { id accountId domain name virtualAccounts { id externalId name managed } }
}`;
export const SET_MANAGED = `mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { id externalId managed } }`;

export interface UsageReportView {
  id: string;
  via: 'ONLINE' | 'OFFLINE';
  status: 'GENERATED' | 'ACKNOWLEDGED';
  measurements: number;
  fileDigest: string | null;
  fileSize: number | null;
  downloadUrl: string | null;
  ackId: string | null;
  acknowledgedAt: string | null;
  acknowledgedSmartAccount: string | null;
  acknowledgedVirtualAccount: string | null;
  generatedBy: string;
  tenant: { id: string };
}

export interface SmartAccountView {
  id: string;
  accountId: string;
  domain: string;
  name: string;
  virtualAccounts: { id: string; externalId: string; name: string; managed: boolean }[];
}

export interface SummaryUploadView {
  serial: number;
  generatedAt: string;
  smartAccount: SmartAccountView;
  syncRun: {
    id: string;
    mode: string;
    trigger: string;
    status: string;
    linesAdded: number;
    linesChanged: number;
    linesRemoved: number;
    assignmentsPending: number;
    assignmentsReconciled: number;
  };
}

/** The simulator's signing key for seed `demo`, rebuilt from the seed: lets tests sign files the product trusts. */
export function simulatorKey(sim: SimulatorHandle, seed = 'demo'): Ed25519KeyPair {
  const keys = keyPairFromSeed(`ssm-simulator-signing-key:${seed}`);
  if (publicKeyPem(keys.publicKey) !== sim.publicKeyPem) throw new Error('simulatorKey: the seed does not give the simulator key');
  return keys;
}

/** A real server on a database of its own, in OFFLINE mode, trusting the simulator's key. */
export async function startOfflineServer(sim: SimulatorHandle): Promise<TestServer> {
  const server = await startTestServer();
  await trustKeys(server, [sim.publicKeyPem]);
  return server;
}

export async function trustKeys(server: TestServer, keys: string[]): Promise<void> {
  await gqlData(server, SET_SYNC_MODE, { input: { mode: 'OFFLINE', trustedSigningKeys: keys } }, server.token('PROVIDER_ADMIN'));
}

export function base64(file: Buffer): string {
  return file.toString('base64');
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The global id the API gives a usage report with this database uuid. */
export function usageReportGlobalId(uuid: string): string {
  return Buffer.from(`UsageReport:${uuid}`, 'utf8').toString('base64url');
}

async function simulatorToken(sim: SimulatorHandle): Promise<string> {
  const res = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret }).toString(),
  });
  if (res.status !== 200) throw new Error(`simulator token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Offline export at the simulator: the signed license summary file of a smart account. */
export async function exportSummary(sim: SimulatorHandle, accountId: string): Promise<Buffer> {
  const res = await fetch(`${sim.url}/api/v1/smart-accounts/${encodeURIComponent(accountId)}/license-summary`, {
    headers: { authorization: `Bearer ${await simulatorToken(sim)}` },
  });
  if (res.status !== 200) throw new Error(`license summary export: HTTP ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

export interface SimulatorImport {
  status: number;
  body: Buffer;
}

/** Offline import at the simulator: the usage report file in, the ACK file (or a JSON error) out. */
export async function importUsageFile(sim: SimulatorHandle, file: Buffer, virtualAccountId?: string): Promise<SimulatorImport> {
  const query = virtualAccountId === undefined ? '' : `?virtualAccountId=${encodeURIComponent(virtualAccountId)}`;
  const res = await fetch(`${sim.url}/api/v1/usage-files${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await simulatorToken(sim)}`, 'content-type': 'application/gzip' },
    body: file,
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

export interface Download {
  status: number;
  contentType: string | null;
  body: Buffer;
}

/** GET of a usage report file, with the bearer token when given. */
export async function download(server: TestServer, path: string, token?: string): Promise<Download> {
  const res = await fetch(`${server.origin}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, contentType: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

export function errorCodeOf(download: Download): string | undefined {
  const parsed = JSON.parse(download.body.toString('utf8')) as { errors?: { extensions?: { code?: string } }[] };
  return parsed.errors?.[0]?.extensions?.code;
}

/** The entries of a well-formed archive, in archive order (for re-packing with changes). */
export async function entriesOf(file: Buffer): Promise<ArchiveEntry[]> {
  const limits: ArchiveLimits = { maxCompressedBytes: 64 << 20, maxUnpackedBytes: 256 << 20, maxEntries: 300_000, maxEntryBytes: 64 << 20 };
  return [...(await readTarGz(file, limits))].map(([name, data]) => ({ name, data }));
}

export interface RawEntry {
  name: string;
  data?: Buffer;
  type?: 'file' | 'symlink';
  linkname?: string;
}

/**
 * A `.tar.gz` built with tar-stream directly, without the product's writer and its name checks:
 * for archives a hostile sender would make (traversal names, links, duplicates).
 */
export async function rawTarGz(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const drained = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const isLink = e.type === 'symlink';
    const data = isLink ? undefined : (e.data ?? Buffer.alloc(0));
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, size: data?.length ?? 0, mtime: new Date(0) }, data, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  await drained;
  return zlib.gzipSync(Buffer.concat(chunks));
}

/** A 512-byte ustar header for a regular file, declaring `size` whatever follows it. */
export function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const field = (offset: number, length: number, value: string): void => {
    h.write(value, offset, length, 'ascii');
  };
  field(0, 100, name);
  field(100, 8, '0000644\0');
  field(108, 8, '0000000\0');
  field(116, 8, '0000000\0');
  field(124, 12, `${size.toString(8).padStart(11, '0')}\0`);
  field(136, 12, '00000000000\0');
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of h) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** gzip of `header` followed by `zeroBytes` zero bytes, streamed so the zeros never sit in memory at once. */
export async function gzipZeros(zeroBytes: number, header: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const gzip = zlib.createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(gzip, 'end');
  if (header.length) gzip.write(header);
  const block = Buffer.alloc(1 << 20, 0);
  for (let left = zeroBytes; left > 0; left -= block.length) {
    if (!gzip.write(left >= block.length ? block : block.subarray(0, left))) await once(gzip, 'drain');
  }
  gzip.end();
  await ended;
  return Buffer.concat(chunks);
}

const SNAPSHOT_TABLES = ['smart_account', 'virtual_account', 'license', 'assignment', 'sync_run', 'usage_report'] as const;
export type Snapshot = Record<(typeof SNAPSHOT_TABLES)[number], unknown[]>;

/** Every row of the license tables (all tenants), as JSON, in a stable order. */
export async function snapshot(server: TestServer): Promise<Snapshot> {
  const out: Partial<Snapshot> = {};
  for (const table of SNAPSHOT_TABLES) {
    const rows = await server.sql<{ row: unknown }>(`select to_jsonb(t) as row from ${table} t order by t.id`);
    out[table] = rows.map((r) => r.row);
  }
  return out as Snapshot;
}
