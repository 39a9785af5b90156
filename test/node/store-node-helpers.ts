/**
 * Shared by the lighting-store, feature-window and retention-prune node
 * tests: node modules loaded as Node-RED's registry loads them (each node set
 * with its own en-US catalogue), a tiny "store-user" node type, a second
 * SQLite connection for checking what reached the file, and waiting helpers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import featureWindow from '../../nodes/feature-window/feature-window';
import retentionPrune from '../../nodes/retention-prune/retention-prune';
import { findOwner, type LightingStoreNode } from '../../nodes/shared/owners';
import { Db, type SqlValue } from '../../lib/store/sqlite';
import { asNodeSet, helper, nodeById, registerCatalogues } from './helpers';

export { helper, message, nodeById, TAB } from './helpers';

const MODULES: Record<string, NodeInitializer> = {
  'lighting-store': lightingStore,
  'feature-window': featureWindow,
  'retention-prune': retentionPrune,
};
const CORE: Record<string, string> = {
  catch: '@node-red/nodes/core/common/25-catch.js',
  complete: '@node-red/nodes/core/common/24-complete.js',
};

/** Registers the catalogues of our node types. */
export function initCatalogues(): Promise<void> {
  return registerCatalogues(Object.keys(MODULES));
}

/**
 * "store-user": registers with its lighting-store and, for each message,
 * inserts msg.payload (a telemetry row) through getStore() (waiting for the
 * commit when msg.waitForCommit) and sends {id, committed, connectionId}.
 */
const storeUser: NodeInitializer = (RED: NodeAPI) => {
  function StoreUser(this: Node, config: { store?: string } & Record<string, unknown>): void {
    RED.nodes.createNode(this, config as never);
    const owner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    owner?.register(this);
    this.on('input', (msg: NodeMessage & { waitForCommit?: boolean }, send, done) => {
      if (!owner) return done(new Error('no store'));
      owner
        .getStore()
        .then(async (store) => {
          const ack = await store.insert('telemetry', msg.payload as never, { waitForCommit: msg.waitForCommit === true });
          send({ payload: { ...ack, connectionId: store.connectionId } });
          done();
        })
        .catch((err: Error) => done(err));
    });
    this.on('close', (removed: boolean, done: () => void) => {
      if (owner) owner.deregister(this, done, removed);
      else done();
    });
  }
  RED.nodes.registerType('store-user', StoreUser as never);
};

/** Loads a flow with our three node types, the store-user type and catch nodes. */
export async function load(flow: FlowNodeDef[], credentials?: Record<string, Record<string, string>>): Promise<void> {
  const types = new Set(flow.map((n) => n.type));
  const inits: NodeInitializer[] = [...Object.keys(MODULES).map((type) => asNodeSet(type, MODULES[type])), storeUser];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const [t, file] of Object.entries(CORE)) if (types.has(t)) inits.push(require(file) as NodeInitializer);
  if (credentials !== undefined) await helper.load(inits, flow, credentials);
  else await helper.load(inits, flow);
}

/** A redeploy of a running flow (helper.setFlows: "full", "nodes" or "flows"). */
export async function redeploy(flow: FlowNodeDef[], type: 'full' | 'nodes' | 'flows'): Promise<void> {
  await (helper as unknown as { setFlows(f: FlowNodeDef[], t: string): Promise<void> }).setFlows(flow, type);
}

export function storeConfig(id: string, file: string, overrides: Record<string, unknown> = {}): FlowNodeDef {
  return {
    id,
    type: 'lighting-store',
    name: '',
    path: file,
    flushIntervalMs: '20',
    flushMaxRows: '500',
    busyTimeoutMs: '5000',
    ...overrides,
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

interface SpyCall {
  thisValue: unknown;
  args: unknown[];
}

/** Arguments of each call of a Node.prototype method (a sinon spy in the helper) made by `node`. */
export function callsOf(node: Node, method: 'status' | 'warn' | 'error' | 'debug' | 'log'): unknown[][] {
  const spy = node[method] as unknown as { getCalls(): SpyCall[] };
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args);
}

export function lastStatus(node: Node): NodeStatus | undefined {
  const calls = callsOf(node, 'status');
  return calls.length ? (calls[calls.length - 1][0] as NodeStatus) : undefined;
}

/** Collects every message a helper node receives. */
export function collect<T = NodeMessage>(id: string): T[] {
  const out: T[] = [];
  nodeById(id).on('input', (msg: NodeMessage) => {
    out.push(msg as T);
  });
  return out;
}

/** Polls `check` every 10 ms until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Rows of `sql` read through a separate read-only connection (what another process would see). */
export async function query<T = Record<string, SqlValue>>(file: string, sql: string, params: SqlValue[] = []): Promise<T[]> {
  const db = await Db.open(file, { readOnly: true });
  try {
    return await db.all<T>(sql, params);
  } finally {
    await db.close();
  }
}

export async function count(file: string, table: string): Promise<number> {
  const rows = await query<{ n: number }>(file, `SELECT COUNT(*) AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}
