/**
 * ai-decide with an ai-provider in the Node-RED runtime (node-red-node-test-helper),
 * asking a local OpenAI-compatible server (test/helpers/fake-openai-server.ts)
 * through the real `openai` client.
 */
import { type DecisionWindow, type Setpoint } from '../../lib/contracts';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';
import { i18n } from '@node-red/util';
import aiDecide from '../../nodes/ai-decide/ai-decide';
import aiProvider from '../../nodes/ai-provider/ai-provider';
import { RulesController } from '../../lib/control';
import { encryptProfile, Fernet } from '../../lib/crypto';
import { closedPort, errorResponse, FakeOpenAiServer, type ScriptedResponse, toolCallCompletion } from '../helpers/fake-openai-server';
import { asNodeSet, helper, nodeById, PACKAGE, redeploy, registerCatalogues, ROOT } from './helpers';

const KEY = 'sk-test-NEVER-LEAK-0123456789abcdef';
const MODULES: Record<string, NodeInitializer> = { 'ai-decide': aiDecide, 'ai-provider': aiProvider };

/** The module as Node-RED's registry loads it: `_` bound to its own catalogue. */
function nodeSet(type: string): NodeInitializer {
  return asNodeSet(type, MODULES[type]);
}

function text(key: string, subs: Record<string, string | number> = {}): string {
  return i18n._(`${PACKAGE}/ai-decide:ai-decide.${key}`, subs);
}

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);

function win(i: number, zone = 'office-1', over: Partial<DecisionWindow> = {}): DecisionWindow {
  const start = T0 + i * 300_000;
  return {
    zone,
    windowStart: start,
    windowEnd: start + 300_000,
    count: 60,
    lux: { mean: 310.5, min: 290, max: 330, std: 11.5, last: 305 },
    presence: { ratio: 0.9, transitions: 1, last: true },
    minuteOfDay: 540 + 5 * i,
    weekday: 2,
    ...over,
  };
}

const ARGS = { intensity: 72.5, cct: 4200, reason: 'bright morning, occupied', confidence: 0.8 };

interface Rig {
  n1: Node;
  /** The flow the rig deployed. */
  flow: FlowNodeDef[];
  prov: Node & { settings: Record<string, unknown> };
  setpoints: NodeMessage[];
  telemetry: NodeMessage[];
  errors: Array<NodeMessage & { error: { message: string } }>;
  /** Resolves when `out` has received `n` messages. */
  waitFor(out: 'setpoints' | 'telemetry' | 'errors', n: number): Promise<void>;
}

interface RigOptions {
  decide?: Record<string, unknown>;
  provider?: Record<string, unknown> | null;
  apiKey?: string | null;
}

async function rig(server: FakeOpenAiServer | null, o: RigOptions = {}): Promise<Rig> {
  const flow: FlowNodeDef[] = [
    { id: 'f1', type: 'tab' },
    {
      id: 'n1',
      type: 'ai-decide',
      z: 'f1',
      provider: o.provider === null ? '' : 'prov1',
      payloadCapBytes: '2048',
      payloadBatchLimit: '3',
      circuitFailures: '3',
      circuitCooldownS: '300',
      ...o.decide,
      wires: [['out1'], ['tel1']],
    },
    { id: 'out1', type: 'helper', z: 'f1', wires: [] },
    { id: 'tel1', type: 'helper', z: 'f1', wires: [] },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['n1'], uncaught: false, wires: [['err1']] },
    { id: 'err1', type: 'helper', z: 'f1', wires: [] },
  ];
  if (o.provider !== null) {
    flow.push({
      id: 'prov1',
      type: 'ai-provider',
      name: 'test',
      model: 'gpt-4o-mini',
      baseUrl: server ? server.baseUrl : '',
      timeoutMs: '3000',
      maxRetries: '0',
      ...o.provider,
    });
  }
  const creds: Record<string, Record<string, string>> = o.apiKey === null || o.provider === null
    ? {}
    : { prov1: { apiKey: o.apiKey ?? KEY } };
  await helper.load([nodeSet('ai-provider'), nodeSet('ai-decide')], flow, creds);
  const r = {
    n1: helper.getNode('n1') as Node,
    flow,
    prov: helper.getNode('prov1') as Rig['prov'],
    setpoints: [] as NodeMessage[],
    telemetry: [] as NodeMessage[],
    errors: [] as Rig['errors'],
    waiters: [] as Array<() => void>,
  };
  const collect = (id: string, into: NodeMessage[]): void => {
    (helper.getNode(id) as Node).on('input', (msg: NodeMessage) => {
      into.push(msg);
      for (const w of r.waiters.splice(0)) w();
    });
  };
  collect('out1', r.setpoints);
  collect('tel1', r.telemetry);
  collect('err1', r.errors);
  return {
    ...r,
    waitFor(out, n) {
      return new Promise<void>((resolve) => {
        const check = (): void => {
          if (r[out].length >= n) resolve();
          else r.waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Send one message and wait for its setpoint (and telemetry). */
async function decide(
  r: Rig,
  payload: unknown,
  extra: Record<string, unknown> = {},
): Promise<{ sp: Setpoint; tel: Record<string, unknown>; msg: NodeMessage }> {
  const n = r.setpoints.length;
  const t = r.telemetry.filter((m) => m.topic === 'telemetry').length;
  r.n1.receive({ payload, ...extra } as NodeMessage);
  await r.waitFor('setpoints', n + 1);
  while (r.telemetry.filter((m) => m.topic === 'telemetry').length < t + 1) await r.waitFor('telemetry', r.telemetry.length + 1);
  const msg = r.setpoints[n];
  const tel = r.telemetry.filter((m) => m.topic === 'telemetry')[t].payload as Record<string, unknown>;
  return { sp: msg.payload as Setpoint, tel, msg };
}

/** What the rules alone decide for these windows, in order (same settings as the node's defaults). */
function rulesSetpoint(ws: DecisionWindow[], settings: Record<string, unknown> = {}): Setpoint {
  const rules = new RulesController({ warmestKelvin: 2700, coolestKelvin: 5000, safeKelvin: 4000, ...settings });
  let sp: Setpoint | undefined;
  for (const w of ws) sp = rules.decide(w).setpoint;
  return sp as Setpoint;
}

function userContent(req: { body: unknown }): { zone?: string; hints?: Record<string, unknown>; windows: Array<Record<string, unknown>> } {
  const body = req.body as { messages: Array<{ role: string; content: string }> };
  return JSON.parse(body.messages[1].content) as ReturnType<typeof userContent>;
}

function statusCalls(node: Node): unknown[] {
  const spy = node.status as unknown as { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

function lastStatus(node: Node): unknown {
  const calls = statusCalls(node);
  return calls[calls.length - 1];
}

describe('ai-decide node (fake OpenAI server, real openai client)', function () {
  let server: FakeOpenAiServer;
  const saved = { key: process.env.OPENAI_API_KEY, fernet: process.env.FERNET_KEY };

  before(async () => {
    await registerCatalogues(Object.keys(MODULES));
  });

  beforeEach(async () => {
    delete process.env.OPENAI_API_KEY;
    server = await FakeOpenAiServer.start();
  });

  afterEach(async () => {
    await helper.unload();
    await server.close();
    for (const [name, v] of [
      ['OPENAI_API_KEY', saved.key],
      ['FERNET_KEY', saved.fernet],
    ] as const) {
      if (v === undefined) delete process.env[name];
      else process.env[name] = v;
    }
  });

  describe('a valid tool call', () => {
    it('becomes an "ai" setpoint, clamped to the fixture and the occupied floor, with telemetry', async () => {
      server.script(toolCallCompletion({ ...ARGS, cct: 6500 }), toolCallCompletion({ ...ARGS, intensity: 0 }));
      const r = await rig(server, { decide: { maxKelvin: '5000' } });
      assert.deepEqual(lastStatus(r.n1), { fill: 'grey', shape: 'ring', text: text('status.idle') });

      const first = await decide(r, win(0));
      assert.equal(first.sp.source, 'ai');
      assert.equal(first.sp.zone, 'office-1');
      assert.equal(first.sp.intensity, 72.5);
      assert.equal(first.sp.cct, 5000, 'the model asked 6500 K, the fixture stops at 5000 K');
      assert.equal(first.sp.confidence, 0.8);
      assert.match(first.sp.reason, /^bright morning, occupied/);
      assert.match(first.sp.reason, /clamp:cct-range/);
      assert.deepEqual(statusCalls(r.n1).slice(-2), [
        { fill: 'yellow', shape: 'dot', text: text('status.deciding') },
        { fill: 'green', shape: 'dot', text: text('status.ai') },
      ]);

      const req = server.completions[0];
      assert.equal(req.headers.authorization, `Bearer ${KEY}`, 'the key goes in the authorization header');
      const sent = userContent(req);
      assert.equal(sent.zone, 'office-1');
      assert.equal(sent.windows.length, 1);
      assert.equal((req.body as { model: string }).model, 'gpt-4o-mini');
      const content = (req.body as { messages: Array<{ content: string }> }).messages[1].content;
      assert.equal(first.tel.outcome, 'ai');
      assert.equal(first.tel.fallbackReason, undefined);
      assert.equal(first.tel.kind, 'ai-call');
      assert.equal(first.tel.zone, 'office-1');
      assert.equal(first.tel.model, 'gpt-4o-mini');
      assert.equal(first.tel.promptTokens, 321);
      assert.equal(first.tel.completionTokens, 42);
      assert.equal(first.tel.payloadBytes, Buffer.byteLength(content, 'utf8'));
      assert.equal(first.tel.requestBytes, req.bodyBytes);
      assert.equal(first.tel.windowsSent, 1);
      assert.equal(first.tel.circuit, 'closed');
      assert.equal(first.tel.msgId, first.msg._msgid);
      assert.deepEqual(first.tel.clampsFired, ['clamp:cct-range']);
      assert.equal(typeof first.tel.latencyMs, 'number');

      // Occupied: the model's "off" is lifted to the floor and fades down slowly.
      const second = await decide(r, win(1));
      assert.equal(second.sp.source, 'ai');
      assert.equal(second.sp.intensity, 10);
      assert.ok((second.sp.fadeMs ?? 0) >= 30_000, `fadeMs ${second.sp.fadeMs}`);
      assert.ok((second.tel.clampsFired as string[]).includes('clamp:floor'));
      assert.equal(userContent(server.completions[1]).windows.length, 2, 'the hot path holds both windows');
    });

    it('keeps the floor during the occupancy hold and without presence data, honours "off" once the zone is vacant', async () => {
      server.fallbackScript = toolCallCompletion({ ...ARGS, intensity: 0 });
      const r = await rig(server);
      const empty = { presence: { ratio: 0, transitions: 0, last: false } };
      const occupied = await decide(r, win(0));
      assert.equal(occupied.sp.intensity, 10);
      const hold = await decide(r, win(1, 'office-1', empty)); // 5 min after the last presence, hold 15 min
      assert.equal(hold.sp.source, 'ai');
      assert.equal(hold.sp.intensity, 10);
      const vacant = await decide(r, win(6, 'office-1', empty)); // 30 min after
      assert.equal(vacant.sp.source, 'ai');
      assert.equal(vacant.sp.intensity, 0);
      const unknown = await decide(r, win(0, 'store-room', { presence: null }));
      assert.equal(unknown.sp.intensity, 10, 'no presence reading: in doubt, occupied');
    });

    it('sends the last windows of the zone, oldest first, up to the batch limit', async () => {
      server.fallbackScript = toolCallCompletion(ARGS);
      const r = await rig(server, { decide: { payloadBatchLimit: '2' } });
      await decide(r, win(0));
      await decide(r, win(1));
      await decide(r, win(2));
      const other = await decide(r, win(3, 'corridor'));
      const sent = server.completions.map(userContent);
      assert.deepEqual(
        sent.map((c) => c.windows.map((w) => w.windowStart)),
        [[win(0).windowStart], [win(0).windowStart, win(1).windowStart], [win(1).windowStart, win(2).windowStart], [win(3).windowStart]],
      );
      assert.equal(sent[3].zone, 'corridor');
      assert.equal(other.sp.zone, 'corridor');
      assert.equal(other.tel.windowsSent, 1);
    });

    it('takes an array of windows: one request and one setpoint per zone', async () => {
      server.fallbackScript = toolCallCompletion(ARGS);
      const r = await rig(server);
      const { sp, tel } = await decide(r, [win(2), win(0), win(1)]);
      assert.equal(sp.source, 'ai');
      assert.equal(tel.windowsSent, 3);
      assert.deepEqual(
        userContent(server.completions[0]).windows.map((w) => w.windowStart),
        [0, 1, 2].map((i) => win(i).windowStart),
      );
      r.n1.receive({ payload: [win(3), win(3, 'corridor')] } as NodeMessage);
      await r.waitFor('setpoints', 3);
      assert.deepEqual(
        r.setpoints
          .slice(1)
          .map((m) => (m.payload as Setpoint).zone)
          .sort(),
        ['corridor', 'office-1'],
      );
      assert.equal(server.completions.length, 3);
    });
  });

  describe('whenever the model cannot be used, the rules decide and telemetry says why', () => {
    const cases: Array<{ name: string; code: string; script?: ScriptedResponse[]; provider?: Record<string, unknown>; attempts: number }> =
      [
        {
          name: 'malformed JSON arguments',
          code: 'invalid-json',
          script: [toolCallCompletion('{"intensity": 50, "cct": 40')],
          attempts: 1,
        },
        {
          name: 'out-of-range arguments',
          code: 'invalid-arguments',
          script: [toolCallCompletion({ ...ARGS, intensity: 150 })],
          attempts: 1,
        },
        {
          name: '429 whose retry-after does not fit the budget',
          code: 'rate-limited',
          script: [errorResponse(429, 'slow down', { 'retry-after': '30' })],
          provider: { maxRetries: '2' },
          attempts: 1,
        },
        {
          name: '500 on every attempt',
          code: 'server-error',
          script: [errorResponse(500, 'boom'), errorResponse(500, 'boom again', { 'retry-after-ms': '10' })],
          provider: { maxRetries: '1' },
          attempts: 2,
        },
        { name: 'a server that never answers', code: 'timeout', script: [{ hang: true }], provider: { timeoutMs: '300' }, attempts: 1 },
        { name: 'connection refused', code: 'network', provider: { baseUrl: 'closed' }, attempts: 1 },
      ];
    for (const c of cases) {
      it(`${c.name} → ${c.code}`, async () => {
        if (c.script) server.script(...c.script);
        const provider = { ...c.provider };
        if (provider.baseUrl === 'closed') provider.baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
        const r = await rig(server, { provider });
        const { sp, tel } = await decide(r, win(0));
        const rules = rulesSetpoint([win(0)]);
        assert.equal(sp.source, 'rules');
        assert.equal(sp.intensity, rules.intensity);
        assert.equal(sp.cct, rules.cct);
        assert.ok(sp.reason.startsWith(rules.reason), sp.reason);
        assert.match(sp.reason, new RegExp(`AI not used: ${c.code}`));
        assert.equal(tel.outcome, 'fallback');
        assert.equal(tel.fallbackReason, c.code);
        assert.equal(tel.attempts, c.attempts);
        assert.equal(tel.circuit, 'closed');
        assert.deepEqual(lastStatus(r.n1), { fill: 'yellow', shape: 'ring', text: text('status.fallback', { reason: c.code }) });
      });
    }

    it('429 with a short retry-after is retried within the budget', async () => {
      server.script(errorResponse(429, 'slow down', { 'retry-after-ms': '20' }), toolCallCompletion(ARGS));
      const r = await rig(server, { provider: { maxRetries: '2' } });
      const { sp, tel } = await decide(r, win(0));
      assert.equal(sp.source, 'ai');
      assert.equal(tel.attempts, 2);
      assert.equal(server.completions.length, 2);
    });

    it('without an API key decides by the rules only and never calls the server', async () => {
      const r = await rig(server, { apiKey: null });
      const rulesOnly = { fill: 'grey', shape: 'ring', text: text('status.noApiKey') };
      assert.deepEqual(lastStatus(r.n1), rulesOnly);
      assert.equal((r.n1 as Node & { hasApiKey: boolean }).hasApiKey, false);
      const a = await decide(r, win(0));
      const b = await decide(r, win(1));
      assert.equal(a.sp.source, 'rules');
      assert.deepEqual(b.sp.intensity, rulesSetpoint([win(0), win(1)]).intensity);
      assert.equal(b.tel.fallbackReason, 'no-api-key');
      assert.equal(b.tel.requestBytes, 0);
      assert.deepEqual(lastStatus(r.n1), rulesOnly);
      assert.equal(server.requests.length, 0);
    });

    it('uses the OPENAI_API_KEY environment variable when the credential is blank', async () => {
      process.env.OPENAI_API_KEY = 'sk-env-0123456789';
      server.script(toolCallCompletion(ARGS));
      const r = await rig(server, { apiKey: null });
      const { sp } = await decide(r, win(0));
      assert.equal(sp.source, 'ai');
      assert.equal(server.completions[0].headers.authorization, 'Bearer sk-env-0123456789');
    });

    it('the fallback rules keep their zone state through a redeploy: an occupied room stays in its hold', async () => {
      const r = await rig(null, { provider: null });
      const still = win(1, 'office-1', { presence: { ratio: 0, transitions: 0, last: false } });
      await decide(r, win(0));
      await redeploy(r.flow.map((n) => (n.id === 'n1' ? { ...n, name: 'edited' } : n)));
      const again = nodeById('n1');
      assert.notEqual(again, r.n1, 'the node was recreated');
      r.n1 = again;
      const { sp } = await decide(r, still);
      assert.equal(sp.source, 'rules');
      assert.deepEqual(sp, { ...rulesSetpoint([win(0), still]), reason: sp.reason });
      assert.match(sp.reason, /occupancy:hold/);
      assert.notEqual(sp.intensity, rulesSetpoint([still]).intensity, 'a fresh controller would have taken the zone to absence');
    });

    it('without an AI provider decides by the rules only', async () => {
      const r = await rig(null, { provider: null });
      assert.deepEqual(lastStatus(r.n1), { fill: 'grey', shape: 'ring', text: text('status.noProvider') });
      const { sp, tel } = await decide(r, win(0));
      assert.equal(sp.source, 'rules');
      assert.equal(tel.fallbackReason, 'no-api-key');
    });
  });

  describe('circuit breaker', () => {
    it('opens after N failures: an alert on output 2, a red status, and no more requests', async () => {
      server.fallbackScript = errorResponse(500, 'down');
      const r = await rig(server, { decide: { circuitFailures: '2', circuitCooldownS: '600' } });
      const first = await decide(r, win(0));
      assert.equal(first.tel.fallbackReason, 'server-error');
      assert.equal(r.telemetry.filter((m) => m.topic === 'alert').length, 0);

      const second = await decide(r, win(1));
      assert.equal(second.tel.circuit, 'open');
      await r.waitFor('telemetry', 3); // the alert follows the telemetry on output 2
      const alerts = r.telemetry.filter((m) => m.topic === 'alert');
      assert.equal(alerts.length, 1);
      const alert = alerts[0].payload as {
        kind: string;
        reason: string;
        consecutiveFailures: number;
        retryAt: number;
        openedAt: number;
        model: string;
      };
      assert.equal(alert.kind, 'aiCircuitOpen');
      assert.equal(alert.reason, 'server-error');
      assert.equal(alert.consecutiveFailures, 2);
      assert.equal(alert.model, 'gpt-4o-mini');
      assert.equal(alert.retryAt - alert.openedAt, 600_000);
      const until = new Date(alert.retryAt);
      const hhmm = `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`;
      const red = { fill: 'red', shape: 'ring', text: text('status.circuitOpen', { until: hhmm }) };
      assert.deepEqual(lastStatus(r.n1), red);

      const third = await decide(r, win(2));
      assert.equal(third.sp.source, 'rules');
      assert.equal(third.tel.fallbackReason, 'circuit-open');
      assert.equal(third.tel.requestBytes, 0);
      assert.equal(server.completions.length, 2, 'the server sees no request while the circuit is open');
      assert.deepEqual(lastStatus(r.n1), red);
      const log = helper.log();
      const warned = log.args.filter(([e]) => e.level === log.WARN && String(e.msg).includes('circuit open'));
      assert.equal(warned.length, 1);
    });
  });

  describe('the API key', () => {
    it('never appears in logs, statuses, outputs or node properties', async () => {
      server.script(
        errorResponse(401, `Incorrect API key provided: ${KEY}. You can find your API key at https://example.org.`),
        toolCallCompletion({ ...ARGS, reason: `echo ${KEY}` }),
      );
      server.fallbackScript = toolCallCompletion(ARGS);
      const r = await rig(server, { decide: { circuitFailures: '1', circuitCooldownS: '1' } });
      const a = await decide(r, win(0));
      assert.equal(a.tel.fallbackReason, 'client-error');
      assert.match(String(a.tel.fallbackDetail), /redacted/);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // let the 1 s cool-down pass: one probe
      const b = await decide(r, win(1));
      assert.equal(b.sp.source, 'ai');
      await decide(r, [win(2), win(2, 'corridor')]);
      await r.waitFor('setpoints', 4);
      r.n1.receive({ payload: { zone: KEY } } as NodeMessage);
      await r.waitFor('errors', 1);

      const seen = [
        ...helper.log().args.map(([e]) => String(e.msg)),
        ...statusCalls(r.n1).map((s) => JSON.stringify(s)),
        ...statusCalls(r.prov).map((s) => JSON.stringify(s)),
        ...[...r.setpoints, ...r.telemetry].map((m) => JSON.stringify(m.payload)),
        JSON.stringify(r.prov.settings),
      ];
      assert.ok(seen.length > 10);
      const secret = KEY.slice('sk-test-'.length);
      for (const s of seen) assert.ok(!s.includes(secret), `key leaked in: ${s.slice(0, 200)}`);
      for (const node of [r.prov, r.n1]) {
        for (const [prop, v] of Object.entries(node)) {
          if (prop === 'credentials') continue;
          if (typeof v === 'string') assert.ok(!v.includes(secret), `node property ${prop}`);
        }
      }
      assert.match(String(r.errors[0].error.message), /zone|windowStart/);
    });
  });

  describe('input that cannot be used', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['a window without windowStart', { ...win(0), windowStart: undefined }, /windowStart/],
      ['an empty array', [], /non-empty array/],
      ['an array with one bad window', [win(0), { ...win(1), presence: { ratio: 2 } }], /payload\[1\]\.presence\.ratio/],
      ['text', 'hello', /window/],
      ['a zone of another type', { ...win(0), zone: 42 }, /zone/],
    ];
    for (const [name, payload, field] of bad) {
      it(`${name}: done(err) naming the field, a red status, nothing sent`, async () => {
        server.fallbackScript = toolCallCompletion(ARGS);
        const r = await rig(server);
        r.n1.receive({ payload } as NodeMessage);
        await r.waitFor('errors', 1);
        assert.match(r.errors[0].error.message, field);
        assert.deepEqual(lastStatus(r.n1), { fill: 'red', shape: 'ring', text: text('status.invalidInput') });
        // A good window afterwards is the first (and only) thing that comes out.
        const good = await decide(r, win(5));
        assert.equal(r.setpoints.length, 1);
        assert.equal(r.telemetry.length, 1);
        assert.equal(good.sp.source, 'ai');
        assert.equal(server.completions.length, 1);
        assert.equal(userContent(server.completions[0]).windows.length, 1, 'the bad window never reached the hot path');
      });
    }
  });

  describe('msg.profile', () => {
    const PERSONAL = {
      profile_id: 'p-secret-42',
      age: 71,
      sex: 'female',
      visual_impairment: 'low_vision',
      chronotype: 'morning',
      schedules: { Monday: 'work' },
      name: 'Alice Example',
      email: 'alice@example.org',
    };
    const PRIVATE = ['p-secret-42', 'Alice', 'alice@example.org', 'low_vision', 'morning', 'Monday', 'female', '71'];

    it('a decrypted profile: only the four hints are sent, the clamps apply them, msg.profile is not passed on', async () => {
      server.script(toolCallCompletion({ ...ARGS, intensity: 5 }));
      const r = await rig(server);
      const { sp, msg } = await decide(r, win(0), { profile: PERSONAL });
      const body = server.completions[0].bodyText;
      for (const p of PRIVATE) assert.ok(!body.includes(p), `${p} must not be sent`);
      assert.deepEqual(userContent(server.completions[0]).hints, {
        minIntensityPct: 30,
        maxStepPct: 10,
        cctBias: 'neutral',
        slowerDimDown: true,
      });
      assert.equal(sp.source, 'ai');
      assert.equal(sp.intensity, 30, 'a visually impaired person gets at least 30 %');
      assert.equal((msg as NodeMessage & { profile?: unknown }).profile, undefined);
    });

    it('plain hints work as in rules-fallback: the four AI fields are sent, minLux stays with the rules', async () => {
      server.script(toolCallCompletion({ ...ARGS, intensity: 5 }));
      const r = await rig(server);
      const { sp } = await decide(r, win(0), { profile: { minIntensityPct: 25, cctBias: 'warm', minLux: 700 } });
      assert.deepEqual(userContent(server.completions[0]).hints, { minIntensityPct: 25, cctBias: 'warm' });
      assert.equal(sp.intensity, 25, 'the clamps apply the floor');
    });

    it('an encrypted profile as JSON text is read too; unknown hint keys and a missing key are errors naming no value', async () => {
      const key = Fernet.generateKey();
      const blob = encryptProfile('p-secret-42', { age: 72 }, new Fernet(key));
      server.fallbackScript = toolCallCompletion(ARGS);
      const r = await rig(server);
      r.n1.receive({ payload: win(0), profile: JSON.stringify(blob) } as NodeMessage);
      await r.waitFor('errors', 1);
      assert.match(r.errors[0].error.message, /no Fernet key is set/);
      r.n1.receive({ payload: win(1), profile: { minIntensityPct: 20, maxStepPct: 0 } } as NodeMessage);
      await r.waitFor('errors', 2);
      assert.match(r.errors[1].error.message, /maxStepPct/);
      assert.ok(!r.errors.some((e) => e.error.message.includes('p-secret-42')));
      assert.equal(r.setpoints.length, 0);
      await helper.unload();
      process.env.FERNET_KEY = key;
      const r2 = await rig(server);
      await decide(r2, win(2), { profile: JSON.stringify(blob) });
      assert.equal(userContent(server.completions[0]).hints?.minIntensityPct, 20);
    });

    it('an encrypted profile is decrypted with FERNET_KEY; a wrong key is an error', async () => {
      const key = Fernet.generateKey();
      process.env.FERNET_KEY = key;
      const blob = encryptProfile('p-secret-42', { age: 72, photosensitive: true }, new Fernet(key));
      server.fallbackScript = toolCallCompletion(ARGS);
      const r = await rig(server);
      await decide(r, win(0), { profile: blob });
      assert.deepEqual(userContent(server.completions[0]).hints, {
        minIntensityPct: 20,
        maxStepPct: 5,
        cctBias: 'neutral',
        slowerDimDown: true,
      });
      assert.ok(!server.completions[0].bodyText.includes('p-secret-42'));

      // Another key in the environment of a (re)started runtime.
      await helper.unload();
      process.env.FERNET_KEY = Fernet.generateKey();
      const r2 = await rig(server);
      r2.n1.receive({ payload: win(1), profile: blob } as NodeMessage);
      await r2.waitFor('errors', 1);
      assert.match(r2.errors[0].error.message, /cannot decrypt personal profile/);
      assert.equal(r2.setpoints.length, 0);
      assert.equal(server.completions.length, 1);
    });
  });

  describe('examples/ai-decide.json', () => {
    const CORE = ['20-inject', '21-debug', '90-comment', '15-change'];
    before(() => helper.settings({ registerNodeSettings: () => undefined }));
    after(() => helper.settings({}));

    it('works as imported, without a key: the rules decide and telemetry says no-api-key', async () => {
      const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'ai-decide.json'), 'utf8')) as FlowNodeDef[];
      const core = CORE.map((f) => {
        const dir = f.startsWith('15') ? 'function' : 'common';
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(`@node-red/nodes/core/${dir}/${f}.js`) as NodeInitializer;
      });
      await helper.load([nodeSet('ai-provider'), nodeSet('ai-decide'), ...core], flow);
      const byType = (type: string): FlowNodeDef => flow.filter((n) => n.type === type)[0];
      const decideNode = byType('ai-decide');
      const [[setpointDebug], [telemetryDebug]] = decideNode.wires as string[][];
      const got = (id: string): Promise<NodeMessage> => new Promise((resolve) => (helper.getNode(id) as Node).once('input', resolve));
      const sp = got(setpointDebug);
      const tel = got(telemetryDebug);
      (helper.getNode(byType('inject').id) as Node).receive({});
      const setpoint = (await sp).payload as Setpoint;
      const telemetry = (await tel).payload as Record<string, unknown>;
      assert.equal(setpoint.source, 'rules');
      assert.equal(setpoint.zone, 'office-1');
      assert.match(setpoint.reason, /AI not used: no-api-key/);
      assert.equal(telemetry.outcome, 'fallback');
      assert.equal(telemetry.fallbackReason, 'no-api-key');
      assert.deepEqual(lastStatus(helper.getNode(decideNode.id) as Node), { fill: 'grey', shape: 'ring', text: text('status.noApiKey') });
    });
  });

  describe('close', () => {
    it('abandons a decision in flight: unload returns and nothing is sent afterwards', async () => {
      server.script({ hang: true });
      const r = await rig(server, { provider: { timeoutMs: '120000' } });
      r.n1.receive({ payload: win(0) } as NodeMessage);
      while (server.completions.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(lastStatus(r.n1), { fill: 'yellow', shape: 'dot', text: text('status.deciding') });
      const sendSpy = r.n1.send as unknown as { getCalls(): Array<{ thisValue: unknown }> };
      await helper.unload();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(sendSpy.getCalls().filter((c) => c.thisValue === r.n1).length, 0, 'the node sent nothing');
      assert.equal(r.setpoints.length, 0);
      assert.equal(r.telemetry.length, 0);
    });
  });
});
