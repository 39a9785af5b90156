import { strict as assert } from 'node:assert';
import { dailyEnergySummary, energySavingEstimate, powerAtArcLevel, powerW, summarizeEnergy } from '../../../lib/control/energy';
import { ControlInputError } from '../../../lib/control/types';

const H = 3_600_000;
const DAY = Date.UTC(2024, 2, 4);
const fixture = { ratedW: 40, standbyW: 0.5, count: 10 };

describe('control/energy: estimates and daily summary', () => {
  it('estimates the per-decision saving as (100 - intensity) / 100', () => {
    assert.equal(energySavingEstimate(100), 0);
    assert.equal(energySavingEstimate(0), 1);
    assert.equal(energySavingEstimate(35), 0.65);
    assert.equal(energySavingEstimate(150), 0);
    assert.equal(energySavingEstimate(-3), 1);
    assert.equal(energySavingEstimate(NaN), 0, 'claims no saving for garbage');
    assert.equal(energySavingEstimate('50'), 0);
  });

  it('models power as standby + (rated - standby) * output, times the luminaire count', () => {
    assert.equal(powerW(0, fixture), 5);
    assert.equal(powerW(100, fixture), 400);
    assert.equal(powerW(50, fixture), 10 * (0.5 + 39.5 * 0.5));
    assert.ok(powerW(10, { ...fixture, exponent: 0.9 }) > powerW(10, fixture), 'lossy drivers draw more when dimmed');
    // arc level 254 = 100 %, level 170 on the logarithmic curve ~ 10 %
    assert.equal(powerAtArcLevel(254, fixture), 400);
    assert.ok(Math.abs(powerAtArcLevel(170, fixture) - powerW(10, fixture)) < 2);
    assert.throws(() => powerW(50, { ratedW: 10, standbyW: 20 }), ControlInputError);
  });

  it('integrates decisions over the day and compares with 100 % all day', () => {
    const rows = [
      { ts: DAY + 8 * H, intensity: 50, zone: 'office' },
      { ts: DAY + 18 * H, intensity: 0, zone: 'office' },
      { ts: DAY + 12 * H, intensity: 100, zone: 'office', applied: false }, // blocked: did not change the light
      { ts: DAY + 9 * H, intensity: 100, zone: 'hall' },
    ];
    const s = dailyEnergySummary(rows, DAY, fixture, { zone: 'office', initialIntensityPct: 0 });
    // 14 h at standby (5 W) + 10 h at 50 % (202.5 W)
    assert.ok(Math.abs(s.energyWh - (14 * 5 + 10 * 202.5)) < 1e-9);
    assert.equal(s.baselineWh, 24 * 400);
    assert.ok(Math.abs(s.savedPct - ((9600 - 2095) / 9600) * 100) < 1e-9);
    assert.ok(Math.abs(s.meanIntensityPct - (10 * 50) / 24) < 1e-9);
    assert.equal(s.assumedInitial, false);
  });

  it('takes the level before the period from the last earlier row, in any row order, and skips garbage', () => {
    const rows = [
      { ts: DAY + 12 * H, intensity: 0 },
      { ts: DAY - H, intensity: 100 },
      { ts: 'garbage', intensity: 5 },
      { ts: DAY, intensity: NaN },
      null,
    ];
    const s = summarizeEnergy(rows, { from: DAY, to: DAY + 24 * H, fixture });
    assert.ok(Math.abs(s.energyWh - (12 * 400 + 12 * 5)) < 1e-9);
    assert.equal(s.skipped, 3);
    const noPrior = summarizeEnergy([{ ts: DAY + 6 * H, intensity: 20 }], { from: DAY, to: DAY + 12 * H, fixture });
    assert.equal(noPrior.assumedInitial, true);
    assert.ok(Math.abs(noPrior.meanIntensityPct - 20) < 1e-9);
  });

  it('accepts ISO timestamps and rejects a reversed period', () => {
    const s = summarizeEnergy([{ ts: new Date(DAY).toISOString(), intensity: 25 }], { from: DAY, to: DAY + H, fixture });
    assert.ok(Math.abs(s.meanIntensityPct - 25) < 1e-9);
    assert.throws(() => summarizeEnergy([], { from: DAY + H, to: DAY, fixture }), ControlInputError);
  });
});
