import pg from 'pg';

/**
 * Runs `fn` while holding a PostgreSQL session advisory lock on a connection of its own, so work that
 * every instance (or worker) does at start-up runs one at a time across all of them. The lock ends
 * with its connection if this process dies.
 */
export async function withAdvisoryLock<T>(url: string, key: number, fn: () => Promise<T>): Promise<T> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [key]);
    return await fn();
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [key]).catch(() => undefined);
    await lock.end();
  }
}
