/**
 * Sustained ingest: sensor readings through the feature-window service
 * (validation + window engine) into the batched LightingStore (raw events +
 * closed windows), measured from the first reading until everything is
 * committed; against a naive writer measured in the same run: the same engine,
 * then one INSERT per reading in its own transaction (autocommit), awaited
 * before the next. Both on a real file in WAL mode, synchronous=NORMAL.
 *
 * Targets: >= 20x the naive rate and >= 20 000 events/s on 2 cores.
 *
 * Run: node dist/bench/ingest.bench.js [events=200000] [naiveEvents=5000]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FeatureWindowEngine, FeatureWindowService, type SensorReading } from '../lib/features';
import { Db, LightingStore } from '../lib/store';
import { mulberry32 } from '../test/helpers/prng';

const EVENTS = Number(process.argv[2] ?? 200_000);
const NAIVE_EVENTS = Number(process.argv[3] ?? 5_000);
const ZONES = 8;
const T0 = 1_760_000_000_000;
const STEP_MS = 50; // simulated time between readings (20 readings/s across zones)

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'ingest', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

function readings(n: number, seed: number): SensorReading[] {
  const rng = mulberry32(seed);
  const out: SensorReading[] = [];
  for (let i = 0; i < n; i++) {
    const zone = `zone-${i % ZONES}`;
    out.push({ sensorId: `sensor-${i % ZONES}`, zone, ts: T0 + i * STEP_MS, lux: Math.round(rng() * 80_000) / 100, presence: rng() < 0.6, source: 'dali' });
  }
  return out;
}

async function batched(dir: string, data: SensorReading[]): Promise<{ perS: number; windows: number; transactions: number }> {
  const store = await LightingStore.open({ path: path.join(dir, 'batched.sqlite') });
  let now = T0;
  let windows = 0;
  const svc = new FeatureWindowService({ store, clock: () => now, tickMs: 60_000, onWindow: () => (windows += 1) });
  await svc.start();
  const t0 = performance.now();
  for (let i = 0; i < data.length; i++) {
    const r = data[i] as SensorReading;
    now = r.ts;
    await svc.ingest(r);
    if (i % 1000 === 0) svc.tick();
    if (i % 256 === 255) {
      // Readings arrive through I/O (serial port, HTTP, MQTT): the event loop turns between them.
      await new Promise((resolve) => setImmediate(resolve));
      // Sustained rate: the producer may not outrun the writer for ever (the queue is bounded).
      if (store.writerStats().queuedRows > 20_000) await store.flush();
    }
  }
  now += 10 * 60_000;
  svc.tick();
  await store.flush();
  const ms = performance.now() - t0;
  const stats = store.writerStats();
  const counts = await store.counts();
  if (counts.raw_sensor_events !== data.length) throw new Error(`stored ${counts.raw_sensor_events} of ${data.length}`);
  await svc.stop();
  await store.close();
  return { perS: (data.length / ms) * 1000, windows, transactions: stats.transactions };
}

/**
 * Same schema (migrated by the store), then a plain connection writing one
 * transaction per reading. `tuned`: WAL + synchronous=NORMAL like the store
 * (isolates the effect of batching); otherwise SQLite's defaults (rollback
 * journal, synchronous=FULL), what a naive port of the reference service gets.
 */
async function naive(dir: string, data: SensorReading[], tuned: boolean): Promise<number> {
  const file = path.join(dir, `naive-${tuned ? 'wal' : 'default'}.sqlite`);
  await (await LightingStore.open({ path: file })).close();
  const db = await Db.open(file);
  if (tuned) {
    await db.get('PRAGMA journal_mode = WAL');
    await db.run('PRAGMA synchronous = NORMAL');
  } else {
    await db.get('PRAGMA journal_mode = DELETE');
    await db.run('PRAGMA synchronous = FULL');
  }
  const insert = await db.prepare(
    'INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, presence, source, late) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const engine = new FeatureWindowEngine({});
  const t0 = performance.now();
  for (const r of data) {
    const res = engine.ingest(r, r.ts);
    await insert.run([r.sensorId, r.zone, r.ts, r.lux ?? null, r.presence ? 1 : 0, r.source, res.late ? 1 : 0]);
    engine.advance(r.ts);
  }
  const ms = performance.now() - t0;
  await insert.finalize();
  await db.close();
  return (data.length / ms) * 1000;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  try {
    const env = { cpus: os.cpus().length, node: process.version };
    const naiveDefault = await naive(dir, readings(Math.min(NAIVE_EVENTS, 2000), 1), false);
    emit('naive_one_transaction_per_event_sqlite_defaults', naiveDefault, 'events/s', {
      events: Math.min(NAIVE_EVENTS, 2000),
      pragmas: 'journal_mode=DELETE synchronous=FULL',
      ...env,
    });
    const naiveWal = await naive(dir, readings(NAIVE_EVENTS, 1), true);
    emit('naive_one_transaction_per_event_wal_normal', naiveWal, 'events/s', {
      events: NAIVE_EVENTS,
      pragmas: 'journal_mode=WAL synchronous=NORMAL',
      ...env,
    });
    const b = await batched(dir, readings(EVENTS, 1));
    emit('batched_store_with_windows', b.perS, 'events/s', { events: EVENTS, windows: b.windows, transactions: b.transactions, ...env });
    emit('speedup_vs_naive_sqlite_defaults', b.perS / naiveDefault, 'x', { target: 20, met: b.perS / naiveDefault >= 20 });
    emit('speedup_vs_naive_wal_normal', b.perS / naiveWal, 'x', { target: 20, met: b.perS / naiveWal >= 20 });
    emit('target_20000_events_per_s', b.perS, 'events/s', { target: 20_000, met: b.perS >= 20_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
