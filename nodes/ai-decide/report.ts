/**
 * ai-decide's output side: the telemetry record of a decision (output 2,
 * shaped so a lighting-store can keep it as a telemetry row) and the circuit
 * alerts.
 */
import type { AiDecision, CircuitChange } from '../../lib/ai';
import { AI_CALL_TELEMETRY_KIND, type AiCallTelemetry, type AiCircuitEvent, type AiCircuitEventKind } from '../../lib/contracts';

/** Telemetry of one decision; `ts` is when it started. */
export function telemetryOf(d: AiDecision, ts: number, zone: string, msgId: string | undefined): AiCallTelemetry {
  const tm = d.telemetry;
  const out: AiCallTelemetry = {
    ts,
    kind: AI_CALL_TELEMETRY_KIND,
    zone,
    model: tm.model,
    outcome: tm.fallbackReason === undefined ? 'ai' : 'fallback',
    latencyMs: tm.latencyMs,
    payloadBytes: tm.payloadBytes,
    requestBytes: tm.requestBytes,
    windowsSent: tm.windowsSent,
    trimmed: [...tm.trimmed],
    attempts: tm.attempts,
    clampsFired: [...tm.clampsFired],
    circuit: tm.circuit,
  };
  if (tm.fallbackReason !== undefined) {
    out.fallbackReason = tm.fallbackReason;
    if (tm.fallbackDetail !== undefined) out.fallbackDetail = tm.fallbackDetail;
  }
  if (tm.promptTokens !== undefined) out.promptTokens = tm.promptTokens;
  if (tm.completionTokens !== undefined) out.completionTokens = tm.completionTokens;
  if (msgId !== undefined) out.msgId = msgId;
  return out;
}

/** ai-decide's circuit event (lib/contracts/alerts AiCircuitEvent; lighting-alerts raises or resolves aiCircuitOpen from it). */
export function circuitAlert(kind: AiCircuitEventKind, c: CircuitChange, model: string): { topic: 'alert'; payload: AiCircuitEvent } {
  const payload: AiCircuitEvent = { ts: Date.now(), kind, model, consecutiveFailures: c.consecutiveFailures };
  if (c.reason !== undefined) payload.reason = c.reason;
  if (c.openedAt !== undefined) payload.openedAt = c.openedAt;
  if (c.retryAt !== undefined) payload.retryAt = c.retryAt;
  return { topic: 'alert', payload };
}
