/**
 * A simulated DALI bus: control gear (VirtualGear) and control devices
 * (VirtualSensor) that all receive every forward frame.
 *
 * Usage (e.g. serving the bus over a pseudo-terminal):
 *
 * ```ts
 * const bus = new VirtualBus();
 * bus.addGear({ shortAddress: 5, groups: [0] });
 * const sensor = bus.addSensor({ shortAddress: 0 });
 * bus.on('frame', (ev) => { ... });        // frames other masters / sensors put on the bus
 * const answer = bus.handleForward({ bits: 16, value: 0x0ac8 }); // our master's frame
 * bus.inject({ bits: 16, value: 0xfe00 }); // a wall panel switches everything off
 * ```
 *
 * - `handleForward(frame)`: a frame of *the* master using this bus. Every
 *   gear/device receives it (twice when `frame.sendTwice`); the result is
 *   'none' (no answer), 'answer' (exactly one) or 'framingError' (several
 *   answers collide, or a frame corrupted with `corruptNext`). It is NOT
 *   reported as a 'frame' event (the master knows its own frames), but it is
 *   reported as a 'forward' event (monitoring, test hooks).
 * - `inject(frame)`: a frame of another master (wall panel, second
 *   controller). It reaches the gear like any frame and is reported as a
 *   'frame' event, followed by an 8-bit 'frame' event for its answer if any.
 * - 'frame' (BusFrameEvent): everything others put on the bus: injected
 *   frames and sensor event frames (24-bit, bit 16 = 0).
 * - 'forward' ({ frame, result }): every frame passed to handleForward.
 *
 * Time: the bus, its gear and sensors share one Clock (default: the system
 * clock). Tests and benches pass a VirtualClock to run fades, send-twice
 * windows and bus timing in virtual time.
 */

import { EventEmitter } from 'node:events';
import type { BackwardResult, BusFrameEvent, ForwardFrame } from '../types';
import { VirtualGear, type VirtualGearOptions } from './gear';
import { VirtualSensor, type VirtualSensorOptions } from './sensor';

// ------------------------------------------------------------------ clocks

/** A cancellable timer. */
export interface TimerHandle {
  cancel(): void;
}

/** Time source of the simulator: ms (epoch-like) and timers. */
export interface Clock {
  now(): number;
  /** Calls `callback` once after `delayMs` (>= 0). */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

/** Real time: performance.timeOrigin + performance.now() (monotonic, epoch ms), setTimeout. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer(delayMs, callback) {
    const t = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
};

/** Resolves after `delayMs` on `clock`. */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(delayMs, resolve);
  });
}

interface VirtualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

export interface VirtualClockOptions {
  /** Start time in ms (default 0). Use an epoch value if events need realistic timestamps. */
  startMs?: number;
  /**
   * Discrete-event mode: whenever the process has nothing else to do
   * (setImmediate), jump to the next timer and fire it. Async code that only
   * waits on this clock then runs "as fast as possible" in virtual time.
   * Default false: time moves only with advance()/runAll().
   */
  autoAdvance?: boolean;
}

/**
 * A clock that moves only when told to (advance) or, with autoAdvance, from
 * one timer to the next whenever the event loop is idle. Timers at the same
 * instant fire in the order they were set.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: VirtualTimer[] = [];
  private readonly autoAdvance: boolean;
  private pumpScheduled = false;

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.startMs ?? 0;
    this.autoAdvance = options.autoAdvance ?? false;
  }

  now(): number {
    return this.current;
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const timer: VirtualTimer = { at: this.current + delay, seq: this.seq++, callback, cancelled: false };
    // Keep sorted by (at, seq): insert after the last timer that is not later.
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1] as VirtualTimer).at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    this.schedulePump();
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer due on the way (in order). */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      if (!next.cancelled) next.callback();
    }
    this.current = target;
  }

  /** Fires the earliest timer (jumping time to it). Returns false when none is waiting. */
  step(): boolean {
    const next = this.timers.shift();
    if (next === undefined) return false;
    this.current = Math.max(this.current, next.at);
    if (!next.cancelled) next.callback();
    return true;
  }

  private schedulePump(): void {
    if (!this.autoAdvance || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      // One timer per turn: promise continuations of the fired timer run
      // (and may set new, earlier timers) before the next one fires.
      if (this.step() && this.timers.length > 0) this.schedulePump();
    });
  }
}

// ------------------------------------------------------------------ bus

export interface VirtualBusOptions {
  /** Clock shared by the bus, its gear and sensors (default systemClock). */
  clock?: Clock;
}

/** Payload of the 'forward' event. */
export interface ForwardEvent {
  readonly frame: ForwardFrame;
  readonly result: BackwardResult;
  /** true for frames from inject(). */
  readonly foreign: boolean;
}

export class VirtualBus extends EventEmitter {
  readonly clock: Clock;
  private readonly gearList: VirtualGear[] = [];
  private readonly sensorList: VirtualSensor[] = [];
  private corruptCount = 0;

  constructor(options: VirtualBusOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  /** Adds control gear (a VirtualGear or options for one, using the bus clock). */
  addGear(gear: VirtualGear | VirtualGearOptions = {}): VirtualGear {
    const g = gear instanceof VirtualGear ? gear : new VirtualGear({ clock: this.clock, ...gear });
    this.gearList.push(g);
    return g;
  }

  /** Adds a control device (a VirtualSensor or options for one, using the bus clock). Its events go on this bus. */
  addSensor(sensor: VirtualSensor | VirtualSensorOptions = {}): VirtualSensor {
    const s = sensor instanceof VirtualSensor ? sensor : new VirtualSensor({ clock: this.clock, ...sensor });
    this.sensorList.push(s);
    s.on('event', (value: number) => this.emitFrame({ ts: this.clock.now(), bits: 24, value }));
    return s;
  }

  get gear(): readonly VirtualGear[] {
    return this.gearList;
  }

  get sensors(): readonly VirtualSensor[] {
    return this.sensorList;
  }

  /** The gear with this short address, if any. */
  gearAt(shortAddress: number): VirtualGear | undefined {
    return this.gearList.find((g) => g.shortAddress === shortAddress);
  }

  /**
   * The next `count` forward frames are destroyed on the bus (a collision):
   * nobody receives them and the sender sees a framing error.
   */
  corruptNext(count = 1): void {
    this.corruptCount += Math.max(0, Math.trunc(count));
  }

  /** A frame of the master using this bus; see the module comment. Never throws. */
  handleForward(frame: ForwardFrame): BackwardResult {
    const result = this.deliver(frame);
    this.emit('forward', { frame, result, foreign: false } satisfies ForwardEvent);
    return result;
  }

  /** A frame of another master: reaches every gear/device and is reported as a 'frame' event. Never throws. */
  inject(frame: ForwardFrame): BackwardResult {
    const result = this.deliver(frame);
    const ts = this.clock.now();
    this.emit('forward', { frame, result, foreign: true } satisfies ForwardEvent);
    this.emitFrame({ ts, bits: frame.bits, value: frame.value });
    if (result.kind === 'answer') this.emitFrame({ ts, bits: 8, value: result.value });
    else if (result.kind === 'framingError') this.emitFrame({ ts, bits: 8, value: 0, framingError: true });
    return result;
  }

  private emitFrame(ev: BusFrameEvent): void {
    this.emit('frame', ev);
  }

  private deliver(frame: ForwardFrame): BackwardResult {
    if (this.corruptCount > 0) {
      this.corruptCount--;
      return { kind: 'framingError' };
    }
    const valid =
      (frame.bits === 16 || frame.bits === 24) &&
      Number.isInteger(frame.value) &&
      frame.value >= 0 &&
      frame.value <= (frame.bits === 16 ? 0xffff : 0xffffff);
    if (!valid) return { kind: 'framingError' };
    const times = frame.sendTwice === true ? 2 : 1;
    let answers: number[] = [];
    for (let i = 0; i < times; i++) {
      answers = [];
      for (const g of this.gearList) {
        const a = g.handleFrame(frame);
        if (a !== null) answers.push(a);
      }
      for (const s of this.sensorList) answers.push(...s.handleFrame(frame));
    }
    if (answers.length === 0) return { kind: 'none' };
    if (answers.length === 1) return { kind: 'answer', value: answers[0] as number };
    return { kind: 'framingError' };
  }
}
