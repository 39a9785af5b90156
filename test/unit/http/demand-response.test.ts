/**
 * Demand response over HTTP and in the store: POST /admin/demand-response
 * validated as the deciders read it (400 otherwise, admin only), its
 * telemetry row, and the energy answer's summary of the stored events.
 */
import { strict as assert } from 'node:assert';
import { ADMIN_OPERATIONS, validateApiInput } from '../../../lib/http/api-request';
import { demandResponseRow, demandResponseSummary, DEMAND_RESPONSE_KIND } from '../../../lib/http/query-demand-response';
import type { TelemetryRecord } from '../../../lib/store/rows';

const NOW = Date.UTC(2026, 6, 1, 16, 0, 0);
const MIN = 60_000;

describe('demand response over HTTP', () => {
  it('is an admin operation; a good body goes on with topic demand-response and until in epoch ms', () => {
    assert.ok(ADMIN_OPERATIONS.includes('demand-response'));
    const r = validateApiInput('demand-response', { payload: { level: 'shed', until: '2026-07-01T18:00:00Z' } }, { now: () => NOW });
    assert.deepEqual(r, {
      ok: true,
      payload: { level: 'shed', until: Date.UTC(2026, 6, 1, 18), source: 'http' },
      topic: 'demand-response',
    });
    const m = validateApiInput('demand-response', { payload: { level: 25, minutes: 30 } }, { now: () => NOW });
    assert.ok(m.ok && (m.payload as { until: number }).until === NOW + 30 * MIN);
    const end = validateApiInput('demand-response', { payload: { level: 0 } }, { now: () => NOW });
    assert.deepEqual(end, { ok: true, payload: { level: 0, source: 'http' }, topic: 'demand-response' });
    const empty = validateApiInput('demand-response', { payload: {} }, { now: () => NOW });
    assert.ok(empty.ok && (empty.payload as { until: number }).until === NOW + 60 * MIN, 'an hour of the default share');
  });

  it('answers 400 with the reason for a level, until or minutes it cannot use', () => {
    for (const payload of [
      { level: 101 },
      { level: 'loud' },
      { until: 'soon' },
      { until: '2026-07-01T15:00:00Z' },
      { minutes: -5 },
      [1, 2],
    ]) {
      const r = validateApiInput('demand-response', { payload }, { now: () => NOW });
      assert.equal(r.ok, false, JSON.stringify(payload));
      if (!r.ok) {
        assert.equal(r.status, 400);
        assert.match(r.body.detail, /^invalid demand response: /);
      }
    }
  });
});

describe('demand response in the store', () => {
  it('a start and an end are telemetry rows of kind demand_response', () => {
    assert.deepEqual(demandResponseRow({ level: 'shed', until: NOW + 30 * MIN, source: 'http' }, NOW), {
      ts: NOW,
      zone: null,
      kind: DEMAND_RESPONSE_KIND,
      data: { action: 'start', level: 'shed', reductionPct: null, until: NOW + 30 * MIN, source: 'http' },
    });
    assert.equal((demandResponseRow({ level: 40, minutes: 10 }, NOW).data as { reductionPct: number }).reductionPct, 40);
    assert.deepEqual(demandResponseRow({ level: 0, source: 'mqtt' }, NOW).data, { action: 'end', source: 'mqtt' });
    assert.throws(() => demandResponseRow({ level: 300 }, NOW), /level/);
  });

  it('the summary of a day: events overlapping it and their minutes, an early end counted', async () => {
    let id = 0;
    const rec = (ts: number, data: unknown): TelemetryRecord =>
      ({ id: ++id, ts, zone: null, kind: DEMAND_RESPONSE_KIND, data }) as unknown as TelemetryRecord;
    const rows = [
      rec(NOW - 30 * MIN, { action: 'start', level: 'shed', until: NOW + 30 * MIN, source: 'http' }),
      rec(NOW + 60 * MIN, { action: 'start', level: 30, until: NOW + 180 * MIN, source: 'mqtt' }),
      rec(NOW + 90 * MIN, { action: 'end', source: 'http' }),
    ];
    const asked: unknown[] = [];
    const store = {
      telemetry: (q: unknown) => {
        asked.push(q);
        return Promise.resolve({ items: [...rows].reverse(), total: rows.length, limit: 1000, offset: 0, nextCursor: null });
      },
    };
    const s = await demandResponseSummary(store, NOW, NOW + 24 * 60 * MIN, 'bus-1');
    assert.equal(s.shedMinutes, 30 + 30);
    assert.deepEqual(
      s.events.map((e) => [e.level, e.endedAt]),
      [
        ['shed', null],
        [30, NOW + 90 * MIN],
      ],
    );
    assert.equal((asked[0] as { kind: string; gateway: string }).kind, 'demand_response');
    assert.equal((asked[0] as { gateway: string }).gateway, 'bus-1');
  });
});
