/**
 * The small lib modules behind the store nodes: where the database file is
 * (setting, DB_URL in the reference's SQLAlchemy form, default), the lease a
 * lighting-store node holds (open on first use, retry after a failure, close
 * and reopen), and the retention schedule (CronJob) with its errors in words.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { resolveStoreLocation, sqlitePathFromUrl, UnsupportedDatabaseError } from '../../../lib/store/settings';
import { StoreLease, StoreLeaseClosedError, type LeaseState } from '../../../lib/store/lease';
import { formatLocalMinute, ScheduleError, startPruneSchedule } from '../../../lib/store/prune-job';

const USER_DIR = path.resolve('/srv/node-red');

describe('lib/store node support', () => {
  describe('resolveStoreLocation / sqlitePathFromUrl', () => {
    it('uses the setting, else DB_URL, else <userDir>/smart-lighting.db', () => {
      const env = { DB_URL: 'sqlite:///./smart_lighting.db' };
      assert.deepEqual(resolveStoreLocation({ setting: ' data/l.db ', userDir: USER_DIR, env }), {
        path: path.join(USER_DIR, 'data', 'l.db'),
        display: path.join(USER_DIR, 'data', 'l.db'),
        engine: 'sqlite',
        from: 'setting',
      });
      assert.deepEqual(resolveStoreLocation({ setting: '', userDir: USER_DIR, env }), {
        path: path.join(USER_DIR, 'smart_lighting.db'),
        display: path.join(USER_DIR, 'smart_lighting.db'),
        engine: 'sqlite',
        from: 'DB_URL',
      });
      assert.deepEqual(resolveStoreLocation({ setting: '', userDir: USER_DIR, env: { DB_URL: '  ' } }), {
        path: path.join(USER_DIR, 'smart-lighting.db'),
        display: path.join(USER_DIR, 'smart-lighting.db'),
        engine: 'sqlite',
        from: 'default',
      });
    });

    it('reads SQLAlchemy sqlite URLs: relative, absolute (four slashes), driver suffix, query, escapes, memory', () => {
      assert.equal(sqlitePathFromUrl('sqlite:///./a.db', USER_DIR), path.join(USER_DIR, 'a.db'));
      assert.equal(sqlitePathFromUrl('sqlite:///a.db', USER_DIR), path.join(USER_DIR, 'a.db'));
      assert.equal(sqlitePathFromUrl('sqlite:////var/lib/l.db', USER_DIR), '/var/lib/l.db');
      assert.equal(sqlitePathFromUrl('SQLite+pysqlite:////var/lib/l.db?timeout=20', USER_DIR), '/var/lib/l.db');
      assert.equal(sqlitePathFromUrl('sqlite:///my%20lights.db', USER_DIR), path.join(USER_DIR, 'my lights.db'));
      assert.equal(sqlitePathFromUrl('sqlite://', USER_DIR), ':memory:');
      assert.equal(sqlitePathFromUrl('sqlite:///:memory:', USER_DIR), ':memory:');
      assert.equal(resolveStoreLocation({ setting: 'sqlite:////tmp/x.db', userDir: USER_DIR }).path, '/tmp/x.db');
    });

    it('takes PostgreSQL URLs (postgresql://, postgres://, postgresql+psycopg://) with the password masked in `display`', () => {
      const ref = resolveStoreLocation({
        setting: '',
        userDir: USER_DIR,
        env: { DB_URL: 'postgresql+psycopg://user:pass@db:5432/smart_lighting' },
      });
      assert.deepEqual(ref, {
        path: 'postgresql+psycopg://user:pass@db:5432/smart_lighting',
        display: 'postgresql://user:***@db:5432/smart_lighting',
        engine: 'postgres',
        from: 'DB_URL',
      });
      assert.equal(resolveStoreLocation({ setting: 'postgres://db/x', userDir: USER_DIR }).display, 'postgresql://db:5432/x');
      assert.equal(
        resolveStoreLocation({ setting: ' postgresql://u@db:6000/x?sslmode=require ', userDir: USER_DIR }).display,
        'postgresql://u@db:6000/x?sslmode=require',
      );
      assert.throws(
        () => resolveStoreLocation({ setting: 'postgresql://u:secretpw@db/x?sslmode=maybe', userDir: USER_DIR }),
        (e: Error) => e instanceof UnsupportedDatabaseError && /sslmode must be one of/.test(e.message) && !e.message.includes('secretpw'),
      );
      assert.throws(() => resolveStoreLocation({ setting: 'postgresql://u:secretpw@db', userDir: USER_DIR }), /names no database/);
      assert.throws(
        () => resolveStoreLocation({ setting: 'postgresql://db/x?sslrootcert=/a', userDir: USER_DIR }),
        /unknown PostgreSQL URL parameter "sslrootcert"/,
      );
    });

    it('refuses other databases and malformed URLs; sqlitePathFromUrl refuses PostgreSQL', () => {
      for (const url of ['postgresql+psycopg://user:pass@db:5432/smart_lighting', 'postgres://db/x', 'postgresql://db/x']) {
        assert.throws(
          () => sqlitePathFromUrl(url, USER_DIR),
          (e: Error) => e instanceof UnsupportedDatabaseError && /not a SQLite file/.test(e.message),
        );
      }
      assert.throws(() => sqlitePathFromUrl('mysql://db/x', USER_DIR), /scheme "mysql" is not supported/);
      assert.throws(() => sqlitePathFromUrl('sqlite://host/x.db', USER_DIR), /no host/);
      assert.throws(() => sqlitePathFromUrl('sqlite:///%E0%A4%A.db', USER_DIR), /%-escape/);
      assert.throws(
        () => resolveStoreLocation({ setting: '', userDir: USER_DIR, env: { DB_URL: 'mysql://x/y' } }),
        UnsupportedDatabaseError,
      );
    });
  });

  describe('StoreLease', () => {
    class FakeStore {
      closed = false;
      constructor(readonly path: string) {}
      async close(): Promise<void> {
        this.closed = true;
      }
    }

    it('opens once on first acquire, shares the handle, closes on release and reopens after', async () => {
      let opens = 0;
      const states: string[] = [];
      const lease = new StoreLease(
        async () => new FakeStore(`db${++opens}`),
        (s: LeaseState) => states.push(s.state),
      );
      assert.equal(opens, 0);
      const [a, b] = await Promise.all([lease.acquire(), lease.acquire()]);
      assert.equal(a, b);
      assert.equal(opens, 1);
      await lease.release();
      assert.equal(a.closed, true);
      const c = await lease.acquire();
      assert.notEqual(c, a);
      assert.equal(c.path, 'db2');
      await lease.close();
      assert.equal(c.closed, true);
      await assert.rejects(lease.acquire(), StoreLeaseClosedError);
      assert.deepEqual(states, ['opening', 'connected', 'idle', 'opening', 'connected', 'closed']);
    });

    it('reports a failed open and retries on the next acquire; a configuration error is final', async () => {
      let fail = true;
      const lease = new StoreLease(async () => {
        if (fail) throw new Error('disk on fire');
        return new FakeStore('ok');
      });
      await assert.rejects(lease.acquire(), /disk on fire/);
      assert.deepEqual(lease.state, { state: 'error', message: 'disk on fire' });
      fail = false;
      assert.equal((await lease.acquire()).path, 'ok');
      assert.deepEqual(lease.state, { state: 'connected', path: 'ok' });

      let called = false;
      const broken = new StoreLease(
        async () => {
          called = true;
          return new FakeStore('never');
        },
        () => undefined,
        new UnsupportedDatabaseError('PostgreSQL is not supported yet'),
      );
      await assert.rejects(broken.acquire(), /not supported yet/);
      await assert.rejects(broken.acquire(), /not supported yet/);
      assert.equal(called, false);
    });

    it('a release while opening closes the store once it is open', async () => {
      let resolve: (s: FakeStore) => void = () => undefined;
      const lease = new StoreLease(() => new Promise<FakeStore>((r) => (resolve = r)));
      const pending = lease.acquire();
      const released = lease.release();
      await new Promise((r) => setImmediate(r));
      const store = new FakeStore('late');
      resolve(store);
      assert.equal(await pending, store);
      await released;
      assert.equal(store.closed, true);
    });
  });

  describe('startPruneSchedule', () => {
    it('refuses invalid expressions and time zones with a ScheduleError in words; blank means no schedule', () => {
      assert.equal(
        startPruneSchedule('  ', '', () => undefined),
        null,
      );
      for (const expr of ['every night', '61 * * * *', '* * * *', '0 0 * * * * *']) {
        assert.throws(
          () => startPruneSchedule(expr, '', () => undefined),
          (e: Error) => e instanceof ScheduleError && e.message.includes(JSON.stringify(expr)),
        );
      }
      assert.throws(() => startPruneSchedule('0 0 * * *', 'Mars/Olympus', () => undefined), /unknown time zone "Mars\/Olympus"/);
    });

    it('computes the next run in its time zone and stops', () => {
      const s = startPruneSchedule('30 3 * * *', 'Europe/Berlin', () => undefined);
      assert.ok(s);
      const next = s.nextRun();
      assert.ok(next !== null && next > Date.now() && next <= Date.now() + 86_400_000);
      assert.match(formatLocalMinute(next, 'Europe/Berlin'), / 03:30$/);
      s.stop();
      assert.equal(s.nextRun(), null);
    });
  });
});
