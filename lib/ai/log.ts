/**
 * Logging for the AI layer: a logger interface the caller injects (the
 * ai-decide node maps it onto node.debug/log/warn), and a redactor that every
 * logged message, every fallback detail and every error text passes through.
 *
 * What is never logged: the API key (redacted wherever it appears, along with
 * anything shaped like an OpenAI key or a bearer token), the personal profile
 * (the AI layer never receives it: only allow-listed hints, see payload.ts),
 * and the prompt (system prompt and user message). Derived features (the
 * windows as sent) are logged at debug level only.
 */

export interface AiLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** A logger that drops everything (the default). */
export const NULL_LOGGER: AiLogger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

const REDACTED = '[redacted]';
/** OpenAI-style keys (sk-..., sk-proj-..., masked sk-****abcd) and bearer tokens. */
const KEY_SHAPES: readonly RegExp[] = [/\bsk-[A-Za-z0-9_*.-]{4,}/g, /\bBearer\s+[A-Za-z0-9_*.~+/=-]+/gi];

export type Redactor = (text: string) => string;

/**
 * A redactor that removes each secret (exact occurrences of strings of 4+
 * characters) and anything shaped like an API key or bearer token.
 */
export function makeRedactor(secrets: readonly (string | undefined)[]): Redactor {
  const exact = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return (text: string): string => {
    let out = String(text);
    for (const s of exact) out = out.split(s).join(REDACTED);
    for (const re of KEY_SHAPES) out = out.replace(re, REDACTED);
    return out;
  };
}

/** Redact every string inside plain data (depth-limited; anything else becomes a description). */
export function redactDeep(value: unknown, redact: Redactor, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || value === undefined) return value;
  if (depth > 6) return '[deep]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactDeep(v, redact, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let keys: string[];
    try {
      keys = Object.keys(value);
    } catch {
      return '[unreadable]';
    }
    for (const k of keys.slice(0, 50)) {
      let v: unknown;
      try {
        v = (value as Record<string, unknown>)[k];
      } catch {
        v = '[unreadable]';
      }
      out[redact(k)] = redactDeep(v, redact, depth + 1);
    }
    return out;
  }
  return `[${typeof value}]`;
}

/**
 * Wrap a caller's logger: every message and meta is redacted, a throwing
 * logger is ignored (logging must never break a decision).
 */
export function safeLogger(logger: AiLogger | undefined, redact: Redactor): AiLogger {
  const target = logger ?? NULL_LOGGER;
  const wrap =
    (level: keyof AiLogger) =>
    (message: string, meta?: Record<string, unknown>): void => {
      try {
        const m = redact(message);
        if (meta === undefined) target[level](m);
        else target[level](m, redactDeep(meta, redact) as Record<string, unknown>);
      } catch {
        // a logger that throws is the caller's problem, not the lights'
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/** Short, single-line, redacted text of an error or value (for details and logs). */
export function describeError(err: unknown, redact: Redactor, maxChars = 160): string {
  let text: string;
  if (err instanceof Error) text = err.message || err.name;
  else if (typeof err === 'string') text = err;
  else text = typeof err;
  return shorten(redact(text), maxChars);
}

/** One line, at most maxChars characters (code points), control characters removed. */
export function shorten(text: string, maxChars: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= maxChars ? flat : `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}
