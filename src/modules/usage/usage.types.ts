import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Entitlement } from '../entitlements/entitlement.types';
import { BillingModel, BillingType } from '../licenses/license.enums';
import { Tenant } from '../tenants/tenant.types';

/** One row of `license_usage_query` (usage.service.ts). */
export interface UsageRow {
  tenant_id: string;
  tenant_slug: string;
  period_start: Date;
  period_end: Date;
  entitlement_id: string;
  entitlement_tag: string;
  entitlement_name: string;
  billing_type: BillingType | null;
  billing_model: BillingModel | null;
  device_days: number;
  peak_devices: number;
  average_devices: number;
}

@ObjectType({
  description:
    'Use of one entitlement under one billing type and model by one tenant in one period (UTC). ' +
    'Periods without any use have no row. See README "Usage history and billing" for how each figure is computed.',
})
export class LicenseUsageRow {
  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => GraphQLDateTime, { description: 'Start of the period: a UTC day or month start, or `from` for the first period.' })
  periodStart!: Date;

  @Field(() => GraphQLDateTime, {
    description: 'End of the period (exclusive): the next period start, or `to`, or now for a period still running.',
  })
  periodEnd!: Date;

  @Field(() => Entitlement)
  entitlement!: Entitlement;

  @Field(() => BillingType, { nullable: true, description: 'Null: held PENDING_RECONCILIATION, on no license line (not billable).' })
  billingType!: BillingType | null;

  @Field(() => BillingModel, { nullable: true, description: 'Null: held PENDING_RECONCILIATION, on no license line (not billable).' })
  billingModel!: BillingModel | null;

  @Field(() => Float, { description: 'Sum over the devices of the time each held it in the period, in days (fractional).' })
  deviceDays!: number;

  @Field(() => Int, { description: 'Most devices holding it at the same instant within the period.' })
  peakDevices!: number;

  @Field(() => Float, { description: 'deviceDays divided by the length of the period in days.' })
  averageDevices!: number;

  tenantId!: string;
  entitlementId!: string;

  static from(row: UsageRow): LicenseUsageRow {
    const r = new LicenseUsageRow();
    r.tenantId = row.tenant_id;
    r.entitlementId = row.entitlement_id;
    r.periodStart = new Date(row.period_start);
    r.periodEnd = new Date(row.period_end);
    r.billingType = row.billing_type;
    r.billingModel = row.billing_model;
    r.deviceDays = row.device_days;
    r.peakDevices = row.peak_devices;
    r.averageDevices = row.average_devices;
    return r;
  }
}
