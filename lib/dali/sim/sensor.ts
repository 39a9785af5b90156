/**
 * Virtual DALI-2 control device (IEC 62386-103) with two instances:
 * instance 0 = occupancy sensor (part 303, instance type 3) and instance 1 =
 * light sensor (part 304, instance type 4). With `lightSensor: false` it is
 * a presence detector only: instance 0 and no light instance (QUERY NUMBER
 * OF INSTANCES answers 1, instance 1 does not answer, setLux changes nothing
 * a master can see and sends no event).
 *
 * It interprets raw 24-bit forward frames with the opcode tables and emits
 * event frames (built with the codec's eventFrame) as an 'event' (value:
 * number, the 24-bit frame) when presence, movement or illuminance change.
 *
 * Modelled: short address (SET SHORT ADDRESS via DTR0), device groups,
 * device DTR0-2 (0xC1 30/31/32 and the two-byte 0xC7/0xC9 forms), send-twice
 * commands acting only when received twice within 100 ms, ENABLE/DISABLE
 * INSTANCE, SET EVENT SCHEME (DTR0 = 0..4; the power-on scheme is
 * "instance"), SET PRIMARY INSTANCE GROUP, SET EVENT FILTER (DTR0), light
 * SET HYSTERESIS / SET HYSTERESIS MIN, START/STOP QUIESCENT MODE (no events
 * while quiescent; the 15 min timeout is not modelled), RESET, and the
 * queries DEVICE STATUS, NUMBER OF INSTANCES, CONTENT DTR0-2, MISSING SHORT
 * ADDRESS, VERSION NUMBER, DEVICE GROUPS, QUIESCENT MODE, INSTANCE TYPE,
 * RESOLUTION, INSTANCE ENABLED, EVENT SCHEME, PRIMARY INSTANCE GROUP, EVENT
 * FILTER 0-7, INPUT VALUE and INPUT VALUE LATCH.
 *
 * An event scheme that needs something the device lacks (device scheme
 * without short address, device group scheme without a device group,
 * instance group scheme without a primary instance group) falls back to the
 * instance scheme, as part 103 requires.
 *
 * Values:
 * - Occupancy input value (resolution 2 bits): 0x00 vacant, 0xAA occupied
 *   without movement, 0xFF occupied with movement.
 * - Light input value: 10-bit raw illuminance; QUERY INPUT VALUE answers
 *   bits 9..2, QUERY INPUT VALUE LATCH the remaining bits 1..0 left-aligned.
 * - Raw to lux (device specific, documented here): lux = offsetLux +
 *   luxPerCount * raw, default offsetLux 0, luxPerCount 2 (0..2046 lux).
 * - Light events: reported when the raw value leaves the hysteresis band
 *   around the last reported value: max(hysteresisMin, last * hysteresis %),
 *   default 5 % and 2 counts. Not modelled: report/deadtime/hold timers
 *   (no timers at all, so nothing is left running).
 */

import { EventEmitter } from 'node:events';
import { eventFrame, type EventSource } from '../codec';
import {
  DEVICE_TABLE,
  DeviceCommand,
  DeviceSpecialCommand,
  INSTANCE_COMMANDS_BY_OPCODE,
  InstanceCommand,
  LightSensorCommand,
  OccupancyEventBit,
  OccupancySensorCommand,
  YES,
} from '../opcodes';
import { EventScheme, InstanceType, type ForwardFrame } from '../types';
import type { NowClock } from './gear';

/** Occupancy instance number. */
export const OCCUPANCY_INSTANCE = 0;
/** Light instance number. */
export const LIGHT_INSTANCE = 1;

/** Occupancy event filter bits (part 303). */
export const OccupancyFilter = {
  OCCUPIED: 0x01,
  VACANT: 0x02,
  REPEAT: 0x04,
  MOVEMENT: 0x08,
  NO_MOVEMENT: 0x10,
} as const;

/** Light event filter bit (part 304). */
export const LightFilter = { ILLUMINANCE: 0x01 } as const;

const SEND_TWICE_WINDOW_MS = 100;
const MASK = 0xff;

export interface VirtualSensorOptions {
  /** Short address 0..63 or null (default null). */
  shortAddress?: number | null;
  /** Device groups 0..31 (default none). */
  deviceGroups?: readonly number[];
  /** Instances enabled at start (default false, as a device out of the box; commission with ENABLE INSTANCE). */
  instancesEnabled?: boolean;
  /** Event scheme of both instances at start (default Instance, the power-on scheme). */
  eventScheme?: EventScheme;
  /** Lux per raw count (default 2). */
  luxPerCount?: number;
  /** Lux at raw 0 (default 0). */
  offsetLux?: number;
  /** Light hysteresis in percent (default 5). */
  hysteresisPct?: number;
  /** Light hysteresis minimum in raw counts (default 2). */
  hysteresisMinRaw?: number;
  /** Occupancy event info bit 3: movement sensor (default true) or presence sensor. */
  movementSensor?: boolean;
  /** Has the light sensor instance 1 (part 304) after the occupancy instance 0 (default true); false = presence only. */
  lightSensor?: boolean;
  /** Clock for the send-twice window (default performance.now()). */
  clock?: NowClock;
}

interface Instance {
  readonly number: number;
  readonly type: number;
  enabled: boolean;
  scheme: EventScheme;
  primaryGroup: number;
  group1: number;
  group2: number;
  filter: number;
}

const defaultClock: NowClock = { now: () => performance.now() };

function isSendTwiceDeviceCommand(opcode: number): boolean {
  return DEVICE_TABLE.byOpcode[opcode]?.sendTwice === true;
}

function isSendTwiceInstanceCommand(opcode: number): boolean {
  return INSTANCE_COMMANDS_BY_OPCODE[opcode]?.sendTwice === true;
}

function clampInt(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(n)));
}

type Family = 'deviceSpecial' | 'device' | 'instance';

/**
 * Commands of the opcode tables (../opcodes) that the sensor takes but does
 * not model: it does nothing and queries answer NO. Every other table command
 * has its own handling below; a command that is neither (a reserved opcode)
 * counts in `unrecognisedCommands`.
 */
const NOT_MODELLED: Readonly<Record<Family, ReadonlySet<number>>> = {
  deviceSpecial: new Set<number>([
    DeviceSpecialCommand.TERMINATE,
    DeviceSpecialCommand.INITIALISE,
    DeviceSpecialCommand.RANDOMISE,
    DeviceSpecialCommand.COMPARE,
    DeviceSpecialCommand.WITHDRAW,
    DeviceSpecialCommand.SEARCHADDRH,
    DeviceSpecialCommand.SEARCHADDRM,
    DeviceSpecialCommand.SEARCHADDRL,
    DeviceSpecialCommand.PROGRAM_SHORT_ADDRESS,
    DeviceSpecialCommand.VERIFY_SHORT_ADDRESS,
    DeviceSpecialCommand.QUERY_SHORT_ADDRESS,
    DeviceSpecialCommand.WRITE_MEMORY_LOCATION,
    DeviceSpecialCommand.WRITE_MEMORY_LOCATION_NO_REPLY,
    DeviceSpecialCommand.SEND_TESTFRAME,
  ]),
  device: new Set<number>([
    DeviceCommand.IDENTIFY_DEVICE,
    DeviceCommand.RESET_MEMORY_BANK,
    DeviceCommand.ENABLE_WRITE_MEMORY,
    DeviceCommand.ENABLE_APPLICATION_CONTROLLER,
    DeviceCommand.DISABLE_APPLICATION_CONTROLLER,
    DeviceCommand.SET_OPERATING_MODE,
    DeviceCommand.ENABLE_POWER_CYCLE_NOTIFICATION,
    DeviceCommand.DISABLE_POWER_CYCLE_NOTIFICATION,
    DeviceCommand.SAVE_PERSISTENT_VARIABLES,
    DeviceCommand.QUERY_APPLICATION_CONTROLLER_ERROR,
    DeviceCommand.QUERY_INPUT_DEVICE_ERROR,
    DeviceCommand.QUERY_RANDOM_ADDRESS_H,
    DeviceCommand.QUERY_RANDOM_ADDRESS_M,
    DeviceCommand.QUERY_RANDOM_ADDRESS_L,
    DeviceCommand.READ_MEMORY_LOCATION,
    DeviceCommand.QUERY_APPLICATION_CONTROL_ENABLED,
    DeviceCommand.QUERY_OPERATING_MODE,
    DeviceCommand.QUERY_MANUFACTURER_SPECIFIC_MODE,
    DeviceCommand.QUERY_POWER_CYCLE_NOTIFICATION,
    DeviceCommand.QUERY_DEVICE_CAPABILITIES,
    DeviceCommand.QUERY_EXTENDED_VERSION_NUMBER,
  ]),
  instance: new Set<number>([
    InstanceCommand.SET_EVENT_PRIORITY,
    InstanceCommand.QUERY_INSTANCE_STATUS,
    InstanceCommand.QUERY_EVENT_PRIORITY,
    InstanceCommand.QUERY_FEATURE_TYPE,
    InstanceCommand.QUERY_NEXT_FEATURE_TYPE,
    InstanceCommand.QUERY_EVENT_FILTER_8_15,
    InstanceCommand.QUERY_EVENT_FILTER_16_23,
    OccupancySensorCommand.CATCH_MOVEMENT,
    OccupancySensorCommand.SET_HOLD_TIMER,
    OccupancySensorCommand.SET_REPORT_TIMER,
    OccupancySensorCommand.SET_DEADTIME_TIMER,
    OccupancySensorCommand.CANCEL_HOLD_TIMER,
    OccupancySensorCommand.QUERY_DEADTIME_TIMER,
    OccupancySensorCommand.QUERY_HOLD_TIMER,
    OccupancySensorCommand.QUERY_REPORT_TIMER,
    OccupancySensorCommand.QUERY_CATCHING,
    LightSensorCommand.SET_REPORT_TIMER,
    LightSensorCommand.SET_DEADTIME_TIMER,
    LightSensorCommand.QUERY_DEADTIME_TIMER,
    LightSensorCommand.QUERY_REPORT_TIMER,
  ]),
};

export class VirtualSensor extends EventEmitter {
  /** Commands addressed to this sensor that are in no opcode table (reserved opcodes). */
  unrecognisedCommands = 0;
  private readonly clock: NowClock;
  private short: number | null;
  private deviceGroups: number;
  private dtr0 = 0;
  private dtr1 = 0;
  private dtr2 = 0;
  private quiescent = false;
  private powerCycleSeen = true;
  private readonly instances: Instance[];
  private pendingTwice: { value: number; atMs: number } | null = null;

  private occupied = false;
  private moving = false;
  private raw = 0;
  private lastReportedRaw: number | null = null;
  private hysteresisPct: number;
  private hysteresisMinRaw: number;
  private readonly movementSensor: boolean;
  /** Lux per raw count. */
  readonly luxPerCount: number;
  /** Lux at raw 0. */
  readonly offsetLux: number;

  constructor(options: VirtualSensorOptions = {}) {
    super();
    this.clock = options.clock ?? defaultClock;
    const short = options.shortAddress ?? null;
    this.short = short !== null && Number.isInteger(short) && short >= 0 && short <= 63 ? short : null;
    this.deviceGroups = 0;
    for (const g of options.deviceGroups ?? []) if (Number.isInteger(g) && g >= 0 && g <= 31) this.deviceGroups |= 2 ** g;
    const enabled = options.instancesEnabled ?? false;
    const scheme = options.eventScheme ?? EventScheme.Instance;
    const make = (number: number, type: number, filter: number): Instance => ({
      number,
      type,
      enabled,
      scheme,
      primaryGroup: MASK,
      group1: MASK,
      group2: MASK,
      filter,
    });
    this.instances = [
      make(
        OCCUPANCY_INSTANCE,
        InstanceType.OccupancySensor,
        OccupancyFilter.OCCUPIED | OccupancyFilter.VACANT | OccupancyFilter.MOVEMENT | OccupancyFilter.NO_MOVEMENT,
      ),
    ];
    if (options.lightSensor ?? true) this.instances.push(make(LIGHT_INSTANCE, InstanceType.LightSensor, LightFilter.ILLUMINANCE));
    this.luxPerCount = options.luxPerCount !== undefined && options.luxPerCount > 0 ? options.luxPerCount : 2;
    this.offsetLux = options.offsetLux ?? 0;
    this.hysteresisPct = clampInt(options.hysteresisPct ?? 5, 0, 25);
    this.hysteresisMinRaw = clampInt(options.hysteresisMinRaw ?? 2, 0, 255);
    this.movementSensor = options.movementSensor ?? true;
  }

  // ---------------------------------------------------------------- inspection

  get shortAddress(): number | null {
    return this.short;
  }

  /** Event scheme of an instance (0 occupancy, 1 light). */
  eventScheme(instance: number): EventScheme | undefined {
    return this.instances[instance]?.scheme;
  }

  instanceEnabled(instance: number): boolean {
    return this.instances[instance]?.enabled ?? false;
  }

  get isOccupied(): boolean {
    return this.occupied;
  }

  /** Instance types in instance-number order (3 occupancy, 4 light). */
  get instanceTypes(): number[] {
    return this.instances.map((i) => i.type);
  }

  /** Has a light sensor instance (false: presence only). */
  get hasLightSensor(): boolean {
    return this.instances.some((i) => i.type === InstanceType.LightSensor);
  }

  /** Current raw illuminance (0..1023). */
  get illuminanceRaw(): number {
    return this.raw;
  }

  /** Raw illuminance (0..1023) to lux with this sensor's calibration. */
  rawToLux(raw: number): number {
    return this.offsetLux + this.luxPerCount * raw;
  }

  /** Lux to the raw value this sensor reports (clamped 0..1023). */
  luxToRaw(lux: number): number {
    if (!Number.isFinite(lux)) return 0;
    return clampInt((lux - this.offsetLux) / this.luxPerCount, 0, 1023);
  }

  // ---------------------------------------------------------------- the physical world

  /**
   * Sets presence and movement. Emits an occupancy event when the occupied
   * state or the movement state changed and the event filter lets it through.
   */
  setOccupancy(occupied: boolean, movement = occupied): void {
    const occupiedChanged = occupied !== this.occupied;
    const movementChanged = movement !== this.moving;
    this.occupied = occupied;
    this.moving = movement;
    if (!occupiedChanged && !movementChanged) return;
    const inst = this.instances[OCCUPANCY_INSTANCE] as Instance;
    const f = inst.filter;
    const wanted =
      (occupiedChanged && (occupied ? f & OccupancyFilter.OCCUPIED : f & OccupancyFilter.VACANT) !== 0) ||
      (movementChanged && (movement ? f & OccupancyFilter.MOVEMENT : f & OccupancyFilter.NO_MOVEMENT) !== 0);
    if (wanted) this.emitEvent(inst, this.occupancyInfo(false));
  }

  /** A movement pulse: occupied with movement (an event if something changed). */
  movement(): void {
    this.setOccupancy(true, true);
  }

  /** Sets the illuminance in lux (through the raw mapping). */
  setLux(lux: number): void {
    this.setIlluminanceRaw(this.luxToRaw(lux));
  }

  /** Sets the raw illuminance 0..1023; emits a light event outside the hysteresis band. */
  setIlluminanceRaw(raw: number): void {
    this.raw = Number.isFinite(raw) ? clampInt(raw, 0, 1023) : 0;
    const inst = this.instances[LIGHT_INSTANCE];
    if (inst === undefined || (inst.filter & LightFilter.ILLUMINANCE) === 0) return;
    const last = this.lastReportedRaw;
    if (last !== null) {
      const band = Math.max(this.hysteresisMinRaw, (last * this.hysteresisPct) / 100);
      if (Math.abs(this.raw - last) < band || this.raw === last) return;
    }
    if (this.emitEvent(inst, this.raw)) this.lastReportedRaw = this.raw;
  }

  private occupancyInfo(repeat: boolean): number {
    let info = 0;
    if (this.moving) info |= OccupancyEventBit.MOVEMENT;
    if (this.occupied) info |= OccupancyEventBit.OCCUPIED;
    if (repeat) info |= OccupancyEventBit.REPEAT;
    if (this.movementSensor) info |= OccupancyEventBit.MOVEMENT_SENSOR;
    return info;
  }

  /** The event source of an instance under its scheme (with the part 103 fallbacks). */
  eventSource(instanceNumber: number): EventSource | undefined {
    const inst = this.instances[instanceNumber];
    if (inst === undefined) return undefined;
    const fallback: EventSource = { scheme: EventScheme.Instance, instanceType: inst.type, instanceNumber: inst.number };
    switch (inst.scheme) {
      case EventScheme.Device:
        return this.short === null ? fallback : { scheme: EventScheme.Device, shortAddress: this.short, instanceType: inst.type };
      case EventScheme.DeviceInstance:
        return this.short === null
          ? fallback
          : { scheme: EventScheme.DeviceInstance, shortAddress: this.short, instanceNumber: inst.number };
      case EventScheme.DeviceGroup: {
        if (this.deviceGroups === 0) return fallback;
        let g = 0;
        while ((this.deviceGroups & (2 ** g)) === 0) g++;
        return { scheme: EventScheme.DeviceGroup, deviceGroup: g, instanceType: inst.type };
      }
      case EventScheme.InstanceGroup:
        return inst.primaryGroup > 31
          ? fallback
          : { scheme: EventScheme.InstanceGroup, instanceGroup: inst.primaryGroup, instanceType: inst.type };
      default:
        return fallback;
    }
  }

  private emitEvent(inst: Instance, info: number): boolean {
    if (!inst.enabled || this.quiescent) return false;
    const source = this.eventSource(inst.number);
    if (source === undefined) return false;
    const frame = eventFrame(source, info & 0x3ff);
    this.emit('event', frame.value);
    return true;
  }

  // ---------------------------------------------------------------- frames

  /**
   * Receives one forward frame. Returns the backward frames this device
   * answers (usually none or one; a query to several of its instances gives
   * several, which collide on the bus). 16-bit frames and event frames are
   * ignored. Never throws.
   */
  handleFrame(frame: ForwardFrame): number[] {
    if (frame.bits !== 24 || !Number.isFinite(frame.value)) return [];
    const value = Math.trunc(frame.value) & 0xffffff;
    if ((value & 0x10000) === 0) return []; // an event, not a command
    const now = this.clock.now();
    const pending = this.pendingTwice;
    this.pendingTwice = null;
    const address = value >> 16;
    const instanceByte = (value >> 8) & 0xff;
    const opcode = value & 0xff;

    if (address === DeviceSpecialCommand.PREFIX) {
      this.special(instanceByte, opcode);
      return [];
    }
    if (address === 0xc7) {
      this.dtr1 = instanceByte;
      this.dtr0 = opcode;
      return [];
    }
    if (address === 0xc9) {
      this.dtr2 = instanceByte;
      this.dtr1 = opcode;
      return [];
    }
    if (!this.addressed(address)) return [];

    const twice = instanceByte === 0xfe ? isSendTwiceDeviceCommand(opcode) : isSendTwiceInstanceCommand(opcode);
    if (twice) {
      const repeat = pending !== null && pending.value === value && now - pending.atMs <= SEND_TWICE_WINDOW_MS;
      if (!repeat) {
        this.pendingTwice = { value, atMs: now };
        return [];
      }
    }
    if (instanceByte === 0xfe) {
      const a = this.deviceCommand(opcode);
      return a === null ? [] : [a];
    }
    const out: number[] = [];
    for (const inst of this.selectInstances(instanceByte)) {
      const a = this.instanceCommand(inst, opcode);
      if (a !== null) out.push(a);
    }
    return out;
  }

  private addressed(address: number): boolean {
    if ((address & 1) === 0) return false;
    if (address <= 0x7f) return this.short !== null && address >> 1 === this.short;
    if (address <= 0xbf) return (this.deviceGroups & (2 ** ((address >> 1) & 0x1f))) !== 0;
    if (address === 0xfd) return this.short === null;
    return address === 0xff;
  }

  private selectInstances(byte: number): Instance[] {
    if (byte === 0xff) return this.instances;
    if (byte <= 0x1f) return this.instances.filter((i) => i.number === byte);
    if (byte >= 0x80 && byte <= 0x9f) {
      const g = byte & 0x1f;
      return this.instances.filter((i) => i.primaryGroup === g || i.group1 === g || i.group2 === g);
    }
    if (byte >= 0xc0 && byte <= 0xdf) return this.instances.filter((i) => i.type === (byte & 0x1f));
    return [];
  }

  private special(opcode: number, data: number): void {
    switch (opcode) {
      case DeviceSpecialCommand.DTR0:
        this.dtr0 = data;
        break;
      case DeviceSpecialCommand.DTR1:
        this.dtr1 = data;
        break;
      case DeviceSpecialCommand.DTR2:
        this.dtr2 = data;
        break;
      default:
        // Addressing special commands are not modelled.
        this.notModelled('deviceSpecial', opcode);
        break;
    }
  }

  private notModelled(family: Family, opcode: number): void {
    if (!NOT_MODELLED[family].has(opcode)) this.unrecognisedCommands++;
  }

  private deviceCommand(opcode: number): number | null {
    const yesNo = (b: boolean): number | null => (b ? YES : null);
    switch (opcode) {
      case DeviceCommand.RESET:
        this.deviceGroups = 0;
        this.quiescent = false;
        for (const i of this.instances) {
          i.enabled = false;
          i.scheme = EventScheme.Instance;
          i.primaryGroup = i.group1 = i.group2 = MASK;
        }
        return null;
      case DeviceCommand.SET_SHORT_ADDRESS:
        if (this.dtr0 === MASK) this.short = null;
        else if (this.dtr0 <= 63) this.short = this.dtr0;
        return null;
      case DeviceCommand.START_QUIESCENT_MODE:
        this.quiescent = true;
        return null;
      case DeviceCommand.STOP_QUIESCENT_MODE:
        this.quiescent = false;
        return null;
      case DeviceCommand.RESET_POWER_CYCLE_SEEN:
        this.powerCycleSeen = false;
        return null;
      case DeviceCommand.ADD_TO_DEVICE_GROUPS_0_15:
        this.deviceGroups = (this.deviceGroups | ((this.dtr2 << 8) | this.dtr1)) >>> 0;
        return null;
      case DeviceCommand.ADD_TO_DEVICE_GROUPS_16_31:
        this.deviceGroups = (this.deviceGroups | (((this.dtr2 << 8) | this.dtr1) * 0x10000)) >>> 0;
        return null;
      case DeviceCommand.REMOVE_FROM_DEVICE_GROUPS_0_15:
        this.deviceGroups = (this.deviceGroups & ~((this.dtr2 << 8) | this.dtr1)) >>> 0;
        return null;
      case DeviceCommand.REMOVE_FROM_DEVICE_GROUPS_16_31:
        this.deviceGroups = (this.deviceGroups & ~(((this.dtr2 << 8) | this.dtr1) << 16)) >>> 0;
        return null;
      case DeviceCommand.QUERY_DEVICE_STATUS:
        // bit 1 quiescent mode, bit 2 short address is MASK, bit 5 power cycle seen.
        return (this.quiescent ? 0x02 : 0) | (this.short === null ? 0x04 : 0) | (this.powerCycleSeen ? 0x20 : 0);
      case DeviceCommand.QUERY_MISSING_SHORT_ADDRESS:
        return yesNo(this.short === null);
      case DeviceCommand.QUERY_VERSION_NUMBER:
        return 0x08; // 2.0
      case DeviceCommand.QUERY_NUMBER_OF_INSTANCES:
        return this.instances.length;
      case DeviceCommand.QUERY_CONTENT_DTR0:
        return this.dtr0;
      case DeviceCommand.QUERY_CONTENT_DTR1:
        return this.dtr1;
      case DeviceCommand.QUERY_CONTENT_DTR2:
        return this.dtr2;
      case DeviceCommand.QUERY_QUIESCENT_MODE:
        return yesNo(this.quiescent);
      case DeviceCommand.QUERY_DEVICE_GROUPS_0_7:
        return this.deviceGroups & 0xff;
      case DeviceCommand.QUERY_DEVICE_GROUPS_8_15:
        return (this.deviceGroups >>> 8) & 0xff;
      case DeviceCommand.QUERY_DEVICE_GROUPS_16_23:
        return (this.deviceGroups >>> 16) & 0xff;
      case DeviceCommand.QUERY_DEVICE_GROUPS_24_31:
        return (this.deviceGroups >>> 24) & 0xff;
      case DeviceCommand.QUERY_RESET_STATE:
        return yesNo(this.deviceGroups === 0 && this.instances.every((i) => !i.enabled && i.scheme === EventScheme.Instance));
      default:
        this.notModelled('device', opcode);
        return null;
    }
  }

  private instanceCommand(inst: Instance, opcode: number): number | null {
    const yesNo = (b: boolean): number | null => (b ? YES : null);
    const occupancy = inst.type === InstanceType.OccupancySensor;
    const light = inst.type === InstanceType.LightSensor;
    switch (opcode) {
      case InstanceCommand.ENABLE_INSTANCE:
        inst.enabled = true;
        return null;
      case InstanceCommand.DISABLE_INSTANCE:
        inst.enabled = false;
        return null;
      case InstanceCommand.SET_EVENT_SCHEME:
        if (this.dtr0 <= EventScheme.InstanceGroup) inst.scheme = this.dtr0 as EventScheme;
        return null;
      case InstanceCommand.SET_PRIMARY_INSTANCE_GROUP:
        if (this.dtr0 <= 31 || this.dtr0 === MASK) inst.primaryGroup = this.dtr0;
        return null;
      case InstanceCommand.SET_INSTANCE_GROUP_1:
        if (this.dtr0 <= 31 || this.dtr0 === MASK) inst.group1 = this.dtr0;
        return null;
      case InstanceCommand.SET_INSTANCE_GROUP_2:
        if (this.dtr0 <= 31 || this.dtr0 === MASK) inst.group2 = this.dtr0;
        return null;
      case InstanceCommand.SET_EVENT_FILTER:
        inst.filter = this.dtr0;
        return null;
      case InstanceCommand.QUERY_INSTANCE_TYPE:
        return inst.type;
      case InstanceCommand.QUERY_RESOLUTION:
        return occupancy ? 2 : 10;
      case InstanceCommand.QUERY_INSTANCE_ERROR:
        return 0;
      case InstanceCommand.QUERY_INSTANCE_ENABLED:
        return yesNo(inst.enabled);
      case InstanceCommand.QUERY_EVENT_SCHEME:
        return inst.scheme;
      case InstanceCommand.QUERY_PRIMARY_INSTANCE_GROUP:
        return inst.primaryGroup;
      case InstanceCommand.QUERY_INSTANCE_GROUP_1:
        return inst.group1;
      case InstanceCommand.QUERY_INSTANCE_GROUP_2:
        return inst.group2;
      case InstanceCommand.QUERY_EVENT_FILTER_0_7:
        return inst.filter & 0xff;
      case InstanceCommand.QUERY_INPUT_VALUE:
        if (occupancy) return !this.occupied ? 0x00 : this.moving ? 0xff : 0xaa;
        return (this.raw >> 2) & 0xff;
      case InstanceCommand.QUERY_INPUT_VALUE_LATCH:
        return occupancy ? null : (this.raw & 0x03) << 6;
      default:
        break;
    }
    if (light) {
      switch (opcode) {
        case LightSensorCommand.SET_HYSTERESIS:
          this.hysteresisPct = Math.min(25, this.dtr0);
          return null;
        case LightSensorCommand.SET_HYSTERESIS_MIN:
          this.hysteresisMinRaw = this.dtr0;
          return null;
        case LightSensorCommand.QUERY_HYSTERESIS:
          return this.hysteresisPct;
        case LightSensorCommand.QUERY_HYSTERESIS_MIN:
          return this.hysteresisMinRaw;
        default:
          break;
      }
    }
    // Part 303/304 commands for another instance type are not this instance's business.
    const typeOfOpcode = INSTANCE_COMMANDS_BY_OPCODE[opcode]?.instanceType;
    if (typeOfOpcode === undefined || typeOfOpcode === inst.type) this.notModelled('instance', opcode);
    return null;
  }
}
