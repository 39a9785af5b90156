/**
 * Masking of secrets in text that leaves the process: logs, node status,
 * /healthz and error answers. One helper for every store engine (SQLite
 * here, PostgreSQL URL parsing elsewhere) and for the HTTP layer.
 *
 * - maskUrl(url): a database or service URL with its password (and the
 *   values of password/token/key/secret query parameters) replaced by "***".
 *   Works on malformed URLs too (`postgresql:/user:pw@host/db`, one slash;
 *   a password holding "@" or ":"), where URL parsers give up.
 * - maskSecrets(text): every URL-looking token in free text masked as by
 *   maskUrl, plus `password=...`-style pairs (libpq key/value strings, query
 *   strings), `Bearer <token>` and OpenAI-style keys (`sk-...`).
 *
 * Never throws; a non-string is turned into a string first. What is kept
 * (scheme, user, host, path) is what an operator needs to find the setting.
 */

export const SECRET_MASK = '***';

/** Keys whose values are secrets in `key=value` text (query strings, libpq conninfo). */
const SECRET_PAIR =
  /\b(password|passwd|pwd|pass|sslpassword|secret|client_secret|token|access_token|auth_token|api_?key|apikey|fernet_?key|admin_?token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'")]+)/gi;

const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/=]+/gi;

/** OpenAI-style API keys (sk-..., sk-proj-...). */
const API_KEY = /\bsk-[A-Za-z0-9_-]{12,}/g;

/** A scheme followed by ":" and 0-3 slashes, then the rest of the token (no whitespace or quotes). */
const URL_TOKEN = /\b([A-Za-z][A-Za-z0-9+.-]{1,30}):(\/{0,3})([^\s"'<>`]+)/g;

/** The userinfo password of one URL-ish token's remainder (after "scheme:" and slashes). */
function maskAuthority(rest: string, bare = false): string {
  const at = rest.lastIndexOf('@');
  if (at <= 0) return rest;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  // `user:password@host` without a scheme: what looked like the scheme was the user.
  if (colon < 0) return bare && !userinfo.includes('/') ? `${SECRET_MASK}${rest.slice(at)}` : rest;
  // A ":" in the host part (host:port) before the "@" is not a password: userinfo has no "/".
  if (userinfo.slice(0, colon).includes('/')) return rest;
  return `${userinfo.slice(0, colon + 1)}${SECRET_MASK}${rest.slice(at)}`;
}

function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return '';
  }
}

/** `url` with its password and secret query values masked. Never throws. */
export function maskUrl(url: unknown): string {
  const text = toText(url);
  const m = /^\s*([A-Za-z][A-Za-z0-9+.-]*):(\/{0,3})(.*)$/s.exec(text);
  const masked = m ? `${m[1]}:${m[2]}${maskAuthority(m[3] as string, m[2] === '')}` : maskAuthority(text);
  return masked.replace(SECRET_PAIR, (_all, key: string, sep: string) => `${key}${sep}${SECRET_MASK}`);
}

/** `text` with every secret found masked (URL passwords, key=value secrets, Bearer tokens, API keys). Never throws. */
export function maskSecrets(text: unknown): string {
  try {
    return toText(text)
      .replace(
        URL_TOKEN,
        (_all, scheme: string, slashes: string, rest: string) => `${scheme}:${slashes}${maskAuthority(rest, slashes === '')}`,
      )
      .replace(SECRET_PAIR, (_all, key: string, sep: string) => `${key}${sep}${SECRET_MASK}`)
      .replace(BEARER, `$1 ${SECRET_MASK}`)
      .replace(API_KEY, `sk-${SECRET_MASK}`);
  } catch {
    return '[unprintable]';
  }
}
