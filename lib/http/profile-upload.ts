/**
 * Loading an encrypted personal profile over HTTP (POST /admin/profile), as
 * the reference service's users did by inserting `{profile_id,
 * encrypted_payload}` into its personal_profiles table:
 *
 * - readProfileUpload(): the body's shape, without a key: a profile_id and a
 *   Fernet token (url-safe base64, version byte 0x80, a possible length).
 *   Used by api-guard (`profile`) and again by lighting-query
 *   (`store-profile`).
 * - profileCipher(): the FERNET_KEY cipher (comma-separated keys allowed), or
 *   the 503 to answer when there is none.
 * - checkProfileDecrypts(): "the token decrypts with the key and holds a
 *   personal profile for this profile_id": a yes or a 400 message. The
 *   decrypted profile never leaves the function (no return value, no error
 *   text, no log carries any of its fields).
 *
 * Messages name the field and what is wrong, never a value: neither the
 * token, the key nor anything decrypted.
 */
import { isPlainObject } from '../contracts';
import {
  decryptProfile,
  type EncryptedProfileBlob,
  type FernetCipher,
  fernetFromEnv,
  FernetKeyError,
  MAX_PROFILE_ID_LENGTH,
  ProfileError,
} from '../crypto';

/** The accepted upload (camelCase, as api-guard sends it on). */
export interface ProfileUpload {
  profileId: string;
  /** The Fernet token, still encrypted. */
  encryptedPayload: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Longest token accepted (the store's limit). */
export const MAX_TOKEN_LENGTH = 1_000_000;
/** Shortest token: version, timestamp, IV, one AES block and the HMAC (73 bytes) in base64. */
export const MIN_TOKEN_LENGTH = 96;

/** The detail of the 503 when no key is configured. */
export const NO_KEY_DETAIL = 'FERNET_KEY is not set';
/** The detail of the 400 for a wrong key or a tampered token. */
export const CANNOT_DECRYPT_DETAIL = 'encrypted_payload cannot be decrypted with FERNET_KEY (wrong key or tampered token)';

const WIRE_KEYS: ReadonlyArray<readonly [keyof ProfileUpload, string]> = [
  ['profileId', 'profile_id'],
  ['encryptedPayload', 'encrypted_payload'],
];
const KNOWN_KEYS = new Set<string>(WIRE_KEYS.flat());

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/**
 * What is wrong with `token` as a Fernet token (https://github.com/fernet/spec:
 * base64url of 0x80 | timestamp (8) | IV (16) | ciphertext (n*16, n >= 1) | HMAC (32)),
 * or null when it looks like one. No key needed; never quotes the token.
 */
export function fernetTokenProblem(token: unknown): string | null {
  if (typeof token !== 'string') return 'must be a Fernet token (a string of url-safe base64)';
  if (token.length > MAX_TOKEN_LENGTH) return `is longer than ${MAX_TOKEN_LENGTH} characters`;
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(token)) {
    return 'is not url-safe base64 (a Fernet token has only A-Z a-z 0-9 - _ and = padding at the end)';
  }
  if (token.length < MIN_TOKEN_LENGTH) return `is too short for a Fernet token (at least ${MIN_TOKEN_LENGTH} characters)`;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes[0] !== 0x80) return 'is not a Fernet token (it does not start with version byte 0x80, "gAAAAA")';
  if ((bytes.length - 57) % 16 !== 0) return 'has the wrong length for a Fernet token (truncated or extended?)';
  return null;
}

/**
 * The body of POST /admin/profile: `{profile_id, encrypted_payload}` (or
 * `{profileId, encryptedPayload}`), as an object, JSON text or a Buffer of it.
 * Other keys are refused (plaintext profile fields must not travel or be stored).
 */
export function readProfileUpload(input: unknown): Checked<ProfileUpload> {
  const what = 'invalid profile';
  let body = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      body = JSON.parse(input.toString('utf8'));
    } catch {
      // The parser's message quotes the input: not passed on.
      return fail(`${what}: the body is not valid JSON; send {"profile_id": "...", "encrypted_payload": "<Fernet token>"}`);
    }
  }
  if (!isPlainObject(body)) return fail(`${what}: the body must be a JSON object {"profile_id", "encrypted_payload"}`);
  for (const key of Object.keys(body)) {
    if (!KNOWN_KEYS.has(key)) {
      return fail(
        `${what}: unknown field "${key.slice(0, 40)}"; send only profile_id and encrypted_payload (the profile itself only inside the Fernet token)`,
      );
    }
  }
  const values: Partial<Record<keyof ProfileUpload, unknown>> = {};
  for (const [camel, snake] of WIRE_KEYS) {
    const a = body[snake];
    const b = body[camel];
    if (a !== undefined && b !== undefined && a !== b) return fail(`${what}: ${snake} and ${camel} differ; send one of them`);
    values[camel] = a ?? b;
  }
  const id = values.profileId;
  if (id === undefined || id === null) return fail(`${what}: profile_id is missing`);
  if (typeof id !== 'string' || id.trim() === '' || id.length > MAX_PROFILE_ID_LENGTH) {
    return fail(`${what}: profile_id must be a non-empty string of at most ${MAX_PROFILE_ID_LENGTH} characters`);
  }
  const token = values.encryptedPayload;
  if (token === undefined || token === null || token === '') return fail(`${what}: encrypted_payload is missing`);
  const problem = fernetTokenProblem(token);
  if (problem !== null) return fail(`${what}: encrypted_payload ${problem}`);
  return { ok: true, value: { profileId: id, encryptedPayload: token as string } };
}

/** The reference-format blob of an upload (what rules-fallback takes as msg.profile). */
export function uploadToBlob(upload: ProfileUpload): EncryptedProfileBlob {
  return { profile_id: upload.profileId, encrypted_payload: upload.encryptedPayload };
}

export type CipherResult = { ok: true; fernet: FernetCipher } | { ok: false; status: 503; detail: string };

/**
 * The cipher of FERNET_KEY in `env` (one key, or several comma-separated,
 * primary first). 503 when unset, or when a key is not valid (the message
 * names the position, never the key).
 */
export function profileCipher(env: NodeJS.ProcessEnv = process.env): CipherResult {
  const value = env.FERNET_KEY;
  if (value === undefined || value.trim() === '') return { ok: false, status: 503, detail: NO_KEY_DETAIL };
  try {
    return { ok: true, fernet: fernetFromEnv(env) };
  } catch (err) {
    return { ok: false, status: 503, detail: err instanceof FernetKeyError ? err.message : 'FERNET_KEY is not a valid Fernet key' };
  }
}

export type DecryptCheck = { ok: true } | { ok: false; reason: 'decrypt' | 'not-a-profile' | 'id-mismatch'; detail: string };

/**
 * Whether the upload's token decrypts with `fernet` into a personal profile
 * whose own profile_id (when it has one) is the upload's. Only the verdict
 * leaves this function; the decrypted profile is dropped here.
 */
export function checkProfileDecrypts(upload: ProfileUpload, fernet: FernetCipher): DecryptCheck {
  try {
    // The result is deliberately not kept: only "it decrypts and is a profile" is derived.
    decryptProfile(uploadToBlob(upload), fernet);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof ProfileError)) return { ok: false, reason: 'decrypt', detail: CANNOT_DECRYPT_DETAIL };
    switch (err.code) {
      case 'decrypt':
      case 'blob-shape':
        return { ok: false, reason: 'decrypt', detail: CANNOT_DECRYPT_DETAIL };
      case 'profile-id-mismatch':
        return { ok: false, reason: 'id-mismatch', detail: 'the profile_id inside encrypted_payload differs from profile_id' };
      default:
        // ProfileError messages name a field and the expected type, never a value.
        return {
          ok: false,
          reason: 'not-a-profile',
          detail: `encrypted_payload decrypts with FERNET_KEY but is not a personal profile: ${err.message}`,
        };
    }
  }
}
