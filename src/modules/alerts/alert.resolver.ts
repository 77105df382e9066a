import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { isProvider } from '../../auth/viewer';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { resolveTenantScope, requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import * as alerts from './alert.service';
import { Alert, AlertConnection } from './alert.types';

/**
 * Alerts committed by any instance, through the alert bus, each loaded with the subscriber's own
 * tenant rules before it is sent: an event of another tenant is never even read.
 */
async function* alertStream(ctx: RequestContext, scopeTenant: string | null): AsyncGenerator<Alert> {
  // Visibility of an alert depends only on the viewer's tenant or provider standing (the RLS
  // inputs), so one load per event and visibility class serves every subscriber in that class.
  const visibility = isProvider(ctx.viewer) ? 'provider' : `tenant:${ctx.viewer.tenantId}`;
  for await (const event of ctx.app.alerts.events()) {
    if (scopeTenant !== null && event.tenantId !== scopeTenant) continue;
    if (!isProvider(ctx.viewer) && event.tenantId !== ctx.viewer.tenantId) continue;
    let loads = loadsPerEvent.get(event);
    if (!loads) loadsPerEvent.set(event, (loads = new Map()));
    let load = loads.get(visibility);
    if (!load) loads.set(visibility, (load = alerts.findAlert(ctx, event.id).catch(() => null)));
    const alert = await load;
    if (alert) yield alert;
  }
}

/** Event objects are shared by all subscribers of an instance; entries vanish with the event. */
const loadsPerEvent = new WeakMap<object, Map<string, Promise<Alert | null>>>();

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
      return alertStream(ctx, scope);
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
