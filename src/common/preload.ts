import { getMetadataStorage } from 'type-graphql';
import { assertObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { InvariantError } from './errors';

const PRELOADED = Symbol('preloaded field values');

type Holder = { [PRELOADED]?: Record<string, unknown> };

/**
 * Gives an object the value of one of its resolved fields, read by the statement that made the object
 * (a page of devices reads their current assignments and license lines with it). The field's
 * resolver returns it as it is, at once: no loader, no promise, none of type-graphql's per-call work.
 * Only for fields `servePreloaded` prepared; the value belongs to this object alone.
 */
export function preload<T extends object>(target: T, field: string, value: unknown): T {
  const holder = target as Holder;
  (holder[PRELOADED] ??= {})[field] = value;
  return target;
}

/**
 * Lets the resolver of `typeName.fieldName` answer a preloaded value before anything else. Refused for
 * a field resolver with @Authorized or middleware: skipping those would skip a check, not just work.
 */
export function servePreloaded(schema: GraphQLSchema, typeName: string, fieldName: string): void {
  if (guardedField(typeName, fieldName)) throw new InvariantError(`${typeName}.${fieldName} has @Authorized or middleware: its value cannot be served preloaded`);
  const field = assertObjectType(schema.getType(typeName)).getFields()[fieldName];
  if (!field) throw new InvariantError(`${typeName} has no field ${fieldName}`);
  const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field.resolve;
  field.resolve = (source, args, context, info) => {
    const preloaded = (source as Holder)[PRELOADED];
    if (preloaded && Object.hasOwn(preloaded, fieldName)) return preloaded[fieldName];
    return resolve ? resolve(source, args, context, info) : (source as Record<string, unknown>)[fieldName];
  };
}

/** Whether type-graphql puts @Authorized or middleware on this field: as a query, mutation, field resolver or object type field. */
function guardedField(typeName: string, fieldName: string): boolean {
  const storage = getMetadataStorage();
  const guarded = (m: { roles?: unknown[]; middlewares?: unknown[] }): boolean => m.roles !== undefined || (m.middlewares?.length ?? 0) > 0;
  const operations = { Query: storage.queries, Mutation: storage.mutations, Subscription: storage.subscriptions }[typeName] ?? [];
  const typeNames = new Map(storage.objectTypes.map((t) => [t.target, t.name]));
  return (
    operations.some((r) => r.schemaName === fieldName && guarded(r)) ||
    storage.fieldResolvers.some((r) => r.getObjectType?.().name === typeName && r.schemaName === fieldName && guarded(r)) ||
    storage.fields.some((f) => (typeNames.get(f.target) ?? f.target.name) === typeName && f.name === fieldName && guarded(f))
  );
}
