import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FeatureWindowService } from '../../../lib/features';
import {
  LightingStore,
  StorageUnavailableError,
  STORAGE_UNAVAILABLE,
  WAL_CHECKPOINT_PAGES,
  WAL_SIZE_LIMIT_BYTES,
  type StorageFault,
} from '../../../lib/store';

/**
 * The store's own account of its storage: a deleted, replaced or
 * unreachable database file is seen, writes are refused (503-style errors)
 * instead of acknowledged into an unlinked file, and every committed row
 * survives the recovery. (Disk full and read-only run on a real Node-RED in
 * test/e2e/storage-faults.test.ts: they need a small filesystem and a
 * non-root process.)
 */
describe('lib/store storage faults', function () {
  let root: string;
  const stores: LightingStore[] = [];
  let n = 0;

  async function open(dir: string): Promise<LightingStore> {
    fs.mkdirSync(dir, { recursive: true });
    const s = await LightingStore.open({ path: path.join(dir, 'lights.db'), monitorIntervalMs: 0, minFreeBytes: 0 });
    stores.push(s);
    return s;
  }
  const reading = (i: number) => ({ sensorId: 's1', zone: 'z', ts: 1_700_000_000_000 + i, lux: i, source: 'test' });
  async function writeAcked(s: LightingStore, from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i++) await s.insert('raw_sensor_events', reading(i), { waitForCommit: true });
  }

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'store-faults-'));
  });
  after(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('a deleted database file is rebuilt at its path from the open connection: every acknowledged row is kept', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    const events: Array<StorageFault | null> = [];
    const recovered: unknown[] = [];
    s.on('storage', (f) => events.push(f));
    s.on('recovered', (r) => recovered.push(r));
    await writeAcked(s, 0, 20);
    fs.rmSync(path.join(dir, 'lights.db'));
    await writeAcked(s, 20, 10); // acknowledged before the monitor looked: in the unlinked file
    await s.checkStorage();
    assert.deepEqual(
      events.map((e) => e?.kind ?? null),
      ['file-gone', null],
      'the fault was raised, then cleared',
    );
    assert.deepEqual(recovered, [{ why: 'gone', saved: null }]);
    assert.ok(fs.existsSync(path.join(dir, 'lights.db')));
    assert.equal(s.storageFault, null);
    await writeAcked(s, 30, 5);
    assert.equal((await s.counts()).raw_sensor_events, 35);
    // Also on disk, in the file at the path (a second connection sees them).
    await s.close();
    const again = await open(dir);
    assert.equal((await again.counts()).raw_sensor_events, 35);
  });

  it('while the folder is gone, writes are refused with STORAGE_UNAVAILABLE and health is degraded; once it is back, nothing is lost', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    await writeAcked(s, 0, 15);
    fs.rmSync(dir, { recursive: true });
    await s.checkStorage();
    assert.equal(s.storageFault?.kind, 'file-gone');
    await assert.rejects(
      s.insert('raw_sensor_events', reading(99), { waitForCommit: true }),
      (err: unknown) => err instanceof StorageUnavailableError && err.code === STORAGE_UNAVAILABLE && /deleted/.test(err.message),
    );
    await assert.rejects(s.insert('raw_sensor_events', reading(98)), StorageUnavailableError, 'not even queued');
    // A feature service on this store neither counts nor stores a refused reading (the client retries it).
    const svc = new FeatureWindowService({ windowMs: 60_000, store: s, onWindow: () => undefined, onError: () => undefined });
    await assert.rejects(svc.ingest({ ...reading(97), ts: Date.now() }), StorageUnavailableError);
    assert.equal(svc.engine.zones().length, 0, 'nothing counted');
    const health = await s.healthCheck();
    assert.equal(health.ok, false);
    assert.match(health.database, /was deleted: writes refused/);
    assert.ok(!/Error\b/.test(health.database), 'no class names');
    fs.mkdirSync(dir);
    await s.checkStorage();
    assert.equal(s.storageFault, null);
    assert.equal((await s.healthCheck()).ok, true);
    await writeAcked(s, 15, 5);
    assert.equal((await s.counts()).raw_sensor_events, 20);
  });

  it('a file replaced at the path is adopted; the data of the old one is saved beside it, not lost', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    await writeAcked(s, 0, 12);
    // Another database (say a restored backup) moved over the path.
    const otherDir = path.join(root, `other${n}`);
    const other = await open(otherDir);
    await writeAcked(other, 0, 3);
    await other.close();
    fs.renameSync(path.join(otherDir, 'lights.db'), path.join(dir, 'lights.db'));
    const recovered: Array<{ why: string; saved: string | null }> = [];
    s.on('recovered', (r) => recovered.push(r));
    await s.checkStorage();
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0]?.why, 'replaced');
    const saved = recovered[0]?.saved as string;
    assert.ok(saved.startsWith(path.join(dir, 'lights.db.orphaned-')), saved);
    assert.equal((await s.counts()).raw_sensor_events, 3, 'the new file is the one in use');
    const old = await open(path.dirname(saved));
    await old.close();
    const orphan = await LightingStore.open({ path: saved, monitorIntervalMs: 0 });
    stores.push(orphan);
    assert.equal((await orphan.counts()).raw_sensor_events, 12, 'the old rows are in the saved file');
  });

  it('a torn copy put at the path is refused with its reason in health (no SQLITE_MISUSE); a good file put there later is adopted by itself', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    await writeAcked(s, 0, 12);
    const file = path.join(dir, 'lights.db');
    // Half a database: a copy taken while it was being written, cut short.
    const good = fs.readFileSync(file);
    const torn = path.join(root, `torn${n}`);
    fs.writeFileSync(torn, Buffer.concat([good.subarray(0, 100), Buffer.alloc(4096, 0x5a)]));
    fs.renameSync(torn, file);
    const recovered: Array<{ why: string; saved: string | null }> = [];
    s.on('recovered', (r) => recovered.push(r));
    await s.checkStorage();
    await s.checkStorage(); // a second round: the old connection is gone by now
    assert.equal(recovered.length, 0, 'not adopted');
    const saved = fs.readdirSync(dir).filter((f) => f.startsWith('lights.db.orphaned-'));
    assert.equal(saved.length, 1, 'the old rows saved beside it once');
    const health = await s.healthCheck();
    assert.equal(health.ok, false);
    assert.match(health.database, /could not be adopted: cannot open the lighting store .*lights\.db: /);
    assert.doesNotMatch(health.database, /MISUSE|closed/i);
    await assert.rejects(s.insert('raw_sensor_events', reading(50), { waitForCommit: true }), StorageUnavailableError);
    await assert.rejects(s.counts(), StorageUnavailableError, 'reads say so too');
    // Someone puts the saved file back: adopted by itself, every acknowledged row there.
    fs.copyFileSync(path.join(dir, saved[0] as string), path.join(root, `back${n}`));
    fs.renameSync(path.join(root, `back${n}`), file);
    await s.checkStorage();
    assert.equal(recovered.length, 1);
    assert.equal(s.storageFault, null);
    assert.equal((await s.healthCheck()).ok, true);
    await writeAcked(s, 12, 3);
    assert.equal((await s.counts()).raw_sensor_events, 15);
  });

  for (const [monitor, monitorIntervalMs] of [
    ['an hourly monitor that has not looked yet', 3_600_000],
    ['the monitor off', 0],
  ] as const) {
    it(`a file deleted just before shutdown is rebuilt at close (${monitor}), so a restart finds every acknowledged row`, async () => {
      const dir = path.join(root, `d${++n}`);
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'lights.db');
      const s = await LightingStore.open({ path: file, monitorIntervalMs, minFreeBytes: 0 });
      await writeAcked(s, 0, 30);
      fs.rmSync(file);
      await s.close();
      const again = await open(dir);
      assert.equal(again.createdFile, false, 'not a new empty database');
      assert.equal((await again.counts()).raw_sensor_events, 30);
    });
  }

  it('keeps the WAL small: checkpoints every 1 024 pages, the file cut back to 4 MiB, under sustained acked writes', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    const pragmas = await s.exclusive(async (db) => ({
      auto: (await db.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint'))?.wal_autocheckpoint,
      limit: (await db.get<{ journal_size_limit: number }>('PRAGMA journal_size_limit'))?.journal_size_limit,
    }));
    assert.deepEqual(pragmas, { auto: WAL_CHECKPOINT_PAGES, limit: WAL_SIZE_LIMIT_BYTES });
    // 60 000 rows in 600 commits: several times what the WAL may hold.
    const wal = path.join(dir, 'lights.db-wal');
    let biggest = 0;
    for (let at = 0; at < 60_000; at += 100) {
      const acks: Array<Promise<unknown>> = [];
      for (let i = at; i < at + 100; i++) acks.push(s.insert('raw_sensor_events', reading(i), { waitForCommit: true }));
      await Promise.all(acks);
      biggest = Math.max(biggest, fs.statSync(wal).size);
    }
    // A checkpoint runs after the commit that crosses the threshold: one small transaction over it at most.
    assert.ok(biggest <= WAL_SIZE_LIMIT_BYTES + 256 * 1024, `the WAL reached ${biggest} bytes`);
    assert.ok(biggest > WAL_SIZE_LIMIT_BYTES / 2, `the WAL was used (${biggest} bytes)`);
    await s.close();
    assert.equal(fs.existsSync(wal), false, 'written back and removed at close');
    assert.equal((await (await open(dir)).counts()).raw_sensor_events, 60_000);
  });
});
