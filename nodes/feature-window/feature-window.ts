/**
 * feature-window: turns sensor readings (and weather updates) into one
 * feature window per zone every `windowMinutes` (mean/min/max/std lux,
 * presence ratio, transitions). Skeleton: holds its configuration and answers
 * every message with an error until the behaviour arrives.
 */
import type { Node, NodeAPI } from 'node-red';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { idleStatus, rejectInputNotImplemented } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

interface FeatureWindowSettings {
  windowMinutes: number;
  keepWindows: number;
  /** How long after a window ends late readings are still accepted into it. */
  graceS: number;
}

interface FeatureWindowNode extends Node {
  settings: FeatureWindowSettings;
  store: LightingStoreNode | null;
}

export = function (RED: NodeAPI): void {
  function FeatureWindow(this: FeatureWindowNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    this.settings = {
      windowMinutes: read.number('windowMinutes', 5, 1, 1440, true),
      keepWindows: read.number('keepWindows', 3, 1, 1000, true),
      graceS: read.number('graceS', 60, 0, 3600, true),
    };
    this.store = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    this.store?.register(this);
    this.status(idleStatus(RED, this, this.store !== null));
    rejectInputNotImplemented(RED, this);

    this.on('close', (removed: boolean, done: () => void) => {
      if (this.store) this.store.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('feature-window', FeatureWindow);
};
