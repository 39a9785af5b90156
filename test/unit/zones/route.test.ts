import { strict as assert } from 'node:assert';
import { ZoneMap } from '../../../lib/zones/zone-map';
import { zoneAddresses, ZoneRoutingError, type GroupMembers } from '../../../lib/zones/route';

const members =
  (groups: Record<number, number[]>, complete = true): GroupMembers =>
  (g) => ({ shorts: groups[g] ?? [], complete });

describe('zones/route: a zone reaches its own gear only', () => {
  const map = ZoneMap.parse({ 'office-1': 'G0', 'meeting-1': 'G1', 'corridor-1': 'A6-7' });

  it("gives a zone's addresses: its groups, then its short addresses", () => {
    assert.deepEqual(zoneAddresses(map, 'office-1'), [{ kind: 'group', group: 0 }]);
    assert.deepEqual(zoneAddresses(map, 'corridor-1'), [
      { kind: 'short', address: 6 },
      { kind: 'short', address: 7 },
    ]);
  });

  it('refuses a zone that is not in the map (never a default address)', () => {
    assert.throws(
      () => zoneAddresses(map, 'not-office'),
      (e: unknown) => e instanceof ZoneRoutingError && e.code === 'unknownZone' && /unknown zone "not-office"/.test(e.message),
    );
  });

  it("refuses a zone whose group holds another zone's gear, as the bus knows the groups", () => {
    const ok = members({ 0: [0, 1, 2, 3], 1: [4, 5] });
    assert.deepEqual(zoneAddresses(map, 'meeting-1', ok), [{ kind: 'group', group: 1 }]);
    // A6 (the corridor's) was commissioned into G1 by mistake: a meeting-room setpoint would light the corridor.
    const wrong = members({ 0: [0, 1, 2, 3], 1: [4, 5, 6] });
    assert.throws(
      () => zoneAddresses(map, 'meeting-1', wrong),
      (e: unknown) =>
        e instanceof ZoneRoutingError &&
        e.code === 'sharedGear' &&
        /group G1 of zone "meeting-1" reaches A6, gear of zone "corridor-1" too/.test(e.message),
    );
    // ... and gear in two zones' groups.
    const both = members({ 0: [0, 1, 2, 3], 1: [3, 4, 5] });
    assert.throws(() => zoneAddresses(map, 'meeting-1', both), /reaches A3, gear of zone "office-1" too/);
    assert.deepEqual(zoneAddresses(map, 'corridor-1', both).length, 2, 'a zone addressed by short addresses is not affected');
    // A luminaire no zone lists, in both zones' groups: both are refused, whatever the map's order.
    const two = ZoneMap.parse({ a: 'G0', b: 'G1' });
    const overlap = members({ 0: [0, 1, 9], 1: [2, 3, 9] });
    assert.throws(() => zoneAddresses(two, 'a', overlap), /zone "a" reaches A9, gear of zone "b" too/);
    assert.throws(() => zoneAddresses(two, 'b', overlap), /zone "b" reaches A9, gear of zone "a" too/);
  });

  it('does not guess: a group whose membership the bus does not know is not refused', () => {
    // An unknown group lists every known gear (incomplete): that is no evidence of sharing.
    const unknown = members({ 1: [0, 1, 2, 3, 4, 5, 6, 7] }, false);
    assert.deepEqual(zoneAddresses(map, 'meeting-1', unknown), [{ kind: 'group', group: 1 }]);
  });
});
