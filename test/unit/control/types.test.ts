import { strict as assert } from 'node:assert';
import { ControlInputError, validateFeatureWindow, validateSetpoint } from '../../../lib/control/types';
import { win } from './helpers';

describe('control/types: feature window and setpoint validation', () => {
  it('accepts a contract feature window and returns a clean copy', () => {
    const w = { ...win(600), extra: 'dropped', weather: { cloud: 0.4 } };
    const v = validateFeatureWindow(w);
    assert.equal(v.zone, 'office');
    assert.deepEqual(v.weather, { cloud: 0.4 });
    assert.equal((v as unknown as Record<string, unknown>).extra, undefined);
  });

  it('accepts windows without lux or presence readings (null / missing)', () => {
    const w = win(600) as unknown as Record<string, unknown>;
    delete w.lux;
    w.presence = null;
    const v = validateFeatureWindow(w);
    assert.equal(v.lux, null);
    assert.equal(v.presence, null);
  });

  it('reads lib/features windows: all-null lux stats and unknown presence mean no reading', () => {
    const w = {
      ...win(600),
      lux: { mean: null, min: null, max: null, std: null, last: null },
      presence: { ratio: null, transitions: 0, last: null, lastTs: null },
      partial: true,
    };
    const v = validateFeatureWindow(w);
    assert.equal(v.lux, null);
    assert.equal(v.presence, null);
    const carried = validateFeatureWindow({ ...win(600), presence: { ratio: null, transitions: 0, last: true, lastTs: 5 } });
    assert.deepEqual(carried.presence, { ratio: 1, transitions: 0, last: true });
  });

  it('reads weekday 7 as Sunday and presence.last 0/1 as booleans', () => {
    const w = { ...win(600), weekday: 7, presence: { ratio: 0.5, transitions: 1, last: 1 } };
    const v = validateFeatureWindow(w);
    assert.equal(v.weekday, 0);
    assert.equal(v.presence?.last, true);
  });

  const bad: [string, (w: Record<string, unknown>) => void, string][] = [
    ['zone missing', (w) => delete w.zone, 'zone'],
    ['zone empty', (w) => (w.zone = '  '), 'zone'],
    ['windowEnd before windowStart', (w) => (w.windowEnd = (w.windowStart as number) - 1), 'windowEnd'],
    ['minuteOfDay 1440', (w) => (w.minuteOfDay = 1440), 'minuteOfDay'],
    ['minuteOfDay NaN', (w) => (w.minuteOfDay = NaN), 'minuteOfDay'],
    ['weekday 1.5', (w) => (w.weekday = 1.5), 'weekday'],
    ['lux.mean negative', (w) => (w.lux = { mean: -1, min: 0, max: 0, std: 0, last: 0 }), 'lux.mean'],
    ['lux.last a string', (w) => (w.lux = { mean: 1, min: 0, max: 2, std: 0, last: '5' }), 'lux.last'],
    ['lux.min > lux.max', (w) => (w.lux = { mean: 1, min: 3, max: 2, std: 0, last: 1 }), 'lux.min'],
    ['lux.std NaN', (w) => (w.lux = { mean: 1, min: 0, max: 2, std: NaN, last: 1 }), 'lux.std'],
    ['lux a number', (w) => (w.lux = 300), 'lux'],
    ['presence.ratio 2', (w) => (w.presence = { ratio: 2, transitions: 0, last: true }), 'presence.ratio'],
    ["presence.last 'yes'", (w) => (w.presence = { ratio: 1, transitions: 0, last: 'yes' }), 'presence.last'],
    ['weather a string', (w) => (w.weather = 'sunny'), 'weather'],
  ];
  for (const [name, mutate, field] of bad) {
    it(`rejects ${name} with an error naming ${field}`, () => {
      const w = { ...win(600) } as unknown as Record<string, unknown>;
      mutate(w);
      assert.throws(
        () => validateFeatureWindow(w),
        (e: unknown) => e instanceof ControlInputError && e.field === field && e.message.startsWith(field),
      );
    });
  }

  it('rejects non-objects', () => {
    for (const v of [null, undefined, 5, 'w', [win(1)]]) assert.throws(() => validateFeatureWindow(v), ControlInputError);
  });

  it('validates setpoints strictly and drops unknown keys', () => {
    const sp = validateSetpoint({ zone: 'a', intensity: 40, cct: 3000, source: 'manual', overrideMinutes: 10, x: 1 });
    assert.deepEqual(sp, { zone: 'a', intensity: 40, cct: 3000, reason: '', source: 'manual', overrideMinutes: 10 });
    assert.throws(() => validateSetpoint({ zone: 'a', intensity: 101, cct: 3000, source: 'ai' }), /intensity/);
    assert.throws(() => validateSetpoint({ zone: 'a', intensity: 1, cct: 300, source: 'ai' }), /cct/);
    assert.throws(() => validateSetpoint({ zone: 'a', intensity: 1, cct: 3000, source: 'robot' }), /source/);
    assert.throws(() => validateSetpoint({ zone: 'a', intensity: 1, cct: 3000, source: 'ai', confidence: 2 }), /confidence/);
  });
});
