import pg from 'pg';
import { Role } from '../src/auth/roles';
import { createViewer } from '../src/auth/viewer';
import type { RequestContext } from '../src/common/context';
import { inScope } from '../src/db/scope';
import { createLogger } from '../src/logger';
import { createTenant, deviceInput, registerDevices, REGISTER_DEVICES, type TenantFixture } from './support/fixtures';
import { startTestServer, type TestServer } from './support/harness';

/**
 * The second wall: PostgreSQL row-level security, checked by talking to the database directly as
 * the application role. These tests do not go through the services, so a service that forgets its
 * tenant filter is still held here; and the catalog checks cover tables added after this file.
 *
 * The server runs with a pool of ONE connection, so every request of every tenant goes through the
 * same backend: whatever one transaction leaves behind, the next one would see.
 */

/** Our own direct connections say who they are, so they can be told apart from the server's pool. */
const TEST_APP_NAME = 'rls-test-direct';

type Client = pg.PoolClient;

async function sqlErrorCode(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('row-level security', () => {
  let server: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  let app: pg.Pool;

  beforeAll(async () => {
    server = await startTestServer({ env: { DATABASE_POOL_MAX: '1' } });
    a = await createTenant(server, 'rls-alpha');
    b = await createTenant(server, 'rls-bravo');
    const provider = server.token('PROVIDER_ADMIN');
    await registerDevices(server, provider, [1, 2, 3].map((n) => deviceInput(n, { hostname: `alpha-${n}.example` })), a.id);
    await registerDevices(server, provider, [1, 2].map((n) => deviceInput(n, { hostname: `bravo-${n}.example` })), b.id);
    app = new pg.Pool({ connectionString: server.db.appUrl, max: 2, application_name: TEST_APP_NAME });
  });
  afterAll(async () => {
    await app?.end();
    await server?.close();
  });

  async function asApp<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const client = await app.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  /** A transaction scoped the way src/db/scope.ts scopes a request; rolled back unless `commit`. */
  async function scoped<T>(
    c: Client,
    scope: { tenantId: string; role: string },
    fn: () => Promise<T>,
    opts: { commit?: boolean } = {},
  ): Promise<T> {
    await c.query('begin');
    try {
      await c.query("select set_config('app.tenant_id', $1, true), set_config('app.role', $2, true)", [scope.tenantId, scope.role]);
      const result = await fn();
      await c.query(opts.commit ? 'commit' : 'rollback');
      return result;
    } catch (err) {
      await c.query('rollback');
      throw err;
    }
  }

  /** `tenant` plus every base table in public with a tenant_id column, read from the catalog. */
  async function tenantOwnedTables(): Promise<string[]> {
    const rows = await server.sql<{ table_name: string }>(
      `select distinct c.table_name
         from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'`,
    );
    const tables = [...new Set(['tenant', ...rows.map((r) => r.table_name)])].sort();
    expect(tables).toEqual(expect.arrayContaining(['device', 'tenant']));
    return tables;
  }

  const ident = (table: string) => `public.${pg.escapeIdentifier(table)}`;
  const countAll = (table: string) => `select count(*)::int as n from ${ident(table)}`;

  async function ownerCount(table: string): Promise<number> {
    const [row] = await server.sql<{ n: number }>(countAll(table));
    return row.n;
  }

  async function deviceSnapshot(tenantUuid: string) {
    return server.sql('select * from device where tenant_id = $1 order by id', [tenantUuid]);
  }

  describe('with no tenant set', () => {
    it('shows the app role no row of any tenant-owned table, though rows exist and a provider scope sees them', async () => {
      const tables = await tenantOwnedTables();
      const owner = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await ownerCount(t)] as const)));
      expect(owner.tenant).toBeGreaterThanOrEqual(2);
      expect(owner.device).toBeGreaterThanOrEqual(5);
      const zeros = Object.fromEntries(tables.map((t) => [t, 0]));
      await asApp(async (c) => {
        // Plain session, nothing set.
        const plain: Record<string, number> = {};
        for (const t of tables) plain[t] = (await c.query<{ n: number }>(countAll(t))).rows[0].n;
        expect(plain).toEqual(zeros);
        // A transaction that names a tenant role but no tenant ('' is what a reused connection reports).
        const noTenant = await scoped(c, { tenantId: '', role: 'TENANT_ADMIN' }, async () => {
          const seen: Record<string, number> = {};
          for (const t of tables) seen[t] = (await c.query<{ n: number }>(countAll(t))).rows[0].n;
          return seen;
        });
        expect(noTenant).toEqual(zeros);
        // Control: the same connection with a provider scope sees every row, so the zeros above are RLS.
        const asProvider = await scoped(c, { tenantId: '', role: 'PROVIDER_OPERATOR' }, async () => {
          const seen: Record<string, number> = {};
          for (const t of tables) seen[t] = (await c.query<{ n: number }>(countAll(t))).rows[0].n;
          return seen;
        });
        expect(asProvider).toEqual(owner);
      });
    });

    it('refuses an insert into device with 42501 when no tenant is set', async () => {
      const code = await asApp((c) =>
        sqlErrorCode(
          c.query(`insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version)
                   values ($1, 'NOSCOPE-1', 'noscope.example', 'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a')`, [a.uuid]),
        ),
      );
      expect(code).toBe('42501');
      expect(await server.sql("select 1 from device where uuid = 'NOSCOPE-1'")).toEqual([]);
    });
  });

  describe('scoped to tenant A as TENANT_ADMIN', () => {
    const scopeA = () => ({ tenantId: a.uuid, role: 'TENANT_ADMIN' });

    it("shows only A's rows in every tenant-owned table", async () => {
      const tables = await tenantOwnedTables();
      await asApp((c) =>
        scoped(c, scopeA(), async () => {
          const tenants = await c.query<{ id: string }>('select id from tenant');
          expect(tenants.rows.map((r) => r.id)).toEqual([a.uuid]);
          for (const t of tables.filter((name) => name !== 'tenant')) {
            const seen = await c.query<{ tenant_id: string; n: number }>(
              `select tenant_id, count(*)::int as n from ${ident(t)} group by tenant_id`,
            );
            const [own] = await server.sql<{ n: number }>(`select count(*)::int as n from ${ident(t)} where tenant_id = $1`, [a.uuid]);
            expect({ table: t, seen: seen.rows }).toEqual({ table: t, seen: own.n > 0 ? [{ tenant_id: a.uuid, n: own.n }] : [] });
          }
        }),
      );
    });

    it("refuses an INSERT of a device row for tenant B with 42501, and accepts the same row for A", async () => {
      const insert = (c: Client, tenantId: string) =>
        c.query(
          `insert into device (tenant_id, uuid, hostname, model, kind, mode, software_version)
           values ($1, 'RLS-PLANT-1', 'planted.example', 'C8000V', 'IOS_XE_SDWAN', 'CONTROLLER', '17.9.3a')`,
          [tenantId],
        );
      const forB = await asApp((c) => scoped(c, scopeA(), () => sqlErrorCode(insert(c, b.uuid))));
      expect(forB).toBe('42501');
      const forA = await asApp((c) => scoped(c, scopeA(), async () => (await insert(c, a.uuid)).rowCount));
      expect(forA).toBe(1);
      expect(await server.sql("select 1 from device where uuid = 'RLS-PLANT-1'")).toEqual([]);
    });

    it("refuses inserting a tenant row with 42501", async () => {
      const code = await asApp((c) =>
        scoped(c, scopeA(), () => sqlErrorCode(c.query("insert into tenant (name, slug) values ('Evil', 'rls-evil')"))),
      );
      expect(code).toBe('42501');
    });

    it("updates and deletes 0 of B's rows, even when committed", async () => {
      const devicesBefore = await deviceSnapshot(b.uuid);
      const tenantBefore = await server.sql('select * from tenant where id = $1', [b.uuid]);
      expect(devicesBefore.length).toBeGreaterThan(0);
      const counts = await asApp((c) =>
        scoped(
          c,
          scopeA(),
          async () => ({
            updateDevices: (await c.query("update device set hostname = 'owned.example' where tenant_id = $1", [b.uuid])).rowCount,
            updateTenant: (await c.query("update tenant set name = 'Owned' where id = $1", [b.uuid])).rowCount,
            deleteDevices: (await c.query('delete from device where tenant_id = $1', [b.uuid])).rowCount,
            deleteTenant: (await c.query('delete from tenant where id = $1', [b.uuid])).rowCount,
          }),
          { commit: true },
        ),
      );
      expect(counts).toEqual({ updateDevices: 0, updateTenant: 0, deleteDevices: 0, deleteTenant: 0 });
      expect(await deviceSnapshot(b.uuid)).toEqual(devicesBefore);
      expect(await server.sql('select * from tenant where id = $1', [b.uuid])).toEqual(tenantBefore);
    });

    it("sees, changes and adds only A's dashboard counters: B's rows are invisible, updates of them change 0 rows, inserts for B are refused with 42501", async () => {
      const classesOf = (tenant: string) =>
        server.sql('select * from tenant_device_class where tenant_id = $1 order by dna_license_id, hsec_license_id, dna_status, pending, not_applicable', [tenant]);
      const bClasses = await classesOf(b.uuid);
      expect(bClasses).toEqual([expect.objectContaining({ tenant_id: b.uuid, devices: 2 })]);
      const [{ n: aDevices }] = await server.sql<{ n: number }>('select count(*)::int as n from device where tenant_id = $1 and decommissioned_at is null', [a.uuid]);
      const seen = await asApp((c) =>
        scoped(
          c,
          scopeA(),
          async () => ({
            classes: (await c.query('select tenant_id, sum(devices)::int as devices from tenant_device_class group by tenant_id')).rows,
            updateB: (await c.query('update tenant_device_class set devices = devices + 100 where tenant_id = $1', [b.uuid])).rowCount,
            updateLinesB: (await c.query('update license_line_use set in_use = in_use + 100 where tenant_id = $1', [b.uuid])).rowCount,
            deleteB: (await c.query('delete from tenant_device_class where tenant_id = $1', [b.uuid])).rowCount,
          }),
          { commit: true },
        ),
      );
      expect(seen).toEqual({ classes: [{ tenant_id: a.uuid, devices: aDevices }], updateB: 0, updateLinesB: 0, deleteB: 0 });
      const insertClassB = await asApp((c) =>
        scoped(c, scopeA(), () =>
          sqlErrorCode(c.query('insert into tenant_device_class (tenant_id, pending, not_applicable, devices) values ($1, true, true, 1)', [b.uuid])),
        ),
      );
      const insertLineB = await asApp((c) =>
        scoped(c, scopeA(), () => sqlErrorCode(c.query('insert into license_line_use (tenant_id, license_id, in_use) values ($1, gen_random_uuid(), 1)', [b.uuid]))),
      );
      expect([insertClassB, insertLineB]).toEqual(['42501', '42501']);
      // A's own writes move only A's counters (the triggers run with A's rights).
      await registerDevices(server, server.token('TENANT_ADMIN', a.uuid), [deviceInput(90, { hostname: 'alpha-90.example' })]);
      expect(await classesOf(b.uuid)).toEqual(bClasses);
      expect(await server.sql('select sum(devices)::int as n from tenant_device_class where tenant_id = $1', [a.uuid])).toEqual([{ n: aDevices + 1 }]);
    });

    it("refuses moving one of A's own devices to tenant B with 42501", async () => {
      const code = await asApp((c) =>
        scoped(c, scopeA(), () =>
          sqlErrorCode(c.query("update device set tenant_id = $1 where tenant_id = $2 and hostname = 'alpha-1.example'", [b.uuid, a.uuid])),
        ),
      );
      expect(code).toBe('42501');
      expect(await server.sql("select tenant_id from device where hostname = 'alpha-1.example'")).toEqual([{ tenant_id: a.uuid }]);
    });
  });

  describe('catalog', () => {
    it('has row-level security enabled and forced on tenant and on every table with a tenant_id column', async () => {
      const tables = await tenantOwnedTables();
      const rows = await server.sql<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        `select relname, relrowsecurity, relforcerowsecurity from pg_class
          where relnamespace = 'public'::regnamespace and relname = any($1::text[]) order by relname`,
        [tables],
      );
      expect(rows).toEqual(tables.map((relname) => ({ relname, relrowsecurity: true, relforcerowsecurity: true })));
    });

    it('gives every tenant-owned table a policy that reads the request tenant (app_tenant_id())', async () => {
      const tables = await tenantOwnedTables();
      const rows = await server.sql<{ tablename: string }>(
        `select distinct tablename from pg_policies
          where schemaname = 'public'
            and (coalesce(qual, '') like '%app_tenant_id()%' or coalesce(with_check, '') like '%app_tenant_id()%')`,
      );
      const withPolicy = new Set(rows.map((r) => r.tablename));
      expect(tables.filter((t) => !withPolicy.has(t))).toEqual([]);
    });

    it('connects the app as a role that is not superuser, cannot bypass RLS, owns nothing in public and cannot become an owner', async () => {
      const role = await asApp(async (c) => {
        const { rows } = await c.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean; owned: number }>(
          `select r.rolname, r.rolsuper, r.rolbypassrls,
                  (select count(*)::int from pg_class c where c.relowner = r.oid and c.relnamespace = 'public'::regnamespace) as owned
             from pg_roles r where r.rolname = current_user`,
        );
        return rows[0];
      });
      expect(role).toEqual({ rolname: 'slm_app', rolsuper: false, rolbypassrls: false, owned: 0 });
      // Nor may it SET ROLE to (or inherit from) any role owning a table in public, or a superuser.
      const escalations = await server.sql<{ rolname: string }>(
        `select distinct o.rolname from pg_roles o
          where (o.oid in (select relowner from pg_class where relnamespace = 'public'::regnamespace) or o.rolsuper or o.rolbypassrls)
            and pg_has_role($1, o.oid, 'MEMBER')`,
        [role.rolname],
      );
      expect(escalations).toEqual([]);
    });

    it('has no view, materialized view or security-definer function in public that would read around RLS', async () => {
      const views = await server.sql<{ relname: string }>(
        `select relname from pg_class
          where relnamespace = 'public'::regnamespace
            and (relkind = 'm' or (relkind = 'v' and not coalesce(reloptions @> array['security_invoker=true'], false)))`,
      );
      expect(views).toEqual([]);
      const definers = await server.sql<{ proname: string }>(
        "select proname from pg_proc where pronamespace = 'public'::regnamespace and prosecdef",
      );
      expect(definers).toEqual([]);
    });
  });

  describe('pooled connections', () => {
    async function probe(c: pg.PoolClient | pg.Pool) {
      const { rows } = await c.query<{ pid: number; tenant: string | null; role: string | null; devices: number; tenants: number }>(
        `select pg_backend_pid() as pid,
                current_setting('app.tenant_id', true) as tenant,
                current_setting('app.role', true) as role,
                (select count(*)::int from device) as devices,
                (select count(*)::int from tenant) as tenants`,
      );
      return rows[0];
    }

    it("carries no tenant into the next transaction on the same connection, after commit, rollback or error", async () => {
      const single = new pg.Pool({ connectionString: server.db.appUrl, max: 1, application_name: TEST_APP_NAME });
      try {
        const [{ n: aDevices }] = await server.sql<{ n: number }>('select count(*)::int as n from device where tenant_id = $1', [a.uuid]);
        const endings = {
          commit: (c: pg.PoolClient) => c.query('commit'),
          rollback: (c: pg.PoolClient) => c.query('rollback'),
          error: async (c: pg.PoolClient) => {
            expect(await sqlErrorCode(c.query('select 1/0'))).toBe('22012');
            await c.query('rollback');
          },
        };
        for (const [ending, end] of Object.entries(endings)) {
          const c = await single.connect();
          try {
            await c.query('begin');
            await c.query("select set_config('app.tenant_id', $1, true), set_config('app.role', $2, true)", [a.uuid, 'TENANT_ADMIN']);
            const inside = await probe(c);
            expect(inside).toMatchObject({ tenant: a.uuid, role: 'TENANT_ADMIN', devices: aDevices, tenants: 1 });
            await end(c);
            await c.query('begin');
            const next = await probe(c);
            await c.query('commit');
            expect({ ending, pid: next.pid }).toEqual({ ending, pid: inside.pid });
            expect({ ending, tenant: next.tenant || null, role: next.role || null, devices: next.devices, tenants: next.tenants }).toEqual({
              ending,
              tenant: null,
              role: null,
              devices: 0,
              tenants: 0,
            });
          } finally {
            c.release();
          }
        }
      } finally {
        await single.end();
      }
    });

    it('keeps a transaction-local setting made outside a transaction only for that one statement', async () => {
      const single = new pg.Pool({ connectionString: server.db.appUrl, max: 1, application_name: TEST_APP_NAME });
      try {
        const set = await single.query<{ pid: number }>(
          "select pg_backend_pid() as pid, set_config('app.tenant_id', $1, true), set_config('app.role', 'PROVIDER_ADMIN', true)",
          [a.uuid],
        );
        const after = await probe(single);
        expect(after.pid).toBe(set.rows[0].pid);
        expect({ tenant: after.tenant || null, role: after.role || null, devices: after.devices }).toEqual({ tenant: null, role: null, devices: 0 });
      } finally {
        await single.end();
      }
    });

    it("leaves the app ORM's single pooled connection unscoped after a request-scoped transaction (db/scope.ts)", async () => {
      const orm = server.db.orm;
      const ctx: RequestContext = {
        viewer: createViewer('rls-test', Role.TENANT_ADMIN, a.uuid, Math.floor(Date.now() / 1000) + 60),
        em: orm.em.fork(),
        requestId: 'rls-test',
        log: createLogger('silent'),
        app: server.runtime,
        memo: new Map(),
      };
      const inside = await inScope(ctx, async (em) => {
        const [row] = await em.execute<{ pid: number; tenant: string; devices: number; foreign: number }[]>(
          `select pg_backend_pid() as pid, current_setting('app.tenant_id', true) as tenant,
                  (select count(*)::int from device) as devices,
                  (select count(*)::int from device where tenant_id <> ?::uuid) as foreign`,
          [a.uuid],
        );
        return row;
      });
      expect(inside.tenant).toBe(a.uuid);
      expect(inside.devices).toBeGreaterThan(0);
      expect(inside.foreign).toBe(0);
      const [after] = await orm.em.fork().execute<{ pid: number; tenant: string | null; devices: number }[]>(
        `select pg_backend_pid() as pid, current_setting('app.tenant_id', true) as tenant, (select count(*)::int from device) as devices`,
      );
      expect(after.pid).toBe(inside.pid);
      expect({ tenant: after.tenant || null, devices: after.devices }).toEqual({ tenant: null, devices: 0 });
    });

    describe('through the HTTP server with DATABASE_POOL_MAX=1', () => {
      const DEVICES = '{ devices(first: 100) { totalCount edges { node { hostname tenant { id } } } } }';
      interface DevicesData {
        devices: { totalCount: number; edges: { node: { hostname: string; tenant: { id: string } } }[] };
      }

      async function hostnamesOf(t: TenantFixture): Promise<string[]> {
        const rows = await server.sql<{ hostname: string }>('select hostname from device where tenant_id = $1 order by hostname, id', [t.uuid]);
        return rows.map((r) => r.hostname);
      }

      /** The request pool's connections (the alert bus keeps one more, LISTENing, outside the pool). */
      async function serverAppConnections(): Promise<number> {
        const [row] = await server.sql<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and usename = 'slm_app' and application_name <> all($1::text[])`,
          [[TEST_APP_NAME, 'slm-alert-listener']],
        );
        return row.n;
      }

      function tokenFor(t: TenantFixture, i: number): string {
        return server.token(i % 4 < 2 ? 'TENANT_ADMIN' : 'TENANT_OPERATOR', t.uuid, { sub: `user-${t.slug}-${i}` });
      }

      async function expectOwnDevices(t: TenantFixture, res: Awaited<ReturnType<typeof server.graphql<DevicesData>>>, expected: string[], i: number) {
        expect({ i, errors: res.body.errors }).toEqual({ i, errors: undefined });
        const conn = res.body.data!.devices;
        expect({ i, tenant: t.slug, hostnames: conn.edges.map((e) => e.node.hostname), totalCount: conn.totalCount }).toEqual({
          i,
          tenant: t.slug,
          hostnames: expected,
          totalCount: expected.length,
        });
        expect(conn.edges.every((e) => e.node.tenant.id === t.id)).toBe(true);
      }

      it('answers 20 alternating requests of tenants A and B, one after another, each with only its own devices', async () => {
        const expected = new Map([
          [a, await hostnamesOf(a)],
          [b, await hostnamesOf(b)],
        ]);
        for (let i = 0; i < 20; i++) {
          const t = i % 2 === 0 ? a : b;
          const res = await server.graphql<DevicesData>(DEVICES, {}, tokenFor(t, i));
          await expectOwnDevices(t, res, expected.get(t)!, i);
        }
        expect(await serverAppConnections()).toBeLessThanOrEqual(1);
      });

      it('answers 20 concurrent alternating requests of A and B, queued on one connection, each with only its own devices', async () => {
        const expected = new Map([
          [a, await hostnamesOf(a)],
          [b, await hostnamesOf(b)],
        ]);
        const tenants = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b));
        const results = await Promise.all(tenants.map((t, i) => server.graphql<DevicesData>(DEVICES, {}, tokenFor(t, i))));
        for (const [i, res] of results.entries()) await expectOwnDevices(tenants[i], res, expected.get(tenants[i])!, i);
        expect(await serverAppConnections()).toBeLessThanOrEqual(1);
      });

      it('writes each tenant\'s concurrent registrations to that tenant only, with the same uuids in both', async () => {
        const writes = Array.from({ length: 10 }, (_, i) => {
          const t = i % 2 === 0 ? a : b;
          const n = Math.floor(i / 2);
          const device = deviceInput(500 + n, { uuid: `POOL-${n}`, hostname: `pool-${t.slug}-${n}.example` });
          return server.graphql(REGISTER_DEVICES, { input: { devices: [device] } }, server.token('TENANT_ADMIN', t.uuid));
        });
        const results = await Promise.all(writes);
        expect(results.flatMap((r) => r.body.errors ?? [])).toEqual([]);
        const rows = await server.sql<{ tenant_id: string; uuid: string; hostname: string }>(
          "select tenant_id, uuid, hostname from device where uuid like 'POOL-%' order by hostname",
        );
        expect(rows).toHaveLength(10);
        for (const row of rows) {
          const owner = row.tenant_id === a.uuid ? a : b;
          expect(row.hostname).toBe(`pool-${owner.slug}-${row.uuid.slice('POOL-'.length)}.example`);
        }
        expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set([a.uuid, b.uuid]));
      });
    });
  });
});
