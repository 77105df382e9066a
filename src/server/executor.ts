import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, getVariableValues, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Logger } from 'pino';

/** How Apollo Server executes an operation: `jit` compiles each query document once (graphql-jit). */
export type ExecutorKind = 'jit' | 'graphql-js';

/** Compiled documents kept per process: enough for every query a set of clients sends, bounded against a flood of distinct ones. */
const MAX_COMPILED = 1000;

/**
 * Apollo Server's executor interface (the "gateway" option, the documented way to plug in another
 * executor) serving this process's own schema. Query operations run as graphql-jit compiled
 * functions, compiled once per document and operation (Apollo hands the same parsed document for
 * the same query text); resolvers, errors and the answer are those of graphql-js. Mutations run on
 * graphql-js's `execute` (they run once per call and their inputs may be large), and so does any
 * document graphql-jit declines to compile.
 *
 * Variables are coerced by graphql-js first, so a bad variable is refused with graphql-js's own
 * message (which Apollo turns into BAD_USER_INPUT), then the compiled query coerces the same raw
 * input for itself.
 */
export function executorGateway(schema: GraphQLSchema, kind: ExecutorKind, log: Logger): GatewayInterface {
  const compiled = new Map<DocumentNode, Map<string, CompiledQuery | null>>();

  const compiledFor = (document: DocumentNode, operation: OperationDefinitionNode, operationName: string | null): CompiledQuery | null => {
    const key = operationName ?? '';
    let byName = compiled.get(document);
    const hit = byName?.get(key);
    if (hit !== undefined) {
      // Most recently used last, so the oldest document is the one dropped.
      compiled.delete(document);
      compiled.set(document, byName as Map<string, CompiledQuery | null>);
      return hit;
    }
    let query: CompiledQuery | null = null;
    const result = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
    if (isCompiledQuery(result)) query = result;
    else log.warn({ operation: operation.name?.value, errors: result.errors?.map((e) => e.message) }, 'graphql-jit declined a document; it runs on graphql-js');
    if (!byName) {
      byName = new Map();
      compiled.set(document, byName);
      if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value as DocumentNode);
    }
    byName.set(key, query);
    return query;
  };

  const executor: GatewayExecutor = async (rc) => {
    const { document, operation, operationName, context } = rc;
    const variables = rc.request.variables ?? {};
    const plain = (): Promise<ExecutionResult> | ExecutionResult =>
      execute({ schema, document, contextValue: context, variableValues: variables, operationName });
    if (kind !== 'jit' || operation.operation !== 'query') return plain();
    const query = compiledFor(document, operation, operationName);
    if (!query) return plain();
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return { errors: coerced.errors };
    return query.query(undefined, context, variables);
  };

  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {
      compiled.clear();
    },
  };
}
