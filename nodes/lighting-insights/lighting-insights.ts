/**
 * lighting-insights: learns from manual overrides. Mines the store's history
 * (lib/learning) on a cron schedule and whenever a message arrives, keeps
 * the suggestions in the store, answers the suggestions API (messages from
 * api-guard with topic `suggestions`, `accept-suggestion`,
 * `reject-suggestion`) and sends the accepted schedule rules (topic
 * `schedule-rules`, the full set) on output 2 to rules-fallback and
 * ai-decide: once the store is open after a deploy or restart, and whenever
 * the set changes (an accept, an auto-accept). So accepted rules reach the
 * controllers without a redeploy.
 */
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { startPruneSchedule, formatLocalMinute, type PruneSchedule } from '../../lib/store/prune-job';
import type { LightingStore } from '../../lib/store';
import { acceptedRules, answerDecide, answerList, countPending, runInsights, type Answer, type InsightsReport } from '../../lib/insights';
import {
  SCHEDULE_RULES_TOPIC,
  validateDecideSuggestion,
  validateSuggestionsQuery,
  type MiningThresholds,
  type ScheduleRule,
} from '../../lib/learning';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { registerSchedulerJob } from '../shared/schedulers';
import { idleStatus, shortText, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { findZones, zoneMapOrNull } from '../shared/zones';
import { messageOf, toError } from '../shared/errors';

interface LightingInsightsSettings {
  /** Cron expression (5 or 6 fields); blank = only when a message arrives. */
  schedule: string;
  timezone: string;
  lookbackDays: number;
  minSupportDays: number;
  minConfidence: number;
  /** Accept new suggestions at or above autoAcceptConfidence (off by default). */
  autoAccept: boolean;
  autoAcceptConfidence: number;
  /** Target lux and hold of zones the zone map gives none for (as the control nodes are set). */
  targetLux: number;
  holdMinutes: number;
}

interface LightingInsightsNode extends Node, OwnerStatusListener {
  settings: LightingInsightsSettings;
  nextRun(): number | null;
}

type Msg = NodeMessage & { res?: unknown; statusCode?: number };
type Send = (msg: Array<NodeMessage | null>) => void;

export = function (RED: NodeAPI): void {
  function LightingInsights(this: LightingInsightsNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`lighting-insights.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    const s: LightingInsightsSettings = {
      schedule: read.text('schedule', '30 2 * * *'),
      timezone: read.text('timezone'),
      lookbackDays: read.number('lookbackDays', 14, 1, 365, true),
      minSupportDays: read.number('minSupportDays', 5, 2, 365, true),
      minConfidence: read.number('minConfidence', 0.6, 0.1, 1),
      autoAccept: read.bool('autoAccept', false),
      autoAcceptConfidence: read.number('autoAcceptConfidence', 0.9, 0.1, 1),
      targetLux: read.number('targetLux', 500, 1, 100000),
      holdMinutes: read.number('holdMinutes', 15, 0, 1440),
    };
    this.settings = s;
    const owner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    const zoneMap = zoneMapOrNull(findZones(RED, config.zones));
    const thresholds: Partial<MiningThresholds> = {
      lookbackDays: s.lookbackDays,
      minSupportDays: s.minSupportDays,
      minConfidence: s.minConfidence,
    };
    const settingsOf = (zone: string): { targetLux: number; holdMinutes: number } => {
      let targetLux = s.targetLux;
      try {
        targetLux = (zoneMap?.has(zone) ? zoneMap.rulesConfig(zone).targetLux : undefined) ?? s.targetLux;
      } catch {
        // an unusable map: the node's own target
      }
      return { targetLux, holdMinutes: s.holdMinutes };
    };

    let closed = false;
    let schedule: PruneSchedule | null = null;
    let lastRun: number | null = null;
    let lastError: string | null = null;
    let unregisterJob = (): void => undefined;
    this.nextRun = () => (closed ? null : (schedule?.nextRun() ?? null));

    const view = new StatusView(this);
    const show = (status: NodeStatus): void => {
      if (!closed) view.show(status, true);
    };
    this.ownerStatus = (status: NodeStatus): void => {
      if (!closed) view.owner(status);
    };
    const showPending = (pending: number): void => {
      const next = this.nextRun();
      const text =
        t('status.pending', { n: pending }) +
        (next !== null ? `; ${t('status.next', { next: formatLocalMinute(next, s.timezone).slice(5) })}` : '');
      show({ fill: pending > 0 ? 'yellow' : 'green', shape: 'dot', text });
    };

    /** One store operation at a time (mining, answers), in arrival order. */
    let chain: Promise<unknown> = Promise.resolve();
    const serial = <T>(task: () => Promise<T>): Promise<T> => {
      const run = chain.then(() => task());
      chain = run.catch(() => undefined);
      return run;
    };
    const store = async (): Promise<LightingStore> => {
      if (owner === null) throw new Error(t('errors.noStore'));
      return owner.getStore();
    };
    const rulesMsg = (rules: ScheduleRule[]): NodeMessage => ({ topic: SCHEDULE_RULES_TOPIC, payload: { rules } });

    const mine = async (): Promise<{ report: InsightsReport; rules: ScheduleRule[] | null }> => {
      const st = await store();
      show({ fill: 'blue', shape: 'ring', text: t('status.mining') });
      try {
        const report = await runInsights(st, {
          thresholds,
          timeZone: s.timezone,
          settingsOf,
          autoAcceptConfidence: s.autoAccept ? s.autoAcceptConfidence : null,
        });
        lastRun = Date.now();
        lastError = null;
        showPending(report.pending);
        return { report, rules: report.autoAccepted.length > 0 ? await acceptedRules(st) : null };
      } catch (err) {
        lastError = messageOf(err);
        show({ fill: 'red', shape: 'ring', text: shortText(lastError) });
        throw err;
      }
    };

    /** The answer of a suggestions API message, or null when the message is a mining request. */
    const apiAnswer = async (msg: Msg): Promise<(Answer & { rules?: ScheduleRule[] }) | null> => {
      const topic = msg.topic;
      if (topic !== 'suggestions' && topic !== 'accept-suggestion' && topic !== 'reject-suggestion') return null;
      const bad = (detail: string): Answer => ({ statusCode: 400, body: { detail } });
      if (topic === 'suggestions') {
        const q = validateSuggestionsQuery(msg.payload);
        if (!q.ok) return bad(q.message);
        return answerList(await store(), q.value);
      }
      const p = (typeof msg.payload === 'object' && msg.payload !== null ? msg.payload : {}) as Record<string, unknown>;
      const r = validateDecideSuggestion(topic === 'accept-suggestion' ? 'accepted' : 'rejected', p.by === undefined ? {} : { by: p.by }, {
        id: p.id,
      });
      if (!r.ok) return bad(r.message);
      const a = await answerDecide(await store(), r.value);
      showPending(await countPending(await store()));
      return a;
    };

    this.status(idleStatus(RED, this, owner !== null));
    if (owner !== null) {
      owner.register(this);
      // Once the store is open: the accepted rules to the controllers, the pending count to the status.
      void serial(async () => {
        const st = await store();
        const rules = await acceptedRules(st);
        if (closed) return;
        this.send([null, rulesMsg(rules)]);
        showPending(await countPending(st));
      }).catch((err: unknown) => {
        if (!closed) this.warn(t('errors.start', { message: messageOf(err) }));
      });
      try {
        schedule = startPruneSchedule(
          s.schedule,
          s.timezone,
          () => {
            serial(mine).then(
              ({ report, rules }) => {
                if (!closed) this.send([{ topic: 'insights', payload: report }, rules ? rulesMsg(rules) : null]);
              },
              (err: unknown) => this.error(t('errors.scheduled', { message: messageOf(err) })),
            );
          },
          (err) => this.error(t('errors.scheduled', { message: err.message })),
        );
      } catch (err) {
        lastError = messageOf(err);
        this.error(lastError);
        show({ fill: 'red', shape: 'ring', text: t('status.scheduleInvalid') });
      }
      if (s.schedule !== '') {
        unregisterJob = registerSchedulerJob(this.id, 'lighting-insights', () => ({
          state: this.nextRun() !== null ? 'running' : 'stopped',
          nextRun: this.nextRun(),
          lastRun,
          lastError,
        }));
      }
    }

    this.on('input', (input, send, done) => {
      const msg = input as Msg;
      const out = send as Send;
      serial(async () => {
        const a = await apiAnswer(msg);
        if (a === null) {
          const { report, rules } = await mine();
          msg.payload = report;
          out([msg, rules ? rulesMsg(rules) : null]);
          return done();
        }
        msg.payload = a.body;
        msg.statusCode = a.statusCode;
        out([msg, a.rules ? rulesMsg(a.rules) : null]);
        if (a.statusCode >= 400) {
          const detail = (a.body as { detail: string }).detail;
          show({ fill: a.statusCode === 400 ? 'red' : 'yellow', shape: 'ring', text: shortText(`${a.statusCode}: ${detail}`) });
          // An HTTP request got its answer; a message without one ends with the error for a catch node.
          return msg.res !== undefined ? done() : done(new Error(detail));
        }
        return done();
      }).catch((err: unknown) => {
        const e = toError(err);
        show({ fill: 'red', shape: 'ring', text: shortText(e.message) });
        if (
          msg.res !== undefined &&
          msg.topic !== undefined &&
          ['suggestions', 'accept-suggestion', 'reject-suggestion'].includes(msg.topic)
        ) {
          msg.payload = { detail: t('errors.unavailable', { message: e.message }) };
          msg.statusCode = 503;
          out([msg, null]);
        }
        done(e);
      });
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      unregisterJob();
      schedule?.stop();
      schedule = null;
      const leave = (): void => (owner ? owner.deregister(this, done, removed) : done());
      chain.then(leave, leave);
    });
  }

  RED.nodes.registerType('lighting-insights', LightingInsights);
};
