/**
 * DALI frame codec: builders for every forward frame of IEC 62386 parts 102
 * (control gear), 209 (DT8 colour), 103 (control devices), 303/304
 * (occupancy and light sensors) and the part 103 event frames, plus a
 * decoder that never throws.
 *
 * Builders validate their arguments and throw RangeError with a readable
 * message; `decodeFrame` accepts any number and answers `kind: 'unknown'`
 * for what it cannot read.
 *
 * Frame layouts (MSB first, right-aligned in `value`; docs/dali.md "Frames"
 * and "Sensors and events" say where they come from):
 * - 16 bits: `[address byte][opcode or level]`; address byte short
 *   `0AAAAAAS`, group `100GGGGS`, broadcast `1111111S`, broadcast
 *   unaddressed `1111110S`; S = 0 DAPC, S = 1 command. First bytes
 *   0xA1..0xC9 (odd) are special commands with data in the second byte.
 * - 24-bit commands (bit 16 = 1): `[address][instance][opcode]`.
 * - 24-bit events (bit 16 = 0): source bits 23..10 by event scheme, 10-bit
 *   event information in bits 9..0 (layout as python-dali general.py).
 */
import { DeviceAddress, EventScheme, ForwardBits, ForwardFrame, GearAddress, InstanceSelector, InstanceType } from './types';
import {
  DEVICE_SPECIAL_TABLE,
  DEVICE_SPECIAL_TWO_BYTE_TABLE,
  DEVICE_TABLE,
  DT8_TABLE,
  DeviceSpecialCommand,
  GEAR_TABLE,
  INSTANCE_COMMANDS_BY_OPCODE,
  SPECIAL_TABLE,
  SpecialCommand,
  type CommandInfo,
} from './opcodes';
import { arcLevelToPercent } from './curve';

// ---------------------------------------------------------------------------
// Command lookups by opcode (all derived from the tables in ./opcodes)
// ---------------------------------------------------------------------------

export type { CommandInfo };

type Table = ReadonlyArray<CommandInfo | undefined>;

/** Part 102 standard commands (second byte, S = 1), 0x00..0xDF. */
export const GEAR_COMMANDS: Table = GEAR_TABLE.byOpcode;
/** Part 102 special commands (first byte), data in the second byte. */
export const SPECIAL_COMMANDS: Table = SPECIAL_TABLE.byOpcode;
/** Part 209 (DT8) application extended commands 0xE0..0xFF. */
export const DT8_COMMANDS: Table = DT8_TABLE.byOpcode;
/** Part 103 device commands (instance byte 0xFE). */
export const DEVICE_COMMANDS: Table = DEVICE_TABLE.byOpcode;
/** Part 103 instance commands plus the part 303/304 instance-type specific commands. */
export const INSTANCE_COMMANDS: Table = INSTANCE_COMMANDS_BY_OPCODE;
/** Part 103 special commands with first byte 0xC1, keyed by the second byte. */
export const DEVICE_SPECIAL_COMMANDS: Table = DEVICE_SPECIAL_TABLE.byOpcode;
/** Part 103 two-byte special commands, keyed by the first byte (0xC5/0xC7/0xC9). */
const TWO_BYTE_SPECIALS: Table = DEVICE_SPECIAL_TWO_BYTE_TABLE.byOpcode;

const S = SpecialCommand;
const DS = DeviceSpecialCommand;

// ---------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${describeValue(v)}`);
  }
  return v;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) {
    try {
      return JSON.stringify(v);
    } catch {
      return '[object]';
    }
  }
  return String(v);
}

function frame(bits: ForwardBits, value: number, info?: { sendTwice: boolean; expectAnswer: boolean }): ForwardFrame {
  if (info?.sendTwice) return { bits, value, sendTwice: true };
  if (info?.expectAnswer) return { bits, value, expectAnswer: true };
  return { bits, value };
}

function hex(v: number, digits: number): string {
  return '0x' + v.toString(16).toUpperCase().padStart(digits, '0');
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

/**
 * Address byte of a 16-bit gear frame. `selector` = the S bit: false for
 * DAPC (second byte is a level), true for a command.
 */
export function encodeGearAddressByte(addr: GearAddress, selector: boolean): number {
  const s = selector ? 1 : 0;
  if (addr === null || typeof addr !== 'object') {
    throw new RangeError(`gear address must be an object like {kind: 'short', address: 5}, got ${describeValue(addr)}`);
  }
  switch (addr.kind) {
    case 'short':
      return (checkInt('gear short address', addr.address, 0, 63) << 1) | s;
    case 'group':
      return 0x80 | (checkInt('gear group', addr.group, 0, 15) << 1) | s;
    case 'broadcast':
      return 0xfe | s;
    case 'broadcastUnaddressed':
      return 0xfc | s;
    default:
      throw new RangeError(`unknown gear address kind ${describeValue((addr as { kind?: unknown }).kind)}`);
  }
}

/** Gear address of a 16-bit address byte, or undefined for special/reserved bytes (0xA0..0xFB). */
export function decodeGearAddressByte(byte: number): GearAddress | undefined {
  if (byte < 0x80) return { kind: 'short', address: byte >> 1 };
  if (byte < 0xa0) return { kind: 'group', group: (byte >> 1) & 0x0f };
  if (byte === 0xfc || byte === 0xfd) return { kind: 'broadcastUnaddressed' };
  if (byte === 0xfe || byte === 0xff) return { kind: 'broadcast' };
  return undefined;
}

/** Address byte of a 24-bit device command (bit 0 always 1). */
export function encodeDeviceAddressByte(addr: DeviceAddress): number {
  if (addr === null || typeof addr !== 'object') {
    throw new RangeError(`device address must be an object like {kind: 'short', address: 5}, got ${describeValue(addr)}`);
  }
  switch (addr.kind) {
    case 'short':
      return (checkInt('device short address', addr.address, 0, 63) << 1) | 1;
    case 'group':
      return 0x80 | (checkInt('device group', addr.group, 0, 31) << 1) | 1;
    case 'broadcast':
      return 0xff;
    case 'broadcastUnaddressed':
      return 0xfd;
    default:
      throw new RangeError(`unknown device address kind ${describeValue((addr as { kind?: unknown }).kind)}`);
  }
}

/** Device address of a 24-bit command address byte, or undefined for special/reserved bytes. */
export function decodeDeviceAddressByte(byte: number): DeviceAddress | undefined {
  if ((byte & 1) === 0) return undefined;
  if (byte < 0x80) return { kind: 'short', address: byte >> 1 };
  if (byte < 0xc0) return { kind: 'group', group: (byte >> 1) & 0x1f };
  if (byte === 0xfd) return { kind: 'broadcastUnaddressed' };
  if (byte === 0xff) return { kind: 'broadcast' };
  return undefined;
}

/** Instance byte of a 24-bit command. */
export function encodeInstanceByte(inst: InstanceSelector): number {
  if (inst === null || typeof inst !== 'object') {
    throw new RangeError(`instance selector must be an object like {kind: 'number', instance: 0}, got ${describeValue(inst)}`);
  }
  switch (inst.kind) {
    case 'number':
      return checkInt('instance number', inst.instance, 0, 31);
    case 'group':
      return 0x80 | checkInt('instance group', inst.group, 0, 31);
    case 'type':
      return 0xc0 | checkInt('instance type', inst.instanceType, 0, 31);
    case 'all':
      return 0xff;
    case 'device':
      return 0xfe;
    default:
      throw new RangeError(`unknown instance selector kind ${describeValue((inst as { kind?: unknown }).kind)}`);
  }
}

/** Instance selector of an instance byte; undefined for feature addressing and reserved values. */
export function decodeInstanceByte(byte: number): InstanceSelector | undefined {
  if (byte <= 0x1f) return { kind: 'number', instance: byte };
  if (byte >= 0x80 && byte <= 0x9f) return { kind: 'group', group: byte & 0x1f };
  if (byte >= 0xc0 && byte <= 0xdf) return { kind: 'type', instanceType: byte & 0x1f };
  if (byte === 0xff) return { kind: 'all' };
  if (byte === 0xfe) return { kind: 'device' };
  return undefined;
}

// ---------------------------------------------------------------------------
// Part 102 builders
// ---------------------------------------------------------------------------

/** DIRECT ARC POWER CONTROL: level 0 = off, 1..254, 255 = MASK (stop fade / no change). */
export function dapc(addr: GearAddress, level: number): ForwardFrame {
  checkInt('arc power level', level, 0, 255);
  return frame(16, (encodeGearAddressByte(addr, false) << 8) | level);
}

/**
 * A part 102 standard command (S = 1). For the scene/group families (GO TO
 * SCENE, SET SCENE, REMOVE FROM SCENE, ADD TO GROUP, REMOVE FROM GROUP,
 * QUERY SCENE LEVEL) pass the base opcode and `n` 0..15, or the full opcode
 * without `n`. Application extended commands (0xE0..0xFF) go through
 * `dt8Command` / `applicationExtendedCommand`.
 */
export function gearCommand(addr: GearAddress, opcode: number, n?: number): ForwardFrame {
  checkInt('gear command opcode', opcode, 0, 0xdf);
  const info = GEAR_COMMANDS[opcode];
  if (!info) throw new RangeError(`${hex(opcode, 2)} is not a part 102 command (reserved opcode)`);
  let op = opcode;
  if (n !== undefined) {
    if (!info.hasParam) throw new RangeError(`${info.name} takes no scene/group number, got n = ${describeValue(n)}`);
    if ((opcode & 0x0f) !== 0) throw new RangeError(`pass the base opcode ${hex(opcode & 0xf0, 2)} of ${info.name} together with n`);
    op = opcode | checkInt(`${info.name} number`, n, 0, 15);
  }
  return frame(16, (encodeGearAddressByte(addr, true) << 8) | op, info);
}

/**
 * An application extended command (0xE0..0xFF) for any device type; the
 * caller must put ENABLE DEVICE TYPE `deviceType` right before it. Flags are
 * known for DT8 only; for other device types only 0xFF (QUERY EXTENDED
 * VERSION NUMBER) is marked as a query.
 */
export function applicationExtendedCommand(addr: GearAddress, deviceType: number, opcode: number): ForwardFrame {
  checkInt('device type', deviceType, 0, 255);
  checkInt('application extended opcode', opcode, 0xe0, 0xff);
  if (deviceType === 8) return dt8Command(addr, opcode);
  const info = opcode === 0xff ? { sendTwice: false, expectAnswer: true } : undefined;
  return frame(16, (encodeGearAddressByte(addr, true) << 8) | opcode, info);
}

/** A part 209 (DT8) command; ENABLE DEVICE TYPE 8 (0xC108) must immediately precede it. */
export function dt8Command(addr: GearAddress, opcode: number): ForwardFrame {
  checkInt('DT8 opcode', opcode, 0xe0, 0xff);
  const info = DT8_COMMANDS[opcode];
  if (!info) throw new RangeError(`${hex(opcode, 2)} is not a part 209 (DT8) command (reserved opcode)`);
  return frame(16, (encodeGearAddressByte(addr, true) << 8) | opcode, info);
}

/** A part 102 special command by first byte (e.g. SpecialCommand.DTR0) and data byte. */
export function specialCommand(opcode: number, data = 0): ForwardFrame {
  checkInt('special command', opcode, 0xa0, 0xfb);
  const info = SPECIAL_COMMANDS[opcode];
  if (!info) throw new RangeError(`${hex(opcode, 2)} is not a part 102 special command`);
  checkInt(`${info.name} data`, data, 0, 255);
  return frame(16, (opcode << 8) | data, info);
}

/** DTR0 = v (0xA3vv). */
export const dtr0 = (v: number): ForwardFrame => specialCommand(S.DTR0, v);
/** DTR1 = v (0xC3vv). */
export const dtr1 = (v: number): ForwardFrame => specialCommand(S.DTR1, v);
/** DTR2 = v (0xC5vv). */
export const dtr2 = (v: number): ForwardFrame => specialCommand(S.DTR2, v);
/** ENABLE DEVICE TYPE dt (0xC1dt): the next command is read as an application extended command of that type. */
export const enableDeviceType = (dt: number): ForwardFrame => specialCommand(S.ENABLE_DEVICE_TYPE, dt);
/** TERMINATE (ends an initialisation). */
export const terminate = (): ForwardFrame => specialCommand(S.TERMINATE, 0);
/** RANDOMISE (send twice). */
export const randomise = (): ForwardFrame => specialCommand(S.RANDOMISE, 0);
/** COMPARE: YES (or a framing error) when some gear's random address <= search address. */
export const compare = (): ForwardFrame => specialCommand(S.COMPARE, 0);
/** WITHDRAW: the gear whose random address equals the search address leaves the search. */
export const withdraw = (): ForwardFrame => specialCommand(S.WITHDRAW, 0);
/** PING: announces an application controller (DALI-2). */
export const ping = (): ForwardFrame => specialCommand(S.PING, 0);
/** QUERY SHORT ADDRESS: the selected gear answers its short address as 0AAAAAA1 (or MASK). */
export const queryShortAddress = (): ForwardFrame => specialCommand(S.QUERY_SHORT_ADDRESS, 0);

/** Target of INITIALISE: all gear, gear without short address, or one short address. */
export type InitialiseTarget = 'all' | 'unaddressed' | number;

/** INITIALISE (send twice): data 0x00 all, 0xFF unaddressed, (a << 1) | 1 one short address. */
export function initialise(target: InitialiseTarget): ForwardFrame {
  let data: number;
  if (target === 'all') data = 0x00;
  else if (target === 'unaddressed') data = 0xff;
  else data = (checkInt('INITIALISE short address', target, 0, 63) << 1) | 1;
  return specialCommand(S.INITIALISE, data);
}

/** SEARCHADDRH/M/L: one byte of the 24-bit search address. */
export function searchAddr(part: 'h' | 'm' | 'l', v: number): ForwardFrame {
  const op = part === 'h' ? S.SEARCHADDRH : part === 'm' ? S.SEARCHADDRM : part === 'l' ? S.SEARCHADDRL : undefined;
  if (op === undefined) throw new RangeError(`search address part must be 'h', 'm' or 'l', got ${describeValue(part)}`);
  return specialCommand(op, v);
}

/** The three SEARCHADDR frames (H, M, L) for a 24-bit search address. */
export function searchAddress(address24: number): ForwardFrame[] {
  checkInt('search address', address24, 0, 0xffffff);
  return [searchAddr('h', (address24 >> 16) & 0xff), searchAddr('m', (address24 >> 8) & 0xff), searchAddr('l', address24 & 0xff)];
}

/** PROGRAM SHORT ADDRESS a (0..63), or 'delete' (MASK, 0xFF) to remove it. */
export function programShortAddress(a: number | 'delete'): ForwardFrame {
  if (a === 'delete') return specialCommand(S.PROGRAM_SHORT_ADDRESS, 0xff);
  return specialCommand(S.PROGRAM_SHORT_ADDRESS, (checkInt('short address', a, 0, 63) << 1) | 1);
}

/** VERIFY SHORT ADDRESS a: the selected gear with that address answers YES. */
export function verifyShortAddress(a: number): ForwardFrame {
  return specialCommand(S.VERIFY_SHORT_ADDRESS, (checkInt('short address', a, 0, 63) << 1) | 1);
}

// ---------------------------------------------------------------------------
// Part 103 builders
// ---------------------------------------------------------------------------

/** A part 103 device command (instance byte 0xFE). */
export function deviceCommand(addr: DeviceAddress, opcode: number): ForwardFrame {
  checkInt('device command opcode', opcode, 0, 255);
  const info = DEVICE_COMMANDS[opcode];
  if (!info) throw new RangeError(`${hex(opcode, 2)} is not a part 103 device command`);
  return frame(24, (encodeDeviceAddressByte(addr) << 16) | (0xfe << 8) | opcode, info);
}

/**
 * A part 103 instance command, or a part 303/304 instance-type specific
 * command (OccupancySensorCommand / LightSensorCommand). The instance must
 * not be `device` (use deviceCommand); a type selector must match the part
 * of a type-specific opcode.
 */
export function instanceCommand(addr: DeviceAddress, instance: InstanceSelector, opcode: number): ForwardFrame {
  checkInt('instance command opcode', opcode, 0, 255);
  const info = INSTANCE_COMMANDS[opcode];
  if (!info) throw new RangeError(`${hex(opcode, 2)} is not a known instance command`);
  const instByte = encodeInstanceByte(instance);
  if (instance.kind === 'device') throw new RangeError(`instance selector 'device' (0xFE) is for device commands; use deviceCommand()`);
  const typeOfOp = info.instanceType;
  if (typeOfOp !== undefined && instance.kind === 'type' && instance.instanceType !== typeOfOp) {
    throw new RangeError(`${info.name} (${hex(opcode, 2)}) belongs to instance type ${typeOfOp}, not ${instance.instanceType}`);
  }
  return frame(24, (encodeDeviceAddressByte(addr) << 16) | (instByte << 8) | opcode, info);
}

/** A part 103 special command 0xC1 `opcode` `data` (DeviceSpecialCommand.*). */
export function deviceSpecialCommand(opcode: number, data = 0): ForwardFrame {
  checkInt('device special command', opcode, 0, 255);
  const info = DEVICE_SPECIAL_COMMANDS[opcode];
  if (!info) throw new RangeError(`${hex(opcode, 2)} is not a part 103 special command`);
  checkInt(`${info.name} data`, data, 0, 255);
  return frame(24, (DS.PREFIX << 16) | (opcode << 8) | data, info);
}

/** A part 103 two-byte special command: DIRECT WRITE MEMORY (0xC5), DTR1:DTR0 (0xC7), DTR2:DTR1 (0xC9). */
export function deviceSpecialTwoByte(prefix: number, byte1: number, byte2: number): ForwardFrame {
  const info = Number.isInteger(prefix) ? TWO_BYTE_SPECIALS[prefix] : undefined;
  if (!info) throw new RangeError(`${describeValue(prefix)} is not a part 103 two-byte special command (0xC5, 0xC7, 0xC9)`);
  checkInt(`${info.name} first data byte`, byte1, 0, 255);
  checkInt(`${info.name} second data byte`, byte2, 0, 255);
  return frame(24, (prefix << 16) | (byte1 << 8) | byte2, info);
}

/** Device DTR0 = v (0xC130vv). */
export const deviceDtr0 = (v: number): ForwardFrame => deviceSpecialCommand(DS.DTR0, v);
/** Device DTR1 = v (0xC131vv). */
export const deviceDtr1 = (v: number): ForwardFrame => deviceSpecialCommand(DS.DTR1, v);
/** Device DTR2 = v (0xC132vv). */
export const deviceDtr2 = (v: number): ForwardFrame => deviceSpecialCommand(DS.DTR2, v);
/** Device DTR1 and DTR0 in one frame (0xC7 dtr1 dtr0). */
export const deviceDtr1Dtr0 = (dtr1v: number, dtr0v: number): ForwardFrame => deviceSpecialTwoByte(0xc7, dtr1v, dtr0v);

// ---------------------------------------------------------------------------
// Part 103 events
// ---------------------------------------------------------------------------

/** Who sent an event, as each event scheme identifies it. */
export type EventSource =
  | { readonly scheme: EventScheme.Instance; readonly instanceType: number; readonly instanceNumber: number }
  | { readonly scheme: EventScheme.Device; readonly shortAddress: number; readonly instanceType: number }
  | { readonly scheme: EventScheme.DeviceInstance; readonly shortAddress: number; readonly instanceNumber: number }
  | { readonly scheme: EventScheme.DeviceGroup; readonly deviceGroup: number; readonly instanceType: number }
  | { readonly scheme: EventScheme.InstanceGroup; readonly instanceGroup: number; readonly instanceType: number };

/**
 * A part 103 event frame (24 bits, bit 16 = 0) with 10-bit event information.
 * Layout (python-dali dali/device/general.py, IEC 62386-103 table 3):
 * - device          bit23=0, bit15=0: short 22..17, instance type 14..10
 * - device/instance bit23=0, bit15=1: short 22..17, instance number 14..10
 * - device group    bit23=1, bit22=0, bit15=0: group 21..17, type 14..10
 * - instance        bit23=1, bit22=0, bit15=1: type 21..17, number 14..10
 * - instance group  bit23=1, bit22=1, bit15=0: group 21..17, type 14..10
 */
export function eventFrame(source: EventSource, info: number): ForwardFrame {
  checkInt('event information', info, 0, 0x3ff);
  if (source === null || typeof source !== 'object') {
    throw new RangeError(`event source must be an object with a scheme, got ${describeValue(source)}`);
  }
  let v: number;
  switch (source.scheme) {
    case EventScheme.Device:
      v = (checkInt('short address', source.shortAddress, 0, 63) << 17) | (checkInt('instance type', source.instanceType, 0, 31) << 10);
      break;
    case EventScheme.DeviceInstance:
      v =
        (checkInt('short address', source.shortAddress, 0, 63) << 17) |
        (1 << 15) |
        (checkInt('instance number', source.instanceNumber, 0, 31) << 10);
      break;
    case EventScheme.DeviceGroup:
      v =
        (1 << 23) |
        (checkInt('device group', source.deviceGroup, 0, 31) << 17) |
        (checkInt('instance type', source.instanceType, 0, 31) << 10);
      break;
    case EventScheme.Instance:
      v =
        (1 << 23) |
        (checkInt('instance type', source.instanceType, 0, 31) << 17) |
        (1 << 15) |
        (checkInt('instance number', source.instanceNumber, 0, 31) << 10);
      break;
    case EventScheme.InstanceGroup:
      v =
        (1 << 23) |
        (1 << 22) |
        (checkInt('instance group', source.instanceGroup, 0, 31) << 17) |
        (checkInt('instance type', source.instanceType, 0, 31) << 10);
      break;
    default:
      throw new RangeError(`unknown event scheme ${describeValue((source as { scheme?: unknown }).scheme)}`);
  }
  return frame(24, v | info);
}

/** Occupancy (part 303) event information, bits 0..3. */
export interface OccupancyInfo {
  /** Bit 0: movement detected. */
  readonly movement: boolean;
  /** Bit 1: occupied (false = vacant). */
  readonly occupied: boolean;
  /** Bit 2: repeat of an earlier event (report timer). */
  readonly repeat: boolean;
  /** Bit 3: the sensor is a movement sensor (false = presence sensor). */
  readonly movementSensor: boolean;
}

/** Event information of an occupancy event. */
export function occupancyEventInfo(o: { movement: boolean; occupied: boolean; repeat?: boolean; movementSensor?: boolean }): number {
  return (o.movement ? 1 : 0) | (o.occupied ? 2 : 0) | (o.repeat ? 4 : 0) | (o.movementSensor ? 8 : 0);
}

/** Event information of a light (part 304) event: the 10-bit illuminance value. */
export function lightEventInfo(illuminanceRaw: number): number {
  return checkInt('illuminance value', illuminanceRaw, 0, 0x3ff);
}

// ---------------------------------------------------------------------------
// Decoded frames
// ---------------------------------------------------------------------------

interface DecodedCommon {
  readonly value: number;
  /** Standard name, e.g. "DAPC", "QUERY ACTUAL LEVEL", "ENABLE DEVICE TYPE", "EVENT". */
  readonly name: string;
  readonly sendTwice: boolean;
  readonly expectAnswer: boolean;
}

export interface DecodedDapc extends DecodedCommon {
  readonly kind: 'dapc';
  readonly bits: 16;
  readonly address: GearAddress;
  /** 0 = off, 1..254, 255 = MASK. */
  readonly level: number;
}

export interface DecodedGearCommand extends DecodedCommon {
  readonly kind: 'gearCommand';
  readonly bits: 16;
  readonly address: GearAddress;
  /** Full second byte, e.g. 0x13 for GO TO SCENE 3. */
  readonly opcode: number;
  /** Scene or group number of the +n families. */
  readonly param?: number;
  /** Set for an application extended command of a known non-DT8 device type. */
  readonly deviceType?: number;
}

export interface DecodedSpecial extends DecodedCommon {
  readonly kind: 'special';
  readonly bits: 16;
  /** First byte (SpecialCommand.*). */
  readonly opcode: number;
  readonly data: number;
  /** ENABLE DEVICE TYPE: the enabled type (= data). */
  readonly deviceType?: number;
}

export interface DecodedDt8 extends DecodedCommon {
  readonly kind: 'dt8';
  readonly bits: 16;
  readonly address: GearAddress;
  readonly opcode: number;
  /** Always 8: ENABLE DEVICE TYPE 8 must precede the frame. */
  readonly deviceType: 8;
}

export interface DecodedDeviceCommand extends DecodedCommon {
  readonly kind: 'deviceCommand';
  readonly bits: 24;
  readonly address: DeviceAddress;
  readonly instance: { readonly kind: 'device' };
  readonly opcode: number;
}

export interface DecodedInstanceCommand extends DecodedCommon {
  readonly kind: 'instanceCommand';
  readonly bits: 24;
  readonly address: DeviceAddress;
  readonly instance: InstanceSelector;
  readonly opcode: number;
  /** For part 303/304 type-specific commands: the instance type whose part defines the opcode. */
  readonly instanceType?: number;
}

export interface DecodedDeviceSpecial extends DecodedCommon {
  readonly kind: 'deviceSpecial';
  readonly bits: 24;
  /** First byte: 0xC1 (then `opcode` selects the command) or 0xC5/0xC7/0xC9. */
  readonly prefix: number;
  /** Second byte. */
  readonly opcode: number;
  /** Third byte. */
  readonly data: number;
}

export interface DecodedEvent extends DecodedCommon {
  readonly kind: 'event';
  readonly bits: 24;
  readonly scheme: EventScheme;
  readonly shortAddress?: number;
  readonly deviceGroup?: number;
  /** Known from the frame (all schemes but device/instance) or from ctx.instanceTypeOf. */
  readonly instanceType?: number;
  readonly instanceNumber?: number;
  readonly instanceGroup?: number;
  /** 10-bit event information. */
  readonly info: number;
  /** Instance type 3 with valid info (bits 4..9 zero). */
  readonly occupancy?: OccupancyInfo;
  /** Instance type 4: raw 10-bit illuminance (scale is device specific). */
  readonly illuminanceRaw?: number;
}

export interface DecodedUnknown extends DecodedCommon {
  readonly kind: 'unknown';
  /** As passed in (may be anything for garbage input). */
  readonly bits: number;
  readonly address?: GearAddress | DeviceAddress;
  readonly instance?: InstanceSelector;
  readonly opcode?: number;
  readonly deviceType?: number;
  /** Why the frame is not understood. */
  readonly description: string;
}

export type DecodedFrame =
  | DecodedDapc
  | DecodedGearCommand
  | DecodedSpecial
  | DecodedDt8
  | DecodedDeviceCommand
  | DecodedInstanceCommand
  | DecodedDeviceSpecial
  | DecodedEvent
  | DecodedUnknown;

export interface DecodeContext {
  /** Device type enabled by an ENABLE DEVICE TYPE right before this frame (affects 0xE0..0xFF). */
  readonly enabledDeviceType?: number;
  /** Instance type of a device/instance pair, for device/instance scheme events. */
  readonly instanceTypeOf?: (shortAddress: number, instanceNumber: number) => number | undefined;
}

function num(x: unknown): number {
  return typeof x === 'number' ? x : NaN;
}

function unknown(
  bits: number,
  value: number,
  description: string,
  extra?: Partial<Pick<DecodedUnknown, 'address' | 'instance' | 'opcode' | 'deviceType' | 'name'>>,
): DecodedUnknown {
  return {
    kind: 'unknown',
    bits,
    value,
    name: extra?.name ?? 'UNKNOWN',
    sendTwice: false,
    expectAnswer: false,
    description,
    ...(extra?.address ? { address: extra.address } : {}),
    ...(extra?.instance ? { instance: extra.instance } : {}),
    ...(extra?.opcode !== undefined ? { opcode: extra.opcode } : {}),
    ...(extra?.deviceType !== undefined ? { deviceType: extra.deviceType } : {}),
  };
}

/**
 * Decodes a forward frame. Never throws: anything it cannot read (wrong bit
 * count, NaN, value out of range, reserved opcodes) yields kind 'unknown'
 * with a description.
 */
export function decodeFrame(bits: 16 | 24, value: number, ctx?: DecodeContext): DecodedFrame {
  try {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      return unknown(num(bits), num(value), `frame value ${describeValue(value)} is not a non-negative integer`);
    }
    if (bits === 16) {
      if (value > 0xffff) return unknown(16, value, `value ${hex(value, 4)} does not fit in 16 bits`);
      return decode16(value, ctx);
    }
    if (bits === 24) {
      if (value > 0xffffff) return unknown(24, value, `value ${hex(value, 6)} does not fit in 24 bits`);
      return (value & 0x10000) !== 0 ? decode24Command(value) : decodeEvent(value, ctx);
    }
    return unknown(num(bits), value, `unsupported frame length ${describeValue(bits)} (16 or 24 bits)`);
  } catch (err) {
    // Defensive: a throwing ctx.instanceTypeOf or similar must not escape.
    return unknown(num(bits), num(value), `decoder error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decode16(value: number, ctx?: DecodeContext): DecodedFrame {
  const a = value >> 8;
  const b = value & 0xff;
  const address = decodeGearAddressByte(a);
  if (address === undefined) {
    const info = SPECIAL_COMMANDS[a];
    if (!info) return unknown(16, value, `reserved special command ${hex(a, 2)}`);
    const d: DecodedSpecial = {
      kind: 'special',
      bits: 16,
      value,
      name: info.name,
      sendTwice: info.sendTwice,
      expectAnswer: info.expectAnswer,
      opcode: a,
      data: b,
      ...(a === S.ENABLE_DEVICE_TYPE ? { deviceType: b } : {}),
    };
    return d;
  }
  if ((a & 1) === 0) {
    return { kind: 'dapc', bits: 16, value, name: 'DAPC', sendTwice: false, expectAnswer: false, address, level: b };
  }
  if (b >= 0xe0) {
    const dt = ctx?.enabledDeviceType;
    if (dt === 8) {
      const info = DT8_COMMANDS[b];
      if (!info) return unknown(16, value, `reserved DT8 command ${hex(b, 2)}`, { address, opcode: b, deviceType: 8 });
      return {
        kind: 'dt8',
        bits: 16,
        value,
        name: info.name,
        sendTwice: info.sendTwice,
        expectAnswer: info.expectAnswer,
        address,
        opcode: b,
        deviceType: 8,
      };
    }
    if (dt !== undefined && Number.isInteger(dt) && dt >= 0 && dt <= 255 && b === 0xff) {
      return {
        kind: 'gearCommand',
        bits: 16,
        value,
        name: 'QUERY EXTENDED VERSION NUMBER',
        sendTwice: false,
        expectAnswer: true,
        address,
        opcode: b,
        deviceType: dt,
      };
    }
    return unknown(
      16,
      value,
      dt === undefined
        ? `application extended command ${hex(b, 2)} without ENABLE DEVICE TYPE before it (device type unknown)`
        : `application extended command ${hex(b, 2)} of device type ${describeValue(dt)} (not decoded)`,
      { address, opcode: b, name: 'APPLICATION EXTENDED COMMAND', ...(dt !== undefined && Number.isInteger(dt) ? { deviceType: dt } : {}) },
    );
  }
  const info = GEAR_COMMANDS[b];
  if (!info) return unknown(16, value, `reserved gear command ${hex(b, 2)}`, { address, opcode: b });
  return {
    kind: 'gearCommand',
    bits: 16,
    value,
    name: info.name,
    sendTwice: info.sendTwice,
    expectAnswer: info.expectAnswer,
    address,
    opcode: b,
    ...(info.hasParam ? { param: b & 0x0f } : {}),
  };
}

function decode24Command(value: number): DecodedFrame {
  const a = value >> 16;
  const i = (value >> 8) & 0xff;
  const op = value & 0xff;
  if (a === DS.PREFIX) {
    const info = DEVICE_SPECIAL_COMMANDS[i];
    if (!info) return unknown(24, value, `reserved device special command 0xC1 ${hex(i, 2)}`);
    return {
      kind: 'deviceSpecial',
      bits: 24,
      value,
      name: info.name,
      sendTwice: info.sendTwice,
      expectAnswer: info.expectAnswer,
      prefix: a,
      opcode: i,
      data: op,
    };
  }
  const two = TWO_BYTE_SPECIALS[a];
  if (two) {
    return {
      kind: 'deviceSpecial',
      bits: 24,
      value,
      name: two.name,
      sendTwice: false,
      expectAnswer: two.expectAnswer,
      prefix: a,
      opcode: i,
      data: op,
    };
  }
  const address = decodeDeviceAddressByte(a);
  if (!address) return unknown(24, value, `reserved device address byte ${hex(a, 2)}`);
  const instance = decodeInstanceByte(i);
  if (!instance)
    return unknown(24, value, `instance byte ${hex(i, 2)} (feature addressing or reserved) not decoded`, { address, opcode: op });
  if (instance.kind === 'device') {
    const info = DEVICE_COMMANDS[op];
    if (!info) return unknown(24, value, `reserved device command ${hex(op, 2)}`, { address, instance, opcode: op });
    return {
      kind: 'deviceCommand',
      bits: 24,
      value,
      name: info.name,
      sendTwice: info.sendTwice,
      expectAnswer: info.expectAnswer,
      address,
      instance: { kind: 'device' },
      opcode: op,
    };
  }
  const info = INSTANCE_COMMANDS[op];
  if (!info) return unknown(24, value, `reserved or unsupported instance command ${hex(op, 2)}`, { address, instance, opcode: op });
  const typeOfOp = info.instanceType;
  if (typeOfOp !== undefined && instance.kind === 'type' && instance.instanceType !== typeOfOp) {
    return unknown(24, value, `instance command ${hex(op, 2)} of instance type ${instance.instanceType} not decoded`, {
      address,
      instance,
      opcode: op,
    });
  }
  return {
    kind: 'instanceCommand',
    bits: 24,
    value,
    name: info.name,
    sendTwice: info.sendTwice,
    expectAnswer: info.expectAnswer,
    address,
    instance,
    opcode: op,
    ...(typeOfOp !== undefined ? { instanceType: typeOfOp } : {}),
  };
}

function decodeEvent(value: number, ctx?: DecodeContext): DecodedFrame {
  const b23 = (value >> 23) & 1;
  const b22 = (value >> 22) & 1;
  const b15 = (value >> 15) & 1;
  const hi = (value >> 17) & 0x3f;
  const hi5 = (value >> 17) & 0x1f;
  const mid = (value >> 10) & 0x1f;
  const info = value & 0x3ff;
  let scheme: EventScheme;
  let src: {
    shortAddress?: number;
    deviceGroup?: number;
    instanceType?: number;
    instanceNumber?: number;
    instanceGroup?: number;
  };
  if (b23 === 0 && b15 === 0) {
    scheme = EventScheme.Device;
    src = { shortAddress: hi, instanceType: mid };
  } else if (b23 === 0) {
    scheme = EventScheme.DeviceInstance;
    const t = ctx?.instanceTypeOf?.(hi, mid);
    src = {
      shortAddress: hi,
      instanceNumber: mid,
      ...(t !== undefined && Number.isInteger(t) && t >= 0 && t <= 31 ? { instanceType: t } : {}),
    };
  } else if (b22 === 0 && b15 === 0) {
    scheme = EventScheme.DeviceGroup;
    src = { deviceGroup: hi5, instanceType: mid };
  } else if (b22 === 0) {
    scheme = EventScheme.Instance;
    src = { instanceType: hi5, instanceNumber: mid };
  } else if (b15 === 0) {
    scheme = EventScheme.InstanceGroup;
    src = { instanceGroup: hi5, instanceType: mid };
  } else {
    return unknown(24, value, 'reserved 24-bit frame (bits 23, 22, 15 all set, bit 16 clear)');
  }
  let occupancy: OccupancyInfo | undefined;
  let illuminanceRaw: number | undefined;
  if (src.instanceType === InstanceType.OccupancySensor && info <= 0x0f) {
    occupancy = {
      movement: (info & 1) !== 0,
      occupied: (info & 2) !== 0,
      repeat: (info & 4) !== 0,
      movementSensor: (info & 8) !== 0,
    };
  } else if (src.instanceType === InstanceType.LightSensor) {
    illuminanceRaw = info;
  }
  return {
    kind: 'event',
    bits: 24,
    value,
    name: 'EVENT',
    sendTwice: false,
    expectAnswer: false,
    scheme,
    ...src,
    info,
    ...(occupancy ? { occupancy } : {}),
    ...(illuminanceRaw !== undefined ? { illuminanceRaw } : {}),
  };
}

/** The EventSource of a decoded event (to rebuild it with eventFrame). */
export function eventSourceOf(ev: DecodedEvent): EventSource {
  switch (ev.scheme) {
    case EventScheme.Device:
      return { scheme: ev.scheme, shortAddress: ev.shortAddress ?? -1, instanceType: ev.instanceType ?? -1 };
    case EventScheme.DeviceInstance:
      return { scheme: ev.scheme, shortAddress: ev.shortAddress ?? -1, instanceNumber: ev.instanceNumber ?? -1 };
    case EventScheme.DeviceGroup:
      return { scheme: ev.scheme, deviceGroup: ev.deviceGroup ?? -1, instanceType: ev.instanceType ?? -1 };
    case EventScheme.Instance:
      return { scheme: ev.scheme, instanceType: ev.instanceType ?? -1, instanceNumber: ev.instanceNumber ?? -1 };
    case EventScheme.InstanceGroup:
      return { scheme: ev.scheme, instanceGroup: ev.instanceGroup ?? -1, instanceType: ev.instanceType ?? -1 };
  }
}

/**
 * Rebuilds the forward frame of a decoded frame through the builders (so
 * encodeFrame(decodeFrame(b, v)).value === v for every known frame).
 * @throws RangeError for kind 'unknown'.
 */
export function encodeFrame(d: DecodedFrame): ForwardFrame {
  switch (d.kind) {
    case 'dapc':
      return dapc(d.address, d.level);
    case 'gearCommand':
      if (d.deviceType !== undefined) return applicationExtendedCommand(d.address, d.deviceType, d.opcode);
      return gearCommand(d.address, d.opcode);
    case 'special':
      return specialCommand(d.opcode, d.data);
    case 'dt8':
      return dt8Command(d.address, d.opcode);
    case 'deviceCommand':
      return deviceCommand(d.address, d.opcode);
    case 'instanceCommand':
      return instanceCommand(d.address, d.instance, d.opcode);
    case 'deviceSpecial':
      return d.prefix === DS.PREFIX ? deviceSpecialCommand(d.opcode, d.data) : deviceSpecialTwoByte(d.prefix, d.opcode, d.data);
    case 'event':
      return eventFrame(eventSourceOf(d), d.info);
    case 'unknown':
      throw new RangeError(`cannot encode an unknown frame: ${d.description}`);
  }
}

// ---------------------------------------------------------------------------
// Stateful decoder for bus monitors
// ---------------------------------------------------------------------------

/**
 * Decodes a stream of frames as control gear read them: an ENABLE DEVICE
 * TYPE applies to the next 16-bit command (and to the immediate repeat of a
 * send-twice command). 24-bit frames do not consume it.
 */
export class FrameDecoder {
  private enabledDeviceType: number | undefined;
  private lastTwice: { value: number; deviceType: number } | undefined;

  constructor(private readonly instanceTypeOf?: (shortAddress: number, instanceNumber: number) => number | undefined) {}

  decode(bits: 16 | 24, value: number): DecodedFrame {
    if (bits !== 16) {
      return decodeFrame(bits, value, this.instanceTypeOf ? { instanceTypeOf: this.instanceTypeOf } : undefined);
    }
    let dt = this.enabledDeviceType;
    if (dt === undefined && this.lastTwice && this.lastTwice.value === value) dt = this.lastTwice.deviceType;
    const d = decodeFrame(16, value, dt !== undefined ? { enabledDeviceType: dt } : undefined);
    this.enabledDeviceType = undefined;
    const repeatable = d.sendTwice && dt !== undefined && this.lastTwice?.value !== value;
    this.lastTwice = repeatable && dt !== undefined ? { value, deviceType: dt } : undefined;
    if (d.kind === 'special' && d.opcode === S.ENABLE_DEVICE_TYPE) this.enabledDeviceType = d.data;
    return d;
  }

  /** Forgets a pending ENABLE DEVICE TYPE (e.g. after a bus power loss). */
  reset(): void {
    this.enabledDeviceType = undefined;
    this.lastTwice = undefined;
  }
}

// ---------------------------------------------------------------------------
// Human-readable descriptions
// ---------------------------------------------------------------------------

/** "short 5", "group 3", "broadcast", "broadcast unaddressed". */
export function describeAddress(addr: GearAddress | DeviceAddress): string {
  switch (addr.kind) {
    case 'short':
      return `short ${addr.address}`;
    case 'group':
      return `group ${addr.group}`;
    case 'broadcast':
      return 'broadcast';
    case 'broadcastUnaddressed':
      return 'broadcast unaddressed';
  }
}

function describeInstance(inst: InstanceSelector): string {
  switch (inst.kind) {
    case 'number':
      return `instance ${inst.instance}`;
    case 'group':
      return `instance group ${inst.group}`;
    case 'type':
      return `instance type ${inst.instanceType}`;
    case 'all':
      return 'all instances';
    case 'device':
      return 'device';
  }
}

const INSTANCE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'generic',
  1: 'push button',
  2: 'absolute input',
  3: 'occupancy',
  4: 'light',
};

const SCHEME_NAMES: Readonly<Record<number, string>> = {
  [EventScheme.Instance]: 'instance',
  [EventScheme.Device]: 'device',
  [EventScheme.DeviceInstance]: 'device/instance',
  [EventScheme.DeviceGroup]: 'device group',
  [EventScheme.InstanceGroup]: 'instance group',
};

function describeLevel(level: number): string {
  if (level === 0) return 'level 0 (off)';
  if (level === 255) return 'level 255 (MASK)';
  return `level ${level} (${arcLevelToPercent(level).toFixed(1)} %)`;
}

/** One line for humans, e.g. "DAPC short 5 level 200 (22.9 %)". Never throws. */
export function describeFrame(d: DecodedFrame): string {
  try {
    switch (d.kind) {
      case 'dapc':
        return `DAPC ${describeAddress(d.address)} ${describeLevel(d.level)}`;
      case 'gearCommand':
        return `${d.name}${d.param !== undefined ? ' ' + d.param : ''} ${describeAddress(d.address)}${d.deviceType !== undefined ? ` (device type ${d.deviceType})` : ''}`;
      case 'special':
        if (d.opcode === S.ENABLE_DEVICE_TYPE) return `ENABLE DEVICE TYPE ${d.data}`;
        if (d.opcode === S.INITIALISE) {
          const t =
            d.data === 0
              ? 'all'
              : d.data === 0xff
                ? 'unaddressed'
                : (d.data & 0x81) === 1
                  ? `short ${d.data >> 1}`
                  : `data ${hex(d.data, 2)}`;
          return `INITIALISE ${t}`;
        }
        if (d.opcode === S.PROGRAM_SHORT_ADDRESS || d.opcode === S.VERIFY_SHORT_ADDRESS) {
          const t = d.data === 0xff ? 'MASK (delete)' : (d.data & 0x81) === 1 ? `short ${d.data >> 1}` : `data ${hex(d.data, 2)}`;
          return `${d.name} ${t}`;
        }
        return `${d.name} ${d.data} (${hex(d.data, 2)})`;
      case 'dt8':
        return `${d.name} ${describeAddress(d.address)} (DT8)`;
      case 'deviceCommand':
        return `${d.name} device ${describeAddress(d.address)}`;
      case 'instanceCommand':
        return `${d.name} device ${describeAddress(d.address)} ${describeInstance(d.instance)}`;
      case 'deviceSpecial':
        if (d.prefix === DS.PREFIX) return `${d.name} (device) ${d.data} (${hex(d.data, 2)})`;
        return `${d.name} (device) ${hex(d.opcode, 2)} ${hex(d.data, 2)}`;
      case 'event': {
        const parts = [`EVENT (${SCHEME_NAMES[d.scheme] ?? 'scheme ' + d.scheme} scheme)`];
        if (d.shortAddress !== undefined) parts.push(`device short ${d.shortAddress}`);
        if (d.deviceGroup !== undefined) parts.push(`device group ${d.deviceGroup}`);
        if (d.instanceGroup !== undefined) parts.push(`instance group ${d.instanceGroup}`);
        if (d.instanceNumber !== undefined) parts.push(`instance ${d.instanceNumber}`);
        if (d.instanceType !== undefined) parts.push(`type ${d.instanceType} (${INSTANCE_TYPE_NAMES[d.instanceType] ?? 'other'})`);
        parts.push(`info ${hex(d.info, 3)}`);
        if (d.occupancy) {
          const o = d.occupancy;
          parts.push(
            [
              o.occupied ? 'occupied' : 'vacant',
              o.movement ? 'movement' : 'no movement',
              o.repeat ? 'repeat' : '',
              o.movementSensor ? 'movement sensor' : 'presence sensor',
            ]
              .filter((s) => s !== '')
              .join(', '),
          );
        }
        if (d.illuminanceRaw !== undefined) parts.push(`illuminance ${d.illuminanceRaw}`);
        return parts.join(' ');
      }
      case 'unknown': {
        const v =
          typeof d.value === 'number' && Number.isFinite(d.value) && d.value >= 0 ? hex(d.value, d.bits === 24 ? 6 : 4) : String(d.value);
        return `UNKNOWN ${v}: ${d.description}`;
      }
    }
  } catch {
    return `frame ${String((d as { value?: unknown }).value)}`;
  }
  return `frame ${String((d as { value?: unknown }).value)}`;
}

/** Formats a frame value as hex of its width ("0AC8", "000C0B"). */
export function frameHex(f: { bits: number; value: number }): string {
  return f.value
    .toString(16)
    .toUpperCase()
    .padStart(f.bits === 24 ? 6 : 4, '0');
}
