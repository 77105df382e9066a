import { randomBytes } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { buildLicenseSummary, type LicenseLine } from '../src/ssm/files/formats';
import { keyPairFromSeed, publicKeyPem } from '../src/ssm/files/signing';
import { createTrialTenant, type AccountTenant } from './support/assignment-fixtures';
import { signTestToken, startTestServer, type TestServer } from './support/harness';
import { snapshot, trustKeys, UPLOAD_ACK, UPLOAD_SUMMARY } from './support/offline-fixtures';
import {
  BOUNDARY,
  multipartBytes,
  openRequest,
  postMultipart,
  until,
  uploadFile,
  uploadParts,
  type Part,
  type RawAnswer,
} from './support/upload-fixtures';

/**
 * Regression for issue 15 section 3 (concurrent 15 MB POSTs held gigabytes): request bodies are
 * admitted from the headers (token, rate limit, room in the in-flight byte budget) before a byte is
 * read, JSON is small, files travel as multipart uploads limited while they stream, and WebSocket
 * messages are capped too.
 */

const MiB = 1024 * 1024;
const MAX_FILE = 10 * MiB;
/** MAX_BODY_BYTES by default. */
const MAX_BODY = 4 * MiB;
const VIEWER = '{ viewer { role } }';
const JSON_HEADERS = { 'content-type': 'application/json' };
const MULTIPART_HEADERS = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
const SIGNER = keyPairFromSeed('request-bodies-signer');

let seq = 0;
const slug = (label: string): string => `bodies-${label}-${++seq}`;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** The first error of an answer, with the fields every refusal here is checked for. */
function refusal(answer: RawAnswer | { status: number; body: RawAnswer['body'] }): { status: number; code: unknown; message: string } {
  const error = answer.body.errors?.[0];
  return { status: answer.status, code: error?.extensions?.code, message: error?.message ?? '' };
}

function fileLine(lineId: string, quantity: number): LicenseLine {
  return {
    lineId,
    entitlementTag: 'regid.2020-10.com.cisco.DSTACK_T1_A',
    billingType: 'PREPAID',
    billingModel: 'A_LA_CARTE',
    subscriptionId: `SUB-${lineId}`,
    licenseType: 'TERM',
    quantity,
    inUse: 0,
    startDate: '2020-01-01',
    endDate: '2099-12-31',
  };
}

let serial = 0;
/** A license summary signed by SIGNER (which the servers here trust) for smart account `accountId`. */
function summaryFile(accountId: string): Promise<Buffer> {
  return buildLicenseSummary(
    {
      smartAccount: { accountId, domain: `${accountId.toLowerCase()}.example`, name: accountId },
      serial: ++serial,
      virtualAccounts: [{ id: `${accountId}-VA`, name: 'Main', licenses: [fileLine(`${accountId}-L1`, 5)] }],
    },
    SIGNER.privateKey,
  );
}

describe('request bodies: admission before the body, size limits, multipart uploads', () => {
  let server: TestServer;
  let tenant: AccountTenant;

  beforeAll(async () => {
    server = await startTestServer();
    await trustKeys(server, [publicKeyPem(SIGNER.publicKey)]);
    tenant = await createTrialTenant(server, slug('main'));
  });
  afterAll(async () => {
    await server?.close();
  });

  describe('a request is refused from its headers before its body is read', () => {
    it.each([
      ['without a token', {}, /missing Authorization header/],
      ['with a token signed by another key', bearer(signTestToken({ role: 'PROVIDER_ADMIN' }, {}, 'another-secret-that-is-long-enough-0123456789')), /signature is invalid/],
      ['with an expired token', bearer(signTestToken({ role: 'PROVIDER_ADMIN' }, { expiresIn: -60 })), /expired/],
    ])('answers a POST %s declaring a 50 MB body with 401 while only 64 KiB of it were sent', async (_what, auth, why) => {
      const open = openRequest(server.url, { ...JSON_HEADERS, ...auth, 'content-length': String(50 * MiB) }, Buffer.alloc(64 * 1024, 0x20));
      try {
        const answer = await open.answer;
        // The socket is still open with 49.9 MB of the body never sent: the server answered without it.
        expect(open.sent()).toBe(64 * 1024);
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual({ errors: [{ message: expect.stringMatching(why), extensions: { code: 'UNAUTHENTICATED' } }] });
      } finally {
        open.abort();
      }
    });

    it('answers a multipart upload without a token with 401 before its file arrives', async () => {
      const open = openRequest(server.url, { ...MULTIPART_HEADERS, 'content-length': String(10 * MiB) }, `--${BOUNDARY}\r\n`);
      try {
        expect(refusal(await open.answer)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: expect.stringMatching(/Authorization/) });
      } finally {
        open.abort();
      }
    });

    it('answers GET /graphql without a token, or with a bad one, with 401 UNAUTHENTICATED', async () => {
      const url = `${server.url}?query=${encodeURIComponent(VIEWER)}`;
      for (const headers of [{}, bearer('not-a-jwt')]) {
        const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...headers } });
        expect(res.status).toBe(401);
        expect(((await res.json()) as RawAnswer['body']).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      }
      const allowed = await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...bearer(server.token('PROVIDER_OPERATOR')) } });
      expect(await allowed.json()).toEqual({ data: { viewer: { role: 'PROVIDER_OPERATOR' } } });
    });

    it('answers a CORS preflight (OPTIONS) without a token', async () => {
      const res = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://console.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    });
  });

  describe('JSON bodies are limited to MAX_BODY_BYTES, 4 MiB by default', () => {
    const padded = (bytes: number): string => {
      const shell = JSON.stringify({ query: VIEWER, variables: { padding: '' } });
      return JSON.stringify({ query: VIEWER, variables: { padding: 'x'.repeat(bytes - shell.length) } });
    };

    it('serves a JSON body of exactly 4 MiB', async () => {
      const body = padded(MAX_BODY);
      expect(Buffer.byteLength(body)).toBe(MAX_BODY);
      const res = await fetch(server.url, { method: 'POST', headers: { ...JSON_HEADERS, ...bearer(server.token('PROVIDER_ADMIN')) }, body });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { viewer: { role: 'PROVIDER_ADMIN' } } });
    });

    it('answers a JSON body of 4 MiB + 1 byte with 413 and a message pointing to multipart uploads', async () => {
      const res = await fetch(server.url, { method: 'POST', headers: { ...JSON_HEADERS, ...bearer(server.token('PROVIDER_ADMIN')) }, body: padded(MAX_BODY + 1) });
      const body = (await res.json()) as RawAnswer['body'];
      expect(refusal({ status: res.status, body })).toEqual({
        status: 413,
        code: 'BAD_REQUEST',
        message: 'request body is 4194305 bytes, more than 4194304 (MAX_BODY_BYTES); send a file as a multipart upload (UploadFileInput.file) rather than in contentBase64',
      });
    });

    it('answers a declared 20 MB JSON body with 413 before reading it', async () => {
      const open = openRequest(server.url, { ...JSON_HEADERS, ...bearer(server.token('PROVIDER_ADMIN')), 'content-length': String(20 * MiB) }, '{"query":');
      try {
        expect(refusal(await open.answer)).toEqual({ status: 413, code: 'BAD_REQUEST', message: expect.stringContaining('20971520 bytes, more than 4194304') });
      } finally {
        open.abort();
      }
    });

    it('answers a chunked JSON body (no Content-Length) that passes 4 MiB with 413', async () => {
      const open = openRequest(server.url, { ...JSON_HEADERS, ...bearer(server.token('PROVIDER_ADMIN')) });
      open.write(`{"query":"${VIEWER}","variables":{"padding":"`);
      for (let i = 0; i < 10; i++) open.write('x'.repeat(512 * 1024));
      open.end('"}}');
      expect(refusal(await open.answer)).toEqual({ status: 413, code: 'BAD_REQUEST', message: expect.stringContaining('larger than 4194304 bytes') });
    });
  });

  describe('multipart uploads (GraphQL multipart request spec)', () => {
    const uploadSummary = (file: Buffer, input: Record<string, unknown> = {}) =>
      uploadFile<{ uploadLicenseSummary: { serial: number; smartAccount: { accountId: string } } }>(
        server.url,
        tenant.admin,
        UPLOAD_SUMMARY,
        { input: { fileName: null, ...input, file: null } },
        'input.file',
        file,
      );

    it('uploads a signed license summary through uploadLicenseSummary(input: { file })', async () => {
      const res = await uploadSummary(await summaryFile('SA-BODIES-1'));
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.uploadLicenseSummary).toMatchObject({ serial, smartAccount: { accountId: 'SA-BODIES-1' } });
      const [audit] = await server.sql<{ details: { fileName: string } }>(
        "select details from audit_event where tenant_id = $1 and action = 'files.license_summary_uploaded'",
        [tenant.uuid],
      );
      expect(audit.details.fileName).toBe('file.tar.gz');
    });

    it('takes a file of exactly 10 MB to the file checks (random bytes: NOT_GZIP), and refuses 10 MB + 1 byte while streaming with 413 TOO_LARGE, changing nothing', async () => {
      // An acknowledgement: the summary parser has its own, lower cap (10,000,000 bytes).
      const exact = await uploadFile(server.url, tenant.admin, UPLOAD_ACK, { input: { file: null } }, 'input.file', randomBytes(MAX_FILE));
      expect(exact.status).toBe(200);
      expect(exact.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fileError: 'NOT_GZIP' });

      const before = await snapshot(server);
      const over = await uploadSummary(randomBytes(MAX_FILE + 1));
      expect(over.status).toBe(413);
      expect(over.body).toEqual({
        errors: [
          {
            message: "the file '0' is larger than 10 MB (10485760 bytes); reading stopped there",
            extensions: { code: 'BAD_USER_INPUT', fileError: 'TOO_LARGE', argumentName: 'file' },
          },
        ],
      });
      expect(await snapshot(server)).toEqual(before);
    });

    it('answers an upload declaring more than one file can be (10 MB + MAX_BODY_BYTES + framing) with 413 TOO_LARGE before reading it', async () => {
      const open = openRequest(server.url, { ...MULTIPART_HEADERS, ...bearer(tenant.admin), 'content-length': String(15 * MiB) }, `--${BOUNDARY}\r\n`);
      try {
        const answer = await open.answer;
        expect(refusal(answer)).toEqual({ status: 413, code: 'BAD_USER_INPUT', message: expect.stringContaining('the upload is 15728640 bytes') });
        expect(answer.body.errors?.[0].extensions?.fileError).toBe('TOO_LARGE');
      } finally {
        open.abort();
      }
    });

    it('refuses an empty file as EMPTY', async () => {
      const res = await uploadSummary(Buffer.alloc(0));
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fileError: 'EMPTY', argumentName: 'file' });
    });

    it('refuses both file and contentBase64 with BAD_USER_INPUT naming the two fields', async () => {
      const res = await uploadSummary(await summaryFile('SA-BODIES-BOTH'), { contentBase64: 'AAAA' });
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentNames: ['file', 'contentBase64'] });
      expect(res.body.errors?.[0].message).toMatch(/exactly one of file .* and contentBase64 .*; both were given/);
    });

    it('refuses neither file nor contentBase64 (JSON request) with BAD_USER_INPUT naming the two fields', async () => {
      const res = await server.graphql(UPLOAD_SUMMARY, { input: { fileName: 'x.tar.gz' } }, tenant.admin);
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentNames: ['file', 'contentBase64'] });
      expect(res.body.errors?.[0].message).toMatch(/exactly one of file .* and contentBase64 .*; neither was given/);
    });

    it('refuses a string passed off as an Upload in JSON variables', async () => {
      const res = await server.graphql(UPLOAD_SUMMARY, { input: { file: 'H4sIAAAA' } }, tenant.admin);
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0].message).toContain('an Upload is the file part of a multipart request');
    });

    it('still accepts a small file as contentBase64', async () => {
      const res = await server.graphql<{ uploadLicenseSummary: { smartAccount: { accountId: string } } }>(
        UPLOAD_SUMMARY,
        { input: { contentBase64: (await summaryFile('SA-BODIES-1')).toString('base64') } },
        tenant.admin,
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.uploadLicenseSummary.smartAccount.accountId).toBe('SA-BODIES-1');
    });

    const operations = JSON.stringify({ query: UPLOAD_SUMMARY, variables: { input: { file: null } } });
    const file = (name = '0'): Part => ({ name, fileName: 'summary.tar.gz', content: Buffer.from('not really gzip') });
    it.each<[string, Part[], RegExp]>([
      ['two files named in map', [{ name: 'operations', value: operations }, { name: 'map', value: '{"0":["variables.input.file"],"1":["variables.input.file"]}' }, file('0'), file('1')], /at most one file may be uploaded per request; 'map' names 2/],
      ['a second file part', [{ name: 'operations', value: operations }, { name: 'map', value: '{"0":["variables.input.file"]}' }, file('0'), file('0')], /at most one file may be uploaded per request/],
      ['no map', [{ name: 'operations', value: operations }, file('0')], /the file part '0' must follow the multipart fields 'operations' and 'map'/],
      ['no map and no file', [{ name: 'operations', value: operations }], /the multipart field 'map' is missing/],
      ['no operations', [], /the multipart field 'operations' is missing/],
      ['map before operations', [{ name: 'map', value: '{"0":["variables.input.file"]}' }, { name: 'operations', value: operations }, file('0')], /'map' must follow 'operations'/],
      ['operations that are not JSON', [{ name: 'operations', value: '{"query": "mutation' }, { name: 'map', value: '{}' }], /'operations' is not valid JSON/],
      ['operations that are a string', [{ name: 'operations', value: '"mutation { x }"' }, { name: 'map', value: '{}' }], /'operations' must be a JSON object/],
      ['a map that is not JSON', [{ name: 'operations', value: operations }, { name: 'map', value: '{0:' }, file('0')], /'map' must be a JSON object/],
      ['a map path leading nowhere', [{ name: 'operations', value: operations }, { name: 'map', value: '{"0":["variables.nothing.file"]}' }, file('0')], /the 'map' path 'variables.nothing.file' does not name a place/],
      ['a map path through __proto__', [{ name: 'operations', value: operations }, { name: 'map', value: '{"0":["__proto__.polluted"]}' }, file('0')], /the 'map' path '__proto__.polluted' does not name a place/],
      ['a file named in map that never comes', [{ name: 'operations', value: operations }, { name: 'map', value: '{"0":["variables.input.file"]}' }], /the file part '0' named in 'map' is missing/],
      ['a file not named in map', [{ name: 'operations', value: operations }, { name: 'map', value: '{"0":["variables.input.file"]}' }, file('7')], /the file part '7' is not named in 'map'/],
      ['an unexpected field', [{ name: 'operations', value: operations }, { name: 'extra', value: 'x' }], /unexpected multipart field 'extra'/],
    ])('answers a multipart request with %s with 400 and says what is wrong', async (_what, parts, why) => {
      const before = await snapshot(server);
      const res = await postMultipart(server.url, multipartBytes(parts), tenant.admin);
      expect(refusal(res)).toEqual({ status: 400, code: 'BAD_REQUEST', message: expect.stringMatching(why) });
      expect(res.body.errors?.[0].message).toContain('https://github.com/jaydenseric/graphql-multipart-request-spec');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await snapshot(server)).toEqual(before);
    });

    it('answers a multipart content type without a boundary with 400', async () => {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data', ...bearer(tenant.admin) },
        body: multipartBytes(uploadParts(UPLOAD_SUMMARY, { input: { file: null } }, 'input.file', Buffer.from('x'))),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as RawAnswer['body']).errors?.[0].message).toMatch(/multipart body cannot be read: Multipart: Boundary not found/);
    });

    it('answers an operations field larger than MAX_BODY_BYTES with 413', async () => {
      const big = JSON.stringify({ query: UPLOAD_SUMMARY, variables: { input: { file: null, fileName: 'x'.repeat(MAX_BODY) } } });
      const res = await postMultipart(server.url, multipartBytes([{ name: 'operations', value: big }, { name: 'map', value: '{}' }]), tenant.admin);
      expect(refusal(res)).toEqual({ status: 413, code: 'BAD_REQUEST', message: "the multipart field 'operations' is larger than 4194304 bytes (MAX_BODY_BYTES)" });
    });

    it('keeps the connection in step after refusing a multipart body half-way: the rest is read and dropped, and the next request on it is served', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      const post = (headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: RawAnswer['body'] }> =>
        new Promise((resolve, reject) => {
          const req = http.request(server.url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } });
          req.on('socket', (socket) => sockets.add(socket));
          req.on('response', (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RawAnswer['body'] }));
          });
          req.on('error', reject);
          req.end(body);
        });
      try {
        const tooLarge = multipartBytes(uploadParts(UPLOAD_SUMMARY, { input: { file: null } }, 'input.file', randomBytes(MAX_FILE + 256 * 1024)));
        for (let i = 0; i < 2; i++) {
          const refused = await post({ ...MULTIPART_HEADERS, ...bearer(tenant.admin) }, tooLarge);
          expect(refused.status).toBe(413);
          expect(refused.body.errors?.[0].extensions?.fileError).toBe('TOO_LARGE');
        }
        const served = await post({ ...JSON_HEADERS, ...bearer(server.token('PROVIDER_ADMIN')) }, Buffer.from(JSON.stringify({ query: VIEWER })));
        expect(served).toEqual({ status: 200, body: { data: { viewer: { role: 'PROVIDER_ADMIN' } } } });
        expect(sockets.size).toBe(1);
      } finally {
        agent.destroy();
      }
    });
  });

  describe('WebSocket messages are capped at MAX_BODY_BYTES', () => {
    it('closes a socket sending a message over 4 MiB with 1009 (message too big), and the server lives on', async () => {
      const wsUrl = server.url.replace(/^http/, 'ws');
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.token('PROVIDER_ADMIN')}`, pad: 'x'.repeat(MAX_BODY) } }));
      expect(await closed).toBe(1009);

      // A message within the cap on a new socket is served.
      const next = new WebSocket(wsUrl, 'graphql-transport-ws');
      const ack = new Promise<string>((resolve) => next.once('message', (data) => resolve((JSON.parse(String(data)) as { type: string }).type)));
      await new Promise<void>((resolve, reject) => next.once('open', () => resolve()).once('error', reject));
      next.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.token('PROVIDER_ADMIN')}`, pad: 'x'.repeat(MAX_BODY / 2) } }));
      expect(await ack).toBe('connection_ack');
      next.close();
      expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    });
  });
});

describe('request bodies: rate limits are checked before the body', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_SUBJECT_PER_MINUTE: '1' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a subject over its rate limit with 429 and Retry-After before the 50 MB body it declares', async () => {
    const token = server.token('PROVIDER_ADMIN', undefined, { sub: 'rate-limited-subject' });
    expect((await server.graphql(VIEWER, {}, token)).status).toBe(200);
    const open = openRequest(server.url, { ...JSON_HEADERS, ...bearer(token), 'content-length': String(50 * MiB) }, Buffer.alloc(1024, 0x20));
    try {
      const answer = await open.answer;
      expect(refusal(answer)).toEqual({ status: 429, code: 'RATE_LIMITED', message: expect.stringMatching(/too many requests; retry after \d+ s/) });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(open.sent()).toBe(1024);
    } finally {
      open.abort();
    }
  });
});

describe('request bodies: the in-flight byte budget', () => {
  /** What a chunked upload reserves: the multipart route's maximum (10 MiB file + 4 MiB JSON + 16 KiB framing). */
  const UPLOAD_MAX = MAX_FILE + MAX_BODY + 16 * 1024;
  let server: TestServer;
  let tenant: AccountTenant;

  beforeAll(async () => {
    server = await startTestServer({
      env: { MAX_INFLIGHT_BODY_BYTES: String(2 * UPLOAD_MAX + MiB), MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: String(UPLOAD_MAX + MiB / 2) },
    });
    await trustKeys(server, [publicKeyPem(SIGNER.publicKey)]);
    tenant = await createTrialTenant(server, slug('budget'));
  });
  afterAll(async () => {
    await server?.close();
  });

  const adminAs = (subject: string): string => server.token('TENANT_ADMIN', tenant.uuid, { sub: subject });
  /** A chunked upload (no Content-Length) from `subject`, of which only the first parts are sent. */
  const startUpload = (subject: string) =>
    openRequest(
      server.url,
      { ...MULTIPART_HEADERS, ...bearer(adminAs(subject)) },
      multipartBytes(uploadParts(UPLOAD_SUMMARY, { input: { file: null } }, 'input.file', Buffer.alloc(0))).subarray(0, 200),
    );

  it('refuses a second upload of one subject with 429, one beyond the instance bound with 503 (both with Retry-After), and frees the bytes of aborted uploads', async () => {
    const first = startUpload('uploader-1');
    await until('the first upload to be admitted', () => server.bodyBytesInFlight() === UPLOAD_MAX);

    const sameSubject = startUpload('uploader-1');
    const bySubject = await sameSubject.answer;
    expect(refusal(bySubject)).toEqual({ status: 429, code: 'RATE_LIMITED', message: expect.stringContaining('too many request bytes in flight for this token subject') });
    expect(bySubject.headers['retry-after']).toBe('2');

    const other = startUpload('uploader-2');
    await until('the second subject to be admitted', () => server.bodyBytesInFlight() === 2 * UPLOAD_MAX);
    const third = startUpload('uploader-3');
    const byInstance = await third.answer;
    expect(refusal(byInstance)).toEqual({ status: 503, code: 'SERVER_BUSY', message: expect.stringContaining('retry after 2 s') });
    expect(byInstance.headers['retry-after']).toBe('2');
    for (const refused of [sameSubject, third]) refused.abort();

    // The clients give up mid-body: their reservations go with their connections.
    first.abort();
    other.abort();
    await until('the aborted uploads to release their bytes', () => server.bodyBytesInFlight() === 0);

    // The same subject uploads a real file afterwards, chunked (so it reserves the full route maximum).
    const later = openRequest(server.url, { ...MULTIPART_HEADERS, ...bearer(adminAs('uploader-1')) });
    later.end(multipartBytes(uploadParts(UPLOAD_SUMMARY, { input: { file: null } }, 'input.file', await summaryFile('SA-BUDGET-1'))));
    const accepted = await later.answer;
    expect(accepted.status).toBe(200);
    expect(accepted.body.errors).toBeUndefined();
    expect(accepted.body.data).toMatchObject({ uploadLicenseSummary: { smartAccount: { accountId: 'SA-BUDGET-1' } } });
    await until('the finished upload to release its bytes', () => server.bodyBytesInFlight() === 0);
  });

  it('reserves the declared Content-Length, so several small uploads of one subject fit where chunked ones would not', async () => {
    const file = await summaryFile('SA-BUDGET-2');
    const body = multipartBytes(uploadParts(UPLOAD_SUMMARY, { input: { file: null } }, 'input.file', file));
    const held = [1, 2, 3].map(() =>
      openRequest(server.url, { ...MULTIPART_HEADERS, ...bearer(adminAs('small-uploader')), 'content-length': String(body.length) }, body.subarray(0, 100)),
    );
    try {
      await until('three declared uploads to be admitted', () => server.bodyBytesInFlight() === 3 * body.length);
    } finally {
      for (const h of held) h.abort();
    }
    await until('the aborted uploads to release their bytes', () => server.bodyBytesInFlight() === 0);
  });
});
