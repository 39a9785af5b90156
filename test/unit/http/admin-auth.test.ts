import assert from 'node:assert/strict';
import { checkAdminAuth, createAdminAuth, resolveAdminToken } from '../../../lib/http/admin-auth';
import { maskSecrets } from '../../../lib/store/mask';

const TOKEN = 'super-secret-admin-token';

describe('lib/http admin auth', function () {
  const check = createAdminAuth(TOKEN);

  it('accepts the configured token as a Bearer credential (scheme case-insensitive)', () => {
    assert.deepEqual(check(`Bearer ${TOKEN}`), { ok: true });
    assert.deepEqual(check(`bearer ${TOKEN}`), { ok: true });
    assert.deepEqual(check(`  Bearer   ${TOKEN}  `), { ok: true });
  });

  it('refuses a wrong token with 401 whether it is shorter, longer, a prefix or differs in one character', () => {
    for (const wrong of ['x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.replace('s', 'S'), TOKEN.repeat(20)]) {
      const r = check(`Bearer ${wrong}`);
      assert.equal(r.ok, false, wrong);
      if (!r.ok) {
        assert.equal(r.status, 401);
        assert.equal(r.message, 'invalid admin token');
        assert.match(r.headers['WWW-Authenticate'] ?? '', /^Bearer/);
      }
    }
  });

  it('refuses a missing header, another scheme or a repeated header with 401 and says what to send', () => {
    for (const header of [
      undefined,
      null,
      '',
      'Basic dXNlcjpwYXNz',
      TOKEN,
      'Bearer',
      `Bearer ${TOKEN} extra`,
      [`Bearer ${TOKEN}`, 'Bearer y'],
      42,
    ]) {
      const r = check(header);
      assert.equal(r.ok, false, String(header));
      if (!r.ok) {
        assert.equal(r.status, 401);
        assert.match(r.message, /Authorization/);
        assert.equal(maskSecrets(r.message), r.message, `the message survives the log's masking unchanged: ${r.message}`);
      }
    }
  });

  it('no token configured: 503 with a message saying how to configure it, never open', () => {
    for (const configured of [undefined, null, '', '   ', 'short']) {
      const r = checkAdminAuth(`Bearer ${configured ?? 'anything'}`, configured);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.status, 503);
        assert.match(r.message, /ADMIN_TOKEN/);
      }
    }
  });

  it('never puts the configured or presented token into a message', () => {
    const presented = 'presented-token-value-123';
    const results = [
      check(`Bearer ${presented}`),
      check(`Basic ${presented}`),
      check(presented),
      checkAdminAuth(`Bearer ${presented}`, 'short'),
    ];
    for (const r of results) {
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.ok(!r.message.includes(presented), r.message);
        assert.ok(!r.message.includes(TOKEN), r.message);
        assert.ok(!JSON.stringify(r.headers).includes(presented));
      }
    }
  });

  it('resolves the token from the credential first, then ADMIN_TOKEN, ignoring blanks', () => {
    assert.equal(resolveAdminToken('cred-token-1', { ADMIN_TOKEN: 'env-token-1' }), 'cred-token-1');
    assert.equal(resolveAdminToken('  ', { ADMIN_TOKEN: ' env-token-1 ' }), 'env-token-1');
    assert.equal(resolveAdminToken(undefined, {}), null);
    assert.equal(checkAdminAuth(`Bearer env-token-1`, resolveAdminToken(undefined, { ADMIN_TOKEN: 'env-token-1' })).ok, true);
  });
});
