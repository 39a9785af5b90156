/**
 * dali-dt8-out: drives DT8 tunable-white gear (a short address, a group or
 * broadcast) from setpoints: DAPC for intensity, SET TEMPORARY COLOUR
 * TEMPERATURE + ACTIVATE for colour. Skeleton: holds its configuration and
 * answers every message with an error until the behaviour arrives.
 */
import type { Node, NodeAPI } from 'node-red';
import { findOwner, type DaliBusNode } from '../shared/owners';
import { idleStatus, rejectInputNotImplemented } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

type DimmingCurve = 'logarithmic' | 'linear';
type TcLimitsFrom = 'config' | 'gear';

interface DaliDt8OutSettings {
  /** Address as typed ("5", "A5", "G0", "BC", "broadcast") or the msg/flow/global/env property holding it. */
  address: string;
  addressType: string;
  fadeMs: number;
  curve: DimmingCurve;
  warmestKelvin: number;
  coolestKelvin: number;
  tcLimitsFrom: TcLimitsFrom;
  verify: boolean;
}

interface DaliDt8OutNode extends Node {
  settings: DaliDt8OutSettings;
  bus: DaliBusNode | null;
}

export = function (RED: NodeAPI): void {
  function DaliDt8Out(this: DaliDt8OutNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const warmestKelvin = read.number('warmestKelvin', 1800, 1000, 20000);
    this.settings = {
      address: read.text('address', 'BC'),
      addressType: read.choice('addressType', ['str', 'msg', 'flow', 'global', 'env'], 'str'),
      fadeMs: read.number('fadeMs', 0, 0, 960000, true),
      curve: read.choice('curve', ['logarithmic', 'linear'], 'logarithmic'),
      warmestKelvin,
      coolestKelvin: read.number('coolestKelvin', 6500, warmestKelvin, 20000),
      tcLimitsFrom: read.choice('tcLimitsFrom', ['config', 'gear'], 'config'),
      verify: read.bool('verify'),
    };
    this.bus = findOwner<DaliBusNode>(RED, config.bus, 'dali-bus');
    this.bus?.register(this);
    this.status(idleStatus(RED, this, this.bus !== null));
    rejectInputNotImplemented(RED, this);

    this.on('close', (removed: boolean, done: () => void) => {
      if (this.bus) this.bus.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('dali-dt8-out', DaliDt8Out);
};
