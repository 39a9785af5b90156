/**
 * lighting-store (config node): the SQLite database of sensor events, feature
 * windows, decisions, telemetry and overrides. It will own the one connection;
 * child nodes register with it.
 */
import * as path from 'path';
import type { NodeAPI } from 'node-red';
import { createUserRegistry, type LightingStoreNode } from '../shared/owners';
import { SettingsReader, type NodeConfig } from '../shared/settings';

const DEFAULT_FILE = 'smart-lighting.db';

export = function (RED: NodeAPI): void {
  function LightingStore(this: LightingStoreNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const userDir = typeof RED.settings.userDir === 'string' && RED.settings.userDir !== '' ? RED.settings.userDir : process.cwd();
    const file = read.text('path');
    this.settings = {
      path: file === '' ? path.join(userDir, DEFAULT_FILE) : path.resolve(userDir, file),
      flushIntervalMs: read.number('flushIntervalMs', 200, 10, 60000, true),
      flushMaxRows: read.number('flushMaxRows', 500, 1, 100000, true),
      busyTimeoutMs: read.number('busyTimeoutMs', 5000, 0, 600000, true),
    };
    Object.assign(this, createUserRegistry());

    this.on('close', (_removed: boolean, done: () => void) => {
      // The SQLite connection arrives with the store issue; nothing is open yet.
      done();
    });
  }

  RED.nodes.registerType('lighting-store', LightingStore);
};
