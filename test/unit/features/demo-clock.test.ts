import assert from 'node:assert/strict';
import {
  activeDemoClock,
  claimDemoClock,
  DemoClock,
  demoClockFromEnv,
  DemoClockError,
  LocalClock,
  parseClockTime,
  parseDemoSpeed,
  releaseDemoClock,
} from '../../../lib/features';

const T0 = Date.UTC(2026, 11, 7, 3, 10); // a Monday, 03:10 UTC: outside office hours

describe('demo clock (DEMO_CLOCK, DEMO_SPEED)', () => {
  afterEach(() => {
    for (const owner of ['sim', 'sim2', 'real']) releaseDemoClock(owner);
  });

  it('reads HH:MM and the speed, and refuses what it cannot use', () => {
    assert.equal(parseClockTime('08:55'), 535);
    assert.equal(parseClockTime('5:50'), 350);
    assert.equal(parseClockTime('23:59'), 1439);
    for (const bad of ['24:00', '8.55', '08:60', '', 'noon']) assert.throws(() => parseClockTime(bad), DemoClockError, bad);
    assert.equal(parseDemoSpeed(''), 1);
    assert.equal(parseDemoSpeed('60'), 60);
    for (const bad of ['0', '61', 'fast', '-1']) assert.throws(() => parseDemoSpeed(bad), DemoClockError, bad);
  });

  it('runs from the chosen time at the chosen speed, wrapping at midnight and moving the weekday on', () => {
    const c = new DemoClock({ startMinute: 8 * 60 + 55, speed: 1, epochMs: T0, weekday: 1 });
    assert.deepEqual(c.at(T0), { minuteOfDay: 535, weekday: 1 });
    assert.equal(c.label(T0 + 5 * 60_000), '09:00');
    const fast = new DemoClock({ startMinute: 23 * 60 + 30, speed: 60, epochMs: T0, weekday: 1 });
    // One real minute = one scenario hour: 23:30 -> 00:30 next day.
    assert.deepEqual(fast.at(T0 + 60_000), { minuteOfDay: 30, weekday: 2 });
    assert.equal(fast.label(T0 + 60_000), '00:30');
  });

  it('from the environment: blank or "real" is none; the epoch is shared through DEMO_CLOCK_EPOCH_MS', () => {
    assert.equal(demoClockFromEnv({}), null);
    assert.equal(demoClockFromEnv({ DEMO_CLOCK: 'real' }), null);
    const c = demoClockFromEnv({ DEMO_CLOCK: '05:50', DEMO_SPEED: '10', DEMO_CLOCK_EPOCH_MS: String(T0) });
    assert.ok(c);
    assert.equal(c.minuteAt(T0 + 60_000), 360); // 05:50 + 10 scenario minutes
    assert.throws(() => demoClockFromEnv({ DEMO_CLOCK: '05:50', DEMO_CLOCK_EPOCH_MS: 'yesterday' }), DemoClockError);
  });

  it('is in force only for a simulated bus, and a real interface switches it off for every LocalClock', () => {
    const local = new LocalClock('Etc/UTC');
    const demo = new DemoClock({ startMinute: 8 * 60 + 55, speed: 1, epochMs: T0, weekday: 1 });
    assert.deepEqual(local.at(T0), { minuteOfDay: 190, weekday: 1 }, 'no claim: the real clock');

    claimDemoClock('sim', 'simulator', demo);
    assert.equal(activeDemoClock(), demo);
    assert.deepEqual(local.at(T0), { minuteOfDay: 535, weekday: 1 }, 'simulated building: the demo clock');

    claimDemoClock('real', 'real', demo); // a real bus never passes its clock on
    assert.equal(activeDemoClock(), null);
    assert.deepEqual(local.at(T0), { minuteOfDay: 190, weekday: 1 }, 'a real bus in the runtime: the real clock again');

    releaseDemoClock('real');
    assert.equal(activeDemoClock(), demo);
    releaseDemoClock('sim');
    claimDemoClock('sim2', 'simulator', null);
    assert.equal(activeDemoClock(), null, 'a simulator without DEMO_CLOCK: the real clock');
  });
});
