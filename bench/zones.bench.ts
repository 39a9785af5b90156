/**
 * Bounded state per zone: the control brain for 1, 16 and 64 zones over a
 * simulated day, as rules-fallback + feature-window + override-gate run it
 * (one FeatureWindowEngine, one RulesController and one OverrideGate for
 * every zone of a site).
 *
 * Each zone gets its own OfficeDayScenario (seed = zone number + 1: its own
 * clouds, arrival, lunch, departure; the same kind of room in every zone, so
 * that the per-decision figures of 1 and 64 zones compare like with like),
 * sensor readings every 30 s (lux = daylight + 5.5 lx per output %,
 * presence) through FeatureWindowEngine.ingest and the presence/lux fast path
 * (RulesController.onPresence), 1-min windows decided by
 * RulesController.decide, every setpoint through OverrideGate.submit, and the
 * output fed back with noteOutput. Each zone gets a 30-min manual override
 * (wall panel) once, between 10:00 and 11:45.
 *
 * Metrics (per zone count; the 1-zone figure is the baseline):
 * - cpu_per_decision_us: process CPU time (user + system, process.cpuUsage)
 *   of the whole day (ingest, windows, fast path, decide, gate) per
 *   decision, over 64 zone-days per repeat (64 sites of 1 zone, 4 of 16, 1
 *   of 64), median of REPEATS. Goal: at 64 zones within 1.5x of 1 zone.
 * - decide_us: wall time of decide + gate alone per decision (performance.now), median.
 * - heap_bytes_per_zone: heap used after a full GC with the engines,
 *   controllers and gates alive after two simulated days, minus the heap
 *   before they were made (the simulated rooms are made before and do not
 *   count), per site minus a site without zones (siteBytes: the fixed cost
 *   of one engine, controller and gate), per zone. Measured over 256 zones
 *   (256 sites of 1 zone, 16 of 16, 4 of 64) so that GC noise of some
 *   100 KB is small per zone (node --expose-gc, as scripts/bench.js runs
 *   benches). Goal: at 64 zones within 1.5x of 1 zone (state per zone does
 *   not grow with the zone count).
 * - heap_growth_bytes_per_zone_per_day: heap after day 4 minus after day 2,
 *   per zone and day, over the same 256 zones. Goal: under 1 KiB (state does
 *   not grow with time).
 * - context_bytes_per_zone: JSON.stringify(controller.toJSON()) bytes per
 *   zone (what rules-fallback keeps in its context). Goal: under 2 KiB.
 *   gateBytesPerZone: the gate's appliedJSON() + toJSON() (override-gate's context).
 *
 * Run: node --expose-gc dist/bench/zones.bench.js [repeats=5]
 */
import type { Setpoint } from '../lib/contracts';
import { performance } from 'node:perf_hooks';
import { type OutputChange, outputAt } from '../lib/control/daylight';
import { OverrideGate } from '../lib/control/override';
import { RulesController } from '../lib/control/rules';
import { OfficeDayScenario } from '../lib/dali/sim/scenario';
import { FeatureWindowEngine } from '../lib/features/engine';

const REPEATS = Math.max(1, Math.min(20, Number(process.argv[2] ?? 5)));
const ZONE_COUNTS = [1, 16, 64] as const;
const MIN = 60_000;
const DAY_MS = 86_400_000;
const DAY0 = Date.UTC(2024, 3, 15);
const TRUE_GAIN = 5.5;
const CONFIG_GAIN = 5;
const TARGET_LUX = 500;
const CPU_GOAL_RATIO = 1.5;
const HEAP_GOAL_RATIO = 1.5;
const HEAP_GROWTH_GOAL_BYTES = 1024;
const CONTEXT_GOAL_BYTES = 2048;

const gc = (globalThis as { gc?: () => void }).gc;

function collect(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

interface Zone {
  readonly name: string;
  readonly scenario: OfficeDayScenario;
  readonly overrideAtMin: number;
  intensity: number;
  cct: number;
  changes: OutputChange[];
}

interface Site {
  readonly engine: FeatureWindowEngine;
  readonly rules: RulesController;
  readonly gate: OverrideGate;
  readonly zones: Zone[];
}

/** The simulated rooms (scenarios and the light model's bookkeeping): not the controller's state. */
function makeZones(n: number): Zone[] {
  const zones: Zone[] = [];
  for (let i = 0; i < n; i++) {
    zones.push({
      name: `zone-${i}`,
      scenario: new OfficeDayScenario({ seed: i + 1, cloudiness: [0.2, 0.4, 0.6, 0.8, 0.5][i % 5] as number }),
      overrideAtMin: 10 * 60 + (i % 8) * 15,
      intensity: 0,
      cct: 4000,
      changes: [],
    });
  }
  return zones;
}

/** The control brain of a site: one engine, controller and gate for all its zones. */
function makeSite(zones: Zone[]): Site {
  return {
    engine: new FeatureWindowEngine({ windowMs: MIN, graceMs: 0, timeZone: 'UTC' }),
    rules: new RulesController({ luxPerPct: CONFIG_GAIN, targetLux: TARGET_LUX }),
    gate: new OverrideGate({}),
    zones,
  };
}

interface DayStats {
  decisions: number;
  cpuUs: number;
  decideMs: number;
}

/** One simulated day (day index `day`) for every zone of the site. */
function runDay(site: Site, day: number): DayStats {
  const { engine, rules, gate, zones } = site;
  const dayStart = DAY0 + day * DAY_MS;
  const byName = new Map(zones.map((z) => [z.name, z]));
  let decisions = 0;
  let decideMs = 0;

  const apply = (z: Zone, sp: { intensity: number; cct: number; fadeMs?: number | undefined }, at: number): void => {
    if (sp.intensity !== z.intensity) {
      z.changes.push({ at, from: outputAt(z.changes, at, z.intensity), to: sp.intensity, fadeMs: sp.fadeMs ?? 0 });
      // Only the fade in progress matters for outputAt: keep the list short, as dali-dt8-out keeps one.
      if (z.changes.length > 4) z.changes.splice(0, z.changes.length - 4);
    }
    z.intensity = sp.intensity;
    z.cct = sp.cct;
  };

  const cpu0 = process.cpuUsage();
  for (let m = 0; m < 1440; m++) {
    for (const z of zones) {
      if (m === z.overrideAtMin) {
        const at = dayStart + m * MIN;
        const manual: Setpoint = { zone: z.name, intensity: 30, cct: 3000, reason: 'wall panel', source: 'manual', overrideMinutes: 30 };
        const r = gate.submit(manual, at);
        if (r.passed && r.setpoint) {
          apply(z, r.setpoint, at);
          rules.noteOutput(z.name, z.intensity, at, 0, z.cct);
        }
      }
      for (const half of [0.25, 0.75]) {
        const minute = m + half;
        const t = dayStart + Math.round(minute * MIN);
        const lux = z.scenario.daylightLux(minute) + TRUE_GAIN * outputAt(z.changes, t, z.intensity);
        const occupied = z.scenario.isOccupied(minute);
        engine.ingest({ sensorId: `sensor-${z.name}`, zone: z.name, ts: t, lux, presence: occupied, source: 'sim' }, t);
        const t0 = performance.now();
        const d = rules.onPresence(z.name, t, occupied, { lux });
        if (!d) continue;
        const g = gate.submit(d.setpoint, t);
        decideMs += performance.now() - t0;
        decisions++;
        if (g.passed && g.setpoint) apply(z, g.setpoint, t);
        rules.noteOutput(z.name, z.intensity, t, g.passed ? (g.setpoint?.fadeMs ?? 0) : 0, z.cct);
      }
    }
    const tEnd = dayStart + (m + 1) * MIN;
    for (const w of engine.advance(tEnd)) {
      const z = byName.get(w.zone);
      if (!z) continue;
      const t0 = performance.now();
      const d = rules.decide(w);
      const g = gate.submit(d.setpoint, tEnd);
      decideMs += performance.now() - t0;
      decisions++;
      if (g.passed && g.setpoint) apply(z, g.setpoint, tEnd);
      rules.noteOutput(z.name, z.intensity, tEnd, g.passed ? (g.setpoint?.fadeMs ?? 0) : 0, z.cct);
    }
    gate.expire(tEnd);
  }
  const cpu = process.cpuUsage(cpu0);
  return { decisions, cpuUs: cpu.user + cpu.system, decideMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'zones', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

interface Result {
  zones: number;
  cpuPerDecisionUs: number;
  decideUs: number;
  decisionsPerDay: number;
  heapBytesPerZone: number;
  heapGrowthBytesPerZonePerDay: number;
  contextBytesPerZone: number;
  gateBytesPerZone: number;
}

/** Zones measured together for each figure: a site count of ZONE_DAYS / n replicas (1 zone: 64 sites of one zone each). */
const CPU_ZONES = 64;
const HEAP_ZONES = 256;
const GROWTH_DAYS = 2;

/**
 * Heap of the control state of `replicas` sites of `n` zones, alive after
 * two simulated days: heap with them alive - heap before they were made,
 * both after a full GC (the simulated rooms are made before and do not
 * count); then the growth over GROWTH_DAYS more days.
 */
function sitesHeap(n: number, replicas: number): { bytes: number; growthPerDay: number; sites: Site[] } {
  const rooms = Array.from({ length: replicas }, () => makeZones(n));
  const before = collect();
  const sites = rooms.map((zones) => makeSite(zones));
  for (const site of sites) {
    runDay(site, 0);
    runDay(site, 1);
  }
  const afterDay2 = collect();
  for (const site of sites) for (let d = 2; d < 2 + GROWTH_DAYS; d++) runDay(site, d);
  const afterLast = collect();
  return { bytes: afterDay2 - before, growthPerDay: (afterLast - afterDay2) / GROWTH_DAYS, sites };
}

function measure(n: number, emptySiteBytes: number): Result {
  // CPU: REPEATS rounds of CPU_ZONES / n fresh sites, one day each; per decision over the round.
  const cpu: number[] = [];
  const decide: number[] = [];
  let decisionsPerDay = 0;
  const cpuReplicas = Math.max(1, Math.round(CPU_ZONES / n));
  for (let r = 0; r < REPEATS; r++) {
    let cpuUs = 0;
    let decideMs = 0;
    let decisions = 0;
    for (let k = 0; k < cpuReplicas; k++) {
      const s = runDay(makeSite(makeZones(n)), 0);
      cpuUs += s.cpuUs;
      decideMs += s.decideMs;
      decisions += s.decisions;
    }
    cpu.push(cpuUs / decisions);
    decide.push((decideMs * 1000) / decisions);
    decisionsPerDay = decisions / (n * cpuReplicas);
  }
  const heapReplicas = Math.max(1, Math.round(HEAP_ZONES / n));
  const h = sitesHeap(n, heapReplicas);
  const site = h.sites[0] as Site;
  const contextBytes = Buffer.byteLength(JSON.stringify(site.rules.toJSON()));
  const gateBytes = Buffer.byteLength(JSON.stringify(site.gate.appliedJSON())) + Buffer.byteLength(JSON.stringify(site.gate.toJSON()));
  return {
    zones: n,
    cpuPerDecisionUs: median(cpu),
    decideUs: median(decide),
    decisionsPerDay,
    heapBytesPerZone: (h.bytes / heapReplicas - emptySiteBytes) / n,
    heapGrowthBytesPerZonePerDay: h.growthPerDay / (heapReplicas * n),
    contextBytesPerZone: contextBytes / n,
    gateBytesPerZone: gateBytes / n,
  };
}

if (!gc) process.stderr.write('zones bench: run with node --expose-gc (scripts/bench.js does) for heap figures after a full GC\n');

// Warm-up (JIT), not reported.
runDay(makeSite(makeZones(8)), 0);
sitesHeap(4, 1);

/** One engine + controller + gate without zones (the fixed cost of a site), from HEAP_ZONES of them. */
const emptySiteBytes = sitesHeap(0, HEAP_ZONES).bytes / HEAP_ZONES;
const results = ZONE_COUNTS.map((n) => measure(n, emptySiteBytes));
const base = results[0] as Result;
for (const r of results) {
  const cpuRatio = r.cpuPerDecisionUs / base.cpuPerDecisionUs;
  emit('cpu_per_decision_us', r.cpuPerDecisionUs, 'us/decision', {
    zones: r.zones,
    baseline: r2(base.cpuPerDecisionUs),
    ratio: r2(cpuRatio),
    goal: `<= ${CPU_GOAL_RATIO}x the 1-zone figure`,
    met: cpuRatio <= CPU_GOAL_RATIO,
    decisionsPerZonePerDay: Math.round(r.decisionsPerDay),
    repeats: REPEATS,
    sitesPerRepeat: Math.max(1, Math.round(CPU_ZONES / r.zones)),
    note: 'process CPU (user + system) of the whole day per decision: ingest, windows, fast path, decide, gate; 64 zone-days per repeat (64 / zones sites), median of repeats',
  });
  emit('decide_us', r.decideUs, 'us/decision', {
    zones: r.zones,
    baseline: r2(base.decideUs),
    ratio: r2(r.decideUs / base.decideUs),
    note: 'wall time of decide + gate only',
  });
  const heapRatio = r.heapBytesPerZone / base.heapBytesPerZone;
  emit('heap_bytes_per_zone', r.heapBytesPerZone, 'bytes', {
    zones: r.zones,
    baseline: Math.round(base.heapBytesPerZone),
    ratio: r2(heapRatio),
    goal: `<= ${HEAP_GOAL_RATIO}x the 1-zone figure`,
    // Without --expose-gc (npm run bench passes it) the heap figures are noise: no verdict then.
    met: gc !== undefined && heapRatio <= HEAP_GOAL_RATIO,
    afterGc: gc !== undefined,
    sites: Math.max(1, Math.round(HEAP_ZONES / r.zones)),
    siteBytes: Math.round(emptySiteBytes),
    note: 'control state after two simulated days, after GC, minus a site without zones (siteBytes), per zone; measured over 256 zones (256 / zones sites)',
  });
  emit('heap_growth_bytes_per_zone_per_day', r.heapGrowthBytesPerZonePerDay, 'bytes', {
    zones: r.zones,
    baseline: r2(base.heapGrowthBytesPerZonePerDay),
    goal: `< ${HEAP_GROWTH_GOAL_BYTES}`,
    met: gc !== undefined && r.heapGrowthBytesPerZonePerDay < HEAP_GROWTH_GOAL_BYTES,
    afterGc: gc !== undefined,
    days: GROWTH_DAYS,
    note: 'heap after day 4 minus after day 2, per zone and day, over 256 zones',
  });
  emit('context_bytes_per_zone', r.contextBytesPerZone, 'bytes', {
    zones: r.zones,
    baseline: Math.round(base.contextBytesPerZone),
    goal: `< ${CONTEXT_GOAL_BYTES}`,
    met: r.contextBytesPerZone < CONTEXT_GOAL_BYTES,
    gateBytesPerZone: Math.round(r.gateBytesPerZone),
    note: 'JSON.stringify(RulesController.toJSON()) per zone after four days; gateBytesPerZone: OverrideGate appliedJSON() + toJSON()',
  });
}
