// Authenticates a user request and enforces its role. Two credentials are accepted in
// `Authorization: Bearer …`:
//   - an access JWT (RS256, audience pganalytics-user) naming the user (sub) and its session
//     (sid); the session must not be revoked, so logout ends access at once;
//   - an API token `pga_api_…`, looked up by its SHA-256.
// Role and disabled flag are read from the database on every request: a demotion or a
// disabled account takes effect immediately, not when a token expires.
import type { Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { errorMessage } from '../../../common/errors.ts';
import { recordFoldedAudit } from '../audit/audit-log.ts';
import type { Logger } from '../../../common/log.ts';
import { can, type Permission, type Role } from './roles.ts';
import { USER_AUDIENCE, type JwtKeys } from './jwt-keys.ts';
import { sha256Hex } from './hash.ts';

export { USER_AUDIENCE };
export const API_TOKEN_PREFIX = 'pga_api_';

export interface Principal {
  userId: number;
  username: string;
  role: Role;
  via: { kind: 'session'; sessionId: number } | { kind: 'api_token'; tokenId: number; name: string };
}

/** How the audit log names whoever made a request. */
export function actorName(p: Principal): string {
  return p.via.kind === 'api_token' ? `api-token:${p.via.tokenId}:${p.username}` : `user:${p.username}`;
}

async function fromApiToken(pool: pg.Pool, token: string): Promise<Principal> {
  const row = (
    await pool.query(
      `SELECT t.id, t.name, t.revoked_at, t.expires_at <= now() AS expired,
            t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS stale,
            u.id AS user_id, u.username, u.role, u.disabled
       FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
      [sha256Hex(token)],
    )
  ).rows[0];
  if (!row) throw new HttpError(401, 'invalid_token', 'token is not valid');
  if (row.revoked_at) throw new HttpError(401, 'token_revoked', 'API token has been revoked');
  if (row.expired) throw new HttpError(401, 'token_expired', 'API token has expired');
  if (row.disabled) throw new HttpError(403, 'user_disabled', 'user is disabled');
  // last_used_at to the minute: one write per token per minute, not one per request.
  if (row.stale) await pool.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [row.id]);
  return { userId: row.user_id, username: row.username, role: row.role, via: { kind: 'api_token', tokenId: row.id, name: row.name } };
}

async function fromAccessToken(pool: pg.Pool, keys: JwtKeys, token: string): Promise<Principal> {
  let claims;
  try {
    claims = keys.verify(token, USER_AUDIENCE);
  } catch (err) {
    const expired = (err as Error).name === 'TokenExpiredError';
    throw new HttpError(401, expired ? 'token_expired' : 'invalid_token', expired ? 'token has expired' : 'token is not valid');
  }
  const userId = Number(claims.sub);
  const sid = Number((claims as { sid?: unknown }).sid);
  if (!Number.isSafeInteger(userId) || !Number.isSafeInteger(sid)) throw new HttpError(401, 'invalid_token', 'token is not valid');
  const row = (
    await pool.query(
      `SELECT u.username, u.role, u.disabled, s.revoked_at
       FROM users u JOIN user_sessions s ON s.user_id = u.id AND s.id = $2 WHERE u.id = $1`,
      [userId, sid],
    )
  ).rows[0];
  if (!row) throw new HttpError(401, 'invalid_token', 'token is not valid');
  if (row.revoked_at) throw new HttpError(401, 'token_revoked', 'session has ended (logged out or revoked)');
  if (row.disabled) throw new HttpError(403, 'user_disabled', 'user is disabled');
  return { userId, username: row.username, role: row.role, via: { kind: 'session', sessionId: sid } };
}

export type RequireRole = (permission: Permission) => RequestHandler;

/** `requireUser('read')` etc.: a middleware that authenticates and checks the permission.
 *  A refusal by role is audited (folded per actor, route and address): someone probing admin
 *  routes with a lesser account shows in the audit log. */
export function userAuth(pool: pg.Pool, keys: JwtKeys, log?: Logger): RequireRole {
  return (permission) => async (req: Request, res: Response, next) => {
    const m = /^Bearer ([A-Za-z0-9_\-.]{16,4096})$/.exec(req.headers.authorization ?? '');
    if (!m) throw new HttpError(401, 'token_required', 'Authorization: Bearer <access token or API token> is required');
    const principal = m[1].startsWith(API_TOKEN_PREFIX) ? await fromApiToken(pool, m[1]) : await fromAccessToken(pool, keys, m[1]);
    if (!can(principal.role, permission)) {
      // The route pattern, not the URL: ids and query strings would defeat the folding.
      const route = `${req.method} ${(req.route?.path as string | undefined) ?? req.path}`;
      await recordFoldedAudit(pool, req, {
        actor: actorName(principal),
        action: 'auth.forbidden',
        target: `${actorName(principal)} ${route}`,
        details: { permission, role: principal.role },
      }).catch((err: unknown) => log?.warn('audit failed', { error: errorMessage(err) }));
      throw new HttpError(403, 'forbidden', `role ${principal.role} may not do this`);
    }
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}
