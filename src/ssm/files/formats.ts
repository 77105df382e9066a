/**
 * The three files carried between this product and the license server in offline mode, with typed
 * builders and strict parsers (DOMAIN.md, "License server modes").
 *
 * | file              | built by            | signed | entries                                                         |
 * |-------------------|---------------------|--------|-----------------------------------------------------------------|
 * | license summary   | license server      | yes    | manifest.json, licenses.json, signature.json                    |
 * | usage report      | this product        | no     | manifest.json, rum-reports.tar.gz (rum/<n>.xml, one per measurement) |
 * | acknowledgement   | license server      | yes    | ack.json, acks/<n>.xml (one per device), signature.json         |
 *
 * Signature (`signature.json` = {keyId, algorithm: "Ed25519", signature: base64}): the signed bytes are
 * `slm-signature-v1\n` followed, for every other entry in name order, by `${name}:${sha256hex(bytes)}\n`.
 * Parsers check the signature over the raw entry bytes BEFORE parsing any of their content, so hostile
 * JSON from an untrusted source is never even looked at.
 *
 * Parsers trust nothing: every field is checked (type, enum value, calendar date, integer range, string
 * length, no control characters), unknown fields and unknown entries are refused, and archive limits cap
 * sizes and counts. Every refusal is a `FileFormatError` with a code (see archive.ts) and a message that
 * names the entry and field. Builders validate their input with the same rules, so they never emit a file
 * the parsers would refuse.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { type ArchiveLimits, type ChunkSink, FileFormatError, readTarGz, TarGzStream, TarGzWriter, writeTarGz } from './archive';
import { keyId as keyIdOf, publicKeyPem, sign, SIGNATURE_ALGORITHM, verify } from './signing';

// ---------------------------------------------------------------------------------------------------
// Shared vocabulary
// ---------------------------------------------------------------------------------------------------

export const BILLING_TYPES = ['PREPAID', 'POSTPAID'] as const;
export type BillingType = (typeof BILLING_TYPES)[number];
export const BILLING_MODELS = ['A_LA_CARTE', 'ENTERPRISE_AGREEMENT', 'MSLA_U', 'MSLA_C'] as const;
export type BillingModel = (typeof BILLING_MODELS)[number];
export const LICENSE_TYPES = ['TERM', 'DEMO'] as const;
export type LicenseType = (typeof LICENSE_TYPES)[number];

/** Which billing models belong to which billing type (the database enforces the same pairing). */
export const BILLING_MODELS_BY_TYPE: Readonly<Record<BillingType, readonly BillingModel[]>> = {
  PREPAID: ['A_LA_CARTE', 'ENTERPRISE_AGREEMENT'],
  POSTPAID: ['MSLA_U', 'MSLA_C'],
};

export const LICENSE_SUMMARY_FORMAT = 'slm-license-summary';
export const USAGE_REPORT_FORMAT = 'slm-usage-report';
export const USAGE_ACK_FORMAT = 'slm-usage-ack';
export const FORMAT_VERSION = 1;

/** Prefix of the signed bytes; bump it (and the parsers) if the signing scheme ever changes. */
export const SIGNATURE_SCHEME = 'slm-signature-v1';
export const SIGNATURE_ENTRY = 'signature.json';

/** Largest quantity/count accepted: the database stores them as int4. */
export const MAX_QUANTITY = 2_147_483_647;

export interface SmartAccountInfo {
  accountId: string;
  domain: string;
  name: string;
}
/** A smart account as named in usage reports and ACKs (no domain there). */
export interface SmartAccountRef {
  accountId: string;
  name: string;
}
export interface VirtualAccountRef {
  id: string;
  name: string;
}

/** One license line of a virtual account, as the license server describes it. */
export interface LicenseLine {
  /** Stable id of the line at the license server: the key for added/changed/removed on sync. */
  lineId: string;
  /** e.g. `regid.2020-10.com.cisco.DSTACK_T1_A` or `regid.2019-03.com.cisco.HSECK9`. */
  entitlementTag: string;
  billingType: BillingType;
  /** Must belong to `billingType` (BILLING_MODELS_BY_TYPE). */
  billingModel: BillingModel;
  subscriptionId: string;
  licenseType: LicenseType;
  /** Purchased (committed, for postpaid) quantity, 0..MAX_QUANTITY. */
  quantity: number;
  /** In use as the license server counts it, 0..MAX_QUANTITY (may exceed quantity: out of compliance). */
  inUse: number;
  /** YYYY-MM-DD, a real calendar date. */
  startDate: string;
  /** YYYY-MM-DD, not before startDate. */
  endDate: string;
}

export interface VirtualAccountLicenses extends VirtualAccountRef {
  licenses: LicenseLine[];
}

// ---------------------------------------------------------------------------------------------------
// Field rules
// ---------------------------------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function text(max: number): z.ZodString {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');
}

/** Ids at the license server: printable, no spaces, at most 128 characters. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const idSchema = z.string().regex(ID_RE, 'must be 1 to 128 of A-Z a-z 0-9 . _ : @ / - (starting with a letter or digit)');
const nameSchema = text(256);
const domainSchema = z.string().regex(/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'must be a domain name such as acme.example');
const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._,:/-]{0,199}$/;
const tagSchema = z.string().regex(TAG_RE, 'must be 1 to 200 of A-Z a-z 0-9 . _ , : / -');
/** Same rule as device registration (device.validation.ts). */
const DEVICE_UUID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const deviceUuidSchema = z.string().regex(DEVICE_UUID_RE, 'must be 1 to 128 of A-Z a-z 0-9 . _ : / -');
const HOSTNAME_MAX = 253;
const hostnameSchema = text(HOSTNAME_MAX);
const quantitySchema = z.int('must be an integer').min(0, 'must not be negative').max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);
const uuidSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID');
const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (sha256)');

/** True for YYYY-MM-DD naming a day that exists (no 2023-02-29), years 1900..9999. */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}
const dateSchema = z.string().refine(isCalendarDate, 'must be a date YYYY-MM-DD');

const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
/** True for an ISO 8601 timestamp with seconds and an explicit offset, e.g. 2026-11-28T10:00:00.000Z. */
export function isIsoDateTime(s: string): boolean {
  const m = ISO_DATE_TIME.exec(s);
  return m !== null && isCalendarDate(m[1]) && Number.isFinite(Date.parse(s));
}
const dateTimeSchema = z.string().refine(isIsoDateTime, 'must be an ISO 8601 timestamp such as 2026-11-28T10:00:00.000Z');

const licenseLineSchema = z
  .strictObject({
    lineId: idSchema,
    entitlementTag: tagSchema,
    billingType: z.enum(BILLING_TYPES),
    billingModel: z.enum(BILLING_MODELS),
    subscriptionId: idSchema,
    licenseType: z.enum(LICENSE_TYPES),
    quantity: quantitySchema,
    inUse: quantitySchema,
    startDate: dateSchema,
    endDate: dateSchema,
  })
  .superRefine((line, ctx) => {
    if (!BILLING_MODELS_BY_TYPE[line.billingType].includes(line.billingModel)) {
      ctx.addIssue({ code: 'custom', path: ['billingModel'], message: `${line.billingModel} is not a ${line.billingType} billing model` });
    }
    if (line.endDate < line.startDate) {
      ctx.addIssue({ code: 'custom', path: ['endDate'], message: `must not be before startDate ${line.startDate}` });
    }
  });

/** Validates one license line as the license server sends it (also used by the online client). */
export const LicenseLineSchema: z.ZodType<LicenseLine> = licenseLineSchema;

const smartAccountInfoSchema = z.strictObject({ accountId: idSchema, domain: domainSchema, name: nameSchema });
const smartAccountRefSchema = z.strictObject({ accountId: idSchema, name: nameSchema });
const virtualAccountRefSchema = z.strictObject({ id: idSchema, name: nameSchema });

export const SmartAccountInfoSchema: z.ZodType<SmartAccountInfo> = smartAccountInfoSchema;
export const VirtualAccountRefSchema: z.ZodType<VirtualAccountRef> = virtualAccountRefSchema;

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Turns zod issues into one message naming the entry and the offending fields (first five). */
function describeIssues(entry: string, error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return `${entry}${path}: ${issue.message}`;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more problems)` : '';
  return parts.join('; ') + more;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, entry: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new FileFormatError('INVALID_CONTENT', describeIssues(entry, result.error));
  return result.data;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(data: Buffer, entry: string): string {
  try {
    return utf8.decode(data);
  } catch {
    throw new FileFormatError('MALFORMED_CONTENT', `${entry} is not valid UTF-8`);
  }
}

function parseJson(data: Buffer, entry: string): unknown {
  const textValue = decodeUtf8(data, entry);
  try {
    return JSON.parse(textValue) as unknown;
  } catch {
    throw new FileFormatError('MALFORMED_CONTENT', `${entry} is not valid JSON`);
  }
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/**
 * Checks `format` and `version` before anything else, so a file of another kind or a future version
 * is refused as UNSUPPORTED_FORMAT rather than as a pile of field errors.
 */
function checkFormat(value: unknown, entry: string, format: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FileFormatError('INVALID_CONTENT', `${entry} must be a JSON object`);
  }
  const record = value as Record<string, unknown>;
  if (record.format !== format) {
    throw new FileFormatError('UNSUPPORTED_FORMAT', `${entry}: format ${JSON.stringify(record.format)} is not ${format}`);
  }
  if (record.version !== FORMAT_VERSION) {
    throw new FileFormatError('UNSUPPORTED_FORMAT', `${entry}: version ${JSON.stringify(record.version)} of ${format} is not supported (expected ${FORMAT_VERSION})`);
  }
}

/** Exactly these entries, nothing more: an unknown entry is refused rather than ignored. */
function requireEntries(entries: Map<string, Buffer>, required: readonly string[], file: string, allowed?: (name: string) => boolean): void {
  for (const name of required) {
    if (!entries.has(name)) throw new FileFormatError('MISSING_ENTRY', `${file} has no ${name}`);
  }
  for (const name of entries.keys()) {
    if (!required.includes(name) && !(allowed?.(name) ?? false)) {
      throw new FileFormatError('UNEXPECTED_ENTRY', `${file} contains an unexpected entry ${JSON.stringify(name.slice(0, 80))}`);
    }
  }
}

function resolveLimits(defaults: ArchiveLimits, override?: Partial<ArchiveLimits>): ArchiveLimits {
  return { ...defaults, ...override };
}

// ---------------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------------

export interface SignatureFile {
  keyId: string;
  algorithm: typeof SIGNATURE_ALGORITHM;
  signature: string;
}

const signatureFileSchema = z.strictObject({
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  algorithm: z.literal(SIGNATURE_ALGORITHM),
  signature: z.string().max(200),
});

function isEntryList(entries: ReadonlyMap<string, Buffer> | readonly { name: string; data: Buffer }[]): entries is readonly { name: string; data: Buffer }[] {
  return Array.isArray(entries);
}

/**
 * The bytes a signature covers: the scheme line, then `${name}:${sha256hex}\n` for every entry other
 * than signature.json, in name order. Names and digests are covered, so adding, removing, renaming or
 * altering any entry breaks the signature.
 */
export function signedPayload(entries: ReadonlyMap<string, Buffer> | readonly { name: string; data: Buffer }[]): Buffer {
  const list = isEntryList(entries) ? [...entries] : [...entries].map(([name, data]) => ({ name, data }));
  const lines = list
    .filter((e) => e.name !== SIGNATURE_ENTRY)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.name}:${sha256Hex(e.data)}\n`);
  return Buffer.from(`${SIGNATURE_SCHEME}\n${lines.join('')}`, 'utf8');
}

function signatureEntry(entries: readonly { name: string; data: Buffer }[], privateKey: KeyObject): { name: string; data: Buffer } {
  const file: SignatureFile = {
    keyId: keyIdOf(publicKeyPem(privateKey)),
    algorithm: SIGNATURE_ALGORITHM,
    signature: sign(privateKey, signedPayload(entries)),
  };
  return { name: SIGNATURE_ENTRY, data: jsonBytes(file) };
}

/**
 * Verifies signature.json over the other entries' raw bytes; returns the signing key id.
 * UNSIGNED without signature.json; BAD_SIGNATURE when it is malformed, names an untrusted key or does not match.
 */
function verifyEntries(entries: Map<string, Buffer>, trustedPublicKeyPems: readonly string[], file: string): string {
  const raw = entries.get(SIGNATURE_ENTRY);
  if (raw === undefined) throw new FileFormatError('UNSIGNED', `${file} is not signed (no ${SIGNATURE_ENTRY})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(raw)) as unknown;
  } catch {
    throw new FileFormatError('BAD_SIGNATURE', `${file}: ${SIGNATURE_ENTRY} is not valid JSON`);
  }
  const sig = signatureFileSchema.safeParse(parsed);
  if (!sig.success) throw new FileFormatError('BAD_SIGNATURE', `${file}: ${SIGNATURE_ENTRY} is malformed (${describeIssues(SIGNATURE_ENTRY, sig.error)})`);
  const trustedIds = new Set<string>();
  for (const pem of trustedPublicKeyPems) {
    try {
      trustedIds.add(keyIdOf(pem));
    } catch {
      // Not an Ed25519 key: cannot match any signature.
    }
  }
  if (!trustedIds.has(sig.data.keyId)) {
    throw new FileFormatError('BAD_SIGNATURE', `${file} is signed by key ${sig.data.keyId}, which is not a trusted key`);
  }
  if (!verify(trustedPublicKeyPems, signedPayload(entries), sig.data.signature, sig.data.keyId)) {
    throw new FileFormatError('BAD_SIGNATURE', `${file}: the signature does not match the content (altered or corrupt file)`);
  }
  return sig.data.keyId;
}

// ---------------------------------------------------------------------------------------------------
// License summary file
// ---------------------------------------------------------------------------------------------------

export interface LicenseSummaryManifest {
  format: typeof LICENSE_SUMMARY_FORMAT;
  version: typeof FORMAT_VERSION;
  smartAccount: SmartAccountInfo;
  /** Positive, increasing with every export of this smart account: a lower or equal serial is a replay. */
  serial: number;
  /** ISO 8601 timestamp of the export. */
  generatedAt: string;
}

export interface LicenseSummaryInput {
  smartAccount: SmartAccountInfo;
  serial: number;
  /** Default: now. */
  generatedAt?: string;
  virtualAccounts: VirtualAccountLicenses[];
}

export interface ParsedLicenseSummary {
  manifest: LicenseSummaryManifest;
  virtualAccounts: VirtualAccountLicenses[];
  /** Id of the trusted key that signed the file. */
  keyId: string;
  /** sha256 hex of the whole file as received. */
  digest: string;
}

const summaryManifestSchema = z.strictObject({
  format: z.literal(LICENSE_SUMMARY_FORMAT),
  version: z.literal(FORMAT_VERSION),
  smartAccount: smartAccountInfoSchema,
  serial: z.int('must be an integer').min(1, 'must be positive').max(Number.MAX_SAFE_INTEGER),
  generatedAt: dateTimeSchema,
});

const summaryLicensesSchema = z
  .strictObject({
    virtualAccounts: z
      .array(z.strictObject({ id: idSchema, name: nameSchema, licenses: z.array(licenseLineSchema) }))
      .max(10_000, 'must hold at most 10000 virtual accounts'),
  })
  .superRefine((value, ctx) => {
    const vaIds = new Map<string, number>();
    const lineIds = new Map<string, string>();
    value.virtualAccounts.forEach((va, i) => {
      const previous = vaIds.get(va.id);
      if (previous !== undefined) ctx.addIssue({ code: 'custom', path: ['virtualAccounts', i, 'id'], message: `duplicates virtualAccounts[${previous}]` });
      vaIds.set(va.id, i);
      va.licenses.forEach((line, j) => {
        const where = lineIds.get(line.lineId);
        if (where !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['virtualAccounts', i, 'licenses', j, 'lineId'], message: `${line.lineId} duplicates a line of ${where}` });
        }
        lineIds.set(line.lineId, `virtualAccounts[${i}]`);
      });
    });
  });

export const LICENSE_SUMMARY_LIMITS: ArchiveLimits = {
  // The product refuses any uploaded summary over 10 MB (issue 4); 100,000 lines compress to ~2.4 MB.
  maxCompressedBytes: 10_000_000,
  maxUnpackedBytes: 96 * 1024 * 1024,
  maxEntries: 8,
  maxEntryBytes: 96 * 1024 * 1024,
};

const SUMMARY_ENTRIES = ['manifest.json', 'licenses.json', SIGNATURE_ENTRY] as const;

/** Builds the signed license summary file (what the license server exports for offline mode). */
export async function buildLicenseSummary(data: LicenseSummaryInput, privateKey: KeyObject): Promise<Buffer> {
  const manifest = validate(
    summaryManifestSchema,
    {
      format: LICENSE_SUMMARY_FORMAT,
      version: FORMAT_VERSION,
      smartAccount: data.smartAccount,
      serial: data.serial,
      generatedAt: data.generatedAt ?? new Date().toISOString(),
    },
    'manifest.json',
  );
  const licenses = validate(summaryLicensesSchema, { virtualAccounts: data.virtualAccounts }, 'licenses.json');
  const entries = [
    { name: 'manifest.json', data: jsonBytes(manifest) },
    { name: 'licenses.json', data: jsonBytes(licenses) },
  ];
  return writeTarGz([...entries, signatureEntry(entries, privateKey)]);
}

/**
 * Reads a license summary file: archive limits, then the signature against `trustedPublicKeyPems`
 * (UNSIGNED / BAD_SIGNATURE), then the entries and every field. Replay detection (serial not above the
 * last accepted one) is the caller's, since only it knows the last serial.
 */
export async function parseLicenseSummary(
  buf: Buffer,
  trustedPublicKeyPems: readonly string[],
  limits?: Partial<ArchiveLimits>,
): Promise<ParsedLicenseSummary> {
  const file = 'license summary file';
  const entries = await readTarGz(buf, resolveLimits(LICENSE_SUMMARY_LIMITS, limits));
  const keyId = verifyEntries(entries, trustedPublicKeyPems, file);
  requireEntries(entries, SUMMARY_ENTRIES, file);
  const manifestJson = parseJson(entries.get('manifest.json') as Buffer, 'manifest.json');
  checkFormat(manifestJson, 'manifest.json', LICENSE_SUMMARY_FORMAT);
  const manifest = validate(summaryManifestSchema, manifestJson, 'manifest.json');
  const licenses = validate(summaryLicensesSchema, parseJson(entries.get('licenses.json') as Buffer, 'licenses.json'), 'licenses.json');
  return { manifest, virtualAccounts: licenses.virtualAccounts, keyId, digest: sha256Hex(buf) };
}

// ---------------------------------------------------------------------------------------------------
// Usage report file
// ---------------------------------------------------------------------------------------------------

/** One usage (RUM) measurement: how many of one entitlement one device used over a period. */
export interface UsageMeasurement {
  deviceUuid: string;
  hostname: string;
  entitlementTag: string;
  /** The subscription the use is counted against; null when not known (e.g. default entitlements in a trial). */
  subscriptionId: string | null;
  billingType: BillingType;
  count: number;
  /** ISO 8601 timestamps, start <= end. */
  start: string;
  end: string;
}

export interface UsagePeriod {
  start: string;
  end: string;
}

export interface UsageReportManifest {
  format: typeof USAGE_REPORT_FORMAT;
  version: typeof FORMAT_VERSION;
  reportId: string;
  generatedAt: string;
  /** Both null for a report generated before any smart account is known (trial); then the license
   *  server asks which virtual account to import it into. Otherwise both set. */
  smartAccount: SmartAccountRef | null;
  virtualAccount: VirtualAccountRef | null;
  period: UsagePeriod;
}

export type UsageReportManifestInput = Omit<UsageReportManifest, 'format' | 'version'>;

export interface ParsedUsageReport {
  manifest: UsageReportManifest;
  /** In the order of their entry numbers. */
  measurements: UsageMeasurement[];
  /** sha256 hex of the whole file as received: the ACK names it. */
  digest: string;
}

function checkPeriod(value: UsagePeriod, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  if (Date.parse(value.end) < Date.parse(value.start)) ctx.addIssue({ code: 'custom', path: [...path, 'end'], message: 'must not be before start' });
}

const usageManifestSchema = z
  .strictObject({
    format: z.literal(USAGE_REPORT_FORMAT),
    version: z.literal(FORMAT_VERSION),
    reportId: uuidSchema,
    generatedAt: dateTimeSchema,
    smartAccount: smartAccountRefSchema.nullable(),
    virtualAccount: virtualAccountRefSchema.nullable(),
    period: z.strictObject({ start: dateTimeSchema, end: dateTimeSchema }),
  })
  .superRefine((m, ctx) => {
    if ((m.smartAccount === null) !== (m.virtualAccount === null)) {
      ctx.addIssue({ code: 'custom', path: ['virtualAccount'], message: 'smartAccount and virtualAccount must both be set or both be null' });
    }
    checkPeriod(m.period, ctx, ['period']);
  });

const measurementSchema = z
  .strictObject({
    deviceUuid: deviceUuidSchema,
    hostname: hostnameSchema,
    entitlementTag: tagSchema,
    subscriptionId: idSchema.nullable(),
    billingType: z.enum(BILLING_TYPES),
    count: quantitySchema,
    start: dateTimeSchema,
    end: dateTimeSchema,
  })
  .superRefine((m, ctx) => checkPeriod(m, ctx, []));

export const UsageMeasurementSchema: z.ZodType<UsageMeasurement> = measurementSchema;

const MEASUREMENT_KEYS: ReadonlySet<string> = new Set(['deviceUuid', 'hostname', 'entitlementTag', 'subscriptionId', 'billingType', 'count', 'start', 'end']);

/**
 * The RUM report entry of one measurement, or null when `m` is not plainly valid. The same rules as
 * `measurementSchema` written out by hand (sharing its patterns), because at 100,000 measurements a
 * report spent more time in zod than in compression. It may only be stricter than the schema, never
 * looser: a null sends the measurement through the schema, which accepts it or names the problem
 * (formats.spec.ts checks both agree). The text equals `xmlEnvelopeText('RUMReport', schemaOutput)`:
 * keys in schema order, and only the hostname can hold characters JSON escapes or `<`, `>`.
 */
function plainMeasurementEntry(m: UsageMeasurement, seen: SeenValues): string | null {
  if (typeof m !== 'object' || m === null || Object.getPrototypeOf(m) !== Object.prototype) return null;
  const { deviceUuid, hostname, entitlementTag, subscriptionId, billingType, count, start, end } = m;
  if (
    typeof deviceUuid !== 'string' || !DEVICE_UUID_RE.test(deviceUuid) ||
    typeof hostname !== 'string' || hostname.length === 0 || hostname.length > HOSTNAME_MAX || CONTROL_CHARS.test(hostname) ||
    typeof entitlementTag !== 'string' || !seen.matches(TAG_RE, entitlementTag) ||
    (subscriptionId !== null && (typeof subscriptionId !== 'string' || !seen.matches(ID_RE, subscriptionId))) ||
    (billingType !== 'PREPAID' && billingType !== 'POSTPAID') ||
    !Number.isSafeInteger(count) || count < 0 || count > MAX_QUANTITY ||
    typeof start !== 'string' || typeof end !== 'string'
  ) {
    return null;
  }
  const startMs = seen.isoTime(start);
  const endMs = seen.isoTime(end);
  if (startMs === null || endMs === null || endMs < startMs) return null;
  // Strict object: its enumerable keys are exactly the eight above (a plain object has no others).
  let keys = 0;
  for (const key in m) {
    if (!MEASUREMENT_KEYS.has(key)) return null;
    keys += 1;
  }
  if (keys !== MEASUREMENT_KEYS.size) return null;
  const host = JSON.stringify(hostname).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  const subscription = subscriptionId === null ? 'null' : `"${subscriptionId}"`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<smartLicense><RUMReport><![CDATA[{"deviceUuid":"${deviceUuid}","hostname":${host},` +
    `"entitlementTag":"${entitlementTag}","subscriptionId":${subscription},"billingType":"${billingType}","count":${count},` +
    `"start":"${start}","end":"${end}"}]]></RUMReport></smartLicense>\n`
  );
}

/**
 * Checks remembered across one report's measurements, which share a few timestamps, entitlement tags
 * and subscription ids. Each memory is bounded (cleared when full).
 */
class SeenValues {
  private readonly times = new Map<string, number | null>();
  private readonly matched = new Map<RegExp, Set<string>>();

  /** `isIsoDateTime` then `Date.parse`; null when not an ISO timestamp. */
  isoTime(s: string): number | null {
    let ms = this.times.get(s);
    if (ms === undefined) {
      ms = isIsoDateTime(s) ? Date.parse(s) : null;
      if (this.times.size >= 4096) this.times.clear();
      this.times.set(s, ms);
    }
    return ms;
  }

  /** `pattern.test(s)` (pattern without the g or y flag), remembering the strings that matched. */
  matches(pattern: RegExp, s: string): boolean {
    let good = this.matched.get(pattern);
    if (!good) this.matched.set(pattern, (good = new Set()));
    if (good.has(s)) return true;
    if (!pattern.test(s)) return false;
    if (good.size >= 4096) good.clear();
    good.add(s);
    return true;
  }
}

/** Outer usage report archive: manifest.json and the nested rum-reports.tar.gz. */
export const USAGE_REPORT_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 64 * 1024 * 1024,
  maxUnpackedBytes: 80 * 1024 * 1024,
  maxEntries: 4,
  maxEntryBytes: 64 * 1024 * 1024,
};
/** Nested rum-reports.tar.gz: up to 250,000 measurements of at most 16 KiB each. */
export const RUM_ARCHIVE_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 64 * 1024 * 1024,
  maxUnpackedBytes: 512 * 1024 * 1024,
  maxEntries: 250_001,
  maxEntryBytes: 16 * 1024,
};

const RUM_ARCHIVE = 'rum-reports.tar.gz';
const RUM_ENTRY = /^rum\/([1-9]\d{0,8})\.xml$/;

/**
 * A CDATA-wrapped JSON document in a two-level XML envelope, as the vendor's RUM reports and ACKs are.
 * `<` and `>` are escaped as \u003c / \u003e inside the JSON (valid JSON, same value), so the payload can
 * never close the CDATA section or the envelope, whatever strings it holds.
 */
function xmlEnvelope(inner: string, value: unknown): Buffer {
  return Buffer.from(xmlEnvelopeText(inner, value), 'utf8');
}

function xmlEnvelopeText(inner: string, value: unknown): string {
  const json = JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<smartLicense><${inner}><![CDATA[${json}]]></${inner}></smartLicense>\n`;
}

function envelopePattern(inner: string): RegExp {
  return new RegExp(`^(?:<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\s*)?<smartLicense>\\s*<${inner}><!\\[CDATA\\[([^<>]*)\\]\\]></${inner}>\\s*</smartLicense>\\s*$`);
}
const RUM_ENVELOPE = envelopePattern('RUMReport');
const ACK_ENVELOPE = envelopePattern('RUMACK');

function parseEnvelope(data: Buffer, pattern: RegExp, entry: string): unknown {
  const m = pattern.exec(decodeUtf8(data, entry));
  if (!m) throw new FileFormatError('MALFORMED_CONTENT', `${entry} is not the expected XML envelope`);
  try {
    return JSON.parse(m[1]) as unknown;
  } catch {
    throw new FileFormatError('MALFORMED_CONTENT', `${entry}: the CDATA section is not valid JSON`);
  }
}

export interface WrittenUsageReport {
  /** sha256 hex of the file's bytes: what an ACK names. */
  digest: string;
  /** Bytes of the file. */
  size: number;
  measurements: number;
}

/**
 * Writes the usage report file to `sink` as it is compressed, hashing it on the way: nothing but the
 * nested `rum-reports.tar.gz` (compressed; it must be complete before the outer tar header that gives
 * its size) is held in memory. `measurements` may be any iterable or async iterable, e.g. a database
 * cursor; an async source may yield batches (arrays), which saves a promise per measurement. They are
 * validated and written one by one; a bad one throws FileFormatError INVALID_CONTENT naming it, before
 * any byte reached `sink`. The bytes are exactly those `buildUsageReport` returns.
 */
export async function writeUsageReport(
  manifest: UsageReportManifestInput,
  measurements: Iterable<UsageMeasurement> | AsyncIterable<UsageMeasurement | readonly UsageMeasurement[]>,
  sink: ChunkSink,
): Promise<WrittenUsageReport> {
  const checked = validate(usageManifestSchema, { format: USAGE_REPORT_FORMAT, version: FORMAT_VERSION, ...manifest }, 'manifest.json');
  // rum/1.xml, rum/2.xml, ...: distinct by construction.
  const rum = new TarGzWriter({ namesAreUnique: true });
  const seen = new SeenValues();
  let n = 0;
  const addOne = (m: UsageMeasurement): boolean => {
    n += 1;
    if (n >= RUM_ARCHIVE_LIMITS.maxEntries) {
      throw new FileFormatError('TOO_MANY_ENTRIES', `a usage report holds at most ${RUM_ARCHIVE_LIMITS.maxEntries - 1} measurements`);
    }
    const entry = plainMeasurementEntry(m, seen) ?? xmlEnvelopeText('RUMReport', validate(measurementSchema, m, `measurement ${n}`));
    return rum.append(`rum/${n}.xml`, entry);
  };
  let nested: { chunks: Buffer[]; size: number };
  try {
    for await (const item of measurements) {
      if (isBatch(item)) {
        for (const m of item) if (!addOne(m)) await rum.drain();
      } else if (!addOne(item)) {
        await rum.drain();
      }
    }
    nested = await rum.finishChunks();
  } catch (err) {
    rum.abort();
    throw err;
  }
  const hash = createHash('sha256');
  const outer = new TarGzStream((chunk) => {
    hash.update(chunk);
    return sink(chunk);
  });
  try {
    await outer.add('manifest.json', jsonBytes(checked));
    await outer.addParts(RUM_ARCHIVE, nested.size, nested.chunks);
    const size = await outer.finish();
    return { digest: hash.digest('hex'), size, measurements: n };
  } catch (err) {
    outer.abort();
    throw err;
  }
}

function isBatch(item: UsageMeasurement | readonly UsageMeasurement[]): item is readonly UsageMeasurement[] {
  return Array.isArray(item);
}

/**
 * Builds the usage report file in memory (see `writeUsageReport`, which streams the same bytes).
 * Throws FileFormatError INVALID_CONTENT naming the first bad measurement.
 */
export async function buildUsageReport(
  manifest: UsageReportManifestInput,
  measurements: Iterable<UsageMeasurement> | AsyncIterable<UsageMeasurement | readonly UsageMeasurement[]>,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const { size } = await writeUsageReport(manifest, measurements, (chunk) => {
    chunks.push(chunk);
  });
  return Buffer.concat(chunks, size);
}

/**
 * Reads a usage report file (the license server's side of the offline upload): outer and nested archive
 * limits (`limits` overrides the outer ones), the manifest, then every `rum/<n>.xml` envelope and its
 * measurement. Unsigned by design: the product is not a signing authority.
 */
export async function parseUsageReport(
  buf: Buffer,
  limits?: Partial<ArchiveLimits>,
  nestedLimits?: Partial<ArchiveLimits>,
): Promise<ParsedUsageReport> {
  const file = 'usage report file';
  const entries = await readTarGz(buf, resolveLimits(USAGE_REPORT_LIMITS, limits));
  requireEntries(entries, ['manifest.json', RUM_ARCHIVE], file);
  const manifestJson = parseJson(entries.get('manifest.json') as Buffer, 'manifest.json');
  checkFormat(manifestJson, 'manifest.json', USAGE_REPORT_FORMAT);
  const manifest = validate(usageManifestSchema, manifestJson, 'manifest.json');
  const rum = await readTarGz(entries.get(RUM_ARCHIVE) as Buffer, resolveLimits(RUM_ARCHIVE_LIMITS, nestedLimits));
  const numbered: { n: number; m: UsageMeasurement }[] = [];
  for (const [name, data] of rum) {
    const match = RUM_ENTRY.exec(name);
    if (!match) throw new FileFormatError('UNEXPECTED_ENTRY', `${RUM_ARCHIVE} contains an unexpected entry ${JSON.stringify(name.slice(0, 80))}`);
    const entry = `${RUM_ARCHIVE}/${name}`;
    numbered.push({ n: Number(match[1]), m: validate(measurementSchema, parseEnvelope(data, RUM_ENVELOPE, entry), entry) });
  }
  numbered.sort((a, b) => a.n - b.n);
  return { manifest, measurements: numbered.map((x) => x.m), digest: sha256Hex(buf) };
}

// ---------------------------------------------------------------------------------------------------
// Acknowledgement (ACK) file
// ---------------------------------------------------------------------------------------------------

export interface UsageAck {
  format: typeof USAGE_ACK_FORMAT;
  version: typeof FORMAT_VERSION;
  ackId: string;
  /** The manifest reportId of the acknowledged usage report. */
  reportId: string;
  /** sha256 hex of the acknowledged usage report file's bytes. */
  reportDigest: string;
  acknowledgedAt: string;
  /** Where the report was imported: for a trial report, the SA/VA chosen at import. */
  smartAccount: SmartAccountRef;
  virtualAccount: VirtualAccountRef;
  /** Number of measurements acknowledged; equals the sum over `devices`. */
  measurements: number;
}

/** Per-device acknowledgement (`acks/<n>.xml`). */
export interface DeviceAck {
  deviceUuid: string;
  hostname: string;
  /** Measurements of this device acknowledged. */
  measurements: number;
  status: 'ACCEPTED';
}

export type AckInput = Omit<UsageAck, 'format' | 'version'> & { devices: DeviceAck[] };

export interface ParsedAck {
  ack: UsageAck;
  devices: DeviceAck[];
  keyId: string;
  digest: string;
}

const ackSchema = z.strictObject({
  format: z.literal(USAGE_ACK_FORMAT),
  version: z.literal(FORMAT_VERSION),
  ackId: uuidSchema,
  reportId: uuidSchema,
  reportDigest: sha256HexSchema,
  acknowledgedAt: dateTimeSchema,
  smartAccount: smartAccountRefSchema,
  virtualAccount: virtualAccountRefSchema,
  measurements: quantitySchema,
});

const deviceAckSchema = z.strictObject({
  deviceUuid: deviceUuidSchema,
  hostname: hostnameSchema,
  measurements: quantitySchema,
  status: z.literal('ACCEPTED'),
});

export const ACK_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 32 * 1024 * 1024,
  maxUnpackedBytes: 384 * 1024 * 1024,
  maxEntries: 250_003,
  maxEntryBytes: 1024 * 1024,
};

const ACK_ENTRY = /^acks\/([1-9]\d{0,8})\.xml$/;

function checkAckTotals(ack: { measurements: number }, devices: readonly DeviceAck[], file: string): void {
  const seen = new Set<string>();
  let total = 0;
  for (const d of devices) {
    if (seen.has(d.deviceUuid)) throw new FileFormatError('INVALID_CONTENT', `${file}: device ${d.deviceUuid} is acknowledged twice`);
    seen.add(d.deviceUuid);
    total += d.measurements;
  }
  if (total !== ack.measurements) {
    throw new FileFormatError('INVALID_CONTENT', `${file}: ack.json counts ${ack.measurements} measurements but the device acks add up to ${total}`);
  }
}

/** Builds the signed ACK file (what the license server returns for an imported usage report). */
export async function buildAck(data: AckInput, privateKey: KeyObject): Promise<Buffer> {
  const { devices, ...fields } = data;
  const ack = validate(ackSchema, { format: USAGE_ACK_FORMAT, version: FORMAT_VERSION, ...fields }, 'ack.json');
  const checkedDevices = devices.map((d, i) => validate(deviceAckSchema, d, `acks/${i + 1}.xml`));
  checkAckTotals(ack, checkedDevices, 'ACK');
  const entries = [
    { name: 'ack.json', data: jsonBytes(ack) },
    ...checkedDevices.map((d, i) => ({ name: `acks/${i + 1}.xml`, data: xmlEnvelope('RUMACK', d) })),
  ];
  return writeTarGz([...entries, signatureEntry(entries, privateKey)]);
}

/**
 * Reads an ACK file: archive limits, signature against `trustedPublicKeyPems` (UNSIGNED / BAD_SIGNATURE),
 * then ack.json and every device ack. Matching it to a report (reportId and reportDigest) is the caller's.
 */
export async function parseAck(buf: Buffer, trustedPublicKeyPems: readonly string[], limits?: Partial<ArchiveLimits>): Promise<ParsedAck> {
  const file = 'acknowledgement file';
  const entries = await readTarGz(buf, resolveLimits(ACK_LIMITS, limits));
  const keyId = verifyEntries(entries, trustedPublicKeyPems, file);
  requireEntries(entries, ['ack.json', SIGNATURE_ENTRY], file, (name) => ACK_ENTRY.test(name));
  const ackJson = parseJson(entries.get('ack.json') as Buffer, 'ack.json');
  checkFormat(ackJson, 'ack.json', USAGE_ACK_FORMAT);
  const ack = validate(ackSchema, ackJson, 'ack.json');
  const numbered: { n: number; d: DeviceAck }[] = [];
  for (const [name, data] of entries) {
    const match = ACK_ENTRY.exec(name);
    if (!match) continue;
    numbered.push({ n: Number(match[1]), d: validate(deviceAckSchema, parseEnvelope(data, ACK_ENVELOPE, name), name) });
  }
  numbered.sort((a, b) => a.n - b.n);
  const devices = numbered.map((x) => x.d);
  checkAckTotals(ack, devices, file);
  return { ack, devices, keyId, digest: sha256Hex(buf) };
}
