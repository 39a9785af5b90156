/**
 * `SerialTransport`: a reconnecting serial port (8N1) over the `serialport`
 * package (v13), with the reconnect policy of ReconnectingTransport
 * (reconnecting-transport.ts), and `serialTransportFor`, which the serial
 * interfaces (LUBA, SCI2) use to build theirs.
 */
import { read as fsRawRead } from 'node:fs';
import { SerialPort } from 'serialport';
import { DaliInterfaceError } from '../types';
import {
  ReconnectingTransport,
  type ByteTransport,
  type ReconnectingTransportOptions,
  type ReconnectOptions,
} from './reconnecting-transport';

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
  const options = {
    path: opts.path,
    baudRate: opts.baudRate,
    dataBits: 8 as const,
    parity: 'none' as const,
    stopBits: 1 as const,
    autoOpen: false,
  };
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
