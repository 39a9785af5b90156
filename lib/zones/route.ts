/**
 * Routing a zone's setpoint to its gear, and nowhere else.
 *
 * `zoneRoute(map, zone, members)` gives the addresses of the zone's gear
 * (its groups, then its short addresses) and the gear it leaves out.
 * It refuses (ZoneRoutingError):
 * - a zone that is not in the map (never a default address);
 * - with `requireKnown` (the default when `members` is given), a zone with
 *   groups while the membership of any group of the map is not known
 *   (code `membershipUnknown`): an unchecked group send is never made. The
 *   caller holds the setpoint until the bus has learned the groups
 *   (./zone-sender);
 * - a zone none of whose gear is its own (code `sharedGear`).
 * A group of the zone whose membership, as the bus knows it, contains gear
 * that another zone reaches too (a luminaire of room B added to room A's
 * group at commissioning) is not sent to as a group: its other members are
 * sent to by short address, and the shared gear is left out (`excluded`):
 * no zone drives a luminaire that two zones reach until the groups or the
 * map are fixed. With `answered` (the short addresses that answered the
 * scan), a short address another zone lists that did not answer may sit in
 * any group (its answer was lost, or it was off): then no group of the zone
 * is sent to as a group, only its known members by short address. A zone's
 * own short addresses are always its own (the map lets no two zones list one).
 *
 * `zoneAddresses(...)` is the same, addresses only. `confirmedOwnShorts`
 * gives, while the groups are still being learned, the gear already known
 * to be the zone's alone.
 *
 * `diagnoseZones(output, plans)` gives one diagnostics report per zone.
 *
 * `applyToZone(output, setpoint, addresses)` sends the setpoint to each
 * address in turn and merges the results into one: addresses joined,
 * frames and bus time added, read-back concatenated, superseded when any
 * part was.
 */
import type { Setpoint } from '../contracts';
import type { ApplyOptions, DiagnosticsReport, Dt8Output, Dt8Result } from '../dali/dt8-output';
import { formatGearAddress } from '../dali/address-spec';
import type { GearAddress } from '../dali/types';
import type { ZoneMap } from './zone-map';

export class ZoneRoutingError extends Error {
  override readonly name = 'ZoneRoutingError';
  constructor(
    readonly code: 'unknownZone' | 'sharedGear' | 'membershipUnknown' | 'zoneMaps',
    message: string,
  ) {
    super(message);
  }
}

/** Group membership as the bus knows it: the shorts and whether that list is complete. */
export type GroupMembers = (group: number) => { shorts: readonly number[]; complete: boolean };

/** Gear a zone's groups reach that another zone reaches too: left out of the zone's sends. */
export interface ExcludedGear {
  /** Short address. */
  readonly short: number;
  /** The zone's group that reaches it. */
  readonly group: number;
  /** The other zones that reach it. */
  readonly zones: readonly string[];
}

export interface ZoneRoute {
  readonly addresses: GearAddress[];
  readonly excluded: ExcludedGear[];
}

interface RouteOptions {
  /** Refuse a zone with groups while any group of the map is not known (default true). */
  readonly requireKnown?: boolean;
  /** Short addresses that answered the membership scan: another zone's gear missing from it may be in any group. */
  readonly answered?: ReadonlySet<number>;
}

function quote(zone: string): string {
  return JSON.stringify(zone.length > 64 ? `${zone.slice(0, 64)}...` : zone);
}

/**
 * Short addresses the map lists that did not answer the membership scan
 * (missing, unpowered or broken gear), with the zone that lists each: their
 * groups are unknown, so any group may hold them.
 */
export function silentListedGear(map: ZoneMap, answered: ReadonlySet<number>): Array<{ short: number; zone: string }> {
  return map.specs().flatMap((spec) => spec.gear.shorts.filter((a) => !answered.has(a)).map((short) => ({ short, zone: spec.zone })));
}

export function zoneRoute(map: ZoneMap, zone: string, members?: GroupMembers, options: RouteOptions = {}): ZoneRoute {
  const spec = map.get(zone);
  if (!spec) throw new ZoneRoutingError('unknownZone', `unknown zone ${quote(zone)}: not in the zone map, nothing was sent`);
  if (!members || spec.gear.groups.length === 0) return { addresses: map.addressesOf(zone), excluded: [] };
  if (options.requireKnown !== false) {
    // Gear of this zone's groups may sit in any other zone's group too: every group of the map must be known.
    for (const other of map.specs()) {
      const unknown = other.gear.groups.find((g) => !members(g).complete);
      if (unknown !== undefined)
        throw new ZoneRoutingError(
          'membershipUnknown',
          `the members of group G${unknown} are not known yet: zone ${quote(zone)} is not sent to its group until the bus has learned them`,
        );
    }
  }
  // Only membership the bus knows for sure: an unknown group (diagnostics only) is no evidence of sharing.
  const known = new Map<number, readonly number[]>();
  for (let g = 0; g <= 15; g++) {
    const m = members(g);
    if (m.complete) known.set(g, m.shorts);
  }
  const reachedBy = new Map<number, string[]>();
  for (const other of map.specs()) {
    if (other.zone === zone) continue;
    for (const a of map.shortsOf(other.zone, known)) reachedBy.set(a, [...(reachedBy.get(a) ?? []), other.zone]);
  }
  // Gear another zone lists that did not answer the scan: its groups are unknown, any group of ours may hold it.
  const answered = options.answered;
  const unaccounted = answered !== undefined && silentListedGear(map, answered).some((g) => g.zone !== zone);
  const addresses: GearAddress[] = [];
  const viaShort = new Set<number>();
  const excluded: ExcludedGear[] = [];
  for (const group of spec.gear.groups) {
    const m = known.get(group);
    const shared = m?.filter((a) => reachedBy.has(a)) ?? [];
    if (!m || (shared.length === 0 && !unaccounted)) {
      addresses.push({ kind: 'group', group });
      continue;
    }
    for (const a of m) {
      const zones = reachedBy.get(a);
      if (zones) excluded.push({ short: a, group, zones });
      else viaShort.add(a);
    }
  }
  for (const a of spec.gear.shorts) viaShort.add(a);
  for (const a of [...viaShort].sort((x, y) => x - y)) addresses.push({ kind: 'short', address: a });
  if (addresses.length === 0) {
    const first = excluded[0];
    throw new ZoneRoutingError(
      'sharedGear',
      `every luminaire of zone ${quote(zone)} is reached by another zone too${first ? ` (group G${first.group} holds A${first.short}, gear of zone ${quote(first.zones[0] ?? '')})` : ''}: nothing was sent (fix the group or the zone map)`,
    );
  }
  return { addresses, excluded };
}

/**
 * While the membership is still being learned: the short addresses that are
 * surely the zone's own and no other zone's, from the gear read so far
 * (`gear`: short -> all its groups): the zone's own short addresses, and gear
 * in one of the zone's groups and in no group of another zone (nor listed by
 * another zone). A send to these by short address reaches them alone.
 */
export function confirmedOwnShorts(map: ZoneMap, zone: string, gear: ReadonlyMap<number, readonly number[]>): number[] {
  const spec = map.get(zone);
  if (!spec) return [];
  const out = new Set<number>(spec.gear.shorts);
  for (const [short, groups] of gear) {
    if (!groups.some((g) => spec.gear.groups.includes(g))) continue;
    const owner = map.ownerOf({ kind: 'short', address: short });
    if (owner !== undefined && owner !== zone) continue;
    if (
      groups.some((g) => {
        const o = map.ownerOf({ kind: 'group', group: g });
        return o !== undefined && o !== zone;
      })
    )
      continue;
    out.add(short);
  }
  return [...out].sort((a, b) => a - b);
}

/** The addresses of `zoneRoute`. */
export function zoneAddresses(map: ZoneMap, zone: string, members?: GroupMembers, options: RouteOptions = {}): GearAddress[] {
  return zoneRoute(map, zone, members, options).addresses;
}

/** Applies one setpoint to every address of a zone, one after another; one merged result. */
export async function applyToZone(
  output: Dt8Output,
  setpoint: Setpoint,
  addresses: readonly GearAddress[],
  signal?: AbortSignal,
  options: ApplyOptions = {},
): Promise<Dt8Result> {
  if (addresses.length === 0) throw new ZoneRoutingError('unknownZone', `zone ${quote(setpoint.zone)} has no gear`);
  const results: Dt8Result[] = [];
  for (const address of addresses) results.push(await output.apply(setpoint, address, signal, options));
  const first = results[0] as Dt8Result;
  if (results.length === 1) return first;
  const readback = results.flatMap((r) => r.readback ?? []);
  const merged: Dt8Result = {
    ...first,
    address: addresses.map(formatGearAddress).join(','),
    frames: results.reduce((n, r) => n + r.frames, 0),
    busTimeMs: Math.round(results.reduce((n, r) => n + r.busTimeMs, 0) * 100) / 100,
    ...(results.some((r) => r.superseded) ? { superseded: true as const } : {}),
    ...(results.some((r) => r.readback !== undefined) ? { readback, verified: results.every((r) => r.verified === true) } : {}),
  };
  return merged;
}

/** A diagnostics report of one zone's gear (every address of the zone). */
export type ZoneDiagnosticsReport = DiagnosticsReport & { readonly zone: string };

/** One diagnostics report per zone, each over all of the zone's addresses. */
export async function diagnoseZones(
  output: Dt8Output,
  plans: readonly { zone: string; addresses: readonly GearAddress[] }[],
  signal?: AbortSignal,
): Promise<ZoneDiagnosticsReport[]> {
  const reports: ZoneDiagnosticsReport[] = [];
  for (const plan of plans) {
    const gear: DiagnosticsReport['gear'][number][] = [];
    for (const address of plan.addresses) gear.push(...(await output.diagnose(address, signal)).gear);
    reports.push({ kind: 'diagnostics', zone: plan.zone, address: plan.addresses.map(formatGearAddress).join(','), ts: Date.now(), gear });
  }
  return reports;
}
