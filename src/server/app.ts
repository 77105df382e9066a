import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { EntityManager } from '@mikro-orm/postgresql';
import { TokenVerifier } from '../auth/jwt';
import { resolveJwtKey } from '../auth/keys';
import { Role } from '../auth/roles';
import { createViewer, type Viewer } from '../auth/viewer';
import type { Config } from '../config';
import type { AppRuntime, RequestContext } from '../common/context';
import { devicesCsv } from '../modules/devices/device.export';
import { tenantIdByReference } from '../modules/tenants/tenant.service';
import { existingAlertDelivery, type AlertDeliveryStats } from '../modules/alerts/alert-delivery';
import { MAX_FILE_BYTES } from '../common/upload';
import { BodyBudget } from './body-budget';
import { Drain } from './drain';
import { createRuntime } from './runtime';
import { requestScope, type RequestScope } from '../db/scope';
import { serveMetricSnapshots } from './cluster-metrics';
import { executorGateway } from './executor';
import type { Database } from '../db/database';
import { startScheduler, type Scheduler } from '../jobs/scheduler';
import type { Logger } from '../logger';
import { formatError } from './errors';
import { tenantSuspended } from '../common/errors';
import { assertCost, limitRules } from './limits';
import { PostgresBudgetStore, MemoryBudgetStore } from './budget';
import { CostGuard, type Admission, type CostReport } from './cost-guard';
import { RateLimits } from './rate-limit';
import { debugRoutes } from './debug-hooks';
import { graphiqlRoute } from './graphiql';
import { consoleRoute } from './console';
import { createHttpServer } from './http';
import { metricsRoute, ServerMetrics, startMetricsListener, type OperationType } from './metrics';
import { systemContext } from '../common/system-context';
import { activeAlertsByKind } from '../modules/alerts/alert.service';
import { syncRunCounts } from '../modules/sync/sync.service';
import { getSchema } from './schema';
import { attachWebSocketServer } from './ws';

export interface RunningServer {
  url: string;
  httpServer: http.Server;
  /** Secrets, clock (tests move it) and the alert bus of this instance. */
  runtime: AppRuntime;
  /** Request body bytes reserved in flight on this instance (tests and metrics read it). */
  bodyBudget: BodyBudget;
  /** Present when SCHEDULER_ENABLED: scheduled sync on pg-boss. */
  scheduler?: Scheduler;
  /** The METRICS_PORT listener's URL (127.0.0.1), when configured. */
  metricsUrl?: string;
  /** Per-connection state this instance holds: all back to zero once every client has gone. */
  stats(): ServerStats;
  /** Stop accepting, drain in-flight requests, close sockets. The database is closed by its owner. */
  close(): Promise<void>;
}

export interface ServerStats {
  /** Open WebSocket connections. */
  webSocketClients: number;
  /** Open licenseAlerts subscriptions, and what waits for them (see AlertDelivery). */
  alerts: AlertDeliveryStats;
  /** Listeners on the alert bus (the delivery listens only while it has subscribers). */
  alertBusListeners: number;
}

export async function startServer(opts: { config: Config; log: Logger; db: Database }): Promise<RunningServer> {
  const { config, log, db } = opts;
  const jwtKey = resolveJwtKey(config);
  const runtime = await createRuntime({ config, db, log });
  const verifier = new TokenVerifier({
    key: jwtKey,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    claimsNamespace: config.jwt.claimsNamespace,
    claims: config.jwt.claims,
    resolveTenant: tenantReferenceResolver(db, runtime),
    log,
  });
  verifier.start();
  const schema = getSchema();

  // The EntityManager fork and the child logger are made on first use: a page read through
  // scopedRead needs neither, and both cost allocations on every request.
  const contextFor = (viewer: Viewer, requestId: string, requestLog?: Logger, connection?: RequestContext['connection']): RequestContext =>
    new LazyRequestContext(viewer, requestId, runtime, db.orm.em, requestLog ?? log, connection);

  const rateLimits = new RateLimits(config.rateLimits);
  const costGuard = config.costLimits ? createCostGuard(config.costLimits, db) : undefined;
  /** The admission of each HTTP operation that got one, released when its answer is sent. */
  const admissions = new WeakMap<RequestContext, Admission>();
  const refusals = new WeakMap<RequestContext, CostReport>();
  const bodyBudget = new BodyBudget(config.inflightBodyBytes);
  const metrics = new ServerMetrics(log);
  const apollo = new ApolloServer<RequestContext>({
    // The same schema, executed through Apollo's executor interface (server/executor.ts).
    gateway: executorGateway(schema, config.executor, log),
    validationRules: limitRules(config.queryLimits),
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    introspection: config.introspection,
    // main.ts owns shutdown: drain HTTP, close sockets, then the pool and an embedded database.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    formatError,
    plugins: [
      // No HTTP caching of GraphQL answers (they are per token); the default plugin would hook every field.
      ApolloServerPluginCacheControlDisabled(),
      {
        async requestDidStart() {
          const startedAt = performance.now();
          return {
            async willSendResponse({ request, operation }) {
              const type: OperationType = operation?.operation ?? 'unknown';
              metrics.observeOperation('http', type, operation?.name?.value ?? request.operationName, (performance.now() - startedAt) / 1000);
            },
            async didEncounterErrors({ errors }) {
              metrics.countErrors('http', errors);
            },
          };
        },
      },
      {
        async requestDidStart() {
          return {
            async didResolveOperation({ document, request, schema: opSchema, operation, contextValue }) {
              const cost = assertCost(opSchema, document, request.variables, request.operationName, config.queryLimits.maxCost);
              // Charged before anything runs; a heavy operation waits here for its turn in the lane.
              if (costGuard && cost) {
                try {
                  admissions.set(contextValue, await costGuard.admit(contextValue.viewer, cost.budget));
                } catch (err) {
                  // The answer's extensions.cost then tells what was asked, as the error does.
                  const asked = err instanceof GraphQLError ? (err.extensions.cost as CostReport | undefined) : undefined;
                  if (asked) refusals.set(contextValue, asked);
                  throw err;
                }
              }
              if (operation?.operation === 'query') contextValue.scope?.enable();
            },
            async willSendResponse({ contextValue, response }) {
              await contextValue.scope?.close();
              const admission = admissions.get(contextValue);
              admission?.release();
              if (costGuard && response.body.kind === 'single') {
                // Every answer tells what is left, also one that ran nothing (it is charged nothing).
                const cost = admission?.cost ?? refusals.get(contextValue) ?? (await costGuard.peek(contextValue.viewer).catch(() => undefined));
                const result = response.body.singleResult;
                if (cost) result.extensions = { ...result.extensions, cost };
              }
            },
            async didEncounterErrors({ errors, contextValue }) {
              for (const err of errors) {
                const code = err.extensions?.code;
                if (code === undefined || code === 'INTERNAL_SERVER_ERROR') {
                  (contextValue?.log ?? log).error({ err: err.originalError ?? err, path: err.path }, 'internal error');
                }
              }
            },
          };
        },
      },
    ],
  });

  const drain = new Drain();
  const httpServer = createHttpServer({
    apollo,
    log,
    limits: { maxBodyBytes: config.maxBodyBytes, maxUploadBodyBytes: config.maxUploadBodyBytes, maxFileBytes: MAX_FILE_BYTES },
    bodyBudget,
    isReady: () => db.isReady(),
    drain,
    authenticate: async (req) => {
      const viewer = await verifier.viewerFromAuthorization(req.headers.authorization);
      // From memory (kept current across instances by NOTIFY): refused before a byte of the body is
      // read. The database refuses the tenant's transactions as well (db/scope.ts), from the commit on.
      if (viewer.tenantId && runtime.tenantStatus.isSuspended(viewer.tenantId)) throw tenantSuspended();
      await rateLimits.check(viewer);
      return viewer;
    },
    contextFor: (req, viewer) => {
      const ctx = contextFor(viewer, String(req.id ?? randomUUID()), req.log);
      ctx.scope = requestScope(ctx, db.orm.em);
      return ctx;
    },
    // Requests arrive only after listen(), by which time `ws` below is attached.
    debugRoutes: debugRoutes({ verifier, stats: () => stats() }),
    metricsRoute: metricsRoute(metrics, config.metrics, log),
    csvFiles: { devices: devicesCsv },
    graphiql: config.graphiql ? graphiqlRoute(log) : undefined,
    console: consoleRoute({ log, config: config.console, jwtKey, jwt: config.jwt }),
  });
  apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceMs }));
  await apollo.start();
  const ws = attachWebSocketServer({
    httpServer,
    schema,
    verifier,
    introspection: config.introspection,
    limits: config.queryLimits,
    maxPayloadBytes: config.maxBodyBytes,
    rateLimits,
    costGuard,
    metrics,
    tenantStatus: runtime.tenantStatus,
    log,
    contextFor: (v, id, connection) => contextFor(v, id, undefined, connection),
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const scheduler = config.schedulerEnabled
    ? await startScheduler({ db, runtime, log, cron: config.syncTickCron })
    : undefined;
  const stats = (): ServerStats => ({
    webSocketClients: ws.clients(),
    alerts: existingAlertDelivery(runtime)?.stats() ?? { subscribers: 0, pendingEvents: 0, queuedAlerts: 0, listening: false },
    alertBusListeners: runtime.alerts.listenerCount(),
  });
  const metricsContext = () => systemContext({ subject: 'system:metrics', root: db.orm.em, runtime, log });
  metrics.watch({
    webSocketClients: () => ws.clients(),
    alertSubscribers: () => stats().alerts.subscribers,
    heavyLane: costGuard && (() => costGuard.stats()),
    dbPool: () => db.poolStats(),
    activeAlerts: () => activeAlertsByKind(metricsContext()),
    syncRuns: () => syncRunCounts(metricsContext()),
    jobBacklog: scheduler && (() => scheduler.queueSizes()),
  });
  const metricsListener = await startMetricsListener(metrics, config.metrics, log);
  // In a worker of a cluster, the primary asks every worker for its metrics (server/cluster-metrics.ts).
  const stopServingSnapshots = serveMetricSnapshots(() => metrics.snapshot());
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return {
    url: `http://${host}:${port}/graphql`,
    httpServer,
    scheduler,
    metricsUrl: metricsListener?.url,
    runtime,
    stats,
    bodyBudget,
    async close() {
      // In this order, so that a restart loses nothing: stop taking work (/readyz 503, new requests
      // 503 + Connection: close), close subscriptions with 1012 so clients reconnect elsewhere, let
      // Apollo's drain plugin wait for the requests already accepted (up to SHUTDOWN_GRACE_MS), and
      // only then stop the scheduler and the rest; the owner closes the pool after this.
      drain.start();
      await ws.close();
      // A settling moment before idle kept-alive connections are ended: a client that sends on one now
      // gets a clean 503 + Connection: close rather than a connection closed under its request.
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_SETTLE_MS, config.shutdownGraceMs)));
      await apollo.stop();
      await metricsListener?.close();
      stopServingSnapshots();
      await scheduler?.stop();
      await costGuard?.close();
      await runtime.close();
      verifier.close();
    },
  };
}

/** How long a shutting-down server answers 503 on kept-alive connections before ending idle ones. */
const DRAIN_SETTLE_MS = 1000;
const TENANT_REFERENCE_TTL_MS = 60_000;
const TENANT_REFERENCE_MAX_ENTRIES = 10_000;

/**
 * Token tenant claims (uuid, global id or slug) to tenant uuids, looked up in the database and
 * remembered for a minute (a renamed slug is followed within that time). Only found tenants are
 * remembered: a tenant created after a refused token is found on the next request.
 */
function tenantReferenceResolver(db: Database, runtime: AppRuntime): (reference: string) => Promise<string | null> {
  const found = new Map<string, { tenantId: string; until: number }>();
  return async (reference) => {
    const hit = found.get(reference);
    if (hit && hit.until > Date.now()) return hit.tenantId;
    const tenantId = await tenantIdByReference(
      {
        viewer: createViewer('system:token-tenant-claim', Role.PROVIDER_OPERATOR, null, Number.MAX_SAFE_INTEGER),
        em: db.orm.em.fork(),
        requestId: randomUUID(),
        log: runtime.log,
        app: runtime,
        memo: new Map(),
      },
      reference,
    );
    if (found.size >= TENANT_REFERENCE_MAX_ENTRIES) found.clear();
    if (tenantId) found.set(reference, { tenantId, until: Date.now() + TENANT_REFERENCE_TTL_MS });
    return tenantId;
  };
}

function createCostGuard(limits: NonNullable<Config['costLimits']>, db: Database): CostGuard {
  const store = limits.store === 'postgres' ? new PostgresBudgetStore(() => db.orm.em.fork()) : new MemoryBudgetStore();
  return new CostGuard(store, limits);
}

/**
 * A request's context. Its EntityManager fork and child logger are made on first use: a page read
 * through scopedRead (db/scope.ts) needs neither. The lazy getters live on the prototype, because Apollo
 * Server copies the context for each operation with Object.assign, which would call getters that are
 * own properties (it did: a fork per request, 1.6% of the server's CPU under the tenant page); the copy
 * keeps the prototype and copies the cached values (none yet, or the fork already made).
 */
class LazyRequestContext implements RequestContext {
  scope?: RequestScope;
  readonly memo = new Map<symbol, unknown>();
  private forked?: EntityManager;
  private child?: Logger;

  constructor(
    readonly viewer: Viewer,
    readonly requestId: string,
    readonly app: AppRuntime,
    private readonly root: EntityManager,
    private readonly parentLog: Logger,
    readonly connection?: RequestContext['connection'],
  ) {}

  get em(): EntityManager {
    return (this.forked ??= this.root.fork());
  }

  get log(): Logger {
    return (this.child ??= this.parentLog.child({ reqId: this.requestId, sub: this.viewer.subject, viewerTenantId: this.viewer.tenantId }));
  }
}
