import { strict as assert } from 'node:assert';
import { RulesController } from '../../../lib/control/rules';
import { ControlInputError } from '../../../lib/control/types';
import { MIN, T0, win } from './helpers';

/** Local clock of the tests: UTC. */
const utc = (ts: number): { minuteOfDay: number; weekday: number } => {
  const d = new Date(ts);
  return { minuteOfDay: d.getUTCHours() * 60 + d.getUTCMinutes(), weekday: d.getUTCDay() };
};

describe('control/rules: zones, per-zone settings and the cold presence fast path', () => {
  it('decides the first presence of a zone that has no window yet at once (with a local clock)', () => {
    const at = T0 + 9 * 60 * MIN; // 09:00
    const cold = new RulesController({}, [], { localClock: utc });
    const d = cold.onPresence('office', at, true, { lux: 50 });
    assert.ok(d, 'a decision for the first arrival');
    assert.equal(d.fastPath, 'presence');
    assert.equal(d.setpoint.fadeMs, 0, 'arrival: no fade');
    assert.ok(d.setpoint.intensity >= 60, `the light rises at once (got ${d.setpoint.intensity} %)`);
    assert.match(d.setpoint.reason, /presence:fast-path/);
    assert.equal(cold.getState('office')?.clock?.minuteOfDay, 540, "the zone's clock comes from the local clock");

    // Without a local clock the zone waits for its first window, as before.
    const waiting = new RulesController({});
    assert.equal(waiting.onPresence('office', at, true, { lux: 50 }), null);
    assert.equal(waiting.getState('office'), null);
  });

  it('a cold zone without any lux is lit at the no-lux level, never left dark', () => {
    const ctl = new RulesController({ noLuxIntensityPct: 80 }, [], { localClock: utc });
    const d = ctl.onPresence('corridor', T0 + 14 * 60 * MIN, true);
    assert.ok(d);
    assert.equal(d.setpoint.intensity, 80);
  });

  it('absence and lux readings of a zone without state create no state', () => {
    const ctl = new RulesController({}, [], { localClock: utc });
    assert.equal(ctl.onPresence('office', T0 + 9 * 60 * MIN, false), null);
    assert.equal(ctl.onLux('office', T0 + 9 * 60 * MIN, 10), null);
    assert.deepEqual(ctl.zones(), []);
  });

  it('refuses zones outside the allowed set everywhere, and keeps no state of them', () => {
    const allowed = new Set(['office', 'meeting']);
    const ctl = new RulesController({}, [], { localClock: utc, allowZone: (z) => allowed.has(z) });
    const refused = (e: unknown): boolean => e instanceof ControlInputError && /"not-office" is not in the zone map/.test(e.message);
    assert.throws(() => ctl.onPresence('not-office', T0, true, { lux: 0 }), refused);
    assert.throws(() => ctl.onLux('not-office', T0, 5000), refused);
    assert.throws(() => ctl.decide(win(600, { zone: 'not-office' })), refused);
    ctl.noteOutput('not-office', 50, T0);
    assert.deepEqual(ctl.zones(), [], 'nothing kept for the refused zone');
    assert.ok(ctl.decide(win(600, { zone: 'office' })));
    assert.deepEqual(ctl.zones(), ['office']);
  });

  it('drops saved state of zones no longer in the map, at restore and on prune', () => {
    const before = new RulesController({});
    for (const zone of ['office', 'meeting', 'old-room']) before.decide(win(600, { zone }));
    const saved = before.toJSON();
    let allowed = new Set(['office', 'meeting']);
    const after = new RulesController({}, saved, { allowZone: (z) => allowed.has(z) });
    assert.deepEqual(after.zones().sort(), ['meeting', 'office']);
    allowed = new Set(['office']);
    assert.deepEqual(after.prune(), ['meeting']);
    assert.deepEqual(after.zones(), ['office']);
  });

  it("uses each zone's own target lux and colour over the node's settings", () => {
    const ctl = new RulesController({ targetLux: 500, luxPerPct: 5 }, [], {
      zoneConfig: (zone) => (zone === 'corridor' ? { targetLux: 100, coolestKelvin: 4000 } : undefined),
    });
    assert.equal(ctl.configFor('corridor').daylight.targetLux, 100);
    assert.equal(ctl.configFor('office').daylight.targetLux, 500);
    // Same window (no daylight, occupied, noon) in both zones: the corridor needs far less light.
    const office = ctl.decide(win(12 * 60, { zone: 'office', lux: 0 }));
    const corridor = ctl.decide(win(12 * 60, { zone: 'corridor', lux: 0 }));
    assert.ok(
      corridor.setpoint.intensity < office.setpoint.intensity,
      `corridor ${corridor.setpoint.intensity} % < office ${office.setpoint.intensity} %`,
    );
    assert.ok(corridor.setpoint.cct <= 4000, `the corridor's day colour is capped at 4000 K (got ${corridor.setpoint.cct})`);
  });

  it('state stays bounded: readings for many zones outside the map leave nothing behind', () => {
    const ctl = new RulesController({}, [], { localClock: utc, allowZone: (z) => z === 'office' });
    for (let i = 0; i < 6000; i++) {
      try {
        ctl.onPresence(`zone-${i}`, T0 + 9 * 60 * MIN + i, true, { lux: 0 });
      } catch {
        // refused
      }
    }
    assert.deepEqual(ctl.zones(), []);
    assert.ok(JSON.stringify(ctl.toJSON()).length < 10);
  });

  it('a presence-only zone (no lux) gets the no-lux level when people come back, not the absence level it was left at', () => {
    const ctl = new RulesController({ noLuxIntensityPct: 80, holdMinutes: 1, absenceLevelPct: 10 });
    // Occupied, then nobody for a while: the absence level.
    ctl.decide(win(600, { zone: 'corridor', lux: null, present: true }));
    let d = ctl.decide(win(610, { zone: 'corridor', lux: null, present: false }));
    assert.equal(d.occupancy, 'absence');
    assert.equal(d.setpoint.intensity, 10);
    // Someone walks through again (a window with presence): the no-lux level at once.
    d = ctl.decide(win(611, { zone: 'corridor', lux: null, present: true }));
    assert.equal(d.setpoint.intensity, 80, d.setpoint.reason);
    assert.match(d.setpoint.reason, /daylight:no-lux arrival/);
  });

  it("a cold zone's old reading (replayed or buffered) switches nothing on", () => {
    const wall = T0 + 12 * 60 * MIN;
    const ctl = new RulesController({}, [], { localClock: utc, now: () => wall });
    assert.equal(ctl.onPresence('office', wall - 3 * 60 * MIN, true, { lux: 0 }), null, '3 hours old');
    assert.deepEqual(ctl.zones(), []);
    assert.ok(ctl.onPresence('office', wall - 5_000, true, { lux: 0 }), '5 s old: decided');
  });
});
