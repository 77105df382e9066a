import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a restart needs to lose nothing: once draining starts, /readyz answers 503 (the balancer stops
 * sending), requests already accepted run to their real answer, and a request that arrives afterwards
 * on a kept-alive connection is refused with 503, `Retry-After` and `Connection: close` (the client
 * retries on another instance) instead of reaching a server that is stopping. Answers given while
 * draining close their connection too. The HTTP server itself is drained by Apollo's drain plugin
 * (it waits for the requests admitted here), and the pool is closed after it.
 */
export class Drain {
  private draining = false;
  private readonly inFlight = new Set<ServerResponse>();

  get active(): boolean {
    return this.draining;
  }

  /**
   * Admits a request (true) and counts it until its response is finished or its connection closed,
   * or, while draining, answers it with 503 and returns false.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.draining) {
      res.shouldKeepAlive = false;
      res.statusCode = 503;
      res.setHeader('connection', 'close');
      res.setHeader('retry-after', '1');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ errors: [{ message: 'the server is restarting; retry the request', extensions: { code: 'SERVER_RESTARTING' } }] }));
      // The body of a refused request is not read; the connection ends after the answer.
      req.resume();
      return false;
    }
    this.inFlight.add(res);
    res.once('close', () => this.inFlight.delete(res));
    return true;
  }

  /** From now on every request is refused; answers not yet begun will close their connection. */
  start(): void {
    this.draining = true;
    for (const res of this.inFlight) {
      if (res.headersSent) continue;
      res.shouldKeepAlive = false;
      res.setHeader('connection', 'close');
    }
  }
}
