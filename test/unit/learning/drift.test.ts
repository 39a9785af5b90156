import assert from 'node:assert/strict';
import { DRIFT_THRESHOLDS, reviseRule, revisionSummary, type ScheduleChange, type SlotChange } from '../../../lib/learning';

const slot = (extra: Partial<SlotChange>): SlotChange => ({ kind: 'slot', days: 'weekdays', startMinute: 840, endMinute: 960, ...extra });

describe('lib/learning drift: when a mined change materially revises the rule in force', () => {
  it('slot: a cap that moves by 10 points or more is a revision; by less it is not', () => {
    const inForce = slot({ maxIntensityPct: 44, kelvin: 3000 });
    assert.equal(reviseRule(inForce, slot({ maxIntensityPct: 44 + DRIFT_THRESHOLDS.slotIntensityPct - 1, kelvin: 3000 })), null);
    const r = reviseRule(inForce, slot({ maxIntensityPct: 64, kelvin: 3000 }));
    assert.deepEqual(r?.change, slot({ maxIntensityPct: 64, kelvin: 3000 }));
    assert.deepEqual(r?.differs, ['cap 44 % -> cap 64 %']);
  });

  it('slot: a cap that becomes a floor is a revision; the colour people no longer correct stays', () => {
    // Mined with the rule in force: the automatic level was already the cap, people now raise it.
    const r = reviseRule(slot({ maxIntensityPct: 40, kelvin: 3000 }), slot({ minIntensityPct: 45 }));
    assert.deepEqual(r?.change, slot({ minIntensityPct: 45, kelvin: 3000 }));
    assert.deepEqual(r?.differs, ['cap 40 % -> floor 45 %']);
  });

  it('slot: a colour-only correction keeps the band; 300 K or more is material', () => {
    assert.equal(reviseRule(slot({ maxIntensityPct: 40, kelvin: 3000 }), slot({ kelvin: 3200 })), null);
    const r = reviseRule(slot({ maxIntensityPct: 40, kelvin: 3000 }), slot({ kelvin: 2700 }));
    assert.deepEqual(r?.change, slot({ maxIntensityPct: 40, kelvin: 2700 }));
    assert.deepEqual(r?.differs, ['3000 K -> 2700 K']);
    assert.deepEqual(reviseRule(slot({ maxIntensityPct: 40 }), slot({ kelvin: 2700 }))?.differs, ['automatic colour -> 2700 K']);
  });

  it('target-lux: 10 % of the rule target or more', () => {
    const inForce: ScheduleChange = { kind: 'target-lux', targetLux: 600, fromLux: 500, settledLux: 640 };
    assert.equal(reviseRule(inForce, { kind: 'target-lux', targetLux: 650, fromLux: 600 }), null);
    const r = reviseRule(inForce, { kind: 'target-lux', targetLux: 700, fromLux: 600, settledLux: 760 });
    assert.deepEqual(r?.change, { kind: 'target-lux', targetLux: 700, fromLux: 600, settledLux: 760 });
    assert.deepEqual(r?.differs, ['target 600 lx -> 700 lx']);
  });

  it('hold: 2 min or more, or what follows the hold', () => {
    const inForce: ScheduleChange = { kind: 'hold', holdMinutes: 4, fromMinutes: 15, then: 'off' };
    assert.equal(reviseRule(inForce, { kind: 'hold', holdMinutes: 3, fromMinutes: 4, then: 'off' }), null);
    assert.deepEqual(reviseRule(inForce, { kind: 'hold', holdMinutes: 2, fromMinutes: 4, then: 'off' })?.differs, ['hold 4 min -> 2 min']);
    assert.deepEqual(
      reviseRule({ kind: 'hold', holdMinutes: 4, fromMinutes: 15 }, { kind: 'hold', holdMinutes: 4, fromMinutes: 4, then: 'off' })?.differs,
      ['then absence level -> off'],
    );
  });

  it('another kind is never a revision; the summary names the rule in force', () => {
    assert.equal(reviseRule(slot({ maxIntensityPct: 40 }), { kind: 'hold', holdMinutes: 1, fromMinutes: 15 }), null);
    const r = reviseRule(slot({ maxIntensityPct: 40 }), slot({ maxIntensityPct: 60 }));
    assert.equal(
      revisionSummary('meeting-1, weekdays 14:00-16:00: people set 58-60 %', 3, r!),
      'meeting-1, weekdays 14:00-16:00: people set 58-60 %; revises suggestion:3 in force (cap 40 % -> cap 60 %)',
    );
  });
});
