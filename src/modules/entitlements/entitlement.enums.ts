import { registerEnumType } from 'type-graphql';

export enum LicenseLevel {
  ESSENTIALS = 'ESSENTIALS',
  ADVANTAGE = 'ADVANTAGE',
  PREMIER = 'PREMIER',
}
export enum Tier {
  T0 = 'T0',
  T1 = 'T1',
  T2 = 'T2',
  T3 = 'T3',
}
export enum EntitlementCategory {
  DNA = 'DNA',
  HSEC = 'HSEC',
  OTHER = 'OTHER',
}

registerEnumType(LicenseLevel, { name: 'LicenseLevel', description: 'DNA routing license level.' });
registerEnumType(Tier, { name: 'Tier', description: 'Throughput tier: T0 15 Mbps, T1 100 Mbps, T2 1 Gbps, T3 10 Gbps.' });
registerEnumType(EntitlementCategory, {
  name: 'EntitlementCategory',
  description: 'DNA routing license, HSEC (high security), or another entitlement this product does not manage.',
});
