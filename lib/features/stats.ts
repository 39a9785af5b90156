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
 * arrival is an O(1) push; an out-of-order reading moves the later ones up
 * one place from the end (usually a few: readings arrive nearly in order),
 * with no array allocated. Size is bounded by the presence readings of one window.
 */
export class PresenceTrack {
  readonly ts: number[] = [];
  readonly value: boolean[] = [];

  get length(): number {
    return this.ts.length;
  }

  add(ts: number, value: boolean): void {
    const tsList = this.ts;
    const valueList = this.value;
    let i = tsList.length;
    tsList.push(ts);
    valueList.push(value);
    // Out of order: shift the readings with a later ts up by one; one with an equal ts stays before.
    while (i > 0 && (tsList[i - 1] as number) > ts) {
      tsList[i] = tsList[i - 1] as number;
      valueList[i] = valueList[i - 1] as boolean;
      i -= 1;
    }
    tsList[i] = ts;
    valueList[i] = value;
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
  // The known state (last observation carried forward): a reading's time and value; no object per reading.
  let known = carry !== null && carry.ts < start;
  let stateTs = known ? (carry as PresenceSample).ts : 0;
  let stateValue = known ? (carry as PresenceSample).value : false;
  let cursor = start;

  const tsList = track.ts;
  const valueList = track.value;
  const n = tsList.length;
  for (let i = 0; i <= n; i++) {
    // Span of the known state up to the next reading (or to `end` after the last one), at most holdMs.
    const until = i < n ? (tsList[i] as number) : end;
    if (known) {
      // min(until, stateTs + holdMs, end), without a call per reading.
      let segEnd = until;
      const held = stateTs + holdMs;
      if (held < segEnd) segEnd = held;
      if (end < segEnd) segEnd = end;
      if (segEnd > cursor) {
        covered += segEnd - cursor;
        if (stateValue) occupied += segEnd - cursor;
      }
    }
    if (i === n) break;
    const value = valueList[i] as boolean;
    if (known && stateValue !== value && until - stateTs <= holdMs) transitions += 1;
    known = true;
    stateTs = until;
    stateValue = value;
    if (until > cursor) cursor = until;
  }

  // Without readings in the window, the carried state counts only if it was still held at `start`.
  let lastKnown: PresenceSample | null = null;
  if (n > 0) lastKnown = { ts: tsList[n - 1] as number, value: valueList[n - 1] as boolean };
  else if (known && stateTs + holdMs > start) lastKnown = { ts: stateTs, value: stateValue };
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
