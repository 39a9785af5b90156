/**
 * The API's description against the API itself: flows/smart-lighting.json
 * (what `npm start` runs) in a real Node-RED runtime (4.1 on Node 20 or 5 on
 * Node 22) with the package installed from its tarball, on the simulated
 * DALI bus and a real SQLite file.
 *
 * GET /openapi.json is read from the runtime; every endpoint is called with
 * the registry's example request and with at least one error (a bad body or
 * query 400, an unknown zone or alert 404, no Bearer token 401), and every
 * real answer is validated against the document's schema for its status
 * (JSON Schema 2020-12, as OpenAPI 3.1 says). The answers carry the
 * reference service's field names. Then headless Chromium opens /docs
 * (Swagger UI served by the runtime, nothing from the internet), expands
 * GET /healthz, presses "Try it out" and "Execute", and sees the 200.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import * as sqlite3 from 'sqlite3';
import { API_ENDPOINTS, type Endpoint } from '../../lib/http/endpoints';
import { answerSchema, type OpenApiDocument } from '../../lib/http/openapi';
import { REFERENCE_FIELDS } from '../../lib/http/reference-names';
import { launchBrowser, requireChromium, type BrowserSession } from '../helpers/browser';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT } from './harness';

const ADMIN_TOKEN = 'e2e-openapi-admin-token-51d2';
/** The reference service's sample key: EXAMPLE_PROFILE decrypts with it. */
const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** One request that must fail, per operation (or operationId): what to send and the status expected. */
interface Bad {
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: unknown;
  admin?: boolean;
  status: number;
  why: string;
}

const BAD: Record<string, Bad[]> = {
  'ingest-sensor': [
    { body: { sensor_id: '10', zone: 'office-1', lux: -5 }, status: 400, why: 'negative lux' },
    { body: { sensor_id: '10', zone: 'nowhere-9', lux: 300 }, status: 404, why: 'unknown zone' },
  ],
  'ingest-weather': [
    { body: { temperature_c: 900 }, status: 400, why: 'temperature out of range' },
    { body: { zone: 'nowhere-9', temperature_c: 10 }, status: 404, why: 'unknown zone' },
  ],
  admin: [{ status: 401, why: 'no Bearer token' }],
  predict: [
    { body: [1, 2], status: 400, why: 'not an object' },
    { body: { zone: 'nowhere-9' }, status: 404, why: 'unknown zone' },
  ],
  control: [
    { body: { zone: 'office-1', intensity: 120, cct: 4000 }, status: 400, why: 'intensity over 100' },
    { body: { zone: 'nowhere-9', intensity: 50, cct: 4000 }, status: 404, why: 'unknown zone' },
  ],
  telemetry: [
    { query: { limit: '0' }, status: 400, why: 'limit 0' },
    { query: { zone: 'nowhere-9' }, status: 404, why: 'unknown zone' },
  ],
  'telemetry-ai': [
    { query: { month: '2026-13' }, status: 400, why: 'no such month' },
    { query: { zone: 'nowhere-9' }, status: 404, why: 'unknown zone' },
  ],
  energy: [
    { query: { day: 'yesterday' }, status: 400, why: 'not a day' },
    { query: { zone: 'nowhere-9' }, status: 404, why: 'unknown zone' },
  ],
  health: [],
  alerts: [
    { query: { status: 'sleeping' }, status: 400, why: 'no such status' },
    { query: { zone: 'nowhere-9' }, status: 404, why: 'unknown zone' },
  ],
  'resolve-alert': [
    { params: { id: 'abc' }, body: {}, status: 400, why: 'id not a number' },
    { params: { id: '999999' }, body: {}, status: 404, why: 'no such alert' },
  ],
  report: [
    { query: { period: 'month' }, status: 400, why: 'no such period' },
    { query: { zone: 'nowhere-9', format: 'json' }, status: 404, why: 'unknown zone' },
  ],
  // By operationId where one operation has two routes.
  startDemandResponse: [
    { body: { level: 'much' }, admin: true, status: 400, why: 'no such level' },
    { body: { level: 'shed' }, status: 401, why: 'no Bearer token' },
  ],
  endDemandResponse: [{ status: 401, why: 'no Bearer token' }],
  suggestions: [{ query: { status: 'maybe' }, status: 400, why: 'no such status' }],
  'accept-suggestion': [
    { params: { id: 'abc' }, body: {}, admin: true, status: 400, why: 'id not a number' },
    { params: { id: '999999' }, body: {}, admin: true, status: 404, why: 'no such suggestion' },
    { params: { id: '1' }, body: {}, status: 401, why: 'no Bearer token' },
  ],
  'reject-suggestion': [
    { params: { id: '999999' }, body: {}, admin: true, status: 404, why: 'no such suggestion' },
    { params: { id: '1' }, body: {}, status: 401, why: 'no Bearer token' },
  ],
  profile: [
    { body: { profile_id: 'default' }, admin: true, status: 400, why: 'no encrypted_payload' },
    { body: { profile_id: 'default', encrypted_payload: 'x' }, status: 401, why: 'no Bearer token' },
  ],
};

function urlOf(e: Endpoint, params: Record<string, string> = {}, query: Record<string, string> = {}): string {
  const p = e.path.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
  const q = new URLSearchParams(query).toString();
  return q === '' ? p : `${p}?${q}`;
}

/** Inserts a pending suggestion as lighting-insights stores one (the examples of accept and reject need one each). */
function insertSuggestion(dbFile: string): Promise<number> {
  const now = Date.now();
  return insertRow(
    dbFile,
    `INSERT INTO suggestions (created_at, updated_at, zone, kind, pattern_key, summary, status, support_days, confidence, evidence, change_json)
     VALUES (?, ?, 'meeting-1', 'slot', ?, 'e2e: weekdays 14:00-16:00 at most 45 %', 'pending', 8, 0.8, '[]', ?)`,
    [
      now,
      now,
      `e2e-${now}-${Math.random()}`,
      JSON.stringify({ kind: 'slot', days: [1, 2, 3, 4, 5], startMinute: 840, endMinute: 960, maxIntensityPct: 45 }),
    ],
  );
}

function insertRow(dbFile: string, sql: string, params: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(dbFile, (err) => {
      if (err) return reject(err);
      db.run(sql, params, function (this: { lastID: number } | undefined, e: Error | null) {
        const id = this?.lastID;
        db.close();
        if (e || id === undefined) reject(e ?? new Error('no row id'));
        else resolve(id);
      });
    });
  });
}

/** Inserts an active alert as the alerts node stores one (the example of POST /alerts/:id/resolve needs one). */
function insertAlert(dbFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(dbFile, (err) => {
      if (err) return reject(err);
      db.run(
        "INSERT INTO alerts (ts, zone, kind, severity, message) VALUES (?, 'office-1', 'other', 'warning', 'e2e: an alert to resolve')",
        [Date.now()],
        function (this: { lastID: number } | undefined, e: Error | null) {
          const id = this?.lastID;
          db.close();
          if (e || id === undefined) reject(e ?? new Error('no alert id'));
          else resolve(id);
        },
      );
    });
  });
}

describe('OpenAPI document and /docs against the real API (main flow)', function () {
  this.timeout(120000);
  let rt: NodeRedRuntime | undefined;
  let doc: OpenApiDocument;
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    formats: { date: /^\d{4}-\d{2}-\d{2}$/, 'date-time': (s: string) => !Number.isNaN(Date.parse(s)) },
  });
  const flows = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as object[];

  /** Asserts that `body` is what the document says `status` of method+path answers. */
  function assertDocumented(e: Endpoint, status: number, body: unknown, what: string): void {
    const schema = answerSchema(doc, e.method, e.path, status);
    assert.ok(schema, `${what}: the document lists status ${status} for ${e.method} ${e.path}`);
    const validate = ajv.compile(schema);
    assert.ok(
      validate(body),
      `${what}: the answer ${JSON.stringify(body).slice(0, 400)} matches the document: ${ajv.errorsText(validate.errors)}`,
    );
  }

  before(async function () {
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = installDir ? fs.mkdtempSync(path.join(installDir, '..', 'ud-openapi-')) : undefined;
    rt = await NodeRedRuntime.start({
      userDir,
      flows,
      // No OpenAI key: /predict answers from the rules. A high rate limit: this suite sends ~40 requests a minute.
      env: { ADMIN_TOKEN, FERNET_KEY: REFERENCE_KEY, RATE_LIMIT_PER_MINUTE: '1000' },
      settings: NPM_START_SETTINGS,
    });
  });

  after(async () => {
    if (rt) await rt.stopAndClean();
  });

  it('serves an OpenAPI 3.1 document with every endpoint of the flow', async () => {
    assert.deepEqual(rt!.ourProblems(), [], 'deployed without warnings or errors');
    const r = await rt!.request('GET', '/openapi.json');
    assert.equal(r.status, 200, r.text);
    doc = r.json as OpenApiDocument;
    assert.equal(doc.openapi, '3.1.0');
    for (const e of API_ENDPOINTS)
      assert.ok(doc.paths[e.path.replace(/:(\w+)/g, '{$1}')]?.[e.method.toLowerCase()], `${e.method} ${e.path}`);
  });

  it("answers every example request as the document says, with the reference's field names", async () => {
    for (const e of API_ENDPOINTS) {
      // The store has opened its database (and migrated it) by now.
      const dbFile = path.join(rt!.userDir, 'smart-lighting.db');
      const params =
        e.operation === 'resolve-alert'
          ? { ...e.example.params, id: String(await insertAlert(dbFile)) }
          : e.operation === 'accept-suggestion' || e.operation === 'reject-suggestion'
            ? { ...e.example.params, id: String(await insertSuggestion(dbFile)) }
            : e.example.params;
      const r = await rt!.request(
        e.method,
        urlOf(e, params, e.example.query),
        e.example.body ?? (e.method === 'POST' ? {} : undefined),
        e.admin ? bearer : {},
      );
      assert.equal(r.status, e.example.status, `${e.method} ${e.path} example: ${r.text}`);
      assertDocumented(e, r.status, r.json, `${e.method} ${e.path} example`);
      assert.ok(r.headers.get('x-request-id'), 'X-Request-Id');
      for (const f of REFERENCE_FIELDS.filter((x) => x.endpoints.includes(`${e.method} ${e.path}`))) {
        const body = r.json as Record<string, unknown> & { items?: Array<Record<string, unknown>> };
        const holder = Array.isArray(body.items) ? body.items[0] : body;
        assert.ok(holder, `${e.path}: an answer to look at`);
        assert.ok(
          f.ours in holder && f.reference in holder,
          `${e.path}: ${f.ours} and ${f.reference} in ${JSON.stringify(holder).slice(0, 300)}`,
        );
        assert.deepEqual(holder[f.reference], holder[f.ours]);
      }
    }
  });

  it('answers the errors the document lists, each a {"detail"} of the documented schema', async () => {
    for (const e of API_ENDPOINTS) {
      const cases = BAD[e.id] ?? BAD[e.operation];
      assert.ok(cases, `error cases for ${e.operation}`);
      if (e.operation !== 'health') assert.ok(cases.length > 0, `at least one error case for ${e.path}`);
      for (const c of cases) {
        const useToken = c.admin ?? (e.admin && c.status !== 401);
        const r = await rt!.request(
          e.method,
          urlOf(e, c.params ?? e.example.params, c.query),
          c.body ?? (e.method === 'POST' ? {} : undefined),
          useToken ? bearer : {},
        );
        assert.equal(r.status, c.status, `${e.method} ${e.path} (${c.why}): ${r.text}`);
        assert.ok(Object.keys(e.errors).includes(String(c.status)), `${e.path}: ${c.status} is listed in the registry`);
        assertDocumented(e, r.status, r.json, `${e.method} ${e.path} (${c.why})`);
        if (c.status === 401) assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    }
  });

  it('stops serving /openapi.json and /docs when the api-docs node is removed by a deploy', async () => {
    const without = flows.filter((n) => {
      const node = n as { id?: string; type?: string; z?: string };
      return node.type !== 'api-docs' && node.id !== 'sl-docs-tab' && node.z !== 'sl-docs-tab';
    });
    assert.equal(without.length, flows.length - 2, 'the docs tab and its node');
    await rt!.deploy(without);
    assert.equal((await rt!.request('GET', '/openapi.json')).status, 404);
    assert.equal((await rt!.request('GET', '/docs')).status, 404);
    assert.equal((await rt!.request('GET', '/docs/swagger-ui-bundle.js')).status, 404);
    await rt!.deploy(flows);
    assert.equal((await rt!.request('GET', '/openapi.json')).status, 200, 'back after deploying it again');
  });

  describe('Swagger UI at /docs in Chromium', function () {
    let browser: BrowserSession | undefined;

    before(function () {
      requireChromium(this);
    });

    after(async () => {
      await browser?.close();
    });

    it('opens /docs from this host only, expands GET /healthz, tries it out and shows the 200 answer', async () => {
      const origin = rt!.baseUrl;
      browser = await launchBrowser({ origin });
      const { page } = browser;
      const elsewhere: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) elsewhere.push(req.url());
      });
      await page.goto(`${origin}/docs`, { waitUntil: 'load' });
      const op = page.locator('#operations-health-health');
      await op.waitFor({ state: 'visible', timeout: 30000 });
      assert.equal(await page.locator('.opblock').count(), API_ENDPOINTS.length, 'one block per endpoint');
      await op.locator('.opblock-summary').first().click();
      await op.locator('button.try-out__btn').click();
      await op.locator('button.execute').click();
      const status = op.locator('.live-responses-table .response .response-col_status').first();
      await status.waitFor({ state: 'visible', timeout: 20000 });
      assert.equal((await status.innerText()).trim(), '200');
      const shown = await op.locator('.live-responses-table .response-col_description pre').first().innerText();
      assert.match(shown, /"status":\s*"ok"/, `the health report is shown: ${shown.slice(0, 300)}`);
      assert.deepEqual(elsewhere, [], 'nothing fetched from another host');
      assert.deepEqual(browser.problemsSince(0), []);
    });
  });
});
