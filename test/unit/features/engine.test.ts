import assert from 'node:assert/strict';
import { mulberry32, randInt, type Rng } from '../../helpers/prng';
import { ReadingValidationError, type FeatureWindow, type SensorReading } from '../../../lib/contracts';
import { FeatureWindowEngine, LocalClock } from '../../../lib/features';
import { featureTranscript, transcriptHash } from '../../helpers/feature-transcript';

const T0 = 1_760_000_000_000 - (1_760_000_000_000 % 60_000); // a window boundary
const W = 60_000;
const GRACE = 10_000;
const HOLD = 30_000;

interface Arrival {
  reading: SensorReading;
  arrival: number;
  seq: number;
  /** Position in delivery order. */
  arrivalOrder: number;
}

/** Readings on whole seconds, some missing lux or presence, delivered with jitter (some beyond the grace). */
function randomStream(rng: Rng, zones: string[], count: number): Arrival[] {
  const out: Arrival[] = [];
  const clock = new Map(zones.map((z) => [z, T0]));
  for (let seq = 0; seq < count; seq++) {
    const zone = zones[randInt(rng, 0, zones.length - 1)] as string;
    const ts = (clock.get(zone) as number) + randInt(rng, 0, 25) * 1000;
    clock.set(zone, ts);
    const reading: SensorReading = { sensorId: `s-${zone}`, zone, ts, source: 'test' };
    const kind = rng();
    if (kind < 0.75) reading.lux = Math.round(rng() * 100000) / 100;
    if (kind > 0.45) reading.presence = rng() < 0.5;
    const r = rng();
    const delay = r < 0.8 ? randInt(rng, 0, 2000) : r < 0.95 ? randInt(rng, 0, 40_000) : randInt(rng, 40_000, 200_000);
    out.push({ reading, arrival: ts + delay, seq, arrivalOrder: 0 });
  }
  out.sort((a, b) => a.arrival - b.arrival || a.seq - b.seq);
  out.forEach((a, i) => (a.arrivalOrder = i));
  return out;
}

/** The windows recomputed naively from the full list of counted readings: no streaming, per-second presence. */
function naiveWindows(counted: Arrival[]): FeatureWindow[] {
  const out: FeatureWindow[] = [];
  const byZone = new Map<string, Arrival[]>();
  for (const a of counted) {
    const list = byZone.get(a.reading.zone) ?? [];
    list.push(a);
    byZone.set(a.reading.zone, list);
  }
  for (const [zone, list] of byZone) {
    // Time order; equal ts: the later arrival is the newer state.
    const ordered = [...list].sort((a, b) => a.reading.ts - b.reading.ts || a.arrivalOrder - b.arrivalOrder);
    const presence = ordered.filter((a) => a.reading.presence !== undefined);
    const starts = [...new Set(ordered.map((a) => Math.floor(a.reading.ts / W) * W))].sort((a, b) => a - b);
    for (const start of starts) {
      const end = start + W;
      const inWin = ordered.filter((a) => a.reading.ts >= start && a.reading.ts < end);
      const lux = inWin.filter((a) => a.reading.lux !== undefined).map((a) => a.reading.lux as number);
      const mean = lux.length ? lux.reduce((s, x) => s + x, 0) / lux.length : null;
      const std = mean === null ? null : Math.sqrt(lux.reduce((s, x) => s + (x - mean) ** 2, 0) / lux.length);
      const luxReadings = inWin.filter((a) => a.reading.lux !== undefined);
      // Presence: sample each second; state = latest presence reading at or before it, if younger than HOLD.
      let covered = 0;
      let occupied = 0;
      for (let t = start; t < end; t += 1000) {
        let state: Arrival | undefined;
        for (const p of presence) {
          if (p.reading.ts > t) break;
          state = p;
        }
        if (state && t - state.reading.ts < HOLD) {
          covered += 1;
          if (state.reading.presence) occupied += 1;
        }
      }
      let transitions = 0;
      presence.forEach((p, i) => {
        const prev = presence[i - 1];
        if (
          p.reading.ts >= start &&
          p.reading.ts < end &&
          prev &&
          prev.reading.presence !== p.reading.presence &&
          p.reading.ts - prev.reading.ts <= HOLD
        ) {
          transitions += 1;
        }
      });
      const inWinPresence = presence.filter((p) => p.reading.ts >= start && p.reading.ts < end);
      const before = presence.filter((p) => p.reading.ts < start).pop();
      const lastP = inWinPresence.length
        ? inWinPresence[inWinPresence.length - 1]
        : before && before.reading.ts + HOLD > start
          ? before
          : undefined;
      const d = new Date(start);
      out.push({
        zone,
        windowStart: start,
        windowEnd: end,
        count: inWin.length,
        lux: {
          mean,
          min: lux.length ? Math.min(...lux) : null,
          max: lux.length ? Math.max(...lux) : null,
          std,
          last: luxReadings.length ? (luxReadings[luxReadings.length - 1]?.reading.lux as number) : null,
        },
        presence: {
          ratio: covered > 0 ? occupied / covered : inWinPresence.length ? (lastP?.reading.presence ? 1 : 0) : null,
          transitions,
          last: lastP ? (lastP.reading.presence as boolean) : null,
          lastTs: lastP ? lastP.reading.ts : null,
        },
        minuteOfDay: d.getUTCHours() * 60 + d.getUTCMinutes(),
        weekday: d.getUTCDay(),
      });
    }
  }
  return out.sort((a, b) => a.windowStart - b.windowStart || a.zone.localeCompare(b.zone));
}

function close(actual: number | null, expected: number | null, what: string): void {
  if (actual === null || expected === null) {
    assert.equal(actual, expected, what);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function assertSameWindows(actual: FeatureWindow[], expected: FeatureWindow[], seed: number): void {
  assert.deepEqual(
    actual.map((w) => `${w.zone}@${w.windowStart}`),
    expected.map((w) => `${w.zone}@${w.windowStart}`),
    `seed ${seed}: same windows`,
  );
  actual.forEach((a, i) => {
    const e = expected[i] as FeatureWindow;
    const what = `seed ${seed} ${a.zone}@${a.windowStart}`;
    assert.equal(a.count, e.count, `${what} count`);
    close(a.lux.mean, e.lux.mean, `${what} lux.mean`);
    close(a.lux.std, e.lux.std, `${what} lux.std`);
    assert.equal(a.lux.min, e.lux.min, `${what} lux.min`);
    assert.equal(a.lux.max, e.lux.max, `${what} lux.max`);
    assert.equal(a.lux.last, e.lux.last, `${what} lux.last`);
    close(a.presence.ratio, e.presence.ratio, `${what} presence.ratio`);
    assert.equal(a.presence.transitions, e.presence.transitions, `${what} presence.transitions`);
    assert.equal(a.presence.last, e.presence.last, `${what} presence.last`);
    assert.equal(a.presence.lastTs, e.presence.lastTs, `${what} presence.lastTs`);
    assert.equal(a.windowEnd, e.windowEnd, `${what} windowEnd`);
    assert.equal(a.minuteOfDay, e.minuteOfDay, `${what} minuteOfDay`);
    assert.equal(a.weekday, e.weekday, `${what} weekday`);
  });
}

describe('lib/features FeatureWindowEngine', function () {
  const engineOptions = { windowMs: W, graceMs: GRACE, presenceHoldMs: HOLD, timeZone: 'UTC', keepWindows: 1000 };

  describe('statistics against a naive recomputation (seeded random streams)', function () {
    for (const seed of [1, 2, 3, 0xbeef, 20240501]) {
      it(`seed ${seed}: every window matches; late readings are exactly those past end + grace`, () => {
        const rng = mulberry32(seed);
        const stream = randomStream(rng, ['a', 'b', 'c'], 3000);
        const engine = new FeatureWindowEngine(engineOptions);
        const emitted: FeatureWindow[] = [];
        const counted: Arrival[] = [];
        let late = 0;
        for (const a of stream) {
          emitted.push(...engine.advance(a.arrival));
          const r = engine.ingest(a.reading, a.arrival);
          const shouldBeLate = a.arrival >= Math.floor(a.reading.ts / W) * W + W + GRACE;
          assert.equal(r.late, shouldBeLate, `seed ${seed}: reading ${a.seq} late flag`);
          if (r.late) late += 1;
          else counted.push(a);
          emitted.push(...engine.advance(a.arrival));
        }
        emitted.push(...engine.advance(Number.MAX_SAFE_INTEGER));
        assert.ok(late > 0 && late < stream.length / 5, `seed ${seed}: some but not many late (${late})`);
        emitted.sort((x, y) => x.windowStart - y.windowStart || x.zone.localeCompare(y.zone));
        assertSameWindows(emitted, naiveWindows(counted), seed);
      });
    }

    // SHA-256 of each seed's transcript (every ingest result or error, closed windows, snapshots,
    // replays, weather, a restored engine; doubles written exactly) as the engine gave it before
    // its hot path was reworked for cold runs: the rework changed no answer, bit for bit.
    const pinned: Array<[number, string]> = [
      [1, 'a0c593654fe6d124a97f8f4db3e8f50074e12f3d27b01f63693194c926b0bef4'],
      [2, '41bb640fec6dab3b172373090454a979b3d2da739bdbe8519e688529eea0a143'],
      [3, 'b4a38b8dd35792939329eddd608b69f8b9da441a9458d1423e9a18af903692bc'],
    ];
    for (const [seed, hash] of pinned) {
      it(`seed ${seed}: the same answers, errors and windows, bit for bit, as before the hot path was reworked`, () => {
        const lines = featureTranscript((options) => new FeatureWindowEngine(options), seed);
        // The stream reaches every path: counted, late, refused, closed, snapshots, restore.
        for (const kind of ['ingest', 'error', 'advance', 'aggregateNow', 'replay', 'weather', 'restored']) {
          assert.ok(
            lines.some((l) => l.startsWith(`${kind} `)),
            `seed ${seed}: ${kind} in the transcript`,
          );
        }
        assert.ok(
          lines.some((l) => l.startsWith('ingest ') && l.includes('"late":true')),
          `seed ${seed}: late readings`,
        );
        assert.equal(transcriptHash(lines), hash);
      });
    }

    it('Welford stays accurate with a large offset (1e9 lux +- small noise)', () => {
      const rng = mulberry32(7);
      const engine = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC' });
      const values: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const lux = 1e9 + rng();
        values.push(lux);
        engine.ingest({ sensorId: 's', zone: 'z', ts: T0 + i, lux, source: 't' }, T0 + i);
      }
      const [w] = engine.advance(T0 + W);
      const mean = values.reduce((s, x) => s + x, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
      assert.ok(w && Math.abs((w.lux.std as number) - std) < 1e-6, `${w?.lux.std} vs ${std}`);
    });
  });

  describe('windows, grace and late readings', function () {
    const reading = (ts: number, over: Partial<SensorReading> = {}): SensorReading => ({
      sensorId: 's',
      zone: 'z',
      ts,
      lux: 100,
      source: 't',
      ...over,
    });

    it('a window closes at end + grace, not before; aligned to multiples of the window', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: GRACE, timeZone: 'UTC' });
      const r = e.ingest(reading(T0 + 5_000), T0 + 5_000);
      assert.deepEqual([r.windowStart, r.windowEnd, r.late], [T0, T0 + W, false]);
      assert.deepEqual(e.advance(T0 + W + GRACE - 1), []);
      const [w] = e.advance(T0 + W + GRACE);
      assert.equal(w?.windowStart, T0);
      assert.equal(w?.windowEnd, T0 + W);
      assert.deepEqual(e.advance(T0 + 10 * W), []);
    });

    it('an out-of-order reading inside the grace counts in its own window; lux.last follows ts, not arrival', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: GRACE, timeZone: 'UTC' });
      e.ingest(reading(T0 + 50_000, { lux: 500 }), T0 + 50_000);
      e.ingest(reading(T0 + W + 1_000, { lux: 900 }), T0 + W + 1_000); // next window
      const late = e.ingest(reading(T0 + 10_000, { lux: 100 }), T0 + W + GRACE - 1); // older, arrives last
      assert.equal(late.late, false);
      const [w] = e.advance(T0 + W + GRACE);
      assert.equal(w?.count, 2);
      assert.equal(w?.lux.last, 500);
      assert.equal(w?.lux.mean, 300);
    });

    it('a reading arriving at end + grace or later is late: reported, not counted', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: GRACE, timeZone: 'UTC' });
      e.ingest(reading(T0 + 1_000, { lux: 10 }), T0 + 1_000);
      const r = e.ingest(reading(T0 + 2_000, { lux: 9999 }), T0 + W + GRACE); // advance not called yet
      assert.equal(r.late, true);
      assert.equal(r.windowStart, T0);
      const [w] = e.advance(T0 + W + GRACE);
      assert.equal(w?.count, 1);
      assert.equal(w?.lux.max, 10);
      // And after the window closed, older readings stay late even with an early `now`.
      assert.equal(e.ingest(reading(T0 + 3_000), T0 + 3_000).late, true);
    });

    it('grace 0: a window closes at its end', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC' });
      e.ingest(reading(T0), T0);
      assert.equal(e.advance(T0 + W - 1).length, 0);
      assert.equal(e.advance(T0 + W).length, 1);
      assert.equal(e.ingest(reading(T0 + W - 1), T0 + W).late, true);
    });

    it('windows without readings produce nothing; lux stats null without lux; presence-only window', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC', presenceHoldMs: HOLD });
      e.ingest({ sensorId: 's', zone: 'z', ts: T0 + 30_000, presence: true, source: 't' }, T0 + 30_000);
      e.ingest(reading(T0 + 5 * W + 1), T0 + 5 * W + 1);
      const closed = e.advance(T0 + 10 * W);
      assert.deepEqual(
        closed.map((w) => w.windowStart),
        [T0, T0 + 5 * W],
      );
      const first = closed[0] as FeatureWindow;
      assert.deepEqual(first.lux, { mean: null, min: null, max: null, std: null, last: null });
      assert.deepEqual(first.presence, { ratio: 1, transitions: 0, last: true, lastTs: T0 + 30_000 });
      // The held presence (30 s hold) does not reach the later window: unknown there.
      assert.deepEqual((closed[1] as FeatureWindow).presence, { ratio: null, transitions: 0, last: null, lastTs: null });
    });

    it('presence is time-weighted: one "vacant" event outweighs many "occupied" heartbeats before it', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC', presenceHoldMs: 10 * W });
      // Occupied heartbeats every second for 12 s, then vacant for the remaining 48 s.
      for (let s = 0; s < 12; s++) e.ingest({ sensorId: 's', zone: 'z', ts: T0 + s * 1000, presence: true, source: 't' }, T0 + s * 1000);
      e.ingest({ sensorId: 's', zone: 'z', ts: T0 + 12_000, presence: false, source: 't' }, T0 + 12_000);
      const [w] = e.advance(T0 + W);
      assert.equal(w?.presence.ratio, 0.2);
      assert.equal(w?.presence.transitions, 1);
      assert.equal(w?.presence.last, false);
      // The vacant state carries into the next window.
      e.ingest(reading(T0 + W + 30_000), T0 + W + 30_000);
      const [next] = e.advance(T0 + 2 * W);
      assert.deepEqual(next?.presence, { ratio: 0, transitions: 0, last: false, lastTs: T0 + 12_000 });
    });

    it('rejects readings too far in the future (unit or clock errors)', () => {
      const e = new FeatureWindowEngine({ maxFutureMs: 1000 });
      assert.throws(() => e.ingest(reading(T0 + 1001), T0), /ahead of now/);
      assert.doesNotThrow(() => e.ingest(reading(T0 + 1000), T0));
      assert.throws(() => e.ingest(reading(T0 * 1000), T0), ReadingValidationError);
    });

    it('keeps the last keepWindows windows per zone, newest first', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: 0, keepWindows: 3, timeZone: 'UTC' });
      for (let i = 0; i < 6; i++) {
        e.ingest(reading(T0 + i * W, { zone: 'a', lux: i }), T0 + i * W);
        e.ingest(reading(T0 + i * W, { zone: 'b', lux: 10 + i }), T0 + i * W);
        e.advance(T0 + i * W);
      }
      e.advance(T0 + 6 * W);
      assert.deepEqual(
        e.latest('a').map((w) => w.lux.mean),
        [5, 4, 3],
      );
      assert.deepEqual(
        e.latest('b', 2).map((w) => w.lux.mean),
        [15, 14],
      );
      assert.deepEqual(e.latest('nope'), []);
      assert.deepEqual(e.zones().sort(), ['a', 'b']);
    });
  });

  describe('aggregateNow', function () {
    it('returns due windows complete and open ones as partial snapshots; the snapshot is replaced later', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: GRACE, timeZone: 'UTC' });
      e.ingest({ sensorId: 's', zone: 'z', ts: T0 + 1_000, lux: 10, source: 't' }, T0 + 1_000);
      e.ingest({ sensorId: 's', zone: 'z', ts: T0 + W + 1_000, lux: 20, source: 't' }, T0 + W + 1_000);
      e.ingest({ sensorId: 's', zone: 'y', ts: T0 + W + 2_000, lux: 5, source: 't' }, T0 + W + 2_000);
      const now = T0 + W + GRACE + 5_000; // first window due, second open
      const out = e.aggregateNow(now);
      assert.deepEqual(
        out.map((w) => [w.zone, w.windowStart, w.windowEnd, w.partial ?? false, w.count]),
        [
          ['z', T0, T0 + W, false, 1],
          ['z', T0 + W, now, true, 1],
          ['y', T0 + W, now, true, 1],
        ],
      );
      assert.equal(e.latest('z')[0]?.partial, true);
      // Still open: a later reading counts and the complete window replaces the snapshot.
      assert.equal(e.ingest({ sensorId: 's', zone: 'z', ts: T0 + W + 30_000, lux: 40, source: 't' }, now + 1).late, false);
      const [full] = e.advance(T0 + 2 * W + GRACE).filter((w) => w.zone === 'z');
      assert.deepEqual([full?.count, full?.lux.mean, full?.partial, full?.windowEnd], [2, 30, undefined, T0 + 2 * W]);
      assert.deepEqual(
        e.latest('z').map((w) => [w.windowStart, w.partial ?? false]),
        [
          [T0 + W, false],
          [T0, false],
        ],
      );
      assert.deepEqual(e.aggregateNow(T0 + 10 * W), []);
    });
  });

  describe('time zone, weather, validation, restore', function () {
    it('minuteOfDay and weekday of the window start in the configured IANA zone', () => {
      // 2024-03-31T00:55:00Z: Sunday; Berlin switches to CEST at 01:00Z; Kolkata +05:30.
      const start = Date.UTC(2024, 2, 31, 0, 55);
      const at = (timeZone: string, ts: number): [number, number] => {
        const e = new FeatureWindowEngine({ windowMs: 300_000, graceMs: 0, timeZone });
        e.ingest({ sensorId: 's', zone: 'z', ts, lux: 1, source: 't' }, ts);
        const [w] = e.advance(ts + 300_000);
        return [w?.minuteOfDay as number, w?.weekday as number];
      };
      assert.deepEqual(at('UTC', start), [55, 0]);
      assert.deepEqual(at('Europe/Berlin', start), [1 * 60 + 55, 0]);
      assert.deepEqual(at('Europe/Berlin', start + 300_000), [3 * 60, 0]); // 01:00Z = 03:00 CEST
      assert.deepEqual(at('Asia/Kolkata', start), [6 * 60 + 25, 0]);
      assert.deepEqual(at('America/Los_Angeles', start), [17 * 60 + 55, 6]); // Saturday evening
      assert.throws(() => new LocalClock('Mars/Olympus'), /unknown time zone "Mars\/Olympus"/);
      assert.equal(new LocalClock().timeZone, Intl.DateTimeFormat().resolvedOptions().timeZone);
    });

    it('UTC, computed without Intl, agrees with Intl on every minute and weekday (before 1970 too)', () => {
      const utc = new LocalClock('utc');
      assert.equal(utc.timeZone, 'UTC');
      const intl = new Intl.DateTimeFormat('en-US', {
        timeZone: 'UTC',
        hourCycle: 'h23',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      });
      const days: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
      let seed = 7;
      for (let i = 0; i < 2000; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const ts = Math.round((seed / 2147483648 - 0.3) * 4e12) + (i % 7) * 86_400_000;
        const parts = Object.fromEntries(intl.formatToParts(ts).map((p) => [p.type, p.value]));
        const expected = { minuteOfDay: (Number(parts.hour) % 24) * 60 + Number(parts.minute), weekday: days[parts.weekday as string] };
        assert.deepEqual(utc.at(ts), expected, new Date(ts).toISOString());
      }
    });

    it('attaches the newest weather (zone-specific or global) not older than weatherMaxAgeMs', () => {
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC', weatherMaxAgeMs: 2 * W });
      e.setWeather({ ts: T0 - 3 * W, temperatureC: 1, source: 'w' });
      e.ingest({ sensorId: 's', zone: 'a', ts: T0, lux: 1, source: 't' }, T0);
      assert.equal(e.advance(T0 + W)[0]?.weather, undefined, 'too old');
      e.setWeather({ ts: T0 + W, temperatureC: 2, cloudCoverPct: 80, source: 'w' });
      e.setWeather({ ts: T0 + W + 5, zone: 'a', outdoorLux: 20000, source: 'w' });
      e.setWeather({ ts: T0, zone: 'a', outdoorLux: 1, source: 'w' }); // older: ignored
      e.ingest({ sensorId: 's', zone: 'a', ts: T0 + W, lux: 1, source: 't' }, T0 + W);
      e.ingest({ sensorId: 's', zone: 'b', ts: T0 + W, lux: 1, source: 't' }, T0 + W);
      const [a, b] = e.advance(T0 + 2 * W);
      assert.deepEqual(a?.weather, { ts: T0 + W + 5, outdoorLux: 20000, source: 'w' });
      assert.deepEqual(b?.weather, { ts: T0 + W, temperatureC: 2, cloudCoverPct: 80, source: 'w' });
      assert.throws(() => e.setWeather({ ts: 1, temperatureC: 'warm' }), /temperatureC must be a finite number/);
    });

    const invalid: Array<[unknown, string, RegExp]> = [
      [null, 'payload', /expected an object, got null/],
      [[1, 2], 'payload', /expected an object, got an array/],
      [{ sensorId: 's', ts: 1, lux: 1, source: 't' }, 'zone', /zone is missing/],
      [{ sensorId: 's', zone: '', ts: 1, lux: 1, source: 't' }, 'zone', /zone must be a non-empty string/],
      [{ sensorId: 's', zone: 'z', ts: '1', lux: 1, source: 't' }, 'ts', /ts must be a number \(epoch ms\), got "1"/],
      [{ sensorId: 's', zone: 'z', ts: Number.NaN, lux: 1, source: 't' }, 'ts', /ts must be epoch ms .* got NaN/],
      [{ sensorId: 's', zone: 'z', ts: 1, lux: Number.NaN, source: 't' }, 'lux', /lux must be a finite number >= 0, got NaN/],
      [{ sensorId: 's', zone: 'z', ts: 1, lux: -0.5, source: 't' }, 'lux', /got -0.5/],
      [{ sensorId: 's', zone: 'z', ts: 1, lux: Number.POSITIVE_INFINITY, source: 't' }, 'lux', /got Infinity/],
      [{ sensorId: 's', zone: 'z', ts: 1, lux: '300', source: 't' }, 'lux', /got "300"/],
      [{ sensorId: 's', zone: 'z', ts: 1, source: 't' }, 'lux', /neither lux nor presence/],
      [{ sensorId: 's', zone: 'z', ts: 1, presence: 1, source: 't' }, 'presence', /presence must be a boolean, got 1/],
      [{ zone: 'z', ts: 1, lux: 1, source: 't' }, 'sensorId', /sensorId is missing/],
      [{ sensorId: 's', zone: 'z', ts: 1, lux: 1 }, 'source', /source is missing/],
      [{ sensorId: 's', zone: 'z'.repeat(201), ts: 1, lux: 1, source: 't' }, 'zone', /at most 200 characters/],
    ];
    for (const [input, field, message] of invalid) {
      it(`rejects a bad ${field}: ${message.source}`, () => {
        const e = new FeatureWindowEngine({});
        assert.throws(
          () => e.ingest(input, 10),
          (err: unknown) => err instanceof ReadingValidationError && err.field === field && message.test(err.message),
        );
        assert.equal(e.openWindowCount(), 0);
        assert.deepEqual(e.zones(), []);
      });
    }

    it('never throws anything but ReadingValidationError on fuzzed input', () => {
      const rng = mulberry32(99);
      const values: unknown[] = [undefined, null, 0, -1, 1.5, Number.NaN, Infinity, '', 'x', true, false, [], {}, 1e20, -0];
      const e = new FeatureWindowEngine({});
      for (let i = 0; i < 3000; i++) {
        const input: Record<string, unknown> = {};
        for (const k of ['sensorId', 'zone', 'ts', 'lux', 'presence', 'source']) {
          if (rng() < 0.8) input[k] = values[randInt(rng, 0, values.length - 1)];
        }
        try {
          e.ingest(input, 1e12);
        } catch (err) {
          assert.ok(err instanceof ReadingValidationError, String(err));
        }
      }
    });

    it('rejects bad options', () => {
      assert.throws(() => new FeatureWindowEngine({ windowMs: 10 }), /windowMs must be a whole number >= 1000/);
      assert.throws(() => new FeatureWindowEngine({ graceMs: -1 }), /graceMs/);
      assert.throws(() => new FeatureWindowEngine({ timeZone: 'Nowhere/Land' }), /unknown time zone/);
      const e = new FeatureWindowEngine({ windowMs: W, graceMs: 0 });
      e.ingest({ sensorId: 's', zone: 'z', ts: T0, lux: 1, source: 't' }, T0);
      assert.throws(() => e.advance(Number.NaN), /now must be epoch ms/);
      assert.throws(() => e.ingest({ sensorId: 's', zone: 'z', ts: T0, lux: 1, source: 't' }, Number.NaN), /now must be epoch ms/);
      assert.equal(e.openWindowCount(), 1, 'a bad clock closes nothing');
    });

    it('restore: closed windows become the hot path, older readings are late, presence carries over', () => {
      const a = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC', presenceHoldMs: 10 * W });
      a.ingest({ sensorId: 's', zone: 'z', ts: T0 + 1_000, lux: 5, presence: true, source: 't' }, T0 + 1_000);
      const windows = a.advance(T0 + W);
      const b = new FeatureWindowEngine({ windowMs: W, graceMs: 0, timeZone: 'UTC', presenceHoldMs: 10 * W });
      b.restore([...windows, { ...(windows[0] as FeatureWindow), windowStart: T0 + W, windowEnd: T0 + 2 * W, partial: true }]);
      assert.deepEqual(b.latest('z'), windows);
      assert.equal(b.closedUntil('z'), T0 + W);
      assert.equal(b.ingest({ sensorId: 's', zone: 'z', ts: T0 + 2_000, lux: 1, source: 't' }, T0 + 2_000).late, true);
      b.ingest({ sensorId: 's', zone: 'z', ts: T0 + W + 30_000, lux: 1, source: 't' }, T0 + W + 30_000);
      const [next] = b.advance(T0 + 2 * W);
      assert.deepEqual(next?.presence, { ratio: 1, transitions: 0, last: true, lastTs: T0 + 1_000 });
    });
  });
});
