import { claimAt, roleFromClaim } from './claims';
import { Role } from './roles';

describe('claimAt', () => {
  const token = {
    role: 'TENANT_ADMIN',
    realm_access: { roles: ['offline_access', 'admins'] },
    'https://example.com/claims.tenant': 'acme',
    'https://example.com/claims': { role: 'ops', tenant: 'nested' },
    'urn:zitadel:iam:org:id': '42',
    a: { 'b.c': { d: 1 }, b: { c: { d: 2 } } },
  };

  it.each([
    ['role', 'TENANT_ADMIN'],
    ['realm_access.roles', ['offline_access', 'admins']],
    ['urn:zitadel:iam:org:id', '42'],
    // The key with the dot, present at the top level, wins over the nested reading.
    ['https://example.com/claims.tenant', 'acme'],
    ['https://example.com/claims.role', 'ops'],
    // Longest key first at each level: "b.c" before "b" -> "c".
    ['a.b.c.d', 1],
  ])('reads %s', (path, value) => {
    expect(claimAt(token, path)).toEqual(value);
  });

  it('falls back to the shorter key when the longer one does not lead to the claim', () => {
    expect(claimAt({ a: { 'b.c': {}, b: { c: { d: 2 } } } }, 'a.b.c.d')).toBe(2);
  });

  it.each(['missing', 'realm_access.groups', 'role.length', '__proto__', 'constructor.name', 'realm_access.roles.0'])(
    'finds nothing at %s',
    (path) => {
      expect(claimAt(token, path)).toBeUndefined();
    },
  );
});

describe('roleFromClaim', () => {
  const map = new Map([
    ['admins', Role.PROVIDER_ADMIN],
    ['ops', Role.TENANT_OPERATOR],
  ]);

  it('takes a role name as it is without a map, and only mapped groups with one', () => {
    expect(roleFromClaim('TENANT_ADMIN', undefined)).toBe(Role.TENANT_ADMIN);
    expect(roleFromClaim('TENANT_ADMIN', map)).toBeUndefined();
    expect(roleFromClaim('ops', map)).toBe(Role.TENANT_OPERATOR);
  });

  it('takes the first value of a list that maps, skipping the others', () => {
    expect(roleFromClaim(['offline_access', 42, 'ops', 'admins'], map)).toBe(Role.TENANT_OPERATOR);
    expect(roleFromClaim(['admins', 'ops'], map)).toBe(Role.PROVIDER_ADMIN);
    expect(roleFromClaim(['offline_access'], map)).toBeUndefined();
    expect(roleFromClaim({ admins: true }, map)).toBeUndefined();
  });
});
