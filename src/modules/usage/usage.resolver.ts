import { GraphQLDateTime } from 'graphql-scalars';
import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Roles } from '../../auth/roles';
import { usageCost } from '../../common/cost';
import type { RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import { loadEntitlement } from '../entitlements/entitlement.service';
import { Entitlement } from '../entitlements/entitlement.types';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import { UsageGranularity } from './usage.enums';
import { licenseUsage } from './usage.service';
import { LicenseUsageRow } from './usage.types';

@Resolver(() => LicenseUsageRow)
export class UsageResolver {
  @Authorized(Roles.anyone)
  @Query(() => [LicenseUsageRow], {
    description:
      'Device-days, peak and average devices per period (UTC day or month), tenant, entitlement, billing type and model: ' +
      'what postpaid (MSLA) use is invoiced from. One tenant, or (providers without tenantId) every tenant. ' +
      'At most 366 days at DAY granularity, 120 months at MONTH. Also as CSV: GET /files/license-usage.csv.',
    complexity: usageCost(),
  })
  async licenseUsage(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId: string | undefined,
    @Arg('from', () => GraphQLDateTime, { description: 'Start of the range (inclusive).' }) from: Date,
    @Arg('to', () => GraphQLDateTime, { description: 'End of the range (exclusive); use beyond now is not counted.' }) to: Date,
    @Arg('granularity', () => UsageGranularity) granularity: UsageGranularity,
  ): Promise<LicenseUsageRow[]> {
    const rows = await licenseUsage(ctx, { tenantId, from, to, granularity });
    return rows.map(LicenseUsageRow.from);
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() row: LicenseUsageRow, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, row.tenantId);
  }

  @FieldResolver(() => Entitlement)
  async entitlement(@Root() row: LicenseUsageRow, @Ctx() ctx: RequestContext): Promise<Entitlement> {
    const e = await loadEntitlement(ctx, row.entitlementId);
    if (!e) throw new InvariantError(`entitlement ${row.entitlementId} of a usage row is missing`);
    return e;
  }
}
