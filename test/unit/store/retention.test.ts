import assert from 'node:assert/strict';
import { DAY_MS, LightingStore, PruneBusyError, prune, type FeatureWindowRow } from '../../../lib/store';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

const NOW = 1_760_000_000_000;

function window(zone: string, windowStart: number): FeatureWindowRow {
  return {
    zone,
    windowStart,
    windowEnd: windowStart + 1,
    count: 1,
    lux: { mean: 1, min: 1, max: 1, std: 0, last: 1 },
    presence: { ratio: null, transitions: 0, last: null, lastTs: null },
    minuteOfDay: 0,
    weekday: 0,
  };
}

for (const engine of STORE_ENGINES)
  describe(`lib/store retention prune [${engine}]`, function () {
    const target = storeTargets(engine, this);
    const itSqlite = (engine === 'sqlite' ? it : (): void => undefined) as Mocha.TestFunction;
    const stores: LightingStore[] = [];
    async function fresh(): Promise<LightingStore> {
      const s = await LightingStore.open({ path: target.next('r'), flushIntervalMs: 5 });
      stores.push(s);
      return s;
    }
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    it('deletes rows with time < now - days exactly; a row at the cutoff is kept (every table, default days)', async () => {
      const s = await fresh();
      const cut = (days: number): number => NOW - days * DAY_MS;
      for (const [days, table] of [
        [30, 'raw'],
        [30, 'weather'],
        [90, 'features'],
        [180, 'decisions'],
        [180, 'telemetry'],
      ] as const) {
        for (const delta of [-1, 0, 1]) {
          const ts = cut(days) + delta;
          if (table === 'raw') await s.insert('raw_sensor_events', { sensorId: `s${delta}`, zone: 'z', ts, lux: 1, source: 'x' });
          if (table === 'weather') await s.insert('weather_events', { ts, temperatureC: delta, source: 'x' });
          if (table === 'features') await s.insert('feature_windows', window(`z${delta}`, ts));
          if (table === 'decisions')
            await s.insert('decisions', { ts, zone: 'z', source: 'rules', intensity: 1, applied: true, msgId: String(delta) });
          if (table === 'telemetry') await s.insert('telemetry', { ts, kind: String(delta) });
        }
      }
      const c = cut(30);
      // Overrides: pruned 30 days after they ended (earlier of cleared_at / expires_at).
      await s.insert('manual_overrides', { zone: 'cleared-before', startedAt: c - 50, clearedAt: c - 1, source: 'x' });
      await s.insert('manual_overrides', { zone: 'cleared-at', startedAt: c - 50, clearedAt: c, source: 'x' });
      await s.insert('manual_overrides', { zone: 'expired-before', startedAt: c - 50, expiresAt: c - 1, source: 'x' });
      await s.insert('manual_overrides', { zone: 'expired-at', startedAt: c - 50, expiresAt: c, source: 'x' });
      await s.insert('manual_overrides', {
        zone: 'expired-before-cleared-after',
        startedAt: c - 50,
        expiresAt: c - 1,
        clearedAt: c + 5,
        source: 'x',
      });
      await s.insert('manual_overrides', {
        zone: 'cleared-before-expires-after',
        startedAt: c - 50,
        expiresAt: c + 5,
        clearedAt: c - 1,
        source: 'x',
      });
      await s.insert('manual_overrides', { zone: 'never-ends', startedAt: 1, source: 'x' });
      await s.insert('personal_profiles', {
        profileId: 'old',
        encryptedPayload: Buffer.concat([Buffer.from([0x80]), Buffer.alloc(88, 7)]).toString('base64url'),
        createdAt: 1,
        updatedAt: 1,
      });
      await s.flush();

      const report = await prune(s, { now: NOW });
      assert.equal(report.tables.raw_sensor_events.cutoff, cut(30));
      assert.equal(report.tables.feature_windows.cutoff, cut(90));
      assert.equal(report.tables.decisions.cutoff, cut(180));
      for (const t of ['raw_sensor_events', 'weather_events', 'feature_windows', 'decisions', 'telemetry'] as const) {
        assert.equal(report.tables[t].deleted, 1, t);
      }
      assert.equal(report.tables.manual_overrides.deleted, 4);
      assert.equal(report.deleted, 9);
      assert.equal(report.aborted, false);

      const left = await s.exclusive(async (db) => ({
        raw: (await db.all<{ sensor_id: string }>('SELECT sensor_id FROM raw_sensor_events ORDER BY ts')).map((r) => r.sensor_id),
        weather: (await db.all<{ t: number }>('SELECT temperature_c AS t FROM weather_events ORDER BY ts')).map((r) => r.t),
        features: (await db.all<{ zone: string }>('SELECT zone FROM feature_windows ORDER BY window_start')).map((r) => r.zone),
        decisions: (await db.all<{ m: string }>('SELECT msg_id AS m FROM decisions ORDER BY ts')).map((r) => r.m),
        telemetry: (await db.all<{ k: string }>('SELECT kind AS k FROM telemetry ORDER BY ts')).map((r) => r.k),
        overrides: (await db.all<{ zone: string }>('SELECT zone FROM manual_overrides ORDER BY id')).map((r) => r.zone),
        profiles: (await db.all<{ p: string }>('SELECT profile_id AS p FROM personal_profiles')).map((r) => r.p),
      }));
      assert.deepEqual(left.raw, ['s0', 's1']);
      assert.deepEqual(left.weather, [0, 1]);
      assert.deepEqual(left.features, ['z0', 'z1']);
      assert.deepEqual(left.decisions, ['0', '1']);
      assert.deepEqual(left.telemetry, ['0', '1']);
      assert.deepEqual(left.overrides, ['cleared-at', 'expired-at', 'never-ends']);
      assert.deepEqual(left.profiles, ['old'], 'profiles are never pruned');
    });

    it('uses the given days, skips a table with null, and is exact for fractional days', async () => {
      const s = await fresh();
      for (const ts of [NOW - 2 * DAY_MS - 1, NOW - 2 * DAY_MS, NOW - 0.5 * DAY_MS - 1, NOW - 0.5 * DAY_MS]) {
        await s.insert('raw_sensor_events', { sensorId: 's', zone: 'z', ts, lux: 1, source: 'x' });
        await s.insert('decisions', { ts, zone: 'z', source: 'ai', intensity: 1, applied: false });
      }
      await s.flush();
      const r1 = await prune(s, { now: NOW, rawDays: 2, decisionDays: null });
      assert.equal(r1.tables.raw_sensor_events.deleted, 1);
      assert.equal(r1.tables.decisions.deleted, 0);
      assert.equal(r1.tables.decisions.cutoff, null);
      const r2 = await prune(s, { now: NOW, rawDays: 0.5 });
      assert.equal(r2.tables.raw_sensor_events.deleted, 2);
      const counts = await s.counts();
      assert.equal(counts.raw_sensor_events, 1);
      assert.equal(counts.decisions, 4);
    });

    it('prunes alerts resolved before the cutoff (180 days by default); active alerts stay however old', async () => {
      const s = await fresh();
      const cutoff = NOW - 180 * DAY_MS;
      const raise = async (zone: string, ts: number, resolvedAt: number | null): Promise<void> => {
        const { id } = await s.raiseAlert({ ts, zone, kind: 'sensorStale', message: zone });
        if (resolvedAt !== null) await s.resolveAlert(id, 'test', resolvedAt);
      };
      await raise('resolved-before', cutoff - 10 * DAY_MS, cutoff - 1);
      await raise('resolved-at', cutoff - 10 * DAY_MS, cutoff);
      await raise('resolved-recently', cutoff - 10 * DAY_MS, NOW - DAY_MS);
      await raise('active-ancient', 1, null);
      const report = await prune(s, { now: NOW });
      assert.equal(report.tables.alerts.deleted, 1);
      assert.equal(report.tables.alerts.days, 180);
      const left = await s.alerts({ status: 'all', limit: 10 });
      assert.deepEqual(left.items.map((a) => a.zone).sort(), ['active-ancient', 'resolved-at', 'resolved-recently']);
      const none = await prune(s, { now: NOW + 400 * DAY_MS, alertDays: null });
      assert.equal(none.tables.alerts.deleted, 0, 'null skips the table');
    });

    it('deletes in batches of batchRows and reports them', async () => {
      const s = await fresh();
      await s.exclusive((db) =>
        db.run(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1234)
         INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, source) SELECT 's', 'z', i, 1, 'x' FROM c`,
        ),
      );
      await s.insert('raw_sensor_events', { sensorId: 'new', zone: 'z', ts: NOW, lux: 1, source: 'x' });
      const report = await prune(s, { now: NOW, batchRows: 100 });
      assert.equal(report.tables.raw_sensor_events.deleted, 1234);
      assert.equal(report.tables.raw_sensor_events.batches, 13);
      assert.ok(report.longestBatchMs > 0);
      assert.ok(report.durationMs >= report.longestBatchMs);
      assert.equal((await s.counts()).raw_sensor_events, 1);
    });

    it('writers keep going while a prune runs: every concurrent write commits', async () => {
      const s = await fresh();
      await s.exclusive((db) =>
        db.run(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
         INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, source) SELECT 's', 'z', i, 1, 'x' FROM c`,
        ),
      );
      const pruning = prune(s, { now: NOW, batchRows: 200 });
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) {
        writes.push(
          s.insert('raw_sensor_events', { sensorId: 'live', zone: 'z', ts: NOW + i, lux: i, source: 'x' }, { waitForCommit: true }),
        );
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      const [report] = await Promise.all([pruning, Promise.all(writes)]);
      assert.equal(report.tables.raw_sensor_events.deleted, 20_000);
      assert.equal((await s.counts()).raw_sensor_events, 300);
    });

    it('refuses a second prune on the same database while one runs', async () => {
      const s = await fresh();
      await s.exclusive((db) =>
        db.run(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
         INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, source) SELECT 's', 'z', i, 1, 'x' FROM c`,
        ),
      );
      const first = prune(s, { now: NOW, batchRows: 100 });
      await assert.rejects(prune(s, { now: NOW }), PruneBusyError);
      await first;
      const again = await prune(s, { now: NOW });
      assert.equal(again.deleted, 0);
    });

    it('stops between batches when the store closes', async () => {
      const s = await LightingStore.open({ path: target.next('closing') });
      await s.exclusive((db) =>
        db.run(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)
         INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, source) SELECT 's', 'z', i, 1, 'x' FROM c`,
        ),
      );
      const pruning = prune(s, { now: NOW, batchRows: 10 });
      await new Promise((r) => setTimeout(r, 5));
      await s.close();
      const report = await pruning;
      assert.equal(report.aborted, true);
      assert.ok(report.deleted < 5000);
    });

    itSqlite('incremental vacuum gives the freed pages back to the file system', async () => {
      const s = await fresh();
      await s.exclusive((db) =>
        db.run(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
         INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, source) SELECT 'sensor-' || i, 'zone', i, 1, 'padding-padding' FROM c`,
        ),
      );
      const pages = async (): Promise<{ pages: number; free: number }> =>
        s.exclusive(async (db) => ({
          pages: (await db.get<{ page_count: number }>('PRAGMA page_count'))?.page_count ?? 0,
          free: (await db.get<{ freelist_count: number }>('PRAGMA freelist_count'))?.freelist_count ?? 0,
        }));
      const before = await pages();
      const report = await prune(s, { now: NOW, vacuum: true, vacuumPagesPerStep: 50 });
      const after = await pages();
      assert.ok(report.vacuumedPages > 50, `vacuumed ${report.vacuumedPages}`);
      assert.equal(after.free, 0);
      assert.ok(after.pages < before.pages / 2, `${before.pages} -> ${after.pages} pages`);
    });

    it('rejects bad options before touching anything', async () => {
      const s = await fresh();
      await assert.rejects(prune(s, { rawDays: 0 }), /rawDays must be a positive number/);
      await assert.rejects(prune(s, { featureDays: Number.NaN }), RangeError);
      await assert.rejects(prune(s, { batchRows: 0 }), /batchRows/);
      await assert.rejects(prune(s, { now: Number.POSITIVE_INFINITY }), /now must be epoch ms/);
      const ok = await prune(s, {});
      assert.equal(ok.deleted, 0);
    });
  });
