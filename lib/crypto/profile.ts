/**
 * Encrypted personal profiles, in the reference service's format:
 *
 *   { "profile_id": "default", "encrypted_payload": "<Fernet token>" }
 *
 * The token decrypts to a UTF-8 JSON object with snake_case keys. The Python
 * service writes `profile_id, age, sex, visual_impairment, chronotype, schedules`
 * (and `user_id`, `consent` for participant profiles). This module adds the
 * lighting preferences a controller needs, stored the same way (snake_case on
 * the wire, camelCase in TypeScript):
 *
 *   age_group, photosensitive, min_intensity_pct, min_lux,
 *   max_change_pct_per_step, slower_dim_down, preferred_cct_range {min_kelvin, max_kelvin}
 *
 * Reading also accepts the camelCase spelling of each key. Fields this module
 * does not know are kept verbatim (so re-encrypting loses nothing) in the
 * non-enumerable `unknownFields`, so they do not show up in console.log,
 * util.inspect or JSON.stringify of a profile. Nothing here logs.
 *
 * Error messages (ProfileError) name the failing field or step, never a value,
 * the plaintext or the key.
 */
import { ACCEPTED_KELVIN_MAX, ACCEPTED_KELVIN_MIN, isPlainObject } from '../contracts';
import { type FernetCipher, InvalidToken } from './fernet';

/** Reference-service blob, exactly as stored in its `personal_profiles` table and example JSON. */
export interface EncryptedProfileBlob {
  profile_id: string;
  encrypted_payload: string;
}

/** The reference service's age buckets, plus one for minors. */
export type AgeGroup = 'under-18' | '18-24' | '25-44' | '45-64' | '65+';
export const AGE_GROUPS: readonly AgeGroup[] = ['under-18', '18-24', '25-44', '45-64', '65+'];

export interface CctRangeKelvin {
  minKelvin: number;
  maxKelvin: number;
}

/** A decrypted personal profile. All fields optional; see the module comment for wire names. */
export interface PersonalProfile {
  profileId?: string;
  // Reference-service fields (personal: never send these to an AI, never log them).
  age?: number;
  ageGroup?: AgeGroup;
  sex?: string;
  /** e.g. "none", "low_vision" (reference service values). */
  visualImpairment?: string;
  /** e.g. "morning", "intermediate", "evening". */
  chronotype?: string;
  /** Weekday name ("Monday") → state ("work", "rest"). */
  schedules?: Record<string, string>;
  consent?: boolean;
  // Lighting preferences.
  /** Light changes must be gentle (photosensitivity, migraine, epilepsy). */
  photosensitive?: boolean;
  /** Floor for output while the person is present, percent 0-100. */
  minIntensityPct?: number;
  /** Floor for measured illuminance while present, lux. */
  minLux?: number;
  /** Largest output change per control step, percent of full output (0 < x <= 100). */
  maxChangePctPerStep?: number;
  /** Fade reductions more slowly than increases (older eyes adapt slowly to darkness). */
  slowerDimDown?: boolean;
  preferredCctRange?: CctRangeKelvin;
  /** Fields not listed above, kept verbatim for re-encryption. Non-enumerable. */
  readonly unknownFields?: Readonly<Record<string, unknown>>;
}

export type ProfileErrorCode =
  | 'blob-shape' // blob is not {profile_id, encrypted_payload}
  | 'decrypt' // wrong key or corrupted / tampered token (cause: InvalidToken)
  | 'payload-json' // decrypted bytes are not a UTF-8 JSON object
  | 'payload-field' // a known field has the wrong type or range
  | 'profile-id-mismatch'; // payload's profile_id differs from the blob's

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly code: ProfileErrorCode;
  /** The failing field's wire name, when there is one. */
  readonly field: string | undefined;
  /** The blob's profile_id when known (non-enumerable: not printed with the error). */
  declare readonly profileId: string | undefined;

  constructor(code: ProfileErrorCode, message: string, opts: { field?: string; profileId?: string; cause?: Error } = {}) {
    super(message, opts.cause ? { cause: opts.cause } : undefined);
    this.code = code;
    this.field = opts.field;
    Object.defineProperty(this, 'profileId', { value: opts.profileId, enumerable: false });
  }
}

// ------------------------------------------------------------------ blob ----

/** Longest profile_id: the reference service's column is String(64). */
export const MAX_PROFILE_ID_LENGTH = 64;

function checkProfileId(id: unknown, where: string): string {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new ProfileError('blob-shape', `${where}: profile_id must be a non-empty string`, { field: 'profile_id' });
  }
  if (id.length > MAX_PROFILE_ID_LENGTH) {
    throw new ProfileError('blob-shape', `${where}: profile_id is longer than ${MAX_PROFILE_ID_LENGTH} characters`, {
      field: 'profile_id',
    });
  }
  return id;
}

/**
 * Validate a reference-format blob, given as parsed JSON or as JSON text.
 * Extra keys (e.g. `created_at` from a database export) are ignored.
 */
export function parseProfileBlob(input: unknown): EncryptedProfileBlob {
  let value = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString());
    } catch {
      // JSON.parse messages quote the input: do not pass them on.
      throw new ProfileError('blob-shape', 'profile blob is not valid JSON');
    }
  }
  if (!isPlainObject(value)) {
    throw new ProfileError('blob-shape', 'profile blob must be an object {"profile_id", "encrypted_payload"}');
  }
  const profileId = checkProfileId(value.profile_id, 'profile blob');
  const token = value.encrypted_payload;
  if (typeof token !== 'string' || token === '') {
    throw new ProfileError('blob-shape', 'profile blob: encrypted_payload must be a non-empty string (a Fernet token)', {
      field: 'encrypted_payload',
      profileId,
    });
  }
  return { profile_id: profileId, encrypted_payload: token };
}

// ---------------------------------------------------------------- fields ----

type Parser<T> = (value: unknown, field: string) => T;

function fieldError(field: string, expected: string): ProfileError {
  return new ProfileError('payload-field', `profile field "${field}" must be ${expected}`, { field });
}

const str =
  (maxLength = 256): Parser<string> =>
  (v, field) => {
    if (typeof v !== 'string' || v.length > maxLength) throw fieldError(field, `a string of at most ${maxLength} characters`);
    return v;
  };

const bool: Parser<boolean> = (v, field) => {
  if (typeof v !== 'boolean') throw fieldError(field, 'true or false');
  return v;
};

const num =
  (min: number, max: number, opts: { integer?: boolean; minExclusive?: boolean } = {}): Parser<number> =>
  (v, field) => {
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (opts.minExclusive ? v > min : v >= min) &&
      v <= max &&
      (!opts.integer || Number.isInteger(v));
    if (!ok) {
      throw fieldError(field, `${opts.integer ? 'an integer' : 'a number'} in ${opts.minExclusive ? '(' : '['}${min}, ${max}]`);
    }
    return v as number;
  };

const ageGroup: Parser<AgeGroup> = (v, field) => {
  if (typeof v !== 'string' || !(AGE_GROUPS as readonly string[]).includes(v)) {
    throw fieldError(field, `one of ${AGE_GROUPS.join(', ')}`);
  }
  return v as AgeGroup;
};

const schedules: Parser<Record<string, string>> = (v, field) => {
  if (!isPlainObject(v)) throw fieldError(field, 'an object of weekday → state strings');
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string' || s.length > 64 || k.length > 64) {
      throw fieldError(field, 'an object of weekday → state strings');
    }
    out[k] = s;
  }
  return out;
};

const cctRange: Parser<CctRangeKelvin> = (v, field) => {
  const expected = `{min_kelvin, max_kelvin} with ${ACCEPTED_KELVIN_MIN} <= min_kelvin <= max_kelvin <= ${ACCEPTED_KELVIN_MAX}`;
  if (!isPlainObject(v)) throw fieldError(field, expected);
  const lo = v.min_kelvin ?? v.minKelvin;
  const hi = v.max_kelvin ?? v.maxKelvin;
  if (
    typeof lo !== 'number' ||
    typeof hi !== 'number' ||
    !Number.isFinite(lo) ||
    !Number.isFinite(hi) ||
    lo < ACCEPTED_KELVIN_MIN ||
    hi > ACCEPTED_KELVIN_MAX ||
    lo > hi
  ) {
    throw fieldError(field, expected);
  }
  return { minKelvin: lo, maxKelvin: hi };
};

interface FieldSpec<K extends KnownKey> {
  key: K;
  wire: string;
  parse: Parser<NonNullable<PersonalProfile[K]>>;
  toWire?: (v: NonNullable<PersonalProfile[K]>) => unknown;
}

type KnownKey = Exclude<keyof PersonalProfile, 'unknownFields' | 'profileId'>;

function spec<K extends KnownKey>(s: FieldSpec<K>): FieldSpec<KnownKey> {
  return s as unknown as FieldSpec<KnownKey>;
}

const FIELDS: readonly FieldSpec<KnownKey>[] = [
  spec({ key: 'age', wire: 'age', parse: num(0, 120, { integer: true }) }),
  spec({ key: 'ageGroup', wire: 'age_group', parse: ageGroup }),
  spec({ key: 'sex', wire: 'sex', parse: str(64) }),
  spec({ key: 'visualImpairment', wire: 'visual_impairment', parse: str(64) }),
  spec({ key: 'chronotype', wire: 'chronotype', parse: str(64) }),
  spec({ key: 'schedules', wire: 'schedules', parse: schedules }),
  spec({ key: 'consent', wire: 'consent', parse: bool }),
  spec({ key: 'photosensitive', wire: 'photosensitive', parse: bool }),
  spec({ key: 'minIntensityPct', wire: 'min_intensity_pct', parse: num(0, 100) }),
  spec({ key: 'minLux', wire: 'min_lux', parse: num(0, 100000) }),
  spec({ key: 'maxChangePctPerStep', wire: 'max_change_pct_per_step', parse: num(0, 100, { minExclusive: true }) }),
  spec({ key: 'slowerDimDown', wire: 'slower_dim_down', parse: bool }),
  spec({
    key: 'preferredCctRange',
    wire: 'preferred_cct_range',
    parse: cctRange,
    toWire: (r) => ({ min_kelvin: r.minKelvin, max_kelvin: r.maxKelvin }),
  }),
];

const RESERVED_WIRE = new Set<string>(['profile_id', 'profileId', ...FIELDS.flatMap((f) => [f.wire, f.key])]);

function withUnknownFields(profile: PersonalProfile, unknown: Record<string, unknown>): PersonalProfile {
  if (Object.keys(unknown).length > 0) {
    Object.defineProperty(profile, 'unknownFields', { value: Object.freeze(unknown), enumerable: false });
  }
  return profile;
}

/**
 * Turn a decrypted payload object (snake_case or camelCase keys) into a
 * PersonalProfile. Null values count as absent. Throws ProfileError("payload-field").
 */
export function parseProfilePayload(payload: unknown): PersonalProfile {
  if (!isPlainObject(payload)) throw new ProfileError('payload-json', 'profile payload must be a JSON object');
  const profile: PersonalProfile = {};
  const target = profile as Record<string, unknown>;
  for (const f of FIELDS) {
    const snake = payload[f.wire];
    const camel = f.key === f.wire ? undefined : payload[f.key];
    if (snake != null && camel != null) {
      throw new ProfileError('payload-field', `profile field "${f.wire}" is given twice (also as "${f.key}")`, {
        field: f.wire,
      });
    }
    const value = snake ?? camel;
    if (value != null) target[f.key] = f.parse(value, f.wire);
  }
  const id = payload.profile_id ?? payload.profileId;
  if (id != null) {
    if (typeof id !== 'string') throw fieldError('profile_id', 'a string');
    profile.profileId = id;
  }
  const unknown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) if (!RESERVED_WIRE.has(k)) unknown[k] = v;
  return withUnknownFields(profile, unknown);
}

/** The wire (snake_case) object for a profile; validates every known field. */
export function profileToPayload(profile: PersonalProfile, profileId: string): Record<string, unknown> {
  if (!isPlainObject(profile)) throw new ProfileError('payload-field', 'profile must be an object');
  const source = profile as Record<string, unknown>;
  const out: Record<string, unknown> = { profile_id: profileId };
  for (const f of FIELDS) {
    const value = source[f.key] ?? source[f.wire];
    if (value == null) continue;
    const parsed = f.parse(value, f.wire);
    out[f.wire] = f.toWire ? f.toWire(parsed) : parsed;
  }
  // Unknown fields: the preserved ones, then any extra enumerable keys (JS callers).
  const extra: Record<string, unknown> = { ...(profile.unknownFields ?? {}) };
  for (const [k, v] of Object.entries(source)) if (!RESERVED_WIRE.has(k) && k !== 'unknownFields') extra[k] = v;
  for (const [k, v] of Object.entries(extra)) if (!RESERVED_WIRE.has(k) && v !== undefined) out[k] = v;
  return out;
}

// --------------------------------------------------------- encrypt/decrypt ----

export interface DecryptProfileOptions {
  /** Reject payloads older than this (seconds); default: no age limit (the reference service sets none). */
  ttlSeconds?: number;
  /** Epoch seconds used with ttlSeconds (tests). */
  now?: number;
}

/**
 * Decrypt a reference-format blob (object or JSON text) into a PersonalProfile.
 * The payload's own profile_id, when present, must match the blob's, so a payload
 * cannot be moved to another profile's row unnoticed.
 */
export function decryptProfile(blob: unknown, fernet: FernetCipher, options: DecryptProfileOptions = {}): PersonalProfile {
  const { profile_id: profileId, encrypted_payload: token } = parseProfileBlob(blob);
  let plaintext: Buffer;
  try {
    plaintext = fernet.decrypt(token, options.ttlSeconds, options.now);
  } catch (err) {
    if (err instanceof InvalidToken) {
      throw new ProfileError(
        'decrypt',
        `cannot decrypt personal profile: wrong FERNET_KEY, key rotated without re-encryption, or corrupted payload (${err.reason})`,
        { profileId, cause: err },
      );
    }
    throw err;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    // Never forward the parser's message: it quotes the decrypted text.
    throw new ProfileError('payload-json', 'decrypted profile payload is not UTF-8 JSON', { profileId });
  } finally {
    plaintext.fill(0);
  }
  let profile: PersonalProfile;
  try {
    profile = parseProfilePayload(payload);
  } catch (err) {
    if (err instanceof ProfileError) {
      throw new ProfileError(err.code, err.message, { profileId, ...(err.field ? { field: err.field } : {}) });
    }
    throw err;
  }
  if (profile.profileId !== undefined && profile.profileId !== profileId) {
    throw new ProfileError('profile-id-mismatch', "profile_id inside the encrypted payload does not match the blob's profile_id", {
      profileId,
      field: 'profile_id',
    });
  }
  profile.profileId = profileId;
  return profile;
}

/**
 * Encrypt a profile into a reference-format blob (readable by the Python service).
 * @param at token timestamp, epoch seconds (default now).
 */
export function encryptProfile(profileId: string, profile: PersonalProfile, fernet: FernetCipher, at?: number): EncryptedProfileBlob {
  const id = checkProfileId(profileId, 'encryptProfile');
  if (isPlainObject(profile) && profile.profileId !== undefined && profile.profileId !== id) {
    throw new ProfileError('profile-id-mismatch', 'profile.profileId differs from the profileId argument', {
      profileId: id,
      field: 'profile_id',
    });
  }
  const payload = Buffer.from(JSON.stringify(profileToPayload(profile, id)), 'utf8');
  try {
    return { profile_id: id, encrypted_payload: fernet.encrypt(payload, at) };
  } finally {
    payload.fill(0);
  }
}

// ----------------------------------------------------------------- hints ----

export type CctBias = 'warm' | 'neutral' | 'cool';

/**
 * What an AI advisor may see of a profile: four coarse lighting constraints.
 * No id, no name, no age, no sex, no schedule — nothing identifying.
 */
export interface ProfileHints {
  /** Output floor while present, percent. */
  minIntensityPct: number;
  /** Largest change per step, percent of full output. */
  maxStepPct: number;
  cctBias: CctBias;
  slowerDimDown: boolean;
}

/** Default step limit: "step <= 5-10 % of output" (lighting-reference.md). */
export const DEFAULT_MAX_STEP_PCT = 10;
/** Step limit for photosensitive people: the low end of the same range. */
export const PHOTOSENSITIVE_MAX_STEP_PCT = 5;
/** Floor for people 60+ ("need roughly 2-3x the light", keep a floor instead of off). */
export const OLDER_MIN_INTENSITY_PCT = 20;
/** Floor for people with a visual impairment. */
export const IMPAIRED_MIN_INTENSITY_PCT = 30;

const NO_IMPAIRMENT = new Set(['', 'none', 'no', 'normal', 'n/a']);

/**
 * Derive non-personal lighting hints. Explicit preferences win; otherwise:
 * 60+ (age >= 60 or age group 65+) → floor 20 %, slower dim-down; any visual
 * impairment other than "none" → floor 30 %, slower dim-down; photosensitive →
 * 5 % steps and slower dim-down; preferred CCT midpoint < 3500 K → warm,
 * > 5000 K → cool.
 */
export function profileHints(profile: PersonalProfile): ProfileHints {
  const older = (profile.age !== undefined && profile.age >= 60) || profile.ageGroup === '65+';
  const impaired = profile.visualImpairment !== undefined && !NO_IMPAIRMENT.has(profile.visualImpairment.trim().toLowerCase());
  const photosensitive = profile.photosensitive === true;

  const floor = Math.max(older ? OLDER_MIN_INTENSITY_PCT : 0, impaired ? IMPAIRED_MIN_INTENSITY_PCT : 0);
  const minIntensityPct = clamp(profile.minIntensityPct ?? floor, 0, 100);
  const maxStepPct = clamp(profile.maxChangePctPerStep ?? (photosensitive ? PHOTOSENSITIVE_MAX_STEP_PCT : DEFAULT_MAX_STEP_PCT), 0.1, 100);
  let cctBias: CctBias = 'neutral';
  if (profile.preferredCctRange) {
    const mid = (profile.preferredCctRange.minKelvin + profile.preferredCctRange.maxKelvin) / 2;
    cctBias = mid < 3500 ? 'warm' : mid > 5000 ? 'cool' : 'neutral';
  }
  const slowerDimDown = profile.slowerDimDown ?? (older || impaired || photosensitive);
  return { minIntensityPct, maxStepPct, cctBias, slowerDimDown };
}

function clamp(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}
