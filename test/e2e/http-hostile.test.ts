/**
 * The main flow's HTTP API against hostile and malformed input, in a real
 * Node-RED (4.1/Node 20 or 5/Node 22): broken and odd JSON, wrong content
 * types, huge and deeply nested bodies, prototype keys, out-of-range and
 * wrongly typed fields, repeated query parameters, bad bearer headers.
 *
 * For every request: an answer below 500 (4xx where the input is bad), the
 * runtime still running, nothing stored from it (row counts of every table
 * read from the SQLite file afterwards), no error handled by the flow's catch
 * node, and /healthz still 200 at the end.
 *
 * The flow is deployed as shipped except that every api-guard's rate limit
 * is off, so that the sweep is not answered 429.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sqlite3 from 'sqlite3';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT } from './harness';

const ADMIN_TOKEN = 'e2e-hostile-admin-token-42';
const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const TABLES = [
  'raw_sensor_events',
  'weather_events',
  'feature_windows',
  'decisions',
  'manual_overrides',
  'personal_profiles',
  'alerts',
] as const;

type FlowNode = Record<string, unknown> & { type: string };

function counts(dbFile: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(dbFile, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      const sql = TABLES.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM ${t}`).join(' UNION ALL ');
      db.all(sql, (e, rows: Array<{ t: string; n: number }>) => {
        db.close();
        if (e) return reject(e);
        resolve(Object.fromEntries(rows.map((r) => [r.t, r.n])));
      });
    });
  });
}

/** Text bodies that are not usable JSON objects, or are objects of the wrong shape. */
function badBodies(): Array<{ name: string; body: string }> {
  const nested = `${'['.repeat(20000)}${']'.repeat(20000)}`;
  const nestedObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  return [
    { name: 'empty', body: '' },
    { name: 'truncated', body: '{"sensor_id": "s1", "lux": ' },
    { name: 'null', body: 'null' },
    { name: 'array', body: '[]' },
    { name: 'array of readings', body: '[{"sensor_id":"s1","lux":1}]' },
    { name: 'string', body: '"text"' },
    { name: 'number', body: '123' },
    { name: 'NUL bytes', body: '{"sensor_id":"\u0000","lux":"\u0000"}' },
    { name: 'deeply nested array', body: nested },
    { name: 'deeply nested object', body: nestedObject },
    { name: '__proto__ key', body: '{"__proto__":{"polluted":true,"lux":-1},"sensor_id":"proto"}' },
    { name: 'constructor key', body: '{"constructor":{"prototype":{"polluted":true}},"lux":-5}' },
    { name: 'huge number', body: '{"sensor_id":"s1","lux":1e309,"temperature_c":1e309,"intensity":1e309,"zone":"z"}' },
    { name: 'negative', body: '{"sensor_id":"s1","lux":-1,"cloud_cover_pct":-3,"intensity":-1,"cct":-1}' },
    { name: 'wrong types', body: '{"sensor_id":["s1"],"lux":"300","presence":"yes","ts":"yesterday","intensity":"50","cct":{},"zone":7}' },
    { name: 'long zone', body: JSON.stringify({ sensor_id: 's1', zone: 'z'.repeat(100_000), lux: 1, intensity: 10, cct: 3000 }) },
    { name: 'large body', body: JSON.stringify({ sensor_id: 's1', lux: -1, pad: 'x'.repeat(2_000_000) }) },
    { name: 'ts far future', body: '{"sensor_id":"s1","lux":1,"ts":1e20,"intensity":500}' },
  ];
}

/** Test-only tab: GET /probe/prototype reports whether Object.prototype gained a property inside the runtime. */
const PROBE_TAB: FlowNode[] = [
  { id: 'probe-tab', type: 'tab', label: 'probe' },
  { id: 'probe-in', type: 'http in', z: 'probe-tab', url: '/probe/prototype', method: 'get', upload: false, wires: [['probe-fn']] },
  {
    id: 'probe-fn',
    type: 'function',
    z: 'probe-tab',
    // msg comes from the runtime's realm (a function node's own globals are a separate vm context).
    func: 'const proto = Object.getPrototypeOf(msg);\nmsg.payload = { polluted: proto.polluted === undefined ? null : proto.polluted, keys: Object.keys(proto) };\nreturn msg;',
    outputs: 1,
    wires: [['probe-out']],
  },
  { id: 'probe-out', type: 'http response', z: 'probe-tab', statusCode: '', headers: {}, wires: [] },
];

const POST_PATHS = [
  '/ingest/sensor',
  '/ingest/weather',
  '/predict',
  '/control',
  '/alerts/1/resolve',
  '/alerts/abc/resolve',
  '/admin/profile',
];
const BAD_QUERIES = [
  '/telemetry?limit=-1',
  '/telemetry?limit=1e309',
  '/telemetry?limit=1&limit=2',
  '/telemetry?offset=NaN',
  '/telemetry?cursor=%00%ff',
  '/telemetry?since=not-a-date&until=%7B%7D',
  `/telemetry?zone=${'z'.repeat(5000)}`,
  '/telemetry/energy?day=2026-02-30',
  '/telemetry/energy?day=abc&zone=%00',
  '/telemetry/energy?day[]=1',
  '/alerts?status=open',
  '/alerts?kind[]=x&status[]=all',
  '/alerts?limit=0',
];

describe('the main flow against hostile input (no 5xx, no crash, nothing stored)', function () {
  this.timeout(120000);
  let rt: NodeRedRuntime;
  let dbFile: string;
  const answers: Array<{ what: string; status: number }> = [];
  const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  before(async () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
    const flows = [...shipped.map((n) => (n.type === 'api-guard' ? { ...n, rateLimit: 0 } : n)), ...PROBE_TAB];
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = installDir ? fs.mkdtempSync(path.join(installDir, '..', 'ud-hostile-')) : undefined;
    rt = await NodeRedRuntime.start({
      userDir,
      flows,
      env: { ADMIN_TOKEN, FERNET_KEY: REFERENCE_KEY, OPENAI_API_KEY: '', DB_URL: '' },
      settings: NPM_START_SETTINGS,
    });
    dbFile = path.join(rt.userDir, 'smart-lighting.db');
    // The store opens and migrates the file after the flow starts: count rows only once /healthz says the database is ok.
    for (let i = 0; i < 100; i++) {
      if ((await rt.request('GET', '/healthz')).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (rt) await rt.stopAndClean(true);
  });

  const ask = async (what: string, method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<number> => {
    const r = await rt.request(method, url, body, headers);
    answers.push({ what, status: r.status });
    assert.ok(r.status < 500, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
    return r.status;
  };

  it('answers every bad body on every POST endpoint with a 4xx, for every content type', async () => {
    const before = await counts(dbFile);
    for (const url of POST_PATHS) {
      for (const { name, body } of badBodies()) {
        for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
          const status = await ask(`POST ${url} ${name} as ${type}`, 'POST', url, body, {
            'Content-Type': type,
            ...(url.startsWith('/admin') ? bearer : {}),
          });
          assert.ok(status >= 400, `POST ${url} ${name} as ${type} was accepted (${status})`);
        }
      }
    }
    assert.deepEqual(await counts(dbFile), before, 'nothing was stored from any of it');
  });

  it('answers an API path asked with a method it does not take with 405 JSON naming the methods (not HTML), storing nothing', async () => {
    const before = await counts(dbFile);
    for (const [method, url, allow] of [
      ['PUT', '/ingest/sensor', 'POST'],
      ['DELETE', '/control', 'POST'],
      ['GET', '/ingest/sensor', 'POST'],
      ['PATCH', '/alerts', 'GET'],
    ] as const) {
      const r = await rt.request(method, url, method === 'GET' ? undefined : '{"sensor_id":"x"}', { 'Content-Type': 'application/json' });
      assert.equal(r.status, 405, `${method} ${url}: ${r.text.slice(0, 200)}`);
      assert.equal(r.headers.get('allow'), allow);
      assert.match(String((r.json as { detail?: unknown } | undefined)?.detail), new RegExp(`^${method} is not served at `));
    }
    assert.deepEqual(await counts(dbFile), before, 'nothing stored');
  });

  it('answers bad query strings with 4xx', async () => {
    for (const url of BAD_QUERIES) {
      const status = await ask(`GET ${url.slice(0, 60)}`, 'GET', url);
      assert.ok(status >= 400, `GET ${url.slice(0, 80)} was accepted (${status})`);
    }
  });

  it('ignores unknown and prototype-named query parameters, as FastAPI does, without polluting anything', async () => {
    const status = await ask(
      'GET /telemetry with __proto__ params',
      'GET',
      '/telemetry?__proto__[polluted]=1&constructor[prototype][polluted]=1&limit=5',
    );
    assert.equal(status, 200);
    const probe = await rt.request('GET', '/probe/prototype');
    assert.deepEqual(probe.json, { polluted: null, keys: [] }, 'Object.prototype is untouched inside the runtime');
  });

  it('refuses malformed admin credentials with 401 and runs nothing', async () => {
    const before = await counts(dbFile);
    for (const auth of [
      '',
      'Bearer',
      'Bearer ',
      `bearer  ${ADMIN_TOKEN} extra`,
      `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
      `Bearer ${ADMIN_TOKEN}\u00e9`,
      `Bearer ${'x'.repeat(6000)}`,
    ]) {
      const status = await ask(`aggregate-now with "${auth.slice(0, 30)}"`, 'POST', '/admin/aggregate-now', '{}', { Authorization: auth });
      assert.equal(status, 401, `Authorization "${auth.slice(0, 40)}"`);
    }
    assert.deepEqual(await counts(dbFile), before);
  });

  it('is still healthy and serving afterwards, with no error behind a 500 and no warning of ours', async () => {
    assert.equal(rt.proc.exitCode, null, 'the runtime is still running');
    const health = await rt.request('GET', '/healthz');
    assert.equal(health.status, 200, health.text);
    const good = await rt.request('POST', '/ingest/sensor', { sensor_id: 'after-sweep', lux: 420, presence: true });
    assert.equal(good.status, 201, good.text);
    assert.deepEqual(
      rt.logLines.filter((l) => /\[debug:errors\]|uncaught|RangeError|Maximum call stack/i.test(l)),
      [],
    );
    assert.deepEqual(rt.ourProblems(), []);
    assert.ok(answers.length > 350, `${answers.length} requests made`);
    const probe = await rt.request('GET', '/probe/prototype');
    assert.deepEqual(probe.json, { polluted: null, keys: [] }, 'no body or query of the sweep reached Object.prototype');
  });
});

describe("the main flow behind Node-RED's own httpNodeAuth", function () {
  this.timeout(120000);
  let rt: NodeRedRuntime;
  const PASSWORD = 'e2e-pass-1';
  const basic = (user: string, pass: string): Record<string, string> => ({
    Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
  });

  before(async () => {
    const flows = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
    rt = await NodeRedRuntime.start({
      flows,
      env: { ADMIN_TOKEN, FERNET_KEY: REFERENCE_KEY, OPENAI_API_KEY: '', DB_URL: '' },
      // bcrypt of PASSWORD, as `node-red admin hash-pw` gives it
      settings: {
        ...NPM_START_SETTINGS,
        httpNodeAuth: { user: 'site', pass: '$2b$08$usO6fRN.IIkuBJYZy7r20e3j4PD3yGF2VvgmfpMxs4mHLeaUljG4O' },
      },
    });
    for (let i = 0; i < 100; i++) {
      if ((await rt.request('GET', '/healthz', undefined, basic('site', PASSWORD))).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (rt) await rt.stopAndClean(true);
  });

  it("answers the API's requests without credentials with 401 JSON {detail} and stores nothing; with them, as usual", async () => {
    for (const [method, url, body] of [
      ['GET', '/healthz', undefined],
      ['POST', '/ingest/sensor', { sensor_id: 'no-credentials', lux: 1 }],
    ] as const) {
      const r = await rt.request(method, url, body, basic('site', 'wrong'));
      assert.equal(r.status, 401, `${method} ${url}: ${r.text}`);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/, `${method} ${url}`);
      assert.deepEqual(r.json, { detail: 'HTTP 401' }, `${method} ${url}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
    }
    const ok = await rt.request('POST', '/ingest/sensor', { sensor_id: 'with-credentials', lux: 2 }, basic('site', PASSWORD));
    assert.equal(ok.status, 201, ok.text);
    assert.equal((ok.json as { committed?: unknown }).committed, true, ok.text);
    const rows = await new Promise<Array<{ sensor_id: string }>>((resolve, reject) => {
      const db = new sqlite3.Database(path.join(rt.userDir, 'smart-lighting.db'), sqlite3.OPEN_READONLY, (err) => {
        if (err) return reject(err);
        db.all("SELECT sensor_id FROM raw_sensor_events WHERE sensor_id LIKE '%credentials'", (e, r: Array<{ sensor_id: string }>) => {
          db.close();
          if (e) reject(e);
          else resolve(r);
        });
      });
    });
    assert.deepEqual(rows, [{ sensor_id: 'with-credentials' }], 'only the reading sent with credentials is stored');
    // A path that is not the API's keeps Node-RED's own answer.
    const other = await rt.request('GET', '/not-the-api', undefined, basic('site', 'wrong'));
    assert.equal(other.status, 401);
    assert.doesNotMatch(other.headers.get('content-type') ?? '', /json/);
  });
});
