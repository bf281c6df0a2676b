// User authentication: login, refresh rotation, logout, expired and revoked tokens, API
// tokens, disabled users, and the create-user command reading its password from stdin or env.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import { USER_AUDIENCE } from '../../backend/src/auth/user-auth.ts';
import { call, userWithRole } from './api.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

const me = (token: string) => call(stack.backend, '/api/v1/auth/me', { token });

test('login: wrong password and unknown user alike get 401, and both are audited', async () => {
  const u = await userWithRole(stack.backend, 'viewer');
  for (const username of [u.username, 'nobody-at-all']) {
    const r = await call(stack.backend, '/api/v1/auth/login', { method: 'POST', json: { username, password: 'wrong password!' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_credentials');
  }
  const audit = await stack.db.query("SELECT target FROM audit_log WHERE action = 'auth.login_failed' ORDER BY id");
  assert.deepEqual(audit.rows.map((r) => r.target).slice(-2), [u.username, '(unknown)'], 'an unknown name is not stored');
  const hash = (await stack.db.query('SELECT password_hash FROM users WHERE id = $1', [u.id])).rows[0].password_hash;
  assert.match(hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/, 'scrypt with its parameters');
  assert.equal((await call(stack.backend, '/api/v1/auth/login', { method: 'POST', json: { username: u.username } })).status, 400);
});

test('access token: distinct audience, expiry, and a collector token is not a user token', async () => {
  const u = await userWithRole(stack.backend, 'viewer');
  const claims = JSON.parse(Buffer.from(u.access.split('.')[1], 'base64url').toString());
  assert.equal(claims.aud, USER_AUDIENCE);
  assert.equal((await me(u.access)).body.username, u.username);
  const expired = stack.backend.keys.sign({ sid: claims.sid }, { subject: claims.sub, audience: USER_AUDIENCE, expiresInSeconds: -10 });
  assert.equal((await me(expired)).body.error.code, 'token_expired');
  const collector = (await registerCollector(stack, { name: 'c' })).creds;
  const r = await me(collector.accessToken);
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_token');
  const wrongSession = stack.backend.keys.sign({ sid: 999_999 }, { subject: claims.sub, audience: USER_AUDIENCE, expiresInSeconds: 60 });
  assert.equal((await me(wrongSession)).status, 401);
});

test('refresh rotates the refresh token; logout ends the session and its access tokens at once', async () => {
  const u = await userWithRole(stack.backend, 'user');
  const r1 = await call(stack.backend, '/api/v1/auth/refresh', { method: 'POST', json: { refresh_token: u.refresh } });
  assert.equal(r1.status, 200);
  assert.notEqual(r1.body.refresh_token, u.refresh);
  assert.equal((await me(r1.body.access_token)).status, 200);
  const reused = await call(stack.backend, '/api/v1/auth/refresh', { method: 'POST', json: { refresh_token: u.refresh } });
  assert.equal(reused.status, 401);
  assert.equal(reused.body.error.code, 'invalid_refresh_token');
  assert.equal(
    (await call(stack.backend, '/api/v1/auth/logout', { method: 'POST', json: { refresh_token: r1.body.refresh_token } })).status,
    204,
  );
  const after = await me(r1.body.access_token);
  assert.equal(after.status, 401);
  assert.equal(after.body.error.code, 'token_revoked');
  assert.equal((await me(u.access)).body.error.code, 'token_revoked', 'the first access token shares the session');
  assert.equal(
    (await call(stack.backend, '/api/v1/auth/refresh', { method: 'POST', json: { refresh_token: r1.body.refresh_token } })).status,
    401,
  );
});

test('API tokens: shown once, work as Bearer, refused once revoked or expired', async () => {
  const u = await userWithRole(stack.backend, 'user');
  const t = await call(stack.backend, '/api/v1/api-tokens', {
    method: 'POST',
    token: u.access,
    json: { name: 'cron', expires_in_days: 1 },
  });
  assert.equal(t.status, 201);
  assert.equal((await me(t.body.token)).body.via, 'api_token');
  const list = await call(stack.backend, '/api/v1/api-tokens', { token: u.access });
  assert.ok(!list.text.includes(t.body.token), 'the token itself is never listed again');
  await stack.db.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [t.body.id]);
  assert.equal((await me(t.body.token)).body.error.code, 'token_expired');
  const t2 = await call(stack.backend, '/api/v1/api-tokens', { method: 'POST', token: u.access, json: { name: 'cron2' } });
  assert.equal((await call(stack.backend, `/api/v1/api-tokens/${t2.body.id}`, { method: 'DELETE', token: u.access })).status, 204);
  assert.equal((await me(t2.body.token)).body.error.code, 'token_revoked');
  assert.equal((await me('pga_api_forged-token-that-does-not-exist')).body.error.code, 'invalid_token');
});

test('a disabled user is refused at once; demotion takes effect at once', async () => {
  const admin = await userWithRole(stack.backend, 'admin');
  const u = await userWithRole(stack.backend, 'admin');
  assert.equal((await call(stack.backend, '/api/v1/users', { token: u.access })).status, 200);
  await call(stack.backend, `/api/v1/users/${u.id}`, { method: 'PATCH', token: admin.access, json: { role: 'viewer' } });
  assert.equal((await call(stack.backend, '/api/v1/users', { token: u.access })).status, 403);
  await call(stack.backend, `/api/v1/users/${u.id}`, { method: 'PATCH', token: admin.access, json: { disabled: true } });
  const r = await me(u.access);
  assert.equal(r.status, 401, 'disabling revoked the sessions');
  const self = await call(stack.backend, `/api/v1/users/${admin.id}`, { method: 'PATCH', token: admin.access, json: { role: 'viewer' } });
  assert.equal(self.status, 409);
});

test('create-user: password from PGA_ADMIN_PASSWORD or stdin, never argv, never printed', () => {
  const root = join(import.meta.dirname, '..', '..');
  const env = { ...process.env, PGA_DATABASE_URL: stack.settings.databaseUrl, PGA_LOG_LEVEL: 'error' };
  const secret = 'amber falcon river 2931';
  const viaStdin = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'backend/src/main.ts', 'create-user', '--username', 'root1', '--role', 'admin'],
    { cwd: root, env, input: `${secret}\n`, encoding: 'utf8' },
  );
  assert.equal(viaStdin.status, 0, viaStdin.stderr);
  const viaEnv = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'backend/src/main.ts', 'create-user', '--username', 'root2', '--role', 'viewer'],
    { cwd: root, env: { ...env, PGA_ADMIN_PASSWORD: `${secret}!` }, encoding: 'utf8' },
  );
  assert.equal(viaEnv.status, 0, viaEnv.stderr);
  for (const out of [viaStdin.stdout, viaStdin.stderr, viaEnv.stdout, viaEnv.stderr]) assert.ok(!out.includes(secret));
  const short = spawnSync(process.execPath, ['--import', 'tsx', 'backend/src/main.ts', 'create-user', '--username', 'root3'], {
    cwd: root,
    env,
    input: 'short\n',
    encoding: 'utf8',
  });
  assert.notEqual(short.status, 0, 'a short password is refused');
  return call(stack.backend, '/api/v1/auth/login', { method: 'POST', json: { username: 'root1', password: secret } }).then((r) => {
    assert.equal(r.status, 200);
    assert.equal(r.body.user.role, 'admin');
  });
});
