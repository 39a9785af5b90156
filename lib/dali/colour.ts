/**
 * Colour temperature conversions for DT8 (IEC 62386-209): the gear speaks
 * mirek (micro reciprocal degree) = 1e6 / kelvin, 16 bits, 0xFFFF = MASK.
 * 1 and 0xFFFE are the extreme valid values; 0 is not valid.
 */

/** 16-bit MASK value of a colour temperature (no change). */
export const MIREK_MASK = 0xffff;
/** Smallest valid mirek value (1e6 K). */
export const MIN_MIREK = 1;
/** Largest valid mirek value (just above 15 K). */
export const MAX_MIREK = 0xfffe;

/** Colour temperature limits of a gear, in mirek (coolest = smallest mirek). */
export interface TcLimits {
  readonly coolestMirek: number;
  readonly warmestMirek: number;
}

/** Default limits of this package: 6500 K (153 mirek) .. 1800 K (555 mirek). */
export const DEFAULT_TC_LIMITS: TcLimits = Object.freeze({
  coolestMirek: kelvinToMirekUnchecked(6500),
  warmestMirek: kelvinToMirekUnchecked(1800),
});

function kelvinToMirekUnchecked(kelvin: number): number {
  return Math.trunc(1e6 / kelvin);
}

function checkKelvin(kelvin: unknown): asserts kelvin is number {
  if (typeof kelvin !== 'number' || !Number.isFinite(kelvin) || kelvin <= 0) {
    throw new RangeError(`colour temperature must be a finite number of kelvin > 0, got ${String(kelvin)}`);
  }
}

function checkLimits(limits: TcLimits): void {
  const { coolestMirek, warmestMirek } = limits;
  const ok = (m: number): boolean => Number.isInteger(m) && m >= MIN_MIREK && m <= MAX_MIREK;
  if (!ok(coolestMirek) || !ok(warmestMirek) || coolestMirek > warmestMirek) {
    throw new RangeError(
      `colour temperature limits must be integer mirek 1..65534 with coolest <= warmest, got ${String(coolestMirek)}..${String(warmestMirek)}`,
    );
  }
}

/**
 * Kelvin to mirek, truncated as DT8 gear and python-dali do
 * (2700 K = 370, 4000 K = 250, 6500 K = 153).
 * @throws RangeError for non-finite, non-positive or out-of-range values (result must be 1..65534).
 */
export function kelvinToMirek(kelvin: number): number {
  checkKelvin(kelvin);
  const mirek = kelvinToMirekUnchecked(kelvin);
  if (mirek < MIN_MIREK || mirek > MAX_MIREK) {
    throw new RangeError(`colour temperature ${kelvin} K is outside what DT8 can express (16 K .. 1e6 K)`);
  }
  return mirek;
}

/**
 * Mirek to kelvin (rounded to whole kelvin).
 * @throws RangeError for MASK (0xFFFF), 0, non-integers and values outside 1..65534.
 */
export function mirekToKelvin(mirek: number): number {
  if (typeof mirek !== 'number' || !Number.isInteger(mirek) || mirek < MIN_MIREK || mirek > MAX_MIREK) {
    throw new RangeError(`mirek must be an integer in 1..65534 (0xFFFF is MASK), got ${String(mirek)}`);
  }
  return Math.round(1e6 / mirek);
}

/** Kelvin clamped into the gear's limits (limits given in mirek). */
export function clampKelvin(kelvin: number, limits: TcLimits = DEFAULT_TC_LIMITS): number {
  checkKelvin(kelvin);
  checkLimits(limits);
  const coolestKelvin = 1e6 / limits.coolestMirek;
  const warmestKelvin = 1e6 / limits.warmestMirek;
  return Math.min(coolestKelvin, Math.max(warmestKelvin, kelvin));
}

/** Kelvin to mirek, then clamped to the limits (result always within coolestMirek..warmestMirek). */
export function kelvinToMirekClamped(kelvin: number, limits: TcLimits = DEFAULT_TC_LIMITS): number {
  checkKelvin(kelvin);
  checkLimits(limits);
  const mirek = Math.trunc(1e6 / kelvin);
  return Math.min(limits.warmestMirek, Math.max(limits.coolestMirek, mirek));
}

/** Splits a 16-bit mirek value into the DTR1 (MSB) and DTR0 (LSB) bytes. */
export function mirekToDtrBytes(mirek: number): { dtr0: number; dtr1: number } {
  if (typeof mirek !== 'number' || !Number.isInteger(mirek) || mirek < 0 || mirek > 0xffff) {
    throw new RangeError(`mirek must be an integer in 0..65535, got ${String(mirek)}`);
  }
  return { dtr0: mirek & 0xff, dtr1: (mirek >> 8) & 0xff };
}
