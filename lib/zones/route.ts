/**
 * Routing a zone's setpoint to its gear, and nowhere else.
 *
 * `zoneAddresses(map, zone, members)` gives the addresses of the zone's gear
 * (its groups, then its short addresses). It refuses (ZoneRoutingError):
 * - a zone that is not in the map (never a default address);
 * - a group of the zone whose membership, as the bus knows it, contains gear
 *   of another zone (a luminaire added to the wrong group at
 *   commissioning would otherwise follow the wrong room).
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
    readonly code: 'unknownZone' | 'sharedGear',
    message: string,
  ) {
    super(message);
  }
}

/** Group membership as the bus knows it: the shorts and whether that list is complete. */
export type GroupMembers = (group: number) => { shorts: readonly number[]; complete: boolean };

function quote(zone: string): string {
  return JSON.stringify(zone.length > 64 ? `${zone.slice(0, 64)}...` : zone);
}

export function zoneAddresses(map: ZoneMap, zone: string, members?: GroupMembers): GearAddress[] {
  const spec = map.get(zone);
  if (!spec) throw new ZoneRoutingError('unknownZone', `unknown zone ${quote(zone)}: not in the zone map, nothing was sent`);
  if (members) {
    // Only membership the bus knows for sure: an unknown group lists every known gear.
    const known = new Map<number, readonly number[]>();
    for (let g = 0; g <= 15; g++) {
      const m = members(g);
      if (m.complete) known.set(g, m.shorts);
    }
    // Every luminaire this zone reaches must be reached by no other zone (checked both ways, so a
    // luminaire in two zones' groups stops both, whatever the order of the map).
    const mine = new Set(map.shortsOf(zone, known));
    for (const other of map.specs()) {
      if (other.zone === zone) continue;
      const shared = map.shortsOf(other.zone, known).find((a) => mine.has(a));
      if (shared !== undefined) {
        const via = spec.gear.groups.find((g) => known.get(g)?.includes(shared));
        throw new ZoneRoutingError(
          'sharedGear',
          `${via !== undefined ? `group G${via} of ` : ''}zone ${quote(zone)} reaches A${shared}, gear of zone ${quote(other.zone)} too: nothing was sent (fix the group or the zone map)`,
        );
      }
    }
  }
  return map.addressesOf(zone);
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
