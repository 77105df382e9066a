import { Role, isProviderRole } from './roles';

/**
 * Who is asking. Built once per request from a verified JWT and never changed afterwards.
 * `tenantId` is set for tenant roles and null for provider roles.
 */
export interface Viewer {
  readonly subject: string;
  readonly role: Role;
  readonly tenantId: string | null;
  /** Seconds since the epoch at which the token stops being valid. */
  readonly expiresAt: number;
}

export function createViewer(subject: string, role: Role, tenantId: string | null, expiresAt: number): Viewer {
  return Object.freeze({ subject, role, tenantId, expiresAt });
}

export function isProvider(viewer: Viewer): boolean {
  return isProviderRole(viewer.role);
}
