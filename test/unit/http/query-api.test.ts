/**
 * lib/http/query-api against a real SQLite file: paging validation and pages,
 * alerts and their (idempotent) resolution, the latest-windows choice
 * (snapshots of `aggregate` included, accepted by ai-decide's validator), and
 * the health probe helpers.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validateFeatureWindow } from '../../../lib/control';
import type { FeatureWindow } from '../../../lib/contracts';
import { FeatureWindowService } from '../../../lib/features';
import { encryptProfile, Fernet } from '../../../lib/crypto';
import { combineSchedulerStates, daliProbe, packageVersion, type BusSessionLike } from '../../../lib/http/health';
import { latestWindows, readProfileRequest, readPageRequest, readResolveRequest, runQuery } from '../../../lib/http/query-api';
import { LightingStore, type DecisionRecord, type Page } from '../../../lib/store';

const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const SAMPLE = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8'),
) as {
  profile_id: string;
  encrypted_payload: string;
};
/** Plaintext of the sample profile: never in a row, an answer or a message. */
const PLAINTEXT = ['low_vision', 'female', 'intermediate', 'Monday', 'chronotype'];
const MIN = 60_000;

function fw(zone: string, windowStart: number, over: Partial<FeatureWindow> = {}): FeatureWindow {
  return {
    zone,
    windowStart,
    windowEnd: windowStart + 5 * MIN,
    count: 4,
    lux: { mean: 300, min: 250, max: 350, std: 20, last: 310 },
    presence: { ratio: 0.5, transitions: 1, last: true, lastTs: windowStart + MIN },
    minuteOfDay: 480,
    weekday: 1,
    ...over,
  };
}

describe('lib/http/query-api', function () {
  let dir: string;
  let n = 0;
  const open: LightingStore[] = [];
  async function openStore(): Promise<LightingStore> {
    const s = await LightingStore.open({ path: path.join(dir, `q-${++n}.db`) });
    open.push(s);
    return s;
  }

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-api-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('paging validation', () => {
    const what = 'invalid decisions query';
    it('defaults to the first 50 rows; absent, null and "" payloads are an empty request', () => {
      for (const p of [undefined, null, '', {}]) assert.deepEqual(readPageRequest(what, p), { ok: true, value: { limit: 50, offset: 0 } });
    });

    it('turns page into offset, accepts digit strings, and keeps page for the answer', () => {
      assert.deepEqual(readPageRequest(what, { limit: '20', page: 3 }), { ok: true, value: { limit: 20, offset: 40, page: 3 } });
      // api-guard's validated query carries both, consistent.
      assert.equal(readPageRequest(what, { limit: 20, offset: 40, page: 3 }).ok, true);
    });

    it('refuses what the store would misread, naming the field', () => {
      const cases: Array<[unknown, RegExp]> = [
        [42, /msg.payload must be an object/],
        [[1], /msg.payload must be an object/],
        [{ limit: 0 }, /limit must be a whole number from 1 to 1000/],
        [{ limit: 1001 }, /limit/],
        [{ limit: 2.5 }, /limit/],
        [{ offset: -1 }, /offset/],
        [{ page: 2, offset: 0 }, /page and offset disagree/],
        [{ cursor: 'abc' }, /cursor must be nextCursor/],
        [{ cursor: '5.1', page: 2 }, /cursor cannot be combined/],
        [{ since: 'yesterday' }, /since must be epoch ms or an ISO 8601/],
        [{ since: 2000, until: 1000 }, /until must not be before since/],
        [{ source: 'robot' }, /source must be one of ai, rules, manual, schedule/],
        [{ zone: '' }, /zone must be a non-empty string/],
        [{ zone: 'x'.repeat(201) }, /zone/],
      ];
      for (const [payload, re] of cases) {
        const r = readPageRequest(what, payload);
        assert.equal(r.ok, false, JSON.stringify(payload));
        if (!r.ok) assert.match(r.message, re, JSON.stringify(payload));
      }
    });

    it('parses ISO times (UTC without a zone) into epoch ms', () => {
      const r = readPageRequest(what, { since: '2026-06-01T08:00:00', until: String(T0 + MIN) });
      assert.deepEqual(r, { ok: true, value: { limit: 50, offset: 0, since: T0, until: T0 + MIN } });
    });

    it('resolve requests need a positive whole id; resolvedBy defaults to "api"', () => {
      assert.deepEqual(readResolveRequest({ id: '7' }), { ok: true, value: { id: 7, resolvedBy: 'api' } });
      assert.deepEqual(readResolveRequest({ id: 7, resolved_by: 'ops' }), { ok: true, value: { id: 7, resolvedBy: 'ops' } });
      for (const p of [{}, { id: 0 }, { id: 'seven' }, { id: 1.5 }, { id: 1, resolvedBy: '' }])
        assert.equal(readResolveRequest(p).ok, false);
    });
  });

  describe('decisions, telemetry and alerts', () => {
    it('answers pages of decisions with filters, total and a cursor that walks every row once', async () => {
      const store = await openStore();
      for (let i = 0; i < 7; i++) {
        await store.insert('decisions', {
          ts: T0 + i * MIN,
          zone: i % 2 === 0 ? 'office' : 'hall',
          source: i < 5 ? 'rules' : 'ai',
          intensity: 10 * i,
          cct: 4000,
          applied: true,
          msgId: `m${i}`,
        });
      }
      const first = await runQuery('decisions', store, { limit: 3 });
      assert.equal(first.statusCode, 200);
      const page = first.payload as Page<DecisionRecord>;
      assert.equal(page.total, 7);
      assert.deepEqual(
        page.items.map((d) => d.msgId),
        ['m6', 'm5', 'm4'],
      );
      assert.deepEqual(Object.keys(page.items[0] as DecisionRecord).sort(), [
        'applied',
        'blockedBy',
        'cct',
        'energySavingEstimate',
        'estimatedWatts',
        'gateway',
        'id',
        'intensity',
        'msgId',
        'reason',
        'source',
        'ts',
        'zone',
      ]);
      const seen = page.items.map((d) => d.msgId);
      let cursor = page.nextCursor;
      while (cursor !== null) {
        const next = (await runQuery('decisions', store, { limit: 3, cursor })).payload as Page<DecisionRecord>;
        seen.push(...next.items.map((d) => d.msgId));
        cursor = next.nextCursor;
      }
      assert.deepEqual(seen, ['m6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);

      const paged = (await runQuery('decisions', store, { limit: 2, page: 2, zone: 'office' })).payload as Page<DecisionRecord> & {
        page: number;
      };
      assert.deepEqual([paged.total, paged.offset, paged.page], [4, 2, 2]);
      assert.deepEqual(
        paged.items.map((d) => d.msgId),
        ['m2', 'm0'],
      );
      const ai = (await runQuery('decisions', store, { source: 'ai', since: T0 + 6 * MIN })).payload as Page<DecisionRecord>;
      assert.deepEqual(
        ai.items.map((d) => d.msgId),
        ['m6'],
      );
    });

    it('answers 400 {detail} for a bad request and 503 once the store is closed', async () => {
      const store = await openStore();
      assert.deepEqual(await runQuery('decisions', store, { limit: 0 }), {
        statusCode: 400,
        payload: { detail: 'invalid decisions query: limit must be a whole number from 1 to 1000' },
      });
      await store.close();
      const closed = await runQuery('telemetry', store, {});
      assert.equal(closed.statusCode, 503);
      assert.match((closed.payload as { detail: string }).detail, /Lighting store unavailable/);
    });

    it('pages telemetry by kind', async () => {
      const store = await openStore();
      await store.insert('telemetry', { ts: T0, kind: 'ai-call', latencyMs: 120 });
      await store.insert('telemetry', { ts: T0 + 1, kind: 'fallback', fallbackReason: 'timeout' });
      const a = await runQuery('telemetry', store, { kind: 'fallback', source: 'ai' });
      const page = a.payload as Page<{ kind: string; fallbackReason: string }>;
      assert.equal(page.total, 1);
      assert.equal(page.items[0]?.fallbackReason, 'timeout');
    });

    it('lists alerts by status and resolves them idempotently; an unknown id is 404', async () => {
      const store = await openStore();
      const { id } = await store.raiseAlert({ ts: T0, zone: 'office', kind: 'lampFailure', message: 'gear 3 lamp failure' });
      await store.raiseAlert({ ts: T0 + 1, kind: 'busDisconnected', message: 'bus down' });
      const active = (await runQuery('alerts', store, {})).payload as Page<{ id: number }>;
      assert.equal(active.total, 2);
      assert.equal((await runQuery('alerts', store, { kind: 'nonsense' })).statusCode, 400);
      assert.equal((await runQuery('alerts', store, { status: 'open' })).statusCode, 400);

      const r1 = await runQuery('resolve-alert', store, { id, resolvedBy: 'alice' });
      assert.equal(r1.statusCode, 200);
      assert.equal((r1 as { changed?: boolean }).changed, true);
      const rec = r1.payload as { id: number; resolvedBy: string; resolvedAt: number };
      assert.equal(rec.resolvedBy, 'alice');
      const r2 = await runQuery('resolve-alert', store, { id, resolvedBy: 'bob' });
      assert.equal(r2.statusCode, 200);
      assert.equal((r2 as { changed?: boolean }).changed, false);
      assert.deepEqual(r2.payload, rec, 'first resolution kept');

      assert.deepEqual(await runQuery('resolve-alert', store, { id: 9999 }), {
        statusCode: 404,
        payload: { detail: 'Alert 9999 not found' },
      });
      const resolved = (await runQuery('alerts', store, { status: 'resolved' })).payload as Page<{ id: number }>;
      assert.deepEqual(
        resolved.items.map((a) => a.id),
        [id],
      );
      assert.equal(((await runQuery('alerts', store, { status: 'all' })).payload as Page<unknown>).total, 2);
    });
  });

  describe('latest-windows', () => {
    it('answers the zone asked for, or the zone with the most recent window, oldest first, at most n', async () => {
      const store = await openStore();
      for (let i = 0; i < 5; i++) await store.insert('feature_windows', fw('office', T0 + i * 5 * MIN));
      await store.insert('feature_windows', fw('hall', T0 + 6 * 5 * MIN));
      await store.insert('feature_windows', fw('attic', T0 - 60 * MIN));

      const office = await latestWindows(store, 'office', 3);
      assert.deepEqual(
        office.map((w) => w.windowStart),
        [T0 + 10 * MIN, T0 + 15 * MIN, T0 + 20 * MIN],
      );
      const newest = await latestWindows(store, undefined, 3);
      assert.deepEqual(
        newest.map((w) => `${w.zone}@${w.windowStart}`),
        [`hall@${T0 + 30 * MIN}`],
      );
      assert.deepEqual(await latestWindows(store, 'nowhere', 3), []);

      const a = await runQuery('latest-windows', store, { zone: 'office' }, { windows: 2 });
      assert.equal(a.statusCode, 200);
      const windows = a.payload as FeatureWindow[];
      assert.equal(windows.length, 2);
      // Exactly what ai-decide accepts.
      for (const w of windows) assert.doesNotThrow(() => validateFeatureWindow(w));
    });

    it('answers 400 "No features available" when there is no window', async () => {
      const store = await openStore();
      assert.deepEqual(await runQuery('latest-windows', store, {}), { statusCode: 400, payload: { detail: 'No features available' } });
      assert.deepEqual(await runQuery('latest-windows', store, { zone: 'office' }), {
        statusCode: 400,
        payload: { detail: 'No features available' },
      });
      assert.equal((await runQuery('latest-windows', store, { zone: 5 })).statusCode, 400);
    });

    it('finds the snapshot windows of aggregateNow (the runbook: ingest, then aggregate)', async () => {
      const store = await openStore();
      let now = T0 + 30_000;
      const svc = new FeatureWindowService({ windowMs: 5 * MIN, graceMs: 0, keepWindows: 3, timeZone: 'UTC', store, clock: () => now });
      await svc.start();
      try {
        assert.equal((await runQuery('latest-windows', store, {})).statusCode, 400);
        await svc.ingest({ sensorId: 's1', zone: 'lab', ts: T0 + 10_000, lux: 420, presence: true, source: 'test' });
        now = T0 + 40_000;
        await svc.ingest({ sensorId: 's1', zone: 'lab', ts: T0 + 35_000, lux: 380, source: 'test' });
        const snap = svc.aggregateNow();
        assert.equal(snap.length, 1);
        const a = await runQuery('latest-windows', store, {});
        assert.equal(a.statusCode, 200);
        const [w] = a.payload as FeatureWindow[];
        assert.equal(w?.zone, 'lab');
        assert.equal(w?.partial, true);
        assert.equal(w?.count, 2);
        assert.doesNotThrow(() => validateFeatureWindow(w));
      } finally {
        await svc.stop();
      }
    });
  });

  describe('personal profiles: store-profile and profile', () => {
    const env = { FERNET_KEY: REFERENCE_KEY };
    const rows = async (store: LightingStore): Promise<unknown[]> => {
      await store.flush();
      return store.exclusive((db) => db.all('SELECT * FROM personal_profiles'));
    };

    it('store-profile: the reference sample with FERNET_KEY is stored encrypted (committed) and answered 201 with the blob', async () => {
      const store = await openStore();
      const a = await runQuery(
        'store-profile',
        store,
        { profileId: 'default', encryptedPayload: SAMPLE.encrypted_payload },
        { env, now: () => T0 },
      );
      assert.deepEqual(a, { statusCode: 201, payload: { ok: true, profileId: 'default', stored: true }, profile: SAMPLE });
      // Committed: another handle on the same file sees it at once.
      const other = await LightingStore.open({ path: store.path });
      open.push(other);
      assert.deepEqual(await other.getProfile('default'), {
        profileId: 'default',
        encryptedPayload: SAMPLE.encrypted_payload,
        createdAt: T0,
        updatedAt: T0,
      });
      const text = JSON.stringify(await rows(store));
      for (const p of PLAINTEXT) assert.ok(!text.includes(p), `row holds ${p}`);
      assert.ok(!JSON.stringify(a).includes('low_vision'));
    });

    it('store-profile: the reference names and JSON text are accepted too; a second upload replaces the token, keeps createdAt', async () => {
      const store = await openStore();
      assert.equal((await runQuery('store-profile', store, JSON.stringify(SAMPLE), { env, now: () => T0 })).statusCode, 201);
      const f = new Fernet(REFERENCE_KEY);
      const newer = encryptProfile('default', { photosensitive: true, minIntensityPct: 25 }, f);
      const a = await runQuery('store-profile', store, newer, { env, now: () => T0 + MIN });
      assert.equal(a.statusCode, 201);
      assert.deepEqual(await store.getProfile('default'), {
        profileId: 'default',
        encryptedPayload: newer.encrypted_payload,
        createdAt: T0,
        updatedAt: T0 + MIN,
      });
      assert.equal((await rows(store)).length, 1);
    });

    it('store-profile: a wrong key or a tampered token is a 400 and nothing is stored', async () => {
      const store = await openStore();
      const wrong = await runQuery('store-profile', store, SAMPLE, { env: { FERNET_KEY: Fernet.generateKey() } });
      assert.deepEqual(wrong, {
        statusCode: 400,
        payload: { detail: 'encrypted_payload cannot be decrypted with FERNET_KEY (wrong key or tampered token)' },
      });
      const t = SAMPLE.encrypted_payload;
      const i = Math.floor(t.length / 2);
      const tampered = { ...SAMPLE, encrypted_payload: t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1) };
      assert.equal((await runQuery('store-profile', store, tampered, { env })).statusCode, 400);
      assert.deepEqual(await rows(store), []);
    });

    it('store-profile: no FERNET_KEY (or an invalid one) is a 503 and nothing is stored; a bad body a 400', async () => {
      const store = await openStore();
      assert.deepEqual(await runQuery('store-profile', store, SAMPLE, { env: {} }), {
        statusCode: 503,
        payload: { detail: 'FERNET_KEY is not set' },
      });
      const invalidKey = await runQuery('store-profile', store, SAMPLE, { env: { FERNET_KEY: 'short-secret' } });
      assert.equal(invalidKey.statusCode, 503);
      assert.ok(!JSON.stringify(invalidKey).includes('short-secret'));
      const bad = await runQuery(
        'store-profile',
        store,
        { profile_id: 'default', encrypted_payload: '{"visual_impairment": "low_vision"}' },
        { env },
      );
      assert.equal(bad.statusCode, 400);
      assert.match((bad.payload as { detail: string }).detail, /^invalid profile: encrypted_payload is not url-safe base64/);
      assert.equal((await runQuery('store-profile', store, undefined, { env })).statusCode, 400);
      assert.deepEqual(await rows(store), []);
    });

    it('store-profile: a token encrypted for another profile_id is a 400 (it cannot be filed under a new id)', async () => {
      const store = await openStore();
      const a = await runQuery('store-profile', store, { ...SAMPLE, profile_id: 'someone-else' }, { env });
      // The sample payload carries profile_id "default" inside.
      assert.equal(a.statusCode, 400);
      assert.match((a.payload as { detail: string }).detail, /profile_id inside encrypted_payload differs/);
      assert.deepEqual(await rows(store), []);
    });

    it('profile: the blob by id or the latest stored; 404 "No profile stored" when none', async () => {
      const store = await openStore();
      assert.deepEqual(await runQuery('profile', store, {}), { statusCode: 404, payload: { detail: 'No profile stored' } });
      assert.equal(await store.latestProfile(), null);
      const f = new Fernet(REFERENCE_KEY);
      const other = encryptProfile('night-shift', { slowerDimDown: true }, f);
      await runQuery('store-profile', store, SAMPLE, { env, now: () => T0 });
      await runQuery('store-profile', store, other, { env, now: () => T0 + MIN });

      const latest = await runQuery('profile', store, undefined);
      assert.deepEqual(latest, {
        statusCode: 200,
        payload: { profileId: 'night-shift', createdAt: T0 + MIN, storedAt: T0 + MIN },
        profile: other,
      });
      const byId = await runQuery('profile', store, { profileId: 'default' });
      assert.deepEqual(byId, { statusCode: 200, payload: { profileId: 'default', createdAt: T0, storedAt: T0 }, profile: SAMPLE });
      assert.deepEqual((await runQuery('profile', store, { profile_id: 'default' })).payload, byId.payload);
      // Re-uploading the older one makes it the latest.
      await runQuery('store-profile', store, SAMPLE, { env, now: () => T0 + 2 * MIN });
      assert.equal(((await runQuery('profile', store, {})).payload as { profileId: string }).profileId, 'default');

      assert.deepEqual(await runQuery('profile', store, { profileId: 'nobody' }), {
        statusCode: 404,
        payload: { detail: 'No profile stored with this profile_id' },
      });
    });

    it('profile: a bad profileId is a 400', () => {
      assert.deepEqual(readProfileRequest(undefined), { ok: true, value: {} });
      assert.deepEqual(readProfileRequest({ profileId: 'a' }), { ok: true, value: { profileId: 'a' } });
      for (const p of [5, { profileId: 5 }, { profileId: 'x'.repeat(65) }, { profileId: 'a', profile_id: 'b' }, { profileId: '  ' }]) {
        assert.equal(readProfileRequest(p).ok, false, JSON.stringify(p));
      }
    });
  });

  describe('health probe helpers', () => {
    const session = (over: Partial<BusSessionLike> = {}): BusSessionLike => ({
      status: { kind: 'connected' },
      isOpen: true,
      userCount: 2,
      bus: { queueLength: 4, knownShortAddresses: () => [0, 1, 2] },
      ...over,
    });

    it('reports a busy bus as connected, with a diagnostics summary', () => {
      assert.deepEqual(daliProbe(session({ status: { kind: 'busy', queued: 4 } }), 'simulator'), {
        state: 'connected',
        kind: 'simulator',
        diagnostics: { status: 'busy', queueLength: 4, knownGear: 3, users: 2 },
      });
      const down = daliProbe(session({ status: { kind: 'disconnected', detail: '/dev/ttyUSB0' }, bus: null }), 'luba');
      assert.equal(down.state, 'disconnected');
      assert.equal(down.detail, '/dev/ttyUSB0');
      const unused = daliProbe(session({ isOpen: false, userCount: 0, status: { kind: 'connecting' }, bus: null }), 'sci2');
      assert.equal(unused.state, 'closed');
    });

    it('combines scheduled jobs: running only when each is; null when there is none', () => {
      assert.equal(combineSchedulerStates([]), null);
      const a = { state: 'running' as const, nextRun: 500, lastRun: 100, lastError: null };
      const b = { state: 'running' as const, nextRun: 300, lastRun: 200, lastError: null };
      assert.deepEqual(combineSchedulerStates([a, b]), { state: 'running', nextRun: 300, lastRun: 200, lastError: null, jobs: 2 });
      const broken = { state: 'stopped' as const, nextRun: null, lastRun: null, lastError: 'invalid cron' };
      assert.deepEqual(combineSchedulerStates([a, broken]), {
        state: 'stopped',
        nextRun: 500,
        lastRun: 100,
        lastError: 'invalid cron',
        jobs: 2,
      });
    });

    it("reads the package's own version", () => {
      const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
        version: string;
      };
      assert.equal(packageVersion(__dirname), pkg.version);
    });
  });
});
