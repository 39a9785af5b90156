/**
 * Virtual DALI control gear with colour temperature control (device type 8):
 * the state machine of IEC 62386-102 and the Tc part of 62386-209.
 *
 * It interprets raw 16-bit forward frames itself, using only the opcode
 * tables (../opcodes), not the codec: that makes it an independent
 * cross-check of the codec and the planner.
 *
 * Modelled: short address, groups, DTR0-2, ENABLE DEVICE TYPE (valid for the
 * next frame only, and for the repeat of a send-twice command), DAPC with
 * fade (the actual level moves linearly over the fade time, read from an
 * injectable clock), OFF, UP/DOWN, STEP UP/DOWN, RECALL MAX/MIN, GO TO LAST
 * ACTIVE LEVEL, scenes, min/max/power-on/system-failure level, fade time and
 * rate, extended fade time, configuration commands acting only when received
 * twice within 100 ms, temporary colour temperature, ACTIVATE, automatic
 * activation (gear features bit 0), Tc limits, and the queries listed in
 * docs/dali.md (status, actual level, device type, colour value with the
 * LSB left in DTR0, colour status, colour type features, gear features).
 *
 * Not modelled: addressing (INITIALISE/RANDOMISE/COMPARE...), memory banks
 * (READ MEMORY LOCATION answers NO), DAPC sequences, xy/primary colour
 * types, colour fades of STEP COOLER/WARMER (they act at once).
 *
 * Colour changes fade with the same fade time as the level.
 */

import {
  DEVICE_TYPE_COLOUR,
  DEVICE_TYPE_MULTIPLE,
  DEVICE_TYPE_NONE,
  DT8_TABLE,
  Dt8ColourValue,
  Dt8Command,
  Dt8TcLimit,
  GEAR_TABLE,
  GearCommand,
  GearStatusBit,
  MASK,
  SpecialCommand,
  YES,
} from '../opcodes';
import type { ForwardFrame } from '../types';

/** The part of a clock the gear needs: milliseconds, monotonic. */
export interface NowClock {
  now(): number;
}

/** Longest time between the two frames of a send-twice command that the gear accepts. */
export const GEAR_SEND_TWICE_WINDOW_MS = 100;
/** Colour temperature MASK (no value). */
const MIREK_MASK = 0xffff;

export interface VirtualGearOptions {
  /** Short address 0..63, or null for none (default null). */
  shortAddress?: number | null;
  /** Groups 0..15 the gear belongs to (default none). */
  groups?: readonly number[];
  /** Device types, ascending (default [8]). Empty = part 102 only. */
  deviceTypes?: readonly number[];
  /** PHYSICAL MINIMUM level (default 1). */
  physicalMinLevel?: number;
  /** Actual level at start (default 254, the POWER ON LEVEL). */
  initialLevel?: number;
  /** Actual colour temperature at start, mirek (default 250 = 4000 K). */
  initialMirek?: number;
  /** Physical coolest limit, mirek (default 153 = 6500 K). */
  physicalCoolestMirek?: number;
  /** Physical warmest limit, mirek (default 555 = 1800 K). */
  physicalWarmestMirek?: number;
  /** Gear features bit 0 at start (default false). */
  autoActivation?: boolean;
  /** 24-bit random address (default derived from the short address). */
  randomAddress?: number;
  /** Clock for fades and the send-twice window (default: performance.now()). */
  clock?: NowClock;
}

/** Everything a test wants to look at, in one object. */
export interface GearSnapshot {
  readonly shortAddress: number | null;
  readonly groups: readonly number[];
  readonly actualLevel: number;
  readonly targetLevel: number;
  readonly fadeRunning: boolean;
  readonly mirek: number;
  readonly targetMirek: number;
  readonly temporaryMirek: number;
  readonly dtr0: number;
  readonly dtr1: number;
  readonly dtr2: number;
  readonly minLevel: number;
  readonly maxLevel: number;
  readonly fadeTime: number;
  readonly autoActivation: boolean;
  readonly coolestMirek: number;
  readonly warmestMirek: number;
  readonly physicalCoolestMirek: number;
  readonly physicalWarmestMirek: number;
  readonly lampFailure: boolean;
  readonly status: number;
}

interface Ramp {
  readonly from: number;
  readonly to: number;
  readonly startMs: number;
  readonly durationMs: number;
}

const defaultClock: NowClock = { now: () => performance.now() };

function byte(n: number): number {
  return n & 0xff;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** Fade time code n (1..15) in ms: 0.5 s * sqrt(2^n). */
function fadeCodeMs(code: number): number {
  return code <= 0 ? 0 : 500 * Math.sqrt(2 ** code);
}

/** Extended fade time byte (bits 3..0 base-1, bits 6..4 multiplier) in ms. */
function extendedFadeMs(value: number): number {
  if (value > 0x4f) return 0;
  const multipliers = [0, 100, 1000, 10000, 60000];
  return ((value & 0x0f) + 1) * (multipliers[(value >> 4) & 0x07] ?? 0);
}

/** Fade rate code n (1..15) in steps per second: 506 / sqrt(2^n). */
function fadeRateStepsPerS(code: number): number {
  return 506 / Math.sqrt(2 ** clamp(code, 1, 15));
}

function isSendTwiceGearCommand(opcode: number): boolean {
  return GEAR_TABLE.byOpcode[opcode]?.sendTwice === true;
}

function isSendTwiceDt8Command(opcode: number): boolean {
  return DT8_TABLE.byOpcode[opcode]?.sendTwice === true;
}

type Family = 'gear' | 'special' | 'dt8';

/**
 * Commands of the opcode tables (../opcodes) that the gear takes but does not
 * model: it does nothing and queries answer NO. Every other table command has
 * its own handling below; a command that is neither (a reserved opcode)
 * counts in `unrecognisedCommands`.
 */
const NOT_MODELLED: Readonly<Record<Family, ReadonlySet<number>>> = {
  gear: new Set<number>([
    GearCommand.ENABLE_DAPC_SEQUENCE,
    GearCommand.SAVE_PERSISTENT_VARIABLES,
    GearCommand.SET_OPERATING_MODE,
    GearCommand.RESET_MEMORY_BANK,
    GearCommand.IDENTIFY_DEVICE,
    GearCommand.ENABLE_WRITE_MEMORY,
    GearCommand.READ_MEMORY_LOCATION,
  ]),
  special: new Set<number>([
    SpecialCommand.TERMINATE,
    SpecialCommand.INITIALISE,
    SpecialCommand.RANDOMISE,
    SpecialCommand.COMPARE,
    SpecialCommand.WITHDRAW,
    SpecialCommand.PING,
    SpecialCommand.SEARCHADDRH,
    SpecialCommand.SEARCHADDRM,
    SpecialCommand.SEARCHADDRL,
    SpecialCommand.PROGRAM_SHORT_ADDRESS,
    SpecialCommand.VERIFY_SHORT_ADDRESS,
    SpecialCommand.QUERY_SHORT_ADDRESS,
    SpecialCommand.WRITE_MEMORY_LOCATION,
    SpecialCommand.WRITE_MEMORY_LOCATION_NO_REPLY,
  ]),
  dt8: new Set<number>([
    Dt8Command.SET_TEMPORARY_X_COORDINATE,
    Dt8Command.SET_TEMPORARY_Y_COORDINATE,
    Dt8Command.X_COORDINATE_STEP_UP,
    Dt8Command.X_COORDINATE_STEP_DOWN,
    Dt8Command.Y_COORDINATE_STEP_UP,
    Dt8Command.Y_COORDINATE_STEP_DOWN,
    Dt8Command.SET_TEMPORARY_PRIMARY_N_DIMLEVEL,
    Dt8Command.SET_TEMPORARY_RGB_DIMLEVEL,
    Dt8Command.SET_TEMPORARY_WAF_DIMLEVEL,
    Dt8Command.SET_TEMPORARY_RGBWAF_CONTROL,
    Dt8Command.COPY_REPORT_TO_TEMPORARY,
    Dt8Command.STORE_TY_PRIMARY_N,
    Dt8Command.STORE_XY_COORDINATE_PRIMARY_N,
    Dt8Command.ASSIGN_COLOUR_TO_LINKED_CHANNEL,
    Dt8Command.START_AUTO_CALIBRATION,
    Dt8Command.QUERY_RGBWAF_CONTROL,
    Dt8Command.QUERY_ASSIGNED_COLOUR,
  ]),
};

export class VirtualGear {
  /** Commands addressed to this gear that are in no opcode table (reserved opcodes). */
  unrecognisedCommands = 0;
  private readonly clock: NowClock;
  private readonly deviceTypes: readonly number[];
  private nextDeviceTypeIndex = -1;

  private short: number | null;
  private groupMask: number;
  private dtr0 = 0;
  private dtr1 = 0;
  private dtr2 = 0;

  private readonly physicalMin: number;
  private minLevel: number;
  private maxLevel = 254;
  private powerOnLevel = 254;
  private systemFailureLevel = 254;
  private fadeTime = 0;
  private fadeRate = 7;
  private extendedFadeTime = 0;
  private readonly scenes: number[] = new Array<number>(16).fill(MASK);
  private lastActiveLevel = 254;
  private limitError = false;
  private powerFailure = true;
  private lampFailure = false;
  private gearFailure = false;
  private readonly randomAddress: number;

  private level: Ramp;
  private colour: Ramp;
  private temporaryMirek = MIREK_MASK;
  private coolestMirek: number;
  private warmestMirek: number;
  private physicalCoolestMirek: number;
  private physicalWarmestMirek: number;
  private autoActivation: boolean;
  private tcOutOfRange = false;

  /** ENABLE DEVICE TYPE in force for the next frame; `heldFor` = the repeat of a send-twice command it still covers. */
  private enabledDeviceType: { type: number; heldFor?: number } | null = null;
  /** First frame of a send-twice command, waiting for its repeat. */
  private pendingTwice: { value: number; atMs: number } | null = null;

  constructor(options: VirtualGearOptions = {}) {
    this.clock = options.clock ?? defaultClock;
    const short = options.shortAddress ?? null;
    this.short = short !== null && Number.isInteger(short) && short >= 0 && short <= 63 ? short : null;
    this.groupMask = 0;
    for (const g of options.groups ?? []) if (Number.isInteger(g) && g >= 0 && g <= 15) this.groupMask |= 1 << g;
    this.deviceTypes = [...(options.deviceTypes ?? [DEVICE_TYPE_COLOUR])].sort((a, b) => a - b);
    this.physicalMin = clamp(Math.round(options.physicalMinLevel ?? 1), 1, 254);
    this.minLevel = this.physicalMin;
    const now = this.clock.now();
    const initial = clamp(Math.round(options.initialLevel ?? 254), 0, 254);
    this.level = { from: initial, to: initial, startMs: now, durationMs: 0 };
    this.physicalCoolestMirek = clamp(Math.round(options.physicalCoolestMirek ?? 153), 1, 0xfffe);
    this.physicalWarmestMirek = clamp(Math.round(options.physicalWarmestMirek ?? 555), this.physicalCoolestMirek, 0xfffe);
    this.coolestMirek = this.physicalCoolestMirek;
    this.warmestMirek = this.physicalWarmestMirek;
    const mirek = clamp(Math.round(options.initialMirek ?? 250), this.coolestMirek, this.warmestMirek);
    this.colour = { from: mirek, to: mirek, startMs: now, durationMs: 0 };
    this.autoActivation = options.autoActivation ?? false;
    this.randomAddress = (options.randomAddress ?? 0x123400 + (this.short ?? 0x3f)) & 0xffffff;
  }

  // ---------------------------------------------------------------- inspection

  get shortAddress(): number | null {
    return this.short;
  }

  /** Groups 0..15 the gear belongs to, ascending. */
  get groups(): number[] {
    const out: number[] = [];
    for (let g = 0; g < 16; g++) if (this.groupMask & (1 << g)) out.push(g);
    return out;
  }

  /** Actual arc power level now (moves during a fade). */
  get actualLevel(): number {
    return this.levelAt(this.clock.now());
  }

  /** Actual colour temperature in mirek now (moves during a fade). */
  get actualMirek(): number {
    return this.mirekAt(this.clock.now());
  }

  /** Whether the gear supports device type 8. */
  get isColourGear(): boolean {
    return this.deviceTypes.includes(DEVICE_TYPE_COLOUR);
  }

  snapshot(): GearSnapshot {
    const now = this.clock.now();
    return {
      shortAddress: this.short,
      groups: this.groups,
      actualLevel: this.levelAt(now),
      targetLevel: this.level.to,
      fadeRunning: this.fadeRunning(now),
      mirek: this.mirekAt(now),
      targetMirek: this.colour.to,
      temporaryMirek: this.temporaryMirek,
      dtr0: this.dtr0,
      dtr1: this.dtr1,
      dtr2: this.dtr2,
      minLevel: this.minLevel,
      maxLevel: this.maxLevel,
      fadeTime: this.fadeTime,
      autoActivation: this.autoActivation,
      coolestMirek: this.coolestMirek,
      warmestMirek: this.warmestMirek,
      physicalCoolestMirek: this.physicalCoolestMirek,
      physicalWarmestMirek: this.physicalWarmestMirek,
      lampFailure: this.lampFailure,
      status: this.status(now),
    };
  }

  // ---------------------------------------------------------------- fault injection

  /** Lamp failure on/off: QUERY STATUS bit 1, QUERY LAMP FAILURE, lamp reported off. */
  setLampFailure(failed: boolean): void {
    this.lampFailure = failed;
  }

  /** Control gear failure (QUERY STATUS bit 0, QUERY CONTROL GEAR FAILURE). */
  setGearFailure(failed: boolean): void {
    this.gearFailure = failed;
  }

  /** Mains power cycle: the lamp goes to POWER ON LEVEL, DTRs cleared, power failure flag set. */
  powerCycle(): void {
    const now = this.clock.now();
    const mirek = this.mirekAt(now);
    this.level = { from: this.powerOnLevel, to: this.powerOnLevel, startMs: now, durationMs: 0 };
    this.colour = { from: mirek, to: mirek, startMs: now, durationMs: 0 };
    this.dtr0 = this.dtr1 = this.dtr2 = 0;
    this.temporaryMirek = MIREK_MASK;
    this.enabledDeviceType = null;
    this.pendingTwice = null;
    this.powerFailure = true;
  }

  // ---------------------------------------------------------------- frames

  /**
   * Receives one forward frame (every gear on the bus receives every frame).
   * Returns the backward frame byte this gear answers, or null for none.
   * 24-bit frames (control devices) are ignored. Never throws.
   */
  handleFrame(frame: ForwardFrame): number | null {
    if (frame.bits !== 16 || !Number.isFinite(frame.value)) return null;
    const value = Math.trunc(frame.value) & 0xffff;
    const now = this.clock.now();
    const address = value >> 8;
    const data = value & 0xff;

    // ENABLE DEVICE TYPE covers exactly the next frame (and the repeat of a send-twice command).
    let enabled = this.enabledDeviceType;
    this.enabledDeviceType = null;
    if (enabled?.heldFor !== undefined && enabled.heldFor !== value) enabled = null;
    const pending = this.pendingTwice;
    this.pendingTwice = null;

    // Special commands: first byte 0xA1..0xCB odd, to every gear.
    if (address >= 0xa0 && address <= 0xcb) {
      if ((address & 1) === 1) this.special(address, data);
      return null;
    }
    if (!this.addressed(address)) return null;

    if ((address & 1) === 0) {
      this.arcPower(data, now);
      return null;
    }

    const opcode = data;
    if (opcode >= 0xe0) {
      // Application extended commands: only with ENABLE DEVICE TYPE 8 just before.
      if (enabled?.type !== DEVICE_TYPE_COLOUR || !this.isColourGear) return null;
      if (isSendTwiceDt8Command(opcode)) {
        if (!this.isRepeat(pending, value, now)) {
          this.pendingTwice = { value, atMs: now };
          this.enabledDeviceType = { type: enabled.type, heldFor: value };
          return null;
        }
      }
      return this.dt8(opcode, now);
    }
    if (isSendTwiceGearCommand(opcode)) {
      if (!this.isRepeat(pending, value, now)) {
        this.pendingTwice = { value, atMs: now };
        return null;
      }
      this.configuration(opcode, now);
      return null;
    }
    if (opcode >= GearCommand.QUERY_STATUS) return this.query(opcode, now);
    this.indirect(opcode, now);
    return null;
  }

  private isRepeat(pending: { value: number; atMs: number } | null, value: number, now: number): boolean {
    return pending !== null && pending.value === value && now - pending.atMs <= GEAR_SEND_TWICE_WINDOW_MS;
  }

  private addressed(address: number): boolean {
    if (address <= 0x7f) return this.short !== null && address >> 1 === this.short;
    if (address <= 0x9f) return (this.groupMask & (1 << ((address >> 1) & 0x0f))) !== 0;
    if (address === 0xfc || address === 0xfd) return this.short === null;
    return address === 0xfe || address === 0xff;
  }

  private special(address: number, data: number): void {
    switch (address) {
      case SpecialCommand.DTR0:
        this.dtr0 = data;
        break;
      case SpecialCommand.DTR1:
        this.dtr1 = data;
        break;
      case SpecialCommand.DTR2:
        this.dtr2 = data;
        break;
      case SpecialCommand.ENABLE_DEVICE_TYPE:
        this.enabledDeviceType = { type: data };
        break;
      default:
        // Addressing and memory special commands are not modelled.
        this.notModelled('special', address);
        break;
    }
  }

  private notModelled(family: Family, opcode: number): void {
    if (!NOT_MODELLED[family].has(opcode)) this.unrecognisedCommands++;
  }

  // ---------------------------------------------------------------- levels and fades

  private levelAt(now: number): number {
    const r = this.level;
    if (r.durationMs <= 0 || now >= r.startMs + r.durationMs) return r.to;
    const t = (now - r.startMs) / r.durationMs;
    if (r.to === 0) {
      // Fading to off: dim down to the minimum level, off at the end.
      return Math.max(this.minLevel, Math.round(r.from + (this.minLevel - r.from) * t));
    }
    const from = r.from === 0 ? this.minLevel : r.from;
    return Math.round(from + (r.to - from) * t);
  }

  private mirekAt(now: number): number {
    const r = this.colour;
    if (r.durationMs <= 0 || now >= r.startMs + r.durationMs) return r.to;
    const t = (now - r.startMs) / r.durationMs;
    return Math.round(r.from + (r.to - r.from) * t);
  }

  private fadeRunning(now: number): boolean {
    const busy = (r: Ramp): boolean => r.durationMs > 0 && now < r.startMs + r.durationMs && r.from !== r.to;
    return busy(this.level) || busy(this.colour);
  }

  private fadeMs(): number {
    return this.fadeTime === 0 ? extendedFadeMs(this.extendedFadeTime) : fadeCodeMs(this.fadeTime);
  }

  /** Starts a level change; level 0 = off. Applies a pending temporary colour when automatic activation is on. */
  private goTo(target: number, durationMs: number, now: number): void {
    const current = this.levelAt(now);
    let to = target;
    this.limitError = false;
    if (to > 0) {
      const clamped = clamp(to, this.minLevel, this.maxLevel);
      this.limitError = clamped !== to;
      to = clamped;
      this.lastActiveLevel = to;
    }
    this.level = { from: current, to, startMs: now, durationMs: current === to ? 0 : durationMs };
    this.powerFailure = false;
    if (this.autoActivation && this.temporaryMirek !== MIREK_MASK) this.activateColour(durationMs, now);
  }

  private arcPower(level: number, now: number): void {
    if (level === MASK) {
      // DAPC(MASK): stop a running fade where it is.
      const current = this.levelAt(now);
      this.level = { from: current, to: current, startMs: now, durationMs: 0 };
      return;
    }
    this.goTo(level, this.fadeMs(), now);
  }

  private indirect(opcode: number, now: number): void {
    const current = this.levelAt(now);
    const on = current > 0;
    switch (opcode) {
      case GearCommand.OFF:
        this.goTo(0, 0, now);
        break;
      case GearCommand.UP:
      case GearCommand.DOWN: {
        if (!on) break;
        const steps = Math.max(1, Math.round(fadeRateStepsPerS(this.fadeRate) * 0.2));
        const target = opcode === GearCommand.UP ? Math.min(this.maxLevel, current + steps) : Math.max(this.minLevel, current - steps);
        this.goTo(target, 200, now);
        break;
      }
      case GearCommand.STEP_UP:
        if (on && current < this.maxLevel) this.goTo(current + 1, 0, now);
        break;
      case GearCommand.STEP_DOWN:
        if (on && current > this.minLevel) this.goTo(current - 1, 0, now);
        break;
      case GearCommand.RECALL_MAX_LEVEL:
        this.goTo(this.maxLevel, 0, now);
        break;
      case GearCommand.RECALL_MIN_LEVEL:
        this.goTo(this.minLevel, 0, now);
        break;
      case GearCommand.STEP_DOWN_AND_OFF:
        if (on) this.goTo(current <= this.minLevel ? 0 : current - 1, 0, now);
        break;
      case GearCommand.ON_AND_STEP_UP:
        if (!on) this.goTo(this.minLevel, 0, now);
        else if (current < this.maxLevel) this.goTo(current + 1, 0, now);
        break;
      case GearCommand.GO_TO_LAST_ACTIVE_LEVEL:
        this.goTo(this.lastActiveLevel, this.fadeMs(), now);
        break;
      default:
        if (opcode >= GearCommand.GO_TO_SCENE && opcode < GearCommand.GO_TO_SCENE + 16) {
          const scene = this.scenes[opcode - GearCommand.GO_TO_SCENE] ?? MASK;
          if (scene !== MASK) this.goTo(scene, this.fadeMs(), now);
        } else {
          this.notModelled('gear', opcode);
        }
        break;
    }
  }

  private configuration(opcode: number, now: number): void {
    switch (opcode) {
      case GearCommand.RESET:
        this.reset(now);
        return;
      case GearCommand.STORE_ACTUAL_LEVEL_IN_DTR0:
        this.dtr0 = this.levelAt(now);
        return;
      case GearCommand.SET_MAX_LEVEL: {
        this.maxLevel = clamp(this.dtr0, this.minLevel, 254);
        const current = this.levelAt(now);
        if (current > this.maxLevel) this.level = { from: this.maxLevel, to: this.maxLevel, startMs: now, durationMs: 0 };
        return;
      }
      case GearCommand.SET_MIN_LEVEL: {
        this.minLevel = clamp(this.dtr0, this.physicalMin, this.maxLevel);
        const current = this.levelAt(now);
        if (current > 0 && current < this.minLevel) {
          this.level = { from: this.minLevel, to: this.minLevel, startMs: now, durationMs: 0 };
        }
        return;
      }
      case GearCommand.SET_SYSTEM_FAILURE_LEVEL:
        this.systemFailureLevel = this.dtr0;
        return;
      case GearCommand.SET_POWER_ON_LEVEL:
        this.powerOnLevel = this.dtr0;
        return;
      case GearCommand.SET_FADE_TIME:
        this.fadeTime = Math.min(15, this.dtr0);
        return;
      case GearCommand.SET_FADE_RATE:
        this.fadeRate = clamp(this.dtr0, 1, 15);
        return;
      case GearCommand.SET_EXTENDED_FADE_TIME:
        this.extendedFadeTime = this.dtr0 > 0x4f ? 0 : this.dtr0;
        return;
      case GearCommand.SET_SHORT_ADDRESS:
        if (this.dtr0 === MASK) this.short = null;
        else if ((this.dtr0 & 0x81) === 0x01) this.short = this.dtr0 >> 1;
        return;
      default:
        break;
    }
    if (opcode >= GearCommand.SET_SCENE && opcode < GearCommand.SET_SCENE + 16) {
      this.scenes[opcode - GearCommand.SET_SCENE] = this.dtr0;
    } else if (opcode >= GearCommand.REMOVE_FROM_SCENE && opcode < GearCommand.REMOVE_FROM_SCENE + 16) {
      this.scenes[opcode - GearCommand.REMOVE_FROM_SCENE] = MASK;
    } else if (opcode >= GearCommand.ADD_TO_GROUP && opcode < GearCommand.ADD_TO_GROUP + 16) {
      this.groupMask |= 1 << (opcode - GearCommand.ADD_TO_GROUP);
    } else if (opcode >= GearCommand.REMOVE_FROM_GROUP && opcode < GearCommand.REMOVE_FROM_GROUP + 16) {
      this.groupMask &= ~(1 << (opcode - GearCommand.REMOVE_FROM_GROUP));
    } else {
      // SAVE PERSISTENT VARIABLES, SET OPERATING MODE, IDENTIFY DEVICE...: accepted, no effect here.
      this.notModelled('gear', opcode);
    }
  }

  private reset(now: number): void {
    const mirek = this.mirekAt(now);
    this.groupMask = 0;
    this.scenes.fill(MASK);
    this.minLevel = this.physicalMin;
    this.maxLevel = 254;
    this.powerOnLevel = 254;
    this.systemFailureLevel = 254;
    this.fadeTime = 0;
    this.fadeRate = 7;
    this.extendedFadeTime = 0;
    this.lastActiveLevel = 254;
    this.level = { from: 254, to: 254, startMs: now, durationMs: 0 };
    this.colour = { from: mirek, to: mirek, startMs: now, durationMs: 0 };
    this.coolestMirek = this.physicalCoolestMirek;
    this.warmestMirek = this.physicalWarmestMirek;
    this.temporaryMirek = MIREK_MASK;
    this.limitError = false;
    this.powerFailure = false;
  }

  private isResetState(): boolean {
    return (
      this.groupMask === 0 &&
      this.scenes.every((s) => s === MASK) &&
      this.minLevel === this.physicalMin &&
      this.maxLevel === 254 &&
      this.powerOnLevel === 254 &&
      this.systemFailureLevel === 254 &&
      this.fadeTime === 0 &&
      this.fadeRate === 7 &&
      this.extendedFadeTime === 0
    );
  }

  private status(now: number): number {
    const level = this.levelAt(now);
    let s = 0;
    if (this.gearFailure) s |= GearStatusBit.CONTROL_GEAR_FAILURE;
    if (this.lampFailure) s |= GearStatusBit.LAMP_FAILURE;
    if (level > 0 && !this.lampFailure) s |= GearStatusBit.LAMP_ON;
    if (this.limitError) s |= GearStatusBit.LIMIT_ERROR;
    if (this.fadeRunning(now)) s |= GearStatusBit.FADE_RUNNING;
    if (this.isResetState()) s |= GearStatusBit.RESET_STATE;
    if (this.short === null) s |= GearStatusBit.SHORT_ADDRESS_MISSING;
    if (this.powerFailure) s |= GearStatusBit.POWER_CYCLE_SEEN;
    return s;
  }

  private query(opcode: number, now: number): number | null {
    const yesNo = (b: boolean): number | null => (b ? YES : null);
    const level = this.levelAt(now);
    switch (opcode) {
      case GearCommand.QUERY_STATUS:
        return this.status(now);
      case GearCommand.QUERY_CONTROL_GEAR_PRESENT:
        return YES;
      case GearCommand.QUERY_LAMP_FAILURE:
        return yesNo(this.lampFailure);
      case GearCommand.QUERY_LAMP_POWER_ON:
        return yesNo(level > 0 && !this.lampFailure);
      case GearCommand.QUERY_LIMIT_ERROR:
        return yesNo(this.limitError);
      case GearCommand.QUERY_RESET_STATE:
        return yesNo(this.isResetState());
      case GearCommand.QUERY_MISSING_SHORT_ADDRESS:
        return yesNo(this.short === null);
      case GearCommand.QUERY_VERSION_NUMBER:
        return 0x08; // 2.0
      case GearCommand.QUERY_CONTENT_DTR0:
        return this.dtr0;
      case GearCommand.QUERY_DEVICE_TYPE:
        this.nextDeviceTypeIndex = 0;
        if (this.deviceTypes.length === 0) return DEVICE_TYPE_NONE;
        if (this.deviceTypes.length === 1) return byte(this.deviceTypes[0] as number);
        return DEVICE_TYPE_MULTIPLE;
      case GearCommand.QUERY_NEXT_DEVICE_TYPE: {
        if (this.nextDeviceTypeIndex < 0 || this.deviceTypes.length < 2) return null;
        const t = this.deviceTypes[this.nextDeviceTypeIndex];
        if (t === undefined) {
          this.nextDeviceTypeIndex = -1;
          return DEVICE_TYPE_NONE;
        }
        this.nextDeviceTypeIndex++;
        return byte(t);
      }
      case GearCommand.QUERY_PHYSICAL_MINIMUM:
        return this.physicalMin;
      case GearCommand.QUERY_POWER_FAILURE:
        return yesNo(this.powerFailure);
      case GearCommand.QUERY_CONTENT_DTR1:
        return this.dtr1;
      case GearCommand.QUERY_CONTENT_DTR2:
        return this.dtr2;
      case GearCommand.QUERY_OPERATING_MODE:
        return 0;
      case GearCommand.QUERY_LIGHT_SOURCE_TYPE:
        return 6; // LED
      case GearCommand.QUERY_ACTUAL_LEVEL:
        return level;
      case GearCommand.QUERY_MAX_LEVEL:
        return this.maxLevel;
      case GearCommand.QUERY_MIN_LEVEL:
        return this.minLevel;
      case GearCommand.QUERY_POWER_ON_LEVEL:
        return this.powerOnLevel;
      case GearCommand.QUERY_SYSTEM_FAILURE_LEVEL:
        return this.systemFailureLevel;
      case GearCommand.QUERY_FADE_TIME_FADE_RATE:
        return (this.fadeTime << 4) | this.fadeRate;
      case GearCommand.QUERY_MANUFACTURER_SPECIFIC_MODE:
        return null;
      case GearCommand.QUERY_EXTENDED_FADE_TIME:
        return this.extendedFadeTime;
      case GearCommand.QUERY_CONTROL_GEAR_FAILURE:
        return yesNo(this.gearFailure);
      case GearCommand.QUERY_GROUPS_0_7:
        return this.groupMask & 0xff;
      case GearCommand.QUERY_GROUPS_8_15:
        return (this.groupMask >> 8) & 0xff;
      case GearCommand.QUERY_RANDOM_ADDRESS_H:
        return (this.randomAddress >> 16) & 0xff;
      case GearCommand.QUERY_RANDOM_ADDRESS_M:
        return (this.randomAddress >> 8) & 0xff;
      case GearCommand.QUERY_RANDOM_ADDRESS_L:
        return this.randomAddress & 0xff;
      default:
        if (opcode >= GearCommand.QUERY_SCENE_LEVEL && opcode < GearCommand.QUERY_SCENE_LEVEL + 16) {
          return this.scenes[opcode - GearCommand.QUERY_SCENE_LEVEL] ?? MASK;
        }
        this.notModelled('gear', opcode);
        return null;
    }
  }

  // ---------------------------------------------------------------- DT8 (part 209)

  private activateColour(durationMs: number, now: number): void {
    const wanted = this.temporaryMirek;
    this.temporaryMirek = MIREK_MASK;
    if (wanted === MIREK_MASK) return;
    const to = clamp(wanted, this.coolestMirek, this.warmestMirek);
    this.tcOutOfRange = to !== wanted;
    const current = this.mirekAt(now);
    this.colour = { from: current, to, startMs: now, durationMs: current === to ? 0 : durationMs };
  }

  private dt8(opcode: number, now: number): number | null {
    const current = this.mirekAt(now);
    switch (opcode) {
      case Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE:
        this.temporaryMirek = (this.dtr1 << 8) | this.dtr0;
        return null;
      case Dt8Command.ACTIVATE:
        this.activateColour(this.fadeMs(), now);
        return null;
      case Dt8Command.COLOUR_TEMPERATURE_STEP_COOLER:
        if (this.levelAt(now) > 0 && current > this.coolestMirek) {
          this.colour = { from: current - 1, to: current - 1, startMs: now, durationMs: 0 };
        }
        return null;
      case Dt8Command.COLOUR_TEMPERATURE_STEP_WARMER:
        if (this.levelAt(now) > 0 && current < this.warmestMirek) {
          this.colour = { from: current + 1, to: current + 1, startMs: now, durationMs: 0 };
        }
        return null;
      case Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT:
        this.storeTcLimit((this.dtr1 << 8) | this.dtr0, now);
        return null;
      case Dt8Command.STORE_GEAR_FEATURES_STATUS:
        this.autoActivation = (this.dtr0 & 0x01) !== 0;
        return null;
      case Dt8Command.QUERY_GEAR_FEATURES_STATUS:
        return this.autoActivation ? 0x01 : 0x00;
      case Dt8Command.QUERY_COLOUR_STATUS:
        // bit 1: Tc out of range; bit 5: colour type Tc active.
        return 0x20 | (this.tcOutOfRange ? 0x02 : 0);
      case Dt8Command.QUERY_COLOUR_TYPE_FEATURES:
        return 0x02; // Tc capable
      case Dt8Command.QUERY_COLOUR_VALUE: {
        const value = this.colourValue(this.dtr0, now);
        this.dtr0 = value & 0xff;
        return (value >> 8) & 0xff;
      }
      case Dt8Command.QUERY_EXTENDED_VERSION_NUMBER:
        return 0x08; // 2.0
      default:
        this.notModelled('dt8', opcode);
        return null;
    }
  }

  private colourValue(selector: number, now: number): number {
    switch (selector) {
      case Dt8ColourValue.COLOUR_TEMPERATURE:
        return this.mirekAt(now);
      case Dt8ColourValue.COLOUR_TEMPERATURE_COOLEST:
        return this.coolestMirek;
      case Dt8ColourValue.COLOUR_TEMPERATURE_PHYSICAL_COOLEST:
        return this.physicalCoolestMirek;
      case Dt8ColourValue.COLOUR_TEMPERATURE_WARMEST:
        return this.warmestMirek;
      case Dt8ColourValue.COLOUR_TEMPERATURE_PHYSICAL_WARMEST:
        return this.physicalWarmestMirek;
      default:
        return MIREK_MASK;
    }
  }

  private storeTcLimit(value: number, now: number): void {
    if (value === MIREK_MASK || value === 0) return;
    switch (this.dtr2) {
      case Dt8TcLimit.COOLEST:
        this.coolestMirek = clamp(value, this.physicalCoolestMirek, this.warmestMirek);
        break;
      case Dt8TcLimit.WARMEST:
        this.warmestMirek = clamp(value, this.coolestMirek, this.physicalWarmestMirek);
        break;
      case Dt8TcLimit.PHYSICAL_COOLEST:
        this.physicalCoolestMirek = Math.min(value, this.physicalWarmestMirek);
        this.coolestMirek = clamp(this.coolestMirek, this.physicalCoolestMirek, this.physicalWarmestMirek);
        this.warmestMirek = clamp(this.warmestMirek, this.coolestMirek, this.physicalWarmestMirek);
        break;
      case Dt8TcLimit.PHYSICAL_WARMEST:
        this.physicalWarmestMirek = Math.max(value, this.physicalCoolestMirek);
        this.warmestMirek = clamp(this.warmestMirek, this.physicalCoolestMirek, this.physicalWarmestMirek);
        this.coolestMirek = clamp(this.coolestMirek, this.physicalCoolestMirek, this.warmestMirek);
        break;
      default:
        return;
    }
    // Keep the actual colour inside the new limits.
    const current = this.mirekAt(now);
    const inside = clamp(current, this.coolestMirek, this.warmestMirek);
    if (inside !== current) this.colour = { from: inside, to: inside, startMs: now, durationMs: 0 };
  }
}
