/**
 * Re-apply after a reconnect: DaliBus remembers the last setpoint per
 * address, and when the interface comes back after a disconnect sends it once
 * more (minus levels a foreign master changed since; groups and broadcasts
 * only when the gear they reach is known for sure). A re-apply that fails
 * (the device is often not ready for the first frames after 'connected') is
 * tried again with exponential backoff until it is on the bus; it is dropped
 * when a newer setpoint for that address is given meanwhile (latest wins),
 * when the interface is lost again (the next reconnect starts over), when the
 * attempts run out (then `failed` is told), or on cancel().
 */
import type { SetpointRequest } from '../sequence';
import type { GearAddress } from '../types';
import { addressKey, type GearKnowledge } from './gear-knowledge';

export interface ReapplyOptions {
  /** Attempts per address in total, the first included. */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly setTimer: (delayMs: number, callback: () => void) => { cancel(): void };
  /** Puts a setpoint on the bus (without remembering it again). */
  readonly send: (request: SetpointRequest) => Promise<unknown>;
  /** True once the bus is closed: nothing more is sent. */
  readonly closed: () => boolean;
  /** A re-apply gave up after `attempts` attempts. */
  readonly failed: (address: GearAddress, attempts: number, error: Error) => void;
}

/** One address being re-applied after a reconnect. */
interface ReapplyLoop {
  readonly key: string;
  readonly address: GearAddress;
  /** Fields a newer overlapping setpoint has set since: never re-sent. */
  dropLevel: boolean;
  dropMirek: boolean;
  stopped: boolean;
  timer: { cancel(): void } | undefined;
}

export class ReconnectReapply {
  private readonly lastSetpoints = new Map<string, SetpointRequest>();
  /** Re-applies after the last reconnect that are not on the bus yet, per address key. */
  private readonly loops = new Map<string, ReapplyLoop>();

  constructor(
    private readonly knowledge: GearKnowledge,
    private readonly options: ReapplyOptions,
  ) {}

  /** Remembers a new setpoint; a re-apply still retrying gives up the fields it sets (latest wins). */
  record(request: SetpointRequest): void {
    const key = addressKey(request.address);
    const prev = this.lastSetpoints.get(key);
    const level = request.level ?? prev?.level;
    const mirek = request.mirek ?? prev?.mirek;
    this.lastSetpoints.delete(key);
    if (request.address.kind === 'broadcast') {
      // Entries fully overridden by this broadcast need no re-apply.
      for (const [k, r] of [...this.lastSetpoints]) {
        if ((r.level === undefined || level !== undefined) && (r.mirek === undefined || mirek !== undefined)) this.lastSetpoints.delete(k);
      }
    }
    this.lastSetpoints.set(key, {
      address: request.address,
      ...(level !== undefined ? { level } : {}),
      ...(mirek !== undefined ? { mirek } : {}),
    });
    for (const loop of this.loops.values()) {
      if (!this.knowledge.overlaps(request.address, loop.address)) continue;
      if (request.level !== undefined) loop.dropLevel = true;
      if (request.mirek !== undefined) loop.dropMirek = true;
    }
  }

  /** A foreign master set the level of the gear `address` reaches: that level is not ours to restore. */
  levelTakenOver(address: GearAddress): void {
    for (const [k, r] of [...this.lastSetpoints]) {
      if (r.level === undefined || !this.knowledge.covers(address, r.address)) continue;
      if (r.mirek === undefined) this.lastSetpoints.delete(k);
      else this.lastSetpoints.set(k, { address: r.address, mirek: r.mirek });
    }
  }

  /**
   * Starts one re-apply per remembered address (after cancelling any still
   * running). A group or broadcast whose gear is not known for sure is not
   * re-sent: it might reach gear that was regrouped or added while the
   * interface was away (another zone's); the next setpoint for it is sent as usual.
   */
  start(): void {
    this.cancel();
    const loops: ReapplyLoop[] = [];
    for (const [key, request] of this.lastSetpoints) {
      if (request.address.kind !== 'short' && !this.knowledge.members(request.address).complete) continue;
      const loop: ReapplyLoop = { key, address: request.address, dropLevel: false, dropMirek: false, stopped: false, timer: undefined };
      this.loops.set(key, loop);
      loops.push(loop);
    }
    for (const loop of loops) this.attempt(loop, 0);
  }

  /** Stops every re-apply and cancels its backoff timer. */
  cancel(): void {
    for (const loop of this.loops.values()) {
      loop.stopped = true;
      loop.timer?.cancel();
      loop.timer = undefined;
    }
    this.loops.clear();
  }

  private end(loop: ReapplyLoop): void {
    loop.stopped = true;
    if (this.loops.get(loop.key) === loop) this.loops.delete(loop.key);
  }

  /**
   * Sends the remembered setpoint of `loop` again (minus fields set by newer
   * setpoints since), retrying with backoff while it fails.
   */
  private attempt(loop: ReapplyLoop, attempt: number): void {
    const o = this.options;
    if (loop.stopped || o.closed()) return;
    // The remembered value now: a foreign master may have taken over the level since.
    const remembered = this.lastSetpoints.get(loop.key);
    const level = loop.dropLevel ? undefined : remembered?.level;
    const mirek = loop.dropMirek ? undefined : remembered?.mirek;
    if (!remembered || (level === undefined && mirek === undefined)) {
      this.end(loop);
      return;
    }
    const request: SetpointRequest = {
      address: remembered.address,
      ...(level !== undefined ? { level } : {}),
      ...(mirek !== undefined ? { mirek } : {}),
    };
    o.send(request).then(
      () => this.end(loop),
      (err: unknown) => {
        if (loop.stopped || o.closed()) return;
        if (attempt + 1 >= o.attempts) {
          this.end(loop);
          o.failed(loop.address, attempt + 1, err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const delayMs = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** attempt);
        loop.timer = o.setTimer(delayMs, () => {
          loop.timer = undefined;
          this.attempt(loop, attempt + 1);
        });
      },
    );
  }
}
