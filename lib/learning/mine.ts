/**
 * Pattern mining: recurring manual overrides of a zone become candidate
 * suggestions. Deterministic (same history, same clock, same candidates) and
 * plain arithmetic: medians, bands and day counts, no model.
 *
 * Three patterns, each per zone, over the last `lookbackDays`:
 *
 * - `slot` (a time-slot preference). Overrides (not "off") on the days of one
 *   day type (weekdays or weekend) are grouped in slots of `slotHours` that
 *   start on the hour; per day the last override in the slot counts (the
 *   setting people settled on). The days whose intensity lies within
 *   +-intensityBandPct of the median and whose colour lies within
 *   +-kelvinBandK of the median agree; support = those days, confidence =
 *   support / the active days of that day type (days the zone was occupied).
 *   The change: compared with the automatic decision just before each
 *   override (at most 60 min earlier), mostly downward overrides give a cap
 *   (the highest agreeing value), mostly upward ones a floor (the lowest),
 *   and a colour when the median differs from the automatic colour by at
 *   least minKelvinShiftK. The slot starts on the hour of the earliest
 *   agreeing override. A colour-only override (output within 2 % of the
 *   automatic one, colour at least minKelvinShiftK away) agrees on its colour alone.
 * - `target-lux` (the target is too low), mined first. Upward overrides (at
 *   least minUpwardPct over the automatic level just before), with the lux of
 *   the window before them agreeing (coefficient of variation <=
 *   maxLuxSpread) and the lux after them too, at least minLuxRise above the
 *   lux before. The change: the least light people accept, not the level
 *   they overshoot to. Every lux at which somebody still turned the light up
 *   is too little, so the least accepted lies above the highest of them (a
 *   lower bound); the lux they sat under for a quiet stretch (10 min under
 *   the controller's light, no override in it or just after) was enough, so
 *   it lies at or below the lowest such stretch's highest lux (an upper
 *   bound, quietLuxCeiling). The target is the lower bound rounded up to
 *   10 lx, never above the upper bound (a turn-up at a lux people sat under
 *   elsewhere without complaint does not count: a task that once needed
 *   more), at most maxTargetFactor times the current target. It was halfway
 *   between the lux before and after, which lit the room above what people
 *   asked for whenever they overshot; if the estimate is too low they turn
 *   the light up again and the next mining sees a higher lower bound.
 *   `settledLux` is the lux they set (median after); a rule with it moves
 *   the loop's band to start at the target (schedule.ts targetLoop). The
 *   overrides it explains are left out of the slot pattern.
 * - `hold` (the hold is too long). Manual "off" (<= offPct) at most
 *   quickOffMinutes after the last presence and before the hold ran out; the
 *   change: a hold of the 25th percentile of those gaps, whole minutes down
 *   (at least minHoldMinutes), then off (`then: "off"`): people switched the
 *   light off, so the light goes off before most of them reach for the
 *   switch instead of dimming to the absence level first.
 *
 * Every pattern needs support >= minSupportDays and confidence >=
 * minConfidence. Overrides at random times with random values spread over
 * slots and values, so no slot reaches the support; the negative-control
 * tests and the bench check that.
 */
import {
  DEFAULT_THRESHOLDS,
  type AutoDecision,
  type Candidate,
  type DayType,
  type EvidenceRow,
  type History,
  type MiningThresholds,
  type OverrideEvent,
  type SlotChange,
  type WindowSample,
  type ZoneSettings,
} from './types';

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;
/** The automatic decision an override is compared with is at most this old, ms. */
const PRECEDING_DECISION_MS = 60 * MIN_MS;
/** Window before an upward override: ends at most this long before it, ms. */
const LUX_BEFORE_MS = 10 * MIN_MS;
/** Window after an upward override: starts at most this long after it, ms. */
const LUX_AFTER_MS = 15 * MIN_MS;
/** A quiet stretch (people sat under the light without complaint) lasts at least this long, ms. */
const QUIET_STRETCH_MS = 10 * MIN_MS;
/** ... and no override comes this soon after it (a complaint that took a moment), ms. */
const QUIET_AFTER_MS = 5 * MIN_MS;
/** Windows of a stretch are back to back: at most this gap between them, ms. */
const STRETCH_GAP_MS = MIN_MS;
/** Two rows of one manual change (a manual_overrides row and its decision): same zone, this close, same intensity. */
const SAME_CHANGE_MS = 2_000;

export interface LocalTime {
  minuteOfDay: number;
  weekday: number;
}

export interface MineOptions {
  now: number;
  /** Local clock of an instant (lib/features LocalClock.at). */
  clock: (ts: number) => LocalTime;
  /** The zone's current target lux and hold. */
  settingsOf: (zone: string) => ZoneSettings;
  thresholds?: Partial<MiningThresholds>;
}

interface Local {
  minute: number;
  weekday: number;
  /** A local calendar day number (consistent within one time zone). */
  day: number;
}

function localOf(ts: number, clock: (ts: number) => LocalTime): Local {
  const l = clock(ts);
  const minute = Math.floor(l.minuteOfDay);
  return { minute, weekday: l.weekday, day: Math.floor((ts - minute * MIN_MS + 12 * 3_600_000) / DAY_MS) };
}

export function inDayType(days: DayType, weekday: number): boolean {
  if (days === 'daily') return true;
  const weekend = weekday === 0 || weekday === 6;
  return days === 'weekend' ? weekend : !weekend;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i] as number;
}

export function hhmm(minute: number): string {
  const m = Math.round(minute);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

const round = (v: number, step: number): number => Math.round(v / step) * step;

/** Rows of one manual change stored twice (manual_overrides and a manual decision) count once. */
export function dedupeOverrides(rows: readonly OverrideEvent[]): OverrideEvent[] {
  const sorted = [...rows].sort((a, b) =>
    a.zone < b.zone
      ? -1
      : a.zone > b.zone
        ? 1
        : a.ts - b.ts || (a.table === b.table ? a.id - b.id : a.table === 'manual_overrides' ? -1 : 1),
  );
  const out: OverrideEvent[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (
      last &&
      last.zone === r.zone &&
      r.ts - last.ts <= SAME_CHANGE_MS &&
      Math.abs(r.intensity - last.intensity) < 0.5 &&
      last.table !== r.table
    )
      continue;
    out.push(r);
  }
  return out;
}

/** The latest automatic decision of the zone at most 60 min before ts (decisions sorted by ts). */
function precedingDecision(decisions: readonly AutoDecision[], ts: number): AutoDecision | null {
  let found: AutoDecision | null = null;
  for (const d of decisions) {
    if (d.ts > ts) break;
    if (d.ts >= ts - PRECEDING_DECISION_MS) found = d;
  }
  return found;
}

interface ZoneData {
  zone: string;
  overrides: Array<OverrideEvent & { local: Local }>;
  decisions: AutoDecision[];
  windows: WindowSample[];
  /** Local days the zone was occupied (a window with presence), or had any override or decision. */
  activeDays: Map<number, number>;
}

function evidenceOfOverride(o: OverrideEvent): EvidenceRow {
  return { table: o.table, id: o.id, ts: o.ts, note: `set ${Math.round(o.intensity)} %${o.cct !== null ? ` ${Math.round(o.cct)} K` : ''}` };
}

function countDays(active: Map<number, number>, days: DayType): number {
  let n = 0;
  for (const weekday of active.values()) if (inDayType(days, weekday)) n += 1;
  return n;
}

function mineSlots(z: ZoneData, t: MiningThresholds, explained: Set<OverrideEvent>): Candidate[] {
  const out: Candidate[] = [];
  const slotMin = t.slotHours * 60;
  for (const days of ['weekdays', 'weekend'] as const) {
    const eligible = countDays(z.activeDays, days);
    if (eligible < t.minSupportDays) continue;
    let pool = z.overrides.filter((o) => o.intensity > t.offPct && inDayType(days, o.local.weekday) && !explained.has(o));
    while (out.length < t.maxPerZone && pool.length >= t.minSupportDays) {
      let best: { agree: Array<OverrideEvent & { local: Local }>; start: number } | null = null;
      for (let start = 0; start + slotMin <= 1440; start += 60) {
        const perDay = new Map<number, OverrideEvent & { local: Local }>();
        for (const o of pool) if (o.local.minute >= start && o.local.minute < start + slotMin) perDay.set(o.local.day, o); // pool is in time order: the last wins
        if (perDay.size < t.minSupportDays) continue;
        const last = [...perDay.values()];
        // A colour-only override (output as the automatic one) agrees on its colour alone.
        const colourOnly = (o: OverrideEvent): boolean => {
          const before = precedingDecision(z.decisions, o.ts);
          return (
            before !== null &&
            Math.abs(o.intensity - before.intensity) <= 2 &&
            o.cct !== null &&
            before.cct !== null &&
            Math.abs(o.cct - before.cct) >= t.minKelvinShiftK
          );
        };
        const mi = median(last.map((o) => o.intensity));
        const cs = last.filter((o) => o.cct !== null).map((o) => o.cct as number);
        const mk = cs.length > 0 ? median(cs) : null;
        const agree = last.filter(
          (o) =>
            (Math.abs(o.intensity - mi) <= t.intensityBandPct || colourOnly(o)) &&
            (o.cct === null || mk === null || Math.abs(o.cct - mk) <= t.kelvinBandK),
        );
        if (!best || agree.length > best.agree.length) best = { agree, start };
      }
      if (!best || best.agree.length < t.minSupportDays) break;
      const confidence = best.agree.length / eligible;
      const slotStart = Math.floor(Math.min(...best.agree.map((o) => o.local.minute)) / 60) * 60;
      const windowStart = best.start;
      // Whatever the outcome, this slot's overrides are done with.
      const outside = (o: { local: Local }, from: number): boolean => o.local.minute < from || o.local.minute >= from + slotMin;
      pool = pool.filter((o) => outside(o, windowStart) && outside(o, slotStart));
      if (confidence < t.minConfidence) continue;
      const evidence: EvidenceRow[] = [];
      let up = 0;
      let down = 0;
      const autoK: number[] = [];
      for (const o of best.agree) {
        evidence.push(evidenceOfOverride(o));
        const before = precedingDecision(z.decisions, o.ts);
        if (!before) continue;
        evidence.push({
          table: 'decisions',
          id: before.id,
          ts: before.ts,
          note: `automatic ${Math.round(before.intensity)} %${before.cct !== null ? ` ${Math.round(before.cct)} K` : ''}`,
        });
        if (o.intensity > before.intensity + 2) up += 1;
        else if (o.intensity < before.intensity - 2) down += 1;
        if (before.cct !== null) autoK.push(before.cct);
      }
      const values = best.agree.map((o) => o.intensity);
      const lo = Math.round(Math.min(...values));
      const hi = Math.round(Math.max(...values));
      const n = best.agree.length;
      const change: SlotChange = { kind: 'slot', days, startMinute: slotStart, endMinute: Math.min(1440, slotStart + slotMin) };
      if (down * 3 >= n * 2) change.maxIntensityPct = hi;
      else if (up * 3 >= n * 2) change.minIntensityPct = lo;
      else if (up + down === 0 && autoK.length === 0) {
        change.minIntensityPct = lo;
        change.maxIntensityPct = hi;
      }
      const ks = best.agree.filter((o) => o.cct !== null).map((o) => o.cct as number);
      const mk = ks.length > 0 ? round(median(ks), 100) : null;
      if (mk !== null && (autoK.length === 0 || Math.abs(mk - median(autoK)) >= t.minKelvinShiftK)) change.kelvin = mk;
      if (change.minIntensityPct === undefined && change.maxIntensityPct === undefined && change.kelvin === undefined) continue;
      for (const o of best.agree) explained.add(o);
      const kText = ks.length > 0 ? ` and ${round(median(ks), 100)} K` : '';
      out.push({
        zone: z.zone,
        kind: 'slot',
        patternKey: `${z.zone}|slot|${days}|${hhmm(slotStart)}`,
        summary: `${z.zone}, ${days} ${hhmm(change.startMinute)}-${hhmm(change.endMinute)}: people set ${lo === hi ? `${lo}` : `${lo}-${hi}`} %${kText} on ${n} of the last ${eligible} days`,
        supportDays: n,
        confidence: round(confidence, 0.01),
        evidence,
        change,
      });
    }
  }
  return out;
}

/** The window of the zone ending at most `before` ms before ts (latest), or starting at most `after` ms after ts (earliest). */
function windowNear(windows: readonly WindowSample[], ts: number, side: 'before' | 'after'): WindowSample | null {
  if (side === 'before') {
    let found: WindowSample | null = null;
    for (const w of windows) if (w.windowEnd <= ts && w.windowEnd >= ts - LUX_BEFORE_MS && w.luxMean !== null) found = w;
    return found;
  }
  for (const w of windows) if (w.windowStart > ts && w.windowStart <= ts + LUX_AFTER_MS && w.luxMean !== null) return w;
  return null;
}

/**
 * The lowest lux people sat under without complaint: over every quiet stretch
 * of the zone (at least QUIET_STRETCH_MS of back-to-back occupied windows
 * with a lux reading, no override in it nor QUIET_AFTER_MS after it, and no
 * automatic decision in it blocked: the light was the controller's, not the
 * one somebody set by hand and would not set again while it holds), the
 * highest lux of the stretch; the lowest of those. Null without such a
 * stretch. An upper bound of the least light they accept.
 */
function quietLuxCeiling(z: ZoneData): number | null {
  const ws = z.windows;
  const overrides = z.overrides.map((o) => o.ts);
  const blocked = z.decisions.filter((d) => !d.applied).map((d) => d.ts);
  // Both sorted by time: is there one in [from, to]?
  const anyIn = (sorted: readonly number[], from: number, to: number): boolean => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as number) < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && (sorted[lo] as number) <= to;
  };
  const usable = (w: WindowSample): boolean => (w.presenceRatio ?? 0) > 0 && w.luxMean !== null;
  let best: number | null = null;
  for (let i = 0; i < ws.length; i++) {
    const first = ws[i] as WindowSample;
    if (!usable(first)) continue;
    let max = first.luxMean as number;
    let end = first.windowEnd;
    for (let j = i + 1; end - first.windowStart < QUIET_STRETCH_MS && j < ws.length; j++) {
      const w = ws[j] as WindowSample;
      if (!usable(w) || w.windowStart - end > STRETCH_GAP_MS) break;
      max = Math.max(max, w.luxMean as number);
      end = Math.max(end, w.windowEnd);
    }
    if (end - first.windowStart < QUIET_STRETCH_MS) continue;
    if (anyIn(overrides, first.windowStart, end + QUIET_AFTER_MS) || anyIn(blocked, first.windowStart, end)) continue;
    if (best === null || max < best) best = max;
  }
  return best;
}

function mineTargetLux(z: ZoneData, t: MiningThresholds, settings: ZoneSettings, explained: Set<OverrideEvent>): Candidate | null {
  const eligible = z.activeDays.size;
  if (eligible < t.minSupportDays) return null;
  const perDay = new Map<number, { o: OverrideEvent; before: AutoDecision; luxBefore: WindowSample; luxAfter: WindowSample }>();
  for (const o of z.overrides) {
    if (explained.has(o) || perDay.has(o.local.day)) continue;
    const before = precedingDecision(z.decisions, o.ts);
    if (!before || o.intensity < before.intensity + t.minUpwardPct) continue;
    const luxBefore = windowNear(z.windows, o.ts, 'before');
    const luxAfter = windowNear(z.windows, o.ts, 'after');
    if (!luxBefore || !luxAfter) continue;
    perDay.set(o.local.day, { o, before, luxBefore, luxAfter });
  }
  const rows = [...perDay.values()];
  if (rows.length < t.minSupportDays) return null;
  const confidence = rows.length / eligible;
  if (confidence < t.minConfidence) return null;
  const pre = rows.map((r) => r.luxBefore.luxMean as number);
  const mean = pre.reduce((a, b) => a + b, 0) / pre.length;
  const sd = Math.sqrt(pre.reduce((a, b) => a + (b - mean) ** 2, 0) / pre.length);
  if (mean <= 0 || sd / mean > t.maxLuxSpread) return null;
  // The change must have raised the lux, the same way every time (a random override does neither).
  const post = rows.map((r) => r.luxAfter.luxMean as number);
  const postMean = post.reduce((a, b) => a + b, 0) / post.length;
  const postSd = Math.sqrt(post.reduce((a, b) => a + (b - postMean) ** 2, 0) / post.length);
  if (postMean <= 0 || postSd / postMean > t.maxLuxSpread) return null;
  const wanted = median(post);
  if (wanted < median(pre) * (1 + t.minLuxRise)) return null;
  // The least light people accept (see the file comment): above every lux they still turned the light up at, up to the
  // lowest lux they sat under for a quiet stretch. A turn-up at a lux they sat under elsewhere without complaint says
  // nothing about the least they accept (a task that once needed more), so it does not lift the estimate.
  const accepted = quietLuxCeiling(z);
  const complained = pre.filter((lux) => accepted === null || lux < accepted);
  if (complained.length === 0) return null;
  const least = Math.ceil(Math.max(...complained) / 10) * 10;
  const targetLux = Math.min(
    least,
    accepted === null ? least : Math.floor(accepted / 10) * 10,
    Math.floor(settings.targetLux * t.maxTargetFactor),
  );
  if (targetLux < settings.targetLux * 1.05) return null;
  for (const r of rows) explained.add(r.o);
  const evidence: EvidenceRow[] = [];
  for (const r of rows) {
    evidence.push(evidenceOfOverride(r.o));
    evidence.push({ table: 'decisions', id: r.before.id, ts: r.before.ts, note: `automatic ${Math.round(r.before.intensity)} %` });
    evidence.push({
      table: 'feature_windows',
      id: r.luxBefore.id,
      ts: r.luxBefore.windowEnd,
      note: `lux ${Math.round(r.luxBefore.luxMean as number)} before`,
    });
    evidence.push({
      table: 'feature_windows',
      id: r.luxAfter.id,
      ts: r.luxAfter.windowStart,
      note: `lux ${Math.round(r.luxAfter.luxMean as number)} after`,
    });
  }
  return {
    zone: z.zone,
    kind: 'target-lux',
    patternKey: `${z.zone}|target-lux`,
    summary: `${z.zone}: people turned the light up when it was about ${round(median(pre), 10)} lx, at most ${Math.round(Math.max(...complained))} lx (target ${settings.targetLux} lx) on ${rows.length} of the last ${eligible} days${accepted !== null ? `, sat under ${Math.round(accepted)} lx without complaint` : ''}; they settled near ${round(wanted, 10)} lx`,
    supportDays: rows.length,
    confidence: round(confidence, 0.01),
    evidence,
    change: { kind: 'target-lux', targetLux, fromLux: settings.targetLux, settledLux: Math.max(targetLux, round(wanted, 10)) },
  };
}

function mineHold(z: ZoneData, t: MiningThresholds, settings: ZoneSettings): Candidate | null {
  const eligible = z.activeDays.size;
  if (eligible < t.minSupportDays) return null;
  const occupied = z.windows.filter((w) => (w.presenceRatio ?? 0) > 0);
  const perDay = new Map<number, { o: OverrideEvent; gapMin: number; w: WindowSample }>();
  for (const o of z.overrides) {
    if (o.intensity > t.offPct) continue;
    let last: WindowSample | null = null;
    for (const w of occupied) if (w.windowStart < o.ts) last = w;
    if (!last) continue;
    const lastPresence = Math.min(last.windowEnd, last.windowStart + (last.presenceRatio ?? 0) * (last.windowEnd - last.windowStart));
    const gapMin = Math.max(0, (o.ts - lastPresence) / MIN_MS);
    if (gapMin > t.quickOffMinutes || gapMin >= settings.holdMinutes) continue;
    const prev = perDay.get(o.local.day);
    if (!prev) perDay.set(o.local.day, { o, gapMin, w: last });
  }
  const rows = [...perDay.values()];
  if (rows.length < t.minSupportDays) return null;
  const confidence = rows.length / eligible;
  if (confidence < t.minConfidence) return null;
  // Off before the quickest quarter of them switched it off by hand.
  const holdMinutes = Math.max(
    t.minHoldMinutes,
    Math.floor(
      quantile(
        rows.map((r) => r.gapMin),
        0.25,
      ),
    ),
  );
  if (holdMinutes > settings.holdMinutes - 1) return null;
  const evidence: EvidenceRow[] = [];
  for (const r of rows) {
    evidence.push(evidenceOfOverride(r.o));
    evidence.push({ table: 'feature_windows', id: r.w.id, ts: r.w.windowEnd, note: `last presence, off ${r.gapMin.toFixed(1)} min later` });
  }
  return {
    zone: z.zone,
    kind: 'hold',
    patternKey: `${z.zone}|hold`,
    summary: `${z.zone}: lights switched off by hand about ${Math.round(median(rows.map((r) => r.gapMin)))} min after the room emptied on ${rows.length} of the last ${eligible} days (hold ${settings.holdMinutes} min): off ${holdMinutes} min after the last presence`,
    supportDays: rows.length,
    confidence: round(confidence, 0.01),
    evidence,
    // The evidence is a manual off: off it goes, not to the absence level.
    change: { kind: 'hold', holdMinutes, fromMinutes: settings.holdMinutes, then: 'off' },
  };
}

/** Candidates of every zone in the history, zone by zone (sorted by name), slots first. */
export function mine(history: History, options: MineOptions): Candidate[] {
  const t: MiningThresholds = { ...DEFAULT_THRESHOLDS, ...(options.thresholds ?? {}) };
  const since = options.now - t.lookbackDays * DAY_MS;
  const inRange = (ts: number): boolean => ts >= since && ts <= options.now;
  const zones = new Map<string, ZoneData>();
  const zoneData = (zone: string): ZoneData => {
    let z = zones.get(zone);
    if (!z) {
      z = { zone, overrides: [], decisions: [], windows: [], activeDays: new Map() };
      zones.set(zone, z);
    }
    return z;
  };
  for (const o of dedupeOverrides(history.overrides.filter((o) => inRange(o.ts)))) {
    const local = localOf(o.ts, options.clock);
    const z = zoneData(o.zone);
    z.overrides.push({ ...o, local });
    z.activeDays.set(local.day, local.weekday);
  }
  for (const d of history.decisions) if (inRange(d.ts)) zoneData(d.zone).decisions.push(d);
  for (const w of history.windows) {
    if (!inRange(w.windowStart)) continue;
    const z = zoneData(w.zone);
    z.windows.push(w);
    if ((w.presenceRatio ?? 0) > 0) {
      const local = localOf(w.windowStart, options.clock);
      z.activeDays.set(local.day, local.weekday);
    }
  }
  const out: Candidate[] = [];
  for (const zone of [...zones.keys()].sort()) {
    const z = zones.get(zone) as ZoneData;
    z.overrides.sort((a, b) => a.ts - b.ts || a.id - b.id);
    z.decisions.sort((a, b) => a.ts - b.ts || a.id - b.id);
    z.windows.sort((a, b) => a.windowStart - b.windowStart || a.id - b.id);
    if (z.overrides.length === 0) continue;
    const settings = options.settingsOf(zone);
    const explained = new Set<OverrideEvent>();
    // Upward overrides tied to the lux first: one target explains them better than several slot floors.
    const lux = mineTargetLux(z, t, settings, explained);
    const found = mineSlots(z, t, explained);
    if (lux) found.unshift(lux);
    const hold = mineHold(z, t, settings);
    if (hold) found.push(hold);
    out.push(...found.slice(0, t.maxPerZone));
  }
  return out;
}
