/**
 * AiDecider against a local OpenAI-compatible server (test/helpers/fake-openai-server.ts),
 * driven through the real `openai` client.
 */
import type { Setpoint } from '../../../lib/contracts';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  type AiDecision,
  AiConfigError,
  AiDecider,
  type AiDeciderConfig,
  type DecideOptions,
  SYSTEM_PROMPT,
} from '../../../lib/ai/decider';
import type { AiLogger } from '../../../lib/ai/log';
import type { CircuitChange } from '../../../lib/ai/circuit';
import { applyClamps, type ClampContext } from '../../../lib/control/clamps';
import {
  closedPort,
  errorResponse,
  FakeOpenAiServer,
  refusalCompletion,
  textCompletion,
  toolCallCompletion,
} from '../../helpers/fake-openai-server';

const API_KEY = 'sk-test-SECRET-KEY-0123456789abcdef';
const PROFILE = {
  profileId: 'p-secret-42',
  name: 'Alice Example',
  age: 67,
  email: 'alice@example.org',
  minIntensityPct: 20,
  maxStepPct: 10,
  cctBias: 'warm',
  slowerDimDown: true,
};
const PERSONAL_VALUES = ['p-secret-42', 'Alice Example', 'alice@example.org'];

interface Window {
  zone: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  lux: { mean: number; min: number; max: number; std: number; last: number };
  presence: { ratio: number; transitions: number; last: boolean };
  weather?: Record<string, unknown>;
  minuteOfDay: number;
  weekday: number;
}

function windows(n = 3, zone = 'office-1'): Window[] {
  return Array.from({ length: n }, (_, i) => {
    const start = 1_700_000_000_000 + i * 300_000;
    return {
      zone,
      windowStart: start,
      windowEnd: start + 300_000,
      count: 60,
      lux: { mean: 310.25, min: 290, max: 330, std: 11.5, last: 305 },
      presence: { ratio: 0.8, transitions: 1, last: true },
      weather: { temperatureC: 18.2, cloudCoverPct: 60 },
      minuteOfDay: 540 + 5 * i,
      weekday: 3,
    };
  });
}

const RULES_SETPOINT: Setpoint = { zone: 'office-1', intensity: 60, cct: 4000, reason: 'rules: daylight', source: 'rules' };
const CLAMP_CTX: ClampContext = {
  zone: 'office-1',
  occupied: true,
  previous: { intensity: 50, cct: 4000 },
  hints: { minIntensityPct: 20, maxStepPct: 10, cctBias: 'warm', slowerDimDown: true },
};

function options(overrides: Partial<DecideOptions<Window>> = {}): DecideOptions<Window> & { fallbackCalls: number } {
  const o = {
    fallbackCalls: 0,
    hints: PROFILE,
    fallback: (): Setpoint => {
      o.fallbackCalls++;
      return { ...RULES_SETPOINT };
    },
    clamp: (p: Setpoint) => applyClamps(p, CLAMP_CTX),
    ...overrides,
  };
  return o;
}

interface LogLine {
  level: string;
  text: string;
}

function recordingLogger(lines: LogLine[]): AiLogger {
  const at =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void => {
      lines.push({ level, text: meta === undefined ? message : `${message} ${JSON.stringify(meta)}` });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function assertSafe(d: AiDecision): void {
  const s = d.setpoint;
  assert.equal(typeof s.zone, 'string');
  assert.ok(Number.isFinite(s.intensity) && s.intensity >= 0 && s.intensity <= 100, `intensity ${s.intensity}`);
  assert.ok(Number.isFinite(s.cct) && s.cct >= 1800 && s.cct <= 6500, `cct ${s.cct}`);
  assert.ok(['ai', 'rules', 'manual', 'schedule'].includes(s.source));
  assert.equal(typeof s.reason, 'string');
}

function assertFallback(d: AiDecision, reason: string): void {
  assertSafe(d);
  assert.equal(d.telemetry.fallbackReason, reason, `fallbackReason (detail: ${d.telemetry.fallbackDetail})`);
  assert.equal(d.setpoint.source, 'rules');
  assert.equal(d.setpoint.intensity, 60);
  assert.match(d.setpoint.reason, new RegExp(`^rules: daylight; AI not used: ${reason}`));
}

function userContent(body: unknown): string {
  const messages = (body as { messages: { role: string; content: string }[] }).messages;
  const user = messages.find((m) => m.role === 'user');
  assert.ok(user, 'no user message');
  return user.content;
}

describe('ai/decider: AiDecider against a local OpenAI-compatible server', function () {
  this.timeout(10_000);
  let server: FakeOpenAiServer;
  let logs: LogLine[];
  const deciders: AiDecider[] = [];

  function decider(
    config: Partial<AiDeciderConfig> = {},
    deps: { now?: () => number; onCircuitChange?: (c: CircuitChange) => void } = {},
  ): AiDecider {
    const d = new AiDecider(
      { apiKey: API_KEY, baseUrl: server.baseUrl, model: 'gpt-4o-mini', timeoutMs: 3000, maxRetries: 0, ...config },
      { logger: recordingLogger(logs), ...deps },
    );
    deciders.push(d);
    return d;
  }

  beforeEach(async () => {
    server = await FakeOpenAiServer.start();
    logs = [];
  });
  afterEach(async () => {
    await Promise.all(deciders.splice(0).map((d) => d.close()));
    await server.close();
  });

  it('a valid tool call becomes a clamped setpoint with source ai; usage and sizes are recorded', async () => {
    server.script(toolCallCompletion({ intensity: 55, cct: 3500, reason: 'ample daylight, occupied', confidence: 0.8 }));
    const d = await decider().decide(windows(), options());
    assertSafe(d);
    assert.equal(d.setpoint.source, 'ai');
    assert.equal(d.setpoint.zone, 'office-1');
    assert.equal(d.setpoint.intensity, 55);
    assert.equal(d.setpoint.cct, 3500);
    assert.equal(d.setpoint.confidence, 0.8);
    assert.equal(d.setpoint.reason, 'ample daylight, occupied');
    assert.equal(d.telemetry.fallbackReason, undefined);
    assert.equal(d.telemetry.promptTokens, 321);
    assert.equal(d.telemetry.completionTokens, 42);
    assert.equal(d.telemetry.attempts, 1);
    assert.equal(d.telemetry.windowsSent, 3);
    assert.equal(d.telemetry.model, 'gpt-4o-mini');
    assert.equal(d.telemetry.circuit, 'closed');

    assert.equal(server.completions.length, 1);
    const req = server.completions[0];
    assert.ok(req);
    assert.equal(req.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(req.bodyBytes, d.telemetry.requestBytes, 'requestBytes reports the body actually sent');
    const body = req.body as { model: string; tools: unknown[]; tool_choice: unknown; messages: { role: string }[] };
    assert.equal(body.model, 'gpt-4o-mini');
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'set_lighting' } });
    assert.equal(body.tools.length, 1);
    const tool = body.tools[0] as { function: { strict: boolean; parameters: { additionalProperties: boolean } } };
    assert.equal(tool.function.strict, true);
    assert.equal(tool.function.parameters.additionalProperties, false);
    assert.deepEqual(
      body.messages.map((m) => m.role),
      ['system', 'user'],
    );
    const content = userContent(req.body);
    assert.equal(Buffer.byteLength(content, 'utf8'), d.telemetry.payloadBytes);
  });

  it("AI arguments pass through the caller's clamp (floor, profile minimum, max step)", async () => {
    server.script(toolCallCompletion({ intensity: 2, cct: 6500, reason: 'nobody here', confidence: 0.9 }));
    const d = await decider().decide(windows(), options());
    assertSafe(d);
    assert.equal(d.setpoint.source, 'ai');
    // previous 50 %, max step 10 → 40; profile minimum 20 and floor 10 do not bind at 40
    assert.equal(d.setpoint.intensity, 40);
    assert.ok(d.telemetry.clampsFired.includes('clamp:max-step'), d.telemetry.clampsFired.join());
    assert.ok(d.setpoint.fadeMs !== undefined && d.setpoint.fadeMs >= 30_000, 'automatic reduction while occupied fades slowly');
  });

  it('malformed JSON arguments → rules fallback', async () => {
    server.script(toolCallCompletion('{"intensity": 50, "cct": 40'));
    const o = options();
    const d = await decider().decide(windows(), o);
    assertFallback(d, 'invalid-json');
    assert.equal(o.fallbackCalls, 1);
    assert.equal(d.telemetry.promptTokens, 321, 'usage is recorded even when the answer is unusable');
  });

  it('out-of-range or schema-violating arguments → rules fallback naming the field', async () => {
    server.script(
      toolCallCompletion({ intensity: 150, cct: 4000, reason: 'max', confidence: 1 }),
      toolCallCompletion({ intensity: 50, cct: 9000, reason: 'blue', confidence: 1 }),
      toolCallCompletion({ intensity: 50, cct: 4000, reason: 'extra', confidence: 1, fadeMs: 0 }),
    );
    const dec = decider();
    const a = await dec.decide(windows(), options());
    assertFallback(a, 'invalid-arguments');
    assert.match(a.telemetry.fallbackDetail ?? '', /\/intensity/);
    const b = await dec.decide(windows(), options());
    assertFallback(b, 'invalid-arguments');
    assert.match(b.telemetry.fallbackDetail ?? '', /\/cct/);
    assertFallback(await dec.decide(windows(), options()), 'invalid-arguments');
  });

  it('refusal, plain text and a wrong tool name → rules fallback', async () => {
    server.script(
      refusalCompletion('I cannot control lights.'),
      textCompletion('Set the lights to 50 %.'),
      toolCallCompletion({ intensity: 50, cct: 4000, reason: 'r', confidence: 1 }, { name: 'other_tool' }),
    );
    const dec = decider({ circuitFailures: 10 });
    assertFallback(await dec.decide(windows(), options()), 'refusal');
    assertFallback(await dec.decide(windows(), options()), 'no-tool-call');
    assertFallback(await dec.decide(windows(), options()), 'no-tool-call');
  });

  it('429 with retry-after inside the budget: waits and retries', async () => {
    server.script(
      errorResponse(429, 'Rate limit reached', { 'retry-after-ms': '30' }),
      toolCallCompletion({ intensity: 45, cct: 4000, reason: 'ok', confidence: 0.7 }),
    );
    const d = await decider({ maxRetries: 2 }).decide(windows(), options());
    assertSafe(d);
    assert.equal(d.setpoint.source, 'ai');
    assert.equal(d.telemetry.attempts, 2);
    assert.equal(server.completions.length, 2);
  });

  it('429 with a retry-after beyond the budget: falls back at once without waiting', async () => {
    server.script(errorResponse(429, 'Rate limit reached', { 'retry-after': '30' }));
    const d = await decider({ maxRetries: 2, timeoutMs: 2000 }).decide(windows(), options());
    assertFallback(d, 'rate-limited');
    assert.equal(d.telemetry.attempts, 1);
    assert.equal(server.completions.length, 1);
    assert.match(d.telemetry.fallbackDetail ?? '', /retry-after 30000 ms does not fit/);
  });

  it('500 is retried up to maxRetries, then falls back', async () => {
    server.script(errorResponse(500, 'boom'), errorResponse(503, 'overloaded'));
    const d = await decider({ maxRetries: 1, timeoutMs: 5000 }).decide(windows(), options());
    assertFallback(d, 'server-error');
    assert.equal(d.telemetry.attempts, 2);
    assert.equal(server.completions.length, 2);
  });

  it('other 4xx are not retried', async () => {
    server.script(errorResponse(400, "Invalid schema for function 'set_lighting'"));
    const d = await decider({ maxRetries: 2 }).decide(windows(), options());
    assertFallback(d, 'client-error');
    assert.equal(server.completions.length, 1);
  });

  it('a server that never answers: the decision still arrives within the budget', async () => {
    server.fallbackScript = { hang: true };
    const budget = 400;
    const t0 = performance.now();
    const d = await decider({ timeoutMs: budget, maxRetries: 2 }).decide(windows(), options());
    const elapsed = performance.now() - t0;
    assertFallback(d, 'timeout');
    assert.ok(elapsed < budget + 1000, `took ${Math.round(elapsed)} ms for a ${budget} ms budget`);
    assert.equal(server.completions.length, 1);
  });

  it('connection refused (closed port) → network fallback after the retries', async () => {
    const port = await closedPort();
    const d = await decider({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 1, timeoutMs: 3000 }).decide(windows(), options());
    assertFallback(d, 'network');
    assert.equal(d.telemetry.attempts, 2);
    assert.match(d.telemetry.fallbackDetail ?? '', /ECONNREFUSED/);
  });

  it('a 200 that is not JSON → bad-response fallback', async () => {
    server.script({ status: 200, body: '<html>proxy error</html>' });
    assertFallback(await decider().decide(windows(), options()), 'bad-response');
  });

  it('no API key: falls back without any request', async () => {
    const dec = new AiDecider({ apiKey: '  ', baseUrl: server.baseUrl, model: 'gpt-4o-mini' }, { logger: recordingLogger(logs) });
    deciders.push(dec);
    assert.equal(dec.enabled, false);
    assertFallback(await dec.decide(windows(), options()), 'no-api-key');
    assert.equal(server.requests.length, 0);
  });

  it('a payload that cannot fit the cap → payload-cap fallback, no request', async () => {
    const d = await decider({ payloadCapBytes: 40 }).decide(windows(), options());
    assertFallback(d, 'payload-cap');
    assert.equal(server.requests.length, 0);
  });

  it('the circuit opens after N failures, stops calling, then half-opens after the cool-down', async () => {
    let t = 0;
    const changes: CircuitChange[] = [];
    const dec = decider({ circuitFailures: 2, circuitCooldownMs: 60_000 }, { now: () => t, onCircuitChange: (c) => changes.push(c) });
    server.script(errorResponse(500, 'down'), errorResponse(500, 'down'));
    assertFallback(await dec.decide(windows(), options()), 'server-error');
    assert.equal(dec.circuitState, 'closed');
    const second = await dec.decide(windows(), options());
    assertFallback(second, 'server-error');
    assert.equal(dec.circuitState, 'open');
    assert.equal(second.telemetry.circuit, 'open');
    assert.deepEqual(
      changes.map((c) => c.state),
      ['open'],
    );
    assert.equal(changes[0]?.reason, 'server-error');

    t = 59_999;
    const blocked = await dec.decide(windows(), options());
    assertFallback(blocked, 'circuit-open');
    assert.equal(blocked.telemetry.attempts, 0);
    assert.equal(server.completions.length, 2, 'no request while the circuit is open');

    t = 60_000;
    server.script(toolCallCompletion({ intensity: 50, cct: 4000, reason: 'back', confidence: 0.6 }));
    const probe = await dec.decide(windows(), options());
    assert.equal(probe.setpoint.source, 'ai');
    assert.equal(server.completions.length, 3);
    assert.equal(dec.circuitState, 'closed');
    assert.deepEqual(
      changes.map((c) => c.state),
      ['open', 'halfOpen', 'closed'],
    );
    assert.ok(logs.some((l) => l.level === 'warn' && /AI circuit open/.test(l.text)));
  });

  it('a failed half-open probe re-opens the circuit', async () => {
    let t = 0;
    const dec = decider({ circuitFailures: 1, circuitCooldownMs: 1000 }, { now: () => t });
    server.script(errorResponse(500, 'down'), toolCallCompletion('{broken'));
    assertFallback(await dec.decide(windows(), options()), 'server-error');
    assert.equal(dec.circuitState, 'open');
    t = 1000;
    assertFallback(await dec.decide(windows(), options()), 'invalid-json');
    assert.equal(dec.circuitState, 'open');
    assert.equal(dec.circuit().retryAt, 2000);
    assertFallback(await dec.decide(windows(), options()), 'circuit-open');
    assert.equal(server.completions.length, 2);
  });

  it('the request respects the cap and carries no personal field', async () => {
    const ws = windows(3).map((w) => ({
      ...w,
      occupant: 'Alice Example',
      weather: {
        ...w.weather,
        note: 'alice@example.org',
        ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`extra${i}`, i * 1.5])),
      },
    }));
    const cap = 600;
    server.script(toolCallCompletion({ intensity: 55, cct: 4000, reason: 'ok', confidence: 0.5 }));
    const d = await decider({ payloadCapBytes: cap }).decide(ws, options());
    assert.equal(d.setpoint.source, 'ai');
    const req = server.completions[0];
    assert.ok(req);
    const content = userContent(req.body);
    assert.ok(Buffer.byteLength(content, 'utf8') <= cap, `content ${Buffer.byteLength(content, 'utf8')} bytes > cap ${cap}`);
    assert.equal(Buffer.byteLength(content, 'utf8'), d.telemetry.payloadBytes);
    assert.ok(d.telemetry.windowsSent < 3 && d.telemetry.trimmed.includes('oldest-window'));
    for (const v of PERSONAL_VALUES) assert.ok(!req.bodyText.includes(v), `request body carries ${v}`);
    assert.ok(!req.bodyText.includes('"age"') && !req.bodyText.includes('profileId'));
    const sent = JSON.parse(content) as { hints?: Record<string, unknown> };
    assert.deepEqual(sent.hints, { minIntensityPct: 20, maxStepPct: 10, cctBias: 'warm', slowerDimDown: true });
  });

  it('never logs the API key, the profile or the prompt; features only at debug', async () => {
    const keyEchoed = `Incorrect API key provided: ${API_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    server.script(
      toolCallCompletion({ intensity: 55, cct: 4000, reason: 'ok', confidence: 0.5 }),
      errorResponse(401, keyEchoed),
      refusalCompletion(`I refuse, ${API_KEY}`),
      { hang: true },
    );
    const dec = decider({ timeoutMs: 300, circuitFailures: 100 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await dec.decide(windows(), options()));
    assert.deepEqual(
      results.map((r) => r.telemetry.fallbackReason),
      [undefined, 'client-error', 'refusal', 'timeout'],
    );
    const everything = [
      ...logs.map((l) => l.text),
      ...results.flatMap((r) => [r.setpoint.reason, r.telemetry.fallbackDetail ?? '', JSON.stringify(r.telemetry)]),
    ];
    assert.ok(logs.length > 0);
    for (const text of everything) {
      assert.ok(!text.includes(API_KEY), `key leaked: ${text}`);
      assert.ok(!text.includes('SECRET-KEY'), `part of the key leaked: ${text}`);
      for (const v of PERSONAL_VALUES) assert.ok(!text.includes(v), `profile value leaked: ${text}`);
      assert.ok(!text.includes(SYSTEM_PROMPT.slice(0, 40)), 'system prompt logged');
    }
    const featureLines = logs.filter((l) => l.text.includes('"features"'));
    assert.ok(featureLines.length > 0, 'derived features are logged at debug');
    assert.ok(featureLines.every((l) => l.level === 'debug'));
    assert.ok(results[1]?.telemetry.fallbackDetail?.includes('[redacted]'));
  });

  it('an invalid config throws AiConfigError without echoing the key', () => {
    assert.throws(
      () => new AiDecider({ apiKey: API_KEY, payloadBatchLimit: 4 }),
      (e: unknown) => e instanceof AiConfigError && e.field === 'payloadBatchLimit',
    );
    assert.throws(
      () => new AiDecider({ apiKey: API_KEY, baseUrl: 'ftp://x' }),
      (e: unknown) => e instanceof AiConfigError && !String(e).includes(API_KEY),
    );
    assert.throws(() => new AiDecider({ apiKey: API_KEY, timeoutMs: 0 }), AiConfigError);
  });

  it('a throwing fallback or clamp still ends in a safe setpoint', async () => {
    const noKey = new AiDecider({ model: 'm' });
    deciders.push(noKey);
    const d1 = await noKey.decide(
      windows(),
      options({
        fallback: () => {
          throw new Error('rules broken');
        },
      }),
    );
    assertSafe(d1);
    assert.equal(d1.setpoint.source, 'rules');
    assert.deepEqual([d1.setpoint.intensity, d1.setpoint.cct], [100, 4000]);
    assert.match(d1.setpoint.reason, /safe default/);

    // AI answer fine but the clamp throws: the AI answer is not used
    server.script(toolCallCompletion({ intensity: 55, cct: 4000, reason: 'ok', confidence: 0.5 }));
    const d2 = await decider().decide(
      windows(),
      options({
        clamp: () => {
          throw new Error('clamp broken');
        },
      }),
    );
    assertSafe(d2);
    assert.equal(d2.setpoint.source, 'rules');
    assert.equal(d2.telemetry.fallbackReason, 'internal');

    // a clamp returning garbage is not trusted either
    server.script(toolCallCompletion({ intensity: 55, cct: 4000, reason: 'ok', confidence: 0.5 }));
    const d3 = await decider().decide(windows(), options({ clamp: (p) => ({ ...p, intensity: NaN }) }));
    assertSafe(d3);
    assert.notEqual(d3.setpoint.source, 'ai');
  });

  it('close() ends a decision in flight with the fallback and refuses new calls', async () => {
    server.fallbackScript = { hang: true };
    const dec = decider({ timeoutMs: 10_000 });
    const pending = dec.decide(windows(), options());
    await new Promise((r) => setTimeout(r, 50));
    await dec.close();
    assertFallback(await pending, 'closed');
    const after = await dec.decide(windows(), options());
    assertFallback(after, 'closed');
    assert.equal(server.completions.length, 1);
    assert.equal(dec.circuitState, 'closed', 'closing is not a failure');
  });
});
