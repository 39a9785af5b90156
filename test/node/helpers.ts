/**
 * Shared by the node tests (node-red-node-test-helper): the helper set up
 * once, node modules loaded as Node-RED's registry loads them (each node set
 * with its own en-US catalogue), catalogue texts, and waiting on messages.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { i18n } from '@node-red/util';

helper.init(require.resolve('node-red'));

// State a closed node hands to its next instance is cleared after every test by the root hook in ./root-hooks.

export { helper };
export const PACKAGE = '@smart-lighting-dali/node-red-smart-lighting-dali';
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const NODES_DIR = path.join(ROOT, 'nodes');

export const TAB: FlowNodeDef = { id: 'f1', type: 'tab', label: 'test' };

/** The module of node set `type` as Node-RED's registry loads it: `_` bound to the set's own catalogue. */
export function asNodeSet(type: string, init: NodeInitializer): NodeInitializer {
  return (RED: NodeAPI) => {
    const scoped = Object.create(RED) as NodeAPI;
    scoped._ = (key: string, subs?: Record<string, string | number>) => i18n._(`${PACKAGE}/${type}:${key}`, subs);
    return init(scoped);
  };
}

/** Registers the en-US catalogues of these node types (once per process is enough; repeating is harmless). */
export async function registerCatalogues(types: readonly string[]): Promise<void> {
  (i18n as typeof i18n & { init(settings: { lang?: string }): void }).init({ lang: 'en-US' });
  for (const type of types) {
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

export function nodeById<T extends Node = Node>(id: string): T {
  const node = helper.getNode(id);
  assert.ok(node, `node ${id} exists`);
  return node as T;
}

/** The last status a node set on itself ({} when none); the helper spies on Node.prototype.status. */
export function latestStatus(n: Node): { fill?: string; shape?: string; text?: string } {
  const spy = n.status as unknown as { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };
  const calls = spy.getCalls().filter((c) => c.thisValue === n);
  return (calls[calls.length - 1]?.args[0] ?? {}) as { fill?: string; text?: string };
}

/** Messages arriving at a helper node, queued until taken; next() rejects after 8 s without one. */
export class MessageQueue {
  private readonly queue: NodeMessage[] = [];
  private waiting: ((m: NodeMessage) => void) | null = null;
  constructor(id: string) {
    const n = helper.getNode(id);
    assert.ok(n);
    n.on('input', (m: NodeMessage) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(m);
      } else this.queue.push(m);
    });
  }
  next(): Promise<NodeMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error('no message arrived')), 8000);
      this.waiting = (x) => {
        clearTimeout(guard);
        resolve(x);
      };
    });
  }
  get pending(): number {
    return this.queue.length;
  }
}

/**
 * Deploys `flow` into the loaded runtime as the editor's Deploy button does
 * ("nodes": only modified nodes restart; "flows"; "full"). Node context is
 * kept for nodes still in the flow, as in a real runtime.
 */
export async function redeploy(flow: FlowNodeDef[], type: 'nodes' | 'flows' | 'full' = 'nodes'): Promise<void> {
  const h = helper as unknown as { setFlows(flow: FlowNodeDef[], type: string): Promise<void> };
  await h.setFlows(flow, type);
}
