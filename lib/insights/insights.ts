/**
 * One mining run on a store: read the history of the last lookbackDays, mine
 * candidates (mine.ts), store them as suggestions (suggestion-store.ts) and,
 * when the integrator set an auto-accept confidence (off by default),
 * accept the new ones at or above it. Also the HTTP side of the suggestions
 * API: the answers of GET /suggestions and POST /suggestions/:id/accept|reject.
 */
import { LocalClock } from '../features/local-time';
import type { LightingStore } from '../store/store';
import { mine } from '../learning/mine';
import { acceptedRules, countPending, decideSuggestion, listSuggestions, readHistory, saveCandidates } from './suggestion-store';
import { DEFAULT_THRESHOLDS, type MiningThresholds, type ScheduleRule, type Suggestion, type ZoneSettings } from '../learning/types';
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
  skipped: Array<{ patternKey: string; why: 'accepted' | 'rejected' }>;
  /** Ids auto-accepted by this run. */
  autoAccepted: number[];
  /** Pending suggestions after the run. */
  pending: number;
}

export async function runInsights(store: LightingStore, options: InsightsOptions, now: number = Date.now()): Promise<InsightsReport> {
  const t: MiningThresholds = { ...DEFAULT_THRESHOLDS, ...(options.thresholds ?? {}) };
  const clock = new LocalClock(options.timeZone);
  const history = await readHistory(store, now - t.lookbackDays * 86_400_000, now);
  const candidates = mine(history, { now, clock: (ts) => clock.at(ts), settingsOf: options.settingsOf, thresholds: t });
  const saved = await saveCandidates(store, candidates, now, t.reproposeGrowthDays);
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
  if (r.decision === 'accepted') return { statusCode: 200, body: { suggestion: res.suggestion }, rules: await acceptedRules(store) };
  return { statusCode: 200, body: { suggestion: res.suggestion } };
}
