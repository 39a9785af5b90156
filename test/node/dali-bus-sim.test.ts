/**
 * dali-bus config node, simulator settings for zones: several sensors
 * (simSensors), each with its own scenario, the demo building preset
 * (simScenario "building"), and old flows without simSensors loading as
 * before.
 */
import { strict as assert } from 'node:assert';
import type { Node } from 'node-red';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import { InstanceType } from '../../lib/dali/types';
import {
  dt8OutNode,
  helper,
  initCatalogues,
  load,
  message,
  nodeById,
  session,
  simBus,
  simulation,
  TAB,
  waitFor,
} from './dali-node-helpers';

function out(id: string, bus = 'bus1'): FlowNodeDef {
  return dt8OutNode(id, bus, { verify: false, wires: [[]] });
}

async function openSimulation(flow: FlowNodeDef[]): Promise<void> {
  await load(flow);
  await waitFor(() => session().simulation?.iface.state === 'connected', 'the simulated bus is open');
}

function warningsOf(node: Node): string[] {
  const spy = node.warn as unknown as { getCalls(): Array<{ args: unknown[] }> };
  return spy.getCalls().map((c) => String(c.args[0]));
}

describe('dali-bus config node: simulated sensors and the demo building', function () {
  this.timeout(20000);
  before(initCatalogues);
  afterEach(() => helper.unload());

  it('simSensors puts one sensor per entry on the bus, each with its own scenario; a corridor sensor is presence only', async () => {
    await openSimulation([TAB, simBus('bus1', { simSensors: '10:office; 11:meeting; 12:corridor:5' }), out('o1')]);
    const sim = simulation();
    assert.deepEqual(
      sim.sensors.map((s) => [s.sensor.shortAddress, s.scenario, s.sensor.instanceTypes]),
      [
        [10, 'office', [InstanceType.OccupancySensor, InstanceType.LightSensor]],
        [11, 'meeting', [InstanceType.OccupancySensor, InstanceType.LightSensor]],
        [12, 'corridor', [InstanceType.OccupancySensor]],
      ],
    );
    assert.equal(sim.sensors[2]?.seed, 5);
    const minutes = sim.sensors.map((s) => s.driver.minuteOfDay);
    assert.ok(Math.max(...minutes) - Math.min(...minutes) < 0.01, `one clock: every scenario at the same minute (${minutes.join(', ')})`);
    assert.deepEqual(sim.inventory.shortAddresses, [0, 1, 2, 3], 'gear from simGear');
    assert.deepEqual(warningsOf(nodeById('bus1')), []);
  });

  it('simScenario "building" is the demo building: gear 0-7 in groups 0-2, sensors 10-12 (gear, groups and sensor settings do not apply)', async () => {
    await openSimulation([
      TAB,
      simBus('bus1', { simScenario: 'building', simGear: '0', simGroups: '', simSensor: '20', simSpeed: '60' }),
      out('o1'),
    ]);
    const sim = simulation();
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
    assert.equal((nodeById('bus1') as Node & { settings: { simScenario: string } }).settings.simScenario, 'building');
  });

  it('an old flow without simSensors loads as before: the single sensor with its scenario', async () => {
    const old = simBus('bus1', { simScenario: 'corridor' });
    assert.equal('simSensors' in old, false);
    await openSimulation([TAB, old, out('o1')]);
    const sim = simulation();
    assert.deepEqual(
      sim.sensors.map((s) => [s.sensor.shortAddress, s.scenario, s.sensor.hasLightSensor]),
      [[10, 'corridor', true]],
    );
    assert.equal(sim.sensor?.shortAddress, 10);
    assert.deepEqual(warningsOf(nodeById('bus1')), []);
  });

  it('bad simSensors: a warning naming the setting, and the single sensor instead', async () => {
    await openSimulation([TAB, simBus('bus1', { simSensors: '10:office; 10:meeting' }), out('o1')]);
    assert.deepEqual(
      simulation().sensors.map((s) => [s.sensor.shortAddress, s.scenario]),
      [[10, 'static']],
    );
    const expected = message('dali-bus', 'errors.invalidSetting', {
      name: 'simSensors',
      value: '10:office; 10:meeting',
      fallback: message('dali-bus', 'label.simSensorsFallback'),
    });
    assert.deepEqual(warningsOf(nodeById('bus1')), [expected]);
  });

  it('an unknown simScenario falls back to office with a warning', async () => {
    await openSimulation([TAB, simBus('bus1', { simScenario: 'kitchen' }), out('o1')]);
    assert.deepEqual(
      simulation().sensors.map((s) => s.scenario),
      ['office'],
    );
    assert.ok(
      warningsOf(nodeById('bus1')).some((w) => w.includes('simScenario')),
      warningsOf(nodeById('bus1')).join('; '),
    );
  });

  it('USE_MOCK_DALI=true logs, in words from the catalogue, that the simulator stands in for the configured interface', async () => {
    const saved = process.env.USE_MOCK_DALI;
    process.env.USE_MOCK_DALI = 'true';
    try {
      await openSimulation([TAB, simBus('bus1', { interfaceType: 'luba', port: '/dev/ttyDALI-does-not-exist' }), out('o1')]);
      const spy = nodeById('bus1').log as unknown as { getCalls(): Array<{ args: unknown[] }> };
      const logged = spy.getCalls().map((c) => String(c.args[0]));
      assert.ok(logged.includes(message('dali-bus', 'log.mock', { interfaceType: 'luba' })), logged.join('; '));
    } finally {
      if (saved === undefined) delete process.env.USE_MOCK_DALI;
      else process.env.USE_MOCK_DALI = saved;
    }
  });
});
