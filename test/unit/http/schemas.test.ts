import assert from 'node:assert/strict';
import {
  validateControl,
  validateIngestSensor,
  validateIngestWeather,
  validateTelemetryQuery,
  type Validated,
} from '../../../lib/http/schemas';
import { mulberry32, pick, randInt } from '../../helpers/prng';

const NOW = Date.UTC(2024, 2, 9, 12); // after the fixed times below (readings may not be ahead of the clock)
const now = (): number => NOW;

function expectBad<T>(r: Validated<T>, field: string, label: string): void {
  assert.equal(r.ok, false, `${label}: expected a 400`);
  if (!r.ok) {
    assert.equal(r.status, 400, label);
    assert.equal(r.field, field, `${label}: ${r.message}`);
    assert.ok(r.message.includes(field), `${label}: message names ${field}: ${r.message}`);
  }
}

describe('lib/http request schemas', function () {
  describe('POST /ingest/sensor', function () {
    it('maps the reference snake_case body to the sensor reading contract', () => {
      const r = validateIngestSensor(
        { sensor_id: 'lspd-1', zone: 'office', ts: '2024-03-01T12:00:00Z', lux: 312.5, presence: true },
        { now },
      );
      assert.deepEqual(r, {
        ok: true,
        value: { sensorId: 'lspd-1', zone: 'office', ts: Date.UTC(2024, 2, 1, 12), lux: 312.5, presence: true, source: 'http' },
      });
    });

    it('accepts camelCase, epoch ms, presence as 0/1, a naive ISO time as UTC, and defaults ts to now', () => {
      const a = validateIngestSensor({ sensorId: 's', zone: 'z', ts: NOW - 1234, presence: 1 }, { now });
      assert.deepEqual(a.ok && a.value, { sensorId: 's', zone: 'z', ts: NOW - 1234, presence: true, source: 'http' });
      const b = validateIngestSensor({ sensor_id: 's', zone: 'z', timestamp: '2024-03-01T12:00:00.5', lux: 0 }, { now });
      assert.equal(b.ok && b.value.ts, Date.UTC(2024, 2, 1, 12, 0, 0, 500));
      const c = validateIngestSensor({ sensor_id: 's', zone: 'z', lux: 5, extra: 'ignored' }, { now });
      assert.equal(c.ok && c.value.ts, NOW);
      const d = validateIngestSensor({ sensor_id: 's', lux: 5 }, { now, defaultZone: 'lobby' });
      assert.equal(d.ok && d.value.zone, 'lobby');
    });

    it('each bad class gives 400 naming the field', () => {
      const base = { sensor_id: 's', zone: 'z', lux: 10 };
      expectBad(validateIngestSensor([base]), 'body', 'array body');
      expectBad(validateIngestSensor('x'), 'body', 'string body');
      expectBad(validateIngestSensor({ zone: 'z', lux: 1 }), 'sensor_id', 'missing sensor_id');
      expectBad(validateIngestSensor({ ...base, sensor_id: '' }), 'sensor_id', 'empty sensor_id');
      expectBad(validateIngestSensor({ ...base, sensor_id: 7 }), 'sensor_id', 'numeric sensor_id');
      expectBad(validateIngestSensor({ ...base, sensorId: 'other' }), 'sensorId', 'conflicting spellings');
      expectBad(validateIngestSensor({ sensor_id: 's', lux: 1 }), 'zone', 'missing zone');
      expectBad(validateIngestSensor({ ...base, lux: -1 }), 'lux', 'negative lux');
      expectBad(validateIngestSensor({ ...base, lux: '300' }), 'lux', 'lux as text');
      expectBad(validateIngestSensor({ ...base, lux: NaN }), 'lux', 'NaN lux');
      expectBad(validateIngestSensor({ ...base, presence: 'yes' }), 'presence', 'presence as text');
      expectBad(validateIngestSensor({ ...base, presence: 2 }), 'presence', 'presence 2');
      expectBad(validateIngestSensor({ sensor_id: 's', zone: 'z' }), 'lux', 'neither lux nor presence');
      expectBad(validateIngestSensor({ ...base, ts: 'yesterday' }), 'ts', 'unparseable ts');
      expectBad(validateIngestSensor({ ...base, ts: 1.7e15 }), 'ts', 'ts in microseconds');
      expectBad(validateIngestSensor({ ...base, timestamp: -5 }), 'timestamp', 'negative timestamp');
    });

    it('refuses times out of range with 400 and a hint: seconds for milliseconds, more than 60 s ahead of the server clock', () => {
      const base = { sensor_id: 's', zone: 'z', lux: 10 };
      const secs = validateIngestSensor({ ...base, ts: Math.floor(NOW / 1000) }, { now });
      assert.equal(secs.ok, false);
      assert.match(!secs.ok ? secs.message : '', /looks like seconds since 1970; send epoch milliseconds \(ts \* 1000/);
      const ahead = validateIngestSensor({ ...base, ts: NOW + 86_400_000 }, { now });
      assert.equal(!ahead.ok && ahead.status, 400);
      assert.match(!ahead.ok ? ahead.message : '', /ts is 24 h ahead of the server clock \(at most 60 s allowed\)/);
      assert.equal(validateIngestSensor({ ...base, ts: NOW + 59_000 }, { now }).ok, true, 'small clock skew is fine');
      assert.equal(validateIngestSensor({ ...base, ts: '1999-12-31T23:59:59Z' }, { now }).ok, false);
      const w = validateIngestWeather({ timestamp: Math.floor(NOW / 1000), outdoor_lux: 5 }, { now });
      assert.match(!w.ok ? w.message : '', /timestamp \d+ looks like seconds/);
    });

    it('never throws on random junk', () => {
      const rng = mulberry32(99);
      const values: unknown[] = [null, undefined, 0, -1, 1e300, NaN, '', 'x', true, [], {}, [1], { a: 1 }, '2024-13-45T99:99:99'];
      const keys = ['sensor_id', 'sensorId', 'zone', 'ts', 'timestamp', 'lux', 'presence', 'source'];
      for (let i = 0; i < 500; i++) {
        const body: Record<string, unknown> = {};
        for (let k = randInt(rng, 0, 6); k > 0; k--) body[pick(rng, keys)] = pick(rng, values);
        const r = validateIngestSensor(body, { now });
        if (!r.ok) assert.equal(r.status, 400);
        else assert.ok(Number.isFinite(r.value.ts) && r.value.sensorId !== '');
      }
    });
  });

  describe('POST /ingest/weather', function () {
    it('maps snake_case and aliases to the weather update', () => {
      const r = validateIngestWeather(
        { ts: NOW - 5000, temperature_c: 21.5, cloud_cover: 40, solar_radiation_wm2: 300, outdoor_lux: 20000 },
        { now },
      );
      assert.deepEqual(r.ok && r.value, {
        ts: NOW - 5000,
        zone: null,
        source: 'http',
        temperatureC: 21.5,
        cloudCoverPct: 40,
        solarRadiationWm2: 300,
        outdoorLux: 20000,
      });
      const z = validateIngestWeather({ zone: 'roof', cloudCoverPct: 10 }, { now });
      assert.deepEqual(z.ok && [z.value.zone, z.value.ts], ['roof', NOW]);
    });

    it('each bad class gives 400 naming the field', () => {
      expectBad(validateIngestWeather(null), 'body', 'null body');
      expectBad(validateIngestWeather({ ts: Date.now() - 1000 }), 'temperature_c', 'no measurement');
      expectBad(validateIngestWeather({ temperature_c: 150 }), 'temperature_c', 'too hot');
      expectBad(validateIngestWeather({ cloud_cover: 101 }), 'cloud_cover', 'cloud cover > 100');
      expectBad(validateIngestWeather({ cloud_cover_pct: 10, cloudCoverPct: 20 }), 'cloudCoverPct', 'conflicting spellings');
      expectBad(validateIngestWeather({ solar_radiation_wm2: '300' }), 'solar_radiation_wm2', 'text radiation');
      expectBad(validateIngestWeather({ temperature_c: 1, zone: '' }), 'zone', 'empty zone');
      expectBad(validateIngestWeather({ temperature_c: 1, ts: 'soon' }), 'ts', 'bad ts');
    });
  });

  describe('POST /control', function () {
    it('the reference example becomes a manual setpoint with a 30 minute override', () => {
      const r = validateControl({ intensity: 55, cct: 4000, reason: 'manual tweak', manual_override: true, override_minutes: 30 });
      assert.deepEqual(r.ok && r.value, {
        setpoint: { zone: 'default', intensity: 55, cct: 4000, reason: 'manual tweak', source: 'manual', overrideMinutes: 30 },
        manualOverride: true,
        overrideMinutes: 30,
      });
    });

    it('defaults: no override, reason "manual", configured zone and override length', () => {
      const r = validateControl({ intensity: 0, cct: 1800 }, { defaultZone: 'hall', defaultOverrideMinutes: 45 });
      assert.deepEqual(r.ok && r.value, {
        setpoint: { zone: 'hall', intensity: 0, cct: 1800, reason: 'manual', source: 'manual' },
        manualOverride: false,
        overrideMinutes: 45,
      });
      const c = validateControl({ intensity: 100, cct: 6500, manualOverride: true, overrideMinutes: 1440, zone: 'z', fade_ms: 700 });
      assert.deepEqual(c.ok && [c.value.setpoint.overrideMinutes, c.value.setpoint.fadeMs, c.value.setpoint.zone], [1440, 700, 'z']);
    });

    it('each bad class gives 400 naming the field', () => {
      const ok = { intensity: 50, cct: 4000 };
      expectBad(validateControl([]), 'body', 'array');
      expectBad(validateControl({ cct: 4000 }), 'intensity', 'missing intensity');
      expectBad(validateControl({ intensity: 50 }), 'cct', 'missing cct');
      expectBad(validateControl({ ...ok, intensity: 101 }), 'intensity', 'intensity > 100');
      expectBad(validateControl({ ...ok, intensity: -0.1 }), 'intensity', 'negative intensity');
      expectBad(validateControl({ ...ok, intensity: '50' }), 'intensity', 'text intensity');
      expectBad(validateControl({ ...ok, cct: 1700 }), 'cct', 'cct too warm');
      expectBad(validateControl({ ...ok, cct: 6600 }), 'cct', 'cct too cold');
      expectBad(validateControl({ ...ok, manual_override: 'true' }), 'manual_override', 'text bool');
      expectBad(validateControl({ ...ok, override_minutes: 0 }), 'override_minutes', 'zero minutes');
      expectBad(validateControl({ ...ok, override_minutes: 1441 }), 'override_minutes', 'over a day');
      expectBad(validateControl({ ...ok, override_minutes: 2.5 }), 'override_minutes', 'fractional minutes');
      expectBad(validateControl({ ...ok, reason: 'x'.repeat(501) }), 'reason', 'reason too long');
      expectBad(validateControl({ ...ok, zone: '' }), 'zone', 'empty zone');
      expectBad(validateControl({ ...ok, manual_override: true, manualOverride: false }), 'manualOverride', 'conflict');
    });
  });

  describe('GET /telemetry query', function () {
    it('defaults, limit/offset and page/limit (query strings are coerced)', () => {
      assert.deepEqual(validateTelemetryQuery({}), { ok: true, value: { limit: 50, offset: 0 } });
      assert.deepEqual(validateTelemetryQuery(undefined), { ok: true, value: { limit: 50, offset: 0 } });
      assert.deepEqual(validateTelemetryQuery({ limit: '20', offset: '40' }), { ok: true, value: { limit: 20, offset: 40 } });
      assert.deepEqual(validateTelemetryQuery({ page: '3', page_size: '10' }), { ok: true, value: { limit: 10, offset: 20, page: 3 } });
      const f = validateTelemetryQuery({ zone: 'office', since: '2024-01-01T00:00:00Z', until: '1704153600000', source: 'ai' });
      assert.deepEqual(f.ok && f.value, { limit: 50, offset: 0, zone: 'office', since: 1704067200000, until: 1704153600000, source: 'ai' });
      const q = { limit: '5' };
      validateTelemetryQuery(q);
      assert.deepEqual(q, { limit: '5' }, 'the caller’s query object is not modified');
    });

    it('each bad class gives 400 naming the field', () => {
      expectBad(validateTelemetryQuery({ limit: '0' }), 'limit', 'limit 0');
      expectBad(validateTelemetryQuery({ limit: '1001' }), 'limit', 'limit too large');
      expectBad(validateTelemetryQuery({ limit: 'ten' }), 'limit', 'limit text');
      expectBad(validateTelemetryQuery({ limit: ['1', '2'] }), 'limit', 'repeated limit');
      expectBad(validateTelemetryQuery({ offset: '-1' }), 'offset', 'negative offset');
      expectBad(validateTelemetryQuery({ page: '0' }), 'page', 'page 0');
      expectBad(validateTelemetryQuery({ page: '2', offset: '10' }), 'page', 'page with offset');
      expectBad(validateTelemetryQuery({ cursor: 'abc' }), 'cursor', 'bad cursor');
      expectBad(validateTelemetryQuery({ cursor: '10.2', page: '2' }), 'cursor', 'cursor with page');
      expectBad(validateTelemetryQuery({ since: 'last week' }), 'since', 'bad since');
      expectBad(validateTelemetryQuery({ since: '2000', until: '1000' }), 'until', 'until before since');
      expectBad(validateTelemetryQuery({ source: 'robot' }), 'source', 'unknown source');
    });
  });
});
