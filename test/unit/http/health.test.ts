import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildHealthReport, healthHttpStatus } from '../../../lib/http/health';
import { LightingStore } from '../../../lib/store';

const dbOk = () => ({ ok: true, database: 'ok', latencyMs: 0.4, schemaVersion: 3 });
const daliOk = () => ({ state: 'connected', kind: 'simulator', diagnostics: { queueLength: 0 } });
const schedOk = () => ({ state: 'running' as const, nextRun: 1_700_000_000_000 });

describe('lib/http health report', function () {
  it('all probes healthy: status ok with the reference field names', async () => {
    const r = await buildHealthReport({ database: dbOk, dali: daliOk, scheduler: schedOk }, { version: '1.2.3', now: () => 0 });
    assert.equal(r.status, 'ok');
    assert.equal(r.database, 'ok');
    assert.equal(r.scheduler, 'running');
    assert.equal(r.dali.state, 'connected');
    assert.deepEqual(r.dali.diagnostics, { queueLength: 0 });
    assert.equal(r.version, '1.2.3');
    assert.equal(r.ts, '1970-01-01T00:00:00.000Z');
    assert.equal(healthHttpStatus(r), 200);
  });

  it('a throwing probe degrades only its own part', async () => {
    const r = await buildHealthReport({
      database: () => {
        throw new Error('SQLITE_CANTOPEN: unable to open database file');
      },
      dali: daliOk,
      scheduler: schedOk,
    });
    assert.equal(r.status, 'degraded');
    assert.match(r.database, /SQLITE_CANTOPEN/);
    assert.equal(r.scheduler, 'running');
    assert.equal(r.dali.state, 'connected');
    assert.equal(healthHttpStatus(r), 503);
  });

  it('a hanging probe times out and the report still arrives', async () => {
    const r = await buildHealthReport(
      { database: dbOk, dali: () => new Promise<never>(() => undefined), scheduler: () => Promise.reject(new Error('boom')) },
      { timeoutMs: 50 },
    );
    assert.equal(r.status, 'degraded');
    assert.equal(r.database, 'ok');
    assert.equal(r.dali.state, 'unknown');
    assert.match(r.dali.detail ?? '', /timeout after 50 ms/);
    assert.equal(r.scheduler, 'unknown');
    assert.equal(r.checks.scheduler.status, 'boom');
  });

  it('reports a stopped scheduler, a disconnected bus and an unhealthy database as degraded', async () => {
    const r = await buildHealthReport({
      database: () => ({ ok: false, database: 'the lighting store is closed' }),
      dali: () => ({ state: 'disconnected', detail: '/dev/ttyACM0 unplugged' }),
      scheduler: () => ({ state: 'stopped' as const }),
    });
    assert.equal(r.status, 'degraded');
    assert.equal(r.database, 'the lighting store is closed');
    assert.equal(r.scheduler, 'stopped');
    assert.equal(r.dali.state, 'disconnected');
  });

  it('absent probes are "not configured" and do not degrade; garbage probe results do', async () => {
    const none = await buildHealthReport({});
    assert.equal(none.status, 'ok');
    assert.equal(none.database, 'not configured');
    const garbage = await buildHealthReport({
      database: () => null as never,
      scheduler: () => 'running' as never,
    });
    assert.equal(garbage.status, 'degraded');
    assert.equal(garbage.scheduler, 'unknown');
  });

  it('uses a real store healthCheck as the database probe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-test-'));
    const store = await LightingStore.open({ path: path.join(dir, 'h.db') });
    try {
      const r = await buildHealthReport({ database: () => store.healthCheck() });
      assert.equal(r.database, 'ok');
      await store.close();
      const after = await buildHealthReport({ database: () => store.healthCheck() });
      assert.equal(after.status, 'degraded');
      assert.match(after.database, /closed/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
