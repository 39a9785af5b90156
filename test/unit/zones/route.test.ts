import { strict as assert } from 'node:assert';
import { ZoneMap } from '../../../lib/zones/zone-map';
import { zoneAddresses, zoneRoute, ZoneRoutingError, type GroupMembers } from '../../../lib/zones/route';
import type { GearAddress } from '../../../lib/dali/types';

const members =
  (groups: Record<number, number[]>, complete = true): GroupMembers =>
  (g) => ({ shorts: groups[g] ?? [], complete });
const short = (address: number): GearAddress => ({ kind: 'short', address });

describe('zones/route: a zone reaches its own gear only', () => {
  const map = ZoneMap.parse({ 'office-1': 'G0', 'meeting-1': 'G1', 'corridor-1': 'A6-7' });

  it("gives a zone's addresses: its groups, then its short addresses", () => {
    assert.deepEqual(zoneAddresses(map, 'office-1'), [{ kind: 'group', group: 0 }]);
    assert.deepEqual(zoneAddresses(map, 'corridor-1'), [short(6), short(7)]);
  });

  it("another zone's luminaire that did not answer the scan may be in any group: the zone's groups go by short address", () => {
    const known = members({ 0: [0, 1, 2, 3], 1: [4, 5] });
    // A6 (the corridor's) answered; all of the corridor's gear answered: G0 is sent as a group.
    assert.deepEqual(zoneAddresses(map, 'office-1', known, { answered: new Set([0, 1, 2, 3, 4, 5, 6, 7]) }), [{ kind: 'group', group: 0 }]);
    // A7 did not answer (its answer was lost, or it was off): it may be in G0 for all we know.
    assert.deepEqual(zoneAddresses(map, 'office-1', known, { answered: new Set([0, 1, 2, 3, 4, 5, 6]) }), [
      short(0),
      short(1),
      short(2),
      short(3),
    ]);
  });

  it('refuses a zone that is not in the map (never a default address)', () => {
    assert.throws(
      () => zoneAddresses(map, 'not-office'),
      (e: unknown) => e instanceof ZoneRoutingError && e.code === 'unknownZone' && /unknown zone "not-office"/.test(e.message),
    );
  });

  it("sends around gear that another zone reaches too: the group's other members by short address, the shared gear left out", () => {
    const ok = members({ 0: [0, 1, 2, 3], 1: [4, 5] });
    assert.deepEqual(zoneRoute(map, 'meeting-1', ok), { addresses: [{ kind: 'group', group: 1 }], excluded: [] });
    // A6 (the corridor's) was commissioned into G1 by mistake: a G1 send would light the corridor.
    const wrong = members({ 0: [0, 1, 2, 3], 1: [4, 5, 6] });
    assert.deepEqual(zoneRoute(map, 'meeting-1', wrong), {
      addresses: [short(4), short(5)],
      excluded: [{ short: 6, group: 1, zones: ['corridor-1'] }],
    });
    assert.deepEqual(zoneAddresses(map, 'corridor-1', wrong), [short(6), short(7)], "the corridor's own short addresses stay its own");
    // A luminaire in two zones' groups: neither zone drives it, whatever the map's order.
    const both = members({ 0: [0, 1, 2, 3], 1: [3, 4, 5] });
    assert.deepEqual(zoneAddresses(map, 'meeting-1', both), [short(4), short(5)]);
    assert.deepEqual(zoneAddresses(map, 'office-1', both), [short(0), short(1), short(2)]);
    assert.deepEqual(zoneRoute(map, 'office-1', both).excluded, [{ short: 3, group: 0, zones: ['meeting-1'] }]);
    const two = ZoneMap.parse({ a: 'G0', b: 'G1' });
    const overlap = members({ 0: [0, 1, 9], 1: [2, 3, 9] });
    assert.deepEqual(zoneAddresses(two, 'a', overlap), [short(0), short(1)]);
    assert.deepEqual(zoneAddresses(two, 'b', overlap), [short(2), short(3)]);
  });

  it('refuses a zone none of whose gear is its own alone', () => {
    const two = ZoneMap.parse({ a: 'G0', b: 'G1' });
    assert.throws(
      () => zoneAddresses(two, 'a', members({ 0: [9], 1: [2, 9] })),
      (e: unknown) =>
        e instanceof ZoneRoutingError &&
        e.code === 'sharedGear' &&
        /every luminaire of zone "a" is reached by another zone too \(group G0 holds A9, gear of zone "b"\)/.test(e.message),
    );
  });

  it('never sends to a group whose membership is not known: membershipUnknown (the caller holds the setpoint)', () => {
    const unknown = members({ 1: [0, 1, 2, 3, 4, 5, 6, 7] }, false);
    assert.throws(
      () => zoneAddresses(map, 'meeting-1', unknown),
      (e: unknown) => e instanceof ZoneRoutingError && e.code === 'membershipUnknown' && /group G0 are not known yet/.test(e.message),
    );
    // One unknown group of another zone is enough: gear of this zone's group may sit in it.
    const half = (g: number) => (g === 0 ? { shorts: [0, 1, 2, 3], complete: false } : { shorts: g === 1 ? [4, 5] : [], complete: true });
    assert.throws(() => zoneAddresses(map, 'meeting-1', half), /group G0 are not known yet/);
    // A zone of short addresses only is never held; diagnostics (requireKnown false) do not wait either.
    assert.deepEqual(zoneAddresses(map, 'corridor-1', unknown), [short(6), short(7)]);
    assert.deepEqual(zoneAddresses(map, 'meeting-1', unknown, { requireKnown: false }), [{ kind: 'group', group: 1 }]);
  });
});
