/**
 * The flow files users import (flows/*.json, examples/**\/*.json) are
 * well-formed before any runtime sees them: unique ids, every wire and link
 * points at a node of the file (link in/out pairs name each other), every
 * config reference resolves to a config node of the right type, every node
 * sits on a tab of the file.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEMO_BUILDING, DEMO_BUILDING_ZONES } from '../../lib/dali/sim/building';
import { ZoneMap } from '../../lib/zones/zone-map';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  links?: string[];
  [prop: string]: unknown;
}

/** Properties that name a config node, with the type(s) they must name. */
const CONFIG_REFS: Record<string, readonly string[]> = {
  bus: ['dali-bus'],
  store: ['lighting-store'],
  provider: ['ai-provider'],
  server: ['websocket-listener'],
  broker: ['mqtt-broker'],
  zones: ['lighting-zones'],
};

/**
 * Add-ons: flow files that only work merged with another one (scripts/start.js
 * merges them). They are checked together with their base; a link from the
 * add-on to a link node of the base need not be named back by the base (the
 * runtime joins both sides' lists), so the base stays importable on its own.
 */
const ADDONS: Record<string, string> = { 'flows/smart-lighting-dashboard.json': 'flows/smart-lighting.json' };

function flowFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...flowFiles(p));
    else if (entry.name.endsWith('.json')) out.push(p);
  }
  return out;
}

describe('flow files (flows/, examples/)', () => {
  const files = [...flowFiles(path.join(ROOT, 'flows')), ...flowFiles(path.join(ROOT, 'examples'))];

  it('exist: the main flow, the MQTT gateway and one example per node', () => {
    const names = files.map((f) => path.relative(ROOT, f));
    for (const f of ['flows/smart-lighting.json', 'flows/mqtt-gateway.json']) assert.ok(names.includes(f), f);
    assert.ok(names.length >= 13, names.join(', '));
  });

  for (const file of files) {
    it(`${path.relative(ROOT, file)}: unique ids, wires, links, config references and tabs resolve`, () => {
      const own = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
      assert.ok(Array.isArray(own) && own.length > 0);
      const base = ADDONS[path.relative(ROOT, file)];
      const baseFlow = base ? (JSON.parse(fs.readFileSync(path.join(ROOT, base), 'utf8')) as FlowNode[]) : [];
      const baseIds = new Set(baseFlow.map((n) => n.id));
      const flow = [...baseFlow, ...own];
      const byId = new Map<string, FlowNode>();
      for (const n of flow) {
        assert.equal(typeof n.id, 'string');
        assert.ok(!byId.has(n.id), `duplicate id ${n.id} (${n.type} and ${byId.get(n.id)?.type})`);
        byId.set(n.id, n);
      }
      const tabs = new Set(flow.filter((n) => n.type === 'tab').map((n) => n.id));
      assert.ok(tabs.size >= 1, 'a tab');
      for (const n of flow) {
        if (n.type === 'tab') continue;
        if (n.z !== undefined && n.z !== '') assert.ok(tabs.has(n.z), `${n.id} sits on tab ${n.z}`);
        for (const port of n.wires ?? []) for (const target of port) assert.ok(byId.has(target), `${n.id} wired to missing ${target}`);
        if (n.type === 'link out' || n.type === 'link in') {
          for (const other of n.links ?? []) {
            const peer = byId.get(other);
            assert.ok(peer, `${n.id} links to missing ${other}`);
            assert.equal(peer.type, n.type === 'link out' ? 'link in' : 'link out', `${n.id} -> ${other}`);
            if (!baseIds.has(other) || baseIds.has(n.id)) assert.ok((peer.links ?? []).includes(n.id), `${other} names ${n.id} back`);
          }
        }
        for (const [prop, types] of Object.entries(CONFIG_REFS)) {
          const ref = n[prop];
          if (typeof ref !== 'string' || ref === '') continue;
          // The broker config node's own `broker` is its host name, not a reference.
          if (n.type === 'mqtt-broker' && prop === 'broker') continue;
          const target = byId.get(ref);
          assert.ok(target, `${n.id}.${prop} names missing config node ${ref}`);
          assert.ok(types.includes(target.type), `${n.id}.${prop} names a ${target.type}, not ${types.join('/')}`);
        }
      }
    });
  }

  it('the main flow is the demo building: its zone map and simulated bus are the shared definition, and every routing node uses the map', () => {
    const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
    const zones = flow.filter((n) => n.type === 'lighting-zones');
    assert.equal(zones.length, 1);
    assert.deepEqual(zones[0]?.zones, JSON.parse(JSON.stringify(DEMO_BUILDING_ZONES)));
    assert.equal(ZoneMap.parse(zones[0]?.zones).size, 3);
    const bus = flow.find((n) => n.type === 'dali-bus');
    assert.deepEqual([bus?.simGear, bus?.simGroups, bus?.simSensors], [DEMO_BUILDING.gear, DEMO_BUILDING.groups, DEMO_BUILDING.sensors]);
    const routing = ['dali-dt8-out', 'lsd-sensor-in', 'feature-window', 'rules-fallback', 'ai-decide', 'override-gate', 'api-guard'];
    for (const n of flow.filter((x) => routing.includes(x.type)))
      assert.equal(n.zones, zones[0]?.id, `${n.type} ${n.id} routes by the zone map`);
    const sensors = flow.filter((n) => n.type === 'lsd-sensor-in').map((n) => n.sensorAddress);
    assert.deepEqual(sensors, [10, 11, 12], 'one sensor node per zone sensor');
  });

  it('the main flow needs no dashboard node; the dashboard add-on reaches it only through its link nodes and config nodes', () => {
    const main = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
    const dash = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'smart-lighting-dashboard.json'), 'utf8')) as FlowNode[];
    assert.deepEqual(
      main.filter((n) => n.type.startsWith('ui-')).map((n) => n.id),
      [],
      'no Dashboard 2 type in the main flow',
    );
    const mainIds = new Map(main.map((n) => [n.id, n]));
    const dashIds = new Set(dash.map((n) => n.id));
    for (const n of dash) {
      for (const port of n.wires ?? []) for (const t of port) assert.ok(dashIds.has(t), `${n.id} is wired into the main flow (${t})`);
      for (const other of n.links ?? []) {
        if (dashIds.has(other)) continue;
        assert.ok(
          ['link in', 'link out'].includes(mainIds.get(other)?.type ?? ''),
          `${n.id} links to ${other}, a link node of the main flow`,
        );
      }
    }
    const ui = dash.find((n) => n.type === 'ui-base');
    assert.equal(ui?.path, '/dashboard');
  });

  it('every tab of the main flow that serves HTTP or drives the bus has a catch node feeding the one error log', () => {
    const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as Array<Record<string, unknown>>;
    const byId = new Map(flow.map((n) => [n.id as string, n]));
    const errorLog = flow.find((n) => n.type === 'link in' && n.id === 'sl-li-errors');
    assert.ok(errorLog, 'the error log link in');
    const working = new Set(
      flow.filter((n) => n.type === 'http in' || n.type === 'dali-dt8-out' || n.type === 'lsd-sensor-in').map((n) => n.z as string),
    );
    for (const tab of working) {
      const catches = flow.filter((n) => n.type === 'catch' && n.z === tab);
      assert.ok(catches.length > 0, `tab ${tab} has a catch node (an error there would leave an HTTP request unanswered)`);
      const reaches = catches.some((c) =>
        ((c.wires as string[][]) ?? []).flat().some((id) => {
          const n = byId.get(id);
          return (
            id === 'sl-err-res' ||
            (n?.type === 'link out' && (n.links as string[]).includes('sl-li-errors') && (errorLog.links as string[]).includes(id))
          );
        }),
      );
      assert.ok(reaches, `tab ${tab}: its catch node reaches the error log`);
    }
  });

  it('the MQTT gateway routes by its zone map too', () => {
    const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'mqtt-gateway.json'), 'utf8')) as FlowNode[];
    const zones = flow.find((n) => n.type === 'lighting-zones');
    assert.ok(zones);
    const routing = ['dali-dt8-out', 'lsd-sensor-in', 'feature-window', 'rules-fallback', 'override-gate'];
    for (const n of flow.filter((x) => routing.includes(x.type))) assert.equal(n.zones, zones.id, `${n.type} ${n.id}`);
    assert.ok(!JSON.stringify(flow).includes('GW_ZONES'), 'no second zone map in function nodes');
  });
});
