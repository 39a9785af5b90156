/**
 * lib/http/profile-upload: the shape of POST /admin/profile bodies (no key
 * needed), the FERNET_KEY cipher or its 503, and the "decrypts into a
 * profile" check, with the reference service's sample profile and key, a
 * wrong key, tampered tokens and payloads that are not profiles. No message
 * ever quotes the token, the key or a decrypted value.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encryptProfile, Fernet, MultiFernet } from '../../../lib/crypto';
import { looksLikeFernetToken } from '../../../lib/store/rows';
import {
  CANNOT_DECRYPT_DETAIL,
  checkProfileDecrypts,
  fernetTokenProblem,
  NO_KEY_DETAIL,
  profileCipher,
  readProfileUpload,
  uploadToBlob,
  type ProfileUpload,
} from '../../../lib/http/profile-upload';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const SAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8')) as {
  profile_id: string;
  encrypted_payload: string;
};
/** Plaintext inside the sample profile: never in any message. */
const PLAINTEXT = ['low_vision', 'female', 'intermediate', 'Monday', 'chronotype'];
const OTHER_KEY = 'c2V2ZW50ZWVuLWJ5dGVzLWtleS1mb3ItdGVzdHMtMDE=';

function upload(over: Partial<ProfileUpload> = {}): ProfileUpload {
  return { profileId: SAMPLE.profile_id, encryptedPayload: SAMPLE.encrypted_payload, ...over };
}

function refused(input: unknown, pattern: RegExp): string {
  const r = readProfileUpload(input);
  assert.equal(r.ok, false, `accepted ${JSON.stringify(input)?.slice(0, 80)}`);
  const message = (r as { message: string }).message;
  assert.match(message, pattern);
  assert.match(message, /^invalid profile: /);
  return message;
}

/** The token with one base64 character in the middle changed (still a well-formed token). */
function tampered(token: string): string {
  const i = Math.floor(token.length / 2);
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

describe('lib/http/profile-upload', () => {
  describe('readProfileUpload: the body shape', () => {
    it('accepts the reference personal.json as an object, JSON text or a Buffer, giving camelCase', () => {
      for (const body of [SAMPLE, JSON.stringify(SAMPLE), Buffer.from(JSON.stringify(SAMPLE))]) {
        assert.deepEqual(readProfileUpload(body), { ok: true, value: upload() });
      }
    });

    it('accepts the camelCase names (api-guard output) and both spellings when they agree', () => {
      assert.deepEqual(readProfileUpload(upload()), { ok: true, value: upload() });
      assert.equal(readProfileUpload({ ...SAMPLE, profileId: SAMPLE.profile_id }).ok, true);
    });

    it('refuses what is not {profile_id, encrypted_payload}, naming the field', () => {
      const token = SAMPLE.encrypted_payload;
      refused(undefined, /must be a JSON object/);
      refused(null, /must be a JSON object/);
      refused(42, /must be a JSON object/);
      refused([SAMPLE], /must be a JSON object/);
      refused('{"profile_id": "x", ', /not valid JSON/);
      refused({ encrypted_payload: token }, /profile_id is missing/);
      refused({ profile_id: 'x' }, /encrypted_payload is missing/);
      refused({ profile_id: 'x', encrypted_payload: '' }, /encrypted_payload is missing/);
      refused({ profile_id: '', encrypted_payload: token }, /profile_id must be a non-empty string of at most 64 characters/);
      refused({ profile_id: '   ', encrypted_payload: token }, /profile_id must be a non-empty string/);
      refused({ profile_id: 7, encrypted_payload: token }, /profile_id must be a non-empty string/);
      refused({ profile_id: 'x'.repeat(65), encrypted_payload: token }, /at most 64 characters/);
      refused({ profile_id: 'a', profileId: 'b', encrypted_payload: token }, /profile_id and profileId differ/);
    });

    it('refuses plaintext profile fields next to or instead of the token, without quoting their values', () => {
      const m = refused(
        { profile_id: 'x', encrypted_payload: SAMPLE.encrypted_payload, visual_impairment: 'low_vision' },
        /unknown field "visual_impairment"/,
      );
      assert.ok(!m.includes('low_vision'));
      const m2 = refused({ profile_id: 'x', encrypted_payload: { age: 38, sex: 'female' } }, /encrypted_payload must be a Fernet token/);
      assert.ok(!m2.includes('female'));
    });

    it('refuses an encrypted_payload that is not a Fernet token, saying why, never quoting it', () => {
      const token = SAMPLE.encrypted_payload;
      const bytes = Buffer.from(token, 'base64url');
      const wrongVersion = Buffer.from(bytes);
      wrongVersion[0] = 0x81;
      const cases: Array<[string, RegExp]> = [
        ['{"age": 38, "visual_impairment": "low_vision"}', /not url-safe base64/],
        [token.replace(/-/g, '+'), /not url-safe base64/],
        ['gAAAAABo4PAv', /too short for a Fernet token/],
        [wrongVersion.toString('base64url'), /version byte 0x80/],
        [bytes.subarray(0, bytes.length - 5).toString('base64url'), /wrong length for a Fernet token/],
        ['gA' + 'A'.repeat(1_000_000), /longer than 1000000 characters/],
      ];
      for (const [bad, pattern] of cases) {
        const m = refused({ profile_id: 'x', encrypted_payload: bad }, pattern);
        assert.ok(!m.includes(bad.slice(0, 20)) && !m.includes('low_vision'), m);
      }
    });

    it('agrees with the store: every token accepted here is one the personal_profiles table takes', () => {
      const f = new Fernet(REFERENCE_KEY);
      for (const size of [0, 1, 15, 16, 17, 100, 1000]) {
        const t = f.encrypt(Buffer.alloc(size, 1), 1_700_000_000);
        assert.equal(fernetTokenProblem(t), null, `size ${size}`);
        assert.equal(looksLikeFernetToken(t), true);
      }
      assert.equal(looksLikeFernetToken(SAMPLE.encrypted_payload), true);
    });

    it('uploadToBlob gives the reference names back', () => {
      assert.deepEqual(uploadToBlob(upload()), SAMPLE);
    });
  });

  describe('profileCipher: FERNET_KEY', () => {
    it('unset or blank: the 503 detail "FERNET_KEY is not set"', () => {
      for (const env of [{}, { FERNET_KEY: '' }, { FERNET_KEY: '  ' }]) {
        assert.deepEqual(profileCipher(env), { ok: false, status: 503, detail: NO_KEY_DETAIL });
      }
      assert.equal(NO_KEY_DETAIL, 'FERNET_KEY is not set');
    });

    it('an invalid key: 503 naming the key position, never the key', () => {
      const r = profileCipher({ FERNET_KEY: `${REFERENCE_KEY},not-a-key-secret` });
      assert.equal(r.ok, false);
      const detail = (r as { detail: string }).detail;
      assert.match(detail, /FERNET_KEY key 2 of 2 is not a valid key/);
      assert.ok(!detail.includes('not-a-key-secret') && !detail.includes(REFERENCE_KEY));
    });

    it('one key or several (primary first): a cipher', () => {
      const one = profileCipher({ FERNET_KEY: REFERENCE_KEY });
      assert.ok(one.ok && one.fernet instanceof Fernet);
      const two = profileCipher({ FERNET_KEY: ` ${OTHER_KEY} , ${REFERENCE_KEY} ` });
      assert.ok(two.ok && two.fernet instanceof MultiFernet);
    });
  });

  describe('checkProfileDecrypts', () => {
    const reference = new Fernet(REFERENCE_KEY);

    it('the reference sample with the README key: ok, and only the verdict comes back', () => {
      const r = checkProfileDecrypts(upload(), reference);
      assert.deepEqual(r, { ok: true });
      const text = JSON.stringify(r);
      for (const p of PLAINTEXT) assert.ok(!text.includes(p));
    });

    it('a key list with the right key second (rotated FERNET_KEY) still decrypts', () => {
      const c = profileCipher({ FERNET_KEY: `${OTHER_KEY},${REFERENCE_KEY}` });
      assert.ok(c.ok);
      assert.deepEqual(checkProfileDecrypts(upload(), c.fernet), { ok: true });
    });

    it('a wrong key: the documented 400 detail, nothing about the profile', () => {
      const r = checkProfileDecrypts(upload(), new Fernet(OTHER_KEY));
      assert.deepEqual(r, { ok: false, reason: 'decrypt', detail: CANNOT_DECRYPT_DETAIL });
      assert.equal(CANNOT_DECRYPT_DETAIL, 'encrypted_payload cannot be decrypted with FERNET_KEY (wrong key or tampered token)');
    });

    it('a tampered token (ciphertext or HMAC changed) is refused the same way', () => {
      const token = SAMPLE.encrypted_payload;
      const hmacFlipped = Buffer.from(token, 'base64url');
      hmacFlipped[hmacFlipped.length - 1] = (hmacFlipped[hmacFlipped.length - 1] as number) ^ 1;
      for (const bad of [tampered(token), hmacFlipped.toString('base64url')]) {
        assert.equal(readProfileUpload({ profile_id: 'default', encrypted_payload: bad }).ok, true, 'still shaped like a token');
        assert.deepEqual(checkProfileDecrypts(upload({ encryptedPayload: bad }), reference), {
          ok: false,
          reason: 'decrypt',
          detail: CANNOT_DECRYPT_DETAIL,
        });
      }
    });

    it('a token that decrypts to something other than a profile: 400 naming the field, never the value', () => {
      const notJson = reference.encrypt('low_vision, female');
      const r1 = checkProfileDecrypts(upload({ encryptedPayload: notJson }), reference);
      assert.equal(r1.ok, false);
      assert.equal((r1 as { reason: string }).reason, 'not-a-profile');
      assert.match((r1 as { detail: string }).detail, /decrypts with FERNET_KEY but is not a personal profile: .*not UTF-8 JSON/);
      const badField = reference.encrypt(JSON.stringify({ age: 'thirty-eight', visual_impairment: 'low_vision' }));
      const r2 = checkProfileDecrypts(upload({ encryptedPayload: badField }), reference);
      assert.match((r2 as { detail: string }).detail, /profile field "age"/);
      for (const r of [r1, r2]) {
        const text = JSON.stringify(r);
        for (const p of [...PLAINTEXT, 'thirty-eight']) assert.ok(!text.includes(p), text);
      }
    });

    it('a profile encrypted for another profile_id is refused (a token cannot be moved to another id)', () => {
      const blob = encryptProfile('alice', { photosensitive: true }, reference);
      assert.deepEqual(checkProfileDecrypts({ profileId: 'alice', encryptedPayload: blob.encrypted_payload }, reference), { ok: true });
      const r = checkProfileDecrypts({ profileId: 'bob', encryptedPayload: blob.encrypted_payload }, reference);
      assert.equal(r.ok, false);
      assert.equal((r as { reason: string }).reason, 'id-mismatch');
    });
  });
});
