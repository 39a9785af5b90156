import { EventEmitter } from 'node:events';
import type { ByteTransport } from '../../lib/dali/interfaces/reconnecting-transport';
import { DaliInterfaceError, type InterfaceState } from '../../lib/dali/types';

/**
 * In-process ByteTransport: what the host writes goes to `toDevice`, what the
 * device sends comes in through `fromDevice()`. The test double the unit
 * tests pair a protocol interface with a device emulator through.
 * `drop()` / `restore()` simulate unplugging and re-plugging the device.
 */
export class MemoryTransport extends EventEmitter implements ByteTransport {
  readonly description: string;
  private _state: InterfaceState = 'disconnected';
  private opened = false;
  private closed = false;
  private present = true;
  /** Receives every write of the host (set it before traffic starts). */
  toDevice: (data: Buffer) => void;

  constructor(opts: { description?: string; toDevice?: (data: Buffer) => void } = {}) {
    super();
    this.description = opts.description ?? 'memory';
    this.toDevice = opts.toDevice ?? (() => undefined);
  }

  get state(): InterfaceState {
    return this._state;
  }

  open(): Promise<void> {
    if (this.closed) return Promise.reject(new DaliInterfaceError(`${this.description}: closed`, 'closed'));
    this.opened = true;
    if (this.present && this._state !== 'connected') this.setState('connected', this.description);
    else if (!this.present) this.setState('disconnected', `${this.description}: device not present`);
    return this.present ? Promise.resolve() : new Promise((resolve) => this.once('connected-internal', resolve));
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.setState('closed');
    }
    return Promise.resolve();
  }

  write(data: Uint8Array): Promise<void> {
    if (this._state !== 'connected') {
      return Promise.reject(new DaliInterfaceError(`${this.description}: not connected (${this._state})`, 'notConnected'));
    }
    const copy = Buffer.from(data);
    setImmediate(() => {
      if (this._state === 'connected') this.toDevice(copy);
    });
    return Promise.resolve();
  }

  /** Device -> host bytes (delivered asynchronously, like a real port). */
  fromDevice(data: Uint8Array): void {
    const copy = Buffer.from(data);
    setImmediate(() => {
      if (this._state === 'connected') this.emit('data', copy);
    });
  }

  /** The device disappears: state 'disconnected' until restore(). */
  drop(detail = 'device removed'): void {
    this.present = false;
    if (this._state === 'connected') this.setState('disconnected', detail);
  }

  /** The device is back: reconnects if open() was called. */
  restore(): void {
    this.present = true;
    if (this.opened && !this.closed && this._state !== 'connected') {
      this.setState('connecting', this.description);
      this.setState('connected', this.description);
      this.emit('connected-internal');
    }
  }

  private setState(state: InterfaceState, detail?: string): void {
    this._state = state;
    this.emit('state', detail === undefined ? { state } : { state, detail });
  }
}
