/**
 * GET /healthz report from injected probes, with the reference service's
 * field names: {"status": "ok"|"degraded", "database": "ok", "scheduler":
 * "running", "dali": {...}, "version", "ts", "checks": {...}}.
 *
 * Each probe runs concurrently under its own timeout; a probe that throws,
 * rejects or hangs marks only its own part (database: the error text,
 * scheduler: "unknown", dali: state "unknown") and the status "degraded".
 * buildHealthReport never rejects and never waits longer than the largest
 * timeout. An absent probe is reported as "not configured" and does not
 * degrade the status (a flow without a DALI bus is still healthy).
 *
 * Probe helpers: daliProbe() (a bus session's state and queue),
 * combineSchedulerStates() (the registered prune jobs), packageVersion().
 */
import { isPlainObject } from '../contracts';
import * as fs from 'fs';
import * as path from 'path';
import { maskSecrets } from '../store/mask';

/** What LightingStore.healthCheck() returns (the fields used here). */
export interface DatabaseProbeResult {
  ok: boolean;
  /** "ok" or the error message. */
  database: string;
  latencyMs?: number;
  schemaVersion?: number;
  journalMode?: string;
  queuedRows?: number;
}

/** DALI interface state plus a diagnostics summary (the dali-bus owner provides it). */
export interface DaliProbeResult {
  /** InterfaceState of lib/dali/types ('connected', 'disconnected', ...). */
  state: string;
  kind?: string;
  detail?: string;
  /** e.g. {queueLength, framesSent, errors, lastErrorAt}. */
  diagnostics?: Record<string, unknown>;
}

/** Scheduler state of the retention-prune (and aggregation) jobs. */
export interface SchedulerProbeResult {
  /** "running" when the jobs are scheduled, else "stopped" (the reference's values). */
  state: 'running' | 'stopped';
  /** Epoch ms of the next / last run, when known. */
  nextRun?: number | null;
  lastRun?: number | null;
  lastError?: string | null;
}

type Probe<T> = () => T | Promise<T>;

export interface HealthProbes {
  database?: Probe<DatabaseProbeResult>;
  dali?: Probe<DaliProbeResult>;
  scheduler?: Probe<SchedulerProbeResult>;
}

export interface HealthOptions {
  /** Package version. */
  version?: string;
  /** Per-probe timeout, ms. Default 2000. */
  timeoutMs?: number;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

export interface ProbeCheck {
  ok: boolean;
  /** "ok", "not configured", "timeout after N ms" or the error message. */
  status: string;
  durationMs: number;
  detail?: unknown;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** "ok" or what is wrong (the reference's field). */
  database: string;
  /** "running" | "stopped" | "unknown" | "not configured" (the reference's field). */
  scheduler: string;
  dali: DaliProbeResult;
  version: string;
  /** ISO time of the report. */
  ts: string;
  checks: { database: ProbeCheck; dali: ProbeCheck; scheduler: ProbeCheck };
}

/** DALI states that count as healthy. */
const DALI_OK = new Set(['connected']);

type Outcome<T> = { kind: 'value'; value: T; ms: number } | { kind: 'error'; message: string; ms: number } | { kind: 'absent' };

/** The text of a probe failure, secrets masked (the report is served without authentication). */
function errorText(err: unknown): string {
  if (err instanceof Error) return maskSecrets(err.message || err.name);
  try {
    return maskSecrets(String(err));
  } catch {
    return 'unknown error';
  }
}

async function runProbe<T>(probe: Probe<T> | undefined, timeoutMs: number): Promise<Outcome<T>> {
  if (typeof probe !== 'function') return { kind: 'absent' };
  const t0 = performance.now();
  const elapsed = (): number => Math.round((performance.now() - t0) * 10) / 10;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<Outcome<T>>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'error', message: `timeout after ${timeoutMs} ms`, ms: elapsed() }), timeoutMs);
      timer.unref?.();
    });
    const work = (async (): Promise<Outcome<T>> => {
      try {
        return { kind: 'value', value: await probe(), ms: elapsed() };
      } catch (err) {
        return { kind: 'error', message: errorText(err), ms: elapsed() };
      }
    })();
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Builds the /healthz report. Never rejects. */
export async function buildHealthReport(probes: HealthProbes, options: HealthOptions = {}): Promise<HealthReport> {
  const timeoutMs =
    typeof options.timeoutMs === 'number' && Number.isFinite(options.timeoutMs) && options.timeoutMs > 0 ? options.timeoutMs : 2000;
  const [db, dali, sched] = await Promise.all([
    runProbe(probes?.database, timeoutMs),
    runProbe(probes?.dali, timeoutMs),
    runProbe(probes?.scheduler, timeoutMs),
  ]);

  // database
  let database: string;
  let dbCheck: ProbeCheck;
  if (db.kind === 'absent') {
    database = 'not configured';
    dbCheck = { ok: true, status: 'not configured', durationMs: 0 };
  } else if (db.kind === 'error') {
    database = db.message;
    dbCheck = { ok: false, status: db.message, durationMs: db.ms };
  } else {
    const v = db.value;
    const ok = isPlainObject(v) && v.ok === true;
    database =
      isPlainObject(v) && typeof v.database === 'string'
        ? ok
          ? 'ok'
          : v.database === 'ok'
            ? 'failed'
            : maskSecrets(v.database)
        : 'invalid probe result';
    dbCheck = { ok, status: ok ? 'ok' : database, durationMs: db.ms, detail: isPlainObject(v) ? { ...v, database } : v };
  }

  // DALI interface
  let daliOut: DaliProbeResult;
  let daliCheck: ProbeCheck;
  if (dali.kind === 'absent') {
    daliOut = { state: 'not configured' };
    daliCheck = { ok: true, status: 'not configured', durationMs: 0 };
  } else if (dali.kind === 'error') {
    daliOut = { state: 'unknown', detail: dali.message };
    daliCheck = { ok: false, status: dali.message, durationMs: dali.ms };
  } else {
    const v = dali.value;
    daliOut = isPlainObject(v) && typeof v.state === 'string' ? { ...v } : { state: 'unknown', detail: 'invalid probe result' };
    const ok = DALI_OK.has(daliOut.state);
    daliCheck = { ok, status: ok ? 'ok' : daliOut.state, durationMs: dali.ms };
  }

  // scheduler
  let scheduler: string;
  let schedCheck: ProbeCheck;
  if (sched.kind === 'absent') {
    scheduler = 'not configured';
    schedCheck = { ok: true, status: 'not configured', durationMs: 0 };
  } else if (sched.kind === 'error') {
    scheduler = 'unknown';
    schedCheck = { ok: false, status: sched.message, durationMs: sched.ms };
  } else {
    const v = sched.value;
    scheduler = isPlainObject(v) && (v.state === 'running' || v.state === 'stopped') ? v.state : 'unknown';
    const ok = scheduler === 'running';
    schedCheck = {
      ok,
      status: ok ? 'ok' : scheduler,
      durationMs: sched.ms,
      detail: isPlainObject(v) && typeof v.lastError === 'string' ? { ...v, lastError: maskSecrets(v.lastError) } : v,
    };
  }

  const ok = dbCheck.ok && daliCheck.ok && schedCheck.ok;
  const now = (() => {
    try {
      const t = (options.now ?? Date.now)();
      return Number.isFinite(t) ? t : Date.now();
    } catch {
      return Date.now();
    }
  })();
  return {
    status: ok ? 'ok' : 'degraded',
    database,
    scheduler,
    dali: daliOut,
    version: typeof options.version === 'string' ? options.version : 'unknown',
    ts: new Date(now).toISOString(),
    checks: { database: dbCheck, dali: daliCheck, scheduler: schedCheck },
  };
}

/** HTTP status for a report: 200 when ok, 503 when degraded (load balancers take the box out). */
export function healthHttpStatus(report: HealthReport): 200 | 503 {
  return report.status === 'ok' ? 200 : 503;
}

// ---- probe helpers (the Node-RED side supplies the sessions and jobs) ----------

/** What the dali-bus owner's BusSession offers (lib/dali/bus-session). */
export interface BusSessionLike {
  readonly status: { readonly kind: string; readonly queued?: number; readonly detail?: string };
  readonly isOpen: boolean;
  readonly userCount: number;
  readonly bus: { readonly queueLength: number; knownShortAddresses(): number[] } | null;
}

/** DALI part of the health report: interface state ("busy" counts as connected) and a diagnostics summary. */
export function daliProbe(session: BusSessionLike, interfaceType: string): DaliProbeResult {
  const s = session.status;
  const bus = session.bus;
  const state = !session.isOpen && session.userCount === 0 ? 'closed' : s.kind === 'busy' ? 'connected' : s.kind;
  const out: DaliProbeResult = {
    state,
    kind: interfaceType,
    diagnostics: {
      status: s.kind,
      queueLength: bus?.queueLength ?? s.queued ?? 0,
      knownGear: bus?.knownShortAddresses().length ?? 0,
      users: session.userCount,
    },
  };
  if (s.detail !== undefined) out.detail = s.detail;
  else if (state === 'closed') out.detail = 'no node uses this bus';
  return out;
}

/** A scheduled job's state as a retention-prune node registers it. */
export interface SchedulerJobState {
  state: 'running' | 'stopped';
  nextRun: number | null;
  lastRun: number | null;
  lastError: string | null;
}

/**
 * The scheduler part of the health report from every registered job:
 * "running" only when each is; earliest nextRun, latest lastRun, the first
 * lastError. null when no job is registered (health: "not configured").
 */
export function combineSchedulerStates(
  jobs: ReadonlyArray<SchedulerJobState & { name?: string }>,
): (SchedulerProbeResult & { jobs: number }) | null {
  if (jobs.length === 0) return null;
  const min = (v: Array<number | null>): number | null =>
    v.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.min(m, x)), null);
  const max = (v: Array<number | null>): number | null =>
    v.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null);
  return {
    state: jobs.every((j) => j.state === 'running') ? 'running' : 'stopped',
    nextRun: min(jobs.map((j) => j.nextRun)),
    lastRun: max(jobs.map((j) => j.lastRun)),
    lastError: jobs.find((j) => j.lastError !== null)?.lastError ?? null,
    jobs: jobs.length,
  };
}

let cachedVersion: string | null = null;

/** `version` of this package's package.json, found walking up from `startDir`; "unknown" when not found. */
export function packageVersion(startDir: string = __dirname): string {
  if (cachedVersion !== null) return cachedVersion;
  let dir = startDir;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === '@smart-lighting-dali/node-red-smart-lighting-dali' && typeof pkg.version === 'string') {
        cachedVersion = pkg.version;
        return cachedVersion;
      }
    } catch {
      // not here: one level up
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'unknown';
}
