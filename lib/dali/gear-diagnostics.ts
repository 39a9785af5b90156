/**
 * Which gear an address reaches, and what each gear says about itself.
 *
 * - `GearDirectory.members(bus, address)`: the short addresses a short,
 *   group or broadcast address reaches. Known membership (inventory,
 *   commissioning) is used as is; otherwise the bus is scanned once
 *   (./group-membership scanGroupMembership: QUERY GROUPS of 0..63, about
 *   3 s; a garbled answer fails the scan rather than guess), and kept for
 *   diagnostics until `forget()` (call it after a reconnect). It is not
 *   handed to the DaliBus: a scan that ends after the groups changed would
 *   teach it stale membership (./group-membership GroupMembership does that,
 *   dropping a scan that went out of date).
 * - `diagnoseGear(bus, short)`: QUERY STATUS (bits by name), QUERY LAMP
 *   FAILURE, device types, and for DT8 gear colour type features, colour
 *   status, gear features (automatic activation), Tc limits, actual level
 *   and colour temperature. Gear that does not answer QUERY STATUS is
 *   reported `present: false` and not asked anything else.
 */
import type { DaliBus, GearStatus, TcLimitsReading } from './bus/dali-bus';
import { dt8Command, enableDeviceType, gearCommand } from './codec';
import { arcLevelToPercent, type DimmingCurve } from './curve';
import { formatGearAddress } from './address-spec';
import { scanGroupMembership } from './group-membership';
import { DEVICE_TYPE_COLOUR, Dt8Command, GearCommand } from './opcodes';
import type { BackwardResult, GearAddress, Priority } from './types';

const QUERY_PRIORITY: Priority = 3;

export class GearDirectory {
  private scan: Promise<ReadonlyMap<number, readonly number[]>> | null = null;

  /** Forgets the scan (the bus may have changed while disconnected). */
  forget(): void {
    this.scan = null;
  }

  /** Short addresses `address` reaches, ascending. */
  async members(bus: DaliBus, address: GearAddress): Promise<number[]> {
    if (address.kind === 'short') return [address.address];
    if (address.kind === 'broadcastUnaddressed') return [];
    const known = bus.members(address);
    if (known.complete && known.shorts.length > 0) return known.shorts;
    const found = await this.discover(bus);
    const shorts = [...found.keys()].sort((a, b) => a - b);
    if (address.kind === 'broadcast') return shorts;
    return shorts.filter((s) => found.get(s)?.includes(address.group) === true);
  }

  private discover(bus: DaliBus): Promise<ReadonlyMap<number, readonly number[]>> {
    if (!this.scan) {
      // Kept for diagnostics only: the bus learns groups from GroupMembership alone, which knows when a scan is out of date.
      const scan = scanGroupMembership(bus, { priority: QUERY_PRIORITY, teach: false }).then((r) => r.gear);
      this.scan = scan;
      scan.catch(() => {
        if (this.scan === scan) this.scan = null;
      });
    }
    return this.scan;
  }
}

export interface ColourTypeFeatures {
  readonly raw: number;
  readonly xyCapable: boolean;
  readonly tcCapable: boolean;
  readonly primaryCount: number;
  readonly rgbwafChannels: number;
}

export interface ColourStatus {
  readonly raw: number;
  readonly xyOutOfRange: boolean;
  readonly tcOutOfRange: boolean;
  readonly autoCalibrationRunning: boolean;
  readonly autoCalibrationSuccessful: boolean;
  readonly xyActive: boolean;
  readonly tcActive: boolean;
  readonly primaryNActive: boolean;
  readonly rgbwafActive: boolean;
}

export interface TcLimitsReport extends TcLimitsReading {
  readonly coolestKelvin: number | null;
  readonly warmestKelvin: number | null;
  readonly physicalCoolestKelvin: number | null;
  readonly physicalWarmestKelvin: number | null;
}

export interface GearDiagnosis {
  /** `A5`. */
  readonly address: string;
  readonly present: boolean;
  readonly status: GearStatus | null;
  /** QUERY LAMP FAILURE (null: no answer to QUERY STATUS). */
  readonly lampFailure: boolean | null;
  readonly deviceTypes: number[] | null;
  readonly dt8: boolean;
  readonly colourTypeFeatures: ColourTypeFeatures | null;
  readonly colourStatus: ColourStatus | null;
  readonly gearFeatures: { readonly raw: number; readonly autoActivation: boolean } | null;
  readonly tcLimits: TcLimitsReport | null;
  /** 0..254, 255 = MASK (unknown), null = no answer. */
  readonly actualLevel: number | null;
  /** The actual level in percent on the node's curve. */
  readonly intensity: number | null;
  readonly colourTemperature: { readonly mirek: number; readonly kelvin: number } | null;
}

const kelvinOf = (mirek: number | null): number | null => (mirek === null || mirek <= 0 ? null : Math.round(1e6 / mirek));

function answer(r: BackwardResult | undefined): number | null {
  return r?.kind === 'answer' ? r.value : null;
}

/** QUERY COLOUR TYPE FEATURES (part 209) answer, bit by bit. */
export function decodeColourTypeFeatures(f: number): ColourTypeFeatures {
  return {
    raw: f,
    xyCapable: (f & 0x01) !== 0,
    tcCapable: (f & 0x02) !== 0,
    primaryCount: (f >> 2) & 0x07,
    rgbwafChannels: (f >> 5) & 0x07,
  };
}

/** QUERY COLOUR STATUS (part 209) answer, bit by bit. */
export function decodeColourStatus(s: number): ColourStatus {
  return {
    raw: s,
    xyOutOfRange: (s & 0x01) !== 0,
    tcOutOfRange: (s & 0x02) !== 0,
    autoCalibrationRunning: (s & 0x04) !== 0,
    autoCalibrationSuccessful: (s & 0x08) !== 0,
    xyActive: (s & 0x10) !== 0,
    tcActive: (s & 0x20) !== 0,
    primaryNActive: (s & 0x40) !== 0,
    rgbwafActive: (s & 0x80) !== 0,
  };
}

/** One DT8 query (ENABLE DEVICE TYPE 8 + the command in one transaction): the answer, or null for NO. */
export async function dt8Query(bus: DaliBus, short: number, opcode: number): Promise<number | null> {
  const rs = await bus.send([enableDeviceType(DEVICE_TYPE_COLOUR), dt8Command({ kind: 'short', address: short }, opcode)], {
    priority: QUERY_PRIORITY,
  });
  return answer(rs[1]);
}

type Dt8Diagnosis = Pick<GearDiagnosis, 'colourTypeFeatures' | 'colourStatus' | 'gearFeatures' | 'tcLimits' | 'colourTemperature'>;

const NO_DT8: Dt8Diagnosis = { colourTypeFeatures: null, colourStatus: null, gearFeatures: null, tcLimits: null, colourTemperature: null };

/** Gear that did not answer QUERY STATUS. */
function absent(address: string): GearDiagnosis {
  const { colourTemperature, ...colour } = NO_DT8;
  return {
    address,
    present: false,
    status: null,
    lampFailure: null,
    deviceTypes: null,
    dt8: false,
    ...colour,
    actualLevel: null,
    intensity: null,
    colourTemperature,
  };
}

function tcLimitsReport(limits: TcLimitsReading): TcLimitsReport {
  return {
    ...limits,
    coolestKelvin: kelvinOf(limits.coolestMirek),
    warmestKelvin: kelvinOf(limits.warmestMirek),
    physicalCoolestKelvin: kelvinOf(limits.physicalCoolestMirek),
    physicalWarmestKelvin: kelvinOf(limits.physicalWarmestMirek),
  };
}

/** The part 209 answers of DT8 gear: colour type features, colour status, gear features, Tc limits, actual Tc. */
async function diagnoseDt8(bus: DaliBus, short: number): Promise<Dt8Diagnosis> {
  const opts = { priority: QUERY_PRIORITY };
  const f = await dt8Query(bus, short, Dt8Command.QUERY_COLOUR_TYPE_FEATURES);
  const s = await dt8Query(bus, short, Dt8Command.QUERY_COLOUR_STATUS);
  const features = await bus.readGearFeatures(short, { ...opts, refresh: true });
  const limits = await bus.readTcLimits(short, opts);
  const mirek = await bus.readColourTemperatureMirek(short, opts);
  return {
    colourTypeFeatures: f !== null ? decodeColourTypeFeatures(f) : null,
    colourStatus: s !== null ? decodeColourStatus(s) : null,
    gearFeatures: features ? { raw: features.raw, autoActivation: features.autoActivation } : null,
    tcLimits: limits ? tcLimitsReport(limits) : null,
    colourTemperature: mirek !== null ? { mirek, kelvin: Math.round(1e6 / mirek) } : null,
  };
}

/** Everything the gear at `short` reports about itself (see the module comment). */
export async function diagnoseGear(bus: DaliBus, short: number, curve: DimmingCurve = 'logarithmic'): Promise<GearDiagnosis> {
  const address = formatGearAddress({ kind: 'short', address: short });
  const opts = { priority: QUERY_PRIORITY };
  const status = await bus.queryStatus(short, opts);
  if (status === null) return absent(address);
  const lamp = await bus.query(gearCommand({ kind: 'short', address: short }, GearCommand.QUERY_LAMP_FAILURE), opts);
  const deviceTypes = await bus.queryDeviceTypes(short, opts);
  const dt8 = deviceTypes?.includes(DEVICE_TYPE_COLOUR) === true;
  const actualLevel = await bus.readActualLevel(short, opts);
  const { colourTemperature, ...colour } = dt8 ? await diagnoseDt8(bus, short) : NO_DT8;
  return {
    address,
    present: true,
    status,
    lampFailure: lamp.kind !== 'none',
    deviceTypes,
    dt8,
    ...colour,
    actualLevel,
    intensity: actualLevel !== null && actualLevel <= 254 ? Math.round(arcLevelToPercent(actualLevel, curve) * 100) / 100 : null,
    colourTemperature,
  };
}
