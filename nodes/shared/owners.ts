/**
 * Config nodes that own a real resource (`dali-bus`: the interface and bus
 * scheduler; `lighting-store`: the SQLite connection) and the child nodes that
 * use them. Pattern of Node-RED core 10-mqtt.js: a child calls
 * `owner.register(this)` when created and `owner.deregister(this, done,
 * removed)` in its close handler.
 */
import type { Node, NodeAPI } from 'node-red';
import type { InterfaceKind } from '../../lib/dali/types';

export interface ResourceOwner {
  /** Child nodes using the resource, by node id. */
  users: Record<string, Node>;
  register(user: Node): void;
  /** Forgets `user` and calls `done` (closing the resource when the last user leaves comes with the resource). */
  deregister(user: Node, done: () => void, removed?: boolean): void;
}

/** The users map and register/deregister for a config node. */
export function createUserRegistry(): ResourceOwner {
  const users: Record<string, Node> = {};
  return {
    users,
    register(user: Node): void {
      users[user.id] = user;
    },
    deregister(user: Node, done: () => void): void {
      delete users[user.id];
      done();
    },
  };
}

export type SimScenario = 'office' | 'corridor' | 'static';

export interface DaliBusSettings {
  interfaceType: InterfaceKind;
  /** Serial or hidraw device path; blank for the simulator. */
  port: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Simulated gear short addresses, e.g. "0-3". */
  simGear: string;
  /** Simulated groups, e.g. "0:0-3; 1:4-5". */
  simGroups: string;
  /** Short address of the simulated sensor, null = none. */
  simSensor: number | null;
  simScenario: SimScenario;
  /** Simulated time acceleration (1 = real time). */
  simSpeed: number;
}

export interface DaliBusNode extends Node, ResourceOwner {
  settings: DaliBusSettings;
}

export interface LightingStoreSettings {
  /** Absolute path of the SQLite file. */
  path: string;
  flushIntervalMs: number;
  flushMaxRows: number;
  busyTimeoutMs: number;
}

export interface LightingStoreNode extends Node, ResourceOwner {
  settings: LightingStoreSettings;
}

/** The config node `id` if it exists and has type `type`, else null. */
export function findOwner<T extends Node & ResourceOwner>(RED: NodeAPI, id: unknown, type: string): T | null {
  if (typeof id !== 'string' || id === '') return null;
  const node = RED.nodes.getNode(id) as (Node & Partial<ResourceOwner>) | null;
  if (node == null || node.type !== type || typeof node.register !== 'function') return null;
  return node as T;
}
