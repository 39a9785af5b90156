/**
 * Message contracts of the feature layer (DESIGN.md "Message contracts") and
 * their validation. No imports from lib/store: the store imports these types,
 * not the other way round.
 *
 * Validation never throws anything but ReadingValidationError, whatever the
 * input (numbers, strings, null, arrays, objects with getters that are plain
 * data): a node can call done(err) with it.
 */

/** Sensor reading: out of `lsd-sensor-in`, into `feature-window`. */
export interface SensorReading {
  sensorId: string;
  zone: string;
  /** Measurement time, epoch ms. */
  ts: number;
  /** Illuminance, lux (>= 0). */
  lux?: number;
  presence?: boolean;
  /** Where the reading came from: `dali`, `http`, `mqtt`, ... */
  source: string;
}

/** Weather update (msg.topic `weather` into `feature-window`; a row of weather_events). */
export interface WeatherUpdate {
  ts: number;
  /** Zone it applies to; absent/null = every zone. */
  zone?: string | null;
  temperatureC?: number | null;
  cloudCoverPct?: number | null;
  solarRadiationWm2?: number | null;
  outdoorLux?: number | null;
  source: string;
}

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
   * Addition to the DESIGN.md contract: ts of the reading `last` came from
   * (lets a restarted engine carry the state into the next window).
   */
  lastTs: number | null;
}

/** Feature window: out of `feature-window`, a row of feature_windows. */
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

/** A message that does not satisfy a contract. `field` names the offending field. */
export class ReadingValidationError extends Error {
  override readonly name = 'ReadingValidationError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Longest zone / sensorId / source accepted (they become index keys). */
export const MAX_ID_LENGTH = 200;
/** Largest epoch ms accepted (year 2255); anything above is a unit error (µs, ns). */
export const MAX_TS = 9_000_000_000_000;

export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

export function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string, field: string, expected: string, got: unknown): never {
  throw new ReadingValidationError(field, `${what}: ${field} must be ${expected}, got ${describe(got)}`);
}

export function requireId(what: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID_LENGTH) {
    if (v === undefined) throw new ReadingValidationError(field, `${what}: ${field} is missing`);
    fail(what, field, `a non-empty string of at most ${MAX_ID_LENGTH} characters`, v);
  }
  return v;
}

export function requireTs(what: string, field: string, v: unknown): number {
  if (v === undefined) throw new ReadingValidationError(field, `${what}: ${field} is missing`);
  if (typeof v !== 'number') fail(what, field, 'a number (epoch ms)', v);
  if (!Number.isFinite(v) || v < 0 || v > MAX_TS) fail(what, field, `epoch ms between 0 and ${MAX_TS}`, v);
  return v;
}

/** undefined/null → undefined; else a finite number within [min, max]. */
export function optionalNumber(what: string, field: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    fail(what, field, `a finite number ${range}`, v);
  }
  return v;
}

/**
 * Checks the sensor reading contract and returns a clean copy (only the
 * contract's fields). Throws ReadingValidationError naming the field.
 */
export function validateSensorReading(input: unknown): SensorReading {
  const what = 'invalid sensor reading';
  if (!isPlainRecord(input)) {
    throw new ReadingValidationError('payload', `${what}: expected an object, got ${describe(input)}`);
  }
  const zone = requireId(what, 'zone', input.zone);
  const sensorId = requireId(what, 'sensorId', input.sensorId);
  const source = requireId(what, 'source', input.source);
  const ts = requireTs(what, 'ts', input.ts);
  const lux = optionalNumber(what, 'lux', input.lux, 0, Infinity);
  let presence: boolean | undefined;
  if (input.presence !== undefined && input.presence !== null) {
    if (typeof input.presence !== 'boolean') fail(what, 'presence', 'a boolean', input.presence);
    presence = input.presence;
  }
  if (lux === undefined && presence === undefined) {
    throw new ReadingValidationError('lux', `${what}: neither lux nor presence is given`);
  }
  const out: SensorReading = { sensorId, zone, ts, source };
  if (lux !== undefined) out.lux = lux;
  if (presence !== undefined) out.presence = presence;
  return out;
}

/** Checks a weather update; `source` defaults to "unknown". Returns a clean copy. */
export function validateWeatherUpdate(input: unknown): WeatherUpdate {
  const what = 'invalid weather update';
  if (!isPlainRecord(input)) {
    throw new ReadingValidationError('payload', `${what}: expected an object, got ${describe(input)}`);
  }
  const ts = requireTs(what, 'ts', input.ts);
  let zone: string | null = null;
  if (input.zone !== undefined && input.zone !== null) zone = requireId(what, 'zone', input.zone);
  const source = input.source === undefined || input.source === null ? 'unknown' : requireId(what, 'source', input.source);
  const out: WeatherUpdate = { ts, zone, source };
  const temperatureC = optionalNumber(what, 'temperatureC', input.temperatureC, -100, 100);
  const cloudCoverPct = optionalNumber(what, 'cloudCoverPct', input.cloudCoverPct, 0, 100);
  const solarRadiationWm2 = optionalNumber(what, 'solarRadiationWm2', input.solarRadiationWm2, 0, 5000);
  const outdoorLux = optionalNumber(what, 'outdoorLux', input.outdoorLux, 0, 1_000_000);
  if (temperatureC !== undefined) out.temperatureC = temperatureC;
  if (cloudCoverPct !== undefined) out.cloudCoverPct = cloudCoverPct;
  if (solarRadiationWm2 !== undefined) out.solarRadiationWm2 = solarRadiationWm2;
  if (outdoorLux !== undefined) out.outdoorLux = outdoorLux;
  if (
    temperatureC === undefined &&
    cloudCoverPct === undefined &&
    solarRadiationWm2 === undefined &&
    outdoorLux === undefined
  ) {
    throw new ReadingValidationError(
      'temperatureC',
      `${what}: none of temperatureC, cloudCoverPct, solarRadiationWm2, outdoorLux is given`,
    );
  }
  return out;
}
