/**
 * Shared DALI types: the contract between the codec (lib/dali), the bus
 * scheduler (lib/dali/bus), the interfaces (lib/dali/interfaces) and the
 * simulator (lib/dali/sim). Plain TypeScript, no Node-RED.
 *
 * Terms follow IEC 62386: a *forward frame* goes from the application
 * controller to control gear (16 bits, part 102) or control devices (24 bits,
 * part 103); a *backward frame* is the 8-bit answer to a query.
 */

/** Bit length of a forward frame: 16 = control gear (102), 24 = control device (103). */
export type ForwardBits = 16 | 24;

/** A forward frame as it goes on the wire (MSB first, right-aligned in `value`). */
export interface ForwardFrame {
  readonly bits: ForwardBits;
  /** 0..0xFFFF for 16 bits, 0..0xFFFFFF for 24 bits. */
  readonly value: number;
  /** Configuration commands: the interface repeats the frame within 94 ms. */
  readonly sendTwice?: boolean;
  /** Queries: an 8-bit backward frame may follow (no frame = NO). */
  readonly expectAnswer?: boolean;
}

/** What came back after a forward frame. */
export type BackwardResult =
  /** No backward frame within 12.4 ms (a query answered NO, or a command). */
  | { readonly kind: 'none' }
  /** One clean 8-bit backward frame. */
  | { readonly kind: 'answer'; readonly value: number }
  /** Several devices answered at once, or a corrupt frame. A yes/no query reads this as YES. */
  | { readonly kind: 'framingError' };

/**
 * Forward-frame priority of part 101 (settling time before the next frame):
 * 1 = 13.5-14.7 ms ... 5 = 19.5-21.1 ms. Lower number = sooner on the bus.
 * Convention in this package: user commands 2, queries from users 3,
 * background polling 5 (1 is reserved for transactions' inner frames).
 */
export type Priority = 1 | 2 | 3 | 4 | 5;

/** A frame observed on the bus that this controller did not send (wall panel, sensor event, other master). */
export interface BusFrameEvent {
  /** Epoch ms when the interface saw it. */
  readonly ts: number;
  /** 8 = a backward frame seen on its own, 16/24 = forward frame or event. */
  readonly bits: 8 | 16 | 24;
  readonly value: number;
  /** Set when the interface reported a framing error instead of a clean frame. */
  readonly framingError?: boolean;
}

/** Connection state of an interface, as shown in node status. */
export type InterfaceState =
  | 'connecting'
  | 'connected'
  | 'disconnected'
  /** The device exists but another process holds it (EBUSY / lock). */
  | 'portInUse'
  | 'error'
  | 'closed';

export type InterfaceKind = 'luba' | 'sci2' | 'hidraw' | 'simulator';

export interface InterfaceStateEvent {
  readonly state: InterfaceState;
  /** Human-readable detail (error message, path). Never contains secrets. */
  readonly detail?: string;
}

/**
 * One physical (or simulated) DALI interface. Exactly one owner (the bus
 * scheduler) calls `transmit`, one transaction at a time. Implementations:
 * lib/dali/interfaces/{luba,sci2,hidraw,simulator}.ts.
 *
 * Events (Node.js EventEmitter):
 * - 'frame' (BusFrameEvent): frames other masters put on the bus.
 * - 'state' (InterfaceStateEvent): connection state changes.
 */
export interface DaliInterface {
  readonly kind: InterfaceKind;
  readonly state: InterfaceState;
  /** Opens the device and keeps it open: reconnects with backoff until close(). Resolves on first connect or rejects on a permanent error. */
  open(): Promise<void>;
  /** Releases the device and every timer; resolves when the port is closed. Idempotent. */
  close(): Promise<void>;
  /**
   * Puts one forward frame on the bus (twice if `frame.sendTwice`) and waits
   * for the backward frame when `frame.expectAnswer`. Rejects with a
   * DaliInterfaceError when the interface is not connected or the bus reports
   * a fault (e.g. bus power down).
   */
  transmit(frame: ForwardFrame, priority: Priority): Promise<BackwardResult>;
  on(event: 'frame', listener: (ev: BusFrameEvent) => void): this;
  on(event: 'state', listener: (ev: InterfaceStateEvent) => void): this;
  off(event: 'frame', listener: (ev: BusFrameEvent) => void): this;
  off(event: 'state', listener: (ev: InterfaceStateEvent) => void): this;
}

export class DaliInterfaceError extends Error {
  constructor(
    message: string,
    readonly code: 'notConnected' | 'busFault' | 'timeout' | 'closed' | 'portInUse' | 'protocol',
  ) {
    super(message);
    this.name = 'DaliInterfaceError';
  }
}

/** Addressing of control gear (part 102). */
export type GearAddress =
  | { readonly kind: 'short'; readonly address: number } // 0..63
  | { readonly kind: 'group'; readonly group: number } // 0..15
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'broadcastUnaddressed' };

/** Addressing of control devices (part 103). */
export type DeviceAddress =
  | { readonly kind: 'short'; readonly address: number } // 0..63
  | { readonly kind: 'group'; readonly group: number } // 0..31
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'broadcastUnaddressed' };

/** Instance byte of a part 103 command. */
export type InstanceSelector =
  | { readonly kind: 'number'; readonly instance: number } // 0..31
  | { readonly kind: 'group'; readonly group: number } // 0..31
  | { readonly kind: 'type'; readonly instanceType: number } // 0..31
  | { readonly kind: 'all' } // 0xFF
  | { readonly kind: 'device' }; // 0xFE

/** Event schemes of part 103 (SET EVENT SCHEME, DTR0 value). */
export enum EventScheme {
  Instance = 0,
  Device = 1,
  DeviceInstance = 2,
  DeviceGroup = 3,
  InstanceGroup = 4,
}

/** Instance types of part 103 used here. */
export enum InstanceType {
  Generic = 0,
  PushButton = 1,
  AbsoluteInput = 2,
  OccupancySensor = 3,
  LightSensor = 4,
}
