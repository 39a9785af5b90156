import assert from 'node:assert/strict';
import { DaliInputError } from '../../../lib/dali/input-error';
import {
  CorridorScenario,
  createSimulation,
  parseSimGroups,
  parseUseMockDali,
  SIM_COOLEST_MIREK,
  SIM_WARMEST_MIREK,
  StaticScenario,
} from '../../../lib/dali/sim-config';
import { OfficeDayScenario } from '../../../lib/dali/sim/scenario';
import { VirtualClock } from '../../../lib/dali/sim/virtual-bus';
import { EventScheme } from '../../../lib/dali/types';

describe('sim-config: the simulated bus of a dali-bus', () => {
  it('parses groups as group:addresses entries, members among the simulated gear', () => {
    const gear = [0, 1, 2, 3, 4, 5, 6, 7];
    assert.deepEqual(
      [...parseSimGroups('0:0-3; 1:4-7', gear)],
      [
        [0, [0, 1, 2, 3]],
        [1, [4, 5, 6, 7]],
      ],
    );
    assert.deepEqual([...parseSimGroups(' 2 : 1,3 ;2:5;', gear)], [[2, [1, 3, 5]]]);
    assert.equal(parseSimGroups('', gear).size, 0);
    for (const bad of ['16:0', '0:8', '0-3', 'a:1', '0:1-0']) {
      assert.throws(
        () => parseSimGroups(bad, gear),
        (e: unknown) => e instanceof DaliInputError && e.code === 'simGroups',
        bad,
      );
    }
  });

  it('builds DT8 gear with 1800-6500 K limits and their groups, and a commissioned sensor', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const sim = createSimulation({
      gear: [0, 1, 5],
      groups: new Map([
        [0, [0, 1]],
        [3, [1, 5]],
      ]),
      sensor: 10,
      scenario: 'static',
      speed: 1,
      clock,
    });
    assert.deepEqual(
      sim.bus.gear.map((g) => [g.shortAddress, g.groups, g.isColourGear]),
      [
        [0, [0], true],
        [1, [0, 3], true],
        [5, [3], true],
      ],
    );
    const snap = sim.bus.gearAt(1)?.snapshot();
    assert.equal(snap?.physicalCoolestMirek, SIM_COOLEST_MIREK);
    assert.equal(snap?.physicalWarmestMirek, SIM_WARMEST_MIREK);
    assert.equal(Math.round(1e6 / SIM_COOLEST_MIREK / 100), 65);
    assert.equal(Math.round(1e6 / SIM_WARMEST_MIREK / 100), 18);
    assert.deepEqual(sim.inventory, { shortAddresses: [0, 1, 5], groups: { 0: [0, 1], 3: [1, 5] }, complete: true });
    assert.equal(sim.sensor?.shortAddress, 10);
    assert.equal(sim.sensor?.instanceEnabled(0), true);
    assert.equal(sim.sensor?.eventScheme(1), EventScheme.DeviceInstance);
    assert.equal(sim.iface.kind, 'simulator');
  });

  it('can leave the sensor as delivered (instances disabled, instance scheme), or out', () => {
    const raw = createSimulation({ gear: [0], groups: new Map(), sensor: 3, scenario: 'static', speed: 1, commissionSensor: false });
    assert.equal(raw.sensor?.instanceEnabled(1), false);
    assert.equal(raw.sensor?.eventScheme(1), EventScheme.Instance);
    const none = createSimulation({ gear: [0], groups: new Map(), sensor: null, scenario: 'office', speed: 1 });
    assert.equal(none.sensor, null);
    assert.equal(none.bus.sensors.length, 0);
    none.start();
    none.stop();
  });

  it('drives the sensor with the scenario at the given speed, and stop() leaves no timer', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const sim = createSimulation({ gear: [0], groups: new Map(), sensor: 10, scenario: 'office', speed: 60, startMinute: 12 * 60, clock });
    const events: number[] = [];
    sim.bus.on('frame', (ev: { value: number }) => events.push(ev.value));
    sim.start();
    clock.advance(60_000); // one real minute = one simulated hour at noon
    assert.ok(events.length > 0, 'daylight at noon reaches the sensor');
    assert.ok(clock.pending > 0);
    sim.stop();
    assert.equal(clock.pending, 0);
  });

  it('corridor: short visits with vacant gaps; static: constant light, nobody', () => {
    const corridor = new CorridorScenario({ seed: 7 });
    const visits = corridor.occupancyIntervals();
    assert.ok(visits.length > 50, `${visits.length} visits`);
    const daytime = visits.filter((v) => v.startMin >= 7 * 60 && v.endMin <= 20 * 60);
    assert.ok(daytime.length > visits.length / 2, 'mostly by day');
    assert.ok(
      visits.every((v) => v.endMin - v.startMin <= 12),
      'short visits',
    );
    const occupiedMinutes = visits.reduce((sum, v) => sum + v.endMin - v.startMin, 0);
    assert.ok(occupiedMinutes < 1440 / 3, 'mostly vacant');
    assert.ok(corridor.daylightLux(12 * 60) < new OfficeDayScenario({ seed: 7 }).daylightLux(12 * 60), 'dimmer than an office');
    for (const m of [0, 60, 720, 1000])
      assert.equal(
        corridor.isOccupied(m),
        visits.some((v) => m >= v.startMin && m < v.endMin),
      );
    const still = new StaticScenario(250);
    for (const m of [0, 400, 800, 1300])
      assert.deepEqual(still.sample(m), { minuteOfDay: m, lux: 250, cloudCover: 0, occupied: false, movement: false });
  });

  it('reads USE_MOCK_DALI as the Python service did: true/1/yes/on simulate, false/0/no/off/blank do not, anything else is invalid', () => {
    for (const v of ['true', 'TRUE', ' 1 ', 'yes', 'On']) assert.equal(parseUseMockDali(v), true, v);
    for (const v of [undefined, '', 'false', 'False', '0', 'no', 'off']) assert.equal(parseUseMockDali(v), false, String(v));
    for (const v of ['maybe', '2', 'truee']) assert.equal(parseUseMockDali(v), null, v);
  });
});
