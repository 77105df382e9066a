import type { DeviceFilter } from '../../gql/graphql';

/** The filter's fields as query parameters of GET /files/devices.csv (named as DeviceFilter's fields). */
export function filterToSearchParams(filter: DeviceFilter, tenantId: string | undefined): URLSearchParams {
  const params = new URLSearchParams();
  if (tenantId) params.set('tenantId', tenantId);
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  return params;
}

/** Drops empty fields: what the API receives is exactly what the person chose. */
export function cleanFilter(filter: DeviceFilter): DeviceFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== null && v !== '')) as DeviceFilter;
}
