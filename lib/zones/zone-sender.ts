/**
 * Sends each zone's setpoint to its gear, and holds it while the bus does
 * not yet know which gear the zone's groups reach.
 *
 * A group send is made only when the membership of every group of the map
 * is known (lib/dali/group-membership: learned from the gear after each
 * connect, kept while nothing can have changed it) and checked
 * (./route zoneRoute: a group holding gear that another zone reaches too
 * is sent to by short address, without that gear, which the result lists
 * as `excluded`).
 * Until then a setpoint for a zone with groups is held, not sent and not
 * dropped:
 * - meanwhile, gear the running scan has already shown to be the zone's
 *   alone gets it at once by short address (listed as `early` in the result);
 * - one per zone, the newest wins: an older held setpoint ends at once as
 *   `{ ..., superseded: true, held: true, frames: 0 }` (it was never sent);
 * - when the membership becomes known, every held setpoint is routed again,
 *   in the order they arrived: sent to the zone's addresses, or refused as
 *   any other (a group that turned out to hold another zone's gear);
 * - a setpoint held longer than `maxHoldMs` (default 60 s: the interface is
 *   gone, or every scan fails) ends with a ZoneRoutingError
 *   `membershipUnknown` and is not sent later (an HTTP caller gets its
 *   answer; the next decision brings a new setpoint);
 * - closing rejects what is held (nothing is sent after a close).
 * Zones addressed by short addresses only are never held: a short address
 * reaches one gear, whatever the groups.
 */
import type { Setpoint } from '../contracts';
import type { ApplyOptions, Dt8Output, Dt8Result } from '../dali/dt8-output';
import { DaliInterfaceError } from '../dali/types';
import { formatGearAddress } from '../dali/address-spec';
import type { GearAddress } from '../dali/types';
import { applyToZone, confirmedOwnShorts, zoneRoute, ZoneRoutingError, type ZoneRoute } from './route';
import type { ZoneMap } from './zone-map';

/** What the sender needs to know of the bus's groups (lib/dali/group-membership GroupMembership fits). */
export interface MembershipWatch {
  readonly known: boolean;
  members(group: number): { shorts: readonly number[]; complete: boolean };
  /** Gear read so far while not known: short -> all its groups. */
  partialGear(): ReadonlyMap<number, readonly number[]>;
  /** While known: the short addresses that answered the scan (gear present); null otherwise. */
  answered?(): ReadonlySet<number> | null;
  /** How many different zone maps route on this bus (more than one: no map can check a group send). */
  readonly zoneMaps?: number;
  on(event: 'state' | 'gear', listener: () => void): unknown;
  off(event: 'state' | 'gear', listener: () => void): unknown;
}

/** A held setpoint that a newer one for its zone replaced before it could be sent. */
export interface HeldSuperseded {
  readonly zone: string;
  readonly source: Setpoint['source'];
  readonly reason: string;
  readonly intensity: number;
  readonly cct: number;
  readonly superseded: true;
  readonly held: true;
  readonly frames: 0;
  readonly busTimeMs: 0;
}

/** Gear left out of a zone's send because another zone reaches it too: `{address: "A4", group: "G0", zones}`. */
export interface ExcludedGearReport {
  readonly address: string;
  readonly group: string;
  readonly zones: readonly string[];
}

export type ZoneSendResult =
  | (Dt8Result & { readonly excluded?: readonly ExcludedGearReport[]; readonly early?: readonly string[] })
  | HeldSuperseded;

interface Held {
  readonly setpoint: Setpoint;
  readonly signal: AbortSignal | undefined;
  readonly options: ApplyOptions;
  readonly resolve: (r: ZoneSendResult) => void;
  readonly reject: (e: unknown) => void;
  readonly onAbort: () => void;
  /** Short addresses this setpoint already went to while held. */
  readonly early: Set<number>;
  /** Ends the wait after `maxHoldMs`. */
  timer?: NodeJS.Timeout;
}

/** Longest a setpoint is held (default 60 s): then its message ends with an error, nothing more is sent for it. */
export const DEFAULT_MAX_HOLD_MS = 60_000;

export class ZoneSender {
  private readonly held = new Map<string, Held>();
  private closed = false;
  private readonly onState = (): void => {
    if (this.watch?.known === true) this.flush();
  };
  private readonly onGear = (): void => {
    for (const h of this.held.values()) this.sendEarly(h);
  };

  constructor(
    private readonly map: () => ZoneMap,
    private readonly output: Dt8Output,
    private readonly watch: MembershipWatch | null,
    /** Told whenever the number of held setpoints changes. */
    private readonly changed: (held: number) => void = () => undefined,
    private readonly maxHoldMs: number = DEFAULT_MAX_HOLD_MS,
  ) {
    watch?.on('state', this.onState);
    watch?.on('gear', this.onGear);
  }

  /** Setpoints waiting for the group membership. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Sends (or holds) a validated setpoint; rejects with ZoneRoutingError / ZoneMapError / bus errors. */
  send(setpoint: Setpoint, signal?: AbortSignal, options: ApplyOptions = {}): Promise<ZoneSendResult> {
    if (this.closed) return Promise.reject(new DaliInterfaceError('dali-dt8-out closed', 'closed'));
    const watch = this.watch;
    let route: ZoneRoute;
    try {
      const answered = watch?.answered?.() ?? undefined;
      route = zoneRoute(this.map(), setpoint.zone, watch ? (g) => watch.members(g) : undefined, answered ? { answered } : {});
    } catch (err) {
      if (watch && err instanceof ZoneRoutingError && err.code === 'membershipUnknown') return this.hold(setpoint, signal, options);
      return Promise.reject(err);
    }
    // Another map on this bus may give this group's gear to a zone this map does not know: fail closed.
    const maps = watch?.zoneMaps ?? 1;
    if (maps > 1 && route.addresses.some((a) => a.kind !== 'short'))
      return Promise.reject(
        new ZoneRoutingError(
          'zoneMaps',
          `${maps} different zone maps route on this DALI bus: zone ${JSON.stringify(setpoint.zone.slice(0, 64))} uses a group that no single map can check, nothing was sent (use one zone map per bus)`,
        ),
      );
    const sent = applyToZone(this.output, setpoint, route.addresses, signal, options);
    if (route.excluded.length === 0) return sent;
    const excluded = route.excluded.map((e) => ({
      address: formatGearAddress({ kind: 'short', address: e.short }),
      group: formatGearAddress({ kind: 'group', group: e.group }),
      zones: e.zones,
    }));
    return sent.then((r) => ({ ...r, excluded }));
  }

  /** Rejects every held setpoint (nothing more is sent) and stops listening. */
  close(): void {
    this.closed = true;
    this.watch?.off('state', this.onState);
    this.watch?.off('gear', this.onGear);
    const held = [...this.held.values()];
    this.held.clear();
    for (const h of held) {
      h.signal?.removeEventListener('abort', h.onAbort);
      if (h.timer) clearTimeout(h.timer);
      h.reject(new DaliInterfaceError('dali-dt8-out closed before the group membership was known', 'closed'));
    }
    if (held.length > 0) this.changed(0);
  }

  private hold(setpoint: Setpoint, signal: AbortSignal | undefined, options: ApplyOptions): Promise<ZoneSendResult> {
    const prev = this.held.get(setpoint.zone);
    if (prev) {
      this.held.delete(setpoint.zone);
      prev.signal?.removeEventListener('abort', prev.onAbort);
      if (prev.timer) clearTimeout(prev.timer);
      const { zone, source, reason, intensity, cct } = prev.setpoint;
      prev.resolve({ zone, source, reason, intensity, cct, superseded: true, held: true, frames: 0, busTimeMs: 0 });
    }
    return new Promise<ZoneSendResult>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.held.get(setpoint.zone)?.setpoint !== setpoint) return;
        this.held.delete(setpoint.zone);
        if (h.timer) clearTimeout(h.timer);
        this.changed(this.held.size);
        reject(new DaliInterfaceError('aborted', 'closed'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const h: Held = { setpoint, signal, options, resolve, reject, onAbort, early: new Set() };
      h.timer = setTimeout(() => {
        if (this.held.get(setpoint.zone) !== h) return;
        this.held.delete(setpoint.zone);
        signal?.removeEventListener('abort', onAbort);
        this.changed(this.held.size);
        reject(
          new ZoneRoutingError(
            'membershipUnknown',
            `the DALI group membership is still not known after ${Math.round(this.maxHoldMs / 1000)} s: zone ${JSON.stringify(setpoint.zone.slice(0, 64))} was not sent to its group${h.early.size > 0 ? ` (only to ${[...h.early].map((a) => `A${a}`).join(',')}, known to be its own)` : ''}`,
          ),
        );
      }, this.maxHoldMs);
      h.timer.unref?.();
      this.held.set(setpoint.zone, h);
      this.changed(this.held.size);
      this.sendEarly(h);
    });
  }

  /**
   * While held: the gear the running scan has shown to be the zone's alone
   * gets the setpoint at once by short address (each once per setpoint), so
   * the first arrival after a start need not wait for the whole scan. The
   * complete send follows when the membership is known.
   */
  private sendEarly(h: Held): void {
    const watch = this.watch;
    if (!watch || this.closed || (watch.zoneMaps ?? 1) > 1) return;
    let shorts: number[];
    try {
      shorts = confirmedOwnShorts(this.map(), h.setpoint.zone, watch.partialGear()).filter((a) => !h.early.has(a));
    } catch {
      return; // an unusable map: the final routing refuses it
    }
    if (shorts.length === 0) return;
    for (const a of shorts) h.early.add(a);
    const addresses = shorts.map((address): GearAddress => ({ kind: 'short', address }));
    // Best effort: a failure here shows in the complete send that follows.
    applyToZone(this.output, h.setpoint, addresses, h.signal, h.options).catch(() => undefined);
  }

  /** The membership is known: every held setpoint is routed again, oldest first. */
  private flush(): void {
    if (this.held.size === 0) return;
    const held = [...this.held.values()];
    this.held.clear();
    for (const h of held) {
      h.signal?.removeEventListener('abort', h.onAbort);
      if (h.timer) clearTimeout(h.timer);
      const early = [...h.early].sort((a, b) => a - b).map((address) => formatGearAddress({ kind: 'short', address }));
      this.send(h.setpoint, h.signal, h.options).then((r) => h.resolve(early.length > 0 && !('held' in r) ? { ...r, early } : r), h.reject);
    }
    this.changed(this.held.size);
  }
}
