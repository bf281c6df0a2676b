// Users and their sessions.
//   POST   /api/v1/auth/login     username + password → access JWT + refresh token (throttled)
//   POST   /api/v1/auth/refresh   refresh token → new access JWT + new refresh token (rotated;
//                                 presenting a retired one ends the whole session)
//   POST   /api/v1/auth/logout    revokes the session of a refresh token (and its access tokens)
//   GET    /api/v1/auth/me        who am I                                   read
//   GET    /api/v1/users          list                                       admin
//   POST   /api/v1/users          create                                     admin
//   PATCH  /api/v1/users/{id}     role, disabled, password, revoke_api_tokens  admin
//   DELETE /api/v1/users/{id}     delete                                     admin
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { Router } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { parseWith, idParam } from '../http/parse.ts';
import { actorName, principalOf, USER_AUDIENCE, type RequireRole } from '../auth/user-auth.ts';
import type { JwtKeys } from '../auth/jwt-keys.ts';
import { recordAudit, recordFoldedAudit, UNKNOWN_ACCOUNT } from '../audit/audit-log.ts';
import { type LoginThrottle, REFUSAL_DELAY_MS, type FleetCount, type LoginBlock } from '../auth/login-throttle.ts';
import type { LoginThrottleStore } from '../auth/login-throttle-store.ts';
import { DUMMY_HASH_PROMISE, hashPassword, SLOT_HELD, verifyPassword, type HashSlots } from './password.ts';
import { createUser, passwordSchema, roleSchema, usernameSchema } from './create-user.ts';
import { sha256Hex } from '../auth/hash.ts';

export interface UserRouteDeps {
  pool: pg.Pool;
  keys: JwtKeys;
  requireUser: RequireRole;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  throttle: LoginThrottle;
  /** The throttle's counts for the whole fleet. */
  throttleStore: LoginThrottleStore;
  /** This backend's share of libuv's threads for scrypt. */
  hashSlots: HashSlots;
}

const newRefreshToken = (): string => `pga_urefresh_${randomBytes(32).toString('base64url')}`;

/** A refused login (throttled, or no hashing slot free) waits REFUSAL_DELAY_MS. */
async function refuseSlowly(err: unknown): Promise<never> {
  if (err instanceof HttpError && err.status === 429) await sleep(REFUSAL_DELAY_MS);
  throw err;
}

const loginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const refreshBody = z.strictObject({ refresh_token: z.string().min(16).max(256) });
const createBody = z.strictObject({ username: usernameSchema, password: passwordSchema, role: roleSchema });
// A new password ends the user's sessions, and by default its API tokens too (a reset usually
// follows a compromise); revoke_api_tokens: false keeps them, true ends them without a reset.
const patchBody = z
  .strictObject({
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
    password: passwordSchema.optional(),
    revoke_api_tokens: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

export function userRoutes(deps: UserRouteDeps): Router {
  const { pool, keys, requireUser } = deps;
  const router = Router();
  const json = express.json({ limit: '16kb' });

  const tokens = (userId: number, sessionId: number, refreshToken: string) => ({
    access_token: keys.sign(
      { sid: sessionId },
      { subject: String(userId), audience: USER_AUDIENCE, expiresInSeconds: deps.accessTtlSeconds },
    ),
    token_type: 'Bearer',
    expires_in: deps.accessTtlSeconds,
    refresh_token: refreshToken,
  });

  const findUser = async (username: string) =>
    (await pool.query('SELECT id, username, role, password_hash, disabled FROM users WHERE username = $1', [username])).rows[0];

  /** The refusal of a throttled login, audited once per burst; the audit names an account only
   *  if the name is one. */
  const throttled = async (req: express.Request, username: string, block: LoginBlock): Promise<HttpError> => {
    if (block.firstRefusal) {
      const target = block.by === 'username' ? ((await findUser(username))?.username ?? UNKNOWN_ACCOUNT) : null;
      await recordAudit(pool, req, {
        actor: 'anonymous',
        action: 'auth.login_throttled',
        target,
        details: { by: block.by, failures: block.failures, retry_after_s: block.retryAfterSeconds },
      });
    }
    return new HttpError(429, 'too_many_attempts', 'too many failed logins; retry later', undefined, {
      'Retry-After': String(block.retryAfterSeconds),
    });
  };

  router.post('/api/v1/auth/login', json, async (req, res) => {
    const body = parseWith(loginBody, req.body, 'body');
    const address = req.ip ?? 'unknown';
    // Throttled before any lookup or hash: a blocked guesser costs no scrypt and no query.
    const block = deps.throttle.check(body.username, address);
    if (block) await refuseSlowly(await throttled(req, body.username, block));
    type Outcome = 'failed' | 'succeeded' | 'abandoned';
    let outcome = 'abandoned' as Outcome;
    let user;
    let fleetCounts: FleetCount[] = [];
    deps.throttle.begin(body.username, address);
    try {
      // The whole check holds a hashing slot, lookup and audit included: logins use at most that
      // many pool connections and threads, whatever arrives (the rest wait or get 429).
      user = await deps.hashSlots
        .run(async () => {
          // Another backend may have counted this name's or address's failures: the fleet's budget.
          const fleetBlock = await deps.throttleStore.check(body.username, address);
          // Thrown at once: the pause (refuseSlowly below) comes after the slot is given back.
          if (fleetBlock) throw await throttled(req, body.username, fleetBlock);
          const found = await findUser(body.username);
          // Unknown users cost a scrypt too, so response time does not reveal which names exist.
          const ok = await verifyPassword(body.password, found?.password_hash ?? (await DUMMY_HASH_PROMISE), SLOT_HELD);
          outcome = found && ok && !found.disabled ? 'succeeded' : ('failed' as Outcome);
          // Only a real account's name is stored (a password typed into the username field is
          // not), and repeats fold into one row per account and address.
          if (outcome === 'failed') {
            await recordFoldedAudit(pool, req, {
              actor: 'anonymous',
              action: 'auth.login_failed',
              target: found?.username ?? UNKNOWN_ACCOUNT,
            });
            fleetCounts = await deps.throttleStore.fail(body.username, address);
          } else if (outcome === 'succeeded') await deps.throttleStore.succeed(body.username);
          return found;
        })
        .catch(refuseSlowly);
    } finally {
      if (outcome === 'failed') deps.throttle.fail(body.username, address);
      else if (outcome === 'succeeded') deps.throttle.succeed(body.username, address);
      else deps.throttle.abandon(body.username, address);
      // After this process counted the failure itself: the fleet's count includes it.
      deps.throttle.adopt(fleetCounts);
    }
    if (outcome === 'failed') throw new HttpError(401, 'invalid_credentials', 'username or password is wrong, or the user is disabled');
    const refreshToken = newRefreshToken();
    const session = (
      await pool.query(
        `INSERT INTO user_sessions (user_id, refresh_token_hash, expires_at, source_ip)
       VALUES ($1, $2, now() + make_interval(secs => $3), $4) RETURNING id`,
        [user.id, sha256Hex(refreshToken), deps.refreshTtlSeconds, req.ip ?? null],
      )
    ).rows[0];
    await pool.query('UPDATE users SET last_login_at = now() WHERE id = $1', [user.id]);
    // Retired refresh tokens matter only while their session could still be refreshed.
    await pool.query(
      `DELETE FROM user_session_retired_tokens r USING user_sessions s
      WHERE r.session_id = s.id AND s.user_id = $1 AND s.expires_at < now()`,
      [user.id],
    );
    await recordAudit(pool, req, {
      actor: `user:${user.username}`,
      action: 'auth.login',
      target: user.id,
      details: { session_id: session.id },
    });
    res.json({ ...tokens(user.id, Number(session.id), refreshToken), user: { id: user.id, username: user.username, role: user.role } });
  });

  router.post('/api/v1/auth/refresh', json, async (req, res) => {
    const body = parseWith(refreshBody, req.body, 'body');
    const given = sha256Hex(body.refresh_token);
    const next = newRefreshToken();
    // Rotation: the old refresh token stops working the moment the new one is issued, and is
    // remembered as retired, in the same statement.
    const row = (
      await pool.query(
        `WITH s AS (
         UPDATE user_sessions s SET refresh_token_hash = $2, refreshed_at = now()
           FROM users u
          WHERE s.refresh_token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
            AND u.id = s.user_id AND NOT u.disabled
          RETURNING s.id, s.user_id),
       retired AS (INSERT INTO user_session_retired_tokens (token_hash, session_id) SELECT $1, id FROM s)
       SELECT id, user_id FROM s`,
        [given, sha256Hex(next)],
      )
    ).rows[0];
    if (row) {
      res.json(tokens(row.user_id, Number(row.id), next));
      return;
    }
    // A retired token presented again: it was copied (or the client replayed it). Either party
    // may be the thief, so the whole session ends: its current refresh token and access tokens.
    const reused = (
      await pool.query(
        `UPDATE user_sessions s SET revoked_at = coalesce(s.revoked_at, now()), revoked_reason = coalesce(s.revoked_reason, 'refresh_token_reuse')
         FROM user_session_retired_tokens r, users u
        WHERE r.token_hash = $1 AND s.id = r.session_id AND u.id = s.user_id
        RETURNING s.id, u.username`,
        [given],
      )
    ).rows[0];
    if (reused) {
      await recordFoldedAudit(pool, req, {
        actor: `user:${reused.username}`,
        action: 'auth.refresh_token_reuse',
        target: reused.id,
        details: { session_revoked: true },
      });
    }
    throw new HttpError(401, 'invalid_refresh_token', 'refresh token is unknown, expired or revoked');
  });

  router.post('/api/v1/auth/logout', json, async (req, res) => {
    const body = parseWith(refreshBody, req.body, 'body');
    const row = (
      await pool.query(
        `UPDATE user_sessions s SET revoked_at = now(), revoked_reason = 'logout' FROM users u
        WHERE s.refresh_token_hash = $1 AND s.revoked_at IS NULL AND u.id = s.user_id RETURNING s.id, u.username`,
        [sha256Hex(body.refresh_token)],
      )
    ).rows[0];
    if (row) await recordAudit(pool, req, { actor: `user:${row.username}`, action: 'auth.logout', target: row.id });
    // 204 either way: logout does not tell whether a token was valid.
    res.status(204).end();
  });

  router.get('/api/v1/auth/me', requireUser('read'), (_req, res) => {
    const p = principalOf(res);
    res.json({ id: p.userId, username: p.username, role: p.role, via: p.via.kind });
  });

  router.get('/api/v1/users', requireUser('admin'), async (_req, res) => {
    const rows = (await pool.query('SELECT id, username, role, disabled, created_at, last_login_at FROM users ORDER BY id')).rows;
    res.json({ users: rows });
  });

  router.post('/api/v1/users', requireUser('admin'), json, async (req, res) => {
    const body = parseWith(createBody, req.body, 'body');
    const id = await createUser(pool, body, deps.hashSlots);
    await recordAudit(pool, req, {
      actor: actorName(principalOf(res)),
      action: 'user.create',
      target: id,
      details: { username: body.username, role: body.role },
    });
    res.status(201).json({ id, username: body.username, role: body.role });
  });

  router.patch('/api/v1/users/:id', requireUser('admin'), json, async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    const body = parseWith(patchBody, req.body, 'body');
    const me = principalOf(res);
    if (id === me.userId && ((body.role !== undefined && body.role !== 'admin') || body.disabled)) {
      throw new HttpError(409, 'cannot_demote_self', 'an admin may not demote or disable itself');
    }
    const hash = body.password ? await hashPassword(body.password, deps.hashSlots) : null;
    const row = (
      await pool.query(
        `UPDATE users SET role = coalesce($2, role), disabled = coalesce($3, disabled), password_hash = coalesce($4, password_hash)
        WHERE id = $1 RETURNING id, username, role, disabled`,
        [id, body.role ?? null, body.disabled ?? null, hash],
      )
    ).rows[0];
    if (!row) throw new HttpError(404, 'not_found', 'no such user');
    // A disabled user or a new password ends every session.
    if (body.disabled || hash) {
      await pool.query('UPDATE user_sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL', [
        id,
        hash ? 'password_reset' : 'user_disabled',
      ]);
    }
    const endTokens = body.revoke_api_tokens ?? hash !== null;
    const tokensRevoked = endTokens
      ? ((await pool.query('UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [id])).rowCount ?? 0)
      : 0;
    await recordAudit(pool, req, {
      actor: actorName(me),
      action: 'user.update',
      target: id,
      details: { role: body.role, disabled: body.disabled, password_changed: hash !== null, api_tokens_revoked: tokensRevoked },
    });
    res.json(row);
  });

  router.delete('/api/v1/users/:id', requireUser('admin'), async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    const me = principalOf(res);
    if (id === me.userId) throw new HttpError(409, 'cannot_delete_self', 'an admin may not delete itself');
    const row = (await pool.query('DELETE FROM users WHERE id = $1 RETURNING username', [id])).rows[0];
    if (!row) throw new HttpError(404, 'not_found', 'no such user');
    await recordAudit(pool, req, { actor: actorName(me), action: 'user.delete', target: id, details: { username: row.username } });
    res.status(204).end();
  });

  return router;
}
