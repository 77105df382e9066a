import { registerEnumType } from 'type-graphql';

export enum BillingType {
  PREPAID = 'PREPAID',
  POSTPAID = 'POSTPAID',
}
export enum BillingModel {
  A_LA_CARTE = 'A_LA_CARTE',
  ENTERPRISE_AGREEMENT = 'ENTERPRISE_AGREEMENT',
  MSLA_U = 'MSLA_U',
  MSLA_C = 'MSLA_C',
}
export enum LicenseType {
  TERM = 'TERM',
  DEMO = 'DEMO',
}
export enum LicenseSource {
  MANUAL = 'MANUAL',
  SYNC = 'SYNC',
  FILE = 'FILE',
}

/** Which billing models belong to which billing type. */
export const BILLING_MODELS: Record<BillingType, BillingModel[]> = {
  [BillingType.PREPAID]: [BillingModel.A_LA_CARTE, BillingModel.ENTERPRISE_AGREEMENT],
  [BillingType.POSTPAID]: [BillingModel.MSLA_U, BillingModel.MSLA_C],
};

registerEnumType(BillingType, {
  name: 'BillingType',
  description: 'PREPAID: capped by the purchased quantity. POSTPAID (MSLA): billed by use, not capped.',
});
registerEnumType(BillingModel, { name: 'BillingModel' });
registerEnumType(LicenseType, { name: 'LicenseType' });
registerEnumType(LicenseSource, { name: 'LicenseSource', description: 'How the license line arrived here.' });
