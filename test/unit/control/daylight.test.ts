import type { DecisionLuxStats } from '../../../lib/contracts';
import { strict as assert } from 'node:assert';
import {
  averageOutput,
  type DaylightConfig,
  type DaylightState,
  daylightStep,
  initialDaylightState,
  outputAt,
  recordOutputChange,
  resolveDaylightConfig,
} from '../../../lib/control/daylight';
import { ControlInputError } from '../../../lib/control/types';

const MIN = 60_000;
const T = 1_700_000_000_000;
const lux = (v: number): DecisionLuxStats => ({ mean: v, min: v, max: v, std: 0, last: v });
// Most cases use a symmetric band around targetLux to keep the numbers plain.
const cfg = (o: Partial<DaylightConfig> = {}): DaylightConfig => resolveDaylightConfig({ luxPerPct: 5, targetIsMinimum: false, ...o });

/** State with the output at `pct` since long ago and no recent change. */
function steady(pct: number): DaylightState {
  return recordOutputChange(initialDaylightState(), { at: T - 3_600_000, from: pct, to: pct, fadeMs: 0 });
}

function step(state: DaylightState, measured: number, current: number, now: number, c: DaylightConfig, extra = {}) {
  return daylightStep(
    state,
    { lux: lux(measured), windowStart: now - MIN, windowEnd: now, now, currentPct: current, arrival: false, ...extra },
    c,
  );
}

describe('control/daylight: closed-loop harvesting', () => {
  it('changes nothing inside the deadband', () => {
    const c = cfg({ targetLux: 500, deadbandPct: 10 });
    for (const measured of [451, 500, 549]) {
      const r = step(steady(60), measured, 60, T, c);
      assert.equal(r.changed, false, `measured ${measured}`);
      assert.equal(r.intensityPct, 60);
      assert.match(r.reason, /^daylight:in-band/);
    }
  });

  it('treats targetLux as the maintained minimum by default: the band (525..600 lx) sits above it', () => {
    const c = resolveDaylightConfig({ luxPerPct: 5, targetLux: 500, deadbandPct: 10 });
    assert.equal(c.targetIsMinimum, true);
    assert.equal(step(steady(60), 530, 60, T, c).changed, false, '530 lx is inside 525..600');
    assert.equal(step(steady(60), 595, 60, T, c).changed, false, '595 lx is inside 525..600');
    assert.equal(step(steady(60), 610, 60, T, c).changed, true, '610 lx is above the band');
    const low = step(steady(60), 515, 60, T, c);
    assert.equal(low.changed, true, '515 lx is close enough to the maintained 500 lx to rise');
    // daylight 515 - 300 = 215 -> aim at 550 lx: (550 - 215) / 5 = 67
    assert.equal(low.intensityPct, 67);
    assert.match(low.reason, /\(515<550 lx\)/);
  });

  it('rises before the dip when daylight is falling (anticipateFall)', () => {
    // daylight fell 300 -> 260 lx in the last minute; output 60 % -> the sensor reads 560 lx
    const falling: DaylightState = { ...steady(60), lastDaylight: { at: T - MIN, lux: 300 } };
    const on = resolveDaylightConfig({ luxPerPct: 5 });
    const r = step(falling, 560, 60, T, on);
    assert.equal(r.changed, true, "560 - 40 lx falling is below the band's 525 lx");
    assert.equal(r.intensityPct, 62); // (550 - (260 - 40 / 2)) / 5
    assert.match(r.reason, /falling 40 lx\/min/);
    const off = resolveDaylightConfig({ luxPerPct: 5, anticipateFall: false });
    assert.equal(step(falling, 560, 60, T, off).changed, false, 'without anticipation 560 lx is in the band');
    // rising daylight is not anticipated
    const rising: DaylightState = { ...steady(60), lastDaylight: { at: T - MIN, lux: 200 } };
    assert.equal(step(rising, 560, 60, T, on).changed, false);
  });

  it('steps down at most maxStepPct points, with a fade of at least 30 s', () => {
    const c = cfg({ targetLux: 500, maxStepPct: 10 });
    // 60 % output, 900 lx: daylight = 900 - 5*60 = 600 > target -> desired floor; step 10
    const r = step(steady(60), 900, 60, T, c);
    assert.equal(r.intensityPct, 50);
    assert.ok((r.fadeMs ?? 0) >= 30_000);
    assert.match(r.reason, /^daylight:step-down 10% limited/);
  });

  it('rises faster than it falls (riseStepFactor) when daylight drops', () => {
    const c = cfg({ targetLux: 500, maxStepPct: 10, riseStepFactor: 2 });
    const r = step(steady(20), 100, 20, T, c); // far below target
    assert.equal(r.intensityPct, 40);
    assert.ok((r.fadeMs ?? 0) < 30_000);
    assert.match(r.reason, /^daylight:step-up 20%/);
  });

  it('takes the exact correction when it is within the step limit', () => {
    const c = cfg({ targetLux: 500 });
    // output 50 %, measured 440 lx -> daylight 190 -> desired (500-190)/5 = 62
    const r = step(steady(50), 440, 50, T, c);
    assert.equal(r.intensityPct, 62);
    assert.equal(r.desiredPct, 62);
    assert.equal(r.daylightLux, 190);
  });

  it('holds off after a change: 60 s before a reduction, 30 s before a rise', () => {
    const c = cfg();
    const changed = recordOutputChange(steady(50), { at: T, from: 50, to: 60, fadeMs: 0 });
    assert.match(step(changed, 900, 60, T + 45_000, c).reason, /hold-off/);
    assert.equal(step(changed, 900, 60, T + 61_000, c).changed, true);
    assert.equal(step(changed, 100, 60, T + 20_000, c).changed, false);
    assert.equal(step(changed, 100, 60, T + 31_000, c).changed, true);
  });

  it('keeps the occupied floor however bright it is, and respects the circadian cap', () => {
    const c = cfg({ floorPct: 10 });
    let state = steady(12);
    const r = step(state, 5000, 12, T, c);
    assert.equal(r.intensityPct, 10);
    state = recordOutputChange(r.state, { at: T, from: 12, to: 10, fadeMs: 30_000 });
    const again = step(state, 5000, 10, T + 5 * MIN, c);
    assert.equal(again.changed, false);
    assert.match(again.reason, /daylight:floor/);
    const capped = step(steady(30), 100, 30, T, c, { maxIntensityPct: 40 });
    assert.equal(capped.intensityPct, 40);
    assert.match(capped.reason, /capped/);
    // output above a (falling) cap comes down even inside the deadband, hold-off or not
    const above = step(recordOutputChange(steady(80), { at: T - 1000, from: 70, to: 80, fadeMs: 0 }), 500, 80, T, c, {
      maxIntensityPct: 60,
    });
    assert.equal(above.intensityPct, 70);
  });

  it('jumps straight to the desired level on arrival (no step limit, no hold-off)', () => {
    const c = cfg({ targetLux: 500 });
    const r = daylightStep(
      initialDaylightState(),
      { lux: lux(100), windowStart: T - MIN, windowEnd: T, now: T, currentPct: null, arrival: true },
      c,
    );
    assert.equal(r.intensityPct, 80);
    assert.match(r.reason, /^daylight:arrival 80%/);
  });

  it('holds the output when the window has no lux reading', () => {
    const c = cfg();
    const r = daylightStep(steady(45), { lux: null, windowStart: T - MIN, windowEnd: T, now: T, currentPct: 45, arrival: false }, c);
    assert.equal(r.intensityPct, 45);
    assert.equal(r.changed, false);
    assert.match(r.reason, /no-lux/);
  });

  it('averages the output history exactly over a window (fades are linear)', () => {
    const h = recordOutputChange(steady(0), { at: T, from: 0, to: 60, fadeMs: 30_000 });
    assert.equal(outputAt(h.changes, T - 1, 0), 0);
    assert.equal(outputAt(h.changes, T + 15_000, 0), 30);
    assert.equal(outputAt(h.changes, T + 40_000, 0), 60);
    // window [T, T+60 s]: 30 s ramp averaging 30, then 30 s at 60 -> 45
    assert.ok(Math.abs(averageOutput(h.changes, T, T + 60_000, 0) - 45) < 1e-9);
    // window [T-60 s, T]: all 0
    assert.equal(averageOutput(h.changes, T - 60_000, T, 0), 0);
  });

  it('lets a change interrupt the previous fade, and a same-instant report replace the last change', () => {
    let h = recordOutputChange(steady(0), { at: T, from: 0, to: 60, fadeMs: 60_000 });
    h = recordOutputChange(h, { at: T + 30_000, from: 30, to: 10, fadeMs: 0 });
    assert.equal(outputAt(h.changes, T + 45_000, 0), 10, 'the second change ends the fade');
    // a gate applied 40 instead of 10 at the same instant
    h = recordOutputChange(h, { at: T + 30_000, from: 10, to: 40, fadeMs: 0 });
    assert.equal(outputAt(h.changes, T + 45_000, 0), 40);
    assert.equal(h.changes[h.changes.length - 1]?.from, 30);
    // ...or blocked it: back to the level before, and no change recorded (no hold-off)
    h = recordOutputChange(h, { at: T + 30_000, from: 40, to: 30, fadeMs: 0 });
    assert.equal(h.lastChangeAt, T);
    assert.equal(outputAt(h.changes, T + 45_000, 0), 45, 'the first fade goes on');
  });

  it('does not double-count a change still fading inside the window', () => {
    // A room with 100 lx daylight and true gain 5. Output went 80 -> 60 at T with a 30 s fade.
    // The window mean over [T, T+60 s] saw 100 + 5 * 65 = 425 lx; the right daylight estimate is 100.
    const c = cfg({ targetLux: 400, deadbandPct: 2 });
    const h = recordOutputChange(steady(80), { at: T, from: 80, to: 60, fadeMs: 30_000 });
    const r = daylightStep(h, { lux: lux(425), windowStart: T, windowEnd: T + MIN, now: T + 2 * MIN, currentPct: 60, arrival: false }, c);
    assert.equal(r.daylightLux, 100);
    assert.equal(r.desiredPct, 60);
    assert.equal(r.changed, false, 'a naive estimate (425 - 5*60 = 125 lx) would step down again');
  });

  it('converges without oscillating in a simulated room, even with the gain off by 1.5x', () => {
    for (const trueGain of [5, 7.5, 3.5]) {
      const c = cfg({ targetLux: 500, luxPerPct: 5 });
      let state = initialDaylightState();
      let out: number | null = null;
      const daylight = 150;
      const history: number[] = [];
      for (let k = 0; k < 40; k++) {
        const now = T + k * MIN;
        // sensor mean over the window from the true output history
        const avg = out === null ? 0 : averageOutput(state.changes, now - MIN, now, out);
        const measured = daylight + trueGain * avg;
        const r = daylightStep(
          state,
          { lux: lux(measured), windowStart: now - MIN, windowEnd: now, now, currentPct: out, arrival: out === null },
          c,
        );
        state = r.state;
        if (r.changed)
          state = recordOutputChange(state, { at: now, from: out ?? r.intensityPct, to: r.intensityPct, fadeMs: r.fadeMs ?? 0 });
        out = r.intensityPct;
        history.push(out);
      }
      const lux_ = daylight + trueGain * (out as number);
      assert.ok(Math.abs(lux_ - 500) <= 50, `gain ${trueGain}: ended at ${lux_} lx`);
      // no oscillation: the last 15 decisions hold still
      const tail = history.slice(-15);
      assert.ok(Math.max(...tail) - Math.min(...tail) < 0.5, `gain ${trueGain}: tail ${tail.join(',')}`);
    }
  });

  it('learns the gain from its own steps when learnGain is on', () => {
    const trueGain = 8;
    const c = cfg({ targetLux: 500, luxPerPct: 4, learnGain: true, deadbandPct: 1 });
    let state = initialDaylightState();
    let out: number | null = null;
    let daylight = 0;
    for (let k = 0; k < 60; k++) {
      const now = T + k * 2 * MIN;
      daylight = k % 10 < 5 ? 100 : 300; // daylight moves so the loop keeps stepping
      const level = out ?? 0;
      const measured = daylight + trueGain * level;
      const r = daylightStep(
        state,
        { lux: lux(measured), windowStart: now - MIN, windowEnd: now, now, currentPct: out, arrival: out === null },
        c,
      );
      state = r.state;
      if (r.changed) state = recordOutputChange(state, { at: now, from: out ?? r.intensityPct, to: r.intensityPct, fadeMs: 0 });
      out = r.intensityPct;
    }
    assert.ok(state.gainLuxPerPct !== null);
    assert.ok(Math.abs((state.gainLuxPerPct as number) - trueGain) < 2, `learned ${state.gainLuxPerPct}`);
  });

  it("rejects bad configuration with the setting's name", () => {
    assert.throws(
      () => resolveDaylightConfig({ maxStepPct: 0 }),
      (e: unknown) => e instanceof ControlInputError && e.field === 'maxStepPct',
    );
    assert.throws(() => resolveDaylightConfig({ luxPerPct: -1 }), /luxPerPct/);
    assert.throws(() => resolveDaylightConfig({ luxStat: 'median' as 'mean' }), /luxStat/);
    assert.throws(() => resolveDaylightConfig({ targetLux: NaN }), /targetLux/);
  });
});
