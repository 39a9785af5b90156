import type { DecisionWindow } from '../../../lib/contracts';
/** Builders shared by the control tests. */

export const T0 = Date.UTC(2024, 2, 4, 0, 0, 0); // Monday 2024-03-04 00:00 UTC (local = UTC in these tests)
export const MIN = 60_000;

/** A one-minute window ending at minute `m` of the T0 day. */
export function win(
  m: number,
  opts: { zone?: string; lux?: number | null; present?: boolean | null; lenMin?: number; luxLast?: number } = {},
): DecisionWindow {
  const end = T0 + m * MIN;
  const len = (opts.lenMin ?? 1) * MIN;
  const lux = opts.lux === undefined ? 500 : opts.lux;
  const present = opts.present === undefined ? true : opts.present;
  return {
    zone: opts.zone ?? 'office',
    windowStart: end - len,
    windowEnd: end,
    count: 12,
    lux: lux === null ? null : { mean: lux, min: lux, max: lux, std: 0, last: opts.luxLast ?? lux },
    presence: present === null ? null : { ratio: present ? 1 : 0, transitions: 0, last: present },
    minuteOfDay: (((m - (opts.lenMin ?? 1)) % 1440) + 1440) % 1440, // local time of windowStart
    weekday: 1,
  };
}
