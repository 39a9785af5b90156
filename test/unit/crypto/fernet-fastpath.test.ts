/**
 * The fast paths of lib/crypto/fernet.ts: the strict base64url decoder (decode,
 * re-encode, compare instead of a regex), the padded encoder (base64url + '='),
 * the single-buffer encrypt with pooled IVs and the KeyObject AES key. Each is
 * checked against a slow, obviously-correct reference, and every rejection must
 * keep today's error type and reason.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';

import { decodeBase64UrlStrict, encodeBase64UrlPadded, Fernet, InvalidToken, type InvalidTokenReason } from '../../../lib/crypto';
import { mulberry32, pick, randBytes, randInt } from '../../helpers/prng';
import { b64urlPadded, tokenBytes } from './fixtures';

const SPEC_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const T0 = 1_700_000_000;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The previous implementation: one regex for alphabet and padding, then a canonical re-spelling check. */
function referenceStrict(text: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text.replace(/=+$/, '')) return null;
  return bytes;
}

function reasonOf(fn: () => unknown): InvalidTokenReason | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    assert.ok(err instanceof InvalidToken, `expected InvalidToken, got ${String(err)}`);
    return err.reason;
  }
}

describe('crypto/fernet: strict base64url fast path', () => {
  it('decodes every canonical spelling of 0..70 bytes to the same bytes as Buffer', () => {
    const rng = mulberry32(0xb64f);
    for (let n = 0; n <= 70; n++) {
      const bytes = randBytes(rng, n);
      const text = b64urlPadded(bytes);
      assert.deepEqual(decodeBase64UrlStrict(text), bytes, `length ${n}`);
    }
  });

  it('agrees with the regex reference on seeded mutations (characters, padding, length, bits)', () => {
    const seed = 0x5a11;
    const rng = mulberry32(seed);
    const junk = [...'=+/*!. \n\t\r\0é€💡', ...ALPHABET];
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      let text = b64urlPadded(randBytes(rng, randInt(rng, 0, 40)));
      const edits = randInt(rng, 1, 3);
      for (let e = 0; e < edits; e++) {
        const p = randInt(rng, 0, text.length);
        const op = randInt(rng, 0, 2);
        const c = pick(rng, junk);
        text =
          op === 0
            ? text.slice(0, p) + c + text.slice(p + 1)
            : op === 1
              ? text.slice(0, p) + c + text.slice(p)
              : text.slice(0, p) + text.slice(p + 1);
      }
      const expected = referenceStrict(text);
      const actual = decodeBase64UrlStrict(text);
      assert.deepEqual(actual, expected, `seed ${seed} case ${i} ${JSON.stringify(text)}`);
      if (expected === null) rejected++;
    }
    assert.ok(rejected > 1000, 'the batch should be mostly invalid spellings');
  });

  it('agrees with the reference on every string of up to 4 characters over a small alphabet', () => {
    const chars = ['A', 'Q', 'g', 'w', '_', '-', '+', '/', '=', '*'];
    const all: string[] = [''];
    let frontier = [''];
    for (let len = 1; len <= 4; len++) {
      frontier = frontier.flatMap((s) => chars.map((c) => s + c));
      all.push(...frontier);
    }
    for (const text of all) assert.deepEqual(decodeBase64UrlStrict(text), referenceStrict(text), JSON.stringify(text));
  });

  it('rejects each invalid character, bad padding, wrong length and non-zero unused bits', () => {
    const text = b64urlPadded(Buffer.from('fast path!')); // 10 bytes -> 16 chars, '==' padding
    assert.ok(text.endsWith('==') && decodeBase64UrlStrict(text) !== null);
    const bad = [
      ...[...'+/*!. \n\té💡\0'].map((c) => text.slice(0, 3) + c + text.slice(4)),
      text.slice(0, -2), // missing padding
      text.slice(0, -1), // half the padding
      text + '==', // extra padding
      text.slice(0, -2) + '=A', // data after the padding
      '=' + text.slice(1), // '=' at the start
      text.slice(0, 5) + '=' + text.slice(6), // '=' in the middle
      text + 'A', // length not a multiple of 4
      text.slice(1), // one character short
      'A===',
      '====',
      '==',
      text.slice(0, -3) + ALPHABET[ALPHABET.indexOf(text[text.length - 3] as string) | 1] + '==', // unused bits set
    ];
    for (const t of bad) {
      assert.equal(decodeBase64UrlStrict(t), null, JSON.stringify(t));
      assert.equal(referenceStrict(t), null, `reference must agree: ${JSON.stringify(t)}`);
    }
  });

  it('in tokens of 64 B, 1 KiB and 4 KiB: encoding, version and HMAC failures keep their reasons (string and Buffer)', () => {
    const f = new Fernet(SPEC_KEY);
    const rng = mulberry32(0x4b);
    for (const size of [64, 1024, 4096]) {
      const token = f.encrypt(randBytes(rng, size), T0);
      const raw = tokenBytes(token);
      const at = randInt(rng, 10, token.length - 10);
      const cases: Array<[string, string, InvalidTokenReason]> = [
        ['invalid character', token.slice(0, at) + '*' + token.slice(at + 1), 'encoding'],
        ['standard alphabet', token.slice(0, at) + '+' + token.slice(at + 1), 'encoding'],
        ['bad padding', token.replace(/=+$/, '') + '===', 'encoding'],
        ['missing padding', token.replace(/=+$/, ''), 'encoding'],
        ['wrong length', token.slice(0, at) + token.slice(at + 1), 'encoding'],
        ['appended character', token + 'A', 'encoding'],
      ];
      const version = Buffer.from(raw);
      version[0] = 0x81;
      cases.push(['wrong version byte', b64urlPadded(version), 'version']);
      const mac = Buffer.from(raw);
      mac[mac.length - 1] ^= 0x01;
      cases.push(['tampered HMAC', b64urlPadded(mac), 'signature']);
      const body = Buffer.from(raw);
      body[30] ^= 0x80;
      cases.push(['tampered ciphertext', b64urlPadded(body), 'signature']);
      for (const [name, t, reason] of cases) {
        assert.notEqual(t, token);
        assert.equal(
          reasonOf(() => f.decrypt(t, 60, T0)),
          reason,
          `${size} B: ${name}`,
        );
        assert.equal(
          reasonOf(() => f.decrypt(Buffer.from(t, 'utf8'), 60, T0)),
          reason,
          `${size} B: ${name} (Buffer)`,
        );
      }
      assert.equal(f.decrypt(token, 60, T0).length, size);
    }
  });
});

describe('crypto/fernet: encoder and encrypt fast path', () => {
  it("encodeBase64UrlPadded equals Python's urlsafe_b64encode spelling for 0..70 bytes", () => {
    const rng = mulberry32(0xe4c);
    for (let n = 0; n <= 70; n++) {
      const bytes = randBytes(rng, n);
      const expected = bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
      assert.equal(encodeBase64UrlPadded(bytes), expected, `length ${n}`);
    }
  });

  it('a token is exactly version | ts | iv | AES-CBC(PKCS7) | HMAC over the rest, for every length 0..70', () => {
    const key = Buffer.from(SPEC_KEY, 'base64url');
    const f = new Fernet(SPEC_KEY);
    const rng = mulberry32(0x70c);
    for (let n = 0; n <= 70; n++) {
      const plaintext = randBytes(rng, n);
      const raw = tokenBytes(f.encrypt(plaintext, T0 + n));
      assert.equal(raw[0], 0x80);
      assert.equal(raw.readBigUInt64BE(1), BigInt(T0 + n));
      const body = raw.subarray(0, raw.length - 32);
      assert.deepEqual(raw.subarray(raw.length - 32), createHmac('sha256', key.subarray(0, 16)).update(body).digest(), `mac, length ${n}`);
      const d = createDecipheriv('aes-128-cbc', key.subarray(16), raw.subarray(9, 25));
      assert.deepEqual(Buffer.concat([d.update(raw.subarray(25, raw.length - 32)), d.final()]), plaintext, `length ${n}`);
    }
  });

  it('pooled IVs: 1000 tokens (several pool refills) all have distinct IVs and decrypt', () => {
    const f = new Fernet(SPEC_KEY);
    const ivs = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const token = f.encrypt(`m${i}`, T0);
      ivs.add(tokenBytes(token).subarray(9, 25).toString('hex'));
      assert.equal(f.decrypt(token).toString(), `m${i}`);
    }
    assert.equal(ivs.size, 1000);
    assert.ok(!ivs.has('00'.repeat(16)), 'an IV must never be the zeroed pool slot');
  });

  it("a given IV is used as is and the caller's buffer is not modified", () => {
    const f = new Fernet(SPEC_KEY);
    const iv = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const copy = Buffer.from(iv);
    const a = f.encrypt('same', T0, iv);
    assert.equal(f.encrypt('same', T0, iv), a);
    assert.deepEqual(iv, copy);
    assert.deepEqual(tokenBytes(a).subarray(9, 25), iv);
  });
});
