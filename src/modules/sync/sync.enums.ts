import { registerEnumType } from 'type-graphql';

export enum SyncMode {
  ONLINE = 'ONLINE',
  OFFLINE = 'OFFLINE',
  ON_PREM = 'ON_PREM',
}
export enum SyncRunStatus {
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
export enum SyncTrigger {
  MANUAL = 'MANUAL',
  SCHEDULED = 'SCHEDULED',
  FILE = 'FILE',
}
export enum UsageReportStatus {
  GENERATED = 'GENERATED',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
}
export enum UsageReportVia {
  ONLINE = 'ONLINE',
  OFFLINE = 'OFFLINE',
}

registerEnumType(SyncMode, {
  name: 'SyncMode',
  description: 'ONLINE: the cloud license server. ON_PREM: an SSM On-Prem server. OFFLINE: files carried by hand.',
});
registerEnumType(SyncRunStatus, { name: 'SyncRunStatus' });
registerEnumType(SyncTrigger, { name: 'SyncTrigger' });
registerEnumType(UsageReportStatus, { name: 'UsageReportStatus' });
registerEnumType(UsageReportVia, { name: 'UsageReportVia' });
