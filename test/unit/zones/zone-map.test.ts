import { strict as assert } from 'node:assert';
import { ZoneMap, ZoneMapError, zoneRatedWatts, type ZoneSpec } from '../../../lib/zones/zone-map';

const BUILDING = [
  { zone: 'office-1', gear: 'G0', sensors: '10', targetLux: 500, fixtureWatts: 36, fixtureCount: 4 },
  { zone: 'meeting-1', gear: 'G1', sensors: ['11', 'meeting-pir'], targetLux: 400 },
  { zone: 'corridor-1', gear: 'A6-7', sensors: [{ address: 12, instance: 0 }], targetLux: 100, warmestKelvin: 2700, coolestKelvin: 4000 },
];

describe('zones/zone-map: the zone map', () => {
  it('reads the table form: gear, sensors, targets and fixtures per zone', () => {
    const map = ZoneMap.parse(BUILDING);
    assert.deepEqual(map.zones(), ['office-1', 'meeting-1', 'corridor-1']);
    assert.deepEqual(map.get('office-1')?.gear, { shorts: [], groups: [0] });
    assert.deepEqual(map.get('corridor-1')?.gear, { shorts: [6, 7], groups: [] });
    assert.deepEqual(map.get('meeting-1')?.daliSensors, [{ address: 11 }]);
    assert.deepEqual(map.get('meeting-1')?.sensorIds, ['meeting-pir']);
    assert.deepEqual(map.rulesOverrides('office-1'), { targetLux: 500, ratedW: 36, fixtureCount: 4 });
    assert.deepEqual(map.rulesOverrides('corridor-1'), { targetLux: 100, warmestKelvin: 2700, coolestKelvin: 4000 });
    assert.deepEqual(map.rulesOverrides('nowhere'), {});
    assert.deepEqual(map.rulesConfig('office-1'), { targetLux: 500 }, 'fixtures are not rules settings');
    assert.equal(zoneRatedWatts(map.get('office-1') as ZoneSpec), 144, '4 luminaires of 36 W');
    assert.equal(zoneRatedWatts({ fixtureWatts: 20 }), 20, 'one luminaire without a count');
    assert.equal(zoneRatedWatts(map.get('corridor-1') as ZoneSpec), undefined, 'no wattage in the map');
    const routing = map.routing();
    assert.equal(routing.usesGroups, true);
    assert.ok(routing.listedShorts.includes(6) && routing.listedShorts.includes(7), 'the corridor lists A6-7');
    assert.equal(ZoneMap.parse(BUILDING).routing().key, routing.key, 'equal maps, equal key');
    assert.notEqual(ZoneMap.parse('{"office-1": "G0"}').routing().key, routing.key);
    assert.equal(ZoneMap.parse('{"a": "A1, A2"}').routing().usesGroups, false);
    assert.deepEqual(
      map.rulesConfig('corridor-1', (k) => Math.min(k, 3500)),
      { targetLux: 100, warmestKelvin: 2700, coolestKelvin: 3500 },
    );
  });

  it("reads the MQTT gateway's short form and the keyed form from JSON text", () => {
    const short = ZoneMap.parse('{"office-1": "G0", "meeting-1": "G1"}');
    assert.deepEqual(short.addressesOf('meeting-1'), [{ kind: 'group', group: 1 }]);
    const keyed = ZoneMap.parse(JSON.stringify({ 'office-1': { gear: 'G0, 9', sensors: [10] } }));
    assert.deepEqual(keyed.addressesOf('office-1'), [
      { kind: 'group', group: 0 },
      { kind: 'short', address: 9 },
    ]);
    assert.equal(keyed.zoneOfSensor(10), 'office-1');
    assert.equal(ZoneMap.parse('').size, 0);
  });

  it('round-trips through its JSON (array) form', () => {
    const map = ZoneMap.parse(BUILDING);
    const again = ZoneMap.parse(JSON.parse(JSON.stringify(map.toJSON())));
    assert.deepEqual(again.specs(), map.specs());
  });

  it('finds the zone of a sensor device, an instance and an HTTP sensor id', () => {
    const map = ZoneMap.parse(BUILDING);
    assert.equal(map.zoneOfSensor(10), 'office-1');
    assert.equal(map.zoneOfSensor(10, 3), 'office-1');
    assert.equal(map.zoneOfSensor(12, 0), 'corridor-1');
    assert.equal(map.zoneOfSensor(12, 1), undefined);
    assert.equal(map.zoneOfSensor(40), undefined);
    assert.deepEqual(map.zonesOfDevice(12), ['corridor-1']);
    assert.equal(map.allowsSensorId('meeting-1', 'meeting-pir'), true);
    assert.equal(map.allowsSensorId('meeting-1', 'intruder'), false, 'a zone listing ids refuses other ids');
    assert.equal(map.allowsSensorId('office-1', 'anything'), true, 'a zone listing no ids accepts any id');
    assert.equal(map.allowsSensorId('not-office', 'anything'), false);
  });

  it('refuses a luminaire, a group or a sensor in two zones', () => {
    assert.throws(
      () => ZoneMap.parse({ a: 'A1-3', b: 'A3' }),
      (e: unknown) => e instanceof ZoneMapError && /short address 3 is gear of both "a" and "b"/.test(e.message),
    );
    assert.throws(() => ZoneMap.parse({ a: 'G1', b: 'G1, 9' }), /group G1 is gear of both "a" and "b"/);
    assert.throws(
      () => ZoneMap.parse({ a: { gear: 'G0', sensors: '10' }, b: { gear: 'G1', sensors: '10' } }),
      /sensor 10 is listed in both/,
    );
    assert.throws(
      () => ZoneMap.parse({ a: { gear: 'G0', sensors: 'pir' }, b: { gear: 'G1', sensors: 'pir' } }),
      /sensor id "pir" is listed in both/,
    );
  });

  it('refuses bad entries with a message naming the zone and field', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /not JSON/],
      [42, /must be an object keyed by zone or an array/],
      [[{ gear: 'G0' }], /entry 1: zone name undefined/],
      [[{ zone: 'a/b', gear: 'G0' }], /zone name "a\/b"/],
      [[{ zone: ' padded', gear: 'G0' }], /without surrounding blanks/],
      [{ a: 'G16' }, /zone "a": gear "G16" is not a gear list/],
      [{ a: '' }, /zone "a": gear is empty/],
      [{ a: { gear: 'G0', targetLux: -1 } }, /zone "a": targetLux -1 must be a number in \[0, 100000\]/],
      [{ a: { gear: 'G0', fixtureCount: 1.5 } }, /fixtureCount 1.5 must be an integer/],
      [{ a: { gear: 'G0', warmestKelvin: 5000, coolestKelvin: 3000 } }, /warmestKelvin 5000 is above coolestKelvin 3000/],
      [{ a: { gear: 'G0', sensors: '64' } }, /sensor address 64 must be 0-63/],
      [{ a: { gear: 'G0', sensors: '10:40' } }, /sensor instance 40 must be 0-31/],
      [
        [
          { zone: 'a', gear: 'G0' },
          { zone: 'a', gear: 'G1' },
        ],
        /zone "a" is listed twice/,
      ],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => ZoneMap.parse(input),
        (e: unknown) => e instanceof ZoneMapError && message.test(e.message),
        `input ${JSON.stringify(input)}`,
      );
    }
  });

  it('refuses object-internal names as zones (__proto__, constructor, prototype)', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      assert.throws(() => ZoneMap.parse(`{"${name}": "G0", "office-1": "G1"}`), new RegExp(`"${name}" cannot be a zone name`));
      assert.throws(() => ZoneMap.parse([{ zone: name, gear: 'G0' }]), /cannot be a zone name/);
    }
    const map = ZoneMap.parse('{"office-1": "G1"}');
    assert.equal(map.has('constructor'), false);
    assert.equal(map.has('toString'), false);
  });

  it('reports gear that two zones reach through group membership the bus knows', () => {
    const map = ZoneMap.parse({ office: 'G0', meeting: 'A4-5' });
    assert.deepEqual(map.groupConflicts(new Map([[0, [0, 1, 2, 3]]])), []);
    const conflicts = map.groupConflicts(new Map([[0, [0, 1, 2, 3, 4]]]));
    assert.equal(conflicts.length, 1);
    assert.match(conflicts[0] as string, /A4 is reached by both/);
    assert.deepEqual(map.shortsOf('office', new Map([[0, [3, 1]]])), [1, 3]);
  });
});
