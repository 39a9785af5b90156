/**
 * One mining run on a store: read the history of the last lookbackDays, mine
 * candidates (mine.ts), store them as suggestions (suggestion-store.ts) and,
 * when the integrator set an auto-accept confidence (off by default),
 * accept the new ones at or above it.
 *
 * Drift: each accepted suggestion (a rule in force) is mined again from the
 * history of its zone newer than its acceptance, against the rule's own
 * target or hold; a candidate of its pattern that differs materially from the
 * rule (lib/learning/drift.ts) is stored as a revision naming the rule
 * (`supersedes`), and auto-accept applies to it as to any new suggestion. Also the HTTP side of the suggestions
 * API: the answers of GET /suggestions and POST /suggestions/:id/accept|reject.
 */
import { LocalClock } from '../features/local-time';
import type { LightingStore } from '../store/store';
import { mine, type MineOptions } from '../learning/mine';
import {
  acceptedRules,
  countPending,
  decideSuggestion,
  listSuggestions,
  readHistory,
  rulesInForce,
  saveCandidates,
  type RevisionCandidate,
  type RuleInForce,
  type SkipReason,
} from './suggestion-store';
import { reviseRule, revisionSummary } from '../learning/drift';
import {
  DEFAULT_THRESHOLDS,
  type History,
  type MiningThresholds,
  type ScheduleRule,
  type Suggestion,
  type ZoneSettings,
} from '../learning/types';
import type { DecideSuggestionRequest, SuggestionsRequest } from '../learning/http';

export interface InsightsOptions {
  thresholds?: Partial<MiningThresholds>;
  /** IANA time zone of the building; blank: the process's. */
  timeZone?: string;
  /** The zone's current target lux and hold (zone map, else the node's settings). */
  settingsOf: (zone: string) => ZoneSettings;
  /** New suggestions with at least this confidence are accepted at once ("auto"); null: off (the default). */
  autoAcceptConfidence?: number | null;
}

export interface InsightsReport {
  /** Candidates the miner found. */
  mined: number;
  /** Suggestions created by this run (pending, or accepted when auto-accepted). */
  created: Suggestion[];
  updated: number;
  skipped: Array<{ patternKey: string; why: SkipReason }>;
  /** Ids of the revisions (suggestions with `supersedes`) among `created`. */
  revisions: number[];
  /** Ids auto-accepted by this run. */
  autoAccepted: number[];
  /** Pending suggestions after the run. */
  pending: number;
}

/** The history of one zone newer than `after` (exclusive). */
function zoneHistoryAfter(h: History, zone: string, after: number): History {
  return {
    overrides: h.overrides.filter((o) => o.zone === zone && o.ts > after),
    decisions: h.decisions.filter((d) => d.zone === zone && d.ts > after),
    windows: h.windows.filter((w) => w.zone === zone && w.windowStart > after),
  };
}

/** The zone's settings with the rule in force in place of the zone's own target or hold (the miner compares with what is in force). */
function settingsUnder(rule: RuleInForce, base: ZoneSettings): ZoneSettings {
  if (rule.change.kind === 'target-lux') return { ...base, targetLux: rule.change.targetLux };
  if (rule.change.kind === 'hold') return { ...base, holdMinutes: rule.change.holdMinutes };
  return base;
}

/** Revisions of the rules in force that the evidence newer than each acceptance implies (drift.ts decides "material"). */
function mineRevisions(
  history: History,
  inForce: readonly RuleInForce[],
  mineOpts: Omit<MineOptions, 'settingsOf'>,
  settingsOf: (zone: string) => ZoneSettings,
): RevisionCandidate[] {
  const out: RevisionCandidate[] = [];
  for (const rule of inForce) {
    const after = zoneHistoryAfter(history, rule.zone, rule.acceptedAt);
    if (after.overrides.length === 0) continue;
    const mined = mine(after, { ...mineOpts, settingsOf: (zone) => settingsUnder(rule, settingsOf(zone)) }).find(
      (c) => c.patternKey === rule.patternKey,
    );
    if (!mined) continue;
    const revision = reviseRule(rule.change, mined.change);
    if (!revision) continue;
    out.push({ ...mined, change: revision.change, summary: revisionSummary(mined.summary, rule.id, revision), supersedes: rule.id });
  }
  return out;
}

export async function runInsights(store: LightingStore, options: InsightsOptions, now: number = Date.now()): Promise<InsightsReport> {
  const t: MiningThresholds = { ...DEFAULT_THRESHOLDS, ...(options.thresholds ?? {}) };
  const clock = new LocalClock(options.timeZone);
  const history = await readHistory(store, now - t.lookbackDays * 86_400_000, now);
  const mineOpts = { now, clock: (ts: number) => clock.at(ts), thresholds: t };
  const candidates = mine(history, { ...mineOpts, settingsOf: options.settingsOf });
  const revisions = mineRevisions(history, await rulesInForce(store), mineOpts, options.settingsOf);
  const saved = await saveCandidates(store, candidates, now, t.reproposeGrowthDays, revisions);
  const autoAccepted: number[] = [];
  const auto = options.autoAcceptConfidence;
  const created: Suggestion[] = [];
  for (const s of saved.created) {
    if (auto !== null && auto !== undefined && s.confidence >= auto) {
      const r = await decideSuggestion(store, s.id, 'accepted', 'auto', now);
      if (r.outcome === 'decided') {
        autoAccepted.push(s.id);
        created.push(r.suggestion);
        continue;
      }
    }
    created.push(s);
  }
  return {
    mined: candidates.length,
    created,
    updated: saved.updated,
    skipped: saved.skipped,
    revisions: created.filter((s) => s.supersedes !== null).map((s) => s.id),
    autoAccepted,
    pending: await countPending(store),
  };
}

/** An HTTP answer: status and JSON body. */
export interface Answer {
  statusCode: number;
  body: unknown;
}

/** GET /suggestions: {"suggestions": [...]} (newest first). */
export async function answerList(store: LightingStore, q: SuggestionsRequest): Promise<Answer> {
  const suggestions = await listSuggestions(store, q);
  return { statusCode: 200, body: { suggestions } };
}

/**
 * POST /suggestions/:id/accept|reject: 200 with the suggestion (and, on
 * accept, the active rules after it), 404 unknown id, 409 already decided.
 */
export async function answerDecide(
  store: LightingStore,
  r: DecideSuggestionRequest,
  now: number = Date.now(),
): Promise<Answer & { rules?: ScheduleRule[] }> {
  const res = await decideSuggestion(store, r.id, r.decision, r.by, now);
  if (res.outcome === 'not-found') return { statusCode: 404, body: { detail: `suggestion ${r.id} not found` } };
  if (res.outcome === 'conflict') return { statusCode: 409, body: { detail: `suggestion ${r.id} is already ${res.suggestion.status}` } };
  // Accepting a revision supersedes the rule it names: the active set changes either way.
  if (r.decision === 'accepted') return { statusCode: 200, body: { suggestion: res.suggestion }, rules: await acceptedRules(store) };
  return { statusCode: 200, body: { suggestion: res.suggestion } };
}
