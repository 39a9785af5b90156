/**
 * The learning layer's SQL on a LightingStore (SQLite or PostgreSQL; the
 * store translates the dialect): the history the miner reads, and the
 * `suggestions` table (migrations 5 and 6) with its life cycle
 *
 *   pending --accept--> accepted (a schedule rule from then on)
 *           --reject--> rejected (not proposed again unless its support
 *                                 grows by reproposeGrowthDays)
 *   accepted --a revision of it is accepted--> superseded
 *
 * A revision is a pending suggestion whose `supersedes` names the accepted
 * one of its pattern (the rule in force): accepting it supersedes that one in
 * the same transaction; rejecting it leaves the rule in force, and it comes
 * back only when its support grows, as any rejected pattern.
 *
 * Rows are those of the store's gateway only. Every call flushes the store's
 * queued rows first (read-your-writes) and runs in the store's lock.
 */
import { isFiniteNumber, isPlainObject } from '../contracts';
import type { LightingStore } from '../store/store';
import type { SqlRow } from '../store/sqlite';
import type { SqlDb } from '../store/engine';
import { ruleOf } from '../learning/schedule';
import {
  DEFAULT_THRESHOLDS,
  SUGGESTION_STATUSES,
  type Candidate,
  type EvidenceRow,
  type History,
  type ScheduleChange,
  type ScheduleRule,
  type Suggestion,
  type SuggestionKind,
  type SuggestionStatus,
} from '../learning/types';

/** Most evidence rows stored per suggestion (the newest). */
export const MAX_EVIDENCE_ROWS = 60;
/** Most history rows read per table and mining run. */
export const MAX_HISTORY_ROWS = 200_000;

const numOrNull = (v: unknown): number | null => (isFiniteNumber(v) ? v : null);

async function withDb<T>(store: LightingStore, fn: (db: SqlDb) => Promise<T>): Promise<T> {
  await store.flush();
  return store.exclusive(fn);
}

/** Overrides, automatic decisions and windows of the store's gateway in [since, until]. */
export async function readHistory(store: LightingStore, since: number, until: number): Promise<History> {
  const g = store.gateway;
  return withDb(store, async (db) => {
    const overrides = await db.all(
      'SELECT id, zone, started_at, setpoint FROM manual_overrides WHERE gateway = ? AND started_at >= ? AND started_at <= ? ORDER BY started_at LIMIT ?',
      [g, since, until, MAX_HISTORY_ROWS],
    );
    const decisions = await db.all(
      'SELECT id, zone, ts, source, intensity, cct, applied FROM decisions WHERE gateway = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?',
      [g, since, until, MAX_HISTORY_ROWS],
    );
    const windows = await db.all(
      'SELECT id, zone, window_start, window_end, lux_mean, presence_ratio FROM feature_windows WHERE gateway = ? AND window_start >= ? AND window_start <= ? AND partial = 0 ORDER BY window_start LIMIT ?',
      [g, since, until, MAX_HISTORY_ROWS],
    );
    const h: History = { overrides: [], decisions: [], windows: [] };
    for (const r of overrides) {
      let sp: unknown = null;
      try {
        sp = typeof r.setpoint === 'string' ? JSON.parse(r.setpoint) : null;
      } catch {
        sp = null;
      }
      const intensity = isPlainObject(sp) ? numOrNull(sp.intensity) : null;
      if (intensity === null) continue;
      h.overrides.push({
        table: 'manual_overrides',
        id: Number(r.id),
        zone: String(r.zone),
        ts: Number(r.started_at),
        intensity,
        cct: isPlainObject(sp) ? numOrNull(sp.cct) : null,
      });
    }
    for (const r of decisions) {
      const row = { id: Number(r.id), zone: String(r.zone), ts: Number(r.ts), intensity: Number(r.intensity), cct: numOrNull(r.cct) };
      if (r.source === 'manual') h.overrides.push({ table: 'decisions', ...row });
      else h.decisions.push({ ...row, applied: Number(r.applied) === 1 });
    }
    for (const r of windows) {
      h.windows.push({
        id: Number(r.id),
        zone: String(r.zone),
        windowStart: Number(r.window_start),
        windowEnd: Number(r.window_end),
        luxMean: numOrNull(r.lux_mean),
        presenceRatio: numOrNull(r.presence_ratio),
      });
    }
    return h;
  });
}

function fromRow(r: SqlRow): Suggestion {
  return {
    id: Number(r.id),
    zone: String(r.zone),
    kind: String(r.kind) as SuggestionKind,
    summary: String(r.summary),
    status: String(r.status) as SuggestionStatus,
    support_days: Number(r.support_days),
    confidence: Number(r.confidence),
    evidence: JSON.parse(String(r.evidence)) as EvidenceRow[],
    change: JSON.parse(String(r.change_json)) as ScheduleChange,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    decided_at: r.decided_at === null || r.decided_at === undefined ? null : Number(r.decided_at),
    decided_by: r.decided_by === null || r.decided_by === undefined ? null : String(r.decided_by),
    pattern_key: String(r.pattern_key),
    supersedes: r.supersedes === null || r.supersedes === undefined ? null : Number(r.supersedes),
  };
}

/** Time of the newest evidence row, epoch ms (null without evidence: the row's updated_at stands in). */
function newestEvidence(evidence: readonly EvidenceRow[]): number | null {
  let max: number | null = null;
  for (const e of evidence) if (Number.isFinite(e.ts) && (max === null || e.ts > max)) max = e.ts;
  return max;
}

/** Why a mined candidate was not stored. */
export type SkipReason = 'accepted' | 'rejected';

export interface SaveReport {
  /** Suggestions created by this run (revisions included). */
  created: Suggestion[];
  /** Pending suggestions whose support, evidence or change this run refreshed. */
  updated: number;
  /** Candidates left out: the pattern is accepted already (and did not move), or was rejected and has not grown enough. */
  skipped: Array<{ patternKey: string; why: SkipReason }>;
}

/** A candidate that would replace the accepted suggestion `supersedes` (the rule in force of its pattern). */
export type RevisionCandidate = Candidate & { supersedes: number };

/**
 * Stores mined candidates: a pattern with a pending suggestion refreshes it;
 * one accepted already is skipped (its drift comes as a revision); one
 * rejected is proposed again (a new row) only when its support is at least
 * `growthDays` above the rejected one's. Revisions follow the same rules
 * among the revisions of their rule in force: a pending one is refreshed, a
 * rejected one comes back only when its support grew; a revision of a rule
 * that is no longer in force is dropped.
 */
export async function saveCandidates(
  store: LightingStore,
  candidates: readonly Candidate[],
  now: number,
  growthDays = DEFAULT_THRESHOLDS.reproposeGrowthDays,
  revisions: readonly RevisionCandidate[] = [],
): Promise<SaveReport> {
  const g = store.gateway;
  const report: SaveReport = { created: [], updated: 0, skipped: [] };
  if (candidates.length === 0 && revisions.length === 0) return report;
  return withDb(store, async (db) => {
    /** Refreshes `latest` when pending; true when the candidate is done with (refreshed or skipped). */
    const refreshOrSkip = async (c: Candidate, latest: SqlRow | undefined): Promise<boolean> => {
      if (latest && latest.status === 'pending') {
        const evidence = c.evidence.slice(-MAX_EVIDENCE_ROWS);
        await db.run(
          'UPDATE suggestions SET updated_at = ?, summary = ?, support_days = ?, confidence = ?, evidence = ?, change_json = ?, evidence_ts = ? WHERE id = ?',
          [
            now,
            c.summary,
            c.supportDays,
            c.confidence,
            JSON.stringify(evidence),
            JSON.stringify(c.change),
            newestEvidence(evidence),
            Number(latest.id),
          ],
        );
        report.updated += 1;
        return true;
      }
      if (latest && latest.status === 'rejected' && c.supportDays < Number(latest.support_days) + growthDays) {
        report.skipped.push({ patternKey: c.patternKey, why: 'rejected' });
        return true;
      }
      return false;
    };
    const insert = async (c: Candidate, supersedes: number | null): Promise<void> => {
      const evidence = c.evidence.slice(-MAX_EVIDENCE_ROWS);
      const info = await db.run(
        'INSERT INTO suggestions (created_at, updated_at, zone, kind, pattern_key, summary, status, support_days, confidence, evidence, change_json, gateway, supersedes, evidence_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          now,
          now,
          c.zone,
          c.kind,
          c.patternKey,
          c.summary,
          'pending',
          c.supportDays,
          c.confidence,
          JSON.stringify(evidence),
          JSON.stringify(c.change),
          g,
          supersedes,
          newestEvidence(evidence),
        ],
      );
      const row = await db.get('SELECT * FROM suggestions WHERE id = ?', [info.lastID]);
      if (row) report.created.push(fromRow(row));
    };
    await db.run('BEGIN IMMEDIATE');
    try {
      for (const c of candidates) {
        const inForce = await db.get("SELECT id FROM suggestions WHERE gateway = ? AND pattern_key = ? AND status = 'accepted' LIMIT 1", [
          g,
          c.patternKey,
        ]);
        if (inForce) {
          report.skipped.push({ patternKey: c.patternKey, why: 'accepted' });
          continue;
        }
        const latest = await db.get(
          'SELECT * FROM suggestions WHERE gateway = ? AND pattern_key = ? AND supersedes IS NULL ORDER BY id DESC LIMIT 1',
          [g, c.patternKey],
        );
        if (!(await refreshOrSkip(c, latest))) await insert(c, null);
      }
      for (const r of revisions) {
        const { supersedes, ...c } = r;
        const inForce = await db.get(
          "SELECT id FROM suggestions WHERE id = ? AND gateway = ? AND pattern_key = ? AND status = 'accepted'",
          [supersedes, g, c.patternKey],
        );
        if (!inForce) continue;
        const latest = await db.get('SELECT * FROM suggestions WHERE gateway = ? AND supersedes = ? ORDER BY id DESC LIMIT 1', [
          g,
          supersedes,
        ]);
        if (!(await refreshOrSkip(c, latest))) await insert(c, supersedes);
      }
      await db.run('COMMIT');
      return report;
    } catch (err) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

export interface SuggestionQuery {
  status?: SuggestionStatus;
  zone?: string;
  /** Most rows (newest first), default 100, at most 1000. */
  limit?: number;
}

/** Suggestions of the store's gateway, newest first. */
export async function listSuggestions(store: LightingStore, q: SuggestionQuery = {}): Promise<Suggestion[]> {
  const where = ['gateway = ?'];
  const params: Array<string | number> = [store.gateway];
  if (q.status !== undefined) {
    if (!SUGGESTION_STATUSES.includes(q.status)) throw new RangeError(`status must be one of ${SUGGESTION_STATUSES.join(', ')}`);
    where.push('status = ?');
    params.push(q.status);
  }
  if (q.zone !== undefined) {
    where.push('zone = ?');
    params.push(q.zone);
  }
  const limit = Math.min(1000, Math.max(1, Math.floor(q.limit ?? 100)));
  params.push(limit);
  const rows = await withDb(store, (db) =>
    db.all(`SELECT * FROM suggestions WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, params),
  );
  return rows.map(fromRow);
}

export type DecideResult =
  | { outcome: 'not-found' }
  | { outcome: 'conflict'; suggestion: Suggestion }
  | { outcome: 'decided'; suggestion: Suggestion };

/**
 * Accepts or rejects a pending suggestion; one already decided is a conflict
 * (nothing changes). Accepting one supersedes, in the same transaction, the
 * suggestion of its pattern in force (the one a revision names, and any other
 * accepted one of the same pattern): one rule per pattern is in force.
 */
export async function decideSuggestion(
  store: LightingStore,
  id: number,
  status: 'accepted' | 'rejected',
  by: string,
  at: number,
): Promise<DecideResult> {
  if (!Number.isSafeInteger(id) || id < 1) return { outcome: 'not-found' };
  const g = store.gateway;
  return withDb(store, async (db) => {
    await db.run('BEGIN IMMEDIATE');
    try {
      const info = await db.run(
        "UPDATE suggestions SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND gateway = ? AND status = 'pending'",
        [status, at, by, id, g],
      );
      const row = await db.get('SELECT * FROM suggestions WHERE id = ? AND gateway = ?', [id, g]);
      if (row && info.changes > 0 && status === 'accepted') {
        await db.run(
          "UPDATE suggestions SET status = 'superseded', decided_at = ?, decided_by = ? WHERE gateway = ? AND status = 'accepted' AND id <> ? AND (pattern_key = ? OR id = ?)",
          [at, by, g, id, String(row.pattern_key), row.supersedes === null || row.supersedes === undefined ? -1 : Number(row.supersedes)],
        );
      }
      await db.run('COMMIT');
      if (!row) return { outcome: 'not-found' as const };
      return info.changes > 0
        ? { outcome: 'decided' as const, suggestion: fromRow(row) }
        : { outcome: 'conflict' as const, suggestion: fromRow(row) };
    } catch (err) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** An accepted suggestion as the drift check needs it: its rule and when it was accepted. */
export interface RuleInForce {
  id: number;
  zone: string;
  patternKey: string;
  change: ScheduleChange;
  /** Epoch ms of the acceptance: only evidence newer than this can revise it. */
  acceptedAt: number;
}

/** The accepted suggestions of the store's gateway, oldest first. */
export async function rulesInForce(store: LightingStore): Promise<RuleInForce[]> {
  const rows = await withDb(store, (db) =>
    db.all(
      "SELECT id, zone, pattern_key, change_json, decided_at, updated_at FROM suggestions WHERE gateway = ? AND status = 'accepted' ORDER BY id",
      [store.gateway],
    ),
  );
  return rows.map((r) => ({
    id: Number(r.id),
    zone: String(r.zone),
    patternKey: String(r.pattern_key),
    change: JSON.parse(String(r.change_json)) as ScheduleChange,
    acceptedAt: Number(r.decided_at ?? r.updated_at),
  }));
}

/** The schedule rules of every accepted suggestion, oldest first (a later rule of the same kind wins). */
export async function acceptedRules(store: LightingStore): Promise<ScheduleRule[]> {
  return (await rulesInForce(store)).map((r) => ruleOf({ id: r.id, zone: r.zone, change: r.change }));
}

/** Pending suggestions of the store's gateway. */
export async function countPending(store: LightingStore): Promise<number> {
  const row = await withDb(store, (db) =>
    db.get<{ n: number }>("SELECT COUNT(*) AS n FROM suggestions WHERE gateway = ? AND status = 'pending'", [store.gateway]),
  );
  return Number(row?.n ?? 0);
}
