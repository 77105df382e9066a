/**
 * The product's notion of now. Real time by default; tests (and demos) move it forward to cross the
 * 90-day and monthly reporting boundaries, or stop it at an exact instant (`set`) so that what a
 * request records can be predicted to the millisecond. When moved or stopped, every request
 * transaction pins the same instant for SQL (`app.now`, read by app_now()), so time-based rules agree
 * between code and SQL.
 */
export class Clock {
  private offsetMs = 0;
  /** When stopped: the instant it shows (moved only by advance). */
  private stoppedAt: number | null = null;

  now(): Date {
    return new Date(this.stoppedAt ?? Date.now() + this.offsetMs);
  }

  /** Moves the clock forward (or back) by `ms` from where it is. */
  advance(ms: number): void {
    if (this.stoppedAt !== null) this.stoppedAt += ms;
    else this.offsetMs += ms;
  }

  /** Stops the clock at `at`: it shows that instant until advanced, set again or reset. */
  set(at: Date): void {
    this.stoppedAt = at.getTime();
  }

  reset(): void {
    this.offsetMs = 0;
    this.stoppedAt = null;
  }

  /** The instant to pin in SQL, or '' when the clock is real (app_now() is then now()). */
  pinnedForSql(): string {
    return this.offsetMs === 0 && this.stoppedAt === null ? '' : this.now().toISOString();
  }
}
