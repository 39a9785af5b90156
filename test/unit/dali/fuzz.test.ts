import assert from 'node:assert/strict';
import {
  dapc,
  decodeFrame,
  DecodedFrame,
  DEVICE_COMMANDS,
  DEVICE_SPECIAL_COMMANDS,
  describeFrame,
  deviceCommand,
  deviceSpecialCommand,
  DT8_COMMANDS,
  dt8Command,
  encodeFrame,
  eventFrame,
  EventSource,
  FrameDecoder,
  GEAR_COMMANDS,
  gearCommand,
  INSTANCE_COMMANDS,
  instanceCommand,
  SPECIAL_COMMANDS,
  specialCommand,
} from '../../../lib/dali/codec';
import { DeviceAddress, EventScheme, ForwardFrame, GearAddress, InstanceSelector } from '../../../lib/dali/types';
import { mulberry32, randInt, pick } from '../../helpers/prng';

const KINDS = new Set(['dapc', 'gearCommand', 'special', 'dt8', 'deviceCommand', 'instanceCommand', 'deviceSpecial', 'event', 'unknown']);

function assertWellFormed(d: DecodedFrame, input: unknown, label: string): void {
  assert.ok(d && typeof d === 'object', `${label}: result is an object`);
  assert.ok(KINDS.has(d.kind), `${label}: kind ${String(d.kind)}`);
  assert.equal(typeof d.name, 'string', `${label}: name`);
  assert.ok(d.name.length > 0, `${label}: name not empty`);
  assert.equal(typeof d.sendTwice, 'boolean', `${label}: sendTwice`);
  assert.equal(typeof d.expectAnswer, 'boolean', `${label}: expectAnswer`);
  assert.ok(!(d.sendTwice && d.expectAnswer), `${label}: not both send-twice and query`);
  if (d.kind === 'unknown') assert.ok(d.description.length > 0, `${label}: description`);
  else assert.equal(d.value, input, `${label}: value kept`);
  const text = describeFrame(d);
  assert.equal(typeof text, 'string');
  assert.ok(text.length > 0, `${label}: description text`);
}

const gearAddresses: GearAddress[] = [
  ...Array.from({ length: 64 }, (_, address) => ({ kind: 'short' as const, address })),
  ...Array.from({ length: 16 }, (_, group) => ({ kind: 'group' as const, group })),
  { kind: 'broadcast' },
  { kind: 'broadcastUnaddressed' },
];

const deviceAddresses: DeviceAddress[] = [
  ...Array.from({ length: 64 }, (_, address) => ({ kind: 'short' as const, address })),
  ...Array.from({ length: 32 }, (_, group) => ({ kind: 'group' as const, group })),
  { kind: 'broadcast' },
  { kind: 'broadcastUnaddressed' },
];

function sameFrame(a: ForwardFrame, b: ForwardFrame, label: string): void {
  assert.equal(a.bits, b.bits, label);
  assert.equal(a.value, b.value, label);
  assert.equal(Boolean(a.sendTwice), Boolean(b.sendTwice), `${label} sendTwice`);
  assert.equal(Boolean(a.expectAnswer), Boolean(b.expectAnswer), `${label} expectAnswer`);
}

describe('dali codec: round trips and fuzz', () => {
  it('decode(encode(x)) == x for every 16-bit gear command, DAPC, DT8 and special command', () => {
    let count = 0;
    for (const address of gearAddresses) {
      for (let level = 0; level <= 255; level++) {
        const d = decodeFrame(16, dapc(address, level).value);
        assert.equal(d.kind, 'dapc');
        assert.deepEqual(d.kind === 'dapc' && { address: d.address, level: d.level }, { address, level });
        count++;
      }
      for (let op = 0; op <= 0xdf; op++) {
        const info = GEAR_COMMANDS[op];
        if (!info) continue;
        const f = gearCommand(address, op);
        const d = decodeFrame(16, f.value);
        assert.equal(d.kind, 'gearCommand');
        if (d.kind !== 'gearCommand') continue;
        assert.deepEqual(d.address, address);
        assert.equal(d.opcode, op);
        assert.equal(d.name, info.name);
        assert.equal(d.sendTwice, Boolean(f.sendTwice));
        assert.equal(d.expectAnswer, Boolean(f.expectAnswer));
        if (info.hasParam) assert.equal(d.param, op & 0x0f);
        count++;
      }
      for (let op = 0xe0; op <= 0xff; op++) {
        if (!DT8_COMMANDS[op]) continue;
        const f = dt8Command(address, op);
        const d = decodeFrame(16, f.value, { enabledDeviceType: 8 });
        assert.equal(d.kind, 'dt8');
        assert.deepEqual(d.kind === 'dt8' && [d.address, d.opcode, d.deviceType], [address, op, 8]);
        assert.equal(d.sendTwice, Boolean(f.sendTwice));
        count++;
      }
    }
    for (let op = 0xa0; op <= 0xfb; op++) {
      if (!SPECIAL_COMMANDS[op]) continue;
      for (let data = 0; data <= 255; data++) {
        const d = decodeFrame(16, specialCommand(op, data).value);
        assert.deepEqual(d.kind === 'special' && [d.opcode, d.data], [op, data]);
        count++;
      }
    }
    assert.ok(count > 40000, `covered ${count} frames`);
  });

  it('encode(decode(v)) == v for every 16-bit value that decodes to a known command (with and without EDT 8)', () => {
    let known = 0;
    for (const ctx of [undefined, { enabledDeviceType: 8 }]) {
      for (let v = 0; v <= 0xffff; v++) {
        const d = decodeFrame(16, v, ctx);
        if (d.kind === 'unknown') continue;
        const f = encodeFrame(d);
        assert.equal(f.value, v, `0x${v.toString(16)}`);
        assert.equal(Boolean(f.sendTwice), d.sendTwice);
        assert.equal(Boolean(f.expectAnswer), d.expectAnswer);
        known++;
      }
    }
    // 16-bit space: 0x00..0x9F and 0xFC..0xFF address bytes; DAPC alone gives 84 * 256 values
    assert.ok(known > 84 * 256 * 2, `known ${known}`);
  });

  it('decode(encode(x)) == x for every 24-bit device, instance and special command', () => {
    const instances: InstanceSelector[] = [
      ...Array.from({ length: 32 }, (_, instance) => ({ kind: 'number' as const, instance })),
      ...Array.from({ length: 32 }, (_, group) => ({ kind: 'group' as const, group })),
      ...Array.from({ length: 32 }, (_, instanceType) => ({ kind: 'type' as const, instanceType })),
      { kind: 'all' },
    ];
    for (const address of deviceAddresses) {
      for (let op = 0; op <= 255; op++) {
        if (DEVICE_COMMANDS[op]) {
          const f = deviceCommand(address, op);
          const d = decodeFrame(24, f.value);
          assert.equal(d.kind, 'deviceCommand');
          assert.deepEqual(d.kind === 'deviceCommand' && [d.address, d.opcode], [address, op]);
          sameFrame(encodeFrame(d), f, `device 0x${f.value.toString(16)}`);
        }
      }
    }
    const rng = mulberry32(103);
    for (let n = 0; n < 20000; n++) {
      const address = pick(rng, deviceAddresses);
      const instance = pick(rng, instances);
      const op = randInt(rng, 0, 255);
      if (!INSTANCE_COMMANDS[op]) continue;
      let f: ForwardFrame;
      try {
        f = instanceCommand(address, instance, op);
      } catch (err) {
        assert.ok(err instanceof RangeError); // type-specific opcode with a different type selector
        continue;
      }
      const d = decodeFrame(24, f.value);
      assert.equal(d.kind, 'instanceCommand', `0x${f.value.toString(16)}`);
      assert.deepEqual(d.kind === 'instanceCommand' && [d.address, d.instance, d.opcode], [address, instance, op]);
    }
    for (let op = 0; op <= 255; op++) {
      if (!DEVICE_SPECIAL_COMMANDS[op]) continue;
      for (const data of [0, 1, 0x7f, 0x80, 0xff]) {
        const d = decodeFrame(24, deviceSpecialCommand(op, data).value);
        assert.deepEqual(d.kind === 'deviceSpecial' && [d.opcode, d.data], [op, data]);
      }
    }
  });

  it('decode(encode(event)) == event for all schemes (seeded sample)', () => {
    const rng = mulberry32(303);
    for (let n = 0; n < 5000; n++) {
      const scheme = randInt(rng, 0, 4) as EventScheme;
      const a = randInt(rng, 0, 63);
      const b = randInt(rng, 0, 31);
      const c = randInt(rng, 0, 31);
      const src: EventSource =
        scheme === EventScheme.Device
          ? { scheme, shortAddress: a, instanceType: b }
          : scheme === EventScheme.DeviceInstance
            ? { scheme, shortAddress: a, instanceNumber: b }
            : scheme === EventScheme.DeviceGroup
              ? { scheme, deviceGroup: c, instanceType: b }
              : scheme === EventScheme.Instance
                ? { scheme, instanceType: c, instanceNumber: b }
                : { scheme, instanceGroup: c, instanceType: b };
      const info = randInt(rng, 0, 0x3ff);
      const f = eventFrame(src, info);
      const d = decodeFrame(24, f.value);
      assert.equal(d.kind, 'event');
      if (d.kind !== 'event') continue;
      assert.equal(d.info, info);
      for (const [k, v] of Object.entries(src)) assert.equal((d as unknown as Record<string, unknown>)[k], v, `seed 303 n ${n} ${k}`);
    }
  });

  it('sampled 24-bit space (seed 24, 200k values): well-formed, and known frames re-encode to the same value', () => {
    const rng = mulberry32(24);
    let known = 0;
    for (let n = 0; n < 200000; n++) {
      const v = Math.floor(rng() * 0x1000000);
      const d = decodeFrame(24, v);
      assert.ok(KINDS.has(d.kind));
      if (d.kind === 'unknown') {
        assert.ok(d.description.length > 0);
        continue;
      }
      known++;
      assert.equal(encodeFrame(d).value, v, `seed 24 value 0x${v.toString(16)}`);
      if (n % 50 === 0) assertWellFormed(d, v, `0x${v.toString(16)}`);
    }
    assert.ok(known > 50000, `known ${known}`);
  });

  it('never throws on garbage input and always returns a well-formed result', () => {
    const rng = mulberry32(0xdead);
    const garbage: unknown[] = [
      NaN,
      Infinity,
      -Infinity,
      -1,
      -0,
      0.5,
      1e300,
      2 ** 53,
      0x1000000,
      0x10000,
      Number.MIN_VALUE,
      '0x0AC8',
      null,
      undefined,
      {},
      [],
      Symbol('x'),
      10n,
      () => 1,
    ];
    for (let i = 0; i < 2000; i++) garbage.push((rng() - 0.5) * 2 ** randInt(rng, 0, 60));
    for (let i = 0; i < 2000; i++) garbage.push(randInt(rng, -100000, 0x2000000));
    const bitsOptions: unknown[] = [16, 24, 8, 17, 0, -16, NaN, '16', null, undefined];
    for (const value of garbage) {
      for (const bits of bitsOptions) {
        for (const ctx of [
          undefined,
          { enabledDeviceType: 8 },
          { enabledDeviceType: NaN },
          { enabledDeviceType: -3 },
          {
            instanceTypeOf: () => {
              throw new Error('boom');
            },
          },
        ]) {
          let d: DecodedFrame;
          assert.doesNotThrow(() => {
            d = decodeFrame(bits as 16, value as number, ctx as { enabledDeviceType?: number });
          });
          assertWellFormed(d!, value, `bits ${String(bits)} value ${String(value)}`);
        }
      }
    }
  });

  it('FrameDecoder never throws on random streams', () => {
    const rng = mulberry32(7);
    const dec = new FrameDecoder();
    for (let n = 0; n < 50000; n++) {
      const bits = rng() < 0.8 ? 16 : 24;
      const v = rng() < 0.1 ? 0xc108 : Math.floor(rng() * (bits === 16 ? 0x10000 : 0x1000000));
      const d = dec.decode(bits, v);
      assert.ok(KINDS.has(d.kind));
    }
  });
});
