/**
 * retention-prune: deletes rows older than each table's retention in small
 * batches (so writers never stall long), on a cron schedule (CronJob of the
 * `cron` package) or when a message arrives, and sends a report. A message
 * arriving while a prune runs ends with done(err) (PruneBusyError): it is
 * not queued. The CronJob is stopped and a running prune aborted on close.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';
import {
  formatLocalMinute,
  PruneRunner,
  startPruneSchedule,
  type PruneRunReport,
  type PruneSchedule,
  type PruneTrigger,
} from '../../lib/store/prune-job';
import { PruneBusyError } from '../../lib/store/retention';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { registerSchedulerJob } from '../shared/schedulers';
import { idleStatus, shortText, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { toError } from '../shared/errors';

interface RetentionPruneSettings {
  /** Cron expression (5 or 6 fields); blank = only when a message arrives. */
  schedule: string;
  /** IANA time zone of the schedule; blank = the system's. */
  timezone: string;
  rawDays: number;
  weatherDays: number;
  featureDays: number;
  decisionDays: number;
  telemetryDays: number;
  overrideDays: number;
  alertDays: number;
  batchRows: number;
  vacuum: boolean;
}

interface RetentionPruneNode extends Node, OwnerStatusListener {
  settings: RetentionPruneSettings;
  store: LightingStoreNode | null;
  /** The running CronJob's next run (epoch ms), or null (no schedule, invalid, or closed). */
  nextRun(): number | null;
}

export = function (RED: NodeAPI): void {
  function RetentionPrune(this: RetentionPruneNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`retention-prune.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    const days = (name: string, fallback: number): number => read.number(name, fallback, 1, 36500);
    const s: RetentionPruneSettings = {
      schedule: read.text('schedule', '0 0 * * *'),
      timezone: read.text('timezone'),
      rawDays: days('rawDays', 30),
      weatherDays: days('weatherDays', 30),
      featureDays: days('featureDays', 90),
      decisionDays: days('decisionDays', 180),
      telemetryDays: days('telemetryDays', 180),
      overrideDays: days('overrideDays', 30),
      alertDays: days('alertDays', 180),
      batchRows: read.number('batchRows', 500, 1, 100000, true),
      vacuum: read.bool('vacuum'),
    };
    this.settings = s;
    const owner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    this.store = owner;
    const runner = new PruneRunner({
      rawDays: s.rawDays,
      weatherDays: s.weatherDays,
      featureDays: s.featureDays,
      decisionDays: s.decisionDays,
      telemetryDays: s.telemetryDays,
      overrideDays: s.overrideDays,
      alertDays: s.alertDays,
      batchRows: s.batchRows,
      vacuum: s.vacuum,
    });
    let schedule: PruneSchedule | null = null;
    let closed = false;
    /** A prune of this node is starting or running (set before the store is awaited). */
    let active = false;
    /** For the health report (../shared/schedulers): end of the last prune and its error. */
    let lastRun: number | null = null;
    let lastError: string | null = null;
    let unregisterJob = (): void => undefined;
    this.nextRun = () => (closed ? null : (schedule?.nextRun() ?? null));

    let scheduleError = false;
    const next = (): string => {
      if (scheduleError) return t('status.scheduleInvalid');
      const at = this.nextRun();
      return at === null ? t('status.onInputOnly') : t('status.next', { next: formatLocalMinute(at, s.timezone) });
    };
    /** The node's own status (sticky): the store's "connected" gives way to it, the store's errors do not. */
    const view = new StatusView(this);
    const show = (status: NodeStatus): void => {
      if (!closed) view.show(status, true);
    };
    this.ownerStatus = (status: NodeStatus): void => {
      if (!closed) view.owner(status);
    };

    const run = async (trigger: PruneTrigger): Promise<PruneRunReport> => {
      if (owner === null) throw new Error(t('errors.noStore'));
      if (active) throw new PruneBusyError(t('errors.busy'));
      active = true;
      try {
        const store = await owner.getStore();
        show({ fill: 'blue', shape: 'ring', text: t('status.pruning') });
        const report = await runner.run(store, trigger);
        lastRun = Date.now();
        lastError = null;
        const time = formatLocalMinute(Date.now(), s.timezone).slice(11);
        const text = t('status.done', { total: report.total, time, next: next() });
        show(scheduleError ? { fill: 'red', shape: 'ring', text } : { fill: 'green', shape: 'dot', text });
        return report;
      } catch (err) {
        if (!(err instanceof PruneBusyError)) {
          lastError = (err as Error).message;
          show({ fill: 'red', shape: 'ring', text: shortText((err as Error).message) });
        }
        throw err;
      } finally {
        active = false;
      }
    };

    this.status(idleStatus(RED, this, owner !== null));
    if (owner !== null) {
      owner.register(this);
      try {
        schedule = startPruneSchedule(
          s.schedule,
          s.timezone,
          () => {
            run('schedule').then(
              (report) => this.send({ topic: 'retention-prune', payload: report }),
              (err: unknown) => {
                const message = (err as Error).message;
                if (err instanceof PruneBusyError) this.warn(t('errors.skipped', { message }));
                else this.error(t('errors.scheduled', { message }));
              },
            );
          },
          (err) => this.error(t('errors.scheduled', { message: err.message })),
        );
        show({ fill: 'grey', shape: 'dot', text: next() });
      } catch (err) {
        scheduleError = true;
        lastError = (err as Error).message;
        this.error((err as Error).message);
        show({ fill: 'red', shape: 'ring', text: shortText((err as Error).message) });
      }
      // Scheduled (or meant to be: an invalid schedule reports "stopped"); blank = on input only, nothing scheduled.
      if (s.schedule !== '') {
        unregisterJob = registerSchedulerJob(this.id, 'retention-prune', () => ({
          state: this.nextRun() !== null ? 'running' : 'stopped',
          nextRun: this.nextRun(),
          lastRun,
          lastError,
        }));
      }
    }

    this.on('input', (msg, send, done) => {
      run('msg').then(
        (report) => {
          msg.payload = report;
          send(msg);
          done();
        },
        (err: unknown) => done(toError(err)),
      );
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      unregisterJob();
      schedule?.stop();
      schedule = null;
      const leave = (): void => (owner ? owner.deregister(this, done, removed) : done());
      runner.abort().then(leave, leave);
    });
  }

  RED.nodes.registerType('retention-prune', RetentionPrune);
};
