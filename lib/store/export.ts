/**
 * Streaming export of one table to CSV or JSON lines, in constant memory:
 * pages of rows by rowid (keyset pagination, `rowid > last`), each page
 * written as one chunk, waiting for 'drain' whenever the output is full.
 * Memory is one page, whatever the table size.
 *
 * The database is opened read-only on its own connection (never migrated,
 * never written), so exporting from a live file is safe in WAL mode.
 *
 * Values are exported as stored: times epoch ms, booleans 0/1; in JSON lines
 * the JSON text columns (weather, raw, data, setpoint) are embedded as JSON.
 */
import * as fs from 'fs';
import { GATEWAY_TABLES, TABLES, TABLE_INFO, isTableName, type TableName } from './schema';
import { Db, type SqlRow, type SqlValue } from './sqlite';
import { isPostgresUrl } from './pg-url';
import { exportPostgresTable } from './pg-export';

export type ExportFormat = 'csv' | 'jsonl';

export interface ExportOptions {
  dbPath: string;
  table: string;
  format: ExportFormat;
  /** Rows with time >= since (epoch ms); time = the table's time column (ts, window_start, ...). */
  since?: number;
  /** Rows with time < until (epoch ms). */
  until?: number;
  out: NodeJS.WritableStream;
  /** Rows per page. Default 1000. */
  pageRows?: number;
  /** Rows written by this gateway only (tables with a gateway column). */
  gateway?: string;
}

export interface ExportResult {
  table: TableName;
  rows: number;
  bytes: number;
}

/** Wrong invocation (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXPORT_USAGE = `usage: export --db <file|url> --table <name> --format csv|jsonl [--since ISO|ms] [--until ISO|ms] [--gateway name] [--out file]

  --db      SQLite file of the lighting store (opened read-only), or a postgresql:// URL
            (password in the URL or PGPASSWORD; read in one read-only transaction through a cursor)
  --table   one of: ${TABLES.join(', ')}
  --format  csv (header row, RFC 4180 quoting) or jsonl (one JSON object per line)
  --since   only rows with time >= since: ISO 8601 (2024-05-01T00:00:00Z) or epoch ms
  --until   only rows with time < until
  --gateway only rows written by this gateway (bus)
  --out     output file (default: standard output)

exit codes: 0 done, 1 failed (database unreadable, write error), 2 usage error`;

/** ISO 8601 date/time or integer epoch ms → epoch ms. Throws UsageError. */
export function parseTimeArg(name: string, v: string): number {
  const text = v.trim();
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const n = Date.parse(text);
    if (Number.isFinite(n)) return n;
  }
  throw new UsageError(`--${name} must be an ISO 8601 time (e.g. 2024-05-01T00:00:00Z) or epoch ms, got ${JSON.stringify(v)}`);
}

export interface ExportArgs {
  db: string;
  table: string;
  format: ExportFormat;
  since?: number;
  until?: number;
  gateway?: string;
  out?: string;
  help: boolean;
}

/** Parses `export` arguments (`--name value` or `--name=value`). Throws UsageError. */
export function parseExportArgs(argv: readonly string[]): ExportArgs {
  const known = new Set(['db', 'table', 'format', 'since', 'until', 'gateway', 'out']);
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const m = /^--([a-z]+)(?:=(.*))?$/s.exec(arg);
    if (!m || !known.has(m[1] as string)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const name = m[1] as string;
    let value = m[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i += 1;
    }
    if (values.has(name)) throw new UsageError(`--${name} given twice`);
    values.set(name, value);
  }
  if (help) return { db: '', table: '', format: 'csv', help };
  for (const required of ['db', 'table', 'format']) {
    if (!values.has(required) || (values.get(required) as string).trim() === '') throw new UsageError(`--${required} is required`);
  }
  const format = values.get('format') as string;
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got ${JSON.stringify(format)}`);
  const table = values.get('table') as string;
  if (!isTableName(table)) throw new UsageError(`--table must be one of ${TABLES.join(', ')}; got ${JSON.stringify(table)}`);
  const args: ExportArgs = { db: values.get('db') as string, table, format, help };
  const since = values.get('since');
  const until = values.get('until');
  if (since !== undefined) args.since = parseTimeArg('since', since);
  if (until !== undefined) args.until = parseTimeArg('until', until);
  if (args.since !== undefined && args.until !== undefined && args.until < args.since) {
    throw new UsageError('--until is before --since');
  }
  const gateway = values.get('gateway');
  if (gateway !== undefined) {
    if (gateway.trim() === '' || gateway.length > 100) throw new UsageError('--gateway must be a name of 1-100 characters');
    if (!GATEWAY_TABLES.includes(table)) throw new UsageError(`--gateway: table ${table} has no gateway column`);
    args.gateway = gateway;
  }
  const out = values.get('out');
  if (out !== undefined) args.out = out;
  return args;
}

export function csvField(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  const text = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function jsonLine(row: SqlRow, columns: readonly string[], jsonColumns: ReadonlySet<string>): string {
  const obj: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c];
    if (jsonColumns.has(c) && typeof v === 'string') {
      try {
        obj[c] = JSON.parse(v) as unknown;
      } catch {
        obj[c] = v;
      }
    } else if (typeof v === 'bigint') obj[c] = Number(v);
    else if (Buffer.isBuffer(v)) obj[c] = v.toString('base64');
    else obj[c] = v ?? null;
  }
  return JSON.stringify(obj);
}

/** Writes `chunk`; when the stream is full, waits for 'drain' (or rejects on 'error'/'close'). */
export function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (out.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.removeListener('drain', onDrain);
      out.removeListener('error', onError);
      out.removeListener('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('output closed before the export finished'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

/** Exports a table. Throws UsageError (bad table/format) or an Error (database). */
export async function exportTable(options: ExportOptions): Promise<ExportResult> {
  const { table, format, out } = options;
  if (!isTableName(table)) throw new UsageError(`unknown table ${JSON.stringify(table)}: one of ${TABLES.join(', ')}`);
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`unknown format ${JSON.stringify(format)}`);
  const pageRows = options.pageRows ?? 1000;
  if (isPostgresUrl(options.dbPath)) return exportPostgresTable({ ...options, table }, pageRows);
  if (!fs.existsSync(options.dbPath)) throw new Error(`database file not found: ${options.dbPath}`);
  const db = await Db.open(options.dbPath, { readOnly: true });
  try {
    const exists = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
    if (!exists || exists.n === 0) throw new UsageError(`table ${table} does not exist in ${options.dbPath}`);
    // `table` is one of TABLES (checked above), so it is safe as an identifier.
    const columns = (await db.all<{ name: string }>(`PRAGMA table_info("${table}")`)).map((c) => c.name);
    const info = TABLE_INFO[table];
    const jsonColumns = new Set(info.jsonColumns);
    const where: string[] = ['rowid > ?'];
    const filter: SqlValue[] = [];
    if (options.since !== undefined) {
      where.push(`"${info.timeColumn}" >= ?`);
      filter.push(Math.ceil(options.since));
    }
    if (options.until !== undefined) {
      where.push(`"${info.timeColumn}" < ?`);
      filter.push(Math.ceil(options.until));
    }
    if (options.gateway !== undefined) {
      where.push('"gateway" = ?');
      filter.push(options.gateway);
    }
    const stmt = await db.prepare(
      `SELECT rowid AS "__export_rowid", * FROM "${table}" WHERE ${where.join(' AND ')} ORDER BY rowid LIMIT ?`,
    );
    let rows = 0;
    let bytes = 0;
    try {
      if (format === 'csv') {
        const header = `${columns.map((c) => csvField(c)).join(',')}\n`;
        bytes += Buffer.byteLength(header);
        await write(out, header);
      }
      let last = Number.MIN_SAFE_INTEGER;
      for (;;) {
        const page = await stmt.all([last, ...filter, pageRows]);
        if (page.length === 0) break;
        let chunk = '';
        for (const row of page) {
          chunk += format === 'csv' ? `${columns.map((c) => csvField(row[c])).join(',')}\n` : `${jsonLine(row, columns, jsonColumns)}\n`;
        }
        rows += page.length;
        bytes += Buffer.byteLength(chunk);
        last = Number((page[page.length - 1] as SqlRow).__export_rowid);
        await write(out, chunk);
        if (page.length < pageRows) break;
      }
    } finally {
      await stmt.finalize();
    }
    return { table, rows, bytes };
  } finally {
    await db.close().catch(() => undefined);
  }
}

export interface CliStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** The `export` command: returns the exit code (0, 1 failure, 2 usage). Never throws. */
export async function runExportCli(argv: readonly string[], io: CliStreams): Promise<number> {
  let args: ExportArgs;
  try {
    args = parseExportArgs(argv);
  } catch (err) {
    io.stderr.write(`export: ${(err as Error).message}\n\n${EXPORT_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${EXPORT_USAGE}\n`);
    return 0;
  }
  let file: fs.WriteStream | null = null;
  try {
    if (args.out !== undefined) {
      file = fs.createWriteStream(args.out);
      await new Promise<void>((resolve, reject) => {
        (file as fs.WriteStream).once('open', () => resolve());
        (file as fs.WriteStream).once('error', reject);
      });
    }
    const out = file ?? io.stdout;
    const options: ExportOptions = { dbPath: args.db, table: args.table, format: args.format, out };
    if (args.since !== undefined) options.since = args.since;
    if (args.until !== undefined) options.until = args.until;
    if (args.gateway !== undefined) options.gateway = args.gateway;
    const result = await exportTable(options);
    if (file !== null) {
      const f = file;
      await new Promise<void>((resolve, reject) => {
        f.once('error', reject);
        f.end(() => resolve());
      });
    }
    io.stderr.write(`export: ${result.rows} rows of ${result.table} (${result.bytes} bytes)\n`);
    return 0;
  } catch (err) {
    if (file !== null) {
      file.destroy();
      fs.rmSync(args.out as string, { force: true });
    }
    io.stderr.write(`export: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
