/**
 * Simulator of a DALI bus: virtual DT8 control gear, a DALI-2 light +
 * occupancy sensor, the bus joining them, clocks (real and virtual) and an
 * office-day scenario driving the sensor. Plain TypeScript, no Node-RED.
 */
export * from './gear';
export * from './sensor';
export * from './virtual-bus';
export * from './scenario';
