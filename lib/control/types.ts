/**
 * Input checks of the control layer: the feature window that comes in (from
 * `feature-window`) and the setpoint that goes out (to `override-gate` and
 * `dali-dt8-out`), both shaped in lib/contracts, and the accessibility hints
 * a personal profile may give. The message contracts are listed in the
 * README ("Message contracts") and in each node's help.
 *
 * `validateFeatureWindow` and `validateSetpoint` are strict: they throw a
 * ControlInputError that names the failing field (a node turns it into
 * `done(err)`). `applyClamps` (clamps.ts) is the tolerant path: it never
 * throws and turns garbage into safe values.
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  type DecisionLuxStats,
  type DecisionPresenceStats,
  type DecisionWindow,
  describeValue,
  isFiniteNumber,
  isPlainObject,
  MAX_FADE_MS,
  MAX_ID_LENGTH,
  MAX_LUX,
  MAX_OVERRIDE_HOLD_MINUTES,
  type Setpoint,
  SETPOINT_SOURCES,
  type SetpointSource,
} from '../contracts';
import type { CctBias, ProfileHints } from '../crypto/profile';

export type { CctBias } from '../crypto/profile';

/**
 * Accessibility hints the controller honours. This is the profile helper's
 * `ProfileHints` (lib/crypto/profile.ts, from `profileHints(profile)`) with
 * every field optional, plus `minLux` (the profile's own `minLux`, which
 * `profileHints` does not carry yet). A `ProfileHints` value is assignable
 * to `ControlHints` as is.
 */
export interface ControlHints extends Partial<ProfileHints> {
  /** Output floor while present, percent. */
  minIntensityPct?: number;
  /** Largest change per automatic step, percent of full output. */
  maxStepPct?: number;
  cctBias?: CctBias;
  /** Reductions fade more slowly. */
  slowerDimDown?: boolean;
  /** Illuminance floor while present, lux (raises the daylight target). */
  minLux?: number;
}

/** Invalid input to a control function; `field` names the failing field. */
export class ControlInputError extends Error {
  override readonly name = 'ControlInputError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** Round to one decimal (0.1 % is finer than any DALI step above 1 %). */
export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function num(obj: Record<string, unknown>, key: string, path: string, min: number, max: number, maxExclusive = false): number {
  const v = obj[key];
  if (!isFiniteNumber(v) || v < min || (maxExclusive ? v >= max : v > max)) {
    throw new ControlInputError(
      `${path}${key}`,
      `must be a finite number in [${min}, ${max}${maxExclusive ? ')' : ']'}, got ${describeValue(v)}`,
    );
  }
  return v;
}

function optLux(v: Record<string, unknown>, key: string): number | null {
  const x = v[key];
  if (x == null) return null;
  if (!isFiniteNumber(x) || x < 0 || x > MAX_LUX) {
    throw new ControlInputError(`lux.${key}`, `must be null or a finite number in [0, ${MAX_LUX}], got ${describeValue(x)}`);
  }
  return x;
}

/**
 * Lux statistics; null when the window had no lux reading (lux missing, null,
 * or mean and last both null, as lib/features sends it). A missing min, max
 * or std is filled from the others.
 */
function luxStats(v: unknown): DecisionLuxStats | null {
  if (v == null) return null;
  if (!isPlainObject(v))
    throw new ControlInputError('lux', `must be an object {mean, min, max, std, last} or null, got ${describeValue(v)}`);
  const mean = optLux(v, 'mean');
  const last = optLux(v, 'last');
  const min = optLux(v, 'min');
  const max = optLux(v, 'max');
  const std = optLux(v, 'std');
  if (mean === null && last === null) return null;
  const m = (mean ?? last) as number;
  const out: DecisionLuxStats = {
    mean: m,
    min: min ?? Math.min(m, last ?? m),
    max: max ?? Math.max(m, last ?? m),
    std: std ?? 0,
    last: last ?? m,
  };
  if (out.min > out.max) throw new ControlInputError('lux.min', 'must not exceed lux.max');
  return out;
}

/**
 * Presence statistics; null when the window never knew the presence state
 * (presence missing or null, or ratio and last null without transitions).
 */
function presenceStats(v: unknown): DecisionPresenceStats | null {
  if (v == null) return null;
  if (!isPlainObject(v)) {
    throw new ControlInputError('presence', `must be an object {ratio, transitions, last} or null, got ${describeValue(v)}`);
  }
  const ratioRaw = v.ratio;
  if (ratioRaw != null && (!isFiniteNumber(ratioRaw) || ratioRaw < 0 || ratioRaw > 1)) {
    throw new ControlInputError('presence.ratio', `must be null or a finite number in [0, 1], got ${describeValue(ratioRaw)}`);
  }
  const transitions = v.transitions == null ? 0 : num(v, 'transitions', 'presence.', 0, Number.MAX_SAFE_INTEGER);
  const raw = v.last;
  let last: boolean | null;
  if (raw == null) last = null;
  else if (typeof raw === 'boolean') last = raw;
  else if (raw === 0 || raw === 1) last = raw === 1;
  else throw new ControlInputError('presence.last', `must be true, false, 0, 1 or null, got ${describeValue(raw)}`);
  if (ratioRaw == null && last === null && transitions === 0) return null;
  const ratio = ratioRaw == null ? (last ? 1 : 0) : (ratioRaw as number);
  return { ratio, transitions, last };
}

/** Zone names: non-empty, at most MAX_ID_LENGTH characters. */
export function checkZone(v: unknown, field = 'zone'): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID_LENGTH) {
    throw new ControlInputError(field, `must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Validate a feature window; returns a clean copy. Missing or null `lux` /
 * `presence` mean "no reading of that kind in the window" (allowed).
 * @throws ControlInputError naming the field.
 */
export function validateFeatureWindow(input: unknown): DecisionWindow {
  if (!isPlainObject(input)) throw new ControlInputError('window', `must be an object, got ${describeValue(input)}`);
  const zone = checkZone(input.zone);
  const windowStart = num(input, 'windowStart', '', 0, 8.64e15);
  const windowEnd = num(input, 'windowEnd', '', 0, 8.64e15);
  if (windowEnd < windowStart) throw new ControlInputError('windowEnd', 'must not be before windowStart');
  const count = num(input, 'count', '', 0, Number.MAX_SAFE_INTEGER);
  const minuteOfDay = num(input, 'minuteOfDay', '', 0, 1440, true);
  const weekdayRaw = input.weekday;
  if (!Number.isInteger(weekdayRaw) || (weekdayRaw as number) < 0 || (weekdayRaw as number) > 7) {
    throw new ControlInputError(
      'weekday',
      `must be an integer 0 (Sunday) .. 6 (Saturday), or 7 for Sunday, got ${describeValue(weekdayRaw)}`,
    );
  }
  const weekday = (weekdayRaw as number) % 7;
  const window: DecisionWindow = {
    zone,
    windowStart,
    windowEnd,
    count,
    lux: luxStats(input.lux),
    presence: presenceStats(input.presence),
    minuteOfDay,
    weekday,
  };
  if (input.weather != null) {
    if (!isPlainObject(input.weather))
      throw new ControlInputError('weather', `must be an object when given, got ${describeValue(input.weather)}`);
    window.weather = input.weather;
  }
  return window;
}

/**
 * Validate a setpoint strictly (e.g. a manual setpoint arriving over HTTP);
 * returns a clean copy without unknown keys.
 * @throws ControlInputError naming the field.
 */
export function validateSetpoint(input: unknown): Setpoint {
  if (!isPlainObject(input)) throw new ControlInputError('setpoint', `must be an object, got ${describeValue(input)}`);
  const zone = checkZone(input.zone);
  const intensity = num(input, 'intensity', '', 0, 100);
  const cct = num(input, 'cct', '', ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
  const source = input.source;
  if (typeof source !== 'string' || !(SETPOINT_SOURCES as readonly string[]).includes(source)) {
    throw new ControlInputError('source', `must be one of ${SETPOINT_SOURCES.join(', ')}, got ${describeValue(source)}`);
  }
  const reason = input.reason == null ? '' : input.reason;
  if (typeof reason !== 'string') throw new ControlInputError('reason', `must be a string, got ${describeValue(reason)}`);
  const out: Setpoint = { zone, intensity, cct, reason, source: source as SetpointSource };
  if (input.fadeMs != null) out.fadeMs = num(input, 'fadeMs', '', 0, MAX_FADE_MS);
  if (input.overrideMinutes != null) out.overrideMinutes = num(input, 'overrideMinutes', '', 0, MAX_OVERRIDE_HOLD_MINUTES);
  if (input.confidence != null) out.confidence = num(input, 'confidence', '', 0, 1);
  return out;
}
