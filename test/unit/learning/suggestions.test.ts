import assert from 'node:assert/strict';
import { LightingStore, MIGRATIONS } from '../../../lib/store';
import {
  acceptedRules,
  answerDecide,
  answerList,
  decideSuggestion,
  listSuggestions,
  runInsights,
  saveCandidates,
} from '../../../lib/insights';
import type { Candidate } from '../../../lib/learning';
import { SEED_MONDAY, seedHistory, writeHistory } from '../../helpers/learning-seed';
import { STORE_ENGINES, storeTargets } from '../../helpers/store-engines';

const DAY = 86_400_000;
const settingsOf = (): { targetLux: number; holdMinutes: number } => ({ targetLux: 300, holdMinutes: 15 });

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
      assert.equal(s.schemaVersion, 5);
      assert.equal((await s.counts()).decisions, 1);
      assert.deepEqual(await listSuggestions(s), []);
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
      const cand = (support: number): Candidate => ({
        zone: 'z',
        kind: 'hold',
        patternKey: 'z|hold',
        summary: `s${support}`,
        supportDays: support,
        confidence: 0.7,
        evidence: [],
        change: { kind: 'hold', holdMinutes: 3, fromMinutes: 15 },
      });
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
  });
