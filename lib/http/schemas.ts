/**
 * Request validation of the HTTP API (the reference service's endpoints):
 * POST /ingest/sensor, POST /ingest/weather, POST /control, GET /telemetry.
 *
 * Each validator returns {ok: true, value} or {ok: false, status: 400,
 * message, field} with a message naming the offending field (as the client
 * spelled it). Never throws, whatever the input. Schemas are JSON Schema
 * (ajv, compiled once at module load); cross-field rules and time parsing
 * are code.
 *
 * Names: the reference's snake_case (sensor_id, manual_override,
 * override_minutes, temperature_c, ...) and this package's camelCase are both
 * accepted; giving both spellings of one field with different values is a 400.
 * Unknown extra fields are ignored (as the reference's Pydantic models did).
 *
 * Times: `ts` (or `timestamp`) is epoch ms (number, or a string of digits) or
 * an ISO 8601 string; an ISO date-time without a zone designator is read as
 * UTC (Python's datetime.utcnow().isoformat() sends those). Default: now.
 * A reading's time must lie between 2000-01-01 and MAX_FUTURE_MS (60 s) ahead
 * of the server clock: later is a client clock or unit error, earlier is
 * almost always seconds sent for milliseconds (Python's time.time()), and
 * both are refused with 400 and a hint instead of being stored.
 */
import { isPlainObject, type Setpoint } from '../contracts';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { COMMAND_KELVIN_MAX, COMMAND_KELVIN_MIN, MAX_ID_LENGTH, MAX_LUX, MAX_OVERRIDE_REQUEST_MINUTES, MAX_TS } from '../contracts/limits';
import {
  ReadingValidationError,
  validateSensorReading,
  validateWeatherUpdate,
  type SensorReading,
  type WeatherUpdate,
} from '../contracts/readings';

export type Validated<T> = { ok: true; value: T } | { ok: false; status: 400; message: string; field: string };

export interface IngestOptions {
  /** Clock for a missing ts, epoch ms. Default Date.now. */
  now?: () => number;
  /** `source` of the reading when the body has none. Default "http". */
  defaultSource?: string;
  /** Zone used when the body has none; without it, zone is required for sensor readings. */
  defaultZone?: string;
}

export interface ControlOptions {
  /** Zone when the body has none. Default "default". */
  defaultZone?: string;
  /** Minutes a manual override holds when override_minutes is not given. Default 30 (the reference). */
  defaultOverrideMinutes?: number;
}

/** A validated POST /control body. */
export interface ControlRequest {
  /** The setpoint to apply (source "manual"; overrideMinutes set when manualOverride). */
  setpoint: Setpoint;
  manualOverride: boolean;
  /** Minutes the override holds (1-1440); meaningful when manualOverride. */
  overrideMinutes: number;
}

/** A validated GET /telemetry query (fits LightingStore.decisions()). */
export interface TelemetryQuery {
  limit: number;
  offset: number;
  /** 1-based page when the client paged with `page`. */
  page?: number;
  cursor?: string;
  zone?: string;
  since?: number;
  until?: number;
  source?: 'ai' | 'rules' | 'manual' | 'schedule';
  kind?: string;
  /** Rows of one gateway (Node-RED / DALI bus) only. */
  gateway?: string;
}

export const TELEMETRY_MAX_LIMIT = 1000;
export const TELEMETRY_DEFAULT_LIMIT = 50;
const MAX_REASON = 500;

// ---- schemas --------------------------------------------------------------
// Exported for the OpenAPI document (./endpoints): the same objects, never a copy.

const id = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } as const;
const time = { type: ['string', 'number'], maxLength: 64 } as const;

export const SENSOR_SCHEMA = {
  type: 'object',
  properties: {
    sensor_id: id,
    sensorId: id,
    zone: id,
    ts: time,
    timestamp: time,
    lux: { type: 'number', minimum: 0, maximum: MAX_LUX },
    // 0/1 too: the reference's Pydantic bool accepted them.
    presence: { type: ['boolean', 'integer', 'null'], minimum: 0, maximum: 1 },
    source: id,
  },
  additionalProperties: true,
} as const;

export const WEATHER_SCHEMA = {
  type: 'object',
  properties: {
    ts: time,
    timestamp: time,
    zone: { type: ['string', 'null'], minLength: 1, maxLength: MAX_ID_LENGTH },
    source: id,
    temperature_c: { type: ['number', 'null'], minimum: -100, maximum: 100 },
    temperatureC: { type: ['number', 'null'], minimum: -100, maximum: 100 },
    temperature: { type: ['number', 'null'], minimum: -100, maximum: 100 },
    cloud_cover_pct: { type: ['number', 'null'], minimum: 0, maximum: 100 },
    cloud_cover: { type: ['number', 'null'], minimum: 0, maximum: 100 },
    cloudCoverPct: { type: ['number', 'null'], minimum: 0, maximum: 100 },
    solar_radiation_wm2: { type: ['number', 'null'], minimum: 0, maximum: 5000 },
    solar_radiation: { type: ['number', 'null'], minimum: 0, maximum: 5000 },
    solarRadiationWm2: { type: ['number', 'null'], minimum: 0, maximum: 5000 },
    outdoor_lux: { type: ['number', 'null'], minimum: 0, maximum: MAX_LUX },
    outdoorLux: { type: ['number', 'null'], minimum: 0, maximum: MAX_LUX },
  },
  additionalProperties: true,
} as const;

export const CONTROL_SCHEMA = {
  type: 'object',
  required: ['intensity', 'cct'],
  properties: {
    intensity: { type: 'number', minimum: 0, maximum: 100 },
    cct: { type: 'number', minimum: COMMAND_KELVIN_MIN, maximum: COMMAND_KELVIN_MAX },
    reason: { type: 'string', maxLength: MAX_REASON },
    manual_override: { type: 'boolean' },
    manualOverride: { type: 'boolean' },
    override_minutes: { type: 'integer', minimum: 1, maximum: MAX_OVERRIDE_REQUEST_MINUTES },
    overrideMinutes: { type: 'integer', minimum: 1, maximum: MAX_OVERRIDE_REQUEST_MINUTES },
    zone: id,
    fade_ms: { type: 'integer', minimum: 0, maximum: 90_500 },
    fadeMs: { type: 'integer', minimum: 0, maximum: 90_500 },
  },
  additionalProperties: true,
} as const;

export const TELEMETRY_SCHEMA = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: TELEMETRY_MAX_LIMIT },
    page_size: { type: 'integer', minimum: 1, maximum: TELEMETRY_MAX_LIMIT },
    offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    page: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
    cursor: { type: 'string', pattern: '^-?\\d{1,16}\\.\\d{1,16}$' },
    zone: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    since: { type: 'string', maxLength: 64 },
    until: { type: 'string', maxLength: 64 },
    source: { type: 'string', enum: ['ai', 'rules', 'manual', 'schedule'] },
    kind: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    gateway: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
  },
  additionalProperties: true,
} as const;

const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, strict: true, allowUnionTypes: true });
// Query strings are text: "limit=20" is coerced to 20 (a repeated parameter, an array, is not).
const ajvQuery = new Ajv({ allErrors: false, coerceTypes: true, useDefaults: false, strict: true });

const validateSensorBody: ValidateFunction = ajv.compile(SENSOR_SCHEMA);
const validateWeatherBody: ValidateFunction = ajv.compile(WEATHER_SCHEMA);
const validateControlBody: ValidateFunction = ajv.compile(CONTROL_SCHEMA);
const validateTelemetryQueryObject: ValidateFunction = ajvQuery.compile(TELEMETRY_SCHEMA);

// ---- helpers --------------------------------------------------------------

const bad = (field: string, message: string): { ok: false; status: 400; message: string; field: string } => ({
  ok: false,
  status: 400,
  message,
  field,
});

function ajvFailure(what: string, errors: ErrorObject[] | null | undefined): { ok: false; status: 400; message: string; field: string } {
  const e = errors?.[0];
  if (e === undefined) return bad('body', `${what}: invalid`);
  if (e.keyword === 'required') {
    const field = String((e.params as { missingProperty?: unknown }).missingProperty ?? 'body');
    return bad(field, `${what}: ${field} is missing`);
  }
  const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'body';
  let detail = e.message ?? e.keyword;
  if (e.keyword === 'enum') detail = `must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`;
  return bad(field, `${what}: ${field} ${detail}`);
}

/** Runs a compiled validator; ajv never throws on data, but guard anyway (getters, proxies). */
function run(v: ValidateFunction, data: unknown): boolean {
  try {
    return v(data) === true;
  } catch {
    return false;
  }
}

type Pick = { ok: true; name: string | null; value: unknown } | { ok: false; status: 400; message: string; field: string };

/** The first of `names` present (not undefined/null); a conflicting second spelling is an error. */
function pickAlias(what: string, body: Record<string, unknown>, names: readonly string[]): Pick {
  let found: { name: string; value: unknown } | null = null;
  for (const name of names) {
    const v = body[name];
    if (v === undefined || v === null) continue;
    if (found === null) found = { name, value: v };
    else if (found.value !== v) {
      return bad(name, `${what}: ${found.name} and ${name} are the same field with different values; send one of them`);
    }
  }
  return found === null ? { ok: true, name: null, value: undefined } : { ok: true, name: found.name, value: found.value };
}

/**
 * Epoch ms from a number or a string (digits = epoch ms; else ISO 8601, UTC
 * when it has no zone designator). Error message names `field`.
 */
export function parseTime(
  what: string,
  field: string,
  v: unknown,
): { ok: true; value: number } | { ok: false; status: 400; message: string; field: string } {
  let ms: number;
  if (typeof v === 'number') {
    ms = v;
  } else if (typeof v === 'string' && /^\d{1,16}$/.test(v.trim())) {
    ms = Number(v.trim());
  } else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/i.test(v.trim())) {
    let s = v.trim().replace(' ', 'T');
    if (s.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(s)) s += 'Z';
    ms = Date.parse(s);
  } else {
    return bad(field, `${what}: ${field} must be epoch ms or an ISO 8601 date-time`);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TS) {
    return bad(field, `${what}: ${field} must be a valid time between 1970 and year 2255 (epoch ms or ISO 8601)`);
  }
  return { ok: true, value: Math.floor(ms) };
}

/** How far ahead of the server clock a reading's time may be (clock skew), ms: as the feature engine's default. */
export const MAX_FUTURE_MS = 60_000;
/** Earliest reading time accepted: 2000-01-01T00:00:00Z. */
export const MIN_READING_TS = Date.UTC(2000, 0, 1);

/** A client-given reading time out of range: 400 with what to fix (seconds instead of ms, clock ahead). */
function checkReadingTime(
  what: string,
  field: string,
  ts: number,
  now: number,
): { ok: true; value: number } | { ok: false; status: 400; message: string; field: string } {
  if (ts > now + MAX_FUTURE_MS) {
    const ahead = ts - now;
    const hint =
      ts > now * 100
        ? ' (microseconds or nanoseconds? send epoch milliseconds)'
        : ': check the client clock (NTP) and that ts is epoch milliseconds';
    return bad(
      field,
      `${what}: ${field} is ${ahead >= 3_600_000 ? `${Math.round(ahead / 3_600_000)} h` : `${Math.round(ahead / 1000)} s`} ahead of the server clock (at most ${MAX_FUTURE_MS / 1000} s allowed)${hint}`,
    );
  }
  if (ts < MIN_READING_TS) {
    const seconds = ts * 1000 >= MIN_READING_TS && ts * 1000 <= now + MAX_FUTURE_MS;
    return bad(
      field,
      seconds
        ? `${what}: ${field} ${ts} looks like seconds since 1970; send epoch milliseconds (${field} * 1000, e.g. Python int(time.time() * 1000))`
        : `${what}: ${field} is before 2000-01-01; send epoch milliseconds or an ISO 8601 date-time`,
    );
  }
  return { ok: true, value: ts };
}

/** `ts` or `timestamp` (see parseTime, checkReadingTime), else now; `name` is the spelling the client used (null: neither). */
function pickTime(
  what: string,
  body: Record<string, unknown>,
  options: IngestOptions,
): { ok: true; name: string | null; value: number } | { ok: false; status: 400; message: string; field: string } {
  const p = pickAlias(what, body, ['ts', 'timestamp']);
  if (!p.ok) return p;
  const now = (options.now ?? Date.now)();
  if (p.name === null) return { ok: true, name: null, value: now };
  const parsed = parseTime(what, p.name, p.value);
  if (!parsed.ok) return parsed;
  const t = checkReadingTime(what, p.name, parsed.value, now);
  if (!t.ok) return t;
  return { ok: true, name: p.name, value: t.value };
}

/** Field name in the contract → the alias the client used (for messages). */
function contractError(
  what: string,
  err: unknown,
  used: Record<string, string>,
): { ok: false; status: 400; message: string; field: string } {
  if (err instanceof ReadingValidationError) {
    const field = used[err.field] ?? err.field;
    return bad(field, field === err.field ? err.message : `${err.message} (sent as ${field})`);
  }
  return bad('body', `${what}: ${(err as Error)?.message ?? 'invalid'}`);
}

// ---- validators -------------------------------------------------------------

/** POST /ingest/sensor → the DESIGN.md sensor reading contract. */
export function validateIngestSensor(body: unknown, options: IngestOptions = {}): Validated<SensorReading> {
  const what = 'invalid sensor reading';
  if (!isPlainObject(body)) return bad('body', `${what}: the body must be a JSON object`);
  if (!run(validateSensorBody, body)) return ajvFailure(what, validateSensorBody.errors);
  const sensor = pickAlias(what, body, ['sensor_id', 'sensorId']);
  if (!sensor.ok) return sensor;
  if (sensor.name === null) return bad('sensor_id', `${what}: sensor_id is missing`);
  const tsPick = pickTime(what, body, options);
  if (!tsPick.ok) return tsPick;
  const ts = tsPick.value;
  const zone = body.zone ?? options.defaultZone;
  if (zone === undefined || zone === null) return bad('zone', `${what}: zone is missing`);
  const presence = body.presence === null || body.presence === undefined ? undefined : body.presence === true || body.presence === 1;
  const candidate: Record<string, unknown> = {
    sensorId: sensor.value,
    zone,
    ts,
    source: body.source ?? options.defaultSource ?? 'http',
  };
  if (typeof body.lux === 'number') candidate.lux = body.lux;
  if (presence !== undefined) candidate.presence = presence;
  if (candidate.lux === undefined && candidate.presence === undefined) {
    return bad('lux', `${what}: lux or presence must be given`);
  }
  try {
    return { ok: true, value: validateSensorReading(candidate) };
  } catch (err) {
    return contractError(what, err, { sensorId: sensor.name, ts: tsPick.name ?? 'ts' });
  }
}

const WEATHER_ALIASES: ReadonlyArray<[keyof WeatherUpdate, readonly string[]]> = [
  ['temperatureC', ['temperature_c', 'temperatureC', 'temperature']],
  ['cloudCoverPct', ['cloud_cover_pct', 'cloud_cover', 'cloudCoverPct']],
  ['solarRadiationWm2', ['solar_radiation_wm2', 'solar_radiation', 'solarRadiationWm2']],
  ['outdoorLux', ['outdoor_lux', 'outdoorLux']],
];

/** POST /ingest/weather → a WeatherUpdate (zone absent/null = every zone). */
export function validateIngestWeather(body: unknown, options: IngestOptions = {}): Validated<WeatherUpdate> {
  const what = 'invalid weather update';
  if (!isPlainObject(body)) return bad('body', `${what}: the body must be a JSON object`);
  if (!run(validateWeatherBody, body)) return ajvFailure(what, validateWeatherBody.errors);
  const tsPick = pickTime(what, body, options);
  if (!tsPick.ok) return tsPick;
  const ts = tsPick.value;
  const candidate: Record<string, unknown> = { ts, zone: body.zone ?? null, source: body.source ?? options.defaultSource ?? 'http' };
  const used: Record<string, string> = {};
  for (const [key, names] of WEATHER_ALIASES) {
    const p = pickAlias(what, body, names);
    if (!p.ok) return p;
    if (p.name !== null) {
      candidate[key] = p.value;
      used[key] = p.name;
    }
  }
  if (Object.keys(used).length === 0) {
    return bad('temperature_c', `${what}: none of temperature_c, cloud_cover_pct, solar_radiation_wm2, outdoor_lux is given`);
  }
  try {
    return { ok: true, value: validateWeatherUpdate(candidate) };
  } catch (err) {
    return contractError(what, err, used);
  }
}

/** POST /control → a manual setpoint plus the override request. */
export function validateControl(body: unknown, options: ControlOptions = {}): Validated<ControlRequest> {
  const what = 'invalid control request';
  if (!isPlainObject(body)) return bad('body', `${what}: the body must be a JSON object`);
  if (!run(validateControlBody, body)) return ajvFailure(what, validateControlBody.errors);
  const manual = pickAlias(what, body, ['manual_override', 'manualOverride']);
  if (!manual.ok) return manual;
  const minutes = pickAlias(what, body, ['override_minutes', 'overrideMinutes']);
  if (!minutes.ok) return minutes;
  const fade = pickAlias(what, body, ['fade_ms', 'fadeMs']);
  if (!fade.ok) return fade;
  const manualOverride = manual.value === true;
  const overrideMinutes = typeof minutes.value === 'number' ? minutes.value : (options.defaultOverrideMinutes ?? 30);
  const reason = typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason : 'manual';
  const setpoint: Setpoint = {
    zone: typeof body.zone === 'string' ? body.zone : (options.defaultZone ?? 'default'),
    intensity: body.intensity as number,
    cct: body.cct as number,
    reason,
    source: 'manual',
  };
  if (typeof fade.value === 'number') setpoint.fadeMs = fade.value;
  if (manualOverride) setpoint.overrideMinutes = overrideMinutes;
  return { ok: true, value: { setpoint, manualOverride, overrideMinutes } };
}

/** GET /telemetry query (req.query: strings) → pagination and filters. `page` is 1-based. */
export function validateTelemetryQuery(query: unknown): Validated<TelemetryQuery> {
  const what = 'invalid telemetry query';
  if (query === undefined || query === null) query = {};
  if (!isPlainObject(query)) return bad('query', `${what}: expected query parameters`);
  // A copy: ajv's coercion writes into the object, and req.query is the caller's.
  const q: Record<string, unknown> = { ...query };
  if (!run(validateTelemetryQueryObject, q)) return ajvFailure(what, validateTelemetryQueryObject.errors);
  const limitPick = pickAlias(what, q, ['limit', 'page_size']);
  if (!limitPick.ok) return limitPick;
  const limit = typeof limitPick.value === 'number' ? limitPick.value : TELEMETRY_DEFAULT_LIMIT;
  const given = (k: string): boolean => q[k] !== undefined && q[k] !== null;
  if (given('page') && given('offset')) return bad('page', `${what}: page and offset cannot be combined; use one of them`);
  if (given('cursor') && (given('page') || given('offset'))) {
    return bad('cursor', `${what}: cursor cannot be combined with page or offset`);
  }
  const out: TelemetryQuery = { limit, offset: 0 };
  if (given('page')) {
    out.page = q.page as number;
    const offset = ((q.page as number) - 1) * limit;
    if (!Number.isSafeInteger(offset)) return bad('page', `${what}: page is too large`);
    out.offset = offset;
  } else if (given('offset')) {
    out.offset = q.offset as number;
  }
  if (given('cursor')) out.cursor = q.cursor as string;
  if (given('zone')) out.zone = q.zone as string;
  if (given('kind')) out.kind = q.kind as string;
  if (given('gateway')) out.gateway = q.gateway as string;
  if (given('source')) out.source = q.source as TelemetryQuery['source'];
  for (const k of ['since', 'until'] as const) {
    if (!given(k)) continue;
    const t = parseTime(what, k, q[k]);
    if (!t.ok) return t;
    out[k] = t.value;
  }
  if (out.since !== undefined && out.until !== undefined && out.until < out.since) {
    return bad('until', `${what}: until must not be before since`);
  }
  return { ok: true, value: out };
}

/** FastAPI-style error body ({"detail": message}), as the reference answered 400/401/404/429. */
export function errorBody(message: string): { detail: string } {
  return { detail: message };
}
