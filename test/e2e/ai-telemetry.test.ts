/**
 * AI telemetry in the main flow (flows/smart-lighting.json) in a real
 * Node-RED runtime (4.1 on Node 20 or 5 on Node 22, scripts/e2e-matrix.js),
 * SQLite file: OPENAI_BASE_URL points at a local OpenAI-compatible server,
 * POST /predict makes real ai-decide calls (answered, then failing with an
 * error that echoes the key), lighting-alerts stores each call as a telemetry
 * row of kind "ai", and GET /telemetry/ai sums them up (calls, fallbacks by
 * reason, tokens, p50/p95 latency, cost from AI_PRICE_*_PER_MTOK). The stored
 * rows are read behind the API: the planted key never reaches them.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { query } from '../helpers/sqlite-query';
import { errorResponse, FakeOpenAiServer, toolCallCompletion, type ScriptedResponse } from '../helpers/fake-openai-server';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT } from './harness';

const KEY = 'sk-e2e-PLANTED-telemetry-0123456789abcdef';
const ZONE = 'office-1';

interface Summary {
  day: string | null;
  month: string | null;
  calls: number;
  aiCalls: number;
  fallbacks: number;
  fallbacksByReason: Record<string, number>;
  tokens: { input: number; output: number; total: number };
  latencyMs: { p50: number | null; p95: number | null; max: number | null };
  cost: number | null;
  prices: { inputPerMTok: number | null; outputPerMTok: number | null };
  models: Record<string, number>;
}

interface Row {
  kind: string;
  zone: string | null;
  latency_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  fallback_reason: string | null;
  data: string | null;
}

describe('the main flow: AI telemetry stored and summarised (GET /telemetry/ai)', function () {
  this.timeout(60000);
  let rt: NodeRedRuntime;
  let server: FakeOpenAiServer;
  let dbFile: string;
  let failing = false;
  const flows = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as object[];

  before(async function () {
    server = await FakeOpenAiServer.start();
    // Every request (from /predict or from the control loop's windows) gets an answer: the model's, or an error echoing the key.
    server.fallbackScript = (): ScriptedResponse =>
      failing
        ? errorResponse(500, `upstream broke for key ${KEY}`)
        : toolCallCompletion(
            { intensity: 60, cct: 4000, reason: 'occupied, bright enough', confidence: 0.8 },
            { usage: { prompt_tokens: 1000, completion_tokens: 100 } },
          );
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = installDir ? fs.mkdtempSync(path.join(installDir, '..', 'ud-ait-')) : undefined;
    const env = {
      ADMIN_TOKEN: 'e2e-admin-token-ait',
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: `${server.baseUrl}`,
      DB_URL: '',
      AI_PRICE_INPUT_PER_MTOK: '0.15',
      AI_PRICE_OUTPUT_PER_MTOK: '0.6',
    };
    rt = await NodeRedRuntime.start({ userDir, flows, env, settings: NPM_START_SETTINGS });
    dbFile = path.join(rt.userDir, 'smart-lighting.db');
  });

  after(async () => {
    if (rt) await rt.stopAndClean();
    if (server) await server.close();
  });

  async function rows(): Promise<Row[]> {
    return query<Row>(dbFile, "SELECT * FROM telemetry WHERE kind = 'ai' ORDER BY id");
  }

  async function summary(q = ''): Promise<Summary> {
    const r = await rt.request('GET', `/telemetry/ai${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json as Summary;
  }

  it('stores every ai-decide call and answers the summary of the day and the month', async () => {
    const ts = Date.now();
    for (let i = 0; i < 3; i++) {
      const r = await rt.request('POST', '/ingest/sensor', { sensor_id: 'ait-1', zone: ZONE, ts: ts + i, lux: 300 + i, presence: true });
      assert.equal(r.status, 201, r.text);
    }
    const agg = await rt.request('POST', '/admin/aggregate-now', undefined, { Authorization: 'Bearer e2e-admin-token-ait' });
    assert.equal(agg.status, 200, agg.text);
    for (let i = 0; i < 3; i++) {
      const r = await rt.request('POST', '/predict', { zone: ZONE });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json as { source: string }).source, 'ai', r.text);
    }
    failing = true;
    const r = await rt.request('POST', '/predict', { zone: ZONE });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json as { source: string }).source, 'rules', r.text);

    // One row per ai-decide call (3 answered /predict calls, the failing one, and any the control loop made);
    // the rows' attempts add up to the requests the server saw (a failing call is retried). Writes are queued: poll.
    const requests = server.completions.length;
    const attempts = (rs: Row[]): number =>
      rs.reduce((n, row) => n + Number((JSON.parse(String(row.data)) as { attempts: number }).attempts), 0);
    let stored: Row[] = [];
    for (let i = 0; i < 60 && attempts(stored) < requests; i++) {
      stored = await rows();
      if (attempts(stored) < requests) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(attempts(stored), requests, JSON.stringify(stored));
    assert.ok(stored.length >= 4, JSON.stringify(stored));
    const calls = stored.length;
    assert.ok(stored.every((row) => row.zone === ZONE));
    const failed = stored.filter((row) => row.fallback_reason !== null);
    assert.ok(failed.length >= 1 && failed.every((row) => row.fallback_reason === 'server-error'), JSON.stringify(failed));
    const answered = stored.filter((row) => row.fallback_reason === null);
    assert.ok(
      answered.every((row) => row.prompt_tokens === 1000 && row.completion_tokens === 100),
      JSON.stringify(answered),
    );
    const data = JSON.parse(String(stored[0]?.data)) as Record<string, unknown>;
    assert.equal(data.model, 'gpt-4o-mini');
    assert.equal(typeof data.requestBytes, 'number');
    assert.equal(typeof data.windowsSent, 'number');
    assert.equal(data.circuit, 'closed');

    const day = await summary();
    assert.equal(day.calls, calls);
    assert.equal(day.fallbacks, failed.length);
    assert.deepEqual(day.fallbacksByReason, { 'server-error': failed.length });
    assert.equal(day.aiCalls, answered.length);
    assert.deepEqual(day.tokens, { input: 1000 * answered.length, output: 100 * answered.length, total: 1100 * answered.length });
    assert.ok(
      day.latencyMs.p50 !== null && day.latencyMs.p95 !== null && day.latencyMs.p50 <= day.latencyMs.p95,
      JSON.stringify(day.latencyMs),
    );
    assert.deepEqual(day.prices, { inputPerMTok: 0.15, outputPerMTok: 0.6 });
    const cost = (1000 * answered.length * 0.15 + 100 * answered.length * 0.6) / 1e6;
    assert.ok(day.cost !== null && Math.abs(day.cost - cost) < 1e-12, `${day.cost} ~ ${cost}`);
    assert.deepEqual(day.models, { 'gpt-4o-mini': calls });

    const month = await summary(`?month=${String(day.day).slice(0, 7)}&zone=${ZONE}`);
    assert.equal(month.calls, calls);
    assert.equal(month.day, null);
  });

  it('the key never reaches the stored rows, the answers or the log', async () => {
    const all = await query<Record<string, unknown>>(dbFile, 'SELECT * FROM telemetry');
    const text = JSON.stringify(all);
    assert.ok(!text.includes(KEY), text);
    assert.ok(!text.includes('PLANTED'), text);
    const s = await rt.request('GET', '/telemetry/ai');
    assert.ok(!s.text.includes('PLANTED'));
    assert.ok(!rt.logLines.some((l) => l.includes(KEY)), 'runtime log');
  });

  it('refuses a bad query with 400 {detail}', async () => {
    for (const q of ['?day=yesterday', '?month=2026-13', '?day=2026-03-01&month=2026-03', '?month=2999-01']) {
      const r = await rt.request('GET', `/telemetry/ai${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.match((r.json as { detail: string }).detail, /^invalid AI telemetry query: /, q);
    }
  });
});
