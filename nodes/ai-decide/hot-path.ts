/**
 * ai-decide's input side: feature windows validated strictly (one per msg or
 * an array), the last few windows per zone kept in memory (the hot path the
 * model looks back on), and msg.profile turned into hints.
 */
import type { DecisionWindow } from '../../lib/contracts';
import { MAX_ZONES as MAX_MAP_ZONES } from '../../lib/zones/zone-map';
import { ControlInputError, type ControlHints, validateFeatureWindow } from '../../lib/control';
import type { ProfileSource } from '../../lib/control/profile-source';

/** Most windows accepted in one message. */
export const MAX_WINDOWS_PER_MSG = 1000;
/** Most zones remembered (as many as a zone map may hold); the zone unseen for longest is forgotten first. */
export const MAX_ZONES = MAX_MAP_ZONES;

/**
 * Validate msg.payload: one window or a non-empty array of windows.
 * @throws ControlInputError naming the window (for arrays) and the field.
 */
export function readWindows(payload: unknown): DecisionWindow[] {
  if (!Array.isArray(payload)) return [validateFeatureWindow(payload)];
  if (payload.length === 0) throw new ControlInputError('payload', 'must be a feature window or a non-empty array of them');
  if (payload.length > MAX_WINDOWS_PER_MSG) {
    throw new ControlInputError('payload', `must hold at most ${MAX_WINDOWS_PER_MSG} windows, got ${payload.length}`);
  }
  return payload.map((w: unknown, i: number) => {
    try {
      return validateFeatureWindow(w);
    } catch (err) {
      if (err instanceof ControlInputError) throw new ControlInputError(`payload[${i}].${err.field}`, err.message.replace(/^[^:]*: /, ''));
      throw err;
    }
  });
}

function recency(w: DecisionWindow): number {
  return w.windowEnd;
}

/** The last `limit` windows of each zone, oldest first. */
export class HotPath {
  private readonly zones = new Map<string, DecisionWindow[]>();

  constructor(
    private readonly limit: number,
    private readonly onEvict: (zone: string) => void = () => undefined,
  ) {}

  /** Add a window (replacing one of the same zone and windowStart); returns the zone's windows, oldest first. */
  add(w: DecisionWindow): DecisionWindow[] {
    const list = (this.zones.get(w.zone) ?? []).filter((x) => x.windowStart !== w.windowStart);
    list.push(w);
    list.sort((a, b) => recency(a) - recency(b));
    const kept = list.slice(-this.limit);
    this.zones.delete(w.zone);
    this.zones.set(w.zone, kept);
    while (this.zones.size > MAX_ZONES) {
      const oldest = this.zones.keys().next().value as string;
      this.zones.delete(oldest);
      this.onEvict(oldest);
    }
    return [...kept];
  }

  windows(zone: string): DecisionWindow[] {
    return [...(this.zones.get(zone) ?? [])];
  }
}

export interface Hints {
  /** Only the non-personal hint fields (no minLux) may reach the AI payload; the payload allow-lists them again. */
  ai: Omit<ControlHints, 'minLux'>;
  /** For the rules and clamps: the AI hints plus the profile's minLux. */
  control: ControlHints;
}

/**
 * Hints from msg.profile, read by the same ProfileSource as rules-fallback's
 * (created with `decrypted: true`): hints, an encrypted blob
 * {profile_id, encrypted_payload} decrypted with FERNET_KEY, or a decrypted
 * profile object; undefined when msg.profile is absent.
 * @throws ProfileInputError (messages name no value, no key).
 */
export function readHints(profile: unknown, source: ProfileSource): Hints | undefined {
  const control = source.hints(profile);
  if (control === null) return undefined;
  const { minLux: _minLux, ...ai } = control;
  return { ai, control };
}
