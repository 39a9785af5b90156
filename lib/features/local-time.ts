/**
 * Local minute-of-day and weekday of an instant in an IANA time zone, through
 * Intl (no time-zone database of our own). One formatter per clock; a feature
 * engine asks once per window, not per reading. UTC needs no formatter: it is
 * computed from the epoch (the first Intl.DateTimeFormat of a process costs
 * about 12 ms of ICU set-up on a 2-core machine, ~40 ms when it is busy).
 */

import { activeDemoClock } from './demo-clock';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
/** 1970-01-01 was a Thursday. */
const EPOCH_WEEKDAY = 4;

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export interface LocalTime {
  /** Minutes after local midnight, 0-1439. */
  minuteOfDay: number;
  /** 0 = Sunday ... 6 = Saturday. */
  weekday: number;
}

export class LocalClock {
  readonly timeZone: string;
  /** null for UTC (computed without Intl). */
  readonly #format: Intl.DateTimeFormat | null;

  /** `timeZone`: IANA name (e.g. "Europe/Berlin"); undefined/blank = the process's zone. Throws RangeError for an unknown zone. */
  constructor(timeZone?: string) {
    const wanted = timeZone === undefined || timeZone.trim() === '' ? undefined : timeZone.trim();
    if (wanted !== undefined && wanted.toUpperCase() === 'UTC') {
      this.#format = null;
      this.timeZone = 'UTC';
      return;
    }
    try {
      this.#format = new Intl.DateTimeFormat('en-US', {
        timeZone: wanted,
        hourCycle: 'h23',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      });
    } catch {
      throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as "Europe/Berlin"`);
    }
    this.timeZone = this.#format.resolvedOptions().timeZone;
  }

  at(epochMs: number): LocalTime {
    // The demo clock of a simulated building, when one is in force (never with a real bus).
    const demo = activeDemoClock();
    if (demo) return demo.at(epochMs);
    if (this.#format === null) {
      const minutes = Math.floor(epochMs / MINUTE_MS);
      const days = Math.floor(minutes / DAY_MINUTES);
      return { minuteOfDay: minutes - days * DAY_MINUTES, weekday: (((days + EPOCH_WEEKDAY) % 7) + 7) % 7 };
    }
    let hour = 0;
    let minute = 0;
    let weekday = 0;
    for (const part of this.#format.formatToParts(epochMs)) {
      if (part.type === 'hour') hour = Number(part.value) % 24;
      else if (part.type === 'minute') minute = Number(part.value);
      else if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
    }
    return { minuteOfDay: hour * 60 + minute, weekday };
  }
}
