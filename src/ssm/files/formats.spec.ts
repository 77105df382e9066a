import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { KeyObject } from 'node:crypto';
import { FileFormatError, type FileFormatErrorCode, readTarGz, writeTarGz } from './archive';
import {
  BILLING_MODELS_BY_TYPE,
  buildAck,
  buildLicenseSummary,
  buildUsageReport,
  type LicenseLine,
  type LicenseSummaryInput,
  parseAck,
  parseLicenseSummary,
  parseUsageReport,
  sha256Hex,
  signedPayload,
  type UsageMeasurement,
  UsageMeasurementSchema,
  type UsageReportManifestInput,
  writeUsageReport,
} from './formats';
import { keyId, keyPairFromSeed, publicKeyPem, sign } from './signing';

const server = keyPairFromSeed('formats-spec:server');
const TRUSTED = [publicKeyPem(server.publicKey)];
const attacker = keyPairFromSeed('formats-spec:attacker');

async function refusal(promise: Promise<unknown>): Promise<FileFormatError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FileFormatError) return err;
    throw new Error(`expected a FileFormatError, got ${String(err)}`);
  }
  throw new Error('expected a FileFormatError, but the file was accepted');
}

async function expectCode(promise: Promise<unknown>, code: FileFormatErrorCode, messagePart?: string): Promise<void> {
  const err = await refusal(promise);
  expect({ code: err.code, message: err.message }).toEqual({ code, message: messagePart ? expect.stringContaining(messagePart) : expect.any(String) });
}

function line(overrides: Partial<LicenseLine> = {}): LicenseLine {
  return {
    lineId: 'VA-1-L1',
    entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T1_A',
    billingType: 'PREPAID',
    billingModel: 'A_LA_CARTE',
    subscriptionId: 'Sub123456',
    licenseType: 'TERM',
    quantity: 25,
    inUse: 3,
    startDate: '2026-01-01',
    endDate: '2028-12-31',
    ...overrides,
  };
}

const SUMMARY: LicenseSummaryInput = {
  smartAccount: { accountId: 'SA-ACME', domain: 'acme.example', name: 'Acme Corp' },
  serial: 7,
  generatedAt: '2026-11-28T10:00:00.000Z',
  virtualAccounts: [
    { id: 'VA-1', name: 'Campus', licenses: [line(), line({ lineId: 'VA-1-L2', entitlementTag: 'regid.2019-03.com.cisco.HSECK9', billingType: 'POSTPAID', billingModel: 'MSLA_U', quantity: 0 })] },
    { id: 'VA-2', name: 'Branch', licenses: [] },
  ],
};

/** Entries signed with `key`, as a license server would: lets tests sign content the builders refuse to make. */
async function signedFile(entries: { name: string; data: Buffer }[], key: KeyObject, claimedKeyId?: string): Promise<Buffer> {
  const signature = {
    keyId: claimedKeyId ?? keyId(publicKeyPem(key)),
    algorithm: 'Ed25519',
    signature: sign(key, signedPayload(entries)),
  };
  return writeTarGz([...entries, { name: 'signature.json', data: Buffer.from(JSON.stringify(signature)) }]);
}

async function entriesOf(file: Buffer): Promise<{ name: string; data: Buffer }[]> {
  const map = await readTarGz(file, { maxCompressedBytes: 1e9, maxUnpackedBytes: 1e9, maxEntries: 1e6, maxEntryBytes: 1e9 });
  return [...map].map(([name, data]) => ({ name, data }));
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A valid summary's manifest/licenses as objects, for tests that alter them and sign again. */
async function summaryParts(): Promise<{ manifest: Record<string, unknown>; licenses: { virtualAccounts: { id: string; name: string; licenses: Record<string, unknown>[] }[] } }> {
  const entries = await entriesOf(await buildLicenseSummary(SUMMARY, server.privateKey));
  const get = (name: string): unknown => JSON.parse((entries.find((e) => e.name === name) as { data: Buffer }).data.toString());
  return { manifest: get('manifest.json') as Record<string, unknown>, licenses: get('licenses.json') as never };
}

describe('license summary file', () => {
  it('round-trips, verified with the trusted key', async () => {
    const file = await buildLicenseSummary(SUMMARY, server.privateKey);
    const parsed = await parseLicenseSummary(file, TRUSTED);
    expect(parsed.manifest).toEqual({ format: 'slm-license-summary', version: 1, smartAccount: SUMMARY.smartAccount, serial: 7, generatedAt: SUMMARY.generatedAt });
    expect(parsed.virtualAccounts).toEqual(SUMMARY.virtualAccounts);
    expect(parsed.keyId).toBe(keyId(TRUSTED[0]));
    expect(parsed.digest).toBe(sha256Hex(file));
  });

  it('round-trips any valid set of license lines (property)', async () => {
    const day = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }).map((t) => new Date(t).toISOString().slice(0, 10));
    const lineArb = fc
      .record({
        entitlementTag: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._,:/-]{0,40}$/),
        billingType: fc.constantFrom('PREPAID' as const, 'POSTPAID' as const),
        modelIndex: fc.integer({ min: 0, max: 1 }),
        subscriptionId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,20}$/),
        licenseType: fc.constantFrom('TERM' as const, 'DEMO' as const),
        quantity: fc.integer({ min: 0, max: 2_147_483_647 }),
        inUse: fc.integer({ min: 0, max: 100_000 }),
        dates: fc.tuple(day, day).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
      })
      .map(({ modelIndex, dates, ...l }) => ({ ...l, billingModel: BILLING_MODELS_BY_TYPE[l.billingType][modelIndex], startDate: dates[0], endDate: dates[1] }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(lineArb, { maxLength: 6 }), { maxLength: 4 }), fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), async (vas, name) => {
        const virtualAccounts = vas.map((lines, i) => ({ id: `VA-${i}`, name, licenses: lines.map((l, j) => ({ lineId: `VA-${i}-L${j}`, ...l })) }));
        const file = await buildLicenseSummary({ ...SUMMARY, virtualAccounts }, server.privateKey);
        expect((await parseLicenseSummary(file, TRUSTED)).virtualAccounts).toEqual(virtualAccounts);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a file signed by a key that is not trusted (BAD_SIGNATURE)', async () => {
    const file = await buildLicenseSummary(SUMMARY, attacker.privateKey);
    await expectCode(parseLicenseSummary(file, TRUSTED), 'BAD_SIGNATURE', 'not a trusted key');
    await expectCode(parseLicenseSummary(await buildLicenseSummary(SUMMARY, server.privateKey), []), 'BAD_SIGNATURE');
  });

  it('refuses content re-signed by another key claiming the trusted key id (BAD_SIGNATURE)', async () => {
    const entries = (await entriesOf(await buildLicenseSummary(SUMMARY, server.privateKey))).filter((e) => e.name !== 'signature.json');
    const altered = entries.map((e) => (e.name === 'licenses.json' ? { ...e, data: Buffer.from(e.data.toString().replace('"quantity": 25', '"quantity": 2500')) } : e));
    await expectCode(parseLicenseSummary(await signedFile(altered, attacker.privateKey, keyId(TRUSTED[0])), TRUSTED), 'BAD_SIGNATURE', 'does not match');
  });

  it('refuses a file without signature.json (UNSIGNED), before looking at its content', async () => {
    const entries = (await entriesOf(await buildLicenseSummary(SUMMARY, server.privateKey))).filter((e) => e.name !== 'signature.json');
    await expectCode(parseLicenseSummary(await writeTarGz(entries), TRUSTED), 'UNSIGNED');
    // Garbage content: still UNSIGNED, since the signature is checked first.
    await expectCode(parseLicenseSummary(await writeTarGz([{ name: 'manifest.json', data: Buffer.from('{not json') }]), TRUSTED), 'UNSIGNED');
  });

  it('refuses a malformed signature.json (BAD_SIGNATURE)', async () => {
    const entries = (await entriesOf(await buildLicenseSummary(SUMMARY, server.privateKey))).filter((e) => e.name !== 'signature.json');
    for (const sig of ['{', json({ keyId: keyId(TRUSTED[0]), algorithm: 'RSA', signature: 'AA==' }), json({ keyId: 'x', algorithm: 'Ed25519', signature: 'AA==' })]) {
      const file = await writeTarGz([...entries, { name: 'signature.json', data: Buffer.from(sig) }]);
      await expectCode(parseLicenseSummary(file, TRUSTED), 'BAD_SIGNATURE');
    }
  });

  it('refuses a signed file whose content was altered afterwards, byte by byte (property)', async () => {
    const original = await entriesOf(await buildLicenseSummary(SUMMARY, server.privateKey));
    const licensesIndex = original.findIndex((e) => e.name === 'licenses.json');
    const size = original[licensesIndex].data.length;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 1, max: 255 }), async (index, flip) => {
        const entries = original.map((e) => ({ ...e, data: Buffer.from(e.data) }));
        entries[licensesIndex].data[index] ^= flip;
        await expectCode(parseLicenseSummary(await writeTarGz(entries), TRUSTED), 'BAD_SIGNATURE');
      }),
      { numRuns: 60 },
    );
  });

  it('refuses an entry added or removed after signing (BAD_SIGNATURE)', async () => {
    const original = await entriesOf(await buildLicenseSummary(SUMMARY, server.privateKey));
    const added = [...original, { name: 'extra.json', data: Buffer.from('{}') }];
    await expectCode(parseLicenseSummary(await writeTarGz(added), TRUSTED), 'BAD_SIGNATURE');
    const removed = original.filter((e) => e.name !== 'licenses.json');
    await expectCode(parseLicenseSummary(await writeTarGz(removed), TRUSTED), 'BAD_SIGNATURE');
  });

  it('refuses trusted-signed files with a missing or unexpected entry', async () => {
    const { manifest, licenses } = await summaryParts();
    await expectCode(parseLicenseSummary(await signedFile([{ name: 'manifest.json', data: json(manifest) }], server.privateKey), TRUSTED), 'MISSING_ENTRY', 'licenses.json');
    const extra = [
      { name: 'manifest.json', data: json(manifest) },
      { name: 'licenses.json', data: json(licenses) },
      { name: 'readme.txt', data: Buffer.from('hi') },
    ];
    await expectCode(parseLicenseSummary(await signedFile(extra, server.privateKey), TRUSTED), 'UNEXPECTED_ENTRY', 'readme.txt');
  });

  it.each([
    ['another format', { format: 'slm-usage-ack' }],
    ['a future version', { version: 2 }],
    ['no version', { version: undefined }],
  ])('refuses a trusted-signed manifest of %s (UNSUPPORTED_FORMAT)', async (_what, change) => {
    const { manifest, licenses } = await summaryParts();
    const entries = [
      { name: 'manifest.json', data: json({ ...manifest, ...change }) },
      { name: 'licenses.json', data: json(licenses) },
    ];
    await expectCode(parseLicenseSummary(await signedFile(entries, server.privateKey), TRUSTED), 'UNSUPPORTED_FORMAT');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown billing type', { billingType: 'FREE' }, 'billingType'],
    ['an unknown billing model', { billingModel: 'PAYG' }, 'billingModel'],
    ['a billing model of the other billing type', { billingModel: 'MSLA_C' }, 'is not a PREPAID billing model'],
    ['an unknown license type', { licenseType: 'PERPETUAL' }, 'licenseType'],
    ['a negative quantity', { quantity: -1 }, 'quantity'],
    ['a fractional quantity', { quantity: 1.5 }, 'quantity'],
    ['a quantity as a string', { quantity: '5' }, 'quantity'],
    ['a quantity over int4', { quantity: 2_147_483_648 }, 'quantity'],
    ['a date that does not exist', { startDate: '2026-02-30' }, 'startDate'],
    ['a date in another format', { endDate: '31/12/2028' }, 'endDate'],
    ['an end before the start', { startDate: '2027-01-01', endDate: '2026-01-01' }, 'endDate'],
    ['an over-long subscription id', { subscriptionId: 'S'.repeat(129) }, 'subscriptionId'],
    ['a control character in the tag', { entitlementTag: 'regid\n.x' }, 'entitlementTag'],
    ['an unknown field', { discount: 50 }, 'discount'],
    ['a missing field', { lineId: undefined }, 'lineId'],
  ])('refuses a trusted-signed line with %s (INVALID_CONTENT naming the field)', async (_what, change, messagePart) => {
    const { manifest, licenses } = await summaryParts();
    licenses.virtualAccounts[0].licenses[0] = { ...licenses.virtualAccounts[0].licenses[0], ...change };
    const entries = [
      { name: 'manifest.json', data: json(manifest) },
      { name: 'licenses.json', data: json(licenses) },
    ];
    await expectCode(parseLicenseSummary(await signedFile(entries, server.privateKey), TRUSTED), 'INVALID_CONTENT', messagePart);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a zero serial', { serial: 0 }, 'serial'],
    ['a serial as a string', { serial: '8' }, 'serial'],
    ['a bad timestamp', { generatedAt: 'yesterday' }, 'generatedAt'],
    ['a smart account without domain', { smartAccount: { accountId: 'SA-ACME', name: 'Acme' } }, 'domain'],
  ])('refuses a trusted-signed manifest with %s (INVALID_CONTENT)', async (_what, change, messagePart) => {
    const { manifest, licenses } = await summaryParts();
    const entries = [
      { name: 'manifest.json', data: json({ ...manifest, ...change }) },
      { name: 'licenses.json', data: json(licenses) },
    ];
    await expectCode(parseLicenseSummary(await signedFile(entries, server.privateKey), TRUSTED), 'INVALID_CONTENT', messagePart);
  });

  it('refuses duplicate line ids and virtual account ids (INVALID_CONTENT)', async () => {
    const { manifest, licenses } = await summaryParts();
    licenses.virtualAccounts[1].licenses.push(licenses.virtualAccounts[0].licenses[0]);
    const entries = [
      { name: 'manifest.json', data: json(manifest) },
      { name: 'licenses.json', data: json(licenses) },
    ];
    await expectCode(parseLicenseSummary(await signedFile(entries, server.privateKey), TRUSTED), 'INVALID_CONTENT', 'duplicates');
    const dupVa = { virtualAccounts: [licenses.virtualAccounts[1], { ...licenses.virtualAccounts[1], licenses: [] }] };
    const entries2 = [
      { name: 'manifest.json', data: json(manifest) },
      { name: 'licenses.json', data: json(dupVa) },
    ];
    await expectCode(parseLicenseSummary(await signedFile(entries2, server.privateKey), TRUSTED), 'INVALID_CONTENT', 'duplicates');
  });

  it('refuses trusted-signed content that is not JSON or not UTF-8 (MALFORMED_CONTENT)', async () => {
    const { manifest } = await summaryParts();
    const notJson = [
      { name: 'manifest.json', data: json(manifest) },
      { name: 'licenses.json', data: Buffer.from('{"virtualAccounts": [') },
    ];
    await expectCode(parseLicenseSummary(await signedFile(notJson, server.privateKey), TRUSTED), 'MALFORMED_CONTENT', 'licenses.json');
    const notUtf8 = [
      { name: 'manifest.json', data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
      { name: 'licenses.json', data: json({ virtualAccounts: [] }) },
    ];
    await expectCode(parseLicenseSummary(await signedFile(notUtf8, server.privateKey), TRUSTED), 'MALFORMED_CONTENT', 'UTF-8');
  });

  it('refuses a summary over 10 MB by default (TOO_LARGE)', async () => {
    await expectCode(parseLicenseSummary(Buffer.concat([zlib.gzipSync(Buffer.alloc(10)), Buffer.alloc(10 * 1024 * 1024)]), TRUSTED), 'TOO_LARGE');
  });

  it('will not build a summary its parser would refuse', async () => {
    await expectCode(buildLicenseSummary({ ...SUMMARY, serial: 0 }, server.privateKey), 'INVALID_CONTENT', 'serial');
    await expectCode(
      buildLicenseSummary({ ...SUMMARY, virtualAccounts: [{ id: 'VA-1', name: 'x', licenses: [line({ billingModel: 'MSLA_U' })] }] }, server.privateKey),
      'INVALID_CONTENT',
      'billingModel',
    );
  });
});

function measurement(i: number, overrides: Partial<UsageMeasurement> = {}): UsageMeasurement {
  return {
    deviceUuid: `C8K-${String(Math.floor(i / 2)).padStart(6, '0')}`,
    hostname: `edge-${Math.floor(i / 2)}.branch.example`,
    entitlementTag: i % 2 === 0 ? 'regid.2020-10.com.cisco.DSTACK_T1_A' : 'regid.2019-03.com.cisco.HSECK9',
    subscriptionId: i % 3 === 0 ? null : 'Sub123456',
    billingType: i % 2 === 0 ? 'PREPAID' : 'POSTPAID',
    count: 1,
    start: '2026-11-01T00:00:00.000Z',
    end: '2026-11-28T00:00:00.000Z',
    ...overrides,
  };
}

function usageManifest(overrides: Partial<UsageReportManifestInput> = {}): UsageReportManifestInput {
  return {
    reportId: randomUUID(),
    generatedAt: '2026-11-28T10:00:00.000Z',
    smartAccount: { accountId: 'SA-ACME', name: 'Acme Corp' },
    virtualAccount: { id: 'VA-1', name: 'Campus' },
    period: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-28T00:00:00.000Z' },
    ...overrides,
  };
}

describe('usage report file', () => {
  it('round-trips a report and its measurements in order', async () => {
    const manifest = usageManifest();
    const measurements = Array.from({ length: 7 }, (_, i) => measurement(i));
    const file = await buildUsageReport(manifest, measurements);
    const parsed = await parseUsageReport(file);
    expect(parsed.manifest).toEqual({ format: 'slm-usage-report', version: 1, ...manifest });
    expect(parsed.measurements).toEqual(measurements);
    expect(parsed.digest).toBe(sha256Hex(file));
  });

  it('round-trips a report without any measurement, and its ACK', async () => {
    const manifest = usageManifest();
    const file = await buildUsageReport(manifest, []);
    expect((await parseUsageReport(file)).measurements).toEqual([]);
    const ack = await buildAck(
      {
        ackId: randomUUID(),
        reportId: manifest.reportId,
        reportDigest: sha256Hex(file),
        acknowledgedAt: '2026-11-28T11:00:00.000Z',
        smartAccount: { accountId: 'SA-ACME', name: 'Acme Corp' },
        virtualAccount: { id: 'VA-1', name: 'Campus' },
        measurements: 0,
        devices: [],
      },
      server.privateKey,
    );
    expect((await parseAck(ack, TRUSTED)).devices).toEqual([]);
  });

  it('lays out a manifest and a nested archive of one RUM XML envelope per measurement', async () => {
    const file = await buildUsageReport(usageManifest(), [measurement(0), measurement(1)]);
    const outer = await entriesOf(file);
    expect(outer.map((e) => e.name)).toEqual(['manifest.json', 'rum-reports.tar.gz']);
    const inner = await entriesOf(outer[1].data);
    expect(inner.map((e) => e.name)).toEqual(['rum/1.xml', 'rum/2.xml']);
    expect(inner[0].data.toString()).toMatch(/<smartLicense><RUMReport><!\[CDATA\[\{"deviceUuid":"C8K-000000".*\}\]\]><\/RUMReport><\/smartLicense>/);
  });

  it('keeps hostile strings inside the CDATA section', async () => {
    const m = measurement(0, { hostname: 'x]]></RUMReport><evil>&amp;<![CDATA[' });
    const file = await buildUsageReport(usageManifest(), [m]);
    expect((await parseUsageReport(file)).measurements).toEqual([m]);
  });

  it('round-trips a trial report without smart account and virtual account', async () => {
    const manifest = usageManifest({ smartAccount: null, virtualAccount: null });
    expect((await parseUsageReport(await buildUsageReport(manifest, [measurement(0)]))).manifest.smartAccount).toBeNull();
    await expectCode(buildUsageReport(usageManifest({ virtualAccount: null }), []), 'INVALID_CONTENT', 'both');
  });

  it('builds 100,000 measurements from a generator, streaming, and reads them back', async () => {
    function* many(): Generator<UsageMeasurement> {
      for (let i = 0; i < 100_000; i++) yield measurement(i);
    }
    const file = await buildUsageReport(usageManifest(), many());
    // Only the compressed file is held: 100,000 small XML entries compress to a few MB.
    expect(file.length).toBeLessThan(16 * 1024 * 1024);
    const parsed = await parseUsageReport(file);
    expect(parsed.measurements).toHaveLength(100_000);
    expect(parsed.measurements[99_999]).toEqual(measurement(99_999));
  }, 120_000);

  it('refuses a measurement its parser would refuse, naming it', async () => {
    await expectCode(buildUsageReport(usageManifest(), [measurement(0), measurement(1, { count: -2 })]), 'INVALID_CONTENT', 'measurement 2');
    await expectCode(buildUsageReport(usageManifest(), [measurement(0, { start: '2026-12-01T00:00:00Z' })]), 'INVALID_CONTENT', 'end');
  });

  /** The builder before streaming: zod output, JSON.stringify, each archive written whole. */
  async function preStreamingReport(manifest: UsageReportManifestInput, measurements: readonly unknown[]): Promise<Buffer> {
    const rum = measurements.map((m, i) => {
      const json = JSON.stringify(UsageMeasurementSchema.parse(m)).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
      const data = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<smartLicense><RUMReport><![CDATA[${json}]]></RUMReport></smartLicense>\n`);
      return { name: `rum/${i + 1}.xml`, data };
    });
    return writeTarGz([
      { name: 'manifest.json', data: Buffer.from(`${JSON.stringify({ format: 'slm-usage-report', version: 1, ...manifest }, null, 2)}\n`) },
      { name: 'rum-reports.tar.gz', data: await writeTarGz(rum) },
    ]);
  }

  const isoTime = fc
    .record({
      ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
      digits: fc.constantFrom('', '.1', '.123', '.123456', '.123456789'),
      zone: fc.constantFrom('Z', '+00:00', '+05:30', '-08:00'),
    })
    .map(({ ms, digits, zone }) => `${new Date(ms).toISOString().slice(0, 19)}${digits}${zone}`);
  const validMeasurement = fc
    .record({
      deviceUuid: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,40}$/),
      // Anything but control characters: quotes, backslashes, <, >, ]]>, non-BMP and lone surrogates.
      hostname: fc.string({ unit: fc.oneof(fc.constantFrom('<', '>', '"', '\\', ']', '&', 'é', '\u{1F600}', '\uD800', '\u2028'), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })), minLength: 1, maxLength: 40 })
        .filter((h) => h.length <= 253 && !/[\u0000-\u001f\u007f]/.test(h)),
      entitlementTag: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._,:/-]{0,40}$/),
      subscriptionId: fc.option(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,20}$/), { nil: null }),
      billingType: fc.constantFrom('PREPAID' as const, 'POSTPAID' as const),
      count: fc.integer({ min: 0, max: 2_147_483_647 }),
      times: fc.tuple(isoTime, isoTime),
      order: fc.shuffledSubarray(['deviceUuid', 'hostname', 'entitlementTag', 'subscriptionId', 'billingType', 'count', 'start', 'end'], { minLength: 8 }),
    })
    .map(({ times, order, ...fields }) => {
      const [start, end] = Date.parse(times[0]) <= Date.parse(times[1]) ? times : [times[1], times[0]];
      const all: Record<string, unknown> = { ...fields, start, end };
      // Keys in any order: the file must not depend on it.
      return Object.fromEntries(order.map((k) => [k, all[k]])) as unknown as UsageMeasurement;
    });

  it('writes exactly the bytes the builder wrote before streaming, for any measurements (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validMeasurement, { maxLength: 12 }), async (measurements) => {
        const manifest = usageManifest();
        expect((await buildUsageReport(manifest, measurements)).equals(await preStreamingReport(manifest, measurements))).toBe(true);
      }),
      { numRuns: 80 },
    );
  });

  it('accepts a measurement exactly when UsageMeasurementSchema does, and writes what the schema returns (property)', async () => {
    const odd = fc.constantFrom<unknown>('', ' ', 'x'.repeat(254), 'a\u0000b', 'tab\there', -1, 1.5, 2_147_483_648, Number.NaN, '1', null, undefined, {}, [], true,
      '2026-02-29T00:00:00Z', '2026-11-28T10:00:00', '2026-11-28T24:00:00Z', '2026-11-28 10:00:00Z', 'PREPAID', 'FREE', 'bad tag', '-x');
    const key = fc.constantFrom('deviceUuid', 'hostname', 'entitlementTag', 'subscriptionId', 'billingType', 'count', 'start', 'end', 'extra', 'virtual_account_id');
    // Values at the edge of each rule, on the key they test.
    const edges: [string, unknown][] = [
      ['hostname', ''], ['hostname', 'h'.repeat(253)], ['hostname', 'h'.repeat(254)], ['hostname', 'a\u007f'], ['hostname', 'a\u0080'],
      ['deviceUuid', ''], ['deviceUuid', 'a'.repeat(128)], ['deviceUuid', 'a'.repeat(129)], ['deviceUuid', '.a'], ['deviceUuid', 'a@b'],
      ['entitlementTag', 'a'.repeat(200)], ['entitlementTag', 'a'.repeat(201)], ['entitlementTag', 'a,b'], ['entitlementTag', 'a@b'],
      ['subscriptionId', ''], ['subscriptionId', 'a@b'], ['subscriptionId', 'a'.repeat(129)], ['subscriptionId', 'a,b'],
      ['count', 0], ['count', -0], ['count', 2_147_483_647], ['count', 2_147_483_648], ['count', 0.5], ['count', Number.MAX_SAFE_INTEGER + 1],
      ['billingType', 'prepaid'], ['start', '2026-11-28T10:00:00.0000000000Z'], ['end', '1899-12-31T23:59:59Z'], ['end', '2024-02-29T00:00:00Z'],
    ];
    const mutation = fc.oneof(
      fc.record({ set: key, value: odd }),
      fc.record({ drop: key }),
      fc.constantFrom(...edges).map(([k, value]) => ({ set: k, value })),
      fc.constantFrom('end 1 ms before start', 'end at start').map((op) => ({ op })),
    );
    await fc.assert(
      fc.asyncProperty(validMeasurement, fc.array(mutation, { maxLength: 2 }), async (valid, mutations) => {
        const m: Record<string, unknown> = { ...valid };
        for (const change of mutations) {
          if ('drop' in change) delete m[change.drop];
          else if ('op' in change) m.end = new Date(Date.parse(valid.start) - (change.op === 'end at start' ? 0 : 1)).toISOString();
          else m[change.set] = change.value;
        }
        const expected = UsageMeasurementSchema.safeParse(m);
        const built = await buildUsageReport(usageManifest(), [m as unknown as UsageMeasurement]).then(
          (file) => ({ file }),
          (err: unknown) => ({ err }),
        );
        if (expected.success) {
          expect(built).toHaveProperty('file');
          // Through JSON, as the file carries it (-0 is written as 0).
          if ('file' in built) expect((await parseUsageReport(built.file)).measurements).toEqual([JSON.parse(JSON.stringify(expected.data))]);
        } else {
          expect('err' in built && built.err instanceof FileFormatError && built.err.code).toBe('INVALID_CONTENT');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('treats objects without the plain prototype, or with hidden or inherited keys, exactly as the schema does', async () => {
    const base = measurement(0) as unknown as Record<string, unknown>;
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, base);
    const { deviceUuid, ...rest } = base;
    const inherited = Object.assign(Object.create({ deviceUuid }) as Record<string, unknown>, rest, { extra: 1 });
    const hidden = Object.defineProperty({ ...rest }, 'deviceUuid', { value: deviceUuid, enumerable: false });
    const hiddenPlusExtra = Object.defineProperty({ ...rest, extra: 1 }, 'deviceUuid', { value: deviceUuid, enumerable: false });
    for (const m of [nullProto, inherited, hidden, hiddenPlusExtra]) {
      const expected = UsageMeasurementSchema.safeParse(m);
      const built = await buildUsageReport(usageManifest(), [m as unknown as UsageMeasurement]).then(
        (file) => ({ ok: true, file }),
        (err: unknown) => ({ ok: false, code: err instanceof FileFormatError ? err.code : String(err) }),
      );
      expect({ ok: built.ok }).toEqual({ ok: expected.success });
      if (expected.success && 'file' in built) expect((await parseUsageReport(built.file)).measurements).toEqual([expected.data]);
      if (!expected.success) expect(built).toEqual({ ok: false, code: 'INVALID_CONTENT' });
    }
  });

  it('streams the file to a sink in order, with its digest and size, from batches of measurements', async () => {
    const manifest = usageManifest();
    const measurements = Array.from({ length: 2500 }, (_, i) => measurement(i));
    async function* batches(): AsyncGenerator<UsageMeasurement[]> {
      for (let i = 0; i < measurements.length; i += 1000) yield measurements.slice(i, i + 1000);
    }
    const chunks: Buffer[] = [];
    const written = await writeUsageReport(manifest, batches(), async (chunk) => {
      chunks.push(chunk);
      await new Promise((r) => setImmediate(r));
    });
    const file = Buffer.concat(chunks);
    expect(file.equals(await buildUsageReport(manifest, measurements))).toBe(true);
    expect(written).toEqual({ digest: sha256Hex(file), size: file.length, measurements: 2500 });
  });

  it('sends nothing to the sink when a measurement is refused', async () => {
    const sink = jest.fn();
    await expectCode(writeUsageReport(usageManifest(), [measurement(0), measurement(1, { hostname: '' })], sink), 'INVALID_CONTENT', 'measurement 2');
    expect(sink).not.toHaveBeenCalled();
  });

  async function withInner(innerEntries: { name: string; data: Buffer }[], manifest = usageManifest()): Promise<Buffer> {
    return writeTarGz([
      { name: 'manifest.json', data: json({ format: 'slm-usage-report', version: 1, ...manifest }) },
      { name: 'rum-reports.tar.gz', data: await writeTarGz(innerEntries) },
    ]);
  }
  const envelope = (value: unknown): Buffer => Buffer.from(`<smartLicense><RUMReport><![CDATA[${JSON.stringify(value)}]]></RUMReport></smartLicense>`);

  it('refuses a nested archive that is a decompression bomb (DECOMPRESSION_LIMIT)', async () => {
    const bomb = await writeTarGz([{ name: 'rum/1.xml', data: Buffer.alloc(64 * 1024 * 1024) }]);
    const file = await writeTarGz([
      { name: 'manifest.json', data: json({ format: 'slm-usage-report', version: 1, ...usageManifest() }) },
      { name: 'rum-reports.tar.gz', data: bomb },
    ]);
    await expectCode(parseUsageReport(file, undefined, { maxUnpackedBytes: 8 * 1024 * 1024 }), 'DECOMPRESSION_LIMIT');
  });

  it('refuses a nested entry over the per-measurement size cap (TOO_LARGE)', async () => {
    await expectCode(parseUsageReport(await withInner([{ name: 'rum/1.xml', data: Buffer.alloc(17 * 1024, 32) }])), 'TOO_LARGE');
  });

  it('refuses unexpected or unsafe nested entries', async () => {
    await expectCode(parseUsageReport(await withInner([{ name: 'rum/1.json', data: envelope(measurement(0)) }])), 'UNEXPECTED_ENTRY', 'rum/1.json');
    const traversal = await writeTarGz([
      { name: 'manifest.json', data: json({ format: 'slm-usage-report', version: 1, ...usageManifest() }) },
      { name: 'rum-reports.tar.gz', data: Buffer.from('not even gzip') },
    ]);
    await expectCode(parseUsageReport(traversal), 'NOT_GZIP');
  });

  it('refuses a measurement that is not the XML envelope, or whose JSON is invalid', async () => {
    await expectCode(parseUsageReport(await withInner([{ name: 'rum/1.xml', data: Buffer.from(JSON.stringify(measurement(0))) }])), 'MALFORMED_CONTENT', 'rum/1.xml');
    await expectCode(parseUsageReport(await withInner([{ name: 'rum/1.xml', data: envelope({ ...measurement(0), billingType: 'FREE' }) }])), 'INVALID_CONTENT', 'billingType');
    await expectCode(
      parseUsageReport(await withInner([{ name: 'rum/1.xml', data: Buffer.from('<smartLicense><RUMReport><![CDATA[{"a":]]></RUMReport></smartLicense>') }])),
      'MALFORMED_CONTENT',
      'JSON',
    );
  });

  it('refuses another format, and a manifest with a bad report id', async () => {
    const ack = await writeTarGz([
      { name: 'manifest.json', data: json({ format: 'slm-license-summary', version: 1 }) },
      { name: 'rum-reports.tar.gz', data: await writeTarGz([]) },
    ]);
    await expectCode(parseUsageReport(ack), 'UNSUPPORTED_FORMAT');
    await expectCode(parseUsageReport(await withInner([], { ...usageManifest(), reportId: 'report-1' })), 'INVALID_CONTENT', 'reportId');
  });

  it('refuses random bytes and any truncation with a FileFormatError (property)', async () => {
    const file = await buildUsageReport(usageManifest(), [measurement(0), measurement(1), measurement(2)]);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)), fc.integer({ min: 0, max: file.length - 1 }).map((n) => file.subarray(0, n))), async (bytes) => {
        await refusal(parseUsageReport(bytes));
      }),
      { numRuns: 150 },
    );
  });
});

describe('acknowledgement (ACK) file', () => {
  const ACK = {
    ackId: randomUUID(),
    reportId: randomUUID(),
    reportDigest: sha256Hex('report bytes'),
    acknowledgedAt: '2026-11-28T11:00:00.000Z',
    smartAccount: { accountId: 'SA-ACME', name: 'Acme Corp' },
    virtualAccount: { id: 'VA-1', name: 'Campus' },
    measurements: 3,
    devices: [
      { deviceUuid: 'C8K-000001', hostname: 'edge-1', measurements: 2, status: 'ACCEPTED' as const },
      { deviceUuid: 'C8K-000002', hostname: 'edge-2', measurements: 1, status: 'ACCEPTED' as const },
    ],
  };

  it('round-trips, verified with the trusted key', async () => {
    const file = await buildAck(ACK, server.privateKey);
    const parsed = await parseAck(file, TRUSTED);
    const { devices, ...fields } = ACK;
    expect(parsed.ack).toEqual({ format: 'slm-usage-ack', version: 1, ...fields });
    expect(parsed.devices).toEqual(devices);
    expect(parsed.keyId).toBe(keyId(TRUSTED[0]));
    expect((await entriesOf(file)).map((e) => e.name)).toEqual(['ack.json', 'acks/1.xml', 'acks/2.xml', 'signature.json']);
  });

  it('refuses an ACK signed by an untrusted key, unsigned, or altered', async () => {
    await expectCode(parseAck(await buildAck(ACK, attacker.privateKey), TRUSTED), 'BAD_SIGNATURE');
    const entries = await entriesOf(await buildAck(ACK, server.privateKey));
    await expectCode(parseAck(await writeTarGz(entries.filter((e) => e.name !== 'signature.json')), TRUSTED), 'UNSIGNED');
    const altered = entries.map((e) => (e.name === 'ack.json' ? { ...e, data: Buffer.from(e.data.toString().replace(ACK.reportId, randomUUID())) } : e));
    await expectCode(parseAck(await writeTarGz(altered), TRUSTED), 'BAD_SIGNATURE');
  });

  it('refuses a trusted-signed ACK whose device acks do not add up (INVALID_CONTENT)', async () => {
    const entries = (await entriesOf(await buildAck(ACK, server.privateKey))).filter((e) => e.name !== 'signature.json' && e.name !== 'acks/2.xml');
    await expectCode(parseAck(await signedFile(entries, server.privateKey), TRUSTED), 'INVALID_CONTENT', 'add up to 2');
    await expect(buildAck({ ...ACK, measurements: 4 }, server.privateKey)).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
  });

  it('refuses a trusted-signed ACK with an unexpected entry or a bad digest', async () => {
    const entries = (await entriesOf(await buildAck(ACK, server.privateKey))).filter((e) => e.name !== 'signature.json');
    await expectCode(parseAck(await signedFile([...entries, { name: 'acks/notes.txt', data: Buffer.from('x') }], server.privateKey), TRUSTED), 'UNEXPECTED_ENTRY');
    const badDigest = entries.map((e) => (e.name === 'ack.json' ? { ...e, data: Buffer.from(e.data.toString().replace(ACK.reportDigest, 'abc')) } : e));
    await expectCode(parseAck(await signedFile(badDigest, server.privateKey), TRUSTED), 'INVALID_CONTENT', 'reportDigest');
  });
});
