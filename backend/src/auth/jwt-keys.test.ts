// JWT verification remembers tokens that passed; a remembered token must still expire on time,
// stay bound to its audience, and a changed byte must still be checked (and refused) in full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateJwtKeys } from './jwt-keys.ts';

test('a verified token is refused once it expires, for another audience, and when altered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-jwt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keys = loadOrCreateJwtKeys(dir, { maxLifetimeSeconds: { a: 60, b: 60 } });
  assert.equal(statSync(join(dir, 'jwt', readdirSync(join(dir, 'jwt'))[0])).mode & 0o777, 0o600);
  const token = keys.sign({ role: 'x' }, { subject: 'c1', audience: 'a', expiresInSeconds: 2 });
  assert.equal(keys.verify(token, 'a').sub, 'c1');
  assert.equal(keys.verify(token, 'a').sub, 'c1', 'again, from what was remembered');
  assert.throws(() => keys.verify(token, 'b'), { name: 'JsonWebTokenError' });
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'c2' })).toString('base64url')}.${s}`;
  assert.throws(() => keys.verify(forged, 'a'), { name: 'JsonWebTokenError' });
  assert.throws(
    () => {
      (keys.verify(token, 'a') as { sub?: string }).sub = 'c2';
    },
    TypeError,
    'a remembered payload cannot be changed by a caller',
  );
  // exp is whole seconds: wait past it.
  await new Promise((r) => setTimeout(r, payload.exp * 1000 - Date.now() + 50));
  assert.throws(() => keys.verify(token, 'a'), { name: 'TokenExpiredError' });
});

test('a signed token without exp or iat, issued in the future, or living too long is refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-jwt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keys = loadOrCreateJwtKeys(dir, { maxLifetimeSeconds: { a: 900 } });
  const now = Math.floor(Date.now() / 1000);
  // The signer's own key, so only the claims are wrong.
  const file = join(dir, 'jwt', readdirSync(join(dir, 'jwt'))[0]);
  const kid = jwt.decode(keys.sign({}, { subject: 's', audience: 'a', expiresInSeconds: 60 }), { complete: true })!.header.kid;
  const mint = (claims: object) =>
    jwt.sign({ iss: 'pganalytics', aud: 'a', sub: 's', ...claims }, readFileSync(file), {
      algorithm: 'RS256',
      keyid: kid,
      noTimestamp: !('iat' in claims),
    });
  assert.equal(keys.verify(mint({ iat: now, exp: now + 900 }), 'a').sub, 's', 'the configured lifetime is accepted');
  assert.equal(keys.verify(mint({ iat: now + 30, exp: now + 300 }), 'a').sub, 's', 'a small clock skew is accepted');
  for (const [claims, why] of [
    [{ iat: now }, /no exp/],
    [{ exp: now + 60 }, /no iat/],
    [{ iat: now + 3600, exp: now + 3700 }, /future/],
    [{ iat: now, exp: now + 901 }, /longer/],
    [{ iat: now - 10, exp: now + 86_400 * 365 }, /longer/],
  ] as const) {
    assert.throws(() => keys.verify(mint(claims), 'a'), why);
  }
  assert.throws(
    () => keys.verify(keys.sign({}, { subject: 's', audience: 'b', expiresInSeconds: 60 }), 'b'),
    /not accepted/,
    'an audience without a lifetime is refused',
  );
});
