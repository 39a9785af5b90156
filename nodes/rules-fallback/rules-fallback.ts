/**
 * rules-fallback: the deterministic controller. From a feature window it
 * decides intensity (daylight harvesting with deadband and step limit,
 * occupancy hold, absence floor, vacancy off) and colour (circadian by clock
 * or sun). Skeleton: holds its configuration and answers every message with an
 * error until the behaviour arrives.
 */
import type { Node, NodeAPI } from 'node-red';
import { idleStatus, rejectInputNotImplemented } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

type CircadianSource = 'clock' | 'sun';

interface RulesFallbackSettings {
  targetLux: number;
  deadbandPct: number;
  maxStepPct: number;
  occupiedFloorPct: number;
  absenceLevelPct: number;
  holdMinutes: number;
  vacancyOffMinutes: number;
  neverOff: boolean;
  circadian: CircadianSource;
  latitude: number | null;
  longitude: number | null;
  warmestKelvin: number;
  coolestKelvin: number;
  minKelvin: number;
  maxKelvin: number;
  fadeDownMs: number;
}

interface RulesFallbackNode extends Node {
  settings: RulesFallbackSettings;
}

export = function (RED: NodeAPI): void {
  function RulesFallback(this: RulesFallbackNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const minKelvin = read.number('minKelvin', 1800, 1000, 20000);
    const maxKelvin = read.number('maxKelvin', 6500, minKelvin, 20000);
    const warmestKelvin = read.number('warmestKelvin', 2700, minKelvin, maxKelvin);
    const circadian = read.choice<CircadianSource>('circadian', ['clock', 'sun'], 'clock');
    this.settings = {
      targetLux: read.number('targetLux', 500, 0, 100000),
      deadbandPct: read.number('deadbandPct', 10, 0, 100),
      maxStepPct: read.number('maxStepPct', 10, 0.1, 100),
      occupiedFloorPct: read.number('occupiedFloorPct', 10, 0, 100),
      absenceLevelPct: read.number('absenceLevelPct', 10, 0, 100),
      holdMinutes: read.number('holdMinutes', 15, 0, 1440),
      vacancyOffMinutes: read.number('vacancyOffMinutes', 20, 0, 1440),
      neverOff: read.bool('neverOff'),
      circadian,
      latitude: read.optionalNumber('latitude', -90, 90),
      longitude: read.optionalNumber('longitude', -180, 180),
      warmestKelvin,
      coolestKelvin: read.number('coolestKelvin', 5000, warmestKelvin, maxKelvin),
      minKelvin,
      maxKelvin,
      fadeDownMs: read.number('fadeDownMs', 30000, 0, 960000, true),
    };
    const sunReady = circadian === 'clock' || (this.settings.latitude !== null && this.settings.longitude !== null);
    if (!sunReady) this.warn(RED._('rules-fallback.errors.sunNeedsPosition'));
    this.status(idleStatus(RED, this, sunReady));
    rejectInputNotImplemented(RED, this);

    this.on('close', (_removed: boolean, done: () => void) => {
      // No timers yet; hold and vacancy timers arrive with the rules issue.
      done();
    });
  }

  RED.nodes.registerType('rules-fallback', RulesFallback);
};
