/**
 * Sustained ingest: sensor readings through the feature-window service
 * (validation + window engine) into the batched LightingStore (raw events +
 * closed windows), measured from the first reading until everything is
 * committed. Two variants of that full path:
 * - batched_store_with_windows: each reading's ingest() awaited, resolved when
 *   queued (the default of the feature-window node);
 * - batched_store_with_windows_acked: ingest(..., {waitForCommit: true}) with
 *   up to 1 024 readings in flight (many producers), every acknowledgement
 *   awaited: "acknowledged means committed" (the HTTP API's path). Headline.
 * References measured in the same run, on a real file in WAL mode with
 * synchronous=NORMAL and the store's schema (same table, same indexes):
 * - sqlite_limit_multirow_insert (the definition of the limit): the
 *   same rows, their parameters prepared beforehand, written by the same
 *   binding (sqlite3) as one prepared INSERT of 4 000 rows (32 000
 *   parameters, near SQLite's 32 766) per transaction, nothing else;
 * - sqlite_limit_json_each_insert (a second physical shape): the same
 *   prepared rows, each 4 000 encoded into one JSON text (timed) and written
 *   as one INSERT ... SELECT FROM json_each(?) per transaction. The most
 *   SQLite takes here is the better of the two (fraction_of_best_physical_reference);
 * - naive_one_transaction_per_event_wal_normal: the same engine, then one
 *   INSERT per reading in its own transaction (autocommit), awaited before the
 *   next (and once more with SQLite's defaults: rollback journal, FULL).
 * BENCH_ROUNDS (default 3) rounds of [naive WAL, limit, json_each, full path,
 * acked], interleaved; each figure is the median of its rounds, each ratio
 * the median of the per-round ratios. cpuUsPerEvent: process CPU (main
 * thread + the binding's worker threads) per event, the figure that a shared
 * machine disturbs least.
 *
 * Goals: the acked full path >= 70 % of the SQLite limit (the multi-row
 * definition; also printed against the better reference) and >= 20x the
 * naive WAL writer; >= 20 000 events/s on 2 cores. When the 20x is out of
 * reach the line says why: the limit itself is only limitOverNaive times the
 * naive writer on this machine (17.6x on a quiet one, 11-13x on a loaded one).
 *
 * History. Before: CPU per event 17-21 us against the limit's 5.3 us; one
 * INSERT of exactly flushMaxRows rows per transaction and one validation per
 * reading brought it to 8.5 us acked (see git history of this file); the
 * binding's per-parameter conversion on the main thread, then the insert on
 * its worker, never overlapped (main thread idle half the time).
 * This change (issue 19 item 1), three levers, each measured:
 * 1. A raw-event batch is ONE INSERT ... SELECT FROM json_each(?) with the
 *    rows as one JSON text (lib/store/json-bulk.ts): one native stringify on
 *    the main thread, parsing and inserting on the worker. Exact: lux travels
 *    as mantissa and binary exponent (SQLite's decimal parsing returns about
 *    1 in 2 000 doubles of 11-16 digits one unit in the last place off),
 *    texts with a lone surrogate take the bound-parameter path. Same run (5
 *    rounds, loaded machine): CPU per event about equal (json_each 4.9-5.1
 *    us with its encoding timed, multi-row 4.6-4.9), but the main thread's
 *    part falls from 3.7 to 1.1 us per event (mainThreadUsPerEvent): the
 *    rest runs on the worker, where it overlaps the next readings. One
 *    round trip per batch whatever its size.
 * 2. Overlap: with rows still queued, a committed batch's waiters are
 *    resolved on the next turn of the event loop, after the next batch went
 *    to the worker. The worker's idle time between two batches of the acked
 *    run fell from about 1.1 ms to 0.5 ms per batch (instrumented, 196
 *    batches: 225 ms -> 100 ms in total).
 * 3. Larger transactions under sustained load: SQLite writes a backlog in
 *    transactions of up to 4 000 rows (a flush still starts at flushMaxRows):
 *    the queued variant went from 401 to 51 transactions for 200 000
 *    readings and from 0.50-0.63x to 0.71-0.86x of the limit. The acked
 *    variant keeps about 510 rows per transaction: at most 1 024 readings
 *    are in flight, so no more can be waiting.
 * Result (medians of 3-5 rounds, on the 2-core machine shared with three
 * other jobs: the lead re-measures on a quiet one): acked 0.57-0.60x of the
 * multi-row limit (0.52x before, same machine and hour), queued 0.71-0.86x
 * (0.63x before); acked 8.4-8.6 us CPU per event against the limit's 4.6;
 * 6.9-7.9x the naive WAL writer, the limit itself being 12-16x it.
 * Where the time goes now (node --cpu-prof, acked, 200 000 readings, share
 * of the main thread's busy time; the machine was shared, so shares, not
 * absolute times): garbage collection about 35 % (each reading's promises,
 * validated copy, queued row and parameter array live until its commit, so
 * they survive a scavenge), the binding's run() 12-15 % (handing the JSON
 * text and the window rows over), store.insert 7 %, service.ingest 7 %,
 * jsonBulkRows 5 %, validation 5 %. On the worker: SQLite inserting into
 * the table and its 3 indexes, which costs about 1 us more per row in
 * 500-row transactions than in 4 000-row ones (the json_each INSERT alone:
 * 5.2 against 4.2 us CPU per row). Acked stays below 0.7x of the limit because its
 * transactions are 8x smaller than the limit's and its main thread does
 * about 3 us of JavaScript per reading besides.
 *
 * WAL checkpoints (issue 19, a later session). The store's WAL was set to
 * checkpoint every 256 pages and to be cut back to 1 MiB; it now checkpoints
 * every 1 024 pages (SQLite's default is 1 000) into a file cut back to
 * 4 MiB (WAL_CHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES). The references above
 * use the same settings, so the limit moved with it. Printed against the
 * earlier settings in the same run:
 * - acked_vs_earlier_wal_settings: the acked full path (1.06-1.12x in two
 *   runs on a quiet machine);
 * - one_at_a_time_acked_commit_*: 5 000 readings, each awaited until
 *   committed (a sensor, or HTTP at concurrency 1). Mean 0.15 -> 0.12 ms,
 *   p99 1.75-1.84 -> 0.40-0.53 ms: a checkpoint now comes every ~1 000
 *   commits instead of every ~250, and copies each hot page of the table
 *   and its three indexes once for more commits. The commit that runs it
 *   copies more, so p99.9 went 2.9-3.2 -> 4.9-5.1 ms (max 5.6-7 ms either
 *   way): the goal "<= baseline" is missed there on purpose.
 * Tried first and reverted (see git history): PASSIVE checkpoints on a second
 * connection after commits, the writer's own as a backstop. Measured
 * interleaved in one process, 4 rounds: acked 105k events/s against 102k
 * with the writer checkpointing every 256 pages and 115k with these
 * settings; single commits slower (p50 0.12-0.14 ms against 0.09-0.10),
 * because the WAL kept growing past the file's cut-back size and the second
 * connection's fsyncs ran beside the commits; and an independent review
 * found two defects in it (the WAL past its bound on slow storage; the
 * second connection on a file replaced at the path).
 * Acked against the limit after this change: 0.65x and 0.73x in two runs
 * (0.64x median last session, the limit then with the earlier settings);
 * 0.70x and 0.72x in two more.
 * Also tried and not kept: encoding each row's part of the JSON text when it
 * arrives while the writer is busy (the main thread is idle about half of
 * the acked run, waiting on the worker), so that the next batch is only a
 * join of ready pieces. The worker's idle time between two statements fell
 * from 0.31 to 0.14 ms mean (instrumented at the binding, 200 000 readings),
 * but the acked rate did not move: same process, 12 alternating rounds,
 * median of per-pair ratios 1.007 (0.78-1.06).
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
import { Db, LightingStore, WAL_CHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES, WRITERS } from '../lib/store';
import { jsonBulkInsertSql, jsonBulkRows } from '../lib/store/json-bulk';
import type { SqlValue, Stmt } from '../lib/store/sqlite';
import { PgDb } from '../lib/store/pg';
import { NodeRedRuntime } from '../test/e2e/harness';
import { findPgBin, startPostgres, type PgCluster } from '../test/helpers/postgres';
import { mulberry32 } from '../test/helpers/prng';
import { percentile, runLoad, summarise } from './http-load';
import { benchFlows, ingestLoad, reading, type IngestTally } from './main-flow-rig';

const EVENTS = Number(process.argv[2] ?? 200_000);
const NAIVE_EVENTS = Number(process.argv[3] ?? 5_000);
const HTTP_REQUESTS = Number(process.argv[4] ?? 3_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const ONE_AT_A_TIME = 5_000;
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
    out.push({
      sensorId: `sensor-${i % ZONES}`,
      zone,
      ts: T0 + i * STEP_MS,
      lux: Math.round(rng() * 80_000) / 100,
      presence: rng() < 0.6,
      source: 'dali',
    });
  }
  return out;
}

interface Rate {
  perS: number;
  cpuUsPerEvent: number;
  /** References: time the main thread spends handing the rows to the binding (encoding + run()'s synchronous part). */
  mainThreadUsPerEvent?: number;
}

function rate(n: number, t0: number, c0: NodeJS.CpuUsage): Rate {
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return { perS: (n / ms) * 1000, cpuUsPerEvent: (cpu.user + cpu.system) / n };
}

/** A file with the store's schema (migrated by the store), opened by a plain connection in WAL mode, synchronous=NORMAL, as the store runs it. */
async function referenceDb(file: string): Promise<Db> {
  await (await LightingStore.open({ path: file })).close();
  const db = await Db.open(file);
  await db.get('PRAGMA journal_mode = WAL');
  await db.run('PRAGMA synchronous = NORMAL');
  await db.run(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  await db.run(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  return db;
}

/**
 * The physical limit: the store's schema, then the same rows (parameters
 * prepared beforehand) as one prepared 4 000-row INSERT per transaction.
 */
async function sqliteLimit(dir: string, data: SensorReading[], round: number): Promise<Rate> {
  const db = await referenceDb(path.join(dir, `limit-${round}.sqlite`));
  const ROWS = 4000;
  const one = '(?, ?, ?, ?, ?, ?, ?, ?)';
  const sql = (n: number): string =>
    `INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, presence, source, late, gateway) VALUES ${new Array<string>(n).fill(one).join(', ')}`;
  const chunks: SqlValue[][] = [];
  for (let at = 0; at < data.length; at += ROWS) {
    const params: SqlValue[] = [];
    for (const r of data.slice(at, at + ROWS)) params.push(r.sensorId, r.zone, r.ts, r.lux ?? null, r.presence ? 1 : 0, r.source, 0, '');
    chunks.push(params);
  }
  const full = await db.prepare(sql(ROWS));
  const tail = data.length % ROWS === 0 ? null : await db.prepare(sql(data.length % ROWS));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let mainMs = 0;
  for (const params of chunks) {
    await db.run('BEGIN IMMEDIATE');
    const t = performance.now();
    const run = (params.length === ROWS * 8 ? full : (tail as Stmt)).run(params);
    mainMs += performance.now() - t;
    await run;
    await db.run('COMMIT');
  }
  const r: Rate = { ...rate(data.length, t0, c0), mainThreadUsPerEvent: (mainMs * 1000) / data.length };
  const n = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM raw_sensor_events');
  if (n?.n !== data.length) throw new Error(`limit: stored ${String(n?.n)} of ${data.length}`);
  await full.finalize();
  await tail?.finalize();
  await db.close();
  return r;
}

/**
 * The second physical reference: the same rows, their parameters prepared
 * beforehand as for the limit, each 4 000 turned into one JSON text (the
 * store's encoding, json-bulk.ts: exact REAL values; timed, as the limit's
 * binding converts its parameters inside the timed run()) and written by the
 * same binding as one INSERT ... SELECT FROM json_each(?) per transaction,
 * nothing else.
 */
async function sqliteJsonEach(dir: string, data: SensorReading[], round: number): Promise<Rate> {
  const db = await referenceDb(path.join(dir, `json-${round}.sqlite`));
  const ROWS = 4000;
  const writer = WRITERS.raw_sensor_events;
  const realColumns = writer.jsonBulk?.realColumns ?? [];
  const real = writer.columns.map((c) => realColumns.includes(c));
  const chunks: SqlValue[][][] = [];
  for (let at = 0; at < data.length; at += ROWS) {
    chunks.push(
      data.slice(at, at + ROWS).map((r): SqlValue[] => [r.sensorId, r.zone, r.ts, r.lux ?? null, r.presence ? 1 : 0, r.source, 0, '']),
    );
  }
  const insert = await db.prepare(jsonBulkInsertSql(writer, realColumns));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let mainMs = 0;
  for (const rows of chunks) {
    await db.run('BEGIN IMMEDIATE');
    const t = performance.now();
    const text = jsonBulkRows(rows, real);
    if (text === null) throw new Error('json_each reference: rows not representable');
    const run = insert.run([text]);
    mainMs += performance.now() - t;
    await run;
    await db.run('COMMIT');
  }
  const r: Rate = { ...rate(data.length, t0, c0), mainThreadUsPerEvent: (mainMs * 1000) / data.length };
  const n = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM raw_sensor_events');
  if (n?.n !== data.length) throw new Error(`json_each reference: stored ${String(n?.n)} of ${data.length}`);
  await insert.finalize();
  await db.close();
  return r;
}

/**
 * The store at `file`; with `before`, its WAL set as before issue 19's
 * checkpoint change (checkpoint every 256 pages, the file cut back to 1 MiB):
 * the baseline of that change, measured in the same run.
 */
async function openStore(file: string, before: boolean): Promise<LightingStore> {
  const store = await LightingStore.open({ path: file });
  if (before) {
    await store.exclusive(async (db) => {
      await db.run('PRAGMA wal_autocheckpoint = 256');
      await db.run('PRAGMA journal_size_limit = 1048576');
    });
  }
  return store;
}

interface Latency {
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * One reading at a time, each awaited until committed (a sensor, or an HTTP
 * client at concurrency 1): each acknowledgement's latency, with the store's
 * WAL settings or (`before`) the earlier ones.
 */
async function oneAtATime(dir: string, data: SensorReading[], round: number, before: boolean): Promise<Latency> {
  const store = await openStore(path.join(dir, `one-${before ? 'before-' : ''}${round}.sqlite`), before);
  const ms: number[] = [];
  for (const r of data) {
    const t = performance.now();
    const ack = await store.insert('raw_sensor_events', r, { waitForCommit: true });
    ms.push(performance.now() - t);
    if (!ack.committed) throw new Error('one at a time: not committed');
  }
  await store.close();
  const { mean, p50, p99, max } = summarise(ms);
  return {
    mean,
    p50,
    p99,
    p999: percentile(
      [...ms].sort((a, b) => a - b),
      99.9,
    ),
    max,
  };
}

/** The full path with every reading acknowledged after its commit (waitForCommit), up to 1 024 in flight. */
async function batchedAcked(dir: string, data: SensorReading[], round: number, before = false): Promise<Rate & { transactions: number }> {
  const store = await openStore(path.join(dir, `acked-${before ? 'before-' : ''}${round}.sqlite`), before);
  let now = T0;
  const svc = new FeatureWindowService({ store, clock: () => now, tickMs: 60_000 });
  await svc.start();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const inFlight: Array<Promise<unknown>> = [];
  let chunk: Array<Promise<{ ack: { committed: boolean } | null }>> = [];
  let committed = 0;
  const settle = async (p: Promise<unknown>): Promise<void> => {
    const acks = (await p) as Array<{ ack: { committed: boolean } | null }>;
    for (const a of acks) if (a.ack?.committed === true) committed += 1;
  };
  for (let i = 0; i < data.length; i++) {
    const r = data[i] as SensorReading;
    now = r.ts;
    chunk.push(svc.ingest(r, { waitForCommit: true }));
    if (i % 1000 === 0) svc.tick();
    if (chunk.length === 512 || i === data.length - 1) {
      inFlight.push(Promise.all(chunk));
      chunk = [];
      // Readings arrive through I/O: the event loop turns between chunks.
      await new Promise((resolve) => setImmediate(resolve));
      if (inFlight.length >= 2) await settle(inFlight.shift() as Promise<unknown>);
    }
  }
  while (inFlight.length > 0) await settle(inFlight.shift() as Promise<unknown>);
  now += 10 * 60_000;
  svc.tick();
  await store.flush();
  const r = rate(data.length, t0, c0);
  if (committed !== data.length) throw new Error(`acked: ${committed} of ${data.length} acknowledged as committed`);
  const counts = await store.counts();
  if (counts.raw_sensor_events !== data.length) throw new Error(`acked: stored ${counts.raw_sensor_events} of ${data.length}`);
  const transactions = store.writerStats().transactions;
  await svc.stop();
  await store.close();
  return { ...r, transactions };
}

async function batched(
  dir: string,
  data: SensorReading[],
  url?: string,
): Promise<{ perS: number; cpuUsPerEvent: number; windows: number; transactions: number }> {
  const store = await LightingStore.open({ path: url ?? path.join(dir, `batched-${Math.random().toString(36).slice(2)}.sqlite`) });
  let now = T0;
  let windows = 0;
  const svc = new FeatureWindowService({ store, clock: () => now, tickMs: 60_000, onWindow: () => (windows += 1) });
  await svc.start();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < data.length; i++) {
    const r = data[i] as SensorReading;
    now = r.ts;
    await svc.ingest(r);
    if (i % 1000 === 0) svc.tick();
    if (i % 256 === 255) {
      // Readings arrive through I/O (serial port, HTTP, MQTT): the event loop turns between them.
      await new Promise((resolve) => setImmediate(resolve));
      // Sustained rate: the producer may not outrun the writer for ever (the queue is bounded);
      // it waits for the writer to catch up halfway, the writer going on meanwhile.
      if (store.writerStats().queuedRows > 20_000) {
        while (store.writerStats().queuedRows > 10_000) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  }
  now += 10 * 60_000;
  svc.tick();
  await store.flush();
  const r = rate(data.length, t0, c0);
  const stats = store.writerStats();
  const counts = await store.counts();
  if (counts.raw_sensor_events !== data.length) throw new Error(`stored ${counts.raw_sensor_events} of ${data.length}`);
  await svc.stop();
  await store.close();
  return { ...r, windows, transactions: stats.transactions };
}

/**
 * Same schema (migrated by the store), then a plain connection writing one
 * transaction per reading. `tuned`: WAL + synchronous=NORMAL like the store
 * (isolates the effect of batching); otherwise SQLite's defaults (rollback
 * journal, synchronous=FULL), what a naive port of the reference service gets.
 */
async function naive(dir: string, data: SensorReading[], tuned: boolean, round = 0): Promise<number> {
  const file = path.join(dir, `naive-${tuned ? 'wal' : 'default'}-${round}.sqlite`);
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
    const echo = await runLoad({
      baseUrl: rt.baseUrl,
      method: 'POST',
      path: () => '/echo',
      body: reading,
      concurrency: 16,
      total: HTTP_REQUESTS,
    });
    const ing = await ingestLoad(rt.baseUrl, 1000, 16, HTTP_REQUESTS, tally);
    const e = summarise(echo.latenciesMs);
    const l = summarise(ing.latenciesMs);
    emit('pg_http_echo_baseline', echo.requestsPerS, 'requests/s', {
      p50Ms: round(e.p50),
      p99Ms: round(e.p99),
      failed: echo.failed,
      ...common,
    });
    emit('pg_http_ingest_commit_latency_p50', l.p50, 'ms', { baselineEchoP50Ms: round(e.p50), ...common });
    emit('pg_http_ingest_commit_latency_p99', l.p99, 'ms', { baselineEchoP99Ms: round(e.p99), ...common });
    emit('pg_http_ingest', ing.requestsPerS, 'requests/s', { baselineEchoPerS: round(echo.requestsPerS), failed: ing.failed, ...common });
    const db = new PgDb(url, { poolSize: 1 });
    try {
      const ids = [...tally.acked];
      const found = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM raw_sensor_events WHERE id = ANY(?::bigint[])', [
        `{${ids.join(',')}}`,
      ]);
      emit('pg_http_acknowledged_rows_stored', found?.n ?? 0, 'rows', {
        acknowledged: ids.length,
        goal: ids.length,
        met: (found?.n ?? 0) === ids.length,
      });
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
    const env = {
      cpus: os.cpus().length,
      node: process.version,
      server: 'PostgreSQL (throwaway cluster, fsync on, synchronous_commit on)',
    };
    const naive = await naivePg(pg.database2('naive'), readings(NAIVE_EVENTS, 1));
    emit('pg_naive_one_insert_commit_per_event', naive, 'events/s', { events: NAIVE_EVENTS, ...env });
    const b = await batched('', readings(EVENTS, 1), pg.database2('batched'));
    emit('pg_batched_store_with_windows', b.perS, 'events/s', {
      events: EVENTS,
      windows: b.windows,
      transactions: b.transactions,
      baselineNaive: round(naive),
      ...env,
    });
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

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[v.length >> 1] as number;
}

async function sqlite(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  try {
    const env = { cpus: os.cpus().length, node: process.version, rounds: ROUNDS };
    const naiveDefault = await naive(dir, readings(Math.min(NAIVE_EVENTS, 2000), 1), false);
    emit('naive_one_transaction_per_event_sqlite_defaults', naiveDefault, 'events/s', {
      events: Math.min(NAIVE_EVENTS, 2000),
      pragmas: 'journal_mode=DELETE synchronous=FULL',
      ...env,
    });
    const data = readings(EVENTS, 1);
    const naiveData = readings(NAIVE_EVENTS, 1);
    const rounds: Array<{
      naive: number;
      limit: Rate;
      json: Rate;
      full: Rate & { windows: number; transactions: number };
      acked: Rate & { transactions: number };
      ackedBefore: Rate & { transactions: number };
      one: { now: Latency; before: Latency };
    }> = [];
    const oneData = readings(ONE_AT_A_TIME, 2);
    for (let round = 0; round < ROUNDS; round++) {
      const n = await naive(dir, naiveData, true, round);
      const limit = await sqliteLimit(dir, data, round);
      const json = await sqliteJsonEach(dir, data, round);
      const full = await batched(dir, data);
      const ackedBefore = await batchedAcked(dir, data, round, true);
      const acked = await batchedAcked(dir, data, round);
      const oneBefore = await oneAtATime(dir, oneData, round, true);
      const oneNow = await oneAtATime(dir, oneData, round, false);
      rounds.push({ naive: n, limit, json, full, acked, ackedBefore, one: { now: oneNow, before: oneBefore } });
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true });
    }
    const naiveWal = median(rounds.map((r) => r.naive));
    const limit = median(rounds.map((r) => r.limit.perS));
    const jsonEach = median(rounds.map((r) => r.json.perS));
    const best = (r: (typeof rounds)[number]): number => Math.max(r.limit.perS, r.json.perS);
    const full = median(rounds.map((r) => r.full.perS));
    const acked = median(rounds.map((r) => r.acked.perS));
    const cpu = (pick: (r: (typeof rounds)[number]) => Rate): number => round(median(rounds.map((r) => pick(r).cpuUsPerEvent)));
    emit('naive_one_transaction_per_event_wal_normal', naiveWal, 'events/s', {
      events: NAIVE_EVENTS,
      pragmas: 'journal_mode=WAL synchronous=NORMAL',
      ...env,
    });
    emit('sqlite_limit_multirow_insert', limit, 'events/s', {
      events: EVENTS,
      rowsPerInsertAndTransaction: 4000,
      cpuUsPerEvent: cpu((r) => r.limit),
      mainThreadUsPerEvent: round(median(rounds.map((r) => r.limit.mainThreadUsPerEvent ?? 0))),
      pragmas: 'journal_mode=WAL synchronous=NORMAL',
      ...env,
    });
    emit('sqlite_limit_json_each_insert', jsonEach, 'events/s', {
      events: EVENTS,
      rowsPerInsertAndTransaction: 4000,
      cpuUsPerEvent: cpu((r) => r.json),
      mainThreadUsPerEvent: round(median(rounds.map((r) => r.json.mainThreadUsPerEvent ?? 0))),
      baselineLimit: round(limit),
      pragmas: 'journal_mode=WAL synchronous=NORMAL',
      ...env,
    });
    emit('batched_store_with_windows', full, 'events/s', {
      events: EVENTS,
      windows: rounds[0]?.full.windows,
      transactions: rounds[0]?.full.transactions,
      cpuUsPerEvent: cpu((r) => r.full),
      baselineLimit: round(limit),
      ...env,
    });
    emit('batched_store_with_windows_acked', acked, 'events/s', {
      events: EVENTS,
      transactions: rounds[0]?.acked.transactions,
      cpuUsPerEvent: cpu((r) => r.acked),
      baselineLimit: round(limit),
      ...env,
    });
    const gain = median(rounds.map((r) => r.acked.perS / r.ackedBefore.perS));
    emit('acked_vs_earlier_wal_settings', gain, 'x', {
      perS: round(acked),
      baselineBeforePerS: round(median(rounds.map((r) => r.ackedBefore.perS))),
      cpuUsPerEvent: cpu((r) => r.acked),
      baselineCpuUsPerEvent: cpu((r) => r.ackedBefore),
      wal: `checkpoint every ${WAL_CHECKPOINT_PAGES} pages, file cut to ${WAL_SIZE_LIMIT_BYTES} bytes`,
      baseline: 'the same acked full path with the earlier WAL settings (256 pages, 1 MiB)',
      goal: '>= 1',
      met: gain >= 1,
    });
    const lat = (pick: (r: (typeof rounds)[number]) => Latency, key: keyof Latency): number =>
      round(median(rounds.map((r) => pick(r)[key])));
    for (const key of ['mean', 'p99', 'p999', 'max'] as const) {
      const nowMs = lat((r) => r.one.now, key);
      const beforeMs = lat((r) => r.one.before, key);
      emit(`one_at_a_time_acked_commit_${key}`, nowMs, 'ms', {
        events: ONE_AT_A_TIME,
        baselineBeforeMs: beforeMs,
        baseline: 'the same store with the earlier WAL settings (256 pages, 1 MiB)',
        ...(key === 'mean' ? { p50Ms: lat((r) => r.one.now, 'p50'), baselineP50Ms: lat((r) => r.one.before, 'p50') } : {}),
        goal: `<= baseline (${beforeMs} ms)`,
        met: nowMs <= beforeMs,
      });
    }
    const ofLimit = median(rounds.map((r) => r.acked.perS / r.limit.perS));
    const ofLimitQueued = median(rounds.map((r) => r.full.perS / r.limit.perS));
    const vsNaive = median(rounds.map((r) => r.acked.perS / r.naive));
    const limitVsNaive = median(rounds.map((r) => r.limit.perS / r.naive));
    const ofBest = median(rounds.map((r) => r.acked.perS / best(r)));
    emit('fraction_of_sqlite_limit', ofLimit, 'x', {
      variant: 'acked',
      goal: 0.7,
      met: ofLimit >= 0.7,
      baselineLimit: round(limit),
      perS: round(acked),
    });
    emit('fraction_of_sqlite_limit', ofLimitQueued, 'x', {
      variant: 'queued',
      goal: 0.7,
      met: ofLimitQueued >= 0.7,
      baselineLimit: round(limit),
      perS: round(full),
    });
    emit('fraction_of_best_physical_reference', ofBest, 'x', {
      variant: 'acked',
      reference: 'the better of sqlite_limit_multirow_insert and sqlite_limit_json_each_insert, per round',
      goal: 0.7,
      met: ofBest >= 0.7,
      baselineBest: round(median(rounds.map(best))),
      perS: round(acked),
    });
    emit('speedup_vs_naive_sqlite_defaults', acked / naiveDefault, 'x', { variant: 'acked', goal: 20, met: acked / naiveDefault >= 20 });
    emit('speedup_vs_naive_wal_normal', vsNaive, 'x', {
      variant: 'acked',
      goal: 20,
      met: vsNaive >= 20,
      baselineNaive: round(naiveWal),
      limitOverNaive: round(limitVsNaive),
      ...(vsNaive >= 20
        ? {}
        : {
            why:
              limitVsNaive < 20
                ? `the SQLite limit itself is only ${round(limitVsNaive)}x the naive WAL writer here: 20x would need the full path above the limit`
                : `the full path is ${round(ofLimit)}x the limit`,
          }),
    });
    emit('target_20000_events_per_s', acked, 'events/s', { variant: 'acked', goal: 20_000, met: acked >= 20_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
