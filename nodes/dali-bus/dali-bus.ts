/**
 * dali-bus (config node): one DALI bus behind one interface (LUBA or SCI2
 * serial, Tridonic USB hidraw, or the built-in simulator). It will own the
 * interface and the bus scheduler; child nodes register with it.
 */
import type { NodeAPI } from 'node-red';
import type { InterfaceKind } from '../../lib/dali/types';
import { createUserRegistry, type DaliBusNode, type SimScenario } from '../shared/owners';
import { SettingsReader, type NodeConfig } from '../shared/settings';

const INTERFACES: readonly InterfaceKind[] = ['luba', 'sci2', 'hidraw', 'simulator'];
const SCENARIOS: readonly SimScenario[] = ['office', 'corridor', 'static'];

export = function (RED: NodeAPI): void {
  function DaliBus(this: DaliBusNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const interfaceType = read.choice('interfaceType', INTERFACES, 'simulator');
    const reconnectMinMs = read.number('reconnectMinMs', 250, 10, 600000, true);
    this.settings = {
      interfaceType,
      port: interfaceType === 'simulator' ? '' : read.text('port'),
      reconnectMinMs,
      reconnectMaxMs: Math.max(reconnectMinMs, read.number('reconnectMaxMs', 10000, 10, 3600000, true)),
      simGear: read.text('simGear', '0-3'),
      simGroups: read.text('simGroups', '0:0-3'),
      simSensor: read.optionalNumber('simSensor', 0, 63, true),
      simScenario: read.choice('simScenario', SCENARIOS, 'office'),
      simSpeed: read.number('simSpeed', 1, 1, 3600),
    };
    if (interfaceType !== 'simulator' && this.settings.port === '') {
      this.warn(RED._('dali-bus.errors.portMissing', { interfaceType }));
    }
    Object.assign(this, createUserRegistry());

    this.on('close', (_removed: boolean, done: () => void) => {
      // The interface and scheduler arrive with the bus issue; nothing is open yet.
      done();
    });
  }

  RED.nodes.registerType('dali-bus', DaliBus);
};
