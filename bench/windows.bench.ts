/**
 * Window computation for 1 million readings (20 zones, 5-minute windows, 10 %
 * of readings out of order within the grace): the incremental engine (one
 * O(1) update per reading, statistics ready when a window closes), against
 * the reference service's approach measured in the same run: readings stored
 * in SQLite and each window recomputed by re-scanning the table (one
 * aggregate query per window boundary, GROUP BY zone, through the (ts) index).
 * The re-scan baseline runs on the first `baselineEvents` readings.
 *
 * Headline = cold runs: the engine's first run in a fresh process, JIT not yet
 * warmed (what a restarted service sees), since the SQLite baseline is native
 * code with nothing to warm. engine_events_per_s is the 1M run, the first in
 * this process; engine_same_events_per_s and speedup_vs_rescan come from a
 * child process that runs the engine once, cold, on the baseline's readings
 * (median of BENCH_ROUNDS=3 such processes).
 * The earlier figures (engine re-run in this process after the 1M run, warm)
 * stay as engine_same_events_per_s_warm and speedup_vs_rescan_warm.
 * Goals: engine_events_per_s >= 1 000 000 events/s cold; speedup_vs_rescan >= 2x cold.
 *
 * Where a cold run's time goes (200 000 readings; CPU profiles of the child,
 * the tier of each hot function sampled with --allow-natives-syntax, and
 * --trace-opt/--trace-deopt): the first ~1 500 readings run in the
 * interpreter and baseline code (~0.8 us each), ingest() is then compiled by
 * the optimising tier on a background thread and installed after ~4 000 to
 * 14 000 readings (as soon as that thread gets a core); from there a reading
 * costs ~0.13 us. What was removed from
 * the cold path (each found in a trace, same answers bit for bit, pinned by
 * the engine's transcript test):
 * - the global Buffer is a getter: Buffer.isBuffer() in the validator called
 *   it for every reading, even in optimised code (now imported from node:buffer,
 *   and `instanceof Buffer` without the call);
 * - the first window close wrote a zone's closedUntil for the first time, and
 *   V8, which had taken the field for a constant, discarded the optimised
 *   ingest() (one more compile, thousands more readings in baseline code);
 *   the second close did the same to summarisePresence (carried state null
 *   until then);
 * - validation called a function per field and built the copy by adding
 *   properties; now one function, one object literal per shape;
 * - the child generated the full 1M readings to keep 200 000: V8 was still
 *   sweeping the rest during the timed run; it now generates only the
 *   readings the baseline uses (checked by fingerprint).
 * Before and after this work, on this machine shared with other jobs, three
 * sets of 3 bench runs each, before and after interleaved (median of each set):
 * speedup_vs_rescan Node 20 0.79 / 1.08 / 0.95x -> 1.34 / 2.03 / 1.77x,
 * Node 22 1.40 / 1.22 / 1.73x -> 1.56 / 1.99 / 2.01x (re-scan 90-140 ms,
 * cold run 105-125 ms -> 55-75 ms on Node 20, 45-75 ms on Node 22); the
 * warm ratio 1.9-3.0x -> 2.4-4.1x (Node 20), 2.4-2.8x -> 3.2-3.8x (Node 22).
 * The lower figures come from the busier sets (load 3 to 5 on 2 cores): the
 * engine's thread is then on a CPU for ~42-50 ms of a 60-80 ms cold run (the
 * same run in a harness reading /proc/thread-self/schedstat, +-4 ms) and
 * waits for a core the rest of the time, shared with the other jobs and with
 * V8's background compiler and GC threads, while the re-scan is native code
 * with nothing to warm. So the 2x cold goal is about reached in the quieter
 * sets (2.03x, 1.99x, 2.01x) and missed in the busier ones. With the ids
 * checked inline (the last change), a quiet set (load < 1.5): Node 20 cold
 * 49-55 ms, 1.82x (runs 1.77-2.24x); Node 22 55-61 ms, 2.32x (1.78-2.45x);
 * before, in the same set, 1.13x and 1.58x. The first Intl.DateTimeFormat of a process costs ~12 ms of ICU
 * set-up: a UTC engine (this bench) needs none, an engine in another zone
 * pays it once, at construction.
 *
 * Run: node dist/bench/windows.bench.js [events=1000000] [baselineEvents=200000]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SensorReading } from '../lib/contracts';
import { FeatureWindowEngine } from '../lib/features';
import { LightingStore } from '../lib/store';
import { mulberry32 } from '../test/helpers/prng';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const BASELINE_EVENTS = Math.min(EVENTS, Number(process.argv[3] ?? 200_000));
const ZONES = 20;
const WINDOW_MS = 300_000;
const T0 = 1_760_000_100_000 - (1_760_000_100_000 % WINDOW_MS);
const STEP_MS = 50;
/** Longest arrival delay of an out-of-order reading, ms. */
const MAX_DELAY_MS = 30_000;
const EVENTS_GOAL = 1_000_000;
const SPEEDUP_GOAL = 2;
const COLD_CHILD = process.env.WINDOWS_BENCH_COLD_CHILD === '1';
const COLD_RUNS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'windows', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

interface Arrival {
  reading: SensorReading;
  at: number;
}

function generate(n: number): Arrival[] {
  const rng = mulberry32(77);
  const out: Arrival[] = new Array<Arrival>(n);
  for (let i = 0; i < n; i++) {
    const ts = T0 + i * STEP_MS;
    const reading: SensorReading = { sensorId: `s${i % ZONES}`, zone: `zone-${i % ZONES}`, ts, source: 'dali' };
    if (rng() < 0.9) reading.lux = Math.round(rng() * 100_000) / 100;
    if (rng() < 0.5 || reading.lux === undefined) reading.presence = rng() < 0.5;
    out[i] = { reading, at: rng() < 0.1 ? ts + Math.floor(rng() * MAX_DELAY_MS) : ts };
  }
  return out.sort((a, b) => a.at - b.at);
}

/** A number that differs when two runs are not fed the same readings in the same order. */
function fingerprint(data: Arrival[]): number {
  let f = 0;
  for (let i = 0; i < data.length; i++) {
    const { reading: r, at } = data[i] as Arrival;
    f = (f * 31 + at - r.ts + (r.lux ?? -1) + (r.presence === undefined ? 7 : r.presence ? 3 : 5) + (i % 997)) % 1e12;
  }
  return f;
}

function engineRun(data: Arrival[]): { ms: number; windows: number } {
  const engine = new FeatureWindowEngine({ windowMs: WINDOW_MS, graceMs: 60_000, timeZone: 'UTC' });
  let windows = 0;
  const t0 = performance.now();
  for (let i = 0; i < data.length; i++) {
    const a = data[i] as Arrival;
    engine.ingest(a.reading, a.at);
    if ((i & 63) === 0) windows += engine.advance(a.at).length;
  }
  windows += engine.advance(Number.MAX_SAFE_INTEGER).length;
  return { ms: performance.now() - t0, windows };
}

async function rescanRun(dir: string, data: Arrival[]): Promise<{ ms: number; windows: number }> {
  const store = await LightingStore.open({ path: path.join(dir, 'rescan.sqlite'), flushMaxRows: 5000 });
  for (let i = 0; i < data.length; i++) {
    const a = data[i] as Arrival;
    await store.insert('raw_sensor_events', a.reading);
    if (i % 5000 === 4999) await store.flush();
  }
  await store.flush();
  const last = data.reduce((m, a) => Math.max(m, a.reading.ts), 0);
  let windows = 0;
  const t0 = performance.now();
  await store.exclusive(async (db) => {
    const q = await db.prepare(
      `SELECT zone, COUNT(*) AS n, AVG(lux) AS mean, MIN(lux) AS min, MAX(lux) AS max,
              AVG(lux * lux) AS sq, AVG(presence) AS presence
       FROM raw_sensor_events WHERE ts >= ? AND ts < ? GROUP BY zone`,
    );
    for (let start = T0; start <= last; start += WINDOW_MS) {
      windows += (await q.all([start, start + WINDOW_MS])).length;
    }
    await q.finalize();
  });
  const ms = performance.now() - t0;
  await store.close();
  return { ms, windows };
}

/** The engine's first run in a fresh process on the baseline's readings (prints {ms, windows}). */
function coldChildRun(): void {
  // The first BASELINE_EVENTS arrivals of the full stream come from its first
  // BASELINE_EVENTS + MAX_DELAY_MS / STEP_MS readings (a later one arrives after all of them;
  // the generator draws each reading's numbers in turn): the same readings as the baseline's
  // without generating the rest, whose garbage V8 would still be sweeping during the run.
  const needed = Math.min(EVENTS, BASELINE_EVENTS + MAX_DELAY_MS / STEP_MS + 1);
  const data = generate(needed).slice(0, BASELINE_EVENTS);
  const fed = fingerprint(data);
  // The generator's leftovers are collected before the clock starts (the baseline's inserts are
  // not timed either), so the run measures the engine, not the generator's GC debt.
  (globalThis as { gc?: () => void }).gc?.();
  const r = engineRun(data);
  process.stdout.write(`${JSON.stringify({ ...r, fed })}\n`);
}

function coldRunInChild(): { ms: number; windows: number; fed: number } {
  const res = spawnSync(process.execPath, ['--expose-gc', __filename, String(EVENTS), String(BASELINE_EVENTS)], {
    env: { ...process.env, WINDOWS_BENCH_COLD_CHILD: '1' },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`cold child run failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim()) as { ms: number; windows: number; fed: number };
}

async function main(): Promise<void> {
  if (COLD_CHILD) {
    coldChildRun();
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-windows-'));
  try {
    const data = generate(EVENTS);
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const e = engineRun(data);
    const heapDelta = process.memoryUsage().heapUsed - heap0;
    const perS = (EVENTS / e.ms) * 1000;
    emit('engine_events_per_s', perS, 'events/s', {
      events: EVENTS,
      windows: e.windows,
      ms: Math.round(e.ms),
      zones: ZONES,
      run: 'cold',
      goal: `>= ${EVENTS_GOAL}`,
      met: perS >= EVENTS_GOAL,
    });
    emit('engine_total_ms', e.ms, 'ms', { events: EVENTS });
    emit('engine_heap_delta', heapDelta / 1048576, 'MiB', { note: 'heap after minus before the run, without forced GC' });
    const baseline = data.slice(0, BASELINE_EVENTS);
    const warm = engineRun(baseline);
    // Median of COLD_RUNS fresh processes: one cold run is noisy on a shared machine.
    const colds = Array.from({ length: COLD_RUNS }, () => coldRunInChild()).sort((a, b) => a.ms - b.ms);
    const cold = colds[colds.length >> 1] as { ms: number; windows: number; fed: number };
    if (colds.some((c) => c.fed !== fingerprint(baseline))) throw new Error('the cold runs were not fed the baseline readings');
    const r = await rescanRun(dir, baseline);
    emit('rescan_baseline_events_per_s', (BASELINE_EVENTS / r.ms) * 1000, 'events/s', {
      events: BASELINE_EVENTS,
      windows: r.windows,
      ms: Math.round(r.ms),
      note: 'aggregation queries only; inserting the rows is not counted',
    });
    if (cold.windows !== r.windows || warm.windows !== r.windows) {
      process.stderr.write(`warning: window counts differ (engine cold ${cold.windows}, warm ${warm.windows}, rescan ${r.windows})\n`);
    }
    emit('engine_same_events_per_s', (BASELINE_EVENTS / cold.ms) * 1000, 'events/s', {
      events: BASELINE_EVENTS,
      windows: cold.windows,
      run: 'cold',
      coldRunsMs: colds.map((c) => Math.round(c.ms)),
      note: `first engine run in a fresh process, median of ${COLD_RUNS}`,
    });
    emit('speedup_vs_rescan', r.ms / cold.ms, 'x', {
      events: BASELINE_EVENTS,
      run: 'cold',
      goal: `>= ${SPEEDUP_GOAL}x`,
      met: r.ms / cold.ms >= SPEEDUP_GOAL,
    });
    emit('engine_same_events_per_s_warm', (BASELINE_EVENTS / warm.ms) * 1000, 'events/s', {
      events: BASELINE_EVENTS,
      windows: warm.windows,
      run: 'warm',
      note: 'engine re-run in this process after the 1M run (the figure reported as engine_same_events_per_s before)',
    });
    emit('speedup_vs_rescan_warm', r.ms / warm.ms, 'x', { events: BASELINE_EVENTS, run: 'warm' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
