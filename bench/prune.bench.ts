/**
 * Retention pruning of 1 million expired raw events while sensor readings keep
 * arriving (5 000 readings/s, each inserted with waitForCommit): how long the
 * prune takes and how long ingestion stalls meanwhile (insert -> commit
 * latency, event-loop lag), against the same ingestion without a prune, and
 * against a naive prune measured in the same run (one DELETE of every expired
 * row in one statement).
 *
 * Run: node dist/bench/prune.bench.js [rows=1000000] [readingsPerS=5000]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DAY_MS, LightingStore, prune, type PruneReport } from '../lib/store';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RATE = Number(process.argv[3] ?? 5000);
const NOW = 1_760_000_000_000;
const FLUSH_MS = 20;

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'prune', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

interface IngestStats {
  readings: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  loopLagMaxMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number);
}

/** Inserts readings at RATE/s (every 10 ms a burst) with waitForCommit until `until` resolves. */
async function ingestWhile(store: LightingStore, until: Promise<unknown>): Promise<IngestStats> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  let done = false;
  void until.finally(() => (done = true));
  let lagMax = 0;
  let expected = performance.now() + 5;
  const lagTimer = setInterval(() => {
    const t = performance.now();
    lagMax = Math.max(lagMax, t - expected);
    expected = t + 5;
  }, 5);
  let seq = 0;
  const perTick = Math.max(1, Math.round(RATE / 100));
  while (!done) {
    for (let i = 0; i < perTick; i++) {
      const t0 = performance.now();
      const ts = NOW + seq++;
      pending.push(
        store
          .insert(
            'raw_sensor_events',
            { sensorId: 'live', zone: `z${seq % 8}`, ts, lux: seq % 1000, source: 'bench' },
            { waitForCommit: true },
          )
          .then(() => {
            latencies.push(performance.now() - t0);
          }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(pending);
  clearInterval(lagTimer);
  latencies.sort((a, b) => a - b);
  return {
    readings: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1] ?? 0,
    loopLagMaxMs: lagMax,
  };
}

async function seeded(file: string): Promise<LightingStore> {
  const store = await LightingStore.open({ path: file, flushIntervalMs: FLUSH_MS });
  const old = NOW - 400 * DAY_MS;
  await store.exclusive((db) =>
    db.run(
      `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
       INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, presence, source, late)
       SELECT 'sensor-' || (i % 16), 'zone-' || (i % 8), ? + i * 10, (i % 997) * 1.5, i % 2, 'dali', 0 FROM c`,
      [ROWS, old],
    ),
  );
  await store.exclusive((db) => db.run('PRAGMA wal_checkpoint(TRUNCATE)'));
  return store;
}

function report(label: string, s: IngestStats): void {
  emit(`${label}_commit_latency_p50`, s.p50Ms, 'ms', { readings: s.readings, flushIntervalMs: FLUSH_MS });
  emit(`${label}_commit_latency_p99`, s.p99Ms, 'ms');
  emit(`${label}_commit_latency_max`, s.maxMs, 'ms');
  emit(`${label}_event_loop_lag_max`, s.loopLagMaxMs, 'ms');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prune-'));
  try {
    // Batched prune while ingesting, with the no-prune baseline first.
    const store = await seeded(path.join(dir, 'batched.sqlite'));
    report('ingest_without_prune', await ingestWhile(store, new Promise((r) => setTimeout(r, 3000))));
    let result: PruneReport | undefined;
    const pruning = prune(store, { now: NOW, batchRows: 500 }).then((r) => (result = r));
    const during = await ingestWhile(store, pruning);
    const r = result as PruneReport;
    emit('batched_prune_rows', r.tables.raw_sensor_events.deleted, 'rows', { batchRows: 500, batches: r.batches });
    emit('batched_prune_duration', r.durationMs, 'ms');
    emit('batched_prune_rows_per_s', (r.deleted / r.durationMs) * 1000, 'rows/s');
    emit('batched_prune_longest_batch', r.longestBatchMs, 'ms', { note: 'longest time one batch held the connection' });
    report('ingest_during_batched_prune', during);
    emit('longest_ingest_stall_during_batched_prune', during.maxMs, 'ms', {
      note: 'worst insert -> commit latency of a reading while the prune ran (includes the flush interval)',
      flushIntervalMs: FLUSH_MS,
      target: 50 + FLUSH_MS,
      met: during.maxMs <= 50 + FLUSH_MS,
    });
    await store.close();

    // Naive baseline: one DELETE statement for everything expired.
    const naiveStore = await seeded(path.join(dir, 'naive.sqlite'));
    const t0 = performance.now();
    const naive = naiveStore.exclusive((db) => db.run('DELETE FROM raw_sensor_events WHERE ts < ?', [NOW - 30 * DAY_MS]));
    const naiveDuring = await ingestWhile(naiveStore, naive);
    const deleted = (await naive).changes;
    emit('naive_prune_rows', deleted, 'rows');
    emit('naive_prune_duration', performance.now() - t0, 'ms');
    report('ingest_during_naive_prune', naiveDuring);
    emit('longest_ingest_stall_during_naive_prune', naiveDuring.maxMs, 'ms');
    await naiveStore.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
