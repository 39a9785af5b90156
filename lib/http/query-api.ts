/**
 * Read answers of the runtime HTTP API (and dashboards) from the lighting
 * store: what the `lighting-query` node runs. Plain TypeScript, no Node-RED.
 *
 *   const answer = await runQuery('decisions', store, msg.payload, { windows: 3, fixtureWatts: null });
 *   // {statusCode: 200, payload: Page<DecisionRecord>} or {statusCode: 4xx/503, payload: {detail}}
 *
 * Every input is validated again here (cheaply: the `api-guard` node
 * usually did it already); a bad request is a 400 answer, never a throw.
 * A closed store is 503. Other store errors are thrown (the node answers 500).
 *
 * Personal profiles: `store-profile` checks that an uploaded Fernet token
 * decrypts with FERNET_KEY into a profile (nothing decrypted leaves
 * lib/http/profile-upload) and stores the token, still encrypted;
 * `profile` reads a stored token back. Both hand the reference blob
 * {profile_id, encrypted_payload} to the caller as `profile` (for msg.profile).
 *
 * Health is not run here (its probes come from the Node-RED side; the probe
 * helpers are in ./health).
 */
import { isPlainObject } from '../contracts';
import { ALERT_KINDS, type AlertKind } from '../contracts/alerts';
import type { FeatureWindow } from '../contracts/feature-window';
import { MAX_ID_LENGTH } from '../contracts/limits';
import { SETPOINT_SOURCES, type SetpointSource } from '../contracts/setpoint';
import type { EncryptedProfileBlob } from '../crypto';
import { MAX_PROFILE_ID_LENGTH } from '../crypto';
import {
  type AlertRecord,
  type DecisionRecord,
  type ManualOverrideRecord,
  type PersonalProfileRecord,
  type PersonalProfileRow,
  type TelemetryRecord,
} from '../store/rows';
import { StoreClosedError, type InsertAck, type InsertOptions, type Page, type PageQuery } from '../store/store';
import { checkProfileDecrypts, profileCipher, readProfileUpload, uploadToBlob } from './profile-upload';
import { aiTelemetryReport, pricesFromEnv, readAiTelemetryRequest, type AiPrices } from './query-ai-telemetry';
import { demandResponseSummary } from './query-demand-response';
import { energyForDay, localDay, localDayBounds, type EnergyDayReport } from './query-energy';
import { buildReport, readReportRequest, type ReportZone } from './query-report';
import { renderReportHtml } from './report-page';
import { errorBody, parseTime, TELEMETRY_DEFAULT_LIMIT, TELEMETRY_MAX_LIMIT } from './schemas';

export const QUERY_KINDS = [
  'decisions',
  'telemetry',
  'telemetry-ai',
  'alerts',
  'resolve-alert',
  'health',
  'energy',
  'latest-windows',
  'store-profile',
  'profile',
  'report',
  'overrides',
] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

/** The store operations the queries use (LightingStore implements them). */
export interface QueryStore {
  /** The store's gateway: what the report reads (the other queries take a gateway filter from the request). */
  readonly gateway: string;
  decisions(q: PageQuery & { source?: SetpointSource }): Promise<Page<DecisionRecord>>;
  telemetry(q: PageQuery & { kind?: string }): Promise<Page<TelemetryRecord>>;
  alerts(q: PageQuery & { status?: 'active' | 'resolved' | 'all'; kind?: AlertKind }): Promise<Page<AlertRecord>>;
  resolveAlert(id: number, by: string): Promise<{ found: false } | { found: true; changed: boolean; alert: AlertRecord }>;
  latestFeatureWindows(zone: string, n: number, options?: { includePartial?: boolean }): Promise<FeatureWindow[]>;
  featureWindowZones(): Promise<string[]>;
  insert(table: 'personal_profiles', row: PersonalProfileRow, options: InsertOptions): Promise<InsertAck>;
  getProfile(profileId: string): Promise<PersonalProfileRecord | null>;
  latestProfile(): Promise<PersonalProfileRecord | null>;
  featureWindowsBetween(zone: string, since: number, until: number, limit?: number): Promise<FeatureWindow[]>;
  activeOverrides(now: number, zone?: string): Promise<ManualOverrideRecord[]>;
}

export interface QueryOptions {
  /** Windows answered by latest-windows, 1-3. Default 3. */
  windows?: number;
  /** Input power of a zone's luminaires at 100 %, W, for energy; null = not set. */
  fixtureWatts?: number | null;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /**
   * telemetry-ai: prices per million tokens set on the node; a null price is taken from
   * AI_PRICE_INPUT_PER_MTOK / AI_PRICE_OUTPUT_PER_MTOK of `env` at each request.
   */
  prices?: Partial<AiPrices>;
  /** report and energy: what is known of a zone (zone map: target lux, wattage of all its luminaires); default: the node's fixtureWatts, no target. */
  reportZone?: (zone: string) => ReportZone;
  /** report without a zone: the zones to report (default: every zone with a feature window). */
  reportZones?: () => string[];
  /** Environment holding FERNET_KEY (store-profile) and the AI prices, read at each request. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export type Answer =
  | { statusCode: 200 | 201; payload: unknown; changed?: boolean; profile?: EncryptedProfileBlob; contentType?: string }
  | { statusCode: 400 | 404 | 503; payload: { detail: string } };

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Page request of decisions / telemetry / alerts (store PageQuery plus filters). */
export interface PageRequest extends PageQuery {
  limit: number;
  offset: number;
  /** 1-based page when the client paged with `page`. */
  page?: number;
  source?: SetpointSource;
  kind?: string;
}

export interface AlertsRequest extends PageRequest {
  status: 'active' | 'resolved' | 'all';
  kind?: AlertKind;
}

/** The paged answer: the store's Page, plus `page` when the request used it. */
export type PageAnswer<T> = Page<T> & { page?: number };

const CURSOR = /^-?\d{1,16}\.\d{1,16}$/;

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/** msg.payload as the request object: absent/null/"" = {}; anything else must be an object. */
function body(what: string, payload: unknown): Checked<Record<string, unknown>> {
  if (payload === undefined || payload === null || payload === '') return { ok: true, value: {} };
  if (!isPlainObject(payload)) return fail(`${what}: msg.payload must be an object`);
  return { ok: true, value: payload };
}

/** A whole number (or a string of digits) in [min, max]; undefined/null = absent. */
function wholeNumber(what: string, field: string, v: unknown, min: number, max: number): Checked<number | undefined> {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    return fail(`${what}: ${field} must be a whole number from ${min} to ${max}`);
  }
  return { ok: true, value: n };
}

function id(what: string, field: string, v: unknown): Checked<string | undefined> {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID_LENGTH) {
    return fail(`${what}: ${field} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return { ok: true, value: v };
}

/** decisions / telemetry / alerts paging and filters. */
export function readPageRequest(what: string, payload: unknown): Checked<PageRequest> {
  const b = body(what, payload);
  if (!b.ok) return b;
  const q = b.value;
  const limit = wholeNumber(what, 'limit', q.limit, 1, TELEMETRY_MAX_LIMIT);
  if (!limit.ok) return limit;
  const offset = wholeNumber(what, 'offset', q.offset, 0, Number.MAX_SAFE_INTEGER);
  if (!offset.ok) return offset;
  const page = wholeNumber(what, 'page', q.page, 1, 1_000_000_000);
  if (!page.ok) return page;
  const out: PageRequest = { limit: limit.value ?? TELEMETRY_DEFAULT_LIMIT, offset: offset.value ?? 0 };
  if (page.value !== undefined) {
    const fromPage = (page.value - 1) * out.limit;
    if (!Number.isSafeInteger(fromPage)) return fail(`${what}: page is too large`);
    if (offset.value !== undefined && offset.value !== fromPage) return fail(`${what}: page and offset disagree; send one of them`);
    out.page = page.value;
    out.offset = fromPage;
  }
  if (q.cursor !== undefined && q.cursor !== null) {
    if (typeof q.cursor !== 'string' || !CURSOR.test(q.cursor)) return fail(`${what}: cursor must be nextCursor of the previous page`);
    if (out.offset !== 0) return fail(`${what}: cursor cannot be combined with page or offset`);
    out.cursor = q.cursor;
  }
  const zone = id(what, 'zone', q.zone);
  if (!zone.ok) return zone;
  if (zone.value !== undefined) out.zone = zone.value;
  const gateway = id(what, 'gateway', q.gateway);
  if (!gateway.ok) return gateway;
  if (gateway.value !== undefined) out.gateway = gateway.value;
  for (const k of ['since', 'until'] as const) {
    if (q[k] === undefined || q[k] === null) continue;
    const t = parseTime(what, k, q[k]);
    if (!t.ok) return fail(t.message);
    out[k] = t.value;
  }
  if (out.since !== undefined && out.until !== undefined && out.until < out.since) return fail(`${what}: until must not be before since`);
  if (q.source !== undefined && q.source !== null) {
    if (typeof q.source !== 'string' || !(SETPOINT_SOURCES as readonly string[]).includes(q.source)) {
      return fail(`${what}: source must be one of ${SETPOINT_SOURCES.join(', ')}`);
    }
    out.source = q.source as SetpointSource;
  }
  const kind = id(what, 'kind', q.kind);
  if (!kind.ok) return kind;
  if (kind.value !== undefined) out.kind = kind.value;
  return { ok: true, value: out };
}

export function readAlertsRequest(payload: unknown): Checked<AlertsRequest> {
  const what = 'invalid alerts query';
  const p = readPageRequest(what, payload);
  if (!p.ok) return p;
  const q = payload as Record<string, unknown> | undefined;
  const status = q?.status ?? 'active';
  if (status !== 'active' && status !== 'resolved' && status !== 'all') return fail(`${what}: status must be one of active, resolved, all`);
  const { kind, source: _source, ...rest } = p.value;
  const out: AlertsRequest = { ...rest, status };
  if (kind !== undefined) {
    if (!(ALERT_KINDS as readonly string[]).includes(kind)) return fail(`${what}: kind must be one of ${ALERT_KINDS.join(', ')}`);
    out.kind = kind as AlertKind;
  }
  return { ok: true, value: out };
}

export function readResolveRequest(payload: unknown): Checked<{ id: number; resolvedBy: string }> {
  const what = 'invalid resolve request';
  const b = body(what, payload);
  if (!b.ok) return b;
  const alertId = wholeNumber(what, 'id', b.value.id, 1, Number.MAX_SAFE_INTEGER);
  if (!alertId.ok) return alertId;
  if (alertId.value === undefined) return fail(`${what}: id is missing`);
  const by = b.value.resolvedBy ?? b.value.resolved_by ?? 'api';
  if (typeof by !== 'string' || by.trim() === '' || by.length > 200)
    return fail(`${what}: resolvedBy must be a non-empty string of at most 200 characters`);
  return { ok: true, value: { id: alertId.value, resolvedBy: by } };
}

export function readEnergyRequest(payload: unknown, now: number): Checked<{ day: string; zone?: string; gateway?: string }> {
  const what = 'invalid energy query';
  const b = body(what, payload);
  if (!b.ok) return b;
  const raw: unknown = b.value.day ?? localDay(now);
  const day = typeof raw === 'string' ? raw : '';
  const bounds = localDayBounds(day);
  if (bounds === null) return fail(`${what}: day must be a calendar day YYYY-MM-DD`);
  if (bounds.from > now) return fail(`${what}: day ${day} has not begun yet`);
  const zone = id(what, 'zone', b.value.zone);
  if (!zone.ok) return zone;
  const gateway = id(what, 'gateway', b.value.gateway);
  if (!gateway.ok) return gateway;
  const value: { day: string; zone?: string; gateway?: string } = { day };
  if (zone.value !== undefined) value.zone = zone.value;
  if (gateway.value !== undefined) value.gateway = gateway.value;
  return { ok: true, value };
}

export function readWindowsRequest(payload: unknown): Checked<{ zone?: string }> {
  const what = 'invalid latest-windows query';
  const b = body(what, payload);
  if (!b.ok) return b;
  const zone = id(what, 'zone', b.value.zone);
  if (!zone.ok) return zone;
  return { ok: true, value: zone.value === undefined ? {} : { zone: zone.value } };
}

/**
 * The latest `n` feature windows (snapshots from `aggregate` included) of
 * `zone`, or without zone of the zone whose latest window ends last (ties:
 * later start, then the zone first in order). Oldest first; [] when none.
 */
export async function latestWindows(store: QueryStore, zone: string | undefined, n: number): Promise<FeatureWindow[]> {
  let chosen = zone;
  if (chosen === undefined) {
    let best: FeatureWindow | null = null;
    for (const z of await store.featureWindowZones()) {
      const w = (await store.latestFeatureWindows(z, 1))[0];
      if (w === undefined) continue;
      if (best === null || w.windowEnd > best.windowEnd || (w.windowEnd === best.windowEnd && w.windowStart > best.windowStart)) best = w;
    }
    if (best === null) return [];
    chosen = best.zone;
  }
  return (await store.latestFeatureWindows(chosen, n)).reverse();
}

export function readProfileRequest(payload: unknown): Checked<{ profileId?: string }> {
  const what = 'invalid profile query';
  const b = body(what, payload);
  if (!b.ok) return b;
  const a = b.value.profileId;
  const c = b.value.profile_id;
  if (a !== undefined && a !== null && c !== undefined && c !== null && a !== c)
    return fail(`${what}: profileId and profile_id differ; send one of them`);
  const v = a ?? c;
  if (v === undefined || v === null || v === '') return { ok: true, value: {} };
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_PROFILE_ID_LENGTH) {
    return fail(`${what}: profileId must be a non-empty string of at most ${MAX_PROFILE_ID_LENGTH} characters`);
  }
  return { ok: true, value: { profileId: v } };
}

/** store-profile: shape, key, decrypt check, then the encrypted token into personal_profiles (committed). */
async function storeProfile(store: QueryStore, payload: unknown, options: QueryOptions, now: number): Promise<Answer> {
  const r = readProfileUpload(payload);
  if (!r.ok) return bad(r.message);
  const cipher = profileCipher(options.env ?? process.env);
  if (!cipher.ok) return { statusCode: 503, payload: errorBody(cipher.detail) };
  const check = checkProfileDecrypts(r.value, cipher.fernet);
  if (!check.ok) return bad(check.detail);
  const { profileId, encryptedPayload } = r.value;
  await store.insert('personal_profiles', { profileId, encryptedPayload, createdAt: now, updatedAt: now }, { waitForCommit: true });
  return { statusCode: 201, payload: { ok: true, profileId, stored: true }, profile: uploadToBlob(r.value) };
}

const ok = (payload: unknown): Answer => ({ statusCode: 200, payload });
const bad = (message: string): Answer => ({ statusCode: 400, payload: errorBody(message) });

function withPage<T>(page: Page<T>, req: PageRequest): PageAnswer<T> {
  return req.page === undefined ? page : { ...page, page: req.page };
}

async function answer(kind: Exclude<QueryKind, 'health'>, store: QueryStore, payload: unknown, options: QueryOptions): Promise<Answer> {
  const now = (options.now ?? Date.now)();
  switch (kind) {
    case 'decisions': {
      const r = readPageRequest('invalid decisions query', payload);
      if (!r.ok) return bad(r.message);
      const { kind, page: _page, ...q } = r.value;
      // GET /telemetry?kind=ai (or another telemetry kind): the telemetry rows of that kind, each with its kind.
      if (kind !== undefined) {
        const { source: _source, ...tq } = q;
        return ok(withPage(await store.telemetry({ ...tq, kind }), r.value));
      }
      return ok(withPage(await store.decisions(q), r.value));
    }
    case 'telemetry': {
      const r = readPageRequest('invalid telemetry query', payload);
      if (!r.ok) return bad(r.message);
      const { source: _source, page: _page, ...q } = r.value;
      return ok(withPage(await store.telemetry(q), r.value));
    }
    case 'telemetry-ai': {
      const r = readAiTelemetryRequest(payload, now);
      if (!r.ok) return bad(r.message);
      const fromEnv = pricesFromEnv(options.env ?? process.env);
      const prices: AiPrices = {
        inputPerMTok: options.prices?.inputPerMTok ?? fromEnv.inputPerMTok,
        outputPerMTok: options.prices?.outputPerMTok ?? fromEnv.outputPerMTok,
      };
      return ok(await aiTelemetryReport(store, r.value, { prices, now }));
    }
    case 'alerts': {
      const r = readAlertsRequest(payload);
      if (!r.ok) return bad(r.message);
      const { page: _page, ...q } = r.value;
      return ok(withPage(await store.alerts(q), r.value));
    }
    case 'resolve-alert': {
      const r = readResolveRequest(payload);
      if (!r.ok) return bad(r.message);
      const res = await store.resolveAlert(r.value.id, r.value.resolvedBy);
      if (!res.found) return { statusCode: 404, payload: errorBody(`Alert ${r.value.id} not found`) };
      return { statusCode: 200, payload: res.alert, changed: res.changed };
    }
    case 'energy': {
      const r = readEnergyRequest(payload, now);
      if (!r.ok) return bad(r.message);
      const report: EnergyDayReport = await energyForDay(store, r.value, {
        fixtureWatts: options.fixtureWatts ?? null,
        now,
        ...(options.reportZone ? { zoneWatts: (zone: string) => options.reportZone?.(zone).fixtureWatts } : {}),
      });
      return ok({ ...report, demandResponse: await demandResponseSummary(store, report.from, report.to, r.value.gateway) });
    }
    case 'latest-windows': {
      const r = readWindowsRequest(payload);
      if (!r.ok) return bad(r.message);
      const n = Math.min(3, Math.max(1, Math.floor(options.windows ?? 3)));
      const windows = await latestWindows(store, r.value.zone, n);
      return windows.length === 0 ? bad('No features available') : ok(windows);
    }
    case 'store-profile':
      return storeProfile(store, payload, options, now);
    case 'report': {
      const r = readReportRequest(payload, now);
      if (!r.ok) return bad(r.message);
      const names = r.value.zone !== undefined ? [r.value.zone] : (options.reportZones?.() ?? (await store.featureWindowZones()));
      const zoneOf =
        options.reportZone ?? ((zone: string): ReportZone => ({ zone, targetLux: null, fixtureWatts: options.fixtureWatts ?? null }));
      const report = await buildReport(store, { period: r.value.period, day: r.value.day, zones: names.map(zoneOf) }, now);
      if (r.value.format === 'json') return ok(report);
      const q = (period: string, zone?: string): string =>
        `?period=${period}&day=${report.day}${zone ? `&zone=${encodeURIComponent(zone)}` : ''}&format=html`;
      const links = [
        { label: 'day', href: q('day', r.value.zone) },
        { label: 'week', href: q('week', r.value.zone) },
      ];
      return { statusCode: 200, payload: renderReportHtml(report, links), contentType: 'text/html; charset=utf-8' };
    }
    case 'overrides': {
      const r = readWindowsRequest(payload);
      if (!r.ok) return bad(r.message);
      const list = await store.activeOverrides(now, r.value.zone);
      return ok({ now, overrides: list.map((o) => ({ ...o, remainingMs: o.expiresAt === null ? null : Math.max(0, o.expiresAt - now) })) });
    }
    case 'profile': {
      const r = readProfileRequest(payload);
      if (!r.ok) return bad(r.message);
      const rec = r.value.profileId === undefined ? await store.latestProfile() : await store.getProfile(r.value.profileId);
      if (rec === null) {
        return {
          statusCode: 404,
          payload: errorBody(r.value.profileId === undefined ? 'No profile stored' : 'No profile stored with this profile_id'),
        };
      }
      return {
        statusCode: 200,
        payload: { profileId: rec.profileId, createdAt: rec.createdAt, storedAt: rec.updatedAt },
        profile: { profile_id: rec.profileId, encrypted_payload: rec.encryptedPayload },
      };
    }
  }
}

/**
 * Runs one query. Bad input: 400; unknown alert or profile: 404; closed store
 * or no FERNET_KEY (store-profile): 503; a stored profile: 201.
 * Rejects only with a store failure other than closing (answer 500).
 */
export async function runQuery(
  kind: Exclude<QueryKind, 'health'>,
  store: QueryStore,
  payload: unknown,
  options: QueryOptions = {},
): Promise<Answer> {
  try {
    return await answer(kind, store, payload, options);
  } catch (err) {
    if (err instanceof StoreClosedError) return { statusCode: 503, payload: errorBody(`Lighting store unavailable: ${err.message}`) };
    // The store's own argument checks (RangeError) are a bad request too.
    if (err instanceof RangeError) return bad(err.message);
    throw err;
  }
}
