/** ?gateway= on GET /telemetry, /alerts and /telemetry/energy: validated, passed to the store's page queries. */
import assert from 'node:assert/strict';
import { validateApiInput } from '../../../lib/http/api-request';
import { readEnergyRequest, readPageRequest } from '../../../lib/http/query-api';
import { validateTelemetryQuery } from '../../../lib/http/schemas';

describe('lib/http gateway filter', () => {
  it('telemetry and alerts queries take gateway; an empty or over-long one is a 400', () => {
    const t = validateTelemetryQuery({ gateway: 'bus-2', zone: 'office-1' });
    assert.ok(t.ok);
    assert.equal(t.value.gateway, 'bus-2');
    assert.equal(validateTelemetryQuery({ gateway: '' }).ok, false);
    assert.equal(validateTelemetryQuery({ gateway: 'x'.repeat(500) }).ok, false);
    const a = validateApiInput('alerts', { payload: undefined, query: { gateway: 'bus-1', status: 'all' } });
    assert.ok(a.ok);
    assert.equal((a.payload as { gateway?: string }).gateway, 'bus-1');
    const e = validateApiInput('energy', { payload: undefined, query: { gateway: 'bus-1' } });
    assert.ok(e.ok);
    assert.deepEqual(e.payload, { gateway: 'bus-1' });
  });

  it('the query node reads gateway for pages and energy', () => {
    const p = readPageRequest('q', { gateway: 'bus-1', limit: 5 });
    assert.ok(p.ok);
    assert.equal(p.value.gateway, 'bus-1');
    const e = readEnergyRequest({ gateway: 'bus-2', day: '2026-01-01' }, Date.UTC(2026, 0, 2));
    assert.ok(e.ok);
    assert.equal(e.value.gateway, 'bus-2');
    assert.equal(readPageRequest('q', { gateway: 42 }).ok, false);
  });
});
