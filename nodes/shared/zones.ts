/**
 * The `lighting-zones` config node as its users see it: the zone map, or why
 * there is none. Every node that routes by zone takes an optional `zones`
 * setting; with it, a zone outside the map is an error (never a default
 * address), and without it the node keeps its single-zone behaviour.
 */
import type { Node, NodeAPI } from 'node-red';
import { ZoneMap, ZoneMapError } from '../../lib/zones/zone-map';
import type { ContextState } from './context-state';

export interface LightingZonesNode extends Node {
  /** The map in force; throws ZoneMapError when the configured map cannot be used. */
  zoneMap(): ZoneMap;
  /** Where the map came from, for status texts: "table", "env ZONES", "file zones.json". */
  zoneSource: string;
}

/**
 * The zone map config node with this id, or null when none is selected.
 * A selected id that does not resolve to a lighting-zones node gives a map
 * getter that always throws (fail closed: nothing is routed by a missing map).
 */
export function findZones(RED: NodeAPI, id: unknown): { node: LightingZonesNode | null; map: () => ZoneMap } | null {
  if (typeof id !== 'string' || id === '') return null;
  const node = RED.nodes.getNode(id) as LightingZonesNode | null;
  if (!node || node.type !== 'lighting-zones' || typeof node.zoneMap !== 'function') {
    return {
      node: null,
      map: () => {
        throw new ZoneMapError(`zone map config node ${id} is missing`);
      },
    };
  }
  return { node, map: () => node.zoneMap() };
}

/** The map or null, never throwing (for filters that must not crash: an unusable map admits nothing). */
export function zoneMapOrNull(zones: { map: () => ZoneMap } | null): ZoneMap | null {
  if (!zones) return null;
  try {
    return zones.map();
  } catch {
    return ZoneMap.empty();
  }
}

/** True when a zone map is selected but cannot be used now. */
function zoneMapUnusable(zones: { map: () => ZoneMap } | null): boolean {
  if (!zones) return false;
  try {
    zones.map();
    return false;
  } catch {
    return true;
  }
}

/**
 * Hands a node's saved per-zone state to `use`. While the selected zone map
 * cannot be used (it admits no zone), the state is parked instead
 * (ContextState.park): kept as it is rather than filtered to nothing and
 * saved so, and a deploy with the mended map finds it where it was.
 */
export function loadZoneState(saved: ContextState, zones: { map: () => ZoneMap } | null, use: (value: unknown) => void): void {
  if (zoneMapUnusable(zones)) saved.park();
  else saved.load(use);
}

/**
 * Why a message may not go on, or null: its payload names a zone (a string
 * `zone`) that the zone map does not have, or the map cannot be used.
 * Messages without a zone (a clear-all, an aggregate request) pass.
 */
export function zoneRefusal(zones: { map: () => ZoneMap } | null, payload: unknown): string | null {
  if (!zones || payload === null || typeof payload !== 'object') return null;
  const zone = (payload as { zone?: unknown }).zone;
  if (typeof zone !== 'string') return null;
  let map: ZoneMap;
  try {
    map = zones.map();
  } catch (err) {
    return `zone map unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return map.has(zone) ? null : `unknown zone ${JSON.stringify(zone.length > 64 ? `${zone.slice(0, 64)}...` : zone)}: not in the zone map`;
}
