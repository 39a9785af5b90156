/**
 * Memory under sustained load: does the main flow leak? The real main flow
 * (flows/smart-lighting.json, rate limits off as in http-api.bench) in a real
 * Node-RED runtime, driven round after round, with the V8 heap measured after
 * a full garbage collection at the end of each round (a bench-only tab:
 * GET /bench/heap -> function node that runs gc() and reads
 * v8.getHeapStatistics()), next to the process RSS.
 *
 * - baseline rounds: only the bare POST /echo endpoint, same runtime, same run;
 * - system rounds: POST /ingest/sensor (201 after the commit) plus, per round,
 *   POST /admin/aggregate-now, GET /telemetry?limit=50, GET /healthz and
 *   POST /predict.
 *
 * The flow is deployed with two changes, reported in the output: rate limits
 * off, and feature windows of 6 s instead of 5 min, so that windows close
 * (and are decided, gated and sent to the simulated gear) all through the
 * run. Readings of an open window are kept until it closes; with 5 min
 * windows a short run would measure that as growth.
 *
 * Growth is the least-squares slope of the post-GC heap over the second half
 * of each phase (the first half is warm-up: caches, JIT, SQLite page cache),
 * in KiB per 1000 requests. A leak of one small object per request shows as
 * tens of KiB per 1000 requests and does not level off; target: under
 * 16 KiB per 1000 requests, i.e. under 16 MiB per million requests.
 *
 * Run: node dist/bench/http-soak.bench.js [rounds=12] [requestsPerRound=2000]
 * (HEAP_SNAPSHOT_DIR=dir also writes heap snapshots after the first and last
 * system rounds, for a diff by constructor in Chrome DevTools.)
 */
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeRedRuntime } from '../test/e2e/harness';
import { runLoad, type LoadResult } from './http-load';
import { benchFlows, type FlowNode, ingestLoad, type IngestTally, query, reading, rssKb } from './main-flow-rig';

const ROUNDS = Number(process.argv[2] ?? 12);
const PER_ROUND = Number(process.argv[3] ?? 2000);
const CONCURRENCY = 8;
const TARGET_KIB_PER_1000 = 16;
const WINDOW_MINUTES = 0.1;

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'http-soak', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

/** GET /bench/heap: a full GC, then the heap in use (bench tab only; builtin modules through the function node's libs). */
const HEAP_TAB: FlowNode[] = [
  { id: 'bench-heap-tab', type: 'tab', label: 'bench: heap probe', disabled: false, info: '' },
  {
    id: 'bench-heap-in',
    type: 'http in',
    z: 'bench-heap-tab',
    name: 'GET /bench/heap',
    url: '/bench/heap',
    method: 'get',
    upload: false,
    swaggerDoc: '',
    x: 140,
    y: 60,
    wires: [['bench-heap-fn']],
  },
  {
    id: 'bench-heap-fn',
    type: 'function',
    z: 'bench-heap-tab',
    name: 'gc + heap',
    func: "v8.setFlagsFromString('--expose-gc');\nconst gc = vm.runInNewContext('gc');\ngc();\ngc();\nconst h = v8.getHeapStatistics();\nmsg.payload = { usedHeapSize: h.used_heap_size, totalHeapSize: h.total_heap_size, external: h.external_memory };\nif (msg.req.query.snapshot) msg.payload.snapshot = v8.writeHeapSnapshot(String(msg.req.query.snapshot));\nreturn msg;",
    outputs: 1,
    libs: [
      { var: 'v8', module: 'v8' },
      { var: 'vm', module: 'vm' },
    ],
    x: 340,
    y: 60,
    wires: [['bench-heap-out']],
  },
  { id: 'bench-heap-out', type: 'http response', z: 'bench-heap-tab', name: '', statusCode: '', headers: {}, x: 520, y: 60, wires: [] },
];

const mib = (s: Sample): Record<string, number> => ({
  heapTotalMiB: Math.round(s.heapTotalKiB / 102.4) / 10,
  externalMiB: Math.round(s.externalKiB / 102.4) / 10,
  rssMiB: Math.round(s.rssKiB / 102.4) / 10,
});

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface Sample {
  requests: number;
  heapKiB: number;
  /** V8 heap reserved (used + free), after the GC. */
  heapTotalKiB: number;
  /** Memory of Buffers and other objects outside the V8 heap that it tracks. */
  externalKiB: number;
  rssKiB: number;
}

async function main(): Promise<void> {
  const { flows: mainFlows, unlimitedGuards } = benchFlows();
  // 6 s feature windows (1 s grace) instead of 5 min: windows close and are decided throughout the
  // run, so an open window's readings (released when it closes) do not read as growth.
  const flows = mainFlows.map((n) => (n.type === 'feature-window' ? { ...n, windowMinutes: WINDOW_MINUTES, graceS: 1 } : n));
  const env = { ADMIN_TOKEN: crypto.randomBytes(16).toString('hex'), OPENAI_API_KEY: '', DB_URL: '' };
  const started = performance.now();
  const rt = await NodeRedRuntime.start({ flows: [...flows, ...HEAP_TAB], env, settings: { functionExternalModules: true } });
  const dbFile = path.join(rt.userDir, 'smart-lighting.db');
  const pid = rt.proc.pid as number;
  const common = { cpus: os.cpus().length, node: process.version, nodeRed: rt.nodeRedVersion };
  let failed = 0;
  let sent = 0;
  const tally: IngestTally = { created: 0, acked: new Set<number>() };
  const count = (r: LoadResult): LoadResult => {
    failed += r.failed;
    return r;
  };

  /** HEAP_SNAPSHOT_DIR=dir: heap snapshots after the first and the last system round, to diff by constructor. */
  const snapshotDir = process.env.HEAP_SNAPSHOT_DIR;
  const heap = async (requests: number, snapshot?: string): Promise<Sample> => {
    const q = snapshot && snapshotDir ? `?snapshot=${encodeURIComponent(path.join(snapshotDir, `${snapshot}.heapsnapshot`))}` : '';
    const r = await rt.request('GET', `/bench/heap${q}`);
    if (r.status !== 200) throw new Error(`heap probe: ${r.status} ${r.text}`);
    const h = r.json as { usedHeapSize: number; totalHeapSize: number; external: number };
    return {
      requests,
      heapKiB: h.usedHeapSize / 1024,
      heapTotalKiB: h.totalHeapSize / 1024,
      externalKiB: h.external / 1024,
      rssKiB: rssKb(pid).rssKb,
    };
  };
  const echoRound = (): Promise<LoadResult> =>
    runLoad({ baseUrl: rt.baseUrl, method: 'POST', path: () => '/echo', body: reading, concurrency: CONCURRENCY, total: PER_ROUND }).then(
      count,
    );
  const systemRound = async (): Promise<number> => {
    const base = sent;
    sent += PER_ROUND;
    await ingestLoad(rt.baseUrl, base, CONCURRENCY, PER_ROUND, tally).then(count);
    // Close the open feature windows so that /predict has features to decide from.
    const agg = await rt.request('POST', '/admin/aggregate-now', undefined, { Authorization: `Bearer ${env.ADMIN_TOKEN}` });
    if (agg.status !== 200) failed += 1;
    const side = Math.max(1, Math.round(PER_ROUND / 20));
    await runLoad({ baseUrl: rt.baseUrl, method: 'GET', path: () => '/telemetry?limit=50', concurrency: 4, total: side }).then(count);
    await runLoad({ baseUrl: rt.baseUrl, method: 'GET', path: () => '/healthz', concurrency: 2, total: side }).then(count);
    await runLoad({
      baseUrl: rt.baseUrl,
      method: 'POST',
      path: () => '/predict',
      body: () => ({ zone: 'office-1' }),
      concurrency: 2,
      total: side,
    }).then(count);
    return PER_ROUND + 1 + 3 * side;
  };

  /** Slope over the second half of the samples, KiB per 1000 requests. */
  const growth = (samples: readonly Sample[], key: 'heapKiB' | 'rssKiB'): number => {
    const tail = samples.slice(Math.floor(samples.length / 2));
    return slope(
      tail.map((s) => s.requests / 1000),
      tail.map((s) => s[key]),
    );
  };

  try {
    await new Promise((r) => setTimeout(r, 2000));
    emit('flow_change_for_load', unlimitedGuards, 'api-guard nodes', {
      note: `flows/smart-lighting.json with every api-guard rateLimit 0 and feature windows of ${WINDOW_MINUTES * 60} s (grace 1 s), plus bench tabs POST /echo and GET /bench/heap (gc + v8 heap statistics)`,
      ...common,
    });
    const baseline: Sample[] = [await heap(0)];
    let done = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      await echoRound();
      done += PER_ROUND;
      const s = await heap(done);
      baseline.push(s);
      emit('baseline_round_heap_after_gc', s.heapKiB / 1024, 'MiB', { round, requests: done, ...mib(s) });
    }
    const system: Sample[] = [await heap(0)];
    done = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      done += await systemRound();
      const s = await heap(done, round === 1 ? 'first' : round === ROUNDS ? 'last' : undefined);
      system.push(s);
      emit('system_round_heap_after_gc', s.heapKiB / 1024, 'MiB', { round, requests: done, ...mib(s) });
    }

    const baseHeap = growth(baseline, 'heapKiB');
    const sysHeap = growth(system, 'heapKiB');
    emit('baseline_heap_growth', baseHeap, 'KiB/1000 req', { note: 'echo endpoint only, second half of its rounds' });
    emit('system_heap_growth', sysHeap, 'KiB/1000 req', {
      target: TARGET_KIB_PER_1000,
      met: sysHeap < TARGET_KIB_PER_1000,
      baselineKiBPer1000: Math.round(baseHeap * 100) / 100,
      requests: done,
      firstMiB: Math.round(system[1].heapKiB / 102.4) / 10,
      lastMiB: Math.round(system[system.length - 1].heapKiB / 102.4) / 10,
    });
    emit('system_rss_growth', growth(system, 'rssKiB'), 'KiB/1000 req', {
      note: 'RSS includes the SQLite page cache and freed heap the allocator keeps; the heap after GC is the leak signal',
      rssMiBLast: Math.round(system[system.length - 1].rssKiB / 102.4) / 10,
      peakMiB: Math.round(rssKb(pid).hwmKb / 102.4) / 10,
    });
    await rt.stop();
    const rows = await query<{ id: number }>(dbFile, "SELECT id FROM raw_sensor_events WHERE sensor_id LIKE 'bench-%'");
    const stored = new Set(rows.map((r) => r.id));
    const lost = [...tally.acked].filter((id) => !stored.has(id)).length;
    emit('failed_requests', failed, 'requests', { target: 0, met: failed === 0 });
    emit('acknowledged_rows_lost', lost, 'rows', { target: 0, met: lost === 0, acked: tally.acked.size, sent });
    emit('total_duration', (performance.now() - started) / 1000, 's');
    if (failed > 0 || lost > 0 || sysHeap >= TARGET_KIB_PER_1000) process.exitCode = 1;
  } finally {
    await rt.stopAndClean(true);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
