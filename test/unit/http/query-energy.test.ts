/**
 * Daily energy from the store's decisions (lib/http/query-energy) with a real
 * SQLite file: local day boundaries (23/25 h DST days in Europe/Berlin), the
 * level carried over midnight, blocked decisions ignored, paging (a small
 * page gives the same answer as one page and as dailyEnergySummary over all
 * rows), today ending now, and the 400 answers of runQuery('energy').
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mulberry32, randInt } from '../../helpers/prng';
import { dailyEnergySummary } from '../../../lib/control/energy';
import { runQuery } from '../../../lib/http/query-api';
import { energyForDay, localDay, localDayBounds, type EnergyDayReport } from '../../../lib/http/query-energy';
import { LightingStore, type DecisionRow } from '../../../lib/store';

const H = 3_600_000;
const close = (a: number | null, b: number, what: string): void => {
  assert.ok(a !== null && Math.abs(a - b) < 1e-6, `${what}: ${String(a)} ~ ${b}`);
};

describe('lib/http/query-energy (daily energy from stored decisions)', function () {
  let dir: string;
  let n = 0;
  const open: LightingStore[] = [];
  let tz: string | undefined;
  async function openStore(): Promise<LightingStore> {
    const s = await LightingStore.open({ path: path.join(dir, `e-${++n}.db`) });
    open.push(s);
    return s;
  }
  async function decide(store: LightingStore, rows: Array<Partial<DecisionRow> & { ts: number; intensity: number }>): Promise<void> {
    for (const r of rows) await store.insert('decisions', { zone: 'office', source: 'rules', cct: 4000, applied: true, ...r });
  }

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-energy-'));
    tz = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  after(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes local midnights as the day boundaries: 24 h, 23 h and 25 h days; rejects non-days', () => {
    const june = localDayBounds('2026-06-10');
    assert.deepEqual(june, { from: Date.UTC(2026, 5, 9, 22), to: Date.UTC(2026, 5, 10, 22) });
    const spring = localDayBounds('2026-03-29') as { from: number; to: number };
    assert.equal((spring.to - spring.from) / H, 23);
    const autumn = localDayBounds('2026-10-25') as { from: number; to: number };
    assert.equal((autumn.to - autumn.from) / H, 25);
    for (const bad of ['2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', '1969-12-31']) assert.equal(localDayBounds(bad), null, bad);
    assert.equal(localDay(Date.UTC(2026, 5, 9, 22, 30)), '2026-06-10', 'local, not UTC');
  });

  it('integrates the day from the level at midnight, ignoring blocked decisions', async () => {
    const store = await openStore();
    const { from } = localDayBounds('2026-06-10') as { from: number; to: number };
    await decide(store, [
      { ts: from - 2 * H, intensity: 50 }, // the evening before: holds until 06:00
      { ts: from + 6 * H, intensity: 100 },
      { ts: from + 12 * H, intensity: 0, applied: false, blockedBy: 'override' },
      { ts: from + 18 * H, intensity: 20 },
      { ts: from + 30 * H, intensity: 0 }, // next day: not counted
    ]);
    const r = await energyForDay(store, { day: '2026-06-10', zone: 'office' }, { fixtureWatts: 100, now: from + 40 * H });
    assert.equal(r.hours, 24);
    assert.equal(r.complete, true);
    assert.equal(r.decisions, 3, 'the day holds three decision rows');
    const [z] = r.zones;
    assert.equal(z?.rows, 2, 'applied decisions of the day');
    assert.equal(z?.assumedInitial, false);
    close(r.energyWh, 6 * 50 + 12 * 100 + 6 * 20, 'energyWh');
    close(r.baselineWh, 2400, 'baselineWh');
    close(r.savedWh, 2400 - 1620, 'savedWh');
    close(r.savedPct, 32.5, 'savedPct');
    close(r.meanIntensityPct, 67.5, 'meanIntensityPct');
  });

  it('gives the same answer page by page as in one page, and as dailyEnergySummary over every row', async () => {
    const store = await openStore();
    const { from } = localDayBounds('2026-06-11') as { from: number; to: number };
    const rng = mulberry32(7);
    const rows: Array<{ ts: number; intensity: number; zone: string; applied: boolean }> = [];
    for (const zone of ['office', 'hall']) {
      rows.push({ ts: from - randInt(rng, 1, 5 * H), intensity: randInt(rng, 0, 100), zone, applied: true });
      for (let ts = from; ts < from + 24 * H; ts += randInt(rng, 1, 40) * 60_000) {
        rows.push({ ts, intensity: randInt(rng, 0, 100), zone, applied: rng() < 0.85 });
      }
      // Two decisions at the same instant: the later one is in force.
      rows.push({ ts: from + 13 * H, intensity: 5, zone, applied: true }, { ts: from + 13 * H, intensity: 95, zone, applied: true });
    }
    await decide(store, rows);
    const whole = await energyForDay(store, { day: '2026-06-11' }, { fixtureWatts: 40, now: from + 48 * H });
    const paged = await energyForDay(store, { day: '2026-06-11' }, { fixtureWatts: 40, now: from + 48 * H, pageRows: 3 });
    assert.deepEqual(
      paged.zones.map((z) => z.zone),
      ['hall', 'office'],
    );
    for (const [i, z] of paged.zones.entries()) {
      const w = whole.zones[i];
      close(z.energyWh, w?.energyWh as number, `${z.zone} paged = one page`);
      close(z.meanIntensityPct, w?.meanIntensityPct as number, `${z.zone} mean`);
      const ref = dailyEnergySummary(
        rows.filter((r) => r.zone === z.zone),
        from,
        { ratedW: 40, standbyW: 0 },
        { zone: z.zone },
      );
      close(z.energyWh, ref.energyWh, `${z.zone} = dailyEnergySummary`);
      close(z.savedPct, ref.savedPct, `${z.zone} savedPct`);
      assert.equal(z.assumedInitial, false);
    }
    close(paged.energyWh, (paged.zones[0]?.energyWh ?? 0) + (paged.zones[1]?.energyWh ?? 0), 'total = sum of zones');
  });

  it('integrates over 23 hours on the spring DST day', async () => {
    const store = await openStore();
    const { from, to } = localDayBounds('2026-03-29') as { from: number; to: number };
    await decide(store, [{ ts: from - H, intensity: 50 }]);
    const r = await energyForDay(store, { day: '2026-03-29', zone: 'office' }, { fixtureWatts: 10, now: to + H });
    assert.equal(r.hours, 23);
    close(r.energyWh, 23 * 5, 'energyWh');
    assert.equal(r.zones[0]?.rows, 0, 'no decision that day, the level of the evening before held');
  });

  it('back-fills the first decision when nothing came before, ends today at now, and has no Wh without fixtureWatts', async () => {
    const store = await openStore();
    const { from } = localDayBounds('2026-06-12') as { from: number; to: number };
    await decide(store, [
      { ts: from + 4 * H, intensity: 40 },
      { ts: from + 8 * H, intensity: 80 },
    ]);
    const r = await energyForDay(store, { day: '2026-06-12' }, { fixtureWatts: null, now: from + 10 * H });
    assert.equal(r.complete, false);
    assert.equal(r.to, from + 10 * H);
    assert.equal(r.hours, 10);
    assert.equal(r.energyWh, null);
    assert.equal(r.zones[0]?.energyWh, null);
    assert.equal(r.zones[0]?.assumedInitial, true);
    close(r.meanIntensityPct, (8 * 40 + 2 * 80) / 10, 'mean');
    close(r.savedPct, 100 - 48, 'savedPct');
  });

  it("takes each zone's wattage from the zone map (zoneWatts), the node's only for zones the map gives none; totals and savedPct weigh the zones by it", async () => {
    const store = await openStore();
    const { from, to } = localDayBounds('2026-06-12') as { from: number; to: number };
    await decide(store, [
      { ts: from, intensity: 50, zone: 'office' },
      { ts: from, intensity: 100, zone: 'corridor' },
    ]);
    const mapped: Record<string, number> = { office: 144, corridor: 40 };
    const r = await energyForDay(store, { day: '2026-06-12' }, { fixtureWatts: 10, zoneWatts: (z) => mapped[z], now: to + H });
    const byZone = new Map(r.zones.map((z) => [z.zone, z]));
    assert.equal(byZone.get('office')?.fixtureWatts, 144);
    assert.equal(byZone.get('corridor')?.fixtureWatts, 40);
    close(byZone.get('office')?.baselineWh ?? null, 144 * 24, 'office baseline');
    close(byZone.get('corridor')?.baselineWh ?? null, 40 * 24, 'corridor baseline');
    close(r.baselineWh, (144 + 40) * 24, 'total baseline');
    const used = (byZone.get('office')?.energyWh ?? 0) + (byZone.get('corridor')?.energyWh ?? 0);
    close(r.energyWh, used, 'total energy');
    close(r.savedPct, ((184 * 24 - used) / (184 * 24)) * 100, 'savedPct of the summed Wh');
    // A zone the map gives no wattage: the node's setting.
    const other = await energyForDay(store, { day: '2026-06-12' }, { fixtureWatts: 10, zoneWatts: () => null, now: to + H });
    assert.deepEqual(
      other.zones.map((z) => z.fixtureWatts),
      [10, 10],
    );
  });

  it('lists no zone when the zone has no decision at all', async () => {
    const store = await openStore();
    const r: EnergyDayReport = await energyForDay(
      store,
      { day: '2026-06-12', zone: 'nowhere' },
      { fixtureWatts: 10, now: Date.UTC(2026, 5, 13) },
    );
    assert.deepEqual([r.zones, r.energyWh, r.savedPct, r.meanIntensityPct], [[], null, null, null]);
  });

  it("runQuery('energy') defaults to today and answers 400 for a bad or future day", async () => {
    const store = await openStore();
    const now = Date.now();
    const today = await runQuery('energy', store, undefined, { fixtureWatts: 10, now: () => now });
    assert.equal(today.statusCode, 200);
    assert.equal((today.payload as EnergyDayReport).day, localDay(now));
    for (const day of ['2026-02-30', 'today', '2999-01-01']) {
      const a = await runQuery('energy', store, { day }, { now: () => now });
      assert.equal(a.statusCode, 400, day);
    }
    assert.match(((await runQuery('energy', store, { day: '2999-01-01' })).payload as { detail: string }).detail, /has not begun/);
  });
});
