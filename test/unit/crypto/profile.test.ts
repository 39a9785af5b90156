import assert from 'node:assert/strict';
import { inspect } from 'node:util';

import {
  decryptProfile,
  encryptProfile,
  Fernet,
  InvalidToken,
  MultiFernet,
  parseProfileBlob,
  type PersonalProfile,
  ProfileError,
  type ProfileErrorCode,
  profileHints,
} from '../../../lib/crypto';
import { b64urlPadded, loadFixture, README_KEY, tokenBytes } from './fixtures';

const T0 = 1_700_000_000;
const fernet = new Fernet(README_KEY);

function profileError(fn: () => unknown, code: ProfileErrorCode, label = ''): ProfileError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ProfileError, `${label}: expected ProfileError, got ${String(caught)}`);
  assert.equal(caught.code, code, `${label}: ${caught.message}`);
  return caught;
}

/** Every way an error can end up in a log. */
function renderings(err: Error): string[] {
  return [err.message, String(err), err.stack ?? '', inspect(err), inspect(err, { showHidden: true, depth: 5 }), JSON.stringify(err)];
}

function assertNoLeak(err: Error, secrets: string[]): void {
  for (const text of renderings(err)) {
    for (const s of secrets) assert.ok(!text.includes(s), `error output leaks ${JSON.stringify(s)}:\n${text}`);
  }
}

describe('crypto/profile: reference-service blobs', () => {
  it("decrypts the reference service's sample personal.json with the README key", () => {
    const blob = loadFixture<unknown>('reference-personal.json');
    const profile = decryptProfile(blob, fernet);
    assert.equal(profile.profileId, 'default');
    assert.equal(profile.age, 38);
    assert.equal(profile.sex, 'female');
    assert.equal(profile.visualImpairment, 'low_vision');
    assert.equal(profile.chronotype, 'intermediate');
    assert.equal(profile.schedules?.Monday, 'work');
    assert.equal(profile.schedules?.Sunday, 'rest');
    assert.equal(profile.unknownFields, undefined);
  });

  it('accepts the blob as JSON text or Buffer, and ignores extra blob keys (database exports)', () => {
    const blob = loadFixture<Record<string, unknown>>('reference-personal.json');
    assert.equal(decryptProfile(JSON.stringify(blob), fernet).age, 38);
    assert.equal(decryptProfile(Buffer.from(JSON.stringify(blob)), fernet).age, 38);
    assert.equal(decryptProfile({ ...blob, id: 3, created_at: '2025-10-04T10:00:00' }, fernet).age, 38);
  });

  it('validates the blob shape with clear errors', () => {
    const token = fernet.encrypt('{}', T0);
    const cases: Array<[unknown, RegExp]> = [
      [null, /must be an object/],
      [[], /must be an object/],
      [42, /must be an object/],
      ['{not json', /not valid JSON/],
      [{ encrypted_payload: token }, /profile_id must be a non-empty string/],
      [{ profile_id: '', encrypted_payload: token }, /profile_id must be a non-empty string/],
      [{ profile_id: 7, encrypted_payload: token }, /profile_id must be a non-empty string/],
      [{ profile_id: 'x'.repeat(65), encrypted_payload: token }, /longer than 64/],
      [{ profile_id: 'p' }, /encrypted_payload must be a non-empty string/],
      [{ profile_id: 'p', encrypted_payload: 12 }, /encrypted_payload must be a non-empty string/],
      [{ profile_id: 'p', encrypted_payload: '' }, /encrypted_payload must be a non-empty string/],
    ];
    for (const [blob, pattern] of cases) {
      const err = profileError(() => parseProfileBlob(blob), 'blob-shape', JSON.stringify(blob));
      assert.match(err.message, pattern);
      profileError(() => decryptProfile(blob, fernet), 'blob-shape');
    }
    assert.deepEqual(parseProfileBlob({ profile_id: 'p', encrypted_payload: token }), { profile_id: 'p', encrypted_payload: token });
  });

  it('does not echo invalid blob JSON text in the error', () => {
    for (const text of ['Jane Doe, low vision', '{"profile_id": "Jane Doe", "encrypted_payload": ']) {
      assertNoLeak(
        profileError(() => parseProfileBlob(text), 'blob-shape'),
        ['Jane'],
      );
    }
  });
});

describe('crypto/profile: encrypt and decrypt', () => {
  const full: PersonalProfile = {
    age: 72,
    ageGroup: '65+',
    sex: 'male',
    visualImpairment: 'none',
    chronotype: 'morning',
    schedules: { Monday: 'work', Saturday: 'rest' },
    consent: true,
    photosensitive: true,
    minIntensityPct: 25,
    minLux: 300,
    maxChangePctPerStep: 4,
    slowerDimDown: true,
    preferredCctRange: { minKelvin: 2700, maxKelvin: 4000 },
  };

  it('round-trips every field and stores the reference (snake_case) format', () => {
    const blob = encryptProfile('room-7', full, fernet, T0);
    assert.deepEqual(Object.keys(blob).sort(), ['encrypted_payload', 'profile_id']);
    assert.equal(blob.profile_id, 'room-7');
    assert.equal(fernet.extractTimestamp(blob.encrypted_payload), T0);
    const stored = JSON.parse(fernet.decrypt(blob.encrypted_payload).toString('utf8')) as Record<string, unknown>;
    assert.equal(stored.profile_id, 'room-7');
    assert.equal(stored.visual_impairment, 'none');
    assert.equal(stored.max_change_pct_per_step, 4);
    assert.deepEqual(stored.preferred_cct_range, { min_kelvin: 2700, max_kelvin: 4000 });
    assert.equal(stored.maxChangePctPerStep, undefined);
    assert.deepEqual(decryptProfile(blob, fernet), { ...full, profileId: 'room-7' });
  });

  it('reads camelCase keys too, treats null as absent, rejects a key given both ways', () => {
    const payload = {
      profile_id: 'p',
      minIntensityPct: 12,
      slower_dim_down: null,
      preferredCctRange: { minKelvin: 3000, maxKelvin: 3000 },
    };
    const p = decryptProfile({ profile_id: 'p', encrypted_payload: fernet.encrypt(JSON.stringify(payload)) }, fernet);
    assert.equal(p.minIntensityPct, 12);
    assert.equal(p.slowerDimDown, undefined);
    assert.deepEqual(p.preferredCctRange, { minKelvin: 3000, maxKelvin: 3000 });
    const both = { min_intensity_pct: 10, minIntensityPct: 20 };
    const err = profileError(
      () => decryptProfile({ profile_id: 'p', encrypted_payload: fernet.encrypt(JSON.stringify(both)) }, fernet),
      'payload-field',
    );
    assert.equal(err.field, 'min_intensity_pct');
  });

  it('keeps unknown fields for re-encryption but hides them from inspect and JSON', () => {
    const payload = { profile_id: 'p', age: 30, user_id: 'alice@example.org', nickname: 'Ally', notes: { medical: 'migraine' } };
    const blob = { profile_id: 'p', encrypted_payload: fernet.encrypt(JSON.stringify(payload)) };
    const p = decryptProfile(blob, fernet);
    assert.deepEqual(p.unknownFields, { user_id: 'alice@example.org', nickname: 'Ally', notes: { medical: 'migraine' } });
    for (const text of [JSON.stringify(p), inspect(p), inspect(p, { depth: 10 }), Object.keys(p).join(',')]) {
      for (const s of ['alice@example.org', 'Ally', 'migraine']) assert.ok(!text.includes(s), text);
    }
    const again = JSON.parse(fernet.decrypt(encryptProfile('p', p, fernet).encrypted_payload).toString()) as Record<string, unknown>;
    assert.deepEqual(again, payload);
  });

  it('extra enumerable keys from JS callers are stored as unknown fields', () => {
    const p = { age: 40, favouriteScene: 'reading' } as PersonalProfile;
    const back = decryptProfile(encryptProfile('p', p, fernet), fernet);
    assert.equal(back.age, 40);
    assert.deepEqual(back.unknownFields, { favouriteScene: 'reading' });
  });

  it('works with a MultiFernet from a rotated FERNET_KEY and with a TTL', () => {
    const newF = new Fernet(Fernet.generateKey());
    const multi = new MultiFernet([newF, fernet]);
    const old = loadFixture<unknown>('reference-personal.json');
    assert.equal(decryptProfile(old, multi).age, 38);
    const blob = encryptProfile('p', { age: 50 }, multi, T0);
    assert.equal(decryptProfile(blob, newF).age, 50);
    assert.equal(decryptProfile(blob, newF, { ttlSeconds: 10, now: T0 + 10 }).age, 50);
    const err = profileError(() => decryptProfile(blob, newF, { ttlSeconds: 10, now: T0 + 11 }), 'decrypt');
    assert.ok(err.cause instanceof InvalidToken && err.cause.reason === 'expired');
  });

  it('validates known fields by name, never quoting the value', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ age: '38' }, 'age'],
      [{ age: 200 }, 'age'],
      [{ age: 38.5 }, 'age'],
      [{ age_group: 'ancient' }, 'age_group'],
      [{ sex: 1 }, 'sex'],
      [{ schedules: ['Monday'] }, 'schedules'],
      [{ schedules: { Monday: 1 } }, 'schedules'],
      [{ consent: 'yes' }, 'consent'],
      [{ min_intensity_pct: 150 }, 'min_intensity_pct'],
      [{ min_intensity_pct: -1 }, 'min_intensity_pct'],
      [{ max_change_pct_per_step: 0 }, 'max_change_pct_per_step'],
      [{ min_lux: 'bright' }, 'min_lux'],
      [{ preferred_cct_range: { min_kelvin: 5000, max_kelvin: 3000 } }, 'preferred_cct_range'],
      [{ preferred_cct_range: { min_kelvin: 10 } }, 'preferred_cct_range'],
      [{ profile_id: 5 }, 'profile_id'],
    ];
    for (const [payload, field] of bad) {
      const blob = { profile_id: 'p', encrypted_payload: fernet.encrypt(JSON.stringify(payload)) };
      const err = profileError(() => decryptProfile(blob, fernet), 'payload-field', field);
      assert.equal(err.field, field);
      assert.ok(err.message.includes(`"${field}"`));
      for (const v of Object.values(payload)) {
        if (typeof v === 'string') assertNoLeak(err, [v]);
      }
    }
  });

  it("rejects a payload moved to another profile's blob", () => {
    const alice = encryptProfile('alice', { age: 30 }, fernet);
    const err = profileError(
      () => decryptProfile({ profile_id: 'bob', encrypted_payload: alice.encrypted_payload }, fernet),
      'profile-id-mismatch',
    );
    assert.equal(err.profileId, 'bob');
    // A payload without profile_id (older writers) is accepted under the blob's id.
    const anonymous = fernet.encrypt(JSON.stringify({ age: 30 }));
    assert.equal(decryptProfile({ profile_id: 'bob', encrypted_payload: anonymous }, fernet).profileId, 'bob');
  });

  it('encryptProfile validates its inputs', () => {
    profileError(() => encryptProfile('', {}, fernet), 'blob-shape');
    profileError(() => encryptProfile('x'.repeat(65), {}, fernet), 'blob-shape');
    profileError(() => encryptProfile('a', { profileId: 'b' }, fernet), 'profile-id-mismatch');
    profileError(() => encryptProfile('a', { minIntensityPct: 101 }, fernet), 'payload-field');
    profileError(() => encryptProfile('a', null as unknown as PersonalProfile, fernet), 'payload-field');
  });
});

describe('crypto/profile: failures never reveal plaintext', () => {
  const secretName = 'Bartholomew-Quux';
  const profile = { age: 81, visualImpairment: 'glaucoma-xyz', fullName: secretName } as PersonalProfile;
  const blob = encryptProfile('ward-3', profile, fernet, T0);
  // Fragments too: V8's JSON.parse messages quote a truncated prefix of the input.
  const secrets = [secretName.slice(0, 5), 'glaucoma', README_KEY.slice(0, 12), blob.encrypted_payload.slice(20, 40)];

  it("wrong key: code 'decrypt', InvalidToken cause, runbook hint, no plaintext or key", () => {
    const err = profileError(() => decryptProfile(blob, new Fernet(Fernet.generateKey())), 'decrypt');
    assert.ok(err.cause instanceof InvalidToken);
    assert.match(err.message, /wrong FERNET_KEY|rotated|corrupted/);
    assertNoLeak(err, secrets);
    // The id is available to the caller but not printed by default (it may be a person's name).
    assert.equal(err.profileId, 'ward-3');
    for (const text of [err.message, String(err), inspect(err), JSON.stringify(err)]) assert.ok(!text.includes('ward-3'), text);
  });

  it("tampered token: code 'decrypt', no plaintext", () => {
    const raw = tokenBytes(blob.encrypted_payload);
    for (const at of [0, 5, 20, 40, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[at] ^= 0x10;
      const err = profileError(() => decryptProfile({ ...blob, encrypted_payload: b64urlPadded(t) }, fernet), 'decrypt', `byte ${at}`);
      assertNoLeak(err, secrets);
    }
    const err = profileError(() => decryptProfile({ ...blob, encrypted_payload: blob.encrypted_payload + '!' }, fernet), 'decrypt');
    assertNoLeak(err, secrets);
  });

  it('a payload that is not JSON (or not an object) fails without quoting the decrypted text', () => {
    for (const text of [secretName, `name=${secretName}`, `{"name": "${secretName}"`, `["${secretName}"]`, `"${secretName}"`, 'null']) {
      const err = profileError(
        () => decryptProfile({ profile_id: 'p', encrypted_payload: fernet.encrypt(text) }, fernet),
        'payload-json',
        text,
      );
      assertNoLeak(err, secrets);
    }
    const invalidUtf8 = Buffer.concat([Buffer.from(secretName), Buffer.from([0xff, 0xfe])]);
    assertNoLeak(
      profileError(() => decryptProfile({ profile_id: 'p', encrypted_payload: fernet.encrypt(invalidUtf8) }, fernet), 'payload-json'),
      secrets,
    );
  });

  it('a bad field while encrypting does not quote the profile', () => {
    const err = profileError(() => encryptProfile('p', { ...profile, sex: 5 as unknown as string }, fernet), 'payload-field');
    assertNoLeak(err, secrets);
  });
});

describe('crypto/profile: profileHints (non-personal, for an AI payload)', () => {
  it('gives neutral defaults for an empty profile', () => {
    assert.deepEqual(profileHints({}), { minIntensityPct: 0, maxStepPct: 10, cctBias: 'neutral', slowerDimDown: false });
  });

  it('derives floors and gentler dimming from age and visual impairment', () => {
    assert.deepEqual(profileHints({ age: 70 }), { minIntensityPct: 20, maxStepPct: 10, cctBias: 'neutral', slowerDimDown: true });
    assert.equal(profileHints({ age: 59 }).minIntensityPct, 0);
    assert.equal(profileHints({ ageGroup: '65+' }).minIntensityPct, 20);
    assert.equal(profileHints({ ageGroup: '45-64' }).slowerDimDown, false);
    assert.deepEqual(profileHints({ visualImpairment: 'low_vision' }), {
      minIntensityPct: 30,
      maxStepPct: 10,
      cctBias: 'neutral',
      slowerDimDown: true,
    });
    assert.equal(profileHints({ visualImpairment: 'None' }).minIntensityPct, 0);
    assert.equal(profileHints({ age: 80, visualImpairment: 'low_vision' }).minIntensityPct, 30);
  });

  it('photosensitive people get 5 % steps and slower dim-down', () => {
    const h = profileHints({ photosensitive: true });
    assert.equal(h.maxStepPct, 5);
    assert.equal(h.slowerDimDown, true);
  });

  it('explicit preferences win over derived values, clamped to sane ranges', () => {
    const h = profileHints({ age: 90, photosensitive: true, minIntensityPct: 5, maxChangePctPerStep: 2, slowerDimDown: false });
    assert.deepEqual(h, { minIntensityPct: 5, maxStepPct: 2, cctBias: 'neutral', slowerDimDown: false });
    assert.equal(profileHints({ minIntensityPct: 250 }).minIntensityPct, 100);
  });

  it('maps the preferred CCT range to a warm / neutral / cool bias', () => {
    assert.equal(profileHints({ preferredCctRange: { minKelvin: 2200, maxKelvin: 3000 } }).cctBias, 'warm');
    assert.equal(profileHints({ preferredCctRange: { minKelvin: 3500, maxKelvin: 4500 } }).cctBias, 'neutral');
    assert.equal(profileHints({ preferredCctRange: { minKelvin: 5000, maxKelvin: 6500 } }).cctBias, 'cool');
  });

  it('contains nothing identifying: exactly four coarse keys, no id, age, sex, schedule or unknown field', () => {
    const blob = encryptProfile(
      'Jane-Roe-4711',
      { age: 67, sex: 'female', chronotype: 'evening', schedules: { Monday: 'night-shift' }, nickname: 'JR' } as PersonalProfile,
      fernet,
    );
    const hints = profileHints(decryptProfile(blob, fernet));
    assert.deepEqual(Object.keys(hints).sort(), ['cctBias', 'maxStepPct', 'minIntensityPct', 'slowerDimDown']);
    const text = JSON.stringify(hints);
    for (const s of ['Jane', '4711', '67', 'female', 'evening', 'night-shift', 'JR']) assert.ok(!text.includes(s), text);
  });
});
