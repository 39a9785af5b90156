import { strict as assert } from 'node:assert';
import { decide, resolveRulesConfig, RulesController, tickWindow } from '../../../lib/control/rules';
import { profileHints } from '../../../lib/crypto/profile';
import { ControlInputError } from '../../../lib/control/types';
import { MIN, T0, win } from './helpers';

const NOON = 12 * 60;

describe('control/rules: decide and RulesController', () => {
  it('uses the reference defaults', () => {
    const c = resolveRulesConfig({});
    assert.equal(c.daylight.targetLux, 500);
    assert.equal(c.daylight.deadbandPct, 10);
    assert.equal(c.daylight.maxStepPct, 10);
    assert.equal(c.daylight.floorPct, 10);
    assert.equal(c.occupancy.absenceLevelPct, 10);
    assert.equal(c.occupancy.holdMinutes, 15);
    assert.equal(c.occupancy.vacancyOffMinutes, 20);
    assert.equal(c.occupancy.neverOff, false);
    assert.equal(c.daylight.fadeDownMs, 30_000);
    assert.equal(c.circadian.mode, 'clock');
  });

  it("accepts the rules-fallback node's settings object as is (unknown keys ignored)", () => {
    const settings = {
      name: 'rules',
      targetLux: 300,
      deadbandPct: 10,
      maxStepPct: 10,
      occupiedFloorPct: 10,
      absenceLevelPct: 10,
      holdMinutes: 15,
      vacancyOffMinutes: 20,
      neverOff: false,
      circadian: 'sun',
      latitude: 52.52,
      longitude: 13.4,
      warmestKelvin: 2700,
      coolestKelvin: 5000,
      minKelvin: 1800,
      maxKelvin: 6500,
      fadeDownMs: 30000,
    };
    const c = resolveRulesConfig(settings);
    assert.equal(c.circadian.mode, 'sun');
    assert.equal(c.daylight.targetLux, 300);
  });

  it('names the setting in configuration errors', () => {
    assert.throws(
      () => resolveRulesConfig({ targetLux: -5 }),
      (e: unknown) => e instanceof ControlInputError && e.field === 'targetLux',
    );
    assert.throws(() => resolveRulesConfig({ circadian: 'sun', latitude: null }), /latitude/);
    assert.throws(() => resolveRulesConfig({ minKelvin: 7000 }), /maxKelvin|safeKelvin/);
  });

  it('names every rule that fired in the reason, in order circadian; daylight; occupancy; clamps', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    const first = ctl.decide(win(NOON, { lux: 100 }));
    // 500 lx is the maintained minimum: the loop aims at 550 lx (top of a 10 % band above it)
    assert.match(first.setpoint.reason, /^circadian:day 5000K; daylight:arrival 90% \(100<550 lx\); occupancy:occupied$/);
    assert.equal(first.setpoint.intensity, 90);
    assert.equal(first.setpoint.cct, 5000);
    assert.equal(first.setpoint.source, 'rules');
    // much brighter: steps down 10 %, never below the floor
    const r = ctl.decide(win(NOON + 2, { lux: 2000 }));
    assert.equal(r.setpoint.intensity, 80);
    assert.match(r.setpoint.reason, /^circadian:day 5000K; daylight:step-down 10% limited \(2000>550 lx\); occupancy:occupied$/);
    assert.ok((r.setpoint.fadeMs ?? 0) >= 30_000);
  });

  it('harvests daylight down to the occupied floor and holds it', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    let last = ctl.decide(win(NOON, { lux: 900 }));
    for (let m = 1; m < 20; m++) last = ctl.decide(win(NOON + m, { lux: 3000 }));
    assert.equal(last.setpoint.intensity, 10);
    assert.match(last.setpoint.reason, /daylight:floor/);
  });

  it('goes to the absence level after the hold, then off after the vacancy delay, with fades', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    // a room with 100 lx daylight: the sensor sees 100 + 5 * output
    const lux = (): number => 100 + 5 * (ctl.getState('office')?.intensity ?? 0);
    const first = ctl.decide(win(NOON, { lux: lux() }));
    assert.equal(first.setpoint.intensity, 90);
    const seen: { m: number; mode: string; pct: number; fadeMs?: number }[] = [];
    for (let m = 1; m <= 25; m++) {
      const d = ctl.decide(win(NOON + m, { lux: lux(), present: false }));
      seen.push({ m, mode: d.occupancy, pct: d.setpoint.intensity, ...(d.setpoint.fadeMs ? { fadeMs: d.setpoint.fadeMs } : {}) });
    }
    assert.ok(
      seen.slice(0, 14).every((x) => x.mode === 'hold' && x.pct === 90),
      'hold keeps the light',
    );
    assert.deepEqual(seen[14], { m: 15, mode: 'absence', pct: 10, fadeMs: 30_000 });
    assert.ok(seen.slice(15, 19).every((x) => x.mode === 'absence' && x.pct === 10));
    assert.deepEqual(seen[19], { m: 20, mode: 'off', pct: 0, fadeMs: 30_000 });
    // someone walks back in: straight back up, no step limit
    const back = ctl.decide(win(NOON + 30, { lux: lux() }));
    assert.equal(back.occupancy, 'occupied');
    assert.equal(back.setpoint.intensity, 90);
    assert.match(back.setpoint.reason, /daylight:arrival/);
  });

  it('honours profile hints: minimum lux, warm bias, photosensitive step limit, profile floor', () => {
    const c = resolveRulesConfig({ luxPerPct: 5 });
    const d0 = decide(win(NOON, { lux: 100 }), null, c, { hints: { minLux: 700, cctBias: 'warm' } });
    assert.equal(d0.setpoint.intensity, 100); // (700 - 100) / 5 = 120 -> 100
    assert.ok(d0.setpoint.cct < 5000);
    assert.match(d0.setpoint.reason, /profile:min-lux 700; daylight:arrival 100%.*; occupancy:occupied; profile:warm/);
    // photosensitive: from 80 % a big reduction is cut to 5 points
    const hints = profileHints({ photosensitive: true });
    const d1 = decide(win(NOON + 2, { lux: 3000 }), d0.state, c, { hints });
    assert.equal(d1.setpoint.intensity, 95);
    assert.ok(d1.fired.includes('clamp:max-step'));
    assert.ok((d1.setpoint.fadeMs ?? 0) >= 60_000, 'slower dim-down');
    // older person: floor 20 % even in bright daylight
    const old = profileHints({ age: 72 });
    let s = d1.state;
    let last = d1;
    for (let m = 3; m < 30; m++) {
      last = decide(win(NOON + m, { lux: 5000 }), s, c, { hints: old });
      s = last.state;
    }
    assert.equal(last.setpoint.intensity, 20);
    assert.match(last.setpoint.reason, /clamp:profile-min/);
  });

  it('follows the circadian cap at night and clamps colour to the fixture', () => {
    const c = resolveRulesConfig({ luxPerPct: 5, minKelvin: 3000 });
    const night = decide(win(2 * 60, { lux: 0 }), null, c);
    assert.equal(night.setpoint.intensity, 20);
    assert.match(night.setpoint.reason, /^circadian:night 2700K cap 20%/);
    assert.equal(night.setpoint.cct, 3000);
    assert.ok(night.fired.includes('clamp:cct-range'));
  });

  it('is deterministic: the same inputs give the same decision', () => {
    const c = resolveRulesConfig({});
    const a = decide(win(NOON, { lux: 250 }), null, c);
    const b = decide(win(NOON, { lux: 250 }), null, c);
    assert.deepEqual(a, b);
  });

  it("throws ControlInputError for an invalid window and for another zone's state", () => {
    const ctl = new RulesController({});
    assert.throws(() => ctl.decide({ zone: 'office' }), ControlInputError);
    const c = resolveRulesConfig({});
    const d = decide(win(NOON), null, c);
    assert.throws(() => decide(win(NOON, { zone: 'hall' }), d.state, c), /zone/);
  });

  it('trusts an observed output over its memory', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    ctl.decide(win(NOON, { lux: 100 })); // 80 %
    // someone set 30 % by hand; the sensor sees 100 + 5*30 = 250 lx
    const d = ctl.decide(win(NOON + 2, { lux: 250 }), { actualIntensityPct: 30 });
    assert.equal(d.daylightLux, 100);
    assert.equal(d.setpoint.intensity, 50); // rise limited to 20 points
  });

  it('ticks without a window to apply hold and vacancy timers', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    const d = ctl.decide(win(NOON, { lux: 300, present: false }));
    assert.equal(d.occupancy, 'absence');
    assert.ok(d.nextCheckAt !== null);
    const t = ctl.tick('office', d.nextCheckAt as number);
    assert.ok(t);
    assert.equal(t.occupancy, 'off');
    assert.equal(t.setpoint.intensity, 0);
    assert.equal(ctl.tick('nowhere', T0), null);
    const w = tickWindow(t.state, T0 + 3 * 86_400_000 + 30 * MIN);
    assert.ok(w);
    assert.equal(Math.round(w.minuteOfDay), 30);
    assert.equal(w.weekday, 4);
  });

  it('saves and restores its state through JSON', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    ctl.decide(win(NOON, { lux: 100 }));
    ctl.decide(win(NOON + 1, { lux: 100, zone: 'hall' }));
    const saved = JSON.parse(JSON.stringify(ctl.toJSON()));
    const restored = new RulesController({ luxPerPct: 5 }, [...saved, { zone: 5 }, null]);
    assert.deepEqual(restored.zones().sort(), ['hall', 'office']);
    const a = ctl.decide(win(NOON + 5, { lux: 900 }));
    const b = restored.decide(win(NOON + 5, { lux: 900 }));
    assert.deepEqual(b, a);
  });

  it('restore() adds saved zones it does not know and keeps a zone decided since start', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    ctl.decide(win(NOON, { lux: 100 }));
    ctl.decide(win(NOON, { lux: 100, zone: 'hall' }));
    const saved = JSON.parse(JSON.stringify(ctl.toJSON()));
    const fresh = new RulesController({ luxPerPct: 5 });
    const newer = fresh.decide(win(NOON + 3, { lux: 900, zone: 'hall' })).state;
    assert.deepEqual(fresh.restore(saved), ['office']);
    assert.deepEqual(fresh.getState('hall'), newer, 'the newer state is kept');
    assert.equal(fresh.getState('office')?.intensity, ctl.getState('office')?.intensity);
    assert.deepEqual(fresh.restore({ office: saved[0] }), [], 'not an array: nothing');
    assert.deepEqual(fresh.restore(saved), [], 'known zones are not restored twice');
  });

  it('records what was really applied (noteOutput) for the next decision', () => {
    const ctl = new RulesController({ luxPerPct: 5 });
    ctl.decide(win(NOON, { lux: 100 })); // 80 %
    ctl.noteOutput('office', 60, T0 + NOON * MIN + 1000, 0);
    assert.equal(ctl.getState('office')?.intensity, 60);
    const d = ctl.decide(win(NOON + 2, { lux: 400 })); // daylight = 400 - 300 = 100 -> 80 %
    assert.equal(d.daylightLux, 100);
    assert.equal(d.setpoint.intensity, 80);
  });

  describe('presence fast path (onPresence)', () => {
    /** A zone that went vacant: bright window at 11:40 while present, then windows without presence until absence. */
    function vacantZone(config: Record<string, unknown> = {}): { ctl: RulesController; at: number } {
      const ctl = new RulesController({ luxPerPct: 5, ...config });
      ctl.decide(win(NOON - 20, { lux: 100 })); // occupied: 80 %
      let d = ctl.decide(win(NOON - 19, { lux: 100, present: false }));
      for (let m = NOON - 18; d.occupancy !== 'absence'; m++) d = ctl.decide(win(m, { lux: 150, present: false }));
      assert.equal(d.setpoint.intensity, (config.absenceLevelPct as number | undefined) ?? 10);
      // daylight at the sensor is now 150 - 5 * 10 = 100 lx
      return { ctl, at: (d.state.lastDecisionAt as number) + 20_000 };
    }

    it('lights a vacant zone at once when presence comes, without waiting for a window', () => {
      const { ctl, at } = vacantZone();
      const d = ctl.onPresence('office', at, true);
      assert.ok(d, 'a decision at once');
      assert.equal(d.occupancy, 'occupied');
      assert.equal(d.setpoint.intensity, 90); // (550 - 100) / 5: the occupied level, not a 20-point step
      assert.equal(d.setpoint.fadeMs, 0);
      assert.ok(d.changed);
      assert.ok(d.setpoint.reason.startsWith('presence:fast-path'), d.setpoint.reason);
      assert.ok(d.setpoint.reason.includes('daylight:arrival'), d.setpoint.reason);
      const windowsOnly = vacantZone().ctl.decide(win(NOON + 60, { lux: 150 }));
      assert.deepEqual(
        [windowsOnly.setpoint.intensity, windowsOnly.occupancy],
        [90, 'occupied'],
        'the same level a window would bring later',
      );
    });

    it("uses the reading's own lux when it has one", () => {
      const { ctl, at } = vacantZone();
      const d = ctl.onPresence('office', at, true, { lux: 50 }); // darker now: daylight 0
      assert.ok(d);
      assert.equal(d.daylightLux, 0);
      assert.equal(d.setpoint.intensity, 100);
    });

    it('restarts the hold timer at the reading', () => {
      const { ctl, at } = vacantZone();
      const d = ctl.onPresence('office', at, true);
      assert.ok(d);
      assert.equal(d.state.occupancy.lastPresenceAt, at);
      assert.equal(d.nextCheckAt, at + 15 * MIN);
      // movement later while occupied: no new setpoint, the hold runs from the new reading
      assert.equal(ctl.onPresence('office', at + 5 * MIN, true), null);
      assert.equal(ctl.getState('office')?.occupancy.lastPresenceAt, at + 5 * MIN);
      // a window without presence 16 min after the first reading: still held (until at + 20 min)
      const quiet = win(NOON, { lux: 150, present: false });
      quiet.windowEnd = at + 16 * MIN;
      quiet.windowStart = quiet.windowEnd - MIN;
      const q = ctl.decide(quiet);
      assert.equal(q.occupancy, 'hold');
      assert.equal(q.nextCheckAt, at + 20 * MIN);
    });

    it('does not flood: presence readings in a row give one setpoint per bound', () => {
      const { ctl, at } = vacantZone({ holdMinutes: 0, fastPathMinIntervalMs: 30_000 });
      const out = [];
      for (let i = 0; i < 20; i++) {
        const d = ctl.onPresence('office', at + i * 1000, true);
        if (d) out.push(d);
      }
      assert.equal(out.length, 1, 'hold 0 leaves the zone vacant after each reading, yet only one setpoint in 20 s');
      assert.ok(ctl.onPresence('office', at + 31_000, true), 'after the bound the next one passes');
      const { ctl: held, at: at2 } = vacantZone();
      const first = held.onPresence('office', at2, true);
      assert.ok(first);
      for (let i = 1; i < 20; i++)
        assert.equal(held.onPresence('office', at2 + i * 5000, true), null, 'occupied: readings only restart the hold');
    });

    it('lux fast path: an occupied zone whose reading falls under the aim rises at once, never lowers', () => {
      const ctl = new RulesController({ luxPerPct: 5 });
      // Occupied at noon with 300 lx daylight: the loop aims at 550 lx -> 50 %.
      const d0 = ctl.decide(win(NOON, { lux: 300 }));
      assert.equal(d0.setpoint.intensity, 50);
      ctl.noteOutput('office', 50, d0.state.lastDecisionAt as number);
      const at = (d0.state.lastDecisionAt as number) + 40_000;
      // In the hold band (550 lx = 300 daylight + 250): nothing.
      assert.equal(ctl.onPresence('office', at, true, { lux: 560 }), null);
      // A cloud: the reading says 470 lx (daylight 220): a daylight step up now, not at the window's end.
      const d = ctl.onPresence('office', at + 1000, true, { lux: 470 });
      assert.ok(d, 'a rise at once');
      assert.ok(d.setpoint.intensity > 50, `rose: ${d.setpoint.intensity}`);
      assert.ok(d.setpoint.reason.startsWith('daylight:fast-path'), d.setpoint.reason);
      assert.match(d.setpoint.reason, /daylight:step-up/);
      assert.notEqual(d.setpoint.fadeMs, 0, 'a daylight rise fades, it is not an arrival');
      ctl.noteOutput('office', d.setpoint.intensity, at + 1000, d.setpoint.fadeMs ?? 0);
      // Brighter readings never lower the light on the fast path (reductions stay with the windows).
      assert.equal(ctl.onPresence('office', at + 60_000, true, { lux: 900 }), null);
      // Without lux, an occupied zone gets no fast decision.
      assert.equal(ctl.onPresence('office', at + 90_000, true), null);
    });

    it('lux fast path is bounded by fastPathMinIntervalMs and respects the daylight hold-off', () => {
      const ctl = new RulesController({ luxPerPct: 5, fastPathMinIntervalMs: 30_000 });
      const d0 = ctl.decide(win(NOON, { lux: 300 }));
      const t0 = d0.state.lastDecisionAt as number;
      ctl.noteOutput('office', 50, t0);
      assert.equal(ctl.onPresence('office', t0 + 10_000, true, { lux: 470 }), null, "hold-off after the window's change (30 s up)");
      const first = ctl.onPresence('office', t0 + 40_000, true, { lux: 470 });
      assert.ok(first);
      ctl.noteOutput('office', first.setpoint.intensity, t0 + 40_000);
      assert.equal(ctl.onPresence('office', t0 + 50_000, true, { lux: 300 }), null, 'within the bound');
    });

    it('never acts on absence, nor on a zone without a window, and refuses invalid readings', () => {
      const { ctl, at } = vacantZone();
      const before = JSON.stringify(ctl.toJSON());
      assert.equal(ctl.onPresence('office', at, false), null);
      assert.equal(JSON.stringify(ctl.toJSON()), before, 'absence changes nothing');
      assert.equal(ctl.onPresence('unknown-zone', at, true), null);
      assert.throws(() => ctl.onPresence('office', Number.NaN, true), ControlInputError);
      assert.throws(() => ctl.onPresence('', at, true), ControlInputError);
      assert.throws(() => ctl.onPresence('office', at, true, { lux: -3 }), ControlInputError);
      assert.throws(() => ctl.onPresence('office', at, 'yes' as unknown as boolean), ControlInputError);
    });

    it("never lowers the light and ignores a profile's step limit for the rise", () => {
      const bright = vacantZone({ absenceLevelPct: 40 });
      const d = bright.ctl.onPresence('office', bright.at, true, { lux: 1200 });
      assert.ok(d);
      assert.equal(d.setpoint.intensity, 40, 'daylight alone is enough, but the fast path does not dim');
      const { ctl, at } = vacantZone();
      const stepped = ctl.onPresence('office', at, true, { hints: { maxStepPct: 10 } });
      assert.ok(stepped);
      assert.equal(stepped.setpoint.intensity, 90);
    });

    it('treats the next window as an arrival again when the fast-path setpoint did not reach the light', () => {
      const { ctl, at } = vacantZone();
      const d = ctl.onPresence('office', at, true);
      assert.ok(d);
      ctl.noteOutput('office', 10, at, 0); // a gate refused it
      const w = ctl.decide(win(NOON + 60, { lux: 150 }));
      assert.equal(w.setpoint.intensity, 90, 'straight to the occupied level, not a 20-point step');
      assert.ok(w.setpoint.reason.includes('daylight:arrival'), w.setpoint.reason);
    });

    it('keeps a window that closed before the fast path from moving the hold back', () => {
      const { ctl, at } = vacantZone();
      ctl.onPresence('office', at, true);
      const late = win(NOON + 1, { lux: 150, present: false });
      late.windowEnd = at - 10_000;
      late.windowStart = late.windowEnd - MIN;
      const d = ctl.decide(late);
      assert.equal(d.state.occupancy.lastPresenceAt, at);
      assert.equal(d.occupancy, 'hold');
    });
  });
});
