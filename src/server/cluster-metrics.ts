import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/**
 * /metrics of a cluster (WEB_CONCURRENCY > 1, src/cluster.ts): whichever worker a scrape reaches
 * asks the primary, which collects every worker's metrics over IPC and aggregates them with
 * prom-client's AggregatorRegistry (counters and histograms summed; figures read from the database
 * declared `aggregator: 'max'`, since every worker reads the same value). A scrape therefore sees the
 * whole instance, not the one worker that happened to accept its connection.
 */
type Snapshot = MetricObjectWithValues<MetricValue<string>>[];
type Message =
  | { slm: 'metrics-request'; id: string }
  | { slm: 'metrics'; id: string; body?: string; error?: string }
  | { slm: 'snapshot-request'; id: string }
  | { slm: 'snapshot'; id: string; metrics?: Snapshot; error?: string };

const TIMEOUT_MS = 5000;

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as { slm?: unknown }).slm === 'string';
}

/** Worker: answer the primary's snapshot requests from `snapshot` (this process's metrics). */
export function serveMetricSnapshots(snapshot: () => Promise<Snapshot>): () => void {
  if (!cluster.isWorker) return () => undefined;
  const onMessage = (m: unknown): void => {
    if (!isMessage(m) || m.slm !== 'snapshot-request') return;
    snapshot().then(
      (metrics) => process.send?.({ slm: 'snapshot', id: m.id, metrics } satisfies Message),
      (err: unknown) => process.send?.({ slm: 'snapshot', id: m.id, error: String(err) } satisfies Message),
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** Worker: the whole cluster's exposition text from the primary; undefined outside a cluster. */
export function clusterMetrics(): Promise<string | undefined> {
  const send = process.send?.bind(process);
  if (!cluster.isWorker || !send) return Promise.resolve(undefined);
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error(`the cluster primary did not answer a metrics request within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    const onMessage = (m: unknown): void => {
      if (!isMessage(m) || m.slm !== 'metrics' || m.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (m.body !== undefined) resolve(m.body);
      else reject(new Error(`cluster metrics: ${m.error ?? 'no answer'}`));
    };
    process.on('message', onMessage);
    send({ slm: 'metrics-request', id } satisfies Message);
  });
}

/** Primary: answers workers' metrics requests with every live worker's metrics, aggregated. */
export function aggregateWorkerMetrics(workers: () => Worker[]): void {
  const pending = new Map<string, { left: number; snapshots: Snapshot[]; done: (err?: Error) => void }>();
  cluster.on('message', (worker, m: unknown) => {
    if (!isMessage(m)) return;
    if (m.slm === 'snapshot') {
      const wait = pending.get(m.id);
      if (!wait) return;
      if (m.metrics) wait.snapshots.push(m.metrics);
      if (--wait.left === 0) wait.done();
      return;
    }
    if (m.slm !== 'metrics-request') return;
    const live = workers().filter((w) => w.isConnected());
    const id = randomUUID();
    const reply = (body?: string, error?: string): void => {
      if (worker.isConnected()) worker.send({ slm: 'metrics', id: m.id, body, error } satisfies Message);
    };
    const snapshots: Snapshot[] = [];
    const timer = setTimeout(() => finish(), TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      if (!pending.delete(id)) return;
      AggregatorRegistry.aggregate(snapshots)
        .metrics()
        .then((body) => reply(body), (err: unknown) => reply(undefined, String(err)));
    };
    pending.set(id, { left: live.length, snapshots, done: finish });
    for (const w of live) w.send({ slm: 'snapshot-request', id } satisfies Message);
  });
}
