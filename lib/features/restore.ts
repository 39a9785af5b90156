/**
 * Restoring a feature engine after a restart, without re-scanning tables:
 * 1. the newest keepWindows complete windows per zone (index lookups per zone)
 *    become the hot path and mark what is already closed;
 * 2. the latest weather per zone;
 * 3. raw events that may belong to windows still open when the process
 *    stopped (ts >= latest raw ts - maxFutureMs - 2 windowMs - graceMs,
 *    bounded by replayMaxMs; an indexed range read) are replayed; windows
 *    already closed for their zone ignore them;
 * 4. advance(now) closes whatever is due: those windows are returned
 *    ("recovered") for the caller to store and send.
 */
import type { FeatureWindowEngine } from './engine';
import type { FeatureWindow } from '../contracts/feature-window';
import type { SensorReading, WeatherUpdate } from '../contracts/readings';

/** What restore needs from the store (LightingStore implements it). */
export interface FeatureStateSource {
  latestFeatureWindowsPerZone(n: number): Promise<FeatureWindow[]>;
  latestWeather(since: number): Promise<WeatherUpdate[]>;
  latestRawTs(): Promise<number | null>;
  rawSensorEvents(q: { since: number; until?: number; includeLate?: boolean }): AsyncIterable<SensorReading>;
}

export interface RestoreOptions {
  /** Never replay raw events older than now - replayMaxMs. Default 86 400 000 (24 h). */
  replayMaxMs?: number;
  /** Only these zones come back (a zone map): windows and events of other zones are left in the store. */
  allowZone?: (zone: string) => boolean;
}

export interface RestoreResult {
  /** Windows loaded into the hot path. */
  restoredWindows: number;
  /** Raw events counted again. */
  replayedReadings: number;
  /** Windows completed from replayed events (closed by advance(now)): store and send them. */
  recovered: FeatureWindow[];
}

export async function restoreEngine(
  engine: FeatureWindowEngine,
  source: FeatureStateSource,
  now: number,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const allow = options.allowZone ?? (() => true);
  const windows = (await source.latestFeatureWindowsPerZone(engine.keepWindows)).filter((w) => allow(w.zone));
  engine.restore(windows);
  for (const w of await source.latestWeather(now - engine.weatherMaxAgeMs)) {
    try {
      engine.setWeather(w);
    } catch {
      // a stored update that no longer validates is skipped
    }
  }
  let replayed = 0;
  const lastTs = await source.latestRawTs();
  if (lastTs !== null) {
    const replayMaxMs = options.replayMaxMs ?? 86_400_000;
    // A window still open at the stop began after (stop - windowMs - graceMs); the stop was at or after
    // (latest ts - maxFutureMs). One more windowMs covers the alignment.
    const since = Math.max(now - replayMaxMs, lastTs - engine.maxFutureMs - 2 * engine.windowMs - engine.graceMs);
    for await (const r of source.rawSensorEvents({ since, until: now + engine.maxFutureMs + 1, includeLate: false })) {
      if (!allow(r.zone)) continue;
      const reading: SensorReading = { sensorId: r.sensorId, zone: r.zone, ts: r.ts, source: r.source };
      if (r.lux !== undefined) reading.lux = r.lux;
      if (r.presence !== undefined) reading.presence = r.presence;
      try {
        if (engine.replay(reading)) replayed += 1;
      } catch {
        // too many zones: skip
      }
    }
  }
  return { restoredWindows: windows.filter((w) => w.partial !== true).length, replayedReadings: replayed, recovered: engine.advance(now) };
}
