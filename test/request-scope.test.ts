import { Role } from '../src/auth/roles';
import { createViewer } from '../src/auth/viewer';
import type { RequestContext } from '../src/common/context';
import { createLogger } from '../src/logger';
import { inScope, requestScope } from '../src/db/scope';
import { prepared, sql } from '../src/db/sql';
import { startTestServer, type TestServer } from './support/harness';

/**
 * The request scope that query operations share (src/db/scope.ts), against the real database as the
 * application role: one transaction for every call of a request, the tenant settings in force, late
 * calls after closing on their own transaction, and close() waiting for calls in flight.
 */
describe('RequestScope', () => {
  let server: TestServer;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    server = await startTestServer();
    [{ id: tenantA }, { id: tenantB }] = await server.sql<{ id: string }>(
      `insert into tenant (name, slug) values ('Scope A', 'scope-a'), ('Scope B', 'scope-b') returning id::text`,
    );
  });
  afterAll(() => server.close());

  /** A request context as the HTTP layer builds it: a tenant operator, or a provider admin for null. */
  function context(tenantId: string | null): RequestContext {
    const ctx: RequestContext = {
      viewer: createViewer('scope-test', tenantId ? Role.TENANT_OPERATOR : Role.PROVIDER_ADMIN, tenantId, Math.floor(Date.now() / 1000) + 600),
      em: server.db.orm.em.fork(),
      requestId: 'scope-test',
      log: createLogger('silent'),
      app: server.runtime,
      memo: new Map(),
    };
    ctx.scope = requestScope(ctx, server.db.orm.em);
    return ctx;
  }
  const txid = (ctx: RequestContext): Promise<string> =>
    inScope(ctx, async (em) => (await sql<{ x: string }>(em, 'select txid_current()::text as x'))[0].x);

  it('gives every call of an enabled request the same transaction, with the tenant settings in force', async () => {
    const ctx = context(tenantA);
    ctx.scope?.enable();
    const ids = await Promise.all([txid(ctx), txid(ctx), txid(ctx)]);
    expect(new Set(ids).size).toBe(1);
    const seen = await inScope(ctx, (em) => prepared<{ id: string }>(em, 'select id::text from tenant order by slug'));
    expect(seen.map((t) => t.id)).toEqual([tenantA]);
    await ctx.scope?.close();
  });

  it('uses a transaction per call until the operation is known to be a query', async () => {
    const ctx = context(tenantA);
    const [a, b] = [await txid(ctx), await txid(ctx)];
    expect(a).not.toBe(b);
    await ctx.scope?.close();
  });

  it('after close, calls run on their own transactions and still see only their tenant', async () => {
    const ctx = context(tenantB);
    ctx.scope?.enable();
    const shared = await txid(ctx);
    await ctx.scope?.close();
    const late = await txid(ctx);
    expect(late).not.toBe(shared);
    const seen = await inScope(ctx, (em) => sql<{ id: string }>(em, 'select id::text from tenant'));
    expect(seen.map((t) => t.id)).toEqual([tenantB]);
  });

  it('close waits for calls in flight, then commits what they wrote', async () => {
    const ctx = context(null);
    ctx.scope?.enable();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = inScope(ctx, async (em) => {
      await gate;
      await sql(em, "update tenant set name = 'Scope A renamed' where id = ?", [tenantA]);
      return 'done';
    });
    const closing = ctx.scope?.close();
    let closed = false;
    void closing?.then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    await expect(slow).resolves.toBe('done');
    await closing;
    const [row] = await server.sql<{ name: string }>('select name from tenant where id = $1', [tenantA]);
    expect(row.name).toBe('Scope A renamed');
  });

  it('a failed statement rolls the shared transaction back instead of committing part of it', async () => {
    const ctx = context(null);
    ctx.scope?.enable();
    await inScope(ctx, (em) => sql(em, "update tenant set name = 'Scope A lost' where id = ?", [tenantA]));
    await expect(inScope(ctx, (em) => sql(em, 'select 1 / 0'))).rejects.toThrow();
    await ctx.scope?.close();
    const [row] = await server.sql<{ name: string }>('select name from tenant where id = $1', [tenantA]);
    expect(row.name).not.toBe('Scope A lost');
  });
});
