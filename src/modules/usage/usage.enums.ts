import { registerEnumType } from 'type-graphql';

export enum UsageGranularity {
  DAY = 'DAY',
  MONTH = 'MONTH',
}

registerEnumType(UsageGranularity, {
  name: 'UsageGranularity',
  description: 'Length of the periods licenseUsage reports: UTC calendar days or UTC calendar months.',
});
