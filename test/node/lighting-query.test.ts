/**
 * lighting-query in the Node-RED runtime with a real SQLite file: each query
 * answers on output 1 with msg.statusCode (req/res kept); bad input, an
 * unknown alert, no feature windows and a store that cannot open answer on
 * output 2 (done(err) only without msg.res); health is 200 with the database,
 * a connected simulated bus and a running prune schedule, 503 when the bus is
 * not connected, the schedule invalid or the database failing (logged as
 * "Database health check failed"); latest-windows finds the snapshots that
 * feature-window's "aggregate" stores.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { NodeMessage } from 'node-red';
import daliBus from '../../nodes/dali-bus/dali-bus';
import daliDt8Out from '../../nodes/dali-dt8-out/dali-dt8-out';
import featureWindow from '../../nodes/feature-window/feature-window';
import lightingQuery from '../../nodes/lighting-query/lighting-query';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import retentionPrune from '../../nodes/retention-prune/retention-prune';
import { schedulerJobStates } from '../../nodes/shared/schedulers';
import type { FeatureWindow } from '../../lib/features/types';
import type { HealthReport } from '../../lib/http/health';
import type { EnergyDayReport } from '../../lib/http/query-energy';
import { LightingStore, type AlertRecord, type DecisionRecord, type Page } from '../../lib/store';
import { asNodeSet, registerCatalogues } from './helpers';
import { dt8OutNode, simBus } from './dali-node-helpers';
import { TAB, callsOf, collect, helper, lastStatus, nodeById, storeConfig, tempDir, waitFor } from './store-node-helpers';

const MODULES: Record<string, NodeInitializer> = {
  'lighting-store': lightingStore,
  'lighting-query': lightingQuery,
  'feature-window': featureWindow,
  'retention-prune': retentionPrune,
  'dali-bus': daliBus,
  'dali-dt8-out': daliDt8Out,
};

async function load(flow: FlowNodeDef[]): Promise<void> {
  const inits: NodeInitializer[] = Object.entries(MODULES).map(([type, init]) => asNodeSet(type, init));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  inits.push(require('@node-red/nodes/core/common/25-catch.js') as NodeInitializer);
  await helper.load(inits, flow);
}

interface Answer<T = unknown> extends NodeMessage {
  payload: T;
  statusCode: number;
  res?: unknown;
  changed?: boolean;
}
interface CaughtMsg {
  error: { message: string };
}

const VERSION = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

function queryNode(query: string, over: Record<string, unknown> = {}): FlowNodeDef {
  return { id: 'q1', type: 'lighting-query', z: 'f1', name: '', store: 's1', bus: '', query, windows: '3', fixtureWatts: '', wires: [['ok'], ['no']], ...over };
}

function flow(file: string, query: string, over: Record<string, unknown> = {}, extra: FlowNodeDef[] = []): FlowNodeDef[] {
  return [
    TAB,
    storeConfig('s1', file),
    queryNode(query, over),
    { id: 'c1', type: 'catch', z: 'f1', scope: ['q1'], uncaught: false, wires: [['caught']] },
    { id: 'ok', type: 'helper', z: 'f1', wires: [] },
    { id: 'no', type: 'helper', z: 'f1', wires: [] },
    { id: 'caught', type: 'helper', z: 'f1', wires: [] },
    ...extra,
  ];
}

function prune(schedule: string): FlowNodeDef {
  return {
    id: 'p1', type: 'retention-prune', z: 'f1', name: '', store: 's1', schedule, timezone: '', rawDays: '30', weatherDays: '30',
    featureDays: '90', decisionDays: '180', telemetryDays: '180', overrideDays: '30', batchRows: '500', vacuum: false, wires: [[]],
  };
}

const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('lighting-query node', function () {
  this.timeout(20_000);
  let dir: string;
  let file: string;

  before(async () => {
    await registerCatalogues(Object.keys(MODULES));
  });
  beforeEach(() => {
    dir = tempDir('lq-node-');
    file = path.join(dir, 'query.db');
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function seed(fn: (s: LightingStore) => Promise<void>): Promise<void> {
    const s = await LightingStore.open({ path: file });
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }

  it('decisions: a page on output 1 with statusCode 200, keeping msg.req/res; the status turns green', async () => {
    const now = Date.now();
    await seed(async (s) => {
      for (let i = 0; i < 5; i++) {
        await s.insert('decisions', { ts: now - (5 - i) * 1000, zone: i % 2 ? 'hall' : 'office', source: 'rules', intensity: 20 * i, cct: 4000, applied: true, msgId: `m${i}` });
      }
    });
    await load(flow(file, 'decisions'));
    const ok = collect<Answer<Page<DecisionRecord>>>('ok');
    const res = { id: 'response-object' };
    nodeById('q1').receive({ payload: { limit: 2, offset: 0, zone: 'office' }, req: { query: {} }, res } as NodeMessage);
    const m = await waitFor('answer', () => ok[0]);
    assert.equal(m.statusCode, 200);
    assert.deepEqual(m.res, res);
    assert.equal(m.payload.total, 3);
    assert.equal(m.payload.limit, 2);
    assert.equal(m.payload.offset, 0);
    assert.deepEqual(m.payload.items.map((d) => d.msgId), ['m4', 'm2']);
    assert.equal(typeof m.payload.nextCursor, 'string');
    assert.equal(lastStatus(nodeById('q1'))?.fill, 'green');
  });

  it('bad input: 400 {detail} on output 2; done(err) for a catch node only without msg.res', async () => {
    await load(flow(file, 'telemetry'));
    const no = collect<Answer<{ detail: string }>>('no');
    const caught = collect<CaughtMsg>('caught');
    const q1 = nodeById('q1');
    q1.receive({ payload: { limit: 5000 }, res: { id: 'r' } } as NodeMessage);
    const m = await waitFor('400 over HTTP', () => no[0]);
    assert.equal(m.statusCode, 400);
    assert.match(m.payload.detail, /limit must be a whole number from 1 to 1000/);
    await settle();
    assert.equal(caught.length, 0, 'an HTTP request is answered, not an error');
    q1.receive({ payload: { since: 'soon' } });
    const c = await waitFor('caught', () => caught[0]);
    assert.match(c.error.message, /since must be epoch ms or an ISO 8601/);
    assert.equal(no[1]?.statusCode, 400);
    assert.equal(lastStatus(q1)?.fill, 'red');
  });

  it('alerts and resolve-alert: a page of active alerts, the resolved record (again 200), 404 for an unknown id', async () => {
    let id = 0;
    await seed(async (s) => {
      id = (await s.raiseAlert({ zone: 'office', kind: 'lampFailure', message: 'gear 2 lamp failure' })).id;
    });
    await load([
      ...flow(file, 'resolve-alert'),
      { ...queryNode('alerts'), id: 'q2', wires: [['ok2'], ['no']] },
      { id: 'ok2', type: 'helper', z: 'f1', wires: [] },
    ]);
    const ok = collect<Answer<AlertRecord>>('ok');
    const ok2 = collect<Answer<Page<AlertRecord>>>('ok2');
    const no = collect<Answer<{ detail: string }>>('no');
    const caught = collect<CaughtMsg>('caught');
    nodeById('q2').receive({ payload: { status: 'active' } });
    assert.deepEqual((await waitFor('alerts', () => ok2[0])).payload.items.map((a) => a.id), [id]);

    nodeById('q1').receive({ payload: { id, resolvedBy: 'operator' } });
    const r = await waitFor('resolved', () => ok[0]);
    assert.equal(r.statusCode, 200);
    assert.equal(r.payload.resolvedBy, 'operator');
    assert.equal(typeof r.payload.resolvedAt, 'number');
    assert.equal(r.changed, true);
    nodeById('q1').receive({ payload: { id: String(id), resolvedBy: 'someone else' } });
    const again = await waitFor('resolved again', () => ok[1]);
    assert.equal(again.statusCode, 200);
    assert.equal(again.changed, false);
    assert.equal(again.payload.resolvedBy, 'operator');

    nodeById('q1').receive({ payload: { id: 424242 } });
    const missing = await waitFor('404', () => no[0]);
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.payload, { detail: 'Alert 424242 not found' });
    assert.match((await waitFor('caught', () => caught[0])).error.message, /Alert 424242 not found/);
  });

  it('health: 200 with database ok, the simulated bus connected, the prune schedule running and the package version', async () => {
    await load(flow(file, 'health', { bus: 'bus1' }, [simBus('bus1'), dt8OutNode('o1', 'bus1', {}), prune('0 3 * * *')]));
    const ok = collect<Answer<HealthReport>>('ok');
    const q1 = nodeById('q1');
    let m: Answer<HealthReport> | undefined;
    // The bus opens for the DT8 node: ask until it reports connected.
    for (let i = 0; i < 50; i++) {
      q1.receive({ payload: {} });
      m = await waitFor('answer', () => ok[i]);
      if (m.statusCode === 200) break;
      await settle(100);
    }
    assert.ok(m);
    assert.equal(m.statusCode, 200, JSON.stringify(m.payload));
    assert.equal(m.payload.status, 'ok');
    assert.equal(m.payload.database, 'ok');
    assert.equal(m.payload.scheduler, 'running');
    assert.equal(m.payload.dali.state, 'connected');
    assert.equal(m.payload.dali.kind, 'simulator');
    assert.equal(m.payload.version, VERSION);
    const sched = m.payload.checks.scheduler.detail as { nextRun: number };
    assert.ok(sched.nextRun > Date.now());
  });

  it('health: 503 on output 1 when the bus is not connected or the prune schedule is invalid', async () => {
    // No node uses the bus: lighting-query does not open it.
    await load(flow(file, 'health', { bus: 'bus1' }, [simBus('bus1'), prune('not a cron')]));
    const ok = collect<Answer<HealthReport>>('ok');
    const no = collect<Answer>('no');
    const caught = collect<CaughtMsg>('caught');
    nodeById('q1').receive({ payload: {}, res: { id: 'r' } } as NodeMessage);
    const m = await waitFor('answer', () => ok[0]);
    assert.equal(m.statusCode, 503);
    assert.equal(m.payload.status, 'degraded');
    assert.equal(m.payload.database, 'ok');
    assert.equal(m.payload.dali.state, 'closed');
    assert.equal(m.payload.scheduler, 'stopped');
    await settle();
    assert.equal(no.length + caught.length, 0);
    assert.equal(lastStatus(nodeById('q1'))?.fill, 'yellow');
  });

  it('health: 503 with the database error when the store cannot open, logging "Database health check failed" once', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    await load(flow(path.join(blocker, 'query.db'), 'health'));
    const ok = collect<Answer<HealthReport>>('ok');
    const q1 = nodeById('q1');
    q1.receive({ payload: {} });
    const m = await waitFor('answer', () => ok[0]);
    assert.equal(m.statusCode, 503);
    assert.notEqual(m.payload.database, 'ok');
    assert.equal(m.payload.scheduler, 'not configured');
    assert.equal(m.payload.dali.state, 'not configured');
    q1.receive({ payload: {} });
    await waitFor('second answer', () => ok[1]);
    const logged = callsOf(q1, 'error').filter((a) => /^Database health check failed/.test(String(a[0])));
    assert.equal(logged.length, 1, 'the same failure is logged once');
  });

  it('a store that cannot open answers the other queries 503 on output 2', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    await load(flow(path.join(blocker, 'query.db'), 'decisions'));
    const no = collect<Answer<{ detail: string }>>('no');
    nodeById('q1').receive({ payload: {}, res: {} } as NodeMessage);
    const m = await waitFor('503', () => no[0]);
    assert.equal(m.statusCode, 503);
    assert.match(m.payload.detail, /^Lighting store unavailable: /);
  });

  it("energy: today's summary from the stored decisions with the node's rated power", async () => {
    const now = Date.now();
    const midnight = new Date(now).setHours(0, 0, 0, 0);
    await seed(async (s) => {
      await s.insert('decisions', { ts: midnight - 3_600_000, zone: 'office', source: 'rules', intensity: 50, applied: true });
    });
    await load(flow(file, 'energy', { fixtureWatts: '40' }));
    const ok = collect<Answer<EnergyDayReport>>('ok');
    nodeById('q1').receive({ payload: { zone: 'office' } });
    const m = await waitFor('energy', () => ok[0]);
    assert.equal(m.statusCode, 200);
    const r = m.payload;
    assert.equal(r.zone, 'office');
    assert.equal(r.fixtureWatts, 40);
    assert.equal(r.complete, false);
    assert.equal(r.zones.length, 1);
    assert.ok(Math.abs((r.savedPct ?? 0) - 50) < 1e-6, 'held at 50 % since before midnight');
    assert.ok(Math.abs((r.energyWh ?? 0) - 20 * r.hours) < 1e-6);
  });

  it('latest-windows: 400 "No features available" first; after readings and "aggregate" the stored snapshot', async () => {
    const fwNode: FlowNodeDef = { id: 'fw', type: 'feature-window', z: 'f1', name: '', store: 's1', windowMinutes: '5', keepWindows: '3', graceS: '60', wires: [[], ['acks']] };
    await load(flow(file, 'latest-windows', {}, [fwNode, { id: 'acks', type: 'helper', z: 'f1', wires: [] }]));
    const ok = collect<Answer<FeatureWindow[]>>('ok');
    const no = collect<Answer<{ detail: string }>>('no');
    const acks = collect<NodeMessage>('acks');
    const q1 = nodeById('q1');
    q1.receive({ payload: {}, res: {} } as NodeMessage);
    assert.deepEqual((await waitFor('no features', () => no[0])).payload, { detail: 'No features available' });
    assert.equal(no[0]?.statusCode, 400);

    const fw = nodeById('fw');
    fw.receive({ payload: { sensorId: 's1', zone: 'lab', ts: Date.now(), lux: 420, presence: true, source: 'test' } });
    await waitFor('reading ack', () => acks[0]);
    fw.receive({ topic: 'aggregate', payload: '' });
    await waitFor('aggregate ack', () => acks[1]);
    q1.receive({ payload: {} });
    const m = await waitFor('windows', () => ok[0]);
    assert.equal(m.statusCode, 200);
    assert.equal(m.payload.length, 1);
    assert.equal(m.payload[0]?.zone, 'lab');
    assert.equal(m.payload[0]?.partial, true);
    assert.equal(m.payload[0]?.lux.last, 420);
  });

  it('unregisters the prune schedule from the health registry on close', async () => {
    await load(flow(file, 'health', {}, [prune('0 3 * * *')]));
    assert.equal(schedulerJobStates().length, 1);
    await helper.unload();
    assert.equal(schedulerJobStates().length, 0);
  });
});
