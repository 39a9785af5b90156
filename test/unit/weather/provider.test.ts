/**
 * lib/weather: the providers' answers parsed into the one weather update
 * shape, and the fetcher against a real local HTTP server: a good answer,
 * a slow one (timeout, aborted), HTTP 500, garbage; the key never in an error.
 */
import { strict as assert } from 'node:assert';
import { fetchWeather, maskKey, parseOpenMeteo, parseOpenWeatherMap, weatherUrl, WeatherFetchError } from '../../../lib/weather/provider';
import { validateWeatherUpdate } from '../../../lib/contracts';
import { startFakeWeatherServer, type FakeWeatherServer } from '../../helpers/fake-weather-server';

const NOW = Date.UTC(2026, 11, 7, 10, 0, 0);

function failsWith(kind: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof WeatherFetchError, `a WeatherFetchError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return true;
  };
}

describe('weather providers: parsing', () => {
  it('reads Open-Meteo current conditions into the weather update POST /ingest/weather takes', () => {
    const u = parseOpenMeteo({ current: { time: NOW / 1000 - 60, temperature_2m: 7.3, cloud_cover: 88, shortwave_radiation: 41.5 } }, NOW);
    assert.deepEqual(u, {
      ts: NOW - 60_000,
      zone: null,
      source: 'open-meteo',
      temperatureC: 7.3,
      cloudCoverPct: 88,
      solarRadiationWm2: 41.5,
    });
    assert.deepEqual(validateWeatherUpdate(u), u, 'the same shape the feature window validates');
  });

  it('reads OpenWeatherMap current weather, for a zone, with now when dt is absent', () => {
    const u = parseOpenWeatherMap({ main: { temp: -3.5 }, clouds: { all: 20 } }, NOW, 'office-1');
    assert.deepEqual(u, { ts: NOW, zone: 'office-1', source: 'openweathermap', temperatureC: -3.5, cloudCoverPct: 20 });
  });

  it('refuses answers without a usable value, with the reason', () => {
    assert.throws(() => parseOpenMeteo('<html>', NOW), /not a JSON object/);
    assert.throws(() => parseOpenMeteo({ hourly: {} }, NOW), /no "current" object/);
    assert.throws(() => parseOpenMeteo({ current: { time: NOW / 1000 } }, NOW), /none of temperatureC/);
    assert.throws(() => parseOpenMeteo({ current: { temperature_2m: '7' } }, NOW), /temperature_2m is not a number/);
    assert.throws(() => parseOpenMeteo({ current: { temperature_2m: 500 } }, NOW), failsWith('malformed'));
    assert.throws(() => parseOpenMeteo({ current: { cloud_cover: 140 } }, NOW), /cloudCoverPct/);
    assert.throws(() => parseOpenWeatherMap({ main: 5 }, NOW), /"main" is not an object/);
    assert.throws(() => parseOpenWeatherMap({ cod: 401, message: 'Invalid API key' }, NOW), failsWith('malformed'));
  });

  it('builds each provider URL; OpenWeatherMap needs a key', () => {
    const om = weatherUrl({ provider: 'open-meteo', latitude: 52.52, longitude: 13.405 });
    assert.equal(om.origin, 'https://api.open-meteo.com');
    assert.equal(om.searchParams.get('latitude'), '52.52');
    assert.equal(om.searchParams.get('current'), 'temperature_2m,cloud_cover,shortwave_radiation');
    const owm = weatherUrl({ provider: 'openweathermap', latitude: 1, longitude: 2, apiKey: 'k123', baseUrl: 'http://127.0.0.1:9/proxy' });
    assert.equal(owm.toString(), 'http://127.0.0.1:9/proxy/data/2.5/weather?lat=1&lon=2&units=metric&appid=k123');
    assert.throws(() => weatherUrl({ provider: 'openweathermap', latitude: 1, longitude: 2 }), /needs an API key/);
    assert.throws(() => weatherUrl({ provider: 'open-meteo', latitude: 91, longitude: 2 }), /latitude/);
    assert.throws(() => weatherUrl({ provider: 'open-meteo', latitude: 1, longitude: 2, baseUrl: 'ftp://x' }), /http or https/);
  });

  it('masks the key wherever it appears', () => {
    assert.equal(maskKey('GET /weather?appid=abc123def&lat=1 failed: abc123def', 'abc123def'), 'GET /weather?appid=***&lat=1 failed: ***');
  });
});

describe('weather providers: fetching from a local server', function () {
  this.timeout(10_000);
  let srv: FakeWeatherServer;
  beforeEach(async () => {
    srv = await startFakeWeatherServer();
  });
  afterEach(() => srv.close());

  const req = { provider: 'open-meteo' as const, latitude: 52.5, longitude: 13.4, timeoutMs: 500 };

  it('a good answer gives the update', async () => {
    srv.temperatureC = 9.5;
    const u = await fetchWeather({ ...req, baseUrl: srv.baseUrl, zone: 'meeting-1' });
    assert.equal(u.temperatureC, 9.5);
    assert.equal(u.zone, 'meeting-1');
    assert.equal(srv.requests.length, 1);
    assert.match(srv.requests[0], /^\/v1\/forecast\?latitude=52.5&longitude=13.4&current=/);
  });

  it('a slow answer is a timeout after timeoutMs, and the request is aborted', async () => {
    srv.mode = 'slow';
    await assert.rejects(fetchWeather({ ...req, baseUrl: srv.baseUrl }), (err: unknown) => {
      failsWith('timeout')(err);
      assert.match((err as Error).message, /within 500 ms/);
      return true;
    });
  });

  it('HTTP 500 and garbage are errors of their kind; the key is never in them', async () => {
    const key = 'secret-weather-key-42';
    srv.mode = 'error';
    await assert.rejects(fetchWeather({ ...req, provider: 'openweathermap', apiKey: key, baseUrl: srv.baseUrl }), (err: unknown) => {
      failsWith('http')(err);
      assert.match((err as Error).message, /HTTP 500/);
      assert.ok(!(err as Error).message.includes(key));
      return true;
    });
    assert.ok(srv.requests[0].includes(`appid=${key}`), 'the key went to the server');
    srv.mode = 'garbage';
    await assert.rejects(fetchWeather({ ...req, baseUrl: srv.baseUrl }), failsWith('malformed'));
  });

  it('no server is a network error naming the host, not the key', async () => {
    const port = new URL(srv.baseUrl).port;
    await srv.close();
    const key = 'secret-weather-key-43';
    await assert.rejects(
      fetchWeather({ ...req, provider: 'openweathermap', apiKey: key, baseUrl: `http://127.0.0.1:${port}` }),
      (err: unknown) => {
        failsWith('network')(err);
        assert.match((err as Error).message, /cannot reach 127\.0\.0\.1/);
        assert.ok(!(err as Error).message.includes(key));
        return true;
      },
    );
    srv = await startFakeWeatherServer();
  });
});
