/**
 * Per-client rate limiter for the HTTP API (the reference service's "simple
 * rate limiting", answered with 429 "Rate limit exceeded" + Retry-After).
 *
 * Algorithm: sliding-window log. Each client keeps the times of its allowed
 * requests inside the last `windowMs`; a request is allowed when fewer than
 * `limit` of them are in (now - windowMs, now]. So in ANY window of windowMs
 * a client is allowed at most `limit` requests (no burst at window edges, as
 * fixed windows or a token bucket would allow). Refused requests are not
 * recorded (a client that keeps hammering is not locked out longer).
 *
 * Memory: at most `maxClients` clients, each holding at most `limit`
 * timestamps, so at most maxClients x limit numbers whatever arrives. Idle
 * clients (nothing inside the window) are swept every `sweepIntervalMs`
 * (lazily, on calls: no timer, nothing to close). When a new client arrives
 * with the table full, the least recently seen client is evicted (it loses
 * its history, i.e. gets a fresh budget: under a flood of distinct addresses
 * the limiter degrades to "fail open" for the oldest clients rather than
 * growing or refusing everyone). Size maxClients above the number of clients
 * you expect within one window.
 *
 * Client identity: the socket's remote address; X-Forwarded-For only with
 * `trustProxy` (see clientIdFrom).
 */
import { isIP } from 'net';

export interface RateLimitOptions {
  /** Requests allowed per client per window. Default 60 (1-100 000). */
  limit?: number;
  /** Window length, ms. Default 60 000 (1 s - 1 day). */
  windowMs?: number;
  /** Most clients tracked at once. Default 10 000 (1-10 000 000). */
  maxClients?: number;
  /** How often idle clients are swept, ms. Default windowMs. */
  sweepIntervalMs?: number;
  /** Clock, epoch ms (tests). Default Date.now. */
  now?: () => number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the next request of this client can be allowed (0 when allowed now), whole seconds, rounded up. */
  retryAfterS: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  limit: number;
}

interface ClientState {
  /** Times of allowed requests, ascending, all > now - windowMs after trim. */
  hits: number[];
}

function intOption(name: string, v: number | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be a whole number ${min}-${max}, got ${String(v)}`);
  }
  return v;
}

const clientKey = (clientId: unknown): string => (typeof clientId === 'string' && clientId !== '' ? clientId.slice(0, 200) : 'unknown');

export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxClients: number;
  readonly sweepIntervalMs: number;
  readonly #now: () => number;
  /** Map order = least recently seen first (an entry is re-inserted on every call). */
  readonly #clients = new Map<string, ClientState>();
  #lastSweep: number;
  #evictions = 0;

  constructor(options: RateLimitOptions = {}) {
    this.limit = intOption('limit', options.limit, 60, 1, 100_000);
    this.windowMs = intOption('windowMs', options.windowMs, 60_000, 1000, 86_400_000);
    this.maxClients = intOption('maxClients', options.maxClients, 10_000, 1, 10_000_000);
    this.sweepIntervalMs = intOption('sweepIntervalMs', options.sweepIntervalMs, this.windowMs, 1000, 86_400_000);
    this.#now = options.now ?? Date.now;
    this.#lastSweep = this.#now();
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#clients.size;
  }

  /** Clients evicted because the table was full (not counting idle sweeps). */
  get evictions(): number {
    return this.#evictions;
  }

  /** Counts one request of `clientId` (when allowed) and says whether it may proceed. Never throws. */
  hit(clientId: string): RateLimitResult {
    const now = this.#now();
    const t = Number.isFinite(now) ? now : Date.now();
    if (t - this.#lastSweep >= this.sweepIntervalMs || t < this.#lastSweep) this.sweep(t);
    const key = clientKey(clientId);
    let state = this.#clients.get(key);
    if (state === undefined) {
      if (this.#clients.size >= this.maxClients) this.#evictOne(t);
      state = { hits: [] };
    } else {
      this.#clients.delete(key);
    }
    this.#clients.set(key, state);
    const hits = state.hits;
    const cutoff = t - this.windowMs;
    let drop = 0;
    while (drop < hits.length && (hits[drop] as number) <= cutoff) drop++;
    if (drop > 0) hits.splice(0, drop);
    // A clock that went backwards: keep the log ascending by never recording before the newest hit.
    const at = hits.length > 0 ? Math.max(t, hits[hits.length - 1] as number) : t;
    if (hits.length < this.limit) {
      hits.push(at);
      return { allowed: true, retryAfterS: 0, remaining: this.limit - hits.length, limit: this.limit };
    }
    const oldest = hits[0] as number;
    const waitMs = oldest + this.windowMs - t;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)), remaining: 0, limit: this.limit };
  }

  /** Without counting: what a request of `clientId` would get now. */
  peek(clientId: string): RateLimitResult {
    const t = this.#now();
    const hits = this.#clients.get(clientKey(clientId))?.hits ?? [];
    const live = hits.filter((h) => h > t - this.windowMs);
    if (live.length < this.limit) return { allowed: true, retryAfterS: 0, remaining: this.limit - live.length, limit: this.limit };
    return {
      allowed: false,
      retryAfterS: Math.max(1, Math.ceil(((live[0] as number) + this.windowMs - t) / 1000)),
      remaining: 0,
      limit: this.limit,
    };
  }

  /** Drops clients with nothing inside the window. O(clients); runs at most every sweepIntervalMs from hit(). */
  sweep(now: number = this.#now()): number {
    this.#lastSweep = now;
    const cutoff = now - this.windowMs;
    let removed = 0;
    for (const [key, state] of this.#clients) {
      const newest = state.hits[state.hits.length - 1];
      if (newest === undefined || newest <= cutoff) {
        this.#clients.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets every client. */
  reset(): void {
    this.#clients.clear();
  }

  #evictOne(now: number): void {
    // Least recently seen first; it is usually idle already.
    const first = this.#clients.keys().next();
    if (first.done === true) return;
    const state = this.#clients.get(first.value);
    const newest = state?.hits[state.hits.length - 1];
    if (newest !== undefined && newest > now - this.windowMs) this.#evictions++;
    this.#clients.delete(first.value);
  }
}

/** What the HTTP layer needs from a request (node's IncomingMessage fits). */
export interface RequestLike {
  headers?: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string | undefined } | null;
  /** Express/Node-RED req.ip, used when there is no socket address. */
  ip?: string;
}

function normaliseIp(v: string): string | null {
  let s = v.trim();
  // "[::1]:1234" or "1.2.3.4:5678" (some proxies add the port).
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracket) s = bracket[1] as string;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (s.toLowerCase().startsWith('::ffff:') && isIP(s.slice(7)) === 4) s = s.slice(7);
  return isIP(s) === 0 ? null : s.toLowerCase();
}

/**
 * The client's address. `trustProxy`: false (default) = the socket address
 * only (X-Forwarded-For is ignored: a client could write anything in it);
 * true or a number of trusted reverse proxies in front of Node-RED = the
 * address the outermost trusted proxy saw, i.e. the entry that many places
 * from the right of X-Forwarded-For (true = 1: the rightmost entry, appended
 * by your proxy; entries further left are client-supplied and not trusted).
 * Falls back to the socket address when the header is absent or invalid.
 */
export function clientIdFrom(req: RequestLike, trustProxy: boolean | number = false): string {
  const socketIp = (req.socket?.remoteAddress && normaliseIp(req.socket.remoteAddress)) || (req.ip && normaliseIp(req.ip)) || null;
  const hops = trustProxy === true ? 1 : typeof trustProxy === 'number' && Number.isInteger(trustProxy) && trustProxy > 0 ? trustProxy : 0;
  if (hops > 0) {
    const raw = req.headers?.['x-forwarded-for'];
    const header = Array.isArray(raw) ? raw.join(',') : raw;
    if (typeof header === 'string' && header.length <= 4096) {
      const parts = header
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const candidate = parts[parts.length - hops];
      const ip = candidate === undefined ? null : normaliseIp(candidate);
      if (ip !== null) return ip;
    }
  }
  return socketIp ?? 'unknown';
}

export interface HttpErrorAnswer {
  status: number;
  headers: Record<string, string>;
  /** FastAPI-style body, as the reference service answered. */
  body: { detail: string };
}

/** The 429 answer of the reference service: body {"detail": "Rate limit exceeded"} and a Retry-After header (seconds). */
export function rateLimitAnswer(result: RateLimitResult): HttpErrorAnswer {
  return {
    status: 429,
    headers: {
      'Retry-After': String(Math.max(1, Math.ceil(result.retryAfterS))),
      'X-RateLimit-Limit': String(result.limit),
      'X-RateLimit-Remaining': '0',
    },
    body: { detail: 'Rate limit exceeded' },
  };
}
