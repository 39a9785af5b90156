/**
 * LightingStore: the one SQLite connection per database file, a batched
 * writer, and the queries the nodes and the HTTP API need.
 *
 * Connection sharing: LightingStore.open() keeps a process-wide registry keyed
 * by the resolved file path. Opening a file that is already open returns a new
 * handle on the same connection (reference counted); close() on a handle
 * flushes and releases it, and the last handle's close() flushes, finalizes the
 * statements and closes the database. (":memory:" is never shared.) The first
 * open's writer options win; `handle.options` shows the effective ones.
 *
 * Durability: WAL with synchronous=NORMAL (default). A row is acknowledged
 * (insert(..., {waitForCommit: true}) resolves) only after its transaction's
 * COMMIT returned, i.e. after SQLite wrote the commit frame to the WAL file
 * with write(2). That data is in the operating system's page cache, so it
 * survives the process being killed (SIGKILL, crash, OOM): on next open SQLite
 * replays the WAL. NORMAL defers fsync to checkpoints, so only an OS crash or
 * power cut can lose the last transactions (never corrupt the file). Choose
 * `synchronous: 'FULL'` to fsync every commit (survives power loss, slower).
 *
 * Latency: rows not waited on are written together every flushIntervalMs (or
 * at flushMaxRows). A row queued with waitForCommit does not wait for that
 * interval: with the writer idle its transaction starts on the next turn of
 * the event loop (`commitDelayMs`, default 0), so waiters queued in the same
 * turn (and rows queued before them) share one transaction, and waiters
 * arriving while a transaction runs share the next (group commit: batching
 * comes from load, never from a timer that waits while the disk is idle).
 *
 * All access to the connection is serialised by a FIFO lock: one batch
 * transaction, one prune batch or one query at a time, so statements of
 * different callers never mix inside one transaction.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import type { AlertKind } from '../contracts/alerts';
import type { FeatureWindow } from '../contracts/feature-window';
import type { WeatherUpdate } from '../contracts/readings';
import type { SetpointSource } from '../contracts/setpoint';
import {
  MAX_ROWS_PER_INSERT,
  MAX_SQL_PARAMS,
  WRITERS,
  alertFromSql,
  alertParams,
  insertSql,
  decisionFromSql,
  featureWindowFromSql,
  overrideFromSql,
  profileFromSql,
  rawEventFromSql,
  telemetryFromSql,
  weatherFromSql,
  type AlertRecord,
  type AlertRow,
  type DecisionRecord,
  type ManualOverrideRecord,
  type PersonalProfileRecord,
  type RawSensorEventRow,
  type RowTypes,
  type TelemetryRecord,
} from './rows';
import { GATEWAY_TABLES, MIGRATIONS, SchemaVersionError, TABLES, isTableName, migrate, type Migration, type TableName } from './schema';
import { Db as SqliteDb, sqliteCode, type SqlRow, type SqlValue } from './sqlite';
import { indicesByTable, type SqlDb as Db, type SqlStmt as Stmt } from './engine';
import { jsonBulkInsertSql, jsonBulkRows } from './json-bulk';
import { PgDb, isConnectionError, migratePg, pgTryBatch } from './pg';
import { isPostgresUrl, parsePostgresUrl } from './pg-url';
import { maskSecrets } from './mask';
import {
  FAULT_ORDER,
  StorageUnavailableError,
  adoptSidecarModes,
  checkFile,
  fileIdentity,
  formatBytes,
  freeSpace,
  refusesWrites,
  storageProblem,
  type FileIdentity,
  type SpaceReport,
  type StorageFault,
} from './storage-fault';

export { StorageUnavailableError, STORAGE_UNAVAILABLE, RETRY_AFTER_S } from './storage-fault';
export type { StorageFault, StorageFaultKind } from './storage-fault';

export interface LightingStoreOptions {
  /** SQLite file (created if missing), or ":memory:" (not shared). */
  path: string;
  /** How long a write waits for another connection holding the file, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Queued rows are written together at this interval, ms. Default 200. */
  flushIntervalMs?: number;
  /** ... or as soon as this many rows are queued; also the largest transaction on PostgreSQL (SQLite: at least 4 000, see batchRows). Default 500. */
  flushMaxRows?: number;
  /** A row queued with waitForCommit starts a flush this much later (coalescing waiters), ms. Default 0 = the next turn of the event loop. */
  commitDelayMs?: number;
  /** Queue limit: beyond it insert() rejects (disk stalled). Default 100 000. */
  maxQueueRows?: number;
  /** 'NORMAL' (default, see module comment) or 'FULL' (fsync each commit). */
  synchronous?: 'NORMAL' | 'FULL';
  /** Migration list (tests); default the package's MIGRATIONS. */
  migrations?: readonly Migration[];
  /**
   * How often the file is checked (deleted, replaced, read-only, free space)
   * and the WAL kept small, ms. Default 2000; 0 = never (":memory:" never is).
   */
  monitorIntervalMs?: number;
  /** Health is degraded below this much free space (or 10 % of a smaller filesystem), bytes. Default 64 MiB. */
  minFreeBytes?: number;
  /** PostgreSQL (`path` is a postgresql:// URL): most connections of the pool. Default 4. */
  poolSize?: number;
  /** PostgreSQL: the password (a credential); else the URL's, else PGPASSWORD. Never shown in `options`. */
  password?: string;
  /**
   * This handle's gateway (the Node-RED instance / DALI bus, e.g. "bus-1"): written into every row's
   * `gateway` column, and the scope of the control-state reads (feature windows, overrides, active
   * alerts), so gateways sharing one database keep their zones apart. '' (default) = not set.
   */
  gateway?: string;
}

export type EffectiveStoreOptions = Required<Omit<LightingStoreOptions, 'migrations' | 'password' | 'gateway'>>;

/** What the store did to recover from a deleted or replaced file ('recovered' event). */
export interface RecoveryReport {
  why: 'gone' | 'replaced' | 'writable';
  /** Where the data of the old connection was saved when it could not go back to the path. */
  saved: string | null;
}

export interface InsertOptions {
  /** Resolve only after the row's transaction committed (default false: resolve when queued). */
  waitForCommit?: boolean;
}

export interface InsertAck {
  /** true when the row is known to be committed (waitForCommit). */
  committed: boolean;
  /** rowid of the row when committed (for personal_profiles: null). */
  id: number | null;
}

export interface FailedRow {
  table: TableName;
  /** Position of the row in its batch. */
  index: number;
  /** Why this row failed (its own error, or the batch's). */
  error: string;
}

/** A flush that did not commit. Nothing of the listed rows was written (the transaction rolled back). */
export class FlushError extends Error {
  override readonly name: string = 'FlushError';
  readonly rows: FailedRow[];
  readonly code: string | undefined;
  constructor(message: string, rows: FailedRow[], cause?: unknown, code: string | undefined = sqliteCode(cause)) {
    super(message, { cause });
    this.rows = rows;
    this.code = code;
  }
}

/**
 * A row not stored because of the storage (disk full, file read-only or
 * deleted): a FlushError (nothing of it was written) that is also "come back
 * later" (code STORAGE_UNAVAILABLE, retryAfterS) with a short message.
 */
export class StorageFlushError extends FlushError {
  override readonly name: string = 'StorageUnavailableError';
  readonly retryAfterS: number;
  readonly reason: string;
  constructor(err: StorageUnavailableError, rows: FailedRow[]) {
    super(err.message, rows, err.cause ?? err, err.code);
    this.retryAfterS = err.retryAfterS;
    this.reason = err.reason;
  }
}

export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
}

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export interface PageQuery {
  /** Page size, 1-1000. Default 50. */
  limit?: number;
  /** Rows to skip (ignored when `cursor` is given). */
  offset?: number;
  /** nextCursor of the previous page (keyset pagination: stable while rows are added). */
  cursor?: string;
  zone?: string;
  /** ts >= since (epoch ms). */
  since?: number;
  /** ts < until (epoch ms). */
  until?: number;
  /** Rows of one gateway only (default: every gateway). */
  gateway?: string;
}

export interface Page<T> {
  /** Newest first. */
  items: T[];
  /** Rows matching the filters (zone/since/until/kind/source), over all pages. */
  total: number;
  limit: number;
  offset: number;
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface HealthReport {
  ok: boolean;
  /** "ok" or the error message. */
  database: string;
  latencyMs: number;
  schemaVersion: number;
  journalMode: string;
  queuedRows: number;
  /** Result of PRAGMA quick_check when asked for ("ok" when healthy). */
  quickCheck?: string;
  /** The storage fault in force (file deleted, read-only, writes failing, low space), else absent. */
  fault?: StorageFault;
  /** Free space on the database's filesystem at the last check. */
  space?: SpaceReport;
}

export interface WriterStats {
  queuedRows: number;
  committedRows: number;
  failedRows: number;
  transactions: number;
  /** SQLite: statements the writer ran (each one round trip through the binding's thread pool): INSERTs, BEGIN, COMMIT, ROLLBACK. */
  statements: number;
  lastFlushError: string | null;
}

interface QueuedRow {
  seq: number;
  table: TableName;
  params: SqlValue[];
  owner: LightingStore;
  resolve?: (ack: InsertAck) => void;
  reject?: (err: Error) => void;
}

/**
 * SQLite's automatic checkpoint: every 1 024 WAL pages (4 MiB at 4 KiB pages;
 * SQLite's default is 1 000), and the WAL file cut back to 4 MiB when it
 * starts over, so a small volume is not filled by the log itself. Was 256
 * pages and 1 MiB: then every fourth of those checkpoints copied the same
 * hot pages of the table and its indexes again, and each start-over cut the
 * file so the next commits extended it again (bench/ingest: the acked full
 * path 0.84-0.9x, one-at-a-time commits' p99 2-4x of now).
 */
export const WAL_CHECKPOINT_PAGES = 1024;
export const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

/** A FIFO lock: fn runs when every earlier fn has settled. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn, fn);
    this.#tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }
}

const QUEUED_ACK: InsertAck = Object.freeze({ committed: false, id: null });

/**
 * Batches of up to this many rows of one table are written by one INSERT of
 * exactly their size (prepared once per size and connection: at most this
 * many more statements per table).
 */
const EXACT_INSERT_ROWS = 64;

/**
 * SQLite: a backlog is written up to this many rows per transaction (see
 * batchRows), the size of the limit measured in bench/ingest (4 000 rows, a
 * lock held for about 20 ms on a loaded 2-core machine).
 */
const BACKLOG_TRANSACTION_ROWS = 4000;

function clampInt(name: string, v: number | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be a whole number ${min}-${max}, got ${String(v)}`);
  }
  return v;
}

function resolveKey(file: string): string {
  const abs = path.resolve(file);
  try {
    return fs.realpathSync(abs);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      return abs;
    }
  }
}

let nextConnectionId = 1;

/** The shared state of one open database file. */
class StoreCore {
  readonly id = nextConnectionId++;
  readonly key: string;
  /** The connection; replaced when the file is recovered or reopened (always under the lock). */
  db: Db;
  readonly options: EffectiveStoreOptions;
  readonly migrations: readonly Migration[];
  readonly lock = new Mutex();
  /** Insert statements by `${table}:${rows}`. */
  stmts: Map<string, Stmt>;
  schemaVersion: number;
  /** dev+ino of the file the connection has open (null for ":memory:"). */
  identity: FileIdentity | null = null;
  /** dev+ino of the connection's `-wal` file, as last seen while the file was in place. */
  walIdentity: FileIdentity | null = null;
  /** The last transaction failed for a storage reason (cleared by the next commit, or when space is back). */
  writeFault: StorageFault | null = null;
  /** The file is gone, replaced or read-only (from the monitor). */
  fileFault: StorageFault | null = null;
  /** Free space below the threshold. */
  spaceFault: StorageFault | null = null;
  space: SpaceReport | null = null;
  /** The connection was opened read-only (or saw SQLITE_READONLY): reopen once the file is writable. */
  readOnlyConnection = false;
  /** The fault last announced to the handles. */
  announced: StorageFault | null = null;
  monitor: NodeJS.Timeout | null = null;
  checking: Promise<void> | null = null;
  lastCheckpointAt = Date.now();
  /** Handles told about fault changes. */
  readonly handles = new Set<LightingStore>();
  refs = 0;
  closed = false;
  pruning = false;

  queue: QueuedRow[] = [];
  seq = 0;
  timer: NodeJS.Timeout | null = null;
  /** Flush soon for rows someone waits on (waitForCommit): setImmediate when commitDelayMs is 0, else a timeout. */
  commitTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Highest seq of a queued row with a waiter: a waiter is queued while it is >= the head's seq. */
  lastWaiterSeq = 0;
  running: Promise<void> | null = null;
  stats: WriterStats = { queuedRows: 0, committedRows: 0, failedRows: 0, transactions: 0, statements: 0, lastFlushError: null };

  private constructor(
    key: string,
    db: Db,
    options: EffectiveStoreOptions,
    stmts: Map<string, Stmt>,
    version: number,
    migrations: readonly Migration[],
  ) {
    this.key = key;
    this.db = db;
    this.options = options;
    this.stmts = stmts;
    this.schemaVersion = version;
    this.migrations = migrations;
  }

  static async create(
    key: string,
    options: EffectiveStoreOptions,
    migrations: readonly Migration[],
    url?: string,
    password?: string,
  ): Promise<StoreCore> {
    if (url !== undefined) return StoreCore.createPg(key, url, password, options, migrations);
    if (key !== ':memory:') fs.mkdirSync(path.dirname(key), { recursive: true });
    const existed = key !== ':memory:' && fs.existsSync(key);
    const { db, stmts, version } = await StoreCore.connect(key, options, migrations);
    const core = new StoreCore(key, db, options, stmts, version, migrations);
    core.createdFile = key !== ':memory:' && !existed;
    if (key !== ':memory:') {
      core.identity = await fileIdentity(key);
      core.walIdentity = await fileIdentity(`${key}-wal`);
      await core.check();
      if (core.fileFault?.kind === 'read-only') core.readOnlyConnection = true;
      if (options.monitorIntervalMs > 0) {
        core.monitor = setInterval(() => void core.check(), options.monitorIntervalMs);
        core.monitor.unref?.();
      }
    }
    return core;
  }

  /** true when this open created the file (there was no database at the path). */
  createdFile = false;

  /** Opens `key`, sets the PRAGMAs, migrates and prepares the insert statements. */
  static async connect(
    key: string,
    options: EffectiveStoreOptions,
    migrations: readonly Migration[],
  ): Promise<{ db: Db; stmts: Map<string, Stmt>; version: number }> {
    const db = await SqliteDb.open(key);
    try {
      db.setBusyTimeout(options.busyTimeoutMs);
      // auto_vacuum only takes effect before the first table is created.
      const tables = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'");
      if (!tables || tables.n === 0) await db.run('PRAGMA auto_vacuum = INCREMENTAL');
      const mode = await db.get<{ journal_mode: string }>('PRAGMA journal_mode = WAL');
      if (key !== ':memory:' && mode?.journal_mode !== 'wal') {
        throw new Error(`cannot switch ${key} to WAL mode (got ${String(mode?.journal_mode)}); is the file on a network share?`);
      }
      // Values below are from validated options (enum / integers), never from input.
      await db.run(`PRAGMA synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      // A small WAL (see WAL_CHECKPOINT_PAGES): the monitor also runs wal_checkpoint(TRUNCATE).
      await db.run(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      await db.run(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      const report = await migrate(db, migrations);
      // A WAL left large by an earlier run (or another tool) is written back and cut now, not at the next checkpoint.
      if (key !== ':memory:') await db.get('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
      // The single-row INSERTs now; multi-row ones when a batch first needs their size (see chunkSizes).
      const stmts = new Map<string, Stmt>();
      for (const table of TABLES) stmts.set(`${table}:1`, await db.prepare(insertSql(writerFor(table, report.to), 1)));
      return { db, stmts, version: report.to };
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof SchemaVersionError) throw err;
      throw new Error(`cannot open the lighting store ${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** PostgreSQL: the same schema and queries on a pool (pg.ts); `key` is the URL without its password. */
  static async createPg(
    key: string,
    url: string,
    password: string | undefined,
    options: EffectiveStoreOptions,
    migrations: readonly Migration[],
  ): Promise<StoreCore> {
    const db = new PgDb(url, { poolSize: options.poolSize, ...(password !== undefined ? { password } : {}) });
    try {
      const report = await migratePg(db, migrations);
      const core = new StoreCore(key, db, options, new Map(), report.to, migrations);
      db.onState = (down) => core.emitState(down);
      return core;
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof SchemaVersionError) throw err;
      throw new Error(`cannot open the lighting store ${key}: ${db.clean(err).message}`, { cause: err });
    }
  }

  /** PostgreSQL: why the last write could not reach the server (rows stay queued and are retried), else null. */
  down: string | null = null;
  retryMs = 250;

  emitState(down: string | null): void {
    for (const h of this.handles) h.emit('connection', down === null ? { state: 'up' } : { state: 'down', message: down });
  }

  /** The batch could not reach the server: keep its rows queued (in order) and retry after a backoff. */
  requeue(batch: QueuedRow[], error: Error): void {
    this.queue.unshift(...batch);
    this.stats.queuedRows = this.queue.length;
    this.down = error.message;
    this.stats.lastFlushError = `database unreachable, ${this.queue.length} rows kept queued and retried: ${error.message}`;
  }

  enqueue(row: QueuedRow): void {
    this.queue.push(row);
    if (row.resolve !== undefined) this.lastWaiterSeq = row.seq;
    this.stats.queuedRows = this.queue.length;
    this.schedule();
  }

  schedule(): void {
    if (this.running !== null || this.closed) return;
    if (this.down !== null && this.queue.length > 0) {
      if (this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          if (this.running === null && !this.closed) this.start(this.seq);
        }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 2000);
      }
      return;
    }
    if (this.queue.length >= this.options.flushMaxRows) {
      this.clearTimer();
      this.start(-1);
      return;
    }
    const head = this.queue[0];
    if (head === undefined) {
      // Nothing left to write: no wake-up needed.
      this.clearTimer();
      return;
    }
    if (this.lastWaiterSeq >= head.seq && this.commitTimer === null) {
      // Someone waits for a commit: flush promptly (the interval timer keeps its cadence for the rest).
      const go = (): void => {
        this.commitTimer = null;
        if (this.running === null && !this.closed) this.start(this.seq);
      };
      // setTimeout(0) would wait at least 1 ms; setImmediate only lets this turn's other waiters join.
      this.commitTimer = this.options.commitDelayMs === 0 ? setImmediate(go) : setTimeout(go, this.options.commitDelayMs);
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.running === null) this.start(this.seq);
      }, this.options.flushIntervalMs);
    }
  }

  clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.commitTimer !== null) {
      if (this.options.commitDelayMs === 0) clearImmediate(this.commitTimer as NodeJS.Immediate);
      else clearTimeout(this.commitTimer as NodeJS.Timeout);
      this.commitTimer = null;
    }
  }

  /** Writes batches while the queue is full, and every row up to `untilSeq`. */
  start(untilSeq: number): void {
    this.running = (async () => {
      while (this.queue.length > 0) {
        const head = this.queue[0] as QueuedRow;
        if (head.seq > untilSeq && this.queue.length < this.options.flushMaxRows) break;
        const batch = this.queue.splice(0, this.batchRows());
        this.stats.queuedRows = this.queue.length;
        await this.lock.run(() => this.writeBatch(batch));
        if (this.down !== null) break;
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        this.running = null;
        this.schedule();
      });
  }

  /**
   * Most rows of one transaction: flushMaxRows, and for SQLite at least
   * BACKLOG_TRANSACTION_ROWS. A flush still starts as soon as flushMaxRows rows
   * are queued; rows that queued up meanwhile (a writer behind under sustained
   * load) go together in fewer, larger transactions, each commit rewriting
   * the last pages of the table and its indexes once for more rows.
   */
  batchRows(): number {
    return this.db.engine === 'sqlite' ? Math.max(this.options.flushMaxRows, BACKLOG_TRANSACTION_ROWS) : this.options.flushMaxRows;
  }

  /** Resolves when every row queued before the call has been written (or failed). */
  async flush(): Promise<void> {
    const target = this.seq;
    let tried = false;
    for (;;) {
      if (this.running !== null) {
        await this.running;
        continue;
      }
      const head = this.queue[0];
      if (head === undefined || head.seq > target) return;
      // Database unreachable (PostgreSQL): one attempt, then say so instead of spinning; the rows stay queued.
      if (this.down !== null && tried) throw new Error(this.down);
      tried = true;
      this.clearTimer();
      this.start(target);
    }
  }

  /**
   * Rows per INSERT for `n` rows of `table`, largest first: up to
   * EXACT_INSERT_ROWS rows one statement of exactly `n` rows (what group
   * commits under concurrent waiters write), a statement of exactly
   * flushMaxRows rows (what a writer under load writes each transaction: one
   * round trip through the binding), else powers of two, all within SQLite's
   * 32 766 parameters and MAX_ROWS_PER_INSERT.
   */
  chunkPlan(table: TableName, n: number): number[] {
    const limit = rowsPerInsert(writerFor(table, this.schemaVersion).columns.length);
    // A group commit's few rows: one INSERT of exactly their number, which then runs alone in autocommit
    // (one round trip instead of BEGIN, an INSERT per power of two, COMMIT).
    if (n <= EXACT_INSERT_ROWS && n <= limit) return [n];
    const full = this.options.flushMaxRows <= limit ? this.options.flushMaxRows : 0;
    const plan: number[] = [];
    let left = n;
    while (left > 0) {
      let k = 1;
      if (full > 0 && left >= full) k = full;
      else while (k * 2 <= Math.min(left, limit)) k *= 2;
      plan.push(k);
      left -= k;
    }
    return plan;
  }

  /** The INSERT of `k` rows (or 'json': any number, json-bulk.ts) into `table` on this connection, prepared on first use. */
  async stmt(table: TableName, k: number | 'json'): Promise<Stmt> {
    const key = `${table}:${k}`;
    let st = this.stmts.get(key);
    if (st === undefined) {
      const db = this.db;
      const writer = writerFor(table, this.schemaVersion);
      st = await db.prepare(k === 'json' ? jsonBulkInsertSql(writer, writer.jsonBulk?.realColumns ?? []) : insertSql(writer, k));
      // A reconnect while preparing replaced the map: this statement belongs to the old connection.
      if (this.db !== db) {
        await st.finalize();
        throw new Error('the connection was replaced while preparing an insert');
      }
      this.stmts.set(key, st);
    }
    return st;
  }

  /** The rows of `table` at `indices` as one json_each INSERT's text, or null (no such path for the table, or a value it would not keep). */
  jsonRows(table: TableName, batch: readonly QueuedRow[], indices: readonly number[]): string | null {
    const writer = writerFor(table, this.schemaVersion);
    if (writer.jsonBulk === undefined) return null;
    const real = writer.columns.map((c) => writer.jsonBulk?.realColumns.includes(c) === true);
    return jsonBulkRows(
      indices.map((i) => (batch[i] as QueuedRow).params),
      real,
    );
  }

  /**
   * One transaction writing `batch`: rows grouped per table (arrival order kept
   * within a table), a table with a JSON path (raw_sensor_events) in one
   * json_each INSERT, the others in multi-row INSERTs (chunkPlan), or one row
   * per INSERT when `perRow` (to find the row that fails). Rolls back on any error.
   */
  private async tryBatch(batch: readonly QueuedRow[], perRow: boolean): Promise<BatchOutcome> {
    const db = this.db;
    if (db instanceof PgDb) {
      return pgTryBatch(
        db,
        batch,
        perRow,
        (t, k) => insertSql(writerFor(t as TableName, this.schemaVersion), k),
        (t) => WRITERS[t as TableName].conflict !== undefined,
      );
    }
    const byTable = indicesByTable(batch);
    // Each table's chunks, and their statements prepared (once per size and connection) before the transaction opens.
    const plans = new Map<TableName, number[]>();
    // Tables whose rows go as one JSON text through one json_each INSERT (json-bulk.ts): the text, built before BEGIN.
    const texts = new Map<TableName, string>();
    try {
      for (const [table, indices] of byTable) {
        const single = perRow || WRITERS[table].conflict !== undefined;
        const text = single || indices.length < 2 ? null : this.jsonRows(table, batch, indices);
        if (text !== null) {
          await this.stmt(table, 'json');
          texts.set(table, text);
          plans.set(table, [indices.length]);
          continue;
        }
        const plan = single ? new Array<number>(indices.length).fill(1) : this.chunkPlan(table, indices.length);
        for (const k of new Set(plan)) await this.stmt(table, k);
        plans.set(table, plan);
      }
    } catch (err) {
      return { ok: false, rowErrors: new Map(), error: err as Error, ambiguous: false };
    }
    // One statement in all (an idle writer's batch: one waiter, or a few of one table): it runs on its own
    // in autocommit, which is a transaction of its own (all or nothing, committed when it returns), so
    // BEGIN and COMMIT, two more round trips through the binding's thread pool, are left out.
    let statements = 0;
    for (const plan of plans.values()) statements += plan.length;
    const own = statements === 1;
    if (!own) {
      try {
        this.stats.statements += 1;
        await (await db.cached('BEGIN IMMEDIATE')).run();
      } catch (err) {
        return { ok: false, rowErrors: new Map(), error: err as Error, ambiguous: false };
      }
    }
    const ids: Array<number | null> = new Array<number | null>(batch.length).fill(null);
    const rowErrors = new Map<number, Error>();
    let ambiguous = false;
    await new Promise<void>((resolve) => {
      let pending = 0;
      let planned = false;
      const done = (): void => {
        pending -= 1;
        if (pending === 0 && planned) resolve();
      };
      // Chunks of one table run one after another: sqlite3 runs different
      // prepared statements in whatever order its thread pool picks, and rows
      // must get rowids in arrival order. Tables proceed side by side.
      for (const [table, indices] of byTable) {
        const plan = plans.get(table) as number[];
        pending += 1;
        const next = (at: number, step: number): void => {
          if (step >= plan.length) {
            done();
            return;
          }
          const k = plan[step] as number;
          const chunk = indices.slice(at, at + k);
          const text = texts.get(table);
          const params: SqlValue[] = [];
          if (text !== undefined) params.push(text);
          else {
            for (const i of chunk) {
              const p = (batch[i] as QueuedRow).params;
              for (let j = 0; j < p.length; j++) params.push(p[j] as SqlValue);
            }
          }
          this.stats.statements += 1;
          (this.stmts.get(`${table}:${text !== undefined ? 'json' : k}`) as Stmt).runCb(params, (err, info) => {
            if (err) {
              for (const i of chunk) rowErrors.set(i, err);
              if (chunk.length > 1) ambiguous = true;
            } else if (WRITERS[table].conflict === undefined) {
              // Rows of one INSERT get consecutive rowids (max(rowid)+1, ...): the last one is lastID.
              chunk.forEach((i, j) => {
                ids[i] = info.lastID - (chunk.length - 1 - j);
              });
            }
            next(at + k, step + 1);
          });
        };
        next(0, 0);
      }
      planned = true;
      if (pending === 0) resolve();
    });
    // BEGIN, COMMIT and ROLLBACK are prepared once per connection (Database#run prepares, runs and finalizes: three round trips).
    const rollback = async (): Promise<void> => {
      if (own) return;
      this.stats.statements += 1;
      await (await db.cached('ROLLBACK')).run().catch(() => undefined);
    };
    if (rowErrors.size > 0) {
      await rollback();
      const first = rowErrors.values().next().value as Error;
      return { ok: false, rowErrors, error: first, ambiguous };
    }
    if (own) return { ok: true, ids };
    try {
      this.stats.statements += 1;
      await (await db.cached('COMMIT')).run();
      return { ok: true, ids };
    } catch (err) {
      await rollback();
      return { ok: false, rowErrors: new Map(), error: err as Error, ambiguous: false };
    }
  }

  /**
   * One transaction for the batch. If rows fail on their own (a constraint),
   * the transaction rolls back, the batch is retried one row per INSERT to
   * find them, those rows are rejected with their error and the others are
   * written in a new transaction. If the transaction itself fails (busy, disk
   * full, I/O), the whole batch is rejected. Never throws.
   */
  async writeBatch(batch: QueuedRow[]): Promise<void> {
    const refused = this.refusal();
    if (refused !== null) {
      this.reportFailures(
        batch.map((row, index) => ({ row, index, error: refused })),
        batch.length,
      );
      return;
    }
    let attempt = await this.tryBatch(batch, false);
    if (!attempt.ok && attempt.rowErrors.size === 0 && this.db instanceof PgDb && isConnectionError(attempt.error)) {
      this.requeue(batch, attempt.error);
      return;
    }
    if (this.db instanceof PgDb) {
      this.down = null;
      this.retryMs = 250;
    }
    let rows = batch;
    const failed: Array<{ row: QueuedRow; index: number; error: Error }> = [];
    if (!attempt.ok && attempt.rowErrors.size > 0 && attempt.ambiguous) attempt = await this.tryBatch(batch, true);
    if (!attempt.ok && attempt.rowErrors.size > 0 && attempt.rowErrors.size < batch.length) {
      const errors = attempt.rowErrors;
      rows = [];
      batch.forEach((row, i) => {
        const e = errors.get(i);
        if (e) failed.push({ row, index: i, error: e });
        else rows.push(row);
      });
      attempt = await this.tryBatch(rows, false);
    }
    if (attempt.ok) {
      if (this.writeFault !== null) {
        this.writeFault = null;
        this.announce();
      }
      this.stats.transactions += 1;
      this.stats.committedRows += rows.length;
      const ids = attempt.ids;
      this.acknowledge(() => rows.forEach((row, i) => row.resolve?.({ committed: true, id: ids[i] ?? null })));
    } else {
      const error = attempt.error;
      const rowErrors = attempt.rowErrors;
      rows.forEach((row, i) => {
        const index = batch.indexOf(row);
        failed.push({ row, index: index >= 0 ? index : i, error: rowErrors.get(i) ?? error });
      });
    }
    if (failed.length > 0) {
      // Waiters of earlier committed batches hear first.
      this.drainAcks();
      this.reportFailures(failed, batch.length);
    }
  }

  /** Acknowledgements of committed batches not yet given (acknowledge), oldest first. */
  readonly #acks: Array<() => void> = [];
  #acking: NodeJS.Immediate | null = null;

  /**
   * Resolves the waiters of a committed batch. SQLite with more rows queued
   * (sustained load): on the next turn of the event loop, so the writer first
   * hands the next batch to the binding's worker thread and the waiters' own
   * work (an HTTP answer, the next readings) runs while that batch is written,
   * instead of before it. Acknowledged still means committed; batches are
   * acknowledged in the order they committed.
   */
  acknowledge(ack: () => void): void {
    this.#acks.push(ack);
    if (this.queue.length > 0 && this.db.engine === 'sqlite') {
      this.#acking ??= setImmediate(() => this.drainAcks());
    } else this.drainAcks();
  }

  drainAcks(): void {
    if (this.#acking !== null) clearImmediate(this.#acking);
    this.#acking = null;
    for (let ack = this.#acks.shift(); ack !== undefined; ack = this.#acks.shift()) ack();
  }

  private reportFailures(failed: Array<{ row: QueuedRow; index: number; error: Error }>, batchSize: number): void {
    this.stats.failedRows += failed.length;
    // A storage failure (not the row's own): remember it for health, and tell the client to retry (503).
    const first = failed[0]?.error;
    const code = sqliteCode(first);
    const problem = storageProblem(code);
    if (problem !== null && !(first instanceof StorageUnavailableError)) {
      if (this.writeFault === null || this.writeFault.code !== code) {
        this.writeFault = { kind: 'write-failed', message: `writes are failing: ${problem}`, since: Date.now(), ...(code ? { code } : {}) };
      }
      if (code === 'SQLITE_READONLY') this.readOnlyConnection = true;
      this.announce();
    }
    const unavailable = (e: Error): StorageUnavailableError | null => {
      if (e instanceof StorageUnavailableError) return e;
      const p = storageProblem(sqliteCode(e));
      return p === null
        ? null
        : new StorageUnavailableError(`storage unavailable: ${p}; nothing was stored, retry later`, sqliteCode(e) ?? 'storage', e);
    };
    const describe = (f: { row: QueuedRow; index: number; error: Error }): FailedRow => ({
      table: f.row.table,
      index: f.index,
      error: f.error.message,
    });
    const all = failed.map(describe);
    const summary = `write of ${failed.length} of ${batchSize} queued rows failed, nothing of them was stored: ${failed[0]?.error.message ?? ''}`;
    this.stats.lastFlushError = summary;
    const byOwner = new Map<LightingStore, FailedRow[]>();
    for (const f of failed) {
      if (f.row.reject) {
        const u = unavailable(f.error);
        f.row.reject(
          u !== null
            ? new StorageFlushError(u, [describe(f)])
            : new FlushError(`row ${f.index} of the batch (${f.row.table}) was not stored: ${f.error.message}`, [describe(f)], f.error),
        );
      } else {
        const list = byOwner.get(f.row.owner) ?? [];
        list.push(describe(f));
        byOwner.set(f.row.owner, list);
      }
    }
    for (const [owner, rows] of byOwner) {
      owner.emit('flushError', new FlushError(summary, rows.length === all.length ? all : rows, failed[0]?.error));
    }
  }

  /** The error refused writes get now (file gone, replaced, read-only), else null. */
  refusal(): StorageUnavailableError | null {
    const f = this.fileFault;
    if (f !== null && refusesWrites(f.kind)) return new StorageUnavailableError(`storage unavailable: ${f.message}; retry later`, f.kind);
    if (this.connectionClosed) {
      // The file at the path looks right (its inode reused, say) but could not be opened: nothing to write through.
      return new StorageUnavailableError(
        `storage unavailable: the database file could not be opened (${this.recoveryError ?? 'no reason given'}); retry later`,
        'connection-closed',
      );
    }
    return null;
  }

  /** The most serious fault in force, or null. */
  fault(): StorageFault | null {
    const all = [this.fileFault, this.writeFault, this.spaceFault].filter((f): f is StorageFault => f !== null);
    all.sort((a, b) => FAULT_ORDER.indexOf(a.kind) - FAULT_ORDER.indexOf(b.kind));
    return all[0] ?? null;
  }

  /** Tells the handles when the fault in force changed (kind or message). */
  announce(): void {
    const now = this.fault();
    const before = this.announced;
    if (now?.kind === before?.kind && now?.message === before?.message) return;
    this.announced = now;
    for (const h of this.handles) h.emit('storage', now, before);
  }

  /**
   * The monitor's round: file identity and mode, free space; recovers a
   * deleted file from the open connection, adopts a replaced one, reopens a
   * read-only connection once the file is writable, and keeps the WAL small.
   * Never throws; one round at a time.
   */
  check(): Promise<void> {
    if (this.checking !== null) return this.checking;
    this.checking = (async () => {
      if (this.closed || this.key === ':memory:') return;
      const now = Date.now();
      let file = await checkFile(this.key, this.identity, now);
      // A -wal/-shm left read-only from when the file was (SQLite gave them its mode then): given the file's mode now.
      if (file?.kind === 'read-only' && (await adoptSidecarModes(this.key)).length > 0)
        file = await checkFile(this.key, this.identity, now);
      if (file === null) this.walIdentity = await fileIdentity(`${this.key}-wal`);
      this.fileFault = file === null ? null : this.fileFault?.kind === file.kind ? { ...file, since: this.fileFault.since } : file;
      this.space = await freeSpace(path.dirname(this.key), this.options.minFreeBytes);
      if (this.space !== null && this.space.freeBytes < this.space.thresholdBytes) {
        const message = `low disk space: ${formatBytes(this.space.freeBytes)} free (threshold ${formatBytes(this.space.thresholdBytes)})`;
        this.spaceFault = { kind: 'low-space', message, since: this.spaceFault?.since ?? now };
      } else {
        this.spaceFault = null;
        // The disk had been full and space is back: writes will work again.
        if (this.writeFault?.code === 'SQLITE_FULL' && this.space !== null) this.writeFault = null;
      }
      this.announce();
      if (this.closed) return;
      try {
        if (this.fileFault?.kind === 'file-gone') await this.recover('gone');
        else if (this.fileFault?.kind === 'file-replaced') await this.recover('replaced');
        else if (this.fileFault === null && this.readOnlyConnection) await this.recover('writable');
        // A good file at the path again after an open that failed, with the old file's identity (its inode reused).
        else if (this.fileFault === null && this.connectionClosed) await this.recover('replaced');
      } catch (err) {
        this.recoveryError = maskSecrets((err as Error).message);
      }
      const due = Date.now() - this.lastCheckpointAt > 60_000;
      if (!this.closed && (due || this.writeFault !== null || this.spaceFault !== null)) {
        this.lastCheckpointAt = Date.now();
        // Give the WAL's space back (needs no reader in the middle of a read; harmless if it cannot).
        await this.lock.run(() => this.db.run('PRAGMA wal_checkpoint(TRUNCATE)')).catch(() => undefined);
      }
      this.announce();
    })()
      .catch(() => undefined)
      .finally(() => {
        this.checking = null;
      });
    return this.checking;
  }

  /** Why the last recovery attempt failed (kept for health), else null. */
  recoveryError: string | null = null;
  /** A recovery closed the connection and could not open the file at the path yet: nothing to read or write through. */
  connectionClosed = false;

  /**
   * Swaps the connection, under the lock:
   * - 'gone': the open (unlinked) database is copied with VACUUM INTO to a
   *   new file at the path, so every committed row survives, then opened;
   * - 'replaced': the open database is saved next to the path as
   *   `<file>.orphaned-<time>` (nothing committed is lost), then the new file
   *   at the path is opened (and migrated);
   * - 'writable': the read-only connection is reopened read-write.
   * Emits 'recovered' on the handles with what was done.
   */
  async recover(why: 'gone' | 'replaced' | 'writable'): Promise<void> {
    const detail = await this.lock.run(async () => {
      if (this.closed) return null;
      const dir = path.dirname(this.key);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      let saved: string | null = null;
      if (this.connectionClosed) {
        // An earlier attempt saved the old database (or rebuilt it at the path) and closed its connection,
        // then could not open the file at the path (a torn copy, say): only the open is tried again.
      } else if (why === 'gone') {
        if (!fs.existsSync(dir)) return null; // wait for the folder to be back
        const tmp = path.join(dir, `.${path.basename(this.key)}.recovering-${process.pid}-${stamp}`);
        try {
          await this.db.run('VACUUM INTO ?', [tmp]);
        } catch (err) {
          fs.rmSync(tmp, { force: true });
          throw err;
        }
        await this.disconnect();
        await this.dropOwnWal();
        this.connectionClosed = true;
        if (fs.existsSync(this.key)) {
          // Someone put a file back meanwhile: keep theirs, keep ours beside it.
          saved = `${this.key}.orphaned-${stamp}`;
          fs.renameSync(tmp, saved);
        } else fs.renameSync(tmp, this.key);
      } else if (why === 'replaced') {
        saved = `${this.key}.orphaned-${stamp}`;
        await this.db.run('VACUUM INTO ?', [saved]);
        await this.disconnect();
        await this.dropOwnWal();
        this.connectionClosed = true;
      } else {
        await this.disconnect();
        this.connectionClosed = true;
      }
      const { db, stmts, version } = await StoreCore.connect(this.key, this.options, this.migrations);
      this.connectionClosed = false;
      this.db = db;
      this.stmts = stmts;
      this.schemaVersion = version;
      this.identity = await fileIdentity(this.key);
      this.walIdentity = await fileIdentity(`${this.key}-wal`);
      this.readOnlyConnection = false;
      this.recoveryError = null;
      return { why, saved };
    });
    if (detail === null) return;
    const file = await checkFile(this.key, this.identity);
    this.fileFault = file;
    if (file?.kind === 'read-only') this.readOnlyConnection = true;
    if (file === null && this.writeFault?.code === 'SQLITE_READONLY') this.writeFault = null;
    this.announce();
    for (const h of this.handles) h.emit('recovered', detail);
  }

  /**
   * Removes the `-wal`/`-shm` the closed connection left at the path. SQLite
   * does not checkpoint a moved or deleted file on close, so its WAL stays;
   * opened with another main file it would be replayed into it. Only a WAL
   * with the identity seen while the old file was in place is removed (its
   * rows are in the VACUUM INTO copy); one that came with the new file stays.
   */
  private async dropOwnWal(): Promise<void> {
    const wal = `${this.key}-wal`;
    const now = await fileIdentity(wal);
    const ours = now === null || (this.walIdentity !== null && now.dev === this.walIdentity.dev && now.ino === this.walIdentity.ino);
    if (!ours) return;
    fs.rmSync(wal, { force: true });
    fs.rmSync(`${this.key}-shm`, { force: true });
  }

  /** Finalizes the statements and closes the connection (caller holds the lock). */
  private async disconnect(): Promise<void> {
    for (const stmt of this.stmts.values()) await stmt.finalize();
    this.stmts = new Map();
    await this.db.close();
  }

  async shutdown(): Promise<void> {
    try {
      await this.flush();
    } catch (err) {
      // The database stayed unreachable: the rows still queued were never acknowledged as stored; say so.
      const left = this.queue.splice(0);
      this.reportFailures(
        left.map((row, index) => ({ row, index, error: err as Error })),
        left.length,
      );
    }
    await this.flush();
    this.drainAcks();
    // A file deleted since the last check is rebuilt before the connection (and with it the unlinked data) goes,
    // with the monitor off (monitorIntervalMs 0) too: this is the last moment those rows can be saved.
    if (this.db.engine === 'sqlite' && this.key !== ':memory:') {
      await this.checking;
      await this.check();
    }
    this.closed = true;
    if (this.monitor !== null) clearInterval(this.monitor);
    this.monitor = null;
    await this.checking;
    this.clearTimer();
    await this.lock.run(async () => {
      if (this.connectionClosed) return;
      for (const stmt of this.stmts.values()) await stmt.finalize();
      await this.db.close();
    });
  }
}

type BatchOutcome =
  | { ok: true; ids: Array<number | null> }
  | { ok: false; rowErrors: Map<number, Error>; error: Error; ambiguous: boolean };

/** Migration that added the gateway column (a store opened with older migrations, in tests, writes without it). */
const GATEWAY_VERSION = 4;

/** Rows per INSERT for a table of `columns` columns: MAX_ROWS_PER_INSERT within SQLite's parameter limit. */
function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_SQL_PARAMS / columns)));
}

function writerFor(table: TableName, version: number): (typeof WRITERS)[TableName] {
  const w = WRITERS[table];
  if (version >= GATEWAY_VERSION || !w.columns.includes('gateway')) return w;
  const older = { ...w, columns: w.columns.filter((c) => c !== 'gateway') };
  if (w.conflict !== undefined) older.conflict = w.conflict.replace('(gateway, zone, window_start)', '(zone, window_start)');
  return older;
}

interface RegistryEntry {
  refs: number;
  ready: Promise<StoreCore>;
}

const registry = new Map<string, RegistryEntry>();
const closing = new Map<string, Promise<void>>();

function cursorOf(ts: number, id: number): string {
  return `${ts}.${id}`;
}

function parseCursor(cursor: string): { ts: number; id: number } {
  const m = /^(-?\d{1,16})\.(\d{1,16})$/.exec(cursor);
  if (!m) throw new RangeError(`invalid cursor ${JSON.stringify(cursor.slice(0, 40))}: pass nextCursor of the previous page`);
  return { ts: Number(m[1]), id: Number(m[2]) };
}

function optionalTime(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${name} must be epoch ms, got ${String(v)}`);
  return Math.floor(v);
}

export class LightingStore extends EventEmitter {
  readonly #core: StoreCore;
  readonly #gateway: string;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(core: StoreCore, gateway: string) {
    super();
    this.#core = core;
    this.#gateway = gateway;
    core.handles.add(this);
  }

  /** This handle's gateway ('' = not set). */
  get gateway(): string {
    return this.#gateway;
  }

  /**
   * Opens (creating and migrating if needed) the database at `options.path`,
   * or returns a new handle on its already-open connection. Rejects with
   * SchemaVersionError when the file's schema is newer than this code.
   */
  static async open(options: LightingStoreOptions): Promise<LightingStore> {
    if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path.trim() === '') {
      throw new TypeError('LightingStore.open: options.path must be a file path');
    }
    const effective: EffectiveStoreOptions = {
      path: options.path,
      busyTimeoutMs: clampInt('busyTimeoutMs', options.busyTimeoutMs, 5000, 0, 3_600_000),
      flushIntervalMs: clampInt('flushIntervalMs', options.flushIntervalMs, 200, 1, 3_600_000),
      flushMaxRows: clampInt('flushMaxRows', options.flushMaxRows, 500, 1, 100_000),
      commitDelayMs: clampInt('commitDelayMs', options.commitDelayMs, 0, 0, 10_000),
      maxQueueRows: clampInt('maxQueueRows', options.maxQueueRows, 100_000, 1, 100_000_000),
      synchronous: options.synchronous ?? 'NORMAL',
      monitorIntervalMs: clampInt('monitorIntervalMs', options.monitorIntervalMs, 2000, 0, 3_600_000),
      minFreeBytes: clampInt('minFreeBytes', options.minFreeBytes, 64 * 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
      poolSize: clampInt('poolSize', options.poolSize, 4, 1, 100),
    };
    if (effective.synchronous !== 'NORMAL' && effective.synchronous !== 'FULL') {
      throw new RangeError(`synchronous must be 'NORMAL' or 'FULL', got ${String(effective.synchronous)}`);
    }
    const migrations = options.migrations ?? MIGRATIONS;
    const gateway = options.gateway ?? '';
    if (typeof gateway !== 'string' || gateway.length > 100 || [...gateway].some((c) => c.charCodeAt(0) < 0x20)) {
      throw new RangeError('gateway must be a string of at most 100 characters without control characters');
    }
    if (options.path === ':memory:') {
      const core = await StoreCore.create(':memory:', effective, migrations);
      core.refs = 1;
      return new LightingStore(core, gateway);
    }
    const pgUrl = isPostgresUrl(options.path) ? options.path : undefined;
    const key = pgUrl !== undefined ? parsePostgresUrl(pgUrl).key : resolveKey(options.path);
    for (let p = closing.get(key); p !== undefined; p = closing.get(key)) await p.catch(() => undefined);
    let entry = registry.get(key);
    if (entry === undefined) {
      entry = { refs: 0, ready: StoreCore.create(key, { ...effective, path: key }, migrations, pgUrl, options.password) };
      registry.set(key, entry);
    }
    entry.refs += 1;
    let core: StoreCore;
    try {
      core = await entry.ready;
    } catch (err) {
      entry.refs -= 1;
      if (registry.get(key) === entry) registry.delete(key);
      throw err;
    }
    core.refs = entry.refs;
    return new LightingStore(core, gateway);
  }

  /** Resolved paths of the databases open in this process (for diagnostics and tests). */
  static openFiles(): string[] {
    return [...registry.keys()];
  }

  /** Identity of the underlying connection: equal for handles sharing one. */
  get connectionId(): number {
    return this.#core.id;
  }

  /** Absolute (resolved) database path; for PostgreSQL the URL without its password. */
  get path(): string {
    return this.#core.key;
  }

  /** 'sqlite' or 'postgres'. */
  get engine(): 'sqlite' | 'postgres' {
    return this.#core.db.engine;
  }

  get options(): EffectiveStoreOptions {
    return { ...this.#core.options };
  }

  get schemaVersion(): number {
    return this.#core.schemaVersion;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The storage fault in force (file deleted or replaced, read-only, writes
   * failing, low space), or null. Changes are emitted as 'storage' events
   * (fault or null, previous); a recovered file as 'recovered'.
   */
  get storageFault(): StorageFault | null {
    return this.#core.fault();
  }

  /** true when opening created the database file (there was none at the path). */
  get createdFile(): boolean {
    return this.#core.createdFile;
  }

  /** The error a write gets now without being tried (file deleted, replaced or read-only), else null. */
  writeRefusal(): StorageUnavailableError | null {
    return this.#core.refusal();
  }

  /** Runs the storage monitor's checks now (they also run every monitorIntervalMs). */
  checkStorage(): Promise<void> {
    return this.#core.check();
  }

  /**
   * Validates `row` (throws nothing: a bad row gives a rejected promise with
   * RowValidationError, and nothing is queued), queues it, and resolves when
   * queued or, with waitForCommit, after its transaction committed. With
   * waitForCommit a failed write rejects with FlushError; without it the
   * failure is emitted as a 'flushError' event on this handle.
   */
  insert<T extends TableName>(table: T, row: RowTypes[T], options: InsertOptions = {}): Promise<InsertAck> {
    if (this.#closed || this.#core.closed) return Promise.reject(new StoreClosedError('the lighting store is closed'));
    if (!isTableName(table)) return Promise.reject(new RangeError(`unknown table ${JSON.stringify(String(table))}`));
    const core = this.#core;
    const refused = core.refusal();
    if (refused !== null) return Promise.reject(refused);
    if (core.queue.length >= core.options.maxQueueRows) {
      return Promise.reject(
        new QueueFullError(`write queue full (${core.options.maxQueueRows} rows): the database is not keeping up; row not stored`),
      );
    }
    let params: SqlValue[];
    try {
      params = WRITERS[table].params(row);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (GATEWAY_TABLES.includes(table) && core.schemaVersion >= GATEWAY_VERSION) params.push(this.#gateway);
    core.seq += 1;
    if (options.waitForCommit !== true) {
      core.enqueue({ seq: core.seq, table, params, owner: this });
      return Promise.resolve(QUEUED_ACK);
    }
    const seq = core.seq;
    return new Promise<InsertAck>((resolve, reject) => {
      core.enqueue({ seq, table, params, owner: this, resolve, reject });
    });
  }

  /** Writes every row queued so far (all handles); resolves when they committed or failed. */
  flush(): Promise<void> {
    return this.#core.flush();
  }

  /** Writer counters (shared by all handles of the file). */
  writerStats(): WriterStats {
    return { ...this.#core.stats, queuedRows: this.#core.queue.length };
  }

  /**
   * Runs `fn` with the connection while holding the store's lock (no batch,
   * query or other exclusive section runs meanwhile). For retention and
   * maintenance; keep each call short (a few ms) so writers do not stall.
   * `fn` must not call this store's other methods (they wait for the lock).
   * Rows still queued are not flushed first (call flush() before if needed).
   */
  exclusive<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.#closed || this.#core.closed) return Promise.reject(new StoreClosedError('the lighting store is closed'));
    const core = this.#core;
    return core.lock.run(() => {
      const refused = core.connectionClosed ? core.refusal() : null;
      if (refused !== null) throw refused;
      return fn(core.db);
    });
  }

  /** @internal retention.ts: one prune per database at a time. */
  tryBeginPrune(): boolean {
    if (this.#core.pruning) return false;
    this.#core.pruning = true;
    return true;
  }

  /** @internal */
  endPrune(): void {
    this.#core.pruning = false;
  }

  /** true once this handle or the database is closing: long jobs (prune) stop between batches. */
  get stopping(): boolean {
    return this.#closed || this.#core.closed;
  }

  /** Queries see every row inserted before them (read-your-writes): queued rows are flushed first. */
  async #read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.#core.queue.length > 0 || this.#core.running !== null) await this.#core.flush();
    return this.exclusive(fn);
  }

  /** Latest `n` windows of `zone`, newest first (snapshots included unless includePartial is false). */
  async latestFeatureWindows(zone: string, n: number, options: { includePartial?: boolean } = {}): Promise<FeatureWindow[]> {
    const limit = clampInt('n', n, 3, 0, 100_000);
    const partial = options.includePartial === false ? 'AND partial = 0' : '';
    return this.#read(async (db) => {
      const stmt = await db.cached(
        `SELECT * FROM feature_windows WHERE gateway = ? AND zone = ? ${partial} ORDER BY window_start DESC LIMIT ?`,
      );
      return (await stmt.all([this.#gateway, zone, limit])).map(featureWindowFromSql);
    });
  }

  /**
   * Complete windows of `zone` starting in [since, until), oldest first, at most
   * `limit` (default 5000: a week of 2-minute windows) - what a report reads.
   */
  async featureWindowsBetween(zone: string, since: number, until: number, limit = 5000): Promise<FeatureWindow[]> {
    const from = optionalTime('since', since) ?? 0;
    const to = optionalTime('until', until) ?? 0;
    const n = clampInt('limit', limit, 5000, 1, 100_000);
    return this.#read(async (db) => {
      const stmt = await db.cached(
        'SELECT * FROM feature_windows WHERE gateway = ? AND zone = ? AND partial = 0 AND window_start >= ? AND window_start < ? ORDER BY window_start LIMIT ?',
      );
      return (await stmt.all([this.#gateway, zone, from, to, n])).map(featureWindowFromSql);
    });
  }

  /** Zones with at least one feature window (loose index scan: O(zones log n)). */
  featureWindowZones(): Promise<string[]> {
    return this.#read(async (db) => {
      const stmt = await db.cached(
        `WITH RECURSIVE z(zone) AS (
           SELECT MIN(zone) FROM feature_windows WHERE gateway = ?
           UNION ALL
           SELECT (SELECT MIN(zone) FROM feature_windows WHERE gateway = ? AND zone > z.zone) FROM z WHERE z.zone IS NOT NULL
         ) SELECT zone FROM z WHERE zone IS NOT NULL`,
      );
      const rows = await stmt.all<{ zone: string }>([this.#gateway, this.#gateway]);
      return rows.map((r) => r.zone);
    });
  }

  /** Latest `n` complete windows of every zone (newest first within a zone): what a feature engine restores. */
  async latestFeatureWindowsPerZone(n: number, options: { includePartial?: boolean } = {}): Promise<FeatureWindow[]> {
    const zones = await this.featureWindowZones();
    const out: FeatureWindow[] = [];
    for (const zone of zones) {
      out.push(...(await this.latestFeatureWindows(zone, n, { includePartial: options.includePartial === true })));
    }
    return out;
  }

  /** One page of `table`, newest first; `conditions` are fixed SQL conditions without parameters. */
  async #page<T>(
    table: 'decisions' | 'telemetry' | 'alerts',
    q: PageQuery,
    extra: Array<[string, SqlValue]>,
    map: (r: SqlRow) => T,
    conditions: readonly string[] = [],
  ): Promise<Page<T>> {
    const limit = clampInt('limit', q.limit, 50, 1, 1000);
    const offset = q.cursor === undefined ? clampInt('offset', q.offset, 0, 0, Number.MAX_SAFE_INTEGER) : 0;
    const where: string[] = [...conditions];
    const params: SqlValue[] = [];
    if (q.zone !== undefined) {
      where.push('zone = ?');
      params.push(String(q.zone));
    }
    if (q.gateway !== undefined) {
      where.push('gateway = ?');
      params.push(String(q.gateway));
    }
    const since = optionalTime('since', q.since);
    const until = optionalTime('until', q.until);
    if (since !== undefined) {
      where.push('ts >= ?');
      params.push(since);
    }
    if (until !== undefined) {
      where.push('ts < ?');
      params.push(until);
    }
    for (const [column, value] of extra) {
      where.push(`${column} = ?`);
      params.push(value);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const pageWhere = [...where];
    const pageParams = [...params];
    if (q.cursor !== undefined) {
      const c = parseCursor(q.cursor);
      pageWhere.push('(ts < ? OR (ts = ? AND id < ?))');
      pageParams.push(c.ts, c.ts, c.id);
    }
    const pageFilter = pageWhere.length > 0 ? `WHERE ${pageWhere.join(' AND ')}` : '';
    return this.#read(async (db) => {
      // Few distinct filter combinations: each SQL text is prepared once and cached.
      const totalRow = await (await db.cached(`SELECT COUNT(*) AS n FROM ${table} ${filter}`)).get<{ n: number }>(params);
      const rows = await (
        await db.cached(`SELECT * FROM ${table} ${pageFilter} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?`)
      ).all([...pageParams, limit + 1, offset]);
      const more = rows.length > limit;
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(map),
        total: totalRow?.n ?? 0,
        limit,
        offset,
        nextCursor: more && last ? cursorOf(Number(last.ts), Number(last.id)) : null,
      };
    });
  }

  /** Decisions, newest first, paginated (offset or cursor), with the total matching the filters. */
  decisions(q: PageQuery & { source?: SetpointSource } = {}): Promise<Page<DecisionRecord>> {
    const extra: Array<[string, SqlValue]> = q.source !== undefined ? [['source', String(q.source)]] : [];
    return this.#page('decisions', q, extra, decisionFromSql);
  }

  /** Telemetry, newest first, paginated, optionally of one kind. */
  telemetry(q: PageQuery & { kind?: string } = {}): Promise<Page<TelemetryRecord>> {
    const extra: Array<[string, SqlValue]> = q.kind !== undefined ? [['kind', String(q.kind)]] : [];
    return this.#page('telemetry', q, extra, telemetryFromSql);
  }

  /** Overrides in force at `now`: started, not cleared, not expired. Oldest first. */
  async activeOverrides(now: number, zone?: string): Promise<ManualOverrideRecord[]> {
    const at = optionalTime('now', now) ?? Date.now();
    return this.#read(async (db) => {
      const rows =
        zone === undefined
          ? await (
              await db.cached(
                `SELECT * FROM manual_overrides WHERE gateway = ? AND cleared_at IS NULL AND started_at <= ?
                 AND (expires_at IS NULL OR expires_at > ?) ORDER BY started_at, id`,
              )
            ).all([this.#gateway, at, at])
          : await (
              await db.cached(
                `SELECT * FROM manual_overrides WHERE gateway = ? AND zone = ? AND cleared_at IS NULL AND started_at <= ?
                 AND (expires_at IS NULL OR expires_at > ?) ORDER BY started_at, id`,
              )
            ).all([this.#gateway, zone, at, at]);
      return rows.map(overrideFromSql);
    });
  }

  /**
   * Marks open overrides cleared at `clearedAt` (by id, or every open one of
   * a zone, or every open one). Like every query, it flushes queued rows
   * first, so an override inserted just before is cleared too. Returns how
   * many were cleared.
   */
  async clearOverrides(sel: { id?: number; zone?: string; clearedAt?: number } = {}): Promise<number> {
    const clearedAt = optionalTime('clearedAt', sel.clearedAt) ?? Date.now();
    return this.#read(async (db) => {
      if (sel.id !== undefined) {
        return (await db.run('UPDATE manual_overrides SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL', [clearedAt, sel.id]))
          .changes;
      }
      if (sel.zone !== undefined) {
        return (
          await db.run('UPDATE manual_overrides SET cleared_at = ? WHERE gateway = ? AND zone = ? AND cleared_at IS NULL', [
            clearedAt,
            this.#gateway,
            sel.zone,
          ])
        ).changes;
      }
      return (
        await db.run('UPDATE manual_overrides SET cleared_at = ? WHERE gateway = ? AND cleared_at IS NULL', [clearedAt, this.#gateway])
      ).changes;
    });
  }

  /** The stored (encrypted) profile, or null. */
  async getProfile(profileId: string): Promise<PersonalProfileRecord | null> {
    return this.#read(async (db) => {
      const row = await (await db.cached('SELECT * FROM personal_profiles WHERE profile_id = ?')).get([profileId]);
      return row ? profileFromSql(row) : null;
    });
  }

  /** The most recently stored (or replaced) profile, still encrypted, or null when there is none. */
  async latestProfile(): Promise<PersonalProfileRecord | null> {
    return this.#read(async (db) => {
      const row = await (await db.cached('SELECT * FROM personal_profiles ORDER BY updated_at DESC, rowid DESC LIMIT 1')).get();
      return row ? profileFromSql(row) : null;
    });
  }

  async deleteProfile(profileId: string): Promise<boolean> {
    return this.#read(async (db) => (await db.run('DELETE FROM personal_profiles WHERE profile_id = ?', [profileId])).changes > 0);
  }

  /** Rows per table (committed rows only). */
  counts(): Promise<Record<TableName, number>> {
    return this.#read(async (db) => {
      const out = {} as Record<TableName, number>;
      for (const table of TABLES) {
        const row = await (await db.cached(`SELECT COUNT(*) AS n FROM ${table}`)).get<{ n: number }>();
        out[table] = row?.n ?? 0;
      }
      return out;
    });
  }

  /**
   * Raw sensor events with since <= ts < until (optionally one zone; late ones
   * excluded unless includeLate), oldest first, read in pages of `pageRows`
   * (keyset on (ts, id): constant memory, the lock is held per page only).
   */
  async *rawSensorEvents(q: {
    since: number;
    until?: number;
    zone?: string;
    includeLate?: boolean;
    pageRows?: number;
  }): AsyncGenerator<RawSensorEventRow & { id: number }> {
    const pageRows = clampInt('pageRows', q.pageRows, 1000, 1, 100_000);
    const until = optionalTime('until', q.until) ?? Number.MAX_SAFE_INTEGER;
    let ts = optionalTime('since', q.since) ?? 0;
    let id = -1;
    const late = q.includeLate === true ? '' : 'AND late = 0';
    const zone = q.zone === undefined ? '' : 'AND zone = ?';
    const sql = `SELECT * FROM raw_sensor_events WHERE (ts > ? OR (ts = ? AND id > ?)) AND ts < ? AND gateway = ? ${zone} ${late}
                 ORDER BY ts, id LIMIT ?`;
    for (;;) {
      const params: SqlValue[] = [ts, ts, id, until, this.#gateway];
      if (q.zone !== undefined) params.push(q.zone);
      params.push(pageRows);
      const rows = await this.#read(async (db) => (await db.cached(sql)).all(params));
      for (const r of rows) yield rawEventFromSql(r);
      if (rows.length < pageRows) return;
      const last = rows[rows.length - 1] as SqlRow;
      ts = Number(last.ts);
      id = Number(last.id);
    }
  }

  /** Largest ts in this gateway's raw_sensor_events (index lookup), or null when empty. */
  latestRawTs(): Promise<number | null> {
    return this.#read(async (db) => {
      const row = await (
        await db.cached('SELECT MAX(ts) AS ts FROM raw_sensor_events WHERE gateway = ?')
      ).get<{ ts: number | null }>([this.#gateway]);
      return row?.ts ?? null;
    });
  }

  /** Latest weather update per zone (zone null = every zone) with ts >= since. */
  async latestWeather(since: number): Promise<WeatherUpdate[]> {
    const from = optionalTime('since', since) ?? 0;
    return this.#read(async (db) => {
      const stmt = await db.cached(
        `SELECT w.* FROM weather_events w
         JOIN (SELECT zone, MAX(ts) AS ts FROM weather_events WHERE ts >= ? GROUP BY zone) m
           ON w.zone IS m.zone AND w.ts = m.ts
         ORDER BY w.ts, w.id`,
      );
      const rows = await stmt.all([from]);
      return rows.map((r) => {
        const { id: _id, ...update } = weatherFromSql(r);
        return update;
      });
    });
  }

  /**
   * Raises an alert, unless an active (unresolved) alert of the same kind and
   * zone exists: then nothing is written and that alert's id is returned
   * (created: false). Written at once (not via the batched queue), in its
   * own transaction. Rejects with RowValidationError for a bad row.
   */
  async raiseAlert(row: AlertRow): Promise<{ id: number; created: boolean }> {
    const params = alertParams(row);
    const [, zone, kind] = params;
    const findActive = async (db: Db): Promise<number | null> => {
      const found = await (
        await db.cached("SELECT id FROM alerts WHERE gateway = ? AND kind = ? AND IFNULL(zone, '') = IFNULL(?, '') AND resolved_at IS NULL")
      ).get<{ id: number }>([this.#gateway, kind, zone]);
      return found ? found.id : null;
    };
    return this.#read(async (db) => {
      await db.run('BEGIN IMMEDIATE');
      try {
        const existing = await findActive(db);
        if (existing !== null) {
          await db.run('COMMIT');
          return { id: existing, created: false };
        }
        const info = await db.run('INSERT INTO alerts (ts, zone, kind, severity, message, data, gateway) VALUES (?, ?, ?, ?, ?, ?, ?)', [
          ...params,
          this.#gateway,
        ]);
        await db.run('COMMIT');
        return { id: info.lastID, created: true };
      } catch (err) {
        await db.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** One alert by id, or null. */
  getAlert(id: number): Promise<AlertRecord | null> {
    if (!Number.isSafeInteger(id)) return Promise.resolve(null);
    return this.#read(async (db) => {
      const row = await (await db.cached('SELECT * FROM alerts WHERE id = ?')).get([id]);
      return row ? alertFromSql(row) : null;
    });
  }

  /**
   * Alerts, newest first (ts, then id), paginated like decisions().
   * status: "active" (default: unresolved), "resolved" or "all".
   */
  async alerts(q: PageQuery & { status?: 'active' | 'resolved' | 'all'; kind?: AlertKind } = {}): Promise<Page<AlertRecord>> {
    const status = q.status ?? 'active';
    if (status !== 'active' && status !== 'resolved' && status !== 'all') {
      throw new RangeError(`status must be 'active', 'resolved' or 'all', got ${String(status)}`);
    }
    const conditions = status === 'active' ? ['resolved_at IS NULL'] : status === 'resolved' ? ['resolved_at IS NOT NULL'] : [];
    const extra: Array<[string, SqlValue]> = q.kind !== undefined ? [['kind', String(q.kind)]] : [];
    return this.#page('alerts', q, extra, alertFromSql, conditions);
  }

  /**
   * Resolves alert `id` (idempotent: an already resolved alert keeps its
   * first resolvedAt/resolvedBy and gives changed: false). found: false for
   * an unknown id (answer 404). `by`: who resolved it (user, "auto", ...).
   */
  async resolveAlert(
    id: number,
    by: string,
    at: number = Date.now(),
  ): Promise<{ found: false } | { found: true; changed: boolean; alert: AlertRecord }> {
    const when = optionalTime('at', at) ?? Date.now();
    if (typeof by !== 'string' || by.trim() === '' || by.length > 200) {
      throw new RangeError('resolveAlert: by must be a non-empty string of at most 200 characters');
    }
    if (!Number.isSafeInteger(id)) return { found: false };
    return this.#read(async (db) => {
      const info = await db.run('UPDATE alerts SET resolved_at = ?, resolved_by = ? WHERE id = ? AND resolved_at IS NULL', [when, by, id]);
      const row = await (await db.cached('SELECT * FROM alerts WHERE id = ?')).get([id]);
      if (!row) return { found: false as const };
      return { found: true as const, changed: info.changes > 0, alert: alertFromSql(row) };
    });
  }

  /**
   * A decision the gate recorded as applied whose setpoint then failed on its
   * way to the gear (interface unplugged, bus error): marked not applied
   * (`blocked_by` 'not-sent', the failure appended to its reason), so the
   * telemetry and the energy figures do not count it. Only this gateway's
   * row of `zone` with `msgId`, written at or after `since` (epoch ms).
   * Resolves whether a row changed.
   */
  async markDecisionNotSent(msgId: string, zone: string, detail: string, since: number): Promise<boolean> {
    if (typeof msgId !== 'string' || msgId === '' || msgId.length > 200)
      throw new RangeError('markDecisionNotSent: msgId must be a short string');
    if (typeof zone !== 'string' || zone === '') throw new RangeError('markDecisionNotSent: zone must be a non-empty string');
    const from = optionalTime('since', since) ?? 0;
    const note = `; not sent: ${String(detail).slice(0, 300)}`;
    return this.#read(
      async (db) =>
        (
          await db.run(
            "UPDATE decisions SET applied = 0, blocked_by = 'not-sent', reason = reason || ? WHERE gateway = ? AND zone = ? AND ts >= ? AND msg_id = ? AND applied = 1",
            [note, this.#gateway, zone, from, msgId],
          )
        ).changes > 0,
    );
  }

  /** SELECT 1 (and PRAGMA quick_check when asked). Never rejects. */
  async healthCheck(options: { quickCheck?: boolean } = {}): Promise<HealthReport> {
    const t0 = performance.now();
    const core = this.#core;
    const fault = core.fault();
    const base = {
      schemaVersion: core.schemaVersion,
      queuedRows: core.queue.length,
      ...(fault !== null ? { fault: { ...fault } } : {}),
      ...(core.space !== null ? { space: { ...core.space } } : {}),
    };
    try {
      const result = await this.#read(async (db) => {
        await db.get('SELECT 1');
        if (db.engine === 'postgres') return { mode: 'postgresql', quick: options.quickCheck ? 'ok' : undefined };
        const mode = await db.get<{ journal_mode: string }>('PRAGMA journal_mode');
        let quick: string | undefined;
        if (options.quickCheck) {
          const rows = await db.all<{ quick_check: string }>('PRAGMA quick_check');
          quick = rows.map((r) => r.quick_check).join('; ');
        }
        return { mode: mode?.journal_mode ?? 'unknown', quick };
      });
      const report: HealthReport = {
        ok: fault === null && (result.quick === undefined || result.quick === 'ok'),
        database: fault === null ? 'ok' : fault.message,
        latencyMs: performance.now() - t0,
        journalMode: result.mode,
        ...base,
      };
      if (result.quick !== undefined) report.quickCheck = result.quick;
      return report;
    } catch (err) {
      return {
        ok: false,
        database:
          fault !== null && core.recoveryError !== null
            ? `${fault.message}; could not be adopted: ${core.recoveryError}`
            : (fault?.message ?? maskSecrets((err as Error).message)),
        latencyMs: performance.now() - t0,
        journalMode: 'unknown',
        ...base,
      };
    }
  }

  /**
   * Flushes, then releases this handle; the last handle closes the database.
   * Idempotent. Rows queued by this handle are written before it resolves.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    const core = this.#core;
    core.handles.delete(this);
    this.#closing = (async () => {
      // PostgreSQL unreachable: the rows stay queued for the other handles; the last one's shutdown reports them.
      await core.flush().catch(() => undefined);
      if (core.key === ':memory:') {
        await core.shutdown();
        return;
      }
      const entry = registry.get(core.key);
      if (entry === undefined) return;
      entry.refs -= 1;
      core.refs = entry.refs;
      if (entry.refs > 0) return;
      registry.delete(core.key);
      const done = core.shutdown();
      closing.set(core.key, done);
      try {
        await done;
      } finally {
        if (closing.get(core.key) === done) closing.delete(core.key);
      }
    })();
    return this.#closing;
  }

  override on(event: 'flushError', listener: (err: FlushError) => void): this;
  override on(event: 'storage', listener: (fault: StorageFault | null, before: StorageFault | null) => void): this;
  override on(event: 'recovered', listener: (report: RecoveryReport) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
}
