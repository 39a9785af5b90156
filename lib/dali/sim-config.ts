/**
 * The simulated bus of a `dali-bus` configured as "simulator": parsing its
 * settings and building it.
 *
 * - `parseSimGroups("0:0-3; 1:4-7", gear)`: group -> member short addresses
 *   (groups 0-15, members among the simulated gear).
 * - `createSimulation(spec)`: a VirtualBus with DT8 gear (Tc limits
 *   1800-6500 K: physical warmest 555 mirek, coolest 153 mirek), their
 *   groups, an optional DALI-2 light + occupancy sensor, the
 *   SimulatorInterface over it and a scenario driving the sensor:
 *   - office: OfficeDayScenario (daylight with clouds, working hours);
 *   - corridor: dim daylight, short visits (2-minute slots, one in four
 *     occupied by day, few at night), long vacant gaps;
 *   - static: constant illuminance (default 300 lux), nobody present.
 *   The scenario starts at the local time of day (or `startMinute`) and
 *   runs `speed` times faster than real time, looping over days.
 *   The sensor is commissioned like an installed one (instances enabled,
 *   device/instance event scheme) unless `commissionSensor` is false (then
 *   it is as delivered: instances disabled, instance scheme).
 *   `stop()` stops the scenario (the interface is closed by its owner).
 */
import { parseShortList } from './address-spec';
import { DaliInputError, describeInput } from './input-error';
import { SimulatorInterface } from './interfaces/simulator';
import { mulberry32, OfficeDayScenario, ScenarioDriver, type OccupancyInterval, type OfficeDayOptions } from './sim/scenario';
import type { VirtualSensor } from './sim/sensor';
import { VirtualBus, type Clock } from './sim/virtual-bus';
import { EventScheme } from './types';

export type SimScenarioName = 'office' | 'corridor' | 'static';

/**
 * The Python service's USE_MOCK_DALI: "true", "1", "yes" or "on" (any case)
 * mean simulate; "false", "0", "no", "off" or blank mean use the configured
 * interface. Anything else is reported as invalid (null) and not used.
 */
export function parseUseMockDali(value: string | undefined): boolean | null {
  const v = (value ?? '').trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['', 'false', '0', 'no', 'off'].includes(v)) return false;
  return null;
}

/** Physical Tc limits of the simulated gear: 6500 K and 1800 K. */
export const SIM_COOLEST_MIREK = 153;
export const SIM_WARMEST_MIREK = 555;

const MINUTES_PER_DAY = 1440;

function dayMinute(m: number): number {
  return ((m % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

/** Corridor: dim daylight, short visits in 2-minute slots (p = 0.25 from 7:00 to 20:00, 0.03 at night). */
export class CorridorScenario extends OfficeDayScenario {
  private readonly visitSeed: number;

  constructor(options: OfficeDayOptions = {}) {
    super({ peakLux: 250, ...options });
    this.visitSeed = Math.trunc(options.seed ?? 1);
  }

  override isOccupied(minuteOfDay: number): boolean {
    const m = dayMinute(minuteOfDay);
    const hour = m / 60;
    const p = hour >= 7 && hour < 20 ? 0.25 : 0.03;
    return mulberry32((this.visitSeed * 104729) ^ Math.floor(m / 2))() < p;
  }

  override movement(minuteOfDay: number): boolean {
    return this.isOccupied(minuteOfDay);
  }

  override occupancyIntervals(): OccupancyInterval[] {
    const out: OccupancyInterval[] = [];
    for (let m = 0; m < MINUTES_PER_DAY; m += 2) {
      if (!this.isOccupied(m)) continue;
      const last = out[out.length - 1];
      if (last && last.endMin === m) out[out.length - 1] = { startMin: last.startMin, endMin: m + 2 };
      else out.push({ startMin: m, endMin: m + 2 });
    }
    return out;
  }
}

/** Static: constant illuminance, nobody present, no clouds. */
export class StaticScenario extends OfficeDayScenario {
  constructor(private readonly lux = 300) {
    super({ breaks: 0 });
  }

  override cloudCover(): number {
    return 0;
  }

  override daylightLux(): number {
    return this.lux;
  }

  override isOccupied(): boolean {
    return false;
  }

  override movement(): boolean {
    return false;
  }

  override occupancyIntervals(): OccupancyInterval[] {
    return [];
  }
}

/** Parses `0:0-3; 1:4-7` (blank = no groups). @throws DaliInputError (code `simGroups`). */
export function parseSimGroups(text: unknown, gear: readonly number[]): Map<number, number[]> {
  const fail = (): DaliInputError =>
    new DaliInputError(
      'simGroups',
      { value: describeInput(text) },
      `simulated groups ${describeInput(text)} are not entries group:addresses separated by ';' (groups 0-15, addresses among the simulated gear)`,
    );
  if (typeof text !== 'string') throw fail();
  const groups = new Map<number, number[]>();
  if (text.trim() === '') return groups;
  const known = new Set(gear);
  for (const entry of text.split(';')) {
    if (entry.trim() === '') continue;
    const m = /^\s*(\d{1,2})\s*:(.*)$/.exec(entry);
    if (!m) throw fail();
    const group = Number(m[1]);
    if (group > 15) throw fail();
    let members: number[];
    try {
      members = parseShortList(m[2] ?? '');
    } catch {
      throw fail();
    }
    if (members.some((a) => !known.has(a))) throw fail();
    const merged = new Set([...(groups.get(group) ?? []), ...members]);
    groups.set(group, [...merged].sort((a, b) => a - b));
  }
  return groups;
}

export interface SimulationSpec {
  /** Short addresses of the DT8 gear. */
  readonly gear: readonly number[];
  /** Group -> member short addresses. */
  readonly groups: ReadonlyMap<number, readonly number[]>;
  /** Short address of the light + occupancy sensor, null = none. */
  readonly sensor: number | null;
  readonly scenario: SimScenarioName;
  /** Scenario time acceleration (1 = real time). */
  readonly speed: number;
  /** Scenario seed (default 1). */
  readonly seed?: number;
  /** Minute of day the scenario starts at (default: the local time now). */
  readonly startMinute?: number;
  /** Clock of the bus, gear, sensor and scenario (default: system clock). */
  readonly clock?: Clock;
  /** Multiplier of the modelled bus time (default 1 = real DALI timing). */
  readonly timeScale?: number;
  /** Enable the sensor's instances with the device/instance event scheme (default true). */
  readonly commissionSensor?: boolean;
  /** Illuminance of the static scenario (default 300 lux). */
  readonly staticLux?: number;
}

export interface Simulation {
  readonly bus: VirtualBus;
  readonly iface: SimulatorInterface;
  readonly sensor: VirtualSensor | null;
  /** What the DaliBus may assume (complete inventory: the planner may use broadcast and groups). */
  readonly inventory: { shortAddresses: number[]; groups: Record<number, number[]>; complete: true };
  /** Starts the scenario driver (idempotent). */
  start(): void;
  /** Stops the scenario driver (idempotent). */
  stop(): void;
}

function localMinuteNow(): number {
  const d = new Date();
  return d.getHours() * 60 + d.getMinutes() + d.getSeconds() / 60;
}

export function createSimulation(spec: SimulationSpec): Simulation {
  const bus = new VirtualBus(spec.clock ? { clock: spec.clock } : {});
  const groupsOf = (short: number): number[] => [...spec.groups].filter(([, m]) => m.includes(short)).map(([g]) => g);
  for (const short of spec.gear) {
    bus.addGear({
      shortAddress: short,
      groups: groupsOf(short),
      deviceTypes: [8],
      physicalCoolestMirek: SIM_COOLEST_MIREK,
      physicalWarmestMirek: SIM_WARMEST_MIREK,
    });
  }
  const commission = spec.commissionSensor ?? true;
  const sensor =
    spec.sensor === null
      ? null
      : bus.addSensor({
          shortAddress: spec.sensor,
          ...(commission ? { instancesEnabled: true, eventScheme: EventScheme.DeviceInstance } : {}),
        });
  const iface = new SimulatorInterface(bus, spec.timeScale !== undefined ? { timeScale: spec.timeScale } : {});
  const seed = spec.seed ?? 1;
  const scenario =
    spec.scenario === 'corridor'
      ? new CorridorScenario({ seed })
      : spec.scenario === 'static'
        ? new StaticScenario(spec.staticLux ?? 300)
        : new OfficeDayScenario({ seed });
  const speed = Number.isFinite(spec.speed) && spec.speed > 0 ? spec.speed : 1;
  const driver =
    sensor === null
      ? null
      : new ScenarioDriver(scenario, sensor, {
          timeAcceleration: speed,
          tickMs: speed >= 60 ? 250 : 1000,
          startMinute: spec.startMinute ?? localMinuteNow(),
          loop: true,
          ...(spec.clock ? { clock: spec.clock } : {}),
        });
  const groups: Record<number, number[]> = {};
  for (const [g, m] of spec.groups) groups[g] = [...m];
  return {
    bus,
    iface,
    sensor,
    inventory: { shortAddresses: [...spec.gear], groups, complete: true },
    start: () => driver?.start(),
    stop: () => driver?.stop(),
  };
}
