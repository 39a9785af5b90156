/**
 * Payload cap: cost and size of buildPayload (allow-list, rounding, trimming to
 * the cap) against the naive approach measured in the same run:
 * JSON.stringify of the last three windows as they come (what a service does
 * when it "only reads the most recent 1-3 rows"), which has no allow-list and
 * no size guarantee. Goal (with met): every payload within its cap.
 *
 * Run: node dist/bench/payload-cap.bench.js [iterations]
 */
import { buildPayload } from '../lib/ai/payload';
import { mulberry32, randInt } from '../test/helpers/prng';

const N = Number(process.argv[2] ?? 20_000);
const CAP = 2048;
const rng = mulberry32(7);

function emit(metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'payload-cap', metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

function window(i: number, weatherExtras: number): Record<string, unknown> {
  const start = 1_700_000_000_000 + i * 300_000;
  const weather: Record<string, unknown> = { ts: start, temperatureC: 10 + rng() * 15, cloudCoverPct: rng() * 100, source: 'open-meteo' };
  for (let k = 0; k < weatherExtras; k++) weather[`extra_${k}`] = rng() * 1000;
  return {
    zone: 'office-1',
    windowStart: start,
    windowEnd: start + 300_000,
    count: randInt(rng, 10, 300),
    lux: { mean: rng() * 800, min: rng() * 300, max: 300 + rng() * 800, std: rng() * 50, last: rng() * 800 },
    presence: { ratio: rng(), transitions: randInt(rng, 0, 6), last: rng() < 0.5, lastTs: start + 299_000 },
    weather,
    minuteOfDay: (i * 5) % 1440,
    weekday: 3,
  };
}

const hints = { minIntensityPct: 20, maxStepPct: 10, cctBias: 'warm', slowerDimDown: true };
const typical = [0, 1, 2, 3, 4].map((i) => window(i, 0));
const stress = [0, 1, 2, 3, 4].map((i) => window(i, 80));

function time(fn: () => number): { ms: number; check: number } {
  const t0 = process.hrtime.bigint();
  const check = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, check };
}

function naive(ws: readonly unknown[]): string {
  return JSON.stringify(ws.slice(-3));
}

for (const [name, ws] of [
  ['typical', typical],
  ['stress', stress],
] as const) {
  // warm-up
  for (let i = 0; i < 500; i++) {
    buildPayload(ws, hints, { payloadCapBytes: CAP });
    naive(ws);
  }
  const built = time(() => {
    let s = 0;
    for (let i = 0; i < N; i++) s += buildPayload(ws, hints, { payloadCapBytes: CAP }).bytes;
    return s;
  });
  const base = time(() => {
    let s = 0;
    for (let i = 0; i < N; i++) s += Buffer.byteLength(naive(ws), 'utf8');
    return s;
  });
  const one = buildPayload(ws, hints, { payloadCapBytes: CAP });
  const naiveBytes = Buffer.byteLength(naive(ws), 'utf8');
  emit(`${name}_build_us`, (built.ms * 1000) / N, 'us/call', { windowsSent: one.windowsSent, trimmed: one.trimmed.length });
  emit(`${name}_build_us_baseline`, (base.ms * 1000) / N, 'us/call', { baseline: 'JSON.stringify(last 3 windows)' });
  emit(`${name}_payload_bytes`, one.bytes, 'bytes', {
    capBytes: CAP,
    withinCap: one.bytes <= CAP,
    goal: `<= ${CAP}`,
    met: one.bytes <= CAP,
  });
  emit(`${name}_payload_bytes_baseline`, naiveBytes, 'bytes', { capBytes: CAP, withinCap: naiveBytes <= CAP });
}

// worst case for trimming: every step needed to reach a 256-byte cap
const tight = time(() => {
  let s = 0;
  for (let i = 0; i < N / 10; i++) s += buildPayload(stress, hints, { payloadCapBytes: 256 }).bytes;
  return s;
});
const tightBytes = buildPayload(stress, hints, { payloadCapBytes: 256 }).bytes;
emit('stress_cap256_build_us', (tight.ms * 1000) / (N / 10), 'us/call', { note: 'all trim steps applied' });
emit('stress_cap256_payload_bytes', tightBytes, 'bytes', { capBytes: 256, goal: '<= 256', met: tightBytes <= 256 });
