/**
 * A local HTTP server that plays the weather services (Open-Meteo's
 * /v1/forecast and OpenWeatherMap's /data/2.5/weather) for the weather
 * tests, over a real socket. `mode` says how it answers the next requests:
 * `good` (a current reading), `slow` (holds the answer for `slowMs`),
 * `error` (HTTP 500), `garbage` (not JSON), `nonsense` (JSON with an
 * impossible temperature). Every request's URL is recorded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type WeatherServerMode = 'good' | 'slow' | 'error' | 'garbage' | 'nonsense';

export interface FakeWeatherServer {
  baseUrl: string;
  mode: WeatherServerMode;
  /** Temperature of the next good answers, °C. */
  temperatureC: number;
  slowMs: number;
  /** Observation time of good answers, epoch s (default: now). */
  timeS: number | null;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startFakeWeatherServer(host = '127.0.0.1'): Promise<FakeWeatherServer> {
  const pending = new Set<NodeJS.Timeout>();
  const holder: { server?: Server } = {};
  const state: FakeWeatherServer = {
    baseUrl: '',
    mode: 'good',
    temperatureC: 12.5,
    slowMs: 5000,
    timeS: null,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of pending) clearTimeout(t);
        holder.server?.closeAllConnections();
        if (holder.server) holder.server.close(() => resolve());
        else resolve();
      }),
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.requests.push(url.pathname + url.search);
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const time = state.timeS ?? Math.floor(Date.now() / 1000);
    const good = (temperature: number): string =>
      url.pathname === '/data/2.5/weather'
        ? JSON.stringify({ dt: time, main: { temp: temperature, humidity: 60 }, clouds: { all: 40 }, name: 'Test' })
        : JSON.stringify({
            latitude: 52.5,
            longitude: 13.4,
            current_units: { time: 'unixtime', temperature_2m: '°C', cloud_cover: '%', shortwave_radiation: 'W/m²' },
            current: { time, interval: 900, temperature_2m: temperature, cloud_cover: 40, shortwave_radiation: 310.5 },
          });
    if (url.pathname !== '/v1/forecast' && url.pathname !== '/data/2.5/weather') return send(404, '{"error":true}');
    switch (state.mode) {
      case 'good':
        return send(200, good(state.temperatureC));
      case 'slow': {
        const t = setTimeout(() => {
          pending.delete(t);
          if (!res.destroyed) send(200, good(state.temperatureC));
        }, state.slowMs);
        pending.add(t);
        return;
      }
      case 'error':
        return send(500, '{"error":true,"reason":"internal"}');
      case 'garbage':
        return send(200, '<html>Bad gateway</html>', 'text/html');
      case 'nonsense':
        return send(200, good(500));
    }
  });
  holder.server = server;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
  return state;
}
