/**
 * AI telemetry: the telemetry row of one ai-decide call (what lighting-alerts
 * stores, kind "ai") and the summary GET /telemetry/ai answers for a local
 * day or month. Plain TypeScript, no Node-RED.
 *
 * The row keeps a fixed list of fields of ai-decide's telemetry message
 * (model, latency, tokens, request and payload bytes, windows sent, fallback
 * reason, circuit state, clamps fired, ...): nothing else of the message is
 * copied, so neither the API key nor profile data can reach the store, and
 * the free-text fallback detail is masked (maskSecrets) and shortened.
 *
 * The summary reads the rows page by page (store.telemetry, kind "ai"), so it
 * works on every store engine: calls, AI answers, fallbacks by reason,
 * tokens in/out, p50/p95 latency (nearest rank) and an estimated cost =
 * tokensIn / 1e6 * priceIn + tokensOut / 1e6 * priceOut. A price that is not
 * set (or not a number >= 0) gives cost null, never an error.
 */
import { AI_CALL_TELEMETRY_KIND, isPlainObject } from '../contracts';
import { maskSecrets } from '../store/mask';
import type { TelemetryRecord, TelemetryRow } from '../store/rows';
import type { Page, PageQuery } from '../store/store';
import { localDay, localDayBounds } from './query-energy';

/** Telemetry row kind of an ai-decide call. */
export const AI_TELEMETRY_KIND = 'ai';

const MAX_TEXT = 200;
const MAX_LIST = 20;

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);
const amount = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const short = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? maskSecrets(v).slice(0, MAX_TEXT) : null);
const words = (v: unknown): string[] =>
  Array.isArray(v)
    ? v
        .filter((x): x is string => typeof x === 'string')
        .slice(0, MAX_LIST)
        .map((x) => maskSecrets(x).slice(0, MAX_TEXT))
    : [];

/**
 * The telemetry row of an ai-decide telemetry message payload (kind
 * "ai-call"), or null when the payload is not one. Only the listed fields are
 * kept.
 */
export function aiTelemetryRow(payload: unknown): TelemetryRow | null {
  if (!isPlainObject(payload) || payload.kind !== AI_CALL_TELEMETRY_KIND) return null;
  const ts = count(payload.ts);
  if (ts === null) return null;
  const zone = typeof payload.zone === 'string' && payload.zone.trim() !== '' ? payload.zone.slice(0, 100) : null;
  const data: Record<string, unknown> = {
    model: short(payload.model),
    outcome: payload.outcome === 'ai' || payload.outcome === 'fallback' ? payload.outcome : null,
    requestBytes: count(payload.requestBytes),
    windowsSent: count(payload.windowsSent),
    trimmed: words(payload.trimmed),
    attempts: count(payload.attempts),
    clampsFired: words(payload.clampsFired),
    circuit: short(payload.circuit),
  };
  const detail = short(payload.fallbackDetail);
  if (detail !== null) data.fallbackDetail = detail;
  const msgId = short(payload.msgId);
  if (msgId !== null) data.msgId = msgId;
  return {
    ts,
    zone,
    kind: AI_TELEMETRY_KIND,
    latencyMs: amount(payload.latencyMs),
    payloadBytes: count(payload.payloadBytes),
    promptTokens: count(payload.promptTokens),
    completionTokens: count(payload.completionTokens),
    fallbackReason: short(payload.fallbackReason),
    data,
  };
}

// ---- the request ----

export interface AiTelemetryRequest {
  /** Exactly one of day (YYYY-MM-DD) and month (YYYY-MM), local time. */
  day?: string;
  month?: string;
  zone?: string;
  gateway?: string;
}

/** [first local midnight of the month, that of the next month) of YYYY-MM, or null. */
export function localMonthBounds(month: string): { from: number; to: number } | null {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  if (y < 1970 || mo < 0 || mo > 11) return null;
  return { from: new Date(y, mo, 1).getTime(), to: new Date(y, mo + 1, 1).getTime() };
}

const ID_MAX = 100;

function idOf(what: string, field: string, v: unknown): { ok: true; value?: string } | { ok: false; message: string } {
  if (v === undefined || v === null || v === '') return { ok: true };
  if (typeof v !== 'string' || v.trim() === '' || v.length > ID_MAX) {
    return { ok: false, message: `${what}: ${field} must be a non-empty string of at most ${ID_MAX} characters` };
  }
  return { ok: true, value: v };
}

/**
 * Checks a /telemetry/ai query: day=YYYY-MM-DD or month=YYYY-MM (not both;
 * neither = today), optional zone and gateway. `now` given: a period that has
 * not begun yet is refused.
 */
export function readAiTelemetryRequest(
  payload: unknown,
  now?: number,
): { ok: true; value: AiTelemetryRequest } | { ok: false; message: string } {
  const what = 'invalid AI telemetry query';
  if (payload === undefined || payload === null || payload === '') payload = {};
  if (!isPlainObject(payload)) return { ok: false, message: `${what}: expected query parameters` };
  const blank = (v: unknown): boolean => v === undefined || v === null || v === '';
  const out: AiTelemetryRequest = {};
  if (!blank(payload.day) && !blank(payload.month)) return { ok: false, message: `${what}: send day or month, not both` };
  if (!blank(payload.day)) {
    if (typeof payload.day !== 'string' || localDayBounds(payload.day) === null)
      return { ok: false, message: `${what}: day must be a calendar day YYYY-MM-DD` };
    out.day = payload.day;
  } else if (!blank(payload.month)) {
    if (typeof payload.month !== 'string' || localMonthBounds(payload.month) === null)
      return { ok: false, message: `${what}: month must be YYYY-MM` };
    out.month = payload.month;
  }
  if (now !== undefined) {
    const b = periodBounds(out, now);
    if (b.from > now) return { ok: false, message: `${what}: ${out.day ?? out.month ?? ''} has not begun yet` };
  }
  const zone = idOf(what, 'zone', payload.zone);
  if (!zone.ok) return zone;
  if (zone.value !== undefined) out.zone = zone.value;
  const gateway = idOf(what, 'gateway', payload.gateway);
  if (!gateway.ok) return gateway;
  if (gateway.value !== undefined) out.gateway = gateway.value;
  return { ok: true, value: out };
}

function periodBounds(req: AiTelemetryRequest, now: number): { from: number; to: number } {
  if (req.month !== undefined) {
    const b = localMonthBounds(req.month);
    if (b) return b;
  }
  const b = localDayBounds(req.day ?? localDay(now));
  if (b === null) throw new RangeError('invalid day');
  return b;
}

// ---- the summary ----

export interface AiPrices {
  /** Price per million input (prompt) tokens; null = unknown. */
  inputPerMTok: number | null;
  /** Price per million output (completion) tokens; null = unknown. */
  outputPerMTok: number | null;
}

/** A price from text or a number: a finite number >= 0, else null ("" / unset = null). */
export function priceOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Prices from AI_PRICE_INPUT_PER_MTOK / AI_PRICE_OUTPUT_PER_MTOK (unset or invalid = null). */
export function pricesFromEnv(env: NodeJS.ProcessEnv = process.env): AiPrices {
  return { inputPerMTok: priceOf(env.AI_PRICE_INPUT_PER_MTOK), outputPerMTok: priceOf(env.AI_PRICE_OUTPUT_PER_MTOK) };
}

export interface AiTelemetrySummary {
  /** Calls (rows) in the period. */
  calls: number;
  /** Calls the model answered. */
  aiCalls: number;
  /** Calls that fell back to the rules, and how many per reason. */
  fallbacks: number;
  fallbacksByReason: Record<string, number>;
  tokens: { input: number; output: number; total: number };
  /** Calls whose token counts were not reported. */
  callsWithoutTokens: number;
  /** Nearest-rank percentiles of the calls' latency, ms; null without calls. */
  latencyMs: { p50: number | null; p95: number | null; max: number | null };
  /** Estimated cost in the prices' currency; null when a price is unknown. */
  cost: number | null;
  prices: AiPrices;
  /** Calls per model. */
  models: Record<string, number>;
}

export interface AiTelemetryReport extends AiTelemetrySummary {
  day: string | null;
  month: string | null;
  zone: string | null;
  /** Period, epoch ms: [from, to). */
  from: number;
  to: number;
}

/** Nearest-rank percentile (p in (0, 100]) of ascending `sorted`; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The cost of the tokens at `prices` (per million tokens); null when a price is unknown. */
export function tokenCost(tokensIn: number, tokensOut: number, prices: AiPrices): number | null {
  if (prices.inputPerMTok === null || prices.outputPerMTok === null) return null;
  return (tokensIn / 1e6) * prices.inputPerMTok + (tokensOut / 1e6) * prices.outputPerMTok;
}

/** Accumulates telemetry records (any order) into a summary. */
export class AiTelemetrySummer {
  #calls = 0;
  #fallbacks = 0;
  #byReason = new Map<string, number>();
  #models = new Map<string, number>();
  #in = 0;
  #out = 0;
  #noTokens = 0;
  #latencies: number[] = [];

  add(r: Pick<TelemetryRecord, 'latencyMs' | 'promptTokens' | 'completionTokens' | 'fallbackReason' | 'data'>): void {
    this.#calls += 1;
    if (r.fallbackReason !== null && r.fallbackReason !== '') {
      this.#fallbacks += 1;
      this.#byReason.set(r.fallbackReason, (this.#byReason.get(r.fallbackReason) ?? 0) + 1);
    }
    const model = isPlainObject(r.data) && typeof r.data.model === 'string' ? r.data.model : 'unknown';
    this.#models.set(model, (this.#models.get(model) ?? 0) + 1);
    if (r.promptTokens === null && r.completionTokens === null) this.#noTokens += 1;
    this.#in += r.promptTokens ?? 0;
    this.#out += r.completionTokens ?? 0;
    if (r.latencyMs !== null && Number.isFinite(r.latencyMs)) this.#latencies.push(r.latencyMs);
  }

  summary(prices: AiPrices): AiTelemetrySummary {
    const lat = [...this.#latencies].sort((a, b) => a - b);
    const sortedObject = (m: Map<string, number>): Record<string, number> =>
      Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
    return {
      calls: this.#calls,
      aiCalls: this.#calls - this.#fallbacks,
      fallbacks: this.#fallbacks,
      fallbacksByReason: sortedObject(this.#byReason),
      tokens: { input: this.#in, output: this.#out, total: this.#in + this.#out },
      callsWithoutTokens: this.#noTokens,
      latencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95), max: lat.length > 0 ? lat[lat.length - 1] : null },
      cost: tokenCost(this.#in, this.#out, prices),
      prices: { ...prices },
      models: sortedObject(this.#models),
    };
  }
}

/** The store operation used here (LightingStore implements it). */
export interface TelemetryPages {
  telemetry(q: PageQuery & { kind?: string }): Promise<Page<TelemetryRecord>>;
}

/** The AI telemetry summary of a day or month, read page by page. */
export async function aiTelemetryReport(
  store: TelemetryPages,
  req: AiTelemetryRequest,
  options: { prices: AiPrices; now?: number; pageRows?: number },
): Promise<AiTelemetryReport> {
  const now = options.now ?? Date.now();
  const { from, to } = periodBounds(req, now);
  const acc = new AiTelemetrySummer();
  const q: PageQuery & { kind: string } = { kind: AI_TELEMETRY_KIND, since: from, until: to, limit: options.pageRows ?? 1000 };
  if (req.zone !== undefined) q.zone = req.zone;
  if (req.gateway !== undefined) q.gateway = req.gateway;
  for (;;) {
    const page = await store.telemetry(q);
    for (const r of page.items) acc.add(r);
    if (page.nextCursor === null) break;
    q.cursor = page.nextCursor;
  }
  return {
    day: req.month === undefined ? (req.day ?? localDay(now)) : null,
    month: req.month ?? null,
    zone: req.zone ?? null,
    from,
    to,
    ...acc.summary(options.prices),
  };
}
