/**
 * Alerts from the events of the other nodes (what `lighting-alerts` does,
 * without Node-RED):
 *
 *   interpretAlertMessage   a message -> one AlertAction (or AlertInputError)
 *   AlertBook               applies actions to a store -> AlertEvent[]
 *   DisconnectWatch         "not connected for longer than N s" -> down/up
 *
 * Messages understood (recognised by payload.kind, then topic):
 * - lsd-sensor-in output 2: `stale` raises sensorStale, `recovered` resolves
 *   it (the zone's; not when the active one names another sensor),
 *   `manualChange` is ignored.
 * - ai-decide output 2: topic `alert` with kind `aiCircuitOpen` raises
 *   aiCircuitOpen, `aiCircuitClosed` resolves it; topic `telemetry` is ignored.
 * - dali-dt8-out diagnostics (payload.kind `diagnostics`): gear that is
 *   missing, reports a control gear failure or a lamp failure is failing,
 *   gear that answers without either is healthy.
 * - topic `alert` with {kind, zone?, severity?, message, data?}: raise;
 *   topic `resolve` with {id} or {kind, zone?}: resolve.
 *
 * Lamp failures: the store keeps at most one active alert per kind and zone
 * (unique index), so one lampFailure alert per zone carries every failing
 * gear of that zone in `data.gear` ([{address, reason}], sorted). When that
 * set changes the alert is resolved ("superseded") and a new one raised with
 * the new set; when it empties the alert is resolved ("healthy"). A report
 * that changes nothing emits nothing (dedupe per gear address).
 *
 * AlertBook runs its actions one after another (a report and a recovery of
 * the same zone never interleave); a failed action rejects its own promise
 * and does not stop later ones.
 */
import { ALERT_KINDS, ALERT_SEVERITIES, type AlertKind, type AlertSeverity } from './schema';
import type { AlertRecord, AlertRow } from './rows';

/** A message the alerts node cannot use (the node answers done(err)). */
export class AlertInputError extends Error {
  override readonly name = 'AlertInputError';
}

export type GearFailure = 'missing' | 'controlGearFailure' | 'lampFailure';

/** One gear of a diagnostics report: failing (with why) or healthy (null). */
export interface GearHealth {
  address: string;
  failing: GearFailure | null;
}

/** What a message asks for. */
export type AlertAction =
  | { type: 'ignore'; reason: string }
  | { type: 'raise'; row: AlertRow }
  /** Resolve the active alert of kind+zone; `match`: data fields that must not name something else. */
  | { type: 'resolve'; kind: AlertKind; zone: string | null; by: string; match?: Record<string, string> }
  | { type: 'resolveId'; id: number; by: string }
  | { type: 'gear'; zone: string | null; report: string; ts?: number; gear: GearHealth[] };

export interface AlertEvent {
  event: 'raised' | 'resolved';
  alert: AlertRecord;
}

/** The part of LightingStore (lib/store/store) the book uses. */
export interface AlertStorePort {
  raiseAlert(row: AlertRow): Promise<{ id: number; created: boolean }>;
  resolveAlert(id: number, by: string, at?: number): Promise<{ found: false } | { found: true; changed: boolean; alert: AlertRecord }>;
  getAlert(id: number): Promise<AlertRecord | null>;
  alerts(q: { status?: 'active' | 'resolved' | 'all'; kind?: AlertKind; zone?: string; since?: number; limit?: number; gateway?: string }): Promise<{ items: AlertRecord[]; total: number }>;
  /** The gateway whose alerts this book raises and resolves ('' = not set); absent = every gateway. */
  readonly gateway?: string;
}

/** Severity of an alert raised without one. */
export const DEFAULT_SEVERITY: Record<AlertKind, AlertSeverity> = {
  lampFailure: 'critical',
  sensorStale: 'warning',
  busDisconnected: 'critical',
  aiCircuitOpen: 'warning',
  storage: 'critical',
  other: 'warning',
};

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const isKind = (v: unknown): v is AlertKind => typeof v === 'string' && (ALERT_KINDS as readonly string[]).includes(v);
const isSeverity = (v: unknown): v is AlertSeverity => typeof v === 'string' && (ALERT_SEVERITIES as readonly string[]).includes(v);
const iso = (ms: number | undefined): string => (ms === undefined ? '?' : new Date(ms).toISOString());
const inZone = (zone: string | null): string => (zone === null ? '' : ` in zone ${zone}`);

/** The zone of a payload (a non-empty string), else the default; null = site-wide. */
function zoneOf(p: Rec, fallback: string | null): string | null {
  if (p.zone === undefined || p.zone === null || p.zone === '') return fallback;
  const z = str(p.zone);
  if (z === undefined) throw new AlertInputError(`payload.zone must be a non-empty string, got ${JSON.stringify(p.zone)}`);
  return z;
}

/** How one gear of a diagnostics report is doing. */
export function gearHealth(g: unknown): GearHealth {
  if (!isRec(g) || str(g.address) === undefined) throw new AlertInputError('diagnostics: every payload.gear entry needs an address');
  const address = g.address as string;
  if (g.present === false) return { address, failing: 'missing' };
  const status = isRec(g.status) ? g.status : {};
  if (status.controlGearFailure === true) return { address, failing: 'controlGearFailure' };
  if (g.lampFailure === true || status.lampFailure === true) return { address, failing: 'lampFailure' };
  return { address, failing: null };
}

/**
 * What message `msg` asks for. `defaults.zone` is used when the message has
 * none. Throws AlertInputError for a message that is none of the known ones.
 */
export function interpretAlertMessage(msg: { topic?: unknown; payload?: unknown }, defaults: { zone: string | null }): AlertAction {
  const topic = typeof msg.topic === 'string' ? msg.topic : undefined;
  const p = msg.payload;
  if (!isRec(p)) throw new AlertInputError(`payload must be an object, got ${p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p}`);
  const kind = p.kind;
  if (topic === 'telemetry') return { type: 'ignore', reason: 'telemetry' };
  switch (kind) {
    case 'manualChange':
      return { type: 'ignore', reason: 'manualChange' };
    case 'stale': {
      const zone = zoneOf(p, defaults.zone);
      const sensorId = str(p.sensorId) ?? null;
      const silentS = num(p.silentS) ?? null;
      const lastSeen = num(p.lastSeen) ?? null;
      const message = `Sensor ${sensorId ?? '?'}${inZone(zone)} sent nothing for ${silentS === null ? '?' : Math.round(silentS)} s`;
      return { type: 'raise', row: withTs({ zone, kind: 'sensorStale', severity: 'warning', message, data: { sensorId, lastSeen, silentS } }, p) };
    }
    case 'recovered': {
      const sensorId = str(p.sensorId);
      return { type: 'resolve', kind: 'sensorStale', zone: zoneOf(p, defaults.zone), by: 'recovered', ...(sensorId ? { match: { sensorId } } : {}) };
    }
    case 'aiCircuitClosed':
      return { type: 'resolve', kind: 'aiCircuitOpen', zone: zoneOf(p, defaults.zone), by: 'aiCircuitClosed' };
    case 'diagnostics': {
      if (!Array.isArray(p.gear)) throw new AlertInputError('diagnostics: payload.gear must be an array');
      const gear = p.gear.map(gearHealth);
      const ts = tsOf(p);
      return { type: 'gear', zone: zoneOf(p, defaults.zone), report: str(p.address) ?? '?', ...(ts !== undefined ? { ts } : {}), gear };
    }
    default:
      break;
  }
  if (topic === 'alert') {
    // ai-decide's circuit alert has no message of its own.
    if (kind === 'aiCircuitOpen' && p.message === undefined) {
      const zone = zoneOf(p, defaults.zone);
      const model = str(p.model) ?? null;
      const reason = str(p.reason) ?? null;
      const retryAt = num(p.retryAt) ?? null;
      const data = { model, reason, retryAt, consecutiveFailures: num(p.consecutiveFailures) ?? null, openedAt: num(p.openedAt) ?? null };
      const message = `AI circuit open (${model ?? '?'}): ${reason ?? 'failures'}; rules decide until ${iso(retryAt ?? undefined)}`;
      return { type: 'raise', row: withTs({ zone, kind: 'aiCircuitOpen', severity: 'warning', message, data }, p) };
    }
    return genericRaise(p, defaults.zone);
  }
  if (topic === 'resolve') return genericResolve(p, defaults.zone);
  throw new AlertInputError(
    `not an alert input: expected payload.kind stale, recovered, manualChange, aiCircuitOpen, aiCircuitClosed or diagnostics, or topic alert / resolve (got topic ${JSON.stringify(topic ?? null)}, kind ${JSON.stringify(kind ?? null)})`,
  );
}

function tsOf(p: Rec): number | undefined {
  const ts = num(p.ts);
  return ts !== undefined && ts >= 0 ? Math.floor(ts) : undefined;
}

/** `row` with the payload's ts, when it has one. */
function withTs(row: AlertRow, p: Rec): AlertRow {
  const ts = tsOf(p);
  if (ts !== undefined) row.ts = ts;
  return row;
}

function genericRaise(p: Rec, fallbackZone: string | null): AlertAction {
  if (!isKind(p.kind)) throw new AlertInputError(`alert: payload.kind must be one of ${ALERT_KINDS.join(', ')}, got ${JSON.stringify(p.kind ?? null)}`);
  if (p.severity !== undefined && !isSeverity(p.severity)) {
    throw new AlertInputError(`alert: payload.severity must be one of ${ALERT_SEVERITIES.join(', ')}, got ${JSON.stringify(p.severity)}`);
  }
  const message = str(p.message);
  if (message === undefined) throw new AlertInputError('alert: payload.message must be a non-empty string');
  const row = withTs({ zone: zoneOf(p, fallbackZone), kind: p.kind, severity: p.severity ?? DEFAULT_SEVERITY[p.kind], message }, p);
  if (p.data !== undefined) row.data = p.data;
  return { type: 'raise', row };
}

function genericResolve(p: Rec, fallbackZone: string | null): AlertAction {
  const by = p.by === undefined ? 'manual' : str(p.by);
  if (by === undefined || by.length > 200) throw new AlertInputError('resolve: payload.by must be a non-empty string of at most 200 characters');
  if (p.id !== undefined) {
    if (typeof p.id !== 'number' || !Number.isSafeInteger(p.id) || p.id < 1) throw new AlertInputError(`resolve: payload.id must be a positive integer, got ${JSON.stringify(p.id)}`);
    return { type: 'resolveId', id: p.id, by };
  }
  if (!isKind(p.kind)) throw new AlertInputError(`resolve: needs payload.id, or payload.kind (one of ${ALERT_KINDS.join(', ')}) and zone`);
  return { type: 'resolve', kind: p.kind, zone: zoneOf(p, fallbackZone), by };
}

/** The failing gear an active lampFailure alert lists (its data.gear). */
export function failingGearOf(alert: AlertRecord | null): Map<string, GearFailure> {
  const out = new Map<string, GearFailure>();
  const data = alert?.data;
  if (!isRec(data) || !Array.isArray(data.gear)) return out;
  for (const g of data.gear) {
    if (isRec(g) && typeof g.address === 'string' && (g.reason === 'missing' || g.reason === 'controlGearFailure' || g.reason === 'lampFailure')) {
      out.set(g.address, g.reason);
    }
  }
  return out;
}

const REASON_TEXT: Record<GearFailure, string> = { missing: 'missing', controlGearFailure: 'control gear failure', lampFailure: 'lamp failure' };

/** Short addresses in bus order (A2 before A10). */
function byAddress(a: string, b: string): number {
  const na = Number(a.replace(/^\D+/, ''));
  const nb = Number(b.replace(/^\D+/, ''));
  return Number.isFinite(na) && Number.isFinite(nb) && na !== nb ? na - nb : a.localeCompare(b);
}

/** The lampFailure alert for a set of failing gear. */
export function lampFailureRow(zone: string | null, failing: Map<string, GearFailure>, report: string, ts?: number): AlertRow {
  const gear = [...failing.entries()].sort((x, y) => byAddress(x[0], y[0])).map(([address, reason]) => ({ address, reason }));
  const list = gear.map((g) => `${g.address} (${REASON_TEXT[g.reason]})`).join(', ');
  const row: AlertRow = {
    zone,
    kind: 'lampFailure',
    severity: 'critical',
    message: `Lamp failure${inZone(zone)}: ${list}`.slice(0, 1000),
    data: { address: gear[0]?.address ?? null, addresses: gear.map((g) => g.address), gear, report },
  };
  if (ts !== undefined) row.ts = ts;
  return row;
}

function sameFailures(a: Map<string, GearFailure>, b: Map<string, GearFailure>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Applies actions to the store, one at a time, and says what changed. */
export class AlertBook {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: () => Promise<AlertStorePort>) {}

  /** Runs `action` after the ones before it; the alerts it raised or resolved. */
  apply(action: AlertAction): Promise<AlertEvent[]> {
    const run = this.chain.then(() => this.applyNow(action));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every action applied so far has finished. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /** Active alerts in the store (every kind and zone). */
  async activeCount(): Promise<number> {
    const store = await this.store();
    // since: 0 (every row) gives the COUNT a parameter: a cached parameterless statement answers
    // only its first get() (node-sqlite3 does not reset it), so every later count would be 0.
    return (await store.alerts({ status: 'active', since: 0, limit: 1 })).total;
  }

  private async applyNow(action: AlertAction): Promise<AlertEvent[]> {
    if (action.type === 'ignore') return [];
    const store = await this.store();
    switch (action.type) {
      case 'raise':
        return this.raise(store, action.row);
      case 'resolveId': {
        const r = await store.resolveAlert(action.id, action.by);
        if (!r.found) throw new AlertInputError(`resolve: no alert with id ${action.id}`);
        return r.changed ? [{ event: 'resolved', alert: r.alert }] : [];
      }
      case 'resolve': {
        const active = await this.findActive(store, action.kind, action.zone);
        if (!active || !matches(active, action.match)) return [];
        return this.resolve(store, active.id, action.by);
      }
      case 'gear':
        return this.gear(store, action);
    }
  }

  private async raise(store: AlertStorePort, row: AlertRow): Promise<AlertEvent[]> {
    const { id, created } = await store.raiseAlert(row);
    if (!created) return [];
    const alert = await store.getAlert(id);
    return alert ? [{ event: 'raised', alert }] : [];
  }

  private async resolve(store: AlertStorePort, id: number, by: string): Promise<AlertEvent[]> {
    const r = await store.resolveAlert(id, by);
    return r.found && r.changed ? [{ event: 'resolved', alert: r.alert }] : [];
  }

  private async findActive(store: AlertStorePort, kind: AlertKind, zone: string | null): Promise<AlertRecord | null> {
    const page = await store.alerts({ status: 'active', kind, ...(store.gateway !== undefined ? { gateway: store.gateway } : {}), ...(zone !== null ? { zone } : {}), limit: 1000 });
    return page.items.find((a) => a.zone === zone) ?? null;
  }

  private async gear(store: AlertStorePort, action: Extract<AlertAction, { type: 'gear' }>): Promise<AlertEvent[]> {
    const active = await this.findActive(store, 'lampFailure', action.zone);
    const before = failingGearOf(active);
    const after = new Map(before);
    for (const g of action.gear) {
      if (g.failing === null) after.delete(g.address);
      else after.set(g.address, g.failing);
    }
    if (active && sameFailures(before, after)) return [];
    if (!active && after.size === 0) return [];
    const events: AlertEvent[] = [];
    if (active) events.push(...(await this.resolve(store, active.id, after.size === 0 ? 'healthy' : 'superseded')));
    if (after.size > 0) events.push(...(await this.raise(store, lampFailureRow(action.zone, after, action.report, action.ts))));
    return events;
  }
}

/** The active alert's data does not name another value for any field of `match`. */
function matches(alert: AlertRecord, match: Record<string, string> | undefined): boolean {
  if (!match || !isRec(alert.data)) return true;
  const data = alert.data;
  return Object.entries(match).every(([k, v]) => data[k] === undefined || data[k] === null || data[k] === v);
}

// ---- bus connection ----

/** A BusStatus kind (lib/dali/bus-session) as connected (true), not connected (false) or no change (null: closed). */
export function busConnected(kind: string): boolean | null {
  if (kind === 'connected' || kind === 'busy') return true;
  if (kind === 'closed') return null;
  return false;
}

export interface TimerPort {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: TimerPort = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Calls `down` once the connection has been lost for `delayMs` without
 * interruption (0 = at the first report of it), and `up` on every change to
 * connected, including the first one (an alert left from before a restart
 * is then resolved). Nothing is called after stop().
 */
export class DisconnectWatch {
  private state: 'unknown' | 'up' | 'pending' | 'down' | 'stopped' = 'unknown';
  private timer: unknown = null;

  constructor(
    private readonly delayMs: number,
    private readonly handlers: { down(): void; up(): void },
    private readonly timers: TimerPort = realTimers,
  ) {}

  update(connected: boolean): void {
    if (this.state === 'stopped') return;
    if (connected) {
      this.cancel();
      if (this.state === 'up') return;
      this.state = 'up';
      this.handlers.up();
      return;
    }
    if (this.state === 'pending' || this.state === 'down') return;
    if (this.delayMs <= 0) {
      this.state = 'down';
      this.handlers.down();
      return;
    }
    this.state = 'pending';
    this.timer = this.timers.set(() => {
      this.timer = null;
      if (this.state !== 'pending') return;
      this.state = 'down';
      this.handlers.down();
    }, this.delayMs);
  }

  /** Whether `down` was called and no `up` since. */
  get isDown(): boolean {
    return this.state === 'down';
  }

  stop(): void {
    this.cancel();
    this.state = 'stopped';
  }

  private cancel(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }
}

/** The busDisconnected alert of bus `busId`. */
export function busDisconnectedRow(zone: string | null, bus: { id: string; name: string }, status: { kind: string; detail?: string }, delayS: number): AlertRow {
  const detail = status.detail ? ` (${status.detail})` : '';
  return {
    zone,
    kind: 'busDisconnected',
    severity: 'critical',
    message: `DALI bus ${bus.name} not connected for ${delayS} s: ${status.kind}${detail}`.slice(0, 1000),
    data: { bus: bus.id, busName: bus.name, status: status.kind, detail: status.detail ?? null, delayS },
  };
}
