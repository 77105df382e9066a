import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** Every field of an alert, as a provider portal's alert feed selects it. */
export const ALERT_SUBSCRIPTION = `subscription SoakAlerts($tenantId: ID) { licenseAlerts(tenantId: $tenantId) {
  id kind severity subjectType subjectId message details raisedAt updatedAt acknowledgedAt resolvedAt active tenant { id name slug } } }`;

export interface SubscriptionEnd {
  /** Who ended it: the client (close frame), the client without a close frame, or the server. */
  endedBy: 'client' | 'client-abrupt' | 'server';
  /** Close code as the client saw it; 1006 means the TCP connection ended without a close frame. */
  closeCode: number;
  closeReason: string;
  /** The subscribe was answered with errors instead of events: the first error's code. */
  refused?: string;
  /** A transport error (ECONNREFUSED, ECONNRESET...). */
  error?: string;
  events: number;
  ms: number;
}

/**
 * One graphql-transport-ws connection with one `licenseAlerts` subscription, written against the
 * protocol directly (not graphql-ws's client) so the soak can do what real clients do and a library
 * would hide: stop reading, or drop the TCP connection without a close frame.
 */
export class AlertSubscriber {
  events = 0;
  readonly ended: Promise<SubscriptionEnd>;
  /** Settles at the subscription's first answer from the server: an event or a refusal. */
  readonly answered: Promise<void>;
  private readonly ws: WebSocket;
  private socket?: Socket;
  private endedBy?: SubscriptionEnd['endedBy'];
  private refused?: string;
  private error?: string;
  private readonly startedAt = Date.now();
  private readonly acked: Promise<void>;

  constructor(url: string, bearer: string, variables: { tenantId?: string } = {}, onEvent?: () => void) {
    this.ws = new WebSocket(url, 'graphql-transport-ws');
    this.ws.on('upgrade', (res) => {
      this.socket = res.socket;
    });
    this.ws.on('open', () => this.send({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } }));
    let ack: () => void = () => undefined;
    this.acked = new Promise((resolve) => (ack = resolve));
    let answer: () => void = () => undefined;
    this.answered = new Promise((resolve) => (answer = resolve));
    this.ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (msg.type === 'connection_ack') {
        this.send({ id: '1', type: 'subscribe', payload: { query: ALERT_SUBSCRIPTION, variables } });
        ack();
      } else if (msg.type === 'ping') {
        this.send({ type: 'pong' });
      } else if (msg.type === 'next') {
        const payload = msg.payload as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
        if (payload.data) {
          this.events++;
          onEvent?.();
        } else {
          this.refused ??= payload.errors?.[0]?.extensions?.code ?? 'ERROR';
        }
      } else if (msg.type === 'error') {
        this.refused ??= (msg.payload as { extensions?: { code?: string } }[] | undefined)?.[0]?.extensions?.code ?? 'ERROR';
      }
      if (msg.type === 'next' || msg.type === 'error') answer();
    });
    this.ws.on('error', (err: Error & { code?: string }) => {
      this.error ??= err.code ?? err.message;
    });
    this.ended = new Promise((resolve) =>
      this.ws.once('close', (code, reason) =>
        resolve({
          endedBy: this.endedBy ?? 'server',
          closeCode: code,
          closeReason: reason.toString('utf8'),
          ...(this.refused ? { refused: this.refused } : {}),
          ...(this.error && !this.endedBy ? { error: this.error } : {}),
          events: this.events,
          ms: Date.now() - this.startedAt,
        }),
      ),
    );
  }

  /** Ends with a normal close frame (or drops the attempt if not connected yet). */
  end(): void {
    if (this.endedBy) return;
    this.endedBy = 'client';
    this.ws.resume(); // a slow reader must read the server's close frame to finish the handshake
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'done');
    else this.ws.terminate();
  }

  /** Destroys the TCP socket: no close frame, as when a laptop lid closes or a NAT drops the flow. */
  endAbruptly(): void {
    if (this.endedBy) return;
    this.endedBy = 'client-abrupt';
    if (this.socket) this.socket.destroy();
    else this.ws.terminate();
  }

  /**
   * From the connection's acknowledgement on, reads one socket chunk (up to 64 KB) every
   * `intervalMs` and nothing in between: a subscriber that falls behind the events.
   */
  readSlowly(intervalMs: number): void {
    void this.acked.then(() => {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.pause();
      const timer = setInterval(() => {
        if (!this.ws.isPaused) return; // still waiting for data since the last turn
        this.ws.once('message', () => this.ws.pause());
        this.ws.resume();
      }, intervalMs);
      void this.ended.finally(() => clearInterval(timer));
    });
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}
