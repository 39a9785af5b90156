/**
 * Demand response: the request parsed into an event (or its end), the cap on
 * automatic setpoints with the clamps' floors winning, manual setpoints
 * untouched, the end at `until`, and the rules controller honouring it on
 * every decision path.
 */
import { strict as assert } from 'node:assert';
import {
  activeEvent,
  DEFAULT_SHED_PCT,
  type DemandResponseEvent,
  parseDemandResponse,
  restoreEvent,
  shedMinutes,
  shedSetpoint,
} from '../../../lib/control/demand-response';
import { applyClamps } from '../../../lib/control/clamps';
import { RulesController } from '../../../lib/control/rules';
import type { Setpoint } from '../../../lib/contracts';
import { ControlInputError } from '../../../lib/control/types';
import { MIN, T0, win } from './helpers';

const NOW = Date.UTC(2026, 6, 1, 16, 0, 0);

function event(over: Partial<DemandResponseEvent> = {}): DemandResponseEvent {
  return { reductionPct: 15, startedAt: NOW, until: NOW + 60 * MIN, source: 'http', ...over };
}

function sp(intensity: number, source: Setpoint['source'] = 'rules'): Setpoint {
  return { zone: 'office', intensity, cct: 4000, reason: 'daylight', source };
}

describe('demand response', () => {
  describe('parseDemandResponse', () => {
    it('level "shed" is the default share (15 %, Title 24); a number is that reduction; until ISO or minutes', () => {
      assert.equal(DEFAULT_SHED_PCT, 15);
      assert.deepEqual(parseDemandResponse({ level: 'shed', until: '2026-07-01T18:00:00Z' }, NOW), {
        reductionPct: 15,
        startedAt: NOW,
        until: Date.UTC(2026, 6, 1, 18),
        source: 'message',
      });
      const e = parseDemandResponse({ level: 30, minutes: 45, source: 'mqtt' }, NOW, 20);
      assert.deepEqual(e, { reductionPct: 30, startedAt: NOW, until: NOW + 45 * MIN, source: 'mqtt' });
      const d = parseDemandResponse({}, NOW, 20) as DemandResponseEvent;
      assert.equal(d.reductionPct, 20, "the node's configured share");
      assert.equal(d.until, NOW + 60 * MIN, 'an hour without until');
    });

    it('level 0, normal or end: true end the event', () => {
      for (const p of [{ level: 0 }, { level: 'normal' }, { end: true }, { level: '0' }]) {
        assert.deepEqual(parseDemandResponse(p, NOW), { end: true, at: NOW, source: 'message' }, JSON.stringify(p));
      }
    });

    it('refuses what it cannot use, naming the field', () => {
      const bad: Array<[unknown, RegExp]> = [
        [null, /payload/],
        [{ level: 120 }, /level/],
        [{ level: 'high' }, /level/],
        [{ level: 'shed', until: 'tomorrow' }, /until/],
        [{ level: 'shed', until: '2026-07-01T15:00:00Z' }, /not in the future/],
        [{ level: 'shed', until: '2026-08-01T15:00:00Z' }, /days ahead/],
        [{ level: 'shed', minutes: 0 }, /minutes/],
        [{ level: 'shed', minutes: 10, until: NOW + 1 }, /not both/],
      ];
      for (const [p, re] of bad)
        assert.throws(
          () => parseDemandResponse(p, NOW),
          (e: unknown) => e instanceof ControlInputError && re.test(e.message),
          JSON.stringify(p),
        );
    });
  });

  describe('shedSetpoint', () => {
    it('caps automatic output at 100 - share and names the event in the reason', () => {
      const out = shedSetpoint(sp(100), event(), NOW + MIN);
      assert.equal(out.intensity, 85);
      assert.equal(out.reason, 'daylight; demand-response:shed 15% (cap 85%)');
      assert.equal(shedSetpoint(sp(100, 'ai'), event({ reductionPct: 40 }), NOW).intensity, 60);
      assert.equal(shedSetpoint(sp(50), event(), NOW).intensity, 50, 'already under the cap');
      assert.match(shedSetpoint(sp(50), event(), NOW).reason, /demand-response/, 'named while active');
      const twice = shedSetpoint(shedSetpoint(sp(100), event(), NOW), event(), NOW);
      assert.equal(twice.reason, 'daylight; demand-response:shed 15% (cap 85%)', 'applied twice, named once');
    });

    it('never touches a manual setpoint', () => {
      assert.deepEqual(shedSetpoint(sp(100, 'manual'), event(), NOW), sp(100, 'manual'));
    });

    it('ends at until: from then on the proposal passes unchanged', () => {
      const ev = event();
      assert.equal(shedSetpoint(sp(100), ev, ev.until - 1).intensity, 85);
      assert.deepEqual(shedSetpoint(sp(100), ev, ev.until), sp(100));
      assert.equal(activeEvent(ev, ev.until), null);
      assert.equal(activeEvent(ev, NOW - 1), null, 'not before it started');
    });

    it('the clamps after it keep the accessibility floors: a profile minimum and the occupied floor win', () => {
      const heavy = event({ reductionPct: 95 });
      const capped = shedSetpoint(sp(80), heavy, NOW);
      assert.equal(capped.intensity, 5);
      const floor = applyClamps(capped, { occupied: true, limits: { occupiedFloorPct: 10 } });
      assert.equal(floor.setpoint.intensity, 10);
      const profile = applyClamps(capped, { occupied: true, hints: { minIntensityPct: 40 } });
      assert.equal(profile.setpoint.intensity, 40);
      assert.deepEqual(profile.fired, ['clamp:profile-min']);
    });
  });

  describe('in the rules controller', () => {
    it('caps window, tick and presence decisions while active, and not after until', () => {
      const ctl = new RulesController({ occupiedFloorPct: 10, noLuxIntensityPct: 100 });
      const dark = win(600, { lux: 0 });
      const before = ctl.decide(dark);
      assert.ok(before.setpoint.intensity > 85, `uncapped: ${before.setpoint.intensity}`);
      const ev = event({ startedAt: T0, until: T0 + 700 * MIN, reductionPct: 15 });
      ctl.setDemandResponse(ev);
      const during = ctl.decide(win(605, { lux: 0 }));
      assert.equal(during.setpoint.intensity, 85);
      assert.match(during.setpoint.reason, /demand-response:shed 15% \(cap 85%\)/);
      const tick = ctl.tick('office', T0 + 606 * MIN);
      assert.ok(tick === null || tick.setpoint.intensity <= 85);
      const after = ctl.decide(win(701, { lux: 0 }));
      assert.ok(after.setpoint.intensity > 85, `after until: ${after.setpoint.intensity}`);
      assert.doesNotMatch(after.setpoint.reason, /demand-response/);
    });

    it('a presence-only zone (no lux) comes back to full output at the first decision after the event', () => {
      const ctl = new RulesController({ occupiedFloorPct: 10, noLuxIntensityPct: 100 });
      assert.equal(ctl.decide(win(600, { lux: null })).setpoint.intensity, 100);
      ctl.setDemandResponse(event({ startedAt: T0, until: T0 + 605 * MIN }));
      assert.equal(ctl.decide(win(601, { lux: null })).setpoint.intensity, 85);
      assert.equal(ctl.decide(win(602, { lux: null })).setpoint.intensity, 85, 'the no-lux loop holds the shed level');
      ctl.setDemandResponse(null);
      assert.equal(ctl.decide(win(606, { lux: null })).setpoint.intensity, 100);
    });

    it("a vacant zone's arrival (presence fast path) is capped too; the floor still wins a deep shed", () => {
      const ctl = new RulesController({ occupiedFloorPct: 20, noLuxIntensityPct: 100 }, [], {
        localClock: () => ({ minuteOfDay: 600, weekday: 1 }),
      });
      ctl.setDemandResponse(event({ startedAt: 0, until: Number.MAX_SAFE_INTEGER / 2, reductionPct: 90 }));
      const d = ctl.onPresence('office', T0 + 600 * MIN, true, { lux: 0 });
      assert.ok(d);
      assert.equal(d.setpoint.intensity, 20, 'the occupied floor, not 10');
    });
  });

  it('restoreEvent keeps a running event and drops an ended or broken one', () => {
    const ev = event();
    assert.deepEqual(restoreEvent(JSON.parse(JSON.stringify(ev)), NOW + MIN), ev);
    assert.equal(restoreEvent(ev, ev.until + 1), null);
    assert.equal(restoreEvent({ reductionPct: '15' }, NOW), null);
  });

  it('shedMinutes sums the events within the period, overlaps once, cut at an early end', () => {
    const from = NOW;
    const to = NOW + 24 * 60 * MIN;
    assert.equal(shedMinutes([{ startedAt: NOW - 30 * MIN, until: NOW + 30 * MIN }], from, to), 30);
    assert.equal(
      shedMinutes(
        [
          { startedAt: NOW + 60 * MIN, until: NOW + 120 * MIN },
          { startedAt: NOW + 90 * MIN, until: NOW + 150 * MIN, endedAt: NOW + 100 * MIN },
        ],
        from,
        to,
      ),
      60,
    );
  });
});
