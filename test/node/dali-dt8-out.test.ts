/**
 * dali-dt8-out in the Node-RED runtime, on a simulated bus (real DALI
 * timing): setpoints read back from the virtual gear, every class of bad
 * input refused with the catalogue message and nothing sent, fade settings
 * sent only when they change, Tc limits read from the gear, superseded
 * setpoints, diagnostics, and the last setpoint re-applied after the
 * interface comes back.
 */
import { strict as assert } from 'node:assert';
import type { NodeMessage } from 'node-red';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import { dt8Command, dtr0, dtr1, dtr2, enableDeviceType } from '../../lib/dali/codec';
import { Dt8Command, GearCommand } from '../../lib/dali/opcodes';
import type { Dt8Result, DiagnosticsReport } from '../../lib/dali/dt8-output';
import { arcLevelToPercent, percentToArcLevel } from '../../lib/dali/curve';
import {
  countFrames,
  dt8OutNode,
  helper,
  Inbox,
  initCatalogues,
  lastStatus,
  load,
  message,
  nodeById,
  simBus,
  simulation,
  sleep,
  TAB,
  waitFor,
} from './dali-node-helpers';

const SETPOINT = { zone: 'office-1', intensity: 40, cct: 2700, reason: 'test', source: 'rules' };

function flow(out: Record<string, unknown> = {}, bus: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    simBus('bus1', bus),
    dt8OutNode('out', 'bus1', { verify: true, ...out, wires: [['h1']] }),
    { id: 'c1', type: 'catch', z: 'f1', scope: ['out'], uncaught: false, wires: [['h2']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
  ];
}

async function ready(): Promise<{ results: Inbox; errors: Inbox }> {
  const results = new Inbox('h1');
  const errors = new Inbox('h2');
  await waitFor(() => simulation().iface.state === 'connected', 'the simulator to connect');
  return { results, errors };
}

function gear(short: number): { level: number; mirek: number } {
  const g = simulation().bus.gearAt(short);
  assert.ok(g, `gear ${short}`);
  return { level: g.actualLevel, mirek: g.actualMirek };
}

describe('dali-dt8-out node', function () {
  this.timeout(20000);
  before(initCatalogues);
  afterEach(() => helper.unload());

  it('applies a setpoint to a short address and reads it back after the fade', async () => {
    await load(flow());
    const { results } = await ready();
    nodeById('out').receive({ payload: SETPOINT, topic: 'kept' });
    const msg = await results.next('the result');
    const r = msg.payload as Dt8Result;
    assert.equal(msg.topic, 'kept', 'the rest of the message is passed on');
    assert.equal(r.address, 'A1');
    assert.equal(r.level, percentToArcLevel(40));
    assert.equal(r.mirek, 370);
    assert.equal(r.cct, 2703);
    assert.equal(r.zone, 'office-1');
    assert.ok(r.frames >= 7, `frames ${r.frames}`);
    assert.ok(r.busTimeMs > 150, `bus time ${r.busTimeMs}`);
    const intensity = Math.round(arcLevelToPercent(r.level) * 100) / 100;
    assert.deepEqual(r.readback, [{ address: 'A1', level: r.level, intensity, mirek: 370, cct: 2703, matches: true }]);
    assert.equal(r.verified, true);
    assert.deepEqual(gear(1), { level: r.level, mirek: 370 });
    assert.equal(gear(2).level, 254, 'other gear untouched');
  });

  it('drives a group: every member reads back, and it costs the frames of one luminaire', async () => {
    await load(flow({ address: 'G0' }));
    const { results } = await ready();
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 100, cct: 5000 } });
    const g = (await results.next()).payload as Dt8Result;
    assert.equal(g.address, 'G0');
    assert.deepEqual(
      g.readback?.map((x) => [x.address, x.level, x.mirek]),
      [0, 1, 2, 3].map((a) => [`A${a}`, 254, 200]),
    );
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 50, cct: 4000 } });
    const again = (await results.next()).payload as Dt8Result;
    assert.equal(again.frames, 7, 'level + Tc to a group costs the frames of one luminaire');
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 0, cct: 3000 }, address: 'A1' });
    const off = (await results.next()).payload as Dt8Result;
    assert.equal(off.address, 'G0', 'the configured address; msg.address is ignored');
    for (const a of [0, 1, 2, 3]) assert.equal(gear(a).level, 0);
  });

  it('takes the address from flow context or an environment variable', async () => {
    await load(flow({ address: 'lightAddress', addressType: 'flow', verify: false }));
    let { results } = await ready();
    const out = nodeById('out') as ReturnType<typeof nodeById> & { context(): { flow: { set(k: string, v: unknown): void } } };
    out.context().flow.set('lightAddress', 'G0');
    out.receive({ payload: { ...SETPOINT, intensity: 5 } });
    assert.equal(((await results.next()).payload as Dt8Result).address, 'G0');
    await helper.unload();
    process.env.DALI_TEST_ADDRESS = 'A2';
    try {
      await load(flow({ address: 'DALI_TEST_ADDRESS', addressType: 'env', verify: false }));
      ({ results } = await ready());
      nodeById('out').receive({ payload: { ...SETPOINT, intensity: 15 } });
      assert.equal(((await results.next()).payload as Dt8Result).address, 'A2');
      assert.equal(gear(2).level, percentToArcLevel(15));
    } finally {
      delete process.env.DALI_TEST_ADDRESS;
    }
  });

  it('takes the address from a msg property (a number is a short address)', async () => {
    await load(flow({ address: 'address', addressType: 'msg' }));
    const { results } = await ready();
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 10 }, address: 'broadcast' });
    const r = (await results.next()).payload as Dt8Result;
    assert.equal(r.address, 'BC');
    for (const a of [0, 1, 2, 3]) assert.equal(gear(a).level, percentToArcLevel(10));
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 20 }, address: 3 });
    assert.equal(((await results.next()).payload as Dt8Result).address, 'A3');
    assert.equal(gear(3).level, percentToArcLevel(20));
  });

  describe('refuses bad input with the catalogue message, a red ring, and sends nothing', () => {
    const CASES: Array<[string, NodeMessage, string, Record<string, unknown>]> = [
      ['a string payload', { payload: '50' }, 'payload', { value: '"50"' }],
      ['a null payload', { payload: null }, 'payload', { value: 'null' }],
      ['an array payload', { payload: [40, 2700] }, 'payload', { value: 'an array' }],
      ['no zone', { payload: { ...SETPOINT, zone: undefined } }, 'zone', { value: 'nothing' }],
      ['an empty zone', { payload: { ...SETPOINT, zone: ' ' } }, 'zone', { value: '" "' }],
      ['intensity NaN', { payload: { ...SETPOINT, intensity: NaN } }, 'intensity', { value: 'NaN' }],
      ['intensity above 100', { payload: { ...SETPOINT, intensity: 101 } }, 'intensity', { value: '101' }],
      ['intensity below 0', { payload: { ...SETPOINT, intensity: -1 } }, 'intensity', { value: '-1' }],
      ['intensity as a string', { payload: { ...SETPOINT, intensity: '50' } }, 'intensity', { value: '"50"' }],
      ['no intensity', { payload: { ...SETPOINT, intensity: undefined } }, 'intensity', { value: 'nothing' }],
      ['cct Infinity', { payload: { ...SETPOINT, cct: Infinity } }, 'cct', { value: 'Infinity', min: 1000, max: 20000 }],
      ['cct out of range', { payload: { ...SETPOINT, cct: 500 } }, 'cct', { value: '500', min: 1000, max: 20000 }],
      ['cct as an object', { payload: { ...SETPOINT, cct: { k: 2700 } } }, 'cct', { value: 'an object', min: 1000, max: 20000 }],
      ['no reason', { payload: { ...SETPOINT, reason: undefined } }, 'reason', { value: 'nothing' }],
      [
        'an unknown source',
        { payload: { ...SETPOINT, source: 'robot' } },
        'source',
        { value: '"robot"', allowed: 'ai, rules, manual, schedule' },
      ],
      ['a negative fade', { payload: { ...SETPOINT, fadeMs: -1 } }, 'fadeMs', { value: '-1', max: 960000 }],
      ['a fade as text', { payload: { ...SETPOINT, fadeMs: 'slow' } }, 'fadeMs', { value: '"slow"', max: 960000 }],
      ['an unknown address', { payload: SETPOINT, address: 'X9' }, 'address', { value: '"X9"' }],
      ['group 16', { payload: SETPOINT, address: 'G16' }, 'address', { value: '"G16"' }],
      ['short address 64', { payload: SETPOINT, address: 64 }, 'address', { value: '64' }],
      ['no address', { payload: SETPOINT, address: undefined }, 'address', { value: 'nothing' }],
    ];

    it('for every class of bad payload and address', async () => {
      await load(flow({ address: 'address', addressType: 'msg' }));
      const { results, errors } = await ready();
      const sim = simulation();
      const out = nodeById('out');
      const counter = countFrames(sim);
      for (const [what, msg, code, subs] of CASES) {
        const address = 'address' in msg ? {} : { address: 'A1' };
        out.receive({ ...address, ...msg });
        const caught = (await errors.next(what)) as NodeMessage & { error: { message: string; source: { id: string } } };
        assert.equal(caught.error.message, `Error: ${message('dali-dt8-out', `errors.${code}`, subs)}`, what);
        assert.equal(caught.error.source.id, 'out');
        assert.deepEqual(lastStatus(out), { fill: 'red', shape: 'ring', text: message('dali-dt8-out', 'status.invalid') }, what);
      }
      await sleep(100);
      counter.stop();
      assert.equal(counter.frames.length, 0, 'no frame for a refused message');
      assert.equal(results.messages.length, 0, 'no output for a refused message');
      // A good message afterwards works and clears the red status.
      out.receive({ payload: SETPOINT, address: 'A2' });
      assert.equal(((await results.next()).payload as Dt8Result).verified, true);
      assert.equal(lastStatus(out)?.fill, 'green');
    });
  });

  it('sends SET FADE TIME only when the gear has a different fade', async () => {
    await load(flow({ fadeMs: '0', verify: false }));
    const { results } = await ready();
    const sim = simulation();
    const counter = countFrames(sim);
    const fadeCommands = (): number =>
      counter.frames.filter((f) => f.frame.bits === 16 && (f.frame.value & 0xff) === GearCommand.SET_FADE_TIME && f.frame.value >> 8 === 3)
        .length;
    nodeById('out').receive({ payload: { ...SETPOINT, fadeMs: 2000 } });
    const first = (await results.next()).payload as Dt8Result;
    assert.equal(first.fadeMs, 2000);
    assert.equal(fadeCommands(), 1, 'DTR0 4 + SET FADE TIME (sent twice, one command)');
    assert.equal(sim.bus.gearAt(1)?.snapshot().fadeTime, 4);
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 60, fadeMs: 2000 } });
    await results.next();
    assert.equal(fadeCommands(), 1, 'same fade: not sent again');
    nodeById('out').receive({ payload: { ...SETPOINT, intensity: 70 } });
    const third = (await results.next()).payload as Dt8Result;
    assert.equal(third.fadeMs, 0, "the node's default fade");
    assert.equal(fadeCommands(), 2);
    assert.equal(sim.bus.gearAt(1)?.snapshot().fadeTime, 0);
    counter.stop();
  });

  it('clamps to the Tc limits read from the gear', async () => {
    await load(flow({ tcLimitsFrom: 'gear', verify: false }));
    const { results } = await ready();
    const g1 = simulation().bus.gearAt(1);
    assert.ok(g1);
    // Commissioning set the coolest limit of gear 1 to 250 mirek (4000 K).
    for (const f of [dtr0(250), dtr1(0), dtr2(0), enableDeviceType(8)]) g1.handleFrame(f);
    const storeLimit = dt8Command({ kind: 'short', address: 1 }, Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT);
    g1.handleFrame(storeLimit);
    g1.handleFrame(storeLimit);
    assert.equal(g1.snapshot().coolestMirek, 250);
    nodeById('out').receive({ payload: { ...SETPOINT, cct: 6000 } });
    const r = (await results.next()).payload as Dt8Result;
    assert.equal(r.mirek, 250);
    assert.equal(r.cct, 4000);
    assert.deepEqual(r.tcLimits, { coolestKelvin: 4000, warmestKelvin: 1802, source: 'gear' });
  });

  it('reports a setpoint overtaken by a newer one for the same address as superseded', async () => {
    await load(flow({ verify: false }));
    const { results } = await ready();
    const out = nodeById('out');
    for (const intensity of [10, 20, 30, 40]) out.receive({ payload: { ...SETPOINT, intensity } });
    for (let i = 0; i < 4; i++) await results.next(`result ${i}`);
    const r = results.messages.map((m) => m.payload as Dt8Result);
    assert.deepEqual(
      r.map((x) => x.intensity).sort((a, b) => a - b),
      [10, 20, 30, 40],
      'one output per input',
    );
    assert.ok(
      r.some((x) => x.superseded === true),
      'some were superseded while the first was on the bus',
    );
    assert.equal(r.find((x) => x.intensity === 40)?.superseded, undefined, 'the newest is applied');
    assert.equal(r.find((x) => x.intensity === 10)?.superseded, undefined, 'the first went on the bus at once');
    for (const x of r.filter((y) => y.superseded)) assert.equal(x.frames, 0);
    assert.equal(gear(1).level, percentToArcLevel(40));
  });

  it('answers "diagnostics" with one report for every gear of the address', async () => {
    await load(flow({ address: 'G0' }, { simGear: '1-2', simGroups: '0:1-2' }));
    const { results } = await ready();
    simulation().bus.gearAt(2)?.setLampFailure(true);
    nodeById('out').receive({ topic: 'diagnostics', payload: '' });
    const report = (await results.next('the report', 10000)).payload as DiagnosticsReport;
    assert.equal(report.kind, 'diagnostics');
    assert.equal(report.address, 'G0');
    assert.deepEqual(
      report.gear.map((g) => g.address),
      ['A1', 'A2'],
    );
    for (const g of report.gear) {
      assert.equal(g.present, true);
      assert.equal(g.dt8, true);
      assert.deepEqual(g.deviceTypes, [8]);
      assert.equal(g.colourTypeFeatures?.tcCapable, true);
      assert.equal(g.gearFeatures?.autoActivation, false);
      assert.deepEqual(
        [g.tcLimits?.physicalCoolestKelvin, g.tcLimits?.physicalWarmestKelvin, g.tcLimits?.coolestMirek, g.tcLimits?.warmestMirek],
        [6536, 1802, 153, 555],
      );
      assert.equal(g.actualLevel, 254);
      assert.equal(g.intensity, 100);
      assert.deepEqual(g.colourTemperature, { mirek: 250, kelvin: 4000 });
      assert.equal(g.status?.lampFailure, g.address === 'A2');
      assert.equal(g.lampFailure, g.address === 'A2');
      assert.equal(g.status?.lampOn, g.address !== 'A2');
    }
  });

  it('refuses a setpoint while the interface is unplugged, and re-applies the last one when it is back', async () => {
    await load(flow({ verify: false }));
    const { results, errors } = await ready();
    const out = nodeById('out');
    out.receive({ payload: { ...SETPOINT, intensity: 30 } });
    await results.next();
    const sim = simulation();
    sim.iface.disconnect();
    out.receive({ payload: { ...SETPOINT, intensity: 50 } });
    const caught = (await errors.next()) as NodeMessage & { error: { message: string } };
    assert.match(caught.error.message, /not connected/);
    assert.deepEqual(lastStatus(out), { fill: 'red', shape: 'ring', text: message('dali-dt8-out', 'status.busError') });
    // The lamp loses power meanwhile and comes back at its power-on level.
    sim.bus.gearAt(1)?.powerCycle();
    assert.equal(gear(1).level, 254);
    sim.iface.reconnect();
    await waitFor(() => gear(1).level === percentToArcLevel(50) && gear(1).mirek === 370, 'the last setpoint to be sent again');
    await waitFor(() => lastStatus(out)?.fill === 'green', 'a green status');
  });
});
