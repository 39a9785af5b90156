/**
 * dali-bus (config node): one DALI bus behind one interface (LUBA or SCI2
 * serial, Tridonic USB hidraw, or the built-in simulator). It owns the
 * interface and the DaliBus (lib/dali/bus-session): child nodes register,
 * the first one opens the interface, the last one to leave (removed) or the
 * config node's own close closes it, and `done` waits for the device to be
 * released. Connection and queue status is fanned out to every child.
 *
 * Simulator settings: simGear, simGroups, simSensor + simScenario (one
 * sensor), simSensors (several, `10:office; 11:meeting; 12:corridor`; not
 * blank: replaces simSensor), simSpeed. simScenario "building" is the demo
 * building of lib/dali/sim/building.ts (gear 0-7 in groups 0-2, sensors
 * 10-12): it replaces the gear, groups and sensor settings.
 *
 * Admin endpoint: GET /dali-bus/ports (permission dali-bus.read) lists
 * serial and hidraw devices: { ports: [{ path, kind, manufacturer?, ... }],
 * reason? } - reason says why the list may be incomplete.
 */
import type { NodeAPI, NodeStatus } from 'node-red';
import { parseShortList } from '../../lib/dali/address-spec';
import { BusSession, type BusStatus } from '../../lib/dali/bus-session';
import { listSerialPorts } from '../../lib/dali/interfaces';
import {
  parseSimGroups,
  parseSimSensors,
  parseUseMockDali,
  SIM_SCENARIO_NAMES,
  type SimSensorSpec,
  type SimulationSpec,
} from '../../lib/dali/sim-config';
import { demoBuildingSpec } from '../../lib/dali/sim/building';
import { claimDemoClock, demoClockFromEnv, releaseDemoClock, type DemoClock } from '../../lib/features/demo-clock';
import type { InterfaceKind } from '../../lib/dali/types';
import { createUserRegistry, type DaliBusNode, type DaliBusSettings, type SimScenario } from '../shared/owners';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { fanOutStatus, showOwnerStatus } from '../shared/status';

const INTERFACES: readonly InterfaceKind[] = ['luba', 'sci2', 'hidraw', 'simulator'];
const SCENARIOS: readonly SimScenario[] = [...SIM_SCENARIO_NAMES, 'building'];

export = function (RED: NodeAPI): void {
  RED.httpAdmin.get('/dali-bus/ports', RED.auth.needsPermission('dali-bus.read'), (_req, res) => {
    listSerialPorts().then(
      (listing) => res.json(listing),
      (err: unknown) => res.json({ ports: [], reason: err instanceof Error ? err.message : String(err) }),
    );
  });

  function nodeStatus(s: BusStatus): NodeStatus {
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`dali-bus.status.${key}`, subs);
    switch (s.kind) {
      case 'connecting':
        return { fill: 'yellow', shape: 'ring', text: t('connecting') };
      case 'connected':
        return { fill: 'green', shape: 'dot', text: t('connected') };
      case 'busy':
        return { fill: 'yellow', shape: 'dot', text: t('busy', { n: s.queued ?? 0 }) };
      case 'disconnected':
        return { fill: 'red', shape: 'ring', text: t('disconnected') };
      case 'portInUse':
        return { fill: 'red', shape: 'dot', text: s.holder !== undefined ? t('portInUseBy', { holder: s.holder }) : t('portInUse') };
      case 'error':
        return { fill: 'red', shape: 'dot', text: t('error', { detail: s.detail ?? '' }) };
      case 'closed':
        return { fill: 'grey', shape: 'ring', text: t('closed') };
    }
  }

  function simulationSpec(node: DaliBusNode, s: DaliBusSettings, demo: DemoClock | null): SimulationSpec {
    const spec = simulationSettings(node, s);
    // On a demo clock the scenario starts at its time of day and runs at its speed.
    return demo ? { ...spec, speed: demo.spec.speed, minuteNow: () => demo.minuteAt(Date.now()) } : spec;
  }

  function simulationSettings(node: DaliBusNode, s: DaliBusSettings): SimulationSpec {
    if (s.simScenario === 'building') return demoBuildingSpec({ speed: s.simSpeed });
    let gear: number[];
    try {
      gear = parseShortList(s.simGear);
    } catch {
      node.warn(RED._('dali-bus.errors.invalidSetting', { name: 'simGear', value: s.simGear, fallback: '0-3' }));
      gear = [0, 1, 2, 3];
    }
    let groups: Map<number, number[]>;
    try {
      groups = parseSimGroups(s.simGroups, gear);
    } catch {
      node.warn(RED._('dali-bus.errors.invalidSetting', { name: 'simGroups', value: s.simGroups, fallback: '-' }));
      groups = new Map();
    }
    let sensors: SimSensorSpec[] = [];
    try {
      sensors = parseSimSensors(s.simSensors);
    } catch {
      node.warn(
        RED._('dali-bus.errors.invalidSetting', {
          name: 'simSensors',
          value: s.simSensors,
          fallback: RED._('dali-bus.label.simSensorsFallback'),
        }),
      );
    }
    return { gear, groups, sensor: s.simSensor, scenario: s.simScenario, speed: s.simSpeed, sensors };
  }

  function DaliBus(this: DaliBusNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const configured = read.choice('interfaceType', INTERFACES, 'simulator');
    // The Python service's USE_MOCK_DALI=true: the simulator stands in for the configured interface.
    const mock = parseUseMockDali(process.env.USE_MOCK_DALI);
    if (mock === null)
      this.warn(
        RED._('dali-bus.errors.invalidSetting', { name: 'USE_MOCK_DALI', value: process.env.USE_MOCK_DALI ?? '', fallback: 'false' }),
      );
    const interfaceType: InterfaceKind = mock === true ? 'simulator' : configured;
    if (mock === true && configured !== 'simulator') this.log(RED._('dali-bus.log.mock', { interfaceType: configured }));
    const reconnectMinMs = read.number('reconnectMinMs', 250, 10, 600000, true);
    const settings: DaliBusSettings = {
      interfaceType,
      port: interfaceType === 'simulator' ? '' : read.text('port'),
      reconnectMinMs,
      reconnectMaxMs: Math.max(reconnectMinMs, read.number('reconnectMaxMs', 10000, 10, 3600000, true)),
      simGear: read.text('simGear', '0-3'),
      simGroups: read.text('simGroups', '0:0-3'),
      simSensor: read.optionalNumber('simSensor', 0, 63, true),
      simScenario: read.choice('simScenario', SCENARIOS, 'office'),
      simSensors: read.text('simSensors', ''),
      simSpeed: read.number('simSpeed', 1, 1, 3600),
    };
    this.settings = settings;
    const s = settings;
    if (interfaceType !== 'simulator' && s.port === '') {
      this.warn(RED._('dali-bus.errors.portMissing', { interfaceType }));
    }
    const label = this.name || (interfaceType === 'simulator' ? RED._('dali-bus.label.defaultSimulator') : `${interfaceType} ${s.port}`);
    // DEMO_CLOCK: only a simulated bus runs on it; a real interface ignores it and
    // switches it off for the whole runtime (lib/features/demo-clock).
    let demo: DemoClock | null = null;
    try {
      demo = demoClockFromEnv();
    } catch (err) {
      this.warn(RED._('dali-bus.errors.demoClock', { detail: err instanceof Error ? err.message : String(err) }));
    }
    if (interfaceType === 'simulator') {
      claimDemoClock(this.id, 'simulator', demo);
      if (demo) this.log(RED._('dali-bus.log.demoClock', { clock: demo.label(Date.now()), speed: demo.spec.speed }));
    } else {
      claimDemoClock(this.id, 'real', null);
      if (demo) this.warn(RED._('dali-bus.log.demoClockIgnored', { interfaceType }));
      demo = null;
    }
    const session = new BusSession({
      owner: this.id,
      label,
      interface: { type: interfaceType, path: s.port, reconnect: { minMs: s.reconnectMinMs, maxMs: s.reconnectMaxMs } },
      ...(interfaceType === 'simulator' ? { simulation: simulationSpec(this, s, demo) } : {}),
    });
    this.session = session;
    Object.assign(
      this,
      createUserRegistry({
        onRegister: (user) => {
          session.acquire(user.id);
          showOwnerStatus(user, nodeStatus(session.status));
        },
        onDeregister: (user, removed) => session.release(user.id, removed),
      }),
    );

    let up = false;
    session.on('status', (status: BusStatus) => {
      fanOutStatus(this.users, nodeStatus(status));
      const wasUp = up;
      up = status.kind === 'connected' || status.kind === 'busy';
      const where = status.detail ?? s.port;
      if (up) {
        if (!wasUp) this.log(RED._('dali-bus.log.connected', { where: s.port || label }));
      } else if (status.kind === 'disconnected' || status.kind === 'error')
        this.warn(RED._('dali-bus.log.lost', { detail: where || label }));
      else if (status.kind === 'portInUse')
        this.warn(RED._('dali-bus.log.portInUse', { port: s.port, holder: status.holder ?? status.detail ?? '' }));
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      releaseDemoClock(this.id);
      session.close().then(done, done);
    });
  }

  RED.nodes.registerType('dali-bus', DaliBus);
};
