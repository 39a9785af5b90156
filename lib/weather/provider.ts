/**
 * Current outdoor conditions from a weather service, as the WeatherUpdate
 * that POST /ingest/weather and `feature-window` (msg.topic "weather") take
 * (lib/features/types: one definition, validated by validateWeatherUpdate).
 *
 *   const update = await fetchWeather({ provider: 'open-meteo', latitude: 52.5, longitude: 13.4, timeoutMs: 10_000 });
 *
 * Providers:
 * - `open-meteo` (no key): GET <base>/v1/forecast?latitude&longitude&current=temperature_2m,cloud_cover,shortwave_radiation
 *   &timeformat=unixtime; answer `{current: {time (epoch s), temperature_2m (°C), cloud_cover (%), shortwave_radiation (W/m²)}}`.
 * - `openweathermap` (key): GET <base>/data/2.5/weather?lat&lon&units=metric&appid=<key>;
 *   answer `{dt (epoch s), main: {temp (°C)}, clouds: {all (%)}}` (no radiation).
 *
 * Every failure is a WeatherFetchError with a `kind`: `timeout` (no answer
 * within timeoutMs, the request is aborted), `http` (a status other than 2xx),
 * `network` (no connection), `malformed` (not JSON, or no usable field, or a
 * value out of range). Its message never holds the key (the URL carries it):
 * the key is replaced by "***" wherever it appears.
 */
import { type WeatherUpdate, validateWeatherUpdate } from '../contracts';
import { maskSecrets, SECRET_MASK } from '../store/mask';

export const WEATHER_PROVIDERS = ['open-meteo', 'openweathermap'] as const;
export type WeatherProvider = (typeof WEATHER_PROVIDERS)[number];

/** The real services; a blank base URL means these. */
export const DEFAULT_BASE_URLS: Readonly<Record<WeatherProvider, string>> = Object.freeze({
  'open-meteo': 'https://api.open-meteo.com',
  openweathermap: 'https://api.openweathermap.org',
});

export type WeatherFailure = 'timeout' | 'http' | 'network' | 'malformed';

export class WeatherFetchError extends Error {
  constructor(
    readonly kind: WeatherFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WeatherFetchError';
  }
}

export interface WeatherRequest {
  provider: WeatherProvider;
  latitude: number;
  longitude: number;
  /** Needed by openweathermap; never part of an error or status. */
  apiKey?: string | null;
  /** Blank or absent: DEFAULT_BASE_URLS[provider]. */
  baseUrl?: string | null;
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /** Zone the update is for; absent/null: every zone. */
  zone?: string | null;
  /** Aborts the request (a node closing). */
  signal?: AbortSignal;
  /** Default globalThis.fetch. */
  fetchImpl?: typeof fetch;
}

/** Largest answer read, bytes: a weather answer is a few hundred. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Checks position and provider settings. @throws RangeError naming the field. */
export function checkPosition(latitude: unknown, longitude: unknown): { latitude: number; longitude: number } {
  if (typeof latitude !== 'number' || !Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
    throw new RangeError(`latitude must be a number from -90 to 90, got ${String(latitude)}`);
  }
  if (typeof longitude !== 'number' || !Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
    throw new RangeError(`longitude must be a number from -180 to 180, got ${String(longitude)}`);
  }
  return { latitude, longitude };
}

/** The request URL of a provider (with the key in it for openweathermap). */
export function weatherUrl(req: Pick<WeatherRequest, 'provider' | 'latitude' | 'longitude' | 'apiKey' | 'baseUrl'>): URL {
  const { latitude, longitude } = checkPosition(req.latitude, req.longitude);
  const base = (req.baseUrl ?? '').trim() || DEFAULT_BASE_URLS[req.provider];
  let root: URL;
  try {
    root = new URL(base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new RangeError(`base URL is not a URL: ${maskSecrets(base).slice(0, 200)}`);
  }
  if (root.protocol !== 'http:' && root.protocol !== 'https:') throw new RangeError(`base URL must be http or https, got ${root.protocol}`);
  if (req.provider === 'open-meteo') {
    const url = new URL('v1/forecast', root);
    url.searchParams.set('latitude', String(latitude));
    url.searchParams.set('longitude', String(longitude));
    url.searchParams.set('current', 'temperature_2m,cloud_cover,shortwave_radiation');
    url.searchParams.set('timeformat', 'unixtime');
    return url;
  }
  const key = (req.apiKey ?? '').trim();
  if (key === '') throw new RangeError('openweathermap needs an API key (credential or WEATHER_API_KEY)');
  const url = new URL('data/2.5/weather', root);
  url.searchParams.set('lat', String(latitude));
  url.searchParams.set('lon', String(longitude));
  url.searchParams.set('units', 'metric');
  url.searchParams.set('appid', key);
  return url;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(provider: WeatherProvider, detail: string): WeatherFetchError {
  return new WeatherFetchError('malformed', `malformed ${provider} answer: ${detail}`);
}

/** A number or absent (null, undefined); anything else is malformed. */
function numberOrAbsent(provider: WeatherProvider, field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed(provider, `${field} is not a number`);
  return v;
}

/** Epoch seconds of the observation (absent: `now`). */
function observedAt(provider: WeatherProvider, field: string, v: unknown, now: number): number {
  const s = numberOrAbsent(provider, field, v);
  return s === undefined ? now : Math.round(s * 1000);
}

/** The validated update, or malformed with the validator's reason. */
function toUpdate(provider: WeatherProvider, raw: Record<string, unknown>): WeatherUpdate {
  try {
    return validateWeatherUpdate(raw);
  } catch (err) {
    throw malformed(provider, (err as Error).message);
  }
}

/** An Open-Meteo `current` answer as a WeatherUpdate. @throws WeatherFetchError (malformed) */
export function parseOpenMeteo(body: unknown, now: number, zone: string | null = null): WeatherUpdate {
  const p: WeatherProvider = 'open-meteo';
  if (!isRecord(body)) throw malformed(p, 'not a JSON object');
  const current = body.current;
  if (!isRecord(current)) throw malformed(p, 'no "current" object');
  const raw: Record<string, unknown> = {
    ts: observedAt(p, 'current.time', current.time, now),
    zone,
    source: p,
    temperatureC: numberOrAbsent(p, 'current.temperature_2m', current.temperature_2m),
    cloudCoverPct: numberOrAbsent(p, 'current.cloud_cover', current.cloud_cover),
    solarRadiationWm2: numberOrAbsent(p, 'current.shortwave_radiation', current.shortwave_radiation),
  };
  return toUpdate(p, raw);
}

/** An OpenWeatherMap current weather answer as a WeatherUpdate. @throws WeatherFetchError (malformed) */
export function parseOpenWeatherMap(body: unknown, now: number, zone: string | null = null): WeatherUpdate {
  const p: WeatherProvider = 'openweathermap';
  if (!isRecord(body)) throw malformed(p, 'not a JSON object');
  const main = body.main;
  const clouds = body.clouds;
  if (main !== undefined && !isRecord(main)) throw malformed(p, '"main" is not an object');
  if (clouds !== undefined && !isRecord(clouds)) throw malformed(p, '"clouds" is not an object');
  const raw: Record<string, unknown> = {
    ts: observedAt(p, 'dt', body.dt, now),
    zone,
    source: p,
    temperatureC: numberOrAbsent(p, 'main.temp', main?.temp),
    cloudCoverPct: numberOrAbsent(p, 'clouds.all', clouds?.all),
  };
  return toUpdate(p, raw);
}

/** The provider's parser. */
export function parseWeather(provider: WeatherProvider, body: unknown, now: number, zone: string | null = null): WeatherUpdate {
  return provider === 'open-meteo' ? parseOpenMeteo(body, now, zone) : parseOpenWeatherMap(body, now, zone);
}

/** `text` with the key (and anything shaped like a secret) replaced by "***". */
export function maskKey(text: string, key: string | null | undefined): string {
  let out = text;
  const k = (key ?? '').trim();
  if (k !== '') out = out.split(k).join(SECRET_MASK);
  return maskSecrets(out);
}

/**
 * Fetches and parses the current conditions. Resolves with a validated
 * WeatherUpdate; rejects with WeatherFetchError (or RangeError for a bad
 * position, base URL or missing key) and nothing else.
 */
export async function fetchWeather(req: WeatherRequest, now: () => number = Date.now): Promise<WeatherUpdate> {
  const url = weatherUrl(req);
  const timeoutMs = req.timeoutMs ?? 10_000;
  const host = url.host;
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, timeoutMs);
  const onAbort = (): void => ctl.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const doFetch = req.fetchImpl ?? fetch;
  try {
    let res: Response;
    try {
      res = await doFetch(url, { signal: ctl.signal, headers: { accept: 'application/json' } });
    } catch (err) {
      if (timedOut) throw new WeatherFetchError('timeout', `no answer from ${host} within ${timeoutMs} ms`);
      if (req.signal?.aborted) throw new WeatherFetchError('network', `request to ${host} cancelled`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new WeatherFetchError('network', maskKey(`cannot reach ${host}: ${why}`, req.apiKey));
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      if (timedOut) throw new WeatherFetchError('timeout', `answer from ${host} not complete within ${timeoutMs} ms`);
      throw new WeatherFetchError('network', `answer from ${host} broke off`);
    }
    if (!res.ok) {
      throw new WeatherFetchError('http', `HTTP ${res.status} from ${host}`);
    }
    if (text.length > MAX_ANSWER_BYTES) throw malformed(req.provider, `answer larger than ${MAX_ANSWER_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw malformed(req.provider, 'not JSON');
    }
    return parseWeather(req.provider, body, now(), req.zone ?? null);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}
