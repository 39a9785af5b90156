/**
 * Streaming statistics for feature windows.
 *
 * LuxAccumulator: Welford's online mean/variance (numerically stable, O(1) per
 * value, order-independent up to rounding), min, max and the value with the
 * latest timestamp (so an out-of-order reading does not become "last").
 *
 * Presence: time-weighted share of occupied time. Why time-weighted and not the
 * fraction of readings: DALI-2 occupancy sensors (IEC 62386-303) send an event
 * when the state changes and repeat "occupied" at their report interval, so
 * readings are dense while occupied and sparse while vacant. Counting readings
 * would call a room that was vacant for 4 of 5 minutes "mostly occupied". The
 * state is taken as constant from one presence reading to the next (last
 * observation carried forward), but for at most `holdMs` after a reading; time
 * not covered by any reading (sensor silent longer than holdMs) counts neither
 * way.
 */

export class LuxAccumulator {
  n = 0;
  mean = 0;
  /** Sum of squared deviations from the mean (Welford's M2). */
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  last: number | null = null;
  lastTs = -Infinity;

  add(lux: number, ts: number): void {
    this.n += 1;
    const delta = lux - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (lux - this.mean);
    if (lux < this.min) this.min = lux;
    if (lux > this.max) this.max = lux;
    // Equal timestamps: the later arrival wins.
    if (ts >= this.lastTs) {
      this.lastTs = ts;
      this.last = lux;
    }
  }

  /** Population standard deviation; 0 for one value. */
  std(): number {
    if (this.n < 2) return 0;
    const v = this.m2 / this.n;
    return v > 0 ? Math.sqrt(v) : 0;
  }
}

export interface PresenceSample {
  ts: number;
  value: boolean;
}

/**
 * Presence readings of one open window, kept sorted by ts (stable: equal ts
 * keep arrival order, so the later arrival is the newer state). In-order
 * arrival is an O(1) push; an out-of-order reading is inserted by binary
 * search. Size is bounded by the presence readings of one window.
 */
export class PresenceTrack {
  readonly ts: number[] = [];
  readonly value: boolean[] = [];

  get length(): number {
    return this.ts.length;
  }

  add(ts: number, value: boolean): void {
    const n = this.ts.length;
    if (n === 0 || ts >= (this.ts[n - 1] as number)) {
      this.ts.push(ts);
      this.value.push(value);
      return;
    }
    // First index with ts > new ts (upper bound) keeps equal-ts arrival order.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ts[mid] as number) <= ts) lo = mid + 1;
      else hi = mid;
    }
    this.ts.splice(lo, 0, ts);
    this.value.splice(lo, 0, value);
  }

  lastSample(): PresenceSample | null {
    const n = this.ts.length;
    if (n === 0) return null;
    return { ts: this.ts[n - 1] as number, value: this.value[n - 1] as boolean };
  }
}

export interface PresenceSummary {
  ratio: number | null;
  transitions: number;
  last: boolean | null;
  lastTs: number | null;
}

/**
 * Presence statistics of [start, end) from the window's sorted samples and
 * the state carried in from before `start` (the last earlier presence reading,
 * or null).
 *
 * - Covered time: each known state (carried or read) holds from its reading
 *   until the next reading, but at most holdMs, clipped to [start, end).
 * - ratio = occupied covered time / covered time; when no time is covered
 *   (one reading exactly at `end` of a snapshot) the last known value (0/1);
 *   null when nothing is known.
 * - transitions: readings whose value differs from the state known just before
 *   them (the previous reading, or the carried state), when that state was
 *   still within holdMs; a change across a silent gap is not observed.
 */
export function summarisePresence(
  track: PresenceTrack,
  carry: PresenceSample | null,
  start: number,
  end: number,
  holdMs: number,
): PresenceSummary {
  let covered = 0;
  let occupied = 0;
  let transitions = 0;
  let state: PresenceSample | null = carry !== null && carry.ts < start ? carry : null;
  let cursor = start;

  const span = (until: number): void => {
    if (state === null) return;
    const segEnd = Math.min(until, state.ts + holdMs, end);
    if (segEnd > cursor) {
      covered += segEnd - cursor;
      if (state.value) occupied += segEnd - cursor;
    }
  };

  const n = track.ts.length;
  for (let i = 0; i < n; i++) {
    const ts = track.ts[i] as number;
    const value = track.value[i] as boolean;
    span(ts);
    if (state !== null && state.value !== value && ts - state.ts <= holdMs) transitions += 1;
    state = { ts, value };
    if (ts > cursor) cursor = ts;
  }
  span(end);

  // Without readings in the window, the carried state counts only if it was still held at `start`.
  const carried = state !== null && state.ts + holdMs > start ? state : null;
  const lastKnown = n > 0 ? { ts: track.ts[n - 1] as number, value: track.value[n - 1] as boolean } : carried;
  let ratio: number | null = null;
  if (covered > 0) ratio = occupied / covered;
  else if (n > 0 && lastKnown !== null) ratio = lastKnown.value ? 1 : 0;
  return {
    ratio,
    transitions,
    last: lastKnown === null ? null : lastKnown.value,
    lastTs: lastKnown === null ? null : lastKnown.ts,
  };
}
