import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mulberry32, randInt } from '../../helpers/prng';
import { ReadingValidationError, type FeatureWindow, type SensorReading } from '../../../lib/contracts';
import { FeatureWindowEngine, FeatureWindowService } from '../../../lib/features';
import { LightingStore } from '../../../lib/store';

const W = 60_000;
const GRACE = 15_000;
const T0 = 1_760_000_040_000 - (1_760_000_040_000 % W);
const OPTIONS = { windowMs: W, graceMs: GRACE, presenceHoldMs: 45_000, timeZone: 'UTC', keepWindows: 5 };

interface Arrival {
  reading: SensorReading;
  at: number;
}

function stream(seed: number, durationMs: number): Arrival[] {
  const rng = mulberry32(seed);
  const out: Arrival[] = [];
  for (const zone of ['north', 'south']) {
    for (let ts = T0 + randInt(rng, 0, 5000); ts < T0 + durationMs; ts += randInt(rng, 500, 9000)) {
      const reading: SensorReading = { sensorId: `s-${zone}`, zone, ts, source: 'dali' };
      if (rng() < 0.8) reading.lux = Math.round(rng() * 80000) / 100;
      if (rng() < 0.5 || reading.lux === undefined) reading.presence = rng() < 0.6;
      const r = rng();
      out.push({
        reading,
        at: ts + (r < 0.9 ? randInt(rng, 0, 3000) : r < 0.97 ? randInt(rng, 3000, 20_000) : randInt(rng, 20_000, 90_000)),
      });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

const key = (w: FeatureWindow): string => `${w.zone}@${w.windowStart}`;
const sortWindows = (ws: FeatureWindow[]): FeatureWindow[] =>
  [...ws].sort((a, b) => a.windowStart - b.windowStart || a.zone.localeCompare(b.zone));

describe('lib/features FeatureWindowService (with a LightingStore)', function () {
  this.timeout(20_000);
  let dir: string;
  let n = 0;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feature-service-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbFile = (): string => path.join(dir, `svc-${++n}.sqlite`);

  it('stores every reading raw (with its late flag) and every window, and sends each window once', async () => {
    const store = await LightingStore.open({ path: dbFile(), flushIntervalMs: 10 });
    let now = T0;
    const sent: FeatureWindow[] = [];
    const svc = new FeatureWindowService({ ...OPTIONS, store, clock: () => now, onWindow: (w) => sent.push(w) });
    await svc.start();
    const arrivals = stream(5, 10 * W);
    let late = 0;
    for (const a of arrivals) {
      now = a.at;
      svc.tick();
      if ((await svc.ingest(a.reading)).late) late += 1;
      svc.tick();
    }
    now = T0 + 20 * W;
    svc.tick();
    await svc.stop();
    assert.ok(late > 0);
    await store.flush();
    const rows = await store.exclusive((db) => db.all<{ late: number }>('SELECT late FROM raw_sensor_events'));
    assert.equal(rows.length, arrivals.length);
    assert.equal(rows.filter((r) => r.late === 1).length, late);
    const stored = await store.latestFeatureWindowsPerZone(1000);
    assert.deepEqual(sortWindows(stored), sortWindows(sent));
    assert.equal(new Set(sent.map(key)).size, sent.length, 'each window sent once');
    assert.deepEqual(
      svc.latest('north', 2),
      sortWindows(sent.filter((w) => w.zone === 'north'))
        .slice(-2)
        .reverse(),
    );
    await store.close();
  });

  it('with allowZone (a zone map), zones no longer allowed do not come back at a restart', async () => {
    const file = dbFile();
    let now = T0;
    const store = await LightingStore.open({ path: file, flushIntervalMs: 10 });
    const svc = new FeatureWindowService({ ...OPTIONS, store, clock: () => now });
    await svc.start();
    for (const a of stream(3, 6 * W)) {
      now = a.at;
      svc.tick();
      await svc.ingest(a.reading);
    }
    now = T0 + 8 * W;
    svc.tick();
    await svc.stop();
    await store.close();
    assert.deepEqual(svc.engine.zones().sort(), ['north', 'south']);

    const again = await LightingStore.open({ path: file });
    const restarted = new FeatureWindowService({ ...OPTIONS, store: again, clock: () => now, allowZone: (z) => z === 'north' });
    const r = await restarted.start();
    assert.ok(r.restoredWindows > 0);
    assert.deepEqual(restarted.engine.zones(), ['north'], 'south was removed from the map: its windows stay in the store only');
    assert.deepEqual(restarted.latest('south'), []);
    await restarted.stop();
    await again.close();
  });

  it('a malformed reading is rejected with a clear error and nothing is stored or counted', async () => {
    const store = await LightingStore.open({ path: dbFile() });
    const svc = new FeatureWindowService({ ...OPTIONS, store, clock: () => T0 });
    for (const bad of [
      { sensorId: 's', zone: 'z', ts: T0, lux: Number.NaN, source: 'x' },
      { sensorId: 's', zone: 'z', ts: T0, lux: -3, source: 'x' },
      { sensorId: 's', ts: T0, lux: 3, source: 'x' },
      { sensorId: 's', zone: 'z', ts: String(T0), lux: 3, source: 'x' },
      { sensorId: 's', zone: 'z', ts: T0, source: 'x' },
      'lux=3',
    ]) {
      await assert.rejects(svc.ingest(bad), ReadingValidationError);
    }
    await assert.rejects(svc.ingestWeather({ ts: T0, cloudCoverPct: -1 }), /cloudCoverPct/);
    await store.flush();
    const counts = await store.counts();
    assert.equal(
      Object.values(counts).reduce((a, b) => a + b, 0),
      0,
    );
    assert.equal(svc.engine.openWindowCount(), 0);
    await store.close();
  });

  it('after a restart the windows are the same as without one (restore + replay of raw events)', async () => {
    const file = dbFile();
    const arrivals = stream(11, 30 * W);
    const crashAt = T0 + 12 * W + 20_000;
    const restartAt = crashAt + 2 * W + 7_000; // readings arriving meanwhile are lost
    const delivered = arrivals.filter((a) => a.at < crashAt || a.at >= restartAt);
    const end = T0 + 40 * W;

    // Reference: one engine, no restart.
    const reference = new FeatureWindowEngine(OPTIONS);
    const expected: FeatureWindow[] = [];
    for (const a of delivered) {
      expected.push(...reference.advance(a.at));
      reference.ingest(a.reading, a.at);
      expected.push(...reference.advance(a.at));
    }
    expected.push(...reference.advance(end));

    const sent: FeatureWindow[] = [];
    let now = T0;
    const first = await LightingStore.open({ path: file, flushIntervalMs: 10 });
    const a = new FeatureWindowService({ ...OPTIONS, store: first, clock: () => now, onWindow: (w) => sent.push(w) });
    await a.start();
    for (const x of delivered.filter((d) => d.at < crashAt)) {
      now = x.at;
      a.tick();
      await a.ingest(x.reading);
      a.tick();
    }
    const openAtCrash = a.engine.openWindowCount();
    await a.stop();
    await first.close();
    assert.ok(openAtCrash > 0, 'windows were open when the first run stopped');

    now = restartAt;
    const second = await LightingStore.open({ path: file, flushIntervalMs: 10 });
    const b = new FeatureWindowService({ ...OPTIONS, store: second, clock: () => now, onWindow: (w) => sent.push(w) });
    const restored = await b.start();
    assert.ok(restored.restoredWindows > 0);
    assert.ok(restored.replayedReadings > 0);
    assert.ok(restored.recovered.length > 0, 'windows open at the crash are completed at restart');
    assert.deepEqual(b.latest('north').length, OPTIONS.keepWindows);
    for (const x of delivered.filter((d) => d.at >= restartAt)) {
      now = x.at;
      b.tick();
      await b.ingest(x.reading);
      b.tick();
    }
    now = end;
    b.tick();
    await b.stop();

    assert.deepEqual(sent.map(key).sort(), expected.map(key).sort(), 'same windows, none twice');
    const byKey = new Map(sent.map((w) => [key(w), w]));
    for (const e of expected) {
      const got = byKey.get(key(e)) as FeatureWindow;
      assert.equal(got.count, e.count, key(e));
      assert.deepEqual(got.presence, e.presence, `${key(e)} presence`);
      for (const k of ['mean', 'std'] as const) {
        const [x, y] = [got.lux[k], e.lux[k]];
        assert.ok(x === y || (x !== null && y !== null && Math.abs(x - y) < 1e-9 * Math.max(1, Math.abs(y))), `${key(e)} lux.${k}`);
      }
      assert.deepEqual([got.lux.min, got.lux.max, got.lux.last], [e.lux.min, e.lux.max, e.lux.last], key(e));
    }
    assert.equal((await second.counts()).feature_windows, expected.length);
    await second.close();
  });

  it('aggregateNow stores snapshots that the complete windows replace', async () => {
    const store = await LightingStore.open({ path: dbFile() });
    let now = T0 + 10_000;
    const sent: FeatureWindow[] = [];
    const svc = new FeatureWindowService({ ...OPTIONS, store, clock: () => now, onWindow: (w) => sent.push(w) });
    await svc.start();
    await svc.ingest({ sensorId: 's', zone: 'z', ts: T0 + 5_000, lux: 100, presence: true, source: 'http' });
    const snap = svc.aggregateNow();
    assert.deepEqual(
      snap.map((w) => [w.windowEnd, w.partial]),
      [[T0 + 10_000, true]],
    );
    assert.equal((await store.latestFeatureWindows('z', 1))[0]?.partial, true);
    now = T0 + 20_000;
    await svc.ingest({ sensorId: 's', zone: 'z', ts: T0 + 15_000, lux: 300, source: 'http' });
    now = T0 + W + GRACE;
    svc.tick();
    const [stored] = await store.latestFeatureWindows('z', 5);
    assert.deepEqual([stored?.partial, stored?.count, stored?.lux.mean], [undefined, 2, 200]);
    assert.equal((await store.counts()).feature_windows, 1);
    assert.equal(sent.length, 2);
    await svc.stop();
    await store.close();
  });

  it('weather updates are stored and attached to the next windows; memory-only mode works without a store', async () => {
    const store = await LightingStore.open({ path: dbFile() });
    let now = T0 + 1;
    const svc = new FeatureWindowService({ ...OPTIONS, store, clock: () => now });
    await svc.ingestWeather({ ts: T0, temperatureC: 12.5, outdoorLux: 15000, provider: 'met' });
    await svc.ingest({ sensorId: 's', zone: 'z', ts: T0 + 1, lux: 1, source: 'x' });
    now = T0 + W + GRACE;
    const [w] = svc.tick();
    await store.flush();
    assert.deepEqual(w?.weather, { ts: T0, temperatureC: 12.5, outdoorLux: 15000, source: 'unknown' });
    const raw = await store.exclusive((db) =>
      db.get<{ raw: string; temperature_c: number }>('SELECT raw, temperature_c FROM weather_events'),
    );
    assert.equal(raw?.temperature_c, 12.5);
    assert.deepEqual(JSON.parse(raw?.raw ?? 'null'), { ts: T0, temperatureC: 12.5, outdoorLux: 15000, provider: 'met' });
    await store.close();

    now = T0;
    const memory = new FeatureWindowService({ ...OPTIONS, store: null, clock: () => now });
    await memory.start();
    await memory.ingest({ sensorId: 's', zone: 'z', ts: T0, lux: 7, source: 'x' });
    now = T0 + W + GRACE;
    assert.equal(memory.tick()[0]?.lux.mean, 7);
    await memory.stop();
  });
});
