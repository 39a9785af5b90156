/**
 * `HidrawTransport`: the byte transport of the Tridonic DALI USB interface
 * (hidraw.ts has its report format and protocol), with the reconnect policy of
 * ReconnectingTransport.
 *
 * I/O: the hidraw file is opened O_RDWR | O_NONBLOCK and polled (2 ms while a
 * transaction is in flight or data arrived in the last 500 ms, `idlePollMs`
 * otherwise, default 20 ms). A blocking read would pin a libuv thread-pool
 * thread forever and make close() wait for the next report. Reads are split
 * into 64-byte reports, so a pty or FIFO standing in for the device in tests
 * (which does not keep report boundaries) works the same. Unplugging gives
 * EIO/ENODEV on read (a pty whose other side closed reads 0 bytes, which a
 * non-blocking read only returns at end of file) -> 'disconnected', then
 * reopen with backoff.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { DaliInterfaceError } from '../types';
import { delayMs } from './device-emulator';
import { ReconnectingTransport, type ReconnectOptions } from './reconnecting-transport';

/** Every HID report of the Tridonic DALI USB is 64 bytes long. */
export const TRIDONIC_REPORT_LENGTH = 64;

export interface HidrawTransportOptions {
  readonly path: string;
  readonly reconnect?: Partial<ReconnectOptions>;
  readonly failFast?: boolean;
  /** Poll interval when nothing is going on (default 20 ms). */
  readonly idlePollMs?: number;
  /** Poll interval while busy (default 2 ms). */
  readonly busyPollMs?: number;
  /** Prefix written before each report and stripped from each read (numbered reports); default none. */
  readonly reportId?: number;
}

/** Reconnecting non-blocking file transport for /dev/hidraw* (also works on a pty or FIFO). */
export class HidrawTransport extends ReconnectingTransport {
  readonly description: string;
  private readonly path: string;
  private readonly idlePollMs: number;
  private readonly busyPollMs: number;
  private readonly reportId: number | undefined;
  private handle: fsp.FileHandle | undefined;
  private loop: Promise<void> | undefined;
  private stopLoop = false;
  private lastActivity = 0;

  constructor(opts: HidrawTransportOptions) {
    super(opts);
    this.path = opts.path;
    this.description = opts.path;
    this.idlePollMs = opts.idlePollMs !== undefined && opts.idlePollMs > 0 ? opts.idlePollMs : 20;
    this.busyPollMs = opts.busyPollMs !== undefined && opts.busyPollMs > 0 ? opts.busyPollMs : 2;
    this.reportId = opts.reportId;
  }

  protected async openDevice(): Promise<void> {
    if (!this.path) throw new Error('no hidraw path configured');
    const handle = await fsp.open(this.path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
    this.handle = handle;
    this.stopLoop = false;
    this.lastActivity = Date.now();
    this.loop = this.readLoop(handle);
  }

  protected async closeDevice(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.stopLoop = true;
    const loop = this.loop;
    this.loop = undefined;
    if (loop) await loop;
    if (handle) await handle.close().catch(() => undefined);
  }

  protected async writeDevice(data: Buffer): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new DaliInterfaceError(`${this.description}: not open`, 'notConnected');
    this.lastActivity = Date.now();
    const payload = this.reportId === undefined ? data : Buffer.concat([Buffer.from([this.reportId & 0xff]), data]);
    let offset = 0;
    for (let tries = 0; offset < payload.length; tries++) {
      try {
        const { bytesWritten } = await handle.write(payload, offset, payload.length - offset, null);
        offset += bytesWritten;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EWOULDBLOCK') && tries < 50) {
          await delayMs(this.busyPollMs);
          continue;
        }
        throw err;
      }
    }
  }

  private async readLoop(handle: fsp.FileHandle): Promise<void> {
    const buf = Buffer.alloc(4096);
    while (!this.stopLoop) {
      let n = 0;
      let again = false;
      try {
        const res = await handle.read(buf, 0, buf.length, null);
        n = res.bytesRead;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        again = true;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') {
          if (!this.stopLoop) this.lost(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
      if (this.stopLoop) return;
      if (n === 0 && !again) {
        // Non-blocking: "no data" is EAGAIN, so 0 bytes is end of file (a pty whose other side hung up).
        this.lost(Object.assign(new Error('device hung up (end of file)'), { code: 'EIO' }));
        return;
      }
      if (n > 0) {
        this.lastActivity = Date.now();
        const data = Buffer.from(buf.subarray(0, n));
        this.deliver(this.reportId === undefined ? data : stripReportId(data, this.reportId));
        continue;
      }
      await delayMs(Date.now() - this.lastActivity < 500 ? this.busyPollMs : this.idlePollMs);
    }
  }
}

function stripReportId(data: Buffer, reportId: number): Buffer {
  // hidraw returns one report per read: [id, 64 bytes]
  if (data.length === TRIDONIC_REPORT_LENGTH + 1 && data[0] === (reportId & 0xff)) return data.subarray(1);
  return data;
}
