/**
 * Sensor readings and weather updates: what `lsd-sensor-in`, the HTTP API
 * and MQTT send into `feature-window`, and a row of sensor_readings /
 * weather_events. Each has one validator that returns a clean copy (only the
 * contract's fields) or throws ReadingValidationError naming the field,
 * whatever the input (numbers, strings, null, arrays, objects).
 */
import { Buffer } from 'node:buffer';
import { MAX_ID_LENGTH, MAX_LUX, MAX_TS } from './limits';
import { describeValue, isPlainObject } from './values';

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

/** A message that does not satisfy a contract. `field` names the offending field. */
export class ReadingValidationError extends Error {
  override readonly name = 'ReadingValidationError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

function fail(what: string, field: string, expected: string, got: unknown): never {
  throw new ReadingValidationError(field, `${what}: ${field} must be ${expected}, got ${describeValue(got)}`);
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
 *
 * This is on every reading's path (feature-window, the HTTP API, the store),
 * so a valid reading is checked in one function: the same checks in the same
 * order as validateSensorReadingStepwise, without a call per field, with the copy
 * built by one object literal per shape. At the first check that fails, the
 * reading goes to validateSensorReadingStepwise, which throws the error naming the
 * field; the unit tests compare the two on fuzzed input.
 */
export function validateSensorReading(input: unknown): SensorReading {
  // `instanceof Buffer` is Buffer.isBuffer's own test, without the call (Buffer is imported from
  // node:buffer: the global Buffer is a getter, called on every use).
  if (typeof input !== 'object' || input === null || Array.isArray(input) || input instanceof Buffer) {
    return validateSensorReadingStepwise(input);
  }
  const o = input as Record<string, unknown>;
  // Each id: a string of 1 to MAX_ID_LENGTH characters, not all white space (requireId's rule);
  // a first character that is printable ASCII other than space settles "not blank" without
  // trim(). Written out per field: until V8 optimises the caller, a call per id costs more
  // than the check.
  const zone = o.zone;
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > MAX_ID_LENGTH) return validateSensorReadingStepwise(input);
  if (!(zone.charCodeAt(0) > 32 && zone.charCodeAt(0) < 127) && zone.trim() === '') return validateSensorReadingStepwise(input);
  const sensorId = o.sensorId;
  if (typeof sensorId !== 'string' || sensorId.length === 0 || sensorId.length > MAX_ID_LENGTH) return validateSensorReadingStepwise(input);
  if (!(sensorId.charCodeAt(0) > 32 && sensorId.charCodeAt(0) < 127) && sensorId.trim() === '') return validateSensorReadingStepwise(input);
  const source = o.source;
  if (typeof source !== 'string' || source.length === 0 || source.length > MAX_ID_LENGTH) return validateSensorReadingStepwise(input);
  if (!(source.charCodeAt(0) > 32 && source.charCodeAt(0) < 127) && source.trim() === '') return validateSensorReadingStepwise(input);
  const ts = o.ts;
  // NaN fails both comparisons; the range excludes the infinities.
  if (typeof ts !== 'number' || !(ts >= 0 && ts <= MAX_TS)) return validateSensorReadingStepwise(input);
  const lux = o.lux;
  const hasLux = lux !== undefined && lux !== null;
  if (hasLux && (typeof lux !== 'number' || !(lux >= 0 && lux < Infinity))) return validateSensorReadingStepwise(input);
  const presence = o.presence;
  const hasPresence = presence !== undefined && presence !== null;
  if (hasPresence ? typeof presence !== 'boolean' : !hasLux) return validateSensorReadingStepwise(input);
  // One literal per shape (the fields in the same order as ever): no property added after creation.
  if (!hasPresence) return { sensorId, zone, ts, source, lux: lux as number };
  if (!hasLux) return { sensorId, zone, ts, source, presence: presence as boolean };
  return { sensorId, zone, ts, source, lux: lux as number, presence: presence as boolean };
}

/**
 * The checks of validateSensorReading one field at a time, each with its own
 * error: throws the ReadingValidationError for the first field that fails
 * (and returns the clean copy if none does).
 */
export function validateSensorReadingStepwise(input: unknown): SensorReading {
  const what = 'invalid sensor reading';
  if (!isPlainObject(input)) {
    throw new ReadingValidationError('payload', `${what}: expected an object, got ${describeValue(input)}`);
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
  if (!isPlainObject(input)) {
    throw new ReadingValidationError('payload', `${what}: expected an object, got ${describeValue(input)}`);
  }
  const ts = requireTs(what, 'ts', input.ts);
  let zone: string | null = null;
  if (input.zone !== undefined && input.zone !== null) zone = requireId(what, 'zone', input.zone);
  const source = input.source === undefined || input.source === null ? 'unknown' : requireId(what, 'source', input.source);
  const out: WeatherUpdate = { ts, zone, source };
  const temperatureC = optionalNumber(what, 'temperatureC', input.temperatureC, -100, 100);
  const cloudCoverPct = optionalNumber(what, 'cloudCoverPct', input.cloudCoverPct, 0, 100);
  const solarRadiationWm2 = optionalNumber(what, 'solarRadiationWm2', input.solarRadiationWm2, 0, 5000);
  const outdoorLux = optionalNumber(what, 'outdoorLux', input.outdoorLux, 0, MAX_LUX);
  if (temperatureC !== undefined) out.temperatureC = temperatureC;
  if (cloudCoverPct !== undefined) out.cloudCoverPct = cloudCoverPct;
  if (solarRadiationWm2 !== undefined) out.solarRadiationWm2 = solarRadiationWm2;
  if (outdoorLux !== undefined) out.outdoorLux = outdoorLux;
  if (temperatureC === undefined && cloudCoverPct === undefined && solarRadiationWm2 === undefined && outdoorLux === undefined) {
    throw new ReadingValidationError(
      'temperatureC',
      `${what}: none of temperatureC, cloudCoverPct, solarRadiationWm2, outdoorLux is given`,
    );
  }
  return out;
}
