import { registerEnumType } from 'type-graphql';

export enum TenantStatus {
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
}

registerEnumType(TenantStatus, {
  name: 'TenantStatus',
  description: "SUSPENDED: the tenant's users are refused (TENANT_SUSPENDED) and its scheduled syncs pause; providers still manage it.",
});
