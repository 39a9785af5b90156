import assert from 'node:assert/strict';
import { AlertInputError, gearHealth, interpretAlertMessage } from '../../../lib/contracts';
import { diagnostics, gear, interpret } from './alert-messages';

const DEF = { zone: null };
describe('lib/contracts/alert-input: messages to alert actions', () => {
  it('lsd-sensor-in stale raises sensorStale (warning) with sensor, last seen and silence', () => {
    const a = interpret({
      topic: 'stale',
      payload: { kind: 'stale', zone: 'office-1', ts: 9000, sensorId: 'dali-10', silentS: 300, lastSeen: 6000 },
    });
    assert.equal(a.type, 'raise');
    if (a.type !== 'raise') return;
    assert.deepEqual(
      { ...a.row, message: undefined },
      {
        ts: 9000,
        zone: 'office-1',
        kind: 'sensorStale',
        severity: 'warning',
        message: undefined,
        data: { sensorId: 'dali-10', lastSeen: 6000, silentS: 300 },
      },
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
    assert.deepEqual(
      interpret({ topic: 'recovered', payload: { kind: 'recovered', zone: 'office-1', sensorId: 'dali-10', silentS: 400 } }),
      {
        type: 'resolve',
        kind: 'sensorStale',
        zone: 'office-1',
        by: 'recovered',
        match: { sensorId: 'dali-10' },
      },
    );
    assert.equal(interpret({ topic: 'manualChange', payload: { kind: 'manualChange', zone: 'z', address: 'A1' } }).type, 'ignore');
    assert.equal(interpret({ topic: 'telemetry', payload: { kind: 'ai-call', zone: 'z', model: 'm' } }).type, 'ignore');
  });

  it('ai-decide aiCircuitOpen raises aiCircuitOpen with model, reason, retryAt; aiCircuitClosed resolves it', () => {
    const open = interpret(
      {
        topic: 'alert',
        payload: {
          ts: 100,
          kind: 'aiCircuitOpen',
          model: 'gpt-x',
          consecutiveFailures: 3,
          reason: 'timeout',
          openedAt: 100,
          retryAt: 400100,
        },
      },
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
    const a = interpret(
      diagnostics(
        [gear('A0'), gear('A1', { lampFailure: true }), gear('A2', { present: false }), gear('A3', { controlGearFailure: true })],
        { zone: 'z1' },
      ),
    );
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
    assert.deepEqual(gearHealth({ address: 'A4', present: true, status: { lampFailure: true }, lampFailure: null }), {
      address: 'A4',
      failing: 'lampFailure',
    });
    assert.throws(() => interpret(diagnostics([{ present: true }])), AlertInputError);
    assert.throws(() => interpret({ payload: { kind: 'diagnostics', gear: 'A1' } }), /payload.gear must be an array/);
  });

  it('generic alert: kind and message required, severity defaults by kind, zone defaults to the node zone', () => {
    const a = interpret({ topic: 'alert', payload: { kind: 'other', message: 'door open', data: { door: 2 } } }, 'hall');
    assert.deepEqual(a, {
      type: 'raise',
      row: { zone: 'hall', kind: 'other', severity: 'warning', message: 'door open', data: { door: 2 } },
    });
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
    assert.deepEqual(interpret({ topic: 'resolve', payload: { kind: 'other', zone: 'z', by: 'alice' } }), {
      type: 'resolve',
      kind: 'other',
      zone: 'z',
      by: 'alice',
    });
    assert.throws(() => interpret({ topic: 'resolve', payload: { id: 'seven' } }), /payload.id/);
    assert.throws(() => interpret({ topic: 'resolve', payload: {} }), /needs payload.id/);
  });

  it('anything else is refused with a message naming what was expected', () => {
    assert.throws(
      () => interpret({ topic: 'x', payload: { kind: 'hello' } }),
      (e: unknown) => e instanceof AlertInputError && /not an alert input/.test(e.message),
    );
    assert.throws(() => interpret({ payload: 'stale' }), /payload must be an object/);
    assert.throws(() => interpret({ payload: null }), /payload must be an object, got null/);
    assert.throws(() => interpretAlertMessage({ payload: [1] }, DEF), /an array/);
  });
});
