/**
 * The one gate every decider's output passes through (rules, AI, manual):
 * `applyClamps(proposed, ctx) -> { setpoint, fired }`. It never throws: any
 * input (NaN, strings, null, objects with throwing getters) becomes a valid
 * Setpoint, and `fired` names every clamp that changed something. The names
 * are also appended to the setpoint's `reason`.
 *
 * Order, later wins (so the precedence is safety > accessibility > proposal):
 *   1. sanitise: zone, source, reason; intensity and cct that are not finite
 *      numbers become the previous value (if known) else the safe value
 *      (`safeIntensityPct` 100 %: in doubt, light; `safeKelvin` 4000 K);
 *   2. ranges: intensity 0..100, cct within the fixture's [minKelvin, maxKelvin];
 *   3. max step (automatic sources only, when a previous level is known):
 *      at most min(limits.maxStepPct, hints.maxStepPct) points per decision,
 *      moving toward the proposal. A person's manual choice is not cut short;
 *   4. profile minimum (hints.minIntensityPct) while occupied;
 *   5. occupied floor (`occupiedFloorPct`) while occupied.
 *      Steps 4-5 skip a manual 0 % (an explicit "off" from a person is honoured);
 *   6. fades: invalid fadeMs dropped, capped at 16 min; automatic reductions
 *      while occupied fade over at least `fadeDownMs`; with hints.slowerDimDown
 *      every reduction (manual too) fades over at least `slowDimDownFadeMs`;
 *   7. overrideMinutes 0..10080 and confidence 0..1, else dropped or clamped.
 *
 * Clamp names: clamp:zone, clamp:source, clamp:reason, clamp:intensity-invalid,
 * clamp:intensity-range, clamp:cct-invalid, clamp:cct-range, clamp:max-step,
 * clamp:profile-min, clamp:floor, clamp:fade-invalid, clamp:fade-down,
 * clamp:slow-dim-down, clamp:override-minutes, clamp:confidence.
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  clampNumber,
  COMMAND_KELVIN_MAX,
  COMMAND_KELVIN_MIN,
  isFiniteNumber,
  MAX_FADE_MS,
  MAX_ID_LENGTH,
  MAX_OVERRIDE_HOLD_MINUTES,
  read,
  type Setpoint,
  SETPOINT_SOURCES,
  type SetpointSource,
} from '../contracts';
import { type ControlHints, ControlInputError, round1 } from './types';

export interface ClampLimits {
  /** Fixture's warmest colour, kelvin. */
  minKelvin: number;
  /** Fixture's coolest colour, kelvin (reference cap 6500 K). */
  maxKelvin: number;
  /** Output floor while occupied, percent. */
  occupiedFloorPct: number;
  /** Intensity used when a proposal's intensity is garbage and no previous level is known. */
  safeIntensityPct: number;
  /** Colour used when a proposal's cct is garbage and no previous colour is known. */
  safeKelvin: number;
  /** Shortest fade for an automatic reduction while occupied, ms. */
  fadeDownMs: number;
  /** Shortest fade for any reduction when hints ask for slower dimming down, ms. */
  slowDimDownFadeMs: number;
  /** Step limit for automatic sources, points; null: only hints limit the step. */
  maxStepPct: number | null;
}

export const DEFAULT_CLAMP_LIMITS: Readonly<ClampLimits> = Object.freeze({
  minKelvin: COMMAND_KELVIN_MIN,
  maxKelvin: COMMAND_KELVIN_MAX,
  occupiedFloorPct: 10,
  safeIntensityPct: 100,
  safeKelvin: 4000,
  fadeDownMs: 30_000,
  slowDimDownFadeMs: 60_000,
  maxStepPct: null,
});

export interface ClampContext {
  /** The zone being decided; wins over the proposal's zone. */
  zone?: string;
  /** Someone is (or may be) present. Default true: in doubt, assume occupied. */
  occupied?: boolean;
  /** What the light is at now (last applied), for step limits and fades. */
  previous?: { intensity?: number | null; cct?: number | null } | null;
  hints?: ControlHints | null;
  limits?: Partial<ClampLimits>;
  /** Source used when the proposal's source is missing or invalid (default "ai"). */
  defaultSource?: SetpointSource;
}

export interface ClampResult {
  setpoint: Setpoint;
  /** Names of the clamps that changed something, in the order they fired. */
  fired: string[];
}

const MAX_REASON_LENGTH = 1000;

/**
 * Validate clamp limits strictly (configuration time).
 * @throws ControlInputError naming the field.
 */
export function resolveClampLimits(input: Partial<ClampLimits> = {}): ClampLimits {
  const c: ClampLimits = { ...DEFAULT_CLAMP_LIMITS };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  const check = (key: keyof ClampLimits, lo: number, hi: number): void => {
    const v = c[key];
    if (!isFiniteNumber(v) || v < lo || v > hi) throw new ControlInputError(key, `must be a number in [${lo}, ${hi}]`);
  };
  check('minKelvin', ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
  check('maxKelvin', c.minKelvin, 20000);
  check('occupiedFloorPct', 0, 100);
  check('safeIntensityPct', 0, 100);
  check('safeKelvin', c.minKelvin, c.maxKelvin);
  check('fadeDownMs', 0, MAX_FADE_MS);
  check('slowDimDownFadeMs', 0, MAX_FADE_MS);
  if (c.maxStepPct !== null) {
    const v = c.maxStepPct;
    if (!isFiniteNumber(v) || v <= 0 || v > 100) throw new ControlInputError('maxStepPct', 'must be null or a number in (0, 100]');
  }
  return c;
}

/** Limits from context with every invalid field replaced by its default (never throws). */
function safeLimits(input: unknown): ClampLimits {
  const d = DEFAULT_CLAMP_LIMITS;
  const n = (key: keyof ClampLimits, lo: number, hi: number): number => {
    const v = read(input, key);
    return isFiniteNumber(v) && v >= lo && v <= hi ? v : (d[key] as number);
  };
  let minKelvin = n('minKelvin', ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
  let maxKelvin = n('maxKelvin', ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
  if (minKelvin > maxKelvin) {
    minKelvin = d.minKelvin;
    maxKelvin = d.maxKelvin;
  }
  const safeKelvin = clampNumber(n('safeKelvin', ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX), minKelvin, maxKelvin);
  const step = read(input, 'maxStepPct');
  return {
    minKelvin,
    maxKelvin,
    occupiedFloorPct: n('occupiedFloorPct', 0, 100),
    safeIntensityPct: n('safeIntensityPct', 0, 100),
    safeKelvin,
    fadeDownMs: n('fadeDownMs', 0, MAX_FADE_MS),
    slowDimDownFadeMs: n('slowDimDownFadeMs', 0, MAX_FADE_MS),
    maxStepPct: isFiniteNumber(step) && step > 0 && step <= 100 ? step : null,
  };
}

interface SafeHints {
  minIntensityPct: number | null;
  maxStepPct: number | null;
  slowerDimDown: boolean;
}

function safeHints(input: unknown): SafeHints {
  const min = read(input, 'minIntensityPct');
  const step = read(input, 'maxStepPct');
  return {
    minIntensityPct: isFiniteNumber(min) && min > 0 && min <= 100 ? min : null,
    maxStepPct: isFiniteNumber(step) && step > 0 && step <= 100 ? step : null,
    slowerDimDown: read(input, 'slowerDimDown') === true,
  };
}

function isValidZone(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '' && v.length <= MAX_ID_LENGTH;
}

/**
 * Clamp a proposed setpoint (any value) into a safe, valid one.
 * Never throws.
 */
export function applyClamps(proposed: unknown, ctx: ClampContext = {}): ClampResult {
  const fired: string[] = [];
  const fire = (name: string): void => {
    if (!fired.includes(name)) fired.push(name);
  };
  const limits = safeLimits(read(ctx, 'limits'));
  const hints = safeHints(read(ctx, 'hints'));
  const occupiedRaw = read(ctx, 'occupied');
  const occupied = occupiedRaw !== false;
  const prevObj = read(ctx, 'previous');
  const prevI = read(prevObj, 'intensity');
  const prevK = read(prevObj, 'cct');
  const previousIntensity = isFiniteNumber(prevI) && prevI >= 0 && prevI <= 100 ? prevI : null;
  const previousCct =
    isFiniteNumber(prevK) && prevK >= ACCEPTED_KELVIN_MIN && prevK <= ACCEPTED_KELVIN_MAX
      ? clampNumber(prevK, limits.minKelvin, limits.maxKelvin)
      : null;

  // 1. identity fields
  const ctxZone = read(ctx, 'zone');
  const propZone = read(proposed, 'zone');
  let zone: string;
  if (isValidZone(ctxZone)) {
    zone = ctxZone;
    if (propZone !== ctxZone) fire('clamp:zone');
  } else if (isValidZone(propZone)) {
    zone = propZone;
  } else {
    zone = 'unknown';
    fire('clamp:zone');
  }
  const defaultSourceRaw = read(ctx, 'defaultSource');
  const defaultSource: SetpointSource =
    typeof defaultSourceRaw === 'string' && (SETPOINT_SOURCES as readonly string[]).includes(defaultSourceRaw)
      ? (defaultSourceRaw as SetpointSource)
      : 'ai';
  const sourceRaw = read(proposed, 'source');
  let source: SetpointSource;
  if (typeof sourceRaw === 'string' && (SETPOINT_SOURCES as readonly string[]).includes(sourceRaw)) {
    source = sourceRaw as SetpointSource;
  } else {
    source = defaultSource;
    fire('clamp:source');
  }
  const manual = source === 'manual';
  const reasonRaw = read(proposed, 'reason');
  let reason = '';
  if (typeof reasonRaw === 'string') {
    reason = reasonRaw;
    if (reason.length > MAX_REASON_LENGTH) {
      reason = reason.slice(0, MAX_REASON_LENGTH);
      fire('clamp:reason');
    }
  } else if (reasonRaw != null) {
    fire('clamp:reason');
  }

  // 1-2. intensity and colour
  const iRaw = read(proposed, 'intensity');
  let intensity: number;
  if (!isFiniteNumber(iRaw)) {
    intensity = previousIntensity ?? limits.safeIntensityPct;
    fire('clamp:intensity-invalid');
  } else if (iRaw < 0 || iRaw > 100) {
    intensity = clampNumber(iRaw, 0, 100);
    fire('clamp:intensity-range');
  } else {
    intensity = iRaw;
  }
  const kRaw = read(proposed, 'cct');
  let cct: number;
  if (!isFiniteNumber(kRaw) || kRaw <= 0) {
    cct = previousCct ?? limits.safeKelvin;
    fire('clamp:cct-invalid');
  } else if (kRaw < limits.minKelvin || kRaw > limits.maxKelvin) {
    cct = clampNumber(kRaw, limits.minKelvin, limits.maxKelvin);
    fire('clamp:cct-range');
  } else {
    cct = kRaw;
  }

  // 3. max step (automatic sources)
  const stepLimits = [limits.maxStepPct, hints.maxStepPct].filter((v): v is number => v !== null);
  if (!manual && previousIntensity !== null && stepLimits.length > 0) {
    const limit = Math.min(...stepLimits);
    const delta = intensity - previousIntensity;
    if (Math.abs(delta) > limit + 1e-9) {
      intensity = previousIntensity + Math.sign(delta) * limit;
      fire('clamp:max-step');
    }
  }

  // 4-5. floors while occupied
  const manualOff = manual && intensity === 0;
  if (occupied && !manualOff) {
    if (hints.minIntensityPct !== null && intensity < hints.minIntensityPct) {
      intensity = hints.minIntensityPct;
      fire('clamp:profile-min');
    }
    if (intensity < limits.occupiedFloorPct) {
      intensity = limits.occupiedFloorPct;
      fire('clamp:floor');
    }
  }
  intensity = clampNumber(round1(intensity), 0, 100);

  // 6. fades
  const fRaw = read(proposed, 'fadeMs');
  let fadeMs: number | undefined;
  if (fRaw !== undefined && fRaw !== null) {
    if (!isFiniteNumber(fRaw) || fRaw < 0) fire('clamp:fade-invalid');
    else if (fRaw > MAX_FADE_MS) {
      fadeMs = MAX_FADE_MS;
      fire('clamp:fade-invalid');
    } else fadeMs = fRaw;
  }
  const reducing = previousIntensity !== null && intensity < previousIntensity - 1e-9;
  if (reducing && !manual && occupied && (fadeMs ?? 0) < limits.fadeDownMs) {
    fadeMs = limits.fadeDownMs;
    fire('clamp:fade-down');
  }
  if (reducing && hints.slowerDimDown && (fadeMs ?? 0) < limits.slowDimDownFadeMs) {
    fadeMs = limits.slowDimDownFadeMs;
    fire('clamp:slow-dim-down');
  }

  const setpoint: Setpoint = { zone, intensity, cct: clampNumber(Math.round(cct), limits.minKelvin, limits.maxKelvin), reason, source };
  if (fadeMs !== undefined) setpoint.fadeMs = Math.round(fadeMs);

  // 7. override duration and confidence
  const oRaw = read(proposed, 'overrideMinutes');
  if (oRaw !== undefined && oRaw !== null) {
    if (!isFiniteNumber(oRaw)) fire('clamp:override-minutes');
    else {
      const o = clampNumber(oRaw, 0, MAX_OVERRIDE_HOLD_MINUTES);
      if (o !== oRaw) fire('clamp:override-minutes');
      setpoint.overrideMinutes = o;
    }
  }
  const cRaw = read(proposed, 'confidence');
  if (cRaw !== undefined && cRaw !== null) {
    if (!isFiniteNumber(cRaw)) fire('clamp:confidence');
    else {
      const c = clampNumber(cRaw, 0, 1);
      if (c !== cRaw) fire('clamp:confidence');
      setpoint.confidence = c;
    }
  }

  if (fired.length > 0) {
    const tail = fired.join('; ');
    setpoint.reason = reason === '' ? tail : `${reason}; ${tail}`;
    if (setpoint.reason.length > MAX_REASON_LENGTH + 400) setpoint.reason = setpoint.reason.slice(0, MAX_REASON_LENGTH + 400);
  }
  return { setpoint, fired };
}
