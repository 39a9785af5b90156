/**
 * lighting-insights in the Node-RED runtime with a real SQLite file: seeded
 * override history is mined into a pending suggestion (status "1 pending"),
 * listed, accepted (the rules leave on output 2 and a wired rules-fallback
 * follows them at its next decision), a second accept is a 409, an unknown id
 * a 404, a bad query a 400; accepted rules are sent again after a restart of
 * the flow; an invalid schedule is a red status, not a crash. Drift: a rule
 * accepted two weeks ago whose people now set more is revised (a pending
 * suggestion with `supersedes`), and accepting the revision sends the new
 * rule set without the old rule, which is listed as superseded.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { NodeMessage } from 'node-red';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import lightingInsights from '../../nodes/lighting-insights/lighting-insights';
import rulesFallback from '../../nodes/rules-fallback/rules-fallback';
import { LightingStore } from '../../lib/store/store';
import { decideSuggestion, runInsights, type InsightsReport } from '../../lib/insights';
import type { ScheduleRule, Suggestion } from '../../lib/learning';
import { seedHistory, writeHistory } from '../helpers/learning-seed';
import { asNodeSet, helper, latestStatus, message, nodeById, registerCatalogues, TAB } from './helpers';
import { collect, storeConfig, tempDir, waitFor } from './store-node-helpers';

const DAY = 86_400_000;
const TYPES = { 'lighting-store': lightingStore, 'lighting-insights': lightingInsights, 'rules-fallback': rulesFallback };

async function load(flow: FlowNodeDef[]): Promise<void> {
  const inits: NodeInitializer[] = Object.entries(TYPES).map(([t, init]) => asNodeSet(t, init as NodeInitializer));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  inits.push(require('@node-red/nodes/core/common/25-catch.js') as NodeInitializer);
  await helper.load(inits, flow);
}

function flow(file: string, insights: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    storeConfig('s1', file),
    {
      id: 'n1',
      type: 'lighting-insights',
      z: 'f1',
      name: '',
      store: 's1',
      zones: '',
      schedule: '',
      timezone: 'UTC',
      lookbackDays: '14',
      minSupportDays: '5',
      minConfidence: '0.6',
      autoAccept: false,
      autoAcceptConfidence: '0.9',
      targetLux: '500',
      holdMinutes: '15',
      wires: [['h1'], ['h2', 'r1']],
      ...insights,
    },
    { id: 'r1', type: 'rules-fallback', z: 'f1', name: '', targetLux: '500', wires: [['h3']] },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['n1'], uncaught: false, wires: [['h4']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
    { id: 'h3', type: 'helper', z: 'f1', wires: [] },
    { id: 'h4', type: 'helper', z: 'f1', wires: [] },
  ];
}

type Answer = NodeMessage & { statusCode?: number };

describe('lighting-insights node', function () {
  this.timeout(30_000);
  let dir = '';
  let file = '';
  /** UTC midnight 13 days ago: 13 whole days of history before today. */
  const start = Math.floor(Date.now() / DAY) * DAY - 13 * DAY;

  before(() => registerCatalogues(Object.keys(TYPES)));
  beforeEach(() => {
    dir = tempDir('insights-node-');
    file = path.join(dir, 'learn.db');
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function seed(): Promise<void> {
    const store = await LightingStore.open({ path: file });
    try {
      await writeHistory(store, seedHistory({ zone: 'meeting-1', start, days: 13, pattern: 'slot' }));
    } finally {
      await store.close();
    }
  }

  it('mines on input, lists, accepts over the API messages; the rules reach rules-fallback, which follows them', async () => {
    await seed();
    await load(flow(file));
    const n1 = nodeById('n1');
    const answers = collect<Answer>('h1');
    const rules = collect<NodeMessage & { payload: { rules: ScheduleRule[] } }>('h2');
    const setpoints = collect<NodeMessage & { payload: { intensity: number; cct: number; reason: string } }>('h3');
    const caught = collect<{ error: { message: string } }>('h4');
    // At start: the (empty) accepted set.
    await waitFor('rules at start', () => rules[0]);
    assert.deepEqual(rules[0]!.payload, { rules: [] });
    assert.equal(rules[0]!.topic, 'schedule-rules');

    n1.receive({ payload: 'go' });
    const report = (await waitFor('report', () => answers[0])).payload as InsightsReport;
    assert.equal(report.created.length, 1);
    assert.equal(report.created[0]!.zone, 'meeting-1');
    await waitFor('pending status', () => latestStatus(n1).text?.startsWith(message('lighting-insights', 'status.pending', { n: 1 })));

    n1.receive({ topic: 'suggestions', payload: { status: 'pending' } });
    const list = await waitFor('list', () => answers[1]);
    assert.equal(list.statusCode, 200);
    const suggestions = (list.payload as { suggestions: Suggestion[] }).suggestions;
    assert.equal(suggestions.length, 1);
    const id = suggestions[0]!.id;

    n1.receive({ topic: 'accept-suggestion', payload: { id, by: 'facility' } });
    const accepted = await waitFor('accept', () => answers[2]);
    assert.equal(accepted.statusCode, 200);
    assert.equal((accepted.payload as { suggestion: Suggestion }).suggestion.decided_by, 'facility');
    const sent = await waitFor('rules after accept', () => rules[1]);
    assert.equal(sent.payload.rules.length, 1);
    await waitFor('status 0 pending', () => latestStatus(n1).text?.startsWith(message('lighting-insights', 'status.pending', { n: 0 })));

    // The next decision in the slot (a Monday 14:30 window, occupied) follows the rule, before the clamps.
    const monday = Date.UTC(2026, 10, 2, 14, 30);
    nodeById('r1').receive({
      payload: {
        zone: 'meeting-1',
        windowStart: monday,
        windowEnd: monday + 300_000,
        count: 5,
        lux: { mean: 50, min: 50, max: 50, std: 0, last: 50 },
        presence: { ratio: 1, transitions: 0, last: true },
        minuteOfDay: 870,
        weekday: 1,
      },
    });
    const sp = (await waitFor('setpoint', () => setpoints[0])).payload;
    const rule = sent.payload.rules[0]!;
    assert.equal(rule.kind, 'slot');
    assert.ok(rule.kind === 'slot' && rule.maxIntensityPct !== undefined && sp.intensity <= rule.maxIntensityPct, `${sp.intensity}`);
    assert.equal(Math.round(sp.cct), 3000);
    assert.match(sp.reason, new RegExp(`schedule:suggestion:${id} weekdays 14:00-16:00`));

    // Decided already: 409 (no HTTP response object: the error also goes to a catch node).
    n1.receive({ topic: 'reject-suggestion', payload: { id } });
    const again = await waitFor('409', () => answers[3]);
    assert.equal(again.statusCode, 409);
    assert.deepEqual(again.payload, { detail: `suggestion ${id} is already accepted` });
    await waitFor('caught 409', () => caught[0]);
    n1.receive({ topic: 'accept-suggestion', payload: { id: 999 } });
    assert.equal((await waitFor('404', () => answers[4])).statusCode, 404);
    n1.receive({ topic: 'suggestions', payload: { status: 'maybe' } });
    const bad = await waitFor('400', () => answers[5]);
    assert.equal(bad.statusCode, 400);
    assert.match((bad.payload as { detail: string }).detail, /status must be one of/);
    assert.equal(rules.length, 2, 'no rules message for a refused request');
  });

  it('sends the accepted rules again when the flow starts (restart), so the controllers have them without a redeploy of theirs', async () => {
    await seed();
    await load(flow(file, { autoAccept: true, autoAcceptConfidence: '0.5' }));
    const answers = collect<Answer>('h1');
    const rules = collect<NodeMessage & { payload: { rules: ScheduleRule[] } }>('h2');
    nodeById('n1').receive({ payload: 'go' });
    const report = (await waitFor('report', () => answers[0])).payload as InsightsReport;
    assert.equal(report.autoAccepted.length, 1);
    await waitFor('rules after auto-accept', () => rules.find((m) => m.payload.rules.length === 1));
    await helper.unload();
    await load(flow(file));
    const again = collect<NodeMessage & { payload: { rules: ScheduleRule[] } }>('h2');
    const first = await waitFor('rules at start', () => again[0]);
    assert.equal(first.payload.rules.length, 1);
  });

  it('drift: mines a revision of the rule accepted two weeks ago, accepting it over the API message replaces the rule on output 2', async () => {
    // Weeks 1-2: people set 38-44 %, mined and accepted at the end of them (the rule in force); weeks 3-4: they set 58-64 %.
    const early = start - 14 * DAY;
    const store = await LightingStore.open({ path: file });
    let ruleId = 0;
    try {
      await writeHistory(store, seedHistory({ zone: 'meeting-1', start: early, days: 14, pattern: 'slot' }));
      const first = await runInsights(store, { timeZone: 'UTC', settingsOf: () => ({ targetLux: 500, holdMinutes: 15 }) }, start);
      ruleId = first.created[0]!.id;
      assert.equal((await decideSuggestion(store, ruleId, 'accepted', 'facility', start)).outcome, 'decided');
      await writeHistory(store, seedHistory({ zone: 'meeting-1', start, days: 13, pattern: 'slot', slotIntensity: 58, seed: 2 }));
    } finally {
      await store.close();
    }
    await load(flow(file));
    const n1 = nodeById('n1');
    const answers = collect<Answer>('h1');
    const rules = collect<NodeMessage & { payload: { rules: ScheduleRule[] } }>('h2');
    assert.deepEqual(
      (await waitFor('rules at start', () => rules[0])).payload.rules.map((r) => r.id),
      [`suggestion:${ruleId}`],
    );

    n1.receive({ payload: 'go' });
    const report = (await waitFor('report', () => answers[0])).payload as InsightsReport;
    assert.equal(report.revisions.length, 1, JSON.stringify(report));
    const rev = report.created[0]!;
    assert.equal(rev.supersedes, ruleId);
    assert.equal(rev.status, 'pending');
    await waitFor('pending status', () => latestStatus(n1).text?.startsWith(message('lighting-insights', 'status.pending', { n: 1 })));

    n1.receive({ topic: 'accept-suggestion', payload: { id: rev.id } });
    assert.equal((await waitFor('accept', () => answers[1])).statusCode, 200);
    const sent = await waitFor('rules after accept', () => rules[1]);
    assert.deepEqual(
      sent.payload.rules.map((r) => r.id),
      [`suggestion:${rev.id}`],
    );
    n1.receive({ topic: 'suggestions', payload: { status: 'superseded' } });
    const list = await waitFor('superseded list', () => answers[2]);
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      (list.payload as { suggestions: Suggestion[] }).suggestions.map((x) => x.id),
      [ruleId],
    );
  });

  it('an invalid schedule is a red status and a logged error, and input still mines', async () => {
    await load(flow(file, { schedule: 'every day' }));
    const n1 = nodeById('n1');
    await waitFor('red status', () => latestStatus(n1).fill === 'red');
    const answers = collect<Answer>('h1');
    n1.receive({ payload: 1 });
    const report = (await waitFor('report', () => answers[0])).payload as InsightsReport;
    assert.equal(report.mined, 0);
  });
});
