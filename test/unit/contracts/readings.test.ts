import assert from 'node:assert/strict';
import { ReadingValidationError, validateSensorReading, validateSensorReadingStepwise } from '../../../lib/contracts';
import { mulberry32, pick, randInt } from '../../helpers/prng';

type Outcome = { ok: true; value: unknown; json: string } | { ok: false; name: string; field: string; message: string };

function outcome(validate: (input: unknown) => unknown, input: unknown): Outcome {
  try {
    const value = validate(input);
    return { ok: true, value, json: JSON.stringify(value) };
  } catch (err) {
    assert.ok(err instanceof ReadingValidationError, `only ReadingValidationError, got ${String(err)}`);
    return { ok: false, name: err.name, field: err.field, message: err.message };
  }
}

/** Field values of every kind: valid ones, and each way a field can be wrong. */
const VALUES: Record<string, readonly unknown[]> = {
  id: [
    's',
    'zone-1',
    ' a',
    'a ',
    '\u00e9t\u00e9',
    '\u00a0x',
    '',
    ' ',
    '\t\n',
    '\u00a0',
    '\u2003\u3000',
    '\ufeff',
    'x'.repeat(200),
    'x'.repeat(201),
    7,
    null,
    undefined,
    true,
    [],
    {},
  ],
  ts: [
    0,
    1,
    1_760_000_000_000,
    9_000_000_000_000,
    9_000_000_000_001,
    -1,
    -0,
    1.5,
    Number.NaN,
    Infinity,
    -Infinity,
    '1',
    null,
    undefined,
    true,
  ],
  lux: [0, -0, 0.5, 300, 1e9, 1e300, -0.5, Number.NaN, Infinity, -Infinity, '12', null, undefined, false, {}],
  presence: [true, false, null, undefined, 0, 1, 'true', {}],
};

function randomReading(rng: () => number): unknown {
  const r = rng();
  if (r < 0.02) return pick(rng, [null, undefined, 'x', 5, true, [1], Buffer.from('{}'), new Uint8Array(2)]);
  const fields: Array<[string, readonly unknown[]]> = [
    ['sensorId', VALUES.id as unknown[]],
    ['zone', VALUES.id as unknown[]],
    ['ts', VALUES.ts as unknown[]],
    ['source', VALUES.id as unknown[]],
    ['lux', VALUES.lux as unknown[]],
    ['presence', VALUES.presence as unknown[]],
  ];
  // Mostly valid fields, so that every check is reached, in random key order, sometimes with extra keys.
  const valid: Record<string, unknown> = { sensorId: 's', zone: 'z', ts: 1_760_000_000_000, source: 'dali', lux: 12.5, presence: true };
  const out: Record<string, unknown> = r < 0.05 ? ([] as unknown as Record<string, unknown>) : r < 0.08 ? Object.create(null) : {};
  for (let i = fields.length - 1; i > 0; i--) {
    const j = randInt(rng, 0, i);
    [fields[i], fields[j]] = [fields[j] as [string, unknown[]], fields[i] as [string, unknown[]]];
  }
  for (const [name, values] of fields) {
    const p = rng();
    if (p < 0.7) out[name] = valid[name];
    else if (p < 0.85) out[name] = pick(rng, values);
    // else: absent
  }
  if (rng() < 0.1) out.extra = { nested: true };
  return out;
}

describe('lib/contracts/readings: validateSensorReading', () => {
  it('gives the same clean copy or the same error as the field-by-field checks on 20 000 fuzzed inputs', () => {
    const rng = mulberry32(4242);
    let valid = 0;
    const fields = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const input = randomReading(rng);
      const fast = outcome(validateSensorReading, input);
      const stepwise = outcome(validateSensorReadingStepwise, input);
      assert.deepStrictEqual(fast, stepwise, `input ${i}: ${JSON.stringify(input)}`);
      if (fast.ok) valid += 1;
      else fields.add(fast.field);
    }
    // Both kinds are exercised: accepted readings and a refusal for every field.
    assert.ok(valid > 2000, `valid ${valid}`);
    assert.deepEqual([...fields].sort(), ['lux', 'payload', 'presence', 'sensorId', 'source', 'ts', 'zone']);
  });

  it('returns only the contract fields, in one order, as a new object', () => {
    const input = { presence: false, extra: 1, lux: 3, source: 'mqtt', ts: 5, zone: 'z', sensorId: 's' };
    const out = validateSensorReading(input);
    assert.notEqual(out, input);
    assert.equal(JSON.stringify(out), '{"sensorId":"s","zone":"z","ts":5,"source":"mqtt","lux":3,"presence":false}');
    assert.equal(
      JSON.stringify(validateSensorReading({ ...input, lux: null })),
      '{"sensorId":"s","zone":"z","ts":5,"source":"mqtt","presence":false}',
    );
    assert.equal(
      JSON.stringify(validateSensorReading({ ...input, presence: undefined })),
      '{"sensorId":"s","zone":"z","ts":5,"source":"mqtt","lux":3}',
    );
  });

  it('accepts an object of any other prototype (a class instance, no prototype) like a literal', () => {
    class Reading {
      sensorId = 's';
      zone = 'z';
      ts = 5;
      source = 'dali';
      lux = 1;
    }
    const bare = Object.assign(Object.create(null) as object, new Reading());
    for (const input of [new Reading(), bare]) {
      assert.deepStrictEqual(validateSensorReading(input), { sensorId: 's', zone: 'z', ts: 5, source: 'dali', lux: 1 });
    }
  });

  it('refuses an array or a Buffer (or what inherits from one) even when it carries every field', () => {
    const fields = { sensorId: 's', zone: 'z', ts: 5, source: 'dali', lux: 1 };
    const bufferLike = Object.assign(Object.create(Buffer.prototype) as object, fields);
    for (const input of [Object.assign([], fields), Object.assign(Buffer.from('x'), fields), bufferLike]) {
      assert.throws(
        () => validateSensorReading(input),
        (err: unknown) => err instanceof ReadingValidationError && err.field === 'payload',
      );
    }
  });
});
