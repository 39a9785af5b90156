/**
 * Schedule rules: what an accepted suggestion does to a decision. The rules
 * controller (lib/control/rules.ts) and ai-decide apply them to the proposal
 * BEFORE the accessibility and safety clamps, so the clamps always win:
 *
 * - `slot`: while occupied, inside [startMinute, endMinute) on its day type,
 *   the output is held within [minIntensityPct, maxIntensityPct] and the
 *   colour is `kelvin` (instead of the circadian one);
 * - `target-lux`: the zone's daylight target while occupied (a maintained
 *   minimum); a rule mined with `settledLux` carries the least lux people
 *   accept, and the loop's band starts there with the width in lux of the
 *   zone's own band (targetLoop): the rule gives the light people asked
 *   for, not more;
 * - `hold`: the zone's occupancy hold, minutes; with `then: "off"` the
 *   light goes off when the hold has run out, without the absence level
 *   (the rules controller shortens the vacancy delay to the hold; a zone set
 *   to "never off", or one whose presence sensor is silent, keeps its
 *   absence level).
 *
 * Each rule in effect is named in the decision's reason as
 * `schedule:<rule id> ...` (rule id "suggestion:<id>").
 *
 * Rules reach the controllers as a message (topic "schedule-rules", payload
 * {rules}: the full active set), validated by parseScheduleRules.
 */
import { ACCEPTED_KELVIN_MAX, ACCEPTED_KELVIN_MIN, isPlainObject } from '../contracts';
import { hhmm, inDayType } from './mine';
import { AFTER_HOLD, DAY_TYPES, LearningInputError, type ScheduleRule, type SlotChange, type Suggestion } from './types';

type SlotRule = Extract<ScheduleRule, { kind: 'slot' }>;
type TargetRule = Extract<ScheduleRule, { kind: 'target-lux' }>;
type HoldRule = Extract<ScheduleRule, { kind: 'hold' }>;

/** Most rules one message may carry. */
export const MAX_SCHEDULE_RULES = 500;

const num = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

/** The rule an accepted suggestion becomes. */
export function ruleOf(s: Pick<Suggestion, 'id' | 'zone' | 'change'>): ScheduleRule {
  return { ...s.change, id: `suggestion:${s.id}`, zone: s.zone } as ScheduleRule;
}

/**
 * Validates a "schedule-rules" payload ({rules: [...]} or the array itself).
 * @throws LearningInputError naming the first bad rule.
 */
export function parseScheduleRules(payload: unknown): ScheduleRule[] {
  const list = isPlainObject(payload) ? payload.rules : payload;
  if (!Array.isArray(list)) throw new LearningInputError('schedule rules: expected {rules: [...]}');
  if (list.length > MAX_SCHEDULE_RULES) throw new LearningInputError(`schedule rules: at most ${MAX_SCHEDULE_RULES} rules`);
  return list.map((r: unknown, i) => {
    const bad = (why: string): LearningInputError => new LearningInputError(`schedule rules[${i}]: ${why}`);
    if (!isPlainObject(r)) throw bad('must be an object');
    if (typeof r.id !== 'string' || r.id === '' || r.id.length > 64) throw bad('id must be a string of 1-64 characters');
    if (typeof r.zone !== 'string' || r.zone === '' || r.zone.length > 200) throw bad('zone must be a string of 1-200 characters');
    const base = { id: r.id, zone: r.zone };
    switch (r.kind) {
      case 'slot': {
        if (typeof r.days !== 'string' || !(DAY_TYPES as readonly string[]).includes(r.days))
          throw bad(`days must be one of ${DAY_TYPES.join(', ')}`);
        if (!num(r.startMinute, 0, 1439) || !num(r.endMinute, 1, 1440) || r.endMinute <= r.startMinute)
          throw bad('startMinute/endMinute must be minutes of the day, start < end');
        const out: SlotRule = {
          ...base,
          kind: 'slot',
          days: r.days as SlotChange['days'],
          startMinute: r.startMinute,
          endMinute: r.endMinute,
        };
        if (r.minIntensityPct !== undefined) {
          if (!num(r.minIntensityPct, 0, 100)) throw bad('minIntensityPct must be 0-100');
          out.minIntensityPct = r.minIntensityPct;
        }
        if (r.maxIntensityPct !== undefined) {
          if (!num(r.maxIntensityPct, 0, 100)) throw bad('maxIntensityPct must be 0-100');
          out.maxIntensityPct = r.maxIntensityPct;
        }
        if (out.minIntensityPct !== undefined && out.maxIntensityPct !== undefined && out.minIntensityPct > out.maxIntensityPct)
          throw bad('minIntensityPct above maxIntensityPct');
        if (r.kelvin !== undefined) {
          if (!num(r.kelvin, ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX))
            throw bad(`kelvin must be ${ACCEPTED_KELVIN_MIN}-${ACCEPTED_KELVIN_MAX}`);
          out.kelvin = r.kelvin;
        }
        return out;
      }
      case 'target-lux': {
        if (!num(r.targetLux, 1, 100_000)) throw bad('targetLux must be 1-100000');
        const out: TargetRule = {
          ...base,
          kind: 'target-lux',
          targetLux: r.targetLux,
          fromLux: num(r.fromLux, 0, 100_000) ? r.fromLux : 0,
        };
        if (r.settledLux !== undefined) {
          if (!num(r.settledLux, r.targetLux, 100_000)) throw bad('settledLux must be targetLux-100000');
          out.settledLux = r.settledLux;
        }
        return out;
      }
      case 'hold': {
        if (!num(r.holdMinutes, 0, 1440)) throw bad('holdMinutes must be 0-1440');
        const out: HoldRule = {
          ...base,
          kind: 'hold',
          holdMinutes: r.holdMinutes,
          fromMinutes: num(r.fromMinutes, 0, 1440) ? r.fromMinutes : 0,
        };
        if (r.then !== undefined) {
          if (typeof r.then !== 'string' || !(AFTER_HOLD as readonly string[]).includes(r.then))
            throw bad(`then must be one of ${AFTER_HOLD.join(', ')} (or absent)`);
          out.then = r.then as HoldRule['then'];
        }
        return out;
      }
      default:
        throw bad('kind must be slot, target-lux or hold');
    }
  });
}

/** The zone's rules that apply now (latest rule of each kind wins; slots: the first that covers the time). */
export interface ZoneSchedule {
  slot: SlotRule | null;
  targetLux: TargetRule | null;
  hold: HoldRule | null;
}

/** The rules of `zone` in effect at local minute / weekday. */
export function scheduleAt(rules: readonly ScheduleRule[] | undefined, zone: string, minuteOfDay: number, weekday: number): ZoneSchedule {
  const out: ZoneSchedule = { slot: null, targetLux: null, hold: null };
  if (!rules) return out;
  for (const r of rules) {
    if (r.zone !== zone) continue;
    if (r.kind === 'target-lux') out.targetLux = r;
    else if (r.kind === 'hold') out.hold = r;
    else if (out.slot === null && inDayType(r.days, weekday) && minuteOfDay >= r.startMinute && minuteOfDay < r.endMinute) out.slot = r;
  }
  return out;
}

/** The hold rule of a zone (time does not matter), or null. */
export function holdRuleOf(rules: readonly ScheduleRule[] | undefined, zone: string): HoldRule | null {
  return scheduleAt(rules, zone, -1, -1).hold;
}

/** "schedule:suggestion:3 weekdays 14:00-16:00 cap 45% 3000K" */
export function slotNote(r: SlotRule): string {
  const parts = [`schedule:${r.id} ${r.days} ${hhmm(r.startMinute)}-${hhmm(r.endMinute)}`];
  if (r.minIntensityPct !== undefined) parts.push(`floor ${Math.round(r.minIntensityPct)}%`);
  if (r.maxIntensityPct !== undefined) parts.push(`cap ${Math.round(r.maxIntensityPct)}%`);
  if (r.kelvin !== undefined) parts.push(`${Math.round(r.kelvin)}K`);
  return parts.join(' ');
}

/** What of the zone's daylight loop a target-lux rule reads (lib/control/daylight.ts DaylightConfig). */
export interface TargetLoopBase {
  /** The zone's own target, lux. */
  targetLux: number;
  targetIsMinimum: boolean;
  deadbandPct: number;
}

/**
 * The daylight target and deadband a target-lux rule gives the zone's loop.
 * The loop (lib/control/daylight.ts, d = deadbandPct / 100) aims at
 * target x (1 + d), steps up under target x (1 + d/2) and dims above
 * target x (1 + 2d) when its target is a minimum.
 *
 * A rule mined with `settledLux` carries in targetLux the least light people
 * accept (mine.ts): the loop's band is moved up so that its lower edge is
 * that lux, and keeps the width in lux the zone's own band has (1.5 d x the
 * zone's target: 75 lx for 500 lx and 10 %). The width is what the
 * integrator tuned against the room's daylight noise, which is in lux, not a
 * share of the target. Scaling the zone's deadband to the higher target, as
 * the rule did before, widened the band with it and lifted its lower edge
 * above the least accepted lux: a 600 lx rule with people settling at 630 lx
 * held the room in 601..687 lx, and rising daylight pushed it up to 687 lx
 * before the loop dimmed, more light than anyone asked for (learning bench:
 * office +3.3 % energy over 4 weeks against no learning; with this band
 * +1.0 %). A narrower band, e.g. up to the settled lux only, saves more
 * (-3.6 %) but makes the loop hunt on cloud noise (1.7 times the visible
 * steps of the scaled band; this band 1.3 times): not what people in the
 * room want either.
 *
 * Without settledLux (a rule stored before it existed), or for a zone whose
 * target is a midpoint: the rule's target with the zone's deadband.
 */
export function targetLoop(r: TargetRule, loop: TargetLoopBase): { targetLux: number; deadbandPct: number } {
  const plain = { targetLux: r.targetLux, deadbandPct: loop.deadbandPct };
  if (r.settledLux === undefined || !loop.targetIsMinimum) return plain;
  const width = 1.5 * (loop.deadbandPct / 100) * loop.targetLux;
  // Solve x (1 + d'/2) = targetLux and x (1 + 2 d') = targetLux + width: x d' = width / 1.5.
  const xd = width / 1.5;
  const x = r.targetLux - xd / 2;
  if (!(xd > 0) || !(x > 0)) return plain;
  return { targetLux: x, deadbandPct: (xd / x) * 100 };
}

/** "schedule:suggestion:4 target 600 lx aim 625 lx" (the aim when the loop's target differs from the rule's). */
export function targetNote(r: TargetRule, loop: { targetLux: number; targetIsMinimum: boolean; deadbandPct: number }): string {
  const aimLux = loop.targetIsMinimum ? loop.targetLux * (1 + loop.deadbandPct / 100) : loop.targetLux;
  const aim = Math.abs(loop.targetLux - r.targetLux) >= 0.5 ? ` aim ${Math.round(aimLux)} lx` : '';
  return `schedule:${r.id} target ${Math.round(r.targetLux)} lx${aim}`;
}

/** "schedule:suggestion:5 hold 1 min then off"; `off`: whether the "then off" part is in effect. */
export function holdNote(r: HoldRule, off: boolean): string {
  return `schedule:${r.id} hold ${r.holdMinutes} min${off ? ' then off' : ''}`;
}

/** A slot rule on a proposal: output within its band, its colour. */
export function applySlot(intensity: number, cct: number, r: SlotRule): { intensity: number; cct: number } {
  let i = intensity;
  if (r.minIntensityPct !== undefined) i = Math.max(i, r.minIntensityPct);
  if (r.maxIntensityPct !== undefined) i = Math.min(i, r.maxIntensityPct);
  return { intensity: i, cct: r.kelvin ?? cct };
}

/** What the AI payload carries of the zone's schedule (inside `hints`, so it is trimmed with them under the cap). */
export interface AiScheduleHint {
  minIntensityPct?: number;
  maxIntensityPct?: number;
  kelvin?: number;
  targetLux?: number;
}

export function aiScheduleHint(s: ZoneSchedule): AiScheduleHint | undefined {
  const h: AiScheduleHint = {};
  if (s.slot?.minIntensityPct !== undefined) h.minIntensityPct = s.slot.minIntensityPct;
  if (s.slot?.maxIntensityPct !== undefined) h.maxIntensityPct = s.slot.maxIntensityPct;
  if (s.slot?.kelvin !== undefined) h.kelvin = s.slot.kelvin;
  if (s.targetLux) h.targetLux = s.targetLux.targetLux;
  return Object.keys(h).length > 0 ? h : undefined;
}
