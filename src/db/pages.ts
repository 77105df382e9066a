import type { RequestContext } from '../common/context';
import { decodeCursor, pageSize, toConnection, type Connection, type CursorSpec } from '../common/relay';
import { inScope } from './scope';
import { sql } from './sql';

export interface NewestFirstQuery<R extends { id: string }, T> {
  /** `select <columns> from <table> <alias>`; the columns must include `id`. */
  from: string;
  columns: string;
  /** Timestamp column of the alias, e.g. `u.generated_at`; `timeOf` reads it back as ISO text. */
  timeColumn: string;
  idColumn: string;
  tenantColumn: string;
  /** Tenant to scope to, or null for the provider-wide view. */
  tenantId: string | null;
  cursor: CursorSpec;
  first?: number | null;
  after?: string | null;
  timeOf: (row: R) => string;
  toNode: (row: R) => T;
}

/** A newest-first keyset page (timestamp, id) with totalCount, for audit-like lists. */
export async function newestFirstPage<R extends { id: string }, T>(ctx: RequestContext, q: NewestFirstQuery<R, T>): Promise<Connection<T>> {
  const limit = pageSize(q.first);
  const after = decodeCursor(q.after, q.cursor);
  const scope = q.tenantId ? `${q.tenantColumn} = ?` : 'true';
  const scopeParams = q.tenantId ? [q.tenantId] : [];
  const page = after ? ` and (${q.timeColumn}, ${q.idColumn}) < (?::timestamptz, ?::uuid)` : '';
  return inScope(ctx, async (em) => {
    const rows = await sql<R>(
      em,
      `select ${q.columns} from ${q.from} where ${scope}${page} order by ${q.timeColumn} desc, ${q.idColumn} desc limit ?`,
      [...scopeParams, ...(after ? [after[0], after[1]] : []), limit + 1],
    );
    const [{ n }] = await sql<{ n: number }>(em, `select count(*)::int as n from ${q.from} where ${scope}`, scopeParams);
    return toConnection(rows, limit, n, q.cursor, (r) => [q.timeOf(r), r.id], q.toNode);
  });
}
