/**
 * Where `override-gate` keeps its manual overrides (and, with a database, its
 * decisions), so that a restart or redeploy honours an override still in force.
 *
 *   OverrideRepository        the interface the node uses
 *   MemoryOverrideRepository  a Map; survives a redeploy when the node keeps
 *                             the instance (by node id), not a process restart
 *   StoreOverrideRepository   rows in the `manual_overrides` table (and gate
 *                             decisions in `decisions`) of a LightingStore
 *
 * The store is typed structurally (`OverrideStore`): lib/control does not
 * import lib/store, and a `LightingStore` fits as is. `storeFromOwner` finds
 * it on a `lighting-store` config node: `owner.getStore()` (a store or a
 * promise of one) or `owner.store`.
 *
 * Writes of one repository run one after another in call order (a save
 * followed by a clear never lands the other way round); a failed write
 * rejects its own promise and does not stop later ones.
 */
import { isFiniteNumber, isPlainObject, MAX_OVERRIDE_HOLD_MINUTES, type Setpoint, type SetpointSource } from '../contracts';
import { energySavingEstimate } from './energy';
import { type OverrideRow, parseOverrideRow } from './override';

/** One gate decision, as written to the `decisions` table. */
export interface GateDecisionRow {
  ts: number;
  zone: string;
  source: SetpointSource;
  intensity: number;
  cct: number;
  reason: string;
  applied: boolean;
  blockedBy: string | null;
  energySavingEstimate: number;
  estimatedWatts: number | null;
  msgId: string | null;
}

export interface OverrideRepository {
  /** Overrides in force at `now` (epoch ms). */
  load(now: number): Promise<OverrideRow[]>;
  /** Persist a started (or restarted) override; it replaces the open one of its zone. */
  save(row: OverrideRow): Promise<void>;
  /** End the open override of `zone` (null: of every zone) at `at` (epoch ms). */
  clear(zone: string | null, at: number): Promise<void>;
  /** Record a gate decision (passed or blocked); a no-op where there is nowhere to record. */
  recordDecision(row: GateDecisionRow): Promise<void>;
  /** The decision recorded for message `msgId` of `zone` since `since` was not sent to the gear after all: not applied. */
  markNotSent(msgId: string, zone: string, detail: string, since: number): Promise<void>;
  /** Resolves when every write issued so far has settled. */
  flush(): Promise<void>;
  /** "memory" or "store". */
  readonly kind: 'memory' | 'store';
}

/** What a stored override row looks like (LightingStore's ManualOverrideRecord). */
export interface StoredOverride {
  zone: string;
  startedAt: number;
  expiresAt: number | null;
  source: string;
  setpoint: unknown;
}

/** The part of LightingStore that StoreOverrideRepository uses. */
export interface OverrideStore {
  activeOverrides(now: number, zone?: string): Promise<StoredOverride[]>;
  clearOverrides(sel: { zone?: string; clearedAt?: number }): Promise<number>;
  insert(
    table: 'manual_overrides',
    row: { zone: string; startedAt: number; expiresAt: number; source: string; setpoint: unknown },
    options?: { waitForCommit?: boolean },
  ): Promise<unknown>;
  insert(table: 'decisions', row: GateDecisionRow, options?: { waitForCommit?: boolean }): Promise<unknown>;
  /** A recorded decision whose setpoint then failed on the bus: marked not applied (LightingStore). */
  markDecisionNotSent?(msgId: string, zone: string, detail: string, since: number): Promise<boolean>;
}

/** Runs async jobs one after another, in call order. */
class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const p = this.tail.then(job, job);
    this.tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  flush(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

export class MemoryOverrideRepository implements OverrideRepository {
  readonly kind = 'memory';
  private readonly rows = new Map<string, OverrideRow>();

  async load(now: number): Promise<OverrideRow[]> {
    return [...this.rows.values()].filter((r) => r.expiresAt > now).map((r) => ({ ...r }));
  }

  async save(row: OverrideRow): Promise<void> {
    this.rows.set(row.zone, { ...row });
  }

  async clear(zone: string | null, _at: number): Promise<void> {
    if (zone === null) this.rows.clear();
    else this.rows.delete(zone);
  }

  async recordDecision(_row: GateDecisionRow): Promise<void> {
    // Nowhere to record without a database.
  }

  async markNotSent(_msgId: string, _zone: string, _detail: string, _since: number): Promise<void> {
    // Nothing recorded without a database.
  }

  async flush(): Promise<void> {
    // Nothing pending: every write above completed synchronously.
  }
}

/** A stored row as an OverrideRow; "until cleared" (null expiry) holds at most MAX_OVERRIDE_HOLD_MINUTES. */
export function overrideFromStored(r: StoredOverride): OverrideRow | null {
  if (!isPlainObject(r)) return null;
  const sp = isPlainObject(r.setpoint) ? r.setpoint : {};
  const expiresAt = r.expiresAt == null && isFiniteNumber(r.startedAt) ? r.startedAt + MAX_OVERRIDE_HOLD_MINUTES * 60_000 : r.expiresAt;
  return parseOverrideRow({
    zone: r.zone,
    startedAt: r.startedAt,
    expiresAt,
    source: r.source,
    intensity: sp.intensity,
    cct: sp.cct,
    reason: sp.reason,
  });
}

export class StoreOverrideRepository implements OverrideRepository {
  readonly kind = 'store';
  private readonly queue = new WriteQueue();

  /** @param recordDecisions write gate decisions to `decisions` (default true). */
  constructor(
    private readonly store: OverrideStore,
    private readonly recordDecisions = true,
  ) {}

  async load(now: number): Promise<OverrideRow[]> {
    const rows = await this.queue.run(() => this.store.activeOverrides(now));
    const out: OverrideRow[] = [];
    for (const r of Array.isArray(rows) ? rows : []) {
      const row = overrideFromStored(r);
      if (row && row.expiresAt > now) out.push(row);
    }
    return out;
  }

  save(row: OverrideRow): Promise<void> {
    return this.queue.run(async () => {
      // The zone's previous override ends where this one starts (it may have held longer).
      await this.store.clearOverrides({ zone: row.zone, clearedAt: row.startedAt });
      await this.store.insert(
        'manual_overrides',
        {
          zone: row.zone,
          startedAt: row.startedAt,
          expiresAt: row.expiresAt,
          source: row.source,
          setpoint: { intensity: row.intensity, cct: row.cct, reason: row.reason },
        },
        { waitForCommit: true },
      );
    });
  }

  clear(zone: string | null, at: number): Promise<void> {
    return this.queue.run(async () => {
      await this.store.clearOverrides(zone === null ? { clearedAt: at } : { zone, clearedAt: at });
    });
  }

  recordDecision(row: GateDecisionRow): Promise<void> {
    if (!this.recordDecisions) return Promise.resolve();
    return this.queue.run(async () => {
      await this.store.insert('decisions', { ...row, reason: row.reason.slice(0, 4000) });
    });
  }

  markNotSent(msgId: string, zone: string, detail: string, since: number): Promise<void> {
    if (!this.recordDecisions || this.store.markDecisionNotSent === undefined) return Promise.resolve();
    const mark = this.store.markDecisionNotSent.bind(this.store);
    return this.queue.run(async () => {
      await mark(msgId, zone, detail, since);
    });
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }
}

function isOverrideStore(v: unknown): v is OverrideStore {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.activeOverrides === 'function' && typeof s.clearOverrides === 'function' && typeof s.insert === 'function';
}

/**
 * The database a `lighting-store` config node provides: `owner.getStore()`
 * (returning a store or a promise of one) or `owner.store` (a store or a
 * promise). Null when the owner provides none; rejects when opening failed.
 */
export async function storeFromOwner(owner: unknown): Promise<OverrideStore | null> {
  if (typeof owner !== 'object' || owner === null) return null;
  const o = owner as { getStore?: unknown; store?: unknown };
  let candidate: unknown = null;
  if (typeof o.getStore === 'function') candidate = await (o.getStore as () => unknown).call(owner);
  else if (o.store !== undefined) candidate = await o.store;
  return isOverrideStore(candidate) ? candidate : null;
}

/** The decision row for a setpoint the gate passed or blocked. */
export function gateDecisionRow(
  sp: Setpoint,
  ts: number,
  opts: { applied: boolean; blockedBy?: string | null; reason?: string; estimatedWatts?: number | null; msgId?: string | null },
): GateDecisionRow {
  const watts = opts.estimatedWatts;
  return {
    ts,
    zone: sp.zone,
    source: sp.source,
    intensity: sp.intensity,
    cct: sp.cct,
    reason: opts.reason ?? sp.reason,
    applied: opts.applied,
    blockedBy: opts.blockedBy ?? null,
    energySavingEstimate: energySavingEstimate(sp.intensity),
    estimatedWatts: isFiniteNumber(watts) && watts >= 0 ? watts : null,
    msgId: typeof opts.msgId === 'string' ? opts.msgId.slice(0, 200) : null,
  };
}
