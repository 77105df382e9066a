/**
 * The product's notion of now. Real time by default; tests (and demos) move it forward to cross the
 * 90-day and monthly reporting boundaries. When moved, every request transaction pins the same
 * instant for SQL (`app.now`, read by app_now()), so time-based rules agree between code and SQL.
 */
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock forward (or back) by `ms` from where it is. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }

  /** The instant to pin in SQL, or '' when the clock is real (app_now() is then now()). */
  pinnedForSql(): string {
    return this.offsetMs === 0 ? '' : this.now().toISOString();
  }
}
