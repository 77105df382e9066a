import type { ClaimMapping } from '../config';
import { isRole, type Role } from './roles';

/**
 * Reads a claim by path, as identity providers nest them.
 *
 * A path is split at dots, but a key that itself contains dots (or colons, slashes) wins: at each
 * level the longest run of path segments that is a key of the object there is taken first, and the
 * rest of the path is looked up below it. So `realm_access.roles` reads `{ realm_access: { roles } }`,
 * and `https://example.com/claims.tenant` reads the top-level key of that name when the token has
 * one, else `{ "https://example.com/claims": { tenant } }`. Only own keys count (never `__proto__`).
 */
export function claimAt(source: unknown, path: string): unknown {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return undefined;
  const obj = source as Record<string, unknown>;
  if (Object.hasOwn(obj, path)) return obj[path];
  const segments = path.split('.');
  for (let take = segments.length - 1; take >= 1; take -= 1) {
    const key = segments.slice(0, take).join('.');
    if (!Object.hasOwn(obj, key)) continue;
    const found = claimAt(obj[key], segments.slice(take).join('.'));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The role a role claim grants. The claim may be one value or a list (Keycloak's
 * `realm_access.roles`, Auth0's role arrays): values are tried in the token's order and the first
 * that maps to a role wins; values that map to nothing (`offline_access`, `default-roles-x`) are skipped.
 * With JWT_ROLE_MAP only its group names count; without it a value must be a role name.
 */
export function roleFromClaim(value: unknown, roleMap: ClaimMapping['roleMap']): Role | undefined {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const role = roleMap ? roleMap.get(v) : v;
    if (isRole(role)) return role;
  }
  return undefined;
}
