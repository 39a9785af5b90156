/**
 * The deterministic controller behind `rules-fallback`: circadian colour and
 * cap, occupancy (hold, absence level, vacancy off), daylight harvesting,
 * profile hints, then `applyClamps` last. Every rule that fires is named in
 * the setpoint's `reason`, e.g.
 *
 *   "circadian:day 5000K; daylight:step-down 4% (560>500 lx); occupancy:occupied; clamp:floor"
 *
 * Presence fast path. Windows close once a minute, so someone walking into a
 * dark room would wait up to a window for light. `onPresence(zone, ts, true)`
 * (a single sensor reading) decides at once when the zone is vacant (absence
 * level, off, or its hold has run out): presence forced true, the hold
 * restarted at ts, daylight from the reading's lux (or the zone's last
 * window), arrival rules (straight to the occupied level: no step limit, no
 * hold-off, fade 0) and it never lowers the output (reductions stay with the
 * slow closed loop). While the zone is occupied a presence reading only
 * restarts the hold. Absence does nothing here (vacancy waits for the hold
 * and vacancy timers). At most one fast-path decision per zone per
 * `fastPathMinIntervalMs`.
 *
 * Lux fast path. While the zone is occupied, a reading whose lux fell under
 * the lower edge of the daylight hold band (a cloud) is decided at once with
 * the normal daylight step (step limit, hold-off and fade apply) instead of
 * at the end of its window; only a rise is returned (null otherwise).
 *
 * `decide(window, state, config, ctx)` is pure (time comes from the window,
 * or ctx.now): same inputs, same output. `RulesController` keeps one state per
 * zone for a node and can be saved with toJSON() / restored with the
 * constructor.
 *
 * Node adapter (rules-fallback), in outline:
 *   const ctl = new RulesController(node.settings);      // throws ControlInputError on bad config
 *   on input: const d = ctl.decide(msg.payload, { hints }); send({ payload: d.setpoint })
 *             (ControlInputError -> done(err)); optionally send only when d.changed
 *   timer:    at d.nextCheckAt call ctl.tick(zone, Date.now()) when no window came
 *   reading:  {sensorId, zone, ts, lux?, presence?, source} with presence true ->
 *             ctl.onPresence(zone, ts, true, { lux, hints }); send the setpoint when non-null
 *   feedback: what override-gate / dali-dt8-out really applied -> ctl.noteOutput(zone, pct, ts, fadeMs)
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  COMMAND_KELVIN_MAX,
  COMMAND_KELVIN_MIN,
  type DecisionLuxStats,
  type DecisionWindow,
  isFiniteNumber,
  isPlainObject,
  type Setpoint,
} from '../contracts';
import { applyClamps, type ClampLimits, resolveClampLimits } from './clamps';
import { type DemandResponseEvent, shedSetpoint } from './demand-response';
import { type CctKeyframe, type CircadianConfig, type CircadianPoint, circadianAt, resolveCircadianConfig } from './circadian';
import {
  type DaylightConfig,
  type DaylightState,
  daylightStep,
  initialDaylightState,
  type OutputChange,
  recordOutputChange,
  resolveDaylightConfig,
} from './daylight';
import {
  initialOccupancyState,
  type OccupancyConfig,
  type OccupancyMode,
  type OccupancyState,
  occupancyStep,
  presenceSeen,
  resolveOccupancyConfig,
} from './occupancy';
import { checkZone, type ControlHints, ControlInputError, round1, validateFeatureWindow } from './types';
import { applySlot, holdNote, holdRuleOf, scheduleAt, slotNote, targetLoop, targetNote, type ZoneSchedule } from '../learning/schedule';
import type { ScheduleRule } from '../learning/types';

/** Flat configuration, with the rules-fallback node's setting names. */
export interface RulesConfig {
  // daylight harvesting
  targetLux: number;
  /** targetLux is the maintained minimum: the deadband sits above it (default true). */
  targetIsMinimum: boolean;
  deadbandPct: number;
  maxStepPct: number;
  riseStepFactor: number;
  occupiedFloorPct: number;
  fadeDownMs: number;
  fadeUpMs: number;
  holdOffDownMs: number;
  holdOffUpMs: number;
  luxPerPct: number;
  learnGain: boolean;
  luxStat: 'mean' | 'last';
  anticipateFall: boolean;
  noLuxIntensityPct: number;
  // occupancy
  absenceLevelPct: number;
  holdMinutes: number;
  vacancyOffMinutes: number;
  neverOff: boolean;
  // circadian colour
  circadian: 'clock' | 'sun';
  latitude: number | null;
  longitude: number | null;
  /** Night colour (clock and sun mode). */
  warmestKelvin: number;
  /** Day colour (clock and sun mode). */
  coolestKelvin: number;
  /** Clock mode: custom keyframes (null: the default schedule from warmest/coolest). */
  keyframes: CctKeyframe[] | null;
  /** Sun mode: cap at solar midnight / by day, percent. */
  nightMaxIntensityPct: number;
  dayMaxIntensityPct: number;
  // colour limits and safety
  minKelvin: number;
  maxKelvin: number;
  /** Shift applied for a profile's cctBias "warm" (+) or "cool" (-), mirek. */
  cctBiasMirek: number;
  safeIntensityPct: number;
  safeKelvin: number;
  slowDimDownFadeMs: number;
  // presence fast path
  /** At most one fast-path decision per zone in this time, ms (0: no bound). */
  fastPathMinIntervalMs: number;
}

export interface ResolvedRulesConfig {
  daylight: DaylightConfig;
  occupancy: OccupancyConfig;
  circadian: CircadianConfig;
  clamps: ClampLimits;
  cctBiasMirek: number;
  fastPathMinIntervalMs: number;
}

export const DEFAULT_RULES_CONFIG: Readonly<RulesConfig> = Object.freeze({
  targetLux: 500,
  targetIsMinimum: true,
  deadbandPct: 10,
  maxStepPct: 10,
  riseStepFactor: 2,
  occupiedFloorPct: 10,
  fadeDownMs: 30_000,
  fadeUpMs: 3_000,
  holdOffDownMs: 60_000,
  holdOffUpMs: 30_000,
  luxPerPct: 6,
  learnGain: false,
  luxStat: 'mean',
  anticipateFall: true,
  noLuxIntensityPct: 100,
  absenceLevelPct: 10,
  holdMinutes: 15,
  vacancyOffMinutes: 20,
  neverOff: false,
  circadian: 'clock',
  latitude: null,
  longitude: null,
  warmestKelvin: 2700,
  coolestKelvin: 5000,
  keyframes: null,
  nightMaxIntensityPct: 20,
  dayMaxIntensityPct: 100,
  minKelvin: COMMAND_KELVIN_MIN,
  maxKelvin: COMMAND_KELVIN_MAX,
  cctBiasMirek: 25,
  safeIntensityPct: 100,
  safeKelvin: 4000,
  slowDimDownFadeMs: 60_000,
  fastPathMinIntervalMs: 10_000,
});

/**
 * Fill defaults and validate a flat configuration (unknown keys such as a
 * node's `name` are ignored).
 * @throws ControlInputError naming the first bad setting.
 */
export function resolveRulesConfig(input: Partial<RulesConfig> | Record<string, unknown> = {}): ResolvedRulesConfig {
  const c: RulesConfig = { ...DEFAULT_RULES_CONFIG };
  if (isPlainObject(input)) {
    for (const key of Object.keys(DEFAULT_RULES_CONFIG) as (keyof RulesConfig)[]) {
      const v = input[key];
      if (v !== undefined) (c as unknown as Record<string, unknown>)[key] = v;
    }
  }
  const daylight = resolveDaylightConfig({
    targetLux: c.targetLux,
    targetIsMinimum: c.targetIsMinimum,
    deadbandPct: c.deadbandPct,
    maxStepPct: c.maxStepPct,
    riseStepFactor: c.riseStepFactor,
    floorPct: c.occupiedFloorPct,
    fadeDownMs: c.fadeDownMs,
    fadeUpMs: c.fadeUpMs,
    holdOffDownMs: c.holdOffDownMs,
    holdOffUpMs: c.holdOffUpMs,
    luxPerPct: c.luxPerPct,
    learnGain: c.learnGain,
    luxStat: c.luxStat,
    anticipateFall: c.anticipateFall,
    noLuxIntensityPct: c.noLuxIntensityPct,
  });
  const occupancy = resolveOccupancyConfig({
    holdMinutes: c.holdMinutes,
    vacancyOffMinutes: c.vacancyOffMinutes,
    absenceLevelPct: c.absenceLevelPct,
    neverOff: c.neverOff,
    fadeDownMs: c.fadeDownMs,
  });
  const circadian = resolveCircadianConfig(
    c.circadian === 'sun'
      ? {
          mode: 'sun',
          latitude: c.latitude,
          longitude: c.longitude,
          warmestKelvin: c.warmestKelvin,
          coolestKelvin: c.coolestKelvin,
          nightMaxIntensityPct: c.nightMaxIntensityPct,
          dayMaxIntensityPct: c.dayMaxIntensityPct,
        }
      : {
          mode: c.circadian,
          warmestKelvin: c.warmestKelvin,
          coolestKelvin: c.coolestKelvin,
          ...(c.keyframes ? { keyframes: c.keyframes } : {}),
        },
  );
  const clamps = resolveClampLimits({
    minKelvin: c.minKelvin,
    maxKelvin: c.maxKelvin,
    occupiedFloorPct: c.occupiedFloorPct,
    safeIntensityPct: c.safeIntensityPct,
    safeKelvin: c.safeKelvin,
    fadeDownMs: c.fadeDownMs,
    slowDimDownFadeMs: c.slowDimDownFadeMs,
    maxStepPct: null,
  });
  if (!isFiniteNumber(c.cctBiasMirek) || c.cctBiasMirek < 0 || c.cctBiasMirek > 200) {
    throw new ControlInputError('cctBiasMirek', 'must be a number in [0, 200]');
  }
  if (!isFiniteNumber(c.fastPathMinIntervalMs) || c.fastPathMinIntervalMs < 0 || c.fastPathMinIntervalMs > 3_600_000) {
    throw new ControlInputError('fastPathMinIntervalMs', 'must be a number in [0, 3600000]');
  }
  return { daylight, occupancy, circadian, clamps, cctBiasMirek: c.cctBiasMirek, fastPathMinIntervalMs: c.fastPathMinIntervalMs };
}

export interface RulesState {
  zone: string;
  /** Last commanded (or noted) output, percent; null before the first decision. */
  intensity: number | null;
  cct: number | null;
  lastDecisionAt: number | null;
  occupancy: OccupancyState;
  daylight: DaylightState;
  /** Local clock of the last window, to build tick windows. */
  clock: { at: number; minuteOfDay: number; weekday: number } | null;
  /** Presence at the end of the last window. */
  lastPresence: boolean | null;
  /** Lux of the last window that had one (the presence fast path estimates daylight from it). */
  lastLux: { lux: DecisionLuxStats; windowStart: number; windowEnd: number } | null;
  /** Epoch ms of the last presence fast-path decision, or null. */
  lastFastPathAt: number | null;
  /** Intensity of a fast-path setpoint not yet followed by a window decision, or null. */
  fastPathPct: number | null;
}

export function initialRulesState(zone: string): RulesState {
  return {
    zone: checkZone(zone),
    intensity: null,
    cct: null,
    lastDecisionAt: null,
    occupancy: initialOccupancyState(),
    daylight: initialDaylightState(),
    clock: null,
    lastPresence: null,
    lastLux: null,
    lastFastPathAt: null,
    fastPathPct: null,
  };
}

export interface DecideContext {
  /** Accessibility hints of the person (or people) in the zone. */
  hints?: ControlHints | null;
  /** Decision time, epoch ms (default: window.windowEnd). */
  now?: number;
  /** Observed output (e.g. QUERY ACTUAL LEVEL), percent; wins over the remembered one. */
  actualIntensityPct?: number | null;
  /** A demand response event: while active it caps the proposal before the clamps (./demand-response). */
  demandResponse?: DemandResponseEvent | null;
  /** A demand response event ended since the zone's last decision: the light comes back as for an arrival (the loop held the shed level). */
  afterDemandResponse?: boolean;
  /**
   * Accepted schedule rules (lib/learning/schedule.ts): a time slot's output band and colour,
   * a target lux, a hold. Applied before the clamps; each rule in effect is named in the reason.
   */
  schedule?: readonly ScheduleRule[];
}

export interface RulesDecision {
  setpoint: Setpoint;
  state: RulesState;
  /** Output or colour differs from the previous decision. */
  changed: boolean;
  /** Clamps that fired (also named in setpoint.reason). */
  fired: string[];
  occupancy: OccupancyMode;
  circadian: CircadianPoint;
  /** Estimated daylight at the sensor, lux (occupied decisions with a lux reading). */
  daylightLux: number | null;
  /** When to decide again if no window arrives (hold end, vacancy off), epoch ms. */
  nextCheckAt: number | null;
  /** Which fast path decided (`presence`: an arrival, `lux`: daylight fell), false for a window or a tick. */
  fastPath: FastPath;
}

function biasKelvin(kelvin: number, bias: ControlHints['cctBias'], mirek: number): number {
  if (bias !== 'warm' && bias !== 'cool') return kelvin;
  const m = 1e6 / kelvin + (bias === 'warm' ? mirek : -mirek);
  return 1e6 / Math.max(50, m);
}

/**
 * One decision for the window's zone. Throws ControlInputError for an invalid
 * window (or a state of another zone); otherwise always returns a clamped,
 * valid setpoint.
 */
export function decide(window: unknown, state: RulesState | null, config: ResolvedRulesConfig, ctx: DecideContext = {}): RulesDecision {
  const w: DecisionWindow = validateFeatureWindow(window);
  const prev = state ?? initialRulesState(w.zone);
  if (prev.zone !== w.zone) throw new ControlInputError('zone', `state belongs to zone "${prev.zone}", window to "${w.zone}"`);
  const now = ctx.now ?? w.windowEnd;
  if (!isFiniteNumber(now)) throw new ControlInputError('now', 'must be a finite epoch ms');
  return decideWindow(w, prev, config, now, ctx, false);
}

/**
 * The last decision was a fast-path rise that did not reach the light (a
 * gate refused it, as the noted output shows): the next decision is an
 * arrival again, else the person would wait for the slow closed loop.
 */
function fastPathNotApplied(state: RulesState, current: number | null): boolean {
  return state.fastPathPct !== null && current !== null && current < state.fastPathPct - 0.5;
}

/** Which fast path decides: `presence` (someone arrived) or `lux` (daylight fell while occupied); false: a window. */
export type FastPath = false | 'presence' | 'lux';

/** decide() on a validated window; `fastPath`: see the file comment. */
function decideWindow(
  w: DecisionWindow,
  prev: RulesState,
  baseConfig: ResolvedRulesConfig,
  now: number,
  ctx: DecideContext,
  fastPath: FastPath,
): RulesDecision {
  const hints = ctx.hints ?? null;
  // Arrival rules (no step limit, no hold-off, fade 0) only for the presence fast path.
  const fast = fastPath === 'presence';
  const parts: string[] = fastPath === 'presence' ? ['presence:fast-path'] : fastPath === 'lux' ? ['daylight:fast-path'] : [];

  // Local clock at decision time (the window's minuteOfDay is at windowStart).
  const total = w.minuteOfDay + Math.max(0, now - w.windowStart) / 60_000;
  const localMinute = total % 1440;
  const localWeekday = (w.weekday + Math.floor(total / 1440)) % 7;

  // Accepted schedule rules of the zone in effect now: target lux and hold change the settings.
  const sched = scheduleAt(ctx.schedule, w.zone, localMinute, localWeekday);
  const config = withSchedule(baseConfig, sched);

  // Colour and cap.
  const circ = circadianAt(localMinute, now, config.circadian);
  const cap = circ.maxIntensityPct;
  parts.push(`circadian:${circ.phase} ${Math.round(circ.kelvin)}K${cap < 99.95 ? ` cap ${Math.round(cap)}%` : ''}`);

  // Occupancy.
  const seen = presenceSeen(w.presence);
  const occ = occupancyStep(prev.occupancy, seen, now, config.occupancy);

  // Output now.
  const actual = ctx.actualIntensityPct;
  const current = isFiniteNumber(actual) && actual >= 0 && actual <= 100 ? actual : prev.intensity;

  // Intensity proposal.
  let intensity: number;
  let fadeMs: number | undefined;
  let daylightState: DaylightState = prev.daylight;
  let daylightLux: number | null = null;
  if (occ.occupied) {
    let target = config.daylight.targetLux;
    if (sched.targetLux) parts.push(targetNote(sched.targetLux, config.daylight));
    const minLux = hints?.minLux;
    if (isFiniteNumber(minLux) && minLux > target && minLux <= 100_000) {
      target = minLux;
      parts.push(`profile:min-lux ${Math.round(minLux)}`);
    }
    const d = daylightStep(
      prev.daylight,
      {
        lux: w.lux,
        windowStart: w.windowStart,
        windowEnd: w.windowEnd,
        now,
        // Fast path without any lux: unknown output, so daylightStep uses noLuxIntensityPct.
        currentPct: fast && w.lux === null ? null : current,
        arrival: occ.arrival || fast || fastPathNotApplied(prev, current) || ctx.afterDemandResponse === true,
        maxIntensityPct: cap,
        targetLux: target,
      },
      config.daylight,
    );
    intensity = d.intensityPct;
    if (d.fadeMs !== undefined) fadeMs = d.fadeMs;
    if (fastPath === 'lux' && current !== null && intensity < current) {
      // The lux fast path only ever raises; the caller drops a decision that does not.
      intensity = current;
      fadeMs = undefined;
    }
    if (fast) {
      // Light at once, and never less than now: reductions stay with the slow loop.
      if (current !== null && intensity < current) {
        intensity = current;
        fadeMs = undefined;
        parts.push('presence:keep');
      } else fadeMs = 0;
    }
    daylightState = d.state;
    daylightLux = d.daylightLux;
    parts.push(d.reason);
  } else {
    const level = occ.levelPct ?? 0;
    intensity = occ.mode === 'absence' && current !== null ? Math.min(level, current) : level;
    if (occ.fadeMs !== undefined) fadeMs = occ.fadeMs;
  }
  parts.push(occ.reason);
  // A hold rule "then off" went straight to off (scheduledConfig shortened the vacancy delay to the hold).
  if (sched.hold && !occ.occupied) parts.push(holdNote(sched.hold, sched.hold.then === 'off' && occ.mode === 'off'));

  // Colour proposal.
  let cct = circ.kelvin;
  // A time slot people asked for: output band and colour, before the clamps (which win).
  if (sched.slot && occ.occupied) {
    const applied = applySlot(intensity, cct, sched.slot);
    if (applied.intensity !== intensity)
      fadeMs = current !== null && applied.intensity < current ? config.daylight.fadeDownMs : config.daylight.fadeUpMs;
    intensity = applied.intensity;
    cct = applied.cct;
    parts.push(slotNote(sched.slot));
  }
  if (hints?.cctBias === 'warm' || hints?.cctBias === 'cool') {
    cct = biasKelvin(cct, hints.cctBias, config.cctBiasMirek);
    parts.push(`profile:${hints.cctBias}`);
  }

  const proposed: Setpoint = { zone: w.zone, intensity, cct, reason: parts.join('; '), source: 'rules' };
  if (fadeMs !== undefined) proposed.fadeMs = fadeMs;
  // Fast-path rises are not step-limited (a profile's maxStepPct applies to the automatic loop).
  let clampHints = hints;
  if (fast && hints && hints.maxStepPct !== undefined) {
    clampHints = { ...hints };
    delete clampHints.maxStepPct;
  }
  const { setpoint, fired } = applyClamps(shedSetpoint(proposed, ctx.demandResponse, now), {
    zone: w.zone,
    occupied: occ.occupied,
    previous: current === null ? null : { intensity: current, cct: prev.cct },
    hints: clampHints,
    limits: config.clamps,
    defaultSource: 'rules',
  });

  const intensityChanged = current === null || Math.abs(setpoint.intensity - current) >= 0.05;
  const cctChanged = prev.cct === null || Math.abs(setpoint.cct - prev.cct) >= 1;
  if (intensityChanged) {
    const change: OutputChange = { at: now, from: current ?? setpoint.intensity, to: setpoint.intensity, fadeMs: setpoint.fadeMs ?? 0 };
    daylightState = recordOutputChange(daylightState, change);
  }

  let nextCheckAt: number | null = null;
  if (occ.mode === 'occupied' || occ.mode === 'hold') nextCheckAt = occ.holdUntil;
  else if (occ.mode === 'absence' && occ.offAt !== null && seen !== null && occ.offAt > now) nextCheckAt = occ.offAt;

  const next: RulesState = {
    zone: w.zone,
    intensity: setpoint.intensity,
    cct: setpoint.cct,
    lastDecisionAt: now,
    occupancy: occ.state,
    daylight: daylightState,
    clock: { at: now, minuteOfDay: localMinute, weekday: localWeekday },
    lastPresence: w.presence ? (w.presence.last ?? seen) : prev.lastPresence,
    lastLux: w.lux ? { lux: w.lux, windowStart: w.windowStart, windowEnd: w.windowEnd } : prev.lastLux,
    lastFastPathAt: fastPath ? now : prev.lastFastPathAt,
    // Only an arrival that did not reach the light makes the next decision an arrival again.
    fastPathPct: fast ? setpoint.intensity : null,
  };
  return {
    setpoint,
    state: next,
    changed: intensityChanged || cctChanged,
    fired,
    occupancy: occ.mode,
    circadian: circ,
    daylightLux,
    nextCheckAt,
    fastPath,
  };
}

/**
 * The settings with the zone's schedule rules: a target-lux rule replaces the
 * daylight target and deadband (targetLoop: the band's lower edge at the
 * least lux people accept, its width in lux the zone's own), a hold rule the occupancy hold; a hold rule "then off"
 * also shortens the vacancy delay to the hold, so the light goes off when the
 * hold runs out instead of dimming to the absence level first. "Never off"
 * still wins (the zone keeps its absence level), and so does a silent
 * presence sensor (occupancy never switches off without a reading). Same
 * object when none applies.
 */
export function scheduledConfig(
  config: ResolvedRulesConfig,
  rules: readonly ScheduleRule[] | undefined,
  zone: string,
): ResolvedRulesConfig {
  return withSchedule(config, scheduleAt(rules, zone, -1, -1));
}

/** scheduledConfig with the zone's rules already looked up (target lux and hold do not depend on the time). */
function withSchedule(config: ResolvedRulesConfig, s: Pick<ZoneSchedule, 'targetLux' | 'hold'>): ResolvedRulesConfig {
  if (!s.targetLux && !s.hold) return config;
  return {
    ...config,
    daylight: s.targetLux ? { ...config.daylight, ...targetLoop(s.targetLux, config.daylight) } : config.daylight,
    occupancy: s.hold
      ? {
          ...config.occupancy,
          holdMinutes: s.hold.holdMinutes,
          ...(s.hold.then === 'off' && !config.occupancy.neverOff
            ? { vacancyOffMinutes: Math.min(config.occupancy.vacancyOffMinutes, s.hold.holdMinutes) }
            : {}),
        }
      : config.occupancy,
  };
}

/**
 * A window for a timer tick: no lux reading, presence as the sensor last
 * reported it, local clock advanced from the last window. Null without a
 * previous window.
 */
export function tickWindow(state: RulesState, now: number): DecisionWindow | null {
  if (!state.clock || !isFiniteNumber(now)) return null;
  const elapsedMin = (now - state.clock.at) / 60_000;
  const total = state.clock.minuteOfDay + elapsedMin;
  const minuteOfDay = ((total % 1440) + 1440) % 1440;
  const dayShift = Math.floor(total / 1440);
  const weekday = (((state.clock.weekday + dayShift) % 7) + 7) % 7;
  const last = state.lastPresence;
  return {
    zone: state.zone,
    windowStart: now,
    windowEnd: now,
    count: 0,
    lux: null,
    presence: last === null ? null : { ratio: last ? 1 : 0, transitions: 0, last },
    minuteOfDay: minuteOfDay >= 1440 ? 0 : minuteOfDay,
    weekday,
  };
}

function checkReadingTs(ts: number): void {
  if (!isFiniteNumber(ts) || ts < 0 || ts > 8.64e15) throw new ControlInputError('ts', 'must be a finite epoch ms');
}

function checkReadingLux(lux: number): void {
  if (!isFiniteNumber(lux) || lux < 0 || lux > 1e6) throw new ControlInputError('lux', 'must be a number in [0, 1000000]');
}

/** A fast-path reading older than the last decision by more than this is ignored, ms. */
const STALE_READING_MS = 60_000;

/**
 * The window of a fast-path decision at `now`: presence forced true; lux from
 * the reading itself, else from the zone's last window if at most 5 minutes
 * old, else none. Null-safe: needs state.clock.
 */
export function presenceWindow(state: RulesState, now: number, readingLux: number | null): DecisionWindow {
  let lux: DecisionLuxStats | null = null;
  let windowStart = now;
  let windowEnd = now;
  if (readingLux !== null) {
    lux = { mean: readingLux, min: readingLux, max: readingLux, std: 0, last: readingLux };
  } else if (state.lastLux && now - state.lastLux.windowEnd <= LAST_LUX_MAX_AGE_MS && state.lastLux.windowEnd <= now) {
    lux = state.lastLux.lux;
    windowStart = state.lastLux.windowStart;
    windowEnd = state.lastLux.windowEnd;
  }
  const clock = state.clock ?? { at: now, minuteOfDay: 0, weekday: 0 };
  // The window's local clock is at windowStart.
  const total = clock.minuteOfDay + (windowStart - clock.at) / 60_000;
  const minuteOfDay = ((total % 1440) + 1440) % 1440;
  const weekday = (((clock.weekday + Math.floor(total / 1440)) % 7) + 7) % 7;
  return {
    zone: state.zone,
    windowStart,
    windowEnd,
    count: 1,
    lux,
    presence: { ratio: 1, transitions: 0, last: true },
    minuteOfDay: minuteOfDay >= 1440 ? 0 : minuteOfDay,
    weekday,
  };
}

/** The last window's lux serves the fast path this long after its end, ms. */
const LAST_LUX_MAX_AGE_MS = 5 * 60_000;

function restoreState(raw: unknown): RulesState | null {
  if (!isPlainObject(raw) || typeof raw.zone !== 'string') return null;
  try {
    const s = initialRulesState(raw.zone);
    const num = (v: unknown, lo: number, hi: number): number | null => (isFiniteNumber(v) && v >= lo && v <= hi ? v : null);
    s.intensity = num(raw.intensity, 0, 100);
    s.cct = num(raw.cct, ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
    s.lastDecisionAt = num(raw.lastDecisionAt, 0, 8.64e15);
    if (isPlainObject(raw.occupancy)) {
      s.occupancy.lastPresenceAt = num(raw.occupancy.lastPresenceAt, 0, 8.64e15);
      s.occupancy.since = num(raw.occupancy.since, 0, 8.64e15);
      const mode = raw.occupancy.mode;
      s.occupancy.mode = mode === 'occupied' || mode === 'hold' || mode === 'absence' || mode === 'off' ? mode : null;
    }
    if (isPlainObject(raw.daylight)) {
      const d = raw.daylight;
      s.daylight.lastChangeAt = num(d.lastChangeAt, 0, 8.64e15);
      s.daylight.gainLuxPerPct = num(d.gainLuxPerPct, 1e-6, 1e4);
      if (isPlainObject(d.lastDaylight)) {
        const at = num(d.lastDaylight.at, 0, 8.64e15);
        const lux = num(d.lastDaylight.lux, 0, 1e6);
        if (at !== null && lux !== null) s.daylight.lastDaylight = { at, lux };
      }
      if (isPlainObject(d.sample)) {
        const at = num(d.sample.at, 0, 8.64e15);
        const lux = num(d.sample.lux, 0, 1e6);
        const outputPct = num(d.sample.outputPct, 0, 100);
        if (at !== null && lux !== null && outputPct !== null) s.daylight.sample = { at, lux, outputPct };
      }
      if (Array.isArray(d.changes)) {
        s.daylight.changes = d.changes.filter(
          (c: unknown): c is OutputChange =>
            isPlainObject(c) &&
            num(c.at, 0, 8.64e15) !== null &&
            num(c.from, 0, 100) !== null &&
            num(c.to, 0, 100) !== null &&
            num(c.fadeMs, 0, 86_400_000) !== null,
        );
      }
    }
    if (isPlainObject(raw.clock)) {
      const at = num(raw.clock.at, 0, 8.64e15);
      const m = num(raw.clock.minuteOfDay, 0, 1439.9999);
      const wd = num(raw.clock.weekday, 0, 6);
      if (at !== null && m !== null && wd !== null) s.clock = { at, minuteOfDay: m, weekday: Math.round(wd) };
    }
    s.lastPresence = typeof raw.lastPresence === 'boolean' ? raw.lastPresence : null;
    if (isPlainObject(raw.lastLux) && isPlainObject(raw.lastLux.lux)) {
      const l = raw.lastLux.lux;
      const start = num(raw.lastLux.windowStart, 0, 8.64e15);
      const end = num(raw.lastLux.windowEnd, 0, 8.64e15);
      const v = [l.mean, l.min, l.max, l.std, l.last].map((x) => num(x, 0, 1e6));
      const [mean, min, max, std, last] = v;
      if (start !== null && end !== null && end >= start && mean != null && min != null && max != null && std != null && last != null) {
        s.lastLux = { lux: { mean, min, max, std, last }, windowStart: start, windowEnd: end };
      }
    }
    s.lastFastPathAt = num(raw.lastFastPathAt, 0, 8.64e15);
    s.fastPathPct = num(raw.fastPathPct, 0, 100);
    return s;
  } catch {
    return null;
  }
}

/** Zones, per-zone settings and the local clock of a RulesController (all optional). */
export interface RulesControllerOptions {
  /**
   * Whether a zone may be decided (a zone map): a zone it refuses is an
   * error everywhere and never gets state; restored state of such a zone is
   * dropped. Default: every zone.
   */
  allowZone?: (zone: string) => boolean;
  /** A zone's own settings over the flat ones (target lux, colour...); undefined: none. Validated on first use. */
  zoneConfig?: (zone: string) => Partial<RulesConfig> | undefined;
  /**
   * The local clock of an instant: with it, the first presence in a zone that
   * has no window yet (a fresh start, a new zone) is decided at once through
   * the presence fast path. Without it such a zone waits for its first window.
   */
  localClock?: (ts: number) => { minuteOfDay: number; weekday: number };
  /**
   * The wall clock, epoch ms: with it, a cold zone's first presence is decided only when the reading
   * is at most a minute old (an old reading replayed or buffered by a client never switches a room on
   * long after the fact). Default: no such check.
   */
  now?: () => number;
}

/** Per-zone rules state for one node. */
export class RulesController {
  readonly config: ResolvedRulesConfig;
  private readonly states = new Map<string, RulesState>();
  readonly #flat: Partial<RulesConfig> | Record<string, unknown>;
  readonly #options: RulesControllerOptions;
  readonly #zoneConfigs = new Map<string, ResolvedRulesConfig>();
  #demandResponse: DemandResponseEvent | null = null;
  /** Zones decided under the last demand response event, not yet decided since it ended. */
  readonly #shedZones = new Set<string>();
  #schedule: readonly ScheduleRule[] = [];

  /**
   * @param config flat settings (node names); validated here.
   * @param states saved toJSON() output; invalid entries are skipped.
   * @param options zone filter, per-zone settings, local clock (see RulesControllerOptions).
   * @throws ControlInputError for a bad setting.
   */
  constructor(config: Partial<RulesConfig> | Record<string, unknown> = {}, states: unknown = [], options: RulesControllerOptions = {}) {
    this.config = resolveRulesConfig(config);
    this.#flat = isPlainObject(config) ? { ...config } : {};
    this.#options = options;
    this.restore(states);
  }

  /** The resolved settings of one zone (its zoneConfig over the flat settings). @throws ControlInputError for a bad zone setting. */
  configFor(zone: string): ResolvedRulesConfig {
    const own = this.#options.zoneConfig?.(zone);
    if (own === undefined || Object.keys(own).length === 0) return this.config;
    let c = this.#zoneConfigs.get(zone);
    if (c === undefined) {
      c = resolveRulesConfig({ ...this.#flat, ...own });
      this.#zoneConfigs.set(zone, c);
    }
    return c;
  }

  /**
   * Replaces the accepted schedule rules (lib/learning/schedule.ts) every later
   * decision applies (a DecideContext.schedule given to decide() wins). Validate first (parseScheduleRules).
   */
  setSchedule(rules: readonly ScheduleRule[]): void {
    this.#schedule = [...rules];
  }

  /** The schedule rules in use. */
  schedule(): readonly ScheduleRule[] {
    return this.#schedule;
  }

  /** Whether the zone may be decided (see RulesControllerOptions.allowZone). */
  allows(zone: string): boolean {
    return this.#options.allowZone ? this.#options.allowZone(zone) : true;
  }

  #checkAllowed(zone: unknown): void {
    if (typeof zone === 'string' && !this.allows(zone)) {
      throw new ControlInputError('zone', `${JSON.stringify(zone.length > 64 ? `${zone.slice(0, 64)}...` : zone)} is not in the zone map`);
    }
  }

  /** Drops the state of every zone that is no longer allowed (a zone map changed). @returns zones dropped. */
  prune(): string[] {
    const dropped: string[] = [];
    for (const zone of [...this.states.keys()]) {
      if (!this.allows(zone)) {
        this.states.delete(zone);
        dropped.push(zone);
      }
    }
    this.#zoneConfigs.clear();
    return dropped;
  }

  /**
   * Adds saved toJSON() states for zones this controller does not know yet
   * (a zone decided since start keeps its newer state). Invalid entries and
   * anything that is not an array are skipped. @returns zones restored.
   */
  restore(states: unknown): string[] {
    const zones: string[] = [];
    if (!Array.isArray(states)) return zones;
    for (const raw of states) {
      const s = restoreState(raw);
      if (s && !this.states.has(s.zone) && this.allows(s.zone)) {
        this.states.set(s.zone, s);
        zones.push(s.zone);
      }
    }
    return zones;
  }

  /** The demand response event every decision of this controller honours (null: none); it ends by itself at its `until`. */
  setDemandResponse(event: DemandResponseEvent | null): void {
    if (event === null && this.#demandResponse !== null) for (const zone of this.states.keys()) this.#shedZones.add(zone);
    else if (event !== null) this.#shedZones.clear();
    this.#demandResponse = event;
  }

  get demandResponse(): DemandResponseEvent | null {
    return this.#demandResponse;
  }

  /** Decide for a feature window. @throws ControlInputError for an invalid window. */
  decide(window: unknown, ctx: DecideContext = {}): RulesDecision {
    const zone = isPlainObject(window) ? window.zone : undefined;
    this.#checkAllowed(zone);
    const state = typeof zone === 'string' ? (this.states.get(zone) ?? null) : null;
    let c: DecideContext = {
      demandResponse: this.#demandResponse,
      afterDemandResponse: typeof zone === 'string' && this.#shedZones.delete(zone),
      ...ctx,
    };
    // A window that closed before a fast-path decision (its reading came in
    // just after windowEnd) is decided at the fast path's time, so the hold
    // and the output history never run backwards.
    const fastAt = state?.lastFastPathAt ?? null;
    if (
      ctx.now === undefined &&
      fastAt !== null &&
      isPlainObject(window) &&
      isFiniteNumber(window.windowEnd) &&
      window.windowEnd < fastAt
    ) {
      c = { ...c, now: fastAt };
    }
    if (c.schedule === undefined && this.#schedule.length > 0) c = { ...c, schedule: this.#schedule };
    const d = decide(window, state, typeof zone === 'string' ? this.configFor(zone) : this.config, c);
    this.states.set(d.state.zone, d.state);
    return d;
  }

  /**
   * Presence fast path for one sensor reading (see the file comment).
   * Returns a decision when the zone was vacant (absence level, off, hold
   * run out) and presence is true; null otherwise: absence, a zone still
   * occupied (its hold is restarted), a zone without any window yet when
   * the controller has no localClock, a reading more than a minute older than the last decision,
   * or within fastPathMinIntervalMs of the last fast-path decision.
   * @param opts.lux the reading's own lux (fresher than the last window's)
   * @throws ControlInputError for an invalid zone, ts, presence or lux.
   */
  onPresence(
    zone: string,
    ts: number,
    present: boolean,
    opts: { lux?: number | null; hints?: ControlHints | null } = {},
  ): RulesDecision | null {
    checkZone(zone);
    this.#checkAllowed(zone);
    checkReadingTs(ts);
    if (typeof present !== 'boolean') throw new ControlInputError('presence', 'must be true or false');
    const lux = opts.lux;
    if (lux != null) checkReadingLux(lux);
    if (!present) return null;
    const r = this.#readingState(zone, ts, true);
    if (!r) return null;
    const { state, now, occupied, rateLimited } = r;
    if (occupied && !fastPathNotApplied(state, state.intensity)) {
      // Movement restarts the run-on timer; the light is already at the occupied level.
      const occ = state.occupancy;
      if (occ.lastPresenceAt === null || now > occ.lastPresenceAt) state.occupancy = { ...occ, lastPresenceAt: now };
      if (lux == null || rateLimited || state.intensity === null) return null;
      return this.#luxFastPath(state, now, lux, opts.hints ?? null);
    }
    if (rateLimited) return null;
    const w = presenceWindow(state, now, lux ?? null);
    const d = decideWindow(
      w,
      state,
      this.configFor(zone),
      now,
      { hints: opts.hints ?? null, demandResponse: this.#demandResponse, schedule: this.#schedule },
      'presence',
    );
    this.states.set(zone, d.state);
    return d;
  }

  /**
   * Lux fast path for a reading with lux and no presence (a light sensor's
   * own event): decides only while the zone is occupied (see #luxFastPath).
   * @throws ControlInputError for an invalid zone, ts or lux.
   */
  onLux(zone: string, ts: number, lux: number, opts: { hints?: ControlHints | null } = {}): RulesDecision | null {
    checkZone(zone);
    this.#checkAllowed(zone);
    checkReadingTs(ts);
    checkReadingLux(lux);
    const r = this.#readingState(zone, ts, false);
    if (!r || !r.occupied || r.rateLimited || r.state.intensity === null) return null;
    return this.#luxFastPath(r.state, r.now, lux, opts.hints ?? null);
  }

  /**
   * The zone's state for a reading at `ts`: null without a window yet (no
   * local clock; with `cold` and the controller's localClock, a fresh state
   * on that clock instead) or for a reading more than a minute older than
   * the last decision; else the decision time, whether the hold still runs
   * and whether a fast-path decision came within fastPathMinIntervalMs.
   */
  #readingState(
    zone: string,
    ts: number,
    cold: boolean,
  ): { state: RulesState; now: number; occupied: boolean; rateLimited: boolean } | null {
    let state = this.states.get(zone);
    if ((!state || !state.clock) && cold && this.#options.localClock) {
      const wall = this.#options.now?.();
      if (wall !== undefined && Math.abs(wall - ts) > STALE_READING_MS) return null;
      const local = this.#options.localClock(ts);
      const minuteOfDay = isFiniteNumber(local.minuteOfDay) ? ((local.minuteOfDay % 1440) + 1440) % 1440 : 0;
      const weekday = isFiniteNumber(local.weekday) ? ((Math.round(local.weekday) % 7) + 7) % 7 : 0;
      state = { ...(state ?? initialRulesState(zone)), clock: { at: ts, minuteOfDay, weekday } };
    }
    if (!state || !state.clock) return null;
    const last = state.lastDecisionAt ?? ts;
    if (ts < last - STALE_READING_MS) return null;
    const now = Math.max(ts, last);
    const occ = state.occupancy;
    const config = this.configFor(zone);
    const holdMs = (holdRuleOf(this.#schedule, zone)?.holdMinutes ?? config.occupancy.holdMinutes) * 60_000;
    const occupied = (occ.mode === 'occupied' || occ.mode === 'hold') && occ.lastPresenceAt !== null && now < occ.lastPresenceAt + holdMs;
    const rateLimited = state.lastFastPathAt !== null && now - state.lastFastPathAt < config.fastPathMinIntervalMs;
    return { state, now, occupied, rateLimited };
  }

  /**
   * Lux fast path: an occupied zone whose reading fell under the lower edge
   * of the hold band is decided at once with the normal daylight step (step
   * limit and hold-off apply), instead of at the end of its window. Only a
   * rise is kept; anything else leaves the state as it was.
   */
  #luxFastPath(state: RulesState, now: number, lux: number, hints: ControlHints | null): RulesDecision | null {
    const config = this.configFor(state.zone);
    const dl = scheduledConfig(config, this.#schedule, state.zone).daylight;
    const minLux = hints?.minLux;
    const target = isFiniteNumber(minLux) && minLux > dl.targetLux && minLux <= 100_000 ? minLux : dl.targetLux;
    const d = dl.deadbandPct / 100;
    // Under the loop's aim: the daylight step decides (hold band, falling-daylight anticipation).
    const aim = dl.targetIsMinimum ? target * (1 + d) : target;
    if (lux >= aim) return null;
    const current = state.intensity ?? 0;
    const decision = decideWindow(
      presenceWindow(state, now, lux),
      state,
      config,
      now,
      { hints, demandResponse: this.#demandResponse, schedule: this.#schedule },
      'lux',
    );
    if (decision.setpoint.intensity < current + 0.5) return null;
    this.states.set(state.zone, decision.state);
    return decision;
  }

  /** Re-decide a zone without a new window (hold / vacancy timers). Null if the zone has no window yet. */
  tick(zone: string, now: number, ctx: Omit<DecideContext, 'now'> = {}): RulesDecision | null {
    const state = this.states.get(zone);
    if (!state) return null;
    const w = tickWindow(state, now);
    if (!w || now < (state.lastDecisionAt ?? -Infinity)) return null;
    return this.decide(w, { ...ctx, now });
  }

  /**
   * Tell the controller what the light really is at (a step-limited or blocked
   * setpoint, a manual change), so daylight harvesting models the right output.
   */
  noteOutput(zone: string, intensityPct: number, at: number, fadeMs = 0, cct?: number): void {
    if (!this.allows(zone)) return;
    if (!isFiniteNumber(intensityPct) || intensityPct < 0 || intensityPct > 100 || !isFiniteNumber(at)) return;
    const state = this.states.get(zone) ?? initialRulesState(zone);
    const to = round1(intensityPct);
    if (state.intensity === null || Math.abs(state.intensity - to) >= 0.05) {
      state.daylight = recordOutputChange(state.daylight, {
        at,
        from: state.intensity ?? to,
        to,
        fadeMs: isFiniteNumber(fadeMs) && fadeMs >= 0 ? fadeMs : 0,
      });
      state.intensity = to;
    }
    if (isFiniteNumber(cct) && cct >= ACCEPTED_KELVIN_MIN && cct <= ACCEPTED_KELVIN_MAX) state.cct = cct;
    this.states.set(zone, state);
  }

  getState(zone: string): RulesState | null {
    return this.states.get(zone) ?? null;
  }

  zones(): string[] {
    return [...this.states.keys()];
  }

  /** Forget one zone (or all). */
  reset(zone?: string): void {
    if (zone === undefined) this.states.clear();
    else this.states.delete(zone);
  }

  /** JSON-safe copy of every zone's state (for persistence). */
  toJSON(): RulesState[] {
    return [...this.states.values()].map((s) => JSON.parse(JSON.stringify(s)) as RulesState);
  }
}
