import assert from 'node:assert/strict';
import { DaliBus } from '../../../lib/dali/bus/dali-bus';
import { dapc, decodeFrame, gearCommand } from '../../../lib/dali/codec';
import { percentToArcLevel } from '../../../lib/dali/curve';
import { Dt8Output, fadeFrames, fadeSettingMs, planFade, validateSetpoint, type Dt8OutputSettings } from '../../../lib/dali/dt8-output';
import { FADE_TIME_MS } from '../../../lib/dali/fade';
import { DaliInputError } from '../../../lib/dali/input-error';
import { SimulatorInterface } from '../../../lib/dali/interfaces/simulator';
import { GearCommand } from '../../../lib/dali/opcodes';
import { VirtualBus, VirtualClock, type ForwardEvent } from '../../../lib/dali/sim/virtual-bus';
import type { GearAddress } from '../../../lib/dali/types';
import { mulberry32, pick } from '../../helpers/prng';

const SETPOINT = { zone: 'z', intensity: 50, cct: 4000, reason: 'r', source: 'ai' } as const;
const short = (address: number): GearAddress => ({ kind: 'short', address });

describe('dt8-output: from setpoints to DT8 frames', () => {
  describe('validateSetpoint', () => {
    it('accepts the setpoint contract, fadeMs optional', () => {
      assert.deepEqual(validateSetpoint({ ...SETPOINT, extra: 1 }), SETPOINT);
      assert.deepEqual(validateSetpoint({ ...SETPOINT, fadeMs: 2000 }), { ...SETPOINT, fadeMs: 2000 });
      for (const source of ['ai', 'rules', 'manual', 'schedule']) assert.equal(validateSetpoint({ ...SETPOINT, source }).source, source);
      assert.equal(validateSetpoint({ ...SETPOINT, intensity: 0, cct: 1000 }).intensity, 0);
      assert.equal(validateSetpoint({ ...SETPOINT, intensity: 100, cct: 20000, reason: '' }).cct, 20000);
    });

    it('refuses every field of the wrong type or out of range, naming the field (seed 99)', () => {
      const rng = mulberry32(99);
      const junk: unknown[] = [
        undefined,
        null,
        NaN,
        Infinity,
        -Infinity,
        -1,
        0,
        50,
        101,
        1500,
        1e9,
        '50',
        '',
        'x',
        'ai',
        true,
        {},
        [],
        [50],
        () => 1,
      ];
      const num = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
      const valid: Record<string, (v: unknown) => boolean> = {
        zone: (v) => typeof v === 'string' && v.trim() !== '',
        intensity: (v) => num(v, 0, 100),
        cct: (v) => num(v, 1000, 20000),
        reason: (v) => typeof v === 'string',
        source: (v) => v === 'ai',
        fadeMs: (v) => v === undefined || num(v, 0, 960000),
      };
      for (let i = 0; i < 500; i++) {
        const field = pick(rng, Object.keys(valid));
        const value = pick(rng, junk);
        const expectValid = (valid[field] as (v: unknown) => boolean)(value);
        try {
          validateSetpoint({ ...SETPOINT, [field]: value });
          assert.ok(expectValid, `seed 99 #${i}: ${field} = ${String(value)} accepted`);
        } catch (e) {
          assert.ok(e instanceof DaliInputError, `seed 99 #${i}: ${String(e)}`);
          assert.ok(!expectValid, `seed 99 #${i}: ${field} = ${String(value)} refused`);
          assert.equal(e.code, field, `seed 99 #${i}: ${field} = ${String(value)}`);
        }
      }
      for (const payload of [null, undefined, 5, 'x', [SETPOINT]]) {
        assert.throws(
          () => validateSetpoint(payload),
          (e: unknown) => e instanceof DaliInputError && e.code === 'payload',
        );
      }
    });
  });

  describe('fades', () => {
    it('FADE TIME codes for 354 ms .. 90.5 s, EXTENDED FADE TIME outside', () => {
      assert.deepEqual(planFade(0), { fadeTime: 0, extendedFadeTime: 0 });
      assert.deepEqual(planFade(2000), { fadeTime: 4, extendedFadeTime: 0 });
      assert.deepEqual(planFade(1000), { fadeTime: 2, extendedFadeTime: 0 });
      assert.deepEqual(planFade(90510), { fadeTime: 15, extendedFadeTime: 0 });
      assert.deepEqual(planFade(200), { fadeTime: 0, extendedFadeTime: 0x11 }, '2 x 100 ms');
      assert.deepEqual(planFade(120000), { fadeTime: 0, extendedFadeTime: 0x3b }, '12 x 10 s');
      assert.equal(fadeSettingMs(planFade(960000)), 960000, '16 min');
      for (let n = 1; n <= 15; n++) assert.equal(fadeSettingMs(planFade(FADE_TIME_MS[n] as number)), FADE_TIME_MS[n]);
      assert.equal(fadeSettingMs(planFade(200)), 200);
      assert.throws(() => planFade(-1), RangeError);
      assert.throws(() => planFade(960001), RangeError);
    });

    it('sends only the settings that differ', () => {
      const names = (fs: ReturnType<typeof fadeFrames>): string[] => fs.map((f) => decodeFrame(16, f.value).name);
      const a = short(3);
      assert.deepEqual(names(fadeFrames(a, planFade(2000), { fadeTime: 4, extendedFadeTime: 9 })), []);
      assert.deepEqual(names(fadeFrames(a, planFade(2000), { fadeTime: 0, extendedFadeTime: 0 })), ['DTR0', 'SET FADE TIME']);
      assert.deepEqual(names(fadeFrames(a, planFade(200), { fadeTime: 0, extendedFadeTime: 0 })), ['DTR0', 'SET EXTENDED FADE TIME']);
      assert.deepEqual(names(fadeFrames(a, planFade(200), { fadeTime: 4 })), ['DTR0', 'SET FADE TIME', 'DTR0', 'SET EXTENDED FADE TIME']);
      assert.deepEqual(names(fadeFrames(a, planFade(0), undefined)), ['DTR0', 'SET FADE TIME', 'DTR0', 'SET EXTENDED FADE TIME']);
      assert.ok(fadeFrames(a, planFade(2000), undefined).every((f) => f.bits === 16));
    });
  });

  describe('Dt8Output over a simulated bus (virtual time)', () => {
    const SETTINGS: Dt8OutputSettings = {
      curve: 'logarithmic',
      fadeMs: 0,
      tcLimitsFrom: 'config',
      coolestKelvin: 6500,
      warmestKelvin: 1800,
      verify: false,
    };

    async function rig(settings: Partial<Dt8OutputSettings> = {}, inventory = true) {
      const clock = new VirtualClock({ startMs: 1_700_000_000_000, autoAdvance: true });
      const bus = new VirtualBus({ clock });
      for (const a of [0, 1, 2]) bus.addGear({ shortAddress: a, groups: a < 2 ? [0] : [1] });
      bus.gearAt(2)?.handleFrame(dapc(short(2), 100));
      const iface = new SimulatorInterface(bus, { timeScale: 1 });
      const dali = new DaliBus(
        iface,
        inventory
          ? { inventory: { shortAddresses: [0, 1, 2], groups: { 0: [0, 1], 1: [2] }, complete: true }, now: () => clock.now() }
          : { now: () => clock.now() },
      );
      await dali.start();
      const forwarded: ForwardEvent[] = [];
      bus.on('forward', (ev: ForwardEvent) => forwarded.push(ev));
      const out = new Dt8Output(() => dali, { ...SETTINGS, ...settings });
      return { bus, dali, out, forwarded };
    }

    it('applies setpoints in the order given, also when the first waits for its fade query', async () => {
      const { bus, out } = await rig();
      const results = await Promise.all([10, 20, 30].map((intensity) => out.apply({ ...SETPOINT, intensity, fadeMs: 1000 }, short(1))));
      assert.equal(bus.gearAt(1)?.snapshot().targetLevel, percentToArcLevel(30));
      assert.deepEqual(
        results.map((r) => r.intensity),
        [10, 20, 30],
      );
      assert.equal(results[2]?.superseded, undefined);
    });

    it("a routine setpoint queues behind a person's (manual or arrival) given after it", async () => {
      const { out, forwarded, dali } = await rig();
      const g0 = { kind: 'group', group: 0 } as const;
      const g1 = { kind: 'group', group: 1 } as const;
      // The bus is busy with other work; then a routine change for G0 and an arrival for G1 are given.
      const busy = dali.transact([0, 1, 2, 0, 1, 2].map((a) => gearCommand(short(a), GearCommand.QUERY_ACTUAL_LEVEL)));
      const routine = out.apply({ ...SETPOINT, intensity: 70, source: 'rules' }, g0, undefined, { routine: true });
      const arrival = out.apply({ ...SETPOINT, intensity: 90, source: 'rules' }, g1);
      await Promise.all([busy, routine, arrival]);
      const dapcTo = (address: number): number =>
        forwarded.findIndex(
          (f) =>
            f.frame.bits === 16 &&
            f.frame.value >> 8 === address &&
            (f.frame.value & 0xff) === percentToArcLevel(address === 0x82 ? 90 : 70),
        );
      const arrivalAt = dapcTo(0x82); // G1 DAPC byte: 100 0001 0 -> 0x82
      const routineAt = dapcTo(0x80);
      assert.ok(arrivalAt >= 0 && routineAt >= 0, `both DAPCs sent (${arrivalAt}, ${routineAt})`);
      assert.ok(
        arrivalAt < routineAt,
        `the arrival (frame ${arrivalAt}) went before the routine change given before it (frame ${routineAt})`,
      );
    });

    it("an arrival after a waiting routine change with a long fade: the gear ends with the arrival's fade", async () => {
      const { bus, out, dali } = await rig();
      const g0 = { kind: 'group', group: 0 } as const;
      const busy = dali.transact([0, 1, 2].map((a) => gearCommand(short(a), GearCommand.QUERY_ACTUAL_LEVEL)));
      const routine = out.apply({ ...SETPOINT, intensity: 20, source: 'rules', fadeMs: 60_000 }, g0, undefined, { routine: true });
      const arrival = out.apply({ ...SETPOINT, intensity: 90, source: 'rules', fadeMs: 0 }, g0);
      await Promise.all([busy, routine, arrival]);
      assert.deepEqual([bus.gearAt(0)?.snapshot().fadeTime, bus.gearAt(1)?.snapshot().fadeTime], [0, 0], 'fade time 0 left on the gear');
      assert.equal(bus.gearAt(0)?.snapshot().targetLevel, percentToArcLevel(90));
      // The next arrival needs no fade frames and is instant.
      const next = await out.apply({ ...SETPOINT, intensity: 100, source: 'rules', fadeMs: 0 }, g0);
      assert.equal(next.fadeMs, 0);
      assert.equal(bus.gearAt(0)?.snapshot().fadeTime, 0);
    });

    it('sends a fade to a group once, and again only after a different one', async () => {
      const { bus, out, forwarded } = await rig();
      const fadeCommands = (): number =>
        forwarded.filter((f) => (f.frame.value & 0xff) === GearCommand.SET_FADE_TIME && f.frame.value >> 8 === 0x81).length;
      await out.apply({ ...SETPOINT, fadeMs: 4000 }, { kind: 'group', group: 0 });
      await out.apply({ ...SETPOINT, fadeMs: 4000, intensity: 60 }, { kind: 'group', group: 0 });
      assert.equal(fadeCommands(), 1);
      assert.deepEqual(
        [bus.gearAt(0)?.snapshot().fadeTime, bus.gearAt(1)?.snapshot().fadeTime, bus.gearAt(2)?.snapshot().fadeTime],
        [6, 6, 0],
      );
      out.reset();
      await out.apply({ ...SETPOINT, fadeMs: 4000, intensity: 70 }, { kind: 'group', group: 0 });
      assert.equal(fadeCommands(), 2, 'after a reset (reconnect) the group setting is not trusted');
    });

    it('gear limits: a group uses the range every member accepts; clamped colours read back', async () => {
      const { bus, out } = await rig({ tcLimitsFrom: 'gear', verify: true, verifySettleMs: 0 });
      // Gear 1 accepts only down to 300 mirek (3333 K) on its cool side.
      const g1 = bus.gearAt(1);
      assert.ok(g1);
      for (const v of [0xa32c, 0xc301, 0xc500, 0xc108]) g1.handleFrame({ bits: 16, value: v });
      g1.handleFrame({ bits: 16, value: 0x03f2 });
      g1.handleFrame({ bits: 16, value: 0x03f2 });
      assert.equal(g1.snapshot().coolestMirek, 300);
      const r = await out.apply({ ...SETPOINT, cct: 6000 }, { kind: 'group', group: 0 });
      assert.equal(r.mirek, 300);
      assert.equal(r.tcLimits.source, 'gear');
      assert.equal(r.verified, true);
      assert.deepEqual(
        r.readback?.map((g) => [g.address, g.mirek]),
        [
          ['A0', 300],
          ['A1', 300],
        ],
      );
    });

    it('scans the bus for the members of a group when the inventory is unknown', async () => {
      const { out, dali } = await rig({ verify: true, verifySettleMs: 0 }, false);
      const r = await out.apply({ ...SETPOINT, intensity: 100 }, { kind: 'group', group: 1 });
      assert.deepEqual(
        r.readback?.map((g) => [g.address, g.level]),
        [['A2', 254]],
      );
      // Read-back only: the bus learns groups from GroupMembership, which drops scans that went out of date.
      assert.equal(dali.members({ kind: 'group', group: 0 }).complete, false, 'the scan did not teach the bus');
      const report = await out.diagnose({ kind: 'broadcast' });
      assert.deepEqual(
        report.gear.map((g) => [g.address, g.present]),
        [
          ['A0', true],
          ['A1', true],
          ['A2', true],
        ],
      );
    });

    it('a missing gear is reported present: false; a closed bus is an error', async () => {
      const { out, dali } = await rig();
      const report = await out.diagnose(short(40));
      assert.deepEqual(
        report.gear.map((g) => [g.address, g.present, g.status]),
        [['A40', false, null]],
      );
      await dali.close();
      await assert.rejects(out.apply(SETPOINT, short(1)), /closed/);
      const none = new Dt8Output(() => null, SETTINGS);
      await assert.rejects(none.apply(SETPOINT, short(1)), /not open/);
    });
  });
});
