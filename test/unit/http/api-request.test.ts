import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  acquireSharedLimiter,
  API_OPERATIONS,
  ApiGuard,
  type ApiRejected,
  type ApiRequestLike,
  type ApiResult,
  requestPath,
  sharedLimiterUsers,
  validateApiInput,
} from '../../../lib/http/api-request';
import { RateLimiter } from '../../../lib/http/rate-limit';
import { ALERT_KINDS } from '../../../lib/contracts';

const TOKEN = 'super-secret-admin-token';
/** The reference service's sample personal.json (a Fernet token made with its README key). */
const SAMPLE_PROFILE = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8'),
) as { profile_id: string; encrypted_payload: string };
const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

function accepted(r: ApiResult): Extract<ApiResult, { ok: true }> {
  assert.equal(r.ok, true, r.ok ? '' : `rejected: ${r.body.detail}`);
  return r as Extract<ApiResult, { ok: true }>;
}

function rejected(r: ApiResult, status: number, detail?: RegExp): ApiRejected {
  assert.equal(r.ok, false, 'rejected');
  const x = r as ApiRejected;
  assert.equal(x.status, status, x.body.detail);
  assert.deepEqual(Object.keys(x.body), ['detail']);
  if (detail) assert.match(x.body.detail, detail);
  return x;
}

function req(overrides: Partial<ApiRequestLike> = {}): ApiRequestLike {
  return { method: 'POST', path: '/x', headers: {}, socket: { remoteAddress: '10.0.0.7' }, query: {}, params: {}, ...overrides };
}

describe('lib/http api-request: validation per operation', () => {
  const v = (
    op: (typeof API_OPERATIONS)[number],
    payload: unknown,
    extra: { query?: unknown; params?: unknown } = {},
    options = {},
  ): ApiResult => validateApiInput(op, { payload, ...extra }, { now: () => NOW, ...options });

  it('ingest-sensor: a reading with source http by default, topic = zone, 201 and waitForCommit', () => {
    const r = accepted(v('ingest-sensor', { sensor_id: 's1', zone: 'office-1', lux: 320, presence: 1 }));
    assert.deepEqual(r.payload, { sensorId: 's1', zone: 'office-1', ts: NOW, lux: 320, presence: true, source: 'http' });
    assert.equal(r.topic, 'office-1');
    assert.equal(r.statusCode, 201);
    assert.equal(r.waitForCommit, true);
  });

  it('ingest-sensor: a lone UTF-16 surrogate in an id goes on (and is echoed) as U+FFFD, as SQLite will store it', () => {
    const r = accepted(v('ingest-sensor', { sensor_id: 'sur\ud800x', zone: 'office-1', lux: 1 }));
    assert.equal((r.payload as { sensorId: string }).sensorId, 'sur\ufffdx');
    assert.deepEqual(r.answerFields, { sensorId: 'sur\ufffdx' });
    const pair = accepted(v('ingest-sensor', { sensor_id: 'ok\ud83d\ude00', zone: 'office-1', lux: 1 }));
    assert.equal((pair.payload as { sensorId: string }).sensorId, 'ok\ud83d\ude00', 'a surrogate pair is kept');
  });

  it('ingest-sensor: the default zone fills a body without zone; without one the zone is required', () => {
    assert.equal(accepted(v('ingest-sensor', { sensorId: 's1', lux: 5 }, {}, { defaultZone: 'hall' })).topic, 'hall');
    rejected(v('ingest-sensor', { sensorId: 's1', lux: 5 }), 400, /zone is missing/);
    rejected(v('ingest-sensor', { sensorId: 's1', zone: 'a', lux: -1 }), 400, /lux/);
    rejected(v('ingest-sensor', 'not json'), 400, /JSON object/);
  });

  it('ingest-weather: topic weather, 201, waitForCommit; no measurement is a 400', () => {
    const r = accepted(v('ingest-weather', { temperature_c: 21.5, cloud_cover_pct: 40 }));
    assert.equal(r.topic, 'weather');
    assert.equal(r.statusCode, 201);
    assert.equal(r.waitForCommit, true);
    assert.equal((r.payload as { temperatureC: number }).temperatureC, 21.5);
    rejected(v('ingest-weather', { zone: 'a' }), 400, /none of temperature_c/);
    rejected(v('ingest-weather', { cloud_cover_pct: 140 }), 400, /cloud_cover_pct/);
  });

  it('predict: zone optional from body or query; an empty body is fine; a bad or conflicting zone is a 400', () => {
    for (const empty of [undefined, null, '', {}]) assert.deepEqual(accepted(v('predict', empty)).payload, {});
    assert.deepEqual(accepted(v('predict', { zone: 'office-1' })).payload, { zone: 'office-1' });
    assert.deepEqual(accepted(v('predict', {}, { query: { zone: 'hall' } })).payload, { zone: 'hall' });
    assert.equal(accepted(v('predict', {})).topic, 'predict');
    rejected(v('predict', { zone: '' }), 400, /zone must be a non-empty string/);
    rejected(v('predict', { zone: 'x'.repeat(201) }), 400, /at most 200/);
    rejected(v('predict', { zone: 'a' }, { query: { zone: 'b' } }), 400, /different values/);
    rejected(v('predict', [1, 2]), 400, /JSON object/);
  });

  it('control: a manual setpoint; overrideMinutes is the override length with manual_override, else 0', () => {
    const on = accepted(
      v('control', { intensity: 55, cct: 4000, reason: 'manual tweak', manual_override: true }, {}, { overrideMinutes: 45 }),
    );
    assert.deepEqual(on.payload, {
      zone: 'default',
      intensity: 55,
      cct: 4000,
      reason: 'manual tweak',
      source: 'manual',
      overrideMinutes: 45,
    });
    assert.deepEqual(on.control, { manualOverride: true, overrideMinutes: 45 });
    assert.equal(on.topic, 'default');
    const explicit = accepted(
      v('control', { zone: 'z', intensity: 1, cct: 2000, manualOverride: true, override_minutes: 5, fade_ms: 700 }),
    );
    assert.deepEqual(explicit.control, { manualOverride: true, overrideMinutes: 5 });
    assert.equal((explicit.payload as { fadeMs: number }).fadeMs, 700);
    const off = accepted(v('control', { intensity: 10, cct: 3000 }, {}, { defaultZone: 'office-2' }));
    assert.equal((off.payload as { overrideMinutes: number }).overrideMinutes, 0);
    assert.deepEqual(off.control, { manualOverride: false, overrideMinutes: 0 });
    assert.equal(off.topic, 'office-2');
    rejected(v('control', { intensity: 10, cct: 99999 }), 400, /cct/);
    rejected(v('control', { cct: 3000 }), 400, /intensity is missing/);
  });

  it('telemetry: the query validated with defaults; a bad limit is a 400', () => {
    const r = accepted(v('telemetry', undefined, { query: { limit: '20', page: '2', zone: 'a', source: 'ai' } }));
    assert.deepEqual(r.payload, { limit: 20, offset: 20, page: 2, zone: 'a', source: 'ai' });
    assert.deepEqual(accepted(v('telemetry', undefined, { query: {} })).payload, { limit: 50, offset: 0 });
    rejected(v('telemetry', undefined, { query: { limit: '5000' } }), 400, /^invalid telemetry query: limit/);
  });

  it('energy: optional calendar day and zone from the query', () => {
    assert.deepEqual(accepted(v('energy', undefined, { query: {} })).payload, {});
    assert.deepEqual(accepted(v('energy', undefined, { query: { day: '2026-02-28', zone: 'a' } })).payload, {
      day: '2026-02-28',
      zone: 'a',
    });
    for (const day of ['2026-02-30', '2026-13-01', '26-01-01', 'yesterday', '1969-12-31']) {
      rejected(v('energy', undefined, { query: { day } }), 400, /^invalid energy query: day must be a calendar day YYYY-MM-DD$/);
    }
    rejected(v('energy', undefined, { query: { zone: '' } }), 400, /zone/);
  });

  it('alerts: status active by default, kind of the store, limit 1-1000', () => {
    assert.deepEqual(accepted(v('alerts', undefined, { query: {} })).payload, { status: 'active', limit: 50, offset: 0 });
    const r = accepted(v('alerts', undefined, { query: { status: 'all', kind: 'lampFailure', zone: 'z', limit: '10', offset: '30' } }));
    assert.deepEqual(r.payload, { status: 'all', kind: 'lampFailure', zone: 'z', limit: 10, offset: 30 });
    rejected(v('alerts', undefined, { query: { status: 'open' } }), 400, /status must be one of active, resolved, all/);
    rejected(v('alerts', undefined, { query: { kind: 'fire' } }), 400, /kind must be one of/);
    rejected(v('alerts', undefined, { query: { limit: '0' } }), 400, /^invalid alerts query: limit/);
    rejected(v('alerts', undefined, { query: { status: ['all', 'active'] } }), 400, /status/);
  });

  it('alerts: every kind the store raises is accepted as a filter, and the error lists them all', () => {
    for (const kind of ALERT_KINDS)
      assert.equal((accepted(v('alerts', undefined, { query: { kind } })).payload as { kind?: string }).kind, kind);
    const r = v('alerts', undefined, { query: { kind: 'lampfailure' } });
    rejected(r, 400, /kind must be one of/);
    for (const kind of ALERT_KINDS) assert.ok((r as ApiRejected).body.detail.includes(kind), `the message names ${kind}`);
  });

  it('resolve-alert: id from the path or the body, resolvedBy default api', () => {
    assert.deepEqual(accepted(v('resolve-alert', {}, { params: { id: '17' } })).payload, { id: 17, resolvedBy: 'api' });
    assert.deepEqual(accepted(v('resolve-alert', { id: 4, resolved_by: 'alice' })).payload, { id: 4, resolvedBy: 'alice' });
    assert.deepEqual(accepted(v('resolve-alert', { id: 4, resolvedBy: 'bob' }, { params: { id: '4' } })).payload, {
      id: 4,
      resolvedBy: 'bob',
    });
    rejected(v('resolve-alert', {}), 400, /id is missing/);
    for (const bad of ['0', '-3', 'abc', '1.5']) rejected(v('resolve-alert', {}, { params: { id: bad } }), 400, /positive whole number/);
    rejected(v('resolve-alert', { id: 2.5 }), 400, /positive whole number/);
    rejected(v('resolve-alert', { id: 5 }, { params: { id: '6' } }), 400, /differ/);
    rejected(v('resolve-alert', { id: 5, resolvedBy: 'x'.repeat(201) }), 400, /resolvedBy/);
  });

  it('health and admin: an empty payload; admin has topic aggregate', () => {
    assert.deepEqual(accepted(v('health', { anything: 1 })).payload, {});
    const a = accepted(v('admin', {}));
    assert.deepEqual(a.payload, {});
    assert.equal(a.topic, 'aggregate');
  });

  it('profile: the reference blob (object or JSON text) becomes {profileId, encryptedPayload}, topic profile', () => {
    const expected = { profileId: 'default', encryptedPayload: SAMPLE_PROFILE.encrypted_payload };
    for (const body of [SAMPLE_PROFILE, JSON.stringify(SAMPLE_PROFILE)]) {
      const a = accepted(v('profile', body));
      assert.deepEqual(a.payload, expected);
      assert.equal(a.topic, 'profile');
      assert.equal(a.statusCode, undefined, "the answer status is the store step's (lighting-query store-profile)");
    }
  });

  it('profile: anything but {profile_id, encrypted_payload: <Fernet token>} is a 400 that never quotes the body', () => {
    const token = SAMPLE_PROFILE.encrypted_payload;
    const cases: Array<[unknown, RegExp]> = [
      [{}, /profile_id is missing/],
      ['', /not valid JSON/],
      [[SAMPLE_PROFILE], /must be a JSON object/],
      [{ profile_id: 'default' }, /encrypted_payload is missing/],
      [{ profile_id: '', encrypted_payload: token }, /profile_id must be a non-empty string of at most 64/],
      [{ profile_id: 'default', encrypted_payload: '{"visual_impairment":"low_vision"}' }, /encrypted_payload is not url-safe base64/],
      [{ profile_id: 'default', encrypted_payload: 'QUJD'.repeat(40) }, /version byte 0x80/],
      [{ profile_id: 'default', encrypted_payload: token, age: 38 }, /unknown field "age"/],
    ];
    for (const [body, pattern] of cases) {
      const r = rejected(v('profile', body), 400, pattern);
      assert.match(r.body.detail, /^invalid profile: /);
      assert.ok(!r.body.detail.includes('low_vision') && !r.body.detail.includes(token.slice(0, 30)), r.body.detail);
    }
  });

  it('never throws, whatever the payload', () => {
    const hostile = [
      undefined,
      null,
      0,
      'x',
      [],
      Buffer.from('{}'),
      {
        get zone(): string {
          throw new Error('boom');
        },
      },
      Object.create(null),
    ];
    for (const op of API_OPERATIONS) {
      for (const p of hostile) {
        const g = new ApiGuard({ operation: op });
        assert.doesNotThrow(() => g.check({ payload: p }));
        assert.doesNotThrow(() => g.check({ req: req({ query: p, params: p }), payload: p }));
      }
    }
  });
});

describe('lib/http api-request: ApiGuard', () => {
  it('rate limits per client and answers 429 with Retry-After and a "Too many requests" detail', () => {
    let now = NOW;
    const limiter = new RateLimiter({ limit: 2, now: () => now });
    const g = new ApiGuard({ operation: 'health', limiter });
    assert.equal(g.check({ req: req(), payload: {} }).result.ok, true);
    assert.equal(g.check({ req: req(), payload: {} }).result.ok, true);
    const out = g.check({ req: req(), payload: {} });
    const r = rejected(out.result, 429, /^Too many requests/);
    assert.equal(r.reason, 'rate-limited');
    assert.equal(r.headers['Retry-After'], '60');
    assert.match(r.body.detail, /2 per minute/);
    assert.equal(out.client, '10.0.0.7');
    // Another client has its own budget; the first one gets its budget back after the window.
    assert.equal(g.check({ req: req({ socket: { remoteAddress: '10.0.0.8' } }), payload: {} }).result.ok, true);
    now += 60_001;
    assert.equal(g.check({ req: req(), payload: {} }).result.ok, true);
  });

  it('messages without an HTTP request are not rate limited', () => {
    const limiter = new RateLimiter({ limit: 1 });
    const g = new ApiGuard({ operation: 'health', limiter });
    for (let i = 0; i < 5; i++) assert.equal(g.check({ payload: {} }).result.ok, true);
    assert.equal(limiter.size, 0);
  });

  it('client id: the socket address; X-Forwarded-For only with trustProxy', () => {
    const r = req({ headers: { 'x-forwarded-for': '1.2.3.4, 192.168.1.9' }, socket: { remoteAddress: '::ffff:127.0.0.1' } });
    assert.equal(new ApiGuard({ operation: 'health' }).check({ req: r, payload: {} }).client, '127.0.0.1');
    assert.equal(new ApiGuard({ operation: 'health', trustProxy: true }).check({ req: r, payload: {} }).client, '192.168.1.9');
    assert.equal(new ApiGuard({ operation: 'health' }).check({ req: req({ socket: null, ip: '::1' }), payload: {} }).client, '::1');
  });

  it('a spoofed X-Forwarded-For does not escape the limit when the proxy is not trusted', () => {
    const limiter = new RateLimiter({ limit: 1 });
    const g = new ApiGuard({ operation: 'health', limiter });
    assert.equal(g.check({ req: req({ headers: { 'x-forwarded-for': '1.1.1.1' } }), payload: {} }).result.ok, true);
    rejected(g.check({ req: req({ headers: { 'x-forwarded-for': '2.2.2.2' } }), payload: {} }).result, 429);
  });

  it('admin: 401 with WWW-Authenticate for a missing or wrong token, accepted with the right one', () => {
    const g = new ApiGuard({ operation: 'admin', adminToken: TOKEN });
    assert.equal(g.requireAdmin, true);
    assert.equal(g.adminProblem, null);
    for (const authorization of [undefined, 'Bearer wrong-token-123', `Basic ${TOKEN}`]) {
      const r = rejected(g.check({ req: req({ headers: authorization === undefined ? {} : { authorization } }), payload: {} }).result, 401);
      assert.match(r.headers['WWW-Authenticate'] ?? '', /^Bearer/);
      assert.equal(r.reason, 'unauthorized');
      assert.ok(!r.body.detail.includes(TOKEN));
    }
    const ok = accepted(g.check({ req: req({ headers: { authorization: `Bearer ${TOKEN}` } }), payload: {} }).result);
    assert.equal(ok.topic, 'aggregate');
  });

  it('profile always requires the admin token (even with requireAdmin false): 401 before the body is looked at', () => {
    const g = new ApiGuard({ operation: 'profile', requireAdmin: false, adminToken: TOKEN });
    assert.equal(g.requireAdmin, true);
    rejected(g.check({ req: req({ path: '/admin/profile' }), payload: SAMPLE_PROFILE }).result, 401);
    rejected(g.check({ req: req({ headers: { authorization: 'Bearer wrong-token-123' } }), payload: { nonsense: 1 } }).result, 401);
    rejected(g.check({ payload: SAMPLE_PROFILE }).result, 401, /only an HTTP request/);
    const authed = req({ headers: { authorization: `Bearer ${TOKEN}` } });
    rejected(g.check({ req: authed, payload: { profile_id: 'default' } }).result, 400, /encrypted_payload is missing/);
    const ok = accepted(g.check({ req: authed, payload: SAMPLE_PROFILE }).result);
    assert.deepEqual(ok.payload, { profileId: 'default', encryptedPayload: SAMPLE_PROFILE.encrypted_payload });
    rejected(new ApiGuard({ operation: 'profile', adminToken: null }).check({ req: authed, payload: SAMPLE_PROFILE }).result, 503);
  });

  it('admin without a configured token: 503 for every request, and the problem is reported', () => {
    const g = new ApiGuard({ operation: 'admin', adminToken: null });
    assert.match(g.adminProblem ?? '', /admin endpoints are disabled/);
    const r = rejected(
      g.check({ req: req({ headers: { authorization: 'Bearer anything-at-all' } }), payload: {} }).result,
      503,
      /ADMIN_TOKEN/,
    );
    assert.equal(r.reason, 'disabled');
  });

  it('requireAdmin on another operation: auth is checked before validation; no request = refused', () => {
    const g = new ApiGuard({ operation: 'control', requireAdmin: true, adminToken: TOKEN });
    rejected(g.check({ req: req(), payload: { intensity: 1, cct: 99999 } }).result, 401);
    rejected(
      g.check({ req: req({ headers: { authorization: `Bearer ${TOKEN}` } }), payload: { intensity: 1, cct: 99999 } }).result,
      400,
      /cct/,
    );
    rejected(g.check({ payload: { intensity: 1, cct: 3000 } }).result, 401, /only an HTTP request/);
    assert.equal(new ApiGuard({ operation: 'control' }).adminProblem, null, 'no admin problem when not required');
    rejected(new ApiGuard({ operation: 'control', requireAdmin: true }).check({ payload: {} }).result, 503);
  });

  it('the rate limit comes before auth: a client hammering a protected route gets 429', () => {
    const g = new ApiGuard({ operation: 'admin', adminToken: TOKEN, limiter: new RateLimiter({ limit: 1 }) });
    rejected(g.check({ req: req(), payload: {} }).result, 401);
    rejected(g.check({ req: req({ headers: { authorization: `Bearer ${TOKEN}` } }), payload: {} }).result, 429);
  });

  it('query operations read req.query over HTTP and the payload without a request', () => {
    const g = new ApiGuard({ operation: 'telemetry' });
    assert.deepEqual(accepted(g.check({ req: req({ method: 'GET', query: { limit: '5' } }), payload: { limit: 999 } }).result).payload, {
      limit: 5,
      offset: 0,
    });
    assert.deepEqual(accepted(g.check({ payload: { limit: 7 } }).result).payload, { limit: 7, offset: 0 });
  });

  it('reports method and path (without the query string) for the log', () => {
    const out = new ApiGuard({ operation: 'health' }).check({
      req: req({ method: 'get', path: undefined, originalUrl: '/healthz?token=abc' }),
      payload: {},
    });
    assert.equal(out.method, 'GET');
    assert.equal(out.path, '/healthz');
    assert.equal(requestPath({ url: '/a/b?x=1' }), '/a/b');
    const none = new ApiGuard({ operation: 'health' }).check({ payload: {} });
    assert.deepEqual([none.method, none.path, none.client], [null, null, null]);
  });

  it('refuses an unknown operation at construction', () => {
    assert.throws(() => new ApiGuard({ operation: 'delete-everything' as never }), /operation must be one of/);
  });
});

describe('lib/http api-request: shared limiters', () => {
  it('guards with the same limit share one budget per client; another limit has its own', () => {
    const a = acquireSharedLimiter(3);
    const b = acquireSharedLimiter(3);
    const c = acquireSharedLimiter(4);
    try {
      assert.equal(a.limiter, b.limiter);
      assert.notEqual(a.limiter, c.limiter);
      const ingest = new ApiGuard({ operation: 'health', limiter: a.limiter });
      const control = new ApiGuard({ operation: 'predict', limiter: b.limiter });
      assert.equal(ingest.check({ req: req(), payload: {} }).result.ok, true);
      assert.equal(control.check({ req: req(), payload: {} }).result.ok, true);
      assert.equal(ingest.check({ req: req(), payload: {} }).result.ok, true);
      rejected(control.check({ req: req(), payload: {} }).result, 429);
      assert.equal(sharedLimiterUsers().get(3), 2);
    } finally {
      a.release();
      b.release();
      c.release();
    }
  });

  it('is refcounted: dropped with its last user, release is idempotent, a new acquire starts fresh', () => {
    const a = acquireSharedLimiter(7);
    const b = acquireSharedLimiter(7);
    a.limiter.hit('x');
    a.release();
    a.release();
    assert.equal(sharedLimiterUsers().get(7), 1, 'a second release of the same handle does not drop b');
    b.release();
    assert.equal(sharedLimiterUsers().has(7), false);
    const c = acquireSharedLimiter(7);
    assert.notEqual(c.limiter, a.limiter);
    assert.equal(c.limiter.size, 0);
    c.release();
  });
});
