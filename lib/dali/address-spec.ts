/**
 * Gear addresses as people type them, and back.
 *
 * - One address (`parseGearAddress`): `5` or `A5` = short address 5 (0-63),
 *   `G0` = group 0 (0-15), `BC` or `broadcast` = every gear. Case and
 *   surrounding blanks do not matter; a number 0-63 (from a msg property) is
 *   a short address.
 * - A list of gear (`parseGearList`, e.g. the zone gear of a sensor):
 *   `A0-3,G1, 7` = short addresses 0-3 and 7, group 1. An empty text is an
 *   empty list.
 * - Short address lists (`parseShortList`, the simulator's gear): `0-3,8`.
 *
 * Refusals are DaliInputError with codes `address`, `gearList` and
 * `shortList` (params: `value`).
 */
import { DaliInputError, describeInput } from './input-error';
import type { GearAddress } from './types';

const SHORT_MAX = 63;
const GROUP_MAX = 15;

function addressError(value: unknown): DaliInputError {
  return new DaliInputError(
    'address',
    { value: describeInput(value) },
    `gear address ${describeInput(value)} is not a short address 0-63 (5 or A5), a group G0-G15, or BC/broadcast`,
  );
}

/** Parses one gear address. @throws DaliInputError (code `address`). */
export function parseGearAddress(input: unknown): GearAddress {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0 && input <= SHORT_MAX) return { kind: 'short', address: input };
    throw addressError(input);
  }
  if (typeof input !== 'string') throw addressError(input);
  const text = input.trim();
  if (/^(bc|broadcast)$/i.test(text)) return { kind: 'broadcast' };
  const m = /^(a?|g)(\d{1,2})$/i.exec(text);
  if (!m) throw addressError(input);
  const n = Number(m[2]);
  if (m[1]?.toLowerCase() === 'g') {
    if (n > GROUP_MAX) throw addressError(input);
    return { kind: 'group', group: n };
  }
  if (n > SHORT_MAX) throw addressError(input);
  return { kind: 'short', address: n };
}

/** `A5`, `G0`, `BC` (and `BCU` for broadcast unaddressed). */
export function formatGearAddress(address: GearAddress): string {
  switch (address.kind) {
    case 'short':
      return `A${address.address}`;
    case 'group':
      return `G${address.group}`;
    case 'broadcast':
      return 'BC';
    case 'broadcastUnaddressed':
      return 'BCU';
  }
}

/** Gear named by a list: short addresses and groups, ascending, without repeats. */
export interface GearList {
  readonly shorts: readonly number[];
  readonly groups: readonly number[];
}

/** Parses `A0-3,G1, 7`. @throws DaliInputError (code `gearList`). */
export function parseGearList(text: unknown): GearList {
  const fail = (): DaliInputError =>
    new DaliInputError(
      'gearList',
      { value: describeInput(text) },
      `gear list ${describeInput(text)} is not like A0-3,G1 (short addresses 0-63 with optional A, groups G0-G15)`,
    );
  if (typeof text !== 'string') throw fail();
  const shorts = new Set<number>();
  const groups = new Set<number>();
  const value = text.trim();
  if (value === '') return { shorts: [], groups: [] };
  for (const raw of value.split(',')) {
    const item = raw.trim();
    const g = /^g(\d{1,2})$/i.exec(item);
    if (g) {
      const n = Number(g[1]);
      if (n > GROUP_MAX) throw fail();
      groups.add(n);
      continue;
    }
    const r = /^a?(\d{1,2})(?:\s*-\s*a?(\d{1,2}))?$/i.exec(item);
    if (!r) throw fail();
    const from = Number(r[1]);
    const to = r[2] === undefined ? from : Number(r[2]);
    if (from > to || to > SHORT_MAX) throw fail();
    for (let a = from; a <= to; a++) shorts.add(a);
  }
  return { shorts: [...shorts].sort((a, b) => a - b), groups: [...groups].sort((a, b) => a - b) };
}

/** Parses `0-3,8` into ascending numbers 0..max. Empty text = []. @throws DaliInputError (code `shortList`). */
export function parseShortList(text: unknown, max = SHORT_MAX): number[] {
  const fail = (): DaliInputError =>
    new DaliInputError(
      'shortList',
      { value: describeInput(text), max },
      `${describeInput(text)} is not a list of numbers 0-${max} and ranges like 0-3,8`,
    );
  if (typeof text !== 'string') throw fail();
  const out = new Set<number>();
  const value = text.trim();
  if (value === '') return [];
  for (const raw of value.split(',')) {
    const m = /^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?$/.exec(raw);
    if (!m) throw fail();
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to || to > max) throw fail();
    for (let a = from; a <= to; a++) out.add(a);
  }
  return [...out].sort((a, b) => a - b);
}
