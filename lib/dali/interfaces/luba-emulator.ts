/**
 * Device side of LUBA (the emulator dali-sim serves a simulated bus with): the
 * wire format and its assumptions are in luba.ts; docs/dali.md "Interfaces".
 */
import { DaliWireTiming, DeviceEmulator, type DeviceEmulatorOptions } from './device-emulator';
import {
  LUBA_DEFAULT_SETTINGS,
  LubaCommand,
  LubaParser,
  decodeLubaSend,
  encodeLubaFramingErrorEvent,
  encodeLubaPacket,
  encodeLubaReceivedEvent,
  encodeLubaSendAccepted,
  encodeLubaSendRefused,
  encodeLubaSentEvent,
  type LubaPacket,
  type LubaSendRequest,
} from './luba';

export interface LubaEmulatorOptions extends DeviceEmulatorOptions {
  readonly now?: () => number;
}

/**
 * Device side of LUBA, used by dali-sim: decodes the client's requests, puts
 * the frames on the simulated bus with real frame timing and reports what a
 * Lunatone device would. Frames that other masters (wall panels, sensors) put
 * on the bus are reported with `busFrame()`.
 */
export class LubaDeviceEmulator extends DeviceEmulator<LubaEmulatorOptions> {
  private readonly parser = new LubaParser();
  private nextTxId = 1;
  private settings: { mode: number; eventFilter: number } = { mode: 0, eventFilter: LUBA_DEFAULT_SETTINGS.eventFilter };

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    for (const packet of this.parser.push(chunk)) this.handle(packet);
  }

  /** A frame from another master (or a sensor event) seen on the bus. */
  busFrame(bits: 8 | 16 | 24, value: number, framingError = false): void {
    if (this.closed) return;
    this.send(framingError ? encodeLubaFramingErrorEvent(this.tick()) : encodeLubaReceivedEvent(this.tick(), bits, value));
  }

  private tick(): number {
    return Math.floor((this.opts.now ?? Date.now)()) & 0xffff;
  }

  private handle(packet: LubaPacket): void {
    switch (packet.cmd) {
      case LubaCommand.ADD_DALI_FRAME_TO_TX: {
        const req = decodeLubaSend(packet.payload);
        if (!req) {
          this.send(encodeLubaSendRefused(1));
          return;
        }
        const txId = this.nextTxId;
        this.nextTxId = this.nextTxId >= 255 ? 1 : this.nextTxId + 1;
        this.send(encodeLubaSendAccepted(txId));
        this.enqueue(() => this.run(req, txId));
        return;
      }
      case LubaCommand.READ_WRITE_SETTINGS:
        if (packet.payload.length >= 2) this.settings = { mode: packet.payload[0] ?? 0, eventFilter: packet.payload[1] ?? 0 };
        this.send(encodeLubaPacket(LubaCommand.READ_WRITE_SETTINGS_RESPONSE, [this.settings.mode, this.settings.eventFilter]));
        return;
      case LubaCommand.QUERY_DEVICE_INFO:
        // GTIN 6, id 8, PCB version, assembly version, article number 4 (a made-up simulator identity).
        this.send(
          encodeLubaPacket(LubaCommand.QUERY_DEVICE_INFO_RESPONSE, [0, 0, 0, 0, 0, 0, 0x53, 0x49, 0x4d, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]),
        );
        return;
      default:
        return;
    }
  }

  private async run(req: LubaSendRequest, txId: number): Promise<void> {
    const { frame } = req;
    const result = await this.forward(frame, () => this.send(encodeLubaSentEvent(this.tick(), txId, frame.bits, frame.value)));
    if (!result) return;
    if (result.kind !== 'none') {
      await this.wireDelay(DaliWireTiming.backwardSettlingMs + DaliWireTiming.backwardFrameMs);
      if (result.kind === 'answer') this.send(encodeLubaReceivedEvent(this.tick(), 8, result.value & 0xff));
      else this.send(encodeLubaFramingErrorEvent(this.tick()));
    }
    await this.wireDelay(DaliWireTiming.forwardSettlingMs(req.priority));
  }
}
