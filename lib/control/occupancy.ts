/**
 * Occupancy: a run-on (hold) timer that restarts on every window with
 * presence, an absence level after the hold, and full off after a vacancy
 * delay (codes: off within 20 min of vacancy), unless "never off".
 *
 *   presence seen            -> "occupied" (hold timer restarts at windowEnd)
 *   < holdMinutes since      -> "hold"     (still treated as occupied)
 *   >= holdMinutes since     -> "absence"  at absenceLevelPct, fade fadeDownMs
 *   >= vacancyOffMinutes     -> "off"      (0 %, fade fadeDownMs) unless neverOff
 *
 * "Since" counts from the last presence, or from the first decision when no
 * presence was seen since start (so a restart at night goes to the absence
 * level, then off, rather than straight to dark). A window with no presence
 * reading at all (sensor silent or broken) never leads to "off": the space
 * may still be occupied, so it stays at the absence level at worst.
 *
 * Presence inside a window (ratio > 0, any transition, or last = true)
 * restarts the hold at windowEnd: the exact moment is unknown, and the later
 * guess keeps the light on longer rather than shorter. The last presence
 * never moves back in time (a window that closed before a newer presence
 * reading keeps the newer one).
 */
import { type DecisionPresenceStats, isFiniteNumber } from '../contracts';
import { ControlInputError } from './types';

export interface OccupancyConfig {
  /** Run-on after the last presence, minutes (default 15). */
  holdMinutes: number;
  /** Full off this long after the last presence, minutes (default 20). */
  vacancyOffMinutes: number;
  /** Level after the hold, percent (corridor practice: 10). */
  absenceLevelPct: number;
  /** Stay at the absence level instead of switching off. */
  neverOff: boolean;
  /** Fade used when going to the absence level or off, ms. */
  fadeDownMs: number;
}

export const DEFAULT_OCCUPANCY_CONFIG: Readonly<OccupancyConfig> = Object.freeze({
  holdMinutes: 15,
  vacancyOffMinutes: 20,
  absenceLevelPct: 10,
  neverOff: false,
  fadeDownMs: 30_000,
});

export interface OccupancyState {
  /** Epoch ms of the last presence seen, or null. */
  lastPresenceAt: number | null;
  /** Epoch ms of the first decision (reference when no presence was seen yet). */
  since: number | null;
  /** Mode of the previous decision (to detect arrivals). */
  mode: OccupancyMode | null;
}

export type OccupancyMode = 'occupied' | 'hold' | 'absence' | 'off';

export interface OccupancyDecision {
  mode: OccupancyMode;
  /** True for "occupied" and "hold": daylight harvesting decides, floors apply. */
  occupied: boolean;
  /** True when the previous decision was not occupied (or there was none) and this one is. */
  arrival: boolean;
  /** Level for "absence" and "off"; null while occupied (daylight decides). */
  levelPct: number | null;
  fadeMs?: number;
  /** E.g. "occupancy:hold 12m left". */
  reason: string;
  /** Epoch ms when the hold ends / the light goes off (null: not scheduled). */
  holdUntil: number | null;
  offAt: number | null;
  state: OccupancyState;
}

export function initialOccupancyState(): OccupancyState {
  return { lastPresenceAt: null, since: null, mode: null };
}

/**
 * Presence in a window: true (seen), false (readings, none present) or null
 * (no presence reading in the window).
 */
export function presenceSeen(presence: DecisionPresenceStats | null | undefined): boolean | null {
  if (presence == null) return null;
  return presence.last === true || presence.ratio > 0 || presence.transitions > 0;
}

const MINUTE_MS = 60_000;

/** Validate and fill an occupancy configuration. @throws ControlInputError */
export function resolveOccupancyConfig(input: Partial<OccupancyConfig> = {}): OccupancyConfig {
  const c = { ...DEFAULT_OCCUPANCY_CONFIG, ...stripUndefined(input) };
  const check = (key: keyof OccupancyConfig, lo: number, hi: number): void => {
    const v = c[key];
    if (!isFiniteNumber(v) || v < lo || v > hi) throw new ControlInputError(key, `must be a number in [${lo}, ${hi}]`);
  };
  check('holdMinutes', 0, 1440);
  check('vacancyOffMinutes', 0, 1440);
  check('absenceLevelPct', 0, 100);
  check('fadeDownMs', 0, 16 * 60 * 1000);
  if (typeof c.neverOff !== 'boolean') throw new ControlInputError('neverOff', 'must be true or false');
  return c;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function minutesLeft(ms: number): string {
  return `${Math.max(0, Math.ceil(ms / MINUTE_MS))}m`;
}

/**
 * One occupancy decision at `now` (epoch ms) given presence in the latest
 * window. Pure: returns the new state.
 */
export function occupancyStep(state: OccupancyState, seen: boolean | null, now: number, config: OccupancyConfig): OccupancyDecision {
  const wasOccupied = state.mode === 'occupied' || state.mode === 'hold';
  const next: OccupancyState = {
    lastPresenceAt: state.lastPresenceAt,
    since: state.since ?? now,
    mode: state.mode,
  };
  // Never moves back (a late window after a newer presence, e.g. the rules' fast path).
  if (seen === true) next.lastPresenceAt = Math.max(now, state.lastPresenceAt ?? now);
  const holdMs = config.holdMinutes * MINUTE_MS;
  const offMs = config.vacancyOffMinutes * MINUTE_MS;
  const ref = next.lastPresenceAt ?? (next.since as number);
  const elapsed = now - ref;
  const holdUntil = next.lastPresenceAt === null ? null : next.lastPresenceAt + holdMs;
  const offAllowed = !config.neverOff && seen !== null;
  const offAt = config.neverOff ? null : ref + Math.max(offMs, next.lastPresenceAt === null ? 0 : holdMs);

  let mode: OccupancyMode;
  let reason: string;
  if (seen === true) {
    mode = 'occupied';
    reason = 'occupancy:occupied';
  } else if (holdUntil !== null && now < holdUntil) {
    mode = 'hold';
    reason = `occupancy:hold ${minutesLeft(holdUntil - now)} left`;
  } else if (offAllowed && elapsed >= offMs) {
    mode = 'off';
    reason = `occupancy:off (vacant ${Math.floor(elapsed / MINUTE_MS)}m)`;
  } else {
    mode = 'absence';
    const why = seen === null ? ' no-data' : config.neverOff ? ' never-off' : '';
    reason = `occupancy:absence ${config.absenceLevelPct}%${why}`;
  }
  next.mode = mode;
  const occupied = mode === 'occupied' || mode === 'hold';
  const decision: OccupancyDecision = {
    mode,
    occupied,
    arrival: occupied && !wasOccupied,
    levelPct: mode === 'absence' ? config.absenceLevelPct : mode === 'off' ? 0 : null,
    reason,
    holdUntil,
    offAt,
    state: next,
  };
  if (!occupied) decision.fadeMs = config.fadeDownMs;
  return decision;
}
