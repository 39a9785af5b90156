import assert from 'node:assert/strict';
import {
  clampKelvin,
  DEFAULT_TC_LIMITS,
  kelvinToMirek,
  kelvinToMirekClamped,
  mirekToDtrBytes,
  MIREK_MASK,
  mirekToKelvin,
} from '../../../lib/dali/colour';

describe('dali colour: kelvin <-> mirek', () => {
  it('truncates like DT8 gear (2700 K = 370, 4000 K = 250, 6500 K = 153)', () => {
    assert.equal(kelvinToMirek(2700), 370);
    assert.equal(kelvinToMirek(4000), 250);
    assert.equal(kelvinToMirek(6500), 153);
    assert.equal(kelvinToMirek(1800), 555);
  });

  it('round-trips mirek values within one mirek', () => {
    for (let m = 100; m <= 1000; m++) {
      const k = mirekToKelvin(m);
      assert.ok(Math.abs(kelvinToMirek(k) - m) <= 1, `mirek ${m} -> ${k} K`);
    }
  });

  it('has 1800-6500 K as default limits', () => {
    assert.deepEqual(DEFAULT_TC_LIMITS, { coolestMirek: 153, warmestMirek: 555 });
  });

  it('clamps into the limits', () => {
    assert.equal(kelvinToMirekClamped(10000), 153);
    assert.equal(kelvinToMirekClamped(1000), 555);
    assert.equal(kelvinToMirekClamped(3000), 333);
    assert.equal(kelvinToMirekClamped(3000, { coolestMirek: 200, warmestMirek: 300 }), 300);
    assert.ok(Math.abs(clampKelvin(10000) - 6535.9) < 0.1);
    assert.ok(Math.abs(clampKelvin(100) - 1801.8) < 0.1);
    assert.equal(clampKelvin(4000), 4000);
  });

  it('rejects nonsense with RangeError and a clear message', () => {
    for (const bad of [NaN, 0, -2700, Infinity, -Infinity, Number('warm'), '2700' as unknown as number]) {
      assert.throws(() => kelvinToMirek(bad), /colour temperature must be a finite number of kelvin > 0/, String(bad));
      assert.throws(() => kelvinToMirekClamped(bad), RangeError, String(bad));
      assert.throws(() => clampKelvin(bad), RangeError, String(bad));
    }
    assert.throws(() => kelvinToMirek(10), /outside what DT8 can express/);
    assert.throws(() => mirekToKelvin(MIREK_MASK), /MASK/);
    assert.throws(() => mirekToKelvin(0), RangeError);
    assert.throws(() => kelvinToMirekClamped(3000, { coolestMirek: 400, warmestMirek: 300 }), /coolest <= warmest/);
  });

  it('splits mirek into DTR0 (LSB) and DTR1 (MSB)', () => {
    assert.deepEqual(mirekToDtrBytes(370), { dtr0: 0x72, dtr1: 0x01 });
    assert.deepEqual(mirekToDtrBytes(MIREK_MASK), { dtr0: 0xff, dtr1: 0xff });
    assert.throws(() => mirekToDtrBytes(0x10000), RangeError);
  });
});
