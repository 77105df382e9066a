import zlib from 'node:zlib';
import fc from 'fast-check';
import tar from 'tar-stream';
import { createHash, randomBytes } from 'node:crypto';
import { type ArchiveLimits, FileFormatError, type FileFormatErrorCode, readTarGz, TarGzStream, unsafeEntryNameReason, writeTarGz } from './archive';

const LIMITS: ArchiveLimits = { maxCompressedBytes: 1024 * 1024, maxUnpackedBytes: 4 * 1024 * 1024, maxEntries: 50, maxEntryBytes: 1024 * 1024 };

async function refusal(promise: Promise<unknown>): Promise<FileFormatError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FileFormatError) return err;
    throw new Error(`expected a FileFormatError, got ${String(err)}`);
  }
  throw new Error('expected a FileFormatError, but the archive was accepted');
}

async function expectCode(promise: Promise<unknown>, code: FileFormatErrorCode): Promise<FileFormatError> {
  const err = await refusal(promise);
  expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.any(String) });
  return err;
}

type PackHeader = Parameters<ReturnType<typeof tar.pack>['entry']>[0];

/** A .tar.gz written by tar-stream itself, with whatever headers a hostile sender would choose. */
async function hostileTarGz(entries: { header: PackHeader; data?: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Promise<Buffer> = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk);
    return Buffer.concat(chunks);
  })();
  for (const { header, data } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mtime: new Date(0), ...header }, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  return zlib.gzipSync(await out);
}

/** A raw ustar header block; `size` is written as given (octal digits), so it can lie. */
function rawHeader(name: string, sizeOctal: string, typeflag = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(sizeOctal.padStart(11, '0') + '\0', 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

function rawTarGz(blocks: Buffer[]): Buffer {
  return zlib.gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

/** The previous writer: tar-stream's pack with the fixed header, then gzip level 6. */
async function tarStreamReference(entries: { name: string; data: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const out = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const { name, data } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0), type: 'file', name, size: data.length }, data, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  return zlib.gzipSync(await out, { level: 6 });
}

const safeSegment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,11}$/).filter((s) => s !== '.' && s !== '..');
const safeName = fc.array(safeSegment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));

describe('writeTarGz / readTarGz', () => {
  it('reads back what it wrote, in the given order', async () => {
    const entries = [
      { name: 'manifest.json', data: Buffer.from('{"a":1}') },
      { name: 'nested/empty.bin', data: Buffer.alloc(0) },
      { name: 'b.xml', data: Buffer.alloc(1500, 7) },
    ];
    const archive = await readTarGz(await writeTarGz(entries), LIMITS);
    expect([...archive.entries()]).toEqual(entries.map((e) => [e.name, e.data]));
  });

  it('writes the same bytes for the same entries (fixed mtime, owner and mode)', async () => {
    const entries = [{ name: 'x.json', data: Buffer.from('same') }];
    const first = await writeTarGz(entries);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await writeTarGz(entries)).equals(first)).toBe(true);
  });

  it('round-trips any set of safely named entries (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name: safeName, data: fc.uint8Array({ maxLength: 2000 }) }), {
          maxLength: 12,
          selector: (e) => e.name.toLowerCase(),
        }),
        async (entries) => {
          // A name that is a prefix directory of another is still a distinct entry: both are files.
          const input = entries.map((e) => ({ name: e.name, data: Buffer.from(e.data) }));
          const read = await readTarGz(await writeTarGz(input), LIMITS);
          expect([...read.entries()]).toEqual(input.map((e) => [e.name, e.data]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes byte for byte what tar-stream pack + gzip level 6 wrote before the streaming writer (property)', async () => {
    // Long names take the ustar prefix or a PAX record; sizes straddle block and staging-buffer boundaries.
    const longSegment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{40,120}$/);
    const anyName = fc.oneof(
      safeName,
      fc.array(fc.oneof(safeSegment, longSegment), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/').slice(0, 255).replace(/[/.]+$/, 'x')),
    ).filter((n) => unsafeEntryNameReason(n) === undefined);
    const size = fc.oneof(fc.integer({ min: 0, max: 1100 }), fc.constantFrom(511, 512, 513, 1024, 128 * 1024 - 1, 256 * 1024, 300 * 1024));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name: anyName, size, fill: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8, selector: (e) => e.name.toLowerCase() }),
        async (spec) => {
          const entries = spec.map((e) => ({ name: e.name, data: Buffer.alloc(e.size, e.fill) }));
          expect((await writeTarGz(entries)).equals(await tarStreamReference(entries))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reuses its staging buffers without old bytes reaching the padding: 12 MiB of entries as tar-stream wrote them', async () => {
    // Random sizes and contents: a reused buffer holds earlier bytes wherever padding now goes.
    const entries = Array.from({ length: 720 }, (_, i) => ({ name: `d/${i}.bin`, data: randomBytes(1 + ((i * 7919) % 36_000)) }));
    expect(entries.reduce((n, e) => n + e.data.length, 0)).toBeGreaterThan(12 * 1024 * 1024);
    expect((await writeTarGz(entries)).equals(await tarStreamReference(entries))).toBe(true);
  });

  it('streams its output to a sink with backpressure, and appends strings as UTF-8', async () => {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    const out = new TarGzStream(async (chunk) => {
      chunks.push(chunk);
      hash.update(chunk);
      await new Promise((r) => setImmediate(r));
    });
    for (let i = 1; i <= 3000; i++) if (!out.append(`rum/${i}.xml`, `<x>${'é'.repeat(i % 50)}${i}</x>`)) await out.drain();
    const size = await out.finish();
    const file = Buffer.concat(chunks);
    expect(file.length).toBe(size);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(file).digest('hex'));
    const read = await readTarGz(file, { ...LIMITS, maxEntries: 3000 });
    expect(read.size).toBe(3000);
    expect(read.get('rum/2999.xml')?.toString('utf8')).toBe(`<x>${'é'.repeat(2999 % 50)}2999</x>`);
  });

  it('stops with the sink error when the sink fails, and refuses further entries', async () => {
    const out = new TarGzStream(() => {
      throw new Error('disk full');
    });
    await expect((async () => {
      // Incompressible, so gzip output reaches the sink early.
      for (let i = 0; i < 64; i++) await out.add(`f${i}`, randomBytes(1024 * 1024));
      await out.finish();
    })()).rejects.toThrow('disk full');
    expect(() => out.append('late', Buffer.from('x'))).toThrow('disk full');
  });

  it('refuses to write a name its reader would refuse', async () => {
    await expectCode(writeTarGz([{ name: '../escape', data: Buffer.from('x') }]), 'UNSAFE_ENTRY_NAME');
    await expectCode(writeTarGz([{ name: 'dir/', data: Buffer.from('x') }]), 'UNSAFE_ENTRY_NAME');
    await expectCode(
      writeTarGz([
        { name: 'a.json', data: Buffer.from('1') },
        { name: 'A.JSON', data: Buffer.from('2') },
      ]),
      'DUPLICATE_ENTRY',
    );
  });

  it('ignores directory entries', async () => {
    const file = await hostileTarGz([{ header: { name: 'acks', type: 'directory' } }, { header: { name: 'acks/1.xml' }, data: Buffer.from('<a/>') }]);
    expect([...(await readTarGz(file, LIMITS)).keys()]).toEqual(['acks/1.xml']);
  });
});

describe('readTarGz refuses hostile archives', () => {
  it('refuses random bytes with a FileFormatError, never another error (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        await refusal(readTarGz(Buffer.from(bytes), LIMITS));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses random bytes inside a valid gzip stream as NOT_TAR (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4096 }), async (bytes) => {
        // Whole zero blocks are a valid, empty tar (an empty usage report has one); anything else random
        // has a correct header checksum only with negligible probability.
        fc.pre(!(bytes.length % 512 === 0 && bytes.every((b) => b === 0)));
        await expectCode(readTarGz(zlib.gzipSync(Buffer.from(bytes)), LIMITS), 'NOT_TAR');
      }),
      { numRuns: 150 },
    );
  });

  it('refuses an archive truncated anywhere (property)', async () => {
    const whole = await writeTarGz([
      { name: 'manifest.json', data: Buffer.from(JSON.stringify({ pad: 'x'.repeat(3000) })) },
      { name: 'licenses.json', data: Buffer.from('[1,2,3]') },
    ]);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: whole.length - 1 }), async (cut) => {
        const err = await refusal(readTarGz(whole.subarray(0, cut), LIMITS));
        expect(['NOT_GZIP', 'NOT_TAR']).toContain(err.code);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a tar stream cut inside an entry (gzip intact) as NOT_TAR', async () => {
    const tarBytes = Buffer.concat([rawHeader('a.json', (2000).toString(8)), Buffer.alloc(700, 65)]);
    await expectCode(readTarGz(zlib.gzipSync(tarBytes), LIMITS), 'NOT_TAR');
  });

  it('refuses an uncompressed tar as NOT_GZIP', async () => {
    const tarBytes = zlib.gunzipSync(await writeTarGz([{ name: 'a', data: Buffer.from('a') }]));
    await expectCode(readTarGz(tarBytes, LIMITS), 'NOT_GZIP');
  });

  it('accepts an empty tar (end-of-archive blocks only) as an archive without entries', async () => {
    expect((await readTarGz(zlib.gzipSync(Buffer.alloc(1024)), LIMITS)).size).toBe(0);
    expect((await readTarGz(await writeTarGz([]), LIMITS)).size).toBe(0);
  });

  it('refuses an empty gzip stream as NOT_TAR', async () => {
    await expectCode(readTarGz(zlib.gzipSync(Buffer.alloc(0)), LIMITS), 'NOT_TAR');
  });

  it('refuses a tar header with a wrong checksum as NOT_TAR', async () => {
    const header = rawHeader('a.json', '1');
    header[0] = 'b'.charCodeAt(0);
    await expectCode(readTarGz(rawTarGz([header, Buffer.alloc(512)]), LIMITS), 'NOT_TAR');
  });

  it('refuses a file over the compressed size cap as TOO_LARGE', async () => {
    const file = await writeTarGz([{ name: 'a', data: Buffer.from('abc') }]);
    await expectCode(readTarGz(file, { ...LIMITS, maxCompressedBytes: file.length - 1 }), 'TOO_LARGE');
  });

  it('refuses a decompression bomb as DECOMPRESSION_LIMIT', async () => {
    // 64 MiB of zeros compress to ~64 KiB; the cap is 4 MiB.
    const bomb = zlib.gzipSync(Buffer.concat([rawHeader('zeros', (64 * 1024 * 1024).toString(8)), Buffer.alloc(64 * 1024 * 1024)]));
    expect(bomb.length).toBeLessThan(LIMITS.maxCompressedBytes);
    const err = await expectCode(readTarGz(bomb, LIMITS), 'DECOMPRESSION_LIMIT');
    expect(err.message).toContain(String(LIMITS.maxUnpackedBytes));
  });

  it('refuses an entry declaring a huge size before reading it, as TOO_LARGE', async () => {
    // 8 GiB - 1 declared, 512 bytes present.
    const err = await expectCode(readTarGz(rawTarGz([rawHeader('huge.json', '77777777777'), Buffer.alloc(512)]), LIMITS), 'TOO_LARGE');
    expect(err.message).toContain('huge.json');
  });

  it('refuses an entry larger than the per-entry cap as TOO_LARGE', async () => {
    const file = await writeTarGz([{ name: 'big', data: Buffer.alloc(2048) }]);
    await expectCode(readTarGz(file, { ...LIMITS, maxEntryBytes: 2047 }), 'TOO_LARGE');
  });

  it('refuses more entries than allowed as TOO_MANY_ENTRIES', async () => {
    const entries = Array.from({ length: 6 }, (_, i) => ({ name: `e${i}`, data: Buffer.from('x') }));
    await expectCode(readTarGz(await writeTarGz(entries), { ...LIMITS, maxEntries: 5 }), 'TOO_MANY_ENTRIES');
    // Directories count too: they cost parsing work as well.
    const dirs = await hostileTarGz(Array.from({ length: 6 }, (_, i) => ({ header: { name: `d${i}`, type: 'directory' as const } })));
    await expectCode(readTarGz(dirs, { ...LIMITS, maxEntries: 5 }), 'TOO_MANY_ENTRIES');
  });

  it.each([
    ['../../etc/passwd'],
    ['licenses/../../escape.json'],
    ['/etc/passwd'],
    ['..'],
    ['a\\..\\b'],
    ['C:/Windows/win.ini'],
    ['./manifest.json'],
    ['a//b'],
    ['sp ace.json'],
    ['x'.repeat(256)],
  ])('refuses the entry name %j as UNSAFE_ENTRY_NAME', async (name) => {
    const file = await hostileTarGz([{ header: { name }, data: Buffer.from('x') }]);
    await expectCode(readTarGz(file, LIMITS), 'UNSAFE_ENTRY_NAME');
  });

  it('refuses a long (PAX) name that climbs out with ..', async () => {
    const name = `${'deep/'.repeat(30)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../etc/cron.d/x`;
    const file = await hostileTarGz([{ header: { name }, data: Buffer.from('x') }]);
    await expectCode(readTarGz(file, LIMITS), 'UNSAFE_ENTRY_NAME');
  });

  it('refuses a name carrying a NUL character (through a PAX path record)', async () => {
    const record = (key: string, value: string): string => {
      const body = ` ${key}=${value}\n`;
      let len = body.length + 1;
      while (`${len}${body}`.length !== len) len += 1;
      return `${len}${body}`;
    };
    const pax = Buffer.from(record('path', 'ok.json\0../../x'), 'latin1');
    const blocks = [rawHeader('PaxHeader', pax.length.toString(8), 'x'), Buffer.concat([pax, Buffer.alloc(512 - pax.length)]), rawHeader('ok.json', '1'), Buffer.alloc(512, 65)];
    const err = await expectCode(readTarGz(rawTarGz(blocks), LIMITS), 'UNSAFE_ENTRY_NAME');
    expect(err.message).toContain('NUL');
  });

  it('refuses any name the safety rule rejects, and accepts the others (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), safeName, fc.constantFrom('..', '../a', 'a/..', '/a', 'a\\b')), async (raw) => {
        // NUL cannot be carried in a plain header name (it ends the field); see the PAX test above.
        const name = raw.replace(/\0/g, '_');
        fc.pre(!name.endsWith('/'));
        const file = await hostileTarGz([{ header: { name }, data: Buffer.from('x') }]);
        if (unsafeEntryNameReason(name) === undefined) {
          expect([...(await readTarGz(file, LIMITS)).keys()]).toEqual([name]);
        } else {
          await expectCode(readTarGz(file, LIMITS), 'UNSAFE_ENTRY_NAME');
        }
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['symlink', { name: 'manifest.json', type: 'symlink', linkname: '/etc/passwd' }],
    ['hard link', { name: 'manifest.json', type: 'link', linkname: 'other.json' }],
    ['character device', { name: 'tty', type: 'character-device', devmajor: 5, devminor: 0 }],
    ['block device', { name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }],
    ['FIFO', { name: 'pipe', type: 'fifo' }],
  ] as [string, PackHeader][])('refuses a %s entry as UNSUPPORTED_ENTRY_TYPE', async (_kind, header) => {
    const file = await hostileTarGz([{ header: { name: 'ok.json' }, data: Buffer.from('{}') }, { header }]);
    await expectCode(readTarGz(file, LIMITS), 'UNSUPPORTED_ENTRY_TYPE');
  });

  it('refuses an unknown entry type (GNU sparse file) as UNSUPPORTED_ENTRY_TYPE', async () => {
    await expectCode(readTarGz(rawTarGz([rawHeader('sparse', '0', 'S')]), LIMITS), 'UNSUPPORTED_ENTRY_TYPE');
  });

  it('refuses duplicate names, also when they differ only in case, as DUPLICATE_ENTRY', async () => {
    const same = await hostileTarGz([
      { header: { name: 'licenses.json' }, data: Buffer.from('[]') },
      { header: { name: 'licenses.json' }, data: Buffer.from('[1]') },
    ]);
    await expectCode(readTarGz(same, LIMITS), 'DUPLICATE_ENTRY');
    const cased = await hostileTarGz([
      { header: { name: 'licenses.json' }, data: Buffer.from('[]') },
      { header: { name: 'Licenses.JSON' }, data: Buffer.from('[1]') },
    ]);
    await expectCode(readTarGz(cased, LIMITS), 'DUPLICATE_ENTRY');
  });
});
