/**
 * Manual changes: commands another master (a wall panel, a second
 * controller) sends to the gear of a zone. The override gate honours them
 * so the automation does not fight the person at the switch.
 *
 * Watched (16-bit frames of other masters, as the DaliBus decodes them):
 * DAPC (not MASK), the arc power commands OFF, UP, DOWN, STEP UP/DOWN,
 * RECALL MAX/MIN, STEP DOWN AND OFF, ON AND STEP UP, GO TO LAST ACTIVE
 * LEVEL, GO TO SCENE n, and the DT8 commands ACTIVATE and Tc STEP
 * COOLER/WARMER. A command concerns the zone when its address is
 * broadcast, a listed short address or group, or a group/short known (from
 * the bus) to share gear with the zone.
 *
 * One press often puts several frames on the bus (Tc + ACTIVATE + DAPC, or
 * repeated UP while held): frames to the same address are merged until
 * nothing more came for `settleMs` (at most `maxHoldMs` after the first),
 * then one ManualChange is emitted ('change' event) with every command name,
 * the level when known (DAPC, OFF) and the colour temperature when known
 * (ACTIVATE or an arc power command right after SET TEMPORARY COLOUR
 * TEMPERATURE, with DTR0/DTR1 seen on the bus).
 */
import type { ManualChange } from '../contracts/feedback';
import { EventEmitter } from 'node:events';
import type { DaliBusFrameEvent } from './bus/dali-bus';
import { formatGearAddress, type GearList } from './address-spec';
import { arcLevelToPercent, type DimmingCurve } from './curve';
import { Dt8Command, GearCommand, SpecialCommand } from './opcodes';
import { systemClock, type Clock, type TimerHandle } from './sim/virtual-bus';
import type { GearAddress } from './types';

export interface ManualChangeOptions {
  readonly zone: string;
  readonly gear: GearList;
  /** Known members of an address (DaliBus.members); complete = false means unknown. */
  readonly membersOf?: (address: GearAddress) => { shorts: readonly number[]; complete: boolean };
  readonly curve?: DimmingCurve;
  readonly settleMs?: number;
  readonly maxHoldMs?: number;
  readonly clock?: Clock;
}

interface Pending {
  address: GearAddress;
  ts: number;
  firstAt: number;
  commands: string[];
  level?: number;
  mirek?: number;
  timer: TimerHandle | null;
}

const ARC_POWER_NAMES: Record<number, string> = {
  [GearCommand.OFF]: 'OFF',
  [GearCommand.UP]: 'UP',
  [GearCommand.DOWN]: 'DOWN',
  [GearCommand.STEP_UP]: 'STEP UP',
  [GearCommand.STEP_DOWN]: 'STEP DOWN',
  [GearCommand.RECALL_MAX_LEVEL]: 'RECALL MAX LEVEL',
  [GearCommand.RECALL_MIN_LEVEL]: 'RECALL MIN LEVEL',
  [GearCommand.STEP_DOWN_AND_OFF]: 'STEP DOWN AND OFF',
  [GearCommand.ON_AND_STEP_UP]: 'ON AND STEP UP',
  [GearCommand.GO_TO_LAST_ACTIVE_LEVEL]: 'GO TO LAST ACTIVE LEVEL',
};

const UNKNOWN = -1;

/** Events: 'change' (ManualChange). */
export class ManualChangeDetector extends EventEmitter {
  private readonly pending = new Map<string, Pending>();
  private dtr0: number | undefined;
  private dtr1: number | undefined;
  /** SET TEMPORARY COLOUR TEMPERATURE seen per address, not yet applied. */
  private readonly temporary = new Map<string, number>();
  private readonly shorts: Set<number>;
  private readonly groups: Set<number>;
  private readonly settleMs: number;
  private readonly maxHoldMs: number;
  private readonly clock: Clock;
  private stopped = false;

  constructor(private readonly options: ManualChangeOptions) {
    super();
    this.shorts = new Set(options.gear.shorts);
    this.groups = new Set(options.gear.groups);
    this.settleMs = options.settleMs ?? 300;
    this.maxHoldMs = options.maxHoldMs ?? 1000;
    this.clock = options.clock ?? systemClock;
  }

  /** Whether a command to `address` can change gear of the zone. */
  concernsZone(address: GearAddress): boolean {
    if (address.kind === 'broadcast') return this.shorts.size > 0 || this.groups.size > 0;
    if (address.kind === 'broadcastUnaddressed') return false;
    const members = (a: GearAddress): readonly number[] | null => {
      const m = this.options.membersOf?.(a);
      return m && m.complete ? m.shorts : null;
    };
    if (address.kind === 'short') {
      if (this.shorts.has(address.address)) return true;
      return [...this.groups].some((g) => members({ kind: 'group', group: g })?.includes(address.address) === true);
    }
    if (this.groups.has(address.group)) return true;
    const inGroup = members(address);
    if (!inGroup) return false;
    if (inGroup.some((s) => this.shorts.has(s))) return true;
    return [...this.groups].some((g) => members({ kind: 'group', group: g })?.some((s) => inGroup.includes(s)) === true);
  }

  /** Feeds one frame of another master. Never throws. */
  handle(ev: DaliBusFrameEvent): void {
    const d = ev.decoded;
    if (this.stopped || !d || d.bits !== 16) return;
    const ts = Number.isFinite(ev.event.ts) ? Math.round(ev.event.ts) : Date.now();
    switch (d.kind) {
      case 'special':
        if (d.opcode === SpecialCommand.DTR0) this.dtr0 = d.data;
        else if (d.opcode === SpecialCommand.DTR1) this.dtr1 = d.data;
        return;
      case 'dapc':
        if (d.level === 0xff) return;
        this.note(d.address, ts, 'DAPC', { level: d.level, mirek: this.takeTemporary(d.address) });
        return;
      case 'gearCommand': {
        const op = d.opcode;
        if (op >= GearCommand.GO_TO_SCENE && op < GearCommand.GO_TO_SCENE + 16) {
          this.note(d.address, ts, `GO TO SCENE ${op - GearCommand.GO_TO_SCENE}`, {
            level: UNKNOWN,
            mirek: this.takeTemporary(d.address) ?? UNKNOWN,
          });
        } else if (ARC_POWER_NAMES[op] !== undefined) {
          this.note(d.address, ts, ARC_POWER_NAMES[op] as string, {
            level: op === GearCommand.OFF ? 0 : UNKNOWN,
            mirek: this.takeTemporary(d.address),
          });
        }
        return;
      }
      case 'dt8':
        if (d.opcode === Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE) {
          if (this.dtr0 !== undefined && this.dtr1 !== undefined)
            this.temporary.set(formatGearAddress(d.address), (this.dtr1 << 8) | this.dtr0);
        } else if (d.opcode === Dt8Command.ACTIVATE) {
          this.note(d.address, ts, 'ACTIVATE', { mirek: this.takeTemporary(d.address) ?? UNKNOWN });
        } else if (d.opcode === Dt8Command.COLOUR_TEMPERATURE_STEP_COOLER || d.opcode === Dt8Command.COLOUR_TEMPERATURE_STEP_WARMER) {
          this.note(d.address, ts, d.name, { mirek: UNKNOWN });
        }
        return;
      default:
        return;
    }
  }

  /** Drops what is pending and stops (no timer left). */
  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) p.timer?.cancel();
    this.pending.clear();
  }

  private takeTemporary(address: GearAddress): number | undefined {
    const key = formatGearAddress(address);
    const m = this.temporary.get(key);
    this.temporary.delete(key);
    return m === undefined || m === 0xffff || m === 0 ? undefined : m;
  }

  /** Merges a command into the pending change of its address; UNKNOWN forgets a value, undefined leaves it. */
  private note(address: GearAddress, ts: number, command: string, effect: { level?: number; mirek?: number }): void {
    if (!this.concernsZone(address)) return;
    const key = formatGearAddress(address);
    const now = this.clock.now();
    let p = this.pending.get(key);
    if (!p) {
      p = { address, ts, firstAt: now, commands: [], timer: null };
      this.pending.set(key, p);
    }
    if (p.commands[p.commands.length - 1] !== command) p.commands.push(command);
    if (effect.level === UNKNOWN) delete p.level;
    else if (effect.level !== undefined) p.level = effect.level;
    if (effect.mirek === UNKNOWN) delete p.mirek;
    else if (effect.mirek !== undefined) p.mirek = effect.mirek;
    p.timer?.cancel();
    const wait = Math.max(0, Math.min(this.settleMs, p.firstAt + this.maxHoldMs - now));
    const entry = p;
    p.timer = this.clock.setTimer(wait, () => this.flush(key, entry));
  }

  private flush(key: string, p: Pending): void {
    if (this.pending.get(key) !== p) return;
    this.pending.delete(key);
    const curve = this.options.curve ?? 'logarithmic';
    const change: ManualChange = {
      kind: 'manualChange',
      zone: this.options.zone,
      address: key,
      ts: p.ts,
      commands: p.commands,
      ...(p.level !== undefined ? { level: p.level, intensity: Math.round(arcLevelToPercent(p.level, curve) * 100) / 100 } : {}),
      ...(p.mirek !== undefined ? { mirek: p.mirek, cct: Math.round(1e6 / p.mirek) } : {}),
    };
    this.emit('change', change);
  }
}
