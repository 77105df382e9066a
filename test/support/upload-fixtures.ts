/**
 * Requests with bodies, as clients and attackers send them: GraphQL multipart uploads (the spec's
 * `operations`, `map` and file parts), hand-built multipart bytes for malformed forms, and raw
 * node:http requests whose body is sent piecemeal (or never finished) to see what the server
 * answers before the body is complete.
 */
import http from 'node:http';
import type { GraphQLResponse } from './harness';

export const BOUNDARY = 'slm-test-boundary-7f3a';

export type Part = { name: string; value: string } | { name: string; fileName: string; content: Buffer; contentType?: string };

/** Multipart bytes with exactly these parts in this order (nothing checked: malformed forms are the point). */
export function multipartBytes(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\ncontent-disposition: form-data; name="${part.name}"; filename="${part.fileName}"\r\n` +
            `content-type: ${part.contentType ?? 'application/gzip'}\r\n\r\n`,
        ),
        part.content,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** The spec's three parts for one file at `variables.<path>` (the variable itself set to null in operations). */
export function uploadParts(query: string, variables: Record<string, unknown>, path: string, file: Buffer, fileName = 'file.tar.gz'): Part[] {
  return [
    { name: 'operations', value: JSON.stringify({ query, variables }) },
    { name: 'map', value: JSON.stringify({ 0: [`variables.${path}`] }) },
    { name: '0', fileName, content: file },
  ];
}

/** POSTs multipart bytes to /graphql (with a Content-Length) and reads the JSON answer. */
export async function postMultipart<T = Record<string, unknown>>(
  url: string,
  body: Buffer,
  token: string | null,
  boundary = BOUNDARY,
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse<T>['body'] };
}

/** A GraphQL upload through the multipart spec: `file` goes to `variables.<path>`. */
export function uploadFile<T = Record<string, unknown>>(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown>,
  path: string,
  file: Buffer,
): Promise<GraphQLResponse<T>> {
  return postMultipart<T>(url, multipartBytes(uploadParts(query, variables, path, file)), token);
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { errors?: { message: string; extensions?: Record<string, unknown> & { code?: string } }[]; data?: unknown };
}

export interface OpenRequest {
  /** The answer, whenever it comes (possibly while the body is still unfinished). */
  answer: Promise<RawAnswer>;
  write(chunk: Buffer | string): void;
  end(chunk?: Buffer | string): void;
  /** Drops the connection mid-body, as a client that gives up. */
  abort(): void;
  /** Bytes of body written so far. */
  sent(): number;
}

/**
 * Starts a POST to `url` with `headers` (declare a Content-Length to send a body of that size, or
 * none for a chunked body) and writes `first`; the rest of the body is up to the caller, who may
 * never send it.
 */
export function openRequest(url: string, headers: Record<string, string>, first?: Buffer | string): OpenRequest {
  const req = http.request(url, { method: 'POST', headers });
  let sent = 0;
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as RawAnswer['body'] });
        } catch {
          reject(new Error(`answer ${res.statusCode} is not JSON: ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  // A test that aborts does not look at the answer; keep its rejection from being unhandled.
  answer.catch(() => undefined);
  const write = (chunk: Buffer | string): void => {
    sent += Buffer.byteLength(chunk);
    req.write(chunk);
  };
  if (first !== undefined) write(first);
  else req.flushHeaders();
  return {
    answer,
    write,
    end: (chunk) => {
      if (chunk !== undefined) sent += Buffer.byteLength(chunk);
      req.end(chunk);
    },
    abort: () => req.destroy(),
    sent: () => sent,
  };
}

/** Waits (polling every 10 ms, at most `ms`) until `condition` holds; throws naming `what` otherwise. */
export async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
