/**
 * lighting-store config node in the Node-RED runtime, with real SQLite files
 * in a temporary directory: where the file goes (setting, DB_URL, default),
 * opening on first use, status fanned out to its users, one connection shared
 * by two config nodes naming one file, flushing on close, closing when the
 * last user leaves, and a clear error for PostgreSQL.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import { LightingStore } from '../../lib/store/store';
import { findPgBin } from '../helpers/postgres';
import { sharedPostgres } from '../helpers/store-engines';
import type { LightingStoreNode } from '../../nodes/shared/owners';
import {
  TAB,
  callsOf,
  collect,
  count,
  helper,
  initCatalogues,
  lastStatus,
  load,
  message,
  nodeById,
  redeploy,
  storeConfig,
  tempDir,
  waitFor,
} from './store-node-helpers';

interface Ack {
  payload: { committed: boolean; id: number | null; connectionId: number };
}

function user(id: string, store: string, wires: string[][] = [['h1']]): FlowNodeDef {
  return { id, type: 'store-user', z: 'f1', store, wires };
}

const HELPER: FlowNodeDef = { id: 'h1', type: 'helper', z: 'f1', wires: [] };

describe('lighting-store node', function () {
  let dir: string;
  const savedDbUrl = process.env.DB_URL;

  before(async () => {
    await initCatalogues();
  });

  beforeEach(() => {
    dir = tempDir('ls-node-');
    delete process.env.DB_URL;
  });

  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    if (savedDbUrl === undefined) delete process.env.DB_URL;
    else process.env.DB_URL = savedDbUrl;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens nothing until a node uses it, then opens the file and shows "connected" on its users', async () => {
    const file = path.join(dir, 'lights.db');
    await load([TAB, storeConfig('s1', file)]);
    assert.equal(fs.existsSync(file), false, 'no user, no file');
    await helper.unload();

    await load([TAB, storeConfig('s1', file), user('u1', 's1'), HELPER]);
    const u1 = nodeById('u1');
    await waitFor('connected status', () => lastStatus(u1)?.fill === 'green');
    assert.deepEqual(lastStatus(u1), { fill: 'green', shape: 'dot', text: message('lighting-store', 'status.connected') });
    assert.ok(fs.existsSync(file));
    assert.ok(LightingStore.openFiles().includes(fs.realpathSync(file)));
  });

  it('takes a blank path from DB_URL (sqlite:///./file relative to the user directory), else <userDir>/smart-lighting.db', async () => {
    helper.settings({ userDir: dir });
    process.env.DB_URL = 'sqlite:///./data/from-env.db';
    await load([TAB, storeConfig('s1', ''), user('u1', 's1'), HELPER]);
    assert.equal(nodeById<LightingStoreNode>('s1').settings.path, path.join(dir, 'data', 'from-env.db'));
    const acks = collect<Ack>('h1');
    nodeById('u1').receive({ payload: { ts: 1, kind: 'env' }, waitForCommit: true } as never);
    await waitFor('ack', () => acks[0]);
    assert.equal(await count(path.join(dir, 'data', 'from-env.db'), 'telemetry'), 1);
    await helper.unload();

    delete process.env.DB_URL;
    await load([TAB, storeConfig('s1', '')]);
    assert.equal(nodeById<LightingStoreNode>('s1').settings.path, path.join(dir, 'smart-lighting.db'));
    await helper.unload();

    process.env.DB_URL = 'sqlite:////absolute/ignored.db';
    await load([TAB, storeConfig('s1', 'mine.db')]);
    assert.equal(nodeById<LightingStoreNode>('s1').settings.path, path.join(dir, 'mine.db'), 'the setting wins over DB_URL');
  });

  it('refuses an unsupported DB_URL (mysql://) with a clear error: red status on users, logged, no file, input fails', async () => {
    helper.settings({ userDir: dir });
    process.env.DB_URL = 'mysql://user:pass@db:3306/smart_lighting';
    await load([
      TAB,
      storeConfig('s1', ''),
      user('u1', 's1', [[]]),
      { id: 'c1', type: 'catch', z: 'f1', scope: ['u1'], uncaught: false, wires: [['h1']] },
      HELPER,
    ]);
    const s1 = nodeById<LightingStoreNode>('s1');
    const u1 = nodeById('u1');
    const logged = callsOf(s1, 'error').map((a) => String(a[0]));
    assert.equal(logged.length, 1);
    assert.match(logged[0], /scheme "mysql" is not supported/);
    const status = lastStatus(u1);
    assert.equal(status?.fill, 'red');
    assert.match(String(status?.text), /not supported/);
    const caught = collect<{ error: { message: string } }>('h1');
    u1.receive({ payload: { ts: 1, kind: 'x' } });
    await waitFor('caught error', () => caught[0]);
    assert.match(caught[0].error.message, /not supported/);
    await assert.rejects(s1.getStore(), /not supported/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('a database that cannot be opened now is a storage fault (STORAGE_UNAVAILABLE, retry later) and is opened at a later use once it can be', async () => {
    const blocker = path.join(dir, 'data');
    fs.writeFileSync(blocker, 'not a folder'); // the database's folder cannot be made
    const file = path.join(blocker, 'lights.db');
    await load([
      TAB,
      storeConfig('s1', file),
      user('u1', 's1'),
      { id: 'c1', type: 'catch', z: 'f1', scope: ['u1'], uncaught: false, wires: [['h2']] },
      HELPER,
      { id: 'h2', type: 'helper', z: 'f1', wires: [] },
    ]);
    const caught = collect<{ error: { message: string; code?: string } }>('h2');
    nodeById('u1').receive({ payload: { ts: 1, kind: 'x' } });
    await waitFor('caught error', () => caught[0]);
    assert.equal(caught[0].error.code, 'STORAGE_UNAVAILABLE', 'an HTTP caller gets 503 + Retry-After (the main flow maps this code)');
    assert.match(caught[0].error.message, /^(StorageUnavailableError: )?storage unavailable: .*EEXIST.*; retry later$/);
    fs.rmSync(blocker);
    const acks = collect<Ack>('h1');
    nodeById('u1').receive({ payload: { ts: 2, kind: 'x' }, waitForCommit: true } as never);
    await waitFor('ack', () => acks[0]);
    assert.equal(acks[0].payload.committed, true);
    assert.equal(await count(file, 'telemetry'), 1);
  });

  it("takes a PostgreSQL DB_URL (the reference's postgresql+psycopg:// form); an unreachable server is a red status without the password", async () => {
    helper.settings({ userDir: dir });
    process.env.DB_URL = 'postgresql+psycopg://user:Sup3rS3cret@127.0.0.1:1/smart_lighting';
    await load([TAB, storeConfig('s1', ''), user('u1', 's1'), HELPER]);
    const s1 = nodeById<LightingStoreNode>('s1');
    assert.equal(s1.settings.path, 'postgresql://user:***@127.0.0.1:1/smart_lighting');
    const u1 = nodeById('u1');
    await waitFor('red status', () => lastStatus(u1)?.fill === 'red');
    const text = String(lastStatus(u1)?.text);
    assert.match(text, /postgresql:\/\/user@127\.0\.0\.1:1\/smart_lighting: PostgreSQL 127\.0\.0\.1:1 unreachable: .*ECONNREFUSED/);
    const logged = callsOf(s1, 'error').map((a) => String(a[0]));
    assert.ok(logged.length >= 1);
    for (const line of [text, ...logged]) assert.ok(!line.includes('Sup3rS3cret'), line);
    assert.deepEqual(fs.readdirSync(dir), [], 'no SQLite file was created');
  });

  it('PostgreSQL: the password credential opens it; red "database down" while the server is stopped, green again by itself', async function () {
    if (!findPgBin()) {
      process.stderr.write('\n!!! POSTGRESQL NOT INSTALLED: SKIPPING (apt-get install postgresql) !!!\n\n');
      this.skip();
    }
    this.timeout(60000);
    const pg = await sharedPostgres();
    const url = pg.database2('node_status');
    const withoutPassword = url.replace(`:${encodeURIComponent(pg.password)}@`, '@');
    await load([TAB, storeConfig('s1', withoutPassword), user('u1', 's1'), HELPER], { s1: { password: pg.password } });
    const u1 = nodeById('u1');
    const s1 = nodeById<LightingStoreNode>('s1');
    await waitFor('connected status', () => lastStatus(u1)?.fill === 'green', 10000);
    const acks = collect<Ack>('h1');
    u1.receive({ payload: { ts: 1, kind: 'before' }, waitForCommit: true } as never);
    await waitFor('first ack', () => acks[0]);
    assert.equal(acks[0]?.payload.committed, true);
    pg.stop();
    try {
      u1.receive({ payload: { ts: 2, kind: 'while-down' }, waitForCommit: true } as never);
      await waitFor('red status', () => lastStatus(u1)?.fill === 'red', 10000);
      assert.match(String(lastStatus(u1)?.text), /database down: PostgreSQL 127\.0\.0\.1:\d+ unreachable/);
      assert.equal(acks.length, 1, 'the row written while down is not acknowledged');
    } finally {
      pg.start();
    }
    await waitFor('green again', () => lastStatus(u1)?.fill === 'green', 20000);
    await waitFor('the queued row acknowledged once stored', () => acks[1], 10000);
    assert.equal(acks[1]?.payload.committed, true);
    const lines = [...callsOf(s1, 'warn'), ...callsOf(s1, 'error'), ...callsOf(s1, 'log'), ...callsOf(u1, 'status')].map((a) =>
      JSON.stringify(a),
    );
    for (const l of lines) assert.ok(!l.includes(pg.password), l);
  });

  it('shows the open error (red, with the reason) when the file cannot be opened', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    await load([TAB, storeConfig('s1', path.join(blocker, 'lights.db')), user('u1', 's1'), HELPER]);
    const u1 = nodeById('u1');
    await waitFor('red status', () => lastStatus(u1)?.fill === 'red');
    assert.match(String(lastStatus(u1)?.text), /not-a-dir/);
    const s1 = nodeById('s1');
    assert.equal(callsOf(s1, 'error').length, 1, 'logged once');
  });

  it('shares one connection between two config nodes naming the same file', async () => {
    const file = path.join(dir, 'shared.db');
    await load([
      TAB,
      storeConfig('s1', file),
      storeConfig('s2', path.join(dir, '.', 'shared.db'), { flushIntervalMs: '50' }),
      user('u1', 's1'),
      user('u2', 's2'),
      HELPER,
    ]);
    const acks = collect<Ack>('h1');
    nodeById('u1').receive({ payload: { ts: 1, kind: 'one' }, waitForCommit: true } as never);
    nodeById('u2').receive({ payload: { ts: 2, kind: 'two' }, waitForCommit: true } as never);
    await waitFor('two acks', () => acks.length === 2);
    assert.equal(acks[0].payload.connectionId, acks[1].payload.connectionId);
    const [a, b] = await Promise.all([nodeById<LightingStoreNode>('s1').getStore(), nodeById<LightingStoreNode>('s2').getStore()]);
    assert.equal(a.connectionId, b.connectionId);
    assert.equal(await count(file, 'telemetry'), 2);
  });

  it('writes every queued row before its close completes', async () => {
    const file = path.join(dir, 'flush.db');
    // A long interval: nothing is written before the close.
    await load([TAB, storeConfig('s1', file, { flushIntervalMs: '60000' }), user('u1', 's1'), HELPER]);
    const acks = collect<Ack>('h1');
    for (let i = 0; i < 5; i++) nodeById('u1').receive({ payload: { ts: i, kind: 'queued' } });
    await waitFor('5 queued', () => acks.length === 5);
    assert.ok(acks.every((a) => a.payload.committed === false && a.payload.id === null));
    await helper.unload();
    assert.equal(await count(file, 'telemetry'), 5);
    assert.ok(!LightingStore.openFiles().includes(fs.realpathSync(file)), 'closed');
  });

  it('closes the file when its last user leaves and reopens it for a new user', async () => {
    const file = path.join(dir, 'users.db');
    const flow = [TAB, storeConfig('s1', file, { flushIntervalMs: '60000' }), user('u1', 's1'), HELPER];
    await load(flow);
    const acks = collect<Ack>('h1');
    nodeById('u1').receive({ payload: { ts: 1, kind: 'before' } });
    await waitFor('ack', () => acks[0]);
    const key = fs.realpathSync(file);
    assert.ok(LightingStore.openFiles().includes(key));

    await redeploy([TAB, storeConfig('s1', file, { flushIntervalMs: '60000' }), HELPER], 'nodes');
    const s1 = nodeById<LightingStoreNode>('s1');
    assert.deepEqual(Object.keys(s1.users), []);
    await waitFor('closed', () => !LightingStore.openFiles().includes(key));
    assert.equal(await count(file, 'telemetry'), 1, 'flushed when the last user left');

    await redeploy(flow, 'nodes');
    const again = collect<Ack>('h1');
    nodeById('u1').receive({ payload: { ts: 2, kind: 'after' } });
    await waitFor('ack after reopen', () => again[0]);
    assert.ok(LightingStore.openFiles().includes(key), 'open again');
    await helper.unload();
    assert.equal(await count(file, 'telemetry'), 2);
  });
  it('shows a storage fault on its users while it lasts (red ring, the reason), logs it once, and goes green by itself', async function () {
    this.timeout(20000);
    const sub = path.join(dir, 'data');
    const file = path.join(sub, 'lights.db');
    await load([TAB, storeConfig('s1', file), user('u1', 's1'), HELPER]);
    const u1 = nodeById('u1');
    await waitFor('connected status', () => lastStatus(u1)?.fill === 'green');
    fs.rmSync(sub, { recursive: true });
    await waitFor('fault status', () => lastStatus(u1)?.fill === 'red', 10000);
    assert.match(String(lastStatus(u1)?.text), /was deleted: writes refused/);
    const errors = callsOf(nodeById('s1'), 'error').map((c) => String(c[0]));
    assert.equal(errors.filter((e) => /was deleted/.test(e)).length, 1, errors.join('; '));
    fs.mkdirSync(sub);
    await waitFor('green again', () => lastStatus(u1)?.fill === 'green', 10000);
    assert.ok(fs.existsSync(file), 'the file is back at its path');
  });
});
