export * from './types';
export { mine, dedupeOverrides, inDayType, median, hhmm, type MineOptions, type LocalTime } from './mine';
export * from './schedule';
export * from './drift';
export * from './http';
