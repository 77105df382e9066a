import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import * as accounts from './account.service';
import { ConfigureSmartAccountInput, SetManagedVirtualAccountsInput, SmartAccount, VirtualAccount } from './account.types';

@Resolver(() => SmartAccount)
export class SmartAccountResolver {
  @Authorized(Roles.anyone)
  @Query(() => [SmartAccount], { description: 'Smart accounts with their virtual accounts; providers without tenantId see all.' })
  smartAccounts(@Ctx() ctx: RequestContext, @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string): Promise<SmartAccount[]> {
    return accounts.listSmartAccounts(ctx, tenantId);
  }

  @Authorized(Roles.admins)
  @Mutation(() => SmartAccount, { description: 'Records the tenant\'s smart account and virtual accounts.' })
  configureSmartAccount(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ConfigureSmartAccountInput) input: ConfigureSmartAccountInput,
  ): Promise<SmartAccount> {
    return accounts.configureSmartAccount(ctx, input);
  }

  @Authorized(Roles.admins)
  @Mutation(() => [VirtualAccount], { description: 'Chooses which virtual accounts this product manages.' })
  setManagedVirtualAccounts(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => SetManagedVirtualAccountsInput) input: SetManagedVirtualAccountsInput,
  ): Promise<VirtualAccount[]> {
    return accounts.setManagedVirtualAccounts(ctx, input);
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() account: SmartAccount, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, account.tenantId);
  }

  @FieldResolver(() => [VirtualAccount])
  virtualAccounts(@Root() account: SmartAccount, @Ctx() ctx: RequestContext): Promise<VirtualAccount[]> {
    return accounts.loadVirtualAccountsOf(ctx, account.dbId);
  }
}

@Resolver(() => VirtualAccount)
export class VirtualAccountResolver {
  @FieldResolver(() => SmartAccount)
  async smartAccount(@Root() va: VirtualAccount, @Ctx() ctx: RequestContext): Promise<SmartAccount> {
    const account = await accounts.loadSmartAccount(ctx, va.smartAccountId);
    if (!account) throw new InvariantError(`smart account ${va.smartAccountId} of a visible virtual account is not visible`);
    return account;
  }
}
