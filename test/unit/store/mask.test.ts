import assert from 'node:assert/strict';
import { maskSecrets, maskUrl, SECRET_MASK } from '../../../lib/store/mask';

describe('lib/store/mask: secrets never echoed', function () {
  const SECRET = 'S3cretPw';

  it('masks the password of well-formed and malformed database URLs, keeping scheme, user, host and path', () => {
    assert.equal(
      maskUrl(`postgresql://lights:${SECRET}@db.example:5432/lights`),
      `postgresql://lights:${SECRET_MASK}@db.example:5432/lights`,
    );
    assert.equal(maskUrl(`postgresql:/user:${SECRET}@db.example/lights`), `postgresql:/user:${SECRET_MASK}@db.example/lights`);
    assert.equal(maskUrl(`postgres:user:${SECRET}@db.example/lights`), `postgres:user:${SECRET_MASK}@db.example/lights`);
    assert.equal(maskUrl(`postgresql://u:p@ss:w${SECRET}@db/x`), `postgresql://u:${SECRET_MASK}@db/x`);
    assert.equal(maskUrl(`postgresql://:${SECRET}@db/x`), `postgresql://:${SECRET_MASK}@db/x`);
    assert.equal(maskUrl(`user:${SECRET}@db.example/lights`), `user:${SECRET_MASK}@db.example/lights`);
    assert.equal(
      maskUrl(`postgresql://db/x?sslmode=require&password=${SECRET}`),
      `postgresql://db/x?sslmode=require&password=${SECRET_MASK}`,
    );
    assert.equal(maskUrl('sqlite:////var/lib/lights.db'), 'sqlite:////var/lib/lights.db');
    assert.equal(maskUrl('postgresql://user@db.example/lights'), 'postgresql://user@db.example/lights');
  });

  it('masks URLs, key=value secrets, Bearer tokens and API keys inside free text', () => {
    const text = [
      `cannot open "postgresql:/user:${SECRET}@db.example/lights": not a database URL`,
      `conninfo host=db user=u password=${SECRET} dbname=x`,
      `Authorization: Bearer ${SECRET}abc`,
      `key sk-proj-${SECRET}abcdefghijkl`,
      `token=${SECRET}`,
    ].join('\n');
    const out = maskSecrets(text);
    assert.ok(!out.includes(SECRET), out);
    assert.match(out, /postgresql:\/user:\*\*\*@db\.example\/lights/);
    assert.match(out, /password=\*\*\* dbname=x/);
    assert.match(out, /Bearer \*\*\*/);
  });

  it('leaves ordinary messages alone and never throws', () => {
    const plain = 'SQLITE_FULL: database or disk is full at 2026-12-07T06:33:10.000Z (file /data/smart-lighting.db)';
    assert.equal(maskSecrets(plain), plain);
    assert.equal(maskSecrets(undefined), 'undefined');
    assert.equal(
      maskSecrets({
        toString: () => {
          throw new Error('x');
        },
      }),
      '',
    );
  });
});
