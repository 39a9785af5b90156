/**
 * What the store needs from a database connection, whichever the engine:
 * sqlite.ts's Db (one SQLite connection) and pg.ts's PgDb (a bounded
 * node-postgres pool, one pinned connection for the store's serialised
 * sections) both provide it. SQL is written in SQLite's dialect; PgDb
 * translates it (dialect.ts).
 */
import type { RunInfo, SqlRow, SqlValue } from './sqlite';

export type Engine = 'sqlite' | 'postgres';

export interface SqlStmt {
  readonly sql: string;
  runCb(params: readonly SqlValue[], cb: (err: Error | null, info: RunInfo) => void): void;
  run(params?: readonly SqlValue[]): Promise<RunInfo>;
  get<T = SqlRow>(params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T = SqlRow>(params?: readonly SqlValue[]): Promise<T[]>;
  finalize(): Promise<void>;
}

export interface SqlDb {
  readonly engine: Engine;
  /** The file path (SQLite) or the URL with its password masked (PostgreSQL): safe to show. */
  readonly file: string;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunInfo>;
  get<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
  prepare(sql: string): Promise<SqlStmt>;
  cached(sql: string): Promise<SqlStmt>;
  setBusyTimeout(ms: number): void;
  close(): Promise<void>;
}

/** The positions of a batch's rows, table by table, in arrival order (one multi-row INSERT run per table). */
export function indicesByTable<T extends string>(batch: ReadonlyArray<{ table: T }>): Map<T, number[]> {
  const byTable = new Map<T, number[]>();
  batch.forEach((row, i) => {
    const list = byTable.get(row.table);
    if (list) list.push(i);
    else byTable.set(row.table, [i]);
  });
  return byTable;
}
