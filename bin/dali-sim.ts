#!/usr/bin/env node
/**
 * dali-sim: a simulated DALI bus served as a real interface device.
 *
 * It opens one end of a pseudo-terminal pair and behaves like a Lunatone
 * LUBA, a Tridonic SCI2 or a Tridonic DALI USB (hidraw reports) on it, with
 * virtual DT8 gear and DALI-2 light + presence sensors behind it. The other
 * end is what Node-RED (or dali-frame) opens as if it were the real device:
 *
 *   socat -d -d pty,raw,echo=0,link=/tmp/ttyDALI-dev pty,raw,echo=0,link=/tmp/ttyDALI
 *   dali-sim --protocol luba --port /tmp/ttyDALI-dev --gear 0-3 --groups 0 --sensor 10
 *   dali-frame monitor --interface luba --port /tmp/ttyDALI
 *
 * Several sensors, each with its own scenario on one clock:
 *   dali-sim ... --sensors "10:office; 11:meeting; 12:corridor"
 * The demo building (lib/dali/sim/building.ts: gear 0-3 in G0, 4-5 in G1,
 * 6-7 in G2; sensor 10 office, 11 meeting room, 12 corridor presence-only):
 *   dali-sim ... --building
 * With --scenario none the sensors have no life of their own: they only
 * follow the stdin commands below (occupied 12, lux 300 10, ...).
 *
 * Commands on stdin (one per line), for wall-panel and sensor tests by hand
 * (`addr` = a sensor's short address; without it every sensor; a running
 * scenario sets its sensor again at its next tick):
 *   inject <hex>             a frame from another master (e.g. inject FE00)
 *   occupied [addr] | vacant [addr] | movement [addr]
 *   lux <n> [addr]           illuminance seen by the sensor(s)
 *   state [short]            levels and colour temperatures of the gear
 *   sensors                  the sensors, their scenarios and states
 *   frametimes on|off        start or stop the frame-time lines (below)
 *   quit
 *
 * Frame times (--frame-times, or `frametimes on`): one JSON line on stdout
 * (lines starting with '{'; nothing else printed starts so) for
 * - each occupancy event frame a sensor puts on the bus, when the frame ENDS
 *   on the wire. The simulator's timing model takes an event frame as
 *   complete at the instant the sensor raises it and reports it to the
 *   client at once, so the line is written at that instant, before the
 *   report goes to the port:
 *   {"frameTime":"event","edge":"end","hrtimeNs":"<process.hrtime.bigint()>","perfMs":<performance.now()>,
 *    "epochMs":<Date.now()>,"bits":24,"value":"14A40B","sensor":10,"instance":0,"occupied":true,"movement":true}
 * - each forward frame received from the master (the client), when the
 *   frame STARTS on the wire: when its turn on the bus comes (requests are
 *   put on the bus one at a time, in arrival order), before its frame time
 *   (16 bits 14.17 ms, 24 bits 20.83 ms with wire timing); a send-twice
 *   frame once, at its first transmission:
 *   {"frameTime":"forward","edge":"start","hrtimeNs":"...","perfMs":...,"epochMs":...,"bits":16,"value":"8396",
 *    "sendTwice":false,"target":{"kind":"group","group":1},"address":"G1"}
 *   `target` is the decoded address ({kind: short|group|broadcast|
 *   broadcastUnaddressed}, gear addressing for 16-bit frames, device
 *   addressing for 24-bit commands) or {kind:"special"} for special
 *   commands (DTR0, ENABLE DEVICE TYPE, ...); `address` is its text (A4,
 *   G1, BC, BCU, special).
 * `hrtimeNs` is the system monotonic clock (comparable between processes
 * on one host: compare it with process.hrtime.bigint() in Node-RED);
 * `perfMs` is this process's performance.now(); `epochMs` the wall clock.
 *
 * Importable: `startSimulatorServer(opts)` runs the same server in-process
 * (tests), and returns the VirtualBus so a test can look at the gear.
 */
import * as readline from 'node:readline';
import type { BusFrameEvent, DeviceAddress, ForwardFrame, GearAddress, InterfaceStateEvent } from '../lib/dali/types';
import { decodeDeviceAddressByte, decodeFrame, decodeGearAddressByte } from '../lib/dali/codec';
import { DaliInputError } from '../lib/dali/input-error';
import { createDefaultSimulatedBus } from '../lib/dali/interfaces';
import {
  createScenario,
  createSimulatedDevices,
  parseSimGroups,
  parseSimSensors,
  SIM_SCENARIO_NAMES,
  type SimScenarioName,
  type SimSensorSpec,
} from '../lib/dali/sim-config';
import { DEMO_BUILDING } from '../lib/dali/sim/building';
import { VirtualBus } from '../lib/dali/sim/virtual-bus';
import { ScenarioDriver, type ScenarioSample } from '../lib/dali/sim/scenario';
import { LUBA_BAUD_RATE } from '../lib/dali/interfaces/luba';
import { LubaDeviceEmulator } from '../lib/dali/interfaces/luba-emulator';
import { SCI2_BAUD_RATE } from '../lib/dali/interfaces/sci2';
import { Sci2DeviceEmulator } from '../lib/dali/interfaces/sci2-emulator';
import { TridonicDeviceEmulator } from '../lib/dali/interfaces/tridonic-emulator';
import { HidrawTransport } from '../lib/dali/interfaces/hidraw-transport';
import type { ByteTransport } from '../lib/dali/interfaces/reconnecting-transport';
import { SerialTransport } from '../lib/dali/interfaces/serial-transport';

export type SimProtocol = 'luba' | 'sci2' | 'hidraw';

export interface SimulatorServerOptions {
  readonly protocol: SimProtocol;
  /** Device end of the pty pair (or any serial port). */
  readonly port: string;
  /** Serve this bus; default: gear/groups/sensor below. */
  readonly bus?: VirtualBus;
  /** Short addresses of DT8 gear (default 0..3). */
  readonly gear?: readonly number[];
  /** Groups every gear belongs to (default [0]). */
  readonly groups?: readonly number[];
  /** Group -> members (e.g. the demo building); replaces `groups` (every gear in the same groups). */
  readonly groupMap?: ReadonlyMap<number, readonly number[]>;
  /** Short address of the light + presence sensor (default 10; null = none). Unused when `sensors` is not empty. */
  readonly sensor?: number | null;
  /** Scenario driving the sensor: office, meeting, corridor, static (lib/dali/sim-config) or 'none' (default). */
  readonly scenario?: SimScenarioName | 'none';
  /** Several sensors, each with its own scenario on one clock (lib/dali/sim-config parseSimSensors). */
  readonly sensors?: readonly SimSensorSpec[];
  /** Scenario time compression: 60 = one simulated minute per second (default 60). */
  readonly speed?: number;
  /** Seed of the scenario's weather and occupancy (default 1). */
  readonly seed?: number;
  /** Simulated start time of the scenario, minute of day (default 7:30 = 450). */
  readonly startMinute?: number;
  /** Report with part 101 frame timing (default true). */
  readonly wireTiming?: boolean;
  /** Frame-time records (see the file comment); `frameTimes` says whether they start on (default false). */
  readonly onFrameTime?: (record: FrameTimeRecord) => void;
  readonly frameTimes?: boolean;
  readonly baudRate?: number;
  /** Progress and traffic lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface SimulatorServer {
  readonly bus: VirtualBus;
  readonly protocol: SimProtocol;
  readonly port: string;
  /** Runs one stdin-style command; returns the reply line. */
  command(line: string): string;
  close(): Promise<void>;
}

/** A frame-time line of --frame-times (see the file comment). */
export type FrameTimeRecord =
  | {
      readonly frameTime: 'event';
      readonly edge: 'end';
      readonly hrtimeNs: string;
      readonly perfMs: number;
      readonly epochMs: number;
      readonly bits: 24;
      readonly value: string;
      readonly sensor: number | null;
      readonly instance: number | null;
      readonly occupied: boolean;
      readonly movement: boolean;
    }
  | {
      readonly frameTime: 'forward';
      readonly edge: 'start';
      readonly hrtimeNs: string;
      readonly perfMs: number;
      readonly epochMs: number;
      readonly bits: 16 | 24;
      readonly value: string;
      readonly sendTwice: boolean;
      readonly target: GearAddress | DeviceAddress | { readonly kind: 'special' };
      readonly address: string;
    };

function hex(bits: number, value: number): string {
  return value
    .toString(16)
    .toUpperCase()
    .padStart(bits / 4, '0');
}

/** The addressee of a forward frame: gear addressing (16 bits), device addressing (24-bit commands), or special. */
export function forwardTarget(frame: ForwardFrame): { target: GearAddress | DeviceAddress | { kind: 'special' }; address: string } {
  const byte = frame.bits === 24 ? (frame.value >> 16) & 0xff : (frame.value >> 8) & 0xff;
  const target: GearAddress | DeviceAddress | undefined =
    frame.bits === 24 ? ((frame.value & 0x10000) !== 0 ? decodeDeviceAddressByte(byte) : undefined) : decodeGearAddressByte(byte);
  if (target === undefined) return { target: { kind: 'special' }, address: 'special' };
  switch (target.kind) {
    case 'short':
      return { target, address: `A${target.address}` };
    case 'group':
      return { target, address: `G${target.group}` };
    case 'broadcast':
      return { target, address: 'BC' };
    default:
      return { target, address: 'BCU' };
  }
}

function frameTimeNow(): { hrtimeNs: string; perfMs: number; epochMs: number } {
  return { hrtimeNs: process.hrtime.bigint().toString(), perfMs: performance.now(), epochMs: Date.now() };
}

interface Emulator {
  receive(chunk: Uint8Array): void;
  busFrame(bits: 8 | 16 | 24, value: number, framingError?: boolean): void;
  close(): void;
}

/** Parses "0-3,7,9-10" into [0,1,2,3,7,9,10]; undefined when malformed or out of 0..max. */
export function parseNumberList(text: string, max: number): number[] | undefined {
  const out: number[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a > b || b > max) return undefined;
    for (let i = a; i <= b; i++) if (!out.includes(i)) out.push(i);
  }
  return out.length > 0 ? out : undefined;
}

export function createSimulatedBus(opts: Pick<SimulatorServerOptions, 'gear' | 'groups' | 'sensor'>): VirtualBus {
  return createDefaultSimulatedBus(opts);
}

/** Gear with per-group members and the single sensor (no scenario devices). */
function groupMapBus(opts: Pick<SimulatorServerOptions, 'gear' | 'sensor'>, groupMap: ReadonlyMap<number, readonly number[]>): VirtualBus {
  const gear = opts.gear ?? [0, 1, 2, 3];
  const devices = createSimulatedDevices({
    gear,
    groups: groupMap,
    sensor: opts.sensor === undefined ? 10 : opts.sensor,
    scenario: 'static',
    speed: 1,
    startMinute: 0,
  });
  return devices.bus;
}

function formatMinute(m: number): string {
  const mm = Math.floor(m) % 1440;
  return `${String(Math.floor(mm / 60)).padStart(2, '0')}:${String(mm % 60).padStart(2, '0')}`;
}

function describeGear(bus: VirtualBus, only?: number): string {
  const lines = bus.gear
    .filter((g) => only === undefined || g.shortAddress === only)
    .map((g) => {
      const s = g.snapshot();
      const kelvin = s.mirek > 0 ? Math.round(1e6 / s.mirek) : 0;
      return `gear ${s.shortAddress ?? '-'}: level ${s.actualLevel} colour ${s.mirek} mirek (${kelvin} K) groups [${s.groups.join(',')}]`;
    });
  return lines.length > 0 ? lines.join('\n') : 'no such gear';
}

export async function startSimulatorServer(opts: SimulatorServerOptions): Promise<SimulatorServer> {
  const log = opts.log ?? (() => undefined);
  const several = opts.bus === undefined && opts.sensors !== undefined && opts.sensors.length > 0;
  const gear = opts.gear ?? [0, 1, 2, 3];
  const devices = several
    ? createSimulatedDevices({
        gear,
        groups: opts.groupMap ?? new Map((opts.groups ?? [0]).map((g) => [g, [...gear]])),
        sensor: null,
        scenario: 'office',
        sensors: opts.sensors ?? [],
        speed: opts.speed !== undefined && opts.speed > 0 ? opts.speed : 60,
        startMinute: opts.startMinute ?? 450,
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      })
    : undefined;
  const bus = devices?.bus ?? opts.bus ?? (opts.groupMap ? groupMapBus(opts, opts.groupMap) : createSimulatedBus(opts));
  let frameTimes = opts.frameTimes === true;
  const frameTime = (record: FrameTimeRecord): void => {
    if (frameTimes) opts.onFrameTime?.(record);
  };
  const transport: ByteTransport =
    opts.protocol === 'hidraw'
      ? new HidrawTransport({ path: opts.port, failFast: true, idlePollMs: 5 })
      : new SerialTransport({
          path: opts.port,
          baudRate: opts.baudRate ?? (opts.protocol === 'sci2' ? SCI2_BAUD_RATE : LUBA_BAUD_RATE),
          failFast: true,
        });
  const write = (data: Buffer): void => {
    transport.write(data).catch(() => undefined);
  };
  const wireTiming = opts.wireTiming !== false;
  let emulator: Emulator;
  const onForwardStart = (frame: ForwardFrame): void => {
    if (!frameTimes) return;
    const at = frameTimeNow();
    frameTime({
      frameTime: 'forward',
      edge: 'start',
      ...at,
      bits: frame.bits,
      value: hex(frame.bits, frame.value),
      sendTwice: frame.sendTwice === true,
      ...forwardTarget(frame),
    });
  };
  const emulatorOptions = { bus, write, wireTiming, onForwardStart };
  if (opts.protocol === 'luba') emulator = new LubaDeviceEmulator(emulatorOptions);
  else if (opts.protocol === 'sci2') emulator = new Sci2DeviceEmulator(emulatorOptions);
  else emulator = new TridonicDeviceEmulator(emulatorOptions);
  const instanceTypeOf = (short: number, instance: number): number | undefined =>
    bus.sensors.find((x) => x.shortAddress === short)?.instanceTypes[instance];

  transport.on('data', (chunk) => emulator.receive(chunk));
  transport.on('state', (ev: InterfaceStateEvent) => log(`port ${ev.state}${ev.detail ? `: ${ev.detail}` : ''}`));
  const onFrame = (ev: BusFrameEvent): void => {
    if (frameTimes && ev.bits === 24 && (ev.value & 0x10000) === 0) {
      // Taken before the report goes to the port: the event frame has just ended on the wire.
      const at = frameTimeNow();
      const d = decodeFrame(24, ev.value, { instanceTypeOf });
      if (d.kind === 'event' && d.occupancy) {
        frameTime({
          frameTime: 'event',
          edge: 'end',
          ...at,
          bits: 24,
          value: hex(24, ev.value),
          sensor: d.shortAddress ?? null,
          instance: d.instanceNumber ?? null,
          occupied: d.occupancy.occupied,
          movement: d.occupancy.movement,
        });
      }
    }
    emulator.busFrame(ev.bits, ev.value, ev.framingError === true);
    log(
      `bus ${ev.bits}-bit ${ev.value
        .toString(16)
        .toUpperCase()
        .padStart(ev.bits / 4, '0')}${ev.framingError ? ' (framing error)' : ''}`,
    );
  };
  bus.on('frame', onFrame);
  const onForward = (ev: { frame: ForwardFrame; foreign: boolean }): void => {
    if (!ev.foreign)
      log(
        `rx ${ev.frame.bits}-bit ${ev.frame.value
          .toString(16)
          .toUpperCase()
          .padStart(ev.frame.bits / 4, '0')}${ev.frame.sendTwice ? ' x2' : ''}`,
      );
  };
  bus.on('forward', onForward);

  await transport.open();

  let scenario: ScenarioDriver | undefined;
  const scenarioOf = new Map<number, string>();
  if (devices) {
    for (const s of devices.sensors) {
      if (s.sensor.shortAddress !== null) scenarioOf.set(s.sensor.shortAddress, s.scenario);
      const address = s.sensor.shortAddress;
      s.driver.on('tick', (t: ScenarioSample) => {
        if (Math.floor(t.minuteOfDay) % 15 === 0) {
          log(
            `scenario ${formatMinute(t.minuteOfDay)} sensor ${address ?? '-'} (${s.scenario}): ${s.sensor.hasLightSensor ? `${Math.round(t.lux)} lux, ` : ''}${t.occupied ? 'occupied' : 'vacant'}`,
          );
        }
      });
    }
    // --scenario none with several sensors: they keep what the stdin commands set (tests, benches).
    if (opts.scenario !== 'none') devices.start();
  } else if (opts.scenario !== undefined && opts.scenario !== 'none' && bus.sensors.length > 0) {
    const name = opts.scenario;
    scenario = new ScenarioDriver(createScenario(name, opts.seed ?? 1), [...bus.sensors], {
      timeAcceleration: opts.speed !== undefined && opts.speed > 0 ? opts.speed : 60,
      startMinute: opts.startMinute ?? 450,
      loop: true,
    });
    for (const s of bus.sensors) if (s.shortAddress !== null) scenarioOf.set(s.shortAddress, name);
    scenario.on('tick', (t: ScenarioSample) => {
      if (Math.floor(t.minuteOfDay) % 15 === 0)
        log(`scenario ${formatMinute(t.minuteOfDay)}: ${Math.round(t.lux)} lux, ${t.occupied ? 'occupied' : 'vacant'}`);
    });
    scenario.start();
  }

  /** The sensors a command addresses: all, or the one at `arg` (a reply text when there is none). */
  const pick = (arg: string | undefined): ReturnType<typeof bus.sensors.slice> | string => {
    if (arg === undefined) return bus.sensors.slice();
    const short = Number(arg);
    if (!/^\d{1,2}$/.test(arg) || short > 63) return `'${arg}' is not a sensor short address 0-63`;
    const found = bus.sensors.filter((x) => x.shortAddress === short);
    if (found.length === 0)
      return `no sensor at short address ${short} (sensors: ${bus.sensors.map((x) => x.shortAddress ?? '-').join(', ') || 'none'})`;
    return found;
  };
  const named = (list: readonly { shortAddress: number | null }[]): string =>
    list.length === 1 ? `sensor ${list[0]?.shortAddress ?? '-'}` : `${list.length} sensor(s)`;

  const command = (line: string): string => {
    const [cmd = '', ...args] = line.trim().split(/\s+/);
    switch (cmd.toLowerCase()) {
      case '':
        return '';
      case 'inject': {
        const hex = (args[0] ?? '').replace(/^0x/i, '');
        if (!/^([0-9a-f]{4}|[0-9a-f]{6})$/i.test(hex)) return 'usage: inject <4 or 6 hex digits>';
        const frame: ForwardFrame = { bits: hex.length === 4 ? 16 : 24, value: parseInt(hex, 16) };
        const r = bus.inject(frame);
        return `injected ${hex.toUpperCase()}: ${r.kind}${r.kind === 'answer' ? ` ${r.value}` : ''}`;
      }
      case 'occupied':
      case 'movement': {
        const list = pick(args[0]);
        if (typeof list === 'string') return list;
        for (const s of list) s.movement();
        return `occupied (${named(list)})`;
      }
      case 'vacant': {
        const list = pick(args[0]);
        if (typeof list === 'string') return list;
        for (const s of list) s.setOccupancy(false, false);
        return `vacant (${named(list)})`;
      }
      case 'lux': {
        const lux = Number(args[0]);
        if (args[0] === undefined || !Number.isFinite(lux) || lux < 0) return 'usage: lux <number >= 0> [sensor address]';
        const list = pick(args[1]);
        if (typeof list === 'string') return list;
        const light = list.filter((x) => x.hasLightSensor);
        if (light.length === 0) return `${named(list)} has no light sensor (presence only)`;
        for (const s of light) s.setLux(lux);
        return `lux ${lux} (${named(light)})`;
      }
      case 'sensors':
        return bus.sensors.length === 0
          ? 'no sensors'
          : bus.sensors
              .map((x) => {
                const a = x.shortAddress;
                const kind = x.hasLightSensor ? 'light + presence' : 'presence only';
                const sc = a !== null ? (scenarioOf.get(a) ?? 'none') : 'none';
                return `sensor ${a ?? '-'}: ${kind}, scenario ${sc}, ${x.isOccupied ? 'occupied' : 'vacant'}${x.hasLightSensor ? `, ${Math.round(x.rawToLux(x.illuminanceRaw))} lux` : ''}`;
              })
              .join('\n');
      case 'frametimes': {
        const v = (args[0] ?? '').toLowerCase();
        if (v !== 'on' && v !== 'off') return 'usage: frametimes on|off';
        frameTimes = v === 'on';
        return `frametimes ${v}`;
      }
      case 'state': {
        const only = args[0] !== undefined ? Number(args[0]) : undefined;
        return describeGear(bus, only !== undefined && Number.isInteger(only) ? only : undefined);
      }
      default:
        return `unknown command '${cmd}' (inject, occupied, vacant, movement, lux, state, sensors, frametimes, quit)`;
    }
  };

  let closing: Promise<void> | undefined;
  return {
    bus,
    protocol: opts.protocol,
    port: opts.port,
    command,
    close(): Promise<void> {
      if (!closing) {
        scenario?.stop();
        devices?.stop();
        bus.off('frame', onFrame);
        bus.off('forward', onForward);
        emulator.close();
        closing = transport.close();
      }
      return closing;
    },
  };
}

const USAGE = `usage: dali-sim --protocol luba|sci2|hidraw --port <device end of a pty pair>
                [--gear 0-3] [--groups 0 | --groups "0:0-3; 1:4-5"]
                [--sensor 10|none] [--scenario office|meeting|corridor|static|none]
                [--sensors "10:office; 11:meeting; 12:corridor"] [--building]
                [--speed 60] [--seed 1] [--frame-times] [--fast] [--quiet]

Serves a simulated DALI bus (DT8 tunable-white gear + DALI-2 light/presence
sensors) as if it were a real interface on --port. Make the pty pair with:
  socat -d -d pty,raw,echo=0,link=/tmp/ttyDALI-dev pty,raw,echo=0,link=/tmp/ttyDALI
then point Node-RED or dali-frame at /tmp/ttyDALI.

  --protocol   luba (Lunatone), sci2 (Tridonic SCI2), hidraw (Tridonic DALI USB reports)
  --gear       short addresses of the gear, e.g. 0-3,8 (default 0-3)
  --groups     groups of every gear, e.g. 0,2 (default 0), or group:members
               entries, e.g. "0:0-3; 1:4-5"
  --sensor     short address of the sensor, or none (default 10)
  --scenario   the sensor's day, played from 7:30, looping: office (daylight with
               clouds, arrival ~8:00, lunch, departure ~17:30), meeting (meetings
               of 30-90 min), corridor (short visits), static, none (default)
  --sensors    several sensors, each with its own scenario on one clock, as
               address:scenario[:seed] entries, e.g. "10:office; 11:meeting; 12:corridor"
               (a corridor sensor here is presence only); replaces --sensor/--scenario
  --building   the demo building: gear ${DEMO_BUILDING.gear}, groups "${DEMO_BUILDING.groups}",
               sensors "${DEMO_BUILDING.sensors}"
  --speed      scenario time acceleration (default 60: one simulated minute per second)
  --seed       scenario seed (default 1)
  --frame-times  print frame times as JSON lines (see the file header of bin/dali-sim)
  --fast       answer without DALI frame timing
  --quiet      no traffic log
stdin commands: inject <hex>, occupied [addr], vacant [addr], movement [addr],
  lux <n> [addr], state [short], sensors, frametimes on|off, quit`;

export interface SimArgs {
  readonly options: SimulatorServerOptions;
  readonly quiet: boolean;
}

export function parseSimArgs(argv: readonly string[]): SimArgs | { error: string } | { help: true } {
  let protocol: SimProtocol | undefined;
  let port: string | undefined;
  let gear: number[] | undefined;
  let groups: number[] | undefined;
  let groupsText: string | undefined;
  let sensor: number | null | undefined;
  let scenario: SimScenarioName | 'none' | undefined;
  let sensors: SimSensorSpec[] | undefined;
  let building = false;
  let frameTimes = false;
  let speed: number | undefined;
  let seed: number | undefined;
  let fast = false;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = (): string | undefined => {
      const v = argv[i + 1];
      i++;
      return v;
    };
    switch (arg) {
      case '-h':
      case '--help':
        return { help: true };
      case '--protocol': {
        const v = value();
        if (v !== 'luba' && v !== 'sci2' && v !== 'hidraw')
          return { error: `--protocol must be luba, sci2 or hidraw (got ${v ?? 'nothing'})` };
        protocol = v;
        break;
      }
      case '--port':
        port = value();
        if (!port) return { error: '--port needs a path' };
        break;
      case '--gear': {
        const v = parseNumberList(value() ?? '', 63);
        if (!v) return { error: '--gear needs short addresses 0..63, e.g. 0-3,8' };
        gear = v;
        break;
      }
      case '--groups': {
        const text = value() ?? '';
        if (text.includes(':')) {
          groupsText = text;
          break;
        }
        const v = parseNumberList(text, 15);
        if (!v) return { error: '--groups needs groups 0..15, e.g. 0,2, or group:members entries, e.g. "0:0-3; 1:4-5"' };
        groups = v;
        break;
      }
      case '--sensors': {
        try {
          sensors = parseSimSensors(value() ?? '');
        } catch (err) {
          return { error: `--sensors: ${err instanceof DaliInputError ? err.message : String(err)}` };
        }
        if (sensors.length === 0) return { error: '--sensors needs at least one address:scenario entry, e.g. "10:office; 11:meeting"' };
        break;
      }
      case '--building':
        building = true;
        break;
      case '--frame-times':
        frameTimes = true;
        break;
      case '--sensor': {
        const v = value();
        if (v === 'none') sensor = null;
        else {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 0 || n > 63) return { error: '--sensor needs a short address 0..63 or none' };
          sensor = n;
        }
        break;
      }
      case '--scenario': {
        const v = value();
        if (v !== 'none' && !(SIM_SCENARIO_NAMES as readonly (string | undefined)[]).includes(v)) {
          return { error: `--scenario must be ${SIM_SCENARIO_NAMES.join(', ')} or none` };
        }
        scenario = v as SimScenarioName | 'none';
        break;
      }
      case '--speed': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0 || n > 100_000) return { error: '--speed needs a positive number' };
        speed = n;
        break;
      }
      case '--seed': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return { error: '--seed needs an integer 0..4294967295' };
        seed = n;
        break;
      }
      case '--fast':
        fast = true;
        break;
      case '--quiet':
        quiet = true;
        break;
      default:
        return { error: `unknown argument '${arg}'` };
    }
  }
  if (!protocol) return { error: '--protocol is required' };
  if (!port) return { error: '--port is required' };
  if (building) {
    if (gear || groups || groupsText !== undefined || sensor !== undefined || sensors) {
      return { error: '--building sets the gear, groups and sensors: leave out --gear, --groups, --sensor and --sensors' };
    }
    gear = parseNumberList(DEMO_BUILDING.gear, 63);
    groupsText = DEMO_BUILDING.groups;
    sensors = parseSimSensors(DEMO_BUILDING.sensors);
  }
  let groupMap: Map<number, number[]> | undefined;
  if (groupsText !== undefined) {
    try {
      groupMap = parseSimGroups(groupsText, gear ?? [0, 1, 2, 3]);
    } catch (err) {
      return { error: `--groups: ${err instanceof DaliInputError ? err.message : String(err)}` };
    }
  }
  if (sensors && sensor !== undefined) return { error: '--sensors replaces --sensor: give one of them' };
  return {
    quiet,
    options: {
      protocol,
      port,
      ...(gear ? { gear } : {}),
      ...(groups ? { groups } : {}),
      ...(groupMap ? { groupMap } : {}),
      ...(sensor !== undefined ? { sensor } : {}),
      ...(scenario !== undefined ? { scenario } : {}),
      ...(sensors ? { sensors } : {}),
      ...(frameTimes ? { frameTimes } : {}),
      ...(speed !== undefined ? { speed } : {}),
      ...(seed !== undefined ? { seed } : {}),
      wireTiming: !fast,
    },
  };
}

async function main(): Promise<void> {
  const parsed = parseSimArgs(process.argv.slice(2));
  if ('help' in parsed) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if ('error' in parsed) {
    process.stderr.write(`dali-sim: ${parsed.error}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const log = parsed.quiet ? undefined : (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  let server: SimulatorServer;
  try {
    server = await startSimulatorServer({
      ...parsed.options,
      ...(log ? { log } : {}),
      onFrameTime: (record) => void process.stdout.write(`${JSON.stringify(record)}\n`),
    });
  } catch (err) {
    process.stderr.write(`dali-sim: cannot open ${parsed.options.port}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`dali-sim: ${signal}, closing\n`);
    server
      .close()
      .catch(() => undefined)
      .finally(() => {
        rl.close();
        process.exit(0);
      });
  };
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (line.trim() === 'quit') {
      stop('quit');
      return;
    }
    const reply = server.command(line);
    if (reply) process.stdout.write(`${reply}\n`);
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // "ready" only once the signal handlers are in place: a supervisor that stops
  // the simulator right after it said ready gets the clean shutdown.
  process.stdout.write(
    `dali-sim: ${server.protocol} on ${server.port}, ${server.bus.gear.length} gear, ${server.bus.sensors.length} sensor(s); ready\n`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`dali-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
