import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLLocalDate } from 'graphql-scalars';
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
}

@ObjectType({ implements: Node, description: 'A license line (pool) of a virtual account.' })
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

  @Field(() => LicenseSource)
  source!: LicenseSource;

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
