/**
 * The complete group membership of a bus, learned from the gear itself and
 * trusted only while nothing can have changed it unseen.
 *
 * `scanGroupMembership(bus)` asks every short address 0..63 QUERY GROUPS
 * 0-7 (an answer: gear is there; no answer: nobody has that address), and
 * each gear that answered QUERY GROUPS 8-15: 64 + n queries, about 3 s on a
 * bus of 8 gear, 3.5 s on 64 at wire timing (more through an interface's
 * own round trip: about 4 s for 8 gear on LUBA). It refuses to guess: a garbled answer (two
 * gear on one short address, or noise) is asked again, and when it stays
 * garbled or a present gear stops answering, the scan fails
 * (GroupScanError) and the bus learns nothing. A successful scan tells the
 * DaliBus the membership of all 16 groups.
 *
 * `GroupMembership` keeps that knowledge honest for one bus session (the
 * `dali-bus` config node's BusSession, or anything with the same events):
 * - it scans when the interface connects, again after a reconnect (the
 *   interface was unplugged: anything may have happened), when a user asks
 *   (`use({ refresh: true })`, a zone map deployed), every `rescanMs`
 *   (default 15 min: gear that appeared or was regrouped by another
 *   controller without a frame we could see), and `quietMs` after the last
 *   frame of another master that changes membership or short addresses
 *   (ADD TO GROUP, REMOVE FROM GROUP, RESET, SET SHORT ADDRESS, INITIALISE,
 *   PROGRAM SHORT ADDRESS);
 * - `known` is true only after a scan that completed with nothing of the
 *   above in between, and turns false at once when the interface goes, or
 *   such a frame is seen; a periodic rescan keeps `known` while it runs;
 * - a failed scan is retried by itself (`retryMs`, doubling up to
 *   `maxRetryMs`) and reported as state 'failed' with its reason;
 * - `members(group)` is the membership the bus holds while `known`, and
 *   "not known" otherwise, whatever the bus remembers.
 *
 * - while nothing is known, the running scan's gear read so far
 *   (`partialGear()`, event 'gear'): each entry is sure for its gear, so a
 *   waiting setpoint may go to it by short address (lib/zones/zone-sender);
 *   this scan goes at priority 2 (setpoints wait for it), a periodic one at 3.
 *
 * Events: 'state' (MembershipState) on every change; 'gear' (short, groups);
 * 'maps' (count) when the number of different zone maps of the users changes.
 *
 * One GroupMembership per session (`groupMembershipOf(session)`), shared
 * by its users; it works only while at least one user holds it (`use`).
 */
import { EventEmitter } from 'node:events';
import type { DaliBus, DaliBusFrameEvent } from './bus/dali-bus';
import { gearCommand } from './codec';
import { GearCommand, SpecialCommand } from './opcodes';
import type { BackwardResult, Priority } from './types';

/** Gear answering per short address -> its groups. */
export interface GroupScan {
  /** Short address -> groups 0..15 it belongs to, for every gear that answered. */
  readonly gear: ReadonlyMap<number, readonly number[]>;
  /** Group -> member short addresses (ascending), all 16 groups. */
  readonly groups: ReadonlyMap<number, readonly number[]>;
}

export class GroupScanError extends Error {
  override readonly name = 'GroupScanError';
}

/** Times a garbled answer is asked again before the scan gives up. */
const GARBLED_RETRIES = 2;
const SCAN_PRIORITY: Priority = 3;
/** Times an expected gear that did not answer is asked again before it counts as not there. */
const SILENT_RETRIES = 2;

/**
 * Short addresses asked in one transaction (about 0.13 s on LUBA when nobody answers): enough to keep
 * other queued work from stretching the scan, short enough that an early send waits little behind it
 * (4 took the zones e2e's cold arrival during the scan from about 90 ms to 570 ms).
 */
const SCAN_BATCH = 2;

/** Asks up to `attempts` times while the answer is garbled. */
async function ask(
  bus: DaliBus,
  short: number,
  opcode: number,
  priority: Priority,
  attempts = GARBLED_RETRIES + 1,
): Promise<BackwardResult> {
  let r: BackwardResult = { kind: 'none' };
  for (let attempt = 0; attempt < attempts; attempt++) {
    r = await bus.query(gearCommand({ kind: 'short', address: short }, opcode), { priority });
    if (r.kind !== 'framingError') return r;
  }
  return r;
}

/** One query to each of `shorts` in one transaction; a garbled answer is asked again on its own. */
async function askEach(bus: DaliBus, shorts: readonly number[], opcode: number, priority: Priority): Promise<BackwardResult[]> {
  if (shorts.length === 0) return [];
  const results = await bus.send(
    shorts.map((s) => gearCommand({ kind: 'short', address: s }, opcode)),
    { priority },
  );
  return Promise.all(
    shorts.map((s, i) => {
      const r = results[i] ?? { kind: 'none' };
      return r.kind === 'framingError' ? ask(bus, s, opcode, priority, GARBLED_RETRIES) : r;
    }),
  );
}

/**
 * Every gear's groups (see the module comment). Tells the bus the membership
 * of all 16 groups when `teach` (default true). Asks two short addresses per
 * transaction, so that other work waiting for the bus (a sensor's setup after
 * a restart) does not stretch the scan.
 * @throws GroupScanError when an answer cannot be trusted; DaliInterfaceError when the interface fails.
 */
export async function scanGroupMembership(
  bus: DaliBus,
  options: {
    priority?: Priority;
    teach?: boolean;
    aborted?: () => boolean;
    /**
     * Short addresses that should be there (the zone map lists them, the bus
     * has seen them): one that does not answer is asked again before the scan
     * takes it as "no gear here" (one lost backward frame must not hide a gear).
     * The bus's known short addresses are always included.
     */
    expected?: Iterable<number>;
    /** Told of each gear as soon as its groups are read (before the scan is complete). */
    onGear?: (short: number, groups: readonly number[]) => void;
  } = {},
): Promise<GroupScan> {
  const priority = options.priority ?? SCAN_PRIORITY;
  const expected = new Set<number>([...(options.expected ?? []), ...bus.knownShortAddresses()]);
  const gear = new Map<number, number[]>();
  for (let first = 0; first < 64; first += SCAN_BATCH) {
    if (options.aborted?.()) throw new GroupScanError('scan abandoned');
    const batch = Array.from({ length: SCAN_BATCH }, (_, i) => first + i);
    const lo = await askEach(bus, batch, GearCommand.QUERY_GROUPS_0_7, priority);
    for (const [i, s] of batch.entries()) {
      for (let again = 0; again < SILENT_RETRIES && lo[i]?.kind === 'none' && expected.has(s); again++)
        lo[i] = await ask(bus, s, GearCommand.QUERY_GROUPS_0_7, priority);
    }
    const present: number[] = [];
    batch.forEach((s, i) => {
      const r = lo[i] as BackwardResult;
      if (r.kind === 'framingError')
        throw new GroupScanError(
          `A${s}: QUERY GROUPS answered garbled ${GARBLED_RETRIES + 1} times, each repeated by the bus (two gear on one short address?)`,
        );
      if (r.kind === 'answer') present.push(s);
    });
    const hi = await askEach(bus, present, GearCommand.QUERY_GROUPS_8_15, priority);
    present.forEach((s, i) => {
      const h = hi[i] as BackwardResult;
      if (h.kind !== 'answer')
        throw new GroupScanError(`A${s}: QUERY GROUPS 8-15 ${h.kind === 'none' ? 'not answered' : 'answered garbled'}`);
      const mask = (h.value << 8) | (lo[batch.indexOf(s)] as { value: number }).value;
      const groups: number[] = [];
      for (let g = 0; g < 16; g++) if ((mask & (1 << g)) !== 0) groups.push(g);
      gear.set(s, groups);
      options.onGear?.(s, groups);
    });
  }
  const groups = new Map<number, number[]>();
  for (let g = 0; g < 16; g++)
    groups.set(
      g,
      [...gear].filter(([, gs]) => gs.includes(g)).map(([s]) => s),
    );
  // Abandoned during the last batch: what was read may be out of date already, the bus must not learn it.
  if (options.aborted?.()) throw new GroupScanError('scan abandoned');
  if (options.teach !== false) for (const [g, members] of groups) bus.setGroupMembers(g, members);
  return { gear, groups };
}

/** True for a frame of another master after which membership or short addresses may differ. */
export function changesMembership(ev: DaliBusFrameEvent): boolean {
  const d = ev.decoded;
  if (ev.event.bits === 16 && (ev.event.framingError === true || d === undefined || d.kind === 'unknown')) return true;
  if (!d) return false;
  if (d.kind === 'gearCommand') {
    const op = d.opcode;
    return (
      op === GearCommand.RESET ||
      op === GearCommand.SET_SHORT_ADDRESS ||
      (op >= GearCommand.ADD_TO_GROUP && op < GearCommand.REMOVE_FROM_GROUP + 16)
    );
  }
  if (d.kind === 'special') return d.opcode === SpecialCommand.INITIALISE || d.opcode === SpecialCommand.PROGRAM_SHORT_ADDRESS;
  return false;
}

/** What GroupMembership passes its scan: the priority to ask at, and where each gear read goes. */
export interface ScanProgress {
  readonly priority: Priority;
  readonly onGear: (short: number, groups: readonly number[]) => void;
  /** Short addresses the users expect to answer (their zone maps list them). */
  readonly expected: readonly number[];
}

export type MembershipState =
  /** Nobody uses it. */
  | { readonly kind: 'idle' }
  /** The interface is not connected: nothing is known. */
  | { readonly kind: 'waiting' }
  /** Learning (first scan, or after a change): nothing is known yet. */
  | { readonly kind: 'scanning' }
  /** Known since `at` (epoch ms): `gear` short addresses answered. */
  | { readonly kind: 'known'; readonly at: number; readonly gear: number }
  /** The last scan failed: nothing is known; the next attempt in `retryInMs`. */
  | { readonly kind: 'failed'; readonly error: string; readonly retryInMs: number };

/** What GroupMembership needs of a bus session (BusSession fits). */
export interface MembershipSource {
  readonly bus: DaliBus | null;
  on(event: 'connected', listener: (ev: { reconnect: boolean }) => void): this;
  on(event: 'status', listener: (s: { kind: string }) => void): this;
  on(event: 'frame', listener: (ev: DaliBusFrameEvent) => void): this;
  off(event: 'connected', listener: (ev: { reconnect: boolean }) => void): this;
  off(event: 'status', listener: (s: { kind: string }) => void): this;
  off(event: 'frame', listener: (ev: DaliBusFrameEvent) => void): this;
}

export interface GroupMembershipOptions {
  /** First wait after a failed scan (default 2 s), doubled up to `maxRetryMs` (default 60 s). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Periodic rescan while known (default 15 min; 0 = never). */
  readonly rescanMs?: number;
  /** Wait after the last membership-changing frame of another master before scanning (default 2 s). */
  readonly quietMs?: number;
  /** Scan (tests pass their own). */
  readonly scan?: (bus: DaliBus, aborted: () => boolean, progress: ScanProgress) => Promise<GroupScan>;
  readonly now?: () => number;
}

const DOWN = new Set(['disconnected', 'error', 'portInUse', 'closed', 'connecting']);

export class GroupMembership extends EventEmitter {
  private current: MembershipState = { kind: 'idle' };
  private users = 0;
  /** Bumped whenever a running scan's result may no longer be trusted. */
  private generation = 0;
  private scanning = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** Each user's zone map (a key that differs when the maps differ). */
  private readonly mapKeys = new Map<object, string>();
  private mapCount = 0;
  /** Each user's expected short addresses. */
  private readonly expectedBy = new Set<readonly number[]>();
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly rescanMs: number;
  private readonly quietMs: number;
  private readonly scanFn: (bus: DaliBus, aborted: () => boolean, progress: ScanProgress) => Promise<GroupScan>;
  /** Short addresses that answered the scan that made the membership known. */
  private answeredShorts: ReadonlySet<number> = new Set();
  /** Gear read by the scan running while nothing is known: short -> groups. */
  private readonly partial = new Map<number, readonly number[]>();
  private readonly now: () => number;

  private readonly onConnected = (): void => {
    this.invalidate();
    this.schedule(0);
  };
  private readonly onStatus = (s: { kind: string }): void => {
    if (!DOWN.has(s.kind) || this.current.kind === 'waiting') return;
    this.generation++;
    this.partial.clear();
    this.source.bus?.forgetGroups();
    this.clearTimer();
    this.set({ kind: 'waiting' });
  };
  private readonly onFrame = (ev: DaliBusFrameEvent): void => {
    if (!changesMembership(ev)) return;
    this.invalidate();
    this.set({ kind: 'scanning' });
    this.schedule(this.quietMs);
  };

  constructor(
    private readonly source: MembershipSource,
    options: GroupMembershipOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.retryMs = Math.max(1, options.retryMs ?? 2000);
    this.maxRetryMs = Math.max(this.retryMs, options.maxRetryMs ?? 60_000);
    this.rescanMs = Math.max(0, options.rescanMs ?? 15 * 60_000);
    this.quietMs = Math.max(0, options.quietMs ?? 2000);
    this.scanFn =
      options.scan ??
      ((bus, aborted, progress) =>
        scanGroupMembership(bus, { aborted, priority: progress.priority, onGear: progress.onGear, expected: progress.expected }));
    this.now = options.now ?? Date.now;
  }

  get state(): MembershipState {
    return this.current;
  }

  /** True while the membership of every group is known for sure. */
  get known(): boolean {
    return this.current.kind === 'known';
  }

  /** A group's members while known; otherwise "not known". */
  members(group: number): { shorts: number[]; complete: boolean } {
    const bus = this.source.bus;
    if (!this.known || !bus) return { shorts: [], complete: false };
    return bus.members({ kind: 'group', group });
  }

  /** While known: the short addresses that answered the scan (gear present); otherwise null. */
  answered(): ReadonlySet<number> | null {
    return this.known ? this.answeredShorts : null;
  }

  /**
   * Gear whose groups the scan running now has read (short -> groups), while
   * the membership as a whole is not known: each entry is sure for that gear
   * (a send to its short address reaches it alone), the list is not complete.
   * Event 'gear' (short, groups) for each new entry.
   */
  partialGear(): ReadonlyMap<number, readonly number[]> {
    return this.known ? new Map() : this.partial;
  }

  /**
   * Holds the membership watch; the first user starts it. With `refresh`,
   * what is known is learned again (a changed zone map). `expected`: short
   * addresses this user's zone map lists (asked again by every scan when
   * silent). Returns the release.
   */
  use(options: { refresh?: boolean; expected?: readonly number[]; mapKey?: string } = {}): () => void {
    this.users++;
    const token = {};
    if (options.mapKey !== undefined) this.mapKeys.set(token, options.mapKey);
    this.mapsChanged();
    if (this.users === 1) this.failures = 0; // a fresh start (a redeploy) retries soon, not after the last spell's longest wait
    const expected = [...(options.expected ?? [])];
    this.expectedBy.add(expected);
    if (this.users === 1) {
      this.source.on('connected', this.onConnected);
      this.source.on('status', this.onStatus);
      this.source.on('frame', this.onFrame);
      this.set({ kind: 'waiting' });
      this.kick();
    } else if (options.refresh === true) {
      this.invalidate();
      this.kick();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.users--;
      this.expectedBy.delete(expected);
      this.mapKeys.delete(token);
      this.mapsChanged();
      if (this.users > 0) return;
      this.source.off('connected', this.onConnected);
      this.source.off('status', this.onStatus);
      this.source.off('frame', this.onFrame);
      this.invalidate();
      this.clearTimer();
      this.set({ kind: 'idle' });
    };
  }

  /**
   * How many different zone maps the users route with. More than one is a
   * misconfiguration: each routes against its own map only, so one map's
   * group may reach gear the other map gives to another zone.
   */
  get zoneMaps(): number {
    return this.mapCount;
  }

  private mapsChanged(): void {
    const n = new Set(this.mapKeys.values()).size;
    if (n === this.mapCount) return;
    this.mapCount = n;
    this.emit('maps', n);
  }

  /** Scans now if the bus is connected, else waits for it. */
  private kick(): void {
    const bus = this.source.bus;
    if (bus && bus.state === 'connected') {
      this.set({ kind: 'scanning' });
      this.schedule(0);
    } else {
      this.clearTimer();
      this.set({ kind: 'waiting' });
    }
  }

  /** What was learned can no longer be trusted: the bus forgets it too (its planner must not merge sends into a stale group). */
  private invalidate(): void {
    this.generation++;
    this.partial.clear();
    this.source.bus?.forgetGroups();
    if (this.current.kind === 'known') this.set({ kind: 'scanning' });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, delayMs);
    this.timer.unref?.();
  }

  private run(): void {
    if (this.users === 0) return;
    const bus = this.source.bus;
    if (!bus || bus.state !== 'connected') {
      this.set({ kind: 'waiting' });
      return;
    }
    if (this.scanning) {
      // A scan is running: its result will be stale (generation moved); try again once it ends.
      this.schedule(Math.max(50, this.quietMs));
      return;
    }
    const urgent = this.current.kind !== 'known';
    if (urgent) this.set({ kind: 'scanning' });
    const gen = this.generation;
    this.scanning = true;
    this.partial.clear();
    const stale = (): boolean => gen !== this.generation || this.users === 0;
    const onGear = (short: number, groups: readonly number[]): void => {
      if (stale() || this.known) return;
      this.partial.set(short, groups);
      this.emit('gear', short, groups);
    };
    // While nothing is known, setpoints wait for this scan: it goes at their priority (2), not behind routine work.
    const expected = [...new Set([...this.expectedBy].flat())];
    this.scanFn(bus, stale, { priority: urgent ? 2 : SCAN_PRIORITY, onGear, expected }).then(
      (scan) => {
        this.scanning = false;
        if (stale()) return;
        this.failures = 0;
        this.answeredShorts = new Set(scan.gear.keys());
        this.set({ kind: 'known', at: this.now(), gear: scan.gear.size });
        if (this.rescanMs > 0) this.schedule(this.rescanMs);
      },
      (err: unknown) => {
        this.scanning = false;
        if (stale() || this.current.kind === 'waiting') return;
        const retryInMs = Math.min(this.maxRetryMs, this.retryMs * 2 ** this.failures);
        this.failures++;
        this.set({ kind: 'failed', error: err instanceof Error ? err.message : String(err), retryInMs });
        this.schedule(retryInMs);
      },
    );
  }

  private set(state: MembershipState): void {
    const prev = this.current;
    if (prev.kind === state.kind && (state.kind === 'waiting' || state.kind === 'scanning' || state.kind === 'idle')) return;
    this.current = state;
    this.emit('state', state);
  }
}

const shared = new WeakMap<object, GroupMembership>();

/** The one GroupMembership of a session (created on first call). */
export function groupMembershipOf(source: MembershipSource, options?: GroupMembershipOptions): GroupMembership {
  let m = shared.get(source);
  if (!m) {
    m = new GroupMembership(source, options);
    shared.set(source, m);
  }
  return m;
}
