import assert from 'node:assert/strict';
import { COMMAND_KELVIN_MAX as CCT_MAX_KELVIN, COMMAND_KELVIN_MIN as CCT_MIN_KELVIN } from '../../../lib/contracts';
import { parseSetLightingArguments, REASON_MAX_LENGTH, SET_LIGHTING_TOOL, SET_LIGHTING_TOOL_CHOICE } from '../../../lib/ai/tool';
import { mulberry32, pick, randInt } from '../../helpers/prng';

const valid = { intensity: 55.5, cct: 4000, reason: 'daylight ample, occupied', confidence: 0.8 };

describe('ai/tool: set_lighting schema', () => {
  it('is one strict function tool with every property required and no additional properties, forced by tool_choice', () => {
    assert.equal(SET_LIGHTING_TOOL.type, 'function');
    assert.equal(SET_LIGHTING_TOOL.function.name, 'set_lighting');
    assert.equal(SET_LIGHTING_TOOL.function.strict, true);
    const params = SET_LIGHTING_TOOL.function.parameters as {
      properties: Record<string, { type: string; minimum?: number; maximum?: number; maxLength?: number }>;
      required: string[];
      additionalProperties: boolean;
    };
    assert.equal(params.additionalProperties, false);
    assert.deepEqual([...params.required].sort(), Object.keys(params.properties).sort());
    assert.deepEqual(Object.keys(params.properties).sort(), ['cct', 'confidence', 'intensity', 'reason']);
    assert.deepEqual([params.properties.intensity?.minimum, params.properties.intensity?.maximum], [0, 100]);
    assert.equal(params.properties.cct?.type, 'integer');
    assert.deepEqual([params.properties.cct?.minimum, params.properties.cct?.maximum], [1800, 6500]);
    assert.deepEqual([params.properties.confidence?.minimum, params.properties.confidence?.maximum], [0, 1]);
    // strict mode does not accept maxLength: the limit is enforced locally instead
    assert.equal(params.properties.reason?.maxLength, undefined);
    assert.deepEqual(SET_LIGHTING_TOOL_CHOICE, { type: 'function', function: { name: 'set_lighting' } });
  });
});

describe('ai/tool: parseSetLightingArguments', () => {
  it('accepts valid arguments', () => {
    assert.deepEqual(parseSetLightingArguments(JSON.stringify(valid)), { ok: true, args: valid });
    const edges = { intensity: 0, cct: CCT_MIN_KELVIN, reason: '', confidence: 1 };
    assert.deepEqual(parseSetLightingArguments(JSON.stringify(edges)), { ok: true, args: edges });
    const top = { intensity: 100, cct: CCT_MAX_KELVIN, reason: 'x'.repeat(REASON_MAX_LENGTH), confidence: 0 };
    assert.equal(parseSetLightingArguments(JSON.stringify(top)).ok, true);
  });

  it('rejects malformed JSON without echoing it', () => {
    for (const raw of ['{"intensity": 50, "cct": 40', '', 'not json', "{'a':1}"]) {
      const r = parseSetLightingArguments(raw);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, 'invalid-json');
        if (raw.length > 3) assert.ok(!r.detail.includes(raw));
      }
    }
    for (const raw of [null, 5, { intensity: 1 }, undefined]) {
      const r = parseSetLightingArguments(raw);
      assert.ok(!r.ok && r.code === 'invalid-json');
    }
  });

  it('rejects out-of-range, wrong-type, missing and extra fields, naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...valid, intensity: 150 }, /\/intensity/],
      [{ ...valid, intensity: -1 }, /\/intensity/],
      [{ ...valid, cct: 9000 }, /\/cct/],
      [{ ...valid, cct: 1000 }, /\/cct/],
      [{ ...valid, cct: 4000.5 }, /\/cct/],
      [{ ...valid, confidence: 1.5 }, /\/confidence/],
      [{ ...valid, intensity: '50' }, /\/intensity/],
      [{ ...valid, reason: 'x'.repeat(REASON_MAX_LENGTH + 1) }, /\/reason/],
      [{ intensity: 50, cct: 4000, reason: 'r' }, /confidence/],
      [{ ...valid, fadeMs: 0 }, /extra property/],
    ];
    for (const [args, where] of cases) {
      const r = parseSetLightingArguments(JSON.stringify(args));
      assert.ok(!r.ok, JSON.stringify(args));
      if (!r.ok) {
        assert.equal(r.code, 'invalid-arguments');
        assert.match(r.detail, where);
      }
    }
    // numbers JSON cannot hold as finite values
    const r = parseSetLightingArguments('{"intensity": 1e999, "cct": 4000, "reason": "r", "confidence": 0.5}');
    assert.ok(!r.ok && r.code === 'invalid-arguments');
    const proto = parseSetLightingArguments('{"intensity": 5, "cct": 4000, "reason": "r", "confidence": 0.5, "__proto__": {"x": 1}}');
    assert.ok(!proto.ok && proto.code === 'invalid-arguments');
  });

  it('fuzz: whatever the text, it never throws and accepts only in-range values', () => {
    const rng = mulberry32(0xa11ce);
    const atoms = [
      '{',
      '}',
      '"intensity"',
      '"cct"',
      '"reason"',
      '"confidence"',
      ':',
      ',',
      '50',
      '4000',
      '0.5',
      '"x"',
      '1e400',
      '-3',
      'null',
      '[',
      ']',
      'true',
    ];
    for (let i = 0; i < 2000; i++) {
      let raw = '';
      const n = randInt(rng, 0, 20);
      for (let j = 0; j < n; j++) raw += pick(rng, atoms);
      const r = parseSetLightingArguments(raw);
      if (r.ok) {
        assert.ok(r.args.intensity >= 0 && r.args.intensity <= 100, raw);
        assert.ok(Number.isInteger(r.args.cct) && r.args.cct >= 1800 && r.args.cct <= 6500, raw);
        assert.ok(r.args.confidence >= 0 && r.args.confidence <= 1, raw);
      }
    }
  });
});
