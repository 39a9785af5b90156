#!/usr/bin/env node
/**
 * dali-sim: a simulated DALI bus served as a real interface device.
 *
 * It opens one end of a pseudo-terminal pair and behaves like a Lunatone
 * LUBA, a Tridonic SCI2 or a Tridonic DALI USB (hidraw reports) on it, with
 * virtual DT8 gear and a DALI-2 light + presence sensor behind it. The other
 * end is what Node-RED (or dali-frame) opens as if it were the real device:
 *
 *   socat -d -d pty,raw,echo=0,link=/tmp/ttyDALI-dev pty,raw,echo=0,link=/tmp/ttyDALI
 *   dali-sim --protocol luba --port /tmp/ttyDALI-dev --gear 0-3 --groups 0 --sensor 10
 *   dali-frame monitor --interface luba --port /tmp/ttyDALI
 *
 * Commands on stdin (one per line), for wall-panel and sensor tests by hand:
 *   inject <hex>             a frame from another master (e.g. inject FE00)
 *   occupied | vacant | movement
 *   lux <n>                  illuminance seen by the sensor
 *   state [short]            levels and colour temperatures of the gear
 *   quit
 *
 * Importable: `startSimulatorServer(opts)` runs the same server in-process
 * (tests), and returns the VirtualBus so a test can look at the gear.
 */
import * as readline from 'node:readline';
import type { BusFrameEvent, ForwardFrame, InterfaceStateEvent } from '../lib/dali/types';
import { createDefaultSimulatedBus } from '../lib/dali/interfaces';
import { VirtualBus } from '../lib/dali/sim/virtual-bus';
import { OfficeDayScenario, ScenarioDriver, type ScenarioSample } from '../lib/dali/sim/scenario';
import { LUBA_BAUD_RATE, LubaDeviceEmulator } from '../lib/dali/interfaces/luba';
import { SCI2_BAUD_RATE, Sci2DeviceEmulator } from '../lib/dali/interfaces/sci2';
import { HidrawTransport, TridonicDeviceEmulator } from '../lib/dali/interfaces/hidraw';
import { SerialTransport, type ByteTransport } from '../lib/dali/interfaces/serial-transport';

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
  /** Short address of the light + presence sensor (default 10; null = none). */
  readonly sensor?: number | null;
  /** Scenario driving the sensor: 'office' (lib/dali/sim OfficeDayScenario: daylight, clouds, presence) or 'none' (default). */
  readonly scenario?: 'office' | 'none';
  /** Scenario time compression: 60 = one simulated minute per second (default 60). */
  readonly speed?: number;
  /** Seed of the scenario's weather and occupancy (default 1). */
  readonly seed?: number;
  /** Simulated start time of the scenario, minute of day (default 7:30 = 450). */
  readonly startMinute?: number;
  /** Report with part 101 frame timing (default true). */
  readonly wireTiming?: boolean;
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

interface Emulator {
  receive(chunk: Uint8Array): void;
  busFrame(bits: 8 | 16 | 24, value: number, framingError?: boolean): void;
  close(): void;
}

/** Parses "0-3,7,9-10" into [0,1,2,3,7,9,10]; undefined when malformed or out of 0..max. */
export function parseNumberList(text: string, max: number): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
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
  const bus = opts.bus ?? createSimulatedBus(opts);
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
  if (opts.protocol === 'luba') emulator = new LubaDeviceEmulator({ bus, write, wireTiming });
  else if (opts.protocol === 'sci2') emulator = new Sci2DeviceEmulator({ bus, write, wireTiming });
  else emulator = new TridonicDeviceEmulator({ bus, write, wireTiming });

  transport.on('data', (chunk) => emulator.receive(chunk));
  transport.on('state', (ev: InterfaceStateEvent) => log(`port ${ev.state}${ev.detail ? `: ${ev.detail}` : ''}`));
  const onFrame = (ev: BusFrameEvent): void => {
    emulator.busFrame(ev.bits, ev.value, ev.framingError === true);
    log(`bus ${ev.bits}-bit ${ev.value.toString(16).toUpperCase().padStart(ev.bits / 4, '0')}${ev.framingError ? ' (framing error)' : ''}`);
  };
  bus.on('frame', onFrame);
  const onForward = (ev: { frame: ForwardFrame; foreign: boolean }): void => {
    if (!ev.foreign) log(`rx ${ev.frame.bits}-bit ${ev.frame.value.toString(16).toUpperCase().padStart(ev.frame.bits / 4, '0')}${ev.frame.sendTwice ? ' x2' : ''}`);
  };
  bus.on('forward', onForward);

  await transport.open();

  let scenario: ScenarioDriver | undefined;
  if (opts.scenario === 'office' && bus.sensors.length > 0) {
    scenario = new ScenarioDriver(new OfficeDayScenario({ seed: opts.seed ?? 1 }), [...bus.sensors], {
      timeAcceleration: opts.speed !== undefined && opts.speed > 0 ? opts.speed : 60,
      startMinute: opts.startMinute ?? 450,
      loop: true,
    });
    scenario.on('tick', (t: ScenarioSample) => {
      if (Math.floor(t.minuteOfDay) % 15 === 0) log(`scenario ${formatMinute(t.minuteOfDay)}: ${Math.round(t.lux)} lux, ${t.occupied ? 'occupied' : 'vacant'}`);
    });
    scenario.start();
  }

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
      case 'movement':
        for (const s of bus.sensors) s.movement();
        return `occupied (${bus.sensors.length} sensor(s))`;
      case 'vacant':
        for (const s of bus.sensors) s.setOccupancy(false, false);
        return `vacant (${bus.sensors.length} sensor(s))`;
      case 'lux': {
        const lux = Number(args[0]);
        if (!Number.isFinite(lux) || lux < 0) return 'usage: lux <number >= 0>';
        for (const s of bus.sensors) s.setLux(lux);
        return `lux ${lux}`;
      }
      case 'state': {
        const only = args[0] !== undefined ? Number(args[0]) : undefined;
        return describeGear(bus, only !== undefined && Number.isInteger(only) ? only : undefined);
      }
      default:
        return `unknown command '${cmd}' (inject, occupied, vacant, movement, lux, state, quit)`;
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
                [--gear 0-3] [--groups 0] [--sensor 10|none] [--scenario office|none]
                [--speed 60] [--seed 1] [--fast] [--quiet]

Serves a simulated DALI bus (DT8 tunable-white gear + a DALI-2 light/presence
sensor) as if it were a real interface on --port. Make the pty pair with:
  socat -d -d pty,raw,echo=0,link=/tmp/ttyDALI-dev pty,raw,echo=0,link=/tmp/ttyDALI
then point Node-RED or dali-frame at /tmp/ttyDALI.

  --protocol   luba (Lunatone), sci2 (Tridonic SCI2), hidraw (Tridonic DALI USB reports)
  --gear       short addresses of the gear, e.g. 0-3,8 (default 0-3)
  --groups     groups of every gear, e.g. 0,2 (default 0)
  --sensor     short address of the sensor, or none (default 10)
  --scenario   office: an office day (daylight with clouds, arrival ~8:00, lunch,
               departure ~17:30) played on the sensor from 7:30, looping
  --speed      scenario time acceleration (default 60: one simulated minute per second)
  --seed       scenario seed (default 1)
  --fast       answer without DALI frame timing
  --quiet      no traffic log
stdin commands: inject <hex>, occupied, vacant, movement, lux <n>, state [short], quit`;

export interface SimArgs {
  readonly options: SimulatorServerOptions;
  readonly quiet: boolean;
}

export function parseSimArgs(argv: readonly string[]): SimArgs | { error: string } | { help: true } {
  let protocol: SimProtocol | undefined;
  let port: string | undefined;
  let gear: number[] | undefined;
  let groups: number[] | undefined;
  let sensor: number | null | undefined;
  let scenario: 'office' | 'none' = 'none';
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
        if (v !== 'luba' && v !== 'sci2' && v !== 'hidraw') return { error: `--protocol must be luba, sci2 or hidraw (got ${v ?? 'nothing'})` };
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
        const v = parseNumberList(value() ?? '', 15);
        if (!v) return { error: '--groups needs groups 0..15, e.g. 0,2' };
        groups = v;
        break;
      }
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
        if (v !== 'office' && v !== 'none') return { error: '--scenario must be office or none' };
        scenario = v;
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
  return {
    quiet,
    options: {
      protocol,
      port,
      ...(gear ? { gear } : {}),
      ...(groups ? { groups } : {}),
      ...(sensor !== undefined ? { sensor } : {}),
      scenario,
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
    server = await startSimulatorServer({ ...parsed.options, ...(log ? { log } : {}) });
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
  process.stdout.write(`dali-sim: ${server.protocol} on ${server.port}, ${server.bus.gear.length} gear, ${server.bus.sensors.length} sensor(s); ready\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`dali-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
