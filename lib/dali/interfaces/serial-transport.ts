/**
 * Byte transports for the DALI interfaces, with one reconnect policy for all,
 * plus what the three protocol interfaces (luba.ts, sci2.ts, hidraw.ts) and
 * their device emulators share (TransportInterface base, wire timing).
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
 *
 * `SerialTransport` implements it over the `serialport` package (v13).
 */
import { EventEmitter } from 'node:events';
import { read as fsRawRead } from 'node:fs';
import { SerialPort } from 'serialport';
import { BACKWARD_FRAME_MS, BACKWARD_SETTLING_MS, forwardFrameMs, forwardSettlingMs } from '../bus/timing';
import {
  DaliInterfaceError,
  type BackwardResult,
  type BusFrameEvent,
  type ForwardFrame,
  type InterfaceState,
  type InterfaceStateEvent,
  type Priority,
} from '../types';

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
  if (/ENOENT|No such file or directory|ENODEV|No such device|ENXIO|EIO\b|Input\/output error|does not exist|disconnected|port closed/i.test(text)) {
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

/** The subset of a serialport stream that SerialTransport uses (lets tests pass SerialPortMock). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback: (err: Error | null) => void): void;
  write(data: Buffer, callback: (err: Error | null | undefined) => void): boolean;
  drain(callback: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (err: Error | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  removeAllListeners(event?: string): this;
}

export interface SerialPortFactoryOptions {
  readonly path: string;
  readonly baudRate: number;
}

export type SerialPortFactory = (opts: SerialPortFactoryOptions) => SerialPortLike;

/** The parts of a unix serialport binding port that the hang-up fix needs. */
interface UnixPortLike {
  fd: number | null;
  readonly isOpen: boolean;
  poller?: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
}

function fsRead(fd: number, buffer: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fsRawRead(fd, buffer, offset, length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * Replaces the read of a unix serialport binding port. The stock read
 * retries forever when read() returns 0 bytes, which is what a pty (and some
 * USB serial drivers) return after the other side hung up: the port then
 * spins without ever reporting the disconnect. In non-blocking raw mode "no
 * data" is EAGAIN, so 0 bytes can only mean end of file: report it as a
 * disconnect (the stream then closes the port and emits 'close').
 */
export function patchHangupRead(port: UnixPortLike): void {
  const poller = port.poller;
  if (typeof port.fd !== 'number' || !poller || typeof poller.once !== 'function') return;
  const canceled = (): Error => Object.assign(new Error('Port is not open'), { canceled: true });
  port.read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      const fd = port.fd;
      if (!port.isOpen || typeof fd !== 'number') throw canceled();
      try {
        const bytesRead = await fsRead(fd, buffer, offset, length);
        if (bytesRead === 0) throw Object.assign(new Error('device hung up (end of file)'), { code: 'EIO', disconnect: true });
        return { buffer, bytesRead };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
        if (!port.isOpen) throw canceled();
        await new Promise<void>((resolve, reject) => {
          poller.once('readable', (e) => (e ? reject(e) : resolve()));
        });
      }
    }
  };
}

/** Structural view of a serialport binding (the concrete type is a per-platform union). */
interface OpenableBinding {
  list(): Promise<unknown[]>;
  open(options: unknown): Promise<unknown>;
}

/** SerialPort's own binding, with patchHangupRead applied to every opened port. */
const hangupAwareBinding: OpenableBinding = {
  list: () => (SerialPort.binding as unknown as OpenableBinding).list(),
  async open(options: unknown): Promise<unknown> {
    const port = await (SerialPort.binding as unknown as OpenableBinding).open(options);
    patchHangupRead(port as UnixPortLike);
    return port;
  },
};

export const defaultSerialPortFactory: SerialPortFactory = (opts) => {
  const options = { path: opts.path, baudRate: opts.baudRate, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const, autoOpen: false };
  // SerialPort's constructor takes `binding` from the options when given (not in its public type).
  return new SerialPort({ ...options, binding: hangupAwareBinding } as unknown as typeof options);
};

export interface SerialTransportOptions extends ReconnectingTransportOptions {
  readonly path: string;
  readonly baudRate: number;
  /** Replaces `new SerialPort(...)` (tests use SerialPortMock). */
  readonly portFactory?: SerialPortFactory;
}

/** A reconnecting serial port (8N1). */
export class SerialTransport extends ReconnectingTransport {
  readonly description: string;
  private readonly path: string;
  private readonly baudRate: number;
  private readonly factory: SerialPortFactory;
  private port: SerialPortLike | undefined;

  constructor(opts: SerialTransportOptions) {
    super(opts);
    this.path = opts.path;
    this.baudRate = opts.baudRate;
    this.factory = opts.portFactory ?? defaultSerialPortFactory;
    this.description = opts.path;
  }

  protected async openDevice(): Promise<void> {
    if (!this.path) throw new Error('no serial port path configured');
    const port = this.factory({ path: this.path, baudRate: this.baudRate });
    // Attach 'error' first: an unhandled 'error' event would end the process.
    port.on('error', (err) => {
      if (this.port === port) this.lost(err);
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(err) : resolve()));
    });
    this.port = port;
    port.on('data', (chunk) => {
      if (this.port === port) this.deliver(chunk);
    });
    port.on('close', (err) => {
      if (this.port === port) this.lost(err ?? new Error('port closed'));
    });
  }

  protected async closeDevice(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    if (port.isOpen) {
      await new Promise<void>((resolve) => {
        port.close(() => resolve());
      });
    }
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    // Keep a no-op error listener: a late error from a released port must not crash the process.
    port.removeAllListeners('error');
    port.on('error', () => undefined);
  }

  protected writeDevice(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new DaliInterfaceError(`${this.description}: not open`, 'notConnected'));
    return new Promise<void>((resolve, reject) => {
      port.write(data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
}

// ---------------------------------------------------------------------------
// Shared by the device emulators (luba.ts, sci2.ts, hidraw.ts) that dali-sim
// uses to serve a simulated bus as if it were a real interface.
// ---------------------------------------------------------------------------

/** The part of a simulated bus (lib/dali/sim VirtualBus) that a device emulator drives. */
export interface EmulatedBus {
  /** One forward frame put on the bus (both transmissions when `frame.sendTwice`); returns what came back. */
  handleForward(frame: ForwardFrame): BackwardResult | Promise<BackwardResult>;
}

/**
 * Part 101 wire timing (1200 bit/s, Manchester) as the device emulators use
 * it: the numbers come from lib/dali/bus/timing.ts (one source of truth).
 */
export const DaliWireTiming = {
  /** Forward frame on the wire: 16 bits = 14.17 ms, 24 bits = 20.83 ms. */
  forwardFrameMs(bits: number): number {
    return forwardFrameMs(bits === 24 ? 24 : 16);
  },
  /** Backward frame: 7.5 ms. */
  backwardFrameMs: BACKWARD_FRAME_MS,
  /** Settling between a forward frame and its backward frame (middle of 5.5..10.5 ms). */
  backwardSettlingMs: (BACKWARD_SETTLING_MS.min + BACKWARD_SETTLING_MS.max) / 2,
  /** Settling before the next forward frame at priority 1..5 (typical). */
  forwardSettlingMs(priority: number): number {
    const p = Math.max(1, Math.min(5, Math.floor(priority) || 5)) as Priority;
    return forwardSettlingMs(p);
  },
} as const;

/** Resolves after `ms` (no timer when ms <= 0). */
export function delayMs(ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface DeviceEmulatorOptions {
  readonly bus: EmulatedBus;
  /** Sends bytes to the client (the serial port or fake hidraw of dali-sim). */
  readonly write: (data: Buffer) => void;
  /** Wait the part 101 frame times before reporting (default true; false = as fast as possible). */
  readonly wireTiming?: boolean;
  /**
   * Called when a forward frame of the client starts on the simulated wire
   * (its turn on the bus has come, before its frame time), once per request
   * (a send-twice frame: at the start of its first transmission).
   */
  readonly onForwardStart?: (frame: ForwardFrame) => void;
}

/**
 * Device side shared by the protocol emulators: one request on the bus at a
 * time (in arrival order), writes that never throw, close() and idle().
 */
export abstract class DeviceEmulator<O extends DeviceEmulatorOptions = DeviceEmulatorOptions> {
  protected readonly opts: O;
  protected closed = false;
  private queue: Promise<void> = Promise.resolve();
  /** Requests that failed inside the bus (for diagnostics). */
  errors = 0;

  constructor(opts: O) {
    this.opts = opts;
  }

  /** Bytes from the client. */
  abstract receive(chunk: Uint8Array): void;
  /** A frame from another master (or a sensor event) seen on the bus. */
  abstract busFrame(bits: 8 | 16 | 24, value: number, framingError?: boolean): void;

  close(): void {
    this.closed = true;
  }

  /** Resolves when every accepted request has been reported. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Runs `job` after every request queued before it; a failure counts in `errors`. */
  protected enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch(() => {
      this.errors++;
    });
  }

  protected send(data: Buffer): void {
    if (this.closed) return;
    try {
      this.opts.write(data);
    } catch {
      // client gone: nothing to report to
    }
  }

  /** Waits `ms` of wire time (not at all without wire timing). */
  protected wireDelay(ms: number): Promise<void> {
    return this.opts.wireTiming !== false ? delayMs(ms) : Promise.resolve();
  }

  /**
   * Puts `frame` on the bus after its wire time; `transmitted` runs after each
   * transmission (twice for a send-twice frame). Undefined when closed meanwhile.
   * `onForwardStart` is told first.
   */
  protected async forward(frame: ForwardFrame, transmitted: () => void): Promise<BackwardResult | undefined> {
    if (this.closed) return undefined;
    try {
      this.opts.onForwardStart?.(frame);
    } catch {
      // an observer's failure is not the bus's
    }
    await this.wireDelay(DaliWireTiming.forwardFrameMs(frame.bits));
    if (this.closed) return undefined;
    // The bus delivers both transmissions of a send-twice frame in one call.
    const result: BackwardResult = await this.opts.bus.handleForward(frame);
    transmitted();
    if (frame.sendTwice) {
      await this.wireDelay(DaliWireTiming.forwardSettlingMs(1) + DaliWireTiming.forwardFrameMs(frame.bits));
      transmitted();
    }
    return result;
  }
}

// ---------------------------------------------------------------------------
// Shared base of the protocol interfaces (LubaInterface, Sci2Interface,
// HidrawInterface): state mirroring, one transmit at a time, bus frame events.
// ---------------------------------------------------------------------------

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

export function hexFrame(bits: number, value: number): string {
  const digits = Math.max(2, Math.ceil(bits / 4));
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/** What every protocol interface tracks for the request in flight. */
export interface PendingTransaction {
  readonly result: PendingResult<BackwardResult>;
}

/** Serial options shared by the interfaces on a serial port (LUBA, SCI2). */
export interface SerialInterfaceOptions {
  /** Serial device, e.g. /dev/ttyACM0 (ignored when `transport` is given). */
  readonly path?: string;
  readonly baudRate?: number;
  readonly reconnect?: Partial<ReconnectOptions>;
  readonly failFast?: boolean;
  /** Use this transport instead of a serial port (tests). */
  readonly transport?: ByteTransport;
  readonly portFactory?: SerialPortFactory;
}

/** `opts.transport`, or a reconnecting serial port built from the options (8N1 at `opts.baudRate ?? defaultBaudRate`). */
export function serialTransportFor(opts: SerialInterfaceOptions, defaultBaudRate: number): ByteTransport {
  return (
    opts.transport ??
    new SerialTransport({
      path: opts.path ?? '',
      baudRate: opts.baudRate ?? defaultBaudRate,
      reconnect: opts.reconnect,
      failFast: opts.failFast,
      portFactory: opts.portFactory,
    })
  );
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

/** A promise settled from outside, with one re-armable timer. */
export class PendingResult<T> {
  readonly promise: Promise<T>;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (err: Error) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  get done(): boolean {
    return this.settled;
  }

  /** (Re)starts the timer; `onTimeout` runs once unless the result settles first. */
  arm(ms: number, onTimeout: () => void): void {
    if (this.settled) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.settled) onTimeout();
    }, Math.max(0, ms));
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolveFn(value);
  }

  reject(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.rejectFn(err);
  }
}

/**
 * In-process ByteTransport: what the host writes goes to `toDevice`, what the
 * device sends comes in through `fromDevice()`. Used by unit tests and by
 * in-process servers that pair a protocol interface with a device emulator.
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
