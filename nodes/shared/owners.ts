/**
 * Config nodes that own a real resource (`dali-bus`: the interface and bus
 * scheduler; `lighting-store`: the SQLite connection) and the child nodes that
 * use them. Pattern of Node-RED core 10-mqtt.js: a child calls
 * `owner.register(this)` when created and `owner.deregister(this, done,
 * removed)` in its close handler; the owner shows its status on its users
 * with fanOutStatus / showOwnerStatus (../shared/status), one mechanism for
 * every owner.
 */
import type { Node, NodeAPI } from 'node-red';
import type { BusSession } from '../../lib/dali/bus-session';
import type { InterfaceKind } from '../../lib/dali/types';
import type { LightingStore } from '../../lib/store/store';
import type { SimScenarioName } from '../../lib/dali/sim-config';

export interface ResourceOwner {
  /** Child nodes using the resource, by node id. */
  users: Record<string, Node>;
  register(user: Node): void;
  /**
   * Forgets `user` and calls `done` once the owner is finished with it: when
   * the owner closes the resource as the last user leaves, `done` waits for
   * the resource to be released.
   */
  deregister(user: Node, done: () => void, removed?: boolean): void;
}

/** What an owner does when users come and go. */
export interface RegistryHooks {
  /** After `user` was added. */
  onRegister?(user: Node): void;
  /** After `user` was removed; `done` waits for the returned promise. Never rejects `done`. */
  onDeregister?(user: Node, removed: boolean): Promise<void> | void;
}

/** The users map and register/deregister for a config node (10-mqtt.js pattern). */
export function createUserRegistry(hooks: RegistryHooks = {}): ResourceOwner {
  const users: Record<string, Node> = {};
  return {
    users,
    register(user: Node): void {
      users[user.id] = user;
      hooks.onRegister?.(user);
    },
    deregister(user: Node, done: () => void, removed?: boolean): void {
      delete users[user.id];
      if (!hooks.onDeregister) {
        done();
        return;
      }
      let pending: Promise<void> | void;
      try {
        pending = hooks.onDeregister(user, removed === true);
      } catch {
        pending = undefined;
      }
      Promise.resolve(pending).then(
        () => done(),
        () => done(),
      );
    },
  };
}

/** A scenario of the single simulated sensor (lib/dali/sim-config), or the demo building preset. */
export type SimScenario = SimScenarioName | 'building';

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
  /** Several simulated sensors, e.g. "10:office; 11:meeting" (blank = simSensor alone). */
  simSensors: string;
  /** Simulated time acceleration (1 = real time). */
  simSpeed: number;
}

export interface DaliBusNode extends Node, ResourceOwner {
  settings: DaliBusSettings;
  /** The interface and DaliBus this config node owns (lib/dali/bus-session). */
  session: BusSession;
}

export interface LightingStoreSettings {
  /**
   * Absolute path of the SQLite file (from the "Database file" setting, else
   * DB_URL, else <userDir>/smart-lighting.db), ":memory:", the PostgreSQL URL
   * with its password masked, or "" when the setting or DB_URL names a
   * database this package cannot use (see `configError`).
   */
  path: string;
  flushIntervalMs: number;
  flushMaxRows: number;
  busyTimeoutMs: number;
  /** PostgreSQL: most connections of the pool. */
  poolSize: number;
  /** The gateway written into every row and scoping this Node-RED's control state ('' = none). */
  gateway: string;
}

/**
 * The `lighting-store` config node. How a child node uses it:
 *
 *   const owner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
 *   owner?.register(node);                       // in the constructor
 *   const store = await owner.getStore();        // LightingStore (lib/store), shared
 *   ...store.insert(...), store.activeOverrides(...), ...
 *   owner.deregister(node, done, removed);        // in 'close'
 *
 * - getStore() opens the database on first use and hands every user the same
 *   handle (one connection per file, also across config nodes naming the same
 *   file). It rejects with the reason the store cannot be opened (also shown
 *   as the users' red status); the next call retries. Do not close() the
 *   handle: the config node closes it (flushing) when its last user
 *   deregisters, or on its own close, before calling `done`.
 * - Connection status is fanned out to registered users when it changes:
 *   yellow ring "opening", green dot "connected", red ring with the error.
 *   Like every owner here it goes through fanOutStatus (../shared/status): a
 *   user that implements `ownerStatus(status)` (OwnerStatusListener, usually
 *   backed by a StatusView) gets it there instead, to combine it with its own.
 */
export interface LightingStoreNode extends Node, ResourceOwner {
  settings: LightingStoreSettings;
  /** The shared, open store. Rejects with the open error (or when the config node is closed). */
  getStore(): Promise<LightingStore>;
  /** A setting / DB_URL error that makes the store unusable (e.g. a MySQL URL), else null. */
  configError: Error | null;
}

/** The config node `id` if it exists and has type `type`, else null. */
export function findOwner<T extends Node & ResourceOwner>(RED: NodeAPI, id: unknown, type: string): T | null {
  if (typeof id !== 'string' || id === '') return null;
  const node = RED.nodes.getNode(id) as (Node & Partial<ResourceOwner>) | null;
  if (node == null || node.type !== type || typeof node.register !== 'function') return null;
  return node as T;
}
