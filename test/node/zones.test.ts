/**
 * Zones in the Node-RED runtime, on a simulated bus of three zones (office
 * G0 = A0-3, meeting G1 = A4-5, corridor A6-7): each zone's setpoint
 * reaches only its own gear (read back from the virtual gear), an unknown
 * zone or a broken zone map sends nothing, a group holding another zone's
 * gear is sent around (its other members by short address), a setpoint
 * before the groups are known is held and then sent, diagnostics come per
 * zone, and lsd-sensor-in takes its zone from the map.
 */
import { strict as assert } from 'node:assert';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import type { Dt8Result } from '../../lib/dali/dt8-output';
import { decodeFrame } from '../../lib/dali/codec';
import { percentToArcLevel } from '../../lib/dali/curve';
import {
  countFrames,
  dt8OutNode,
  helper,
  Inbox,
  initCatalogues,
  load,
  nodeById,
  simBus,
  simulation,
  statuses,
  TAB,
  waitFor,
} from './dali-node-helpers';

const ZONES = [
  { zone: 'office-1', gear: 'G0', sensors: '10' },
  { zone: 'meeting-1', gear: 'G1' },
  { zone: 'corridor-1', gear: 'A6-7' },
];

function flow(zones: unknown = ZONES, bus: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    simBus('bus1', { simGear: '0-7', simGroups: '0:0-3; 1:4-5', ...bus }),
    { id: 'zones1', type: 'lighting-zones', name: 'zones', source: 'table', zones },
    dt8OutNode('out', 'bus1', { address: 'BC', zones: 'zones1', wires: [['h1']] }),
    { id: 'c1', type: 'catch', z: 'f1', scope: ['out'], uncaught: false, wires: [['h2']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
  ];
}

const levels = (): number[] => [0, 1, 2, 3, 4, 5, 6, 7].map((a) => simulation().bus.gearAt(a)?.actualLevel ?? -1);
const sp = (zone: string, intensity: number): Record<string, unknown> => ({ zone, intensity, cct: 4000, reason: 'test', source: 'manual' });

describe('zones: dali-dt8-out and lsd-sensor-in with a zone map', function () {
  this.timeout(20000);
  before(initCatalogues);
  afterEach(() => helper.unload());

  it("each zone's setpoint reaches its own gear and no other", async () => {
    await load(flow());
    const results = new Inbox('h1');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    const before = levels();
    nodeById('out').receive({ payload: sp('meeting-1', 30) });
    const r = (await results.next('meeting result')).payload as Dt8Result;
    assert.equal(r.address, 'G1');
    const l30 = percentToArcLevel(30);
    assert.deepEqual(levels(), [...before.slice(0, 4), l30, l30, ...before.slice(6)]);
    nodeById('out').receive({ payload: sp('corridor-1', 10) });
    const c = (await results.next('corridor result')).payload as Dt8Result;
    assert.equal(c.address, 'A6,A7');
    const l10 = percentToArcLevel(10);
    assert.deepEqual(levels(), [...before.slice(0, 4), l30, l30, l10, l10]);
    nodeById('out').receive({ payload: sp('office-1', 60) });
    await results.next('office result');
    const l60 = percentToArcLevel(60);
    assert.deepEqual(levels(), [l60, l60, l60, l60, l30, l30, l10, l10]);
  });

  it('an unknown zone is an error and nothing goes on the bus', async () => {
    await load(flow());
    const errors = new Inbox('h2');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    let forwards = 0;
    simulation().bus.on('forward', () => forwards++);
    const before = levels();
    nodeById('out').receive({ payload: sp('not-office', 5) });
    const err = await errors.next('the error');
    assert.match(String((err.error as { message: string }).message), /unknown zone "not-office": not in the zone map, nothing was sent/);
    assert.equal(forwards, 0);
    assert.deepEqual(levels(), before);
  });

  it("a group holding another zone's gear: sent to the zone's own gear by short address, the other zone's luminaire left out and warned of", async () => {
    // A6 (corridor) was commissioned into G1 (meeting room) by mistake.
    await load(flow(ZONES, { simGroups: '0:0-3; 1:4-6' }));
    const results = new Inbox('h1');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    const before = levels();
    const groupFrames = countFrames(simulation());
    nodeById('out').receive({ payload: sp('meeting-1', 5) });
    const r = (await results.next('the result')).payload as Dt8Result & { excluded?: unknown };
    groupFrames.stop();
    assert.equal(r.address, 'A4,A5');
    assert.deepEqual(r.excluded, [{ address: 'A6', group: 'G1', zones: ['corridor-1'] }]);
    const l5 = percentToArcLevel(5);
    assert.deepEqual(levels(), [...before.slice(0, 4), l5, l5, ...before.slice(6)], 'the corridor luminaire in G1 kept its level');
    const toG1 = groupFrames.frames.filter((f) => {
      if (f.frame.bits !== 16) return false;
      const d = decodeFrame(16, f.frame.value);
      const address = 'address' in d ? d.address : undefined;
      return address?.kind === 'group' && 'group' in address && address.group === 1;
    });
    assert.equal(toG1.length, 0, 'not one frame to G1');
    const spy = nodeById('out').warn as unknown as { getCalls(): { args: unknown[] }[] };
    assert.ok(
      spy.getCalls().some((c) => /Zone meeting-1 was sent to by short address without A6 \(G1, corridor-1\)/.test(String(c.args[0]))),
      'warned of the gear left out',
    );
  });

  it("gear another zone lists that does not answer the scan: warned of by name, and this zone's group goes by short address", async () => {
    // The corridor lists A8, which is not on the bus (missing or broken): its groups are unknown, it may be in G1.
    await load(flow([ZONES[0], ZONES[1], { zone: 'corridor-1', gear: 'A6-8' }]));
    const results = new Inbox('h1');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    const spy = nodeById('out').warn as unknown as { getCalls(): { args: unknown[] }[] };
    const silentWarnings = (): string[] =>
      spy
        .getCalls()
        .map((c) => String(c.args[0]))
        .filter((m) => /did not answer the DALI group scan/.test(m));
    await waitFor(() => silentWarnings().length > 0, 'the warning');
    assert.match(silentWarnings()[0] as string, /: A8 \(corridor-1\)\. Missing, unpowered or broken\?/);
    nodeById('out').receive({ payload: sp('meeting-1', 5) });
    const r = (await results.next('the result')).payload as Dt8Result;
    assert.equal(r.address, 'A4,A5', 'by short address, not to G1');
    const l5 = percentToArcLevel(5);
    assert.deepEqual(levels().slice(4, 6), [l5, l5]);
    assert.equal(silentWarnings().length, 1, 'warned once');
  });

  it('a setpoint right after the deploy is held while the groups are learned (status says so), then sent to the group', async () => {
    await load(flow());
    const results = new Inbox('h1');
    // No waiting for the bus: the very first message.
    nodeById('out').receive({ payload: sp('office-1', 45) });
    await waitFor(
      () =>
        statuses(nodeById('out')).some((st) => st.fill === 'yellow' && /learning the DALI groups: 1 zone\(s\) held/.test(String(st.text))),
      'the learning status',
    );
    const r = (await results.next('the office result', 10000)).payload as Dt8Result;
    assert.equal(r.address, 'G0');
    const l45 = percentToArcLevel(45);
    assert.deepEqual(levels().slice(0, 4), [l45, l45, l45, l45]);
  });

  it('two dali-dt8-out nodes on one bus with different zone maps: both show a red ring, warn, and refuse group zones (one map per bus)', async () => {
    const other = [{ zone: 'office-1', gear: 'G0, A4' }];
    await load([
      ...flow(),
      { id: 'zones2', type: 'lighting-zones', name: 'other zones', source: 'table', zones: other },
      dt8OutNode('out2', 'bus1', { address: 'BC', zones: 'zones2', wires: [] }),
    ]);
    for (const id of ['out', 'out2']) {
      await waitFor(
        () => statuses(nodeById(id)).some((st) => st.fill === 'red' && /2 different zone maps on this DALI bus/.test(String(st.text))),
        `the red ring of ${id}`,
      );
      const spy = nodeById(id).warn as unknown as { getCalls(): { args: unknown[] }[] };
      assert.ok(
        spy.getCalls().some((c) => /route with different zone maps/.test(String(c.args[0]))),
        `${id} warned`,
      );
    }
    // Neither map can check a group against the other map's zones: no group send at all.
    const errors = new Inbox('h2');
    const results = new Inbox('h1');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    const before = levels();
    nodeById('out').receive({ payload: sp('office-1', 5) });
    const err = await errors.next('the refusal', 15000);
    assert.match(
      String((err.error as { message: string }).message),
      /2 different zone maps route on this DALI bus: zone "office-1" uses a group/,
    );
    assert.deepEqual(levels(), before, 'nothing sent');
    // A zone named by short addresses only still goes.
    nodeById('out').receive({ payload: sp('corridor-1', 30) });
    const r = (await results.next('the corridor result', 15000)).payload as Dt8Result;
    assert.equal(r.address, 'A6,A7');
    const l30 = percentToArcLevel(30);
    assert.deepEqual(levels(), [...before.slice(0, 6), l30, l30]);
  });

  it('a zone map that cannot be used refuses every setpoint (fail closed)', async () => {
    await load(
      flow([
        { zone: 'a', gear: 'G0' },
        { zone: 'b', gear: 'G0' },
      ]),
    );
    const errors = new Inbox('h2');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    const before = levels();
    nodeById('out').receive({ payload: sp('a', 5) });
    const err = await errors.next('the error');
    assert.match(String((err.error as { message: string }).message), /group G0 is gear of both "a" and "b"/);
    assert.deepEqual(levels(), before);
  });

  it('diagnostics come as one report per zone', async () => {
    await load(flow());
    const results = new Inbox('h1');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    nodeById('out').receive({ topic: 'diagnostics', payload: '' });
    // Eight gear diagnosed at real DALI timing take several seconds.
    const reports = [
      await results.next('report 1', 15000),
      await results.next('report 2', 15000),
      await results.next('report 3', 15000),
    ].map((m) => m.payload as { zone: string; gear: { address: string }[] });
    assert.deepEqual(
      reports.map((r) => [r.zone, r.gear.map((g) => g.address)]),
      [
        ['office-1', ['A0', 'A1', 'A2', 'A3']],
        ['meeting-1', ['A4', 'A5']],
        ['corridor-1', ['A6', 'A7']],
      ],
    );
  });

  it('lsd-sensor-in takes its zone from the map', async () => {
    await load([
      ...flow(),
      {
        id: 'in',
        type: 'lsd-sensor-in',
        z: 'f1',
        bus: 'bus1',
        zones: 'zones1',
        sensorAddress: '10',
        zone: 'ignored',
        configureAtStart: true,
        pollIntervalS: '0',
        staleAfterS: '300',
        wires: [['h3'], []],
      },
      { id: 'h3', type: 'helper', z: 'f1', wires: [] },
    ]);
    const readings = new Inbox('h3');
    await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
    await waitFor(() => simulation().sensor !== null, 'the sensor');
    simulation().sensor?.setOccupancy(true);
    const m = await readings.next('a reading');
    assert.equal((m.payload as { zone: string }).zone, 'office-1');
  });
});
