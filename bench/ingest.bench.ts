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
 * PostgreSQL (when its server binaries are installed; PG_BIN to point at them):
 * a throwaway cluster (fsync on, the defaults otherwise) in a temporary
 * directory, then in the same run and on the same server
 * - the batched store with windows (as above, the store's path a postgresql:// URL);
 * - the naive writer: one INSERT + COMMIT per reading (autocommit), awaited;
 * - the main flow in a real Node-RED runtime with DB_URL on that server:
 *   POST /ingest/sensor (201 after COMMIT) at concurrency 16, latency as seen
 *   by the HTTP client (p50/p99), against the bare echo endpoint of the same
 *   runtime as baseline; every acknowledged id checked in the database.
 * Targets: >= 20 000 events/s and >= 10x the naive writer.
 *
 * Run: node dist/bench/ingest.bench.js [events=200000] [naiveEvents=5000] [httpRequests=3000]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SensorReading } from '../lib/contracts';
import { FeatureWindowEngine, FeatureWindowService } from '../lib/features';
import { Db, LightingStore } from '../lib/store';
import { PgDb } from '../lib/store/pg';
import { NodeRedRuntime } from '../test/e2e/harness';
import { findPgBin, startPostgres, type PgCluster } from '../test/helpers/postgres';
import { mulberry32 } from '../test/helpers/prng';
import { runLoad, summarise } from './http-load';
import { benchFlows, ingestLoad, reading, type IngestTally } from './main-flow-rig';

const EVENTS = Number(process.argv[2] ?? 200_000);
const NAIVE_EVENTS = Number(process.argv[3] ?? 5_000);
const HTTP_REQUESTS = Number(process.argv[4] ?? 3_000);
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

async function batched(dir: string, data: SensorReading[], url?: string): Promise<{ perS: number; windows: number; transactions: number }> {
  const store = await LightingStore.open({ path: url ?? path.join(dir, 'batched.sqlite') });
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

/** PostgreSQL: one INSERT + COMMIT per reading (autocommit), each awaited, after the same window engine. */
async function naivePg(url: string, data: SensorReading[]): Promise<number> {
  await (await LightingStore.open({ path: url })).close();
  const db = new PgDb(url, { poolSize: 1 });
  const engine = new FeatureWindowEngine({});
  const sql = 'INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, presence, source, late) VALUES (?, ?, ?, ?, ?, ?, ?)';
  const t0 = performance.now();
  for (const r of data) {
    const res = engine.ingest(r, r.ts);
    await db.run(sql, [r.sensorId, r.zone, r.ts, r.lux ?? null, r.presence ? 1 : 0, r.source, res.late ? 1 : 0]);
    engine.advance(r.ts);
  }
  const ms = performance.now() - t0;
  await db.close();
  return (data.length / ms) * 1000;
}

/** The main flow on PostgreSQL over HTTP: ingest latency as the client sees it, and the echo baseline. */
async function httpPg(pg: PgCluster, url: string): Promise<void> {
  const { flows } = benchFlows();
  const rt = await NodeRedRuntime.start({ flows, env: { ADMIN_TOKEN: 'bench-admin-token', OPENAI_API_KEY: '', DB_URL: url } });
  const common = { cpus: os.cpus().length, node: process.version, nodeRed: rt.nodeRedVersion, concurrency: 16, requests: HTTP_REQUESTS };
  try {
    for (let i = 0; i < 100 && (await rt.request('GET', '/healthz')).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const tally: IngestTally = { created: 0, acked: new Set<number>() };
    await ingestLoad(rt.baseUrl, 0, 16, 300, tally); // warm-up
    const echo = await runLoad({ baseUrl: rt.baseUrl, method: 'POST', path: () => '/echo', body: reading, concurrency: 16, total: HTTP_REQUESTS });
    const ing = await ingestLoad(rt.baseUrl, 1000, 16, HTTP_REQUESTS, tally);
    const e = summarise(echo.latenciesMs);
    const l = summarise(ing.latenciesMs);
    emit('pg_http_echo_baseline', echo.requestsPerS, 'requests/s', { p50Ms: round(e.p50), p99Ms: round(e.p99), failed: echo.failed, ...common });
    emit('pg_http_ingest_commit_latency_p50', l.p50, 'ms', { baselineEchoP50Ms: round(e.p50), ...common });
    emit('pg_http_ingest_commit_latency_p99', l.p99, 'ms', { baselineEchoP99Ms: round(e.p99), ...common });
    emit('pg_http_ingest', ing.requestsPerS, 'requests/s', { baselineEchoPerS: round(echo.requestsPerS), failed: ing.failed, ...common });
    const db = new PgDb(url, { poolSize: 1 });
    try {
      const ids = [...tally.acked];
      const found = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM raw_sensor_events WHERE id = ANY(?::bigint[])', [`{${ids.join(',')}}`]);
      emit('pg_http_acknowledged_rows_stored', found?.n ?? 0, 'rows', { acknowledged: ids.length, goal: ids.length, met: (found?.n ?? 0) === ids.length });
    } finally {
      await db.close();
    }
  } finally {
    await rt.stopAndClean(true);
  }
  void pg;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

async function postgres(): Promise<void> {
  if (!findPgBin()) {
    process.stderr.write('ingest bench: PostgreSQL not installed, skipping its figures (apt-get install postgresql)\n');
    return;
  }
  const pg = await startPostgres({ fsync: true });
  try {
    const env = { cpus: os.cpus().length, node: process.version, server: 'PostgreSQL (throwaway cluster, fsync on, synchronous_commit on)' };
    const naive = await naivePg(pg.database2('naive'), readings(NAIVE_EVENTS, 1));
    emit('pg_naive_one_insert_commit_per_event', naive, 'events/s', { events: NAIVE_EVENTS, ...env });
    const b = await batched('', readings(EVENTS, 1), pg.database2('batched'));
    emit('pg_batched_store_with_windows', b.perS, 'events/s', { events: EVENTS, windows: b.windows, transactions: b.transactions, baselineNaive: round(naive), ...env });
    emit('pg_speedup_vs_naive', b.perS / naive, 'x', { goal: 10, met: b.perS / naive >= 10 });
    emit('pg_target_20000_events_per_s', b.perS, 'events/s', { goal: 20_000, met: b.perS >= 20_000, baselineNaive: round(naive) });
    await httpPg(pg, pg.database2('http'));
  } finally {
    pg.remove();
  }
}

async function main(): Promise<void> {
  await sqlite();
  if (process.env.BENCH_PG !== '0') await postgres();
}

async function sqlite(): Promise<void> {
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
