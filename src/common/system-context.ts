import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Role } from '../auth/roles';
import { createViewer, isProvider } from '../auth/viewer';
import type { Logger } from '../logger';
import type { AppRuntime, RequestContext } from './context';
import { InvariantError } from './errors';

/**
 * A provider-scope context for work no person asked for (scheduled jobs, metrics scrapes). It reads
 * through the same services and row-level security as a provider operator would: read-all, no bypass.
 */
export function systemContext(opts: { subject: string; root: EntityManager; runtime: AppRuntime; log: Logger }): RequestContext {
  return {
    viewer: createViewer(opts.subject, Role.PROVIDER_OPERATOR, null, Math.floor(Date.now() / 1000) + 3600),
    em: opts.root.fork(),
    requestId: randomUUID(),
    log: opts.log,
    app: opts.runtime,
    memo: new Map(),
  };
}

/** Provider-wide aggregates (across tenants) are for provider viewers only; anything else is a bug. */
export function requireProviderWide(ctx: RequestContext, what: string): void {
  if (!isProvider(ctx.viewer)) throw new InvariantError(`${what} across tenants asked for by ${ctx.viewer.role} ${ctx.viewer.subject}`);
}
