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
 * Frame layouts (MSB first, right-aligned in `value`):
 * - 16 bits: `[address byte][opcode or level]`; address byte short
 *   `0AAAAAAS`, group `100GGGGS`, broadcast `1111111S`, broadcast
 *   unaddressed `1111110S`; S = 0 DAPC, S = 1 command. First bytes
 *   0xA1..0xC9 (odd) are special commands with data in the second byte.
 * - 24-bit commands (bit 16 = 1): `[address][instance][opcode]`.
 * - 24-bit events (bit 16 = 0): source bits 23..10 by event scheme, 10-bit
 *   event information in bits 9..0 (layout as python-dali general.py).
 */
import {
  DeviceAddress,
  EventScheme,
  ForwardBits,
  ForwardFrame,
  GearAddress,
  InstanceSelector,
  InstanceType,
} from './types';
import {
  DeviceCommand,
  DeviceSpecialCommand,
  Dt8Command,
  GearCommand,
  InstanceCommand,
  LightSensorCommand,
  OccupancySensorCommand,
  SpecialCommand,
} from './opcodes';
import { arcLevelToPercent } from './curve';

// ---------------------------------------------------------------------------
// Command tables (name, send twice, answer)
// ---------------------------------------------------------------------------

/** What the codec knows about one opcode. */
export interface CommandInfo {
  /** Name as in the standard, e.g. "QUERY ACTUAL LEVEL". */
  readonly name: string;
  readonly sendTwice: boolean;
  readonly expectAnswer: boolean;
  /** Commands 0xN0..0xNF that carry a scene or group number in the low nibble. */
  readonly hasParam?: boolean;
}

type Table = ReadonlyArray<CommandInfo | undefined>;

function table(entries: ReadonlyArray<readonly [number, string, 'twice' | 'query' | '', boolean?]>): Table {
  const t: (CommandInfo | undefined)[] = new Array<CommandInfo | undefined>(256).fill(undefined);
  for (const [op, name, flag, hasParam] of entries) {
    const info: CommandInfo = Object.freeze({
      name,
      sendTwice: flag === 'twice',
      expectAnswer: flag === 'query',
      ...(hasParam ? { hasParam: true } : {}),
    });
    const count = hasParam ? 16 : 1;
    for (let i = 0; i < count; i++) t[op + i] = info;
  }
  return Object.freeze(t);
}

const G = GearCommand;
/** Part 102 standard commands (second byte, S = 1), 0x00..0xDF. */
export const GEAR_COMMANDS: Table = table([
  [G.OFF, 'OFF', ''],
  [G.UP, 'UP', ''],
  [G.DOWN, 'DOWN', ''],
  [G.STEP_UP, 'STEP UP', ''],
  [G.STEP_DOWN, 'STEP DOWN', ''],
  [G.RECALL_MAX_LEVEL, 'RECALL MAX LEVEL', ''],
  [G.RECALL_MIN_LEVEL, 'RECALL MIN LEVEL', ''],
  [G.STEP_DOWN_AND_OFF, 'STEP DOWN AND OFF', ''],
  [G.ON_AND_STEP_UP, 'ON AND STEP UP', ''],
  [G.ENABLE_DAPC_SEQUENCE, 'ENABLE DAPC SEQUENCE', ''],
  [G.GO_TO_LAST_ACTIVE_LEVEL, 'GO TO LAST ACTIVE LEVEL', ''],
  [G.GO_TO_SCENE, 'GO TO SCENE', '', true],
  [G.RESET, 'RESET', 'twice'],
  [G.STORE_ACTUAL_LEVEL_IN_DTR0, 'STORE ACTUAL LEVEL IN DTR0', 'twice'],
  [G.SAVE_PERSISTENT_VARIABLES, 'SAVE PERSISTENT VARIABLES', 'twice'],
  [G.SET_OPERATING_MODE, 'SET OPERATING MODE', 'twice'],
  [G.RESET_MEMORY_BANK, 'RESET MEMORY BANK', 'twice'],
  [G.IDENTIFY_DEVICE, 'IDENTIFY DEVICE', 'twice'],
  [G.SET_MAX_LEVEL, 'SET MAX LEVEL', 'twice'],
  [G.SET_MIN_LEVEL, 'SET MIN LEVEL', 'twice'],
  [G.SET_SYSTEM_FAILURE_LEVEL, 'SET SYSTEM FAILURE LEVEL', 'twice'],
  [G.SET_POWER_ON_LEVEL, 'SET POWER ON LEVEL', 'twice'],
  [G.SET_FADE_TIME, 'SET FADE TIME', 'twice'],
  [G.SET_FADE_RATE, 'SET FADE RATE', 'twice'],
  [G.SET_EXTENDED_FADE_TIME, 'SET EXTENDED FADE TIME', 'twice'],
  [G.SET_SCENE, 'SET SCENE', 'twice', true],
  [G.REMOVE_FROM_SCENE, 'REMOVE FROM SCENE', 'twice', true],
  [G.ADD_TO_GROUP, 'ADD TO GROUP', 'twice', true],
  [G.REMOVE_FROM_GROUP, 'REMOVE FROM GROUP', 'twice', true],
  [G.SET_SHORT_ADDRESS, 'SET SHORT ADDRESS', 'twice'],
  [G.ENABLE_WRITE_MEMORY, 'ENABLE WRITE MEMORY', 'twice'],
  [G.QUERY_STATUS, 'QUERY STATUS', 'query'],
  [G.QUERY_CONTROL_GEAR_PRESENT, 'QUERY CONTROL GEAR PRESENT', 'query'],
  [G.QUERY_LAMP_FAILURE, 'QUERY LAMP FAILURE', 'query'],
  [G.QUERY_LAMP_POWER_ON, 'QUERY LAMP POWER ON', 'query'],
  [G.QUERY_LIMIT_ERROR, 'QUERY LIMIT ERROR', 'query'],
  [G.QUERY_RESET_STATE, 'QUERY RESET STATE', 'query'],
  [G.QUERY_MISSING_SHORT_ADDRESS, 'QUERY MISSING SHORT ADDRESS', 'query'],
  [G.QUERY_VERSION_NUMBER, 'QUERY VERSION NUMBER', 'query'],
  [G.QUERY_CONTENT_DTR0, 'QUERY CONTENT DTR0', 'query'],
  [G.QUERY_DEVICE_TYPE, 'QUERY DEVICE TYPE', 'query'],
  [G.QUERY_PHYSICAL_MINIMUM, 'QUERY PHYSICAL MINIMUM', 'query'],
  [G.QUERY_POWER_FAILURE, 'QUERY POWER FAILURE', 'query'],
  [G.QUERY_CONTENT_DTR1, 'QUERY CONTENT DTR1', 'query'],
  [G.QUERY_CONTENT_DTR2, 'QUERY CONTENT DTR2', 'query'],
  [G.QUERY_OPERATING_MODE, 'QUERY OPERATING MODE', 'query'],
  [G.QUERY_LIGHT_SOURCE_TYPE, 'QUERY LIGHT SOURCE TYPE', 'query'],
  [G.QUERY_ACTUAL_LEVEL, 'QUERY ACTUAL LEVEL', 'query'],
  [G.QUERY_MAX_LEVEL, 'QUERY MAX LEVEL', 'query'],
  [G.QUERY_MIN_LEVEL, 'QUERY MIN LEVEL', 'query'],
  [G.QUERY_POWER_ON_LEVEL, 'QUERY POWER ON LEVEL', 'query'],
  [G.QUERY_SYSTEM_FAILURE_LEVEL, 'QUERY SYSTEM FAILURE LEVEL', 'query'],
  [G.QUERY_FADE_TIME_FADE_RATE, 'QUERY FADE TIME/FADE RATE', 'query'],
  [G.QUERY_MANUFACTURER_SPECIFIC_MODE, 'QUERY MANUFACTURER SPECIFIC MODE', 'query'],
  [G.QUERY_NEXT_DEVICE_TYPE, 'QUERY NEXT DEVICE TYPE', 'query'],
  [G.QUERY_EXTENDED_FADE_TIME, 'QUERY EXTENDED FADE TIME', 'query'],
  [G.QUERY_CONTROL_GEAR_FAILURE, 'QUERY CONTROL GEAR FAILURE', 'query'],
  [G.QUERY_SCENE_LEVEL, 'QUERY SCENE LEVEL', 'query', true],
  [G.QUERY_GROUPS_0_7, 'QUERY GROUPS 0-7', 'query'],
  [G.QUERY_GROUPS_8_15, 'QUERY GROUPS 8-15', 'query'],
  [G.QUERY_RANDOM_ADDRESS_H, 'QUERY RANDOM ADDRESS (H)', 'query'],
  [G.QUERY_RANDOM_ADDRESS_M, 'QUERY RANDOM ADDRESS (M)', 'query'],
  [G.QUERY_RANDOM_ADDRESS_L, 'QUERY RANDOM ADDRESS (L)', 'query'],
  [G.READ_MEMORY_LOCATION, 'READ MEMORY LOCATION', 'query'],
]);

const S = SpecialCommand;
/** Part 102 special commands (first byte), data in the second byte. */
export const SPECIAL_COMMANDS: Table = table([
  [S.TERMINATE, 'TERMINATE', ''],
  [S.DTR0, 'DTR0', ''],
  [S.INITIALISE, 'INITIALISE', 'twice'],
  [S.RANDOMISE, 'RANDOMISE', 'twice'],
  [S.COMPARE, 'COMPARE', 'query'],
  [S.WITHDRAW, 'WITHDRAW', ''],
  [S.PING, 'PING', ''],
  [S.SEARCHADDRH, 'SEARCHADDRH', ''],
  [S.SEARCHADDRM, 'SEARCHADDRM', ''],
  [S.SEARCHADDRL, 'SEARCHADDRL', ''],
  [S.PROGRAM_SHORT_ADDRESS, 'PROGRAM SHORT ADDRESS', ''],
  [S.VERIFY_SHORT_ADDRESS, 'VERIFY SHORT ADDRESS', 'query'],
  [S.QUERY_SHORT_ADDRESS, 'QUERY SHORT ADDRESS', 'query'],
  [S.ENABLE_DEVICE_TYPE, 'ENABLE DEVICE TYPE', ''],
  [S.DTR1, 'DTR1', ''],
  [S.DTR2, 'DTR2', ''],
  [S.WRITE_MEMORY_LOCATION, 'WRITE MEMORY LOCATION', 'query'],
  [S.WRITE_MEMORY_LOCATION_NO_REPLY, 'WRITE MEMORY LOCATION - NO REPLY', ''],
]);

const D8 = Dt8Command;
/** Part 209 (DT8) application extended commands 0xE0..0xFF. */
export const DT8_COMMANDS: Table = table([
  [D8.SET_TEMPORARY_X_COORDINATE, 'SET TEMPORARY X-COORDINATE', ''],
  [D8.SET_TEMPORARY_Y_COORDINATE, 'SET TEMPORARY Y-COORDINATE', ''],
  [D8.ACTIVATE, 'ACTIVATE', ''],
  [D8.X_COORDINATE_STEP_UP, 'X-COORDINATE STEP UP', ''],
  [D8.X_COORDINATE_STEP_DOWN, 'X-COORDINATE STEP DOWN', ''],
  [D8.Y_COORDINATE_STEP_UP, 'Y-COORDINATE STEP UP', ''],
  [D8.Y_COORDINATE_STEP_DOWN, 'Y-COORDINATE STEP DOWN', ''],
  [D8.SET_TEMPORARY_COLOUR_TEMPERATURE, 'SET TEMPORARY COLOUR TEMPERATURE', ''],
  [D8.COLOUR_TEMPERATURE_STEP_COOLER, 'COLOUR TEMPERATURE STEP COOLER', ''],
  [D8.COLOUR_TEMPERATURE_STEP_WARMER, 'COLOUR TEMPERATURE STEP WARMER', ''],
  [D8.SET_TEMPORARY_PRIMARY_N_DIMLEVEL, 'SET TEMPORARY PRIMARY N DIMLEVEL', ''],
  [D8.SET_TEMPORARY_RGB_DIMLEVEL, 'SET TEMPORARY RGB DIMLEVEL', ''],
  [D8.SET_TEMPORARY_WAF_DIMLEVEL, 'SET TEMPORARY WAF DIMLEVEL', ''],
  [D8.SET_TEMPORARY_RGBWAF_CONTROL, 'SET TEMPORARY RGBWAF CONTROL', ''],
  [D8.COPY_REPORT_TO_TEMPORARY, 'COPY REPORT TO TEMPORARY', ''],
  [D8.STORE_TY_PRIMARY_N, 'STORE TY PRIMARY N', 'twice'],
  [D8.STORE_XY_COORDINATE_PRIMARY_N, 'STORE XY-COORDINATE PRIMARY N', 'twice'],
  [D8.STORE_COLOUR_TEMPERATURE_LIMIT, 'STORE COLOUR TEMPERATURE LIMIT', 'twice'],
  [D8.STORE_GEAR_FEATURES_STATUS, 'STORE GEAR FEATURES/STATUS', 'twice'],
  [D8.ASSIGN_COLOUR_TO_LINKED_CHANNEL, 'ASSIGN COLOUR TO LINKED CHANNEL', 'twice'],
  [D8.START_AUTO_CALIBRATION, 'START AUTO CALIBRATION', ''],
  [D8.QUERY_GEAR_FEATURES_STATUS, 'QUERY GEAR FEATURES/STATUS', 'query'],
  [D8.QUERY_COLOUR_STATUS, 'QUERY COLOUR STATUS', 'query'],
  [D8.QUERY_COLOUR_TYPE_FEATURES, 'QUERY COLOUR TYPE FEATURES', 'query'],
  [D8.QUERY_COLOUR_VALUE, 'QUERY COLOUR VALUE', 'query'],
  [D8.QUERY_RGBWAF_CONTROL, 'QUERY RGBWAF CONTROL', 'query'],
  [D8.QUERY_ASSIGNED_COLOUR, 'QUERY ASSIGNED COLOUR', 'query'],
  [D8.QUERY_EXTENDED_VERSION_NUMBER, 'QUERY EXTENDED VERSION NUMBER', 'query'],
]);

const DC = DeviceCommand;
/**
 * Part 103 device commands (instance byte 0xFE). IDENTIFY DEVICE and RESET
 * POWER CYCLE SEEN are send-twice as in python-dali (opcodes.ts comments do
 * not mark them).
 */
export const DEVICE_COMMANDS: Table = table([
  [DC.IDENTIFY_DEVICE, 'IDENTIFY DEVICE', 'twice'],
  [DC.RESET_POWER_CYCLE_SEEN, 'RESET POWER CYCLE SEEN', 'twice'],
  [DC.RESET, 'RESET', 'twice'],
  [DC.RESET_MEMORY_BANK, 'RESET MEMORY BANK', 'twice'],
  [DC.SET_SHORT_ADDRESS, 'SET SHORT ADDRESS', 'twice'],
  [DC.ENABLE_WRITE_MEMORY, 'ENABLE WRITE MEMORY', 'twice'],
  [DC.ENABLE_APPLICATION_CONTROLLER, 'ENABLE APPLICATION CONTROLLER', 'twice'],
  [DC.DISABLE_APPLICATION_CONTROLLER, 'DISABLE APPLICATION CONTROLLER', 'twice'],
  [DC.SET_OPERATING_MODE, 'SET OPERATING MODE', 'twice'],
  [DC.ADD_TO_DEVICE_GROUPS_0_15, 'ADD TO DEVICE GROUPS 0-15', 'twice'],
  [DC.ADD_TO_DEVICE_GROUPS_16_31, 'ADD TO DEVICE GROUPS 16-31', 'twice'],
  [DC.REMOVE_FROM_DEVICE_GROUPS_0_15, 'REMOVE FROM DEVICE GROUPS 0-15', 'twice'],
  [DC.REMOVE_FROM_DEVICE_GROUPS_16_31, 'REMOVE FROM DEVICE GROUPS 16-31', 'twice'],
  [DC.START_QUIESCENT_MODE, 'START QUIESCENT MODE', 'twice'],
  [DC.STOP_QUIESCENT_MODE, 'STOP QUIESCENT MODE', 'twice'],
  [DC.ENABLE_POWER_CYCLE_NOTIFICATION, 'ENABLE POWER CYCLE NOTIFICATION', 'twice'],
  [DC.DISABLE_POWER_CYCLE_NOTIFICATION, 'DISABLE POWER CYCLE NOTIFICATION', 'twice'],
  [DC.SAVE_PERSISTENT_VARIABLES, 'SAVE PERSISTENT VARIABLES', 'twice'],
  [DC.QUERY_DEVICE_STATUS, 'QUERY DEVICE STATUS', 'query'],
  [DC.QUERY_APPLICATION_CONTROLLER_ERROR, 'QUERY APPLICATION CONTROLLER ERROR', 'query'],
  [DC.QUERY_INPUT_DEVICE_ERROR, 'QUERY INPUT DEVICE ERROR', 'query'],
  [DC.QUERY_MISSING_SHORT_ADDRESS, 'QUERY MISSING SHORT ADDRESS', 'query'],
  [DC.QUERY_VERSION_NUMBER, 'QUERY VERSION NUMBER', 'query'],
  [DC.QUERY_NUMBER_OF_INSTANCES, 'QUERY NUMBER OF INSTANCES', 'query'],
  [DC.QUERY_CONTENT_DTR0, 'QUERY CONTENT DTR0', 'query'],
  [DC.QUERY_CONTENT_DTR1, 'QUERY CONTENT DTR1', 'query'],
  [DC.QUERY_CONTENT_DTR2, 'QUERY CONTENT DTR2', 'query'],
  [DC.QUERY_RANDOM_ADDRESS_H, 'QUERY RANDOM ADDRESS (H)', 'query'],
  [DC.QUERY_RANDOM_ADDRESS_M, 'QUERY RANDOM ADDRESS (M)', 'query'],
  [DC.QUERY_RANDOM_ADDRESS_L, 'QUERY RANDOM ADDRESS (L)', 'query'],
  [DC.READ_MEMORY_LOCATION, 'READ MEMORY LOCATION', 'query'],
  [DC.QUERY_APPLICATION_CONTROL_ENABLED, 'QUERY APPLICATION CONTROL ENABLED', 'query'],
  [DC.QUERY_OPERATING_MODE, 'QUERY OPERATING MODE', 'query'],
  [DC.QUERY_MANUFACTURER_SPECIFIC_MODE, 'QUERY MANUFACTURER SPECIFIC MODE', 'query'],
  [DC.QUERY_QUIESCENT_MODE, 'QUERY QUIESCENT MODE', 'query'],
  [DC.QUERY_DEVICE_GROUPS_0_7, 'QUERY DEVICE GROUPS 0-7', 'query'],
  [DC.QUERY_DEVICE_GROUPS_8_15, 'QUERY DEVICE GROUPS 8-15', 'query'],
  [DC.QUERY_DEVICE_GROUPS_16_23, 'QUERY DEVICE GROUPS 16-23', 'query'],
  [DC.QUERY_DEVICE_GROUPS_24_31, 'QUERY DEVICE GROUPS 24-31', 'query'],
  [DC.QUERY_POWER_CYCLE_NOTIFICATION, 'QUERY POWER CYCLE NOTIFICATION', 'query'],
  [DC.QUERY_DEVICE_CAPABILITIES, 'QUERY DEVICE CAPABILITIES', 'query'],
  [DC.QUERY_EXTENDED_VERSION_NUMBER, 'QUERY EXTENDED VERSION NUMBER', 'query'],
  [DC.QUERY_RESET_STATE, 'QUERY RESET STATE', 'query'],
]);

const IC = InstanceCommand;
const OC = OccupancySensorCommand;
const LC = LightSensorCommand;
/**
 * Part 103 instance commands plus the part 303 (0x20..0x2F, occupancy) and
 * part 304 (0x30..0x3F, light) instance-type specific commands.
 */
export const INSTANCE_COMMANDS: Table = table([
  [OC.CATCH_MOVEMENT, 'CATCH MOVEMENT', ''],
  [OC.SET_HOLD_TIMER, 'SET HOLD TIMER', 'twice'],
  [OC.SET_REPORT_TIMER, 'SET REPORT TIMER', 'twice'],
  [OC.SET_DEADTIME_TIMER, 'SET DEADTIME TIMER', 'twice'],
  [OC.CANCEL_HOLD_TIMER, 'CANCEL HOLD TIMER', ''],
  [OC.QUERY_DEADTIME_TIMER, 'QUERY DEADTIME TIMER', 'query'],
  [OC.QUERY_HOLD_TIMER, 'QUERY HOLD TIMER', 'query'],
  [OC.QUERY_REPORT_TIMER, 'QUERY REPORT TIMER', 'query'],
  [OC.QUERY_CATCHING, 'QUERY CATCHING', 'query'],
  [LC.SET_REPORT_TIMER, 'SET REPORT TIMER', 'twice'],
  [LC.SET_HYSTERESIS, 'SET HYSTERESIS', 'twice'],
  [LC.SET_DEADTIME_TIMER, 'SET DEADTIME TIMER', 'twice'],
  [LC.SET_HYSTERESIS_MIN, 'SET HYSTERESIS MIN', 'twice'],
  [LC.QUERY_HYSTERESIS_MIN, 'QUERY HYSTERESIS MIN', 'query'],
  [LC.QUERY_DEADTIME_TIMER, 'QUERY DEADTIME TIMER', 'query'],
  [LC.QUERY_REPORT_TIMER, 'QUERY REPORT TIMER', 'query'],
  [LC.QUERY_HYSTERESIS, 'QUERY HYSTERESIS', 'query'],
  [IC.SET_EVENT_PRIORITY, 'SET EVENT PRIORITY', 'twice'],
  [IC.ENABLE_INSTANCE, 'ENABLE INSTANCE', 'twice'],
  [IC.DISABLE_INSTANCE, 'DISABLE INSTANCE', 'twice'],
  [IC.SET_PRIMARY_INSTANCE_GROUP, 'SET PRIMARY INSTANCE GROUP', 'twice'],
  [IC.SET_INSTANCE_GROUP_1, 'SET INSTANCE GROUP 1', 'twice'],
  [IC.SET_INSTANCE_GROUP_2, 'SET INSTANCE GROUP 2', 'twice'],
  [IC.SET_EVENT_SCHEME, 'SET EVENT SCHEME', 'twice'],
  [IC.SET_EVENT_FILTER, 'SET EVENT FILTER', 'twice'],
  [IC.QUERY_INSTANCE_TYPE, 'QUERY INSTANCE TYPE', 'query'],
  [IC.QUERY_RESOLUTION, 'QUERY RESOLUTION', 'query'],
  [IC.QUERY_INSTANCE_ERROR, 'QUERY INSTANCE ERROR', 'query'],
  [IC.QUERY_INSTANCE_STATUS, 'QUERY INSTANCE STATUS', 'query'],
  [IC.QUERY_EVENT_PRIORITY, 'QUERY EVENT PRIORITY', 'query'],
  [IC.QUERY_INSTANCE_ENABLED, 'QUERY INSTANCE ENABLED', 'query'],
  [IC.QUERY_PRIMARY_INSTANCE_GROUP, 'QUERY PRIMARY INSTANCE GROUP', 'query'],
  [IC.QUERY_INSTANCE_GROUP_1, 'QUERY INSTANCE GROUP 1', 'query'],
  [IC.QUERY_INSTANCE_GROUP_2, 'QUERY INSTANCE GROUP 2', 'query'],
  [IC.QUERY_EVENT_SCHEME, 'QUERY EVENT SCHEME', 'query'],
  [IC.QUERY_INPUT_VALUE, 'QUERY INPUT VALUE', 'query'],
  [IC.QUERY_INPUT_VALUE_LATCH, 'QUERY INPUT VALUE LATCH', 'query'],
  [IC.QUERY_FEATURE_TYPE, 'QUERY FEATURE TYPE', 'query'],
  [IC.QUERY_NEXT_FEATURE_TYPE, 'QUERY NEXT FEATURE TYPE', 'query'],
  [IC.QUERY_EVENT_FILTER_0_7, 'QUERY EVENT FILTER 0-7', 'query'],
  [IC.QUERY_EVENT_FILTER_8_15, 'QUERY EVENT FILTER 8-15', 'query'],
  [IC.QUERY_EVENT_FILTER_16_23, 'QUERY EVENT FILTER 16-23', 'query'],
]);

/** Instance type whose part defines an instance-type specific opcode (0x00..0x5F), if known. */
function instanceTypeOfOpcode(opcode: number): number | undefined {
  if (opcode >= 0x20 && opcode <= 0x2f) return InstanceType.OccupancySensor;
  if (opcode >= 0x30 && opcode <= 0x3f) return InstanceType.LightSensor;
  return undefined;
}

const DS = DeviceSpecialCommand;
/** Part 103 special commands with first byte 0xC1, keyed by the second byte. */
export const DEVICE_SPECIAL_COMMANDS: Table = table([
  [DS.TERMINATE, 'TERMINATE', ''],
  [DS.INITIALISE, 'INITIALISE', 'twice'],
  [DS.RANDOMISE, 'RANDOMISE', 'twice'],
  [DS.COMPARE, 'COMPARE', 'query'],
  [DS.WITHDRAW, 'WITHDRAW', ''],
  [DS.SEARCHADDRH, 'SEARCHADDRH', ''],
  [DS.SEARCHADDRM, 'SEARCHADDRM', ''],
  [DS.SEARCHADDRL, 'SEARCHADDRL', ''],
  [DS.PROGRAM_SHORT_ADDRESS, 'PROGRAM SHORT ADDRESS', ''],
  [DS.VERIFY_SHORT_ADDRESS, 'VERIFY SHORT ADDRESS', 'query'],
  [DS.QUERY_SHORT_ADDRESS, 'QUERY SHORT ADDRESS', 'query'],
  [DS.WRITE_MEMORY_LOCATION, 'WRITE MEMORY LOCATION', 'query'],
  [DS.WRITE_MEMORY_LOCATION_NO_REPLY, 'WRITE MEMORY LOCATION - NO REPLY', ''],
  [DS.DTR0, 'DTR0', ''],
  [DS.DTR1, 'DTR1', ''],
  [DS.DTR2, 'DTR2', ''],
  [DS.SEND_TESTFRAME, 'SEND TESTFRAME', ''],
]);

/** Part 103 special commands with two data bytes: first byte 0xC5/0xC7/0xC9. */
export const DeviceSpecialTwoByte = {
  /** Second byte = memory offset, third = value; answers. */
  DIRECT_WRITE_MEMORY: 0xc5,
  /** Second byte = DTR1, third = DTR0. */
  DTR1_DTR0: 0xc7,
  /** Second byte = DTR2, third = DTR1. */
  DTR2_DTR1: 0xc9,
} as const;

const TWO_BYTE_SPECIALS: Readonly<Record<number, CommandInfo>> = Object.freeze({
  0xc5: { name: 'DIRECT WRITE MEMORY', sendTwice: false, expectAnswer: true },
  0xc7: { name: 'DTR1:DTR0', sendTwice: false, expectAnswer: false },
  0xc9: { name: 'DTR2:DTR1', sendTwice: false, expectAnswer: false },
});

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
/** WRITE MEMORY LOCATION (answers the written value). */
export const writeMemoryLocation = (v: number): ForwardFrame => specialCommand(S.WRITE_MEMORY_LOCATION, v);
/** WRITE MEMORY LOCATION - NO REPLY. */
export const writeMemoryLocationNoReply = (v: number): ForwardFrame => specialCommand(S.WRITE_MEMORY_LOCATION_NO_REPLY, v);

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
  return [
    searchAddr('h', (address24 >> 16) & 0xff),
    searchAddr('m', (address24 >> 8) & 0xff),
    searchAddr('l', address24 & 0xff),
  ];
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
  const typeOfOp = instanceTypeOfOpcode(opcode);
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
  const info = TWO_BYTE_SPECIALS[prefix];
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
/** Device DTR2 and DTR1 in one frame (0xC9 dtr2 dtr1). */
export const deviceDtr2Dtr1 = (dtr2v: number, dtr1v: number): ForwardFrame => deviceSpecialTwoByte(0xc9, dtr2v, dtr1v);

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
      v = (checkInt('short address', source.shortAddress, 0, 63) << 17) | (1 << 15) | (checkInt('instance number', source.instanceNumber, 0, 31) << 10);
      break;
    case EventScheme.DeviceGroup:
      v = (1 << 23) | (checkInt('device group', source.deviceGroup, 0, 31) << 17) | (checkInt('instance type', source.instanceType, 0, 31) << 10);
      break;
    case EventScheme.Instance:
      v = (1 << 23) | (checkInt('instance type', source.instanceType, 0, 31) << 17) | (1 << 15) | (checkInt('instance number', source.instanceNumber, 0, 31) << 10);
      break;
    case EventScheme.InstanceGroup:
      v = (1 << 23) | (1 << 22) | (checkInt('instance group', source.instanceGroup, 0, 31) << 17) | (checkInt('instance type', source.instanceType, 0, 31) << 10);
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

export type FrameKind =
  | 'dapc'
  | 'gearCommand'
  | 'special'
  | 'dt8'
  | 'deviceCommand'
  | 'instanceCommand'
  | 'deviceSpecial'
  | 'event'
  | 'unknown';

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
      return { kind: 'dt8', bits: 16, value, name: info.name, sendTwice: info.sendTwice, expectAnswer: info.expectAnswer, address, opcode: b, deviceType: 8 };
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
    return { kind: 'deviceSpecial', bits: 24, value, name: info.name, sendTwice: info.sendTwice, expectAnswer: info.expectAnswer, prefix: a, opcode: i, data: op };
  }
  const two = TWO_BYTE_SPECIALS[a];
  if (two) {
    return { kind: 'deviceSpecial', bits: 24, value, name: two.name, sendTwice: false, expectAnswer: two.expectAnswer, prefix: a, opcode: i, data: op };
  }
  const address = decodeDeviceAddressByte(a);
  if (!address) return unknown(24, value, `reserved device address byte ${hex(a, 2)}`);
  const instance = decodeInstanceByte(i);
  if (!instance) return unknown(24, value, `instance byte ${hex(i, 2)} (feature addressing or reserved) not decoded`, { address, opcode: op });
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
  const typeOfOp = instanceTypeOfOpcode(op);
  if (typeOfOp !== undefined && instance.kind === 'type' && instance.instanceType !== typeOfOp) {
    return unknown(24, value, `instance command ${hex(op, 2)} of instance type ${instance.instanceType} not decoded`, { address, instance, opcode: op });
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
    src = { shortAddress: hi, instanceNumber: mid, ...(t !== undefined && Number.isInteger(t) && t >= 0 && t <= 31 ? { instanceType: t } : {}) };
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
          const t = d.data === 0 ? 'all' : d.data === 0xff ? 'unaddressed' : (d.data & 0x81) === 1 ? `short ${d.data >> 1}` : `data ${hex(d.data, 2)}`;
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
            [o.occupied ? 'occupied' : 'vacant', o.movement ? 'movement' : 'no movement', o.repeat ? 'repeat' : '', o.movementSensor ? 'movement sensor' : 'presence sensor']
              .filter((s) => s !== '')
              .join(', '),
          );
        }
        if (d.illuminanceRaw !== undefined) parts.push(`illuminance ${d.illuminanceRaw}`);
        return parts.join(' ');
      }
      case 'unknown': {
        const v = typeof d.value === 'number' && Number.isFinite(d.value) && d.value >= 0 ? hex(d.value, d.bits === 24 ? 6 : 4) : String(d.value);
        return `UNKNOWN ${v}: ${d.description}`;
      }
    }
  } catch {
    return `frame ${String((d as { value?: unknown }).value)}`;
  }
  return `frame ${String((d as { value?: unknown }).value)}`;
}

/** Convenience: decode and describe in one go. */
export function describeRawFrame(bits: 16 | 24, value: number, ctx?: DecodeContext): string {
  return describeFrame(decodeFrame(bits, value, ctx));
}

/** Formats a frame value as hex of its width ("0AC8", "000C0B"). */
export function frameHex(f: { bits: number; value: number }): string {
  return f.value.toString(16).toUpperCase().padStart(f.bits === 24 ? 6 : 4, '0');
}
