/**
 * The feature payload sent to the model, capped.
 *
 * What the cap covers: the UTF-8 bytes of the user message content, i.e.
 * exactly the string `content` returned here and sent as
 * `messages[1].content` (the feature payload, like the reference service's
 * `payload_cap_bytes`). The rest of the request body is fixed for a given
 * model name (system prompt, tool schema, tool_choice): the whole body is at
 * most that fixed part plus twice the content (JSON escaping of the content
 * string), and the decider reports the exact body size as
 * `telemetry.requestBytes`.
 *
 * Guarantees of `buildPayload` (tested with seeded random windows):
 * - `content` is valid JSON (never truncated text), `bytes` = its UTF-8
 *   length <= payloadCapBytes, it holds <= payloadBatchLimit (<= 3) windows;
 * - only allow-listed fields: per window windowStart, windowEnd, count,
 *   minuteOfDay, weekday, lux {mean, min, max, std, last}, presence {ratio,
 *   transitions, last}, weather {numeric fields}; top level zone (at most
 *   ZONE_MAX_CHARS characters), hints (the four non-personal fields of
 *   ProfileHints: minIntensityPct, maxStepPct, cctBias, slowerDimDown);
 *   nothing else from the input is copied, whatever it carries;
 * - numbers are finite (NaN/Infinity are left out), strings are well formed;
 * - any cap >= MIN_SAFE_CAP_BYTES (256) fits: below that a PayloadCapError
 *   may be thrown (and then the decider falls back to the rules).
 *
 * Window choice: the newest windows (by windowEnd, else windowStart; input
 * order breaks ties, later = newer) of the newest window's zone; windows of
 * other zones are ignored. They are sent oldest first.
 *
 * Trim priority when the payload is over the cap (each step is kept once
 * applied, the first fit wins):
 *   1. `oldest-window`, repeated: drop the oldest window until one is left;
 *   then, on the remaining window:
 *   2. `weather-extras`: drop weather fields other than temperatureC,
 *      cloudCoverPct, solarRadiationWm2, outdoorLux;
 *   3. `lux-spread`: drop lux.min, lux.max, lux.std;
 *   4. `coarse-numbers`: lux, minuteOfDay and weather to whole numbers,
 *      presence.ratio to 2 decimals (from 1, 1 and 2 decimals, 3 for ratio);
 *   5. `weather`: drop weather;
 *   6. `zone`: drop the zone name;
 *   7. `window-detail`: drop windowStart, count, presence.transitions;
 *   8. `hints`: drop the hints (the clamps still enforce them);
 *   9. `window-end`: drop windowEnd.
 *   The minimum is one window's essential fields: minuteOfDay, weekday,
 *   lux {mean, last}, presence {ratio, last}.
 */
import { isPlainObject, read } from '../contracts';
import type { CctBias } from '../crypto/profile';

export const DEFAULT_PAYLOAD_CAP_BYTES = 2048;
export const DEFAULT_PAYLOAD_BATCH_LIMIT = 3;
export const MAX_PAYLOAD_BATCH_LIMIT = 3;
/** Every cap from this size up always fits the minimum payload (numbers are at most 24 characters in JSON). */
export const MIN_SAFE_CAP_BYTES = 256;
/** Longest zone name sent, in characters (code points). */
export const ZONE_MAX_CHARS = 32;
/** Most non-standard weather fields sent. */
export const MAX_WEATHER_EXTRAS = 8;

export const STANDARD_WEATHER_FIELDS = ['temperatureC', 'cloudCoverPct', 'solarRadiationWm2', 'outdoorLux'] as const;

export const TRIM_STEPS = [
  'weather-extras',
  'lux-spread',
  'coarse-numbers',
  'weather',
  'zone',
  'window-detail',
  'hints',
  'window-end',
] as const;
export type TrimStep = (typeof TRIM_STEPS)[number] | 'oldest-window';

/** Non-personal hints the model may see (ProfileHints of lib/crypto/profile.ts, every field optional). */
export interface AiHints {
  minIntensityPct?: number;
  maxStepPct?: number;
  cctBias?: CctBias;
  slowerDimDown?: boolean;
  /**
   * The zone's accepted schedule in effect now (lib/learning/schedule.ts aiScheduleHint): not
   * personal, a preference people showed by their overrides. Trimmed together with the hints.
   */
  schedule?: { minIntensityPct?: number; maxIntensityPct?: number; kelvin?: number; targetLux?: number };
}

/** One window as sent. */
export interface AiWindow {
  windowStart?: number;
  windowEnd?: number;
  count?: number;
  minuteOfDay?: number;
  weekday?: number;
  lux?: { mean?: number; min?: number; max?: number; std?: number; last?: number };
  presence?: { ratio?: number; transitions?: number; last?: boolean | null };
  weather?: Record<string, number>;
}

/** The object serialized into the user message. */
export interface AiPayload {
  zone?: string;
  hints?: AiHints;
  windows: AiWindow[];
}

export interface PayloadOptions {
  /** Cap on the UTF-8 bytes of the content (default 2048). */
  payloadCapBytes?: number;
  /** Most windows sent, 1-3 (default 3). */
  payloadBatchLimit?: number;
}

export interface BuiltPayload {
  /** Exactly the user message content: JSON text of `payload`. */
  content: string;
  /** UTF-8 bytes of `content` (<= the cap). */
  bytes: number;
  payload: AiPayload;
  windowsSent: number;
  /** Trim steps applied, in order ("oldest-window" once per dropped window). */
  trimmed: TrimStep[];
  /** Full zone of the newest window (not truncated), for the setpoint; undefined if it had none. */
  zone: string | undefined;
  /** True when the zone name was cut to ZONE_MAX_CHARS for sending. */
  zoneTruncated: boolean;
}

export type PayloadErrorCode = 'no-windows' | 'payload-cap';

/** The payload cannot be built: no usable window, or even the minimum does not fit the cap. */
export class PayloadCapError extends Error {
  override readonly name = 'PayloadCapError';
  readonly code: PayloadErrorCode;
  /** Bytes of the smallest payload tried (payload-cap only). */
  readonly minimumBytes: number | undefined;
  readonly capBytes: number;
  constructor(code: PayloadErrorCode, message: string, capBytes: number, minimumBytes?: number) {
    super(message);
    this.code = code;
    this.capBytes = capBytes;
    this.minimumBytes = minimumBytes;
  }
}

// ------------------------------------------------------------ reading ----

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Strings without control characters and without lone surrogates. */
function wellFormed(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
  );
}

const CCT_BIASES: readonly string[] = ['warm', 'neutral', 'cool'];

/**
 * Allow-list of profile hints: only minIntensityPct (0-100), maxStepPct
 * (0-100, > 0), cctBias (warm/neutral/cool), slowerDimDown (boolean) are
 * copied, and only when valid; plus the zone's accepted schedule
 * (`schedule`: minIntensityPct, maxIntensityPct, kelvin, targetLux). Anything else (ids, names, ages, schedules,
 * unknown keys) is dropped. Returns undefined when nothing is left.
 */
export function sanitizeHints(hints: unknown): AiHints | undefined {
  if (!isPlainObject(hints)) return undefined;
  const out: AiHints = {};
  const min = finite(read(hints, 'minIntensityPct'));
  if (min !== undefined && min >= 0 && min <= 100) out.minIntensityPct = min;
  const step = finite(read(hints, 'maxStepPct'));
  if (step !== undefined && step > 0 && step <= 100) out.maxStepPct = step;
  const bias = read(hints, 'cctBias');
  if (typeof bias === 'string' && CCT_BIASES.includes(bias)) out.cctBias = bias as CctBias;
  const slower = read(hints, 'slowerDimDown');
  if (typeof slower === 'boolean') out.slowerDimDown = slower;
  const sched = read(hints, 'schedule');
  if (isPlainObject(sched)) {
    const s: NonNullable<AiHints['schedule']> = {};
    const field = (name: 'minIntensityPct' | 'maxIntensityPct' | 'kelvin' | 'targetLux', lo: number, hi: number): void => {
      const v = finite(read(sched, name));
      if (v !== undefined && v >= lo && v <= hi) s[name] = v;
    };
    field('minIntensityPct', 0, 100);
    field('maxIntensityPct', 0, 100);
    field('kelvin', 1000, 20000);
    field('targetLux', 1, 100_000);
    if (Object.keys(s).length > 0) out.schedule = s;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A window reduced to allow-listed, finite values (full precision): an AiWindow before rounding and trimming. */
interface CleanWindow extends Omit<AiWindow, 'weather'> {
  zone: string | undefined;
  order: number;
  weatherStandard?: Record<string, number>;
  weatherExtras?: Record<string, number>;
}

const EXTRA_KEY = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

function cleanWindow(input: unknown, order: number): CleanWindow | null {
  if (!isPlainObject(input)) return null;
  const zoneRaw = read(input, 'zone');
  const w: CleanWindow = { zone: typeof zoneRaw === 'string' ? zoneRaw : undefined, order };
  const put = <K extends 'windowStart' | 'windowEnd' | 'count' | 'minuteOfDay' | 'weekday'>(key: K): void => {
    const v = finite(read(input, key));
    if (v !== undefined) w[key] = v;
  };
  put('windowStart');
  put('windowEnd');
  put('count');
  put('minuteOfDay');
  put('weekday');
  const luxRaw = read(input, 'lux');
  if (isPlainObject(luxRaw)) {
    const lux: NonNullable<CleanWindow['lux']> = {};
    for (const k of ['mean', 'min', 'max', 'std', 'last'] as const) {
      const v = finite(read(luxRaw, k));
      if (v !== undefined) lux[k] = v;
    }
    if (Object.keys(lux).length > 0) w.lux = lux;
  }
  const presRaw = read(input, 'presence');
  if (isPlainObject(presRaw)) {
    const p: NonNullable<CleanWindow['presence']> = {};
    const ratio = finite(read(presRaw, 'ratio'));
    if (ratio !== undefined) p.ratio = ratio;
    const transitions = finite(read(presRaw, 'transitions'));
    if (transitions !== undefined) p.transitions = transitions;
    const last = read(presRaw, 'last');
    if (typeof last === 'boolean') p.last = last;
    else if (last === null) p.last = null;
    if (Object.keys(p).length > 0) w.presence = p;
  }
  const weatherRaw = read(input, 'weather');
  if (isPlainObject(weatherRaw)) {
    const standard: Record<string, number> = {};
    const extras: Record<string, number> = {};
    let keys: string[] = [];
    try {
      keys = Object.keys(weatherRaw);
    } catch {
      keys = [];
    }
    for (const k of STANDARD_WEATHER_FIELDS) {
      const v = finite(read(weatherRaw, k));
      if (v !== undefined) standard[k] = v;
    }
    let n = 0;
    for (const k of keys) {
      if (n >= MAX_WEATHER_EXTRAS) break;
      if ((STANDARD_WEATHER_FIELDS as readonly string[]).includes(k) || k === 'ts' || !EXTRA_KEY.test(k)) continue;
      const v = finite(read(weatherRaw, k));
      if (v === undefined) continue;
      extras[k] = v;
      n++;
    }
    if (Object.keys(standard).length > 0) w.weatherStandard = standard;
    if (Object.keys(extras).length > 0) w.weatherExtras = extras;
  }
  return w;
}

function recency(w: CleanWindow): number {
  return w.windowEnd ?? w.windowStart ?? -Infinity;
}

// ------------------------------------------------------------ rendering ----

/** Round to `decimals`; magnitudes where rounding is meaningless stay as they are. */
function round(v: number, decimals: number): number {
  if (Math.abs(v) >= 1e15) return v;
  if (v === 0) return 0;
  const f = 10 ** decimals;
  const r = Math.round(v * f) / f;
  return Number.isFinite(r) ? (Object.is(r, -0) ? 0 : r) : v;
}

function renderWindow(w: CleanWindow, applied: ReadonlySet<TrimStep>): AiWindow {
  const coarse = applied.has('coarse-numbers');
  const luxDp = coarse ? 0 : 1;
  const ratioDp = coarse ? 2 : 3;
  const minuteDp = coarse ? 0 : 1;
  const weatherDp = coarse ? 0 : 2;
  const detail = !applied.has('window-detail');
  const out: AiWindow = {};
  if (detail && w.windowStart !== undefined) out.windowStart = round(w.windowStart, 0);
  if (!applied.has('window-end') && w.windowEnd !== undefined) out.windowEnd = round(w.windowEnd, 0);
  if (detail && w.count !== undefined) out.count = round(w.count, 0);
  if (w.minuteOfDay !== undefined) out.minuteOfDay = round(w.minuteOfDay, minuteDp);
  if (w.weekday !== undefined) out.weekday = round(w.weekday, 0);
  if (w.lux) {
    const lux: NonNullable<AiWindow['lux']> = {};
    const keys = applied.has('lux-spread') ? (['mean', 'last'] as const) : (['mean', 'min', 'max', 'std', 'last'] as const);
    for (const k of keys) {
      const v = w.lux[k];
      if (v !== undefined) lux[k] = round(v, luxDp);
    }
    if (Object.keys(lux).length > 0) out.lux = lux;
  }
  if (w.presence) {
    const p: NonNullable<AiWindow['presence']> = {};
    if (w.presence.ratio !== undefined) p.ratio = round(w.presence.ratio, ratioDp);
    if (detail && w.presence.transitions !== undefined) p.transitions = round(w.presence.transitions, 0);
    if (w.presence.last !== undefined) p.last = w.presence.last;
    if (Object.keys(p).length > 0) out.presence = p;
  }
  if (!applied.has('weather')) {
    const weather: Record<string, number> = {};
    for (const [k, v] of Object.entries(w.weatherStandard ?? {})) weather[k] = round(v, weatherDp);
    if (!applied.has('weather-extras')) for (const [k, v] of Object.entries(w.weatherExtras ?? {})) weather[k] = round(v, weatherDp);
    if (Object.keys(weather).length > 0) out.weather = weather;
  }
  return out;
}

function renderHints(h: AiHints): AiHints {
  const out: AiHints = {};
  if (h.minIntensityPct !== undefined) out.minIntensityPct = round(h.minIntensityPct, 1);
  if (h.maxStepPct !== undefined) out.maxStepPct = round(h.maxStepPct, 1);
  if (h.cctBias !== undefined) out.cctBias = h.cctBias;
  if (h.slowerDimDown !== undefined) out.slowerDimDown = h.slowerDimDown;
  if (h.schedule !== undefined) {
    const s: NonNullable<AiHints['schedule']> = {};
    for (const k of ['minIntensityPct', 'maxIntensityPct', 'kelvin', 'targetLux'] as const)
      if (h.schedule[k] !== undefined) s[k] = Math.round(h.schedule[k] as number);
    out.schedule = s;
  }
  return out;
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function sanitizeOption(v: unknown, lo: number, hi: number, dflt: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : dflt;
}

/**
 * Build the capped payload from feature windows (any values; invalid ones are
 * skipped) and hints (allow-listed). Never returns more than the cap.
 * @throws PayloadCapError code "no-windows" (no object in `windows`) or
 *   "payload-cap" (even the minimum does not fit).
 */
export function buildPayload(windows: readonly unknown[] | unknown, hints: unknown, options: PayloadOptions = {}): BuiltPayload {
  const cap = sanitizeOption(options.payloadCapBytes, 1, Number.MAX_SAFE_INTEGER, DEFAULT_PAYLOAD_CAP_BYTES);
  const limit = sanitizeOption(options.payloadBatchLimit, 1, MAX_PAYLOAD_BATCH_LIMIT, DEFAULT_PAYLOAD_BATCH_LIMIT);

  const list: unknown[] = [];
  if (Array.isArray(windows)) {
    try {
      for (const w of windows) list.push(w);
    } catch {
      // a hostile iterable: use what was read
    }
  }
  const clean: CleanWindow[] = [];
  list.forEach((w, i) => {
    const c = cleanWindow(w, i);
    if (c) clean.push(c);
  });
  if (clean.length === 0) throw new PayloadCapError('no-windows', 'no feature window to send', cap);
  clean.sort((a, b) => recency(a) - recency(b) || a.order - b.order);
  const newest = clean[clean.length - 1] as CleanWindow;
  const sameZone = clean.filter((w) => w.zone === newest.zone);
  const candidates = sameZone.slice(-limit);

  let zoneSent: string | undefined;
  let zoneTruncated = false;
  if (newest.zone !== undefined) {
    const chars = Array.from(wellFormed(newest.zone));
    zoneTruncated = chars.length > ZONE_MAX_CHARS;
    const z = chars.slice(0, ZONE_MAX_CHARS).join('').trim();
    zoneSent = z === '' ? undefined : z;
  }
  const cleanHints = sanitizeHints(hints);

  const applied = new Set<TrimStep>();
  const trimmed: TrimStep[] = [];
  const render = (ws: readonly CleanWindow[]): { payload: AiPayload; content: string; bytes: number } => {
    const payload: AiPayload = { windows: [] };
    if (zoneSent !== undefined && !applied.has('zone')) payload.zone = zoneSent;
    if (cleanHints && !applied.has('hints')) payload.hints = renderHints(cleanHints);
    payload.windows = ws.map((w) => renderWindow(w, applied));
    const content = JSON.stringify(payload);
    return { payload, content, bytes: utf8Bytes(content) };
  };
  const done = (r: ReturnType<typeof render>, sent: number): BuiltPayload => ({
    content: r.content,
    bytes: r.bytes,
    payload: r.payload,
    windowsSent: sent,
    trimmed,
    zone: newest.zone,
    zoneTruncated,
  });

  let ws = candidates;
  for (;;) {
    const r = render(ws);
    if (r.bytes <= cap) return done(r, ws.length);
    if (ws.length <= 1) break;
    ws = ws.slice(1);
    trimmed.push('oldest-window');
  }
  let last = render(ws);
  for (const step of TRIM_STEPS) {
    applied.add(step);
    trimmed.push(step);
    last = render(ws);
    if (last.bytes <= cap) return done(last, ws.length);
  }
  throw new PayloadCapError(
    'payload-cap',
    `feature payload does not fit payloadCapBytes ${cap}: the minimum (one window's essential fields) takes ${last.bytes} bytes`,
    cap,
    last.bytes,
  );
}
