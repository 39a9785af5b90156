/**
 * Setpoint sequence planner: turns a batch of setpoints {address, arc power
 * level, mirek} into the fewest DALI frames that apply them.
 *
 * Rules (IEC 62386-102/209):
 * - Level only (no mirek requested, or the gear's last known mirek already
 *   equals the request): 1 frame, DAPC.
 * - Level + Tc, automatic activation unknown or off (7 frames):
 *   DTR0 lsb, DTR1 msb, EDT 8, SET TEMPORARY COLOUR TEMPERATURE, EDT 8, ACTIVATE, DAPC.
 * - Level + Tc, automatic activation known ON (5 frames): the gear applies
 *   the temporary colour with the next arc power command, so
 *   DTR0, DTR1, EDT 8, SET TEMPORARY COLOUR TEMPERATURE, DAPC.
 * - Tc only (6 frames): DTR0, DTR1, EDT 8, SET TEMPORARY COLOUR TEMPERATURE,
 *   EDT 8, ACTIVATE -- also when automatic activation is on. The only
 *   cheaper trigger would be an arc power command, and each has a cost:
 *   DAPC(known level) overrides a level change the planner did not see
 *   (wall panel scene), DAPC(MASK) stops a running fade and gear differ on
 *   whether MASK counts as an arc power command for automatic activation.
 *   ACTIVATE is defined to work in every mode, for 1 extra frame.
 * - The level is always sent when requested (re-asserting a level costs one
 *   frame and heals stale knowledge); Tc is skipped when the known mirek of
 *   every addressed gear equals the request.
 * - DTR0/DTR1 are broadcast registers: a value written once serves every
 *   later SET TEMPORARY COLOUR TEMPERATURE in the batch while nothing else
 *   writes them. The planner tracks DTR0 and DTR1 separately (two mireks
 *   with the same MSB share DTR1) and marks steps that rely on a DTR written
 *   by an earlier step, so a scheduler that lets a foreign frame in between
 *   can make the step self-contained again (`selfContainedFrames`).
 * - Identical setpoints for all members of a known group collapse into one
 *   group sequence (also when they differ only in mireks each member is
 *   known to have already: then the group gets the level alone); identical setpoints for all gear in
 *   `ctx.allShortAddresses` (which the caller asserts is every gear on the
 *   bus) collapse into broadcast. A group where one member differs is not
 *   collapsed (sending the group value and then correcting that member would
 *   show it the wrong value for a moment).
 * - Several requests for the same address in one batch merge (later fields
 *   win). When no two targets overlap, steps are reordered: level-only steps
 *   first (quickest visible response), then colour steps sorted by mirek so
 *   DTRs are reused; with overlapping targets the request order is kept.
 */
import { ForwardFrame, GearAddress } from './types';
import { DEVICE_TYPE_COLOUR, Dt8Command, SpecialCommand } from './opcodes';
import { dapc, dt8Command, dtr0, dtr1, enableDeviceType, encodeGearAddressByte } from './codec';

/** What the bus facade knows about one gear (undefined fields = unknown). */
export interface GearKnowledge {
  /** Last known arc power level. */
  readonly level?: number;
  /** Last known colour temperature in mirek. */
  readonly mirek?: number;
  /** Bit 0 of QUERY GEAR FEATURES/STATUS: temporary colour applied by the next arc power command. */
  readonly autoActivation?: boolean;
}

export interface SetpointRequest {
  readonly address: GearAddress;
  /** Arc power level 0..254 (0 = off). Undefined = leave the level alone. */
  readonly level?: number;
  /** Colour temperature 1..65534 mirek. Undefined = leave the colour alone. */
  readonly mirek?: number;
}

export interface PlanContext {
  /** Knowledge about a short address, or undefined when nothing is known. */
  gear(shortAddress: number): GearKnowledge | undefined;
  /** Group number (0..15) -> member short addresses. */
  readonly groups?: ReadonlyMap<number, readonly number[]>;
  /** Every gear on the bus; enables collapsing to broadcast. */
  readonly allShortAddresses?: readonly number[];
  /** DTR contents known to be on the bus before this batch (e.g. left by the previous batch with nothing in between). */
  readonly dtrState?: { readonly dtr0?: number; readonly dtr1?: number };
}

export interface PlannedStep {
  /** Where the frames go. */
  readonly target: GearAddress;
  /** Frames in bus order. May be empty when the request needs no frame. */
  readonly frames: ForwardFrame[];
  /** The requests this step fulfils (several after a group/broadcast collapse). */
  readonly applies: SetpointRequest[];
  /** True when the SET TEMPORARY COLOUR TEMPERATURE of this step reads a DTR written before this step. */
  readonly reliesOnDtrFromEarlierStep: boolean;
  /** DTR values the step's SET TEMPORARY COLOUR TEMPERATURE reads; undefined without Tc. */
  readonly dtr?: { readonly dtr0: number; readonly dtr1: number };
  readonly sendsLevel: boolean;
  readonly sendsColour: boolean;
}

function checkRequest(r: SetpointRequest): void {
  if (r === null || typeof r !== 'object') throw new RangeError(`setpoint request must be an object, got ${String(r)}`);
  encodeGearAddressByte(r.address, false); // validates the address
  if (r.level !== undefined && (typeof r.level !== 'number' || !Number.isInteger(r.level) || r.level < 0 || r.level > 254)) {
    throw new RangeError(`setpoint level must be an integer arc power level 0..254, got ${String(r.level)}`);
  }
  if (r.mirek !== undefined && (typeof r.mirek !== 'number' || !Number.isInteger(r.mirek) || r.mirek < 1 || r.mirek > 0xfffe)) {
    throw new RangeError(`setpoint mirek must be an integer 1..65534, got ${String(r.mirek)}`);
  }
}

function addressKey(a: GearAddress): number {
  return encodeGearAddressByte(a, false);
}

/** Short addresses reached by a target, or undefined when unknown (group without membership). */
function membersOf(a: GearAddress, ctx: PlanContext): readonly number[] | undefined {
  switch (a.kind) {
    case 'short':
      return [a.address];
    case 'group':
      return ctx.groups?.get(a.group);
    case 'broadcast':
      return ctx.allShortAddresses;
    case 'broadcastUnaddressed':
      return undefined;
  }
}

interface Combined {
  mirek?: number;
  autoActivation: boolean;
}

/** Knowledge valid for every member: common mirek, auto activation only if all known ON. */
function combinedKnowledge(a: GearAddress, ctx: PlanContext): Combined {
  const members = membersOf(a, ctx);
  if (!members || members.length === 0) return { autoActivation: false };
  let mirek: number | undefined;
  let auto = true;
  for (let i = 0; i < members.length; i++) {
    const k = ctx.gear(members[i] as number);
    if (!k || k.autoActivation !== true) auto = false;
    const m = k?.mirek;
    if (i === 0) mirek = m;
    else if (m !== mirek) mirek = undefined;
    if (mirek === undefined && !auto) break;
  }
  return { ...(mirek !== undefined ? { mirek } : {}), autoActivation: auto };
}

interface Work {
  target: GearAddress;
  level?: number;
  mirek?: number;
  applies: SetpointRequest[];
}

/** Mirek still to send to a short address: undefined when the gear is known to have it already. */
function effectiveMirek(w: Work, ctx: PlanContext): number | undefined {
  if (w.mirek === undefined || w.target.kind !== 'short') return w.mirek;
  return ctx.gear(w.target.address)?.mirek === w.mirek ? undefined : w.mirek;
}

/**
 * The common setpoint of all members, or undefined. Identical requests
 * qualify; so do requests that differ only in mireks every member already
 * has (then the common setpoint carries no mirek).
 */
function commonSetpoint(ws: readonly Work[], ctx: PlanContext): { level?: number; mirek?: number } | undefined {
  const first = ws[0];
  if (!first) return undefined;
  if (ws.every((w) => w.level === first.level && w.mirek === first.mirek)) return levelMirek(first);
  const m = effectiveMirek(first, ctx);
  if (ws.every((w) => w.level === first.level && effectiveMirek(w, ctx) === m)) {
    return { ...(first.level !== undefined ? { level: first.level } : {}), ...(m !== undefined ? { mirek: m } : {}) };
  }
  return undefined;
}

/** Merges duplicate addresses (later fields win), keeping the first position. */
function merge(requests: readonly SetpointRequest[]): Work[] {
  const byKey = new Map<number, Work>();
  const out: Work[] = [];
  for (const r of requests) {
    checkRequest(r);
    const key = addressKey(r.address);
    const w = byKey.get(key);
    if (w) {
      if (r.level !== undefined) w.level = r.level;
      if (r.mirek !== undefined) w.mirek = r.mirek;
      w.applies.push(r);
    } else {
      const nw: Work = {
        target: r.address,
        ...(r.level !== undefined ? { level: r.level } : {}),
        ...(r.mirek !== undefined ? { mirek: r.mirek } : {}),
        applies: [r],
      };
      byKey.set(key, nw);
      out.push(nw);
    }
  }
  return out;
}

/** Replaces identical short-address setpoints by broadcast or group targets. */
function collapse(work: Work[], ctx: PlanContext): Work[] {
  const shortWork = new Map<number, Work>();
  for (const w of work) if (w.target.kind === 'short') shortWork.set(w.target.address, w);
  if (shortWork.size < 2) return work;

  const replaced = new Map<Work, Work | null>(); // original -> replacement (first member) or null (dropped)

  const all = ctx.allShortAddresses;
  if (all && all.length >= 2 && shortWork.size >= all.length) {
    const uniqAll = [...new Set(all)];
    const ws = uniqAll.map((a) => shortWork.get(a));
    // Only when no other kind of target is in the batch (explicit group/broadcast requests keep their meaning).
    if (ws.every((w): w is Work => w !== undefined) && work.every((w) => w.target.kind === 'short') && shortWork.size === uniqAll.length) {
      const common = commonSetpoint(ws, ctx);
      if (common) return [{ target: { kind: 'broadcast' }, ...common, applies: ws.flatMap((w) => w.applies) }];
    }
  }

  if (ctx.groups && ctx.groups.size > 0) {
    const groups = [...ctx.groups.entries()]
      .filter(([g, m]) => Number.isInteger(g) && g >= 0 && g <= 15 && m.length >= 2)
      .sort((x, y) => y[1].length - x[1].length || x[0] - y[0]);
    const taken = new Set<number>();
    for (const [g, members] of groups) {
      const uniq = [...new Set(members)];
      if (uniq.some((a) => taken.has(a))) continue;
      const ws = uniq.map((a) => shortWork.get(a));
      if (!ws.every((w): w is Work => w !== undefined)) continue;
      const common = commonSetpoint(ws, ctx);
      if (!common) continue;
      const gw: Work = { target: { kind: 'group', group: g }, ...common, applies: ws.flatMap((w) => w.applies) };
      uniq.forEach((a, i) => {
        taken.add(a);
        replaced.set(shortWork.get(a) as Work, i === 0 ? gw : null);
      });
    }
  }
  if (replaced.size === 0) return work;
  const out: Work[] = [];
  for (const w of work) {
    const r = replaced.get(w);
    if (r === undefined) out.push(w);
    else if (r !== null) out.push(r);
  }
  return out;
}

function levelMirek(w: Work): { level?: number; mirek?: number } {
  return { ...(w.level !== undefined ? { level: w.level } : {}), ...(w.mirek !== undefined ? { mirek: w.mirek } : {}) };
}

/** True when two targets may reach a common gear (unknown membership counts as overlapping). */
function overlaps(a: GearAddress, b: GearAddress, ctx: PlanContext): boolean {
  const ma = membersOf(a, ctx);
  const mb = membersOf(b, ctx);
  if (!ma || !mb) return true;
  if (a.kind === 'broadcast' || b.kind === 'broadcast') return true;
  const s = new Set(ma);
  return mb.some((x) => s.has(x));
}

interface Decided {
  w: Work;
  colour: boolean;
  auto: boolean;
}

/**
 * Plans a batch of setpoints. Throws RangeError for invalid requests
 * (address out of range, level outside 0..254, mirek outside 1..65534).
 */
export function planSetpoints(requests: readonly SetpointRequest[], ctx: PlanContext): PlannedStep[] {
  const merged = merge(requests);
  const work = collapse(merged, ctx);

  const decided: Decided[] = work.map((w) => {
    const k = combinedKnowledge(w.target, ctx);
    const colour = w.mirek !== undefined && k.mirek !== w.mirek;
    return { w, colour, auto: k.autoActivation };
  });

  let ordered = decided;
  let canReorder = true;
  for (let i = 0; i < work.length && canReorder; i++) {
    for (let j = i + 1; j < work.length; j++) {
      if (overlaps((work[i] as Work).target, (work[j] as Work).target, ctx)) {
        canReorder = false;
        break;
      }
    }
  }
  if (canReorder) {
    const levelOnly = decided.filter((d) => !d.colour);
    const colour = decided
      .map((d, i) => ({ d, i }))
      .filter((x) => x.d.colour)
      .sort((x, y) => (x.d.w.mirek as number) - (y.d.w.mirek as number) || x.i - y.i)
      .map((x) => x.d);
    ordered = [...levelOnly, ...colour];
  }

  let curDtr0 = ctx.dtrState?.dtr0;
  let curDtr1 = ctx.dtrState?.dtr1;
  const steps: PlannedStep[] = [];
  for (const { w, colour, auto } of ordered) {
    const frames: ForwardFrame[] = [];
    let relies = false;
    let dtr: { dtr0: number; dtr1: number } | undefined;
    const sendsLevel = w.level !== undefined;
    if (colour) {
      const m = w.mirek as number;
      dtr = { dtr0: m & 0xff, dtr1: (m >> 8) & 0xff };
      if (curDtr0 === dtr.dtr0) relies = true;
      else frames.push(dtr0(dtr.dtr0));
      if (curDtr1 === dtr.dtr1) relies = true;
      else frames.push(dtr1(dtr.dtr1));
      curDtr0 = dtr.dtr0;
      curDtr1 = dtr.dtr1;
      frames.push(enableDeviceType(DEVICE_TYPE_COLOUR), dt8Command(w.target, Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE));
      if (!(auto && sendsLevel)) {
        frames.push(enableDeviceType(DEVICE_TYPE_COLOUR), dt8Command(w.target, Dt8Command.ACTIVATE));
      }
    }
    if (sendsLevel) frames.push(dapc(w.target, w.level as number));
    steps.push({
      target: w.target,
      frames,
      applies: w.applies,
      reliesOnDtrFromEarlierStep: relies,
      ...(dtr ? { dtr } : {}),
      sendsLevel,
      sendsColour: colour,
    });
  }
  return steps;
}

function isDtr01(f: ForwardFrame): boolean {
  if (f.bits !== 16) return false;
  const a = f.value >> 8;
  return a === SpecialCommand.DTR0 || a === SpecialCommand.DTR1;
}

/**
 * The frames of a step with its own DTR0/DTR1 writes, for re-sending it
 * after a foreign frame may have changed the DTRs.
 */
export function selfContainedFrames(step: PlannedStep): ForwardFrame[] {
  if (!step.dtr || !step.reliesOnDtrFromEarlierStep) return step.frames.slice();
  return [dtr0(step.dtr.dtr0), dtr1(step.dtr.dtr1), ...step.frames.filter((f) => !isDtr01(f))];
}

/** All frames of a plan in bus order. */
export function planFrames(steps: readonly PlannedStep[]): ForwardFrame[] {
  return steps.flatMap((s) => s.frames);
}

/**
 * The naive sequence for one request, for benchmarks: level + Tc = the full
 * 7 frames (DTR0, DTR1, EDT 8, SET TEMPORARY COLOUR TEMPERATURE, EDT 8,
 * ACTIVATE, DAPC), Tc only = the first 6, level only = DAPC.
 */
export function naiveFrames(request: SetpointRequest): ForwardFrame[] {
  checkRequest(request);
  const frames: ForwardFrame[] = [];
  if (request.mirek !== undefined) {
    frames.push(
      dtr0(request.mirek & 0xff),
      dtr1((request.mirek >> 8) & 0xff),
      enableDeviceType(DEVICE_TYPE_COLOUR),
      dt8Command(request.address, Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE),
      enableDeviceType(DEVICE_TYPE_COLOUR),
      dt8Command(request.address, Dt8Command.ACTIVATE),
    );
  }
  if (request.level !== undefined) frames.push(dapc(request.address, request.level));
  return frames;
}
