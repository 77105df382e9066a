import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Raw, set-based SQL inside a scoped transaction (db/scope.ts). Placeholders are `?`. Arrays are
 * passed with `pgArray` (or as JSON) because the query builder would expand a JS array into a list.
 */
export function sql<R>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<R[]> {
  return em.execute<R[]>(text, [...params]);
}

/** Rows and the number of rows the statement affected (for writes that return nothing). */
export interface BulkResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * Like `sql`, for statements that carry large parameters (a 10,000-element id list, a JSON
 * document): the parameters travel as bind parameters of the extended protocol instead of being
 * escaped character by character into the statement text, which is what `em.execute` does (measured:
 * about 20 ms and a few megabytes of garbage per 10,000 ids, per statement). Same `?` placeholders
 * and the same driver exceptions as `sql`. Parameters are strings, numbers, booleans or null, each
 * sent untyped like a quoted literal, so write the cast (`?::uuid[]`, `?::int`) where the type is
 * not clear from its use.
 */
export async function bulkSql<R>(em: EntityManager, text: string, params: readonly (string | number | boolean | null)[]): Promise<BulkResult<R>> {
  const query = em.getKnex().raw(text, [...params]);
  const trx = em.getTransactionContext();
  if (trx) query.transacting(trx);
  try {
    const res = (await query) as { rows: R[]; rowCount: number | null };
    return { rows: res.rows, rowCount: res.rowCount ?? 0 };
  } catch (err) {
    throw em.getDriver().convertException(err as Error);
  }
}

/** A PostgreSQL array literal of uuids or plain identifiers, to bind as `?::uuid[]` / `?::text[]`. */
export function pgArray(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  // Fast path for the usual case (ids): nothing to escape, so one join (8x faster on 10,000 ids).
  if (!/["\\]/.test(values.join(''))) return `{"${values.join('","')}"}`;
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
