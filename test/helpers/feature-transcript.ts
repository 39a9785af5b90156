/**
 * A transcript of everything a feature engine answers to one seeded stream:
 * each ingest's result or error (name, field, message), the windows advance()
 * closes, aggregateNow() snapshots, replays, weather, and a second engine
 * restored from the first one's windows. Numbers go through JSON.stringify,
 * which writes every double exactly, so two engines with the same transcript
 * give the same windows bit for bit. The unit test pins the transcript's
 * SHA-256 as the engine produced it before its hot path was reworked.
 */
import { createHash } from 'crypto';
import type { FeatureEngineOptions, FeatureWindowEngine } from '../../lib/features';
import { mulberry32, pick, randInt, type Rng } from './prng';

type Engine = Pick<
  FeatureWindowEngine,
  'ingest' | 'advance' | 'aggregateNow' | 'replay' | 'restore' | 'setWeather' | 'latest' | 'closedUntil' | 'openWindowCount' | 'zones'
>;

const T0 = 1_760_000_000_000 - (1_760_000_000_000 % 3_600_000);

/** Readings the contract refuses, of every kind, and odd ones it accepts (extra fields, null lux, -0). */
function oddReading(rng: Rng, zone: string, ts: number): unknown {
  const base = { sensorId: 's', zone, ts, source: 'dali', lux: 10 };
  switch (randInt(rng, 0, 23)) {
    case 0:
      return null;
    case 1:
      return [base];
    case 2:
      return Buffer.from('{}');
    case 3:
      return { ...base, zone: '' };
    case 4:
      return { ...base, zone: '   ' };
    case 5:
      return { ...base, zone: '\u00a0\u2003' };
    case 6:
      return { ...base, sensorId: 'x'.repeat(201) };
    case 7:
      return { ...base, source: 7 };
    case 8:
      return { ...base, ts: String(ts) };
    case 9:
      return { ...base, ts: Number.NaN };
    case 10:
      return { ...base, ts: -1 };
    case 11:
      return { ...base, ts: ts + 3_600_000 };
    case 12:
      return { ...base, lux: -0.5 };
    case 13:
      return { ...base, lux: Number.POSITIVE_INFINITY };
    case 14:
      return { ...base, lux: '12' };
    case 15:
      return { sensorId: 's', zone, ts, source: 'dali' };
    case 16:
      return { sensorId: 's', zone, ts, source: 'dali', presence: 1 };
    case 17:
      return { sensorId: 's', zone, ts, source: 'dali', lux: null, presence: null };
    case 18:
      return { ...base, lux: null, presence: true, extra: { nested: 1 } };
    case 19:
      return { ...base, lux: -0 };
    case 20:
      return { ...base, zone: ` ${zone}` };
    case 21:
      return Object.assign(Object.create(null) as object, base);
    case 22:
      return { presence: false, lux: undefined, source: 'mqtt', ts, zone, sensorId: 'reordered' };
    default:
      return 'not an object';
  }
}

function describeError(err: unknown): string {
  const e = err as { name?: string; field?: string; message?: string };
  return `error ${String(e.name)} ${String(e.field)} ${String(e.message)}`;
}

/** The transcript (one JSON line per answer) of `seed`'s stream through engines made by `make`. */
export function featureTranscript(make: (options: FeatureEngineOptions) => Engine, seed: number): string[] {
  const rng = mulberry32(seed);
  const lines: string[] = [];
  const put = (what: string, v: unknown): void => {
    lines.push(`${what} ${JSON.stringify(v)}`);
  };
  const options: FeatureEngineOptions[] = [
    { windowMs: 60_000, graceMs: 10_000, presenceHoldMs: 30_000, timeZone: 'UTC', keepWindows: 4 },
    { windowMs: 300_000, graceMs: 60_000, timeZone: 'Europe/Berlin', keepWindows: 2, maxZones: 5 },
    { windowMs: 10_000, graceMs: 0, presenceHoldMs: 150, timeZone: 'America/New_York' },
  ];
  for (const opts of options) {
    const engine = make(opts);
    const windowMs = opts.windowMs as number;
    const zones = ['a', 'b', 'c', 'd', 'e', 'f'];
    const closed: unknown[] = [];
    // Readings in time order, delivered by arrival: mostly at once, some out of order, some late.
    const stream: Array<{ zone: string; ts: number; arrival: number; seq: number }> = [];
    let clock = T0;
    for (let seq = 0; seq < 4000; seq++) {
      // Steps of windowMs / 200, so that gaps equal to the presence hold (and other ties) occur.
      clock += randInt(rng, 0, 2) * (windowMs / 200);
      const r = rng();
      const delay = r < 0.8 ? randInt(rng, 0, 200) : r < 0.95 ? randInt(rng, 0, windowMs) : randInt(rng, 0, 3 * windowMs);
      stream.push({ zone: pick(rng, zones), ts: clock, arrival: clock + delay, seq });
    }
    stream.sort((x, y) => x.arrival - y.arrival || x.seq - y.seq);
    for (const { zone, ts, arrival: now } of stream) {
      let input: unknown;
      if (rng() < 0.06) {
        input = oddReading(rng, zone, ts);
      } else {
        const reading: Record<string, unknown> = { sensorId: `s-${zone}`, zone, ts, source: 'dali' };
        const kind = rng();
        if (kind < 0.7) reading.lux = rng() < 0.05 ? 1e9 + rng() : Math.round(rng() * 100_000) / 100;
        if (kind > 0.4) reading.presence = rng() < 0.5;
        input = reading;
      }
      try {
        put('ingest', engine.ingest(input, now));
      } catch (err) {
        lines.push(describeError(err));
      }
      if (rng() < 0.1) {
        const windows = engine.advance(now);
        closed.push(...windows);
        put('advance', windows);
      }
      if (rng() < 0.004) put('aggregateNow', engine.aggregateNow(now));
      if (rng() < 0.01) {
        try {
          put(
            'weather',
            engine.setWeather({
              ts: now - randInt(rng, 0, 4 * 3_600_000),
              zone: rng() < 0.5 ? zone : null,
              temperatureC: randInt(rng, -5, 30),
            }),
          );
        } catch (err) {
          lines.push(describeError(err));
        }
      }
      if (rng() < 0.01) {
        try {
          put('replay', engine.replay({ sensorId: 'r', zone, ts: ts - randInt(rng, 0, 2 * windowMs), source: 'replay', lux: 5 }));
        } catch (err) {
          lines.push(describeError(err));
        }
      }
      if (rng() < 0.01) put('latest', engine.latest(zone));
    }
    const last = engine.advance(Number.MAX_SAFE_INTEGER);
    closed.push(...last);
    put('advance', last);
    put('state', { zones: engine.zones(), open: engine.openWindowCount(), closedUntil: zones.map((z) => engine.closedUntil(z)) });

    // A restart: the windows stored so far restore a second engine, which goes on counting.
    const restored = make(opts);
    restored.restore(closed as Parameters<Engine['restore']>[0]);
    put('restored', { zones: restored.zones(), latest: zones.map((z) => restored.latest(z)) });
    for (let i = 0; i < 300; i++) {
      const zone = pick(rng, zones);
      const ts = clock - windowMs + randInt(rng, 0, 3 * windowMs);
      try {
        put(
          'ingest',
          restored.ingest({ sensorId: 's', zone, ts, source: 'dali', lux: i, presence: i % 3 === 0 }, ts + randInt(rng, 0, windowMs)),
        );
      } catch (err) {
        lines.push(describeError(err));
      }
    }
    put('advance', restored.advance(Number.MAX_SAFE_INTEGER));
  }
  return lines;
}

/** SHA-256 (hex) of a transcript. */
export function transcriptHash(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
