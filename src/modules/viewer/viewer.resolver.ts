import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { loadTenant } from '../tenants/tenant.service';
import { ViewerInfo } from './viewer.types';

@Resolver()
export class ViewerResolver {
  @Authorized(Roles.anyone)
  @Query(() => ViewerInfo)
  async viewer(@Ctx() ctx: RequestContext): Promise<ViewerInfo> {
    const { subject, role, tenantId } = ctx.viewer;
    return { subject, role, tenant: tenantId ? await loadTenant(ctx, tenantId) : null };
  }
}
