import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type DocumentNode, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
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

const costs = new WeakMap<DocumentNode, Map<string, number>>();

/** Refuses an operation whose estimated cost exceeds the limit (QUERY_TOO_COMPLEX, HTTP 400). */
export function assertCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost: number,
): void {
  // Apollo hands the same DocumentNode object for the same query text (its document cache), so the
  // cost of a document with the same variables is computed once, not on every request.
  const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  let known = costs.get(document);
  let cost = known?.get(key);
  if (cost === undefined) {
    try {
      cost = getComplexity({
        schema,
        query: document,
        variables: variables ?? {},
        operationName: operationName ?? undefined,
        estimators: [pageWeighted, simpleEstimator({ defaultComplexity: 1 })],
      });
    } catch {
      return; // variables that do not coerce are reported by execution with their own code
    }
    if (!known) costs.set(document, (known = new Map()));
    // Bounded: documents with ever-changing variables keep at most this many entries each.
    if (known.size < 100) known.set(key, cost);
  }
  if (cost > maxCost) {
    throw new GraphQLError(`query cost ${cost} exceeds the limit of ${maxCost}; ask for smaller pages or fewer fields`, {
      extensions: { code: 'QUERY_TOO_COMPLEX', cost, maxCost, http: { status: 400 } },
    });
  }
}
