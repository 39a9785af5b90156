/**
 * The feature window: out of `feature-window` (and a row of
 * feature_windows), into `ai-decide` and `rules-fallback`.
 *
 * `FeatureWindow` is the window as the feature layer sends and stores it:
 * every statistic may be null when the window had no reading of its kind.
 * `DecisionWindow` is the same window after the control layer's
 * `validateFeatureWindow` (lib/control/types.ts): `lux` and `presence` are
 * either complete or null as a whole, so a decider never meets half a
 * statistic.
 */

export interface LuxStats {
  /** null when the window had no reading with lux (same for min, max, std, last). */
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Population standard deviation (divide by n): 0 for a single reading. */
  std: number | null;
  /** Lux of the reading with the latest ts in the window. */
  last: number | null;
}

export interface PresenceStats {
  /**
   * Share of the covered time in the window with presence true, 0-1
   * (time-weighted, see engine.ts); null when the window's presence state was
   * never known.
   */
  ratio: number | null;
  /** Observed changes of presence in the window (including against the state carried in). */
  transitions: number;
  /** Presence of the latest presence reading in the window (or carried in); null if unknown. */
  last: boolean | null;
  /**
   * Beyond the basic contract: ts of the reading `last` came from
   * (lets a restarted engine carry the state into the next window).
   */
  lastTs: number | null;
}

/** Feature window as the feature layer sends and stores it. */
export interface FeatureWindow {
  zone: string;
  /** Inclusive start, epoch ms, a multiple of the window length. */
  windowStart: number;
  /** Exclusive end, epoch ms. For a partial snapshot: the time of the snapshot. */
  windowEnd: number;
  /** Readings counted in the window. */
  count: number;
  lux: LuxStats;
  presence: PresenceStats;
  weather?: WeatherSnapshot;
  /** Local time of windowStart in the engine's time zone, minutes after midnight (0-1439). */
  minuteOfDay: number;
  /** Local weekday of windowStart, 0 = Sunday ... 6 = Saturday. */
  weekday: number;
  /**
   * Addition to the contract: true for a snapshot of a still-open window
   * (aggregate-now). The complete window is sent again when it closes and
   * replaces the snapshot in the store.
   */
  partial?: boolean;
}

/** Weather attached to a feature window: the update's fields minus zone. */
export interface WeatherSnapshot {
  ts: number;
  temperatureC?: number | null;
  cloudCoverPct?: number | null;
  solarRadiationWm2?: number | null;
  outdoorLux?: number | null;
  source: string;
}

/** Lux statistics of a DecisionWindow: complete (a missing min, max or std filled from the others). */
export interface DecisionLuxStats {
  mean: number;
  min: number;
  max: number;
  std: number;
  last: number;
}

/** Presence statistics of a DecisionWindow. */
export interface DecisionPresenceStats {
  /** Share of the window with presence, 0..1. */
  ratio: number;
  /** Number of presence changes inside the window. */
  transitions: number;
  /** Presence at the end of the window (null: unknown). */
  last: boolean | null;
}

/** A feature window as deciders read it (out of the control layer's validateFeatureWindow). */
export interface DecisionWindow {
  zone: string;
  /** Epoch ms. */
  windowStart: number;
  /** Epoch ms, >= windowStart. */
  windowEnd: number;
  /** Number of sensor readings in the window. */
  count: number;
  /** Null when the window held no lux reading (all-null statistics are null too). */
  lux: DecisionLuxStats | null;
  /** Null when the window never knew the presence state. */
  presence: DecisionPresenceStats | null;
  weather?: Record<string, unknown>;
  /** Local minute of day at windowStart, 0 <= m < 1440 (fractions allowed). */
  minuteOfDay: number;
  /** Local weekday, 0 = Sunday .. 6 = Saturday (7 is read as Sunday on input). */
  weekday: number;
}
