/**
 * Retention pruning: deletes rows older than each table's retention, in small
 * batches, so that ingestion running at the same time never waits for more
 * than one batch (a few ms).
 *
 * Boundary (exact, tested): with cutoff = now - days * 86 400 000, a row is
 * deleted when its time is < cutoff; a row exactly at the cutoff is kept.
 * Time column per table: ts (raw_sensor_events, weather_events, decisions,
 * telemetry), window_start (feature_windows); manual_overrides are deleted
 * when they ended before the cutoff (the earlier of cleared_at and
 * expires_at); an override that never ended is never pruned. Alerts are
 * deleted when they were resolved before the cutoff; an active alert is never
 * pruned. personal_profiles are never pruned.
 *
 * Suggestions (lib/insights) go with the overrides they are mined from
 * (overrideDays): an accepted one (a rule in force) is never pruned; a
 * pending one when its newest evidence row is older than the cutoff (the
 * overrides it rests on are gone by then); a rejected or superseded one when
 * it was decided (decided_at) before the cutoff. Once a rejection is pruned,
 * the pattern is proposed again only if new evidence shows it.
 *
 * Each batch is one DELETE of at most batchRows rows picked by rowid through
 * the time index, run while holding the store's lock; between batches the lock
 * is released and the event loop gets a turn (setImmediate), so queued writes
 * and queries go first.
 */
import type { LightingStore } from './store';

export interface RetentionDays {
  rawDays: number | null;
  weatherDays: number | null;
  featureDays: number | null;
  decisionDays: number | null;
  telemetryDays: number | null;
  overrideDays: number | null;
  /** Resolved alerts, by when they were resolved. */
  alertDays: number | null;
}

/** The reference service's retention (README "Data policy and retention"); overrides 30 days after they ended. */
export const DEFAULT_RETENTION_DAYS: Readonly<RetentionDays> = Object.freeze({
  rawDays: 30,
  weatherDays: 30,
  featureDays: 90,
  decisionDays: 180,
  telemetryDays: 180,
  overrideDays: 30,
  alertDays: 180,
});

export const DAY_MS = 86_400_000;

export type PrunedTable =
  | 'raw_sensor_events'
  | 'weather_events'
  | 'feature_windows'
  | 'decisions'
  | 'telemetry'
  | 'manual_overrides'
  | 'alerts'
  | 'suggestions';

interface PruneTarget {
  table: PrunedTable;
  days: keyof RetentionDays;
  /** SQL expression of the row's time (fixed text, no input). */
  time: string;
  /** Which rows of the table the target prunes at all (fixed SQL, no input); default all. */
  where?: string;
}

const TARGETS: readonly PruneTarget[] = [
  { table: 'raw_sensor_events', days: 'rawDays', time: 'ts' },
  { table: 'weather_events', days: 'weatherDays', time: 'ts' },
  { table: 'feature_windows', days: 'featureDays', time: 'window_start' },
  { table: 'decisions', days: 'decisionDays', time: 'ts' },
  { table: 'telemetry', days: 'telemetryDays', time: 'ts' },
  // When the override ended: the earlier of cleared_at and expires_at (scalar MIN is NULL if either is NULL).
  { table: 'manual_overrides', days: 'overrideDays', time: 'COALESCE(MIN(cleared_at, expires_at), cleared_at, expires_at)' },
  // Active alerts (resolved_at NULL) never match.
  { table: 'alerts', days: 'alertDays', time: 'resolved_at' },
  // Accepted suggestions (rules in force) never match; a pending one by its newest evidence (NULL: its last refresh).
  { table: 'suggestions', days: 'overrideDays', time: 'COALESCE(evidence_ts, updated_at)', where: "status = 'pending'" },
  { table: 'suggestions', days: 'overrideDays', time: 'decided_at', where: "status IN ('rejected', 'superseded')" },
];

export interface PruneOptions extends Partial<RetentionDays> {
  /** Reference time, epoch ms. Default Date.now(). */
  now?: number;
  /** Rows per DELETE. Default 500. */
  batchRows?: number;
  /** Run PRAGMA incremental_vacuum afterwards (in steps) to give freed pages back to the file system. */
  vacuum?: boolean;
  /** Pages freed per vacuum step. Default 1000 (4 MiB with 4 KiB pages). */
  vacuumPagesPerStep?: number;
  /** Stops the prune between batches (the report says aborted: true), e.g. when its node closes. */
  signal?: AbortSignal;
}

export interface TablePruneReport {
  /** Retention used, days (null = table skipped). */
  days: number | null;
  /** Rows with time < cutoff were deleted; null when skipped. */
  cutoff: number | null;
  deleted: number;
  batches: number;
}

export interface PruneReport {
  now: number;
  tables: Record<PrunedTable, TablePruneReport>;
  /** Sum over tables. */
  deleted: number;
  batches: number;
  durationMs: number;
  /** Longest time the lock was held by one batch (a concurrent writer's worst wait), ms. */
  longestBatchMs: number;
  /** Pages returned to the file system by incremental_vacuum (0 without `vacuum`). */
  vacuumedPages: number;
  /** true when the store closed (or the signal aborted) mid-way (the report covers what was done). */
  aborted: boolean;
}

export class PruneBusyError extends Error {
  override readonly name = 'PruneBusyError';
}

function checkDays(name: string, v: number | null | undefined, fallback: number | null): number | null {
  if (v === undefined) return fallback;
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`${name} must be a positive number of days (or null to keep everything), got ${String(v)}`);
  }
  return v;
}

function checkInt(name: string, v: number | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be a whole number ${min}-${max}, got ${String(v)}`);
  }
  return v;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Prunes every table per its retention. Rejects with PruneBusyError if a
 * prune is already running on this database, RangeError for bad options, or
 * the SQLite error that stopped it. Stops early (aborted: true) when the store
 * is closing or `options.signal` is aborted.
 */
export async function prune(store: LightingStore, options: PruneOptions = {}): Promise<PruneReport> {
  const now = options.now ?? Date.now();
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new RangeError(`now must be epoch ms, got ${String(now)}`);
  const batchRows = checkInt('batchRows', options.batchRows, 500, 1, 100_000);
  const vacuumStep = checkInt('vacuumPagesPerStep', options.vacuumPagesPerStep, 1000, 1, 1_000_000);
  const days = {} as RetentionDays;
  for (const t of TARGETS) days[t.days] = checkDays(t.days, options[t.days], DEFAULT_RETENTION_DAYS[t.days]);

  if (!store.tryBeginPrune()) throw new PruneBusyError('a prune is already running on this database');
  const t0 = performance.now();
  const report: PruneReport = {
    now,
    tables: {} as Record<PrunedTable, TablePruneReport>,
    deleted: 0,
    batches: 0,
    durationMs: 0,
    longestBatchMs: 0,
    vacuumedPages: 0,
    aborted: false,
  };
  try {
    for (const target of TARGETS) {
      const d = days[target.days];
      // A table with several targets (suggestions) has one entry: the same days, the rows of each added up.
      const entry: TablePruneReport = report.tables[target.table] ?? { days: d, cutoff: null, deleted: 0, batches: 0 };
      report.tables[target.table] = entry;
      if (d === null) continue;
      const cutoff = Math.floor(now - d * DAY_MS);
      entry.cutoff = cutoff;
      const sql = `DELETE FROM ${target.table} WHERE rowid IN
                   (SELECT rowid FROM ${target.table} WHERE ${target.where !== undefined ? `${target.where} AND ` : ''}${target.time} < ? LIMIT ?)`;
      for (;;) {
        if (store.stopping || options.signal?.aborted === true) {
          report.aborted = true;
          return report;
        }
        const { changes, ms } = await store.exclusive(async (db) => {
          const b0 = performance.now();
          const info = await (await db.cached(sql)).run([cutoff, batchRows]);
          return { changes: info.changes, ms: performance.now() - b0 };
        });
        entry.batches += 1;
        entry.deleted += changes;
        report.deleted += changes;
        report.batches += 1;
        if (ms > report.longestBatchMs) report.longestBatchMs = ms;
        await yieldToEventLoop();
        if (changes < batchRows) break;
      }
    }
    // PostgreSQL: autovacuum gives the space back (each batch is its own short transaction).
    if (options.vacuum === true && store.engine !== 'postgres') {
      for (;;) {
        if (store.stopping || options.signal?.aborted === true) {
          report.aborted = true;
          return report;
        }
        const { freed, ms } = await store.exclusive(async (db) => {
          const b0 = performance.now();
          const before = (await db.get<{ freelist_count: number }>('PRAGMA freelist_count'))?.freelist_count ?? 0;
          if (before === 0) return { freed: 0, ms: performance.now() - b0 };
          // exec steps the pragma to completion (a single step would free one page only).
          await db.exec(`PRAGMA incremental_vacuum(${vacuumStep})`);
          const after = (await db.get<{ freelist_count: number }>('PRAGMA freelist_count'))?.freelist_count ?? 0;
          return { freed: Math.max(0, before - after), ms: performance.now() - b0 };
        });
        report.vacuumedPages += freed;
        if (ms > report.longestBatchMs) report.longestBatchMs = ms;
        await yieldToEventLoop();
        if (freed < vacuumStep) break;
      }
    }
    return report;
  } finally {
    report.durationMs = performance.now() - t0;
    store.endPrune();
  }
}
