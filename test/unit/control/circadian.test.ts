import { strict as assert } from 'node:assert';
import {
  circadianAt,
  clockCircadian,
  defaultKeyframes,
  resolveCircadianConfig,
  solarElevationDeg,
  sunCircadian,
  sunPosition,
  sunTimes,
  validateKeyframes,
} from '../../../lib/control/circadian';
import { ControlInputError } from '../../../lib/control/types';

const at = (h: number, m = 0): number => h * 60 + m;
const utc = (s: string): number => Date.parse(s);
const hhmm = (ms: number | null): string => (ms === null ? 'null' : new Date(ms).toISOString().slice(11, 16));
const minutesBetween = (a: number, b: number): number => Math.abs(a - b) / 60_000;

describe('control/circadian: clock schedule', () => {
  const kf = defaultKeyframes();

  it("follows the reference's common schedule at its plateaus", () => {
    const night = clockCircadian(at(2), kf);
    assert.equal(Math.round(night.kelvin), 2700);
    assert.ok(night.maxIntensityPct <= 20, 'night cap <= 20 %');
    assert.equal(night.phase, 'night');
    const day = clockCircadian(at(12), kf);
    assert.equal(Math.round(day.kelvin), 5000);
    assert.equal(day.maxIntensityPct, 100);
    assert.equal(day.phase, 'day');
    assert.equal(Math.round(clockCircadian(at(6, 30), kf).kelvin), 3000, 'morning ramp starts at 3000 K');
    assert.equal(Math.round(clockCircadian(at(19), kf).kelvin), 3500, '16-19 h ramp ends at 3500 K');
    assert.equal(Math.round(clockCircadian(at(21), kf).kelvin), 2700, 'evening 2700 K');
  });

  it('ramps monotonically 3000 -> 5000 K in the morning and down to 3500 K 16-19 h', () => {
    let prev = 0;
    for (let m = at(6, 30); m <= at(9); m++) {
      const k = clockCircadian(m, kf).kelvin;
      assert.ok(k >= prev - 1e-9, `morning ramp not monotonic at minute ${m}`);
      prev = k;
    }
    prev = Infinity;
    for (let m = at(16); m <= at(19); m++) {
      const k = clockCircadian(m, kf).kelvin;
      assert.ok(k <= prev + 1e-9, `afternoon ramp not monotonic at minute ${m}`);
      prev = k;
    }
  });

  it('never jumps: over a whole day at 1 s resolution, including the midnight wrap', () => {
    let prev = clockCircadian(1440 - 1 / 60, kf); // 23:59:59, the second before midnight
    let maxDk = 0;
    let maxDcap = 0;
    for (let s = 0; s < 86_400; s++) {
      const p = clockCircadian(s / 60, kf);
      maxDk = Math.max(maxDk, Math.abs(p.kelvin - prev.kelvin));
      maxDcap = Math.max(maxDcap, Math.abs(p.maxIntensityPct - prev.maxIntensityPct));
      prev = p;
    }
    // The steepest default ramp (3000 -> 5000 K in 150 min) moves < 1 K/s; a jump would be hundreds.
    assert.ok(maxDk < 2, `largest colour change per second ${maxDk.toFixed(3)} K`);
    assert.ok(maxDcap < 0.1, `largest cap change per second ${maxDcap.toFixed(4)} %`);
  });

  it('wraps a schedule whose last keyframe differs from the first through midnight smoothly', () => {
    const custom = [
      { minute: at(8), kelvin: 5000, maxIntensityPct: 100 },
      { minute: at(20), kelvin: 2200, maxIntensityPct: 10 },
    ];
    const before = clockCircadian(1440 - 1 / 60, custom);
    const after = clockCircadian(0, custom);
    assert.ok(Math.abs(before.kelvin - after.kelvin) < 1);
    // midway through the night segment (20:00 -> 08:00) lies between the two
    const mid = clockCircadian(at(2), custom);
    assert.ok(mid.kelvin > 2200 && mid.kelvin < 5000);
    assert.equal(Math.round(clockCircadian(at(8), custom).kelvin), 5000);
    assert.equal(Math.round(clockCircadian(at(20), custom).kelvin), 2200);
  });

  it('holds a single keyframe all day and sorts unsorted keyframes', () => {
    const one = [{ minute: 300, kelvin: 4000, maxIntensityPct: 80 }];
    for (const m of [0, 300, 1000, 1439.9]) assert.equal(Math.round(clockCircadian(m, one).kelvin), 4000);
    const sorted = validateKeyframes([...defaultKeyframes()].reverse());
    assert.deepEqual(
      sorted.map((k) => k.minute),
      defaultKeyframes().map((k) => k.minute),
    );
  });

  it("derives the default schedule from the node's night (warmest) and day (coolest) colours", () => {
    const kf2 = defaultKeyframes(2200, 6000);
    assert.equal(Math.round(clockCircadian(at(3), kf2).kelvin), 2200);
    assert.equal(Math.round(clockCircadian(at(12), kf2).kelvin), 6000);
  });

  it('rejects bad keyframes with a named field', () => {
    const cases: [unknown, string][] = [
      [[], 'keyframes'],
      [[{ minute: 1440, kelvin: 3000, maxIntensityPct: 1 }], 'keyframes[0].minute'],
      [[{ minute: 0, kelvin: 500, maxIntensityPct: 1 }], 'keyframes[0].kelvin'],
      [[{ minute: 0, kelvin: 3000, maxIntensityPct: 101 }], 'keyframes[0].maxIntensityPct'],
      [
        [
          { minute: 5, kelvin: 3000, maxIntensityPct: 1 },
          { minute: 5, kelvin: 4000, maxIntensityPct: 1 },
        ],
        'keyframes',
      ],
    ];
    for (const [input, field] of cases) {
      assert.throws(
        () => validateKeyframes(input),
        (e: unknown) => e instanceof ControlInputError && e.field === field,
        field,
      );
    }
    assert.throws(() => clockCircadian(NaN, defaultKeyframes()), ControlInputError);
  });
});

describe('control/circadian: sun position (Adaptive Lighting)', () => {
  const london = { lat: 51.5074, lon: -0.1278 };

  it('computes sunrise, solar noon and sunset within 2 minutes of published times', () => {
    // Published (timeanddate / NOAA): London 2024-06-21 rise 04:43 BST, set 21:21 BST;
    // 2024-12-21 rise 08:04, set 15:53 GMT; New York 2024-06-21 rise 05:25, set 20:31 EDT.
    const cases: [string, number, number, string, string][] = [
      ['2024-06-21T12:00Z', london.lat, london.lon, '03:43', '20:21'],
      ['2024-12-21T12:00Z', london.lat, london.lon, '08:04', '15:53'],
      ['2024-06-21T16:00Z', 40.7128, -74.006, '09:25', '00:31'],
    ];
    for (const [day, lat, lon, rise, set] of cases) {
      const s = sunTimes(utc(day), lat, lon);
      assert.equal(s.polar, null);
      const d = day.slice(0, 10);
      const riseMs = utc(`${d}T${rise}:00Z`);
      let setMs = utc(`${d}T${set}:00Z`);
      if (setMs < riseMs) setMs += 86_400_000;
      assert.ok(minutesBetween(s.sunrise as number, riseMs) <= 2, `${day} sunrise ${hhmm(s.sunrise)} vs ${rise}`);
      assert.ok(minutesBetween(s.sunset as number, setMs) <= 2, `${day} sunset ${hhmm(s.sunset)} vs ${set}`);
    }
  });

  it('gets the equation of time right (solar noon at 0 deg: ~11:44 UTC on 3 Nov, ~12:14 on 11 Feb)', () => {
    assert.ok(minutesBetween(sunTimes(utc('2024-11-03T12:00Z'), 0, 0).solarNoon, utc('2024-11-03T11:43:30Z')) < 1.5);
    assert.ok(minutesBetween(sunTimes(utc('2024-02-11T12:00Z'), 0, 0).solarNoon, utc('2024-02-11T12:14:10Z')) < 1.5);
  });

  it("puts the sun's centre 0.833 deg below the horizon at sunrise and highest at noon", () => {
    const s = sunTimes(utc('2024-03-20T12:00Z'), london.lat, london.lon);
    assert.ok(Math.abs(solarElevationDeg(s.sunrise as number, london.lat, london.lon) + 0.833) < 0.05);
    const noonEl = solarElevationDeg(s.solarNoon, london.lat, london.lon);
    // equinox: elevation at noon ~ 90 - latitude
    assert.ok(Math.abs(noonEl - (90 - london.lat)) < 0.7, `noon elevation ${noonEl}`);
    assert.ok(solarElevationDeg(s.solarNoon - 3_600_000, london.lat, london.lon) < noonEl);
  });

  it('reports polar day and polar night', () => {
    assert.equal(sunTimes(utc('2024-06-21T12:00Z'), 69.65, 18.96).polar, 'day');
    assert.equal(sunTimes(utc('2024-12-21T12:00Z'), 69.65, 18.96).polar, 'night');
    const pDay = sunPosition(utc('2024-06-21T10:46Z'), 69.65, 18.96);
    const pNight = sunPosition(utc('2024-12-21T22:40Z'), 69.65, 18.96);
    assert.ok(pDay > 0.99 && pNight < -0.99);
  });

  it('p is 0 at sunrise and sunset, 1 at noon, -1 at solar midnight, within [-1, 1]', () => {
    const s = sunTimes(utc('2024-06-21T12:00Z'), london.lat, london.lon);
    assert.ok(Math.abs(sunPosition(s.sunrise as number, london.lat, london.lon)) < 1e-6);
    assert.ok(Math.abs(sunPosition(s.sunset as number, london.lat, london.lon)) < 1e-6);
    assert.ok(Math.abs(sunPosition(s.solarNoon, london.lat, london.lon) - 1) < 1e-6);
    const next = sunTimes(s.solarNoon + 86_400_000, london.lat, london.lon);
    const midnight = (s.solarNoon + next.solarNoon) / 2;
    assert.ok(Math.abs(sunPosition(midnight, london.lat, london.lon) + 1) < 1e-6);
  });

  it('sun-mode CT never jumps over a whole day at 1 s resolution (London)', () => {
    const cfg = resolveCircadianConfig({
      mode: 'sun',
      latitude: london.lat,
      longitude: london.lon,
      warmestKelvin: 2000,
      coolestKelvin: 5500,
    });
    const start = utc('2024-09-10T00:00Z');
    let prev = circadianAt(0, start, cfg);
    let maxDk = 0;
    for (let s = 1; s <= 86_400; s++) {
      const p = circadianAt(0, start + s * 1000, cfg);
      maxDk = Math.max(maxDk, Math.abs(p.kelvin - prev.kelvin));
      prev = p;
    }
    assert.ok(maxDk < 1, `largest CT change per second ${maxDk.toFixed(3)} K`);
  });

  it('sun-mode CT and cap never jump over a day at 10 s resolution, at several latitudes', () => {
    for (const [lat, lon] of [
      [51.5, -0.13],
      [-33.9, 151.2],
      [64.1, -21.9],
      [1.3, 103.8],
    ] as const) {
      const cfg = {
        mode: 'sun' as const,
        latitude: lat,
        longitude: lon,
        warmestKelvin: 2000,
        coolestKelvin: 5500,
        nightMaxIntensityPct: 1,
        dayMaxIntensityPct: 100,
      };
      const start = utc('2024-09-10T00:00Z');
      let prev = sunCircadian(start, cfg);
      let maxDk = 0;
      let maxDcap = 0;
      for (let t = start + 10_000; t <= start + 86_400_000; t += 10_000) {
        const p = sunCircadian(t, cfg);
        assert.ok(p.sunPosition !== undefined && p.sunPosition >= -1 && p.sunPosition <= 1);
        maxDk = Math.max(maxDk, Math.abs(p.kelvin - prev.kelvin));
        maxDcap = Math.max(maxDcap, Math.abs(p.maxIntensityPct - prev.maxIntensityPct));
        prev = p;
      }
      assert.ok(maxDk < 10, `lat ${lat}: largest CT change per 10 s ${maxDk.toFixed(2)} K`);
      assert.ok(maxDcap < 0.5, `lat ${lat}: largest cap change per 10 s ${maxDcap.toFixed(3)} %`);
    }
  });

  it('follows CT = min + (max - min) * p by day and min at night', () => {
    const cfg = resolveCircadianConfig({
      mode: 'sun',
      latitude: london.lat,
      longitude: london.lon,
      warmestKelvin: 2000,
      coolestKelvin: 5500,
    });
    const s = sunTimes(utc('2024-06-21T12:00Z'), london.lat, london.lon);
    const t = s.solarNoon - 3 * 3_600_000;
    const p = sunPosition(t, london.lat, london.lon);
    assert.ok(p > 0 && p < 1);
    assert.ok(Math.abs(circadianAt(0, t, cfg).kelvin - (2000 + 3500 * p)) < 1e-6);
    assert.equal(circadianAt(0, (s.sunset as number) + 3_600_000, cfg).kelvin, 2000);
    assert.equal(circadianAt(0, s.solarNoon, cfg).maxIntensityPct, 100);
    assert.ok(circadianAt(0, (s.sunset as number) + 4 * 3_600_000, cfg).maxIntensityPct < 100);
  });

  it('validates sun configuration', () => {
    assert.throws(
      () => resolveCircadianConfig({ mode: 'sun' }),
      (e: unknown) => e instanceof ControlInputError && e.field === 'latitude',
    );
    assert.throws(() => resolveCircadianConfig({ mode: 'sun', latitude: 10, longitude: 200 }), /longitude/);
    assert.throws(() => resolveCircadianConfig({ mode: 'moon' }), /mode/);
    assert.throws(() => resolveCircadianConfig({ warmestKelvin: 5000, coolestKelvin: 3000 }), /coolestKelvin/);
    assert.throws(() => sunPosition(NaN, 0, 0), ControlInputError);
  });
});
