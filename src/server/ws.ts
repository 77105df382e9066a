import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  execute,
  GraphQLError,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenVerifier } from '../auth/jwt';
import type { TenantStatusWatch } from '../events/tenant-status';
import type { Viewer } from '../auth/viewer';
import type { RequestContext } from '../common/context';
import { badInput, tenantSuspended } from '../common/errors';
import { findNul } from '../common/nul';
import type { Logger } from '../logger';
import { formatError } from './errors';
import { GRAPHQL_PATH } from './http';
import type { Admission, CostGuard } from './cost-guard';
import { assertCost, limitRules, operationCost, type QueryLimits } from './limits';
import type { ServerMetrics } from './metrics';
import type { RateLimits } from './rate-limit';

/** graphql-ws close code for a refused or expired token (the protocol's "Forbidden"). */
export const CLOSE_FORBIDDEN = 4403;
/**
 * Close reason (with CLOSE_FORBIDDEN) for a suspended tenant's connection: refused at connect, and
 * open connections closed the moment the suspension reaches this instance. graphql-ws clients retry
 * on 4403 (access may come back): they are refused again until a provider resumes the tenant.
 */
export const TENANT_SUSPENDED_REASON = 'TENANT_SUSPENDED: the tenant is suspended by the service provider';
/** WebSocket close code when the server shuts down (IANA: "Service Restart"). */
export const CLOSE_SERVICE_RESTART = 1012;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WsDeps {
  httpServer: http.Server;
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  /** Same switch as Apollo's over HTTP (Config.introspection): off in production unless GRAPHIQL=true. */
  introspection: boolean;
  /** The same depth, alias, token and cost limits as over HTTP. */
  limits: QueryLimits;
  /** Largest message accepted (MAX_BODY_BYTES): a larger one closes the socket with 1009. */
  maxPayloadBytes: number;
  /** The same per-subject and per-tenant request budget as over HTTP (one operation = one request). */
  rateLimits: RateLimits;
  /** Cost budgets and the heavy lane, as over HTTP; absent when COST_LIMITS=off. */
  costGuard?: CostGuard;
  /** Operation durations and error codes, as Apollo's plugin records them over HTTP. */
  metrics?: ServerMetrics;
  /** Suspended tenants: refused at connect and subscribe, their open connections closed. */
  tenantStatus: TenantStatusWatch;
  log: Logger;
  contextFor: (viewer: Viewer, requestId: string, connection: RequestContext['connection']) => RequestContext;
}

type ConnectionExtra = {
  viewer?: Viewer;
  expiryTimer?: NodeJS.Timeout;
  /** Admissions of this connection's operations not yet released (released at the latest on close). */
  admissions?: Set<Admission>;
};

/** The admission of each prepared operation, released when its execution ends. */
const admissionOf = new WeakMap<ExecutionArgs, { admission: Admission; held: Set<Admission> }>();

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's port and path. The token
 * arrives in `connectionParams.authorization`; a bad one closes the socket with 4403, and the
 * socket is closed with 4403 when the token expires.
 */
export function attachWebSocketServer(deps: WsDeps): { clients(): number; close(): Promise<void> } {
  const wss = new WebSocketServer({ server: deps.httpServer, path: GRAPHQL_PATH, maxPayload: deps.maxPayloadBytes });
  // Messages that only a server may send are invalid from a client: the protocol says 4400, while
  // graphql-ws answers 4500. This listener runs before graphql-ws's own (registered first) and
  // closes with 4400; the library's later close of an already closing socket is ignored.
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      let type: unknown;
      try {
        type = (JSON.parse(String(data)) as { type?: unknown }).type;
      } catch {
        return; // graphql-ws answers malformed JSON with 4400 itself
      }
      if (type === 'connection_ack' || type === 'next' || type === 'error') {
        socket.close(4400, `Invalid message received: "${type}" is sent by servers only`);
      }
    });
  });
  // Open connections by tenant, so a suspension closes them at once.
  const byTenant = new Map<string, Set<WebSocket>>();
  const stopWatching = deps.tenantStatus.onBarred((tenantId) => {
    const sockets = byTenant.get(tenantId);
    if (!sockets) return;
    deps.log.info({ tenantId, connections: sockets.size }, 'closing the WebSocket connections of a suspended tenant');
    for (const socket of sockets) socket.close(CLOSE_FORBIDDEN, TENANT_SUSPENDED_REASON);
  });
  const suspended = (viewer: Viewer | undefined): boolean => !!viewer?.tenantId && deps.tenantStatus.isSuspended(viewer.tenantId);
  const rules = [...specifiedRules, ...limitRules(deps.limits), ...(deps.introspection ? [] : [NoIntrospection])];
  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: deps.schema,
      // Async: in JWKS mode the key may have to be fetched first; graphql-ws awaits the answer.
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof raw !== 'string') return false;
        try {
          const viewer = await deps.verifier.viewerFromAuthorization(/^bearer\s/i.test(raw) ? raw : `Bearer ${raw}`);
          // The client may have gone while the token was verified: onClose has run, arm no timer.
          if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
          if (suspended(viewer)) {
            // Closed here with its own reason; graphql-ws's later close (4403 Forbidden) is then ignored.
            ctx.extra.socket.close(CLOSE_FORBIDDEN, TENANT_SUSPENDED_REASON);
            return false;
          }
          ctx.extra.viewer = viewer;
          if (viewer.tenantId) {
            let sockets = byTenant.get(viewer.tenantId);
            if (!sockets) byTenant.set(viewer.tenantId, (sockets = new Set()));
            sockets.add(ctx.extra.socket);
          }
          // Timers hold at most ~24.8 days; a longer-lived token re-arms until it really expires.
          const arm = (): void => {
            const msLeft = viewer.expiresAt * 1000 - Date.now();
            ctx.extra.expiryTimer = setTimeout(
              () => (msLeft > MAX_TIMER_MS ? arm() : ctx.extra.socket.close(CLOSE_FORBIDDEN, 'token expired')),
              Math.max(0, Math.min(msLeft, MAX_TIMER_MS)),
            );
            // Not unref'd: Node deletes the timer list of a cleared timer only for ref'd timers, and
            // each token's expiry is a duration of its own, so unref'd ones left one TimersList per
            // ended connection until that token's expiry (found comparing heap snapshots of a churn
            // of short-lived subscriptions). onClose clears it; shutdown closes every socket first.
          };
          arm();
          return true;
        } catch {
          return false;
        }
      },
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
        const tenantId = ctx.extra.viewer?.tenantId;
        const sockets = tenantId ? byTenant.get(tenantId) : undefined;
        if (tenantId && sockets?.delete(ctx.extra.socket) && sockets.size === 0) byTenant.delete(tenantId);
        for (const admission of ctx.extra.admissions ?? []) admission.release();
        ctx.extra.admissions?.clear();
      },
      context: (ctx) => {
        const viewer = ctx.extra.viewer;
        if (!viewer) throw new Error('graphql-ws context requested before onConnect accepted the connection');
        const socket = ctx.extra.socket;
        return deps.contextFor(viewer, randomUUID(), { close: (code, reason) => socket.close(code, reason) });
      },
      // Parse, validate and coerce variables here, so errors carry the same codes as over HTTP
      // (Apollo's pipeline is not on this path) and production refuses introspection here too.
      onSubscribe: async (ctx, _id, payload) => {
        if (suspended(ctx.extra.viewer)) {
          // Suspended after this connection was accepted (its notification closes it, too).
          ctx.extra.socket.close(CLOSE_FORBIDDEN, TENANT_SUSPENDED_REASON);
          return [tenantSuspended()];
        }
        if (ctx.extra.viewer) {
          try {
            await deps.rateLimits.check(ctx.extra.viewer);
          } catch (err) {
            return [err as GraphQLError];
          }
        }
        const prepared = prepareOperation(deps.schema, rules, deps.limits, payload);
        if (Array.isArray(prepared) || !deps.costGuard || !ctx.extra.viewer) return prepared;
        const cost = operationCost(prepared.schema, prepared.document, prepared.variableValues ?? undefined, prepared.operationName);
        if (!cost) return prepared;
        let admission: Admission;
        try {
          admission = await deps.costGuard.admit(ctx.extra.viewer, cost.budget);
        } catch (err) {
          return [err as GraphQLError];
        }
        if (getOperationAST(prepared.document, prepared.operationName)?.operation === 'subscription') {
          // Charged once when it starts; a stream holds no slot of the heavy lane.
          admission.release();
          return prepared;
        }
        const held = (ctx.extra.admissions ??= new Set());
        held.add(admission);
        admissionOf.set(prepared, { admission, held });
        return prepared;
      },
      execute: async (args) => {
        const startedAt = performance.now();
        try {
          return await execute(args);
        } finally {
          const operation = getOperationAST(args.document, args.operationName);
          deps.metrics?.observeOperation('ws', operation?.operation ?? 'unknown', operation?.name?.value, (performance.now() - startedAt) / 1000);
          const entry = admissionOf.get(args);
          entry?.admission.release();
          entry?.held.delete(entry.admission);
        }
      },
      onNext: (ctx, _id, _payload, args, result) => {
        const cost = admissionOf.get(args)?.admission.cost;
        const withCost = cost ? { ...result, extensions: { ...result.extensions, cost } } : result;
        if (!('errors' in withCost) || !withCost.errors) return withCost;
        deps.metrics?.countErrors('ws', withCost.errors);
        return { ...withCost, errors: withCost.errors.map((e) => formatWsError(e, deps.log, ctx.extra.viewer)) };
      },
      onError: (ctx, _id, _payload, errors) => {
        deps.metrics?.countErrors('ws', errors);
        return errors.map((e) => formatWsError(e, deps.log, ctx.extra.viewer));
      },
    },
    wss,
  );
  return {
    clients: () => wss.clients.size,
    async close() {
      stopWatching();
      // 1012 "Service Restart": graphql-ws clients reconnect on it (to another instance, or this one
      // once it is back) and resubscribe. dispose() would close them with 1001 "Going Away".
      for (const client of wss.clients) client.close(CLOSE_SERVICE_RESTART, 'the server is restarting; reconnect');
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The rule Apollo applies over HTTP when introspection is off: same message, same validation code. */
const NoIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(
        new GraphQLError('GraphQL introspection is not allowed, but the query contained __schema or __type', {
          nodes: [node],
          extensions: { validationErrorCode: 'INTROSPECTION_DISABLED' },
        }),
      );
    }
  },
});

type OperationPayload = { query: string; operationName?: string | null; variables?: Record<string, unknown> | null };

function prepareOperation(
  schema: GraphQLSchema,
  rules: readonly ValidationRule[],
  limits: QueryLimits,
  payload: OperationPayload,
): ExecutionArgs | GraphQLError[] {
  const nulAt = findNul(payload, 'payload');
  if (nulAt) return [badInput(`${nulAt} contains a NUL character (U+0000), which is not allowed`)];
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: limits.maxTokens });
  } catch (err) {
    return [coded(err as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
  }
  const invalid = validate(schema, document, rules);
  if (invalid.length > 0) return invalid.map((e) => coded(e, 'GRAPHQL_VALIDATION_FAILED'));
  try {
    assertCost(schema, document, payload.variables ?? undefined, payload.operationName, limits.maxCost);
  } catch (err) {
    return [err as GraphQLError];
  }
  const operation = getOperationAST(document, payload.operationName);
  if (operation) {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {});
    if (coerced.errors) return coerced.errors.map((e) => coded(e, 'BAD_USER_INPUT'));
  }
  return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
}

/** Tags a graphql-js error with a code and, like Apollo with hideSchemaDetailsFromClientErrors, drops suggestions. */
function coded(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message.replace(/ ?Did you mean(.+?)\?$/, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, code },
  });
}

function formatWsError(error: GraphQLError, log: Logger, viewer: Viewer | undefined): GraphQLError {
  const formatted = formatError(error.toJSON(), error);
  if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') {
    log.error({ err: error.originalError ?? error, path: error.path, sub: viewer?.subject }, 'internal error over websocket');
  }
  return formatted as GraphQLError;
}
