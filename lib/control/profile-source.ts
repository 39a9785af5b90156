/**
 * Accessibility hints for a decision, from what a message carries as
 * `msg.profile`:
 *
 * - nothing (undefined / null): no hints;
 * - hints `{minIntensityPct?, maxStepPct?, cctBias?, slowerDimDown?, minLux?}`
 *   (non-personal, e.g. from an upstream node): checked and used as they are;
 * - an encrypted profile blob `{profile_id, encrypted_payload}` (object or
 *   JSON text, the reference service's format): decrypted with the Fernet key
 *   (the node's credential, else the FERNET_KEY environment variable), then
 *   reduced to `profileHints(profile)` plus the profile's own `minLux`;
 * - only with the `decrypted` option (ai-decide): a profile object already
 *   decrypted upstream (any key other than the five hint keys, and no
 *   `encrypted_payload`), reduced the same way. Without it such an object is
 *   refused, so personal data travels between nodes only encrypted.
 *
 * The decrypted profile lives only inside `hints()`: it is never returned,
 * cached, logged or put into an error. Decrypted hints are cached by token
 * (the ciphertext), so a profile sent with every window is decrypted once.
 *
 * Errors are `ProfileInputError`s whose messages name a field, a key source
 * or a failure class (wrong key, tampered token), never a value of the
 * profile, its id or the key.
 */
import { isFiniteNumber, isPlainObject } from '../contracts';
import {
  decryptProfile,
  type FernetCipher,
  fernetFromKeys,
  FernetKeyError,
  parseProfileBlob,
  parseProfilePayload,
  type PersonalProfile,
  ProfileError,
  profileHints,
} from '../crypto';
import type { ControlHints } from './types';

export type ProfileInputErrorCode = 'hints' | 'no-key' | 'bad-key' | ProfileError['code'];

export class ProfileInputError extends Error {
  override readonly name = 'ProfileInputError';
  readonly code: ProfileInputErrorCode;
  constructor(code: ProfileInputErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const HINT_KEYS = ['minIntensityPct', 'maxStepPct', 'cctBias', 'slowerDimDown', 'minLux'] as const;

/**
 * Check a plain hints object; returns a clean copy.
 * @throws ProfileInputError("hints") naming the bad key (never its value).
 */
export function validateHints(input: unknown): ControlHints {
  if (!isPlainObject(input)) {
    throw new ProfileInputError(
      'hints',
      'must be hints {minIntensityPct, maxStepPct, cctBias, slowerDimDown, minLux} or an encrypted profile blob {profile_id, encrypted_payload}',
    );
  }
  const out: ControlHints = {};
  for (const key of Object.keys(input)) {
    if (!(HINT_KEYS as readonly string[]).includes(key)) {
      throw new ProfileInputError(
        'hints',
        `unknown hint "${key.slice(0, 40)}": hints are ${HINT_KEYS.join(', ')}; send personal data only as an encrypted profile blob {profile_id, encrypted_payload}`,
      );
    }
  }
  const range = (key: 'minIntensityPct' | 'maxStepPct' | 'minLux', lo: number, hi: number, loOpen = false): void => {
    const v = input[key];
    if (v == null) return;
    if (!isFiniteNumber(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
      throw new ProfileInputError('hints', `hint ${key} must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}]`);
    }
    out[key] = v;
  };
  range('minIntensityPct', 0, 100);
  range('maxStepPct', 0, 100, true);
  range('minLux', 0, 100_000);
  const bias = input.cctBias;
  if (bias != null) {
    if (bias !== 'warm' && bias !== 'neutral' && bias !== 'cool')
      throw new ProfileInputError('hints', 'hint cctBias must be "warm", "neutral" or "cool"');
    out.cctBias = bias;
  }
  const slower = input.slowerDimDown;
  if (slower != null) {
    if (typeof slower !== 'boolean') throw new ProfileInputError('hints', 'hint slowerDimDown must be true or false');
    out.slowerDimDown = slower;
  }
  return out;
}

/** An encrypted profile blob (or its JSON text) rather than hints. */
export function looksLikeProfileBlob(v: unknown): boolean {
  if (typeof v === 'string') return true;
  return isPlainObject(v) && ('encrypted_payload' in v || 'profile_id' in v);
}

export interface ProfileSourceOptions {
  /** The node's Fernet key credential (one key, or several comma-separated, primary first); blank: use `env`. */
  key?: string | null;
  /** Environment holding FERNET_KEY (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Decrypted hints kept, by token (default 32). */
  cacheSize?: number;
  /** Also accept a profile object decrypted upstream (default false: refused as unknown hints). */
  decrypted?: boolean;
}

/** The hints a profile yields: profileHints() plus its own minLux. */
function hintsOfProfile(p: PersonalProfile): ControlHints {
  const hints: ControlHints = { ...profileHints(p) };
  if (isFiniteNumber(p.minLux)) hints.minLux = p.minLux;
  return hints;
}

/** A decrypted profile rather than hints: an object with a key that is not a hint key, and no encrypted_payload. */
function looksLikeDecryptedProfile(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && !('encrypted_payload' in v) && Object.keys(v).some((k) => !(HINT_KEYS as readonly string[]).includes(k));
}

export class ProfileSource {
  private readonly key: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly cacheSize: number;
  private readonly decrypted: boolean;
  private cipher: FernetCipher | null = null;
  private readonly cache = new Map<string, ControlHints>();

  constructor(options: ProfileSourceOptions = {}) {
    this.key = typeof options.key === 'string' ? options.key.trim() : '';
    this.env = options.env ?? process.env;
    this.cacheSize = Math.max(0, Math.floor(options.cacheSize ?? 32));
    this.decrypted = options.decrypted === true;
  }

  /** Where the key comes from: "credential", "env" or null (none set). */
  get keySource(): 'credential' | 'env' | null {
    if (this.key !== '') return 'credential';
    return typeof this.env.FERNET_KEY === 'string' && this.env.FERNET_KEY.trim() !== '' ? 'env' : null;
  }

  /**
   * Check the configured key now (a node calls this at start to warn early).
   * Returns null when it is usable or none is set, else the error message.
   */
  checkKey(): string | null {
    if (this.keySource === null) return null;
    try {
      this.fernet();
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : 'invalid Fernet key';
    }
  }

  /**
   * Hints from `msg.profile` (null when there is none).
   * @throws ProfileInputError with a message safe to log.
   */
  hints(profile: unknown): ControlHints | null {
    if (profile == null) return null;
    if (this.decrypted && looksLikeDecryptedProfile(profile)) {
      try {
        return hintsOfProfile(parseProfilePayload(profile));
      } catch (err) {
        if (err instanceof ProfileError) throw new ProfileInputError(err.code, err.message);
        throw new ProfileInputError('payload-json', 'the decrypted profile cannot be read');
      }
    }
    if (!looksLikeProfileBlob(profile)) return validateHints(profile);
    let blob: { profile_id: string; encrypted_payload: string };
    try {
      blob = parseProfileBlob(profile);
    } catch (err) {
      throw new ProfileInputError(
        'blob-shape',
        err instanceof ProfileError ? err.message : 'profile blob is not {profile_id, encrypted_payload}',
      );
    }
    const token = blob.encrypted_payload;
    const cached = this.cache.get(token);
    if (cached) return { ...cached };
    const fernet = this.fernet();
    let hints: ControlHints;
    try {
      hints = hintsOfProfile(decryptProfile(blob, fernet));
    } catch (err) {
      if (err instanceof ProfileError) throw new ProfileInputError(err.code, err.message);
      throw new ProfileInputError('decrypt', 'cannot decrypt personal profile');
    }
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, { ...hints });
    }
    return hints;
  }

  private fernet(): FernetCipher {
    if (this.cipher) return this.cipher;
    const source = this.keySource;
    if (source === null) {
      throw new ProfileInputError(
        'no-key',
        "it is an encrypted profile, but no Fernet key is set: enter the node's Fernet key or set the FERNET_KEY environment variable",
      );
    }
    try {
      this.cipher =
        source === 'credential' ? fernetFromKeys(this.key, "the node's Fernet key") : fernetFromKeys(this.env.FERNET_KEY, 'FERNET_KEY');
    } catch (err) {
      throw new ProfileInputError('bad-key', err instanceof FernetKeyError ? err.message : 'the Fernet key is not valid');
    }
    return this.cipher;
  }
}
