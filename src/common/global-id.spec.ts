import fc from 'fast-check';
import { GraphQLError } from 'graphql';
import { fromGlobalId, parseIdArg, toGlobalId } from './global-id';
import { decodeCursor, encodeCursor } from './relay';

describe('global ids', () => {
  it('round-trip every uuid for every node type', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.constantFrom('Tenant' as const, 'Device' as const), (uuid, type) => {
        expect(fromGlobalId(toGlobalId(type, uuid))).toEqual({ type, id: uuid.toLowerCase() });
        expect(parseIdArg(toGlobalId(type, uuid), type, 'id')).toBe(uuid.toLowerCase());
      }),
    );
  });

  it('never decode arbitrary strings into an id that is not a uuid', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const parsed = fromGlobalId(s);
        if (parsed) expect(parsed.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }),
    );
  });

  it('refuse an id of another type with BAD_USER_INPUT naming the argument', () => {
    const deviceId = toGlobalId('Device', '3f2c0a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f');
    expect(() => parseIdArg(deviceId, 'Tenant', 'tenantId')).toThrow(GraphQLError);
    try {
      parseIdArg(deviceId, 'Tenant', 'tenantId');
    } catch (err) {
      expect((err as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
      expect((err as GraphQLError).message).toContain('tenantId');
    }
  });
});

describe('cursors', () => {
  it('round-trip any sort key', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer()), { minLength: 1, maxLength: 3 }), (key) => {
        const shape = key.map((k) => (typeof k === 'number' ? ('number' as const) : ('string' as const)));
        expect(decodeCursor(encodeCursor('things', key), { list: 'things', shape })).toEqual(key);
      }),
    );
  });

  it('refuse a cursor whose time or date part is not one, before it can reach a query', () => {
    const forged = encodeCursor('alerts', ['not-a-time', '3f2c0a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f']);
    expect(() => decodeCursor(forged, { list: 'alerts', shape: ['timestamp', 'uuid'] })).toThrow(/not a cursor/);
    const good = encodeCursor('alerts', ['2026-11-28T09:00:00.123Z', '3f2c0a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f']);
    expect(decodeCursor(good, { list: 'alerts', shape: ['timestamp', 'uuid'] })).toEqual(['2026-11-28T09:00:00.123Z', '3f2c0a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f']);
    const badDate = encodeCursor('licenses', ['2026-13-45', '3f2c0a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f']);
    expect(() => decodeCursor(badDate, { list: 'licenses', shape: ['date', 'uuid'] })).toThrow(/not a cursor/);
  });

  it('refuse a well-formed cursor of another list', () => {
    const other = encodeCursor('licenses', ['2026-01-01', '3f2c0a4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f']);
    expect(() => decodeCursor(other, { list: 'auditEvents', shape: ['string', 'uuid'] })).toThrow(/not a cursor returned by this list/);
  });

  it('refuse anything that is not a cursor of the right shape, never throwing anything but BAD_USER_INPUT', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          const value = decodeCursor(s, { list: 'things', shape: ['string', 'uuid'] });
          expect(value).toHaveLength(2);
        } catch (err) {
          expect((err as GraphQLError).extensions?.code).toBe('BAD_USER_INPUT');
        }
      }),
    );
  });
});
