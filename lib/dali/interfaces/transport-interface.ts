/**
 * Shared base of the protocol interfaces (LubaInterface, Sci2Interface,
 * HidrawInterface): state mirroring, one transmit at a time, bus frame events.
 */
import { EventEmitter } from 'node:events';
import {
  DaliInterfaceError,
  type BackwardResult,
  type BusFrameEvent,
  type ForwardFrame,
  type InterfaceState,
  type InterfaceStateEvent,
  type Priority,
} from '../types';
import type { PendingResult } from './pending-result';
import type { ByteTransport } from './reconnecting-transport';

/** Checks a forward frame before it is encoded; returns the error to reject with, or undefined. */
export function validateForwardFrame(frame: ForwardFrame): DaliInterfaceError | undefined {
  if (frame === null || typeof frame !== 'object') return new DaliInterfaceError('frame must be an object', 'protocol');
  if (frame.bits !== 16 && frame.bits !== 24) return new DaliInterfaceError(`unsupported frame length ${String(frame.bits)}`, 'protocol');
  const max = frame.bits === 16 ? 0xffff : 0xffffff;
  if (!Number.isInteger(frame.value) || frame.value < 0 || frame.value > max) {
    return new DaliInterfaceError(`frame value ${String(frame.value)} out of range for ${frame.bits} bits`, 'protocol');
  }
  return undefined;
}

/** What every protocol interface tracks for the request in flight. */
export interface PendingTransaction {
  readonly result: PendingResult<BackwardResult>;
}

/** Protocol interfaces built on a ByteTransport; `Tx` is the protocol's request in flight. */
export abstract class TransportInterface<Tx extends PendingTransaction = PendingTransaction> extends EventEmitter {
  protected readonly transport: ByteTransport;
  /** The request in flight (one at a time). */
  protected current: Tx | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closePromise: Promise<void> | undefined;

  protected constructor(transport: ByteTransport) {
    super();
    this.transport = transport;
    transport.on('state', (ev) => this.handleTransportState(ev));
    transport.on('data', (chunk) => {
      try {
        this.handleData(chunk);
      } catch {
        // A decoder bug must never take the process down; the parser resynchronises on the next bytes.
      }
    });
  }

  get state(): InterfaceState {
    return this.transport.state;
  }

  open(): Promise<void> {
    return this.transport.open();
  }

  close(): Promise<void> {
    if (!this.closePromise) {
      this.abortPending(new DaliInterfaceError(`${this.transport.description}: interface closed`, 'closed'));
      this.closePromise = this.transport.close();
    }
    return this.closePromise;
  }

  /** One frame at a time: later calls wait for earlier ones (the scheduler should not overlap them anyway). */
  transmit(frame: ForwardFrame, priority: Priority): Promise<BackwardResult> {
    const invalid = validateForwardFrame(frame);
    if (invalid) return Promise.reject(invalid);
    const run = this.chain.then(() => {
      if (this.closePromise) throw new DaliInterfaceError(`${this.transport.description}: interface closed`, 'closed');
      if (this.transport.state !== 'connected') {
        throw new DaliInterfaceError(`${this.transport.description}: not connected (${this.transport.state})`, 'notConnected');
      }
      return this.transmitOne(frame, priority);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  protected abstract transmitOne(frame: ForwardFrame, priority: Priority): Promise<BackwardResult>;
  protected abstract handleData(chunk: Buffer): void;

  /** Rejects the transaction in flight, if any. */
  protected abortPending(err: DaliInterfaceError): void {
    if (this.current) this.fail(this.current, err);
  }

  /**
   * Makes `tx` the request in flight, arms its first timeout (rejecting with
   * `timeoutMessage`) and writes `request`; a failed write rejects it.
   */
  protected startTransaction(tx: Tx, request: Buffer, timeoutMs: number, timeoutMessage: string): Promise<BackwardResult> {
    this.current = tx;
    tx.result.arm(timeoutMs, () => this.fail(tx, new DaliInterfaceError(timeoutMessage, 'timeout')));
    this.transport.write(request).catch((err: unknown) => {
      this.fail(tx, err instanceof DaliInterfaceError ? err : new DaliInterfaceError(String(err), 'notConnected'));
    });
    return tx.result.promise.finally(() => {
      if (this.current === tx) this.current = undefined;
    });
  }

  protected fail(tx: Tx, err: Error): void {
    tx.result.reject(err);
    if (this.current === tx) this.current = undefined;
  }

  protected finish(tx: Tx, result: BackwardResult): void {
    tx.result.resolve(result);
    if (this.current === tx) this.current = undefined;
  }
  /** Called after each (re)connect; e.g. to configure the device. */
  protected onConnected(): void {
    // default: nothing to configure
  }

  protected emitBusFrame(bits: 8 | 16 | 24, value: number, framingError = false): void {
    const ev: BusFrameEvent = framingError ? { ts: Date.now(), bits, value, framingError: true } : { ts: Date.now(), bits, value };
    this.emit('frame', ev);
  }

  private handleTransportState(ev: InterfaceStateEvent): void {
    if (ev.state !== 'connected') {
      const code = ev.state === 'closed' ? 'closed' : 'notConnected';
      this.abortPending(new DaliInterfaceError(`${this.transport.description}: ${ev.detail ?? ev.state}`, code));
    }
    this.emit('state', ev);
    if (ev.state === 'connected') this.onConnected();
  }
}
