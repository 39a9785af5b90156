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
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { NodeAPI, NodeMessage } from 'node-red';
import apiGuard from '../../nodes/api-guard/api-guard';
import daliBus from '../../nodes/dali-bus/dali-bus';
import daliDt8Out from '../../nodes/dali-dt8-out/dali-dt8-out';
import featureWindow from '../../nodes/feature-window/feature-window';
import lightingQuery from '../../nodes/lighting-query/lighting-query';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import retentionPrune from '../../nodes/retention-prune/retention-prune';
import { schedulerJobStates } from '../../nodes/shared/schedulers';
import type { FeatureWindow } from '../../lib/contracts';
import type { HealthReport } from '../../lib/http/health';
import type { EnergyDayReport } from '../../lib/http/query-energy';
import { encryptProfile, Fernet } from '../../lib/crypto';
import { LightingStore, type AlertRecord, type DecisionRecord, type Page } from '../../lib/store';
import { asNodeSet, registerCatalogues, ROOT } from './helpers';
import { dt8OutNode, simBus } from './dali-node-helpers';
import { TAB, callsOf, collect, helper, lastStatus, nodeById, query, storeConfig, tempDir, waitFor } from './store-node-helpers';

const MODULES: Record<string, NodeInitializer> = {
  'lighting-store': lightingStore,
  'lighting-query': lightingQuery,
  'feature-window': featureWindow,
  'retention-prune': retentionPrune,
  'dali-bus': daliBus,
  'dali-dt8-out': daliDt8Out,
  'api-guard': apiGuard,
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
  profile?: unknown;
}
interface CaughtMsg {
  error: { message: string };
}

const VERSION = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string })
  .version;

function queryNode(query: string, over: Record<string, unknown> = {}): FlowNodeDef {
  return {
    id: 'q1',
    type: 'lighting-query',
    z: 'f1',
    name: '',
    store: 's1',
    bus: '',
    query,
    windows: '3',
    fixtureWatts: '',
    wires: [['ok'], ['no']],
    ...over,
  };
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
    id: 'p1',
    type: 'retention-prune',
    z: 'f1',
    name: '',
    store: 's1',
    schedule,
    timezone: '',
    rawDays: '30',
    weatherDays: '30',
    featureDays: '90',
    decisionDays: '180',
    telemetryDays: '180',
    overrideDays: '30',
    batchRows: '500',
    vacuum: false,
    wires: [[]],
  };
}

const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
/** The reference service's sample personal.json, encrypted with REFERENCE_KEY. */
const SAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8')) as {
  profile_id: string;
  encrypted_payload: string;
};
/** Plaintext of the sample profile: never in the database file, an answer or a log. */
const PLAINTEXT = ['low_vision', 'female', 'intermediate', 'Monday', 'chronotype', 'visual_impairment'];
const ADMIN_TOKEN = 'lq-node-test-admin-token';

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
        await s.insert('decisions', {
          ts: now - (5 - i) * 1000,
          zone: i % 2 ? 'hall' : 'office',
          source: 'rules',
          intensity: 20 * i,
          cct: 4000,
          applied: true,
          msgId: `m${i}`,
        });
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
    assert.deepEqual(
      m.payload.items.map((d) => d.msgId),
      ['m4', 'm2'],
    );
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
    assert.deepEqual(
      (await waitFor('alerts', () => ok2[0])).payload.items.map((a) => a.id),
      [id],
    );

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
    // Not found is an answer (output 2, yellow ring), not an error for a catch node.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(caught.length, 0, 'a 404 is not an error');
    nodeById('q1').receive({ payload: { id: 'abc' } });
    assert.match((await waitFor('caught', () => caught[0])).error.message, /id/);
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

  it('a query polled without msg.res during one outage ends in an error once (catch, log), not at every poll', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    await load(flow(path.join(blocker, 'query.db'), 'decisions'));
    const no = collect<Answer<{ detail: string }>>('no');
    const caught = collect<{ error: { message: string } }>('caught');
    for (let i = 0; i < 3; i++) {
      nodeById('q1').receive({ payload: {} });
      await waitFor(`answer ${i + 1}`, () => no[i]);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(caught.length, 1, 'one error for the outage');
    assert.match(caught[0]?.error.message ?? '', /Lighting store unavailable/);
    assert.equal(lastStatus(nodeById('q1'))?.fill, 'red', 'the status still says so');
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

  it("telemetry-ai: the day's AI calls with the cost at the node's prices; a bad query is a 400 on output 2", async () => {
    const now = Date.now();
    await seed(async (s) => {
      await s.insert('telemetry', {
        ts: now - 1000,
        zone: 'office',
        kind: 'ai',
        latencyMs: 100,
        promptTokens: 2000,
        completionTokens: 500,
        data: { model: 'm' },
      });
      await s.insert('telemetry', {
        ts: now - 500,
        zone: 'office',
        kind: 'ai',
        latencyMs: 900,
        fallbackReason: 'timeout',
        data: { model: 'm' },
      });
    });
    await load(flow(file, 'telemetry-ai', { priceInputPerMTok: '1', priceOutputPerMTok: '4' }));
    const ok =
      collect<
        Answer<{ calls: number; fallbacksByReason: Record<string, number>; cost: number | null; latencyMs: { p50: number; p95: number } }>
      >('ok');
    const no = collect<Answer<{ detail: string }>>('no');
    nodeById('q1').receive({ payload: {}, res: {} } as NodeMessage);
    const m = await waitFor('telemetry-ai', () => ok[0]);
    assert.equal(m.statusCode, 200);
    assert.equal(m.payload.calls, 2);
    assert.deepEqual(m.payload.fallbacksByReason, { timeout: 1 });
    assert.deepEqual(m.payload.latencyMs, { p50: 100, p95: 900, max: 900 });
    assert.ok(m.payload.cost !== null && Math.abs(m.payload.cost - (0.002 + 0.002)) < 1e-12, String(m.payload.cost));
    nodeById('q1').receive({ payload: { month: '2026-13' }, res: {} } as NodeMessage);
    const bad = await waitFor('400', () => no[0]);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.payload.detail, /month must be YYYY-MM/);
  });

  it('latest-windows: 400 "No features available" first; after readings and "aggregate" the stored snapshot', async () => {
    const fwNode: FlowNodeDef = {
      id: 'fw',
      type: 'feature-window',
      z: 'f1',
      name: '',
      store: 's1',
      windowMinutes: '5',
      keepWindows: '3',
      graceS: '60',
      wires: [[], ['acks']],
    };
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

  describe('personal profiles: store-profile and profile', () => {
    const savedKey = process.env.FERNET_KEY;
    beforeEach(() => {
      delete process.env.FERNET_KEY;
    });
    afterEach(() => {
      if (savedKey === undefined) delete process.env.FERNET_KEY;
      else process.env.FERNET_KEY = savedKey;
    });

    /** Every byte SQLite wrote (the database, its WAL and shared memory), as text. */
    const fileBytes = (): string =>
      ['', '-wal', '-shm'].map((ext) => (fs.existsSync(file + ext) ? fs.readFileSync(file + ext).toString('latin1') : '')).join('');

    it('store-profile: 201 {ok, profileId, stored}, msg.profile = the encrypted blob; the row holds only the token', async () => {
      process.env.FERNET_KEY = REFERENCE_KEY;
      await load(flow(file, 'store-profile'));
      const ok = collect<Answer<Record<string, unknown>>>('ok');
      const res = { id: 'response-object' };
      // What api-guard (operation profile) sends on.
      nodeById('q1').receive({ payload: { profileId: SAMPLE.profile_id, encryptedPayload: SAMPLE.encrypted_payload }, res } as NodeMessage);
      const m = await waitFor('stored', () => ok[0]);
      assert.equal(m.statusCode, 201);
      assert.deepEqual(m.payload, { ok: true, profileId: 'default', stored: true });
      assert.deepEqual(m.profile, SAMPLE);
      assert.equal(m.res, res);
      assert.equal(lastStatus(nodeById('q1'))?.fill, 'green');
      // Committed before the answer: another connection sees the row.
      const rows = await query(file, 'SELECT profile_id, encrypted_payload FROM personal_profiles');
      assert.deepEqual(rows, [{ profile_id: 'default', encrypted_payload: SAMPLE.encrypted_payload }]);
      const bytes = fileBytes();
      assert.ok(bytes.includes(SAMPLE.encrypted_payload.slice(0, 40)), 'the token is in the file');
      for (const p of PLAINTEXT) assert.ok(!bytes.includes(p), `plaintext "${p}" in the database file`);
      assert.ok(!JSON.stringify(m.payload).includes('low_vision'));
    });

    it('store-profile: a wrong key is a 400 on output 2 and nothing is stored', async () => {
      process.env.FERNET_KEY = Fernet.generateKey();
      await load(flow(file, 'store-profile'));
      const no = collect<Answer<{ detail: string }>>('no');
      const caught = collect<CaughtMsg>('caught');
      nodeById('q1').receive({ payload: SAMPLE, res: {} } as NodeMessage);
      const m = await waitFor('400', () => no[0]);
      assert.equal(m.statusCode, 400);
      assert.deepEqual(m.payload, { detail: 'encrypted_payload cannot be decrypted with FERNET_KEY (wrong key or tampered token)' });
      assert.equal(m.profile, undefined);
      await settle();
      assert.equal(caught.length, 0);
      assert.deepEqual(await query(file, 'SELECT * FROM personal_profiles'), []);
    });

    it('store-profile: no FERNET_KEY is a 503 on output 2 (done(err) without msg.res) and nothing is stored', async () => {
      await load(flow(file, 'store-profile'));
      const no = collect<Answer<{ detail: string }>>('no');
      const caught = collect<CaughtMsg>('caught');
      nodeById('q1').receive({ payload: SAMPLE });
      const m = await waitFor('503', () => no[0]);
      assert.equal(m.statusCode, 503);
      assert.deepEqual(m.payload, { detail: 'FERNET_KEY is not set' });
      assert.match((await waitFor('caught', () => caught[0])).error.message, /FERNET_KEY is not set/);
      assert.deepEqual(await query(file, 'SELECT * FROM personal_profiles'), []);
    });

    it('profile: 404 "No profile stored" when none; then the stored blob (latest, or by id) in msg.profile', async () => {
      await load(flow(file, 'profile'));
      const ok = collect<Answer<{ profileId: string; createdAt: number; storedAt: number }>>('ok');
      const no = collect<Answer<{ detail: string }>>('no');
      const q1 = nodeById('q1');
      q1.receive({ payload: {}, res: {} } as NodeMessage);
      const none = await waitFor('404', () => no[0]);
      assert.equal(none.statusCode, 404);
      assert.deepEqual(none.payload, { detail: 'No profile stored' });

      const other = encryptProfile('night-shift', { slowerDimDown: true }, new Fernet(REFERENCE_KEY));
      const t0 = Date.now();
      await seed(async (s) => {
        await s.insert(
          'personal_profiles',
          { profileId: 'default', encryptedPayload: SAMPLE.encrypted_payload, updatedAt: t0 - 60_000 },
          { waitForCommit: true },
        );
        await s.insert(
          'personal_profiles',
          { profileId: other.profile_id, encryptedPayload: other.encrypted_payload, updatedAt: t0 },
          { waitForCommit: true },
        );
      });
      q1.receive({ payload: {} });
      const latest = await waitFor('latest', () => ok[0]);
      assert.equal(latest.statusCode, 200);
      assert.equal(latest.payload.profileId, 'night-shift');
      assert.equal(latest.payload.storedAt, t0);
      assert.deepEqual(latest.profile, other);
      q1.receive({ payload: { profileId: 'default' } });
      const byId = await waitFor('by id', () => ok[1]);
      assert.deepEqual(byId.profile, SAMPLE);
      assert.equal(byId.payload.profileId, 'default');
    });

    it('over HTTP: POST /admin/profile through api-guard and store-profile answers 201; GET /admin/profile gives the id back', async () => {
      process.env.FERNET_KEY = REFERENCE_KEY;
      let httpNode: http.RequestListener | null = null;
      const capture: NodeInitializer = (RED: NodeAPI) => {
        httpNode = RED.httpNode as unknown as http.RequestListener;
      };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const httpIn = require('@node-red/nodes/core/network/21-httpin.js') as NodeInitializer;
      const guard = (id: string, operation: string, wires: string[][]): FlowNodeDef => ({
        id,
        type: 'api-guard',
        z: 'f1',
        name: '',
        operation,
        rateLimit: '0',
        trustProxy: false,
        requireAdmin: false,
        overrideMinutes: '30',
        defaultZone: '',
        logRequests: false,
        wires,
      });
      const flowDef: FlowNodeDef[] = [
        TAB,
        storeConfig('s1', file),
        {
          id: 'in1',
          type: 'http in',
          z: 'f1',
          name: '',
          url: '/admin/profile',
          method: 'post',
          upload: false,
          swaggerDoc: '',
          wires: [['g1']],
        },
        guard('g1', 'profile', [['q1'], ['resp']]),
        queryNode('store-profile', { wires: [['resp'], ['resp']] }),
        {
          id: 'in2',
          type: 'http in',
          z: 'f1',
          name: '',
          url: '/admin/profile',
          method: 'get',
          upload: false,
          swaggerDoc: '',
          wires: [['q2']],
        },
        { ...queryNode('profile'), id: 'q2', wires: [['resp'], ['resp']] },
        { id: 'resp', type: 'http response', z: 'f1', name: '', statusCode: '', headers: {}, wires: [] },
      ];
      const inits: NodeInitializer[] = [capture, httpIn, ...Object.entries(MODULES).map(([type, init]) => asNodeSet(type, init))];
      await helper.load(inits, flowDef, { g1: { adminToken: ADMIN_TOKEN } });
      assert.ok(httpNode, 'RED.httpNode captured');
      const server = http.createServer(httpNode);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
          fetch(`${base}/admin/profile`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify(body),
          });
        const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
        assert.equal((await post(SAMPLE)).status, 401);
        const bad = await post({ profile_id: 'default' }, auth);
        assert.equal(bad.status, 400);
        assert.match(((await bad.json()) as { detail: string }).detail, /encrypted_payload is missing/);
        const t = SAMPLE.encrypted_payload;
        const i = Math.floor(t.length / 2);
        const tampered = await post({ ...SAMPLE, encrypted_payload: t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1) }, auth);
        assert.equal(tampered.status, 400);
        assert.deepEqual(await tampered.json(), {
          detail: 'encrypted_payload cannot be decrypted with FERNET_KEY (wrong key or tampered token)',
        });
        assert.deepEqual(await query(file, 'SELECT * FROM personal_profiles'), []);

        const stored = await post(SAMPLE, auth);
        assert.equal(stored.status, 201);
        // Over HTTP the answer carries the reference's profile_id beside profileId (lib/http/reference-names).
        assert.deepEqual(await stored.json(), { ok: true, profileId: 'default', profile_id: 'default', stored: true });
        const got = await fetch(`${base}/admin/profile`);
        assert.equal(got.status, 200);
        assert.equal(((await got.json()) as { profileId: string }).profileId, 'default');
        for (const p of PLAINTEXT) assert.ok(!fileBytes().includes(p), `plaintext "${p}" in the database file`);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
