/**
 * ai-decide in a real Node-RED runtime (4.1 on Node 20 or 5 on Node 22, chosen
 * by scripts/e2e-matrix.js): an http in node posts a feature window to
 * ai-decide, whose ai-provider points at a local OpenAI-compatible server on
 * loopback, and an http response returns the setpoint. The flow is deployed
 * through the Admin HTTP API with the API key as a credential.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorResponse, FakeOpenAiServer, toolCallCompletion } from '../helpers/fake-openai-server';
import { NodeRedRuntime, PACKAGE_NAME, runtimeDescription } from './harness';

const KEY = 'sk-e2e-NEVER-LEAK-abcdef0123456789';
const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);

function win(i: number): Record<string, unknown> {
  const start = T0 + i * 300_000;
  return {
    zone: 'office-1',
    windowStart: start,
    windowEnd: start + 300_000,
    count: 60,
    lux: { mean: 310.5, min: 290, max: 330, std: 11.5, last: 305 },
    presence: { ratio: 0.9, transitions: 1, last: true },
    minuteOfDay: 540 + 5 * i,
    weekday: 2,
  };
}

function flow(baseUrl: string): object[] {
  return [
    { id: 'aitab', type: 'tab', label: 'ai-decide e2e' },
    {
      id: 'aiprov',
      type: 'ai-provider',
      name: 'fake',
      model: 'gpt-4o-mini',
      baseUrl,
      timeoutMs: 5000,
      maxRetries: 0,
      credentials: { apiKey: KEY },
    },
    {
      id: 'aiin',
      type: 'http in',
      z: 'aitab',
      name: '',
      url: '/e2e/ai-decide',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['aidec']],
    },
    {
      id: 'aidec',
      type: 'ai-decide',
      z: 'aitab',
      name: '',
      provider: 'aiprov',
      payloadCapBytes: 2048,
      payloadBatchLimit: 3,
      circuitFailures: 3,
      circuitCooldownS: 300,
      targetLux: 500,
      occupiedFloorPct: 10,
      holdMinutes: 15,
      vacancyOffMinutes: 20,
      minKelvin: 1800,
      maxKelvin: 5000,
      wires: [['aiout'], []],
    },
    { id: 'aiout', type: 'http response', z: 'aitab', name: '', statusCode: '', headers: {}, wires: [] },
  ];
}

interface Setpoint {
  zone: string;
  intensity: number;
  cct: number;
  reason: string;
  source: string;
}

describe(`ai-decide in a real Node-RED runtime (${path.basename(path.dirname(runtimeDescription().nodeRedDir))}/node-red)`, function () {
  let rt: NodeRedRuntime;
  let server: FakeOpenAiServer;

  before(async function () {
    server = await FakeOpenAiServer.start();
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {});
    const nodes = await rt.request('GET', '/nodes', undefined, { Accept: 'application/json' });
    const types = (nodes.json as Array<{ module: string; types: string[] }>)
      .filter((s) => s.module === PACKAGE_NAME)
      .flatMap((s) => s.types);
    assert.ok(
      types.includes('ai-provider'),
      `ai-provider is not registered: package.json "node-red"."nodes" needs "ai-provider": "dist/nodes/ai-provider/ai-provider.js" (types: ${types.join(', ')})`,
    );
    await rt.deploy(flow(server.baseUrl));
  });

  after(async () => {
    if (rt) await rt.stop();
    if (server) await server.close();
  });

  it('answers a posted window with the model’s setpoint, clamped', async () => {
    server.script(toolCallCompletion({ intensity: 64, cct: 6500, reason: 'morning, occupied', confidence: 0.9 }));
    const res = await rt.request('POST', '/e2e/ai-decide', win(0));
    assert.equal(res.status, 200, res.text);
    const sp = res.json as Setpoint;
    assert.equal(sp.source, 'ai');
    assert.equal(sp.zone, 'office-1');
    assert.equal(sp.intensity, 64);
    assert.equal(sp.cct, 5000, 'clamped to the coolest fixture colour');
    assert.match(sp.reason, /^morning, occupied/);
    assert.equal(server.completions.length, 1);
    assert.equal(server.completions[0].headers.authorization, `Bearer ${KEY}`);
  });

  it('answers with the rules’ setpoint when the server fails (500)', async () => {
    server.script(errorResponse(500, 'internal error'));
    const res = await rt.request('POST', '/e2e/ai-decide', win(1));
    assert.equal(res.status, 200, res.text);
    const sp = res.json as Setpoint;
    assert.equal(sp.source, 'rules');
    assert.equal(sp.zone, 'office-1');
    assert.ok(sp.intensity >= 10 && sp.intensity <= 100, `intensity ${sp.intensity}`);
    assert.ok(sp.cct >= 1800 && sp.cct <= 5000, `cct ${sp.cct}`);
    assert.match(sp.reason, /AI not used: server-error/);
    assert.equal(server.completions.length, 2);
  });

  it('keeps the key out of the exported flow, the editor and the log', async () => {
    const flows = await rt.request('GET', '/flows');
    assert.equal(flows.status, 200);
    assert.ok(!flows.text.includes(KEY), 'exported flow');
    const creds = await rt.request('GET', '/credentials/ai-provider/aiprov');
    assert.equal(creds.status, 200);
    assert.deepEqual(creds.json, { has_apiKey: true }, 'the editor only learns that a key is set');
    assert.ok(!rt.logLines.some((l) => l.includes(KEY)), 'runtime log');
  });
});
