/**
 * What the `dali-dt8-out` node does with a setpoint
 * `{ zone, intensity (0-100 %), cct (K), reason, source, fadeMs? }`:
 *
 * 1. `validateSetpoint` refuses anything else (DaliInputError codes
 *    `payload`, `zone`, `intensity`, `cct`, `reason`, `source`, `fadeMs`);
 *    nothing is sent for a refused setpoint.
 * 2. Intensity -> arc power level on the chosen dimming curve; kelvin ->
 *    mirek (truncated, as DT8 gear does), clamped to the Tc limits: the
 *    configured ones, or (tcLimitsFrom 'gear') the gear's own, read once
 *    per address with QUERY COLOUR VALUE (coolest/warmest, physical ones
 *    where those are MASK) and cached; for a group or broadcast the limits
 *    every member accepts. Gear that does not answer: configured limits.
 * 3. Fade: `planFade(ms)` picks FADE TIME code 1..15 (0.7-90.5 s, nearest
 *    on a log scale) for 354 ms..90.5 s, else FADE TIME 0 with the EXTENDED
 *    FADE TIME nearest to the request (0 = instant, 100 ms..16 min). The
 *    DTR0 + SET FADE TIME (+ SET EXTENDED FADE TIME) frames are only sent
 *    when the gear has a different setting: learnt from QUERY FADE
 *    TIME/FADE RATE and QUERY EXTENDED FADE TIME once per short address,
 *    or from what this output sent before (forgotten after a reconnect and
 *    when another master sends a fade command or RESET).
 * 4. The DaliBus setpoint (latest wins per address while waiting: an
 *    older setpoint resolves `superseded: true`, with no frames of its own).
 * 5. With `verify`: after the fade time, QUERY ACTUAL LEVEL and QUERY COLOUR
 *    VALUE of every gear the address reaches (`readback`), `verified` =
 *    every gear reports what was sent.
 *
 * Setpoints given to one Dt8Output reach the bus in the order they were
 * given, also while an earlier one waits for a query.
 */
import { ACCEPTED_KELVIN_MAX, ACCEPTED_KELVIN_MIN, MAX_FADE_MS, type Setpoint, SETPOINT_SOURCES, type SetpointSource } from '../contracts';
import type { DaliBus, DaliBusFrameEvent } from './bus/dali-bus';
import { dtr0, gearCommand } from './codec';
import { kelvinToMirek, kelvinToMirekClamped, mirekToKelvin, type TcLimits } from './colour';
import { arcLevelToPercent, percentToArcLevel, type DimmingCurve } from './curve';
import { extendedFadeTimeToMs, FADE_TIME_MS, fadeTimeCodeToMs, msToExtendedFadeTime, msToFadeTimeCode } from './fade';
import { formatGearAddress } from './address-spec';
import { diagnoseGear, GearDirectory, type GearDiagnosis } from './gear-diagnostics';
import { DaliInputError, describeInput } from './input-error';
import { Dt8Command, GearCommand } from './opcodes';
import { DaliInterfaceError, type ForwardFrame, type GearAddress, type Priority } from './types';

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The setpoint in `payload`, or a DaliInputError saying what is wrong with it. */
export function validateSetpoint(payload: unknown): Setpoint {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new DaliInputError(
      'payload',
      { value: describeInput(payload) },
      `msg.payload must be a setpoint object {zone, intensity, cct, reason, source}, got ${describeInput(payload)}`,
    );
  }
  const p = payload as Record<string, unknown>;
  if (typeof p.zone !== 'string' || p.zone.trim() === '') {
    throw new DaliInputError(
      'zone',
      { value: describeInput(p.zone) },
      `payload.zone must be a non-empty string, got ${describeInput(p.zone)}`,
    );
  }
  if (!isNumber(p.intensity) || p.intensity < 0 || p.intensity > 100) {
    throw new DaliInputError(
      'intensity',
      { value: describeInput(p.intensity) },
      `payload.intensity must be a number from 0 to 100 (percent), got ${describeInput(p.intensity)}`,
    );
  }
  if (!isNumber(p.cct) || p.cct < ACCEPTED_KELVIN_MIN || p.cct > ACCEPTED_KELVIN_MAX) {
    throw new DaliInputError(
      'cct',
      { value: describeInput(p.cct), min: ACCEPTED_KELVIN_MIN, max: ACCEPTED_KELVIN_MAX },
      `payload.cct must be a colour temperature from ${ACCEPTED_KELVIN_MIN} to ${ACCEPTED_KELVIN_MAX} K, got ${describeInput(p.cct)}`,
    );
  }
  if (typeof p.reason !== 'string') {
    throw new DaliInputError(
      'reason',
      { value: describeInput(p.reason) },
      `payload.reason must be a string, got ${describeInput(p.reason)}`,
    );
  }
  const source = SETPOINT_SOURCES.find((s) => s === p.source);
  if (source === undefined) {
    throw new DaliInputError(
      'source',
      { value: describeInput(p.source), allowed: SETPOINT_SOURCES.join(', ') },
      `payload.source must be one of ${SETPOINT_SOURCES.join(', ')}, got ${describeInput(p.source)}`,
    );
  }
  if (p.fadeMs !== undefined && (!isNumber(p.fadeMs) || p.fadeMs < 0 || p.fadeMs > MAX_FADE_MS)) {
    throw new DaliInputError(
      'fadeMs',
      { value: describeInput(p.fadeMs), max: MAX_FADE_MS },
      `payload.fadeMs must be a number of ms from 0 to ${MAX_FADE_MS}, got ${describeInput(p.fadeMs)}`,
    );
  }
  return {
    zone: p.zone,
    intensity: p.intensity,
    cct: p.cct,
    reason: p.reason,
    source,
    ...(p.fadeMs !== undefined ? { fadeMs: p.fadeMs as number } : {}),
  };
}

// ------------------------------------------------------------------ fade

/** FADE TIME code and EXTENDED FADE TIME byte (the latter counts only when the code is 0). */
export interface FadeSetting {
  readonly fadeTime: number;
  readonly extendedFadeTime: number;
}

const LOWEST_CODE_MS = (FADE_TIME_MS[1] as number) / 2;
const HIGHEST_CODE_MS = Math.ceil(FADE_TIME_MS[15] as number);

/** The gear setting for a fade of `ms` (see the module comment). @throws RangeError outside 0..960000. */
export function planFade(ms: number): FadeSetting {
  if (!isNumber(ms) || ms < 0 || ms > MAX_FADE_MS) throw new RangeError(`fade time must be 0..${MAX_FADE_MS} ms, got ${String(ms)}`);
  if (ms >= LOWEST_CODE_MS && ms <= HIGHEST_CODE_MS) return { fadeTime: msToFadeTimeCode(ms), extendedFadeTime: 0 };
  return { fadeTime: 0, extendedFadeTime: msToExtendedFadeTime(ms) };
}

/** Duration of a fade setting in ms. */
export function fadeSettingMs(f: FadeSetting): number {
  return f.fadeTime > 0 ? fadeTimeCodeToMs(f.fadeTime) : extendedFadeTimeToMs(f.extendedFadeTime);
}

/** Frames that change `have` (partly unknown) into `want`; [] when nothing differs. */
export function fadeFrames(address: GearAddress, want: FadeSetting, have: Partial<FadeSetting> | undefined): ForwardFrame[] {
  const frames: ForwardFrame[] = [];
  if (have?.fadeTime !== want.fadeTime) frames.push(dtr0(want.fadeTime), gearCommand(address, GearCommand.SET_FADE_TIME));
  if (want.fadeTime === 0 && have?.extendedFadeTime !== want.extendedFadeTime) {
    frames.push(dtr0(want.extendedFadeTime), gearCommand(address, GearCommand.SET_EXTENDED_FADE_TIME));
  }
  return frames;
}

// ------------------------------------------------------------------ output

export interface Dt8OutputSettings {
  readonly curve: DimmingCurve;
  /** Fade when the setpoint has no fadeMs. */
  readonly fadeMs: number;
  readonly tcLimitsFrom: 'config' | 'gear';
  readonly coolestKelvin: number;
  readonly warmestKelvin: number;
  readonly verify: boolean;
  /** Extra wait after the fade before reading back (default 100 ms). */
  readonly verifySettleMs?: number;
}

export interface GearReadback {
  readonly address: string;
  /** QUERY ACTUAL LEVEL (255 = MASK), null = no answer. */
  readonly level: number | null;
  readonly intensity: number | null;
  readonly mirek: number | null;
  readonly cct: number | null;
  /** The gear reports the level and colour that were sent. */
  readonly matches: boolean;
}

export interface Dt8Result {
  readonly zone: string;
  readonly source: SetpointSource;
  readonly reason: string;
  readonly address: string;
  /** As requested, percent. */
  readonly intensity: number;
  /** Sent, kelvin (from the mirek sent, after clamping). */
  readonly cct: number;
  readonly level: number;
  readonly mirek: number;
  /** Fade the gear was set to, ms. */
  readonly fadeMs: number;
  /** Frames of this command on the wire (fade settings + setpoint; queries not counted). */
  readonly frames: number;
  readonly busTimeMs: number;
  readonly tcLimits: { readonly coolestKelvin: number; readonly warmestKelvin: number; readonly source: 'config' | 'gear' };
  readonly superseded?: true;
  readonly readback?: GearReadback[];
  readonly verified?: boolean;
}

export interface DiagnosticsReport {
  readonly kind: 'diagnostics';
  readonly address: string;
  readonly ts: number;
  readonly gear: GearDiagnosis[];
}

type LimitsEntry = { limits: TcLimits; source: 'config' | 'gear' };

const USER_PRIORITY: Priority = 2;
const QUERY_PRIORITY: Priority = 3;
/** Routine automatic setpoints (window and timer decisions) queue behind people's: manual changes and arrivals. */
const ROUTINE_PRIORITY: Priority = 3;

/** How a setpoint queues on the bus. */
export interface ApplyOptions {
  /**
   * A routine automatic change (a window or timer decision): it waits behind
   * manual setpoints and presence arrivals, so someone walking in is not
   * queued behind a burst of window decisions for other zones. Default false.
   */
  readonly routine?: boolean;
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new DaliInterfaceError('aborted', 'closed'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new DaliInterfaceError('aborted', 'closed'));
    };
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DaliInterfaceError('aborted', 'closed');
}

function keyOf(a: GearAddress): string {
  return formatGearAddress(a);
}

export class Dt8Output {
  private readonly fades = new Map<string, Partial<FadeSetting>>();
  private readonly limits = new Map<string, LimitsEntry>();
  private readonly directory = new GearDirectory();
  private order: Promise<unknown> = Promise.resolve();
  private readonly configLimits: TcLimits;

  constructor(
    private readonly getBus: () => DaliBus | null,
    private readonly settings: Dt8OutputSettings,
  ) {
    this.configLimits = { coolestMirek: kelvinToMirek(settings.coolestKelvin), warmestMirek: kelvinToMirek(settings.warmestKelvin) };
  }

  /** Forgets everything learnt about the gear (after a reconnect). */
  reset(): void {
    this.fades.clear();
    this.limits.clear();
    this.directory.forget();
  }

  /** Frames of other masters: a fade or limit change, or RESET, makes what was learnt unreliable. */
  handleFrame(ev: DaliBusFrameEvent): void {
    const d = ev.decoded;
    if (!d) return;
    if (d.kind === 'gearCommand') {
      const op = d.opcode;
      if (op === GearCommand.SET_FADE_TIME || op === GearCommand.SET_EXTENDED_FADE_TIME || op === GearCommand.RESET) this.fades.clear();
      if (op === GearCommand.RESET) this.limits.clear();
      if (op >= GearCommand.ADD_TO_GROUP && op < GearCommand.REMOVE_FROM_GROUP + 16) this.directory.forget();
    } else if (d.kind === 'dt8' && d.opcode === Dt8Command.STORE_COLOUR_TEMPERATURE_LIMIT) {
      this.limits.clear();
    }
  }

  private bus(): DaliBus {
    const bus = this.getBus();
    if (!bus) throw new DaliInterfaceError('the DALI bus is not open', 'notConnected');
    return bus;
  }

  /** Applies a validated setpoint (see the module comment). Rejects with DaliInterfaceError on bus failures. */
  apply(setpoint: Setpoint, address: GearAddress, signal?: AbortSignal, options: ApplyOptions = {}): Promise<Dt8Result> {
    const priority = options.routine === true ? ROUTINE_PRIORITY : USER_PRIORITY;
    const queued = this.order.then(() => this.enqueue(setpoint, address, signal, priority));
    this.order = queued.catch(() => undefined);
    return queued.then((q) => this.finish(q, signal));
  }

  private async enqueue(setpoint: Setpoint, address: GearAddress, signal: AbortSignal | undefined, priority: Priority) {
    checkAborted(signal);
    const bus = this.bus();
    const limits = await this.limitsFor(bus, address);
    const level = percentToArcLevel(setpoint.intensity, this.settings.curve);
    const mirek = kelvinToMirekClamped(setpoint.cct, limits.limits);
    const fade = planFade(setpoint.fadeMs ?? this.settings.fadeMs);
    const key = keyOf(address);
    if (address.kind === 'short' && !this.fades.has(key)) this.fades.set(key, await this.readFade(bus, address));
    checkAborted(signal);
    // From here on nothing waits: the fade frames and the setpoint are queued back to back.
    const frames = fadeFrames(address, fade, this.fades.get(key));
    let fadeJob: Promise<{ frames: number; busTimeMs: number }> = Promise.resolve({ frames: 0, busTimeMs: 0 });
    if (frames.length > 0) {
      for (const k of [...this.fades.keys()]) if (k !== key && (address.kind !== 'short' || !k.startsWith('A'))) this.fades.delete(k);
      this.fades.set(key, fade);
      // Fade frames always go at the user priority, in the order given: a routine change's fade must
      // not run after a later arrival's setpoint (it would leave its long fade on the gear).
      fadeJob = bus.transact(frames, { priority: USER_PRIORITY }).catch((err: unknown) => {
        this.fades.delete(key);
        throw err;
      });
      fadeJob.catch(() => undefined);
    }
    const setpointJob = bus.setpoint({ address, level, mirek }, { priority });
    setpointJob.catch(() => undefined);
    return { setpoint, address, level, mirek, fade, limits, fadeJob, setpointJob };
  }

  private async finish(q: Awaited<ReturnType<Dt8Output['enqueue']>>, signal?: AbortSignal): Promise<Dt8Result> {
    const fadeDone = await q.fadeJob;
    const r = await q.setpointJob;
    const { setpoint, address, level, mirek, fade, limits } = q;
    const base: Dt8Result = {
      zone: setpoint.zone,
      source: setpoint.source,
      reason: setpoint.reason,
      address: keyOf(address),
      intensity: setpoint.intensity,
      cct: mirekToKelvin(mirek),
      level,
      mirek,
      fadeMs: Math.round(fadeSettingMs(fade)),
      frames: fadeDone.frames + r.frames,
      busTimeMs: Math.round((fadeDone.busTimeMs + r.busTimeMs) * 100) / 100,
      tcLimits: {
        coolestKelvin: mirekToKelvin(limits.limits.coolestMirek),
        warmestKelvin: mirekToKelvin(limits.limits.warmestMirek),
        source: limits.source,
      },
    };
    if (r.superseded) return { ...base, superseded: true };
    if (!this.settings.verify) return base;
    await abortableSleep(fadeSettingMs(fade) + (this.settings.verifySettleMs ?? 100), signal);
    const bus = this.bus();
    const readback: GearReadback[] = [];
    for (const short of await this.directory.members(bus, address)) {
      checkAborted(signal);
      const got = await bus.readActualLevel(short, { priority: QUERY_PRIORITY });
      const gotMirek = await bus.readColourTemperatureMirek(short, { priority: QUERY_PRIORITY });
      readback.push({
        address: keyOf({ kind: 'short', address: short }),
        level: got,
        intensity: got !== null && got <= 254 ? Math.round(arcLevelToPercent(got, this.settings.curve) * 100) / 100 : null,
        mirek: gotMirek,
        cct: gotMirek !== null ? mirekToKelvin(gotMirek) : null,
        matches: got === level && (gotMirek === null || gotMirek === mirek),
      });
    }
    return { ...base, readback, verified: readback.length > 0 && readback.every((g) => g.matches) };
  }

  private async readFade(bus: DaliBus, address: GearAddress): Promise<Partial<FadeSetting>> {
    const { results } = await bus.transact(
      [gearCommand(address, GearCommand.QUERY_FADE_TIME_FADE_RATE), gearCommand(address, GearCommand.QUERY_EXTENDED_FADE_TIME)],
      { priority: USER_PRIORITY },
    );
    const [ft, ext] = results;
    return {
      ...(ft?.kind === 'answer' ? { fadeTime: ft.value >> 4 } : {}),
      ...(ext?.kind === 'answer' ? { extendedFadeTime: ext.value } : {}),
    };
  }

  private async limitsFor(bus: DaliBus, address: GearAddress): Promise<LimitsEntry> {
    if (this.settings.tcLimitsFrom === 'config') return { limits: this.configLimits, source: 'config' };
    const key = keyOf(address);
    const known = this.limits.get(key);
    if (known) return known;
    let coolest = 0;
    let warmest = Number.POSITIVE_INFINITY;
    let answered = 0;
    for (const short of await this.directory.members(bus, address)) {
      const r = await bus.readTcLimits(short, { priority: QUERY_PRIORITY });
      const c = r?.coolestMirek ?? r?.physicalCoolestMirek ?? null;
      const w = r?.warmestMirek ?? r?.physicalWarmestMirek ?? null;
      if (c === null || w === null) continue;
      answered++;
      coolest = Math.max(coolest, c);
      warmest = Math.min(warmest, w);
    }
    const entry: LimitsEntry =
      answered > 0 && coolest <= warmest
        ? { limits: { coolestMirek: coolest, warmestMirek: warmest }, source: 'gear' }
        : { limits: this.configLimits, source: 'config' };
    this.limits.set(key, entry);
    return entry;
  }

  /** One report for every gear `address` reaches. */
  async diagnose(address: GearAddress, signal?: AbortSignal): Promise<DiagnosticsReport> {
    const bus = this.bus();
    const gear: GearDiagnosis[] = [];
    for (const short of await this.directory.members(bus, address)) {
      checkAborted(signal);
      gear.push(await diagnoseGear(bus, short, this.settings.curve));
    }
    return { kind: 'diagnostics', address: keyOf(address), ts: Date.now(), gear };
  }
}
