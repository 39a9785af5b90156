import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  Db,
  FlushError,
  LightingStore,
  MIGRATIONS,
  QueueFullError,
  RowValidationError,
  SchemaVersionError,
  StoreClosedError,
  latestVersion,
  migrate,
  type DecisionRow,
  type FeatureWindowRow as FeatureWindow,
  type Migration,
  type TableName,
} from '../../../lib/store';
import { PassThrough } from 'node:stream';
import { exportTable } from '../../../lib/store';
import { PgDb } from '../../../lib/store/pg';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

/** Shape of a Fernet token: 0x80 | ts(8) | iv(16) | ciphertext(32) | hmac(32), base64url. */
function fernetShaped(fill: number): string {
  return Buffer.concat([
    Buffer.from([0x80]),
    Buffer.alloc(8, fill),
    Buffer.alloc(16, fill),
    Buffer.alloc(32, fill),
    Buffer.alloc(32, fill),
  ]).toString('base64url');
}
const FERNET_TOKEN = fernetShaped(1);

function sampleWindow(zone: string, windowStart: number, over: Partial<FeatureWindow> = {}): FeatureWindow {
  return {
    zone,
    windowStart,
    windowEnd: windowStart + 300_000,
    count: 3,
    lux: { mean: 300, min: 250, max: 350, std: 40.8, last: 320 },
    presence: { ratio: 0.5, transitions: 1, last: true, lastTs: windowStart + 1000 },
    minuteOfDay: 600,
    weekday: 2,
    ...over,
  };
}

function decision(ts: number, over: Partial<DecisionRow> = {}): DecisionRow {
  return { ts, zone: 'office-1', source: 'rules', intensity: 60, cct: 4000, reason: 'daylight', applied: true, ...over };
}

for (const engine of STORE_ENGINES)
  describe(`lib/store LightingStore [${engine}]`, function () {
    const target = storeTargets(engine, this);
    const file = (): string => target.next();
    /** Tests of SQLite's own mechanics (files, PRAGMAs, triggers in SQLite syntax) run on SQLite only. */
    const itSqlite = (engine === 'sqlite' ? it : (): void => undefined) as Mocha.TestFunction;
    const itPg = (engine === 'postgres' ? it : (): void => undefined) as Mocha.TestFunction;
    /** Another connection to the same database. */
    const openReader = async (p: string): Promise<{ get: Db['get']; all: Db['all']; close(): Promise<void> }> =>
      engine === 'sqlite' ? Db.open(p, { readOnly: true }) : new PgDb(p);
    /** A BEFORE INSERT trigger on `table` raising `message` for rows where `sourceIs` (null: every row). */
    const poison = (s: LightingStore, table: string, sourceIs: string | null, message: string): Promise<void> =>
      s.exclusive((db) =>
        engine === 'sqlite'
          ? db
              .run(
                `CREATE TRIGGER poison_${table} BEFORE INSERT ON ${table} ${sourceIs !== null ? `WHEN NEW.source = '${sourceIs}'` : ''}
               BEGIN SELECT RAISE(ABORT, '${message}'); END`,
              )
              .then(() => undefined)
          : db.exec(
              `CREATE FUNCTION poison_${table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
               IF ${sourceIs !== null ? `NEW.source = '${sourceIs}'` : 'true'} THEN RAISE EXCEPTION '${message}'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER poison_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION poison_${table}();`,
            ),
      );
    const open: LightingStore[] = [];
    async function openStore(p: string, extra: Partial<Parameters<typeof LightingStore.open>[0]> = {}): Promise<LightingStore> {
      const s = await LightingStore.open({ path: p, ...extra });
      open.push(s);
      return s;
    }

    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    describe('open and migrations', function () {
      itPg('creates the same tables and indexes on PostgreSQL, migrations recorded', async () => {
        const s = await openStore(file());
        assert.equal(s.schemaVersion, latestVersion());
        assert.equal(s.engine, 'postgres');
        const got = await s.exclusive(async (db) => ({
          tables: (
            await db.all<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
          ).map((r) => r.name),
          indexes: (
            await db.all<{ name: string }>(
              "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'",
            )
          ).map((r) => r.name),
          versions: (await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version),
        }));
        assert.deepEqual(got.tables, [
          'alerts',
          'decisions',
          'feature_windows',
          'manual_overrides',
          'personal_profiles',
          'raw_sensor_events',
          'schema_migrations',
          'suggestions',
          'telemetry',
          'weather_events',
        ]);
        for (const idx of [
          'raw_sensor_events_zone_ts',
          'decisions_zone_ts',
          'telemetry_kind_ts',
          'alerts_active_kind_zone',
          'decisions_msg_id',
        ]) {
          assert.ok(got.indexes.includes(idx), `index ${idx}`);
        }
        assert.deepEqual(
          got.versions,
          MIGRATIONS.map((m) => m.version),
        );
      });

      itPg('two stores opening one new database at once migrate it once (advisory lock)', async () => {
        const p = file();
        // Two pools (different keys: another application_name) race for the migration lock.
        const q = `${p}?application_name=second`;
        const [a, b] = await Promise.all([openStore(p), openStore(q)]);
        assert.notEqual(a.connectionId, b.connectionId);
        const rows = await a.exclusive((db) => db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'));
        assert.deepEqual(
          rows.map((r) => r.version),
          MIGRATIONS.map((m) => m.version),
        );
        await a.insert('decisions', decision(1), { waitForCommit: true });
        assert.equal((await b.decisions()).total, 1);
      });

      itPg('never opens more connections than poolSize, whatever runs at once', async () => {
        const p = file();
        const s = await openStore(`${p}?application_name=pool_probe`, { poolSize: 2 });
        const exported = exportTable({ dbPath: p, table: 'decisions', format: 'jsonl', out: new PassThrough().resume() });
        await Promise.all([
          ...Array.from({ length: 200 }, (_, i) => s.insert('decisions', decision(i), { waitForCommit: i % 2 === 0 })),
          ...Array.from({ length: 20 }, () => s.decisions({ limit: 5 })),
          s.healthCheck(),
          exported,
        ]);
        const n = await s.exclusive((db) =>
          db.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'pool_probe'"),
        );
        assert.ok((n?.n ?? 99) <= 2, `${n?.n} connections`);
        assert.equal((await s.counts()).decisions, 200);
      });

      itPg('the password never shows: path, options, errors', async () => {
        const s = await openStore(file());
        const pw = target.cluster().password;
        assert.ok(!s.path.includes(pw));
        assert.ok(!JSON.stringify(s.options).includes(pw));
        const wrong = file().replace(encodeURIComponent(pw), 'WrongPassw0rd');
        await assert.rejects(LightingStore.open({ path: wrong }), (err: Error) => {
          assert.match(
            err.message,
            /cannot open the lighting store postgresql:\/\/lighting@127\.0\.0\.1:\d+\/\w+: .*password authentication failed/,
          );
          assert.ok(!err.message.includes('WrongPassw0rd'));
          return true;
        });
      });

      itSqlite('creates the schema in WAL mode with incremental auto-vacuum and synchronous=NORMAL', async () => {
        const p = file();
        const s = await openStore(p);
        assert.equal(s.schemaVersion, latestVersion());
        const pragmas = await s.exclusive(async (db) => ({
          journal: (await db.get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode,
          autoVacuum: (await db.get<{ auto_vacuum: number }>('PRAGMA auto_vacuum'))?.auto_vacuum,
          synchronous: (await db.get<{ synchronous: number }>('PRAGMA synchronous'))?.synchronous,
          busy: (await db.get<{ timeout: number }>('PRAGMA busy_timeout'))?.timeout,
          tables: (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name),
          indexes: (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")).map(
            (r) => r.name,
          ),
          versions: (await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version),
        }));
        assert.equal(pragmas.journal, 'wal');
        assert.equal(pragmas.autoVacuum, 2, 'auto_vacuum=INCREMENTAL');
        assert.equal(pragmas.synchronous, 1, 'synchronous=NORMAL');
        assert.equal(pragmas.busy, 5000);
        assert.deepEqual(
          pragmas.versions,
          MIGRATIONS.map((m) => m.version),
        );
        for (const t of [
          'raw_sensor_events',
          'weather_events',
          'feature_windows',
          'decisions',
          'telemetry',
          'manual_overrides',
          'personal_profiles',
        ]) {
          assert.ok(pragmas.tables.includes(t), `table ${t}`);
        }
        for (const t of ['raw_sensor_events', 'weather_events', 'decisions', 'telemetry']) {
          assert.ok(pragmas.indexes.includes(`${t}_ts`), `index ${t}_ts`);
          assert.ok(pragmas.indexes.includes(`${t}_zone_ts`), `index ${t}_zone_ts`);
        }
      });

      itSqlite('synchronous FULL on request', async () => {
        const s = await openStore(file(), { synchronous: 'FULL' });
        const v = await s.exclusive(async (db) => (await db.get<{ synchronous: number }>('PRAGMA synchronous'))?.synchronous);
        assert.equal(v, 2);
      });

      it('reopening applies no migration twice and keeps the data', async () => {
        const p = file();
        const a = await LightingStore.open({ path: p });
        await a.insert('decisions', decision(1000), { waitForCommit: true });
        const before = await a.exclusive((db) => db.all('SELECT version, applied_at FROM schema_migrations ORDER BY version'));
        await a.close();
        const b = await openStore(p);
        const after = await b.exclusive((db) => db.all('SELECT version, applied_at FROM schema_migrations ORDER BY version'));
        assert.deepEqual(after, before);
        assert.equal((await b.counts()).decisions, 1);
        if (engine === 'sqlite') {
          const report = await b.exclusive((db) => migrate(db as Db));
          assert.deepEqual(report.applied, []);
          assert.equal(report.to, latestVersion());
        }
      });

      itSqlite('a failing migration is rolled back and the open is refused', async () => {
        const p = file();
        const broken: Migration[] = [
          MIGRATIONS[0] as Migration,
          { version: 2, name: 'broken', statements: ['CREATE TABLE half_done (x INTEGER)', 'CREATE TABLE oops ('] },
        ];
        await assert.rejects(LightingStore.open({ path: p, migrations: broken }), /migration 2 \(broken\) failed/);
        assert.deepEqual(
          LightingStore.openFiles().filter((f) => f.endsWith(path.basename(p))),
          [],
        );
        const db = await Db.open(p);
        try {
          const versions = await db.all<{ version: number }>('SELECT version FROM schema_migrations');
          assert.deepEqual(
            versions.map((v) => v.version),
            [1],
          );
          const half = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half_done'");
          assert.equal(half?.n, 0, 'the failed migration left nothing behind');
        } finally {
          await db.close();
        }
        // The real migrations then bring it up to date.
        const s = await openStore(p);
        assert.equal(s.schemaVersion, latestVersion());
      });

      it("migration 4 (gateway) keeps a version-3 database's rows, feature windows included, and ids go on after them", async () => {
        const p = file();
        const v3 = await LightingStore.open({ path: p, migrations: MIGRATIONS.filter((m) => m.version <= 3) });
        await v3.insert('feature_windows', sampleWindow('office-1', 0));
        await v3.insert('feature_windows', sampleWindow('office-1', 300_000));
        await v3.insert('decisions', decision(1000), { waitForCommit: true });
        await v3.close();
        const s = await openStore(p, { gateway: 'bus-1' });
        assert.equal(s.schemaVersion, latestVersion());
        const old = await openStore(p);
        assert.deepEqual(
          (await old.latestFeatureWindows('office-1', 5)).map((w) => w.windowStart),
          [300_000, 0],
          'kept, gateway ""',
        );
        assert.equal((await old.decisions()).items[0]?.gateway, '');
        await s.insert('feature_windows', sampleWindow('office-1', 0));
        await s.flush();
        const ids = await s.exclusive((db) =>
          db.all<{ id: number; gateway: string }>('SELECT id, gateway FROM feature_windows ORDER BY id'),
        );
        assert.deepEqual(
          ids.map((r) => r.gateway),
          ['', '', 'bus-1'],
        );
        assert.equal(new Set(ids.map((r) => r.id)).size, 3);
      });

      it('refuses a database newer than the code with a clear error', async () => {
        const p = file();
        const a = await LightingStore.open({ path: p });
        await a.exclusive((db) => db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, 'future', 0)"));
        await a.close();
        await assert.rejects(LightingStore.open({ path: p }), (err: unknown) => {
          assert.ok(err instanceof SchemaVersionError);
          assert.equal(err.databaseVersion, 7);
          assert.equal(err.codeVersion, latestVersion());
          assert.match(err.message, new RegExp(`schema version 7, newer than this package supports \\(${latestVersion()}\\)`));
          return true;
        });
      });

      itSqlite('a file that is not a SQLite database gives a clear error and is left alone', async () => {
        const p = file();
        fs.writeFileSync(p, 'these are my notes, not a database\n'.repeat(200));
        await assert.rejects(LightingStore.open({ path: p }), /cannot open the lighting store .*: .*file is not a database/);
        assert.equal(fs.readFileSync(p, 'utf8').slice(0, 10), 'these are ');
      });

      it('rejects bad options', async () => {
        await assert.rejects(LightingStore.open({ path: file(), flushMaxRows: 0 }), RangeError);
        await assert.rejects(LightingStore.open({ path: file(), busyTimeoutMs: 1.5 }), RangeError);
        await assert.rejects(LightingStore.open({ path: '' }), TypeError);
      });
    });

    describe('one connection per file', function () {
      itSqlite('two opens of one file (even spelled differently, even at once) share one connection', async () => {
        const p = file();
        const spelled = path.join(path.dirname(p), '.', 'sub', '..', path.basename(p));
        const [a, b] = await Promise.all([openStore(p), openStore(spelled)]);
        assert.equal(a.connectionId, b.connectionId);
        assert.equal(LightingStore.openFiles().filter((f) => f === a.path).length, 1);
        await a.insert('decisions', decision(1), { waitForCommit: true });
        assert.equal((await b.decisions()).total, 1);
        const other = await openStore(file());
        assert.notEqual(other.connectionId, a.connectionId);
      });

      it('the connection stays open until the last handle closes, then a new open gets a new one', async () => {
        const p = file();
        const a = await LightingStore.open({ path: p });
        const b = await LightingStore.open({ path: p });
        const id = a.connectionId;
        await a.close();
        await a.close(); // idempotent
        assert.ok(LightingStore.openFiles().includes(b.path));
        await b.insert('decisions', decision(2), { waitForCommit: true });
        await b.close();
        assert.ok(!LightingStore.openFiles().includes(b.path));
        const c = await openStore(p);
        assert.notEqual(c.connectionId, id);
        assert.equal((await c.counts()).decisions, 1);
      });

      it('close flushes queued rows; a closed handle rejects inserts', async () => {
        const p = file();
        const a = await LightingStore.open({ path: p, flushIntervalMs: 60_000 });
        const ack = await a.insert('decisions', decision(3));
        assert.deepEqual(ack, { committed: false, id: null });
        await a.close();
        await assert.rejects(a.insert('decisions', decision(4)), StoreClosedError);
        const b = await openStore(p);
        assert.equal((await b.counts()).decisions, 1);
      });
    });

    describe('batched writer', function () {
      it('waitForCommit resolves after commit: another connection sees the row', async () => {
        const p = file();
        const s = await openStore(p, { flushIntervalMs: 20 });
        const ack = await s.insert('decisions', decision(10, { msgId: 'm-1' }), { waitForCommit: true });
        assert.equal(ack.committed, true);
        assert.equal(typeof ack.id, 'number');
        const reader = await openReader(p);
        try {
          const row = await reader.get<{ id: number; msg_id: string }>('SELECT id, msg_id FROM decisions');
          assert.deepEqual(row, { id: ack.id, msg_id: 'm-1' });
        } finally {
          await reader.close();
        }
      });

      it('waitForCommit does not wait for the flush interval: committed and visible from another connection first', async () => {
        const p = file();
        const s = await openStore(p, { flushIntervalMs: 10_000 });
        // A fire-and-forget row alone keeps waiting for the (long) interval.
        await s.insert('telemetry', { ts: 1, kind: 'queued', data: {} });
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        assert.equal(s.writerStats().transactions, 0, 'rows not waited on are still batched');
        let intervalElapsed = false;
        const interval = setTimeout(() => {
          intervalElapsed = true;
        }, 10_000);
        try {
          const ack = await s.insert('decisions', decision(10, { msgId: 'prompt-1' }), { waitForCommit: true });
          assert.equal(intervalElapsed, false, 'acknowledged before the flush interval');
          assert.equal(ack.committed, true);
          const reader = await openReader(p);
          try {
            assert.deepEqual(await reader.get<{ id: number; msg_id: string }>('SELECT id, msg_id FROM decisions'), {
              id: ack.id,
              msg_id: 'prompt-1',
            });
            assert.deepEqual(
              await reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM telemetry'),
              { n: 1 },
              'the row queued earlier rode along',
            );
          } finally {
            await reader.close();
          }
          assert.equal(s.writerStats().transactions, 1);
        } finally {
          clearTimeout(interval);
        }
      });

      it('rows get ids in arrival order, across the multi-row INSERT sizes of a batch (64, 32, ... 1)', async () => {
        // 127 rows = chunks of 64, 32, 16, 8, 4, 2, 1 in one transaction; repeated so that a race would show.
        const s = await openStore(file(), { flushIntervalMs: 10_000 });
        for (let round = 0; round < 20; round++) {
          const acks = await Promise.all(
            Array.from({ length: 127 }, (_, i) =>
              s.insert('telemetry', { ts: round * 1000 + i, kind: `r${round}-${i}` }, { waitForCommit: true }),
            ),
          );
          const ids = acks.map((a) => a.id as number);
          assert.deepEqual(
            ids,
            [...ids].sort((x, y) => x - y),
            `round ${round}: ids follow arrival order`,
          );
        }
        const rows = await s.exclusive((db) => db.all<{ id: number; ts: number }>('SELECT id, ts FROM telemetry ORDER BY id'));
        assert.equal(rows.length, 20 * 127);
        assert.deepEqual(
          rows.map((r) => r.ts),
          [...rows.map((r) => r.ts)].sort((x, y) => x - y),
          'stored rowid order is arrival order',
        );
      });

      it('concurrent waitForCommit inserts (several handles) share one transaction', async () => {
        const p = file();
        const a = await openStore(p, { flushIntervalMs: 10_000 });
        const b = await openStore(p);
        const before = a.writerStats().transactions;
        const acks = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 === 0 ? a : b).insert(
              'raw_sensor_events',
              { sensorId: `s${i}`, zone: 'z', ts: i, lux: i, source: 'test' },
              { waitForCommit: true },
            ),
          ),
        );
        assert.ok(acks.every((k) => k.committed));
        assert.equal(new Set(acks.map((k) => k.id)).size, 40);
        assert.equal(a.writerStats().transactions - before, 1);
        assert.equal(b.writerStats().committedRows, 40);
      });

      itSqlite(
        'a group commit of up to 64 rows is one INSERT in autocommit (one statement); larger batches BEGIN, chunk and COMMIT, raw events one json_each INSERT',
        async () => {
          const s = await openStore(file(), { flushIntervalMs: 10_000 });
          const row = (i: number): Promise<{ id: number | null }> =>
            s.insert('raw_sensor_events', { sensorId: `s${i}`, zone: 'z', ts: i, lux: i, source: 'test' }, { waitForCommit: true });
          const few = await Promise.all(Array.from({ length: 5 }, (_, i) => row(i)));
          assert.equal(s.writerStats().transactions, 1);
          assert.equal(s.writerStats().statements, 1, 'five waiters: one INSERT of five rows, no BEGIN or COMMIT');
          const ids = few.map((a) => a.id as number);
          assert.deepEqual(
            ids,
            Array.from({ length: 5 }, (_, i) => (ids[0] as number) + i),
            'consecutive ids in arrival order',
          );
          await Promise.all(Array.from({ length: 100 }, (_, i) => row(100 + i)));
          // 100 raw events: one INSERT ... SELECT FROM json_each(?) of any size, in autocommit.
          assert.equal(s.writerStats().statements - 1, 1);
          const n = await s.exclusive((db) => db.get<{ n: number }>('SELECT count(*) AS n FROM raw_sensor_events'));
          assert.equal(n?.n, 105);
          // 100 telemetry rows (no JSON path): BEGIN, INSERTs of 64, 32 and 4 rows, COMMIT.
          await Promise.all(Array.from({ length: 100 }, (_, i) => s.insert('telemetry', { ts: i, kind: 'k' }, { waitForCommit: true })));
          assert.equal(s.writerStats().statements - 2, 5);
          assert.equal((await s.counts()).telemetry, 100);
        },
      );

      it('waiters arriving while a transaction runs share the next one', async () => {
        const s = await openStore(file(), { flushIntervalMs: 10_000 });
        const row = (i: number): Promise<unknown> =>
          s.insert('raw_sensor_events', { sensorId: `s${i}`, zone: 'z', ts: i, lux: i, source: 'test' }, { waitForCommit: true });
        const first = row(0);
        // Hold the connection so the first flush is still waiting when the others arrive.
        let release!: () => void;
        const held = s.exclusive(() => new Promise<void>((r) => (release = r)));
        await new Promise((r) => setTimeout(r, 10));
        const later = Array.from({ length: 10 }, (_, i) => row(i + 1));
        release();
        await held;
        await Promise.all([first, ...later]);
        assert.equal(s.writerStats().committedRows, 11);
        assert.equal(s.writerStats().transactions, 2, 'one for the first waiter, one for all that came during it');
      });

      it('starts a transaction as soon as flushMaxRows rows are queued; a backlog goes in larger ones (SQLite: 4 000 rows)', async () => {
        const s = await openStore(file(), { flushIntervalMs: 60_000, flushMaxRows: 100 });
        const acks: Array<Promise<unknown>> = [];
        for (let i = 0; i < 10_000; i++) {
          acks.push(s.insert('raw_sensor_events', { sensorId: 's', zone: 'z', ts: i, lux: i, source: 'test' }, { waitForCommit: true }));
        }
        await Promise.all(acks);
        const stats = s.writerStats();
        assert.equal(stats.committedRows, 10_000);
        // The 100th row starts the first transaction; the 9 900 queued meanwhile follow as 4 000 + 4 000 + 1 900
        // (PostgreSQL keeps flushMaxRows per transaction).
        assert.equal(stats.transactions, engine === 'sqlite' ? 4 : 100);
        const ts = await s.exclusive((db) => db.all<{ ts: number }>('SELECT ts FROM raw_sensor_events ORDER BY id'));
        assert.deepEqual(
          ts.map((r) => r.ts),
          Array.from({ length: 10_000 }, (_, i) => i),
        );
      });

      it('ids of rows written together are their own rowids', async () => {
        const s = await openStore(file(), { flushIntervalMs: 60_000, flushMaxRows: 37 });
        const acks = await Promise.all(
          Array.from({ length: 37 }, (_, i) => s.insert('decisions', decision(100 + i, { msgId: `id-${i}` }), { waitForCommit: true })),
        );
        const rows = await s.exclusive((db) => db.all<{ id: number; msg_id: string }>('SELECT id, msg_id FROM decisions'));
        const byMsg = new Map(rows.map((r) => [r.msg_id, r.id]));
        acks.forEach((ack, i) => assert.equal(ack.id, byMsg.get(`id-${i}`), `row ${i}`));
      });

      it('a row the database refuses is rejected alone; the rest of its batch is stored', async () => {
        const s = await openStore(file(), { flushIntervalMs: 60_000, flushMaxRows: 10 });
        await poison(s, 'raw_sensor_events', 'poison', 'poisoned row');
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            s.insert(
              'raw_sensor_events',
              { sensorId: `s${i}`, zone: 'z', ts: i, lux: 1, source: i === 6 ? 'poison' : 'ok' },
              { waitForCommit: true },
            ),
          ),
        );
        results.forEach((r, i) => {
          if (i === 6) {
            assert.equal(r.status, 'rejected');
            const err = (r as PromiseRejectedResult).reason as FlushError;
            assert.ok(err instanceof FlushError);
            assert.match(err.message, /poisoned row/);
            assert.deepEqual(
              err.rows.map((x) => [x.table, x.index]),
              [['raw_sensor_events', 6]],
            );
          } else {
            assert.equal(r.status, 'fulfilled', `row ${i}`);
          }
        });
        const stored = await s.exclusive((db) => db.all<{ sensor_id: string }>('SELECT sensor_id FROM raw_sensor_events ORDER BY ts'));
        assert.deepEqual(
          stored.map((r) => r.sensor_id),
          ['s0', 's1', 's2', 's3', 's4', 's5', 's7', 's8', 's9'],
        );
      });

      it('a failed batch writes nothing of it and reports every row (event for rows not waited on)', async () => {
        const s = await openStore(file(), { flushIntervalMs: 60_000, flushMaxRows: 5 });
        await poison(s, 'telemetry', null, 'disk says no');
        const events: FlushError[] = [];
        s.on('flushError', (err) => events.push(err));
        const queued = await Promise.all(
          Array.from({ length: 4 }, (_, i) => s.insert('telemetry', { ts: i, kind: 'ai-call', latencyMs: 12 })),
        );
        assert.ok(queued.every((a) => a.committed === false));
        await assert.rejects(s.insert('telemetry', { ts: 9, kind: 'ai-call' }, { waitForCommit: true }), /disk says no/);
        assert.equal((await s.counts()).telemetry, 0);
        assert.equal(events.length, 1);
        assert.deepEqual(
          events[0]?.rows.map((r) => r.index),
          [0, 1, 2, 3],
        );
        assert.equal(s.writerStats().failedRows, 5);
      });

      it('rejects when the queue is full instead of growing without bound', async () => {
        const s = await openStore(file(), { flushIntervalMs: 60_000, flushMaxRows: 1000, maxQueueRows: 5 });
        for (let i = 0; i < 5; i++) await s.insert('decisions', decision(i));
        await assert.rejects(s.insert('decisions', decision(6)), QueueFullError);
        await s.flush();
        assert.equal((await s.counts()).decisions, 5);
        await s.insert('decisions', decision(7));
      });
    });

    describe('validation: bad rows are refused before queueing, nothing stored', function () {
      const bad: Array<[TableName, unknown, RegExp]> = [
        [
          'raw_sensor_events',
          { sensorId: 's', zone: 'z', ts: 1, lux: Number.NaN, source: 'x' },
          /lux must be a finite number >= 0, got NaN/,
        ],
        ['raw_sensor_events', { sensorId: 's', zone: 'z', ts: 1, lux: -1, source: 'x' }, /lux must be .* got -1/],
        ['raw_sensor_events', { sensorId: 's', ts: 1, lux: 1, source: 'x' }, /zone is missing/],
        ['raw_sensor_events', { sensorId: 's', zone: 'z', ts: '2024-01-01', lux: 1, source: 'x' }, /ts must be a number/],
        ['raw_sensor_events', { sensorId: 's', zone: 'z', ts: 1, source: 'x' }, /neither lux nor presence/],
        ['raw_sensor_events', { sensorId: 's', zone: 'z', ts: 1, presence: 'yes', source: 'x' }, /presence must be a boolean/],
        ['raw_sensor_events', { sensorId: 's', zone: 'z', ts: 1, lux: 1, source: 'x', late: 1 }, /late must be a boolean/],
        ['weather_events', { ts: 1, cloudCoverPct: 140 }, /cloudCoverPct must be a finite number between 0 and 100/],
        ['weather_events', { ts: 1 }, /none of temperatureC/],
        ['feature_windows', { ...sampleWindow('z', 0), minuteOfDay: 1440 }, /minuteOfDay must be a whole number between 0 and 1439/],
        ['feature_windows', { ...sampleWindow('z', 0), windowEnd: -5 }, /windowEnd must be/],
        ['feature_windows', { ...sampleWindow('z', 0), presence: { ratio: 1.5, transitions: 0, last: true } }, /presence.ratio/],
        ['decisions', { ...decision(1), intensity: 120 }, /intensity must be a finite number between 0 and 100/],
        ['decisions', { ...decision(1), source: 'robot' }, /source must be one of ai, rules, manual, schedule/],
        ['decisions', { ...decision(1), applied: 'yes' }, /applied must be a boolean/],
        ['decisions', { ...decision(1), cct: 50_000 }, /cct must be/],
        ['telemetry', { ts: 1, kind: 'x', promptTokens: 1.5 }, /promptTokens must be a whole number/],
        ['telemetry', { ts: 1 }, /kind is missing/],
        ['manual_overrides', { zone: 'z', startedAt: 10, expiresAt: 5, source: 'panel' }, /expiresAt must be >= startedAt/],
        ['personal_profiles', { profileId: 'p', encryptedPayload: '{"age": 70}' }, /must be a Fernet token/],
        ['decisions', null, /expected an object, got null/],
        ['telemetry', { ts: 1, kind: 'x', data: { big: 'x'.repeat(70_000) } }, /data is larger than 65536 bytes/],
      ];
      for (const [table, row, message] of bad) {
        it(`${table}: ${message.source}`, async () => {
          const s = await openStore(file());
          await assert.rejects(s.insert(table, row as never, { waitForCommit: true }), (err: unknown) => {
            assert.ok(err instanceof RowValidationError, String(err));
            assert.match(err.message, message);
            return true;
          });
          await s.flush();
          const counts = await s.counts();
          assert.equal(
            Object.values(counts).reduce((a, b) => a + b, 0),
            0,
          );
          assert.equal(s.writerStats().queuedRows, 0);
        });
      }

      it('never echoes a refused profile payload (it may be plaintext)', async () => {
        const s = await openStore(file());
        const secret = '{"profile_id":"p","age":71,"visual_impairment":"low_vision"}';
        const err = await s.insert('personal_profiles', { profileId: 'p', encryptedPayload: secret }).then(
          () => null,
          (e: unknown) => e as Error,
        );
        assert.ok(err);
        assert.ok(!err.message.includes('71') && !err.message.includes('low_vision'), err.message);
      });
    });

    describe('queries', function () {
      it('counts the same total on every call of an unfiltered page (cached statements are reset)', async () => {
        const s = await openStore(file());
        for (let i = 0; i < 3; i++) await s.insert('decisions', decision(1000 + i, { msgId: `t${i}` }));
        await s.flush();
        const totals = [];
        for (let i = 0; i < 4; i++) totals.push((await s.decisions()).total);
        assert.deepEqual(totals, [3, 3, 3, 3]);
        await s.raiseAlert({ kind: 'other', message: 'one' });
        const alertTotals = [];
        for (let i = 0; i < 3; i++) alertTotals.push((await s.alerts({ status: 'active' })).total);
        assert.deepEqual(alertTotals, [1, 1, 1]);
      });

      it('markDecisionNotSent: the decision of one message of one zone (this gateway, since a time) is marked not applied, once', async () => {
        const s = await openStore(file());
        await s.insert('decisions', decision(1000, { zone: 'a', msgId: 'm1' }));
        await s.insert('decisions', decision(1000, { zone: 'b', msgId: 'm1' }));
        await s.insert('decisions', decision(500, { zone: 'a', msgId: 'old' }));
        assert.equal(await s.markDecisionNotSent('m1', 'a', 'interface not connected', 900), true);
        assert.equal(await s.markDecisionNotSent('m1', 'a', 'again', 900), false, 'already marked');
        assert.equal(await s.markDecisionNotSent('old', 'a', 'too old', 900), false, 'written before `since`');
        const rows = (await s.decisions({ limit: 10 })).items;
        const a = rows.find((d) => d.zone === 'a' && d.msgId === 'm1');
        assert.equal(a?.applied, false);
        assert.equal(a?.blockedBy, 'not-sent');
        assert.match(a?.reason ?? '', /; not sent: interface not connected$/);
        assert.equal(rows.find((d) => d.zone === 'b')?.applied, true, "another zone's row of the same message untouched");
        assert.equal(rows.find((d) => d.msgId === 'old')?.applied, true);
      });

      it('decisions: newest first, total, offset and cursor pages, filters', async () => {
        const s = await openStore(file());
        for (let i = 0; i < 25; i++) {
          await s.insert(
            'decisions',
            decision(1000 + Math.floor(i / 2) * 10, {
              zone: i % 3 === 0 ? 'b' : 'a',
              msgId: `m${i}`,
              source: i % 5 === 0 ? 'ai' : 'rules',
            }),
          );
        }
        await s.flush();
        const all = await s.decisions({ limit: 1000 });
        assert.equal(all.total, 25);
        for (let i = 1; i < all.items.length; i++) {
          const [p, c] = [all.items[i - 1], all.items[i]];
          assert.ok(p && c && (p.ts > c.ts || (p.ts === c.ts && p.id > c.id)), 'ts desc, id desc');
        }
        const p1 = await s.decisions({ limit: 10 });
        const p2 = await s.decisions({ limit: 10, offset: 10 });
        assert.deepEqual([...p1.items, ...p2.items], all.items.slice(0, 20));
        // Cursor pages stay stable when newer rows arrive between pages.
        const c1 = await s.decisions({ limit: 10 });
        await s.insert('decisions', decision(99_999), { waitForCommit: true });
        const c2 = await s.decisions({ limit: 10, cursor: c1.nextCursor as string });
        const c3 = await s.decisions({ limit: 10, cursor: c2.nextCursor as string });
        assert.equal(c3.nextCursor, null);
        assert.deepEqual([...c1.items, ...c2.items, ...c3.items], all.items);
        const zoneB = await s.decisions({ zone: 'b', limit: 100 });
        assert.equal(zoneB.total, 9);
        assert.ok(zoneB.items.every((d) => d.zone === 'b'));
        const window = await s.decisions({ since: 1020, until: 1050, limit: 100 });
        assert.ok(window.items.every((d) => d.ts >= 1020 && d.ts < 1050));
        assert.equal(window.total, 6);
        assert.equal((await s.decisions({ source: 'ai' })).total, 5);
        const first = all.items[all.items.length - 1];
        assert.deepEqual(first, {
          id: first?.id,
          ts: 1000,
          zone: 'b',
          source: 'ai',
          intensity: 60,
          cct: 4000,
          reason: 'daylight',
          applied: true,
          blockedBy: null,
          energySavingEstimate: 0.4,
          estimatedWatts: null,
          msgId: 'm0',
          gateway: '',
        });
        await assert.rejects(s.decisions({ cursor: '1; DROP TABLE decisions' }), /invalid cursor/);
      });

      it('gateways sharing one database: rows say who wrote them, pages filter by gateway, control state stays per gateway', async () => {
        const p = file();
        const bus1 = await openStore(p, { gateway: 'bus-1' });
        const bus2 = await openStore(p, { gateway: 'bus-2' });
        assert.equal(bus1.gateway, 'bus-1');
        // The same zone name on both buses.
        await bus1.insert('decisions', decision(1000, { msgId: 'b1' }));
        await bus2.insert('decisions', decision(2000, { msgId: 'b2' }));
        await bus1.insert('telemetry', { ts: 1000, zone: 'office-1', kind: 'k' });
        await bus2.insert('raw_sensor_events', { sensorId: 's', zone: 'office-1', ts: 5, lux: 10, source: 'test' });
        await bus1.insert('feature_windows', sampleWindow('office-1', 0, { lux: { mean: 100, min: 1, max: 1, std: 0, last: 1 } }));
        await bus2.insert('feature_windows', sampleWindow('office-1', 0, { lux: { mean: 200, min: 1, max: 1, std: 0, last: 1 } }));
        await bus1.insert('manual_overrides', { zone: 'office-1', startedAt: 0, expiresAt: null, source: 'manual' });
        await bus1.flush();
        const all = await bus1.decisions({ zone: 'office-1' });
        assert.deepEqual(
          all.items.map((d) => [d.msgId, d.gateway]),
          [
            ['b2', 'bus-2'],
            ['b1', 'bus-1'],
          ],
        );
        assert.deepEqual(
          (await bus2.decisions({ gateway: 'bus-1' })).items.map((d) => d.msgId),
          ['b1'],
        );
        assert.equal((await bus2.decisions({ gateway: 'bus-2' })).total, 1);
        assert.equal((await bus1.telemetry({ gateway: 'bus-2' })).total, 0);
        assert.equal((await bus1.telemetry({ gateway: 'bus-1' })).items[0]?.gateway, 'bus-1');
        // Each bus's office-1 has its own window, override and active alert.
        assert.deepEqual(
          (await bus1.latestFeatureWindows('office-1', 3)).map((w) => w.lux.mean),
          [100],
        );
        assert.deepEqual(
          (await bus2.latestFeatureWindows('office-1', 3)).map((w) => w.lux.mean),
          [200],
        );
        assert.equal((await bus1.activeOverrides(10, 'office-1')).length, 1);
        assert.equal((await bus2.activeOverrides(10, 'office-1')).length, 0);
        assert.equal(await bus2.clearOverrides({ zone: 'office-1' }), 0, "bus-2 cannot clear bus-1's override");
        const a1 = await bus1.raiseAlert({ kind: 'lampFailure', zone: 'office-1', message: 'lamp' });
        const a2 = await bus2.raiseAlert({ kind: 'lampFailure', zone: 'office-1', message: 'lamp' });
        assert.ok(a1.created && a2.created && a1.id !== a2.id);
        assert.deepEqual(
          (await bus1.alerts({ gateway: 'bus-2' })).items.map((a) => a.id),
          [a2.id],
        );
        assert.equal((await bus1.alerts()).total, 2);
        const raws: string[] = [];
        for await (const r of bus2.rawSensorEvents({ since: 0 })) raws.push(r.sensorId);
        assert.deepEqual(raws, ['s']);
        for await (const r of bus1.rawSensorEvents({ since: 0 })) assert.fail(`bus-1 read bus-2's reading ${r.sensorId}`);
        assert.equal(await bus2.latestRawTs(), 5);
        assert.equal(await bus1.latestRawTs(), null);
        await assert.rejects(LightingStore.open({ path: p, gateway: 'a\nb' }), RangeError);
      });

      it('telemetry: kind filter and JSON data round trip', async () => {
        const s = await openStore(file());
        await s.insert('telemetry', {
          ts: 1,
          kind: 'ai-call',
          zone: 'z',
          latencyMs: 420,
          payloadBytes: 1800,
          promptTokens: 300,
          completionTokens: 40,
          data: { model: 'm', tools: ['set'] },
        });
        await s.insert('telemetry', { ts: 2, kind: 'fallback', fallbackReason: 'timeout' });
        await s.flush();
        const ai = await s.telemetry({ kind: 'ai-call' });
        assert.equal(ai.total, 1);
        assert.deepEqual(ai.items[0]?.data, { model: 'm', tools: ['set'] });
        assert.equal(ai.items[0]?.promptTokens, 300);
        const all = await s.telemetry();
        assert.deepEqual(
          all.items.map((t) => t.kind),
          ['fallback', 'ai-call'],
        );
      });

      it('feature windows: latest N per zone, a snapshot is replaced by the complete window and never the reverse', async () => {
        const s = await openStore(file());
        for (let i = 0; i < 5; i++) await s.insert('feature_windows', sampleWindow('a', i * 300_000));
        await s.insert('feature_windows', sampleWindow('b', 0));
        await s.insert('feature_windows', sampleWindow('a', 1_500_000, { partial: true, count: 1, windowEnd: 1_600_000 }));
        await s.flush();
        let latest = await s.latestFeatureWindows('a', 3);
        assert.deepEqual(
          latest.map((w) => w.windowStart),
          [1_500_000, 1_200_000, 900_000],
        );
        assert.equal(latest[0]?.partial, true);
        assert.deepEqual(latest[1], sampleWindow('a', 1_200_000));
        await s.insert('feature_windows', sampleWindow('a', 1_500_000, { count: 9 }));
        await s.insert('feature_windows', sampleWindow('a', 1_500_000, { partial: true, count: 2 }));
        await s.flush();
        latest = await s.latestFeatureWindows('a', 1);
        assert.equal(latest[0]?.count, 9);
        assert.equal(latest[0]?.partial, undefined);
        assert.deepEqual(await s.featureWindowZones(), ['a', 'b']);
        const perZone = await s.latestFeatureWindowsPerZone(2);
        assert.deepEqual(
          perZone.map((w) => `${w.zone}@${w.windowStart}`),
          ['a@1500000', 'a@1200000', 'b@0'],
        );
        assert.equal((await s.counts()).feature_windows, 7);
      });

      it('overrides: active at a time, per zone, cleared by id or zone', async () => {
        const s = await openStore(file());
        const a = await s.insert(
          'manual_overrides',
          { zone: 'a', startedAt: 100, expiresAt: 200, source: 'panel', setpoint: { intensity: 80 } },
          { waitForCommit: true },
        );
        await s.insert('manual_overrides', { zone: 'a', startedAt: 150, expiresAt: null, source: 'http' });
        await s.insert('manual_overrides', { zone: 'b', startedAt: 100, expiresAt: 300, source: 'panel' });
        await s.insert('manual_overrides', { zone: 'b', startedAt: 100, expiresAt: 300, clearedAt: 120, source: 'panel' });
        assert.deepEqual((await s.activeOverrides(99)).length, 0);
        const at160 = await s.activeOverrides(160);
        assert.deepEqual(
          at160.map((o) => o.zone),
          ['a', 'b', 'a'],
        );
        assert.deepEqual(at160[0]?.setpoint, { intensity: 80 });
        assert.deepEqual(
          (await s.activeOverrides(200)).map((o) => o.source),
          ['panel', 'http'],
        );
        assert.equal((await s.activeOverrides(160, 'b')).length, 1);
        assert.equal(await s.clearOverrides({ id: a.id as number, clearedAt: 170 }), 1);
        assert.equal(await s.clearOverrides({ zone: 'b', clearedAt: 170 }), 1);
        assert.deepEqual(
          (await s.activeOverrides(180)).map((o) => o.source),
          ['http'],
        );
      });

      it('profiles: ciphertext stored, replaced keeping createdAt, deleted', async () => {
        const s = await openStore(file());
        await s.insert('personal_profiles', { profileId: 'default', encryptedPayload: FERNET_TOKEN, createdAt: 10, updatedAt: 10 });
        assert.deepEqual(await s.getProfile('default'), {
          profileId: 'default',
          encryptedPayload: FERNET_TOKEN,
          createdAt: 10,
          updatedAt: 10,
        });
        const other = fernetShaped(2);
        await s.insert('personal_profiles', { profileId: 'default', encryptedPayload: other, createdAt: 99, updatedAt: 20 });
        assert.deepEqual(await s.getProfile('default'), { profileId: 'default', encryptedPayload: other, createdAt: 10, updatedAt: 20 });
        assert.equal(await s.getProfile('nobody'), null);
        assert.equal(await s.deleteProfile('default'), true);
        assert.equal(await s.getProfile('default'), null);
      });

      it('raw events since a time, in pages, without late ones; latest weather per zone', async () => {
        const s = await openStore(file());
        for (let i = 0; i < 25; i++) {
          await s.insert('raw_sensor_events', {
            sensorId: 's',
            zone: i % 2 ? 'a' : 'b',
            ts: 1000 + Math.floor(i / 3),
            lux: i,
            source: 'x',
            late: i === 7,
          });
        }
        await s.insert('weather_events', { ts: 10, temperatureC: 5, source: 'w' });
        await s.insert('weather_events', { ts: 20, temperatureC: 6, outdoorLux: 9000, source: 'w' });
        await s.insert('weather_events', { ts: 15, zone: 'a', cloudCoverPct: 50, source: 'w' });
        await s.flush();
        const got: number[] = [];
        for await (const r of s.rawSensorEvents({ since: 1002, pageRows: 4 })) got.push(r.lux as number);
        const expected = Array.from({ length: 25 }, (_, i) => i).filter((i) => 1000 + Math.floor(i / 3) >= 1002 && i !== 7);
        assert.deepEqual(got, expected);
        assert.equal(await s.latestRawTs(), 1008);
        const weather = await s.latestWeather(0);
        assert.deepEqual(weather, [
          { ts: 15, zone: 'a', cloudCoverPct: 50, source: 'w' },
          { ts: 20, zone: null, temperatureC: 6, outdoorLux: 9000, source: 'w' },
        ]);
      });

      it('counts and healthCheck', async () => {
        const s = await openStore(file());
        await s.insert('decisions', decision(1));
        await s.insert('telemetry', { ts: 1, kind: 'k' });
        await s.flush();
        const counts = await s.counts();
        assert.equal(counts.decisions, 1);
        assert.equal(counts.telemetry, 1);
        assert.equal(counts.raw_sensor_events, 0);
        const health = await s.healthCheck({ quickCheck: true });
        assert.equal(health.ok, true);
        assert.equal(health.database, 'ok');
        assert.equal(health.quickCheck, 'ok');
        assert.equal(health.journalMode, engine === 'sqlite' ? 'wal' : 'postgresql');
        assert.equal(health.schemaVersion, latestVersion());
        const closed = await LightingStore.open({ path: file() });
        await closed.close();
        const report = await closed.healthCheck();
        assert.equal(report.ok, false);
        assert.match(report.database, /closed/);
      });
    });
  });
