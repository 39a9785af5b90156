/**
 * Request validation of the suggestions API (api-guard operations
 * `suggestions`, `accept-suggestion`, `reject-suggestion`):
 *
 *   GET  /suggestions?status=pending|accepted|rejected|superseded|all&zone=...&limit=1-1000
 *   POST /suggestions/:id/accept   body: empty or {"by": "name"}   (admin token)
 *   POST /suggestions/:id/reject   body: empty or {"by": "name"}   (admin token)
 *
 * Each returns {ok: true, value} or {ok: false, message} (a 400); never throws.
 */
import { isPlainObject } from '../contracts';
import { SUGGESTION_STATUSES, type SuggestionStatus } from './types';

export interface SuggestionsRequest {
  status?: SuggestionStatus;
  zone?: string;
  limit?: number;
}

export interface DecideSuggestionRequest {
  id: number;
  decision: 'accepted' | 'rejected';
  /** Who decided (body "by", default "api"). */
  by: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const empty = (v: unknown): boolean => v === undefined || v === null || v === '' || (isPlainObject(v) && Object.keys(v).length === 0);

export function validateSuggestionsQuery(query: unknown): Checked<SuggestionsRequest> {
  const what = 'invalid suggestions query';
  if (empty(query)) return { ok: true, value: {} };
  if (!isPlainObject(query)) return { ok: false, message: `${what}: expected query parameters` };
  const out: SuggestionsRequest = {};
  const { status, zone, limit } = query;
  if (status !== undefined && status !== '' && status !== 'all') {
    const found = SUGGESTION_STATUSES.find((s) => s === status);
    if (found === undefined) return { ok: false, message: `${what}: status must be one of ${SUGGESTION_STATUSES.join(', ')}, all` };
    out.status = found;
  }
  if (zone !== undefined && zone !== '') {
    if (typeof zone !== 'string' || zone.length > 200)
      return { ok: false, message: `${what}: zone must be a string of at most 200 characters` };
    out.zone = zone;
  }
  if (limit !== undefined && limit !== '') {
    const n = typeof limit === 'number' ? limit : typeof limit === 'string' && /^\d{1,5}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 1000) return { ok: false, message: `${what}: limit must be a whole number 1-1000` };
    out.limit = n;
  }
  return { ok: true, value: out };
}

export function validateDecideSuggestion(
  decision: 'accepted' | 'rejected',
  body: unknown,
  params: unknown,
): Checked<DecideSuggestionRequest> {
  const what = `invalid ${decision === 'accepted' ? 'accept' : 'reject'}-suggestion request`;
  if (!empty(body) && !isPlainObject(body)) return { ok: false, message: `${what}: the body must be a JSON object or empty` };
  const raw = isPlainObject(params) ? params.id : undefined;
  if (raw === undefined || raw === '') return { ok: false, message: `${what}: id is missing (the suggestion id in the path)` };
  const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) return { ok: false, message: `${what}: id must be a positive whole number` };
  const by = isPlainObject(body) ? body.by : undefined;
  if (by !== undefined && by !== null && (typeof by !== 'string' || by.trim() === '' || by.length > 200)) {
    return { ok: false, message: `${what}: by must be a non-empty string of at most 200 characters` };
  }
  return { ok: true, value: { id, decision, by: typeof by === 'string' ? by.trim() : 'api' } };
}
