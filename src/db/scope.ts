import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { isProviderRole } from '../auth/roles';
import type { RequestContext } from '../common/context';
import { AppError, InvariantError, tenantSuspended } from '../common/errors';
import { prepared, toNumbered } from './sql';

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
    throw timeoutOr(ctx, err);
  }
}

/** A statement timeout as the client's STATEMENT_TIMEOUT (logged here with the statement); anything else as it is. */
function timeoutOr(ctx: RequestContext, err: unknown): unknown {
  if (!isStatementTimeout(err)) return err;
  // Logged here with the statement (the client sees none of it); answered with a code of its own.
  ctx.log.warn({ err, requestId: ctx.requestId }, 'statement timeout');
  return statementTimeout();
}

/** A bind value (of `?`; arrays go as `pgArray` strings) as the text PostgreSQL would receive for it in the extended protocol. */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  throw new InvariantError(`scopedRead binds scalars only, not ${Object.prototype.toString.call(value)}`);
}

/**
 * One read statement of the hot paths (a page and the batches its fields load), with `?` placeholders.
 *
 * In a query operation whose scope has not begun a transaction, the statement runs in ONE round trip
 * as its own implicit transaction: a single simple-protocol message `select app_begin_scope(...);
 * execute <statement>(...)` (plus `prepare` the first time on a connection), which PostgreSQL runs as
 * one transaction, so the transaction-local settings row-level security reads hold for that statement
 * and vanish with it: the pooled connection carries nothing to the next user. No BEGIN and no COMMIT:
 * a page and its batch are two round trips. Semantics are those of the shared READ COMMITTED
 * transaction it replaces: each statement sees what was committed before it began.
 *
 * Anywhere else (a mutation, background work, or a query whose scope already holds a transaction)
 * it runs as a named prepared statement inside the scoped transaction, as `prepared` does.
 */
export async function scopedRead<R>(ctx: RequestContext, text: string, params: readonly unknown[]): Promise<R[]> {
  const scope = ctx.scope;
  if (!scope?.usable || scope.holdsTransaction) return inScope(ctx, (em) => prepared<R>(em, text, [...params]));
  try {
    return await oneShotRead<R>(scope.base, scopeParams(ctx), text, params);
  } catch (err) {
    throw timeoutOr(ctx, suspendedOr(err));
  }
}

/** The statements a connection has prepared through `oneShotRead` (the names differ from `prepared`'s). */
const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();
const readNames = new Map<string, string>();

async function oneShotRead<R>(base: EntityManager, scopeArgs: readonly string[], text: string, params: readonly unknown[]): Promise<R[]> {
  let name = readNames.get(text);
  if (!name) {
    name = `slmr_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    readNames.set(text, name);
  }
  const knex = base.getKnex();
  const connection = (await knex.client.acquireConnection()) as pg.ClientBase;
  try {
    let known = preparedOn.get(connection);
    if (!known) preparedOn.set(connection, (known = new Set()));
    const prepare = !known.has(name);
    const literal = (v: unknown): string => {
      const textValue = asText(v);
      return textValue === null ? 'null' : connection.escapeLiteral(textValue);
    };
    const args = params.length ? `(${params.map(literal).join(', ')})` : '';
    const message =
      (prepare ? `prepare ${name} as ${toNumbered(text)};\n` : '') +
      `select app_begin_scope(${scopeArgs.map(literal).join(', ')});\nexecute ${name}${args}`;
    // Announced like knex's own statements, so whoever listens for 'query' (logging, statement counts) sees it.
    knex.emit('query', { sql: message, bindings: [], oneShot: name });
    try {
      const results = (await connection.query(message)) as unknown as pg.QueryResult[];
      if (prepare) known.add(name);
      return results[results.length - 1].rows as R[];
    } catch (err) {
      // A prepared statement outlives the implicit transaction that failed after preparing it:
      // ask the connection whether it has it rather than guess.
      if (prepare) {
        const { rows } = await connection.query<{ present: boolean }>('select exists (select from pg_prepared_statements where name = $1) as present', [name]);
        if (rows[0]?.present) known.add(name);
      }
      throw base.getDriver().convertException(err as Error);
    }
  } finally {
    await knex.client.releaseConnection(connection);
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
    /** The application's EntityManager: the transaction's is forked from it, and reads outside one use its pool. */
    readonly base: EntityManager,
    private readonly params: () => string[],
  ) {}

  /** Called once the operation is known to be a query. */
  enable(): void {
    this.enabled = true;
  }

  get usable(): boolean {
    return this.enabled && !this.closing;
  }

  /** Whether this scope has begun (or is beginning) its transaction: later reads then share it. */
  get holdsTransaction(): boolean {
    return this.opened !== undefined;
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
    const em = this.base.fork();
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
export function requestScope(ctx: RequestContext, base: EntityManager): RequestScope {
  return new RequestScope(base, () => scopeParams(ctx));
}
