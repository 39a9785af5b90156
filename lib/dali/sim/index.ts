/**
 * Simulator of a DALI bus: virtual DT8 control gear, DALI-2 light +
 * occupancy sensors (or presence only), the bus joining them, clocks (real
 * and virtual) and the office-day and meeting-room scenarios driving the
 * sensors. Plain TypeScript, no Node-RED. (The demo building, ./building,
 * is imported from its own file: it builds on ../sim-config.)
 */
export * from './gear';
export * from './sensor';
export * from './virtual-bus';
export * from './scenario';
export * from './meeting-room';
