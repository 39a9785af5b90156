import assert from 'node:assert/strict';
import { arcLevelToPercent, percentToArcLevel } from '../../../lib/dali/curve';
import { extendedFadeTimeToMs, fadeTimeCodeToMs, msToExtendedFadeTime, msToFadeTimeCode } from '../../../lib/dali/fade';

describe('dali curve: logarithmic dimming curve', () => {
  it('matches the reference levels', () => {
    const known: [number, number][] = [
      [1, 0.1],
      [50, 0.381],
      [126, 3.035],
      [170, 10.09],
      [200, 22.89],
      [229, 50.53],
      [254, 100],
    ];
    for (const [level, pct] of known) {
      const got = arcLevelToPercent(level);
      assert.ok(Math.abs(got - pct) / pct < 0.002, `level ${level}: ${got} vs ${pct}`);
      assert.equal(percentToArcLevel(pct), level, `percent ${pct}`);
    }
    assert.equal(arcLevelToPercent(0), 0);
    assert.equal(percentToArcLevel(0), 0);
  });

  it('round-trips every level and is strictly increasing', () => {
    for (const curve of ['logarithmic', 'linear'] as const) {
      let prev = -1;
      for (let n = 0; n <= 254; n++) {
        const p = arcLevelToPercent(n, curve);
        assert.ok(p > prev, `${curve} level ${n}`);
        prev = p;
        assert.equal(percentToArcLevel(p, curve), n, `${curve} level ${n}`);
      }
    }
  });

  it('never turns a positive request off and clamps to 1..254', () => {
    assert.equal(percentToArcLevel(0.001), 1);
    assert.equal(percentToArcLevel(1e-9, 'linear'), 1);
    assert.equal(percentToArcLevel(0.1, 'linear'), 1);
    assert.equal(percentToArcLevel(100, 'linear'), 254);
    assert.equal(percentToArcLevel(50, 'linear'), 127);
    assert.equal(percentToArcLevel(99.99), 254);
  });

  it('rejects nonsense with RangeError', () => {
    for (const bad of [NaN, Infinity, -Infinity, -0.1, 100.01, '50' as unknown as number]) {
      assert.throws(() => percentToArcLevel(bad), RangeError, String(bad));
    }
    for (const bad of [-1, 255, 1.5, NaN]) assert.throws(() => arcLevelToPercent(bad), RangeError, String(bad));
    assert.throws(() => percentToArcLevel(50, 'cubic' as 'linear'), /dimming curve/);
  });
});

describe('dali fade times', () => {
  it('follows T = 0.5 * sqrt(2^n) s with 0 = instant', () => {
    assert.equal(fadeTimeCodeToMs(0), 0);
    assert.ok(Math.abs(fadeTimeCodeToMs(1) - 707.1) < 0.1);
    assert.equal(fadeTimeCodeToMs(2), 1000);
    assert.equal(fadeTimeCodeToMs(4), 2000);
    assert.ok(Math.abs(fadeTimeCodeToMs(15) - 90510) < 1);
    assert.throws(() => fadeTimeCodeToMs(16), RangeError);
    assert.throws(() => fadeTimeCodeToMs(-1), RangeError);
  });

  it('picks the nearest code on a log scale and round-trips every code', () => {
    for (let n = 0; n <= 15; n++) assert.equal(msToFadeTimeCode(fadeTimeCodeToMs(n)), n);
    assert.equal(msToFadeTimeCode(0), 0);
    assert.equal(msToFadeTimeCode(300), 0);
    assert.equal(msToFadeTimeCode(400), 1);
    assert.equal(msToFadeTimeCode(1100), 2);
    assert.equal(msToFadeTimeCode(3e6), 15);
    assert.throws(() => msToFadeTimeCode(-5), RangeError);
    assert.throws(() => msToFadeTimeCode(NaN), RangeError);
  });

  it('encodes extended fade times (base 1..16 x 100 ms / 1 s / 10 s / 1 min)', () => {
    assert.equal(extendedFadeTimeToMs(0x00), 0);
    assert.equal(extendedFadeTimeToMs(0x10), 100);
    assert.equal(extendedFadeTimeToMs(0x1f), 1600);
    assert.equal(extendedFadeTimeToMs(0x22), 3000);
    assert.equal(extendedFadeTimeToMs(0x4f), 16 * 60000);
    assert.equal(extendedFadeTimeToMs(0x50), 0);
    for (const ms of [100, 500, 1600, 3000, 40000, 120000, 960000])
      assert.equal(extendedFadeTimeToMs(msToExtendedFadeTime(ms)), ms, String(ms));
    assert.equal(msToExtendedFadeTime(0), 0);
    assert.equal(msToExtendedFadeTime(40), 0);
    assert.equal(extendedFadeTimeToMs(msToExtendedFadeTime(17000)), 16000);
    assert.equal(extendedFadeTimeToMs(msToExtendedFadeTime(45000)), 40000);
    assert.throws(() => msToExtendedFadeTime(960001), RangeError);
  });
});
