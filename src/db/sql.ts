import type { EntityManager } from '@mikro-orm/postgresql';

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
