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
 * DaliBus is the facade; the work is split by responsibility:
 * - Setpoint transactions (./setpoint-queue): latest wins per address while
 *   waiting (a replaced call resolves `{ superseded: true }`), setpoints
 *   waiting back to back are planned together, foreign frames void the DTR
 *   assumptions of a running plan. The BusScheduler (./scheduler) runs one
 *   transaction at a time for setpoints, queries and raw sends alike.
 * - Gear knowledge (./gear-knowledge): last level/mirek sent, automatic
 *   activation (probed once before the first level + Tc setpoint to a short
 *   address, then cached), group membership when known (inventory option,
 *   readGroups), device types, Tc limits; learned from our frames and from
 *   foreign ones (a wall panel DAPC sets the level, an unknown change
 *   forgets the value). Knowledge older than `knowledgeTtlMs` is not trusted
 *   by the planner.
 * - Re-apply after reconnect (./reapply): when the interface comes back after
 *   a disconnect, the last setpoint per address is applied once more (minus
 *   levels a foreign master changed since), retried with backoff
 *   (`reapplyRetry`); knowledge of level and colour is forgotten at that point.
 * - Foreign frames (wall panels, other masters, sensors) are decoded and
 *   emitted as 'frame'.
 *
 * Events: 'frame' (DaliBusFrameEvent), 'state' (InterfaceStateEvent),
 * 'queue' (QueueEvent: waiting jobs, busy), 'transmitted' (TransmittedEvent:
 * each frame this controller put on the bus, with its answer and bus time),
 * 'reapplyFailed' (DaliBusReapplyFailedEvent).
 */

import { EventEmitter } from 'node:events';
import { FrameDecoder, dt8Command, dtr0, enableDeviceType, encodeGearAddressByte, gearCommand, type DecodedFrame } from '../codec';
import {
  DEVICE_TYPE_COLOUR,
  DEVICE_TYPE_MULTIPLE,
  DEVICE_TYPE_NONE,
  Dt8ColourValue,
  Dt8Command,
  GearCommand,
  GearStatusBit,
} from '../opcodes';
import type { SetpointRequest } from '../sequence';
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
import { GearKnowledge, checkShort, type GearInventory, type KnownGear, type TcLimitsReading } from './gear-knowledge';
import { ReconnectReapply } from './reapply';
import { BusScheduler, type JobContext, type QueueEvent, type TransmittedEvent } from './scheduler';
import { SetpointQueue, probeGearFeatures, type GearFeatures, type SetpointResult } from './setpoint-queue';

export type { GearInventory, KnownGear, TcLimitsReading } from './gear-knowledge';
export type { GearFeatures, SetpointResult } from './setpoint-queue';

// ------------------------------------------------------------------ public types

export interface DaliBusOptions {
  /** Retries of frames answered by a framing error, when safe (default 2). */
  readonly retries?: number;
  /** What is known about the bus from commissioning. */
  readonly inventory?: GearInventory;
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

const MAX_READ_ATTEMPTS = 5;

function positiveInt(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? Math.trunc(v) : fallback;
}

function defaultSetTimer(delayMs: number, callback: () => void): { cancel(): void } {
  const t = setTimeout(callback, delayMs);
  return { cancel: () => clearTimeout(t) };
}

function answerValue(r: BackwardResult): number | null {
  return r.kind === 'answer' ? r.value : null;
}

export class DaliBus extends EventEmitter {
  private readonly scheduler: BusScheduler;
  private readonly gear: GearKnowledge;
  private readonly reapply: ReconnectReapply;
  private readonly setpoints: SetpointQueue;
  private readonly decoder = new FrameDecoder();
  private foreignGearFrames = 0;
  private everConnected = false;
  private connectionLost = false;
  private isClosed = false;
  private readonly reapplyOnReconnect: boolean;

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
    this.gear = new GearKnowledge(options.knowledgeTtlMs ?? 10 * 60 * 1000, options.now ?? Date.now, options.inventory);
    const initialDelayMs = positiveInt(options.reapplyRetry?.initialDelayMs, 100);
    this.reapply = new ReconnectReapply(this.gear, {
      attempts: positiveInt(options.reapplyRetry?.attempts, 8),
      initialDelayMs,
      maxDelayMs: Math.max(initialDelayMs, positiveInt(options.reapplyRetry?.maxDelayMs, 5000)),
      setTimer: options.setTimer ?? defaultSetTimer,
      send: (request) => this.setpoints.enqueue(request, 2, false),
      closed: () => this.isClosed,
      failed: (address, attempts, error) => this.emit('reapplyFailed', { address, attempts, error } satisfies DaliBusReapplyFailedEvent),
    });
    this.setpoints = new SetpointQueue(this.scheduler, this.gear, this.reapply, {
      coalesce: options.coalesce ?? true,
      batch: options.batch ?? true,
      maxBatch: Math.max(1, Math.trunc(options.maxBatch ?? 8)),
      probeFeatures: options.probeGearFeatures ?? true,
      foreignFrames: () => this.foreignGearFrames,
      closed: () => this.isClosed,
    });
    this.reapplyOnReconnect = options.reapplyOnReconnect ?? true;
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
      this.reapply.cancel();
      this.setpoints.rejectWaiting(new DaliInterfaceError('DALI bus closed before the setpoint was sent', 'closed'));
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
    return this.gear.knowledge(short);
  }

  /** Short addresses the bus knows of (inventory, commands, queries), ascending. */
  knownShortAddresses(): number[] {
    return this.gear.knownShortAddresses();
  }

  /**
   * The short addresses an address reaches, as far as known: `complete` is
   * false when a group's membership is unknown (then `shorts` lists every
   * known gear) or a broadcast goes to a bus whose inventory is not known
   * to be complete.
   */
  members(address: GearAddress): { shorts: number[]; complete: boolean } {
    encodeGearAddressByte(address, false);
    return this.gear.members(address);
  }

  /** Declares the complete membership of a group (from commissioning). */
  setGroupMembers(group: number, members: readonly number[]): void {
    this.gear.setGroupMembers(group, members);
  }

  /**
   * Forgets the group membership learned (it may have changed unseen): a
   * group the inventory does not declare reaches "not known" gear until
   * setGroupMembers tells it again.
   */
  forgetGroups(): void {
    this.gear.forgetGroups();
  }

  /** Forgets level/colour knowledge (all, or one short address): the next setpoint sends everything. */
  forget(short?: number): void {
    this.gear.forget(short);
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
      return this.setpoints.enqueue(this.validate(input), options.priority ?? 2, true);
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

  // ---------------------------------------------------------------- queries and raw transactions

  /** Runs a job that is not a setpoint (invalidates the DTR carry: queries may change DTR0). */
  private async job<T>(label: string, priority: Priority, run: (ctx: JobContext) => Promise<T>): Promise<T> {
    const r = await this.scheduler.submit(
      async (ctx) => {
        this.setpoints.dropDtrCarry();
        this.gear.dtr0Changed(); // QUERY COLOUR VALUE and friends change DTR0
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
        if (f.bits === 16) this.gear.learnFromFrame(decoder.decode(16, f.value));
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
      this.gear.setDeviceTypes(short, types);
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
    const known = this.gear.autoActivation(short);
    if (known !== undefined && options.refresh !== true) {
      return Promise.resolve({ autoActivation: known, raw: known ? 1 : 0 });
    }
    return this.job(`QUERY GEAR FEATURES/STATUS ${short}`, options.priority ?? 3, (ctx) => probeGearFeatures(ctx, this.gear, short));
  }

  /** Reads one 16-bit colour value: DTR0 selector, EDT 8, QUERY COLOUR VALUE (MSB), QUERY CONTENT DTR0 (LSB). */
  private async readColourValue(ctx: JobContext, short: number, selector: number): Promise<number | null> {
    const addr: GearAddress = { kind: 'short', address: short };
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const mark = this.foreignGearFrames;
      await ctx.transmit(dtr0(selector));
      await ctx.transmit(enableDeviceType(DEVICE_TYPE_COLOUR));
      const msb = await ctx.transmit(dt8Command(addr, Dt8Command.QUERY_COLOUR_VALUE));
      // A foreign frame may have taken our ENABLE DEVICE TYPE or DTR0: ask again.
      if (this.foreignGearFrames !== mark) continue;
      if (msb.kind === 'none') return null;
      const lsb = await ctx.transmit(gearCommand(addr, GearCommand.QUERY_CONTENT_DTR0));
      if (this.foreignGearFrames !== mark || msb.kind !== 'answer' || lsb.kind !== 'answer') continue;
      const value = (msb.value << 8) | lsb.value;
      return value === 0xffff ? null : value;
    }
    throw new DaliInterfaceError(
      `QUERY COLOUR VALUE ${selector} of short ${short} failed ${MAX_READ_ATTEMPTS} times (collisions)`,
      'protocol',
    );
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
      this.gear.setTcLimits(short, limits);
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
      return this.gear.learnGroups(short, (hi << 8) | lo);
    });
  }

  // ---------------------------------------------------------------- foreign frames and state

  private handleForeignFrame(ev: BusFrameEvent): void {
    let decoded: DecodedFrame | undefined;
    if ((ev.bits === 16 || ev.bits === 24) && ev.framingError !== true) decoded = this.decoder.decode(ev.bits, ev.value);
    if (ev.bits === 16) {
      this.foreignGearFrames++;
      this.setpoints.dropDtrCarry();
      if (decoded) this.gear.learnFromFrame(decoded, (address) => this.reapply.levelTakenOver(address));
      else this.gear.forget(); // a corrupt gear frame: anything may have changed
    }
    this.emit('frame', { event: ev, ...(decoded ? { decoded } : {}) } satisfies DaliBusFrameEvent);
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
      this.reapply.cancel();
    }
  }

  private onReconnected(): void {
    // Anything may have happened on the bus meanwhile, the groups too: a group is re-applied only once known again.
    this.gear.forget();
    this.gear.forgetGroups();
    this.setpoints.dropDtrCarry();
    this.decoder.reset();
    this.gear.forgetDtr();
    this.reapply.cancel();
    if (!this.reapplyOnReconnect || this.isClosed) return;
    this.reapply.start();
  }
}
