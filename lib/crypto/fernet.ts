/**
 * Fernet (https://github.com/fernet/spec, version 0x80), wire-compatible with
 * Python `cryptography.fernet`, built on node:crypto only.
 *
 * Token = base64url( 0x80 ‖ timestamp (u64 BE, s) ‖ IV (16) ‖ AES-128-CBC/PKCS7 ciphertext ‖ HMAC-SHA256 (32) )
 * Key   = base64url( signing key (16) ‖ encryption key (16) )
 *
 * Behaviour copied from `cryptography` (checked against 38.0.4, which uses the
 * same fernet.py logic as current releases):
 * - TTL and clock skew are only checked when a TTL is given:
 *   `timestamp + ttl < now` → expired; `now + 60 < timestamp` → too far in the future.
 *   Both bounds are inclusive-valid: a token exactly `ttl` seconds old, or exactly
 *   60 s in the future, still decrypts.
 * - The checks run in the same order: base64, version byte, length, TTL, HMAC
 *   (constant time), AES-CBC, PKCS7 padding.
 * - `MultiFernet.rotate` re-encrypts with the primary key, keeping the original timestamp.
 *
 * Base64 (the one deliberate difference): `cryptography` decodes tokens with
 * `base64.urlsafe_b64decode` WITHOUT validation, so it silently drops characters
 * outside the alphabet (`*`, `!`, spaces, newlines), ignores anything after the
 * padding, and also accepts `+` and `/`. The spec's own invalid.json lists two such
 * tokens ("trailing characters after b64 padding", "invalid characters in b64")
 * that Python accepts. By default this class decodes tokens strictly (canonical
 * url-safe base64 with padding, which is exactly what every Fernet implementation,
 * Python's included, emits), so it rejects all of invalid.json and still accepts
 * every token Python produces. `{ tokenBase64: "python" }` switches to Python's
 * lenient decoding for hand-edited data.
 * Keys are always decoded the Python way (so every FERNET_KEY the Python service
 * accepted, e.g. with a trailing newline or in the standard '+/' alphabet, still works).
 *
 * Every token failure throws {@link InvalidToken}; its message never contains
 * the token, the plaintext or key material.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';
import { inspect } from 'node:util';

/** Largest accepted difference (s) between a token's timestamp in the future and now, when a TTL is given. */
export const MAX_CLOCK_SKEW_S = 60;

const VERSION = 0x80;
const BLOCK = 16;
const HMAC_LEN = 32;
const HEADER_LEN = 1 + 8 + BLOCK; // version ‖ timestamp ‖ IV
const MIN_TOKEN_LEN = HEADER_LEN + HMAC_LEN; // no ciphertext at all (always invalid for decrypt)
const U64_MAX = (1n << 64n) - 1n;

/** Why a token was rejected. Safe to log: it reveals nothing about key or plaintext. */
export type InvalidTokenReason =
  | 'type' // not a string or Buffer
  | 'encoding' // not valid base64url
  | 'version' // first byte is not 0x80
  | 'too-short' // shorter than the fixed fields
  | 'expired' // timestamp + ttl < now
  | 'future' // timestamp more than 60 s after now
  | 'signature' // HMAC mismatch (wrong key or tampered token)
  | 'ciphertext' // ciphertext length not a positive multiple of 16
  | 'padding'; // PKCS7 padding invalid after decryption

const REASON_TEXT: Record<InvalidTokenReason, string> = {
  type: 'token must be a string or Buffer',
  encoding: 'not valid url-safe base64',
  version: 'unknown version byte',
  'too-short': 'too short',
  expired: 'token has expired (older than the TTL)',
  future: 'token timestamp is too far in the future (clock skew > 60 s)',
  signature: 'HMAC signature does not match (wrong key or tampered token)',
  ciphertext: 'ciphertext length is not a multiple of the AES block size',
  padding: 'invalid padding after decryption',
};

/** The single error class thrown for every invalid Fernet token. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';
  readonly reason: InvalidTokenReason;
  constructor(reason: InvalidTokenReason) {
    super(`Invalid Fernet token: ${REASON_TEXT[reason]}`);
    this.reason = reason;
  }
}

/** Thrown for an unusable key (constructor, FERNET_KEY). Never contains the key. */
export class FernetKeyError extends Error {
  override readonly name = 'FernetKeyError';
}

/** How token text is base64-decoded. See the module comment. */
export type TokenBase64Mode = 'strict' | 'python';

export interface FernetOptions {
  /** "strict" (default): canonical url-safe base64 only. "python": exactly what `cryptography` accepts. */
  tokenBase64?: TokenBase64Mode;
}

/** What Fernet and MultiFernet have in common; what profile and store code should depend on. */
export interface FernetCipher {
  encrypt(data: Buffer | Uint8Array | string, at?: number): string;
  decrypt(token: string | Buffer, ttlSeconds?: number, now?: number): Buffer;
  extractTimestamp(token: string | Buffer): number;
}

// ---------------------------------------------------------------- base64 ----

const PAD = '='.charCodeAt(0);
const PAD_CHARS = ['', '==', '='] as const; // by byte length % 3

/**
 * Canonical url-safe base64 with padding: alphabet A-Z a-z 0-9 - _, length a
 * multiple of 4, at most two '=' at the end, unused bits zero. Returns null when invalid.
 *
 * Implementation (hot path of every decrypt): Node's decoder is lenient, so the
 * bytes it returns are re-encoded (always canonical) and compared with the text
 * before its padding. Equality means the text WAS canonical: only alphabet
 * characters, no '+' '/', no inner '=', zero unused bits. With the length a
 * multiple of 4 and at most two '=' removed, the padding is exactly right too.
 */
export function decodeBase64UrlStrict(text: string): Buffer | null {
  const len = text.length;
  if ((len & 3) !== 0) return null;
  let end = len;
  if (end > 0 && text.charCodeAt(end - 1) === PAD) {
    end--;
    if (text.charCodeAt(end - 1) === PAD) end--;
  }
  const bytes = Buffer.from(text, 'base64url');
  const canonical = bytes.toString('base64url');
  if (canonical.length !== end) return null;
  if ((end === len ? text : text.slice(0, end)) !== canonical) return null;
  return bytes;
}

const PY_B64_TABLE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  // urlsafe_b64decode first translates '-' → '+' and '_' → '/'.
  table['-'.charCodeAt(0)] = 62;
  table['_'.charCodeAt(0)] = 63;
  return table;
})();

/**
 * Python's `base64.urlsafe_b64decode` (binascii.a2b_base64, non-strict mode):
 * characters outside the alphabet are skipped, decoding stops at the first
 * complete padding, '+' '/' '-' '_' are all accepted. A str with non-ASCII
 * characters is an error (Python raises ValueError); a bytes-like input is
 * decoded byte by byte. Returns null where Python raises.
 */
export function decodeBase64UrlPython(input: string | Buffer): Buffer | null {
  let bytes: Buffer;
  if (typeof input === 'string') {
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(input)) return null;
    bytes = Buffer.from(input, 'latin1');
  } else {
    bytes = input;
  }
  const out = Buffer.alloc(Math.floor((bytes.length * 3) / 4) + 3);
  let n = 0;
  let quadPos = 0;
  let leftChar = 0;
  let pads = 0;
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i] as number;
    if (ch === PAD) {
      if (quadPos >= 2 && quadPos + ++pads >= 4) return out.subarray(0, n);
      continue;
    }
    const v = PY_B64_TABLE[ch] as number;
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftChar = v;
        break;
      case 1:
        quadPos = 2;
        out[n++] = ((leftChar << 2) | (v >> 4)) & 0xff;
        leftChar = v & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out[n++] = ((leftChar << 4) | (v >> 2)) & 0xff;
        leftChar = v & 0x03;
        break;
      default:
        quadPos = 0;
        out[n++] = ((leftChar << 6) | v) & 0xff;
        leftChar = 0;
        break;
    }
  }
  return quadPos === 0 ? out.subarray(0, n) : null;
}

/** Python's `base64.urlsafe_b64encode`: standard base64 with '-' '_' and '=' padding. */
export function encodeBase64UrlPadded(bytes: Buffer): string {
  return bytes.toString('base64url') + PAD_CHARS[bytes.length % 3];
}

// ------------------------------------------------------------------ time ----

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function requireInteger(value: number, name: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer number of seconds${min === 0 ? ' >= 0' : ''}`);
  }
}

// -------------------------------------------------------------------- IV ----

/**
 * Random IVs come from a pool refilled from the CSPRNG 256 IVs at a time: one
 * randomBytes(16) call per token costs more than encrypting 64 bytes. Every IV
 * is still fresh CSPRNG output, used once (IVs are public, part of the token).
 */
const IV_POOL = Buffer.alloc(BLOCK * 256);
let ivPoolOffset = IV_POOL.length;

function writeRandomIv(target: Buffer, offset: number): void {
  if (ivPoolOffset === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivPoolOffset = 0;
  }
  IV_POOL.copy(target, offset, ivPoolOffset, ivPoolOffset + BLOCK);
  IV_POOL.fill(0, ivPoolOffset, ivPoolOffset + BLOCK);
  ivPoolOffset += BLOCK;
}

// ---------------------------------------------------------------- Fernet ----

interface TokenParts {
  data: Buffer;
  timestamp: bigint;
}

function keyLengthHint(decoded: Buffer | null, key: string | Buffer): string {
  if (decoded == null) return 'it is not valid base64: check its length and = padding';
  const raw = Buffer.isBuffer(key) && key.length === 32 ? '; to use 32 raw key bytes call Fernet.fromRawKey()' : '';
  return `it decodes to ${decoded.length} bytes${raw}`;
}

/** Parse a Fernet key the way Python's `Fernet(key)` does; throws FernetKeyError (never echoing the key). */
function parseKey(key: string | Buffer): Buffer {
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) {
    throw new FernetKeyError('Fernet key must be a string or Buffer holding 32 url-safe base64-encoded bytes');
  }
  const decoded = decodeBase64UrlPython(key);
  if (decoded == null || decoded.length !== 32) {
    throw new FernetKeyError(`Fernet key must be 32 url-safe base64-encoded bytes (${keyLengthHint(decoded, key)})`);
  }
  return decoded;
}

export class Fernet implements FernetCipher {
  readonly #signingKey: Buffer;
  /** AES key imported once: createCipheriv with a KeyObject skips the per-token key import. */
  readonly #encryptionKey: KeyObject;
  readonly #tokenBase64: TokenBase64Mode;

  /**
   * @param key 32 bytes, url-safe base64 encoded (as produced by `Fernet.generateKey()`
   *   or Python's `Fernet.generate_key()`); a Buffer is taken as that base64 text, like Python's bytes.
   */
  constructor(key: string | Buffer, options: FernetOptions = {}) {
    const raw = parseKey(key);
    this.#signingKey = Buffer.from(raw.subarray(0, 16));
    this.#encryptionKey = createSecretKey(raw.subarray(16, 32));
    raw.fill(0);
    const mode = options.tokenBase64 ?? 'strict';
    if (mode !== 'strict' && mode !== 'python') throw new TypeError('tokenBase64 must be "strict" or "python"');
    this.#tokenBase64 = mode;
  }

  /** A Fernet from 32 raw key bytes (signing ‖ encryption). */
  static fromRawKey(raw: Buffer | Uint8Array, options: FernetOptions = {}): Fernet {
    if (raw.length !== 32) throw new FernetKeyError(`raw Fernet key must be 32 bytes (got ${raw.length})`);
    return new Fernet(encodeBase64UrlPadded(Buffer.from(raw)), options);
  }

  /** A fresh random key, url-safe base64 with padding (44 characters), like Python's `generate_key()`. */
  static generateKey(): string {
    return encodeBase64UrlPadded(randomBytes(32));
  }

  /** Keep keys out of util.inspect / console.log. */
  [inspect.custom](): string {
    return 'Fernet { <key hidden> }';
  }

  toJSON(): string {
    return 'Fernet { <key hidden> }';
  }

  /**
   * Encrypt `data` (a string is encoded as UTF-8).
   * @param at token timestamp, epoch seconds (default: now).
   * @param iv 16-byte IV; for test vectors only (default: random, as the spec requires).
   */
  encrypt(data: Buffer | Uint8Array | string, at: number = nowSeconds(), iv?: Buffer | Uint8Array): string {
    requireInteger(at, 'at', 0);
    return this.encryptParts(data, BigInt(at), iv);
  }

  /**
   * Verify and decrypt a token. With `ttlSeconds`, the token must be at most that
   * old and at most 60 s in the future relative to `now` (epoch seconds, default
   * the current time); without it, age is not checked (as in Python).
   */
  decrypt(token: string | Buffer, ttlSeconds?: number, now?: number): Buffer {
    const parts = this.parseToken(token);
    if (ttlSeconds !== undefined) {
      requireInteger(ttlSeconds, 'ttlSeconds', Number.MIN_SAFE_INTEGER);
      const current = now ?? nowSeconds();
      requireInteger(current, 'now', Number.MIN_SAFE_INTEGER);
      checkTime(parts.timestamp, BigInt(ttlSeconds), BigInt(current));
    }
    return this.decryptParts(parts.data);
  }

  /**
   * The token's timestamp (epoch seconds) after verifying its HMAC, without
   * decrypting and without any TTL check (as Python's `extract_timestamp`).
   * Timestamps above 2^53 (never produced by a real clock) lose precision.
   */
  extractTimestamp(token: string | Buffer): number {
    const parts = this.parseToken(token);
    if (!this.verifySignature(parts.data)) throw new InvalidToken('signature');
    return Number(parts.timestamp);
  }

  /** @internal Shared with MultiFernet. */
  encryptParts(data: Buffer | Uint8Array | string, timestamp: bigint, iv?: Buffer | Uint8Array): string {
    const plaintext = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(plaintext instanceof Uint8Array)) throw new TypeError('data must be a Buffer, Uint8Array or string');
    if (iv != null && (!(iv instanceof Uint8Array) || iv.length !== BLOCK)) throw new RangeError('iv must be 16 bytes');
    if (timestamp < 0n || timestamp > U64_MAX) throw new RangeError('timestamp out of range');
    // One buffer for version ‖ timestamp ‖ IV ‖ ciphertext ‖ HMAC; every byte is written below.
    const ctLen = (Math.floor(plaintext.length / BLOCK) + 1) * BLOCK; // PKCS7 always adds 1..16 bytes
    const macAt = HEADER_LEN + ctLen;
    const token = Buffer.allocUnsafe(macAt + HMAC_LEN);
    token[0] = VERSION;
    token.writeBigUInt64BE(timestamp, 1);
    if (iv == null) writeRandomIv(token, 9);
    else token.set(iv, 9);
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, token.subarray(9, HEADER_LEN)); // PKCS7 padding by default
    const head = cipher.update(plaintext);
    head.copy(token, HEADER_LEN);
    const tail = cipher.final();
    tail.copy(token, HEADER_LEN + head.length);
    if (head.length + tail.length !== ctLen) throw new Error('unexpected AES-CBC output length');
    createHmac('sha256', this.#signingKey).update(token.subarray(0, macAt)).digest().copy(token, macAt);
    return encodeBase64UrlPadded(token);
  }

  /** @internal Decode, check version and minimal length; returns the raw token and its timestamp. */
  parseToken(token: string | Buffer): TokenParts {
    let data: Buffer | null;
    if (typeof token === 'string') {
      data = this.#tokenBase64 === 'strict' ? decodeBase64UrlStrict(token) : decodeBase64UrlPython(token);
    } else if (Buffer.isBuffer(token)) {
      data = this.#tokenBase64 === 'strict' ? decodeBase64UrlStrict(token.toString('latin1')) : decodeBase64UrlPython(token);
    } else {
      throw new InvalidToken('type');
    }
    if (data == null) throw new InvalidToken('encoding');
    if (data.length === 0) throw new InvalidToken('too-short');
    if (data[0] !== VERSION) throw new InvalidToken('version');
    if (data.length < 9) throw new InvalidToken('too-short');
    return { data, timestamp: data.readBigUInt64BE(1) };
  }

  /** @internal HMAC over everything but the last 32 bytes, compared in constant time. */
  verifySignature(data: Buffer): boolean {
    if (data.length < 9 + HMAC_LEN) return false;
    const expected = createHmac('sha256', this.#signingKey)
      .update(data.subarray(0, data.length - HMAC_LEN))
      .digest();
    return timingSafeEqual(expected, data.subarray(data.length - HMAC_LEN));
  }

  /** @internal Signature check, then AES-128-CBC and PKCS7 unpadding. */
  decryptParts(data: Buffer): Buffer {
    if (data.length < MIN_TOKEN_LEN) throw new InvalidToken('too-short');
    if (!this.verifySignature(data)) throw new InvalidToken('signature');
    const iv = data.subarray(9, HEADER_LEN);
    const ciphertext = data.subarray(HEADER_LEN, data.length - HMAC_LEN);
    if (ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) throw new InvalidToken('ciphertext');
    const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, iv);
    decipher.setAutoPadding(false);
    const head = decipher.update(ciphertext);
    const tail = decipher.final(); // empty: no auto padding, whole blocks
    const padded = tail.length === 0 ? head : Buffer.concat([head, tail]);
    const padLen = padded[padded.length - 1] as number;
    let bad = padLen === 0 || padLen > BLOCK ? 1 : 0;
    for (let i = 1; i <= BLOCK; i++) {
      const inPad = i <= padLen ? 1 : 0;
      bad |= inPad & (padded[padded.length - i] !== padLen ? 1 : 0);
    }
    if (bad !== 0) throw new InvalidToken('padding');
    return padded.subarray(0, padded.length - padLen);
  }
}

/** Python's `_decrypt_data` time rules, in exact integer arithmetic. */
function checkTime(timestamp: bigint, ttl: bigint, now: bigint): void {
  if (timestamp + ttl < now) throw new InvalidToken('expired');
  if (now + BigInt(MAX_CLOCK_SKEW_S) < timestamp) throw new InvalidToken('future');
}

// ----------------------------------------------------------- MultiFernet ----

/**
 * Key rotation: encrypts with the first (primary) Fernet, decrypts with any of
 * them in order, and `rotate()` re-encrypts old tokens under the primary key.
 */
export class MultiFernet implements FernetCipher {
  readonly #fernets: readonly Fernet[];

  constructor(fernets: Iterable<Fernet>) {
    const list = [...fernets];
    if (list.length === 0) throw new FernetKeyError('MultiFernet requires at least one Fernet instance');
    for (const f of list) if (!(f instanceof Fernet)) throw new TypeError('MultiFernet takes Fernet instances');
    this.#fernets = list;
  }

  /** Number of keys (primary first). */
  get size(): number {
    return this.#fernets.length;
  }

  [inspect.custom](): string {
    return `MultiFernet { ${this.#fernets.length} keys hidden }`;
  }

  toJSON(): string {
    return `MultiFernet { ${this.#fernets.length} keys hidden }`;
  }

  encrypt(data: Buffer | Uint8Array | string, at: number = nowSeconds()): string {
    return (this.#fernets[0] as Fernet).encrypt(data, at);
  }

  decrypt(token: string | Buffer, ttlSeconds?: number, now?: number): Buffer {
    return this.#firstSuccess((f) => f.decrypt(token, ttlSeconds, now));
  }

  extractTimestamp(token: string | Buffer): number {
    return this.#firstSuccess((f) => f.extractTimestamp(token));
  }

  /**
   * Decrypt with any key (no TTL check, as in Python) and re-encrypt with the
   * primary key, keeping the token's original timestamp and using a fresh IV.
   */
  rotate(token: string | Buffer): string {
    let timestamp = 0n;
    const plaintext = this.#firstSuccess((f) => {
      const parts = f.parseToken(token);
      timestamp = parts.timestamp;
      return f.decryptParts(parts.data);
    });
    return (this.#fernets[0] as Fernet).encryptParts(plaintext, timestamp);
  }

  #firstSuccess<T>(attempt: (f: Fernet) => T): T {
    let best: InvalidToken | undefined;
    for (const f of this.#fernets) {
      try {
        return attempt(f);
      } catch (err) {
        if (!(err instanceof InvalidToken)) throw err;
        // Report the most informative failure: a key whose HMAC matched beats a mismatch.
        if (best === undefined || (best.reason === 'signature' && err.reason !== 'signature')) best = err;
      }
    }
    throw best ?? new InvalidToken('signature');
  }
}

// ------------------------------------------------------------ FERNET_KEY ----

/**
 * Build a cipher from a key list as found in FERNET_KEY: one key, or several
 * separated by commas, PRIMARY (newest) FIRST. The primary key encrypts; all keys
 * decrypt, so old data stays readable after a rotation. Whitespace around each
 * key is ignored. Errors name the variable and key position, never the key.
 */
export function fernetFromKeys(value: string | undefined, sourceName = 'FERNET_KEY', options: FernetOptions = {}): Fernet | MultiFernet {
  if (value == null || value.trim() === '') {
    throw new FernetKeyError(
      `${sourceName} is not set: set it to a Fernet key (generate one with Fernet.generateKey() or ` +
        `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"); ` +
        `several keys may be given comma-separated, primary (newest) first`,
    );
  }
  const entries = value.split(',').map((s) => s.trim());
  const fernets = entries.map((entry, i) => {
    const where = entries.length > 1 ? `${sourceName} key ${i + 1} of ${entries.length}` : sourceName;
    if (entry === '') throw new FernetKeyError(`${where} is empty (check for a stray comma)`);
    try {
      return new Fernet(entry, options);
    } catch (err) {
      if (err instanceof FernetKeyError) throw new FernetKeyError(`${where} is not a valid key: ${err.message}`);
      throw err;
    }
  });
  return fernets.length === 1 ? (fernets[0] as Fernet) : new MultiFernet(fernets);
}

/**
 * The cipher configured by the environment variable FERNET_KEY (the reference
 * service's setting). Comma-separated keys give a MultiFernet whose first key
 * is the primary (encrypting) key.
 */
export function fernetFromEnv(env: NodeJS.ProcessEnv = process.env, options: FernetOptions = {}): Fernet | MultiFernet {
  return fernetFromKeys(env.FERNET_KEY, 'FERNET_KEY', options);
}
