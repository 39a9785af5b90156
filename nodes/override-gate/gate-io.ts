/**
 * override-gate's settings, the parsing of its commands (manualChange,
 * observed, clear, stale) and the shape of its output-2 reports. No Node-RED
 * import; used by override-gate.ts.
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  isFiniteNumber,
  isPlainObject,
  MAX_OVERRIDE_HOLD_MINUTES,
  type Setpoint,
} from '../../lib/contracts';
import { checkZone, ControlInputError, type OverrideRow } from '../../lib/control';
import type { SettingsReader } from '../shared/settings';

export interface OverrideGateSettings {
  overrideMinutes: number;
  minIntervalS: number;
  minIntervalUpS: number | null;
  deadbandPct: number;
  maxStepPct: number;
  cctDeadbandKelvin: number;
  maxStepUpPct: number | null;
  wakeBelowPct: number;
  urgentRisePct: number | null;
  manualIntensityThresholdPct: number;
  manualKelvinThreshold: number;
  recordDecisions: boolean;
}

/** Settings, ranges as in the editor (OverrideGateConfig of lib/control plus recordDecisions). */
export function readGateSettings(read: SettingsReader): OverrideGateSettings {
  return {
    overrideMinutes: read.number('overrideMinutes', 30, 0, 10080),
    minIntervalS: read.number('minIntervalS', 60, 0, 86400),
    minIntervalUpS: read.optionalNumber('minIntervalUpS', 0, 86400, false, 30),
    deadbandPct: read.number('deadbandPct', 5, 0, 100),
    maxStepPct: read.number('maxStepPct', 20, 0.1, 100),
    cctDeadbandKelvin: read.number('cctDeadbandKelvin', 50, 0, 10000),
    maxStepUpPct: read.optionalNumber('maxStepUpPct', 0.1, 100),
    wakeBelowPct: read.number('wakeBelowPct', 10, 0, 100),
    urgentRisePct: read.optionalNumber('urgentRisePct', 0.1, 100, false, 20),
    manualIntensityThresholdPct: read.number('manualIntensityThresholdPct', 10, 0, 100),
    manualKelvinThreshold: read.number('manualKelvinThreshold', 100, 0, 20000),
    recordDecisions: read.bool('recordDecisions', true),
  };
}

/** `stale` and `recovered` (sensor health from lsd-sensor-in output 2) are accepted and ignored. */
export type GateCommand = 'stale' | 'recovered' | 'clear' | 'manualChange' | 'observed' | 'notSent' | 'setpoint';

/** What an input message asks for: msg.topic, else msg.payload.kind (lsd-sensor-in output 2), else a setpoint. */
export function commandOf(topic: unknown, payload: unknown): GateCommand {
  const kind = isPlainObject(payload) ? payload.kind : undefined;
  for (const c of ['stale', 'recovered', 'clear', 'manualChange', 'observed', 'notSent'] as const) if (topic === c || kind === c) return c;
  return 'setpoint';
}

export interface ManualChange {
  zone: string;
  intensity: number | null;
  cct: number | null;
  /** Bounded to [0, MAX_OVERRIDE_HOLD_MINUTES]; undefined: the node's setting. */
  minutes: number | undefined;
  address: string | null;
}

function optional(p: Record<string, unknown>, key: string, lo: number, hi: number): number | null {
  const v = p[key];
  if (v == null) return null;
  if (!isFiniteNumber(v) || v < lo || v > hi) throw new ControlInputError(key, `must be a number in [${lo}, ${hi}] when given`);
  return v;
}

/** payload of a manualChange / observed message. @throws ControlInputError */
export function parseManualChange(payload: unknown): ManualChange {
  if (!isPlainObject(payload)) throw new ControlInputError('payload', 'must be an object {zone, intensity?, cct?, overrideMinutes?}');
  const zone = checkZone(payload.zone);
  const m = payload.overrideMinutes;
  if (m != null && !isFiniteNumber(m)) throw new ControlInputError('overrideMinutes', 'must be a number of minutes when given');
  const address = typeof payload.address === 'string' ? payload.address.slice(0, 16) : null;
  return {
    zone,
    intensity: optional(payload, 'intensity', 0, 100),
    cct: optional(payload, 'cct', ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX),
    minutes: m == null ? undefined : Math.min(MAX_OVERRIDE_HOLD_MINUTES, Math.max(0, m as number)),
    address,
  };
}

/** payload.zone of a clear message: a zone, or null for every zone. @throws ControlInputError */
export function parseClear(payload: unknown): string | null {
  const zone = isPlainObject(payload) ? payload.zone : typeof payload === 'string' && payload !== '' ? payload : undefined;
  return zone == null ? null : checkZone(zone);
}

export interface BlockedReport {
  kind: 'blocked';
  zone: string;
  blockedBy: string;
  reason: string;
  setpoint: Setpoint;
  overrideUntil?: number;
}

export function blockedReport(sp: Setpoint, blockedBy: string, reason: string, override: OverrideRow | null): BlockedReport {
  const out: BlockedReport = { kind: 'blocked', zone: sp.zone, blockedBy, reason, setpoint: sp };
  if (override) out.overrideUntil = override.expiresAt;
  return out;
}

export function startedReport(row: OverrideRow): Record<string, unknown> {
  return {
    kind: 'overrideStarted',
    zone: row.zone,
    source: row.source,
    startedAt: row.startedAt,
    overrideUntil: row.expiresAt,
    intensity: row.intensity,
    cct: row.cct,
  };
}

export function expiredReport(row: OverrideRow): Record<string, unknown> {
  return { kind: 'overrideExpired', zone: row.zone, source: row.source, startedAt: row.startedAt, expiredAt: row.expiresAt };
}
