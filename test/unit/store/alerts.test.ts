import assert from 'node:assert/strict';
import { LightingStore, MIGRATIONS, RowValidationError, latestVersion, type AlertRow } from '../../../lib/store';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

for (const engine of STORE_ENGINES)
  describe(`lib/store alerts [${engine}]`, function () {
    const target = storeTargets(engine, this);
    const open: LightingStore[] = [];
    const file = (): string => target.next('alerts');
    async function openStore(p: string = file()): Promise<LightingStore> {
      const s = await LightingStore.open({ path: p });
      open.push(s);
      return s;
    }

    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    const lamp = (over: Partial<AlertRow> = {}): AlertRow => ({
      ts: 1000,
      zone: 'office',
      kind: 'lampFailure',
      severity: 'critical',
      message: 'gear 3 reports lamp failure',
      data: { address: 3 },
      ...over,
    });

    it('migration 3 on an existing version-2 database adds alerts and keeps the data', async () => {
      const p = file();
      const v2 = await LightingStore.open({ path: p, migrations: MIGRATIONS.filter((m) => m.version <= 2) });
      await v2.insert(
        'decisions',
        { ts: 5, zone: 'office', source: 'rules', intensity: 40, cct: 3500, applied: true },
        { waitForCommit: true },
      );
      assert.equal(v2.schemaVersion, 2);
      await v2.close();
      const s = await openStore(p);
      assert.equal(s.schemaVersion, latestVersion());
      assert.ok(latestVersion() >= 3);
      assert.equal((await s.counts()).decisions, 1);
      assert.equal((await s.decisions()).items[0]?.intensity, 40);
      const { id, created } = await s.raiseAlert(lamp());
      assert.equal(created, true);
      assert.deepEqual(await s.getAlert(id), {
        id,
        ts: 1000,
        zone: 'office',
        kind: 'lampFailure',
        severity: 'critical',
        message: 'gear 3 reports lamp failure',
        data: { address: 3 },
        resolvedAt: null,
        resolvedBy: null,
        gateway: '',
      });
    });

    it('an active alert of the same kind and zone is not raised twice; other zones, kinds and site-wide ones are separate', async () => {
      const s = await openStore();
      const first = await s.raiseAlert(lamp());
      const again = await s.raiseAlert(lamp({ ts: 2000, message: 'still failing' }));
      assert.deepEqual(again, { id: first.id, created: false });
      const otherZone = await s.raiseAlert(lamp({ zone: 'hall' }));
      const otherKind = await s.raiseAlert(lamp({ kind: 'sensorStale', severity: 'warning' }));
      const site = await s.raiseAlert({ kind: 'busDisconnected', message: 'DALI bus disconnected' });
      const siteAgain = await s.raiseAlert({ kind: 'busDisconnected', zone: null, message: 'DALI bus disconnected' });
      assert.equal(siteAgain.id, site.id);
      assert.equal(siteAgain.created, false);
      assert.equal(new Set([first.id, otherZone.id, otherKind.id, site.id]).size, 4);
      const page = await s.alerts();
      assert.equal(page.total, 4);
      assert.equal((await s.getAlert(first.id))?.message, 'gear 3 reports lamp failure', 'the first alert is kept unchanged');
    });

    it('resolve is idempotent, 404-able, and lets the same kind+zone be raised again', async () => {
      const s = await openStore();
      const { id } = await s.raiseAlert(lamp());
      const r1 = await s.resolveAlert(id, 'operator', 5000);
      assert.ok(r1.found);
      if (r1.found) {
        assert.equal(r1.changed, true);
        assert.equal(r1.alert.resolvedAt, 5000);
        assert.equal(r1.alert.resolvedBy, 'operator');
      }
      const r2 = await s.resolveAlert(id, 'someone-else', 9000);
      assert.ok(r2.found);
      if (r2.found) {
        assert.equal(r2.changed, false);
        assert.equal(r2.alert.resolvedAt, 5000, 'the first resolution is kept');
        assert.equal(r2.alert.resolvedBy, 'operator');
      }
      assert.deepEqual(await s.resolveAlert(id + 1000, 'operator'), { found: false });
      assert.equal(await s.getAlert(id + 1000), null);
      const again = await s.raiseAlert(lamp({ ts: 6000 }));
      assert.equal(again.created, true);
      assert.notEqual(again.id, id);
    });

    it('lists active/resolved/all, newest first, paginated by offset and cursor', async () => {
      const s = await openStore();
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) ids.push((await s.raiseAlert(lamp({ zone: `z${i}`, ts: 1000 + i * 10 }))).id);
      await s.resolveAlert(ids[0] as number, 'auto', 2000);
      await s.resolveAlert(ids[1] as number, 'auto', 2000);
      const active = await s.alerts({ limit: 3 });
      assert.equal(active.total, 5);
      assert.deepEqual(
        active.items.map((a) => a.zone),
        ['z6', 'z5', 'z4'],
      );
      const next = await s.alerts({ limit: 3, cursor: active.nextCursor ?? undefined });
      assert.deepEqual(
        next.items.map((a) => a.zone),
        ['z3', 'z2'],
      );
      assert.equal(next.nextCursor, null);
      assert.deepEqual(
        (await s.alerts({ status: 'resolved' })).items.map((a) => a.zone),
        ['z1', 'z0'],
      );
      const all = await s.alerts({ status: 'all', limit: 2, offset: 5 });
      assert.equal(all.total, 7);
      assert.deepEqual(
        all.items.map((a) => a.zone),
        ['z1', 'z0'],
      );
      assert.deepEqual(
        (await s.alerts({ status: 'all', zone: 'z4' })).items.map((a) => a.id),
        [ids[4]],
      );
      assert.equal((await s.alerts({ kind: 'sensorStale' })).total, 0);
    });

    it('refuses invalid alerts naming the field, and stores nothing', async () => {
      const s = await openStore();
      const bad: Array<[unknown, string]> = [
        [{ ...lamp(), kind: 'meltdown' }, 'kind'],
        [{ ...lamp(), severity: 'apocalyptic' }, 'severity'],
        [{ ...lamp(), message: '' }, 'message'],
        [{ ...lamp(), message: 'x'.repeat(1001) }, 'message'],
        [{ ...lamp(), zone: '' }, 'zone'],
        [{ ...lamp(), ts: -1 }, 'ts'],
        [{ ...lamp(), data: { big: 'x'.repeat(70_000) } }, 'data'],
        [null, 'row'],
      ];
      for (const [row, field] of bad) {
        await assert.rejects(s.raiseAlert(row as AlertRow), (err: unknown) => {
          assert.ok(err instanceof RowValidationError, String(err));
          assert.equal((err as RowValidationError).field, field);
          return true;
        });
      }
      assert.equal((await s.alerts({ status: 'all' })).total, 0);
      await assert.rejects(s.resolveAlert(1, ''), /by must be/);
    });

    it('alerts survive a reopen of the file', async () => {
      const p = file();
      const a = await LightingStore.open({ path: p });
      const { id } = await a.raiseAlert(
        lamp({ kind: 'aiCircuitOpen', zone: null, severity: 'info', message: 'AI circuit open: rules only' }),
      );
      await a.close();
      const b = await openStore(p);
      assert.equal((await b.getAlert(id))?.kind, 'aiCircuitOpen');
      assert.deepEqual(await b.raiseAlert({ kind: 'aiCircuitOpen', message: 'again' }), { id, created: false });
    });
  });
