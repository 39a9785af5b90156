/**
 * Telemetry events: `ai-decide` output 2, topic `telemetry`, one per
 * decision; `lighting-alerts` / `lighting-store` keep it as a telemetry row
 * of kind "ai" (lib/http/query-ai-telemetry.ts keeps only these fields).
 */

/** payload.kind of ai-decide's telemetry message. */
export const AI_CALL_TELEMETRY_KIND = 'ai-call';

/** Telemetry of one AI decision; `ts` is when it started. Never the API key or profile data. */
export interface AiCallTelemetry {
  ts: number;
  kind: typeof AI_CALL_TELEMETRY_KIND;
  zone: string;
  model: string;
  outcome: 'ai' | 'fallback';
  fallbackReason?: string;
  fallbackDetail?: string;
  latencyMs: number;
  promptTokens?: number;
  completionTokens?: number;
  payloadBytes: number;
  requestBytes: number;
  windowsSent: number;
  trimmed: string[];
  attempts: number;
  clampsFired: string[];
  circuit: string;
  msgId?: string;
}
