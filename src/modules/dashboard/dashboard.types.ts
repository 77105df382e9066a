import { Field, Int, ObjectType } from 'type-graphql';
import { AlertSummary, ReportingClock } from '../alerts/alert.types';
import { ComplianceReason } from '../assignments/assignment.enums';
import { Entitlement } from '../entitlements/entitlement.types';
import { BillingType } from '../licenses/license.enums';
import { Tenant } from '../tenants/tenant.types';

// Every type here uses simpleResolvers (see Device): a provider's dashboard answers 5,000 of each per request.
@ObjectType({ description: 'Purchased and used licenses of one entitlement and billing type (lines whose term has not ended).', simpleResolvers: true })
export class EntitlementUsage {
  @Field(() => Entitlement)
  entitlement!: Entitlement;

  @Field(() => BillingType)
  billingType!: BillingType;

  @Field(() => Int)
  lines!: number;

  @Field(() => Int)
  purchased!: number;

  @Field(() => Int)
  inUse!: number;

  @Field(() => Int, { nullable: true, description: 'Null for postpaid: not capped.' })
  available!: number | null;

  entitlementId!: string;
}

@ObjectType({ simpleResolvers: true })
export class ComplianceReasonCount {
  @Field(() => ComplianceReason)
  reason!: ComplianceReason;

  @Field(() => Int)
  devices!: number;
}

@ObjectType({ simpleResolvers: true })
export class ComplianceSummary {
  @Field(() => Int)
  compliant!: number;

  @Field(() => Int)
  outOfCompliance!: number;

  @Field(() => [ComplianceReasonCount], { description: 'A device with several reasons counts under each.' })
  reasons!: ComplianceReasonCount[];
}

@ObjectType({ simpleResolvers: true })
export class DeviceLicenseSummary {
  @Field(() => Int)
  total!: number;

  @Field(() => Int, { description: 'Devices holding an active DNA license.' })
  licensed!: number;

  @Field(() => Int, { description: 'Devices without an active DNA license (unassigned or pending).' })
  unlicensed!: number;

  @Field(() => Int, { description: 'Devices whose DNA license is pending reconciliation.' })
  pendingReconciliation!: number;
}

@ObjectType({ simpleResolvers: true })
export class LicenseExpirySummary {
  @Field(() => Int, { description: 'Lines whose term ends within 30 days (not yet ended).' })
  within30Days!: number;

  @Field(() => Int, { description: 'Lines whose term ends within 90 days (not yet ended), including the 30-day ones.' })
  within90Days!: number;

  @Field(() => Int, { description: 'Lines whose term has ended.' })
  expired!: number;
}

@ObjectType({ description: 'Licenses, devices and compliance of one tenant, or of all tenants for a provider.', simpleResolvers: true })
export class LicenseDashboard {
  @Field(() => Tenant, { nullable: true, description: 'Null for the provider-wide view.' })
  tenant!: Tenant | null;

  @Field(() => [EntitlementUsage])
  entitlements!: EntitlementUsage[];

  @Field(() => DeviceLicenseSummary)
  devices!: DeviceLicenseSummary;

  @Field(() => ComplianceSummary)
  compliance!: ComplianceSummary;

  @Field(() => LicenseExpirySummary)
  expiring!: LicenseExpirySummary;

  @Field(() => AlertSummary)
  alerts!: AlertSummary;

  @Field(() => ReportingClock, { nullable: true, description: 'Last sync and reports and the next due dates (one tenant only).' })
  reportingClock?: ReportingClock | null;

  @Field(() => [LicenseDashboard], { nullable: true, description: 'Provider-wide view only: one entry per tenant.' })
  tenants!: LicenseDashboard[] | null;

  /** The tenant this dashboard is for (null: provider-wide); reportingClock is loaded from it only when asked. */
  forTenant!: string | null;
}
