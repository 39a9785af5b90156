import assert from 'node:assert/strict';
import { CircuitBreaker, type CircuitChange, type CircuitPermit } from '../../../lib/ai/circuit';

function permitOf(b: CircuitBreaker): CircuitPermit {
  const a = b.acquire();
  assert.ok(a.allowed, `expected a permit in state ${b.state}`);
  return a.permit;
}

describe('ai/circuit: CircuitBreaker', () => {
  let t: number;
  let changes: CircuitChange[];
  let breaker: CircuitBreaker;
  beforeEach(() => {
    t = 1_000;
    changes = [];
    breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 60_000, now: () => t });
    breaker.onChange((c) => changes.push(c));
  });

  it('opens after N consecutive failures, not after N failures interrupted by a success', () => {
    breaker.failure(permitOf(breaker), 'timeout');
    breaker.failure(permitOf(breaker), 'timeout');
    breaker.success(permitOf(breaker));
    breaker.failure(permitOf(breaker), 'timeout');
    breaker.failure(permitOf(breaker), 'timeout');
    assert.equal(breaker.state, 'closed');
    breaker.failure(permitOf(breaker), 'server-error');
    assert.equal(breaker.state, 'open');
    assert.deepEqual(
      changes.map((c) => [c.previous, c.state, c.reason]),
      [['closed', 'open', 'server-error']],
    );
    assert.equal(changes[0]?.retryAt, 61_000);
    assert.equal(changes[0]?.consecutiveFailures, 3);
  });

  it('refuses calls while open, lets exactly one probe through after the cool-down, closes on its success', () => {
    for (let i = 0; i < 3; i++) breaker.failure(permitOf(breaker), 'network');
    t += 59_999;
    const refused = breaker.acquire();
    assert.ok(!refused.allowed && refused.state === 'open' && refused.retryAt === 61_000);
    t += 1;
    const probe = permitOf(breaker);
    assert.equal(probe.probe, true);
    assert.equal(breaker.state, 'halfOpen');
    const second = breaker.acquire();
    assert.ok(!second.allowed && second.probeInFlight, 'only one probe at a time');
    breaker.success(probe);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(
      changes.map((c) => c.state),
      ['open', 'halfOpen', 'closed'],
    );
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
  });

  it('re-opens for a fresh cool-down when the probe fails; an abandoned probe lets the next caller probe', () => {
    for (let i = 0; i < 3; i++) breaker.failure(permitOf(breaker), 'network');
    t += 60_000;
    const probe = permitOf(breaker);
    breaker.failure(probe, 'timeout');
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.snapshot().retryAt, t + 60_000);
    t += 60_000;
    const abandoned = permitOf(breaker);
    breaker.release(abandoned);
    assert.equal(breaker.state, 'halfOpen');
    const next = permitOf(breaker);
    assert.equal(next.probe, true);
  });

  it('ignores outcomes of calls that started before the last state change', () => {
    const stale = [permitOf(breaker), permitOf(breaker), permitOf(breaker), permitOf(breaker)];
    for (const p of stale.slice(0, 3)) breaker.failure(p, 'timeout');
    assert.equal(breaker.state, 'open');
    const before = breaker.snapshot();
    t += 10_000;
    breaker.success(stale[3] as CircuitPermit);
    assert.equal(breaker.state, 'open', 'a late success must not close an open circuit');
    breaker.failure(stale[3] as CircuitPermit, 'timeout');
    assert.deepEqual(breaker.snapshot(), before, 'a late failure must not extend the cool-down');
  });

  it('a throwing listener does not break it', () => {
    breaker.onChange(() => {
      throw new Error('listener bug');
    });
    for (let i = 0; i < 3; i++) breaker.failure(permitOf(breaker), 'network');
    assert.equal(breaker.state, 'open');
    assert.equal(changes.length, 1);
  });
});
