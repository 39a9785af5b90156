/** AI advisor: capped feature payload, strict set_lighting tool, OpenAI client with fallback and circuit breaker. */
export {
  AiDecider,
  AiConfigError,
  isCircuitFailure,
  retryAfterMs,
  SYSTEM_PROMPT,
  DEFAULT_OPENAI_BASE_URL,
  DEFAULT_MODEL,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_CIRCUIT_FAILURES,
  DEFAULT_CIRCUIT_COOLDOWN_MS,
  SAFE_INTENSITY_PCT,
  SAFE_KELVIN,
} from './decider';
export type {
  AiClamp,
  AiClampResult,
  AiDecision,
  AiDeciderConfig,
  AiDeciderDeps,
  AiTelemetry,
  DecideOptions,
  FallbackReason,
} from './decider';
export { CircuitBreaker } from './circuit';
export type { CircuitChange, CircuitListener, CircuitSnapshot, CircuitState } from './circuit';
export { NULL_LOGGER, makeRedactor, safeLogger } from './log';
export type { AiLogger, Redactor } from './log';
export {
  buildPayload,
  sanitizeHints,
  PayloadCapError,
  DEFAULT_PAYLOAD_CAP_BYTES,
  DEFAULT_PAYLOAD_BATCH_LIMIT,
  MAX_PAYLOAD_BATCH_LIMIT,
  MIN_SAFE_CAP_BYTES,
  ZONE_MAX_CHARS,
  STANDARD_WEATHER_FIELDS,
  TRIM_STEPS,
} from './payload';
export type { AiHints, AiPayload, AiWindow, BuiltPayload, PayloadOptions, TrimStep } from './payload';
export {
  parseSetLightingArguments,
  SET_LIGHTING_TOOL,
  SET_LIGHTING_TOOL_CHOICE,
  SET_LIGHTING_TOOL_NAME,
  SET_LIGHTING_PARAMETERS,
  REASON_MAX_LENGTH,
} from './tool';
export type { SetLightingArgs, ToolArgumentsResult } from './tool';
