import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLLocalDate } from 'graphql-scalars';
import { toGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';
import { ConnectionType } from '../../common/relay';
import { VirtualAccount } from '../accounts/account.types';
import { Entitlement } from '../entitlements/entitlement.types';
import { Tenant } from '../tenants/tenant.types';
import { BillingModel, BillingType, LicenseSource, LicenseType } from './license.enums';

export interface LicenseRow {
  id: string;
  tenant_id: string;
  virtual_account_id: string;
  entitlement_id: string;
  billing_type: BillingType;
  billing_model: BillingModel;
  subscription_id: string;
  license_type: LicenseType;
  quantity: number;
  start_date: string;
  end_date: string;
  source: LicenseSource;
  in_use: number;
  expired: boolean;
  removed_at: string | null;
}

// simpleResolvers: see Device.
@ObjectType({ implements: Node, description: 'A license line (pool) of a virtual account.', simpleResolvers: true })
export class License implements Node {
  @Field(() => ID)
  id!: string;

  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => VirtualAccount)
  virtualAccount!: VirtualAccount;

  @Field(() => Entitlement)
  entitlement!: Entitlement;

  @Field(() => BillingType)
  billingType!: BillingType;

  @Field(() => BillingModel)
  billingModel!: BillingModel;

  @Field(() => String)
  subscriptionId!: string;

  @Field(() => LicenseType)
  licenseType!: LicenseType;

  @Field(() => Int, { description: 'Purchased quantity (for postpaid, the committed quantity, if any).' })
  quantity!: number;

  @Field(() => Int, { description: 'Devices currently holding this license; always exact.' })
  inUse!: number;

  @Field(() => Int, { nullable: true, description: 'quantity - inUse for prepaid; null for postpaid (not capped).' })
  available!: number | null;

  @Field(() => GraphQLLocalDate)
  startDate!: string;

  @Field(() => GraphQLLocalDate)
  endDate!: string;

  @Field(() => Boolean, { description: 'The term has ended.' })
  expired!: boolean;

  @Field(() => LicenseSource, { description: 'MANUAL lines (addLicenses) can be corrected and removed; SYNC and FILE lines cannot.' })
  source!: LicenseSource;

  @Field(() => Boolean, {
    description: 'A prepaid line with more devices than its quantity (its quantity was lowered under use); its devices are OVER_ALLOCATED.',
  })
  overAllocated!: boolean;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: 'When the line was removed (vanished from the license server or a summary file, or removeLicenses); removed lines are kept for history and never offered again.',
  })
  removedAt!: Date | null;

  dbId!: string;
  tenantId!: string;
  virtualAccountId!: string;
  entitlementId!: string;

  static from(row: LicenseRow): License {
    const l = new License();
    l.id = toGlobalId('License', row.id);
    l.dbId = row.id;
    l.tenantId = row.tenant_id;
    l.virtualAccountId = row.virtual_account_id;
    l.entitlementId = row.entitlement_id;
    l.billingType = row.billing_type;
    l.billingModel = row.billing_model;
    l.subscriptionId = row.subscription_id;
    l.licenseType = row.license_type;
    l.quantity = row.quantity;
    l.inUse = row.in_use;
    l.available = row.billing_type === BillingType.PREPAID ? Math.max(row.quantity - row.in_use, 0) : null;
    l.startDate = row.start_date;
    l.endDate = row.end_date;
    l.expired = row.expired;
    l.source = row.source;
    l.overAllocated = row.billing_type === BillingType.PREPAID && row.in_use > row.quantity;
    l.removedAt = row.removed_at ? new Date(row.removed_at) : null;
    return l;
  }
}

export const LicenseConnection = ConnectionType('License', License);
export type LicenseConnection = InstanceType<typeof LicenseConnection>;

@InputType()
export class LicenseInput {
  @Field(() => ID)
  virtualAccountId!: string;

  @Field(() => String, { description: 'Entitlement tag from the catalog.' })
  entitlementTag!: string;

  @Field(() => BillingType)
  billingType!: BillingType;

  @Field(() => BillingModel)
  billingModel!: BillingModel;

  @Field(() => String)
  subscriptionId!: string;

  @Field(() => LicenseType, { defaultValue: LicenseType.TERM })
  licenseType!: LicenseType;

  @Field(() => Int)
  quantity!: number;

  @Field(() => GraphQLLocalDate)
  startDate!: string;

  @Field(() => GraphQLLocalDate)
  endDate!: string;
}

@InputType()
export class AddLicensesInput {
  @Field(() => ID, { nullable: true })
  tenantId?: string | null;

  @Field(() => [LicenseInput], { description: 'Up to 1,000 license lines.' })
  licenses!: LicenseInput[];
}

@InputType({
  description:
    'A correction of a hand-recorded (MANUAL) line; fields left out keep their value. Entitlement, billing type and virtual account can change only while no device holds the line.',
})
export class UpdateLicenseInput {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { nullable: true, description: 'May go below inUse: the line then is over-allocated (prepaid), nothing is released.' })
  quantity?: number | null;

  @Field(() => GraphQLLocalDate, { nullable: true })
  startDate?: string | null;

  @Field(() => GraphQLLocalDate, { nullable: true })
  endDate?: string | null;

  @Field(() => String, { nullable: true })
  subscriptionId?: string | null;

  @Field(() => LicenseType, { nullable: true })
  licenseType?: LicenseType | null;

  @Field(() => BillingModel, { nullable: true, description: 'Within the billing type (A_LA_CARTE <-> ENTERPRISE_AGREEMENT, MSLA_U <-> MSLA_C) at any time.' })
  billingModel?: BillingModel | null;

  @Field(() => BillingType, { nullable: true, description: 'Only while the line is not in use; give billingModel with it.' })
  billingType?: BillingType | null;

  @Field(() => String, { nullable: true, description: 'Only while the line is not in use.' })
  entitlementTag?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only while the line is not in use.' })
  virtualAccountId?: string | null;
}

@ObjectType()
export class UpdateLicensePayload {
  @Field(() => License)
  license!: License;

  @Field(() => [String], { description: 'The fields whose value changed (input names); empty when the correction changed nothing.' })
  changed!: string[];

  @Field(() => Int, { description: 'Pending assignments bound to a line by this change (a raised quantity or a longer term makes room).' })
  assignmentsReconciled!: number;
}

@InputType()
export class RemoveLicensesInput {
  @Field(() => [ID], { description: 'Up to 1,000 hand-recorded (MANUAL) lines of one tenant.' })
  ids!: string[];

  @Field(() => String, { nullable: true, description: 'A retry with the same key and ids returns the first result.' })
  idempotencyKey?: string | null;
}

@ObjectType()
export class RemoveLicensesPayload {
  @Field(() => [License], { description: 'The lines, in input order, now removed.' })
  licenses!: License[];

  @Field(() => Int, { description: 'Lines removed by this call.' })
  removed!: number;

  @Field(() => Int, { description: 'Lines that were already removed (nothing changed for them).' })
  alreadyRemoved!: number;

  @Field(() => Int, { description: 'Assignments of the removed lines, made PENDING_RECONCILIATION.' })
  assignmentsPending!: number;

  @Field(() => Int, { description: 'Pending assignments then bound to another line (the same reconciliation as after a sync).' })
  assignmentsReconciled!: number;

  @Field(() => Boolean, { description: 'True when this answers a retry (same idempotencyKey) from the first result.' })
  replayed!: boolean;
}
