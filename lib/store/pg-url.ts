/**
 * PostgreSQL database URLs, as the reference service writes them
 * (SQLAlchemy) and as libpq does:
 *
 *   postgresql://user:pass@db:5432/smart_lighting
 *   postgres://user@db/smart_lighting?sslmode=require
 *   postgresql+psycopg://user:pass@db:5432/smart_lighting   (the driver suffix is ignored)
 *
 * Query parameters understood: sslmode (disable | allow | prefer | require |
 * verify-ca | verify-full), application_name, connect_timeout (s), host (a
 * unix socket directory). Others are refused with a clear error, so a typo
 * does not silently connect without TLS.
 *
 * The password may be in the URL, in the `lighting-store` node's password
 * credential, or in PGPASSWORD (node-postgres reads it). It is never part of
 * what is shown: maskDatabaseUrl() replaces it with "***" in every URL that is
 * echoed (status, logs, errors, /healthz).
 */
import { maskSecrets } from './mask';

export class PgUrlError extends Error {
  override readonly name = 'PgUrlError';
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export interface PgTarget {
  host: string;
  port: number;
  user?: string;
  /** From the URL, if it holds one. */
  password?: string;
  database: string;
  sslmode?: SslMode;
  applicationName?: string;
  connectTimeoutS?: number;
  /** postgresql://user:***@host:port/db?... : safe to show. */
  masked: string;
  /** postgresql://user@host:port/db?sslmode=... without any password: the registry key (one pool per target). */
  key: string;
}

const PG_SCHEME = /^(postgresql|postgres)(\+[A-Za-z0-9_]+)?:\/\//i;

/** true for postgresql://, postgres:// and postgresql+<driver>:// URLs. */
export function isPostgresUrl(text: unknown): text is string {
  return typeof text === 'string' && PG_SCHEME.test(text.trim());
}

/** A URL (or any text holding one) with every secret masked: the one masking of lib/store/mask. */
export function maskDatabaseUrl(text: string): string {
  return maskSecrets(text);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PgUrlError(`bad %-escape in the ${what} of the PostgreSQL URL`);
  }
}

/** Parses a PostgreSQL URL. Throws PgUrlError (its message never holds the password). */
export function parsePostgresUrl(text: string): PgTarget {
  const raw = text.trim();
  const m = PG_SCHEME.exec(raw);
  if (!m) throw new PgUrlError(`not a PostgreSQL URL: ${JSON.stringify(maskDatabaseUrl(raw).slice(0, 60))}`);
  let rest = raw.slice(m[0].length);
  let query = '';
  const h = rest.indexOf('#');
  if (h >= 0) rest = rest.slice(0, h);
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const dbPart = slash >= 0 ? rest.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== '') {
    const c = userinfo.indexOf(':');
    user = decode(c >= 0 ? userinfo.slice(0, c) : userinfo, 'user name');
    if (c >= 0) password = decode(userinfo.slice(c + 1), 'password');
  }
  let host = hostport;
  let port = 5432;
  const pm = /^(.*?)(?::(\d*))?$/.exec(hostport.startsWith('[') ? hostport.replace(/^\[([^\]]*)\]/, '$1') : hostport);
  if (pm) {
    host = pm[1] as string;
    if (pm[2] !== undefined && pm[2] !== '') {
      port = Number(pm[2]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PgUrlError(`bad port ${pm[2]} in the PostgreSQL URL`);
    }
  }
  host = decode(host, 'host');
  const database = decode(dbPart, 'database name');
  if (database === '') throw new PgUrlError('the PostgreSQL URL names no database: postgresql://user@host:5432/<database>');
  if (database.includes('/')) throw new PgUrlError('the PostgreSQL URL has a path after the database name');
  const target: Omit<PgTarget, 'masked' | 'key'> = { host, port, database };
  if (user !== undefined && user !== '') target.user = user;
  if (password !== undefined && password !== '') target.password = password;
  const keyParams: string[] = [];
  if (query !== '') {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decode(eq >= 0 ? pair.slice(0, eq) : pair, 'query');
      const value = decode(eq >= 0 ? pair.slice(eq + 1) : '', 'query');
      switch (name) {
        case 'sslmode':
          if (!(SSL_MODES as readonly string[]).includes(value)) {
            throw new PgUrlError(`sslmode must be one of ${SSL_MODES.join(', ')}, got ${JSON.stringify(value.slice(0, 20))}`);
          }
          target.sslmode = value as SslMode;
          keyParams.push(`sslmode=${value}`);
          break;
        case 'application_name':
          target.applicationName = value;
          keyParams.push(`application_name=${encodeURIComponent(value)}`);
          break;
        case 'connect_timeout': {
          const s = Number(value);
          if (!Number.isInteger(s) || s < 0 || s > 3600) throw new PgUrlError('connect_timeout must be whole seconds 0-3600');
          target.connectTimeoutS = s;
          keyParams.push(`connect_timeout=${s}`);
          break;
        }
        case 'host':
          target.host = value;
          break;
        case 'password':
          target.password = value;
          break;
        default:
          throw new PgUrlError(
            `unknown PostgreSQL URL parameter ${JSON.stringify(name.slice(0, 30))}: use sslmode, application_name, connect_timeout or host`,
          );
      }
    }
  }
  if (target.host === '') target.host = 'localhost';
  const userPart = target.user !== undefined ? `${encodeURIComponent(target.user)}${target.password !== undefined ? ':***' : ''}@` : '';
  const hostShown = target.host.includes(':') ? `[${target.host}]` : encodeURIComponent(target.host).replace(/%2F/gi, '/');
  const tail = keyParams.length > 0 ? `?${keyParams.join('&')}` : '';
  const base = `${hostShown}:${target.port}/${encodeURIComponent(database)}${tail}`;
  return {
    ...target,
    masked: `postgresql://${userPart}${base}`,
    key: `postgresql://${target.user !== undefined ? `${encodeURIComponent(target.user)}@` : ''}${base}`,
  };
}
