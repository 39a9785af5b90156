/**
 * The MQTT gateway flow (flows/mqtt-gateway.json, as shipped) in real
 * Node-RED runtimes (4.1 on Node 20 or 5 on Node 22, see
 * scripts/e2e-matrix.js) against a real Mosquitto broker: two gateways, one
 * runtime each with BUS_ID bus-1 and bus-2 (only the environment differs),
 * share the broker, and an MQTT client plays the sensors, the wall panel and
 * the dashboard:
 * - a reading for site/bus-1/office-1 (low lux, presence) and an aggregate
 *   command give a retained setpoint on site/bus-1/office-1/setpoint and
 *   decision telemetry; the payload's own zone is overruled by the topic;
 *   bus-2 publishes nothing about it;
 * - a manual setpoint on .../setpoint/set is applied, then the automatic
 *   setpoints are blocked by the override (telemetry `blocked`);
 * - garbage (not JSON, bad lux, an unknown zone, a setpoint out of range) is
 *   published on site/bus-1/gateway/error (the catch node handles it, so
 *   nothing is logged), and the runtime keeps answering and deciding;
 * - a retained manual setpoint is applied when it arrives, and its replay
 *   after a reconnect (full redeploy) is refused.
 * Skipped (loudly) only when mosquitto is not installed.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { NodeRedRuntime, PACKAGE_NAME, PROJECT_ROOT, runtimeDescription } from './harness';
import { skipWithoutMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto';

const BUSES = ['bus-1', 'bus-2'] as const;
type Bus = (typeof BUSES)[number];

interface Received {
  topic: string;
  text: string;
  json: unknown;
  retain: boolean;
  at: number;
}

interface SetpointJson {
  zone: string;
  source: string;
  reason: string;
  address: string;
  intensity: number;
  level: number;
  cct: number;
  mirek: number;
  ts: number;
}

interface TelemetryJson {
  kind: string;
  zone: string;
  ts: number;
  source?: string;
  intensity?: number;
  cct?: number;
  reason?: string;
  blockedBy?: string;
  overrideUntil?: number;
  setpoint?: { source: string; zone: string };
  decision?: { trigger: string; occupancy: string };
}

interface ErrorJson {
  ts: number;
  error: string;
  node: { id: string; type: string; name?: string };
  topic: string;
  input: string | null;
}

/** The flow file as users get it: from the installed package when the matrix installed one. */
function gatewayFlow(): object[] {
  const modules = process.env.E2E_USER_MODULES;
  const file = modules
    ? path.join(modules, PACKAGE_NAME, 'flows', 'mqtt-gateway.json')
    : path.join(PROJECT_ROOT, 'flows', 'mqtt-gateway.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as object[];
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe(`MQTT gateway flow: two buses on one Mosquitto (${path.basename(path.dirname(runtimeDescription().nodeRedDir))}/node-red)`, function () {
  this.timeout(120_000);
  let broker: Mosquitto | undefined;
  let client: MqttClient | undefined;
  const rts = new Map<Bus, NodeRedRuntime>();
  const received: Received[] = [];

  const rt = (bus: Bus): NodeRedRuntime => {
    const r = rts.get(bus);
    assert.ok(r, `runtime of ${bus} not started`);
    return r;
  };

  async function publish(topic: string, payload: unknown, opts: { retain?: boolean } = {}): Promise<void> {
    assert.ok(client);
    await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      qos: 1,
      retain: opts.retain ?? false,
    });
  }

  /** The first message from index `from` on that matches; rejects after timeoutMs with what came. */
  async function waitFor(
    what: string,
    match: (m: Received) => boolean,
    from: number,
    timeoutMs = 15_000,
    tick?: () => Promise<void>,
  ): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    let nextTick = 0;
    while (Date.now() < deadline) {
      const hit = received.slice(from).find(match);
      if (hit) return hit;
      if (tick && Date.now() >= nextTick) {
        nextTick = Date.now() + 1000;
        await tick();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seen = received
      .slice(from)
      .map((m) => `${m.topic} ${m.text}`)
      .join('\n');
    throw new Error(`${what}: not seen within ${timeoutMs} ms; received:\n${seen}`);
  }

  const aggregate = (bus: Bus) => () => publish(`site/${bus}/gateway/aggregate`, 'now');

  before(async function () {
    skipWithoutMosquitto(this);
    broker = await startMosquitto();
    const { host, port } = broker;
    client = await connectAsync(broker.url, {
      clientId: `slai-e2e-${process.pid}-${Date.now()}`,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      received.push({ topic, text, json: parse(text), retain: packet.retain, at: Date.now() });
    });
    await client.subscribeAsync('site/#', { qos: 1 });

    const installDir = process.env.E2E_INSTALL_DIR;
    const flow = gatewayFlow();
    await Promise.all(
      BUSES.map(async (bus) => {
        const r = await NodeRedRuntime.start({
          // SITE and ZONES blank: the flow's defaults (site, office-1 -> G0, meeting-1 -> G1) apply.
          env: { SITE: '', BUS_ID: bus, ZONES: '', MQTT_HOST: host, MQTT_PORT: String(port) },
          ...(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {}),
        });
        rts.set(bus, r);
        await r.deploy(flow);
      }),
    );
    // Both gateways connected (birth message) and subscribed (they subscribe before the birth).
    for (const bus of BUSES)
      await waitFor(`${bus} online`, (m) => m.topic === `site/${bus}/gateway/status` && m.text === 'online', 0, 20_000);
  });

  after(async () => {
    await client?.endAsync(true).catch(() => undefined);
    for (const [bus, r] of rts) {
      await r.stop();
      if (process.env.E2E_KEEP_LOGS) fs.writeFileSync(path.join(r.userDir, `node-red-${bus}.log`), r.logLines.join('\n'));
    }
    const first = rts.get('bus-1');
    if (process.env.E2E_KEEP_LOGS && first) {
      fs.writeFileSync(
        path.join(first.userDir, 'mqtt-received.log'),
        received.map((m) => `${new Date(m.at).toISOString()} ${m.topic} ${m.retain ? '(retained) ' : ''}${m.text}`).join('\n'),
      );
    }
    await broker?.stop();
  });

  it('turns a bus-1 reading into a retained setpoint and decision telemetry, by the topic’s zone, and bus-2 stays out of it', async () => {
    const from = received.length;
    // The payload names another zone: the topic's zone (office-1) wins.
    await publish('site/bus-1/office-1/sensor', { sensorId: 'mqtt-office-1', zone: 'somewhere-else', lux: 40, presence: true });
    const msg = await waitFor('setpoint of office-1', (m) => m.topic === 'site/bus-1/office-1/setpoint', from, 15_000, aggregate('bus-1'));
    const sp = msg.json as SetpointJson;
    assert.equal(sp.zone, 'office-1');
    assert.equal(sp.source, 'rules');
    assert.equal(sp.address, 'G0', 'the zone map sends office-1 to group 0');
    assert.ok(sp.intensity > 0 && sp.intensity <= 100, `intensity ${sp.intensity}`);
    assert.ok(sp.level > 0, `arc level ${sp.level}`);
    assert.ok(sp.cct >= 1800 && sp.cct <= 6500, `cct ${sp.cct}`);
    assert.ok(sp.reason.includes('occupancy:occupied'), sp.reason);
    assert.ok(Math.abs(sp.ts - Date.now()) < 30_000, 'ts is now');

    const tele = await waitFor(
      'decision telemetry of office-1',
      (m) => m.topic === 'site/bus-1/office-1/telemetry' && (m.json as TelemetryJson | undefined)?.kind === 'decision',
      from,
    );
    const t = tele.json as TelemetryJson;
    assert.equal(t.zone, 'office-1');
    assert.equal(t.source, 'rules');
    assert.equal(typeof t.intensity, 'number');
    assert.ok(t.decision && typeof t.decision.occupancy === 'string', tele.text);

    // Retained: a dashboard subscribing later still gets the applied setpoint.
    assert.ok(broker);
    const late = await connectAsync(broker.url, { clientId: `slai-e2e-late-${process.pid}`, reconnectPeriod: 0 });
    try {
      const retained = new Promise<{ text: string; retain: boolean }>((resolve) =>
        late.on('message', (_topic, payload, packet) => resolve({ text: payload.toString('utf8'), retain: packet.retain })),
      );
      await late.subscribeAsync('site/bus-1/office-1/setpoint', { qos: 1 });
      const r = await Promise.race([retained, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000))]);
      assert.ok(r, 'no retained setpoint');
      assert.equal(r.retain, true);
      assert.equal((parse(r.text) as SetpointJson).zone, 'office-1');
    } finally {
      await late.endAsync(true);
    }

    assert.deepEqual(
      received.filter((m) => m.topic.includes('somewhere-else')).map((m) => m.topic),
      [],
      'the payload zone is not used',
    );
    assert.deepEqual(
      received
        .filter(
          (m) => m.topic.startsWith('site/bus-2/') && (m.topic.startsWith('site/bus-2/office-1/') || m.text.includes('mqtt-office-1')),
        )
        .map((m) => m.topic),
      [],
      'bus-2 published something about bus-1’s reading',
    );
  });

  it('applies a manual setpoint from .../setpoint/set and then blocks the automatic ones (telemetry: blocked by override)', async () => {
    const from = received.length;
    await publish('site/bus-1/office-1/setpoint/set', { intensity: 35, cct: 3000, overrideMinutes: 30 });
    const msg = await waitFor(
      'manual setpoint applied',
      (m) => m.topic === 'site/bus-1/office-1/setpoint' && (m.json as SetpointJson | undefined)?.source === 'manual',
      from,
    );
    const sp = msg.json as SetpointJson;
    assert.equal(sp.zone, 'office-1');
    assert.equal(sp.intensity, 35);
    assert.ok(Math.abs(sp.cct - 3000) <= 20, `cct ${sp.cct}`);
    assert.equal(sp.address, 'G0');

    const before = received.length;
    await publish('site/bus-1/office-1/sensor', { sensorId: 'mqtt-office-1', lux: 30, presence: true });
    const blocked = await waitFor(
      'blocked by override',
      (m) => m.topic === 'site/bus-1/office-1/telemetry' && (m.json as TelemetryJson | undefined)?.kind === 'blocked',
      before,
      15_000,
      aggregate('bus-1'),
    );
    const report = blocked.json as TelemetryJson;
    assert.equal(report.zone, 'office-1');
    assert.equal(report.blockedBy, 'override', blocked.text);
    assert.equal(report.setpoint?.source, 'rules');
    assert.ok((report.overrideUntil ?? 0) > Date.now() + 25 * 60_000, 'held for about 30 min');
    const automatic = received
      .slice(received.indexOf(msg) + 1)
      .filter((m) => m.topic === 'site/bus-1/office-1/setpoint')
      .map((m) => m.text);
    assert.deepEqual(automatic, [], 'no automatic setpoint was applied during the override');
  });

  it('reports garbage on site/bus-1/gateway/error and keeps running', async () => {
    const from = received.length;
    await publish('site/bus-1/office-1/sensor', 'lux=40; presence=yes');
    await publish('site/bus-1/office-1/sensor', { sensorId: 'mqtt-office-1', lux: -5 });
    await publish('site/bus-1/cellar/sensor', { sensorId: 'mqtt-cellar', lux: 10 });
    await publish('site/bus-1/office-1/setpoint/set', { intensity: 140, cct: 3000 });
    const errorOf = async (what: string, match: (e: ErrorJson) => boolean): Promise<ErrorJson> =>
      (await waitFor(what, (m) => m.topic === 'site/bus-1/gateway/error' && match(m.json as ErrorJson), from)).json as ErrorJson;

    const notJson = await errorOf('not JSON', (e) => /is not JSON/.test(e.error));
    assert.equal(notJson.topic, 'site/bus-1/office-1/sensor');
    assert.equal(notJson.input, 'lux=40; presence=yes');
    const badLux = await errorOf('bad lux', (e) => e.node.type === 'feature-window');
    assert.match(badLux.error, /lux/);
    assert.equal(badLux.topic, 'site/bus-1/office-1/sensor');
    const unknownZone = await errorOf('unknown zone', (e) => /"cellar"/.test(e.error));
    assert.equal(unknownZone.topic, 'site/bus-1/cellar/sensor');
    const badSetpoint = await errorOf('setpoint out of range', (e) => e.node.type === 'override-gate');
    assert.match(badSetpoint.error, /intensity/);

    // Still running: the admin API answers and the flow still decides (blocked by the override, reported).
    const res = await rt('bus-1').request('GET', '/flows');
    assert.equal(res.status, 200);
    assert.equal(rt('bus-1').proc.exitCode, null);
    const before = received.length;
    await publish('site/bus-1/office-1/sensor', { sensorId: 'mqtt-office-1', lux: 35, presence: true });
    await waitFor(
      'telemetry after the garbage',
      (m) => m.topic === 'site/bus-1/office-1/telemetry' && (m.json as TelemetryJson | undefined)?.kind === 'blocked',
      before,
      15_000,
      aggregate('bus-1'),
    );
  });

  it('applies a retained manual setpoint when it arrives, but refuses its replay when the gateway reconnects', async () => {
    const from = received.length;
    await publish('site/bus-1/office-1/setpoint/set', { intensity: 50, cct: 4000, overrideMinutes: 30 }, { retain: true });
    await waitFor(
      'retained manual setpoint applied live',
      (m) => m.topic === 'site/bus-1/office-1/setpoint' && (m.json as SetpointJson | undefined)?.intensity === 50,
      from,
    );
    const beforeRedeploy = received.length;
    await rt('bus-1').deploy(gatewayFlow()); // full deploy: the broker connection is closed and opened again
    const refused = await waitFor(
      'replay refused',
      (m) => m.topic === 'site/bus-1/gateway/error' && /retained manual setpoint/.test((m.json as ErrorJson | undefined)?.error ?? ''),
      beforeRedeploy,
      20_000,
    );
    assert.equal((refused.json as ErrorJson).topic, 'site/bus-1/office-1/setpoint/set');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      received
        .slice(beforeRedeploy)
        .filter((m) => m.topic === 'site/bus-1/office-1/setpoint')
        .map((m) => m.text),
      [],
      'the replay was not applied',
    );
  });

  it('logs no warning or error on either runtime (the catch node handled the garbage), and bus-2 never heard of office-1', () => {
    for (const bus of BUSES) {
      const ours = rt(bus).ourProblems();
      assert.deepEqual(ours, [], `${bus} logged problems`);
    }
    assert.deepEqual(
      received.filter((m) => m.topic.startsWith('site/bus-2/office-1/')).map((m) => m.topic),
      [],
    );
  });
});
