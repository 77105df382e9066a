import 'reflect-metadata';
import { assertObjectType, type GraphQLResolveInfo } from 'graphql';
import { getSchema } from '../server/schema';
import { preload, servePreloaded } from './preload';

/** common/preload.ts on the real schema: what a page preloads is served as it is; guarded fields are refused. */
describe('servePreloaded', () => {
  const schema = getSchema();
  const field = (type: string, name: string) => assertObjectType(schema.getType(type)).getFields()[name];

  it('answers a preloaded value at once, the very object given, without calling the resolver', () => {
    const resolve = field('Device', 'assignments').resolve;
    if (!resolve) throw new Error('Device.assignments has no resolver');
    const held = [{ id: 'a' }];
    const device = preload({ dbId: 'd' }, 'assignments', held);
    // No context: reaching the loader would throw, so an answer proves it was not reached.
    expect(resolve(device, {}, undefined, {} as GraphQLResolveInfo)).toBe(held);
    // A preloaded null (a pending assignment) is an answer too, though the line id would send the resolver loading.
    const license = field('LicenseAssignment', 'license').resolve;
    expect(license?.(preload({ licenseId: 'line' }, 'license', null), {}, undefined, {} as GraphQLResolveInfo)).toBeNull();
  });

  it('leaves an object without a preloaded value to the field resolver', async () => {
    const resolve = field('LicenseAssignment', 'license').resolve;
    // Without a context the resolver's loader cannot run: the failure shows it was the resolver that answered.
    await expect(Promise.resolve().then(() => resolve?.({ licenseId: 'line' }, {}, undefined, {} as GraphQLResolveInfo))).rejects.toThrow();
    // A pending assignment holds no line: the resolver itself answers null without loading.
    await expect(Promise.resolve(resolve?.({ licenseId: null }, {}, undefined, {} as GraphQLResolveInfo))).resolves.toBeNull();
  });

  it('is refused for a field with @Authorized, so a preloaded value never skips a check', () => {
    expect(() => servePreloaded(schema, 'Query', 'devices')).toThrow(/Query\.devices has @Authorized or middleware/);
    expect(() => servePreloaded(schema, 'Mutation', 'assignLicenses')).toThrow(/@Authorized/);
    expect(() => servePreloaded(schema, 'Device', 'nope')).toThrow(/Device has no field nope/);
  });
});
