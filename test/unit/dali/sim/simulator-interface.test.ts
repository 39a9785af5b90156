import assert from 'node:assert/strict';
import { dapc, gearCommand } from '../../../../lib/dali/codec';
import { frameBusTimeMs } from '../../../../lib/dali/bus/timing';
import { SimulatorInterface } from '../../../../lib/dali/interfaces/simulator';
import { GearCommand } from '../../../../lib/dali/opcodes';
import { VirtualBus, VirtualClock, systemClock } from '../../../../lib/dali/sim/virtual-bus';
import { DaliInterfaceError, type BusFrameEvent, type InterfaceStateEvent } from '../../../../lib/dali/types';

describe('interfaces/simulator: SimulatorInterface', () => {
  it('takes the modelled bus time per frame on the bus clock', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const bus = new VirtualBus({ clock });
    bus.addGear({ shortAddress: 1, initialLevel: 42 });
    const sim = new SimulatorInterface(bus, { timeScale: 1 });
    await sim.open();
    const cmd = dapc({ kind: 'short', address: 1 }, 100);
    const query = gearCommand({ kind: 'short', address: 1 }, GearCommand.QUERY_ACTUAL_LEVEL);
    const t0 = clock.now();
    await sim.transmit(cmd, 2);
    const t1 = clock.now();
    assert.equal(await sim.transmit(query, 1).then((r) => (r.kind === 'answer' ? r.value : -1)), 100);
    const t2 = clock.now();
    assert.ok(Math.abs(t1 - t0 - frameBusTimeMs(cmd, 2)) < 1e-9, `command took ${t1 - t0} ms`);
    assert.ok(Math.abs(t2 - t1 - frameBusTimeMs(query, 1, { answer: 'answer' })) < 1e-9, `query took ${t2 - t1} ms`);
    assert.equal(sim.frames, 2);
    await sim.close();
  });

  it('timeScale 0 answers at once; commands resolve to none', async () => {
    const bus = new VirtualBus({ clock: new VirtualClock() });
    bus.addGear({ shortAddress: 0 });
    const sim = new SimulatorInterface(bus, { timeScale: 0 });
    await sim.open();
    assert.deepEqual(await sim.transmit(dapc({ kind: 'short', address: 0 }, 7), 2), { kind: 'none' });
    assert.deepEqual(await sim.transmit(gearCommand({ kind: 'short', address: 0 }, GearCommand.QUERY_ACTUAL_LEVEL), 3), {
      kind: 'answer',
      value: 7,
    });
    await sim.close();
  });

  it('rejects with notConnected before open and after disconnect(); reconnect() restores it', async () => {
    const bus = new VirtualBus({ clock: new VirtualClock() });
    bus.addGear({ shortAddress: 0 });
    const sim = new SimulatorInterface(bus, { timeScale: 0 });
    const states: string[] = [];
    sim.on('state', (ev: InterfaceStateEvent) => states.push(ev.state));
    const frame = dapc({ kind: 'short', address: 0 }, 1);
    await assert.rejects(sim.transmit(frame, 2), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'notConnected');
    await sim.open();
    sim.disconnect();
    await assert.rejects(sim.transmit(frame, 2), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'notConnected');
    sim.reconnect();
    assert.deepEqual(await sim.transmit(frame, 2), { kind: 'none' });
    await sim.close();
    await assert.rejects(sim.transmit(frame, 2), (e: unknown) => e instanceof DaliInterfaceError && e.code === 'closed');
    assert.deepEqual(states, ['connecting', 'connected', 'disconnected', 'connecting', 'connected', 'closed']);
  });

  it('reports foreign frames only while connected', async () => {
    const bus = new VirtualBus({ clock: new VirtualClock() });
    bus.addGear({ shortAddress: 0 });
    const sim = new SimulatorInterface(bus, { timeScale: 0 });
    const seen: BusFrameEvent[] = [];
    sim.on('frame', (ev: BusFrameEvent) => seen.push(ev));
    await sim.open();
    bus.inject(dapc({ kind: 'broadcast' }, 10));
    sim.disconnect();
    bus.inject(dapc({ kind: 'broadcast' }, 20));
    sim.reconnect();
    await sim.transmit(dapc({ kind: 'broadcast' }, 30), 2);
    assert.deepEqual(
      seen.map((e) => e.value),
      [0xfe0a],
    );
    await sim.close();
  });

  it('close() during a real-time transmit rejects it and leaves no timer behind', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const bus = new VirtualBus({ clock: systemClock });
    bus.addGear({ shortAddress: 0 });
    const sim = new SimulatorInterface(bus, { timeScale: 100 }); // ~3 s per frame
    await sim.open();
    await tick();
    const before = timers();
    const pending = sim.transmit(dapc({ kind: 'short', address: 0 }, 1), 2);
    await tick();
    assert.equal(timers(), before + 1);
    await sim.close();
    await assert.rejects(pending, (e: unknown) => e instanceof DaliInterfaceError && e.code === 'closed');
    assert.equal(timers(), before);
  });
});
