import assert from 'node:assert/strict';
import { dapc, dt8Command, dtr0, dtr1, enableDeviceType, gearCommand } from '../../../../lib/dali/codec';
import { Dt8Command, GearCommand } from '../../../../lib/dali/opcodes';
import {
  BACKWARD_FRAME_MS,
  BACKWARD_TIMEOUT_MS,
  FORWARD_FRAME_16_MS,
  FORWARD_FRAME_24_MS,
  SEND_TWICE_WINDOW_MS,
  capacityFramesPerSecond,
  forwardSettlingMs,
  frameTiming,
  transactionBusTimeMs,
  wireFrameCount,
  BusTimeAccumulator,
} from '../../../../lib/dali/bus/timing';
import type { ForwardFrame } from '../../../../lib/dali/types';

const near = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual.toFixed(3)} not within ${tol} of ${expected}`);

const short5 = { kind: 'short', address: 5 } as const;
/** Level + Tc on one address: the 7-frame sequence of the reference. */
const levelAndTc: ForwardFrame[] = [
  dtr0(0x72),
  dtr1(0x01),
  enableDeviceType(8),
  dt8Command(short5, Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
  enableDeviceType(8),
  dt8Command(short5, Dt8Command.ACTIVATE),
  dapc(short5, 200),
];

describe('bus/timing: part 101 bus timing model', () => {
  it('frames on the wire at 1200 bit/s: 17 bits 14.17 ms, 25 bits 20.83 ms, backward 9 bits 7.5 ms', () => {
    near(FORWARD_FRAME_16_MS, 14.17, 0.005, '16-bit');
    near(FORWARD_FRAME_24_MS, 20.83, 0.005, '24-bit');
    near(BACKWARD_FRAME_MS, 7.5, 1e-9, 'backward');
  });

  it('settling grows with the priority number, within the part 101 ranges', () => {
    assert.equal(forwardSettlingMs(1, 'min'), 13.5);
    assert.equal(forwardSettlingMs(5, 'max'), 21.1);
    for (let p = 1; p < 5; p++) {
      assert.ok(forwardSettlingMs(p as 1 | 2 | 3 | 4, 'max') < forwardSettlingMs((p + 1) as 2 | 3 | 4 | 5, 'min'));
    }
    assert.throws(() => forwardSettlingMs(0 as 1), RangeError);
  });

  it('capacity: about 28-36 commands/s without answers, 21-25 queries/s', () => {
    const cmd = [{ bits: 16 as const, priority: 1 as const }];
    near(capacityFramesPerSecond(cmd, 'min'), 36.1, 0.1, 'P1 fastest');
    near(capacityFramesPerSecond([{ bits: 16, priority: 5 }], 'max'), 28.35, 0.1, 'P5 slowest');
    const queries = [{ bits: 16 as const, expectAnswer: true, priority: 1 as const }];
    const qMin = capacityFramesPerSecond(queries, 'min');
    const qMax = capacityFramesPerSecond(queries, 'max');
    assert.ok(qMin <= 25 && qMin >= 23, `fastest queries ${qMin}`);
    assert.ok(qMax >= 21 && qMax <= 22, `slowest queries ${qMax}`);
    assert.ok(capacityFramesPerSecond([{ bits: 16, expectAnswer: true, priority: 5 }]) < qMax, 'background polling is slower');
    assert.equal(capacityFramesPerSecond([]), 0);
  });

  it('level + Tc on one address: 7 frames, about 200 ms; level only about 29 ms', () => {
    near(transactionBusTimeMs(levelAndTc, { priority: 2 }), 200, 5, 'level + Tc');
    near(transactionBusTimeMs([dapc(short5, 200)], { priority: 2 }), 29.5, 1, 'level only');
    // Ten addresses one by one vs one group: 70 frames about 2.1 s vs 7 frames.
    const ten = Array.from({ length: 10 }, () => transactionBusTimeMs(levelAndTc, { priority: 2 })).reduce((a, b) => a + b);
    near(ten, 2000, 100, 'ten addresses');
  });

  it('answers: an answered query adds settling + backward frame; NO holds the 12.4 ms window', () => {
    const q = gearCommand(short5, GearCommand.QUERY_ACTUAL_LEVEL);
    const answered = frameTiming(q, 3, { answer: 'answer', estimate: 'min' });
    const none = frameTiming(q, 3, { answer: 'none' });
    assert.equal(answered.answerMs, 5.5 + 7.5);
    assert.equal(none.answerMs, BACKWARD_TIMEOUT_MS);
    const cmd = frameTiming(dapc(short5, 1), 3, { answer: 'answer' });
    assert.equal(cmd.answerMs, 0, 'a command waits for no answer');
  });

  it('send-twice: two frames on the wire, the repeat inside the 94 ms window', () => {
    const twice = gearCommand(short5, GearCommand.SET_FADE_TIME);
    assert.equal(twice.sendTwice, true);
    const t = frameTiming(twice, 2, { estimate: 'max' });
    assert.equal(t.wireFrames, 2);
    assert.ok(t.wireMs - FORWARD_FRAME_16_MS < SEND_TWICE_WINDOW_MS, 'repeat starts within 94 ms');
    assert.ok(t.totalMs > frameTiming(dapc(short5, 1), 2, { estimate: 'max' }).totalMs + FORWARD_FRAME_16_MS);
    assert.equal(wireFrameCount([twice, dapc(short5, 1)]), 3);
  });

  it('the accumulator adds up bus time and reports the observed mix', () => {
    const acc = new BusTimeAccumulator();
    let sum = 0;
    levelAndTc.forEach((f, i) => (sum += acc.add(f, i === 0 ? 2 : 1, 'none')));
    assert.equal(acc.frames, 7);
    near(acc.busTimeMs, transactionBusTimeMs(levelAndTc, { priority: 2 }), 1e-9, 'same as transactionBusTimeMs');
    near(sum, acc.busTimeMs, 1e-9, 'returned times');
    near(capacityFramesPerSecond(acc.frameMix()), (7 * 1000) / acc.busTimeMs, 1e-9, 'capacity of the observed mix');
  });
});
