import assert from 'node:assert/strict';
import {
  decodeFrame,
  deviceCommand,
  deviceSpecialCommand,
  deviceSpecialTwoByte,
  dt8Command,
  enableDeviceType,
  encodeFrame,
  gearCommand,
  instanceCommand,
  specialCommand,
} from '../../../lib/dali/codec';
import { COMMAND_TABLES, type OpcodeEntry } from '../../../lib/dali/opcodes';
import { VirtualGear } from '../../../lib/dali/sim/gear';
import { VirtualSensor } from '../../../lib/dali/sim/sensor';
import { InstanceType, type ForwardFrame, type InstanceSelector } from '../../../lib/dali/types';

type Family = (typeof COMMAND_TABLES)[number]['family'];

const GEAR = { kind: 'short', address: 1 } as const;
const DEVICE = { kind: 'short', address: 2 } as const;

/** The frame of one table entry, built by the codec (a +n family with n = 15, its last member). */
function frameOf(family: Family, e: OpcodeEntry): ForwardFrame {
  const op = e.hasParam ? e.opcode + 15 : e.opcode;
  const instance: InstanceSelector =
    e.instanceType !== undefined ? { kind: 'type', instanceType: e.instanceType } : { kind: 'number', instance: 0 };
  switch (family) {
    case 'gear':
      return gearCommand(GEAR, op);
    case 'special':
      return specialCommand(op, 0x01);
    case 'dt8':
      return dt8Command(GEAR, op);
    case 'device':
      return deviceCommand(DEVICE, op);
    case 'instance':
    case 'occupancySensor':
    case 'lightSensor':
      return instanceCommand(DEVICE, instance, op);
    case 'deviceSpecial':
      return deviceSpecialCommand(op, 0x01);
    case 'deviceSpecialTwoByte':
      return deviceSpecialTwoByte(op, 0x01, 0x02);
  }
}

const is16 = (family: Family): boolean => family === 'gear' || family === 'special' || family === 'dt8';

describe('opcode table: the one list of commands', () => {
  it('has no opcode twice within a table, and every entry is either send-twice, a query or neither', () => {
    for (const { family, entries } of COMMAND_TABLES) {
      const seen = new Set<number>();
      for (const e of entries) {
        for (let i = 0; i < (e.hasParam ? 16 : 1); i++) {
          assert.ok(!seen.has(e.opcode + i), `${family} ${e.key}: opcode 0x${(e.opcode + i).toString(16)} listed twice`);
          seen.add(e.opcode + i);
        }
        assert.ok(!(e.sendTwice && e.expectAnswer), `${family} ${e.key}`);
        assert.match(e.name, /^[A-Z0-9][A-Z0-9 ()/:-]*$/, `${family} ${e.key}: standard name`);
      }
    }
  });

  it('every command round-trips through the codec with the name and flags of its table row', () => {
    let count = 0;
    for (const { family, entries } of COMMAND_TABLES) {
      for (const e of entries) {
        const f = frameOf(family, e);
        assert.equal(Boolean(f.sendTwice), e.sendTwice, `${family} ${e.key}: built sendTwice`);
        assert.equal(Boolean(f.expectAnswer), e.expectAnswer, `${family} ${e.key}: built expectAnswer`);
        const d = decodeFrame(f.bits, f.value, family === 'dt8' ? { enabledDeviceType: 8 } : undefined);
        assert.notEqual(d.kind, 'unknown', `${family} ${e.key}: decoded`);
        assert.equal(d.name, e.name, `${family} ${e.key}: name`);
        assert.equal(d.sendTwice, e.sendTwice, `${family} ${e.key}: decoded sendTwice`);
        assert.equal(d.expectAnswer, e.expectAnswer, `${family} ${e.key}: decoded expectAnswer`);
        assert.equal(encodeFrame(d).value, f.value, `${family} ${e.key}: encode(decode(frame))`);
        count++;
      }
    }
    assert.ok(count > 200, `${count} commands`);
  });

  it('every command reaches a handler of the simulator (modelled, or taken on purpose without effect)', () => {
    for (const { family, entries } of COMMAND_TABLES) {
      for (const e of entries) {
        const gear = new VirtualGear({ shortAddress: GEAR.address, deviceTypes: [8] });
        const sensor = new VirtualSensor({ shortAddress: DEVICE.address, instancesEnabled: true });
        const f = frameOf(family, e);
        const times = f.sendTwice ? 2 : 1;
        for (let i = 0; i < times; i++) {
          if (family === 'dt8' && i === 0) gear.handleFrame(enableDeviceType(8));
          if (is16(family)) gear.handleFrame(f);
          else sensor.handleFrame(f);
        }
        assert.equal(gear.unrecognisedCommands, 0, `${family} ${e.key}: unknown to the simulated gear`);
        assert.equal(sensor.unrecognisedCommands, 0, `${family} ${e.key}: unknown to the simulated sensor`);
      }
    }
  });

  it('the simulator counts a reserved opcode as unrecognised (the check above can fail)', () => {
    const gear = new VirtualGear({ shortAddress: GEAR.address, deviceTypes: [8] });
    gear.handleFrame({ bits: 16, value: (((GEAR.address << 1) | 1) << 8) | 0x0b }); // 0x0B: reserved gear command
    assert.equal(gear.unrecognisedCommands, 1);
    const sensor = new VirtualSensor({ shortAddress: DEVICE.address, instancesEnabled: true });
    sensor.handleFrame({ bits: 24, value: (((DEVICE.address << 1) | 1) << 16) | ((0xc0 | InstanceType.OccupancySensor) << 8) | 0x85 }); // 0x85: reserved
    assert.equal(sensor.unrecognisedCommands, 1);
  });
});
