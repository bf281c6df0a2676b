// PUT /api/v1/families/{family}/retention {"retention": "14d"}  (admin)
// Every backend re-reads metric_families on its maintenance tick; this one at once.
import express, { Router } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import { parseWith } from '../http/parse.ts';
import { actorName, principalOf, type RequireRole } from '../auth/user-auth.ts';
import { recordAudit } from '../audit/audit-log.ts';
import type { MetricFamilies } from './metric-families.ts';
import { parseRetention, setRetention } from './retention.ts';

const params = z.strictObject({ family: z.string().regex(/^[a-z0-9_]{1,64}$/) });
const body = z.strictObject({
  retention: z.string().refine((s) => parseRetention(s) !== undefined, 'retention: e.g. 14d, 36h or 2w, between 1 hour and 10 years'),
});

export function retentionRoutes(pool: pg.Pool, families: MetricFamilies, requireUser: RequireRole): Router {
  const router = Router();
  router.put('/api/v1/families/:family/retention', requireUser('admin'), express.json({ limit: '1kb' }), async (req, res) => {
    const { family } = parseWith(params, req.params, 'path');
    const b = parseWith(body, req.body, 'body');
    const seconds = parseRetention(b.retention)!;
    const changed = await setRetention(pool, family, seconds);
    await families.reload(pool);
    if (changed)
      await recordAudit(pool, req, {
        actor: actorName(principalOf(res)),
        action: 'family.retention',
        target: family,
        details: { retention: b.retention },
      });
    res.json({ family, retention_seconds: seconds, changed });
  });
  return router;
}
