import { strict as assert } from 'node:assert';
import { DeadlineTimer, MAX_TIMER_DELAY_MS } from '../../../lib/control/deadline';

/** A hand-driven clock and setTimeout for the timer under test. */
function fakeTimers(): { now: () => number; advance(ms: number): void; pending(): number; restore(): void } {
  let t = 1_000_000;
  const timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  const realSet = global.setTimeout;
  const realClear = global.clearTimeout;
  (global as unknown as { setTimeout: unknown }).setTimeout = (fn: () => void, ms: number) => {
    const id = nextId++;
    timers.push({ at: t + ms, fn, id });
    return id;
  };
  (global as unknown as { clearTimeout: unknown }).clearTimeout = (id: number) => {
    const i = timers.findIndex((x) => x.id === id);
    if (i >= 0) timers.splice(i, 1);
  };
  return {
    now: () => t,
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const first = timers[0];
        if (!first || first.at > end) break;
        timers.shift();
        t = first.at;
        first.fn();
      }
      t = end;
    },
    pending: () => timers.length,
    restore() {
      global.setTimeout = realSet;
      global.clearTimeout = realClear;
    },
  };
}

describe('control/deadline: one timer for many deadlines', () => {
  let clock: ReturnType<typeof fakeTimers>;
  beforeEach(() => (clock = fakeTimers()));
  afterEach(() => clock.restore());

  it('fires each key at its deadline, earliest first, with one timer armed at a time', () => {
    const fired: Array<[string[], number]> = [];
    const d = new DeadlineTimer<string>((keys, now) => fired.push([keys, now]), clock.now);
    const t0 = clock.now();
    d.set('b', t0 + 2000);
    d.set('a', t0 + 1000);
    assert.equal(clock.pending(), 1);
    clock.advance(1500);
    assert.deepEqual(fired, [[['a'], t0 + 1000]]);
    clock.advance(1000);
    assert.deepEqual(fired[1], [['b'], t0 + 2000]);
    assert.equal(d.size, 0);
    assert.equal(clock.pending(), 0, 'no timer left when nothing is due');
  });

  it('moves and removes deadlines; clear() leaves no timer', () => {
    const fired: string[][] = [];
    const d = new DeadlineTimer<string>((keys) => fired.push(keys), clock.now);
    const t0 = clock.now();
    d.set('a', t0 + 1000);
    d.set('a', t0 + 5000);
    d.set('b', t0 + 2000);
    d.set('b', null);
    clock.advance(3000);
    assert.deepEqual(fired, []);
    d.clear();
    assert.equal(clock.pending(), 0);
    clock.advance(10_000);
    assert.deepEqual(fired, []);
  });

  it('hands every due key at once and keeps deadlines the callback sets', () => {
    const fired: string[][] = [];
    const d = new DeadlineTimer<string>((keys, now) => {
      fired.push(keys);
      if (keys.includes('a')) d.set('a', now + 1000);
    }, clock.now);
    const t0 = clock.now();
    d.set('a', t0 + 100);
    d.set('b', t0 + 100);
    clock.advance(100);
    assert.deepEqual(fired, [['a', 'b']]);
    clock.advance(1000);
    assert.deepEqual(fired[1], ['a']);
  });

  it('a deadline beyond setTimeout’s limit re-arms at the limit instead of firing early', () => {
    const fired: string[][] = [];
    const d = new DeadlineTimer<string>((keys) => fired.push(keys), clock.now);
    const t0 = clock.now();
    d.set('far', t0 + MAX_TIMER_DELAY_MS + 60_000);
    clock.advance(MAX_TIMER_DELAY_MS);
    assert.deepEqual(fired, [], 'not yet');
    assert.equal(clock.pending(), 1, 're-armed');
    clock.advance(60_000);
    assert.deepEqual(fired, [['far']]);
  });
});
