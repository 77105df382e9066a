import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { BREAK, GraphQLError, getOperationAST, visit, type DocumentNode, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../common/relay';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
}

/** Depth (fragments flattened) and alias limits, as validation rules for HTTP and WebSocket alike. */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  // Reported as ordinary validation errors (GRAPHQL_VALIDATION_FAILED) rather than thrown, and
  // without the library's misleading "Syntax Error" prefix.
  const report = { propagateOnRejection: false, onReject: [reportAsValidationError] };
  return [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, exposeLimits: true, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: limits.maxAliases, exposeLimits: true, ...report }),
  ];
}

function reportAsValidationError(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));
}

/**
 * A connection costs its page size times what one node costs: `first` when given, else the
 * default page. Other fields cost 1 plus their children.
 */
const pageWeighted: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!field.args.some((a) => a.name === 'first')) return undefined;
  const first = typeof args.first === 'number' && args.first > 0 ? args.first : DEFAULT_PAGE_SIZE;
  return 1 + childComplexity * first;
};

/** What an operation costs: its selection (limited by MAX_QUERY_COST) and against its budget. */
export interface OperationCost {
  /** Every field 1, a connection its page size times a node: what MAX_QUERY_COST limits. */
  selection: number;
  /** The selection plus the work a mutation declares (common/cost.ts): what the cost budget is charged. */
  budget: number;
}

const costs = new WeakMap<DocumentNode, Map<string, OperationCost | null>>();

/**
 * The cost of one operation, or null when its variables do not coerce (execution reports those with
 * their own code). Apollo hands the same DocumentNode object for the same query text (its document
 * cache), so a document with the same variables is estimated once, not on every request.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): OperationCost | null {
  const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  let known = costs.get(document);
  const cached = known?.get(key);
  if (cached !== undefined) return cached;
  const estimate = (estimators: ComplexityEstimator[]): number =>
    getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators });
  let cost: OperationCost | null;
  try {
    const selection = estimate([pageWeighted, simpleEstimator({ defaultComplexity: 1 })]);
    // Mutations declare the work they do (common/cost.ts), and so do the few queries whose work
    // their selection does not tell (licenseUsage); other queries cost their selection.
    const declaresWork = getOperationAST(document, operationName)?.operation === 'mutation' || mentionsWorkQuery(schema, document);
    const budget = declaresWork ? estimate([fieldExtensionsEstimator(), pageWeighted, simpleEstimator({ defaultComplexity: 1 })]) : selection;
    cost = { selection, budget: Math.max(selection, budget) };
  } catch {
    cost = null;
  }
  if (!known) costs.set(document, (known = new Map()));
  // Bounded: documents with ever-changing variables keep at most this many entries each.
  if (known.size < 100) known.set(key, cost);
  return cost;
}

/** Query fields that declare a work cost (a `complexity` in their @Query options), per schema. */
const workQueries = new WeakMap<GraphQLSchema, Set<string>>();

function mentionsWorkQuery(schema: GraphQLSchema, document: DocumentNode): boolean {
  let names = workQueries.get(schema);
  if (!names) {
    const fields = Object.values(schema.getQueryType()?.getFields() ?? {});
    names = new Set(fields.filter((f) => f.extensions.complexity !== undefined).map((f) => f.name));
    workQueries.set(schema, names);
  }
  if (names.size === 0) return false;
  let found = false;
  visit(document, {
    Field(node) {
      if (!names.has(node.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** Refuses an operation whose selection costs more than the limit (QUERY_TOO_COMPLEX, HTTP 400); returns its cost. */
export function assertCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost: number,
): OperationCost | null {
  const cost = operationCost(schema, document, variables, operationName);
  if (cost && cost.selection > maxCost) {
    throw new GraphQLError(`query cost ${cost.selection} exceeds the limit of ${maxCost}; ask for smaller pages or fewer fields`, {
      extensions: { code: 'QUERY_TOO_COMPLEX', cost: cost.selection, maxCost, http: { status: 400 } },
    });
  }
  return cost;
}
