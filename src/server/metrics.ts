import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { clusterMetrics } from './cluster-metrics';
import type { MetricsConfig } from '../config';
import type { Logger } from '../logger';

/** How a cluster's /metrics adds up a figure read from the database: every worker reads the same value (src/cluster.ts), so it is taken once. */
const FROM_DATABASE = 'max' as const;

export const METRICS_PATH = '/metrics';
/** Distinct operation names labelled as such; any further name is counted as `other`. */
const MAX_OPERATION_NAMES = 100;
/** Distinct error codes labelled as such (the API has about a dozen); any further one is `OTHER`. */
const MAX_ERROR_CODES = 50;
const OPERATION_NAME_RE = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const ERROR_CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

export type Transport = 'http' | 'ws';
export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

/**
 * What the scrape reads from the running instance. Counts only: no tenant id, slug or name ever
 * becomes a label (the database aggregates are grouped by kind, mode and status alone).
 */
export interface MetricsSources {
  webSocketClients(): number;
  alertSubscribers(): number;
  /** Cost guard's heavy lane; absent when COST_LIMITS=off. */
  heavyLane?(): { running: number; waiting: number };
  dbPool(): { inUse: number; idle: number; waiting: number };
  activeAlerts(): Promise<{ kind: string; n: number }[]>;
  syncRuns(): Promise<{ mode: string; status: string; n: number }[]>;
  /** pg-boss queues; absent when the scheduler is off on this instance. */
  jobBacklog?(): Promise<Record<string, number>>;
}

/**
 * Prometheus metrics of one server instance (its own registry, so several servers in one process, as
 * in tests, do not mix), plus the process metrics prom-client collects, registered once per process.
 */
export class ServerMetrics {
  private readonly registry = new Registry();
  private readonly operationNames = new BoundedLabel(MAX_OPERATION_NAMES, 'other');
  private readonly errorCodes = new BoundedLabel(MAX_ERROR_CODES, 'OTHER');
  private readonly duration = new Histogram({
    name: 'slm_graphql_operation_duration_seconds',
    help: 'GraphQL operations from receipt to answer, by operation name (anonymous, unknown, other when past the cap) and type',
    labelNames: ['operation', 'type', 'transport'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'slm_graphql_errors_total',
    help: 'GraphQL errors answered, by extensions.code',
    labelNames: ['code', 'transport'],
    registers: [this.registry],
  });
  private readonly collectFailures = new Counter({
    name: 'slm_metrics_collect_failures_total',
    help: 'Scrapes that could not read a source (the source is left out of that scrape)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private sources?: MetricsSources;
  /** Source reads in flight, shared by the metrics of one scrape that read the same source. */
  private readonly reads = new Map<AsyncSource, Promise<unknown>>();

  constructor(private readonly log: Logger) {
    const self = this;
    const gauge = (name: string, help: string, read: (s: MetricsSources) => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const value = self.sources ? read(self.sources) : undefined;
          if (value !== undefined) this.set(value);
        },
      });
    };
    gauge('slm_websocket_connections', 'Open GraphQL WebSocket connections', (s) => s.webSocketClients());
    gauge('slm_alert_subscriptions', 'Open licenseAlerts subscriptions', (s) => s.alertSubscribers());
    gauge('slm_heavy_lane_running', 'Heavy operations running in the cost guard lane', (s) => s.heavyLane?.().running);
    gauge('slm_heavy_lane_waiting', 'Heavy operations waiting for the cost guard lane', (s) => s.heavyLane?.().waiting);
    gauge('slm_db_pool_connections_in_use', 'Application database connections in use', (s) => s.dbPool().inUse);
    gauge('slm_db_pool_connections_idle', 'Application database connections open and idle', (s) => s.dbPool().idle);
    gauge('slm_db_pool_waiting', 'Requests waiting for an application database connection', (s) => s.dbPool().waiting);

    new Gauge({
      name: 'slm_alerts_active',
      help: 'Unresolved alerts of all tenants, by kind',
      labelNames: ['kind'],
      registers: [this.registry],
      aggregator: FROM_DATABASE,
      collect: this.fromSource('activeAlerts', function (rows) {
        for (const r of rows) this.set({ kind: r.kind }, r.n);
      }),
    });
    // Read from the database, so every instance reports the same totals (take max, not sum, across
    // instances). They only grow; a deleted tenant's runs go with it, which Prometheus reads as a reset.
    new Counter({
      name: 'slm_sync_runs_total',
      help: 'Finished license sync runs of all tenants, by mode and status (from the database)',
      labelNames: ['mode', 'status'],
      registers: [this.registry],
      aggregator: FROM_DATABASE,
      collect: this.fromSource('syncRuns', function (rows) {
        for (const r of rows) if (r.status !== 'RUNNING') this.inc({ mode: r.mode, status: r.status }, r.n);
      }),
    });
    new Gauge({
      name: 'slm_sync_runs_running',
      help: 'License sync runs in progress, by mode (from the database)',
      labelNames: ['mode'],
      registers: [this.registry],
      aggregator: FROM_DATABASE,
      collect: this.fromSource('syncRuns', function (rows) {
        for (const r of rows) if (r.status === 'RUNNING') this.set({ mode: r.mode }, r.n);
      }),
    });
    new Gauge({
      name: 'slm_job_queue_backlog',
      help: 'Scheduled jobs waiting to be picked up, by pg-boss queue',
      labelNames: ['queue'],
      registers: [this.registry],
      aggregator: FROM_DATABASE,
      collect: this.fromSource('jobBacklog', function (sizes) {
        for (const [queue, n] of Object.entries(sizes)) this.set({ queue }, n);
      }),
    });
  }

  /** Called once the instance is assembled: scrapes read these from then on. */
  watch(sources: MetricsSources): void {
    this.sources = sources;
  }

  observeOperation(transport: Transport, type: OperationType, name: string | null | undefined, seconds: number): void {
    this.duration.observe({ transport, type, operation: this.operationLabel(type, name) }, seconds);
  }

  countErrors(transport: Transport, errors: readonly { extensions?: { code?: unknown } }[]): void {
    for (const err of errors) {
      const code = err.extensions?.code;
      // An error without a code is answered as INTERNAL_SERVER_ERROR (server/errors.ts).
      const label = code === undefined ? 'INTERNAL_SERVER_ERROR' : typeof code === 'string' && ERROR_CODE_RE.test(code) ? this.errorCodes.label(code) : 'OTHER';
      this.errors.inc({ code: label, transport });
    }
  }

  /** This process's metrics (the instance's and the process's) as prom-client's JSON, for a cluster's primary to aggregate. */
  async snapshot(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return Registry.merge([processRegistry(), this.registry]).getMetricsAsJSON();
  }

  /**
   * The exposition text: this instance's metrics and the process's; in a worker of a cluster
   * (WEB_CONCURRENCY), those of every worker, aggregated by the primary (server/cluster-metrics.ts).
   */
  async render(): Promise<{ contentType: string; body: string }> {
    const whole = await clusterMetrics();
    if (whole !== undefined) return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: whole };
    const merged = Registry.merge([processRegistry(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** GET /metrics: with `token`, only for `Authorization: Bearer <token>` (compared in constant time). */
  async serve(req: IncomingMessage, res: ServerResponse, token?: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics\n');
      return;
    }
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain; charset=utf-8' }).end('metrics need Authorization: Bearer <METRICS_TOKEN>\n');
      return;
    }
    const { contentType, body } = await this.render();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private operationLabel(type: OperationType, name: string | null | undefined): string {
    if (type === 'unknown') return 'unknown';
    if (name === undefined || name === null || name === '') return 'anonymous';
    return OPERATION_NAME_RE.test(name) ? this.operationNames.label(name) : 'unknown';
  }

  /**
   * A collect function filling a labelled metric at scrape time from an asynchronous source. Metrics
   * reading the same source share one read per scrape; a failing source is counted once and left out.
   */
  private fromSource<K extends AsyncSource, M extends { reset(): void }>(source: K, fill: (this: M, value: SourceValue<K>) => void): (this: M) => Promise<void> {
    const self = this;
    return async function (this: M): Promise<void> {
      this.reset();
      const read = self.sources?.[source];
      if (!read) return;
      let pending = self.reads.get(source) as Promise<SourceValue<K> | undefined> | undefined;
      if (!pending) {
        pending = (read() as Promise<SourceValue<K>>).catch((err: unknown) => {
          self.collectFailures.inc({ source });
          self.log.warn({ err, source }, 'metrics: a source could not be read; left out of this scrape');
          return undefined;
        });
        self.reads.set(source, pending);
        void pending.finally(() => self.reads.delete(source));
      }
      const value = await pending;
      if (value !== undefined) fill.call(this, value);
    };
  }
}

type AsyncSource = 'activeAlerts' | 'syncRuns' | 'jobBacklog';
type SourceValue<K extends AsyncSource> = Awaited<ReturnType<NonNullable<MetricsSources[K]>>>;

/**
 * Starts the /metrics-only listener of METRICS_PORT on 127.0.0.1 (not reachable from other hosts:
 * a node agent or sidecar scrapes it), or returns undefined when it is not configured.
 */
export async function startMetricsListener(metrics: ServerMetrics, config: MetricsConfig, log: Logger): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (config.port === undefined) return undefined;
  const server = http.createServer((req, res) => {
    if ((req.url ?? '/').split('?', 1)[0] !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`only ${METRICS_PATH} is served here\n`);
      return;
    }
    metrics.serve(req, res).catch((err: unknown) => failed(res, err, log));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The main port's /metrics route per config, or undefined when it answers 404 there. */
export function metricsRoute(metrics: ServerMetrics, config: MetricsConfig, log: Logger): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  if (config.mainPort === 'off') return undefined;
  const token = config.mainPort === 'token' ? config.token : undefined;
  return (req, res) => {
    metrics.serve(req, res, token).catch((err: unknown) => failed(res, err, log));
  };
}

function failed(res: ServerResponse, err: unknown, log: Logger): void {
  log.error({ err }, 'metrics scrape failed');
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
  res.end();
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? '';
  // Digests have one length whatever was sent, so the comparison takes the same time for any guess.
  return timingSafeEqual(sha256(given), sha256(token));
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Values as given up to `cap` distinct ones, then `overflow`: a label's cardinality stays bounded. */
class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly cap: number,
    private readonly overflow: string,
  ) {}

  label(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.cap) return this.overflow;
    this.seen.add(value);
    return value;
  }
}

let processMetrics: Registry | undefined;

/** Process metrics (CPU, memory, event loop lag, GC), collected once per process however many servers run in it. */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
    // Gauges named like counters, which `promtool check metrics` refuses; each has a twin without the
    // suffix (nodejs_active_handles, ...) carrying the same value.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processMetrics.removeSingleMetric(name);
  }
  return processMetrics;
}
