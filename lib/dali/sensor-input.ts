/**
 * SensorInput: what the `lsd-sensor-in` node does with a DALI-2 light +
 * occupancy sensor (a part 103 control device with instance types 3 and 4).
 *
 * - Setup, each time the bus becomes connected: with `configureAtStart`,
 *   device DTR0 = event scheme (device/instance = 2, or device = 1), SET
 *   EVENT SCHEME and ENABLE INSTANCE to the occupancy (type 3) and light
 *   (type 4) instances (send-twice commands, by instance type). Then QUERY
 *   NUMBER OF INSTANCES and QUERY INSTANCE TYPE of each, so that
 *   device/instance events (which name the instance number) can be told
 *   apart. A sensor that does not answer: 'sensor' event { state:
 *   'notAnswering' }, setup is tried again every `retryMs` (default 30 s).
 * - Events of this sensor's short address become readings ('reading'):
 *   `{ sensorId, zone, ts, lux }` (light, calibrated) or `{ ..., presence }`
 *   (occupancy), source "dali". Events of the device/instance scheme that
 *   arrive before the instance types are known wait (at most 32).
 * - Polling (pollIntervalS > 0) at background priority 5: QUERY INPUT VALUE
 *   (+ INPUT VALUE LATCH for the 10-bit light value) of the light instance
 *   and QUERY INPUT VALUE of the occupancy instance (top bit = occupied), one
 *   reading with both.
 * - Stale: no reading for staleAfterS -> 'alert' SensorStaleEvent
 *   (lib/contracts/alerts) { kind: 'stale', sensorId, zone, ts, silentS,
 *   lastSeen }; the next reading -> 'alert' { kind: 'recovered', ..., silentS }.
 * - Manual changes of the zone's gear by other masters -> 'alert'
 *   ManualChange (see ./manual-change).
 */
import type { ManualChange } from '../contracts/feedback';
import { EventEmitter } from 'node:events';
import type { SensorStaleEvent } from '../contracts/alerts';
import type { SensorReading } from '../contracts/readings';
import type { DaliBus, DaliBusFrameEvent } from './bus/dali-bus';
import { deviceCommand, deviceDtr0, instanceCommand } from './codec';
import type { GearList } from './address-spec';
import { ManualChangeDetector } from './manual-change';
import { DeviceCommand, InstanceCommand } from './opcodes';
import {
  calibrateLux,
  interpretSensorEvent,
  StaleTracker,
  type LuxCalibration,
  type SensorObservation,
  type StaleEvent,
} from './sensor-readings';
import { systemClock, type Clock, type TimerHandle } from './sim/virtual-bus';
import { EventScheme, InstanceType, type DeviceAddress, type GearAddress } from './types';
import type { DecodedEvent } from './codec';

/** Where the sensor input gets the bus from (a BusSession). */
export interface SensorBusSource {
  readonly bus: DaliBus | null;
  on(event: 'frame', listener: (ev: DaliBusFrameEvent) => void): unknown;
  on(event: 'connected', listener: (ev: { reconnect: boolean }) => void): unknown;
  off(event: 'frame', listener: (ev: DaliBusFrameEvent) => void): unknown;
  off(event: 'connected', listener: (ev: { reconnect: boolean }) => void): unknown;
}

export interface SensorInputSettings {
  readonly sensorAddress: number;
  readonly sensorId: string;
  readonly zone: string;
  readonly calibration: LuxCalibration;
  readonly configureAtStart: boolean;
  readonly eventScheme: 'deviceInstance' | 'device';
  /** 0 = events only. */
  readonly pollIntervalS: number;
  readonly staleAfterS: number;
  readonly zoneGear: GearList;
  readonly manualSettleMs?: number;
  /** Retry of a failed setup (default 30000 ms). */
  readonly retryMs?: number;
}

/** Where a reading came from (goes to msg.dali, outside the reading contract). */
export interface ReadingDetail {
  readonly address: number;
  readonly polled: boolean;
  readonly instanceType?: number;
  readonly instanceNumber?: number;
  readonly illuminanceRaw?: number;
  readonly movement?: boolean;
  readonly repeat?: boolean;
  /** The event frame, hex. */
  readonly frame?: string;
}

export type SensorAlert = SensorStaleEvent | ManualChange;

export type SensorState =
  | { readonly state: 'ready'; readonly instances: number }
  | { readonly state: 'notAnswering'; readonly detail?: string };

const MAX_WAITING = 32;

/** Events: 'reading' (SensorReading, ReadingDetail), 'alert' (SensorAlert), 'sensor' (SensorState). */
export class SensorInput extends EventEmitter {
  private readonly stale: StaleTracker;
  private readonly manual: ManualChangeDetector;
  private readonly instanceTypes = new Map<number, number>();
  private instancesKnown = false;
  private readonly waiting: DaliBusFrameEvent[] = [];
  private setupRunning: Promise<void> | null = null;
  private setupAgain = false;
  private retryTimer: TimerHandle | null = null;
  private pollTimer: TimerHandle | null = null;
  private polling = false;
  private running = false;
  private readonly clock: Clock;
  private readonly address: DeviceAddress;

  private readonly onFrame = (ev: DaliBusFrameEvent): void => this.handleFrame(ev);
  private readonly onConnected = (): void => this.setup();

  constructor(
    private readonly source: SensorBusSource,
    private readonly settings: SensorInputSettings,
    clock: Clock = systemClock,
  ) {
    super();
    this.clock = clock;
    this.address = { kind: 'short', address: settings.sensorAddress };
    this.stale = new StaleTracker(settings.staleAfterS * 1000, clock);
    this.stale.on('stale', (e: StaleEvent) => this.emitStale('stale', e));
    this.stale.on('recovered', (e: StaleEvent) => this.emitStale('recovered', e));
    this.manual = new ManualChangeDetector({
      zone: settings.zone,
      gear: settings.zoneGear,
      membersOf: (a: GearAddress) => this.source.bus?.members(a) ?? { shorts: [], complete: false },
      clock,
      ...(settings.manualSettleMs !== undefined ? { settleMs: settings.manualSettleMs } : {}),
    });
    this.manual.on('change', (c: ManualChange) => this.emit('alert', c));
  }

  /** Starts listening (and sets the sensor up if the bus is already connected). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.source.on('frame', this.onFrame);
    this.source.on('connected', this.onConnected);
    this.stale.start();
    if (this.source.bus?.state === 'connected') this.setup();
    this.schedulePoll();
  }

  /** Stops every timer and listener. */
  stop(): void {
    this.running = false;
    this.source.off('frame', this.onFrame);
    this.source.off('connected', this.onConnected);
    this.stale.stop();
    this.manual.stop();
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.pollTimer?.cancel();
    this.pollTimer = null;
    this.waiting.length = 0;
  }

  private emitStale(kind: 'stale' | 'recovered', e: StaleEvent): void {
    const alert: SensorStaleEvent = {
      kind,
      sensorId: this.settings.sensorId,
      zone: this.settings.zone,
      ts: Math.round(this.clock.now()),
      silentS: Math.round(e.silentMs / 100) / 10,
      ...(kind === 'stale' ? { lastSeen: e.lastSeen === null ? null : Math.round(e.lastSeen) } : {}),
    };
    this.emit('alert', alert);
  }

  // ---------------------------------------------------------------- setup

  /** Runs setup now (or once more after the running one). Never rejects. */
  setup(): void {
    if (!this.running) return;
    if (this.setupRunning) {
      this.setupAgain = true;
      return;
    }
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.setupRunning = this.runSetup()
      .catch((err: unknown) => this.notAnswering(err instanceof Error ? err.message : String(err)))
      .finally(() => {
        this.setupRunning = null;
        if (this.setupAgain) {
          this.setupAgain = false;
          this.setup();
        }
      });
  }

  private notAnswering(detail?: string): void {
    if (!this.running) return; // stopped meanwhile (the bus closed under a redeploy): nothing to report
    this.emit('sensor', { state: 'notAnswering', ...(detail !== undefined ? { detail } : {}) } satisfies SensorState);
    if (!this.running || this.retryTimer) return;
    this.retryTimer = this.clock.setTimer(this.settings.retryMs ?? 30000, () => {
      this.retryTimer = null;
      this.setup();
    });
  }

  private async runSetup(): Promise<void> {
    const bus = this.source.bus;
    if (!bus || !this.running) return;
    const priority = 3;
    if (this.settings.configureAtStart) {
      const scheme = this.settings.eventScheme === 'device' ? EventScheme.Device : EventScheme.DeviceInstance;
      const occupancy = { kind: 'type', instanceType: InstanceType.OccupancySensor } as const;
      const light = { kind: 'type', instanceType: InstanceType.LightSensor } as const;
      await bus.send(
        [
          deviceDtr0(scheme),
          instanceCommand(this.address, occupancy, InstanceCommand.SET_EVENT_SCHEME),
          instanceCommand(this.address, light, InstanceCommand.SET_EVENT_SCHEME),
          instanceCommand(this.address, occupancy, InstanceCommand.ENABLE_INSTANCE),
          instanceCommand(this.address, light, InstanceCommand.ENABLE_INSTANCE),
        ],
        { priority },
      );
    }
    const count = await bus.query(deviceCommand(this.address, DeviceCommand.QUERY_NUMBER_OF_INSTANCES), { priority });
    if (count.kind !== 'answer') {
      this.notAnswering(count.kind === 'framingError' ? 'several devices answer at this address' : undefined);
      return;
    }
    const n = Math.min(32, count.value);
    this.instanceTypes.clear();
    for (let i = 0; i < n; i++) {
      const t = await bus.query(instanceCommand(this.address, { kind: 'number', instance: i }, InstanceCommand.QUERY_INSTANCE_TYPE), {
        priority,
      });
      if (t.kind === 'answer') this.instanceTypes.set(i, t.value);
    }
    this.instancesKnown = true;
    this.emit('sensor', { state: 'ready', instances: n } satisfies SensorState);
    const waiting = this.waiting.splice(0);
    for (const ev of waiting) this.handleFrame(ev);
  }

  // ---------------------------------------------------------------- events

  private handleFrame(ev: DaliBusFrameEvent): void {
    if (!this.running) return;
    const d = ev.decoded;
    if (!d) return;
    if (d.bits === 16) {
      this.manual.handle(ev);
      return;
    }
    if (d.kind !== 'event') return;
    const seen = interpretSensorEvent(d, this.settings.sensorAddress, this.instanceTypes);
    if (seen === null) return;
    if (seen === 'unknownInstance') {
      if (this.waiting.length < MAX_WAITING) this.waiting.push(ev);
      // The types are known but this instance is not among them: ask again.
      if (this.instancesKnown && !this.setupRunning && !this.retryTimer) this.setup();
      return;
    }
    this.reading(ev.event.ts, seen, d, false);
  }

  private reading(ts: number, o: SensorObservation, d: DecodedEvent | null, polled: boolean): void {
    const lux = o.illuminanceRaw !== undefined ? calibrateLux(o.illuminanceRaw, this.settings.calibration) : undefined;
    if (lux === undefined && o.occupied === undefined) return;
    this.stale.seen();
    const reading: SensorReading = {
      sensorId: this.settings.sensorId,
      zone: this.settings.zone,
      ts: Number.isFinite(ts) ? Math.round(ts) : Date.now(),
      ...(lux !== undefined ? { lux } : {}),
      ...(o.occupied !== undefined ? { presence: o.occupied } : {}),
      source: 'dali',
    };
    const detail: ReadingDetail = {
      address: this.settings.sensorAddress,
      polled,
      ...(o.instanceType >= 0 ? { instanceType: o.instanceType } : {}),
      ...(o.instanceNumber !== undefined ? { instanceNumber: o.instanceNumber } : {}),
      ...(o.illuminanceRaw !== undefined ? { illuminanceRaw: o.illuminanceRaw } : {}),
      ...(o.movement !== undefined ? { movement: o.movement } : {}),
      ...(o.repeat !== undefined ? { repeat: o.repeat } : {}),
      ...(d ? { frame: d.value.toString(16).toUpperCase().padStart(6, '0') } : {}),
    };
    this.emit('reading', reading, detail);
  }

  // ---------------------------------------------------------------- polling

  private schedulePoll(): void {
    if (!this.running || this.settings.pollIntervalS <= 0) return;
    this.pollTimer = this.clock.setTimer(this.settings.pollIntervalS * 1000, () => {
      this.pollTimer = null;
      this.poll()
        .catch(() => undefined)
        .finally(() => this.schedulePoll());
    });
  }

  /** One QUERY INPUT VALUE round (see the module comment). Resolves without a reading when nobody answers. */
  async poll(): Promise<void> {
    const bus = this.source.bus;
    if (!bus || this.polling || bus.state !== 'connected') return;
    this.polling = true;
    try {
      const light = { kind: 'type', instanceType: InstanceType.LightSensor } as const;
      const occupancy = { kind: 'type', instanceType: InstanceType.OccupancySensor } as const;
      const [msb, latch, occ] = await bus.send(
        [
          instanceCommand(this.address, light, InstanceCommand.QUERY_INPUT_VALUE),
          instanceCommand(this.address, light, InstanceCommand.QUERY_INPUT_VALUE_LATCH),
          instanceCommand(this.address, occupancy, InstanceCommand.QUERY_INPUT_VALUE),
        ],
        { priority: 5 },
      );
      if (!this.running) return;
      const raw = msb?.kind === 'answer' ? (msb.value << 2) | (latch?.kind === 'answer' ? latch.value >> 6 : 0) : undefined;
      const occupied = occ?.kind === 'answer' ? (occ.value & 0x80) !== 0 : undefined;
      if (raw === undefined && occupied === undefined) return;
      this.reading(
        this.clock.now(),
        {
          instanceType: -1,
          ...(raw !== undefined ? { illuminanceRaw: raw } : {}),
          ...(occupied !== undefined ? { occupied, movement: occ?.kind === 'answer' && (occ.value & 0x40) !== 0 } : {}),
        },
        null,
        true,
      );
    } finally {
      this.polling = false;
    }
  }
}
