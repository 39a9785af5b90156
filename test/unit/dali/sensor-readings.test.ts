import assert from 'node:assert/strict';
import { decodeFrame, eventFrame, type DecodedEvent, type EventSource } from '../../../lib/dali/codec';
import { DaliInputError } from '../../../lib/dali/input-error';
import { calibrateLux, interpretSensorEvent, parseLuxTable, StaleTracker, type StaleEvent } from '../../../lib/dali/sensor-readings';
import { VirtualClock } from '../../../lib/dali/sim/virtual-bus';
import { EventScheme, InstanceType } from '../../../lib/dali/types';
import { mulberry32 } from '../../helpers/prng';

function event(source: EventSource, info: number): DecodedEvent {
  const d = decodeFrame(24, eventFrame(source, info).value);
  assert.equal(d.kind, 'event');
  return d as DecodedEvent;
}

describe('sensor-readings: from sensor events to readings', () => {
  describe('lux calibration', () => {
    it('scale and offset, never below 0, rounded to 0.1 lux', () => {
      assert.equal(calibrateLux(200, { kind: 'linear', scale: 2, offset: -10 }), 390);
      assert.equal(calibrateLux(3, { kind: 'linear', scale: 1.234, offset: 0 }), 3.7);
      assert.equal(calibrateLux(2, { kind: 'linear', scale: 1, offset: -5 }), 0);
      assert.equal(calibrateLux(NaN, { kind: 'linear', scale: 1, offset: 5 }), 0);
    });

    it('a table: linear between points, extrapolated from the end segments', () => {
      const table = {
        kind: 'table' as const,
        points: [
          [0, 0],
          [100, 80],
          [1000, 850],
        ] as Array<[number, number]>,
      };
      assert.equal(calibrateLux(100, table), 80);
      assert.equal(calibrateLux(50, table), 40);
      assert.equal(calibrateLux(550, table), Math.round((80 + (450 * 770) / 900) * 10) / 10);
      assert.equal(calibrateLux(1023, table), Math.round((850 + (23 * 770) / 900) * 10) / 10, 'above the last point');
      const offsetTable = {
        kind: 'table' as const,
        points: [
          [100, 50],
          [200, 150],
        ] as Array<[number, number]>,
      };
      assert.equal(calibrateLux(60, offsetTable), 10, 'extrapolated below the first point');
      assert.equal(calibrateLux(20, offsetTable), 0, 'extrapolated below 0 lux: 0');
    });

    it('a table is monotonic when its points are (seed 77)', () => {
      const rng = mulberry32(77);
      const points: Array<[number, number]> = [[0, 0]];
      for (let i = 1; i < 8; i++) points.push([i * 128, (points[i - 1] as [number, number])[1] + rng() * 200]);
      let last = -1;
      for (let raw = 0; raw <= 1023; raw++) {
        const lux = calibrateLux(raw, { kind: 'table', points });
        assert.ok(lux >= last - 0.1, `seed 77 raw ${raw}: ${lux} < ${last}`);
        last = lux;
      }
    });

    it('parses a JSON table, refusing anything but rising [raw, lux] pairs', () => {
      assert.deepEqual(parseLuxTable('[[0,0],[500,450]]'), [
        [0, 0],
        [500, 450],
      ]);
      assert.equal(parseLuxTable(''), null);
      assert.equal(parseLuxTable(undefined), null);
      for (const bad of ['[[500,450],[0,0]]', '[[0,0]]', '{"a":1}', '[[0,0],[1,"x"]]', '[[0,0],[1,2,3]]', 'nope', 5]) {
        assert.throws(
          () => parseLuxTable(bad),
          (e: unknown) => e instanceof DaliInputError && e.code === 'luxTable',
          String(bad),
        );
      }
    });
  });

  describe('whose event is it', () => {
    const types = new Map([
      [0, InstanceType.OccupancySensor],
      [1, InstanceType.LightSensor],
    ]);

    it('device scheme: short address and instance type in the frame', () => {
      const light = event({ scheme: EventScheme.Device, shortAddress: 10, instanceType: 4 }, 513);
      assert.deepEqual(interpretSensorEvent(light, 10, new Map()), { instanceType: 4, illuminanceRaw: 513 });
      assert.equal(interpretSensorEvent(light, 11, types), null, 'another sensor');
    });

    it('device/instance scheme: the instance number, typed by QUERY INSTANCE TYPE', () => {
      const occ = event({ scheme: EventScheme.DeviceInstance, shortAddress: 10, instanceNumber: 0 }, 0b1011);
      assert.deepEqual(interpretSensorEvent(occ, 10, types), {
        instanceType: 3,
        instanceNumber: 0,
        occupied: true,
        movement: true,
        repeat: false,
      });
      assert.equal(interpretSensorEvent(occ, 10, new Map()), 'unknownInstance');
      const vacant = event({ scheme: EventScheme.DeviceInstance, shortAddress: 10, instanceNumber: 0 }, 0b1000);
      assert.equal((interpretSensorEvent(vacant, 10, types) as { occupied: boolean }).occupied, false);
    });

    it('schemes without a short address are nobody in particular', () => {
      const e = event({ scheme: EventScheme.Instance, instanceType: 4, instanceNumber: 1 }, 100);
      assert.equal(interpretSensorEvent(e, 10, types), null);
      const g = event({ scheme: EventScheme.DeviceGroup, deviceGroup: 2, instanceType: 4 }, 100);
      assert.equal(interpretSensorEvent(g, 10, types), null);
    });
  });

  describe('StaleTracker', () => {
    it('stale once after the silence, recovered with the next sign of life', () => {
      const clock = new VirtualClock({ startMs: 1000 });
      const tracker = new StaleTracker(5000, clock);
      const log: Array<[string, StaleEvent]> = [];
      tracker.on('stale', (e: StaleEvent) => log.push(['stale', e]));
      tracker.on('recovered', (e: StaleEvent) => log.push(['recovered', e]));
      tracker.start();
      clock.advance(3000);
      tracker.seen();
      clock.advance(4999);
      assert.deepEqual(log, [], 'each sign of life restarts the wait');
      clock.advance(1);
      assert.deepEqual(log, [['stale', { lastSeen: 4000, silentMs: 5000 }]]);
      assert.equal(tracker.stale, true);
      clock.advance(20000);
      assert.equal(log.length, 1, 'reported once');
      tracker.seen();
      assert.deepEqual(log[1], ['recovered', { lastSeen: 4000, silentMs: 25000 }]);
      assert.equal(tracker.stale, false);
      clock.advance(5000);
      assert.equal(log.length, 3, 'and can go stale again');
      tracker.stop();
      assert.equal(clock.pending, 0, 'no timer left');
    });

    it('stale from start when nothing ever came (lastSeen null)', () => {
      const clock = new VirtualClock({ startMs: 0 });
      const tracker = new StaleTracker(1000, clock);
      let got: StaleEvent | undefined;
      tracker.on('stale', (e: StaleEvent) => (got = e));
      tracker.start();
      clock.advance(1000);
      assert.deepEqual(got, { lastSeen: null, silentMs: 1000 });
      tracker.stop();
    });
  });
});
