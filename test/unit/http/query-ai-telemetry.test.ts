/**
 * AI telemetry (lib/http/query-ai-telemetry): the stored row keeps only the
 * listed fields of ai-decide's message (a planted key and profile never reach
 * it), the summary (percentiles, fallbacks by reason, tokens, cost with
 * unknown prices = null), the day/month request checks, and the report read
 * page by page from a real SQLite store through runQuery('telemetry-ai').
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  aiTelemetryRow,
  AiTelemetrySummer,
  aiTelemetryReport,
  localMonthBounds,
  percentile,
  priceOf,
  pricesFromEnv,
  readAiTelemetryRequest,
  tokenCost,
} from '../../../lib/http/query-ai-telemetry';
import { validateApiInput } from '../../../lib/http/api-request';
import { runQuery } from '../../../lib/http/query-api';
import { LightingStore } from '../../../lib/store';

const KEY = 'sk-PLANTEDtestKEY0123456789abcdef';

function call(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ts: Date.UTC(2026, 2, 10, 12),
    kind: 'ai-call',
    zone: 'office-1',
    model: 'gpt-4o-mini',
    outcome: 'ai',
    latencyMs: 120,
    promptTokens: 1000,
    completionTokens: 100,
    payloadBytes: 900,
    requestBytes: 1500,
    windowsSent: 3,
    trimmed: [],
    attempts: 1,
    clampsFired: ['maxStep'],
    circuit: 'closed',
    msgId: 'm1',
    ...over,
  };
}

describe('lib/http/query-ai-telemetry', function () {
  describe('aiTelemetryRow', function () {
    it('keeps the listed fields, kind "ai"', function () {
      const row = aiTelemetryRow(call({ outcome: 'fallback', fallbackReason: 'timeout', fallbackDetail: 'no answer in 8000 ms' }));
      assert.ok(row);
      assert.equal(row.kind, 'ai');
      assert.equal(row.zone, 'office-1');
      assert.equal(row.latencyMs, 120);
      assert.equal(row.promptTokens, 1000);
      assert.equal(row.completionTokens, 100);
      assert.equal(row.payloadBytes, 900);
      assert.equal(row.fallbackReason, 'timeout');
      assert.deepEqual(row.data, {
        model: 'gpt-4o-mini',
        outcome: 'fallback',
        requestBytes: 1500,
        windowsSent: 3,
        trimmed: [],
        attempts: 1,
        clampsFired: ['maxStep'],
        circuit: 'closed',
        fallbackDetail: 'no answer in 8000 ms',
        msgId: 'm1',
      });
    });

    it('never copies a key or profile data, and masks a key in the detail', function () {
      const row = aiTelemetryRow(
        call({
          apiKey: KEY,
          headers: { authorization: `Bearer ${KEY}` },
          profile: { preferredLux: 321, secretNote: 'PROFILE-MARKER' },
          hints: { ai: 'PROFILE-MARKER' },
          fallbackReason: 'http-401',
          fallbackDetail: `Incorrect API key provided: ${KEY}`,
        }),
      );
      const text = JSON.stringify(row);
      assert.ok(!text.includes(KEY), text);
      assert.ok(!text.includes('PLANTED'), text);
      assert.ok(!text.includes('PROFILE-MARKER'), text);
      assert.ok(!text.includes('321'), text);
    });

    it('is null for other telemetry and bad payloads', function () {
      assert.equal(aiTelemetryRow({ kind: 'dali-error', ts: 1 }), null);
      assert.equal(aiTelemetryRow(call({ ts: 'soon' })), null);
      assert.equal(aiTelemetryRow('x'), null);
      assert.equal(aiTelemetryRow(null), null);
    });
  });

  describe('summary', function () {
    it('percentile is nearest rank', function () {
      const xs = Array.from({ length: 100 }, (_, i) => i + 1);
      assert.equal(percentile(xs, 50), 50);
      assert.equal(percentile(xs, 95), 95);
      assert.equal(percentile([7], 95), 7);
      assert.equal(percentile([1, 2], 50), 1);
      assert.equal(percentile([], 50), null);
    });

    it('counts calls, fallbacks by reason, tokens, latency and cost', function () {
      const sum = new AiTelemetrySummer();
      const rec = (
        o: Partial<{
          latencyMs: number | null;
          promptTokens: number | null;
          completionTokens: number | null;
          fallbackReason: string | null;
          model: string;
        }>,
      ) => ({
        latencyMs: o.latencyMs === undefined ? 100 : o.latencyMs,
        promptTokens: o.promptTokens === undefined ? 1000 : o.promptTokens,
        completionTokens: o.completionTokens === undefined ? 200 : o.completionTokens,
        fallbackReason: o.fallbackReason ?? null,
        data: { model: o.model ?? 'm1' },
      });
      for (let i = 1; i <= 18; i++) sum.add(rec({ latencyMs: i * 10 }));
      sum.add(rec({ fallbackReason: 'timeout', latencyMs: 8000, promptTokens: null, completionTokens: null }));
      sum.add(rec({ fallbackReason: 'circuit-open', latencyMs: 0, promptTokens: null, completionTokens: null, model: 'm2' }));
      const s = sum.summary({ inputPerMTok: 0.15, outputPerMTok: 0.6 });
      assert.equal(s.calls, 20);
      assert.equal(s.aiCalls, 18);
      assert.equal(s.fallbacks, 2);
      assert.deepEqual(s.fallbacksByReason, { 'circuit-open': 1, timeout: 1 });
      assert.deepEqual(s.tokens, { input: 18000, output: 3600, total: 21600 });
      assert.equal(s.callsWithoutTokens, 2);
      // latencies: 0, 10..180, 8000 (20 values): rank 10 = 90, rank 19 = 180.
      assert.deepEqual(s.latencyMs, { p50: 90, p95: 180, max: 8000 });
      assert.ok(s.cost !== null && Math.abs(s.cost - (0.018 * 0.15 + 0.0036 * 0.6)) < 1e-12, String(s.cost));
      assert.deepEqual(s.models, { m1: 19, m2: 1 });
    });

    it('an unknown price gives cost null; no calls gives null percentiles', function () {
      const s = new AiTelemetrySummer().summary({ inputPerMTok: null, outputPerMTok: 1 });
      assert.equal(s.cost, null);
      assert.deepEqual(s.latencyMs, { p50: null, p95: null, max: null });
      assert.equal(tokenCost(1e6, 1e6, { inputPerMTok: 2, outputPerMTok: 3 }), 5);
      assert.equal(tokenCost(0, 0, { inputPerMTok: 0, outputPerMTok: 0 }), 0);
    });

    it('prices from the environment: blank, negative or text = null', function () {
      assert.deepEqual(pricesFromEnv({ AI_PRICE_INPUT_PER_MTOK: '0.15', AI_PRICE_OUTPUT_PER_MTOK: ' 0.6 ' }), {
        inputPerMTok: 0.15,
        outputPerMTok: 0.6,
      });
      assert.deepEqual(pricesFromEnv({}), { inputPerMTok: null, outputPerMTok: null });
      for (const bad of ['', 'abc', '-1', 'Infinity', 'NaN']) assert.equal(priceOf(bad), null, bad);
      assert.equal(priceOf(0), 0);
    });
  });

  describe('the request', function () {
    it('day or month, not both; zone and gateway; 400 messages', function () {
      assert.deepEqual(readAiTelemetryRequest({ day: '2026-03-10', zone: 'z' }), { ok: true, value: { day: '2026-03-10', zone: 'z' } });
      assert.deepEqual(readAiTelemetryRequest({ month: '2026-03', gateway: 'g' }), { ok: true, value: { month: '2026-03', gateway: 'g' } });
      assert.deepEqual(readAiTelemetryRequest(undefined), { ok: true, value: {} });
      for (const q of [
        { day: '2026-02-30' },
        { month: '2026-13' },
        { month: '2026-3' },
        { day: '2026-03-10', month: '2026-03' },
        { zone: '' + 'x'.repeat(101) },
        { day: 5 },
        'day=x',
      ]) {
        const r = readAiTelemetryRequest(q);
        assert.equal(r.ok, false, JSON.stringify(q));
        assert.match((r as { message: string }).message, /^invalid AI telemetry query: /);
      }
      const future = readAiTelemetryRequest({ month: '2999-01' }, Date.now());
      assert.equal(future.ok, false);
    });

    it('localMonthBounds', function () {
      const b = localMonthBounds('2026-12');
      assert.ok(b);
      assert.equal(new Date(b.from).getMonth(), 11);
      assert.equal(new Date(b.to).getFullYear(), 2027);
      assert.equal(localMonthBounds('1969-12'), null);
    });

    it('api-guard operation telemetry-ai validates the query', function () {
      const okAnswer = validateApiInput('telemetry-ai', { payload: undefined, query: { month: '2026-03', zone: 'office-1' } });
      assert.equal(okAnswer.ok, true);
      const bad = validateApiInput('telemetry-ai', { payload: undefined, query: { day: 'yesterday' } });
      assert.equal(bad.ok, false);
    });
  });

  describe('the report from a store', function () {
    let dir: string;
    let store: LightingStore;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-telemetry-'));
      store = await LightingStore.open({ path: path.join(dir, 't.db') });
    });
    after(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reads the period page by page; other kinds, zones and periods are left out', async () => {
      const day = new Date(2026, 2, 10, 9).getTime();
      for (let i = 0; i < 25; i++) {
        const row = aiTelemetryRow(
          call({ ts: day + i * 60_000, latencyMs: 100 + i, ...(i % 5 === 0 ? { outcome: 'fallback', fallbackReason: 'timeout' } : {}) }),
        );
        assert.ok(row);
        await store.insert('telemetry', row);
      }
      await store.insert('telemetry', aiTelemetryRow(call({ ts: day, zone: 'lab' }))!);
      await store.insert('telemetry', aiTelemetryRow(call({ ts: new Date(2026, 2, 11, 9).getTime() }))!);
      await store.insert('telemetry', aiTelemetryRow(call({ ts: new Date(2026, 3, 1, 9).getTime() }))!);
      await store.insert('telemetry', { ts: day, zone: 'office-1', kind: 'dali-error', latencyMs: 99999 });
      await store.flush();
      const prices = { inputPerMTok: 1, outputPerMTok: 2 };
      const small = await aiTelemetryReport(store, { day: '2026-03-10', zone: 'office-1' }, { prices, pageRows: 4 });
      const big = await aiTelemetryReport(store, { day: '2026-03-10', zone: 'office-1' }, { prices });
      assert.deepEqual(small, big);
      assert.equal(big.calls, 25);
      assert.equal(big.fallbacks, 5);
      assert.deepEqual(big.fallbacksByReason, { timeout: 5 });
      assert.deepEqual(big.tokens, { input: 25000, output: 2500, total: 27500 });
      assert.equal(big.latencyMs.p50, 112);
      assert.equal(big.latencyMs.p95, 123); // nearest rank: ceil(0.95 * 25) = 24th of 100..124
      assert.ok(big.cost !== null && Math.abs(big.cost - 0.03) < 1e-12);
      assert.equal(big.day, '2026-03-10');
      assert.equal(big.month, null);
      const month = await aiTelemetryReport(store, { month: '2026-03' }, { prices: { inputPerMTok: null, outputPerMTok: null } });
      assert.equal(month.calls, 27);
      assert.equal(month.cost, null);
      // The rows as stored hold no key.
      const page = await store.telemetry({ kind: 'ai', limit: 1000 });
      assert.ok(!JSON.stringify(page.items).includes('sk-'));
    });

    it("runQuery('telemetry-ai'): env prices, 400 for bad input", async () => {
      const a = await runQuery(
        'telemetry-ai',
        store,
        { month: '2026-03' },
        { env: { AI_PRICE_INPUT_PER_MTOK: '1', AI_PRICE_OUTPUT_PER_MTOK: '2' } },
      );
      assert.equal(a.statusCode, 200);
      const p = a.payload as { calls: number; cost: number; prices: unknown };
      assert.equal(p.calls, 27);
      assert.deepEqual(p.prices, { inputPerMTok: 1, outputPerMTok: 2 });
      const noPrice = await runQuery('telemetry-ai', store, { month: '2026-03' }, { env: { AI_PRICE_INPUT_PER_MTOK: 'abc' } });
      assert.equal((noPrice.payload as { cost: unknown }).cost, null);
      const bad = await runQuery('telemetry-ai', store, { month: 'March' }, { env: {} });
      assert.equal(bad.statusCode, 400);
      assert.match((bad.payload as { detail: string }).detail, /month must be YYYY-MM/);
      // /telemetry (the decisions query) lists the ai rows with their kind when asked for kind=ai; decisions otherwise.
      await store.insert(
        'decisions',
        { ts: Date.now(), zone: 'office-1', source: 'rules', intensity: 50, cct: 4000, applied: true },
        { waitForCommit: true },
      );
      const list = await runQuery('decisions', store, { kind: 'ai', limit: 5 });
      const items = (list.payload as { items: Array<{ kind: string; source?: string }>; total: number }).items;
      assert.equal(items.length, 5);
      assert.ok(items.every((i) => i.kind === 'ai' && i.source === undefined));
      assert.equal((list.payload as { total: number }).total, 28);
      const decisions = await runQuery('decisions', store, { limit: 5 });
      const d = (decisions.payload as { items: Array<{ source: string; kind?: string }> }).items;
      assert.equal(d.length, 1);
      assert.equal(d[0]?.source, 'rules');
      assert.equal(d[0]?.kind, undefined);
    });
  });
});
