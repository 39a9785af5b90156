/**
 * Lunatone LUBA protocol (Lunatone DALI RS232 PS; the Lunatone DALI-2 USB
 * shows up as /dev/ttyACM*): 38400 baud, 8N1.
 *
 * Packet: `0x59 ('Y'), cmd, length, payload[length], XOR(cmd, length, payload)`.
 * Summary with sources: docs/dali.md "Interfaces".
 *
 * Facts used (Lunatone "LUBA Protocol" as implemented by python-dali's
 * dali/driver/serial.py, and IEC 62386-101/102 for the frames):
 * - 0x32 ADD DALI FRAME TO TX BUFFER, payload `[line, bit count, mode, d0, d1,
 *   d2, d3]`: line 0 (RS232 devices have one bus), bit count 16 or 24, mode
 *   bit 7 = send twice, bits 2..0 = priority 1..5, the frame left-aligned in
 *   d0..d3. DAPC short 5 level 200 = `59 32 07 00 10 02 0A C8 00 00 E5`.
 * - 0x33 answer to 0x32: length 2 = `[transmit id, x]` (accepted), length 1 =
 *   `[error code]` (refused).
 * - 0x31 bus event, payload `[tick hi, tick lo, line, status, ...]`; status
 *   bits 7..6 = event type, bits 5..0 = event info.
 *   - type 0 "frame sent": `[..., transmit id, frame bytes]`. A send-twice
 *     frame is reported sent twice (python-dali waits for two).
 *   - type 2 "frame received": `[..., frame bytes]`; info 1..32 = bit count
 *     (8 = a backward frame), 62 = only start/stop bits, 63 = framing error.
 * - 0x2A WRITE SETTINGS `[mode, event filter]` is answered by 0x2B with the
 *   settings in force; python-dali writes mode 0x00, event filter 0x12 so that
 *   the device reports sent and received frames. We do the same on connect.
 * - 0x20 QUERY DEVICE INFO `[0]` is answered by 0x21 (20 bytes: GTIN 6, id 8,
 *   PCB version, assembly version, article number 4).
 *
 * Assumptions (not found in public sources; the simulator follows the same):
 * - LUBA has no explicit "no answer" event: after the last "frame sent" event
 *   of a query we wait `answerTimeoutMs` (default 50 ms: 12.4 ms backward
 *   window + 7.5 ms frame + USB/serial latency) and read silence as NO.
 * - Frame bytes in events are ceil(bits / 8) bytes, MSB first.
 * - The second byte of a 0x33 acceptance is the number of free TX buffer slots
 *   (ignored). The tick is a free-running 16-bit millisecond counter.
 * - The device does not echo our own frames as "received" events; if it did,
 *   the echo of the frame in flight is suppressed anyway.
 */
import type { BackwardResult, ForwardFrame, Priority } from '../types';
import { DaliInterfaceError } from '../types';
import { PendingResult } from './pending-result';
import { serialTransportFor, type SerialInterfaceOptions } from './serial-transport';
import { TransportInterface } from './transport-interface';

export const LUBA_START = 0x59;
export const LUBA_BAUD_RATE = 38400;
/** Longest payload accepted by the parser (device info answer = 20 bytes). */
export const LUBA_MAX_PAYLOAD = 32;

export const LubaCommand = {
  QUERY_DEVICE_INFO: 0x20,
  QUERY_DEVICE_INFO_RESPONSE: 0x21,
  READ_WRITE_SETTINGS: 0x2a,
  READ_WRITE_SETTINGS_RESPONSE: 0x2b,
  READ_STATUS: 0x2c,
  READ_STATUS_RESPONSE: 0x2d,
  EVENT: 0x31,
  ADD_DALI_FRAME_TO_TX: 0x32,
  ADD_DALI_FRAME_TO_TX_RESPONSE: 0x33,
  ADD_16BIT_FRAME_TO_TX: 0x34,
  ADD_16BIT_FRAME_TO_TX_RESPONSE: 0x35,
  ADD_24BIT_FRAME_TO_TX: 0x36,
  ADD_24BIT_FRAME_TO_TX_RESPONSE: 0x37,
} as const;

const KNOWN_COMMANDS: ReadonlySet<number> = new Set(Object.values(LubaCommand));

/** Event type (status bits 7..6) of a 0x31 event. */
export const LubaEventType = { FRAME_SENT: 0, FRAME_RECEIVED: 2 } as const;
/** Event info values of a "frame received" event that are not bit counts. */
export const LubaEventInfo = { START_STOP_ONLY: 62, FRAMING_ERROR: 63 } as const;

/** Settings written on connect (python-dali's values): mode 0, event filter 0x12. */
export const LUBA_DEFAULT_SETTINGS = { mode: 0x00, eventFilter: 0x12 } as const;

export interface LubaPacket {
  readonly cmd: number;
  readonly payload: Buffer;
}

export function lubaChecksum(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= (bytes[i] ?? 0) & 0xff;
  return x;
}

/** Builds one packet: 0x59, cmd, length, payload, XOR. */
export function encodeLubaPacket(cmd: number, payload: ArrayLike<number> = []): Buffer {
  const len = payload.length;
  if (len < 1 || len > LUBA_MAX_PAYLOAD) throw new RangeError(`LUBA payload length ${len} outside 1..${LUBA_MAX_PAYLOAD}`);
  const out = Buffer.alloc(len + 4);
  out[0] = LUBA_START;
  out[1] = cmd & 0xff;
  out[2] = len;
  for (let i = 0; i < len; i++) out[3 + i] = (payload[i] ?? 0) & 0xff;
  out[len + 3] = lubaChecksum(out, 1, len + 3);
  return out;
}

/** Frame value as ceil(bits / 8) bytes, MSB first. */
export function frameBytes(bits: number, value: number): number[] {
  const n = Math.max(1, Math.ceil(bits / 8));
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}

function bytesToValue(bytes: ArrayLike<number>, start: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) v = v * 256 + ((bytes[start + i] ?? 0) & 0xff);
  return v;
}

/** 0x32 send request for one forward frame. */
export function encodeLubaSend(frame: ForwardFrame, priority: Priority, line = 0): Buffer {
  const mode = (frame.sendTwice ? 0x80 : 0) | (Math.max(1, Math.min(5, Math.floor(priority) || 5)) & 0x07);
  const data = [0, 0, 0, 0];
  frameBytes(frame.bits, frame.value).forEach((b, i) => {
    data[i] = b;
  });
  return encodeLubaPacket(LubaCommand.ADD_DALI_FRAME_TO_TX, [line & 0xff, frame.bits, mode, ...data]);
}

export interface LubaSendRequest {
  readonly line: number;
  readonly frame: ForwardFrame;
  readonly priority: Priority;
}

/** Device side: decodes a 0x32 payload (undefined when malformed). */
export function decodeLubaSend(payload: ArrayLike<number>): LubaSendRequest | undefined {
  if (payload.length < 7) return undefined;
  const bits = payload[1];
  if (bits !== 16 && bits !== 24) return undefined;
  const mode = payload[2] ?? 0;
  const value = bytesToValue(payload, 3, bits / 8);
  const p = mode & 0x07;
  const priority = (p >= 1 && p <= 5 ? p : 5) as Priority;
  const frame: ForwardFrame = (mode & 0x80) !== 0 ? { bits, value, sendTwice: true } : { bits, value };
  return { line: payload[0] ?? 0, frame, priority };
}

export type LubaSendResponse =
  | { readonly accepted: true; readonly txId: number }
  | { readonly accepted: false; readonly errorCode: number };

export function decodeLubaSendResponse(payload: ArrayLike<number>): LubaSendResponse | undefined {
  if (payload.length === 1) return { accepted: false, errorCode: payload[0] ?? 0 };
  if (payload.length >= 2) return { accepted: true, txId: payload[0] ?? 0 };
  return undefined;
}

export function encodeLubaSendAccepted(txId: number, freeSlots = 8): Buffer {
  return encodeLubaPacket(LubaCommand.ADD_DALI_FRAME_TO_TX_RESPONSE, [txId & 0xff, freeSlots & 0xff]);
}

export function encodeLubaSendRefused(errorCode: number): Buffer {
  return encodeLubaPacket(LubaCommand.ADD_DALI_FRAME_TO_TX_RESPONSE, [errorCode & 0xff]);
}

export type LubaEvent =
  | {
      readonly type: 'sent';
      readonly tick: number;
      readonly line: number;
      readonly txId: number;
      readonly bits: number;
      readonly value: number;
    }
  | { readonly type: 'received'; readonly tick: number; readonly line: number; readonly bits: number; readonly value: number }
  | { readonly type: 'framingError'; readonly tick: number; readonly line: number; readonly info: number }
  | { readonly type: 'other'; readonly tick: number; readonly line: number; readonly eventType: number; readonly info: number };

/** Decodes a 0x31 payload; undefined when too short. */
export function decodeLubaEvent(payload: ArrayLike<number>): LubaEvent | undefined {
  if (payload.length < 4) return undefined;
  const tick = (((payload[0] ?? 0) << 8) | (payload[1] ?? 0)) & 0xffff;
  const line = payload[2] ?? 0;
  const status = payload[3] ?? 0;
  const eventType = (status >> 6) & 0x03;
  const info = status & 0x3f;
  if (eventType === LubaEventType.FRAME_SENT) {
    if (payload.length < 6) return { type: 'other', tick, line, eventType, info };
    const txId = payload[4] ?? 0;
    const avail = payload.length - 5;
    const bits = info >= 1 && info <= 32 && Math.ceil(info / 8) <= avail ? info : Math.min(avail, 4) * 8;
    return { type: 'sent', tick, line, txId, bits, value: bytesToValue(payload, 5, Math.ceil(bits / 8)) };
  }
  if (eventType === LubaEventType.FRAME_RECEIVED) {
    if (info === LubaEventInfo.FRAMING_ERROR || info === LubaEventInfo.START_STOP_ONLY) {
      return { type: 'framingError', tick, line, info };
    }
    const avail = payload.length - 4;
    if (info < 1 || info > 32 || avail < Math.ceil(info / 8)) return { type: 'other', tick, line, eventType, info };
    return { type: 'received', tick, line, bits: info, value: bytesToValue(payload, 4, Math.ceil(info / 8)) };
  }
  return { type: 'other', tick, line, eventType, info };
}

export function encodeLubaSentEvent(tick: number, txId: number, bits: number, value: number, line = 0): Buffer {
  return encodeLubaPacket(LubaCommand.EVENT, [
    (tick >> 8) & 0xff,
    tick & 0xff,
    line,
    (LubaEventType.FRAME_SENT << 6) | (bits & 0x3f),
    txId & 0xff,
    ...frameBytes(bits, value),
  ]);
}

export function encodeLubaReceivedEvent(tick: number, bits: number, value: number, line = 0): Buffer {
  return encodeLubaPacket(LubaCommand.EVENT, [
    (tick >> 8) & 0xff,
    tick & 0xff,
    line,
    (LubaEventType.FRAME_RECEIVED << 6) | (bits & 0x3f),
    ...frameBytes(bits, value),
  ]);
}

export function encodeLubaFramingErrorEvent(tick: number, line = 0): Buffer {
  return encodeLubaPacket(LubaCommand.EVENT, [
    (tick >> 8) & 0xff,
    tick & 0xff,
    line,
    (LubaEventType.FRAME_RECEIVED << 6) | LubaEventInfo.FRAMING_ERROR,
  ]);
}

/**
 * Streaming packet parser. Feed it whatever the port delivers; it returns the
 * complete packets with a good checksum and skips everything else. On a bad
 * checksum, impossible length or unknown command it drops only the start byte
 * it tried and searches again from the next byte, so a 0x59 inside garbage
 * cannot hide a real packet that follows. Never throws.
 */
export class LubaParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes thrown away since construction (garbage, bad packets). */
  droppedBytes = 0;

  push(chunk: Uint8Array): LubaPacket[] {
    const out: LubaPacket[] = [];
    if (chunk.length > 0) this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    let i = 0;
    const b = this.buf;
    while (i < b.length) {
      if (b[i] !== LUBA_START) {
        i++;
        this.droppedBytes++;
        continue;
      }
      if (b.length - i < 3) break;
      const cmd = b[i + 1] ?? 0;
      const len = b[i + 2] ?? 0;
      if (!KNOWN_COMMANDS.has(cmd) || len < 1 || len > LUBA_MAX_PAYLOAD) {
        i++;
        this.droppedBytes++;
        continue;
      }
      if (b.length - i < len + 4) break;
      if (lubaChecksum(b, i + 1, i + 3 + len) !== b[i + 3 + len]) {
        i++;
        this.droppedBytes++;
        continue;
      }
      out.push({ cmd, payload: Buffer.from(b.subarray(i + 3, i + 3 + len)) });
      i += len + 4;
    }
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  /** Drops a partial packet (e.g. after a reconnect). */
  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

export interface LubaInterfaceOptions extends SerialInterfaceOptions {
  /** Max wait for the 0x33 acceptance and each "frame sent" event (the bus may be busy). Default 1000 ms. */
  readonly confirmTimeoutMs?: number;
  /** Silence after the last "frame sent" of a query that reads as NO. Default 50 ms. */
  readonly answerTimeoutMs?: number;
  /** Write LUBA_DEFAULT_SETTINGS on every connect (default true). */
  readonly configureOnConnect?: boolean;
}

interface LubaTransaction {
  readonly frame: ForwardFrame;
  readonly result: PendingResult<BackwardResult>;
  phase: 'accept' | 'sending' | 'answer';
  txId: number | undefined;
  sentCount: number;
  readonly sentNeeded: number;
  /** "frame sent" ids seen before the 0x33 acceptance arrived. */
  readonly earlySent: number[];
  earlyAnswer: BackwardResult | undefined;
}

/** DaliInterface over a LUBA device. */
export class LubaInterface extends TransportInterface<LubaTransaction> {
  readonly kind = 'luba' as const;
  private readonly parser = new LubaParser();
  private readonly confirmTimeoutMs: number;
  private readonly answerTimeoutMs: number;
  private readonly configureOnConnect: boolean;
  /** Settings reported by the device (0x2B), if any. */
  deviceSettings: { mode: number; eventFilter: number } | undefined;

  constructor(opts: LubaInterfaceOptions) {
    super(serialTransportFor(opts, LUBA_BAUD_RATE));
    this.confirmTimeoutMs = positive(opts.confirmTimeoutMs, 1000);
    this.answerTimeoutMs = positive(opts.answerTimeoutMs, 50);
    this.configureOnConnect = opts.configureOnConnect !== false;
  }

  protected override onConnected(): void {
    this.parser.reset();
    if (!this.configureOnConnect) return;
    const packet = encodeLubaPacket(LubaCommand.READ_WRITE_SETTINGS, [LUBA_DEFAULT_SETTINGS.mode, LUBA_DEFAULT_SETTINGS.eventFilter]);
    this.transport.write(packet).catch(() => undefined);
  }

  protected transmitOne(frame: ForwardFrame, priority: Priority): Promise<BackwardResult> {
    const tx: LubaTransaction = {
      frame,
      result: new PendingResult<BackwardResult>(),
      phase: 'accept',
      txId: undefined,
      sentCount: 0,
      sentNeeded: frame.sendTwice ? 2 : 1,
      earlySent: [],
      earlyAnswer: undefined,
    };
    return this.startTransaction(
      tx,
      encodeLubaSend(frame, priority),
      this.confirmTimeoutMs,
      'LUBA: no acceptance (0x33) from the interface',
    );
  }

  protected handleData(chunk: Buffer): void {
    for (const packet of this.parser.push(chunk)) this.handlePacket(packet);
  }

  private handlePacket(packet: LubaPacket): void {
    switch (packet.cmd) {
      case LubaCommand.ADD_DALI_FRAME_TO_TX_RESPONSE:
        this.handleSendResponse(packet.payload);
        break;
      case LubaCommand.EVENT: {
        const ev = decodeLubaEvent(packet.payload);
        if (ev) this.handleEvent(ev);
        break;
      }
      case LubaCommand.READ_WRITE_SETTINGS_RESPONSE:
        if (packet.payload.length >= 2) this.deviceSettings = { mode: packet.payload[0] ?? 0, eventFilter: packet.payload[1] ?? 0 };
        break;
      default:
        break;
    }
  }

  private handleSendResponse(payload: Buffer): void {
    const tx = this.current;
    const res = decodeLubaSendResponse(payload);
    if (!tx || tx.phase !== 'accept' || !res) return;
    if (!res.accepted) {
      this.fail(tx, new DaliInterfaceError(`LUBA: interface refused the frame (error ${res.errorCode})`, 'protocol'));
      return;
    }
    tx.txId = res.txId;
    tx.phase = 'sending';
    tx.result.arm(this.confirmTimeoutMs, () =>
      this.fail(tx, new DaliInterfaceError('LUBA: frame not reported sent (bus busy or down?)', 'timeout')),
    );
    for (const id of tx.earlySent.splice(0)) this.countSent(tx, id);
  }

  private countSent(tx: LubaTransaction, txId: number): void {
    if (tx.txId !== txId || tx.phase !== 'sending') return;
    tx.sentCount += 1;
    if (tx.sentCount < tx.sentNeeded) return;
    if (!tx.frame.expectAnswer) {
      this.finish(tx, { kind: 'none' });
      return;
    }
    if (tx.earlyAnswer) {
      this.finish(tx, tx.earlyAnswer);
      return;
    }
    tx.phase = 'answer';
    tx.result.arm(this.answerTimeoutMs, () => this.finish(tx, { kind: 'none' }));
  }

  private handleEvent(ev: LubaEvent): void {
    const tx = this.current;
    switch (ev.type) {
      case 'sent':
        if (!tx) return;
        if (tx.phase === 'accept') tx.earlySent.push(ev.txId);
        else this.countSent(tx, ev.txId);
        return;
      case 'received':
        if (ev.bits === 8) {
          if (tx && tx.frame.expectAnswer && tx.phase === 'answer') {
            this.finish(tx, { kind: 'answer', value: ev.value & 0xff });
            return;
          }
          if (tx && tx.frame.expectAnswer && tx.phase === 'sending' && tx.sentCount + 1 >= tx.sentNeeded) {
            tx.earlyAnswer = { kind: 'answer', value: ev.value & 0xff };
            return;
          }
          this.emitBusFrame(8, ev.value & 0xff);
          return;
        }
        if (ev.bits === 16 || ev.bits === 24) {
          if (tx && tx.phase !== 'answer' && tx.frame.bits === ev.bits && tx.frame.value === ev.value) return; // echo of our own frame
          this.emitBusFrame(ev.bits, ev.value);
        }
        return;
      case 'framingError':
        if (tx && tx.frame.expectAnswer && tx.phase === 'answer') {
          this.finish(tx, { kind: 'framingError' });
          return;
        }
        this.emitBusFrame(8, 0, true);
        return;
      default:
        return;
    }
  }
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : dflt;
}
