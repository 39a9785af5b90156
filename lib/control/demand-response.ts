/**
 * Demand response: a grid signal that asks the lighting to shed load for a
 * while (California Title 24 asks lighting controls to cut at least 15 % of
 * the installed lighting power on such a signal).
 *
 * While an event is active, every automatic setpoint (rules, AI) is capped at
 * `100 - reductionPct` percent of full output: `shedSetpoint` runs on the
 * decider's proposal just before the clamps, so the clamps still act on the
 * result and their floors win (the occupied floor and a profile's minimum
 * intensity are never undercut). Manual setpoints (source "manual") are never
 * touched: a person's choice stays theirs during an event. The event ends by
 * itself at `until` (`activeEvent` is null from then on); level 0 ends it
 * earlier.
 *
 *   const ev = parseDemandResponse({ level: 'shed', minutes: 30 }, Date.now());   // null = end the event
 *   const sp = shedSetpoint(proposed, ev, now);                                    // then applyClamps(sp, ...)
 */
import { isFiniteNumber, isPlainObject, type Setpoint } from '../contracts';
import { ControlInputError, round1 } from './types';

/** Title 24's minimum shed, percent of full output. */
export const DEFAULT_SHED_PCT = 15;
/** An event without `until` or `minutes` lasts this long. */
export const DEFAULT_EVENT_MINUTES = 60;
/** Longest event, minutes (7 days). */
export const MAX_EVENT_MINUTES = 10_080;

/** The message (msg.topic "demand-response") that starts (or, with level 0, ends) an event. */
export const DEMAND_RESPONSE_TOPIC = 'demand-response';

export interface DemandResponseEvent {
  /** Share of full output shed, percent (1-100): automatic output is capped at 100 - reductionPct. */
  reductionPct: number;
  /** When the event started, epoch ms. */
  startedAt: number;
  /** When it ends by itself, epoch ms. */
  until: number;
  /** Who asked: `http`, `mqtt`, ... */
  source: string;
}

/** Ends the active event now (level 0, "normal", "end", or `{end: true}`). */
export interface DemandResponseEnd {
  end: true;
  at: number;
  source: string;
}

function fail(field: string, detail: string): never {
  throw new ControlInputError(field, detail);
}

/** The reduction a level names: "shed" = defaultShedPct, a number 0-100 = that reduction; 0 = end. */
function levelPct(level: unknown, defaultShedPct: number): number {
  if (level === undefined || level === null || level === 'shed') return defaultShedPct;
  if (level === 'normal' || level === 'end') return 0;
  const n = typeof level === 'string' && level.trim() !== '' ? Number(level) : level;
  if (!isFiniteNumber(n) || n < 0 || n > 100)
    fail('level', `must be "shed", "normal" or a reduction 0-100 %, got ${JSON.stringify(level)?.slice(0, 40)}`);
  return n;
}

/** `until`: ISO 8601 text or epoch ms; `minutes`: from now. */
function endOf(p: Record<string, unknown>, now: number): number {
  const { until, minutes } = p;
  if (until !== undefined && until !== null && minutes !== undefined && minutes !== null) fail('until', 'give until or minutes, not both');
  if (minutes !== undefined && minutes !== null) {
    const m = typeof minutes === 'string' && minutes.trim() !== '' ? Number(minutes) : minutes;
    if (!isFiniteNumber(m) || m <= 0 || m > MAX_EVENT_MINUTES) fail('minutes', `must be a number of minutes in (0, ${MAX_EVENT_MINUTES}]`);
    return now + Math.round(m * 60_000);
  }
  if (until === undefined || until === null) return now + DEFAULT_EVENT_MINUTES * 60_000;
  let at: number;
  if (isFiniteNumber(until)) at = until;
  else if (typeof until === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(until.trim())) at = Date.parse(until.trim());
  else fail('until', `must be an ISO 8601 time (2026-07-01T18:00:00Z) or epoch ms, got ${JSON.stringify(until)?.slice(0, 40)}`);
  if (!Number.isFinite(at)) fail('until', 'is not a valid time');
  if (at <= now) fail('until', 'is not in the future');
  if (at - now > MAX_EVENT_MINUTES * 60_000) fail('until', `is more than ${MAX_EVENT_MINUTES / 1440} days ahead`);
  return at;
}

/**
 * A demand response request `{level?, until? | minutes?, source?}` as an event,
 * or as the end of the event (level 0 / "normal" / "end", or `{end: true}`).
 * Level: "shed" (default) = `defaultShedPct`; a number = that reduction in percent.
 * @throws ControlInputError naming the field for anything else.
 */
export function parseDemandResponse(
  payload: unknown,
  now: number,
  defaultShedPct: number = DEFAULT_SHED_PCT,
): DemandResponseEvent | DemandResponseEnd {
  if (!isPlainObject(payload)) fail('payload', 'must be an object {level, until | minutes}');
  const source = typeof payload.source === 'string' && /^[A-Za-z0-9_.:-]{1,32}$/.test(payload.source) ? payload.source : 'message';
  if (payload.end === true) return { end: true, at: now, source };
  const reductionPct = levelPct(payload.level, defaultShedPct);
  if (reductionPct === 0) return { end: true, at: now, source };
  return { reductionPct: round1(reductionPct), startedAt: now, until: endOf(payload, now), source };
}

export function isDemandResponseEnd(v: DemandResponseEvent | DemandResponseEnd): v is DemandResponseEnd {
  return (v as DemandResponseEnd).end === true;
}

/** The event if it is still running at `now`, else null. */
export function activeEvent(event: DemandResponseEvent | null | undefined, now: number): DemandResponseEvent | null {
  return event != null && now >= event.startedAt && now < event.until ? event : null;
}

/** Highest automatic output during the event, percent. */
export function shedCapPct(event: DemandResponseEvent): number {
  return Math.max(0, 100 - event.reductionPct);
}

/** The reason tag of an active event, e.g. `demand-response:shed 15% (cap 85%)`. */
export function demandResponseReason(event: DemandResponseEvent): string {
  return `demand-response:shed ${event.reductionPct}% (cap ${shedCapPct(event)}%)`;
}

/**
 * The proposal with its intensity capped by the active event (automatic
 * sources only), the event named in its reason. Without an active event, or
 * for a manual setpoint, the proposal itself. Apply the clamps afterwards:
 * their floors win over the cap.
 */
export function shedSetpoint<T extends Pick<Setpoint, 'intensity' | 'reason' | 'source'>>(
  proposed: T,
  event: DemandResponseEvent | null | undefined,
  now: number,
): T {
  const ev = activeEvent(event, now);
  if (ev === null || proposed.source === 'manual') return proposed;
  const tag = demandResponseReason(ev);
  const reason = typeof proposed.reason === 'string' ? proposed.reason : '';
  const out = { ...proposed, reason: reason.includes(tag) ? reason : reason === '' ? tag : `${reason}; ${tag}` };
  if (isFiniteNumber(proposed.intensity)) out.intensity = Math.min(proposed.intensity, shedCapPct(ev));
  return out;
}

/** A saved event (node context) back, or null when it is not one or is over. */
export function restoreEvent(raw: unknown, now: number): DemandResponseEvent | null {
  if (!isPlainObject(raw)) return null;
  const { reductionPct, startedAt, until, source } = raw;
  if (!isFiniteNumber(reductionPct) || reductionPct <= 0 || reductionPct > 100) return null;
  if (!isFiniteNumber(startedAt) || !isFiniteNumber(until) || until <= startedAt) return null;
  const ev: DemandResponseEvent = { reductionPct, startedAt, until, source: typeof source === 'string' ? source : 'message' };
  return activeEvent(ev, now) ?? (now < startedAt ? ev : null);
}

/** Minutes of [from, to) covered by the events (overlaps counted once); `endedAt` cuts an event short. */
export function shedMinutes(
  events: ReadonlyArray<{ startedAt: number; until: number; endedAt?: number | null }>,
  from: number,
  to: number,
): number {
  const spans = events
    .map((e) => [Math.max(from, e.startedAt), Math.min(to, e.until, e.endedAt ?? Infinity)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of spans) {
    const start = Math.max(a, end);
    if (b > start) total += b - start;
    end = Math.max(end, b);
  }
  return Math.round((total / 60_000) * 10) / 10;
}
