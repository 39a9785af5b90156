/**
 * Export of one table from PostgreSQL in constant memory: one read-only,
 * repeatable-read transaction (a consistent snapshot; the store's writers go
 * on), a server-side cursor (DECLARE ... CURSOR) fetched `pageRows` rows at a
 * time, each page written as one chunk, waiting for 'drain' when the output
 * is full. Same output as the SQLite export (export.ts). Errors never hold
 * the password.
 */
import { PgDb } from './pg';
import { TABLE_INFO, type TableName } from './schema';
import type { SqlRow } from './sqlite';
import { csvField, jsonLine, write, UsageError, type ExportOptions, type ExportResult } from './export';

export async function exportPostgresTable(options: ExportOptions & { table: TableName }, pageRows: number): Promise<ExportResult> {
  const { table, format, out } = options;
  const db = new PgDb(options.dbPath, { poolSize: 1 });
  try {
    const client = await db.connect();
    let broken: Error | undefined;
    try {
      const exists = await client.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1',
        [table],
      );
      if (Number(exists.rows[0]?.n ?? 0) === 0) throw new UsageError(`table ${table} does not exist in ${db.file}`);
      const columns = (
        await client.query<{ name: string }>(
          'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
          [table],
        )
      ).rows.map((c) => c.name);
      const info = TABLE_INFO[table];
      const jsonColumns = new Set(info.jsonColumns);
      // Values are validated numbers or quoted literals (DECLARE takes no parameters); identifiers come from TABLES.
      const where: string[] = ['TRUE'];
      if (options.since !== undefined) where.push(`"${info.timeColumn}" >= ${Math.ceil(options.since)}`);
      if (options.until !== undefined) where.push(`"${info.timeColumn}" < ${Math.ceil(options.until)}`);
      if (options.gateway !== undefined) where.push(`"gateway" = ${client.escapeLiteral(options.gateway)}`);
      const order = columns.includes('id') ? 'id' : columns[0];
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let rows = 0;
      let bytes = 0;
      try {
        await client.query(
          `DECLARE export_cursor NO SCROLL CURSOR FOR SELECT * FROM "${table}" WHERE ${where.join(' AND ')} ORDER BY "${order}"`,
        );
        if (format === 'csv') {
          const header = `${columns.map((c) => csvField(c)).join(',')}\n`;
          bytes += Buffer.byteLength(header);
          await write(out, header);
        }
        for (;;) {
          const page = (await client.query<SqlRow>(`FETCH FORWARD ${Math.max(1, Math.floor(pageRows))} FROM export_cursor`)).rows;
          if (page.length === 0) break;
          let chunk = '';
          for (const row of page) {
            chunk += format === 'csv' ? `${columns.map((c) => csvField(row[c])).join(',')}\n` : `${jsonLine(row, columns, jsonColumns)}\n`;
          }
          rows += page.length;
          bytes += Buffer.byteLength(chunk);
          await write(out, chunk);
          if (page.length < pageRows) break;
        }
      } finally {
        await client.query('ROLLBACK').catch((err: Error) => {
          broken = err;
        });
      }
      return { table, rows, bytes };
    } catch (err) {
      if (!(err instanceof UsageError)) broken = err as Error;
      throw err instanceof UsageError ? err : db.clean(err);
    } finally {
      client.release(broken);
    }
  } finally {
    await db.close();
  }
}
