/**
 * The price of learning the DALI groups before a group send: the first
 * arrival after a restart, on the real main flow (flows/smart-lighting.json)
 * in a real Node-RED, its dali-bus on LUBA over a socat pseudo-terminal
 * served by dali-sim --building (office G0 = A0-3, meeting room G1 = A4-5,
 * corridor G2 = A6-7, sensors 10-12; --scenario none: the bench drives the
 * corridor's presence sensor, 12). dali-sim --frame-times stamps the END of
 * each event frame and the START of each forward frame with one monotonic
 * clock.
 *
 * Rounds, interleaved (one of each per round):
 * - baseline restart: a full deploy with the same building mapped by short
 *   addresses (A0-3, A4-5, A6-7: nothing to learn, nothing held), and the
 *   arrival as below: what a restart costs anyway (the sensors' setup);
 * - restart: a full deploy (the dali-bus closes and reopens its port, so the
 *   groups are unknown and learned again), and as soon as GET /healthz says
 *   the interface is connected, `occupied 12`: the corridor's setpoint goes
 *   to G2, so it waits for the scan;
 * - baseline (groups known): the same arrival in the same runtime once the
 *   scan is done, which is the path without the wait.
 * Between arrivals the corridor falls vacant (rules hold 0.1 min, 6 s
 * windows, gate interval 5 s, as in bench/reaction), so every arrival
 * sends a command.
 *
 * Metric: event frame end -> start of the first command frame to the
 * corridor's gear (G2, A6 or A7; the scan's QUERY GROUPS to A6/A7 are not
 * commands). Also the scan's duration on the wire (QUERY GROUPS 0-7 to A0 ->
 * to A63). CPU time is not the point here; the figures are bus and wall
 * time, disturbed by whatever else the machine runs, with the baseline
 * measured in the same rounds.
 *
 * Goal: every restart arrival answered within 5000 ms: one scan of a full
 * 64-gear bus is about 3.5 s on the wire (64 queries without answer, 128
 * with) plus the sensors' own setup after a restart.
 *
 * Run: node dist/bench/group-hold.bench.js   (needs socat)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeRedRuntime, PROJECT_ROOT } from '../test/e2e/harness';
import { findSocat, killAll, startPtyPair } from '../test/helpers/socat';
import { SimProcess, type FrameTime } from '../test/helpers/dali-sim-process';

const ROUNDS = 6;
const GOAL_RESTART_MS = 5000;
const SENSOR = 12;
const CORRIDOR = { group: 2, shorts: [6, 7] };

type FlowNode = Record<string, unknown> & { id: string; type: string };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'group-hold', metric, value: Math.round(value * 10) / 10, unit, ...extra })}\n`);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** The main flow on the pty; `shorts`: the same building's zone map by short addresses (no group, so nothing to learn). */
function flow(port: string, shorts = false): FlowNode[] {
  const shipped = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
  const byShort: Record<string, string> = { G0: 'A0-3', G1: 'A4-5', G2: 'A6-7' };
  return shipped.map((n) => {
    if (n.type === 'dali-bus') return { ...n, interfaceType: 'luba', port };
    if (n.type === 'lighting-zones' && shorts)
      return {
        ...n,
        zones: (n.zones as { gear: string }[]).map((z) => ({ ...z, gear: byShort[z.gear] ?? z.gear })),
      };
    if (n.id === 'sl-diag-tick') return { ...n, once: false, repeat: '' };
    if (n.type === 'api-guard') return { ...n, rateLimit: 0 };
    if (n.type === 'rules-fallback') return { ...n, holdMinutes: 0.1 };
    if (n.type === 'override-gate') return { ...n, minIntervalS: 5, minIntervalUpS: 5 };
    if (n.type === 'feature-window') return { ...n, windowMinutes: 0.1, graceS: 1 };
    return n;
  });
}

const isCommand = (f: FrameTime): boolean => {
  if (f.frameTime !== 'forward' || f.bits !== 16) return false;
  const v = f.value?.toUpperCase() ?? '';
  if (v.endsWith('C0') || v.endsWith('C1')) return false; // QUERY GROUPS of the scan
  return (
    (f.target?.kind === 'group' && f.target.group === CORRIDOR.group) ||
    (f.target?.kind === 'short' && CORRIDOR.shorts.includes(f.target.address ?? -1))
  );
};

/** `occupied 12` and the time from its event frame to the first command to the corridor's gear. */
async function arrival(sim: SimProcess, timeoutMs: number): Promise<number | null> {
  const from = sim.frames.length;
  sim.send(`occupied ${SENSOR}`);
  const start = Date.now();
  for (;;) {
    const frames = sim.frames.slice(from);
    const event = frames.find((f) => f.frameTime === 'event' && f.sensor === SENSOR && f.occupied === true);
    const cmd = event ? frames.find((f) => isCommand(f) && BigInt(f.hrtimeNs) > BigInt(event.hrtimeNs)) : undefined;
    if (event && cmd) return Number(BigInt(cmd.hrtimeNs) - BigInt(event.hrtimeNs)) / 1e6;
    if (Date.now() - start > timeoutMs) {
      process.stderr.write(
        `[group-hold] ${event ? 'event frame seen' : 'no event frame'}, no command to the corridor within ${timeoutMs} ms\n`,
      );
      return null;
    }
    await sleep(5);
  }
}

/** Duration of the last complete scan since frame `from` (QUERY GROUPS 0-7 to A0 -> to A63), ms. */
function scanMs(sim: SimProcess, from: number): number | null {
  const frames = sim.frames.slice(from);
  const a0 = frames.findIndex((f) => f.frameTime === 'forward' && f.value?.toUpperCase() === '01C0');
  const a63 = frames.findIndex((f, i) => i > a0 && f.frameTime === 'forward' && f.value?.toUpperCase() === '7FC0');
  if (a0 < 0 || a63 < 0) return null;
  return Number(BigInt((frames[a63] as FrameTime).hrtimeNs) - BigInt((frames[a0] as FrameTime).hrtimeNs)) / 1e6;
}

async function main(): Promise<void> {
  if (!findSocat()) {
    emit('skipped', 0, '-', { reason: 'socat is not installed' });
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-group-hold-'));
  const pair = await startPtyPair(dir);
  const sim = await SimProcess.start(['--protocol', 'luba', '--port', pair.dev, '--building', '--scenario', 'none', '--frame-times']);
  const rt = await NodeRedRuntime.start({ flows: flow(pair.app), env: { DB_URL: '', ZONES: '', ADMIN_TOKEN: 'group-hold-bench-token' } });
  const restart: (number | null)[] = [];
  const known: (number | null)[] = [];
  const restartShorts: (number | null)[] = [];
  const scans: number[] = [];
  try {
    await rt.waitForBusConnected();
    await sleep(8000); // the sensors' setup and the first scan
    const vacate = async (): Promise<void> => {
      sim.send(`vacant ${SENSOR}`);
      await sleep(20_000);
    };
    for (let round = 0; round < ROUNDS; round++) {
      // Baseline of the restart: the same building mapped by short addresses (nothing to learn, nothing held).
      await vacate();
      await rt.deploy(flow(pair.app, true));
      await rt.waitForBusConnected();
      restartShorts.push(await arrival(sim, 20_000));
      await sleep(6000);
      // The shipped map (groups): the restart has to learn them.
      await vacate();
      const from = sim.frames.length;
      await rt.deploy(flow(pair.app));
      await rt.waitForBusConnected();
      restart.push(await arrival(sim, 20_000));
      await sleep(8000); // the scan is over by now
      const s = scanMs(sim, from);
      if (s !== null) scans.push(s);
      await vacate();
      known.push(await arrival(sim, 20_000));
    }
  } finally {
    await rt.stopAndClean(true);
    await sim.stop();
    await pair.stop();
    await killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const sorted = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const r = sorted(restart);
  const k = sorted(known);
  const b = sorted(restartShorts);
  const missed = restart.length - r.length;
  emit('first_arrival_after_restart_p50_ms', quantile(r, 0.5), 'ms', {
    rounds: restart.length,
    baseline_restart_by_short_address_p50_ms: quantile(b, 0.5),
    baseline_groups_known_p50_ms: quantile(k, 0.5),
  });
  emit('first_arrival_after_restart_max_ms', r[r.length - 1] ?? Number.NaN, 'ms', {
    rounds: restart.length,
    unanswered: missed,
    baseline_restart_by_short_address_max_ms: b[b.length - 1] ?? Number.NaN,
    baseline_unanswered: restartShorts.length - b.length,
    goal: `every restart arrival answered within ${GOAL_RESTART_MS} ms`,
    met: missed === 0 && (r[r.length - 1] ?? Infinity) <= GOAL_RESTART_MS,
  });
  emit('arrival_groups_known_p50_ms', quantile(k, 0.5), 'ms', { rounds: known.length, unanswered: known.length - k.length });
  emit(
    'group_scan_on_the_wire_ms',
    quantile(
      scans.sort((a, b) => a - b),
      0.5,
    ),
    'ms',
    { scans: scans.length, gear: 8, addresses: 64 },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
