import assert from 'node:assert/strict';
import { DAY_MS, LightingStore, MIGRATIONS, latestVersion, prune } from '../../../lib/store';
import {
  acceptedRules,
  answerDecide,
  countPending as countPendingOf,
  answerList,
  decideSuggestion,
  listSuggestions,
  runInsights,
  saveCandidates,
} from '../../../lib/insights';
import { type Candidate, type SlotChange, type Suggestion } from '../../../lib/learning';
import { SEED_MONDAY, seedHistory, writeHistory } from '../../helpers/learning-seed';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

const DAY = 86_400_000;
const settingsOf = (): { targetLux: number; holdMinutes: number } => ({ targetLux: 300, holdMinutes: 15 });
const holdCandidate = (support: number, evidenceTs: number[] = []): Candidate => ({
  zone: 'z',
  kind: 'hold',
  patternKey: 'z|hold',
  summary: `s${support}`,
  supportDays: support,
  confidence: 0.7,
  evidence: evidenceTs.map((ts, i) => ({ table: 'manual_overrides', id: i + 1, ts, note: 'off' })),
  change: { kind: 'hold', holdMinutes: 3, fromMinutes: 15 },
});
const opts = { timeZone: 'UTC', settingsOf };
/** Day n after the seed's first Monday, 00:00 UTC. */
const day = (n: number): number => SEED_MONDAY + n * DAY;
/** meeting-1 history: people set `low`..low+6 % at 14:05 on every weekday of [from, from + days). */
const meetingSlot = (from: number, days: number, low: number, seed = 1): ReturnType<typeof seedHistory> =>
  seedHistory({ zone: 'meeting-1', start: day(from), days, pattern: 'slot', slotIntensity: low, seed });

for (const engine of STORE_ENGINES)
  describe(`lib/learning suggestions in the store [${engine}]`, function () {
    this.timeout(60_000);
    const target = storeTargets(engine, this);
    const open: LightingStore[] = [];
    async function openStore(p: string = target.next('learning'), gateway?: string): Promise<LightingStore> {
      const s = await LightingStore.open({ path: p, ...(gateway !== undefined ? { gateway } : {}) });
      open.push(s);
      return s;
    }
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('migration 5 adds the suggestions table to a version-4 database and keeps its rows', async () => {
      const p = target.next('v4');
      const v4 = await LightingStore.open({ path: p, migrations: MIGRATIONS.filter((m) => m.version <= 4) });
      await v4.insert(
        'decisions',
        { ts: 5, zone: 'office', source: 'manual', intensity: 40, cct: 3500, applied: true },
        { waitForCommit: true },
      );
      await v4.close();
      const s = await openStore(p);
      assert.equal(s.schemaVersion, latestVersion());
      assert.equal((await s.counts()).decisions, 1);
      assert.deepEqual(await listSuggestions(s), []);
    });

    it('migration 6 keeps version-5 suggestions (supersedes null, newest evidence time filled) and allows the status superseded', async () => {
      const p = target.next('v5');
      const v5 = await LightingStore.open({ path: p, migrations: MIGRATIONS.filter((m) => m.version <= 5) });
      await v5.exclusive((db) =>
        db.run(
          `INSERT INTO suggestions (created_at, updated_at, zone, kind, pattern_key, summary, status, support_days, confidence, evidence, change_json)
           VALUES (1, 2, 'z', 'hold', 'z|hold', 'old', 'accepted', 5, 0.7, ?, ?)`,
          [
            JSON.stringify([
              { table: 'manual_overrides', id: 1, ts: 1000, note: 'a' },
              { table: 'manual_overrides', id: 2, ts: 3000, note: 'b' },
            ]),
            JSON.stringify({ kind: 'hold', holdMinutes: 3, fromMinutes: 15 }),
          ],
        ),
      );
      await v5.close();
      const s = await openStore(p);
      assert.equal(s.schemaVersion, 6);
      const [old] = await listSuggestions(s);
      assert.equal(old?.summary, 'old');
      assert.equal(old?.supersedes, null);
      const row = await s.exclusive((db) => db.get<{ evidence_ts: number }>('SELECT evidence_ts FROM suggestions WHERE id = ?', [old?.id]));
      assert.equal(Number(row?.evidence_ts), 3000);
      // New rows go on after the copied ids; the new status is allowed, an unknown one is refused.
      const next = await saveCandidates(s, [{ ...holdCandidate(5), patternKey: 'y|hold', zone: 'y' }], 10);
      assert.ok(next.created[0]!.id > old!.id);
      await s.exclusive((db) => db.run("UPDATE suggestions SET status = 'superseded' WHERE id = ?", [old?.id]));
      await assert.rejects(s.exclusive((db) => db.run("UPDATE suggestions SET status = 'bogus' WHERE id = ?", [old?.id])));
    });

    it('mines seeded history into one pending suggestion, lists it, accepts it once (409 after), and it becomes a rule', async () => {
      const s = await openStore();
      await writeHistory(s, seedHistory({ zone: 'meeting-1', days: 14, pattern: 'slot', hitDays: 8 }));
      await writeHistory(s, seedHistory({ zone: 'office-1', days: 14, pattern: 'random', perDay: 3, seed: 7 }));
      const now = SEED_MONDAY + 14 * DAY;
      const report = await runInsights(s, { timeZone: 'UTC', settingsOf }, now);
      assert.equal(report.created.length, 1);
      assert.equal(report.pending, 1);
      assert.deepEqual(report.autoAccepted, []);
      const list = await answerList(s, { status: 'pending' });
      const body = list.body as { suggestions: Array<Record<string, unknown>> };
      assert.equal(body.suggestions.length, 1);
      const sug = body.suggestions[0]!;
      for (const k of ['id', 'zone', 'kind', 'summary', 'status', 'support_days', 'confidence', 'evidence', 'change', 'created_at'])
        assert.ok(k in sug, k);
      assert.equal(sug.zone, 'meeting-1');
      assert.equal(sug.support_days, 8);
      assert.ok((sug.evidence as unknown[]).length >= 8);
      // The same history mined again refreshes the pending one instead of adding another.
      const again = await runInsights(s, { timeZone: 'UTC', settingsOf }, now);
      assert.equal(again.created.length, 0);
      assert.equal(again.updated, 1);
      assert.equal((await listSuggestions(s)).length, 1);

      const id = sug.id as number;
      assert.equal((await answerDecide(s, { id: 999, decision: 'accepted', by: 'api' })).statusCode, 404);
      const ok = await answerDecide(s, { id, decision: 'accepted', by: 'api' }, now + 1);
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.rules?.length, 1);
      assert.equal(ok.rules?.[0]?.id, `suggestion:${id}`);
      const twice = await answerDecide(s, { id, decision: 'rejected', by: 'api' });
      assert.equal(twice.statusCode, 409);
      assert.deepEqual(twice.body, { detail: `suggestion ${id} is already accepted` });
      const rules = await acceptedRules(s);
      assert.equal(rules.length, 1);
      assert.equal(rules[0]?.kind, 'slot');
      // Accepted: not proposed again.
      const third = await runInsights(s, { timeZone: 'UTC', settingsOf }, now);
      assert.equal(third.created.length, 0);
      assert.deepEqual(third.skipped, [{ patternKey: 'meeting-1|slot|weekdays|14:00', why: 'accepted' }]);
    });

    it('a rejected pattern comes back only when its support grew by 2 days', async () => {
      const s = await openStore();
      const cand = (support: number): Candidate => holdCandidate(support);
      const first = await saveCandidates(s, [cand(5)], 1000);
      const id = first.created[0]!.id;
      assert.equal((await decideSuggestion(s, id, 'rejected', 'api', 2000)).outcome, 'decided');
      assert.equal((await saveCandidates(s, [cand(6)], 3000)).created.length, 0);
      assert.deepEqual((await saveCandidates(s, [cand(6)], 3000)).skipped, [{ patternKey: 'z|hold', why: 'rejected' }]);
      const grown = await saveCandidates(s, [cand(7)], 4000);
      assert.equal(grown.created.length, 1);
      assert.equal(grown.created[0]!.status, 'pending');
      assert.deepEqual(
        (await listSuggestions(s, { status: 'rejected' })).map((x) => x.id),
        [id],
      );
    });

    it('auto-accept above the integrator confidence; off by default; each gateway sees its own', async () => {
      const p = target.next('gw');
      const a = await openStore(p, 'gw-a');
      const b = await openStore(p, 'gw-b');
      await writeHistory(a, seedHistory({ zone: 'corridor', days: 14, pattern: 'quick-off' }));
      const now = SEED_MONDAY + 14 * DAY;
      const r = await runInsights(a, { timeZone: 'UTC', settingsOf, autoAcceptConfidence: 0.9 }, now);
      assert.deepEqual(r.autoAccepted, [r.created[0]!.id]);
      assert.equal(r.created[0]!.status, 'accepted');
      assert.equal(r.created[0]!.decided_by, 'auto');
      assert.equal((await acceptedRules(a))[0]?.kind, 'hold');
      assert.deepEqual(await listSuggestions(b), []);
      assert.deepEqual(await acceptedRules(b), []);
    });

    describe('drift: an accepted pattern is mined again from the evidence newer than its acceptance', function () {
      /** Two weeks of 38-44 % mined and accepted at day 14; returns the accepted suggestion. */
      async function acceptedAt14(s: LightingStore): Promise<Suggestion> {
        await writeHistory(s, meetingSlot(0, 14, 38));
        const r = await runInsights(s, opts, day(14));
        assert.equal(r.created.length, 1);
        const d = await decideSuggestion(s, r.created[0]!.id, 'accepted', 'api', day(14));
        assert.equal(d.outcome, 'decided');
        return (d as { suggestion: Suggestion }).suggestion;
      }

      it('a moved preference (people now set 58-64 %) becomes a pending revision naming the rule in force; accepting it supersedes the rule in one step', async () => {
        const s = await openStore();
        const first = await acceptedAt14(s);
        assert.equal((first.change as SlotChange).maxIntensityPct !== undefined, true);
        await writeHistory(s, meetingSlot(14, 14, 58, 2));
        const r = await runInsights(s, opts, day(28));
        assert.equal(r.revisions.length, 1, JSON.stringify(r));
        const rev = r.created.find((x) => x.id === r.revisions[0])!;
        assert.equal(rev.status, 'pending');
        assert.equal(rev.supersedes, first.id);
        assert.equal(rev.pattern_key, first.pattern_key);
        assert.equal(rev.support_days, 10, 'only the 10 weekdays after the acceptance count');
        assert.ok(
          rev.evidence.every((e) => e.ts > day(14)),
          'evidence newer than the acceptance only',
        );
        const change = rev.change as SlotChange;
        assert.ok(
          change.maxIntensityPct !== undefined && change.maxIntensityPct >= 58 && change.maxIntensityPct <= 64,
          JSON.stringify(change),
        );
        assert.equal(change.kelvin, 3000, 'the colour people did not correct stays');
        assert.match(rev.summary, new RegExp(`revises suggestion:${first.id} in force \\(cap \\d+ % -> cap \\d+ %\\)`));
        assert.deepEqual(r.skipped, [{ patternKey: first.pattern_key, why: 'accepted' }], 'no plain duplicate of the accepted pattern');
        // Until it is decided, the old rule stays in force; the same run again refreshes the revision.
        assert.deepEqual(
          (await acceptedRules(s)).map((x) => x.id),
          [`suggestion:${first.id}`],
        );
        const again = await runInsights(s, opts, day(28));
        assert.equal(again.created.length, 0);
        assert.equal(again.updated, 1);
        // Accept: the revision is the rule, the old one superseded (listed with its own status), both in one transaction.
        const ok = await answerDecide(s, { id: rev.id, decision: 'accepted', by: 'api' }, day(28) + 1);
        assert.equal(ok.statusCode, 200);
        assert.deepEqual(
          ok.rules?.map((x) => x.id),
          [`suggestion:${rev.id}`],
        );
        const superseded = await listSuggestions(s, { status: 'superseded' });
        assert.deepEqual(
          superseded.map((x) => [x.id, x.decided_at]),
          [[first.id, day(28) + 1]],
        );
        const late = await answerDecide(s, { id: first.id, decision: 'rejected', by: 'api' });
        assert.equal(late.statusCode, 409);
        assert.deepEqual(late.body, { detail: `suggestion ${first.id} is already superseded` });
        assert.deepEqual(
          (await listSuggestions(s, { status: 'accepted' })).map((x) => x.id),
          [rev.id],
        );
      });

      it('an unchanged preference (the same 38-44 % after the acceptance) gives no revision', async () => {
        const s = await openStore();
        const first = await acceptedAt14(s);
        await writeHistory(s, meetingSlot(14, 14, 38, 3));
        const r = await runInsights(s, opts, day(28));
        assert.deepEqual(r.created, []);
        assert.deepEqual(r.revisions, []);
        assert.deepEqual(r.skipped, [{ patternKey: first.pattern_key, why: 'accepted' }]);
        assert.deepEqual(
          (await listSuggestions(s)).map((x) => [x.id, x.status]),
          [[first.id, 'accepted']],
        );
      });

      it('too little evidence since the acceptance (4 weekdays) gives no revision yet', async () => {
        const s = await openStore();
        await acceptedAt14(s);
        await writeHistory(s, meetingSlot(14, 4, 58, 2));
        const r = await runInsights(s, opts, day(18));
        assert.deepEqual(r.revisions, []);
        assert.equal(await countPendingOf(s), 0);
      });

      it('a rejected revision leaves the rule in force and comes back only when its support grew by 2 days', async () => {
        const s = await openStore();
        const first = await acceptedAt14(s);
        await writeHistory(s, meetingSlot(14, 14, 58, 2));
        const r1 = await runInsights(s, opts, day(24));
        assert.equal(r1.revisions.length, 1);
        const rev = r1.created[0]!;
        assert.equal(rev.support_days, 8);
        assert.equal((await answerDecide(s, { id: rev.id, decision: 'rejected', by: 'api' }, day(24) + 1)).statusCode, 200);
        assert.deepEqual(
          (await acceptedRules(s)).map((x) => x.id),
          [`suggestion:${first.id}`],
        );
        const r2 = await runInsights(s, opts, day(25));
        assert.deepEqual(r2.revisions, [], 'support 9: not grown enough');
        assert.deepEqual(r2.skipped, [
          { patternKey: first.pattern_key, why: 'accepted' },
          { patternKey: first.pattern_key, why: 'rejected' },
        ]);
        const r3 = await runInsights(s, opts, day(28));
        assert.equal(r3.revisions.length, 1, 'support 10 >= 8 + 2');
        assert.equal(r3.created[0]!.supersedes, first.id);
        assert.notEqual(r3.created[0]!.id, rev.id);
      });

      it('auto-accept takes a revision as any new suggestion: the old rule is superseded in the same run', async () => {
        const s = await openStore();
        const first = await acceptedAt14(s);
        await writeHistory(s, meetingSlot(14, 14, 58, 2));
        const r = await runInsights(s, { ...opts, autoAcceptConfidence: 0.9 }, day(28));
        assert.deepEqual(r.autoAccepted, r.revisions);
        assert.equal(r.created[0]!.status, 'accepted');
        assert.equal(r.created[0]!.decided_by, 'auto');
        assert.deepEqual(
          (await acceptedRules(s)).map((x) => x.id),
          [`suggestion:${r.revisions[0]}`],
        );
        assert.equal((await listSuggestions(s, { status: 'superseded' }))[0]?.id, first.id);
      });
    });

    it('retention (overrideDays): accepted never pruned; pending by newest evidence; rejected and superseded by decided_at', async () => {
      const s = await openStore();
      const now = 400 * DAY_MS;
      const cutoff = now - 30 * DAY_MS;
      const mk = async (key: string, evidenceTs: number[]): Promise<number> =>
        (await saveCandidates(s, [{ ...holdCandidate(5, evidenceTs), zone: key, patternKey: `${key}|hold` }], 1)).created[0]!.id;
      const pendingOld = await mk('pending-old', [cutoff - 10, cutoff - 1]);
      const pendingAt = await mk('pending-at', [cutoff - 10, cutoff]);
      const acceptedOld = await mk('accepted-old', [1]);
      await decideSuggestion(s, acceptedOld, 'accepted', 'api', 2);
      const rejectedOld = await mk('rejected-old', [now]);
      await decideSuggestion(s, rejectedOld, 'rejected', 'api', cutoff - 1);
      const rejectedNew = await mk('rejected-new', [1]);
      await decideSuggestion(s, rejectedNew, 'rejected', 'api', cutoff);
      // A superseded rule: its revision accepted before the cutoff (supersedes it then); a recent one stays.
      const ruleA = await mk('sup', [1]);
      await decideSuggestion(s, ruleA, 'accepted', 'api', 2);
      const revA = (
        await saveCandidates(s, [], 3, 2, [{ ...holdCandidate(5, [5]), zone: 'sup', patternKey: 'sup|hold', supersedes: ruleA }])
      ).created[0]!.id;
      await decideSuggestion(s, revA, 'accepted', 'api', cutoff - 1);
      const revB = (
        await saveCandidates(s, [], 4, 2, [{ ...holdCandidate(5, [6]), zone: 'sup', patternKey: 'sup|hold', supersedes: revA }])
      ).created[0]!.id;
      await decideSuggestion(s, revB, 'accepted', 'api', cutoff + 1);
      const report = await prune(s, { now });
      assert.equal(report.tables.suggestions.days, 30);
      assert.equal(report.tables.suggestions.cutoff, cutoff);
      assert.equal(report.tables.suggestions.deleted, 3);
      const left = new Map((await listSuggestions(s, { limit: 100 })).map((x) => [x.id, x.status]));
      assert.deepEqual(
        [...left.entries()].sort((a, b) => a[0] - b[0]),
        [
          [pendingAt, 'pending'],
          [acceptedOld, 'accepted'],
          [rejectedNew, 'rejected'],
          [revA, 'superseded'],
          [revB, 'accepted'],
        ].sort((a, b) => (a[0] as number) - (b[0] as number)),
      );
      assert.ok(!left.has(pendingOld) && !left.has(rejectedOld) && !left.has(ruleA));
      const none = await prune(s, { now: now + 1000 * DAY_MS, overrideDays: null });
      assert.equal(none.tables.suggestions.deleted, 0, 'null keeps suggestions too');
    });
  });
