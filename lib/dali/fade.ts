/**
 * Fade times of IEC 62386-102.
 *
 * FADE TIME code n (0..15, set with DTR0 + SET FADE TIME):
 * T = 0.5 * sqrt(2^n) s for n = 1..15 (0.707 s .. 90.5 s); n = 0 means the
 * extended fade time applies, which by default is 0 = no fade (instant).
 *
 * EXTENDED FADE TIME (DTR0 + SET EXTENDED FADE TIME): DTR0 bits 3..0 = base
 * 1..16 (value + 1), bits 6..4 = multiplier 0 = 0 ms, 1 = 100 ms, 2 = 1 s,
 * 3 = 10 s, 4 = 1 min; values > 0x4F = 0 (no fade). Range 100 ms .. 16 min.
 */

/** Fade time in ms of each FADE TIME code 0..15 (code 0 = instant). */
export const FADE_TIME_MS: readonly number[] = Object.freeze(
  Array.from({ length: 16 }, (_, n) => (n === 0 ? 0 : 500 * Math.sqrt(Math.pow(2, n)))),
);

/** Milliseconds of one FADE TIME code. @throws RangeError unless n is an integer 0..15. */
export function fadeTimeCodeToMs(code: number): number {
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 15) {
    throw new RangeError(`fade time code must be an integer in 0..15, got ${String(code)}`);
  }
  return FADE_TIME_MS[code] as number;
}

/**
 * The FADE TIME code whose time is nearest to `ms` on a logarithmic scale
 * (the codes are spaced by a factor sqrt(2), so "nearest" means the ratio
 * closest to 1). 0 ms (or anything below half of the first code's 707 ms)
 * gives code 0 = instant; anything above 90.5 s gives 15.
 *
 * Chosen over "never slower than asked" because fades are comfort, not
 * safety: a 1 s request gets 1.0 s (code 2), not 0.7 s.
 * @throws RangeError for negative or non-finite values.
 */
export function msToFadeTimeCode(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`fade time must be a finite number of ms >= 0, got ${String(ms)}`);
  }
  if (ms < (FADE_TIME_MS[1] as number) / 2) return 0;
  let best = 1;
  let bestErr = Infinity;
  for (let n = 1; n <= 15; n++) {
    const err = Math.abs(Math.log(ms / (FADE_TIME_MS[n] as number)));
    if (err < bestErr) {
      bestErr = err;
      best = n;
    }
  }
  return best;
}

const EXTENDED_MULTIPLIER_MS = [0, 100, 1000, 10000, 60000] as const;

/** Milliseconds of an EXTENDED FADE TIME byte (as stored via DTR0). Never throws for a byte; values > 0x4F = 0. */
export function extendedFadeTimeToMs(dtr0: number): number {
  if (!Number.isInteger(dtr0) || dtr0 < 0 || dtr0 > 0x4f) return 0;
  const base = (dtr0 & 0x0f) + 1;
  const multiplier = (dtr0 >> 4) & 0x07;
  return base * (EXTENDED_MULTIPLIER_MS[multiplier] ?? 0);
}

/**
 * The EXTENDED FADE TIME byte whose time is nearest to `ms` (0 ms -> 0x00 =
 * no fade); on a tie the finer multiplier wins.
 * @throws RangeError for negative or non-finite values, or above 16 min.
 */
export function msToExtendedFadeTime(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 16 * 60000) {
    throw new RangeError(`extended fade time must be a finite number of ms in 0..960000, got ${String(ms)}`);
  }
  let best = 0;
  let bestErr = ms;
  for (let m = 1; m <= 4; m++) {
    const unit = EXTENDED_MULTIPLIER_MS[m] as number;
    for (let base = 1; base <= 16; base++) {
      const err = Math.abs(base * unit - ms);
      if (err < bestErr) {
        bestErr = err;
        best = (m << 4) | (base - 1);
      }
    }
  }
  return best;
}
