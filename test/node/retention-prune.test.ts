/**
 * retention-prune in the Node-RED runtime with a real SQLite file: a message
 * prunes exactly the expired rows of each table and sends the report; a
 * message while a prune runs is refused; an invalid schedule or time zone is
 * a red status and a logged error, not a crash; the CronJob runs on its
 * schedule and is stopped on close (no timer left behind).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import type { Node } from 'node-red';
import { LightingStore } from '../../lib/store/store';
import { DAY_MS } from '../../lib/store/retention';
import type { PruneRunReport } from '../../lib/store/prune-job';
import { decideSuggestion, saveCandidates } from '../../lib/insights';
import type { Candidate } from '../../lib/learning';
import { query } from '../helpers/sqlite-query';
import {
  TAB,
  callsOf,
  collect,
  count,
  helper,
  initCatalogues,
  lastStatus,
  load,
  message,
  nodeById,
  storeConfig,
  tempDir,
  waitFor,
} from './store-node-helpers';

interface ReportMsg {
  topic?: string;
  payload: PruneRunReport;
}
interface CaughtMsg {
  error: { message: string };
}
interface PruneNode extends Node {
  nextRun(): number | null;
}

/** Margin around each cutoff: rows this far on either side are clearly expired / clearly kept. */
const MARGIN_MS = 60_000;

function flow(file: string, prune: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    storeConfig('s1', file),
    {
      id: 'n1',
      type: 'retention-prune',
      z: 'f1',
      name: '',
      store: 's1',
      schedule: '',
      timezone: '',
      rawDays: '30',
      weatherDays: '30',
      featureDays: '90',
      decisionDays: '180',
      telemetryDays: '180',
      overrideDays: '30',
      batchRows: '2',
      vacuum: false,
      wires: [['h1']],
      ...prune,
    },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['n1'], uncaught: false, wires: [['h2']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
  ];
}

function featureWindow(zone: string, windowStart: number): Parameters<LightingStore['insert']>[1] {
  return {
    zone,
    windowStart,
    windowEnd: windowStart + 300_000,
    count: 1,
    lux: { mean: 1, min: 1, max: 1, std: 0, last: 1 },
    presence: { ratio: null, transitions: 0, last: null, lastTs: null },
    minuteOfDay: 0,
    weekday: 0,
  } as Parameters<LightingStore['insert']>[1];
}

/** Per table one row just past its retention and one just inside; raw events with 7 days. */
async function seed(file: string, now: number): Promise<void> {
  const store = await LightingStore.open({ path: file });
  try {
    for (const side of [-MARGIN_MS, MARGIN_MS]) {
      const at = (days: number): number => now - days * DAY_MS + side;
      const tag = side < 0 ? 'old' : 'new';
      await store.insert('raw_sensor_events', { sensorId: tag, zone: 'z', ts: at(7), lux: 1, source: 't' });
      await store.insert('weather_events', { ts: at(30), temperatureC: 10, source: tag });
      await store.insert('feature_windows', featureWindow(tag, at(90)) as never);
      await store.insert('decisions', { ts: at(180), zone: tag, source: 'rules', intensity: 50, applied: true });
      await store.insert('telemetry', { ts: at(180), kind: tag });
      await store.insert('manual_overrides', { zone: tag, startedAt: at(30) - DAY_MS, clearedAt: at(30), source: 'wall' });
      // Suggestions go with the overrides (30 days): a pending one by its newest evidence, a rejected one by when it was decided.
      const cand = (key: string, evidenceTs: number): Candidate => ({
        zone: key,
        kind: 'hold',
        patternKey: `${key}|hold`,
        summary: key,
        supportDays: 5,
        confidence: 0.7,
        evidence: [{ table: 'manual_overrides', id: 1, ts: evidenceTs, note: 'off' }],
        change: { kind: 'hold', holdMinutes: 3, fromMinutes: 15 },
      });
      await saveCandidates(store, [cand(`pending-${tag}`, at(30))], now);
      const rejected = (await saveCandidates(store, [cand(`rejected-${tag}`, now)], now)).created[0]!;
      await decideSuggestion(store, rejected.id, 'rejected', 'test', at(30));
    }
    // In force however old its evidence: never pruned.
    const accepted = (
      await saveCandidates(
        store,
        [
          {
            zone: 'accepted',
            kind: 'hold',
            patternKey: 'accepted|hold',
            summary: 'accepted',
            supportDays: 5,
            confidence: 0.7,
            evidence: [{ table: 'manual_overrides', id: 1, ts: now - 400 * DAY_MS, note: 'off' }],
            change: { kind: 'hold', holdMinutes: 3, fromMinutes: 15 },
          },
        ],
        now - 400 * DAY_MS,
      )
    ).created[0]!;
    await decideSuggestion(store, accepted.id, 'accepted', 'test', now - 400 * DAY_MS);
    // Still in force although it began long ago: never pruned.
    await store.insert('manual_overrides', { zone: 'active', startedAt: now - 400 * DAY_MS, expiresAt: null, source: 'wall' });
  } finally {
    await store.close();
  }
}

describe('retention-prune node', function () {
  let dir: string;
  let file: string;

  before(async () => {
    await initCatalogues();
  });

  beforeEach(() => {
    dir = tempDir('rp-node-');
    file = path.join(dir, 'prune.db');
  });

  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('on any message deletes exactly the rows past each retention and sends the report', async () => {
    const now = Date.now();
    await seed(file, now);
    await load(flow(file, { rawDays: '7' }));
    const n1 = nodeById('n1');
    const reports = collect<ReportMsg>('h1');
    n1.receive({ topic: 'nightly', payload: 'go' });
    await waitFor('report', () => reports[0]);
    const r = reports[0];
    assert.equal(r.topic, 'nightly', 'the input message carries the report');
    assert.deepEqual(r.payload.deleted, {
      raw_sensor_events: 1,
      weather_events: 1,
      feature_windows: 1,
      decisions: 1,
      telemetry: 1,
      manual_overrides: 1,
      alerts: 0,
      suggestions: 2,
    });
    assert.equal(r.payload.total, 8);
    assert.equal(r.payload.trigger, 'msg');
    assert.equal(r.payload.aborted, false);
    assert.equal(r.payload.vacuumedPages, 0);
    assert.equal(r.payload.cutoffs.raw_sensor_events, Math.floor(r.payload.now - 7 * DAY_MS));
    assert.equal(r.payload.cutoffs.feature_windows, Math.floor(r.payload.now - 90 * DAY_MS));
    assert.ok(r.payload.durationMs >= r.payload.longestBatchMs && r.payload.longestBatchMs > 0);
    assert.equal(lastStatus(n1)?.fill, 'green');
    assert.match(String(lastStatus(n1)?.text), /^8 rows deleted at \d\d:\d\d; /);

    await helper.unload();
    for (const table of ['raw_sensor_events', 'weather_events', 'feature_windows', 'decisions', 'telemetry']) {
      assert.equal(await count(file, table), 1, table);
    }
    assert.equal(await count(file, 'manual_overrides'), 2, 'the recent and the active override');
    assert.deepEqual(
      (await query<{ zone: string; status: string }>(file, 'SELECT zone, status FROM suggestions ORDER BY zone')).map(
        (x) => `${x.zone} ${x.status}`,
      ),
      ['accepted accepted', 'pending-new pending', 'rejected-new rejected'],
    );
  });

  it('refuses a message while a prune is running (done(err), not queued)', async () => {
    const store = await LightingStore.open({ path: file });
    const old = Date.now() - 60 * DAY_MS;
    for (let i = 0; i < 3000; i++) void store.insert('telemetry', { ts: old + i, kind: 'old' });
    for (let i = 0; i < 3000; i++) void store.insert('decisions', { ts: old + i, zone: 'z', source: 'ai', intensity: 1, applied: false });
    await store.close();
    await load(flow(file, { telemetryDays: '30', decisionDays: '30', batchRows: '1' }));
    const n1 = nodeById('n1');
    const reports = collect<ReportMsg>('h1');
    const caught = collect<CaughtMsg>('h2');
    n1.receive({ payload: 1 });
    n1.receive({ payload: 2 });
    await waitFor('one report', () => reports[0], 20_000);
    await waitFor('one refusal', () => caught[0]);
    assert.equal(caught[0].error.message, `PruneBusyError: ${message('retention-prune', 'errors.busy')}`);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].payload.total, 6000);
  });

  for (const [what, settings, pattern] of [
    ['cron expression', { schedule: 'every night' }, /invalid cron expression "every night"/],
    ['time zone', { schedule: '0 0 * * *', timezone: 'Mars/Olympus' }, /unknown time zone "Mars\/Olympus"/],
  ] as const) {
    it(`shows an invalid ${what} as a red status and an error, and still prunes on input`, async () => {
      await load(flow(file, settings));
      const n1 = nodeById<PruneNode>('n1');
      assert.equal(lastStatus(n1)?.fill, 'red');
      assert.match(String(lastStatus(n1)?.text), pattern);
      assert.ok(callsOf(n1, 'error').some((a) => pattern.test(String(a[0]))));
      assert.equal(n1.nextRun(), null);
      const reports = collect<ReportMsg>('h1');
      n1.receive({ payload: '' });
      await waitFor('report', () => reports[0]);
      assert.equal(reports[0].payload.total, 0);
      assert.deepEqual(lastStatus(n1)?.fill, 'red', 'the schedule is still unusable');
      assert.match(String(lastStatus(n1)?.text), new RegExp(`; ${message('retention-prune', 'status.scheduleInvalid')}$`));
    });
  }

  it('runs on its cron schedule and stops the CronJob on close: no timer left', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // Mocha arms this test's timeout timer once the test's first synchronous part has run.
    await new Promise((r) => setImmediate(r));
    const before = timers();
    await load(flow(file, { schedule: '* * * * * *', timezone: 'UTC' }));
    const n1 = nodeById<PruneNode>('n1');
    const next = n1.nextRun();
    assert.ok(next !== null && next > Date.now() - 1000 && next <= Date.now() + 1000, `next run ${String(next)}`);
    const reports = collect<ReportMsg>('h1');
    await waitFor('a scheduled report', () => reports[0], 5000);
    assert.equal(reports[0].topic, 'retention-prune');
    assert.equal(reports[0].payload.trigger, 'schedule');
    await helper.unload();
    assert.equal(n1.nextRun(), null);
    const sent = reports.length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(reports.length, sent, 'no run after close');
    assert.equal(timers(), before, 'no timer left behind');
  });

  it('without a store says "not configured", schedules nothing, and ends messages with an error', async () => {
    await load(flow(file, { store: '', schedule: '* * * * * *' }));
    const n1 = nodeById<PruneNode>('n1');
    assert.deepEqual(lastStatus(n1), { fill: 'grey', shape: 'ring', text: message('retention-prune', 'status.notConfigured') });
    assert.equal(n1.nextRun(), null);
    const caught = collect<CaughtMsg>('h2');
    n1.receive({ payload: '' });
    await waitFor('error', () => caught[0]);
    assert.equal(caught[0].error.message, `Error: ${message('retention-prune', 'errors.noStore')}`);
    assert.equal(fs.existsSync(file), false);
  });
});
