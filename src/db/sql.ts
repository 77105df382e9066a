import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';

/**
 * Raw, set-based SQL inside a scoped transaction (db/scope.ts). Placeholders are `?`. Arrays are
 * passed with `pgArray` (or as JSON) because the query builder would expand a JS array into a list.
 */
export function sql<R>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<R[]> {
  return em.execute<R[]>(text, [...params]);
}

/** A PostgreSQL array literal of uuids or plain identifiers, to bind as `?::uuid[]` / `?::text[]`. */
export function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

const statementNames = new Map<string, string>();

/** `?` placeholders to PostgreSQL's `$n` (the texts given to `prepared` have no `?` inside literals). */
function toNumbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * Like `sql`, for the hot read paths (a page and the batches its fields load): inside a
 * transaction the statement runs as a named prepared statement on the transaction's connection,
 * so PostgreSQL parses and plans it once per connection instead of on every request. Outside a
 * transaction it is plain `sql`. The text must be fixed per call site (parameters carry values).
 */
export async function prepared<R>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<R[]> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (!trx) return sql<R>(em, text, params);
  let name = statementNames.get(text);
  if (!name) {
    name = `slm_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    statementNames.set(text, name);
  }
  const connection = (await trx.client.acquireConnection()) as pg.ClientBase;
  const result = await connection.query<R & pg.QueryResultRow>({ name, text: toNumbered(text), values: [...params] });
  return result.rows;
}
