import assert from 'node:assert/strict';
import { RateLimiter, clientIdFrom, rateLimitAnswer } from '../../../lib/http/rate-limit';
import { mulberry32, randInt } from '../../helpers/prng';

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('lib/http rate limiter', function () {
  it('allows `limit` requests per window, then refuses with Retry-After until the oldest one leaves the window', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 3, windowMs: 10_000, now: c.now });
    assert.deepEqual(
      [rl.hit('a'), rl.hit('a'), rl.hit('a')].map((r) => [r.allowed, r.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
      ],
    );
    c.advance(2500);
    const refused = rl.hit('a');
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 0);
    assert.equal(refused.retryAfterS, 8, '10 s window, first hit 2.5 s ago: 7.5 s rounded up');
    assert.equal(rl.hit('b').allowed, true, 'another client has its own budget');
    c.advance(refused.retryAfterS * 1000);
    assert.equal(rl.hit('a').allowed, true, 'allowed again once Retry-After has passed');
  });

  it('under random arrivals never allows more than the budget in any sliding window, and never refuses below it', () => {
    for (const seed of [1, 2, 3, 42, 4242]) {
      const rng = mulberry32(seed);
      const limit = randInt(rng, 1, 8);
      const windowMs = randInt(rng, 1, 10) * 1000;
      const c = clock();
      const rl = new RateLimiter({ limit, windowMs, now: c.now, maxClients: 100 });
      const allowed = new Map<string, number[]>();
      for (let i = 0; i < 4000; i++) {
        // Bursts (0 ms gaps), short gaps and long pauses.
        const r = rng();
        c.advance(r < 0.4 ? 0 : r < 0.9 ? randInt(rng, 1, windowMs / 4) : randInt(rng, windowMs, 3 * windowMs));
        const client = `10.0.0.${randInt(rng, 1, 5)}`;
        const t = c.now();
        const hits = allowed.get(client) ?? [];
        const inWindow = hits.filter((h) => h > t - windowMs).length;
        const res = rl.hit(client);
        assert.equal(res.allowed, inWindow < limit, `seed ${seed} step ${i}: ${inWindow} allowed in the window, limit ${limit}`);
        if (res.allowed) {
          hits.push(t);
          allowed.set(client, hits);
          assert.equal(res.remaining, limit - inWindow - 1, `seed ${seed} step ${i}: remaining`);
        } else {
          assert.ok(res.retryAfterS >= 1 && res.retryAfterS <= Math.ceil(windowMs / 1000), `seed ${seed}: retryAfterS ${res.retryAfterS}`);
        }
      }
      for (const [client, hits] of allowed) {
        for (let i = 0; i < hits.length; i++) {
          const t = hits[i] as number;
          const n = hits.filter((h) => h > t - windowMs && h <= t).length;
          assert.ok(n <= limit, `seed ${seed} ${client}: ${n} requests in the window ending ${t}, limit ${limit}`);
        }
      }
    }
  });

  it('a flood of 100 000 distinct clients cannot grow the table beyond maxClients; idle clients are swept', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 5, windowMs: 60_000, maxClients: 1000, now: c.now });
    const rng = mulberry32(7);
    let maxSize = 0;
    for (let i = 0; i < 100_000; i++) {
      rl.hit(`${randInt(rng, 0, 255)}.${randInt(rng, 0, 255)}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 10 === 0) c.advance(1);
      maxSize = Math.max(maxSize, rl.size);
    }
    assert.ok(maxSize <= 1000, `table grew to ${maxSize}`);
    c.advance(60_001);
    rl.hit('late-client');
    assert.equal(rl.size, 1, 'every idle client swept once the window has passed');
  });

  it('a busy client stays limited while a flood of new clients stays within the table', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 2, windowMs: 60_000, maxClients: 50, now: c.now });
    assert.equal(rl.hit('busy').allowed, true);
    assert.equal(rl.hit('busy').allowed, true);
    for (let i = 0; i < 20; i++) rl.hit(`other-${i}`);
    assert.equal(rl.hit('busy').allowed, false, 'its history is kept while the table has room');
    assert.ok(rl.size <= 50);
  });

  it('rejects nonsensical options', () => {
    assert.throws(() => new RateLimiter({ limit: 0 }), /limit/);
    assert.throws(() => new RateLimiter({ windowMs: 1.5 }), /windowMs/);
    assert.throws(() => new RateLimiter({ maxClients: -1 }), /maxClients/);
  });

  it('answers 429 like the reference: "Rate limit exceeded" and a Retry-After in whole seconds', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 1, windowMs: 60_000, now: c.now });
    rl.hit('x');
    c.advance(100);
    const answer = rateLimitAnswer(rl.hit('x'));
    assert.equal(answer.status, 429);
    assert.deepEqual(answer.body, { detail: 'Rate limit exceeded' });
    assert.equal(answer.headers['Retry-After'], '60');
  });

  describe('client id', function () {
    const req = (remote: string, xff?: string | string[]) => ({
      socket: { remoteAddress: remote },
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    });

    it('uses the socket address and ignores X-Forwarded-For unless trustProxy is set', () => {
      assert.equal(clientIdFrom(req('::ffff:192.168.1.5', '1.2.3.4')), '192.168.1.5');
      assert.equal(clientIdFrom(req('10.0.0.1', '1.2.3.4'), false), '10.0.0.1');
    });

    it('with trustProxy takes the address the trusted proxy saw (from the right), not a spoofed left entry', () => {
      assert.equal(clientIdFrom(req('10.0.0.1', 'spoofed, 203.0.113.9'), true), '203.0.113.9');
      assert.equal(clientIdFrom(req('10.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.2'), 2), '203.0.113.9');
      assert.equal(clientIdFrom(req('10.0.0.1', ['198.51.100.1', '203.0.113.7']), true), '203.0.113.7');
    });

    it('falls back to the socket address when the header is missing or garbage', () => {
      assert.equal(clientIdFrom(req('10.0.0.1'), true), '10.0.0.1');
      assert.equal(clientIdFrom(req('10.0.0.1', 'not-an-ip'), true), '10.0.0.1');
      assert.equal(clientIdFrom({ headers: {} }, true), 'unknown');
      assert.equal(clientIdFrom(req('10.0.0.1', '[2001:db8::1]:443'), true), '2001:db8::1');
    });
  });
});
