import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { DaliBus, type DaliBusFrameEvent } from '../../../lib/dali/bus/dali-bus';
import { SimulatorInterface } from '../../../lib/dali/interfaces/simulator';
import type { SensorReading } from '../../../lib/contracts';
import {
  SensorInput,
  type ReadingDetail,
  type SensorAlert,
  type SensorInputSettings,
  type SensorState,
} from '../../../lib/dali/sensor-input';
import { VirtualBus, VirtualClock } from '../../../lib/dali/sim/virtual-bus';
import type { VirtualSensor } from '../../../lib/dali/sim/sensor';
import { EventScheme } from '../../../lib/dali/types';

const SETTINGS: SensorInputSettings = {
  sensorAddress: 10,
  sensorId: 's10',
  zone: 'z',
  calibration: { kind: 'linear', scale: 2, offset: 0 },
  configureAtStart: true,
  eventScheme: 'deviceInstance',
  pollIntervalS: 0,
  staleAfterS: 600,
  zoneGear: { shorts: [0], groups: [] },
};

interface Rig {
  clock: VirtualClock;
  sensor: VirtualSensor;
  input: SensorInput;
  readings: Array<[SensorReading, ReadingDetail]>;
  alerts: SensorAlert[];
  states: SensorState[];
  dali: DaliBus;
}

/** Lets the promise chains of the bus jobs run (the simulated bus waits for nothing: timeScale 0). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
};

async function rig(
  settings: Partial<SensorInputSettings> = {},
  sensorOptions: { instancesEnabled?: boolean; eventScheme?: EventScheme } = {},
): Promise<Rig> {
  const clock = new VirtualClock({ startMs: 1_700_000_000_000 });
  const bus = new VirtualBus({ clock });
  bus.addGear({ shortAddress: 0 });
  const sensor = bus.addSensor({ shortAddress: 10, ...sensorOptions });
  const dali = new DaliBus(new SimulatorInterface(bus, { timeScale: 0 }), { now: () => clock.now() });
  await dali.start();
  const source = Object.assign(new EventEmitter(), { bus: dali });
  dali.on('frame', (ev: DaliBusFrameEvent) => source.emit('frame', ev));
  const input = new SensorInput(source, { ...SETTINGS, ...settings }, clock);
  const r: Rig = { clock, sensor, input, readings: [], alerts: [], states: [], dali };
  input.on('reading', (reading: SensorReading, detail: ReadingDetail) => r.readings.push([reading, detail]));
  input.on('alert', (a: SensorAlert) => r.alerts.push(a));
  input.on('sensor', (s: SensorState) => r.states.push(s));
  return r;
}

describe('sensor-input: a DALI-2 light + occupancy sensor as readings', () => {
  it('commissions a sensor out of the box, then reads its device/instance events', async () => {
    const r = await rig();
    assert.equal(r.sensor.instanceEnabled(1), false);
    r.input.start();
    await flush();
    assert.deepEqual(r.states, [{ state: 'ready', instances: 2 }]);
    assert.equal(r.sensor.eventScheme(0), EventScheme.DeviceInstance);
    assert.ok(r.sensor.instanceEnabled(0) && r.sensor.instanceEnabled(1));
    r.sensor.setIlluminanceRaw(150);
    r.sensor.setOccupancy(true, false);
    assert.deepEqual(
      r.readings.map(([x]) => x),
      [
        { sensorId: 's10', zone: 'z', ts: 1_700_000_000_000, lux: 300, source: 'dali' },
        { sensorId: 's10', zone: 'z', ts: 1_700_000_000_000, presence: true, source: 'dali' },
      ],
    );
    assert.deepEqual(
      r.readings.map(([, d]) => [d.instanceType, d.instanceNumber]),
      [
        [4, 1],
        [3, 0],
      ],
    );
    r.input.stop();
    await r.dali.close();
  });

  it('keeps device/instance events that arrive before the instance types are known, and reads them after', async () => {
    const r = await rig({ configureAtStart: false }, { instancesEnabled: true, eventScheme: EventScheme.DeviceInstance });
    r.input.start();
    r.sensor.setIlluminanceRaw(40); // setup has only just begun
    assert.equal(r.readings.length, 0);
    await flush();
    assert.deepEqual(
      r.readings.map(([x]) => x.lux),
      [80],
    );
    r.input.stop();
    await r.dali.close();
  });

  it('polls input values: light (10 bits with the latch) and occupancy in one reading', async () => {
    const r = await rig({ configureAtStart: false });
    r.input.start();
    await flush();
    r.sensor.setIlluminanceRaw(1023);
    r.sensor.setOccupancy(true, true);
    assert.equal(r.readings.length, 0, 'instances disabled: no events');
    await r.input.poll();
    assert.deepEqual(
      r.readings.map(([x, d]) => [x.lux, x.presence, d.polled, d.illuminanceRaw, d.movement]),
      [[2046, true, true, 1023, true]],
    );
    r.input.stop();
    await r.dali.close();
  });

  it('a sensor that does not answer: notAnswering, and setup again every 30 s until stopped', async () => {
    const r = await rig({ sensorAddress: 11 });
    r.input.start();
    await flush();
    assert.deepEqual(r.states, [{ state: 'notAnswering' }]);
    r.clock.advance(30_000);
    await flush();
    assert.equal(r.states.length, 2);
    r.input.stop();
    assert.equal(r.clock.pending, 0, 'no timer left');
    await r.dali.close();
  });

  it('goes stale on the clock and recovers with a reading', async () => {
    const r = await rig({ staleAfterS: 60 });
    r.input.start();
    await flush();
    r.clock.advance(60_000);
    assert.deepEqual(r.alerts, [{ kind: 'stale', sensorId: 's10', zone: 'z', ts: 1_700_000_060_000, silentS: 60, lastSeen: null }]);
    r.sensor.setIlluminanceRaw(10);
    assert.deepEqual(r.alerts[1], { kind: 'recovered', sensorId: 's10', zone: 'z', ts: 1_700_000_060_000, silentS: 60 });
    r.input.stop();
    await r.dali.close();
  });
});
