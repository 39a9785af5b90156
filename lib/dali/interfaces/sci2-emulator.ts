/**
 * Device side of SCI2 (the emulator dali-sim serves a simulated bus with): the
 * wire format and its assumptions are in sci2.ts; docs/dali.md "Interfaces".
 */
import { DaliWireTiming, DeviceEmulator, type DeviceEmulatorOptions } from './device-emulator';
import { Sci2ErrorCode, Sci2Parser, type Sci2Request, decodeSci2Request, encodeSci2Reply } from './sci2';

export type Sci2EmulatorOptions = DeviceEmulatorOptions;

/** Device side of SCI2 for dali-sim (see the assumptions in the header). */
export class Sci2DeviceEmulator extends DeviceEmulator<Sci2EmulatorOptions> {
  private readonly parser = new Sci2Parser('request');
  private monitor = true;

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    for (const p of this.parser.push(chunk)) {
      const req = decodeSci2Request(p);
      if (!req) {
        this.send(encodeSci2Reply({ type: 'error', code: Sci2ErrorCode.BAD_REQUEST, monitor: false }));
        continue;
      }
      this.monitor = req.monitor;
      this.enqueue(() => this.run(req));
    }
  }

  busFrame(bits: 8 | 16 | 24, value: number, framingError = false): void {
    if (this.closed || !this.monitor) return;
    if (framingError) this.send(encodeSci2Reply({ type: 'error', code: Sci2ErrorCode.FRAMING_ERROR, monitor: true }));
    else if (bits === 8) this.send(encodeSci2Reply({ type: 'backward', value, monitor: true }));
    else this.send(encodeSci2Reply({ type: 'frame', bits, value, monitor: true }));
  }

  private async run(req: Sci2Request): Promise<void> {
    const { frame } = req;
    const result = await this.forward(frame, () => {
      if (req.echo) this.send(encodeSci2Reply({ type: 'frame', bits: frame.bits, value: frame.value, monitor: false }));
    });
    if (!result) return;
    await this.wireDelay(DaliWireTiming.backwardSettlingMs + (result.kind === 'none' ? 5.4 : DaliWireTiming.backwardFrameMs));
    if (result.kind === 'answer') this.send(encodeSci2Reply({ type: 'backward', value: result.value & 0xff, monitor: false }));
    else if (result.kind === 'framingError')
      this.send(encodeSci2Reply({ type: 'error', code: Sci2ErrorCode.FRAMING_ERROR, monitor: false }));
    else this.send(encodeSci2Reply({ type: 'noAnswer', monitor: false }));
    await this.wireDelay(DaliWireTiming.forwardSettlingMs(2));
  }
}
