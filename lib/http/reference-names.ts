/**
 * The reference service's field names in the HTTP answers.
 *
 * The Python service answered in snake_case (`energy_saving_estimate`,
 * `manual_override`, `override_minutes`, `sensor_id`, `profile_id`); the
 * flows and nodes of this package speak camelCase inside. Every successful
 * JSON answer of the API carries both spellings of the fields listed here
 * (the front door applies withReferenceNames to it), so a client written
 * for the reference reads its own names and nothing of ours is renamed.
 * The OpenAPI document takes both names from the same list
 * (withReferenceNameProperties).
 *
 * Only fields the reference itself names are listed; our own additions stay
 * camelCase only.
 */

export interface ReferenceField {
  /** Our camelCase name. */
  ours: string;
  /** The reference service's name. */
  reference: string;
  /** The answers that carry it ("METHOD /path"). */
  endpoints: readonly string[];
}

export const REFERENCE_FIELDS: readonly ReferenceField[] = [
  { ours: 'energySavingEstimate', reference: 'energy_saving_estimate', endpoints: ['GET /telemetry'] },
  { ours: 'manualOverride', reference: 'manual_override', endpoints: ['POST /control'] },
  { ours: 'overrideMinutes', reference: 'override_minutes', endpoints: ['POST /control'] },
  { ours: 'sensorId', reference: 'sensor_id', endpoints: ['POST /ingest/sensor'] },
  { ours: 'profileId', reference: 'profile_id', endpoints: ['POST /admin/profile'] },
];

const REFERENCE_NAME = new Map(REFERENCE_FIELDS.map((f) => [f.ours, f.reference]));

/** Objects are walked this deep (answer -> page items -> record): deeper data (a row's free `data`) is left as it is. */
const MAX_DEPTH = 3;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function map(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const m = map(item, depth + 1);
      if (m !== item) changed = true;
      return m;
    });
    return changed ? out : value;
  }
  if (!isPlainObject(value)) return value;
  // The copy is made at the first key that changes (most objects of an answer have none: no copy for them).
  let out: Record<string, unknown> | null = null;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const v = value[key];
    const m = map(v, depth + 1);
    const ref = REFERENCE_NAME.get(key);
    const add = ref !== undefined && v !== undefined && !Object.prototype.hasOwnProperty.call(value, ref);
    if (out === null) {
      if (m === v && !add) continue;
      out = {};
      for (const before in value) {
        if (before === key) break;
        if (Object.prototype.hasOwnProperty.call(value, before)) out[before] = value[before];
      }
    }
    out[key] = m;
    if (add) out[ref as string] = m;
  }
  return out ?? value;
}

/**
 * `value` with the reference's name beside each of our listed names (in
 * objects, arrays of objects and pages' items, 3 levels deep), the same
 * value under both. A name the answer already has is left alone. Returns
 * `value` itself when there is nothing to add; never mutates it.
 */
export function withReferenceNames<T>(value: T): T {
  return map(value, 0) as T;
}

/**
 * JSON Schema `properties` with the reference's name beside each listed name
 * (same schema), and `required` growing with it: the answer schemas of the
 * OpenAPI document describe both spellings from this one list.
 */
export function withReferenceNameProperties(schema: { properties: Record<string, unknown>; required?: readonly string[] }): {
  properties: Record<string, unknown>;
  required?: string[];
} {
  const properties: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema.properties)) {
    properties[key] = s;
    const ref = REFERENCE_NAME.get(key);
    if (ref !== undefined) properties[ref] = s;
  }
  if (schema.required === undefined) return { properties };
  const required: string[] = [];
  for (const key of schema.required) {
    required.push(key);
    const ref = REFERENCE_NAME.get(key);
    if (ref !== undefined) required.push(ref);
  }
  return { properties, required };
}
