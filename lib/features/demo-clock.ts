/**
 * The demo clock: the time of day of a simulated building, chosen by the
 * person running the demo (DEMO_CLOCK=08:55, DEMO_SPEED=1..60), so that the
 * demo shows people arriving and daylight changing at any hour of the real day.
 *
 * It maps a real instant (epoch ms) to a scenario time of day:
 *   minuteOfDay(ts) = startMinute + (ts - epochMs) * speed / 60 000   (mod 1440)
 * `epochMs` is the instant the demo started (DEMO_CLOCK_EPOCH_MS, set once by
 * `npm start`, so every node of the runtime agrees; else the first time the
 * environment is read). The weekday is the real one of the start, moving on
 * at each scenario midnight.
 *
 * Who uses it: only a runtime driven by the simulated bus. A dali-bus config
 * node claims the clock (`claimDemoClock`) with its interface kind; the clock
 * is active only while at least one simulator claims it and no real interface
 * does. A real interface in the same runtime switches it off for everyone:
 * its schedule (circadian colour, feature windows' hour, the rules' first
 * decision) stays on the real clock. `LocalClock` (local-time.ts) consults
 * `activeDemoClock()`, so the feature windows, the rules and the simulated
 * sensors share one time of day.
 */
import type { LocalTime } from './local-time';

/** DEMO_SPEED limits: real time up to one scenario hour per real minute. */
export const DEMO_SPEED_MIN = 1;
export const DEMO_SPEED_MAX = 60;

export interface DemoClockSpec {
  /** Scenario minute of day at `epochMs`, 0-1439. */
  readonly startMinute: number;
  /** Scenario minutes per real minute, DEMO_SPEED_MIN..DEMO_SPEED_MAX. */
  readonly speed: number;
  /** The real instant the scenario clock showed `startMinute`, epoch ms. */
  readonly epochMs: number;
  /** Weekday (0 = Sunday) at `epochMs`. */
  readonly weekday: number;
}

export class DemoClockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoClockError';
  }
}

/** "HH:MM" (00:00-23:59) -> minute of day; throws DemoClockError. */
export function parseClockTime(text: string): number {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new DemoClockError(`DEMO_CLOCK must be a time of day HH:MM (00:00-23:59), got ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** "1".."60" -> speed; blank = 1; throws DemoClockError. */
export function parseDemoSpeed(text: string | undefined): number {
  const t = (text ?? '').trim();
  if (t === '') return 1;
  const n = Number(t);
  if (!Number.isFinite(n) || n < DEMO_SPEED_MIN || n > DEMO_SPEED_MAX) {
    throw new DemoClockError(
      `DEMO_SPEED must be a number from ${DEMO_SPEED_MIN} to ${DEMO_SPEED_MAX} (scenario minutes per real minute), got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

export class DemoClock {
  readonly spec: DemoClockSpec;

  constructor(spec: DemoClockSpec) {
    this.spec = spec;
  }

  /** Scenario minutes since the start minute's midnight, fractional (not wrapped). */
  #totalMinutes(epochMs: number): number {
    return this.spec.startMinute + ((epochMs - this.spec.epochMs) * this.spec.speed) / 60_000;
  }

  /** Scenario minute of day, fractional, 0 <= m < 1440. */
  minuteAt(epochMs: number): number {
    const t = this.#totalMinutes(epochMs);
    return ((t % 1440) + 1440) % 1440;
  }

  /** Local time (whole minute, weekday) the way LocalClock answers it. */
  at(epochMs: number): LocalTime {
    const t = this.#totalMinutes(epochMs);
    const days = Math.floor(t / 1440);
    return { minuteOfDay: Math.floor(this.minuteAt(epochMs)), weekday: (((this.spec.weekday + days) % 7) + 7) % 7 };
  }

  /** "HH:MM" of the scenario clock. */
  label(epochMs: number): string {
    const m = Math.floor(this.minuteAt(epochMs));
    return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  }
}

let firstRead: number | null = null;

/**
 * The demo clock the environment asks for: DEMO_CLOCK (HH:MM; blank or "real" = none),
 * DEMO_SPEED (1-60, blank = 1), DEMO_CLOCK_EPOCH_MS (blank = the first call in this process).
 * null = none; throws DemoClockError for a value that cannot be used.
 */
export function demoClockFromEnv(env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now): DemoClock | null {
  const clock = (env.DEMO_CLOCK ?? '').trim();
  if (clock === '' || clock.toLowerCase() === 'real') return null;
  const startMinute = parseClockTime(clock);
  const speed = parseDemoSpeed(env.DEMO_SPEED);
  let epochMs: number;
  const rawEpoch = (env.DEMO_CLOCK_EPOCH_MS ?? '').trim();
  if (rawEpoch !== '') {
    epochMs = Number(rawEpoch);
    if (!Number.isSafeInteger(epochMs) || epochMs <= 0)
      throw new DemoClockError(`DEMO_CLOCK_EPOCH_MS must be epoch milliseconds, got ${JSON.stringify(rawEpoch)}`);
  } else {
    firstRead ??= now();
    epochMs = firstRead;
  }
  return new DemoClock({ startMinute, speed, epochMs, weekday: new Date(epochMs).getDay() });
}

/** What claims the clock: a simulated bus may use it, a real interface vetoes it. */
export type DemoClockClaim = 'simulator' | 'real';

const claims = new Map<string, { kind: DemoClockClaim; clock: DemoClock | null }>();

/**
 * A bus (owner id) says which interface it drives and, for a simulator, the demo
 * clock it wants (null = none). Replaces the owner's previous claim.
 */
export function claimDemoClock(owner: string, kind: DemoClockClaim, clock: DemoClock | null): void {
  claims.set(owner, { kind, clock: kind === 'simulator' ? clock : null });
}

/** The owner's claim ends (its node closed). */
export function releaseDemoClock(owner: string): void {
  claims.delete(owner);
}

/**
 * The demo clock in force: the first simulator's clock, but null as soon as
 * any real interface is claimed (a real bus always runs on the real clock)
 * or no simulator asked for one.
 */
export function activeDemoClock(): DemoClock | null {
  let found: DemoClock | null = null;
  for (const c of claims.values()) {
    if (c.kind === 'real') return null;
    found ??= c.clock;
  }
  return found;
}
