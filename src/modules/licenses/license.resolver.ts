import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import type { RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import { loadVirtualAccount } from '../accounts/account.service';
import { VirtualAccount } from '../accounts/account.types';
import { loadEntitlement } from '../entitlements/entitlement.service';
import { Entitlement } from '../entitlements/entitlement.types';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import { BillingType } from './license.enums';
import * as licenses from './license.service';
import {
  AddLicensesInput,
  License,
  LicenseConnection,
  RemoveLicensesInput,
  RemoveLicensesPayload,
  UpdateLicenseInput,
  UpdateLicensePayload,
} from './license.types';
import { COST, fixed, perItem } from '../../common/cost';

@Resolver(() => License)
export class LicenseResolver {
  @Authorized(Roles.anyone)
  @Query(() => LicenseConnection, { description: 'License lines (pools), soonest-ending first.' })
  licenses(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('virtualAccountId', () => ID, { nullable: true }) virtualAccountId?: string,
    @Arg('billingType', () => BillingType, { nullable: true }) billingType?: BillingType,
    @Arg('entitlementTag', () => String, { nullable: true }) entitlementTag?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<LicenseConnection> {
    return licenses.listLicenses(ctx, { tenantId, virtualAccountId, billingType, entitlementTag, first, after });
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => [License], {
    description: 'Records license lines by hand (before a license server or file provides them).',
    complexity: perItem(['input', 'licenses'], COST.licenseLine),
  })
  addLicenses(@Ctx() ctx: RequestContext, @Arg('input', () => AddLicensesInput) input: AddLicensesInput): Promise<License[]> {
    return licenses.addLicenses(ctx, input);
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => UpdateLicensePayload, {
    description:
      'Corrects a hand-recorded (MANUAL) line; lines from the license server or a summary file are refused with LICENSE_NOT_EDITABLE.',
    complexity: fixed(COST.licenseLine + COST.reconcile),
  })
  updateLicense(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateLicenseInput) input: UpdateLicenseInput): Promise<UpdateLicensePayload> {
    return licenses.updateLicense(ctx, input);
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => RemoveLicensesPayload, {
    description:
      'Removes hand-recorded (MANUAL) lines of one tenant, all or nothing; what they held becomes pending and is reconciled as after a sync.',
    complexity: perItem(['input', 'ids'], COST.licenseLine, COST.mutation + COST.reconcile),
  })
  removeLicenses(@Ctx() ctx: RequestContext, @Arg('input', () => RemoveLicensesInput) input: RemoveLicensesInput): Promise<RemoveLicensesPayload> {
    return licenses.removeLicenses(ctx, input);
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() license: License, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, license.tenantId);
  }

  @FieldResolver(() => VirtualAccount)
  async virtualAccount(@Root() license: License, @Ctx() ctx: RequestContext): Promise<VirtualAccount> {
    const va = await loadVirtualAccount(ctx, license.virtualAccountId);
    if (!va) throw new InvariantError(`virtual account ${license.virtualAccountId} of license ${license.dbId} is not visible`);
    return va;
  }

  @FieldResolver(() => Entitlement)
  async entitlement(@Root() license: License, @Ctx() ctx: RequestContext): Promise<Entitlement> {
    const e = await loadEntitlement(ctx, license.entitlementId);
    if (!e) throw new InvariantError(`entitlement ${license.entitlementId} of license ${license.dbId} is missing`);
    return e;
  }
}
