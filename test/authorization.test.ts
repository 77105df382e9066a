import { execute, getNamedType, isCompositeType, isNonNullType, parse, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { isRole } from '../src/auth/roles';
import type { RequestContext } from '../src/common/context';
import { getSchema, resolvers } from '../src/server/schema';

/**
 * Deny by default (DESIGN.md "Request flow" 3): every Query, Mutation and Subscription root field
 * of the built schema must declare a non-empty list of known roles with `@Authorized(...)`.
 */

type Operation = 'Query' | 'Mutation' | 'Subscription';
/** Resolver classes are plain constructors in type-graphql's metadata. */
type ResolverClass = Function;

interface RootField {
  operation: Operation;
  name: string;
}

/** The slice of type-graphql's MetadataStorage the walker reads (same shapes, fewer fields). */
interface AuthorizationMetadata {
  handlers: Record<Operation, readonly { target: ResolverClass; methodName: string; schemaName: string }[]>;
  /** `@Authorized(...)` on a method. */
  fieldGrants: readonly { target: ResolverClass; fieldName: string; roles: readonly unknown[] }[];
  /** `@Authorized(...)` on a resolver class: applies to every method without its own. */
  classGrants: readonly { target: ResolverClass; roles: readonly unknown[] }[];
  /** The resolver classes the schema is built from. */
  resolverClasses: readonly ResolverClass[];
}

/** Returns one line per root field that is not protected by a non-empty list of known roles. */
function findUnprotectedRootFields(fields: readonly RootField[], meta: AuthorizationMetadata): string[] {
  const problems: string[] = [];
  for (const field of fields) {
    const label = `${field.operation}.${field.name}`;
    // A handler counts when it is declared on a resolver class of the schema or on one of its base classes.
    const handlers = meta.handlers[field.operation].filter(
      (h) =>
        h.schemaName === field.name &&
        meta.resolverClasses.some((cls) => cls === h.target || Object.prototype.isPrototypeOf.call(h.target, cls)),
    );
    if (handlers.length === 0) {
      problems.push(`${label}: no type-graphql handler found, so no @Authorized role list can be checked`);
      continue;
    }
    for (const handler of handlers) {
      const roles =
        meta.fieldGrants.find((g) => g.target === handler.target && g.fieldName === handler.methodName)?.roles ??
        meta.classGrants.find((g) => g.target === handler.target)?.roles;
      const where = `${label} (${handler.target.name}.${handler.methodName})`;
      if (roles === undefined) problems.push(`${where}: no @Authorized role list`);
      else if (roles.length === 0) problems.push(`${where}: empty @Authorized() role list; name the roles`);
      else {
        const unknown = roles.filter((r) => !isRole(r));
        if (unknown.length > 0) problems.push(`${where}: unknown roles ${JSON.stringify(unknown)}`);
      }
    }
  }
  return problems;
}

function rootFieldsOf(schema: GraphQLSchema): RootField[] {
  const roots: [Operation, GraphQLObjectType | null | undefined][] = [
    ['Query', schema.getQueryType()],
    ['Mutation', schema.getMutationType()],
    ['Subscription', schema.getSubscriptionType()],
  ];
  return roots.flatMap(([operation, type]) => Object.keys(type?.getFields() ?? {}).map((name) => ({ operation, name })));
}

function productMetadata(): AuthorizationMetadata {
  const storage = getMetadataStorage();
  return {
    handlers: { Query: storage.queries, Mutation: storage.mutations, Subscription: storage.subscriptions },
    fieldGrants: storage.authorizedFields,
    classGrants: storage.authorizedResolver,
    resolverClasses: resolvers,
  };
}

describe('deny by default: every operation declares its roles', () => {
  const schema = getSchema();
  const fields = rootFieldsOf(schema);

  it('finds the operations of the contract in the built schema (the walk is not empty)', () => {
    const names = fields.map((f) => `${f.operation}.${f.name}`);
    expect(names).toEqual(
      expect.arrayContaining(['Query.viewer', 'Query.node', 'Query.tenants', 'Mutation.createTenant', 'Mutation.registerDevices']),
    );
  });

  it('has a non-empty @Authorized list of known roles on every Query, Mutation and Subscription field', () => {
    const unprotected = findUnprotectedRootFields(fields, productMetadata());
    if (unprotected.length > 0) {
      throw new Error(`root fields without a proper @Authorized role list:\n  ${unprotected.join('\n  ')}`);
    }
    expect(unprotected).toEqual([]);
  });

  it('refuses a viewer whose role is on no list for every root query that needs no arguments', async () => {
    const queryFields = Object.values(schema.getQueryType()?.getFields() ?? {}).filter((f) =>
      f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined),
    );
    expect(queryFields.length).toBeGreaterThan(0);
    // The checker must refuse before the resolver runs: this context has no database at all.
    const contextValue = { viewer: Object.freeze({ subject: 'nobody', role: 'NOBODY', tenantId: null, expiresAt: 0 }) };
    for (const field of queryFields) {
      const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
      const result = await execute({
        schema,
        document: parse(`{ ${field.name}${selection} }`),
        contextValue: contextValue as unknown as RequestContext,
      });
      expect({ field: field.name, code: result.errors?.[0]?.extensions?.code }).toEqual({ field: field.name, code: 'FORBIDDEN' });
    }
  });
});

describe('the deny-by-default walker itself', () => {
  class GuardedResolver {}
  class ClassGuardedResolver {}
  class BaseResolver {}
  class DerivedResolver extends BaseResolver {}
  class NotInSchemaResolver {}

  const meta: AuthorizationMetadata = {
    handlers: {
      Query: [
        { target: GuardedResolver, methodName: 'listed', schemaName: 'listed' },
        { target: GuardedResolver, methodName: 'unlisted', schemaName: 'unlisted' },
        { target: GuardedResolver, methodName: 'emptyList', schemaName: 'emptyList' },
        { target: GuardedResolver, methodName: 'typo', schemaName: 'typo' },
        { target: ClassGuardedResolver, methodName: 'byClass', schemaName: 'byClass' },
        { target: BaseResolver, methodName: 'inherited', schemaName: 'inherited' },
        { target: NotInSchemaResolver, methodName: 'orphan', schemaName: 'orphan' },
      ],
      Mutation: [{ target: GuardedResolver, methodName: 'doIt', schemaName: 'renamedMutation' }],
      Subscription: [{ target: GuardedResolver, methodName: 'watch', schemaName: 'watch' }],
    },
    fieldGrants: [
      { target: GuardedResolver, fieldName: 'listed', roles: ['PROVIDER_ADMIN'] },
      { target: GuardedResolver, fieldName: 'emptyList', roles: [] },
      { target: GuardedResolver, fieldName: 'typo', roles: ['PROVIDER_ADMN'] },
      { target: GuardedResolver, fieldName: 'doIt', roles: ['PROVIDER_ADMIN', 'TENANT_ADMIN'] },
      { target: BaseResolver, fieldName: 'inherited', roles: ['TENANT_OPERATOR'] },
      { target: NotInSchemaResolver, fieldName: 'orphan', roles: ['PROVIDER_ADMIN'] },
    ],
    classGrants: [{ target: ClassGuardedResolver, roles: ['PROVIDER_OPERATOR'] }],
    resolverClasses: [GuardedResolver, ClassGuardedResolver, DerivedResolver],
  };
  const q = (name: string): RootField => ({ operation: 'Query', name });

  it('accepts fields protected by a method list, a class list or a base-class method list', () => {
    const fields = [q('listed'), q('byClass'), q('inherited'), { operation: 'Mutation' as const, name: 'renamedMutation' }];
    expect(findUnprotectedRootFields(fields, meta)).toEqual([]);
  });

  it('names a field without a role list', () => {
    expect(findUnprotectedRootFields([q('listed'), q('unlisted')], meta)).toEqual([
      'Query.unlisted (GuardedResolver.unlisted): no @Authorized role list',
    ]);
  });

  it('names a field whose role list is empty', () => {
    expect(findUnprotectedRootFields([q('emptyList')], meta)).toEqual([
      expect.stringMatching(/^Query\.emptyList .*empty @Authorized\(\) role list/),
    ]);
  });

  it('names a field whose list holds a role that does not exist', () => {
    expect(findUnprotectedRootFields([q('typo')], meta)).toEqual([expect.stringContaining('unknown roles ["PROVIDER_ADMN"]')]);
  });

  it('names a subscription without a role list', () => {
    expect(findUnprotectedRootFields([{ operation: 'Subscription', name: 'watch' }], meta)).toEqual([
      'Subscription.watch (GuardedResolver.watch): no @Authorized role list',
    ]);
  });

  it('names a schema field with no handler among the schema resolvers instead of passing it', () => {
    expect(findUnprotectedRootFields([q('orphan'), q('missing')], meta)).toEqual([
      expect.stringMatching(/^Query\.orphan: no type-graphql handler/),
      expect.stringMatching(/^Query\.missing: no type-graphql handler/),
    ]);
  });

  it('does not let a list on a same-named method of another operation stand in', () => {
    // `listed` is guarded as a Query; a Mutation of the same name has no handler of its own.
    expect(findUnprotectedRootFields([{ operation: 'Mutation', name: 'listed' }], meta)).toHaveLength(1);
  });
});
