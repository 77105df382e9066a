import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import { parseIdArg, toGlobalId } from '../../common/global-id';
import { inScope } from '../../db/scope';
import { bulkSql, sql } from '../../db/sql';
import { recordAudit } from '../audit/audit.service';
import { TenantEntity } from './tenant.entity';
import { TenantStatus } from './tenant.enums';
import { invalidName, slugNotConfirmed, tenantNotFound, tenantNotSuspended, unreportedUsage } from './tenant.errors';
import { DeleteTenantPayload, RemovedRows, Tenant, type DeleteTenantInput, type UpdateTenantInput } from './tenant.types';

/**
 * What a provider admin does with a tenant after creating it: rename, suspend, resume, delete.
 * Each runs in one transaction with its audit event; suspension, resumption and deletion also
 * announce the tenant's new status to every instance (events/tenant-status.ts), delivered on commit.
 */

/** The tenant row, locked for the rest of the transaction; NOT_FOUND worded with the id as given. */
async function lockTenant(em: EntityManager, uuid: string, idArg: string): Promise<TenantEntity> {
  const row = await em.findOne(TenantEntity, { id: uuid }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!row) throw tenantNotFound(idArg);
  return row;
}

export async function updateTenant(ctx: RequestContext, input: UpdateTenantInput): Promise<Tenant> {
  const uuid = parseIdArg(input.id, 'Tenant', 'id');
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw invalidName();
  return inScope(ctx, async (em) => {
    const row = await lockTenant(em, uuid, input.id);
    const previous = row.name;
    if (previous !== name) {
      row.name = name;
      await em.flush();
      await recordAudit(ctx, em, {
        tenantId: uuid,
        action: 'tenants.renamed',
        targetType: 'Tenant',
        targetIds: [uuid],
        details: { from: previous, to: name },
      });
    }
    return Tenant.from(row);
  });
}

/**
 * Suspends a tenant: from the commit on, its users' requests and WebSocket connections are refused
 * with TENANT_SUSPENDED on every instance and its scheduled syncs pause. Suspending a suspended
 * tenant changes nothing (no second audit event; `suspendedAt` keeps the first time).
 */
export async function suspendTenant(ctx: RequestContext, idArg: string): Promise<Tenant> {
  return setStatus(ctx, idArg, TenantStatus.SUSPENDED);
}

/** Resumes a suspended tenant; resuming an active one changes nothing. */
export async function resumeTenant(ctx: RequestContext, idArg: string): Promise<Tenant> {
  return setStatus(ctx, idArg, TenantStatus.ACTIVE);
}

async function setStatus(ctx: RequestContext, idArg: string, status: TenantStatus): Promise<Tenant> {
  const uuid = parseIdArg(idArg, 'Tenant', 'id');
  return inScope(ctx, async (em) => {
    const row = await lockTenant(em, uuid, idArg);
    if (row.status === status) return Tenant.from(row);
    const suspending = status === TenantStatus.SUSPENDED;
    row.status = status;
    row.suspendedAt = suspending ? ctx.app.clock.now() : null;
    row.suspendedBy = suspending ? ctx.viewer.subject : null;
    await em.flush();
    await recordAudit(ctx, em, {
      tenantId: uuid,
      action: suspending ? 'tenants.suspended' : 'tenants.resumed',
      targetType: 'Tenant',
      targetIds: [uuid],
      details: { slug: row.slug },
    });
    await ctx.app.tenantStatus.announce(em, { tenantId: uuid, status });
    ctx.log.info({ tenantId: uuid, slug: row.slug, status }, suspending ? 'tenant suspended' : 'tenant resumed');
    return Tenant.from(row);
  });
}

interface CatalogTable {
  /** The table's name, quoted for use in SQL. */
  ident: string;
  name: string;
}

/**
 * Every tenant-owned table (a table of this schema with a `tenant_id` column, `tenant` itself
 * excepted), read from the catalog at run time so a table added by a later migration is covered
 * without a change here; ordered so that a table comes before every tenant-owned table it references
 * (children first), so no delete waits on a foreign key to rows not yet removed.
 */
async function tenantOwnedTables(em: EntityManager): Promise<CatalogTable[]> {
  const tables = await sql<{ name: string; ident: string }>(
    em,
    `select c.relname as name, format('%I', c.relname) as ident
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
      where c.relkind in ('r', 'p') and c.relname <> 'tenant'
      order by c.relname`,
  );
  const edges = await sql<{ child: string; parent: string }>(
    em,
    `select ch.relname as child, pa.relname as parent
       from pg_constraint k
       join pg_class ch on ch.oid = k.conrelid
       join pg_class pa on pa.oid = k.confrelid
      where k.contype = 'f' and k.connamespace = (select oid from pg_namespace where nspname = current_schema())
        and k.conrelid <> k.confrelid`,
  );
  const names = new Set(tables.map((t) => t.name));
  const referencedBy = new Map<string, Set<string>>(tables.map((t) => [t.name, new Set<string>()]));
  for (const e of edges) if (names.has(e.child) && names.has(e.parent)) referencedBy.get(e.parent)?.add(e.child);
  // Depth-first: a table is placed once every table that references it has been placed.
  const ordered: CatalogTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(tables.map((t) => [t.name, t]));
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new InvariantError(`tenant-owned tables reference each other in a cycle through ${name}`);
    state.set(name, 'visiting');
    for (const child of [...(referencedBy.get(name) ?? [])].sort()) visit(child);
    state.set(name, 'done');
    ordered.push(byName.get(name) as CatalogTable);
  };
  for (const t of tables) visit(t.name);
  return ordered;
}

/** Rows of the tenant in each table, in one statement (the tables' tenant-leading indexes answer it). */
async function countRows(em: EntityManager, tables: readonly CatalogTable[], uuid: string): Promise<Map<string, number>> {
  if (tables.length === 0) return new Map();
  const rows = await sql<{ name: string; n: number }>(
    em,
    tables.map((t) => `select '${t.name}' as name, count(*)::int as n from ${t.ident} where tenant_id = ?`).join('\nunion all\n'),
    tables.map(() => uuid),
  );
  return new Map(rows.map((r) => [r.name, r.n]));
}

/**
 * Usage that was never reported: devices whose license assignments changed (assigned or released)
 * after the end of the last acknowledged usage report, or, with no acknowledged report at all, that
 * ever held one. Generated but unacknowledged reports do not count as reported (the license server
 * requires its acknowledgement), as for the reporting clock's REPORT_DUE alert.
 */
async function unreportedDevices(em: EntityManager, uuid: string): Promise<{ devices: number; reportedUntil: string | null }> {
  const [row] = await sql<{ devices: number; reported_until: string | null }>(
    em,
    `with r as (select max(period_end) as reported_until from usage_report where tenant_id = ? and status = 'ACKNOWLEDGED')
     select (select count(distinct a.device_id)::int from assignment a
              where a.tenant_id = ?
                and (r.reported_until is null or a.assigned_at > r.reported_until or a.released_at > r.reported_until)) as devices,
            to_json(r.reported_until) #>> '{}' as reported_until
       from r`,
    [uuid, uuid],
  );
  return { devices: row.devices, reportedUntil: row.reported_until };
}

/**
 * Deletes a suspended tenant and every row it owns, in one transaction: each tenant-owned table
 * (from the catalog) with one set-based DELETE, children first, then the tenant row itself, whose
 * foreign keys cascade to what row-level security keeps the application from deleting directly (the
 * tenant's audit history). Before committing it checks that no tenant-owned table keeps a row of the
 * tenant (a table added later that neither is deletable nor cascades fails the deletion, rather than
 * leaving orphans). A provider-level audit event (no tenant, so it outlives the tenant) records who
 * deleted what. Its smart account id is free for another tenant afterwards.
 */
export async function deleteTenant(ctx: RequestContext, input: DeleteTenantInput): Promise<DeleteTenantPayload> {
  const uuid = parseIdArg(input.id, 'Tenant', 'id');
  return inScope(ctx, async (em) => {
    const row = await lockTenant(em, uuid, input.id);
    if (input.confirmSlug !== row.slug) throw slugNotConfirmed(input.confirmSlug, row.slug);
    if (row.status !== TenantStatus.SUSPENDED) throw tenantNotSuspended(row.slug);
    const usage = await unreportedDevices(em, uuid);
    if (usage.devices > 0 && !input.force) throw unreportedUsage(row.slug, usage.devices, usage.reportedUntil);

    const startedAt = performance.now();
    // The dashboard counters' triggers leave this tenant alone for the rest of the transaction:
    // they would maintain counters about to be deleted, and rows they add back would be reported as
    // removed (migration 20261205000000). Transaction-local, like the request's scope.
    await sql(em, `select set_config('app.counters_skip_tenant', ?, true)`, [uuid]);
    const tables = await tenantOwnedTables(em);
    const removed = new Map<string, number>();
    for (const t of tables) {
      const { rowCount } = await bulkSql(em, `delete from ${t.ident} where tenant_id = ?`, [uuid]);
      if (rowCount > 0) removed.set(t.name, rowCount);
    }
    // What row-level security kept (audit history is not deletable by the application) goes with
    // the tenant row through its foreign keys' ON DELETE CASCADE.
    for (const [name, n] of await countRows(em, tables, uuid)) if (n > 0) removed.set(name, (removed.get(name) ?? 0) + n);
    const { rowCount: tenantRows } = await bulkSql(em, 'delete from tenant where id = ?', [uuid]);
    if (tenantRows !== 1) throw new InvariantError(`tenant ${uuid} was locked but its row could not be deleted`);
    const left = [...(await countRows(em, tables, uuid))].filter(([, n]) => n > 0);
    if (left.length > 0) {
      throw new InvariantError(`deleting tenant ${uuid} left rows in ${left.map(([name, n]) => `${name} (${n})`).join(', ')}`);
    }

    const removedRows = [...removed].sort(([a], [b]) => a.localeCompare(b)).map(([table, rows]) => Object.assign(new RemovedRows(), { table, rows }));
    const removedTotal = removedRows.reduce((n, r) => n + r.rows, 0) + 1;
    const auditEventId = await recordAudit(ctx, em, {
      tenantId: null,
      action: 'tenants.deleted',
      targetType: 'Tenant',
      targetIds: [uuid],
      details: {
        tenantId: toGlobalId('Tenant', uuid),
        uuid,
        slug: row.slug,
        name: row.name,
        createdAt: row.createdAt.toISOString(),
        suspendedAt: row.suspendedAt?.toISOString() ?? null,
        forced: input.force,
        unreportedDevices: usage.devices,
        removed: Object.fromEntries(removed),
        removedTotal,
      },
    });
    await ctx.app.tenantStatus.announce(em, { tenantId: uuid, status: 'DELETED' });
    ctx.log.info(
      { tenantId: uuid, slug: row.slug, removedTotal, forced: input.force, ms: Math.round(performance.now() - startedAt) },
      'tenant deleted',
    );
    return Object.assign(new DeleteTenantPayload(), {
      id: toGlobalId('Tenant', uuid),
      uuid,
      slug: row.slug,
      name: row.name,
      removed: removedRows,
      removedTotal,
      unreportedDevices: usage.devices,
      auditEventId: toGlobalId('AuditEvent', auditEventId),
    });
  });
}
