/**
 * The raw-event batch written as one json_each INSERT (lib/store/json-bulk.ts)
 * stores exactly what the parameter path stores: same values, same SQLite
 * types, same order and ids, on a real SQLite file. The reference is the same
 * store writing the same rows one at a time (one bound INSERT per row).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlushError, LightingStore, type RawSensorEventRow } from '../../../lib/store';
import { jsonBulkRows } from '../../../lib/store/json-bulk';
import { mulberry32 } from '../../helpers/prng';

/** Every column with its SQLite storage class, in rowid order. */
const DUMP = `SELECT id, sensor_id, hex(sensor_id) AS sensor_hex, zone, hex(zone) AS zone_hex, ts, typeof(ts) AS ts_type,
  lux, typeof(lux) AS lux_type, presence, typeof(presence) AS presence_type, source, hex(source) AS source_hex,
  late, typeof(late) AS late_type, gateway FROM raw_sensor_events ORDER BY id`;

type Dumped = Record<string, unknown>;

/** Doubles whose decimal text SQLite reads back one unit in the last place off, and the edges of binary64. */
const HARD_LUX = [
  91889.923607318,
  39320.39635313494,
  6.7351159641502e273,
  4.468512316008787e-251,
  0.1 + 0.2,
  5e-324,
  2.2250738585072014e-308,
  2.225073858507201e-308,
  Number.MAX_VALUE,
  2 ** 53 + 2,
  1e21,
  0,
  500,
  1e-7,
  123.45,
];

const IDS = ['plain', 'quote"and\\back', '日本語', 'nul\u0000inside', 'emoji😀', '\u0001ctl\u001f\u007f', '\u2028sep\u2029', 'tab\tnl\n'];

function rows(n: number, seed: number): RawSensorEventRow[] {
  const rng = mulberry32(seed);
  const view = new DataView(new ArrayBuffer(8));
  const out: RawSensorEventRow[] = [];
  for (let i = 0; i < n; i++) {
    let lux: number | undefined;
    if (i < HARD_LUX.length) lux = HARD_LUX[i];
    else if (i % 7 === 0) lux = undefined;
    else if (i % 3 === 0) lux = Math.round(rng() * 80_000) / 100;
    else {
      // Any finite non-negative double: random bits, every exponent.
      do {
        view.setUint32(0, Math.floor(rng() * 2 ** 31)); // sign bit 0
        view.setUint32(4, Math.floor(rng() * 2 ** 32));
      } while (!Number.isFinite(view.getFloat64(0)));
      lux = view.getFloat64(0);
    }
    const row: RawSensorEventRow = {
      sensorId: IDS[i % IDS.length] as string,
      zone: `zone-${i % 5}`,
      ts: i === 1 ? 8_640_000_000_000 : 1_760_000_000_000 + i * 50 + (i % 4 === 0 ? 0.75 : 0),
      source: i % 2 === 0 ? 'dali' : 'http "api"',
      late: i % 11 === 0,
    };
    if (lux !== undefined) row.lux = lux;
    if (lux === undefined || i % 2 === 0) row.presence = i % 4 < 2;
    out.push(row);
  }
  return out;
}

describe('lib/store json-bulk: a raw-event batch as one json_each INSERT', function () {
  let dir = '';
  let n = 0;
  const file = (): string => path.join(dir, `db-${++n}.sqlite`);
  const open = (p: string): Promise<LightingStore> =>
    LightingStore.open({ path: p, flushIntervalMs: 60_000, flushMaxRows: 10_000, monitorIntervalMs: 0, gateway: 'gw "ü"' });
  const dump = (s: LightingStore): Promise<Dumped[]> => s.exclusive((db) => db.all<Dumped>(DUMP));

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'json-bulk-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The same rows, each bound as parameters of its own INSERT. */
  async function reference(data: RawSensorEventRow[]): Promise<Dumped[]> {
    const s = await open(file());
    try {
      for (const r of data) await s.insert('raw_sensor_events', r, { waitForCommit: true });
      return await dump(s);
    } finally {
      await s.close();
    }
  }

  it('stores every value, type, order and id exactly as bound parameters do (one statement for the batch)', async () => {
    const data = rows(3000, 7);
    const s = await open(file());
    try {
      const before = s.writerStats().statements;
      const acks = await Promise.all(data.map((r) => s.insert('raw_sensor_events', r, { waitForCommit: true })));
      assert.equal(s.writerStats().statements - before, 1, 'the 3 000 rows went as one INSERT (the JSON path), no BEGIN/COMMIT');
      const got = await dump(s);
      const want = await reference(data);
      assert.equal(got.length, data.length, 'no row lost');
      assert.deepEqual(
        acks.map((a) => a.id),
        got.map((r) => r.id),
        'each acknowledgement carries its own row id, in arrival order',
      );
      // Ids differ between the two files only if a row was lost or moved; compare everything else row by row.
      const strip = (r: Dumped): Dumped => ({ ...r, id: undefined });
      for (let i = 0; i < want.length; i++) assert.deepEqual(strip(got[i] as Dumped), strip(want[i] as Dumped), `row ${i}`);
      assert.equal(got[12]?.lux_type, 'real', 'an integer lux (500) is stored as REAL, as when bound');
      assert.equal(got[10]?.lux, 1e21);
    } finally {
      await s.close();
    }
  });

  it('a text with a lone surrogate is stored as the binding stores it (U+FFFD), not as JSON decodes it', async () => {
    const data: RawSensorEventRow[] = ['\ud800lone', 'x\udfffy', 'pair😀ok', 'back\\ud800slash'].map((sensorId, i) => ({
      sensorId,
      zone: 'z',
      ts: i,
      lux: 0.1 * i,
      source: 'test',
    }));
    const s = await open(file());
    try {
      await Promise.all(data.map((r) => s.insert('raw_sensor_events', r, { waitForCommit: true })));
      const got = await dump(s);
      assert.deepEqual(
        got.map((r) => ({ ...r, id: undefined })),
        (await reference(data)).map((r) => ({ ...r, id: undefined })),
      );
      assert.equal(got[0]?.sensor_hex, 'EFBFBD6C6F6E65');
    } finally {
      await s.close();
    }
  });

  it('a row the database refuses is rejected alone; the others are stored in order with their own ids', async () => {
    const s = await open(file());
    try {
      await s.exclusive((db) =>
        db.run(
          `CREATE TRIGGER poison BEFORE INSERT ON raw_sensor_events WHEN NEW.source = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`,
        ),
      );
      const data = rows(500, 3).map((r, i) => (i === 250 ? { ...r, source: 'poison' } : r));
      const results = await Promise.allSettled(data.map((r) => s.insert('raw_sensor_events', r, { waitForCommit: true })));
      const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      assert.deepEqual(rejected, [250]);
      const reason = (results[250] as PromiseRejectedResult).reason as FlushError;
      assert.ok(reason instanceof FlushError);
      assert.match(reason.message, /poisoned/);
      const got = await dump(s);
      assert.equal(got.length, 499);
      const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
      assert.deepEqual(
        ids,
        got.map((r) => r.id),
      );
      assert.deepEqual(
        got.map((r) => r.ts),
        data.filter((_, i) => i !== 250).map((r) => Math.floor(r.ts)),
      );
    } finally {
      await s.close();
    }
  });

  it('a batch whose transaction fails acknowledges none of its rows and stores nothing', async () => {
    const s = await open(file());
    try {
      await s.exclusive((db) =>
        db.run(`CREATE TRIGGER poison BEFORE INSERT ON raw_sensor_events BEGIN SELECT RAISE(ABORT, 'disk says no'); END`),
      );
      const results = await Promise.allSettled(rows(400, 5).map((r) => s.insert('raw_sensor_events', r, { waitForCommit: true })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 0, 'no row acknowledged');
      for (const r of results) assert.match(String((r as PromiseRejectedResult).reason), /disk says no/);
      assert.equal((await s.counts()).raw_sensor_events, 0);
      assert.equal(s.writerStats().failedRows, 400);
    } finally {
      await s.close();
    }
  });

  it('under sustained load every acknowledgement follows its commit, in arrival order, and a failed batch fails only its own rows', async () => {
    const s = await LightingStore.open({ path: file(), flushIntervalMs: 60_000, flushMaxRows: 50, monitorIntervalMs: 0 });
    try {
      await s.exclusive((db) =>
        db.run(
          `CREATE TRIGGER poison BEFORE INSERT ON raw_sensor_events WHEN NEW.source = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`,
        ),
      );
      const order: number[] = [];
      const early: number[] = [];
      const results: Array<Promise<unknown>> = [];
      for (let i = 0; i < 3000; i++) {
        const p = s.insert(
          'raw_sensor_events',
          { sensorId: 's', zone: 'z', ts: i, lux: i / 3, source: i === 1700 ? 'poison' : 'ok' },
          { waitForCommit: true },
        );
        results.push(
          p.then(() => {
            order.push(i);
            // Rows committed so far (the counter moves when COMMIT returned): this row's must be among them.
            if (s.writerStats().committedRows < order.length) early.push(i);
          }),
        );
        // Producers keep the writer busy: the next rows arrive while earlier batches are written and acknowledged.
        if (i % 100 === 99) await new Promise((r) => setImmediate(r));
      }
      const settled = await Promise.allSettled(results);
      assert.deepEqual(early, [], 'no acknowledgement before its commit');
      assert.deepEqual(
        settled.flatMap((r, i) => (r.status === 'rejected' ? [i] : [])),
        [1700],
      );
      assert.deepEqual(
        order,
        Array.from({ length: 3000 }, (_, i) => i).filter((i) => i !== 1700),
        'acknowledged in arrival order',
      );
      assert.equal((await s.counts()).raw_sensor_events, 2999);
    } finally {
      await s.close();
    }
  });

  it('jsonBulkRows refuses what JSON would not give back identically', () => {
    const real = [false, true];
    assert.equal(jsonBulkRows([['a', 1]], real), '[["a",1,0]]');
    assert.equal(jsonBulkRows([['a', null]], real), '[["a",null,null]]');
    assert.equal(jsonBulkRows([['a', 0.5]], real), '[["a",4503599627370496,-53]]');
    assert.equal(jsonBulkRows([['\ud800', 1]], real), null, 'lone surrogate');
    assert.equal(jsonBulkRows([[1n, 1]], real), null, 'bigint');
    assert.equal(jsonBulkRows([[Buffer.from('x'), 1]], real), null, 'blob');
    assert.equal(jsonBulkRows([[1.5, 1]], real), null, 'a fraction outside a REAL column');
    assert.equal(jsonBulkRows([['a', Number.POSITIVE_INFINITY]], real), null);
  });
});
