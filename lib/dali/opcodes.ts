/**
 * Opcode tables of IEC 62386, named as in the standard. Source of the values:
 * the command tables of IEC 62386 parts 102, 103, 209, 303 and 304.
 *
 * These are plain numbers: the codec (lib/dali/codec.ts) turns them into
 * frames and back; the simulator (lib/dali/sim) interprets them.
 */

/** Part 102 commands to control gear: second byte with the address byte's S bit = 1. */
export const GearCommand = {
  OFF: 0x00,
  UP: 0x01,
  DOWN: 0x02,
  STEP_UP: 0x03,
  STEP_DOWN: 0x04,
  RECALL_MAX_LEVEL: 0x05,
  RECALL_MIN_LEVEL: 0x06,
  STEP_DOWN_AND_OFF: 0x07,
  ON_AND_STEP_UP: 0x08,
  ENABLE_DAPC_SEQUENCE: 0x09,
  GO_TO_LAST_ACTIVE_LEVEL: 0x0a,
  /** 0x10 + scene (0..15). */
  GO_TO_SCENE: 0x10,

  // Configuration commands: send twice within 100 ms.
  RESET: 0x20,
  STORE_ACTUAL_LEVEL_IN_DTR0: 0x21,
  SAVE_PERSISTENT_VARIABLES: 0x22,
  SET_OPERATING_MODE: 0x23,
  RESET_MEMORY_BANK: 0x24,
  IDENTIFY_DEVICE: 0x25,
  SET_MAX_LEVEL: 0x2a,
  SET_MIN_LEVEL: 0x2b,
  SET_SYSTEM_FAILURE_LEVEL: 0x2c,
  SET_POWER_ON_LEVEL: 0x2d,
  SET_FADE_TIME: 0x2e,
  SET_FADE_RATE: 0x2f,
  SET_EXTENDED_FADE_TIME: 0x30,
  /** 0x40 + scene. */
  SET_SCENE: 0x40,
  /** 0x50 + scene. */
  REMOVE_FROM_SCENE: 0x50,
  /** 0x60 + group. */
  ADD_TO_GROUP: 0x60,
  /** 0x70 + group. */
  REMOVE_FROM_GROUP: 0x70,
  SET_SHORT_ADDRESS: 0x80,
  ENABLE_WRITE_MEMORY: 0x81,

  // Queries: an 8-bit answer, YES = 0xFF, NO = no frame.
  QUERY_STATUS: 0x90,
  QUERY_CONTROL_GEAR_PRESENT: 0x91,
  QUERY_LAMP_FAILURE: 0x92,
  QUERY_LAMP_POWER_ON: 0x93,
  QUERY_LIMIT_ERROR: 0x94,
  QUERY_RESET_STATE: 0x95,
  QUERY_MISSING_SHORT_ADDRESS: 0x96,
  QUERY_VERSION_NUMBER: 0x97,
  QUERY_CONTENT_DTR0: 0x98,
  QUERY_DEVICE_TYPE: 0x99,
  QUERY_PHYSICAL_MINIMUM: 0x9a,
  QUERY_POWER_FAILURE: 0x9b,
  QUERY_CONTENT_DTR1: 0x9c,
  QUERY_CONTENT_DTR2: 0x9d,
  QUERY_OPERATING_MODE: 0x9e,
  QUERY_LIGHT_SOURCE_TYPE: 0x9f,
  QUERY_ACTUAL_LEVEL: 0xa0,
  QUERY_MAX_LEVEL: 0xa1,
  QUERY_MIN_LEVEL: 0xa2,
  QUERY_POWER_ON_LEVEL: 0xa3,
  QUERY_SYSTEM_FAILURE_LEVEL: 0xa4,
  QUERY_FADE_TIME_FADE_RATE: 0xa5,
  QUERY_MANUFACTURER_SPECIFIC_MODE: 0xa6,
  QUERY_NEXT_DEVICE_TYPE: 0xa7,
  QUERY_EXTENDED_FADE_TIME: 0xa8,
  QUERY_CONTROL_GEAR_FAILURE: 0xaa,
  /** 0xB0 + scene. */
  QUERY_SCENE_LEVEL: 0xb0,
  QUERY_GROUPS_0_7: 0xc0,
  QUERY_GROUPS_8_15: 0xc1,
  QUERY_RANDOM_ADDRESS_H: 0xc2,
  QUERY_RANDOM_ADDRESS_M: 0xc3,
  QUERY_RANDOM_ADDRESS_L: 0xc4,
  READ_MEMORY_LOCATION: 0xc5,
} as const;

/**
 * Part 102 special commands: the first byte is the opcode, the second the
 * data. Addressed to all gear regardless of short address.
 */
export const SpecialCommand = {
  TERMINATE: 0xa1,
  DTR0: 0xa3,
  INITIALISE: 0xa5, // send twice
  RANDOMISE: 0xa7, // send twice
  COMPARE: 0xa9,
  WITHDRAW: 0xab,
  PING: 0xad,
  SEARCHADDRH: 0xb1,
  SEARCHADDRM: 0xb3,
  SEARCHADDRL: 0xb5,
  PROGRAM_SHORT_ADDRESS: 0xb7,
  VERIFY_SHORT_ADDRESS: 0xb9,
  QUERY_SHORT_ADDRESS: 0xbb,
  ENABLE_DEVICE_TYPE: 0xc1,
  DTR1: 0xc3,
  DTR2: 0xc5,
  WRITE_MEMORY_LOCATION: 0xc7,
  WRITE_MEMORY_LOCATION_NO_REPLY: 0xc9,
} as const;

/** Part 209 (device type 8, colour control) application extended commands. Precede each with ENABLE DEVICE TYPE 8. */
export const Dt8Command = {
  SET_TEMPORARY_X_COORDINATE: 0xe0,
  SET_TEMPORARY_Y_COORDINATE: 0xe1,
  ACTIVATE: 0xe2,
  X_COORDINATE_STEP_UP: 0xe3,
  X_COORDINATE_STEP_DOWN: 0xe4,
  Y_COORDINATE_STEP_UP: 0xe5,
  Y_COORDINATE_STEP_DOWN: 0xe6,
  SET_TEMPORARY_COLOUR_TEMPERATURE: 0xe7,
  COLOUR_TEMPERATURE_STEP_COOLER: 0xe8,
  COLOUR_TEMPERATURE_STEP_WARMER: 0xe9,
  SET_TEMPORARY_PRIMARY_N_DIMLEVEL: 0xea,
  SET_TEMPORARY_RGB_DIMLEVEL: 0xeb,
  SET_TEMPORARY_WAF_DIMLEVEL: 0xec,
  SET_TEMPORARY_RGBWAF_CONTROL: 0xed,
  COPY_REPORT_TO_TEMPORARY: 0xee,
  /** Send twice. */
  STORE_TY_PRIMARY_N: 0xf0,
  /** Send twice. */
  STORE_XY_COORDINATE_PRIMARY_N: 0xf1,
  /** Send twice; DTR2 selects which limit (Dt8TcLimit). */
  STORE_COLOUR_TEMPERATURE_LIMIT: 0xf2,
  /** Send twice; DTR0 bit 0 = automatic activation. */
  STORE_GEAR_FEATURES_STATUS: 0xf3,
  /** Send twice. */
  ASSIGN_COLOUR_TO_LINKED_CHANNEL: 0xf5,
  START_AUTO_CALIBRATION: 0xf6,
  QUERY_GEAR_FEATURES_STATUS: 0xf7,
  QUERY_COLOUR_STATUS: 0xf8,
  QUERY_COLOUR_TYPE_FEATURES: 0xf9,
  /** DTR0 selects the value (Dt8ColourValue); answer = MSB, LSB left in DTR0. */
  QUERY_COLOUR_VALUE: 0xfa,
  QUERY_RGBWAF_CONTROL: 0xfb,
  QUERY_ASSIGNED_COLOUR: 0xfc,
  QUERY_EXTENDED_VERSION_NUMBER: 0xff,
} as const;

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

/** Part 103 device commands (instance byte 0xFE). */
export const DeviceCommand = {
  IDENTIFY_DEVICE: 0x00,
  RESET_POWER_CYCLE_SEEN: 0x01,
  RESET: 0x10, // send twice
  RESET_MEMORY_BANK: 0x11, // send twice
  SET_SHORT_ADDRESS: 0x14, // send twice
  ENABLE_WRITE_MEMORY: 0x15, // send twice
  ENABLE_APPLICATION_CONTROLLER: 0x16, // send twice
  DISABLE_APPLICATION_CONTROLLER: 0x17, // send twice
  SET_OPERATING_MODE: 0x18, // send twice
  ADD_TO_DEVICE_GROUPS_0_15: 0x19, // send twice
  ADD_TO_DEVICE_GROUPS_16_31: 0x1a, // send twice
  REMOVE_FROM_DEVICE_GROUPS_0_15: 0x1b, // send twice
  REMOVE_FROM_DEVICE_GROUPS_16_31: 0x1c, // send twice
  START_QUIESCENT_MODE: 0x1d, // send twice
  STOP_QUIESCENT_MODE: 0x1e, // send twice
  ENABLE_POWER_CYCLE_NOTIFICATION: 0x1f, // send twice
  DISABLE_POWER_CYCLE_NOTIFICATION: 0x20, // send twice
  SAVE_PERSISTENT_VARIABLES: 0x21, // send twice
  QUERY_DEVICE_STATUS: 0x30,
  QUERY_APPLICATION_CONTROLLER_ERROR: 0x31,
  QUERY_INPUT_DEVICE_ERROR: 0x32,
  QUERY_MISSING_SHORT_ADDRESS: 0x33,
  QUERY_VERSION_NUMBER: 0x34,
  QUERY_NUMBER_OF_INSTANCES: 0x35,
  QUERY_CONTENT_DTR0: 0x36,
  QUERY_CONTENT_DTR1: 0x37,
  QUERY_CONTENT_DTR2: 0x38,
  QUERY_RANDOM_ADDRESS_H: 0x39,
  QUERY_RANDOM_ADDRESS_M: 0x3a,
  QUERY_RANDOM_ADDRESS_L: 0x3b,
  READ_MEMORY_LOCATION: 0x3c,
  QUERY_APPLICATION_CONTROL_ENABLED: 0x3d,
  QUERY_OPERATING_MODE: 0x3e,
  QUERY_MANUFACTURER_SPECIFIC_MODE: 0x3f,
  QUERY_QUIESCENT_MODE: 0x40,
  QUERY_DEVICE_GROUPS_0_7: 0x41,
  QUERY_DEVICE_GROUPS_8_15: 0x42,
  QUERY_DEVICE_GROUPS_16_23: 0x43,
  QUERY_DEVICE_GROUPS_24_31: 0x44,
  QUERY_POWER_CYCLE_NOTIFICATION: 0x45,
  QUERY_DEVICE_CAPABILITIES: 0x46,
  QUERY_EXTENDED_VERSION_NUMBER: 0x47,
  QUERY_RESET_STATE: 0x48,
} as const;

/** Part 103 instance commands (instance byte selects the instance(s)). */
export const InstanceCommand = {
  SET_EVENT_PRIORITY: 0x61, // send twice
  ENABLE_INSTANCE: 0x62, // send twice
  DISABLE_INSTANCE: 0x63, // send twice
  SET_PRIMARY_INSTANCE_GROUP: 0x64, // send twice
  SET_INSTANCE_GROUP_1: 0x65, // send twice
  SET_INSTANCE_GROUP_2: 0x66, // send twice
  SET_EVENT_SCHEME: 0x67, // send twice
  SET_EVENT_FILTER: 0x68, // send twice
  QUERY_INSTANCE_TYPE: 0x80,
  QUERY_RESOLUTION: 0x81,
  QUERY_INSTANCE_ERROR: 0x82,
  QUERY_INSTANCE_STATUS: 0x83,
  QUERY_EVENT_PRIORITY: 0x84,
  QUERY_INSTANCE_ENABLED: 0x86,
  QUERY_PRIMARY_INSTANCE_GROUP: 0x88,
  QUERY_INSTANCE_GROUP_1: 0x89,
  QUERY_INSTANCE_GROUP_2: 0x8a,
  QUERY_EVENT_SCHEME: 0x8b,
  QUERY_INPUT_VALUE: 0x8c,
  QUERY_INPUT_VALUE_LATCH: 0x8d,
  QUERY_FEATURE_TYPE: 0x8e,
  QUERY_NEXT_FEATURE_TYPE: 0x8f,
  QUERY_EVENT_FILTER_0_7: 0x90,
  QUERY_EVENT_FILTER_8_15: 0x91,
  QUERY_EVENT_FILTER_16_23: 0x92,
} as const;

/**
 * Part 103 special commands for control devices: 24-bit frames whose first
 * byte is 0xC1 and second byte selects the command; the third byte is data.
 */
export const DeviceSpecialCommand = {
  /** First byte of every device special command. */
  PREFIX: 0xc1,
  TERMINATE: 0x00,
  INITIALISE: 0x01, // send twice
  RANDOMISE: 0x02, // send twice
  COMPARE: 0x03,
  WITHDRAW: 0x04,
  SEARCHADDRH: 0x05,
  SEARCHADDRM: 0x06,
  SEARCHADDRL: 0x07,
  PROGRAM_SHORT_ADDRESS: 0x08,
  VERIFY_SHORT_ADDRESS: 0x09,
  QUERY_SHORT_ADDRESS: 0x0a,
  WRITE_MEMORY_LOCATION: 0x20,
  WRITE_MEMORY_LOCATION_NO_REPLY: 0x21,
  DTR0: 0x30,
  DTR1: 0x31,
  DTR2: 0x32,
  SEND_TESTFRAME: 0x33,
} as const;

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
 * Part 303 (occupancy sensor, instance type 3) instance commands. Added by
 * the codec (values as in python-dali dali/device/occupancy.py).
 */
export const OccupancySensorCommand = {
  CATCH_MOVEMENT: 0x20,
  SET_HOLD_TIMER: 0x21, // send twice; DTR0 = 10 s units
  SET_REPORT_TIMER: 0x22, // send twice; DTR0 = 1 s units
  SET_DEADTIME_TIMER: 0x23, // send twice; DTR0 = 50 ms units
  CANCEL_HOLD_TIMER: 0x24,
  QUERY_DEADTIME_TIMER: 0x2c,
  QUERY_HOLD_TIMER: 0x2d,
  QUERY_REPORT_TIMER: 0x2e,
  QUERY_CATCHING: 0x2f,
} as const;

/**
 * Part 304 (light sensor, instance type 4) instance commands. Added by the
 * codec (values as in python-dali dali/device/light.py).
 */
export const LightSensorCommand = {
  SET_REPORT_TIMER: 0x30, // send twice; DTR0 = 1 s units
  SET_HYSTERESIS: 0x31, // send twice; DTR0 = percent
  SET_DEADTIME_TIMER: 0x32, // send twice; DTR0 = 50 ms units
  SET_HYSTERESIS_MIN: 0x33, // send twice; DTR0 = raw value
  QUERY_HYSTERESIS_MIN: 0x3c,
  QUERY_DEADTIME_TIMER: 0x3d,
  QUERY_REPORT_TIMER: 0x3e,
  QUERY_HYSTERESIS: 0x3f,
} as const;
