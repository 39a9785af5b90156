import type { Setpoint } from '../../../lib/contracts';
import { strict as assert } from 'node:assert';
import { isManualChange, OverrideGate, parseOverrideRow, resolveOverrideGateConfig } from '../../../lib/control/override';
import { ControlInputError } from '../../../lib/control/types';

const MIN = 60_000;
const T = Date.UTC(2024, 2, 4, 9, 0, 0);
const auto = (intensity: number, cct = 4000, zone = 'office'): Setpoint => ({ zone, intensity, cct, reason: 'rules', source: 'rules' });
const manual = (intensity: number, extra: Partial<Setpoint> = {}): Setpoint => ({
  zone: 'office',
  intensity,
  cct: 3000,
  reason: 'wall panel',
  source: 'manual',
  ...extra,
});

describe('control/override: manual overrides and anti-flicker gate', () => {
  it('a manual setpoint passes and blocks automatic setpoints until it expires (default 30 min)', () => {
    const g = new OverrideGate({});
    g.submit(auto(50), T);
    const m = g.submit(manual(80), T + MIN);
    assert.equal(m.passed, true);
    assert.equal(m.override?.expiresAt, T + MIN + 30 * MIN);
    const blocked = g.submit(auto(40), T + 10 * MIN);
    assert.equal(blocked.passed, false);
    assert.equal(blocked.blockedBy, 'override');
    assert.match(blocked.reason, /override until 2024-03-04T09:31:00.000Z \(21 min left\)/);
    // other zones are not affected
    assert.equal(g.submit(auto(40, 4000, 'hall'), T + 10 * MIN).passed, true);
    // expiry
    const after = g.submit(auto(70), T + 31 * MIN);
    assert.equal(after.passed, true);
    assert.equal(after.expired.length, 1);
    assert.equal(g.active('office', T + 31 * MIN), null);
  });

  it("uses the setpoint's overrideMinutes, and 0 means pass without holding", () => {
    const g = new OverrideGate({});
    assert.equal(g.submit(manual(80, { overrideMinutes: 5 }), T).override?.expiresAt, T + 5 * MIN);
    assert.equal(g.submit(auto(40), T + 4 * MIN).blockedBy, 'override');
    assert.equal(g.submit(auto(60), T + 5 * MIN).passed, true);
    const g2 = new OverrideGate({});
    assert.equal(g2.submit(manual(80, { overrideMinutes: 0 }), T).override, null);
    assert.equal(g2.submit(auto(60), T + 1000).passed, true);
  });

  it('clear(zone) ends an override early', () => {
    const g = new OverrideGate({});
    g.submit(manual(80), T);
    assert.equal(g.clear('office'), true);
    assert.equal(g.clear('office'), false);
    assert.equal(g.submit(auto(60), T + MIN).passed, true);
  });

  it('starts an override for a manual change seen on the bus (HA rule: > 10 % or > 100 K)', () => {
    const g = new OverrideGate({});
    g.submit(auto(50, 4000), T);
    assert.equal(g.observe('office', { intensity: 55, cct: 4050 }, T + MIN), null, 'small drift is not manual');
    const row = g.observe('office', { intensity: 75 }, T + MIN);
    assert.ok(row);
    assert.equal(row.source, 'bus');
    assert.equal(g.submit(auto(50), T + 2 * MIN).blockedBy, 'override');
    assert.equal(isManualChange({ intensity: 50, cct: 4000 }, { cct: 4150 }), true);
    assert.equal(isManualChange({ intensity: 50, cct: 4000 }, { intensity: 59 }), false);
  });

  it('anti-flicker survives a restart: appliedJSON -> restoreApplied keeps interval, step and manual-change detection', () => {
    const g = new OverrideGate({ minIntervalS: 60, maxStepPct: 20 });
    assert.equal(g.submit(auto(80), T).reason, 'gate:first');
    const saved = JSON.parse(JSON.stringify(g.appliedJSON()));
    assert.deepEqual(saved, [{ zone: 'office', intensity: 80, cct: 4000, at: T, automatic: true }]);

    const fresh = new OverrideGate({ minIntervalS: 60, maxStepPct: 20 });
    assert.equal(fresh.submit(auto(20), T + 10_000).reason, 'gate:first', 'without the saved level: any jump passes');

    const restored = new OverrideGate({ minIntervalS: 60, maxStepPct: 20 });
    assert.deepEqual(restored.restoreApplied([...saved, { zone: 'bad', intensity: 140, cct: 4000, at: T, automatic: true }, null, 'x']), [
      'office',
    ]);
    assert.equal(restored.submit(auto(20), T + 10_000).blockedBy, 'min-interval', 'the interval runs on');
    const stepped = restored.submit(auto(20), T + 2 * MIN);
    assert.equal(stepped.setpoint?.intensity, 60, 'the step limit applies from 80 %');
    assert.equal(
      restored.observe('office', { intensity: 15 }, T + 3 * MIN)?.source,
      'bus',
      'a hand change against the restored level is seen',
    );
    assert.deepEqual(restored.restoreApplied(saved), [], 'known zones keep their newer level');
  });

  it('survives a restart: toJSON -> fromRows round trip, snake_case rows, expired and invalid rows skipped', () => {
    const g = new OverrideGate({});
    g.submit(manual(80), T);
    g.noteManualChange('hall', T + MIN, { intensity: 20, minutes: 90 });
    const rows = JSON.parse(JSON.stringify(g.toJSON()));
    const restored = OverrideGate.fromRows(rows, {}, T + 2 * MIN);
    assert.deepEqual(restored.toJSON(), g.toJSON());
    assert.equal(restored.submit(auto(30), T + 3 * MIN).blockedBy, 'override');
    // later: the office override expired while Node-RED was down, the hall one still holds
    const later = new OverrideGate({});
    const stats = later.loadRows([...rows, { zone: 'x', started_at: 'nope' }, 42], T + 40 * MIN);
    assert.deepEqual(stats, { loaded: 1, skipped: 3 });
    assert.equal(later.active('hall', T + 40 * MIN)?.zone, 'hall');
    // snake_case SQLite row with ISO times
    const row = parseOverrideRow({
      zone: 'a',
      started_at: '2024-03-04T09:00:00Z',
      expires_at: '2024-03-04T09:30:00Z',
      source: 'manual',
      intensity: 40,
      cct: null,
      reason: 'x',
    });
    assert.deepEqual(row, { zone: 'a', startedAt: T, expiresAt: T + 30 * MIN, source: 'manual', intensity: 40, cct: null, reason: 'x' });
    assert.equal(later.nextExpiry(), T + MIN + 90 * MIN);
  });

  it('refuses automatic changes inside the deadband, except switching on or off', () => {
    const g = new OverrideGate({ deadbandPct: 5, cctDeadbandKelvin: 50 });
    g.submit(auto(50), T);
    const r = g.submit(auto(53, 4030), T + 2 * MIN);
    assert.equal(r.blockedBy, 'deadband');
    assert.equal(g.submit(auto(50, 4100), T + 2 * MIN).passed, true, 'colour moved enough');
    const g2 = new OverrideGate({ deadbandPct: 5 });
    g2.submit(auto(3), T);
    assert.equal(g2.submit(auto(0), T + 2 * MIN).passed, true, 'off always passes');
  });

  it('refuses automatic changes closer than minIntervalS', () => {
    const g = new OverrideGate({ minIntervalS: 60 });
    g.submit(auto(50), T);
    const r = g.submit(auto(30), T + 30_000);
    assert.equal(r.blockedBy, 'min-interval');
    assert.equal(g.submit(auto(30), T + 60_000).passed, true);
  });

  it('defers a setpoint refused by the minimum interval and releases it when the interval has run out', () => {
    const g = new OverrideGate({ minIntervalS: 60, maxStepPct: 100 });
    g.submit(auto(80), T);
    const r = g.submit(auto(10), T + 20_000);
    assert.equal(r.blockedBy, 'min-interval');
    assert.equal(r.deferredUntil, T + 60_000);
    assert.match(r.reason, /deferred until 2024-03-04T09:01:00.000Z/);
    assert.equal(g.nextDeferred(), T + 60_000);
    assert.deepEqual(g.releaseDue(T + 59_999), [], 'not before its time');
    const [released, ...more] = g.releaseDue(T + 60_000);
    assert.equal(more.length, 0);
    assert.equal(released?.setpoint?.intensity, 10, 'the vacant room dims although the decider never sends 10 % again');
    assert.match(released?.reason ?? '', /^gate:deferred 40s, pass$/);
    assert.equal(g.lastApplied('office')?.intensity, 10);
    assert.equal(g.nextDeferred(), null);
    assert.deepEqual(g.releaseDue(T + 10 * MIN), [], 'released once');
  });

  it('drops a deferred setpoint for anything newer in its zone, and keeps zones apart', () => {
    const newer = new OverrideGate({ minIntervalS: 60, maxStepPct: 100 });
    newer.submit(auto(80), T);
    newer.submit(auto(10), T + 10_000);
    assert.equal(newer.submit(auto(40), T + 20_000).deferredUntil, T + 60_000, 'the newest wish is deferred instead');
    assert.deepEqual(
      newer.releaseDue(T + 60_000).map((r) => r.setpoint?.intensity),
      [40],
    );
    const deadband = new OverrideGate({ minIntervalS: 60, maxStepPct: 100 });
    deadband.submit(auto(80), T);
    deadband.submit(auto(10), T + 10_000);
    assert.equal(deadband.submit(auto(78), T + 20_000).blockedBy, 'deadband', 'the decider wants the level as it is now');
    assert.equal(deadband.nextDeferred(), null);
    const manualSetpoint = new OverrideGate({ minIntervalS: 60 });
    manualSetpoint.submit(auto(80), T);
    manualSetpoint.submit(auto(10), T + 10_000);
    manualSetpoint.submit(manual(60), T + 20_000);
    assert.equal(manualSetpoint.nextDeferred(), null, 'a person set the light');
    const bus = new OverrideGate({ minIntervalS: 60 });
    bus.submit(auto(80), T);
    bus.submit(auto(10), T + 10_000);
    bus.noteManualChange('office', T + 20_000, { intensity: 60, minutes: 0 });
    assert.deepEqual(bus.releaseDue(T + 2 * MIN), [], 'a change seen on the bus drops it, even without an override');
    const cleared = new OverrideGate({ minIntervalS: 60 });
    cleared.submit(auto(80), T);
    cleared.submit(auto(10), T + 10_000);
    cleared.clear('office');
    assert.equal(cleared.nextDeferred(), null);
    const zones = new OverrideGate({ minIntervalS: 60, maxStepPct: 100 });
    zones.submit(auto(80), T);
    zones.submit(auto(80, 4000, 'hall'), T);
    zones.submit(auto(10), T + 10_000);
    zones.submit(auto(5, 4000, 'hall'), T + 30_000);
    assert.deepEqual(
      zones.releaseDue(T + 60_000).map((r) => [r.setpoint?.zone, r.setpoint?.intensity]),
      [
        ['office', 10],
        ['hall', 5],
      ],
      'each zone releases its own setpoint, none crosses to another zone',
    );
  });

  it('takes a step-limited reduction on to its target one step per interval by itself', () => {
    const g = new OverrideGate({ minIntervalS: 60, maxStepPct: 20 });
    g.submit(auto(90), T);
    const first = g.submit(auto(20), T + MIN);
    assert.equal(first.setpoint?.intensity, 70);
    assert.equal(first.deferredUntil, T + 2 * MIN);
    const levels: number[] = [];
    for (let now = T + 2 * MIN; now <= T + 10 * MIN; now += MIN)
      for (const r of g.releaseDue(now)) levels.push(r.setpoint?.intensity ?? -1);
    assert.deepEqual(levels, [50, 30, 20]);
    assert.equal(g.nextDeferred(), null, 'nothing left once at the target');
    const noInterval = new OverrideGate({ minIntervalS: 0, minIntervalUpS: 0, maxStepPct: 20 });
    noInterval.submit(auto(90), T);
    assert.equal(noInterval.submit(auto(20), T + 1000).setpoint?.intensity, 70);
    assert.equal(noInterval.nextDeferred(), null, 'without an interval the decider sends the next step');
  });

  it('clamps big automatic steps toward the target (limitedBy max-step) instead of refusing', () => {
    const g = new OverrideGate({ maxStepPct: 20 });
    g.submit(auto(90), T);
    const r = g.submit(auto(20), T + MIN);
    assert.equal(r.passed, true);
    assert.equal(r.limitedBy, 'max-step');
    assert.equal(r.setpoint?.intensity, 70);
    assert.match(r.setpoint?.reason ?? '', /gate:max-step 20%/);
    assert.equal(g.submit(auto(20), T + 2 * MIN).setpoint?.intensity, 50);
    assert.equal(g.lastApplied('office')?.intensity, 50);
  });

  it('does not limit rises unless maxStepUpPct is set', () => {
    const g = new OverrideGate({ maxStepPct: 20 });
    g.submit(auto(30), T);
    assert.equal(g.submit(auto(90), T + MIN).setpoint?.intensity, 90);
    const g2 = new OverrideGate({ maxStepPct: 20, maxStepUpPct: 25 });
    g2.submit(auto(30), T);
    const r = g2.submit(auto(90), T + MIN);
    assert.equal(r.setpoint?.intensity, 55);
    assert.equal(r.limitedBy, 'max-step');
  });

  it('lets someone walking into a dark room have light at once (wake from <= 10 %)', () => {
    const g = new OverrideGate({ maxStepPct: 20, maxStepUpPct: 20, minIntervalS: 60 });
    g.submit(auto(0), T);
    const r = g.submit(auto(80), T + 5000);
    assert.equal(r.passed, true);
    assert.equal(r.setpoint?.intensity, 80);
    assert.equal(r.limitedBy, undefined);
  });

  it('lets an urgent rise (>= urgentRisePct points) skip the interval; small rises and reductions still wait', () => {
    const g = new OverrideGate({ minIntervalS: 60, maxStepPct: 20 });
    g.submit(auto(60), T);
    assert.equal(g.submit(auto(40), T + MIN).setpoint?.intensity, 40, 'a dimming step passes after the interval');
    // Someone comes back 20 s later: a 40-point rise must not wait out the interval.
    const r = g.submit(auto(80), T + MIN + 20_000);
    assert.equal(r.passed, true);
    assert.equal(r.setpoint?.intensity, 80);
    assert.match(r.reason, /gate:urgent-rise/);
    assert.equal(g.submit(auto(60), T + MIN + 30_000).blockedBy, 'min-interval', 'a reduction right after still waits');
    assert.equal(g.submit(auto(90), T + MIN + 30_000).blockedBy, 'min-interval', 'a 10-point rise still waits');
    const never = new OverrideGate({ minIntervalS: 60, urgentRisePct: null });
    never.submit(auto(40), T);
    assert.equal(never.submit(auto(90), T + 20_000).blockedBy, 'min-interval', 'urgentRisePct null: rises wait too');
  });

  it('lets a small rise pass after minIntervalUpS (30 s) while reductions wait minIntervalS (60 s)', () => {
    const g = new OverrideGate({ minIntervalS: 60, maxStepPct: 20 });
    g.submit(auto(50), T);
    assert.equal(g.submit(auto(58), T + 29_000).blockedBy, 'min-interval', 'a rise 29 s after a change waits');
    assert.match(g.submit(auto(58), T + 29_000).reason, /29s < 30s/);
    assert.equal(g.submit(auto(42), T + 30_000).blockedBy, 'min-interval', 'a reduction 30 s after a change waits');
    const rise = g.submit(auto(58), T + 30_000);
    assert.equal(rise.passed, true, 'a rise 30 s after a change passes (daylight fell under a cloud)');
    assert.equal(rise.setpoint?.intensity, 58);
    const same = new OverrideGate({ minIntervalS: 60, minIntervalUpS: null });
    same.submit(auto(50), T);
    assert.equal(same.submit(auto(58), T + 45_000).blockedBy, 'min-interval', 'minIntervalUpS null: rises wait minIntervalS');
    assert.throws(() => new OverrideGate({ minIntervalUpS: -1 }), ControlInputError);
  });

  it('notSent: ends only the override its own message started, brings back the one it replaced, and forgets the level', () => {
    const g = new OverrideGate({});
    const first = g.submit(manual(30), T, 'm-a').override;
    g.submit(manual(42), T + MIN, 'm-b');
    assert.deepEqual(g.notSent('office', 'm-old', T + 2 * MIN), { cleared: false, restored: null }, 'another message: nothing');
    const r = g.notSent('office', 'm-b', T + 2 * MIN);
    assert.equal(r.cleared, true);
    assert.deepEqual(r.restored, first);
    assert.equal(g.submit(auto(80), T + 3 * MIN).blockedBy, 'override', 'the 30 % hold holds again');
    assert.deepEqual(
      g.notSent('office', 'm-a', T + 3 * MIN),
      { cleared: false, restored: null },
      'a restored hold is not its message any more',
    );
    // A change on the bus after the manual setpoint: that override is not the message's to end.
    const h = new OverrideGate({});
    h.submit(manual(50), T, 'm-c');
    h.noteManualChange('office', T + MIN, { intensity: 50 });
    assert.equal(h.notSent('office', 'm-c', T + 2 * MIN).cleared, false);
    // The level that never arrived is forgotten: the next automatic setpoint passes as the first.
    const k = new OverrideGate({ overrideMinutes: 0 });
    k.submit(auto(60), T, 'auto-1');
    k.notSent('office', 'auto-1', T + MIN);
    assert.match(k.submit(auto(61), T + MIN + 1000).reason, /first/);
  });

  it('never throws: invalid setpoints are refused with blockedBy invalid', () => {
    const g = new OverrideGate({});
    for (const bad of [null, 5, 'x', { zone: 'a' }, { ...auto(50), intensity: NaN }, { ...auto(50), source: 'robot' }]) {
      const r = g.submit(bad, T);
      assert.equal(r.passed, false);
      assert.equal(r.blockedBy, 'invalid');
    }
    assert.equal(g.submit(auto(50), NaN).blockedBy, 'invalid');
  });

  it('validates its configuration', () => {
    assert.throws(
      () => resolveOverrideGateConfig({ maxStepPct: 0 }),
      (e: unknown) => e instanceof ControlInputError && e.field === 'maxStepPct',
    );
    assert.throws(() => new OverrideGate({ overrideMinutes: -1 }), /overrideMinutes/);
    assert.equal(new OverrideGate({ name: 'gate', minIntervalS: 30 }).config.minIntervalS, 30);
  });
});
