/**
 * flows/smart-lighting.json - the flow `npm start` deploys - in a real
 * Node-RED runtime (4.1 on Node 20 or 5 on Node 22, see scripts/e2e-matrix.js)
 * with the package installed from its tarball, on the simulated DALI bus and
 * a real SQLite file. Every endpoint of the HTTP API is driven with good and
 * bad input the way a user of the Python service would (JSON bodies, Bearer
 * token), the database is read behind the API to prove what was (and was
 * not) stored, and the live WebSocket is listened to.
 *
 * Only the environment differs from what users run: ADMIN_TOKEN, an OpenAI
 * key with OPENAI_BASE_URL on a closed local port (so the AI circuit opens
 * and raises its alert without any network), and the database.
 *
 * The suite runs twice: on the SQLite file (DB_URL blank) and on a real
 * PostgreSQL server started in a temporary directory (DB_URL in the reference
 * service's postgresql+psycopg:// form). E2E_DB=sqlite or E2E_DB=postgres
 * runs one of them.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { query as sqliteQuery } from '../helpers/sqlite-query';
import WebSocket from 'ws';
import { PgDb } from '../../lib/store/pg';
import { closedPort } from '../helpers/fake-openai-server';
import { findPgBin, startPostgres, type PgCluster } from '../helpers/postgres';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT } from './harness';

const ADMIN_TOKEN = 'e2e-admin-token-7c1f9a';
/** The reference service's sample key and profile (test/fixtures/fernet/reference-personal.json). */
const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const PLAINTEXT = ['low_vision', 'female', 'intermediate', 'Monday'];
const ZONE = 'office-1';

const ENGINES = (process.env.E2E_DB ?? 'sqlite,postgres').split(',').filter((e) => e === 'sqlite' || e === 'postgres');

/** Rows of `sql` (SQLite dialect, ? placeholders) read behind the API: from the SQLite file, or from PostgreSQL when `dbFile` is a URL. */
async function query<T>(dbFile: string, sql: string, params: unknown[] = []): Promise<T[]> {
  if (dbFile.startsWith('postgresql')) {
    const db = new PgDb(dbFile, { poolSize: 1 });
    try {
      return await db.all<T>(sql, params as never[]);
    } finally {
      await db.close();
    }
  }
  return sqliteQuery<T>(dbFile, sql, params);
}

interface LiveEvent {
  type: string;
  data: Record<string, unknown>;
}

class LiveSocket {
  readonly events: LiveEvent[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      try {
        this.events.push(JSON.parse(String(data)) as LiveEvent);
      } catch {
        this.events.push({ type: 'unparsable', data: { text: String(data) } });
      }
    });
  }

  static open(url: string): Promise<LiveSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new LiveSocket(ws)));
      ws.once('error', reject);
    });
  }

  async waitFor(pred: (e: LiveEvent) => boolean, what: string, timeoutMs = 10000): Promise<LiveEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no live ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`);
  }

  close(): void {
    this.ws.close();
  }
}

/** The zone table of the flow's lighting-zones node. */
function shippedZones(flows: object[]): object[] {
  const node = flows.find((n) => (n as { type?: string }).type === 'lighting-zones') as { zones?: object[] } | undefined;
  assert.ok(node && Array.isArray(node.zones), 'the main flow has a zone map');
  return node.zones;
}

for (const engine of ENGINES)
  describe(`the main flow (flows/smart-lighting.json): HTTP API, live push, alerts [${engine}]`, function () {
    this.timeout(60000);
    let rt: NodeRedRuntime;
    let dbFile: string;
    let pg: PgCluster | undefined;
    let live: LiveSocket;
    let env: Record<string, string>;
    const flows = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as object[];
    const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };

    before(async function () {
      if (engine === 'postgres' && !findPgBin()) {
        process.stderr.write(
          '\n!!! POSTGRESQL NOT INSTALLED: SKIPPING THE POSTGRESQL END-TO-END TESTS (apt-get install postgresql) !!!\n\n',
        );
        this.skip();
      }
      if (engine === 'postgres') pg = await startPostgres();
      const installDir = process.env.E2E_INSTALL_DIR;
      const userDir = installDir ? fs.mkdtempSync(path.join(installDir, '..', 'ud-api-')) : undefined;
      const port = await closedPort();
      env = {
        ADMIN_TOKEN,
        OPENAI_API_KEY: 'sk-e2e-not-a-real-key',
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
        // The reference service's form of the URL, password included (it must never show).
        DB_URL: pg ? pg.url.replace(/^postgresql:/, 'postgresql+psycopg:') : '',
        FERNET_KEY: REFERENCE_KEY,
        // The shipped zone map from the environment (as a site would template it), plus a zone with no gear.
        ZONES: JSON.stringify([...shippedZones(flows), { zone: 'bright-1', gear: 'G3' }]),
      };
      rt = await NodeRedRuntime.start({ userDir, flows, env, settings: NPM_START_SETTINGS });
      dbFile = pg ? pg.url : path.join(rt.userDir, 'smart-lighting.db');
      live = await LiveSocket.open(`ws://127.0.0.1:${rt.port}/ws/live`);
    });

    after(async () => {
      live?.close();
      if (rt) {
        await rt.stopAndClean();
      }
      pg?.remove();
    });

    it('deploys with every node started and no errors', async () => {
      assert.deepEqual(rt.ourProblems(), []);
      const flowsNow = await rt.request('GET', '/flows');
      assert.equal(flowsNow.status, 200);
    });

    it('POST /predict answers 400 "No features available" before any window exists', async () => {
      const r = await rt.request('POST', '/predict', {});
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, { detail: 'No features available' });
    });

    it('POST /ingest/sensor stores a reading before answering 201, and pushes it live', async () => {
      const ts = Date.now();
      const r = await rt.request('POST', '/ingest/sensor', { sensor_id: 'http-1', zone: ZONE, ts, lux: 123.5, presence: true });
      assert.equal(r.status, 201, r.text);
      const body = r.json as { ok: boolean; id: number; committed: boolean };
      assert.equal(body.ok, true);
      assert.equal(body.committed, true);
      assert.ok(Number.isInteger(body.id) && body.id > 0, r.text);
      // Committed before the answer: the row is in the file now.
      const rows = await query<{ id: number; lux: number }>(dbFile, 'SELECT id, lux FROM raw_sensor_events WHERE id = ?', [body.id]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.lux, 123.5);
      const ev = await live.waitFor((e) => e.type === 'reading' && e.data.sensorId === 'http-1', 'reading');
      assert.equal(ev.data.zone, ZONE);
    });

    it('POST /ingest/sensor refuses bad input with 400 and a message, storing nothing', async () => {
      const count = async (): Promise<number> =>
        (await query<{ n: number }>(dbFile, 'SELECT COUNT(*) AS n FROM raw_sensor_events WHERE sensor_id LIKE ?', ['bad-%']))[0]?.n ?? -1;
      const cases: Array<[unknown, RegExp]> = [
        [{ sensor_id: 'bad-1', zone: ZONE, lux: -5 }, /lux/],
        [{ sensor_id: 'bad-2', zone: ZONE, lux: 'bright' }, /lux/],
        [{ sensor_id: 'bad-3', zone: ZONE, presence: 'yes' }, /presence/],
        [{ zone: ZONE, lux: 100 }, /sensor/i],
        [[1, 2, 3], /object/i],
      ];
      for (const [body, re] of cases) {
        const r = await rt.request('POST', '/ingest/sensor', body);
        assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
        const detail = (r.json as { detail?: string }).detail ?? '';
        assert.match(detail, re, `${JSON.stringify(body)} -> ${detail}`);
      }
      const notJson = await rt.request('POST', '/ingest/sensor', '{"lux": 12', { 'Content-Type': 'application/json' });
      assert.equal(notJson.status, 400, notJson.text);
      assert.equal(await count(), 0);
    });

    it('POST /ingest/weather stores good weather (201) and refuses bad (400)', async () => {
      const ok = await rt.request('POST', '/ingest/weather', { zone: ZONE, temperature_c: 21.5, cloud_cover: 0.4 });
      assert.equal(ok.status, 201, ok.text);
      const id = (ok.json as { id: number }).id;
      const rows = await query<{ id: number }>(dbFile, 'SELECT id FROM weather_events WHERE id = ?', [id]);
      assert.equal(rows.length, 1);
      const bad = await rt.request('POST', '/ingest/weather', { zone: ZONE, temperature_c: 'warm' });
      assert.equal(bad.status, 400, bad.text);
      assert.match((bad.json as { detail: string }).detail, /temperature/);
    });

    it('POST /admin/aggregate-now needs the Bearer admin token (401) and then runs (200 {ok: true})', async () => {
      const none = await rt.request('POST', '/admin/aggregate-now');
      assert.equal(none.status, 401, none.text);
      assert.match(String(none.headers.get('www-authenticate')), /Bearer/);
      const wrong = await rt.request('POST', '/admin/aggregate-now', undefined, { Authorization: `Bearer ${ADMIN_TOKEN}x` });
      assert.equal(wrong.status, 401);
      const basic = await rt.request('POST', '/admin/aggregate-now', undefined, {
        Authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
      });
      assert.equal(basic.status, 401);
      const ok = await rt.request('POST', '/admin/aggregate-now', undefined, bearer);
      assert.equal(ok.status, 200, ok.text);
      const body = ok.json as { ok: boolean; aggregated: number };
      assert.equal(body.ok, true);
      assert.ok(body.aggregated >= 1, ok.text);
    });

    it('POST /predict decides from the latest windows once there are some (rules when the AI is unreachable)', async () => {
      const r = await rt.request('POST', '/predict', { zone: ZONE });
      assert.equal(r.status, 200, r.text);
      const sp = r.json as { zone: string; intensity: number; cct: number; source: string; reason: string };
      assert.equal(sp.zone, ZONE);
      assert.ok(sp.intensity >= 0 && sp.intensity <= 100);
      assert.ok(sp.cct >= 1800 && sp.cct <= 6500);
      assert.equal(sp.source, 'rules', 'the AI endpoint is a closed port: the rules decide');
      assert.match(sp.reason, /AI not used/);
      // OPENAI_BASE_URL (the provider's base URL is blank in the flow) sent the request to the closed local port.
      await rt.waitForLog(/\[ai-decide:predict\] AI fallback: network .*ECONNREFUSED/, 5000);
      const bad = await rt.request('POST', '/predict', { zone: 42 });
      assert.equal(bad.status, 400, bad.text);
    });

    it('POST /control applies a manual setpoint on the bus, records it, holds the zone and pushes it live', async () => {
      const r = await rt.request('POST', '/control', {
        intensity: 55,
        cct: 4000,
        reason: 'manual tweak',
        manual_override: true,
        override_minutes: 30,
      });
      assert.equal(r.status, 200, r.text);
      const out = r.json as { zone: string; intensity: number; cct: number; level: number; frames: number; source: string };
      assert.equal(out.zone, ZONE);
      assert.equal(out.source, 'manual');
      assert.equal(out.intensity, 55);
      assert.ok(Math.abs(out.cct - 4000) < 20, `cct ${out.cct}`);
      assert.ok(out.level > 0 && out.level <= 254);
      await live.waitFor((e) => e.type === 'decision' && e.data.source === 'manual' && e.data.intensity === 55, 'decision');
      const overrides = await query<{ zone: string }>(dbFile, 'SELECT zone FROM manual_overrides');
      assert.ok(
        overrides.some((o) => o.zone === ZONE),
        'the override is persisted',
      );
      await rt.waitForLog(/Manual override stored: zone office-1 until /, 5000);
      for (const body of [
        { intensity: 150, cct: 4000 },
        { intensity: 50, cct: 900 },
        { intensity: 50, cct: 4000, override_minutes: -3 },
        'nonsense',
      ]) {
        const bad = await rt.request('POST', '/control', body);
        assert.equal(bad.status, 400, `${JSON.stringify(body)} -> ${bad.status} ${bad.text}`);
        // A body that is not a JSON object is refused by the http in node's parser itself (text answer).
        if (typeof body === 'object') assert.ok((bad.json as { detail?: string }).detail, bad.text);
        else assert.ok(bad.text.length > 0);
      }
    });

    it('GET /telemetry pages through the recorded decisions and refuses a bad query', async () => {
      let page: { items: Array<{ source: string; intensity: number; energySavingEstimate: number; applied: boolean }> } | undefined;
      for (let i = 0; i < 40; i++) {
        const r = await rt.request('GET', '/telemetry?limit=10');
        assert.equal(r.status, 200, r.text);
        page = r.json as typeof page;
        if (page?.items.some((d) => d.source === 'manual')) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const manual = page?.items.find((d) => d.source === 'manual');
      assert.ok(manual, JSON.stringify(page));
      assert.equal(manual.intensity, 55);
      assert.equal(manual.applied, true);
      assert.ok(Math.abs(manual.energySavingEstimate - 0.45) < 1e-9);
      const one = await rt.request('GET', '/telemetry?limit=1&offset=0');
      assert.equal((one.json as { items: unknown[] }).items.length, 1);
      for (const q of ['limit=0', 'limit=abc', 'offset=-1', 'source=robot']) {
        const bad = await rt.request('GET', `/telemetry?${q}`);
        assert.equal(bad.status, 400, `${q} -> ${bad.status} ${bad.text}`);
      }
    });

    it('GET /telemetry/ai sums the stored ai-decide calls (network fallbacks here), /telemetry?kind=ai lists them', async () => {
      // /predict above called the AI (a closed port): each call is a telemetry row of kind ai, written by lighting-alerts.
      let rows: Array<{ n: number }> = [];
      for (let i = 0; i < 50 && (rows[0]?.n ?? 0) === 0; i++) {
        rows = await query<{ n: number }>(dbFile, "SELECT COUNT(*) AS n FROM telemetry WHERE kind = 'ai'");
        if ((rows[0]?.n ?? 0) === 0) await new Promise((res) => setTimeout(res, 100));
      }
      const stored = Number(rows[0]?.n ?? 0);
      assert.ok(stored >= 1, 'ai rows stored');
      const r = await rt.request('GET', '/telemetry/ai');
      assert.equal(r.status, 200, r.text);
      const s = r.json as {
        calls: number;
        aiCalls: number;
        fallbacksByReason: Record<string, number>;
        tokens: { total: number };
        cost: number | null;
      };
      assert.ok(s.calls >= stored, r.text);
      assert.equal(s.aiCalls, 0, r.text);
      assert.ok((s.fallbacksByReason.network ?? 0) >= 1, r.text);
      assert.equal(s.tokens.total, 0);
      assert.equal(s.cost, null, 'no AI_PRICE_*_PER_MTOK set');
      const list = await rt.request('GET', '/telemetry?kind=ai&limit=5');
      assert.equal(list.status, 200, list.text);
      const items = (list.json as { items: Array<{ kind: string; fallbackReason: string | null }> }).items;
      assert.ok(items.length >= 1 && items.every((i) => i.kind === 'ai'), list.text);
      const bad = await rt.request('GET', '/telemetry/ai?month=13');
      assert.equal(bad.status, 400, bad.text);
    });

    it('GET /telemetry/energy sums the day from the decisions, each zone at its wattage from the zone map (as /report)', async () => {
      const r = await rt.request('GET', '/telemetry/energy');
      assert.equal(r.status, 200, r.text);
      const s = r.json as {
        hours: number;
        baselineWh: number | null;
        zones: Array<{ zone: string; fixtureWatts: number | null; baselineWh: number | null }>;
      };
      assert.ok(s.zones.length > 0, r.text);
      const report = await rt.request('GET', '/report?period=day&format=json');
      assert.equal(report.status, 200, report.text);
      const watts = new Map(
        (report.json as { zones: Array<{ zone: string; fixtureWatts: number | null }> }).zones.map((z) => [z.zone, z.fixtureWatts]),
      );
      let baseline = 0;
      for (const z of s.zones) {
        assert.equal(z.fixtureWatts, watts.get(z.zone), `${z.zone}: the wattage /report uses`);
        assert.ok(
          z.fixtureWatts !== null && z.baselineWh !== null && Math.abs(z.baselineWh - z.fixtureWatts * s.hours) < 1e-6,
          JSON.stringify(z),
        );
        baseline += z.baselineWh;
      }
      assert.ok(s.baselineWh !== null && Math.abs(s.baselineWh - baseline) < 1e-6, "the total is the zones' sum");
      const bad = await rt.request('GET', '/telemetry/energy?day=yesterday');
      assert.equal(bad.status, 400, bad.text);
    });

    it('GET /healthz reports database, DALI interface, scheduler and version', async () => {
      const r = await rt.request('GET', '/healthz');
      assert.equal(r.status, 200, r.text);
      const h = r.json as { status: string; database: string; scheduler: string; dali: { state: string }; version: string };
      const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
      assert.equal(h.status, 'ok');
      assert.equal(h.database, 'ok');
      assert.equal(h.scheduler, 'running');
      assert.equal(h.dali.state, 'connected');
      assert.equal(h.version, pkg.version);
      if (pg) {
        assert.equal(fs.existsSync(path.join(rt.userDir, 'smart-lighting.db')), false, 'no SQLite file on PostgreSQL');
        assert.ok(!r.text.includes(pg.password), 'the password is not in /healthz');
      }
    });

    it('raises an AI-circuit-open alert after failed AI calls, lists it at GET /alerts, pushes it live, and resolves it', async () => {
      // Each /predict asks the (unreachable) AI once; three failures in a row open the circuit.
      for (let i = 0; i < 3; i++) assert.equal((await rt.request('POST', '/predict', { zone: ZONE })).status, 200);
      interface Alert {
        id: number;
        kind: string;
        resolvedAt: number | null;
      }
      const findAlert = async (): Promise<Alert | undefined> => {
        for (let i = 0; i < 50; i++) {
          const r = await rt.request('GET', '/alerts');
          assert.equal(r.status, 200, r.text);
          const hit = (r.json as { items: Alert[] }).items.find((a) => a.kind === 'aiCircuitOpen');
          if (hit) return hit;
          await new Promise((res) => setTimeout(res, 100));
        }
        return undefined;
      };
      const alert = await findAlert();
      assert.ok(alert, 'aiCircuitOpen listed');
      assert.equal(alert.resolvedAt, null);
      await live.waitFor((e) => e.type === 'alert' && e.data.event === 'raised', 'alert');
      const resolved = await rt.request('POST', `/alerts/${alert.id}/resolve`, { resolved_by: 'e2e' });
      assert.equal(resolved.status, 200, resolved.text);
      assert.ok((resolved.json as { resolvedAt: number | null }).resolvedAt, resolved.text);
      const active = await rt.request('GET', '/alerts?status=active');
      assert.ok(!(active.json as { items: Alert[] }).items.some((a) => a.id === alert.id));
      const missing = await rt.request('POST', '/alerts/999999/resolve', {});
      assert.equal(missing.status, 404, missing.text);
      const bad = await rt.request('POST', '/alerts/abc/resolve', {});
      assert.equal(bad.status, 400, bad.text);
    });

    it('POST /admin/profile stores an encrypted profile (admin only) and the deciders use its hints', async () => {
      const blob = JSON.parse(
        fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8'),
      ) as {
        profile_id: string;
        encrypted_payload: string;
      };
      // A bright, occupied zone: the rules alone give the occupied floor (10 %).
      assert.equal(
        (await rt.request('POST', '/ingest/sensor', { sensor_id: 'bright-1', zone: 'bright-1', lux: 5000, presence: true })).status,
        201,
      );
      assert.equal((await rt.request('POST', '/admin/aggregate-now', undefined, bearer)).status, 200);
      const before = await rt.request('POST', '/predict', { zone: 'bright-1' });
      assert.equal(before.status, 200, before.text);
      assert.ok((before.json as { intensity: number }).intensity < 30, before.text);

      assert.equal((await rt.request('POST', '/admin/profile', blob)).status, 401, 'admin only');
      const bad = await rt.request('POST', '/admin/profile', { profile_id: 'x', encrypted_payload: 'not-a-token' }, bearer);
      assert.equal(bad.status, 400, bad.text);
      // One ciphertext character changed: same length, the HMAC no longer verifies.
      const flip = (c: string): string => (c === 'A' ? 'B' : 'A');
      const tampered = {
        ...blob,
        encrypted_payload: `${blob.encrypted_payload.slice(0, 60)}${flip(blob.encrypted_payload[60] ?? 'A')}${blob.encrypted_payload.slice(61)}`,
      };
      const refused = await rt.request('POST', '/admin/profile', tampered, bearer);
      assert.equal(refused.status, 400, refused.text);
      assert.match((refused.json as { detail: string }).detail, /cannot be decrypted/);
      const stored = await rt.request('POST', '/admin/profile', blob, bearer);
      assert.equal(stored.status, 201, stored.text);
      assert.deepEqual(stored.json, { ok: true, profileId: blob.profile_id, profile_id: blob.profile_id, stored: true });
      const rows = await query<{ profile_id: string; encrypted_payload: string }>(dbFile, 'SELECT * FROM personal_profiles');
      assert.deepEqual(
        rows.map((r) => [r.profile_id, r.encrypted_payload]),
        [[blob.profile_id, blob.encrypted_payload]],
        'stored encrypted, as sent',
      );

      const after = await rt.request('POST', '/predict', { zone: 'bright-1' });
      assert.equal(after.status, 200, after.text);
      assert.equal((after.json as { intensity: number }).intensity, 30, `the low-vision floor: ${after.text}`);
      for (const p of PLAINTEXT) {
        assert.ok(!after.text.includes(p) && !stored.text.includes(p), `an answer contains ${p}`);
        assert.ok(!rt.logLines.some((l) => l.includes(p)), `the log contains ${p}`);
      }
    });

    it('logs requests as structured JSON lines without the admin token', () => {
      const json = rt.logLines.filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        json.some((l) => l.operation === 'control'),
        'a JSON line per request',
      );
      assert.ok(!rt.logLines.some((l) => l.includes(ADMIN_TOKEN)), 'the token never reaches a log');
      if (pg) assert.ok(!rt.logLines.some((l) => l.includes(pg?.password ?? '')), 'the database password never reaches a log');
    });

    it('answers 429 with Retry-After when one client exceeds the rate limit, and the runtime keeps serving', async () => {
      let limited: Awaited<ReturnType<NodeRedRuntime['request']>> | undefined;
      for (let i = 0; i < 80 && !limited; i++) {
        const r = await rt.request('GET', '/telemetry?limit=1');
        if (r.status === 429) limited = r;
        else assert.equal(r.status, 200, r.text);
      }
      assert.ok(limited, 'limited within 80 requests (60 per minute)');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.match((limited.json as { detail: string }).detail, /Too many requests/i);
      const health = await rt.request('GET', '/healthz');
      assert.equal(health.status, 200, 'health checks are not rate limited');
    });

    it('logged no warning or error of its own through all of the above', () => {
      // The AI endpoint is a closed port on purpose: ai-decide's fallback warnings are expected.
      assert.deepEqual(rt.ourProblems([/ai-decide/]), []);
      // Errors a catch node handled are logged by the flow's "errors" debug node: none expected.
      assert.deepEqual(
        rt.logLines.filter((l) => /\[debug:errors\]/.test(l)),
        [],
      );
    });

    it('after a restart: the override, the stored profile and the data are still there', async () => {
      live.close();
      await rt.stop();
      rt = await NodeRedRuntime.start({ userDir: rt.userDir, env, settings: NPM_START_SETTINGS });
      const health = await rt.request('GET', '/healthz');
      assert.equal(health.status, 200, health.text);
      // The profile is loaded from the database at start: the floor holds without a new upload.
      let intensity = -1;
      for (let i = 0; i < 30 && intensity !== 30; i++) {
        const r = await rt.request('POST', '/predict', { zone: 'bright-1' });
        assert.equal(r.status, 200, r.text);
        intensity = (r.json as { intensity: number }).intensity;
        if (intensity !== 30) await new Promise((res) => setTimeout(res, 200));
      }
      assert.equal(intensity, 30);
      const telemetry = await rt.request('GET', '/telemetry?source=manual');
      assert.ok((telemetry.json as { items: Array<{ intensity: number }> }).items.some((d) => d.intensity === 55));
      assert.deepEqual(rt.ourProblems([/ai-decide/]), []);
    });
  });
