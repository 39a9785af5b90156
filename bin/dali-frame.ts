#!/usr/bin/env node
/**
 * dali-frame: DALI frame tool for installers.
 *
 *   dali-frame decode <hex>... [--json] [--dt <n>]
 *   dali-frame encode <command words> [--json]
 *   dali-frame monitor --interface luba|sci2|hidraw|simulator --port <path> [--json] [--duration <s>]
 *   dali-frame scan    --interface luba|sci2|hidraw|simulator --port <path> [--json] [--no-devices]
 *
 * Exit codes: 0 ok, 1 the interface failed, 2 bad arguments. Bad input gets
 * a message and the usage text, never a stack trace.
 */
import {
  FrameDecoder,
  dapc,
  decodeFrame,
  describeAddress,
  describeFrame,
  deviceCommand,
  dt8Command,
  enableDeviceType,
  frameHex,
  gearCommand,
  initialise,
  instanceCommand,
  programShortAddress,
  specialCommand,
  verifyShortAddress,
  type DecodedFrame,
} from '../lib/dali/codec';
import { DaliBus } from '../lib/dali/bus/dali-bus';
import { decodeColourTypeFeatures, dt8Query } from '../lib/dali/gear-diagnostics';
import { kelvinToMirek, mirekToKelvin } from '../lib/dali/colour';
import { percentToArcLevel } from '../lib/dali/curve';
import {
  DEVICE_TABLE,
  DEVICE_TYPE_COLOUR,
  DT8_TABLE,
  DeviceCommand,
  Dt8Command,
  GEAR_TABLE,
  GearCommand,
  INSTANCE_TABLE,
  InstanceCommand,
  LIGHT_SENSOR_TABLE,
  OCCUPANCY_SENSOR_TABLE,
  SPECIAL_TABLE,
  SpecialCommand,
  type CommandInfo,
  type OpcodeEntry,
} from '../lib/dali/opcodes';
import { naiveFrames } from '../lib/dali/sequence';
import { createInterface, type InterfaceConfig } from '../lib/dali/interfaces';
import type {
  BackwardResult,
  DaliInterface,
  DeviceAddress,
  ForwardFrame,
  GearAddress,
  InstanceSelector,
  InterfaceKind,
} from '../lib/dali/types';

export const USAGE = `usage:
  dali-frame decode <hex>... [--json] [--dt <device type>]
      4 hex digits = 16-bit frame, 6 = 24-bit; several frames decode as a sequence
      (ENABLE DEVICE TYPE applies to the next frame). e.g. decode 0AC8, decode C108 0BE7
  dali-frame encode <command words> [--json]
      dapc short 5 level 200        dapc group 0 50%         off broadcast
      "query actual level" short 5  go to scene 3 group 1    add to group 2 short 7
      dtr0 128                      enable device type 8     initialise unaddressed
      dt8-tc short 5 2700K [level 200]   (DTR0, DTR1, EDT 8, SET TEMPORARY Tc, EDT 8, ACTIVATE [, DAPC])
      dt8 "query colour value" short 5   (DT8 command, ENABLE DEVICE TYPE 8 added)
      device "query device status" short 10
      instance "query instance type" short 10 instance 0
      addresses: short 0-63 | group 0-15 (devices 0-31) | broadcast | unaddressed
  dali-frame monitor --interface luba|sci2|hidraw|simulator --port <path> [--json] [--duration <s>]
      every frame other masters put on the bus, decoded, with timestamps
  dali-frame scan --interface luba|sci2|hidraw|simulator --port <path> [--json] [--no-devices]
      which short addresses answer, device types, DT8 colour temperature limits and features
options: --baud <n>, --answer-timeout <ms>`;

/** Bad input: message + usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface EncodedFrame {
  readonly hex: string;
  readonly bits: 16 | 24;
  readonly value: number;
  readonly sendTwice: boolean;
  readonly expectAnswer: boolean;
  readonly description: string;
}

// ----------------------------------------------------------------- parsing

function parseNumber(text: string | undefined, what: string, min: number, max: number): number {
  if (text === undefined || text === '') throw new UsageError(`${what}: number missing`);
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what} must be ${min}..${max}, got '${text}'`);
  return n;
}

/** "0AC8", "0x0ac8", "0A C8", "000C0B" -> 16 or 24-bit frame (from the number of hex digits). */
export function parseHexFrame(text: string): { bits: 16 | 24; value: number } {
  const clean = text.replace(/^0x/i, '').replace(/[\s:_-]/g, '');
  if (!/^[0-9a-f]+$/i.test(clean)) throw new UsageError(`'${text}' is not a hex frame`);
  if (clean.length !== 4 && clean.length !== 6) throw new UsageError(`'${text}': give 4 hex digits (16-bit frame) or 6 (24-bit frame)`);
  return { bits: clean.length === 4 ? 16 : 24, value: parseInt(clean, 16) };
}

function norm(s: string): string {
  return s
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}

interface NamedOpcode {
  readonly opcode: number;
  readonly info: CommandInfo;
}

/** Command names of the opcode tables (lib/dali/opcodes.ts); where two share a name the lower opcode wins. */
function indexTable(entries: readonly OpcodeEntry[]): Map<string, NamedOpcode> {
  const m = new Map<string, NamedOpcode>();
  for (const e of [...entries].sort((a, b) => a.opcode - b.opcode)) {
    const key = norm(e.name);
    if (!m.has(key)) m.set(key, { opcode: e.opcode, info: e }); // a scene/group family by its base opcode
  }
  return m;
}

const GEAR_BY_NAME = indexTable(GEAR_TABLE.entries);
const SPECIAL_BY_NAME = indexTable(SPECIAL_TABLE.entries);
const DT8_BY_NAME = indexTable(DT8_TABLE.entries);
const DEVICE_BY_NAME = indexTable(DEVICE_TABLE.entries);
const INSTANCE_BY_NAME = indexTable([...INSTANCE_TABLE.entries, ...OCCUPANCY_SENSOR_TABLE.entries, ...LIGHT_SENSOR_TABLE.entries]);

const ADDRESS_WORDS = new Set(['short', 'group', 'broadcast', 'unaddressed', 'all']);

/** Splits words into [command words, address words + rest] at the first address keyword. */
function splitAtAddress(words: readonly string[]): { name: string[]; rest: string[] } {
  const i = words.findIndex((w) => ADDRESS_WORDS.has(w.toLowerCase()));
  return i < 0 ? { name: [...words], rest: [] } : { name: words.slice(0, i), rest: words.slice(i) };
}

/** Every split at an address keyword, last keyword first (names may contain "group"). */
function addressSplits(words: readonly string[]): Array<{ name: string[]; rest: string[] }> {
  const out: Array<{ name: string[]; rest: string[] }> = [];
  for (let i = words.length - 1; i >= 1; i--) {
    if (ADDRESS_WORDS.has((words[i] ?? '').toLowerCase())) out.push({ name: words.slice(0, i), rest: words.slice(i) });
  }
  if (out.length === 0) out.push({ name: [...words], rest: [] });
  return out;
}

/** `short N`, `group N` (0..groupMax), `broadcast`/`all` or `unaddressed`; gear and device addresses differ only in the group range. */
function parseAddress(
  words: string[],
  what: 'address' | 'device address',
  groupName: string,
  groupMax: number,
): GearAddress | DeviceAddress {
  const kw = (words.shift() ?? '').toLowerCase();
  switch (kw) {
    case 'short':
      return { kind: 'short', address: parseNumber(words.shift(), 'short address', 0, 63) };
    case 'group':
      return { kind: 'group', group: parseNumber(words.shift(), groupName, 0, groupMax) };
    case 'broadcast':
    case 'all':
      return { kind: 'broadcast' };
    case 'unaddressed':
      return { kind: 'broadcastUnaddressed' };
    default:
      throw new UsageError(`${what} missing: short <0-63>, group <0-${groupMax}>, broadcast or unaddressed`);
  }
}

function parseGearAddress(words: string[]): GearAddress {
  return parseAddress(words, 'address', 'group', 15);
}

function parseDeviceAddress(words: string[]): DeviceAddress {
  return parseAddress(words, 'device address', 'device group', 31);
}

function parseInstance(words: string[]): InstanceSelector {
  const kw = (words.shift() ?? '').toLowerCase();
  if (kw !== 'instance')
    throw new UsageError(`instance missing: instance <0-31> | instance type <0-31> | instance group <0-31> | instance all`);
  const next = (words[0] ?? '').toLowerCase();
  if (next === 'all') {
    words.shift();
    return { kind: 'all' };
  }
  if (next === 'type') {
    words.shift();
    return { kind: 'type', instanceType: parseNumber(words.shift(), 'instance type', 0, 31) };
  }
  if (next === 'group') {
    words.shift();
    return { kind: 'group', group: parseNumber(words.shift(), 'instance group', 0, 31) };
  }
  return { kind: 'number', instance: parseNumber(words.shift(), 'instance number', 0, 31) };
}

function noMore(words: string[]): void {
  if (words.length > 0) throw new UsageError(`unexpected '${words.join(' ')}'`);
}

/** Looks a command name up; a trailing number is a scene/group parameter for the families that take one. */
function lookup(nameWords: readonly string[], table: Map<string, NamedOpcode>, what: string): { cmd: NamedOpcode; param?: number } {
  const key = norm(nameWords.join(' '));
  if (!key) throw new UsageError(`${what} name missing`);
  const exact = table.get(key);
  if (exact && !exact.info.hasParam) return { cmd: exact };
  const m = /^(.*) (\d+)$/.exec(key);
  if (m) {
    const fam = table.get(m[1] ?? '');
    if (fam?.info.hasParam) return { cmd: fam, param: parseNumber(m[2], `${fam.info.name} number`, 0, 15) };
  }
  if (exact?.info.hasParam) throw new UsageError(`${exact.info.name} needs a number 0..15, e.g. '${exact.info.name.toLowerCase()} 3'`);
  const suggestions = [...table.keys()].filter((k) => k.includes(key.split(' ')[0] ?? '')).slice(0, 5);
  throw new UsageError(
    `unknown ${what} '${nameWords.join(' ')}'${suggestions.length ? ` (did you mean: ${suggestions.map((s) => s.toLowerCase()).join(', ')}?)` : ''}`,
  );
}

function parseLevel(words: string[]): number {
  if ((words[0] ?? '').toLowerCase() === 'level') words.shift();
  const t = words.shift();
  if (t === undefined) throw new UsageError('level missing: level <0-255> or <percent>%');
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p >= 0 && p <= 100)) throw new UsageError(`percent must be 0..100, got ${t}`);
    return percentToArcLevel(p);
  }
  return parseNumber(t, 'arc power level', 0, 255);
}

function parseColour(text: string | undefined): number {
  if (text === undefined) throw new UsageError('colour temperature missing: e.g. 2700K or 370mirek');
  const k = /^(\d+)\s*k$/i.exec(text);
  if (k) {
    const kelvin = Number(k[1]);
    if (kelvin < 1000 || kelvin > 20000) throw new UsageError(`colour temperature ${kelvin} K is outside 1000..20000 K`);
    return kelvinToMirek(kelvin);
  }
  const m = /^(\d+)\s*mirek$/i.exec(text);
  if (m) return parseNumber(m[1], 'mirek', 1, 0xfffe);
  throw new UsageError(`colour temperature '${text}': write e.g. 2700K or 370mirek`);
}

/** Builds the frames for `encode` words. Throws UsageError for anything it cannot read. */
export function encodeWords(input: readonly string[]): ForwardFrame[] {
  const words = input.flatMap((w) => w.split(/\s+/)).filter((w) => w.length > 0);
  if (words.length === 0) throw new UsageError('nothing to encode');
  const head = (words[0] ?? '').toLowerCase();
  if (head === 'dapc' || head === 'arc') {
    const rest = words.slice(1);
    const addr = parseGearAddress(rest);
    const level = parseLevel(rest);
    noMore(rest);
    return [dapc(addr, level)];
  }
  if (head === 'dt8-tc' || head === 'tc') {
    const rest = words.slice(1);
    const address = parseGearAddress(rest);
    const mirek = parseColour(rest.shift());
    let level: number | undefined;
    if (rest.length > 0) level = parseLevel(rest);
    noMore(rest);
    return naiveFrames(level === undefined ? { address, mirek } : { address, mirek, level });
  }
  if (head === 'dt8') {
    const { name, rest } = splitAtAddress(words.slice(1));
    const { cmd } = lookup(name, DT8_BY_NAME, 'DT8 command');
    const addr = parseGearAddress(rest);
    noMore(rest);
    return [enableDeviceType(DEVICE_TYPE_COLOUR), dt8Command(addr, cmd.opcode)];
  }
  if (head === 'device' || head === 'instance') {
    const { name, rest } = splitAtAddress(words.slice(1));
    const table = head === 'device' ? DEVICE_BY_NAME : INSTANCE_BY_NAME;
    const { cmd } = lookup(name, table, head === 'device' ? 'device command' : 'instance command');
    const addr = parseDeviceAddress(rest);
    if (head === 'device') {
      noMore(rest);
      return [deviceCommand(addr, cmd.opcode)];
    }
    const inst = parseInstance(rest);
    noMore(rest);
    return [instanceCommand(addr, inst, cmd.opcode)];
  }
  // Special commands carry data, not an address: longest name prefix wins ("program short address 5").
  for (let k = words.length; k >= 1; k--) {
    const special = SPECIAL_BY_NAME.get(norm(words.slice(0, k).join(' ')));
    if (special) return [specialFrame(special.opcode, words.slice(k))];
  }
  // The name may itself contain an address word ("add to group 2 short 7"): try every split.
  let firstError: unknown;
  for (const { name, rest } of addressSplits(words)) {
    try {
      const { cmd, param } = lookup(name, GEAR_BY_NAME, 'command');
      const addr = parseGearAddress(rest);
      noMore(rest);
      return [param === undefined ? gearCommand(addr, cmd.opcode) : gearCommand(addr, cmd.opcode, param)];
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError instanceof Error ? firstError : new UsageError(`cannot encode '${words.join(' ')}'`);
}

function specialFrame(opcode: number, data: string[]): ForwardFrame {
  const first = (data[0] ?? '').toLowerCase();
  if (opcode === SpecialCommand.INITIALISE) {
    if (first === 'all' || first === 'broadcast') return initialise('all');
    if (first === 'unaddressed') return initialise('unaddressed');
    if (first === 'short') return initialise(parseNumber(data[1], 'short address', 0, 63));
    throw new UsageError('initialise all | unaddressed | short <0-63>');
  }
  if (opcode === SpecialCommand.PROGRAM_SHORT_ADDRESS) {
    if (first === 'delete' || first === 'mask') return programShortAddress('delete');
    return programShortAddress(parseNumber(first === 'short' ? data[1] : data[0], 'short address', 0, 63));
  }
  if (opcode === SpecialCommand.VERIFY_SHORT_ADDRESS) {
    return verifyShortAddress(parseNumber(first === 'short' ? data[1] : data[0], 'short address', 0, 63));
  }
  const takesData = ![
    SpecialCommand.TERMINATE,
    SpecialCommand.RANDOMISE,
    SpecialCommand.COMPARE,
    SpecialCommand.WITHDRAW,
    SpecialCommand.PING,
    SpecialCommand.QUERY_SHORT_ADDRESS,
  ].includes(opcode as 0xa1);
  if (!takesData) {
    if (data.length > 0) throw new UsageError(`unexpected '${data.join(' ')}'`);
    return specialCommand(opcode, 0);
  }
  if (data.length !== 1) throw new UsageError('give one data byte 0..255');
  return specialCommand(opcode, parseNumber(data[0], 'data byte', 0, 255));
}

/** Frames as the tool prints them (decoded as a sequence, so DT8 commands are named). */
export function describeFrames(frames: readonly ForwardFrame[]): EncodedFrame[] {
  const decoder = new FrameDecoder();
  return frames.map((f) => {
    const d = decoder.decode(f.bits, f.value);
    return {
      hex: frameHex(f),
      bits: f.bits,
      value: f.value,
      sendTwice: f.sendTwice === true,
      expectAnswer: f.expectAnswer === true,
      description: describeFrame(d),
    };
  });
}

/** The decoded frame as a flat JSON-friendly object. */
export function decodedToJson(d: DecodedFrame): Record<string, unknown> {
  const out: Record<string, unknown> = { hex: frameHex({ bits: d.bits, value: d.value }), description: describeFrame(d) };
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined) continue;
    if (k === 'address' && v && typeof v === 'object') out.address = describeAddress(v as GearAddress);
    else out[k] = v;
  }
  return out;
}

// ----------------------------------------------------------------- options

interface Flags {
  json: boolean;
  dt?: number;
  iface?: InterfaceKind;
  port?: string;
  baud?: number;
  durationS?: number;
  answerTimeoutMs?: number;
  devices: boolean;
  positional: string[];
}

export function parseFlags(args: readonly string[]): Flags {
  const f: Flags = { json: false, devices: true, positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--json':
        f.json = true;
        break;
      case '--dt':
        f.dt = parseNumber(val(), '--dt', 0, 255);
        break;
      case '--dt8':
        f.dt = 8;
        break;
      case '--interface':
      case '-i': {
        const v = val();
        if (v !== 'luba' && v !== 'sci2' && v !== 'hidraw' && v !== 'simulator')
          throw new UsageError(`--interface must be luba, sci2, hidraw or simulator, got '${v}'`);
        f.iface = v;
        break;
      }
      case '--port':
      case '-p':
        f.port = val();
        break;
      case '--baud':
        f.baud = parseNumber(val(), '--baud', 1200, 4_000_000);
        break;
      case '--duration':
        f.durationS = parseNumber(val(), '--duration', 1, 31_536_000);
        break;
      case '--answer-timeout':
        f.answerTimeoutMs = parseNumber(val(), '--answer-timeout', 1, 10_000);
        break;
      case '--no-devices':
        f.devices = false;
        break;
      default:
        if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
        f.positional.push(a);
    }
  }
  return f;
}

// ----------------------------------------------------------------- commands

type Out = (line: string) => void;

export function runDecode(f: Flags, out: Out): void {
  if (f.positional.length === 0) throw new UsageError('decode needs a hex frame, e.g. dali-frame decode 0AC8');
  const frames = f.positional.map(parseHexFrame);
  const decoder = new FrameDecoder();
  for (const [i, fr] of frames.entries()) {
    const d =
      i === 0 && f.dt !== undefined && fr.bits === 16
        ? decodeFrame(16, fr.value, { enabledDeviceType: f.dt })
        : decoder.decode(fr.bits, fr.value);
    if (i === 0 && f.dt !== undefined) decoder.decode(fr.bits, fr.value);
    if (f.json) {
      out(JSON.stringify(decodedToJson(d)));
      continue;
    }
    out(`${frameHex(fr)} (${fr.bits} bit): ${describeFrame(d)}`);
    const fields = decodedToJson(d);
    delete fields.description;
    delete fields.hex;
    for (const [k, v] of Object.entries(fields)) out(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
}

export function runEncode(f: Flags, out: Out): void {
  const frames = describeFrames(encodeWords(f.positional));
  if (f.json) {
    out(JSON.stringify({ frames }));
    return;
  }
  for (const fr of frames) {
    const flags = [fr.sendTwice ? 'send twice' : '', fr.expectAnswer ? 'answer expected' : ''].filter((s) => s).join(', ');
    out(`${fr.hex}  ${fr.description}${flags ? `  [${flags}]` : ''}`);
  }
  if (frames.length > 1) out(`${frames.length} frames: ${frames.map((x) => x.hex).join(' ')}`);
}

function interfaceConfig(f: Flags): InterfaceConfig {
  if (!f.iface) throw new UsageError('--interface luba|sci2|hidraw|simulator is required');
  if (f.iface !== 'simulator' && !f.port) throw new UsageError(`--port is required for --interface ${f.iface}`);
  return {
    type: f.iface,
    ...(f.port ? { path: f.port } : {}),
    ...(f.baud ? { baudRate: f.baud } : {}),
    ...(f.answerTimeoutMs ? { answerTimeoutMs: f.answerTimeoutMs } : {}),
    failFast: true,
    reconnect: { minMs: 250, maxMs: 5000 },
  };
}

async function openInterface(f: Flags, err: Out): Promise<DaliInterface> {
  const iface = createInterface(interfaceConfig(f));
  iface.on('state', (ev) => err(`${new Date().toISOString()} interface ${ev.state}${ev.detail ? `: ${ev.detail}` : ''}`));
  await iface.open();
  return iface;
}

export async function runMonitor(f: Flags, out: Out, err: Out, stop: Promise<void>): Promise<void> {
  const iface = await openInterface(f, err);
  const decoder = new FrameDecoder();
  iface.on('frame', (ev) => {
    const ts = new Date(ev.ts).toISOString();
    if (ev.bits === 8) {
      const text = ev.framingError
        ? 'BACKWARD FRAME framing error (several answers or corrupt)'
        : `BACKWARD FRAME ${ev.value} (0x${ev.value.toString(16).toUpperCase().padStart(2, '0')})`;
      out(
        f.json
          ? JSON.stringify({ ts, bits: 8, value: ev.value, framingError: ev.framingError === true, description: text })
          : `${ts}  8  ${ev.framingError ? '--' : ev.value.toString(16).toUpperCase().padStart(2, '0')}  ${text}`,
      );
      return;
    }
    const d = decoder.decode(ev.bits, ev.value);
    out(f.json ? JSON.stringify({ ts, bits: ev.bits, ...decodedToJson(d) }) : `${ts}  ${ev.bits}  ${frameHex(ev)}  ${describeFrame(d)}`);
  });
  const timers: NodeJS.Timeout[] = [];
  const done =
    f.durationS !== undefined
      ? Promise.race([stop, new Promise<void>((r) => timers.push(setTimeout(r, (f.durationS ?? 0) * 1000)))])
      : stop;
  await done;
  for (const t of timers) clearTimeout(t);
  await iface.close();
}

interface GearScan {
  shortAddress: number;
  addressConflict: boolean;
  deviceTypes: number[];
  /** Groups 0-15 the gear is in (QUERY GROUPS 0-7 and 8-15); absent when it did not answer both. */
  groups?: number[];
  actualLevel?: number;
  dt8?: {
    autoActivation?: boolean;
    tcCapable?: boolean;
    actualKelvin?: number;
    coolestKelvin?: number;
    warmestKelvin?: number;
    physicalCoolestKelvin?: number;
    physicalWarmestKelvin?: number;
  };
}

interface DeviceScan {
  shortAddress: number;
  instances: Array<{ number: number; type?: number }>;
}

const short = (address: number): GearAddress => ({ kind: 'short', address });

/** Kelvin of a colour value in mirek; undefined for no answer or 0. */
function kelvinOf(mirek: number | null): number | undefined {
  return mirek === null || mirek === 0 ? undefined : mirekToKelvin(mirek);
}

export async function scanGear(bus: DaliBus, progress?: Out): Promise<GearScan[]> {
  const found: GearScan[] = [];
  for (let a = 0; a < 64; a++) {
    const present = await bus.query(gearCommand(short(a), GearCommand.QUERY_CONTROL_GEAR_PRESENT));
    if (present.kind === 'none') continue;
    progress?.(`gear at short ${a}`);
    const g: GearScan = {
      shortAddress: a,
      addressConflict: present.kind === 'framingError',
      deviceTypes: (await bus.queryDeviceTypes(a)) ?? [],
    };
    const groups = g.addressConflict ? null : await bus.readGroups(a);
    if (groups !== null) g.groups = groups;
    const level = await bus.readActualLevel(a);
    if (level !== null) g.actualLevel = level;
    if (g.deviceTypes.includes(DEVICE_TYPE_COLOUR)) {
      const features = await bus.readGearFeatures(a, { refresh: true });
      const colourTypes = await dt8Query(bus, a, Dt8Command.QUERY_COLOUR_TYPE_FEATURES);
      const dt8: NonNullable<GearScan['dt8']> = {};
      if (features !== null) dt8.autoActivation = features.autoActivation;
      if (colourTypes !== null) dt8.tcCapable = decodeColourTypeFeatures(colourTypes).tcCapable;
      const actualKelvin = kelvinOf(await bus.readColourTemperatureMirek(a));
      const limits = await bus.readTcLimits(a);
      const v = {
        actualKelvin,
        coolestKelvin: kelvinOf(limits?.coolestMirek ?? null),
        physicalCoolestKelvin: kelvinOf(limits?.physicalCoolestMirek ?? null),
        warmestKelvin: kelvinOf(limits?.warmestMirek ?? null),
        physicalWarmestKelvin: kelvinOf(limits?.physicalWarmestMirek ?? null),
      };
      for (const [k, val] of Object.entries(v)) if (val !== undefined) (dt8 as Record<string, number | boolean>)[k] = val;
      g.dt8 = dt8;
    }
    found.push(g);
  }
  return found;
}

function answerOf(r: BackwardResult): number | undefined {
  return r.kind === 'answer' ? r.value : undefined;
}

export async function scanDevices(bus: DaliBus, progress?: Out): Promise<DeviceScan[]> {
  const found: DeviceScan[] = [];
  for (let a = 0; a < 64; a++) {
    const status = await bus.query(deviceCommand({ kind: 'short', address: a }, DeviceCommand.QUERY_DEVICE_STATUS));
    if (status.kind === 'none') continue;
    progress?.(`control device at short ${a}`);
    const n = answerOf(await bus.query(deviceCommand({ kind: 'short', address: a }, DeviceCommand.QUERY_NUMBER_OF_INSTANCES))) ?? 0;
    const instances: DeviceScan['instances'] = [];
    for (let i = 0; i < Math.min(n, 32); i++) {
      const t = answerOf(
        await bus.query(
          instanceCommand({ kind: 'short', address: a }, { kind: 'number', instance: i }, InstanceCommand.QUERY_INSTANCE_TYPE),
        ),
      );
      instances.push(t === undefined ? { number: i } : { number: i, type: t });
    }
    found.push({ shortAddress: a, instances });
  }
  return found;
}

const INSTANCE_TYPE_NAMES: Record<number, string> = { 0: 'generic', 1: 'push button', 2: 'absolute input', 3: 'occupancy', 4: 'light' };

export async function runScan(f: Flags, out: Out, err: Out): Promise<void> {
  const iface = await openInterface(f, err);
  // The bus's own queries (device types, colour values, gear features); no setpoints, nothing to re-apply.
  const bus = new DaliBus(iface, { probeGearFeatures: false, reapplyOnReconnect: false });
  try {
    const gear = await scanGear(bus, (l) => err(l));
    const devices = f.devices ? await scanDevices(bus, (l) => err(l)) : [];
    if (f.json) {
      out(JSON.stringify({ gear, devices }));
      return;
    }
    if (gear.length === 0) out('no control gear answered');
    for (const g of gear) {
      const types = g.deviceTypes.length
        ? g.deviceTypes.map((t) => (t === DEVICE_TYPE_COLOUR ? '8 (colour)' : String(t))).join(', ')
        : 'none (part 102 only)';
      const parts = [
        `gear short ${g.shortAddress}${g.addressConflict ? ' (ADDRESS CONFLICT: several gear answer)' : ''}`,
        `device types ${types}`,
      ];
      if (g.groups !== undefined) parts.push(g.groups.length > 0 ? `groups ${g.groups.map((n) => `G${n}`).join(' ')}` : 'no groups');
      if (g.actualLevel !== undefined) parts.push(`level ${g.actualLevel}`);
      if (g.dt8) {
        const d = g.dt8;
        if (d.actualKelvin !== undefined) parts.push(`Tc ${d.actualKelvin} K`);
        if (d.coolestKelvin !== undefined && d.warmestKelvin !== undefined) parts.push(`limits ${d.warmestKelvin}..${d.coolestKelvin} K`);
        if (d.physicalCoolestKelvin !== undefined && d.physicalWarmestKelvin !== undefined)
          parts.push(`physical ${d.physicalWarmestKelvin}..${d.physicalCoolestKelvin} K`);
        if (d.tcCapable !== undefined) parts.push(d.tcCapable ? 'Tc capable' : 'no Tc');
        if (d.autoActivation !== undefined) parts.push(`automatic activation ${d.autoActivation ? 'on' : 'off'}`);
      }
      out(parts.join(', '));
    }
    if (f.devices) {
      if (devices.length === 0) out('no control devices answered');
      for (const d of devices) {
        const inst = d.instances
          .map((i) => `${i.number}: ${i.type !== undefined ? (INSTANCE_TYPE_NAMES[i.type] ?? `type ${i.type}`) : '?'}`)
          .join(', ');
        out(`device short ${d.shortAddress}, ${d.instances.length} instance(s)${inst ? ` (${inst})` : ''}`);
      }
    }
  } finally {
    await bus.close();
  }
}

/** Runs the tool; returns the exit code. Never throws. */
export async function run(argv: readonly string[], io: { out: Out; err: Out; stop?: Promise<void> }): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
      (cmd === undefined ? io.err : io.out)(USAGE);
      return cmd === undefined ? 2 : 0;
    }
    const f = parseFlags(rest);
    switch (cmd) {
      case 'decode':
        runDecode(f, io.out);
        return 0;
      case 'encode':
        runEncode(f, io.out);
        return 0;
      case 'monitor':
        await runMonitor(f, io.out, io.err, io.stop ?? new Promise<void>(() => undefined));
        return 0;
      case 'scan':
        await runScan(f, io.out, io.err);
        return 0;
      default:
        io.err(`dali-frame: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      io.err(`dali-frame: ${e.message}\n(dali-frame --help shows the usage)`);
      return 2;
    }
    io.err(`dali-frame: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  let resolveStop: () => void = () => undefined;
  const stop = new Promise<void>((r) => {
    resolveStop = r;
  });
  process.on('SIGINT', () => resolveStop());
  process.on('SIGTERM', () => resolveStop());
  run(process.argv.slice(2), {
    out: (l) => void process.stdout.write(`${l}\n`),
    err: (l) => void process.stderr.write(`${l}\n`),
    stop,
  })
    .then((code) => {
      process.exitCode = code;
      // Close handles may linger (serial poller); do not wait for them.
      setTimeout(() => process.exit(code), 50).unref();
    })
    .catch(() => process.exit(1));
}
