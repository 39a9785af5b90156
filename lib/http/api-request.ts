/**
 * One HTTP API request (or an MQTT/inject message standing in for one) turned
 * into either a validated message for the flow or a ready HTTP rejection: the
 * logic of the `api-guard` node, without Node-RED.
 *
 * Order of the checks, as the reference service: rate limit (429), then the
 * admin bearer token (401 / 503), then the body or query (400). A message
 * without an HTTP request (MQTT, inject) is neither rate limited nor
 * authenticated: it is validated only, and refused when the operation needs
 * the admin token (there is no Authorization header to check).
 *
 * Rate limiters are shared: acquireSharedLimiter(limit) hands every caller
 * with the same limit the same RateLimiter (refcounted), so a client's budget
 * covers the whole API, not one endpoint.
 *
 * Never throws on request data. Rejections never contain the admin token or
 * the request body (only the validator's message naming the field).
 */
import { MAX_OVERRIDE_REQUEST_MINUTES } from '../contracts/limits';
import { isPlainObject, type Setpoint } from '../contracts';
import { type ZoneMap, ZoneMapError } from '../zones/zone-map';
import type { WeatherUpdate, SensorReading } from '../contracts/readings';
import { ALERT_KINDS, type AlertKind } from '../contracts/alerts';
import { createAdminAuth, type AdminAuthResult } from './admin-auth';
import { readProfileUpload, type ProfileUpload } from './profile-upload';
import { readAiTelemetryRequest, type AiTelemetryRequest } from './query-ai-telemetry';
import { localDayBounds } from './query-energy';
import { readReportRequest, type ReportQuery } from './query-report';
import { DEMAND_RESPONSE_TOPIC, isDemandResponseEnd, parseDemandResponse } from '../control/demand-response';
import {
  validateDecideSuggestion,
  validateSuggestionsQuery,
  type DecideSuggestionRequest,
  type SuggestionsRequest,
} from '../learning/http';
import { clientIdFrom, rateLimitAnswer, RateLimiter, type RateLimitOptions, type RequestLike } from './rate-limit';
import { validateControl, validateIngestSensor, validateIngestWeather, validateTelemetryQuery, type TelemetryQuery } from './schemas';

export const API_OPERATIONS = [
  'ingest-sensor',
  'ingest-weather',
  'predict',
  'control',
  'telemetry',
  'telemetry-ai',
  'energy',
  'alerts',
  'resolve-alert',
  'health',
  'admin',
  'profile',
  'report',
  'demand-response',
  'suggestions',
  'accept-suggestion',
  'reject-suggestion',
] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];

/** Operations that always require the admin bearer token, whatever requireAdmin says. */
export const ADMIN_OPERATIONS: readonly ApiOperation[] = ['admin', 'profile', 'demand-response', 'accept-suggestion', 'reject-suggestion'];

/** true when `operation` always requires the admin token. */
export const alwaysRequiresAdmin = (operation: ApiOperation): boolean => ADMIN_OPERATIONS.includes(operation);

export const ALERT_STATUSES = ['active', 'resolved', 'all'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

const MAX_TEXT = 200;

/** GET /alerts query (fits LightingStore.alerts()). */
export interface AlertsQuery {
  status: AlertStatus;
  limit: number;
  offset: number;
  page?: number;
  cursor?: string;
  kind?: AlertKind;
  zone?: string;
  since?: number;
  until?: number;
  gateway?: string;
}

/** POST /alerts/:id/resolve. */
export interface ResolveAlertRequest {
  id: number;
  resolvedBy: string;
}

/** GET /telemetry/energy: a local calendar day (default: today, chosen by the query node) and a zone. */
export interface EnergyRequest {
  day?: string;
  zone?: string;
  gateway?: string;
}

/** POST /predict. */
export interface PredictRequest {
  zone?: string;
}

/** The control setpoint as the API sends it on: overrideMinutes always present (0 = no override). */
export type ControlSetpoint = Setpoint & { overrideMinutes: number };

/** What an accepted request becomes (the node copies these onto the message). */
export interface ApiAccepted {
  ok: true;
  payload:
    | SensorReading
    | WeatherUpdate
    | PredictRequest
    | EnergyRequest
    | AiTelemetryRequest
    | ControlSetpoint
    | TelemetryQuery
    | AlertsQuery
    | ResolveAlertRequest
    | ProfileUpload
    | ReportQuery
    | DemandResponseRequest
    | SuggestionsRequest
    | DecideSuggestionRequest
    | Record<string, never>;
  topic?: string;
  /** The status the answer should have when the flow sets none (201 for ingestion). */
  statusCode?: number;
  /** Ingestion: the answer waits until the store has committed the row. */
  waitForCommit?: boolean;
  control?: { manualOverride: boolean; overrideMinutes: number };
  /** Fields the successful HTTP answer echoes (front-door addAnswerFields): the override set, the sensor stored for. */
  answerFields?: Record<string, unknown>;
}

export type RejectReason = 'invalid' | 'unauthorized' | 'disabled' | 'rate-limited' | 'unknown-zone';

/** A ready HTTP rejection: status, headers, FastAPI-style body. */
export interface ApiRejected {
  ok: false;
  status: 400 | 401 | 404 | 429 | 503;
  reason: RejectReason;
  headers: Record<string, string>;
  body: { detail: string };
}

export type ApiResult = ApiAccepted | ApiRejected;

/** The request fields used here (Express req as Node-RED's http in passes it fits). */
export interface ApiRequestLike extends RequestLike {
  method?: string;
  path?: string;
  url?: string;
  originalUrl?: string;
  query?: unknown;
  params?: unknown;
}

export interface ValidationOptions {
  /** Zone for ingest/control bodies without one (control falls back to "default"). */
  defaultZone?: string;
  /** Minutes of a manual override when the control body gives none. Default 30. */
  overrideMinutes?: number;
  /** Clock for a missing ts, epoch ms. */
  now?: () => number;
}

/** A 400 with the validator's message. */
export function invalid(message: string): ApiRejected {
  return { ok: false, status: 400, reason: 'invalid', headers: {}, body: { detail: message } };
}

/** An empty POST body arrives as {}, "" or nothing. */
const isEmptyBody = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (isPlainObject(v) && Object.keys(v).length === 0) || (Buffer.isBuffer(v) && v.length === 0);

/** A text field of at most 200 characters, trimmed; undefined when absent. */
/** `s` with each lone UTF-16 surrogate replaced by U+FFFD (what SQLite stores for it). */
function wellFormed(s: string): string {
  const w = s as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return w.isWellFormed() ? s : w.toWellFormed();
}

function text(what: string, field: string, v: unknown): { ok: true; value: string | undefined } | ApiRejected {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT) {
    return invalid(`${what}: ${field} must be a non-empty string of at most ${MAX_TEXT} characters`);
  }
  return { ok: true, value: v.trim() };
}

function validatePredict(body: unknown, query: unknown): ApiResult {
  const what = 'invalid predict request';
  if (!isEmptyBody(body) && !isPlainObject(body)) return invalid(`${what}: the body must be a JSON object or empty`);
  const fromBody = text(what, 'zone', isPlainObject(body) ? body.zone : undefined);
  if (!fromBody.ok) return fromBody;
  const fromQuery = text(what, 'zone', isPlainObject(query) ? query.zone : undefined);
  if (!fromQuery.ok) return fromQuery;
  if (fromBody.value !== undefined && fromQuery.value !== undefined && fromBody.value !== fromQuery.value) {
    return invalid(`${what}: zone is given in the body and the query with different values; send one of them`);
  }
  const zone = fromBody.value ?? fromQuery.value;
  return { ok: true, payload: zone === undefined ? {} : { zone }, topic: 'predict' };
}

function validateEnergy(query: unknown): ApiResult {
  const what = 'invalid energy query';
  if (query === undefined || query === null || query === '') query = {};
  if (!isPlainObject(query)) return invalid(`${what}: expected query parameters`);
  const out: EnergyRequest = {};
  if (query.day !== undefined && query.day !== null && query.day !== '') {
    if (typeof query.day !== 'string' || localDayBounds(query.day) === null)
      return invalid(`${what}: day must be a calendar day YYYY-MM-DD`);
    out.day = query.day;
  }
  const zone = text(what, 'zone', query.zone);
  if (!zone.ok) return zone;
  if (zone.value !== undefined) out.zone = zone.value;
  const gateway = text(what, 'gateway', query.gateway);
  if (!gateway.ok) return gateway;
  if (gateway.value !== undefined) out.gateway = gateway.value;
  return { ok: true, payload: out };
}

function validateAlerts(query: unknown): ApiResult {
  const what = 'invalid alerts query';
  if (query === undefined || query === null || query === '') query = {};
  if (!isPlainObject(query)) return invalid(`${what}: expected query parameters`);
  // `source` is a decisions filter, not an alerts one: ignored like any unknown parameter.
  const { status: rawStatus, source: _ignored, ...rest } = query;
  let status: AlertStatus = 'active';
  if (rawStatus !== undefined && rawStatus !== null && rawStatus !== '') {
    const found = ALERT_STATUSES.find((s) => s === rawStatus);
    if (found === undefined) return invalid(`${what}: status must be one of ${ALERT_STATUSES.join(', ')}`);
    status = found;
  }
  // Paging, zone and time filters are the telemetry query's; only the message prefix differs.
  const page = validateTelemetryQuery(rest);
  if (!page.ok) return invalid(page.message.replace(/^invalid telemetry query/, what));
  const { source: _source, kind, ...paging } = page.value;
  const out: AlertsQuery = { status, ...paging };
  if (kind !== undefined) {
    const k = ALERT_KINDS.find((x) => x === kind);
    if (k === undefined) return invalid(`${what}: kind must be one of ${ALERT_KINDS.join(', ')}`);
    out.kind = k;
  }
  return { ok: true, payload: out };
}

function validateResolveAlert(body: unknown, params: unknown): ApiResult {
  const what = 'invalid resolve-alert request';
  if (!isEmptyBody(body) && !isPlainObject(body)) return invalid(`${what}: the body must be a JSON object or empty`);
  const b = isPlainObject(body) ? body : {};
  const ids: Array<[string, unknown]> = [];
  if (isPlainObject(params) && params.id !== undefined && params.id !== '') ids.push(['id (path)', params.id]);
  if (b.id !== undefined && b.id !== null) ids.push(['id', b.id]);
  if (ids.length === 0) return invalid(`${what}: id is missing (the alert id in the path or in the body)`);
  const parsed: number[] = [];
  for (const [field, v] of ids) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1) return invalid(`${what}: ${field} must be a positive whole number`);
    parsed.push(n);
  }
  if (parsed.length === 2 && parsed[0] !== parsed[1]) {
    return invalid(`${what}: the id in the path and in the body differ; send one of them`);
  }
  const by = [b.resolvedBy, b.resolved_by].filter((v) => v !== undefined && v !== null);
  if (by.length === 2 && by[0] !== by[1]) return invalid(`${what}: resolved_by and resolvedBy differ; send one of them`);
  const resolvedBy = text(what, 'resolvedBy', by[0]);
  if (!resolvedBy.ok) return resolvedBy;
  return { ok: true, payload: { id: parsed[0] as number, resolvedBy: resolvedBy.value ?? 'api' } };
}

/**
 * POST /admin/demand-response `{level?, until? | minutes?}` (DELETE: the flow
 * sends `{level: 0}`): checked as the deciders will read it
 * (lib/control/demand-response), passed on with `until` as epoch ms so every
 * decider ends the event at the same instant; topic "demand-response".
 */
/** The demand response message api-guard passes on. */
export interface DemandResponseRequest {
  level: 'shed' | number | string;
  until?: number;
  source: 'http';
}

function validateDemandResponse(payload: unknown, now: number): ApiResult {
  const body = payload === undefined || payload === null || payload === '' ? {} : payload;
  let r: ReturnType<typeof parseDemandResponse>;
  try {
    r = parseDemandResponse(body, now);
  } catch (err) {
    return invalid(`invalid demand response: ${(err as Error).message}`);
  }
  if (isDemandResponseEnd(r)) return { ok: true, payload: { level: 0, source: 'http' }, topic: DEMAND_RESPONSE_TOPIC };
  const level = (body as Record<string, unknown>).level;
  const asked = typeof level === 'number' || typeof level === 'string' ? level : 'shed';
  return { ok: true, payload: { level: asked, until: r.until, source: 'http' }, topic: DEMAND_RESPONSE_TOPIC };
}

/**
 * Validation only: the body (`payload`) or query of `operation` → the message
 * for the next nodes, or a 400. `query` is req.query for HTTP (for a message
 * without a request, pass the payload as query for query-style operations).
 */
export function validateApiInput(
  operation: ApiOperation,
  input: { payload: unknown; query?: unknown; params?: unknown },
  options: ValidationOptions = {},
): ApiResult {
  const zone = options.defaultZone !== undefined && options.defaultZone.trim() !== '' ? options.defaultZone.trim() : undefined;
  const ingest = {
    defaultSource: 'http',
    ...(zone !== undefined ? { defaultZone: zone } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  switch (operation) {
    case 'ingest-sensor': {
      const r = validateIngestSensor(input.payload, ingest);
      if (!r.ok) return invalid(r.message);
      // A lone UTF-16 surrogate cannot be stored as it is (SQLite keeps U+FFFD in its place): the reading
      // goes on, and the answer echoes it, as it will be stored.
      const reading = {
        ...r.value,
        sensorId: wellFormed(r.value.sensorId),
        zone: wellFormed(r.value.zone),
        source: wellFormed(r.value.source),
      };
      return {
        ok: true,
        payload: reading,
        topic: reading.zone,
        statusCode: 201,
        waitForCommit: true,
        answerFields: { sensorId: reading.sensorId },
      };
    }
    case 'ingest-weather': {
      const r = validateIngestWeather(input.payload, ingest);
      if (!r.ok) return invalid(r.message);
      return { ok: true, payload: r.value, topic: 'weather', statusCode: 201, waitForCommit: true };
    }
    case 'predict':
      return validatePredict(input.payload, input.query);
    case 'control': {
      const minutes = options.overrideMinutes ?? 30;
      const r = validateControl(input.payload, {
        defaultOverrideMinutes: Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_OVERRIDE_REQUEST_MINUTES ? minutes : 30,
        ...(zone !== undefined ? { defaultZone: zone } : {}),
      });
      if (!r.ok) return invalid(r.message);
      const { setpoint, manualOverride, overrideMinutes } = r.value;
      const effective = manualOverride ? overrideMinutes : 0;
      return {
        ok: true,
        payload: { ...setpoint, overrideMinutes: effective },
        topic: setpoint.zone,
        control: { manualOverride, overrideMinutes: effective },
        answerFields: { manualOverride, overrideMinutes: effective },
      };
    }
    case 'telemetry': {
      const r = validateTelemetryQuery(input.query);
      return r.ok ? { ok: true, payload: r.value } : invalid(r.message);
    }
    case 'energy':
      return validateEnergy(input.query);
    case 'telemetry-ai': {
      // Only the query's form here; whether the period has begun is the query node's business.
      const q = input.query;
      if (q !== undefined && q !== null && q !== '' && !isPlainObject(q))
        return invalid('invalid AI telemetry query: expected query parameters');
      const r = readAiTelemetryRequest(q);
      return r.ok ? { ok: true, payload: r.value } : invalid(r.message);
    }
    case 'alerts':
      return validateAlerts(input.query);
    case 'resolve-alert':
      return validateResolveAlert(input.payload, input.params);
    case 'health':
      return { ok: true, payload: {} };
    case 'report': {
      const q = input.query === undefined || input.query === null || input.query === '' ? {} : input.query;
      const r = readReportRequest(q, Date.now());
      return r.ok ? { ok: true, payload: r.value } : invalid(r.message);
    }
    case 'admin':
      return { ok: true, payload: {}, topic: 'aggregate' };
    case 'profile': {
      const r = readProfileUpload(input.payload);
      return r.ok ? { ok: true, payload: r.value, topic: 'profile' } : invalid(r.message);
    }
    case 'demand-response':
      return validateDemandResponse(input.payload, options.now?.() ?? Date.now());
    case 'suggestions': {
      const r = validateSuggestionsQuery(input.query);
      return r.ok ? { ok: true, payload: r.value, topic: 'suggestions' } : invalid(r.message);
    }
    case 'accept-suggestion':
    case 'reject-suggestion': {
      const r = validateDecideSuggestion(operation === 'accept-suggestion' ? 'accepted' : 'rejected', input.payload, input.params);
      return r.ok ? { ok: true, payload: r.value, topic: operation } : invalid(r.message);
    }
    default:
      return invalid(`unknown operation ${String(operation)}`);
  }
}

/** Operations whose input is a query string (GET). */
const QUERY_OPERATIONS: ReadonlySet<ApiOperation> = new Set<ApiOperation>([
  'telemetry',
  'telemetry-ai',
  'energy',
  'alerts',
  'report',
  'suggestions',
]);

export interface ApiGuardOptions extends ValidationOptions {
  operation: ApiOperation;
  /** Per-client limiter (shared, see acquireSharedLimiter); null = no limit. */
  limiter?: RateLimiter | null;
  /** Use X-Forwarded-For (the rightmost entry, set by your proxy). Default false. */
  trustProxy?: boolean;
  /** Require the admin bearer token (always for "admin" and "profile"). */
  requireAdmin?: boolean;
  /** The configured admin token (resolveAdminToken), null = none. */
  adminToken?: string | null;
  /**
   * The zone map every zone must be in (404 otherwise; a reading from a
   * sensor id its zone does not list too). Called per request, so a
   * redeployed map applies at once; it throws ZoneMapError when the map is
   * unusable (every request with a zone is then refused, 503). Absent: any zone.
   */
  zones?: () => ZoneMap;
}

/** A 404 for a zone (or a sensor of a zone) that the zone map does not know. */
export function unknownZone(detail: string): ApiRejected {
  return { ok: false, status: 404, reason: 'unknown-zone', headers: {}, body: { detail } };
}

/** The zone (and sensor id) an accepted request names, for the zone map check. */
function zoneOfAccepted(operation: ApiOperation, payload: ApiAccepted['payload']): { zone: string; sensorId?: string } | null {
  const p = payload as { zone?: unknown; sensorId?: unknown };
  if (typeof p.zone !== 'string') return null;
  if (operation === 'ingest-sensor' && typeof p.sensorId === 'string') return { zone: p.zone, sensorId: p.sensorId };
  return { zone: p.zone };
}

/**
 * The zone map check of an accepted request: 404 for a zone not in the map
 * or a sensor id its zone does not list; 503 when the map cannot be used.
 */
export function checkZoneOf(operation: ApiOperation, result: ApiResult, zones: () => ZoneMap): ApiResult {
  if (!result.ok) return result;
  const named = zoneOfAccepted(operation, result.payload);
  if (named === null) return result;
  let map: ZoneMap;
  try {
    map = zones();
  } catch (err) {
    const detail = err instanceof ZoneMapError ? err.message : 'the zone map cannot be read';
    return {
      ok: false,
      status: 503,
      reason: 'disabled',
      headers: { 'Retry-After': '30' },
      body: { detail: `zone map unavailable: ${detail}` },
    };
  }
  const zone = named.zone.length > 64 ? `${named.zone.slice(0, 64)}...` : named.zone;
  // The answer names only the zone asked for: listing the building's zones would tell an unauthenticated client where to post.
  if (!map.has(named.zone)) return unknownZone(`unknown zone ${JSON.stringify(zone)}: not in the zone map`);
  if (named.sensorId !== undefined && !map.allowsSensorId(named.zone, named.sensorId)) {
    const id = named.sensorId.length > 64 ? `${named.sensorId.slice(0, 64)}...` : named.sensorId;
    return unknownZone(`unknown sensor ${JSON.stringify(id)} for zone ${JSON.stringify(zone)}: the zone map lists its sensors`);
  }
  return result;
}

/** What the guard decided, with what a request log line needs (never the body or headers). */
export interface GuardOutcome {
  result: ApiResult;
  /** Client address; null for a message without an HTTP request. */
  client: string | null;
  method: string | null;
  path: string | null;
}

/** The request path without the query string (a query may carry anything). */
export function requestPath(req: ApiRequestLike): string | null {
  const raw =
    typeof req.path === 'string'
      ? req.path
      : typeof req.originalUrl === 'string'
        ? req.originalUrl
        : typeof req.url === 'string'
          ? req.url
          : null;
  if (raw === null) return null;
  const q = raw.indexOf('?');
  return (q >= 0 ? raw.slice(0, q) : raw).slice(0, MAX_TEXT);
}

/** The 429 of the shared limiter: the reference's headers, a detail saying when to come back. */
function tooManyRequests(limiter: RateLimiter, retryAfterS: number): ApiRejected {
  const answer = rateLimitAnswer({ allowed: false, retryAfterS, remaining: 0, limit: limiter.limit });
  const per = limiter.windowMs === 60_000 ? 'per minute' : `per ${limiter.windowMs / 1000} s`;
  return {
    ok: false,
    status: 429,
    reason: 'rate-limited',
    headers: answer.headers,
    body: {
      detail: `Too many requests: ${answer.body.detail} (${limiter.limit} ${per}); retry after ${answer.headers['Retry-After'] ?? retryAfterS} s`,
    },
  };
}

function authRejection(r: Exclude<AdminAuthResult, { ok: true }>): ApiRejected {
  return {
    ok: false,
    status: r.status,
    reason: r.status === 503 ? 'disabled' : 'unauthorized',
    headers: { ...r.headers },
    body: { detail: r.message },
  };
}

/** Rate limit, admin token and validation of one operation, bound to its settings. */
export class ApiGuard {
  readonly operation: ApiOperation;
  readonly requireAdmin: boolean;
  readonly #options: ApiGuardOptions;
  readonly #auth: (authorization: unknown) => AdminAuthResult;

  constructor(options: ApiGuardOptions) {
    if (!API_OPERATIONS.includes(options.operation)) throw new RangeError(`operation must be one of ${API_OPERATIONS.join(', ')}`);
    this.operation = options.operation;
    this.requireAdmin = alwaysRequiresAdmin(options.operation) || options.requireAdmin === true;
    this.#options = options;
    this.#auth = createAdminAuth(this.requireAdmin ? (options.adminToken ?? null) : null);
  }

  /** For a status: why admin requests are all refused (503), or null. Never contains the token. */
  get adminProblem(): string | null {
    if (!this.requireAdmin) return null;
    const r = this.#auth(undefined);
    return !r.ok && r.status === 503 ? r.message : null;
  }

  /** Decides one message: `req` absent = not HTTP (no limit, no auth). Never throws. */
  check(input: { req?: ApiRequestLike | null; payload: unknown }): GuardOutcome {
    const req = isPlainObject(input.req) ? (input.req as ApiRequestLike) : null;
    const out = (result: ApiResult, client: string | null): GuardOutcome => ({
      result,
      client,
      method: req && typeof req.method === 'string' ? req.method.toUpperCase().slice(0, 16) : null,
      path: req ? requestPath(req) : null,
    });
    try {
      let client: string | null = null;
      if (req) {
        client = clientIdFrom(req, this.#options.trustProxy === true);
        const limiter = this.#options.limiter;
        if (limiter) {
          const r = limiter.hit(client);
          if (!r.allowed) return out(tooManyRequests(limiter, r.retryAfterS), client);
        }
      }
      if (this.requireAdmin) {
        const authorization = req ? req.headers?.authorization : undefined;
        const r = this.#auth(authorization);
        if (!r.ok) {
          if (!req && r.status === 401) {
            return out(
              authRejection({
                ...r,
                message: 'admin operation: only an HTTP request with "Authorization: Bearer <admin token>" is accepted',
              }),
              client,
            );
          }
          return out(authRejection(r), client);
        }
      }
      const query = req ? req.query : QUERY_OPERATIONS.has(this.operation) ? input.payload : undefined;
      const params = req ? req.params : undefined;
      const result = validateApiInput(this.operation, { payload: input.payload, query, params }, this.#options);
      const zones = this.#options.zones;
      return out(zones ? checkZoneOf(this.operation, result, zones) : result, client);
    } catch (err) {
      return out(invalid(`invalid request: ${err instanceof Error ? err.message : String(err)}`), null);
    }
  }
}

// ---- shared limiters ----------------------------------------------------------

interface SharedEntry {
  limiter: RateLimiter;
  users: number;
}

const sharedLimiters = new Map<number, SharedEntry>();

export interface SharedLimiter {
  limiter: RateLimiter;
  /** Gives this use back; the limiter is dropped with its last user. Idempotent. */
  release(): void;
}

/**
 * The runtime-wide limiter of `limit` requests per client per minute: every
 * caller with the same limit shares one RateLimiter (so a client's budget
 * spans every endpoint guarded with that limit). `options` apply only when
 * the limiter is created (tests: a clock).
 */
export function acquireSharedLimiter(limit: number, options: Omit<RateLimitOptions, 'limit'> = {}): SharedLimiter {
  let entry = sharedLimiters.get(limit);
  if (entry === undefined) {
    entry = { limiter: new RateLimiter({ ...options, limit }), users: 0 };
    sharedLimiters.set(limit, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    limiter: held.limiter,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users <= 0 && sharedLimiters.get(limit) === held) sharedLimiters.delete(limit);
    },
  };
}

/** Limiters currently shared (by limit) and their users; for tests and diagnostics. */
export function sharedLimiterUsers(): Map<number, number> {
  return new Map([...sharedLimiters].map(([limit, e]) => [limit, e.users]));
}
