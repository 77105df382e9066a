import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  /** When the file was read: a rebuilt file (same name, new content) is read again. */
  mtimeMs: number;
  body: Buffer;
  gzip?: Buffer;
  etag: string;
  type: string;
}

/**
 * The files a build wrote into one folder, looked up by name (never a path from input: a name with a
 * slash, a leading dot or anything outside [A-Za-z0-9._-] is simply not found), read once and kept in
 * memory with their gzip form (read again when the file changes: a build running beside the server
 * replaces index.html under the same name).
 */
export class StaticDir {
  private readonly cache = new Map<string, StaticFile>();
  private names: Set<string> | undefined;

  constructor(readonly dir: string) {}

  get(name: string): StaticFile | undefined {
    if (!NAME_RE.test(name)) return undefined;
    const file = path.join(this.dir, name);
    const hit = this.cache.get(name);
    if (hit) {
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (stat?.mtimeMs === hit.mtimeMs) return hit;
      this.cache.delete(name);
      this.names = undefined;
    }
    if (!this.names?.has(name)) {
      try {
        this.names = new Set(fs.readdirSync(this.dir));
      } catch {
        this.names = undefined;
        return undefined;
      }
      if (!this.names.has(name)) return undefined;
    }
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return undefined;
    const body = fs.readFileSync(file);
    const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
    const found: StaticFile = {
      mtimeMs: stat.mtimeMs,
      body,
      // Fonts and images are compressed already.
      gzip: /^(font|image\/png)/.test(type) ? undefined : gzipSync(body),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      type,
    };
    this.cache.set(name, found);
    return found;
  }
}

/** Sends a file with its ETag (304 when it matches), gzipped when the client takes gzip. */
export function sendStaticFile(req: IncomingMessage, res: ServerResponse, file: StaticFile, cacheControl: string): void {
  res.setHeader('content-type', file.type);
  res.setHeader('etag', file.etag);
  res.setHeader('cache-control', cacheControl);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === file.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gzip! : file.body;
  if (gzip) res.setHeader('content-encoding', 'gzip');
  res.setHeader('content-length', String(body.length));
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : body);
}
