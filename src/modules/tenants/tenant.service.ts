import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { isProvider } from '../../auth/viewer';
import { InvariantError } from '../../common/errors';
import type { RequestContext } from '../../common/context';
import { loadById } from '../../common/loaders';
import { fromGlobalId, parseIdArg } from '../../common/global-id';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { requireProviderWide } from '../../common/system-context';
import { inScope } from '../../db/scope';
import { TenantEntity } from './tenant.entity';
import { TenantStatus } from './tenant.enums';
import { invalidName, invalidSlug, slugTaken, tenantNotFound, tenantRequired } from './tenant.errors';
import { Tenant, type CreateTenantInput } from './tenant.types';

const CURSOR: CursorSpec = { list: 'tenants', shape: ['string'] };

const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOADER = Symbol('tenant-loader');

export async function createTenant(ctx: RequestContext, input: CreateTenantInput): Promise<Tenant> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw invalidName();
  if (!SLUG_RE.test(input.slug)) throw invalidSlug(input.slug);
  try {
    return await inScope(ctx, async (em) => {
      const now = new Date();
      const row = em.create(TenantEntity, {
        id: randomUUID(), name, slug: input.slug, createdAt: now, updatedAt: now, status: TenantStatus.ACTIVE, suspendedAt: null, suspendedBy: null,
      });
      await em.flush();
      ctx.log.info({ tenantId: row.id, slug: row.slug }, 'tenant created');
      return Tenant.from(row);
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw slugTaken(input.slug);
    throw err;
  }
}

export async function listTenants(
  ctx: RequestContext,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<Tenant>> {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, CURSOR);
  return inScope(ctx, async (em) => {
    // Row-level security already limits a tenant viewer to its own row; the explicit filter is the
    // first wall and keeps the query plan on the primary key.
    const scope = isProvider(ctx.viewer) ? {} : { id: ctx.viewer.tenantId as string };
    const rows = await em.find(
      TenantEntity,
      { ...scope, ...(after ? { slug: { $gt: String(after[0]) } } : {}) },
      { orderBy: { slug: 'asc' }, limit: limit + 1 },
    );
    const totalCount = await em.count(TenantEntity, scope);
    return toConnection(rows, limit, totalCount, CURSOR, (r) => [r.slug], Tenant.from);
  });
}

/** A tenant visible to the viewer, or null: another tenant's id looks exactly like a missing one. */
export function loadTenant(ctx: RequestContext, uuid: string): Promise<Tenant | null> {
  // First wall: a tenant viewer may only ever load its own row (RLS is the second).
  if (!isProvider(ctx.viewer) && uuid !== ctx.viewer.tenantId) return Promise.resolve(null);
  return loadById(
    ctx,
    LOADER,
    uuid,
    (ids) => inScope(ctx, (em) => em.find(TenantEntity, { id: { $in: [...ids] } })),
    (r) => r.id,
    Tenant.from,
  );
}

export async function getTenant(ctx: RequestContext, idArg: string): Promise<Tenant | null> {
  return loadTenant(ctx, parseIdArg(idArg, 'Tenant', 'id'));
}

/**
 * The tenant an operation with an optional `tenantId` argument acts on.
 * Tenant roles: their own tenant; any other id is NOT_FOUND, worded as for an id that does not exist.
 * Provider roles: the named tenant (NOT_FOUND if missing), or null for the provider-wide view.
 */
export async function resolveTenantScope(ctx: RequestContext, tenantIdArg: string | null | undefined): Promise<string | null> {
  const { viewer } = ctx;
  if (tenantIdArg === undefined || tenantIdArg === null) {
    return isProvider(viewer) ? null : (viewer.tenantId as string);
  }
  const wanted = parseIdArg(tenantIdArg, 'Tenant', 'tenantId');
  if (!isProvider(viewer)) {
    if (wanted !== viewer.tenantId) throw tenantNotFound(tenantIdArg);
    return wanted;
  }
  if (!(await loadTenant(ctx, wanted))) throw tenantNotFound(tenantIdArg);
  return wanted;
}

/**
 * Like resolveTenantScope, for writes: a provider must name the tenant, and the tenant must exist
 * (a token may outlive its tenant; that is NOT_FOUND, not a foreign-key failure).
 */
export async function requireTenantScope(ctx: RequestContext, tenantIdArg: string | null | undefined): Promise<string> {
  const tenantId = await resolveTenantScope(ctx, tenantIdArg);
  if (tenantId === null) throw tenantRequired();
  if (!isProvider(ctx.viewer) && !(await loadTenant(ctx, tenantId))) throw tenantNotFound(tenantIdArg ?? tenantId);
  return tenantId;
}

/** The tenant of a row the viewer can already see; its absence is a broken invariant, not NOT_FOUND. */
export async function requireTenant(ctx: RequestContext, uuid: string): Promise<Tenant> {
  const tenant = await loadTenant(ctx, uuid);
  if (!tenant) throw new InvariantError(`tenant ${uuid} of a visible row is not visible`);
  return tenant;
}

/**
 * The uuid of the tenant a token's tenant claim names (JWT_TENANT_CLAIM): its uuid, its global id or
 * its slug; null when there is none. Runs before any viewer exists, so `ctx` is the server's own
 * provider-scoped context (the lookup must see every tenant).
 */
export async function tenantIdByReference(ctx: RequestContext, reference: string): Promise<string | null> {
  const globalId = fromGlobalId(reference);
  const where = UUID_RE.test(reference)
    ? { id: reference.toLowerCase() }
    : globalId?.type === 'Tenant'
      ? { id: globalId.id }
      : SLUG_RE.test(reference)
        ? { slug: reference }
        : undefined;
  if (!where) return null;
  const row = await inScope(ctx, (em) => em.findOne(TenantEntity, where, { fields: ['id'] }));
  return row?.id ?? null;
}

/** Every suspended tenant's uuid (the instance's tenant-status watch loads these): provider scope only. */
export async function suspendedTenantIds(ctx: RequestContext): Promise<string[]> {
  requireProviderWide(ctx, 'suspended tenants');
  const rows = await inScope(ctx, (em) => em.find(TenantEntity, { status: TenantStatus.SUSPENDED }, { fields: ['id'] }));
  return rows.map((r) => r.id);
}

/** Whether scheduled work may run for the tenant now: it exists and is not suspended. */
export async function tenantIsActive(ctx: RequestContext, uuid: string): Promise<boolean> {
  const row = await inScope(ctx, (em) => em.findOne(TenantEntity, { id: uuid }, { fields: ['status'] }));
  return row?.status === TenantStatus.ACTIVE;
}
