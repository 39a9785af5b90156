/**
 * Frames per setpoint change: the sequence planner against the naive
 * 7-frame sequence (DTR0, DTR1, EDT 8, SET TEMPORARY Tc, EDT 8, ACTIVATE,
 * DAPC for every setpoint, as a controller that always sends intensity + cct
 * would do).
 *
 * Stream (seeded): 16 DT8 gear, groups 0 = 0..7 and 1 = 8..15, a day of
 * batches mixing
 *   - daylight harvesting: per-gear level changes, colour unchanged (35 %)
 *   - zone occupancy: the same level for a whole group (25 %)
 *   - circadian colour step: the same level + mirek for all 16 gear (15 %)
 *   - zone colour + level change for one group (10 %)
 *   - manual override of 1-3 single gear with their own level + Tc (15 %)
 * Every setpoint carries level and mirek (the setpoint message always has
 * intensity and cct). Run once with automatic activation unknown and once
 * with it known ON.
 *
 * Second, fairer baseline (naive-group): the same 7-frame sequence, but sent
 * once to the group (or broadcast) when the batch is uniform (one level and
 * one mirek for exactly the members of a group, or for all 16 gear), as any
 * controller that knows its groups would. Headline: frame_reduction_vs_group,
 * goal >= 0.5 (the planner sends at most half the frames of that sender).
 *
 * Run: node dist/bench/frames-per-setpoint.bench.js [batches]
 */
import { naiveFrames, planSetpoints, planFrames, GearKnowledge, SetpointRequest } from '../lib/dali/sequence';
import { mulberry32, randInt, pick, Rng } from '../test/helpers/prng';

const BATCHES = Number(process.argv[2] ?? 2000);
const ALL = Array.from({ length: 16 }, (_, i) => i);
const GROUPS = new Map<number, number[]>([
  [0, ALL.slice(0, 8)],
  [1, ALL.slice(8)],
]);
/** 16-bit forward frame (14.17 ms) + P2 settling (~15.5 ms). */
const MS_PER_FRAME = 29.7;
const MIREKS = [153, 200, 250, 286, 333, 370, 434, 500];

type Mix = 'daylight' | 'occupancy' | 'circadian' | 'zoneColour' | 'override';

function makeBatch(rng: Rng, current: Map<number, { level: number; mirek: number }>): { mix: Mix; reqs: SetpointRequest[] } {
  const r = rng();
  const req = (a: number, level: number, mirek: number): SetpointRequest => ({ address: { kind: 'short', address: a }, level, mirek });
  if (r < 0.35) {
    const members = ALL.filter(() => rng() < 0.5);
    return { mix: 'daylight', reqs: members.map((a) => req(a, randInt(rng, 150, 254), current.get(a)?.mirek ?? 250)) };
  }
  if (r < 0.6) {
    const g = GROUPS.get(randInt(rng, 0, 1)) as number[];
    const level = randInt(rng, 0, 254);
    return { mix: 'occupancy', reqs: g.map((a) => req(a, level, current.get(a)?.mirek ?? 250)) };
  }
  if (r < 0.75) {
    const level = randInt(rng, 150, 254);
    const mirek = pick(rng, MIREKS);
    return { mix: 'circadian', reqs: ALL.map((a) => req(a, level, mirek)) };
  }
  if (r < 0.85) {
    const g = GROUPS.get(randInt(rng, 0, 1)) as number[];
    const level = randInt(rng, 100, 254);
    const mirek = pick(rng, MIREKS);
    return { mix: 'zoneColour', reqs: g.map((a) => req(a, level, mirek)) };
  }
  const n = randInt(rng, 1, 3);
  const reqs: SetpointRequest[] = [];
  for (let i = 0; i < n; i++) reqs.push(req(randInt(rng, 0, 15), randInt(rng, 1, 254), pick(rng, MIREKS)));
  return { mix: 'override', reqs };
}

const REDUCTION_VS_GROUP_GOAL = 0.5;

/** Frames of the naive-group sender for one batch: one 7-frame sequence to the group/broadcast when uniform. */
function naiveGroupFrames(reqs: SetpointRequest[]): number {
  const perGear = (): number => reqs.reduce((n, r) => n + naiveFrames(r).length, 0);
  const first = reqs[0] as SetpointRequest;
  if (!reqs.every((r) => r.address.kind === 'short' && r.level === first.level && r.mirek === first.mirek)) return perGear();
  const addresses = new Set(reqs.map((r) => (r.address.kind === 'short' ? r.address.address : -1)));
  const same = (members: number[]): boolean => members.length === addresses.size && members.every((a) => addresses.has(a));
  const one = (address: SetpointRequest['address']): number => naiveFrames({ address, level: first.level, mirek: first.mirek }).length;
  if (same(ALL)) return one({ kind: 'broadcast' });
  for (const [group, members] of GROUPS) if (same(members)) return one({ kind: 'group', group });
  return perGear();
}

function run(autoActivation: boolean | undefined): void {
  const rng = mulberry32(62386);
  const current = new Map<number, { level: number; mirek: number }>();
  const per: Record<string, { setpoints: number; frames: number; naive: number; naiveGroup: number }> = {};
  let setpoints = 0;
  let frames = 0;
  let naive = 0;
  let naiveGroup = 0;
  for (let b = 0; b < BATCHES; b++) {
    const { mix, reqs } = makeBatch(rng, current);
    if (reqs.length === 0) continue;
    const steps = planSetpoints(reqs, {
      gear: (a): GearKnowledge | undefined => {
        const c = current.get(a);
        return { ...(c ? { level: c.level, mirek: c.mirek } : {}), ...(autoActivation !== undefined ? { autoActivation } : {}) };
      },
      groups: GROUPS,
      allShortAddresses: ALL,
    });
    const f = planFrames(steps).length;
    const nf = reqs.reduce((n, r) => n + naiveFrames(r).length, 0);
    const ngf = naiveGroupFrames(reqs);
    // what the gear now hold (later requests for the same address win)
    for (const r of reqs)
      if (r.address.kind === 'short') current.set(r.address.address, { level: r.level as number, mirek: r.mirek as number });
    setpoints += reqs.length;
    frames += f;
    naive += nf;
    naiveGroup += ngf;
    const m = (per[mix] ??= { setpoints: 0, frames: 0, naive: 0, naiveGroup: 0 });
    m.setpoints += reqs.length;
    m.frames += f;
    m.naive += nf;
    m.naiveGroup += ngf;
  }
  const label = autoActivation === true ? 'on' : 'unknown';
  const out = (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void => {
    process.stdout.write(
      JSON.stringify({
        bench: 'frames-per-setpoint',
        metric,
        value: Math.round(value * 1000) / 1000,
        unit,
        autoActivation: label,
        ...extra,
      }) + '\n',
    );
  };
  out('frames_per_setpoint', frames / setpoints, 'frames', { setpoints, batches: BATCHES });
  out('frames_per_setpoint_baseline', naive / setpoints, 'frames', { baseline: 'naive 7-frame sequence per setpoint' });
  out('frame_reduction', 1 - frames / naive, 'fraction', { frames, naiveFrames: naive });
  out('frames_per_setpoint_baseline_group', naiveGroup / setpoints, 'frames', {
    baseline: 'naive 7-frame sequence, once per group or broadcast when the batch is uniform',
  });
  const vsGroup = 1 - frames / naiveGroup;
  out('frame_reduction_vs_group', vsGroup, 'fraction', {
    frames,
    naiveGroupFrames: naiveGroup,
    goal: `>= ${REDUCTION_VS_GROUP_GOAL}`,
    met: vsGroup >= REDUCTION_VS_GROUP_GOAL,
  });
  out('bus_seconds', (frames * MS_PER_FRAME) / 1000, 's', {
    baselineSeconds: Math.round((naive * MS_PER_FRAME) / 10) / 100,
    baselineGroupSeconds: Math.round((naiveGroup * MS_PER_FRAME) / 10) / 100,
    msPerFrame: MS_PER_FRAME,
  });
  for (const [mix, m] of Object.entries(per)) {
    out(`frames_per_setpoint_${mix}`, m.frames / m.setpoints, 'frames', {
      setpoints: m.setpoints,
      baseline: m.naive / m.setpoints,
      baselineGroup: Math.round((m.naiveGroup / m.setpoints) * 1000) / 1000,
    });
  }
}

run(undefined);
run(true);
