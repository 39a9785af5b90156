import assert from 'node:assert/strict';
import { PortRegistry } from '../../../lib/dali/bus-registry';
import { BusSession } from '../../../lib/dali/bus-session';
import { decodeFrame } from '../../../lib/dali/codec';
import { percentToArcLevel } from '../../../lib/dali/curve';
import { Dt8Output } from '../../../lib/dali/dt8-output';
import { GroupMembership, GroupScanError, scanGroupMembership } from '../../../lib/dali/group-membership';
import { SimulatorInterface } from '../../../lib/dali/interfaces/simulator';
import { VirtualBus, type ForwardEvent } from '../../../lib/dali/sim/virtual-bus';
import { ZoneRoutingError } from '../../../lib/zones/route';
import { ZoneMap } from '../../../lib/zones/zone-map';
import { ZoneSender } from '../../../lib/zones/zone-sender';

const MAP = ZoneMap.parse({ office: 'G0', meeting: 'G1', corridor: 'A6-7' });
const SETTINGS = {
  curve: 'logarithmic',
  fadeMs: 0,
  tcLimitsFrom: 'config',
  coolestKelvin: 6500,
  warmestKelvin: 1800,
  verify: false,
} as const;
const setpoint = (zone: string, intensity: number) => ({ zone, intensity, cct: 4000, reason: 'test', source: 'manual' as const });

async function waitFor(ok: () => boolean, what: string, ms = 3000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A bus on "real" hardware (no inventory) that is the simulator: office A0-3 in G0, meeting room A4-5 in G1,
 * corridor A6-7 in G2; `misplaced`: A4 (a meeting-room luminaire) also in G0.
 */
function rig(
  options: { misplaced?: boolean; duplicate?: boolean; scan?: ConstructorParameters<typeof GroupMembership>[1]; maxHoldMs?: number } = {},
) {
  const bus = new VirtualBus();
  for (let a = 0; a < 8; a++) {
    const groups = a < 4 ? [0] : a < 6 ? [1] : [2];
    bus.addGear({ shortAddress: a, groups: a === 4 && options.misplaced === true ? [0, 1] : groups });
  }
  if (options.duplicate === true) bus.addGear({ shortAddress: 7, groups: [3] });
  const groupFrames: string[] = [];
  const ifaces: SimulatorInterface[] = [];
  bus.on('forward', (ev: ForwardEvent) => {
    if (ev.frame.bits !== 16) return;
    const d = decodeFrame(16, ev.frame.value);
    const address = 'address' in d ? d.address : undefined;
    if (address?.kind === 'group' && 'group' in address) groupFrames.push(`G${address.group}`);
  });
  const session = new BusSession({
    owner: 'b',
    label: 'bus',
    interface: { type: 'luba', path: '/dev/ttyDALI-sender' },
    registry: new PortRegistry(),
    factory: () => {
      const iface = new SimulatorInterface(bus, { timeScale: 0 });
      ifaces.push(iface);
      return iface;
    },
  });
  const membership = new GroupMembership(session, { rescanMs: 0, retryMs: 20, ...options.scan });
  const release = membership.use();
  const output = new Dt8Output(() => session.bus, { ...SETTINGS });
  const held: number[] = [];
  const sender = new ZoneSender(
    () => MAP,
    output,
    membership,
    (n) => held.push(n),
    options.maxHoldMs,
  );
  const level = (a: number): number | undefined => bus.gearAt(a)?.snapshot().actualLevel;
  const stop = async (): Promise<void> => {
    sender.close();
    release();
    await session.close();
  };
  return { bus, session, membership, sender, groupFrames, held, level, stop, ifaces };
}

describe('zones/zone-sender: no group send before the bus knows who is in the group', () => {
  it("mis-commissioned (a meeting-room luminaire in the office's group): the office's first setpoint never reaches it, the office's own gear does", async () => {
    const r = rig({ misplaced: true });
    r.session.acquire('user');
    // Immediately after the start: nothing is known yet.
    const sent = r.sender.send(setpoint('office', 40));
    assert.equal(r.sender.heldCount, 1, 'held, not sent');
    const result = await sent;
    const want = percentToArcLevel(40);
    assert.deepEqual([0, 1, 2, 3].map(r.level), [want, want, want, want], "the office's gear reached the setpoint");
    assert.equal(r.level(4), 254, 'the meeting-room luminaire in G0 kept its power-on level');
    assert.deepEqual(r.groupFrames, [], 'not one frame to a group');
    assert.ok(!('held' in result));
    assert.equal((result as { address: string }).address, 'A0,A1,A2,A3');
    assert.deepEqual((result as { excluded?: unknown }).excluded, [{ address: 'A4', group: 'G0', zones: ['meeting'] }]);
    assert.deepEqual((result as { early?: unknown }).early, ['A0', 'A1', 'A2', 'A3'], 'each sent as soon as the scan had read it');
    // The meeting room leaves its shared luminaire out too (two zones reach it: neither drives it).
    const meeting = await r.sender.send(setpoint('meeting', 70));
    assert.equal((meeting as { address: string }).address, 'A5');
    assert.equal(r.level(4), 254);
    await r.stop();
  });

  it('correctly commissioned: held until known, then one group send with the newest setpoint of each zone', async () => {
    const r = rig();
    r.session.acquire('user');
    const first = r.sender.send(setpoint('office', 20));
    const second = r.sender.send(setpoint('office', 60));
    const corridor = r.sender.send(setpoint('corridor', 30));
    assert.equal(r.sender.heldCount, 1, 'one per zone; the corridor (short addresses) is not held');
    const older = await first;
    assert.deepEqual(older, {
      zone: 'office',
      source: 'manual',
      reason: 'test',
      intensity: 20,
      cct: 4000,
      superseded: true,
      held: true,
      frames: 0,
      busTimeMs: 0,
    });
    const newest = await second;
    assert.equal((newest as { address: string }).address, 'G0');
    assert.deepEqual([0, 1, 2, 3].map(r.level), Array(4).fill(percentToArcLevel(60)));
    assert.ok(r.groupFrames.includes('G0'));
    assert.equal((await corridor).zone, 'corridor');
    assert.deepEqual(r.held, [1, 1, 0], 'held count: 1, the replacement, then flushed');
    await r.stop();
  });

  it('a scan that fails keeps group sends held (never an unchecked group send), the gear it did read gets the setpoint; closing rejects what is held', async () => {
    const r = rig({ duplicate: true });
    r.session.acquire('user');
    const sent = r.sender.send(setpoint('office', 50));
    await waitFor(() => r.membership.state.kind === 'failed', 'the scan failed');
    await new Promise((res) => setTimeout(res, 100)); // a few retries
    assert.equal(r.sender.heldCount, 1);
    assert.deepEqual(r.groupFrames, [], 'no group send');
    // The gear the failing scan did read before A7 (A0-3: G0 alone) got the setpoint by short address.
    assert.deepEqual([0, 1, 2, 3].map(r.level), Array(4).fill(percentToArcLevel(50)));
    await r.stop();
    await assert.rejects(sent, /closed before the group membership was known/);
    assert.deepEqual(r.groupFrames, [], 'nothing sent to the group after the close');
  });

  it("while the scan runs, gear already read as the zone's alone gets the setpoint by short address; never gear another zone reaches", async () => {
    // A scan that stops after A5 until released: the office (A0-3) is read, the rest of the bus is not.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((res) => (release = res));
    const r = rig({
      misplaced: true,
      scan: {
        scan: async (bus, aborted, progress) => {
          const partial = await scanGroupMembership(bus, {
            aborted,
            priority: progress.priority,
            teach: false,
            onGear: (s, g) => s <= 5 && progress.onGear(s, g),
          });
          await gate;
          for (const [g, m] of partial.groups) bus.setGroupMembers(g, m);
          return partial;
        },
      },
    });
    r.session.acquire('user');
    const office = r.sender.send(setpoint('office', 30));
    const meeting = r.sender.send(setpoint('meeting', 80));
    await waitFor(() => r.level(0) === percentToArcLevel(30), 'the office by short address');
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual([0, 1, 2, 3].map(r.level), Array(4).fill(percentToArcLevel(30)));
    assert.equal(r.level(5), percentToArcLevel(80), "A5 is the meeting room's alone");
    assert.equal(r.level(4), 254, 'A4 (in both G0 and G1) gets neither zone early');
    assert.deepEqual(r.groupFrames, []);
    assert.equal(r.sender.heldCount, 2, 'both still held: the scan is not complete');
    release();
    assert.equal(((await office) as { address: string }).address, 'A0,A1,A2,A3');
    assert.equal(((await meeting) as { address: string }).address, 'A5');
    assert.equal(r.level(4), 254);
    await r.stop();
  });

  it('unplugged after the groups were known: held again until they are learned anew', async () => {
    let scans = 0;
    const r = rig({ scan: { scan: (bus, aborted) => (++scans, scanGroupMembership(bus, { aborted })) } });
    r.session.acquire('user');
    await waitFor(() => r.membership.known, 'known');
    r.ifaces[0]?.disconnect();
    await waitFor(() => r.membership.state.kind === 'waiting', 'waiting');
    const sent = r.sender.send(setpoint('meeting', 80));
    assert.equal(r.sender.heldCount, 1);
    r.ifaces[0]?.reconnect();
    const result = await sent;
    assert.equal((result as { address: string }).address, 'G1');
    assert.equal(scans, 2, 'learned again after the reconnect');
    assert.deepEqual([4, 5].map(r.level), [percentToArcLevel(80), percentToArcLevel(80)]);
    await r.stop();
  });

  it('a setpoint held too long (every scan fails) ends with an error and is never sent later', async () => {
    let fail = true;
    const r = rig({
      maxHoldMs: 150,
      scan: {
        retryMs: 20,
        scan: (bus, aborted) => (fail ? Promise.reject(new GroupScanError('A3 did not answer')) : scanGroupMembership(bus, { aborted })),
      },
    });
    r.session.acquire('user');
    await assert.rejects(
      r.sender.send(setpoint('meeting', 90)),
      (e: unknown) =>
        e instanceof ZoneRoutingError &&
        e.code === 'membershipUnknown' &&
        /still not known after 0 s: zone "meeting" was not sent to its group/.test(e.message),
    );
    assert.equal(r.sender.heldCount, 0);
    fail = false;
    await waitFor(() => r.membership.known, 'known at last');
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual([4, 5].map(r.level), [254, 254], 'the expired setpoint was not sent when the groups became known');
    await r.stop();
  });

  it('refuses an unknown zone at once, held or not', async () => {
    const r = rig({ scan: { scan: () => Promise.reject(new GroupScanError('never')) } });
    await assert.rejects(r.sender.send(setpoint('lobby', 50)), (e: unknown) => e instanceof ZoneRoutingError && e.code === 'unknownZone');
    assert.equal(r.sender.heldCount, 0);
    await r.stop();
  });
});
