/**
 * SQLite: many rows of one table written by ONE prepared INSERT with ONE
 * parameter, the rows as a JSON array of arrays that SQLite expands with
 * json_each (JSON support is built into SQLite since 3.38):
 *
 *   INSERT INTO raw_sensor_events (sensor_id, ..., gateway)
 *   SELECT value->>0, ..., value->>8 FROM json_each(?)
 *
 * Why: with a multi-row `VALUES (?, ...), (?, ...)` INSERT the sqlite3 binding
 * converts every parameter to a C value on the JavaScript thread, one call per
 * value. Here the JavaScript thread makes one JSON.stringify call (native) and
 * the parsing and inserting run on the binding's worker thread, so the event
 * loop is free for the next readings while a batch is written.
 *
 * The stored values must be exactly what the parameter path stores:
 * - strings: JSON escapes every character SQLite decodes back, NUL included;
 *   only a lone UTF-16 surrogate differs (the binding stores U+FFFD, JSON's
 *   `\udXXX` escape would be decoded to invalid UTF-8), so a text with such an
 *   escape is refused (null) and the caller uses the parameter path;
 * - integers: JSON integers up to 2^53 are read back exactly;
 * - REAL columns: SQLite's decimal-to-double conversion is not correctly
 *   rounded (about 1 value in 2 000 of 11 to 16 digits comes back one unit in
 *   the last place off), so a REAL value is written as two JSON integers,
 *   mantissa m and binary exponent e, and the SQL computes m * power(2.0, e):
 *   both factors are exact doubles and a product by a power of two is exact.
 *   Integers (e = 0) give m * 1.0, stored as REAL exactly as a bound number is;
 * - null stays NULL (NULL * anything is NULL).
 * A row order is kept: json_each yields the array in order and the INSERT
 * gives consecutive rowids in that order (tested).
 */
import type { TableWriter } from './rows';
import type { SqlValue } from './sqlite';

/** The INSERT ... SELECT ... FROM json_each(?) of `writer`'s columns; `realColumns` are sent as mantissa and exponent. */
export function jsonBulkInsertSql(writer: Pick<TableWriter, 'table' | 'columns'>, realColumns: readonly string[]): string {
  let slot = 0;
  const exprs = writer.columns.map((column) => {
    if (realColumns.includes(column)) {
      const e = `(value->>${slot}) * power(2.0, value->>${slot + 1})`;
      slot += 2;
      return e;
    }
    return `value->>${slot++}`;
  });
  return `INSERT INTO ${writer.table} (${writer.columns.join(', ')}) SELECT ${exprs.join(', ')} FROM json_each(?)`;
}

const bits = new DataView(new ArrayBuffer(8));
const TWO_POW_32 = 4_294_967_296;
const TWO_POW_52 = 4_503_599_627_370_496;

/**
 * The rows (each its parameters in column order) as the JSON text of
 * jsonBulkInsertSql, or null when a value would not come back identical
 * (lone surrogate, bigint, Buffer, a non-integer or huge number outside a REAL
 * column): the caller then binds the values as parameters.
 */
export function jsonBulkRows(rows: ReadonlyArray<readonly SqlValue[]>, real: readonly boolean[]): string | null {
  const out: unknown[] = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const p = rows[i] as readonly SqlValue[];
    const row: unknown[] = [];
    for (let j = 0; j < p.length; j++) {
      const v = p[j];
      if (real[j] === true) {
        if (v === null) {
          row.push(null, null);
        } else if (typeof v !== 'number' || !Number.isFinite(v)) {
          return null;
        } else if (Number.isSafeInteger(v)) {
          row.push(v, 0);
        } else {
          // v = m * 2^e with m a whole number below 2^53 (IEEE 754 binary64 fields).
          bits.setFloat64(0, v, true);
          const lo = bits.getUint32(0, true);
          const hi = bits.getUint32(4, true);
          const biased = (hi >>> 20) & 0x7ff;
          const m = (hi & 0xfffff) * TWO_POW_32 + lo;
          if (biased === 0)
            row.push(v < 0 ? -m : m, -1074); // subnormal: no implicit leading bit
          else row.push(v < 0 ? -(m + TWO_POW_52) : m + TWO_POW_52, biased - 1075);
        }
      } else if (v === null || typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) {
        row.push(v);
      } else {
        return null;
      }
    }
    out[i] = row;
  }
  const text = JSON.stringify(out);
  // JSON.stringify writes a lone surrogate as \udXXX (lower case); a literal backslash + "ud" only costs the slower path.
  return text.includes('\\ud') ? null : text;
}
