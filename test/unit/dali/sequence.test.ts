import assert from 'node:assert/strict';
import { decodeFrame, FrameDecoder, frameHex } from '../../../lib/dali/codec';
import {
  GearKnowledge,
  naiveFrames,
  PlanContext,
  planFrames,
  planSetpoints,
  PlannedStep,
  selfContainedFrames,
  SetpointRequest,
} from '../../../lib/dali/sequence';
import { ForwardFrame, GearAddress } from '../../../lib/dali/types';
import { mulberry32, pick, randInt } from '../../helpers/prng';

const short = (address: number): GearAddress => ({ kind: 'short', address });
const hexes = (frames: readonly ForwardFrame[]): string[] => frames.map(frameHex);

function ctxOf(knowledge: Record<number, GearKnowledge> = {}, extra: Partial<PlanContext> = {}): PlanContext {
  return { gear: (a) => knowledge[a], ...extra };
}

describe('dali sequence planner: single gear', () => {
  it('level only: 1 frame DAPC', () => {
    const steps = planSetpoints([{ address: short(5), level: 200 }], ctxOf());
    assert.equal(steps.length, 1);
    assert.deepEqual(hexes(steps[0]!.frames), ['0AC8']);
    assert.equal(steps[0]!.sendsColour, false);
  });

  it('level + unchanged known mirek: 1 frame DAPC', () => {
    const steps = planSetpoints([{ address: short(5), level: 200, mirek: 370 }], ctxOf({ 5: { mirek: 370 } }));
    assert.deepEqual(hexes(planFrames(steps)), ['0AC8']);
  });

  it('level + Tc with automatic activation unknown: the 7-frame reference sequence', () => {
    const steps = planSetpoints([{ address: short(5), level: 200, mirek: 370 }], ctxOf());
    assert.deepEqual(hexes(planFrames(steps)), ['A372', 'C301', 'C108', '0BE7', 'C108', '0BE2', '0AC8']);
    assert.equal(steps[0]!.reliesOnDtrFromEarlierStep, false);
    assert.deepEqual(steps[0]!.dtr, { dtr0: 0x72, dtr1: 0x01 });
  });

  it('level + Tc with automatic activation known off: 7 frames', () => {
    const steps = planSetpoints([{ address: short(5), level: 200, mirek: 370 }], ctxOf({ 5: { autoActivation: false, mirek: 250 } }));
    assert.equal(planFrames(steps).length, 7);
  });

  it('level + Tc with automatic activation known on: 5 frames ending in DAPC', () => {
    const steps = planSetpoints([{ address: short(5), level: 200, mirek: 370 }], ctxOf({ 5: { autoActivation: true } }));
    assert.deepEqual(hexes(planFrames(steps)), ['A372', 'C301', 'C108', '0BE7', '0AC8']);
  });

  it('Tc only: 6 frames ending in ACTIVATE, also with automatic activation on', () => {
    for (const k of [undefined, { autoActivation: true, level: 100 }]) {
      const steps = planSetpoints([{ address: short(5), mirek: 370 }], ctxOf(k ? { 5: k } : {}));
      assert.deepEqual(hexes(planFrames(steps)), ['A372', 'C301', 'C108', '0BE7', 'C108', '0BE2']);
      assert.equal(steps[0]!.sendsLevel, false);
    }
  });

  it('nothing to do: an empty step that still reports the request', () => {
    const req: SetpointRequest = { address: short(5), mirek: 370 };
    const steps = planSetpoints([req], ctxOf({ 5: { mirek: 370 } }));
    assert.equal(steps.length, 1);
    assert.deepEqual(steps[0]!.frames, []);
    assert.deepEqual(steps[0]!.applies, [req]);
  });

  it('every planned frame decodes to the intended command in a bus monitor', () => {
    const dec = new FrameDecoder();
    const steps = planSetpoints([{ address: short(5), level: 200, mirek: 370 }], ctxOf());
    const names = planFrames(steps).map((f) => dec.decode(f.bits, f.value).name);
    assert.deepEqual(names, [
      'DTR0',
      'DTR1',
      'ENABLE DEVICE TYPE',
      'SET TEMPORARY COLOUR TEMPERATURE',
      'ENABLE DEVICE TYPE',
      'ACTIVATE',
      'DAPC',
    ]);
  });

  it('rejects invalid requests with RangeError', () => {
    assert.throws(() => planSetpoints([{ address: short(64), level: 1 }], ctxOf()), RangeError);
    assert.throws(() => planSetpoints([{ address: short(1), level: 255 }], ctxOf()), /0..254/);
    assert.throws(() => planSetpoints([{ address: short(1), mirek: 0 }], ctxOf()), /mirek/);
    assert.throws(() => planSetpoints([{ address: short(1), mirek: 0xffff }], ctxOf()), /mirek/);
    assert.throws(() => planSetpoints([{ address: { kind: 'group', group: 16 }, level: 1 }], ctxOf()), RangeError);
  });
});

describe('dali sequence planner: batches', () => {
  it('reuses DTR0/DTR1 for consecutive addresses with the same mirek and marks the reliance', () => {
    const steps = planSetpoints(
      [
        { address: short(1), level: 100, mirek: 370 },
        { address: short(2), level: 120, mirek: 370 },
      ],
      ctxOf(),
    );
    assert.deepEqual(hexes(steps[0]!.frames), ['A372', 'C301', 'C108', '03E7', 'C108', '03E2', '0264']);
    assert.deepEqual(hexes(steps[1]!.frames), ['C108', '05E7', 'C108', '05E2', '0478']);
    assert.equal(steps[0]!.reliesOnDtrFromEarlierStep, false);
    assert.equal(steps[1]!.reliesOnDtrFromEarlierStep, true);
    assert.deepEqual(hexes(selfContainedFrames(steps[1]!)), ['A372', 'C301', 'C108', '05E7', 'C108', '05E2', '0478']);
  });

  it('writes only the DTR that changes when two mireks share the MSB', () => {
    const steps = planSetpoints(
      [
        { address: short(1), mirek: 370 }, // 0x0172
        { address: short(2), mirek: 360 }, // 0x0168
      ],
      ctxOf(),
    );
    assert.deepEqual(hexes(steps[0]!.frames).slice(0, 2), ['A368', 'C301']);
    assert.deepEqual(hexes(steps[1]!.frames).slice(0, 2), ['A372', 'C108']);
    assert.equal(steps[1]!.reliesOnDtrFromEarlierStep, true);
  });

  it('orders level-only steps first and groups colour steps by mirek', () => {
    const steps = planSetpoints(
      [
        { address: short(1), level: 10, mirek: 250 },
        { address: short(2), level: 20, mirek: 370 },
        { address: short(3), level: 30 },
        { address: short(4), level: 40, mirek: 250 },
      ],
      ctxOf(),
    );
    assert.deepEqual(
      steps.map((s) => (s.target.kind === 'short' ? s.target.address : -1)),
      [3, 1, 4, 2],
    );
    assert.equal(planFrames(steps).length, 1 + 7 + 5 + 7);
  });

  it('keeps the request order when targets overlap, and later requests for the same address win', () => {
    const groups = new Map([[0, [1, 2]]]);
    const steps = planSetpoints(
      [
        { address: { kind: 'group', group: 0 }, level: 100, mirek: 300 },
        { address: short(1), level: 50 },
        { address: short(1), level: 60 },
      ],
      ctxOf({}, { groups }),
    );
    assert.equal(steps.length, 2);
    assert.equal(steps[0]!.target.kind, 'group');
    assert.deepEqual(hexes(steps[1]!.frames), ['023C']);
    assert.equal(steps[1]!.applies.length, 2);
  });

  it('collapses identical setpoints for every member of a known group into one group sequence', () => {
    const groups = new Map([[3, [1, 2, 4]]]);
    const reqs: SetpointRequest[] = [1, 2, 4].map((a) => ({ address: short(a), level: 200, mirek: 370 }));
    const steps = planSetpoints(reqs, ctxOf({}, { groups }));
    assert.equal(steps.length, 1);
    assert.deepEqual(steps[0]!.target, { kind: 'group', group: 3 });
    assert.deepEqual(hexes(steps[0]!.frames), ['A372', 'C301', 'C108', '87E7', 'C108', '87E2', '86C8']);
    assert.deepEqual(steps[0]!.applies, reqs);
  });

  it('collapses a group whose members keep their own known mireks into one group DAPC', () => {
    const groups = new Map([[0, [1, 2]]]);
    const reqs: SetpointRequest[] = [
      { address: short(1), level: 90, mirek: 250 },
      { address: short(2), level: 90, mirek: 370 },
    ];
    const known = planSetpoints(reqs, ctxOf({ 1: { mirek: 250 }, 2: { mirek: 370 } }, { groups }));
    assert.deepEqual(hexes(planFrames(known)), ['805A']);
    assert.equal(known[0]!.applies.length, 2);
    const oneUnknown = planSetpoints(reqs, ctxOf({ 1: { mirek: 250 } }, { groups }));
    assert.deepEqual(
      oneUnknown.map((st) => st.target.kind),
      ['short', 'short'],
    );
  });

  it('uses the 5-frame group sequence only when every member has automatic activation on', () => {
    const groups = new Map([[3, [1, 2]]]);
    const reqs: SetpointRequest[] = [1, 2].map((a) => ({ address: short(a), level: 200, mirek: 370 }));
    assert.equal(
      planFrames(planSetpoints(reqs, ctxOf({ 1: { autoActivation: true }, 2: { autoActivation: true } }, { groups }))).length,
      5,
    );
    assert.equal(planFrames(planSetpoints(reqs, ctxOf({ 1: { autoActivation: true } }, { groups }))).length, 7);
  });

  it('skips Tc for a group only when every member already has the mirek', () => {
    const groups = new Map([[0, [1, 2]]]);
    const req: SetpointRequest = { address: { kind: 'group', group: 0 }, level: 50, mirek: 300 };
    assert.equal(planFrames(planSetpoints([req], ctxOf({ 1: { mirek: 300 }, 2: { mirek: 300 } }, { groups }))).length, 1);
    assert.equal(planFrames(planSetpoints([req], ctxOf({ 1: { mirek: 300 }, 2: { mirek: 301 } }, { groups }))).length, 7);
    assert.equal(planFrames(planSetpoints([req], ctxOf({ 1: { mirek: 300 } }))).length, 7, 'unknown membership');
  });

  it('does not collapse a group when one member differs or is missing', () => {
    const groups = new Map([[3, [1, 2, 4]]]);
    const differs = planSetpoints(
      [
        { address: short(1), level: 200 },
        { address: short(2), level: 200 },
        { address: short(4), level: 201 },
      ],
      ctxOf({}, { groups }),
    );
    assert.deepEqual(
      differs.map((s) => s.target.kind),
      ['short', 'short', 'short'],
    );
    const missing = planSetpoints(
      [
        { address: short(1), level: 200 },
        { address: short(2), level: 200 },
      ],
      ctxOf({}, { groups }),
    );
    assert.deepEqual(
      missing.map((s) => s.target.kind),
      ['short', 'short'],
    );
  });

  it('picks the group from the context: the larger fully-covered group wins, leftovers stay short', () => {
    const groups = new Map([
      [0, [1, 2]],
      [1, [1, 2, 3, 4]],
      [2, [5, 6]],
    ]);
    const reqs: SetpointRequest[] = [1, 2, 3, 4, 5, 6, 7].map((a) => ({ address: short(a), level: a <= 4 ? 100 : 150 }));
    const steps = planSetpoints(reqs, ctxOf({}, { groups }));
    const targets = steps.map((s) =>
      s.target.kind === 'group' ? `g${s.target.group}` : s.target.kind === 'short' ? `s${s.target.address}` : s.target.kind,
    );
    assert.deepEqual(targets.sort(), ['g1', 'g2', 's7']);
    assert.equal(
      steps.reduce((n, s) => n + s.applies.length, 0),
      7,
    );
  });

  it('collapses into broadcast when every gear on the bus is in the batch with the same setpoint', () => {
    const all = [0, 1, 2, 3];
    const reqs: SetpointRequest[] = all.map((a) => ({ address: short(a), level: 254, mirek: 250 }));
    const steps = planSetpoints(reqs, ctxOf({}, { allShortAddresses: all, groups: new Map([[0, [0, 1]]]) }));
    assert.equal(steps.length, 1);
    assert.deepEqual(steps[0]!.target, { kind: 'broadcast' });
    assert.deepEqual(hexes(steps[0]!.frames), ['A3FA', 'C300', 'C108', 'FFE7', 'C108', 'FFE2', 'FEFE']);
    assert.equal(steps[0]!.applies.length, 4);
  });

  it('does not broadcast when a gear of the bus is missing from the batch or differs', () => {
    const all = [0, 1, 2];
    const missing = planSetpoints(
      [0, 1].map((a) => ({ address: short(a), level: 10 })),
      ctxOf({}, { allShortAddresses: all }),
    );
    assert.ok(missing.every((s) => s.target.kind === 'short'));
    const differs = planSetpoints(
      all.map((a) => ({ address: short(a), level: a === 2 ? 11 : 10 })),
      ctxOf({}, { allShortAddresses: all }),
    );
    assert.ok(differs.every((s) => s.target.kind === 'short'));
  });

  it('continues from known DTR contents of the previous batch', () => {
    const steps = planSetpoints([{ address: short(5), mirek: 370 }], ctxOf({}, { dtrState: { dtr0: 0x72, dtr1: 0x01 } }));
    assert.deepEqual(hexes(steps[0]!.frames), ['C108', '0BE7', 'C108', '0BE2']);
    assert.equal(steps[0]!.reliesOnDtrFromEarlierStep, true);
  });
});

describe('dali sequence planner: properties (seeded)', () => {
  /** Simulates DT8 gear reading the planned frames; returns level/mirek per short address. */
  function simulate(
    frames: readonly ForwardFrame[],
    members: (a: GearAddress) => number[],
  ): Map<number, { level?: number; mirek?: number }> {
    const state = new Map<number, { level?: number; mirek?: number; temp?: number }>();
    let d0 = -1;
    let d1 = -1;
    const dec = new FrameDecoder();
    for (const f of frames) {
      const d = dec.decode(f.bits, f.value);
      if (d.kind === 'special' && d.name === 'DTR0') d0 = d.data;
      else if (d.kind === 'special' && d.name === 'DTR1') d1 = d.data;
      else if (d.kind === 'dt8' && d.name === 'SET TEMPORARY COLOUR TEMPERATURE') {
        for (const a of members(d.address)) state.set(a, { ...state.get(a), temp: (d1 << 8) | d0 });
      } else if (d.kind === 'dt8' && d.name === 'ACTIVATE') {
        for (const a of members(d.address)) {
          const s = state.get(a) ?? {};
          if (s.temp !== undefined) state.set(a, { ...s, mirek: s.temp, temp: undefined });
        }
      } else if (d.kind === 'dapc') {
        for (const a of members(d.address)) {
          const s = state.get(a) ?? {};
          // automatic activation: all gear in these runs have it on when `auto` is set
          state.set(a, { ...s, level: d.level, ...(autoOn && s.temp !== undefined ? { mirek: s.temp, temp: undefined } : {}) });
        }
      } else if (!(d.kind === 'special' && d.name === 'ENABLE DEVICE TYPE')) {
        assert.fail(`unexpected frame ${d.name}`);
      }
    }
    const out = new Map<number, { level?: number; mirek?: number }>();
    for (const [a, s] of state)
      out.set(a, { ...(s.level !== undefined ? { level: s.level } : {}), ...(s.mirek !== undefined ? { mirek: s.mirek } : {}) });
    return out;
  }
  let autoOn = false;

  it('the planned frames reach every requested level and mirek, never more frames than naive', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = mulberry32(seed);
      autoOn = rng() < 0.5;
      const all = Array.from({ length: randInt(rng, 2, 8) }, (_, i) => i);
      const groups = new Map<number, number[]>([
        [0, all.filter((a) => a % 2 === 0)],
        [1, all.filter((a) => a < 3)],
      ]);
      const knowledge: Record<number, GearKnowledge> = {};
      for (const a of all) knowledge[a] = { autoActivation: autoOn, ...(rng() < 0.5 ? { mirek: pick(rng, [250, 370]) } : {}) };
      const shared = { level: randInt(rng, 0, 254), mirek: pick(rng, [250, 300, 370, undefined]) };
      const reqs: SetpointRequest[] = all
        .filter(() => rng() < 0.8)
        .map((a) =>
          rng() < 0.6
            ? { address: short(a), ...shared }
            : { address: short(a), level: randInt(rng, 0, 254), mirek: pick(rng, [250, 360, 370, undefined]) },
        )
        .map((r) => (r.mirek === undefined ? { address: r.address, level: r.level } : r));
      const steps: PlannedStep[] = planSetpoints(reqs, ctxOf(knowledge, { groups, allShortAddresses: all }));
      const frames = planFrames(steps);
      const naive = reqs.flatMap(naiveFrames);
      assert.ok(frames.length <= naive.length, `seed ${seed}: ${frames.length} > naive ${naive.length}`);
      const members = (a: GearAddress): number[] =>
        a.kind === 'short' ? [a.address] : a.kind === 'group' ? (groups.get(a.group) ?? []) : a.kind === 'broadcast' ? all : [];
      const result = simulate(frames, members);
      for (const r of reqs) {
        const a = (r.address as { address: number }).address;
        const got = result.get(a) ?? {};
        assert.equal(got.level, r.level, `seed ${seed} level of ${a}`);
        const expectedMirek = r.mirek !== undefined && knowledge[a]?.mirek !== r.mirek ? r.mirek : undefined;
        if (expectedMirek !== undefined) assert.equal(got.mirek, expectedMirek, `seed ${seed} mirek of ${a}`);
      }
      assert.equal(
        steps.reduce((n, s) => n + s.applies.length, 0),
        reqs.length,
        `seed ${seed}: every request applied once`,
      );
      for (const f of frames) assert.notEqual(decodeFrame(f.bits, f.value, { enabledDeviceType: 8 }).kind, 'unknown');
    }
  });
});
