/**
 * What a DaliBus knows about the gear on its bus, per short address: last
 * level and colour temperature sent or seen, automatic activation, device
 * types, Tc limits, and group membership where it is known completely.
 *
 * It learns from our own setpoints (`learn`), from queries (the setters) and
 * from 16-bit frames of other masters or of raw sends (`learnFromFrame`, one
 * small handler per command). The planner reads it through `planContext`,
 * which leaves out level/colour older than the TTL.
 */
import type { DecodedFrame } from '../codec';
import { Dt8Command, GearCommand, SpecialCommand } from '../opcodes';
import type { PlanContext } from '../sequence';
import type { GearAddress } from '../types';

/** Tc limits in mirek (null where the gear answered MASK). */
export interface TcLimitsReading {
  readonly coolestMirek: number | null;
  readonly warmestMirek: number | null;
  readonly physicalCoolestMirek: number | null;
  readonly physicalWarmestMirek: number | null;
}

/** What the bus knows about one short address. */
export interface KnownGear {
  readonly level?: number;
  readonly mirek?: number;
  readonly autoActivation?: boolean;
  /** Groups this gear belongs to, when known. */
  readonly groups?: readonly number[];
  readonly deviceTypes?: readonly number[];
  readonly tcLimits?: TcLimitsReading;
}

/** What is known about the bus from commissioning. */
export interface GearInventory {
  /** Short addresses of the gear. */
  readonly shortAddresses?: readonly number[];
  /** Group number -> member short addresses (complete membership). */
  readonly groups?: Readonly<Record<number, readonly number[]>> | ReadonlyMap<number, readonly number[]>;
  /** True: shortAddresses is every gear on the bus (lets the planner use broadcast). */
  readonly complete?: boolean;
}

interface MutableGear {
  level?: number;
  levelAt?: number;
  mirek?: number;
  mirekAt?: number;
  autoActivation?: boolean;
  deviceTypes?: number[];
  tcLimits?: TcLimitsReading;
  /** SET TEMPORARY COLOUR TEMPERATURE seen from a foreign master, not yet activated (null = value unknown). */
  foreignTemporaryMirek?: number | null;
}

/** The short addresses an address reaches; `complete` false when that is not known for sure. */
type Affected = { readonly shorts: readonly number[]; readonly complete: boolean };

/** Called when a foreign arc power command took over the level of the gear `address` reaches. */
export type LevelTakenOver = (address: GearAddress) => void;

export function checkShort(short: number): void {
  if (!Number.isInteger(short) || short < 0 || short > 63) {
    throw new RangeError(`short address must be an integer 0..63, got ${String(short)}`);
  }
}

/** Stable key of an address (one queue slot and one remembered setpoint per key). */
export function addressKey(a: GearAddress): string {
  switch (a.kind) {
    case 'short':
      return `s${a.address}`;
    case 'group':
      return `g${a.group}`;
    case 'broadcast':
      return 'b';
    case 'broadcastUnaddressed':
      return 'u';
  }
}

export class GearKnowledge {
  private readonly gear = new Map<number, MutableGear>();
  /** Known complete group membership. */
  private readonly groupMembers = new Map<number, Set<number>>();
  /** Group membership the inventory declares: what forgetGroups() goes back to. */
  private readonly declaredGroups = new Map<number, readonly number[]>();
  /** True when the inventory lists every gear on the bus. */
  readonly inventoryComplete: boolean;
  /** DTR0/DTR1 as last put on the bus (by us or others), to read a foreign SET TEMPORARY COLOUR TEMPERATURE. */
  private observedDtr: { dtr0?: number; dtr1?: number } = {};

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    inventory?: GearInventory,
  ) {
    for (const s of inventory?.shortAddresses ?? []) if (Number.isInteger(s) && s >= 0 && s <= 63) this.entry(s);
    const groups = inventory?.groups;
    if (groups) {
      const pairs: [number, readonly number[]][] =
        groups instanceof Map
          ? [...(groups as ReadonlyMap<number, readonly number[]>).entries()]
          : Object.entries(groups as Readonly<Record<number, readonly number[]>>).map(([g, m]) => [Number(g), m]);
      for (const [g, members] of pairs) {
        this.setGroupMembers(g, members);
        this.declaredGroups.set(g, [...members]);
      }
    }
    this.inventoryComplete = inventory?.complete === true && this.gear.size > 0;
  }

  // ---------------------------------------------------------------- reading

  /** What is known about a short address (a copy). */
  knowledge(short: number): KnownGear | undefined {
    const g = this.gear.get(short);
    if (!g) return undefined;
    const groups: number[] = [];
    for (const [grp, members] of this.groupMembers) if (members.has(short)) groups.push(grp);
    return {
      ...(g.level !== undefined ? { level: g.level } : {}),
      ...(g.mirek !== undefined ? { mirek: g.mirek } : {}),
      ...(g.autoActivation !== undefined ? { autoActivation: g.autoActivation } : {}),
      ...(this.groupMembers.size > 0 ? { groups: groups.sort((a, b) => a - b) } : {}),
      ...(g.deviceTypes ? { deviceTypes: [...g.deviceTypes] } : {}),
      ...(g.tcLimits ? { tcLimits: g.tcLimits } : {}),
    };
  }

  /** Short addresses known (inventory, commands, queries), ascending. */
  knownShortAddresses(): number[] {
    return [...this.gear.keys()].sort((a, b) => a - b);
  }

  /** Automatic activation of a short address, when known. */
  autoActivation(short: number): boolean | undefined {
    return this.gear.get(short)?.autoActivation;
  }

  /** The short addresses an address reaches (see DaliBus.members). */
  members(address: GearAddress): { shorts: number[]; complete: boolean } {
    const r = this.affected(address);
    const complete = address.kind === 'broadcast' ? this.inventoryComplete : r.complete;
    return { shorts: [...r.shorts].sort((a, b) => a - b), complete };
  }

  /** True when a setpoint to `a` may change gear reached by `b`. */
  overlaps(a: GearAddress, b: GearAddress): boolean {
    if (a.kind === 'broadcast' || b.kind === 'broadcast') return true;
    if (a.kind === 'broadcastUnaddressed' || b.kind === 'broadcastUnaddressed') return a.kind === b.kind;
    if (a.kind === 'short' && b.kind === 'short') return a.address === b.address;
    const ra = this.affected(a);
    const rb = this.affected(b);
    if (!ra.complete || !rb.complete) return true;
    const s = new Set(ra.shorts);
    return rb.shorts.some((x) => s.has(x));
  }

  /** True when every gear `inner` reaches is certainly reached by `outer`. */
  covers(outer: GearAddress, inner: GearAddress): boolean {
    if (outer.kind === 'broadcast') return true;
    if (addressKey(outer) === addressKey(inner)) return true;
    if (outer.kind === 'group' && inner.kind === 'short') {
      return this.groupMembers.get(outer.group)?.has(inner.address) === true;
    }
    return false;
  }

  /** What the planner may rely on: fresh level/colour, automatic activation, groups, DTR left by us. */
  planContext(dtrState: { dtr0: number; dtr1: number } | undefined): PlanContext {
    const t = this.now();
    const groups = new Map<number, number[]>();
    for (const [g, m] of this.groupMembers) groups.set(g, [...m]);
    return {
      gear: (short) => {
        const g = this.gear.get(short);
        if (!g) return undefined;
        const fresh = (at: number | undefined): boolean => at !== undefined && t - at <= this.ttlMs;
        return {
          ...(g.level !== undefined && fresh(g.levelAt) ? { level: g.level } : {}),
          ...(g.mirek !== undefined && fresh(g.mirekAt) ? { mirek: g.mirek } : {}),
          ...(g.autoActivation !== undefined ? { autoActivation: g.autoActivation } : {}),
        };
      },
      groups,
      ...(this.inventoryComplete ? { allShortAddresses: [...this.gear.keys()] } : {}),
      ...(dtrState ? { dtrState } : {}),
    };
  }

  // ---------------------------------------------------------------- learning from our own work

  /** Declares the complete membership of a group (from commissioning). */
  setGroupMembers(group: number, members: readonly number[]): void {
    if (!Number.isInteger(group) || group < 0 || group > 15) throw new RangeError(`group must be 0..15, got ${String(group)}`);
    const set = new Set<number>();
    for (const m of members) {
      checkShort(m);
      set.add(m);
      this.entry(m);
    }
    this.groupMembers.set(group, set);
  }

  /**
   * Forgets the group membership learned since construction (scans,
   * commissioning): back to what the inventory declares (the installer's
   * word, e.g. a simulated bus), every other group reaches "not known" gear.
   */
  forgetGroups(): void {
    this.groupMembers.clear();
    for (const [g, members] of this.declaredGroups) this.groupMembers.set(g, new Set(members));
  }

  /** QUERY GROUPS of one short address: updates the groups whose membership is known; returns the groups. */
  learnGroups(short: number, mask: number): number[] {
    const groups: number[] = [];
    for (let g = 0; g < 16; g++) {
      const member = (mask & (1 << g)) !== 0;
      if (member) groups.push(g);
      const known = this.groupMembers.get(g);
      if (known && member) known.add(short);
      else if (known) known.delete(short);
    }
    return groups;
  }

  /** A short address that exists (it was addressed or answered). */
  addShort(short: number): void {
    this.entry(short);
  }

  setAutoActivation(short: number, on: boolean): void {
    this.entry(short).autoActivation = on;
  }

  setDeviceTypes(short: number, types: number[]): void {
    this.entry(short).deviceTypes = types;
  }

  setTcLimits(short: number, limits: TcLimitsReading): void {
    this.entry(short).tcLimits = limits;
  }

  /** Forgets level/colour knowledge (all, or one short address): the next setpoint sends everything. */
  forget(short?: number): void {
    const targets = short === undefined ? [...this.gear.values()] : [this.gear.get(short)].filter((g) => g !== undefined);
    for (const g of targets) {
      delete g.level;
      delete g.mirek;
      delete g.foreignTemporaryMirek;
    }
  }

  /** Sets (or with undefined forgets) a field for the gear an address reaches; unknown reach forgets it everywhere. */
  learn(a: GearAddress, field: 'level' | 'mirek', value: number | undefined): void {
    const { shorts, complete } = this.affected(a);
    const t = this.now();
    for (const s of shorts) {
      const g = this.entry(s);
      if (complete && value !== undefined) {
        if (field === 'level') {
          g.level = value;
          g.levelAt = t;
        } else {
          g.mirek = value;
          g.mirekAt = t;
        }
      } else if (field === 'level') {
        delete g.level;
      } else {
        delete g.mirek;
      }
    }
  }

  /** DTR0/DTR1 our own setpoint step left on the bus. */
  noteDtr(dtr: { dtr0: number; dtr1: number }): void {
    this.observedDtr = { ...dtr };
  }

  /** A query of ours may have changed DTR0 (QUERY COLOUR VALUE and friends). */
  dtr0Changed(): void {
    delete this.observedDtr.dtr0;
  }

  /** After a reconnect: the DTR values are unknown. */
  forgetDtr(): void {
    this.observedDtr = {};
  }

  // ---------------------------------------------------------------- learning from frames

  /**
   * Updates knowledge from a 16-bit frame sent by someone else (foreign) or
   * by a raw send(). `levelTakenOver` hears of foreign arc power commands.
   */
  learnFromFrame(d: DecodedFrame, levelTakenOver?: LevelTakenOver): void {
    switch (d.kind) {
      case 'special':
        this.onDtrWrite(d.opcode, d.data);
        return;
      case 'dapc':
        this.onDapc(d.address, d.level, levelTakenOver);
        return;
      case 'gearCommand':
        this.onGearCommand(d.address, d.opcode, levelTakenOver);
        return;
      case 'dt8':
        this.onDt8Command(d.address, d.opcode);
        return;
      case 'unknown':
        if (d.bits === 16) this.forget();
        return;
      default:
        return;
    }
  }

  private onDtrWrite(opcode: number, data: number): void {
    if (opcode === SpecialCommand.DTR0) this.observedDtr.dtr0 = data;
    else if (opcode === SpecialCommand.DTR1) this.observedDtr.dtr1 = data;
  }

  private onDapc(address: GearAddress, level: number, levelTakenOver?: LevelTakenOver): void {
    if (level === 0xff) {
      this.learn(address, 'level', undefined);
    } else {
      this.learn(address, 'level', level);
      levelTakenOver?.(address);
    }
    this.autoActivate(address);
  }

  private onGearCommand(address: GearAddress, op: number, levelTakenOver?: LevelTakenOver): void {
    if (op < GearCommand.RESET) this.onArcPowerCommand(address, op, levelTakenOver);
    else if (op === GearCommand.RESET) this.onReset(address);
    else if (op === GearCommand.SET_MAX_LEVEL || op === GearCommand.SET_MIN_LEVEL) this.learn(address, 'level', undefined);
    else if (op >= GearCommand.ADD_TO_GROUP && op < GearCommand.REMOVE_FROM_GROUP + 16) this.onGroupChange(address, op);
  }

  /** OFF, UP, DOWN, STEP..., RECALL..., GO TO SCENE: only OFF leaves a known level. */
  private onArcPowerCommand(address: GearAddress, op: number, levelTakenOver?: LevelTakenOver): void {
    this.learn(address, 'level', op === GearCommand.OFF ? 0 : undefined);
    if (op !== GearCommand.ENABLE_DAPC_SEQUENCE) levelTakenOver?.(address);
    this.autoActivate(address);
  }

  private onReset(address: GearAddress): void {
    for (const s of this.affected(address).shorts) {
      this.gear.set(s, {});
      for (const m of this.groupMembers.values()) m.delete(s);
    }
  }

  /** ADD TO GROUP / REMOVE FROM GROUP (+ group in the low nibble). */
  private onGroupChange(address: GearAddress, op: number): void {
    const group = op & 0x0f;
    const add = op < GearCommand.REMOVE_FROM_GROUP;
    const members = this.groupMembers.get(group);
    if (!members) return;
    const { shorts, complete } = this.affected(address);
    if (!complete) {
      this.groupMembers.delete(group);
      return;
    }
    for (const s of shorts) {
      if (add) members.add(s);
      else members.delete(s);
    }
  }

  private onDt8Command(address: GearAddress, op: number): void {
    switch (op) {
      case Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE:
        this.onTemporaryColourTemperature(address);
        return;
      case Dt8Command.ACTIVATE:
        this.onActivate(address);
        return;
      case Dt8Command.COLOUR_TEMPERATURE_STEP_COOLER:
      case Dt8Command.COLOUR_TEMPERATURE_STEP_WARMER:
        this.learn(address, 'mirek', undefined);
        return;
      case Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT:
        for (const s of this.affected(address).shorts) {
          const g = this.entry(s);
          delete g.tcLimits;
          delete g.mirek;
        }
        return;
      case Dt8Command.STORE_GEAR_FEATURES_STATUS:
        for (const s of this.affected(address).shorts) delete this.entry(s).autoActivation;
        return;
      default:
        return;
    }
  }

  /** The temporary colour is DTR1:DTR0 as last seen; pending until ACTIVATE (or an arc power command with automatic activation). */
  private onTemporaryColourTemperature(address: GearAddress): void {
    const { shorts, complete } = this.affected(address);
    const known = this.observedDtr.dtr0 !== undefined && this.observedDtr.dtr1 !== undefined;
    const value = known ? ((this.observedDtr.dtr1 as number) << 8) | (this.observedDtr.dtr0 as number) : null;
    for (const s of shorts) this.entry(s).foreignTemporaryMirek = complete ? value : null;
  }

  private onActivate(address: GearAddress): void {
    const { shorts, complete } = this.affected(address);
    for (const s of shorts) {
      const g = this.entry(s);
      if (complete && g.foreignTemporaryMirek !== undefined && g.foreignTemporaryMirek !== null) {
        g.mirek = g.foreignTemporaryMirek;
        g.mirekAt = this.now();
      } else if (g.foreignTemporaryMirek !== undefined || !complete) {
        delete g.mirek;
      }
      delete g.foreignTemporaryMirek;
    }
  }

  /** An arc power command applies a pending temporary colour where automatic activation is on. */
  private autoActivate(a: GearAddress): void {
    for (const s of this.affected(a).shorts) {
      const g = this.entry(s);
      if (g.foreignTemporaryMirek === undefined || g.autoActivation === false) continue;
      if (g.autoActivation === true && g.foreignTemporaryMirek !== null) {
        g.mirek = g.foreignTemporaryMirek;
        g.mirekAt = this.now();
      } else {
        delete g.mirek;
      }
      delete g.foreignTemporaryMirek;
    }
  }

  // ---------------------------------------------------------------- internals

  private entry(short: number): MutableGear {
    let g = this.gear.get(short);
    if (!g) {
      g = {};
      this.gear.set(short, g);
    }
    return g;
  }

  private affected(a: GearAddress): Affected {
    switch (a.kind) {
      case 'short':
        return { shorts: [a.address], complete: true };
      case 'group': {
        const m = this.groupMembers.get(a.group);
        return m ? { shorts: [...m], complete: true } : { shorts: [...this.gear.keys()], complete: false };
      }
      case 'broadcast':
        return { shorts: [...this.gear.keys()], complete: true };
      case 'broadcastUnaddressed':
        return { shorts: [], complete: true };
    }
  }
}
