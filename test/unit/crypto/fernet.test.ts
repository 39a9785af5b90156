import assert from 'node:assert/strict';
import { inspect } from 'node:util';

import {
  decodeBase64UrlPython,
  decodeBase64UrlStrict,
  Fernet,
  fernetFromEnv,
  fernetFromKeys,
  FernetKeyError,
  InvalidToken,
  type InvalidTokenReason,
  MultiFernet,
} from '../../../lib/crypto';
import { mulberry32, pick, randBytes, randInt } from '../../helpers/prng';
import {
  b64urlPadded,
  epochSeconds,
  forgeToken,
  type GenerateVector,
  type InvalidVector,
  loadFixture,
  signBody,
  tokenBytes,
  type VerifyVector,
} from './fixtures';

const SPEC_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const OTHER_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const T0 = 1_700_000_000;

function rejects(fn: () => unknown, reason?: InvalidTokenReason, label = ''): InvalidToken {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidToken, `${label}: expected InvalidToken, got ${String(caught)}`);
  if (reason) assert.equal(caught.reason, reason, label);
  return caught;
}

describe('crypto/fernet: spec vectors (fernet/spec)', () => {
  it('generate.json: produces the exact token for secret, iv and time', () => {
    const vectors = loadFixture<GenerateVector[]>('generate.json');
    assert.ok(vectors.length >= 1);
    for (const v of vectors) {
      const f = new Fernet(v.secret);
      assert.equal(f.encrypt(v.src, epochSeconds(v.now), Buffer.from(v.iv)), v.token);
    }
  });

  it('verify.json: decrypts with the TTL at the given time', () => {
    const vectors = loadFixture<VerifyVector[]>('verify.json');
    assert.ok(vectors.length >= 1);
    for (const v of vectors) {
      const f = new Fernet(v.secret);
      assert.equal(f.decrypt(v.token, v.ttl_sec, epochSeconds(v.now)).toString('utf8'), v.src);
      assert.equal(f.extractTimestamp(v.token), epochSeconds(v.now) - 1);
    }
  });

  it('invalid.json: every case is rejected with InvalidToken, for the documented reason', () => {
    const expected: Record<string, InvalidTokenReason> = {
      'incorrect mac': 'signature',
      'too short': 'too-short',
      'invalid base64': 'encoding',
      'payload size not multiple of block size': 'ciphertext',
      'payload padding error': 'padding',
      'far-future TS (unacceptable clock skew)': 'future',
      'expired TTL': 'expired',
      'incorrect IV (causes padding error)': 'padding',
      'trailing characters after b64 padding': 'encoding',
      'invalid characters in b64': 'encoding',
      'invalid non-urlsafe characters in b64': 'encoding',
    };
    const vectors = loadFixture<InvalidVector[]>('invalid.json');
    assert.equal(vectors.length, Object.keys(expected).length);
    for (const v of vectors) {
      const f = new Fernet(v.secret);
      rejects(() => f.decrypt(v.token, v.ttl_sec, epochSeconds(v.now)), expected[v.desc], v.desc);
      rejects(() => f.decrypt(Buffer.from(v.token, 'latin1'), v.ttl_sec, epochSeconds(v.now)), expected[v.desc], v.desc);
    }
  });

  it('tokenBase64 "python" accepts what cryptography accepts: junk characters and data after the padding', () => {
    const vectors = loadFixture<InvalidVector[]>('invalid.json');
    const lenient = vectors.filter((v) => v.desc.startsWith('trailing') || v.desc === 'invalid characters in b64');
    assert.equal(lenient.length, 2);
    for (const v of lenient) {
      const f = new Fernet(v.secret, { tokenBase64: 'python' });
      assert.equal(f.decrypt(v.token, v.ttl_sec, epochSeconds(v.now)).toString(), 'hello', v.desc);
    }
    // Every other invalid vector is still invalid in python mode.
    for (const v of vectors.filter((x) => !lenient.includes(x))) {
      const f = new Fernet(v.secret, { tokenBase64: 'python' });
      rejects(() => f.decrypt(v.token, v.ttl_sec, epochSeconds(v.now)), undefined, v.desc);
    }
  });
});

describe('crypto/fernet: keys', () => {
  it('generateKey gives 44-char url-safe base64 of 32 random bytes, usable as a key', () => {
    const a = Fernet.generateKey();
    const b = Fernet.generateKey();
    assert.notEqual(a, b);
    for (const k of [a, b]) {
      assert.match(k, /^[A-Za-z0-9_-]{43}=$/);
      assert.equal(decodeBase64UrlStrict(k)?.length, 32);
      const f = new Fernet(k);
      assert.equal(f.decrypt(f.encrypt('x')).toString(), 'x');
    }
  });

  it('rejects bad keys with FernetKeyError that never echoes the key', () => {
    const bad = [
      '',
      'short',
      SPEC_KEY.slice(0, -4), // 29 bytes
      SPEC_KEY.replace(/=$/, ''), // missing padding: Python rejects it too
      b64urlPadded(Buffer.alloc(24, 7)), // AES-192 style key
      b64urlPadded(Buffer.alloc(48, 7)), // AES-256 style key
      'é' + SPEC_KEY,
    ];
    for (const key of bad) {
      let caught: unknown;
      try {
        new Fernet(key);
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof FernetKeyError, `key of length ${key.length} must be rejected`);
      assert.match(caught.message, /32 url-safe base64-encoded bytes/);
      if (key.length >= 8) assert.ok(!caught.message.includes(key.slice(0, 8)), 'message must not echo the key');
    }
    assert.throws(() => new Fernet(42 as unknown as string), FernetKeyError);
  });

  it('a Buffer is base64 text (like Python bytes); 32 raw bytes get a hint and fromRawKey', () => {
    const text = new Fernet(Buffer.from(SPEC_KEY, 'ascii'));
    const raw = Buffer.from(SPEC_KEY, 'base64url');
    assert.throws(
      () => new Fernet(raw),
      (err: Error) => err instanceof FernetKeyError && /fromRawKey/.test(err.message),
    );
    const fromRaw = Fernet.fromRawKey(raw);
    assert.equal(fromRaw.decrypt(text.encrypt('same key')).toString(), 'same key');
    assert.throws(() => Fernet.fromRawKey(Buffer.alloc(31)), FernetKeyError);
  });

  it("accepts the key spellings Python accepts: surrounding whitespace, '+/' alphabet", () => {
    const reference = new Fernet(SPEC_KEY);
    const token = reference.encrypt('k', T0);
    const std = SPEC_KEY.replace(/-/g, '+').replace(/_/g, '/');
    for (const spelling of [`${SPEC_KEY}\n`, ` ${SPEC_KEY}\r\n`, std]) {
      assert.equal(new Fernet(spelling).decrypt(token).toString(), 'k');
    }
  });

  it('keeps keys out of util.inspect and JSON', () => {
    const f = new Fernet(SPEC_KEY);
    const m = new MultiFernet([f]);
    const raw = Buffer.from(SPEC_KEY, 'base64url');
    for (const text of [inspect(f), inspect(m), JSON.stringify({ f, m }), inspect({ f }, { showHidden: true })]) {
      assert.ok(!text.includes(SPEC_KEY.slice(0, 10)), text);
      assert.ok(!text.includes(raw.subarray(0, 16).toString('hex').slice(0, 10)), text);
    }
  });
});

describe('crypto/fernet: encrypt / decrypt', () => {
  const f = new Fernet(SPEC_KEY);

  it('round-trips empty, text, UTF-8 and binary payloads of many lengths', () => {
    const rng = mulberry32(0xfe44e7);
    const payloads: Buffer[] = [Buffer.alloc(0), Buffer.from('hello'), Buffer.from('Grüße, 照明 💡')];
    for (let len = 0; len <= 48; len++) payloads.push(randBytes(rng, len));
    payloads.push(randBytes(rng, 10_000));
    for (const p of payloads) {
      const token = f.encrypt(p, T0);
      assert.match(token, /^gAAAAA[A-Za-z0-9_-]*={0,2}$/);
      // Ciphertext is the payload padded to the next whole block (an empty payload → one block).
      assert.equal(tokenBytes(token).length, 57 + (Math.floor(p.length / 16) + 1) * 16);
      assert.deepEqual(f.decrypt(token), p, `length ${p.length}`);
    }
  });

  it('a string is encrypted as its UTF-8 bytes; a Uint8Array works too', () => {
    const iv = Buffer.alloc(16, 9);
    const s = 'Grüße';
    assert.equal(f.encrypt(s, T0, iv), f.encrypt(Buffer.from(s, 'utf8'), T0, iv));
    assert.equal(f.encrypt(new Uint8Array(Buffer.from(s)), T0, iv), f.encrypt(s, T0, iv));
  });

  it('uses a fresh random IV: the same message gives different tokens', () => {
    const a = f.encrypt('same', T0);
    const b = f.encrypt('same', T0);
    assert.notEqual(a, b);
    assert.notDeepEqual(tokenBytes(a).subarray(9, 25), tokenBytes(b).subarray(9, 25));
  });

  it('records the timestamp (default: now) and extractTimestamp reads it after checking the HMAC', () => {
    assert.equal(f.extractTimestamp(f.encrypt('x', T0)), T0);
    const before = Math.floor(Date.now() / 1000);
    const ts = f.extractTimestamp(f.encrypt('x'));
    assert.ok(ts >= before && ts <= Math.floor(Date.now() / 1000) + 1);
    const tampered = tokenBytes(f.encrypt('x', T0));
    tampered[8] ^= 1;
    rejects(() => f.extractTimestamp(b64urlPadded(tampered)), 'signature');
    rejects(() => new Fernet(OTHER_KEY).extractTimestamp(f.encrypt('x', T0)), 'signature');
  });

  it('rejects invalid arguments with RangeError (programming errors, not token errors)', () => {
    assert.throws(() => f.encrypt('x', -1), RangeError);
    assert.throws(() => f.encrypt('x', 1.5), RangeError);
    assert.throws(() => f.encrypt('x', T0, Buffer.alloc(15)), RangeError);
    const token = f.encrypt('x', T0);
    assert.throws(() => f.decrypt(token, 1.5, T0), RangeError);
    assert.throws(() => f.decrypt(token, 60, Number.NaN), RangeError);
    assert.throws(() => new Fernet(SPEC_KEY, { tokenBase64: 'loose' as 'python' }), TypeError);
  });

  it('handles timestamps up to 2^53 - 1 and far-future forged timestamps', () => {
    const big = Number.MAX_SAFE_INTEGER;
    assert.equal(f.extractTimestamp(f.encrypt('x', big)), big);
    const body = tokenBytes(f.encrypt('x', T0)).subarray(0, -32);
    body.writeBigUInt64BE(0xffff_ffff_ffff_ffffn, 1);
    const forged = signBody(SPEC_KEY, body);
    assert.equal(f.decrypt(forged).toString(), 'x'); // no TTL: no time check (as Python)
    rejects(() => f.decrypt(forged, 60, T0), 'future');
  });
});

describe('crypto/fernet: TTL and clock skew (as cryptography)', () => {
  const f = new Fernet(SPEC_KEY);
  const token = f.encrypt('t', T0);

  it('a token exactly ttl seconds old is valid; one second more is expired', () => {
    assert.equal(f.decrypt(token, 100, T0 + 100).toString(), 't');
    rejects(() => f.decrypt(token, 100, T0 + 101), 'expired');
    assert.equal(f.decrypt(token, 0, T0).toString(), 't');
    rejects(() => f.decrypt(token, 0, T0 + 1), 'expired');
  });

  it('a token exactly 60 s in the future is valid; 61 s is rejected', () => {
    assert.equal(f.decrypt(token, 100, T0 - 60).toString(), 't');
    rejects(() => f.decrypt(token, 100, T0 - 61), 'future');
    // The skew rule applies even with a huge TTL.
    rejects(() => f.decrypt(token, 10 ** 12, T0 - 61), 'future');
  });

  it("without a TTL, neither age nor skew is checked (Python's decrypt(token) semantics)", () => {
    assert.equal(f.decrypt(token).toString(), 't');
    assert.equal(f.decrypt(f.encrypt('t', 0)).toString(), 't');
    assert.equal(f.decrypt(f.encrypt('t', Math.floor(Date.now() / 1000) + 86_400)).toString(), 't');
    assert.equal(f.decrypt(token, undefined, 0).toString(), 't');
  });

  it('with a TTL and no `now`, uses the current clock', () => {
    const fresh = f.encrypt('t');
    assert.equal(f.decrypt(fresh, 3600).toString(), 't');
    rejects(() => f.decrypt(f.encrypt('t', T0), 3600), 'expired');
    rejects(() => f.decrypt(f.encrypt('t', Math.floor(Date.now() / 1000) + 3600), 3600), 'future');
  });

  it("checks the time before the signature, like cryptography (an expired forgery is 'expired')", () => {
    const wrongKey = new Fernet(OTHER_KEY);
    rejects(() => wrongKey.decrypt(token, 10, T0 + 11), 'expired');
    rejects(() => wrongKey.decrypt(token, 10, T0 + 10), 'signature');
  });
});

describe('crypto/fernet: tampering', () => {
  const f = new Fernet(SPEC_KEY);
  const iv = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const plaintext = 'profile payload: 2 blocks'; // 25 bytes → 2 blocks → 89-byte token → one '=' of padding
  const token = f.encrypt(plaintext, T0, iv);
  const raw = tokenBytes(token);

  it('flipping any bit of version, timestamp, IV, ciphertext or HMAC is detected', () => {
    const regions: Array<[string, number, number, InvalidTokenReason]> = [
      ['version', 0, 1, 'version'],
      ['timestamp', 1, 9, 'signature'],
      ['iv', 9, 25, 'signature'],
      ['ciphertext', 25, raw.length - 32, 'signature'],
      ['hmac', raw.length - 32, raw.length, 'signature'],
    ];
    for (const [name, start, end, reason] of regions) {
      for (let byte = start; byte < end; byte++) {
        for (const bit of [0x01, 0x80]) {
          const t = Buffer.from(raw);
          t[byte] ^= bit;
          rejects(() => f.decrypt(b64urlPadded(t)), reason, `${name} byte ${byte} bit ${bit}`);
        }
      }
    }
  });

  it('a wrong key fails the signature check', () => {
    rejects(() => new Fernet(OTHER_KEY).decrypt(token), 'signature');
    rejects(() => new Fernet(Fernet.generateKey()).decrypt(token, 60, T0), 'signature');
  });

  it('every truncation and every appended block is rejected', () => {
    for (let n = 0; n < raw.length; n++) rejects(() => f.decrypt(b64urlPadded(raw.subarray(0, n))), undefined, `length ${n}`);
    rejects(() => f.decrypt(b64urlPadded(Buffer.concat([raw, Buffer.alloc(16)]))), 'signature');
  });

  it('bad PKCS7 padding behind a valid HMAC is rejected; valid padding of every length is accepted', () => {
    const block = (fill: number[]) => {
      const b = Buffer.alloc(16, 0x41);
      fill.forEach((v, i) => (b[16 - fill.length + i] = v));
      return b;
    };
    const badPaddings = [
      block([0x00]), // pad length 0
      block([0x11]), // 17 > block size
      block([0xff]),
      block([0x03, 0x02, 0x03]), // inconsistent pad bytes
      block([0x02, 0x02, 0x03]),
      Buffer.alloc(16, 0x10).fill(0x0f, 0, 1), // 0f then 15 × 10: a full pad block with one wrong byte
    ];
    for (const padded of badPaddings) {
      rejects(() => f.decrypt(forgeToken(SPEC_KEY, BigInt(T0), iv, padded)), 'padding', padded.toString('hex'));
    }
    for (let n = 1; n <= 16; n++) {
      const padded = Buffer.concat([Buffer.alloc(16 - n, 0x41), Buffer.alloc(n, n)]);
      assert.equal(f.decrypt(forgeToken(SPEC_KEY, BigInt(T0), iv, padded)).length, 16 - n);
    }
  });

  it('a signed token with no ciphertext or a partial block is rejected', () => {
    const header = tokenBytes(token).subarray(0, 25);
    rejects(() => f.decrypt(signBody(SPEC_KEY, header.subarray(0, 9))), 'too-short');
    rejects(() => f.decrypt(signBody(SPEC_KEY, header)), 'ciphertext');
    rejects(() => f.decrypt(signBody(SPEC_KEY, Buffer.concat([header, Buffer.alloc(15)]))), 'ciphertext');
    rejects(() => f.decrypt(signBody(SPEC_KEY, Buffer.concat([header, Buffer.alloc(17)]))), 'ciphertext');
  });

  it('strict base64: non-alphabet characters, standard alphabet, wrong padding, non-canonical bits', () => {
    const pos = 20;
    const variants: Record<string, string> = {
      asterisk: token.slice(0, pos) + '*' + token.slice(pos),
      space: token.slice(0, pos) + ' ' + token.slice(pos),
      newline: token + '\n',
      leadingSpace: ' ' + token,
      dot: token.slice(0, pos) + '.' + token.slice(pos),
      nonAscii: token.slice(0, pos) + 'é' + token.slice(pos),
      nul: token + '\u0000',
      plus: token.slice(0, pos) + '+' + token.slice(pos + 1),
      slash: token.slice(0, pos) + '/' + token.slice(pos + 1),
      padInMiddle: token.slice(0, pos) + '=' + token.slice(pos + 1),
      missingPadding: token.replace(/=+$/, ''),
      extraPadding: token + '==',
      trailing: token + 'AAAA',
      empty: '',
    };
    assert.ok(token.endsWith('=') && !token.endsWith('=='), "this test needs a token with one '='");
    // Non-zero unused bits: same bytes, non-canonical spelling.
    const last = token.length - 2;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    variants.nonCanonicalBits = token.slice(0, last) + alphabet[alphabet.indexOf(token[last] as string) ^ 1] + '=';
    for (const [name, t] of Object.entries(variants)) {
      rejects(() => f.decrypt(t), name === 'empty' ? 'too-short' : undefined, name);
      rejects(() => f.decrypt(Buffer.from(t, 'utf8')), undefined, `${name} (Buffer)`);
    }
    rejects(() => f.decrypt(variants.nonCanonicalBits as string), 'encoding');
    rejects(() => f.decrypt(123 as unknown as string), 'type');
  });

  it('fuzz: random edits to token text or bytes only ever raise InvalidToken (seeded)', () => {
    const seed = 0xc0ffee;
    const rng = mulberry32(seed);
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/*! \n.é';
    for (let i = 0; i < 1500; i++) {
      let t: string;
      if (rng() < 0.5) {
        const b = Buffer.from(raw);
        const edits = randInt(rng, 1, 3);
        for (let e = 0; e < edits; e++) b[randInt(rng, 0, b.length - 1)] ^= 1 << randInt(rng, 0, 7);
        t = b64urlPadded(b.subarray(0, rng() < 0.2 ? randInt(rng, 0, b.length) : b.length));
      } else {
        const p = randInt(rng, 0, token.length - 1);
        const op = randInt(rng, 0, 2);
        const c = pick(rng, [...chars]);
        t =
          op === 0
            ? token.slice(0, p) + c + token.slice(p + 1)
            : op === 1
              ? token.slice(0, p) + c + token.slice(p)
              : token.slice(0, p) + token.slice(p + 1);
      }
      if (t === token) continue;
      for (const mode of ['strict', 'python'] as const) {
        const g = new Fernet(SPEC_KEY, { tokenBase64: mode });
        try {
          const out = g.decrypt(t, 60, T0);
          // Only python mode may accept a different spelling, and then only with the original plaintext.
          assert.equal(mode, 'python', `seed ${seed} case ${i}: strict mode accepted an edited token`);
          assert.equal(out.toString(), plaintext);
        } catch (err) {
          assert.ok(err instanceof InvalidToken, `seed ${seed} case ${i} (${mode}): ${String(err)}`);
        }
      }
    }
  });
});

describe('crypto/fernet: python-compatible base64 decoder', () => {
  it('skips junk, stops at complete padding, accepts both alphabets, rejects bad lengths', () => {
    const hex = (s: string | Buffer) => decodeBase64UrlPython(s)?.toString('hex') ?? null;
    assert.equal(hex('aGk='), '6869');
    assert.equal(hex('a G\nk = '), '6869');
    assert.equal(hex('aGk=trailing'), '6869');
    assert.equal(hex('-_-_'), hex('+/+/'));
    assert.equal(hex('aGk'), null); // incorrect padding
    assert.equal(hex('a'), null); // 1 more than a multiple of 4
    assert.equal(hex('aGk=='), '6869');
    assert.equal(hex('=aGk='), '6869'); // a leading '=' is ignored
    assert.equal(hex('aé'), null); // non-ASCII str: Python raises ValueError
    assert.equal(hex(Buffer.from('aGk=\u00e9', 'latin1')), '6869'); // bytes: non-alphabet skipped
    assert.equal(hex(''), '');
  });
});

describe('crypto/fernet: MultiFernet', () => {
  const oldF = new Fernet(OTHER_KEY);
  const newKey = Fernet.generateKey();
  const newF = new Fernet(newKey);
  const multi = new MultiFernet([newF, oldF]);

  it('encrypts with the first key and decrypts with any', () => {
    const t = multi.encrypt('primary', T0);
    assert.equal(newF.decrypt(t).toString(), 'primary');
    rejects(() => oldF.decrypt(t), 'signature');
    assert.equal(multi.decrypt(oldF.encrypt('old', T0)).toString(), 'old');
    assert.equal(multi.extractTimestamp(oldF.encrypt('old', T0)), T0);
    assert.equal(multi.size, 2);
  });

  it('applies TTL and skew through every key', () => {
    const t = oldF.encrypt('old', T0);
    assert.equal(multi.decrypt(t, 10, T0 + 10).toString(), 'old');
    rejects(() => multi.decrypt(t, 10, T0 + 11), 'expired');
    rejects(() => multi.decrypt(t, 10, T0 - 61), 'future');
  });

  it('rotate re-encrypts with the primary key, keeps the timestamp, uses a fresh IV', () => {
    const original = oldF.encrypt('rotate me', T0);
    const rotated = multi.rotate(original);
    assert.notEqual(rotated, original);
    assert.equal(newF.decrypt(rotated).toString(), 'rotate me');
    assert.equal(newF.extractTimestamp(rotated), T0);
    rejects(() => oldF.decrypt(rotated), 'signature');
    assert.notDeepEqual(tokenBytes(rotated).subarray(9, 25), tokenBytes(original).subarray(9, 25));
    // A token already under the primary key is re-encrypted too, still with its timestamp.
    assert.equal(newF.extractTimestamp(multi.rotate(rotated)), T0);
  });

  it("rotate ignores the token's age (as cryptography) but rejects unknown keys and tampering", () => {
    assert.equal(newF.decrypt(multi.rotate(oldF.encrypt('ancient', 1))).toString(), 'ancient');
    rejects(() => multi.rotate(new Fernet(Fernet.generateKey()).encrypt('x', T0)), 'signature');
    const t = tokenBytes(oldF.encrypt('x', T0));
    t[30] ^= 4;
    rejects(() => multi.rotate(b64urlPadded(t)), 'signature');
    rejects(() => multi.rotate('not a token'), 'encoding');
  });

  it("reports a padding failure behind a matching HMAC rather than the other key's mismatch", () => {
    const bad = forgeToken(OTHER_KEY, BigInt(T0), Buffer.alloc(16), Buffer.alloc(16, 0));
    rejects(() => multi.decrypt(bad), 'padding');
  });

  it('requires at least one Fernet', () => {
    assert.throws(() => new MultiFernet([]), FernetKeyError);
    assert.throws(() => new MultiFernet([{} as Fernet]), TypeError);
  });
});

describe('crypto/fernet: FERNET_KEY from the environment', () => {
  it('one key gives a Fernet', () => {
    const f = fernetFromEnv({ FERNET_KEY: OTHER_KEY });
    assert.ok(f instanceof Fernet);
    assert.equal(new Fernet(OTHER_KEY).decrypt(f.encrypt('env')).toString(), 'env');
  });

  it('comma-separated keys give a MultiFernet whose FIRST key is primary', () => {
    const primary = Fernet.generateKey();
    const f = fernetFromEnv({ FERNET_KEY: ` ${primary} ,\n${OTHER_KEY} ` });
    assert.ok(f instanceof MultiFernet);
    const t = f.encrypt('rotated', T0);
    assert.equal(new Fernet(primary).decrypt(t).toString(), 'rotated');
    rejects(() => new Fernet(OTHER_KEY).decrypt(t), 'signature');
    assert.equal(f.decrypt(new Fernet(OTHER_KEY).encrypt('old data')).toString(), 'old data');
  });

  it('unset, blank, empty entries and bad keys give clear errors that never contain the key', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{}, /FERNET_KEY is not set/],
      [{ FERNET_KEY: '   ' }, /FERNET_KEY is not set/],
      [{ FERNET_KEY: `${OTHER_KEY},` }, /FERNET_KEY key 2 of 2 is empty/],
      [{ FERNET_KEY: 'not-a-key-at-all-but-long-enough' }, /FERNET_KEY is not a valid key: .*32 url-safe/],
      [{ FERNET_KEY: `${OTHER_KEY},${OTHER_KEY.slice(0, 30)}` }, /FERNET_KEY key 2 of 2 is not a valid key/],
    ];
    for (const [env, pattern] of cases) {
      let caught: unknown;
      try {
        fernetFromEnv(env);
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof FernetKeyError, String(caught));
      assert.match(caught.message, pattern);
      assert.ok(!caught.message.includes(OTHER_KEY.slice(0, 12)));
      assert.ok(!caught.message.includes('not-a-key-at-all'));
    }
  });

  it('fernetFromKeys names its own source (e.g. a Node-RED credential)', () => {
    assert.throws(() => fernetFromKeys('', 'credentials.fernetKey'), /credentials\.fernetKey is not set/);
  });

  it('reads process.env by default', () => {
    const saved = process.env.FERNET_KEY;
    try {
      process.env.FERNET_KEY = OTHER_KEY;
      assert.ok(fernetFromEnv() instanceof Fernet);
    } finally {
      if (saved === undefined) delete process.env.FERNET_KEY;
      else process.env.FERNET_KEY = saved;
    }
  });
});

describe('crypto/fernet: error messages never leak', () => {
  it('no InvalidToken message contains plaintext, token or key material', () => {
    const secretText = 'PLAINTEXT-Zq9-do-not-leak';
    const f = new Fernet(SPEC_KEY);
    const token = f.encrypt(secretText, T0);
    const raw = tokenBytes(token);
    const attempts: Array<() => unknown> = [
      () => new Fernet(OTHER_KEY).decrypt(token),
      () => f.decrypt(token, 1, T0 + 5),
      () => f.decrypt(token, 1, T0 - 500),
      () => f.decrypt(token + '*'),
      () => f.decrypt(b64urlPadded(raw.subarray(0, 60))),
      () => new MultiFernet([new Fernet(OTHER_KEY)]).rotate(token),
      () => f.decrypt(forgeToken(SPEC_KEY, BigInt(T0), Buffer.alloc(16), Buffer.from(secretText.slice(0, 16)))),
    ];
    const keyHex = Buffer.from(SPEC_KEY, 'base64url').toString('hex');
    for (const attempt of attempts) {
      const err = rejects(attempt);
      for (const text of [err.message, String(err), inspect(err)]) {
        assert.ok(!text.includes(secretText.slice(0, 9)), text);
        assert.ok(!text.includes(token.slice(10, 30)), text);
        assert.ok(!text.includes(SPEC_KEY.slice(0, 10)) && !text.includes(keyHex.slice(0, 10)), text);
      }
    }
  });
});
