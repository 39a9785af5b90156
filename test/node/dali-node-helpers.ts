/**
 * Shared by the dali-bus, dali-dt8-out and lsd-sensor-in node tests: node
 * modules loaded as Node-RED's registry loads them (each node set with its
 * own en-US catalogue), flows on the simulator, and small waiting helpers.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { i18n } from '@node-red/util';
import daliBus from '../../nodes/dali-bus/dali-bus';
import daliDt8Out from '../../nodes/dali-dt8-out/dali-dt8-out';
import lsdSensorIn from '../../nodes/lsd-sensor-in/lsd-sensor-in';
import type { BusSession } from '../../lib/dali/bus-session';
import type { Simulation } from '../../lib/dali/sim-config';
import type { ForwardEvent } from '../../lib/dali/sim/virtual-bus';

helper.init(require.resolve('node-red'));

export { helper };
const PACKAGE = 'node-red-contrib-smart-lighting-dali';
const NODES_DIR = path.resolve(__dirname, '..', '..', '..', 'nodes');
const MODULES: Record<string, NodeInitializer> = {
  'dali-bus': daliBus,
  'dali-dt8-out': daliDt8Out,
  'lsd-sensor-in': lsdSensorIn,
};
const CORE: Record<string, string> = {
  catch: '@node-red/nodes/core/common/25-catch.js',
  status: '@node-red/nodes/core/common/25-status.js',
};

/** Registers the catalogues once per process. */
export async function initCatalogues(): Promise<void> {
  (i18n as typeof i18n & { init(settings: { lang?: string }): void }).init({ lang: 'en-US' });
  for (const type of Object.keys(MODULES)) {
    await i18n.registerMessageCatalog(`${PACKAGE}/${type}`, path.join(NODES_DIR, type, 'locales'), `${type}.json`);
  }
}

/** The catalogue text at a dotted key of a node type (with __name__ substitutions). */
export function message(type: string, key: string, subs: Record<string, unknown> = {}): string {
  const file = path.join(NODES_DIR, type, 'locales', 'en-US', `${type}.json`);
  let at: unknown = (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>)[type];
  for (const part of key.split('.')) at = (at as Record<string, unknown> | undefined)?.[part];
  assert.equal(typeof at, 'string', `${type}.${key} in the catalogue`);
  return (at as string).replace(/__([A-Za-z0-9]+)__/g, (m: string, name: string) => (name in subs ? String(subs[name]) : m));
}

function asNodeSet(type: string): NodeInitializer {
  return (RED: NodeAPI) => {
    const scoped = Object.create(RED) as NodeAPI;
    scoped._ = (key: string, subs?: Record<string, string | number>) => i18n._(`${PACKAGE}/${type}:${key}`, subs);
    return MODULES[type](scoped);
  };
}

/** Loads a flow with our three node types (and catch/status nodes when used). */
export async function load(flow: FlowNodeDef[]): Promise<void> {
  const types = new Set(flow.map((n) => n.type));
  const inits: NodeInitializer[] = Object.keys(MODULES).map(asNodeSet);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const [t, file] of Object.entries(CORE)) if (types.has(t)) inits.push(require(file) as NodeInitializer);
  await helper.load(inits, flow);
}

export const TAB: FlowNodeDef = { id: 'f1', type: 'tab', label: 'test' };

/** A simulated dali-bus config node (gear 0-3 in group 0, sensor 10, static scenario). */
export function simBus(id = 'bus1', overrides: Record<string, unknown> = {}): FlowNodeDef {
  return {
    id,
    type: 'dali-bus',
    name: `bus ${id}`,
    interfaceType: 'simulator',
    port: '',
    reconnectMinMs: '250',
    reconnectMaxMs: '10000',
    simGear: '0-3',
    simGroups: '0:0-3',
    simSensor: '10',
    simScenario: 'static',
    simSpeed: '1',
    ...overrides,
  };
}

export function nodeById<T extends Node = Node>(id: string): T {
  const node = helper.getNode(id);
  assert.ok(node, `node ${id} exists`);
  return node as T;
}

export function session(busId = 'bus1'): BusSession {
  return nodeById<Node & { session: BusSession }>(busId).session;
}

/** The open simulation of a simulated bus. */
export function simulation(busId = 'bus1'): Simulation {
  const sim = session(busId).simulation;
  assert.ok(sim, 'the simulated bus is open');
  return sim;
}

/** Resolves when `predicate` holds (polling every 10 ms), rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Messages arriving at a helper node, in order. */
export class Inbox {
  readonly messages: NodeMessage[] = [];
  constructor(id: string) {
    nodeById(id).on('input', (msg: NodeMessage) => this.messages.push(msg));
  }

  async next(what = 'a message', timeoutMs = 5000): Promise<NodeMessage> {
    const index = this.taken;
    await waitFor(() => this.messages.length > index, what, timeoutMs);
    this.taken++;
    return this.messages[index] as NodeMessage;
  }

  private taken = 0;
}

/** Status calls a node made on itself (the helper spies on Node.prototype.status). */
export function statuses(node: Node): NodeStatus[] {
  const spy = node.status as unknown as { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0] as NodeStatus);
}

export function lastStatus(node: Node): NodeStatus | undefined {
  const all = statuses(node);
  return all[all.length - 1];
}

/** Counts the frames our side puts on the simulated bus from now on. */
export function countFrames(sim: Simulation): { readonly frames: ForwardEvent[]; stop(): void } {
  const frames: ForwardEvent[] = [];
  const on = (ev: ForwardEvent): void => {
    if (!ev.foreign) frames.push(ev);
  };
  sim.bus.on('forward', on);
  return { frames, stop: () => sim.bus.off('forward', on) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
