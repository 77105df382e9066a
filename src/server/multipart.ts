import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { UploadedFile } from '../common/upload';

export const MULTIPART_SPEC_URL = 'https://github.com/jaydenseric/graphql-multipart-request-spec';

/** A request refused while its body is read: HTTP status, GraphQL error code, message and extensions. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = 'BAD_REQUEST',
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface MultipartLimits {
  /** `operations` and `map` fields, each. */
  maxFieldBytes: number;
  maxFileBytes: number;
  /** The whole body; only a chunked body (no Content-Length) can reach it, declared ones were checked at admission. */
  maxBodyBytes: number;
}

type Container = Record<string, unknown> | unknown[];
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads a GraphQL multipart request (multipart/form-data with `operations`, `map` and at most one
 * file, in that order) and returns `operations` with the file put where `map` says, as an
 * UploadedFile. The file is read into memory as it streams and refused the moment it passes
 * `maxFileBytes` (413, fileError TOO_LARGE); the rest of the body is then read and dropped.
 * Every malformed form is a BodyError naming what is wrong.
 */
export function readMultipartOperations(req: IncomingMessage, limits: MultipartLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // busboy reports a limit when a part *reaches* it: one byte more lets a part of exactly the limit through.
        limits: { fieldSize: limits.maxFieldBytes + 1, fileSize: limits.maxFileBytes + 1, fields: 2, files: 1 },
      });
    } catch (err) {
      reject(new BodyError(400, `the multipart body cannot be read: ${(err as Error).message}`));
      return;
    }

    let operations: Container | undefined;
    let mapped: { field: string; paths: string[] } | null | undefined; // null: a map naming no file
    let file: UploadedFile | undefined;
    let received = 0;
    let settled = false;

    const stop = (): void => {
      settled = true;
      req.off('data', count).off('close', aborted);
      req.unpipe(parser);
      // Not from inside one of the parser's own callbacks, which go on using its state after they return.
      setImmediate(() => parser.destroy());
    };
    const fail = (err: BodyError): void => {
      if (settled) return;
      stop();
      reject(err);
      // Read and drop the rest, so the answer reaches the client on a connection still in step; a
      // (chunked) body that goes on past the route's limit has its connection closed instead.
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBodyBytes) req.destroy();
      });
      req.resume();
    };
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.maxBodyBytes) {
        fail(new BodyError(413, `the multipart body is larger than ${limits.maxBodyBytes} bytes`, 'BAD_USER_INPUT', { fileError: 'TOO_LARGE' }));
      }
    };
    const aborted = (): void => {
      if (!req.complete) fail(new BodyError(400, 'the client closed the connection before the multipart body was complete'));
    };

    parser.on('field', (name, value, info) => {
      if (settled) return;
      if (info.valueTruncated) {
        fail(new BodyError(413, `the multipart field '${name}' is larger than ${limits.maxFieldBytes} bytes (MAX_BODY_BYTES)`));
        return;
      }
      if (name === 'operations') {
        if (operations !== undefined) return fail(specError(`the multipart field 'operations' appears more than once`));
        const parsed = parseJson(value);
        if (parsed === undefined) return fail(specError(`the multipart field 'operations' is not valid JSON`));
        if (parsed === null || typeof parsed !== 'object') return fail(specError(`the multipart field 'operations' must be a JSON object (or an array of them)`));
        operations = parsed as Container;
      } else if (name === 'map') {
        if (operations === undefined) return fail(specError(`the multipart field 'map' must follow 'operations'`));
        const outcome = parseMap(value, operations);
        if (typeof outcome === 'string') return fail(specError(outcome));
        mapped = outcome;
      } else if (name === '' || /^\d+$/.test(name)) {
        fail(specError(`the multipart part '${name}' must be a file part (with a filename)`));
      } else {
        fail(specError(`unexpected multipart field '${name}': expected 'operations', 'map' and one file`));
      }
    });

    parser.on('file', (name, stream, info) => {
      stream.on('error', () => undefined); // destroyed with the parser after a refusal; the parser reports causes itself
      if (settled || mapped === undefined || mapped === null || mapped.field !== name) {
        stream.resume();
        if (mapped === undefined) fail(specError(`the file part '${name}' must follow the multipart fields 'operations' and 'map'`));
        else fail(specError(`the file part '${name}' is not named in 'map'`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => {
        chunks.length = 0;
        fail(
          new BodyError(413, `the file '${name}' is larger than 10 MB (${limits.maxFileBytes} bytes); reading stopped there`, 'BAD_USER_INPUT', {
            fileError: 'TOO_LARGE',
            argumentName: 'file',
          }),
        );
      });
      stream.on('end', () => {
        if (!settled) file = new UploadedFile(cleanFileName(info.filename), info.mimeType, Buffer.concat(chunks, size));
      });
    });

    parser.on('filesLimit', () => fail(specError('at most one file may be uploaded per request')));
    parser.on('fieldsLimit', () => fail(specError(`only the multipart fields 'operations' and 'map' are expected besides the file`)));
    parser.on('error', (err) => fail(new BodyError(400, `the multipart body is malformed: ${(err as Error).message}`)));
    parser.on('close', () => {
      if (settled) return;
      if (operations === undefined) return fail(specError(`the multipart field 'operations' is missing`));
      if (mapped === undefined) return fail(specError(`the multipart field 'map' is missing`));
      if (mapped && !file) return fail(specError(`the file part '${mapped.field}' named in 'map' is missing`));
      stop();
      if (mapped && file) for (const path of mapped.paths) place(operations, path, file);
      resolve(operations);
    });

    req.on('data', count);
    req.on('close', aborted);
    req.pipe(parser);
  });
}

function specError(message: string): BodyError {
  return new BodyError(400, `${message} (GraphQL multipart request spec: ${MULTIPART_SPEC_URL})`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `{ "<file part>": ["variables.input.file", ...] }` naming at most one file; each path checked against operations. */
function parseMap(text: string, operations: Container): { field: string; paths: string[] } | null | string {
  const map = parseJson(text);
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return `the multipart field 'map' must be a JSON object`;
  const entries = Object.entries(map);
  if (entries.length === 0) return null;
  if (entries.length > 1) return `at most one file may be uploaded per request; 'map' names ${entries.length}`;
  const [[field, paths]] = entries;
  if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
    return `'map' must give the file part '${field}' a non-empty array of paths into 'operations'`;
  }
  for (const path of paths as string[]) {
    if (!parentOf(operations, path)) return `the 'map' path '${path}' does not name a place in 'operations'`;
  }
  return { field, paths: paths as string[] };
}

/** The object or array holding the last segment of a dotted path, or null when the path leads nowhere. */
function parentOf(root: Container, path: string): { container: Container; key: string } | null {
  const keys = path.split('.');
  if (keys.some((k) => k === '' || UNSAFE_KEYS.has(k))) return null;
  let container: Container = root;
  for (const key of keys.slice(0, -1)) {
    const next: unknown = Object.hasOwn(container, key) ? (container as Record<string, unknown>)[key] : undefined;
    if (next === null || typeof next !== 'object') return null;
    container = next as Container;
  }
  const key = keys[keys.length - 1];
  if (Array.isArray(container) && !(/^\d+$/.test(key) && Number(key) < container.length)) return null;
  return { container, key };
}

function place(root: Container, path: string, file: UploadedFile): void {
  const at = parentOf(root, path);
  if (at) (at.container as Record<string, unknown>)[at.key] = file;
}

/** The client's file name, for the audit trail: no control characters (PostgreSQL text refuses U+0000), at most 255 characters. */
function cleanFileName(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255);
}
