import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import * as tenants from './tenant.service';
import { CreateTenantInput, Tenant, TenantConnection } from './tenant.types';

@Resolver(() => Tenant)
export class TenantResolver {
  @Authorized(Roles.anyone)
  @Query(() => TenantConnection, { description: 'Providers see every tenant; a tenant user sees its own.' })
  tenants(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<TenantConnection> {
    return tenants.listTenants(ctx, { first, after });
  }

  @Authorized(Roles.anyone)
  @Query(() => Tenant, { nullable: true, description: 'Null when the tenant does not exist or is not visible.' })
  tenant(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Tenant | null> {
    return tenants.getTenant(ctx, id);
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => Tenant)
  createTenant(@Ctx() ctx: RequestContext, @Arg('input', () => CreateTenantInput) input: CreateTenantInput): Promise<Tenant> {
    return tenants.createTenant(ctx, input);
  }
}
