import { registerEnumType } from 'type-graphql';

export enum AssignmentStatus {
  ACTIVE = 'ACTIVE',
  PENDING_RECONCILIATION = 'PENDING_RECONCILIATION',
}
export enum AssignmentCategory {
  DNA = 'DNA',
  HSEC = 'HSEC',
}
export enum ComplianceStatus {
  COMPLIANT = 'COMPLIANT',
  OUT_OF_COMPLIANCE = 'OUT_OF_COMPLIANCE',
}
export enum ComplianceReason {
  UNASSIGNED = 'UNASSIGNED',
  PENDING_RECONCILIATION = 'PENDING_RECONCILIATION',
  LICENSE_EXPIRED = 'LICENSE_EXPIRED',
  NOT_APPLICABLE = 'NOT_APPLICABLE',
  OVER_ALLOCATED = 'OVER_ALLOCATED',
}

registerEnumType(AssignmentStatus, {
  name: 'AssignmentStatus',
  description: 'ACTIVE: bound to a license line. PENDING_RECONCILIATION: a default entitlement waiting for licenses.',
});
registerEnumType(AssignmentCategory, { name: 'AssignmentCategory', description: 'A device holds at most one of each.' });
registerEnumType(ComplianceStatus, { name: 'ComplianceStatus' });
registerEnumType(ComplianceReason, {
  name: 'ComplianceReason',
  description:
    'UNASSIGNED: no DNA license. PENDING_RECONCILIATION: a default entitlement not yet bound. LICENSE_EXPIRED: the term of a held license ended. NOT_APPLICABLE: a held license no longer fits the device (kind, mode, release, HSEC). OVER_ALLOCATED: a prepaid line has more devices than purchased.',
});
