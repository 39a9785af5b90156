import assert from 'node:assert/strict';
import { decodeFrame, type DecodedEvent } from '../../../lib/dali/codec';
import { DaliInputError } from '../../../lib/dali/input-error';
import { createSimulation, parseSimSensors } from '../../../lib/dali/sim-config';
import { DEMO_BUILDING, DEMO_BUILDING_ZONES, demoBuildingSpec } from '../../../lib/dali/sim/building';
import { MeetingRoomScenario } from '../../../lib/dali/sim/meeting-room';
import { CorridorScenario } from '../../../lib/dali/sim-config';
import { OfficeDayScenario } from '../../../lib/dali/sim/scenario';
import { VirtualClock } from '../../../lib/dali/sim/virtual-bus';
import { ZoneMap } from '../../../lib/zones/zone-map';
import { InstanceType } from '../../../lib/dali/types';

describe('sim-config: several sensors, each with its own scenario', () => {
  it('parses address:scenario[:seed] entries', () => {
    assert.deepEqual(parseSimSensors('10:office; 11:meeting; 12:corridor'), [
      { address: 10, scenario: 'office' },
      { address: 11, scenario: 'meeting' },
      { address: 12, scenario: 'corridor' },
    ]);
    assert.deepEqual(parseSimSensors(' 0 : Static ;63:office:42;'), [
      { address: 0, scenario: 'static' },
      { address: 63, scenario: 'office', seed: 42 },
    ]);
    assert.deepEqual(parseSimSensors(''), []);
    assert.deepEqual(parseSimSensors('  ; '), []);
  });

  it('refuses bad entries with a DaliInputError that names the entry', () => {
    const cases: [unknown, RegExp][] = [
      ['10', /"10" is not address:scenario/],
      ['10:office 11:meeting', /is not address:scenario/],
      ['64:office', /"64:office" has an address outside 0-63/],
      ['10:kitchen', /"10:kitchen" names an unknown scenario \(use office, meeting, corridor, static\)/],
      ['10:office; 10:meeting', /"10:meeting" repeats address 10/],
      ['10:office:x', /is not address:scenario/],
      ['10:office:9999999999', /has a seed above 4294967295/],
      [10, /is not text/],
      [null, /is not text/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseSimSensors(input),
        (e: unknown) => e instanceof DaliInputError && e.code === 'simSensors' && message.test(e.message),
        String(input),
      );
    }
  });

  it('each sensor follows its own scenario on one clock; the corridor sensor is presence only', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const sim = createSimulation({
      gear: [0, 1],
      groups: new Map(),
      sensor: 5, // ignored: sensors is given
      scenario: 'static',
      sensors: parseSimSensors('10:office:3; 11:meeting:3; 12:corridor:3'),
      speed: 60,
      startMinute: 7 * 60,
      clock,
    });
    assert.deepEqual(
      sim.sensors.map((s) => [s.sensor.shortAddress, s.scenario, s.seed, s.sensor.instanceTypes]),
      [
        [10, 'office', 3, [InstanceType.OccupancySensor, InstanceType.LightSensor]],
        [11, 'meeting', 3, [InstanceType.OccupancySensor, InstanceType.LightSensor]],
        [12, 'corridor', 3, [InstanceType.OccupancySensor]],
      ],
    );
    assert.equal(sim.sensor, sim.sensors[0]?.sensor, 'sensor = the first one');
    const models = [new OfficeDayScenario({ seed: 3 }), new MeetingRoomScenario({ seed: 3 }), new CorridorScenario({ seed: 3 })];
    const events: DecodedEvent[] = [];
    const typeOf = (short: number, n: number): number | undefined =>
      sim.bus.sensors.find((s) => s.shortAddress === short)?.instanceTypes[n];
    sim.bus.on('frame', (ev: { bits: number; value: number }) => {
      if (ev.bits !== 24) return;
      const d = decodeFrame(24, ev.value, { instanceTypeOf: typeOf });
      if (d.kind === 'event') events.push(d);
    });
    sim.start();
    const disagreements = [0, 0, 0];
    let differ = 0;
    // 7:00 to 19:00, sampled every simulated 5 minutes (5 s of clock time at speed 60).
    for (let minute = 7 * 60; minute < 19 * 60; minute += 5) {
      clock.advance(5_000);
      const now = minute + 5;
      sim.sensors.forEach((s, i) => {
        if (s.sensor.isOccupied !== (models[i] as OfficeDayScenario).isOccupied(now)) disagreements[i]++;
      });
      const occ = sim.sensors.map((s) => s.sensor.isOccupied);
      if (new Set(occ).size > 1) differ++;
    }
    sim.stop();
    assert.equal(clock.pending, 0, 'stop() leaves no timer');
    assert.deepEqual(disagreements, [0, 0, 0], 'every sensor shows its own scenario');
    assert.ok(differ > 10, `the three rooms differ (${differ} samples)`);
    const bySensor = (a: number): DecodedEvent[] => events.filter((e) => e.shortAddress === a);
    assert.ok(
      bySensor(10).some((e) => e.illuminanceRaw !== undefined),
      'office reports daylight',
    );
    assert.ok(
      bySensor(11).some((e) => e.illuminanceRaw !== undefined),
      'meeting room reports daylight',
    );
    assert.deepEqual(
      bySensor(12).filter((e) => e.illuminanceRaw !== undefined),
      [],
      'corridor: no light events',
    );
    for (const a of [10, 11, 12]) {
      assert.ok(
        bySensor(a).some((e) => e.occupancy?.occupied === true),
        `sensor ${a} reports presence`,
      );
      assert.ok(
        bySensor(a).some((e) => e.occupancy?.occupied === false),
        `sensor ${a} reports absence`,
      );
    }
  });

  it('default seeds are the simulation seed + the position in the list; light can be set per sensor', () => {
    const sim = createSimulation({
      gear: [],
      groups: new Map(),
      sensor: null,
      scenario: 'office',
      sensors: [
        { address: 1, scenario: 'office' },
        { address: 2, scenario: 'corridor', light: true },
        { address: 3, scenario: 'office', light: false },
      ],
      seed: 10,
      speed: 1,
      startMinute: 0,
      clock: new VirtualClock(),
    });
    assert.deepEqual(
      sim.sensors.map((s) => [s.seed, s.sensor.hasLightSensor]),
      [
        [10, true],
        [11, true],
        [12, false],
      ],
    );
  });

  it('without sensors the single sensor and scenario work as before', () => {
    const sim = createSimulation({
      gear: [0],
      groups: new Map(),
      sensor: 10,
      scenario: 'corridor',
      speed: 1,
      startMinute: 0,
      clock: new VirtualClock(),
      sensors: [],
    });
    assert.equal(sim.sensors.length, 1);
    assert.equal(sim.sensor?.shortAddress, 10);
    assert.equal(sim.sensor?.hasLightSensor, true, 'the single sensor keeps its light instance');
    const none = createSimulation({ gear: [0], groups: new Map(), sensor: null, scenario: 'office', speed: 1, clock: new VirtualClock() });
    assert.equal(none.sensor, null);
    assert.deepEqual(none.sensors, []);
  });
});

describe('sim/building: the demo building', () => {
  it('is gear 0-7 in groups 0-2 with sensors 10-12, and its zone map parses with the same gear and sensors', () => {
    const sim = createSimulation(demoBuildingSpec({ speed: 1, startMinute: 0, clock: new VirtualClock() }));
    assert.deepEqual(sim.inventory.shortAddresses, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(sim.inventory.groups, { 0: [0, 1, 2, 3], 1: [4, 5], 2: [6, 7] });
    assert.deepEqual(
      sim.sensors.map((s) => [s.sensor.shortAddress, s.scenario, s.sensor.hasLightSensor]),
      [
        [10, 'office', true],
        [11, 'meeting', true],
        [12, 'corridor', false],
      ],
    );
    const map = ZoneMap.parse(DEMO_BUILDING_ZONES);
    assert.deepEqual(map.zones(), ['office-1', 'meeting-1', 'corridor-1']);
    const members = new Map(Object.entries(sim.inventory.groups).map(([g, m]) => [Number(g), m]));
    assert.deepEqual(map.shortsOf('office-1', members), [0, 1, 2, 3]);
    assert.deepEqual(map.shortsOf('meeting-1', members), [4, 5]);
    assert.deepEqual(map.shortsOf('corridor-1', members), [6, 7]);
    assert.deepEqual(map.groupConflicts(members), []);
    assert.equal(map.zoneOfSensor(10, 0), 'office-1');
    assert.equal(map.zoneOfSensor(11, 1), 'meeting-1');
    assert.equal(map.zoneOfSensor(12, 0), 'corridor-1');
    // Fixture counts match the gear of each zone.
    for (const z of DEMO_BUILDING_ZONES) assert.equal(z.fixtureCount, map.shortsOf(z.zone, members).length, z.zone);
    assert.equal(map.get('corridor-1')?.targetLux, 100);
    // The JSON form (what a flow stores) parses to the same map.
    assert.deepEqual(ZoneMap.parse(JSON.stringify(DEMO_BUILDING_ZONES)).toJSON(), map.toJSON());
    assert.ok(Object.isFrozen(DEMO_BUILDING) && Object.isFrozen(DEMO_BUILDING_ZONES) && Object.isFrozen(DEMO_BUILDING_ZONES[0]));
  });
});
