/**
 * Learning from overrides end to end: the main flow (flows/smart-lighting.json)
 * in a real Node-RED runtime, its DALI bus on a pseudo-terminal served by the
 * bus simulator program, its SQLite store seeded before start with weeks of
 * history in which people in meeting-1 set 38-44 % and 3000 K at this hour
 * of the day. "mine now" (the inject node's admin endpoint) mines it, GET
 * /suggestions lists the suggestion, POST /suggestions/:id/accept (admin
 * token) accepts it, and the next decision in that slot (someone enters the
 * meeting room) follows it: the level read back from the simulated gear is
 * within the accepted band, the stored decision names the rule.
 *
 * Then drift: the rule is made four weeks old (its decided_at moved back) and
 * four weeks of history in which people set 58-64 % are written; "mine now"
 * proposes a revision with `supersedes` naming the rule, it is accepted over
 * HTTP (the old rule listed as superseded), and the next decision (a cloud:
 * the meeting sensor's lux drops) follows the new rule, read back from the
 * simulated gear. Last, retention-prune (an inject added to the flow) deletes
 * the superseded rule once it was decided longer ago than the retention.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { query } from '../helpers/sqlite-query';
import { percentToArcLevel } from '../../lib/dali/curve';
import { LightingStore } from '../../lib/store/store';
import type { Suggestion } from '../../lib/learning/types';
import { seedHistory, writeHistory } from '../helpers/learning-seed';
import { SimProcess } from '../helpers/dali-sim-process';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT } from './harness';
import { killAll, skipWithoutSocat, startPtyPair, type PtyPair } from '../helpers/socat';

const ADMIN_TOKEN = 'learning-e2e-admin-token';
const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const DAY = 86_400_000;
/** Gear of meeting-1 (group 1) in the simulated building. */
const MEETING_GEAR = [4, 5];
/**
 * The rules' hold-off before a rise and the gate's interval for rises in this test's copy of the flow (shipped:
 * 30 s each). The drift test waits them out before the cloud, and the rules' interval between two fast-path
 * decisions (as shipped); which rule the next decision follows does not depend on their length.
 */
const RISE_AFTER_S = 5;

/** The first applied rules decision for meeting-1 at or after `since`, waited for up to 10 s. */
async function firstRulesDecision(
  dbFile: string,
  since: number,
  what: string,
): Promise<{ intensity: number; cct: number; reason: string }> {
  let rows: Array<{ intensity: number; cct: number; reason: string }> = [];
  for (let i = 0; i < 100 && rows.length === 0; i++) {
    rows = await query(
      dbFile,
      "SELECT intensity, cct, reason FROM decisions WHERE zone = 'meeting-1' AND source = 'rules' AND applied = 1 AND ts >= ? ORDER BY ts",
      [since],
    );
    if (rows.length === 0) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(rows.length > 0, what);
  return rows[0] as { intensity: number; cct: number; reason: string };
}

/** The simulated gear's levels once both meeting-room luminaires are at `intensity` (waited for up to 5 s; asserted). */
async function meetingGearAt(sim: SimProcess, intensity: number): Promise<number[]> {
  let levels: number[] = [];
  for (let i = 0; i < 50; i++) {
    levels = await sim.levels(8);
    if (MEETING_GEAR.every((a) => levels[a] === percentToArcLevel(intensity))) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(
    MEETING_GEAR.map((a) => levels[a]),
    MEETING_GEAR.map(() => percentToArcLevel(intensity)),
    `gear levels ${JSON.stringify(levels)}`,
  );
  return levels;
}

describe('learning from overrides end to end: seeded store -> mined -> GET /suggestions -> accepted over HTTP -> the gear follows', function () {
  this.timeout(120_000);
  let pair: PtyPair | undefined;
  let sim: SimProcess;
  let rt: NodeRedRuntime;
  let dir: string;
  let dbFile: string;
  let start: number;
  let dayType: 'weekdays' | 'weekend';
  let slotMinute: number;
  /** The suggestion accepted by the first test, and its cap. */
  let first: Suggestion | undefined;
  let firstCap = 100;
  /** The rules node's least time between two fast-path decisions of a zone, ms (as in the shipped flow). */
  let fastPathMinIntervalMs = 0;

  before(async function () {
    skipWithoutSocat(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-learning-'));
    pair = await startPtyPair(dir);
    sim = await SimProcess.start(['--protocol', 'luba', '--port', pair.dev, '--building', '--scenario', 'none', '--frame-times']);
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = fs.mkdtempSync(installDir ? path.join(installDir, '..', 'ud-learning-') : path.join(os.tmpdir(), 'ud-learning-'));
    // Four weeks of history of today's day type (weekdays or weekend) that ended four weeks ago, overrides 5 min into this UTC hour.
    const now = new Date();
    dayType = now.getUTCDay() === 0 || now.getUTCDay() === 6 ? 'weekend' : 'weekdays';
    slotMinute = now.getUTCHours() * 60 + 5;
    start = Math.floor(now.getTime() / DAY) * DAY - 55 * DAY;
    dbFile = path.join(userDir, 'smart-lighting.db');
    const store = await LightingStore.open({ path: dbFile });
    try {
      await writeHistory(store, seedHistory({ zone: 'meeting-1', start, days: 28, pattern: 'slot', dayType, slotMinute }));
    } finally {
      await store.close();
    }
    const flows = (
      JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as Record<string, unknown>[]
    ).map((n) =>
      n.type === 'dali-bus'
        ? { ...n, interfaceType: 'luba', port: pair?.app }
        : n.id === 'sl-diag-tick'
          ? { ...n, once: false, repeat: '' }
          : n.id === 'sl-insights'
            ? { ...n, lookbackDays: 56, timezone: 'UTC' }
            : n.id === 'sl-rules'
              ? { ...n, holdOffUpMs: RISE_AFTER_S * 1000 }
              : n.id === 'sl-gate'
                ? { ...n, minIntervalUpS: RISE_AFTER_S }
                : n,
    );
    fastPathMinIntervalMs = Number((flows.find((n) => n.id === 'sl-rules') as Record<string, unknown>).fastPathMinIntervalMs);
    // A way to start the nightly prune now (the inject node's own admin endpoint, as "mine now").
    const prune = flows.find((n) => n.id === 'sl-prune') as Record<string, unknown>;
    flows.push({
      id: 'e2e-prune-now',
      type: 'inject',
      z: prune.z,
      name: 'prune now',
      props: [],
      repeat: '',
      once: false,
      wires: [['sl-prune']],
    });
    rt = await NodeRedRuntime.start({
      userDir,
      flows,
      env: { ADMIN_TOKEN, DB_URL: '', ZONES: '', TZ: 'UTC' },
      settings: NPM_START_SETTINGS,
    });
    await rt.waitForBusConnected();
  });

  after(async () => {
    await rt?.stopAndClean(true);
    await sim?.stop();
    await pair?.stop();
    await killAll();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('mines the seeded history, lists the suggestion, accepts it over HTTP and the next arrival in the slot follows it', async () => {
    assert.deepEqual((await rt.request('GET', '/suggestions')).json, { suggestions: [] });
    const mined = await rt.request('POST', '/inject/sl-insights-mine');
    assert.equal(mined.status, 200, mined.text);
    let pending: Suggestion[] = [];
    for (let i = 0; i < 50 && pending.length === 0; i++) {
      const r = await rt.request('GET', '/suggestions?status=pending&zone=meeting-1');
      assert.equal(r.status, 200, r.text);
      pending = (r.json as { suggestions: Suggestion[] }).suggestions;
      if (pending.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(pending.length, 1, JSON.stringify(pending));
    const s = pending[0] as Suggestion;
    assert.equal(s.kind, 'slot');
    assert.ok(s.support_days >= 5 && s.confidence >= 0.6, JSON.stringify(s));
    assert.ok(s.evidence.length >= s.support_days);
    assert.ok(s.change.kind === 'slot' && s.change.kelvin === 3000, JSON.stringify(s.change));
    const cap = s.change.kind === 'slot' ? (s.change.maxIntensityPct ?? 100) : 100;
    assert.ok(cap <= 44, JSON.stringify(s.change));

    assert.equal((await rt.request('GET', '/suggestions?status=bogus')).status, 400);
    const noToken = await rt.request('POST', `/suggestions/${s.id}/accept`);
    assert.equal(noToken.status, 401, noToken.text);
    assert.equal((await rt.request('POST', '/suggestions/999999/accept', {}, bearer)).status, 404);
    const ok = await rt.request('POST', `/suggestions/${s.id}/accept`, { by: 'e2e' }, bearer);
    assert.equal(ok.status, 200, ok.text);
    assert.equal((ok.json as { suggestion: Suggestion }).suggestion.status, 'accepted');
    const twice = await rt.request('POST', `/suggestions/${s.id}/reject`, {}, bearer);
    assert.equal(twice.status, 409, twice.text);
    assert.match((twice.json as { detail: string }).detail, /already accepted/);

    // Someone enters the meeting room (sensor 11): the presence fast path decides at once, in the slot.
    await sim.until(
      () => sim.frames.filter((f) => f.frameTime === 'forward' && f.target?.kind === 'short' && f.address === 'A11').length > 0,
      'the meeting sensor configured',
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const acceptedAt = Date.now();
    sim.send('occupied 11');
    const d = await firstRulesDecision(dbFile, acceptedAt, 'a decision for meeting-1 after the arrival');
    assert.match(d.reason, new RegExp(`schedule:suggestion:${s.id} `), d.reason);
    assert.ok(d.intensity <= cap, `${d.intensity} <= ${cap}`);
    assert.ok(Math.abs(d.cct - 3000) < 30, String(d.cct));
    // Read back from the simulated gear: both luminaires of the meeting room at the decided level.
    const levels = await meetingGearAt(sim, d.intensity);
    assert.ok((levels[4] as number) <= percentToArcLevel(cap));
    assert.deepEqual(rt.ourProblems([/\[warn\]/]), []);
    first = s;
    firstCap = cap;
  });

  it('drift: people now set 58-64 %; a revision naming the rule is mined, accepted over HTTP, the gear follows it; the superseded rule is pruned later', async () => {
    const rule = first;
    if (rule === undefined) throw new Error('needs the accepted suggestion of the first test');
    // Time passes: the rule was accepted four weeks ago, and since then people set 58-64 % in its slot.
    const acceptedAt = start + 28 * DAY - 1;
    const store = await LightingStore.open({ path: dbFile });
    try {
      await store.exclusive((db) => db.run('UPDATE suggestions SET decided_at = ? WHERE id = ?', [acceptedAt, rule.id]));
      await writeHistory(
        store,
        seedHistory({
          zone: 'meeting-1',
          start: start + 28 * DAY,
          days: 27,
          pattern: 'slot',
          dayType,
          slotMinute,
          slotIntensity: 58,
          seed: 2,
        }),
      );
    } finally {
      await store.close();
    }
    assert.equal((await rt.request('POST', '/inject/sl-insights-mine')).status, 200);
    let revision: Suggestion | undefined;
    for (let i = 0; i < 50 && revision === undefined; i++) {
      const r = await rt.request('GET', '/suggestions?status=pending&zone=meeting-1');
      assert.equal(r.status, 200, r.text);
      revision = (r.json as { suggestions: Suggestion[] }).suggestions[0];
      if (revision === undefined) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(revision, 'a pending revision');
    assert.equal(revision.supersedes, rule.id, JSON.stringify(revision));
    assert.equal(revision.pattern_key, rule.pattern_key);
    assert.ok(
      revision.evidence.every((e) => e.ts > acceptedAt),
      'only evidence newer than the acceptance',
    );
    assert.match(revision.summary, new RegExp(`revises suggestion:${rule.id} in force`));
    const newCap = revision.change.kind === 'slot' ? (revision.change.maxIntensityPct ?? 0) : 0;
    assert.ok(newCap >= 58 && newCap <= 64, JSON.stringify(revision.change));
    assert.ok(revision.change.kind === 'slot' && revision.change.kelvin === 3000, JSON.stringify(revision.change));

    // Accepted over HTTP: the revision is the rule, the old one superseded.
    const ok = await rt.request('POST', `/suggestions/${revision.id}/accept`, { by: 'e2e' }, bearer);
    assert.equal(ok.status, 200, ok.text);
    const superseded = await rt.request('GET', '/suggestions?status=superseded');
    assert.deepEqual(
      (superseded.json as { suggestions: Suggestion[] }).suggestions.map((x) => x.id),
      [rule.id],
    );
    const accepted = await rt.request('GET', '/suggestions?status=accepted');
    assert.deepEqual(
      (accepted.json as { suggestions: Suggestion[] }).suggestions.map((x) => x.id),
      [revision.id],
    );

    // A cloud over the meeting room: the lux fast path raises the light, now up to the new cap. Past the rules' hold-off,
    // the gate's interval for rises and the rules' interval between fast-path decisions (the arrival was one) first.
    const last = await query<{ ts: number }>(dbFile, "SELECT MAX(ts) AS ts FROM decisions WHERE zone = 'meeting-1' AND applied = 1");
    const wait = (last[0]?.ts ?? 0) + Math.max(RISE_AFTER_S * 1000, fastPathMinIntervalMs) + 1000 - Date.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const cloudAt = Date.now();
    sim.send('lux 5 11');
    const d = await firstRulesDecision(dbFile, cloudAt, 'a decision for meeting-1 after the cloud');
    assert.match(d.reason, new RegExp(`schedule:suggestion:${revision.id} `), d.reason);
    assert.doesNotMatch(d.reason, new RegExp(`schedule:suggestion:${rule.id} `), 'the superseded rule is not in force');
    assert.ok(d.intensity > firstCap && d.intensity <= newCap, `${firstCap} < ${d.intensity} <= ${newCap}`);
    await meetingGearAt(sim, d.intensity);

    // Retention: the superseded rule, replaced more than 30 days ago, goes; the rule in force stays.
    const prunedBefore = Date.now() - 31 * DAY;
    const again = await LightingStore.open({ path: dbFile });
    try {
      await again.exclusive((db) => db.run('UPDATE suggestions SET decided_at = ? WHERE id = ?', [prunedBefore, rule.id]));
    } finally {
      await again.close();
    }
    assert.equal((await rt.request('POST', '/inject/e2e-prune-now')).status, 200);
    let left: Array<{ id: number; status: string }> = [];
    for (let i = 0; i < 100; i++) {
      left = await query(dbFile, "SELECT id, status FROM suggestions WHERE zone = 'meeting-1' ORDER BY id");
      if (!left.some((x) => x.id === rule.id)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(left, [{ id: revision.id, status: 'accepted' }]);
    assert.deepEqual(rt.ourProblems([/\[warn\]/]), []);
  });
});
