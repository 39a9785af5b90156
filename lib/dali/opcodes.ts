/**
 * The opcode tables of IEC 62386, named as in the standard: the one list of
 * every command this package knows, with what the protocol says about it
 * (send twice, answers, scene/group number in the low nibble, instance type).
 * Sources: the command tables of IEC 62386-102 (control gear), -103 (control
 * devices), -209 (colour control, device type 8), -303 (occupancy sensor) and
 * -304 (light sensor); docs/dali.md "Commands" explains the columns.
 *
 * Everything else derives from these rows: the named constants below
 * (GearCommand.QUERY_ACTUAL_LEVEL ...), the codec's names and flags
 * (lib/dali/codec.ts), the simulator's send-twice and answer handling
 * (lib/dali/sim) and the frame tool's command names (bin/dali-frame.ts).
 */

/** What the protocol says about one command. */
export interface CommandInfo {
  /** Name as in the standard, e.g. "QUERY ACTUAL LEVEL". */
  readonly name: string;
  /** Configuration command: acts only when received twice within 100 ms. */
  readonly sendTwice: boolean;
  /** Query: the addressed unit answers with a backward frame (NO = no frame). */
  readonly expectAnswer: boolean;
  /** Commands 0xN0..0xNF that carry a scene or group number in the low nibble. */
  readonly hasParam?: boolean;
  /** Part 303/304 instance commands: the instance type whose part defines the opcode. */
  readonly instanceType?: number;
}

/** One command of a table: its constant name, opcode and protocol facts. */
export interface OpcodeEntry extends CommandInfo {
  /** Constant name, e.g. "QUERY_ACTUAL_LEVEL". */
  readonly key: string;
  /** Opcode (for a +n family: the base, n = 0). */
  readonly opcode: number;
}

/** '' = plain command, 'twice' = send twice, 'query' = answers. */
type Kind = '' | 'twice' | 'query';
/** [constant name, opcode, kind, standard name when it is not the constant name with spaces, 'n' for a +n family]. */
type Row = readonly [key: string, opcode: number, kind: Kind, name?: string, param?: 'n'];

/** A command table: the constants by name, the entries in order, and the entry of each of the 256 opcodes. */
export interface CommandTable<R extends readonly Row[]> {
  readonly codes: { readonly [E in R[number] as E[0]]: E[1] };
  readonly entries: readonly OpcodeEntry[];
  /** Index = opcode; a +n family fills its 16 opcodes with the same entry. */
  readonly byOpcode: ReadonlyArray<CommandInfo | undefined>;
}

function commandTable<const R extends readonly Row[]>(rows: R, extra: { instanceType?: number } = {}): CommandTable<R> {
  const codes: Record<string, number> = {};
  const entries: OpcodeEntry[] = [];
  const byOpcode = new Array<CommandInfo | undefined>(256).fill(undefined);
  for (const [key, opcode, kind, name, param] of rows) {
    const entry: OpcodeEntry = Object.freeze({
      key,
      opcode,
      name: name ?? key.replace(/_/g, ' '),
      sendTwice: kind === 'twice',
      expectAnswer: kind === 'query',
      ...(param === 'n' ? { hasParam: true } : {}),
      ...(extra.instanceType !== undefined ? { instanceType: extra.instanceType } : {}),
    });
    codes[key] = opcode;
    entries.push(entry);
    for (let i = 0; i < (param === 'n' ? 16 : 1); i++) byOpcode[opcode + i] = entry;
  }
  return {
    codes: Object.freeze(codes) as CommandTable<R>['codes'],
    entries: Object.freeze(entries),
    byOpcode: Object.freeze(byOpcode),
  };
}

/** Part 102 commands to control gear: second byte with the address byte's S bit = 1 (0x00..0xDF). */
export const GEAR_TABLE = commandTable([
  ['OFF', 0x00, ''],
  ['UP', 0x01, ''],
  ['DOWN', 0x02, ''],
  ['STEP_UP', 0x03, ''],
  ['STEP_DOWN', 0x04, ''],
  ['RECALL_MAX_LEVEL', 0x05, ''],
  ['RECALL_MIN_LEVEL', 0x06, ''],
  ['STEP_DOWN_AND_OFF', 0x07, ''],
  ['ON_AND_STEP_UP', 0x08, ''],
  ['ENABLE_DAPC_SEQUENCE', 0x09, ''],
  ['GO_TO_LAST_ACTIVE_LEVEL', 0x0a, ''],
  ['GO_TO_SCENE', 0x10, '', undefined, 'n'],
  ['RESET', 0x20, 'twice'],
  ['STORE_ACTUAL_LEVEL_IN_DTR0', 0x21, 'twice'],
  ['SAVE_PERSISTENT_VARIABLES', 0x22, 'twice'],
  ['SET_OPERATING_MODE', 0x23, 'twice'],
  ['RESET_MEMORY_BANK', 0x24, 'twice'],
  ['IDENTIFY_DEVICE', 0x25, 'twice'],
  ['SET_MAX_LEVEL', 0x2a, 'twice'],
  ['SET_MIN_LEVEL', 0x2b, 'twice'],
  ['SET_SYSTEM_FAILURE_LEVEL', 0x2c, 'twice'],
  ['SET_POWER_ON_LEVEL', 0x2d, 'twice'],
  ['SET_FADE_TIME', 0x2e, 'twice'],
  ['SET_FADE_RATE', 0x2f, 'twice'],
  ['SET_EXTENDED_FADE_TIME', 0x30, 'twice'],
  ['SET_SCENE', 0x40, 'twice', undefined, 'n'],
  ['REMOVE_FROM_SCENE', 0x50, 'twice', undefined, 'n'],
  ['ADD_TO_GROUP', 0x60, 'twice', undefined, 'n'],
  ['REMOVE_FROM_GROUP', 0x70, 'twice', undefined, 'n'],
  ['SET_SHORT_ADDRESS', 0x80, 'twice'],
  ['ENABLE_WRITE_MEMORY', 0x81, 'twice'],
  ['QUERY_STATUS', 0x90, 'query'],
  ['QUERY_CONTROL_GEAR_PRESENT', 0x91, 'query'],
  ['QUERY_LAMP_FAILURE', 0x92, 'query'],
  ['QUERY_LAMP_POWER_ON', 0x93, 'query'],
  ['QUERY_LIMIT_ERROR', 0x94, 'query'],
  ['QUERY_RESET_STATE', 0x95, 'query'],
  ['QUERY_MISSING_SHORT_ADDRESS', 0x96, 'query'],
  ['QUERY_VERSION_NUMBER', 0x97, 'query'],
  ['QUERY_CONTENT_DTR0', 0x98, 'query'],
  ['QUERY_DEVICE_TYPE', 0x99, 'query'],
  ['QUERY_PHYSICAL_MINIMUM', 0x9a, 'query'],
  ['QUERY_POWER_FAILURE', 0x9b, 'query'],
  ['QUERY_CONTENT_DTR1', 0x9c, 'query'],
  ['QUERY_CONTENT_DTR2', 0x9d, 'query'],
  ['QUERY_OPERATING_MODE', 0x9e, 'query'],
  ['QUERY_LIGHT_SOURCE_TYPE', 0x9f, 'query'],
  ['QUERY_ACTUAL_LEVEL', 0xa0, 'query'],
  ['QUERY_MAX_LEVEL', 0xa1, 'query'],
  ['QUERY_MIN_LEVEL', 0xa2, 'query'],
  ['QUERY_POWER_ON_LEVEL', 0xa3, 'query'],
  ['QUERY_SYSTEM_FAILURE_LEVEL', 0xa4, 'query'],
  ['QUERY_FADE_TIME_FADE_RATE', 0xa5, 'query', 'QUERY FADE TIME/FADE RATE'],
  ['QUERY_MANUFACTURER_SPECIFIC_MODE', 0xa6, 'query'],
  ['QUERY_NEXT_DEVICE_TYPE', 0xa7, 'query'],
  ['QUERY_EXTENDED_FADE_TIME', 0xa8, 'query'],
  ['QUERY_CONTROL_GEAR_FAILURE', 0xaa, 'query'],
  ['QUERY_SCENE_LEVEL', 0xb0, 'query', undefined, 'n'],
  ['QUERY_GROUPS_0_7', 0xc0, 'query', 'QUERY GROUPS 0-7'],
  ['QUERY_GROUPS_8_15', 0xc1, 'query', 'QUERY GROUPS 8-15'],
  ['QUERY_RANDOM_ADDRESS_H', 0xc2, 'query', 'QUERY RANDOM ADDRESS (H)'],
  ['QUERY_RANDOM_ADDRESS_M', 0xc3, 'query', 'QUERY RANDOM ADDRESS (M)'],
  ['QUERY_RANDOM_ADDRESS_L', 0xc4, 'query', 'QUERY RANDOM ADDRESS (L)'],
  ['READ_MEMORY_LOCATION', 0xc5, 'query'],
]);
/** Part 102 gear commands by name; the +n families (GO_TO_SCENE, SET_SCENE, ADD_TO_GROUP ...) are the base opcode. */
export const GearCommand = GEAR_TABLE.codes;

/**
 * Part 102 special commands: the first byte is the opcode, the second the
 * data. Addressed to all gear regardless of short address.
 */
export const SPECIAL_TABLE = commandTable([
  ['TERMINATE', 0xa1, ''],
  ['DTR0', 0xa3, ''],
  ['INITIALISE', 0xa5, 'twice'],
  ['RANDOMISE', 0xa7, 'twice'],
  ['COMPARE', 0xa9, 'query'],
  ['WITHDRAW', 0xab, ''],
  ['PING', 0xad, ''],
  ['SEARCHADDRH', 0xb1, ''],
  ['SEARCHADDRM', 0xb3, ''],
  ['SEARCHADDRL', 0xb5, ''],
  ['PROGRAM_SHORT_ADDRESS', 0xb7, ''],
  ['VERIFY_SHORT_ADDRESS', 0xb9, 'query'],
  ['QUERY_SHORT_ADDRESS', 0xbb, 'query'],
  ['ENABLE_DEVICE_TYPE', 0xc1, ''],
  ['DTR1', 0xc3, ''],
  ['DTR2', 0xc5, ''],
  ['WRITE_MEMORY_LOCATION', 0xc7, 'query'],
  ['WRITE_MEMORY_LOCATION_NO_REPLY', 0xc9, '', 'WRITE MEMORY LOCATION - NO REPLY'],
]);
export const SpecialCommand = SPECIAL_TABLE.codes;

/**
 * Part 209 (device type 8, colour control) application extended commands.
 * Precede each with ENABLE DEVICE TYPE 8. STORE COLOUR TEMPERATURE LIMIT:
 * DTR2 selects which limit (Dt8TcLimit); STORE GEAR FEATURES/STATUS: DTR0
 * bit 0 = automatic activation; QUERY COLOUR VALUE: DTR0 selects the value
 * (Dt8ColourValue), the answer is the MSB and the LSB is left in DTR0.
 */
export const DT8_TABLE = commandTable([
  ['SET_TEMPORARY_X_COORDINATE', 0xe0, '', 'SET TEMPORARY X-COORDINATE'],
  ['SET_TEMPORARY_Y_COORDINATE', 0xe1, '', 'SET TEMPORARY Y-COORDINATE'],
  ['ACTIVATE', 0xe2, ''],
  ['X_COORDINATE_STEP_UP', 0xe3, '', 'X-COORDINATE STEP UP'],
  ['X_COORDINATE_STEP_DOWN', 0xe4, '', 'X-COORDINATE STEP DOWN'],
  ['Y_COORDINATE_STEP_UP', 0xe5, '', 'Y-COORDINATE STEP UP'],
  ['Y_COORDINATE_STEP_DOWN', 0xe6, '', 'Y-COORDINATE STEP DOWN'],
  ['SET_TEMPORARY_COLOUR_TEMPERATURE', 0xe7, ''],
  ['COLOUR_TEMPERATURE_STEP_COOLER', 0xe8, ''],
  ['COLOUR_TEMPERATURE_STEP_WARMER', 0xe9, ''],
  ['SET_TEMPORARY_PRIMARY_N_DIMLEVEL', 0xea, ''],
  ['SET_TEMPORARY_RGB_DIMLEVEL', 0xeb, ''],
  ['SET_TEMPORARY_WAF_DIMLEVEL', 0xec, ''],
  ['SET_TEMPORARY_RGBWAF_CONTROL', 0xed, ''],
  ['COPY_REPORT_TO_TEMPORARY', 0xee, ''],
  ['STORE_TY_PRIMARY_N', 0xf0, 'twice'],
  ['STORE_XY_COORDINATE_PRIMARY_N', 0xf1, 'twice', 'STORE XY-COORDINATE PRIMARY N'],
  ['STORE_COLOUR_TEMPERATURE_LIMIT', 0xf2, 'twice'],
  ['STORE_GEAR_FEATURES_STATUS', 0xf3, 'twice', 'STORE GEAR FEATURES/STATUS'],
  ['ASSIGN_COLOUR_TO_LINKED_CHANNEL', 0xf5, 'twice'],
  ['START_AUTO_CALIBRATION', 0xf6, ''],
  ['QUERY_GEAR_FEATURES_STATUS', 0xf7, 'query', 'QUERY GEAR FEATURES/STATUS'],
  ['QUERY_COLOUR_STATUS', 0xf8, 'query'],
  ['QUERY_COLOUR_TYPE_FEATURES', 0xf9, 'query'],
  ['QUERY_COLOUR_VALUE', 0xfa, 'query'],
  ['QUERY_RGBWAF_CONTROL', 0xfb, 'query'],
  ['QUERY_ASSIGNED_COLOUR', 0xfc, 'query'],
  ['QUERY_EXTENDED_VERSION_NUMBER', 0xff, 'query'],
]);
export const Dt8Command = DT8_TABLE.codes;

/** DTR2 selector for STORE COLOUR TEMPERATURE LIMIT. */
export const Dt8TcLimit = {
  COOLEST: 0,
  WARMEST: 1,
  PHYSICAL_COOLEST: 2,
  PHYSICAL_WARMEST: 3,
} as const;

/** DTR0 selector for QUERY COLOUR VALUE (values used by this package). */
export const Dt8ColourValue = {
  COLOUR_TEMPERATURE: 2,
  COLOUR_TEMPERATURE_COOLEST: 128,
  COLOUR_TEMPERATURE_PHYSICAL_COOLEST: 129,
  COLOUR_TEMPERATURE_WARMEST: 130,
  COLOUR_TEMPERATURE_PHYSICAL_WARMEST: 131,
} as const;

/**
 * Part 103 device commands (instance byte 0xFE). IDENTIFY DEVICE and RESET
 * POWER CYCLE SEEN are send-twice as in python-dali.
 */
export const DEVICE_TABLE = commandTable([
  ['IDENTIFY_DEVICE', 0x00, 'twice'],
  ['RESET_POWER_CYCLE_SEEN', 0x01, 'twice'],
  ['RESET', 0x10, 'twice'],
  ['RESET_MEMORY_BANK', 0x11, 'twice'],
  ['SET_SHORT_ADDRESS', 0x14, 'twice'],
  ['ENABLE_WRITE_MEMORY', 0x15, 'twice'],
  ['ENABLE_APPLICATION_CONTROLLER', 0x16, 'twice'],
  ['DISABLE_APPLICATION_CONTROLLER', 0x17, 'twice'],
  ['SET_OPERATING_MODE', 0x18, 'twice'],
  ['ADD_TO_DEVICE_GROUPS_0_15', 0x19, 'twice', 'ADD TO DEVICE GROUPS 0-15'],
  ['ADD_TO_DEVICE_GROUPS_16_31', 0x1a, 'twice', 'ADD TO DEVICE GROUPS 16-31'],
  ['REMOVE_FROM_DEVICE_GROUPS_0_15', 0x1b, 'twice', 'REMOVE FROM DEVICE GROUPS 0-15'],
  ['REMOVE_FROM_DEVICE_GROUPS_16_31', 0x1c, 'twice', 'REMOVE FROM DEVICE GROUPS 16-31'],
  ['START_QUIESCENT_MODE', 0x1d, 'twice'],
  ['STOP_QUIESCENT_MODE', 0x1e, 'twice'],
  ['ENABLE_POWER_CYCLE_NOTIFICATION', 0x1f, 'twice'],
  ['DISABLE_POWER_CYCLE_NOTIFICATION', 0x20, 'twice'],
  ['SAVE_PERSISTENT_VARIABLES', 0x21, 'twice'],
  ['QUERY_DEVICE_STATUS', 0x30, 'query'],
  ['QUERY_APPLICATION_CONTROLLER_ERROR', 0x31, 'query'],
  ['QUERY_INPUT_DEVICE_ERROR', 0x32, 'query'],
  ['QUERY_MISSING_SHORT_ADDRESS', 0x33, 'query'],
  ['QUERY_VERSION_NUMBER', 0x34, 'query'],
  ['QUERY_NUMBER_OF_INSTANCES', 0x35, 'query'],
  ['QUERY_CONTENT_DTR0', 0x36, 'query'],
  ['QUERY_CONTENT_DTR1', 0x37, 'query'],
  ['QUERY_CONTENT_DTR2', 0x38, 'query'],
  ['QUERY_RANDOM_ADDRESS_H', 0x39, 'query', 'QUERY RANDOM ADDRESS (H)'],
  ['QUERY_RANDOM_ADDRESS_M', 0x3a, 'query', 'QUERY RANDOM ADDRESS (M)'],
  ['QUERY_RANDOM_ADDRESS_L', 0x3b, 'query', 'QUERY RANDOM ADDRESS (L)'],
  ['READ_MEMORY_LOCATION', 0x3c, 'query'],
  ['QUERY_APPLICATION_CONTROL_ENABLED', 0x3d, 'query'],
  ['QUERY_OPERATING_MODE', 0x3e, 'query'],
  ['QUERY_MANUFACTURER_SPECIFIC_MODE', 0x3f, 'query'],
  ['QUERY_QUIESCENT_MODE', 0x40, 'query'],
  ['QUERY_DEVICE_GROUPS_0_7', 0x41, 'query', 'QUERY DEVICE GROUPS 0-7'],
  ['QUERY_DEVICE_GROUPS_8_15', 0x42, 'query', 'QUERY DEVICE GROUPS 8-15'],
  ['QUERY_DEVICE_GROUPS_16_23', 0x43, 'query', 'QUERY DEVICE GROUPS 16-23'],
  ['QUERY_DEVICE_GROUPS_24_31', 0x44, 'query', 'QUERY DEVICE GROUPS 24-31'],
  ['QUERY_POWER_CYCLE_NOTIFICATION', 0x45, 'query'],
  ['QUERY_DEVICE_CAPABILITIES', 0x46, 'query'],
  ['QUERY_EXTENDED_VERSION_NUMBER', 0x47, 'query'],
  ['QUERY_RESET_STATE', 0x48, 'query'],
]);
export const DeviceCommand = DEVICE_TABLE.codes;

/** Part 103 instance commands (the instance byte selects the instance(s)). */
export const INSTANCE_TABLE = commandTable([
  ['SET_EVENT_PRIORITY', 0x61, 'twice'],
  ['ENABLE_INSTANCE', 0x62, 'twice'],
  ['DISABLE_INSTANCE', 0x63, 'twice'],
  ['SET_PRIMARY_INSTANCE_GROUP', 0x64, 'twice'],
  ['SET_INSTANCE_GROUP_1', 0x65, 'twice'],
  ['SET_INSTANCE_GROUP_2', 0x66, 'twice'],
  ['SET_EVENT_SCHEME', 0x67, 'twice'],
  ['SET_EVENT_FILTER', 0x68, 'twice'],
  ['QUERY_INSTANCE_TYPE', 0x80, 'query'],
  ['QUERY_RESOLUTION', 0x81, 'query'],
  ['QUERY_INSTANCE_ERROR', 0x82, 'query'],
  ['QUERY_INSTANCE_STATUS', 0x83, 'query'],
  ['QUERY_EVENT_PRIORITY', 0x84, 'query'],
  ['QUERY_INSTANCE_ENABLED', 0x86, 'query'],
  ['QUERY_PRIMARY_INSTANCE_GROUP', 0x88, 'query'],
  ['QUERY_INSTANCE_GROUP_1', 0x89, 'query'],
  ['QUERY_INSTANCE_GROUP_2', 0x8a, 'query'],
  ['QUERY_EVENT_SCHEME', 0x8b, 'query'],
  ['QUERY_INPUT_VALUE', 0x8c, 'query'],
  ['QUERY_INPUT_VALUE_LATCH', 0x8d, 'query'],
  ['QUERY_FEATURE_TYPE', 0x8e, 'query'],
  ['QUERY_NEXT_FEATURE_TYPE', 0x8f, 'query'],
  ['QUERY_EVENT_FILTER_0_7', 0x90, 'query', 'QUERY EVENT FILTER 0-7'],
  ['QUERY_EVENT_FILTER_8_15', 0x91, 'query', 'QUERY EVENT FILTER 8-15'],
  ['QUERY_EVENT_FILTER_16_23', 0x92, 'query', 'QUERY EVENT FILTER 16-23'],
]);
export const InstanceCommand = INSTANCE_TABLE.codes;

/**
 * Part 103 special commands for control devices: 24-bit frames whose first
 * byte is 0xC1 and second byte selects the command; the third byte is data.
 */
export const DEVICE_SPECIAL_TABLE = commandTable([
  ['TERMINATE', 0x00, ''],
  ['INITIALISE', 0x01, 'twice'],
  ['RANDOMISE', 0x02, 'twice'],
  ['COMPARE', 0x03, 'query'],
  ['WITHDRAW', 0x04, ''],
  ['SEARCHADDRH', 0x05, ''],
  ['SEARCHADDRM', 0x06, ''],
  ['SEARCHADDRL', 0x07, ''],
  ['PROGRAM_SHORT_ADDRESS', 0x08, ''],
  ['VERIFY_SHORT_ADDRESS', 0x09, 'query'],
  ['QUERY_SHORT_ADDRESS', 0x0a, 'query'],
  ['WRITE_MEMORY_LOCATION', 0x20, 'query'],
  ['WRITE_MEMORY_LOCATION_NO_REPLY', 0x21, '', 'WRITE MEMORY LOCATION - NO REPLY'],
  ['DTR0', 0x30, ''],
  ['DTR1', 0x31, ''],
  ['DTR2', 0x32, ''],
  ['SEND_TESTFRAME', 0x33, ''],
]);
export const DeviceSpecialCommand = {
  /** First byte of every device special command. */
  PREFIX: 0xc1,
  ...DEVICE_SPECIAL_TABLE.codes,
} as const;

/** Part 103 special commands with two data bytes, keyed by their first byte (0xC5/0xC7/0xC9). */
export const DEVICE_SPECIAL_TWO_BYTE_TABLE = commandTable([
  /** Second byte = memory offset, third = value; answers. */
  ['DIRECT_WRITE_MEMORY', 0xc5, 'query'],
  /** Second byte = DTR1, third = DTR0. */
  ['DTR1_DTR0', 0xc7, '', 'DTR1:DTR0'],
  /** Second byte = DTR2, third = DTR1. */
  ['DTR2_DTR1', 0xc9, '', 'DTR2:DTR1'],
]);

/** Bits of the QUERY STATUS answer (part 102). */
export const GearStatusBit = {
  CONTROL_GEAR_FAILURE: 0x01,
  LAMP_FAILURE: 0x02,
  LAMP_ON: 0x04,
  LIMIT_ERROR: 0x08,
  FADE_RUNNING: 0x10,
  RESET_STATE: 0x20,
  SHORT_ADDRESS_MISSING: 0x40,
  POWER_CYCLE_SEEN: 0x80,
} as const;

/** Occupancy sensor (part 303, instance type 3) event information bits. */
export const OccupancyEventBit = {
  MOVEMENT: 0x01,
  OCCUPIED: 0x02,
  REPEAT: 0x04,
  MOVEMENT_SENSOR: 0x08,
} as const;

/** Backward frame value for YES. */
export const YES = 0xff;
/** Arc power level MASK: no change / stop fade. */
export const MASK = 0xff;
/** Device type answered by QUERY DEVICE TYPE when the gear supports several. */
export const DEVICE_TYPE_MULTIPLE = 0xff;
/** Device type answered when no further types (QUERY NEXT DEVICE TYPE). */
export const DEVICE_TYPE_NONE = 0xfe;
/** Colour temperature control gear (part 209). */
export const DEVICE_TYPE_COLOUR = 8;

/**
 * Part 303 (occupancy sensor, instance type 3) instance commands. SET HOLD
 * TIMER: DTR0 in 10 s units; SET REPORT TIMER: 1 s units; SET DEADTIME
 * TIMER: 50 ms units (values as in python-dali dali/device/occupancy.py).
 */
export const OCCUPANCY_SENSOR_TABLE = commandTable(
  [
    ['CATCH_MOVEMENT', 0x20, ''],
    ['SET_HOLD_TIMER', 0x21, 'twice'],
    ['SET_REPORT_TIMER', 0x22, 'twice'],
    ['SET_DEADTIME_TIMER', 0x23, 'twice'],
    ['CANCEL_HOLD_TIMER', 0x24, ''],
    ['QUERY_DEADTIME_TIMER', 0x2c, 'query'],
    ['QUERY_HOLD_TIMER', 0x2d, 'query'],
    ['QUERY_REPORT_TIMER', 0x2e, 'query'],
    ['QUERY_CATCHING', 0x2f, 'query'],
  ],
  { instanceType: 3 },
);
export const OccupancySensorCommand = OCCUPANCY_SENSOR_TABLE.codes;

/**
 * Part 304 (light sensor, instance type 4) instance commands. SET REPORT
 * TIMER: DTR0 in 1 s units; SET HYSTERESIS: percent; SET DEADTIME TIMER:
 * 50 ms units; SET HYSTERESIS MIN: raw value (values as in python-dali
 * dali/device/light.py).
 */
export const LIGHT_SENSOR_TABLE = commandTable(
  [
    ['SET_REPORT_TIMER', 0x30, 'twice'],
    ['SET_HYSTERESIS', 0x31, 'twice'],
    ['SET_DEADTIME_TIMER', 0x32, 'twice'],
    ['SET_HYSTERESIS_MIN', 0x33, 'twice'],
    ['QUERY_HYSTERESIS_MIN', 0x3c, 'query'],
    ['QUERY_DEADTIME_TIMER', 0x3d, 'query'],
    ['QUERY_REPORT_TIMER', 0x3e, 'query'],
    ['QUERY_HYSTERESIS', 0x3f, 'query'],
  ],
  { instanceType: 4 },
);
export const LightSensorCommand = LIGHT_SENSOR_TABLE.codes;

/**
 * Every instance command by opcode: part 103 plus the part 303 (0x20..0x2F)
 * and part 304 (0x30..0x3F) instance-type specific ones.
 */
export const INSTANCE_COMMANDS_BY_OPCODE: ReadonlyArray<CommandInfo | undefined> = Object.freeze(
  INSTANCE_TABLE.byOpcode.map((info, op) => info ?? OCCUPANCY_SENSOR_TABLE.byOpcode[op] ?? LIGHT_SENSOR_TABLE.byOpcode[op]),
);

/** Each table with where its commands sit in a frame (for tools and tests that walk all of them). */
export const COMMAND_TABLES = [
  { family: 'gear', entries: GEAR_TABLE.entries },
  { family: 'special', entries: SPECIAL_TABLE.entries },
  { family: 'dt8', entries: DT8_TABLE.entries },
  { family: 'device', entries: DEVICE_TABLE.entries },
  { family: 'instance', entries: INSTANCE_TABLE.entries },
  { family: 'occupancySensor', entries: OCCUPANCY_SENSOR_TABLE.entries },
  { family: 'lightSensor', entries: LIGHT_SENSOR_TABLE.entries },
  { family: 'deviceSpecial', entries: DEVICE_SPECIAL_TABLE.entries },
  { family: 'deviceSpecialTwoByte', entries: DEVICE_SPECIAL_TWO_BYTE_TABLE.entries },
] as const;
