/**
 * The main flow's environment settings (`${VAR}` in node properties, filled
 * in by Node-RED at deploy) in a real Node-RED runtime (4.1 on Node 20 or 5
 * on Node 22, scripts/e2e-matrix.js), SQLite file: FEATURE_WINDOW_MINUTES=1
 * gives 1-minute windows, OVERRIDE_MINUTES=5 a manual override that expires
 * 5 minutes after it started, PAYLOAD_CAP_BYTES=1024 is taken without a word,
 * and an invalid RATE_LIMIT_PER_MINUTE=abc is a warning naming the variable
 * and the default (60), which is then used: the flow runs on.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { query } from '../helpers/sqlite-query';
import { closedPort } from '../helpers/fake-openai-server';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT } from './harness';

const ZONE = 'office-1';
const MIN = 60_000;
const RATE_WARNING =
  /\[warn\] \[api-guard:.*Setting rateLimit \(environment variable RATE_LIMIT_PER_MINUTE\) = "abc" cannot be used; using 60 instead/;

describe('the main flow: environment settings with the Python service names', function () {
  this.timeout(60000);
  let rt: NodeRedRuntime;
  let dbFile: string;
  const flows = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as object[];

  before(async function () {
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = installDir ? fs.mkdtempSync(path.join(installDir, '..', 'ud-env-')) : undefined;
    const port = await closedPort();
    const env = {
      ADMIN_TOKEN: 'e2e-admin-token-env',
      OPENAI_API_KEY: 'sk-e2e-not-a-real-key-env',
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      DB_URL: '',
      FEATURE_WINDOW_MINUTES: '1',
      OVERRIDE_MINUTES: '5',
      PAYLOAD_CAP_BYTES: '1024',
      RATE_LIMIT_PER_MINUTE: 'abc',
      TELEMETRY_RETENTION_DAYS: '',
    };
    rt = await NodeRedRuntime.start({ userDir, flows, env, settings: NPM_START_SETTINGS });
    dbFile = path.join(rt.userDir, 'smart-lighting.db');
  });

  after(async () => {
    if (rt) await rt.stopAndClean();
  });

  it('an invalid value is a warning naming the variable and the default; nothing else complains', async () => {
    await rt.waitForLog(RATE_WARNING, 5000);
    // Every other problem: none (a blank TELEMETRY_RETENTION_DAYS is the default, not a warning).
    assert.deepEqual(rt.ourProblems([RATE_WARNING]), []);
    // The default limit applies: requests are answered.
    const r = await rt.request('GET', '/telemetry?limit=1');
    assert.equal(r.status, 200, r.text);
  });

  it('OVERRIDE_MINUTES=5: a manual override without override_minutes expires 5 minutes after it started', async () => {
    const r = await rt.request('POST', '/control', { intensity: 40, cct: 3500, reason: 'env test', manual_override: true });
    assert.equal(r.status, 200, r.text);
    let rows: Array<{ started_at: number; expires_at: number | null }> = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = await query(dbFile, 'SELECT started_at, expires_at FROM manual_overrides WHERE zone = ?', [ZONE]);
      if (rows.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(rows.length, 1);
    assert.equal(Number(rows[0]?.expires_at) - Number(rows[0]?.started_at), 5 * MIN, JSON.stringify(rows));
  });

  it('FEATURE_WINDOW_MINUTES=1: feature windows are 1 minute long', async function () {
    this.timeout(120000);
    // A 1-minute window starts on a minute, a 5-minute one on a multiple of 5 minutes: a reading in a minute where they differ.
    // In such a minute the reading is from the minute before: its 1-minute window is still open (60 s grace), no wait for the clock.
    const now = Date.now();
    const ts = Math.floor(now / MIN) % 5 === 0 ? now - MIN : now;
    const r = await rt.request('POST', '/ingest/sensor', { sensor_id: 'env-1', zone: ZONE, ts, lux: 250, presence: true });
    assert.equal(r.status, 201, r.text);
    // The open window is written as a snapshot.
    const agg = await rt.request('POST', '/admin/aggregate-now', undefined, { Authorization: 'Bearer e2e-admin-token-env' });
    assert.equal(agg.status, 200, agg.text);
    const minuteStart = Math.floor(ts / MIN) * MIN;
    let rows: Array<{ window_start: number; window_end: number }> = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = await query(dbFile, 'SELECT window_start, window_end FROM feature_windows WHERE zone = ? AND window_end >= ?', [ZONE, ts]);
      if (rows.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(rows.length >= 1, 'the snapshot of the open window is stored');
    for (const w of rows) {
      assert.equal(
        w.window_start,
        minuteStart,
        `window ${JSON.stringify(w)} starts on the reading's minute (a 5-minute window would start at ${Math.floor(ts / (5 * MIN)) * 5 * MIN})`,
      );
      assert.ok(w.window_end - w.window_start <= MIN, JSON.stringify(w));
    }
  });
});
