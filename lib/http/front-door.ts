/**
 * The front door of the package's HTTP API: one middleware in front of every
 * route of Node-RED's HTTP node app (RED.httpNode) and, first of all, in
 * front of the editor's app (RED.httpAdmin, which parses every JSON body of
 * its root with body-parser when both share "/"), acting only on the API's
 * paths (the main flow's, plus any path an api-guard has served). It makes
 * every answer of the API a JSON {"detail"} that an operator and a client
 * can trust:
 *
 * - the body is read and parsed here, with the same size limit as Node-RED's
 *   own parsers (settings.apiMaxLength, default 5 MB): malformed JSON (a
 *   NaN, a cut body) is 400, a body over the limit 413 naming the limit,
 *   never body-parser's HTML page with a stack trace and absolute paths.
 *   The parsed body is left on req.body with req._body set, so Node-RED's
 *   parsers skip it;
 * - a request to an API path while no route serves it (flows starting,
 *   stopping, being deployed) is 503 with Retry-After, not 404 HTML
 *   "Cannot POST"; requests in flight when the flows stop get 503 too;
 * - every request gets an id (X-Request-Id, taken from the client when it
 *   is a short token, else generated) echoed in the answer;
 * - 5xx answers of the API never carry an absolute path (the file name is
 *   kept), and res.sendStatus() answers JSON;
 * - what was sent (status and detail) is kept on the response
 *   (answerOf(res)) for the one request log line (api-guard logs it when
 *   the response has finished); the requests answered here are logged here;
 * - every successful JSON answer (res.json / res.jsonp, as the http response
 *   node sends objects) carries the reference service's field names beside
 *   ours (./reference-names), plus the fields the api-guard asked to echo
 *   (addAnswerFields: the override a /control request set, say).
 *
 * Plain Node http types (Express adds what is used: req.path, res.status()).
 */
import { randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import { maskSecrets } from '../store/mask';
import { API_ENDPOINTS } from './endpoints';
import { withReferenceNames } from './reference-names';

/** A body over the limit is drained up to this many times the limit before the connection is cut. */
const DRAIN_MAX_FACTOR = 16;

/** The main flow's API routes (flows/smart-lighting.json), as Express paths: those of the endpoint registry. */
export const MAIN_FLOW_ROUTES: ReadonlyArray<readonly [method: string, path: string]> = API_ENDPOINTS.map(
  (e) => [e.method, e.path] as const,
);

/** Seconds a client waits before retrying while the API is not running. */
export const NOT_RUNNING_RETRY_S = 2;

export type Req = IncomingMessage & {
  path?: string;
  originalUrl?: string;
  body?: unknown;
  _body?: boolean;
  route?: { path?: unknown };
};
export type Res = ServerResponse & {
  status?: (code: number) => Res;
  send?: (body?: unknown) => Res;
  json?: (body?: unknown) => Res;
  jsonp?: (body?: unknown) => Res;
  sendStatus?: (code: number) => Res;
  [ANSWER]?: Answer;
};
type Next = (err?: unknown) => void;

const ANSWER = Symbol.for('smart-lighting-dali.answer');
/**
 * The id the front door gave each request, and the fields an api-guard asked
 * a response's answer to echo. Kept beside the objects, not on them: a
 * property added to Node.js's request and response objects (many shapes,
 * Express changes their prototype) costs a slow store on every request.
 */
const requestIds = new WeakMap<object, string>();
const answerFields = new WeakMap<object, Record<string, unknown>>();

/** What was sent: status (also on res.statusCode) and the {"detail"} when there was one. */
export interface Answer {
  detail?: string;
}

/** The request id given to `req` by the front door (undefined if it did not see the request). */
export function requestIdOf(req: unknown): string | undefined {
  return typeof req === 'object' && req !== null ? requestIds.get(req) : undefined;
}

/** The detail of the answer sent on `res`, when it had one. */
export function answerOf(res: unknown): Answer {
  return (typeof res === 'object' && res !== null ? (res as Res)[ANSWER] : undefined) ?? {};
}

/**
 * Fields a successful JSON object answer on `res` gets when it does not have
 * them already (the api-guard echoes what the request set, e.g. the override
 * of POST /control). `res` is the Node.js response (msg.res._res); anything
 * else is ignored.
 */
export function addAnswerFields(res: unknown, fields: Record<string, unknown>): void {
  if (typeof res !== 'object' || res === null) return;
  const before = answerFields.get(res);
  answerFields.set(res, before === undefined ? { ...fields } : { ...before, ...fields });
}

/** A successful answer's body as sent: the echoed fields added, the reference's names beside ours. */
export function answerBody(res: unknown, body: unknown): unknown {
  const extra = typeof res === 'object' && res !== null ? answerFields.get(res) : undefined;
  let out = body;
  if (extra !== undefined && typeof body === 'object' && body !== null && !Array.isArray(body) && !Buffer.isBuffer(body)) {
    out = { ...body };
    for (const [k, v] of Object.entries(extra))
      if (!(k in (out as Record<string, unknown>)) && v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return withReferenceNames(out);
}

/** "5mb", "100kb", 1024 → bytes (Node-RED's apiMaxLength forms); fallback for anything else. */
export function parseByteLimit(v: unknown, fallback = 5 * 1024 * 1024): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v);
  if (typeof v !== 'string') return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(v);
  if (!m) return fallback;
  const unit = ({ b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as Record<string, number>)[(m[2] ?? 'b').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}

/** Absolute paths in a 5xx detail: only the last part is kept ("…/smart-lighting.db"). */
export function stripPaths(text: string): string {
  return text.replace(
    /(^|[\s("'=:,[])(\/(?:[^\s/"'()]+\/)+)([^\s/"'()]*)/g,
    (_m, pre: string, _dir: string, base: string) => `${pre}…/${base}`,
  );
}

/** A URL of plain characters: its path is the text before "?" as it is (no escapes, dot segments or "//" to resolve). */
const PLAIN_URL = /^\/(?!\/)[\w\-~!$&'()*+,;=:@./]*(?:\?[^#]*)?$/;

/**
 * The decoded path of a request's URL (what `new URL(url).pathname`, decoded,
 * gives), or null when it cannot be decoded. A plain URL, as every client of
 * the API sends, is read without building a URL object.
 */
export function urlPath(url: string): string | null {
  if (PLAIN_URL.test(url)) {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!path.includes('/.')) return path;
  }
  try {
    return decodeURIComponent(new URL(url, 'http://x').pathname);
  } catch {
    return null;
  }
}

const ASCII = /^[\x20-\x7e]*$/;

/** true when one of `routes` takes `method` (HEAD as GET). */
function servesMethod(routes: ReadonlyArray<{ method: string }>, method: string): boolean {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return routes.some((r) => r.method === m);
}

function toRegExp(route: string): RegExp {
  const esc = route
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${esc}/?$`, 'i');
}

interface Route {
  method: string;
  path: string;
  re: RegExp;
}

/** A request log line writer (lib/http/log Logger.info/warn/error fit). */
export interface FrontDoorLog {
  warn(msg: string, fields: Record<string, unknown>): void;
  error(msg: string, fields: Record<string, unknown>): void;
}

export interface FrontDoorOptions {
  /** Largest body read, bytes (Node-RED: settings.apiMaxLength, default 5 MB). */
  maxBodyBytes: number;
  /** The text of the limit for the 413 message ("5mb"). */
  maxBodyText: string;
  /** true when a route of the HTTP app serves method+path now. */
  routeServes(method: string, path: string): boolean;
  /** Where the HTTP node app is mounted (settings.httpNodeRoot), default "/": API paths are taken below it. */
  mountPath?: string;
  log?: FrontDoorLog | null;
}

export class FrontDoor {
  readonly #routes: Route[] = [];
  /** The routes without parameters, by their path in lower case; the others. */
  readonly #byPath = new Map<string, Route[]>();
  readonly #withParams: Route[] = [];
  readonly #inFlight = new Map<Res, { method: string; path: string }>();
  #options: FrontDoorOptions;
  /** Response prototypes whose send/json/jsonp/sendStatus are overridden (installOn). */
  readonly #installed = new WeakSet<object>();

  constructor(options: FrontDoorOptions) {
    this.#options = options;
    for (const [method, path] of MAIN_FLOW_ROUTES) this.learn(method, path);
  }

  /** Adds an API route (an api-guard saw a request on it). */
  learn(method: string, path: string): void {
    if (typeof method !== 'string' || typeof path !== 'string' || path === '' || path.length > 500) return;
    const m = method.toUpperCase();
    if (this.#routes.some((r) => r.method === m && r.path === path)) return;
    if (this.#routes.length >= 200) return;
    const route: Route = { method: m, path, re: toRegExp(path) };
    this.#routes.push(route);
    if (path.split('/').some((part) => part.startsWith(':')) || !ASCII.test(path)) {
      this.#withParams.push(route);
      return;
    }
    const key = path.toLowerCase();
    const same = this.#byPath.get(key);
    if (same === undefined) this.#byPath.set(key, [route]);
    else same.push(route);
  }

  /** true when method+path is one of the API's. */
  isApi(method: string, path: string): boolean {
    return servesMethod(this.#routesAt(path), method);
  }

  /** The API's routes whose path matches `path` (each route's pattern tested once). */
  #routesAt(path: string): Route[] {
    // An ASCII path first looks up the routes without parameters by their lower-case text (one trailing
    // slash allowed, as in toRegExp), then tests only the patterns with parameters; other paths test
    // every pattern (the case folding of a pattern's "i" flag is not toLowerCase's outside ASCII).
    if (!ASCII.test(path)) return this.#routes.filter((r) => r.re.test(path));
    const lower = path.toLowerCase();
    const out = [...(this.#byPath.get(lower) ?? [])];
    // "/x/" is also the route "/x" with its trailing slash.
    if (lower.length > 1 && lower.endsWith('/')) out.push(...(this.#byPath.get(lower.slice(0, -1)) ?? []));
    for (const r of this.#withParams) if (r.re.test(path)) out.push(r);
    return out;
  }

  /** Flows stopped: every API request still waiting whose route is gone gets 503. */
  flowsStopped(): void {
    for (const [res, { method, path }] of [...this.#inFlight]) {
      if (!res.headersSent && !res.writableEnded && !this.#options.routeServes(method, path)) {
        this.#answer(res, 503, 'the API stopped while handling this request (flows stopping or being deployed); retry shortly', {
          'Retry-After': String(NOT_RUNNING_RETRY_S),
        });
      }
    }
  }

  /** The middleware (req, res, next). */
  readonly handle = (req: Req, res: Res, next: Next): void => {
    if (requestIds.has(req)) {
      next(); // already seen (installed in front of the editor's app and the HTTP node app)
      return;
    }
    let path = urlPath(req.originalUrl ?? req.url ?? '/');
    if (path === null) {
      next();
      return;
    }
    const mount = (this.#options.mountPath ?? '/').replace(/\/+$/, '');
    if (mount !== '') {
      if (path !== mount && !path.startsWith(`${mount}/`)) {
        next();
        return;
      }
      path = path.slice(mount.length) || '/';
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const routes = this.#routesAt(path);
    if (!servesMethod(routes, method)) {
      // An API path asked with a method it does not take (PUT /control): 405 JSON naming the methods, not
      // Node-RED's 404 HTML page, unless a flow of the user's serves that method there. OPTIONS is CORS's.
      const allowed = method === 'OPTIONS' ? [] : [...new Set(routes.map((r) => r.method))].sort();
      if (allowed.length > 0 && !this.#options.routeServes(method, path)) {
        req.resume();
        this.#answer(res, 405, `${method} is not served at ${path}: use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
        return;
      }
      next();
      return;
    }
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    requestIds.set(req, id);
    if (!res.headersSent) res.setHeader('X-Request-Id', id);
    // A response whose prototype is not overridden (no Express app, or one the door was not installed on) gets
    // functions of its own.
    const proto = Object.getPrototypeOf(res) as object | null;
    if (proto === null || !this.#installed.has(proto)) this.#wrap(res);
    this.#inFlight.set(res, { method, path });
    const forget = (): void => {
      this.#inFlight.delete(res);
    };
    // 'close' follows 'finish' too (Node.js >= 20), so one listener covers both ends.
    res.once('close', forget);
    const started = Date.now();
    const refuse = (status: number, detail: string, reason: string, headers: Record<string, string> = {}): void => {
      this.#answer(res, status, detail, headers);
      this.#options.log?.[status >= 500 ? 'error' : 'warn']('api request rejected', {
        requestId: id,
        method,
        path,
        outcome: 'rejected',
        status,
        reason,
        ms: Date.now() - started,
      });
    };
    if (!this.#options.routeServes(method, path)) {
      // Drain the body so the client reads the answer instead of a reset.
      req.resume();
      refuse(503, 'the API is not running right now (flows starting, stopping or being deployed); retry shortly', 'not-running', {
        'Retry-After': String(NOT_RUNNING_RETRY_S),
      });
      return;
    }
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'OPTIONS' || req._body === true) {
      next();
      return;
    }
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    const kind = /^application\/([\w.+-]*\+)?json\b/.test(type)
      ? 'json'
      : type.startsWith('application/x-www-form-urlencoded')
        ? 'form'
        : type.startsWith('text/') || type === ''
          ? 'text'
          : null;
    if (kind === null) {
      next(); // multipart and binary bodies: Node-RED's own parsers (the API's validation refuses them)
      return;
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      req.resume();
      refuse(415, `unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}: send the body uncompressed`, 'content-encoding');
      return;
    }
    const limit = this.#options.maxBodyBytes;
    const tooLarge = (): void =>
      refuse(413, `request body too large: at most ${this.#options.maxBodyText} (${limit} bytes) is accepted`, 'too-large', {
        Connection: 'close',
      });
    // A body over the limit is read to its end (and dropped) before the 413 goes out: answering while
    // the client still sends makes it see a broken pipe instead of the answer. Past DRAIN_MAX_FACTOR
    // times the limit the connection is cut.
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let answered = false;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) over = true;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over || size > limit) {
        over = true;
        chunks.length = 0;
        if (size > limit * DRAIN_MAX_FACTOR && !answered) {
          answered = true;
          tooLarge();
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (!answered && !res.headersSent) {
        answered = true;
        refuse(400, 'the request body could not be read', 'aborted');
      }
    });
    req.on('end', () => {
      if (answered) return;
      if (over) {
        answered = true;
        tooLarge();
        return;
      }
      const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)).toString('utf8');
      if (kind === 'json') {
        if (text.trim() === '') {
          req.body = {};
        } else {
          try {
            req.body = JSON.parse(text) as unknown;
          } catch (err) {
            const why = err instanceof SyntaxError ? err.message.replace(/^JSON\.parse: /, '') : 'malformed';
            refuse(400, `malformed JSON body: ${why.slice(0, 120)}`, 'malformed-json');
            return;
          }
        }
      } else if (kind === 'form') {
        const out: Record<string, string> = Object.create(null) as Record<string, string>;
        for (const [k, v] of new URLSearchParams(text)) if (k !== '__proto__') out[k] = v;
        req.body = { ...out };
      } else {
        req.body = text;
      }
      req._body = true;
      next();
    });
  };

  #answer(res: Res, status: number, detail: string, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const body = JSON.stringify({ detail });
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res[ANSWER] = { detail };
    res.end(body);
  }

  /**
   * Express's documented way to override its response API: `proto` is an
   * app's `app.response`, the prototype of every response the app answers
   * (the adapter installs it on the HTTP node app's, the top app's and the
   * editor's). Its send/json/jsonp/sendStatus then act as #wrap's on the
   * API's requests in flight and pass every other response through as they
   * were; handle() gives an API response four functions of its own (four
   * closures and a new object shape per request) only when its prototype is
   * not one of these.
   */
  installOn(proto: Res): void {
    if (this.#installed.has(proto)) return;
    const inFlight = this.#inFlight;
    const send = proto.send;
    if (typeof send === 'function') {
      // Every argument passed on as given to a response that is not the API's (Express 4 still takes res.send(status, body)).
      proto.send = function (this: Res, ...args: unknown[]): Res {
        return inFlight.has(this) ? apiSend(this, send, args[0]) : (send as Json).apply(this, args);
      };
    }
    for (const name of ['json', 'jsonp'] as const) {
      const original = proto[name] as Json | undefined;
      if (typeof original !== 'function') continue;
      proto[name] = function (this: Res, ...args: unknown[]): Res {
        return inFlight.has(this) ? apiJson(this, original, args) : original.apply(this, args);
      };
    }
    const sendStatus = proto.sendStatus;
    if (typeof sendStatus === 'function') {
      proto.sendStatus = function (this: Res, ...args: unknown[]): Res {
        return inFlight.has(this) ? apiSendStatus(this, args[0] as number) : (sendStatus as Json).apply(this, args);
      };
    }
    this.#installed.add(proto);
  }

  /** The same as installOn, for one response (an app without a response prototype: tests, other servers). */
  #wrap(res: Res): void {
    const send = res.send;
    if (typeof send === 'function') res.send = (body?: unknown): Res => apiSend(res, send, body);
    for (const name of ['json', 'jsonp'] as const) {
      const original = res[name] as Json | undefined;
      if (typeof original === 'function') res[name] = (...args: unknown[]): Res => apiJson(res, original, args);
    }
    if (typeof res.sendStatus === 'function') res.sendStatus = (code: number): Res => apiSendStatus(res, code);
  }
}

type Send = (this: Res, body?: unknown) => Res;
type Json = (this: Res, ...args: unknown[]) => Res;

/** An API response's res.send: the detail recorded on the response, secrets masked, absolute paths stripped from 5xx. */
function apiSend(res: Res, send: Send, body?: unknown): Res {
  try {
    let obj: unknown = body;
    // res.json() hands its JSON text here: parsed again only when it can carry a detail.
    if (typeof body === 'string' && body.length < 65536 && body.startsWith('{') && body.includes('"detail"'))
      obj = JSON.parse(body) as unknown;
    if (typeof obj === 'object' && obj !== null && !Buffer.isBuffer(obj) && typeof (obj as { detail?: unknown }).detail === 'string') {
      let detail = maskSecrets((obj as { detail: string }).detail);
      if (res.statusCode >= 500) detail = stripPaths(detail);
      res[ANSWER] = { detail };
      if (detail !== (obj as { detail: string }).detail) {
        const fixed = { ...(obj as Record<string, unknown>), detail };
        body = typeof body === 'string' ? JSON.stringify(fixed) : fixed;
      }
    }
  } catch {
    // not JSON: sent as it is
  }
  return send.call(res, body);
}

/** An API response's res.json / res.jsonp: a successful object answer gets the echoed fields and the reference's names. */
function apiJson(res: Res, original: Json, args: unknown[]): Res {
  if (args.length === 1 && res.statusCode < 400) {
    try {
      args[0] = answerBody(res, args[0]);
    } catch {
      // sent as it is
    }
  }
  return original.apply(res, args);
}

/** An API response's res.sendStatus: JSON {"detail"}, not Express's plain text. */
function apiSendStatus(res: Res, code: number): Res {
  const detail = code >= 500 ? 'internal error: see the Node-RED log' : `HTTP ${code}`;
  res.statusCode = code;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res[ANSWER] = { detail };
  res.end(JSON.stringify({ detail }));
  return res;
}

/**
 * true when an Express router stack has a route serving method+path (Express
 * 4: app._router.stack; Express 5: app.router.stack). Unknown shapes count
 * as served (the front door then never answers 503 by mistake).
 */
export function expressServes(app: unknown, method: string, path: string): boolean {
  const a = app as { _router?: { stack?: unknown[] }; router?: { stack?: unknown[] } } | null;
  const stack = a?._router?.stack ?? a?.router?.stack;
  if (!Array.isArray(stack)) return true;
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  for (const layer of stack) {
    const l = layer as { route?: { methods?: Record<string, boolean> }; match?: (p: string) => boolean };
    if (l?.route === undefined || typeof l.match !== 'function') continue;
    const methods = l.route.methods ?? {};
    if (!methods[m] && !methods._all) continue;
    try {
      if (l.match(path)) return true;
    } catch {
      // a layer that cannot match this path
    }
  }
  return false;
}
