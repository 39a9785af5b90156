/**
 * The store nodes in a real Node-RED (4.1 on Node 20 or 5 on Node 22, see
 * harness.ts), driven over HTTP like an ingestion client would:
 *   POST /ingest -> change (msg.waitForCommit = true) -> feature-window
 *     -> output 2 (stored) -> http response 201, only after the commit;
 *   a bad reading -> catch -> http response 400 with the validation message;
 *   POST /prune -> retention-prune -> http response 200 with the report.
 * The SQLite file is read with a separate sqlite3 connection from the test.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeRedRuntime, runtimeDescription } from './harness';
import { Db, type SqlValue } from '../../lib/store/sqlite';

const DAY_MS = 86_400_000;

const FLOW: object[] = [
  { id: 'tab', type: 'tab', label: 'store e2e' },
  // Rows are written once a second: a 201 that came before the commit would find nothing in the file.
  { id: 'store', type: 'lighting-store', name: '', path: '', flushIntervalMs: 1000, flushMaxRows: 500, busyTimeoutMs: 5000 },
  { id: 'in-ingest', type: 'http in', z: 'tab', url: '/ingest', method: 'post', wires: [['wait']] },
  {
    id: 'wait',
    type: 'change',
    z: 'tab',
    rules: [{ t: 'set', p: 'waitForCommit', pt: 'msg', to: 'true', tot: 'bool' }],
    wires: [['fw']],
  },
  {
    id: 'fw',
    type: 'feature-window',
    z: 'tab',
    name: '',
    store: 'store',
    windowMinutes: 5,
    keepWindows: 3,
    graceS: 60,
    wires: [[], ['created']],
  },
  {
    id: 'created',
    type: 'change',
    z: 'tab',
    rules: [{ t: 'set', p: 'statusCode', pt: 'msg', to: '201', tot: 'num' }],
    wires: [['out']],
  },
  {
    id: 'catch-fw',
    type: 'catch',
    z: 'tab',
    scope: ['fw'],
    uncaught: false,
    wires: [['bad']],
  },
  {
    id: 'bad',
    type: 'change',
    z: 'tab',
    rules: [
      { t: 'set', p: 'statusCode', pt: 'msg', to: '400', tot: 'num' },
      { t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' },
    ],
    wires: [['out']],
  },
  { id: 'out', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  { id: 'in-prune', type: 'http in', z: 'tab', url: '/prune', method: 'post', wires: [['rp']] },
  {
    id: 'rp',
    type: 'retention-prune',
    z: 'tab',
    name: '',
    store: 'store',
    schedule: '',
    timezone: '',
    rawDays: 30,
    weatherDays: 30,
    featureDays: 90,
    decisionDays: 180,
    telemetryDays: 180,
    overrideDays: 30,
    batchRows: 500,
    vacuum: true,
    wires: [['out']],
  },
];

async function rows(file: string, sql: string, params: SqlValue[] = []): Promise<Record<string, SqlValue>[]> {
  const db = await Db.open(file, { readOnly: true });
  try {
    return await db.all(sql, params);
  } finally {
    await db.close();
  }
}

describe(`store nodes in a real Node-RED (${path.basename(path.dirname(runtimeDescription().nodeRedDir))}/node-red)`, function () {
  let rt: NodeRedRuntime;
  let file: string;

  before(async function () {
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {});
    file = path.join(rt.userDir, 'smart-lighting.db');
    await rt.deploy(FLOW);
  });

  after(async () => {
    if (rt) {
      await rt.stopAndClean();
    }
  });

  // Timestamps are taken when the suite runs, not when mocha loads the file: the e2e files before
  // this one take minutes, and a reading older than the window plus its grace is (rightly) late.
  let now = 0;
  let good: Array<Record<string, unknown> & { sensorId: string }> = [];
  before(() => {
    now = Date.now();
    good = [
      { sensorId: 'lsd-1', zone: 'office-1', ts: now, lux: 420, presence: true, source: 'http' },
      { sensorId: 'lsd-2', zone: 'office-2', ts: now + 1, presence: false, source: 'http' },
      // Stored (flagged late), and old enough for the prune.
      { sensorId: 'lsd-old', zone: 'office-1', ts: now - 40 * DAY_MS, lux: 10, source: 'http' },
    ];
  });

  it('answers 201 for a good reading only once it is committed to the SQLite file', async () => {
    for (const reading of good) {
      const res = await rt.request('POST', '/ingest', reading);
      assert.equal(res.status, 201, res.text);
      const ack = res.json as { id: number; committed: boolean; late: boolean };
      assert.equal(ack.committed, true);
      assert.equal(ack.late, reading.sensorId === 'lsd-old');
      const found = await rows(file, 'SELECT sensor_id, zone, ts FROM raw_sensor_events WHERE id = ?', [ack.id]);
      assert.deepEqual(found, [{ sensor_id: reading.sensorId, zone: reading.zone, ts: reading.ts }], 'in the file when 201 arrived');
    }
  });

  it('answers 400 with the validation message for a bad reading, and stores nothing for it', async () => {
    const res = await rt.request('POST', '/ingest', { sensorId: 'lsd-bad', zone: 'office-1', ts: now, lux: 'bright', source: 'http' });
    assert.equal(res.status, 400);
    assert.match(res.text, /invalid sensor reading: lux must be a finite number >= 0, got "bright"/);
    const missing = await rt.request('POST', '/ingest', { sensorId: 'lsd-bad', ts: now, lux: 1, source: 'http' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /zone is missing/);
    const all = await rows(file, 'SELECT sensor_id FROM raw_sensor_events ORDER BY id');
    assert.deepEqual(
      all.map((r) => r.sensor_id),
      good.map((g) => g.sensorId),
      'exactly the good rows',
    );
  });

  it('deletes the expired rows when retention-prune is triggered over HTTP', async () => {
    const res = await rt.request('POST', '/prune', {});
    assert.equal(res.status, 200, res.text);
    const report = res.json as { deleted: Record<string, number>; total: number; trigger: string; aborted: boolean };
    assert.equal(report.trigger, 'msg');
    assert.equal(report.deleted.raw_sensor_events, 1);
    assert.equal(report.total, 1);
    assert.equal(report.aborted, false);
    const left = await rows(file, 'SELECT sensor_id FROM raw_sensor_events ORDER BY id');
    assert.deepEqual(
      left.map((r) => r.sensor_id),
      ['lsd-1', 'lsd-2'],
    );
  });

  it('logs no warning or error of ours', () => {
    const ours = rt.ourProblems();
    // The two bad readings were handled by the catch node; Node-RED still logs a caught error at error level.
    const unexpected = ours.filter((l) => !/\[feature-window:fw\] invalid sensor reading/.test(l));
    assert.deepEqual(unexpected, [], unexpected.join('\n'));
  });
});
