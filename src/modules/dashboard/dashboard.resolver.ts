import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { selectsPath } from '../../common/selection';
import { reportingClock } from '../alerts/alert.service';
import { ReportingClock } from '../alerts/alert.types';
import { licenseDashboard } from './dashboard.service';
import { LicenseDashboard } from './dashboard.types';

@Resolver(() => LicenseDashboard)
export class DashboardResolver {
  @Authorized(Roles.anyone)
  @Query(() => LicenseDashboard, { description: 'One tenant, or (providers without tenantId) all tenants with a per-tenant breakdown.' })
  licenseDashboard(
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
  ): Promise<LicenseDashboard> {
    return licenseDashboard(ctx, tenantId, { tenantEntitlements: selectsPath(info, ['tenants', 'entitlements']) });
  }

  /** Loaded only when selected: a thousand tenants' breakdown does not pay a thousand clock queries unasked. */
  @FieldResolver(() => ReportingClock, { nullable: true, description: 'Last sync and reports and the next due dates (one tenant only).' })
  reportingClock(@Root() dashboard: LicenseDashboard, @Ctx() ctx: RequestContext): Promise<ReportingClock> | null {
    return dashboard.forTenant ? reportingClock(ctx, dashboard.forTenant) : null;
  }
}
