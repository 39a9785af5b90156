import assert from 'node:assert/strict';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';
import { AlertInputError, busDisconnectedRow, type AlertAction } from '../../../lib/contracts';
import { diagnostics, gear, interpret } from '../contracts/alert-messages';
import { AlertBook, DisconnectWatch, busConnected, type TimerPort } from '../../../lib/store/alert-events';
import { LightingStore, RowValidationError } from '../../../lib/store';

for (const engine of STORE_ENGINES)
  describe(`lib/store/alert-events: AlertBook on a real store [${engine}]`, function () {
    const target = storeTargets(engine, this);
    let store: LightingStore;
    let book: AlertBook;

    beforeEach(async () => {
      store = await LightingStore.open({ path: target.next('a') });
      book = new AlertBook(() => Promise.resolve(store));
    });
    afterEach(() => store.close());

    const stale = (zone: string, sensorId = 'dali-10'): AlertAction =>
      interpret({ payload: { kind: 'stale', zone, sensorId, silentS: 300, lastSeen: 1 } });
    const recovered = (zone: string, sensorId = 'dali-10'): AlertAction =>
      interpret({ payload: { kind: 'recovered', zone, sensorId, silentS: 400 } });

    it('raises once, dedupes a repeat, resolves on recovery, and a second recovery changes nothing', async () => {
      const [raised, ...more] = await book.apply(stale('office'));
      assert.equal(more.length, 0);
      assert.equal(raised?.event, 'raised');
      assert.equal(raised?.alert.kind, 'sensorStale');
      assert.equal(raised?.alert.resolvedAt, null);
      assert.deepEqual(await book.apply(stale('office')), [], 'repeat: nothing');
      assert.equal(await book.activeCount(), 1);
      const [resolved] = await book.apply(recovered('office'));
      assert.equal(resolved?.event, 'resolved');
      assert.equal(resolved?.alert.id, raised?.alert.id);
      assert.equal(resolved?.alert.resolvedBy, 'recovered');
      assert.deepEqual(await book.apply(recovered('office')), []);
      assert.equal(await book.activeCount(), 0);
    });

    it('counts active alerts correctly on every call (0, 1, 2, 1, 0)', async () => {
      const counts = [await book.activeCount()];
      await book.apply(stale('a'));
      counts.push(await book.activeCount());
      await book.apply(stale('b'));
      counts.push(await book.activeCount());
      await book.apply(recovered('a'));
      counts.push(await book.activeCount());
      await book.apply(recovered('b'));
      counts.push(await book.activeCount());
      assert.deepEqual(counts, [0, 1, 2, 1, 0]);
    });

    it('a recovery of another sensor or another zone leaves the alert active', async () => {
      await book.apply(stale('office', 's1'));
      assert.deepEqual(await book.apply(recovered('office', 's2')), []);
      assert.deepEqual(await book.apply(recovered('hall', 's1')), []);
      assert.equal(await book.activeCount(), 1);
    });

    it('site-wide (zone null) alerts resolve by kind without touching zoned ones', async () => {
      const open = interpret({ topic: 'alert', payload: { kind: 'aiCircuitOpen', model: 'm', reason: 'timeout', retryAt: 5 } });
      await book.apply({ type: 'raise', row: { zone: 'z', kind: 'aiCircuitOpen', message: 'zoned' } });
      const [r] = await book.apply(open);
      assert.equal(r?.alert.zone, null);
      const [c] = await book.apply(interpret({ topic: 'alert', payload: { kind: 'aiCircuitClosed', model: 'm' } }));
      assert.equal(c?.event, 'resolved');
      assert.equal(c?.alert.id, r?.alert.id);
      assert.equal(await book.activeCount(), 1, 'the zoned one stays');
    });

    it('lamp failures: one alert per zone listing the gear; same report -> nothing; change -> superseded + raised; all healthy -> resolved', async () => {
      const first = await book.apply(interpret(diagnostics([gear('A0'), gear('A1', { lampFailure: true })], { zone: 'z' })));
      assert.deepEqual(
        first.map((e) => e.event),
        ['raised'],
      );
      const a1 = first[0]!.alert;
      assert.equal(a1.severity, 'critical');
      assert.deepEqual(a1.data, { address: 'A1', addresses: ['A1'], gear: [{ address: 'A1', reason: 'lampFailure' }], report: 'BC' });
      assert.match(a1.message, /A1 \(lamp failure\)/);

      assert.deepEqual(
        await book.apply(interpret(diagnostics([gear('A0'), gear('A1', { lampFailure: true })], { zone: 'z' }))),
        [],
        'same again',
      );
      assert.deepEqual(
        await book.apply(interpret(diagnostics([gear('A1', { lampFailure: true })], { zone: 'z', address: 'A1' }))),
        [],
        'single address, same',
      );

      const grown = await book.apply(interpret(diagnostics([gear('A10', { present: false })], { zone: 'z', address: 'A10' })));
      assert.deepEqual(
        grown.map((e) => [e.event, e.alert.resolvedBy]),
        [
          ['resolved', 'superseded'],
          ['raised', null],
        ],
      );
      assert.deepEqual(
        (grown[1]!.alert.data as { addresses: string[] }).addresses,
        ['A1', 'A10'],
        'gear of earlier reports kept, bus order',
      );
      assert.match(grown[1]!.alert.message, /A1 \(lamp failure\), A10 \(missing\)/);

      const other = await book.apply(interpret(diagnostics([gear('A5', { controlGearFailure: true })], { zone: 'other' })));
      assert.deepEqual(
        other.map((e) => e.event),
        ['raised'],
        'another zone has its own alert',
      );

      const healthy = await book.apply(interpret(diagnostics([gear('A1'), gear('A10')], { zone: 'z' })));
      assert.deepEqual(
        healthy.map((e) => [e.event, e.alert.resolvedBy]),
        [['resolved', 'healthy']],
      );
      assert.equal(await book.activeCount(), 1);
      assert.deepEqual(await book.apply(interpret(diagnostics([gear('A1')], { zone: 'z' }))), [], 'healthy with no alert: nothing');
    });

    it('resolve by id: resolves once, an unknown id is an input error; an invalid row rejects with the store error', async () => {
      const [r] = await book.apply({ type: 'raise', row: { kind: 'other', message: 'x', zone: 'z' } });
      const id = r!.alert.id;
      const [res] = await book.apply({ type: 'resolveId', id, by: 'alice' });
      assert.equal(res?.alert.resolvedBy, 'alice');
      assert.deepEqual(await book.apply({ type: 'resolveId', id, by: 'bob' }), []);
      await assert.rejects(book.apply({ type: 'resolveId', id: 9999, by: 'x' }), AlertInputError);
      await assert.rejects(book.apply({ type: 'raise', row: { kind: 'other', message: 'x', zone: 'z'.repeat(300) } }), RowValidationError);
      assert.deepEqual(
        (await book.apply({ type: 'raise', row: { kind: 'other', message: 'again', zone: 'z' } })).map((e) => e.event),
        ['raised'],
        'later actions still run',
      );
    });

    it('applies actions in call order (a raise and its recovery sent together never cross)', async () => {
      const results = await Promise.all([book.apply(stale('a')), book.apply(recovered('a')), book.apply(stale('a'))]);
      assert.deepEqual(
        results.map((r) => r.map((e) => e.event)),
        [['raised'], ['resolved'], ['raised']],
      );
    });
  });

describe('lib/store/alert-events: bus disconnect watch', () => {
  /** Manual timers: run() fires what is due at `now`. */
  function fakeTimers(): TimerPort & { advance(ms: number): void; pending(): number } {
    let now = 0;
    let nextId = 1;
    const timers = new Map<number, { at: number; fn: () => void }>();
    return {
      set(fn, ms) {
        const id = nextId++;
        timers.set(id, { at: now + ms, fn });
        return id;
      },
      clear(h) {
        timers.delete(h as number);
      },
      advance(ms) {
        now += ms;
        for (const [id, t] of [...timers]) {
          if (t.at <= now) {
            timers.delete(id);
            t.fn();
          }
        }
      },
      pending: () => timers.size,
    };
  }

  it('down only after the delay without interruption; up on each reconnect (and the first connect)', () => {
    const calls: string[] = [];
    const timers = fakeTimers();
    const w = new DisconnectWatch(30000, { down: () => calls.push('down'), up: () => calls.push('up') }, timers);
    w.update(false); // connecting at start
    w.update(true);
    assert.deepEqual(calls, ['up']);
    w.update(false);
    timers.advance(29000);
    w.update(true);
    timers.advance(5000);
    assert.deepEqual(calls, ['up', 'up'], 'short drop: no alert');
    w.update(false);
    w.update(false); // repeated status (error after disconnected) does not restart the clock
    timers.advance(29999);
    assert.deepEqual(calls, ['up', 'up']);
    timers.advance(1);
    assert.deepEqual(calls, ['up', 'up', 'down']);
    assert.equal(w.isDown, true);
    w.update(false);
    timers.advance(60000);
    assert.deepEqual(calls, ['up', 'up', 'down'], 'raised once');
    w.update(true);
    w.update(true);
    assert.deepEqual(calls, ['up', 'up', 'down', 'up']);
  });

  it('delay 0 raises at the first not-connected report; stop() cancels a pending timer and ignores updates', () => {
    const calls: string[] = [];
    const timers = fakeTimers();
    const w0 = new DisconnectWatch(0, { down: () => calls.push('down0'), up: () => calls.push('up0') }, timers);
    w0.update(false);
    assert.deepEqual(calls, ['down0']);
    const w = new DisconnectWatch(1000, { down: () => calls.push('down'), up: () => calls.push('up') }, timers);
    w.update(false);
    assert.equal(timers.pending(), 1);
    w.stop();
    assert.equal(timers.pending(), 0);
    w.update(true);
    timers.advance(5000);
    assert.deepEqual(calls, ['down0']);
  });

  it('bus status kinds: connected and busy are connected, closed is no change', () => {
    assert.deepEqual(['connected', 'busy', 'connecting', 'disconnected', 'error', 'portInUse', 'closed'].map(busConnected), [
      true,
      true,
      false,
      false,
      false,
      false,
      null,
    ]);
    const row = busDisconnectedRow('z', { id: 'b1', name: 'Bus 1' }, { kind: 'disconnected', detail: '/dev/ttyUSB0' }, 30);
    assert.equal(row.kind, 'busDisconnected');
    assert.equal(row.severity, 'critical');
    assert.match(row.message, /Bus 1.*30 s.*disconnected.*ttyUSB0/);
    assert.deepEqual(row.data, { bus: 'b1', busName: 'Bus 1', status: 'disconnected', detail: '/dev/ttyUSB0', delayS: 30 });
  });
});
