/**
 * AiDecider: asks an OpenAI (or OpenAI-compatible) model for a setpoint by
 * forced strict function calling, and makes sure the answer can never make the
 * lights unsafe:
 *
 * - `decide()` always resolves (never rejects) within `timeoutMs` (the budget
 *   of the whole decision, retries and back-off included; measured loosely:
 *   a few ms of bookkeeping after the deadline);
 * - the model's arguments are validated (tool.ts) and then pass through the
 *   caller's `clamp` (the same clamps as rules-fallback) before they become a
 *   setpoint with source "ai";
 * - on every failure the caller's `fallback(windows)` decides, its setpoint
 *   also passes through `clamp` (a no-op for an already clamped setpoint) and
 *   its reason records why the AI was not used; if the fallback or the clamp
 *   throws, a fixed safe setpoint (100 %, 4000 K, source "rules") is used;
 * - a circuit breaker stops calling after `circuitFailures` consecutive
 *   failures for `circuitCooldownMs`, then lets one probe through.
 *
 * Retries are done here, not by the SDK (the client is built with
 * maxRetries 0): 408/409/429/5xx and connection errors are retried up to
 * `maxRetries` times while the budget lasts; a server's retry-after
 * (`retry-after-ms`, `retry-after` seconds or HTTP date) is honoured only if
 * it ends inside the budget, otherwise the decision falls back at once.
 * Timeouts, other 4xx and invalid answers are not retried.
 *
 * Circuit failures: timeout, rate-limited, server-error, client-error,
 * network, refusal, no-tool-call, invalid-json, invalid-arguments,
 * bad-response, internal. Not failures (no call was made, or it was
 * abandoned): no-api-key, no-windows, payload-cap, circuit-open, closed.
 *
 * No environment variable is read here: the API key and base URL come from
 * the config only (blank base URL = https://api.openai.com/v1).
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  COMMAND_KELVIN_MAX,
  COMMAND_KELVIN_MIN,
  isPlainObject,
  isSetpointSource,
  read,
  type Setpoint,
} from '../contracts';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { CircuitBreaker, type CircuitListener, type CircuitPermit, type CircuitSnapshot, type CircuitState } from './circuit';
import { type AiLogger, describeError, makeRedactor, type Redactor, safeLogger, shorten } from './log';
import {
  buildPayload,
  type BuiltPayload,
  DEFAULT_PAYLOAD_BATCH_LIMIT,
  DEFAULT_PAYLOAD_CAP_BYTES,
  MAX_PAYLOAD_BATCH_LIMIT,
  PayloadCapError,
} from './payload';
import {
  parseSetLightingArguments,
  REASON_MAX_LENGTH,
  SET_LIGHTING_TOOL,
  SET_LIGHTING_TOOL_CHOICE,
  SET_LIGHTING_TOOL_NAME,
  type SetLightingArgs,
} from './tool';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_MODEL = 'gpt-4o-mini';
export const DEFAULT_TIMEOUT_MS = 8000;
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_CIRCUIT_FAILURES = 3;
export const DEFAULT_CIRCUIT_COOLDOWN_MS = 300_000;
/** Setpoint used when even the fallback (or the clamp) fails: in doubt, light. */
export const SAFE_INTENSITY_PCT = 100;
export const SAFE_KELVIN = 4000;

export type FallbackReason =
  | 'no-api-key'
  | 'no-windows'
  | 'payload-cap'
  | 'circuit-open'
  | 'timeout'
  | 'rate-limited'
  | 'server-error'
  | 'client-error'
  | 'network'
  | 'refusal'
  | 'no-tool-call'
  | 'invalid-json'
  | 'invalid-arguments'
  | 'bad-response'
  | 'closed'
  | 'internal';

const NOT_A_FAILURE: ReadonlySet<FallbackReason> = new Set<FallbackReason>([
  'no-api-key',
  'no-windows',
  'payload-cap',
  'circuit-open',
  'closed',
]);

/** True when this fallback reason counts as a failure for the circuit breaker. */
export function isCircuitFailure(reason: FallbackReason): boolean {
  return !NOT_A_FAILURE.has(reason);
}

export interface AiDeciderConfig {
  /** OpenAI API key; blank or absent: every decision falls back ("no-api-key"). */
  apiKey?: string;
  /** OpenAI-compatible endpoint; blank or absent: https://api.openai.com/v1. */
  baseUrl?: string;
  /** Model name (default gpt-4o-mini). */
  model?: string;
  /** Budget of a whole decision, retries included, ms (default 8000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2, 0-10). */
  maxRetries?: number;
  /** Cap on the UTF-8 bytes of the feature payload (user message content), default 2048. */
  payloadCapBytes?: number;
  /** Most feature windows sent, 1-3 (default 3). */
  payloadBatchLimit?: number;
  /** Consecutive failures that open the circuit (default 3). */
  circuitFailures?: number;
  /** Cool-down of an open circuit before a probe, ms (default 300000). */
  circuitCooldownMs?: number;
  /** max_completion_tokens sent with each request; absent: not sent (reasoning models need room). */
  maxCompletionTokens?: number;
}

export interface AiDeciderDeps {
  logger?: AiLogger;
  /** Clock of the circuit breaker, ms (default Date.now). The budget uses real timers. */
  now?: () => number;
  /** Called on every circuit state change (same as onCircuitChange). */
  onCircuitChange?: CircuitListener;
}

/** What the caller's clamp may return: a Setpoint, or applyClamps' `{ setpoint, fired }`. */
export type AiClampResult = Setpoint | { setpoint: Setpoint; fired?: readonly string[] };
/** The caller's clamp: the same clamps the rules fallback goes through. */
export type AiClamp = (proposed: Setpoint) => AiClampResult;

export interface DecideOptions<W> {
  /** Non-personal hints (profileHints(profile)); only the allow-listed fields are sent. */
  hints?: unknown;
  /** Rules decision for these windows, used whenever the AI is not. */
  fallback: (windows: readonly W[]) => Setpoint;
  /** Clamp applied to every setpoint before it is returned. */
  clamp: AiClamp;
}

export interface AiTelemetry {
  /** Wall time of the whole decision, ms. */
  latencyMs: number;
  promptTokens?: number;
  completionTokens?: number;
  /** UTF-8 bytes of the feature payload (user message content); 0 when none was built. */
  payloadBytes: number;
  /** UTF-8 bytes of the whole JSON request body; 0 when no request was made. */
  requestBytes: number;
  windowsSent: number;
  /** Trim steps applied to fit the cap. */
  trimmed: string[];
  /** Why the AI was not used (absent when the setpoint is the AI's). */
  fallbackReason?: FallbackReason;
  /** Human-readable detail of fallbackReason (redacted, one line). */
  fallbackDetail?: string;
  model: string;
  /** HTTP requests made. */
  attempts: number;
  /** Clamps that changed the final setpoint (when the clamp reports them). */
  clampsFired: string[];
  /** Circuit state after this decision. */
  circuit: CircuitState;
}

export interface AiDecision {
  setpoint: Setpoint;
  telemetry: AiTelemetry;
}

/** Invalid decider configuration (thrown by the constructor only). */
export class AiConfigError extends Error {
  override readonly name = 'AiConfigError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export const SYSTEM_PROMPT = [
  'You control tunable-white DALI luminaires in one zone.',
  'The user message is JSON: recent feature windows (oldest first) with lux statistics (lux),',
  'presence (ratio = share of the window occupied, 0-1; last = occupied at the end), local minuteOfDay and',
  'weekday (0 = Sunday), optional weather, and optional accessibility hints (minIntensityPct floor while',
  'occupied, maxStepPct largest change per step, cctBias, slowerDimDown; schedule: what people here asked for now,',
  'an output band minIntensityPct-maxIntensityPct, a colour kelvin, a targetLux).',
  `Call ${SET_LIGHTING_TOOL_NAME} once: intensity 0-100 percent, cct ${COMMAND_KELVIN_MIN}-${COMMAND_KELVIN_MAX} kelvin`,
  `(warmer in the evening and at night, cooler around midday), a reason of at most ${REASON_MAX_LENGTH} characters,`,
  'and your confidence 0-1. Save energy when daylight is ample or nobody is present; safety clamps apply afterwards.',
].join(' ');

interface Failure {
  ok: false;
  code: FallbackReason;
  detail: string;
}
interface Success {
  ok: true;
  args: SetLightingArgs;
}
type Outcome = Success | Failure;

interface ResolvedConfig {
  apiKey: string | undefined;
  baseUrl: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  payloadCapBytes: number;
  payloadBatchLimit: number;
  circuitFailures: number;
  circuitCooldownMs: number;
  maxCompletionTokens: number | undefined;
}

function intIn(field: string, v: unknown, lo: number, hi: number, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new AiConfigError(field, `must be a whole number in [${lo}, ${hi}]`);
  }
  return v;
}

function resolveConfig(c: AiDeciderConfig): ResolvedConfig {
  if (typeof c !== 'object' || c === null) throw new AiConfigError('config', 'must be an object');
  if (c.apiKey !== undefined && c.apiKey !== null && typeof c.apiKey !== 'string') {
    throw new AiConfigError('apiKey', 'must be a string');
  }
  const apiKey = typeof c.apiKey === 'string' && c.apiKey.trim() !== '' ? c.apiKey.trim() : undefined;
  let baseUrl = DEFAULT_OPENAI_BASE_URL;
  if (typeof c.baseUrl === 'string' && c.baseUrl.trim() !== '') {
    const u = c.baseUrl.trim();
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new AiConfigError('baseUrl', 'must be an http(s) URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AiConfigError('baseUrl', 'must be an http(s) URL');
    baseUrl = u.replace(/\/+$/, '');
  } else if (c.baseUrl !== undefined && c.baseUrl !== null && typeof c.baseUrl !== 'string') {
    throw new AiConfigError('baseUrl', 'must be a string');
  }
  let model = DEFAULT_MODEL;
  if (c.model !== undefined && c.model !== null && String(c.model).trim() !== '') {
    if (typeof c.model !== 'string' || c.model.length > 128) throw new AiConfigError('model', 'must be a string of at most 128 characters');
    model = c.model.trim();
  }
  return {
    apiKey,
    baseUrl,
    model,
    timeoutMs: intIn('timeoutMs', c.timeoutMs, 1, 600_000, DEFAULT_TIMEOUT_MS),
    maxRetries: intIn('maxRetries', c.maxRetries, 0, 10, DEFAULT_MAX_RETRIES),
    payloadCapBytes: intIn('payloadCapBytes', c.payloadCapBytes, 1, 1_048_576, DEFAULT_PAYLOAD_CAP_BYTES),
    payloadBatchLimit: intIn('payloadBatchLimit', c.payloadBatchLimit, 1, MAX_PAYLOAD_BATCH_LIMIT, DEFAULT_PAYLOAD_BATCH_LIMIT),
    circuitFailures: intIn('circuitFailures', c.circuitFailures, 1, 1000, DEFAULT_CIRCUIT_FAILURES),
    circuitCooldownMs: intIn('circuitCooldownMs', c.circuitCooldownMs, 0, 7 * 24 * 3_600_000, DEFAULT_CIRCUIT_COOLDOWN_MS),
    maxCompletionTokens:
      c.maxCompletionTokens === undefined || c.maxCompletionTokens === null
        ? undefined
        : intIn('maxCompletionTokens', c.maxCompletionTokens, 1, 100_000, 0),
  };
}

/** Delay the server asks for, ms (retry-after-ms, retry-after seconds or HTTP date); undefined if none. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  let ms: string | null = null;
  let s: string | null = null;
  try {
    ms = headers.get('retry-after-ms');
    s = headers.get('retry-after');
  } catch {
    return undefined;
  }
  if (ms !== null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  if (s !== null && s.trim() !== '') {
    const v = Number(s);
    if (Number.isFinite(v) && v >= 0) return v * 1000;
    const date = Date.parse(s);
    if (Number.isFinite(date)) return Math.max(0, date - nowMs);
  }
  return undefined;
}

/** Exponential back-off without a retry-after: 250 ms, 500 ms, 1 s, 2 s, 2 s, ... */
function backoffMs(retry: number): number {
  return Math.min(250 * 2 ** retry, 2000);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const ABORT_CLOSED = 'closed';
const ABORT_BUDGET = 'budget';

export class AiDecider {
  private readonly config: ResolvedConfig;
  private readonly client: OpenAI | undefined;
  private readonly breaker: CircuitBreaker;
  private readonly log: AiLogger;
  private readonly redact: Redactor;
  private readonly inFlight = new Set<Promise<AiDecision>>();
  private readonly controllers = new Set<AbortController>();
  private closed = false;
  private readonly now: () => number;

  /** @throws AiConfigError for an invalid configuration (never the key itself in the message). */
  constructor(config: AiDeciderConfig, deps: AiDeciderDeps = {}) {
    this.config = resolveConfig(config);
    this.redact = makeRedactor([this.config.apiKey]);
    this.now = deps.now ?? Date.now;
    this.log = safeLogger(deps.logger, this.redact);
    this.breaker = new CircuitBreaker({
      failureThreshold: this.config.circuitFailures,
      cooldownMs: this.config.circuitCooldownMs,
      now: this.now,
    });
    this.breaker.onChange((change) => {
      const meta = { state: change.state, previous: change.previous, consecutiveFailures: change.consecutiveFailures };
      if (change.state === 'open') {
        this.log.warn(`AI circuit open after ${change.consecutiveFailures} consecutive failure(s) (last: ${change.reason ?? '?'})`, {
          ...meta,
          retryAt: change.retryAt,
        });
      } else if (change.state === 'halfOpen') this.log.info('AI circuit half-open: probing', meta);
      else this.log.info('AI circuit closed', meta);
    });
    if (deps.onCircuitChange) this.breaker.onChange(deps.onCircuitChange);
    if (this.config.apiKey !== undefined) {
      this.client = new OpenAI({
        apiKey: this.config.apiKey,
        baseURL: this.config.baseUrl,
        timeout: this.config.timeoutMs,
        maxRetries: 0,
        logLevel: 'off',
      });
    }
  }

  /** Model name in use. */
  get model(): string {
    return this.config.model;
  }

  /** False when no API key is configured (every decision falls back). */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  circuit(): CircuitSnapshot {
    return this.breaker.snapshot();
  }

  /** Listen to circuit state changes (closed/open/halfOpen); returns the unsubscribe function. */
  onCircuitChange(listener: CircuitListener): () => void {
    return this.breaker.onChange(listener);
  }

  /**
   * Decide a setpoint for the zone of the newest window. Always resolves,
   * within the timeout budget, to a clamped setpoint.
   */
  decide<W>(windows: readonly W[], options: DecideOptions<W>): Promise<AiDecision> {
    const p = this.run(windows, options).catch((err: unknown) => this.lastResort(windows, options, err));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /**
   * Abort every decision in flight (they resolve with the fallback, reason
   * "closed") and refuse new calls (same fallback). Resolves when all have
   * resolved. Safe to call twice.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.controllers) c.abort(ABORT_CLOSED);
    await Promise.allSettled([...this.inFlight]);
  }

  // ---------------------------------------------------------------- flow ----

  private async run<W>(windows: readonly W[], options: DecideOptions<W>): Promise<AiDecision> {
    const started = performance.now();
    const deadline = started + this.config.timeoutMs;
    const telemetry = this.newTelemetry();
    const finish = (setpoint: Setpoint): AiDecision => {
      telemetry.latencyMs = Math.round((performance.now() - started) * 10) / 10;
      telemetry.circuit = this.breaker.state;
      return { setpoint, telemetry };
    };

    const outcome = await this.attempt(windows, options, deadline, telemetry);
    if (outcome.failure) return finish(this.fallback(windows, options, outcome.failure, telemetry, outcome.zone));

    const { args, zone } = outcome;
    const proposed: Setpoint = {
      zone: zone ?? 'unknown',
      intensity: args.intensity,
      cct: args.cct,
      reason: shorten(args.reason, REASON_MAX_LENGTH) || 'ai',
      source: 'ai',
      confidence: args.confidence,
    };
    let clamped: Setpoint;
    try {
      clamped = this.applyClamp(options.clamp, proposed, telemetry);
    } catch (err) {
      const failure: Failure = { ok: false, code: 'internal', detail: `clamp failed: ${describeError(err, this.redact)}` };
      return finish(this.fallback(windows, options, failure, telemetry, zone));
    }
    this.log.debug('AI setpoint', {
      intensity: clamped.intensity,
      cct: clamped.cct,
      confidence: clamped.confidence,
      clampsFired: telemetry.clampsFired,
      attempts: telemetry.attempts,
      promptTokens: telemetry.promptTokens,
      completionTokens: telemetry.completionTokens,
    });
    return finish(clamped);
  }

  /** Everything up to a validated tool call, or the reason there is none. */
  private async attempt<W>(
    windows: readonly W[],
    options: DecideOptions<W>,
    deadline: number,
    telemetry: AiTelemetry,
  ): Promise<{ failure: Failure; zone: string | undefined } | { failure?: undefined; args: SetLightingArgs; zone: string | undefined }> {
    const zone = newestZone(windows);
    if (this.closed) return { failure: { ok: false, code: 'closed', detail: 'decider closed' }, zone };
    if (!this.client) return { failure: { ok: false, code: 'no-api-key', detail: 'no OpenAI API key configured' }, zone };

    let payload: BuiltPayload;
    try {
      payload = buildPayload(windows, options.hints, {
        payloadCapBytes: this.config.payloadCapBytes,
        payloadBatchLimit: this.config.payloadBatchLimit,
      });
    } catch (err) {
      if (err instanceof PayloadCapError) return { failure: { ok: false, code: err.code, detail: err.message }, zone };
      return { failure: { ok: false, code: 'internal', detail: `payload: ${describeError(err, this.redact)}` }, zone };
    }
    telemetry.payloadBytes = payload.bytes;
    telemetry.windowsSent = payload.windowsSent;
    telemetry.trimmed = [...payload.trimmed];
    const payloadZone = payload.zone ?? zone;

    const acquired = this.breaker.acquire();
    if (!acquired.allowed) {
      const detail = acquired.probeInFlight
        ? 'circuit half-open, a probe is in flight'
        : `circuit open${acquired.retryAt !== undefined && Number.isFinite(acquired.retryAt) ? `, next probe in ${Math.max(0, Math.round(acquired.retryAt - this.now()))} ms` : ''}`;
      return { failure: { ok: false, code: 'circuit-open', detail }, zone: payloadZone };
    }
    const permit: CircuitPermit = acquired.permit;

    this.log.debug('AI request', {
      payloadBytes: payload.bytes,
      windowsSent: payload.windowsSent,
      trimmed: payload.trimmed,
      features: payload.payload.windows,
      probe: permit.probe,
    });

    const outcome = await this.callWithBudget(payload, deadline, telemetry);
    if (outcome.ok) this.breaker.success(permit);
    else if (isCircuitFailure(outcome.code)) this.breaker.failure(permit, outcome.code);
    else this.breaker.release(permit);
    if (!outcome.ok) return { failure: outcome, zone: payloadZone };
    return { args: outcome.args, zone: payloadZone };
  }

  /** The request loop, raced against the budget so it can never outlive it. */
  private async callWithBudget(payload: BuiltPayload, deadline: number, telemetry: AiTelemetry): Promise<Outcome> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const remaining = Math.max(0, deadline - performance.now());
    const timer = setTimeout(() => controller.abort(ABORT_BUDGET), remaining);
    const aborted = new Promise<Outcome>((resolve) => {
      const onAbort = (): void => resolve(this.abortOutcome(controller.signal));
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    const work = this.requestLoop(payload, deadline, controller.signal, telemetry).catch(
      (err: unknown): Outcome => ({ ok: false, code: 'internal', detail: describeError(err, this.redact) }),
    );
    try {
      return await Promise.race([work, aborted]);
    } finally {
      clearTimeout(timer);
      // Stop anything still running (a late response is ignored); the loop itself never rejects.
      if (!controller.signal.aborted) controller.abort(ABORT_BUDGET);
      this.controllers.delete(controller);
    }
  }

  private abortOutcome(signal: AbortSignal): Failure {
    if (signal.reason === ABORT_CLOSED) return { ok: false, code: 'closed', detail: 'decider closed during the request' };
    return { ok: false, code: 'timeout', detail: `no valid answer within the ${this.config.timeoutMs} ms budget` };
  }

  private async requestLoop(payload: BuiltPayload, deadline: number, signal: AbortSignal, telemetry: AiTelemetry): Promise<Outcome> {
    const client = this.client as OpenAI;
    const body = {
      model: this.config.model,
      messages: [
        { role: 'system' as const, content: SYSTEM_PROMPT },
        { role: 'user' as const, content: payload.content },
      ],
      tools: [SET_LIGHTING_TOOL],
      tool_choice: SET_LIGHTING_TOOL_CHOICE,
      ...(this.config.maxCompletionTokens !== undefined ? { max_completion_tokens: this.config.maxCompletionTokens } : {}),
    };
    telemetry.requestBytes = Buffer.byteLength(JSON.stringify(body), 'utf8');

    for (let retry = 0; ; retry++) {
      const remaining = Math.floor(deadline - performance.now());
      if (remaining <= 0 || signal.aborted) return this.abortOutcome(signal);
      telemetry.attempts++;
      let failure: Failure & { retryable: boolean; retryAfterMs?: number };
      try {
        const completion = await client.chat.completions.create(body, { signal, timeout: remaining, maxRetries: 0 });
        if (signal.aborted) return this.abortOutcome(signal);
        return this.interpret(completion, telemetry);
      } catch (err) {
        if (signal.aborted) return this.abortOutcome(signal);
        failure = this.classify(err);
      }
      if (!failure.retryable || retry >= this.config.maxRetries) return strip(failure);
      const delay = failure.retryAfterMs ?? backoffMs(retry);
      const left = deadline - performance.now();
      if (delay >= left) {
        const asked = failure.retryAfterMs !== undefined ? `retry-after ${Math.round(delay)} ms` : `back-off ${Math.round(delay)} ms`;
        return strip({
          ...failure,
          detail: `${failure.detail}; ${asked} does not fit the remaining budget (${Math.max(0, Math.round(left))} ms)`,
        });
      }
      this.log.debug(`AI request failed (${failure.code}), retrying in ${Math.round(delay)} ms`, { attempt: telemetry.attempts });
      await sleep(delay, signal);
    }
  }

  private classify(err: unknown): Failure & { retryable: boolean; retryAfterMs?: number } {
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      return { ok: false, code: 'timeout', detail: 'request timed out', retryable: false };
    }
    if (err instanceof OpenAI.APIUserAbortError) {
      return { ok: false, code: 'timeout', detail: 'request aborted at the end of the budget', retryable: false };
    }
    if (err instanceof OpenAI.APIConnectionError) {
      const cause = read(err, 'cause');
      const code = read(cause, 'code') ?? read(read(cause, 'cause'), 'code');
      const why = typeof code === 'string' ? code : describeError(err, this.redact, 80);
      return { ok: false, code: 'network', detail: `connection failed (${why})`, retryable: true };
    }
    if (err instanceof OpenAI.APIError) {
      const status = typeof err.status === 'number' ? err.status : 0;
      const msg = describeError(err, this.redact, 120);
      if (status === 429) {
        return { ok: false, code: 'rate-limited', detail: msg, retryable: true, retryAfterMs: retryAfterMs(err.headers) };
      }
      if (status >= 500) return { ok: false, code: 'server-error', detail: msg, retryable: true, retryAfterMs: retryAfterMs(err.headers) };
      if (status === 408 || status === 409) {
        return { ok: false, code: 'client-error', detail: msg, retryable: true, retryAfterMs: retryAfterMs(err.headers) };
      }
      return { ok: false, code: 'client-error', detail: msg, retryable: false };
    }
    return { ok: false, code: 'bad-response', detail: `unreadable response: ${describeError(err, this.redact, 120)}`, retryable: false };
  }

  /** Read the completion: usage, refusal, the set_lighting call and its arguments. */
  private interpret(completion: unknown, telemetry: AiTelemetry): Outcome {
    const usage = read(completion, 'usage');
    const pt = read(usage, 'prompt_tokens');
    const ct = read(usage, 'completion_tokens');
    if (typeof pt === 'number' && Number.isFinite(pt)) telemetry.promptTokens = pt;
    if (typeof ct === 'number' && Number.isFinite(ct)) telemetry.completionTokens = ct;

    const choices = read(completion, 'choices');
    const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
    const message = read(choice, 'message');
    if (!isPlainObject(message)) return { ok: false, code: 'bad-response', detail: 'response has no choices[0].message' };
    const refusal = read(message, 'refusal');
    if (typeof refusal === 'string' && refusal.trim() !== '') {
      return { ok: false, code: 'refusal', detail: `model refused: ${shorten(this.redact(refusal), 120)}` };
    }
    const finish = read(choice, 'finish_reason');
    if (finish === 'content_filter') return { ok: false, code: 'refusal', detail: 'response stopped by the content filter' };
    const calls = read(message, 'tool_calls');
    const call = Array.isArray(calls)
      ? calls.find((c) => read(c, 'type') === 'function' && read(read(c, 'function'), 'name') === SET_LIGHTING_TOOL_NAME)
      : undefined;
    if (call === undefined) {
      const n = Array.isArray(calls) ? calls.length : 0;
      return {
        ok: false,
        code: 'no-tool-call',
        detail: `no ${SET_LIGHTING_TOOL_NAME} call in the answer (${n} other tool call(s), finish_reason ${typeof finish === 'string' ? finish : 'none'})`,
      };
    }
    const parsed = parseSetLightingArguments(read(read(call, 'function'), 'arguments'));
    if (!parsed.ok) return { ok: false, code: parsed.code, detail: parsed.detail };
    return { ok: true, args: parsed.args };
  }

  // ------------------------------------------------------------ fallback ----

  private applyClamp(clamp: AiClamp, proposed: Setpoint, telemetry: AiTelemetry): Setpoint {
    const result = clamp(proposed);
    let setpoint: unknown = result;
    const inner = read(result, 'setpoint');
    if (isPlainObject(inner)) {
      setpoint = inner;
      const fired = read(result, 'fired');
      if (Array.isArray(fired)) telemetry.clampsFired = fired.filter((f): f is string => typeof f === 'string');
    }
    if (!isSafeSetpoint(setpoint)) throw new Error('clamp returned an invalid setpoint');
    return { ...setpoint };
  }

  private fallback<W>(
    windows: readonly W[],
    options: DecideOptions<W>,
    failure: Failure,
    telemetry: AiTelemetry,
    zone: string | undefined,
  ): Setpoint {
    telemetry.fallbackReason = failure.code;
    telemetry.fallbackDetail = shorten(this.redact(failure.detail), 240);
    const note = `AI not used: ${failure.code} (${telemetry.fallbackDetail})`;
    const quiet: readonly FallbackReason[] = ['no-api-key', 'closed', 'circuit-open'];
    const level = quiet.includes(failure.code) ? 'debug' : 'warn';
    this.log[level](`AI fallback: ${failure.code}`, { detail: telemetry.fallbackDetail, attempts: telemetry.attempts });
    let proposed: Setpoint;
    try {
      proposed = options.fallback(windows);
    } catch (err) {
      return this.safeDefault(zone, `${note}; fallback failed: ${describeError(err, this.redact, 80)}`, telemetry);
    }
    let setpoint: Setpoint;
    try {
      setpoint = this.applyClamp(options.clamp, proposed, telemetry);
    } catch (err) {
      if (isSafeSetpoint(proposed) && proposed.source !== 'ai') setpoint = { ...proposed };
      else return this.safeDefault(zone, `${note}; clamp failed: ${describeError(err, this.redact, 80)}`, telemetry);
    }
    if (setpoint.source === 'ai') setpoint.source = 'rules';
    setpoint.reason = setpoint.reason ? `${setpoint.reason}; ${note}` : note;
    return setpoint;
  }

  private safeDefault(zone: string | undefined, reason: string, telemetry: AiTelemetry): Setpoint {
    this.log.error('AI fallback produced no setpoint; using the safe default', { fallbackReason: telemetry.fallbackReason });
    return { zone: zone ?? 'unknown', intensity: SAFE_INTENSITY_PCT, cct: SAFE_KELVIN, reason: `safe default; ${reason}`, source: 'rules' };
  }

  /** Telemetry of a decision that has not done anything yet. */
  private newTelemetry(): AiTelemetry {
    return {
      latencyMs: 0,
      payloadBytes: 0,
      requestBytes: 0,
      windowsSent: 0,
      trimmed: [],
      model: this.config.model,
      attempts: 0,
      clampsFired: [],
      circuit: this.breaker.state,
    };
  }

  /** Only if run() itself throws (a bug): still a safe setpoint, never a rejection. */
  private lastResort<W>(windows: readonly W[], options: DecideOptions<W>, err: unknown): AiDecision {
    const telemetry = this.newTelemetry();
    let setpoint: Setpoint;
    try {
      setpoint = this.fallback(
        windows,
        options,
        { ok: false, code: 'internal', detail: describeError(err, this.redact) },
        telemetry,
        newestZone(windows),
      );
    } catch {
      setpoint = this.safeDefault(newestZone(windows), 'AI not used: internal', telemetry);
    }
    return { setpoint, telemetry };
  }
}

function strip(f: Failure & { retryable: boolean; retryAfterMs?: number }): Failure {
  return { ok: false, code: f.code, detail: f.detail };
}

/** A setpoint that can go to the lights as it is: zone, intensity 0-100, cct in the accepted kelvin range, a known source. */
function isSafeSetpoint(v: unknown): v is Setpoint {
  if (!isPlainObject(v)) return false;
  const i = read(v, 'intensity');
  const k = read(v, 'cct');
  const z = read(v, 'zone');
  const s = read(v, 'source');
  return (
    typeof z === 'string' &&
    z !== '' &&
    typeof i === 'number' &&
    Number.isFinite(i) &&
    i >= 0 &&
    i <= 100 &&
    typeof k === 'number' &&
    Number.isFinite(k) &&
    k >= ACCEPTED_KELVIN_MIN &&
    k <= ACCEPTED_KELVIN_MAX &&
    typeof s === 'string' &&
    isSetpointSource(s) &&
    typeof read(v, 'reason') === 'string'
  );
}

/** Zone of the newest window (by windowEnd, else windowStart; later in the array wins ties). */
function newestZone(windows: unknown): string | undefined {
  if (!Array.isArray(windows)) return undefined;
  let best: { t: number; zone: string | undefined } | undefined;
  for (const w of windows) {
    if (!isPlainObject(w)) continue;
    const end = read(w, 'windowEnd');
    const start = read(w, 'windowStart');
    const t =
      typeof end === 'number' && Number.isFinite(end) ? end : typeof start === 'number' && Number.isFinite(start) ? start : -Infinity;
    const z = read(w, 'zone');
    if (!best || t >= best.t) best = { t, zone: typeof z === 'string' ? z : undefined };
  }
  return best?.zone;
}
