/**
 * From DALI-2 sensor events to sensor readings.
 *
 * - Lux calibration: the 10-bit illuminance value of a light sensor (part
 *   304) maps to lux in a device-specific way. Either `lux = raw * scale +
 *   offset`, or a lookup table of measured [raw, lux] pairs (raw rising),
 *   interpolated linearly between points and extrapolated from the first or
 *   last segment outside them. The result is never below 0 and is rounded
 *   to 0.1 lux.
 * - `interpretSensorEvent`: which of a sensor's events concern it. Events
 *   under the device scheme carry the short address and the instance type;
 *   under the device/instance scheme the short address and the instance
 *   number, whose type must be known (QUERY INSTANCE TYPE). Other schemes
 *   carry no short address and are not attributed to a sensor.
 * - `StaleTracker`: 'stale' when nothing was seen for `staleAfterMs`,
 *   'recovered' on the first sign of life after that.
 */
import { EventEmitter } from 'node:events';
import type { DecodedEvent } from './codec';
import { DaliInputError, describeInput } from './input-error';
import { systemClock, type Clock, type TimerHandle } from './sim/virtual-bus';
import { EventScheme, InstanceType } from './types';

export type LuxTable = ReadonlyArray<readonly [number, number]>;

export type LuxCalibration =
  | { readonly kind: 'linear'; readonly scale: number; readonly offset: number }
  | { readonly kind: 'table'; readonly points: LuxTable };

/** A JSON lux table (blank = null). @throws DaliInputError (code `luxTable`). */
export function parseLuxTable(text: unknown): LuxTable | null {
  const fail = (): DaliInputError =>
    new DaliInputError(
      'luxTable',
      { value: describeInput(text) },
      'the lux table is not a list of at least two [raw, lux] number pairs with raw values rising',
    );
  if (text === undefined || text === null) return null;
  if (typeof text !== 'string') throw fail();
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail();
  }
  if (!Array.isArray(value) || value.length < 2) throw fail();
  const points: Array<[number, number]> = [];
  for (const p of value as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2) throw fail();
    const [raw, lux] = p as unknown[];
    if (typeof raw !== 'number' || typeof lux !== 'number' || !Number.isFinite(raw) || !Number.isFinite(lux)) throw fail();
    const last = points[points.length - 1];
    if (last && raw <= last[0]) throw fail();
    points.push([raw, lux]);
  }
  return points;
}

function interpolate(points: LuxTable, raw: number): number {
  let i = 1;
  while (i < points.length - 1 && raw > (points[i] as readonly [number, number])[0]) i++;
  const [x0, y0] = points[i - 1] as readonly [number, number];
  const [x1, y1] = points[i] as readonly [number, number];
  return y0 + ((raw - x0) * (y1 - y0)) / (x1 - x0);
}

/** Lux of a raw illuminance value (see the module comment). Never throws; NaN input gives 0. */
export function calibrateLux(raw: number, calibration: LuxCalibration): number {
  if (!Number.isFinite(raw)) return 0;
  let lux: number;
  if (calibration.kind === 'table' && calibration.points.length >= 2) lux = interpolate(calibration.points, raw);
  else if (calibration.kind === 'linear') lux = raw * calibration.scale + calibration.offset;
  else lux = raw;
  if (!Number.isFinite(lux) || lux < 0) return 0;
  return Math.round(lux * 10) / 10;
}

/** What one event says, once attributed to the sensor. */
export interface SensorObservation {
  readonly instanceType: number;
  readonly instanceNumber?: number;
  /** Raw illuminance (instance type 4). */
  readonly illuminanceRaw?: number;
  /** Occupancy (instance type 3). */
  readonly occupied?: boolean;
  readonly movement?: boolean;
  readonly repeat?: boolean;
}

/**
 * An event of the sensor at `shortAddress`: the observation, 'unknownInstance'
 * (device/instance scheme, the instance's type is not in `instanceTypes`),
 * or null (another device, or a scheme without short address).
 */
export function interpretSensorEvent(
  ev: DecodedEvent,
  shortAddress: number,
  instanceTypes: ReadonlyMap<number, number>,
): SensorObservation | 'unknownInstance' | null {
  if (ev.shortAddress !== shortAddress) return null;
  let instanceType: number | undefined;
  if (ev.scheme === EventScheme.Device) instanceType = ev.instanceType;
  else if (ev.scheme === EventScheme.DeviceInstance) {
    instanceType = ev.instanceNumber !== undefined ? instanceTypes.get(ev.instanceNumber) : undefined;
    if (instanceType === undefined) return 'unknownInstance';
  } else return null;
  if (instanceType === undefined) return null;
  const base = { instanceType, ...(ev.instanceNumber !== undefined ? { instanceNumber: ev.instanceNumber } : {}) };
  if (instanceType === InstanceType.LightSensor) return { ...base, illuminanceRaw: ev.info & 0x3ff };
  if (instanceType === InstanceType.OccupancySensor && ev.info <= 0x0f) {
    return { ...base, occupied: (ev.info & 0x02) !== 0, movement: (ev.info & 0x01) !== 0, repeat: (ev.info & 0x04) !== 0 };
  }
  return base;
}

export interface StaleEvent {
  /** Clock time of the last sign of life, null when nothing was seen since start. */
  readonly lastSeen: number | null;
  /** How long nothing was seen, ms. */
  readonly silentMs: number;
}

/** Events: 'stale' (StaleEvent), 'recovered' (StaleEvent). */
export class StaleTracker extends EventEmitter {
  private timer: TimerHandle | null = null;
  private lastSeen: number | null = null;
  private since = 0;
  private isStale = false;
  private running = false;

  constructor(
    private readonly staleAfterMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    super();
  }

  get stale(): boolean {
    return this.isStale;
  }

  /** Starts watching: stale when nothing is seen within staleAfterMs from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.since = this.clock.now();
    this.arm(this.staleAfterMs);
  }

  /** A sign of life. */
  seen(): void {
    const now = this.clock.now();
    const prev = this.lastSeen ?? this.since;
    this.lastSeen = now;
    if (!this.running) return;
    if (this.isStale) {
      this.isStale = false;
      this.emit('recovered', { lastSeen: prev, silentMs: Math.max(0, now - prev) } satisfies StaleEvent);
    }
    this.arm(this.staleAfterMs);
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(delayMs: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimer(delayMs, () => {
      this.timer = null;
      if (!this.running || this.isStale) return;
      this.isStale = true;
      const now = this.clock.now();
      this.emit('stale', { lastSeen: this.lastSeen, silentMs: Math.max(0, now - (this.lastSeen ?? this.since)) } satisfies StaleEvent);
    });
  }
}
