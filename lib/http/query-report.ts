/**
 * Daily and weekly reports per zone, read from the lighting store (the same
 * tables the HTTP API answers from; no second store):
 *
 * - energy used against the 100 % baseline (applied decisions held until the
 *   next one, as lib/control/energy; the level at the period's start is the
 *   zone's last applied decision before it, else the first one is back-filled);
 * - lux delivered while occupied against the zone's target (feature windows:
 *   mean lux weighted by the time someone was present);
 * - decisions by source (AI, rules, manual, schedule), blocked changes (not
 *   applied) and manual overrides started;
 * - AI calls and fallbacks (telemetry rows of ai-decide calls, AI_TELEMETRY_KIND, with a fallback reason);
 * - alerts raised for the zone.
 *
 * Buckets: a day is cut into local hours, a week (the 7 days ending with
 * `day`) into local days. A bucket in the future is empty; the current one
 * ends now.
 */
import { powerW } from '../control/energy';
import { type AlertKind, type FeatureWindow, MAX_ID_LENGTH, type SetpointSource as DecisionSource } from '../contracts';
import type { AlertRecord, DecisionRecord, TelemetryRecord } from '../store/rows';
import type { Page, PageQuery } from '../store/store';
import { AI_TELEMETRY_KIND } from './query-ai-telemetry';
import { levelBefore, localDay, localDayBounds } from './query-energy';

export const REPORT_PERIODS = ['day', 'week'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** The store operations a report reads (LightingStore implements them). */
export interface ReportStore {
  /** Every row the report reads is this gateway's (a site database may hold several). */
  readonly gateway: string;
  decisions(q: PageQuery & { source?: DecisionSource }): Promise<Page<DecisionRecord>>;
  telemetry(q: PageQuery & { kind?: string }): Promise<Page<TelemetryRecord>>;
  alerts(q: PageQuery & { status?: 'active' | 'resolved' | 'all'; kind?: AlertKind }): Promise<Page<AlertRecord>>;
  featureWindowsBetween(zone: string, since: number, until: number, limit?: number): Promise<FeatureWindow[]>;
}

/** What the report needs to know about a zone (from the zone map, or the node's settings). */
export interface ReportZone {
  zone: string;
  label?: string;
  /** Target illuminance, lux; null = unknown (no target line). */
  targetLux: number | null;
  /** Input power of all the zone's luminaires at 100 %, W; null = unknown (no Wh). */
  fixtureWatts: number | null;
}

export interface ReportRequest {
  period: ReportPeriod;
  /** The day (period "day") or the last day of the week, local YYYY-MM-DD. */
  day: string;
  zones: readonly ReportZone[];
}

export interface ReportBucket {
  /** "09" (hour) or "2026-12-07" (day). */
  label: string;
  from: number;
  /** Exclusive; for the current bucket, now. */
  to: number;
  energyWh: number | null;
  baselineWh: number | null;
  /** Time-weighted mean output, percent; null when no level is known. */
  meanIntensityPct: number | null;
  /** Minutes someone was present (feature windows' presence ratio). */
  occupiedMinutes: number;
  /** Mean lux while someone was present; null without such a window. */
  luxWhileOccupied: number | null;
  decisions: Record<DecisionSource, number>;
  applied: number;
  /** Decisions not applied (a gate, a clamp, an override held them back). */
  blocked: number;
  /** Manual setpoints (each starts or renews an override). */
  overrides: number;
  aiCalls: number;
  /** AI calls answered by the rules instead (a fallback reason was recorded). */
  fallbacks: number;
  alerts: number;
}

export interface ZoneReport extends ReportZone {
  buckets: ReportBucket[];
  totals: ReportBucket;
  /** The level before the zone's first decision of the period was not known and was back-filled. */
  assumedInitial: boolean;
}

export interface Report {
  period: ReportPeriod;
  day: string;
  from: number;
  to: number;
  generatedAt: number;
  zones: ZoneReport[];
}

export interface ReportQuery {
  zone?: string;
  period: ReportPeriod;
  day: string;
  format: 'html' | 'json';
}

/** The report request (GET /report query or msg.payload): {zone?, period? "day"|"week" (default day), day? YYYY-MM-DD (default today; not in the future), format? "html"|"json" (default html)}. */
export function readReportRequest(payload: unknown, now: number): { ok: true; value: ReportQuery } | { ok: false; message: string } {
  const what = 'invalid report query';
  const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });
  if (payload !== undefined && payload !== null && payload !== '' && (typeof payload !== 'object' || Array.isArray(payload))) {
    return fail(`${what}: expected an object (query parameters)`);
  }
  const q = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  for (const k of Object.keys(q))
    if (!['zone', 'period', 'day', 'format'].includes(k)) return fail(`${what}: unknown parameter ${k.slice(0, 40)}`);
  const zone = q.zone;
  if (zone !== undefined && (typeof zone !== 'string' || zone.trim() === '' || zone.length > MAX_ID_LENGTH)) {
    return fail(`${what}: zone must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  const period = q.period ?? 'day';
  if (typeof period !== 'string' || !(REPORT_PERIODS as readonly string[]).includes(period))
    return fail(`${what}: period must be one of ${REPORT_PERIODS.join(', ')}`);
  const format = q.format ?? 'html';
  if (format !== 'html' && format !== 'json') return fail(`${what}: format must be html or json`);
  const today = localDay(now);
  const day = q.day ?? today;
  if (typeof day !== 'string' || localDayBounds(day) === null) return fail(`${what}: day must be a calendar day YYYY-MM-DD`);
  if (day > today) return fail(`${what}: day ${day} is in the future`);
  return { ok: true, value: { ...(zone !== undefined ? { zone } : {}), period: period as ReportPeriod, day, format } };
}

/** Rows read per page, and at most this many pages per table and zone (a bound on memory and time). */
const PAGE_ROWS = 1000;
const MAX_PAGES = 200;

const pad = (n: number): string => String(n).padStart(2, '0');

function emptyBucket(label: string, from: number, to: number): ReportBucket {
  return {
    label,
    from,
    to,
    energyWh: null,
    baselineWh: null,
    meanIntensityPct: null,
    occupiedMinutes: 0,
    luxWhileOccupied: null,
    decisions: { ai: 0, rules: 0, manual: 0, schedule: 0 },
    applied: 0,
    blocked: 0,
    overrides: 0,
    aiCalls: 0,
    fallbacks: 0,
    alerts: 0,
  };
}

/** The buckets of a period: hours of the day, or the 7 days ending with `day`. Throws RangeError for a bad day. */
export function reportBuckets(period: ReportPeriod, day: string): ReportBucket[] {
  const bounds = localDayBounds(day);
  if (bounds === null) throw new RangeError(`day must be a calendar day YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const out: ReportBucket[] = [];
  if (period === 'day') {
    for (let t = bounds.from; t < bounds.to; t += 3_600_000) {
      out.push(emptyBucket(pad(new Date(t).getHours()), t, Math.min(t + 3_600_000, bounds.to)));
    }
    return out;
  }
  const end = new Date(bounds.from);
  for (let i = 6; i >= 0; i--) {
    const d = new Date(end.getFullYear(), end.getMonth(), end.getDate() - i);
    const b = localDayBounds(localDay(d.getTime()));
    if (b) out.push(emptyBucket(localDay(d.getTime()), b.from, b.to));
  }
  return out;
}

/** Every row of a paged table in [since, until) for a zone, oldest first (bounded by MAX_PAGES). */
async function allRows<T extends { ts: number }>(
  fetch: (q: PageQuery) => Promise<Page<T>>,
  gateway: string,
  zone: string,
  since: number,
  until: number,
): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES && until > since; i++) {
    const q: PageQuery = { gateway, zone, since, until, limit: PAGE_ROWS };
    if (cursor !== undefined) q.cursor = cursor;
    const page = await fetch(q);
    rows.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return rows.reverse();
}

function inBucket(buckets: ReportBucket[], ts: number): ReportBucket | undefined {
  return buckets.find((b) => ts >= b.from && ts < b.to);
}

async function zoneReport(store: ReportStore, z: ReportZone, template: ReportBucket[], now: number): Promise<ZoneReport> {
  const buckets = template.map((b) => ({ ...emptyBucket(b.label, b.from, b.to) }));
  const from = buckets[0]?.from ?? now;
  const periodEnd = buckets[buckets.length - 1]?.to ?? now;
  const to = Math.min(periodEnd, now);
  for (const b of buckets) b.to = Math.max(b.from, Math.min(b.to, now));

  const decisions = await allRows((q) => store.decisions(q), store.gateway, z.zone, from, to);
  for (const d of decisions) {
    const b = inBucket(buckets, d.ts);
    if (!b) continue;
    b.decisions[d.source] = (b.decisions[d.source] ?? 0) + 1;
    if (d.applied) b.applied++;
    else b.blocked++;
    if (d.source === 'manual') b.overrides++;
  }

  // Energy: the applied levels as a step function over [from, to).
  const applied = decisions.filter((d) => d.applied);
  let level = await levelBefore(store, z.zone, from, PAGE_ROWS, 10, store.gateway);
  const assumedInitial = level === null && applied.length > 0;
  if (level === null && applied.length > 0) level = (applied[0] as DecisionRecord).intensity;
  const steps: Array<{ at: number; level: number | null }> = [{ at: from, level }];
  for (const d of applied) steps.push({ at: Math.max(from, d.ts), level: d.intensity });
  const fixture = z.fixtureWatts !== null && z.fixtureWatts > 0 ? { ratedW: z.fixtureWatts, standbyW: 0 } : null;
  for (const b of buckets) {
    const hours = (b.to - b.from) / 3_600_000;
    if (hours <= 0) continue;
    let wh = 0;
    let pctHours = 0;
    let known = 0;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i] as { at: number; level: number | null };
      const end = i + 1 < steps.length ? (steps[i + 1] as { at: number }).at : to;
      const a = Math.max(s.at, b.from);
      const e = Math.min(end, b.to);
      if (e <= a || s.level === null) continue;
      const h = (e - a) / 3_600_000;
      known += h;
      pctHours += s.level * h;
      if (fixture) wh += powerW(s.level, fixture) * h;
    }
    b.meanIntensityPct = known > 0 ? pctHours / known : null;
    if (fixture) {
      b.energyWh = wh;
      b.baselineWh = powerW(100, fixture) * hours;
    }
  }

  // Lux while occupied, from the feature windows.
  const windows = to > from ? await store.featureWindowsBetween(z.zone, from, to) : [];
  const luxAcc = new Map<ReportBucket, { w: number; sum: number }>();
  for (const w of windows) {
    const b = inBucket(buckets, w.windowStart);
    if (!b || w.presence.ratio === null) continue;
    const minutes = (w.presence.ratio * Math.max(0, w.windowEnd - w.windowStart)) / 60_000;
    b.occupiedMinutes += minutes;
    if (w.lux.mean === null || minutes <= 0) continue;
    const acc = luxAcc.get(b) ?? { w: 0, sum: 0 };
    acc.w += minutes;
    acc.sum += w.lux.mean * minutes;
    luxAcc.set(b, acc);
  }
  for (const [b, acc] of luxAcc) b.luxWhileOccupied = acc.w > 0 ? acc.sum / acc.w : null;

  for (const t of await allRows((q) => store.telemetry({ ...q, kind: AI_TELEMETRY_KIND }), store.gateway, z.zone, from, to)) {
    const b = inBucket(buckets, t.ts);
    if (!b) continue;
    b.aiCalls++;
    if (t.fallbackReason !== null && t.fallbackReason !== '') b.fallbacks++;
  }
  for (const a of await allRows((q) => store.alerts({ ...q, status: 'all' }), store.gateway, z.zone, from, to)) {
    const b = inBucket(buckets, a.ts);
    if (b) b.alerts++;
  }

  const totals = emptyBucket('total', from, to);
  let luxW = 0;
  let luxSum = 0;
  let pctH = 0;
  let knownH = 0;
  for (const b of buckets) {
    for (const k of Object.keys(totals.decisions) as DecisionSource[]) totals.decisions[k] += b.decisions[k];
    totals.applied += b.applied;
    totals.blocked += b.blocked;
    totals.overrides += b.overrides;
    totals.aiCalls += b.aiCalls;
    totals.fallbacks += b.fallbacks;
    totals.alerts += b.alerts;
    totals.occupiedMinutes += b.occupiedMinutes;
    if (b.energyWh !== null) totals.energyWh = (totals.energyWh ?? 0) + b.energyWh;
    if (b.baselineWh !== null) totals.baselineWh = (totals.baselineWh ?? 0) + b.baselineWh;
    const acc = luxAcc.get(b);
    if (acc) {
      luxW += acc.w;
      luxSum += acc.sum;
    }
    if (b.meanIntensityPct !== null) {
      const h = (b.to - b.from) / 3_600_000;
      pctH += b.meanIntensityPct * h;
      knownH += h;
    }
  }
  totals.luxWhileOccupied = luxW > 0 ? luxSum / luxW : null;
  totals.meanIntensityPct = knownH > 0 ? pctH / knownH : null;
  return { ...z, buckets, totals, assumedInitial };
}

/** The report of every zone asked for. Throws RangeError for a bad day. */
export async function buildReport(store: ReportStore, req: ReportRequest, now: number = Date.now()): Promise<Report> {
  if (!(REPORT_PERIODS as readonly string[]).includes(req.period))
    throw new RangeError(`period must be one of ${REPORT_PERIODS.join(', ')}`);
  const template = reportBuckets(req.period, req.day);
  const zones: ZoneReport[] = [];
  for (const z of req.zones) zones.push(await zoneReport(store, z, template, now));
  return {
    period: req.period,
    day: req.day,
    from: template[0]?.from ?? now,
    to: Math.min(template[template.length - 1]?.to ?? now, now),
    generatedAt: now,
    zones,
  };
}
