/**
 * What the `retention-prune` node runs: a cron schedule (the `cron`
 * package's CronJob) and a runner that prunes one store at a time and turns
 * the lib's PruneReport into the node's output report.
 *
 *   const schedule = startPruneSchedule('0 0 * * *', 'Europe/Berlin', () => ...);  // throws ScheduleError
 *   const runner = new PruneRunner({ rawDays: 30, batchRows: 500, vacuum: false });
 *   const report = await runner.run(store, 'msg');   // rejects PruneBusyError while one runs
 *   schedule?.stop(); await runner.abort();          // on close
 */
import { CronJob, validateCronExpression } from 'cron';
import { PruneBusyError, prune, type PruneOptions, type PruneReport, type PrunedTable } from './retention';
import type { LightingStore } from './store';

/** A schedule or time zone that cannot be used; the message says why, in words. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

export interface PruneSchedule {
  /** Next run, epoch ms (null when none). */
  nextRun(): number | null;
  /** Stops the CronJob (no timer is left). */
  stop(): void;
}

/** Throws ScheduleError unless `timeZone` is blank or an IANA zone the runtime knows. */
export function checkTimeZone(timeZone: string): void {
  if (timeZone.trim() === '') return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timeZone.trim() });
  } catch {
    throw new ScheduleError(`unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as Europe/Berlin or UTC`);
  }
}

/**
 * Starts a CronJob running `onTick` per `expression` (5 fields, or 6 with
 * seconds first) in `timeZone` (blank = the system's). A blank expression
 * means no schedule: returns null. Throws ScheduleError for an invalid
 * expression or time zone. `onTick` errors are caught (reported to `onError`).
 */
export function startPruneSchedule(
  expression: string,
  timeZone: string,
  onTick: () => void,
  onError: (err: Error) => void = () => undefined,
): PruneSchedule | null {
  const expr = expression.trim();
  if (expr === '') return null;
  const fields = expr.split(/\s+/).length;
  const check = validateCronExpression(expr);
  if (!check.valid || (fields !== 5 && fields !== 6)) {
    const why = check.error instanceof Error && check.error.message !== '' ? `: ${check.error.message}` : '';
    throw new ScheduleError(
      `invalid cron expression ${JSON.stringify(expr)}${why}; use 5 fields (minute hour day month weekday), e.g. "0 0 * * *", or 6 with seconds first`,
    );
  }
  checkTimeZone(timeZone);
  let job: CronJob;
  try {
    job = CronJob.from({
      cronTime: expr,
      onTick: () => {
        try {
          onTick();
        } catch (err) {
          onError(err as Error);
        }
      },
      start: true,
      timeZone: timeZone.trim() === '' ? null : timeZone.trim(),
      errorHandler: (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
    });
  } catch (err) {
    throw new ScheduleError(`cannot schedule ${JSON.stringify(expr)}: ${(err as Error).message}`);
  }
  return {
    nextRun(): number | null {
      if (!job.isActive) return null;
      try {
        return job.nextDate().toMillis();
      } catch {
        return null;
      }
    },
    stop(): void {
      void job.stop();
    },
  };
}

export type PruneTrigger = 'schedule' | 'msg';

/** The node's output report (msg.payload). */
export interface PruneRunReport {
  /** Rows deleted per table. Tables with retention "keep forever" (null) show 0. */
  deleted: Record<PrunedTable, number>;
  /** Sum of `deleted`. */
  total: number;
  /** Per table: rows with time < cutoff (epoch ms) were deleted; null when the table was skipped. */
  cutoffs: Record<PrunedTable, number | null>;
  durationMs: number;
  /** Longest time one batch held the database (the longest a writer waited), ms. */
  longestBatchMs: number;
  /** Pages given back to the file system (0 without vacuum). */
  vacuumedPages: number;
  /** true when the prune stopped early (its node or the store closed); the numbers cover what was done. */
  aborted: boolean;
  /** Reference time of the prune, epoch ms. */
  now: number;
  trigger: PruneTrigger;
}

const PRUNED: readonly PrunedTable[] = [
  'raw_sensor_events',
  'weather_events',
  'feature_windows',
  'decisions',
  'telemetry',
  'manual_overrides',
  'alerts',
  'suggestions',
];

export function toRunReport(r: PruneReport, trigger: PruneTrigger): PruneRunReport {
  const deleted = {} as Record<PrunedTable, number>;
  const cutoffs = {} as Record<PrunedTable, number | null>;
  for (const t of PRUNED) {
    deleted[t] = r.tables[t]?.deleted ?? 0;
    cutoffs[t] = r.tables[t]?.cutoff ?? null;
  }
  return {
    deleted,
    total: r.deleted,
    cutoffs,
    durationMs: r.durationMs,
    longestBatchMs: r.longestBatchMs,
    vacuumedPages: r.vacuumedPages,
    aborted: r.aborted,
    now: r.now,
    trigger,
  };
}

export type PruneSettings = Omit<PruneOptions, 'now' | 'signal'>;

/** One prune at a time per runner; abort() stops the running one between batches. */
export class PruneRunner {
  readonly #options: PruneSettings;
  #running: Promise<PruneRunReport> | null = null;
  #abort: AbortController | null = null;

  constructor(options: PruneSettings) {
    this.#options = { ...options };
  }

  get running(): boolean {
    return this.#running !== null;
  }

  /**
   * Prunes `store` now. Rejects with PruneBusyError when this runner (or
   * anything else on the same database) is already pruning, RangeError for
   * bad settings, or the SQLite error that stopped it.
   */
  run(store: LightingStore, trigger: PruneTrigger, now: number = Date.now()): Promise<PruneRunReport> {
    if (this.#running !== null) return Promise.reject(new PruneBusyError('a prune is already running; try again when it has finished'));
    const abort = new AbortController();
    this.#abort = abort;
    const p = (async () => toRunReport(await prune(store, { ...this.#options, now, signal: abort.signal }), trigger))();
    this.#running = p;
    const clear = (): void => {
      if (this.#running === p) {
        this.#running = null;
        this.#abort = null;
      }
    };
    p.then(clear, clear);
    return p;
  }

  /** Stops the running prune between batches and waits for it (never rejects). */
  async abort(): Promise<void> {
    const p = this.#running;
    this.#abort?.abort();
    if (p !== null) await p.catch(() => undefined);
  }
}

/** `ms` as "YYYY-MM-DD HH:MM" in `timeZone` (blank = the system's); for status texts. */
export function formatLocalMinute(ms: number, timeZone = ''): string {
  const opts: Intl.DateTimeFormatOptions = {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  };
  if (timeZone.trim() !== '') opts.timeZone = timeZone.trim();
  try {
    const parts = new Intl.DateTimeFormat('en-US', opts).formatToParts(ms);
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '00';
    return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
  } catch {
    return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  }
}
