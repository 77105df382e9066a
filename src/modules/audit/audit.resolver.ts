import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import * as audit from './audit.service';
import { AuditEvent, AuditEventConnection } from './audit.types';

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Authorized(Roles.anyone)
  @Query(() => AuditEventConnection, { description: 'Audit trail, newest first.' })
  auditEvents(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<AuditEventConnection> {
    return audit.listAuditEvents(ctx, { tenantId, first, after });
  }

  @FieldResolver(() => Tenant, { nullable: true })
  tenant(@Root() event: AuditEvent, @Ctx() ctx: RequestContext): Promise<Tenant | null> {
    return event.tenantId ? requireTenant(ctx, event.tenantId) : Promise.resolve(null);
  }
}
