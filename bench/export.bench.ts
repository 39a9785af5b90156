/**
 * Export in constant memory: bin/export's exportTable over 10 million raw
 * events (CSV to /dev/null through a real file stream, so backpressure
 * applies). Two heap high-water marks: heapUsed sampled every 5 ms (includes
 * garbage not yet collected, so it depends on V8's GC pacing) and the live
 * heap (heapUsed right after a forced GC, every 100 ms; needs --expose-gc).
 * Neither may grow with the table. Baseline in the same run: the same export of 100 000
 * rows (a 100x smaller table) - the two high-water marks should be about
 * equal - and the heap a naive export (SELECT * into memory) needs for those
 * 100 000 rows. Goal (with met): the live heap high-water mark of the big
 * export exceeds the small one's by less than the naive export needs for the
 * small table alone.
 *
 * Run: node --expose-gc dist/bench/export.bench.js [rows=10000000]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Db, LightingStore, exportTable } from '../lib/store';

const ROWS = Number(process.argv[2] ?? 10_000_000);
const SMALL = Math.min(100_000, ROWS);

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'export', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mib = (n: number): number => n / 1048576;

async function seed(file: string, rows: number): Promise<void> {
  const store = await LightingStore.open({ path: file });
  // The export reads by rowid: the time indexes only slow the seeding down.
  await store.exclusive(async (db) => {
    await db.run('DROP INDEX raw_sensor_events_ts');
    await db.run('DROP INDEX raw_sensor_events_zone_ts');
    await db.run(
      `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
       INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, presence, source, late)
       SELECT 'sensor-' || (i % 16), 'zone-' || (i % 8), 1700000000000 + i * 100, (i % 997) * 1.5, i % 2, 'dali', 0 FROM c`,
      [rows],
    );
  });
  await store.close();
}

interface Measured {
  rows: number;
  bytes: number;
  ms: number;
  heapHighMiB: number;
  liveHighMiB: number;
  heapBaseMiB: number;
  rssHighMiB: number;
}

async function measure(file: string): Promise<Measured> {
  gc();
  const base = process.memoryUsage();
  let heapHigh = base.heapUsed;
  let liveHigh = base.heapUsed;
  let rssHigh = base.rss;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    heapHigh = Math.max(heapHigh, m.heapUsed);
    rssHigh = Math.max(rssHigh, m.rss);
  }, 5);
  const live = setInterval(() => {
    gc();
    liveHigh = Math.max(liveHigh, process.memoryUsage().heapUsed);
  }, 100);
  const out = fs.createWriteStream('/dev/null');
  const t0 = performance.now();
  const r = await exportTable({ dbPath: file, table: 'raw_sensor_events', format: 'csv', out });
  await new Promise<void>((resolve) => out.end(resolve));
  const ms = performance.now() - t0;
  clearInterval(sampler);
  clearInterval(live);
  return {
    rows: r.rows,
    bytes: r.bytes,
    ms,
    heapHighMiB: mib(heapHigh),
    liveHighMiB: mib(liveHigh),
    heapBaseMiB: mib(base.heapUsed),
    rssHighMiB: mib(rssHigh),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-export-'));
  try {
    const small = path.join(dir, 'small.sqlite');
    const big = path.join(dir, 'big.sqlite');
    await seed(small, SMALL);
    const s = await measure(small);
    emit('heap_high_water_small_table', s.heapHighMiB, 'MiB', { rows: s.rows, heapBeforeMiB: Math.round(s.heapBaseMiB * 10) / 10 });
    emit('live_heap_high_water_small_table', s.liveHighMiB, 'MiB', { rows: s.rows });

    // What holding the rows would cost (naive export), for scale.
    gc();
    const h0 = process.memoryUsage().heapUsed;
    const db = await Db.open(small, { readOnly: true });
    const all = await db.all('SELECT * FROM raw_sensor_events');
    gc();
    const naiveMiB = mib(process.memoryUsage().heapUsed - h0);
    emit('naive_select_all_heap_small_table', naiveMiB, 'MiB', { rows: all.length });
    all.length = 0;
    await db.close();

    const t0 = performance.now();
    await seed(big, ROWS);
    const seedMs = performance.now() - t0;
    const b = await measure(big);
    emit('rows_exported', b.rows, 'rows', { bytes: b.bytes, seedMs: Math.round(seedMs) });
    emit('export_rows_per_s', (b.rows / b.ms) * 1000, 'rows/s', { ms: Math.round(b.ms) });
    emit('heap_high_water_big_table', b.heapHighMiB, 'MiB', { rows: b.rows, heapBeforeMiB: Math.round(b.heapBaseMiB * 10) / 10 });
    emit('live_heap_high_water_big_table', b.liveHighMiB, 'MiB', { rows: b.rows });
    emit('rss_high_water_big_table', b.rssHighMiB, 'MiB', { rows: b.rows, note: 'includes SQLite page cache' });
    const growth = b.liveHighMiB - s.liveHighMiB;
    emit('live_heap_high_water_growth_big_vs_small', growth, 'MiB', {
      rowsRatio: b.rows / s.rows,
      note: 'constant memory: about 0 although the table is much larger',
      goal: `< ${Math.round(naiveMiB * 100) / 100} MiB (naive_select_all_heap_small_table: holding the small table's rows)`,
      met: growth < naiveMiB,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
