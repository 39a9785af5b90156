import { strict as assert } from 'node:assert';
import { ProfileInputError, ProfileSource } from '../../../lib/control/profile-source';
import { encryptProfile, Fernet } from '../../../lib/crypto';

const KEY = Fernet.generateKey();
const OTHER = Fernet.generateKey();
const SECRET_ID = 'p-secret-42';
/** Values that must never appear in an error message. */
const PRIVATE = [SECRET_ID, 'low_vision', 'Alice', KEY, OTHER];

function refused(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProfileInputError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    for (const p of PRIVATE) assert.ok(!err.message.includes(p), `the message names ${p}`);
    return true;
  });
}

describe('control/profile-source: msg.profile to hints (rules-fallback and ai-decide)', () => {
  const decryptedProfile = { profile_id: SECRET_ID, name: 'Alice', age: 70, visual_impairment: 'low_vision', min_lux: 650 };
  const blob = encryptProfile(SECRET_ID, { age: 70, visualImpairment: 'low_vision', minLux: 650 }, new Fernet(KEY));

  it('no profile: no hints; plain hints are checked and copied', () => {
    const s = new ProfileSource({ env: {} });
    assert.equal(s.hints(undefined), null);
    assert.equal(s.hints(null), null);
    assert.deepEqual(s.hints({ minIntensityPct: 20, cctBias: 'warm', minLux: 600 }), { minIntensityPct: 20, cctBias: 'warm', minLux: 600 });
    refused(() => s.hints({ minIntensityPct: 140 }), 'hints', /minIntensityPct/);
  });

  it('an encrypted blob (object or JSON text) is decrypted with the credential, else FERNET_KEY', () => {
    const fromEnv = new ProfileSource({ env: { FERNET_KEY: KEY } });
    const hints = fromEnv.hints(blob);
    assert.equal(hints?.minIntensityPct, 30, 'low vision raises the floor');
    assert.equal(hints?.minLux, 650);
    assert.deepEqual(fromEnv.hints(JSON.stringify(blob)), hints);
    const fromCredential = new ProfileSource({ key: KEY, env: { FERNET_KEY: OTHER } });
    assert.equal(fromCredential.keySource, 'credential');
    assert.deepEqual(fromCredential.hints(blob), hints);
  });

  it('no key, a wrong key and a bad key are errors that name no value', () => {
    refused(() => new ProfileSource({ env: {} }).hints(blob), 'no-key', /no Fernet key is set/);
    refused(() => new ProfileSource({ env: { FERNET_KEY: OTHER } }).hints(blob), 'decrypt', /cannot decrypt personal profile/);
    const bad = new ProfileSource({ env: { FERNET_KEY: 'not-a-key' } });
    assert.match(String(bad.checkKey()), /FERNET_KEY/);
    refused(() => bad.hints(blob), 'bad-key', /FERNET_KEY/);
  });

  it('a decrypted profile object is refused by default and read only with the decrypted option', () => {
    refused(() => new ProfileSource({ env: {} }).hints(decryptedProfile), 'blob-shape', /encrypted_payload/);
    refused(() => new ProfileSource({ env: {} }).hints({ age: 70 }), 'hints', /unknown hint "age"/);
    const s = new ProfileSource({ env: {}, decrypted: true });
    const hints = s.hints(decryptedProfile);
    assert.equal(hints?.minIntensityPct, 30);
    assert.equal(hints?.minLux, 650);
    assert.ok(!JSON.stringify(hints).includes(SECRET_ID), 'only hints come out');
    assert.deepEqual(s.hints({ minIntensityPct: 15 }), { minIntensityPct: 15 }, 'an object of hint keys is still hints');
    refused(() => s.hints({ age: 'seventy' }), 'payload-field', /age/);
  });
});
