import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { isProviderRole } from '../auth/roles';
import type { RequestContext } from '../common/context';
import { AppError, InvariantError, tenantSuspended } from '../common/errors';

/**
 * Sets app.tenant_id, app.role and app.now for the transaction, and refuses a tenant viewer whose
 * tenant is suspended (migrations/Migration20261204120000TenantLifecycle.ts): one statement, as before.
 */
const SCOPE_SQL = 'select app_begin_scope(?, ?, ?)';
/** SQLSTATE app_begin_scope raises for a suspended tenant. */
const TENANT_SUSPENDED_SQLSTATE = 'SLM01';

/** The scope statement's refusal of a suspended tenant, as the client's TENANT_SUSPENDED error. */
function suspendedOr(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code === TENANT_SUSPENDED_SQLSTATE ? tenantSuspended() : err;
}

function scopeParams(ctx: RequestContext): string[] {
  const { viewer } = ctx;
  if (!isProviderRole(viewer.role) && !viewer.tenantId) {
    throw new InvariantError(`viewer ${viewer.subject} has tenant role ${viewer.role} but no tenant`);
  }
  return [viewer.tenantId ?? '', viewer.role, ctx.app.clock.pinnedForSql()];
}

/**
 * Runs `fn` in a transaction whose first statement tells PostgreSQL row-level security who is
 * asking. `set_config(..., true)` is transaction-local: the settings vanish at commit or rollback,
 * so a pooled connection never carries one request's tenant into the next.
 *
 * Inside a GraphQL query operation every call shares the request's one transaction (RequestScope),
 * so a page and the batches its fields load cost one BEGIN and one COMMIT, not one per batch.
 * Mutations, subscriptions and background work get a transaction per call, as before.
 */
export async function inScope<T>(ctx: RequestContext, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  const params = scopeParams(ctx);
  try {
    if (ctx.scope?.usable) return await ctx.scope.run(fn);
    return await ctx.em.transactional(async (em) => {
      try {
        await em.execute(SCOPE_SQL, params, 'get');
      } catch (err) {
        throw suspendedOr(err);
      }
      return fn(em);
    });
  } catch (err) {
    if (!isStatementTimeout(err)) throw err;
    // Logged here with the statement (the client sees none of it); answered with a code of its own.
    ctx.log.warn({ err, requestId: ctx.requestId }, 'statement timeout');
    throw statementTimeout();
  }
}

/**
 * PostgreSQL cancelled a statement because it ran past STATEMENT_TIMEOUT_MS: SQLSTATE 57014 with the
 * timeout's own message (a cancel for another reason, e.g. pg_cancel_backend at shutdown, is not this).
 */
export function isStatementTimeout(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === '57014' && typeof message === 'string' && message.includes('statement timeout')) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Neither the client's fault nor a bug as such: its own code, so a client can retry later or ask for
 * less. The transaction the statement ran in was rolled back, so that transaction changed nothing.
 */
const statementTimeout = (): AppError =>
  new AppError(
    'STATEMENT_TIMEOUT',
    'a database statement of this request ran longer than the server allows and was cancelled; its transaction was rolled back. Retry later, or ask for less at once',
    undefined,
    503,
  );

/**
 * The one transaction of a read-only request, begun on first use and committed when the response
 * is sent (after every call that is using it has finished). Calls that arrive after closing began
 * (a resolver still running after a sibling's error ended the operation) fall back to their own
 * transaction. Statements keep READ COMMITTED semantics: each sees what was committed before it.
 */
export class RequestScope {
  private enabled = false;
  private closing = false;
  private opened?: Promise<EntityManager>;
  private active = 0;
  private idle: (() => void)[] = [];
  /** Puts the connection's own query method back once the transaction has ended. */
  private ungate?: () => void;

  constructor(
    private readonly root: EntityManager,
    private readonly params: () => string[],
  ) {}

  /** Called once the operation is known to be a query. */
  enable(): void {
    this.enabled = true;
  }

  get usable(): boolean {
    return this.enabled && !this.closing;
  }

  async run<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    this.active += 1;
    try {
      this.opened ??= this.open();
      return await fn(await this.opened);
    } finally {
      this.active -= 1;
      if (this.active === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /** Commits (after in-flight calls finish); a failed statement has already doomed it to roll back. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.opened) return;
    while (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    const em = await this.opened.catch(() => undefined);
    this.opened = undefined;
    if (!em) return;
    try {
      await em.commit();
    } catch {
      await em.rollback().catch(() => undefined);
    } finally {
      this.ungate?.();
      this.ungate = undefined;
    }
  }

  private async open(): Promise<EntityManager> {
    const em = this.root.fork();
    await em.begin();
    try {
      const trx = em.getTransactionContext<Knex.Transaction>();
      if (!trx) throw new InvariantError('a request scope began a transaction but has no transaction context');
      this.ungate = oneStatementAtATime((await trx.client.acquireConnection()) as pg.ClientBase);
      await em.execute(SCOPE_SQL, this.params(), 'get');
    } catch (err) {
      await em.rollback().catch(() => undefined);
      this.ungate?.();
      this.ungate = undefined;
      throw suspendedOr(err);
    }
    return em;
  }
}

type QueryCallback = (err: Error | null, result: unknown) => void;

/**
 * The resolvers of one query operation load concurrently and share the scope's one connection, so
 * their statements would reach pg's Client while another is executing; pg then queues them itself,
 * which it deprecates (pg@9 drops it). This gate issues them to the connection one at a time, in the
 * order they were asked for: the same order and the same round trips as pg's own queue. Whole
 * resolver calls are not serialized, since one may wait on a DataLoader batch run by another.
 * Returns the function that removes the gate (when the transaction has ended).
 */
function oneStatementAtATime(connection: pg.ClientBase): () => void {
  const query = connection.query.bind(connection) as (...args: unknown[]) => unknown;
  let tail: Promise<unknown> = Promise.resolve();
  const gated = (...args: unknown[]): unknown => {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as QueryCallback) : undefined;
    if (!callback) {
      const result = tail.then(() => query(...args));
      tail = result.catch(() => undefined);
      return result;
    }
    // Callback form, as knex calls it.
    tail = tail.then(
      () =>
        new Promise<void>((release) => {
          query(...args, (err: Error | null, result: unknown) => {
            release();
            callback(err, result);
          });
        }),
    );
    return undefined;
  };
  Object.assign(connection, { query: gated });
  return () => {
    if (connection.query === (gated as unknown)) delete (connection as { query?: unknown }).query;
  };
}

/** The request scope of an HTTP request's context (see RequestScope). */
export function requestScope(ctx: RequestContext): RequestScope {
  return new RequestScope(ctx.em, () => scopeParams(ctx));
}
