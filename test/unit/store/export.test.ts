import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { mulberry32, pick, randInt } from '../../helpers/prng';
import { Db, LightingStore, parseExportArgs, runExportCli, type SqlRow } from '../../../lib/store';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'export.js');
const HEAP_CHILD = path.join(__dirname, '..', '..', 'helpers', 'export-heap-child.js');

/** RFC 4180 parser (quoted fields, doubled quotes, CR/LF inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  assert.equal(field, '', 'output ends with a newline');
  return rows;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = collect();
  const err = collect();
  const code = await runExportCli(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

const AWKWARD = ['plain', 'with, comma', 'with "quotes"', 'multi\nline', 'crlf\r\nline', '  padded  ', 'ünïcødé ☀', '', '=1+2', '"'];

for (const engine of STORE_ENGINES)
  describe(`lib/store export (bin/export) [${engine}]`, function () {
    this.timeout(60_000);
    const target = storeTargets(engine, this);
    const itSqlite = (engine === 'sqlite' ? it : (): void => undefined) as Mocha.TestFunction;
    let dir: string;
    let db: string;
    let expected: { decisions: SqlRow[]; telemetry: SqlRow[] };

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-export-'));
      db = target.next('export');
      const rng = mulberry32(0xe4);
      const s = await LightingStore.open({ path: db, gateway: 'bus-1' });
      for (let i = 0; i < 120; i++) {
        await s.insert('decisions', {
          ts: 1_000 + i * 10,
          zone: pick(rng, ['a', 'b, c', 'd"e']),
          source: pick(rng, ['ai', 'rules', 'manual', 'schedule'] as const),
          intensity: randInt(rng, 0, 100),
          cct: i % 7 === 0 ? null : randInt(rng, 1800, 6500),
          reason: AWKWARD[i % AWKWARD.length] as string,
          applied: rng() < 0.5,
          blockedBy: i % 5 === 0 ? 'override' : null,
          estimatedWatts: i % 3 === 0 ? rng() * 40 : null,
          msgId: `m${i}`,
        });
        await s.insert('telemetry', {
          ts: 1_000 + i * 10,
          kind: 'ai-call',
          latencyMs: i,
          data: { i, note: AWKWARD[i % AWKWARD.length], list: [1, 2] },
        });
      }
      await s.flush();
      const other = await LightingStore.open({ path: db, gateway: 'bus-2' });
      await other.insert('telemetry', { ts: 5_000, kind: 'other-bus' }, { waitForCommit: true });
      await other.close();
      expected = await s.exclusive(async (d) => ({
        decisions: await d.all('SELECT * FROM decisions ORDER BY rowid'),
        telemetry: await d.all("SELECT * FROM telemetry WHERE gateway = 'bus-1' ORDER BY rowid"),
      }));
      await s.close();
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('CSV: a header and every row; quoting round-trips commas, quotes, newlines, padding', async () => {
      const r = await cli(['--db', db, '--table', 'decisions', '--format', 'csv']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /120 rows of decisions/);
      const rows = parseCsv(r.stdout);
      const header = rows[0] as string[];
      assert.deepEqual(header, Object.keys(expected.decisions[0] as SqlRow));
      const body = rows.slice(1);
      assert.equal(body.length, 120);
      body.forEach((fields, i) => {
        const row = expected.decisions[i] as SqlRow;
        assert.deepEqual(
          fields,
          header.map((c) => (row[c] === null ? '' : String(row[c]))),
          `row ${i}`,
        );
      });
    });

    it('JSON lines: one object per row, JSON columns embedded as JSON', async () => {
      const out = path.join(dir, 'telemetry.jsonl');
      const r = await cli(['--db', db, '--table=telemetry', '--format=jsonl', '--gateway', 'bus-1', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      const lines = fs.readFileSync(out, 'utf8').split('\n');
      assert.equal(lines.pop(), '');
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        parsed,
        expected.telemetry.map((row) => ({ ...row, data: JSON.parse(String(row.data)) as unknown })),
      );
      assert.deepEqual((parsed[3] as { data: unknown }).data, { i: 3, note: AWKWARD[3], list: [1, 2] });
    });

    it('--since is inclusive, --until exclusive; ISO 8601 or epoch ms', async () => {
      const ms = await cli(['--db', db, '--table', 'decisions', '--format', 'jsonl', '--since', '1100', '--until', '1200']);
      assert.equal(ms.code, 0, ms.stderr);
      const ts = ms.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { ts: number }).ts);
      assert.deepEqual(ts, [1100, 1110, 1120, 1130, 1140, 1150, 1160, 1170, 1180, 1190]);
      const iso = await cli(['--db', db, '--table', 'decisions', '--format', 'jsonl', '--since', '1970-01-01T00:00:02.150Z']);
      const isoTs = iso.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { ts: number }).ts);
      assert.deepEqual(isoTs, [2150, 2160, 2170, 2180, 2190]);
      const none = await cli(['--db', db, '--table', 'decisions', '--format', 'csv', '--since', '999999']);
      assert.equal(parseCsv(none.stdout).length, 1, 'header only');
    });

    itSqlite('usage errors exit 2 with a clear message and leave the database untouched', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['--table', 'decisions', '--format', 'csv'], /--db is required/],
        [['--db', db, '--format', 'csv'], /--table is required/],
        [['--db', db, '--table', 'decisions'], /--format is required/],
        [['--db', db, '--table', 'decisions', '--format', 'xml'], /--format must be csv or jsonl/],
        [['--db', db, '--table', 'decisions; DROP TABLE decisions', '--format', 'csv'], /--table must be one of raw_sensor_events, /],
        [['--db', db, '--table', 'sqlite_master', '--format', 'csv'], /--table must be one of/],
        [['--db', db, '--table', 'decisions', '--format', 'csv', '--since', 'yesterday'], /--since must be an ISO 8601 time/],
        [['--db', db, '--table', 'decisions', '--format', 'csv', '--since', '10', '--until', '5'], /--until is before --since/],
        [['--db', db, '--table', 'decisions', '--format', 'csv', '--limit', '5'], /unknown argument "--limit"/],
        [['--db', db, '--table', 'decisions', '--format'], /--format needs a value/],
        [['--db', db, '--db', db, '--table', 'decisions', '--format', 'csv'], /--db given twice/],
      ];
      for (const [argv, message] of cases) {
        const r = await cli(argv);
        assert.equal(r.code, 2, argv.join(' '));
        assert.match(r.stderr, message);
        assert.match(r.stderr, /usage: export --db <file\|url>/);
        assert.equal(r.stdout, '');
      }
      const check = await Db.open(db, { readOnly: true });
      try {
        assert.equal((await check.get<{ n: number }>('SELECT COUNT(*) AS n FROM decisions'))?.n, 120);
      } finally {
        await check.close();
      }
      assert.deepEqual(parseExportArgs(['--help']).help, true);
    });

    itSqlite('a missing database exits 1 and leaves no output file behind', async () => {
      const out = path.join(dir, 'never.csv');
      const r = await cli(['--db', path.join(dir, 'nope.sqlite'), '--table', 'decisions', '--format', 'csv', '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /database file not found/);
      assert.equal(fs.existsSync(out), false);
      assert.equal(fs.existsSync(path.join(dir, 'nope.sqlite')), false, 'export never creates a database');
    });

    itSqlite('the compiled command: --help exits 0, a bad table exits 2, a good run writes the file', () => {
      const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
      assert.equal(help.status, 0);
      assert.match(help.stdout, /usage: export/);
      const bad = spawnSync(process.execPath, [BIN, '--db', db, '--table', 'nope', '--format', 'csv'], { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--table must be one of/);
      const out = path.join(dir, 'bin.csv');
      const good = spawnSync(process.execPath, [BIN, '--db', db, '--table', 'telemetry', '--format', 'csv', '--out', out], {
        encoding: 'utf8',
      });
      assert.equal(good.status, 0, good.stderr);
      assert.equal(parseCsv(fs.readFileSync(out, 'utf8')).length, 1 + 120 + 1, "header, bus-1's rows and bus-2's one");
    });

    it('streams 200k rows in constant memory (a 40 MiB heap cannot hold the table)', async () => {
      const big = target.next('big');
      const s = await LightingStore.open({ path: big });
      await s.exclusive((d) =>
        d.run(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000)
         INSERT INTO raw_sensor_events (sensor_id, zone, ts, lux, presence, source, late)
         SELECT 'sensor-' || (i % 50), 'zone-' || (i % 7), 1700000000000 + i * 1000, (i % 997) * 1.5, i % 2, 'dali', 0 FROM c`,
        ),
      );
      await s.close();
      const run = (format: string): ReturnType<typeof spawnSync> =>
        spawnSync(
          process.execPath,
          [
            '--expose-gc',
            '--max-old-space-size=40',
            '--max-semi-space-size=1',
            HEAP_CHILD,
            big,
            'raw_sensor_events',
            format,
            path.join(dir, `big.${format}`),
          ],
          { encoding: 'utf8' },
        );
      // The bound is meaningful: reading the table into memory does not fit in this heap.
      const naive = run('naive');
      assert.notEqual(naive.status, 0, 'the whole table in memory should not fit in a 40 MiB heap');
      for (const format of ['csv', 'jsonl']) {
        const r = run(format);
        assert.equal(r.status, 0, String(r.stderr));
        const m = JSON.parse(String(r.stdout)) as { rows: number; bytes: number; before: number; peak: number; after: number };
        assert.equal(m.rows, 200_000);
        assert.equal(fs.statSync(path.join(dir, `big.${format}`)).size, m.bytes);
        const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
        assert.ok(m.peak - m.before < 16 * 1024 * 1024, `${format}: heap grew by ${mib(m.peak - m.before)} during the export`);
        assert.ok(m.after - m.before < 1024 * 1024, `${format}: heap kept ${mib(m.after - m.before)} after the export`);
      }
    });
  });

describe('lib/store export from PostgreSQL: errors', function () {
  it('an unreachable server or a wrong password exits 1 with a clear message without the password', async function () {
    const out = new PassThrough();
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await runExportCli(['--db', 'postgresql://u:NotShown123@127.0.0.1:1/x', '--table', 'decisions', '--format', 'csv'], {
      stdout: out,
      stderr: err,
    });
    assert.equal(code, 1);
    assert.match(stderr, /PostgreSQL 127\.0\.0\.1:1 unreachable/);
    assert.ok(!stderr.includes('NotShown123'));
    stderr = '';
    assert.equal(
      await runExportCli(['--db', 'postgresql://u@h/x', '--table', 'personal_profiles', '--format', 'csv', '--gateway', 'b'], {
        stdout: out,
        stderr: err,
      }),
      2,
    );
    assert.match(stderr, /table personal_profiles has no gateway column/);
  });
});
