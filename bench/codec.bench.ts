/**
 * Codec throughput: encode (builders) and decode (decodeFrame) operations per
 * second over 1e6 mixed frames (gear DAPC/commands/queries, DT8, specials,
 * 24-bit device commands and events), against a naive codec measured in the
 * same run: hex strings + string-keyed lookup tables + parseInt.
 *
 * Encode has two baselines: the hex-string encoder alone (the honest one, goal
 * >= 2x) and the same followed by a JSON round trip of the frame (the original
 * baseline, kept for comparison with older runs; no goal, as most of its time
 * is JSON). Decode: the hex-string decoder (name and address only), goal >= 2x.
 *
 * Each loop runs BENCH_ROUNDS times (default 3), the loops taking turns; the
 * median round is reported.
 *
 * Run: node dist/bench/codec.bench.js [frames]
 */
import {
  dapc,
  decodeFrame,
  DEVICE_COMMANDS,
  DT8_COMMANDS,
  dt8Command,
  eventFrame,
  GEAR_COMMANDS,
  gearCommand,
  deviceCommand,
  specialCommand,
  SPECIAL_COMMANDS,
} from '../lib/dali/codec';
import { EventScheme, ForwardFrame } from '../lib/dali/types';
import { mulberry32, randInt } from '../test/helpers/prng';

const N = Number(process.argv[2] ?? 1e6);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const rng = mulberry32(2024);

type Op = { kind: 'dapc' | 'gear' | 'dt8' | 'special' | 'device' | 'event'; a: number; b: number };
const gearOps = GEAR_COMMANDS.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
const dt8Ops = DT8_COMMANDS.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
const specialOps = SPECIAL_COMMANDS.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
const deviceOps = DEVICE_COMMANDS.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);

const ops: Op[] = [];
for (let i = 0; i < N; i++) {
  const r = rng();
  if (r < 0.4) ops.push({ kind: 'dapc', a: randInt(rng, 0, 63), b: randInt(rng, 0, 254) });
  else if (r < 0.6) ops.push({ kind: 'gear', a: randInt(rng, 0, 63), b: gearOps[randInt(rng, 0, gearOps.length - 1)] as number });
  else if (r < 0.7) ops.push({ kind: 'dt8', a: randInt(rng, 0, 63), b: dt8Ops[randInt(rng, 0, dt8Ops.length - 1)] as number });
  else if (r < 0.85)
    ops.push({ kind: 'special', a: specialOps[randInt(rng, 0, specialOps.length - 1)] as number, b: randInt(rng, 0, 255) });
  else if (r < 0.93) ops.push({ kind: 'device', a: randInt(rng, 0, 63), b: deviceOps[randInt(rng, 0, deviceOps.length - 1)] as number });
  else ops.push({ kind: 'event', a: randInt(rng, 0, 63), b: randInt(rng, 0, 0x3ff) });
}

function encode(op: Op): ForwardFrame {
  switch (op.kind) {
    case 'dapc':
      return dapc({ kind: 'short', address: op.a }, op.b);
    case 'gear':
      return gearCommand({ kind: 'short', address: op.a }, op.b);
    case 'dt8':
      return dt8Command({ kind: 'short', address: op.a }, op.b);
    case 'special':
      return specialCommand(op.a, op.b);
    case 'device':
      return deviceCommand({ kind: 'short', address: op.a }, op.b);
    case 'event':
      return eventFrame({ scheme: EventScheme.Device, shortAddress: op.a, instanceType: 3 }, op.b);
  }
}

// ---- naive baseline: hex strings and string-keyed tables ----
const naiveNames: Record<string, string> = {};
GEAR_COMMANDS.forEach((x, i) => x && (naiveNames['gear:' + i.toString(16)] = x.name));
DT8_COMMANDS.forEach((x, i) => x && (naiveNames['dt8:' + i.toString(16)] = x.name));
SPECIAL_COMMANDS.forEach((x, i) => x && (naiveNames['special:' + i.toString(16)] = x.name));
DEVICE_COMMANDS.forEach((x, i) => x && (naiveNames['device:' + i.toString(16)] = x.name));

/** The naive encoder: hex strings and parseInt, no JSON. */
function naiveEncodeHex(op: Op): ForwardFrame {
  const h2 = (n: number): string => n.toString(16).padStart(2, '0');
  let hex: string;
  let bits: 16 | 24 = 16;
  switch (op.kind) {
    case 'dapc':
      hex = h2(op.a * 2) + h2(op.b);
      break;
    case 'gear':
    case 'dt8':
      hex = h2(op.a * 2 + 1) + h2(op.b);
      break;
    case 'special':
      hex = h2(op.a) + h2(op.b);
      break;
    case 'device':
      hex = h2(op.a * 2 + 1) + 'fe' + h2(op.b);
      bits = 24;
      break;
    case 'event':
      hex = (op.a * 2).toString(16).padStart(2, '0') + h2((3 << 2) | (op.b >> 8)) + h2(op.b & 0xff);
      bits = 24;
      break;
  }
  return { bits, value: parseInt(hex, 16) };
}

/** The original baseline: the naive encoder followed by a JSON round trip of the frame. */
function naiveEncode(op: Op): ForwardFrame {
  return JSON.parse(JSON.stringify(naiveEncodeHex(op))) as ForwardFrame;
}

function naiveDecode(bits: number, value: number): { name: string; address?: number } {
  const hex = value.toString(16).padStart(bits / 4, '0');
  const a = parseInt(hex.slice(0, 2), 16);
  if (bits === 24) {
    if ((a & 1) === 0) return { name: 'EVENT', address: a >> 1 };
    return { name: naiveNames['device:' + parseInt(hex.slice(4, 6), 16).toString(16)] ?? 'UNKNOWN', address: a >> 1 };
  }
  const b = parseInt(hex.slice(2, 4), 16);
  if (a >= 0xa0 && a < 0xfc) return { name: naiveNames['special:' + a.toString(16)] ?? 'UNKNOWN' };
  if ((a & 1) === 0) return { name: 'DAPC', address: a >> 1 };
  const key = (b >= 0xe0 ? 'dt8:' : 'gear:') + b.toString(16);
  return { name: naiveNames[key] ?? 'UNKNOWN', address: a >> 1 };
}

function time(fn: () => number): { ms: number; check: number } {
  const t0 = process.hrtime.bigint();
  const check = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, check };
}

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  const v = unit === 'x' ? Math.round(value * 100) / 100 : Math.round(value);
  process.stdout.write(JSON.stringify({ bench: 'codec', metric, value: v, unit, frames: N, ...extra }) + '\n');
}

// warm-up
for (let i = 0; i < Math.min(N, 50000); i++) {
  const op = ops[i] as Op;
  const f = encode(op);
  decodeFrame(f.bits, f.value, { enabledDeviceType: 8 });
  naiveDecode(f.bits, naiveEncode(op).value);
  naiveEncodeHex(op);
}

// The frames to decode, built once outside the timed loops, so that every
// encode loop does the same work: encode and sum the values.
const frames: ForwardFrame[] = ops.map(encode);
const ctx = { enabledDeviceType: 8 };
const loops = {
  enc: (): number => {
    let s = 0;
    for (let i = 0; i < N; i++) s += encode(ops[i] as Op).value;
    return s;
  },
  encBase: (): number => {
    let s = 0;
    for (let i = 0; i < N; i++) s += naiveEncode(ops[i] as Op).value;
    return s;
  },
  encHex: (): number => {
    let s = 0;
    for (let i = 0; i < N; i++) s += naiveEncodeHex(ops[i] as Op).value;
    return s;
  },
  dec: (): number => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const f = frames[i] as ForwardFrame;
      s += decodeFrame(f.bits, f.value, ctx).name.length;
    }
    return s;
  },
  decBase: (): number => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const f = frames[i] as ForwardFrame;
      s += naiveDecode(f.bits, f.value).name.length;
    }
    return s;
  },
};
// Every loop runs once per round, in turn; each reports its median round
// (the first rounds of a loop include its JIT warm-up, whichever runs first).
const times: Record<keyof typeof loops, { ms: number; check: number }[]> = { enc: [], encBase: [], encHex: [], dec: [], decBase: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const k of Object.keys(loops) as (keyof typeof loops)[]) times[k].push(time(loops[k]));
}
const med = (k: keyof typeof loops): { ms: number; check: number } => {
  const sorted = [...times[k]].sort((a, b) => a.ms - b.ms);
  return sorted[sorted.length >> 1] as { ms: number; check: number };
};
const enc = med('enc');
const encBase = med('encBase');
const encHex = med('encHex');
const dec = med('dec');
const decBase = med('decBase');
if (enc.check !== encHex.check) process.stderr.write(`warning: hex baseline encode differs (${enc.check} vs ${encHex.check})\n`);
if (enc.check !== encBase.check) process.stderr.write(`warning: baseline encode differs (${enc.check} vs ${encBase.check})\n`);

emit('encode_ops_per_s', (N / enc.ms) * 1000, 'ops/s', { rounds: ROUNDS });
emit('encode_ops_per_s_baseline', (N / encBase.ms) * 1000, 'ops/s', { baseline: 'hex strings + JSON round trip' });
emit('encode_speedup', encBase.ms / enc.ms, 'x', { note: 'JSON baseline time / codec time; inflated by JSON, see encode_speedup_vs_hex' });
emit('encode_ops_per_s_baseline_hex', (N / encHex.ms) * 1000, 'ops/s', { baseline: 'hex strings + parseInt, no JSON' });
emit('encode_speedup_vs_hex', encHex.ms / enc.ms, 'x', {
  note: 'hex baseline time / codec time',
  goal: '>= 2x',
  met: encHex.ms / enc.ms >= 2,
});
emit('decode_ops_per_s', (N / dec.ms) * 1000, 'ops/s', { note: 'full DecodedFrame with addresses, flags, event fields' });
emit('decode_ops_per_s_baseline', (N / decBase.ms) * 1000, 'ops/s', { baseline: 'hex strings + string-keyed name lookup (name only)' });
emit('decode_speedup', decBase.ms / dec.ms, 'x', { note: 'baseline time / codec time', goal: '>= 2x', met: decBase.ms / dec.ms >= 2 });
