import { startTestServer, type TestServer } from './support/harness';

interface ErrorBody {
  errors?: { message: string; extensions?: { code?: string } }[];
  data?: unknown;
}

describe('http', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('PROVIDER_ADMIN')}`, ...headers },
      body,
    });

  describe('health', () => {
    it('answers GET /healthz with 200 {"status":"ok"}', async () => {
      const res = await fetch(`${server.origin}/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('answers GET /readyz with 200 when every migration is applied', async () => {
      const res = await fetch(`${server.origin}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ready' });
    });

    it('answers GET /readyz with 503 while a known migration is not recorded as applied', async () => {
      const removed = await server.sql<{ id: number; name: string; executed_at: Date }>(
        'delete from mikro_orm_migrations where id = (select max(id) from mikro_orm_migrations) returning id, name, executed_at',
      );
      expect(removed).toHaveLength(1);
      try {
        const res = await fetch(`${server.origin}/readyz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ status: 'not ready' });
      } finally {
        const [row] = removed;
        await server.sql('insert into mikro_orm_migrations (id, name, executed_at) values ($1, $2, $3)', [row.id, row.name, row.executed_at]);
      }
      expect((await fetch(`${server.origin}/readyz`)).status).toBe(200);
    });
  });

  describe('request errors before GraphQL', () => {
    it('answers a malformed JSON body with 400 and BAD_REQUEST', async () => {
      const res = await post('{"query": "{ viewer { role } }"');
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
      expect(body.errors?.[0].message).toMatch(/not valid JSON/);
    });

    it('answers a JSON body that is not an object, such as a bare string, without a server error', async () => {
      const res = await post('"{ viewer { role } }"');
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    });

    it('answers an unknown route with 404', async () => {
      const res = await fetch(`${server.origin}/graphql-not-here`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toContain('/graphql');
    });
  });

  describe('GraphQL errors', () => {
    it('answers an unknown field with 400 and GRAPHQL_VALIDATION_FAILED, without suggesting field names', async () => {
      const res = await post(JSON.stringify({ query: '{ viewr { role } }' }));
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors?.[0].message).toContain('viewr');
      expect(body.errors?.[0].message).not.toMatch(/did you mean/i);
    });

    it('answers an invalid enum value in variables with BAD_USER_INPUT, never a server error', async () => {
      const res = await post(
        JSON.stringify({
          query: 'query($filter: DeviceFilter) { devices(filter: $filter) { totalCount } }',
          variables: { filter: { kind: 'ROUTER' } },
        }),
      );
      expect([200, 400]).toContain(res.status);
      const body = (await res.json()) as ErrorBody;
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0].message).toContain('ROUTER');
    });

    it('answers a syntax error with 400 and GRAPHQL_PARSE_FAILED', async () => {
      const res = await post(JSON.stringify({ query: '{ viewer { role }' }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    });

    it('answers a request without a query with 400 and BAD_REQUEST', async () => {
      const res = await post(JSON.stringify({ variables: {} }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    });

    it('answers a request without a token with UNAUTHENTICATED', async () => {
      const res = await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      });
      expect(res.status).toBeLessThan(500);
      expect(((await res.json()) as ErrorBody).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('request ids', () => {
    it('echoes a valid x-request-id', async () => {
      const res = await fetch(`${server.origin}/healthz`, { headers: { 'x-request-id': 'client-req.42:abc' } });
      expect(res.headers.get('x-request-id')).toBe('client-req.42:abc');
    });

    it('generates an x-request-id when none is given', async () => {
      const res = await post(JSON.stringify({ query: '{ viewer { role } }' }));
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it.each([
      ['with spaces and markup', 'has spaces and <html>'],
      ['longer than 128 characters', 'x'.repeat(129)],
    ])('replaces an x-request-id %s with a generated one', async (_label, given) => {
      const res = await fetch(`${server.origin}/healthz`, { headers: { 'x-request-id': given } });
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(given);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it('gives different generated ids to different requests', async () => {
      const a = (await fetch(`${server.origin}/healthz`)).headers.get('x-request-id');
      const b = (await fetch(`${server.origin}/healthz`)).headers.get('x-request-id');
      expect(a).not.toBe(b);
    });
  });

  describe('GET /graphql', () => {
    const getUrl = (query: string): string => `${server.origin}/graphql?query=${encodeURIComponent(query)}`;

    it('runs a query sent by GET with a token and the CSRF preflight header', async () => {
      const res = await fetch(getUrl('{viewer{role}}'), {
        headers: { authorization: `Bearer ${server.token('PROVIDER_OPERATOR')}`, 'apollo-require-preflight': 'true' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { viewer: { role: 'PROVIDER_OPERATOR' } } });
    });

    it('refuses a simple GET request without a preflight header, as a possible cross-site request forgery', async () => {
      const res = await fetch(getUrl('{viewer{role}}'), { headers: { authorization: `Bearer ${server.token('PROVIDER_OPERATOR')}` } });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/CSRF|Cross-Site/i);
    });

    it('refuses a mutation sent by GET', async () => {
      const res = await fetch(getUrl('mutation { createTenant(input: { name: "Via GET", slug: "via-get" }) { id } }'), {
        headers: { authorization: `Bearer ${server.token('PROVIDER_ADMIN')}`, 'apollo-require-preflight': 'true' },
      });
      expect(res.status).toBe(405);
      expect(((await res.json()) as ErrorBody).errors?.[0].extensions?.code).toBe('BAD_REQUEST');
      expect(await server.sql('select count(*)::int as n from tenant where slug = $1', ['via-get'])).toEqual([{ n: 0 }]);
    });
  });
});

describe('http body limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_BODY_BYTES: '2048' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (body: string): Promise<Response> =>
    fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token('PROVIDER_ADMIN')}` },
      body,
    });

  it('answers a body larger than MAX_BODY_BYTES with 413 and a code naming the problem', async () => {
    const body = JSON.stringify({ query: '{ viewer { role } }', variables: { padding: 'x'.repeat(3000) } });
    const res = await post(body);
    expect(res.status).toBe(413);
    const json = (await res.json()) as ErrorBody;
    expect(json.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    expect(json.errors?.[0].message).toContain('2048');
  });

  it('still serves a body within MAX_BODY_BYTES', async () => {
    const body = JSON.stringify({ query: '{ viewer { role } }', variables: { padding: 'x'.repeat(1500) } });
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { viewer: { role: 'PROVIDER_ADMIN' } } });
  });
});
