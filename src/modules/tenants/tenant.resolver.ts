import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { COST, fixed } from '../../common/cost';
import * as lifecycle from './tenant-lifecycle.service';
import * as tenants from './tenant.service';
import { CreateTenantInput, DeleteTenantInput, DeleteTenantPayload, Tenant, TenantConnection, TenantIdInput, UpdateTenantInput } from './tenant.types';

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

  // Provider admin only: the name is the provider's record of its customer (portal, invoices), as
  // creating the tenant is; tenant admins cannot rename their tenant.
  @Authorized(Roles.providerAdmin)
  @Mutation(() => Tenant, { description: 'Renames a tenant (the slug never changes).' })
  updateTenant(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateTenantInput) input: UpdateTenantInput): Promise<Tenant> {
    return lifecycle.updateTenant(ctx, input);
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => Tenant, {
    description:
      "Suspends a tenant: its users' requests are refused with TENANT_SUSPENDED (HTTP and WebSocket, open subscriptions closed " +
      'with 4403) on every instance, its scheduled syncs pause; providers still read and manage it. Idempotent.',
  })
  suspendTenant(@Ctx() ctx: RequestContext, @Arg('input', () => TenantIdInput) input: TenantIdInput): Promise<Tenant> {
    return lifecycle.suspendTenant(ctx, input.id);
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => Tenant, { description: "Resumes a suspended tenant: its users' tokens work again. Idempotent." })
  resumeTenant(@Ctx() ctx: RequestContext, @Arg('input', () => TenantIdInput) input: TenantIdInput): Promise<Tenant> {
    return lifecycle.resumeTenant(ctx, input.id);
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => DeleteTenantPayload, {
    description:
      'Deletes a SUSPENDED tenant and every row it owns, in one transaction; refused (CONFLICT) while its usage is unreported ' +
      'unless force. Recorded by a provider-level audit event.',
    complexity: fixed(COST.tenantDeletion),
  })
  deleteTenant(@Ctx() ctx: RequestContext, @Arg('input', () => DeleteTenantInput) input: DeleteTenantInput): Promise<DeleteTenantPayload> {
    return lifecycle.deleteTenant(ctx, input);
  }
}
