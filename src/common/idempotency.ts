import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { bulkSql, sql } from '../db/sql';
import { badInput, conflict } from './errors';

const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** JSON with object keys sorted, so equal requests hash equally whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Runs `run` at most once per (tenant, operation, key) inside the caller's transaction. A retry with
 * the same key and the same request gets the first result (as stored JSON) and changes nothing; the
 * same key with a different request is CONFLICT. Two concurrent calls with one key serialize on the
 * key's row: the second waits for the first to commit, then replays its result.
 */
export async function withIdempotency<R>(
  em: EntityManager,
  opts: { tenantId: string; operation: string; key: string | null | undefined; request: unknown },
  run: () => Promise<R>,
): Promise<{ result: R; replayed: boolean }> {
  if (opts.key === undefined || opts.key === null) return { result: await run(), replayed: false };
  if (!KEY_RE.test(opts.key)) {
    throw badInput('idempotencyKey must be 1 to 200 printable ASCII characters without spaces', { argumentName: 'idempotencyKey' });
  }
  const hash = createHash('sha256').update(canonical(opts.request)).digest('hex');
  const claimed = await sql<{ key: string }>(
    em,
    `insert into idempotency_key (tenant_id, operation, key, request_hash) values (?, ?, ?, ?)
     on conflict do nothing returning key`,
    [opts.tenantId, opts.operation, opts.key, hash],
  );
  if (claimed.length === 0) {
    const [previous] = await sql<{ request_hash: string; response: R }>(
      em,
      'select request_hash, response from idempotency_key where tenant_id = ? and operation = ? and key = ?',
      [opts.tenantId, opts.operation, opts.key],
    );
    if (previous.request_hash !== hash) {
      throw conflict(`idempotencyKey ${JSON.stringify(opts.key)} was already used for a different ${opts.operation} request`, {
        argumentName: 'idempotencyKey',
      });
    }
    return { result: previous.response, replayed: true };
  }
  const result = await run();
  // Bound, not inlined: the stored result may be megabytes (10,000 assignments).
  await bulkSql(em, 'update idempotency_key set response = ?::jsonb where tenant_id = ? and operation = ? and key = ?', [
    JSON.stringify(result),
    opts.tenantId,
    opts.operation,
    opts.key,
  ]);
  return { result, replayed: false };
}
