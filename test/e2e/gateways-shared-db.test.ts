/**
 * A site of two buses sharing one PostgreSQL database: two real Node-RED
 * runtimes (BUS_ID bus-1 and bus-2) with the MQTT gateway flow
 * (flows/mqtt-gateway.json) on one Mosquitto broker, their lighting store
 * pointed at one real PostgreSQL server through DB_URL (the store's Database
 * set to blank, so DB_URL is used), plus the main flow's GET /telemetry chain
 * (api-guard -> lighting-query -> http response) on each runtime.
 *
 * Both buses have a zone office-1. A reading on each bus gives decisions on
 * each; /telemetry on either runtime lists both buses' decisions, each saying
 * which gateway wrote it, and ?gateway= filters; the raw readings carry their
 * gateway too. Skipped (loudly) without mosquitto or postgresql.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { PgDb } from '../../lib/store/pg';
import { skipWithoutMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto';
import { skipWithoutPostgres, startPostgres, type PgCluster } from '../helpers/postgres';
import { NodeRedRuntime, PACKAGE_NAME, PROJECT_ROOT } from './harness';

const BUSES = ['bus-1', 'bus-2'] as const;

interface FlowNode {
  id: string;
  type: string;
  [k: string]: unknown;
}

function shippedFlow(file: string): FlowNode[] {
  const modules = process.env.E2E_USER_MODULES;
  const p = modules ? path.join(modules, PACKAGE_NAME, 'flows', file) : path.join(PROJECT_ROOT, 'flows', file);
  return JSON.parse(fs.readFileSync(p, 'utf8')) as FlowNode[];
}

/** The gateway flow with its store on DB_URL, plus GET /telemetry as the main flow serves it. */
function siteFlow(): FlowNode[] {
  const gateway = shippedFlow('mqtt-gateway.json').map((n) => (n.type === 'lighting-store' ? { ...n, path: '' } : n));
  const store = gateway.find((n) => n.type === 'lighting-store');
  assert.ok(store, 'the gateway flow has a lighting store');
  const main = shippedFlow('smart-lighting.json');
  const pick = (id: string): FlowNode => {
    const n = main.find((x) => x.id === id);
    assert.ok(n, id);
    return { ...n, z: 'api-tab' };
  };
  return [
    ...gateway,
    { id: 'api-tab', type: 'tab', label: 'API', disabled: false },
    pick('sl-h-telemetry'),
    { ...pick('sl-g-telemetry'), rateLimit: 0 },
    { ...pick('sl-q-telemetry'), store: store.id },
    pick('sl-r-telemetry'),
  ];
}

describe('a site of two gateways (MQTT gateway flow, bus-1 and bus-2) sharing one PostgreSQL database', function () {
  this.timeout(120000);
  let broker: Mosquitto | undefined;
  let pg: PgCluster | undefined;
  let client: MqttClient | undefined;
  const rts = new Map<string, NodeRedRuntime>();

  before(async function () {
    skipWithoutMosquitto(this);
    skipWithoutPostgres(this);
    [broker, pg] = await Promise.all([startMosquitto(), startPostgres()]);
    client = await connectAsync(broker.url, { clientId: `slai-site-${process.pid}`, reconnectPeriod: 0, connectTimeout: 5000 });
    const installDir = process.env.E2E_INSTALL_DIR;
    const flows = siteFlow();
    const b = broker;
    const db = pg;
    // One after the other: both would migrate the empty database at once otherwise (that is covered by the store's unit suite).
    for (const bus of BUSES) {
      const r = await NodeRedRuntime.start({
        env: { SITE: '', BUS_ID: bus, ZONES: '', MQTT_HOST: b.host, MQTT_PORT: String(b.port), DB_URL: db.url },
        flows,
        ...(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', `ud-site-${bus}-`)) } : {}),
      });
      rts.set(bus, r);
    }
  });

  after(async () => {
    await client?.endAsync(true).catch(() => undefined);
    for (const r of rts.values()) await r.stopAndClean(true);
    await broker?.stop();
    pg?.remove();
  });

  const telemetry = async (bus: string, query = ''): Promise<Array<{ zone: string; gateway: string; source: string }>> => {
    const r = rts.get(bus);
    assert.ok(r);
    const res = await r.request('GET', `/telemetry?limit=100${query}`);
    assert.equal(res.status, 200, res.text);
    return (res.json as { items: Array<{ zone: string; gateway: string; source: string }> }).items;
  };

  it('both buses write to the one database; /telemetry on either sees both, each row naming its gateway; ?gateway= filters', async () => {
    assert.ok(client && pg);
    const c = client;
    for (const bus of BUSES) {
      await c.publishAsync(`site/${bus}/office-1/sensor`, JSON.stringify({ sensorId: `${bus}-sensor`, lux: 40, presence: true }), {
        qos: 1,
      });
    }
    // Decisions come at the window's aggregation: ask for it until both buses have one.
    let items: Array<{ zone: string; gateway: string }> = [];
    for (let i = 0; i < 60; i++) {
      for (const bus of BUSES) await c.publishAsync(`site/${bus}/gateway/aggregate`, 'now', { qos: 1 });
      await new Promise((r) => setTimeout(r, 250));
      items = await telemetry('bus-1');
      if (BUSES.every((bus) => items.some((d) => d.gateway === bus))) break;
    }
    for (const bus of BUSES)
      assert.ok(
        items.some((d) => d.gateway === bus && d.zone === 'office-1'),
        `${bus}'s office-1 on bus-1's /telemetry: ${JSON.stringify(items)}`,
      );
    const fromBus2 = await telemetry('bus-2');
    for (const bus of BUSES)
      assert.ok(
        fromBus2.some((d) => d.gateway === bus),
        `${bus} on bus-2's /telemetry`,
      );
    const only2 = await telemetry('bus-1', '&gateway=bus-2');
    assert.ok(only2.length > 0 && only2.every((d) => d.gateway === 'bus-2'), JSON.stringify(only2));

    const db = new PgDb(pg.url, { poolSize: 1 });
    try {
      // The MQTT readings, each under its own gateway. (Each bus's simulated DALI sensor adds readings of its
      // own during the simulated office hours, which follow the wall clock: they are checked for their gateway only.)
      const rows = await db.all<{ gateway: string; sensor_id: string }>(
        'SELECT gateway, sensor_id FROM raw_sensor_events ORDER BY gateway',
      );
      assert.deepEqual(
        rows.filter((r) => r.sensor_id.endsWith('-sensor')).map((r) => `${r.gateway}:${r.sensor_id}`),
        ['bus-1:bus-1-sensor', 'bus-2:bus-2-sensor'],
      );
      assert.ok(
        rows.every((r) => (BUSES as readonly string[]).includes(r.gateway)),
        `every row names its gateway: ${JSON.stringify(rows.slice(0, 5))}`,
      );
    } finally {
      await db.close();
    }
    for (const r of rts.values()) {
      assert.deepEqual(r.ourProblems(), [], 'no warning or error');
      assert.equal(fs.existsSync(path.join(r.userDir, 'mqtt-gateway.db')), false, 'no SQLite file');
    }
  });
});
