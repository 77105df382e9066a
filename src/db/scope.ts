import type { EntityManager } from '@mikro-orm/postgresql';
import { isProviderRole } from '../auth/roles';
import type { RequestContext } from '../common/context';
import { InvariantError } from '../common/errors';

/**
 * Runs `fn` in one transaction whose first statement tells PostgreSQL row-level security who is
 * asking. `set_config(..., true)` is transaction-local: the settings vanish at commit or rollback,
 * so a pooled connection never carries one request's tenant into the next.
 */
export async function inScope<T>(ctx: RequestContext, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  const { viewer } = ctx;
  if (!isProviderRole(viewer.role) && !viewer.tenantId) {
    throw new InvariantError(`viewer ${viewer.subject} has tenant role ${viewer.role} but no tenant`);
  }
  return ctx.em.transactional(async (em) => {
    await em.execute(
      "select set_config('app.tenant_id', ?, true), set_config('app.role', ?, true), set_config('app.now', ?, true)",
      [viewer.tenantId ?? '', viewer.role, ctx.app.clock.pinnedForSql()],
      'get',
    );
    return fn(em);
  });
}
