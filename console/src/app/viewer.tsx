import { createContext, useContext } from 'react';
import type { Role } from '../gql/graphql';

export interface ViewerInfo {
  subject: string;
  role: Role;
  tenant: { id: string; name: string; slug: string } | null;
}

export const ViewerContext = createContext<ViewerInfo | null>(null);

export function useViewer(): ViewerInfo {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error('useViewer outside a signed-in console');
  return viewer;
}

/**
 * What the console shows a role. The API decides what is allowed (every operation has its role list);
 * these only hide what a role could not do anyway.
 */
export function permissions(role: Role) {
  const provider = role === 'PROVIDER_ADMIN' || role === 'PROVIDER_OPERATOR';
  return {
    provider,
    /** Create, rename, suspend, resume, delete tenants; choose the sync mode and its settings. */
    manageProvider: role === 'PROVIDER_ADMIN',
    /** Configure accounts, register and decommission devices, upload and generate files, acknowledge alerts. */
    administer: role === 'PROVIDER_ADMIN' || role === 'TENANT_ADMIN',
    /** Assign and release licenses (every role but read-only ones; all four roles may). */
    assign: true,
    /** Sync now: providers (admin and operator) and tenant admins. */
    sync: role !== 'TENANT_OPERATOR',
  };
}

export const ROLE_WORDS: Record<Role, string> = {
  PROVIDER_ADMIN: 'Provider administrator',
  PROVIDER_OPERATOR: 'Provider operator',
  TENANT_ADMIN: 'Tenant administrator',
  TENANT_OPERATOR: 'Tenant operator',
};
