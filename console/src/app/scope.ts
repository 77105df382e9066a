import { useLocation, useSearch } from 'wouter';
import { permissions, useViewer } from './viewer';

/**
 * The tenant a screen shows. Tenant users: their own (the API scopes by the token; no id is sent).
 * Providers: the tenant chosen in the header, kept in the URL (?tenant=<id>) so a link or a reload
 * shows the same; none chosen means the provider-wide view where the API offers one.
 */
export function useTenantScope(): { tenantId: string | undefined; provider: boolean; setTenantId: (id: string | undefined) => void } {
  const viewer = useViewer();
  const search = useSearch();
  const [location, navigate] = useLocation();
  const provider = permissions(viewer.role).provider;
  const tenantId = provider ? (new URLSearchParams(search).get('tenant') ?? undefined) : undefined;
  return {
    tenantId,
    provider,
    setTenantId: (id) => navigate(id ? `${location}?tenant=${encodeURIComponent(id)}` : location),
  };
}

/** A console path keeping the provider's chosen tenant. */
export function useScopedHref(): (path: string) => string {
  const search = useSearch();
  const tenant = new URLSearchParams(search).get('tenant');
  return (path) => (tenant ? `${path}?tenant=${encodeURIComponent(tenant)}` : path);
}
