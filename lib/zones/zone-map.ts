/**
 * The zone map: which gear and sensors make up each zone of a building, and
 * its own targets. One map per site (or per bus), shared by every node that
 * routes by `zone`, so that a setpoint for one zone can only ever reach that
 * zone's gear.
 *
 * Accepted forms (JSON text or a parsed value):
 *
 * - object keyed by zone, gear only (the MQTT gateway's `ZONES`):
 *     `{"office-1": "G0", "meeting-1": "G1"}`
 * - object keyed by zone, full entries:
 *     `{"office-1": {"gear": "G0", "sensors": ["10"], "targetLux": 500}}`
 * - array of entries (what the `lighting-zones` editor table stores):
 *     `[{"zone": "office-1", "gear": "G0", "sensors": "10, office-pir"}]`
 *
 * An entry:
 * - `gear` (required): a gear list as `parseGearList` reads it: groups and
 *   short addresses, `G0`, `A4-5`, `G2, 7`.
 * - `sensors`: DALI-2 input devices as `10` (every instance of short address
 *   10) or `10:1` (instance 1), and HTTP/MQTT sensor ids (any other text);
 *   a list or a comma-separated text. When a zone lists sensor ids, readings
 *   for it from other ids are refused (`allowsSensorId`).
 * - `targetLux`, `warmestKelvin`, `coolestKelvin`: the zone's own daylight
 *   target and colour schedule, over the rules node's settings.
 * - `fixtureWatts`, `fixtureCount`: rated power of one luminaire and how many
 *   the zone has (energy estimates).
 * - `label`: free text for people.
 *
 * Isolation is checked when the map is read: no short address and no group
 * belongs to two zones. `groupConflicts(members)` checks the group membership
 * the bus knows (a group of one zone containing gear of another).
 *
 * Refusals are ZoneMapError with a message naming the zone and field.
 */
import { describeValue, isPlainObject } from '../contracts';
import { parseGearList, type GearList } from '../dali/address-spec';
import type { GearAddress } from '../dali/types';

/** Longest zone name (the same limit as every other zone field). */
export const ZONE_NAME_MAX_LENGTH = 128;
/** Longest HTTP/MQTT sensor id in a zone map. */
export const SENSOR_ID_MAX_LENGTH = 128;
/** Most zones one map may hold (64 gear and 16 groups per bus; several buses per site). */
export const MAX_ZONES = 1024;

export class ZoneMapError extends Error {
  override readonly name = 'ZoneMapError';
  constructor(message: string) {
    super(message);
  }
}

/** A DALI-2 input device of a zone: short address and, optionally, one instance. */
export interface ZoneDaliSensor {
  readonly address: number;
  /** Instance number 0-31; undefined = every instance of the device. */
  readonly instance?: number;
}

export interface ZoneSpec {
  readonly zone: string;
  readonly label?: string;
  readonly gear: GearList;
  readonly daliSensors: readonly ZoneDaliSensor[];
  readonly sensorIds: readonly string[];
  readonly targetLux?: number;
  readonly warmestKelvin?: number;
  readonly coolestKelvin?: number;
  readonly fixtureWatts?: number;
  readonly fixtureCount?: number;
}

/** The rated power of all the zone's luminaires, W (fixtureWatts x fixtureCount, one luminaire without a count); undefined without fixtureWatts. */
export function zoneRatedWatts(spec: Pick<ZoneSpec, 'fixtureWatts' | 'fixtureCount'>): number | undefined {
  return spec.fixtureWatts === undefined ? undefined : spec.fixtureWatts * (spec.fixtureCount ?? 1);
}

/** Per-zone rules settings from the map (undefined fields keep the node's). */
export interface ZoneRulesOverrides {
  targetLux?: number;
  warmestKelvin?: number;
  coolestKelvin?: number;
  ratedW?: number;
  fixtureCount?: number;
}

/** A control character (U+0000-U+001F, U+007F) or one of `extra` in the text. */
function hasControlOr(text: string, extra: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c === 0x7f || extra.includes(ch)) return true;
  }
  return false;
}

/** Names that are object internals in JavaScript: refused, so a zone can never be mistaken for one. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function checkZoneName(v: unknown, where: string): string {
  if (typeof v === 'string' && RESERVED_NAMES.has(v)) throw new ZoneMapError(`${where}: "${v}" cannot be a zone name`);
  if (typeof v !== 'string' || v.trim() === '' || v !== v.trim() || v.length > ZONE_NAME_MAX_LENGTH || hasControlOr(v, '/#+')) {
    throw new ZoneMapError(
      `${where}: zone name ${describeValue(v)} must be 1-${ZONE_NAME_MAX_LENGTH} characters without surrounding blanks, control characters, '/', '#' or '+'`,
    );
  }
  return v;
}

function optionalNumber(
  entry: Record<string, unknown>,
  key: string,
  zone: string,
  lo: number,
  hi: number,
  integer = false,
): number | undefined {
  let v = entry[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' && v.trim() !== '') v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new ZoneMapError(
      `zone "${zone}": ${key} ${describeValue(entry[key])} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}]`,
    );
  }
  return v;
}

const DALI_SENSOR = /^a?(\d{1,2})(?::(\d{1,2}))?$/i;

function parseSensors(raw: unknown, zone: string): { dali: ZoneDaliSensor[]; ids: string[] } {
  const dali: ZoneDaliSensor[] = [];
  const ids: string[] = [];
  if (raw === undefined || raw === null || raw === '') return { dali, ids };
  const items: unknown[] =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : Array.isArray(raw)
        ? raw
        : [raw];
  for (const item of items) {
    if (typeof item === 'number') {
      if (!Number.isInteger(item) || item < 0 || item > 63) throw new ZoneMapError(`zone "${zone}": sensor address ${item} must be 0-63`);
      dali.push({ address: item });
      continue;
    }
    if (isPlainObject(item)) {
      if (typeof item.sensorId === 'string') {
        ids.push(checkSensorId(item.sensorId, zone));
        continue;
      }
      const address = item.address;
      const instance = item.instance;
      if (typeof address !== 'number' || !Number.isInteger(address) || address < 0 || address > 63) {
        throw new ZoneMapError(`zone "${zone}": sensor ${describeValue(item)} needs an address 0-63 or a sensorId`);
      }
      if (instance !== undefined && (typeof instance !== 'number' || !Number.isInteger(instance) || instance < 0 || instance > 31)) {
        throw new ZoneMapError(`zone "${zone}": sensor instance ${describeValue(instance)} must be 0-31`);
      }
      dali.push(instance === undefined ? { address } : { address, instance });
      continue;
    }
    if (typeof item !== 'string')
      throw new ZoneMapError(`zone "${zone}": sensor ${describeValue(item)} is not an address (10, 10:1) or a sensor id`);
    const m = DALI_SENSOR.exec(item);
    if (m) {
      const address = Number(m[1]);
      const instance = m[2] === undefined ? undefined : Number(m[2]);
      if (address > 63) throw new ZoneMapError(`zone "${zone}": sensor address ${address} must be 0-63`);
      if (instance !== undefined && instance > 31) throw new ZoneMapError(`zone "${zone}": sensor instance ${instance} must be 0-31`);
      dali.push(instance === undefined ? { address } : { address, instance });
    } else ids.push(checkSensorId(item, zone));
  }
  return { dali, ids };
}

function checkSensorId(v: string, zone: string): string {
  const id = v.trim();
  if (id === '' || id.length > SENSOR_ID_MAX_LENGTH || hasControlOr(id, '')) {
    throw new ZoneMapError(`zone "${zone}": sensor id ${describeValue(v)} must be 1-${SENSOR_ID_MAX_LENGTH} printable characters`);
  }
  return id;
}

function parseEntry(zone: string, raw: unknown): ZoneSpec {
  const entry: Record<string, unknown> = typeof raw === 'string' ? { gear: raw } : isPlainObject(raw) ? raw : {};
  if (!isPlainObject(raw) && typeof raw !== 'string') {
    throw new ZoneMapError(`zone "${zone}": entry ${describeValue(raw)} must be a gear list text or an object with gear`);
  }
  let gear: GearList;
  try {
    gear = parseGearList(entry.gear ?? '');
  } catch {
    throw new ZoneMapError(
      `zone "${zone}": gear ${describeValue(entry.gear)} is not a gear list like G0 or A4-5 (groups G0-G15, short addresses 0-63)`,
    );
  }
  if (gear.shorts.length === 0 && gear.groups.length === 0)
    throw new ZoneMapError(`zone "${zone}": gear is empty (name its group, e.g. G0, or its short addresses)`);
  const sensors = parseSensors(entry.sensors, zone);
  const spec: {
    -readonly [K in keyof ZoneSpec]: ZoneSpec[K];
  } = { zone, gear, daliSensors: sensors.dali, sensorIds: sensors.ids };
  if (typeof entry.label === 'string' && entry.label.trim() !== '') spec.label = entry.label.trim().slice(0, 200);
  const targetLux = optionalNumber(entry, 'targetLux', zone, 0, 100_000);
  const warmestKelvin = optionalNumber(entry, 'warmestKelvin', zone, 1000, 20_000);
  const coolestKelvin = optionalNumber(entry, 'coolestKelvin', zone, 1000, 20_000);
  const fixtureWatts = optionalNumber(entry, 'fixtureWatts', zone, 0, 5000);
  const fixtureCount = optionalNumber(entry, 'fixtureCount', zone, 1, 1024, true);
  if (warmestKelvin !== undefined && coolestKelvin !== undefined && warmestKelvin > coolestKelvin) {
    throw new ZoneMapError(`zone "${zone}": warmestKelvin ${warmestKelvin} is above coolestKelvin ${coolestKelvin}`);
  }
  if (targetLux !== undefined) spec.targetLux = targetLux;
  if (warmestKelvin !== undefined) spec.warmestKelvin = warmestKelvin;
  if (coolestKelvin !== undefined) spec.coolestKelvin = coolestKelvin;
  if (fixtureWatts !== undefined) spec.fixtureWatts = fixtureWatts;
  if (fixtureCount !== undefined) spec.fixtureCount = fixtureCount;
  return spec;
}

export class ZoneMap {
  readonly #zones = new Map<string, ZoneSpec>();
  readonly #shortOwner = new Map<number, string>();
  readonly #groupOwner = new Map<number, string>();
  readonly #sensorOwner = new Map<string, string>();

  private constructor(specs: readonly ZoneSpec[]) {
    for (const spec of specs) {
      if (this.#zones.has(spec.zone)) throw new ZoneMapError(`zone "${spec.zone}" is listed twice`);
      this.#zones.set(spec.zone, spec);
      for (const a of spec.gear.shorts) {
        const other = this.#shortOwner.get(a);
        if (other !== undefined)
          throw new ZoneMapError(`short address ${a} is gear of both "${other}" and "${spec.zone}": a luminaire belongs to one zone`);
        this.#shortOwner.set(a, spec.zone);
      }
      for (const g of spec.gear.groups) {
        const other = this.#groupOwner.get(g);
        if (other !== undefined)
          throw new ZoneMapError(`group G${g} is gear of both "${other}" and "${spec.zone}": a group belongs to one zone`);
        this.#groupOwner.set(g, spec.zone);
      }
      for (const s of spec.daliSensors) {
        const key = s.instance === undefined ? `${s.address}` : `${s.address}:${s.instance}`;
        const other = this.#sensorOwner.get(key);
        if (other !== undefined && other !== spec.zone)
          throw new ZoneMapError(`sensor ${key} is listed in both "${other}" and "${spec.zone}"`);
        this.#sensorOwner.set(key, spec.zone);
      }
      for (const id of spec.sensorIds) {
        const key = `id:${id}`;
        const other = this.#sensorOwner.get(key);
        if (other !== undefined && other !== spec.zone)
          throw new ZoneMapError(`sensor id "${id}" is listed in both "${other}" and "${spec.zone}"`);
        this.#sensorOwner.set(key, spec.zone);
      }
    }
  }

  /** An empty map (no zone is known). */
  static empty(): ZoneMap {
    return new ZoneMap([]);
  }

  /**
   * Reads a map from JSON text or a parsed value (see the file comment).
   * @throws ZoneMapError naming what is wrong.
   */
  static parse(input: unknown): ZoneMap {
    let value = input;
    if (typeof value === 'string') {
      const text = value.trim();
      if (text === '') return ZoneMap.empty();
      try {
        value = JSON.parse(text) as unknown;
      } catch (err) {
        throw new ZoneMapError(`zone map is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const specs: ZoneSpec[] = [];
    if (Array.isArray(value)) {
      value.forEach((entry, i) => {
        if (!isPlainObject(entry)) throw new ZoneMapError(`zone map entry ${i + 1} must be an object with zone and gear`);
        specs.push(parseEntry(checkZoneName(entry.zone, `zone map entry ${i + 1}`), entry));
      });
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) specs.push(parseEntry(checkZoneName(key, 'zone map'), value[key]));
    } else {
      throw new ZoneMapError(`zone map must be an object keyed by zone or an array of entries, got ${describeValue(value)}`);
    }
    if (specs.length > MAX_ZONES) throw new ZoneMapError(`zone map has ${specs.length} zones, more than ${MAX_ZONES}`);
    return new ZoneMap(specs);
  }

  get size(): number {
    return this.#zones.size;
  }

  has(zone: unknown): boolean {
    return typeof zone === 'string' && this.#zones.has(zone);
  }

  get(zone: string): ZoneSpec | undefined {
    return this.#zones.get(zone);
  }

  zones(): string[] {
    return [...this.#zones.keys()];
  }

  specs(): ZoneSpec[] {
    return [...this.#zones.values()];
  }

  /**
   * What group routing needs from the map: whether any zone names a group,
   * every short address a zone lists, and a key equal for maps that route
   * the same (zones and their gear).
   */
  routing(): { usesGroups: boolean; listedShorts: number[]; key: string } {
    const specs = this.specs();
    return {
      usesGroups: specs.some((z) => z.gear.groups.length > 0),
      listedShorts: specs.flatMap((z) => z.gear.shorts),
      key: JSON.stringify(specs.map((z) => [z.zone, z.gear.groups, z.gear.shorts])),
    };
  }

  /** The zone a DALI-2 input device instance belongs to (an instance entry wins over the device entry). */
  zoneOfSensor(address: number, instance?: number): string | undefined {
    if (instance !== undefined) {
      const z = this.#sensorOwner.get(`${address}:${instance}`);
      if (z !== undefined) return z;
    }
    return this.#sensorOwner.get(`${address}`);
  }

  /** Zones that list this DALI-2 input device (any instance). */
  zonesOfDevice(address: number): string[] {
    const out = new Set<string>();
    for (const spec of this.#zones.values()) if (spec.daliSensors.some((s) => s.address === address)) out.add(spec.zone);
    return [...out];
  }

  /** The zone that owns a short address or a group (undefined: none). */
  ownerOf(address: GearAddress): string | undefined {
    if (address.kind === 'short') return this.#shortOwner.get(address.address);
    if (address.kind === 'group') return this.#groupOwner.get(address.group);
    return undefined;
  }

  /**
   * A reading for `zone` from `sensorId` may be accepted: the zone is known,
   * and when it lists sensor ids, the id is one of them.
   */
  allowsSensorId(zone: string, sensorId: string): boolean {
    const spec = this.#zones.get(zone);
    if (!spec) return false;
    return spec.sensorIds.length === 0 || spec.sensorIds.includes(sensorId);
  }

  /** The addresses a setpoint for the zone is sent to: its groups first, then its short addresses. */
  addressesOf(zone: string): GearAddress[] {
    const spec = this.#zones.get(zone);
    if (!spec) return [];
    return [
      ...spec.gear.groups.map((group): GearAddress => ({ kind: 'group', group })),
      ...spec.gear.shorts.map((address): GearAddress => ({ kind: 'short', address })),
    ];
  }

  /** The short addresses a zone's gear covers, given group membership (`members`: group -> shorts). */
  shortsOf(zone: string, members: ReadonlyMap<number, readonly number[]>): number[] {
    const spec = this.#zones.get(zone);
    if (!spec) return [];
    const out = new Set<number>(spec.gear.shorts);
    for (const g of spec.gear.groups) for (const a of members.get(g) ?? []) out.add(a);
    return [...out].sort((a, b) => a - b);
  }

  /**
   * Gear that two zones would both reach, given the group membership the bus
   * knows: one text per conflict (empty: isolated).
   */
  groupConflicts(members: ReadonlyMap<number, readonly number[]>): string[] {
    const reachedBy = new Map<number, string>();
    const conflicts: string[] = [];
    for (const spec of this.#zones.values()) {
      for (const a of this.shortsOf(spec.zone, members)) {
        const other = reachedBy.get(a);
        if (other !== undefined && other !== spec.zone)
          conflicts.push(`gear A${a} is reached by both "${other}" and "${spec.zone}" (check the groups of A${a})`);
        else reachedBy.set(a, spec.zone);
      }
    }
    return conflicts;
  }

  /** The zone's own rules settings (daylight target, colour, energy) over a node's. */
  rulesOverrides(zone: string): ZoneRulesOverrides {
    const spec = this.#zones.get(zone);
    const out: ZoneRulesOverrides = {};
    if (!spec) return out;
    if (spec.targetLux !== undefined) out.targetLux = spec.targetLux;
    if (spec.warmestKelvin !== undefined) out.warmestKelvin = spec.warmestKelvin;
    if (spec.coolestKelvin !== undefined) out.coolestKelvin = spec.coolestKelvin;
    if (spec.fixtureWatts !== undefined) out.ratedW = spec.fixtureWatts;
    if (spec.fixtureCount !== undefined) out.fixtureCount = spec.fixtureCount;
    return out;
  }

  /** Only the rules' own settings of the zone (targetLux, warmestKelvin, coolestKelvin), for RulesController's zoneConfig. */
  rulesConfig(
    zone: string,
    kelvin: (k: number) => number = (k) => k,
  ): { targetLux?: number; warmestKelvin?: number; coolestKelvin?: number } {
    const { targetLux, warmestKelvin, coolestKelvin } = this.rulesOverrides(zone);
    return {
      ...(targetLux !== undefined ? { targetLux } : {}),
      ...(warmestKelvin !== undefined ? { warmestKelvin: kelvin(warmestKelvin) } : {}),
      ...(coolestKelvin !== undefined ? { coolestKelvin: kelvin(coolestKelvin) } : {}),
    };
  }

  /** The map as the array form (what the editor table and a JSON file hold). */
  toJSON(): Record<string, unknown>[] {
    return this.specs().map((s) => {
      const gear = [...s.gear.groups.map((g) => `G${g}`), ...s.gear.shorts.map((a) => `A${a}`)].join(', ');
      const sensors = [
        ...s.daliSensors.map((d) => (d.instance === undefined ? `${d.address}` : `${d.address}:${d.instance}`)),
        ...s.sensorIds,
      ];
      const out: Record<string, unknown> = { zone: s.zone, gear };
      if (s.label !== undefined) out.label = s.label;
      if (sensors.length > 0) out.sensors = sensors;
      for (const k of ['targetLux', 'warmestKelvin', 'coolestKelvin', 'fixtureWatts', 'fixtureCount'] as const)
        if (s[k] !== undefined) out[k] = s[k];
      return out;
    });
  }
}
