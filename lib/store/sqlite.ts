/**
 * Promise wrapper over the `sqlite3` (v6) callback API. One Db = one
 * connection, in serialized mode: db.run/exec/prepare run in the order they
 * were issued. Runs of different prepared statements are NOT ordered among
 * themselves (each statement queues its own work), so the batched writer
 * chains the ones whose order matters. Only parameterised SQL is
 * passed values; identifiers never come from input (see schema.ts).
 */
import * as sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;
export type SqlRow = Record<string, SqlValue>;

export interface RunInfo {
  /** rowid of the last inserted row (INSERT only). */
  lastID: number;
  changes: number;
  /** PostgreSQL: the id of every inserted row, in VALUES order (ids of one INSERT need not be consecutive there). */
  ids?: number[];
}

/** An sqlite3 error carries a code such as "SQLITE_BUSY". */
export function sqliteCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export class Stmt {
  readonly sql: string;
  readonly raw: sqlite3.Statement;
  constructor(sql: string, raw: sqlite3.Statement) {
    this.sql = sql;
    this.raw = raw;
  }

  /** Queues a run without waiting (ordered only with other runs of this statement); `cb` gets the outcome. */
  runCb(params: readonly SqlValue[], cb: (err: Error | null, info: RunInfo) => void): void {
    this.raw.run(params, function (this: sqlite3.RunResult, err: Error | null) {
      cb(err, { lastID: this.lastID, changes: this.changes });
    });
  }

  run(params: readonly SqlValue[] = []): Promise<RunInfo> {
    return new Promise((resolve, reject) => {
      this.runCb(params, (err, info) => (err ? reject(err) : resolve(info)));
    });
  }

  /**
   * First row. The statement is reset afterwards: sqlite3's get() leaves a
   * cached statement mid-result (a later get() without parameters would go on
   * with the next row, and the open read would hold back WAL checkpoints).
   */
  get<T = SqlRow>(params: readonly SqlValue[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get<T>(params, (err: Error | null, row?: T) => {
        this.raw.reset(() => (err ? reject(err) : resolve(row)));
      });
    });
  }

  all<T = SqlRow>(params: readonly SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all<T>(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  finalize(): Promise<void> {
    return new Promise((resolve) => {
      this.raw.finalize(() => resolve());
    });
  }
}

export class Db {
  readonly engine = 'sqlite' as const;
  readonly file: string;
  readonly raw: sqlite3.Database;
  readonly #cache = new Map<string, Promise<Stmt>>();

  private constructor(file: string, raw: sqlite3.Database) {
    this.file = file;
    this.raw = raw;
  }

  /** Opens (creating unless readOnly) and switches the connection to serialized mode. */
  static open(file: string, options: { readOnly?: boolean } = {}): Promise<Db> {
    const mode = options.readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const raw = new sqlite3.Database(file, mode, (err: Error | null) => {
        if (err) {
          reject(new Error(`cannot open SQLite database ${file}: ${err.message}`, { cause: err }));
          return;
        }
        raw.serialize();
        resolve(new Db(file, raw));
      });
      // Errors are delivered to callbacks; an 'error' event without a listener would throw.
      raw.on('error', () => undefined);
    });
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunInfo> {
    return new Promise((resolve, reject) => {
      this.raw.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  get<T = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get<T>(sql, params, (err: Error | null, row: T) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all<T>(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  /** Runs several statements (no parameters): DDL and fixed PRAGMAs only. */
  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.exec(sql, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  prepare(sql: string): Promise<Stmt> {
    return new Promise((resolve, reject) => {
      const raw = this.raw.prepare(sql, (err: Error | null) => (err ? reject(err) : resolve(new Stmt(sql, raw))));
    });
  }

  /** Prepared statement for `sql`, prepared once per connection and reused. */
  cached(sql: string): Promise<Stmt> {
    let p = this.#cache.get(sql);
    if (p === undefined) {
      p = this.prepare(sql);
      this.#cache.set(sql, p);
      p.catch(() => this.#cache.delete(sql));
    }
    return p;
  }

  setBusyTimeout(ms: number): void {
    this.raw.configure('busyTimeout', ms);
  }

  /** Finalizes cached statements and closes the connection. */
  async close(): Promise<void> {
    const stmts = [...this.#cache.values()];
    this.#cache.clear();
    for (const p of stmts) {
      try {
        await (await p).finalize();
      } catch {
        // a statement that failed to prepare has nothing to finalize
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.raw.close((err: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
