/**
 * The reconnect policy shared by every byte transport (serial-transport.ts,
 * hidraw-transport.ts).
 *
 * A `ByteTransport` moves raw bytes between this process and an interface
 * device (a serial port, a hidraw file) and reports connection state. It knows
 * nothing about DALI: the protocol layers (luba.ts, sci2.ts, hidraw.ts) sit on
 * top and match replies to requests.
 *
 * `ReconnectingTransport` holds the state machine shared by every device:
 *
 *   open() -> connecting -> connected -> (device lost) -> disconnected
 *          -> connecting (after backoff) -> connected ...
 *   close() at any point -> closed (timers cleared, device released)
 *
 * Failed opens are classified: EBUSY or a lock held by another process ->
 * 'portInUse'; ENOENT/ENODEV/ENXIO (device unplugged) -> 'disconnected';
 * anything else (EACCES, bad settings) -> 'error'. Every class is retried with
 * exponential backoff (minMs, doubling, capped at maxMs) until close(): a USB
 * interface that is plugged in later, or a permission fixed later, is picked
 * up without restarting Node-RED. State events are not repeated: after a
 * failed attempt, retries stay quiet until the outcome changes (another
 * error, or connected). open() resolves on the first connection and stays
 * pending while the device is missing. With `failFast` the first failed open
 * rejects open() and stops (command-line tools want an answer, not a wait).
 */
import { EventEmitter } from 'node:events';
import { DaliInterfaceError, type InterfaceState, type InterfaceStateEvent } from '../types';

export interface ReconnectOptions {
  /** First retry delay after a failed open or a lost device. */
  readonly minMs: number;
  /** Upper bound of the doubling delay. */
  readonly maxMs: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = { minMs: 250, maxMs: 10_000 };

/** Delay before retry number `attempt` (0-based): minMs * 2^attempt, capped at maxMs. */
export function backoffDelayMs(attempt: number, opts: ReconnectOptions): number {
  const minMs = Number.isFinite(opts.minMs) && opts.minMs > 0 ? opts.minMs : DEFAULT_RECONNECT.minMs;
  const maxMs = Number.isFinite(opts.maxMs) && opts.maxMs >= minMs ? opts.maxMs : Math.max(minMs, DEFAULT_RECONNECT.maxMs);
  const n = Math.max(0, Math.min(30, Math.floor(Number.isFinite(attempt) ? attempt : 0)));
  return Math.min(maxMs, minMs * 2 ** n);
}

/** Fills missing or invalid reconnect settings with the defaults. */
export function normaliseReconnect(opts?: Partial<ReconnectOptions>): ReconnectOptions {
  const minMs = opts?.minMs !== undefined && Number.isFinite(opts.minMs) && opts.minMs > 0 ? opts.minMs : DEFAULT_RECONNECT.minMs;
  const maxRaw = opts?.maxMs !== undefined && Number.isFinite(opts.maxMs) && opts.maxMs > 0 ? opts.maxMs : DEFAULT_RECONNECT.maxMs;
  return { minMs, maxMs: Math.max(minMs, maxRaw) };
}

export interface DeviceErrorClass {
  readonly state: 'portInUse' | 'disconnected' | 'error';
  readonly detail: string;
}

function errorText(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return { code: typeof code === 'string' ? code : '', message: err.message };
  }
  return { code: '', message: String(err) };
}

/** Maps an open/read/write failure to the state shown to the user. */
export function classifyDeviceError(err: unknown): DeviceErrorClass {
  const { code, message } = errorText(err);
  const text = `${code} ${message}`;
  if (/EBUSY|Device or resource busy|Cannot lock port|is locked|Resource temporarily unavailable|EWOULDBLOCK/i.test(text)) {
    return { state: 'portInUse', detail: `in use by another process (${message})` };
  }
  if (
    /ENOENT|No such file or directory|ENODEV|No such device|ENXIO|EIO\b|Input\/output error|does not exist|disconnected|port closed/i.test(
      text,
    )
  ) {
    return { state: 'disconnected', detail: message || 'device not present' };
  }
  return { state: 'error', detail: message || 'unknown error' };
}

/** What the protocol layers need from a device connection. */
export interface ByteTransport {
  readonly state: InterfaceState;
  /** Human-readable device name (path). */
  readonly description: string;
  open(): Promise<void>;
  close(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'state', listener: (ev: InterfaceStateEvent) => void): this;
  off(event: 'data', listener: (chunk: Buffer) => void): this;
  off(event: 'state', listener: (ev: InterfaceStateEvent) => void): this;
}

export interface ReconnectingTransportOptions {
  readonly reconnect?: Partial<ReconnectOptions>;
  /** Reject open() on the first failure instead of retrying (CLI tools). */
  readonly failFast?: boolean;
}

/**
 * Shared reconnect state machine. Subclasses implement openDevice /
 * closeDevice / writeDevice and call `deliver(chunk)` for incoming bytes and
 * `lost(err)` when the device goes away.
 */
export abstract class ReconnectingTransport extends EventEmitter implements ByteTransport {
  private _state: InterfaceState = 'disconnected';
  private readonly reconnectOpts: ReconnectOptions;
  private readonly failFast: boolean;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private everConnected = false;
  private firstOpen: Promise<void> | undefined;
  private resolveFirst: (() => void) | undefined;
  private rejectFirst: ((err: Error) => void) | undefined;
  private lastDetail: string | undefined;
  /** Set after a failed attempt: later attempts stay quiet until something changes. */
  private retrying = false;
  /** Serialises device open/close so a late open never outlives close(). */
  private deviceOp: Promise<void> = Promise.resolve();

  abstract readonly description: string;

  protected constructor(opts: ReconnectingTransportOptions = {}) {
    super();
    this.reconnectOpts = normaliseReconnect(opts.reconnect);
    this.failFast = opts.failFast === true;
  }

  get state(): InterfaceState {
    return this._state;
  }

  /** Opens the device; resolves on the first connection. Retries in the background until close(). */
  open(): Promise<void> {
    if (this.closing) return Promise.reject(new DaliInterfaceError(`${this.description}: closed`, 'closed'));
    if (this.firstOpen) return this.firstOpen;
    this.firstOpen = new Promise<void>((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    // The caller may never await open() (fire-and-forget with state events): never leave it unhandled.
    this.firstOpen.catch(() => undefined);
    this.started = true;
    void this.tryConnect();
    return this.firstOpen;
  }

  /** Releases the device and every timer. Idempotent; resolves when the device is closed. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.settleFirst(new DaliInterfaceError(`${this.description}: closed before connecting`, 'closed'));
    this.closePromise = this.runDeviceOp(async () => {
      try {
        await this.closeDevice();
      } catch {
        // Closing a device that already vanished: nothing left to release.
      }
    }).then(() => {
      this.setState('closed');
      this.removeAllListeners('data');
    });
    return this.closePromise;
  }

  write(data: Uint8Array): Promise<void> {
    if (this._state !== 'connected') {
      return Promise.reject(new DaliInterfaceError(`${this.description}: not connected (${this._state})`, 'notConnected'));
    }
    return this.writeDevice(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).catch((err: unknown) => {
      const c = classifyDeviceError(err);
      this.lost(err instanceof Error ? err : new Error(c.detail));
      throw new DaliInterfaceError(`${this.description}: write failed: ${c.detail}`, 'notConnected');
    });
  }

  protected abstract openDevice(): Promise<void>;
  protected abstract closeDevice(): Promise<void>;
  protected abstract writeDevice(data: Buffer): Promise<void>;

  /** Subclasses: bytes arrived from the device. */
  protected deliver(chunk: Buffer): void {
    if (this.closing || this._state !== 'connected' || chunk.length === 0) return;
    this.emit('data', chunk);
  }

  /** Subclasses: the device went away (read error, port closed, unplugged). */
  protected lost(err?: Error): void {
    if (this.closing || this._state !== 'connected') return;
    const c = err ? classifyDeviceError(err) : { state: 'disconnected' as const, detail: 'device closed' };
    this.setState('disconnected', c.detail);
    void this.runDeviceOp(async () => {
      try {
        await this.closeDevice();
      } catch {
        // already gone
      }
    });
    this.scheduleReconnect();
  }

  private runDeviceOp(op: () => Promise<void>): Promise<void> {
    const next = this.deviceOp.then(op, op);
    this.deviceOp = next.catch(() => undefined);
    return next;
  }

  private setState(state: InterfaceState, detail?: string): void {
    if (this._state === state && detail === this.lastDetail) return;
    this._state = state;
    this.lastDetail = detail;
    const ev: InterfaceStateEvent = detail === undefined ? { state } : { state, detail };
    this.emit('state', ev);
  }

  private settleFirst(err?: Error): void {
    const resolve = this.resolveFirst;
    const reject = this.rejectFirst;
    this.resolveFirst = undefined;
    this.rejectFirst = undefined;
    if (err) reject?.(err);
    else resolve?.();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.timer) return;
    const delay = backoffDelayMs(this.attempt, this.reconnectOpts);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tryConnect();
    }, delay);
  }

  private async tryConnect(): Promise<void> {
    if (this.closing || !this.started) return;
    // 'connecting' on the first attempt only: a device missing for hours must not flap the status every retry.
    if (!this.retrying) this.setState('connecting', this.description);
    let failure: unknown;
    let opened = false;
    await this.runDeviceOp(async () => {
      if (this.closing) return;
      try {
        await this.openDevice();
        opened = true;
      } catch (err) {
        failure = err;
      }
    });
    if (this.closing) {
      if (opened) await this.runDeviceOp(() => this.closeDevice().catch(() => undefined));
      return;
    }
    if (!opened) {
      const c = classifyDeviceError(failure);
      this.retrying = true;
      this.setState(c.state, `${this.description}: ${c.detail}`);
      if (this.failFast && !this.everConnected) {
        const code = c.state === 'portInUse' ? 'portInUse' : 'notConnected';
        this.settleFirst(new DaliInterfaceError(`${this.description}: ${c.detail}`, code));
        return;
      }
      this.scheduleReconnect();
      return;
    }
    this.attempt = 0;
    this.retrying = false;
    this.everConnected = true;
    this.setState('connected', this.description);
    this.settleFirst();
  }
}
