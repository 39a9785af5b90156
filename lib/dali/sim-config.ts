/**
 * The simulated bus of a `dali-bus` configured as "simulator": parsing its
 * settings and building it.
 *
 * - `parseSimGroups("0:0-3; 1:4-7", gear)`: group -> member short addresses
 *   (groups 0-15, members among the simulated gear).
 * - `parseSimSensors("10:office; 11:meeting; 12:corridor")`: several
 *   sensors, each `address:scenario` or `address:scenario:seed` (blank =
 *   none: the single `sensor`/`scenario` settings apply).
 * - `createSimulation(spec)`: a VirtualBus with DT8 gear (Tc limits
 *   1800-6500 K: physical warmest 555 mirek, coolest 153 mirek), their
 *   groups, DALI-2 sensors, the SimulatorInterface over it and a scenario
 *   driving each sensor:
 *   - office: OfficeDayScenario (daylight with clouds, working hours);
 *   - meeting: MeetingRoomScenario (less daylight, meetings of 30-90 min
 *     during office hours, empty between);
 *   - corridor: dim daylight, short visits (2-minute slots, one in four
 *     occupied by day, few at night), long vacant gaps;
 *   - static: constant illuminance (default 300 lux), nobody present.
 *   Sensors: `spec.sensors` when given and not empty (each with its own
 *   scenario and seed; a corridor sensor there is presence only: occupancy
 *   instance 0, no light instance), else the single light + occupancy
 *   sensor `spec.sensor` played by `spec.scenario` (as before).
 *   Every scenario starts at the same minute (the local time of day, or
 *   `startMinute`) and runs `speed` times faster than real time on the same
 *   clock, looping over days. The sensors are commissioned like installed
 *   ones (instances enabled, device/instance event scheme) unless
 *   `commissionSensor` is false (then they are as delivered: instances
 *   disabled, instance scheme).
 *   `stop()` stops the scenarios (the interface is closed by its owner).
 * - `createSimulatedDevices(spec)`: the same bus and scenario drivers
 *   without the interface (dali-sim serves the bus over a pty instead).
 */
import { parseShortList } from './address-spec';
import { DaliInputError, describeInput } from './input-error';
import { SimulatorInterface } from './interfaces/simulator';
import { MeetingRoomScenario } from './sim/meeting-room';
import { mulberry32, OfficeDayScenario, ScenarioDriver, type OccupancyInterval, type OfficeDayOptions } from './sim/scenario';
import type { VirtualSensor } from './sim/sensor';
import { VirtualBus, type Clock } from './sim/virtual-bus';
import { EventScheme } from './types';

export type SimScenarioName = 'office' | 'meeting' | 'corridor' | 'static';

/** The scenario names, in the order the editor and the docs list them. */
export const SIM_SCENARIO_NAMES: readonly SimScenarioName[] = ['office', 'meeting', 'corridor', 'static'];

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
    groups.set(
      group,
      [...merged].sort((a, b) => a - b),
    );
  }
  return groups;
}

/** One simulated sensor of a bus with several. */
export interface SimSensorSpec {
  /** Short address 0-63 of the control device. */
  readonly address: number;
  readonly scenario: SimScenarioName;
  /** Seed of its scenario (default: the simulation's seed + its position in the list). */
  readonly seed?: number;
  /** Has a light sensor instance (default: every scenario but corridor, whose sensor is presence only). */
  readonly light?: boolean;
}

/** Most sensors on one simulated bus (the control device short addresses). */
export const MAX_SIM_SENSORS = 64;

/**
 * Parses `10:office; 11:meeting; 12:corridor` (entries `address:scenario`
 * or `address:scenario:seed`, separated by ';'; blank = none).
 * @throws DaliInputError (code `simSensors`) naming the entry at fault.
 */
export function parseSimSensors(text: unknown): SimSensorSpec[] {
  const fail = (entry: unknown, why: string): DaliInputError =>
    new DaliInputError(
      'simSensors',
      { value: describeInput(text), entry: describeInput(entry), reason: why },
      `simulated sensors ${describeInput(text)}: entry ${describeInput(entry)} ${why} (entries address:scenario[:seed] separated by ';', e.g. 10:office; 11:meeting; 12:corridor)`,
    );
  if (typeof text !== 'string') throw fail(text, 'is not text');
  const out: SimSensorSpec[] = [];
  const seen = new Set<number>();
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\d{1,2})\s*:\s*([a-z]+)\s*(?::\s*(\d{1,10})\s*)?$/i.exec(entry);
    if (!m) throw fail(entry, 'is not address:scenario');
    const address = Number(m[1]);
    if (address > 63) throw fail(entry, 'has an address outside 0-63');
    const scenario = (m[2] ?? '').toLowerCase();
    if (!(SIM_SCENARIO_NAMES as readonly string[]).includes(scenario))
      throw fail(entry, `names an unknown scenario (use ${SIM_SCENARIO_NAMES.join(', ')})`);
    if (seen.has(address)) throw fail(entry, `repeats address ${address}`);
    seen.add(address);
    const spec: { address: number; scenario: SimScenarioName; seed?: number } = { address, scenario: scenario as SimScenarioName };
    if (m[3] !== undefined) {
      const seed = Number(m[3]);
      if (seed > 0xffffffff) throw fail(entry, 'has a seed above 4294967295');
      spec.seed = seed;
    }
    out.push(spec);
  }
  if (out.length > MAX_SIM_SENSORS) throw fail(text, `lists more than ${MAX_SIM_SENSORS} sensors`);
  return out;
}

export interface SimulationSpec {
  /** Short addresses of the DT8 gear. */
  readonly gear: readonly number[];
  /** Group -> member short addresses. */
  readonly groups: ReadonlyMap<number, readonly number[]>;
  /** Short address of the light + occupancy sensor, null = none (unused when `sensors` is not empty). */
  readonly sensor: number | null;
  /** Scenario of `sensor`. */
  readonly scenario: SimScenarioName;
  /** Several sensors, each with its own scenario (not empty: replaces `sensor`/`scenario`). */
  readonly sensors?: readonly SimSensorSpec[];
  /** Scenario time acceleration (1 = real time). */
  readonly speed: number;
  /** Scenario seed (default 1). */
  readonly seed?: number;
  /** Minute of day the scenario starts at (default: `minuteNow()`, else the local time now). */
  readonly startMinute?: number;
  /** The minute of day now when the devices are built (e.g. a demo clock's); default: the local time. */
  readonly minuteNow?: () => number;
  /** Clock of the bus, gear, sensor and scenario (default: system clock). */
  readonly clock?: Clock;
  /** Multiplier of the modelled bus time (default 1 = real DALI timing). */
  readonly timeScale?: number;
  /** Enable the sensor's instances with the device/instance event scheme (default true). */
  readonly commissionSensor?: boolean;
  /** Illuminance of the static scenario (default 300 lux). */
  readonly staticLux?: number;
}

/** A simulated sensor and the scenario playing on it. */
export interface SimulatedSensor {
  readonly sensor: VirtualSensor;
  readonly scenario: SimScenarioName;
  readonly seed: number;
  /** The scenario model (e.g. to compare the sensor with `model.isOccupied(minute)`). */
  readonly model: OfficeDayScenario;
  readonly driver: ScenarioDriver;
}

export interface SimulatedDevices {
  readonly bus: VirtualBus;
  /** The sensors in the order of the spec (the single `sensor` alone when `sensors` is empty). */
  readonly sensors: readonly SimulatedSensor[];
  /** Minute of day every scenario starts at. */
  readonly startMinute: number;
  /** What the DaliBus may assume (complete inventory: the planner may use broadcast and groups). */
  readonly inventory: { shortAddresses: number[]; groups: Record<number, number[]>; complete: true };
  /** Starts every scenario driver (idempotent). */
  start(): void;
  /** Stops every scenario driver (idempotent). */
  stop(): void;
}

export interface Simulation extends SimulatedDevices {
  readonly iface: SimulatorInterface;
  /** The first sensor (the single sensor of a one-sensor spec), null = none. */
  readonly sensor: VirtualSensor | null;
}

function localMinuteNow(): number {
  const d = new Date();
  return d.getHours() * 60 + d.getMinutes() + d.getSeconds() / 60;
}

/** The scenario model for a name and seed. */
export function createScenario(name: SimScenarioName, seed: number, staticLux = 300): OfficeDayScenario {
  switch (name) {
    case 'meeting':
      return new MeetingRoomScenario({ seed });
    case 'corridor':
      return new CorridorScenario({ seed });
    case 'static':
      return new StaticScenario(staticLux);
    default:
      return new OfficeDayScenario({ seed });
  }
}

export function createSimulatedDevices(spec: SimulationSpec): SimulatedDevices {
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
  const baseSeed = spec.seed ?? 1;
  const several = spec.sensors !== undefined && spec.sensors.length > 0;
  const wanted: { address: number; scenario: SimScenarioName; seed: number; light: boolean }[] = several
    ? (spec.sensors ?? []).map((s, i) => ({
        address: s.address,
        scenario: s.scenario,
        seed: s.seed ?? baseSeed + i,
        light: s.light ?? s.scenario !== 'corridor',
      }))
    : spec.sensor === null
      ? []
      : [{ address: spec.sensor, scenario: spec.scenario, seed: baseSeed, light: true }];
  const speed = Number.isFinite(spec.speed) && spec.speed > 0 ? spec.speed : 1;
  const startMinute = spec.startMinute ?? (spec.minuteNow ? spec.minuteNow() : localMinuteNow());
  const sensors: SimulatedSensor[] = wanted.map((w) => {
    const sensor = bus.addSensor({
      shortAddress: w.address,
      lightSensor: w.light,
      ...(commission ? { instancesEnabled: true, eventScheme: EventScheme.DeviceInstance } : {}),
    });
    const model = createScenario(w.scenario, w.seed, spec.staticLux ?? 300);
    const driver = new ScenarioDriver(model, sensor, {
      timeAcceleration: speed,
      tickMs: speed >= 60 ? 250 : 1000,
      startMinute,
      loop: true,
      ...(spec.clock ? { clock: spec.clock } : {}),
    });
    return { sensor, scenario: w.scenario, seed: w.seed, model, driver };
  });
  const groups: Record<number, number[]> = {};
  for (const [g, m] of spec.groups) groups[g] = [...m];
  return {
    bus,
    sensors,
    startMinute,
    inventory: { shortAddresses: [...spec.gear], groups, complete: true },
    start: () => {
      for (const s of sensors) s.driver.start();
    },
    stop: () => {
      for (const s of sensors) s.driver.stop();
    },
  };
}

export function createSimulation(spec: SimulationSpec): Simulation {
  const devices = createSimulatedDevices(spec);
  const iface = new SimulatorInterface(devices.bus, spec.timeScale !== undefined ? { timeScale: spec.timeScale } : {});
  return { ...devices, iface, sensor: devices.sensors[0]?.sensor ?? null };
}
