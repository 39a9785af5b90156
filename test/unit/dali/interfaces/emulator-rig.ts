/** Shared setup of the protocol interface tests: a protocol interface wired to its device emulator in memory. */
import type { BackwardResult, BusFrameEvent, ForwardFrame, InterfaceStateEvent } from '../../../../lib/dali/types';
import { DaliInterfaceError } from '../../../../lib/dali/types';
import type { EmulatedBus } from '../../../../lib/dali/interfaces/device-emulator';
import type { TransportInterface } from '../../../../lib/dali/interfaces/transport-interface';
import { MemoryTransport } from '../../../helpers/memory-transport';

/** A bus that records every forward frame and answers from `answers` (keyed by frame value), else with no answer. */
export class StubBus implements EmulatedBus {
  readonly frames: ForwardFrame[] = [];
  readonly answers = new Map<number, BackwardResult>();
  handleForward(frame: ForwardFrame): BackwardResult {
    this.frames.push(frame);
    return this.answers.get(frame.value) ?? { kind: 'none' };
  }
}

export interface EmulatorRig<E, I> {
  readonly bus: StubBus;
  readonly transport: MemoryTransport;
  readonly emulator: E;
  readonly iface: I;
  /** Frame events of the interface. */
  readonly frames: BusFrameEvent[];
  /** State events of the interface. */
  readonly states: InterfaceStateEvent[];
  /** Every write of the host. */
  readonly toDevice: Buffer[];
}

/**
 * An interface on a MemoryTransport (named `description`) whose writes go to
 * the emulator built by `makeEmulator`, which answers through the transport.
 */
export function emulatorRig<E extends { receive(chunk: Uint8Array): void }, I extends TransportInterface>(
  description: string,
  makeEmulator: (bus: StubBus, write: (data: Buffer) => void) => E,
  makeIface: (transport: MemoryTransport) => I,
): EmulatorRig<E, I> {
  const bus = new StubBus();
  const transport = new MemoryTransport({ description });
  const emulator = makeEmulator(bus, (d) => transport.fromDevice(d));
  const toDevice: Buffer[] = [];
  transport.toDevice = (d) => {
    toDevice.push(d);
    emulator.receive(d);
  };
  const iface = makeIface(transport);
  const frames: BusFrameEvent[] = [];
  const states: InterfaceStateEvent[] = [];
  iface.on('frame', (ev: BusFrameEvent) => frames.push(ev));
  iface.on('state', (ev: InterfaceStateEvent) => states.push(ev));
  return { bus, transport, emulator, iface, frames, states, toDevice };
}

/** assert.rejects predicate: a DaliInterfaceError with this code. */
export function daliError(code: DaliInterfaceError['code']): (e: unknown) => boolean {
  return (e: unknown) => e instanceof DaliInterfaceError && e.code === code;
}

/** Lets `ms` of timers and I/O run (emulator replies travel through setImmediate). */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `check()` holds (emulator replies travel through setImmediate
 * and timers, so on a loaded machine they take longer than any fixed pause);
 * fails naming `what` after `timeoutMs`.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await settle(5);
  }
}
