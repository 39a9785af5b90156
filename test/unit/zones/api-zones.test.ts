import { strict as assert } from 'node:assert';
import { ApiGuard, type ApiRequestLike } from '../../../lib/http/api-request';
import { ZoneMap, ZoneMapError } from '../../../lib/zones/zone-map';

const MAP = ZoneMap.parse([
  { zone: 'office-1', gear: 'G0', sensors: '10' },
  { zone: 'meeting-1', gear: 'G1', sensors: '11, meeting-pir' },
]);

function post(path: string): ApiRequestLike {
  return { method: 'POST', path, headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as ApiRequestLike;
}

function get(path: string, query: Record<string, string>): ApiRequestLike {
  return { method: 'GET', path, headers: {}, query, socket: { remoteAddress: '127.0.0.1' } } as unknown as ApiRequestLike;
}

describe('http/api-request: the zone map at the front door', () => {
  it('answers 404 {detail} for a reading or a control request naming a zone outside the map', () => {
    const ingest = new ApiGuard({ operation: 'ingest-sensor', zones: () => MAP });
    const r = ingest.check({
      req: post('/ingest/sensor'),
      payload: { sensor_id: 'intruder', zone: 'not-office', lux: 0, presence: true },
    }).result;
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.status, 404);
    assert.equal(r.body.detail, 'unknown zone "not-office": not in the zone map');
    assert.ok(!r.body.detail.includes('office-1'), "the answer does not list the building's zones");

    const control = new ApiGuard({ operation: 'control', zones: () => MAP });
    const c = control.check({ req: post('/control'), payload: { intensity: 40, cct: 5000, zone: 'meeting-2' } }).result;
    assert.equal(c.ok ? 200 : c.status, 404);
  });

  it('accepts a known zone; a zone listing sensor ids refuses other ids (404)', () => {
    const ingest = new ApiGuard({ operation: 'ingest-sensor', zones: () => MAP });
    assert.equal(
      ingest.check({ req: post('/ingest/sensor'), payload: { sensor_id: 'anything', zone: 'office-1', lux: 10 } }).result.ok,
      true,
    );
    assert.equal(
      ingest.check({ req: post('/ingest/sensor'), payload: { sensor_id: 'meeting-pir', zone: 'meeting-1', presence: true } }).result.ok,
      true,
    );
    const r = ingest.check({ req: post('/ingest/sensor'), payload: { sensor_id: 'intruder', zone: 'meeting-1', presence: true } }).result;
    assert.equal(r.ok ? 201 : r.status, 404);
    if (!r.ok) assert.match(r.body.detail, /unknown sensor "intruder" for zone "meeting-1"/);
  });

  it('checks the default zone too, and the zone filter of queries', () => {
    const ingest = new ApiGuard({ operation: 'ingest-sensor', zones: () => MAP, defaultZone: 'office-9' });
    const r = ingest.check({ req: post('/ingest/sensor'), payload: { sensor_id: 's', lux: 1 } }).result;
    assert.equal(r.ok ? 201 : r.status, 404);
    const telemetry = new ApiGuard({ operation: 'telemetry', zones: () => MAP });
    assert.equal(telemetry.check({ req: get('/telemetry', { zone: 'office-1' }), payload: {} }).result.ok, true);
    const t = telemetry.check({ req: get('/telemetry', { zone: 'elsewhere' }), payload: {} }).result;
    assert.equal(t.ok ? 200 : t.status, 404);
    assert.equal(telemetry.check({ req: get('/telemetry', {}), payload: {} }).result.ok, true, 'no zone filter: every zone');
  });

  it('a zone map that cannot be used refuses every zone with 503 and Retry-After (fail closed)', () => {
    const broken = new ApiGuard({
      operation: 'control',
      zones: () => {
        throw new ZoneMapError('zone "a": gear is empty');
      },
    });
    const r = broken.check({ req: post('/control'), payload: { intensity: 40, cct: 4000, zone: 'office-1' } }).result;
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.status, 503);
    assert.equal(r.headers['Retry-After'], '30');
    assert.match(r.body.detail, /zone map unavailable: zone "a": gear is empty/);
  });

  it('without a zone map any zone goes on (single-zone flows)', () => {
    const control = new ApiGuard({ operation: 'control' });
    assert.equal(control.check({ req: post('/control'), payload: { intensity: 40, cct: 4000, zone: 'anything' } }).result.ok, true);
  });
});
