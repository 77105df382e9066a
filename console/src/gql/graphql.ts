/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type AlertKind =
  | 'LICENSE_EXPIRING'
  | 'OUT_OF_COMPLIANCE'
  | 'REPORT_DUE'
  | 'REPORT_UNACKNOWLEDGED'
  | 'SYNC_DUE_SOON'
  | 'SYNC_FAILED'
  | 'SYNC_OVERDUE'
  | 'UNRECONCILED_ASSIGNMENTS';

export type AlertSeverity =
  | 'CRITICAL'
  | 'INFO'
  | 'WARNING';

/** Name the wanted license one way: level and tier, an entitlement tag, or hsec. */
export type AssignLicensesInput = {
  /** Only lines of this billing type; default: prepaid first, then postpaid. */
  billingType?: BillingType | null | undefined;
  /** Up to 10,000 devices; give deviceIds or filter, not both. */
  deviceIds?: Array<string | number> | null | undefined;
  entitlementTag?: string | null | undefined;
  /** Every device in service matching it; refused when it matches more than 10,000. */
  filter?: DeviceFilter | null | undefined;
  /** Assign the HSEC (HSECK9) license. */
  hsec?: boolean | null | undefined;
  /** A retry with the same key returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  level?: LicenseLevel | null | undefined;
  /** Only lines of this subscription. */
  subscriptionId?: string | null | undefined;
  tenantId?: string | number | null | undefined;
  tier?: Tier | null | undefined;
  /** Only lines of this virtual account. */
  virtualAccountId?: string | number | null | undefined;
};

/** A device holds at most one of each. */
export type AssignmentCategory =
  | 'DNA'
  | 'HSEC';

/** ACTIVE: bound to a license line. PENDING_RECONCILIATION: a default entitlement waiting for licenses. */
export type AssignmentStatus =
  | 'ACTIVE'
  | 'PENDING_RECONCILIATION';

export type BillingModel =
  | 'A_LA_CARTE'
  | 'ENTERPRISE_AGREEMENT'
  | 'MSLA_C'
  | 'MSLA_U';

/** PREPAID: capped by the purchased quantity. POSTPAID (MSLA): billed by use, not capped. */
export type BillingType =
  | 'POSTPAID'
  | 'PREPAID';

/** UNASSIGNED: no DNA license. PENDING_RECONCILIATION: a default entitlement not yet bound. LICENSE_EXPIRED: the term of a held license ended. NOT_APPLICABLE: a held license no longer fits the device (kind, mode, release, HSEC). OVER_ALLOCATED: a prepaid line has more devices than purchased. */
export type ComplianceReason =
  | 'LICENSE_EXPIRED'
  | 'NOT_APPLICABLE'
  | 'OVER_ALLOCATED'
  | 'PENDING_RECONCILIATION'
  | 'UNASSIGNED';

export type ComplianceStatus =
  | 'COMPLIANT'
  | 'OUT_OF_COMPLIANCE';

export type ConfigureSmartAccountInput = {
  /** The license server's account id. */
  accountId: string;
  /** Smart account domain, e.g. acme.example. Required unless fetchFromServer. */
  domain?: string | null | undefined;
  /** ONLINE / ON_PREM: take the domain, name and virtual accounts from the license server (domain and name may then be omitted). */
  fetchFromServer?: boolean | null | undefined;
  /** Required unless fetchFromServer. */
  name?: string | null | undefined;
  /** Defaults to the viewer's tenant; required for provider roles. */
  tenantId?: string | number | null | undefined;
  /** Virtual accounts to record (added or renamed by externalId; others are kept). New ones start unmanaged. */
  virtualAccounts?: Array<VirtualAccountInput> | null | undefined;
};

export type CreateTenantInput = {
  /** 1 to 200 characters. */
  name: string;
  /** Lowercase letters, digits and hyphens; 1 to 63 characters; unique. */
  slug: string;
};

export type DecommissionDevicesInput = {
  /** Up to 10,000 devices; give deviceIds or filter, not both. */
  deviceIds?: Array<string | number> | null | undefined;
  /** Every device in service matching it (at most 10,000). */
  filter?: DeviceFilter | null | undefined;
  /** A retry with the same key returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  /** Defaults to the viewer's tenant; required for provider roles. */
  tenantId?: string | number | null | undefined;
};

export type DeleteTenantInput = {
  /** The tenant's slug, typed again: a guard against deleting the wrong tenant. */
  confirmSlug: string;
  /** Delete even though usage since the last acknowledged usage report was never reported (it is then lost). */
  force?: boolean;
  id: string | number;
};

export type DeviceFilter = {
  /** Holds a license of this billing type (of its line; as asked while pending). */
  billingType?: BillingType | null | undefined;
  /** Devices out of compliance for this reason (among others). */
  complianceReason?: ComplianceReason | null | undefined;
  complianceStatus?: ComplianceStatus | null | undefined;
  /** Decommissioned devices are left out unless asked: true lists only them, false (the default) only devices in service. */
  decommissioned?: boolean | null | undefined;
  /** Holds a license of this entitlement tag (DNA or HSEC). */
  entitlementTag?: string | null | undefined;
  hsecCompatible?: boolean | null | undefined;
  kind?: DeviceKind | null | undefined;
  /** As the dashboard counts: true holds an ACTIVE DNA license; false holds none or one pending reconciliation. */
  licensed?: boolean | null | undefined;
  mode?: DeviceMode | null | undefined;
  /** Exact model. */
  model?: string | null | undefined;
  /** Case-insensitive substring of the hostname. */
  search?: string | null | undefined;
  /** Exact site id. */
  siteId?: string | null | undefined;
  /** Exact software release, e.g. 17.9.3a. */
  softwareVersion?: string | null | undefined;
  /** Holds a license from a line of this virtual account. */
  virtualAccountId?: string | number | null | undefined;
};

/** IOS XE SD-WAN (Catalyst 8000, ISR) or vEdge. */
export type DeviceKind =
  | 'IOS_XE_SDWAN'
  | 'VEDGE';

/** Operating mode of the device software. */
export type DeviceMode =
  | 'AUTONOMOUS'
  | 'CONTROLLER';

/** ACTIVE: in service. DECOMMISSIONED: retired; holds no license, counts nowhere, its history stays readable. */
export type DeviceState =
  | 'ACTIVE'
  | 'DECOMMISSIONED';

export type GenerateUsageReportInput = {
  tenantId?: string | number | null | undefined;
  /** Report against this virtual account; needed when several are managed. */
  virtualAccountId?: string | number | null | undefined;
};

/** DNA routing license level. */
export type LicenseLevel =
  | 'ADVANTAGE'
  | 'ESSENTIALS'
  | 'PREMIER';

/** How the license line arrived here. */
export type LicenseSource =
  | 'FILE'
  | 'MANUAL'
  | 'SYNC';

export type LicenseType =
  | 'DEMO'
  | 'TERM';

export type ReleaseLicensesInput = {
  /** Release only this category; default: every license. */
  category?: AssignmentCategory | null | undefined;
  /** Up to 10,000 devices; give deviceIds or filter, not both. */
  deviceIds?: Array<string | number> | null | undefined;
  /** Every device in service matching it; refused when it matches more than 10,000. */
  filter?: DeviceFilter | null | undefined;
  idempotencyKey?: string | null | undefined;
  tenantId?: string | number | null | undefined;
};

/** What a viewer may do, and over which tenants. */
export type Role =
  | 'PROVIDER_ADMIN'
  | 'PROVIDER_OPERATOR'
  | 'TENANT_ADMIN'
  | 'TENANT_OPERATOR';

export type SetLicenseSyncModeInput = {
  clientId?: string | null | undefined;
  /** Write-only. Omit to keep the stored one. */
  clientSecret?: string | null | undefined;
  /** LICENSE_EXPIRING this many days before the end (default 30). */
  licenseExpiringDays?: number | null | undefined;
  mode: SyncMode;
  /** Postpaid usage reporting period in months (default 1). */
  postpaidReportMonths?: number | null | undefined;
  /** Prepaid usage reporting period in months (default 3). */
  prepaidReportMonths?: number | null | undefined;
  /** Write-only. */
  proxyPassword?: string | null | undefined;
  /** http(s)://host:port; empty string removes the proxy. */
  proxyUrl?: string | null | undefined;
  proxyUsername?: string | null | undefined;
  /** License server URL (ONLINE: cloud; ON_PREM: the on-prem server). */
  serverUrl?: string | null | undefined;
  /** SYNC_DUE_SOON this many days before (default 7). */
  syncDueSoonDays?: number | null | undefined;
  /** Minutes between scheduled syncs (default 1440 = 24 h). */
  syncIntervalMinutes?: number | null | undefined;
  /** Days between required syncs (default 90). */
  syncRequiredDays?: number | null | undefined;
  /** Ed25519 public keys (PEM) trusted for offline files; replaces the list. */
  trustedSigningKeys?: Array<string> | null | undefined;
};

export type SetManagedVirtualAccountsInput = {
  tenantId?: string | number | null | undefined;
  /** Exactly the virtual accounts to manage; every other one becomes unmanaged. */
  virtualAccountIds: Array<string | number>;
};

/** ONLINE: the cloud license server. ON_PREM: an SSM On-Prem server. OFFLINE: files carried by hand. */
export type SyncMode =
  | 'OFFLINE'
  | 'ONLINE'
  | 'ON_PREM';

export type SyncRunStatus =
  | 'FAILED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type SyncTrigger =
  | 'FILE'
  | 'MANUAL'
  | 'SCHEDULED';

export type SynchronizeLicensesInput = {
  tenantId?: string | number | null | undefined;
};

export type TenantIdInput = {
  id: string | number;
};

/** SUSPENDED: the tenant's users are refused (TENANT_SUSPENDED) and its scheduled syncs pause; providers still manage it. */
export type TenantStatus =
  | 'ACTIVE'
  | 'SUSPENDED';

/** Throughput tier: T0 15 Mbps, T1 100 Mbps, T2 1 Gbps, T3 10 Gbps. */
export type Tier =
  | 'T0'
  | 'T1'
  | 'T2'
  | 'T3';

export type UpdateTenantInput = {
  id: string | number;
  /** 1 to 200 characters (trimmed). The slug never changes. */
  name: string;
};

export type UploadFileInput = {
  /** The file, base64-encoded, inside the JSON request (limited to MAX_BODY_BYTES, 4 MiB by default): for small files. Give this or file. */
  contentBase64?: string | null | undefined;
  /** The file as the file part of a multipart request (GraphQL multipart request spec); at most 10 MB. Give this or contentBase64. */
  file?: File | null | undefined;
  /** For the audit trail only; never used as a path. */
  fileName?: string | null | undefined;
  tenantId?: string | number | null | undefined;
};

export type UsageReportStatus =
  | 'ACKNOWLEDGED'
  | 'GENERATED';

export type UsageReportVia =
  | 'OFFLINE'
  | 'ONLINE';

export type VirtualAccountInput = {
  externalId: string;
  name: string;
};

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { subject: string, role: Role, tenant: { id: string, name: string, slug: string } | null } };

export type ShellTenantsQueryVariables = Exact<{
  after?: string | null | undefined;
}>;


export type ShellTenantsQuery = { tenants: { edges: Array<{ node: { id: string, name: string, slug: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type DevSignInTenantsQueryVariables = Exact<{ [key: string]: never; }>;


export type DevSignInTenantsQuery = { tenants: { edges: Array<{ node: { id: string, uuid: string, name: string, slug: string, status: TenantStatus } }> } };

export type SmartAccountsQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
}>;


export type SmartAccountsQuery = { smartAccounts: Array<{ id: string, domain: string, name: string, accountId: string, tenant: { id: string, name: string }, virtualAccounts: Array<{ id: string, externalId: string, name: string, managed: boolean }> }> };

export type ConfigureSmartAccountMutationVariables = Exact<{
  input: ConfigureSmartAccountInput;
}>;


export type ConfigureSmartAccountMutation = { configureSmartAccount: { id: string, domain: string, name: string, accountId: string } };

export type SetManagedVirtualAccountsMutationVariables = Exact<{
  input: SetManagedVirtualAccountsInput;
}>;


export type SetManagedVirtualAccountsMutation = { setManagedVirtualAccounts: Array<{ id: string, managed: boolean }> };

export type AlertsQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
  active?: boolean | null | undefined;
  after?: string | null | undefined;
}>;


export type AlertsQuery = { alerts: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, kind: AlertKind, severity: AlertSeverity, message: string, raisedAt: string, acknowledgedAt: string | null, acknowledgedBy: string | null, resolvedAt: string | null, active: boolean, tenant: { id: string, name: string } | null } }> } };

export type AcknowledgeAlertMutationVariables = Exact<{
  id: string | number;
}>;


export type AcknowledgeAlertMutation = { acknowledgeAlert: { id: string, acknowledgedAt: string | null, acknowledgedBy: string | null, active: boolean } };

export type LiveLicenseAlertsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type LiveLicenseAlertsSubscription = { licenseAlerts: { id: string, kind: AlertKind, severity: AlertSeverity, message: string, active: boolean, acknowledgedAt: string | null, resolvedAt: string | null, updatedAt: string, tenant: { id: string, name: string } | null } };

export type AuditEventsQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
  after?: string | null | undefined;
}>;


export type AuditEventsQuery = { auditEvents: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, action: string, actorSubject: string, actorRole: Role, targetType: string, targetIds: Array<string>, details: Record<string, unknown>, createdAt: string, tenant: { id: string, name: string } | null } }> } };

export type TenantDashboardQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
}>;


export type TenantDashboardQuery = { licenseDashboard: { tenant: { id: string, name: string } | null, entitlements: Array<{ billingType: BillingType, lines: number, purchased: number, inUse: number, available: number | null, entitlement: { id: string, displayName: string } }>, devices: { total: number, licensed: number, unlicensed: number, pendingReconciliation: number }, compliance: { compliant: number, outOfCompliance: number, reasons: Array<{ reason: ComplianceReason, devices: number }> }, expiring: { within30Days: number, within90Days: number, expired: number }, alerts: { active: number, critical: number, warning: number, unacknowledged: number }, reportingClock: { lastSyncAt: string | null, syncDueAt: string | null, lastPrepaidReportAt: string | null, prepaidReportDueAt: string | null, lastPostpaidReportAt: string | null, postpaidReportDueAt: string | null } | null } };

export type DeviceFilterOptionsQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
}>;


export type DeviceFilterOptionsQuery = { entitlements: Array<{ id: string, tag: string, displayName: string, assignable: boolean }>, smartAccounts: Array<{ id: string, name: string, virtualAccounts: Array<{ id: string, name: string, managed: boolean }> }> };

export type DevicesQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
  filter?: DeviceFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type DevicesQuery = { devices: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, hostname: string, uuid: string, model: string, kind: DeviceKind, mode: DeviceMode, softwareVersion: string, siteId: string | null, state: DeviceState, complianceStatus: ComplianceStatus, complianceReasons: Array<ComplianceReason>, tenant: { id: string, name: string }, assignments: Array<{ id: string, status: AssignmentStatus, entitlement: { id: string, displayName: string }, license: { id: string, billingType: BillingType } | null }> } }> } };

export type AssignLicensesMutationVariables = Exact<{
  input: AssignLicensesInput;
}>;


export type AssignLicensesMutation = { assignLicenses: { assigned: number, replaced: number, unchanged: number, pending: number, replayed: boolean } };

export type ReleaseLicensesMutationVariables = Exact<{
  input: ReleaseLicensesInput;
}>;


export type ReleaseLicensesMutation = { releaseLicenses: { released: number, unchanged: number, replayed: boolean } };

export type DecommissionDevicesMutationVariables = Exact<{
  input: DecommissionDevicesInput;
}>;


export type DecommissionDevicesMutation = { decommissionDevices: { decommissioned: number, alreadyDecommissioned: number, releasedAssignments: number, replayed: boolean } };

export type LicensesQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
  billingType?: BillingType | null | undefined;
  after?: string | null | undefined;
}>;


export type LicensesQuery = { licenses: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, billingType: BillingType, billingModel: BillingModel, subscriptionId: string, licenseType: LicenseType, quantity: number, inUse: number, available: number | null, startDate: string, endDate: string, expired: boolean, source: LicenseSource, overAllocated: boolean, entitlement: { id: string, displayName: string }, virtualAccount: { id: string, name: string }, tenant: { id: string, name: string } } }> } };

export type LicenseSyncSettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type LicenseSyncSettingsQuery = { licenseSyncSettings: { mode: SyncMode, serverUrl: string | null, clientId: string | null, hasCredentials: boolean, proxyUrl: string | null, hasProxyCredentials: boolean, syncIntervalMinutes: number, nextSyncAt: string | null, syncRequiredDays: number, prepaidReportMonths: number, postpaidReportMonths: number, trustedSigningKeys: Array<{ keyId: string, publicKey: string }>, lastSync: { id: string, status: SyncRunStatus, finishedAt: string | null } | null } };

export type SetLicenseSyncModeMutationVariables = Exact<{
  input: SetLicenseSyncModeInput;
}>;


export type SetLicenseSyncModeMutation = { setLicenseSyncMode: { mode: SyncMode, serverUrl: string | null, clientId: string | null, hasCredentials: boolean, proxyUrl: string | null, hasProxyCredentials: boolean, syncIntervalMinutes: number, syncRequiredDays: number, prepaidReportMonths: number, postpaidReportMonths: number, trustedSigningKeys: Array<{ keyId: string, publicKey: string }> } };

export type SynchronizeLicensesMutationVariables = Exact<{
  input?: SynchronizeLicensesInput | null | undefined;
}>;


export type SynchronizeLicensesMutation = { synchronizeLicenses: { id: string, status: SyncRunStatus, errorMessage: string | null } };

export type SyncRunsQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
  after?: string | null | undefined;
}>;


export type SyncRunsQuery = { syncRuns: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, mode: SyncMode, trigger: SyncTrigger, status: SyncRunStatus, startedAt: string, finishedAt: string | null, requestedBy: string, linesAdded: number, linesChanged: number, linesRemoved: number, usageReported: number, errorMessage: string | null, tenant: { id: string, name: string } } }> } };

export type UploadLicenseSummaryMutationVariables = Exact<{
  input: UploadFileInput;
}>;


export type UploadLicenseSummaryMutation = { uploadLicenseSummary: { serial: number, generatedAt: string, smartAccount: { id: string, name: string, accountId: string }, syncRun: { id: string, linesAdded: number, linesChanged: number, linesRemoved: number, assignmentsReconciled: number } } };

export type GenerateUsageReportMutationVariables = Exact<{
  input: GenerateUsageReportInput;
}>;


export type GenerateUsageReportMutation = { generateUsageReport: { id: string, status: UsageReportStatus, periodStart: string, periodEnd: string, measurements: number, fileSize: number | null, downloadUrl: string | null } };

export type UploadAcknowledgementMutationVariables = Exact<{
  input: UploadFileInput;
}>;


export type UploadAcknowledgementMutation = { uploadAcknowledgement: { id: string, status: UsageReportStatus, ackId: string | null, acknowledgedAt: string | null, acknowledgedSmartAccount: string | null, acknowledgedVirtualAccount: string | null } };

export type OfflineContextQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
}>;


export type OfflineContextQuery = { licenseSyncSettings: { mode: SyncMode }, smartAccounts: Array<{ id: string, virtualAccounts: Array<{ id: string, name: string, managed: boolean }> }>, usageReports: { edges: Array<{ node: { id: string, via: UsageReportVia, status: UsageReportStatus, generatedAt: string, measurements: number, downloadUrl: string | null, acknowledgedAt: string | null } }> } };

export type TenantsOverviewQueryVariables = Exact<{ [key: string]: never; }>;


export type TenantsOverviewQuery = { licenseDashboard: { tenants: Array<{ tenant: { id: string, name: string, slug: string, status: TenantStatus } | null, devices: { total: number, licensed: number, unlicensed: number, pendingReconciliation: number }, compliance: { outOfCompliance: number, reasons: Array<{ reason: ComplianceReason, devices: number }> }, alerts: { active: number, critical: number }, reportingClock: { lastSyncAt: string | null, syncDueAt: string | null, prepaidReportDueAt: string | null, postpaidReportDueAt: string | null } | null }> | null } };

export type TenantsQueryVariables = Exact<{
  after?: string | null | undefined;
}>;


export type TenantsQuery = { tenants: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, uuid: string, name: string, slug: string, status: TenantStatus, createdAt: string, suspendedAt: string | null } }> } };

export type CreateTenantMutationVariables = Exact<{
  input: CreateTenantInput;
}>;


export type CreateTenantMutation = { createTenant: { id: string, name: string, slug: string, status: TenantStatus } };

export type RenameTenantMutationVariables = Exact<{
  input: UpdateTenantInput;
}>;


export type RenameTenantMutation = { updateTenant: { id: string, name: string } };

export type SuspendTenantMutationVariables = Exact<{
  input: TenantIdInput;
}>;


export type SuspendTenantMutation = { suspendTenant: { id: string, status: TenantStatus, suspendedAt: string | null } };

export type ResumeTenantMutationVariables = Exact<{
  input: TenantIdInput;
}>;


export type ResumeTenantMutation = { resumeTenant: { id: string, status: TenantStatus, suspendedAt: string | null } };

export type DeleteTenantMutationVariables = Exact<{
  input: DeleteTenantInput;
}>;


export type DeleteTenantMutation = { deleteTenant: { id: string, slug: string, removedTotal: number, unreportedDevices: number } };

export type LicenseUsageQueryVariables = Exact<{
  tenantId?: string | number | null | undefined;
  from: string;
  to: string;
}>;


export type LicenseUsageQuery = { licenseUsage: Array<{ periodStart: string, billingType: BillingType | null, billingModel: BillingModel | null, deviceDays: number, peakDevices: number, averageDevices: number, tenant: { id: string, name: string }, entitlement: { id: string, displayName: string } }> };


export const ViewerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}}]}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;
export const ShellTenantsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ShellTenants"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenants"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<ShellTenantsQuery, ShellTenantsQueryVariables>;
export const DevSignInTenantsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DevSignInTenants"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenants"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"uuid"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}}]}}]} as unknown as DocumentNode<DevSignInTenantsQuery, DevSignInTenantsQueryVariables>;
export const SmartAccountsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SmartAccounts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"smartAccounts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"domain"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"accountId"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"virtualAccounts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"managed"}}]}}]}}]}}]} as unknown as DocumentNode<SmartAccountsQuery, SmartAccountsQueryVariables>;
export const ConfigureSmartAccountDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConfigureSmartAccount"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ConfigureSmartAccountInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"configureSmartAccount"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"domain"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"accountId"}}]}}]}}]} as unknown as DocumentNode<ConfigureSmartAccountMutation, ConfigureSmartAccountMutationVariables>;
export const SetManagedVirtualAccountsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SetManagedVirtualAccounts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetManagedVirtualAccountsInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setManagedVirtualAccounts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"managed"}}]}}]}}]} as unknown as DocumentNode<SetManagedVirtualAccountsMutation, SetManagedVirtualAccountsMutationVariables>;
export const AlertsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Alerts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"active"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"alerts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"active"},"value":{"kind":"Variable","name":{"kind":"Name","value":"active"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"severity"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"raisedAt"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedAt"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedBy"}},{"kind":"Field","name":{"kind":"Name","value":"resolvedAt"}},{"kind":"Field","name":{"kind":"Name","value":"active"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<AlertsQuery, AlertsQueryVariables>;
export const AcknowledgeAlertDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AcknowledgeAlert"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"acknowledgeAlert"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedAt"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedBy"}},{"kind":"Field","name":{"kind":"Name","value":"active"}}]}}]}}]} as unknown as DocumentNode<AcknowledgeAlertMutation, AcknowledgeAlertMutationVariables>;
export const LiveLicenseAlertsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"LiveLicenseAlerts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenseAlerts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"severity"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"active"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedAt"}},{"kind":"Field","name":{"kind":"Name","value":"resolvedAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]} as unknown as DocumentNode<LiveLicenseAlertsSubscription, LiveLicenseAlertsSubscriptionVariables>;
export const AuditEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"AuditEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"auditEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"actorSubject"}},{"kind":"Field","name":{"kind":"Name","value":"actorRole"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetIds"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<AuditEventsQuery, AuditEventsQueryVariables>;
export const TenantDashboardDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TenantDashboard"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenseDashboard"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"entitlements"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"entitlement"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"billingType"}},{"kind":"Field","name":{"kind":"Name","value":"lines"}},{"kind":"Field","name":{"kind":"Name","value":"purchased"}},{"kind":"Field","name":{"kind":"Name","value":"inUse"}},{"kind":"Field","name":{"kind":"Name","value":"available"}}]}},{"kind":"Field","name":{"kind":"Name","value":"devices"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"licensed"}},{"kind":"Field","name":{"kind":"Name","value":"unlicensed"}},{"kind":"Field","name":{"kind":"Name","value":"pendingReconciliation"}}]}},{"kind":"Field","name":{"kind":"Name","value":"compliance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"compliant"}},{"kind":"Field","name":{"kind":"Name","value":"outOfCompliance"}},{"kind":"Field","name":{"kind":"Name","value":"reasons"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"devices"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"expiring"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"within30Days"}},{"kind":"Field","name":{"kind":"Name","value":"within90Days"}},{"kind":"Field","name":{"kind":"Name","value":"expired"}}]}},{"kind":"Field","name":{"kind":"Name","value":"alerts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"active"}},{"kind":"Field","name":{"kind":"Name","value":"critical"}},{"kind":"Field","name":{"kind":"Name","value":"warning"}},{"kind":"Field","name":{"kind":"Name","value":"unacknowledged"}}]}},{"kind":"Field","name":{"kind":"Name","value":"reportingClock"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"lastSyncAt"}},{"kind":"Field","name":{"kind":"Name","value":"syncDueAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastPrepaidReportAt"}},{"kind":"Field","name":{"kind":"Name","value":"prepaidReportDueAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastPostpaidReportAt"}},{"kind":"Field","name":{"kind":"Name","value":"postpaidReportDueAt"}}]}}]}}]}}]} as unknown as DocumentNode<TenantDashboardQuery, TenantDashboardQueryVariables>;
export const DeviceFilterOptionsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DeviceFilterOptions"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"entitlements"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tag"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"assignable"}}]}},{"kind":"Field","name":{"kind":"Name","value":"smartAccounts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"virtualAccounts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"managed"}}]}}]}}]}}]} as unknown as DocumentNode<DeviceFilterOptionsQuery, DeviceFilterOptionsQueryVariables>;
export const DevicesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Devices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"hostname"}},{"kind":"Field","name":{"kind":"Name","value":"uuid"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"mode"}},{"kind":"Field","name":{"kind":"Name","value":"softwareVersion"}},{"kind":"Field","name":{"kind":"Name","value":"siteId"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"complianceStatus"}},{"kind":"Field","name":{"kind":"Name","value":"complianceReasons"}},{"kind":"Field","name":{"kind":"Name","value":"assignments"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entitlement"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"license"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"billingType"}}]}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<DevicesQuery, DevicesQueryVariables>;
export const AssignLicensesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AssignLicenses"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"AssignLicensesInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"assignLicenses"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"assigned"}},{"kind":"Field","name":{"kind":"Name","value":"replaced"}},{"kind":"Field","name":{"kind":"Name","value":"unchanged"}},{"kind":"Field","name":{"kind":"Name","value":"pending"}},{"kind":"Field","name":{"kind":"Name","value":"replayed"}}]}}]}}]} as unknown as DocumentNode<AssignLicensesMutation, AssignLicensesMutationVariables>;
export const ReleaseLicensesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ReleaseLicenses"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ReleaseLicensesInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"releaseLicenses"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"released"}},{"kind":"Field","name":{"kind":"Name","value":"unchanged"}},{"kind":"Field","name":{"kind":"Name","value":"replayed"}}]}}]}}]} as unknown as DocumentNode<ReleaseLicensesMutation, ReleaseLicensesMutationVariables>;
export const DecommissionDevicesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DecommissionDevices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DecommissionDevicesInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"decommissionDevices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"decommissioned"}},{"kind":"Field","name":{"kind":"Name","value":"alreadyDecommissioned"}},{"kind":"Field","name":{"kind":"Name","value":"releasedAssignments"}},{"kind":"Field","name":{"kind":"Name","value":"replayed"}}]}}]}}]} as unknown as DocumentNode<DecommissionDevicesMutation, DecommissionDevicesMutationVariables>;
export const LicensesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Licenses"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"billingType"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"BillingType"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenses"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"billingType"},"value":{"kind":"Variable","name":{"kind":"Name","value":"billingType"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"entitlement"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"virtualAccount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"billingType"}},{"kind":"Field","name":{"kind":"Name","value":"billingModel"}},{"kind":"Field","name":{"kind":"Name","value":"subscriptionId"}},{"kind":"Field","name":{"kind":"Name","value":"licenseType"}},{"kind":"Field","name":{"kind":"Name","value":"quantity"}},{"kind":"Field","name":{"kind":"Name","value":"inUse"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"startDate"}},{"kind":"Field","name":{"kind":"Name","value":"endDate"}},{"kind":"Field","name":{"kind":"Name","value":"expired"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"overAllocated"}}]}}]}}]}}]}}]} as unknown as DocumentNode<LicensesQuery, LicensesQueryVariables>;
export const LicenseSyncSettingsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"LicenseSyncSettings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenseSyncSettings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"mode"}},{"kind":"Field","name":{"kind":"Name","value":"serverUrl"}},{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"hasCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"proxyUrl"}},{"kind":"Field","name":{"kind":"Name","value":"hasProxyCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalMinutes"}},{"kind":"Field","name":{"kind":"Name","value":"trustedSigningKeys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"keyId"}},{"kind":"Field","name":{"kind":"Name","value":"publicKey"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nextSyncAt"}},{"kind":"Field","name":{"kind":"Name","value":"syncRequiredDays"}},{"kind":"Field","name":{"kind":"Name","value":"prepaidReportMonths"}},{"kind":"Field","name":{"kind":"Name","value":"postpaidReportMonths"}},{"kind":"Field","name":{"kind":"Name","value":"lastSync"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}}]}}]}}]}}]} as unknown as DocumentNode<LicenseSyncSettingsQuery, LicenseSyncSettingsQueryVariables>;
export const SetLicenseSyncModeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SetLicenseSyncMode"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetLicenseSyncModeInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setLicenseSyncMode"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"mode"}},{"kind":"Field","name":{"kind":"Name","value":"serverUrl"}},{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"hasCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"proxyUrl"}},{"kind":"Field","name":{"kind":"Name","value":"hasProxyCredentials"}},{"kind":"Field","name":{"kind":"Name","value":"syncIntervalMinutes"}},{"kind":"Field","name":{"kind":"Name","value":"trustedSigningKeys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"keyId"}},{"kind":"Field","name":{"kind":"Name","value":"publicKey"}}]}},{"kind":"Field","name":{"kind":"Name","value":"syncRequiredDays"}},{"kind":"Field","name":{"kind":"Name","value":"prepaidReportMonths"}},{"kind":"Field","name":{"kind":"Name","value":"postpaidReportMonths"}}]}}]}}]} as unknown as DocumentNode<SetLicenseSyncModeMutation, SetLicenseSyncModeMutationVariables>;
export const SynchronizeLicensesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SynchronizeLicenses"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SynchronizeLicensesInput"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"synchronizeLicenses"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}}]}}]}}]} as unknown as DocumentNode<SynchronizeLicensesMutation, SynchronizeLicensesMutationVariables>;
export const SyncRunsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SyncRuns"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncRuns"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"25"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"mode"}},{"kind":"Field","name":{"kind":"Name","value":"trigger"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"requestedBy"}},{"kind":"Field","name":{"kind":"Name","value":"linesAdded"}},{"kind":"Field","name":{"kind":"Name","value":"linesChanged"}},{"kind":"Field","name":{"kind":"Name","value":"linesRemoved"}},{"kind":"Field","name":{"kind":"Name","value":"usageReported"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}}]}}]}}]}}]}}]} as unknown as DocumentNode<SyncRunsQuery, SyncRunsQueryVariables>;
export const UploadLicenseSummaryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UploadLicenseSummary"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UploadFileInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uploadLicenseSummary"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"serial"}},{"kind":"Field","name":{"kind":"Name","value":"generatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"smartAccount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"accountId"}}]}},{"kind":"Field","name":{"kind":"Name","value":"syncRun"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"linesAdded"}},{"kind":"Field","name":{"kind":"Name","value":"linesChanged"}},{"kind":"Field","name":{"kind":"Name","value":"linesRemoved"}},{"kind":"Field","name":{"kind":"Name","value":"assignmentsReconciled"}}]}}]}}]}}]} as unknown as DocumentNode<UploadLicenseSummaryMutation, UploadLicenseSummaryMutationVariables>;
export const GenerateUsageReportDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"GenerateUsageReport"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"GenerateUsageReportInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"generateUsageReport"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"periodStart"}},{"kind":"Field","name":{"kind":"Name","value":"periodEnd"}},{"kind":"Field","name":{"kind":"Name","value":"measurements"}},{"kind":"Field","name":{"kind":"Name","value":"fileSize"}},{"kind":"Field","name":{"kind":"Name","value":"downloadUrl"}}]}}]}}]} as unknown as DocumentNode<GenerateUsageReportMutation, GenerateUsageReportMutationVariables>;
export const UploadAcknowledgementDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UploadAcknowledgement"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UploadFileInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uploadAcknowledgement"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"ackId"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedAt"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedSmartAccount"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedVirtualAccount"}}]}}]}}]} as unknown as DocumentNode<UploadAcknowledgementMutation, UploadAcknowledgementMutationVariables>;
export const OfflineContextDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OfflineContext"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenseSyncSettings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"mode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"smartAccounts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"virtualAccounts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"managed"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"usageReports"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"via"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"generatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"measurements"}},{"kind":"Field","name":{"kind":"Name","value":"downloadUrl"}},{"kind":"Field","name":{"kind":"Name","value":"acknowledgedAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<OfflineContextQuery, OfflineContextQueryVariables>;
export const TenantsOverviewDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TenantsOverview"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenseDashboard"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenants"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"devices"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"licensed"}},{"kind":"Field","name":{"kind":"Name","value":"unlicensed"}},{"kind":"Field","name":{"kind":"Name","value":"pendingReconciliation"}}]}},{"kind":"Field","name":{"kind":"Name","value":"compliance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"outOfCompliance"}},{"kind":"Field","name":{"kind":"Name","value":"reasons"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"devices"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"alerts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"active"}},{"kind":"Field","name":{"kind":"Name","value":"critical"}}]}},{"kind":"Field","name":{"kind":"Name","value":"reportingClock"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"lastSyncAt"}},{"kind":"Field","name":{"kind":"Name","value":"syncDueAt"}},{"kind":"Field","name":{"kind":"Name","value":"prepaidReportDueAt"}},{"kind":"Field","name":{"kind":"Name","value":"postpaidReportDueAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<TenantsOverviewQuery, TenantsOverviewQueryVariables>;
export const TenantsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Tenants"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenants"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"uuid"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"suspendedAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<TenantsQuery, TenantsQueryVariables>;
export const CreateTenantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateTenant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateTenantInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createTenant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]} as unknown as DocumentNode<CreateTenantMutation, CreateTenantMutationVariables>;
export const RenameTenantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RenameTenant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateTenantInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateTenant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<RenameTenantMutation, RenameTenantMutationVariables>;
export const SuspendTenantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SuspendTenant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"TenantIdInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"suspendTenant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"suspendedAt"}}]}}]}}]} as unknown as DocumentNode<SuspendTenantMutation, SuspendTenantMutationVariables>;
export const ResumeTenantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ResumeTenant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"TenantIdInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resumeTenant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"suspendedAt"}}]}}]}}]} as unknown as DocumentNode<ResumeTenantMutation, ResumeTenantMutationVariables>;
export const DeleteTenantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DeleteTenant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DeleteTenantInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deleteTenant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}},{"kind":"Field","name":{"kind":"Name","value":"removedTotal"}},{"kind":"Field","name":{"kind":"Name","value":"unreportedDevices"}}]}}]}}]} as unknown as DocumentNode<DeleteTenantMutation, DeleteTenantMutationVariables>;
export const LicenseUsageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"LicenseUsage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"licenseUsage"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"tenantId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tenantId"}}},{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}},{"kind":"Argument","name":{"kind":"Name","value":"granularity"},"value":{"kind":"EnumValue","value":"MONTH"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"periodStart"}},{"kind":"Field","name":{"kind":"Name","value":"entitlement"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"billingType"}},{"kind":"Field","name":{"kind":"Name","value":"billingModel"}},{"kind":"Field","name":{"kind":"Name","value":"deviceDays"}},{"kind":"Field","name":{"kind":"Name","value":"peakDevices"}},{"kind":"Field","name":{"kind":"Name","value":"averageDevices"}}]}}]}}]} as unknown as DocumentNode<LicenseUsageQuery, LicenseUsageQueryVariables>;