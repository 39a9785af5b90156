/**
 * The demo building: one simulated DALI bus with three zones that live
 * differently, shared by the dali-bus "building" preset, dali-sim
 * --building, the tests and the benches.
 *
 * - office-1: open office, DT8 gear 0-3 in group 0, light + presence sensor
 *   10 (OfficeDayScenario);
 * - meeting-1: meeting room, DT8 gear 4-5 in group 1, light + presence
 *   sensor 11 (MeetingRoomScenario: meetings that start and end);
 * - corridor-1: corridor, DT8 gear 6-7 in group 2, presence-only sensor 12
 *   (CorridorScenario: short visits).
 *
 * DEMO_BUILDING holds the simulator settings (the text forms of the
 * dali-bus node); DEMO_BUILDING_ZONES the zone map in the array form
 * ZoneMap.parse reads (lib/zones/zone-map.ts), with per-zone targets
 * (EN 12464-1: offices and meeting rooms 500 lx, corridors 100 lx) and
 * fixtures (rated W of one luminaire, how many).
 */
import { parseSimGroups, parseSimSensors, type SimulationSpec } from '../sim-config';
import { parseShortList } from '../address-spec';

/** Simulator settings of the demo building (dali-bus simGear / simGroups / simSensors). */
export const DEMO_BUILDING = Object.freeze({
  gear: '0-7',
  groups: '0:0-3; 1:4-5; 2:6-7',
  sensors: '10:office; 11:meeting; 12:corridor',
} as const);

/** One zone of the demo building, in the array form of the zone map. */
export interface DemoZoneEntry {
  readonly zone: string;
  readonly label: string;
  readonly gear: string;
  readonly sensors: readonly string[];
  readonly targetLux: number;
  readonly fixtureWatts: number;
  readonly fixtureCount: number;
}

/** The zone map of the demo building (pass it to ZoneMap.parse, or JSON.stringify it into a flow). */
export const DEMO_BUILDING_ZONES: readonly DemoZoneEntry[] = Object.freeze(
  [
    { zone: 'office-1', label: 'Open office', gear: 'G0', sensors: ['10'], targetLux: 500, fixtureWatts: 36, fixtureCount: 4 },
    { zone: 'meeting-1', label: 'Meeting room', gear: 'G1', sensors: ['11'], targetLux: 500, fixtureWatts: 36, fixtureCount: 2 },
    { zone: 'corridor-1', label: 'Corridor', gear: 'G2', sensors: ['12'], targetLux: 100, fixtureWatts: 20, fixtureCount: 2 },
  ].map((z) => Object.freeze({ ...z, sensors: Object.freeze([...z.sensors]) })),
);

/** The simulation of the demo building (gear, groups and sensors of DEMO_BUILDING; the rest from `options`). */
export function demoBuildingSpec(
  options: Omit<SimulationSpec, 'gear' | 'groups' | 'sensor' | 'scenario' | 'sensors'> & { readonly speed: number },
): SimulationSpec {
  const gear = parseShortList(DEMO_BUILDING.gear);
  return {
    ...options,
    gear,
    groups: parseSimGroups(DEMO_BUILDING.groups, gear),
    sensor: null,
    scenario: 'office',
    sensors: parseSimSensors(DEMO_BUILDING.sensors),
  };
}
