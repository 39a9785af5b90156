/**
 * Device side of the Tridonic DALI USB (the emulator dali-sim serves a
 * simulated bus with): the report format and its assumptions are in
 * hidraw.ts; docs/dali.md "Interfaces".
 */
import type { ForwardFrame } from '../types';
import { DaliWireTiming, DeviceEmulator, type DeviceEmulatorOptions } from './device-emulator';
import { TRIDONIC_REPORT_LENGTH } from './hidraw-transport';
import {
  TridonicBusStatus,
  TridonicInit,
  TridonicOrigin,
  TridonicReply,
  TridonicReportParser,
  decodeTridonicOut,
  encodeTridonicIn,
} from './hidraw';

export interface TridonicEmulatorOptions extends DeviceEmulatorOptions {
  readonly firmwareVersion?: readonly [number, number];
}

/** Device side of the Tridonic DALI USB, for a fake hidraw in tests and dali-sim. */
export class TridonicDeviceEmulator extends DeviceEmulator<TridonicEmulatorOptions> {
  private readonly parser = new TridonicReportParser('out');

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    for (const r of this.parser.push(chunk)) {
      const req = decodeTridonicOut(r);
      if (!req) continue;
      if (req.type === 'init') {
        const [major, minor] = this.opts.firmwareVersion ?? [1, 0];
        const reply = Buffer.alloc(TRIDONIC_REPORT_LENGTH);
        reply[0] = TridonicOrigin.INFO;
        if (req.sub === TridonicInit.READ_VERSION) {
          reply[3] = major;
          reply[4] = minor;
        } else {
          reply.writeUInt32BE(0x53494d31, 1); // "SIM1"
        }
        this.send(reply);
        continue;
      }
      this.enqueue(() => this.run(req.seq, req.frame));
    }
  }

  busFrame(bits: 8 | 16 | 24, value: number, framingError = false): void {
    if (this.closed) return;
    if (framingError) this.send(encodeTridonicIn(TridonicOrigin.OBSERVED, TridonicReply.BUS_STATUS, TridonicBusStatus.FRAMING_ERROR, 0));
    else if (bits === 8) this.send(encodeTridonicIn(TridonicOrigin.OBSERVED, TridonicReply.BACKWARD_FRAME, value & 0xff, 0));
    else this.send(encodeTridonicIn(TridonicOrigin.OBSERVED, bits === 24 ? TridonicReply.FORWARD_24 : TridonicReply.FORWARD_16, value, 0));
  }

  private async run(seq: number, frame: ForwardFrame): Promise<void> {
    const echo = (): void =>
      this.send(
        encodeTridonicIn(
          TridonicOrigin.RESPONSE,
          frame.bits === 24 ? TridonicReply.FORWARD_24 : TridonicReply.FORWARD_16,
          frame.value,
          seq,
        ),
      );
    const result = await this.forward(frame, echo);
    if (!result) return;
    await this.wireDelay(DaliWireTiming.backwardSettlingMs + (result.kind === 'none' ? 5.4 : DaliWireTiming.backwardFrameMs));
    if (result.kind === 'answer')
      this.send(encodeTridonicIn(TridonicOrigin.RESPONSE, TridonicReply.BACKWARD_FRAME, result.value & 0xff, seq));
    else if (result.kind === 'framingError')
      this.send(encodeTridonicIn(TridonicOrigin.RESPONSE, TridonicReply.BUS_STATUS, TridonicBusStatus.FRAMING_ERROR, seq));
    else this.send(encodeTridonicIn(TridonicOrigin.RESPONSE, TridonicReply.NO_FRAME, 0, seq));
    await this.wireDelay(DaliWireTiming.forwardSettlingMs(2));
  }
}
