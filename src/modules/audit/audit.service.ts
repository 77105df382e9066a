import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import type { NodeTypeName } from '../../common/global-id';
import { parseIdArg } from '../../common/global-id';
import type { Connection, CursorSpec } from '../../common/relay';
import { newestFirstPage } from '../../db/pages';
import { inScope } from '../../db/scope';
import { bulkSql, pgArray, sql } from '../../db/sql';
import { resolveTenantScope } from '../tenants/tenant.service';
import { AuditEvent, type AuditEventRow } from './audit.types';

const CURSOR: CursorSpec = { list: 'auditEvents', shape: ['timestamp', 'uuid'] };

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
 * change does. One statement however many targets. Returns the event's id.
 */
export async function recordAudit(ctx: RequestContext, em: EntityManager, event: AuditRecord): Promise<string> {
  // Bound, not inlined: targetIds may hold 10,000 ids (a bulk assignment).
  const { rows } = await bulkSql<{ id: string }>(
    em,
    `insert into audit_event (tenant_id, actor_subject, actor_role, action, target_type, target_ids, details)
     values (?, ?, ?, ?, ?, ?::uuid[], ?::jsonb) returning id`,
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
  return rows[0].id;
}

const COLUMNS = `a.id, a.tenant_id, a.actor_subject, a.actor_role, a.action, a.target_type, a.target_ids, a.details,
  to_json(a.created_at) #>> '{}' as created_at`;

/** Newest first. Tenant users see their tenant's events; providers one tenant or all (and provider-wide events). */
export async function listAuditEvents(
  ctx: RequestContext,
  args: { tenantId?: string | null; first?: number | null; after?: string | null },
): Promise<Connection<AuditEvent>> {
  return newestFirstPage(ctx, {
    from: 'audit_event a',
    columns: COLUMNS,
    timeColumn: 'a.created_at',
    idColumn: 'a.id',
    tenantColumn: 'a.tenant_id',
    tenantId: await resolveTenantScope(ctx, args.tenantId),
    cursor: CURSOR,
    first: args.first,
    after: args.after,
    timeOf: (r: AuditEventRow) => r.created_at,
    toNode: AuditEvent.from,
  });
}

export async function findAuditEvent(ctx: RequestContext, idArg: string): Promise<AuditEvent | null> {
  const id = parseIdArg(idArg, 'AuditEvent', 'id');
  const tenantId = await resolveTenantScope(ctx, undefined);
  const rows = await inScope(ctx, (em) =>
    sql<AuditEventRow>(em, `select ${COLUMNS} from audit_event a where a.id = ? ${tenantId ? 'and a.tenant_id = ?' : ''}`, [
      id,
      ...(tenantId ? [tenantId] : []),
    ]),
  );
  return rows[0] ? AuditEvent.from(rows[0]) : null;
}
