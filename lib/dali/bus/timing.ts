/**
 * Bus timing model of IEC 62386-101 (1200 bit/s, Manchester coded, MSB first).
 *
 * Every figure is in milliseconds. The model answers two questions:
 * - how long does a transaction hold the bus (`transactionBusTimeMs`)?
 * - how many frames per second can one bus carry for a given mix
 *   (`capacityFramesPerSecond`)?
 *
 * The figures and their sources: docs/dali.md "Timing".
 *
 * Conventions of the model (check against part 101 if you need sub-ms accuracy):
 * - A forward frame's cost is the settling time *before* it (by priority)
 *   plus its time on the wire. The stop condition (2.45 ms of idle line) is
 *   contained in the settling time, so it is not added a second time.
 * - The first frame of a transaction waits the settling time of the
 *   transaction's priority; the frames inside a transaction and the repeat of
 *   a send-twice command wait priority 1 (this package reserves priority 1
 *   for inner frames, see types.ts).
 * - A query answered by a backward frame adds the backward settling time plus
 *   7.5 ms; a query answered with nothing (NO) holds the bus for the whole
 *   12.4 ms backward window; a framing error counts like an answer.
 * - 'typical' is the middle of each range, 'min'/'max' its ends.
 *
 * With these conventions one bus carries 28.4 (P5, max) .. 36.1 (P1, min)
 * 16-bit commands per second, about 21-25 answered queries per second, and
 * level + Tc on one address (7 frames) takes about 200 ms.
 */

import type { BackwardResult, ForwardBits, ForwardFrame, Priority } from '../types';

/** Bit rate of the DALI bus. */
export const BIT_RATE = 1200;
/** Duration of one bit (two half-bits of Manchester code). */
export const BIT_MS = 1000 / BIT_RATE;

/** A 16-bit forward frame on the wire: start bit + 16 data bits = 17 bits = 14.17 ms. */
export const FORWARD_FRAME_16_MS = 17 * BIT_MS;
/** A 24-bit forward frame on the wire: start bit + 24 data bits = 25 bits = 20.83 ms. */
export const FORWARD_FRAME_24_MS = 25 * BIT_MS;
/** A backward frame on the wire: start bit + 8 data bits = 9 bits = 7.5 ms. */
export const BACKWARD_FRAME_MS = 9 * BIT_MS;

/** A closed range of milliseconds. */
export interface MsRange {
  readonly min: number;
  readonly max: number;
}

/** Settling time between a forward frame and its backward frame. */
export const BACKWARD_SETTLING_MS: MsRange = Object.freeze({ min: 5.5, max: 10.5 });

/** Settling time before a forward frame, by priority (part 101). */
export const FORWARD_SETTLING_MS: Readonly<Record<Priority, MsRange>> = Object.freeze({
  1: Object.freeze({ min: 13.5, max: 14.7 }),
  2: Object.freeze({ min: 14.9, max: 16.1 }),
  3: Object.freeze({ min: 16.3, max: 17.7 }),
  4: Object.freeze({ min: 17.9, max: 19.3 }),
  5: Object.freeze({ min: 19.5, max: 21.1 }),
});

/** A backward frame is accepted if it starts up to this long after the end of the forward frame. */
export const BACKWARD_TIMEOUT_MS = 12.4;
/** The repeat of a send-twice command must arrive within this time (gear accept 100 ms). */
export const SEND_TWICE_WINDOW_MS = 94;

/** Which point of each timing range the model uses. */
export type TimingEstimate = 'min' | 'typical' | 'max';

/** What followed a forward frame, for timing purposes. */
export type AnswerKind = BackwardResult['kind'];

function pick(range: MsRange, estimate: TimingEstimate): number {
  if (estimate === 'min') return range.min;
  if (estimate === 'max') return range.max;
  return (range.min + range.max) / 2;
}

function checkPriority(priority: number): asserts priority is Priority {
  if (priority !== 1 && priority !== 2 && priority !== 3 && priority !== 4 && priority !== 5) {
    throw new RangeError(`priority must be 1..5, got ${String(priority)}`);
  }
}

/** Time of a forward frame on the wire (without settling). */
export function forwardFrameMs(bits: ForwardBits): number {
  return bits === 24 ? FORWARD_FRAME_24_MS : FORWARD_FRAME_16_MS;
}

/** Settling time before a forward frame of the given priority. @throws RangeError for a priority outside 1..5. */
export function forwardSettlingMs(priority: Priority, estimate: TimingEstimate = 'typical'): number {
  checkPriority(priority);
  return pick(FORWARD_SETTLING_MS[priority], estimate);
}

/** Bus time after a forward frame until the bus is free again, given what came back. */
export function answerMs(expectAnswer: boolean, answer: AnswerKind, estimate: TimingEstimate = 'typical'): number {
  if (!expectAnswer) return 0;
  if (answer === 'none') return BACKWARD_TIMEOUT_MS;
  return pick(BACKWARD_SETTLING_MS, estimate) + BACKWARD_FRAME_MS;
}

/** The parts of one frame's bus time. */
export interface FrameTiming {
  /** Settling before the (first) frame, by priority. */
  readonly settlingMs: number;
  /** Frame(s) on the wire, including the settling before the repeat of a send-twice command. */
  readonly wireMs: number;
  /** Backward settling + backward frame, or the backward window when nothing answered. */
  readonly answerMs: number;
  /** Sum of the three. */
  readonly totalMs: number;
  /** Frames on the wire: 2 for a send-twice command, else 1. */
  readonly wireFrames: number;
}

/**
 * Bus time of one forward frame sent at `priority`: settling + frame (+ P1
 * settling + repeat when send-twice) + answer or backward window when the
 * frame expects an answer. `answer` defaults to 'answer' for queries.
 */
export function frameTiming(
  frame: Pick<ForwardFrame, 'bits' | 'sendTwice' | 'expectAnswer'>,
  priority: Priority,
  options: { answer?: AnswerKind; estimate?: TimingEstimate } = {},
): FrameTiming {
  const estimate = options.estimate ?? 'typical';
  const settling = forwardSettlingMs(priority, estimate);
  const one = forwardFrameMs(frame.bits);
  const wire = frame.sendTwice === true ? one + forwardSettlingMs(1, estimate) + one : one;
  const expect = frame.expectAnswer === true;
  const answer = answerMs(expect, options.answer ?? 'answer', estimate);
  return {
    settlingMs: settling,
    wireMs: wire,
    answerMs: answer,
    totalMs: settling + wire + answer,
    wireFrames: frame.sendTwice === true ? 2 : 1,
  };
}

/** Bus time of one forward frame (see frameTiming). */
export function frameBusTimeMs(
  frame: Pick<ForwardFrame, 'bits' | 'sendTwice' | 'expectAnswer'>,
  priority: Priority,
  options: { answer?: AnswerKind; estimate?: TimingEstimate } = {},
): number {
  return frameTiming(frame, priority, options).totalMs;
}

/** Options of transactionBusTimeMs. */
export interface TransactionTimingOptions {
  /** Priority of the transaction's first frame (the others use 1). Default 2. */
  readonly priority?: Priority;
  /** What came back after each frame (index-aligned with the frames). Missing entries: queries answered. */
  readonly answers?: readonly (AnswerKind | undefined)[];
  readonly estimate?: TimingEstimate;
}

/**
 * Bus time of a transaction: the first frame waits the settling time of the
 * transaction's priority, the inner frames priority 1; a send-twice frame
 * counts twice on the wire; queries add their answer or backward window.
 */
export function transactionBusTimeMs(
  frames: readonly Pick<ForwardFrame, 'bits' | 'sendTwice' | 'expectAnswer'>[],
  options: TransactionTimingOptions = {},
): number {
  const priority = options.priority ?? 2;
  checkPriority(priority);
  let total = 0;
  frames.forEach((frame, i) => {
    const answer = options.answers?.[i] ?? 'answer';
    const p: Priority = i === 0 ? priority : 1;
    total += frameBusTimeMs(frame, p, { answer, estimate: options.estimate ?? 'typical' });
  });
  return total;
}

/** Number of frames on the wire for a list of forward frames (send-twice counts 2). */
export function wireFrameCount(frames: readonly Pick<ForwardFrame, 'sendTwice'>[]): number {
  let n = 0;
  for (const f of frames) n += f.sendTwice === true ? 2 : 1;
  return n;
}

/** One kind of frame in a traffic mix. */
export interface FrameMixEntry {
  readonly bits: ForwardBits;
  readonly expectAnswer?: boolean;
  readonly sendTwice?: boolean;
  /** What came back (queries only). Default 'answer'. */
  readonly answer?: AnswerKind;
  /** Settling priority before the frame. Default 1 (inner frames of transactions). */
  readonly priority?: Priority;
  /** Relative share of this kind in the mix. Default 1. */
  readonly weight?: number;
}

/**
 * Theoretical capacity of one bus in forward frames per second for a mix of
 * frame kinds (a send-twice command counts as two frames). An empty mix or
 * a mix whose weights are all 0 gives 0.
 */
export function capacityFramesPerSecond(mix: readonly FrameMixEntry[], estimate: TimingEstimate = 'typical'): number {
  let frames = 0;
  let ms = 0;
  for (const entry of mix) {
    const weight = entry.weight ?? 1;
    if (!Number.isFinite(weight) || weight < 0) {
      throw new RangeError(`frame mix weight must be a finite number >= 0, got ${String(weight)}`);
    }
    const t = frameTiming(entry, entry.priority ?? 1, { answer: entry.answer ?? 'answer', estimate });
    frames += weight * t.wireFrames;
    ms += weight * t.totalMs;
  }
  return ms > 0 ? (frames * 1000) / ms : 0;
}

/**
 * A running tally of the bus time of frames that actually went on the bus
 * (used by the scheduler for busy statistics and by the bench).
 */
export class BusTimeAccumulator {
  private framesOnWire = 0;
  private busMs = 0;
  private readonly mix = new Map<string, { entry: FrameMixEntry; count: number }>();

  constructor(private readonly estimate: TimingEstimate = 'typical') {}

  /** Adds one transmitted frame and returns its bus time. */
  add(frame: Pick<ForwardFrame, 'bits' | 'sendTwice' | 'expectAnswer'>, priority: Priority, answer: AnswerKind): number {
    const t = frameTiming(frame, priority, { answer, estimate: this.estimate });
    this.framesOnWire += t.wireFrames;
    this.busMs += t.totalMs;
    const entry: FrameMixEntry = {
      bits: frame.bits,
      expectAnswer: frame.expectAnswer === true,
      sendTwice: frame.sendTwice === true,
      answer,
      priority,
    };
    const key = `${entry.bits}/${String(entry.expectAnswer)}/${String(entry.sendTwice)}/${answer}/${priority}`;
    const m = this.mix.get(key);
    if (m) m.count++;
    else this.mix.set(key, { entry, count: 1 });
    return t.totalMs;
  }

  /** Frames on the wire so far (send-twice counts 2). */
  get frames(): number {
    return this.framesOnWire;
  }

  /** Bus time of everything added so far. */
  get busTimeMs(): number {
    return this.busMs;
  }

  /** The observed mix, ready for capacityFramesPerSecond. */
  frameMix(): FrameMixEntry[] {
    return [...this.mix.values()].map(({ entry, count }) => ({ ...entry, weight: count }));
  }
}
