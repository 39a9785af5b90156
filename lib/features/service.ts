/**
 * FeatureWindowService: a feature engine wired to a lighting store and a
 * clock, so the `feature-window` node only maps messages:
 *
 *   const svc = new FeatureWindowService({ windowMs, graceMs, keepWindows, store,
 *     onWindow: (w) => node.send({ topic: w.zone, payload: w }), onError: (e) => node.error(e) });
 *   await svc.start();                      // restore + replay, then a timer closes windows
 *   input:  await svc.ingest(msg.payload, { waitForCommit })   // throws ReadingValidationError: done(err), nothing stored
 *           await svc.ingestWeatherWithAck(msg.payload, { waitForCommit })   (topic "weather")
 *           await svc.aggregateNow()               (topic "aggregate")
 *   close:  await svc.stop()
 *
 * Every window the service produces (closed on time, recovered at start, or
 * a snapshot from aggregateNow) is written to feature_windows and passed to
 * onWindow exactly once.
 */
import { FeatureWindowEngine, type FeatureEngineOptions, type IngestResult } from './engine';
import { restoreEngine, type FeatureStateSource, type RestoreOptions, type RestoreResult } from './restore';
import type { FeatureWindow } from '../contracts/feature-window';
import type { WeatherUpdate } from '../contracts/readings';
import type { InsertAck, InsertOptions } from '../store/store';
import { CheckedRawEvent, type RowTypes } from '../store/rows';
import type { TableName } from '../store/schema';

/** The store operations the service uses (LightingStore implements them). */
export interface FeatureStore extends FeatureStateSource {
  insert<T extends TableName>(table: T, row: RowTypes[T], options?: InsertOptions): Promise<InsertAck>;
  /** Why writes are refused now (file deleted, read-only), else null: the reading is then neither counted nor stored. */
  writeRefusal?(): Error | null;
}

export interface FeatureWindowServiceOptions extends FeatureEngineOptions, RestoreOptions {
  /** Where readings and windows are kept; null = memory only. */
  store: FeatureStore | null;
  /** How often due windows are closed, ms. Default 1000. */
  tickMs?: number;
  /** Clock, epoch ms. Default Date.now. */
  clock?: () => number;
  /** ingest() resolves only after the raw event committed. Default false (resolves when queued). */
  waitForCommit?: boolean;
  onWindow?: (window: FeatureWindow) => void;
  /** Background failures (storing a window). Never thrown. */
  onError?: (err: Error) => void;
}

/** ingest()'s result: the engine's, plus the store's acknowledgement of the raw event. */
export interface ServiceIngestResult extends IngestResult {
  /** null without a store; {committed: false, id: null} when only queued. */
  ack: InsertAck | null;
}

export class FeatureWindowService {
  readonly engine: FeatureWindowEngine;
  readonly #store: FeatureStore | null;
  readonly #clock: () => number;
  readonly #tickMs: number;
  readonly #wait: boolean;
  readonly #replayMaxMs: number | undefined;
  readonly #allowZone: ((zone: string) => boolean) | undefined;
  readonly #onWindow: (w: FeatureWindow) => void;
  readonly #onError: (err: Error) => void;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: FeatureWindowServiceOptions) {
    this.engine = new FeatureWindowEngine(options);
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    const tick = options.tickMs ?? 1000;
    if (!Number.isInteger(tick) || tick < 10) throw new RangeError(`tickMs must be a whole number >= 10, got ${String(tick)}`);
    this.#tickMs = tick;
    this.#wait = options.waitForCommit === true;
    this.#replayMaxMs = options.replayMaxMs;
    this.#allowZone = options.allowZone;
    this.#onWindow = options.onWindow ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Restores the hot path from the store, emits recovered windows, starts the timer. */
  async start(): Promise<RestoreResult> {
    let result: RestoreResult = { restoredWindows: 0, replayedReadings: 0, recovered: [] };
    if (this.#store !== null) {
      const opts: RestoreOptions = {};
      if (this.#replayMaxMs !== undefined) opts.replayMaxMs = this.#replayMaxMs;
      if (this.#allowZone !== undefined) opts.allowZone = this.#allowZone;
      result = await restoreEngine(this.engine, this.#store, this.#clock(), opts);
      this.#publish(result.recovered);
    }
    if (!this.#stopped && this.#timer === null) {
      this.#timer = setInterval(() => this.tick(), this.#tickMs);
      this.#timer.unref();
    }
    return result;
  }

  /**
   * Validates and counts a reading, then stores it raw (with its late flag).
   * Rejects with ReadingValidationError for a malformed reading (nothing
   * counted or stored), with the store's refusal when it takes no writes now
   * (nothing counted either: the client retries it), or with the store's error. `options.waitForCommit`
   * overrides the service's default for this reading; `ack` is the store's
   * acknowledgement (null without a store).
   */
  async ingest(payload: unknown, options: InsertOptions = {}): Promise<ServiceIngestResult> {
    const refused = this.#store?.writeRefusal?.() ?? null;
    if (refused !== null) throw refused;
    const result = this.engine.ingest(payload, this.#clock());
    let ack: InsertAck | null = null;
    if (this.#store !== null) {
      // The engine validated the reading: the store takes it as it is (no second validation, no copy by spread).
      ack = await this.#store.insert('raw_sensor_events', new CheckedRawEvent(result.reading, result.late), {
        waitForCommit: this.#waitFor(options),
      });
    }
    return {
      reading: result.reading,
      zone: result.zone,
      windowStart: result.windowStart,
      windowEnd: result.windowEnd,
      late: result.late,
      ack,
    };
  }

  /** Validates and keeps a weather update, and stores it (the original payload as `raw`). */
  async ingestWeather(payload: unknown, options: InsertOptions = {}): Promise<WeatherUpdate> {
    return (await this.ingestWeatherWithAck(payload, options)).update;
  }

  /** ingestWeather, also returning the store's acknowledgement (null without a store). */
  async ingestWeatherWithAck(payload: unknown, options: InsertOptions = {}): Promise<{ update: WeatherUpdate; ack: InsertAck | null }> {
    const refused = this.#store?.writeRefusal?.() ?? null;
    if (refused !== null) throw refused;
    const update = this.engine.setWeather(payload);
    let ack: InsertAck | null = null;
    if (this.#store !== null) {
      ack = await this.#store.insert('weather_events', { ...update, raw: payload }, { waitForCommit: this.#waitFor(options) });
    }
    return { update, ack };
  }

  #waitFor(options: InsertOptions): boolean {
    return options.waitForCommit === undefined ? this.#wait : options.waitForCommit === true;
  }

  /** Closes due windows and snapshots the open ones (see engine.aggregateNow); stores and emits them. */
  aggregateNow(): FeatureWindow[] {
    const windows = this.engine.aggregateNow(this.#clock());
    this.#publish(windows);
    return windows;
  }

  /** Closes due windows; stores and emits them. Called by the timer; never throws. */
  tick(): FeatureWindow[] {
    try {
      const windows = this.engine.advance(this.#clock());
      this.#publish(windows);
      return windows;
    } catch (err) {
      this.#onError(err as Error);
      return [];
    }
  }

  /** Last windows of a zone, newest first (hot path). */
  latest(zone: string, n?: number): FeatureWindow[] {
    return this.engine.latest(zone, n);
  }

  /** Stops the timer. Open windows are not emitted: their raw events are stored and replayed at the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #publish(windows: readonly FeatureWindow[]): void {
    for (const w of windows) {
      if (this.#store !== null) {
        this.#store.insert('feature_windows', w).catch((err: unknown) => this.#onError(err as Error));
      }
      try {
        this.#onWindow(w);
      } catch (err) {
        this.#onError(err as Error);
      }
    }
  }
}
