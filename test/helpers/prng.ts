/**
 * Seeded PRNG for property and fuzz tests (mulberry32): same seed, same sequence,
 * so a failure reproduces. Print the seed in assertion messages.
 */
import { mulberry32 as simMulberry32 } from '../../lib/dali/sim/scenario';

export type Rng = () => number;

/** Uniform floats in [0, 1) from a 32-bit seed (the simulator's generator). */
export const mulberry32: (seed: number) => Rng = simMulberry32;

/** Integer in [min, max] inclusive. */
export function randInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** n pseudo-random bytes. */
export function randBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

/** One element of a non-empty array. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}
