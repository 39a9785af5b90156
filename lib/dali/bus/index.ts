/**
 * The bus layer: timing model (part 101), scheduler (one transaction at a
 * time, priorities, coalescing, retries) and the DaliBus facade nodes use.
 */
export * from './timing';
export * from './scheduler';
export * from './dali-bus';
