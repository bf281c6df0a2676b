// Role matrix: every user route × no auth, viewer, user, admin (and a user's API token).
// A caller without the permission gets 401/403 and changes nothing (same table fingerprint, no
// audit row but the refusal's own: a 403 is audited, folded per caller and route); a caller with
// it gets the route's success status; every change is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import type { Permission } from '../../backend/src/auth/roles.ts';
import { call, push, simpleBatch, userWithRole, type LoggedIn } from './api.ts';

let stack: Stack;
let a: Credentials;
let serverId: number;
const users: Record<'viewer' | 'user' | 'admin', LoggedIn> = {} as never;
let apiToken: string; // belongs to the user-role user

before(async () => {
  stack = await startStack();
  a = (await registerCollector(stack, { name: 'a' })).creds;
  const now = new Date().toISOString();
  const r = await push(
    stack.backend,
    a,
    simpleBatch(a.collectorId, {
      pg_stats_database: [{ time: now, instance: 'main', datname: 'postgres', xact_commit: 5, interval_s: 60 }],
    }),
  );
  assert.equal(r.status, 201, r.text);
  serverId = r.body && (await stack.db.query('SELECT server_id FROM collectors WHERE id = $1', [a.collectorId])).rows[0].server_id;
  for (const role of ['viewer', 'user', 'admin'] as const) users[role] = await userWithRole(stack.backend, role);
  const t = await call(stack.backend, '/api/v1/api-tokens', { method: 'POST', token: users.user.access, json: { name: 'script' } });
  assert.equal(t.status, 201, t.text);
  assert.match(t.body.token, /^pga_api_/);
  apiToken = t.body.token;
});
after(async () => {
  await stack?.stop();
});

/** Everything a refused request must not have changed. */
async function fingerprint(): Promise<string> {
  const r = await stack.db.query(`SELECT
    (SELECT count(*) FROM audit_log WHERE action <> 'auth.forbidden') AS audit,
    (SELECT string_agg(id || role || disabled, ',' ORDER BY id) FROM users) AS users,
    (SELECT string_agg(id || coalesce(revoked_at::text, '-'), ',' ORDER BY id) FROM api_tokens) AS tokens,
    (SELECT string_agg(id || status, ',' ORDER BY id) FROM collectors) AS collectors,
    (SELECT sum(version) FROM collector_configs) AS config,
    (SELECT string_agg(id || revoked::text || expires_at::text, ',' ORDER BY id) FROM enrolment_tokens) AS enrol,
    (SELECT string_agg(family || retention, ',' ORDER BY family) FROM metric_families) AS retention`);
  return JSON.stringify(r.rows[0]);
}

interface Case {
  name: string;
  needs: Permission;
  /** Builds the request; called once per caller, so destructive routes get a fresh target. */
  make(): Promise<{ method: string; path: string; json?: unknown }>;
  ok: number;
}

const hour = (h: number): string => new Date(Date.now() + h * 3_600_000).toISOString();
let seq = 0;
const fresh = async (): Promise<string> => (await registerCollector(stack, { name: `m${++seq}` })).creds.collectorId;
const enrolId = async (): Promise<number> =>
  (await call(stack.backend, '/api/v1/enrolment-tokens', { method: 'POST', token: users.admin.access, json: {} })).body.id;
const victim = async (): Promise<number> => (await userWithRole(stack.backend, 'viewer')).id;
const ownToken = (owner: () => string) => async (): Promise<number> =>
  (await call(stack.backend, '/api/v1/api-tokens', { method: 'POST', token: owner(), json: { name: 'victim' } })).body.id;

const CASES: Case[] = [
  { name: 'me', needs: 'read', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/auth/me' }) },
  { name: 'list collectors', needs: 'read', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/collectors' }) },
  { name: 'collector detail', needs: 'read', ok: 200, make: async () => ({ method: 'GET', path: `/api/v1/collectors/${a.collectorId}` }) },
  {
    name: 'collector config',
    needs: 'read',
    ok: 200,
    make: async () => ({ method: 'GET', path: `/api/v1/collectors/${a.collectorId}/config` }),
  },
  { name: 'servers', needs: 'read', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/servers' }) },
  { name: 'server', needs: 'read', ok: 200, make: async () => ({ method: 'GET', path: `/api/v1/servers/${serverId}` }) },
  {
    name: 'metrics',
    needs: 'read',
    ok: 200,
    make: async () => ({
      method: 'GET',
      path: `/api/v1/servers/${serverId}/metrics?family=pg_stats_database&from=${hour(-1)}&to=${hour(1)}`,
    }),
  },
  { name: 'families', needs: 'read', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/families' }) },
  { name: 'list API tokens', needs: 'own_tokens', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/api-tokens' }) },
  {
    name: 'create API token',
    needs: 'own_tokens',
    ok: 201,
    make: async () => ({ method: 'POST', path: '/api/v1/api-tokens', json: { name: 'x' } }),
  },
  { name: 'list users', needs: 'admin', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/users' }) },
  {
    name: 'create user',
    needs: 'admin',
    ok: 201,
    make: async () => ({
      method: 'POST',
      path: '/api/v1/users',
      json: { username: `new-${++seq}`, password: 'a long enough password', role: 'viewer' },
    }),
  },
  {
    name: 'change user',
    needs: 'admin',
    ok: 200,
    make: async () => ({ method: 'PATCH', path: `/api/v1/users/${await victim()}`, json: { role: 'user' } }),
  },
  { name: 'delete user', needs: 'admin', ok: 204, make: async () => ({ method: 'DELETE', path: `/api/v1/users/${await victim()}` }) },
  { name: 'audit log', needs: 'admin', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/audit-log' }) },
  {
    name: 'disable collector',
    needs: 'admin',
    ok: 200,
    make: async () => ({ method: 'POST', path: `/api/v1/collectors/${await fresh()}/disable` }),
  },
  {
    name: 'enable collector',
    needs: 'admin',
    ok: 200,
    make: async () => ({ method: 'POST', path: `/api/v1/collectors/${await fresh()}/enable` }),
  },
  {
    name: 'revoke collector',
    needs: 'admin',
    ok: 200,
    make: async () => ({ method: 'POST', path: `/api/v1/collectors/${await fresh()}/revoke` }),
  },
  {
    name: 'delete collector',
    needs: 'admin',
    ok: 204,
    make: async () => ({ method: 'DELETE', path: `/api/v1/collectors/${await fresh()}` }),
  },
  {
    name: 'put config',
    needs: 'admin',
    ok: 200,
    make: async () => ({
      method: 'PUT',
      path: `/api/v1/collectors/${a.collectorId}/config`,
      json: { collector: { interval_seconds: 30 } },
    }),
  },
  { name: 'list enrolment tokens', needs: 'admin', ok: 200, make: async () => ({ method: 'GET', path: '/api/v1/enrolment-tokens' }) },
  {
    name: 'create enrolment token',
    needs: 'admin',
    ok: 201,
    make: async () => ({ method: 'POST', path: '/api/v1/enrolment-tokens', json: { uses: 2 } }),
  },
  {
    name: 'expire enrolment token',
    needs: 'admin',
    ok: 204,
    make: async () => ({ method: 'POST', path: `/api/v1/enrolment-tokens/${await enrolId()}/expire` }),
  },
  {
    name: 'revoke enrolment token',
    needs: 'admin',
    ok: 204,
    make: async () => ({ method: 'DELETE', path: `/api/v1/enrolment-tokens/${await enrolId()}` }),
  },
  {
    name: 'set retention',
    needs: 'admin',
    ok: 200,
    make: async () => ({ method: 'PUT', path: '/api/v1/families/sysstat/retention', json: { retention: `${10 + ++seq}d` } }),
  },
];

test('every route × every role × no auth', async () => {
  const callers: { name: string; token: () => string | undefined; grants: Permission[] }[] = [
    { name: 'no auth', token: () => undefined, grants: [] },
    { name: 'viewer', token: () => users.viewer.access, grants: ['read'] },
    { name: 'user', token: () => users.user.access, grants: ['read', 'own_tokens'] },
    { name: 'user API token', token: () => apiToken, grants: ['read', 'own_tokens'] },
    { name: 'admin', token: () => users.admin.access, grants: ['read', 'own_tokens', 'admin'] },
  ];
  let checked = 0;
  for (const c of CASES) {
    for (const who of callers) {
      const req = await c.make();
      const before = await fingerprint();
      const auditBefore = Number((await stack.db.query('SELECT count(*) FROM audit_log')).rows[0].count);
      const r = await call(stack.backend, req.path, { method: req.method, json: req.json, token: who.token() });
      const label = `${c.name} as ${who.name}: ${req.method} ${req.path} → ${r.status} ${r.text.slice(0, 200)}`;
      if (who.grants.includes(c.needs)) {
        assert.equal(r.status, c.ok, label);
        if (req.method !== 'GET') {
          const audited = Number((await stack.db.query('SELECT count(*) FROM audit_log')).rows[0].count);
          assert.ok(audited > auditBefore, `${label}: the change is in the audit log`);
        }
      } else {
        assert.equal(r.status, who.name === 'no auth' ? 401 : 403, label);
        assert.equal(r.body.error.code, who.name === 'no auth' ? 'token_required' : 'forbidden', label);
        assert.equal(await fingerprint(), before, `${label}: nothing changed`);
        if (who.name !== 'no auth') {
          const refusal = await stack.db.query("SELECT actor, details FROM audit_log WHERE action = 'auth.forbidden' AND target LIKE $1", [
            `%${req.method} %`,
          ]);
          assert.ok(
            refusal.rows.some((row) => row.details.permission === c.needs),
            `${label}: the refusal is audited`,
          );
        }
      }
      checked++;
    }
  }
  assert.equal(checked, CASES.length * callers.length);
});

test('API tokens: own ones only for users; revoke own; admin sees all', async () => {
  const mine = ownToken(() => users.user.access);
  const id = await mine();
  const other = await ownToken(() => users.admin.access)();
  const list = await call(stack.backend, '/api/v1/api-tokens', { token: users.user.access });
  assert.ok(list.body.api_tokens.every((t: { username: string }) => t.username === users.user.username));
  assert.ok(
    !JSON.stringify(list.body).includes('pga_api_') || list.body.api_tokens.every((t: { prefix: string }) => t.prefix.length === 12),
    'only prefixes are listed',
  );
  assert.equal((await call(stack.backend, `/api/v1/api-tokens/${other}`, { method: 'DELETE', token: users.user.access })).status, 404);
  assert.equal((await call(stack.backend, `/api/v1/api-tokens/${id}`, { method: 'DELETE', token: users.user.access })).status, 204);
  const all = await call(stack.backend, '/api/v1/api-tokens', { token: users.admin.access });
  assert.ok(all.body.api_tokens.some((t: { username: string }) => t.username === users.user.username));
  const stored = await stack.db.query('SELECT token_hash FROM api_tokens');
  assert.ok(
    stored.rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash)),
    'tokens stored as SHA-256',
  );
});

test('audit log names who, what, when and from where', async () => {
  const r = await call(stack.backend, '/api/v1/audit-log?action=collector.config_update&limit=5', { token: users.admin.access });
  assert.equal(r.status, 200);
  const e = r.body.entries[0];
  assert.equal(e.actor, `user:${users.admin.username}`);
  assert.equal(e.target, a.collectorId);
  assert.match(e.source_ip, /127\.0\.0\.1/);
  assert.ok(e.at);
  assert.equal((await call(stack.backend, '/api/v1/audit-log?limit=0', { token: users.admin.access })).status, 400);
});
