/**
 * The endpoint registry of the HTTP API: one entry per route the main flow
 * (flows/smart-lighting.json) serves with an `http in` node, with what a
 * client must know about it. The OpenAPI document (./openapi) is generated
 * from it, the front door knows the API's routes from it, and the tests hold
 * the flow, this registry and the real answers together (an `http in` node
 * without an entry, or an entry without a node, fails them).
 *
 * Request schemas are the ones api-guard validates with (./schemas): the
 * same objects, never a copy. Operations whose input is checked in code
 * (predict, alerts, resolve, energy, AI telemetry, profile) have their one
 * schema here, and a unit test proves every example request passes both.
 *
 * Answer schemas are JSON Schema 2020-12 (OpenAPI 3.1); the reference
 * service's field names are added beside ours from ./reference-names.
 */
import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  COMMAND_KELVIN_MAX,
  COMMAND_KELVIN_MIN,
  MAX_ID_LENGTH,
  SETPOINT_SOURCES as DECISION_SOURCES,
} from '../contracts';
import { MAX_PROFILE_ID_LENGTH } from '../crypto';
import { SUGGESTION_KINDS, SUGGESTION_STATUSES } from '../learning/types';
import type { ApiOperation } from './api-request';
import { withReferenceNameProperties } from './reference-names';
import { CONTROL_SCHEMA, SENSOR_SCHEMA, TELEMETRY_SCHEMA, WEATHER_SCHEMA } from './schemas';

export type JsonSchema = Record<string, unknown>;
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** Statuses an endpoint may answer with a {"detail"} body. */
export type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 415 | 429 | 500 | 503;

/** A request the tests send (and the docs show): it must get `status`. */
export interface ExampleRequest {
  query?: Record<string, string>;
  /** Path parameters (`:id`). */
  params?: Record<string, string>;
  body?: unknown;
  status: number;
}

export interface Endpoint {
  operation: ApiOperation;
  /** OpenAPI operationId (unique). */
  id: string;
  method: HttpMethod;
  /** Express form, as in the `http in` node (`/alerts/:id/resolve`). */
  path: string;
  tag: string;
  summary: string;
  description: string;
  /** Needs `Authorization: Bearer <ADMIN_TOKEN>`. */
  admin: boolean;
  /** Rate limited per client (429). */
  rateLimited: boolean;
  /** Object schema whose properties are the query parameters. */
  query?: JsonSchema;
  /** Path parameters: name -> schema. */
  params?: Record<string, JsonSchema>;
  /** JSON body schema. */
  body?: JsonSchema;
  /** Whether a body is required. */
  bodyRequired?: boolean;
  /** Successful answers: status -> schema (health's 503 is a report too). */
  answers: Record<number, { description: string; schema: JsonSchema }>;
  /** Error answers with a {"detail"} body: status -> when. */
  errors: Partial<Record<ErrorStatus, string>>;
  example: ExampleRequest;
}

// ---- answer schemas ---------------------------------------------------------

const ms = { type: 'integer', minimum: 0, description: 'epoch milliseconds' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** An object schema with the reference's names added beside ours. */
function object(properties: Record<string, unknown>, required: readonly string[] = [], description?: string): JsonSchema {
  const both = withReferenceNameProperties({ properties, required });
  return {
    type: 'object',
    ...(description !== undefined ? { description } : {}),
    ...(both.required !== undefined && both.required.length > 0 ? { required: both.required } : {}),
    properties: both.properties,
  };
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** A page of `item` (GET /telemetry, /alerts). */
function page(item: JsonSchema, description: string): JsonSchema {
  return object(
    {
      items: { type: 'array', items: item },
      total: { type: 'integer', minimum: 0, description: 'rows matching the filters, over all pages' },
      limit: { type: 'integer', minimum: 1 },
      offset: { type: 'integer', minimum: 0 },
      page: { type: 'integer', minimum: 1, description: 'present when the request paged with `page`' },
      nextCursor: { ...nullableString, description: 'pass as `cursor` for the next page; null on the last page' },
    },
    ['items', 'total', 'limit', 'offset', 'nextCursor'],
    description,
  );
}

/** Shared answer schemas, published under components.schemas. */
export const ANSWER_SCHEMAS: Record<string, JsonSchema> = {
  Detail: object({ detail: { type: 'string', description: 'what is wrong' } }, ['detail'], 'Every error answer (FastAPI style).'),
  Setpoint: object(
    {
      zone: { type: 'string' },
      intensity: { type: 'number', minimum: 0, maximum: 100, description: 'percent of full output' },
      cct: {
        type: ['number', 'null'],
        minimum: COMMAND_KELVIN_MIN,
        maximum: COMMAND_KELVIN_MAX,
        description: 'correlated colour temperature, kelvin',
      },
      reason: { type: 'string', description: 'every rule that fired, or the AI reason' },
      source: { type: 'string', enum: [...DECISION_SOURCES] },
      fadeMs: { type: 'integer', minimum: 0 },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
    },
    ['zone', 'intensity', 'cct', 'reason', 'source'],
    'A setpoint for a zone.',
  ),
  Decision: object(
    {
      id: { type: 'integer' },
      ts: ms,
      zone: { type: 'string' },
      source: { type: 'string', enum: [...DECISION_SOURCES] },
      intensity: { type: 'number' },
      cct: nullableNumber,
      reason: { type: 'string' },
      applied: { type: 'boolean', description: 'sent to the gear (false: blocked by a guard or override)' },
      blockedBy: nullableString,
      energySavingEstimate: { ...nullableNumber, description: '(100 - intensity) / 100, as the reference' },
      estimatedWatts: nullableNumber,
      msgId: nullableString,
      gateway: { type: 'string' },
    },
    ['id', 'ts', 'zone', 'source', 'intensity', 'cct', 'reason', 'applied', 'energySavingEstimate'],
    'A recorded decision.',
  ),
  TelemetryRow: object(
    {
      id: { type: 'integer' },
      ts: ms,
      zone: nullableString,
      kind: { type: 'string' },
      latencyMs: nullableNumber,
      payloadBytes: nullableNumber,
      promptTokens: nullableNumber,
      completionTokens: nullableNumber,
      fallbackReason: nullableString,
      data: { description: 'anything else of the row, as stored' },
      gateway: { type: 'string' },
    },
    ['id', 'ts', 'kind'],
    'A telemetry row (GET /telemetry?kind=...).',
  ),
  Alert: object(
    {
      id: { type: 'integer' },
      ts: ms,
      zone: nullableString,
      kind: { type: 'string', enum: [...ALERT_KINDS] },
      severity: { type: 'string', enum: [...ALERT_SEVERITIES] },
      message: { type: 'string' },
      data: { description: 'details of the cause' },
      resolvedAt: { type: ['integer', 'null'], description: 'epoch ms; null while active' },
      resolvedBy: nullableString,
      gateway: { type: 'string' },
    },
    ['id', 'ts', 'kind', 'severity', 'message', 'resolvedAt'],
    'An alert.',
  ),
};

const INGEST_ACK = object(
  {
    ok: { const: true },
    id: { type: 'integer', description: 'row id' },
    committed: { const: true, description: 'the row is in the database' },
    late: { type: 'boolean', description: 'older than the current feature window (stored, not windowed)' },
    sensorId: { type: 'string', description: 'the sensor the reading was stored for' },
  },
  ['ok', 'id', 'committed'],
);

const CONTROL_ANSWER = object(
  {
    zone: { type: 'string' },
    source: { const: 'manual' },
    reason: { type: 'string' },
    address: { type: 'string', description: 'the zone\'s DALI group ("G0") or short addresses' },
    intensity: { type: 'number', minimum: 0, maximum: 100 },
    cct: { type: 'number' },
    level: { type: 'integer', minimum: 0, maximum: 254, description: 'DALI arc power level sent' },
    mirek: { type: 'integer', description: 'DT8 colour temperature sent, mirek' },
    fadeMs: { type: 'integer', minimum: 0 },
    frames: { type: 'integer', minimum: 0, description: 'DALI forward frames sent' },
    busTimeMs: { type: 'number', minimum: 0 },
    tcLimits: { type: 'object', description: 'colour temperature limits of the gear used' },
    manualOverride: { type: 'boolean', description: 'the zone is held at this setpoint' },
    overrideMinutes: { type: 'integer', minimum: 0, description: 'minutes the zone is held (0: not held)' },
  },
  ['zone', 'source', 'intensity', 'cct', 'level', 'frames', 'address', 'manualOverride', 'overrideMinutes'],
  'What was applied on the bus.',
);

const ENERGY_TOTALS = {
  energyWh: nullableNumber,
  baselineWh: { ...nullableNumber, description: 'at 100 % all the time' },
  savedWh: nullableNumber,
  savedPct: nullableNumber,
  meanIntensityPct: nullableNumber,
};

const ENERGY_REPORT = object(
  {
    day: { type: 'string', format: 'date' },
    zone: nullableString,
    from: ms,
    to: ms,
    hours: { type: 'number' },
    complete: { type: 'boolean', description: 'false while the day is not over' },
    fixtureWatts: {
      ...nullableNumber,
      description: 'rated power at 100 %, W, of a zone the zone map gives none for (null: its Wh fields null)',
    },
    decisions: { type: 'integer', minimum: 0 },
    ...ENERGY_TOTALS,
    zones: {
      type: 'array',
      items: object(
        {
          zone: { type: 'string' },
          fixtureWatts: { ...nullableNumber, description: "rated power of this zone at 100 %, W: the zone map's, else the node's" },
          rows: { type: 'integer' },
          ...ENERGY_TOTALS,
          meanSavingEstimate: nullableNumber,
          assumedInitial: { type: 'boolean' },
        },
        ['zone'],
      ),
    },
  },
  ['day', 'zone', 'from', 'to', 'complete', 'decisions', 'energyWh', 'savedPct', 'zones'],
  "A day's energy from the decisions.",
);

const AI_REPORT = object(
  {
    day: nullableString,
    month: nullableString,
    zone: nullableString,
    from: ms,
    to: ms,
    calls: { type: 'integer', minimum: 0 },
    aiCalls: { type: 'integer', minimum: 0, description: 'calls the model answered' },
    fallbacks: { type: 'integer', minimum: 0 },
    fallbacksByReason: { type: 'object', additionalProperties: { type: 'integer' } },
    tokens: object({ input: { type: 'integer' }, output: { type: 'integer' }, total: { type: 'integer' } }, ['input', 'output', 'total']),
    callsWithoutTokens: { type: 'integer', minimum: 0 },
    latencyMs: object({ p50: nullableNumber, p95: nullableNumber, max: nullableNumber }, ['p50', 'p95', 'max']),
    cost: { ...nullableNumber, description: 'null while a price is not set' },
    prices: object({ inputPerMTok: nullableNumber, outputPerMTok: nullableNumber }, ['inputPerMTok', 'outputPerMTok']),
    models: { type: 'object', additionalProperties: { type: 'integer' } },
  },
  ['day', 'month', 'from', 'to', 'calls', 'aiCalls', 'fallbacks', 'fallbacksByReason', 'tokens', 'latencyMs', 'cost', 'prices', 'models'],
  'The AI calls of a day or month.',
);

const HEALTH_REPORT = object(
  {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    database: { type: 'string', description: '"ok" or the error' },
    scheduler: { type: 'string', description: '"running", "stopped" or "unknown"' },
    dali: object({ state: { type: 'string' }, kind: { type: 'string' }, detail: { type: 'string' }, diagnostics: { type: 'object' } }, [
      'state',
    ]),
    version: { type: 'string' },
    ts: { type: 'string', format: 'date-time' },
    checks: { type: 'object', description: 'each probe: ok, status, durationMs, detail' },
  },
  ['status', 'database', 'scheduler', 'dali', 'version'],
  'The health report.',
);

// ---- request schemas checked in code ------------------------------------------

const zoneField = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'a zone of the zone map' } as const;
const gatewayField = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'rows of one gateway only' } as const;

const PREDICT_BODY = { type: 'object', properties: { zone: zoneField } } as const;
const ENERGY_QUERY = {
  type: 'object',
  properties: {
    day: { type: 'string', format: 'date', description: 'local calendar day, default today' },
    zone: zoneField,
    gateway: gatewayField,
  },
} as const;
const REPORT_QUERY = {
  type: 'object',
  properties: {
    zone: zoneField,
    period: { type: 'string', enum: ['day', 'week'], default: 'day' },
    day: { type: 'string', format: 'date', description: 'the day, or the last day of the week; local, default today, not in the future' },
    format: {
      type: 'string',
      enum: ['html', 'json'],
      default: 'html',
      description: 'html: a page of SVG charts (text/html); json: the figures',
    },
  },
  additionalProperties: false,
} as const;
/** One hour (day report) or day (week report) of a zone. */
const REPORT_BUCKET = object(
  {
    label: { type: 'string' },
    from: ms,
    to: ms,
    energyWh: nullableNumber,
    baselineWh: nullableNumber,
    meanIntensityPct: nullableNumber,
    occupiedMinutes: { type: 'number', minimum: 0 },
    luxWhileOccupied: nullableNumber,
    decisions: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
    applied: { type: 'integer', minimum: 0 },
    blocked: { type: 'integer', minimum: 0 },
    overrides: { type: 'integer', minimum: 0 },
    aiCalls: { type: 'integer', minimum: 0 },
    fallbacks: { type: 'integer', minimum: 0 },
    alerts: { type: 'integer', minimum: 0 },
  },
  [
    'label',
    'from',
    'to',
    'energyWh',
    'baselineWh',
    'occupiedMinutes',
    'decisions',
    'applied',
    'blocked',
    'overrides',
    'aiCalls',
    'fallbacks',
    'alerts',
  ],
);
const REPORT = object(
  {
    period: { type: 'string', enum: ['day', 'week'] },
    day: { type: 'string', format: 'date' },
    from: ms,
    to: ms,
    generatedAt: ms,
    zones: {
      type: 'array',
      items: object(
        {
          zone: { type: 'string' },
          label: { type: 'string' },
          targetLux: nullableNumber,
          fixtureWatts: nullableNumber,
          buckets: { type: 'array', items: REPORT_BUCKET },
          totals: REPORT_BUCKET,
          assumedInitial: { type: 'boolean' },
        },
        ['zone', 'targetLux', 'fixtureWatts', 'buckets', 'totals', 'assumedInitial'],
      ),
    },
  },
  ['period', 'day', 'from', 'to', 'generatedAt', 'zones'],
  'A daily or weekly report (format=json).',
);
/** POST /admin/demand-response: the one schema (the guard checks it in code, lib/control/demand-response). */
const DEMAND_RESPONSE_BODY = {
  type: 'object',
  properties: {
    level: {
      description: '"shed" (the configured share, default 15 %), "normal" or 0 (ends the event), or a reduction in percent',
      anyOf: [
        { type: 'string', enum: ['shed', 'normal'] },
        { type: 'number', minimum: 0, maximum: 100 },
        { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
      ],
    },
    until: {
      description: 'when the event ends: ISO 8601 or epoch ms (default: in 60 minutes)',
      anyOf: [
        { type: 'string', format: 'date-time' },
        { type: 'integer', minimum: 0 },
      ],
    },
    minutes: { type: 'number', exclusiveMinimum: 0, maximum: 10080, description: 'instead of until' },
    end: { type: 'boolean', description: 'true ends the event' },
  },
} as const;
const DEMAND_RESPONSE_ANSWER = object(
  {
    ok: { const: true },
    active: { type: 'boolean' },
    level: {
      description: 'the level asked for; null when the event ended',
      anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }],
    },
    until: { ...nullableString, description: 'ISO 8601; null when the event ended' },
  },
  ['ok', 'active', 'level', 'until'],
);
const SUGGESTIONS_QUERY = {
  type: 'object',
  properties: {
    status: {
      type: 'string',
      enum: [...SUGGESTION_STATUSES, 'all'],
      description: 'default: every status; superseded: accepted ones a revision replaced',
    },
    zone: { type: 'string', maxLength: 200 },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
  },
} as const;
/** One suggestion (lib/learning/types Suggestion; snake_case as the store keeps it). */
const SUGGESTION = {
  type: 'object',
  required: [
    'id',
    'zone',
    'kind',
    'summary',
    'status',
    'support_days',
    'confidence',
    'evidence',
    'change',
    'created_at',
    'updated_at',
    'decided_at',
    'decided_by',
    'pattern_key',
    'supersedes',
  ],
  properties: {
    id: { type: 'integer', minimum: 1 },
    zone: { type: 'string' },
    kind: { type: 'string', enum: [...SUGGESTION_KINDS] },
    summary: { type: 'string' },
    status: { type: 'string', enum: [...SUGGESTION_STATUSES] },
    support_days: { type: 'integer', minimum: 0, description: 'distinct days the pattern was seen on' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    evidence: {
      type: 'array',
      items: {
        type: 'object',
        required: ['table', 'id', 'ts', 'note'],
        properties: { table: { type: 'string' }, id: { type: 'integer' }, ts: ms, note: { type: 'string' } },
      },
    },
    change: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { type: 'string', enum: [...SUGGESTION_KINDS] } },
      description: 'the schedule rule it becomes when accepted',
    },
    created_at: ms,
    updated_at: ms,
    decided_at: { anyOf: [ms, { type: 'null' }] },
    decided_by: nullableString,
    pattern_key: { type: 'string' },
    supersedes: {
      anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }],
      description: 'a revision: the id of the accepted suggestion (the rule in force) it replaces when accepted',
    },
  },
} as const;
const DECIDE_SUGGESTION_BODY = {
  type: 'object',
  properties: { by: { type: 'string', minLength: 1, maxLength: 200, description: 'who decided (default "api")' } },
} as const;
const AI_TELEMETRY_QUERY = {
  type: 'object',
  properties: {
    day: { type: 'string', format: 'date', description: 'local calendar day (default: today)' },
    month: { type: 'string', pattern: '^\\d{4}-\\d{2}$', description: 'YYYY-MM, instead of day' },
    zone: zoneField,
    gateway: gatewayField,
  },
} as const;
// `source` filters decisions, not alerts: not a parameter of /alerts.
const { source: _decisionSource, ...PAGING } = TELEMETRY_SCHEMA.properties;
const ALERTS_QUERY = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['active', 'resolved', 'all'], default: 'active' },
    ...PAGING,
    kind: { type: 'string', enum: [...ALERT_KINDS] },
  },
} as const;
const RESOLVE_BODY = {
  type: 'object',
  properties: {
    resolved_by: { type: 'string', minLength: 1, maxLength: 200 },
    resolvedBy: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;
const PROFILE_BODY = {
  type: 'object',
  required: ['profile_id', 'encrypted_payload'],
  properties: {
    profile_id: { type: 'string', minLength: 1, maxLength: MAX_PROFILE_ID_LENGTH },
    encrypted_payload: { type: 'string', description: 'a Fernet token (FERNET_KEY) of the profile JSON' },
  },
  additionalProperties: false,
} as const;

/**
 * The reference service's sample profile: a Fernet token under its sample key
 * FERNET_KEY=3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI= (see the README).
 */
export const EXAMPLE_PROFILE = {
  profile_id: 'default',
  encrypted_payload:
    'gAAAAABo4PAvYlWPthidnVT7J6fenDz6fWRgV8NDXBnqk-BIJreM3ztvh9sV9LIaIzxUQQuI_fV0fSsZ-8qkh0OZC4bISF0kksUZdV8nd_IaareG2IfF1iFbhBRPtX0t31os331hosKj4C-vtfLSXjdlY1NkbLuf6wvZH3sMOyCU8jTiNF5nso4jJv_4rdCb9y-MpmFJAToOLpPhpDsow85y_DCJ3oT-ik3JyNSwmxNS38ES1YT6GSx1wJxqv8j55phueS1mumo9QGdqhwkp3A13r8TuCeCX9MD53yOMmDNcj3ARKGx3Axe8aMiTfQHAmS92AXPnnQOO2q3mktOAKjU19RSF9uQdJTfl3SzneO17TTPMmijKdt9CjuJ8K58ghBaZlvNkcc7JZJAfeUScvOKaZA6SvHc1Vu-iPzBbVbvwTMUtWVl5L30=',
};

// ---- the registry -----------------------------------------------------------------

const COMMON_ERRORS = {
  429: 'too many requests from this client (Retry-After says when to come back)',
  500: 'a node failed while handling the request',
  503: 'the database cannot store or read now, or the flows are not running (Retry-After)',
} as const;
const BODY_ERRORS = {
  413: "body larger than Node-RED's apiMaxLength",
  415: 'compressed body (Content-Encoding)',
} as const;

/** POST /suggestions/:id/accept and /reject: the same request and answers. */
function decideSuggestionEndpoint(verb: 'accept' | 'reject'): Endpoint {
  return {
    operation: `${verb}-suggestion`,
    id: `${verb}Suggestion`,
    method: 'POST',
    path: `/suggestions/:id/${verb}`,
    tag: 'learning',
    summary: verb === 'accept' ? 'Accept a suggestion' : 'Reject a suggestion',
    description:
      'Only a pending suggestion can be decided (409 otherwise). ' +
      (verb === 'accept'
        ? 'An accepted one becomes a schedule rule from the next decision on, before the clamps; ' +
          'accepting a revision (supersedes set) marks the rule it names superseded in the same step.'
        : 'A rejected pattern is proposed again only when its evidence grows; rejecting a revision leaves the rule in force.'),
    admin: true,
    rateLimited: true,
    params: { id: { type: 'integer', minimum: 1 } },
    body: DECIDE_SUGGESTION_BODY,
    answers: { 200: { description: 'the suggestion, decided', schema: object({ suggestion: SUGGESTION }, ['suggestion']) } },
    errors: {
      400: 'bad id or body',
      401: 'missing or wrong Bearer token',
      404: 'no suggestion with this id',
      409: 'decided already',
      ...BODY_ERRORS,
      ...COMMON_ERRORS,
    },
    example: { params: { id: '1' }, body: { by: 'facility manager' }, status: 200 },
  };
}

export const API_ENDPOINTS: readonly Endpoint[] = [
  {
    operation: 'ingest-sensor',
    id: 'ingestSensor',
    method: 'POST',
    path: '/ingest/sensor',
    tag: 'ingest',
    summary: 'Store a light/presence sensor reading',
    description: 'Answers once the row is committed. `ts` is epoch ms or ISO 8601 (default now), at most 60 s ahead of the server clock.',
    admin: false,
    rateLimited: true,
    body: SENSOR_SCHEMA,
    bodyRequired: true,
    answers: { 201: { description: 'stored', schema: INGEST_ACK } },
    errors: { 400: 'bad reading', 404: 'zone not in the zone map, or a sensor its zone does not list', ...BODY_ERRORS, ...COMMON_ERRORS },
    example: { body: { sensor_id: '10', zone: 'office-1', lux: 320, presence: true }, status: 201 },
  },
  {
    operation: 'ingest-weather',
    id: 'ingestWeather',
    method: 'POST',
    path: '/ingest/weather',
    tag: 'ingest',
    summary: 'Store a weather update',
    description: 'Zone absent: every zone. At least one of temperature, cloud cover, solar radiation, outdoor lux.',
    admin: false,
    rateLimited: true,
    body: WEATHER_SCHEMA,
    bodyRequired: true,
    answers: { 201: { description: 'stored', schema: INGEST_ACK } },
    errors: { 400: 'bad weather update', 404: 'zone not in the zone map', ...BODY_ERRORS, ...COMMON_ERRORS },
    example: { body: { temperature_c: 12.5, cloud_cover_pct: 40 }, status: 201 },
  },
  {
    operation: 'admin',
    id: 'aggregateNow',
    method: 'POST',
    path: '/admin/aggregate-now',
    tag: 'admin',
    summary: 'Write the open feature windows now',
    description: "Snapshots of the windows being filled, as the reference's manual aggregation.",
    admin: true,
    rateLimited: true,
    answers: {
      200: {
        description: 'aggregated',
        schema: object({ ok: { const: true }, aggregated: { type: 'integer', minimum: 0 } }, ['ok', 'aggregated']),
      },
    },
    errors: {
      401: 'missing or wrong Bearer token',
      ...COMMON_ERRORS,
      503: 'no admin token configured, or the database cannot be used now',
    },
    example: { status: 200 },
  },
  {
    operation: 'predict',
    id: 'predict',
    method: 'POST',
    path: '/predict',
    tag: 'control',
    summary: 'Ask for a setpoint from the latest feature windows',
    description: 'The AI with an OpenAI key, else the rules; at most 3 windows under the payload cap. Nothing is applied.',
    admin: false,
    rateLimited: true,
    body: PREDICT_BODY,
    answers: { 200: { description: 'a setpoint', schema: ref('Setpoint') } },
    errors: { 400: 'bad request, or "No features available"', 404: 'zone not in the zone map', ...BODY_ERRORS, ...COMMON_ERRORS },
    example: { body: { zone: 'office-1' }, status: 200 },
  },
  {
    operation: 'control',
    id: 'control',
    method: 'POST',
    path: '/control',
    tag: 'control',
    summary: 'Apply a manual setpoint to a zone',
    description: 'Recorded as a decision; with `manual_override` the zone is held for `override_minutes` (default 30).',
    admin: false,
    rateLimited: true,
    body: CONTROL_SCHEMA,
    bodyRequired: true,
    answers: { 200: { description: 'applied on the bus', schema: CONTROL_ANSWER } },
    errors: { 400: 'intensity, cct or another field out of range', 404: 'zone not in the zone map', ...BODY_ERRORS, ...COMMON_ERRORS },
    example: {
      body: { zone: 'office-1', intensity: 55, cct: 4000, reason: 'manual tweak', manual_override: true, override_minutes: 30 },
      status: 200,
    },
  },
  {
    operation: 'telemetry',
    id: 'telemetry',
    method: 'GET',
    path: '/telemetry',
    tag: 'telemetry',
    summary: 'Decisions (or telemetry rows of a kind), newest first',
    description: 'Pages with `limit` and `offset`, `page` or `cursor`. With `kind` the telemetry rows of that kind (e.g. `ai`).',
    admin: false,
    rateLimited: true,
    query: TELEMETRY_SCHEMA,
    answers: {
      200: {
        description: 'a page',
        schema: page({ anyOf: [ref('Decision'), ref('TelemetryRow')] }, 'A page of decisions (telemetry rows with `kind`).'),
      },
    },
    errors: { 400: 'bad query', 404: 'zone not in the zone map', ...COMMON_ERRORS },
    example: { query: { limit: '5' }, status: 200 },
  },
  {
    operation: 'telemetry-ai',
    id: 'telemetryAi',
    method: 'GET',
    path: '/telemetry/ai',
    tag: 'telemetry',
    summary: 'AI calls of a day or month, with tokens, latency and cost',
    description: 'Cost from AI_PRICE_INPUT_PER_MTOK / AI_PRICE_OUTPUT_PER_MTOK (null while unset).',
    admin: false,
    rateLimited: true,
    query: AI_TELEMETRY_QUERY,
    answers: { 200: { description: 'the summary', schema: AI_REPORT } },
    errors: { 400: 'bad query, or a period that has not begun', 404: 'zone not in the zone map', ...COMMON_ERRORS },
    example: { status: 200 },
  },
  {
    operation: 'energy',
    id: 'energy',
    method: 'GET',
    path: '/telemetry/energy',
    tag: 'telemetry',
    summary: "A day's energy and savings from the decisions",
    description: 'Wh, the baseline at 100 %, saved Wh and percent, per zone.',
    admin: false,
    rateLimited: true,
    query: ENERGY_QUERY,
    answers: { 200: { description: 'the day', schema: ENERGY_REPORT } },
    errors: { 400: 'bad query, or a day that has not begun', 404: 'zone not in the zone map', ...COMMON_ERRORS },
    example: { query: { zone: 'office-1' }, status: 200 },
  },
  {
    operation: 'health',
    id: 'health',
    method: 'GET',
    path: '/healthz',
    tag: 'health',
    summary: 'Database, DALI interface and scheduler',
    description: 'Never rate limited. 503 with `status: "degraded"` when a part is not well.',
    admin: false,
    rateLimited: false,
    answers: {
      200: { description: 'all well', schema: HEALTH_REPORT },
      503: { description: 'degraded (or the flows are not running: {"detail"})', schema: { anyOf: [HEALTH_REPORT, ref('Detail')] } },
    },
    errors: { 500: COMMON_ERRORS[500] },
    example: { status: 200 },
  },
  {
    operation: 'alerts',
    id: 'alerts',
    method: 'GET',
    path: '/alerts',
    tag: 'alerts',
    summary: 'Alerts, newest first',
    description: 'Active by default; `status=resolved` or `all`; paged like /telemetry.',
    admin: false,
    rateLimited: true,
    query: ALERTS_QUERY,
    answers: { 200: { description: 'a page', schema: page(ref('Alert'), 'A page of alerts.') } },
    errors: { 400: 'bad query', 404: 'zone not in the zone map', ...COMMON_ERRORS },
    example: { query: { status: 'all' }, status: 200 },
  },
  {
    operation: 'resolve-alert',
    id: 'resolveAlert',
    method: 'POST',
    path: '/alerts/:id/resolve',
    tag: 'alerts',
    summary: 'Resolve an alert',
    description: 'Again 200 when it is resolved already.',
    admin: false,
    rateLimited: true,
    params: { id: { type: 'integer', minimum: 1 } },
    body: RESOLVE_BODY,
    answers: { 200: { description: 'the resolved alert', schema: ref('Alert') } },
    errors: { 400: 'bad id or body', 404: 'no alert with this id', ...BODY_ERRORS, ...COMMON_ERRORS },
    example: { params: { id: '1' }, body: { resolved_by: 'facility manager' }, status: 200 },
  },
  {
    operation: 'profile',
    id: 'storeProfile',
    method: 'POST',
    path: '/admin/profile',
    tag: 'admin',
    summary: 'Store an encrypted personal profile',
    description: 'The Fernet token must decrypt with FERNET_KEY into a profile; it is stored still encrypted.',
    admin: true,
    rateLimited: true,
    body: PROFILE_BODY,
    bodyRequired: true,
    answers: {
      201: {
        description: 'stored',
        schema: object({ ok: { const: true }, profileId: { type: 'string' }, stored: { const: true } }, ['ok', 'profileId', 'stored']),
      },
    },
    errors: {
      400: 'not a Fernet token, wrong key or tampered',
      401: 'missing or wrong Bearer token',
      ...BODY_ERRORS,
      ...COMMON_ERRORS,
      503: 'FERNET_KEY or the admin token not set, or the database cannot be used now',
    },
    example: { body: EXAMPLE_PROFILE, status: 201 },
  },
  {
    operation: 'report',
    id: 'report',
    method: 'GET',
    path: '/report',
    tag: 'telemetry',
    summary: 'A daily or weekly report per zone (HTML charts or JSON)',
    description:
      'Energy used against the 100 % baseline, lux while occupied against the target, decisions by source, blocked changes, overrides, AI calls and fallbacks, alerts; per hour (day) or per day (week). `format=html` (the default) answers a self-contained text/html page of SVG charts.',
    admin: false,
    rateLimited: true,
    query: REPORT_QUERY,
    answers: { 200: { description: 'the report (format=json)', schema: REPORT } },
    errors: { 400: 'bad query, or a day in the future', 404: 'zone not in the zone map', ...COMMON_ERRORS },
    example: { query: { period: 'day', format: 'json' }, status: 200 },
  },
  {
    operation: 'demand-response',
    id: 'startDemandResponse',
    method: 'POST',
    path: '/admin/demand-response',
    tag: 'admin',
    summary: 'Start (or end) a demand response event',
    description:
      'While the event lasts every automatic setpoint is capped at 100 minus the share, before the accessibility and safety clamps (they still win); manual setpoints are untouched. It ends by itself at `until`.',
    admin: true,
    rateLimited: true,
    body: DEMAND_RESPONSE_BODY,
    answers: { 200: { description: 'the event as it now stands', schema: DEMAND_RESPONSE_ANSWER } },
    errors: {
      400: 'level, until or minutes not valid',
      401: 'missing or wrong Bearer token',
      ...BODY_ERRORS,
      ...COMMON_ERRORS,
      503: 'the admin token is not set',
    },
    example: { body: { level: 'shed', minutes: 30 }, status: 200 },
  },
  {
    operation: 'demand-response',
    id: 'endDemandResponse',
    method: 'DELETE',
    path: '/admin/demand-response',
    tag: 'admin',
    summary: 'End the demand response event now',
    description: 'Same as POST with level 0.',
    admin: true,
    rateLimited: true,
    answers: { 200: { description: 'no event', schema: DEMAND_RESPONSE_ANSWER } },
    errors: { 401: 'missing or wrong Bearer token', ...COMMON_ERRORS, 503: 'the admin token is not set' },
    example: { status: 200 },
  },
  {
    operation: 'suggestions',
    id: 'suggestions',
    method: 'GET',
    path: '/suggestions',
    tag: 'learning',
    summary: "Suggestions mined from people's overrides, newest first",
    description: 'Each with its support (days), confidence, evidence rows and the schedule change it implies.',
    admin: false,
    rateLimited: true,
    query: SUGGESTIONS_QUERY,
    answers: { 200: { description: 'the list', schema: object({ suggestions: { type: 'array', items: SUGGESTION } }, ['suggestions']) } },
    errors: { 400: 'bad query', ...COMMON_ERRORS },
    example: { query: { status: 'pending' }, status: 200 },
  },
  decideSuggestionEndpoint('accept'),
  decideSuggestionEndpoint('reject'),
];

/** The entry of method + Express path, if any. */
export function findEndpoint(method: string, path: string): Endpoint | undefined {
  const m = method.toUpperCase();
  return API_ENDPOINTS.find((e) => e.method === m && e.path === path);
}
