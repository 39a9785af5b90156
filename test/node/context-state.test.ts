/**
 * nodes/shared/context-state against stand-in node contexts (the real
 * runtime paths - redeploy handover and a localfilesystem store across a
 * restart - are tested in rules-fallback.test.ts, ai-decide.test.ts and
 * test/e2e/control-nodes.test.ts): a store that only reads asynchronously,
 * a store that fails, and the write debounce.
 */
import { strict as assert } from 'node:assert';
import type { Node } from 'node-red';
import { clearHandover, ContextState } from '../../nodes/shared/context-state';

interface FakeStore {
  values: Map<string, unknown>;
  writes: number;
  asyncOnly?: boolean;
  failWith?: Error;
}

function fakeNode(id: string, store: FakeStore): Node {
  const ctx = {
    get(key: string, cb?: (err: Error | undefined, v: unknown) => void): unknown {
      if (!cb) {
        if (store.asyncOnly) throw new Error('store does not support synchronous access');
        return store.values.get(key);
      }
      setImmediate(() => cb(store.failWith, store.failWith ? undefined : store.values.get(key)));
      return undefined;
    },
    set(key: string, value: unknown, cb?: (err?: Error) => void): void {
      store.writes += 1;
      if (!store.failWith) store.values.set(key, value);
      cb?.(store.failWith);
    },
  };
  return { id, context: () => ctx } as unknown as Node;
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('nodes/shared/context-state', () => {
  afterEach(() => clearHandover());

  it('writes a burst of changes once, after the delay, with the state of that moment', async () => {
    const store: FakeStore = { values: new Map(), writes: 0 };
    let state = 1;
    const cs = new ContextState(fakeNode('a', store), 'k', () => ({ state }), assert.fail, 20);
    for (let i = 0; i < 50; i++) {
      state += 1;
      cs.changed();
    }
    assert.equal(store.writes, 0);
    await tick(40);
    assert.equal(store.writes, 1);
    assert.deepEqual(store.values.get('k'), { state: 51 });
    cs.close(true);
  });

  it('close writes a pending change at once; the next instance gets the state in memory, a deleted node leaves none', () => {
    const store: FakeStore = { values: new Map(), writes: 0 };
    const first = new ContextState(fakeNode('a', store), 'k', () => 'latest', assert.fail, 60_000);
    first.changed();
    first.close(false);
    assert.equal(store.writes, 1, 'pending write flushed at close');
    store.values.clear();
    let got: unknown = 'none';
    const second = new ContextState(fakeNode('a', store), 'k', () => 'x', assert.fail);
    second.load((v) => (got = v));
    assert.equal(got, 'latest', 'handed over although the context is empty');
    second.close(true);
    const third = new ContextState(fakeNode('a', store), 'k', () => 'x', assert.fail);
    third.load((v) => (got = v));
    assert.equal(got, undefined, 'removed: nothing handed over');
  });

  it('park() keeps the saved value as it is: no write of the empty state, and the next instance gets the saved value', async () => {
    const store: FakeStore = { values: new Map([['k', { zones: ['office-1'] }]]), writes: 0 };
    const parked = new ContextState(fakeNode('a', store), 'k', () => ({ zones: [] }), assert.fail, 5);
    parked.park();
    parked.changed();
    await tick(20);
    assert.equal(store.writes, 0, 'nothing written while parked');
    parked.close(false);
    let handed: unknown;
    new ContextState(fakeNode('a', store), 'k', () => null, assert.fail).load((v) => (handed = v));
    assert.deepEqual(handed, { zones: ['office-1'] });
    assert.deepEqual(store.values.get('k'), { zones: ['office-1'] });
  });

  it('reads through the callback when the store is asynchronous only', async () => {
    const store: FakeStore = { values: new Map([['k', [{ zone: 'z' }]]]), writes: 0, asyncOnly: true };
    const cs = new ContextState(fakeNode('b', store), 'k', () => [], assert.fail);
    const got = await new Promise((resolve) => cs.load(resolve));
    assert.deepEqual(got, [{ zone: 'z' }]);
  });

  it('reports a failing store once through onError and never throws', async () => {
    const store: FakeStore = { values: new Map(), writes: 0, asyncOnly: true, failWith: new Error('disk full') };
    const errors: string[] = [];
    const cs = new ContextState(
      fakeNode('c', store),
      'k',
      () => 1,
      (e) => errors.push(e.message),
      1,
    );
    let loaded = false;
    cs.load(() => (loaded = true));
    await tick(5);
    cs.changed();
    await tick(10);
    cs.write();
    assert.equal(loaded, false, 'nothing loaded from a failing store');
    assert.deepEqual(errors, ['disk full'], 'reported once');
    cs.close(false);
  });

  it('retries a failed write (disk full) until it succeeds, and writes it again at close', async () => {
    const store: FakeStore = { values: new Map(), writes: 0, failWith: new Error('ENOSPC: no space left on device') };
    const errors: string[] = [];
    let state = 'a';
    const cs = new ContextState(
      fakeNode('d', store),
      'k',
      () => state,
      (e) => errors.push(e.message),
      5,
    );
    cs.changed();
    for (let i = 0; i < 200 && store.writes < 3; i++) await tick(10);
    assert.ok(store.writes >= 3, `retried (${store.writes} writes)`);
    assert.deepEqual(errors, ['ENOSPC: no space left on device'], 'reported once while it lasts');
    delete store.failWith;
    for (let i = 0; i < 300 && !store.values.has('k'); i++) await tick(10);
    assert.equal(store.values.get('k'), 'a', 'written once the disk has room again');
    const settled = store.writes;
    await tick(100);
    assert.equal(store.writes, settled, 'no more retries after the success');

    // Failing again, then the node closes (shutdown): one last write with the latest state.
    store.failWith = new Error('ENOSPC');
    state = 'b';
    cs.write();
    delete store.failWith;
    cs.close(true);
    assert.equal(store.values.get('k'), 'b', 'flushed at close');
    assert.equal(errors.length, 2, 'the new failure after a success is reported again');
  });
});
