// JWT verification remembers tokens that passed; a remembered token must still expire on time,
// stay bound to its audience, and a changed byte must still be checked (and refused) in full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateJwtKeys } from './jwt-keys.ts';

test('a verified token is refused once it expires, for another audience, and when altered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-jwt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keys = loadOrCreateJwtKeys(dir);
  assert.equal(statSync(join(dir, 'jwt', readdirSync(join(dir, 'jwt'))[0])).mode & 0o777, 0o600);
  const token = keys.sign({ role: 'x' }, { subject: 'c1', audience: 'a', expiresInSeconds: 2 });
  assert.equal(keys.verify(token, 'a').sub, 'c1');
  assert.equal(keys.verify(token, 'a').sub, 'c1', 'again, from what was remembered');
  assert.throws(() => keys.verify(token, 'b'), { name: 'JsonWebTokenError' });
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'c2' })).toString('base64url')}.${s}`;
  assert.throws(() => keys.verify(forged, 'a'), { name: 'JsonWebTokenError' });
  assert.throws(() => { (keys.verify(token, 'a') as { sub?: string }).sub = 'c2'; }, TypeError, 'a remembered payload cannot be changed by a caller');
  // exp is whole seconds: wait past it.
  await new Promise((r) => setTimeout(r, (payload.exp * 1000 - Date.now()) + 50));
  assert.throws(() => keys.verify(token, 'a'), { name: 'TokenExpiredError' });
});
