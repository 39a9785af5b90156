/**
 * BusSession: the one owner of a DALI interface and the DaliBus on it, as
 * the `dali-bus` config node holds it.
 *
 * - Users (child nodes) `acquire(id)`; the first one opens the interface
 *   (a serial/hidraw device, or an in-process simulated bus), `release(id,
 *   true)` by the last one closes it and resolves when the device is
 *   released. `close()` (the config node's own close) closes for good.
 *   Opening again after a release creates a fresh interface and DaliBus.
 * - A device path is claimed in the process-wide PortRegistry first: a
 *   second bus on the same device shows 'portInUse' (detail: who holds it)
 *   and opens as soon as the holder releases it.
 * - Status ('status' event, BusStatus): connecting, connected, busy (jobs
 *   waiting; at most one update per `statusThrottleMs` while the queue
 *   changes), disconnected, portInUse, error, closed. Connection changes
 *   are reported at once.
 * - Re-emitted from the current DaliBus: 'frame' (DaliBusFrameEvent).
 *   'connected' ({ reconnect: boolean }) each time the interface becomes
 *   connected (reconnect = it had been connected before in this session).
 *
 * Never throws from event handlers; no promise is left unhandled.
 */
import { EventEmitter } from 'node:events';
import { DaliBus, type DaliBusFrameEvent, type DaliBusOptions } from './bus/dali-bus';
import type { QueueEvent } from './bus/scheduler';
import { portRegistry, type PortRegistry } from './bus-registry';
import { createInterface, type InterfaceConfig } from './interfaces';
import { createSimulation, type Simulation, type SimulationSpec } from './sim-config';
import type { DaliInterface, InterfaceState, InterfaceStateEvent } from './types';

export type BusStatusKind = 'connecting' | 'connected' | 'busy' | 'disconnected' | 'portInUse' | 'error' | 'closed';

export interface BusStatus {
  readonly kind: BusStatusKind;
  /** Jobs waiting for the bus (busy). */
  readonly queued?: number;
  /** Device path or error text. */
  readonly detail?: string;
  /** portInUse: the other bus in this process holding the device. */
  readonly holder?: string;
}

export interface BusSessionOptions {
  /** Id of the owner (config node id): the PortRegistry claim is in its name. */
  readonly owner: string;
  /** Human-readable name of the owner, shown to a second bus on the same port. */
  readonly label: string;
  /** The interface; for type 'simulator', `simulation` describes the bus. */
  readonly interface: InterfaceConfig;
  readonly simulation?: SimulationSpec;
  readonly busOptions?: DaliBusOptions;
  /** Least time between two queue-driven status updates (default 250 ms). */
  readonly statusThrottleMs?: number;
  readonly registry?: PortRegistry;
  /** Builds the interface (default createInterface). */
  readonly factory?: (cfg: InterfaceConfig) => DaliInterface;
}

type Phase = 'stopped' | 'running' | 'closed';

export class BusSession extends EventEmitter {
  private readonly users = new Set<string>();
  private phase: Phase = 'stopped';
  private op: Promise<void> = Promise.resolve();
  private current: { bus: DaliBus; iface: DaliInterface; simulation: Simulation | null; claimKey?: string } | null = null;
  private waitingForPort: ((key: string) => void) | null = null;
  private everConnected = false;
  private ifaceState: InterfaceState | 'idle' = 'idle';
  private ifaceDetail: string | undefined;
  private portHolder: string | undefined;
  private queued = 0;
  private lastStatus: BusStatus = { kind: 'connecting' };
  private throttle: NodeJS.Timeout | null = null;
  private readonly throttleMs: number;
  private readonly registry: PortRegistry;
  private readonly factory: (cfg: InterfaceConfig) => DaliInterface;

  private readonly onFrame = (ev: DaliBusFrameEvent): void => {
    this.emit('frame', ev);
  };
  private readonly onState = (ev: InterfaceStateEvent): void => {
    this.portHolder = undefined;
    const wasConnected = this.ifaceState === 'connected';
    this.ifaceState = ev.state;
    this.ifaceDetail = ev.detail;
    this.publish();
    if (ev.state === 'connected' && !wasConnected) {
      const reconnect = this.everConnected;
      this.everConnected = true;
      this.emit('connected', { reconnect });
    }
  };
  private readonly onQueue = (ev: QueueEvent): void => {
    this.queued = ev.length;
    if (this.throttle) return;
    this.throttle = setTimeout(() => {
      this.throttle = null;
      this.publish();
    }, this.throttleMs);
  };

  constructor(private readonly options: BusSessionOptions) {
    super();
    this.setMaxListeners(0);
    this.throttleMs = options.statusThrottleMs ?? 250;
    this.registry = options.registry ?? portRegistry;
    this.factory = options.factory ?? createInterface;
  }

  /** The DaliBus while open, else null. */
  get bus(): DaliBus | null {
    return this.current?.bus ?? null;
  }

  /** The simulated bus while open (simulator interface only), else null. */
  get simulation(): Simulation | null {
    return this.current?.simulation ?? null;
  }

  get status(): BusStatus {
    return this.lastStatus;
  }

  get isOpen(): boolean {
    return this.phase === 'running';
  }

  get userCount(): number {
    return this.users.size;
  }

  /** Adds a user; the first one opens the interface. */
  acquire(userId: string): void {
    if (this.phase === 'closed') return;
    this.users.add(userId);
    if (this.phase === 'stopped') this.start();
  }

  /** Removes a user; with `closeIfLast`, the last one closes the interface (resolves once it is released). */
  release(userId: string, closeIfLast: boolean): Promise<void> {
    this.users.delete(userId);
    if (closeIfLast && this.users.size === 0 && this.phase === 'running') return this.stop('stopped');
    return this.op;
  }

  /** Closes for good (the owner's own close). Idempotent; resolves when the device is released. */
  close(): Promise<void> {
    if (this.phase === 'closed') return this.op;
    this.users.clear();
    return this.stop('closed');
  }

  private start(): void {
    this.phase = 'running';
    this.op = this.op.then(() => this.openNow()).catch((err: unknown) => this.fail(err));
  }

  private stop(next: Phase): Promise<void> {
    this.phase = next;
    this.op = this.op.then(() => this.closeNow()).catch(() => undefined);
    return this.op;
  }

  private fail(err: unknown): void {
    this.ifaceState = 'error';
    this.ifaceDetail = err instanceof Error ? err.message : String(err);
    this.publish();
  }

  private async openNow(): Promise<void> {
    if (this.phase !== 'running' || this.current) return;
    this.everConnected = false;
    this.ifaceState = 'connecting';
    this.ifaceDetail = undefined;
    this.queued = 0;
    this.publish();
    const cfg = this.options.interface;
    let claimKey: string | undefined;
    if (cfg.type !== 'simulator') {
      const devicePath = (cfg.path ?? '').trim();
      if (devicePath === '') throw new Error(`the ${cfg.type} interface needs a device path`);
      const claim = this.registry.claim(devicePath, this.options.owner, this.options.label);
      if (!claim.ok) {
        this.ifaceState = 'portInUse';
        this.ifaceDetail = devicePath;
        this.portHolder = claim.holder;
        this.publish();
        this.waitForPort(claim.key);
        return;
      }
      claimKey = claim.key;
      this.portHolder = undefined;
    }
    let simulation: Simulation | null = null;
    let iface: DaliInterface;
    try {
      if (cfg.type === 'simulator') {
        simulation = createSimulation(
          this.options.simulation ?? { gear: [], groups: new Map(), sensor: null, scenario: 'static', speed: 1 },
        );
        iface = simulation.iface;
      } else {
        iface = this.factory(cfg);
      }
    } catch (err) {
      if (claimKey !== undefined) this.registry.release(claimKey, this.options.owner);
      throw err;
    }
    const busOptions: DaliBusOptions = {
      ...this.options.busOptions,
      ...(simulation ? { inventory: simulation.inventory } : {}),
    };
    const bus = new DaliBus(iface, busOptions);
    bus.on('frame', this.onFrame);
    bus.on('state', this.onState);
    bus.on('queue', this.onQueue);
    this.current = { bus, iface, simulation, ...(claimKey !== undefined ? { claimKey } : {}) };
    simulation?.start();
    // open() resolves on the first connect (or never, while the device is missing): do not wait here.
    bus.start().catch(() => undefined);
  }

  private waitForPort(key: string): void {
    this.stopWaiting();
    const listener = (released: string): void => {
      if (released !== key || this.phase !== 'running' || this.current) return;
      this.stopWaiting();
      this.op = this.op.then(() => this.openNow()).catch((err: unknown) => this.fail(err));
    };
    this.waitingForPort = listener;
    this.registry.on('released', listener);
  }

  private stopWaiting(): void {
    if (this.waitingForPort) this.registry.off('released', this.waitingForPort);
    this.waitingForPort = null;
  }

  private async closeNow(): Promise<void> {
    this.stopWaiting();
    if (this.throttle) clearTimeout(this.throttle);
    this.throttle = null;
    const cur = this.current;
    this.current = null;
    if (cur) {
      cur.simulation?.stop();
      try {
        await cur.bus.close();
      } finally {
        cur.bus.off('frame', this.onFrame);
        cur.bus.off('state', this.onState);
        cur.bus.off('queue', this.onQueue);
        if (cur.claimKey !== undefined) this.registry.release(cur.claimKey, this.options.owner);
      }
    }
    this.ifaceState = 'closed';
    this.ifaceDetail = undefined;
    this.queued = 0;
    this.publish();
    // A user may have arrived while closing (partial redeploy): open again.
    if (this.phase === 'stopped' && this.users.size > 0) this.start();
  }

  private compute(): BusStatus {
    const detail = this.ifaceDetail !== undefined ? { detail: this.ifaceDetail } : {};
    switch (this.ifaceState) {
      case 'idle':
      case 'connecting':
        return { kind: 'connecting', ...detail };
      case 'connected':
        return this.queued > 0 ? { kind: 'busy', queued: this.queued } : { kind: 'connected' };
      case 'disconnected':
        return { kind: 'disconnected', ...detail };
      case 'portInUse':
        return { kind: 'portInUse', ...detail, ...(this.portHolder !== undefined ? { holder: this.portHolder } : {}) };
      case 'error':
        return { kind: 'error', ...detail };
      case 'closed':
        return { kind: 'closed' };
    }
  }

  private publish(): void {
    const next = this.compute();
    const prev = this.lastStatus;
    if (prev.kind === next.kind && prev.queued === next.queued && prev.detail === next.detail && prev.holder === next.holder) return;
    this.lastStatus = next;
    this.emit('status', next);
  }
}
