import assert from 'node:assert/strict';
import { dapc, dt8Command, dtr0, dtr1, enableDeviceType, gearCommand, instanceCommand, deviceDtr0 } from '../../../../lib/dali/codec';
import { DaliBus, type DaliBusFrameEvent, type DaliBusOptions, type SetpointResult } from '../../../../lib/dali/bus/dali-bus';
import type { QueueEvent } from '../../../../lib/dali/bus/scheduler';
import { SimulatorInterface } from '../../../../lib/dali/interfaces/simulator';
import { Dt8Command, GearCommand, InstanceCommand } from '../../../../lib/dali/opcodes';
import { VirtualBus, VirtualClock, type ForwardEvent } from '../../../../lib/dali/sim/virtual-bus';
import type { VirtualGear } from '../../../../lib/dali/sim/gear';
import {
  DaliInterfaceError,
  EventScheme,
  type BackwardResult,
  type ForwardFrame,
  type GearAddress,
  type Priority,
} from '../../../../lib/dali/types';
import { mulberry32, pick, randInt } from '../../../helpers/prng';

const short = (address: number): GearAddress => ({ kind: 'short', address });
const group = (g: number): GearAddress => ({ kind: 'group', group: g });
const broadcast: GearAddress = { kind: 'broadcast' };

/** Gear 1, 2 in group 0; 3 in group 1; 4 in groups 0 and 1. All start at level 254, 250 mirek. */
const GEAR_GROUPS: Record<number, number[]> = { 1: [0], 2: [0], 3: [1], 4: [0, 1] };
const INVENTORY = { shortAddresses: [1, 2, 3, 4], groups: { 0: [1, 2, 4], 1: [3, 4] }, complete: true };

interface Rig {
  clock: VirtualClock;
  bus: VirtualBus;
  iface: SimulatorInterface;
  dali: DaliBus;
  gear: Map<number, VirtualGear>;
}

async function rig(options: DaliBusOptions = { inventory: INVENTORY }, gearOptions: { autoActivation?: boolean } = {}): Promise<Rig> {
  const clock = new VirtualClock({ startMs: 1_700_000_000_000, autoAdvance: true });
  const bus = new VirtualBus({ clock });
  const gear = new Map<number, VirtualGear>();
  for (const [a, groups] of Object.entries(GEAR_GROUPS)) {
    gear.set(Number(a), bus.addGear({ shortAddress: Number(a), groups, initialMirek: 250, ...gearOptions }));
  }
  const iface = new SimulatorInterface(bus, { timeScale: 1 });
  const dali = new DaliBus(iface, { now: () => clock.now(), ...options });
  await dali.start();
  return { clock, bus, iface, dali, gear };
}

/** A simulator whose device is not ready right after a reconnect: the next `failAfterReconnect` transmits reject. */
class NotReadyAfterReconnect extends SimulatorInterface {
  failAfterReconnect = 0;
  private failing = 0;
  failed = 0;
  override reconnect(): void {
    this.failing = this.failAfterReconnect;
    super.reconnect();
  }
  override transmit(frame: ForwardFrame, priority: Priority): Promise<BackwardResult> {
    if (this.failing > 0) {
      this.failing--;
      this.failed++;
      const code = pick(mulberry32(this.failed), ['timeout', 'notConnected', 'busFault'] as const);
      return Promise.reject(new DaliInterfaceError('device not ready yet', code));
    }
    return super.transmit(frame, priority);
  }
}

/** Backoff timers fired by hand; `delays` records every wait asked for. */
class ManualTimers {
  readonly delays: number[] = [];
  private readonly waiting = new Set<() => void>();
  readonly setTimer = (delayMs: number, callback: () => void): { cancel(): void } => {
    this.delays.push(delayMs);
    this.waiting.add(callback);
    return { cancel: () => this.waiting.delete(callback) };
  };
  get pending(): number {
    return this.waiting.size;
  }
  /** Fires every waiting timer once. */
  fire(): void {
    const due = [...this.waiting];
    this.waiting.clear();
    for (const cb of due) cb();
  }
  /** Lets queued work run until a timer is waiting or `done()` holds. */
  async until(done: () => boolean = () => false): Promise<void> {
    for (let i = 0; i < 10_000 && this.waiting.size === 0 && !done(); i++) await new Promise((r) => setImmediate(r));
  }
}

async function flakyRig(timers: ManualTimers, options: DaliBusOptions = {}): Promise<Rig & { iface: NotReadyAfterReconnect }> {
  const clock = new VirtualClock({ startMs: 1_700_000_000_000, autoAdvance: true });
  const bus = new VirtualBus({ clock });
  const gear = new Map<number, VirtualGear>();
  for (const [a, groups] of Object.entries(GEAR_GROUPS)) {
    gear.set(Number(a), bus.addGear({ shortAddress: Number(a), groups, initialMirek: 250 }));
  }
  const iface = new NotReadyAfterReconnect(bus, { timeScale: 1 });
  const dali = new DaliBus(iface, { now: () => clock.now(), inventory: INVENTORY, setTimer: timers.setTimer, ...options });
  await dali.start();
  return { clock, bus, iface, dali, gear };
}

/** Waits until everything queued before has run (a background query goes last). */
async function settled(dali: DaliBus): Promise<void> {
  await dali.readActualLevel(63, { priority: 5 });
}

function state(g: VirtualGear | undefined): { level: number; mirek: number } {
  assert.ok(g);
  return { level: g.actualLevel, mirek: g.actualMirek };
}

describe('bus/dali-bus: DaliBus over the simulator', () => {
  describe('setpoints read back through QUERY ACTUAL LEVEL and QUERY COLOUR VALUE', () => {
    it('short address: level + Tc in 7 frames, other gear untouched', async () => {
      const { dali, gear } = await rig();
      const r = await dali.setpoint({ address: short(1), level: 200, mirek: 370 });
      assert.equal(r.frames, 7);
      assert.ok(r.busTimeMs > 180 && r.busTimeMs < 220, `bus time ${r.busTimeMs}`);
      assert.equal(await dali.readActualLevel(1), 200);
      assert.equal(await dali.readColourTemperatureMirek(1), 370);
      assert.equal(await dali.readActualLevel(2), 254);
      assert.equal(await dali.readColourTemperatureMirek(2), 250);
      assert.deepEqual(state(gear.get(1)), { level: 200, mirek: 370 });
      await dali.close();
    });

    it('group and broadcast reach exactly their members', async () => {
      const { dali } = await rig();
      await dali.setpoint({ address: group(1), level: 100, mirek: 300 });
      assert.deepEqual(await Promise.all([1, 2, 3, 4].map((a) => dali.readActualLevel(a))), [254, 254, 100, 100]);
      assert.deepEqual(await Promise.all([1, 2, 3, 4].map((a) => dali.readColourTemperatureMirek(a))), [250, 250, 300, 300]);
      await dali.setpoint({ address: broadcast, level: 50, mirek: 454 });
      for (const a of [1, 2, 3, 4]) {
        assert.equal(await dali.readActualLevel(a), 50);
        assert.equal(await dali.readColourTemperatureMirek(a), 454);
      }
      await dali.close();
    });

    it('knowledge: the same colour again costs one DAPC; automatic activation gear need 5 frames', async () => {
      const plain = await rig();
      await plain.dali.setpoint({ address: short(2), level: 120, mirek: 333 });
      const again = await plain.dali.setpoint({ address: short(2), level: 140, mirek: 333 });
      assert.equal(again.frames, 1);
      assert.equal(plain.dali.knowledge(2)?.mirek, 333);
      assert.equal(plain.dali.knowledge(2)?.autoActivation, false, 'probed once and cached');
      await plain.dali.close();

      const auto = await rig({ inventory: INVENTORY }, { autoActivation: true });
      const r = await auto.dali.setpoint({ address: short(3), level: 90, mirek: 400 });
      assert.equal(r.frames, 5);
      assert.deepEqual(state(auto.gear.get(3)), { level: 90, mirek: 400 });
      await auto.dali.close();
    });

    it('setpoints waiting together are planned together: identical ones collapse into a group', async () => {
      const { dali, iface, gear } = await rig();
      await dali.readGearFeatures(1);
      await dali.readGearFeatures(2);
      await dali.readGearFeatures(4);
      const before = iface.frames;
      await Promise.all([1, 2, 4].map((a) => dali.setpoint({ address: short(a), level: 77, mirek: 200 })));
      assert.equal(iface.frames - before, 7, 'one group 0 sequence instead of three');
      for (const a of [1, 2, 4]) assert.deepEqual(state(gear.get(a)), { level: 77, mirek: 200 });
      assert.deepEqual(state(gear.get(3)), { level: 254, mirek: 250 });
      await dali.close();
    });
  });

  describe('latest-wins coalescing', () => {
    it('a burst for one address sends only the last setpoint; the others resolve superseded', async () => {
      const { dali, iface, gear } = await rig();
      const before = iface.frames;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => dali.setpoint({ address: short(1), level: i + 1 })));
      assert.equal(results.filter((r) => r.superseded === true).length, 49);
      assert.equal(iface.frames - before, 1);
      assert.equal(gear.get(1)?.actualLevel, 50);
      await dali.close();
    });

    it('merges fields of a replaced setpoint (level from one, colour from the other)', async () => {
      const { dali, gear } = await rig();
      const a = dali.setpoint({ address: short(2), mirek: 300 });
      const b = dali.setpoint({ address: short(2), level: 33 });
      assert.deepEqual(await a, { frames: 0, busTimeMs: 0, superseded: true });
      await b;
      assert.deepEqual(state(gear.get(2)), { level: 33, mirek: 300 });
      await dali.close();
    });

    it('a merged field does not outlive a newer setpoint for an overlapping address', async () => {
      const { dali, gear } = await rig();
      const all = [
        dali.setpoint({ address: short(1), level: 20, mirek: 300 }),
        dali.setpoint({ address: group(0), mirek: 400 }),
        dali.setpoint({ address: short(1), level: 50 }), // replaces the first, must not bring back 300
      ];
      await Promise.all(all);
      assert.deepEqual(state(gear.get(1)), { level: 50, mirek: 400 });
      assert.deepEqual(state(gear.get(2)), { level: 254, mirek: 400 });
      await dali.close();
    });

    it('a newer setpoint at a more urgent priority does not overtake an older overlapping one', async () => {
      const { dali, gear } = await rig();
      const background = dali.setpoint({ address: group(0), level: 100 }, { priority: 5 });
      const user = dali.setpoint({ address: short(1), level: 50 }, { priority: 2 });
      await Promise.all([background, user]);
      assert.equal(gear.get(1)?.actualLevel, 50);
      assert.equal(gear.get(2)?.actualLevel, 100);
      await dali.close();
    });

    it('without coalescing every setpoint goes on the bus', async () => {
      const { dali, iface } = await rig({ inventory: INVENTORY, coalesce: false, batch: false });
      const before = iface.frames;
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => dali.setpoint({ address: short(1), level: i + 1 })));
      assert.equal(results.filter((r) => r.superseded === true).length, 0);
      assert.equal(iface.frames - before, 5);
      await dali.close();
    });

    for (const variant of ['inventory known', 'inventory unknown', 'foreign DTR traffic'] as const) {
      it(`every luminaire ends at the last setpoint given for it (random floods, ${variant})`, async () => {
        for (const seed of [101, 202, 303]) {
          const rng = mulberry32(seed);
          const { dali, gear, clock, bus } = await rig(variant === 'inventory unknown' ? {} : { inventory: INVENTORY });
          const expected = new Map<number, { level: number; mirek: number }>([1, 2, 3, 4].map((a) => [a, { level: 254, mirek: 250 }]));
          let noisy = variant === 'foreign DTR traffic';
          const targets: GearAddress[] = [short(1), short(2), short(3), short(4), group(0), group(1), broadcast];
          const reach = (t: GearAddress): number[] =>
            t.kind === 'short'
              ? [t.address]
              : t.kind === 'group'
                ? [1, 2, 3, 4].filter((a) => GEAR_GROUPS[a]?.includes(t.group))
                : [1, 2, 3, 4];
          if (variant === 'foreign DTR traffic') {
            // A second master writing DTRs, enabling device types and asking colour values, about once a second.
            const noise: ForwardFrame[] = [
              dtr0(0x00),
              dtr1(0x07),
              enableDeviceType(8),
              dt8Command(short(9), Dt8Command.QUERY_COLOUR_VALUE),
              gearCommand(short(9), GearCommand.QUERY_CONTENT_DTR0),
            ];
            const foreign = (): void => {
              if (!noisy) return;
              bus.inject(pick(rng, noise));
              clock.setTimer(randInt(rng, 200, 2000), foreign);
            };
            clock.setTimer(3, foreign);
          }
          const pending: Promise<SetpointResult>[] = [];
          for (let i = 0; i < 120; i++) {
            const t = pick(rng, targets);
            const r = rng();
            const level = r < 0.7 ? randInt(rng, 0, 254) : undefined;
            const mirek = r > 0.4 || level === undefined ? randInt(rng, 153, 555) : undefined;
            for (const a of reach(t)) {
              const e = expected.get(a) as { level: number; mirek: number };
              if (level !== undefined) e.level = level;
              if (mirek !== undefined) e.mirek = mirek;
            }
            pending.push(
              dali.setpoint({ address: t, ...(level !== undefined ? { level } : {}), ...(mirek !== undefined ? { mirek } : {}) }),
            );
            const wait = rng() < 0.5 ? 0 : randInt(rng, 1, 400);
            if (wait > 0) await new Promise<void>((res) => clock.setTimer(wait, res));
          }
          const results = await Promise.all(pending);
          noisy = false;
          for (const a of [1, 2, 3, 4]) {
            assert.deepEqual(state(gear.get(a)), expected.get(a), `seed ${seed}, ${variant}: gear ${a}`);
            assert.equal(await dali.readActualLevel(a), expected.get(a)?.level, `seed ${seed}: read back level of ${a}`);
            assert.equal(await dali.readColourTemperatureMirek(a), expected.get(a)?.mirek, `seed ${seed}: read back mirek of ${a}`);
          }
          assert.ok(
            results.some((r) => r.superseded === true),
            `seed ${seed}: some setpoints coalesced`,
          );
          await dali.close();
        }
      });
    }
  });

  describe('foreign frames', () => {
    it('a wall panel DAPC is reported decoded and updates the knowledge', async () => {
      const { dali, bus } = await rig();
      const seen: DaliBusFrameEvent[] = [];
      dali.on('frame', (e: DaliBusFrameEvent) => seen.push(e));
      bus.inject(dapc(short(2), 33));
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.decoded?.kind, 'dapc');
      assert.equal(dali.knowledge(2)?.level, 33);
      bus.inject(dapc(group(1), 44));
      assert.equal(dali.knowledge(3)?.level, 44);
      assert.equal(dali.knowledge(4)?.level, 44);
      assert.equal(dali.knowledge(2)?.level, 33);
      await dali.close();
    });

    it('a wall panel colour change is learnt, so our next setpoint is not skipped as "already there"', async () => {
      const { dali, bus, gear } = await rig();
      await dali.setpoint({ address: short(1), level: 100, mirek: 300 });
      for (const f of [
        dtr0(0x90),
        dtr1(0x01),
        enableDeviceType(8),
        dt8Command(short(1), Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
        enableDeviceType(8),
        dt8Command(short(1), Dt8Command.ACTIVATE),
      ]) {
        bus.inject(f);
      }
      assert.equal(gear.get(1)?.actualMirek, 400);
      assert.equal(dali.knowledge(1)?.mirek, 400);
      const r = await dali.setpoint({ address: short(1), level: 100, mirek: 300 });
      assert.equal(r.frames, 7);
      assert.equal(gear.get(1)?.actualMirek, 300);
      await dali.close();
    });

    it('a foreign frame between our DTR writes and SET TEMPORARY Tc: the step is sent again', async () => {
      const { dali, bus, gear } = await rig();
      let injected = false;
      bus.on('forward', (ev: ForwardEvent) => {
        if (!ev.foreign && !injected && ev.frame.value >> 8 === 0xc3) {
          injected = true;
          bus.inject(dtr0(0x00)); // a second master clobbers DTR0 right after our DTR1
        }
      });
      const r = await dali.setpoint({ address: short(1), mirek: 370 });
      assert.ok(injected);
      assert.equal(gear.get(1)?.actualMirek, 370);
      assert.ok(r.frames > 6, `the step was repeated (${r.frames} frames)`);
      await dali.close();
    });

    it('a foreign frame at the end of the first of two steps sharing DTRs: both gear get the colour', async () => {
      const { dali, bus, gear } = await rig({ inventory: { shortAddresses: [1, 2, 3, 4] } });
      let injected = false;
      bus.on('forward', (ev: ForwardEvent) => {
        if (!ev.foreign && !injected && (ev.frame.value & 0xff) === Dt8Command.ACTIVATE && ev.frame.value >> 8 !== 0xc1) {
          injected = true;
          bus.inject(dtr0(0x00));
          bus.inject(dtr1(0x00));
        }
      });
      await Promise.all([dali.setpoint({ address: short(1), mirek: 370 }), dali.setpoint({ address: short(3), mirek: 370 })]);
      assert.ok(injected);
      assert.equal(gear.get(1)?.actualMirek, 370);
      assert.equal(gear.get(3)?.actualMirek, 370);
      await dali.close();
    });

    it('a step relying on DTRs written earlier writes its own after a foreign frame', async () => {
      const { dali, bus, gear } = await rig({ inventory: { shortAddresses: [1, 2, 3, 4] } });
      await dali.setpoint({ address: short(1), mirek: 370 }); // leaves DTR1:DTR0 = 370 for the next batch
      let injected = false;
      bus.on('forward', (ev: ForwardEvent) => {
        if (!ev.foreign && !injected && ev.frame.value === dapc(short(2), 10).value) {
          injected = true;
          bus.inject(dtr0(0x00)); // during the level-only step planned before the colour step
        }
      });
      await Promise.all([dali.setpoint({ address: short(2), level: 10 }), dali.setpoint({ address: short(3), mirek: 370 })]);
      assert.ok(injected);
      assert.equal(gear.get(2)?.actualLevel, 10);
      assert.equal(gear.get(3)?.actualMirek, 370);
      await dali.close();
    });

    it('a colour read disturbed by a foreign frame is asked again', async () => {
      const { dali, bus } = await rig();
      let injected = 0;
      bus.on('forward', (ev: ForwardEvent) => {
        if (!ev.foreign && injected < 2 && ev.frame.value === 0xc108) {
          injected++;
          bus.inject(dtr0(0x80)); // takes our ENABLE DEVICE TYPE and changes the selector
        }
      });
      assert.equal(await dali.readColourTemperatureMirek(1), 250);
      assert.equal(injected, 2);
      await dali.close();
    });

    it('sensor events arrive as decoded event frames', async () => {
      const { dali, bus } = await rig();
      const sensor = bus.addSensor({ shortAddress: 20 });
      const seen: DaliBusFrameEvent[] = [];
      dali.on('frame', (e: DaliBusFrameEvent) => seen.push(e));
      await dali.send([deviceDtr0(EventScheme.Device)]);
      await dali.send([
        { ...instanceCommand({ kind: 'short', address: 20 }, { kind: 'all' }, InstanceCommand.SET_EVENT_SCHEME) },
        { ...instanceCommand({ kind: 'short', address: 20 }, { kind: 'all' }, InstanceCommand.ENABLE_INSTANCE) },
      ]);
      sensor.setOccupancy(true, true);
      assert.equal(seen.length, 1);
      const d = seen[0]?.decoded;
      assert.ok(d && d.kind === 'event');
      assert.equal(d.shortAddress, 20);
      assert.equal(d.occupancy?.occupied, true);
      await dali.close();
    });
  });

  describe('disconnect and reconnect', () => {
    /**
     * A real bus (the inventory declares no groups; the membership scan tells G1 = A3, A4): G1 at 60, then
     * the interface goes, a broadcast to 10 happens unseen, and it comes back. The groups are unknown again.
     */
    async function groupSetpointThenReconnect(): Promise<Rig> {
      const r = await rig({ inventory: { shortAddresses: [1, 2, 3, 4], complete: true } });
      r.dali.setGroupMembers(1, [3, 4]);
      await r.dali.setpoint({ address: group(1), level: 60 });
      r.iface.disconnect();
      r.bus.inject(dapc(broadcast, 10));
      r.iface.reconnect();
      await settled(r.dali);
      return r;
    }

    it('re-applies the last setpoint per address once after a reconnect', async () => {
      const { dali, iface, bus, gear } = await rig();
      await dali.setpoint({ address: short(1), level: 100, mirek: 300 });
      await dali.setpoint({ address: group(1), level: 60 });
      iface.disconnect();
      await assert.rejects(
        dali.setpoint({ address: short(1), level: 150 }),
        (e: unknown) => e instanceof DaliInterfaceError && e.code === 'notConnected',
      );
      // While we are away, someone else changes the lights (we cannot see it).
      bus.inject(dapc(broadcast, 10));
      for (const f of [
        dtr0(0xc8),
        dtr1(0x00),
        enableDeviceType(8),
        dt8Command(broadcast, Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
        enableDeviceType(8),
        dt8Command(broadcast, Dt8Command.ACTIVATE),
      ]) {
        bus.inject(f);
      }
      const before = iface.frames;
      iface.reconnect();
      await settled(dali);
      assert.deepEqual(state(gear.get(1)), { level: 150, mirek: 300 });
      assert.equal(gear.get(3)?.actualLevel, 60);
      assert.equal(gear.get(4)?.actualLevel, 60);
      assert.equal(gear.get(2)?.actualLevel, 10, 'gear 2 had no setpoint of ours');
      const reapplied = iface.frames - before;
      await settled(dali);
      assert.equal(iface.frames - before, reapplied + 1, 'only once (the extra frame is the barrier query)');
      await dali.close();
    });

    it('a group is not re-applied after a reconnect on a real bus, not even once the scan knows it again: the gear added to it meanwhile (another zone) keeps its level', async () => {
      const { dali, gear } = await groupSetpointThenReconnect();
      dali.setGroupMembers(1, [1, 3, 4]); // the scan finds A1 in group 1 now
      await settled(dali);
      assert.deepEqual(
        [1, 3, 4].map((a) => gear.get(a)?.actualLevel),
        [10, 10, 10],
        'nothing sent to G1',
      );
      await dali.close();
    });

    it('a level a wall panel set after our setpoint is not overridden by the re-apply', async () => {
      const { dali, iface, bus, gear } = await rig();
      await dali.setpoint({ address: short(2), level: 100, mirek: 300 });
      bus.inject(dapc(short(2), 33));
      iface.disconnect();
      iface.reconnect();
      await settled(dali);
      assert.deepEqual(state(gear.get(2)), { level: 33, mirek: 300 });
      await dali.close();
    });
  });

  describe('re-apply after a reconnect when the device is not ready yet', () => {
    it('failed first frames are retried with growing backoff until every gear is at its last setpoint', async () => {
      const timers = new ManualTimers();
      const { dali, iface, bus, gear } = await flakyRig(timers);
      const gaveUp: unknown[] = [];
      dali.on('reapplyFailed', (e: unknown) => gaveUp.push(e));
      await dali.setpoint({ address: short(1), level: 100, mirek: 300 });
      await dali.setpoint({ address: group(1), level: 60, mirek: 400 });
      iface.disconnect();
      await assert.rejects(dali.setpoint({ address: short(1), level: 150 }), (e: unknown) => e instanceof DaliInterfaceError);
      // While we are away, someone else changes the lights (we cannot see it).
      bus.inject(dapc(broadcast, 10));
      iface.failAfterReconnect = 3;
      iface.reconnect();
      for (let round = 0; round < 10; round++) {
        await timers.until();
        if (timers.pending === 0) break;
        timers.fire();
      }
      await settled(dali);
      assert.equal(iface.failed, 3);
      assert.ok(timers.delays.length >= 3, `retried ${timers.delays.length} times`);
      assert.ok(
        timers.delays.every((d, i) => i === 0 || d >= (timers.delays[i - 1] as number)),
        `backoff grows: ${timers.delays.join(', ')}`,
      );
      assert.deepEqual(state(gear.get(1)), { level: 150, mirek: 300 });
      assert.deepEqual(state(gear.get(3)), { level: 60, mirek: 400 });
      assert.deepEqual(state(gear.get(4)), { level: 60, mirek: 400 });
      assert.equal(gear.get(2)?.actualLevel, 10, 'gear 2 had no setpoint of ours');
      assert.equal(timers.pending, 0);
      assert.deepEqual(gaveUp, []);
      await dali.close();
    });

    it('a newer setpoint given during the backoff wins; the re-apply only restores what it did not set', async () => {
      const timers = new ManualTimers();
      const { dali, iface, gear } = await flakyRig(timers);
      await dali.setpoint({ address: short(1), level: 100, mirek: 300 });
      await dali.setpoint({ address: short(3), level: 90, mirek: 350 });
      iface.disconnect();
      iface.failAfterReconnect = 1;
      iface.reconnect();
      await timers.until();
      assert.ok(timers.pending > 0, 'the re-apply failed and waits');
      await dali.setpoint({ address: short(1), level: 77 });
      await dali.setpoint({ address: group(1), level: 20, mirek: 200 }); // gear 3 and 4
      timers.fire();
      await timers.until();
      await settled(dali);
      assert.deepEqual(state(gear.get(1)), { level: 77, mirek: 300 });
      assert.deepEqual(state(gear.get(3)), { level: 20, mirek: 200 });
      assert.deepEqual(state(gear.get(4)), { level: 20, mirek: 200 });
      assert.equal(timers.pending, 0);
      await dali.close();
    });

    it('gives up after the configured attempts, and close leaves no timer behind', async () => {
      const timers = new ManualTimers();
      const { dali, iface } = await flakyRig(timers, { reapplyRetry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 80 } });
      const gaveUp: { attempts: number; error: Error }[] = [];
      dali.on('reapplyFailed', (e: { attempts: number; error: Error }) => gaveUp.push(e));
      await dali.setpoint({ address: short(1), level: 100 });
      iface.disconnect();
      iface.failAfterReconnect = 1000;
      iface.reconnect();
      for (let round = 0; round < 10; round++) {
        await timers.until(() => gaveUp.length > 0);
        if (timers.pending === 0) break;
        timers.fire();
      }
      assert.deepEqual(timers.delays, [50, 80]);
      assert.equal(gaveUp.length, 1);
      assert.equal(gaveUp[0]?.attempts, 3);
      assert.ok(gaveUp[0]?.error instanceof DaliInterfaceError);

      // Another reconnect starts over; close during the backoff cancels the timer.
      iface.disconnect();
      iface.reconnect();
      await timers.until();
      assert.equal(timers.pending, 1);
      const failedBefore = iface.failed;
      await dali.close();
      assert.equal(timers.pending, 0);
      timers.fire();
      await new Promise((r) => setImmediate(r));
      assert.equal(iface.failed, failedBefore, 'nothing sent after close');
    });

    it('losing the interface again stops the retries; the next reconnect re-applies', async () => {
      const timers = new ManualTimers();
      const { dali, iface, bus, gear } = await flakyRig(timers);
      await dali.setpoint({ address: short(2), level: 42, mirek: 500 });
      iface.disconnect();
      iface.failAfterReconnect = 1;
      iface.reconnect();
      await timers.until();
      assert.equal(timers.pending, 1);
      iface.disconnect();
      assert.equal(timers.pending, 0);
      bus.inject(dapc(short(2), 5)); // unseen: we are unplugged
      iface.failAfterReconnect = 0;
      iface.reconnect();
      await settled(dali);
      assert.deepEqual(state(gear.get(2)), { level: 42, mirek: 500 });
      await dali.close();
    });
  });

  describe('queries', () => {
    it('device types, status, Tc limits, gear features (cached), groups', async () => {
      const { dali, bus, iface } = await rig();
      const multi = bus.addGear({ shortAddress: 9, deviceTypes: [6, 8] });
      multi.setLampFailure(true);
      assert.deepEqual(await dali.queryDeviceTypes(1), [8]);
      assert.deepEqual(await dali.queryDeviceTypes(9), [6, 8]);
      assert.equal(await dali.queryDeviceTypes(30), null);
      const status = await dali.queryStatus(9);
      assert.equal(status?.lampFailure, true);
      assert.equal(status?.lampOn, false);
      assert.equal((await dali.queryStatus(1))?.lampOn, true);
      assert.deepEqual(await dali.readTcLimits(1), {
        coolestMirek: 153,
        warmestMirek: 555,
        physicalCoolestMirek: 153,
        physicalWarmestMirek: 555,
      });
      assert.deepEqual(await dali.readGearFeatures(1), { autoActivation: false, raw: 0 });
      const before = iface.frames;
      await dali.readGearFeatures(1);
      assert.equal(iface.frames, before, 'cached');
      assert.deepEqual(await dali.readGroups(4), [0, 1]);
      assert.equal(await dali.readColourTemperatureMirek(30), null);
      assert.deepEqual(await dali.query(gearCommand(short(1), GearCommand.QUERY_CONTROL_GEAR_PRESENT)), { kind: 'answer', value: 0xff });
      await dali.close();
    });

    it('a query that collides is repeated; a setpoint survives a corrupted frame', async () => {
      const { dali, bus, gear } = await rig();
      bus.corruptNext(1);
      assert.equal(await dali.readActualLevel(1), 254);
      bus.corruptNext(1);
      await dali.setpoint({ address: short(1), level: 42 });
      assert.equal(gear.get(1)?.actualLevel, 42);
      await dali.close();
    });
  });

  it('rejects invalid setpoints without throwing', async () => {
    const { dali } = await rig();
    await assert.rejects(dali.setpoint({ address: short(64), level: 1 }), RangeError);
    await assert.rejects(dali.setpoint({ address: short(1), level: 255 }), RangeError);
    await assert.rejects(dali.setpoint({ address: short(1), mirek: 0 }), RangeError);
    await assert.rejects(dali.setpoint({ address: short(1) }), RangeError);
    await assert.rejects(dali.setpoint(null as unknown as { address: GearAddress }), RangeError);
    await assert.rejects(dali.readActualLevel(-1), RangeError);
    await assert.rejects(dali.send([{ bits: 16, value: 0x10000 }]), RangeError);
    await dali.close();
  });

  it("forwards 'queue' and 'state' events; close rejects waiting setpoints with a clear error", async () => {
    const { dali, iface } = await rig();
    const queue: QueueEvent[] = [];
    const states: string[] = [];
    dali.on('queue', (e: QueueEvent) => queue.push(e));
    dali.on('state', (e: { state: string }) => states.push(e.state));
    const running = dali.setpoint({ address: short(1), level: 1, mirek: 200 });
    await new Promise((r) => setImmediate(r));
    const waiting = assert.rejects(
      dali.setpoint({ address: short(2), level: 2 }),
      (e: unknown) => e instanceof DaliInterfaceError && e.code === 'closed' && /closed/.test(e.message),
    );
    await dali.close();
    await running;
    await waiting;
    assert.ok(queue.some((e) => e.busy));
    assert.deepEqual(states, ['closed']);
    assert.equal(iface.state, 'closed');
    await assert.rejects(dali.setpoint({ address: short(1), level: 1 }), /closed/);
  });
});
