import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FeatureWindowService } from '../../../lib/features';
import { Db, LightingStore, StorageUnavailableError, STORAGE_UNAVAILABLE, type StorageFault } from '../../../lib/store';
import { BACKSTOP_BYTES, BACKSTOP_PAGES, WRITER_CHECKPOINT_PAGES, WalCheckpointer } from '../../../lib/store/wal-checkpointer';

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

  it('a file deleted just before shutdown is rebuilt at close, so a restart finds every acknowledged row', async () => {
    const dir = path.join(root, `d${++n}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'lights.db');
    const s = await LightingStore.open({ path: file, monitorIntervalMs: 3_600_000, minFreeBytes: 0 });
    await writeAcked(s, 0, 30);
    fs.rmSync(file);
    await s.close();
    const again = await open(dir);
    assert.equal(again.createdFile, false, 'not a new empty database');
    assert.equal((await again.counts()).raw_sensor_events, 30);
  });

  it('keeps the WAL small with checkpoints on a second connection, and starts it over once they catch up', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    const wal = path.join(dir, 'lights.db-wal');
    // 40 000 rows in 400 commits (a few hundred pages each): far more than the WAL may hold.
    let biggest = 0;
    for (let at = 0; at < 40_000; at += 100) {
      const acks: Array<Promise<unknown>> = [];
      for (let i = at; i < at + 100; i++) acks.push(s.insert('raw_sensor_events', reading(i), { waitForCommit: true }));
      await Promise.all(acks);
      biggest = Math.max(biggest, fs.statSync(wal).size);
    }
    assert.ok(s.writerStats().checkpoints > 0, 'the background connection checkpointed');
    // The writer's own threshold (BACKSTOP_PAGES) bounds it when commits never let the checkpoints catch up.
    assert.ok(biggest <= 2 * BACKSTOP_PAGES * 4096, `WAL reached ${biggest} bytes`);
    // Quiet a moment: a checkpoint that copied everything lets the next commit start the WAL over, cut to 1 MiB.
    await new Promise((r) => setTimeout(r, 120));
    await writeAcked(s, 40_000, 1);
    await new Promise((r) => setTimeout(r, 120));
    await writeAcked(s, 40_001, 1);
    assert.ok(fs.statSync(wal).size <= 1024 * 1024, `WAL is ${fs.statSync(wal).size} bytes after a quiet moment`);
    const pragmas = await s.exclusive(async (db) => ({
      auto: (await db.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint'))?.wal_autocheckpoint,
      limit: (await db.get<{ journal_size_limit: number }>('PRAGMA journal_size_limit'))?.journal_size_limit,
    }));
    assert.deepEqual(pragmas, { auto: BACKSTOP_PAGES, limit: 1048576 });
    await s.close();
    assert.equal(fs.existsSync(wal), false, 'the writer closed last: the WAL was written back and removed');
    const again = await open(dir);
    assert.equal((await again.counts()).raw_sensor_events, 40_002);
  });

  it('writes on past the backstop only after a long background checkpoint ended and the writer checkpointed', async () => {
    // A background checkpoint that takes long (slow storage: it fsyncs twice) holds the checkpoint lock, and
    // the writer's automatic one gives up meanwhile: writing on, the WAL grew far past the backstop (60 MiB with
    // 80 ms fsyncs). Here a run() that stays pending stands for that checkpoint (it holds no SQLite lock).
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    const wal = path.join(dir, 'lights.db-wal');
    const run = WalCheckpointer.prototype.run;
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    WalCheckpointer.prototype.run = () => slow;
    let biggest = 0;
    let written = 0;
    const writes = (async () => {
      for (let at = 0; at < 20_000; at += 100) {
        const acks: Array<Promise<unknown>> = [];
        for (let i = at; i < at + 100; i++) acks.push(s.insert('raw_sensor_events', reading(i), { waitForCommit: true }));
        await Promise.all(acks);
        written = at + 100;
        biggest = Math.max(biggest, fs.statSync(wal).size);
      }
    })();
    try {
      while (written < 20_000 && biggest < BACKSTOP_BYTES) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 100));
      const held = written;
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(written < 20_000, 'the writer stopped at the backstop');
      assert.equal(written, held, 'no commit while the background checkpoint ran with the WAL at the backstop');
    } finally {
      WalCheckpointer.prototype.run = run;
      release();
    }
    await writes;
    // The writer checkpointed itself once the background one ended: the WAL started over and never went far past.
    assert.ok(biggest <= BACKSTOP_BYTES + 1024 * 1024, `WAL reached ${biggest} bytes`);
    assert.equal((await s.counts()).raw_sensor_events, 20_000);
  });

  it('a file replaced while the store opens gets no checkpoint connection: the WAL of the writer never goes into it', async () => {
    const other = path.join(root, `d${++n}`);
    const b = await open(other);
    // Another layout than ours (more rows, other values), so pages of one make no sense in the other.
    await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        b.insert('raw_sensor_events', { ...reading(i), lux: 1_000_000 + i, sensorId: `other-${i}` }, { waitForCommit: true }),
      ),
    );
    await b.close();
    const dir = path.join(root, `d${++n}`);
    const file = path.join(dir, 'lights.db');
    const s0 = await open(dir);
    await writeAcked(s0, 0, 100);
    await s0.close();
    // The other file is moved in after the writer opened the path and before the checkpoint connection does.
    const open2 = WalCheckpointer.open;
    WalCheckpointer.open = (f, o) => {
      WalCheckpointer.open = open2;
      fs.copyFileSync(path.join(other, 'lights.db'), `${file}.tmp`);
      fs.renameSync(`${file}.tmp`, file);
      return open2(f, o);
    };
    let s: LightingStore;
    try {
      s = await open(dir);
    } finally {
      WalCheckpointer.open = open2;
    }
    const acks: Array<Promise<unknown>> = [];
    for (let i = 100; i < 3_000; i++) acks.push(s.insert('raw_sensor_events', reading(i), { waitForCommit: true }));
    await Promise.all(acks);
    await new Promise((r) => setTimeout(r, 80));
    await writeAcked(s, 3_000, 1);
    await s.checkStorage();
    assert.equal(s.storageFault, null);
    await s.close();
    // Every file is sound, every acknowledged row is in one of them (the replaced one saved beside the path), and
    // the file moved in was not overwritten with pages of ours.
    const ours = new Set<number>();
    const theirs = new Set<number>();
    for (const name of fs.readdirSync(dir).filter((f) => f.startsWith('lights.db') && !/-(wal|shm)$/.test(f))) {
      const db = await Db.open(path.join(dir, name), { readOnly: true });
      try {
        const integrity = await db.all<{ integrity_check: string }>('PRAGMA integrity_check');
        assert.deepEqual(
          integrity.map((r) => r.integrity_check),
          ['ok'],
          name,
        );
        for (const r of await db.all<{ lux: number }>('SELECT lux FROM raw_sensor_events')) (r.lux < 1_000_000 ? ours : theirs).add(r.lux);
      } finally {
        await db.close();
      }
    }
    assert.equal(ours.size, 3_001);
    assert.equal(theirs.size, 2_000, 'the file moved in keeps its rows');
  });

  it('without the checkpoint connection the writer checkpoints itself every 256 pages', async () => {
    const open2 = WalCheckpointer.open;
    WalCheckpointer.open = () => Promise.resolve(null);
    let s: LightingStore;
    try {
      s = await open(path.join(root, `d${++n}`));
    } finally {
      WalCheckpointer.open = open2;
    }
    const auto = await s.exclusive(
      async (db) => (await db.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint'))?.wal_autocheckpoint,
    );
    assert.equal(auto, WRITER_CHECKPOINT_PAGES);
    await writeAcked(s, 0, 200);
    assert.equal(s.writerStats().checkpoints, 0);
    assert.equal((await s.counts()).raw_sensor_events, 200);
  });

  it('the checkpoint connection follows the file through a recovery and never holds the deleted one', async () => {
    const dir = path.join(root, `d${++n}`);
    const s = await open(dir);
    await writeAcked(s, 0, 500);
    fs.rmSync(path.join(dir, 'lights.db'));
    await s.checkStorage();
    assert.equal(s.storageFault, null);
    const before = s.writerStats().checkpoints;
    const acks: Array<Promise<unknown>> = [];
    for (let i = 500; i < 3_000; i++) acks.push(s.insert('raw_sensor_events', reading(i), { waitForCommit: true }));
    await Promise.all(acks);
    await new Promise((r) => setTimeout(r, 80));
    await writeAcked(s, 3_000, 1);
    assert.ok(s.writerStats().checkpoints > before, 'checkpoints go on after the recovery');
    // No descriptor of this process still points at a deleted lights.db (the old checkpoint connection is closed).
    const stale = fs
      .readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((target) => target.startsWith(path.join(dir, 'lights.db')) && target.endsWith('(deleted)'));
    assert.deepEqual(stale, []);
    assert.equal((await s.counts()).raw_sensor_events, 3_001);
  });
});
