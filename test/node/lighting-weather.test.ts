/**
 * lighting-weather in the Node-RED runtime, wired to a feature-window with a
 * real SQLite file, fetching from a local HTTP server that plays the weather
 * service: a good answer is stored in weather_events and attached to the
 * windows; a timeout, HTTP 500 or garbage stores nothing, shows red or
 * yellow and the next good fetch recovers; no position means no fetch; the
 * key never reaches a status or an error; close stops the schedule.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeMessage, NodeStatus } from 'node-red';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import featureWindow from '../../nodes/feature-window/feature-window';
import lightingWeather from '../../nodes/lighting-weather/lighting-weather';
import type { FeatureWindow, WeatherUpdate } from '../../lib/contracts';
import { asNodeSet, helper, registerCatalogues, message, nodeById, TAB } from './helpers';
import { callsOf, collect, count, query, storeConfig, tempDir, waitFor } from './store-node-helpers';
import { startFakeWeatherServer, type FakeWeatherServer } from '../helpers/fake-weather-server';

interface FeatureNode extends Node {
  latest(zone: string, n?: number): FeatureWindow[];
}

const INITS: NodeInitializer[] = [
  asNodeSet('lighting-store', lightingStore),
  asNodeSet('feature-window', featureWindow),
  asNodeSet('lighting-weather', lightingWeather),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@node-red/nodes/core/common/25-catch.js') as NodeInitializer,
];

function flow(file: string, baseUrl: string, weather: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    TAB,
    storeConfig('s1', file),
    {
      id: 'w1',
      type: 'lighting-weather',
      z: 'f1',
      name: '',
      service: 'open-meteo',
      latitude: '52.52',
      longitude: '13.405',
      baseUrl,
      intervalMinutes: '60',
      timeoutS: '1',
      zone: '',
      wires: [['fw', 'h1']],
      ...weather,
    },
    { id: 'fw', type: 'feature-window', z: 'f1', store: 's1', windowMinutes: '5', keepWindows: '3', graceS: '0', wires: [[], ['h2']] },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['w1'], uncaught: false, wires: [['h3']] },
    { id: 'h1', type: 'helper', z: 'f1', wires: [] },
    { id: 'h2', type: 'helper', z: 'f1', wires: [] },
    { id: 'h3', type: 'helper', z: 'f1', wires: [] },
  ];
}

function statuses(n: Node): NodeStatus[] {
  return callsOf(n, 'status').map((a) => a[0] as NodeStatus);
}

describe('lighting-weather node', function () {
  this.timeout(15_000);
  let srv: FakeWeatherServer;
  let file: string;
  const savedKey = process.env.WEATHER_API_KEY;

  before(() => registerCatalogues(['lighting-store', 'feature-window', 'lighting-weather']));
  beforeEach(async () => {
    srv = await startFakeWeatherServer();
    file = path.join(tempDir('weather-node-'), 'w.db');
    delete process.env.WEATHER_API_KEY;
  });
  afterEach(async () => {
    await helper.unload();
    await srv.close();
    if (savedKey === undefined) delete process.env.WEATHER_API_KEY;
    else process.env.WEATHER_API_KEY = savedKey;
  });

  it('fetches on its schedule; the update is stored in weather_events and reaches the windows', async () => {
    srv.temperatureC = 8.25;
    await helper.load(INITS, flow(file, srv.baseUrl));
    const out = collect<NodeMessage & { payload: WeatherUpdate }>('h1');
    const msg = await waitFor('scheduled update', () => out[0]);
    assert.equal(msg.topic, 'weather');
    assert.equal(msg.payload.temperatureC, 8.25);
    assert.equal(msg.payload.source, 'open-meteo');
    const deadline = Date.now() + 5000;
    while ((await count(file, 'weather_events')) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const stored = await query<{ temperature_c: number; cloud_cover_pct: number; source: string }>(file, 'SELECT * FROM weather_events');
    assert.equal(stored.length, 1);
    assert.equal(stored[0].temperature_c, 8.25);
    assert.equal(stored[0].source, 'open-meteo');
    // The next window of any zone carries it.
    const fw = nodeById<FeatureNode>('fw');
    fw.receive({ payload: { sensorId: 's', zone: 'office-1', ts: Date.now(), lux: 300, source: 'test' } });
    fw.receive({ topic: 'aggregate', payload: {} });
    const w = await waitFor('window', () => fw.latest('office-1')[0]);
    assert.equal(w.weather?.temperatureC, 8.25);
    const st = statuses(nodeById('w1')).pop();
    assert.equal(st?.fill, 'green');
    assert.match(String(st?.text), /8\.3 °C, cloud 40 %/);
  });

  it('timeout, HTTP 500 and garbage store nothing, show red or yellow, and the next good fetch recovers', async () => {
    srv.mode = 'slow';
    await helper.load(INITS, flow(file, srv.baseUrl));
    const w1 = nodeById('w1');
    const out = collect('h1');
    const caught = collect<{ error: { message: string } }>('h3');
    const lastOf = (): NodeStatus | undefined => statuses(w1).pop();
    // The scheduled fetch times out (timeout 1 s).
    await waitFor('timeout status', () => lastOf()?.fill === 'red' && lastOf());
    assert.match(String(lastOf()?.text), /no answer from 127\.0\.0\.1:\d+ within 1000 ms/);
    await waitFor('one warning', () => callsOf(w1, 'warn').length === 1);
    srv.mode = 'error';
    w1.receive({ payload: 'now' });
    await waitFor('caught 500', () => caught[0]);
    assert.match(caught[0].error.message, /HTTP 500/);
    assert.equal(lastOf()?.fill, 'red');
    srv.mode = 'garbage';
    w1.receive({ payload: 'now' });
    await waitFor('caught garbage', () => caught[1]);
    assert.match(caught[1].error.message, /malformed open-meteo answer: not JSON/);
    assert.equal(lastOf()?.fill, 'yellow');
    srv.mode = 'nonsense';
    w1.receive({ payload: 'now' });
    await waitFor('caught nonsense', () => caught[2]);
    assert.match(caught[2].error.message, /temperatureC/);
    assert.equal(out.length, 0, 'nothing sent');
    assert.equal(await count(file, 'weather_events'), 0, 'nothing stored');
    srv.mode = 'good';
    w1.receive({ payload: 'now' });
    await waitFor('recovered', () => out[0]);
    assert.equal(lastOf()?.fill, 'green');
    assert.equal(callsOf(w1, 'warn').length, 1, 'a run of failures is warned once');
  });

  it('without latitude/longitude (unset ${VAR}) it never fetches; an input ends with the reason', async () => {
    await helper.load(INITS, flow(file, srv.baseUrl, { latitude: '${WEATHER_LATITUDE}', longitude: '${WEATHER_LONGITUDE}' }));
    const w1 = nodeById('w1');
    assert.equal(statuses(w1).pop()?.text, message('lighting-weather', 'status.noPosition'));
    const caught = collect<{ error: { message: string } }>('h3');
    w1.receive({ payload: 1 });
    await waitFor('caught', () => caught[0]);
    assert.ok(caught[0].error.message.endsWith(message('lighting-weather', 'errors.noPosition')), caught[0].error.message);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(srv.requests.length, 0);
  });

  it('uses WEATHER_API_KEY with OpenWeatherMap (automatic provider) and never shows the key', async () => {
    const key = 'owm-key-very-secret-77';
    process.env.WEATHER_API_KEY = key;
    srv.mode = 'error';
    await helper.load(INITS, flow(file, srv.baseUrl, { service: 'auto' }));
    const w1 = nodeById('w1');
    const caught = collect<{ error: { message: string } }>('h3');
    w1.receive({ payload: 1 });
    await waitFor('caught', () => caught[0]);
    assert.ok(srv.requests.some((r) => r.startsWith('/data/2.5/weather?') && r.includes(`appid=${key}`)));
    const said = JSON.stringify([
      statuses(w1),
      callsOf(w1, 'warn'),
      callsOf(w1, 'error'),
      callsOf(w1, 'log'),
      callsOf(w1, 'debug'),
      caught,
    ]);
    assert.ok(!said.includes(key), 'key not in status, logs or errors');
    srv.mode = 'good';
    const out = collect<NodeMessage & { payload: WeatherUpdate }>('h1');
    w1.receive({ payload: 1 });
    const m = await waitFor('update', () => out[0]);
    assert.equal(m.payload.source, 'openweathermap');
    assert.ok(!JSON.stringify(m).includes(key));
  });

  it('close stops the schedule and cancels a fetch in progress', async () => {
    srv.mode = 'slow';
    srv.slowMs = 60_000;
    await helper.load(INITS, flow(file, srv.baseUrl, { timeoutS: '60' }));
    await waitFor('request made', () => srv.requests.length === 1);
    // Waiting for the answer would outlast the test's timeout.
    await helper.unload();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(srv.requests.length, 1);
  });
});
