/**
 * The store on PostgreSQL when the server goes away (its own throwaway
 * cluster, stopped and started by the tests): rows stay queued and are
 * acknowledged only once stored, queries and the health check say what is
 * wrong without the password, the store reconnects by itself, and closing
 * while the server is down settles every waiter instead of hanging.
 */
import assert from 'node:assert/strict';
import { FlushError, LightingStore } from '../../../lib/store';
import { findPgBin, startPostgres, type PgCluster } from '../../helpers/postgres';

describe('lib/store on PostgreSQL: server outages', function () {
  this.timeout(60_000);
  let pg: PgCluster;

  before(async function () {
    if (!findPgBin()) {
      process.stderr.write('\n!!! POSTGRESQL NOT INSTALLED: SKIPPING THE OUTAGE TESTS (apt-get install postgresql) !!!\n\n');
      this.skip();
    }
    pg = await startPostgres();
  });
  after(() => pg?.remove());

  it('keeps rows queued while the server is down, acknowledges them once stored after it is back, reports down/up', async () => {
    const s = await LightingStore.open({ path: pg.database2('outage'), flushIntervalMs: 20 });
    const states: string[] = [];
    s.on('connection', (c: { state: string }) => states.push(c.state));
    try {
      await s.insert('telemetry', { ts: 1, kind: 'before' }, { waitForCommit: true });
      pg.stop();
      let acked = 0;
      const waiting = Array.from({ length: 50 }, (_, i) =>
        s.insert('telemetry', { ts: 100 + i, kind: 'during' }, { waitForCommit: true }).then((a) => {
          acked += 1;
          return a;
        }),
      );
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(acked, 0, 'nothing acknowledged while the server is down');
      assert.equal(s.writerStats().queuedRows, 50, 'the rows are kept');
      const health = await s.healthCheck();
      assert.equal(health.ok, false);
      assert.match(health.database, /PostgreSQL 127\.0\.0\.1:\d+ unreachable/);
      assert.ok(!health.database.includes(pg.password));
      await assert.rejects(s.decisions(), /unreachable/);
      // 'down' once per distinct reason (the connection terminated, then connections refused), never 'up' meanwhile.
      assert.ok(states.length >= 1 && states.every((x) => x === 'down'), states.join());
      const downs = states.length;
      pg.start();
      const acks = await Promise.all(waiting);
      assert.ok(acks.every((a) => a.committed && typeof a.id === 'number'));
      assert.equal((await s.telemetry({ kind: 'during' })).total, 50);
      assert.equal((await s.healthCheck()).ok, true);
      assert.deepEqual(states.slice(downs), ['up']);
    } finally {
      pg.start();
      await s.close();
    }
  });

  it('closing while the server is down rejects the waiting rows (never acknowledged) and does not hang', async () => {
    const s = await LightingStore.open({ path: pg.database2('outage_close'), flushIntervalMs: 20 });
    await s.insert('telemetry', { ts: 1, kind: 'before' }, { waitForCommit: true });
    pg.stop();
    try {
      const waiter = s.insert('telemetry', { ts: 2, kind: 'lost' }, { waitForCommit: true });
      await new Promise((r) => setTimeout(r, 300));
      await s.close();
      await assert.rejects(waiter, (err: Error) => err instanceof FlushError && /unreachable/.test(err.message));
    } finally {
      pg.start();
    }
    const again = await LightingStore.open({ path: pg.database2('outage_close') });
    assert.equal((await again.telemetry({ kind: 'lost' })).total, 0);
    await again.close();
  });
});
