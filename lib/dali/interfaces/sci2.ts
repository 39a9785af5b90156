/**
 * Tridonic DALI SCI2 / Lunatone SCI RS232 protocol: 38400 baud, 8N1, fixed
 * 5-byte frames in both directions: `[control|status, HI, MI, LO, XOR]` where
 * XOR = control ^ HI ^ MI ^ LO. Summary with sources: docs/dali.md "Interfaces".
 *
 * Request (host -> interface), control byte:
 * - bit 7 monitor: report frames other masters put on the bus,
 * - bit 5 echo: also report our own frames (we leave it off),
 * - bit 4 send twice (configuration commands),
 * - bits 3..0 mode: 3 = 16-bit forward frame (in MI/LO, HI = 0),
 *   8 = 24-bit forward frame (HI/MI/LO).
 *   (A user on the Opto 22 forum drives an SCI2 with control 0x83 =
 *   monitor + 16 bit and the address byte in MI, the opcode in LO.)
 *
 * Reply (interface -> host), status byte, low nibble:
 *   0 OK (frame sent), 1 no answer, 2 backward frame (value in LO),
 *   3 16-bit frame seen on the bus (MI/LO), 7 error, 8 24-bit frame seen (HI/MI/LO).
 *
 * Assumptions (Tridonic's SCI2 manual was not available; the emulator in
 * sci2-emulator.ts follows the same rules, so client and simulator agree):
 * - Each request gets exactly one final reply: 1 or 2 after the backward
 *   frame window, or 7 on a fault; a reply 0 ends a command that expects no
 *   answer, while for a query we keep waiting up to `answerTimeoutMs` for a
 *   late 1/2/7 (and then read NO).
 * - Error (7) carries a code in LO: 1 framing error on the backward frame
 *   (several gear answered: a yes/no query reads it as YES), 2 bus power
 *   failure / short, 3 bad request (checksum, mode). Only 1 maps to
 *   {kind: 'framingError'}; the rest reject with 'busFault' / 'protocol'.
 * - Monitor reports (3 and 8, and a 2 that arrives with no request in flight
 *   = another master's backward frame) set status bit 7. Monitoring is on
 *   from power-up in the simulator and follows bit 7 of the last request.
 * - There is no transaction id: one request in flight at a time.
 * The parser resynchronises on garbage by sliding one byte at a time until
 * five bytes with a good XOR and a known status appear.
 */
import type { BackwardResult, ForwardFrame, Priority } from '../types';
import { DaliInterfaceError } from '../types';
import { PendingResult } from './pending-result';
import { serialTransportFor, type SerialInterfaceOptions } from './serial-transport';
import { TransportInterface } from './transport-interface';

export const SCI2_BAUD_RATE = 38400;
export const SCI2_FRAME_LENGTH = 5;

export const Sci2Control = {
  MONITOR: 0x80,
  ECHO: 0x20,
  SEND_TWICE: 0x10,
  MODE_16BIT: 0x03,
  MODE_24BIT: 0x08,
} as const;

export const Sci2Status = {
  OK: 0,
  NO_ANSWER: 1,
  BACKWARD_FRAME: 2,
  FRAME_16BIT: 3,
  ERROR: 7,
  FRAME_24BIT: 8,
} as const;

/** Bit 7 of a reply: the frame was seen on the bus (monitor), not an answer to our request. */
export const SCI2_MONITOR_FLAG = 0x80;

export const Sci2ErrorCode = {
  FRAMING_ERROR: 1,
  BUS_FAILURE: 2,
  BAD_REQUEST: 3,
} as const;

const KNOWN_STATUS: ReadonlySet<number> = new Set(Object.values(Sci2Status));

export interface Sci2Packet {
  /** Control (request) or status (reply) byte. */
  readonly head: number;
  readonly hi: number;
  readonly mi: number;
  readonly lo: number;
}

export function sci2Checksum(head: number, hi: number, mi: number, lo: number): number {
  return (head ^ hi ^ mi ^ lo) & 0xff;
}

export function encodeSci2Packet(p: Sci2Packet): Buffer {
  const b = [p.head & 0xff, p.hi & 0xff, p.mi & 0xff, p.lo & 0xff];
  return Buffer.from([...b, sci2Checksum(b[0] ?? 0, b[1] ?? 0, b[2] ?? 0, b[3] ?? 0)]);
}

/** Request for one forward frame (monitor on, echo off). */
export function encodeSci2Send(frame: ForwardFrame, monitor = true): Buffer {
  const mode = frame.bits === 24 ? Sci2Control.MODE_24BIT : Sci2Control.MODE_16BIT;
  const head = (monitor ? Sci2Control.MONITOR : 0) | (frame.sendTwice ? Sci2Control.SEND_TWICE : 0) | mode;
  const v = frame.value;
  return encodeSci2Packet({ head, hi: frame.bits === 24 ? (v >> 16) & 0xff : 0, mi: (v >> 8) & 0xff, lo: v & 0xff });
}

export interface Sci2Request {
  readonly frame: ForwardFrame;
  readonly monitor: boolean;
  readonly echo: boolean;
}

/** Device side: decodes a request (undefined for an unknown mode). */
export function decodeSci2Request(p: Sci2Packet): Sci2Request | undefined {
  const mode = p.head & 0x0f;
  const sendTwice = (p.head & Sci2Control.SEND_TWICE) !== 0;
  let frame: ForwardFrame;
  if (mode === Sci2Control.MODE_16BIT) frame = { bits: 16, value: ((p.mi << 8) | p.lo) & 0xffff };
  else if (mode === Sci2Control.MODE_24BIT) frame = { bits: 24, value: ((p.hi << 16) | (p.mi << 8) | p.lo) & 0xffffff };
  else return undefined;
  if (sendTwice) frame = { ...frame, sendTwice: true };
  return { frame, monitor: (p.head & Sci2Control.MONITOR) !== 0, echo: (p.head & Sci2Control.ECHO) !== 0 };
}

export type Sci2Reply =
  | { readonly type: 'ok'; readonly monitor: boolean }
  | { readonly type: 'noAnswer'; readonly monitor: boolean }
  | { readonly type: 'backward'; readonly value: number; readonly monitor: boolean }
  | { readonly type: 'frame'; readonly bits: 16 | 24; readonly value: number; readonly monitor: boolean }
  | { readonly type: 'error'; readonly code: number; readonly monitor: boolean };

export function decodeSci2Reply(p: Sci2Packet): Sci2Reply | undefined {
  const monitor = (p.head & SCI2_MONITOR_FLAG) !== 0;
  switch (p.head & 0x0f) {
    case Sci2Status.OK:
      return { type: 'ok', monitor };
    case Sci2Status.NO_ANSWER:
      return { type: 'noAnswer', monitor };
    case Sci2Status.BACKWARD_FRAME:
      return { type: 'backward', value: p.lo & 0xff, monitor };
    case Sci2Status.FRAME_16BIT:
      return { type: 'frame', bits: 16, value: ((p.mi << 8) | p.lo) & 0xffff, monitor };
    case Sci2Status.FRAME_24BIT:
      return { type: 'frame', bits: 24, value: ((p.hi << 16) | (p.mi << 8) | p.lo) & 0xffffff, monitor };
    case Sci2Status.ERROR:
      return { type: 'error', code: p.lo & 0xff, monitor };
    default:
      return undefined;
  }
}

export function encodeSci2Reply(r: Sci2Reply): Buffer {
  const flag = r.monitor ? SCI2_MONITOR_FLAG : 0;
  switch (r.type) {
    case 'ok':
      return encodeSci2Packet({ head: flag | Sci2Status.OK, hi: 0, mi: 0, lo: 0 });
    case 'noAnswer':
      return encodeSci2Packet({ head: flag | Sci2Status.NO_ANSWER, hi: 0, mi: 0, lo: 0 });
    case 'backward':
      return encodeSci2Packet({ head: flag | Sci2Status.BACKWARD_FRAME, hi: 0, mi: 0, lo: r.value });
    case 'frame':
      return encodeSci2Packet({
        head: flag | (r.bits === 24 ? Sci2Status.FRAME_24BIT : Sci2Status.FRAME_16BIT),
        hi: r.bits === 24 ? (r.value >> 16) & 0xff : 0,
        mi: (r.value >> 8) & 0xff,
        lo: r.value & 0xff,
      });
    case 'error':
      return encodeSci2Packet({ head: flag | Sci2Status.ERROR, hi: 0, mi: 0, lo: r.code });
  }
}

/**
 * Streaming 5-byte frame parser. `validHead` decides which first bytes are
 * plausible (replies: a known status; requests: a known mode). On a bad XOR or
 * an implausible first byte it slides by one byte. Never throws.
 */
export class Sci2Parser {
  private buf: Buffer = Buffer.alloc(0);
  droppedBytes = 0;
  private readonly validHead: (head: number) => boolean;

  constructor(direction: 'reply' | 'request' = 'reply') {
    this.validHead =
      direction === 'reply'
        ? (h) => KNOWN_STATUS.has(h & 0x0f) && (h & 0x70) === 0
        : (h) => ((h & 0x0f) === Sci2Control.MODE_16BIT || (h & 0x0f) === Sci2Control.MODE_24BIT) && (h & 0x40) === 0;
  }

  push(chunk: Uint8Array): Sci2Packet[] {
    const out: Sci2Packet[] = [];
    if (chunk.length > 0) this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const b = this.buf;
    let i = 0;
    while (b.length - i >= SCI2_FRAME_LENGTH) {
      const head = b[i] ?? 0;
      const hi = b[i + 1] ?? 0;
      const mi = b[i + 2] ?? 0;
      const lo = b[i + 3] ?? 0;
      if (this.validHead(head) && sci2Checksum(head, hi, mi, lo) === b[i + 4]) {
        out.push({ head, hi, mi, lo });
        i += SCI2_FRAME_LENGTH;
      } else {
        i++;
        this.droppedBytes++;
      }
    }
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

export interface Sci2InterfaceOptions extends SerialInterfaceOptions {
  /** Max wait for the final reply of a request (default 1000 ms). */
  readonly replyTimeoutMs?: number;
  /** After an OK (0) to a query, how long a late answer may take (default 50 ms). */
  readonly answerTimeoutMs?: number;
}

interface Sci2Transaction {
  readonly frame: ForwardFrame;
  readonly result: PendingResult<BackwardResult>;
  sentOk: boolean;
}

/** DaliInterface over an SCI2 (or Lunatone SCI RS232) device. */
export class Sci2Interface extends TransportInterface<Sci2Transaction> {
  readonly kind = 'sci2' as const;
  private readonly parser = new Sci2Parser('reply');
  private readonly replyTimeoutMs: number;
  private readonly answerTimeoutMs: number;

  constructor(opts: Sci2InterfaceOptions) {
    super(serialTransportFor(opts, SCI2_BAUD_RATE));
    this.replyTimeoutMs = opts.replyTimeoutMs !== undefined && opts.replyTimeoutMs > 0 ? opts.replyTimeoutMs : 1000;
    this.answerTimeoutMs = opts.answerTimeoutMs !== undefined && opts.answerTimeoutMs > 0 ? opts.answerTimeoutMs : 50;
  }

  protected override onConnected(): void {
    this.parser.reset();
  }

  protected transmitOne(frame: ForwardFrame, _priority: Priority): Promise<BackwardResult> {
    const tx: Sci2Transaction = { frame, result: new PendingResult<BackwardResult>(), sentOk: false };
    return this.startTransaction(tx, encodeSci2Send(frame), this.replyTimeoutMs, 'SCI2: no reply from the interface');
  }

  protected handleData(chunk: Buffer): void {
    for (const p of this.parser.push(chunk)) {
      const reply = decodeSci2Reply(p);
      if (reply) this.handleReply(reply);
    }
  }

  private handleReply(r: Sci2Reply): void {
    const tx = this.current;
    if (r.type === 'frame') {
      if (tx && tx.frame.bits === r.bits && tx.frame.value === r.value) return; // echo of the frame in flight
      this.emitBusFrame(r.bits, r.value);
      return;
    }
    if (!tx || r.monitor) {
      // Not an answer to us: another master's backward frame, or a stray status.
      if (r.type === 'backward') this.emitBusFrame(8, r.value);
      else if (r.type === 'error' && r.code === Sci2ErrorCode.FRAMING_ERROR) this.emitBusFrame(8, 0, true);
      return;
    }
    switch (r.type) {
      case 'ok':
        if (!tx.frame.expectAnswer) {
          this.finish(tx, { kind: 'none' });
        } else if (!tx.sentOk) {
          tx.sentOk = true;
          tx.result.arm(this.answerTimeoutMs, () => this.finish(tx, { kind: 'none' }));
        }
        return;
      case 'noAnswer':
        this.finish(tx, { kind: 'none' });
        return;
      case 'backward':
        this.finish(tx, { kind: 'answer', value: r.value & 0xff });
        return;
      case 'error':
        if (r.code === Sci2ErrorCode.FRAMING_ERROR) this.finish(tx, { kind: 'framingError' });
        else if (r.code === Sci2ErrorCode.BUS_FAILURE)
          this.fail(tx, new DaliInterfaceError('SCI2: DALI bus failure (no bus power or short circuit)', 'busFault'));
        else this.fail(tx, new DaliInterfaceError(`SCI2: interface reported error ${r.code}`, 'protocol'));
        return;
    }
  }
}
