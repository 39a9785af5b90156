/**
 * lsd-sensor-in in the Node-RED runtime on a simulated bus: light and
 * occupancy events become calibrated readings, the sensor is configured at
 * start, polling answers, a silent sensor goes stale and recovers, another
 * master's commands to the zone's gear become manualChange alerts, and a
 * missing sensor says so.
 */
import { strict as assert } from 'node:assert';
import type { NodeMessage } from 'node-red';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import { dapc, dt8Command, dtr0, dtr1, enableDeviceType, gearCommand } from '../../lib/dali/codec';
import { DeviceCommand, Dt8Command, GearCommand } from '../../lib/dali/opcodes';
import type { ManualChange, SensorReading, SensorStaleEvent } from '../../lib/contracts';
import type { ReadingDetail } from '../../lib/dali/sensor-input';
import { EventScheme } from '../../lib/dali/types';
import {
  helper,
  Inbox,
  initCatalogues,
  lastStatus,
  load,
  message,
  nodeById,
  sensorInNode,
  simBus,
  simulation,
  sleep,
  TAB,
  waitFor,
} from './dali-node-helpers';

function flow(sensor: Record<string, unknown> = {}, bus: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    simBus('bus1', bus),
    sensorInNode('in', 'bus1', { zoneGear: 'A0-1,G1', ...sensor, wires: [['readings'], ['alerts']] }),
    { id: 'readings', type: 'helper', z: 'f1', wires: [] },
    { id: 'alerts', type: 'helper', z: 'f1', wires: [] },
  ];
}

type ReadingMsg = NodeMessage & { payload: SensorReading; dali: ReadingDetail };

/** Loads the flow, stops the scenario (the test moves the sensor itself) and waits until the sensor is set up. */
async function start(sensor: Record<string, unknown> = {}): Promise<{ readings: Inbox; alerts: Inbox }> {
  await load(flow(sensor));
  const readings = new Inbox('readings');
  const alerts = new Inbox('alerts');
  await waitFor(() => simulation().iface.state === 'connected', 'the simulator');
  simulation().stop();
  await sleep(600); // setup: 5 commands (4 sent twice) and 3 queries on a real-time bus
  readings.messages.length = 0;
  return { readings, alerts };
}

describe('lsd-sensor-in node', function () {
  this.timeout(20000);
  before(initCatalogues);
  afterEach(() => helper.unload());

  it('turns light and occupancy events into readings, lux calibrated by scale and offset', async () => {
    const { readings } = await start({ luxScale: '2', luxOffset: '-10' });
    const sensor = simulation().sensor;
    assert.ok(sensor);
    sensor.setIlluminanceRaw(200);
    const light = (await readings.next('a light reading')) as ReadingMsg;
    assert.equal(light.topic, 'office-1');
    assert.equal(typeof light.payload.ts, 'number');
    assert.deepEqual({ ...light.payload, ts: 0 }, { sensorId: 'dali-10', zone: 'office-1', ts: 0, lux: 390, source: 'dali' });
    assert.equal(light.dali.illuminanceRaw, 200);
    assert.equal(light.dali.instanceType, 4);
    assert.equal(light.dali.polled, false);
    sensor.setOccupancy(true, true);
    const occupied = (await readings.next('an occupancy reading')) as ReadingMsg;
    assert.deepEqual({ ...occupied.payload, ts: 0 }, { sensorId: 'dali-10', zone: 'office-1', ts: 0, presence: true, source: 'dali' });
    assert.equal(occupied.dali.movement, true);
    sensor.setOccupancy(false, false);
    assert.equal(((await readings.next('vacant')) as ReadingMsg).payload.presence, false);
  });

  it('calibrates with a lux table, interpolating between points', async () => {
    const { readings } = await start({ luxTable: '[[0, 0], [100, 80], [1000, 850]]', sensorId: 'hall-east' });
    simulation().sensor?.setIlluminanceRaw(200);
    const r = (await readings.next()) as ReadingMsg;
    const expected = Math.round((80 + ((200 - 100) * (850 - 80)) / (1000 - 100)) * 10) / 10;
    assert.equal(r.payload.lux, expected);
    assert.equal(r.payload.sensorId, 'hall-east');
  });

  it('configures an out-of-the-box sensor with the chosen event scheme each time the bus connects', async () => {
    const { readings } = await start({ eventScheme: 'device' });
    const sim = simulation();
    const sensor = sim.sensor;
    assert.ok(sensor);
    assert.equal(sensor.eventScheme(1), EventScheme.Device);
    // Back to factory settings (RESET, sent twice): instances disabled, instance scheme, no events.
    const reset = { bits: 24 as const, value: (21 << 16) | (0xfe << 8) | DeviceCommand.RESET };
    sensor.handleFrame(reset);
    sensor.handleFrame(reset);
    assert.equal(sensor.instanceEnabled(1), false);
    assert.equal(sensor.eventScheme(1), EventScheme.Instance);
    sensor.setIlluminanceRaw(123);
    await sleep(100);
    assert.equal(readings.messages.length, 0, 'a sensor out of the box sends nothing');
    // The interface is unplugged and plugged in again: the node sets the sensor up again.
    sim.iface.disconnect();
    sim.iface.reconnect();
    await waitFor(
      () => sensor.instanceEnabled(0) && sensor.instanceEnabled(1) && sensor.eventScheme(0) === EventScheme.Device,
      'the setup',
    );
    sensor.setIlluminanceRaw(321);
    const r = (await readings.next('a device-scheme light event')) as ReadingMsg;
    assert.equal(r.dali.illuminanceRaw, 321);
    assert.equal(r.dali.frame?.slice(0, 2), '14', 'device scheme: short address 10 in bits 22..17, bit 15 clear');
  });

  it('polls QUERY INPUT VALUE as a fallback', async () => {
    const { readings } = await start({ pollIntervalS: '0.3', configureAtStart: false });
    const sensor = simulation().sensor;
    assert.ok(sensor);
    // Quiet the events: the poll must still read the values.
    sensor.handleFrame({ bits: 24, value: (21 << 16) | (0xff << 8) | 0x63, sendTwice: true });
    sensor.handleFrame({ bits: 24, value: (21 << 16) | (0xff << 8) | 0x63, sendTwice: true });
    assert.equal(sensor.instanceEnabled(1), false);
    sensor.setIlluminanceRaw(513);
    sensor.setOccupancy(true, false);
    await waitFor(
      () => readings.messages.some((m) => (m as ReadingMsg).dali.polled && (m as ReadingMsg).payload.presence === true),
      'a poll',
    );
    const polled = readings.messages.find(
      (m) => (m as ReadingMsg).dali.polled && (m as ReadingMsg).payload.presence === true,
    ) as ReadingMsg;
    assert.equal(polled.dali.illuminanceRaw, 513);
    assert.equal(polled.payload.lux, 1026);
    assert.ok(
      readings.messages.every((m) => (m as ReadingMsg).dali.polled),
      'no events from disabled instances',
    );
  });

  it('goes stale when nothing arrives, and recovers with the next reading', async () => {
    const { readings, alerts } = await start({ staleAfterS: '1' });
    const node = nodeById('in');
    const stale = (await alerts.next('stale', 4000)) as NodeMessage & { payload: SensorStaleEvent };
    assert.equal(stale.topic, 'stale');
    assert.equal(stale.payload.kind, 'stale');
    assert.equal(stale.payload.sensorId, 'dali-10');
    assert.equal(stale.payload.zone, 'office-1');
    assert.ok(stale.payload.silentS >= 1, `silent ${stale.payload.silentS} s`);
    assert.equal(lastStatus(node)?.fill, 'yellow');
    assert.equal(lastStatus(node)?.text, message('lsd-sensor-in', 'status.stale', { seconds: Math.round(stale.payload.silentS) }));
    simulation().sensor?.setIlluminanceRaw(400);
    await readings.next('a reading');
    const back = (await alerts.next('recovered')) as NodeMessage & { payload: SensorStaleEvent };
    assert.equal(back.payload.kind, 'recovered');
    assert.equal(lastStatus(node)?.fill, 'green', 'the bus status again');
  });

  it("reports another master's commands to the zone gear as manualChange", async () => {
    const { alerts } = await start();
    const bus = simulation().bus;
    bus.inject(dapc({ kind: 'short', address: 1 }, 200));
    const m1 = (await alerts.next('a DAPC')) as NodeMessage & { payload: ManualChange };
    assert.equal(m1.topic, 'manualChange');
    assert.equal(m1.payload.kind, 'manualChange');
    assert.equal(m1.payload.zone, 'office-1');
    assert.equal(m1.payload.address, 'A1');
    assert.deepEqual(m1.payload.commands, ['DAPC']);
    assert.equal(m1.payload.level, 200);
    assert.equal(bus.gearAt(1)?.actualLevel, 200, 'the wall panel did change the gear');
    // Not the zone's gear: nothing.
    bus.inject(dapc({ kind: 'short', address: 3 }, 100));
    // A colour + level press to group 0 (which holds A0 and A1): one change with both.
    for (const f of [
      dtr0(370 & 0xff),
      dtr1(370 >> 8),
      enableDeviceType(8),
      dt8Command({ kind: 'group', group: 0 }, Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
      enableDeviceType(8),
      dt8Command({ kind: 'group', group: 0 }, Dt8Command.ACTIVATE),
      dapc({ kind: 'group', group: 0 }, 150),
    ]) {
      bus.inject(f);
    }
    const m2 = (await alerts.next('a group press')) as NodeMessage & { payload: ManualChange };
    assert.equal(m2.payload.address, 'G0');
    assert.deepEqual(m2.payload.commands, ['ACTIVATE', 'DAPC']);
    assert.equal(m2.payload.level, 150);
    assert.equal(m2.payload.mirek, 370);
    assert.equal(m2.payload.cct, 2703);
    bus.inject(gearCommand({ kind: 'broadcast' }, GearCommand.OFF));
    const m3 = (await alerts.next('OFF to broadcast')) as NodeMessage & { payload: ManualChange };
    assert.deepEqual([m3.payload.address, m3.payload.commands, m3.payload.level, m3.payload.intensity], ['BC', ['OFF'], 0, 0]);
    await sleep(400);
    assert.equal(alerts.messages.length, 3, 'nothing for gear outside the zone');
  });

  it('says so when no sensor answers at its address', async () => {
    await load(flow({ sensorAddress: '20' }));
    const node = nodeById('in');
    await waitFor(() => lastStatus(node)?.text === message('lsd-sensor-in', 'status.notAnswering', { address: 20 }), 'not answering');
    assert.equal(lastStatus(node)?.fill, 'yellow');
  });
});
