/** PostgreSQL URLs (lib/store/pg-url): the forms the reference service uses, and the password never shown. */
import assert from 'node:assert/strict';
import { isPostgresUrl, maskDatabaseUrl, parsePostgresUrl, PgUrlError } from '../../../lib/store/pg-url';
import { numberPlaceholders, pgDdl, pgQuery } from '../../../lib/store/dialect';

describe('lib/store/pg-url', () => {
  it('parses postgresql://, postgres:// and postgresql+psycopg:// (driver suffix ignored)', () => {
    for (const scheme of ['postgresql', 'postgres', 'postgresql+psycopg', 'POSTGRESQL+psycopg2']) {
      const t = parsePostgresUrl(`${scheme}://user:p%40ss@db:5433/smart_lighting`);
      assert.equal(t.host, 'db');
      assert.equal(t.port, 5433);
      assert.equal(t.user, 'user');
      assert.equal(t.password, 'p@ss');
      assert.equal(t.database, 'smart_lighting');
      assert.equal(t.masked, 'postgresql://user:***@db:5433/smart_lighting');
      assert.equal(t.key, 'postgresql://user@db:5433/smart_lighting');
      assert.ok(isPostgresUrl(`${scheme}://db/x`));
    }
    assert.ok(!isPostgresUrl('sqlite:///x.db'));
    assert.ok(!isPostgresUrl('/var/lib/postgresql.db'));
  });

  it('defaults the port, reads sslmode, application_name, connect_timeout, host=/socket', () => {
    const t = parsePostgresUrl('postgres://u@db/x?sslmode=verify-full&application_name=bus-1&connect_timeout=3');
    assert.equal(t.port, 5432);
    assert.equal(t.sslmode, 'verify-full');
    assert.equal(t.applicationName, 'bus-1');
    assert.equal(t.connectTimeoutS, 3);
    assert.equal(t.password, undefined);
    assert.equal(parsePostgresUrl('postgresql:///x?host=/var/run/postgresql').host, '/var/run/postgresql');
  });

  it('refuses bad URLs with a clear error that never holds the password', () => {
    const bad: Array<[string, RegExp]> = [
      ['postgresql://u:TopSecret1@db', /names no database/],
      ['postgresql://u:TopSecret1@db:99999/x', /bad port/],
      ['postgresql://u:TopSecret1@db/x?sslmode=on', /sslmode must be one of/],
      ['postgresql://u:TopSecret1@db/x?ssl=true', /unknown PostgreSQL URL parameter "ssl"/],
      ['postgresql://u:Top%ZZSecret1@db/x', /bad %-escape in the password/],
      ['mysql://u:TopSecret1@db/x', /not a PostgreSQL URL/],
    ];
    for (const [url, re] of bad) {
      assert.throws(
        () => parsePostgresUrl(url),
        (e: Error) => e instanceof PgUrlError && re.test(e.message) && !e.message.includes('TopSecret1'),
        url,
      );
    }
  });

  it('maskDatabaseUrl masks every user:password@ and password= in a text, leaves paths alone', () => {
    assert.equal(
      maskDatabaseUrl('cannot open postgresql+psycopg://user:pa:ss@db:5432/x and postgres://a:b@h/y'),
      'cannot open postgresql+psycopg://user:***@db:5432/x and postgres://a:***@h/y',
    );
    assert.equal(maskDatabaseUrl('postgresql://db/x?password=abc&sslmode=require'), 'postgresql://db/x?password=***&sslmode=require');
    assert.equal(maskDatabaseUrl('/var/lib/node-red/smart-lighting.db'), '/var/lib/node-red/smart-lighting.db');
    assert.equal(maskDatabaseUrl('sqlite:////var/lib/l.db'), 'sqlite:////var/lib/l.db');
    assert.equal(maskDatabaseUrl('postgresql://user@db/x'), 'postgresql://user@db/x');
  });
});

describe('lib/store/dialect', () => {
  it('numbers ? placeholders outside quoted text', () => {
    assert.equal(
      numberPlaceholders("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?"),
      "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2",
    );
  });

  it('translates the SQLite-only bits of the store queries', () => {
    assert.equal(pgQuery('BEGIN IMMEDIATE'), 'BEGIN');
    assert.equal(
      pgQuery("SELECT id FROM alerts WHERE IFNULL(zone, '') = IFNULL(?, '')"),
      "SELECT id FROM alerts WHERE COALESCE(zone, '') = COALESCE($1, '')",
    );
    assert.equal(pgQuery('ON w.zone IS m.zone AND x IS NULL'), 'ON w.zone IS NOT DISTINCT FROM m.zone AND x IS NULL');
    assert.equal(
      pgQuery('DELETE FROM decisions WHERE rowid IN (SELECT rowid FROM decisions WHERE ts < ? LIMIT ?)'),
      'DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE ts < $1 LIMIT $2)',
    );
    assert.equal(
      pgQuery('SELECT * FROM personal_profiles ORDER BY updated_at DESC, rowid DESC LIMIT 1'),
      'SELECT * FROM personal_profiles ORDER BY updated_at DESC, ctid DESC LIMIT 1',
    );
    assert.equal(
      pgQuery('WHERE COALESCE(MIN(cleared_at, expires_at), cleared_at) < ?'),
      'WHERE COALESCE(LEAST(cleared_at, expires_at), cleared_at) < $1',
    );
    assert.equal(pgQuery('INSERT INTO decisions (ts) VALUES (?), (?)'), 'INSERT INTO decisions (ts) VALUES ($1), ($2) RETURNING id');
    assert.equal(
      pgQuery('INSERT INTO personal_profiles (profile_id) VALUES (?)'),
      'INSERT INTO personal_profiles (profile_id) VALUES ($1)',
    );
    assert.equal(pgQuery('INSERT INTO schema_migrations (version) VALUES (?)'), 'INSERT INTO schema_migrations (version) VALUES ($1)');
  });

  it('translates the schema: identity ids, BIGINT epoch ms, DOUBLE PRECISION, JSON checked by a cast', () => {
    assert.equal(
      pgDdl('CREATE TABLE t (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, lux REAL, data TEXT CHECK (data IS NULL OR json_valid(data)))'),
      'CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, ts BIGINT NOT NULL, lux DOUBLE PRECISION, data TEXT CHECK (data IS NULL OR (data::json IS NOT NULL)))',
    );
  });
});
