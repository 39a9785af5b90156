/**
 * The weather source and demand response in real Node-RED runtimes (4.1 on
 * Node 20 or 5 on Node 22, scripts/e2e-matrix.js), SQLite files:
 *
 * Main flow (flows/smart-lighting.json, with WEATHER_LATITUDE/LONGITUDE set and
 * WEATHER_BASE_URL pointing at a local HTTP server that plays Open-Meteo):
 * - its weather node fetches at start: the update is a weather_events row and
 *   reaches the next feature window;
 * - a second weather node (test tab, fetched over HTTP) against the same server
 *   answering slow (timeout), 500 and garbage: red/yellow status (read from the
 *   editor's /comms socket), nothing stored; the next good answer stores again
 *   and turns it green;
 * - POST /admin/demand-response (admin token; 400 for a bad level) caps the next
 *   automatic setpoint of a zone at 85 % at the gear (DT8 readback of the
 *   simulated bus), the reason names it, the event is a telemetry row, and at
 *   `until` the zone goes back to 100 % by itself; /telemetry/energy counts the
 *   shed minutes; DELETE ends an event.
 * MQTT gateway (flows/mqtt-gateway.json, real Mosquitto): the same on
 * <prefix>/gateway/demand-response; garbage there goes to gateway/error.
 *
 * Test copies change only what makes the behaviour visible and deterministic:
 * read back on the main flow's DT8 out, a spare group of simulated gear (G3)
 * for a test zone no simulated sensor drives, and no night cap on the rules
 * (so the check does not depend on the hour it runs at). The gates let a rise
 * through after GATE_RISE_S instead of 30 s, so a demand response event that
 * outlasts it can be short: what is checked (capped, then uncapped at until)
 * does not depend on how long the interval is.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { connectAsync, type MqttClient } from 'mqtt';
import { query } from '../helpers/sqlite-query';
import { startFakeWeatherServer, type FakeWeatherServer } from '../helpers/fake-weather-server';
import { skipWithoutMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto';
import { NodeRedRuntime, NPM_START_SETTINGS, PACKAGE_NAME, PROJECT_ROOT } from './harness';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const TOKEN = 'e2e-dr-admin-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const DR_ZONE = 'dr-1';
const TAG = 'demand-response:shed 15% (cap 85%)';
/** The gates' interval for rises in the test copies (the shipped flows: 30 s); an event lasts longer than it. */
const GATE_RISE_S = 5;
/**
 * The rules' clock schedule for these tests: 4 000 K and no intensity cap all
 * day. The default clock schedule caps the output from 19:00 (the evening
 * ramp; "Night cap" only applies with colour by sun), so the uncapped 100 %
 * these tests wait for never came in the evening.
 */
const FLAT_SCHEDULE = JSON.stringify([{ minute: 0, kelvin: 4000, maxIntensityPct: 100, label: 'test' }]);
/** How long the demand response events of these tests last, minutes (18 s: the capped setpoint comes first, then the rise at until). */
const EVENT_MINUTES = 0.3;

/** A shipped flow as users get it (from the installed package when the matrix installed one). */
function shippedFlow(name: string): FlowNode[] {
  const modules = process.env.E2E_USER_MODULES;
  const file = modules ? path.join(modules, PACKAGE_NAME, 'flows', name) : path.join(PROJECT_ROOT, 'flows', name);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
}

function byId(flow: FlowNode[], id: string): FlowNode {
  const n = flow.find((x) => x.id === id);
  assert.ok(n, `${id} in the flow`);
  return n;
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A table not created yet (the store opens while the test starts) is "not yet".
    const v = await Promise.resolve()
      .then(check)
      .catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Node statuses as the editor sees them (Node-RED's /comms socket). */
class StatusSocket {
  readonly last = new Map<string, { fill?: string; shape?: string; text?: string }>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let msgs: unknown;
      try {
        msgs = JSON.parse(String(data));
      } catch {
        return;
      }
      for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
        const { topic, data: d } = (m ?? {}) as { topic?: string; data?: { fill?: string; shape?: string; text?: string } };
        if (typeof topic === 'string' && topic.startsWith('status/') && d) this.last.set(topic.slice(7), d);
      }
    });
  }

  static open(port: number): Promise<StatusSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
      ws.once('open', () => {
        ws.send(JSON.stringify({ subscribe: 'status/#' }));
        resolve(new StatusSocket(ws));
      });
      ws.once('error', reject);
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface LiveEvent {
  type: string;
  data: Record<string, unknown>;
}

function openLive(port: number, events: LiveEvent[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/live`);
    ws.on('message', (data) => {
      try {
        events.push(JSON.parse(String(data)) as LiveEvent);
      } catch {
        // not JSON: ignored
      }
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('weather source and demand response in the main flow', function () {
  this.timeout(120_000);
  let rt: NodeRedRuntime;
  let srv: FakeWeatherServer;
  let status: StatusSocket;
  let live: WebSocket;
  const events: LiveEvent[] = [];
  let dbFile: string;

  before(async () => {
    srv = await startFakeWeatherServer();
    srv.temperatureC = 6.5;
    const flows = shippedFlow('smart-lighting.json');
    // A spare group of simulated gear for the test zone; read back at the gear; no cap at any hour.
    const bus = byId(flows, 'sl-bus');
    bus.simGear = '0-9';
    bus.simGroups = `${String(bus.simGroups)}; 3:8-9`;
    byId(flows, 'sl-out').verify = true;
    byId(flows, 'sl-rules').keyframes = FLAT_SCHEDULE;
    byId(flows, 'sl-gate').minIntervalUpS = GATE_RISE_S;
    const zones = (byId(flows, 'sl-zones').zones as object[]).concat([
      { zone: DR_ZONE, gear: 'G3', sensors: 'dr-pir', fixtureWatts: 36, fixtureCount: 2 },
      { zone: 'wx-1', gear: 'G4', sensors: 'wx-lux' },
    ]);
    // A second weather node, fetched on request, for the failure cases.
    flows.push(
      { id: 'tw-tab', type: 'tab', label: 'weather test', disabled: false, info: '' },
      {
        id: 'tw-in',
        type: 'http in',
        z: 'tw-tab',
        name: '',
        url: '/test/weather',
        method: 'post',
        upload: false,
        swaggerDoc: '',
        x: 100,
        y: 100,
        wires: [['tw-weather']],
      },
      {
        id: 'tw-weather',
        type: 'lighting-weather',
        z: 'tw-tab',
        name: 'test weather',
        service: 'open-meteo',
        latitude: '48.1',
        longitude: '11.6',
        baseUrl: srv.baseUrl,
        intervalMinutes: 1440,
        timeoutS: 1,
        zone: '',
        x: 300,
        y: 100,
        wires: [['tw-plain', 'tw-ok']],
      },
      {
        id: 'tw-plain',
        type: 'change',
        z: 'tw-tab',
        name: '',
        rules: [
          { t: 'delete', p: 'req', pt: 'msg' },
          { t: 'delete', p: 'res', pt: 'msg' },
        ],
        x: 500,
        y: 40,
        wires: [['tw-lo']],
      },
      { id: 'tw-lo', type: 'link out', z: 'tw-tab', name: '', mode: 'link', links: ['sl-li-window'], x: 500, y: 60, wires: [] },
      // Only an HTTP-triggered fetch is answered (the node's own scheduled fetches have no request).
      {
        id: 'tw-ok',
        type: 'switch',
        z: 'tw-tab',
        name: '',
        property: 'req',
        propertyType: 'msg',
        rules: [{ t: 'nnull' }],
        checkall: 'true',
        repair: false,
        outputs: 1,
        x: 500,
        y: 100,
        wires: [['tw-res']],
      },
      { id: 'tw-catch', type: 'catch', z: 'tw-tab', name: '', scope: ['tw-weather'], uncaught: false, x: 300, y: 160, wires: [['tw-err']] },
      {
        id: 'tw-err',
        type: 'change',
        z: 'tw-tab',
        name: '',
        rules: [
          { t: 'set', p: 'statusCode', pt: 'msg', to: '502', tot: 'num' },
          { t: 'set', p: 'payload', pt: 'msg', to: '{"detail": error.message}', tot: 'jsonata' },
        ],
        x: 500,
        y: 160,
        wires: [['tw-res']],
      },
      { id: 'tw-res', type: 'http response', z: 'tw-tab', name: '', statusCode: '', headers: {}, x: 700, y: 100, wires: [] },
    );
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = installDir ? fs.mkdtempSync(path.join(installDir, '..', 'ud-wdr-')) : undefined;
    rt = await NodeRedRuntime.start({
      userDir,
      flows,
      settings: NPM_START_SETTINGS,
      env: {
        ADMIN_TOKEN: TOKEN,
        DB_URL: '',
        OPENAI_API_KEY: '',
        ZONES: JSON.stringify(zones),
        WEATHER_LATITUDE: '52.52',
        WEATHER_LONGITUDE: '13.405',
        WEATHER_BASE_URL: srv.baseUrl,
        WEATHER_API_KEY: '',
      },
    });
    dbFile = path.join(rt.userDir, 'smart-lighting.db');
    status = await StatusSocket.open(rt.port);
    live = await openLive(rt.port, events);
  });

  after(async () => {
    status?.close();
    live?.close();
    if (rt) await rt.stopAndClean();
    await srv?.close();
  });

  it('the shipped weather node fetches at start: a weather_events row that reaches the next feature window', async () => {
    const rows = await until('weather row', async () => {
      const r = await query<{ temperature_c: number; source: string; cloud_cover_pct: number; solar_radiation_wm2: number }>(
        dbFile,
        "SELECT * FROM weather_events WHERE source = 'open-meteo'",
      );
      return r.length > 0 ? r : undefined;
    });
    assert.equal(rows[0]?.temperature_c, 6.5);
    assert.equal(rows[0]?.cloud_cover_pct, 40);
    assert.equal(rows[0]?.solar_radiation_wm2, 310.5);
    assert.ok(
      srv.requests.some((r) => r.includes('latitude=52.52&longitude=13.405')),
      srv.requests.join('\n'),
    );
    const ing = await rt.request('POST', '/ingest/sensor', { sensor_id: 'wx-lux', zone: 'wx-1', lux: 300 });
    assert.equal(ing.status, 201, ing.text);
    const agg = await rt.request('POST', '/admin/aggregate-now', undefined, AUTH);
    assert.equal(agg.status, 200, agg.text);
    const windows = await until('window with weather', async () => {
      const w = await query<{ weather: string | null }>(
        dbFile,
        'SELECT weather FROM feature_windows WHERE zone = ? AND weather IS NOT NULL',
        ['wx-1'],
      );
      return w.length > 0 ? w : undefined;
    });
    assert.equal((JSON.parse(String(windows[0]?.weather)) as { temperatureC: number }).temperatureC, 6.5);
    assert.equal(status.last.get('sl-weather')?.fill, 'green');
  });

  it('a timeout, HTTP 500 and garbage store nothing and show red/yellow; the next good answer stores again', async () => {
    await until('test node fetched at start', () => status.last.get('tw-weather')?.fill === 'green');
    const count = async (): Promise<number> => (await query<{ n: number }>(dbFile, 'SELECT COUNT(*) AS n FROM weather_events'))[0]?.n ?? -1;
    const before = await count();
    const cases: Array<[FakeWeatherServer['mode'], RegExp, string]> = [
      ['slow', /no answer from 127\.0\.0\.1:\d+ within 1000 ms/, 'red'],
      ['error', /HTTP 500 from 127\.0\.0\.1/, 'red'],
      ['garbage', /malformed open-meteo answer: not JSON/, 'yellow'],
    ];
    for (const [mode, re, fill] of cases) {
      srv.mode = mode;
      const r = await rt.request('POST', '/test/weather', {});
      assert.equal(r.status, 502, `${mode}: ${r.text}`);
      assert.match((r.json as { detail: string }).detail, re);
      const st = await until(`${mode} status`, () => {
        const now = status.last.get('tw-weather');
        return now?.fill === fill && re.test(String(now.text)) && now;
      });
      assert.equal(st.shape, 'ring');
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await count(), before, 'nothing stored');
    srv.mode = 'good';
    srv.temperatureC = -2;
    const ok = await rt.request('POST', '/test/weather', {});
    assert.equal(ok.status, 200, ok.text);
    assert.equal((ok.json as { temperatureC: number }).temperatureC, -2);
    await until('stored again', async () => (await count()) === before + 1);
    await until('green again', () => status.last.get('tw-weather')?.fill === 'green');
  });

  it('POST /admin/demand-response needs the admin token and a usable level', async () => {
    const none = await rt.request('POST', '/admin/demand-response', { level: 'shed', minutes: 1 });
    assert.equal(none.status, 401, none.text);
    const bad = await rt.request('POST', '/admin/demand-response', { level: 150 }, AUTH);
    assert.equal(bad.status, 400, bad.text);
    assert.match((bad.json as { detail: string }).detail, /level/);
    const rows = await query(dbFile, "SELECT id FROM telemetry WHERE kind = 'demand_response'");
    assert.equal(rows.length, 0, 'nothing stored for refused requests');
  });

  it('an event caps the next automatic setpoint at 85 % at the gear, and it ends by itself at until', async () => {
    const minutes = EVENT_MINUTES;
    const r = await rt.request('POST', '/admin/demand-response', { level: 'shed', minutes }, AUTH);
    assert.equal(r.status, 200, r.text);
    const body = r.json as { ok: boolean; active: boolean; level: string; until: string };
    assert.equal(body.active, true);
    const endsAt = Date.parse(body.until);
    assert.ok(Math.abs(endsAt - (Date.now() + minutes * 60_000)) < 5000, body.until);
    // Someone arrives in the test zone (no lux: the rules would light it fully).
    const from = events.length;
    const arrive = await rt.request('POST', '/ingest/sensor', { sensor_id: 'dr-pir', zone: DR_ZONE, presence: true });
    assert.equal(arrive.status, 201, arrive.text);
    const isDecision = (e: LiveEvent): boolean => e.type === 'decision' && e.data.zone === DR_ZONE && Array.isArray(e.data.readback);
    const capped = await until('capped setpoint at the gear', () => events.slice(from).find(isDecision));
    assert.equal(capped.data.intensity, 85, JSON.stringify(capped.data));
    assert.ok(String(capped.data.reason).includes(TAG), String(capped.data.reason));
    const readback = capped.data.readback as Array<{ intensity: number | null; matches: boolean }>;
    assert.equal(readback.length, 2, 'both luminaires of G3 answered');
    for (const g of readback) {
      assert.equal(g.matches, true, JSON.stringify(readback));
      assert.ok(g.intensity !== null && g.intensity <= 85.5 && g.intensity >= 84, JSON.stringify(readback));
    }
    const stored = await query<{ data: string }>(dbFile, "SELECT data FROM telemetry WHERE kind = 'demand_response'");
    assert.equal(stored.length, 1);
    assert.deepEqual(JSON.parse(stored[0]?.data ?? '{}'), {
      action: 'start',
      level: 'shed',
      reductionPct: null,
      until: endsAt,
      source: 'http',
    });
    const listed = await rt.request('GET', '/telemetry?kind=demand_response');
    assert.equal(listed.status, 200, listed.text);
    assert.equal((listed.json as { items: unknown[] }).items.length, 1);

    // At until the rules decide the zone again, uncapped (the gate lets the rise through after its GATE_RISE_S).
    const after = events.length;
    const restored = await until(
      'full output after the event',
      () => events.slice(after).find((e) => isDecision(e) && e.data.intensity === 100),
      minutes * 60_000 + 20_000,
    );
    assert.ok(Date.now() >= endsAt, 'not before until');
    assert.ok(!String(restored.data.reason).includes('demand-response'), String(restored.data.reason));
    for (const g of restored.data.readback as Array<{ intensity: number | null; matches: boolean }>) assert.equal(g.matches, true);

    const energy = await rt.request('GET', '/telemetry/energy');
    assert.equal(energy.status, 200, energy.text);
    const dr = (energy.json as { demandResponse: { events: unknown[]; shedMinutes: number } }).demandResponse;
    assert.equal(dr.events.length, 1, energy.text);
    assert.ok(dr.shedMinutes > (minutes * 2) / 3 && dr.shedMinutes <= minutes + 0.1, energy.text);
  });

  it('DELETE /admin/demand-response ends an event early (stored as its end)', async () => {
    const start = await rt.request('POST', '/admin/demand-response', { level: 40, minutes: 30 }, AUTH);
    assert.equal(start.status, 200, start.text);
    assert.equal((start.json as { level: number }).level, 40);
    const end = await rt.request('DELETE', '/admin/demand-response', undefined, AUTH);
    assert.equal(end.status, 200, end.text);
    assert.deepEqual(end.json, { ok: true, active: false, level: null, until: null });
    const rows = await until('end row', async () => {
      const r = await query<{ data: string }>(dbFile, "SELECT data FROM telemetry WHERE kind = 'demand_response' ORDER BY id");
      return r.length === 3 ? r : undefined;
    });
    assert.equal((JSON.parse(rows[2]?.data ?? '{}') as { action: string }).action, 'end');
    const energy = await rt.request('GET', '/telemetry/energy');
    const dr = (energy.json as { demandResponse: { events: Array<{ endedAt: number | null }> } }).demandResponse;
    assert.equal(dr.events.length, 2);
    assert.ok(dr.events[1]?.endedAt !== null);
    assert.deepEqual(rt.ourProblems([/weather fetch failed/]), []);
  });
});

describe('demand response in the MQTT gateway', function () {
  this.timeout(120_000);
  let broker: Mosquitto | undefined;
  let client: MqttClient | undefined;
  let rt: NodeRedRuntime | undefined;
  const received: Array<{ topic: string; json: Record<string, unknown> | undefined; text: string }> = [];

  before(async function () {
    skipWithoutMosquitto(this);
    broker = await startMosquitto();
    client = await connectAsync(broker.url, { clientId: `slai-e2e-dr-${process.pid}`, reconnectPeriod: 0, connectTimeout: 5000 });
    client.on('message', (topic, payload) => {
      const text = payload.toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      received.push({ topic, json, text });
    });
    await client.subscribeAsync('site/#', { qos: 1 });
    const flow = shippedFlow('mqtt-gateway.json');
    // No cap at any hour, so the check does not depend on the hour.
    byId(flow, 'mqgw-rules').keyframes = FLAT_SCHEDULE;
    byId(flow, 'mqgw-gate').minIntervalUpS = GATE_RISE_S;
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start({
      env: { SITE: '', BUS_ID: 'bus-1', ZONES: '', MQTT_HOST: broker.host, MQTT_PORT: String(broker.port) },
      ...(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-drgw-')) } : {}),
    });
    await rt.deploy(flow);
    await until('online', () => received.some((m) => m.topic === 'site/bus-1/gateway/status' && m.text === 'online'), 20_000);
  });

  after(async () => {
    await client?.endAsync(true).catch(() => undefined);
    await rt?.stopAndClean();
    await broker?.stop();
  });

  it('<prefix>/gateway/demand-response caps the next setpoint at 85 %, is stored, and ends by itself', async () => {
    assert.ok(client && rt);
    const minutes = EVENT_MINUTES;
    const t0 = Date.now();
    await client.publishAsync('site/bus-1/gateway/demand-response', JSON.stringify({ level: 'shed', minutes }), { qos: 1 });
    const dbFile = path.join(rt.userDir, 'mqtt-gateway.db');
    const stored = await until('stored event', async () => {
      const r = await query<{ data: string; gateway: string }>(
        dbFile,
        "SELECT data, gateway FROM telemetry WHERE kind = 'demand_response'",
      );
      return r.length > 0 ? r : undefined;
    });
    assert.equal((JSON.parse(stored[0]?.data ?? '{}') as { source: string }).source, 'mqtt');
    assert.equal(stored[0]?.gateway, 'bus-1');
    const from = received.length;
    await client.publishAsync('site/bus-1/office-1/sensor', JSON.stringify({ sensorId: 'dr-mqtt', presence: true }), { qos: 1 });
    const isSetpoint = (m: { topic: string }): boolean => m.topic === 'site/bus-1/office-1/setpoint';
    const capped = await until('capped setpoint', () => received.slice(from).find(isSetpoint));
    assert.equal(capped.json?.intensity, 85, capped.text);
    assert.ok(String(capped.json?.reason).includes(TAG), capped.text);
    const after = received.length;
    const restored = await until(
      'uncapped setpoint after until',
      () => received.slice(after).find((m) => isSetpoint(m) && m.json?.intensity === 100),
      minutes * 60_000 + 30_000,
    );
    assert.ok(Date.now() >= t0 + minutes * 60_000, 'not before until');
    assert.ok(!String(restored.json?.reason).includes('demand-response'), restored.text);
  });

  it('garbage on the topic is reported on gateway/error and changes nothing', async () => {
    assert.ok(client);
    const from = received.length;
    await client.publishAsync('site/bus-1/gateway/demand-response', '{"level": 500}', { qos: 1 });
    const err = await until('error report', () => received.slice(from).find((m) => m.topic === 'site/bus-1/gateway/error'));
    assert.match(String(err.json?.error), /level/);
    await client.publishAsync('site/bus-1/gateway/demand-response', 'not json', { qos: 1 });
    await until('second error report', () => received.slice(from).filter((m) => m.topic === 'site/bus-1/gateway/error').length >= 2);
  });
});
