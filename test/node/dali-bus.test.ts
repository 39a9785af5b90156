/**
 * dali-bus config node in the Node-RED runtime: it owns the interface (opens
 * with the first user, closes when the last one is removed or on its own
 * close, and done waits for that), fans its status out to every child
 * (connected, busy with the queue length, disconnected, port in use), keeps
 * a device to one bus, lists ports for the editor, and survives repeated
 * redeploys without leaving anything open.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeStatus } from 'node-red';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import { portRegistry } from '../../lib/dali/bus-registry';
import type { Simulation } from '../../lib/dali/sim-config';
import { LocalClock } from '../../lib/features/local-time';
import {
  dt8OutNode,
  helper,
  initCatalogues,
  lastStatus,
  load,
  message,
  nodeById,
  session,
  sensorInNode,
  simBus,
  simulation,
  statuses,
  TAB,
  waitFor,
} from './dali-node-helpers';

function out(id: string, bus = 'bus1'): FlowNodeDef {
  return dt8OutNode(id, bus, { verify: false, wires: [[]] });
}

function sensorIn(id: string, bus = 'bus1'): FlowNodeDef {
  return sensorInNode(id, bus, { zoneGear: 'A0-3', wires: [[], []] });
}

const status = (key: string, subs: Record<string, unknown> = {}): string => message('dali-bus', `status.${key}`, subs);
const CONNECTED: NodeStatus = { fill: 'green', shape: 'dot', text: '' };

function isConnected(n: Node): boolean {
  const s = lastStatus(n);
  return s?.fill === CONNECTED.fill && s?.shape === CONNECTED.shape && s?.text === status('connected');
}

/** Close a node as a deploy that removes it does (Node.close(removed) -> 'close' handlers). */
function removeNode(n: Node): Promise<void> {
  return (n as Node & { close(removed: boolean): Promise<void> }).close(true);
}

describe('dali-bus config node', function () {
  this.timeout(20000);
  before(initCatalogues);
  afterEach(() => helper.unload());

  it('fans its status out to every child: connecting, connected, busy (n queued), connected again, disconnected', async () => {
    await load([TAB, simBus(), out('o1'), out('o2'), sensorIn('s1')]);
    const children = ['o1', 'o2', 's1'].map((id) => nodeById(id));
    await waitFor(() => children.every(isConnected), 'every child connected');
    assert.deepEqual(
      statuses(children[0] as Node)[0],
      { fill: 'yellow', shape: 'ring', text: status('connecting') },
      'the first user opens it',
    );
    const bus = session().bus;
    assert.ok(bus);
    const queries = Array.from({ length: 40 }, (_, i) => bus.readActualLevel(i % 4));
    await waitFor(() => children.every((c) => lastStatus(c)?.shape === 'dot' && lastStatus(c)?.fill === 'yellow'), 'busy status');
    const busy = lastStatus(children[0] as Node);
    assert.match(String(busy?.text), new RegExp(`^${status('busy', { n: '\\d+' }).replace(/[()]/g, '\\$&')}$`));
    await Promise.all(queries);
    await waitFor(() => children.every(isConnected), 'green again when the queue drains');
    simulation().iface.disconnect();
    for (const c of children) assert.deepEqual(lastStatus(c), { fill: 'red', shape: 'ring', text: status('disconnected') }, c.id);
    simulation().iface.reconnect();
    await waitFor(() => children.every(isConnected), 'connected after reconnect');
  });

  describe('USE_MOCK_DALI (the Python service setting)', () => {
    const saved = process.env.USE_MOCK_DALI;
    afterEach(() => {
      if (saved === undefined) delete process.env.USE_MOCK_DALI;
      else process.env.USE_MOCK_DALI = saved;
    });

    it('true: the simulator stands in for a configured LUBA interface, and the gear answers', async () => {
      process.env.USE_MOCK_DALI = 'True';
      await load([TAB, simBus('bus1', { interfaceType: 'luba', port: '/dev/ttyDALI-does-not-exist' }), out('o1')]);
      await waitFor(() => isConnected(nodeById('o1')), 'connected through the simulator');
      assert.deepEqual(simulation().inventory.shortAddresses, [0, 1, 2, 3], 'the simulated gear');
      assert.equal((nodeById('bus1') as Node & { settings: { interfaceType: string } }).settings.interfaceType, 'simulator');
    });

    it('false or unset: the configured interface is used (a missing port stays disconnected)', async () => {
      process.env.USE_MOCK_DALI = 'false';
      await load([TAB, simBus('bus1', { interfaceType: 'luba', port: '/dev/ttyDALI-does-not-exist' }), out('o1')]);
      await waitFor(() => (lastStatus(nodeById('o1'))?.fill ?? '') === 'red', 'the LUBA port cannot open');
      assert.equal(session().simulation, null);
    });
  });

  describe("DEMO_CLOCK (the demo building's time of day)", () => {
    const saved = { clock: process.env.DEMO_CLOCK, epoch: process.env.DEMO_CLOCK_EPOCH_MS };
    afterEach(() => {
      for (const [k, v] of [
        ['DEMO_CLOCK', saved.clock],
        ['DEMO_CLOCK_EPOCH_MS', saved.epoch],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    const localMinute = (): number => new LocalClock().at(Date.now()).minuteOfDay;
    const realMinute = (): number => {
      const d = new Date();
      return d.getHours() * 60 + d.getMinutes();
    };
    /** A time of day 6 hours away from now, so it cannot be mistaken for the real one. */
    const away = (): { text: string; minute: number } => {
      const m = (realMinute() + 360) % 1440;
      return { text: `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`, minute: m };
    };

    it('a simulated bus starts its scenario at the demo clock, and the local clock of the runtime follows it', async () => {
      const want = away();
      process.env.DEMO_CLOCK = want.text;
      process.env.DEMO_CLOCK_EPOCH_MS = String(Date.now());
      await load([TAB, simBus('bus1'), out('o1')]);
      await waitFor(() => session().simulation?.iface.state === 'connected', 'open');
      assert.ok(
        Math.abs(simulation().startMinute - want.minute) <= 1,
        `scenario starts at ${want.text}, got minute ${simulation().startMinute}`,
      );
      assert.ok(Math.abs(localMinute() - want.minute) <= 1, 'feature windows and rules see the demo time');
    });

    it('a real interface ignores it, says so, and keeps the whole runtime on the real clock', async () => {
      const want = away();
      process.env.DEMO_CLOCK = want.text;
      process.env.DEMO_CLOCK_EPOCH_MS = String(Date.now());
      await load([
        TAB,
        simBus('sim'),
        simBus('bus1', { interfaceType: 'luba', port: '/dev/ttyDALI-does-not-exist' }),
        out('o1'),
        out('o2', 'sim'),
      ]);
      await waitFor(() => (lastStatus(nodeById('o1'))?.fill ?? '') === 'red', 'the LUBA port cannot open');
      const warned = (nodeById('bus1').warn as unknown as { getCalls(): Array<{ args: unknown[] }> })
        .getCalls()
        .map((c) => String(c.args[0]));
      assert.ok(
        warned.some((w) => w.includes('DEMO_CLOCK is ignored')),
        warned.join(' | '),
      );
      assert.ok(Math.abs(localMinute() - realMinute()) <= 1, 'the real time of day, although a simulator asked for the demo clock');
    });
  });

  it('opens with the first user and closes when the last one is removed; done waits for the close', async () => {
    await load([TAB, simBus(), out('o1'), out('o2')]);
    const s = session();
    await waitFor(() => s.simulation?.iface.state === 'connected', 'open');
    const sim = s.simulation as Simulation;
    await removeNode(nodeById('o1'));
    assert.equal(sim.iface.state, 'connected', 'one user left: still open');
    assert.equal(s.userCount, 1);
    await removeNode(nodeById('o2'));
    assert.equal(sim.iface.state, 'closed', 'closed before done was called');
    assert.equal(s.simulation, null);
    assert.equal(s.isOpen, false);
    assert.deepEqual(Object.keys(nodeById<Node & { users: object }>('bus1').users), []);
  });

  it('does not open without users, and closes on its own close (redeploy) before done', async () => {
    await load([TAB, simBus()]);
    assert.equal(session().simulation, null, 'no user: nothing opened');
    await helper.unload();
    await load([TAB, simBus(), sensorIn('s1')]);
    const s = session();
    await waitFor(() => s.simulation?.iface.state === 'connected', 'open');
    const sim = s.simulation as Simulation;
    await helper.unload();
    assert.equal(sim.iface.state, 'closed');
    assert.equal(sim.bus.listenerCount('frame'), 0, 'no listener left on the simulated bus');
  });

  it('survives repeated redeploys: each one closes what the previous opened', async () => {
    const opened: Simulation[] = [];
    for (let i = 0; i < 8; i++) {
      await load([TAB, simBus('bus1', { simScenario: 'office', simSpeed: '3600' }), out('o1'), sensorIn('s1')]);
      await waitFor(() => session().simulation?.iface.state === 'connected', 'open');
      opened.push(session().simulation as Simulation);
      await helper.unload();
    }
    assert.ok(opened.every((sim) => sim.iface.state === 'closed'));
    assert.ok(opened.every((sim) => sim.bus.listenerCount('frame') === 0));
  });

  it('keeps a device to one bus: the second bus on the same port shows "port in use by" the first', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-bus-test-'));
    const port = path.join(dir, 'ttyNOTHING');
    try {
      const hw = { interfaceType: 'luba', port, reconnectMinMs: '50', reconnectMaxMs: '100' };
      await load([
        TAB,
        simBus('busA', { ...hw, name: 'first bus' }),
        simBus('busB', { ...hw, name: 'second bus' }),
        out('oA', 'busA'),
        out('oB', 'busB'),
      ]);
      await waitFor(() => lastStatus(nodeById('oA'))?.text === status('disconnected'), 'the first bus trying a missing device');
      await waitFor(() => lastStatus(nodeById('oB'))?.text === status('portInUseBy', { holder: 'first bus' }), 'port in use');
      assert.equal(lastStatus(nodeById('oB'))?.fill, 'red');
      assert.equal(portRegistry.holder(port), 'first bus');
      await helper.unload();
      assert.equal(portRegistry.holder(port), undefined, 'released on close');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists serial and hidraw devices for the editor, with a reason when the list may be incomplete', async () => {
    await load([TAB, simBus()]);
    const res = await (helper as unknown as { request(): { get(p: string): PromiseLike<{ status: number; body: unknown }> } })
      .request()
      .get('/dali-bus/ports');
    assert.equal(res.status, 200);
    const body = res.body as { ports: Array<{ path: string; kind: string }>; reason?: string };
    assert.ok(Array.isArray(body.ports));
    for (const p of body.ports) {
      assert.equal(typeof p.path, 'string');
      assert.ok(p.kind === 'serial' || p.kind === 'hidraw');
    }
    assert.ok(body.reason === undefined || typeof body.reason === 'string');
  });
});
