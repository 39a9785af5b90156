/**
 * A DaliInterface over a simulated bus (lib/dali/sim VirtualBus).
 *
 * Each transmit takes the bus time of the timing model (lib/dali/bus/timing:
 * settling by priority + frame + answer or backward window; a send-twice
 * frame goes on the bus twice) multiplied by `timeScale`: 1 = real time,
 * 0.1 = ten times faster, 0 = no waiting at all (unit tests). The wait runs
 * on the bus clock, so with a VirtualClock({ autoAdvance: true }) a whole
 * flood runs in virtual time as fast as the CPU allows, with exact bus
 * timing.
 *
 * The frame reaches the gear at the end of its time on the wire; the
 * transmit resolves after the answer (or the backward window).
 *
 * Foreign frames (VirtualBus.inject, sensor events) are re-emitted as
 * 'frame' while connected. Test hooks: disconnect() (unplugged: transmit
 * rejects with 'notConnected', foreign frames are not seen) and reconnect().
 */

import { EventEmitter } from 'node:events';
import { frameTiming, type TimingEstimate } from '../bus/timing';
import type { Clock, TimerHandle, VirtualBus } from '../sim/virtual-bus';
import {
  DaliInterfaceError,
  type BackwardResult,
  type BusFrameEvent,
  type DaliInterface,
  type ForwardFrame,
  type InterfaceKind,
  type InterfaceState,
  type InterfaceStateEvent,
  type Priority,
} from '../types';

export interface SimulatorInterfaceOptions {
  /** Multiplier of the modelled bus time (default 1 = real time; 0 = instant). */
  readonly timeScale?: number;
  /** Clock for the waits (default: the bus clock). */
  readonly clock?: Clock;
  /** Point of the timing ranges (default 'typical'). */
  readonly estimate?: TimingEstimate;
}

interface InFlight {
  timer: TimerHandle | null;
  reject: (e: Error) => void;
}

export class SimulatorInterface extends EventEmitter implements DaliInterface {
  readonly kind: InterfaceKind = 'simulator';
  private currentState: InterfaceState = 'disconnected';
  private readonly clock: Clock;
  private readonly timeScale: number;
  private readonly estimate: TimingEstimate;
  private chain: Promise<unknown> = Promise.resolve();
  /** Clock time at which the simulated bus is free again. */
  private busFreeAt = Number.NEGATIVE_INFINITY;
  private readonly inFlight = new Set<InFlight>();
  private framesOnWire = 0;
  private busMs = 0;
  private readonly onBusFrame = (ev: BusFrameEvent): void => {
    if (this.currentState === 'connected') this.emit('frame', ev);
  };

  constructor(
    readonly bus: VirtualBus,
    options: SimulatorInterfaceOptions = {},
  ) {
    super();
    this.clock = options.clock ?? bus.clock;
    const scale = options.timeScale ?? 1;
    this.timeScale = Number.isFinite(scale) && scale > 0 ? scale : 0;
    this.estimate = options.estimate ?? 'typical';
  }

  get state(): InterfaceState {
    return this.currentState;
  }

  /** Frames put on the bus so far (send-twice counts 2). */
  get frames(): number {
    return this.framesOnWire;
  }

  /** Modelled bus time of everything transmitted so far (not scaled). */
  get busTimeMs(): number {
    return this.busMs;
  }

  async open(): Promise<void> {
    if (this.currentState === 'connected') return;
    this.bus.off('frame', this.onBusFrame);
    this.bus.on('frame', this.onBusFrame);
    this.setState('connecting');
    this.setState('connected');
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.bus.off('frame', this.onBusFrame);
    this.abortInFlight(new DaliInterfaceError('simulator interface closed', 'closed'));
    this.setState('closed');
  }

  /** Test hook: the interface is unplugged. In-flight and later transmits reject with 'notConnected'. */
  disconnect(detail = 'simulated unplug'): void {
    if (this.currentState !== 'connected') return;
    this.abortInFlight(new DaliInterfaceError(`simulator disconnected: ${detail}`, 'notConnected'));
    this.setState('disconnected', detail);
  }

  /** Test hook: plugged in again. */
  reconnect(): void {
    if (this.currentState !== 'disconnected') return;
    this.setState('connecting');
    this.setState('connected');
  }

  transmit(frame: ForwardFrame, priority: Priority): Promise<BackwardResult> {
    // One frame on the bus at a time, even if a caller does not wait.
    const run = this.chain.then(
      () => this.transmitNow(frame, priority),
      () => this.transmitNow(frame, priority),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async transmitNow(frame: ForwardFrame, priority: Priority): Promise<BackwardResult> {
    this.checkConnected();
    const expectAnswer = frame.expectAnswer === true;
    // Deadlines rather than plain delays: a timer that fires a little early
    // (setTimeout truncates to whole ms) does not shorten the bus time.
    const start = Math.max(this.clock.now(), this.busFreeAt);
    // The answer kind is known only after delivery; wait for the wire part first.
    const before = frameTiming(frame, priority, { answer: 'none', estimate: this.estimate });
    const deliverAt = start + (before.settlingMs + before.wireMs) * this.timeScale;
    this.busFreeAt = deliverAt;
    await this.waitUntil(deliverAt);
    this.checkConnected();
    const result = this.bus.handleForward(frame);
    const t = frameTiming(frame, priority, { answer: result.kind, estimate: this.estimate });
    this.framesOnWire += t.wireFrames;
    this.busMs += t.totalMs;
    const endAt = deliverAt + t.answerMs * this.timeScale;
    this.busFreeAt = endAt;
    await this.waitUntil(endAt);
    // A command reports only a destroyed frame (collision); an answer to a command is ignored.
    if (!expectAnswer && result.kind !== 'framingError') return { kind: 'none' };
    return result;
  }

  private checkConnected(): void {
    if (this.currentState === 'closed') throw new DaliInterfaceError('simulator interface closed', 'closed');
    if (this.currentState !== 'connected') {
      throw new DaliInterfaceError(`simulator interface not connected (${this.currentState})`, 'notConnected');
    }
  }

  /** Waits on the clock until `deadline` (re-arming if a timer fires early). */
  private waitUntil(deadline: number): Promise<void> {
    if (this.timeScale === 0 || deadline <= this.clock.now()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry: InFlight = { timer: null, reject };
      const arm = (): void => {
        const left = deadline - this.clock.now();
        if (left <= 0.5) {
          // Within half a millisecond: close enough for a real-time timer.
          this.inFlight.delete(entry);
          resolve();
          return;
        }
        entry.timer = this.clock.setTimer(left, arm);
      };
      this.inFlight.add(entry);
      arm();
    });
  }

  private abortInFlight(error: Error): void {
    for (const entry of this.inFlight) {
      entry.timer?.cancel();
      entry.reject(error);
    }
    this.inFlight.clear();
  }

  private setState(state: InterfaceState, detail?: string): void {
    if (state === this.currentState) return;
    this.currentState = state;
    const ev: InterfaceStateEvent = detail === undefined ? { state } : { state, detail };
    this.emit('state', ev);
  }
}
