/**
 * Demand response in the deciding nodes (node-red-node-test-helper runtime):
 * rules-fallback takes msg.topic "demand-response", decides its zones again at
 * once, capped at 100 - share (its *Demand response shed*), with the occupied
 * floor winning a deep shed; ends by itself at until and decides again;
 * refuses a bad message (done(err), nothing changes); keeps the event through
 * a redeploy. ai-decide caps the model's answer the same way (a local
 * OpenAI-compatible server answers 95 %).
 */
import { strict as assert } from 'node:assert';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';
import rulesFallback from '../../nodes/rules-fallback/rules-fallback';
import aiDecide from '../../nodes/ai-decide/ai-decide';
import aiProvider from '../../nodes/ai-provider/ai-provider';
import type { Setpoint } from '../../lib/contracts';
import { FakeOpenAiServer, toolCallCompletion } from '../helpers/fake-openai-server';
import { asNodeSet, helper, latestStatus, MessageQueue, redeploy, registerCatalogues } from './helpers';

type Out = NodeMessage & { payload: Setpoint; decision?: { trigger: string } };
type Caught = NodeMessage & { error: { message: string } };

const INITS: NodeInitializer[] = [
  asNodeSet('rules-fallback', rulesFallback),
  asNodeSet('ai-decide', aiDecide),
  asNodeSet('ai-provider', aiProvider),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@node-red/nodes/core/common/25-catch.js') as NodeInitializer,
];

function rulesFlow(config: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    {
      id: 'n1',
      type: 'rules-fallback',
      z: 'f1',
      name: '',
      circadian: 'clock',
      latitude: '',
      longitude: '',
      nightMaxIntensityPct: '100',
      noLuxIntensityPct: '100',
      ...config,
      wires: [['out']],
    },
    { id: 'out', type: 'helper', z: 'f1', wires: [] },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['n1'], uncaught: false, wires: [['err']] },
    { id: 'err', type: 'helper', z: 'f1', wires: [] },
  ];
}

/** A window of an occupied zone without a light sensor (the rules light it fully). */
function noLuxWindow(end: number, zone = 'office-1'): Record<string, unknown> {
  return {
    zone,
    windowStart: end - 60_000,
    windowEnd: end,
    count: 5,
    lux: null,
    presence: { ratio: 1, transitions: 0, last: true },
    minuteOfDay: 600,
    weekday: 2,
  };
}

describe('demand response in the deciding nodes', function () {
  this.timeout(15_000);
  before(() => registerCatalogues(['rules-fallback', 'ai-decide', 'ai-provider']));
  afterEach(() => helper.unload());

  it('rules-fallback: an event re-decides the zone at once, capped; it ends by itself at until and the zone comes back', async () => {
    await helper.load(INITS, rulesFlow());
    const n1 = helper.getNode('n1') as Node;
    const out = new MessageQueue('out');
    n1.receive({ payload: noLuxWindow(Date.now()) });
    assert.equal(((await out.next()) as Out).payload.intensity, 100);
    n1.receive({ topic: 'demand-response', payload: { level: 'shed', until: Date.now() + 1500 } });
    const capped = (await out.next()) as Out;
    assert.equal(capped.payload.intensity, 85);
    assert.equal(capped.decision?.trigger, 'timer');
    assert.match(capped.payload.reason, /demand-response:shed 15% \(cap 85%\)/);
    assert.equal(latestStatus(n1).fill, 'green', 'the decision after the event shows');
    const back = (await out.next()) as Out;
    assert.equal(back.payload.intensity, 100, 'decided again at until, uncapped');
    assert.doesNotMatch(back.payload.reason, /demand-response/);
  });

  it('rules-fallback: its share setting, the occupied floor winning a deep shed, level 0 ending it', async () => {
    await helper.load(INITS, rulesFlow({ shedPct: '30', occupiedFloorPct: '20' }));
    const n1 = helper.getNode('n1') as Node;
    const out = new MessageQueue('out');
    n1.receive({ payload: noLuxWindow(Date.now()) });
    await out.next();
    n1.receive({ topic: 'demand-response', payload: { minutes: 10 } });
    assert.equal(((await out.next()) as Out).payload.intensity, 70);
    n1.receive({ topic: 'demand-response', payload: { level: 95, minutes: 10 } });
    const deep = (await out.next()) as Out;
    assert.equal(deep.payload.intensity, 20, 'the occupied floor, not 5 %');
    assert.match(deep.payload.reason, /clamp:floor/);
    n1.receive({ topic: 'demand-response', payload: { level: 0 } });
    assert.equal(((await out.next()) as Out).payload.intensity, 100);
  });

  it('rules-fallback: a bad demand response message ends with an error and changes nothing', async () => {
    await helper.load(INITS, rulesFlow());
    const n1 = helper.getNode('n1') as Node;
    const out = new MessageQueue('out');
    const err = new MessageQueue('err');
    n1.receive({ payload: noLuxWindow(Date.now()) });
    await out.next();
    n1.receive({ topic: 'demand-response', payload: { level: 'brownout' } });
    const caught = (await err.next()) as Caught;
    assert.match(caught.error.message, /demand response message cannot be used: level/);
    assert.equal(latestStatus(n1).fill, 'red');
    n1.receive({ payload: noLuxWindow(Date.now() + 60_000) });
    assert.equal(((await out.next()) as Out).payload.intensity, 100, 'no event was started');
  });

  it('rules-fallback: a running event survives a redeploy of the node', async () => {
    const flow = rulesFlow();
    await helper.load(INITS, flow);
    const n1 = helper.getNode('n1') as Node;
    n1.receive({ topic: 'demand-response', payload: { level: 50, minutes: 10 } });
    await new Promise((r) => setTimeout(r, 50));
    await redeploy(flow, 'full');
    const again = helper.getNode('n1') as Node;
    const out = new MessageQueue('out');
    again.receive({ payload: noLuxWindow(Date.now()) });
    assert.equal(((await out.next()) as Out).payload.intensity, 50);
  });

  it("ai-decide: the model's answer is capped too, and the reason names the event", async () => {
    const server = await FakeOpenAiServer.start();
    try {
      server.script(toolCallCompletion({ intensity: 95, cct: 4000, reason: 'bright', confidence: 0.9 }));
      await helper.load(
        INITS,
        [
          { id: 'f1', type: 'tab', label: 'test' },
          {
            id: 'n1',
            type: 'ai-decide',
            z: 'f1',
            provider: 'p1',
            payloadCapBytes: '2048',
            payloadBatchLimit: '3',
            circuitFailures: '3',
            circuitCooldownS: '300',
            wires: [['out'], []],
          },
          { id: 'p1', type: 'ai-provider', name: '', model: 'gpt-4o-mini', baseUrl: server.baseUrl, timeoutMs: '3000', maxRetries: '0' },
          { id: 'out', type: 'helper', z: 'f1', wires: [] },
        ],
        { p1: { apiKey: 'sk-test-dr-0123456789abcdef' } },
      );
      const n1 = helper.getNode('n1') as Node;
      const out = new MessageQueue('out');
      n1.receive({ topic: 'demand-response', payload: { level: 'shed', minutes: 5 } });
      await new Promise((r) => setTimeout(r, 20));
      assert.match(String(latestStatus(n1).text), /demand response: shed 15 % until/);
      n1.receive({ payload: { ...noLuxWindow(Date.now()), lux: { mean: 300, min: 300, max: 300, std: 0, last: 300 } } });
      const sp = ((await out.next()) as Out).payload;
      assert.equal(sp.source, 'ai');
      assert.equal(sp.intensity, 85);
      assert.match(sp.reason, /demand-response:shed 15% \(cap 85%\)/);
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });
});
