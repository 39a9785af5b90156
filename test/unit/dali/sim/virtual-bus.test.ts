import assert from 'node:assert/strict';
import { dapc, gearCommand } from '../../../../lib/dali/codec';
import { GearCommand } from '../../../../lib/dali/opcodes';
import { VirtualBus, VirtualClock, sleep, type ForwardEvent } from '../../../../lib/dali/sim/virtual-bus';
import type { BusFrameEvent } from '../../../../lib/dali/types';

describe('sim/virtual-bus', () => {
  describe('VirtualClock', () => {
    it('fires timers in time order (same instant: in the order set) when advanced', () => {
      const clock = new VirtualClock({ startMs: 100 });
      const fired: string[] = [];
      clock.setTimer(30, () => fired.push(`b@${clock.now()}`));
      clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
      clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
      const cancelled = clock.setTimer(20, () => fired.push('never'));
      cancelled.cancel();
      clock.advance(25);
      assert.deepEqual(fired, ['a@110']);
      assert.equal(clock.now(), 125);
      clock.advance(100);
      assert.deepEqual(fired, ['a@110', 'b@130', 'c@130']);
      assert.equal(clock.pending, 0);
    });

    it('autoAdvance runs async code waiting on the clock in virtual time', async () => {
      const clock = new VirtualClock({ autoAdvance: true });
      const log: number[] = [];
      const worker = async (delays: number[]): Promise<void> => {
        for (const d of delays) {
          await sleep(clock, d);
          log.push(clock.now());
        }
      };
      await Promise.all([worker([1000, 1000, 1000]), worker([1500, 60_000])]);
      assert.deepEqual(log, [1000, 1500, 2000, 3000, 61_500]);
    });
  });

  describe('VirtualBus', () => {
    it('one answer is an answer, several are a framing error, none is none', () => {
      const bus = new VirtualBus({ clock: new VirtualClock() });
      bus.addGear({ shortAddress: 1, groups: [0], initialLevel: 10 });
      bus.addGear({ shortAddress: 2, groups: [0], initialLevel: 20 });
      assert.deepEqual(bus.handleForward(gearCommand({ kind: 'short', address: 2 }, GearCommand.QUERY_ACTUAL_LEVEL)), {
        kind: 'answer',
        value: 20,
      });
      assert.deepEqual(bus.handleForward(gearCommand({ kind: 'group', group: 0 }, GearCommand.QUERY_ACTUAL_LEVEL)), {
        kind: 'framingError',
      });
      assert.deepEqual(bus.handleForward(gearCommand({ kind: 'short', address: 9 }, GearCommand.QUERY_ACTUAL_LEVEL)), { kind: 'none' });
      assert.deepEqual(bus.handleForward({ bits: 16, value: 0x1_0000 }), { kind: 'framingError' }, 'out-of-range value');
    });

    it('inject: a wall panel frame reaches the gear and is reported as a foreign frame; ours is not', () => {
      const bus = new VirtualBus({ clock: new VirtualClock({ startMs: 5000 }) });
      const gear = bus.addGear({ shortAddress: 3, initialLevel: 100 });
      const seen: BusFrameEvent[] = [];
      const forwards: ForwardEvent[] = [];
      bus.on('frame', (ev: BusFrameEvent) => seen.push(ev));
      bus.on('forward', (ev: ForwardEvent) => forwards.push(ev));
      bus.handleForward(dapc({ kind: 'short', address: 3 }, 50));
      assert.equal(gear.actualLevel, 50);
      assert.deepEqual(seen, []);
      bus.inject(dapc({ kind: 'broadcast' }, 200));
      assert.equal(gear.actualLevel, 200);
      assert.deepEqual(seen, [{ ts: 5000, bits: 16, value: 0xfec8 }]);
      bus.inject(gearCommand({ kind: 'short', address: 3 }, GearCommand.QUERY_ACTUAL_LEVEL));
      assert.deepEqual(seen[2], { ts: 5000, bits: 8, value: 200 }, 'the answer to a foreign query is seen too');
      assert.deepEqual(
        forwards.map((f) => f.foreign),
        [false, true, true],
      );
    });

    it('sendTwice delivers the frame twice so configuration commands act', () => {
      const bus = new VirtualBus({ clock: new VirtualClock() });
      const gear = bus.addGear({ shortAddress: 0 });
      bus.handleForward({ bits: 16, value: 0x0162 }); // ADD TO GROUP 2, once
      assert.deepEqual(gear.groups, []);
      bus.handleForward({ bits: 16, value: 0x0162, sendTwice: true });
      assert.deepEqual(gear.groups, [2]);
    });

    it('corruptNext destroys frames: nobody receives them and the sender sees a framing error', () => {
      const bus = new VirtualBus({ clock: new VirtualClock() });
      const gear = bus.addGear({ shortAddress: 0, initialLevel: 10 });
      bus.corruptNext(1);
      assert.deepEqual(bus.handleForward(dapc({ kind: 'short', address: 0 }, 99)), { kind: 'framingError' });
      assert.equal(gear.actualLevel, 10);
      bus.handleForward(dapc({ kind: 'short', address: 0 }, 99));
      assert.equal(gear.actualLevel, 99);
    });
  });
});
