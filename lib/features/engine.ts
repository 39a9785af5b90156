/**
 * Per-zone incremental feature windows.
 *
 * Windows are [start, start + windowMs) with start a multiple of windowMs
 * since the epoch ("aligned to the clock": with 5 minutes they end at 10.00,
 * 10.05, ... in every time zone whose UTC offset is a multiple of 5 minutes,
 * which is every zone in use today).
 *
 * Each reading updates its window in O(1) (Welford for lux; presence readings
 * are kept per open window, see stats.ts); nothing is ever re-read from the
 * database. A window closes when `now >= windowEnd + graceMs`:
 * - a reading whose window is still open is counted, even out of order;
 * - a reading whose window's deadline has passed (or that is older than a
 *   window already closed for its zone) is "late": reported with
 *   `late: true`, meant to be stored raw, never counted.
 * Lateness depends only on (reading.ts, now), not on when advance() last ran.
 *
 * Windows with no reading produce nothing. The last `keepWindows` windows per
 * zone stay in memory (the hot path the AI and rules nodes look back on).
 */
import { LocalClock } from './local-time';
import { LuxAccumulator, PresenceTrack, summarisePresence, type PresenceSample } from './stats';
import type { FeatureWindow, WeatherSnapshot } from '../contracts/feature-window';
import {
  ReadingValidationError,
  validateSensorReading,
  validateWeatherUpdate,
  type SensorReading,
  type WeatherUpdate,
} from '../contracts/readings';

export interface FeatureEngineOptions {
  /** Window length, ms (>= 1000, whole ms). Default 300 000 (5 min). */
  windowMs?: number;
  /** How long after its end a window still accepts late readings, ms. Default 60 000. */
  graceMs?: number;
  /** Windows per zone kept in memory. Default 3. */
  keepWindows?: number;
  /** IANA zone for minuteOfDay/weekday. Default: the process's. */
  timeZone?: string;
  /** How long a presence reading's state is assumed to hold without a newer one, ms. Default 900 000 (15 min). */
  presenceHoldMs?: number;
  /** Readings further than this ahead of `now` are rejected (clock or unit error), ms. Default 60 000. */
  maxFutureMs?: number;
  /** Weather older than this at windowEnd is not attached, ms. Default 10 800 000 (3 h). */
  weatherMaxAgeMs?: number;
  /** Most zones tracked; a reading for one more zone is rejected. Default 10 000. */
  maxZones?: number;
}

export interface IngestResult {
  /** The validated reading (only contract fields): store this as the raw event. */
  reading: SensorReading;
  zone: string;
  windowStart: number;
  windowEnd: number;
  /** true: the window had already closed (or its grace passed); the reading was not counted. */
  late: boolean;
}

class OpenWindow {
  readonly start: number;
  readonly end: number;
  count = 0;
  readonly lux = new LuxAccumulator();
  readonly presence = new PresenceTrack();
  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }
}

/**
 * The carried presence state before any presence reading: a state that is never
 * held (its time is -Infinity), so summarisePresence counts nothing from it, as
 * from null. An object rather than null so that the code reading the carried
 * state sees the same shape from the first window on (V8 optimises it once).
 */
const NOTHING_CARRIED: PresenceSample = { ts: -Infinity, value: false };

class ZoneState {
  readonly zone: string;
  readonly open = new Map<number, OpenWindow>();
  /** End of the latest closed (complete) window; readings before it are late. */
  closedUntil = Number.NaN;
  /** Latest presence reading of the closed windows (carried into the next window). */
  carry: PresenceSample = NOTHING_CARRIED;
  /** Newest first, at most keepWindows; may hold snapshots (partial) of open windows. */
  readonly history: FeatureWindow[] = [];
  /** The open window the zone's last counted reading went to (most readings go to the same one), or null. */
  recent: OpenWindow | null = null;

  constructor(zone: string) {
    this.zone = zone;
    // Stored twice on purpose: V8 takes a field written only once for a constant, and the
    // first window close (the first change) would then throw away ingest()'s optimised code.
    this.closedUntil = -Infinity;
  }
}

function checkNow(now: number): void {
  // now - now is 0 for a finite number only (NaN for NaN and the infinities).
  if (typeof now !== 'number' || now - now !== 0) throw new RangeError(`now must be epoch ms, got ${String(now)}`);
}

function positiveInt(name: string, v: number | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${String(v)}`);
  }
  return v;
}

export class FeatureWindowEngine {
  readonly windowMs: number;
  readonly graceMs: number;
  readonly keepWindows: number;
  readonly presenceHoldMs: number;
  readonly maxFutureMs: number;
  readonly weatherMaxAgeMs: number;
  readonly maxZones: number;
  readonly clock: LocalClock;

  readonly #zones = new Map<string, ZoneState>();
  /** Latest weather per zone; key null = every zone. */
  readonly #weather = new Map<string | null, WeatherUpdate>();
  /** Earliest windowEnd + graceMs among open windows (Infinity when none). */
  #nextDeadline = Infinity;

  constructor(options: FeatureEngineOptions = {}) {
    this.windowMs = positiveInt('windowMs', options.windowMs, 300_000, 1000);
    this.graceMs = positiveInt('graceMs', options.graceMs, 60_000, 0);
    this.keepWindows = positiveInt('keepWindows', options.keepWindows, 3, 1);
    this.presenceHoldMs = positiveInt('presenceHoldMs', options.presenceHoldMs, 900_000, 1);
    this.maxFutureMs = positiveInt('maxFutureMs', options.maxFutureMs, 60_000, 0);
    this.weatherMaxAgeMs = positiveInt('weatherMaxAgeMs', options.weatherMaxAgeMs, 10_800_000, 0);
    this.maxZones = positiveInt('maxZones', options.maxZones, 10_000, 1);
    this.clock = new LocalClock(options.timeZone);
  }

  /** Start of the window holding `ts`. */
  windowStartOf(ts: number): number {
    return Math.floor(ts / this.windowMs) * this.windowMs;
  }

  /**
   * Validates `input` (sensor reading contract) and counts it in its window,
   * or reports it late. Throws ReadingValidationError (nothing counted) for a
   * malformed reading or one more than maxFutureMs ahead of `now`.
   */
  ingest(input: unknown, now: number): IngestResult {
    if (typeof now !== 'number' || now - now !== 0) checkNow(now);
    const reading = validateSensorReading(input);
    const ts = reading.ts;
    if (ts > now + this.maxFutureMs) this.#refuseFuture(ts, now);
    const windowMs = this.windowMs;
    const start = Math.floor(ts / windowMs) * windowMs;
    const end = start + windowMs;
    const zone = reading.zone;
    const zs = this.#zones.get(zone) ?? this.#addZone(zone);
    const late = ts < zs.closedUntil || now >= end + this.graceMs;
    if (!late) this.#count(zs, start, ts, reading.lux, reading.presence);
    return { reading, zone, windowStart: start, windowEnd: end, late };
  }

  #refuseFuture(ts: number, now: number): never {
    throw new ReadingValidationError(
      'ts',
      `invalid sensor reading: ts ${ts} is ${ts - now} ms ahead of now (allowed ${this.maxFutureMs} ms); check the clock or the unit (epoch ms)`,
    );
  }

  /**
   * Counts an already validated reading regardless of the clock (only
   * windows already closed for its zone reject it). Used to rebuild the open
   * windows from stored raw events after a restart. Returns whether it counted.
   */
  replay(reading: SensorReading): boolean {
    const zs = this.#zoneFor(reading.zone);
    if (reading.ts < zs.closedUntil) return false;
    this.#count(zs, this.windowStartOf(reading.ts), reading.ts, reading.lux, reading.presence);
    return true;
  }

  /** Validates and keeps a weather update (the newest per zone / for every zone wins). */
  setWeather(input: unknown): WeatherUpdate {
    const update = validateWeatherUpdate(input);
    const key = update.zone ?? null;
    const current = this.#weather.get(key);
    if (current === undefined || update.ts >= current.ts) this.#weather.set(key, update);
    return update;
  }

  /** Closes and returns (oldest first) every window whose end + grace is at or before `now`. */
  advance(now: number): FeatureWindow[] {
    checkNow(now);
    if (now < this.#nextDeadline) return [];
    const out: FeatureWindow[] = [];
    let next = Infinity;
    for (const zs of this.#zones.values()) {
      if (zs.open.size === 0) continue;
      // Oldest first (a close carries its presence state into the next). Windows open in time
      // order unless a late reading opens an older one: sorted only then.
      let starts: Iterable<number> = zs.open.keys();
      let previous = -Infinity;
      for (const start of zs.open.keys()) {
        if (start < previous) {
          starts = [...zs.open.keys()].sort((a, b) => a - b);
          break;
        }
        previous = start;
      }
      for (const start of starts) {
        const w = zs.open.get(start) as OpenWindow;
        const deadline = w.end + this.graceMs;
        if (deadline > now) {
          if (deadline < next) next = deadline;
          continue;
        }
        out.push(this.#close(zs, w));
      }
    }
    this.#nextDeadline = next;
    return out.sort((a, b) => a.windowStart - b.windowStart || (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
  }

  /**
   * What the admin "aggregate-now" does: first closes every window that is
   * due (complete windows, as advance(now)), then returns a snapshot of each
   * still-open window up to `now`, marked `partial: true`, with windowEnd =
   * min(now, nominal end). Snapshots do not close anything: the window keeps
   * counting and is returned complete by advance() later (the store then
   * replaces the snapshot, same zone and windowStart). Snapshots also enter
   * the hot path until the complete window replaces them.
   */
  aggregateNow(now: number): FeatureWindow[] {
    const out = this.advance(now);
    for (const zs of this.#zones.values()) {
      const starts = [...zs.open.keys()].sort((a, b) => a - b);
      for (const start of starts) {
        const w = zs.open.get(start) as OpenWindow;
        if (w.start > now) continue;
        const end = Math.min(now, w.end);
        const snapshot = this.#build(zs, w, end, this.#carryFor(zs, w.start), true);
        this.#remember(zs, snapshot);
        out.push(snapshot);
      }
    }
    return out;
  }

  /** The last `n` (default keepWindows) windows of a zone, newest first. */
  latest(zone: string, n: number = this.keepWindows): FeatureWindow[] {
    const zs = this.#zones.get(zone);
    return zs === undefined ? [] : zs.history.slice(0, Math.max(0, n));
  }

  /** Zones seen (readings or restored windows). */
  zones(): string[] {
    return [...this.#zones.keys()];
  }

  /** Open windows across zones (for status/diagnostics). */
  openWindowCount(): number {
    let n = 0;
    for (const zs of this.#zones.values()) n += zs.open.size;
    return n;
  }

  /** End of the latest closed window of `zone` (readings before it are late), or -Infinity. */
  closedUntil(zone: string): number {
    return this.#zones.get(zone)?.closedUntil ?? -Infinity;
  }

  /**
   * Loads stored windows (any order, any zones) into the hot path: the
   * newest keepWindows complete windows per zone, the closed-until mark and
   * the presence state to carry into the next window. Snapshots (partial) are
   * skipped: replaying raw events rebuilds those windows.
   */
  restore(windows: readonly FeatureWindow[]): void {
    const sorted = windows.filter((w) => w.partial !== true).sort((a, b) => a.windowStart - b.windowStart);
    for (const w of sorted) {
      const zs = this.#zoneFor(w.zone);
      if (w.windowEnd > zs.closedUntil) zs.closedUntil = w.windowEnd;
      const p = w.presence;
      if (p.last !== null && p.lastTs !== null && p.lastTs !== undefined && p.lastTs >= zs.carry.ts) {
        zs.carry = { ts: p.lastTs, value: p.last };
      }
      this.#remember(zs, w);
    }
  }

  /** Weather updates currently held (for diagnostics and restore tests). */
  weather(): WeatherUpdate[] {
    return [...this.#weather.values()];
  }

  #zoneFor(zone: string): ZoneState {
    return this.#zones.get(zone) ?? this.#addZone(zone);
  }

  #addZone(zone: string): ZoneState {
    if (this.#zones.size >= this.maxZones) {
      throw new ReadingValidationError('zone', `too many zones (limit ${this.maxZones}): refusing new zone ${JSON.stringify(zone)}`);
    }
    const zs = new ZoneState(zone);
    this.#zones.set(zone, zs);
    return zs;
  }

  /** Counts a reading of `zs` (time `ts`) in the window starting at `start`. */
  #count(zs: ZoneState, start: number, ts: number, lux: number | undefined, presence: boolean | undefined): void {
    let w = zs.recent;
    if (w === null || w.start !== start) {
      w = zs.open.get(start) ?? this.#openWindow(zs, start);
      zs.recent = w;
    }
    w.count += 1;
    if (lux !== undefined) w.lux.add(lux, ts);
    if (presence !== undefined) w.presence.add(ts, presence);
  }

  #openWindow(zs: ZoneState, start: number): OpenWindow {
    const w = new OpenWindow(start, start + this.windowMs);
    zs.open.set(start, w);
    const deadline = w.end + this.graceMs;
    if (deadline < this.#nextDeadline) this.#nextDeadline = deadline;
    return w;
  }

  /** Latest presence reading before `start`: the carried state or an earlier open window's last reading. */
  #carryFor(zs: ZoneState, start: number): PresenceSample {
    let carry = zs.carry;
    for (const w of zs.open.values()) {
      if (w.start >= start) continue;
      const last = w.presence.lastSample();
      if (last !== null && last.ts >= carry.ts) carry = last;
    }
    return carry;
  }

  #close(zs: ZoneState, w: OpenWindow): FeatureWindow {
    const window = this.#build(zs, w, w.end, zs.carry, false);
    zs.open.delete(w.start);
    if (zs.recent === w) zs.recent = null;
    if (w.end > zs.closedUntil) zs.closedUntil = w.end;
    const last = w.presence.lastSample();
    if (last !== null && last.ts >= zs.carry.ts) zs.carry = last;
    this.#remember(zs, window);
    return window;
  }

  #build(zs: ZoneState, w: OpenWindow, end: number, carry: PresenceSample, partial: boolean): FeatureWindow {
    const lux = w.lux;
    const hasLux = lux.n > 0;
    const presence = summarisePresence(w.presence, carry, w.start, end, this.presenceHoldMs);
    const local = this.clock.at(w.start);
    const window: FeatureWindow = {
      zone: zs.zone,
      windowStart: w.start,
      windowEnd: end,
      count: w.count,
      lux: {
        mean: hasLux ? lux.mean : null,
        min: hasLux ? lux.min : null,
        max: hasLux ? lux.max : null,
        std: hasLux ? lux.std() : null,
        last: hasLux ? lux.last : null,
      },
      presence,
      minuteOfDay: local.minuteOfDay,
      weekday: local.weekday,
    };
    const weather = this.#weatherFor(zs.zone, end);
    if (weather !== undefined) window.weather = weather;
    if (partial) window.partial = true;
    return window;
  }

  #weatherFor(zone: string, at: number): WeatherSnapshot | undefined {
    if (this.#weather.size === 0) return undefined;
    let best: WeatherUpdate | undefined;
    for (const candidate of [this.#weather.get(zone), this.#weather.get(null)]) {
      if (candidate === undefined || at - candidate.ts > this.weatherMaxAgeMs) continue;
      if (best === undefined || candidate.ts > best.ts) best = candidate;
    }
    if (best === undefined) return undefined;
    const { zone: _zone, ...snapshot } = best;
    return snapshot;
  }

  /** Puts `w` into the zone's hot path (replacing a window with the same start), newest first, trimmed. */
  #remember(zs: ZoneState, w: FeatureWindow): void {
    const h = zs.history;
    // The usual case, a window newer than all kept: first in line, no search or sort.
    if (h.length === 0 || w.windowStart > (h[0] as FeatureWindow).windowStart) {
      h.unshift(w);
      if (h.length > this.keepWindows) h.length = this.keepWindows;
      return;
    }
    const i = h.findIndex((x) => x.windowStart === w.windowStart);
    if (i >= 0) h[i] = w;
    else h.push(w);
    h.sort((a, b) => b.windowStart - a.windowStart);
    if (h.length > this.keepWindows) h.length = this.keepWindows;
  }
}
