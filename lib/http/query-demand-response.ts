/**
 * Demand response events in the lighting store: each start or end is a
 * telemetry row of kind `demand_response` (`data`: {action, level,
 * reductionPct, until, source}), listed by GET /telemetry?kind=demand_response
 * and summed up in the energy answer (`demandResponse`: events and shed
 * minutes of the period).
 *
 *   const row = demandResponseRow(msg.payload, Date.now());   // ControlInputError for a bad request
 *   await store.insert('telemetry', row);
 *   report.demandResponse = await demandResponseSummary(store, from, to, gateway);
 */
import { DEFAULT_SHED_PCT, isDemandResponseEnd, MAX_EVENT_MINUTES, parseDemandResponse, shedMinutes } from '../control/demand-response';
import type { TelemetryRecord, TelemetryRow } from '../store/rows';
import type { Page, PageQuery } from '../store/store';

export const DEMAND_RESPONSE_KIND = 'demand_response';

/** The store operation used here (LightingStore implements it). */
export interface TelemetryPages {
  telemetry(q: PageQuery & { kind?: string }): Promise<Page<TelemetryRecord>>;
}

/**
 * The telemetry row of a demand response message (its start, or its end).
 * `level` is kept as asked ("shed" or a number); `reductionPct` is the
 * share when the level names it (null for "shed": the deciders' setting).
 * @throws ControlInputError for a payload the deciders would refuse too.
 */
export function demandResponseRow(payload: unknown, now: number): TelemetryRow {
  const r = parseDemandResponse(payload, now, DEFAULT_SHED_PCT);
  if (isDemandResponseEnd(r)) return { ts: now, zone: null, kind: DEMAND_RESPONSE_KIND, data: { action: 'end', source: r.source } };
  const level = (payload as Record<string, unknown>).level;
  const named = typeof level === 'number' || (typeof level === 'string' && level.trim() !== '' && Number.isFinite(Number(level)));
  return {
    ts: now,
    zone: null,
    kind: DEMAND_RESPONSE_KIND,
    data: {
      action: 'start',
      level: named ? r.reductionPct : 'shed',
      reductionPct: named ? r.reductionPct : null,
      until: r.until,
      source: r.source,
    },
  };
}

export interface DemandResponseEventSummary {
  startedAt: number;
  until: number;
  /** When it was ended early (level 0, or a new event replaced it), else null. */
  endedAt: number | null;
  level: number | 'shed';
  source: string;
}

export interface DemandResponseSummary {
  /** Events that overlap the period, oldest first. */
  events: DemandResponseEventSummary[];
  /** Minutes of the period under an event. */
  shedMinutes: number;
}

/** Rows read back at most (a day holds a handful of events). */
const MAX_ROWS = 1000;

/** The events overlapping [from, to) and their shed minutes, from the stored rows (`to`: the period's end, now for today). */
export async function demandResponseSummary(
  store: TelemetryPages,
  from: number,
  to: number,
  gateway?: string,
): Promise<DemandResponseSummary> {
  // An event can have started up to its longest duration before the period.
  const since = from - MAX_EVENT_MINUTES * 60_000;
  const page = await store.telemetry({
    kind: DEMAND_RESPONSE_KIND,
    since,
    until: to,
    limit: MAX_ROWS,
    ...(gateway !== undefined ? { gateway } : {}),
  });
  const rows = [...page.items].sort((a, b) => a.ts - b.ts || a.id - b.id);
  const all: DemandResponseEventSummary[] = [];
  let open: DemandResponseEventSummary | null = null;
  for (const row of rows) {
    const d = (row.data ?? {}) as Record<string, unknown>;
    if (open !== null && open.endedAt === null && row.ts < open.until) open.endedAt = row.ts;
    if (d.action === 'start' && typeof d.until === 'number') {
      open = {
        startedAt: row.ts,
        until: d.until,
        endedAt: null,
        level: typeof d.level === 'number' ? d.level : 'shed',
        source: typeof d.source === 'string' ? d.source : 'message',
      };
      all.push(open);
    } else open = null;
  }
  const events = all.filter((e) => e.startedAt < to && Math.min(e.until, e.endedAt ?? Infinity) > from);
  return { events, shedMinutes: shedMinutes(events, from, to) };
}
