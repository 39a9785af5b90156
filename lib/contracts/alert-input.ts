/**
 * What the `lighting-alerts` node reads: a message of another node -> one
 * AlertAction (or AlertInputError). The store applies the action
 * (lib/store/alert-events.ts AlertBook); the texts come from ./alerts.
 *
 * Messages understood (recognised by payload.kind, then topic):
 * - lsd-sensor-in output 2 (SensorStaleEvent): `stale` raises sensorStale,
 *   `recovered` resolves it (the zone's; not when the active one names
 *   another sensor), `manualChange` is ignored.
 * - ai-decide output 2 (AiCircuitEvent): topic `alert` with kind
 *   `aiCircuitOpen` raises aiCircuitOpen, `aiCircuitClosed` resolves it;
 *   topic `telemetry` is ignored.
 * - dali-dt8-out diagnostics (payload.kind `diagnostics`): gear that is
 *   missing, reports a control gear failure or a lamp failure is failing,
 *   gear that answers without either is healthy.
 * - topic `alert` with an Alert {kind, zone?, severity?, message, data?}:
 *   raise; topic `resolve` with {id} or {kind, zone?}: resolve.
 */
import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  aiCircuitOpenAlert,
  DEFAULT_SEVERITY,
  isAlertKind,
  isAlertSeverity,
  sensorStaleAlert,
  type Alert,
  type AlertKind,
  type GearHealth,
} from './alerts';
import { isPlainObject as isRec } from './values';

/** A message the alerts node cannot use (the node answers done(err)). */
export class AlertInputError extends Error {
  override readonly name = 'AlertInputError';
}

/** What a message asks for. */
export type AlertAction =
  | { type: 'ignore'; reason: string }
  | { type: 'raise'; row: Alert }
  /** Resolve the active alert of kind+zone; `match`: data fields that must not name something else. */
  | { type: 'resolve'; kind: AlertKind; zone: string | null; by: string; match?: Record<string, string> }
  | { type: 'resolveId'; id: number; by: string }
  | { type: 'gear'; zone: string | null; report: string; ts?: number; gear: GearHealth[] };

type Rec = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The zone of a payload (a non-empty string), else the default; null = site-wide. */
function zoneOf(p: Rec, fallback: string | null): string | null {
  if (p.zone === undefined || p.zone === null || p.zone === '') return fallback;
  const z = str(p.zone);
  if (z === undefined) throw new AlertInputError(`payload.zone must be a non-empty string, got ${JSON.stringify(p.zone)}`);
  return z;
}

/** How one gear of a diagnostics report is doing. */
export function gearHealth(g: unknown): GearHealth {
  if (!isRec(g) || str(g.address) === undefined) throw new AlertInputError('diagnostics: every payload.gear entry needs an address');
  const address = g.address as string;
  if (g.present === false) return { address, failing: 'missing' };
  const status = isRec(g.status) ? g.status : {};
  if (status.controlGearFailure === true) return { address, failing: 'controlGearFailure' };
  if (g.lampFailure === true || status.lampFailure === true) return { address, failing: 'lampFailure' };
  return { address, failing: null };
}

/**
 * What message `msg` asks for. `defaults.zone` is used when the message has
 * none. Throws AlertInputError for a message that is none of the known ones.
 */
export function interpretAlertMessage(msg: { topic?: unknown; payload?: unknown }, defaults: { zone: string | null }): AlertAction {
  const topic = typeof msg.topic === 'string' ? msg.topic : undefined;
  const p = msg.payload;
  if (!isRec(p))
    throw new AlertInputError(`payload must be an object, got ${p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p}`);
  const kind = p.kind;
  if (topic === 'telemetry') return { type: 'ignore', reason: 'telemetry' };
  switch (kind) {
    case 'manualChange':
      return { type: 'ignore', reason: 'manualChange' };
    case 'stale': {
      const zone = zoneOf(p, defaults.zone);
      const alert = sensorStaleAlert({
        zone,
        sensorId: str(p.sensorId) ?? null,
        silentS: num(p.silentS) ?? null,
        lastSeen: num(p.lastSeen) ?? null,
      });
      return { type: 'raise', row: withTs(alert, p) };
    }
    case 'recovered': {
      const sensorId = str(p.sensorId);
      return {
        type: 'resolve',
        kind: 'sensorStale',
        zone: zoneOf(p, defaults.zone),
        by: 'recovered',
        ...(sensorId ? { match: { sensorId } } : {}),
      };
    }
    case 'aiCircuitClosed':
      return { type: 'resolve', kind: 'aiCircuitOpen', zone: zoneOf(p, defaults.zone), by: 'aiCircuitClosed' };
    case 'diagnostics': {
      if (!Array.isArray(p.gear)) throw new AlertInputError('diagnostics: payload.gear must be an array');
      const gear = p.gear.map(gearHealth);
      const ts = tsOf(p);
      return { type: 'gear', zone: zoneOf(p, defaults.zone), report: str(p.address) ?? '?', ...(ts !== undefined ? { ts } : {}), gear };
    }
    default:
      break;
  }
  if (topic === 'alert') {
    // ai-decide's circuit alert has no message of its own.
    if (kind === 'aiCircuitOpen' && p.message === undefined) {
      const zone = zoneOf(p, defaults.zone);
      const alert = aiCircuitOpenAlert({
        zone,
        model: str(p.model) ?? null,
        reason: str(p.reason) ?? null,
        retryAt: num(p.retryAt) ?? null,
        consecutiveFailures: num(p.consecutiveFailures) ?? null,
        openedAt: num(p.openedAt) ?? null,
      });
      return { type: 'raise', row: withTs(alert, p) };
    }
    return genericRaise(p, defaults.zone);
  }
  if (topic === 'resolve') return genericResolve(p, defaults.zone);
  throw new AlertInputError(
    `not an alert input: expected payload.kind stale, recovered, manualChange, aiCircuitOpen, aiCircuitClosed or diagnostics, or topic alert / resolve (got topic ${JSON.stringify(topic ?? null)}, kind ${JSON.stringify(kind ?? null)})`,
  );
}

function tsOf(p: Rec): number | undefined {
  const ts = num(p.ts);
  return ts !== undefined && ts >= 0 ? Math.floor(ts) : undefined;
}

/** `row` with the payload's ts, when it has one. */
function withTs(row: Alert, p: Rec): Alert {
  const ts = tsOf(p);
  if (ts !== undefined) row.ts = ts;
  return row;
}

function genericRaise(p: Rec, fallbackZone: string | null): AlertAction {
  if (!isAlertKind(p.kind))
    throw new AlertInputError(`alert: payload.kind must be one of ${ALERT_KINDS.join(', ')}, got ${JSON.stringify(p.kind ?? null)}`);
  if (p.severity !== undefined && !isAlertSeverity(p.severity)) {
    throw new AlertInputError(`alert: payload.severity must be one of ${ALERT_SEVERITIES.join(', ')}, got ${JSON.stringify(p.severity)}`);
  }
  const message = str(p.message);
  if (message === undefined) throw new AlertInputError('alert: payload.message must be a non-empty string');
  const row = withTs({ zone: zoneOf(p, fallbackZone), kind: p.kind, severity: p.severity ?? DEFAULT_SEVERITY[p.kind], message }, p);
  if (p.data !== undefined) row.data = p.data;
  return { type: 'raise', row };
}

function genericResolve(p: Rec, fallbackZone: string | null): AlertAction {
  const by = p.by === undefined ? 'manual' : str(p.by);
  if (by === undefined || by.length > 200)
    throw new AlertInputError('resolve: payload.by must be a non-empty string of at most 200 characters');
  if (p.id !== undefined) {
    if (typeof p.id !== 'number' || !Number.isSafeInteger(p.id) || p.id < 1)
      throw new AlertInputError(`resolve: payload.id must be a positive integer, got ${JSON.stringify(p.id)}`);
    return { type: 'resolveId', id: p.id, by };
  }
  if (!isAlertKind(p.kind))
    throw new AlertInputError(`resolve: needs payload.id, or payload.kind (one of ${ALERT_KINDS.join(', ')}) and zone`);
  return { type: 'resolve', kind: p.kind, zone: zoneOf(p, fallbackZone), by };
}
