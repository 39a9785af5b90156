/**
 * Seeded override history for the learning tests (unit, node, e2e): whole
 * days of feature windows, automatic decisions and manual overrides of one
 * zone, as History (in memory) or written into a real LightingStore.
 * Times are UTC (mine with LocalClock('UTC')).
 */
import type { LightingStore } from '../../lib/store';
import type { History } from '../../lib/learning/types';
import { mulberry32, randInt } from './prng';

const DAY = 86_400_000;
const MIN = 60_000;
/** Monday 2026-11-02 00:00 UTC. */
export const SEED_MONDAY = Date.UTC(2026, 10, 2);

export interface SeedOptions {
  zone: string;
  /** First day (UTC midnight). */
  start?: number;
  /** Calendar days (weekends have no occupancy). */
  days: number;
  /**
   * 'slot': on `hitDays` of the weekdays people set 38-44 % (slotIntensity) 3000 K around 14:05;
   * 'random': overrides at random times with random values (seeded), `perDay` a day;
   * 'quick-off': the light is switched off 2 min after people leave at 17:00;
   * 'dark': people turn the light up at 10:00 when the lux is about 320.
   */
  pattern: 'slot' | 'random' | 'quick-off' | 'dark';
  /** Weekdays (from the first) with the pattern; default all. */
  hitDays?: number;
  perDay?: number;
  seed?: number;
  /** Days with occupancy and overrides: Monday-Friday (default) or Saturday-Sunday. */
  dayType?: 'weekdays' | 'weekend';
  /** 'slot': minute of day of the overrides (default 14:05); they land within 10 min after it. */
  slotMinute?: number;
  /** 'slot': lowest output people set (default 38); they set it to 6 % points more. */
  slotIntensity?: number;
}

/** The history of a seed, ids numbered per table from 1. */
export function seedHistory(o: SeedOptions): History {
  const rng = mulberry32(o.seed ?? 1);
  const start = o.start ?? SEED_MONDAY;
  const h: History = { overrides: [], decisions: [], windows: [] };
  let wid = 0;
  let did = 0;
  let oid = 0;
  let weekdayIndex = 0;
  for (let d = 0; d < o.days; d++) {
    const day = start + d * DAY;
    const weekday = new Date(day).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    if (weekend !== (o.dayType === 'weekend')) continue;
    const hit = weekdayIndex < (o.hitDays ?? Infinity);
    // Windows 08:00-18:00, occupied 09:00-17:00; lux 520, or about 320 before and 420 after the override on 'dark' days
    // (a cloud at another time each day: 09:30 + 97 min a day, wrapping within 09:30-16:30).
    const darkAt = 9 * 60 + 30 + ((weekdayIndex * 97) % 420);
    for (let m = 8 * 60; m < 18 * 60; m += 5) {
      const occupied = m >= 9 * 60 && m < 17 * 60;
      let lux = 520;
      if (o.pattern === 'dark' && hit && m >= darkAt - 10 && m < darkAt) lux = 310 + randInt(rng, 0, 20);
      if (o.pattern === 'dark' && hit && m >= darkAt && m < darkAt + 30) lux = 410 + randInt(rng, 0, 20);
      h.windows.push({
        id: ++wid,
        zone: o.zone,
        windowStart: day + m * MIN,
        windowEnd: day + (m + 5) * MIN,
        luxMean: lux,
        presenceRatio: occupied ? 1 : 0,
      });
    }
    // Automatic decisions every 30 min while occupied.
    for (let m = 9 * 60; m < 17 * 60; m += 30)
      h.decisions.push({ id: ++did, zone: o.zone, ts: day + m * MIN, intensity: 70, cct: 5000, applied: true });
    const manual = (ts: number, intensity: number, cct: number | null): void => {
      h.overrides.push({ table: 'manual_overrides', id: ++oid, zone: o.zone, ts, intensity, cct });
    };
    weekdayIndex += 1;
    if (!hit) continue;
    if (o.pattern === 'slot')
      manual(
        day + ((o.slotMinute ?? 14 * 60 + 5) + randInt(rng, 0, 10)) * MIN,
        (o.slotIntensity ?? 38) + randInt(rng, 0, 6),
        3000 + randInt(rng, -100, 100),
      );
    else if (o.pattern === 'dark') manual(day + (darkAt + 1) * MIN, 82 + randInt(rng, 0, 15), 5000);
    else if (o.pattern === 'quick-off') manual(day + (17 * 60 + 2) * MIN, 0, null);
    else {
      for (let i = 0; i < (o.perDay ?? 2); i++) {
        manual(day + randInt(rng, 9 * 60, 17 * 60 - 1) * MIN + randInt(rng, 0, 59_000), randInt(rng, 0, 100), randInt(rng, 1800, 6500));
      }
    }
  }
  h.overrides.sort((a, b) => a.ts - b.ts);
  return h;
}

/** Writes a seeded history into the store (windows, decisions, overrides with a manual decision each). */
export async function writeHistory(store: LightingStore, h: History): Promise<void> {
  const acks: Array<Promise<unknown>> = [];
  for (const w of h.windows) {
    const start = new Date(w.windowStart);
    acks.push(
      store.insert('feature_windows', {
        zone: w.zone,
        windowStart: w.windowStart,
        windowEnd: w.windowEnd,
        count: 5,
        lux: { mean: w.luxMean ?? 0, min: w.luxMean ?? 0, max: w.luxMean ?? 0, std: 0, last: w.luxMean ?? 0 },
        presence: { ratio: w.presenceRatio ?? 0, transitions: 0, last: (w.presenceRatio ?? 0) > 0, lastTs: null },
        minuteOfDay: start.getUTCHours() * 60 + start.getUTCMinutes(),
        weekday: start.getUTCDay(),
      }),
    );
  }
  for (const d of h.decisions)
    acks.push(
      store.insert('decisions', {
        ts: d.ts,
        zone: d.zone,
        source: 'rules',
        intensity: d.intensity,
        cct: d.cct,
        reason: 'seed',
        applied: d.applied,
      }),
    );
  for (const o of h.overrides) {
    const setpoint = { zone: o.zone, intensity: o.intensity, cct: o.cct ?? 4000, reason: 'manual', source: 'manual' };
    acks.push(store.insert('manual_overrides', { zone: o.zone, startedAt: o.ts, expiresAt: o.ts + 30 * MIN, source: 'api', setpoint }));
    acks.push(
      store.insert('decisions', {
        ts: o.ts,
        zone: o.zone,
        source: 'manual',
        intensity: o.intensity,
        cct: o.cct ?? 4000,
        reason: 'manual',
        applied: true,
      }),
    );
  }
  await Promise.all(acks);
  await store.flush();
}
