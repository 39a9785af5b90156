import assert from 'node:assert/strict';
import { decodeFrame, deviceCommand, deviceDtr0, deviceDtr1Dtr0, instanceCommand, type DecodedEvent } from '../../../../lib/dali/codec';
import { DeviceCommand, InstanceCommand } from '../../../../lib/dali/opcodes';
import { LIGHT_INSTANCE, OCCUPANCY_INSTANCE, VirtualSensor } from '../../../../lib/dali/sim/sensor';
import { VirtualBus, VirtualClock } from '../../../../lib/dali/sim/virtual-bus';
import { EventScheme, InstanceType, type DeviceAddress, type ForwardFrame } from '../../../../lib/dali/types';

function setup(options: ConstructorParameters<typeof VirtualSensor>[0] = {}): {
  bus: VirtualBus;
  sensor: VirtualSensor;
  events: number[];
} {
  const bus = new VirtualBus({ clock: new VirtualClock() });
  const sensor = bus.addSensor({ shortAddress: 0, ...options });
  const events: number[] = [];
  bus.on('frame', (ev: { bits: number; value: number }) => {
    if (ev.bits === 24) events.push(ev.value);
  });
  return { bus, sensor, events };
}

/** Sends a send-twice command the way an interface does. */
function twice(bus: VirtualBus, frame: ForwardFrame): void {
  bus.handleForward({ ...frame, sendTwice: true });
}

const me: DeviceAddress = { kind: 'short', address: 0 };

function commission(bus: VirtualBus, scheme: EventScheme): void {
  bus.handleForward(deviceDtr0(scheme));
  twice(bus, instanceCommand(me, { kind: 'all' }, InstanceCommand.SET_EVENT_SCHEME));
  twice(bus, instanceCommand(me, { kind: 'all' }, InstanceCommand.ENABLE_INSTANCE));
}

function decodeEvent(value: number): DecodedEvent {
  const d = decodeFrame(24, value);
  assert.equal(d.kind, 'event', `0x${value.toString(16)} is an event frame`);
  return d as DecodedEvent;
}

describe('sim/sensor: virtual DALI-2 light + occupancy sensor', () => {
  it('reference vector: short 0, device scheme, occupied + movement = 0x000C0B', () => {
    const { bus, sensor, events } = setup();
    commission(bus, EventScheme.Device);
    sensor.setOccupancy(true, true);
    assert.deepEqual(events, [0x000c0b]);
  });

  it('emits nothing while its instances are disabled (out of the box) or in quiescent mode', () => {
    const { bus, sensor, events } = setup();
    sensor.setOccupancy(true, true);
    sensor.setLux(500);
    assert.deepEqual(events, []);
    commission(bus, EventScheme.Instance);
    twice(bus, deviceCommand(me, DeviceCommand.START_QUIESCENT_MODE));
    sensor.setOccupancy(false, false);
    assert.deepEqual(events, []);
    twice(bus, deviceCommand(me, DeviceCommand.STOP_QUIESCENT_MODE));
    sensor.setOccupancy(true, true);
    assert.equal(events.length, 1);
  });

  describe('event schemes', () => {
    it('instance (power-on scheme): instance type and number, no address', () => {
      const { bus, sensor, events } = setup();
      commission(bus, EventScheme.Instance);
      sensor.setOccupancy(true, false);
      const e = decodeEvent(events[0] as number);
      assert.equal(e.scheme, EventScheme.Instance);
      assert.equal(e.instanceType, InstanceType.OccupancySensor);
      assert.equal(e.instanceNumber, OCCUPANCY_INSTANCE);
      assert.equal(e.occupancy?.occupied, true);
      assert.equal(e.occupancy?.movement, false);
    });

    it('device: short address and instance type', () => {
      const { bus, sensor, events } = setup({ shortAddress: 17 });
      bus.handleForward(deviceDtr0(EventScheme.Device));
      const addr: DeviceAddress = { kind: 'short', address: 17 };
      twice(bus, instanceCommand(addr, { kind: 'all' }, InstanceCommand.SET_EVENT_SCHEME));
      twice(bus, instanceCommand(addr, { kind: 'all' }, InstanceCommand.ENABLE_INSTANCE));
      sensor.setLux(300);
      const e = decodeEvent(events[0] as number);
      assert.equal(e.scheme, EventScheme.Device);
      assert.equal(e.shortAddress, 17);
      assert.equal(e.instanceType, InstanceType.LightSensor);
      assert.equal(e.illuminanceRaw, sensor.luxToRaw(300));
    });

    it('device/instance: short address and instance number', () => {
      const { bus, sensor, events } = setup({ shortAddress: 0 });
      commission(bus, EventScheme.DeviceInstance);
      sensor.setLux(100);
      const e = decodeEvent(events[0] as number);
      assert.equal(e.scheme, EventScheme.DeviceInstance);
      assert.equal(e.shortAddress, 0);
      assert.equal(e.instanceNumber, LIGHT_INSTANCE);
      assert.equal(e.info, 50);
    });

    it('device group: the lowest device group and instance type', () => {
      const { bus, sensor, events } = setup();
      // ADD TO DEVICE GROUPS 0-15 with DTR2:DTR1 = 0x0120 -> groups 5 and 8.
      bus.handleForward(deviceDtr1Dtr0(0x20, 0));
      bus.handleForward({ bits: 24, value: 0xc13201 });
      twice(bus, deviceCommand(me, DeviceCommand.ADD_TO_DEVICE_GROUPS_0_15));
      commission(bus, EventScheme.DeviceGroup);
      sensor.setOccupancy(true, true);
      const e = decodeEvent(events[0] as number);
      assert.equal(e.scheme, EventScheme.DeviceGroup);
      assert.equal(e.deviceGroup, 5);
      assert.equal(e.instanceType, InstanceType.OccupancySensor);
    });

    it('instance group: the primary instance group and instance type', () => {
      const { bus, sensor, events } = setup();
      bus.handleForward(deviceDtr0(12));
      twice(bus, instanceCommand(me, { kind: 'number', instance: LIGHT_INSTANCE }, InstanceCommand.SET_PRIMARY_INSTANCE_GROUP));
      commission(bus, EventScheme.InstanceGroup);
      sensor.setLux(800);
      const e = decodeEvent(events[0] as number);
      assert.equal(e.scheme, EventScheme.InstanceGroup);
      assert.equal(e.instanceGroup, 12);
      assert.equal(e.instanceType, InstanceType.LightSensor);
    });

    it('falls back to the instance scheme when the device lacks what the scheme needs', () => {
      const { bus, sensor, events } = setup({ shortAddress: null });
      bus.handleForward(deviceDtr0(EventScheme.Device));
      const all: DeviceAddress = { kind: 'broadcast' };
      twice(bus, instanceCommand(all, { kind: 'all' }, InstanceCommand.SET_EVENT_SCHEME));
      twice(bus, instanceCommand(all, { kind: 'all' }, InstanceCommand.ENABLE_INSTANCE));
      assert.equal(sensor.eventScheme(OCCUPANCY_INSTANCE), EventScheme.Device);
      sensor.setOccupancy(true, true);
      assert.equal(decodeEvent(events[0] as number).scheme, EventScheme.Instance);
    });
  });

  it('SET EVENT SCHEME acts only when sent twice', () => {
    const { bus, sensor } = setup();
    const once = (f: ForwardFrame): void => {
      bus.handleForward({ bits: f.bits, value: f.value });
    };
    const setScheme = instanceCommand(me, { kind: 'all' }, InstanceCommand.SET_EVENT_SCHEME);
    assert.equal(setScheme.sendTwice, true, 'the codec marks it send-twice');
    once(deviceDtr0(EventScheme.DeviceInstance));
    once(setScheme);
    once(deviceCommand(me, DeviceCommand.QUERY_CONTENT_DTR0)); // breaks the pair
    once(setScheme);
    assert.equal(sensor.eventScheme(OCCUPANCY_INSTANCE), EventScheme.Instance);
    once(setScheme);
    assert.equal(sensor.eventScheme(OCCUPANCY_INSTANCE), EventScheme.DeviceInstance);
  });

  it('light events respect the hysteresis band; occupancy events fire on changes only', () => {
    const { bus, sensor, events } = setup({ hysteresisPct: 10, hysteresisMinRaw: 2 });
    commission(bus, EventScheme.DeviceInstance);
    sensor.setIlluminanceRaw(400);
    sensor.setIlluminanceRaw(420); // inside 10 % of 400
    sensor.setIlluminanceRaw(441); // outside
    sensor.setIlluminanceRaw(0);
    assert.deepEqual(
      events.map((v) => decodeEvent(v).info),
      [400, 441, 0],
    );
    events.length = 0;
    sensor.setOccupancy(true, true);
    sensor.setOccupancy(true, true);
    sensor.setOccupancy(true, false);
    sensor.setOccupancy(false, false);
    assert.deepEqual(
      events.map((v) => decodeEvent(v).info & 0x3),
      [0x3, 0x2, 0x0],
    );
  });

  it('raw <-> lux mapping is configurable (lux = offsetLux + luxPerCount * raw)', () => {
    const sensor = new VirtualSensor({ luxPerCount: 0.5, offsetLux: 10 });
    assert.equal(sensor.luxToRaw(110), 200);
    assert.equal(sensor.rawToLux(200), 110);
    assert.equal(sensor.luxToRaw(1e9), 1023);
    assert.equal(sensor.luxToRaw(-5), 0);
  });

  describe('queries', () => {
    it('QUERY INPUT VALUE + LATCH give back the 10-bit illuminance; occupancy input value', () => {
      const { bus, sensor } = setup();
      sensor.setIlluminanceRaw(0x2b7);
      const hi = bus.handleForward(instanceCommand(me, { kind: 'number', instance: LIGHT_INSTANCE }, InstanceCommand.QUERY_INPUT_VALUE));
      const lo = bus.handleForward(
        instanceCommand(me, { kind: 'number', instance: LIGHT_INSTANCE }, InstanceCommand.QUERY_INPUT_VALUE_LATCH),
      );
      assert.equal(hi.kind, 'answer');
      assert.equal(lo.kind, 'answer');
      if (hi.kind === 'answer' && lo.kind === 'answer') assert.equal((hi.value << 2) | (lo.value >> 6), 0x2b7);
      const occ = (): unknown =>
        bus.handleForward(instanceCommand(me, { kind: 'number', instance: OCCUPANCY_INSTANCE }, InstanceCommand.QUERY_INPUT_VALUE));
      assert.deepEqual(occ(), { kind: 'answer', value: 0x00 });
      sensor.setOccupancy(true, false);
      assert.deepEqual(occ(), { kind: 'answer', value: 0xaa });
      sensor.setOccupancy(true, true);
      assert.deepEqual(occ(), { kind: 'answer', value: 0xff });
    });

    it('QUERY INSTANCE TYPE, NUMBER OF INSTANCES; a query to all instances collides', () => {
      const { bus } = setup();
      assert.deepEqual(bus.handleForward(deviceCommand(me, DeviceCommand.QUERY_NUMBER_OF_INSTANCES)), { kind: 'answer', value: 2 });
      const type = (n: number): unknown =>
        bus.handleForward(instanceCommand(me, { kind: 'number', instance: n }, InstanceCommand.QUERY_INSTANCE_TYPE));
      assert.deepEqual(type(0), { kind: 'answer', value: 3 });
      assert.deepEqual(type(1), { kind: 'answer', value: 4 });
      assert.deepEqual(type(2), { kind: 'none' });
      assert.deepEqual(bus.handleForward(instanceCommand(me, { kind: 'all' }, InstanceCommand.QUERY_INSTANCE_TYPE)), {
        kind: 'framingError',
      });
      assert.deepEqual(bus.handleForward(instanceCommand(me, { kind: 'type', instanceType: 4 }, InstanceCommand.QUERY_INSTANCE_TYPE)), {
        kind: 'answer',
        value: 4,
      });
    });

    it('presence only (lightSensor false): one occupancy instance, no light instance, no light events', () => {
      const { bus, sensor, events } = setup({ lightSensor: false, instancesEnabled: true, eventScheme: EventScheme.DeviceInstance });
      assert.deepEqual(sensor.instanceTypes, [InstanceType.OccupancySensor]);
      assert.equal(sensor.hasLightSensor, false);
      assert.deepEqual(bus.handleForward(deviceCommand(me, DeviceCommand.QUERY_NUMBER_OF_INSTANCES)), { kind: 'answer', value: 1 });
      const type = (n: number): unknown =>
        bus.handleForward(instanceCommand(me, { kind: 'number', instance: n }, InstanceCommand.QUERY_INSTANCE_TYPE));
      assert.deepEqual(type(0), { kind: 'answer', value: 3 });
      assert.deepEqual(type(1), { kind: 'none' });
      assert.deepEqual(bus.handleForward(instanceCommand(me, { kind: 'type', instanceType: 4 }, InstanceCommand.QUERY_INPUT_VALUE)), {
        kind: 'none',
      });
      sensor.setLux(800);
      assert.deepEqual(events, [], 'no light event');
      sensor.setOccupancy(true, true);
      assert.equal(events.length, 1);
      assert.equal(decodeEvent(events[0] as number).instanceNumber, OCCUPANCY_INSTANCE);
      // The default keeps both instances.
      assert.deepEqual(setup().sensor.instanceTypes, [InstanceType.OccupancySensor, InstanceType.LightSensor]);
    });

    it('ENABLE/DISABLE INSTANCE show in QUERY INSTANCE ENABLED; other addresses are ignored', () => {
      const { bus } = setup();
      const enabled = (): unknown =>
        bus.handleForward(instanceCommand(me, { kind: 'number', instance: 0 }, InstanceCommand.QUERY_INSTANCE_ENABLED));
      assert.deepEqual(enabled(), { kind: 'none' });
      twice(bus, instanceCommand(me, { kind: 'number', instance: 0 }, InstanceCommand.ENABLE_INSTANCE));
      assert.deepEqual(enabled(), { kind: 'answer', value: 0xff });
      twice(bus, instanceCommand({ kind: 'short', address: 1 }, { kind: 'number', instance: 0 }, InstanceCommand.DISABLE_INSTANCE));
      assert.deepEqual(enabled(), { kind: 'answer', value: 0xff });
    });
  });
});
