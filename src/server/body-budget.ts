/**
 * Request body bytes in flight on this instance, in all and per token subject. A request reserves
 * its declared Content-Length (or its route's maximum when the body is chunked) after its token is
 * verified and before a byte of its body is read, and gives it back when its response is done or
 * its connection closed. The sum of all reservations bounds what bodies can hold in memory.
 */
export type Admission = { admitted: true; release: () => void } | { admitted: false; refusedBy: 'instance' | 'subject' };

export class BodyBudget {
  private inFlight = 0;
  private readonly perSubject = new Map<string, number>();

  constructor(private readonly limits: { instance: number; perSubject: number }) {}

  /** Reserves `bytes` for `subject`, or says which bound it would cross (the subject's is checked first). */
  reserve(subject: string, bytes: number): Admission {
    const mine = this.perSubject.get(subject) ?? 0;
    if (mine + bytes > this.limits.perSubject) return { admitted: false, refusedBy: 'subject' };
    if (this.inFlight + bytes > this.limits.instance) return { admitted: false, refusedBy: 'instance' };
    this.inFlight += bytes;
    this.perSubject.set(subject, mine + bytes);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= bytes;
        const left = (this.perSubject.get(subject) ?? 0) - bytes;
        if (left > 0) this.perSubject.set(subject, left);
        else this.perSubject.delete(subject);
      },
    };
  }

  /** Bytes reserved now (for tests and metrics). */
  get reservedBytes(): number {
    return this.inFlight;
  }
}
