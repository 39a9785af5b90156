import assert from 'node:assert/strict';
import { PortRegistry } from '../../../lib/dali/bus-registry';
import { BusSession, type BusStatus } from '../../../lib/dali/bus-session';
import { InterfaceConfigError, type InterfaceConfig } from '../../../lib/dali/interfaces';
import { SimulatorInterface } from '../../../lib/dali/interfaces/simulator';
import { VirtualBus } from '../../../lib/dali/sim/virtual-bus';
import type { DaliInterface } from '../../../lib/dali/types';

const SIM = { gear: [0, 1], groups: new Map([[0, [0, 1]]]), sensor: null, scenario: 'static' as const, speed: 1, timeScale: 0 };

function waitFor(predicate: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - start > 3000) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

function recorder(s: BusSession): BusStatus[] {
  const seen: BusStatus[] = [];
  s.on('status', (st: BusStatus) => seen.push(st));
  return seen;
}

/** A "serial" interface that is really the simulator, and the interfaces it made. */
function fakeHardware(): { factory: (cfg: InterfaceConfig) => DaliInterface; made: SimulatorInterface[] } {
  const made: SimulatorInterface[] = [];
  return {
    made,
    factory: () => {
      const bus = new VirtualBus();
      bus.addGear({ shortAddress: 0 });
      const iface = new SimulatorInterface(bus, { timeScale: 0 });
      made.push(iface);
      return iface;
    },
  };
}

describe('bus-session: the owner of one interface and its DaliBus', () => {
  it('opens with the first user, closes with the last one (removed), and can open again', async () => {
    const s = new BusSession({ owner: 'b1', label: 'bus one', interface: { type: 'simulator' }, simulation: SIM });
    const seen = recorder(s);
    assert.equal(s.bus, null);
    s.acquire('a');
    s.acquire('b');
    await waitFor(() => s.status.kind === 'connected', 'connected');
    const first = s.simulation;
    assert.ok(first && s.bus);
    assert.deepEqual(
      seen.map((x) => x.kind),
      ['connected'],
      'connecting was the initial status',
    );
    await s.release('a', true);
    assert.equal(first.iface.state, 'connected', 'b still uses it');
    await s.release('b', false);
    assert.equal(first.iface.state, 'connected', 'leaving without being removed keeps it open');
    s.acquire('b');
    await s.release('b', true);
    assert.equal(first.iface.state, 'closed', 'closed before release resolved');
    assert.equal(s.bus, null);
    assert.equal(s.status.kind, 'closed');
    s.acquire('c');
    await waitFor(() => s.status.kind === 'connected', 'open again');
    assert.notEqual(s.simulation, first, 'a fresh interface');
    await s.close();
    await s.close();
    s.acquire('d');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.bus, null, 'closed for good');
  });

  it('reports busy with the queue length (throttled), and connected when the queue drains', async () => {
    const s = new BusSession({
      owner: 'b2',
      label: 'b2',
      interface: { type: 'simulator' },
      simulation: { ...SIM, timeScale: 0.2 },
      statusThrottleMs: 20,
    });
    const seen = recorder(s);
    s.acquire('a');
    await waitFor(() => s.status.kind === 'connected', 'connected');
    const bus = s.bus;
    assert.ok(bus);
    await Promise.all(Array.from({ length: 30 }, () => bus.readActualLevel(0)));
    await waitFor(() => s.status.kind === 'connected', 'drained');
    const busy = seen.filter((x) => x.kind === 'busy');
    assert.ok(busy.length >= 1 && busy.every((x) => (x.queued ?? 0) > 0), JSON.stringify(seen));
    assert.ok(seen.length < 30, `throttled: ${seen.length} updates`);
    await s.close();
  });

  it('emits connected, and reconnect after the interface came back', async () => {
    const s = new BusSession({ owner: 'b3', label: 'b3', interface: { type: 'simulator' }, simulation: SIM });
    const events: boolean[] = [];
    s.on('connected', (e: { reconnect: boolean }) => events.push(e.reconnect));
    const seen = recorder(s);
    s.acquire('a');
    await waitFor(() => events.length === 1, 'connected');
    s.simulation?.iface.disconnect('unplugged');
    assert.deepEqual(s.status, { kind: 'disconnected', detail: 'unplugged' });
    s.simulation?.iface.reconnect();
    await waitFor(() => events.length === 2, 'reconnected');
    assert.deepEqual(events, [false, true]);
    assert.deepEqual(
      seen.map((x) => x.kind),
      ['connected', 'disconnected', 'connecting', 'connected'],
    );
    await s.close();
  });

  it('one device, one bus: the second waits ("port in use" by the first) and opens when it is released', async () => {
    const registry = new PortRegistry();
    const hw = fakeHardware();
    const cfg: InterfaceConfig = { type: 'luba', path: '/dev/ttyDALI-test-0' };
    const one = new BusSession({ owner: 'one', label: 'first bus', interface: cfg, registry, factory: hw.factory });
    const two = new BusSession({ owner: 'two', label: 'second bus', interface: cfg, registry, factory: hw.factory });
    one.acquire('x');
    await waitFor(() => one.status.kind === 'connected', 'first connected');
    two.acquire('y');
    await waitFor(() => two.status.kind === 'portInUse', 'port in use');
    assert.deepEqual(two.status, { kind: 'portInUse', detail: '/dev/ttyDALI-test-0', holder: 'first bus' });
    assert.equal(hw.made.length, 1, 'the second bus did not touch the device');
    await one.close();
    await waitFor(() => two.status.kind === 'connected', 'second connected after release');
    assert.equal(hw.made.length, 2);
    assert.equal(registry.holder('/dev/ttyDALI-test-0'), 'second bus');
    await two.close();
    assert.equal(registry.holder('/dev/ttyDALI-test-0'), undefined);
  });

  it('a device that cannot be built is an error status, never an exception', async () => {
    const registry = new PortRegistry();
    const s = new BusSession({
      owner: 'bad',
      label: 'bad',
      interface: { type: 'sci2', path: '/dev/null-dali' },
      registry,
      factory: () => {
        throw new InterfaceConfigError('invalid baud rate');
      },
    });
    s.acquire('a');
    await waitFor(() => s.status.kind === 'error', 'error');
    assert.deepEqual(s.status, { kind: 'error', detail: 'invalid baud rate' });
    assert.equal(registry.holder('/dev/null-dali'), undefined, 'claim released');
    const empty = new BusSession({ owner: 'e', label: 'e', interface: { type: 'luba', path: ' ' }, registry });
    empty.acquire('a');
    await waitFor(() => empty.status.kind === 'error', 'error without path');
    await s.close();
    await empty.close();
  });
});
