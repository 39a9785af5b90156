/**
 * Child process for the export memory test (test/unit/store/export.test.ts):
 * exports a table to a file and prints one JSON line with heap figures.
 * Run with --expose-gc (and a small heap) so the figures mean live memory.
 *
 * usage: node --expose-gc export-heap-child.js <db> <table> <csv|jsonl|naive> <out>
 *
 * `naive` is the baseline the test expects to fail under a small heap: read
 * the whole table with one SELECT and write it in one go.
 */
import * as fs from 'fs';
import { exportTable, type ExportFormat } from '../../lib/store/export';
import { Db } from '../../lib/store/sqlite';
import { PgDb } from '../../lib/store/pg';

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

async function main(): Promise<void> {
  const [db, table, format, outPath] = process.argv.slice(2);
  if (db === undefined || table === undefined || format === undefined || outPath === undefined) {
    throw new Error('usage: export-heap-child <db> <table> <csv|jsonl> <out>');
  }
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 2);
  const out = fs.createWriteStream(outPath);
  let result: { rows: number; bytes: number };
  if (format === 'naive') {
    const conn = db.startsWith('postgresql') ? new PgDb(db, { poolSize: 1 }) : await Db.open(db, { readOnly: true });
    const rows = await conn.all(`SELECT * FROM "${table.replace(/"/g, '')}"`);
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    out.write(text);
    result = { rows: rows.length, bytes: Buffer.byteLength(text) };
    await conn.close();
  } else {
    result = await exportTable({ dbPath: db, table, format: format as ExportFormat, out });
  }
  await new Promise<void>((resolve) => out.end(resolve));
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(`${JSON.stringify({ rows: result.rows, bytes: result.bytes, before, peak, after })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
