import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { InvariantError } from '../../common/errors';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { resolveTenantScope, requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import { alertDeliveryOf } from './alert-delivery';
import * as alerts from './alert.service';
import { Alert, AlertConnection } from './alert.types';

@Resolver(() => Alert)
export class AlertResolver {
  @Authorized(Roles.anyone)
  @Query(() => AlertConnection, { description: 'Alerts, newest first; active: true for open ones only.' })
  alerts(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('active', () => Boolean, { nullable: true }) active?: boolean,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<AlertConnection> {
    return alerts.listAlerts(ctx, { tenantId, active, first, after });
  }

  @Authorized(Roles.anyone)
  @Mutation(() => Alert, { description: 'Marks an alert seen; it stays active until its condition clears.' })
  acknowledgeAlert(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Alert> {
    return alerts.acknowledgeAlert(ctx, id);
  }

  @Authorized(Roles.anyone)
  @Subscription(() => Alert, {
    description: 'Alerts as they are raised, changed, acknowledged or resolved. Tenant users: their tenant only.',
    subscribe: async ({ args, context }) => {
      const ctx = context as RequestContext;
      const scope = await resolveTenantScope(ctx, (args as { tenantId?: string | null }).tenantId);
      const connection = ctx.connection;
      if (!connection) throw new InvariantError('licenseAlerts subscribed outside a WebSocket connection');
      // Committed alerts of any instance, loaded in batches per visibility class (an event of another
      // tenant is never read for a tenant subscriber) and queued per subscriber, coalesced by alert.
      return alertDeliveryOf(ctx).subscribe(ctx.viewer, scope, (code, reason) => connection.close(code, reason));
    },
  })
  licenseAlerts(@Root() alert: Alert, @Arg('tenantId', () => ID, { nullable: true }) _tenantId?: string): Alert {
    return alert;
  }

  @FieldResolver(() => Tenant, { nullable: true })
  tenant(@Root() alert: Alert, @Ctx() ctx: RequestContext): Promise<Tenant | null> {
    return alert.tenantId ? requireTenant(ctx, alert.tenantId) : Promise.resolve(null);
  }
}
