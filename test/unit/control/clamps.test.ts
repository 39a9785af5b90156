import { SETPOINT_SOURCES } from '../../../lib/contracts';
import { strict as assert } from 'node:assert';
import { applyClamps, type ClampContext, resolveClampLimits } from '../../../lib/control/clamps';
import { profileHints, type ProfileHints } from '../../../lib/crypto/profile';
import type { ControlHints } from '../../../lib/control/types';
import { mulberry32, pick, type Rng } from '../../helpers/prng';

const base = { zone: 'office', intensity: 50, cct: 4000, reason: 'ai:test', source: 'ai' as const };

describe('control/clamps: applyClamps', () => {
  it('passes a valid proposal unchanged and fires nothing', () => {
    const r = applyClamps(base, { zone: 'office', occupied: true, previous: { intensity: 48, cct: 4000 } });
    assert.deepEqual(r.fired, []);
    assert.deepEqual(r.setpoint, base);
  });

  it('replaces garbage intensity and colour with the previous value, else the safe value, and names it', () => {
    const r = applyClamps({ ...base, intensity: NaN, cct: 'warm' }, { occupied: true, previous: { intensity: 30, cct: 3000 } });
    assert.equal(r.setpoint.intensity, 30);
    assert.equal(r.setpoint.cct, 3000);
    assert.deepEqual(r.fired, ['clamp:intensity-invalid', 'clamp:cct-invalid']);
    assert.match(r.setpoint.reason, /^ai:test; clamp:intensity-invalid; clamp:cct-invalid$/);
    const none = applyClamps({ ...base, intensity: Infinity, cct: undefined }, {});
    assert.equal(none.setpoint.intensity, 100, 'in doubt, light');
    assert.equal(none.setpoint.cct, 4000);
  });

  it('clamps intensity to 0..100 and colour to the fixture limits', () => {
    const r = applyClamps({ ...base, intensity: 140, cct: 9000 }, { limits: { maxKelvin: 6500 } });
    assert.equal(r.setpoint.intensity, 100);
    assert.equal(r.setpoint.cct, 6500);
    assert.deepEqual(r.fired, ['clamp:intensity-range', 'clamp:cct-range']);
    const low = applyClamps({ ...base, intensity: -5, cct: 1200 }, { occupied: false, limits: { minKelvin: 2200 } });
    assert.equal(low.setpoint.intensity, 0);
    assert.equal(low.setpoint.cct, 2200);
  });

  it('keeps the occupied floor and the profile minimum, but not when vacant', () => {
    const r = applyClamps({ ...base, intensity: 2 }, { occupied: true, hints: { minIntensityPct: 30 } });
    assert.equal(r.setpoint.intensity, 30);
    assert.deepEqual(r.fired, ['clamp:profile-min']);
    const f = applyClamps({ ...base, intensity: 2 }, { occupied: true, limits: { occupiedFloorPct: 10 } });
    assert.equal(f.setpoint.intensity, 10);
    assert.deepEqual(f.fired, ['clamp:floor']);
    const v = applyClamps({ ...base, intensity: 0 }, { occupied: false, hints: { minIntensityPct: 30 } });
    assert.equal(v.setpoint.intensity, 0);
  });

  it("honours a person's explicit manual off, but raises a manual dim below the floor", () => {
    const off = applyClamps({ ...base, source: 'manual', intensity: 0 }, { occupied: true });
    assert.equal(off.setpoint.intensity, 0);
    const dim = applyClamps({ ...base, source: 'manual', intensity: 3 }, { occupied: true });
    assert.equal(dim.setpoint.intensity, 10);
  });

  it('limits the step of automatic changes for photosensitive profiles, toward the proposal', () => {
    const hints = profileHints({ photosensitive: true }); // 5 % steps
    const up = applyClamps({ ...base, intensity: 80 }, { hints, previous: { intensity: 50 } });
    assert.equal(up.setpoint.intensity, 55);
    assert.ok(up.fired.includes('clamp:max-step'));
    const down = applyClamps({ ...base, intensity: 20 }, { hints, previous: { intensity: 50 } });
    assert.equal(down.setpoint.intensity, 45);
    // a manual change is not cut short
    const manual = applyClamps({ ...base, source: 'manual', intensity: 80 }, { hints, previous: { intensity: 50 } });
    assert.equal(manual.setpoint.intensity, 80);
  });

  it('lets the safety floor win over the step limit', () => {
    const r = applyClamps(
      { ...base, intensity: 60 },
      { occupied: true, hints: { maxStepPct: 5 }, previous: { intensity: 0 }, limits: { occupiedFloorPct: 10 } },
    );
    assert.equal(r.setpoint.intensity, 10);
    assert.deepEqual(r.fired, ['clamp:max-step', 'clamp:floor']);
  });

  it('slows automatic reductions while occupied, and every reduction for slowerDimDown profiles', () => {
    const r = applyClamps(
      { ...base, intensity: 40, fadeMs: 1000 },
      { occupied: true, previous: { intensity: 50 }, limits: { fadeDownMs: 30_000 } },
    );
    assert.equal(r.setpoint.fadeMs, 30_000);
    assert.ok(r.fired.includes('clamp:fade-down'));
    const slow = applyClamps(
      { ...base, source: 'manual', intensity: 0, fadeMs: 0 },
      { occupied: true, previous: { intensity: 50 }, hints: { slowerDimDown: true }, limits: { slowDimDownFadeMs: 60_000 } },
    );
    assert.equal(slow.setpoint.fadeMs, 60_000);
    assert.deepEqual(slow.fired, ['clamp:slow-dim-down']);
    const rise = applyClamps({ ...base, intensity: 60, fadeMs: 0 }, { previous: { intensity: 50 }, hints: { slowerDimDown: true } });
    assert.equal(rise.setpoint.fadeMs, 0);
  });

  it("forces the context's zone and a valid source", () => {
    const r = applyClamps({ ...base, zone: 'other', source: 'robot' }, { zone: 'office', defaultSource: 'ai' });
    assert.equal(r.setpoint.zone, 'office');
    assert.equal(r.setpoint.source, 'ai');
    assert.deepEqual(r.fired, ['clamp:zone', 'clamp:source']);
  });

  it("accepts the crypto helper's ProfileHints as ControlHints", () => {
    const h: ProfileHints = profileHints({ age: 70 });
    const asControl: ControlHints = h;
    const r = applyClamps({ ...base, intensity: 5 }, { hints: asControl, occupied: true });
    assert.equal(r.setpoint.intensity, 20);
  });

  it('rejects bad limits at configuration time', () => {
    assert.throws(() => resolveClampLimits({ minKelvin: 7000, maxKelvin: 6500 }), /maxKelvin/);
    assert.throws(() => resolveClampLimits({ maxStepPct: 0 }), /maxStepPct/);
  });

  // ------------------------------------------------------------ property ----

  function garbage(rng: Rng): unknown {
    return pick(rng, [
      () => NaN,
      () => Infinity,
      () => -Infinity,
      () => (rng() - 0.5) * 1e6,
      () => rng() * 100,
      () => rng() * 20000,
      () => -rng() * 50,
      () => '50',
      () => '',
      () => null,
      () => undefined,
      () => true,
      () => [],
      () => ({}),
      () => ({ valueOf: () => 50 }),
      () => Number.MAX_VALUE,
      () => -0,
      () => 1e-320,
    ])();
  }

  function proposal(rng: Rng): unknown {
    const kind = rng();
    if (kind < 0.05) return garbage(rng);
    if (kind < 0.08) {
      return new Proxy(
        {},
        {
          get: () => {
            throw new Error('boom');
          },
        },
      );
    }
    const p: Record<string, unknown> = {};
    const fields = ['zone', 'intensity', 'cct', 'reason', 'source', 'fadeMs', 'overrideMinutes', 'confidence'];
    for (const f of fields) {
      const r = rng();
      if (r < 0.15) continue;
      if (f === 'zone') p.zone = r < 0.7 ? 'office' : garbage(rng);
      else if (f === 'source') p.source = r < 0.7 ? pick(rng, SETPOINT_SOURCES) : garbage(rng);
      else if (f === 'reason') p.reason = r < 0.5 ? 'x'.repeat(Math.floor(rng() * 3000)) : garbage(rng);
      else if (f === 'intensity') p.intensity = r < 0.5 ? rng() * 100 : garbage(rng);
      else if (f === 'cct') p.cct = r < 0.5 ? 1800 + rng() * 4700 : garbage(rng);
      else if (f === 'fadeMs') p.fadeMs = r < 0.5 ? rng() * 120_000 : garbage(rng);
      else p[f] = garbage(rng);
    }
    return p;
  }

  function context(rng: Rng): ClampContext {
    const ctx: ClampContext = { zone: 'office' };
    if (rng() < 0.8) ctx.occupied = rng() < 0.6;
    if (rng() < 0.7)
      ctx.previous = { intensity: rng() < 0.8 ? Math.round(rng() * 100) : (garbage(rng) as number), cct: 2700 + rng() * 3000 };
    if (rng() < 0.6) {
      ctx.hints = {
        minIntensityPct: rng() < 0.7 ? Math.round(rng() * 40) : (garbage(rng) as number),
        maxStepPct: rng() < 0.7 ? 1 + Math.round(rng() * 20) : (garbage(rng) as number),
        slowerDimDown: rng() < 0.5,
      };
    }
    if (rng() < 0.5)
      ctx.limits = {
        occupiedFloorPct: Math.round(rng() * 30),
        minKelvin: 1800 + Math.round(rng() * 900),
        maxKelvin: 5000 + Math.round(rng() * 1500),
      };
    if (rng() < 0.1) ctx.limits = { minKelvin: NaN as number, maxKelvin: -1, fadeDownMs: Infinity };
    return ctx;
  }

  it('property: never throws and never lets NaN, out-of-range or garbage through (seeded, 20000 cases)', () => {
    const seed = 0xc1a3b5;
    const rng = mulberry32(seed);
    for (let n = 0; n < 20_000; n++) {
      const p = proposal(rng);
      const ctx = context(rng);
      let r;
      try {
        r = applyClamps(p, ctx);
      } catch (err) {
        assert.fail(`seed ${seed} case ${n}: threw ${String(err)}`);
      }
      const sp = r.setpoint;
      const where = `seed ${seed} case ${n}: ${JSON.stringify(sp)} ctx ${JSON.stringify(ctx)}`;
      assert.ok(Number.isFinite(sp.intensity) && sp.intensity >= 0 && sp.intensity <= 100, `intensity ${where}`);
      const lim = ctx.limits ?? {};
      const minK = Number.isFinite(lim.minKelvin) ? (lim.minKelvin as number) : 1800;
      const maxK = Number.isFinite(lim.maxKelvin) && (lim.maxKelvin as number) >= minK ? (lim.maxKelvin as number) : 6500;
      assert.ok(Number.isFinite(sp.cct) && sp.cct >= minK && sp.cct <= maxK, `cct ${where}`);
      assert.ok(SETPOINT_SOURCES.includes(sp.source), `source ${where}`);
      assert.equal(sp.zone, 'office');
      assert.equal(typeof sp.reason, 'string');
      if (sp.fadeMs !== undefined) assert.ok(Number.isFinite(sp.fadeMs) && sp.fadeMs >= 0 && sp.fadeMs <= 960_000, `fadeMs ${where}`);
      if (sp.overrideMinutes !== undefined)
        assert.ok(
          Number.isFinite(sp.overrideMinutes) && sp.overrideMinutes >= 0 && sp.overrideMinutes <= 10080,
          `overrideMinutes ${where}`,
        );
      if (sp.confidence !== undefined)
        assert.ok(Number.isFinite(sp.confidence) && sp.confidence >= 0 && sp.confidence <= 1, `confidence ${where}`);
      // Safety: occupied (or unknown) and not a manual off -> at least the floor.
      const occupied = ctx.occupied !== false;
      const floor = Number.isFinite(lim.occupiedFloorPct) ? (lim.occupiedFloorPct as number) : 10;
      const manualOff = sp.source === 'manual' && sp.intensity === 0;
      if (occupied && !manualOff) assert.ok(sp.intensity >= floor - 0.05, `floor ${where}`);
      // Accessibility: an automatic step never exceeds the profile's limit unless a floor forced it.
      const prev = ctx.previous?.intensity;
      const step = ctx.hints?.maxStepPct;
      if (
        sp.source !== 'manual' &&
        Number.isFinite(prev) &&
        (prev as number) >= 0 &&
        (prev as number) <= 100 &&
        Number.isFinite(step) &&
        (step as number) > 0 &&
        !r.fired.some((f) => f === 'clamp:floor' || f === 'clamp:profile-min')
      ) {
        assert.ok(Math.abs(sp.intensity - (prev as number)) <= (step as number) + 0.051, `step ${where}`);
      }
      // Every clamp that fired is named in the reason.
      for (const f of r.fired) assert.ok(sp.reason.includes(f), `reason ${where}`);
      assert.equal(JSON.parse(JSON.stringify(sp)).intensity, sp.intensity, 'JSON-safe');
    }
  });
});
