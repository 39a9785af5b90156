/**
 * Typed rows of each table (camelCase in TypeScript, snake_case in SQL), their
 * validation, and the mapping both ways. A row that fails validation throws
 * RowValidationError naming the table and field before anything is queued.
 */
import { ALERT_KINDS, ALERT_SEVERITIES, MAX_ALERT_MESSAGE, type Alert, type AlertKind, type AlertSeverity } from '../contracts/alerts';
import type { FeatureWindow, WeatherSnapshot } from '../contracts/feature-window';
import { ACCEPTED_KELVIN_MAX, ACCEPTED_KELVIN_MIN } from '../contracts/limits';
import {
  ReadingValidationError,
  optionalNumber,
  requireId,
  requireTs,
  validateSensorReading,
  validateWeatherUpdate,
  type SensorReading,
  type WeatherUpdate,
} from '../contracts/readings';
import { SETPOINT_SOURCES, type SetpointSource } from '../contracts/setpoint';
import { describeValue as describe, isPlainObject as isPlainRecord } from '../contracts/values';
import type { TableName } from './schema';
import type { SqlRow, SqlValue } from './sqlite';

/** A row that does not fit its table (same class as the reading contract's error). */
export { ReadingValidationError as RowValidationError };

/** raw_sensor_events: a sensor reading plus whether it arrived too late to count. */
export interface RawSensorEventRow extends SensorReading {
  late?: boolean;
}

/** weather_events: a weather update plus the original message (stored as JSON). */
export interface WeatherEventRow extends WeatherUpdate {
  raw?: unknown;
}

/** feature_windows: exactly the feature window contract. */
export type FeatureWindowRow = FeatureWindow;

export interface DecisionRow {
  ts: number;
  zone: string;
  source: SetpointSource;
  /** Percent 0-100. */
  intensity: number;
  /** Kelvin, or null for an intensity-only decision. */
  cct?: number | null;
  reason?: string;
  applied: boolean;
  /** What stopped it (override, clamp, anti-flicker, ...), when not applied. */
  blockedBy?: string | null;
  /** Default (100 - intensity) / 100, as the reference service. */
  energySavingEstimate?: number;
  estimatedWatts?: number | null;
  msgId?: string | null;
}

/** DESIGN.md "Decision record". */
export interface DecisionRecord {
  id: number;
  ts: number;
  zone: string;
  source: SetpointSource;
  intensity: number;
  cct: number | null;
  reason: string;
  applied: boolean;
  blockedBy: string | null;
  energySavingEstimate: number | null;
  estimatedWatts: number | null;
  msgId: string | null;
  /** The gateway (Node-RED / DALI bus) that wrote it; '' when not set. */
  gateway: string;
}

export interface TelemetryRow {
  ts: number;
  zone?: string | null;
  /** e.g. "ai-call", "fallback", "dali-error". */
  kind: string;
  latencyMs?: number | null;
  payloadBytes?: number | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  fallbackReason?: string | null;
  /** Anything else, stored as JSON. */
  data?: unknown;
}

export interface TelemetryRecord {
  id: number;
  ts: number;
  zone: string | null;
  kind: string;
  latencyMs: number | null;
  payloadBytes: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  fallbackReason: string | null;
  data: unknown;
  /** The gateway that wrote it; '' when not set. */
  gateway: string;
}

export interface ManualOverrideRow {
  zone: string;
  startedAt: number;
  /** null = until cleared. */
  expiresAt?: number | null;
  clearedAt?: number | null;
  source: string;
  /** The setpoint being held, stored as JSON. */
  setpoint?: unknown;
}

export interface ManualOverrideRecord {
  id: number;
  zone: string;
  startedAt: number;
  expiresAt: number | null;
  clearedAt: number | null;
  source: string;
  setpoint: unknown;
}

/** personal_profiles: a Fernet token only; the store refuses anything that is not one. */
export interface PersonalProfileRow {
  profileId: string;
  encryptedPayload: string;
  /** Default now. Kept from the first insert when the profile is replaced. */
  createdAt?: number;
  /** Default now. */
  updatedAt?: number;
}

export interface PersonalProfileRecord {
  profileId: string;
  encryptedPayload: string;
  createdAt: number;
  updatedAt: number;
}

export interface RowTypes {
  raw_sensor_events: RawSensorEventRow;
  weather_events: WeatherEventRow;
  feature_windows: FeatureWindowRow;
  decisions: DecisionRow;
  telemetry: TelemetryRow;
  manual_overrides: ManualOverrideRow;
  personal_profiles: PersonalProfileRow;
}

/** Largest JSON text stored in one column. */
export const MAX_JSON_BYTES = 65_536;
const MAX_TEXT = 4000;

function fail(table: string, field: string, expected: string, got: unknown): never {
  throw new ReadingValidationError(field, `invalid ${table} row: ${field} must be ${expected}, got ${describe(got)}`);
}

function rowObject(table: string, row: unknown): Record<string, unknown> {
  if (!isPlainRecord(row)) throw new ReadingValidationError('row', `invalid ${table} row: expected an object, got ${describe(row)}`);
  return row;
}

function bool(table: string, field: string, v: unknown, fallback?: boolean): number {
  if (v === undefined && fallback !== undefined) return fallback ? 1 : 0;
  if (typeof v !== 'boolean') fail(table, field, 'a boolean', v);
  return v ? 1 : 0;
}

function optBool(table: string, field: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  return bool(table, field, v);
}

function optText(table: string, field: string, v: unknown, max = MAX_TEXT): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > max) fail(table, field, `a string of at most ${max} characters`, v);
  return v;
}

function optTs(table: string, field: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  return Math.floor(requireTs(`invalid ${table} row`, field, v));
}

function ts(table: string, field: string, v: unknown): number {
  return Math.floor(requireTs(`invalid ${table} row`, field, v));
}

function num(table: string, field: string, v: unknown, min: number, max: number): number | null {
  return optionalNumber(`invalid ${table} row`, field, v, min, max) ?? null;
}

function int(table: string, field: string, v: unknown, min: number, max: number, required = false): number | null {
  if ((v === undefined || v === null) && !required) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(table, field, `a whole number between ${min} and ${max}`, v);
  }
  return v;
}

function json(table: string, field: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    throw new ReadingValidationError(field, `invalid ${table} row: ${field} cannot be stored as JSON (${(err as Error).message})`);
  }
  if (text === undefined) fail(table, field, 'JSON-serialisable data', v);
  if (Buffer.byteLength(text) > MAX_JSON_BYTES) {
    throw new ReadingValidationError(field, `invalid ${table} row: ${field} is larger than ${MAX_JSON_BYTES} bytes as JSON`);
  }
  return text;
}

/**
 * Shape check of a Fernet token (https://github.com/fernet/spec): base64url of
 * version 0x80 | timestamp (8) | IV (16) | ciphertext (n*16, n >= 1) | HMAC (32).
 * No key needed; it only keeps plaintext out of the table.
 */
export function looksLikeFernetToken(v: string): boolean {
  if (v.length < 96 || v.length > 1_000_000 || !/^[A-Za-z0-9_-]+={0,2}$/.test(v)) return false;
  const bytes = Buffer.from(v, 'base64url');
  return bytes.length >= 73 && bytes[0] === 0x80 && (bytes.length - 57) % 16 === 0;
}

type Params = SqlValue[];

/**
 * A raw_sensor_events row built from a reading the feature engine has just
 * validated (FeatureWindowService.ingest): the store takes its fields as they
 * are instead of validating the same reading a second time. Build it only
 * from validateSensorReading's output.
 */
export class CheckedRawEvent implements RawSensorEventRow {
  readonly sensorId: string;
  readonly zone: string;
  readonly ts: number;
  readonly source: string;
  readonly lux: number | undefined;
  readonly presence: boolean | undefined;
  readonly late: boolean;
  constructor(reading: SensorReading, late: boolean) {
    this.sensorId = reading.sensorId;
    this.zone = reading.zone;
    this.ts = reading.ts;
    this.source = reading.source;
    this.lux = reading.lux;
    this.presence = reading.presence;
    this.late = late;
  }
}

function rawParams(row: unknown): Params {
  if (row instanceof CheckedRawEvent) {
    const p = row.presence;
    return [row.sensorId, row.zone, Math.floor(row.ts), row.lux ?? null, p === undefined ? null : p ? 1 : 0, row.source, row.late ? 1 : 0];
  }
  const r = rowObject('raw_sensor_events', row);
  const reading = validateSensorReading(r);
  const late = bool('raw_sensor_events', 'late', r.late, false);
  return [
    reading.sensorId,
    reading.zone,
    Math.floor(reading.ts),
    reading.lux ?? null,
    reading.presence === undefined ? null : reading.presence ? 1 : 0,
    reading.source,
    late,
  ];
}

function weatherParams(row: unknown): Params {
  const r = rowObject('weather_events', row);
  const w = validateWeatherUpdate(r);
  return [
    Math.floor(w.ts),
    w.zone ?? null,
    w.temperatureC ?? null,
    w.cloudCoverPct ?? null,
    w.solarRadiationWm2 ?? null,
    w.source,
    // Without `raw`, the validated update itself (keeps fields without a column, e.g. outdoorLux).
    json('weather_events', 'raw', r.raw === undefined ? w : r.raw),
  ];
}

function featureParams(row: unknown): Params {
  const t = 'feature_windows';
  const r = rowObject(t, row);
  const zone = requireId(`invalid ${t} row`, 'zone', r.zone);
  const start = ts(t, 'windowStart', r.windowStart);
  const end = ts(t, 'windowEnd', r.windowEnd);
  if (end < start) fail(t, 'windowEnd', `>= windowStart (${start})`, r.windowEnd);
  const count = int(t, 'count', r.count, 0, Number.MAX_SAFE_INTEGER, true);
  if (!isPlainRecord(r.lux)) fail(t, 'lux', 'an object {mean, min, max, std, last}', r.lux);
  if (!isPlainRecord(r.presence)) fail(t, 'presence', 'an object {ratio, transitions, last}', r.presence);
  const lux = r.lux;
  const p = r.presence;
  const luxField = (k: string): number | null => num(t, `lux.${k}`, lux[k], 0, Infinity);
  let weather: string | null = null;
  if (r.weather !== undefined && r.weather !== null) {
    if (!isPlainRecord(r.weather)) fail(t, 'weather', 'an object', r.weather);
    weather = json(t, 'weather', r.weather);
  }
  return [
    zone,
    start,
    end,
    count,
    luxField('mean'),
    luxField('min'),
    luxField('max'),
    luxField('std'),
    luxField('last'),
    num(t, 'presence.ratio', p.ratio, 0, 1),
    int(t, 'presence.transitions', p.transitions ?? 0, 0, Number.MAX_SAFE_INTEGER, true),
    optBool(t, 'presence.last', p.last),
    optTs(t, 'presence.lastTs', p.lastTs),
    weather,
    int(t, 'minuteOfDay', r.minuteOfDay, 0, 1439, true),
    int(t, 'weekday', r.weekday, 0, 6, true),
    r.partial === undefined ? 0 : bool(t, 'partial', r.partial),
  ];
}

function decisionParams(row: unknown): Params {
  const t = 'decisions';
  const r = rowObject(t, row);
  const source = r.source;
  if (typeof source !== 'string' || !(SETPOINT_SOURCES as readonly string[]).includes(source)) {
    fail(t, 'source', `one of ${SETPOINT_SOURCES.join(', ')}`, source);
  }
  const intensity = num(t, 'intensity', r.intensity, 0, 100);
  if (intensity === null) fail(t, 'intensity', 'a number 0-100 (percent)', r.intensity);
  const saving = num(t, 'energySavingEstimate', r.energySavingEstimate, -1e9, 1e9);
  return [
    ts(t, 'ts', r.ts),
    requireId(`invalid ${t} row`, 'zone', r.zone),
    source,
    intensity,
    num(t, 'cct', r.cct, ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX),
    optText(t, 'reason', r.reason) ?? '',
    bool(t, 'applied', r.applied),
    optText(t, 'blockedBy', r.blockedBy, 200),
    saving ?? (100 - intensity) / 100,
    num(t, 'estimatedWatts', r.estimatedWatts, 0, 1e9),
    optText(t, 'msgId', r.msgId, 200),
  ];
}

function telemetryParams(row: unknown): Params {
  const t = 'telemetry';
  const r = rowObject(t, row);
  const big = Number.MAX_SAFE_INTEGER;
  return [
    ts(t, 'ts', r.ts),
    r.zone === undefined || r.zone === null ? null : requireId(`invalid ${t} row`, 'zone', r.zone),
    requireId(`invalid ${t} row`, 'kind', r.kind),
    num(t, 'latencyMs', r.latencyMs, 0, Infinity),
    int(t, 'payloadBytes', r.payloadBytes, 0, big),
    int(t, 'promptTokens', r.promptTokens, 0, big),
    int(t, 'completionTokens', r.completionTokens, 0, big),
    optText(t, 'fallbackReason', r.fallbackReason),
    json(t, 'data', r.data),
  ];
}

function overrideParams(row: unknown): Params {
  const t = 'manual_overrides';
  const r = rowObject(t, row);
  const startedAt = ts(t, 'startedAt', r.startedAt);
  const expiresAt = optTs(t, 'expiresAt', r.expiresAt);
  if (expiresAt !== null && expiresAt < startedAt) fail(t, 'expiresAt', `>= startedAt (${startedAt}) or null`, r.expiresAt);
  return [
    requireId(`invalid ${t} row`, 'zone', r.zone),
    startedAt,
    expiresAt,
    optTs(t, 'clearedAt', r.clearedAt),
    requireId(`invalid ${t} row`, 'source', r.source),
    json(t, 'setpoint', r.setpoint),
  ];
}

function profileParams(row: unknown): Params {
  const t = 'personal_profiles';
  const r = rowObject(t, row);
  const id = requireId(`invalid ${t} row`, 'profileId', r.profileId);
  const payload = r.encryptedPayload;
  if (typeof payload !== 'string' || !looksLikeFernetToken(payload)) {
    // Never echo the value: it might be the plaintext profile.
    throw new ReadingValidationError(
      'encryptedPayload',
      `invalid ${t} row: encryptedPayload must be a Fernet token (ciphertext); refusing to store anything else`,
    );
  }
  const now = Date.now();
  const createdAt = optTs(t, 'createdAt', r.createdAt) ?? now;
  const updatedAt = optTs(t, 'updatedAt', r.updatedAt) ?? now;
  return [id, payload, createdAt, updatedAt];
}

export interface TableWriter {
  table: TableName;
  /** Columns in `params` order; a last column `gateway` (tables of GATEWAY_TABLES) is filled by the store handle, not by `params`. */
  columns: readonly string[];
  /** Upsert clause (feature_windows, personal_profiles); such tables are written one row per statement. */
  conflict?: string;
  /** Validates a row and returns its parameters in `columns` order. Throws RowValidationError. */
  params(row: unknown): SqlValue[];
  /**
   * SQLite: batches of this table are written as one json_each INSERT (json-bulk.ts); these
   * REAL columns travel as mantissa and exponent so that every value comes back bit for bit.
   */
  jsonBulk?: { realColumns: readonly string[] };
}

/**
 * Most rows in one multi-row INSERT: 512 (4 096 parameters for raw_sensor_events).
 * Fewer, larger statements cut the binding's fixed cost per run (profiled in
 * bench/ingest: 64-row chunks cost about twice the CPU per row of 512-row ones).
 */
export const MAX_ROWS_PER_INSERT = 512;
/** SQLite's parameter limit per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
export const MAX_SQL_PARAMS = 32_766;

/** Parameterised INSERT of `rows` rows (identifiers from the fixed table/column lists only). */
export function insertSql(writer: TableWriter, rows = 1): string {
  const one = `(${writer.columns.map(() => '?').join(', ')})`;
  const values = new Array<string>(rows).fill(one).join(', ');
  return `INSERT INTO ${writer.table} (${writer.columns.join(', ')}) VALUES ${values}${writer.conflict ? ` ${writer.conflict}` : ''}`;
}

export const WRITERS: Readonly<Record<TableName, TableWriter>> = {
  raw_sensor_events: {
    table: 'raw_sensor_events',
    columns: ['sensor_id', 'zone', 'ts', 'lux', 'presence', 'source', 'late', 'gateway'],
    params: rawParams,
    jsonBulk: { realColumns: ['lux'] },
  },
  weather_events: {
    table: 'weather_events',
    columns: ['ts', 'zone', 'temperature_c', 'cloud_cover_pct', 'solar_radiation_wm2', 'source', 'raw', 'gateway'],
    params: weatherParams,
  },
  feature_windows: {
    table: 'feature_windows',
    columns: [
      'zone',
      'window_start',
      'window_end',
      'count',
      'lux_mean',
      'lux_min',
      'lux_max',
      'lux_std',
      'lux_last',
      'presence_ratio',
      'presence_transitions',
      'presence_last',
      'presence_last_ts',
      'weather',
      'minute_of_day',
      'weekday',
      'partial',
      'gateway',
    ],
    // A complete window replaces a snapshot (partial) of the same zone/start; a snapshot never replaces a complete window.
    conflict: `ON CONFLICT (gateway, zone, window_start) DO UPDATE SET
            window_end = excluded.window_end, count = excluded.count, lux_mean = excluded.lux_mean,
            lux_min = excluded.lux_min, lux_max = excluded.lux_max, lux_std = excluded.lux_std, lux_last = excluded.lux_last,
            presence_ratio = excluded.presence_ratio, presence_transitions = excluded.presence_transitions,
            presence_last = excluded.presence_last, presence_last_ts = excluded.presence_last_ts, weather = excluded.weather,
            minute_of_day = excluded.minute_of_day, weekday = excluded.weekday, partial = excluded.partial
          WHERE excluded.partial = 0 OR feature_windows.partial = 1`,
    params: featureParams,
  },
  decisions: {
    table: 'decisions',
    columns: [
      'ts',
      'zone',
      'source',
      'intensity',
      'cct',
      'reason',
      'applied',
      'blocked_by',
      'energy_saving_estimate',
      'estimated_watts',
      'msg_id',
      'gateway',
    ],
    params: decisionParams,
  },
  telemetry: {
    table: 'telemetry',
    columns: [
      'ts',
      'zone',
      'kind',
      'latency_ms',
      'payload_bytes',
      'prompt_tokens',
      'completion_tokens',
      'fallback_reason',
      'data',
      'gateway',
    ],
    params: telemetryParams,
  },
  manual_overrides: {
    table: 'manual_overrides',
    columns: ['zone', 'started_at', 'expires_at', 'cleared_at', 'source', 'setpoint', 'gateway'],
    params: overrideParams,
  },
  personal_profiles: {
    table: 'personal_profiles',
    columns: ['profile_id', 'encrypted_payload', 'created_at', 'updated_at'],
    conflict: `ON CONFLICT (profile_id) DO UPDATE SET encrypted_payload = excluded.encrypted_payload, updated_at = excluded.updated_at`,
    params: profileParams,
  },
};

// ---- from SQL rows -------------------------------------------------------

function n(v: SqlValue | undefined): number | null {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
}
function s(v: SqlValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}
function parseJson(v: SqlValue | undefined): unknown {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return null;
  }
}

export function featureWindowFromSql(r: SqlRow): FeatureWindow {
  const presenceLast = n(r.presence_last);
  const w: FeatureWindow = {
    zone: s(r.zone) ?? '',
    windowStart: n(r.window_start) ?? 0,
    windowEnd: n(r.window_end) ?? 0,
    count: n(r.count) ?? 0,
    lux: { mean: n(r.lux_mean), min: n(r.lux_min), max: n(r.lux_max), std: n(r.lux_std), last: n(r.lux_last) },
    presence: {
      ratio: n(r.presence_ratio),
      transitions: n(r.presence_transitions) ?? 0,
      last: presenceLast === null ? null : presenceLast === 1,
      lastTs: n(r.presence_last_ts),
    },
    minuteOfDay: n(r.minute_of_day) ?? 0,
    weekday: n(r.weekday) ?? 0,
  };
  const weather = parseJson(r.weather);
  if (isPlainRecord(weather)) w.weather = weather as unknown as WeatherSnapshot;
  if (n(r.partial) === 1) w.partial = true;
  return w;
}

export function decisionFromSql(r: SqlRow): DecisionRecord {
  return {
    id: n(r.id) ?? 0,
    ts: n(r.ts) ?? 0,
    zone: s(r.zone) ?? '',
    source: (s(r.source) ?? 'rules') as SetpointSource,
    intensity: n(r.intensity) ?? 0,
    cct: n(r.cct),
    reason: s(r.reason) ?? '',
    applied: n(r.applied) === 1,
    blockedBy: s(r.blocked_by),
    energySavingEstimate: n(r.energy_saving_estimate),
    estimatedWatts: n(r.estimated_watts),
    msgId: s(r.msg_id),
    gateway: s(r.gateway) ?? '',
  };
}

export function telemetryFromSql(r: SqlRow): TelemetryRecord {
  return {
    id: n(r.id) ?? 0,
    ts: n(r.ts) ?? 0,
    zone: s(r.zone),
    kind: s(r.kind) ?? '',
    latencyMs: n(r.latency_ms),
    payloadBytes: n(r.payload_bytes),
    promptTokens: n(r.prompt_tokens),
    completionTokens: n(r.completion_tokens),
    fallbackReason: s(r.fallback_reason),
    data: parseJson(r.data),
    gateway: s(r.gateway) ?? '',
  };
}

export function overrideFromSql(r: SqlRow): ManualOverrideRecord {
  return {
    id: n(r.id) ?? 0,
    zone: s(r.zone) ?? '',
    startedAt: n(r.started_at) ?? 0,
    expiresAt: n(r.expires_at),
    clearedAt: n(r.cleared_at),
    source: s(r.source) ?? '',
    setpoint: parseJson(r.setpoint),
  };
}

export function profileFromSql(r: SqlRow): PersonalProfileRecord {
  return {
    profileId: s(r.profile_id) ?? '',
    encryptedPayload: s(r.encrypted_payload) ?? '',
    createdAt: n(r.created_at) ?? 0,
    updatedAt: n(r.updated_at) ?? 0,
  };
}

export function rawEventFromSql(r: SqlRow): RawSensorEventRow & { id: number } {
  const out: RawSensorEventRow & { id: number } = {
    id: n(r.id) ?? 0,
    sensorId: s(r.sensor_id) ?? '',
    zone: s(r.zone) ?? '',
    ts: n(r.ts) ?? 0,
    source: s(r.source) ?? '',
    late: n(r.late) === 1,
  };
  const lux = n(r.lux);
  const presence = n(r.presence);
  if (lux !== null) out.lux = lux;
  if (presence !== null) out.presence = presence === 1;
  return out;
}

export function weatherFromSql(r: SqlRow): WeatherUpdate & { id: number } {
  const out: WeatherUpdate & { id: number } = {
    id: n(r.id) ?? 0,
    ts: n(r.ts) ?? 0,
    zone: s(r.zone),
    source: s(r.source) ?? '',
  };
  const t = n(r.temperature_c);
  const c = n(r.cloud_cover_pct);
  const sr = n(r.solar_radiation_wm2);
  if (t !== null) out.temperatureC = t;
  if (c !== null) out.cloudCoverPct = c;
  if (sr !== null) out.solarRadiationWm2 = sr;
  const raw = parseJson(r.raw);
  if (isPlainRecord(raw) && typeof raw.outdoorLux === 'number' && Number.isFinite(raw.outdoorLux)) out.outdoorLux = raw.outdoorLux;
  return out;
}

// ---- alerts (migration 3; not a batched table: written by LightingStore.raiseAlert) ----

/** An alert to raise. */
/** alerts: an Alert (lib/contracts/alerts) as the store takes it. */
export type AlertRow = Alert;

export interface AlertRecord {
  id: number;
  ts: number;
  zone: string | null;
  kind: AlertKind;
  severity: AlertSeverity;
  message: string;
  data: unknown;
  /** null while active. */
  resolvedAt: number | null;
  resolvedBy: string | null;
  /** The gateway that raised it; '' when not set. */
  gateway: string;
}

/** Validated alert as SQL parameters [ts, zone, kind, severity, message, data]. Throws RowValidationError naming the field. */
export function alertParams(
  row: unknown,
  now: number = Date.now(),
): [number, string | null, AlertKind, AlertSeverity, string, string | null] {
  const t = 'alerts';
  const r = rowObject(t, row);
  const kind = r.kind;
  if (typeof kind !== 'string' || !(ALERT_KINDS as readonly string[]).includes(kind))
    fail(t, 'kind', `one of ${ALERT_KINDS.join(', ')}`, kind);
  const severity = r.severity ?? 'warning';
  if (typeof severity !== 'string' || !(ALERT_SEVERITIES as readonly string[]).includes(severity)) {
    fail(t, 'severity', `one of ${ALERT_SEVERITIES.join(', ')}`, severity);
  }
  const message = r.message;
  if (typeof message !== 'string' || message.trim() === '' || message.length > MAX_ALERT_MESSAGE) {
    fail(t, 'message', `a non-empty string of at most ${MAX_ALERT_MESSAGE} characters`, message);
  }
  return [
    optTs(t, 'ts', r.ts) ?? Math.floor(now),
    r.zone === undefined || r.zone === null ? null : requireId(`invalid ${t} row`, 'zone', r.zone),
    kind as AlertKind,
    severity as AlertSeverity,
    message,
    json(t, 'data', r.data),
  ];
}

export function alertFromSql(r: SqlRow): AlertRecord {
  return {
    id: n(r.id) ?? 0,
    ts: n(r.ts) ?? 0,
    zone: s(r.zone),
    kind: (s(r.kind) ?? 'other') as AlertKind,
    severity: (s(r.severity) ?? 'warning') as AlertSeverity,
    message: s(r.message) ?? '',
    data: parseJson(r.data),
    resolvedAt: n(r.resolved_at),
    resolvedBy: s(r.resolved_by),
    gateway: s(r.gateway) ?? '',
  };
}
