/**
 * Structured JSON log lines, one object per line: {ts, level, msg, ...fields}
 * (the reference service logs JSON to stdout and masks personal payloads).
 *
 * Masking: a field whose key names a secret or personal datum is replaced by
 * "***" at any depth: keys containing "profile", "password", "secret",
 * "cookie", "authorization", "encrypted_payload"/"encryptedPayload", keys
 * ending in "token" or "key" as in apiKey/api_key/fernetKey (but not the
 * counters promptTokens/completionTokens, which end in "tokens"). Strings that
 * carry "Bearer <token>" have the token masked wherever they appear. The
 * reserved keys ts, level, msg cannot be overwritten by fields.
 *
 * Never throws: cycles, BigInt, Errors, functions and very deep or large
 * values are rendered safely (Errors as {name, message}; no stack).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger adding `fields` to every line (e.g. {component: "http"}). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lowest level written. Default "info". */
  level?: LogLevel;
  /** Where a line goes (without newline). Default: stdout (warn/error: stderr). */
  sink?: (line: string, level: LogLevel) => void;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Fields on every line. */
  base?: LogFields;
}

export const MASK = '***';
const MAX_DEPTH = 6;
const MAX_STRING = 2000;
const MAX_KEYS = 100;
const MAX_ITEMS = 100;

const SECRET_KEY =
  /profile|password|passwd|secret|cookie|authorization|encrypted_?payload|credential|(token|api_?key|fernet_?key|private_?key)$/i;

/** isSensitiveKey's answers for the field names seen so far (a log line has the same few names each time). */
const sensitiveKeys = new Map<string, boolean>();
const MAX_CACHED_KEYS = 512;

/** true when a field of this name is masked in logs. */
export function isSensitiveKey(key: string): boolean {
  let sensitive = sensitiveKeys.get(key);
  if (sensitive === undefined) {
    sensitive = SECRET_KEY.test(key);
    if (sensitiveKeys.size < MAX_CACHED_KEYS) sensitiveKeys.set(key, sensitive);
  }
  return sensitive;
}

const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/=]+/gi;

function maskString(s: string): string {
  const cut = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}...(${s.length} chars)` : s;
  return cut.replace(BEARER, `$1 ${MASK}`);
}

/** A JSON-safe copy of `value` with sensitive fields masked. Never throws. */
export function maskFields(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  try {
    if (value === null || value === undefined) return value ?? null;
    switch (typeof value) {
      case 'string':
        return maskString(value);
      case 'number':
        return Number.isFinite(value) ? value : String(value);
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'function':
      case 'symbol':
        return `[${typeof value}]`;
      default:
        break;
    }
    const obj = value as object;
    if (seen.has(obj)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[depth]';
    seen.add(obj);
    try {
      if (obj instanceof Error) {
        const out: Record<string, unknown> = { name: obj.name, message: maskString(obj.message) };
        const code = (obj as { code?: unknown }).code;
        if (typeof code === 'string' || typeof code === 'number') out.code = code;
        return out;
      }
      if (obj instanceof Date) return Number.isFinite(obj.getTime()) ? obj.toISOString() : 'Invalid Date';
      if (Buffer.isBuffer(obj)) return `[${obj.length} bytes]`;
      if (Array.isArray(obj)) {
        const items = obj.slice(0, MAX_ITEMS).map((v) => maskFields(v, depth + 1, seen));
        if (obj.length > MAX_ITEMS) items.push(`...(${obj.length - MAX_ITEMS} more)`);
        return items;
      }
      const out: Record<string, unknown> = {};
      let n = 0;
      for (const key of Object.keys(obj)) {
        if (n++ >= MAX_KEYS) {
          out['...'] = 'more keys';
          break;
        }
        out[key] = isSensitiveKey(key) ? MASK : maskFields((obj as Record<string, unknown>)[key], depth + 1, seen);
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  } catch {
    return '[unreadable]';
  }
}

/** Any "bearer" in a string: it may carry a token (maskString then looks closer). */
const BEARER_WORD = /bearer/i;

/** A field value maskFields would return as it is: a finite number, a boolean, null, a short string with no "Bearer". */
function writtenAsIs(v: unknown): boolean {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v);
    case 'boolean':
      return true;
    case 'string':
      return v.length <= MAX_STRING && !BEARER_WORD.test(v);
    default:
      return v === null;
  }
}

/**
 * The line of formatLogLine for flat fields that need no masking (every
 * request log line): no copy through maskFields. `parts` are read in order,
 * a later part's field replacing an earlier one's as an object spread would
 * (a logger's base fields, then the line's own), without building the merged
 * object. null when a field needs masking or there are too many.
 */
function flatLine(level: LogLevel, msg: string, parts: ReadonlyArray<LogFields | undefined>, ts: string): string | null {
  const out: Record<string, unknown> = { ts, level, msg: maskString(String(msg)) };
  let n = 0;
  for (const fields of parts) {
    if (fields === undefined) continue;
    for (const key in fields) {
      if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
      const v = fields[key];
      if (++n > MAX_KEYS || key === '__proto__' || isSensitiveKey(key) || !writtenAsIs(v)) return null;
      if (key !== 'ts' && key !== 'level' && key !== 'msg') out[key] = v;
    }
  }
  return JSON.stringify(out);
}

/** formatLogLine of `{...base, ...fields}`; the merged object is built only when a field needs masking. */
function formatMerged(level: LogLevel, msg: string, base: LogFields, fields: LogFields | undefined, nowMs: number): string {
  if (Number.isFinite(nowMs)) {
    try {
      const line = flatLine(level, msg, [base, fields], new Date(nowMs).toISOString());
      if (line !== null) return line;
    } catch {
      // an odd object (a throwing getter): the careful path of formatLogLine
    }
  }
  return formatLogLine(level, msg, { ...base, ...(fields ?? {}) }, nowMs);
}

/** One log line (no newline): {"ts": ISO, "level", "msg", ...masked fields}. Never throws. */
export function formatLogLine(level: LogLevel, msg: string, fields: LogFields | undefined, nowMs: number): string {
  if (fields !== undefined && Number.isFinite(nowMs)) {
    try {
      const line = flatLine(level, msg, [fields], new Date(nowMs).toISOString());
      if (line !== null) return line;
    } catch {
      // an odd object (a throwing getter): the careful path below
    }
  }
  const masked = fields === undefined ? {} : maskFields(fields);
  const extra =
    typeof masked === 'object' && masked !== null && !Array.isArray(masked) ? (masked as Record<string, unknown>) : { fields: masked };
  const { ts: _ts, level: _level, msg: _msg, ...rest } = extra;
  const ts = Number.isFinite(nowMs) ? new Date(nowMs).toISOString() : new Date().toISOString();
  try {
    return JSON.stringify({ ts, level, msg: maskString(String(msg)), ...rest });
  } catch {
    return JSON.stringify({ ts, level, msg: maskString(String(msg)), logError: 'fields could not be serialised' });
  }
}

const defaultSink = (line: string, level: LogLevel): void => {
  (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? 'info');
  const sink = options.sink ?? defaultSink;
  const now = options.now ?? Date.now;
  const base = options.base ?? {};
  const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    try {
      sink(formatMerged(level, msg, base, fields, now()), level);
    } catch {
      // A failing sink (closed pipe) must not take the caller down.
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}
