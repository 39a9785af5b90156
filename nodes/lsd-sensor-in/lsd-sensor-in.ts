/**
 * lsd-sensor-in: a DALI-2 light + presence sensor (IEC 62386-303/304) as a
 * source of sensor readings (output 1) and of stale-sensor and wall-panel
 * manual-change alerts (output 2). The work is done by lib/dali/sensor-input.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';
import { parseGearList, type GearList } from '../../lib/dali/address-spec';
import type { SensorReading } from '../../lib/contracts';
import { SensorInput, type ReadingDetail, type SensorAlert, type SensorState } from '../../lib/dali/sensor-input';
import { parseLuxTable } from '../../lib/dali/sensor-readings';
import { findOwner, type DaliBusNode } from '../shared/owners';
import { idleStatus, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { findZones } from '../shared/zones';

/** Calibration points [raw, lux], interpolated piecewise linearly. */
type LuxTable = Array<[number, number]>;
type EventSchemeSetting = 'deviceInstance' | 'device';

interface LsdSensorInSettings {
  sensorAddress: number;
  /** Id put in every reading; blank in the editor means "dali-<address>". */
  sensorId: string;
  zone: string;
  luxScale: number;
  luxOffset: number;
  luxTable: LuxTable | null;
  configureAtStart: boolean;
  /** Event scheme set by configureAtStart. */
  eventScheme: EventSchemeSetting;
  /** 0 = events only. */
  pollIntervalS: number;
  staleAfterS: number;
  /** Gear of the zone ("A0-3,G1"), watched for wall-panel manual changes. */
  zoneGear: string;
}

interface LsdSensorInNode extends Node, OwnerStatusListener {
  settings: LsdSensorInSettings;
  bus: DaliBusNode | null;
}

export = function (RED: NodeAPI): void {
  function LsdSensorIn(this: LsdSensorInNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const sensorAddress = read.number('sensorAddress', 10, 0, 63, true);
    let luxTable: LuxTable | null = null;
    try {
      luxTable = parseLuxTable(read.text('luxTable')) as LuxTable | null;
    } catch {
      this.warn(RED._('lsd-sensor-in.errors.luxTable'));
    }
    this.settings = {
      sensorAddress,
      sensorId: read.text('sensorId') || `dali-${sensorAddress}`,
      zone: read.text('zone'),
      luxScale: read.number('luxScale', 1, 0, 1e6),
      luxOffset: read.number('luxOffset', 0, -1e6, 1e6),
      luxTable,
      configureAtStart: read.bool('configureAtStart', true),
      eventScheme: read.choice<EventSchemeSetting>('eventScheme', ['deviceInstance', 'device'], 'deviceInstance'),
      pollIntervalS: read.number('pollIntervalS', 0, 0, 86400),
      staleAfterS: read.number('staleAfterS', 300, 1, 604800),
      zoneGear: read.text('zoneGear'),
    };
    const s = this.settings;
    let zoneGear: GearList = { shorts: [], groups: [] };
    try {
      zoneGear = parseGearList(s.zoneGear);
    } catch {
      this.warn(RED._('lsd-sensor-in.errors.invalidSetting', { name: 'zoneGear', value: s.zoneGear, fallback: '-' }));
    }
    const zones = findZones(RED, config.zones);
    if (zones) {
      // The map decides the zone and its gear; a sensor it does not list (or lists in several zones) sends nothing.
      try {
        const map = zones.map();
        let listed = map.zonesOfDevice(sensorAddress);
        // A map that lists no sensors for this device: the node's own zone, if the map has it.
        if (listed.length === 0 && s.zone !== '' && map.has(s.zone)) listed = [s.zone];
        if (listed.length !== 1) {
          this.error(
            RED._(listed.length === 0 ? 'lsd-sensor-in.errors.notInZoneMap' : 'lsd-sensor-in.errors.severalZones', {
              address: sensorAddress,
              zones: listed.join(', '),
            }),
          );
          s.zone = '';
        } else {
          s.zone = listed[0] as string;
          zoneGear = map.get(s.zone)?.gear ?? zoneGear;
        }
      } catch (err) {
        this.error(RED._('lsd-sensor-in.errors.zoneMap', { message: err instanceof Error ? err.message : String(err) }));
        s.zone = '';
      }
    }
    const owner = findOwner<DaliBusNode>(RED, config.bus, 'dali-bus');
    this.bus = owner;
    const view = new StatusView(this);
    this.ownerStatus = (status: NodeStatus) => view.owner(status);
    let input: SensorInput | null = null;
    if (owner && s.zone !== '') {
      input = new SensorInput(owner.session, {
        sensorAddress,
        sensorId: s.sensorId,
        zone: s.zone,
        calibration: s.luxTable ? { kind: 'table', points: s.luxTable } : { kind: 'linear', scale: s.luxScale, offset: s.luxOffset },
        configureAtStart: s.configureAtStart,
        eventScheme: s.eventScheme,
        pollIntervalS: s.pollIntervalS,
        staleAfterS: s.staleAfterS,
        zoneGear,
      });
      input.on('reading', (reading: SensorReading, detail: ReadingDetail) => {
        this.send([{ topic: s.zone, payload: reading, dali: detail }, null]);
      });
      let stale: number | null = null;
      let silent = false;
      const refresh = (): void => {
        if (silent)
          view.show({ fill: 'yellow', shape: 'ring', text: RED._('lsd-sensor-in.status.notAnswering', { address: sensorAddress }) }, true);
        else if (stale !== null)
          view.show({ fill: 'yellow', shape: 'ring', text: RED._('lsd-sensor-in.status.stale', { seconds: stale }) }, true);
        else view.clear();
      };
      input.on('alert', (alert: SensorAlert) => {
        if (alert.kind === 'stale' || alert.kind === 'recovered') {
          stale = alert.kind === 'stale' ? Math.round(alert.silentS) : null;
          refresh();
        }
        this.send([null, { topic: alert.kind, payload: alert }]);
      });
      input.on('sensor', (state: SensorState) => {
        const nowSilent = state.state === 'notAnswering';
        if (nowSilent && !silent)
          this.warn(RED._('lsd-sensor-in.errors.notAnswering', { address: sensorAddress, detail: state.detail ?? '-' }));
        silent = nowSilent;
        refresh();
      });
      owner.register(this);
      input.start();
    } else {
      this.status(idleStatus(RED, this, false));
    }

    this.on('close', (removed: boolean, done: () => void) => {
      input?.stop();
      if (input && owner) owner.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('lsd-sensor-in', LsdSensorIn);
};
