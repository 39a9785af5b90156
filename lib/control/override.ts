/**
 * Override gate behind `override-gate`: manual overrides per zone plus an
 * anti-flicker guard for automatic setpoints.
 *
 * Manual overrides
 * - A setpoint with source "manual" always passes and starts an override for
 *   its zone lasting `setpoint.overrideMinutes ?? config.overrideMinutes`
 *   (default 30, what commercial DALI sensors do; 0: pass without holding).
 * - A manual change seen on the bus (wall panel, another controller):
 *   `noteManualChange(zone, now, ...)`, or `observe(zone, level, now)`, which
 *   calls it when the observed level differs from the last level this gate
 *   passed by more than 10 % or 100 K (Home Assistant Adaptive Lighting's
 *   "manually controlled" rule). Observe after fades have finished.
 * - While an override holds, automatic setpoints (ai, rules, schedule) are
 *   refused with blockedBy "override". `clear(zone)` ends it early; it ends
 *   by itself at `expiresAt` (checked lazily at each call; `nextExpiry()`
 *   tells a node when to set a timer).
 * - toJSON() / fromRows() persist overrides so a restart honours them; rows
 *   may use camelCase or snake_case keys (a SQLite row), times in epoch ms or
 *   ISO text; invalid or expired rows are skipped.
 *
 * Anti-flicker guard (automatic setpoints only; the first one per zone passes):
 * - deadband: refused (blockedBy "deadband") when intensity moves less than
 *   deadbandPct points and colour less than cctDeadbandKelvin, except
 *   switching off (to 0 %) or on (from 0 %);
 * - minimum interval: refused (blockedBy "min-interval") within minIntervalS
 *   of the last passed change, and DEFERRED: the gate keeps the zone's newest
 *   such setpoint and releaseDue() gives it back once the interval has run
 *   out. A decider sends a setpoint only when its decision changes, so a
 *   refused dim-down (the room fell vacant a moment after a change) would
 *   otherwise never reach the light;
 * - maximum step: CLAMPED, not refused: intensity moves at most maxStepPct
 *   points down toward the target and the setpoint passes with limitedBy
 *   "max-step". Refusing would leave the light where it is, the opposite of
 *   what the decider wants. The rest is deferred like a min-interval refusal,
 *   so the light gets there one step per interval by itself.
 *   Tell the decider what passed (RulesController.noteOutput).
 * - A deferred setpoint is dropped by anything newer for its zone: another
 *   automatic setpoint (which may be deferred in its place), a manual
 *   setpoint or a manual change (override), or a clear.
 *   Rises are not limited unless maxStepUpPct is set: too little light is the
 *   risk (someone walked in, a cloud came), too much only costs energy, and
 *   min-interval and deadband already stop flicker.
 * - waking (the light is at or below wakeBelowPct and the setpoint raises
 *   it): no interval and no step limit, so someone walking into a dark room
 *   gets light at once.
 * - urgent rise (the setpoint raises the light by at least urgentRisePct
 *   points): no interval, so a person returning to a zone dimmed a moment
 *   ago, or daylight falling fast, is not left in too little light for a
 *   minute. Reductions never skip the interval, so up/down flicker stays
 *   blocked on the way down.
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  isFiniteNumber,
  isPlainObject,
  MAX_ID_LENGTH,
  MAX_OVERRIDE_HOLD_MINUTES,
  parseTimeMs,
  type Setpoint,
} from '../contracts';
import { ControlInputError, validateSetpoint } from './types';

export interface OverrideGateConfig {
  /** Default override length, minutes (0: manual setpoints do not hold). */
  overrideMinutes: number;
  /** Minimum time between two automatic changes of a zone, seconds. */
  minIntervalS: number;
  /** Minimum time after the last automatic change before an automatic rise, seconds (null: minIntervalS). */
  minIntervalUpS: number | null;
  /** Intensity deadband for automatic changes, points. */
  deadbandPct: number;
  /** Colour deadband for automatic changes, kelvin. */
  cctDeadbandKelvin: number;
  /** Largest automatic reduction per change, points. */
  maxStepPct: number;
  /** Largest automatic rise per change, points (default null: rises are not limited). */
  maxStepUpPct: number | null;
  /** Rises from at or below this level skip interval and step limits, percent. */
  wakeBelowPct: number;
  /** A rise of at least this many points skips the minimum interval, points (null: never). */
  urgentRisePct: number | null;
  /** observe(): an intensity difference above this is a manual change, points. */
  manualIntensityThresholdPct: number;
  /** observe(): a colour difference above this is a manual change, kelvin. */
  manualKelvinThreshold: number;
}

export const DEFAULT_OVERRIDE_GATE_CONFIG: Readonly<OverrideGateConfig> = Object.freeze({
  overrideMinutes: 30,
  minIntervalS: 60,
  minIntervalUpS: 30,
  deadbandPct: 5,
  cctDeadbandKelvin: 50,
  maxStepPct: 20,
  maxStepUpPct: null,
  wakeBelowPct: 10,
  urgentRisePct: 20,
  manualIntensityThresholdPct: 10,
  manualKelvinThreshold: 100,
});

export type OverrideSource = 'manual' | 'bus';

/** One active override (also the persisted row). */
export interface OverrideRow {
  zone: string;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms. */
  expiresAt: number;
  source: OverrideSource;
  intensity: number | null;
  cct: number | null;
  reason: string;
}

export type BlockedBy = 'override' | 'min-interval' | 'deadband' | 'invalid';

export interface GateResult {
  passed: boolean;
  /** What to send on (possibly step-limited); null when refused. */
  setpoint: Setpoint | null;
  blockedBy?: BlockedBy;
  limitedBy?: 'max-step';
  /** Why it passed, was limited or refused (human-readable). */
  reason: string;
  /** The override holding the zone after this call, if any. */
  override: OverrideRow | null;
  /** Overrides that expired during this call (for the store to delete). */
  expired: OverrideRow[];
  /** Held back (min-interval) or only partly passed (max-step): the gate sends it on by itself at this time, epoch ms. */
  deferredUntil?: number;
}

/** An automatic setpoint the gate sends on by itself when `dueAt` comes. */
interface Deferred {
  setpoint: Setpoint;
  dueAt: number;
  /** When it was first held back, epoch ms. */
  since: number;
}

interface Applied {
  intensity: number;
  cct: number;
  at: number;
  automatic: boolean;
}

/** One zone's last passed or noted level, as appliedJSON() saves it. */
export interface AppliedRow extends Applied {
  zone: string;
}

function parseAppliedRow(raw: unknown): AppliedRow | null {
  if (!isPlainObject(raw)) return null;
  const { zone, intensity, cct, at, automatic } = raw;
  if (typeof zone !== 'string' || zone.trim() === '') return null;
  if (!isFiniteNumber(intensity) || intensity < 0 || intensity > 100) return null;
  if (!isFiniteNumber(cct) || cct < 1000 || cct > 20000) return null;
  if (!isFiniteNumber(at) || typeof automatic !== 'boolean') return null;
  return { zone, intensity, cct, at, automatic };
}

const MINUTE_MS = 60_000;

/** Validate and fill a gate configuration. @throws ControlInputError */
export function resolveOverrideGateConfig(input: Partial<OverrideGateConfig> | Record<string, unknown> = {}): OverrideGateConfig {
  const c: OverrideGateConfig = { ...DEFAULT_OVERRIDE_GATE_CONFIG };
  if (isPlainObject(input)) {
    for (const key of Object.keys(DEFAULT_OVERRIDE_GATE_CONFIG) as (keyof OverrideGateConfig)[]) {
      const v = input[key];
      if (v !== undefined) (c as unknown as Record<string, unknown>)[key] = v;
    }
  }
  const check = (key: keyof OverrideGateConfig, lo: number, hi: number, loExclusive = false): void => {
    const v = c[key];
    if (!isFiniteNumber(v) || (loExclusive ? v <= lo : v < lo) || v > hi) {
      throw new ControlInputError(key, `must be a number in ${loExclusive ? '(' : '['}${lo}, ${hi}]`);
    }
  };
  check('overrideMinutes', 0, MAX_OVERRIDE_HOLD_MINUTES);
  check('minIntervalS', 0, 86_400);
  if (c.minIntervalUpS !== null) check('minIntervalUpS', 0, 86_400);
  check('deadbandPct', 0, 100);
  check('cctDeadbandKelvin', 0, 10_000);
  check('maxStepPct', 0, 100, true);
  if (c.maxStepUpPct !== null) check('maxStepUpPct', 0, 100, true);
  check('wakeBelowPct', 0, 100);
  if (c.urgentRisePct !== null) check('urgentRisePct', 0, 100, true);
  check('manualIntensityThresholdPct', 0, 100);
  check('manualKelvinThreshold', 0, 20_000);
  return c;
}

/**
 * Home Assistant's rule: a level differing from what was commanded by more
 * than the thresholds was changed by someone else.
 */
export function isManualChange(
  commanded: { intensity: number; cct: number },
  observed: { intensity?: number | null; cct?: number | null },
  thresholds: { intensityPct: number; kelvin: number } = { intensityPct: 10, kelvin: 100 },
): boolean {
  const i = observed.intensity;
  const k = observed.cct;
  return (
    (isFiniteNumber(i) && Math.abs(i - commanded.intensity) > thresholds.intensityPct) ||
    (isFiniteNumber(k) && Math.abs(k - commanded.cct) > thresholds.kelvin)
  );
}

/** Parse one persisted row (camelCase or snake_case); null if invalid. */
export function parseOverrideRow(raw: unknown): OverrideRow | null {
  if (!isPlainObject(raw)) return null;
  const zone = raw.zone;
  if (typeof zone !== 'string' || zone.trim() === '' || zone.length > MAX_ID_LENGTH) return null;
  const startedAt = parseTimeMs(raw.startedAt ?? raw.started_at);
  const expiresAt = parseTimeMs(raw.expiresAt ?? raw.expires_at);
  if (startedAt === null || expiresAt === null || expiresAt < startedAt) return null;
  const source: OverrideSource = raw.source === 'bus' ? 'bus' : 'manual';
  const i = raw.intensity;
  const k = raw.cct;
  return {
    zone,
    startedAt,
    expiresAt,
    source,
    intensity: isFiniteNumber(i) && i >= 0 && i <= 100 ? i : null,
    cct: isFiniteNumber(k) && k >= ACCEPTED_KELVIN_MIN && k <= ACCEPTED_KELVIN_MAX ? k : null,
    reason: typeof raw.reason === 'string' ? raw.reason.slice(0, 500) : '',
  };
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
}

export class OverrideGate {
  readonly config: OverrideGateConfig;
  private readonly overrides = new Map<string, OverrideRow>();
  private readonly applied = new Map<string, Applied>();
  /** Per zone: the message whose manual setpoint started the override in force (that very row), and the override it replaced. */
  private readonly manualStarts = new Map<string, { msgId: string; row: OverrideRow; replaced: OverrideRow | null }>();
  private readonly deferred = new Map<string, Deferred>();

  /** @throws ControlInputError for a bad setting. */
  constructor(config: Partial<OverrideGateConfig> | Record<string, unknown> = {}) {
    this.config = resolveOverrideGateConfig(config);
  }

  /** A gate holding the persisted overrides still active at `now`. */
  static fromRows(rows: unknown, config: Partial<OverrideGateConfig> | Record<string, unknown> = {}, now?: number): OverrideGate {
    const gate = new OverrideGate(config);
    gate.loadRows(rows, now);
    return gate;
  }

  /** Load persisted rows; invalid ones and ones expired at `now` are skipped. */
  loadRows(rows: unknown, now?: number): { loaded: number; skipped: number } {
    let loaded = 0;
    let skipped = 0;
    for (const raw of Array.isArray(rows) ? rows : []) {
      const row = parseOverrideRow(raw);
      if (!row || (isFiniteNumber(now) && row.expiresAt <= now)) {
        skipped++;
        continue;
      }
      const existing = this.overrides.get(row.zone);
      if (!existing || existing.startedAt <= row.startedAt) this.overrides.set(row.zone, row);
      loaded++;
    }
    return { loaded, skipped };
  }

  /** Active overrides, JSON-safe, for persistence. */
  toJSON(): OverrideRow[] {
    return [...this.overrides.values()].map((r) => ({ ...r }));
  }

  /**
   * What the gate last passed or noted, per zone, JSON-safe. Saved and given
   * back to restoreApplied() after a restart, the anti-flicker guard (interval,
   * deadband, step) and the manual-change detection go on from the level the
   * gear was left at, instead of passing the first setpoint whatever it is.
   */
  appliedJSON(): AppliedRow[] {
    return [...this.applied].map(([zone, a]) => ({ zone, ...a }));
  }

  /** Adds saved appliedJSON() rows for zones the gate does not know yet; invalid rows are skipped. @returns zones restored */
  restoreApplied(rows: unknown): string[] {
    const zones: string[] = [];
    for (const raw of Array.isArray(rows) ? rows : []) {
      const row = parseAppliedRow(raw);
      if (!row || this.applied.has(row.zone)) continue;
      const { zone, ...applied } = row;
      this.applied.set(zone, applied);
      zones.push(zone);
    }
    return zones;
  }

  /** Remove and return overrides expired at `now`. */
  expire(now: number): OverrideRow[] {
    const out: OverrideRow[] = [];
    for (const [zone, row] of this.overrides) {
      if (row.expiresAt <= now) {
        this.overrides.delete(zone);
        out.push(row);
      }
    }
    return out;
  }

  /** The override holding `zone` at `now` (expired ones are dropped). */
  active(zone: string, now: number): OverrideRow | null {
    const row = this.overrides.get(zone);
    if (!row) return null;
    if (row.expiresAt <= now) {
      this.overrides.delete(zone);
      return null;
    }
    return { ...row };
  }

  /** Earliest expiry among active overrides, epoch ms (null: none). */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const row of this.overrides.values()) if (next === null || row.expiresAt < next) next = row.expiresAt;
    return next;
  }

  /**
   * The setpoint of message `msgId` for `zone` did not reach the gear (the
   * interface unplugged, a bus error): the level last passed for the zone is
   * forgotten (its next setpoint passes as the first), and if that message's
   * manual setpoint started the override still in force, the override ends
   * and the one it replaced, if still running at `now`, comes back. A request
   * that failed holds nothing; a later override (another message, a change on
   * the bus) is left alone.
   */
  notSent(zone: string, msgId: string | null, now: number): { cleared: boolean; restored: OverrideRow | null } {
    this.applied.delete(zone);
    const start = this.manualStarts.get(zone);
    if (start === undefined || msgId === null || start.msgId !== msgId || this.overrides.get(zone) !== start.row) {
      return { cleared: false, restored: null };
    }
    this.manualStarts.delete(zone);
    this.clear(zone);
    const back = start.replaced !== null && start.replaced.expiresAt > now ? start.replaced : null;
    if (back !== null) this.overrides.set(zone, { ...back });
    return { cleared: true, restored: back === null ? null : { ...back } };
  }

  /** End a zone's override now (and drop its deferred setpoint). True if there was an override. */
  clear(zone: string): boolean {
    this.deferred.delete(zone);
    return this.overrides.delete(zone);
  }

  /** When the next deferred setpoint is due, epoch ms (null: none). */
  nextDeferred(): number | null {
    let next: number | null = null;
    for (const d of this.deferred.values()) if (next === null || d.dueAt < next) next = d.dueAt;
    return next;
  }

  /**
   * Gate again every deferred setpoint due at `now` and return what passed
   * (reason prefixed "gate:deferred"). A step-limited one is deferred again
   * for its next step; one the gate refuses now stays deferred or is dropped
   * as submit() decides.
   */
  releaseDue(now: number): GateResult[] {
    const out: GateResult[] = [];
    for (const [zone, d] of [...this.deferred]) {
      if (d.dueAt > now) continue;
      this.deferred.delete(zone);
      const r = this.submit(d.setpoint, now);
      const again = this.deferred.get(zone);
      if (again) again.since = d.since;
      if (!r.passed) continue;
      r.reason = `gate:deferred ${Math.round((now - d.since) / 1000)}s, ${r.reason.replace(/^gate:/, '')}`;
      out.push(r);
    }
    return out;
  }

  private defer(sp: Setpoint, dueAt: number, now: number): number {
    this.deferred.set(sp.zone, { setpoint: sp, dueAt, since: now });
    return dueAt;
  }

  /**
   * Start (or restart) an override for a change made outside this gate.
   * `minutes` 0 records the level without holding. Returns the override or null.
   */
  noteManualChange(
    zone: string,
    now: number,
    opts: { intensity?: number | null; cct?: number | null; minutes?: number; reason?: string; source?: OverrideSource } = {},
  ): OverrideRow | null {
    if (typeof zone !== 'string' || zone.trim() === '' || !isFiniteNumber(now)) return null;
    const intensity = isFiniteNumber(opts.intensity) && opts.intensity >= 0 && opts.intensity <= 100 ? opts.intensity : null;
    const cct = isFiniteNumber(opts.cct) && opts.cct >= ACCEPTED_KELVIN_MIN && opts.cct <= ACCEPTED_KELVIN_MAX ? opts.cct : null;
    const last = this.applied.get(zone);
    this.deferred.delete(zone);
    if (intensity !== null || cct !== null) {
      this.applied.set(zone, {
        intensity: intensity ?? last?.intensity ?? 0,
        cct: cct ?? last?.cct ?? 4000,
        at: now,
        automatic: false,
      });
    }
    const minutesRaw = opts.minutes ?? this.config.overrideMinutes;
    const minutes = isFiniteNumber(minutesRaw) ? Math.min(MAX_OVERRIDE_HOLD_MINUTES, Math.max(0, minutesRaw)) : this.config.overrideMinutes;
    if (minutes <= 0) {
      this.overrides.delete(zone);
      return null;
    }
    const row: OverrideRow = {
      zone,
      startedAt: now,
      expiresAt: now + minutes * MINUTE_MS,
      source: opts.source ?? 'bus',
      intensity,
      cct,
      reason: (opts.reason ?? 'manual change').slice(0, 500),
    };
    this.overrides.set(zone, row);
    return { ...row };
  }

  /**
   * An observed level (e.g. QUERY ACTUAL LEVEL after a fade). If it differs
   * from the last level this gate passed by more than the thresholds, someone
   * changed it by hand: start an override. Returns the new override or null.
   */
  observe(zone: string, observed: { intensity?: number | null; cct?: number | null }, now: number): OverrideRow | null {
    const last = this.applied.get(zone);
    if (!last || !isPlainObject(observed)) return null;
    const manual = isManualChange(last, observed, {
      intensityPct: this.config.manualIntensityThresholdPct,
      kelvin: this.config.manualKelvinThreshold,
    });
    if (!manual) return null;
    return this.noteManualChange(zone, now, { ...observed, reason: 'manual change seen on the bus', source: 'bus' });
  }

  /** The level this gate last passed or noted for a zone. */
  lastApplied(zone: string): { intensity: number; cct: number; at: number } | null {
    const a = this.applied.get(zone);
    return a ? { intensity: a.intensity, cct: a.cct, at: a.at } : null;
  }

  /**
   * Gate one setpoint at `now` (epoch ms). Never throws: an invalid setpoint
   * is refused with blockedBy "invalid".
   */
  submit(input: unknown, now: number, msgId: string | null = null): GateResult {
    const expired = isFiniteNumber(now) ? this.expire(now) : [];
    let sp: Setpoint;
    try {
      if (!isFiniteNumber(now)) throw new ControlInputError('now', 'must be a finite epoch ms');
      sp = validateSetpoint(input);
    } catch (err) {
      const message = err instanceof Error ? err.message : 'invalid setpoint';
      return { passed: false, setpoint: null, blockedBy: 'invalid', reason: `gate:invalid ${message}`, override: null, expired };
    }
    const zone = sp.zone;
    // The newest setpoint for a zone replaces what was deferred (it may be deferred in its place below).
    this.deferred.delete(zone);

    if (sp.source === 'manual') {
      const minutes = sp.overrideMinutes ?? this.config.overrideMinutes;
      const replaced = this.overrides.get(zone) ?? null;
      const row = this.noteManualChange(zone, now, {
        intensity: sp.intensity,
        cct: sp.cct,
        minutes,
        reason: sp.reason || 'manual setpoint',
        source: 'manual',
      });
      // Which message started this override, and what it replaced (notSent).
      const started = this.overrides.get(zone);
      if (row !== null && started !== undefined && msgId !== null) this.manualStarts.set(zone, { msgId, row: started, replaced });
      else this.manualStarts.delete(zone);
      const reason = row ? `gate:manual override until ${iso(row.expiresAt)}` : 'gate:manual (no override)';
      return { passed: true, setpoint: sp, reason, override: row, expired };
    }

    const hold = this.active(zone, now);
    if (hold) {
      const left = Math.ceil((hold.expiresAt - now) / MINUTE_MS);
      return {
        passed: false,
        setpoint: null,
        blockedBy: 'override',
        reason: `gate:blocked by ${hold.source} override until ${iso(hold.expiresAt)} (${left} min left)`,
        override: hold,
        expired,
      };
    }

    const last = this.applied.get(zone);
    if (!last) return this.pass(sp, now, 'gate:first', expired);

    const delta = sp.intensity - last.intensity;
    const dK = Math.abs(sp.cct - last.cct);
    const switching = (sp.intensity === 0 && last.intensity > 0) || (last.intensity === 0 && sp.intensity > 0);
    if (!switching && Math.abs(delta) < this.config.deadbandPct && dK < this.config.cctDeadbandKelvin) {
      return {
        passed: false,
        setpoint: null,
        blockedBy: 'deadband',
        reason: `gate:deadband (${delta >= 0 ? '+' : ''}${delta.toFixed(1)}%, ${Math.round(dK)}K)`,
        override: null,
        expired,
      };
    }
    const waking = last.intensity <= this.config.wakeBelowPct && delta > 0;
    const urgentRise = this.config.urgentRisePct !== null && delta >= this.config.urgentRisePct;
    const intervalS = delta > 0 ? (this.config.minIntervalUpS ?? this.config.minIntervalS) : this.config.minIntervalS;
    const withinInterval = last.automatic && now - last.at < intervalS * 1000;
    if (!waking && !urgentRise && withinInterval) {
      const deferredUntil = this.defer(sp, last.at + intervalS * 1000, now);
      return {
        passed: false,
        setpoint: null,
        blockedBy: 'min-interval',
        reason: `gate:min-interval (${Math.round((now - last.at) / 1000)}s < ${intervalS}s), deferred until ${iso(deferredUntil)}`,
        override: null,
        expired,
        deferredUntil,
      };
    }
    const limit = delta > 0 ? (this.config.maxStepUpPct ?? Infinity) : this.config.maxStepPct;
    if (!waking && Math.abs(delta) > limit) {
      const limited: Setpoint = {
        ...sp,
        intensity: Math.round((last.intensity + Math.sign(delta) * limit) * 10) / 10,
        reason: `${sp.reason}${sp.reason ? '; ' : ''}gate:max-step ${limit}%`,
      };
      const r = this.pass(limited, now, `gate:max-step ${limit}% toward ${sp.intensity}%`, expired);
      r.limitedBy = 'max-step';
      // The rest follows one step per interval (rises with maxStepUpPct: per rise interval); without an interval the decider's next setpoint takes it on.
      if (intervalS > 0) r.deferredUntil = this.defer(sp, now + intervalS * 1000, now);
      return r;
    }
    return this.pass(sp, now, waking ? 'gate:wake' : urgentRise && withinInterval ? 'gate:urgent-rise' : 'gate:pass', expired);
  }

  private pass(sp: Setpoint, now: number, reason: string, expired: OverrideRow[]): GateResult {
    this.applied.set(sp.zone, { intensity: sp.intensity, cct: sp.cct, at: now, automatic: true });
    return { passed: true, setpoint: sp, reason, override: null, expired };
  }
}
