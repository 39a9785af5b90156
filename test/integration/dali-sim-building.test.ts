/**
 * dali-sim --building over socat: the demo building's three sensors (office
 * 10, meeting room 11, corridor 12 presence only) reach a LUBA client with
 * their own addresses, stdin commands address one sensor, and --frame-times
 * prints the occupancy event frames (end) and the client's forward frames
 * (start, decoded target) as JSON lines.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dapc, decodeFrame } from '../../lib/dali/codec';
import { createInterface } from '../../lib/dali/interfaces';
import { forwardTarget, parseSimArgs, type FrameTimeRecord } from '../../bin/dali-sim';
import { parseSimSensors, CorridorScenario } from '../../lib/dali/sim-config';
import type { BusFrameEvent, DaliInterface } from '../../lib/dali/types';
import { killAll, skipWithoutSocat, startPtyPair, track, type PtyPair } from '../helpers/socat';

const SIM = path.resolve(__dirname, '..', '..', 'bin', 'dali-sim.js');
const START_MINUTE = 450; // dali-sim starts its scenarios at 7:30

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('dali-sim --building', function () {
  this.timeout(60_000);

  it('parses --building, --sensors and --frame-times, and refuses mixing --building with its own settings', () => {
    const b = parseSimArgs(['--protocol', 'luba', '--port', '/tmp/x', '--building', '--frame-times']);
    assert.ok('options' in b, JSON.stringify(b));
    assert.deepEqual(b.options.gear, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(
      b.options.groupMap,
      new Map([
        [0, [0, 1, 2, 3]],
        [1, [4, 5]],
        [2, [6, 7]],
      ]),
    );
    assert.deepEqual(b.options.sensors, parseSimSensors('10:office; 11:meeting; 12:corridor'));
    assert.equal(b.options.frameTimes, true);
    const s = parseSimArgs(['--protocol', 'sci2', '--port', '/tmp/x', '--sensors', '20:meeting:4; 21:static', '--groups', '0:0-1; 1:2-3']);
    assert.ok('options' in s, JSON.stringify(s));
    assert.deepEqual(s.options.sensors, [
      { address: 20, scenario: 'meeting', seed: 4 },
      { address: 21, scenario: 'static' },
    ]);
    assert.deepEqual(
      s.options.groupMap,
      new Map([
        [0, [0, 1]],
        [1, [2, 3]],
      ]),
    );
    const bad: [string[], RegExp][] = [
      [['--building', '--gear', '0-3'], /--building sets the gear, groups and sensors/],
      [['--building', '--sensors', '10:office'], /--building sets/],
      [['--sensors', '10:kitchen'], /--sensors: .*"10:kitchen" names an unknown scenario/],
      [['--sensors', ' ; '], /--sensors needs at least one/],
      [['--sensors', '10:office', '--sensor', '3'], /--sensors replaces --sensor/],
      [['--groups', '0:9'], /--groups: simulated groups/],
      [['--scenario', 'kitchen'], /--scenario must be office, meeting, corridor, static or none/],
    ];
    for (const [args, message] of bad) {
      const r = parseSimArgs(['--protocol', 'luba', '--port', '/tmp/x', ...args]);
      assert.ok('error' in r && message.test(r.error), `${args.join(' ')}: ${JSON.stringify(r)}`);
    }
  });

  it('decodes the target of forward frames: gear addressing in 16 bits, device addressing in 24-bit commands, special commands', () => {
    const t = (bits: 16 | 24, value: number): unknown => forwardTarget({ bits, value });
    assert.deepEqual(t(16, 0x08c8), { target: { kind: 'short', address: 4 }, address: 'A4' });
    assert.deepEqual(t(16, 0x8505), { target: { kind: 'group', group: 2 }, address: 'G2' });
    assert.deepEqual(t(16, 0xfe00), { target: { kind: 'broadcast' }, address: 'BC' });
    assert.deepEqual(t(16, 0xfd00), { target: { kind: 'broadcastUnaddressed' }, address: 'BCU' });
    assert.deepEqual(t(16, 0xa300), { target: { kind: 'special' }, address: 'special' }, 'DTR0');
    assert.deepEqual(t(24, 0x15fe00), { target: { kind: 'short', address: 10 }, address: 'A10' }, 'a device command to sensor 10');
    assert.deepEqual(t(24, 0xc10005), { target: { kind: 'special' }, address: 'special' }, 'device DTR0');
  });

  describe('over a pty pair', () => {
    let dir = '';
    let pair: PtyPair | undefined;
    let child: ChildProcess | undefined;
    let iface: DaliInterface | undefined;
    before(function () {
      skipWithoutSocat(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-sim-building-'));
    });
    after(async () => {
      await iface?.close().catch(() => undefined);
      await killAll();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('serves the three sensors with their own addresses, and prints event-end and forward-start frame times', async () => {
      pair = await startPtyPair(dir, { dev: 'b-dev', app: 'b-app' });
      // --speed 1: the scenarios stay at 7:30 for the test (office and meeting room empty, corridor as its seed says).
      child = track(
        spawn(
          process.execPath,
          [SIM, '--protocol', 'luba', '--port', pair.dev, '--building', '--speed', '1', '--seed', '1', '--frame-times', '--quiet'],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        ),
      );
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const lines = (): string[] => out.split('\n');
      const records = (): FrameTimeRecord[] =>
        lines()
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as FrameTimeRecord);
      const send = (cmd: string): void => void child?.stdin?.write(`${cmd}\n`);
      await until(() => /ready/.test(out), 'ready', 15_000);
      assert.match(out, /8 gear, 3 sensor\(s\); ready/);

      iface = createInterface({ type: 'luba', path: pair.app, answerTimeoutMs: 200 });
      const frames: BusFrameEvent[] = [];
      iface.on('frame', (ev: BusFrameEvent) => frames.push(ev));
      await iface.open();
      const events = (): { sensor: number; instance: number; occupied?: boolean; raw?: number }[] =>
        frames
          .filter((f) => f.bits === 24)
          .map((f) => decodeFrame(24, f.value, { instanceTypeOf: (s, n) => (n === 0 ? 3 : s === 12 ? undefined : 4) }))
          .filter((d) => d.kind === 'event')
          .map((d) => ({
            sensor: d.shortAddress as number,
            instance: d.instanceNumber as number,
            ...(d.occupancy ? { occupied: d.occupancy.occupied } : {}),
            ...(d.illuminanceRaw !== undefined ? { raw: d.illuminanceRaw } : {}),
          }));

      // One sensor at a time: the office (10) and the meeting room (11) are empty at 7:30; the corridor (12) is what its seed says.
      const corridorOccupied = new CorridorScenario({ seed: 3 }).isOccupied(START_MINUTE);
      const cmds: [number, string][] = [
        [10, 'occupied 10'],
        [11, 'occupied 11'],
        [12, corridorOccupied ? 'vacant 12' : 'occupied 12'],
      ];
      for (const [sensor, cmd] of cmds) {
        const before = events().length;
        send(cmd);
        await until(
          () =>
            events()
              .slice(before)
              .some((e) => e.sensor === sensor && e.instance === 0),
          `an occupancy event of sensor ${sensor}`,
        );
        const mine = events()
          .slice(before)
          .filter((e) => e.instance === 0 && e.occupied !== undefined);
        assert.deepEqual(
          new Set(mine.map((e) => e.sensor)),
          new Set([sensor]),
          `'${cmd}' reached sensor ${sensor} only: ${JSON.stringify(mine)}`,
        );
      }
      await until(() => /occupied \(sensor 10\)/.test(out) && /\(sensor 12\)/.test(out), 'the replies');

      // Light: 10 and 11 have a light sensor, the corridor's is presence only.
      send('lux 12 12');
      await until(() => /sensor 12 has no light sensor \(presence only\)/.test(out), 'the lux reply for 12');
      send('sensors');
      await until(() => /sensor 12: presence only, scenario corridor/.test(out), 'the sensors listing');
      assert.match(out, /sensor 10: light \+ presence, scenario office/);
      assert.match(out, /sensor 11: light \+ presence, scenario meeting/);
      send('lux 700');
      await until(() => /lux 700 \(2 sensor\(s\)\)/.test(out), 'the lux reply');
      await until(() => [10, 11].every((s) => events().some((e) => e.sensor === s && e.raw === 350)), 'light events of 10 and 11');
      assert.deepEqual(
        events().filter((e) => e.sensor === 12 && e.instance !== 0),
        [],
        'no light event from the corridor',
      );
      send('occupied 30');
      await until(() => /no sensor at short address 30 \(sensors: 10, 11, 12\)/.test(out), 'the reply for a missing sensor');

      // Frame times: occupancy events (end) of each sensor, then a DAPC to the meeting room's group (start).
      const ev = records().filter((r): r is Extract<FrameTimeRecord, { frameTime: 'event' }> => r.frameTime === 'event');
      for (const s of [10, 11, 12])
        assert.ok(
          ev.some((r) => r.sensor === s && r.instance === 0 && r.edge === 'end'),
          `event frame time of sensor ${s}: ${JSON.stringify(ev)}`,
        );
      assert.ok(ev.some((r) => r.sensor === 11 && r.occupied === true && r.movement === true));
      assert.ok(ev.every((r) => /^[0-9A-F]{6}$/.test(r.value) && typeof r.perfMs === 'number' && /^\d+$/.test(r.hrtimeNs)));
      const lastEvent = ev[ev.length - 1] as Extract<FrameTimeRecord, { frameTime: 'event' }>;

      const sentAt = Date.now();
      await iface.transmit(dapc({ kind: 'group', group: 1 }, 200), 2);
      await until(() => records().some((r) => r.frameTime === 'forward' && r.address === 'G1'), 'the forward frame time');
      const fwd = records().find((r) => r.frameTime === 'forward' && r.address === 'G1') as Extract<
        FrameTimeRecord,
        { frameTime: 'forward' }
      >;
      assert.deepEqual(
        { edge: fwd.edge, bits: fwd.bits, value: fwd.value, sendTwice: fwd.sendTwice, target: fwd.target },
        { edge: 'start', bits: 16, value: '82C8', sendTwice: false, target: { kind: 'group', group: 1 } },
      );
      assert.ok(BigInt(fwd.hrtimeNs) > BigInt(lastEvent.hrtimeNs), 'one monotonic clock for both kinds of line');
      assert.ok(fwd.epochMs >= sentAt - 5 && fwd.epochMs <= Date.now() + 5, `epochMs ${fwd.epochMs} within the transmit`);
      send('state 4');
      await until(() => /gear 4: level 200/.test(out), 'gear 4 at 200');
      send('state 0');
      await until(() => /gear 0: level \d+/.test(out), 'gear 0 state');
      assert.doesNotMatch(out, /gear 0: level 200/, 'the office is not the meeting room');

      // Off: no more lines.
      send('frametimes off');
      await until(() => /frametimes off/.test(out), 'frametimes off');
      const n = records().length;
      await iface.transmit(dapc({ kind: 'group', group: 2 }, 100), 2);
      send('state 6');
      await until(() => /gear 6: level 100/.test(out), 'gear 6 at 100');
      assert.equal(records().length, n, 'no frame-time line while off');

      await iface.close();
      iface = undefined;
      const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
      send('quit');
      assert.equal(await exited, 0);
      await pair.stop();
    });
  });
});
