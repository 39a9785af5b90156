/**
 * The setpoint: out of `ai-decide`, `rules-fallback` and manual control
 * (HTTP, MQTT), through `override-gate`, into `dali-dt8-out`. Two validators
 * read it, each with its own error type: the control layer's strict
 * `validateSetpoint` (lib/control/types.ts) and the DALI output's
 * (lib/dali/dt8-output.ts, whose error codes name catalogue messages); both
 * use the limits in ./limits.
 */

export const SETPOINT_SOURCES = ['ai', 'rules', 'manual', 'schedule'] as const;
/** Who decided a setpoint. */
export type SetpointSource = (typeof SETPOINT_SOURCES)[number];

export interface Setpoint {
  zone: string;
  /** Light output, percent 0..100. */
  intensity: number;
  /** Correlated colour temperature, kelvin. */
  cct: number;
  reason: string;
  source: SetpointSource;
  fadeMs?: number;
  overrideMinutes?: number;
  /** 0..1. */
  confidence?: number;
}

export function isSetpointSource(v: unknown): v is SetpointSource {
  return typeof v === 'string' && (SETPOINT_SOURCES as readonly string[]).includes(v);
}
