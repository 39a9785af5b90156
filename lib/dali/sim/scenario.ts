/**
 * Daylight + occupancy scenario of an office day, driving virtual sensors.
 *
 * OfficeDayScenario is deterministic for a seed (mulberry32 PRNG):
 * - daylight at the sensor: 0 before sunrise and after sunset, in between
 *   peakLux * sin(pi * (t - sunrise) / (sunset - sunrise))^1.3, attenuated by
 *   clouds (attenuation 1 - 0.8 * cover);
 * - cloud cover 0..1 per minute: a mean-reverting random walk around
 *   `cloudiness`;
 * - occupancy: arrival and departure around the given hours (+-20 min), a
 *   lunch break, a few short breaks; movement while occupied on about 60 %
 *   of half-minute slots.
 *
 * ScenarioDriver plays a scenario on a Clock, optionally time-accelerated
 * (timeAcceleration 60 = one simulated hour per real minute), updating each
 * sensor's lux and presence every `tickMs` of clock time. stop() clears its
 * only timer.
 */

import { EventEmitter } from 'node:events';
import type { VirtualSensor } from './sensor';
import { systemClock, type Clock, type TimerHandle } from './virtual-bus';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface OfficeDayOptions {
  /** PRNG seed (default 1). */
  readonly seed?: number;
  /** Hour of sunrise, local (default 6.5). */
  readonly sunriseHour?: number;
  /** Hour of sunset, local (default 19.5). */
  readonly sunsetHour?: number;
  /** Illuminance at the sensor at solar noon under a clear sky (default 900 lux). */
  readonly peakLux?: number;
  /** Mean cloud cover 0..1 (default 0.4). */
  readonly cloudiness?: number;
  /** Mean arrival hour (default 8). */
  readonly arrivalHour?: number;
  /** Mean departure hour (default 17.5). */
  readonly departureHour?: number;
  /** Mean lunch start hour (default 12) and duration in minutes (default 45). */
  readonly lunchHour?: number;
  readonly lunchMinutes?: number;
  /** Number of short breaks (default 2). */
  readonly breaks?: number;
}

/** An occupied stretch of the day, in minutes since midnight. */
export interface OccupancyInterval {
  readonly startMin: number;
  readonly endMin: number;
}

export interface ScenarioSample {
  readonly minuteOfDay: number;
  readonly lux: number;
  readonly cloudCover: number;
  readonly occupied: boolean;
  readonly movement: boolean;
}

const MINUTES_PER_DAY = 1440;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

export class OfficeDayScenario {
  private readonly cloud: Float64Array;
  private readonly intervals: OccupancyInterval[];
  private readonly seed: number;
  private readonly sunriseMin: number;
  private readonly sunsetMin: number;
  private readonly peakLux: number;

  constructor(options: OfficeDayOptions = {}) {
    this.seed = Math.trunc(options.seed ?? 1);
    this.sunriseMin = clamp(options.sunriseHour ?? 6.5, 0, 24) * 60;
    this.sunsetMin = clamp(options.sunsetHour ?? 19.5, 0, 24) * 60;
    this.peakLux = Math.max(0, options.peakLux ?? 900);
    const rnd = mulberry32(this.seed);

    // Clouds: mean-reverting random walk, one value per minute.
    const mean = clamp(options.cloudiness ?? 0.4, 0, 1);
    this.cloud = new Float64Array(MINUTES_PER_DAY);
    let c = mean;
    for (let i = 0; i < MINUTES_PER_DAY; i++) {
      c = clamp(c + 0.05 * (mean - c) + (rnd() - 0.5) * 0.12, 0, 1);
      this.cloud[i] = c;
    }

    // Occupancy: arrival .. departure minus lunch and short breaks.
    const jitter = (range: number): number => (rnd() + rnd() - 1) * range;
    const arrival = clamp((options.arrivalHour ?? 8) * 60 + jitter(20), 0, MINUTES_PER_DAY);
    const departure = clamp((options.departureHour ?? 17.5) * 60 + jitter(20), arrival, MINUTES_PER_DAY);
    const away: OccupancyInterval[] = [];
    const lunchStart = (options.lunchHour ?? 12) * 60 + jitter(20);
    const lunchLength = Math.max(0, (options.lunchMinutes ?? 45) + jitter(10));
    away.push({ startMin: lunchStart, endMin: lunchStart + lunchLength });
    const breaks = Math.max(0, Math.trunc(options.breaks ?? 2));
    for (let i = 0; i < breaks; i++) {
      const start = arrival + rnd() * Math.max(0, departure - arrival - 20);
      away.push({ startMin: start, endMin: start + 8 + rnd() * 12 });
    }
    away.sort((a, b) => a.startMin - b.startMin);
    const out: OccupancyInterval[] = [];
    let cursor = arrival;
    for (const a of away) {
      const s = clamp(a.startMin, arrival, departure);
      const e = clamp(a.endMin, arrival, departure);
      if (s > cursor) out.push({ startMin: cursor, endMin: s });
      cursor = Math.max(cursor, e);
    }
    if (departure > cursor) out.push({ startMin: cursor, endMin: departure });
    this.intervals = out.filter((i) => i.endMin - i.startMin >= 1);
  }

  /** The occupied intervals of the day. */
  occupancyIntervals(): OccupancyInterval[] {
    return this.intervals.map((i) => ({ ...i }));
  }

  /** Cloud cover 0..1 at a minute of the day. */
  cloudCover(minuteOfDay: number): number {
    const m = ((Math.floor(minuteOfDay) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
    return this.cloud[m] as number;
  }

  /** Clear-sky daylight at the sensor (lux) at a minute of the day. */
  clearSkyLux(minuteOfDay: number): number {
    const m = ((minuteOfDay % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
    if (m <= this.sunriseMin || m >= this.sunsetMin || this.sunsetMin <= this.sunriseMin) return 0;
    const f = Math.sin((Math.PI * (m - this.sunriseMin)) / (this.sunsetMin - this.sunriseMin));
    return this.peakLux * Math.pow(f, 1.3);
  }

  /** Daylight at the sensor (lux) with clouds. */
  daylightLux(minuteOfDay: number): number {
    return this.clearSkyLux(minuteOfDay) * (1 - 0.8 * this.cloudCover(minuteOfDay));
  }

  isOccupied(minuteOfDay: number): boolean {
    const m = ((minuteOfDay % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
    return this.intervals.some((i) => m >= i.startMin && m < i.endMin);
  }

  /** Movement in the half-minute slot of this minute (only while occupied). */
  movement(minuteOfDay: number): boolean {
    if (!this.isOccupied(minuteOfDay)) return false;
    const slot = Math.floor(minuteOfDay * 2);
    return mulberry32((this.seed * 7919) ^ slot)() < 0.6;
  }

  sample(minuteOfDay: number): ScenarioSample {
    return {
      minuteOfDay,
      lux: this.daylightLux(minuteOfDay),
      cloudCover: this.cloudCover(minuteOfDay),
      occupied: this.isOccupied(minuteOfDay),
      movement: this.movement(minuteOfDay),
    };
  }
}

export interface ScenarioDriverOptions {
  /** Simulated time per clock time (default 60: one simulated minute per second). */
  readonly timeAcceleration?: number;
  /** Clock time between sensor updates (default 1000 ms). */
  readonly tickMs?: number;
  /** Minute of day to start at (default 0). */
  readonly startMinute?: number;
  /** Start again at midnight after the day ends (default false: emit 'end' and stop). */
  readonly loop?: boolean;
  readonly clock?: Clock;
}

/**
 * Plays a scenario on sensors. Events: 'tick' (ScenarioSample) after each
 * update, 'end' when the day is over (without loop).
 */
export class ScenarioDriver extends EventEmitter {
  private readonly sensors: VirtualSensor[];
  private readonly clock: Clock;
  private readonly acceleration: number;
  private readonly tickMs: number;
  private readonly startMinute: number;
  private readonly loop: boolean;
  private timer: TimerHandle | null = null;
  private startedAt = 0;
  private running = false;

  constructor(
    private readonly scenario: OfficeDayScenario,
    sensors: VirtualSensor | readonly VirtualSensor[],
    options: ScenarioDriverOptions = {},
  ) {
    super();
    this.sensors = Array.isArray(sensors) ? [...(sensors as readonly VirtualSensor[])] : [sensors as VirtualSensor];
    this.clock = options.clock ?? systemClock;
    this.acceleration = options.timeAcceleration !== undefined && options.timeAcceleration > 0 ? options.timeAcceleration : 60;
    this.tickMs = options.tickMs !== undefined && options.tickMs > 0 ? options.tickMs : 1000;
    this.startMinute = clamp(options.startMinute ?? 0, 0, MINUTES_PER_DAY);
    this.loop = options.loop ?? false;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Simulated minute of day now. */
  get minuteOfDay(): number {
    if (!this.running) return this.startMinute;
    const elapsedMin = ((this.clock.now() - this.startedAt) * this.acceleration) / 60000;
    const m = this.startMinute + elapsedMin;
    return this.loop ? m % MINUTES_PER_DAY : Math.min(m, MINUTES_PER_DAY);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.clock.now();
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Applies the scenario at the current simulated minute to the sensors. */
  private tick(): void {
    if (!this.running) return;
    const minute = this.minuteOfDay;
    const s = this.scenario.sample(minute);
    for (const sensor of this.sensors) {
      sensor.setLux(s.lux);
      sensor.setOccupancy(s.occupied, s.movement);
    }
    this.emit('tick', s);
    if (!this.loop && minute >= MINUTES_PER_DAY) {
      this.stop();
      this.emit('end');
      return;
    }
    this.timer = this.clock.setTimer(this.tickMs, () => this.tick());
  }
}
