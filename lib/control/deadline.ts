/**
 * One timer for many deadlines: fires at the earliest one, hands every key
 * that is due to the callback and re-arms for the next. Deadlines beyond
 * setTimeout's largest delay (about 24.8 days) re-arm at that limit instead of
 * firing at once. Used by the rules node (per-zone re-decisions) and the
 * override gate node (override expiry).
 */

/** setTimeout's largest delay, ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export class DeadlineTimer<K> {
  readonly #deadlines = new Map<K, number>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param onDue called with the keys whose deadline has come (already removed), and the time.
   * @param now the clock (epoch ms).
   */
  constructor(
    private readonly onDue: (keys: K[], now: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sets (or with null, removes) the deadline of `key`, epoch ms, and re-arms. */
  set(key: K, at: number | null): void {
    if (at === null || !Number.isFinite(at)) this.#deadlines.delete(key);
    else this.#deadlines.set(key, at);
    this.#arm();
  }

  get size(): number {
    return this.#deadlines.size;
  }

  /** Drops every deadline and the timer. */
  clear(): void {
    this.#deadlines.clear();
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#deadlines.size === 0) return;
    const next = Math.min(...this.#deadlines.values());
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMER_DELAY_MS, Math.max(0, next - this.now())));
  }

  #fire(): void {
    this.#timer = null;
    const now = this.now();
    const due = [...this.#deadlines].filter(([, at]) => at <= now).map(([key]) => key);
    for (const key of due) this.#deadlines.delete(key);
    if (due.length > 0) this.onDue(due, now);
    // The callback may have set new deadlines (which armed a timer); arm once more either way.
    this.#arm();
  }
}
