/**
 * Shared by the dali-bus, dali-dt8-out and lsd-sensor-in node tests: node
 * modules loaded as Node-RED's registry loads them (each node set with its
 * own en-US catalogue), flows on the simulator, and small waiting helpers.
 */
import { strict as assert } from 'node:assert';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeMessage, NodeStatus } from 'node-red';
import daliBus from '../../nodes/dali-bus/dali-bus';
import daliDt8Out from '../../nodes/dali-dt8-out/dali-dt8-out';
import lsdSensorIn from '../../nodes/lsd-sensor-in/lsd-sensor-in';
import lightingZones from '../../nodes/lighting-zones/lighting-zones';
import type { BusSession } from '../../lib/dali/bus-session';
import type { Simulation } from '../../lib/dali/sim-config';
import type { ForwardEvent } from '../../lib/dali/sim/virtual-bus';
import { asNodeSet, helper, nodeById, registerCatalogues } from './helpers';

export { helper, message, nodeById, TAB } from './helpers';

const MODULES: Record<string, NodeInitializer> = {
  'dali-bus': daliBus,
  'dali-dt8-out': daliDt8Out,
  'lsd-sensor-in': lsdSensorIn,
  'lighting-zones': lightingZones,
};
const CORE: Record<string, string> = {
  catch: '@node-red/nodes/core/common/25-catch.js',
  status: '@node-red/nodes/core/common/25-status.js',
};

/** Registers the catalogues of our node types. */
export function initCatalogues(): Promise<void> {
  return registerCatalogues(Object.keys(MODULES));
}

/** Loads a flow with our three node types (and catch/status nodes when used). */
export async function load(flow: FlowNodeDef[]): Promise<void> {
  const types = new Set(flow.map((n) => n.type));
  const inits: NodeInitializer[] = Object.keys(MODULES).map((type) => asNodeSet(type, MODULES[type]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const [t, file] of Object.entries(CORE)) if (types.has(t)) inits.push(require(file) as NodeInitializer);
  await helper.load(inits, flow);
}

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

/** A dali-dt8-out node on `bus` (address A1, no fade, colour limits from the config); `overrides` win. */
export function dt8OutNode(id: string, bus: string, overrides: Record<string, unknown>): FlowNodeDef {
  return {
    id,
    type: 'dali-dt8-out',
    z: 'f1',
    name: '',
    bus,
    address: 'A1',
    addressType: 'str',
    fadeMs: '0',
    curve: 'logarithmic',
    warmestKelvin: '1800',
    coolestKelvin: '6500',
    tcLimitsFrom: 'config',
    ...overrides,
  };
}

/** An lsd-sensor-in node on `bus` (sensor 10, zone office-1, event driven); `overrides` win. */
export function sensorInNode(id: string, bus: string, overrides: Record<string, unknown>): FlowNodeDef {
  return {
    id,
    type: 'lsd-sensor-in',
    z: 'f1',
    name: '',
    bus,
    sensorAddress: '10',
    sensorId: '',
    zone: 'office-1',
    luxScale: '2',
    luxOffset: '0',
    luxTable: '',
    configureAtStart: true,
    eventScheme: 'deviceInstance',
    pollIntervalS: '0',
    staleAfterS: '300',
    ...overrides,
  };
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
