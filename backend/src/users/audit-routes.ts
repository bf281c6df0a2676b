// GET /api/v1/audit-log?limit=&before=&action=  (admin): newest first, paged by id.
import { Router } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import { intString, parseWith } from '../http/parse.ts';
import type { RequireRole } from '../auth/user-auth.ts';

const query = z.strictObject({
  limit: intString(1, 1000).default(100),
  before: intString(1, Number.MAX_SAFE_INTEGER).optional(),
  action: z
    .string()
    .regex(/^[a-z_.]{1,64}$/)
    .optional(),
});

export function auditRoutes(pool: pg.Pool, requireUser: RequireRole): Router {
  const router = Router();
  router.get('/api/v1/audit-log', requireUser('admin'), async (req, res) => {
    const q = parseWith(query, req.query, 'query');
    const rows = (
      await pool.query(
        `SELECT id, at, actor, action, target, source_ip, details FROM audit_log
        WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR action = $2)
        ORDER BY id DESC LIMIT $3`,
        [q.before ?? null, q.action ?? null, q.limit],
      )
    ).rows;
    res.json({ entries: rows });
  });
  return router;
}
