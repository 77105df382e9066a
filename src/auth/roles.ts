import { registerEnumType } from 'type-graphql';

export enum Role {
  PROVIDER_ADMIN = 'PROVIDER_ADMIN',
  PROVIDER_OPERATOR = 'PROVIDER_OPERATOR',
  TENANT_ADMIN = 'TENANT_ADMIN',
  TENANT_OPERATOR = 'TENANT_OPERATOR',
}

registerEnumType(Role, { name: 'Role', description: 'What a viewer may do, and over which tenants.' });

export const ALL_ROLES: readonly Role[] = Object.values(Role);
export const PROVIDER_ROLES: readonly Role[] = [Role.PROVIDER_ADMIN, Role.PROVIDER_OPERATOR];
export const TENANT_ROLES: readonly Role[] = [Role.TENANT_ADMIN, Role.TENANT_OPERATOR];

/** Role lists for `@Authorized(...)`, named by intent so each operation's rule reads at a glance. */
export const Roles = {
  anyone: ALL_ROLES as Role[],
  providerAdmin: [Role.PROVIDER_ADMIN],
  providers: PROVIDER_ROLES as Role[],
  admins: [Role.PROVIDER_ADMIN, Role.TENANT_ADMIN],
} as const;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ALL_ROLES as readonly string[]).includes(value);
}

export function isProviderRole(role: Role): boolean {
  return PROVIDER_ROLES.includes(role);
}
