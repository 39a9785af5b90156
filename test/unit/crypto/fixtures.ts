/** Shared helpers for the crypto tests: fixture loading and token surgery. */
import { createCipheriv, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** test/fixtures/fernet, from either the compiled (dist/test/...) or the source location. */
export function fixtureDir(): string {
  const candidates = [
    resolve(__dirname, '../../../../test/fixtures/fernet'), // dist/test/unit/crypto
    resolve(__dirname, '../../fixtures/fernet'), // test/unit/crypto (ts-node)
  ];
  const found = candidates.find((d) => existsSync(d));
  if (!found) throw new Error(`fixture directory test/fixtures/fernet not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(resolve(fixtureDir(), name), 'utf8')) as T;
}

export interface GenerateVector {
  token: string;
  now: string;
  iv: number[];
  src: string;
  secret: string;
}
export interface VerifyVector {
  token: string;
  now: string;
  ttl_sec: number;
  src: string;
  secret: string;
}
export interface InvalidVector {
  desc: string;
  token: string;
  now: string;
  ttl_sec: number;
  secret: string;
}

/** RFC 3339 time of the vectors → epoch seconds. */
export function epochSeconds(rfc3339: string): number {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) throw new Error('bad time in fixture');
  return Math.floor(ms / 1000);
}

/** The sample key published in the reference service's README. */
export const README_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';

export function b64urlPadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Decode a (canonical) token to bytes, for tampering. */
export function tokenBytes(token: string): Buffer {
  return Buffer.from(token, 'base64url');
}

/**
 * Build a token by hand from raw AES input blocks (no automatic padding) and a
 * correct HMAC, so that tests reach the checks that come after the signature.
 */
export function forgeToken(keyB64: string, timestamp: bigint, iv: Buffer, paddedPlaintext: Buffer): string {
  const key = Buffer.from(keyB64, 'base64url');
  const cipher = createCipheriv('aes-128-cbc', key.subarray(16), iv);
  cipher.setAutoPadding(false);
  const ciphertext = Buffer.concat([cipher.update(paddedPlaintext), cipher.final()]);
  const header = Buffer.alloc(9);
  header[0] = 0x80;
  header.writeBigUInt64BE(timestamp, 1);
  const body = Buffer.concat([header, iv, ciphertext]);
  const mac = createHmac('sha256', key.subarray(0, 16)).update(body).digest();
  return b64urlPadded(Buffer.concat([body, mac]));
}

/** Re-sign an arbitrary token body (version ‖ ts ‖ iv ‖ ciphertext) with the key's signing half. */
export function signBody(keyB64: string, body: Buffer): string {
  const key = Buffer.from(keyB64, 'base64url');
  const mac = createHmac('sha256', key.subarray(0, 16)).update(body).digest();
  return b64urlPadded(Buffer.concat([body, mac]));
}
