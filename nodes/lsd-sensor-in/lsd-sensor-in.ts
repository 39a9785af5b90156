/**
 * lsd-sensor-in: a DALI-2 light + presence sensor (IEC 62386-303/304) as a
 * source of sensor readings (output 1) and of stale-sensor and wall-panel
 * manual-change alerts (output 2). Skeleton: holds its configuration; reading
 * the bus arrives in a later release.
 */
import type { Node, NodeAPI } from 'node-red';
import { findOwner, type DaliBusNode } from '../shared/owners';
import { idleStatus } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

/** Calibration points [raw, lux], interpolated piecewise linearly. */
type LuxTable = Array<[number, number]>;

interface LsdSensorInSettings {
  sensorAddress: number;
  /** Id put in every reading; blank in the editor means "dali-<address>". */
  sensorId: string;
  zone: string;
  luxScale: number;
  luxOffset: number;
  luxTable: LuxTable | null;
  configureAtStart: boolean;
  /** 0 = events only. */
  pollIntervalS: number;
  staleAfterS: number;
  /** Gear of the zone ("A0-3,G1"), watched for wall-panel manual changes. */
  zoneGear: string;
}

interface LsdSensorInNode extends Node {
  settings: LsdSensorInSettings;
  bus: DaliBusNode | null;
}

/** The lux table as [raw, lux] pairs with raw strictly rising, or null when blank or unusable. */
function parseLuxTable(text: string): LuxTable | null | 'invalid' {
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  if (!Array.isArray(value) || value.length < 2) return 'invalid';
  const table: LuxTable = [];
  for (const point of value as unknown[]) {
    if (!Array.isArray(point) || point.length !== 2) return 'invalid';
    const [raw, lux] = point as unknown[];
    if (typeof raw !== 'number' || typeof lux !== 'number' || !Number.isFinite(raw) || !Number.isFinite(lux)) return 'invalid';
    if (table.length > 0 && raw <= table[table.length - 1][0]) return 'invalid';
    table.push([raw, lux]);
  }
  return table;
}

export = function (RED: NodeAPI): void {
  function LsdSensorIn(this: LsdSensorInNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const sensorAddress = read.number('sensorAddress', 10, 0, 63, true);
    const luxTable = parseLuxTable(read.text('luxTable'));
    if (luxTable === 'invalid') this.warn(RED._('lsd-sensor-in.errors.luxTable'));
    this.settings = {
      sensorAddress,
      sensorId: read.text('sensorId') || `dali-${sensorAddress}`,
      zone: read.text('zone'),
      luxScale: read.number('luxScale', 1, 0, 1e6),
      luxOffset: read.number('luxOffset', 0, -1e6, 1e6),
      luxTable: luxTable === 'invalid' ? null : luxTable,
      configureAtStart: read.bool('configureAtStart', true),
      pollIntervalS: read.number('pollIntervalS', 0, 0, 86400),
      staleAfterS: read.number('staleAfterS', 300, 1, 604800),
      zoneGear: read.text('zoneGear'),
    };
    this.bus = findOwner<DaliBusNode>(RED, config.bus, 'dali-bus');
    this.bus?.register(this);
    this.status(idleStatus(RED, this, this.bus !== null && this.settings.zone !== ''));

    this.on('close', (removed: boolean, done: () => void) => {
      if (this.bus) this.bus.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('lsd-sensor-in', LsdSensorIn);
};
