/**
 * lighting-alerts in the Node-RED runtime with a real SQLite file: the
 * outputs of lsd-sensor-in, ai-decide and dali-dt8-out (diagnostics on the
 * simulator) wired straight in become stored alerts, raised once and
 * resolved when the cause goes away; generic raise/resolve messages; a
 * message it cannot use is an error for catch nodes with nothing stored; a
 * watched simulated dali-bus raises busDisconnected only after the delay and
 * resolves it on reconnect; close releases the bus and the timer.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import daliBus from '../../nodes/dali-bus/dali-bus';
import daliDt8Out from '../../nodes/dali-dt8-out/dali-dt8-out';
import lsdSensorIn from '../../nodes/lsd-sensor-in/lsd-sensor-in';
import lightingAlerts from '../../nodes/lighting-alerts/lighting-alerts';
import type { AlertEvent } from '../../lib/store/alert-events';
import type { BusSession } from '../../lib/dali/bus-session';
import type { Simulation } from '../../lib/dali/sim-config';
import { ROOT, asNodeSet, helper, registerCatalogues } from './helpers';
import { TAB, callsOf, collect, lastStatus, message, nodeById, query, storeConfig, tempDir, waitFor } from './store-node-helpers';
import { simBus } from './dali-node-helpers';

const MODULES: Record<string, NodeInitializer> = {
  'lighting-store': lightingStore,
  'dali-bus': daliBus,
  'dali-dt8-out': daliDt8Out,
  'lsd-sensor-in': lsdSensorIn,
  'lighting-alerts': lightingAlerts,
};

const CORE = ['25-catch.js', '20-inject.js', '21-debug.js', '90-comment.js'];

async function load(flow: FlowNodeDef[]): Promise<void> {
  const inits = Object.keys(MODULES).map((type) => asNodeSet(type, MODULES[type] as NodeInitializer));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const file of CORE) inits.push(require(`@node-red/nodes/core/common/${file}`) as NodeInitializer);
  await helper.load(inits, flow);
}

interface AlertMsg extends NodeMessage {
  payload: AlertEvent;
}
interface CaughtMsg {
  error: { message: string };
}
interface AlertRowSql {
  id: number;
  zone: string | null;
  kind: string;
  severity: string;
  message: string;
  data: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
}

function alertsNode(extra: Record<string, unknown> = {}): FlowNodeDef {
  return {
    id: 'al',
    type: 'lighting-alerts',
    z: 'f1',
    name: '',
    store: 's1',
    bus: '',
    zone: '',
    disconnectAfterS: '30',
    wires: [['h1']],
    ...extra,
  };
}

function flow(file: string, extra: Record<string, unknown> = {}, more: FlowNodeDef[] = []): FlowNodeDef[] {
  return [
    TAB,
    storeConfig('s1', file),
    alertsNode(extra),
    { id: 'c1', type: 'catch', z: 'f1', scope: ['al'], uncaught: false, wires: [['h2']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
    ...more,
  ];
}

const rows = (file: string): Promise<AlertRowSql[]> => query<AlertRowSql>(file, 'SELECT * FROM alerts ORDER BY id');
const status = (key: string, subs: Record<string, unknown> = {}): string => message('lighting-alerts', `status.${key}`, subs);
const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends `msg` into the alerts node and waits until the node has called done (the helper spies on it via the catch / output). */
async function send(msg: Record<string, unknown>): Promise<void> {
  nodeById('al').receive(msg as NodeMessage);
  await settle();
}

describe('lighting-alerts node', function () {
  this.timeout(20000);
  let dir: string;
  let file: string;
  let n = 0;

  before(() => registerCatalogues(Object.keys(MODULES)));
  before(() => {
    dir = tempDir('lighting-alerts-');
  });
  beforeEach(() => {
    file = path.join(dir, `alerts-${++n}.db`);
  });
  afterEach(() => helper.unload());
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lsd-sensor-in stale raises sensorStale once, recovered resolves it, manualChange is ignored', async () => {
    await load(flow(file));
    const out = collect<AlertMsg>('h1');
    const caught = collect<CaughtMsg>('h2');
    const stale = {
      topic: 'stale',
      payload: { kind: 'stale', zone: 'office-1', ts: Date.now(), sensorId: 'dali-10', silentS: 300, lastSeen: Date.now() - 300000 },
    };
    await send(stale);
    await waitFor('raised', () => out.length === 1);
    assert.equal(out[0]?.topic, 'alert');
    assert.equal(out[0]?.payload.event, 'raised');
    assert.equal(out[0]?.payload.alert.kind, 'sensorStale');
    assert.equal(out[0]?.payload.alert.severity, 'warning');
    assert.equal(out[0]?.payload.alert.zone, 'office-1');
    assert.deepEqual((out[0]?.payload.alert.data as { sensorId: string }).sensorId, 'dali-10');
    await waitFor('status 1 active', () => lastStatus(nodeById('al'))?.text === status('active', { n: 1 }));
    assert.equal(lastStatus(nodeById('al'))?.fill, 'green');

    await send(stale);
    await send({ topic: 'manualChange', payload: { kind: 'manualChange', zone: 'office-1', address: 'A1', commands: ['DAPC'] } });
    assert.equal(out.length, 1, 'repeat and manualChange: nothing sent');
    assert.equal((await rows(file)).length, 1, 'repeat: nothing stored');

    await send({ topic: 'recovered', payload: { kind: 'recovered', zone: 'office-1', ts: Date.now(), sensorId: 'dali-10', silentS: 320 } });
    await waitFor('resolved', () => out.length === 2);
    assert.equal(out[1]?.payload.event, 'resolved');
    assert.equal(out[1]?.payload.alert.id, out[0]?.payload.alert.id);
    const [row] = await rows(file);
    assert.equal(row?.resolved_by, 'recovered');
    assert.ok(row?.resolved_at);
    await waitFor('status 0 active', () => lastStatus(nodeById('al'))?.text === status('active', { n: 0 }));
    assert.equal(caught.length, 0);
  });

  it('ai-decide circuit alerts raise and resolve aiCircuitOpen in the node zone; telemetry raises no alert', async () => {
    await load(flow(file, { zone: 'site' }));
    const out = collect<AlertMsg>('h1');
    await send({ topic: 'telemetry', payload: { kind: 'ai-call', zone: 'office-1', model: 'gpt-x', outcome: 'ai' } });
    await send({
      topic: 'alert',
      payload: { ts: 1, kind: 'aiCircuitOpen', model: 'gpt-x', consecutiveFailures: 3, reason: 'timeout', openedAt: 1, retryAt: 300001 },
    });
    await waitFor('raised', () => out.length === 1);
    const alert = out[0]?.payload.alert;
    assert.equal(alert?.kind, 'aiCircuitOpen');
    assert.equal(alert?.zone, 'site');
    assert.deepEqual(alert?.data, { model: 'gpt-x', reason: 'timeout', retryAt: 300001, consecutiveFailures: 3, openedAt: 1 });
    await send({ topic: 'alert', payload: { ts: 2, kind: 'aiCircuitClosed', model: 'gpt-x', consecutiveFailures: 0 } });
    await waitFor('resolved', () => out.length === 2);
    assert.equal(out[1]?.payload.alert.resolvedBy, 'aiCircuitClosed');
    assert.equal((await rows(file)).length, 1);
  });

  it('ai-decide telemetry is stored as a telemetry row of kind "ai": listed fields only, never a planted key or profile', async () => {
    await load(flow(file, { zone: 'site' }));
    const out = collect<AlertMsg>('h1');
    const caught = collect<CaughtMsg>('h2');
    const key = 'sk-PLANTEDnodeKEY0123456789abcdef';
    const ts = Date.now();
    await send({
      topic: 'telemetry',
      apiKey: key,
      profile: { secret: 'PROFILE-MARKER' },
      payload: {
        ts,
        kind: 'ai-call',
        zone: 'office-1',
        model: 'gpt-x',
        outcome: 'fallback',
        fallbackReason: 'http-401',
        fallbackDetail: `Incorrect API key provided: ${key}`,
        latencyMs: 42.5,
        promptTokens: 300,
        completionTokens: 20,
        payloadBytes: 800,
        requestBytes: 1400,
        windowsSent: 2,
        trimmed: ['history'],
        attempts: 1,
        clampsFired: [],
        circuit: 'closed',
        apiKey: key,
        profile: { secret: 'PROFILE-MARKER' },
      },
    });
    await send({ topic: 'telemetry', payload: { ts, kind: 'dali-error', zone: 'office-1' } });
    // The row is queued (no waitForCommit): poll the file until the store has written it.
    let stored: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 80 && stored.length === 0; i++) {
      stored = await query<Record<string, unknown>>(file, 'SELECT * FROM telemetry');
      if (stored.length === 0) await settle(100);
    }
    assert.equal(stored.length, 1, 'one row: the ai-call (other telemetry is ignored)');
    const row = stored[0] as Record<string, unknown>;
    assert.equal(row.kind, 'ai');
    assert.equal(row.zone, 'office-1');
    assert.equal(row.ts, ts);
    assert.equal(row.latency_ms, 42.5);
    assert.equal(row.prompt_tokens, 300);
    assert.equal(row.completion_tokens, 20);
    assert.equal(row.payload_bytes, 800);
    assert.equal(row.fallback_reason, 'http-401');
    const data = JSON.parse(String(row.data)) as Record<string, unknown>;
    assert.equal(data.model, 'gpt-x');
    assert.equal(data.requestBytes, 1400);
    assert.equal(data.windowsSent, 2);
    assert.equal(data.circuit, 'closed');
    const text = JSON.stringify(stored);
    assert.ok(!text.includes('PLANTED'), text);
    assert.ok(!text.includes('PROFILE-MARKER'), text);
    assert.equal(out.length, 0, 'telemetry sends nothing');
    assert.equal(caught.length, 0);
    assert.equal((await rows(file)).length, 0, 'and raises no alert');
  });

  it('dali-dt8-out diagnostics wired in: a lamp failure raises lampFailure naming the gear; the repaired lamp resolves it', async () => {
    const more: FlowNodeDef[] = [
      simBus('bus1', { simGear: '1-2', simGroups: '0:1-2', simSensor: '' }),
      {
        id: 'out',
        type: 'dali-dt8-out',
        z: 'f1',
        name: '',
        bus: 'bus1',
        address: 'G0',
        addressType: 'str',
        fadeMs: '0',
        curve: 'logarithmic',
        warmestKelvin: '1800',
        coolestKelvin: '6500',
        tcLimitsFrom: 'config',
        verify: false,
        wires: [['al']],
      },
    ];
    await load(flow(file, { zone: 'office-1' }, more));
    const out = collect<AlertMsg>('h1');
    const session = nodeById<Node & { session: BusSession }>('bus1').session;
    await waitFor('bus open', () => session.simulation?.iface.state === 'connected');
    const sim = session.simulation as Simulation;
    sim.bus.gearAt(2)?.setLampFailure(true);
    nodeById('out').receive({ topic: 'diagnostics', payload: '' } as NodeMessage);
    await waitFor('lamp failure raised', () => out.length === 1, 10000);
    const alert = out[0]?.payload.alert;
    assert.equal(alert?.kind, 'lampFailure');
    assert.equal(alert?.severity, 'critical');
    assert.equal(alert?.zone, 'office-1');
    assert.deepEqual(alert?.data, { address: 'A2', addresses: ['A2'], gear: [{ address: 'A2', reason: 'lampFailure' }], report: 'G0' });
    assert.match(String(alert?.message), /A2/);

    nodeById('out').receive({ topic: 'diagnostics', payload: '' } as NodeMessage);
    await settle(1500);
    assert.equal(out.length, 1, 'the same failure again: nothing');

    sim.bus.gearAt(2)?.setLampFailure(false);
    nodeById('out').receive({ topic: 'diagnostics', payload: '' } as NodeMessage);
    await waitFor('resolved', () => out.length === 2, 10000);
    assert.equal(out[1]?.payload.event, 'resolved');
    assert.equal(out[1]?.payload.alert.resolvedBy, 'healthy');
    assert.equal((await rows(file)).length, 1);
  });

  it('diagnostics: a missing gear and a second zone each count per address; payload.zone wins over the node zone', async () => {
    await load(flow(file, { zone: 'default' }));
    const out = collect<AlertMsg>('h1');
    const report = (zone: string | undefined, gear: unknown[]): Record<string, unknown> => ({
      topic: 'diagnostics',
      payload: { kind: 'diagnostics', address: 'BC', ts: Date.now(), gear, ...(zone ? { zone } : {}) },
    });
    await send(report(undefined, [{ address: 'A3', present: false, status: null, lampFailure: null }]));
    await send(
      report('hall', [{ address: 'A3', present: true, status: { controlGearFailure: true, lampFailure: false }, lampFailure: false }]),
    );
    await waitFor('two raised', () => out.length === 2);
    assert.deepEqual(
      out.map((m) => [m.payload.alert.zone, (m.payload.alert.data as { gear: unknown }).gear]),
      [
        ['default', [{ address: 'A3', reason: 'missing' }]],
        ['hall', [{ address: 'A3', reason: 'controlGearFailure' }]],
      ],
    );
  });

  it('generic alert / resolve by id and by kind+zone', async () => {
    await load(flow(file));
    const out = collect<AlertMsg>('h1');
    await send({
      topic: 'alert',
      payload: { kind: 'other', zone: 'lobby', message: 'emergency light test due', severity: 'info', data: { ref: 7 } },
    });
    await send({ topic: 'alert', payload: { kind: 'lampFailure', zone: 'lobby', message: 'reported by the caretaker' } });
    await waitFor('two raised', () => out.length === 2);
    assert.deepEqual(
      out.map((m) => [m.payload.alert.kind, m.payload.alert.severity]),
      [
        ['other', 'info'],
        ['lampFailure', 'critical'],
      ],
    );
    await send({ topic: 'resolve', payload: { id: out[0]?.payload.alert.id, by: 'alice' } });
    await send({ topic: 'resolve', payload: { kind: 'lampFailure', zone: 'lobby' } });
    await waitFor('two resolved', () => out.length === 4);
    assert.deepEqual(
      out.slice(2).map((m) => [m.payload.event, m.payload.alert.resolvedBy]),
      [
        ['resolved', 'alice'],
        ['resolved', 'manual'],
      ],
    );
    assert.deepEqual(
      (await rows(file)).map((r) => r.resolved_by),
      ['alice', 'manual'],
    );
  });

  it('a message it cannot use: done(err) for catch, red status, nothing stored', async () => {
    await load(flow(file));
    const out = collect<AlertMsg>('h1');
    const caught = collect<CaughtMsg>('h2');
    await send({ topic: 'hello', payload: { kind: 'weather' } });
    await waitFor('caught', () => caught.length === 1);
    assert.match(caught[0]?.error.message ?? '', /not an alert input/);
    assert.deepEqual(lastStatus(nodeById('al')), { fill: 'red', shape: 'ring', text: status('invalid') });
    await send({ topic: 'alert', payload: { kind: 'other', zone: 'z', message: 'x', data: { big: 1n } } });
    await send({ topic: 'resolve', payload: { id: 4242 } });
    await waitFor('caught three', () => caught.length === 3);
    assert.match(caught[1]?.error.message ?? '', /data cannot be stored as JSON/);
    assert.match(caught[2]?.error.message ?? '', /no alert with id 4242/);
    assert.equal(lastStatus(nodeById('al'))?.fill, 'red');
    assert.equal(out.length, 0);
    assert.equal((await rows(file)).length, 0);
  });

  it('a store that cannot be opened shows red, and green again by itself once it can (no alert needed in between)', async () => {
    const blocker = path.join(dir, 'data');
    fs.writeFileSync(blocker, 'not a folder'); // the database's folder cannot be made
    await load(flow(path.join(blocker, 'alerts.db')));
    const al = nodeById('al');
    await waitFor('red store status', () => lastStatus(al)?.fill === 'red' && /^store: /.test(String(lastStatus(al)?.text)));
    fs.rmSync(blocker);
    await waitFor('green again', () => lastStatus(al)?.fill === 'green', 12000);
    assert.equal(lastStatus(al)?.text, message('lighting-alerts', 'status.active', { n: 0 }));
  });

  it('without a store: not configured, and every message is refused', async () => {
    await load([
      TAB,
      { ...alertsNode({ store: '' }) },
      { id: 'c1', type: 'catch', z: 'f1', scope: ['al'], uncaught: false, wires: [['h2']] },
      { id: 'h1', type: 'helper', z: 'f1', wires: [] },
      { id: 'h2', type: 'helper', z: 'f1', wires: [] },
    ]);
    const caught = collect<CaughtMsg>('h2');
    assert.equal(lastStatus(nodeById('al'))?.text, status('notConfigured'));
    await send({ topic: 'alert', payload: { kind: 'other', message: 'x' } });
    await waitFor('caught', () => caught.length === 1);
    assert.match(caught[0]?.error.message ?? '', /no lighting store/);
  });

  it('watched bus: a short drop raises nothing; disconnected longer than the delay raises busDisconnected, reconnect resolves it', async () => {
    await load(flow(file, { bus: 'bus1', disconnectAfterS: '0.4', zone: 'site' }, [simBus('bus1', { simSensor: '' })]));
    const out = collect<AlertMsg>('h1');
    const session = nodeById<Node & { session: BusSession; users: Record<string, Node> }>('bus1').session;
    assert.ok(Object.keys(nodeById<Node & { users: Record<string, Node> }>('bus1').users).includes('al'), 'registered as a bus user');
    await waitFor('bus open', () => session.simulation?.iface.state === 'connected');
    const sim = session.simulation as Simulation;
    await settle(600);
    assert.equal(out.length, 0, 'connecting at start is shorter than the delay');

    sim.iface.disconnect();
    await settle(100);
    sim.iface.reconnect();
    await settle(600);
    assert.equal(out.length, 0, 'a short drop raises nothing');

    sim.iface.disconnect();
    await settle(200);
    assert.equal(out.length, 0, 'not yet');
    await waitFor('raised', () => out.length === 1);
    const alert = out[0]?.payload.alert;
    assert.equal(alert?.kind, 'busDisconnected');
    assert.equal(alert?.severity, 'critical');
    assert.equal(alert?.zone, 'site');
    assert.equal((alert?.data as { bus: string }).bus, 'bus1');
    await settle(600);
    assert.equal(out.length, 1, 'raised once');

    sim.iface.reconnect();
    await waitFor('resolved', () => out.length === 2);
    assert.equal(out[1]?.payload.alert.resolvedBy, 'reconnected');
    assert.equal((await rows(file)).length, 1);
  });

  it('examples/lighting-alerts.json runs: its test alert and resolve injects raise and resolve (WebSocket out replaced by a helper)', async () => {
    const example = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'lighting-alerts.json'), 'utf8')) as FlowNodeDef[];
    const byType = (type: string): FlowNodeDef[] => example.filter((x) => x.type === type);
    const types = new Set(example.map((x) => x.type));
    for (const type of types)
      assert.ok(
        type in MODULES || ['tab', 'comment', 'inject', 'debug', 'catch', 'websocket out', 'websocket-listener'].includes(type),
        type,
      );
    const tab = byType('tab')[0] as FlowNodeDef;
    const alertsDef = byType('lighting-alerts')[0] as FlowNodeDef;
    const flowDefs = example
      .filter((x) => !['websocket out', 'websocket-listener'].includes(x.type))
      .map((x) => (x.type === 'lighting-store' ? { ...x, path: file } : x.type === 'lighting-alerts' ? { ...x, wires: [['hx']] } : x));
    await load([...flowDefs, { id: 'hx', type: 'helper', z: tab.id, wires: [] }]);
    const out = collect<AlertMsg>('hx');
    const inject = (name: string): void => {
      const def = example.find((x) => x.type === 'inject' && x.name === name);
      assert.ok(def, name);
      nodeById(def.id).receive({} as NodeMessage);
    };
    inject('test alert');
    await waitFor('raised', () => out.length === 1);
    assert.deepEqual([out[0]?.payload.event, out[0]?.payload.alert.kind, out[0]?.payload.alert.zone], ['raised', 'other', 'office-1']);
    inject('resolve test alert');
    await waitFor('resolved', () => out.length === 2);
    assert.equal(out[1]?.payload.alert.resolvedBy, 'caretaker');
    assert.equal(alertsDef.bus, byType('dali-bus')[0]?.id, 'the example watches its bus');
  });

  it('close deregisters from the bus and cancels a pending disconnect alert', async () => {
    await load(
      flow(file, { bus: 'bus1', disconnectAfterS: '0.3' }, [
        simBus('bus1', { simSensor: '' }),
        {
          id: 'keep',
          type: 'dali-dt8-out',
          z: 'f1',
          name: '',
          bus: 'bus1',
          address: 'A0',
          addressType: 'str',
          fadeMs: '0',
          curve: 'logarithmic',
          warmestKelvin: '1800',
          coolestKelvin: '6500',
          tcLimitsFrom: 'config',
          verify: false,
          wires: [[]],
        },
      ]),
    );
    const bus = nodeById<Node & { session: BusSession; users: Record<string, Node> }>('bus1');
    await waitFor('bus open', () => bus.session.simulation?.iface.state === 'connected');
    const alerts = nodeById('al');
    const errorsBefore = callsOf(alerts, 'error').length;
    bus.session.simulation?.iface.disconnect();
    await (alerts as Node & { close(removed: boolean): Promise<void> }).close(true);
    assert.ok(!Object.keys(bus.users).includes('al'), 'deregistered from the bus');
    await settle(600);
    assert.equal((await rows(file)).length, 0, 'no alert after close');
    assert.equal(callsOf(alerts, 'error').length, errorsBefore);
  });
});
