import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import type { NodeTypeName } from '../../common/global-id';
import { parseIdArg } from '../../common/global-id';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../../common/relay';
import { inScope } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { resolveTenantScope } from '../tenants/tenant.service';
import { AuditEvent, type AuditEventRow } from './audit.types';

const CURSOR: CursorSpec = { list: 'auditEvents', shape: ['string', 'uuid'] };

export interface AuditRecord {
  /** Null for provider-wide changes (sync settings). */
  tenantId: string | null;
  action: string;
  targetType: NodeTypeName;
  targetIds: readonly string[];
  details?: Record<string, unknown>;
}

/**
 * Writes one audit event inside the caller's transaction, so the event exists exactly when the
 * change does. One statement however many targets.
 */
export async function recordAudit(ctx: RequestContext, em: EntityManager, event: AuditRecord): Promise<void> {
  await sql(
    em,
    `insert into audit_event (tenant_id, actor_subject, actor_role, action, target_type, target_ids, details)
     values (?, ?, ?, ?, ?, ?::uuid[], ?::jsonb)`,
    [
      event.tenantId,
      ctx.viewer.subject,
      ctx.viewer.role,
      event.action,
      event.targetType,
      pgArray(event.targetIds),
      JSON.stringify(event.details ?? {}),
    ],
  );
}

const COLUMNS = `id, tenant_id, actor_subject, actor_role, action, target_type, target_ids, details,
  to_json(created_at) #>> '{}' as created_at`;

/** Newest first. Tenant users see their tenant's events; providers one tenant or all. */
export async function listAuditEvents(
  ctx: RequestContext,
  args: { tenantId?: string | null; first?: number | null; after?: string | null },
): Promise<Connection<AuditEvent>> {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, CURSOR);
  const tenantId = await resolveTenantScope(ctx, args.tenantId);
  const where: string[] = [];
  const params: unknown[] = [];
  if (tenantId) {
    where.push('tenant_id = ?');
    params.push(tenantId);
  }
  const countWhere = where.length ? `where ${where.join(' and ')}` : '';
  const countParams = [...params];
  if (after) {
    where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
    params.push(after[0], after[1]);
  }
  return inScope(ctx, async (em) => {
    const rows = await sql<AuditEventRow>(
      em,
      `select ${COLUMNS} from audit_event ${where.length ? `where ${where.join(' and ')}` : ''}
        order by created_at desc, id desc limit ?`,
      [...params, limit + 1],
    );
    const [{ n }] = await sql<{ n: number }>(em, `select count(*)::int as n from audit_event ${countWhere}`, countParams);
    return toConnection(rows, limit, n, CURSOR, (r) => [r.created_at, r.id], AuditEvent.from);
  });
}

export async function findAuditEvent(ctx: RequestContext, idArg: string): Promise<AuditEvent | null> {
  const id = parseIdArg(idArg, 'AuditEvent', 'id');
  const tenantId = await resolveTenantScope(ctx, undefined);
  const rows = await inScope(ctx, (em) =>
    sql<AuditEventRow>(em, `select ${COLUMNS} from audit_event where id = ? ${tenantId ? 'and tenant_id = ?' : ''}`, [
      id,
      ...(tenantId ? [tenantId] : []),
    ]),
  );
  return rows[0] ? AuditEvent.from(rows[0]) : null;
}
