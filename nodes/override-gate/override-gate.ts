/**
 * override-gate: lets automatic setpoints through unless a manual override
 * holds the zone, the last change was too recent, or the change is inside the
 * deadband; limits the step of what passes. Output 2 reports what it blocked.
 * Skeleton: holds its configuration and answers every message with an error
 * until the behaviour arrives.
 */
import type { Node, NodeAPI } from 'node-red';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { idleStatus, rejectInputNotImplemented } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

interface OverrideGateSettings {
  overrideMinutes: number;
  minIntervalS: number;
  deadbandPct: number;
  maxStepPct: number;
}

interface OverrideGateNode extends Node {
  settings: OverrideGateSettings;
  /** Optional: persists overrides so a restart does not forget them. */
  store: LightingStoreNode | null;
}

export = function (RED: NodeAPI): void {
  function OverrideGate(this: OverrideGateNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    this.settings = {
      overrideMinutes: read.number('overrideMinutes', 30, 0, 10080),
      minIntervalS: read.number('minIntervalS', 60, 0, 86400),
      deadbandPct: read.number('deadbandPct', 5, 0, 100),
      maxStepPct: read.number('maxStepPct', 20, 0.1, 100),
    };
    this.store = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    this.store?.register(this);
    this.status(idleStatus(RED, this, true));
    rejectInputNotImplemented(RED, this);

    this.on('close', (removed: boolean, done: () => void) => {
      if (this.store) this.store.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('override-gate', OverrideGate);
};
