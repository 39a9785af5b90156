/**
 * Alerts in the store (what `lighting-alerts` does, without Node-RED):
 *
 *   AlertBook         applies AlertActions (lib/contracts/alert-input) to a
 *                     store -> AlertEvent[]
 *   DisconnectWatch   "not connected for longer than N s" -> down/up
 *
 * The alerts themselves are typed values built in lib/contracts/alerts.ts;
 * the book stores them as they are.
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
import { failingGearOf, lampFailureRow, type AlertKind, type GearFailure } from '../contracts/alerts';
import { AlertInputError, type AlertAction } from '../contracts/alert-input';
import { isPlainObject as isRec } from '../contracts/values';
import type { AlertRecord, AlertRow } from './rows';

export interface AlertEvent {
  event: 'raised' | 'resolved';
  alert: AlertRecord;
}

/** The part of LightingStore (lib/store/store) the book uses. */
export interface AlertStorePort {
  raiseAlert(row: AlertRow): Promise<{ id: number; created: boolean }>;
  resolveAlert(id: number, by: string, at?: number): Promise<{ found: false } | { found: true; changed: boolean; alert: AlertRecord }>;
  getAlert(id: number): Promise<AlertRecord | null>;
  alerts(q: {
    status?: 'active' | 'resolved' | 'all';
    kind?: AlertKind;
    zone?: string;
    since?: number;
    limit?: number;
    gateway?: string;
  }): Promise<{ items: AlertRecord[]; total: number }>;
  /** The gateway whose alerts this book raises and resolves ('' = not set); absent = every gateway. */
  readonly gateway?: string;
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
    const page = await store.alerts({
      status: 'active',
      kind,
      ...(store.gateway !== undefined ? { gateway: store.gateway } : {}),
      ...(zone !== null ? { zone } : {}),
      limit: 1000,
    });
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
