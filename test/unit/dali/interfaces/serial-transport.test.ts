import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SerialPortMock } from 'serialport';
import type { InterfaceStateEvent } from '../../../../lib/dali/types';
import { DaliInterfaceError } from '../../../../lib/dali/types';
import { backoffDelayMs, classifyDeviceError, normaliseReconnect } from '../../../../lib/dali/interfaces/reconnecting-transport';
import { SerialTransport, type SerialPortLike } from '../../../../lib/dali/interfaces/serial-transport';
import { HidrawTransport } from '../../../../lib/dali/interfaces/hidraw-transport';

const MockBinding = SerialPortMock.binding;

function waitFor(pred: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

/** Serial transport over SerialPortMock; remembers every port it created. */
function mockTransport(pathName: string, opts: { failFast?: boolean } = {}) {
  const ports: SerialPortMock[] = [];
  const states: InterfaceStateEvent[] = [];
  const transport = new SerialTransport({
    path: pathName,
    baudRate: 38400,
    reconnect: { minMs: 10, maxMs: 40 },
    failFast: opts.failFast,
    portFactory: ({ path: p, baudRate }) => {
      const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
      ports.push(port);
      return port as unknown as SerialPortLike;
    },
  });
  transport.on('state', (ev) => states.push(ev));
  return { transport, ports, states };
}

describe('serial transport', () => {
  afterEach(() => MockBinding.reset());

  describe('backoff', () => {
    it('starts at minMs, doubles and stops at maxMs (250 ms -> 10 s by default)', () => {
      const opts = normaliseReconnect();
      const delays = Array.from({ length: 12 }, (_, i) => backoffDelayMs(i, opts));
      assert.equal(delays[0], opts.minMs);
      for (let i = 1; i < delays.length; i++) assert.equal(delays[i], Math.min(opts.maxMs, 2 * delays[i - 1]!));
      assert.equal(delays.at(-1), opts.maxMs);
      assert.deepEqual(opts, { minMs: 250, maxMs: 10_000 });
    });

    it('repairs nonsense settings instead of spinning', () => {
      const opts = normaliseReconnect({ minMs: -5, maxMs: Number.NaN });
      assert.ok(opts.minMs > 0 && opts.maxMs >= opts.minMs);
      assert.equal(normaliseReconnect({ minMs: 500, maxMs: 100 }).maxMs, 500);
      assert.ok(backoffDelayMs(Number.POSITIVE_INFINITY, { minMs: 1, maxMs: 5 }) <= 5);
    });
  });

  describe('error classification', () => {
    it('maps serialport and errno failures to the state shown to users', () => {
      assert.equal(classifyDeviceError(new Error('Error Resource temporarily unavailable Cannot lock port')).state, 'portInUse');
      const busy = Object.assign(new Error('EBUSY: resource busy or locked, open'), { code: 'EBUSY' });
      assert.equal(classifyDeviceError(busy).state, 'portInUse');
      assert.equal(classifyDeviceError(new Error('Error: No such file or directory, cannot open /dev/ttyACM0')).state, 'disconnected');
      const enoent = Object.assign(new Error('open failed'), { code: 'ENOENT' });
      assert.equal(classifyDeviceError(enoent).state, 'disconnected');
      assert.equal(classifyDeviceError(new Error('Error Permission denied Cannot open /dev/ttyUSB0')).state, 'error');
      assert.equal(classifyDeviceError('weird').state, 'error');
    });
  });

  describe('SerialTransport (SerialPortMock)', () => {
    it('opens, moves bytes both ways and closes', async () => {
      MockBinding.createPort('/dev/ttyMOCK0', { echo: false, record: true });
      const { transport, ports, states } = mockTransport('/dev/ttyMOCK0');
      const got: Buffer[] = [];
      transport.on('data', (d) => got.push(d));
      await transport.open();
      assert.equal(transport.state, 'connected');
      await transport.write(Buffer.from([0x59, 0x01]));
      assert.deepEqual([...(ports[0]!.port!.lastWrite ?? [])], [0x59, 0x01]);
      ports[0]!.port!.emitData(Buffer.from([1, 2, 3]));
      await waitFor(() => got.length > 0);
      assert.deepEqual([...Buffer.concat(got)], [1, 2, 3]);
      await transport.close();
      assert.equal(transport.state, 'closed');
      assert.deepEqual(
        states.map((s) => s.state),
        ['connecting', 'connected', 'closed'],
      );
      assert.equal(ports[0]!.isOpen, false);
    });

    it('keeps retrying quietly while the device is missing and connects when it appears', async () => {
      const { transport, states, ports } = mockTransport('/dev/ttyMOCK1');
      const opened = transport.open();
      await waitFor(() => ports.length >= 3);
      // One report of the problem, not one per retry.
      assert.deepEqual(
        states.map((s) => s.state),
        ['connecting', 'disconnected'],
      );
      assert.match(states[1]?.detail ?? '', /does not exist/);
      MockBinding.createPort('/dev/ttyMOCK1', { echo: false, record: true });
      await opened;
      assert.equal(transport.state, 'connected');
      assert.equal(states.at(-1)?.state, 'connected');
      await transport.close();
    });

    it('reconnects after the port closes under it', async () => {
      MockBinding.createPort('/dev/ttyMOCK2', { echo: false, record: true });
      const { transport, ports, states } = mockTransport('/dev/ttyMOCK2');
      await transport.open();
      await new Promise<void>((resolve) => ports[0]!.close(() => resolve()));
      await waitFor(() => transport.state === 'connected' && ports.length === 2);
      assert.deepEqual(
        states.map((s) => s.state),
        ['connecting', 'connected', 'disconnected', 'connecting', 'connected'],
      );
      await transport.close();
    });

    it('reports portInUse while another process holds the port, then connects', async () => {
      MockBinding.createPort('/dev/ttyMOCK3', { echo: false, record: true });
      const other = new SerialPortMock({ path: '/dev/ttyMOCK3', baudRate: 38400, autoOpen: false });
      await new Promise<void>((resolve, reject) => other.open((e) => (e ? reject(e) : resolve())));
      const { transport, states } = mockTransport('/dev/ttyMOCK3');
      const opened = transport.open();
      await waitFor(() => states.some((s) => s.state === 'portInUse'));
      await new Promise<void>((resolve) => other.close(() => resolve()));
      await opened;
      assert.equal(transport.state, 'connected');
      await transport.close();
    });

    it('with failFast, rejects open() on the first failure and stops retrying', async () => {
      const { transport, ports } = mockTransport('/dev/ttyMOCK4', { failFast: true });
      await assert.rejects(transport.open(), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'notConnected');
      const tries = ports.length;
      await new Promise((res) => setTimeout(res, 60));
      assert.equal(ports.length, tries);
      await transport.close();
    });

    it('close() during backoff stops every retry and rejects open()', async () => {
      const { transport, ports } = mockTransport('/dev/ttyMOCK5');
      const opened = transport.open();
      await waitFor(() => ports.length >= 1);
      await transport.close();
      await assert.rejects(opened, (e: unknown) => e instanceof DaliInterfaceError && e.code === 'closed');
      const tries = ports.length;
      await new Promise((res) => setTimeout(res, 80));
      assert.equal(ports.length, tries);
      assert.equal(transport.state, 'closed');
      await assert.rejects(transport.write(Buffer.from([1])), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'notConnected');
      await assert.rejects(transport.open(), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'closed');
    });
  });

  describe('HidrawTransport on a FIFO', function () {
    let dir = '';
    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-hid-'));
      try {
        execFileSync('mkfifo', [path.join(dir, 'probe')]);
      } catch {
        this.skip();
      }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('waits for a missing device file, then reads back what it wrote (loopback FIFO)', async () => {
      const fifo = path.join(dir, 'hidraw0');
      const states: InterfaceStateEvent[] = [];
      const t = new HidrawTransport({ path: fifo, reconnect: { minMs: 10, maxMs: 20 }, idlePollMs: 5 });
      t.on('state', (ev) => states.push(ev));
      const got: Buffer[] = [];
      t.on('data', (d) => got.push(d));
      const opened = t.open();
      await waitFor(() => states.some((s) => s.state === 'disconnected'));
      execFileSync('mkfifo', [fifo]);
      await opened;
      const report = Buffer.alloc(64, 0x11);
      await t.write(report);
      await waitFor(() => Buffer.concat(got).length >= 64);
      assert.deepEqual(Buffer.concat(got), report);
      await t.close();
      assert.equal(t.state, 'closed');
    });
  });
});
