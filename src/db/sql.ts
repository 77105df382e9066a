import type { Knex } from '@mikro-orm/knex';
import type { EntityManager } from '@mikro-orm/postgresql';
import { InvariantError } from '../common/errors';

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

/**
 * `sql` whose parameters reach PostgreSQL as bind parameters of the driver. `sql` (MikroORM's
 * `execute`) formats parameters into the statement text, which hex-encodes a bytea into a literal
 * twice its size for the server to parse again: this is for large binary values (file chunks). Runs
 * in the caller's transaction (db/scope.ts), like `sql`; errors are the driver's, not MikroORM's.
 */
export async function sqlBound<R>(em: EntityManager, text: string, params: readonly unknown[]): Promise<R[]> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new InvariantError('sqlBound runs only inside a scoped transaction (db/scope.ts)');
  const result = (await trx.raw(text, [...params] as Knex.RawBinding[])) as { rows: R[] };
  return result.rows;
}
