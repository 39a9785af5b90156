import assert from 'node:assert/strict';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';
import {
  AlertBook,
  AlertInputError,
  DisconnectWatch,
  busConnected,
  busDisconnectedRow,
  gearHealth,
  interpretAlertMessage,
  type AlertAction,
  type TimerPort,
} from '../../../lib/store/alert-events';
import { LightingStore, RowValidationError } from '../../../lib/store';

const DEF = { zone: null };
const interpret = (msg: { topic?: unknown; payload?: unknown }, zone: string | null = null): AlertAction => interpretAlertMessage(msg, { zone });

/** A diagnostics answer of dali-dt8-out (only the fields the alerts look at, plus a few others). */
function gear(address: string, over: { present?: boolean; lampFailure?: boolean | null; controlGearFailure?: boolean } = {}): Record<string, unknown> {
  const present = over.present ?? true;
  return {
    address,
    present,
    status: present ? { raw: 0, controlGearFailure: over.controlGearFailure ?? false, lampFailure: over.lampFailure === true, lampOn: true } : null,
    lampFailure: present ? (over.lampFailure ?? false) : null,
    dt8: true,
  };
}
const diagnostics = (gearList: unknown[], extra: Record<string, unknown> = {}): { topic: string; payload: unknown } => ({
  topic: 'diagnostics',
  payload: { kind: 'diagnostics', address: 'BC', ts: 5000, gear: gearList, ...extra },
});

describe('lib/store/alert-events: messages to alert actions', () => {
  it('lsd-sensor-in stale raises sensorStale (warning) with sensor, last seen and silence', () => {
    const a = interpret({ topic: 'stale', payload: { kind: 'stale', zone: 'office-1', ts: 9000, sensorId: 'dali-10', silentS: 300, lastSeen: 6000 } });
    assert.equal(a.type, 'raise');
    if (a.type !== 'raise') return;
    assert.deepEqual(
      { ...a.row, message: undefined },
      { ts: 9000, zone: 'office-1', kind: 'sensorStale', severity: 'warning', message: undefined, data: { sensorId: 'dali-10', lastSeen: 6000, silentS: 300 } },
    );
    assert.match(a.row.message, /dali-10.*office-1.*300 s/);
  });

  it('stale without a zone takes the default zone; lastSeen null (nothing since start) is kept as null', () => {
    const a = interpret({ payload: { kind: 'stale', sensorId: 's', silentS: 10, lastSeen: null } }, 'hall');
    assert.ok(a.type === 'raise');
    assert.equal(a.row.zone, 'hall');
    assert.deepEqual(a.row.data, { sensorId: 's', lastSeen: null, silentS: 10 });
  });

  it('recovered resolves the zone sensorStale, naming the sensor; manualChange and ai telemetry are ignored', () => {
    assert.deepEqual(interpret({ topic: 'recovered', payload: { kind: 'recovered', zone: 'office-1', sensorId: 'dali-10', silentS: 400 } }), {
      type: 'resolve',
      kind: 'sensorStale',
      zone: 'office-1',
      by: 'recovered',
      match: { sensorId: 'dali-10' },
    });
    assert.equal(interpret({ topic: 'manualChange', payload: { kind: 'manualChange', zone: 'z', address: 'A1' } }).type, 'ignore');
    assert.equal(interpret({ topic: 'telemetry', payload: { kind: 'ai-call', zone: 'z', model: 'm' } }).type, 'ignore');
  });

  it('ai-decide aiCircuitOpen raises aiCircuitOpen with model, reason, retryAt; aiCircuitClosed resolves it', () => {
    const open = interpret(
      { topic: 'alert', payload: { ts: 100, kind: 'aiCircuitOpen', model: 'gpt-x', consecutiveFailures: 3, reason: 'timeout', openedAt: 100, retryAt: 400100 } },
      'site',
    );
    assert.ok(open.type === 'raise');
    assert.equal(open.row.kind, 'aiCircuitOpen');
    assert.equal(open.row.severity, 'warning');
    assert.equal(open.row.zone, 'site');
    assert.deepEqual(open.row.data, { model: 'gpt-x', reason: 'timeout', retryAt: 400100, consecutiveFailures: 3, openedAt: 100 });
    assert.match(open.row.message, /gpt-x.*timeout/);
    assert.deepEqual(interpret({ topic: 'alert', payload: { ts: 1, kind: 'aiCircuitClosed', model: 'gpt-x', consecutiveFailures: 0 } }), {
      type: 'resolve',
      kind: 'aiCircuitOpen',
      zone: null,
      by: 'aiCircuitClosed',
    });
  });

  it('diagnostics: missing, control gear failure and lamp failure are failing, the rest healthy', () => {
    const a = interpret(diagnostics([gear('A0'), gear('A1', { lampFailure: true }), gear('A2', { present: false }), gear('A3', { controlGearFailure: true })], { zone: 'z1' }));
    assert.deepEqual(a, {
      type: 'gear',
      zone: 'z1',
      report: 'BC',
      ts: 5000,
      gear: [
        { address: 'A0', failing: null },
        { address: 'A1', failing: 'lampFailure' },
        { address: 'A2', failing: 'missing' },
        { address: 'A3', failing: 'controlGearFailure' },
      ],
    });
    assert.deepEqual(gearHealth({ address: 'A4', present: true, status: { lampFailure: true }, lampFailure: null }), { address: 'A4', failing: 'lampFailure' });
    assert.throws(() => interpret(diagnostics([{ present: true }])), AlertInputError);
    assert.throws(() => interpret({ payload: { kind: 'diagnostics', gear: 'A1' } }), /payload.gear must be an array/);
  });

  it('generic alert: kind and message required, severity defaults by kind, zone defaults to the node zone', () => {
    const a = interpret({ topic: 'alert', payload: { kind: 'other', message: 'door open', data: { door: 2 } } }, 'hall');
    assert.deepEqual(a, { type: 'raise', row: { zone: 'hall', kind: 'other', severity: 'warning', message: 'door open', data: { door: 2 } } });
    const lamp = interpret({ topic: 'alert', payload: { kind: 'lampFailure', zone: 'z', message: 'x' } });
    assert.ok(lamp.type === 'raise');
    assert.equal(lamp.row.severity, 'critical');
    const own = interpret({ topic: 'alert', payload: { kind: 'aiCircuitOpen', message: 'own text', severity: 'info' } });
    assert.ok(own.type === 'raise');
    assert.deepEqual([own.row.message, own.row.severity], ['own text', 'info']);
    assert.throws(() => interpret({ topic: 'alert', payload: { kind: 'fire', message: 'x' } }), /payload.kind must be one of lampFailure/);
    assert.throws(() => interpret({ topic: 'alert', payload: { kind: 'other' } }), /payload.message/);
    assert.throws(() => interpret({ topic: 'alert', payload: { kind: 'other', message: 'x', severity: 'fatal' } }), /severity/);
    assert.throws(() => interpret({ topic: 'alert', payload: { kind: 'other', message: 'x', zone: 5 } }), /payload.zone/);
  });

  it('generic resolve: by id or by kind and zone; by defaults to manual', () => {
    assert.deepEqual(interpret({ topic: 'resolve', payload: { id: 7 } }), { type: 'resolveId', id: 7, by: 'manual' });
    assert.deepEqual(interpret({ topic: 'resolve', payload: { kind: 'other', zone: 'z', by: 'alice' } }), { type: 'resolve', kind: 'other', zone: 'z', by: 'alice' });
    assert.throws(() => interpret({ topic: 'resolve', payload: { id: 'seven' } }), /payload.id/);
    assert.throws(() => interpret({ topic: 'resolve', payload: {} }), /needs payload.id/);
  });

  it('anything else is refused with a message naming what was expected', () => {
    assert.throws(() => interpret({ topic: 'x', payload: { kind: 'hello' } }), (e: unknown) => e instanceof AlertInputError && /not an alert input/.test(e.message));
    assert.throws(() => interpret({ payload: 'stale' }), /payload must be an object/);
    assert.throws(() => interpret({ payload: null }), /payload must be an object, got null/);
    assert.throws(() => interpretAlertMessage({ payload: [1] }, DEF), /an array/);
  });
});

for (const engine of STORE_ENGINES) describe(`lib/store/alert-events: AlertBook on a real store [${engine}]`, function () {
  const target = storeTargets(engine, this);
  let store: LightingStore;
  let book: AlertBook;

  beforeEach(async () => {
    store = await LightingStore.open({ path: target.next('a') });
    book = new AlertBook(() => Promise.resolve(store));
  });
  afterEach(() => store.close());

  const stale = (zone: string, sensorId = 'dali-10'): AlertAction => interpret({ payload: { kind: 'stale', zone, sensorId, silentS: 300, lastSeen: 1 } });
  const recovered = (zone: string, sensorId = 'dali-10'): AlertAction => interpret({ payload: { kind: 'recovered', zone, sensorId, silentS: 400 } });

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
    assert.deepEqual(first.map((e) => e.event), ['raised']);
    const a1 = first[0]!.alert;
    assert.equal(a1.severity, 'critical');
    assert.deepEqual(a1.data, { address: 'A1', addresses: ['A1'], gear: [{ address: 'A1', reason: 'lampFailure' }], report: 'BC' });
    assert.match(a1.message, /A1 \(lamp failure\)/);

    assert.deepEqual(await book.apply(interpret(diagnostics([gear('A0'), gear('A1', { lampFailure: true })], { zone: 'z' }))), [], 'same again');
    assert.deepEqual(await book.apply(interpret(diagnostics([gear('A1', { lampFailure: true })], { zone: 'z', address: 'A1' }))), [], 'single address, same');

    const grown = await book.apply(interpret(diagnostics([gear('A10', { present: false })], { zone: 'z', address: 'A10' })));
    assert.deepEqual(grown.map((e) => [e.event, e.alert.resolvedBy]), [['resolved', 'superseded'], ['raised', null]]);
    assert.deepEqual((grown[1]!.alert.data as { addresses: string[] }).addresses, ['A1', 'A10'], 'gear of earlier reports kept, bus order');
    assert.match(grown[1]!.alert.message, /A1 \(lamp failure\), A10 \(missing\)/);

    const other = await book.apply(interpret(diagnostics([gear('A5', { controlGearFailure: true })], { zone: 'other' })));
    assert.deepEqual(other.map((e) => e.event), ['raised'], 'another zone has its own alert');

    const healthy = await book.apply(interpret(diagnostics([gear('A1'), gear('A10')], { zone: 'z' })));
    assert.deepEqual(healthy.map((e) => [e.event, e.alert.resolvedBy]), [['resolved', 'healthy']]);
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
    assert.deepEqual((await book.apply({ type: 'raise', row: { kind: 'other', message: 'again', zone: 'z' } })).map((e) => e.event), ['raised'], 'later actions still run');
  });

  it('applies actions in call order (a raise and its recovery sent together never cross)', async () => {
    const results = await Promise.all([book.apply(stale('a')), book.apply(recovered('a')), book.apply(stale('a'))]);
    assert.deepEqual(results.map((r) => r.map((e) => e.event)), [['raised'], ['resolved'], ['raised']]);
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
    assert.deepEqual(['connected', 'busy', 'connecting', 'disconnected', 'error', 'portInUse', 'closed'].map(busConnected), [true, true, false, false, false, false, null]);
    const row = busDisconnectedRow('z', { id: 'b1', name: 'Bus 1' }, { kind: 'disconnected', detail: '/dev/ttyUSB0' }, 30);
    assert.equal(row.kind, 'busDisconnected');
    assert.equal(row.severity, 'critical');
    assert.match(row.message, /Bus 1.*30 s.*disconnected.*ttyUSB0/);
    assert.deepEqual(row.data, { bus: 'b1', busName: 'Bus 1', status: 'disconnected', detail: '/dev/ttyUSB0', delayS: 30 });
  });
});
