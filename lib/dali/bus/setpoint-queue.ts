/**
 * Setpoint transactions of a DaliBus: latest wins per address while waiting
 * (a replaced call resolves `{ superseded: true }`), setpoints waiting back
 * to back are planned together (../sequence: shared DTR writes,
 * group/broadcast collapse), and every luminaire ends at the last setpoint
 * given for it. Foreign 16-bit frames void the DTR assumptions of a running
 * plan: the remaining steps are sent self-contained (own DTR writes), a step
 * interrupted between its DTR writes and its DT8 commands is restarted
 * (ENABLE DEVICE TYPE 8 covers the next frame only: docs/dali.md "Colour
 * temperature (DT8)").
 *
 * The BusScheduler (./scheduler) runs one transaction at a time; this class
 * decides what each setpoint transaction sends and what the bus learns from it.
 */
import { dt8Command, enableDeviceType } from '../codec';
import { DEVICE_TYPE_COLOUR, Dt8Command } from '../opcodes';
import { planSetpoints, selfContainedFrames, type PlannedStep, type SetpointRequest } from '../sequence';
import { DaliInterfaceError, type ForwardFrame, type Priority } from '../types';
import { addressKey, type GearKnowledge } from './gear-knowledge';
import type { ReconnectReapply } from './reapply';
import type { BusScheduler, JobContext } from './scheduler';

export interface SetpointResult {
  /** Frames on the wire for the step that applied this setpoint (0 when superseded or nothing to send). */
  readonly frames: number;
  /** Bus time of those frames (timing model). */
  readonly busTimeMs: number;
  /** True when a newer setpoint replaced this one before it was sent. */
  readonly superseded?: boolean;
}

export interface GearFeatures {
  /** Bit 0: the temporary colour is applied by the next arc power command. */
  readonly autoActivation: boolean;
  readonly raw: number;
}

export interface SetpointQueueOptions {
  /** Latest-wins coalescing of waiting setpoints. */
  readonly coalesce: boolean;
  /** Plan setpoints waiting back to back together. */
  readonly batch: boolean;
  /** Most setpoints in one transaction. */
  readonly maxBatch: number;
  /** Query automatic activation before the first level + Tc setpoint to a short address. */
  readonly probeFeatures: boolean;
  /** Count of foreign 16-bit frames seen so far (DaliBus counts them). */
  readonly foreignFrames: () => number;
  /** True once the bus is closed. */
  readonly closed: () => boolean;
}

interface SetpointEntry {
  readonly key: string;
  request: SetpointRequest;
  readonly seq: number;
  settled: boolean;
  readonly resolve: (r: SetpointResult) => void;
  readonly reject: (e: Error) => void;
}

const SUPERSEDED: SetpointResult = Object.freeze({ frames: 0, busTimeMs: 0, superseded: true });
const MAX_STEP_RESTARTS = 8;

function isDt8CommandFrame(f: ForwardFrame): boolean {
  if (f.bits !== 16) return false;
  const a = f.value >> 8;
  const isAddressed = a <= 0x9f || a >= 0xfc;
  return isAddressed && (a & 1) === 1 && (f.value & 0xff) >= 0xe0;
}

export class SetpointQueue {
  private readonly queued = new Map<string, SetpointEntry>();
  private seq = 0;
  /** DTR0/DTR1 left by our last setpoint batch, valid while nothing else touched the bus. */
  private dtrCarry: { dtr0: number; dtr1: number; foreignMark: number } | undefined;
  private readonly coalesce: boolean;
  private readonly batch: boolean;
  private readonly maxBatch: number;
  private readonly foreignFrames: () => number;
  private readonly closed: () => boolean;

  constructor(
    private readonly scheduler: BusScheduler,
    private readonly knowledge: GearKnowledge,
    private readonly reapply: ReconnectReapply,
    private readonly options: SetpointQueueOptions,
  ) {
    this.coalesce = options.coalesce;
    this.batch = options.batch;
    this.maxBatch = options.maxBatch;
    this.foreignFrames = options.foreignFrames;
    this.closed = options.closed;
  }

  /** Another job or a foreign frame may have changed DTR0/DTR1: the next batch writes them again. */
  dropDtrCarry(): void {
    this.dtrCarry = undefined;
  }

  /** Rejects every waiting setpoint (on close). */
  rejectWaiting(err: Error): void {
    for (const e of this.queued.values()) this.fail(e, err);
    this.queued.clear();
  }

  enqueue(request: SetpointRequest, priority: Priority, record: boolean): Promise<SetpointResult> {
    if (this.closed()) return Promise.reject(new DaliInterfaceError('DALI bus closed', 'closed'));
    const key = addressKey(request.address);
    const seq = ++this.seq;
    let merged = request;
    const supersedes: string[] = [];
    const after: string[] = [];
    if (this.coalesce) {
      const old = this.queued.get(key);
      if (old) {
        // Carry over fields the new setpoint leaves alone, unless a later waiting setpoint overrode them.
        const laterSets = (field: 'level' | 'mirek'): boolean =>
          [...this.queued.values()].some(
            (e) =>
              e.seq > old.seq &&
              e !== old &&
              e.request[field] !== undefined &&
              this.knowledge.overlaps(e.request.address, old.request.address),
          );
        const level = request.level ?? (old.request.level !== undefined && !laterSets('level') ? old.request.level : undefined);
        const mirek = request.mirek ?? (old.request.mirek !== undefined && !laterSets('mirek') ? old.request.mirek : undefined);
        merged = { address: request.address, ...(level !== undefined ? { level } : {}), ...(mirek !== undefined ? { mirek } : {}) };
        this.queued.delete(key);
      }
      for (const [k, e] of [...this.queued]) {
        const fieldsCovered =
          (e.request.level === undefined || merged.level !== undefined) && (e.request.mirek === undefined || merged.mirek !== undefined);
        if (fieldsCovered && this.knowledge.covers(merged.address, e.request.address)) {
          supersedes.push(k);
          this.queued.delete(k);
        } else if (this.knowledge.overlaps(merged.address, e.request.address)) {
          after.push(k);
        }
      }
    }
    if (record) this.reapply.record(merged);

    let resolveEntry!: (r: SetpointResult) => void;
    let rejectEntry!: (e: Error) => void;
    const promise = new Promise<SetpointResult>((res, rej) => {
      resolveEntry = res;
      rejectEntry = rej;
    });
    const entry: SetpointEntry = { key, request: merged, seq, settled: false, resolve: resolveEntry, reject: rejectEntry };
    if (this.coalesce) this.queued.set(key, entry);

    this.scheduler
      .submit((ctx) => this.run(ctx, entry), {
        priority,
        ...(this.coalesce ? { key, supersedes, after } : {}),
        ...(this.batch ? { tag: 'setpoint' } : {}),
        payload: entry,
        label: `setpoint ${key}`,
      })
      .then(
        (r) => {
          if (r.superseded) this.settle(entry, SUPERSEDED);
        },
        (err: unknown) => this.fail(entry, err instanceof Error ? err : new Error(String(err))),
      );
    return promise;
  }

  private settle(e: SetpointEntry, r: SetpointResult): void {
    if (e.settled) return;
    e.settled = true;
    if (this.queued.get(e.key) === e) this.queued.delete(e.key);
    e.resolve(r);
  }

  private fail(e: SetpointEntry, err: Error): void {
    if (e.settled) return;
    e.settled = true;
    if (this.queued.get(e.key) === e) this.queued.delete(e.key);
    e.reject(err);
  }

  private async run(ctx: JobContext, first: SetpointEntry): Promise<void> {
    const entries: SetpointEntry[] = [first];
    if (this.queued.get(first.key) === first) this.queued.delete(first.key);
    if (this.batch && this.maxBatch > 1) {
      for (const c of ctx.claim<SetpointEntry>('setpoint', this.maxBatch - 1)) {
        const e = c.payload;
        if (this.queued.get(e.key) === e) this.queued.delete(e.key);
        entries.push(e);
        c.resolve(undefined); // settled through the entry below
      }
    }
    const foreignAtStart = this.foreignFrames();
    const carry = this.dtrCarry !== undefined && this.dtrCarry.foreignMark === foreignAtStart ? this.dtrCarry : undefined;
    this.dtrCarry = undefined;
    let lastDtr: { dtr0: number; dtr1: number } | undefined = carry ? { dtr0: carry.dtr0, dtr1: carry.dtr1 } : undefined;
    let dtrTrusted = true;
    try {
      if (this.options.probeFeatures) {
        for (const e of entries) {
          const a = e.request.address;
          if (a.kind !== 'short' || e.request.mirek === undefined || e.request.level === undefined) continue;
          if (this.knowledge.autoActivation(a.address) !== undefined) continue;
          await probeGearFeatures(ctx, this.knowledge, a.address);
        }
      }
      const byRequest = new Map<SetpointRequest, SetpointEntry>(entries.map((e) => [e.request, e]));
      const steps = planSetpoints(
        entries.map((e) => e.request),
        this.knowledge.planContext(lastDtr),
      );
      for (const step of steps) {
        const { frames, busTimeMs, clean, interfered } = await this.executeStep(ctx, step, foreignAtStart);
        if (!clean) dtrTrusted = false;
        if (step.dtr) {
          lastDtr = step.dtr;
          this.knowledge.noteDtr(step.dtr);
        }
        for (const r of step.applies) {
          const e = byRequest.get(r);
          if (!e) continue;
          if (interfered) {
            this.fail(
              e,
              new DaliInterfaceError(
                `setpoint ${e.key} not applied: frames of other masters interrupted its colour sequence ${MAX_STEP_RESTARTS + 1} times`,
                'busFault',
              ),
            );
          } else {
            this.settle(e, { frames, busTimeMs });
          }
        }
      }
      for (const e of entries) this.settle(e, { frames: 0, busTimeMs: 0 });
      if (lastDtr && dtrTrusted) this.dtrCarry = { ...lastDtr, foreignMark: foreignAtStart };
      if (this.foreignFrames() !== foreignAtStart) this.dtrCarry = undefined;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const e of entries) {
        if (e.settled) continue;
        this.knowledge.learn(e.request.address, 'level', undefined);
        this.knowledge.learn(e.request.address, 'mirek', undefined);
        this.fail(e, error);
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
    if (step.reliesOnDtrFromEarlierStep && this.foreignFrames() !== foreignAtStart) frames = selfContainedFrames(step);
    let restarts = 0;
    let clean = true;
    let interfered = false;
    for (;;) {
      const mark = this.foreignFrames();
      let disturbed = false;
      clean = true;
      for (let i = 0; i < frames.length; i++) {
        if (i > 0 && this.foreignFrames() !== mark && frames.slice(i).some(isDt8CommandFrame)) {
          // A foreign frame got in between our DTR writes / ENABLE DEVICE TYPE and the DT8 command.
          disturbed = true;
          break;
        }
        const r = await ctx.transmit(frames[i] as ForwardFrame);
        if (r.kind === 'framingError') clean = false;
      }
      // A foreign frame reported while our last frames were on their way may have landed in between.
      if (!disturbed && this.foreignFrames() !== mark && step.sendsColour) disturbed = true;
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
    if (step.sendsLevel) this.knowledge.learn(step.target, 'level', clean ? level : undefined);
    if (mirek !== undefined) this.knowledge.learn(step.target, 'mirek', clean ? mirek : undefined);
    return { frames: ctx.frames - framesBefore, busTimeMs: ctx.busTimeMs - busBefore, clean, interfered };
  }
}

/** QUERY GEAR FEATURES/STATUS of one short address; remembers automatic activation (false when nobody answered). */
export async function probeGearFeatures(ctx: JobContext, knowledge: GearKnowledge, short: number): Promise<GearFeatures | null> {
  await ctx.transmit(enableDeviceType(DEVICE_TYPE_COLOUR));
  const r = await ctx.transmit(dt8Command({ kind: 'short', address: short }, Dt8Command.QUERY_GEAR_FEATURES_STATUS));
  knowledge.addShort(short);
  if (r.kind === 'answer') {
    const autoActivation = (r.value & 0x01) !== 0;
    knowledge.setAutoActivation(short, autoActivation);
    return { autoActivation, raw: r.value };
  }
  if (r.kind === 'none') knowledge.setAutoActivation(short, false); // not DT8 or absent: the 7-frame sequence works everywhere
  return null;
}
