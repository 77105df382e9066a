import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128000000Init } from './Migration20261128000000Init';
import { Migration20261128100000Licenses } from './Migration20261128100000Licenses';
import { Migration20261128200000Sync } from './Migration20261128200000Sync';
import { Migration20261128300000Alerts } from './Migration20261128300000Alerts';
import { Migration20261128400000UsageReportChunks } from './Migration20261128400000UsageReportChunks';
import { Migration20261128410000AssignSpeed } from './Migration20261128410000AssignSpeed';
import { Migration20261128420000TenantCompliance } from './Migration20261128420000TenantCompliance';
import { Migration20261128430000RlsInitPlans } from './Migration20261128430000RlsInitPlans';
import { Migration20261128440000AssignmentDeviceIndex } from './Migration20261128440000AssignmentDeviceIndex';
import { Migration20261204000000CostBudget } from './Migration20261204000000CostBudget';
import { Migration20261204010000SyncHeartbeat } from './Migration20261204010000SyncHeartbeat';
import { Migration20261204100000DeviceLifecycle } from './Migration20261204100000DeviceLifecycle';
import { Migration20261204110000UsageHistory } from './Migration20261204110000UsageHistory';
import { Migration20261204120000TenantLifecycle } from './Migration20261204120000TenantLifecycle';
import { Migration20261205000000DashboardCounters } from './Migration20261205000000DashboardCounters';
import { Migration20261205100000LicenseRebillSpeed } from './Migration20261205100000LicenseRebillSpeed';

/**
 * Every migration, in order. Listed explicitly (rather than globbed from a folder) so the same
 * list works from compiled output, under jest and in a container image.
 */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261128000000Init', class: Migration20261128000000Init },
  { name: 'Migration20261128100000Licenses', class: Migration20261128100000Licenses },
  { name: 'Migration20261128200000Sync', class: Migration20261128200000Sync },
  { name: 'Migration20261128300000Alerts', class: Migration20261128300000Alerts },
  { name: 'Migration20261128400000UsageReportChunks', class: Migration20261128400000UsageReportChunks },
  { name: 'Migration20261128410000AssignSpeed', class: Migration20261128410000AssignSpeed },
  { name: 'Migration20261128420000TenantCompliance', class: Migration20261128420000TenantCompliance },
  { name: 'Migration20261128430000RlsInitPlans', class: Migration20261128430000RlsInitPlans },
  { name: 'Migration20261128440000AssignmentDeviceIndex', class: Migration20261128440000AssignmentDeviceIndex },
  { name: 'Migration20261204000000CostBudget', class: Migration20261204000000CostBudget },
  { name: 'Migration20261204010000SyncHeartbeat', class: Migration20261204010000SyncHeartbeat },
  { name: 'Migration20261204100000DeviceLifecycle', class: Migration20261204100000DeviceLifecycle },
  { name: 'Migration20261204110000UsageHistory', class: Migration20261204110000UsageHistory },
  { name: 'Migration20261204120000TenantLifecycle', class: Migration20261204120000TenantLifecycle },
  { name: 'Migration20261205000000DashboardCounters', class: Migration20261205000000DashboardCounters },
  { name: 'Migration20261205100000LicenseRebillSpeed', class: Migration20261205100000LicenseRebillSpeed },
];
