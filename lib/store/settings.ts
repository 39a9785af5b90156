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
 *   postgresql://..., postgres://...  UnsupportedDatabaseError ("not supported yet")
 * A query string (?timeout=...) is ignored; %xx escapes in the path are decoded.
 * Error messages quote a URL only through maskUrl (lib/store/mask): never a password.
 * The "Database file" setting may itself hold such a URL (e.g. `${DB_URL}`).
 */
import * as path from 'path';
import { maskUrl } from './mask';

export const DEFAULT_STORE_FILE = 'smart-lighting.db';

/** A database URL this package cannot use (PostgreSQL, MySQL, a malformed URL). */
export class UnsupportedDatabaseError extends Error {
  override readonly name = 'UnsupportedDatabaseError';
}

export interface StoreLocation {
  /** Absolute file path, or ":memory:". */
  path: string;
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
      `PostgreSQL (${scheme}://) is not supported yet: leave DB_URL unset or use a sqlite:/// URL or a file path`,
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
    throw new UnsupportedDatabaseError(`a sqlite URL has no host: write sqlite:///<file>, got ${JSON.stringify(maskUrl(text).slice(0, 80))}`);
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
  if (setting !== '') {
    if (isDatabaseUrl(setting)) return { path: sqlitePathFromUrl(setting, opts.userDir), from: 'setting' };
    return { path: setting === ':memory:' ? ':memory:' : path.resolve(opts.userDir, setting), from: 'setting' };
  }
  const url = (opts.env ?? process.env).DB_URL;
  if (url !== undefined && url.trim() !== '') return { path: sqlitePathFromUrl(url, opts.userDir), from: 'DB_URL' };
  return { path: path.join(opts.userDir, DEFAULT_STORE_FILE), from: 'default' };
}
