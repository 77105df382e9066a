import { registerEnumType } from 'type-graphql';

export enum AlertKind {
  SYNC_DUE_SOON = 'SYNC_DUE_SOON',
  SYNC_OVERDUE = 'SYNC_OVERDUE',
  SYNC_FAILED = 'SYNC_FAILED',
  REPORT_DUE = 'REPORT_DUE',
  REPORT_UNACKNOWLEDGED = 'REPORT_UNACKNOWLEDGED',
  OUT_OF_COMPLIANCE = 'OUT_OF_COMPLIANCE',
  LICENSE_EXPIRING = 'LICENSE_EXPIRING',
  UNRECONCILED_ASSIGNMENTS = 'UNRECONCILED_ASSIGNMENTS',
}
export enum AlertSeverity {
  INFO = 'INFO',
  WARNING = 'WARNING',
  CRITICAL = 'CRITICAL',
}

registerEnumType(AlertKind, { name: 'AlertKind' });
registerEnumType(AlertSeverity, { name: 'AlertSeverity' });
