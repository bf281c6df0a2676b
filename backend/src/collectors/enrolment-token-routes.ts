// Enrolment tokens, managed by admins. A token is shown once; only its SHA-256 is stored.
//   GET    /api/v1/enrolment-tokens              list with state (active, used_up, expired, revoked)
//   POST   /api/v1/enrolment-tokens              create {uses?, ttl_hours?, description?}
//   POST   /api/v1/enrolment-tokens/{id}/expire  expire now
//   DELETE /api/v1/enrolment-tokens/{id}         revoke
import express, { Router } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { parseWith, idParam } from '../http/parse.ts';
import { actorName, principalOf, type RequireRole } from '../auth/user-auth.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { createEnrolmentToken } from '../registration/routes.ts';

/** Bounds of a new token's uses and lifetime, shared with `backend create-enrolment-token`. */
export const MAX_ENROLMENT_USES = 100_000;
export const MAX_ENROLMENT_TTL_HOURS = 24 * 365;

const createBody = z.strictObject({
  uses: z.number().int().min(1).max(MAX_ENROLMENT_USES).default(1),
  ttl_hours: z.number().int().min(1).max(MAX_ENROLMENT_TTL_HOURS).default(24),
  description: z.string().max(256).default(''),
});

export function enrolmentTokenRoutes(pool: pg.Pool, requireUser: RequireRole): Router {
  const router = Router();
  const admin = requireUser('admin');

  router.get('/api/v1/enrolment-tokens', admin, async (_req, res) => {
    const rows = (
      await pool.query(
        `SELECT id, description, uses_left, uses_total, expires_at, revoked, created_at, created_by,
              CASE WHEN revoked THEN 'revoked' WHEN expires_at <= now() THEN 'expired'
                   WHEN uses_left = 0 THEN 'used_up' ELSE 'active' END AS state
         FROM enrolment_tokens ORDER BY id DESC`,
      )
    ).rows;
    res.json({ enrolment_tokens: rows });
  });

  router.post('/api/v1/enrolment-tokens', admin, express.json({ limit: '4kb' }), async (req, res) => {
    const body = parseWith(createBody, req.body ?? {}, 'body');
    const actor = actorName(principalOf(res));
    const { token, ...row } = await createEnrolmentToken(pool, {
      uses: body.uses,
      ttlHours: body.ttl_hours,
      description: body.description,
      createdBy: actor,
    });
    await recordAudit(pool, req, {
      actor,
      action: 'enrolment_token.create',
      target: row.id,
      details: { uses: body.uses, ttl_hours: body.ttl_hours },
    });
    res.status(201).json({ ...row, description: body.description, token });
  });

  const change = async (id: number, sql: string): Promise<void> => {
    if ((await pool.query(sql, [id])).rowCount !== 1) throw new HttpError(404, 'not_found', 'no such enrolment token');
  };

  router.post('/api/v1/enrolment-tokens/:id/expire', admin, async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    await change(id, 'UPDATE enrolment_tokens SET expires_at = least(expires_at, now()) WHERE id = $1');
    await recordAudit(pool, req, { actor: actorName(principalOf(res)), action: 'enrolment_token.expire', target: id });
    res.status(204).end();
  });

  router.delete('/api/v1/enrolment-tokens/:id', admin, async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    await change(id, 'UPDATE enrolment_tokens SET revoked = true WHERE id = $1');
    await recordAudit(pool, req, { actor: actorName(principalOf(res)), action: 'enrolment_token.revoke', target: id });
    res.status(204).end();
  });

  return router;
}
