/**
 * Dimming curves of IEC 62386-102: arc power level (0..254) <-> light output
 * in percent. Level 0 is off; 255 (MASK) is not a level and is rejected here.
 *
 * Logarithmic (the standard curve): percent(n) = 10^((n - 1) / (253/3) - 1)
 * for n = 1..254, i.e. 0.1 % .. 100 %.
 * Linear (part 207 "linear" dimming curve): percent(n) = n * 100 / 254.
 */

export type DimmingCurve = 'logarithmic' | 'linear';

/** Highest arc power level (100 %). */
export const MAX_ARC_LEVEL = 254;
/** Lowest non-off arc power level (0.1 % on the logarithmic curve). */
export const MIN_ARC_LEVEL = 1;

const LOG_STEPS_PER_DECADE = 253 / 3;

function checkCurve(curve: unknown): asserts curve is DimmingCurve {
  if (curve !== 'logarithmic' && curve !== 'linear') {
    throw new RangeError(`dimming curve must be 'logarithmic' or 'linear', got ${String(curve)}`);
  }
}

/**
 * Light output in percent (0..100) to the nearest arc power level.
 * 0 % is level 0 (off); any output above 0 % gives at least level 1, so a
 * small but positive request never switches the lamp off.
 * @throws RangeError for non-finite values or values outside 0..100.
 */
export function percentToArcLevel(pct: number, curve: DimmingCurve = 'logarithmic'): number {
  checkCurve(curve);
  if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) {
    throw new RangeError(`percent must be a finite number in 0..100, got ${String(pct)}`);
  }
  if (pct === 0) return 0;
  let level: number;
  if (curve === 'linear') {
    level = Math.round((pct * MAX_ARC_LEVEL) / 100);
  } else {
    level = Math.round(1 + LOG_STEPS_PER_DECADE * (Math.log10(pct) + 1));
  }
  return Math.min(MAX_ARC_LEVEL, Math.max(MIN_ARC_LEVEL, level));
}

/**
 * Arc power level (0..254) to light output in percent. Level 0 = 0 % (off).
 * @throws RangeError for non-integers or levels outside 0..254 (255 is MASK, not a level).
 */
export function arcLevelToPercent(level: number, curve: DimmingCurve = 'logarithmic'): number {
  checkCurve(curve);
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > MAX_ARC_LEVEL) {
    throw new RangeError(`arc power level must be an integer in 0..254, got ${String(level)}`);
  }
  if (level === 0) return 0;
  if (curve === 'linear') return (level * 100) / MAX_ARC_LEVEL;
  return Math.pow(10, (level - 1) / LOG_STEPS_PER_DECADE - 1);
}
