/**
 * Reading and writing the `.tar.gz` files exchanged with the license server, entirely in memory.
 *
 * Every archive that reaches `readTarGz` is treated as hostile (see DOMAIN.md, "Known weak points in the
 * field": the vendor's own upload endpoints were exploited through archive contents). Nothing is ever
 * extracted to disk and no path is ever derived from an entry name; the reader still refuses names that
 * would be dangerous *if* someone later did, so a file that passes here is safe to hand to anything.
 *
 * Refusals are `FileFormatError`s with a machine code a caller can map to an API error code.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import tar from 'tar-stream';

/** Every reason a license-server file can be refused; stable, meant for API error codes and tests. */
export type FileFormatErrorCode =
  /** The file, or one entry in it, is larger than allowed. */
  | 'TOO_LARGE'
  /** The data does not start like a gzip stream, or the gzip stream is corrupt or truncated. */
  | 'NOT_GZIP'
  /** Inflating the gzip stream would exceed the unpacked-size cap (a decompression bomb, or just too big). */
  | 'DECOMPRESSION_LIMIT'
  /** The inflated bytes are not a valid POSIX/GNU tar stream (bad header checksum, truncated entry...). */
  | 'NOT_TAR'
  /** An entry name is absolute, contains `..`, `.`, a backslash, NUL or any character outside [A-Za-z0-9._-/]. */
  | 'UNSAFE_ENTRY_NAME'
  /** Two entries have the same name (compared case-insensitively). */
  | 'DUPLICATE_ENTRY'
  /** A symlink, hard link, device, FIFO or other non-regular entry. */
  | 'UNSUPPORTED_ENTRY_TYPE'
  /** More entries than allowed. */
  | 'TOO_MANY_ENTRIES'
  /** A required entry is absent (formats.ts). */
  | 'MISSING_ENTRY'
  /** An entry the format does not define is present (formats.ts). */
  | 'UNEXPECTED_ENTRY'
  /** The `format` or `version` of the file is not one this code reads (formats.ts). */
  | 'UNSUPPORTED_FORMAT'
  /** An entry is not valid UTF-8 JSON / XML of the expected envelope (formats.ts). */
  | 'MALFORMED_CONTENT'
  /** A field has the wrong type, an unknown enum value, a bad date, an out-of-range number... (formats.ts). */
  | 'INVALID_CONTENT'
  /** A file that must be signed has no `signature.json` (formats.ts). */
  | 'UNSIGNED'
  /** The signature is malformed, made by an untrusted key, or does not match the content (formats.ts). */
  | 'BAD_SIGNATURE';

/** A license-server file (or an archive inside it) was refused. `message` says what and where, for humans. */
export class FileFormatError extends Error {
  override name = 'FileFormatError';
  constructor(
    readonly code: FileFormatErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ArchiveLimits {
  /** Largest accepted `.tar.gz` as received (compressed) bytes. */
  maxCompressedBytes: number;
  /** Largest accepted inflated tar stream, headers and padding included. */
  maxUnpackedBytes: number;
  /** Most entries (files and directories) accepted. */
  maxEntries: number;
  /** Largest accepted single file entry. */
  maxEntryBytes: number;
}

export interface ArchiveEntry {
  name: string;
  data: Buffer;
}

const gunzip = promisify(zlib.gunzip);

/** Longest accepted entry name, in characters (all ASCII by the pattern below). */
export const MAX_ENTRY_NAME_LENGTH = 255;
/** One or more path segments of safe characters, slash-separated; a trailing slash only on directories. */
const SAFE_NAME = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*\/?$/;

/**
 * Why `name` must not be used as an archive entry name, or `undefined` when it is safe.
 * Deliberately an allow-list: relative, forward-slash, ASCII letters/digits/`._-`, no `.`/`..` segment.
 */
export function unsafeEntryNameReason(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_ENTRY_NAME_LENGTH) return `is longer than ${MAX_ENTRY_NAME_LENGTH} characters`;
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) return 'contains a ".." segment';
  if (segments.some((s) => s === '.' || s === '')) return 'contains an empty or "." segment';
  if (!SAFE_NAME.test(name)) return 'contains characters outside [A-Za-z0-9._-/]';
  return undefined;
}

/** JSON-quoted and cut, so a hostile name cannot forge log lines or flood a message. */
function quoteName(name: string): string {
  const shown = name.length > 80 ? `${name.slice(0, 80)}...` : name;
  return JSON.stringify(shown);
}

/**
 * Inflates and reads a `.tar.gz` held in memory into a map of entry name -> bytes, in archive order.
 * Directory entries are checked (name, count) and then ignored. Throws `FileFormatError` on:
 * - `TOO_LARGE`: `buf` over `maxCompressedBytes`, or an entry declaring more than `maxEntryBytes`
 *   (checked on the declared size, before any of its data is read);
 * - `NOT_GZIP`: no gzip magic, or a corrupt/truncated gzip stream;
 * - `DECOMPRESSION_LIMIT`: inflated data over `maxUnpackedBytes` (inflation stops at the cap);
 * - `NOT_TAR`: empty archive data, bad header checksum, unknown header format, truncated entry;
 * - `UNSAFE_ENTRY_NAME`, `DUPLICATE_ENTRY` (case-insensitive), `UNSUPPORTED_ENTRY_TYPE`, `TOO_MANY_ENTRIES`.
 */
export async function readTarGz(buf: Buffer, limits: ArchiveLimits): Promise<Map<string, Buffer>> {
  if (buf.length > limits.maxCompressedBytes) {
    throw new FileFormatError('TOO_LARGE', `archive is ${buf.length} bytes; at most ${limits.maxCompressedBytes} are accepted`);
  }
  if (buf.length < 18 || buf[0] !== 0x1f || buf[1] !== 0x8b || buf[2] !== 8) {
    throw new FileFormatError('NOT_GZIP', 'file is not gzip-compressed (expected a .tar.gz)');
  }
  let tarBytes: Buffer;
  try {
    // maxOutputLength makes zlib stop inflating at the cap instead of allocating whatever a bomb asks for.
    tarBytes = await gunzip(buf, { maxOutputLength: Math.max(1, limits.maxUnpackedBytes) });
  } catch (err) {
    if (isBufferTooLarge(err)) {
      throw new FileFormatError('DECOMPRESSION_LIMIT', `archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);
    }
    throw new FileFormatError('NOT_GZIP', `gzip data is corrupt or truncated (${errorMessage(err)})`);
  }
  if (tarBytes.length > limits.maxUnpackedBytes) {
    throw new FileFormatError('DECOMPRESSION_LIMIT', `archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);
  }
  if (tarBytes.length === 0) throw new FileFormatError('NOT_TAR', 'archive is empty (no tar data inside the gzip stream)');
  return readTar(tarBytes, limits);
}

async function readTar(tarBytes: Buffer, limits: ArchiveLimits): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const seen = new Set<string>();
  let count = 0;
  const extract = tar.extract();
  // Listen before writing, so no entry event can be missed.
  const iterator = extract[Symbol.asyncIterator]();
  extract.end(tarBytes);
  try {
    for await (const entry of { [Symbol.asyncIterator]: () => iterator }) {
      const { header } = entry;
      count += 1;
      if (count > limits.maxEntries) {
        throw new FileFormatError('TOO_MANY_ENTRIES', `archive has more than ${limits.maxEntries} entries`);
      }
      const name = header.name;
      const unsafe = unsafeEntryNameReason(name);
      if (unsafe !== undefined) {
        throw new FileFormatError('UNSAFE_ENTRY_NAME', `entry name ${quoteName(name)} ${unsafe}`);
      }
      const type = header.type ?? 'unknown';
      if (type === 'directory') {
        entry.resume();
        continue;
      }
      if (type !== 'file') {
        throw new FileFormatError('UNSUPPORTED_ENTRY_TYPE', `entry ${quoteName(name)} is a ${type}; only regular files are accepted`);
      }
      if (name.endsWith('/')) {
        throw new FileFormatError('UNSAFE_ENTRY_NAME', `file entry ${quoteName(name)} ends with a slash`);
      }
      const key = name.toLowerCase();
      if (seen.has(key)) throw new FileFormatError('DUPLICATE_ENTRY', `entry ${quoteName(name)} appears more than once`);
      seen.add(key);
      const size = header.size ?? 0;
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new FileFormatError('NOT_TAR', `entry ${quoteName(name)} declares an invalid size`);
      }
      if (size > limits.maxEntryBytes) {
        throw new FileFormatError('TOO_LARGE', `entry ${quoteName(name)} is ${size} bytes; at most ${limits.maxEntryBytes} are accepted`);
      }
      const chunks: Buffer[] = [];
      let read = 0;
      for await (const chunk of entry) {
        read += chunk.length;
        chunks.push(chunk);
      }
      if (read !== size) throw new FileFormatError('NOT_TAR', `entry ${quoteName(name)} is truncated`);
      entries.set(name, chunks.length === 1 ? Buffer.from(chunks[0]) : Buffer.concat(chunks, read));
    }
  } catch (err) {
    if (err instanceof FileFormatError) throw err;
    throw new FileFormatError('NOT_TAR', `not a valid tar archive (${errorMessage(err)})`);
  } finally {
    extract.destroy();
  }
  return entries;
}

/** By code, not `instanceof`: errors from Node internals may come from another realm (jest, vm). */
function isBufferTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

function errorMessage(err: unknown): string {
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------

const BLOCK = 512;
/** Tar bytes are gathered into gzip writes of this size: each write is a thread-pool round trip. */
const STAGING_BYTES = 1024 * 1024;
/**
 * Tar bytes that may wait for the compressor before a writer is asked to drain: several staging
 * buffers, so encoding goes on while zlib works in the thread pool (waiting whenever gzip's 16 KiB
 * high-water mark was passed made the two take turns).
 */
const MAX_PENDING_BYTES = 4 * STAGING_BYTES;
/** Staging buffers kept for reuse: as many as may wait for the compressor, and one more. */
const MAX_SPARES = MAX_PENDING_BYTES / STAGING_BYTES + 1;
/** tar-stream's end of archive: two zero blocks. */
const END_OF_TAR_BYTES = 2 * BLOCK;
const FILE_MODE = 0o644;
/** Typeflags as tar-stream writes them ('0' + flag). */
const TYPEFLAG_FILE = 0;
const TYPEFLAG_PAX = 72;

/**
 * The header fields that never change (mode 0644, uid/gid 0, mtime 0, ustar magic, empty owner names),
 * encoded exactly as tar-stream 3 encodes them, so a header is this template plus name, size, typeflag
 * and checksum. `writeTarGz` output stays byte-for-byte what tar-stream's pack produced before
 * (archive.spec.ts compares the two).
 */
const HEADER_TEMPLATE: Buffer = (() => {
  const buf = Buffer.alloc(BLOCK);
  buf.write(octal(FILE_MODE, 6), 100, 'latin1');
  buf.write(octal(0, 6), 108, 'latin1');
  buf.write(octal(0, 6), 116, 'latin1');
  buf.write(octal(0, 11), 136, 'latin1');
  buf.write('ustar\u000000', 257, 'latin1');
  buf.write(octal(0, 6), 329, 'latin1');
  buf.write(octal(0, 6), 337, 'latin1');
  return buf;
})();
/** Checksum of the template with the checksum field counted as spaces (the tar rule). */
const TEMPLATE_SUM = (() => {
  let sum = 8 * 32;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += HEADER_TEMPLATE[i];
  return sum;
})();

/** tar-stream's encodeOct: `n` octal digits, zero-padded, then a space (all sevens when too wide). */
function octal(value: number, digits: number): string {
  const s = value.toString(8);
  if (s.length > digits) return `${'7'.repeat(digits)} `;
  return `${'0'.repeat(digits - s.length)}${s} `;
}

/** Writes ASCII `text` at `pos` byte by byte (no native call for a few characters); returns its byte sum. */
function writeAscii(target: Buffer, pos: number, text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    target[pos + i] = c;
    sum += c;
  }
  return sum;
}

/** `octal(value, digits)` written at `pos` without building the string; returns its byte sum. */
function writeOctal(target: Buffer, pos: number, value: number, digits: number): number {
  if (value >= 8 ** digits) return writeAscii(target, pos, octal(value, digits));
  let sum = 32;
  target[pos + digits] = 32;
  let rest = value;
  for (let i = digits - 1; i >= 0; i--) {
    const c = 48 + (rest % 8);
    target[pos + i] = c;
    sum += c;
    rest = Math.floor(rest / 8);
  }
  return sum;
}

/**
 * Encodes one header block into `target` at `offset` (all 512 bytes are written). `name` is ASCII
 * (entry names are checked before) and at most 100 characters, or 155 + '/' + 100 split at a slash
 * (the ustar prefix). `size` stays below 8 GiB (Buffers are smaller).
 */
function encodeHeader(target: Buffer, offset: number, name: string, prefix: string, size: number, typeflag: number): void {
  HEADER_TEMPLATE.copy(target, offset);
  let sum = TEMPLATE_SUM + writeAscii(target, offset, name) + writeOctal(target, offset + 124, size, 11);
  const flag = 48 + typeflag;
  // The template's typeflag byte is 0, so the flag adds in full.
  target[offset + 156] = flag;
  sum += flag;
  if (prefix) sum += writeAscii(target, offset + 345, prefix);
  writeOctal(target, offset + 148, sum, 6);
}

/** tar-stream's ustar split: leading directories move to the 155-byte prefix until the name fits in 100. */
function splitUstarName(full: string): { name: string; prefix: string } | null {
  let name = full;
  let prefix = '';
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return null;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  return prefix.length > 155 ? null : { name, prefix };
}

/** A PAX extended header record `"<len> path=<name>\n"`, where len counts the whole record. */
function paxPathRecord(name: string): Buffer {
  const body = ` path=${name}\n`;
  const len = Buffer.byteLength(body);
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= 10 ** digits) digits++;
  return Buffer.from(`${len + digits}${body}`, 'utf8');
}

const padding = (size: number): number => (size % BLOCK === 0 ? 0 : BLOCK - (size % BLOCK));

/** Receives the compressed bytes in order; a returned promise is awaited before more are produced. */
export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

export interface TarGzOptions {
  /**
   * The caller guarantees that no two names are equal, also ignoring case (e.g. numbered entries),
   * so the writer keeps no set of the names it wrote: at 100,000 entries that set was a measurable
   * part of the work. Names are still checked for safety.
   */
  namesAreUnique?: boolean;
}

/**
 * Writes a `.tar.gz` as a stream: tar headers are encoded here (no per-entry stream or promise, which
 * dominated the cost of 100,000-entry usage reports), gathered into 1 MiB writes and compressed by
 * zlib (gzip level 6) in the thread pool; every compressed chunk is handed to `sink` as it comes out,
 * and the sink's promise is backpressure. Output is deterministic (mtime 0, uid/gid 0, mode 0644,
 * entries in the order added) and identical to what tar-stream's pack with the same fixed header gives.
 *
 *   const out = new TarGzStream((chunk) => hash.update(chunk));
 *   for (const e of entries) if (!out.append(e.name, e.data)) await out.drain();
 *   const size = await out.finish();
 *
 * Entry names are held to the rules the reader enforces (`UNSAFE_ENTRY_NAME`, `DUPLICATE_ENTRY`), so
 * this never writes an archive its own reader would refuse. After a thrown error call `abort()`.
 */
export class TarGzStream {
  // Output in pieces of up to 256 KiB rather than zlib's default 16 KiB: each piece is a round trip
  // between the thread pool and the event loop, which dominated archives that barely compress.
  private readonly gzip = zlib.createGzip({ level: 6, chunkSize: 256 * 1024 });
  private readonly names: Set<string> | null;
  private readonly pump: Promise<void>;
  /**
   * Staging buffers are reused once zlib has read them, rather than left to the garbage collector:
   * allocated fresh, tens of MB of dead ones piled up before a collection at 100,000 entries. Every
   * byte up to `used` is written explicitly (zeros included), so a reused buffer needs no clearing.
   */
  private staging: Buffer = Buffer.allocUnsafe(STAGING_BYTES);
  private readonly spares: Buffer[] = [];
  private used = 0;
  private compressedBytes = 0;
  private finished = false;
  private failure: unknown = undefined;

  constructor(sink: ChunkSink, options: TarGzOptions = {}) {
    this.names = options.namesAreUnique ? null : new Set<string>();
    this.pump = (async () => {
      try {
        for await (const chunk of this.gzip as AsyncIterable<Buffer>) {
          this.compressedBytes += chunk.length;
          try {
            await sink(chunk);
          } catch (err) {
            // Recorded before the loop's exit destroys gzip, so a writer waiting in drain() sees it.
            this.failure ??= err;
            throw err;
          }
        }
      } catch (err) {
        this.failure ??= err;
        this.gzip.destroy();
        throw err;
      }
    })();
    // Surfaced by drain()/finish(); without this an aborted stream would report an unhandled rejection.
    this.pump.catch(() => undefined);
  }

  /** Compressed bytes produced so far (the final size is known after `finish()`). */
  get bytesWritten(): number {
    return this.compressedBytes;
  }

  /**
   * Adds one file entry. Returns false when the compressor is behind: `await drain()` before the next
   * append (as with a Node stream's write). A string is written as UTF-8.
   */
  append(name: string, data: Buffer | string): boolean {
    this.checkOpen();
    this.checkName(name);
    const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
    this.writeHeaders(name, size);
    if (typeof data === 'string' && size <= STAGING_BYTES - this.used) {
      this.staging.write(data, this.used, 'utf8');
      this.used += size;
    } else {
      this.writeBytes(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    }
    this.skip(padding(size));
    return this.gzip.writableLength < MAX_PENDING_BYTES;
  }

  /** `append` that waits for the compressor when needed. */
  async add(name: string, data: Buffer | string): Promise<void> {
    if (!this.append(name, data)) await this.drain();
  }

  /** Adds one file entry whose `size` bytes arrive as `parts` (e.g. a nested archive's chunks). */
  async addParts(name: string, size: number, parts: Iterable<Buffer>): Promise<void> {
    this.checkOpen();
    this.checkName(name);
    this.writeHeaders(name, size);
    let written = 0;
    for (const part of parts) {
      written += part.length;
      if (written > size) throw new Error(`TarGzStream: entry ${quoteName(name)} has more than the ${size} bytes declared`);
      this.writeBytes(part);
      await this.drain();
    }
    if (written !== size) throw new Error(`TarGzStream: entry ${quoteName(name)} has ${written} bytes, ${size} declared`);
    this.skip(padding(size));
  }

  /** Resolves once the compressor has taken what it was given (at once when it is not behind). */
  async drain(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    // Past the mark, gzip's own high-water mark was passed too, so 'drain' comes once it caught up.
    if (this.gzip.writableLength < MAX_PENDING_BYTES) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown): void => {
        this.gzip.off('drain', onDrain).off('close', onClose).off('error', onClose);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = (): void => settle();
      const onClose = (err?: unknown): void => settle(this.failure ?? err ?? new Error('TarGzStream: the compressor closed'));
      this.gzip.on('drain', onDrain).on('close', onClose).on('error', onClose);
    });
  }

  /** Ends the archive; resolves with its compressed size once the sink has taken every byte. */
  async finish(): Promise<number> {
    this.checkOpen();
    this.finished = true;
    this.skip(END_OF_TAR_BYTES);
    this.flush();
    this.gzip.end();
    await this.pump;
    if (this.failure !== undefined) throw this.failure;
    return this.compressedBytes;
  }

  /** Releases the streams after a failure; the writer is unusable afterwards. */
  abort(): void {
    this.finished = true;
    this.failure ??= new Error('TarGzStream: aborted');
    this.gzip.destroy();
  }

  private checkOpen(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.finished) throw new Error('TarGzStream: write after finish()');
  }

  private checkName(name: string): void {
    // A fast accept for the common shape (segments of [A-Za-z0-9_-][A-Za-z0-9._-]*, i.e. never "." or
    // ".."); anything else goes through the full rule, which also produces the message.
    const unsafe = name.length <= MAX_ENTRY_NAME_LENGTH && PLAIN_NAME.test(name) ? undefined : (unsafeEntryNameReason(name) ?? (name.endsWith('/') ? 'ends with a slash' : undefined));
    if (unsafe !== undefined) throw new FileFormatError('UNSAFE_ENTRY_NAME', `entry name ${quoteName(name)} ${unsafe}`);
    if (!this.names) return;
    const key = name.toLowerCase();
    if (this.names.has(key)) throw new FileFormatError('DUPLICATE_ENTRY', `entry ${quoteName(name)} appears more than once`);
    this.names.add(key);
  }

  /** The header block(s) of a file entry, as tar-stream writes them: ustar, or PAX for long names. */
  private writeHeaders(name: string, size: number): void {
    const split = name.length <= 100 ? { name, prefix: '' } : splitUstarName(name);
    if (split) {
      this.encodeBlock(split.name, split.prefix, size, TYPEFLAG_FILE);
      return;
    }
    // tar-stream's PAX form: a header named PaxHeader carrying the path record, then the entry's own
    // header, also named PaxHeader (readers take the name from the record).
    const record = paxPathRecord(name);
    this.encodeBlock('PaxHeader', '', record.length, TYPEFLAG_PAX);
    this.writeBytes(record);
    this.skip(padding(record.length));
    this.encodeBlock('PaxHeader', '', size, TYPEFLAG_FILE);
  }

  private encodeBlock(name: string, prefix: string, size: number, typeflag: number): void {
    if (STAGING_BYTES - this.used < BLOCK) this.flush();
    encodeHeader(this.staging, this.used, name, prefix, size, typeflag);
    this.used += BLOCK;
  }

  /** Copies small data into the staging buffer; hands large data to gzip as it is (no copy). */
  private writeBytes(data: Buffer): void {
    if (data.length <= STAGING_BYTES - this.used) {
      data.copy(this.staging, this.used);
      this.used += data.length;
      return;
    }
    this.flush();
    if (data.length < STAGING_BYTES / 2) {
      data.copy(this.staging, 0);
      this.used = data.length;
    } else if (data.length > 0) {
      this.gzip.write(data);
    }
  }

  /** Zero bytes (padding, end of archive). */
  private skip(count: number): void {
    let left = count;
    while (left > 0) {
      const room = STAGING_BYTES - this.used;
      if (room === 0) {
        this.flush();
        continue;
      }
      const n = Math.min(room, left);
      this.staging.fill(0, this.used, this.used + n);
      this.used += n;
      left -= n;
    }
  }

  private flush(): void {
    if (this.used === 0) return;
    const full = this.staging;
    const chunk = full.subarray(0, this.used);
    // gzip may still be reading the previous buffers: a spare one, or a new one.
    this.staging = this.spares.pop() ?? Buffer.allocUnsafe(STAGING_BYTES);
    this.used = 0;
    // The write callback comes once zlib has consumed the chunk and dropped it.
    this.gzip.write(chunk, () => {
      if (this.spares.length < MAX_SPARES) this.spares.push(full);
    });
  }
}

/** Entry names made of plain segments; every such name passes `unsafeEntryNameReason`. */
const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/**
 * Builds a `.tar.gz` in memory (see `TarGzStream` for the format): only the compressed output is kept.
 *
 *   const w = new TarGzWriter();
 *   await w.add('a.json', buf);
 *   const file = await w.finish();
 *
 * On a thrown error call `abort()`.
 */
export class TarGzWriter {
  private readonly chunks: Buffer[] = [];
  private readonly stream: TarGzStream;

  constructor(options: TarGzOptions = {}) {
    this.stream = new TarGzStream((chunk) => {
      this.chunks.push(chunk);
    }, options);
  }

  /** Compressed bytes produced so far (the final size is known after `finish()`). */
  get bytesWritten(): number {
    return this.stream.bytesWritten;
  }

  async add(name: string, data: Buffer | string): Promise<void> {
    await this.stream.add(name, data);
  }

  /** `TarGzStream.append`: false asks for `await drain()` before the next append. */
  append(name: string, data: Buffer | string): boolean {
    return this.stream.append(name, data);
  }

  drain(): Promise<void> {
    return this.stream.drain();
  }

  async finish(): Promise<Buffer> {
    const size = await this.stream.finish();
    return Buffer.concat(this.chunks, size);
  }

  /** The compressed bytes as produced, without joining them (valid after `finish()`). */
  async finishChunks(): Promise<{ chunks: Buffer[]; size: number }> {
    const size = await this.stream.finish();
    return { chunks: this.chunks, size };
  }

  /** Releases the streams after a failure; the writer is unusable afterwards. */
  abort(): void {
    this.stream.abort();
  }
}

/**
 * Writes entries, in the given order, into a deterministic `.tar.gz` (see `TarGzStream`).
 * Throws `FileFormatError` `UNSAFE_ENTRY_NAME` / `DUPLICATE_ENTRY` for names the reader would refuse.
 */
export async function writeTarGz(entries: readonly ArchiveEntry[]): Promise<Buffer> {
  const writer = new TarGzWriter();
  try {
    for (const { name, data } of entries) await writer.add(name, data);
    return await writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
}
