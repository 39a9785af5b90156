/** Deterministic control: circadian, daylight, occupancy, clamps, rules, override gate, energy. */
export * from './types';
export * from './circadian';
export * from './daylight';
export * from './occupancy';
export * from './clamps';
export * from './rules';
export * from './override';
export * from './energy';
export * from './deadline';
