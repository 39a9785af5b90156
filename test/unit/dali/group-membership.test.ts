import assert from 'node:assert/strict';
import { PortRegistry } from '../../../lib/dali/bus-registry';
import { BusSession } from '../../../lib/dali/bus-session';
import { DaliBus } from '../../../lib/dali/bus/dali-bus';
import { gearCommand } from '../../../lib/dali/codec';
import { GearDirectory } from '../../../lib/dali/gear-diagnostics';
import { GroupMembership, GroupScanError, scanGroupMembership, type MembershipState } from '../../../lib/dali/group-membership';
import { SimulatorInterface } from '../../../lib/dali/interfaces/simulator';
import { GearCommand } from '../../../lib/dali/opcodes';
import { VirtualBus } from '../../../lib/dali/sim/virtual-bus';
import { Dt8Output } from '../../../lib/dali/dt8-output';
import { ZoneMap } from '../../../lib/zones/zone-map';
import { ZoneSender } from '../../../lib/zones/zone-sender';

/** The demo building's gear, with A4 (the meeting room's) also put into G0 at commissioning. */
function building(extra: (bus: VirtualBus) => void = () => undefined): VirtualBus {
  const bus = new VirtualBus();
  for (let a = 0; a < 8; a++) bus.addGear({ shortAddress: a, groups: a < 4 ? [0] : a === 4 ? [0, 1] : a < 6 ? [1] : [2] });
  extra(bus);
  return bus;
}

async function waitFor(ok: () => boolean, what: string, ms = 3000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A session on "real" hardware (no inventory: the bus knows nothing of the groups) that is the simulator. */
/** A DT8 output on the session's bus: no fade, no read-back. */
function output(s: BusSession): Dt8Output {
  return new Dt8Output(() => s.bus, {
    fadeMs: 0,
    curve: 'logarithmic',
    warmestKelvin: 2700,
    coolestKelvin: 6500,
    tcLimitsFrom: 'config',
    verify: false,
  });
}

function session(bus: VirtualBus): { s: BusSession; ifaces: SimulatorInterface[] } {
  const ifaces: SimulatorInterface[] = [];
  const s = new BusSession({
    owner: 'b',
    label: 'bus',
    interface: { type: 'luba', path: '/dev/ttyDALI-membership' },
    registry: new PortRegistry(),
    factory: () => {
      const iface = new SimulatorInterface(bus, { timeScale: 0 });
      ifaces.push(iface);
      return iface;
    },
  });
  return { s, ifaces };
}

describe('dali/group-membership: the groups learned from the gear, trusted only while nothing can have changed them', () => {
  describe('scanGroupMembership', () => {
    it('finds every gear and its groups and teaches the bus all 16 groups', async () => {
      const iface = new SimulatorInterface(building(), { timeScale: 0 });
      const dali = new DaliBus(iface);
      await dali.start();
      assert.equal(dali.members({ kind: 'group', group: 0 }).complete, false, 'nothing known before');
      const scan = await scanGroupMembership(dali);
      assert.equal(scan.gear.size, 8);
      assert.deepEqual(scan.gear.get(4), [0, 1]);
      assert.deepEqual(dali.members({ kind: 'group', group: 0 }), { shorts: [0, 1, 2, 3, 4], complete: true });
      assert.deepEqual(dali.members({ kind: 'group', group: 1 }), { shorts: [4, 5], complete: true });
      assert.deepEqual(dali.members({ kind: 'group', group: 9 }), { shorts: [], complete: true });
      await dali.close();
    });

    it('does not guess: two gear on one short address fail the scan and the bus learns nothing', async () => {
      const bus = building((b) => b.addGear({ shortAddress: 3, groups: [5] }));
      const dali = new DaliBus(new SimulatorInterface(bus, { timeScale: 0 }));
      await dali.start();
      const query = gearCommand({ kind: 'short', address: 3 }, GearCommand.QUERY_GROUPS_0_7);
      let asked = 0;
      bus.on('forward', (ev: { frame: { value: number } }) => {
        if (ev.frame.value === query.value) asked++;
      });
      await assert.rejects(
        scanGroupMembership(dali),
        (e: unknown) => e instanceof GroupScanError && /A3: QUERY GROUPS answered garbled 3 times/.test(e.message),
      );
      assert.equal(asked, 9, 'asked once, then again twice, as the error says; the bus repeats each garbled query twice itself');
      assert.equal(dali.members({ kind: 'group', group: 0 }).complete, false);
      await dali.close();
    });

    it('asks a garbled answer again (one collision is not a duplicate address)', async () => {
      const bus = building();
      const dali = new DaliBus(new SimulatorInterface(bus, { timeScale: 0 }));
      await dali.start();
      bus.corruptNext(1);
      const scan = await scanGroupMembership(dali);
      assert.equal(scan.gear.size, 8);
      await dali.close();
    });
  });

  describe('scans that must not teach the bus', () => {
    it('a scan abandoned during its last batch teaches nothing (what it read may be out of date)', async () => {
      const bus = building((b) => b.addGear({ shortAddress: 63, groups: [5] }));
      const dali = new DaliBus(new SimulatorInterface(bus, { timeScale: 0 }));
      await dali.start();
      let abandoned = false;
      await assert.rejects(
        scanGroupMembership(dali, { aborted: () => abandoned, onGear: (short) => (abandoned ||= short === 63) }),
        (e: unknown) => e instanceof GroupScanError && /abandoned/.test(e.message),
      );
      assert.equal(dali.members({ kind: 'group', group: 0 }).complete, false, 'the bus learned nothing');
      await dali.close();
    });

    it("the diagnostics' own scan does not teach the bus (only GroupMembership, which drops out-of-date scans, does)", async () => {
      const dali = new DaliBus(new SimulatorInterface(building(), { timeScale: 0 }));
      await dali.start();
      const directory = new GearDirectory();
      assert.deepEqual(await directory.members(dali, { kind: 'group', group: 0 }), [0, 1, 2, 3, 4]);
      assert.equal(dali.members({ kind: 'group', group: 0 }).complete, false);
      await dali.close();
    });
  });

  describe('GroupMembership on a bus session', () => {
    it('learns at connect; forgets when unplugged and learns again when the interface is back', async () => {
      const { s, ifaces } = session(building());
      const m = new GroupMembership(s, { rescanMs: 0 });
      const states: MembershipState['kind'][] = [];
      m.on('state', (st: MembershipState) => states.push(st.kind));
      const release = m.use();
      assert.equal(m.known, false);
      assert.equal(m.members(0).complete, false);
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      assert.deepEqual(m.members(0), { shorts: [0, 1, 2, 3, 4], complete: true });
      assert.deepEqual(states, ['waiting', 'scanning', 'known']);
      ifaces[0]?.disconnect();
      await waitFor(() => m.state.kind === 'waiting', 'waiting');
      assert.equal(m.members(0).complete, false, 'not trusted while unplugged, whatever the bus remembers');
      ifaces[0]?.reconnect();
      await waitFor(() => m.known, 'known again');
      assert.deepEqual(states.slice(3), ['waiting', 'scanning', 'known']);
      release();
      assert.equal(m.state.kind, 'idle');
      await s.close();
    });

    it('after a reconnect no group frame goes out before the groups are learned again (gear regrouped while unplugged stays untouched)', async () => {
      const bus = new VirtualBus();
      for (let a = 0; a < 4; a++) bus.addGear({ shortAddress: a, groups: [0] });
      bus.addGear({ shortAddress: 4, groups: [1] });
      const { s, ifaces } = session(bus);
      const m = new GroupMembership(s, { rescanMs: 0 });
      const release = m.use();
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      const map = ZoneMap.parse({ office: { gear: 'G0' }, meeting: { gear: 'A4' } });
      const out = output(s);
      const zones = new ZoneSender(() => map, out, m);
      const sent = await zones.send({ zone: 'office', intensity: 80, cct: 4000, reason: 'test', source: 'manual' });
      assert.equal('address' in sent ? sent.address : '', 'G0');
      const a4Before = bus.gearAt(4)?.snapshot().actualLevel;
      const groupFramesWhileUnknown: number[] = [];
      bus.on('forward', (ev: { frame: { value: number } }) => {
        const a = (ev.frame.value >> 8) & 0xff;
        if ((a & 0x80) !== 0 && a < 0xfc && !m.known) groupFramesWhileUnknown.push(a);
      });
      ifaces[0]?.disconnect();
      await waitFor(() => m.state.kind === 'waiting', 'waiting');
      // Meanwhile a commissioning tool puts A4 (the meeting room's) into G0: we cannot see it.
      const add = gearCommand({ kind: 'short', address: 4 }, GearCommand.ADD_TO_GROUP + 0);
      bus.handleForward(add);
      bus.handleForward(add);
      ifaces[0]?.reconnect();
      await waitFor(() => m.known, 'known again');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(groupFramesWhileUnknown, [], 'no group frame before the membership was learned again');
      assert.equal(bus.gearAt(4)?.snapshot().actualLevel, a4Before, "the meeting room's luminaire kept its level");
      assert.deepEqual(m.members(0).shorts, [0, 1, 2, 3, 4]);
      zones.close();
      release();
      await s.close();
    });

    it('while the membership is not known the bus does not keep the old groups either (its planner cannot merge sends into a stale group)', async () => {
      const bus = building();
      const { s, ifaces } = session(bus);
      const m = new GroupMembership(s, { rescanMs: 0, quietMs: 60_000 });
      const release = m.use();
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      ifaces[0]?.disconnect();
      await waitFor(() => m.state.kind === 'waiting', 'waiting');
      assert.equal(s.bus?.members({ kind: 'group', group: 0 }).complete, false, 'G0 unknown to the bus while unplugged');
      ifaces[0]?.reconnect();
      await waitFor(() => m.known, 'known again');
      assert.equal(s.bus?.members({ kind: 'group', group: 1 }).complete, true);
      const add = gearCommand({ kind: 'short', address: 6 }, GearCommand.ADD_TO_GROUP + 1);
      bus.inject(add);
      bus.inject(add);
      await waitFor(() => !m.known, 'not trusted');
      assert.equal(s.bus?.members({ kind: 'group', group: 1 }).complete, false, 'G1 unknown to the bus after a foreign ADD TO GROUP');
      release();
      await s.close();
    });

    it("one lost answer of a gear the zone map lists is asked again, not taken as 'no gear here' (a group send would reach it)", async () => {
      const bus = new VirtualBus();
      for (let a = 0; a < 4; a++) bus.addGear({ shortAddress: a, groups: [0] });
      bus.addGear({ shortAddress: 4, groups: [0, 1] }); // the meeting room's luminaire, wrongly also in G0
      const query = gearCommand({ kind: 'short', address: 4 }, GearCommand.QUERY_GROUPS_0_7);
      const answer = bus.handleForward.bind(bus);
      let dropped = 0;
      bus.handleForward = (f) => {
        const r = answer(f);
        if (f.bits === 16 && f.value === query.value && dropped === 0) {
          dropped++;
          return { kind: 'none' };
        }
        return r;
      };
      const { s } = session(bus);
      const m = new GroupMembership(s, { rescanMs: 0 });
      const release = m.use({ expected: [4] });
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      assert.equal(dropped, 1);
      assert.deepEqual(m.members(0).shorts, [0, 1, 2, 3, 4], 'A4 found in G0');
      release();
      await s.close();
    });

    it("a zone-map gear that never answers: the other zones' groups go by short address, never as a group", async () => {
      const bus = new VirtualBus();
      for (let a = 0; a < 4; a++) bus.addGear({ shortAddress: a, groups: [0] });
      bus.addGear({ shortAddress: 4, groups: [0, 1] });
      const query = gearCommand({ kind: 'short', address: 4 }, GearCommand.QUERY_GROUPS_0_7);
      const answer = bus.handleForward.bind(bus);
      bus.handleForward = (f) => (f.bits === 16 && f.value === query.value ? (answer(f), { kind: 'none' }) : answer(f));
      const { s } = session(bus);
      const m = new GroupMembership(s, { rescanMs: 0 });
      const release = m.use({ expected: [4] });
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      const map = ZoneMap.parse({ office: { gear: 'G0' }, meeting: { gear: 'A4' } });
      const out = output(s);
      const zones = new ZoneSender(() => map, out, m);
      const a4Before = bus.gearAt(4)?.snapshot().actualLevel;
      const sent = await zones.send({ zone: 'office', intensity: 10, cct: 4000, reason: 'test', source: 'manual' });
      assert.equal('address' in sent ? sent.address : '', 'A0,A1,A2,A3');
      assert.equal(bus.gearAt(4)?.snapshot().actualLevel, a4Before, "the meeting room's luminaire is untouched");
      zones.close();
      release();
      await s.close();
    });

    it("another master's ADD TO GROUP: not trusted at once, learned again after the quiet time (the new member is seen)", async () => {
      const bus = building();
      const { s } = session(bus);
      const m = new GroupMembership(s, { rescanMs: 0, quietMs: 30 });
      const release = m.use();
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      // A commissioning tool adds A6 (the corridor's) to G1: send-twice.
      const add = gearCommand({ kind: 'short', address: 6 }, GearCommand.ADD_TO_GROUP + 1);
      bus.inject(add);
      bus.inject(add);
      await waitFor(() => !m.known, 'not trusted');
      await waitFor(() => m.known, 'learned again');
      assert.deepEqual(m.members(1).shorts, [4, 5, 6]);
      release();
      await s.close();
    });

    it('a failed scan says why (two gear on A7), is retried by itself, and holds nothing as known meanwhile', async () => {
      const bus = building((b) => b.addGear({ shortAddress: 7, groups: [3] }));
      const { s } = session(bus);
      const m = new GroupMembership(s, {
        rescanMs: 0,
        retryMs: 20,
        scan: (dali, aborted) => scanGroupMembership(dali, { aborted }),
      });
      const failures: string[] = [];
      m.on('state', (st: MembershipState) => {
        if (st.kind === 'failed') failures.push(`${st.error} / ${st.retryInMs}`);
      });
      const release = m.use();
      s.acquire('user');
      await waitFor(() => failures.length >= 2, 'two failures');
      assert.match(failures[0] ?? '', /A7: QUERY GROUPS answered garbled .* \/ 20$/);
      assert.match(failures[1] ?? '', / \/ 40$/, 'the wait doubles');
      assert.equal(m.known, false);
      assert.equal(m.members(0).complete, false);
      release();
      await s.close();
    });

    it("a fresh start (redeploy) retries a failed scan after the first wait again, not the last spell's longest", async () => {
      const { s } = session(building());
      const m = new GroupMembership(s, { rescanMs: 0, retryMs: 20, scan: () => Promise.reject(new GroupScanError('A3 did not answer')) });
      const waits: number[] = [];
      m.on('state', (st: MembershipState) => {
        if (st.kind === 'failed') waits.push(st.retryInMs);
      });
      let release = m.use();
      s.acquire('user');
      await waitFor(() => waits.length >= 3, 'three failures');
      release();
      waits.length = 0;
      release = m.use();
      await waitFor(() => waits.length >= 1, 'a failure after the restart');
      assert.equal(waits[0], 20);
      release();
      await s.close();
    });

    it('counts the different zone maps of its users (two maps on one bus is a misconfiguration the nodes report)', async () => {
      const { s } = session(building());
      const m = new GroupMembership(s, { rescanMs: 0 });
      const told: number[] = [];
      m.on('maps', (n: number) => told.push(n));
      const a = m.use({ mapKey: 'office=G0' });
      const b = m.use({ mapKey: 'office=G0' });
      assert.equal(m.zoneMaps, 1, 'the same map twice is fine');
      const c = m.use({ mapKey: 'office=G0,A4' });
      assert.equal(m.zoneMaps, 2);
      c();
      assert.equal(m.zoneMaps, 1);
      assert.deepEqual(told, [1, 2, 1]);
      a();
      b();
      await s.close();
    });

    it('after failures, a scan that succeeds makes the membership known', async () => {
      const { s } = session(building());
      let attempts = 0;
      const m = new GroupMembership(s, {
        rescanMs: 0,
        retryMs: 10,
        scan: (dali, aborted) =>
          ++attempts <= 2 ? Promise.reject(new GroupScanError('A3 did not answer')) : scanGroupMembership(dali, { aborted }),
      });
      const release = m.use();
      s.acquire('user');
      await waitFor(() => m.known, 'known after two failures');
      assert.equal(attempts, 3);
      assert.deepEqual(m.members(0).shorts, [0, 1, 2, 3, 4]);
      release();
      await s.close();
    });

    it('gear that appears later is found by the periodic rescan', async () => {
      const bus = building();
      const { s } = session(bus);
      const m = new GroupMembership(s, { rescanMs: 50 });
      const release = m.use();
      s.acquire('user');
      await waitFor(() => m.known, 'known');
      assert.deepEqual(m.members(2).shorts, [6, 7]);
      bus.addGear({ shortAddress: 20, groups: [2] }); // powered up, grouped elsewhere; no frame of ours sees it
      await waitFor(() => m.members(2).shorts.includes(20), 'the new gear in G2');
      assert.equal(m.known, true, 'a periodic rescan keeps what is known while it runs');
      release();
      await s.close();
    });
  });
});
