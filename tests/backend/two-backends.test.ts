// Statelessness: two backends on one database, sharing CA and JWT keys through one data
// directory, serve the same collectors and users with no sticky sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { startBackend, type Backend } from '../../backend/src/server.ts';
import { call, push, simpleBatch, userWithRole } from './api.ts';

let stack: Stack;
let b: Backend;
before(async () => {
  stack = await startStack();
  // B runs its maintenance tick every second (A none), to show a change made through A reach B.
  b = await startBackend({ ...stack.settings, port: 0, maintenanceIntervalSeconds: 1 }, quietLog('backend-b'));
});
after(async () => {
  await b?.close();
  await stack?.stop();
});

test('register via A, push via B, refresh via B, config via A', async () => {
  const a = stack.backend;
  assert.notEqual(a.url, b.url);
  assert.equal(a.pki.caCertPem, b.pki.caCertPem, 'same CA');
  const creds = (await registerCollector(stack, { name: 'x' })).creds; // through A
  const now = new Date().toISOString();
  const p = await push(b, creds, simpleBatch(creds.collectorId, { sysstat: [{ time: now, load1: 1 }] }));
  assert.equal(p.status, 201, p.text);
  const t = await call(b, '/api/v1/collectors/token', { method: 'POST', cert: creds, json: { refresh_token: creds.refreshToken } });
  assert.equal(t.status, 200, t.text);
  const cfg = await call(a, `/api/v1/config/${creds.collectorId}`, { cert: creds, token: t.body.access_token });
  assert.equal(cfg.status, 200, cfg.text);
  assert.match(cfg.text, /config_version = 1/);

  // An admin changes the config through B; the collector sees it through A, and B's pushes
  // report the new version.
  const admin = await userWithRole(a, 'admin');
  const put = await call(b, `/api/v1/collectors/${creds.collectorId}/config`, {
    method: 'PUT',
    token: admin.access,
    json: { collector: { interval_seconds: 30 } },
  });
  assert.equal(put.body.config_version, 2);
  const cfg2 = await call(a, `/api/v1/config/${creds.collectorId}`, { cert: creds, token: t.body.access_token });
  assert.match(cfg2.text, /config_version = 2/);
  const p2 = await push(b, creds, simpleBatch(creds.collectorId, { sysstat: [{ time: now, load1: 2 }] }), t.body.access_token);
  assert.equal(p2.body.config_version, 2);

  // A collector disabled through A is refused by B at once.
  await call(a, `/api/v1/collectors/${creds.collectorId}/disable`, { method: 'POST', token: admin.access });
  const p3 = await push(b, creds, simpleBatch(creds.collectorId, { sysstat: [{ time: now, load1: 3 }] }), t.body.access_token);
  assert.equal(p3.status, 403);
});

test('a user logged in on A works on B; logout on B ends it on A', async () => {
  const u = await userWithRole(stack.backend, 'viewer');
  assert.equal((await call(b, '/api/v1/auth/me', { token: u.access })).status, 200);
  const r = await call(b, '/api/v1/auth/refresh', { method: 'POST', json: { refresh_token: u.refresh } });
  assert.equal(r.status, 200);
  assert.equal((await call(b, '/api/v1/auth/logout', { method: 'POST', json: { refresh_token: r.body.refresh_token } })).status, 204);
  assert.equal((await call(stack.backend, '/api/v1/auth/me', { token: r.body.access_token })).status, 401);
});

test('a retention change through A reaches B on its next maintenance tick', async () => {
  const admin = await userWithRole(stack.backend, 'admin');
  const r = await call(stack.backend, '/api/v1/families/cpu/retention', { method: 'PUT', token: admin.access, json: { retention: '3d' } });
  assert.equal(r.status, 200);
  const seenByB = async (): Promise<number> =>
    (await call(b, '/api/v1/families', { token: admin.access })).body.families.find((f: { family: string }) => f.family === 'cpu')
      .retention_seconds;
  const deadline = Date.now() + 10_000;
  while ((await seenByB()) !== 3 * 86_400 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
  assert.equal(await seenByB(), 3 * 86_400);
});
