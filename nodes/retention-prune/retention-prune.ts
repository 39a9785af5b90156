/**
 * retention-prune: deletes rows older than each table's retention in small
 * batches (so writers never stall long), on a cron schedule or when a message
 * arrives, and reports what it deleted. Skeleton: holds its configuration and
 * answers every message with an error until the behaviour arrives.
 */
import type { Node, NodeAPI } from 'node-red';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { idleStatus, rejectInputNotImplemented } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

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
  batchRows: number;
  vacuum: boolean;
}

interface RetentionPruneNode extends Node {
  settings: RetentionPruneSettings;
  store: LightingStoreNode | null;
}

export = function (RED: NodeAPI): void {
  function RetentionPrune(this: RetentionPruneNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const days = (name: string, fallback: number): number => read.number(name, fallback, 1, 36500);
    this.settings = {
      schedule: read.text('schedule', '0 0 * * *'),
      timezone: read.text('timezone'),
      rawDays: days('rawDays', 30),
      weatherDays: days('weatherDays', 30),
      featureDays: days('featureDays', 90),
      decisionDays: days('decisionDays', 180),
      telemetryDays: days('telemetryDays', 180),
      overrideDays: days('overrideDays', 30),
      batchRows: read.number('batchRows', 500, 1, 100000, true),
      vacuum: read.bool('vacuum'),
    };
    this.store = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    this.store?.register(this);
    this.status(idleStatus(RED, this, this.store !== null));
    rejectInputNotImplemented(RED, this);

    this.on('close', (removed: boolean, done: () => void) => {
      // No schedule runs yet; the cron job arrives with the retention issue.
      if (this.store) this.store.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('retention-prune', RetentionPrune);
};
