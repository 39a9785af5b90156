/**
 * Where a lighting store lives: the `lighting-store` node's "Database file"
 * setting, else the reference service's DB_URL environment variable, else
 * `<userDir>/smart-lighting.db`.
 *
 * Database URLs use the reference service's (SQLAlchemy) form:
 *   sqlite:///./smart_lighting.db     relative file (taken from the base directory)
 *   sqlite:////var/lib/lights.db      absolute file (four slashes)
 *   sqlite:///:memory:, sqlite://     in-memory database (lost at every restart)
 *   sqlite+pysqlite:///...            a driver suffix is ignored
 *   postgresql://..., postgres://..., postgresql+psycopg://...
 *                                     PostgreSQL (see pg-url.ts); the password never leaves `path`
 * A query string (?timeout=...) is ignored; %xx escapes in the path are decoded.
 * Error messages quote a URL only through maskUrl (lib/store/mask): never a password.
 * The "Database file" setting may itself hold such a URL (e.g. `${DB_URL}`).
 */
import * as path from 'path';
import { maskUrl } from './mask';
import { isPostgresUrl, maskDatabaseUrl, parsePostgresUrl, PgUrlError } from './pg-url';

export const DEFAULT_STORE_FILE = 'smart-lighting.db';

/** A database URL this package cannot use (PostgreSQL, MySQL, a malformed URL). */
export class UnsupportedDatabaseError extends Error {
  override readonly name = 'UnsupportedDatabaseError';
}

export interface StoreLocation {
  /** Absolute file path, ":memory:", or a PostgreSQL URL (may hold a password: show `display`). */
  path: string;
  engine: 'sqlite' | 'postgres';
  /** `path` safe to show: a PostgreSQL URL with its password masked. */
  display: string;
  /** Where it came from. */
  from: 'setting' | 'DB_URL' | 'default';
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** true when `text` looks like a URL (scheme://...), not a file path. */
export function isDatabaseUrl(text: string): boolean {
  return SCHEME.test(text.trim());
}

/**
 * The file a database URL points at (relative paths taken from `baseDir`),
 * or ":memory:". Throws UnsupportedDatabaseError for anything but SQLite.
 */
export function sqlitePathFromUrl(url: string, baseDir: string): string {
  const text = url.trim();
  const m = SCHEME.exec(text);
  if (!m) throw new UnsupportedDatabaseError(`not a database URL: ${JSON.stringify(maskUrl(text).slice(0, 80))}`);
  const scheme = (m[1] as string).toLowerCase();
  const dialect = scheme.split('+')[0] as string;
  if (dialect === 'postgresql' || dialect === 'postgres') {
    throw new UnsupportedDatabaseError(
      `a PostgreSQL URL (${scheme}://) is not a SQLite file: open it with the PostgreSQL engine (resolveStoreLocation)`,
    );
  }
  if (dialect !== 'sqlite') {
    throw new UnsupportedDatabaseError(`database URL scheme ${JSON.stringify(scheme)} is not supported: use sqlite:///<file>`);
  }
  let rest = text.slice(m[0].length);
  const q = rest.search(/[?#]/);
  if (q >= 0) rest = rest.slice(0, q);
  if (rest === '') return ':memory:';
  if (!rest.startsWith('/')) {
    throw new UnsupportedDatabaseError(
      `a sqlite URL has no host: write sqlite:///<file>, got ${JSON.stringify(maskUrl(text).slice(0, 80))}`,
    );
  }
  let file: string;
  try {
    file = decodeURIComponent(rest.slice(1));
  } catch {
    throw new UnsupportedDatabaseError(`bad %-escape in database URL ${JSON.stringify(maskUrl(text).slice(0, 80))}`);
  }
  if (file === '' || file === ':memory:') return ':memory:';
  if (file.includes('\0')) throw new UnsupportedDatabaseError('database URL holds a NUL character');
  return path.resolve(baseDir, file);
}

/**
 * The store file for a `lighting-store` node: `setting` (a file path, or a
 * database URL) when not blank, else `env.DB_URL` when set, else
 * `<userDir>/smart-lighting.db`. Relative paths are taken from `userDir`.
 * Throws UnsupportedDatabaseError for a URL that is not SQLite.
 */
export function resolveStoreLocation(opts: {
  setting: string;
  userDir: string;
  env?: Readonly<Record<string, string | undefined>>;
}): StoreLocation {
  const setting = opts.setting.trim();
  const file = (p: string, from: StoreLocation['from']): StoreLocation => ({
    path: p,
    engine: 'sqlite',
    display: maskDatabaseUrl(p),
    from,
  });
  if (setting !== '') {
    if (isPostgresUrl(setting)) return postgresLocation(setting, 'setting');
    if (isDatabaseUrl(setting)) return file(sqlitePathFromUrl(setting, opts.userDir), 'setting');
    return file(setting === ':memory:' ? ':memory:' : path.resolve(opts.userDir, setting), 'setting');
  }
  const url = (opts.env ?? process.env).DB_URL;
  if (url !== undefined && url.trim() !== '') {
    if (isPostgresUrl(url)) return postgresLocation(url, 'DB_URL');
    return file(sqlitePathFromUrl(url, opts.userDir), 'DB_URL');
  }
  return file(path.join(opts.userDir, DEFAULT_STORE_FILE), 'default');
}

/** A PostgreSQL URL checked now (a bad one is a configuration error, reported without its password). */
function postgresLocation(url: string, from: StoreLocation['from']): StoreLocation {
  try {
    const target = parsePostgresUrl(url);
    return { path: url.trim(), engine: 'postgres', display: target.masked, from };
  } catch (err) {
    if (err instanceof PgUrlError) throw new UnsupportedDatabaseError(err.message);
    throw err;
  }
}
