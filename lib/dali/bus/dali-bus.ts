/**
 * DaliBus: what nodes use to talk to one DALI bus.
 *
 * ```ts
 * const bus = new DaliBus(iface, { inventory: { shortAddresses: [0, 1, 2], groups: { 0: [0, 1, 2] }, complete: true } });
 * await bus.start();
 * await bus.setpoint({ address: { kind: 'group', group: 0 }, level: 200, mirek: 370 });
 * const level = await bus.readActualLevel(1);
 * await bus.close();
 * ```
 *
 * - Setpoints go through the sequence planner (../sequence) and the
 *   scheduler: latest wins per address while waiting (a replaced call
 *   resolves `{ superseded: true }`), setpoints waiting back to back are
 *   planned together (shared DTR writes, group/broadcast collapse), and every
 *   luminaire ends at the last setpoint given for it.
 * - Knowledge per short address: last level/mirek sent, automatic
 *   activation (QUERY GEAR FEATURES/STATUS, probed once before the first
 *   level + Tc setpoint to a short address, then cached), group membership
 *   when known (inventory option, readGroups), device types, Tc limits.
 *   Knowledge older than `knowledgeTtlMs` is not trusted by the planner.
 * - Foreign frames (wall panels, other masters, sensors) are decoded and
 *   emitted as 'frame'; gear commands among them update the knowledge (a
 *   wall panel DAPC sets the level, an unknown change forgets the value), and
 *   any foreign 16-bit frame voids the DTR assumptions of a running plan:
 *   the remaining steps are sent self-contained (own DTR writes), a step
 *   interrupted between its DTR writes and its DT8 commands is restarted.
 * - When the interface comes back after a disconnect, the last setpoint per
 *   address is applied once more (minus levels a foreign master changed
 *   since). Knowledge of level and colour is forgotten at that point. A
 *   re-apply that fails (the device is often not ready for the first frames
 *   after 'connected': timeout, notConnected, busFault) is tried again with
 *   exponential backoff (`reapplyRetry`) until it is on the bus; it is dropped
 *   when a newer setpoint for that address is given meanwhile (latest wins),
 *   when the interface is lost again (the next reconnect starts over), when
 *   the attempts run out, or on close (which cancels every backoff timer).
 *
 * Events: 'frame' (DaliBusFrameEvent), 'state' (InterfaceStateEvent),
 * 'queue' (QueueEvent: waiting jobs, busy), 'transmitted' (TransmittedEvent:
 * each frame this controller put on the bus, with its answer and bus time),
 * 'reapplyFailed' (DaliBusReapplyFailedEvent).
 */

import { EventEmitter } from 'node:events';
import {
  FrameDecoder,
  dt8Command,
  dtr0,
  enableDeviceType,
  encodeGearAddressByte,
  gearCommand,
  type DecodedFrame,
} from '../codec';
import {
  DEVICE_TYPE_COLOUR,
  DEVICE_TYPE_MULTIPLE,
  DEVICE_TYPE_NONE,
  Dt8ColourValue,
  Dt8Command,
  GearCommand,
  GearStatusBit,
  SpecialCommand,
} from '../opcodes';
import { planSetpoints, selfContainedFrames, type PlanContext, type PlannedStep, type SetpointRequest } from '../sequence';
import {
  DaliInterfaceError,
  type BackwardResult,
  type BusFrameEvent,
  type DaliInterface,
  type ForwardFrame,
  type GearAddress,
  type InterfaceState,
  type InterfaceStateEvent,
  type Priority,
} from '../types';
import { BusScheduler, type JobContext, type QueueEvent, type TransmittedEvent } from './scheduler';

// ------------------------------------------------------------------ public types

export interface DaliBusOptions {
  /** Retries of frames answered by a framing error, when safe (default 2). */
  readonly retries?: number;
  /** What is known about the bus from commissioning. */
  readonly inventory?: {
    /** Short addresses of the gear. */
    readonly shortAddresses?: readonly number[];
    /** Group number -> member short addresses (complete membership). */
    readonly groups?: Readonly<Record<number, readonly number[]>> | ReadonlyMap<number, readonly number[]>;
    /** True: shortAddresses is every gear on the bus (lets the planner use broadcast). */
    readonly complete?: boolean;
  };
  /** Latest-wins coalescing of waiting setpoints (default true). */
  readonly coalesce?: boolean;
  /** Plan setpoints waiting back to back together (default true). */
  readonly batch?: boolean;
  /** Most setpoints in one transaction (default 8: about 1.6 s of level + Tc). */
  readonly maxBatch?: number;
  /** Query automatic activation before the first level + Tc setpoint to a short address (default true). */
  readonly probeGearFeatures?: boolean;
  /** Re-apply the last setpoint per address after a reconnect (default true). */
  readonly reapplyOnReconnect?: boolean;
  /** Level/colour knowledge older than this is not used to skip frames (default 10 min). */
  readonly knowledgeTtlMs?: number;
  /** Clock for knowledge ages (default Date.now). */
  readonly now?: () => number;
  /** Non-setpoint jobs refused beyond this queue length (default 1000). */
  readonly maxQueueLength?: number;
  /** Backoff of a failed re-apply after a reconnect. */
  readonly reapplyRetry?: ReapplyRetryOptions;
  /** Timer for the re-apply backoff (default setTimeout; tests pass a virtual clock). */
  readonly setTimer?: (delayMs: number, callback: () => void) => { cancel(): void };
}

export interface ReapplyRetryOptions {
  /** Attempts per address in total, the first included (default 8). */
  readonly attempts?: number;
  /** Wait before the second attempt; doubled for each further one (default 100 ms). */
  readonly initialDelayMs?: number;
  /** Longest wait between two attempts (default 5000 ms). */
  readonly maxDelayMs?: number;
}

export interface SetpointInput {
  readonly address: GearAddress;
  /** Arc power level 0..254 (0 = off). */
  readonly level?: number;
  /** Colour temperature in mirek 1..65534. */
  readonly mirek?: number;
}

export interface SetpointResult {
  /** Frames on the wire for the step that applied this setpoint (0 when superseded or nothing to send). */
  readonly frames: number;
  /** Bus time of those frames (timing model). */
  readonly busTimeMs: number;
  /** True when a newer setpoint replaced this one before it was sent. */
  readonly superseded?: boolean;
}

export interface GearStatus {
  readonly raw: number;
  readonly controlGearFailure: boolean;
  readonly lampFailure: boolean;
  readonly lampOn: boolean;
  readonly limitError: boolean;
  readonly fadeRunning: boolean;
  readonly resetState: boolean;
  readonly shortAddressMissing: boolean;
  readonly powerCycleSeen: boolean;
}

export interface GearFeatures {
  /** Bit 0: the temporary colour is applied by the next arc power command. */
  readonly autoActivation: boolean;
  readonly raw: number;
}

/** Tc limits in mirek (null where the gear answered MASK). */
export interface TcLimitsReading {
  readonly coolestMirek: number | null;
  readonly warmestMirek: number | null;
  readonly physicalCoolestMirek: number | null;
  readonly physicalWarmestMirek: number | null;
}

/** What the bus knows about one short address. */
export interface KnownGear {
  readonly level?: number;
  readonly mirek?: number;
  readonly autoActivation?: boolean;
  /** Groups this gear belongs to, when known. */
  readonly groups?: readonly number[];
  readonly deviceTypes?: readonly number[];
  readonly tcLimits?: TcLimitsReading;
}

export interface DaliBusFrameEvent {
  readonly event: BusFrameEvent;
  /** The codec's reading of a 16/24-bit frame (undefined for backward frames and framing errors). */
  readonly decoded?: DecodedFrame;
}

/** 'reapplyFailed': a re-apply after a reconnect gave up after its attempts. */
export interface DaliBusReapplyFailedEvent {
  readonly address: GearAddress;
  readonly attempts: number;
  readonly error: Error;
}

export interface QueryOptions {
  /** Default 3 (user query); background polling should pass 5. */
  readonly priority?: Priority;
}

// ------------------------------------------------------------------ internals

interface MutableGear {
  level?: number;
  levelAt?: number;
  mirek?: number;
  mirekAt?: number;
  autoActivation?: boolean;
  deviceTypes?: number[];
  tcLimits?: TcLimitsReading;
  /** SET TEMPORARY COLOUR TEMPERATURE seen from a foreign master, not yet activated (null = value unknown). */
  foreignTemporaryMirek?: number | null;
}

interface SetpointEntry {
  readonly key: string;
  request: SetpointRequest;
  readonly seq: number;
  settled: boolean;
  readonly resolve: (r: SetpointResult) => void;
  readonly reject: (e: Error) => void;
}

/** One address being re-applied after a reconnect. */
interface ReapplyLoop {
  readonly key: string;
  readonly address: GearAddress;
  /** Fields a newer overlapping setpoint has set since: never re-sent. */
  dropLevel: boolean;
  dropMirek: boolean;
  stopped: boolean;
  timer: { cancel(): void } | undefined;
}

type Affected = { readonly shorts: readonly number[]; readonly complete: boolean };

const SUPERSEDED: SetpointResult = Object.freeze({ frames: 0, busTimeMs: 0, superseded: true });
const ENABLE_DT8 = (): ForwardFrame => enableDeviceType(DEVICE_TYPE_COLOUR);
const MAX_STEP_RESTARTS = 8;
const MAX_READ_ATTEMPTS = 5;

function positiveInt(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? Math.trunc(v) : fallback;
}

function defaultSetTimer(delayMs: number, callback: () => void): { cancel(): void } {
  const t = setTimeout(callback, delayMs);
  return { cancel: () => clearTimeout(t) };
}

function addressKey(a: GearAddress): string {
  switch (a.kind) {
    case 'short':
      return `s${a.address}`;
    case 'group':
      return `g${a.group}`;
    case 'broadcast':
      return 'b';
    case 'broadcastUnaddressed':
      return 'u';
  }
}

function checkShort(short: number): void {
  if (!Number.isInteger(short) || short < 0 || short > 63) {
    throw new RangeError(`short address must be an integer 0..63, got ${String(short)}`);
  }
}

function isDt8CommandFrame(f: ForwardFrame): boolean {
  if (f.bits !== 16) return false;
  const a = f.value >> 8;
  const isAddressed = a <= 0x9f || a >= 0xfc;
  return isAddressed && (a & 1) === 1 && (f.value & 0xff) >= 0xe0;
}

function answerValue(r: BackwardResult): number | null {
  return r.kind === 'answer' ? r.value : null;
}

export class DaliBus extends EventEmitter {
  private readonly scheduler: BusScheduler;
  private readonly gear = new Map<number, MutableGear>();
  /** Known complete group membership. */
  private readonly groupMembers = new Map<number, Set<number>>();
  private readonly inventoryComplete: boolean;
  private readonly queuedSetpoints = new Map<string, SetpointEntry>();
  private readonly lastSetpoints = new Map<string, SetpointRequest>();
  /** Re-applies after the last reconnect that are not on the bus yet, per address key. */
  private readonly reapplyLoops = new Map<string, ReapplyLoop>();
  private readonly reapplyAttempts: number;
  private readonly reapplyInitialDelayMs: number;
  private readonly reapplyMaxDelayMs: number;
  private readonly setTimer: (delayMs: number, callback: () => void) => { cancel(): void };
  private readonly decoder = new FrameDecoder();
  private foreignGearFrames = 0;
  private observedDtr: { dtr0?: number; dtr1?: number } = {};
  /** DTR0/DTR1 left by our last setpoint batch, valid while nothing else touched the bus. */
  private dtrCarry: { dtr0: number; dtr1: number; foreignMark: number } | undefined;
  private seq = 0;
  private everConnected = false;
  private connectionLost = false;
  private isClosed = false;
  private readonly coalesce: boolean;
  private readonly batch: boolean;
  private readonly maxBatch: number;
  private readonly probeFeatures: boolean;
  private readonly reapply: boolean;
  private readonly ttlMs: number;
  private readonly now: () => number;

  private readonly onFrame = (ev: BusFrameEvent): void => this.handleForeignFrame(ev);
  private readonly onState = (ev: InterfaceStateEvent): void => this.handleState(ev);
  private readonly onQueue = (ev: QueueEvent): void => {
    this.emit('queue', ev);
  };
  private readonly onTransmitted = (ev: TransmittedEvent): void => {
    this.emit('transmitted', ev);
  };

  constructor(
    private readonly iface: DaliInterface,
    options: DaliBusOptions = {},
  ) {
    super();
    this.scheduler = new BusScheduler(iface, {
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.maxQueueLength !== undefined ? { maxQueueLength: options.maxQueueLength } : {}),
    });
    this.coalesce = options.coalesce ?? true;
    this.batch = options.batch ?? true;
    this.maxBatch = Math.max(1, Math.trunc(options.maxBatch ?? 8));
    this.probeFeatures = options.probeGearFeatures ?? true;
    this.reapply = options.reapplyOnReconnect ?? true;
    this.reapplyAttempts = positiveInt(options.reapplyRetry?.attempts, 8);
    this.reapplyInitialDelayMs = positiveInt(options.reapplyRetry?.initialDelayMs, 100);
    this.reapplyMaxDelayMs = Math.max(this.reapplyInitialDelayMs, positiveInt(options.reapplyRetry?.maxDelayMs, 5000));
    this.setTimer = options.setTimer ?? defaultSetTimer;
    this.ttlMs = options.knowledgeTtlMs ?? 10 * 60 * 1000;
    this.now = options.now ?? Date.now;
    const inv = options.inventory;
    for (const s of inv?.shortAddresses ?? []) if (Number.isInteger(s) && s >= 0 && s <= 63) this.entry(s);
    const groups = inv?.groups;
    if (groups) {
      const pairs: [number, readonly number[]][] =
        groups instanceof Map
          ? [...(groups as ReadonlyMap<number, readonly number[]>).entries()]
          : Object.entries(groups as Readonly<Record<number, readonly number[]>>).map(([g, m]) => [Number(g), m]);
      for (const [g, members] of pairs) this.setGroupMembers(g, members);
    }
    this.inventoryComplete = inv?.complete === true && this.gear.size > 0;
    this.scheduler.on('queue', this.onQueue);
    this.scheduler.on('transmitted', this.onTransmitted);
    iface.on('frame', this.onFrame);
    iface.on('state', this.onState);
  }

  // ---------------------------------------------------------------- lifecycle

  get state(): InterfaceState {
    return this.iface.state;
  }

  /** Jobs waiting for the bus. */
  get queueLength(): number {
    return this.scheduler.queueLength;
  }

  /** Opens the interface (resolves on first connect). */
  async start(): Promise<void> {
    if (this.isClosed) throw new DaliInterfaceError('DALI bus closed', 'closed');
    await this.iface.open();
    if (this.iface.state === 'connected') this.everConnected = true;
  }

  /** Rejects waiting work, waits for the running transaction, closes the interface. Idempotent. */
  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.cancelReapply();
      for (const e of this.queuedSetpoints.values()) {
        this.failEntry(e, new DaliInterfaceError('DALI bus closed before the setpoint was sent', 'closed'));
      }
      this.queuedSetpoints.clear();
    }
    await this.scheduler.close();
    await this.iface.close();
    this.iface.off('frame', this.onFrame);
    this.iface.off('state', this.onState);
    this.scheduler.off('queue', this.onQueue);
    this.scheduler.off('transmitted', this.onTransmitted);
  }

  // ---------------------------------------------------------------- knowledge

  /** What is known about a short address (a copy). */
  knowledge(short: number): KnownGear | undefined {
    const g = this.gear.get(short);
    if (!g) return undefined;
    const groups: number[] = [];
    for (const [grp, members] of this.groupMembers) if (members.has(short)) groups.push(grp);
    return {
      ...(g.level !== undefined ? { level: g.level } : {}),
      ...(g.mirek !== undefined ? { mirek: g.mirek } : {}),
      ...(g.autoActivation !== undefined ? { autoActivation: g.autoActivation } : {}),
      ...(this.groupMembers.size > 0 ? { groups: groups.sort((a, b) => a - b) } : {}),
      ...(g.deviceTypes ? { deviceTypes: [...g.deviceTypes] } : {}),
      ...(g.tcLimits ? { tcLimits: g.tcLimits } : {}),
    };
  }

  /** Short addresses the bus knows of (inventory, commands, queries), ascending. */
  knownShortAddresses(): number[] {
    return [...this.gear.keys()].sort((a, b) => a - b);
  }

  /**
   * The short addresses an address reaches, as far as known: `complete` is
   * false when a group's membership is unknown (then `shorts` lists every
   * known gear) or a broadcast goes to a bus whose inventory is not known
   * to be complete.
   */
  members(address: GearAddress): { shorts: number[]; complete: boolean } {
    encodeGearAddressByte(address, false);
    const r = this.affected(address);
    const complete = address.kind === 'broadcast' ? this.inventoryComplete : r.complete;
    return { shorts: [...r.shorts].sort((a, b) => a - b), complete };
  }

  /** Declares the complete membership of a group (from commissioning). */
  setGroupMembers(group: number, members: readonly number[]): void {
    if (!Number.isInteger(group) || group < 0 || group > 15) throw new RangeError(`group must be 0..15, got ${String(group)}`);
    const set = new Set<number>();
    for (const m of members) {
      checkShort(m);
      set.add(m);
      this.entry(m);
    }
    this.groupMembers.set(group, set);
  }

  /** Forgets level/colour knowledge (all, or one short address): the next setpoint sends everything. */
  forget(short?: number): void {
    const targets = short === undefined ? [...this.gear.values()] : [this.gear.get(short)].filter((g) => g !== undefined);
    for (const g of targets) {
      delete g.level;
      delete g.mirek;
      delete g.foreignTemporaryMirek;
    }
  }

  private entry(short: number): MutableGear {
    let g = this.gear.get(short);
    if (!g) {
      g = {};
      this.gear.set(short, g);
    }
    return g;
  }

  private affected(a: GearAddress): Affected {
    switch (a.kind) {
      case 'short':
        return { shorts: [a.address], complete: true };
      case 'group': {
        const m = this.groupMembers.get(a.group);
        return m ? { shorts: [...m], complete: true } : { shorts: [...this.gear.keys()], complete: false };
      }
      case 'broadcast':
        return { shorts: [...this.gear.keys()], complete: true };
      case 'broadcastUnaddressed':
        return { shorts: [], complete: true };
    }
  }

  /** Sets (or with undefined forgets) a field for the gear an address reaches; unknown reach forgets it everywhere. */
  private learn(a: GearAddress, field: 'level' | 'mirek', value: number | undefined): void {
    const { shorts, complete } = this.affected(a);
    const t = this.now();
    for (const s of shorts) {
      const g = this.entry(s);
      if (complete && value !== undefined) {
        if (field === 'level') {
          g.level = value;
          g.levelAt = t;
        } else {
          g.mirek = value;
          g.mirekAt = t;
        }
      } else if (field === 'level') {
        delete g.level;
      } else {
        delete g.mirek;
      }
    }
  }

  private planContext(dtrState: { dtr0: number; dtr1: number } | undefined): PlanContext {
    const t = this.now();
    const groups = new Map<number, number[]>();
    for (const [g, m] of this.groupMembers) groups.set(g, [...m]);
    return {
      gear: (short) => {
        const g = this.gear.get(short);
        if (!g) return undefined;
        const fresh = (at: number | undefined): boolean => at !== undefined && t - at <= this.ttlMs;
        return {
          ...(g.level !== undefined && fresh(g.levelAt) ? { level: g.level } : {}),
          ...(g.mirek !== undefined && fresh(g.mirekAt) ? { mirek: g.mirek } : {}),
          ...(g.autoActivation !== undefined ? { autoActivation: g.autoActivation } : {}),
        };
      },
      groups,
      ...(this.inventoryComplete ? { allShortAddresses: [...this.gear.keys()] } : {}),
      ...(dtrState ? { dtrState } : {}),
    };
  }

  // ---------------------------------------------------------------- setpoints

  /**
   * Applies a level and/or colour temperature. Resolves when the frames are
   * on the bus, or `{ superseded: true }` when a newer setpoint for the same
   * address replaced it while waiting. Rejects (never throws) on invalid
   * input, interface errors or close.
   */
  setpoint(input: SetpointInput, options: { priority?: Priority } = {}): Promise<SetpointResult> {
    try {
      return this.enqueueSetpoint(this.validate(input), options.priority ?? 2, true);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private validate(input: SetpointInput): SetpointRequest {
    if (input === null || typeof input !== 'object') throw new RangeError('setpoint must be an object {address, level?, mirek?}');
    encodeGearAddressByte(input.address, false);
    const { level, mirek } = input;
    if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 254)) {
      throw new RangeError(`setpoint level must be an integer arc power level 0..254, got ${String(level)}`);
    }
    if (mirek !== undefined && (!Number.isInteger(mirek) || mirek < 1 || mirek > 0xfffe)) {
      throw new RangeError(`setpoint mirek must be an integer 1..65534, got ${String(mirek)}`);
    }
    if (level === undefined && mirek === undefined) throw new RangeError('setpoint needs a level, a mirek or both');
    const address = { ...input.address } as GearAddress;
    return { address, ...(level !== undefined ? { level } : {}), ...(mirek !== undefined ? { mirek } : {}) };
  }

  /** True when a setpoint to `a` may change gear reached by `b`. */
  private overlaps(a: GearAddress, b: GearAddress): boolean {
    if (a.kind === 'broadcast' || b.kind === 'broadcast') return true;
    if (a.kind === 'broadcastUnaddressed' || b.kind === 'broadcastUnaddressed') return a.kind === b.kind;
    if (a.kind === 'short' && b.kind === 'short') return a.address === b.address;
    const ra = this.affected(a);
    const rb = this.affected(b);
    if (!ra.complete || !rb.complete) return true;
    const s = new Set(ra.shorts);
    return rb.shorts.some((x) => s.has(x));
  }

  /** True when every gear `inner` reaches is certainly reached by `outer`. */
  private covers(outer: GearAddress, inner: GearAddress): boolean {
    if (outer.kind === 'broadcast') return true;
    if (addressKey(outer) === addressKey(inner)) return true;
    if (outer.kind === 'group' && inner.kind === 'short') {
      return this.groupMembers.get(outer.group)?.has(inner.address) === true;
    }
    return false;
  }

  private enqueueSetpoint(request: SetpointRequest, priority: Priority, record: boolean): Promise<SetpointResult> {
    if (this.isClosed) return Promise.reject(new DaliInterfaceError('DALI bus closed', 'closed'));
    const key = addressKey(request.address);
    const seq = ++this.seq;
    let merged = request;
    const supersedes: string[] = [];
    const after: string[] = [];
    if (this.coalesce) {
      const old = this.queuedSetpoints.get(key);
      if (old) {
        // Carry over fields the new setpoint leaves alone, unless a later waiting setpoint overrode them.
        const laterSets = (field: 'level' | 'mirek'): boolean =>
          [...this.queuedSetpoints.values()].some(
            (e) => e.seq > old.seq && e !== old && e.request[field] !== undefined && this.overlaps(e.request.address, old.request.address),
          );
        const level = request.level ?? (old.request.level !== undefined && !laterSets('level') ? old.request.level : undefined);
        const mirek = request.mirek ?? (old.request.mirek !== undefined && !laterSets('mirek') ? old.request.mirek : undefined);
        merged = { address: request.address, ...(level !== undefined ? { level } : {}), ...(mirek !== undefined ? { mirek } : {}) };
        this.queuedSetpoints.delete(key);
      }
      for (const [k, e] of [...this.queuedSetpoints]) {
        const fieldsCovered =
          (e.request.level === undefined || merged.level !== undefined) && (e.request.mirek === undefined || merged.mirek !== undefined);
        if (fieldsCovered && this.covers(merged.address, e.request.address)) {
          supersedes.push(k);
          this.queuedSetpoints.delete(k);
        } else if (this.overlaps(merged.address, e.request.address)) {
          after.push(k);
        }
      }
    }
    if (record) {
      this.record(merged);
      // Latest wins: a re-apply still retrying gives up the fields this setpoint sets.
      for (const loop of this.reapplyLoops.values()) {
        if (!this.overlaps(merged.address, loop.address)) continue;
        if (merged.level !== undefined) loop.dropLevel = true;
        if (merged.mirek !== undefined) loop.dropMirek = true;
      }
    }

    let resolveEntry!: (r: SetpointResult) => void;
    let rejectEntry!: (e: Error) => void;
    const promise = new Promise<SetpointResult>((res, rej) => {
      resolveEntry = res;
      rejectEntry = rej;
    });
    const entry: SetpointEntry = { key, request: merged, seq, settled: false, resolve: resolveEntry, reject: rejectEntry };
    if (this.coalesce) this.queuedSetpoints.set(key, entry);

    this.scheduler
      .submit((ctx) => this.runSetpoints(ctx, entry), {
        priority,
        ...(this.coalesce ? { key, supersedes, after } : {}),
        ...(this.batch ? { tag: 'setpoint' } : {}),
        payload: entry,
        label: `setpoint ${key}`,
      })
      .then(
        (r) => {
          if (r.superseded) this.settleEntry(entry, SUPERSEDED);
        },
        (err: unknown) => this.failEntry(entry, err instanceof Error ? err : new Error(String(err))),
      );
    return promise;
  }

  /** Remembers the last setpoint per address for re-applying after a reconnect. */
  private record(request: SetpointRequest): void {
    const key = addressKey(request.address);
    const prev = this.lastSetpoints.get(key);
    const level = request.level ?? prev?.level;
    const mirek = request.mirek ?? prev?.mirek;
    this.lastSetpoints.delete(key);
    if (request.address.kind === 'broadcast') {
      // Entries fully overridden by this broadcast need no re-apply.
      for (const [k, r] of [...this.lastSetpoints]) {
        if ((r.level === undefined || level !== undefined) && (r.mirek === undefined || mirek !== undefined)) this.lastSetpoints.delete(k);
      }
    }
    this.lastSetpoints.set(key, {
      address: request.address,
      ...(level !== undefined ? { level } : {}),
      ...(mirek !== undefined ? { mirek } : {}),
    });
  }

  private settleEntry(e: SetpointEntry, r: SetpointResult): void {
    if (e.settled) return;
    e.settled = true;
    if (this.queuedSetpoints.get(e.key) === e) this.queuedSetpoints.delete(e.key);
    e.resolve(r);
  }

  private failEntry(e: SetpointEntry, err: Error): void {
    if (e.settled) return;
    e.settled = true;
    if (this.queuedSetpoints.get(e.key) === e) this.queuedSetpoints.delete(e.key);
    e.reject(err);
  }

  private async runSetpoints(ctx: JobContext, first: SetpointEntry): Promise<void> {
    const entries: SetpointEntry[] = [first];
    if (this.queuedSetpoints.get(first.key) === first) this.queuedSetpoints.delete(first.key);
    if (this.batch && this.maxBatch > 1) {
      for (const c of ctx.claim<SetpointEntry>('setpoint', this.maxBatch - 1)) {
        const e = c.payload;
        if (this.queuedSetpoints.get(e.key) === e) this.queuedSetpoints.delete(e.key);
        entries.push(e);
        c.resolve(undefined); // settled through the entry below
      }
    }
    const foreignAtStart = this.foreignGearFrames;
    const carry = this.dtrCarry !== undefined && this.dtrCarry.foreignMark === foreignAtStart ? this.dtrCarry : undefined;
    this.dtrCarry = undefined;
    let lastDtr: { dtr0: number; dtr1: number } | undefined = carry ? { dtr0: carry.dtr0, dtr1: carry.dtr1 } : undefined;
    let dtrTrusted = true;
    try {
      if (this.probeFeatures) {
        for (const e of entries) {
          const a = e.request.address;
          if (a.kind !== 'short' || e.request.mirek === undefined || e.request.level === undefined) continue;
          if (this.gear.get(a.address)?.autoActivation !== undefined) continue;
          await this.probeGearFeatures(ctx, a.address);
        }
      }
      const byRequest = new Map<SetpointRequest, SetpointEntry>(entries.map((e) => [e.request, e]));
      const steps = planSetpoints(
        entries.map((e) => e.request),
        this.planContext(lastDtr),
      );
      for (const step of steps) {
        const { frames, busTimeMs, clean, interfered } = await this.executeStep(ctx, step, foreignAtStart);
        if (!clean) dtrTrusted = false;
        if (step.dtr) {
          lastDtr = step.dtr;
          this.observedDtr = { ...step.dtr };
        }
        for (const r of step.applies) {
          const e = byRequest.get(r);
          if (!e) continue;
          if (interfered) {
            this.failEntry(
              e,
              new DaliInterfaceError(
                `setpoint ${e.key} not applied: frames of other masters interrupted its colour sequence ${MAX_STEP_RESTARTS + 1} times`,
                'busFault',
              ),
            );
          } else {
            this.settleEntry(e, { frames, busTimeMs });
          }
        }
      }
      for (const e of entries) this.settleEntry(e, { frames: 0, busTimeMs: 0 });
      if (lastDtr && dtrTrusted) this.dtrCarry = { ...lastDtr, foreignMark: foreignAtStart };
      if (this.foreignGearFrames !== foreignAtStart) this.dtrCarry = undefined;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const e of entries) {
        if (e.settled) continue;
        this.learn(e.request.address, 'level', undefined);
        this.learn(e.request.address, 'mirek', undefined);
        this.failEntry(e, error);
      }
      throw error;
    }
  }

  private async executeStep(
    ctx: JobContext,
    step: PlannedStep,
    foreignAtStart: number,
  ): Promise<{ frames: number; busTimeMs: number; clean: boolean; interfered: boolean }> {
    const framesBefore = ctx.frames;
    const busBefore = ctx.busTimeMs;
    let frames = step.frames;
    if (step.reliesOnDtrFromEarlierStep && this.foreignGearFrames !== foreignAtStart) frames = selfContainedFrames(step);
    let restarts = 0;
    let clean = true;
    let interfered = false;
    for (;;) {
      const mark = this.foreignGearFrames;
      let disturbed = false;
      clean = true;
      for (let i = 0; i < frames.length; i++) {
        if (i > 0 && this.foreignGearFrames !== mark && frames.slice(i).some(isDt8CommandFrame)) {
          // A foreign frame got in between our DTR writes / ENABLE DEVICE TYPE and the DT8 command.
          disturbed = true;
          break;
        }
        const r = await ctx.transmit(frames[i] as ForwardFrame);
        if (r.kind === 'framingError') clean = false;
      }
      // A foreign frame reported while our last frames were on their way may have landed in between.
      if (!disturbed && this.foreignGearFrames !== mark && step.sendsColour) disturbed = true;
      if (!disturbed) break;
      if (restarts >= MAX_STEP_RESTARTS) {
        interfered = true;
        clean = false;
        break;
      }
      restarts++;
      frames = selfContainedFrames(step);
    }
    // Knowledge: what the step's requests asked for (later fields win).
    let level: number | undefined;
    let mirek: number | undefined;
    for (const r of step.applies) {
      if (r.level !== undefined) level = r.level;
      if (r.mirek !== undefined) mirek = r.mirek;
    }
    if (step.sendsLevel) this.learn(step.target, 'level', clean ? level : undefined);
    if (mirek !== undefined) this.learn(step.target, 'mirek', clean ? mirek : undefined);
    return { frames: ctx.frames - framesBefore, busTimeMs: ctx.busTimeMs - busBefore, clean, interfered };
  }

  private async probeGearFeatures(ctx: JobContext, short: number): Promise<GearFeatures | null> {
    await ctx.transmit(ENABLE_DT8());
    const r = await ctx.transmit(dt8Command({ kind: 'short', address: short }, Dt8Command.QUERY_GEAR_FEATURES_STATUS));
    const g = this.entry(short);
    if (r.kind === 'answer') {
      g.autoActivation = (r.value & 0x01) !== 0;
      return { autoActivation: g.autoActivation, raw: r.value };
    }
    if (r.kind === 'none') g.autoActivation = false; // not DT8 or absent: the 7-frame sequence works everywhere
    return null;
  }

  // ---------------------------------------------------------------- queries and raw transactions

  /** Runs a job that is not a setpoint (invalidates the DTR carry: queries may change DTR0). */
  private async job<T>(label: string, priority: Priority, run: (ctx: JobContext) => Promise<T>): Promise<T> {
    const r = await this.scheduler.submit(
      async (ctx) => {
        this.dtrCarry = undefined;
        delete this.observedDtr.dtr0; // QUERY COLOUR VALUE and friends change DTR0
        return run(ctx);
      },
      { priority, label },
    );
    if (r.superseded) throw new Error(`${label} superseded`); // cannot happen without a key
    return r.value;
  }

  /** Sends one frame (usually a query) and returns what came back. */
  query(frame: ForwardFrame, options: QueryOptions = {}): Promise<BackwardResult> {
    return this.send([frame], { priority: options.priority ?? 3 }).then((r) => r[0] as BackwardResult);
  }

  /**
   * Sends frames as one transaction (nothing of ours in between). Knowledge
   * is updated from gear commands among them as for frames of other masters.
   */
  send(frames: readonly ForwardFrame[], options: { priority?: Priority } = {}): Promise<BackwardResult[]> {
    return this.transact(frames, options).then((r) => r.results);
  }

  /** Like send(), also reporting the frames on the wire (send-twice counts 2) and their bus time. */
  transact(
    frames: readonly ForwardFrame[],
    options: { priority?: Priority } = {},
  ): Promise<{ results: BackwardResult[]; frames: number; busTimeMs: number }> {
    if (!Array.isArray(frames) || frames.length === 0) return Promise.reject(new RangeError('send needs at least one frame'));
    for (const f of frames) {
      const ok =
        f !== null &&
        typeof f === 'object' &&
        (f.bits === 16 || f.bits === 24) &&
        Number.isInteger(f.value) &&
        f.value >= 0 &&
        f.value <= (f.bits === 16 ? 0xffff : 0xffffff);
      if (!ok) return Promise.reject(new RangeError(`invalid forward frame ${JSON.stringify(f)}`));
    }
    const list = [...frames];
    return this.job('send', options.priority ?? 2, async (ctx) => {
      const decoder = new FrameDecoder();
      const out: BackwardResult[] = [];
      const framesBefore = ctx.frames;
      const busBefore = ctx.busTimeMs;
      for (const f of list) {
        out.push(await ctx.transmit(f));
        if (f.bits === 16) this.learnFromFrame(decoder.decode(16, f.value), false);
        else decoder.decode(24, f.value);
      }
      return { results: out, frames: ctx.frames - framesBefore, busTimeMs: ctx.busTimeMs - busBefore };
    });
  }

  /** QUERY ACTUAL LEVEL: 0..254, 255 (MASK: lamp failure/unknown), or null when nobody answered. */
  readActualLevel(short: number, options: QueryOptions = {}): Promise<number | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.job(`QUERY ACTUAL LEVEL ${short}`, options.priority ?? 3, async (ctx) =>
      answerValue(await ctx.transmit(gearCommand({ kind: 'short', address: short }, GearCommand.QUERY_ACTUAL_LEVEL))),
    );
  }

  /** QUERY STATUS decoded, or null when nobody answered. */
  queryStatus(short: number, options: QueryOptions = {}): Promise<GearStatus | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.job(`QUERY STATUS ${short}`, options.priority ?? 3, async (ctx) => {
      const v = answerValue(await ctx.transmit(gearCommand({ kind: 'short', address: short }, GearCommand.QUERY_STATUS)));
      if (v === null) return null;
      return {
        raw: v,
        controlGearFailure: (v & GearStatusBit.CONTROL_GEAR_FAILURE) !== 0,
        lampFailure: (v & GearStatusBit.LAMP_FAILURE) !== 0,
        lampOn: (v & GearStatusBit.LAMP_ON) !== 0,
        limitError: (v & GearStatusBit.LIMIT_ERROR) !== 0,
        fadeRunning: (v & GearStatusBit.FADE_RUNNING) !== 0,
        resetState: (v & GearStatusBit.RESET_STATE) !== 0,
        shortAddressMissing: (v & GearStatusBit.SHORT_ADDRESS_MISSING) !== 0,
        powerCycleSeen: (v & GearStatusBit.POWER_CYCLE_SEEN) !== 0,
      };
    });
  }

  /**
   * QUERY DEVICE TYPE (255 = several: QUERY NEXT DEVICE TYPE until 254).
   * [] for part 102 only, null when nobody answered. Cached in knowledge.
   */
  queryDeviceTypes(short: number, options: QueryOptions = {}): Promise<number[] | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    const addr: GearAddress = { kind: 'short', address: short };
    return this.job(`QUERY DEVICE TYPE ${short}`, options.priority ?? 3, async (ctx) => {
      const first = answerValue(await ctx.transmit(gearCommand(addr, GearCommand.QUERY_DEVICE_TYPE)));
      if (first === null) return null;
      let types: number[];
      if (first === DEVICE_TYPE_NONE) types = [];
      else if (first !== DEVICE_TYPE_MULTIPLE) types = [first];
      else {
        types = [];
        for (let i = 0; i < 32; i++) {
          const t = answerValue(await ctx.transmit(gearCommand(addr, GearCommand.QUERY_NEXT_DEVICE_TYPE)));
          if (t === null || t === DEVICE_TYPE_NONE) break;
          types.push(t);
        }
      }
      this.entry(short).deviceTypes = types;
      return types;
    });
  }

  /** QUERY GEAR FEATURES/STATUS (DT8). Cached: a second call does not touch the bus unless `refresh`. */
  readGearFeatures(short: number, options: QueryOptions & { refresh?: boolean } = {}): Promise<GearFeatures | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    const known = this.gear.get(short)?.autoActivation;
    if (known !== undefined && options.refresh !== true) {
      return Promise.resolve({ autoActivation: known, raw: known ? 1 : 0 });
    }
    return this.job(`QUERY GEAR FEATURES/STATUS ${short}`, options.priority ?? 3, (ctx) => this.probeGearFeatures(ctx, short));
  }

  /** Reads one 16-bit colour value: DTR0 selector, EDT 8, QUERY COLOUR VALUE (MSB), QUERY CONTENT DTR0 (LSB). */
  private async readColourValue(ctx: JobContext, short: number, selector: number): Promise<number | null> {
    const addr: GearAddress = { kind: 'short', address: short };
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const mark = this.foreignGearFrames;
      await ctx.transmit(dtr0(selector));
      await ctx.transmit(ENABLE_DT8());
      const msb = await ctx.transmit(dt8Command(addr, Dt8Command.QUERY_COLOUR_VALUE));
      // A foreign frame may have taken our ENABLE DEVICE TYPE or DTR0: ask again.
      if (this.foreignGearFrames !== mark) continue;
      if (msb.kind === 'none') return null;
      const lsb = await ctx.transmit(gearCommand(addr, GearCommand.QUERY_CONTENT_DTR0));
      if (this.foreignGearFrames !== mark || msb.kind !== 'answer' || lsb.kind !== 'answer') continue;
      const value = (msb.value << 8) | lsb.value;
      return value === 0xffff ? null : value;
    }
    throw new DaliInterfaceError(`QUERY COLOUR VALUE ${selector} of short ${short} failed ${MAX_READ_ATTEMPTS} times (collisions)`, 'protocol');
  }

  /** Actual colour temperature in mirek (QUERY COLOUR VALUE, DTR0 = 2), or null (no answer / MASK). */
  readColourTemperatureMirek(short: number, options: QueryOptions = {}): Promise<number | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.job(`QUERY COLOUR VALUE ${short}`, options.priority ?? 3, (ctx) =>
      this.readColourValue(ctx, short, Dt8ColourValue.COLOUR_TEMPERATURE),
    );
  }

  /** Tc limits (coolest, warmest, physical coolest, physical warmest), or null when nobody answered. Cached in knowledge. */
  readTcLimits(short: number, options: QueryOptions = {}): Promise<TcLimitsReading | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.job(`Tc limits ${short}`, options.priority ?? 3, async (ctx) => {
      const coolest = await this.readColourValue(ctx, short, Dt8ColourValue.COLOUR_TEMPERATURE_COOLEST);
      const warmest = await this.readColourValue(ctx, short, Dt8ColourValue.COLOUR_TEMPERATURE_WARMEST);
      const physicalCoolest = await this.readColourValue(ctx, short, Dt8ColourValue.COLOUR_TEMPERATURE_PHYSICAL_COOLEST);
      const physicalWarmest = await this.readColourValue(ctx, short, Dt8ColourValue.COLOUR_TEMPERATURE_PHYSICAL_WARMEST);
      if (coolest === null && warmest === null && physicalCoolest === null && physicalWarmest === null) return null;
      const limits: TcLimitsReading = {
        coolestMirek: coolest,
        warmestMirek: warmest,
        physicalCoolestMirek: physicalCoolest,
        physicalWarmestMirek: physicalWarmest,
      };
      this.entry(short).tcLimits = limits;
      return limits;
    });
  }

  /** QUERY GROUPS 0-7 and 8-15: the groups of a short address (updates the groups whose membership is known). */
  readGroups(short: number, options: QueryOptions = {}): Promise<number[] | null> {
    try {
      checkShort(short);
    } catch (err) {
      return Promise.reject(err);
    }
    const addr: GearAddress = { kind: 'short', address: short };
    return this.job(`QUERY GROUPS ${short}`, options.priority ?? 3, async (ctx) => {
      const lo = answerValue(await ctx.transmit(gearCommand(addr, GearCommand.QUERY_GROUPS_0_7)));
      const hi = answerValue(await ctx.transmit(gearCommand(addr, GearCommand.QUERY_GROUPS_8_15)));
      if (lo === null || hi === null) return null;
      const mask = (hi << 8) | lo;
      const groups: number[] = [];
      for (let g = 0; g < 16; g++) {
        const member = (mask & (1 << g)) !== 0;
        if (member) groups.push(g);
        const known = this.groupMembers.get(g);
        if (known && member) known.add(short);
        else if (known) known.delete(short);
      }
      return groups;
    });
  }

  // ---------------------------------------------------------------- foreign frames and state

  private handleForeignFrame(ev: BusFrameEvent): void {
    let decoded: DecodedFrame | undefined;
    if ((ev.bits === 16 || ev.bits === 24) && ev.framingError !== true) decoded = this.decoder.decode(ev.bits, ev.value);
    if (ev.bits === 16) {
      this.foreignGearFrames++;
      this.dtrCarry = undefined;
      if (decoded) this.learnFromFrame(decoded, true);
      else this.forget(); // a corrupt gear frame: anything may have changed
    }
    this.emit('frame', { event: ev, ...(decoded ? { decoded } : {}) } satisfies DaliBusFrameEvent);
  }

  /** Updates knowledge from a 16-bit frame sent by someone else (foreign) or by a raw send(). */
  private learnFromFrame(d: DecodedFrame, foreign: boolean): void {
    const autoActivate = (a: GearAddress): void => {
      // An arc power command applies a pending temporary colour where automatic activation is on.
      const { shorts } = this.affected(a);
      for (const s of shorts) {
        const g = this.entry(s);
        if (g.foreignTemporaryMirek === undefined || g.autoActivation === false) continue;
        if (g.autoActivation === true && g.foreignTemporaryMirek !== null) {
          g.mirek = g.foreignTemporaryMirek;
          g.mirekAt = this.now();
        } else {
          delete g.mirek;
        }
        delete g.foreignTemporaryMirek;
      }
    };
    const dropLevelFromReapply = (a: GearAddress): void => {
      if (!foreign) return;
      for (const [k, r] of [...this.lastSetpoints]) {
        if (r.level === undefined || !this.covers(a, r.address)) continue;
        if (r.mirek === undefined) this.lastSetpoints.delete(k);
        else this.lastSetpoints.set(k, { address: r.address, mirek: r.mirek });
      }
    };
    switch (d.kind) {
      case 'special':
        if (d.opcode === SpecialCommand.DTR0) this.observedDtr.dtr0 = d.data;
        else if (d.opcode === SpecialCommand.DTR1) this.observedDtr.dtr1 = d.data;
        return;
      case 'dapc':
        if (d.level === 0xff) {
          this.learn(d.address, 'level', undefined);
        } else {
          this.learn(d.address, 'level', d.level);
          dropLevelFromReapply(d.address);
        }
        autoActivate(d.address);
        return;
      case 'gearCommand': {
        const op = d.opcode;
        if (op < GearCommand.RESET) {
          // Arc power commands.
          this.learn(d.address, 'level', op === GearCommand.OFF ? 0 : undefined);
          if (op !== GearCommand.ENABLE_DAPC_SEQUENCE) dropLevelFromReapply(d.address);
          autoActivate(d.address);
          return;
        }
        if (op === GearCommand.RESET) {
          for (const s of this.affected(d.address).shorts) {
            this.gear.set(s, {});
            for (const m of this.groupMembers.values()) m.delete(s);
          }
          return;
        }
        if (op === GearCommand.SET_MAX_LEVEL || op === GearCommand.SET_MIN_LEVEL) {
          this.learn(d.address, 'level', undefined);
          return;
        }
        if (op >= GearCommand.ADD_TO_GROUP && op < GearCommand.REMOVE_FROM_GROUP + 16) {
          const group = op & 0x0f;
          const add = op < GearCommand.REMOVE_FROM_GROUP;
          const members = this.groupMembers.get(group);
          if (!members) return;
          const { shorts, complete } = this.affected(d.address);
          if (!complete) {
            this.groupMembers.delete(group);
            return;
          }
          for (const s of shorts) {
            if (add) members.add(s);
            else members.delete(s);
          }
        }
        return;
      }
      case 'dt8': {
        const { shorts, complete } = this.affected(d.address);
        switch (d.opcode) {
          case Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE: {
            const known = this.observedDtr.dtr0 !== undefined && this.observedDtr.dtr1 !== undefined;
            const value = known ? ((this.observedDtr.dtr1 as number) << 8) | (this.observedDtr.dtr0 as number) : null;
            for (const s of shorts) this.entry(s).foreignTemporaryMirek = complete ? value : null;
            return;
          }
          case Dt8Command.ACTIVATE:
            for (const s of shorts) {
              const g = this.entry(s);
              if (complete && g.foreignTemporaryMirek !== undefined && g.foreignTemporaryMirek !== null) {
                g.mirek = g.foreignTemporaryMirek;
                g.mirekAt = this.now();
              } else if (g.foreignTemporaryMirek !== undefined || !complete) {
                delete g.mirek;
              }
              delete g.foreignTemporaryMirek;
            }
            return;
          case Dt8Command.COLOUR_TEMPERATURE_STEP_COOLER:
          case Dt8Command.COLOUR_TEMPERATURE_STEP_WARMER:
            this.learn(d.address, 'mirek', undefined);
            return;
          case Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT:
            for (const s of shorts) {
              const g = this.entry(s);
              delete g.tcLimits;
              delete g.mirek;
            }
            return;
          case Dt8Command.STORE_GEAR_FEATURES_STATUS:
            for (const s of shorts) delete this.entry(s).autoActivation;
            return;
          default:
            return;
        }
      }
      case 'unknown':
        if (d.bits === 16) this.forget();
        return;
      default:
        return;
    }
  }

  private handleState(ev: InterfaceStateEvent): void {
    this.emit('state', ev);
    if (ev.state === 'connected') {
      const wasLost = this.connectionLost && this.everConnected;
      this.everConnected = true;
      this.connectionLost = false;
      if (wasLost) this.onReconnected();
    } else if (ev.state === 'disconnected' || ev.state === 'error' || ev.state === 'portInUse') {
      if (this.everConnected) this.connectionLost = true;
      // Retrying while unplugged is pointless: the next reconnect re-applies anew.
      this.cancelReapply();
    }
  }

  /** Stops every re-apply loop and cancels its backoff timer. */
  private cancelReapply(): void {
    for (const loop of this.reapplyLoops.values()) {
      loop.stopped = true;
      loop.timer?.cancel();
      loop.timer = undefined;
    }
    this.reapplyLoops.clear();
  }

  private endReapply(loop: ReapplyLoop): void {
    loop.stopped = true;
    if (this.reapplyLoops.get(loop.key) === loop) this.reapplyLoops.delete(loop.key);
  }

  /**
   * Sends the remembered setpoint of `loop` again (minus fields set by newer
   * setpoints since), retrying with backoff while it fails.
   */
  private reapplyAttempt(loop: ReapplyLoop, attempt: number): void {
    if (loop.stopped || this.isClosed) return;
    // The remembered value now: a foreign master may have taken over the level since.
    const remembered = this.lastSetpoints.get(loop.key);
    const level = loop.dropLevel ? undefined : remembered?.level;
    const mirek = loop.dropMirek ? undefined : remembered?.mirek;
    if (!remembered || (level === undefined && mirek === undefined)) {
      this.endReapply(loop);
      return;
    }
    const request: SetpointRequest = {
      address: remembered.address,
      ...(level !== undefined ? { level } : {}),
      ...(mirek !== undefined ? { mirek } : {}),
    };
    this.enqueueSetpoint(request, 2, false).then(
      () => this.endReapply(loop),
      (err: unknown) => {
        if (loop.stopped || this.isClosed) return;
        if (attempt + 1 >= this.reapplyAttempts) {
          this.endReapply(loop);
          const error = err instanceof Error ? err : new Error(String(err));
          this.emit('reapplyFailed', { address: loop.address, attempts: attempt + 1, error } satisfies DaliBusReapplyFailedEvent);
          return;
        }
        const delayMs = Math.min(this.reapplyMaxDelayMs, this.reapplyInitialDelayMs * 2 ** attempt);
        loop.timer = this.setTimer(delayMs, () => {
          loop.timer = undefined;
          this.reapplyAttempt(loop, attempt + 1);
        });
      },
    );
  }

  private onReconnected(): void {
    // Anything may have happened on the bus meanwhile.
    this.forget();
    this.dtrCarry = undefined;
    this.decoder.reset();
    this.observedDtr = {};
    this.cancelReapply();
    if (!this.reapply || this.isClosed) return;
    const loops: ReapplyLoop[] = [];
    for (const [key, request] of this.lastSetpoints) {
      const loop: ReapplyLoop = { key, address: request.address, dropLevel: false, dropMirek: false, stopped: false, timer: undefined };
      this.reapplyLoops.set(key, loop);
      loops.push(loop);
    }
    for (const loop of loops) this.reapplyAttempt(loop, 0);
  }
}
