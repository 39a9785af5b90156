/**
 * Circadian colour: correlated colour temperature (kelvin) and an output cap
 * (max intensity, percent) as pure functions of time and configuration.
 *
 * Two modes:
 *
 * - "clock": daily keyframes {minute, kelvin, maxIntensityPct}. Between two
 *   keyframes the value eases with smoothstep (3t^2 - 2t^3) so the curve is
 *   continuous with a continuous slope; colour interpolates in mirek
 *   (1e6 / K), the unit DT8 gear uses and one closer to how people see a
 *   colour shift. The last keyframe wraps to the first through midnight, so
 *   there is never a jump.
 *   Default (lighting-reference.md "common schedule", warmest 2700 K,
 *   coolest 5000 K): night warmest at <= 20 %; 05:30-06:30 dawn up to
 *   3000 K; 06:30-09:00 morning ramp 3000 -> 5000 K; day 5000 K; 16:00-19:00
 *   ramp to 3500 K; 19:00-21:00 to evening 2700 K (cap falls to 50 %);
 *   21:00-22:30 to night (cap 20 %).
 *
 * - "sun": Home Assistant Adaptive Lighting's sun position p in [-1, 1]: a
 *   parabola that is 0 at sunrise and sunset, 1 at solar noon, -1 at solar
 *   midnight. CT = warmest + (coolest - warmest) * p by day, warmest at
 *   night; the cap is the day cap by day and falls toward the night cap as p
 *   goes to -1. Sunrise, solar noon and sunset come from the NOAA solar
 *   position equations (declination and equation of time from the Julian
 *   century; standard refraction: sun centre at -0.833 deg), accurate to
 *   about a minute between latitudes +-65. Polar day (no sunset) uses
 *   p = 1 - ((t - noon) / 12 h)^2, polar night p = -1 + ((t - midnight) / 12 h)^2;
 *   on the one day a polar period starts or ends p may step at midnight.
 */
import { ACCEPTED_KELVIN_MAX, ACCEPTED_KELVIN_MIN, isFiniteNumber, isPlainObject } from '../contracts';
import { ControlInputError } from './types';

export interface CctKeyframe {
  /** Minute of day, 0 <= minute < 1440. */
  minute: number;
  kelvin: number;
  /** Output cap from this keyframe on, percent 0..100. */
  maxIntensityPct: number;
  /** Name of the period that starts here (used in `reason`). */
  label?: string;
}

export interface ClockCircadianConfig {
  mode: 'clock';
  keyframes: readonly CctKeyframe[];
}

export interface SunCircadianConfig {
  mode: 'sun';
  /** Degrees, north positive. */
  latitude: number;
  /** Degrees, east positive. */
  longitude: number;
  /** CT at and after sunset, and at night. HA default 2000 K; node default 2700 K. */
  warmestKelvin: number;
  /** CT at solar noon. HA default 5500 K; node default 5000 K. */
  coolestKelvin: number;
  /** Cap at solar midnight, percent. */
  nightMaxIntensityPct: number;
  /** Cap by day, percent. */
  dayMaxIntensityPct: number;
}

export type CircadianConfig = ClockCircadianConfig | SunCircadianConfig;

export interface CircadianPoint {
  kelvin: number;
  maxIntensityPct: number;
  /** Period name: a keyframe label ("day", "morning-ramp"...) or "sun-day"/"sun-night". */
  phase: string;
  /** Sun mode only: p in [-1, 1]. */
  sunPosition?: number;
}

export const DEFAULT_WARMEST_KELVIN = 2700;
export const DEFAULT_COOLEST_KELVIN = 5000;
export const DEFAULT_NIGHT_MAX_INTENSITY_PCT = 20;
export const DEFAULT_EVENING_MAX_INTENSITY_PCT = 50;

/**
 * The reference's common schedule, with night and day colours from the
 * node's "Night" (warmest) and "Day" (coolest) settings. Intermediate colours
 * (3000 K morning start, 3500 K end of the afternoon ramp) are clamped into
 * [warmest, coolest].
 */
export function defaultKeyframes(warmestKelvin = DEFAULT_WARMEST_KELVIN, coolestKelvin = DEFAULT_COOLEST_KELVIN): CctKeyframe[] {
  const within = (k: number): number => Math.min(coolestKelvin, Math.max(warmestKelvin, k));
  const night = DEFAULT_NIGHT_MAX_INTENSITY_PCT;
  return [
    { minute: 0, kelvin: warmestKelvin, maxIntensityPct: night, label: 'night' },
    { minute: 5 * 60 + 30, kelvin: warmestKelvin, maxIntensityPct: night, label: 'dawn' },
    { minute: 6 * 60 + 30, kelvin: within(3000), maxIntensityPct: 100, label: 'morning-ramp' },
    { minute: 9 * 60, kelvin: coolestKelvin, maxIntensityPct: 100, label: 'day' },
    { minute: 16 * 60, kelvin: coolestKelvin, maxIntensityPct: 100, label: 'afternoon-ramp' },
    { minute: 19 * 60, kelvin: within(3500), maxIntensityPct: 100, label: 'evening-ramp' },
    { minute: 21 * 60, kelvin: warmestKelvin, maxIntensityPct: DEFAULT_EVENING_MAX_INTENSITY_PCT, label: 'evening' },
    { minute: 22 * 60 + 30, kelvin: warmestKelvin, maxIntensityPct: night, label: 'night' },
  ];
}

/**
 * Validate keyframes; returns a sorted copy.
 * @throws ControlInputError for a non-array, an empty list, a bad field or two keyframes at the same minute.
 */
export function validateKeyframes(input: unknown): CctKeyframe[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new ControlInputError('keyframes', 'must be a non-empty array of {minute, kelvin, maxIntensityPct, label?}');
  }
  const out: CctKeyframe[] = input.map((k: unknown, i) => {
    const path = `keyframes[${i}]`;
    if (!isPlainObject(k)) throw new ControlInputError(path, 'must be an object {minute, kelvin, maxIntensityPct, label?}');
    const { minute, kelvin, maxIntensityPct, label } = k;
    if (!isFiniteNumber(minute) || minute < 0 || minute >= 1440) {
      throw new ControlInputError(`${path}.minute`, 'must be a number in [0, 1440)');
    }
    if (!isFiniteNumber(kelvin) || kelvin < ACCEPTED_KELVIN_MIN || kelvin > ACCEPTED_KELVIN_MAX) {
      throw new ControlInputError(`${path}.kelvin`, `must be a number in [${ACCEPTED_KELVIN_MIN}, ${ACCEPTED_KELVIN_MAX}]`);
    }
    if (!isFiniteNumber(maxIntensityPct) || maxIntensityPct < 0 || maxIntensityPct > 100) {
      throw new ControlInputError(`${path}.maxIntensityPct`, 'must be a number in [0, 100]');
    }
    if (label !== undefined && (typeof label !== 'string' || label.length > 64)) {
      throw new ControlInputError(`${path}.label`, 'must be a string of at most 64 characters');
    }
    return label === undefined ? { minute, kelvin, maxIntensityPct } : { minute, kelvin, maxIntensityPct, label };
  });
  out.sort((a, b) => a.minute - b.minute);
  for (let i = 1; i < out.length; i++) {
    if ((out[i] as CctKeyframe).minute === (out[i - 1] as CctKeyframe).minute) {
      throw new ControlInputError('keyframes', `two keyframes at minute ${(out[i] as CctKeyframe).minute}`);
    }
  }
  return out;
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

function wrapMinute(m: number): number {
  const r = m % 1440;
  return r < 0 ? r + 1440 : r;
}

/**
 * Clock schedule at a minute of day (wrapped into [0, 1440)).
 * @throws ControlInputError for invalid keyframes or a non-finite minute.
 */
export function clockCircadian(minuteOfDay: number, keyframes: readonly CctKeyframe[]): CircadianPoint {
  if (!isFiniteNumber(minuteOfDay)) throw new ControlInputError('minuteOfDay', 'must be a finite number');
  const kf = validateKeyframes(keyframes);
  const m = wrapMinute(minuteOfDay);
  // Segment a -> b with a.minute <= m < b.minute (b wraps to the first keyframe + 1440).
  let i = kf.length - 1;
  for (let j = 0; j < kf.length; j++) if ((kf[j] as CctKeyframe).minute <= m) i = j;
  const a = kf[i] as CctKeyframe;
  const b = kf[(i + 1) % kf.length] as CctKeyframe;
  const start = a.minute;
  let end = b.minute;
  if (end <= start) end += 1440;
  const mm = m < start ? m + 1440 : m;
  const s = smoothstep((mm - start) / (end - start));
  const mirekA = 1e6 / a.kelvin;
  const mirekB = 1e6 / b.kelvin;
  const kelvin = 1e6 / (mirekA + (mirekB - mirekA) * s);
  const maxIntensityPct = a.maxIntensityPct + (b.maxIntensityPct - a.maxIntensityPct) * s;
  return { kelvin, maxIntensityPct, phase: a.label ?? `segment-${i}` };
}

// ------------------------------------------------------------------ sun ----

const DEG = Math.PI / 180;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Sun centre 0.833 deg below the horizon at apparent sunrise/sunset (refraction + radius). */
const SUNRISE_ZENITH_DEG = 90.833;

interface SolarCoordinates {
  /** Declination, radians. */
  declination: number;
  /** Equation of time, minutes. */
  eqTimeMinutes: number;
}

/** NOAA solar calculator: declination and equation of time at an instant. */
function solarCoordinates(epochMs: number): SolarCoordinates {
  const jd = epochMs / DAY_MS + 2440587.5;
  const t = (jd - 2451545) / 36525;
  const l0 = (((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360) + 360) % 360;
  const m = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const c =
    Math.sin(m * DEG) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    Math.sin(2 * m * DEG) * (0.019993 - 0.000101 * t) +
    Math.sin(3 * m * DEG) * 0.000289;
  const omega = 125.04 - 1934.136 * t;
  const lambda = l0 + c - 0.00569 - 0.00478 * Math.sin(omega * DEG);
  const eps0 = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const eps = eps0 + 0.00256 * Math.cos(omega * DEG);
  const declination = Math.asin(Math.sin(eps * DEG) * Math.sin(lambda * DEG));
  const y = Math.tan((eps * DEG) / 2) ** 2;
  const l0r = l0 * DEG;
  const mr = m * DEG;
  const eq =
    y * Math.sin(2 * l0r) -
    2 * e * Math.sin(mr) +
    4 * e * y * Math.sin(mr) * Math.cos(2 * l0r) -
    0.5 * y * y * Math.sin(4 * l0r) -
    1.25 * e * e * Math.sin(2 * mr);
  return { declination, eqTimeMinutes: (4 * eq) / DEG };
}

function checkPosition(latitude: number, longitude: number): void {
  if (!isFiniteNumber(latitude) || latitude < -90 || latitude > 90) {
    throw new ControlInputError('latitude', 'must be a number in [-90, 90]');
  }
  if (!isFiniteNumber(longitude) || longitude < -180 || longitude > 180) {
    throw new ControlInputError('longitude', 'must be a number in [-180, 180]');
  }
}

/** Solar elevation of the sun's centre above the horizon, degrees (no refraction). */
export function solarElevationDeg(epochMs: number, latitude: number, longitude: number): number {
  checkPosition(latitude, longitude);
  if (!isFiniteNumber(epochMs)) throw new ControlInputError('epochMs', 'must be a finite number');
  const { declination, eqTimeMinutes } = solarCoordinates(epochMs);
  const utcMinutes = (((epochMs % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS;
  const trueSolarMinutes = utcMinutes + eqTimeMinutes + 4 * longitude;
  const hourAngle = (trueSolarMinutes / 4 - 180) * DEG;
  const lat = latitude * DEG;
  const sinEl = Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
  return Math.asin(Math.max(-1, Math.min(1, sinEl))) / DEG;
}

export interface SunTimes {
  /** Epoch ms of solar noon. */
  solarNoon: number;
  /** Null in polar day or polar night. */
  sunrise: number | null;
  sunset: number | null;
  /** "day": the sun never sets; "night": it never rises; null otherwise. */
  polar: 'day' | 'night' | null;
}

/** Hour angle (degrees) of sunrise for a declination, or +-Infinity when the sun does not cross. */
function sunriseHourAngleDeg(latitude: number, declination: number): number {
  const lat = latitude * DEG;
  const cosH = Math.cos(SUNRISE_ZENITH_DEG * DEG) / (Math.cos(lat) * Math.cos(declination)) - Math.tan(lat) * Math.tan(declination);
  if (!(cosH <= 1)) return -Infinity; // never rises (also NaN at the poles' cos(lat) = 0)
  if (cosH < -1) return Infinity; // never sets
  return Math.acos(cosH) / DEG;
}

/** Local solar day index: day number of the mean solar date at the longitude. */
function solarDayIndex(epochMs: number, longitude: number): number {
  return Math.floor((epochMs + longitude * 4 * MINUTE_MS) / DAY_MS);
}

function sunTimesForDay(day: number, latitude: number, longitude: number): SunTimes {
  // Mean noon at this longitude, then refine with the equation of time there.
  let noon = day * DAY_MS + (720 - 4 * longitude) * MINUTE_MS;
  for (let k = 0; k < 2; k++) {
    noon = day * DAY_MS + (720 - 4 * longitude - solarCoordinates(noon).eqTimeMinutes) * MINUTE_MS;
  }
  const event = (sign: -1 | 1): number | 'day' | 'night' => {
    let t = noon;
    let h = 0;
    for (let k = 0; k < 2; k++) {
      const { declination, eqTimeMinutes } = solarCoordinates(t);
      h = sunriseHourAngleDeg(latitude, declination);
      if (!Number.isFinite(h)) return h > 0 ? 'day' : 'night';
      t = day * DAY_MS + (720 - 4 * longitude - eqTimeMinutes + sign * 4 * h) * MINUTE_MS;
    }
    return t;
  };
  const rise = event(-1);
  const set = event(1);
  if (typeof rise === 'number' && typeof set === 'number') return { solarNoon: noon, sunrise: rise, sunset: set, polar: null };
  const polar = typeof rise === 'string' ? rise : (set as 'day' | 'night');
  return { solarNoon: noon, sunrise: null, sunset: null, polar };
}

/**
 * Sunrise, solar noon and sunset of the local solar day containing `epochMs`
 * at the position.
 * @throws ControlInputError for a bad position or time.
 */
export function sunTimes(epochMs: number, latitude: number, longitude: number): SunTimes {
  checkPosition(latitude, longitude);
  if (!isFiniteNumber(epochMs)) throw new ControlInputError('epochMs', 'must be a finite number');
  return sunTimesForDay(solarDayIndex(epochMs, longitude), latitude, longitude);
}

type SunEventKind = 'sunrise' | 'noon' | 'sunset' | 'midnight';
interface SunEvent {
  kind: SunEventKind;
  at: number;
  /** Polar state of the day the event belongs to (midnights: null). */
  polar: 'day' | 'night' | null;
}

/**
 * Home Assistant Adaptive Lighting's sun position p in [-1, 1] at `epochMs`:
 * 0 at sunrise/sunset, 1 at solar noon, -1 at solar midnight (midway between
 * two solar noons), parabolic in between.
 */
export function sunPosition(epochMs: number, latitude: number, longitude: number): number {
  checkPosition(latitude, longitude);
  if (!isFiniteNumber(epochMs)) throw new ControlInputError('epochMs', 'must be a finite number');
  const day = solarDayIndex(epochMs, longitude);
  const events: SunEvent[] = [];
  const days = [day - 2, day - 1, day, day + 1, day + 2].map((d) => sunTimesForDay(d, latitude, longitude));
  days.forEach((s, i) => {
    events.push({ kind: 'noon', at: s.solarNoon, polar: s.polar });
    if (s.sunrise !== null) events.push({ kind: 'sunrise', at: s.sunrise, polar: null });
    if (s.sunset !== null) events.push({ kind: 'sunset', at: s.sunset, polar: null });
    const next = days[i + 1];
    if (next) events.push({ kind: 'midnight', at: (s.solarNoon + next.solarNoon) / 2, polar: null });
  });
  events.sort((a, b) => a.at - b.at);
  let prev: SunEvent | undefined;
  let next: SunEvent | undefined;
  for (const e of events) {
    if (e.at <= epochMs) prev = e;
    else {
      next = e;
      break;
    }
  }
  if (!prev || !next) return 0; // unreachable: five days of events always bracket t
  const parabola = (h: number, x: number, k: 1 | -1): number => {
    const r = (epochMs - h) / (h - x);
    return Math.max(-1, Math.min(1, k - k * r * r));
  };
  const pair = `${prev.kind}>${next.kind}`;
  switch (pair) {
    case 'sunrise>noon':
      return parabola(next.at, prev.at, 1);
    case 'noon>sunset':
      return parabola(prev.at, next.at, 1);
    case 'sunset>midnight':
      return parabola(next.at, prev.at, -1);
    case 'midnight>sunrise':
      return parabola(prev.at, next.at, -1);
    case 'noon>midnight':
      return prev.polar === 'night' ? parabola(next.at, prev.at, -1) : parabola(prev.at, next.at, 1);
    case 'midnight>noon':
      return next.polar === 'night' ? parabola(prev.at, next.at, -1) : parabola(next.at, prev.at, 1);
    default:
      // Two events of a kind in a row only happen in polar edge cases (e.g.
      // sunset then a polar-night noon): treat as night.
      return prev.kind === 'sunrise' || prev.kind === 'noon' ? 0 : -1;
  }
}

/** Sun-mode colour and cap at an instant. */
export function sunCircadian(epochMs: number, config: SunCircadianConfig): CircadianPoint {
  const p = sunPosition(epochMs, config.latitude, config.longitude);
  const span = config.coolestKelvin - config.warmestKelvin;
  const capSpan = config.dayMaxIntensityPct - config.nightMaxIntensityPct;
  if (p > 0) {
    return { kelvin: config.warmestKelvin + span * p, maxIntensityPct: config.dayMaxIntensityPct, phase: 'sun-day', sunPosition: p };
  }
  return {
    kelvin: config.warmestKelvin,
    maxIntensityPct: config.nightMaxIntensityPct + capSpan * (1 + p),
    phase: 'sun-night',
    sunPosition: p,
  };
}

/**
 * Validate a circadian configuration (clock keyframes sorted, sun position and
 * colours in range); returns a clean copy. Missing fields take defaults.
 * @throws ControlInputError naming the field.
 */
export function resolveCircadianConfig(input: unknown): CircadianConfig {
  const cfg = isPlainObject(input) ? input : {};
  const mode = cfg.mode ?? 'clock';
  const warmest = cfg.warmestKelvin ?? DEFAULT_WARMEST_KELVIN;
  const coolest = cfg.coolestKelvin ?? DEFAULT_COOLEST_KELVIN;
  if (!isFiniteNumber(warmest) || warmest < ACCEPTED_KELVIN_MIN || warmest > ACCEPTED_KELVIN_MAX) {
    throw new ControlInputError('warmestKelvin', `must be a number in [${ACCEPTED_KELVIN_MIN}, ${ACCEPTED_KELVIN_MAX}]`);
  }
  if (!isFiniteNumber(coolest) || coolest < warmest || coolest > ACCEPTED_KELVIN_MAX) {
    throw new ControlInputError('coolestKelvin', `must be a number in [warmestKelvin, ${ACCEPTED_KELVIN_MAX}]`);
  }
  if (mode === 'clock') {
    return { mode: 'clock', keyframes: validateKeyframes(cfg.keyframes ?? defaultKeyframes(warmest, coolest)) };
  }
  if (mode !== 'sun') throw new ControlInputError('mode', 'must be "clock" or "sun"');
  const latitude = cfg.latitude;
  const longitude = cfg.longitude;
  checkPosition(latitude as number, longitude as number);
  const pct = (key: string, fallback: number): number => {
    const v = cfg[key] ?? fallback;
    if (!isFiniteNumber(v) || v < 0 || v > 100) throw new ControlInputError(key, 'must be a number in [0, 100]');
    return v;
  };
  const nightMaxIntensityPct = pct('nightMaxIntensityPct', DEFAULT_NIGHT_MAX_INTENSITY_PCT);
  const dayMaxIntensityPct = pct('dayMaxIntensityPct', 100);
  if (nightMaxIntensityPct > dayMaxIntensityPct) {
    throw new ControlInputError('nightMaxIntensityPct', 'must not exceed dayMaxIntensityPct');
  }
  return {
    mode: 'sun',
    latitude: latitude as number,
    longitude: longitude as number,
    warmestKelvin: warmest,
    coolestKelvin: coolest,
    nightMaxIntensityPct,
    dayMaxIntensityPct,
  };
}

/**
 * Colour and cap for a decision: clock mode reads the local `minuteOfDay`
 * (from the feature window), sun mode the absolute time `epochMs`.
 */
export function circadianAt(minuteOfDay: number, epochMs: number, config: CircadianConfig): CircadianPoint {
  return config.mode === 'sun' ? sunCircadian(epochMs, config) : clockCircadian(minuteOfDay, config.keyframes);
}
