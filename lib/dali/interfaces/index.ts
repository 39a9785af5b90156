/**
 * Interface factory and device listing.
 *
 * `createInterface(config)` builds the DaliInterface the `dali-bus` config
 * node owns: LUBA or SCI2 on a serial port, the Tridonic DALI USB on hidraw,
 * or the in-process simulator. Nothing is opened here: the owner calls
 * open() and listens to 'state'.
 *
 * `listSerialPorts()` never throws: where udev is missing (containers,
 * minimal images) SerialPort.list() fails, and we fall back to the device
 * nodes in /dev and /sys, and say why in `reason`.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { EventScheme, type DaliInterface, type InterfaceKind } from '../types';
import { HidrawInterface, TRIDONIC_USB_PRODUCT_ID, TRIDONIC_USB_VENDOR_ID } from './hidraw';
import { LUBA_BAUD_RATE, LubaInterface } from './luba';
import { SCI2_BAUD_RATE, Sci2Interface } from './sci2';
import type { ReconnectOptions } from './reconnecting-transport';
import type { SerialPortFactory } from './serial-transport';
import { SimulatorInterface, type SimulatorInterfaceOptions } from './simulator';
import { VirtualBus } from '../sim/virtual-bus';

export { HidrawInterface } from './hidraw';
export { TridonicDeviceEmulator } from './tridonic-emulator';
export { HidrawTransport } from './hidraw-transport';
export { LubaInterface } from './luba';
export { LubaDeviceEmulator } from './luba-emulator';
export { Sci2Interface } from './sci2';
export { Sci2DeviceEmulator } from './sci2-emulator';
export { DEFAULT_RECONNECT, type ByteTransport, type ReconnectOptions } from './reconnecting-transport';
export { SerialTransport } from './serial-transport';
export type { EmulatedBus } from './device-emulator';
export { SimulatorInterface, type SimulatorInterfaceOptions } from './simulator';

export interface SimulatorConfig extends SimulatorInterfaceOptions {
  /** The bus to serve; default: a new VirtualBus with `gear` and `sensor` below. */
  readonly bus?: VirtualBus;
  /** Short addresses of DT8 gear on the default bus (default 0..3, all in group 0). */
  readonly gear?: readonly number[];
  /** Groups of that gear (default [0]). */
  readonly groups?: readonly number[];
  /** Short address of a DALI-2 light + presence sensor on the default bus (default 10; null = none). */
  readonly sensor?: number | null;
}

export interface InterfaceConfig {
  readonly type: InterfaceKind;
  /** Serial device (/dev/ttyACM0, /dev/ttyUSB0) or hidraw device (/dev/hidraw0). */
  readonly path?: string;
  /** Serial speed; default 38400 for both LUBA and SCI2. */
  readonly baudRate?: number;
  /** Reconnect backoff (default 250 ms doubling to 10 s). */
  readonly reconnect?: Partial<ReconnectOptions>;
  /** Reject open() on the first failure instead of retrying (command-line tools). */
  readonly failFast?: boolean;
  /** How long silence after a query means NO (LUBA/SCI2 default 50 ms, hidraw 100 ms). */
  readonly answerTimeoutMs?: number;
  readonly simulator?: SimulatorConfig;
  /** Tests: replace `new SerialPort(...)`. */
  readonly portFactory?: SerialPortFactory;
}

export class InterfaceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterfaceConfigError';
  }
}

/** A VirtualBus with DT8 gear (default 0..3 in group 0) and an optional DALI-2 light + presence sensor (default short 10). */
export function createDefaultSimulatedBus(cfg: Pick<SimulatorConfig, 'gear' | 'groups' | 'sensor'> = {}): VirtualBus {
  const bus = new VirtualBus();
  const gear = cfg.gear ?? [0, 1, 2, 3];
  const groups = cfg.groups ?? [0];
  for (const a of gear) bus.addGear({ shortAddress: a, groups, deviceTypes: [8] });
  const sensor = cfg.sensor === undefined ? 10 : cfg.sensor;
  // Commissioned out of the box (instances enabled, device/instance event scheme) so its events name it.
  if (sensor !== null) bus.addSensor({ shortAddress: sensor, instancesEnabled: true, eventScheme: EventScheme.DeviceInstance });
  return bus;
}

function requirePath(cfg: InterfaceConfig): string {
  const p = typeof cfg.path === 'string' ? cfg.path.trim() : '';
  if (!p)
    throw new InterfaceConfigError(
      `interface type '${cfg.type}' needs a device path (e.g. ${cfg.type === 'hidraw' ? '/dev/hidraw0' : '/dev/ttyACM0'})`,
    );
  return p;
}

/** Builds (does not open) the interface described by `cfg`. Throws InterfaceConfigError on a bad configuration. */
export function createInterface(cfg: InterfaceConfig): DaliInterface {
  if (cfg === null || typeof cfg !== 'object') throw new InterfaceConfigError('interface configuration missing');
  if (cfg.baudRate !== undefined && (!Number.isInteger(cfg.baudRate) || cfg.baudRate <= 0)) {
    throw new InterfaceConfigError(`invalid baud rate ${String(cfg.baudRate)}`);
  }
  switch (cfg.type) {
    case 'luba':
      return new LubaInterface({
        path: requirePath(cfg),
        baudRate: cfg.baudRate ?? LUBA_BAUD_RATE,
        reconnect: cfg.reconnect,
        failFast: cfg.failFast,
        answerTimeoutMs: cfg.answerTimeoutMs,
        portFactory: cfg.portFactory,
      });
    case 'sci2':
      return new Sci2Interface({
        path: requirePath(cfg),
        baudRate: cfg.baudRate ?? SCI2_BAUD_RATE,
        reconnect: cfg.reconnect,
        failFast: cfg.failFast,
        answerTimeoutMs: cfg.answerTimeoutMs,
        portFactory: cfg.portFactory,
      });
    case 'hidraw':
      return new HidrawInterface({
        path: requirePath(cfg),
        reconnect: cfg.reconnect,
        failFast: cfg.failFast,
        answerTimeoutMs: cfg.answerTimeoutMs,
      });
    case 'simulator': {
      const sim = cfg.simulator ?? {};
      const bus = sim.bus ?? createDefaultSimulatedBus(sim);
      const opts: SimulatorInterfaceOptions = {
        ...(sim.timeScale !== undefined ? { timeScale: sim.timeScale } : {}),
        ...(sim.clock !== undefined ? { clock: sim.clock } : {}),
        ...(sim.estimate !== undefined ? { estimate: sim.estimate } : {}),
      };
      return new SimulatorInterface(bus, opts);
    }
    default:
      throw new InterfaceConfigError(
        `unknown interface type '${String((cfg as { type?: unknown }).type)}' (use luba, sci2, hidraw or simulator)`,
      );
  }
}

export interface PortEntry {
  readonly path: string;
  readonly kind: 'serial' | 'hidraw';
  readonly manufacturer?: string;
  readonly serialNumber?: string;
  readonly vendorId?: string;
  readonly productId?: string;
  readonly pnpId?: string;
  /** Interface type this device most likely needs, when it can be told. */
  readonly suggested?: InterfaceKind;
}

export interface PortListing {
  readonly ports: PortEntry[];
  /** Set when the full listing failed and a fallback (or nothing) was used. */
  readonly reason?: string;
}

const SERIAL_NODE = /^tty(ACM|USB|S|AMA|XRUSB|WCH)\d+$/;

async function listDevNodes(devDir: string): Promise<PortEntry[]> {
  let names: string[];
  try {
    names = await fsp.readdir(devDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => SERIAL_NODE.test(n) && !/^ttyS\d+$/.test(n))
    .sort()
    .map((n) => ({ path: path.join(devDir, n), kind: 'serial' as const }));
}

/** hidraw nodes with their USB ids (from /sys/class/hidraw/<node>/device/uevent). */
export async function listHidrawDevices(sysDir = '/sys/class/hidraw', devDir = '/dev'): Promise<PortEntry[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(sysDir)).filter((n) => /^hidraw\d+$/.test(n)).sort();
  } catch {
    return [];
  }
  const out: PortEntry[] = [];
  for (const n of names) {
    let vendorId: string | undefined;
    let productId: string | undefined;
    let manufacturer: string | undefined;
    try {
      const uevent = await fsp.readFile(path.join(sysDir, n, 'device', 'uevent'), 'utf8');
      const id = /HID_ID=[0-9A-Fa-f]+:([0-9A-Fa-f]+):([0-9A-Fa-f]+)/.exec(uevent);
      if (id) {
        vendorId = (parseInt(id[1] ?? '0', 16) & 0xffff).toString(16).padStart(4, '0');
        productId = (parseInt(id[2] ?? '0', 16) & 0xffff).toString(16).padStart(4, '0');
      }
      manufacturer = /HID_NAME=(.*)/.exec(uevent)?.[1]?.trim();
    } catch {
      // no uevent: list the node without ids
    }
    const tridonic =
      vendorId === TRIDONIC_USB_VENDOR_ID.toString(16).padStart(4, '0') &&
      productId === TRIDONIC_USB_PRODUCT_ID.toString(16).padStart(4, '0');
    out.push({
      path: path.join(devDir, n),
      kind: 'hidraw',
      ...(vendorId ? { vendorId } : {}),
      ...(productId ? { productId } : {}),
      ...(manufacturer ? { manufacturer } : {}),
      ...(tridonic ? { suggested: 'hidraw' as const } : {}),
    });
  }
  return out;
}

export interface ListOptions {
  /** Max time for SerialPort.list() (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Replace SerialPort.list (tests). */
  readonly list?: () => Promise<
    Array<{ path: string; manufacturer?: string; serialNumber?: string; vendorId?: string; productId?: string; pnpId?: string }>
  >;
  readonly devDir?: string;
  readonly sysHidrawDir?: string;
}

/** Serial ports (and hidraw devices) that could hold a DALI interface. Never throws. */
export async function listSerialPorts(opts: ListOptions = {}): Promise<PortListing> {
  const list = opts.list ?? (() => SerialPort.list());
  const timeoutMs = opts.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const hid = await listHidrawDevices(opts.sysHidrawDir, opts.devDir).catch(() => []);
  try {
    const ports = await Promise.race([
      list(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`port listing took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const serial: PortEntry[] = ports.map((p) => ({
      path: p.path,
      kind: 'serial' as const,
      ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
      ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
      ...(p.vendorId ? { vendorId: p.vendorId } : {}),
      ...(p.productId ? { productId: p.productId } : {}),
      ...(p.pnpId ? { pnpId: p.pnpId } : {}),
    }));
    return { ports: [...serial, ...hid] };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const fallback = await listDevNodes(opts.devDir ?? '/dev');
    return {
      ports: [...fallback, ...hid],
      reason: `serial port listing unavailable (${why}); ${fallback.length + hid.length > 0 ? 'showing device nodes found in /dev' : 'no device nodes found'}`,
    };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
