/**
 * PostgreSQL for the lighting store, with node-postgres (`pg`).
 *
 * PgDb is the PostgreSQL counterpart of sqlite.ts's Db: the store's SQL (in
 * SQLite's dialect) is translated once per text (dialect.ts) and run as a
 * named prepared statement. A bounded pool (`poolSize`, default 4) holds the
 * connections: the store's serialised sections (batch transactions, queries,
 * prune batches; see store.ts's lock) use one pinned connection, so BEGIN ..
 * COMMIT stay on one session; exports (cursor) and migrations take their own.
 *
 * Server restarts: a query failing because the connection is gone
 * (isConnectionError) drops the pinned connection; the next query takes a
 * fresh one from the pool. The store keeps the batch queued meanwhile and
 * retries it (store.ts); `onState` reports "down: <why>" / "up" so status and
 * /healthz say what is wrong while it lasts.
 *
 * Migrations: the same numbered list as SQLite (schema.ts, translated by
 * pgDdl), recorded in schema_migrations, each in its own transaction, all
 * under a session advisory lock so two instances starting at once cannot both
 * migrate.
 */
import * as pg from 'pg';
import { pgDdl, pgQuery } from './dialect';
import { indicesByTable, type SqlDb, type SqlStmt } from './engine';
import { maskDatabaseUrl, parsePostgresUrl, type PgTarget } from './pg-url';
import { MIGRATIONS, SchemaVersionError, latestVersion, statementFor, type Migration, type MigrationReport } from './schema';
import type { RunInfo, SqlRow, SqlValue } from './sqlite';

/** Advisory lock key of the store's migrations ("lighting" as 32-bit ASCII, in the low word). */
export const MIGRATION_LOCK_KEY = 0x6c696768;

export interface PgOptions {
  /** Most connections this store opens. Default 4. */
  poolSize?: number;
  /** Password (the node's credential); else the URL's, else PGPASSWORD. */
  password?: string;
  /** Connect timeout, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Statement timeout, ms (0 = none). Default 0. */
  statementTimeoutMs?: number;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
  '53300', // too_many_connections
]);

/** true when `err` means the server or the connection is gone (retry later), not that the SQL or a row is wrong. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect/i.test(
    err.message,
  );
}

const INT8 = 20;
const NUMERIC = 1700;

/** BIGINT (counts, epoch ms) and NUMERIC (AVG, SUM) as JS numbers, as SQLite returns them. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function sslOption(target: PgTarget): pg.PoolConfig['ssl'] {
  switch (target.sslmode) {
    case undefined:
    case 'disable':
    case 'allow':
    case 'prefer':
      // node-postgres has no "try TLS, fall back": these connect without TLS (say sslmode=require for TLS).
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

export class PgStmt implements SqlStmt {
  readonly sql: string;
  readonly #db: PgDb;
  constructor(sql: string, db: PgDb) {
    this.sql = sql;
    this.#db = db;
  }
  runCb(params: readonly SqlValue[], cb: (err: Error | null, info: RunInfo) => void): void {
    this.#db.run(this.sql, params).then(
      (info) => cb(null, info),
      (err: Error) => cb(err, { lastID: 0, changes: 0 }),
    );
  }
  run(params: readonly SqlValue[] = []): Promise<RunInfo> {
    return this.#db.run(this.sql, params);
  }
  get<T = SqlRow>(params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.#db.get<T>(this.sql, params);
  }
  all<T = SqlRow>(params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#db.all<T>(this.sql, params);
  }
  finalize(): Promise<void> {
    return Promise.resolve();
  }
}

export class PgDb implements SqlDb {
  readonly engine = 'postgres' as const;
  /** The URL with its password masked. */
  readonly file: string;
  readonly target: PgTarget;
  readonly pool: pg.Pool;
  readonly poolSize: number;
  /** Called with null when a query succeeds after a failure, with the reason when the connection is lost. */
  onState: ((down: string | null) => void) | null = null;
  #client: pg.PoolClient | null = null;
  #connecting: Promise<pg.PoolClient> | null = null;
  #down: string | null = null;
  readonly #names = new Map<string, { name: string; text: string }>();
  readonly #password: string | undefined;

  constructor(url: string, options: PgOptions = {}) {
    this.target = parsePostgresUrl(url);
    this.file = this.target.masked;
    this.poolSize = options.poolSize ?? 4;
    this.#password = options.password !== undefined && options.password !== '' ? options.password : this.target.password;
    const config: pg.PoolConfig = {
      host: this.target.host,
      port: this.target.port,
      database: this.target.database,
      max: this.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? (this.target.connectTimeoutS ?? 5) * 1000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      ssl: sslOption(this.target),
      types: TYPES,
      application_name: this.target.applicationName ?? 'node-red-smart-lighting',
    };
    if (this.target.user !== undefined) config.user = this.target.user;
    if (this.#password !== undefined) config.password = this.#password;
    if (options.statementTimeoutMs !== undefined && options.statementTimeoutMs > 0) config.statement_timeout = options.statementTimeoutMs;
    this.pool = new pg.Pool(config);
    // An idle pooled connection whose server went away emits 'error'; without a listener it would crash Node-RED.
    // The pool drops that connection itself; only the pinned connection's errors say the store is cut off.
    this.pool.on('error', () => undefined);
  }

  /** The current connection problem, or null. */
  get down(): string | null {
    return this.#down;
  }

  /** An error whose message names the server but never the password. */
  clean(err: unknown): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    let msg = maskDatabaseUrl(e.message);
    if (this.#password !== undefined && this.#password.length >= 3) msg = msg.split(this.#password).join('***');
    if (isConnectionError(e) && !msg.startsWith('PostgreSQL '))
      msg = `PostgreSQL ${this.target.host}:${this.target.port} unreachable: ${msg}`;
    if (msg === e.message) return e;
    const out = new Error(msg) as Error & { code?: unknown };
    out.code = (e as Error & { code?: unknown }).code;
    return out;
  }

  #lost(err: unknown): void {
    const c = this.#client;
    this.#client = null;
    if (c !== null) {
      try {
        c.release(err instanceof Error ? err : new Error(String(err)));
      } catch {
        // already released
      }
    }
    const why = this.clean(err).message;
    const changed = this.#down !== why;
    this.#down = why;
    if (changed) this.onState?.(why);
  }

  #ok(): void {
    if (this.#down !== null) {
      this.#down = null;
      this.onState?.(null);
    }
  }

  async #conn(): Promise<pg.PoolClient> {
    if (this.#client !== null) return this.#client;
    if (this.#connecting === null) {
      this.#connecting = this.pool.connect().then(
        (c) => {
          this.#connecting = null;
          c.on('error', (err) => {
            if (this.#client === c) this.#lost(err);
          });
          this.#client = c;
          return c;
        },
        (err: unknown) => {
          this.#connecting = null;
          throw err;
        },
      );
    }
    return this.#connecting;
  }

  #translate(sql: string): { name: string; text: string } {
    let t = this.#names.get(sql);
    if (t === undefined) {
      t = { name: `sl_${this.#names.size + 1}`, text: pgQuery(sql) };
      this.#names.set(sql, t);
    }
    return t;
  }

  /** Runs `sql` (SQLite dialect) on the pinned connection. Transaction control runs unprepared. */
  async query(sql: string, params: readonly SqlValue[] = []): Promise<pg.QueryResult> {
    const t = this.#translate(sql);
    let client: pg.PoolClient;
    try {
      client = await this.#conn();
    } catch (err) {
      this.#lost(err);
      throw this.clean(err);
    }
    try {
      const simple = params.length === 0 && /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|LOCK)\b/i.test(t.text);
      const r = simple ? await client.query(t.text) : await client.query({ name: t.name, text: t.text, values: params as unknown[] });
      this.#ok();
      return r;
    } catch (err) {
      if (isConnectionError(err)) this.#lost(err);
      throw this.clean(err);
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<RunInfo> {
    const r = await this.query(sql, params);
    const info: RunInfo = { lastID: 0, changes: r.rowCount ?? 0 };
    if (r.command === 'INSERT' && r.rows.length > 0 && r.rows[0] && 'id' in r.rows[0]) {
      info.ids = r.rows.map((row: { id: number }) => Number(row.id));
      info.lastID = info.ids[info.ids.length - 1] as number;
    }
    return info;
  }

  async get<T = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async all<T = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  /** Several statements, no parameters (DDL). */
  async exec(sql: string): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#conn();
    } catch (err) {
      this.#lost(err);
      throw this.clean(err);
    }
    try {
      await client.query(pgDdl(sql));
      this.#ok();
    } catch (err) {
      if (isConnectionError(err)) this.#lost(err);
      throw this.clean(err);
    }
  }

  prepare(sql: string): Promise<SqlStmt> {
    this.#translate(sql);
    return Promise.resolve(new PgStmt(sql, this));
  }

  cached(sql: string): Promise<SqlStmt> {
    return this.prepare(sql);
  }

  setBusyTimeout(): void {
    // SQLite only: PostgreSQL waits for row locks itself.
  }

  /** A connection of its own (exports, migrations); release it with client.release(). */
  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.clean(err);
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (c !== null) c.release();
    await this.pool.end().catch(() => undefined);
  }
}

/** Current schema version (0 = no schema_migrations table). */
async function pgSchemaVersion(client: pg.PoolClient): Promise<number> {
  const t = await client.query<{ n: string }>(
    "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'",
  );
  if (Number(t.rows[0]?.n ?? 0) === 0) return 0;
  const r = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return Number(r.rows[0]?.v ?? 0);
}

/**
 * Brings a PostgreSQL schema up to date with the same numbered migrations as
 * SQLite, under an advisory lock (a second instance waits, then finds the
 * work done). Each migration in its own transaction.
 */
export async function migratePg(db: PgDb, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const target = latestVersion(sorted);
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const from = await pgSchemaVersion(client);
      if (from > target) throw new SchemaVersionError(db.file, from, target);
      const applied: number[] = [];
      for (const m of sorted) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          for (const sql of m.statements) {
            const stmt = statementFor('postgres', sql);
            if (stmt !== null) await client.query(pgDdl(stmt));
          }
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
          applied.push(m.version);
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.version} (${m.name}) failed on ${db.file}: ${db.clean(err).message}`, { cause: err });
        }
      }
      return { from, to: await pgSchemaVersion(client), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } catch (err) {
    if (isConnectionError(err)) broken = err as Error;
    throw err instanceof SchemaVersionError ? err : db.clean(err);
  } finally {
    client.release(broken);
  }
}

/** Rows per multi-row INSERT on PostgreSQL: 1, 2, 4, ... 256 (a handful of prepared statements per table). */
export const PG_MAX_ROWS_PER_INSERT = 256;

export type PgBatchOutcome =
  | { ok: true; ids: Array<number | null> }
  | { ok: false; rowErrors: Map<number, Error>; error: Error; ambiguous: boolean };

/**
 * One transaction writing `batch` (rows of several tables) on PostgreSQL:
 * per table, in arrival order, multi-row INSERTs of up to 256 rows (upserts
 * one row per statement), or one row per INSERT inside its own SAVEPOINT when
 * `perRow` (a failing row does not abort the others, so each row's own error
 * is known). Rolls back on any error. A lost connection is the transaction's
 * error (rowErrors empty), never a row's.
 */
export async function pgTryBatch(
  db: PgDb,
  batch: ReadonlyArray<{ table: string; params: readonly SqlValue[] }>,
  perRow: boolean,
  sqlFor: (table: string, rows: number) => string,
  isUpsert: (table: string) => boolean,
): Promise<PgBatchOutcome> {
  try {
    await db.run('BEGIN');
  } catch (err) {
    return { ok: false, rowErrors: new Map(), error: err as Error, ambiguous: false };
  }
  const byTable = indicesByTable(batch);
  const ids: Array<number | null> = new Array<number | null>(batch.length).fill(null);
  const rowErrors = new Map<number, Error>();
  let ambiguous = false;
  try {
    for (const [table, indices] of byTable) {
      const single = perRow || isUpsert(table);
      for (let at = 0; at < indices.length; ) {
        let k = 1;
        if (!single) while (k * 2 <= Math.min(indices.length - at, PG_MAX_ROWS_PER_INSERT)) k *= 2;
        const chunk = indices.slice(at, at + k);
        at += k;
        const params: SqlValue[] = [];
        for (const i of chunk) for (const v of (batch[i] as { params: readonly SqlValue[] }).params) params.push(v);
        if (perRow) await db.run('SAVEPOINT row_sp');
        try {
          const info = await db.run(sqlFor(table, k), params);
          chunk.forEach((i, j) => {
            ids[i] = info.ids?.[j] ?? null;
          });
          if (perRow) await db.run('RELEASE SAVEPOINT row_sp');
        } catch (err) {
          if (isConnectionError(err)) throw err;
          for (const i of chunk) rowErrors.set(i, err as Error);
          if (chunk.length > 1) ambiguous = true;
          if (!perRow) throw err;
          await db.run('ROLLBACK TO SAVEPOINT row_sp');
        }
      }
    }
  } catch (err) {
    await db.run('ROLLBACK').catch(() => undefined);
    if (rowErrors.size > 0 && !isConnectionError(err))
      return { ok: false, rowErrors, error: rowErrors.values().next().value as Error, ambiguous };
    return { ok: false, rowErrors: new Map(), error: err as Error, ambiguous: false };
  }
  if (rowErrors.size > 0) {
    await db.run('ROLLBACK').catch(() => undefined);
    return { ok: false, rowErrors, error: rowErrors.values().next().value as Error, ambiguous };
  }
  try {
    await db.run('COMMIT');
    return { ok: true, ids };
  } catch (err) {
    await db.run('ROLLBACK').catch(() => undefined);
    return { ok: false, rowErrors: new Map(), error: err as Error, ambiguous: false };
  }
}
