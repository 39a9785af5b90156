import assert from 'node:assert/strict';
import { formatGearAddress, parseGearAddress, parseGearList, parseShortList } from '../../../lib/dali/address-spec';
import { DaliInputError } from '../../../lib/dali/input-error';
import type { GearAddress } from '../../../lib/dali/types';
import { mulberry32, pick, randInt } from '../../helpers/prng';

describe('address-spec: gear addresses as people type them', () => {
  it('reads short addresses with or without A, groups with G, and broadcast', () => {
    assert.deepEqual(parseGearAddress('5'), { kind: 'short', address: 5 });
    assert.deepEqual(parseGearAddress(' a63 '), { kind: 'short', address: 63 });
    assert.deepEqual(parseGearAddress('A0'), { kind: 'short', address: 0 });
    assert.deepEqual(parseGearAddress('g15'), { kind: 'group', group: 15 });
    assert.deepEqual(parseGearAddress('BC'), { kind: 'broadcast' });
    assert.deepEqual(parseGearAddress('Broadcast'), { kind: 'broadcast' });
    assert.deepEqual(parseGearAddress(7), { kind: 'short', address: 7 }, 'a number from a msg property');
  });

  it('formats every address back to text that parses to the same address', () => {
    const all: GearAddress[] = [
      ...Array.from({ length: 64 }, (_, address) => ({ kind: 'short' as const, address })),
      ...Array.from({ length: 16 }, (_, group) => ({ kind: 'group' as const, group })),
      { kind: 'broadcast' },
    ];
    for (const a of all) assert.deepEqual(parseGearAddress(formatGearAddress(a)), a);
    assert.equal(formatGearAddress({ kind: 'short', address: 5 }), 'A5');
    assert.equal(formatGearAddress({ kind: 'group', group: 0 }), 'G0');
    assert.equal(formatGearAddress({ kind: 'broadcast' }), 'BC');
  });

  it('refuses anything else with code "address" and the value in words', () => {
    for (const bad of [
      '64',
      'A64',
      'G16',
      'A',
      'X1',
      '',
      '5,6',
      'A-1',
      '1.5',
      'G',
      'BCX',
      5.5,
      -1,
      64,
      NaN,
      null,
      undefined,
      {},
      [5],
      true,
    ]) {
      assert.throws(
        () => parseGearAddress(bad),
        (e: unknown) => e instanceof DaliInputError && e.code === 'address' && typeof e.params.value === 'string',
        String(bad),
      );
    }
  });

  it('never throws anything but a DaliInputError on random text (seed 4242)', () => {
    const rng = mulberry32(4242);
    const alphabet = ['A', 'a', 'G', 'g', 'B', 'C', '0', '1', '5', '6', '9', ' ', '-', ',', 'x', '.'];
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: randInt(rng, 0, 5) }, () => pick(rng, alphabet)).join('');
      try {
        const a = parseGearAddress(text);
        assert.deepEqual(parseGearAddress(formatGearAddress(a)), a, `seed 4242 #${i}: ${JSON.stringify(text)}`);
      } catch (e) {
        assert.ok(e instanceof DaliInputError, `seed 4242 #${i}: ${JSON.stringify(text)} threw ${String(e)}`);
      }
    }
  });

  it('reads gear lists of short addresses, ranges and groups', () => {
    assert.deepEqual(parseGearList('A0-3,G1, 7'), { shorts: [0, 1, 2, 3, 7], groups: [1] });
    assert.deepEqual(parseGearList('g2,a5-A6,5'), { shorts: [5, 6], groups: [2] });
    assert.deepEqual(parseGearList('  '), { shorts: [], groups: [] });
    for (const bad of ['G16', 'A3-1', 'A64', 'x', '1,,2', 5]) {
      assert.throws(
        () => parseGearList(bad),
        (e: unknown) => e instanceof DaliInputError && e.code === 'gearList',
        String(bad),
      );
    }
  });

  it('reads short address lists', () => {
    assert.deepEqual(parseShortList('0-3,8'), [0, 1, 2, 3, 8]);
    assert.deepEqual(parseShortList('3, 1-2, 2'), [1, 2, 3]);
    assert.deepEqual(parseShortList(''), []);
    assert.deepEqual(parseShortList('15', 15), [15]);
    for (const bad of ['0-64', '3-1', 'a', '1;2']) {
      assert.throws(
        () => parseShortList(bad),
        (e: unknown) => e instanceof DaliInputError && e.code === 'shortList',
        bad,
      );
    }
    assert.throws(() => parseShortList('16', 15), DaliInputError);
  });
});
