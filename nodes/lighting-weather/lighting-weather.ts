/**
 * lighting-weather: current outdoor conditions from a weather service on a
 * schedule (and on any input message), sent on as the weather update that
 * `feature-window` takes (msg.topic "weather", the same message POST
 * /ingest/weather makes): feature-window stores it in weather_events and
 * attaches it to the zones' windows, so it reaches the deciders and the AI
 * payload. Fetching and parsing live in lib/weather; this file schedules,
 * shows status and maps messages.
 *
 * A failed fetch (timeout, HTTP error, no connection, malformed answer) sends
 * nothing, shows a red (no answer) or yellow (an answer that cannot be used)
 * status and waits for the next run; the next good fetch turns it green again.
 * The API key (credential, else WEATHER_API_KEY) is read on demand and never
 * appears in a status, log line, error or message.
 */
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import {
  DEFAULT_BASE_URLS,
  fetchWeather,
  maskKey,
  WEATHER_PROVIDERS,
  WeatherFetchError,
  type WeatherProvider,
} from '../../lib/weather/provider';
import type { WeatherUpdate } from '../../lib/contracts';
import { hhmm, shortText } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { messageOf } from '../shared/errors';

interface WeatherCredentials {
  apiKey?: string;
}

interface LightingWeatherSettings {
  /** `auto`: openweathermap when a key is set, else open-meteo. */
  service: 'auto' | WeatherProvider;
  latitude: number | null;
  longitude: number | null;
  baseUrl: string;
  intervalMinutes: number;
  timeoutS: number;
  /** Zone the update is for; '' = every zone. */
  zone: string;
}

interface LightingWeatherNode extends Node<WeatherCredentials> {
  settings: LightingWeatherSettings;
}

/** The first scheduled fetch, this long after start (lets the flow's other nodes start first). */
const FIRST_FETCH_MS = 2000;

export = function (RED: NodeAPI): void {
  function LightingWeather(this: LightingWeatherNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`lighting-weather.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    this.settings = {
      service: read.choice<'auto' | WeatherProvider>('service', ['auto', ...WEATHER_PROVIDERS], 'auto'),
      latitude: read.optionalNumber('latitude', -90, 90),
      longitude: read.optionalNumber('longitude', -180, 180),
      baseUrl: read.text('baseUrl'),
      intervalMinutes: read.number('intervalMinutes', 15, 1, 1440),
      timeoutS: read.number('timeoutS', 10, 1, 120),
      zone: read.text('zone'),
    };
    const s = this.settings;
    if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(s.baseUrl)) s.baseUrl = '';

    const apiKey = (): string => {
      const own = typeof this.credentials?.apiKey === 'string' ? this.credentials.apiKey.trim() : '';
      return own || (process.env.WEATHER_API_KEY ?? '').trim();
    };
    const provider = (): WeatherProvider => (s.service === 'auto' ? (apiKey() !== '' ? 'openweathermap' : 'open-meteo') : s.service);
    const positioned = s.latitude !== null && s.longitude !== null;

    let closed = false;
    let inFlight: Promise<WeatherUpdate> | null = null;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | null = null;
    let first: NodeJS.Timeout | null = null;
    let lastError: string | null = null;

    const show = (status: NodeStatus): void => {
      if (!closed) this.status(status);
    };
    const describe = (u: WeatherUpdate): string => {
      const parts: string[] = [];
      if (u.temperatureC != null) parts.push(`${Math.round(u.temperatureC * 10) / 10} °C`);
      if (u.cloudCoverPct != null) parts.push(t('status.cloud', { pct: Math.round(u.cloudCoverPct) }));
      if (u.solarRadiationWm2 != null) parts.push(`${Math.round(u.solarRadiationWm2)} W/m²`);
      return t('status.ok', { what: parts.join(', '), time: hhmm(u.ts) });
    };

    /** One fetch; concurrent callers share it. Rejects with a message free of the key. */
    const fetchOnce = (): Promise<WeatherUpdate> => {
      if (inFlight !== null) return inFlight;
      const key = apiKey();
      const p = (async () => {
        if (!positioned) throw new Error(t('errors.noPosition'));
        show({ fill: 'blue', shape: 'dot', text: t('status.fetching') });
        try {
          return await fetchWeather({
            provider: provider(),
            latitude: s.latitude as number,
            longitude: s.longitude as number,
            apiKey: key,
            baseUrl: s.baseUrl,
            timeoutMs: Math.round(s.timeoutS * 1000),
            zone: s.zone === '' ? null : s.zone,
            signal: abort.signal,
          });
        } catch (err) {
          const e = err instanceof WeatherFetchError ? err : new WeatherFetchError('network', messageOf(err));
          const masked = new WeatherFetchError(e.kind, maskKey(e.message, key));
          show({ fill: e.kind === 'malformed' ? 'yellow' : 'red', shape: 'ring', text: shortText(masked.message) });
          throw masked;
        }
      })();
      inFlight = p;
      const clear = (): void => {
        if (inFlight === p) inFlight = null;
      };
      p.then(clear, clear);
      return p;
    };

    const publish = (msg: NodeMessage, u: WeatherUpdate): NodeMessage => {
      msg.topic = 'weather';
      msg.payload = u;
      show({ fill: 'green', shape: 'dot', text: describe(u) });
      return msg;
    };

    const scheduled = (): void => {
      fetchOnce().then(
        (u) => {
          if (closed) return;
          if (lastError !== null) this.log(t('log.recovered'));
          lastError = null;
          this.send(publish({}, u));
        },
        (err: unknown) => {
          if (closed) return;
          const text = messageOf(err);
          // One warning per run of failures (the status shows each), not one every interval.
          if (lastError === null) this.warn(t('errors.fetch', { detail: text }));
          lastError = text;
        },
      );
    };

    if (!positioned) {
      this.status({ fill: 'grey', shape: 'ring', text: t('status.noPosition') });
    } else {
      const p = provider();
      const base = s.baseUrl || DEFAULT_BASE_URLS[p];
      this.status({ fill: 'grey', shape: 'ring', text: t('status.every', { minutes: s.intervalMinutes, provider: p }) });
      this.debug(t('log.source', { provider: p, base: maskKey(base, apiKey()) }));
      first = setTimeout(scheduled, FIRST_FETCH_MS);
      timer = setInterval(scheduled, Math.round(s.intervalMinutes * 60_000));
    }

    this.on('input', (msg, send, done) => {
      fetchOnce().then(
        (u) => {
          lastError = null;
          send(publish(msg, u));
          done();
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    this.on('close', (done: () => void) => {
      closed = true;
      if (first) clearTimeout(first);
      if (timer) clearInterval(timer);
      abort.abort();
      const wait = inFlight;
      if (wait === null) return done();
      wait.then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType<LightingWeatherNode, NodeConfig, Record<string, never>, WeatherCredentials>('lighting-weather', LightingWeather, {
    credentials: { apiKey: { type: 'password' } },
  });
};
