/**
 * Shared by the device emulators (luba.ts, sci2.ts, hidraw.ts) that dali-sim
 * uses to serve a simulated bus as if it were a real interface.
 */
import { BACKWARD_FRAME_MS, BACKWARD_SETTLING_MS, forwardFrameMs, forwardSettlingMs } from '../bus/timing';
import type { BackwardResult, ForwardFrame, Priority } from '../types';

/** The part of a simulated bus (lib/dali/sim VirtualBus) that a device emulator drives. */
export interface EmulatedBus {
  /** One forward frame put on the bus (both transmissions when `frame.sendTwice`); returns what came back. */
  handleForward(frame: ForwardFrame): BackwardResult | Promise<BackwardResult>;
}

/**
 * Part 101 wire timing (1200 bit/s, Manchester) as the device emulators use
 * it: the numbers come from lib/dali/bus/timing.ts (one source of truth).
 */
export const DaliWireTiming = {
  /** Forward frame on the wire: 16 bits = 14.17 ms, 24 bits = 20.83 ms. */
  forwardFrameMs(bits: number): number {
    return forwardFrameMs(bits === 24 ? 24 : 16);
  },
  /** Backward frame: 7.5 ms. */
  backwardFrameMs: BACKWARD_FRAME_MS,
  /** Settling between a forward frame and its backward frame (middle of 5.5..10.5 ms). */
  backwardSettlingMs: (BACKWARD_SETTLING_MS.min + BACKWARD_SETTLING_MS.max) / 2,
  /** Settling before the next forward frame at priority 1..5 (typical). */
  forwardSettlingMs(priority: number): number {
    const p = Math.max(1, Math.min(5, Math.floor(priority) || 5)) as Priority;
    return forwardSettlingMs(p);
  },
} as const;

/** Resolves after `ms` (no timer when ms <= 0). */
export function delayMs(ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface DeviceEmulatorOptions {
  readonly bus: EmulatedBus;
  /** Sends bytes to the client (the serial port or fake hidraw of dali-sim). */
  readonly write: (data: Buffer) => void;
  /** Wait the part 101 frame times before reporting (default true; false = as fast as possible). */
  readonly wireTiming?: boolean;
  /**
   * Called when a forward frame of the client starts on the simulated wire
   * (its turn on the bus has come, before its frame time), once per request
   * (a send-twice frame: at the start of its first transmission).
   */
  readonly onForwardStart?: (frame: ForwardFrame) => void;
}

/**
 * Device side shared by the protocol emulators: one request on the bus at a
 * time (in arrival order), writes that never throw, close() and idle().
 */
export abstract class DeviceEmulator<O extends DeviceEmulatorOptions = DeviceEmulatorOptions> {
  protected readonly opts: O;
  protected closed = false;
  private queue: Promise<void> = Promise.resolve();
  /** Requests that failed inside the bus (for diagnostics). */
  errors = 0;

  constructor(opts: O) {
    this.opts = opts;
  }

  /** Bytes from the client. */
  abstract receive(chunk: Uint8Array): void;
  /** A frame from another master (or a sensor event) seen on the bus. */
  abstract busFrame(bits: 8 | 16 | 24, value: number, framingError?: boolean): void;

  close(): void {
    this.closed = true;
  }

  /** Resolves when every accepted request has been reported. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Runs `job` after every request queued before it; a failure counts in `errors`. */
  protected enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch(() => {
      this.errors++;
    });
  }

  protected send(data: Buffer): void {
    if (this.closed) return;
    try {
      this.opts.write(data);
    } catch {
      // client gone: nothing to report to
    }
  }

  /** Waits `ms` of wire time (not at all without wire timing). */
  protected wireDelay(ms: number): Promise<void> {
    return this.opts.wireTiming !== false ? delayMs(ms) : Promise.resolve();
  }

  /**
   * Puts `frame` on the bus after its wire time; `transmitted` runs after each
   * transmission (twice for a send-twice frame). Undefined when closed meanwhile.
   * `onForwardStart` is told first.
   */
  protected async forward(frame: ForwardFrame, transmitted: () => void): Promise<BackwardResult | undefined> {
    if (this.closed) return undefined;
    try {
      this.opts.onForwardStart?.(frame);
    } catch {
      // an observer's failure is not the bus's
    }
    await this.wireDelay(DaliWireTiming.forwardFrameMs(frame.bits));
    if (this.closed) return undefined;
    // The bus delivers both transmissions of a send-twice frame in one call.
    const result: BackwardResult = await this.opts.bus.handleForward(frame);
    transmitted();
    if (frame.sendTwice) {
      await this.wireDelay(DaliWireTiming.forwardSettlingMs(1) + DaliWireTiming.forwardFrameMs(frame.bits));
      transmitted();
    }
    return result;
  }
}
