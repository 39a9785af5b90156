/**
 * Daily and weekly reports per zone (lib/http/query-report) from a real store
 * on both engines (SQLite file, PostgreSQL server), and their HTML page
 * (lib/http/report-page): energy against the baseline with the level carried
 * in from before the period, lux while occupied weighted by presence,
 * decisions by source, blocked changes, overrides, AI fallbacks, alerts;
 * windows of another zone or outside the period are not counted; the page
 * draws one bar per non-zero value and escapes what it prints.
 */
import assert from 'node:assert/strict';
import { buildReport, reportBuckets, type ReportZone } from '../../../lib/http/query-report';
import { renderReportHtml } from '../../../lib/http/report-page';
import { localDayBounds } from '../../../lib/http/query-energy';
import { LightingStore, type DecisionRow, type TelemetryRow } from '../../../lib/store';
import { aiTelemetryRow } from '../../../lib/http/query-ai-telemetry';
import type { FeatureWindow } from '../../../lib/contracts';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

const H = 3_600_000;
const DAY = '2026-06-10';

function win(zone: string, windowStart: number, luxMean: number | null, ratio: number | null): FeatureWindow {
  return {
    zone,
    windowStart,
    windowEnd: windowStart + 300_000,
    count: 5,
    lux: { mean: luxMean, min: luxMean, max: luxMean, std: 0, last: luxMean },
    presence: { ratio, transitions: 0, last: ratio !== null && ratio > 0, lastTs: windowStart },
    minuteOfDay: 600,
    weekday: 3,
  };
}

const OFFICE: ReportZone = { zone: 'office-1', label: 'Open <office>', targetLux: 500, fixtureWatts: 100 };

describe('lib/http/query-report: the buckets of a period', () => {
  it('a day is its local hours, a week the 7 days ending with the day; a bad day is refused', () => {
    const day = reportBuckets('day', DAY);
    assert.equal(day.length, 24);
    assert.equal(day[9]?.label, '09');
    assert.equal(day[0]?.from, localDayBounds(DAY)?.from);
    const week = reportBuckets('week', DAY);
    assert.deepEqual(
      week.map((b) => b.label),
      ['2026-06-04', '2026-06-05', '2026-06-06', '2026-06-07', '2026-06-08', '2026-06-09', '2026-06-10'],
    );
    assert.throws(() => reportBuckets('day', '2026-02-30'), RangeError);
  });
});

for (const engine of STORE_ENGINES)
  describe(`lib/http/query-report from the store [${engine}]`, function () {
    this.timeout(30000);
    const target = storeTargets(engine, this);
    let store: LightingStore;
    const from = (localDayBounds(DAY) as { from: number }).from;

    beforeEach(async () => {
      const where = target.next();
      store = await LightingStore.open({ path: where });
      // Another gateway's rows in the same site database, same zone name: none may enter this gateway's report.
      const other = await LightingStore.open({ path: where, gateway: 'site-b' });
      const row = { zone: 'office-1', source: 'rules', cct: 4000, applied: true } as const;
      await other.insert('decisions', { ...row, ts: from - H, intensity: 90 });
      await other.insert('decisions', { ...row, ts: from + 10 * H + 1_800_000, intensity: 100 });
      await other.raiseAlert({ ts: from + 11 * H, zone: 'office-1', kind: 'sensorStale', message: 'a sensor of site b' });
      await other.close();
      const d = (ts: number, over: Partial<DecisionRow>): Promise<unknown> =>
        store.insert('decisions', { ts, zone: 'office-1', source: 'rules', intensity: 50, cct: 4000, applied: true, ...over });
      await d(from - 2 * H, { intensity: 20 }); // the evening before: holds until 08:00
      await d(from + 8 * H, { intensity: 80, source: 'ai' });
      await d(from + 9 * H, { intensity: 60 });
      await d(from + 9 * H + 60_000, { intensity: 100, applied: false, blockedBy: 'override' });
      await d(from + 10 * H, { intensity: 40, source: 'manual' });
      await d(from + 10 * H, { intensity: 100, zone: 'meeting-1' }); // another zone
      // 09:00-09:10: two windows, fully and half occupied; 09:10 empty; another zone; the day before.
      await store.insert('feature_windows', win('office-1', from + 9 * H, 400, 1));
      await store.insert('feature_windows', win('office-1', from + 9 * H + 300_000, 700, 0.5));
      await store.insert('feature_windows', win('office-1', from + 9 * H + 600_000, 50, 0));
      await store.insert('feature_windows', win('meeting-1', from + 9 * H, 10, 1));
      await store.insert('feature_windows', win('office-1', from - H, 999, 1));
      // What lighting-alerts stores for each ai-decide call (aiTelemetryRow), and a row of another kind.
      const call = (ts: number, over: Record<string, unknown>): TelemetryRow =>
        aiTelemetryRow({
          kind: 'ai-call',
          ts,
          zone: 'office-1',
          model: 'gpt-4o-mini',
          latencyMs: 900,
          outcome: 'ai',
          ...over,
        }) as TelemetryRow;
      await store.insert('telemetry', call(from + 8 * H, {}));
      await store.insert('telemetry', call(from + 9 * H, { outcome: 'fallback', fallbackReason: 'timeout' }));
      await store.insert('telemetry', { ts: from + 9 * H, zone: 'office-1', kind: 'dali-error' });
      await store.raiseAlert({ ts: from + 11 * H, zone: 'office-1', kind: 'sensorStale', message: 'sensor 10 is stale' });
    });
    afterEach(() => store.close());

    it('a day: energy from the carried-in level, lux while occupied, decisions, blocked, overrides, fallbacks, alerts', async () => {
      const r = await buildReport(store, { period: 'day', day: DAY, zones: [OFFICE] }, from + 12 * H);
      const [z] = r.zones;
      assert.ok(z);
      assert.equal(z.assumedInitial, false);
      const h = (i: number): (typeof z.buckets)[number] => z.buckets[i] as (typeof z.buckets)[number];
      assert.equal(h(3).energyWh, 20, '20 % of 100 W for an hour, carried in from the day before');
      assert.equal(h(8).energyWh, 80);
      assert.equal(h(9).energyWh, 60, 'the blocked 100 % is not energy');
      assert.equal(h(11).energyWh, 40);
      assert.equal(h(11).baselineWh, 100);
      assert.equal(h(12).to, h(12).from, 'the future is empty');
      assert.equal(h(13).energyWh, null, 'no energy in the future');
      assert.equal(z.totals.energyWh, 8 * 20 + 80 + 60 + 2 * 40);
      assert.equal(z.totals.baselineWh, 1200);
      // Occupied 5 + 2.5 minutes; lux (400*5 + 700*2.5) / 7.5 = 500.
      assert.equal(h(9).occupiedMinutes, 7.5);
      assert.equal(h(9).luxWhileOccupied, 500);
      assert.equal(h(8).luxWhileOccupied, null);
      assert.deepEqual(z.totals.decisions, { ai: 1, rules: 2, manual: 1, schedule: 0 });
      assert.equal(z.totals.blocked, 1);
      assert.equal(z.totals.overrides, 1);
      assert.equal(z.totals.aiCalls, 2);
      assert.equal(z.totals.fallbacks, 1);
      assert.equal(h(11).alerts, 1);
    });

    it('a week: seven days, the day of the data holds it; the page draws those bars and escapes the label', async () => {
      const r = await buildReport(
        store,
        { period: 'week', day: DAY, zones: [OFFICE, { zone: 'corridor-1', targetLux: null, fixtureWatts: null }] },
        from + 12 * H,
      );
      const [office, corridor] = r.zones;
      assert.equal(office?.buckets.length, 7);
      const today = office?.buckets[6];
      assert.equal(today?.decisions.ai, 1);
      assert.equal(today?.luxWhileOccupied, 500);
      assert.equal(
        office?.buckets[5]?.energyWh,
        24 * 20,
        'the day before: its 22:00 decision is the first of the week, back-filled to the week start',
      );
      assert.equal(office?.assumedInitial, true);
      assert.equal(corridor?.totals.energyWh, null, 'no wattage: no Wh');
      const html = renderReportHtml(r);
      assert.ok(html.includes('Open &lt;office&gt;') && !html.includes('Open <office>'));
      const bars = (chart: string): number => Number(new RegExp(`data-chart="${chart}"[^>]*data-bars="(\\d+)"`).exec(html)?.[1] ?? -1);
      assert.equal((html.match(/data-chart=/g) ?? []).length, 8, 'four charts per zone');
      assert.ok(bars('Energy used vs 100 % baseline') >= 2);
      assert.equal(bars('Lux while occupied vs target'), 2, 'today, and the window of 23:00 the day before');
    });
  });
