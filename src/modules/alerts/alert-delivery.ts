import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Role } from '../../auth/roles';
import { createViewer, isProvider, type Viewer } from '../../auth/viewer';
import type { AppRuntime, RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import type { AlertEvent } from '../../events/alert-bus';
import { CoalescingQueue, type QueueOverflow } from '../../events/coalescing-queue';
import type { Logger } from '../../logger';
import { loadAlerts } from './alert.service';
import type { Alert } from './alert.types';

/**
 * WebSocket close code for a subscriber that fell behind, stalled, or whose alerts could not be
 * loaded: 1013 "Try Again Later" (IANA WebSocket close code registry). graphql-ws clients treat it
 * as retryable: they reconnect, resubscribe, and should re-read `alerts` to catch up.
 */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Notifications loaded per statement; a longer burst is delivered in several batches. */
const BATCH_SIZE = 500;
const SYSTEM_SUBJECT = 'system:alert-delivery';

interface Subscriber {
  queue: CoalescingQueue<Alert>;
  /** Provider subscribers: null, or the one tenant asked for with `tenantId`. */
  scopeTenant: string | null;
  /** The tenant of a tenant viewer; null for providers. */
  viewerTenant: string | null;
}

export interface AlertDeliveryStats {
  /** Open subscriptions on this instance. */
  subscribers: number;
  /** Notifications received and not yet loaded. */
  pendingEvents: number;
  /** Alerts loaded and waiting in subscribers' queues. */
  queuedAlerts: number;
  /** Whether the delivery listens on the bus (only while it has subscribers). */
  listening: boolean;
}

/**
 * Delivers committed alert changes to this instance's `licenseAlerts` subscribers.
 *
 * - Notifications are only recorded when they arrive (alert id -> tenant, so a burst of changes to
 *   one alert is one entry); a single flush loop loads them in batches, one statement per batch and
 *   visibility class (the provider class, and each tenant with subscribers), with that class's
 *   row-level security. An event of a tenant nobody of that tenant subscribed to is not loaded for it.
 * - Each subscriber has its own CoalescingQueue: alerts are state, so the newest state of an alert
 *   replaces a pending older one. A subscriber with more than `maxPending` distinct alerts waiting,
 *   or that has not read for `stallMs` while alerts wait, is closed with 1013 so its client
 *   resubscribes and re-reads `alerts`; nothing else is affected.
 * - Nothing here can end the process: a failed load is logged and closes only the subscribers of
 *   that class (with 1013, so they catch up), and the loop carries on.
 */
export class AlertDelivery {
  private readonly providers = new Set<Subscriber>();
  private readonly tenants = new Map<string, Set<Subscriber>>();
  private readonly pending = new Map<string, string | null>();
  private flushing = false;
  private unlisten: (() => void) | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      app: AppRuntime;
      /** An EntityManager to fork one per load from; never used for queries itself. */
      root: EntityManager;
      log: Logger;
      maxPending: number;
      stallMs: number;
    },
  ) {}

  /**
   * A stream of the alerts `viewer` may see (of `scopeTenant` only, when set). `close` ends the
   * subscriber's connection with a code and reason when it overflows.
   */
  subscribe(viewer: Viewer, scopeTenant: string | null, close: (code: number, reason: string) => void): AsyncIterableIterator<Alert> {
    const viewerTenant = isProvider(viewer) ? null : viewer.tenantId;
    if (!isProvider(viewer) && !viewerTenant) throw new InvariantError(`tenant viewer ${viewer.subject} has no tenant`);
    const subscriber: Subscriber = {
      scopeTenant: viewerTenant ?? scopeTenant,
      viewerTenant,
      queue: new CoalescingQueue<Alert>(this.deps.maxPending, (overflow) => {
        this.remove(subscriber);
        if (overflow) this.overflowed(viewer, overflow, close);
      }),
    };
    if (viewerTenant) {
      let set = this.tenants.get(viewerTenant);
      if (!set) this.tenants.set(viewerTenant, (set = new Set()));
      set.add(subscriber);
    } else {
      this.providers.add(subscriber);
    }
    this.unlisten ??= this.deps.app.alerts.listen((event) => this.received(event));
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(50, Math.min(5_000, this.deps.stallMs / 2))).unref();
    return subscriber.queue;
  }

  stats(): AlertDeliveryStats {
    let subscribers = this.providers.size;
    let queuedAlerts = 0;
    for (const s of this.providers) queuedAlerts += s.queue.size;
    for (const set of this.tenants.values()) {
      subscribers += set.size;
      for (const s of set) queuedAlerts += s.queue.size;
    }
    return { subscribers, pendingEvents: this.pending.size, queuedAlerts, listening: this.unlisten !== undefined };
  }

  /** Ends every subscription (shutdown). */
  close(): void {
    for (const s of this.all()) s.queue.end();
  }

  private *all(): Iterable<Subscriber> {
    yield* this.providers;
    for (const set of this.tenants.values()) yield* set;
  }

  private remove(subscriber: Subscriber): void {
    if (subscriber.viewerTenant) {
      const set = this.tenants.get(subscriber.viewerTenant);
      set?.delete(subscriber);
      if (set?.size === 0) this.tenants.delete(subscriber.viewerTenant);
    } else {
      this.providers.delete(subscriber);
    }
    if (this.providers.size === 0 && this.tenants.size === 0) {
      // Nobody left: stop listening and forget what was not loaded yet.
      this.unlisten?.();
      this.unlisten = undefined;
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.pending.clear();
    }
  }

  private overflowed(viewer: Viewer, overflow: QueueOverflow, close: (code: number, reason: string) => void): void {
    const reason =
      overflow === 'full'
        ? `alert subscriber fell behind by more than ${this.deps.maxPending} alerts; resubscribe and re-read alerts`
        : `alert subscriber did not read for ${Math.round(this.deps.stallMs / 1000)} s; resubscribe and re-read alerts`;
    this.deps.log.warn({ sub: viewer.subject, tenantId: viewer.tenantId, overflow }, 'closing an alert subscriber that fell behind');
    try {
      close(CLOSE_TRY_AGAIN_LATER, reason);
    } catch (err) {
      this.deps.log.error({ err }, 'closing a lagging alert subscriber failed');
    }
  }

  private received(event: AlertEvent): void {
    // Delete first: a re-announced alert moves behind the others, keeping arrival order per alert.
    this.pending.delete(event.id);
    this.pending.set(event.id, event.tenantId);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // setImmediate: the rest of a burst (one socket read holds many notifications) joins the batch.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = new Map<string, string | null>();
        for (const [id, tenantId] of this.pending) {
          batch.set(id, tenantId);
          if (batch.size >= BATCH_SIZE) break;
        }
        for (const id of batch.keys()) this.pending.delete(id);
        await this.deliver(batch);
      }
    } catch (err) {
      this.deps.log.error({ err }, 'alert delivery failed; carrying on');
    } finally {
      this.flushing = false;
      if (this.pending.size > 0) this.scheduleFlush();
    }
  }

  private async deliver(batch: Map<string, string | null>): Promise<void> {
    if (this.providers.size > 0) {
      let scopes: Set<string> | null = new Set();
      for (const s of this.providers) {
        if (s.scopeTenant === null) {
          scopes = null;
          break;
        }
        scopes.add(s.scopeTenant);
      }
      const ids = [...batch].filter(([, t]) => scopes === null || (t !== null && scopes.has(t))).map(([id]) => id);
      await this.loadFor(null, ids, this.providers);
    }
    const byTenant = new Map<string, string[]>();
    for (const [id, tenantId] of batch) {
      if (tenantId === null || !this.tenants.has(tenantId)) continue;
      const ids = byTenant.get(tenantId);
      if (ids) ids.push(id);
      else byTenant.set(tenantId, [id]);
    }
    for (const [tenantId, ids] of byTenant) {
      const subscribers = this.tenants.get(tenantId);
      if (subscribers) await this.loadFor(tenantId, ids, subscribers);
    }
  }

  /** One statement for one visibility class, then each alert into each subscriber's queue. */
  private async loadFor(tenantId: string | null, ids: string[], subscribers: Set<Subscriber>): Promise<void> {
    if (ids.length === 0) return;
    let alerts: Alert[];
    try {
      alerts = await loadAlerts(this.classContext(tenantId), ids);
    } catch (err) {
      this.deps.log.error({ err, tenantId, alerts: ids.length }, 'loading alerts for delivery failed; closing that class of subscribers');
      for (const s of [...subscribers]) s.queue.end('stalled');
      return;
    }
    for (const alert of alerts) {
      for (const s of subscribers) {
        if (s.scopeTenant === null || s.scopeTenant === alert.tenantId) s.queue.push(alert.dbId, alert);
      }
    }
  }

  /** Who loads for a class: a system viewer with exactly that class's RLS standing. */
  private classContext(tenantId: string | null): RequestContext {
    const viewer = tenantId
      ? createViewer(SYSTEM_SUBJECT, Role.TENANT_OPERATOR, tenantId, Number.MAX_SAFE_INTEGER)
      : createViewer(SYSTEM_SUBJECT, Role.PROVIDER_OPERATOR, null, Number.MAX_SAFE_INTEGER);
    const requestId = randomUUID();
    return { viewer, em: this.deps.root.fork(), requestId, log: this.deps.log.child({ reqId: requestId }), app: this.deps.app, memo: new Map() };
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of [...this.all()]) if (s.queue.stalledFor(this.deps.stallMs, now)) s.queue.end('stalled');
  }
}

const deliveries = new WeakMap<AppRuntime, AlertDelivery>();

/** The instance's delivery (one per runtime), made on the first subscription. */
export function alertDeliveryOf(ctx: RequestContext): AlertDelivery {
  let delivery = deliveries.get(ctx.app);
  if (!delivery) {
    delivery = new AlertDelivery({
      app: ctx.app,
      // A fork holds no reference to the request it came from; it only serves to fork from.
      root: ctx.em.fork(),
      log: ctx.app.log.child({ component: 'alert-delivery' }),
      maxPending: ctx.app.config.alertSubscribers.maxPending,
      stallMs: ctx.app.config.alertSubscribers.stallMs,
    });
    deliveries.set(ctx.app, delivery);
  }
  return delivery;
}

/** The delivery of a runtime, if any subscription ever started there (tests and stats). */
export function existingAlertDelivery(app: AppRuntime): AlertDelivery | undefined {
  return deliveries.get(app);
}
