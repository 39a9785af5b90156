/**
 * feature-window in the Node-RED runtime with a real SQLite file: readings
 * stored and one window per zone sent at each window end (1-second windows,
 * readings placed in a window that has not begun yet so that the clock cannot
 * split them), bad readings rejected with nothing stored, the waitForCommit
 * acknowledgement, weather and "aggregate", and restore + replay after a
 * restart.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';
import type { FeatureWindow } from '../../lib/contracts';
import {
  TAB,
  callsOf,
  collect,
  count,
  helper,
  initCatalogues,
  lastStatus,
  load,
  message,
  nodeById,
  query,
  storeConfig,
  tempDir,
  waitFor,
} from './store-node-helpers';

const W = 1000;

interface WindowMsg {
  topic: string;
  payload: FeatureWindow;
}
interface AckMsg {
  payload: { id: number | null; committed: boolean; late?: boolean; aggregated?: number };
}
interface CaughtMsg {
  error: { message: string; source: { id: string } };
}
interface FeatureNode extends Node {
  latest(zone: string, n?: number): FeatureWindow[];
}

/** Start of a window that begins after now: readings stamped inside it all land in it, whenever they arrive. */
function nextWindowStart(windowMs = W): number {
  return (Math.floor(Date.now() / windowMs) + 1) * windowMs;
}

function flow(file: string, fw: Record<string, unknown> = {}, store: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    storeConfig('s1', file, store),
    {
      id: 'n1',
      type: 'feature-window',
      z: 'f1',
      name: '',
      store: 's1',
      windowMinutes: W / 60_000,
      keepWindows: '3',
      graceS: '0',
      wires: [['h1'], ['h2']],
      ...fw,
    },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['n1'], uncaught: false, wires: [['h3']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
    { id: 'h3', type: 'helper', z: 'f1', wires: [] },
  ];
}

function reading(zone: string, ts: number, extra: Record<string, unknown>): Record<string, unknown> {
  return { sensorId: `${zone}-s`, zone, ts, source: 'test', ...extra };
}

describe('feature-window node', function () {
  let dir: string;
  let file: string;

  before(async () => {
    await initCatalogues();
  });

  beforeEach(() => {
    dir = tempDir('fw-node-');
    file = path.join(dir, 'fw.db');
  });

  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores each reading and sends one window per zone at the window end', async () => {
    await load(flow(file));
    const n1 = nodeById<FeatureNode>('n1');
    const windows = collect<WindowMsg>('h1');
    const acks = collect<AckMsg>('h2');
    const start = nextWindowStart();
    n1.receive({ payload: reading('A', start + 10, { lux: 100, presence: true }) });
    n1.receive({ payload: reading('A', start + 30, { lux: 300 }) });
    n1.receive({ payload: reading('A', start + 20, { lux: 200 }) });
    n1.receive({ payload: reading('B', start + 40, { lux: 50 }) });
    await waitFor('two windows', () => windows.length === 2);

    const a = windows.find((m) => m.topic === 'A');
    assert.ok(a);
    const local = new Date(start);
    assert.deepEqual(a.payload, {
      zone: 'A',
      windowStart: start,
      windowEnd: start + W,
      count: 3,
      lux: { mean: 200, min: 100, max: 300, std: Math.sqrt(20_000 / 3), last: 300 },
      presence: { ratio: 1, transitions: 0, last: true, lastTs: start + 10 },
      minuteOfDay: local.getHours() * 60 + local.getMinutes(),
      weekday: local.getDay(),
    });
    const b = windows.find((m) => m.topic === 'B');
    assert.equal(b?.payload.count, 1);
    assert.deepEqual(b?.payload.presence, { ratio: null, transitions: 0, last: null, lastTs: null });

    assert.equal(acks.length, 4);
    assert.ok(acks.every((m) => m.payload.id === null && m.payload.committed === false && m.payload.late === false));
    const rows = callsOf(n1, 'debug').map((args) => String(args[0]));
    assert.equal(rows.filter((r) => r.startsWith('Feature row created: zone ')).length, 2);
    assert.deepEqual(lastStatus(n1), {
      fill: 'green',
      shape: 'dot',
      text: message('feature-window', 'status.windows', {
        windows: 2,
        zones: 2,
        time: `${String(new Date(start + W).getHours()).padStart(2, '0')}:${String(new Date(start + W).getMinutes()).padStart(2, '0')}`,
      }),
    });
    assert.deepEqual(n1.latest('A'), [a.payload]);

    await helper.unload();
    const raw = await query<{ zone: string; lux: number; late: number }>(file, 'SELECT zone, lux, late FROM raw_sensor_events ORDER BY ts');
    assert.deepEqual(raw, [
      { zone: 'A', lux: 100, late: 0 },
      { zone: 'A', lux: 200, late: 0 },
      { zone: 'A', lux: 300, late: 0 },
      { zone: 'B', lux: 50, late: 0 },
    ]);
    const stored = await query<{ zone: string; count: number; lux_mean: number }>(
      file,
      'SELECT zone, count, lux_mean FROM feature_windows ORDER BY zone',
    );
    assert.deepEqual(stored, [
      { zone: 'A', count: 3, lux_mean: 200 },
      { zone: 'B', count: 1, lux_mean: 50 },
    ]);
  });

  it('ends a bad reading with done(err) naming the field, a red status, and stores nothing', async () => {
    await load(flow(file));
    const n1 = nodeById('n1');
    const caught = collect<CaughtMsg>('h3');
    const acks = collect<AckMsg>('h2');
    const now = Date.now();
    const bad: Array<[unknown, RegExp]> = [
      [{ sensorId: 's', ts: now, lux: 1, source: 't' }, /zone is missing/],
      [reading('A', now, { lux: 'bright' }), /lux must be a finite number/],
      [reading('A', now * 1000, { lux: 1 }), /ts must be epoch ms/],
      [reading('A', now, { presence: 'yes' }), /presence must be a boolean/],
      [reading('A', now, {}), /neither lux nor presence/],
      ['hello', /expected an object/],
    ];
    for (const [payload] of bad) n1.receive({ payload } as NodeMessage);
    n1.receive({ topic: 'weather', payload: { ts: now, cloudCoverPct: 140 } });
    await waitFor('every error caught', () => caught.length === bad.length + 1);
    bad.forEach(([, re], i) => assert.match(caught[i].error.message, re));
    assert.match(caught[bad.length].error.message, /cloudCoverPct/);
    assert.ok(caught.every((c) => c.error.source.id === 'n1'));
    assert.equal(lastStatus(n1)?.fill, 'red');
    assert.match(String(lastStatus(n1)?.text), /cloudCoverPct/);
    assert.equal(acks.length, 0);
    await helper.unload();
    assert.equal(await count(file, 'raw_sensor_events'), 0);
    assert.equal(await count(file, 'weather_events'), 0);
  });

  it('with msg.waitForCommit acknowledges only once the row is readable by another connection', async () => {
    // Rows are written every 2 s: a reading without waitForCommit is acknowledged long before.
    await load(flow(file, {}, { flushIntervalMs: '2000' }));
    const n1 = nodeById('n1');
    const acks = collect<AckMsg>('h2');
    const seen: Array<Promise<number>> = [];
    nodeById('h2').on('input', () => {
      seen.push(
        query<{ n: number }>(file, "SELECT COUNT(*) AS n FROM raw_sensor_events WHERE sensor_id = 'W-s'").then((r) => r[0]?.n ?? 0),
      );
    });
    n1.receive({ payload: reading('Q', Date.now(), { lux: 1 }) });
    await waitFor('queued ack', () => acks[0]);
    assert.deepEqual(acks[0].payload, { id: null, committed: false, late: false });

    n1.receive({ payload: reading('W', Date.now(), { lux: 2 }), waitForCommit: true } as NodeMessage);
    await waitFor('committed ack', () => acks[1]);
    assert.equal(acks[1].payload.committed, true);
    assert.equal(typeof acks[1].payload.id, 'number');
    assert.equal(await seen[1], 1, 'the row was there when the acknowledgement left');
    const row = await query<{ id: number; lux: number }>(file, 'SELECT id, lux FROM raw_sensor_events WHERE zone = ?', ['W']);
    assert.deepEqual(row, [{ id: acks[1].payload.id, lux: 2 }]);
  });

  it('acknowledging "HTTP requests only" stores every reading but answers only the messages with msg.res', async () => {
    await load([
      ...flow(file, { acks: 'http' }),
      { id: 'k1', type: 'complete', z: 'f1', scope: ['n1'], uncaught: false, wires: [['h4']] },
      { id: 'h4', type: 'helper', z: 'f1', wires: [] },
    ]);
    const n1 = nodeById('n1');
    const acks = collect<AckMsg & { res?: { tag: string } }>('h2');
    const ended = collect<{ payload: { zone: string } }>('h4');
    n1.receive({ payload: reading('D', Date.now(), { lux: 1 }), waitForCommit: true } as NodeMessage); // from a DALI sensor
    n1.receive({ payload: reading('H', Date.now(), { lux: 2 }), waitForCommit: true, res: { tag: 'request-1' } } as NodeMessage);
    await waitFor('the HTTP acknowledgement', () => acks[0]);
    await waitFor('both messages ended', () => ended[1]);
    assert.equal(acks.length, 1);
    assert.equal(acks[0].res?.tag, 'request-1');
    assert.equal(acks[0].payload.committed, true);
    const rows = await query<{ zone: string }>(file, 'SELECT zone FROM raw_sensor_events ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.zone),
      ['D', 'H'],
      'the reading without a request is stored all the same',
    );
    // Every message, as before, when not set.
    await helper.unload();
    await load(flow(file));
    const all = collect<AckMsg>('h2');
    nodeById('n1').receive({ payload: reading('D', Date.now(), { lux: 3 }) });
    await waitFor('the acknowledgement of a message without a request', () => all[0]);
  });

  it('stores weather updates, attaches them, and sends partial snapshots on "aggregate"', async () => {
    await load(flow(file, { windowMinutes: '1', graceS: '60' }));
    const n1 = nodeById('n1');
    const windows = collect<WindowMsg>('h1');
    const acks = collect<AckMsg>('h2');
    const now = Date.now();
    n1.receive({ topic: 'weather', payload: { ts: now, outdoorLux: 25000, cloudCoverPct: 40 }, waitForCommit: true } as NodeMessage);
    await waitFor('weather ack', () => acks[0]);
    assert.equal(acks[0].payload.committed, true);
    n1.receive({ payload: reading('A', now, { lux: 420, presence: true }) });
    await waitFor('reading ack', () => acks[1]);
    n1.receive({ topic: 'aggregate', payload: '' });
    await waitFor('snapshot', () => windows[0]);
    const snap = windows[0].payload;
    assert.equal(snap.partial, true);
    assert.equal(snap.count, 1);
    assert.equal(snap.lux.mean, 420);
    assert.deepEqual(snap.weather, { ts: now, outdoorLux: 25000, cloudCoverPct: 40, source: 'unknown' });
    await waitFor('aggregate ack', () => acks[2]);
    assert.deepEqual(acks[2].payload, { aggregated: 1 });
    await helper.unload();
    assert.equal(await count(file, 'weather_events'), 1);
    assert.deepEqual(await query(file, 'SELECT zone, partial FROM feature_windows'), [{ zone: 'A', partial: 1 }]);
  });

  it('after a restart restores its last windows and completes the open one from stored readings', async () => {
    const f = flow(file);
    await load(f);
    let windows = collect<WindowMsg>('h1');
    const start = nextWindowStart();
    nodeById('n1').receive({ payload: reading('A', start + 10, { lux: 10 }) });
    await waitFor('first window', () => windows[0]);
    const first = windows[0].payload;
    // Two windows ahead: still open when the flow stops.
    nodeById('n1').receive({ payload: reading('A', start + 2 * W + 10, { lux: 30 }) });
    nodeById('n1').receive({ payload: reading('A', start + 2 * W + 20, { lux: 50 }) });
    const acks = collect<AckMsg>('h2');
    await waitFor('two acks', () => acks.length === 2);
    await helper.unload();
    assert.equal(windows.length, 1, 'open window not sent at close');

    await load(f);
    const n1 = nodeById<FeatureNode>('n1');
    windows = collect<WindowMsg>('h1');
    const restored = await waitFor('hot path restored', () => (n1.latest('A').length > 0 ? n1.latest('A') : undefined));
    assert.deepEqual(restored, [first]);
    await waitFor('replayed window', () => windows[0]);
    assert.equal(windows[0].payload.windowStart, start + 2 * W);
    assert.equal(windows[0].payload.count, 2);
    assert.equal(windows[0].payload.lux.mean, 40);
    assert.deepEqual(
      n1.latest('A').map((w) => w.windowStart),
      [start + 2 * W, start],
    );
    const logged = callsOf(n1, 'log').map((args) => String(args[0]));
    assert.ok(logged.includes(message('feature-window', 'log.restored', { windows: 1, readings: 2 })), logged.join('\n'));
  });

  it('without a store says "not configured" and ends every message with an error', async () => {
    const f = flow(file).map((n) => (n.id === 'n1' ? { ...n, store: '' } : n));
    await load(f);
    const n1 = nodeById('n1');
    assert.deepEqual(lastStatus(n1), { fill: 'grey', shape: 'ring', text: message('feature-window', 'status.notConfigured') });
    const caught = collect<CaughtMsg>('h3');
    n1.receive({ payload: reading('A', Date.now(), { lux: 1 }) });
    await waitFor('error', () => caught[0]);
    assert.equal(caught[0].error.message, `Error: ${message('feature-window', 'errors.noStore')}`);
    assert.equal(fs.existsSync(file), false);
  });
});
