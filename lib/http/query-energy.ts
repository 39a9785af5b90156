/**
 * Daily energy of the decisions in the lighting store, read page by page
 * (memory bounded by the page size, however many decisions a day holds).
 *
 * The day is a local calendar day [local midnight, next local midnight):
 * 23 or 25 hours on the days daylight saving time starts or ends (so not
 * dailyEnergySummary's fixed 24 h). For today the period ends now.
 *
 * Decisions are held until the next applied decision of the same zone (as
 * lib/control/energy summarizeEnergy). Pages come newest first; each page's
 * applied decisions of a zone cover [its oldest decision, the start of the
 * newer segment) and are integrated with summarizeEnergy; energy is additive
 * over the segments. The level at the day's start is the zone's last applied
 * decision before it (looked up backwards, a bounded number of pages); when
 * there is none the first decision of the day is back-filled
 * (assumedInitial: true), as summarizeEnergy does.
 */
import { powerW, summarizeEnergy, type FixturePower } from '../control/energy';
import type { DecisionRecord } from '../store/rows';
import type { Page, PageQuery } from '../store/store';

/** The store operation used here (LightingStore implements it). */
export interface DecisionPages {
  decisions(q: PageQuery): Promise<Page<DecisionRecord>>;
}

export interface EnergyDayRequest {
  /** Local calendar day, YYYY-MM-DD. */
  day: string;
  zone?: string;
  /** Decisions of one gateway (Node-RED / DALI bus) only. */
  gateway?: string;
}

export interface EnergyZoneReport {
  zone: string;
  /** Input power of this zone's luminaires at 100 %, W (the zone map's, else the node's setting); null = not set. */
  fixtureWatts: number | null;
  /** Applied decisions of the zone in the period. */
  rows: number;
  /** Wh (null without fixtureWatts). */
  energyWh: number | null;
  baselineWh: number | null;
  savedWh: number | null;
  /** Energy saved against 100 % for the whole period, percent. */
  savedPct: number;
  /** Time-weighted mean output, percent. */
  meanIntensityPct: number;
  /** (100 - meanIntensityPct) / 100. */
  meanSavingEstimate: number;
  /** The level before the zone's first decision of the day was not known and was back-filled. */
  assumedInitial: boolean;
}

export interface EnergyDayReport {
  day: string;
  /** The zone asked for, null = every zone with an applied decision that day. */
  zone: string | null;
  /** Period, epoch ms: local midnight to the next local midnight (or now, for today). */
  from: number;
  to: number;
  hours: number;
  /** false while the day is not over (today). */
  complete: boolean;
  /** Input power at 100 %, W, of a zone the zone map gives none for; null = not set (its Wh fields are null). */
  fixtureWatts: number | null;
  /** Decision rows of the period read (applied or not). */
  decisions: number;
  /** Sums over `zones` (null when a zone has no fixtureWatts, or without zones). */
  energyWh: number | null;
  baselineWh: number | null;
  savedWh: number | null;
  /** Over all zones (of the summed Wh when every zone has a wattage, else the mean of the zones'); null without zones. */
  savedPct: number | null;
  /** Mean of the zones' means; null without zones. */
  meanIntensityPct: number | null;
  zones: EnergyZoneReport[];
}

export interface EnergyDayOptions {
  fixtureWatts: number | null;
  /** A zone's input power at 100 %, W (the zone map's rated watts); null or absent: fixtureWatts. */
  zoneWatts?: (zone: string) => number | null | undefined;
  /** Clock, epoch ms. Default Date.now. */
  now?: number;
  /** Decisions per page. Default 1000. */
  pageRows?: number;
  /** Pages searched backwards for the level at the day's start. Default 10. */
  priorPages?: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The local calendar day of `ms`, YYYY-MM-DD. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** [local midnight, next local midnight) of a YYYY-MM-DD day, or null when it is not a calendar day. */
export function localDayBounds(day: string): { from: number; to: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  const d = Number(m[3]);
  const start = new Date(y, mo, d);
  if (y < 1970 || start.getFullYear() !== y || start.getMonth() !== mo || start.getDate() !== d) return null;
  return { from: start.getTime(), to: new Date(y, mo, d + 1).getTime() };
}

interface ZoneAcc {
  zone: string;
  /** Input power at 100 %, W; null = not set. */
  watts: number | null;
  fixture: FixturePower;
  rows: number;
  energyWh: number;
  /** Integral of output over time, percent x hours. */
  pctHours: number;
  /** Start of the part of the period already integrated (from the end backwards). */
  segStart: number;
  /** Output of the oldest applied decision seen. */
  firstIntensity: number | null;
}

/** The last applied intensity of a zone before `before` (null: none within `pages` pages). */
export async function levelBefore(
  store: DecisionPages,
  zone: string,
  before: number,
  pageRows: number,
  pages: number,
  gateway?: string,
): Promise<number | null> {
  let cursor: string | undefined;
  for (let i = 0; i < pages; i++) {
    const q: PageQuery = { zone, until: before, limit: pageRows };
    if (gateway !== undefined) q.gateway = gateway;
    if (cursor !== undefined) q.cursor = cursor;
    const page = await store.decisions(q);
    const found = page.items.find((d) => d.applied);
    if (found) return found.intensity;
    if (page.nextCursor === null) return null;
    cursor = page.nextCursor;
  }
  return null;
}

/** Energy of one local day from the store's decisions. A future day is refused by the caller. */
export async function energyForDay(store: DecisionPages, req: EnergyDayRequest, options: EnergyDayOptions): Promise<EnergyDayReport> {
  const bounds = localDayBounds(req.day);
  if (bounds === null) throw new RangeError(`day must be a calendar day YYYY-MM-DD, got ${JSON.stringify(req.day)}`);
  const now = options.now ?? Date.now();
  const from = bounds.from;
  const to = Math.max(from, Math.min(bounds.to, now));
  const pageRows = options.pageRows ?? 1000;
  const priorPages = options.priorPages ?? 10;
  const zones = new Map<string, ZoneAcc>();
  const acc = (zone: string): ZoneAcc => {
    let a = zones.get(zone);
    if (a === undefined) {
      const watts = options.zoneWatts?.(zone) ?? options.fixtureWatts;
      a = {
        zone,
        watts,
        fixture: { ratedW: watts ?? 1, standbyW: 0 },
        rows: 0,
        energyWh: 0,
        pctHours: 0,
        segStart: to,
        firstIntensity: null,
      };
      zones.set(zone, a);
    }
    return a;
  };

  let read = 0;
  let cursor: string | undefined;
  if (to > from) {
    do {
      const q: PageQuery & { zone?: string } = { since: from, until: to, limit: pageRows };
      if (req.zone !== undefined) q.zone = req.zone;
      if (req.gateway !== undefined) q.gateway = req.gateway;
      if (cursor !== undefined) q.cursor = cursor;
      const page = await store.decisions(q);
      read += page.items.length;
      const byZone = new Map<string, DecisionRecord[]>();
      for (const d of page.items) {
        if (!d.applied) continue;
        const list = byZone.get(d.zone);
        if (list) list.push(d);
        else byZone.set(d.zone, [d]);
      }
      for (const [zone, newestFirst] of byZone) {
        const a = acc(zone);
        const oldest = newestFirst[newestFirst.length - 1] as DecisionRecord;
        // Oldest first: at equal ts the later (higher id) decision is the one in force.
        const s = summarizeEnergy([...newestFirst].reverse(), { from: oldest.ts, to: a.segStart, fixture: a.fixture });
        a.energyWh += s.energyWh;
        a.pctHours += s.meanIntensityPct * s.hours;
        a.rows += newestFirst.length;
        a.segStart = oldest.ts;
        a.firstIntensity = oldest.intensity;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  if (req.zone !== undefined) acc(req.zone);

  const hours = (to - from) / 3_600_000;
  const out: EnergyZoneReport[] = [];
  for (const a of [...zones.values()].sort((x, y) => (x.zone < y.zone ? -1 : x.zone > y.zone ? 1 : 0))) {
    let assumedInitial = false;
    if (a.segStart > from) {
      let level = await levelBefore(store, a.zone, from, pageRows, priorPages, req.gateway);
      if (level === null) {
        if (a.firstIntensity === null) continue; // nothing known about this zone
        assumedInitial = true;
        level = a.firstIntensity;
      }
      const h = (a.segStart - from) / 3_600_000;
      a.energyWh += powerW(level, a.fixture) * h;
      a.pctHours += level * h;
    }
    const watts = a.watts;
    const baselineWh = powerW(100, a.fixture) * hours;
    const mean = hours > 0 ? a.pctHours / hours : (a.firstIntensity ?? 0);
    out.push({
      zone: a.zone,
      fixtureWatts: watts,
      rows: a.rows,
      energyWh: watts === null ? null : a.energyWh,
      baselineWh: watts === null ? null : baselineWh,
      savedWh: watts === null ? null : baselineWh - a.energyWh,
      savedPct: baselineWh > 0 ? ((baselineWh - a.energyWh) / baselineWh) * 100 : 0,
      meanIntensityPct: mean,
      meanSavingEstimate: (100 - mean) / 100,
      assumedInitial,
    });
  }

  const allWatts = out.length > 0 && out.every((z) => z.fixtureWatts !== null);
  const sum = (f: (z: EnergyZoneReport) => number | null): number | null => (allWatts ? out.reduce((t, z) => t + (f(z) ?? 0), 0) : null);
  const energyWh = sum((z) => z.energyWh);
  const baselineWh = sum((z) => z.baselineWh);
  return {
    day: req.day,
    zone: req.zone ?? null,
    from,
    to,
    hours,
    complete: to >= bounds.to,
    fixtureWatts: options.fixtureWatts,
    decisions: read,
    energyWh,
    baselineWh,
    savedWh: energyWh === null || baselineWh === null ? null : baselineWh - energyWh,
    savedPct:
      out.length === 0
        ? null
        : energyWh !== null && baselineWh !== null && baselineWh > 0
          ? ((baselineWh - energyWh) / baselineWh) * 100
          : out.reduce((t, z) => t + z.savedPct, 0) / out.length,
    meanIntensityPct: out.length === 0 ? null : out.reduce((t, z) => t + z.meanIntensityPct, 0) / out.length,
    zones: out,
  };
}
