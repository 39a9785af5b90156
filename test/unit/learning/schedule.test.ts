import assert from 'node:assert/strict';
import { RulesController } from '../../../lib/control';
import { resolveRulesConfig, scheduledConfig } from '../../../lib/control/rules';
import { parseScheduleRules, ruleOf } from '../../../lib/learning/schedule';
import { LearningInputError, type ScheduleRule } from '../../../lib/learning/types';
import { aiScheduleHint, scheduleAt } from '../../../lib/learning/schedule';
import { buildPayload, sanitizeHints } from '../../../lib/ai/payload';

const MIN = 60_000;
/** Monday 2026-11-02 14:30 UTC: a window of 5 min, occupied, lux given. */
const T = Date.UTC(2026, 10, 2, 14, 30);
const win = (zone: string, at: number, lux: number, present = true): Record<string, unknown> => {
  const d = new Date(at);
  return {
    zone,
    windowStart: at,
    windowEnd: at + 5 * MIN,
    count: 5,
    lux: { mean: lux, min: lux, max: lux, std: 0, last: lux },
    presence: { ratio: present ? 1 : 0, transitions: 0, last: present },
    minuteOfDay: d.getUTCHours() * 60 + d.getUTCMinutes(),
    weekday: d.getUTCDay(),
  };
};
const slot: ScheduleRule = ruleOf({
  id: 3,
  zone: 'meeting-1',
  change: { kind: 'slot', days: 'weekdays', startMinute: 14 * 60, endMinute: 16 * 60, maxIntensityPct: 45, kelvin: 3000 },
});

describe('learning/schedule: rules in the rules controller', () => {
  it('a slot rule caps the output and sets the colour inside its slot, named in the reason; not outside it', () => {
    const ctl = new RulesController({ targetLux: 500 });
    ctl.setSchedule([slot]);
    const d = ctl.decide(win('meeting-1', T, 50));
    assert.ok(d.setpoint.intensity <= 45, String(d.setpoint.intensity));
    assert.equal(Math.round(d.setpoint.cct), 3000);
    assert.match(d.setpoint.reason, /schedule:suggestion:3 weekdays 14:00-16:00 cap 45% 3000K/);
    const other = new RulesController({ targetLux: 500 });
    other.setSchedule([slot]);
    const late = other.decide(win('meeting-1', T + 2 * 60 * MIN, 50));
    assert.ok(late.setpoint.intensity > 45);
    assert.doesNotMatch(late.setpoint.reason, /schedule:/);
    // Another zone is untouched.
    const z = ctl.decide(win('office-1', T, 50));
    assert.doesNotMatch(z.setpoint.reason, /schedule:/);
  });

  it('the clamps win over a rule: a profile floor above the cap keeps the floor', () => {
    const ctl = new RulesController({ targetLux: 500 });
    ctl.setSchedule([slot]);
    const d = ctl.decide(win('meeting-1', T, 50), { hints: { minIntensityPct: 60 } });
    assert.equal(d.setpoint.intensity, 60);
    assert.match(d.setpoint.reason, /schedule:suggestion:3/);
    assert.match(d.setpoint.reason, /clamp:profile-min/);
  });

  it('target-lux and hold rules change the target and the hold', () => {
    const base = new RulesController({ targetLux: 300, holdMinutes: 15 });
    const ruled = new RulesController({ targetLux: 300, holdMinutes: 15 });
    ruled.setSchedule(
      parseScheduleRules({
        rules: [
          { id: 'suggestion:4', zone: 'office-1', kind: 'target-lux', targetLux: 450, fromLux: 300 },
          { id: 'suggestion:5', zone: 'office-1', kind: 'hold', holdMinutes: 3, fromMinutes: 15 },
        ],
      }),
    );
    const a = base.decide(win('office-1', T, 100));
    const b = ruled.decide(win('office-1', T, 100));
    assert.ok(b.setpoint.intensity > a.setpoint.intensity, `${b.setpoint.intensity} > ${a.setpoint.intensity}`);
    assert.match(b.setpoint.reason, /schedule:suggestion:4 target 450 lx/);
    // 5 minutes after the room emptied: the 3-min hold has run out, the 15-min one has not.
    const after = T + 10 * MIN;
    const ea = base.decide(win('office-1', T + 5 * MIN, 300, false), { now: after });
    const eb = ruled.decide(win('office-1', T + 5 * MIN, 300, false), { now: after });
    assert.equal(ea.occupancy, 'hold');
    assert.equal(eb.occupancy, 'absence');
    assert.match(eb.setpoint.reason, /schedule:suggestion:5 hold 3 min/);
  });

  it("a target-lux rule with settledLux puts the band's lower edge at the target, with the zone's own band width in lux", () => {
    const rules = parseScheduleRules({
      rules: [{ id: 'suggestion:4', zone: 'office-1', kind: 'target-lux', targetLux: 600, fromLux: 500, settledLux: 640 }],
    });
    const base = resolveRulesConfig({ targetLux: 500, deadbandPct: 10 });
    const dl = scheduledConfig(base, rules, 'office-1').daylight;
    // The loop corrects under target x (1 + d/2), aims at target x (1 + d), dims above target x (1 + 2d) (lib/control/daylight.ts).
    const d = dl.deadbandPct / 100;
    const low = dl.targetLux * (1 + d / 2);
    const aim = dl.targetLux * (1 + d);
    const high = dl.targetLux * (1 + 2 * d);
    assert.ok(Math.abs(low - 600) < 1e-9, `lower edge ${low} lx is the 600 lx people accept at least`);
    // The zone's own band at 500 lx, 10 %: 525..600 lx, 75 lx wide; the rule's band is as wide, not 10 % of 600 lx (90 lx).
    assert.ok(Math.abs(high - 675) < 1e-9, `upper edge ${high} lx: 600 + the zone's 75 lx`);
    assert.ok(Math.abs(aim - 625) < 1e-9, `aim ${aim} lx`);
    // Without settledLux (a rule stored before): the target and the zone's deadband, as before.
    const plain = parseScheduleRules({
      rules: [{ id: 'suggestion:4', zone: 'office-1', kind: 'target-lux', targetLux: 600, fromLux: 500 }],
    });
    const p = scheduledConfig(base, plain, 'office-1').daylight;
    assert.deepEqual([p.targetLux, p.deadbandPct], [600, 10]);
    // A zone whose target is a midpoint keeps its deadband around the rule's target.
    const mid = scheduledConfig(
      resolveRulesConfig({ targetLux: 500, deadbandPct: 10, targetIsMinimum: false }),
      rules,
      'office-1',
    ).daylight;
    assert.deepEqual([mid.targetLux, mid.deadbandPct], [600, 10]);
    const c = new RulesController({ targetLux: 500 });
    c.setSchedule(rules);
    assert.match(c.decide(win('office-1', T, 100)).setpoint.reason, /schedule:suggestion:4 target 600 lx aim 625 lx/);
    assert.throws(
      () => parseScheduleRules({ rules: [{ id: 'x', zone: 'z', kind: 'target-lux', targetLux: 600, settledLux: 550 }] }),
      /rules\[0\]: settledLux/,
    );
  });

  it('daylight harvesting still dims under a raised target: above the band it steps down, in bright daylight to the floor', () => {
    const rules = parseScheduleRules({
      rules: [{ id: 'suggestion:4', zone: 'office-1', kind: 'target-lux', targetLux: 600, fromLux: 500, settledLux: 630 }],
    });
    const c = new RulesController({ targetLux: 500, luxPerPct: 5 });
    c.setSchedule(rules);
    // Arrival in a dim room: up to the aim (625 lx with 5 lx/%: 125 % capped at 100 %, so start with some daylight).
    const first = c.decide(win('office-1', T, 300));
    const startPct = first.setpoint.intensity;
    assert.ok(startPct > 50, String(startPct));
    // Daylight rose: 680 lx is above the rule's band (600..675 lx). The band of the zone's deadband scaled to the
    // rule (601..687 lx, the rule before) held it there: more light than anyone asked for.
    const next = c.decide(win('office-1', T + 5 * MIN, 680), { now: T + 10 * MIN });
    assert.ok(next.setpoint.intensity < startPct, `${next.setpoint.intensity} < ${startPct}`);
    assert.match(next.setpoint.reason, /daylight:step-down/);
    // Bright daylight for a while: down to the floor (10 %), step by step.
    let pct = next.setpoint.intensity;
    for (let i = 2; i < 20; i++)
      pct = c.decide(win('office-1', T + i * 5 * MIN, 900 + pct * 5), { now: T + (i + 1) * 5 * MIN }).setpoint.intensity;
    assert.equal(pct, 10);
  });

  it('a hold rule "then off" switches off when the hold runs out, without the absence level; never off still wins', () => {
    const hold = (then?: 'off'): ScheduleRule[] =>
      parseScheduleRules({
        rules: [{ id: 'suggestion:6', zone: 'corridor-1', kind: 'hold', holdMinutes: 1, fromMinutes: 15, ...(then ? { then } : {}) }],
      });
    const run = (rules: ScheduleRule[], config: Record<string, unknown> = {}): ReturnType<RulesController['decide']> => {
      const c = new RulesController({ targetLux: 100, holdMinutes: 15, vacancyOffMinutes: 20, absenceLevelPct: 10, ...config });
      c.setSchedule(rules);
      c.decide(win('corridor-1', T, 20));
      // 3 minutes after the last presence: the 1-min hold has run out, the 20-min vacancy delay has not.
      return c.decide(win('corridor-1', T + 5 * MIN, 20, false), { now: T + 8 * MIN });
    };
    const off = run(hold('off'));
    assert.equal(off.occupancy, 'off');
    assert.equal(off.setpoint.intensity, 0, 'people switched it off by hand: off, not 10 %');
    assert.match(off.setpoint.reason, /schedule:suggestion:6 hold 1 min then off/);
    const dim = run(hold());
    assert.equal(dim.occupancy, 'absence', 'a hold rule without "then off" keeps the absence level');
    assert.equal(dim.setpoint.intensity, 10);
    assert.doesNotMatch(dim.setpoint.reason, /then off/);
    const never = run(hold('off'), { neverOff: true });
    assert.equal(never.occupancy, 'absence', 'a zone that must never go dark keeps its absence level');
    assert.equal(never.setpoint.intensity, 10);
    assert.doesNotMatch(never.setpoint.reason, /then off/);
    assert.throws(
      () => parseScheduleRules({ rules: [{ id: 'x', zone: 'z', kind: 'hold', holdMinutes: 1, then: 'dim' }] }),
      /rules\[0\]: then/,
    );
  });

  it('parseScheduleRules refuses bad rules with a message naming the rule', () => {
    assert.throws(
      () => parseScheduleRules({ rules: [{ id: 'x', zone: 'z', kind: 'slot', days: 'weekdays', startMinute: 900, endMinute: 800 }] }),
      LearningInputError,
    );
    assert.throws(() => parseScheduleRules({ rules: [{ id: 'x', zone: 'z', kind: 'boom' }] }), /rules\[0\]: kind/);
    assert.throws(() => parseScheduleRules('nope'), /expected \{rules/);
    assert.deepEqual(parseScheduleRules({ rules: [] }), []);
  });

  it('the AI payload carries the rule in effect as hints.schedule, allow-listed and within the cap', () => {
    const hint = aiScheduleHint(scheduleAt([slot], 'meeting-1', 14 * 60 + 30, 1));
    assert.deepEqual(hint, { maxIntensityPct: 45, kelvin: 3000 });
    assert.equal(aiScheduleHint(scheduleAt([slot], 'meeting-1', 17 * 60, 1)), undefined, 'outside the slot: no hint');
    assert.deepEqual(sanitizeHints({ schedule: { maxIntensityPct: 45, kelvin: 3000, note: 'x', targetLux: -1 } }), {
      schedule: { maxIntensityPct: 45, kelvin: 3000 },
    });
    const w = win('meeting-1', T, 50);
    const full = buildPayload([w], { schedule: hint }, { payloadCapBytes: 2048 });
    assert.deepEqual(full.payload.hints, { schedule: { maxIntensityPct: 45, kelvin: 3000 } });
    // Under a tight cap the hints go (trim step "hints") before the payload breaks the cap.
    const tight = buildPayload([w], { schedule: hint }, { payloadCapBytes: 256 });
    assert.ok(tight.bytes <= 256);
  });
});
