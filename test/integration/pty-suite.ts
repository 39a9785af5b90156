/**
 * Shared body of the pty integration tests (luba, sci2, hidraw): the real
 * interface class from createInterface() on one end of a socat pty pair,
 * dali-sim (bin/dali-sim.js, a child process) serving a virtual bus on the
 * other end. Only what crosses the pty is checked: levels and colour
 * temperatures are read back with QUERY ACTUAL LEVEL / QUERY COLOUR VALUE,
 * once with raw frames on the interface and then through the DaliBus facade
 * (lib/dali/bus), which also re-applies the last setpoints after the device
 * comes back.
 *
 * The Tridonic DALI USB normally lives on /dev/hidraw*; here the hidraw
 * "device" is the same kind of raw pty (socat pty,raw,echo=0): the interface
 * opens it with plain fs like a hidraw node and splits the stream into
 * 64-byte reports, dali-sim writes 64-byte reports on the other end.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dapc, decodeFrame, dt8Command, dtr0, enableDeviceType, gearCommand } from '../../lib/dali/codec';
import { naiveFrames } from '../../lib/dali/sequence';
import { Dt8ColourValue, Dt8Command, GearCommand } from '../../lib/dali/opcodes';
import { createInterface } from '../../lib/dali/interfaces';
import { DaliBus } from '../../lib/dali/bus/dali-bus';
import type { BusFrameEvent, DaliInterface, ForwardFrame, GearAddress, InterfaceStateEvent } from '../../lib/dali/types';
import { DaliInterfaceError } from '../../lib/dali/types';
import { killAll, skipWithoutSocat, startPtyPair, track, type PtyPair } from '../helpers/socat';

const SIM_BIN = path.resolve(__dirname, '..', '..', 'bin', 'dali-sim.js');

export type PtyProtocol = 'luba' | 'sci2' | 'hidraw';

interface SimProcess {
  readonly child: ChildProcess;
  send(line: string): void;
  /** Resolves with the first stdout line matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
}

async function startSim(protocol: PtyProtocol, port: string): Promise<SimProcess> {
  const child = track(
    spawn(
      process.execPath,
      [SIM_BIN, '--protocol', protocol, '--port', port, '--gear', '0-3', '--groups', '0', '--sensor', '10', '--quiet'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    ),
  );
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (;;) {
      const nl = out.indexOf('\n');
      if (nl < 0) break;
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin?.on('error', () => undefined);
  const waitForLine = (re: RegExp, timeoutMs = 5000): Promise<string> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`dali-sim: no line matching ${re} (stderr: ${err})`)), timeoutMs);
      waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  const sim: SimProcess = { child, send: (line) => void child.stdin?.write(`${line}\n`), waitForLine };
  await waitForLine(/ready$/);
  return sim;
}

function waitForState(iface: DaliInterface, state: InterfaceStateEvent['state'], timeoutMs = 8000): Promise<void> {
  if (iface.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      iface.off('state', on);
      reject(new Error(`state ${state} not reached (now ${iface.state})`));
    }, timeoutMs);
    const on = (ev: InterfaceStateEvent): void => {
      if (ev.state !== state) return;
      clearTimeout(t);
      iface.off('state', on);
      resolve();
    };
    iface.on('state', on);
  });
}

async function send(iface: DaliInterface, frames: readonly ForwardFrame[]): Promise<void> {
  for (const f of frames) await iface.transmit(f, 2);
}

async function query(iface: DaliInterface, frame: ForwardFrame): Promise<number | undefined> {
  const r = await iface.transmit(frame, 3);
  return r.kind === 'answer' ? r.value : undefined;
}

const short = (address: number): GearAddress => ({ kind: 'short', address });

export async function readLevel(iface: DaliInterface, address: number): Promise<number | undefined> {
  return query(iface, gearCommand(short(address), GearCommand.QUERY_ACTUAL_LEVEL));
}

/** QUERY COLOUR VALUE (DTR0 = 2, actual Tc): MSB from the answer, LSB from DTR0. */
export async function readMirek(iface: DaliInterface, address: number): Promise<number | undefined> {
  await iface.transmit(dtr0(Dt8ColourValue.COLOUR_TEMPERATURE), 2);
  await iface.transmit(enableDeviceType(8), 2);
  const msb = await query(iface, dt8Command(short(address), Dt8Command.QUERY_COLOUR_VALUE));
  const lsb = await query(iface, gearCommand(short(address), GearCommand.QUERY_CONTENT_DTR0));
  return msb === undefined || lsb === undefined ? undefined : (msb << 8) | lsb;
}

export function definePtySuite(protocol: PtyProtocol): void {
  describe(`${protocol} interface over a socat pty pair against dali-sim`, function () {
    this.timeout(20_000);
    let dir = '';
    let pair: PtyPair | undefined;
    let sim: SimProcess | undefined;
    let iface: DaliInterface | undefined;
    let bus: DaliBus | undefined;
    const frames: BusFrameEvent[] = [];
    const states: InterfaceStateEvent[] = [];

    before(async function () {
      skipWithoutSocat(this);
      assert.ok(fs.existsSync(SIM_BIN), `${SIM_BIN} missing: build first (npx tsc -p tsconfig.json)`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `dali-${protocol}-`));
      pair = await startPtyPair(dir);
      sim = await startSim(protocol, pair.dev);
      iface = createInterface({ type: protocol, path: pair.app, reconnect: { minMs: 50, maxMs: 400 }, answerTimeoutMs: 150 });
      iface.on('frame', (ev) => frames.push(ev));
      iface.on('state', (ev) => states.push(ev));
      // The facade the nodes use, on the same interface (it owns transmit while it runs jobs).
      bus = new DaliBus(iface, { inventory: { shortAddresses: [0, 1, 2, 3], groups: { 0: [0, 1, 2, 3] }, complete: true } });
      await bus.start();
    });

    after(async () => {
      await bus?.close();
      await iface?.close();
      await killAll();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('raw frames: level + colour temperature on a short address, read back with QUERY ACTUAL LEVEL / QUERY COLOUR VALUE', async () => {
      const i = iface as DaliInterface;
      await send(i, naiveFrames({ address: short(1), level: 200, mirek: 370 }));
      assert.equal(await readLevel(i, 1), 200);
      assert.equal(await readMirek(i, 1), 370);
      // A neighbour is untouched (power-on defaults of the simulated gear).
      assert.equal(await readLevel(i, 2), 254);
      assert.equal(await readMirek(i, 2), 250);
    });

    it('DaliBus: level + colour temperature on a short address, group 0 and broadcast, read back per gear', async () => {
      const b = bus as DaliBus;
      await b.setpoint({ address: short(3), level: 60, mirek: 400 });
      assert.equal(await b.readActualLevel(3), 60);
      assert.equal(await b.readColourTemperatureMirek(3), 400);
      await b.setpoint({ address: { kind: 'group', group: 0 }, level: 120, mirek: 250 });
      for (const a of [0, 1, 2, 3]) {
        assert.equal(await b.readActualLevel(a), 120, `level of ${a}`);
        assert.equal(await b.readColourTemperatureMirek(a), 250, `mirek of ${a}`);
      }
      await b.setpoint({ address: { kind: 'broadcast' }, level: 180, mirek: 153 });
      for (const a of [0, 1, 2, 3]) {
        assert.equal(await b.readActualLevel(a), 180, `level of ${a}`);
        assert.equal(await b.readColourTemperatureMirek(a), 153, `mirek of ${a}`);
      }
    });

    it('a broadcast query collides as a framing error; an empty address reads NO', async () => {
      const i = iface as DaliInterface;
      assert.deepEqual(await i.transmit(gearCommand({ kind: 'broadcast' }, GearCommand.QUERY_ACTUAL_LEVEL), 3), { kind: 'framingError' });
      assert.equal(await readLevel(i, 9), undefined);
    });

    it('reports sensor events and wall-panel frames as bus frames', async () => {
      const i = iface as DaliInterface;
      const s = sim as SimProcess;
      frames.length = 0;
      s.send('occupied');
      s.send('lux 300');
      s.send('inject FE00');
      await s.waitForLine(/^injected FE00/);
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && !frames.some((f) => f.bits === 16)) await new Promise((r) => setTimeout(r, 20));
      const events = frames.filter((f) => f.bits === 24).map((f) => decodeFrame(24, f.value));
      // Device/instance scheme: instance 0 = occupancy (info bit 1 = occupied), instance 1 = light (raw illuminance).
      assert.ok(
        events.some((e) => e.kind === 'event' && e.shortAddress === 10 && e.instanceNumber === 0 && (e.info & 0x02) !== 0),
        `occupied event from sensor 10 in ${JSON.stringify(frames)}`,
      );
      assert.ok(
        events.some((e) => e.kind === 'event' && e.shortAddress === 10 && e.instanceNumber === 1 && e.info > 0),
        `light event from sensor 10 in ${JSON.stringify(frames)}`,
      );
      assert.ok(
        frames.some((f) => f.bits === 16 && f.value === 0xfe00),
        'wall panel broadcast DAPC 0',
      );
      assert.equal(await readLevel(i, 2), 0, 'the wall panel switched the gear off');
    });

    it('survives the device disappearing (sim and pty killed): disconnected, then connected, last setpoints re-applied', async () => {
      const i = iface as DaliInterface;
      const b = bus as DaliBus;
      await b.setpoint({ address: short(0), level: 77, mirek: 300 });
      await b.setpoint({ address: short(1), level: 99, mirek: 420 });
      states.length = 0;
      sim?.child.kill('SIGKILL');
      await pair?.stop('SIGKILL');
      // socat killed with SIGKILL leaves its links behind; udev would remove a vanished device node.
      // A stale link could point at a pty number the kernel hands out again.
      fs.rmSync(path.join(dir, 'app'), { force: true });
      fs.rmSync(path.join(dir, 'dev'), { force: true });
      await waitForState(i, 'disconnected');
      await assert.rejects(i.transmit(dapc(short(0), 50), 2), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'notConnected');
      // The device reappears only once it is ready (as a re-plugged USB interface does): the pty
      // gets its final name after dali-sim has opened the other end. Otherwise frames written
      // before the simulator opened its end would be flushed away by its open().
      pair = await startPtyPair(dir, { dev: 'dev', app: 'app.staging' });
      sim = await startSim(protocol, pair.dev);
      fs.renameSync(pair.app, path.join(dir, 'app'));
      await waitForState(i, 'connected');
      // A fresh simulator starts at the power-on level (254) and 250 mirek; DaliBus re-applies the last setpoints.
      const deadline = Date.now() + 5000;
      let level0: number | null = null;
      while (Date.now() < deadline) {
        level0 = await b.readActualLevel(0);
        if (level0 === 77) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(level0, 77);
      assert.equal(await b.readColourTemperatureMirek(0), 300);
      assert.equal(await b.readActualLevel(1), 99);
      assert.equal(await b.readColourTemperatureMirek(1), 420);
      const seq = states.map((s) => s.state);
      assert.ok(seq.indexOf('disconnected') >= 0 && seq.lastIndexOf('connected') > seq.indexOf('disconnected'), seq.join(' -> '));
    });
  });
}
