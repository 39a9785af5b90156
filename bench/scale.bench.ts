/**
 * Sizing: how many DALI buses one Node-RED process drives on this machine,
 * and what a bus, a zone and a gear cost in CPU and memory.
 *
 * For N = 1, 4, 16, 32, 64 buses (argv), a fresh Node-RED runtime (the e2e
 * harness) runs N copies of the main flow's control path
 * (flows/smart-lighting.json: sensor nodes -> feature-window -> rules-fallback
 * -> override-gate -> dali-dt8-out, the lighting store, alerts), each copy on
 * its own simulated bus (dali-bus "simulator", at the bus's real timing: every
 * frame takes its DALI time, speed 1) with 64 DT8 gear in 8 groups, 8 zones of
 * 8 gear, one light + presence sensor per zone (office scenario), polled every
 * 60 s as shipped. Windows are 6 s (1 s grace) instead of the shipped 5 min
 * so that every zone runs its decision loop 10 times a minute (a heavier
 * load than shipped); the HTTP endpoints, websocket, prune and inject nodes
 * are left out (one copy of them per process is not per bus).
 *
 * Per N, after the runtime started and every sensor node is set up (SETTLE_S,
 * default 20 s), a measuring window of MEASURE_S (default 30 s):
 * - loop_lag_p99: the Node-RED process's event-loop delay, 99th percentile
 *   (perf_hooks.monitorEventLoopDelay, preloaded by bench/loop-monitor.js);
 * - cpu_percent: the process's CPU time (user + system, all threads) over the
 *   window, percent of one core (200 % = both cores of this machine);
 * - rss: resident memory at the end of the window.
 * Baseline in the same run: the same runtime with no bus (N = 0), whose lag
 * is what the machine and Node-RED alone show.
 * Answers: max_buses = the largest N whose lag p99 stays within LAG_BOUND_MS
 * (20 ms) above the idle baseline's (a DALI forward frame is ~16 ms; more lag
 * than that delays frames by more than one frame time) and whose CPU stays
 * under 100 % of one core (the process's JavaScript runs on one core). Per
 * bus / zone / gear: the slope from N = 0 to the largest N (CPU and RSS), so
 * the runtime's fixed cost is not counted per bus; busesAt100PercentOfOneCore
 * extrapolates that slope. Goal: one process drives at least 4 buses (256 gear).
 *
 * The machine may be shared (other processes' load shows as lag): run it on a
 * quiet machine for figures to plan with; the slope per bus is the steadier
 * figure.
 *
 * Run: node dist/bench/scale.bench.js [buses=1,4,16,32,64]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeRedRuntime, PROJECT_ROOT } from '../test/e2e/harness';
import { query, rssKb } from './main-flow-rig';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const BUSES = (process.argv[2] ?? '1,4,16,32,64')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const SETTLE_S = Number(process.env.SETTLE_S ?? 20);
const MEASURE_S = Number(process.env.MEASURE_S ?? 30);
const LAG_BOUND_MS = 20;
const GEAR_PER_BUS = 64;
const ZONES_PER_BUS = 8;
const GOAL_BUSES = 4;
/** Node types of the main flow that are per process, not per bus (or need a port of their own). */
const LEFT_OUT = new Set([
  'http in',
  'http response',
  'api-guard',
  'lighting-query',
  'websocket-listener',
  'websocket out',
  'retention-prune',
  'inject',
  'debug',
  'comment',
  'catch',
  'function',
  'lsd-sensor-in',
]);

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'scale', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** N copies of the main flow's control path, each on its own simulated 64-gear bus. */
export function scaleFlows(buses: number): FlowNode[] {
  const shipped = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
  const sensorTemplate = shipped.find((n) => n.type === 'lsd-sensor-in');
  if (!sensorTemplate) throw new Error('the main flow has no lsd-sensor-in');
  const kept = shipped.filter((n) => !LEFT_OUT.has(n.type));
  const keptIds = new Set(kept.map((n) => n.id));
  const out: FlowNode[] = [];
  for (let b = 0; b < buses; b++) {
    const p = (id: string): string => `b${b}-${id}`;
    for (const n of kept) {
      const copy: FlowNode = { ...n, id: p(n.id) };
      for (const [k, v] of Object.entries(n)) if (k !== 'id' && typeof v === 'string' && keptIds.has(v)) copy[k] = p(v);
      if (Array.isArray(n.wires)) copy.wires = (n.wires as string[][]).map((port) => port.filter((w) => keptIds.has(w)).map(p));
      if (Array.isArray(n.links)) copy.links = (n.links as string[]).filter((w) => keptIds.has(w)).map(p);
      if (n.type === 'tab') copy.label = `bus ${b}`;
      if (n.type === 'dali-bus') {
        Object.assign(copy, {
          name: `bus ${b}`,
          interfaceType: 'simulator',
          simGear: `0-${GEAR_PER_BUS - 1}`,
          simGroups: Array.from({ length: ZONES_PER_BUS }, (_, z) => `${z}:${z * 8}-${z * 8 + 7}`).join('; '),
          simSensors: Array.from({ length: ZONES_PER_BUS }, (_, z) => `${10 + z}:office:${b * 100 + z + 1}`).join('; '),
          simSpeed: 1,
        });
      }
      if (n.type === 'lighting-zones') {
        Object.assign(copy, {
          source: 'table',
          zones: Array.from({ length: ZONES_PER_BUS }, (_, z) => ({
            zone: `bus${b}-z${z}`,
            gear: `G${z}`,
            sensors: [`${10 + z}`],
            targetLux: 500,
            fixtureWatts: 36,
            fixtureCount: 8,
          })),
        });
      }
      if (n.type === 'feature-window') Object.assign(copy, { windowMinutes: 0.1, graceS: 1 });
      out.push(copy);
    }
    for (let z = 0; z < ZONES_PER_BUS; z++) {
      out.push({
        ...sensorTemplate,
        id: p(`sensor-${z}`),
        z: p(String(sensorTemplate.z)),
        name: `bus ${b} sensor ${10 + z}`,
        bus: p(String(sensorTemplate.bus)),
        zones: p(String(sensorTemplate.zones)),
        sensorAddress: 10 + z,
        zone: `bus${b}-z${z}`,
        zoneGear: `G${z}`,
        wires: (sensorTemplate.wires as string[][]).map((port) => port.filter((w) => keptIds.has(w)).map(p)),
      });
    }
  }
  return out;
}

function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

interface Point {
  buses: number;
  lagP99Ms: number;
  lagMaxMs: number;
  cpuPercent: number;
  rssMiB: number;
  startS: number;
  /** Rows written during the run, per table (the control loop's traces). */
  activity: Record<string, number>;
}

async function measure(buses: number): Promise<Point> {
  const monitor = path.join(os.tmpdir(), `scale-loop-${process.pid}-${buses}.json`);
  const started = performance.now();
  const rt = await NodeRedRuntime.start({
    flows: scaleFlows(buses),
    env: {
      ADMIN_TOKEN: 'scale-bench-admin-token-0123456789',
      OPENAI_API_KEY: '',
      DB_URL: '',
      NODE_OPTIONS: `--require ${path.join(__dirname, 'loop-monitor.js')}`,
      LOOP_MONITOR_FILE: monitor,
    },
  });
  const startS = (performance.now() - started) / 1000;
  const pid = rt.proc.pid as number;
  try {
    await sleep(SETTLE_S * 1000);
    fs.writeFileSync(`${monitor}.reset`, '');
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    await sleep(MEASURE_S * 1000);
    const cpu = cpuMs(pid) - c0;
    const wall = performance.now() - t0;
    await sleep(600);
    const lag = JSON.parse(fs.readFileSync(monitor, 'utf8')) as { p99Ms: number; maxMs: number };
    const mem = rssKb(pid);
    const problems = rt.logLines.filter((l) => /\[(error)\]/.test(l));
    if (problems.length > 0) process.stderr.write(`scale bench, ${buses} buses: ${problems.length} error lines, first: ${problems[0]}\n`);
    await rt.stop();
    // What the buses did (the control loop ran): rows the whole run wrote.
    const activity: Record<string, number> = {};
    if (buses > 0) {
      const file = path.join(rt.userDir, 'smart-lighting.db');
      for (const table of ['raw_sensor_events', 'feature_windows', 'decisions']) {
        activity[table] = (await query<{ n: number }>(file, `SELECT COUNT(*) AS n FROM ${table}`))[0]?.n ?? 0;
      }
    }
    return { buses, lagP99Ms: lag.p99Ms, lagMaxMs: lag.maxMs, cpuPercent: (cpu / wall) * 100, rssMiB: mem.rssKb / 1024, startS, activity };
  } finally {
    await rt.stopAndClean(true);
    fs.rmSync(monitor, { force: true });
  }
}

async function main(): Promise<void> {
  const env = { cpus: os.cpus().length, node: process.version, gearPerBus: GEAR_PER_BUS, zonesPerBus: ZONES_PER_BUS, measureS: MEASURE_S };
  // The same runtime without buses, in the same run: the lag the machine and Node-RED alone show.
  const idle = await measure(0);
  emit('loop_lag_p99_idle_baseline', idle.lagP99Ms, 'ms', {
    buses: 0,
    maxMs: idle.lagMaxMs,
    cpuPercent: round(idle.cpuPercent),
    rssMiB: round(idle.rssMiB),
    loadAverage1m: round(os.loadavg()[0] as number),
    ...env,
  });
  const within = (p: Point): boolean => p.lagP99Ms - idle.lagP99Ms < LAG_BOUND_MS && p.cpuPercent < 100;
  const points: Point[] = [];
  for (const n of BUSES) {
    const pt = await measure(n);
    points.push(pt);
    const extra = { buses: n, gear: n * GEAR_PER_BUS, loadAverage1m: round(os.loadavg()[0] as number) };
    emit('loop_lag_p99', pt.lagP99Ms, 'ms', {
      ...extra,
      maxMs: pt.lagMaxMs,
      baselineIdleMs: idle.lagP99Ms,
      addedMs: round(pt.lagP99Ms - idle.lagP99Ms),
      boundAddedMs: LAG_BOUND_MS,
      withinBound: within(pt),
      ...env,
    });
    emit('cpu_percent', pt.cpuPercent, '% of one core', { ...extra, baselineIdle: round(idle.cpuPercent), rowsWritten: pt.activity });
    emit('rss', pt.rssMiB, 'MiB', { ...extra, baselineIdleMiB: round(idle.rssMiB), startS: round(pt.startS) });
    // Far past the bound: larger N say nothing more.
    if (pt.lagP99Ms - idle.lagP99Ms > 5 * LAG_BOUND_MS || pt.cpuPercent > 150) break;
  }
  const ok = points.filter(within);
  const max = ok.length > 0 ? Math.max(...ok.map((p) => p.buses)) : 0;
  const tested = Math.max(...points.map((p) => p.buses));
  emit('max_buses', max, 'buses', {
    gear: max * GEAR_PER_BUS,
    zones: max * ZONES_PER_BUS,
    boundAddedLagMs: LAG_BOUND_MS,
    note:
      max === tested
        ? `every N tested stayed within the bound: the limit is at or above ${tested}`
        : 'the largest N tested within the bound',
    goal: GOAL_BUSES,
    met: max >= GOAL_BUSES,
    ...env,
  });
  const last = points[points.length - 1] as Point;
  if (last.buses > 0) {
    // Slope from the idle runtime to the largest N: the runtime's fixed cost is not counted per bus.
    const d = last.buses;
    const cpuPerBus = (last.cpuPercent - idle.cpuPercent) / d;
    const rssPerBus = (last.rssMiB - idle.rssMiB) / d;
    emit('cpu_percent_per_bus', cpuPerBus, '% of one core', {
      perZone: round(cpuPerBus / ZONES_PER_BUS, 4),
      perGear: round(cpuPerBus / GEAR_PER_BUS, 5),
      from: [0, last.buses],
      busesAt100PercentOfOneCore: cpuPerBus > 0 ? Math.floor((100 - idle.cpuPercent) / cpuPerBus) : null,
    });
    emit('rss_per_bus', rssPerBus, 'MiB', {
      perZoneKiB: Math.round((rssPerBus * 1024) / ZONES_PER_BUS),
      perGearKiB: Math.round((rssPerBus * 1024) / GEAR_PER_BUS),
      from: [0, last.buses],
      idleMiB: round(idle.rssMiB),
    });
  }
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
