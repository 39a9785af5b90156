import assert from 'node:assert/strict';
import type { DaliBusFrameEvent } from '../../../lib/dali/bus/dali-bus';
import { dapc, dt8Command, dtr0, dtr1, enableDeviceType, FrameDecoder, gearCommand } from '../../../lib/dali/codec';
import type { ManualChange } from '../../../lib/contracts';
import { ManualChangeDetector } from '../../../lib/dali/manual-change';
import { Dt8Command, GearCommand } from '../../../lib/dali/opcodes';
import { VirtualClock } from '../../../lib/dali/sim/virtual-bus';
import type { ForwardFrame, GearAddress } from '../../../lib/dali/types';

const short = (address: number): GearAddress => ({ kind: 'short', address });
const group = (g: number): GearAddress => ({ kind: 'group', group: g });

/** Group 0 = gear 0-3, group 1 = gear 4-5 (as the bus knows it); group 2 unknown. */
const MEMBERS: Record<number, number[]> = { 0: [0, 1, 2, 3], 1: [4, 5] };

function rig(gear = { shorts: [1, 2], groups: [1] }): {
  clock: VirtualClock;
  send(...frames: ForwardFrame[]): void;
  changes: ManualChange[];
  detector: ManualChangeDetector;
} {
  const clock = new VirtualClock({ startMs: 1_700_000_000_000 });
  const detector = new ManualChangeDetector({
    zone: 'office-1',
    gear,
    membersOf: (a) =>
      a.kind === 'group' && MEMBERS[a.group] ? { shorts: MEMBERS[a.group] as number[], complete: true } : { shorts: [], complete: false },
    clock,
  });
  const changes: ManualChange[] = [];
  detector.on('change', (c: ManualChange) => changes.push(c));
  const decoder = new FrameDecoder();
  const send = (...frames: ForwardFrame[]): void => {
    for (const f of frames) {
      const ev: DaliBusFrameEvent = { event: { ts: clock.now(), bits: 16, value: f.value }, decoded: decoder.decode(16, f.value) };
      detector.handle(ev);
    }
  };
  return { clock, send, changes, detector };
}

function tcSequence(address: GearAddress, mirek: number): ForwardFrame[] {
  return [
    dtr0(mirek & 0xff),
    dtr1(mirek >> 8),
    enableDeviceType(8),
    dt8Command(address, Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
    enableDeviceType(8),
    dt8Command(address, Dt8Command.ACTIVATE),
  ];
}

describe('manual-change: commands of other masters to the zone gear', () => {
  it('reports a DAPC to zone gear once nothing more came for 300 ms', () => {
    const { clock, send, changes } = rig();
    send(dapc(short(1), 200));
    clock.advance(299);
    assert.equal(changes.length, 0);
    clock.advance(1);
    assert.equal(changes.length, 1);
    const c = changes[0] as ManualChange;
    assert.equal(c.kind, 'manualChange');
    assert.equal(c.zone, 'office-1');
    assert.equal(c.address, 'A1');
    assert.equal(c.ts, 1_700_000_000_000);
    assert.deepEqual(c.commands, ['DAPC']);
    assert.equal(c.level, 200);
    assert.ok(Math.abs((c.intensity ?? 0) - 22.89) < 0.01, `intensity ${c.intensity}`);
  });

  it('merges the frames of one press (colour, activate, level) into one change', () => {
    const { clock, send, changes } = rig();
    send(...tcSequence(group(1), 370), dapc(group(1), 150));
    clock.advance(1000);
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0], {
      kind: 'manualChange',
      zone: 'office-1',
      address: 'G1',
      ts: 1_700_000_000_000,
      commands: ['ACTIVATE', 'DAPC'],
      level: 150,
      intensity: changes[0]?.intensity,
      mirek: 370,
      cct: 2703,
    });
  });

  it('takes the colour into a level command right after SET TEMPORARY COLOUR TEMPERATURE (automatic activation)', () => {
    const { clock, send, changes } = rig();
    send(dtr0(250), dtr1(0), enableDeviceType(8), dt8Command(short(2), Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE), dapc(short(2), 100));
    clock.advance(300);
    assert.deepEqual([changes[0]?.commands, changes[0]?.level, changes[0]?.cct], [['DAPC'], 100, 4000]);
  });

  it('concerns the zone: listed gear and groups, groups known to share gear, broadcast', () => {
    const { detector } = rig({ shorts: [1], groups: [1] });
    assert.equal(detector.concernsZone(short(1)), true);
    assert.equal(detector.concernsZone(short(5)), true, 'a member of a listed group');
    assert.equal(detector.concernsZone(short(7)), false);
    assert.equal(detector.concernsZone(group(1)), true);
    assert.equal(detector.concernsZone(group(0)), true, 'group 0 holds gear 1');
    assert.equal(detector.concernsZone(group(2)), false, 'membership unknown: not reported');
    assert.equal(detector.concernsZone({ kind: 'broadcast' }), true);
    assert.equal(detector.concernsZone({ kind: 'broadcastUnaddressed' }), false);
  });

  it('names the arc power commands; level only where the command sets one', () => {
    const { clock, send, changes } = rig();
    send(gearCommand(short(1), GearCommand.OFF));
    clock.advance(300);
    send(gearCommand(short(1), GearCommand.GO_TO_SCENE, 3));
    clock.advance(300);
    send(gearCommand(short(1), GearCommand.UP), gearCommand(short(1), GearCommand.UP), gearCommand(short(1), GearCommand.STEP_UP));
    clock.advance(300);
    send(dapc(short(1), 100), gearCommand(short(1), GearCommand.RECALL_MAX_LEVEL));
    clock.advance(300);
    assert.deepEqual(
      changes.map((c) => [c.commands, c.level]),
      [
        [['OFF'], 0],
        [['GO TO SCENE 3'], undefined],
        [['UP', 'STEP UP'], undefined],
        [['DAPC', 'RECALL MAX LEVEL'], undefined],
      ],
    );
  });

  it('ignores DAPC MASK, queries, configuration commands and other gear', () => {
    const { clock, send, changes } = rig();
    send(
      dapc(short(1), 255),
      gearCommand(short(1), GearCommand.QUERY_ACTUAL_LEVEL),
      dtr0(4),
      gearCommand(short(1), GearCommand.SET_FADE_TIME),
      dapc(short(9), 100),
      ...tcSequence(short(9), 300),
    );
    clock.advance(2000);
    assert.deepEqual(changes, []);
  });

  it('a held button: at most one change per second, then the next', () => {
    const { clock, send, changes } = rig();
    for (let t = 0; t < 2500; t += 100) {
      send(gearCommand(short(2), GearCommand.UP));
      clock.advance(100);
    }
    clock.advance(500);
    assert.equal(changes.length, 3);
    assert.ok(changes.every((c) => c.commands.join() === 'UP'));
  });

  it('stop() drops what is pending and leaves no timer', () => {
    const { clock, send, changes, detector } = rig();
    send(dapc(short(1), 10));
    detector.stop();
    clock.advance(1000);
    assert.deepEqual(changes, []);
    assert.equal(clock.pending, 0);
  });
});
