/**
 * Meeting room: daylight lower than the open office (a smaller window, default
 * peak 450 lux instead of 900) and meetings that start and end during office
 * hours, with the room empty between them and outside office hours.
 *
 * Deterministic for a seed (mulberry32). The day is built as a sequence:
 * the first meeting starts between officeStartHour and officeStartHour +
 * 1.5 h, each meeting lasts 30-90 min (5-min steps), and the room stays empty
 * 15-75 min (5-min steps; about one gap in four is a long one of 60-180 min)
 * before the next. A meeting that would end after officeEndHour is not held.
 * Daylight and clouds are OfficeDayScenario's (same seed, lower peak);
 * movement during a meeting is OfficeDayScenario's (about 60 % of half-minute
 * slots), none while the room is empty.
 */
import { mulberry32, OfficeDayScenario, type OccupancyInterval, type OfficeDayOptions } from './scenario';

export interface MeetingRoomOptions extends OfficeDayOptions {
  /** Earliest hour the first meeting may start (default 8). */
  readonly officeStartHour?: number;
  /** Hour by which every meeting has ended (default 18). */
  readonly officeEndHour?: number;
  /** Shortest and longest meeting in minutes (default 30 and 90). */
  readonly minMeetingMinutes?: number;
  readonly maxMeetingMinutes?: number;
}

const MINUTES_PER_DAY = 1440;

function dayMinute(m: number): number {
  return ((m % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

export class MeetingRoomScenario extends OfficeDayScenario {
  private readonly meetings: OccupancyInterval[];

  constructor(options: MeetingRoomOptions = {}) {
    super({ peakLux: 450, ...options });
    const seed = Math.trunc(options.seed ?? 1);
    // Its own stream: the office's clouds and the meetings do not share draws.
    const rnd = mulberry32((seed * 2654435761) ^ 0x6d656574);
    const officeStart = clamp(options.officeStartHour ?? 8, 0, 24) * 60;
    const officeEnd = clamp(options.officeEndHour ?? 18, 0, 24) * 60;
    const shortest = clamp(Math.round(options.minMeetingMinutes ?? 30), 5, 600);
    const longest = clamp(Math.round(options.maxMeetingMinutes ?? 90), shortest, 600);
    const fiveMinSteps = (lo: number, hi: number): number => lo + 5 * Math.floor(rnd() * (Math.floor((hi - lo) / 5) + 1));
    const meetings: OccupancyInterval[] = [];
    let start = officeStart + fiveMinSteps(0, 90);
    for (;;) {
      const length = fiveMinSteps(shortest, longest);
      if (start + length > officeEnd) break;
      meetings.push({ startMin: start, endMin: start + length });
      const gap = rnd() < 0.25 ? fiveMinSteps(60, 180) : fiveMinSteps(15, 75);
      start += length + gap;
    }
    this.meetings = meetings;
  }

  override occupancyIntervals(): OccupancyInterval[] {
    return this.meetings.map((i) => ({ ...i }));
  }

  override isOccupied(minuteOfDay: number): boolean {
    const m = dayMinute(minuteOfDay);
    return this.meetings.some((i) => m >= i.startMin && m < i.endMin);
  }
}
