import assert from 'node:assert/strict';
import {
  applicationExtendedCommand,
  compare,
  dapc,
  decodeFrame,
  DecodedFrame,
  describeFrame,
  deviceCommand,
  deviceDtr0,
  deviceDtr1,
  deviceDtr1Dtr0,
  deviceDtr2,
  deviceSpecialCommand,
  dt8Command,
  dtr0,
  dtr1,
  dtr2,
  enableDeviceType,
  encodeFrame,
  encodeGearAddressByte,
  eventFrame,
  FrameDecoder,
  frameHex,
  gearCommand,
  initialise,
  instanceCommand,
  lightEventInfo,
  occupancyEventInfo,
  ping,
  programShortAddress,
  queryShortAddress,
  randomise,
  searchAddr,
  searchAddress,
  terminate,
  verifyShortAddress,
  withdraw,
} from '../../../lib/dali/codec';
import {
  DeviceCommand,
  DeviceSpecialCommand,
  Dt8Command,
  GearCommand,
  InstanceCommand,
  LightSensorCommand,
  OccupancySensorCommand,
} from '../../../lib/dali/opcodes';
import { EventScheme, GearAddress } from '../../../lib/dali/types';

const short = (address: number): GearAddress => ({ kind: 'short', address });
const hexes = (frames: { bits: number; value: number }[]): string[] => frames.map(frameHex);

function decodeKnown(bits: 16 | 24, value: number, ctx?: { enabledDeviceType?: number }): Exclude<DecodedFrame, { kind: 'unknown' }> {
  const d = decodeFrame(bits, value, ctx);
  assert.notEqual(d.kind, 'unknown', `0x${value.toString(16)} decoded as unknown: ${describeFrame(d)}`);
  return d as Exclude<DecodedFrame, { kind: 'unknown' }>;
}

describe('dali codec: part 102 gear frames', () => {
  it('encodes DAPC for short, group, broadcast and unaddressed addresses (reference vectors)', () => {
    assert.equal(frameHex(dapc(short(5), 200)), '0AC8');
    assert.equal(frameHex(dapc({ kind: 'group', group: 0 }, 128)), '8080');
    assert.equal(frameHex(dapc({ kind: 'broadcast' }, 0x42)), 'FE42');
    assert.equal(frameHex(dapc({ kind: 'broadcastUnaddressed' }, 254)), 'FCFE');
    assert.equal(frameHex(dapc(short(63), 255)), '7EFF');
    assert.equal(frameHex(dapc({ kind: 'group', group: 15 }, 0)), '9E00');
  });

  it('decodes DAPC with address, level, and a readable description', () => {
    const d = decodeKnown(16, 0x0ac8);
    assert.equal(d.kind, 'dapc');
    assert.equal(d.name, 'DAPC');
    assert.deepEqual(d.kind === 'dapc' && d.address, { kind: 'short', address: 5 });
    assert.equal(d.kind === 'dapc' && d.level, 200);
    assert.equal(describeFrame(d), 'DAPC short 5 level 200 (22.9 %)');
    assert.match(describeFrame(decodeKnown(16, 0xfe00)), /DAPC broadcast level 0 \(off\)/);
    assert.match(describeFrame(decodeKnown(16, 0x80ff)), /DAPC group 0 level 255 \(MASK\)/);
  });

  it('encodes indirect commands, queries and the scene/group families with the right flags', () => {
    assert.deepEqual(gearCommand(short(5), GearCommand.OFF), { bits: 16, value: 0x0b00 });
    assert.deepEqual(gearCommand({ kind: 'broadcast' }, GearCommand.RECALL_MAX_LEVEL), { bits: 16, value: 0xff05 });
    assert.deepEqual(gearCommand(short(1), GearCommand.GO_TO_SCENE, 3), { bits: 16, value: 0x0313 });
    assert.deepEqual(gearCommand(short(1), 0x13), { bits: 16, value: 0x0313 });
    assert.deepEqual(gearCommand(short(1), GearCommand.ADD_TO_GROUP, 15), { bits: 16, value: 0x036f, sendTwice: true });
    assert.deepEqual(gearCommand(short(1), GearCommand.RESET), { bits: 16, value: 0x0320, sendTwice: true });
    assert.deepEqual(gearCommand(short(1), GearCommand.ENABLE_WRITE_MEMORY), { bits: 16, value: 0x0381, sendTwice: true });
    assert.deepEqual(gearCommand(short(5), GearCommand.QUERY_ACTUAL_LEVEL), { bits: 16, value: 0x0ba0, expectAnswer: true });
    assert.deepEqual(gearCommand({ kind: 'group', group: 2 }, GearCommand.QUERY_SCENE_LEVEL, 4), {
      bits: 16,
      value: 0x85b4,
      expectAnswer: true,
    });
    assert.deepEqual(gearCommand(short(0), GearCommand.READ_MEMORY_LOCATION), { bits: 16, value: 0x01c5, expectAnswer: true });
  });

  it('marks every configuration command 0x20-0x81 send-twice and every query 0x90-0xC5 as answered', () => {
    for (let op = 0; op <= 0xdf; op++) {
      const d = decodeFrame(16, 0x0100 | op);
      if (d.kind === 'unknown') continue;
      assert.equal(d.sendTwice, op >= 0x20 && op <= 0x81, `sendTwice of 0x${op.toString(16)}`);
      assert.equal(d.expectAnswer, op >= 0x90 && op <= 0xc5, `expectAnswer of 0x${op.toString(16)}`);
    }
  });

  it('decodes standard names and scene/group parameters', () => {
    const names: [number, string][] = [
      [0x0ba0, 'QUERY ACTUAL LEVEL'],
      [0x0b90, 'QUERY STATUS'],
      [0x0b99, 'QUERY DEVICE TYPE'],
      [0x0ba5, 'QUERY FADE TIME/FADE RATE'],
      [0x0bc0, 'QUERY GROUPS 0-7'],
      [0x0b2e, 'SET FADE TIME'],
      [0x0b80, 'SET SHORT ADDRESS'],
    ];
    for (const [v, name] of names) assert.equal(decodeKnown(16, v).name, name);
    const scene = decodeKnown(16, 0x0b47);
    assert.equal(scene.name, 'SET SCENE');
    assert.equal(scene.kind === 'gearCommand' && scene.param, 7);
    assert.equal(describeFrame(scene), 'SET SCENE 7 short 5');
  });

  it('treats reserved opcodes and reserved first bytes as unknown, never as commands', () => {
    for (const v of [0x010b, 0x0126, 0x0131, 0x0182, 0x01a9, 0x01c6, 0x01df, 0xa000, 0xcb00, 0xcd12, 0xfb00, 0xbd00]) {
      const d = decodeFrame(16, v);
      assert.equal(d.kind, 'unknown', `0x${v.toString(16)}`);
      assert.ok(d.kind === 'unknown' && d.description.length > 0);
    }
  });

  it('rejects invalid arguments with RangeError and a clear message', () => {
    assert.throws(() => dapc(short(64), 0), /short address must be an integer in 0..63, got 64/);
    assert.throws(() => dapc(short(1), 256), /arc power level must be an integer in 0..255, got 256/);
    assert.throws(() => dapc(short(1), NaN), RangeError);
    assert.throws(() => dapc(short(1.5), 1), RangeError);
    assert.throws(() => dapc({ kind: 'group', group: 16 }, 1), /gear group must be an integer in 0..15, got 16/);
    assert.throws(() => dapc({ kind: 'nope' } as unknown as GearAddress, 1), /unknown gear address kind/);
    assert.throws(() => gearCommand(short(1), 0x0b), /reserved/);
    assert.throws(() => gearCommand(short(1), GearCommand.OFF, 1), /takes no scene\/group number/);
    assert.throws(() => gearCommand(short(1), GearCommand.GO_TO_SCENE, 16), RangeError);
    assert.throws(() => gearCommand(short(1), 0xe7), RangeError);
    assert.throws(() => dtr0(-1), RangeError);
    assert.throws(() => dtr1(256), RangeError);
    assert.throws(() => initialise(64), RangeError);
    assert.throws(() => searchAddr('x' as 'h', 1), /'h', 'm' or 'l'/);
    assert.throws(() => enableDeviceType(Number('8a')), RangeError);
    assert.throws(() => encodeGearAddressByte(null as unknown as GearAddress, true), RangeError);
  });
});

describe('dali codec: part 102 special commands', () => {
  it('encodes DTRs, ENABLE DEVICE TYPE and the addressing commands', () => {
    assert.equal(frameHex(dtr0(0x72)), 'A372');
    assert.equal(frameHex(dtr1(0x01)), 'C301');
    assert.equal(frameHex(dtr2(0x03)), 'C503');
    assert.equal(frameHex(enableDeviceType(8)), 'C108');
    assert.deepEqual(initialise('all'), { bits: 16, value: 0xa500, sendTwice: true });
    assert.deepEqual(initialise('unaddressed'), { bits: 16, value: 0xa5ff, sendTwice: true });
    assert.deepEqual(initialise(5), { bits: 16, value: 0xa50b, sendTwice: true });
    assert.deepEqual(randomise(), { bits: 16, value: 0xa700, sendTwice: true });
    assert.deepEqual(terminate(), { bits: 16, value: 0xa100 });
    assert.deepEqual(compare(), { bits: 16, value: 0xa900, expectAnswer: true });
    assert.deepEqual(withdraw(), { bits: 16, value: 0xab00 });
    assert.deepEqual(ping(), { bits: 16, value: 0xad00 });
    assert.deepEqual(hexes(searchAddress(0x123456)), ['B112', 'B334', 'B556']);
    assert.deepEqual(programShortAddress(5), { bits: 16, value: 0xb70b });
    assert.deepEqual(programShortAddress('delete'), { bits: 16, value: 0xb7ff });
    assert.deepEqual(verifyShortAddress(63), { bits: 16, value: 0xb97f, expectAnswer: true });
    assert.deepEqual(queryShortAddress(), { bits: 16, value: 0xbb00, expectAnswer: true });
  });

  it('decodes specials with data, and ENABLE DEVICE TYPE with its device type', () => {
    const edt = decodeKnown(16, 0xc108);
    assert.equal(edt.kind, 'special');
    assert.equal(edt.name, 'ENABLE DEVICE TYPE');
    assert.equal(edt.kind === 'special' && edt.deviceType, 8);
    assert.equal(describeFrame(edt), 'ENABLE DEVICE TYPE 8');
    assert.equal(describeFrame(decodeKnown(16, 0xa50b)), 'INITIALISE short 5');
    assert.equal(decodeKnown(16, 0xa5ff).sendTwice, true);
    assert.equal(decodeKnown(16, 0xa372).kind === 'special' && (decodeKnown(16, 0xa372) as { data: number }).data, 0x72);
  });
});

describe('dali codec: part 209 DT8 frames', () => {
  it('builds the reference Tc sequence for short 5 at 2700 K', () => {
    const frames = [
      dtr0(370 & 0xff),
      dtr1(370 >> 8),
      enableDeviceType(8),
      dt8Command(short(5), Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
      enableDeviceType(8),
      dt8Command(short(5), Dt8Command.ACTIVATE),
    ];
    assert.deepEqual(hexes(frames), ['A372', 'C301', 'C108', '0BE7', 'C108', '0BE2']);
  });

  it('marks STORE commands send-twice and queries answered', () => {
    assert.deepEqual(dt8Command(short(5), Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT), { bits: 16, value: 0x0bf2, sendTwice: true });
    assert.deepEqual(dt8Command(short(5), Dt8Command.STORE_GEAR_FEATURES_STATUS), { bits: 16, value: 0x0bf3, sendTwice: true });
    assert.deepEqual(dt8Command(short(5), Dt8Command.QUERY_GEAR_FEATURES_STATUS), { bits: 16, value: 0x0bf7, expectAnswer: true });
    assert.deepEqual(dt8Command(short(5), Dt8Command.QUERY_COLOUR_VALUE), { bits: 16, value: 0x0bfa, expectAnswer: true });
    assert.throws(() => dt8Command(short(5), 0xef), /reserved/);
    assert.throws(() => dt8Command(short(5), 0x10), RangeError);
  });

  it('decodes 0xE0-0xFF as DT8 only after ENABLE DEVICE TYPE 8', () => {
    const d = decodeKnown(16, 0x0be7, { enabledDeviceType: 8 });
    assert.equal(d.kind, 'dt8');
    assert.equal(d.name, 'SET TEMPORARY COLOUR TEMPERATURE');
    assert.equal(d.kind === 'dt8' && d.deviceType, 8);
    const without = decodeFrame(16, 0x0be7);
    assert.equal(without.kind, 'unknown');
    assert.equal(without.name, 'APPLICATION EXTENDED COMMAND');
    assert.deepEqual(without.kind === 'unknown' && without.address, { kind: 'short', address: 5 });
    assert.equal(decodeFrame(16, 0x0be7, { enabledDeviceType: 6 }).kind, 'unknown');
    const ext = decodeKnown(16, 0x0bff, { enabledDeviceType: 6 });
    assert.equal(ext.name, 'QUERY EXTENDED VERSION NUMBER');
    assert.equal(ext.expectAnswer, true);
    assert.deepEqual(applicationExtendedCommand(short(5), 6, 0xff), { bits: 16, value: 0x0bff, expectAnswer: true });
  });

  it('FrameDecoder applies ENABLE DEVICE TYPE to the next frame and to the repeat of a send-twice command only', () => {
    const dec = new FrameDecoder();
    const names = [0xa372, 0xc301, 0xc108, 0x0be7, 0xc108, 0x0be2, 0x0be2, 0xc108, 0x0bf3, 0x0bf3, 0x0bf3, 0xc108, 0x0ac8, 0x0be2].map(
      (v) => dec.decode(16, v).name,
    );
    assert.deepEqual(names, [
      'DTR0',
      'DTR1',
      'ENABLE DEVICE TYPE',
      'SET TEMPORARY COLOUR TEMPERATURE',
      'ENABLE DEVICE TYPE',
      'ACTIVATE',
      'APPLICATION EXTENDED COMMAND',
      'ENABLE DEVICE TYPE',
      'STORE GEAR FEATURES/STATUS',
      'STORE GEAR FEATURES/STATUS',
      'APPLICATION EXTENDED COMMAND',
      'ENABLE DEVICE TYPE',
      'DAPC',
      'APPLICATION EXTENDED COMMAND',
    ]);
  });

  it('FrameDecoder keeps ENABLE DEVICE TYPE across 24-bit frames and forgets it on reset()', () => {
    const dec = new FrameDecoder();
    dec.decode(16, 0xc108);
    assert.equal(dec.decode(24, 0x000c0b).kind, 'event');
    assert.equal(dec.decode(16, 0x0be2).kind, 'dt8');
    dec.decode(16, 0xc108);
    dec.reset();
    assert.equal(dec.decode(16, 0x0be2).kind, 'unknown');
  });
});

describe('dali codec: part 103 device commands', () => {
  it('encodes device, instance and special commands', () => {
    assert.deepEqual(deviceCommand({ kind: 'short', address: 5 }, DeviceCommand.QUERY_DEVICE_STATUS), {
      bits: 24,
      value: 0x0bfe30,
      expectAnswer: true,
    });
    assert.deepEqual(deviceCommand({ kind: 'broadcast' }, DeviceCommand.START_QUIESCENT_MODE), {
      bits: 24,
      value: 0xfffe1d,
      sendTwice: true,
    });
    assert.deepEqual(deviceCommand({ kind: 'group', group: 31 }, DeviceCommand.RESET), { bits: 24, value: 0xbffe10, sendTwice: true });
    assert.deepEqual(deviceCommand({ kind: 'broadcastUnaddressed' }, DeviceCommand.QUERY_NUMBER_OF_INSTANCES), {
      bits: 24,
      value: 0xfdfe35,
      expectAnswer: true,
    });
    assert.deepEqual(instanceCommand({ kind: 'short', address: 0 }, { kind: 'number', instance: 1 }, InstanceCommand.SET_EVENT_SCHEME), {
      bits: 24,
      value: 0x010167,
      sendTwice: true,
    });
    assert.deepEqual(instanceCommand({ kind: 'short', address: 2 }, { kind: 'type', instanceType: 4 }, InstanceCommand.QUERY_INPUT_VALUE), {
      bits: 24,
      value: 0x05c48c,
      expectAnswer: true,
    });
    assert.deepEqual(instanceCommand({ kind: 'broadcast' }, { kind: 'all' }, InstanceCommand.ENABLE_INSTANCE), {
      bits: 24,
      value: 0xffff62,
      sendTwice: true,
    });
    assert.deepEqual(instanceCommand({ kind: 'short', address: 1 }, { kind: 'group', group: 3 }, InstanceCommand.QUERY_INSTANCE_TYPE), {
      bits: 24,
      value: 0x038380,
      expectAnswer: true,
    });
    assert.deepEqual(deviceDtr0(1), { bits: 24, value: 0xc13001 });
    assert.deepEqual(deviceDtr1(2), { bits: 24, value: 0xc13102 });
    assert.deepEqual(deviceDtr2(3), { bits: 24, value: 0xc13203 });
    assert.deepEqual(deviceDtr1Dtr0(0x12, 0x34), { bits: 24, value: 0xc71234 });
    assert.deepEqual(deviceSpecialCommand(DeviceSpecialCommand.INITIALISE, 0x7f), { bits: 24, value: 0xc1017f, sendTwice: true });
  });

  it('encodes and decodes part 303/304 sensor commands by their own names', () => {
    const occ = instanceCommand({ kind: 'short', address: 3 }, { kind: 'type', instanceType: 3 }, OccupancySensorCommand.SET_HOLD_TIMER);
    assert.deepEqual(occ, { bits: 24, value: 0x07c321, sendTwice: true });
    const d = decodeKnown(24, occ.value);
    assert.equal(d.name, 'SET HOLD TIMER');
    assert.equal(d.kind === 'instanceCommand' && d.instanceType, 3);
    const light = decodeKnown(24, 0x07c43f);
    assert.equal(light.name, 'QUERY HYSTERESIS');
    assert.throws(
      () => instanceCommand({ kind: 'short', address: 3 }, { kind: 'type', instanceType: 4 }, OccupancySensorCommand.SET_HOLD_TIMER),
      /belongs to instance type 3/,
    );
    assert.equal(decodeFrame(24, 0x07c421).kind, 'unknown');
    assert.equal(decodeKnown(24, 0x07c430).name, 'SET REPORT TIMER');
    assert.equal(decodeKnown(24, 0x07c430).sendTwice, true);
    assert.equal(LightSensorCommand.SET_REPORT_TIMER, 0x30);
  });

  it('rejects device group 32, instance 32 and device selector for instance commands', () => {
    assert.throws(() => deviceCommand({ kind: 'group', group: 32 }, 0x30), /device group must be an integer in 0..31/);
    assert.throws(() => instanceCommand({ kind: 'short', address: 0 }, { kind: 'number', instance: 32 }, 0x80), RangeError);
    assert.throws(() => instanceCommand({ kind: 'short', address: 0 }, { kind: 'device' }, 0x80), /deviceCommand/);
    assert.throws(() => deviceCommand({ kind: 'short', address: 0 }, 0x02), /not a part 103 device command/);
  });

  it('decodes device commands and instance selectors', () => {
    const d = decodeKnown(24, 0x0bfe30);
    assert.equal(d.kind, 'deviceCommand');
    assert.equal(d.name, 'QUERY DEVICE STATUS');
    assert.equal(describeFrame(d), 'QUERY DEVICE STATUS device short 5');
    const i = decodeKnown(24, 0x05c48c);
    assert.equal(i.kind, 'instanceCommand');
    assert.deepEqual(i.kind === 'instanceCommand' && i.instance, { kind: 'type', instanceType: 4 });
    assert.equal(decodeKnown(24, 0xc13001).name, 'DTR0');
    assert.equal(decodeKnown(24, 0xc71234).name, 'DTR1:DTR0');
    assert.equal(decodeFrame(24, 0x052030).kind, 'unknown', 'feature addressing is not decoded');
    assert.equal(decodeFrame(24, 0xc3fe30).kind, 'unknown', 'reserved address byte 0xC3');
  });
});

describe('dali codec: part 103 event frames', () => {
  it('checks the reference occupancy vector 0x000C0B: short 0, type 3, occupied + movement + movement sensor', () => {
    const info = occupancyEventInfo({ movement: true, occupied: true, movementSensor: true });
    const f = eventFrame({ scheme: EventScheme.Device, shortAddress: 0, instanceType: 3 }, info);
    assert.equal(frameHex(f), '000C0B');
    const d = decodeKnown(24, 0x000c0b);
    assert.equal(d.kind, 'event');
    if (d.kind !== 'event') return;
    assert.equal(d.scheme, EventScheme.Device);
    assert.equal(d.shortAddress, 0);
    assert.equal(d.instanceType, 3);
    assert.deepEqual(d.occupancy, { movement: true, occupied: true, repeat: false, movementSensor: true });
    // a presence sensor reporting occupied + movement has bit 3 clear
    assert.equal(
      frameHex(
        eventFrame(
          { scheme: EventScheme.Device, shortAddress: 0, instanceType: 3 },
          occupancyEventInfo({ movement: true, occupied: true }),
        ),
      ),
      '000C03',
    );
  });

  it('places the source fields per scheme (python-dali layout)', () => {
    const cases: [Parameters<typeof eventFrame>[0], number][] = [
      [{ scheme: EventScheme.Device, shortAddress: 63, instanceType: 4 }, (63 << 17) | (4 << 10)],
      [{ scheme: EventScheme.DeviceInstance, shortAddress: 5, instanceNumber: 2 }, (5 << 17) | (1 << 15) | (2 << 10)],
      [{ scheme: EventScheme.DeviceGroup, deviceGroup: 31, instanceType: 3 }, (1 << 23) | (31 << 17) | (3 << 10)],
      [{ scheme: EventScheme.Instance, instanceType: 4, instanceNumber: 1 }, (1 << 23) | (4 << 17) | (1 << 15) | (1 << 10)],
      [{ scheme: EventScheme.InstanceGroup, instanceGroup: 7, instanceType: 3 }, (1 << 23) | (1 << 22) | (7 << 17) | (3 << 10)],
    ];
    for (const [src, expected] of cases) {
      const f = eventFrame(src, 0x155);
      assert.equal(f.value, expected | 0x155, `scheme ${src.scheme}`);
      assert.equal(f.bits, 24);
      const d = decodeKnown(24, f.value);
      assert.equal(d.kind, 'event');
      assert.equal(d.kind === 'event' && d.scheme, src.scheme);
      assert.equal(d.kind === 'event' && d.info, 0x155);
      for (const [k, v] of Object.entries(src))
        assert.equal((d as unknown as Record<string, unknown>)[k], v, `${k} of scheme ${src.scheme}`);
    }
  });

  it('interprets light events as raw illuminance, and device/instance events once the type is known', () => {
    const light = decodeKnown(
      24,
      eventFrame({ scheme: EventScheme.Instance, instanceType: 4, instanceNumber: 0 }, lightEventInfo(1000)).value,
    );
    assert.equal(light.kind === 'event' && light.illuminanceRaw, 1000);
    const v = eventFrame({ scheme: EventScheme.DeviceInstance, shortAddress: 7, instanceNumber: 1 }, 0x3).value;
    const blind = decodeKnown(24, v);
    assert.equal(blind.kind === 'event' && blind.instanceType, undefined);
    assert.equal(blind.kind === 'event' && blind.occupancy, undefined);
    const seen = decodeFrame(24, v, { instanceTypeOf: (a, i) => (a === 7 && i === 1 ? 3 : undefined) });
    assert.equal(seen.kind === 'event' && seen.occupancy?.occupied, true);
    const dec = new FrameDecoder(() => 4);
    assert.equal((dec.decode(24, v) as { illuminanceRaw?: number }).illuminanceRaw, 3);
  });

  it('does not interpret occupancy info with bits above 3 set', () => {
    const d = decodeKnown(24, (3 << 10) | 0x10);
    assert.equal(d.kind === 'event' && d.occupancy, undefined);
  });

  it('treats bit 16 clear with bits 23, 22, 15 all set as reserved', () => {
    assert.equal(decodeFrame(24, 0xc08000).kind, 'unknown');
  });

  it('rejects invalid event arguments', () => {
    assert.throws(() => eventFrame({ scheme: EventScheme.Device, shortAddress: 64, instanceType: 3 }, 0), RangeError);
    assert.throws(() => eventFrame({ scheme: EventScheme.Device, shortAddress: 0, instanceType: 3 }, 0x400), RangeError);
    assert.throws(() => eventFrame({ scheme: 9 } as unknown as Parameters<typeof eventFrame>[0], 0), /unknown event scheme/);
  });
});

describe('dali codec: encodeFrame', () => {
  it('rebuilds frames from decoded values, including flags', () => {
    assert.deepEqual(encodeFrame(decodeKnown(16, 0x0320)), { bits: 16, value: 0x0320, sendTwice: true });
    assert.deepEqual(encodeFrame(decodeKnown(16, 0x0bf7, { enabledDeviceType: 8 })), { bits: 16, value: 0x0bf7, expectAnswer: true });
    assert.deepEqual(encodeFrame(decodeKnown(24, 0x000c0b)), { bits: 24, value: 0x000c0b });
    assert.throws(() => encodeFrame(decodeFrame(16, 0x010b)), RangeError);
  });
});
