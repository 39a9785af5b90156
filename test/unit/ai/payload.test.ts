import assert from 'node:assert/strict';
import {
  buildPayload,
  type BuiltPayload,
  MIN_SAFE_CAP_BYTES,
  PayloadCapError,
  sanitizeHints,
  STANDARD_WEATHER_FIELDS,
  TRIM_STEPS,
  ZONE_MAX_CHARS,
} from '../../../lib/ai/payload';
import { mulberry32, pick, randInt, type Rng } from '../../helpers/prng';

const PERSONAL = ['Alice Example', 'p-secret-42', 'alice@example.org', '1957-03-14'];

/** Every key path allowed in the content. */
const ALLOWED: Record<string, readonly string[]> = {
  '': ['zone', 'hints', 'windows'],
  hints: ['minIntensityPct', 'maxStepPct', 'cctBias', 'slowerDimDown'],
  window: ['windowStart', 'windowEnd', 'count', 'minuteOfDay', 'weekday', 'lux', 'presence', 'weather'],
  lux: ['mean', 'min', 'max', 'std', 'last'],
  presence: ['ratio', 'transitions', 'last'],
};

function checkShape(content: string, seed: number): void {
  const v = JSON.parse(content) as Record<string, unknown>;
  const keys = (o: unknown): string[] => Object.keys(o as object);
  for (const k of keys(v)) assert.ok(ALLOWED['']?.includes(k), `seed ${seed}: top-level key ${k}`);
  if (v.hints !== undefined) for (const k of keys(v.hints)) assert.ok(ALLOWED.hints?.includes(k), `seed ${seed}: hint ${k}`);
  if (v.zone !== undefined) {
    assert.equal(typeof v.zone, 'string');
    const zone = v.zone as string;
    assert.ok(Array.from(zone).length <= ZONE_MAX_CHARS, `seed ${seed}: zone too long`);
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f]/.test(zone), `seed ${seed}: control character in zone`);
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(zone), `seed ${seed}: lone surrogate`);
  }
  assert.ok(Array.isArray(v.windows));
  for (const w of v.windows as unknown[]) {
    for (const k of keys(w)) assert.ok(ALLOWED.window?.includes(k), `seed ${seed}: window key ${k}`);
    const rec = w as Record<string, unknown>;
    if (rec.lux !== undefined) for (const k of keys(rec.lux)) assert.ok(ALLOWED.lux?.includes(k), `seed ${seed}: lux.${k}`);
    if (rec.presence !== undefined)
      for (const k of keys(rec.presence)) assert.ok(ALLOWED.presence?.includes(k), `seed ${seed}: presence.${k}`);
    if (rec.weather !== undefined) {
      for (const [k, x] of Object.entries(rec.weather as object)) {
        assert.ok(/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(k), `seed ${seed}: weather key ${JSON.stringify(k)}`);
        assert.ok(typeof x === 'number' && Number.isFinite(x), `seed ${seed}: weather.${k} not a finite number`);
      }
    }
  }
  // Numbers: JSON.parse of what we sent never yields null except presence.last.
  const walk = (x: unknown, path: string): void => {
    if (x === null) assert.ok(path.endsWith('presence.last'), `seed ${seed}: null at ${path}`);
    else if (typeof x === 'number') assert.ok(Number.isFinite(x), `seed ${seed}: ${path}`);
    else if (typeof x === 'object') for (const [k, c] of Object.entries(x as object)) walk(c, `${path}.${k}`);
  };
  walk(v, '');
}

const NUMBERS: readonly unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  5e-324,
  -0,
  0,
  1,
  123.456789,
  -42.4242,
  1e15 + 0.5,
  '12',
  null,
  undefined,
  true,
  {},
];

function randNumber(rng: Rng): unknown {
  return rng() < 0.5 ? pick(rng, NUMBERS) : (rng() - 0.3) * 10 ** randInt(rng, 0, 7);
}

function randString(rng: Rng, max: number): string {
  const pool = ['a', 'Z', 'é', '€', '😀', '\u0000', '\n', '"', '\\', '\uD800', '\uDC00', ' ', '中', '\u007f', '\u2028'];
  const n = randInt(rng, 0, max);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(rng, pool);
  return s;
}

function randWindow(rng: Rng, zone: string): unknown {
  if (rng() < 0.05) return pick(rng, [null, 5, 'window', [1, 2], undefined, true]);
  const w: Record<string, unknown> = {
    zone: rng() < 0.9 ? zone : randString(rng, 5),
    windowStart: randNumber(rng),
    windowEnd: rng() < 0.8 ? 1_700_000_000_000 + randInt(rng, 0, 1e6) : randNumber(rng),
    count: randNumber(rng),
    minuteOfDay: randNumber(rng),
    weekday: randNumber(rng),
    // personal fields that must never travel
    occupantName: PERSONAL[0],
    profileId: PERSONAL[1],
  };
  if (rng() < 0.85) {
    w.lux =
      rng() < 0.1
        ? null
        : {
            mean: randNumber(rng),
            min: randNumber(rng),
            max: randNumber(rng),
            std: randNumber(rng),
            last: randNumber(rng),
            owner: PERSONAL[2],
          };
  }
  if (rng() < 0.85) {
    w.presence =
      rng() < 0.1
        ? null
        : { ratio: randNumber(rng), transitions: randNumber(rng), last: pick(rng, [true, false, null, 1, 'yes']), who: PERSONAL[0] };
  }
  if (rng() < 0.7) {
    const weather: Record<string, unknown> = {};
    const n = randInt(rng, 0, rng() < 0.2 ? 300 : 10);
    for (let i = 0; i < n; i++) {
      const key = rng() < 0.7 ? `field_${i}` : randString(rng, 40) || `k${i}`;
      weather[key] = rng() < 0.6 ? randNumber(rng) : randString(rng, 2000);
    }
    for (const k of STANDARD_WEATHER_FIELDS) if (rng() < 0.6) weather[k] = randNumber(rng);
    weather.ts = 1_700_000_000_000;
    weather.source = 'open-meteo';
    weather.birthday = PERSONAL[3];
    w.weather = weather;
  }
  return w;
}

function randHints(rng: Rng): unknown {
  if (rng() < 0.2) return pick(rng, [undefined, null, 7, 'warm', []]);
  return {
    minIntensityPct: randNumber(rng),
    maxStepPct: randNumber(rng),
    cctBias: pick(rng, ['warm', 'neutral', 'cool', 'hot', 3]),
    slowerDimDown: pick(rng, [true, false, 'yes']),
    profileId: PERSONAL[1],
    name: PERSONAL[0],
    age: 67,
    email: PERSONAL[2],
  };
}

function typicalWindow(i: number, zone = 'office-1'): Record<string, unknown> {
  const start = 1_700_000_000_000 + i * 300_000;
  return {
    zone,
    windowStart: start,
    windowEnd: start + 300_000,
    count: 60,
    lux: { mean: 412.345, min: 380.01, max: 450.99, std: 12.3456, last: 420.12 },
    presence: { ratio: 0.66666, transitions: 2, last: true, lastTs: start + 299_000 },
    weather: { ts: start, temperatureC: 21.456, cloudCoverPct: 75, solarRadiationWm2: 310.2, outdoorLux: 25000, source: 'open-meteo' },
    minuteOfDay: 600 + i * 5,
    weekday: 2,
  };
}

describe('ai/payload: buildPayload', () => {
  it('sends three typical windows under the default 2048-byte cap, oldest first, only allow-listed fields', () => {
    const windows = [typicalWindow(2), typicalWindow(0), typicalWindow(1), typicalWindow(3)];
    const hints = { minIntensityPct: 20, maxStepPct: 10, cctBias: 'warm', slowerDimDown: true, profileId: 'p-secret-42' };
    const built = buildPayload(windows, hints);
    assert.ok(built.bytes <= 2048);
    assert.equal(built.bytes, Buffer.byteLength(built.content, 'utf8'));
    assert.equal(built.windowsSent, 3);
    assert.deepEqual(built.trimmed, []);
    const sent = JSON.parse(built.content) as { zone: string; hints: unknown; windows: { windowEnd: number; lux: { mean: number } }[] };
    assert.deepEqual(sent, built.payload);
    assert.equal(sent.zone, 'office-1');
    assert.deepEqual(sent.hints, { minIntensityPct: 20, maxStepPct: 10, cctBias: 'warm', slowerDimDown: true });
    // the newest three (1, 2, 3), oldest first
    assert.deepEqual(
      sent.windows.map((w) => w.windowEnd),
      [1, 2, 3].map((i) => 1_700_000_000_000 + i * 300_000 + 300_000),
    );
    assert.equal(sent.windows[0]?.lux.mean, 412.3);
    checkShape(built.content, 0);
    assert.ok(!built.content.includes('lastTs') && !built.content.includes('open-meteo') && !built.content.includes('p-secret'));
  });

  it('honours payloadBatchLimit (1-3) and ignores windows of other zones', () => {
    const windows = [typicalWindow(0), typicalWindow(1, 'hall'), typicalWindow(2), typicalWindow(3)];
    assert.equal(buildPayload(windows, undefined, { payloadBatchLimit: 1 }).windowsSent, 1);
    const two = buildPayload(windows, undefined, { payloadBatchLimit: 2 });
    assert.equal(two.windowsSent, 2);
    const all = buildPayload(windows, undefined, { payloadBatchLimit: 3 });
    assert.equal(all.windowsSent, 3);
    const ends = (all.payload.windows as { windowEnd?: number }[]).map((w) => w.windowEnd);
    assert.ok(!ends.includes(1_700_000_000_000 + 600_000), 'window of zone hall must not be sent');
    // a window of another zone that is newest decides the zone
    const hallNewest = buildPayload([...windows, typicalWindow(9, 'hall')], undefined);
    assert.equal(hallNewest.zone, 'hall');
    assert.equal(hallNewest.windowsSent, 2);
  });

  it('trims by the documented priority: oldest windows first, then fields in TRIM_STEPS order', () => {
    const windows = [0, 1, 2].map((i) => {
      const w = typicalWindow(i);
      w.weather = { ...(w.weather as object), humidityPct: 40.5, windKmh: 12.25, pressureHpa: 1013.2 };
      return w;
    });
    const hints = { minIntensityPct: 20, maxStepPct: 10, cctBias: 'warm', slowerDimDown: true };
    const full = buildPayload(windows, hints, { payloadCapBytes: 1e6 });
    let previous: BuiltPayload = full;
    let sawError = false;
    for (let cap = full.bytes; cap >= 1; cap--) {
      let built: BuiltPayload;
      try {
        built = buildPayload(windows, hints, { payloadCapBytes: cap });
      } catch (err) {
        assert.ok(err instanceof PayloadCapError && err.code === 'payload-cap', String(err));
        assert.ok(cap < MIN_SAFE_CAP_BYTES);
        assert.ok((err.minimumBytes ?? 0) > cap);
        sawError = true;
        continue;
      }
      assert.ok(!sawError, `cap ${cap} fits although a larger cap did not`);
      assert.ok(built.bytes <= cap, `cap ${cap}: ${built.bytes} bytes`);
      // each smaller cap only adds steps
      assert.deepEqual(built.trimmed.slice(0, previous.trimmed.length), previous.trimmed, `cap ${cap}`);
      previous = built;
    }
    assert.ok(sawError, 'a tiny cap must be refused');
    assert.deepEqual(previous.trimmed, ['oldest-window', 'oldest-window', ...TRIM_STEPS]);
    const minimum = previous.payload;
    assert.deepEqual(Object.keys(minimum), ['windows']);
    assert.deepEqual(Object.keys(minimum.windows[0] ?? {}).sort(), ['lux', 'minuteOfDay', 'presence', 'weekday']);
    assert.deepEqual(Object.keys(minimum.windows[0]?.lux ?? {}).sort(), ['last', 'mean']);
    assert.deepEqual(Object.keys(minimum.windows[0]?.presence ?? {}).sort(), ['last', 'ratio']);
    // the window kept is the newest
    const oneWindow = buildPayload(windows, hints, { payloadCapBytes: buildPayload([windows[2]], hints).bytes });
    assert.deepEqual(oneWindow.trimmed, ['oldest-window', 'oldest-window']);
    assert.equal(oneWindow.payload.windows[0]?.windowEnd, (windows[2] as { windowEnd: number }).windowEnd);
    // the next step drops the weather extras but keeps the standard weather fields
    const extrasGone = buildPayload(windows, hints, { payloadCapBytes: oneWindow.bytes - 1 });
    assert.deepEqual(extrasGone.trimmed, ['oldest-window', 'oldest-window', 'weather-extras']);
    assert.deepEqual(Object.keys(extrasGone.payload.windows[0]?.weather ?? {}).sort(), [...STANDARD_WEATHER_FIELDS].sort());
  });

  it('refuses with a clear error when even the minimum does not fit, or when there is no window', () => {
    assert.throws(
      () => buildPayload([typicalWindow(0)], undefined, { payloadCapBytes: 60 }),
      (err: unknown) => err instanceof PayloadCapError && err.code === 'payload-cap' && /payloadCapBytes 60/.test(err.message),
    );
    for (const input of [[], [null, 3, 'x'], 'not an array', undefined]) {
      assert.throws(
        () => buildPayload(input, undefined),
        (err: unknown) => err instanceof PayloadCapError && err.code === 'no-windows',
      );
    }
  });

  it(`always fits a cap of ${MIN_SAFE_CAP_BYTES} bytes, even with the longest numbers JSON can hold`, () => {
    const big = -1.7976931348623157e308;
    const w = {
      zone: 'z'.repeat(10_000),
      windowStart: big,
      windowEnd: big,
      count: big,
      minuteOfDay: big,
      weekday: big,
      lux: { mean: big, min: big, max: big, std: big, last: big },
      presence: { ratio: big, transitions: big, last: false },
      weather: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, big])),
    };
    const built = buildPayload(
      [w, w, w],
      { minIntensityPct: 12.345, maxStepPct: 99.99, cctBias: 'neutral', slowerDimDown: false },
      {
        payloadCapBytes: MIN_SAFE_CAP_BYTES,
      },
    );
    assert.ok(built.bytes <= MIN_SAFE_CAP_BYTES);
    assert.equal(built.windowsSent, 1);
    checkShape(built.content, -1);
  });

  it('property: random windows (huge zones, many weather fields, NaN/Infinity, personal fields) always give valid capped JSON', () => {
    const base = 0x5eed_a1;
    for (let i = 0; i < 300; i++) {
      const seed = base + i;
      const rng = mulberry32(seed);
      const zone = rng() < 0.3 ? randString(rng, 20_000) : `zone-${randInt(rng, 0, 3)}`;
      const windows = Array.from({ length: randInt(rng, 0, 6) }, () => randWindow(rng, zone));
      const hints = randHints(rng);
      const cap = rng() < 0.3 ? 2048 : randInt(rng, 1, 4096);
      const limit = pick(rng, [1, 2, 3, 3, 0, 7, NaN, undefined]);
      let built: BuiltPayload;
      try {
        built = buildPayload(windows, hints, { payloadCapBytes: cap, payloadBatchLimit: limit as number });
      } catch (err) {
        assert.ok(err instanceof PayloadCapError, `seed ${seed}: ${String(err)}`);
        if (err.code === 'no-windows') {
          assert.ok(!windows.some((w) => typeof w === 'object' && w !== null && !Array.isArray(w)), `seed ${seed}`);
        } else {
          assert.ok(cap < MIN_SAFE_CAP_BYTES, `seed ${seed}: cap ${cap} refused`);
        }
        continue;
      }
      const effectiveLimit = typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= 3 ? limit : 3;
      assert.ok(built.bytes <= cap, `seed ${seed}: ${built.bytes} > ${cap}`);
      assert.equal(built.bytes, Buffer.byteLength(built.content, 'utf8'), `seed ${seed}`);
      assert.ok(built.windowsSent >= 1 && built.windowsSent <= effectiveLimit, `seed ${seed}: ${built.windowsSent} windows`);
      assert.equal(built.payload.windows.length, built.windowsSent);
      assert.deepEqual(JSON.parse(built.content), built.payload, `seed ${seed}`);
      checkShape(built.content, seed);
      for (const p of PERSONAL) assert.ok(!built.content.includes(p), `seed ${seed}: personal value ${p} sent`);
    }
  });
});

describe('ai/payload: sanitizeHints (allow-list)', () => {
  it('keeps only the four non-personal hint fields, and only valid values', () => {
    const profileLike = {
      profileId: 'p-secret-42',
      name: 'Alice Example',
      age: 67,
      ageGroup: '65+',
      sex: 'f',
      schedules: { mon: 'office' },
      minIntensityPct: 20,
      maxStepPct: 5,
      cctBias: 'warm',
      slowerDimDown: true,
      minLux: 500,
    };
    assert.deepEqual(sanitizeHints(profileLike), { minIntensityPct: 20, maxStepPct: 5, cctBias: 'warm', slowerDimDown: true });
    assert.deepEqual(sanitizeHints({ minIntensityPct: NaN, maxStepPct: 0, cctBias: 'hot', slowerDimDown: 'yes' }), undefined);
    assert.deepEqual(sanitizeHints({ minIntensityPct: 101, maxStepPct: 100 }), { maxStepPct: 100 });
    assert.equal(sanitizeHints(null), undefined);
    assert.equal(sanitizeHints([20]), undefined);
    const hostile = Object.defineProperty({}, 'minIntensityPct', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    assert.equal(sanitizeHints(hostile), undefined);
  });
});
