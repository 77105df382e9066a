import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { licenseDashboard } from './dashboard.service';
import { LicenseDashboard } from './dashboard.types';

@Resolver(() => LicenseDashboard)
export class DashboardResolver {
  @Authorized(Roles.anyone)
  @Query(() => LicenseDashboard, { description: 'One tenant, or (providers without tenantId) all tenants with a per-tenant breakdown.' })
  licenseDashboard(@Ctx() ctx: RequestContext, @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string): Promise<LicenseDashboard> {
    return licenseDashboard(ctx, tenantId);
  }
}
