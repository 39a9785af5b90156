/**
 * Public entry of lib/dali: shared types, opcode tables, the frame codec,
 * conversions (dimming curve, colour temperature, fade time) and the
 * setpoint sequence planner.
 */
export * from './types';
export * from './opcodes';
export * from './codec';
export * from './curve';
export * from './colour';
export * from './fade';
export * from './sequence';
