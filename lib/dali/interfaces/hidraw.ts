/**
 * Tridonic DALI USB (USB 17b5:0020) through Linux hidraw: plain fs reads and
 * writes of 64-byte HID reports on /dev/hidraw*, no native dependency.
 * Summary with sources: docs/dali.md "Interfaces".
 *
 * Report layout (python-dali dali/driver/hid.py, class `tridonic`):
 * OUT (host -> interface), 64 bytes:
 *   [0] 0x12 send (0x01 = init: [1] 0x00 read firmware version, 0x02 read serial)
 *   [1] sequence number 1..255 (echoed in byte 8 of every reply)
 *   [2] flags: 0x20 send twice, 0x10 set DTR0 from byte 8 (unused here)
 *   [3] frame type: 0x03 = 16-bit, 0x06 = 24-bit
 *   [4..7] frame right-aligned (16-bit in 6-7, 24-bit in 5-7)
 *   [8] DTR0 value for flag 0x10, rest 0
 * IN (interface -> host), 64 bytes:
 *   [0] 0x12 reply to our send, 0x11 frame from another master, 0x01 init reply
 *   [1] type: 0x71 no backward frame, 0x72 backward frame (value in [5]),
 *       0x73 16-bit forward frame ([4..5]), 0x76 24-bit forward frame ([3..5]),
 *       0x77 bus status in [5]: 1 checksum error, 2 bus shorted / no power,
 *       3 framing error, 4 ok
 *   [3..5] frame right-aligned, [6..7] interval, [8] sequence number
 * A send is answered by one 0x73/0x76 echo per transmission (two when sent
 * twice) and then one final 0x71, 0x72 or 0x77 (python-dali waits for both).
 * Firmware quirk (python-dali): a frame from another master that equals our
 * last transmitted frame comes back as 0x12 with a stale sequence number; we
 * report such replies as bus frames.
 * 24-bit frames (type 0x06 / echo 0x76) are our assumption (no vendor manual was available);
 * python-dali only sends 16-bit frames, so treat 24-bit support as unverified.
 *
 * Report IDs: Linux hidraw expects the report number as the first byte of a
 * write only when the device uses numbered reports (Documentation/hid/
 * hidraw.rst). python-dali writes the 64 bytes with the command in byte 0 and
 * reads 64 bytes with the mode in byte 0, i.e. the Tridonic interface uses one
 * unnumbered report. So no prefix by default; `reportId` adds one on writes
 * and strips it from reads for a device that needs it.
 *
 * The transport (reads, writes, reconnect) is HidrawTransport in
 * hidraw-transport.ts.
 */
import type { BackwardResult, ForwardFrame, Priority } from '../types';
import { DaliInterfaceError } from '../types';
import { HidrawTransport, TRIDONIC_REPORT_LENGTH } from './hidraw-transport';
import { PendingResult } from './pending-result';
import type { ByteTransport, ReconnectOptions } from './reconnecting-transport';
import { TransportInterface } from './transport-interface';

export { TRIDONIC_REPORT_LENGTH };

export const TRIDONIC_USB_VENDOR_ID = 0x17b5;
export const TRIDONIC_USB_PRODUCT_ID = 0x0020;

export const TridonicCommand = { INIT: 0x01, SEND: 0x12 } as const;
export const TridonicInit = { READ_VERSION: 0x00, READ_SERIAL: 0x02 } as const;
export const TridonicFlags = { SET_DTR0: 0x10, SEND_TWICE: 0x20 } as const;
export const TridonicFrameType = { BITS_16: 0x03, BITS_24: 0x06 } as const;
export const TridonicOrigin = { INFO: 0x01, OBSERVED: 0x11, RESPONSE: 0x12 } as const;
export const TridonicReply = {
  NO_FRAME: 0x71,
  BACKWARD_FRAME: 0x72,
  FORWARD_16: 0x73,
  FORWARD_24: 0x76,
  BUS_STATUS: 0x77,
} as const;
export const TridonicBusStatus = { CHECKSUM: 1, SHORTED: 2, FRAMING_ERROR: 3, OK: 4 } as const;

const KNOWN_REPLY_TYPES: ReadonlySet<number> = new Set(Object.values(TridonicReply));

/** OUT report for one forward frame. */
export function encodeTridonicSend(seq: number, frame: ForwardFrame): Buffer {
  const r = Buffer.alloc(TRIDONIC_REPORT_LENGTH);
  r[0] = TridonicCommand.SEND;
  r[1] = seq & 0xff;
  r[2] = frame.sendTwice ? TridonicFlags.SEND_TWICE : 0;
  r[3] = frame.bits === 24 ? TridonicFrameType.BITS_24 : TridonicFrameType.BITS_16;
  r[5] = (frame.value >> 16) & 0xff;
  r[6] = (frame.value >> 8) & 0xff;
  r[7] = frame.value & 0xff;
  if (frame.bits === 16) r[5] = 0;
  return r;
}

export function encodeTridonicInit(sub: number): Buffer {
  const r = Buffer.alloc(TRIDONIC_REPORT_LENGTH);
  r[0] = TridonicCommand.INIT;
  r[1] = sub & 0xff;
  return r;
}

export type TridonicOutReport =
  | { readonly type: 'send'; readonly seq: number; readonly frame: ForwardFrame }
  | { readonly type: 'init'; readonly sub: number };

/** Device side: decodes an OUT report (undefined when malformed). */
export function decodeTridonicOut(r: ArrayLike<number>): TridonicOutReport | undefined {
  if (r.length < 9) return undefined;
  if (r[0] === TridonicCommand.INIT) return { type: 'init', sub: r[1] ?? 0 };
  if (r[0] !== TridonicCommand.SEND) return undefined;
  const ftype = r[3];
  const sendTwice = ((r[2] ?? 0) & TridonicFlags.SEND_TWICE) !== 0;
  let frame: ForwardFrame;
  if (ftype === TridonicFrameType.BITS_16) frame = { bits: 16, value: (((r[6] ?? 0) << 8) | (r[7] ?? 0)) & 0xffff };
  else if (ftype === TridonicFrameType.BITS_24)
    frame = { bits: 24, value: (((r[5] ?? 0) << 16) | ((r[6] ?? 0) << 8) | (r[7] ?? 0)) & 0xffffff };
  else return undefined;
  return { type: 'send', seq: r[1] ?? 0, frame: sendTwice ? { ...frame, sendTwice: true } : frame };
}

export interface TridonicInReport {
  readonly origin: number;
  readonly type: number;
  /** Bytes 3..5 as one number. */
  readonly frame24: number;
  readonly seq: number;
  readonly raw: Buffer;
}

export function decodeTridonicIn(r: Buffer): TridonicInReport {
  return {
    origin: r[0] ?? 0,
    type: r[1] ?? 0,
    frame24: (((r[3] ?? 0) << 16) | ((r[4] ?? 0) << 8) | (r[5] ?? 0)) & 0xffffff,
    seq: r[8] ?? 0,
    raw: r,
  };
}

/** IN report (device side / tests). `value` is right-aligned in bytes 3..5. */
export function encodeTridonicIn(origin: number, type: number, value: number, seq: number): Buffer {
  const r = Buffer.alloc(TRIDONIC_REPORT_LENGTH);
  r[0] = origin & 0xff;
  r[1] = type & 0xff;
  r[3] = (value >> 16) & 0xff;
  r[4] = (value >> 8) & 0xff;
  r[5] = value & 0xff;
  r[8] = seq & 0xff;
  return r;
}

/**
 * Splits a byte stream into 64-byte IN reports. Real hidraw reads already
 * are whole reports; for a stream it drops bytes until a plausible report
 * start (origin 0x01, or 0x11/0x12 followed by a known reply type). Never throws.
 */
export class TridonicReportParser {
  private buf: Buffer = Buffer.alloc(0);
  droppedBytes = 0;
  private readonly direction: 'in' | 'out';

  constructor(direction: 'in' | 'out' = 'in') {
    this.direction = direction;
  }

  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    if (chunk.length > 0) this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const b = this.buf;
    let i = 0;
    while (b.length - i >= 2) {
      if (!this.plausible(b[i] ?? 0, b[i + 1] ?? 0)) {
        i++;
        this.droppedBytes++;
        continue;
      }
      if (b.length - i < TRIDONIC_REPORT_LENGTH) break;
      out.push(Buffer.from(b.subarray(i, i + TRIDONIC_REPORT_LENGTH)));
      i += TRIDONIC_REPORT_LENGTH;
    }
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  private plausible(b0: number, b1: number): boolean {
    if (this.direction === 'out') return b0 === TridonicCommand.INIT || (b0 === TridonicCommand.SEND && b1 >= 1);
    if (b0 === TridonicOrigin.INFO) return true;
    return (b0 === TridonicOrigin.OBSERVED || b0 === TridonicOrigin.RESPONSE) && KNOWN_REPLY_TYPES.has(b1);
  }
}

export interface HidrawInterfaceOptions {
  readonly path?: string;
  readonly reconnect?: Partial<ReconnectOptions>;
  readonly failFast?: boolean;
  readonly transport?: ByteTransport;
  readonly reportId?: number;
  readonly idlePollMs?: number;
  /** Max wait for the echo and final reply of a send (default 1000 ms). */
  readonly replyTimeoutMs?: number;
  /** After the last echo, how long to wait for the final reply before reading NO (default 100 ms). */
  readonly answerTimeoutMs?: number;
  /** First sequence number (1..255; default random, as python-dali). */
  readonly firstSeq?: number;
}

interface HidTransaction {
  readonly frame: ForwardFrame;
  readonly seq: number;
  readonly result: PendingResult<BackwardResult>;
  echoes: number;
  readonly echoesNeeded: number;
}

/** DaliInterface over a Tridonic DALI USB on hidraw. */
export class HidrawInterface extends TransportInterface<HidTransaction> {
  readonly kind = 'hidraw' as const;
  private readonly parser = new TridonicReportParser('in');
  private readonly replyTimeoutMs: number;
  private readonly answerTimeoutMs: number;
  private seq: number;
  /** "major.minor" from the init reply, once known. */
  firmwareVersion: string | undefined;
  /** Last bus status reported by the interface (0x77). */
  busStatus: number | undefined;

  constructor(opts: HidrawInterfaceOptions) {
    super(
      opts.transport ??
        new HidrawTransport({
          path: opts.path ?? '',
          reconnect: opts.reconnect,
          failFast: opts.failFast,
          reportId: opts.reportId,
          idlePollMs: opts.idlePollMs,
        }),
    );
    this.replyTimeoutMs = opts.replyTimeoutMs !== undefined && opts.replyTimeoutMs > 0 ? opts.replyTimeoutMs : 1000;
    this.answerTimeoutMs = opts.answerTimeoutMs !== undefined && opts.answerTimeoutMs > 0 ? opts.answerTimeoutMs : 100;
    const first =
      opts.firstSeq !== undefined && opts.firstSeq >= 1 && opts.firstSeq <= 255
        ? Math.floor(opts.firstSeq)
        : 1 + Math.floor(Math.random() * 255);
    this.seq = first;
  }

  protected override onConnected(): void {
    this.parser.reset();
    this.firmwareVersion = undefined;
    this.transport.write(encodeTridonicInit(TridonicInit.READ_VERSION)).catch(() => undefined);
  }

  protected transmitOne(frame: ForwardFrame, _priority: Priority): Promise<BackwardResult> {
    const seq = this.seq;
    this.seq = this.seq >= 255 ? 1 : this.seq + 1;
    const tx: HidTransaction = {
      frame,
      seq,
      result: new PendingResult<BackwardResult>(),
      echoes: 0,
      echoesNeeded: frame.sendTwice ? 2 : 1,
    };
    return this.startTransaction(tx, encodeTridonicSend(seq, frame), this.replyTimeoutMs, 'Tridonic USB: no reply from the interface');
  }

  protected handleData(chunk: Buffer): void {
    for (const r of this.parser.push(chunk)) this.handleReport(decodeTridonicIn(r));
  }

  private handleReport(r: TridonicInReport): void {
    if (r.origin === TridonicOrigin.INFO) {
      if (!this.firmwareVersion) this.firmwareVersion = `${r.raw[3] ?? 0}.${r.raw[4] ?? 0}`;
      return;
    }
    if (r.type === TridonicReply.BUS_STATUS) this.noteBusStatus(r.frame24 & 0xff);
    const tx = this.current;
    if (r.origin === TridonicOrigin.RESPONSE && tx && r.seq === tx.seq) {
      this.handleOwnReply(tx, r);
      return;
    }
    // 0x11 frames from other masters, and 0x12 with a stale sequence number (firmware quirk).
    switch (r.type) {
      case TridonicReply.FORWARD_16:
        this.emitBusFrame(16, r.frame24 & 0xffff);
        return;
      case TridonicReply.FORWARD_24:
        this.emitBusFrame(24, r.frame24);
        return;
      case TridonicReply.BACKWARD_FRAME:
        this.emitBusFrame(8, r.frame24 & 0xff);
        return;
      case TridonicReply.BUS_STATUS:
        if ((r.frame24 & 0xff) === TridonicBusStatus.FRAMING_ERROR) this.emitBusFrame(8, 0, true);
        return;
      default:
        return;
    }
  }

  private handleOwnReply(tx: HidTransaction, r: TridonicInReport): void {
    switch (r.type) {
      case TridonicReply.FORWARD_16:
      case TridonicReply.FORWARD_24:
        tx.echoes += 1;
        if (tx.echoes >= tx.echoesNeeded) tx.result.arm(this.answerTimeoutMs, () => this.finish(tx, { kind: 'none' }));
        return;
      case TridonicReply.NO_FRAME:
        this.finish(tx, { kind: 'none' });
        return;
      case TridonicReply.BACKWARD_FRAME:
        this.finish(tx, { kind: 'answer', value: r.frame24 & 0xff });
        return;
      case TridonicReply.BUS_STATUS: {
        const status = r.frame24 & 0xff;
        if (status === TridonicBusStatus.FRAMING_ERROR || status === TridonicBusStatus.CHECKSUM) this.finish(tx, { kind: 'framingError' });
        else if (status === TridonicBusStatus.SHORTED)
          this.fail(tx, new DaliInterfaceError('Tridonic USB: DALI bus shorted or without power', 'busFault'));
        return;
      }
      default:
        return;
    }
  }

  private noteBusStatus(status: number): void {
    if (status !== TridonicBusStatus.SHORTED && status !== TridonicBusStatus.OK) return;
    if (this.busStatus === status) return;
    const wasKnown = this.busStatus !== undefined;
    this.busStatus = status;
    if (this.transport.state !== 'connected') return;
    if (status === TridonicBusStatus.SHORTED) this.emit('state', { state: 'connected', detail: 'DALI bus shorted or without power' });
    else if (wasKnown) this.emit('state', { state: 'connected', detail: 'DALI bus power back' });
  }
}
