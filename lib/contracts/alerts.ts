/**
 * Alerts as typed values. The events that lead to an alert (a sensor gone
 * silent, the AI circuit opening or closing, a diagnostics report, the bus
 * lost) have their shapes here, and each kind of alert is built here from
 * its event by one function, so its text and fields are written once:
 * `lsd-sensor-in` and `ai-decide` send the events, `lighting-alerts` reads
 * them (./alert-input.ts) and the store keeps the built Alert as it is.
 */

/** Kinds and severities of alerts (the store validates rows against the same lists). */
export const ALERT_KINDS = ['lampFailure', 'sensorStale', 'busDisconnected', 'aiCircuitOpen', 'storage', 'other'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Longest alert message, characters. */
export const MAX_ALERT_MESSAGE = 1000;

/** Severity of an alert raised without one. */
export const DEFAULT_SEVERITY: Record<AlertKind, AlertSeverity> = {
  lampFailure: 'critical',
  sensorStale: 'warning',
  busDisconnected: 'critical',
  aiCircuitOpen: 'warning',
  storage: 'critical',
  other: 'warning',
};

export function isAlertKind(v: unknown): v is AlertKind {
  return typeof v === 'string' && (ALERT_KINDS as readonly string[]).includes(v);
}

export function isAlertSeverity(v: unknown): v is AlertSeverity {
  return typeof v === 'string' && (ALERT_SEVERITIES as readonly string[]).includes(v);
}

/** An alert to raise (a row of alerts before the store gives it an id). */
export interface Alert {
  /** Epoch ms; default now. */
  ts?: number;
  /** null/absent = site-wide. */
  zone?: string | null;
  kind: AlertKind;
  /** Default DEFAULT_SEVERITY of the kind ("warning" in the store). */
  severity?: AlertSeverity;
  /** Human-readable, at most MAX_ALERT_MESSAGE characters. */
  message: string;
  /** The alert's fields (gear address, last reading time...), stored as JSON. */
  data?: unknown;
}

const inZone = (zone: string | null): string => (zone === null ? '' : ` in zone ${zone}`);
const iso = (ms: number | null): string => (ms === null ? '?' : new Date(ms).toISOString());

// ------------------------------------------------------------ sensor ----

/** `lsd-sensor-in` output 2: the sensor sent nothing for staleAfterS (`stale`), or sent again (`recovered`). */
export interface SensorStaleEvent {
  readonly kind: 'stale' | 'recovered';
  readonly sensorId: string;
  readonly zone: string;
  readonly ts: number;
  readonly silentS: number;
  readonly lastSeen?: number | null;
}

/** The sensorStale alert of a silent sensor. */
export function sensorStaleAlert(e: {
  zone: string | null;
  sensorId: string | null;
  silentS: number | null;
  lastSeen: number | null;
  ts?: number;
}): Alert {
  const message = `Sensor ${e.sensorId ?? '?'}${inZone(e.zone)} sent nothing for ${e.silentS === null ? '?' : Math.round(e.silentS)} s`;
  const alert: Alert = {
    zone: e.zone,
    kind: 'sensorStale',
    severity: 'warning',
    message,
    data: { sensorId: e.sensorId, lastSeen: e.lastSeen, silentS: e.silentS },
  };
  if (e.ts !== undefined) alert.ts = e.ts;
  return alert;
}

// ------------------------------------------------------------ AI circuit ----

export type AiCircuitEventKind = 'aiCircuitOpen' | 'aiCircuitClosed';

/** `ai-decide` output 2, topic `alert`: its circuit breaker opened or closed again. */
export interface AiCircuitEvent {
  ts: number;
  kind: AiCircuitEventKind;
  model: string;
  /** Failure code that opened the circuit (aiCircuitOpen). */
  reason?: string;
  consecutiveFailures: number;
  /** Epoch ms the circuit opened, and the first probe is allowed (aiCircuitOpen). */
  openedAt?: number;
  retryAt?: number;
}

/** The aiCircuitOpen alert. */
export function aiCircuitOpenAlert(e: {
  zone: string | null;
  model: string | null;
  reason: string | null;
  retryAt: number | null;
  consecutiveFailures: number | null;
  openedAt: number | null;
  ts?: number;
}): Alert {
  const data = { model: e.model, reason: e.reason, retryAt: e.retryAt, consecutiveFailures: e.consecutiveFailures, openedAt: e.openedAt };
  const message = `AI circuit open (${e.model ?? '?'}): ${e.reason ?? 'failures'}; rules decide until ${iso(e.retryAt)}`;
  const alert: Alert = { zone: e.zone, kind: 'aiCircuitOpen', severity: 'warning', message, data };
  if (e.ts !== undefined) alert.ts = e.ts;
  return alert;
}

// ------------------------------------------------------------ gear ----

export type GearFailure = 'missing' | 'controlGearFailure' | 'lampFailure';

/** One gear of a diagnostics report: failing (with why) or healthy (null). */
export interface GearHealth {
  address: string;
  failing: GearFailure | null;
}

const REASON_TEXT: Record<GearFailure, string> = {
  missing: 'missing',
  controlGearFailure: 'control gear failure',
  lampFailure: 'lamp failure',
};

/** Short addresses in bus order (A2 before A10). */
function byAddress(a: string, b: string): number {
  const na = Number(a.replace(/^\D+/, ''));
  const nb = Number(b.replace(/^\D+/, ''));
  return Number.isFinite(na) && Number.isFinite(nb) && na !== nb ? na - nb : a.localeCompare(b);
}

/**
 * The lampFailure alert for a set of failing gear: one alert per zone lists
 * every failing gear of the zone in `data.gear` ([{address, reason}], sorted).
 */
export function lampFailureRow(zone: string | null, failing: Map<string, GearFailure>, report: string, ts?: number): Alert {
  const gear = [...failing.entries()].sort((x, y) => byAddress(x[0], y[0])).map(([address, reason]) => ({ address, reason }));
  const list = gear.map((g) => `${g.address} (${REASON_TEXT[g.reason]})`).join(', ');
  const alert: Alert = {
    zone,
    kind: 'lampFailure',
    severity: 'critical',
    message: `Lamp failure${inZone(zone)}: ${list}`.slice(0, MAX_ALERT_MESSAGE),
    data: { address: gear[0]?.address ?? null, addresses: gear.map((g) => g.address), gear, report },
  };
  if (ts !== undefined) alert.ts = ts;
  return alert;
}

/** The failing gear a lampFailure alert lists (its data.gear). */
export function failingGearOf(alert: { data?: unknown } | null): Map<string, GearFailure> {
  const out = new Map<string, GearFailure>();
  const data = alert?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return out;
  const list = (data as Record<string, unknown>).gear;
  if (!Array.isArray(list)) return out;
  for (const g of list) {
    if (typeof g !== 'object' || g === null) continue;
    const { address, reason } = g as Record<string, unknown>;
    if (typeof address === 'string' && (reason === 'missing' || reason === 'controlGearFailure' || reason === 'lampFailure'))
      out.set(address, reason);
  }
  return out;
}

// ------------------------------------------------------------ bus ----

/** The busDisconnected alert of a DALI bus. */
export function busDisconnectedRow(
  zone: string | null,
  bus: { id: string; name: string },
  status: { kind: string; detail?: string },
  delayS: number,
): Alert {
  const detail = status.detail ? ` (${status.detail})` : '';
  return {
    zone,
    kind: 'busDisconnected',
    severity: 'critical',
    message: `DALI bus ${bus.name} not connected for ${delayS} s: ${status.kind}${detail}`.slice(0, MAX_ALERT_MESSAGE),
    data: { bus: bus.id, busName: bus.name, status: status.kind, detail: status.detail ?? null, delayS },
  };
}
