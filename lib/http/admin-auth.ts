/**
 * Bearer-token check of the admin endpoints (/admin/aggregate-now), as the
 * reference service: `Authorization: Bearer <ADMIN_TOKEN>`.
 *
 * - Comparison: SHA-256 of both sides, then crypto.timingSafeEqual over the
 *   two 32-byte digests: constant time, and the token's length does not leak
 *   either (timingSafeEqual over the raw strings would need equal lengths).
 * - No token configured: 503 "admin endpoints are disabled ..." (a server
 *   configuration problem, not a wrong client credential; an admin route is
 *   never open because the token was forgotten).
 * - Messages never contain the configured or the presented token.
 */
import { createHash, timingSafeEqual } from 'crypto';

export type AdminAuthResult =
  | { ok: true }
  | {
      ok: false;
      /** 401: missing/invalid credential; 503: no admin token configured. */
      status: 401 | 503;
      message: string;
      /** Headers to send with the answer (WWW-Authenticate on 401). */
      headers: Record<string, string>;
    };

/** Shortest admin token accepted as configuration (shorter is treated as not configured). */
export const MIN_ADMIN_TOKEN_LENGTH = 8;
const MAX_HEADER_LENGTH = 8192;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

const unauthorized = (message: string): AdminAuthResult => ({
  ok: false,
  status: 401,
  message,
  headers: { 'WWW-Authenticate': 'Bearer realm="admin"' },
});

/**
 * The admin token to use: the node's credential when set, else
 * env.ADMIN_TOKEN (the reference's setting). Blank values count as unset;
 * surrounding whitespace is removed. null = not configured.
 */
export function resolveAdminToken(
  credential: string | undefined | null,
  env: Record<string, string | undefined> = process.env,
): string | null {
  for (const v of [credential, env.ADMIN_TOKEN]) {
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return null;
}

/** Why a token cannot be used as configuration, or null when it can. Never echoes the token. */
export function adminTokenProblem(token: string | null | undefined): string | null {
  if (typeof token !== 'string' || token.trim() === '') return 'no admin token configured';
  if (token.trim().length < MIN_ADMIN_TOKEN_LENGTH) return `the admin token is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters`;
  return null;
}

/**
 * Checker bound to one configured token (its digest is computed once).
 * `check(authorizationHeader)` accepts the raw header value (string, or the
 * string[] Node gives for a repeated header, which is refused).
 */
export function createAdminAuth(configuredToken: string | null | undefined): (authorization: unknown) => AdminAuthResult {
  const problem = adminTokenProblem(configuredToken);
  const expected = problem === null ? digest((configuredToken as string).trim()) : null;
  return (authorization: unknown): AdminAuthResult => {
    if (expected === null) {
      return {
        ok: false,
        status: 503,
        message: `admin endpoints are disabled: ${problem ?? 'no admin token configured'} (set the admin token credential or the ADMIN_TOKEN environment variable)`,
        headers: {},
      };
    }
    if (authorization === undefined || authorization === null || authorization === '') {
      return unauthorized('missing Authorization header: send "Authorization: Bearer <admin token>"');
    }
    if (typeof authorization !== 'string' || authorization.length > MAX_HEADER_LENGTH) {
      return unauthorized('invalid Authorization header: send exactly one "Authorization: Bearer <admin token>"');
    }
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return unauthorized('invalid Authorization header: the scheme must be "Bearer" ("Authorization: Bearer <admin token>")');
    const presented = digest(m[1] as string);
    if (!timingSafeEqual(presented, expected)) return unauthorized('invalid admin token');
    return { ok: true };
  };
}

/** One-shot form of createAdminAuth (computes the configured token's digest on each call). */
export function checkAdminAuth(authorization: unknown, configuredToken: string | null | undefined): AdminAuthResult {
  return createAdminAuth(configuredToken)(authorization);
}
