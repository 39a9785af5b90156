/**
 * Shapes of the learning layer: the history the miner reads, the suggestions
 * it proposes (stored in the `suggestions` table, listed at GET /suggestions),
 * the schedule rules an accepted suggestion becomes, and the mining
 * thresholds. Defined once here; lib/learning, the lighting-insights node, the
 * control nodes and the bench import them.
 */

/** What a suggestion would change. */
export type SuggestionKind = 'slot' | 'target-lux' | 'hold';
export const SUGGESTION_KINDS: readonly SuggestionKind[] = ['slot', 'target-lux', 'hold'];

/**
 * pending -> accepted (a schedule rule) | rejected; an accepted one becomes
 * `superseded` when a revision of it (a suggestion whose `supersedes` names
 * it) is accepted.
 */
export type SuggestionStatus = 'pending' | 'accepted' | 'rejected' | 'superseded';
export const SUGGESTION_STATUSES: readonly SuggestionStatus[] = ['pending', 'accepted', 'rejected', 'superseded'];

/** Which local days a time-slot rule covers: Monday-Friday, Saturday-Sunday, or every day. */
export type DayType = 'weekdays' | 'weekend' | 'daily';
export const DAY_TYPES: readonly DayType[] = ['weekdays', 'weekend', 'daily'];

/** A time-slot preference: during [startMinute, endMinute) of the day type, while occupied. */
export interface SlotChange {
  kind: 'slot';
  days: DayType;
  /** Local minute of day, 0-1439. */
  startMinute: number;
  /** Local minute of day, exclusive, 1-1440. */
  endMinute: number;
  /** Output floor while occupied, percent. */
  minIntensityPct?: number;
  /** Output cap, percent. */
  maxIntensityPct?: number;
  /** Colour temperature, kelvin. */
  kelvin?: number;
}

/** The zone's daylight target while occupied, lux. */
export interface TargetLuxChange {
  kind: 'target-lux';
  targetLux: number;
  /** The target it replaces (for the summary), lux. */
  fromLux: number;
  /**
   * The lux people set themselves (median after their overrides). A loop that
   * keeps a margin above its target aims no higher than this, while its lower
   * edge stays at or above targetLux. Absent: the target alone.
   */
  settledLux?: number;
}

/** What the light does when a hold rule's hold has run out. */
export type AfterHold = 'off';
export const AFTER_HOLD: readonly AfterHold[] = ['off'];

/** The zone's occupancy hold (run-on after the last presence), minutes. */
export interface HoldChange {
  kind: 'hold';
  holdMinutes: number;
  /** The hold it replaces, minutes. */
  fromMinutes: number;
  /**
   * "off": when the hold has run out the light goes off at once, without the
   * absence level (people switched it off by hand, they did not dim it).
   * Absent: the zone's own absence level and vacancy delay follow the hold.
   */
  then?: AfterHold;
}

export type ScheduleChange = SlotChange | TargetLuxChange | HoldChange;

/** One row of history a suggestion rests on. */
export interface EvidenceRow {
  table: 'manual_overrides' | 'decisions' | 'feature_windows';
  id: number;
  /** Epoch ms. */
  ts: number;
  /** What the row says, e.g. "set 40 % 3000 K" or "lux 210 before". */
  note: string;
}

/** A suggestion as GET /suggestions answers it (snake_case like the rest of the HTTP API). */
export interface Suggestion {
  id: number;
  zone: string;
  kind: SuggestionKind;
  summary: string;
  status: SuggestionStatus;
  /** Distinct local days the pattern was seen on. */
  support_days: number;
  /** 0..1: support_days over the days it could have been seen on. */
  confidence: number;
  evidence: EvidenceRow[];
  change: ScheduleChange;
  /** Epoch ms. */
  created_at: number;
  /** Epoch ms of the last mining run that saw it. */
  updated_at: number;
  /** Epoch ms of accept / reject; of a superseded one, when its revision was accepted; else null. */
  decided_at: number | null;
  /** Who decided ("api", "auto", a name), else null. */
  decided_by: string | null;
  /** Identity of the pattern (zone, kind, slot): a rejected key is proposed again only when its support grows. */
  pattern_key: string;
  /**
   * A revision: the id of the accepted suggestion (the rule in force) it
   * would replace when accepted; null for a first proposal. The id may name
   * a row the retention has pruned since.
   */
  supersedes: number | null;
}

/** A mined pattern before it is stored. */
export interface Candidate {
  zone: string;
  kind: SuggestionKind;
  patternKey: string;
  summary: string;
  supportDays: number;
  confidence: number;
  evidence: EvidenceRow[];
  change: ScheduleChange;
}

/** An accepted suggestion as the controllers apply it. */
export type ScheduleRule = ScheduleChange & {
  /** "suggestion:<id>": named in the decision's reason. */
  id: string;
  zone: string;
};

/** Topic of the message `lighting-insights` sends to rules-fallback and ai-decide: payload `{rules: ScheduleRule[]}`, the full active set. */
export const SCHEDULE_RULES_TOPIC = 'schedule-rules';

// ------------------------------------------------------------- history ----

/** A manual change: a row of manual_overrides or a decision with source "manual". */
export interface OverrideEvent {
  table: 'manual_overrides' | 'decisions';
  id: number;
  zone: string;
  ts: number;
  intensity: number;
  cct: number | null;
}

/** An automatic decision (rules or AI), applied or blocked. */
export interface AutoDecision {
  id: number;
  zone: string;
  ts: number;
  intensity: number;
  cct: number | null;
  applied: boolean;
}

/** The part of a stored feature window the miner reads. */
export interface WindowSample {
  id: number;
  zone: string;
  windowStart: number;
  windowEnd: number;
  luxMean: number | null;
  presenceRatio: number | null;
}

export interface History {
  overrides: OverrideEvent[];
  decisions: AutoDecision[];
  windows: WindowSample[];
}

// ---------------------------------------------------------- thresholds ----

/**
 * Every threshold of the miner (README "Learning from overrides"). A pattern
 * becomes a suggestion only when it clears all of its kind's thresholds.
 */
export interface MiningThresholds {
  /** History read, days back from now. */
  lookbackDays: number;
  /** A pattern needs overrides on at least this many distinct days. */
  minSupportDays: number;
  /** ... and on at least this share of the days it could have happened on. */
  minConfidence: number;
  /** Time-slot length, hours (slots start on the hour). */
  slotHours: number;
  /** Overrides of a slot agree when within +- this of the median intensity, percent points. */
  intensityBandPct: number;
  /** ... and within +- this of the median colour, kelvin. */
  kelvinBandK: number;
  /** A slot rule sets the colour only when the people's median differs this much from the automatic one, kelvin. */
  minKelvinShiftK: number;
  /** An override is "upward" when it raises the automatic level by at least this, percent points. */
  minUpwardPct: number;
  /** The lux before upward overrides must agree: coefficient of variation at most this. */
  maxLuxSpread: number;
  /** The lux after upward overrides must be at least this share above the lux before (0.1 = 10 %). */
  minLuxRise: number;
  /** A target-lux change is at most this factor above the current target. */
  maxTargetFactor: number;
  /** An "off" override is at most this output, percent. */
  offPct: number;
  /** A manual off counts for the hold pattern when it comes at most this long after the last presence, minutes. */
  quickOffMinutes: number;
  /** Shortest hold ever suggested, minutes. */
  minHoldMinutes: number;
  /** A rejected pattern is proposed again only when its support grew by at least this many days. */
  reproposeGrowthDays: number;
  /** Most suggestions per zone and mining run. */
  maxPerZone: number;
}

export const DEFAULT_THRESHOLDS: Readonly<MiningThresholds> = Object.freeze({
  lookbackDays: 14,
  minSupportDays: 5,
  minConfidence: 0.6,
  slotHours: 2,
  intensityBandPct: 8,
  kelvinBandK: 300,
  minKelvinShiftK: 200,
  minUpwardPct: 10,
  maxLuxSpread: 0.35,
  minLuxRise: 0.1,
  maxTargetFactor: 1.6,
  offPct: 1,
  quickOffMinutes: 5,
  minHoldMinutes: 1,
  reproposeGrowthDays: 2,
  maxPerZone: 4,
});

/** Current settings of a zone the miner compares with (from the zone map or the node). */
export interface ZoneSettings {
  targetLux: number;
  holdMinutes: number;
}

/** Invalid input to a learning function (a node turns it into done(err) or a 400). */
export class LearningInputError extends Error {
  override readonly name = 'LearningInputError';
}
