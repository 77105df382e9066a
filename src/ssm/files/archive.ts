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
import { once } from 'node:events';
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

const WRITE_BATCH_BYTES = 256 * 1024;

/** Fixed tar header fields, so the same entries always give the same bytes. */
const FIXED_HEADER = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0), type: 'file' as const };

/**
 * Builds a `.tar.gz` incrementally with backpressure, so large archives (100,000 entries) never need
 * their uncompressed form in memory: only the compressed output is kept. Output is deterministic
 * (mtime 0, uid/gid 0, mode 0644, entries in the order added, gzip header without mtime).
 *
 *   const w = new TarGzWriter();
 *   await w.add('a.json', buf);
 *   const file = await w.finish();
 *
 * Entry names are held to the same rules the reader enforces (`UNSAFE_ENTRY_NAME`, `DUPLICATE_ENTRY`),
 * so this never writes a file its own reader would refuse. On a thrown error call `abort()`.
 */
export class TarGzWriter {
  private readonly pack = tar.pack();
  private readonly gzip = zlib.createGzip({ level: 6 });
  private readonly chunks: Buffer[] = [];
  private readonly names = new Set<string>();
  private readonly pump: Promise<void>;
  private compressedBytes = 0;
  private finished = false;

  constructor() {
    this.gzip.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.compressedBytes += chunk.length;
    });
    const gzipEnded = once(this.gzip, 'end');
    this.pump = (async () => {
      // tar-stream emits many small chunks (512-byte headers, padding); each gzip write is a thread-pool
      // round trip, so they are batched into writes of at least WRITE_BATCH_BYTES.
      let batch: Buffer[] = [];
      let batched = 0;
      const flush = async (): Promise<void> => {
        if (batched === 0) return;
        const data = Buffer.concat(batch, batched);
        batch = [];
        batched = 0;
        if (!this.gzip.write(data)) await once(this.gzip, 'drain');
      };
      for await (const chunk of this.pack) {
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH_BYTES) await flush();
      }
      await flush();
      this.gzip.end();
      await gzipEnded;
    })();
    // Surfaced by finish(); without this an aborted writer would report an unhandled rejection.
    this.pump.catch(() => undefined);
  }

  /** Compressed bytes produced so far (the final size is known after `finish()`). */
  get bytesWritten(): number {
    return this.compressedBytes;
  }

  async add(name: string, data: Buffer): Promise<void> {
    if (this.finished) throw new Error('TarGzWriter: add() after finish()');
    const unsafe = unsafeEntryNameReason(name);
    if (unsafe !== undefined || name.endsWith('/')) {
      throw new FileFormatError('UNSAFE_ENTRY_NAME', `entry name ${quoteName(name)} ${unsafe ?? 'ends with a slash'}`);
    }
    const key = name.toLowerCase();
    if (this.names.has(key)) throw new FileFormatError('DUPLICATE_ENTRY', `entry ${quoteName(name)} appears more than once`);
    this.names.add(key);
    // The entry callback fires once its bytes are in the pack stream, i.e. after the gzip side drained:
    // awaiting it is the backpressure.
    await new Promise<void>((resolve, reject) => {
      this.pack.entry({ ...FIXED_HEADER, name, size: data.length }, data, (err) => (err ? reject(err) : resolve()));
    });
  }

  async finish(): Promise<Buffer> {
    if (this.finished) throw new Error('TarGzWriter: finish() called twice');
    this.finished = true;
    this.pack.finalize();
    await this.pump;
    return Buffer.concat(this.chunks, this.compressedBytes);
  }

  /** Releases the streams after a failure; the writer is unusable afterwards. */
  abort(): void {
    this.finished = true;
    this.pack.destroy();
    this.gzip.destroy();
  }
}

/**
 * Writes entries, in the given order, into a deterministic `.tar.gz` (see `TarGzWriter`).
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
