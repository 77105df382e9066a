import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenVerifier } from '../auth/jwt';
import { Role } from '../auth/roles';
import type { ServerStats } from './app';

/**
 * Debug routes for the soak tool (`npm run soak`), present only when the process runs with
 * `--expose-gc`: a production server started normally has no such route (404 like any unknown path).
 */
export const DEBUG_HEAP_PATH = '/__debug/heap';

/** What `GET /__debug/heap` answers: process.memoryUsage() right after a full GC, and live counts. */
export interface HeapReport {
  heapUsedBytes: number;
  heapTotalBytes: number;
  rssBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Open licenseAlerts subscriptions. */
  alertSubscribers: number;
  /** Alerts loaded and waiting in subscribers' queues. */
  queuedAlerts: number;
  /** Listeners on the alert bus (0 once every subscriber has gone). */
  alertBusListeners: number;
  /** Open WebSocket connections. */
  wsClients: number;
}

export interface DebugHookDeps {
  verifier: Pick<TokenVerifier, 'viewerFromAuthorization'>;
  /** The server's per-connection state (RunningServer.stats). */
  stats: () => ServerStats;
  /** Defaults to `global.gc`, defined only under `--expose-gc`. */
  gc?: () => void;
  memoryUsage?: () => NodeJS.MemoryUsage;
}

/** Handles a debug route and returns true, or returns false for any other request. */
export type DebugRoutes = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** The debug routes, or undefined when there is no gc function (the routes then do not exist). */
export function debugRoutes(deps: DebugHookDeps): DebugRoutes | undefined {
  const gc = deps.gc ?? (typeof global.gc === 'function' ? global.gc : undefined);
  if (!gc) return undefined;
  const memoryUsage = deps.memoryUsage ?? (() => process.memoryUsage());
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let role: Role;
    try {
      role = (await deps.verifier.viewerFromAuthorization(req.headers.authorization)).role;
    } catch (err) {
      sendError(res, 401, err instanceof Error ? err.message : 'unauthenticated', 'UNAUTHENTICATED');
      return;
    }
    if (role !== Role.PROVIDER_ADMIN) {
      sendError(res, 403, `${DEBUG_HEAP_PATH} needs the ${Role.PROVIDER_ADMIN} role`, 'FORBIDDEN');
      return;
    }
    gc();
    const stats = deps.stats();
    const report: HeapReport = {
      ...memoryFigures(memoryUsage()),
      alertSubscribers: stats.alerts.subscribers,
      queuedAlerts: stats.alerts.queuedAlerts,
      alertBusListeners: stats.alertBusListeners,
      wsClients: stats.webSocketClients,
    };
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(report));
  };
  // The route is recognised at once (the caller then leaves the request alone); the answer follows
  // once the token is verified, which may wait for the identity provider's keys.
  return (req, res, path) => {
    if (path !== DEBUG_HEAP_PATH || req.method !== 'GET') return false;
    answer(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'debug route failed', 'INTERNAL_SERVER_ERROR');
      else res.destroy(err instanceof Error ? err : undefined);
    });
    return true;
  };
}

function memoryFigures(m: NodeJS.MemoryUsage): Omit<HeapReport, 'alertSubscribers' | 'queuedAlerts' | 'alertBusListeners' | 'wsClients'> {
  return { heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, rssBytes: m.rss, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers };
}

function sendError(res: ServerResponse, status: number, message: string, code: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
