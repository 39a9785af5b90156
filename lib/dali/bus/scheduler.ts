/**
 * Bus scheduler: the one owner of a DaliInterface's `transmit`.
 *
 * - One transaction on the bus at a time. A transaction (a "job") is an async
 *   function that sends its frames through `ctx.transmit`; nothing else of
 *   ours goes on the bus until it returns, so DTR-sensitive sequences stay
 *   together. The first frame goes out at the job's priority, the inner
 *   frames at priority 1.
 * - Priorities 1..5 (types.ts): a lower number runs first; FIFO within a
 *   priority. Convention: user commands 2, user queries 3, background 5.
 * - Latest-wins coalescing: a job with a `key` replaces a queued (not yet
 *   started) job with the same key, or with a key listed in `supersedes`;
 *   the replaced job's promise resolves `{ superseded: true }`. The new job
 *   goes to the tail of its priority queue, so jobs keep the order in which
 *   their last versions were given. `after` lists keys of queued jobs that
 *   must run before the new one (overlapping addresses): those waiting at a
 *   less urgent priority are moved up in front of it.
 * - Batching: a running job may `claim` queued jobs with the same `tag`
 *   that directly follow it in its own priority queue and settle them itself.
 * - Retries: a frame answered by a framing error is sent again (up to
 *   `retries` times) when repeating it cannot change the outcome (see
 *   `retryKind`); a DT8 command is repeated together with its ENABLE DEVICE
 *   TYPE. A backward-frame timeout of the interface reads as 'none'.
 * - close(): queued jobs reject with a DaliInterfaceError('closed'); the
 *   running transaction is finished (a half-sent DTR sequence would leave
 *   gear in an unknown state) but claims nothing more; close resolves when
 *   it has settled. The scheduler itself never sets a timer.
 *
 * Events: 'queue' ({ length, busy }) whenever either changes; 'transmitted'
 * ({ frame, priority, result, busTimeMs }) after every frame we put on the bus.
 */

import { EventEmitter } from 'node:events';
import { DEVICE_TYPE_COLOUR, Dt8Command, GearCommand, SpecialCommand } from '../opcodes';
import { DaliInterfaceError, type BackwardResult, type DaliInterface, type ForwardFrame, type Priority } from '../types';
import { frameBusTimeMs, type TimingEstimate } from './timing';

/** What a job sees while it runs. */
export interface JobContext {
  readonly priority: Priority;
  /** Sends one frame of this transaction (with the retry policy). Rejects when the interface fails. */
  transmit(frame: ForwardFrame, options?: { retries?: number }): Promise<BackwardResult>;
  /**
   * Takes queued jobs with this tag that directly follow the running job in
   * its priority queue (at most `max`), only while no more urgent job waits.
   * The caller must settle each claimed job (resolve/reject); if the running
   * job ends without doing so, the claimed jobs get its outcome's error or
   * resolve as superseded.
   */
  claim<P>(tag: string, max: number): ClaimedJob<P>[];
  /** Frames on the wire so far in this job (send-twice counts 2, retries count). */
  readonly frames: number;
  /** Bus time of this job's frames so far (timing model). */
  readonly busTimeMs: number;
  /** True once close() was called: finish the transaction, start nothing new. */
  readonly closed: boolean;
}

/** A queued job taken over by a running job (batching). */
export interface ClaimedJob<P> {
  readonly payload: P;
  readonly key: string | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export type JobResult<T> = { readonly superseded: false; readonly value: T } | { readonly superseded: true };

export interface JobOptions {
  /** Default 2. */
  readonly priority?: Priority;
  /** Coalescing key: a newer job with the same key replaces this one while it waits. */
  readonly key?: string;
  /** Further keys whose queued jobs this job replaces. */
  readonly supersedes?: readonly string[];
  /** Keys of queued jobs that must run before this one. */
  readonly after?: readonly string[];
  /** Batch tag for claim(). */
  readonly tag?: string;
  /** Data a claiming job reads. */
  readonly payload?: unknown;
  /** Shown in errors. */
  readonly label?: string;
}

export interface SchedulerOptions {
  /** Retries of a frame answered by a framing error, when safe (default 2). */
  readonly retries?: number;
  /** Jobs without a key are refused when this many jobs wait (default 1000). */
  readonly maxQueueLength?: number;
  /** Point of the timing ranges used for bus-time statistics (default 'typical'). */
  readonly timingEstimate?: TimingEstimate;
}

export interface QueueEvent {
  readonly length: number;
  readonly busy: boolean;
}

export interface TransmittedEvent {
  readonly frame: ForwardFrame;
  readonly priority: Priority;
  readonly result: BackwardResult;
  readonly busTimeMs: number;
}

interface Job {
  readonly run: (ctx: JobContext) => Promise<unknown>;
  priority: Priority;
  readonly key: string | undefined;
  readonly tag: string | undefined;
  readonly payload: unknown;
  readonly label: string;
  readonly resolve: (r: JobResult<unknown>) => void;
  readonly reject: (e: Error) => void;
  settled: boolean;
}

const PRIORITIES: readonly Priority[] = [1, 2, 3, 4, 5];

function closedError(label: string): DaliInterfaceError {
  return new DaliInterfaceError(`DALI bus closed before "${label}" was sent`, 'closed');
}

/**
 * How a frame answered by a framing error may be repeated:
 * - 'frame': send the same frame again (idempotent command, DTR write,
 *   side-effect-free query to one short address);
 * - 'withEnable': repeat ENABLE DEVICE TYPE + the frame (an idempotent DT8
 *   command right after ENABLE DEVICE TYPE 8);
 * - 'none': do not repeat (relative commands like UP / STEP, queries that
 *   change state such as QUERY COLOUR VALUE or QUERY NEXT DEVICE TYPE, and
 *   group/broadcast queries where a framing error means several answers).
 */
export function retryKind(frame: ForwardFrame, previous: ForwardFrame | undefined): 'frame' | 'withEnable' | 'none' {
  if (frame.bits === 24) {
    const address = (frame.value >> 16) & 0xff;
    const instance = (frame.value >> 8) & 0xff;
    if (address === 0xc1) return instance >= 0x30 && instance <= 0x32 ? 'frame' : 'none';
    if (address === 0xc7 || address === 0xc9) return 'frame';
    const short = (address & 0x81) === 0x01;
    return frame.expectAnswer === true && short && (frame.value & 0xff) !== 0x3c ? 'frame' : 'none';
  }
  const a = (frame.value >> 8) & 0xff;
  const b = frame.value & 0xff;
  if (a >= 0xa0 && a <= 0xcb) {
    const safe =
      a === SpecialCommand.DTR0 || a === SpecialCommand.DTR1 || a === SpecialCommand.DTR2 || a === SpecialCommand.ENABLE_DEVICE_TYPE;
    return safe ? 'frame' : 'none';
  }
  if (a > 0x9f && a < 0xfc) return 'none';
  if ((a & 1) === 0) return 'frame'; // DAPC
  const short = a <= 0x7f;
  if (b >= 0xe0) {
    const prevIsEnable =
      previous !== undefined && previous.bits === 16 && previous.value === ((SpecialCommand.ENABLE_DEVICE_TYPE << 8) | DEVICE_TYPE_COLOUR);
    if (!prevIsEnable) return 'none';
    const safeCommand =
      b === Dt8Command.SET_TEMPORARY_X_COORDINATE ||
      b === Dt8Command.SET_TEMPORARY_Y_COORDINATE ||
      b === Dt8Command.ACTIVATE ||
      b === Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE ||
      b === Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT ||
      b === Dt8Command.STORE_GEAR_FEATURES_STATUS;
    const safeQuery =
      short &&
      (b === Dt8Command.QUERY_GEAR_FEATURES_STATUS ||
        b === Dt8Command.QUERY_COLOUR_STATUS ||
        b === Dt8Command.QUERY_COLOUR_TYPE_FEATURES ||
        b === Dt8Command.QUERY_EXTENDED_VERSION_NUMBER);
    return safeCommand || safeQuery ? 'withEnable' : 'none';
  }
  if (b >= GearCommand.QUERY_STATUS) {
    if (!short) return 'none';
    return b === GearCommand.QUERY_NEXT_DEVICE_TYPE || b === GearCommand.READ_MEMORY_LOCATION ? 'none' : 'frame';
  }
  if (b >= GearCommand.RESET) return 'frame'; // configuration commands are idempotent
  const idempotent =
    b === GearCommand.OFF ||
    b === GearCommand.RECALL_MAX_LEVEL ||
    b === GearCommand.RECALL_MIN_LEVEL ||
    b === GearCommand.GO_TO_LAST_ACTIVE_LEVEL ||
    (b >= GearCommand.GO_TO_SCENE && b < GearCommand.GO_TO_SCENE + 16);
  return idempotent ? 'frame' : 'none';
}

const ENABLE_DT8: ForwardFrame = { bits: 16, value: (SpecialCommand.ENABLE_DEVICE_TYPE << 8) | DEVICE_TYPE_COLOUR };

export class BusScheduler extends EventEmitter {
  private readonly queues = new Map<Priority, Job[]>(PRIORITIES.map((p) => [p, []]));
  private running: Job | null = null;
  private runningDone: Promise<void> | null = null;
  private drainScheduled = false;
  private isClosed = false;
  private lastQueueEvent: QueueEvent = { length: 0, busy: false };
  private readonly retries: number;
  private readonly maxQueueLength: number;
  private readonly estimate: TimingEstimate;

  constructor(
    private readonly iface: DaliInterface,
    options: SchedulerOptions = {},
  ) {
    super();
    this.retries = Math.max(0, Math.trunc(options.retries ?? 2));
    this.maxQueueLength = Math.max(1, Math.trunc(options.maxQueueLength ?? 1000));
    this.estimate = options.timingEstimate ?? 'typical';
  }

  /** Jobs waiting (not started). */
  get queueLength(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** True while a job runs. */
  get busy(): boolean {
    return this.running !== null;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Queues a job. Resolves with its value, or `{ superseded: true }` when a
   * newer job replaced it before it started; rejects with the job's error.
   */
  submit<T>(run: (ctx: JobContext) => Promise<T>, options: JobOptions = {}): Promise<JobResult<T>> {
    const priority = options.priority ?? 2;
    const label = options.label ?? options.key ?? 'DALI transaction';
    if (this.isClosed) return Promise.reject(closedError(label));
    if (![1, 2, 3, 4, 5].includes(priority)) {
      return Promise.reject(new RangeError(`priority must be 1..5, got ${String(priority)}`));
    }
    if (options.key === undefined && this.queueLength >= this.maxQueueLength) {
      return Promise.reject(new DaliInterfaceError(`DALI bus queue full (${this.maxQueueLength} waiting); "${label}" refused`, 'busFault'));
    }
    return new Promise<JobResult<T>>((resolve, reject) => {
      const job: Job = {
        run,
        priority,
        key: options.key,
        tag: options.tag,
        payload: options.payload,
        label,
        resolve: resolve as (r: JobResult<unknown>) => void,
        reject,
        settled: false,
      };
      // Latest wins: drop queued jobs with the same key or a superseded key. The new job keeps the
      // place of a more urgent one it replaces (a routine change never demotes a waiting arrival).
      const replace = new Set<string>(options.supersedes ?? []);
      if (options.key !== undefined) replace.add(options.key);
      let inherit: { priority: Priority; index: number } | null = null;
      if (replace.size > 0) {
        for (const [p, q] of this.queues) {
          const keep: Job[] = [];
          for (const old of q) {
            if (old.key !== undefined && replace.has(old.key)) {
              if (p < (inherit?.priority ?? job.priority)) inherit = { priority: p, index: keep.length };
              this.settle(old, { superseded: true });
            } else keep.push(old);
          }
          this.queues.set(p, keep);
        }
      }
      if (inherit !== null) job.priority = inherit.priority;
      // Ordering: queued jobs this one must follow move up to its priority.
      const after = new Set(options.after ?? []);
      const target = this.queues.get(job.priority) as Job[];
      const moved: Job[] = [];
      if (after.size > 0) {
        for (const p of PRIORITIES) {
          if (p <= job.priority) continue;
          const q = this.queues.get(p) as Job[];
          const move = q.filter((j) => j.key !== undefined && after.has(j.key));
          if (move.length === 0) continue;
          this.queues.set(
            p,
            q.filter((j) => !move.includes(j)),
          );
          for (const j of move) {
            j.priority = job.priority;
            moved.push(j);
          }
        }
      }
      if (inherit !== null) target.splice(Math.min(inherit.index, target.length), 0, ...moved, job);
      else target.push(...moved, job);
      this.emitQueue();
      this.scheduleDrain();
    });
  }

  /**
   * Rejects every queued job and resolves when the running job (which is
   * allowed to finish its transaction) has settled. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      for (const q of this.queues.values()) {
        for (const job of q.splice(0)) this.fail(job, closedError(job.label));
      }
      this.emitQueue();
    }
    if (this.runningDone) await this.runningDone;
  }

  private settle(job: Job, result: JobResult<unknown>): void {
    if (job.settled) return;
    job.settled = true;
    job.resolve(result);
  }

  private fail(job: Job, error: Error): void {
    if (job.settled) return;
    job.settled = true;
    job.reject(error);
  }

  private emitQueue(): void {
    const ev: QueueEvent = { length: this.queueLength, busy: this.running !== null };
    if (ev.length === this.lastQueueEvent.length && ev.busy === this.lastQueueEvent.busy) return;
    this.lastQueueEvent = ev;
    this.emit('queue', ev);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.running !== null) return;
    this.drainScheduled = true;
    // A microtask, not a timer: jobs submitted in the same tick can be batched.
    queueMicrotask(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private nextJob(): Job | undefined {
    for (const p of PRIORITIES) {
      const q = this.queues.get(p) as Job[];
      if (q.length > 0) return q.shift();
    }
    return undefined;
  }

  private async drain(): Promise<void> {
    if (this.running !== null) return;
    for (;;) {
      if (this.isClosed) break;
      const job = this.nextJob();
      if (job === undefined) break;
      this.running = job;
      let finished!: () => void;
      this.runningDone = new Promise<void>((r) => (finished = r));
      this.emitQueue();
      try {
        await this.execute(job);
      } finally {
        this.running = null;
        this.runningDone = null;
        finished();
        this.emitQueue();
      }
    }
  }

  private async execute(job: Job): Promise<void> {
    const claimed: Job[] = [];
    let frames = 0;
    let busTimeMs = 0;
    let previous: ForwardFrame | undefined;
    let first = true;
    const send = async (frame: ForwardFrame): Promise<BackwardResult> => {
      const priority: Priority = first ? job.priority : 1;
      first = false;
      let result: BackwardResult;
      try {
        result = await this.iface.transmit(frame, priority);
      } catch (err) {
        if (err instanceof DaliInterfaceError && err.code === 'timeout' && frame.expectAnswer === true) {
          result = { kind: 'none' };
        } else {
          throw err;
        }
      }
      const t = frameBusTimeMs(frame, priority, { answer: result.kind, estimate: this.estimate });
      frames += frame.sendTwice === true ? 2 : 1;
      busTimeMs += t;
      this.emit('transmitted', { frame, priority, result, busTimeMs: t } satisfies TransmittedEvent);
      return result;
    };
    const ctx: JobContext = {
      priority: job.priority,
      transmit: async (frame, options) => {
        const retries = Math.max(0, Math.trunc(options?.retries ?? this.retries));
        const prev = previous;
        let result = await send(frame);
        const kind = retryKind(frame, prev);
        for (let i = 0; i < retries && result.kind === 'framingError' && kind !== 'none'; i++) {
          if (kind === 'withEnable') await send(ENABLE_DT8);
          result = await send(frame);
        }
        previous = frame;
        return result;
      },
      claim: <P>(tag: string, max: number): ClaimedJob<P>[] => {
        const out: ClaimedJob<P>[] = [];
        if (this.isClosed) return out;
        for (const p of PRIORITIES) {
          if (p >= job.priority) break;
          if ((this.queues.get(p) as Job[]).length > 0) return out; // more urgent work waits
        }
        const q = this.queues.get(job.priority) as Job[];
        while (out.length < max && q.length > 0 && (q[0] as Job).tag === tag) {
          const j = q.shift() as Job;
          claimed.push(j);
          out.push({
            payload: j.payload as P,
            key: j.key,
            resolve: (value) => this.settle(j, { superseded: false, value }),
            reject: (error) => this.fail(j, error),
          });
        }
        if (out.length > 0) this.emitQueue();
        return out;
      },
      get frames() {
        return frames;
      },
      get busTimeMs() {
        return busTimeMs;
      },
      get closed() {
        return closedFlag();
      },
    };
    const closedFlag = (): boolean => this.isClosed;
    try {
      const value = await job.run(ctx);
      this.settle(job, { superseded: false, value });
      for (const c of claimed) this.settle(c, { superseded: true });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.fail(job, error);
      for (const c of claimed) this.fail(c, error);
    }
  }
}
