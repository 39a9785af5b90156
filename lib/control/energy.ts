/**
 * Energy estimates.
 *
 * Per decision (the decision record's `energySavingEstimate`): the share of
 * full light output not used, (100 - intensity) / 100.
 *
 * Power model. A setpoint's intensity is already light output in percent:
 * the DALI logarithmic curve maps arc power level -> output
 * (lib/dali/curve.ts), so no curve is applied to a percentage again; use
 * `powerAtArcLevel` when only an arc level is known. LED driver input power
 * is close to proportional to output, plus a standby draw:
 *
 *   P(0 %)   = standbyW                              (gear powered, lamp off)
 *   P(x > 0) = standbyW + (ratedW - standbyW) * (x / 100) ^ exponent
 *
 * exponent 1 (default) is proportional; drivers that lose efficiency when
 * dimmed deep draw relatively more at low output, which an exponent below 1
 * (e.g. 0.9) models. Multiply by `count` luminaires.
 *
 * Daily summary: decisions are held until the next one (step changes; fades
 * of seconds are negligible over hours) and power is integrated over time
 * into Wh, compared with the same luminaires at 100 % for the whole period.
 */
import { isFiniteNumber, isPlainObject, parseTimeMs } from '../contracts';
import { arcLevelToPercent, type DimmingCurve } from '../dali/curve';
import { ControlInputError } from './types';

export interface FixturePower {
  /** Input power at 100 %, watts (per luminaire). */
  ratedW: number;
  /** Input power when off but powered, watts (per luminaire; DALI gear ~0.1-0.5 W). */
  standbyW: number;
  /** Luminaires in the zone (default 1). */
  count?: number;
  /** Output-to-power exponent (default 1: proportional). */
  exponent?: number;
}

/** (100 - intensity) / 100 in [0, 1]; a non-finite intensity counts as 100 % (no saving claimed). */
export function energySavingEstimate(intensityPct: unknown): number {
  if (!isFiniteNumber(intensityPct)) return 0;
  const i = Math.min(100, Math.max(0, intensityPct));
  return Math.round((100 - i) * 1000) / 100000;
}

/** Validate a fixture power description. @throws ControlInputError */
export function checkFixturePower(f: unknown): Required<FixturePower> {
  if (!isPlainObject(f)) throw new ControlInputError('fixture', 'must be an object {ratedW, standbyW, count?, exponent?}');
  const { ratedW, standbyW } = f;
  const count = f.count ?? 1;
  const exponent = f.exponent ?? 1;
  if (!isFiniteNumber(ratedW) || ratedW <= 0 || ratedW > 100_000)
    throw new ControlInputError('fixture.ratedW', 'must be a number in (0, 100000]');
  if (!isFiniteNumber(standbyW) || standbyW < 0 || standbyW > ratedW) {
    throw new ControlInputError('fixture.standbyW', 'must be a number in [0, ratedW]');
  }
  if (!isFiniteNumber(count) || count < 0 || count > 100_000)
    throw new ControlInputError('fixture.count', 'must be a number in [0, 100000]');
  if (!isFiniteNumber(exponent) || exponent < 0.2 || exponent > 5)
    throw new ControlInputError('fixture.exponent', 'must be a number in [0.2, 5]');
  return { ratedW, standbyW, count, exponent };
}

/** Input power (W) of the zone's luminaires at an output percentage. @throws ControlInputError for a bad fixture */
export function powerW(intensityPct: number, fixture: FixturePower): number {
  const f = checkFixturePower(fixture);
  const i = isFiniteNumber(intensityPct) ? Math.min(100, Math.max(0, intensityPct)) : 100;
  const one = i <= 0 ? f.standbyW : f.standbyW + (f.ratedW - f.standbyW) * Math.pow(i / 100, f.exponent);
  return one * f.count;
}

/** Input power (W) at an arc power level (0..254) on a dimming curve. */
export function powerAtArcLevel(level: number, fixture: FixturePower, curve: DimmingCurve = 'logarithmic'): number {
  return powerW(arcLevelToPercent(level, curve), fixture);
}

export interface EnergySummaryOptions {
  /** Period start and end, epoch ms. */
  from: number;
  to: number;
  fixture: FixturePower;
  /** Only rows of this zone (rows without a zone are kept). */
  zone?: string;
  /** Output at `from` when no row before it says (default: the first row's, back-filled). */
  initialIntensityPct?: number;
}

export interface EnergySummary {
  from: number;
  to: number;
  hours: number;
  /** Rows used (applied, valid, in the zone, before `to`). */
  rows: number;
  /** Rows ignored as invalid. */
  skipped: number;
  energyWh: number;
  /** Same luminaires at 100 % for the whole period. */
  baselineWh: number;
  savedWh: number;
  /** savedWh / baselineWh * 100 (0 when the baseline is 0). */
  savedPct: number;
  /** Time-weighted mean output, percent. */
  meanIntensityPct: number;
  /** Time-weighted mean of energySavingEstimate. */
  meanSavingEstimate: number;
  /** True when the output at `from` was not known and the first row was back-filled. */
  assumedInitial: boolean;
}

/**
 * Time-integrated energy of one zone over [from, to) from decision or
 * telemetry rows (any order). Invalid rows are counted in `skipped`, never thrown.
 * @throws ControlInputError for bad options.
 */
export function summarizeEnergy(rows: readonly unknown[], options: EnergySummaryOptions): EnergySummary {
  const { from, to } = options;
  if (!isFiniteNumber(from) || !isFiniteNumber(to) || to < from) {
    throw new ControlInputError('from/to', 'must be finite epoch ms with from <= to');
  }
  const fixture = checkFixturePower(options.fixture);
  let skipped = 0;
  const points: { ts: number; intensity: number }[] = [];
  for (const raw of Array.isArray(rows) ? rows : []) {
    if (!isPlainObject(raw)) {
      skipped++;
      continue;
    }
    if (options.zone !== undefined && raw.zone !== undefined && raw.zone !== options.zone) continue;
    if (raw.applied === false || raw.applied === 0) continue;
    const ts = parseTimeMs(raw.ts);
    const i = raw.intensity;
    if (ts === null || !isFiniteNumber(i) || i < 0 || i > 100) {
      skipped++;
      continue;
    }
    points.push({ ts, intensity: i });
  }
  points.sort((a, b) => a.ts - b.ts);

  let level: number | null = isFiniteNumber(options.initialIntensityPct) ? Math.min(100, Math.max(0, options.initialIntensityPct)) : null;
  const inRange: { ts: number; intensity: number }[] = [];
  for (const p of points) {
    if (p.ts <= from) level = p.intensity;
    else if (p.ts < to) inRange.push(p);
  }
  let assumedInitial = false;
  if (level === null) {
    assumedInitial = true;
    level = inRange[0]?.intensity ?? 0;
  }
  const hours = (to - from) / 3_600_000;
  let energyWh = 0;
  let weightedI = 0;
  let t = from;
  for (const p of [...inRange, { ts: to, intensity: level }]) {
    const dtH = (p.ts - t) / 3_600_000;
    energyWh += powerW(level, fixture) * dtH;
    weightedI += level * dtH;
    t = p.ts;
    level = p.intensity;
  }
  const baselineWh = powerW(100, fixture) * hours;
  const meanIntensityPct = hours > 0 ? weightedI / hours : (level ?? 0);
  const savedWh = baselineWh - energyWh;
  return {
    from,
    to,
    hours,
    rows: inRange.length + (points.some((p) => p.ts <= from) ? 1 : 0),
    skipped,
    energyWh,
    baselineWh,
    savedWh,
    savedPct: baselineWh > 0 ? (savedWh / baselineWh) * 100 : 0,
    meanIntensityPct,
    meanSavingEstimate: (100 - meanIntensityPct) / 100,
    assumedInitial,
  };
}

/** summarizeEnergy over the 24 h starting at `dayStart` (epoch ms of local midnight). */
export function dailyEnergySummary(
  rows: readonly unknown[],
  dayStart: number,
  fixture: FixturePower,
  opts: { zone?: string; initialIntensityPct?: number } = {},
): EnergySummary {
  return summarizeEnergy(rows, { from: dayStart, to: dayStart + 86_400_000, fixture, ...opts });
}
