// API tokens for scripts: `Authorization: Bearer pga_api_…`, acting with their owner's role.
//   GET    /api/v1/api-tokens        own tokens (admin: everyone's)        own_tokens
//   POST   /api/v1/api-tokens        create; the token is shown once       own_tokens
//   DELETE /api/v1/api-tokens/{id}   revoke own (admin: any)               own_tokens
import { randomBytes } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { parseWith, idParam } from '../http/parse.ts';
import { actorName, principalOf, API_TOKEN_PREFIX, type RequireRole } from '../auth/user-auth.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { sha256Hex } from '../auth/hash.ts';

const createBody = z.strictObject({
  name: z.string().min(1).max(128),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

export function apiTokenRoutes(pool: pg.Pool, requireUser: RequireRole): Router {
  const router = Router();

  router.get('/api/v1/api-tokens', requireUser('own_tokens'), async (_req, res) => {
    const p = principalOf(res);
    const all = p.role === 'admin';
    const rows = (
      await pool.query(
        `SELECT t.id, t.name, t.prefix, u.username, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE $1 OR t.user_id = $2 ORDER BY t.id`,
        [all, p.userId],
      )
    ).rows;
    res.json({ api_tokens: rows });
  });

  router.post('/api/v1/api-tokens', requireUser('own_tokens'), express.json({ limit: '4kb' }), async (req, res) => {
    const body = parseWith(createBody, req.body, 'body');
    const p = principalOf(res);
    const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = (
      await pool.query(
        `INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(days => $5::int) END)
       RETURNING id, name, prefix, created_at, expires_at`,
        [p.userId, body.name, sha256Hex(token), token.slice(0, 12), body.expires_in_days ?? null],
      )
    ).rows[0];
    await recordAudit(pool, req, { actor: actorName(p), action: 'api_token.create', target: row.id, details: { name: body.name } });
    res.status(201).json({ ...row, token });
  });

  router.delete('/api/v1/api-tokens/:id', requireUser('own_tokens'), async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    const p = principalOf(res);
    const row = (
      await pool.query(
        `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND ($2 OR user_id = $3) RETURNING id`,
        [id, p.role === 'admin', p.userId],
      )
    ).rows[0];
    // Someone else's token is "not found", so ids of others' tokens are not confirmed.
    if (!row) throw new HttpError(404, 'not_found', 'no such API token');
    await recordAudit(pool, req, { actor: actorName(p), action: 'api_token.revoke', target: id });
    res.status(204).end();
  });

  return router;
}
