/**
 * The one tool the model may call: `set_lighting`. Strict function calling
 * (`strict: true`, every property required, no additional properties), forced
 * with `tool_choice`. The model's arguments are validated again here with ajv
 * (compiled once, at module load): strict mode constrains what the model
 * generates, but a proxy, an OpenAI-compatible server or a model without
 * strict support may still send anything.
 *
 * Wire schema vs validation schema: OpenAI's strict mode accepts only a subset
 * of JSON Schema (numbers: minimum/maximum; strings: pattern/format). The
 * reason's length limit is therefore stated in the description on the wire and
 * enforced locally (`maxLength` in the validation schema only), so the request
 * is never refused for an unsupported keyword.
 */
import { COMMAND_KELVIN_MAX, COMMAND_KELVIN_MIN } from '../contracts';
import Ajv from 'ajv';

export const SET_LIGHTING_TOOL_NAME = 'set_lighting';
/** Output range of the tool, percent. */
export const INTENSITY_MIN_PCT = 0;
export const INTENSITY_MAX_PCT = 100;
/** Longest reason accepted, characters. */
export const REASON_MAX_LENGTH = 200;

/** Arguments of a valid `set_lighting` call. */
export interface SetLightingArgs {
  /** Light output, percent 0-100. */
  intensity: number;
  /** Correlated colour temperature, whole kelvin 1800-6500. */
  cct: number;
  /** Short explanation, at most REASON_MAX_LENGTH characters. */
  reason: string;
  /** Model's confidence, 0-1. */
  confidence: number;
}

/** JSON Schema of the arguments as sent to the API (strict-mode subset). */
export const SET_LIGHTING_PARAMETERS = Object.freeze({
  type: 'object',
  properties: {
    intensity: {
      type: 'number',
      minimum: INTENSITY_MIN_PCT,
      maximum: INTENSITY_MAX_PCT,
      description: 'Light output in percent of full output (0-100).',
    },
    cct: {
      type: 'integer',
      minimum: COMMAND_KELVIN_MIN,
      maximum: COMMAND_KELVIN_MAX,
      description: `Correlated colour temperature in whole kelvin (${COMMAND_KELVIN_MIN}-${COMMAND_KELVIN_MAX}).`,
    },
    reason: {
      type: 'string',
      description: `Why, in one short sentence (at most ${REASON_MAX_LENGTH} characters).`,
    },
    confidence: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Confidence in this setpoint, 0-1.',
    },
  },
  required: ['intensity', 'cct', 'reason', 'confidence'],
  additionalProperties: false,
});

/** The tool definition for `tools: [...]` (shape of openai's ChatCompletionFunctionTool). */
export const SET_LIGHTING_TOOL = Object.freeze({
  type: 'function' as const,
  function: Object.freeze({
    name: SET_LIGHTING_TOOL_NAME,
    description: 'Set the light output and colour temperature of the zone. Safety and accessibility clamps are applied afterwards.',
    strict: true,
    parameters: SET_LIGHTING_PARAMETERS as unknown as Record<string, unknown>,
  }),
});

/** Forces the model to call set_lighting (shape of openai's ChatCompletionNamedToolChoice). */
export const SET_LIGHTING_TOOL_CHOICE = Object.freeze({
  type: 'function' as const,
  function: Object.freeze({ name: SET_LIGHTING_TOOL_NAME }),
});

/** Validation schema: the wire schema plus what strict mode cannot express. */
const VALIDATION_SCHEMA = {
  ...SET_LIGHTING_PARAMETERS,
  properties: {
    ...SET_LIGHTING_PARAMETERS.properties,
    reason: { ...SET_LIGHTING_PARAMETERS.properties.reason, maxLength: REASON_MAX_LENGTH },
  },
};

const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: true });
const validateArgs = ajv.compile<SetLightingArgs>(VALIDATION_SCHEMA);

export type ToolArgumentsResult =
  | { ok: true; args: SetLightingArgs }
  | { ok: false; code: 'invalid-json' | 'invalid-arguments'; detail: string };

/**
 * Parse and validate the `arguments` string of a set_lighting tool call.
 * Never throws. The detail names the failing field, never echoes the text.
 */
export function parseSetLightingArguments(raw: unknown): ToolArgumentsResult {
  if (typeof raw !== 'string') {
    return { ok: false, code: 'invalid-json', detail: `arguments must be a JSON string, got ${raw === null ? 'null' : typeof raw}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'invalid-json', detail: `arguments are not valid JSON (${raw.length} characters)` };
  }
  let valid: boolean;
  try {
    valid = validateArgs(value);
  } catch {
    valid = false;
  }
  if (!valid) {
    const e = validateArgs.errors?.[0];
    const where = e ? e.instancePath || '/' : '/';
    const what = e ? `${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ' (extra property)' : ''}` : 'is invalid';
    return { ok: false, code: 'invalid-arguments', detail: `arguments ${where} ${what}` };
  }
  const args = value as SetLightingArgs;
  // Belt and braces: ajv's strictNumbers already rejects NaN/Infinity.
  if (![args.intensity, args.cct, args.confidence].every(Number.isFinite)) {
    return { ok: false, code: 'invalid-arguments', detail: 'arguments hold a non-finite number' };
  }
  return { ok: true, args: { intensity: args.intensity, cct: args.cct, reason: args.reason, confidence: args.confidence } };
}
