/**
 * rules-fallback's settings and feedback parsing (no Node-RED import).
 *
 * Settings: every RulesConfig field of lib/control (same names) plus the
 * fixture wattage for msg.energy. Ranges match the editor's validators; a
 * value the runtime cannot use falls back to its default with a warning
 * (SettingsReader).
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  COMMAND_KELVIN_MAX,
  COMMAND_KELVIN_MIN,
  isFiniteNumber,
  isPlainObject,
  type SensorReading,
  validateSensorReading,
} from '../../lib/contracts';
import { checkZone, ControlInputError, type CctKeyframe, type RulesConfig } from '../../lib/control';
import type { SettingsReader } from '../shared/settings';

export interface RulesFallbackSettings extends RulesConfig {
  /** Input power of one luminaire at 100 %, watts; null: no estimatedWatts. */
  ratedW: number | null;
  /** Input power of one luminaire when off but powered, watts. */
  standbyW: number;
  /** Luminaires in the zone. */
  fixtureCount: number;
}

function keyframes(read: SettingsReader, warn: (name: string, raw: string) => void): CctKeyframe[] | null {
  const text = read.text('keyframes');
  if (text === '') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.length > 0) return parsed as CctKeyframe[];
  } catch {
    // reported below
  }
  warn('keyframes', text);
  return null;
}

export function readRulesSettings(read: SettingsReader, warnInvalid: (name: string, raw: string) => void): RulesFallbackSettings {
  const minKelvin = read.number('minKelvin', COMMAND_KELVIN_MIN, ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
  const maxKelvin = read.number('maxKelvin', COMMAND_KELVIN_MAX, minKelvin, ACCEPTED_KELVIN_MAX);
  const warmestKelvin = read.number('warmestKelvin', 2700, minKelvin, maxKelvin);
  const ratedW = read.optionalNumber('ratedW', 0.001, 100000);
  return {
    targetLux: read.number('targetLux', 500, 0, 100000),
    targetIsMinimum: read.bool('targetIsMinimum', true),
    deadbandPct: read.number('deadbandPct', 10, 0, 100),
    maxStepPct: read.number('maxStepPct', 10, 0.1, 100),
    riseStepFactor: read.number('riseStepFactor', 2, 1, 20),
    occupiedFloorPct: read.number('occupiedFloorPct', 10, 0, 100),
    fadeDownMs: read.number('fadeDownMs', 30000, 0, 960000, true),
    fadeUpMs: read.number('fadeUpMs', 3000, 0, 960000, true),
    holdOffDownMs: read.number('holdOffDownMs', 60000, 0, 86400000, true),
    holdOffUpMs: read.number('holdOffUpMs', 30000, 0, 86400000, true),
    luxPerPct: read.number('luxPerPct', 6, 0.001, 10000),
    learnGain: read.bool('learnGain'),
    luxStat: read.choice<'mean' | 'last'>('luxStat', ['mean', 'last'], 'mean'),
    anticipateFall: read.bool('anticipateFall', true),
    noLuxIntensityPct: read.number('noLuxIntensityPct', 100, 0, 100),
    absenceLevelPct: read.number('absenceLevelPct', 10, 0, 100),
    holdMinutes: read.number('holdMinutes', 15, 0, 1440),
    vacancyOffMinutes: read.number('vacancyOffMinutes', 20, 0, 1440),
    neverOff: read.bool('neverOff'),
    circadian: read.choice<'clock' | 'sun'>('circadian', ['clock', 'sun'], 'clock'),
    latitude: read.optionalNumber('latitude', -90, 90),
    longitude: read.optionalNumber('longitude', -180, 180),
    warmestKelvin,
    coolestKelvin: read.number('coolestKelvin', 5000, warmestKelvin, maxKelvin),
    keyframes: keyframes(read, warnInvalid),
    nightMaxIntensityPct: read.number('nightMaxIntensityPct', 20, 0, 100),
    dayMaxIntensityPct: read.number('dayMaxIntensityPct', 100, 0, 100),
    minKelvin,
    maxKelvin,
    cctBiasMirek: read.number('cctBiasMirek', 25, 0, 200),
    safeIntensityPct: read.number('safeIntensityPct', 100, 0, 100),
    safeKelvin: read.number('safeKelvin', 4000, minKelvin, maxKelvin),
    slowDimDownFadeMs: read.number('slowDimDownFadeMs', 60000, 0, 960000, true),
    fastPathMinIntervalMs: read.number('fastPathMinIntervalMs', 10000, 0, 3600000, true),
    ratedW,
    standbyW: read.number('standbyW', 0, 0, ratedW ?? 100000),
    fixtureCount: read.number('fixtureCount', 1, 0, 100000, true),
  };
}

export interface AppliedFeedback {
  zone: string;
  intensity: number;
  cct?: number;
  fadeMs: number;
  ts: number;
}

/** msg.payload of a feedback message (topic "applied"): {zone, intensity, cct?, fadeMs?, ts?}. @throws ControlInputError */
export function parseApplied(p: unknown, now: number): AppliedFeedback {
  if (!isPlainObject(p)) throw new ControlInputError('payload', 'must be an object {zone, intensity, cct?, fadeMs?, ts?}');
  const zone = checkZone(p.zone);
  const { intensity, cct, fadeMs, ts } = p;
  if (!isFiniteNumber(intensity) || intensity < 0 || intensity > 100)
    throw new ControlInputError('intensity', 'must be a number in [0, 100]');
  if (cct != null && (!isFiniteNumber(cct) || cct < ACCEPTED_KELVIN_MIN || cct > ACCEPTED_KELVIN_MAX))
    throw new ControlInputError('cct', `must be a number in [${ACCEPTED_KELVIN_MIN}, ${ACCEPTED_KELVIN_MAX}]`);
  if (fadeMs != null && (!isFiniteNumber(fadeMs) || fadeMs < 0)) throw new ControlInputError('fadeMs', 'must be a number >= 0');
  if (ts != null && !isFiniteNumber(ts)) throw new ControlInputError('ts', 'must be epoch ms');
  const out: AppliedFeedback = { zone, intensity, fadeMs: isFiniteNumber(fadeMs) ? fadeMs : 0, ts: isFiniteNumber(ts) ? ts : now };
  if (isFiniteNumber(cct)) out.cct = cct;
  return out;
}

/**
 * msg.payload is a sensor reading ({sensorId, zone, ts, lux?, presence?,
 * source}, DESIGN.md) rather than a feature window: it has sensorId or ts
 * and no windowStart / windowEnd.
 */
export function looksLikeReading(p: unknown): boolean {
  return isPlainObject(p) && ('sensorId' in p || 'ts' in p) && !('windowStart' in p) && !('windowEnd' in p);
}

/** Validate a sensor reading (lib/features' contract). @throws ReadingValidationError naming the field. */
export function parseReading(p: unknown): SensorReading {
  return validateSensorReading(p);
}
